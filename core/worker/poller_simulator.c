/*
 * poller_simulator.c - `dmf.worker.poller.type: simulator`: makes up jobs
 * instead of claiming them from the Migration Database.
 *
 *   dmf.worker.poller.simulator.max-jobs     jobs made per poll (default 5)
 *   dmf.worker.poller.simulator.max-wait-ms  pause after each batch, a
 *                                            random 0..max-wait-ms (default 0)
 *   dmf.worker.poller.simulator.limit        total jobs, 0 = no end (ours)
 *
 * Jobs are phase `sync`, source = the first of dmf.worker.sources, user
 * `sim-user-N`.  Results are only logged.
 */
#include "dmf-build.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/job.h"
#include "lib/log.h"
#include "worker/poller.h"
#include "lib/util.h"

struct poller {
	unsigned max_jobs;
	unsigned max_wait_ms;
	unsigned long long limit;
	char *source;
	char *target;

	unsigned long long made;
	uint64_t next_at; /* monotonic ms before which no batch is made */
	pthread_mutex_t lock;
	unsigned long long succeeded, failed, released;
};

static int sim_create(const struct config *cfg, struct poller **p_r,
		      char **error_r)
{
	long long max_jobs, max_wait, limit;
	const char *target, *err;
	char **sources = NULL;
	struct poller *p;

	if (cfg_get_int(cfg->root, "dmf.worker.poller.simulator.max-jobs", 5,
			&max_jobs, &err) < 0 ||
	    cfg_get_int(cfg->root, "dmf.worker.poller.simulator.max-wait-ms", 0,
			&max_wait, &err) < 0 ||
	    cfg_get_int(cfg->root, "dmf.worker.poller.simulator.limit", 0,
			&limit, &err) < 0 ||
	    cfg_get_string(cfg->root, "dmf.worker.identity.target", "default",
			   &target, &err) < 0 ||
	    cfg_get_strv(cfg->root, "dmf.worker.sources", &sources, &err) < 0) {
		*error_r = xasprintf("%s", err);
		return -EINVAL;
	}
	if (max_jobs < 1 || max_wait < 0 || limit < 0) {
		cfg_strv_free(&sources);
		*error_r = xasprintf(
			"dmf.worker.poller.simulator: max-jobs must be >= 1, "
			"max-wait-ms and limit >= 0");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		cfg_strv_free(&sources);
		return -ENOMEM;
	}
	p->max_jobs = (unsigned)max_jobs;
	p->max_wait_ms = (unsigned)max_wait;
	p->limit = (unsigned long long)limit;
	p->source = xstrdup(sources != NULL && sources[0] != NULL ? sources[0] :
								    "default");
	p->target = xstrdup(target);
	cfg_strv_free(&sources);
	pthread_mutex_init(&p->lock, NULL);
	*p_r = p;
	return 0;
}

static int sim_fetch(struct poller *p, size_t want, struct dmf_job **jobs,
		     size_t *n_r)
{
	size_t n = 0;

	*n_r = 0;
	if (now_monotonic_ms() < p->next_at)
		return 0;
	if (want > p->max_jobs)
		want = p->max_jobs;
	while (n < want && (p->limit == 0 || p->made < p->limit)) {
		char id[32], uid[48];
		struct dmf_job *job;

		snprintf(id, sizeof(id), "sim-%llu", p->made + 1);
		snprintf(uid, sizeof(uid), "sim-user-%llu", p->made + 1);
		job = job_new(id, "sync", p->source, p->target);
		if (job == NULL ||
		    job_set_property(job, "uid", uid, false) < 0 ||
		    job_set_property(job, "ruid", uid, false) < 0 ||
		    job_set_property(job, "source", p->source, false) < 0) {
			job_free(&job);
			break;
		}
		jobs[n++] = job;
		p->made++;
	}
	if (n > 0 && p->max_wait_ms > 0)
		p->next_at =
			now_monotonic_ms() + random_between(0, p->max_wait_ms);
	*n_r = n;
	return n == 0 && want > 0 && p->limit == 0 ? -ENOMEM : 0;
}

static void sim_complete(struct poller *p, struct dmf_job *job)
{
	pthread_mutex_lock(&p->lock);
	if (job->status == DMF_STATUS_SUCCESS)
		p->succeeded++;
	else
		p->failed++;
	pthread_mutex_unlock(&p->lock);
	job_free(&job);
}

static void sim_release(struct poller *p, struct dmf_job *job)
{
	pthread_mutex_lock(&p->lock);
	p->released++;
	pthread_mutex_unlock(&p->lock);
	job_free(&job);
}

static unsigned sim_idle_wait_ms(struct poller *p)
{
	uint64_t now = now_monotonic_ms();

	if (p->limit != 0 && p->made >= p->limit)
		return 60000; /* only finishing jobs wake the dispatcher */
	if (p->next_at > now)
		return (unsigned)(p->next_at - now);
	return 0;
}

static int sim_exhausted(struct poller *p)
{
	return p->limit != 0 && p->made >= p->limit;
}

static void sim_destroy(struct poller **pp)
{
	struct poller *p;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	*pp = NULL;
	log_info("simulator poller: %llu jobs made, %llu succeeded, %llu "
		 "failed, %llu not finished",
		 p->made, p->succeeded, p->failed, p->released);
	pthread_mutex_destroy(&p->lock);
	free(p->source);
	free(p->target);
	free(p);
}

const struct poller_ops poller_simulator_ops = {
	.name = "simulator",
	.create = sim_create,
	.fetch = sim_fetch,
	.complete = sim_complete,
	.release = sim_release,
	.idle_wait_ms = sim_idle_wait_ms,
	.exhausted = sim_exhausted,
	.destroy = sim_destroy,
};
