/* poller.c - the table of job pollers (dmf.worker.poller.type). */
#include "dmf-build.h"

#include <string.h>

#include "worker/poller.h"

static const struct poller_ops *const pollers[] = {
	&poller_simulator_ops,
	&poller_database_ops,
};

const struct poller_ops *poller_find(const char *type)
{
	for (size_t i = 0; i < sizeof(pollers) / sizeof(pollers[0]); i++)
		if (type != NULL && strcmp(pollers[i]->name, type) == 0)
			return pollers[i];
	return NULL;
}
