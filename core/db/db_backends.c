/* db_backends.c - a worker's own row in `backends`: register, read,
 * heartbeat. */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db_backends.h"
#include "lib/util.h"

void db_backend_clear(struct db_backend *be)
{
	free(be->command);
	free(be->boot_id);
	cfg_strv_free(&be->sources);
	memset(be, 0, sizeof(*be));
}

static int read_sources(struct db_conn *c, const char *name, char ***out_r)
{
	struct db_value p[1] = { DB_STR(name) };
	struct db_rows *rows = NULL;
	char **out;
	int ret;

	ret = db_exec(c,
		      "SELECT source FROM backend_sources WHERE backend = ? "
		      "ORDER BY source",
		      p, 1, &rows, NULL);
	if (ret < 0)
		return ret;
	out = calloc(rows->n_rows + 1, sizeof(char *));
	for (size_t i = 0; out != NULL && i < rows->n_rows; i++)
		out[i] = xstrdup(db_cell(rows, i, 0));
	db_rows_free(&rows);
	if (out == NULL)
		return -ENOMEM;
	cfg_strv_free(out_r);
	*out_r = out;
	return 0;
}

struct reg_ctx {
	struct db_worker *w;
	int initial;
	unsigned max_threads;
	char *const *sources;
	struct db_backend *be;
};

static int register_fn(struct db_conn *c, void *arg)
{
	struct reg_ctx *x = arg;
	struct db_worker *w = x->w;
	struct db_backend *be = x->be;
	struct db_rows *rows = NULL;
	struct db_value p[10];
	char host[256];
	int ret;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	p[0] = DB_STR(w->name);
	ret = db_exec(c,
		      "SELECT initial_state, max_threads FROM backends "
		      "WHERE name = ? FOR UPDATE",
		      p, 1, &rows, NULL);
	if (ret < 0)
		return ret;
	be->created = rows->n_rows == 0;
	if (be->created) {
		be->initial = x->initial;
		be->max_threads = x->max_threads;
		p[0] = DB_STR(w->name);
		p[1] = DB_STR(w->target);
		p[2] = DB_STR(w->memberid);
		p[3] = DB_INT(be->initial);
		p[4] = DB_INT(be->max_threads);
		p[5] = DB_INT(be->initial ? DB_BACKEND_RUNNING :
					    DB_BACKEND_PAUSED);
		p[6] = DB_STR(w->owner);
		p[7] = DB_STR(host);
		p[8] = DB_INT(getpid());
		p[9] = DB_STR(PACKAGE_VERSION);
		ret = db_exec(
			c,
			"INSERT INTO backends (name, target, memberid, "
			"initial_state, max_threads, status, threads, "
			"boot_id, host, pid, version, started, updated, "
			"heartbeat) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, "
			"?, NOW(3), NOW(3), NOW(3))",
			p, 10, NULL, NULL);
		for (size_t i = 0;
		     ret == 0 && x->sources != NULL && x->sources[i] != NULL;
		     i++) {
			p[1] = DB_STR(x->sources[i]);
			ret = db_exec(c,
				      "INSERT IGNORE INTO backend_sources "
				      "(backend, source) VALUES (?, ?)",
				      p, 2, NULL, NULL);
		}
	} else {
		be->initial = (int)db_cell_ll(rows, 0, 0, 1) != 0;
		be->max_threads = (unsigned)db_cell_ll(rows, 0, 1, 10);
		p[0] = DB_INT(be->initial ? DB_BACKEND_RUNNING :
					    DB_BACKEND_PAUSED);
		p[1] = DB_STR(w->owner);
		p[2] = DB_STR(host);
		p[3] = DB_INT(getpid());
		p[4] = DB_STR(PACKAGE_VERSION);
		p[5] = DB_STR(w->name);
		ret = db_exec(c,
			      "UPDATE backends SET status = ?, threads = 0, "
			      "boot_id = ?, host = ?, pid = ?, version = ?, "
			      "started = NOW(3), updated = NOW(3), "
			      "heartbeat = NOW(3) WHERE name = ?",
			      p, 6, NULL, NULL);
	}
	db_rows_free(&rows);
	if (ret == 0)
		ret = read_sources(c, w->name, &be->sources);
	return ret;
}

int db_backend_register(struct db_worker *w, int initial, unsigned max_threads,
			char *const *sources, struct db_backend *be_r,
			char **error_r)
{
	struct reg_ctx x = { w, initial, max_threads, sources, be_r };
	int ret;

	memset(be_r, 0, sizeof(*be_r));
	ret = db_transaction(w->pool, register_fn, &x, error_r);
	if (ret < 0)
		db_backend_clear(be_r);
	return ret;
}

struct read_ctx {
	const char *name;
	struct db_backend *be;
	bool missing;
};

static int read_fn(struct db_conn *c, void *arg)
{
	struct read_ctx *x = arg;
	struct db_value p[1] = { DB_STR(x->name) };
	struct db_rows *rows = NULL;
	int ret;

	ret = db_exec(c,
		      "SELECT initial_state, max_threads, command, boot_id "
		      "FROM backends WHERE name = ?",
		      p, 1, &rows, NULL);
	if (ret < 0)
		return ret;
	x->missing = rows->n_rows == 0;
	if (!x->missing) {
		x->be->initial = db_cell_ll(rows, 0, 0, 1) != 0;
		x->be->max_threads = (unsigned)db_cell_ll(rows, 0, 1, 10);
		free(x->be->command);
		free(x->be->boot_id);
		x->be->command = xstrdup(db_cell(rows, 0, 2));
		x->be->boot_id = xstrdup(db_cell(rows, 0, 3));
	}
	db_rows_free(&rows);
	if (x->missing)
		return 0;
	return read_sources(c, x->name, &x->be->sources);
}

int db_backend_read(struct db_pool *pool, const char *name,
		    struct db_backend *be_r, char **error_r)
{
	struct read_ctx x = { name, be_r, false };
	int ret;

	memset(be_r, 0, sizeof(*be_r));
	ret = db_run(pool, read_fn, &x, error_r);
	if (ret == 0 && x.missing)
		ret = -ENOENT;
	if (ret < 0)
		db_backend_clear(be_r);
	return ret;
}

int db_backend_heartbeat(struct db_pool *pool, const char *name,
			 enum db_backend_status status, unsigned threads,
			 const char *obeyed, char **error_r)
{
	struct db_conn *c = NULL;
	struct db_value p[3];
	int ret;

	ret = db_conn_get(pool, &c, error_r);
	if (ret < 0)
		return ret;
	if (obeyed != NULL) {
		p[0] = DB_STR(name);
		p[1] = DB_STR(obeyed);
		ret = db_exec(c,
			      "UPDATE backends SET command = NULL "
			      "WHERE name = ? AND command = ?",
			      p, 2, NULL, NULL);
	}
	if (ret == 0) {
		p[0] = DB_INT(status);
		p[1] = DB_INT(threads);
		p[2] = DB_STR(name);
		ret = db_exec(c,
			      "UPDATE backends SET status = ?, threads = ?, "
			      "updated = NOW(3), heartbeat = NOW(3) "
			      "WHERE name = ?",
			      p, 3, NULL, NULL);
	}
	if (ret < 0 && error_r != NULL)
		*error_r = xasprintf("%s", db_conn_error(c)[0] != '\0' ?
						   db_conn_error(c) :
						   dmf_strerror(ret));
	db_conn_put(pool, &c);
	return ret;
}
