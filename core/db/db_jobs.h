/*
 * db_jobs.h - the job lifecycle in the Migration Database: candidates for
 * the job cache, claiming, completing, releasing, lease renewal, rescue of
 * stale jobs and recovery of a restarted worker's own jobs.
 *
 * Every transition after the claim is guarded by owner (the worker's boot
 * id) + attempt + status RUNNING, so a write repeated after a lost
 * connection, or made by a worker that lost its lease, changes nothing.
 * Times come from the database clock (NOW(3)) except the job's own
 * started/finished, which the worker measured.  See docs/schema.md.
 */
#ifndef DMF_CORE_DB_JOBS_H
#define DMF_CORE_DB_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* One candidate of the job cache. */
struct db_candidate {
	int64_t id;
	char *uid; /* may be NULL */
};

/*
 * Load up to `limit` QUEUED jobs of `target` for `sources` (NULL
 * terminated), ordered by priority (high first), submission, id.
 */
int db_jobs_candidates(struct db_pool *pool, const char *target,
		       char *const *sources, unsigned limit,
		       struct db_candidate **cands_r, size_t *n_r,
		       char **error_r);
void db_candidates_free(struct db_candidate **cands, size_t n);

/* A claimed job row with its sourcehost and source looked up. */
struct db_job_row {
	int64_t id;
	unsigned attempt;
	char *target, *source, *uid, *ruid, *email, *sourcehost, *imapc_ssl,
		*imapoptions, *exclude, *phase;
	long sourceport; /* -1 when NULL */
	int priority;
	char *password; /* wrapped (binary), NULL when none */
	size_t password_len;
	char *password_key;
	char *password_iv; /* binary */
	size_t password_iv_len;
	char *submitted;
	bool source_known;
	bool sourcehost_known;
	char *sh_host, *sh_ssl, *sh_commands; /* from sourcehosts */
	long sh_port;
	char *problem; /* why the row cannot be run (a text column with a
			* NUL byte), or NULL */
};

void db_job_row_clear(struct db_job_row *row);
/* Decode row i of a claim's result (the columns of db_jobs.c's claim
 * query, by name) into *r (zeroed by the caller; clear it after, also on
 * failure).  A text column holding a NUL byte sets r->problem.  0 or
 * -ENOMEM. */
int db_job_row_fill(const struct db_rows *rows, size_t i, struct db_job_row *r);

struct db_claim_req {
	const char *target;
	const char *owner; /* boot id */
	const char *backend; /* target/memberid */
	unsigned lease_ms;
	const int64_t *ids; /* candidates, in order */
	size_t n_ids;
	size_t want; /* claim at most this many */
	char *const *skip_uids; /* uids running here now (NULL ended) */
};

struct db_claim_res {
	struct db_job_row *rows; /* claimed, in claim order */
	size_t n_rows;
	int64_t *busy; /* 1062: another job of the mailbox runs */
	size_t n_busy;
	int64_t *gone; /* no longer QUEUED, or locked by another worker */
	size_t n_gone;
	size_t n_bad; /* rows the claim cannot take: failed alone, with
		       * their reason in the job's error */
	/* monotonic ms taken just before the claim set the leases of its
	 * rows, as its last statement before COMMIT (NOW(3) + lease): no
	 * later than the database's start of those leases, however long
	 * the claim's earlier statements waited for locks */
	uint64_t leased_ms;
};

/* Claim jobs among the candidate ids (SELECT ... FOR UPDATE SKIP LOCKED,
 * then one guarded UPDATE per job, in one short transaction). */
int db_jobs_claim(struct db_pool *pool, const struct db_claim_req *req,
		  struct db_claim_res *res_r, char **error_r);
void db_claim_res_clear(struct db_claim_res *res);

/* The result of a job to store. */
struct db_job_result {
	int64_t id;
	const char *owner;
	unsigned attempt;
	const char *status; /* SUCCESS, FAILURE or CANCELED */
	const char *error; /* may be NULL */
	const char *details; /* JSON text, may be NULL */
	long long counts[6]; /* sync saved, expunged, target msgs, size,
			      * origin msgs, size */
	bool count_set[6];
	long long started_ms; /* epoch ms, 0 = unknown */
	long long finished_ms;
};

/*
 * Store a result under the owner + attempt guard.  Returns 0 when stored
 * (also when an earlier try whose outcome was unknown had stored it),
 * -ESTALE when the job is no longer ours (rescued, cancelled), or a db
 * error (-ENOTCONN: try again later).
 */
int db_jobs_complete(struct db_pool *pool, const struct db_job_result *r,
		     char **error_r);

/* Put a job back in the queue (not run, or aborted at shutdown). */
int db_jobs_release(struct db_pool *pool, int64_t id, const char *owner,
		    unsigned attempt, char **error_r);

/* Fail a job that cannot be run (bad row), under the same guard. */
int db_jobs_fail(struct db_pool *pool, int64_t id, const char *owner,
		 unsigned attempt, const char *error, char **error_r);

/* One job still held by this owner after a heartbeat. */
struct db_held {
	int64_t id;
	unsigned attempt;
	bool cancel_requested;
	/* lease_until - NOW(3) when the list was read, in ms (<= 0: run out);
	 * the heartbeat's renewal may not have reached a row whose claim
	 * committed between its UPDATE and this SELECT */
	long long lease_left_ms;
};

/*
 * Renew the leases of all RUNNING jobs of `owner` to NOW(3) + lease_ms and,
 * when `backend` is not NULL, the backend's heartbeat, in one statement;
 * then list the jobs the owner still holds, each with what is left of its
 * lease.
 */
int db_jobs_heartbeat(struct db_pool *pool, const char *backend,
		      const char *owner, unsigned lease_ms,
		      struct db_held **held_r, size_t *n_r, char **error_r);

/* The running totals of one job (-1: not known). */
struct db_job_progress {
	int64_t id;
	unsigned attempt;
	long long saved, expunged, bytes;
};

/*
 * Write the live progress of running jobs of `owner` (progress_* columns,
 * progress_updated = NOW(3)), each under the owner + attempt + RUNNING
 * guard, one statement each; called with the heartbeat.
 */
int db_jobs_progress(struct db_pool *pool, const char *owner,
		     const struct db_job_progress *jobs, size_t n,
		     char **error_r);

/*
 * Requeue the RUNNING jobs of `target` whose lease expired more than
 * margin_ms ago (rescues + 1), or fail them once they were rescued `limit`
 * times (poison pill).  The margin gives a stale worker the time to notice
 * that its lease is lost and to kill its commands (docs/schema.md).
 */
int db_jobs_rescue(struct db_pool *pool, const char *target, unsigned limit,
		   unsigned margin_ms, unsigned *requeued_r, unsigned *failed_r,
		   char **error_r);

/* A process group recorded by an earlier run of this backend
 * (job_processes, db_procs.h). */
struct db_proc_rec {
	int64_t job_id;
	long long pgid, start, pidns;
	const char *boot_id;
};

/* Make sure no process of the recorded group is alive: 0, or a negative
 * errno when it may still be (its job is then not queued again). */
typedef int db_reap_fn(void *ctx, const struct db_proc_rec *rec);

/*
 * A restarted worker's recovery: first `reap` every process group that
 * an earlier boot id of `backend` recorded (NULL: none), then requeue at
 * once the RUNNING jobs of `backend` owned by an earlier boot id, counting
 * them as rescues, except the jobs whose group could not be reaped.
 */
int db_jobs_recover(struct db_pool *pool, const char *backend,
		    const char *owner, unsigned limit, db_reap_fn *reap,
		    void *reap_ctx, unsigned *requeued_r, unsigned *failed_r,
		    char **error_r);

#endif /* DMF_CORE_DB_JOBS_H */
