/* state.c - the table of worker state types (dmf.worker.state.type). */
#include "dmf-build.h"

#include <string.h>

#include "state.h"

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
