/*
 * simulator.c - the `simulator` job worker (spec 7.1.2): does nothing but
 * sleep a random time, 1 to 10 seconds inclusive by default, and report
 * success.  The bounds can be changed for tests and benchmarks:
 *
 *   dmf.simulator.min-sleep: 1s     (durations: 0, 250ms, 5s, PT1S, ...)
 *   dmf.simulator.max-sleep: 10s
 *
 * An aborted job stops sleeping at once and is given back.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "dmf/plugin.h"

struct simulator {
	const struct dmf_host *host;
	long long min_ms;
	long long max_ms;
};

static int sim_init(const struct dmf_host *host, void **ctx_r,
		    const char **error_r)
{
	const struct dmf_host_config *c = host->config;
	const struct dmf_conf *root = c->plugin_root();
	struct simulator *sim;
	long long min_ms, max_ms;

	if (c->get_duration_ms(root, "min-sleep", 1000, &min_ms, error_r) < 0 ||
	    c->get_duration_ms(root, "max-sleep", 10000, &max_ms, error_r) < 0)
		return -EINVAL;
	if (min_ms < 0 || max_ms < min_ms) {
		*error_r = "dmf.simulator: min-sleep must be >= 0 and "
			   "max-sleep >= min-sleep";
		return -EINVAL;
	}
	sim = calloc(1, sizeof(*sim));
	if (sim == NULL) {
		*error_r = "out of memory";
		return -ENOMEM;
	}
	sim->host = host;
	sim->min_ms = min_ms;
	sim->max_ms = max_ms;
	*ctx_r = sim;
	return 0;
}

static long long pick_ms(const struct simulator *sim)
{
	unsigned long long r = 0;
	unsigned long long span =
		(unsigned long long)(sim->max_ms - sim->min_ms);

	if (span == 0)
		return sim->min_ms;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned long long)rand();
	/* inclusive of both bounds */
	return sim->min_ms + (long long)(r % (span + 1));
}

static int sim_run(void *ctx, struct dmf_job *job)
{
	struct simulator *sim = ctx;
	const struct dmf_host *h = sim->host;
	long long ms = pick_ms(sim);
	char details[128];

	h->log->log(DMF_LOG_DEBUG, job, "simulating work for %lld ms", ms);
	if (h->job->sleep_ms(job, (unsigned long long)ms) < 0) {
		h->response->set_error(job, "aborted while simulating");
		h->response->set_status(job, DMF_STATUS_FAILURE);
		return 0;
	}
	snprintf(details, sizeof(details),
		 "{\"success\": true, \"sleptMs\": %lld, \"errors\": []}", ms);
	if (h->response->add_detail(job, "simulation", details) < 0)
		return -EINVAL;
	h->response->set_status(job, DMF_STATUS_SUCCESS);
	return 0;
}

static void sim_fini(void *ctx)
{
	free(ctx);
}

DMF_PLUGIN_DEFINE("simulator", PACKAGE_VERSION, sim_init, sim_run, sim_fini);
