/* db_admin.c - what dmfctl does to the Migration Database. */
#include "dmf-build.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_admin.h"
#include "lib/util.h"

/* One statement on a connection of the pool. */
static int admin_exec(struct db_pool *pool, const char *sql,
		      const struct db_value *params, size_t n,
		      struct db_rows **rows_r, uint64_t *affected_r,
		      char **error_r)
{
	struct db_conn *conn = NULL;
	int ret;

	ret = db_conn_get(pool, &conn, error_r);
	if (ret < 0)
		return ret;
	ret = db_exec(conn, sql, params, n, rows_r, affected_r);
	if (ret < 0 && error_r != NULL)
		*error_r = xasprintf("%s", db_conn_error(conn)[0] != '\0' ?
						   db_conn_error(conn) :
						   dmf_strerror(ret));
	db_conn_put(pool, &conn);
	return ret;
}

/* admin_exec for a statement that must find one row: -ENOENT when none */
static int admin_show(struct db_pool *pool, const char *sql,
		      const struct db_value *params, size_t n,
		      struct db_rows **rows_r, char **error_r)
{
	int ret = admin_exec(pool, sql, params, n, rows_r, NULL, error_r);

	if (ret == 0 && (*rows_r)->n_rows == 0) {
		db_rows_free(rows_r);
		ret = -ENOENT;
	}
	return ret;
}

/* ------------------------------------------- targets, sources, hosts --- */

static const char *kind_table(enum db_admin_kind kind)
{
	switch (kind) {
	case DB_ADMIN_TARGET:
		return "targets";
	case DB_ADMIN_SOURCE:
		return "sources";
	case DB_ADMIN_SOURCEHOST:
		return "sourcehosts";
	}
	return NULL;
}

int db_admin_named_add(struct db_pool *pool, enum db_admin_kind kind,
		       const char *name, const char *description,
		       char **error_r)
{
	struct db_value p[2] = { DB_STR(name), DB_STR(description) };
	char sql[256];

	if (kind == DB_ADMIN_SOURCEHOST || kind_table(kind) == NULL)
		return -EINVAL;
	/* the table name comes from kind_table() */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s (name, description) VALUES (?, ?) "
		 "ON DUPLICATE KEY UPDATE description = "
		 "COALESCE(VALUES(description), description)",
		 kind_table(kind));
	return admin_exec(pool, sql, p, 2, NULL, NULL, error_r);
}

int db_admin_named_list(struct db_pool *pool, enum db_admin_kind kind,
			struct db_rows **rows_r, char **error_r)
{
	char sql[256];

	if (kind == DB_ADMIN_SOURCEHOST || kind_table(kind) == NULL)
		return -EINVAL;
	snprintf(sql, sizeof(sql),
		 "SELECT name, description, created FROM %s ORDER BY name",
		 kind_table(kind));
	return admin_exec(pool, sql, NULL, 0, rows_r, NULL, error_r);
}

int db_admin_named_exists(struct db_pool *pool, enum db_admin_kind kind,
			  const char *name, bool *found_r, char **error_r)
{
	struct db_value p[1] = { DB_STR(name) };
	struct db_rows *rows = NULL;
	char sql[128];
	int ret;

	if (kind_table(kind) == NULL)
		return -EINVAL;
	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE name = ?",
		 kind_table(kind));
	ret = admin_exec(pool, sql, p, 1, &rows, NULL, error_r);
	if (ret < 0)
		return ret;
	*found_r = rows->n_rows > 0;
	db_rows_free(&rows);
	return 0;
}

int db_admin_sourcehost_add(struct db_pool *pool, const char *name,
			    const char *host, long long port, const char *ssl,
			    const char *commands, char **error_r)
{
	struct db_value p[5] = { DB_STR(name), DB_STR(host), DB_INT(port),
				 DB_STR(ssl), DB_STR(commands) };

	return admin_exec(pool,
			  "INSERT INTO sourcehosts (name, host, port, `ssl`, "
			  "commands) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY "
			  "UPDATE host = VALUES(host), port = VALUES(port), "
			  "`ssl` = VALUES(`ssl`), commands = VALUES(commands)",
			  p, 5, NULL, NULL, error_r);
}

int db_admin_sourcehost_list(struct db_pool *pool, bool full,
			     struct db_rows **rows_r, char **error_r)
{
	return admin_exec(pool,
			  full ? "SELECT name, host, port, `ssl`, "
				 "commands FROM sourcehosts ORDER BY name" :
				 "SELECT name, host, port, `ssl`, "
				 "commands IS NOT NULL AS has_commands "
				 "FROM sourcehosts ORDER BY name",
			  NULL, 0, rows_r, NULL, error_r);
}

int db_admin_sourcehost_show(struct db_pool *pool, const char *name,
			     struct db_rows **rows_r, char **error_r)
{
	struct db_value p[1] = { DB_STR(name) };

	return admin_show(pool,
			  "SELECT name, host, port, `ssl`, commands, "
			  "created, updated FROM sourcehosts WHERE name = ?",
			  p, 1, rows_r, error_r);
}

/* ------------------------------------------------------------- jobs --- */

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%fZ')"

/* clang-format off */
#define JOB_COLUMNS \
	"id, target, source, uid, ruid, email, sourcehost, sourceport, " \
	"imapc_ssl AS imapcSsl, imapoptions, exclude, phase, priority, " \
	"status, attempts, rescues, cancel_requested AS cancelRequested, " \
	"password IS NOT NULL AS hasPassword, password_key AS passwordKey, " \
	"owner, backend, " \
	TS("submitted") " AS submitted, " \
	TS("claimed") " AS claimed, " \
	TS("lease_until") " AS leaseUntil, " \
	TS("started") " AS started, " \
	TS("finished") " AS finished, " \
	"duration_ms AS durationMs, sync_saved AS syncSaved, " \
	"sync_expunged AS syncExpunged, target_messages AS targetMessages, " \
	"target_size AS targetSize, origin_messages AS originMessages, " \
	"origin_size AS originSize, error, details, " \
	JOB_PROGRESS_COLUMNS

/* live progress (schema 3): the totals the worker wrote with its last
 * heartbeat, the seconds since the claim and the saved messages per
 * second up to that heartbeat, for RUNNING jobs */
#define JOB_ELAPSED_US "TIMESTAMPDIFF(MICROSECOND, claimed, NOW(3))"
#define JOB_PROGRESS_COLUMNS \
	"progress_saved AS progressSaved, " \
	"progress_expunged AS progressExpunged, " \
	"progress_bytes AS progressBytes, " \
	TS("progress_updated") " AS progressUpdated, " \
	JOB_RUNNING_COLUMNS
#define JOB_RUNNING_COLUMNS \
	"CASE WHEN status = 'RUNNING' THEN ROUND(" JOB_ELAPSED_US \
	" / 1000000, 1) END AS elapsedSeconds, " \
	"CASE WHEN status = 'RUNNING' AND progress_saved IS NOT NULL THEN " \
	"ROUND(progress_saved / GREATEST(TIMESTAMPDIFF(MICROSECOND, claimed, " \
	"progress_updated) / 1000000, 0.001), 1) END AS savedPerSecond "

#define JOB_SHORT_COLUMNS \
	"id, target, source, uid, phase, priority, status, attempts, " \
	"backend, " TS("finished") " AS finished, LEFT(error, 60) AS error, " \
	"progress_saved AS progressSaved, " JOB_RUNNING_COLUMNS

#define JOB_FILTER \
	"WHERE (? IS NULL OR status = ?) AND (? IS NULL OR target = ?) " \
	"AND (? IS NULL OR source = ?) ORDER BY id LIMIT ?"
/* clang-format on */

struct insert_ctx {
	const struct db_admin_job *job;
	int64_t id;
};

static int insert_fn(struct db_conn *c, void *arg)
{
	struct insert_ctx *x = arg;
	const struct db_admin_job *j = x->job;
	struct db_value p[15] = {
		DB_STR(j->target),
		DB_STR(j->source),
		DB_STR(j->uid),
		DB_STR(j->ruid),
		DB_STR(j->email),
		DB_STR(j->sourcehost),
		j->sourceport > 0 ? DB_INT(j->sourceport) : DB_NULL,
		DB_STR(j->imapc_ssl),
		DB_STR(j->imapoptions),
		DB_STR(j->exclude),
		DB_STR(j->password),
		DB_STR(j->password_key),
		DB_STR(j->password_iv),
		DB_STR(j->phase),
		DB_INT(j->priority),
	};
	struct db_rows *rows = NULL;
	int ret;

	ret = db_exec(
		c,
		"INSERT INTO jobs (target, source, uid, ruid, email, "
		"sourcehost, sourceport, imapc_ssl, imapoptions, exclude, "
		"password, password_key, password_iv, phase, priority) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p, 15, NULL, NULL);
	if (ret == 0)
		ret = db_exec(c, "SELECT LAST_INSERT_ID()", NULL, 0, &rows,
			      NULL);
	if (ret == 0) {
		x->id = db_cell_ll(rows, 0, 0, 0);
		db_rows_free(&rows);
	}
	return ret;
}

int db_admin_job_add(struct db_pool *pool, const struct db_admin_job *job,
		     int64_t *id_r, char **error_r)
{
	struct insert_ctx x = { job, 0 };
	int ret;

	/* INSERT and LAST_INSERT_ID() on one connection (MySQL 8 has no
	 * INSERT ... RETURNING) */
	ret = db_run(pool, insert_fn, &x, error_r);
	if (ret == 0)
		*id_r = x.id;
	return ret;
}

int db_admin_job_show(struct db_pool *pool, int64_t id, struct db_rows **rows_r,
		      char **error_r)
{
	struct db_value p[1] = { DB_INT(id) };

	return admin_show(pool, "SELECT " JOB_COLUMNS "FROM jobs WHERE id = ?",
			  p, 1, rows_r, error_r);
}

int db_admin_job_list(struct db_pool *pool, const char *status,
		      const char *target, const char *source, long long limit,
		      bool full, struct db_rows **rows_r, char **error_r)
{
	struct db_value p[7] = { DB_STR(status), DB_STR(status), DB_STR(target),
				 DB_STR(target), DB_STR(source), DB_STR(source),
				 DB_INT(limit) };

	return admin_exec(pool,
			  full ? "SELECT " JOB_COLUMNS "FROM jobs " JOB_FILTER :
				 "SELECT " JOB_SHORT_COLUMNS
				 "FROM jobs " JOB_FILTER,
			  p, 7, rows_r, NULL, error_r);
}

int db_admin_job_status(struct db_pool *pool, int64_t id, char **status_r,
			char **error_r)
{
	struct db_value p[1] = { DB_INT(id) };
	struct db_rows *rows = NULL;
	int ret;

	ret = admin_show(pool, "SELECT status FROM jobs WHERE id = ?", p, 1,
			 &rows, error_r);
	if (ret < 0)
		return ret;
	*status_r = xstrdup(db_cell(rows, 0, 0));
	db_rows_free(&rows);
	return *status_r == NULL ? -ENOMEM : 0;
}

int db_admin_job_requeue(struct db_pool *pool, int64_t id, bool *done_r,
			 char **error_r)
{
	struct db_value p[1] = { DB_INT(id) };
	uint64_t affected = 0;
	int ret;

	ret = admin_exec(pool,
			 "UPDATE jobs SET status = 'QUEUED', lease_until = "
			 "NULL, error = NULL, rescues = 0, cancel_requested "
			 "= 0, submitted = NOW(3) WHERE id = ? AND status IN "
			 "('SUCCESS', 'FAILURE', 'CANCELED')",
			 p, 1, NULL, &affected, error_r);
	if (ret == 0)
		*done_r = affected == 1;
	return ret;
}

int db_admin_job_cancel(struct db_pool *pool, int64_t id,
			enum db_admin_cancel *result_r, char **error_r)
{
	struct db_value p[1] = { DB_INT(id) };
	uint64_t affected = 0;
	int ret;

	*result_r = DB_ADMIN_CANCEL_NONE;
	ret = admin_exec(pool,
			 "UPDATE jobs SET status = 'CANCELED', finished = "
			 "NOW(3), error = 'canceled before it ran' "
			 "WHERE id = ? AND status = 'QUEUED'",
			 p, 1, NULL, &affected, error_r);
	if (ret < 0)
		return ret;
	if (affected == 1) {
		*result_r = DB_ADMIN_CANCEL_DONE;
		return 0;
	}
	ret = admin_exec(pool,
			 "UPDATE jobs SET cancel_requested = 1 "
			 "WHERE id = ? AND status = 'RUNNING'",
			 p, 1, NULL, &affected, error_r);
	if (ret == 0 && affected == 1)
		*result_r = DB_ADMIN_CANCEL_REQUESTED;
	return ret;
}

int db_admin_job_counts(struct db_conn *conn, struct db_rows **rows_r)
{
	return db_exec(conn,
		       "SELECT status, COUNT(*) FROM jobs GROUP BY status "
		       "ORDER BY status",
		       NULL, 0, rows_r, NULL);
}

/* --------------------------------------------------------- backends --- */

#define BACKEND_COLUMNS                                                    \
	"b.name, b.target, b.memberid, b.initial_state AS initialState, "  \
	"b.max_threads AS maxThreads, b.status, b.threads, b.command, "    \
	"DATE_FORMAT(b.updated, '%Y-%m-%dT%H:%i:%s.%fZ') AS updated, "     \
	"DATE_FORMAT(b.heartbeat, '%Y-%m-%dT%H:%i:%s.%fZ') AS heartbeat, " \
	"b.boot_id AS bootId, b.host, b.pid, b.version, "                  \
	"(SELECT GROUP_CONCAT(s.source ORDER BY s.source SEPARATOR ',') "  \
	"FROM backend_sources s WHERE s.backend = b.name) AS sources "

int db_admin_backend_list(struct db_pool *pool, struct db_rows **rows_r,
			  char **error_r)
{
	return admin_exec(pool,
			  "SELECT " BACKEND_COLUMNS
			  "FROM backends b ORDER BY b.name",
			  NULL, 0, rows_r, NULL, error_r);
}

int db_admin_backend_show(struct db_pool *pool, const char *name,
			  struct db_rows **rows_r, char **error_r)
{
	struct db_value p[1] = { DB_STR(name) };

	return admin_show(pool,
			  "SELECT " BACKEND_COLUMNS
			  "FROM backends b WHERE b.name = ?",
			  p, 1, rows_r, error_r);
}

int db_admin_backend_command(struct db_pool *pool, const char *name,
			     const char *command, char **error_r)
{
	struct db_value p[2] = { DB_STR(command), DB_STR(name) };
	uint64_t affected = 0;
	int ret;

	ret = admin_exec(pool, "UPDATE backends SET command = ? WHERE name = ?",
			 p, 2, NULL, &affected, error_r);
	return ret == 0 && affected == 0 ? -ENOENT : ret;
}

struct set_sources_ctx {
	const char *name;
	const char *list; /* "a,b" */
};

static int set_sources_fn(struct db_conn *c, void *arg)
{
	struct set_sources_ctx *x = arg;
	struct db_value p[2] = { DB_STR(x->name) };
	char *copy = strdup(x->list), *save = NULL;
	int ret;

	if (copy == NULL)
		return -ENOMEM;
	ret = db_exec(c, "DELETE FROM backend_sources WHERE backend = ?", p, 1,
		      NULL, NULL);
	for (char *t = strtok_r(copy, ",", &save); ret == 0 && t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		if (*t == '\0')
			continue;
		p[1] = DB_STR(t);
		ret = db_exec(c,
			      "INSERT IGNORE INTO backend_sources (backend, "
			      "source) VALUES (?, ?)",
			      p, 2, NULL, NULL);
	}
	if (ret == 0)
		ret = db_exec(c,
			      "UPDATE backends SET updated = updated "
			      "WHERE name = ?",
			      p, 1, NULL, NULL);
	free(copy);
	return ret;
}

int db_admin_backend_set(struct db_pool *pool, const char *name,
			 long long max_threads, int initial,
			 const char *sources, char **error_r)
{
	struct db_value p[3] = { DB_STR(name) };
	struct db_rows *rows = NULL;
	int ret;

	ret = admin_show(pool, "SELECT name FROM backends WHERE name = ?", p, 1,
			 &rows, error_r);
	if (ret < 0)
		return ret;
	db_rows_free(&rows);
	if (max_threads >= 0 || initial >= 0) {
		p[0] = max_threads >= 0 ? DB_INT(max_threads) : DB_NULL;
		p[1] = initial >= 0 ? DB_INT(initial) : DB_NULL;
		p[2] = DB_STR(name);
		ret = admin_exec(pool,
				 "UPDATE backends SET max_threads = "
				 "COALESCE(?, max_threads), initial_state = "
				 "COALESCE(?, initial_state) WHERE name = ?",
				 p, 3, NULL, NULL, error_r);
		if (ret < 0)
			return ret;
	}
	if (sources != NULL) {
		struct set_sources_ctx x = { name, sources };

		ret = db_transaction(pool, set_sources_fn, &x, error_r);
	}
	return ret;
}
