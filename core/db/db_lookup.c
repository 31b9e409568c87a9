/* db_lookup.c - the single-row reads behind the plugins' `db` table. */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_lookup.h"
#include "lib/util.h"

/* One statement on a connection of the pool. */
static int query(struct db_pool *pool, const char *sql,
		 const struct db_value *params, size_t n,
		 struct db_rows **rows_r)
{
	struct db_conn *c = NULL;
	int ret;

	ret = db_conn_get(pool, &c, NULL);
	if (ret < 0)
		return ret;
	ret = db_exec(c, sql, params, n, rows_r, NULL);
	db_conn_put(pool, &c);
	return ret;
}

void db_sourcehost_clear(struct db_sourcehost *sh)
{
	free(sh->name);
	free(sh->host);
	free(sh->ssl);
	free(sh->commands);
	memset(sh, 0, sizeof(*sh));
}

int db_sourcehost_get(struct db_pool *pool, const char *name,
		      struct db_sourcehost *sh_r)
{
	struct db_value p[1] = { DB_STR(name) };
	struct db_rows *rows = NULL;
	int ret;

	memset(sh_r, 0, sizeof(*sh_r));
	ret = query(pool,
		    "SELECT name, host, port, `ssl`, commands "
		    "FROM sourcehosts WHERE name = ?",
		    p, 1, &rows);
	if (ret < 0)
		return ret;
	if (rows->n_rows == 0) {
		db_rows_free(&rows);
		return -ENOENT;
	}
	sh_r->name = xstrdup(db_cell(rows, 0, 0));
	sh_r->host = xstrdup(db_cell(rows, 0, 1));
	sh_r->port = (unsigned)db_cell_ll(rows, 0, 2, 143);
	sh_r->ssl = xstrdup(db_cell(rows, 0, 3));
	sh_r->commands = xstrdup(db_cell(rows, 0, 4));
	ret = sh_r->name == NULL || sh_r->host == NULL || sh_r->ssl == NULL ||
			      (sh_r->commands == NULL &&
			       db_cell(rows, 0, 4) != NULL) ?
		      -ENOMEM :
		      0;
	db_rows_free(&rows);
	if (ret < 0)
		db_sourcehost_clear(sh_r);
	return ret;
}

static const char *const job_fields[] = {
	"uid",	     "ruid",	    "email",   "sourcehost", "sourceport",
	"imapc_ssl", "imapoptions", "exclude", "phase",	     "priority",
	"status",    "attempts",    "rescues", "submitted",  "target",
	"source",    NULL
};

static const char *job_field_column(const char *field)
{
	for (size_t i = 0; field != NULL && job_fields[i] != NULL; i++)
		if (strcmp(job_fields[i], field) == 0)
			return job_fields[i];
	return NULL;
}

bool db_job_field_known(const char *field)
{
	return job_field_column(field) != NULL;
}

int db_job_field(struct db_pool *pool, int64_t id, const char *field,
		 char **value_r)
{
	const char *column = job_field_column(field);
	struct db_value p[1] = { DB_INT(id) };
	struct db_rows *rows = NULL;
	const char *v;
	char sql[96];
	int ret;

	if (column == NULL)
		return -EINVAL;
	/* the column name comes from the fixed list above */
	snprintf(sql, sizeof(sql), "SELECT %s FROM jobs WHERE id = ?", column);
	ret = query(pool, sql, p, 1, &rows);
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
