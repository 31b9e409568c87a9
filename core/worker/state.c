/* state.c - the table of worker state types (dmf.worker.state.type). */
#include "dmf-build.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "worker/state.h"
#include "lib/util.h"

static const struct state_ops *const states[] = {
	&state_config_ops,
	&state_database_ops,
};

const struct state_ops *state_find(const char *type)
{
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (type != NULL && strcmp(states[i]->name, type) == 0)
			return states[i];
	return NULL;
}

static int bad_key(const struct config *cfg, const char *key, char **error_r,
		   const char *what)
{
	char where[256];

	*error_r = xasprintf(
		"%s: key '%s': %s",
		cfg_origin(cfg_get(cfg->root, key), where, sizeof(where)), key,
		what);
	return -EINVAL;
}

int state_read_file(const struct config *cfg, bool *started_r,
		    unsigned *max_jobs_r, char **error_r)
{
	const char *initial, *err;
	long long max;

	if (cfg_get_string(cfg->root, "dmf.worker.state.initial", "STARTED",
			   &initial, &err) < 0 ||
	    cfg_get_int(cfg->root, "dmf.worker.jobs.max", 10, &max, &err) < 0) {
		*error_r = xasprintf("%s", err);
		return -EINVAL;
	}
	/* the loader already refuses other values; this keeps the state
	 * types safe when handed a tree built another way */
	if (strcasecmp(initial, "STARTED") != 0 &&
	    strcasecmp(initial, "STOPPED") != 0)
		return bad_key(cfg, "dmf.worker.state.initial", error_r,
			       "expected STARTED or STOPPED");
	if (max < 1 || max > 100000)
		return bad_key(cfg, "dmf.worker.jobs.max", error_r,
			       "must be 1 to 100000");
	*started_r = strcasecmp(initial, "STARTED") == 0;
	*max_jobs_r = (unsigned)max;
	return 0;
}
