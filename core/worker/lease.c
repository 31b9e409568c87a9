/*
 * lease.c - the database poller's held jobs and their leases.
 *
 * A heartbeat thread renews, every dmf.worker.heartbeat, the backend's
 * heartbeat and the leases of this process's running jobs (one statement,
 * database clock), notices jobs taken away (rescued, cancel requested),
 * rescues stale jobs of the whole target, retries result writes that
 * failed while the database was away, and writes the live progress the
 * plugin reported (host metrics->progress) of jobs whose totals changed.
 *
 * A watchdog thread aborts every job whose lease may run out (80 % of the
 * lease after the latest start of the job's own lease the worker knows
 * of: its claim, or a heartbeat that read it renewed; measured on the
 * monotonic clock, which goes on while the process is stopped): their
 * process groups are killed and they are marked lost, their results are
 * never written.
 * It does not wait for the database, so a worker whose heartbeat hangs in a
 * call, or that was frozen (SIGSTOP) and goes on, kills its commands before
 * (or, after a freeze, as soon as) another worker may rescue the jobs; the
 * rescue waits for dmf.worker.rescue.margin past the lease on top.
 *
 * Each command of a job records its process group in job_processes before
 * it runs (refused when the job is no longer ours); a restarted worker
 * kills what is left of its previous run's groups and waits until they are
 * gone before it queues that run's jobs again (docs/schema.md).
 *
 * The row-to-job adapter (claiming, the job cache) is poller_database.c.
 */
#include "dmf-build.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db_jobs.h"
#include "db/db_procs.h"
#include "db/db_worker.h"
#include "exec/proc.h"
#include "lib/job.h"
#include "lib/log.h"
#include "lib/util.h"
#include "http/http_health.h"
#include "metrics/metrics_worker.h"
#include "worker/lease.h"

/* How long a restarted worker waits for a killed previous run to go. */
#define REAP_TIMEOUT_MS 5000u

static struct held *held_find(struct poller *p, const struct dmf_job *job)
{
	for (size_t i = 0; i < p->n_held; i++)
		if (p->held[i].job == job)
			return &p->held[i];
	return NULL;
}

static void held_remove(struct poller *p, struct held *h)
{
	size_t i = (size_t)(h - p->held);

	free(h->uid);
	p->held[i] = p->held[--p->n_held];
	pthread_cond_broadcast(&p->cond);
}

int lease_hold(struct poller *p, struct dmf_job *job, int64_t id,
	       unsigned attempt, const char *uid, uint64_t leased_ms)
{
	struct held *nh;

	pthread_mutex_lock(&p->lock);
	nh = realloc(p->held, (p->n_held + 1) * sizeof(*nh));
	if (nh == NULL) {
		pthread_mutex_unlock(&p->lock);
		return -ENOMEM;
	}
	p->held = nh;
	nh[p->n_held] = (struct held){ .job = job,
				       .id = id,
				       .attempt = attempt,
				       .uid = xstrdup(uid),
				       .leased_ms = leased_ms,
				       .held_ms = now_monotonic_ms(),
				       .progress_written = { -1, -1, -1 } };
	p->n_held++;
	pthread_cond_signal(&p->watch_cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* The uids running here now (NULL-terminated, allocated). */
char **lease_held_uids(struct poller *p)
{
	char **uids;
	size_t n = 0;

	pthread_mutex_lock(&p->lock);
	uids = calloc(p->n_held + 1, sizeof(char *));
	for (size_t i = 0; uids != NULL && i < p->n_held; i++)
		if (p->held[i].uid != NULL)
			uids[n++] = strdup(p->held[i].uid);
	pthread_mutex_unlock(&p->lock);
	return uids;
}

static size_t lose_expired_locked(struct poller *p, uint64_t now);

/* --------------------------------------------------------- results --- */

static void fill_result(const struct dmf_job *job, const struct held *h,
			const char *owner, bool canceled,
			struct db_job_result *r, char **details_r)
{
	memset(r, 0, sizeof(*r));
	r->id = h->id;
	r->owner = owner;
	r->attempt = h->attempt;
	if (canceled)
		r->status = "CANCELED";
	else
		r->status = job->status == DMF_STATUS_SUCCESS ? "SUCCESS" :
								"FAILURE";
	r->error = canceled && job->error == NULL ? "canceled while running" :
						    job->error;
	*details_r = job->details != NULL ?
			     json_dumps(job->details,
					JSON_COMPACT | JSON_PRESERVE_ORDER) :
			     NULL;
	r->details = *details_r;
	for (int i = 0; i < DMF_COUNT_MAX_ && i < 6; i++) {
		r->counts[i] = job->counts[i];
		r->count_set[i] = job->count_set[i];
	}
	r->started_ms = (long long)job->started.tv_sec * 1000 +
			job->started.tv_nsec / 1000000;
	r->finished_ms = (long long)job->finished.tv_sec * 1000 +
			 job->finished.tv_nsec / 1000000;
}

/*
 * Write what a handed-back job needs (result or release).  Called without
 * the lock.  Returns 0 when done (written, or nothing to write any more),
 * -EAGAIN when the database is away and it must be retried.
 */
static int write_back(struct poller *p, struct dmf_job *job, int64_t id,
		      unsigned attempt, bool release, bool canceled)
{
	struct held h = { .id = id, .attempt = attempt };
	struct db_job_result r;
	char *details = NULL, *error = NULL;
	int ret;

	if (release && !canceled) {
		ret = db_jobs_release(p->w->pool, id, p->w->owner, attempt,
				      &error);
	} else {
		fill_result(job, &h, p->w->owner, canceled, &r, &details);
		ret = db_jobs_complete(p->w->pool, &r, &error);
	}
	free(details);
	if (ret == 0) {
		if (release && !canceled)
			log_job(DMF_LOG_INFO, job,
				"job %" PRId64 " put back in "
				"the queue",
				id);
	} else if (ret == -ESTALE) {
		log_job(DMF_LOG_WARN, job,
			"job %" PRId64 " is no longer ours (rescued or "
			"canceled meanwhile): its result is not stored",
			id);
		ret = 0;
	} else if (ret == -ENOTCONN || ret == -ETIMEDOUT || ret == -EAGAIN) {
		log_job(DMF_LOG_WARN, job,
			"cannot store job %" PRId64 " now (%s); retrying "
			"while the lease lasts",
			id, error != NULL ? error : dmf_strerror(ret));
		ret = -EAGAIN;
	} else {
		log_job(DMF_LOG_ERROR, job, "cannot store job %" PRId64 ": %s",
			id, error != NULL ? error : dmf_strerror(ret));
		ret = 0;
	}
	free(error);
	return ret;
}

/*
 * A job given up (lease lost or taken away) whose command is gone: put it
 * back in the queue if the database still has it as ours, so that the
 * heartbeat (which renews every RUNNING job of this owner) does not keep
 * it leased to nobody.  The write is guarded by owner + attempt + RUNNING:
 * it changes nothing once the job was rescued or taken by another worker.
 * Without the database it is retried by the heartbeat.
 */
static void give_back(struct poller *p, int64_t id, unsigned attempt)
{
	char *error = NULL;
	int ret = db_jobs_release(p->w->pool, id, p->w->owner, attempt, &error);

	free(error);
	if (ret == 0) {
		log_info("job %" PRId64 " given up by this worker: put back in "
			 "the queue",
			 id);
	} else if (ret != -ESTALE) {
		struct given_up *ng;

		pthread_mutex_lock(&p->lock);
		ng = realloc(p->given_up,
			     (p->n_given_up + 1) * sizeof(*p->given_up));
		if (ng != NULL) {
			p->given_up = ng;
			ng[p->n_given_up++] = (struct given_up){ id, attempt };
		}
		pthread_mutex_unlock(&p->lock);
	}
}

void lease_retry_given_up(struct poller *p)
{
	struct given_up *list;
	size_t n;

	pthread_mutex_lock(&p->lock);
	list = p->given_up;
	n = p->n_given_up;
	p->given_up = NULL;
	p->n_given_up = 0;
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < n; i++)
		give_back(p, list[i].id, list[i].attempt);
	free(list);
}

/* A handed-back job's write is done: stop holding it and free it. */
static void held_forget(struct poller *p, struct dmf_job *job)
{
	struct held *h;

	pthread_mutex_lock(&p->lock);
	h = held_find(p, job);
	if (h != NULL)
		held_remove(p, h);
	pthread_mutex_unlock(&p->lock);
	job_free(&job);
}

/*
 * A result write failed for want of the database: retry it while the
 * lease lasts.  When the watchdog gave the job up while the write was in
 * flight (lost, and not pending at that moment, so it was kept), drop it
 * now and give it back: a lost entry is never retried, and left held it
 * would stay RUNNING, renewed by the heartbeat with everything else this
 * worker owns, and never rescued.  Lock held.
 */
static void retry_or_drop_locked(struct poller *p, struct held *h, bool release)
{
	struct dmf_job *job = h->job;
	struct given_up *ng;

	if (!h->lost) {
		h->pending = true;
		h->pending_release = release;
		return;
	}
	log_job(DMF_LOG_WARN, job,
		"job %" PRId64 ": lease lost before its result could be "
		"stored",
		h->id);
	ng = realloc(p->given_up, (p->n_given_up + 1) * sizeof(*p->given_up));
	if (ng != NULL) {
		p->given_up = ng;
		ng[p->n_given_up++] = (struct given_up){ h->id, h->attempt };
	}
	held_remove(p, h);
	job_free(&job);
}

static void hand_back(struct poller *p, struct dmf_job *job, bool release)
{
	struct held *h;
	int64_t id;
	unsigned attempt;
	bool lost, canceled;

	pthread_mutex_lock(&p->lock);
	/* no result for a job whose lease may have run out meanwhile */
	lose_expired_locked(p, now_monotonic_ms());
	h = held_find(p, job);
	if (h == NULL) {
		pthread_mutex_unlock(&p->lock);
		log_job(DMF_LOG_ERROR, job, "job handed back twice");
		return;
	}
	id = h->id;
	attempt = h->attempt;
	lost = h->lost;
	canceled = h->canceled;
	/* from now on a heartbeat that no longer lists the job (its result
	 * is being stored) must not call it taken away */
	h->handed = true;
	if (lost) {
		held_remove(p, h);
		pthread_mutex_unlock(&p->lock);
		log_job(DMF_LOG_WARN, job,
			"job %" PRId64 ": lease lost, its result is not "
			"stored (another worker may run it again)",
			id);
		job_free(&job);
		give_back(p, id, attempt);
		return;
	}
	pthread_mutex_unlock(&p->lock);
	if (write_back(p, job, id, attempt, release, canceled) == 0) {
		held_forget(p, job);
		return;
	}
	/* the heartbeat retries it while the lease lasts */
	pthread_mutex_lock(&p->lock);
	h = held_find(p, job);
	if (h != NULL)
		retry_or_drop_locked(p, h, release);
	pthread_mutex_unlock(&p->lock);
}

void lease_complete(struct poller *p, struct dmf_job *job)
{
	hand_back(p, job, false);
}

void lease_release(struct poller *p, struct dmf_job *job)
{
	hand_back(p, job, true);
}

/* ------------------------------------------------------- heartbeat --- */

/* Retry the writes that waited for the database. */
void lease_retry_pending(struct poller *p)
{
	for (;;) {
		struct dmf_job *job = NULL;
		int64_t id = 0;
		unsigned attempt = 0;
		bool release = false, canceled = false;

		pthread_mutex_lock(&p->lock);
		for (size_t i = 0; i < p->n_held; i++) {
			struct held *h = &p->held[i];

			if (h->pending && !h->lost) {
				job = h->job;
				id = h->id;
				attempt = h->attempt;
				release = h->pending_release;
				canceled = h->canceled;
				h->pending = false; /* being written */
				break;
			}
		}
		pthread_mutex_unlock(&p->lock);
		if (job == NULL)
			return;
		if (write_back(p, job, id, attempt, release, canceled) == 0) {
			held_forget(p, job);
		} else {
			struct held *h;

			pthread_mutex_lock(&p->lock);
			h = held_find(p, job);
			if (h != NULL)
				retry_or_drop_locked(p, h, release);
			pthread_mutex_unlock(&p->lock);
			return;
		}
	}
}

/* When the worker must give job `h` up: 80 % of the lease after the
 * latest start of its lease it knows of (monotonic clock).  Each job has
 * its own: a heartbeat renews the rows the database has as this worker's
 * when its UPDATE runs, and a claim that commits just after that (its
 * statements waited for locks) has a lease of its own, which that
 * heartbeat did not renew. */
static uint64_t lease_deadline(const struct poller *p, const struct held *h)
{
	return h->leased_ms + p->lease_ms - p->lease_ms / 5;
}

/* A heartbeat sent at `sent` listed `h` with `left_ms` of its lease left
 * (database clock, read after `sent`): its lease started no earlier than
 * sent + left_ms - lease, by this worker's clock.  A lease the heartbeat
 * did not reach (left_ms short) moves nothing. */
static void lease_renewed_locked(const struct poller *p, struct held *h,
				 uint64_t sent, long long left_ms)
{
	long long from = (long long)sent + left_ms - (long long)p->lease_ms;

	if (from > 0 && (uint64_t)from > h->leased_ms)
		h->leased_ms = (uint64_t)from;
}

/*
 * Mark every held job whose lease may have run out by `now` lost and
 * abort it (its process group is killed at once); one handed back already
 * is dropped.  Returns how many.  Lock held.
 */
static size_t lose_expired_locked(struct poller *p, uint64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_held;) {
		struct held *h = &p->held[i];

		if (h->lost || now < lease_deadline(p, h)) {
			i++;
			continue;
		}
		h->lost = true;
		n++;
		if (h->pending) {
			/* handed back already: drop it */
			retry_or_drop_locked(p, h, h->pending_release);
			continue;
		}
		job_abort(h->job);
		i++;
	}
	if (n > 0)
		log_error("cannot renew the job leases in time: aborted %zu "
			  "job(s), their results will not be written",
			  n);
	return n;
}

/* The watchdog: gives jobs up on time, whatever the heartbeat is doing. */
void *lease_watch_main(void *arg)
{
	struct poller *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		uint64_t now = now_monotonic_ms(), next = UINT64_MAX;

		lose_expired_locked(p, now);
		for (size_t i = 0; i < p->n_held; i++) {
			uint64_t d = lease_deadline(p, &p->held[i]);

			if (!p->held[i].lost && d < next)
				next = d;
		}
		if (next == UINT64_MAX) {
			pthread_cond_wait(&p->watch_cond, &p->lock);
		} else {
			struct timespec ts = { .tv_sec = (time_t)(next / 1000),
					       .tv_nsec = (long)(next % 1000) *
							  1000000L };

			pthread_cond_timedwait(&p->watch_cond, &p->lock, &ts);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* The held jobs whose progress changed since it was last written (lock
 * held); NULL when none. */
static struct db_job_progress *progress_changed_locked(struct poller *p,
						       size_t *n_r)
{
	struct db_job_progress *out = NULL;
	size_t n = 0;

	for (size_t i = 0; i < p->n_held; i++) {
		struct held *h = &p->held[i];
		long long v[3];
		bool changed = false;

		if (h->job == NULL || h->lost || h->handed)
			continue;
		for (int k = 0; k < 3; k++) {
			v[k] = atomic_load(&h->job->progress[k]);
			changed = changed || v[k] != h->progress_written[k];
		}
		if (!changed)
			continue;
		if (out == NULL) {
			out = calloc(p->n_held, sizeof(*out));
			if (out == NULL)
				return NULL;
		}
		out[n++] = (struct db_job_progress){ .id = h->id,
						     .attempt = h->attempt,
						     .saved = v[0],
						     .expunged = v[1],
						     .bytes = v[2] };
	}
	*n_r = n;
	return out;
}

/* Write the live progress of the running jobs (with the heartbeat, never
 * per message). */
static void progress_write(struct poller *p)
{
	struct db_job_progress *jobs;
	size_t n = 0;
	char *error = NULL;

	pthread_mutex_lock(&p->lock);
	jobs = progress_changed_locked(p, &n);
	pthread_mutex_unlock(&p->lock);
	if (jobs == NULL)
		return;
	if (db_jobs_progress(p->w->pool, p->w->owner, jobs, n, &error) < 0) {
		log_debug("cannot write the jobs' progress: %s",
			  error != NULL ? error : "");
		free(error);
		free(jobs);
		return;
	}
	pthread_mutex_lock(&p->lock);
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < p->n_held; i++) {
			struct held *h = &p->held[i];

			if (h->id != jobs[k].id ||
			    h->attempt != jobs[k].attempt)
				continue;
			h->progress_written[0] = jobs[k].saved;
			h->progress_written[1] = jobs[k].expunged;
			h->progress_written[2] = jobs[k].bytes;
		}
	pthread_mutex_unlock(&p->lock);
	free(jobs);
}

static void heartbeat_once(struct poller *p)
{
	struct db_held *alive = NULL, *orphans = NULL;
	size_t n_alive = 0, n_orphans = 0;
	uint64_t sent = now_monotonic_ms(), claims_before;
	unsigned requeued = 0, failed = 0;
	bool claims_quiet;
	char *error = NULL;
	int ret;

	pthread_mutex_lock(&p->lock);
	claims_before = p->claims_done;
	claims_quiet = p->claiming == 0;
	pthread_mutex_unlock(&p->lock);
	ret = db_jobs_heartbeat(
		p->w->pool, db_worker_registered(p->w) ? p->w->name : NULL,
		p->w->owner, p->lease_ms, &alive, &n_alive, &error);
	pthread_mutex_lock(&p->lock);
	if (ret < 0) {
		metrics_lease_renewal_failed();
		if (!p->warned_down)
			log_warn("heartbeat failed: %s", error);
		p->warned_down = true;
		health_report_leases(false, error);
		lose_expired_locked(p, now_monotonic_ms());
		pthread_mutex_unlock(&p->lock);
		free(error);
		return;
	}
	if (p->warned_down)
		log_info("database reachable again: heartbeat renewed");
	p->warned_down = false;
	health_report_leases(true, NULL);
	/* jobs past their deadline are given up even now: the watchdog may
	 * not have run yet (a stopped process goes on) */
	lose_expired_locked(p, now_monotonic_ms());
	/* jobs claimed before this heartbeat must be listed as ours; each
	 * listed one's lease runs from what the database says is left */
	for (size_t i = 0; i < p->n_held; i++) {
		struct held *h = &p->held[i];
		bool found = false;

		/* a claim still committing when the heartbeat read the
		 * database may not be listed yet */
		if (h->lost || h->held_ms >= sent)
			continue;
		for (size_t k = 0; k < n_alive; k++) {
			if (alive[k].id != h->id ||
			    alive[k].attempt != h->attempt)
				continue;
			found = true;
			lease_renewed_locked(p, h, sent,
					     alive[k].lease_left_ms);
			if (alive[k].cancel_requested && !h->canceled &&
			    !h->pending) {
				h->canceled = true;
				log_job(DMF_LOG_INFO, h->job,
					"cancel requested: aborting the job");
				job_abort(h->job);
			}
		}
		if (!found && !h->pending && !h->handed) {
			h->lost = true;
			log_job(DMF_LOG_WARN, h->job,
				"job %" PRId64 " was taken away from this "
				"worker: aborting it",
				h->id);
			job_abort(h->job);
		}
	}
	/* rows the database lists as ours that do not run here: a claim
	 * whose COMMIT outcome was unknown (connection lost at COMMIT) or
	 * that was dropped after it; give them back to the queue */
	claims_quiet = claims_quiet && p->claiming == 0 &&
		       p->claims_done == claims_before;
	for (size_t k = 0; claims_quiet && k < n_alive; k++) {
		bool held = false;

		for (size_t i = 0; i < p->n_held && !held; i++)
			held = p->held[i].id == alive[k].id;
		if (!held)
			alive[n_orphans++] = alive[k];
	}
	if (n_orphans > 0) {
		orphans = alive;
		alive = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	for (size_t k = 0; k < n_orphans; k++) {
		char *e = NULL;

		log_warn("job %" PRId64 " (attempt %u) is this worker's in the "
			 "database but does not run here: queued again",
			 orphans[k].id, orphans[k].attempt);
		if (db_jobs_release(p->w->pool, orphans[k].id, p->w->owner,
				    orphans[k].attempt, &e) < 0) {
			log_debug("cannot release job %" PRId64 ": %s",
				  orphans[k].id, e != NULL ? e : "");
			free(e);
		}
	}
	free(orphans);
	free(alive);
	progress_write(p);
	lease_retry_pending(p);
	lease_retry_given_up(p);
	if (db_jobs_rescue(p->w->pool, p->w->target, p->rescue_limit,
			   p->rescue_margin_ms, &requeued, &failed,
			   NULL) == 0 &&
	    (requeued > 0 || failed > 0)) {
		metrics_jobs_rescued(requeued, failed);
		log_warn("rescued stale jobs of target %s: %u queued again, "
			 "%u failed (rescue limit %u)",
			 p->w->target, requeued, failed, p->rescue_limit);
	}
}

void *lease_heartbeat_main(void *arg)
{
	struct poller *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		struct timespec ts;
		unsigned ms = jitter_ms(p->heartbeat_ms, 10);

		realtime_after_ms(&ts, ms);
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		if (p->stopping)
			break;
		pthread_mutex_unlock(&p->lock);
		heartbeat_once(p);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* ------------------------------------------------- process groups --- */

/* Whether `job` is still held here, not lost: first gives up every job
 * past its lease deadline (a worker that was frozen learns it here).
 * *attempt_r gets the job's attempt (0 when not held), *deadline_r (when
 * not NULL) its lease deadline as of now (0 when not held). */
static bool job_held(struct poller *p, const struct dmf_job *job,
		     unsigned *attempt_r, uint64_t *deadline_r)
{
	struct held *h;
	bool held;

	pthread_mutex_lock(&p->lock);
	lose_expired_locked(p, now_monotonic_ms());
	h = held_find(p, job);
	held = h != NULL && !h->lost;
	*attempt_r = h != NULL ? h->attempt : 0;
	if (deadline_r != NULL)
		*deadline_r = held ? lease_deadline(p, h) : 0;
	pthread_mutex_unlock(&p->lock);
	return held;
}

/*
 * Record process group `rec` of a command of `job` before the command
 * runs.  A command whose group is not on record must not run: should this
 * worker die, its restart could not stop what the command leaves behind,
 * and it would queue the job again beside it.  So a record that fails (the
 * database restarting, a connection lost) is tried again until it is
 * written, and the command is given up (-ECANCELED) once the job is no
 * longer held here: its lease ran out meanwhile (the job is then given
 * back), or it was aborted.  0 when recorded, -ESTALE when the job's row
 * is not this worker's any more, -EIO when the database kept refusing the
 * record for a whole lease while the job stayed held (its lease renewed):
 * the job then fails.  *start_by_r gets the lease deadline the last check
 * saw: the command must not start past it (exec.h), should this thread be
 * held up (frozen) between that check and the command's start.
 */
static int record_group(struct poller *p, struct dmf_job *job,
			const struct db_proc *rec, uint64_t *start_by_r)
{
	unsigned delay_ms = 50, tries = 0;
	uint64_t first_fail = 0;

	for (;;) {
		char *error = NULL;
		unsigned attempt;
		int ret = db_procs_record(p->w->pool, rec, &error);
		bool held = job_held(p, job, &attempt, start_by_r) &&
			    !job_is_aborted(job);
		const char *why = error != NULL ? error :
				  ret < 0	? dmf_strerror(ret) :
						  "recorded late";

		if (ret == -ESTALE || (ret == 0 && held)) {
			if (ret == 0 && tries > 0)
				log_job(DMF_LOG_INFO, job,
					"process group %lld recorded after %u "
					"failed tries: its command starts",
					rec->pgid, tries);
			free(error);
			return ret;
		}
		if (!held) {
			log_job(DMF_LOG_WARN, job,
				"the job was given up while its process group "
				"%lld was being recorded (%s): its command is "
				"not started",
				rec->pgid, why);
			free(error);
			return -ECANCELED;
		}
		if (tries > 0 &&
		    now_monotonic_ms() - first_fail >= p->lease_ms) {
			/* the database answers the heartbeat (the lease was
			 * renewed) but refuses the record: fail the job */
			log_job(DMF_LOG_ERROR, job,
				"cannot record process group %lld for a whole "
				"lease (%s): its command is not started",
				rec->pgid, why);
			free(error);
			return -EIO;
		}
		if (tries++ == 0) {
			first_fail = now_monotonic_ms();
			log_job(DMF_LOG_WARN, job,
				"cannot record process group %lld (%s): its "
				"command waits until it is on record (it is "
				"given up when the job's lease runs out)",
				rec->pgid, why);
		}
		free(error);
		if (job_sleep_ms(job, delay_ms) < 0) {
			log_job(DMF_LOG_WARN, job,
				"the job was aborted while its process group "
				"%lld was being recorded: its command is not "
				"started",
				rec->pgid);
			return -ECANCELED;
		}
		if (delay_ms < 800)
			delay_ms *= 2;
	}
}

/* The command of `job` in group `pgid` may run once its group is on
 * record (attempt `attempt`), and not past *start_by_r; -ECANCELED or
 * another error when it must not run. */
static int record_before_start(struct poller *p, struct dmf_job *job,
			       pid_t pgid, unsigned attempt,
			       uint64_t *start_by_r)
{
	struct proc_ident id;
	struct db_proc rec;
	int ret = proc_ident_of(pgid, &id);

	if (ret < 0) {
		log_job(DMF_LOG_ERROR, job,
			"cannot read the identity of process group %d (%s): "
			"its command is not started",
			(int)pgid, dmf_strerror(ret));
		return ret;
	}
	rec = (struct db_proc){ .job_id = job->db_id,
				.attempt = attempt,
				.owner = p->w->owner,
				.backend = p->w->name,
				.pgid = id.pgid,
				.start = (long long)id.start,
				.boot_id = id.boot_id,
				.pidns = (long long)id.pidns,
				.host = p->host };
	ret = record_group(p, job, &rec, start_by_r);
	if (ret == -ESTALE) {
		log_job(DMF_LOG_WARN, job,
			"the job is no longer held by this worker (rescued or "
			"canceled): its command is not started");
		return -ECANCELED;
	}
	return ret;
}

/*
 * The exec host table's hook (job->on_process): record the process group
 * of a command before it runs, refuse it when the job is no longer ours
 * and give the lease deadline as the time it must start by, forget the
 * group once the command ended.
 */
int lease_on_process(struct dmf_job *job, pid_t pgid, bool started,
		     uint64_t *start_by_r)
{
	struct poller *p = job->poller_data;
	unsigned attempt;
	char *error = NULL;
	bool held = job_held(p, job, &attempt, NULL);

	if (!started) {
		if (db_procs_forget(p->w->pool, job->db_id, job->attempt, pgid,
				    &error) < 0)
			log_job(DMF_LOG_DEBUG, job,
				"cannot forget process group %d: %s", (int)pgid,
				error);
		free(error);
		return 0;
	}
	if (!held) {
		log_job(DMF_LOG_WARN, job,
			"the job is no longer held by this worker: its command "
			"is not started");
		return -ECANCELED;
	}
	return record_before_start(p, job, pgid, attempt, start_by_r);
}

/* db_jobs_recover's reaper: the previous run's group must be gone. */
int lease_reap(void *ctx, const struct db_proc_rec *rec)
{
	struct proc_ident id = { .pgid = (pid_t)rec->pgid,
				 .start = (unsigned long long)rec->start,
				 .pidns = (unsigned long long)rec->pidns };
	unsigned killed = 0;
	int ret;

	(void)ctx;
	snprintf(id.boot_id, sizeof(id.boot_id), "%s",
		 rec->boot_id != NULL ? rec->boot_id : "");
	ret = proc_group_reap(&id, REAP_TIMEOUT_MS, &killed);
	if (ret == -EXDEV) {
		log_warn("job %" PRId64
			 ": its previous run's process group %lld "
			 "was recorded on another machine or in another PID "
			 "namespace (boot %s) and cannot be checked from here",
			 rec->job_id, rec->pgid, id.boot_id);
		return 0;
	}
	if (ret < 0) {
		log_error(
			"job %" PRId64 ": %u process(es) of its previous run "
			"(process group %lld) still alive after %u ms: %s; the "
			"job is not queued again before its lease runs out",
			rec->job_id, killed, rec->pgid, REAP_TIMEOUT_MS,
			dmf_strerror(ret));
		return ret;
	}
	if (killed > 0)
		log_warn("job %" PRId64 ": killed %u process(es) left by the "
			 "previous run of this worker (process group %lld)",
			 rec->job_id, killed, rec->pgid);
	return 0;
}

/* Turn a claimed row into a job, or fail it in the database. */
