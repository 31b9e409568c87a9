/* db_schema.c - schema version checks and `dmfctl db migrate`. */
#include "dmf-build.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_schema.h"
#include "lib/util.h"

const char *db_schema_dir(const char *override)
{
	const char *env = getenv("DMF_SCHEMA_DIR");

	if (override != NULL && *override != '\0')
		return override;
	if (env != NULL && *env != '\0')
		return env;
	return DATADIR "/schema";
}

int db_schema_version(struct db_conn *conn, unsigned *version_r)
{
	struct db_rows *rows = NULL;
	int ret;

	ret = db_exec(conn,
		      "SELECT COUNT(*) FROM information_schema.tables "
		      "WHERE table_schema = DATABASE() "
		      "AND table_name = 'schema_version'",
		      NULL, 0, &rows, NULL);
	if (ret < 0)
		return ret;
	if (db_cell_ll(rows, 0, 0, 0) == 0) {
		db_rows_free(&rows);
		*version_r = 0;
		return 0;
	}
	db_rows_free(&rows);
	ret = db_exec(conn,
		      "SELECT COALESCE(MAX(version), 0) FROM schema_version",
		      NULL, 0, &rows, NULL);
	if (ret < 0)
		return ret;
	*version_r = (unsigned)db_cell_ll(rows, 0, 0, 0);
	db_rows_free(&rows);
	return 0;
}

int db_server_check(struct db_conn *conn, char **error_r)
{
	unsigned long v = db_conn_server_version(conn);
	const char *info = db_conn_server_info(conn);
	bool maria = db_conn_is_mariadb(conn);

	/* MariaDB before 11 reported itself as 5.5.5-10.x to old clients;
	 * the connector strips that prefix, but be safe */
	if (maria && v < 100000ul && strstr(info, "5.5.5-") == info) {
		unsigned a = 0, b = 0, c = 0;

		if (sscanf(info + 6, "%u.%u.%u", &a, &b, &c) == 3)
			v = a * 10000ul + b * 100ul + c;
	}
	if (maria ? v < DB_MIN_MARIADB : v < DB_MIN_MYSQL) {
		*error_r = xasprintf("database server %s is too old: MariaDB "
				     ">= 10.6 or MySQL >= 8.0 is required",
				     info);
		return -ENOTSUP;
	}
	return 0;
}

int db_schema_check(struct db_pool *pool, char **error_r)
{
	struct db_conn *conn = NULL;
	unsigned version = 0;
	int ret;

	ret = db_conn_get(pool, &conn, error_r);
	if (ret < 0)
		return ret;
	ret = db_server_check(conn, error_r);
	if (ret < 0)
		goto out;
	ret = db_schema_version(conn, &version);
	if (ret < 0) {
		*error_r = xasprintf("cannot read the schema version: %s",
				     db_conn_error(conn));
		goto out;
	}
	if (version == 0) {
		*error_r = xasprintf("the Migration Database has no schema: "
				     "run 'dmfctl db migrate' first");
		ret = -ENOTSUP;
	} else if (version < DB_SCHEMA_VERSION) {
		*error_r = xasprintf("the Migration Database schema is version "
				     "%u, this worker needs %u: run 'dmfctl db "
				     "migrate'",
				     version, DB_SCHEMA_VERSION);
		ret = -ENOTSUP;
	} else if (version > DB_SCHEMA_VERSION) {
		*error_r = xasprintf("the Migration Database schema is version "
				     "%u, unknown to this worker (it knows up "
				     "to %u): upgrade the worker",
				     version, DB_SCHEMA_VERSION);
		ret = -ENOTSUP;
	}
out:
	db_conn_put(pool, &conn);
	return ret;
}

struct schema_file {
	unsigned version;
	char *name; /* file name without .sql */
	char *path;
};

static int cmp_files(const void *a, const void *b)
{
	const struct schema_file *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

static void free_files(struct schema_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(files[i].name);
		free(files[i].path);
	}
	free(files);
}

static int list_files(const char *dir, struct schema_file **files_r,
		      size_t *n_r, char **error_r)
{
	struct schema_file *files = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL) {
		*error_r = xasprintf("schema directory %s: %s", dir,
				     strerror(errno));
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		unsigned v;
		struct schema_file *nf;

		if (len < 9 || strcmp(de->d_name + len - 4, ".sql") != 0 ||
		    sscanf(de->d_name, "%3u_", &v) != 1 || v == 0)
			continue;
		nf = realloc(files, (n + 1) * sizeof(*files));
		if (nf == NULL)
			goto nomem;
		files = nf;
		files[n].version = v;
		files[n].name = strndup(de->d_name, len - 4);
		files[n].path = xasprintf("%s/%s", dir, de->d_name);
		n++;
		if (files[n - 1].name == NULL || files[n - 1].path == NULL)
			goto nomem;
	}
	closedir(d);
	qsort(files, n, sizeof(*files), cmp_files);
	for (size_t i = 1; i < n; i++) {
		if (files[i].version == files[i - 1].version) {
			*error_r = xasprintf("schema files %s and %s have the "
					     "same version",
					     files[i - 1].name, files[i].name);
			free_files(files, n);
			return -EINVAL;
		}
	}
	*files_r = files;
	*n_r = n;
	return 0;
nomem:
	closedir(d);
	free_files(files, n);
	*error_r = xasprintf("out of memory");
	return -ENOMEM;
}

/*
 * Split SQL text into statements: `;` at the end of a line ends one;
 * lines starting with `--` are comments.  Returns the next statement
 * (allocated) or NULL at the end; *pos advances.
 */
static char *next_statement(const char **pos)
{
	const char *p = *pos;
	size_t cap = 256, len = 0;
	char *out = malloc(cap);

	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		const char *eol = p + strcspn(p, "\n");
		const char *s = p, *e = eol;
		bool end = false;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s &&
		       (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		p = *eol != '\0' ? eol + 1 : eol;
		if (e - s >= 2 && s[0] == '-' && s[1] == '-')
			continue;
		if (e > s && e[-1] == ';') {
			e--;
			end = true;
		}
		if (len + (size_t)(e - s) + 2 > cap) {
			char *no;

			cap = (len + (size_t)(e - s) + 2) * 2;
			no = realloc(out, cap);
			if (no == NULL) {
				free(out);
				return NULL;
			}
			out = no;
		}
		if (e > s) {
			if (len > 0)
				out[len++] = '\n';
			memcpy(out + len, s, (size_t)(e - s));
			len += (size_t)(e - s);
		}
		if (end)
			break;
	}
	*pos = p;
	out[len] = '\0';
	if (len == 0) {
		free(out);
		return NULL;
	}
	return out;
}

static int apply_file(struct db_conn *conn, const struct schema_file *f,
		      char **error_r)
{
	char *text = util_read_file(f->path, NULL), *stmt;
	const char *pos;
	unsigned n = 0;
	int ret = 0;

	if (text == NULL) {
		*error_r = xasprintf("%s: %s", f->path, strerror(errno));
		return -EIO;
	}
	/* DDL commits implicitly in MariaDB; the transaction still groups
	 * the data statements, and every statement is idempotent */
	ret = db_begin(conn);
	pos = text;
	while (ret == 0 && (stmt = next_statement(&pos)) != NULL) {
		n++;
		ret = db_exec_text(conn, stmt);
		/* ADD COLUMN run again (an earlier run stopped before its
		 * version row): MySQL 8 has no ADD COLUMN IF NOT EXISTS, so a
		 * duplicate column (1060) counts as done */
		if (ret < 0 && db_conn_errno(conn) == 1060)
			ret = 0;
		if (ret < 0)
			*error_r = xasprintf("%s: statement %u: %s", f->name, n,
					     db_conn_error(conn));
		free(stmt);
	}
	if (ret == 0)
		ret = db_commit(conn);
	else
		db_rollback(conn);
	if (ret < 0 && *error_r == NULL)
		*error_r = xasprintf("%s: %s", f->name, db_conn_error(conn));
	free(text);
	return ret;
}

int db_schema_migrate(struct db_pool *pool, const char *dir, unsigned *from_r,
		      unsigned *to_r, FILE *out, char **error_r)
{
	struct schema_file *files = NULL;
	struct db_conn *conn = NULL;
	size_t n = 0;
	unsigned version = 0;
	int ret;

	*error_r = NULL;
	ret = list_files(dir, &files, &n, error_r);
	if (ret < 0)
		return ret;
	if (n == 0) {
		*error_r =
			xasprintf("no schema files (NNN_name.sql) in %s", dir);
		free_files(files, n);
		return -ENOENT;
	}
	ret = db_conn_get(pool, &conn, error_r);
	if (ret < 0)
		goto out;
	ret = db_server_check(conn, error_r);
	if (ret < 0)
		goto out;
	ret = db_schema_version(conn, &version);
	if (ret < 0) {
		*error_r = xasprintf("%s", db_conn_error(conn));
		goto out;
	}
	*from_r = version;
	for (size_t i = 0; i < n; i++) {
		if (files[i].version <= version)
			continue;
		ret = apply_file(conn, &files[i], error_r);
		if (ret < 0)
			goto out;
		if (out != NULL)
			fprintf(out, "applied %s\n", files[i].name);
		version = files[i].version;
	}
	ret = db_schema_version(conn, &version);
	if (ret < 0)
		*error_r = xasprintf("%s", db_conn_error(conn));
	*to_r = version;
out:
	db_conn_put(pool, &conn);
	free_files(files, n);
	return ret;
}
