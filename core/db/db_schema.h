/*
 * db_schema.h - the Migration Database schema: its version, the checks
 * the worker makes at start and the migration dmfctl runs.
 *
 * The schema lives in versioned files NNN_name.sql (core/schema/, installed
 * to $(pkgdatadir)/schema).  Each file writes its own row into
 * schema_version as its last statement.  See docs/schema.md.
 */
#ifndef DMF_CORE_DB_SCHEMA_H
#define DMF_CORE_DB_SCHEMA_H

#include "db/db.h"

/* The schema version this build reads and writes. */
#define DB_SCHEMA_VERSION 3

/* Oldest servers supported: MariaDB 10.6, MySQL 8.0 (as MMmmpp). */
#define DB_MIN_MARIADB 100600ul
#define DB_MIN_MYSQL 80000ul

/* The schema directory: `override` when not NULL, else $DMF_SCHEMA_DIR,
 * else the installed $(pkgdatadir)/schema. */
const char *db_schema_dir(const char *override);

/*
 * The highest version in schema_version (0 when the table is missing) into
 * *version_r.  Returns 0 or a db error.
 */
int db_schema_version(struct db_conn *conn, unsigned *version_r);

/*
 * Refuse servers older than MariaDB 10.6 / MySQL 8.0.  Returns 0, or
 * -ENOTSUP with a one-line *error_r (allocated).
 */
int db_server_check(struct db_conn *conn, char **error_r);

/*
 * The worker's start check: server version, then schema version equal to
 * DB_SCHEMA_VERSION.  Returns 0, -ENOTSUP (unknown or missing schema, old
 * server) or a db error, with a one-line *error_r (allocated).
 */
int db_schema_check(struct db_pool *pool, char **error_r);

/*
 * Apply every file of `dir` whose version is above the database's, in
 * order.  *from_r and *to_r receive the versions before and after.
 * Prints one line per applied file to `out` when not NULL.  Returns 0 or
 * a negative error with *error_r (allocated).
 */
int db_schema_migrate(struct db_pool *pool, const char *dir, unsigned *from_r,
		      unsigned *to_r, FILE *out, char **error_r);

#endif /* DMF_CORE_DB_SCHEMA_H */
