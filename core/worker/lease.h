/*
 * lease.h - the database poller's state shared by its two halves:
 * poller_database.c (claiming rows, turning them into jobs) and lease.c
 * (held jobs: heartbeat, lease watchdog, write-back, process groups).
 * Internal to core/worker.
 */
#ifndef DMF_WORKER_LEASE_H
#define DMF_WORKER_LEASE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "worker/poller.h"

struct db_proc_rec;

struct held {
	struct dmf_job *job; /* NULL once handed back and written */
	int64_t id;
	unsigned attempt;
	char *uid;
	/* monotonic ms no later than the start of the job's lease in the
	 * database: taken before the claim set it, then before each
	 * heartbeat that found it renewed (lease_deadline) */
	uint64_t leased_ms;
	uint64_t held_ms; /* monotonic, once the claim had committed */
	bool lost; /* lease lost or taken away: write nothing */
	bool canceled; /* cancel requested by an admin */
	bool handed; /* handed back: its run is over, its write under way */
	bool pending; /* handed back; its write waits for the DB */
	bool pending_release; /* the pending write is a release */
	/* the progress last written to the job's row (-1: none) */
	long long progress_written[3];
};

struct poller {
	struct db_worker *w;
	unsigned cache_size, refresh_ms, lease_ms, heartbeat_ms, rescue_limit,
		rescue_margin_ms;
	char host[256];
	struct crypto_keyring *ring; /* the host's (host_crypto_keyring) */

	/* cache: used by the dispatcher thread only */
	struct db_candidate *cands;
	uint64_t *busy_until;
	size_t n_cands;
	uint64_t cache_loaded_ms;
	unsigned sources_gen;
	unsigned idle_ms;

	/* held jobs, shared with worker threads and the heartbeat */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct held *held;
	size_t n_held;
	bool stopping;
	bool warned_down;
	/* claims under way (claimed but maybe not yet held), and a count of
	 * the claims done: the heartbeat releases rows the database says are
	 * ours only when no claim ran meanwhile */
	unsigned claiming;
	uint64_t claims_done;
	pthread_t hb_thread;
	bool hb_started;
	/* jobs given up whose release waits for the database */
	struct given_up {
		int64_t id;
		unsigned attempt;
	} * given_up;
	size_t n_given_up;
	pthread_cond_t watch_cond; /* on CLOCK_MONOTONIC */
	pthread_t watch_thread;
	bool watch_started;
};

/* Hold a claimed job (leased_ms: monotonic time before the claim set its
 * lease, db_claim_res.leased_ms). */
int lease_hold(struct poller *p, struct dmf_job *job, int64_t id,
	       unsigned attempt, const char *uid, uint64_t leased_ms);
/* The uids running here now (NULL-terminated, allocated). */
char **lease_held_uids(struct poller *p);
/* The poller ops: a job's run is over; write its result or release it. */
void lease_complete(struct poller *p, struct dmf_job *job);
void lease_release(struct poller *p, struct dmf_job *job);
/* Writes that waited for the database; jobs given up to release. */
void lease_retry_pending(struct poller *p);
void lease_retry_given_up(struct poller *p);
/* The threads' mains (arg: the poller). */
void *lease_heartbeat_main(void *arg);
void *lease_watch_main(void *arg);
/* job->on_process: record a command's process group, refuse a command of
 * a job no longer held. */
int lease_on_process(struct dmf_job *job, pid_t pgid, bool started,
		     uint64_t *start_by_r);
/* db_jobs_recover's reaper: the previous run's group must be gone. */
int lease_reap(void *ctx, const struct db_proc_rec *rec);

#endif
