/*
 * db_worker.h - what the database poller, the database state and (handed
 * in by main: host_db_set_pool) the plugins' `db` host table share inside
 * one worker process: the pool, the worker's identity (target, memberid,
 * backend name `target/memberid`), its boot id (the owner written on every
 * job it claims) and the sources it serves.
 *
 * There is one per process; db_worker_get() creates it on first use (pool,
 * server and schema checks) and counts references.  Thread-safe.
 */
#ifndef DMF_CORE_DB_WORKER_H
#define DMF_CORE_DB_WORKER_H

#include <stdbool.h>

#include "lib/config.h"
#include "db/db.h"

struct db_worker {
	struct db_pool *pool;
	char *target; /* dmf.worker.identity.target */
	char *memberid; /* dmf.worker.identity.memberid (host name if empty) */
	char *name; /* "target/memberid", the backend's name */
	char owner[33]; /* boot id: 32 random hex digits, new every start */
};

/* The process's shared context (created on the first call). */
int db_worker_get(const struct config *cfg, struct db_worker **w_r,
		  char **error_r);
/* Drop a reference; the last one closes the pool. */
void db_worker_put(struct db_worker **w);

/*
 * The sources this worker serves: the configured dmf.worker.sources until
 * the database state says otherwise.  Returns an allocated NULL-terminated
 * copy (free with cfg_strv_free) and the generation, which changes with
 * every change of the list.
 */
char **db_worker_sources(struct db_worker *w, unsigned *gen_r);
/* Replace the list (copied); bumps the generation when it differs. */
int db_worker_set_sources(struct db_worker *w, char *const *sources);

/* The backend row is registered by this process (state type database):
 * the heartbeat then also updates backends.heartbeat. */
void db_worker_set_registered(struct db_worker *w, bool registered);
bool db_worker_registered(struct db_worker *w);

/* Jobs this process runs now (kept by the poller, read by the state). */
void db_worker_set_running(struct db_worker *w, unsigned running);
unsigned db_worker_running(struct db_worker *w);

#endif /* DMF_CORE_DB_WORKER_H */
