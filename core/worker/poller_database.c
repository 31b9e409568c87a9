/*
 * poller_database.c - jobs from the Migration Database: the row-to-job
 * adapter.
 *
 * The job cache holds up to dmf.worker.jobs.cache.size candidate ids of
 * the target's QUEUED jobs for the served sources, ordered by priority,
 * then submission; it is reloaded every jobs.cache.refresh, when it runs
 * dry, or when the sources change.  fetch() claims among the first
 * candidates (db_jobs_claim: SKIP LOCKED, one running job per mailbox
 * enforced by the database).  Candidates whose mailbox is busy are skipped
 * for a moment.  A claimed row becomes a job (its %{mdb:..} properties from
 * core/lib/mdb.c, its password unwrapped) or fails alone with its reason.
 *
 * What happens to a job once held (heartbeat, lease watchdog, result
 * write-back, process groups) is lease.c.
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
#include "db/db_worker.h"
#include "host/host_services.h"
#include "lib/job.h"
#include "lib/log.h"
#include "lib/mdb.h"
#include "lib/util.h"
#include "metrics/metrics_worker.h"
#include "worker/lease.h"
#include "worker/poller_database.h"

#define BUSY_SKIP_MS 200u

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

char *pdb_row_problem(const struct db_job_row *r)
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

static int set_props(struct crypto_keyring *ring, struct dmf_job *job,
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
		ret = crypto_unwrap(ring, r->password_key, r->password_iv,
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

struct dmf_job *pdb_row_to_job(struct crypto_keyring *ring,
			       const struct db_job_row *r, char **problem_r)
{
	char id[24], *problem = pdb_row_problem(r);
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
		ret = set_props(ring, job, r, &problem);
		if (ret < 0 && problem == NULL)
			problem = xasprintf("%s", dmf_strerror(ret));
	}
	if (problem == NULL)
		return job;
	job_free(&job);
	*problem_r = problem;
	return NULL;
}

static struct dmf_job *make_job(struct poller *p, struct db_job_row *r)
{
	char id[24], *problem = NULL, *error = NULL;
	struct dmf_job *job = pdb_row_to_job(p->ring, r, &problem);

	if (job != NULL) {
		job->poller_data = p;
		job->on_process = lease_on_process;
		return job;
	}
	snprintf(id, sizeof(id), "%" PRId64, r->id);
	log_warn("job %s cannot be run: %s", id, problem);
	metrics_job_bad_row(r->source, r->phase);
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
	uids = lease_held_uids(p);
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
		if (lease_hold(p, job, r->id, r->attempt, r->uid,
			       res.leased_ms > now ? res.leased_ms : now) < 0) {
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
	lease_retry_pending(p);
	lease_retry_given_up(p);
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
	p->ring = NULL; /* the host's */
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
	/* the storage keys the host loaded for the plugins' crypto table:
	 * one keyring per process */
	p->ring = host_crypto_keyring();
	if (p->ring == NULL) {
		*error_r =
			xstrdup("the database poller needs the host's storage "
				"keys (host_init first)");
		ret = -EINVAL;
		goto fail;
	}
	ret = db_worker_get(cfg, &p->w, error_r);
	if (ret < 0)
		goto fail;
	/* a restarted worker makes sure its previous run's commands are gone,
	 * then takes that run's jobs back to the queue */
	ret = db_jobs_recover(p->w->pool, p->w->name, p->w->owner,
			      p->rescue_limit, lease_reap, p, &requeued,
			      &failed, error_r);
	if (ret < 0)
		goto fail;
	metrics_jobs_rescued(requeued, failed);
	if (requeued > 0 || failed > 0)
		log_warn("%u job(s) of the previous run of %s queued again, %u "
			 "failed (rescue limit)",
			 requeued, p->w->name, failed);
	ret = pthread_create(&p->hb_thread, NULL, lease_heartbeat_main, p);
	if (ret != 0) {
		*error_r = xasprintf("cannot start the heartbeat thread: %s",
				     strerror(ret));
		ret = -ret;
		goto fail;
	}
	p->hb_started = true;
	ret = pthread_create(&p->watch_thread, NULL, lease_watch_main, p);
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
	.complete = lease_complete,
	.release = lease_release,
	.idle_wait_ms = pdb_idle_wait_ms,
	.exhausted = pdb_exhausted,
	.destroy = pdb_destroy,
};
