/*
 * db_backends.h - a worker's own row in `backends` (spec 2.2.6-2.2.8):
 * registration at start, the periodic read of what the scheduler (or
 * dmfctl) set there, and the status/heartbeat write that also clears an
 * obeyed command.  What dmfctl does to backends is in db_admin.h.
 */
#ifndef DMF_CORE_DB_BACKENDS_H
#define DMF_CORE_DB_BACKENDS_H

#include <stdbool.h>

#include "db/db.h"
#include "db/db_worker.h"

/* backends.status */
enum db_backend_status {
	DB_BACKEND_PAUSED = 0,
	DB_BACKEND_RUNNING = 1,
	DB_BACKEND_STOPPING = 2,
	DB_BACKEND_STOPPED = 3
};

/* What the row says. */
struct db_backend {
	bool created; /* db_backend_register: the row was new */
	int initial; /* initial_state: 1 STARTED, 0 STOPPED */
	unsigned max_threads;
	char *command; /* db_backend_read: pending command, NULL for none */
	char *boot_id; /* db_backend_read: the boot id written last */
	char **sources; /* backend_sources, NULL terminated */
};

void db_backend_clear(struct db_backend *be);

/*
 * Register the backend of `w` (its name target/memberid, boot id, and this
 * process's host name, pid and version), in one transaction.  A new row
 * gets `initial`, `max_threads` and `sources` (NULL terminated); an
 * existing one keeps its values (the database wins over the file).
 * Either way status becomes RUNNING or PAUSED after initial_state,
 * threads 0 and started/updated/heartbeat now.  *be_r (overwritten)
 * receives the row's initial state, maxThreads and sources.
 */
int db_backend_register(struct db_worker *w, int initial, unsigned max_threads,
			char *const *sources, struct db_backend *be_r,
			char **error_r);

/* Read the backend row `name` and its sources into *be_r (overwritten:
 * clear an earlier result first); -ENOENT when the row is gone. */
int db_backend_read(struct db_pool *pool, const char *name,
		    struct db_backend *be_r, char **error_r);

/*
 * The worker's periodic write: when `obeyed` is not NULL, clear the
 * command first if it is still `obeyed`; then set status, threads,
 * updated and heartbeat (database clock).
 */
int db_backend_heartbeat(struct db_pool *pool, const char *name,
			 enum db_backend_status status, unsigned threads,
			 const char *obeyed, char **error_r);

#endif /* DMF_CORE_DB_BACKENDS_H */
