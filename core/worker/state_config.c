/*
 * state_config.c - `dmf.worker.state.type: config`: the initial state
 * (dmf.worker.state.initial) and the number of jobs at once
 * (dmf.worker.jobs.max) come from the file and never change.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>

#include "worker/state.h"
#include "lib/util.h"

struct state {
	struct worker_state ws;
	unsigned refresh_ms;
};

static int state_config_create(const struct config *cfg, struct state **s_r,
			       char **error_r)
{
	const char *err;
	long long refresh;
	unsigned max_jobs;
	bool started;
	struct state *s;

	if (state_read_file(cfg, &started, &max_jobs, error_r) < 0)
		return -EINVAL;
	if (cfg_get_duration_ms(cfg->root, "dmf.worker.jobs.cache.refresh",
				5000, &refresh, &err) < 0) {
		*error_r = xasprintf("%s", err);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->ws.state = started ? RUN_STATE_RUNNING : RUN_STATE_PAUSED;
	s->ws.max_jobs = max_jobs;
	s->refresh_ms =
		refresh > 0 && refresh < 3600000 ? (unsigned)refresh : 5000;
	*s_r = s;
	return 0;
}

static int state_config_refresh(struct state *s, unsigned running,
				struct worker_state *ws_r)
{
	*ws_r = s->ws;
	return 0;
}

static unsigned state_config_refresh_ms(struct state *s)
{
	return s->refresh_ms;
}

static void state_config_shutdown(struct state *s)
{
}

static void state_config_destroy(struct state **s)
{
	if (s == NULL)
		return;
	free(*s);
	*s = NULL;
}

const struct state_ops state_config_ops = {
	.name = "config",
	.create = state_config_create,
	.refresh = state_config_refresh,
	.refresh_ms = state_config_refresh_ms,
	.shutdown = state_config_shutdown,
	.destroy = state_config_destroy,
};
