/*
 * dmfctl.h - shared parts of dmfctl, the admin tool of the Migration
 * Database (what the DMF Scheduler does to it).  See docs/dmfctl.md.
 */
#ifndef DMF_CORE_DMFCTL_H
#define DMF_CORE_DMFCTL_H

#include <jansson.h>
#include <stdbool.h>

#include "lib/config.h"
#include "db/db.h"
#include "db/db_admin.h"
#include "lib/util.h"

/* Exit codes. */
enum {
	CTL_OK = 0,
	CTL_USAGE = 1,
	CTL_NOT_FOUND = 2,
	CTL_DB = 3,
	CTL_FAILED = 4 /* wait timed out, or a job did not succeed */
};

struct ctl {
	const char *config_path;
	const char *schema_dir;
	struct config *cfg;
	struct db_pool *pool;
};

/* Print "dmfctl: <message>" on stderr; returns `code`. */
int ctl_error(int code, const char *fmt, ...) DMF_PRINTF(2, 3);
/* Open the pool (once); CTL_OK or CTL_DB after printing the error. */
int ctl_connect(struct ctl *ctl);
/* Print the error of a failed db_admin_* call (core/db/db_admin.h) and
 * free it; returns CTL_DB. */
int ctl_db_error(char **error);

/* Rows as a JSON array of objects; columns named in `numeric` (NULL
 * terminated) become numbers, columns named in `json` are parsed. */
json_t *ctl_rows_json(const struct db_rows *rows, const char *const *numeric,
		      const char *const *json);
/* Print JSON indented, with a newline. */
void ctl_print_json(json_t *j);
/* Print rows as a tab-separated table with a header line. */
void ctl_print_table(const struct db_rows *rows);
/* Print rows as JSON (ctl_rows_json with `numeric` and `json`) when
 * as_json, else as a table; frees *rows; returns CTL_OK. */
int ctl_print_rows(struct db_rows **rows, bool as_json,
		   const char *const *numeric, const char *const *json);

/* True when argv has --help or -h. */
bool ctl_wants_help(int argc, char **argv);

/* Subcommand groups: argv[0] is the group name ("job", "backend"...). */
int ctl_job(struct ctl *ctl, int argc, char **argv);
int ctl_backend(struct ctl *ctl, int argc, char **argv);
int ctl_target(struct ctl *ctl, int argc, char **argv);
int ctl_source(struct ctl *ctl, int argc, char **argv);
int ctl_sourcehost(struct ctl *ctl, int argc, char **argv);

#endif /* DMF_CORE_DMFCTL_H */
