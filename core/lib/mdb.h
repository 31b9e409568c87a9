/*
 * mdb.h - the one table of job properties (the `%{mdb:NAME}` values): each
 * name, whether `%{mdb:NAME}` may use it, whether it is a secret, and how
 * the database poller derives it from the job's row.  Injection
 * (exec/inject.c) and the poller (worker/poller_database.c) both read it;
 * docs/commands.md and docs/schema.md list the same names (checked by
 * tests/unit/test_mdb.c).  The names are the DMF_MDB_* constants of
 * sdk/include/dmf/host.h.
 *
 * struct db_job_row (db/db_jobs.h) is only read here as a plain struct:
 * nothing of the database code is linked.
 */
#ifndef DMF_CORE_MDB_H
#define DMF_CORE_MDB_H

#include <stdbool.h>
#include <stddef.h>

#include "dmf/host.h"

struct db_job_row;

/* A name `%{mdb:NAME}` accepts (spec 3.13.1). */
#define MDB_INJECT 0x1u
/* A secret: never shown, hidden in display forms and logs. */
#define MDB_SECRET 0x2u

/* Room for one derived value (md5path is the longest: the uid + 6). */
#define MDB_VALUE_MAX 1100

struct mdb_prop {
	const char *name; /* DMF_MDB_* */
	unsigned flags; /* MDB_* */
	/* Where the value comes from, as docs/schema.md says it. */
	const char *origin;
	/*
	 * The value for row `r`: *value_r points into the row or into buf
	 * (MDB_VALUE_MAX bytes), or is NULL when the row has none (the job
	 * then has no such property).  0 or a negative errno.  NULL, and
	 * row_field 0, for values that do not come from the row alone (sourcepasswd: the
	 * poller unwraps it; container: the doveadm worker's lookup;
	 * directorSourcehost: the doveadm worker's directorMap step).
	 */
	int (*derive)(const struct db_job_row *r, char *buf,
		      const char **value_r);
	/* Instead of derive: 1 + the offset of a `char *` member of
	 * struct db_job_row that is the value as it is; 0: none. */
	size_t row_field;
};

/* The table, in the order the poller sets the properties. */
extern const struct mdb_prop mdb_props[];
extern const size_t mdb_n_props;

/* The entry named by name[0..len), or NULL. */
const struct mdb_prop *mdb_find(const char *name, size_t len);

/* Whether a plugin may set property `name` (job->set_property, ABI 1.4):
 * a name of this table that neither comes from the row nor is a secret
 * (container, directorSourcehost), or a name that is not in it. */
bool mdb_plugin_settable(const char *name);

/*
 * Set on `job` every property the table derives from row `r` (all but
 * sourcepasswd, container and directorSourcehost).  0, -ENOMEM, or the
 * error of a derivation (-ENOSPC: uid too long for md5path).
 */
int mdb_set_props(struct dmf_job *job, const struct db_job_row *r);

/*
 * md5path = "<h0h1>/<h2h3>/<uid>" where h is the lowercase hex MD5 of the
 * uid (Dovecot's %2Mu/%2.2Mu/%u), into buf of at least strlen(uid) + 7
 * bytes; 2chrruid = the first two characters (not bytes) of ruid.
 */
int mdb_md5path(const char *uid, char *buf, size_t size);
int mdb_2chr(const char *ruid, char *buf, size_t size);

#endif /* DMF_CORE_MDB_H */
