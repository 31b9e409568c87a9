/*
 * poller.h - where jobs come from and where their results go.
 *
 * The dispatcher asks the poller for up to `want` jobs whenever it has free
 * slots, runs each through the plugin, and hands it back with complete()
 * (the result is stored) or release() (not run or aborted at shutdown: put
 * it back in the queue).  Implementations: simulator (poller_simulator.c)
 * and database (the Migration Database).
 *
 * All calls come from the dispatcher thread except complete() and
 * release(), which worker threads may call concurrently.
 */
#ifndef DMF_CORE_POLLER_H
#define DMF_CORE_POLLER_H

#include <stddef.h>

#include "lib/config.h"

struct dmf_job;
struct poller;

struct poller_ops {
	const char *name; /* dmf.worker.poller.type */
	/* Create the poller from the configuration; on failure set *error_r
	 * (allocated, caller frees) and return a negative errno. */
	int (*create)(const struct config *cfg, struct poller **poller_r,
		      char **error_r);
	/*
	 * Claim up to `want` jobs into jobs[] and set *n_r.  May return fewer,
	 * or none; never blocks longer than a short poll.  Returns 0, or a
	 * negative errno when the source of jobs is unavailable (the caller
	 * backs off and retries).
	 */
	int (*fetch)(struct poller *p, size_t want, struct dmf_job **jobs,
		     size_t *n_r);
	/* Store the job's result and free the job. */
	void (*complete)(struct poller *p, struct dmf_job *job);
	/* Give the job back unfinished and free it. */
	void (*release)(struct poller *p, struct dmf_job *job);
	/* Milliseconds to wait before the next fetch when the last one found
	 * nothing (may include jitter and backoff). */
	unsigned (*idle_wait_ms)(struct poller *p);
	/* True when this poller will never produce another job. */
	int (*exhausted)(struct poller *p);
	void (*destroy)(struct poller **p);
};

/* The implementation named `type`, or NULL. */
const struct poller_ops *poller_find(const char *type);

extern const struct poller_ops poller_simulator_ops;
extern const struct poller_ops poller_database_ops;

/* Every check the database poller's create() makes that needs no database
 * (durations, heartbeat and lease, cache, storage keys): for
 * --check-config.  0, or a negative errno with *error_r allocated. */
int poller_database_check(const struct config *cfg, char **error_r);

#endif /* DMF_CORE_POLLER_H */
