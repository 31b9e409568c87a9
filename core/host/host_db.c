/* host_db.c - the plugins' narrow view of the Migration Database. */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_worker.h"
#include "host/host_db.h"
#include "lib/job.h"
#include "lib/util.h"

struct sourcehost_box {
	struct dmf_sourcehost pub;
	char *name, *host, *ssl, *commands;
};

static int query_one(const char *sql, const struct db_value *params, size_t n,
		     struct db_rows **rows_r)
{
	struct db_worker *w = db_worker_current();
	struct db_conn *c = NULL;
	int ret;

	if (w == NULL)
		return -ENOTCONN;
	ret = db_conn_get(w->pool, &c, NULL);
	if (ret < 0)
		return ret == -ETIMEDOUT ? -ENOTCONN : ret;
	ret = db_exec(c, sql, params, n, rows_r, NULL);
	db_conn_put(w->pool, &c);
	if (ret == -ENOTCONN || ret == -EAGAIN)
		return -ENOTCONN;
	return ret < 0 ? -EIO : 0;
}

static int hdb_sourcehost(const char *name, struct dmf_sourcehost **sh_r)
{
	struct db_value p[1] = { DB_STR(name) };
	struct db_rows *rows = NULL;
	struct sourcehost_box *b;
	int ret;

	if (name == NULL || sh_r == NULL)
		return -EINVAL;
	ret = query_one("SELECT name, host, port, `ssl`, commands "
			"FROM sourcehosts WHERE name = ?",
			p, 1, &rows);
	if (ret < 0)
		return ret;
	if (rows->n_rows == 0) {
		db_rows_free(&rows);
		return -ENOENT;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		db_rows_free(&rows);
		return -ENOMEM;
	}
	b->name = xstrdup(db_cell(rows, 0, 0));
	b->host = xstrdup(db_cell(rows, 0, 1));
	b->ssl = xstrdup(db_cell(rows, 0, 3));
	b->commands = xstrdup(db_cell(rows, 0, 4));
	b->pub.port = (unsigned)db_cell_ll(rows, 0, 2, 143);
	db_rows_free(&rows);
	b->pub.name = b->name;
	b->pub.host = b->host;
	b->pub.ssl = b->ssl;
	b->pub.commands = b->commands;
	if (b->name == NULL || b->host == NULL || b->ssl == NULL) {
		free(b->name);
		free(b->host);
		free(b->ssl);
		free(b->commands);
		free(b);
		return -ENOMEM;
	}
	*sh_r = &b->pub;
	return 0;
}

static void hdb_sourcehost_free(struct dmf_sourcehost **sh)
{
	struct sourcehost_box *b;

	if (sh == NULL || *sh == NULL)
		return;
	b = (struct sourcehost_box *)*sh;
	*sh = NULL;
	free(b->name);
	free(b->host);
	free(b->ssl);
	free(b->commands);
	free(b);
}

static int hdb_job_field(const struct dmf_job *job, const char *field,
			 char **value_r)
{
	static const char *const allowed[] = {
		"uid",	      "ruid",	   "email",	  "sourcehost",
		"sourceport", "imapc_ssl", "imapoptions", "exclude",
		"phase",      "priority",  "status",	  "attempts",
		"rescues",    "submitted", "target",	  "source",
		NULL
	};
	struct db_value p[1];
	struct db_rows *rows = NULL;
	const char *v;
	char sql[96];
	size_t i;
	int ret;

	if (job == NULL || field == NULL || value_r == NULL)
		return -EINVAL;
	for (i = 0; allowed[i] != NULL; i++)
		if (strcmp(allowed[i], field) == 0)
			break;
	if (allowed[i] == NULL)
		return -EINVAL;
	if (job->db_id <= 0)
		return -ENOENT;
	/* the column name comes from the fixed list above */
	snprintf(sql, sizeof(sql), "SELECT %s FROM jobs WHERE id = ?",
		 allowed[i]);
	p[0] = DB_INT(job->db_id);
	ret = query_one(sql, p, 1, &rows);
	if (ret < 0)
		return ret;
	v = db_cell(rows, 0, 0);
	if (v == NULL) {
		db_rows_free(&rows);
		return -ENOENT;
	}
	*value_r = strdup(v);
	db_rows_free(&rows);
	return *value_r == NULL ? -ENOMEM : 0;
}

static void hdb_value_free(char **value)
{
	if (value != NULL) {
		free(*value);
		*value = NULL;
	}
}

static const struct dmf_host_db table = {
	.size = sizeof(struct dmf_host_db),
	.sourcehost = hdb_sourcehost,
	.sourcehost_free = hdb_sourcehost_free,
	.job_field = hdb_job_field,
	.value_free = hdb_value_free,
};

const struct dmf_host_db *host_db_table(void)
{
	return &table;
}
