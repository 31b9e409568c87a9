/*
 * state_config.c - `dmf.worker.state.type: config`: the initial state
 * (dmf.worker.state.initial) and the number of jobs at once
 * (dmf.worker.jobs.max) come from the file and never change.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "state.h"
#include "util.h"

struct state {
	struct worker_state ws;
	unsigned refresh_ms;
};

/* Parse STARTED/STOPPED (also RUNNING/PAUSED, 1/0); 0 or -EINVAL. */
static int parse_initial(const char *text, enum run_state *state_r)
{
	if (strcasecmp(text, "STARTED") == 0 ||
	    strcasecmp(text, "RUNNING") == 0 || strcmp(text, "1") == 0)
		*state_r = RUN_STATE_RUNNING;
	else if (strcasecmp(text, "STOPPED") == 0 ||
		 strcasecmp(text, "PAUSED") == 0 || strcmp(text, "0") == 0)
		*state_r = RUN_STATE_PAUSED;
	else
		return -EINVAL;
	return 0;
}

static int state_config_create(const struct config *cfg, struct state **s_r,
			       char **error_r)
{
	const char *initial, *err;
	long long max, refresh;
	char where[256];
	struct state *s;

	if (cfg_get_string(cfg->root, "dmf.worker.state.initial", "STARTED",
			   &initial, &err) < 0 ||
	    cfg_get_int(cfg->root, "dmf.worker.jobs.max", 10, &max, &err) < 0 ||
	    cfg_get_duration_ms(cfg->root, "dmf.worker.jobs.cache.refresh",
				5000, &refresh, &err) < 0) {
		*error_r = xasprintf("%s", err);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	if (parse_initial(initial, &s->ws.state) < 0) {
		*error_r = xasprintf(
			"%s: key 'dmf.worker.state.initial': expected STARTED "
			"or STOPPED, got '%s'",
			cfg_origin(cfg_get(cfg->root, "dmf.worker.state.initial"),
				   where, sizeof(where)),
			initial);
		free(s);
		return -EINVAL;
	}
	if (max < 1 || max > 100000) {
		*error_r = xasprintf(
			"%s: key 'dmf.worker.jobs.max': must be 1 to 100000, "
			"got %lld",
			cfg_origin(cfg_get(cfg->root, "dmf.worker.jobs.max"),
				   where, sizeof(where)),
			max);
		free(s);
		return -EINVAL;
	}
	s->ws.max_jobs = (unsigned)max;
	s->refresh_ms = refresh > 0 && refresh < 3600000 ? (unsigned)refresh
							 : 5000;
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
