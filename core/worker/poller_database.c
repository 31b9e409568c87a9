/*
 * poller_database.c - jobs from the Migration Database.
 *
 * The job cache holds up to dmf.worker.jobs.cache.size candidate ids of
 * the target's QUEUED jobs for the served sources, ordered by priority,
 * then submission; it is reloaded every jobs.cache.refresh, when it runs
 * dry, or when the sources change.  fetch() claims among the first
 * candidates (db_jobs_claim: SKIP LOCKED, one running job per mailbox
 * enforced by the database).  Candidates whose mailbox is busy are skipped
 * for a moment.
 *
 * A heartbeat thread renews, every dmf.worker.heartbeat, the backend's
 * heartbeat and the leases of this process's running jobs (one statement,
 * database clock), notices jobs taken away (rescued, cancel requested),
 * rescues stale jobs of the whole target and retries result writes that
 * failed while the database was away.
 *
 * A watchdog thread aborts every job whose lease may run out (80 % of the
 * lease after its last renewal or its claim, measured on the monotonic
 * clock, which goes on while the process is stopped): their process groups
 * are killed and they are marked lost, their results are never written.
 * It does not wait for the database, so a worker whose heartbeat hangs in a
 * call, or that was frozen (SIGSTOP) and goes on, kills its commands before
 * (or, after a freeze, as soon as) another worker may rescue the jobs; the
 * rescue waits for dmf.worker.rescue.margin past the lease on top.
 *
 * Each command of a job records its process group in job_processes before
 * it runs (refused when the job is no longer ours); a restarted worker
 * kills what is left of its previous run's groups and waits until they are
 * gone before it queues that run's jobs again (docs/schema.md).
 */
#include "dmf-build.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "db/db_jobs.h"
#include "db/db_procs.h"
#include "db/db_worker.h"
#include "exec/proc.h"
#include "lib/job.h"
#include "lib/log.h"
#include "lib/mdb.h"
#include "worker/poller.h"
#include "lib/util.h"

#define BUSY_SKIP_MS 200u
/* How long a restarted worker waits for a killed previous run to go. */
#define REAP_TIMEOUT_MS 5000u

struct held {
	struct dmf_job *job; /* NULL once handed back and written */
	int64_t id;
	unsigned attempt;
	char *uid;
	uint64_t claimed_ms; /* monotonic, before the claim was sent */
	bool lost; /* lease lost or taken away: write nothing */
	bool canceled; /* cancel requested by an admin */
	bool handed; /* handed back: its run is over, its write under way */
	bool pending; /* handed back; its write waits for the DB */
	bool pending_release; /* the pending write is a release */
};

struct poller {
	struct db_worker *w;
	unsigned cache_size, refresh_ms, lease_ms, heartbeat_ms, rescue_limit,
		rescue_margin_ms;
	char host[256];
	struct crypto_keyring *ring;

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
	uint64_t renewed_ms; /* monotonic: sent time of the last renewal */
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

/* ----------------------------------------------------------- helpers --- */

static int cfg_ms(const struct config *cfg, const char *key, long long def,
		  unsigned *v_r, char **error_r)
{
	const char *error = NULL;
	long long ms;

	if (cfg_get_duration_ms(cfg->root, key, def, &ms, &error) < 0) {
		*error_r = xasprintf("%s", error);
		return -EINVAL;
	}
	if (ms <= 0 || ms > 24LL * 3600 * 1000) {
		*error_r = xasprintf("%s: must be between 1 ms and 1 day", key);
		return -EINVAL;
	}
	*v_r = (unsigned)ms;
	return 0;
}

static int cfg_uint(const struct config *cfg, const char *key, long long def,
		    long long max, unsigned *v_r, char **error_r)
{
	const char *error = NULL;
	long long v;

	if (cfg_get_int(cfg->root, key, def, &v, &error) < 0) {
		*error_r = xasprintf("%s", error);
		return -EINVAL;
	}
	if (v < 0 || v > max) {
		*error_r =
			xasprintf("%s: must be between 0 and %lld", key, max);
		return -EINVAL;
	}
	*v_r = (unsigned)v;
	return 0;
}

/* md5path: the hex MD5 of the uid as the two-level path Dovecot's
 * `%2Mu/%2.2Mu/%Mu` gives: "ab/cd/abcd...(32 hex)". */
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

static int held_add(struct poller *p, struct dmf_job *job, int64_t id,
		    unsigned attempt, const char *uid, uint64_t claimed_ms)
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
				       .claimed_ms = claimed_ms };
	p->n_held++;
	pthread_cond_signal(&p->watch_cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* The uids running here now (NULL-terminated, allocated). */
static char **held_uids(struct poller *p)
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

static void retry_given_up(struct poller *p)
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
		pthread_mutex_lock(&p->lock);
		h = held_find(p, job);
		if (h != NULL)
			held_remove(p, h);
		pthread_mutex_unlock(&p->lock);
		job_free(&job);
		return;
	}
	/* the heartbeat retries it while the lease lasts */
	pthread_mutex_lock(&p->lock);
	h = held_find(p, job);
	if (h != NULL) {
		h->pending = true;
		h->pending_release = release;
	}
	pthread_mutex_unlock(&p->lock);
}

static void pdb_complete(struct poller *p, struct dmf_job *job)
{
	hand_back(p, job, false);
}

static void pdb_release(struct poller *p, struct dmf_job *job)
{
	hand_back(p, job, true);
}

/* ------------------------------------------------------- heartbeat --- */

/* Retry the writes that waited for the database. */
static void retry_pending(struct poller *p)
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
			struct held *h;

			pthread_mutex_lock(&p->lock);
			h = held_find(p, job);
			if (h != NULL)
				held_remove(p, h);
			pthread_mutex_unlock(&p->lock);
			job_free(&job);
		} else {
			struct held *h;

			pthread_mutex_lock(&p->lock);
			h = held_find(p, job);
			if (h != NULL)
				h->pending = true;
			pthread_mutex_unlock(&p->lock);
			return;
		}
	}
}

/* When the worker must give job `h` up: 80 % of the lease after its last
 * renewal or its claim, whichever came later (monotonic clock). */
static uint64_t lease_deadline(const struct poller *p, const struct held *h)
{
	uint64_t base =
		h->claimed_ms > p->renewed_ms ? h->claimed_ms : p->renewed_ms;

	return base + p->lease_ms - p->lease_ms / 5;
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
			struct dmf_job *job = h->job;

			struct given_up *ng = realloc(
				p->given_up,
				(p->n_given_up + 1) * sizeof(*p->given_up));

			log_job(DMF_LOG_WARN, job,
				"job %" PRId64 ": lease lost before its "
				"result could be stored",
				h->id);
			if (ng != NULL) {
				p->given_up = ng;
				ng[p->n_given_up++] =
					(struct given_up){ h->id, h->attempt };
			}
			held_remove(p, h);
			job_free(&job);
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
static void *watch_main(void *arg)
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
		if (!p->warned_down)
			log_warn("heartbeat failed: %s", error);
		p->warned_down = true;
		lose_expired_locked(p, now_monotonic_ms());
		pthread_mutex_unlock(&p->lock);
		free(error);
		return;
	}
	if (p->warned_down)
		log_info("database reachable again: heartbeat renewed");
	p->warned_down = false;
	/* jobs past their deadline are given up even now: the watchdog may
	 * not have run yet (a stopped process goes on) */
	lose_expired_locked(p, now_monotonic_ms());
	p->renewed_ms = sent;
	/* jobs claimed before this heartbeat must be listed as ours */
	for (size_t i = 0; i < p->n_held; i++) {
		struct held *h = &p->held[i];
		bool found = false;

		if (h->lost || h->claimed_ms >= sent)
			continue;
		for (size_t k = 0; k < n_alive; k++) {
			if (alive[k].id != h->id ||
			    alive[k].attempt != h->attempt)
				continue;
			found = true;
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
	retry_pending(p);
	retry_given_up(p);
	if (db_jobs_rescue(p->w->pool, p->w->target, p->rescue_limit,
			   p->rescue_margin_ms, &requeued, &failed,
			   NULL) == 0 &&
	    (requeued > 0 || failed > 0))
		log_warn("rescued stale jobs of target %s: %u queued again, "
			 "%u failed (rescue limit %u)",
			 p->w->target, requeued, failed, p->rescue_limit);
}

static void *heartbeat_main(void *arg)
{
	struct poller *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		struct timespec ts;
		unsigned ms = jitter_ms(p->heartbeat_ms, 10);

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += ms / 1000;
		ts.tv_nsec += (long)(ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
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

/* ------------------------------------------------------------ fetch --- */

static void cache_drop(struct poller *p)
{
	db_candidates_free(&p->cands, p->n_cands);
	free(p->busy_until);
	p->busy_until = NULL;
	p->n_cands = 0;
}

static int cache_load(struct poller *p, char **sources)
{
	char *error = NULL;
	int ret;

	cache_drop(p);
	ret = db_jobs_candidates(p->w->pool, p->w->target, sources,
				 p->cache_size, &p->cands, &p->n_cands, &error);
	if (ret < 0) {
		log_debug("cannot load the job cache: %s", error);
		free(error);
		return ret;
	}
	p->busy_until = calloc(p->n_cands ? p->n_cands : 1, sizeof(uint64_t));
	if (p->busy_until == NULL) {
		cache_drop(p);
		return -ENOMEM;
	}
	p->cache_loaded_ms = now_monotonic_ms();
	return 0;
}

/* Remove candidate `id` from the cache. */
static void cache_remove(struct poller *p, int64_t id)
{
	for (size_t i = 0; i < p->n_cands; i++) {
		if (p->cands[i].id != id)
			continue;
		free(p->cands[i].uid);
		memmove(&p->cands[i], &p->cands[i + 1],
			(p->n_cands - i - 1) * sizeof(*p->cands));
		memmove(&p->busy_until[i], &p->busy_until[i + 1],
			(p->n_cands - i - 1) * sizeof(*p->busy_until));
		p->n_cands--;
		return;
	}
}

static void cache_mark_busy(struct poller *p, int64_t id, uint64_t until)
{
	for (size_t i = 0; i < p->n_cands; i++)
		if (p->cands[i].id == id)
			p->busy_until[i] = until;
}

/* Why a claimed row cannot be run, or NULL. */
static char *row_problem(const struct db_job_row *r)
{
	if (r->problem != NULL)
		return xasprintf("%s", r->problem);
	if (r->uid == NULL || *r->uid == '\0')
		return xasprintf("job has no uid");
	if (!r->source_known)
		return xasprintf("unknown source '%s'", r->source);
	if (r->sourcehost != NULL && *r->sourcehost != '\0' &&
	    !r->sourcehost_known)
		return xasprintf("unknown sourcehost '%s'", r->sourcehost);
	if (strcmp(r->phase, "sync") != 0 && strcmp(r->phase, "cutover") != 0)
		return xasprintf("bad phase '%s' (sync or cutover)", r->phase);
	return NULL;
}

static int set_props(struct poller *p, struct dmf_job *job,
		     const struct db_job_row *r, char **problem_r)
{
	/* everything but the password comes from the table (lib/mdb.h) */
	int ret = mdb_set_props(job, r);

	if (ret < 0)
		return ret;
	if (r->password != NULL) {
		char *plain = NULL, *error = NULL;

		if (r->password_key == NULL || r->password_iv == NULL) {
			*problem_r = xasprintf("the stored password has no key "
					       "name or IV");
			return -EINVAL;
		}
		ret = crypto_unwrap(p->ring, r->password_key, r->password_iv,
				    r->password, &plain, &error);
		if (ret < 0) {
			*problem_r = xasprintf(
				"cannot unwrap the password "
				"(key '%s'): %s",
				r->password_key,
				error != NULL ? error : dmf_strerror(ret));
			free(error);
			return -EINVAL;
		}
		ret = job_set_property(job, DMF_MDB_SOURCEPASSWD, plain, true);
		crypto_free_secret(&plain);
	}
	return ret;
}

/* ------------------------------------------------- process groups --- */

/*
 * The exec host table's hook (job->on_process): record the process group
 * of a command before it runs, refuse it when the job is no longer ours,
 * forget the group once the command ended.
 */
static int pdb_on_process(struct dmf_job *job, pid_t pgid, bool started)
{
	struct poller *p = job->poller_data;
	struct proc_ident id;
	struct held *h;
	unsigned attempt;
	char *error = NULL;
	int ret;

	pthread_mutex_lock(&p->lock);
	lose_expired_locked(p, now_monotonic_ms());
	h = held_find(p, job);
	ret = h == NULL || h->lost ? -ECANCELED : 0;
	attempt = h != NULL ? h->attempt : 0;
	pthread_mutex_unlock(&p->lock);
	if (!started) {
		if (db_procs_forget(p->w->pool, job->db_id, job->attempt, pgid,
				    &error) < 0)
			log_job(DMF_LOG_DEBUG, job,
				"cannot forget process group %d: %s", (int)pgid,
				error);
		free(error);
		return 0;
	}
	if (ret < 0) {
		log_job(DMF_LOG_WARN, job,
			"the job is no longer held by this worker: its command "
			"is not started");
		return ret;
	}
	ret = proc_ident_of(pgid, &id);
	if (ret == 0) {
		struct db_proc rec = { .job_id = job->db_id,
				       .attempt = attempt,
				       .owner = p->w->owner,
				       .backend = p->w->name,
				       .pgid = id.pgid,
				       .start = (long long)id.start,
				       .boot_id = id.boot_id,
				       .pidns = (long long)id.pidns,
				       .host = p->host };

		ret = db_procs_record(p->w->pool, &rec, &error);
	}
	if (ret == -ESTALE) {
		free(error);
		log_job(DMF_LOG_WARN, job,
			"the job is no longer held by this worker (rescued or "
			"canceled): its command is not started");
		return -ECANCELED;
	}
	if (ret < 0)
		log_job(DMF_LOG_WARN, job,
			"cannot record process group %d (%s): should this "
			"worker die, its restart cannot stop what the command "
			"leaves behind",
			(int)pgid, error != NULL ? error : dmf_strerror(ret));
	free(error);
	return 0;
}

/* db_jobs_recover's reaper: the previous run's group must be gone. */
static int pdb_reap(void *ctx, const struct db_proc_rec *rec)
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
static struct dmf_job *make_job(struct poller *p, struct db_job_row *r)
{
	char id[24], *problem = row_problem(r), *error = NULL;
	struct dmf_job *job = NULL;
	int ret = 0;

	snprintf(id, sizeof(id), "%" PRId64, r->id);
	if (problem == NULL) {
		job = job_new(id, r->phase, r->source, r->target);
		if (job == NULL)
			problem = xasprintf("out of memory");
	}
	if (job != NULL) {
		job->db_id = r->id;
		job->attempt = r->attempt;
		job->poller_data = p;
		job->on_process = pdb_on_process;
		ret = set_props(p, job, r, &problem);
		if (ret < 0 && problem == NULL)
			problem = xasprintf("%s", dmf_strerror(ret));
	}
	if (problem == NULL)
		return job;
	job_free(&job);
	log_warn("job %s cannot be run: %s", id, problem);
	if (db_jobs_fail(p->w->pool, r->id, p->w->owner, r->attempt, problem,
			 &error) < 0) {
		log_warn("cannot mark job %s failed: %s (its lease will run "
			 "out and it is rescued)",
			 id, error);
		free(error);
	}
	free(problem);
	return NULL;
}

static void claim_done(struct poller *p)
{
	pthread_mutex_lock(&p->lock);
	p->claiming--;
	p->claims_done++;
	pthread_mutex_unlock(&p->lock);
}

static int pdb_fetch(struct poller *p, size_t want, struct dmf_job **jobs,
		     size_t *n_r)
{
	struct db_claim_res res;
	struct db_claim_req req = { 0 };
	char **sources, **uids = NULL, *error = NULL;
	int64_t *ids = NULL;
	uint64_t now = now_monotonic_ms();
	unsigned gen = 0;
	size_t n_ids = 0, n = 0, limit;
	int ret;

	*n_r = 0;
	sources = db_worker_sources(p->w, &gen);
	if (sources == NULL)
		return -ENOMEM;
	if (gen != p->sources_gen || p->n_cands == 0 ||
	    now >= p->cache_loaded_ms + p->refresh_ms) {
		p->sources_gen = gen;
		ret = cache_load(p, sources);
		if (ret < 0) {
			cfg_strv_free(&sources);
			return ret;
		}
	}
	cfg_strv_free(&sources);
	if (p->n_cands == 0)
		return 0;
	limit = want + 8;
	ids = calloc(limit, sizeof(*ids));
	uids = held_uids(p);
	if (ids == NULL || uids == NULL) {
		free(ids);
		cfg_strv_free(&uids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_cands && n_ids < limit; i++) {
		bool mine = false;

		if (p->busy_until[i] > now)
			continue;
		for (size_t k = 0; p->cands[i].uid != NULL && uids[k] != NULL;
		     k++)
			if (strcmp(uids[k], p->cands[i].uid) == 0)
				mine = true;
		if (!mine)
			ids[n_ids++] = p->cands[i].id;
	}
	if (n_ids == 0) {
		free(ids);
		cfg_strv_free(&uids);
		return 0;
	}
	req.target = p->w->target;
	req.owner = p->w->owner;
	req.backend = p->w->name;
	req.lease_ms = p->lease_ms;
	req.ids = ids;
	req.n_ids = n_ids;
	req.want = want;
	req.skip_uids = uids;
	pthread_mutex_lock(&p->lock);
	p->claiming++;
	pthread_mutex_unlock(&p->lock);
	now = now_monotonic_ms(); /* the leases start after this */
	ret = db_jobs_claim(p->w->pool, &req, &res, &error);
	free(ids);
	cfg_strv_free(&uids);
	if (ret < 0) {
		log_debug("claim failed: %s", error);
		free(error);
		claim_done(p);
		return ret;
	}
	for (size_t i = 0; i < res.n_gone; i++)
		cache_remove(p, res.gone[i]);
	for (size_t i = 0; i < res.n_busy; i++)
		cache_mark_busy(p, res.busy[i],
				now + jitter_ms(BUSY_SKIP_MS, 30));
	for (size_t i = 0; i < res.n_rows; i++) {
		struct db_job_row *r = &res.rows[i];
		struct dmf_job *job;

		cache_remove(p, r->id);
		job = make_job(p, r);
		if (job == NULL)
			continue;
		if (held_add(p, job, r->id, r->attempt, r->uid, now) < 0) {
			char *e = NULL;

			db_jobs_release(p->w->pool, r->id, p->w->owner,
					r->attempt, &e);
			free(e);
			job_free(&job);
			continue;
		}
		jobs[n++] = job;
	}
	db_claim_res_clear(&res);
	claim_done(p);
	if (n > 0)
		p->idle_ms = 0;
	*n_r = n;
	return 0;
}

static unsigned pdb_idle_wait_ms(struct poller *p)
{
	uint64_t now = now_monotonic_ms();

	/* candidates left (busy mailboxes): look again soon */
	for (size_t i = 0; i < p->n_cands; i++)
		if (p->busy_until[i] <= now + BUSY_SKIP_MS)
			return jitter_ms(BUSY_SKIP_MS / 2, 30);
	p->idle_ms = p->idle_ms == 0 ? 200 : p->idle_ms * 2;
	if (p->idle_ms > p->refresh_ms)
		p->idle_ms = p->refresh_ms;
	return jitter_ms(p->idle_ms, 20);
}

static int pdb_exhausted(struct poller *p)
{
	return 0;
}

/* ----------------------------------------------------- create, destroy --- */

static void pdb_destroy(struct poller **pp)
{
	struct poller *p = *pp;

	if (p == NULL)
		return;
	*pp = NULL;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_cond_broadcast(&p->watch_cond);
	pthread_mutex_unlock(&p->lock);
	if (p->hb_started)
		pthread_join(p->hb_thread, NULL);
	if (p->watch_started)
		pthread_join(p->watch_thread, NULL);
	/* last chance for writes that waited for the database */
	retry_pending(p);
	retry_given_up(p);
	free(p->given_up);
	for (size_t i = 0; i < p->n_held; i++) {
		log_job(DMF_LOG_WARN, p->held[i].job,
			"job %" PRId64 " still held at exit: its lease runs "
			"out and it is rescued",
			p->held[i].id);
		free(p->held[i].uid);
		if (p->held[i].pending || p->held[i].lost)
			job_free(&p->held[i].job);
	}
	free(p->held);
	cache_drop(p);
	crypto_keyring_free(&p->ring);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	pthread_cond_destroy(&p->watch_cond);
	db_worker_put(&p->w);
	free(p);
}

/* Read and check the poller's settings (no database access). */
static int pdb_settings(const struct config *cfg, struct poller *p,
			char **error_r)
{
	int ret;

	if ((ret = cfg_uint(cfg, "dmf.worker.jobs.cache.size", 1000, 1000000,
			    &p->cache_size, error_r)) < 0 ||
	    (ret = cfg_ms(cfg, "dmf.worker.jobs.cache.refresh", 5000,
			  &p->refresh_ms, error_r)) < 0 ||
	    (ret = cfg_ms(cfg, "dmf.worker.heartbeat", 10000, &p->heartbeat_ms,
			  error_r)) < 0 ||
	    (ret = cfg_ms(cfg, "dmf.worker.lease", 60000, &p->lease_ms,
			  error_r)) < 0 ||
	    (ret = cfg_uint(cfg, "dmf.worker.rescue.limit", 3, 1000,
			    &p->rescue_limit, error_r)) < 0 ||
	    (ret = cfg_ms(cfg, "dmf.worker.rescue.margin", p->heartbeat_ms,
			  &p->rescue_margin_ms, error_r)) < 0)
		return ret;
	if (p->cache_size == 0)
		p->cache_size = 1;
	if (p->lease_ms < 2 * p->heartbeat_ms) {
		*error_r =
			xasprintf("dmf.worker.lease (%u ms) must be at least "
				  "twice dmf.worker.heartbeat (%u ms)",
				  p->lease_ms, p->heartbeat_ms);
		ret = -EINVAL;
		return ret;
	}
	return 0;
}

int poller_database_check(const struct config *cfg, char **error_r)
{
	struct poller p = { 0 };
	struct crypto_keyring *ring = NULL;
	int ret = pdb_settings(cfg, &p, error_r);

	if (ret < 0)
		return ret;
	ret = crypto_keyring_load(
		cfg_get(cfg->root, "dmf.worker.crypto.storageKeys"), &ring,
		error_r);
	crypto_keyring_free(&ring);
	return ret;
}

static int pdb_create(const struct config *cfg, struct poller **poller_r,
		      char **error_r)
{
	struct poller *p = calloc(1, sizeof(*p));
	unsigned requeued = 0, failed = 0;
	pthread_condattr_t mono;
	int ret;

	if (p == NULL)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_cond_init(&p->watch_cond, &mono);
	pthread_condattr_destroy(&mono);
	if (gethostname(p->host, sizeof(p->host) - 1) < 0)
		p->host[0] = '\0';
	if ((ret = pdb_settings(cfg, p, error_r)) < 0)
		goto fail;
	ret = crypto_keyring_load(
		cfg_get(cfg->root, "dmf.worker.crypto.storageKeys"), &p->ring,
		error_r);
	if (ret < 0)
		goto fail;
	ret = db_worker_get(cfg, &p->w, error_r);
	if (ret < 0)
		goto fail;
	/* a restarted worker makes sure its previous run's commands are gone,
	 * then takes that run's jobs back to the queue */
	ret = db_jobs_recover(p->w->pool, p->w->name, p->w->owner,
			      p->rescue_limit, pdb_reap, p, &requeued, &failed,
			      error_r);
	if (ret < 0)
		goto fail;
	if (requeued > 0 || failed > 0)
		log_warn("%u job(s) of the previous run of %s queued again, %u "
			 "failed (rescue limit)",
			 requeued, p->w->name, failed);
	ret = pthread_create(&p->hb_thread, NULL, heartbeat_main, p);
	if (ret != 0) {
		*error_r = xasprintf("cannot start the heartbeat thread: %s",
				     strerror(ret));
		ret = -ret;
		goto fail;
	}
	p->hb_started = true;
	ret = pthread_create(&p->watch_thread, NULL, watch_main, p);
	if (ret != 0) {
		*error_r = xasprintf("cannot start the lease watchdog: %s",
				     strerror(ret));
		ret = -ret;
		goto fail;
	}
	p->watch_started = true;
	log_info("database poller: backend %s (boot %s), cache %u every %u "
		 "ms, heartbeat %u ms, lease %u ms, rescue margin %u ms",
		 p->w->name, p->w->owner, p->cache_size, p->refresh_ms,
		 p->heartbeat_ms, p->lease_ms, p->rescue_margin_ms);
	*poller_r = p;
	return 0;
fail:
	pdb_destroy(&p);
	return ret;
}

const struct poller_ops poller_database_ops = {
	.name = "database",
	.create = pdb_create,
	.fetch = pdb_fetch,
	.complete = pdb_complete,
	.release = pdb_release,
	.idle_wait_ms = pdb_idle_wait_ms,
	.exhausted = pdb_exhausted,
	.destroy = pdb_destroy,
};
