/*
 * dispatcher.h - the main loop: follow the state, claim jobs from the
 * poller while there are free slots, run each through the plugin on the
 * executor, hand results back, and stop cleanly.
 *
 * Stopping (SIGTERM/SIGINT, or the state saying STOPPING): no more claims;
 * running jobs get `termination_ms` to finish; then they are aborted and
 * given back to the poller (release), state->shutdown() is called and
 * dispatcher_run() returns.  A second signal aborts at once.
 */
#ifndef DMF_CORE_DISPATCHER_H
#define DMF_CORE_DISPATCHER_H

#include <stdbool.h>

#include "worker/executor.h"
#include "host/plugin_loader.h"
#include "worker/poller.h"
#include "worker/state.h"

struct dispatcher_params {
	struct plugin *plugin;
	const struct poller_ops *poller_ops;
	struct poller *poller;
	const struct state_ops *state_ops;
	struct state *state;
	struct executor *executor;
	unsigned termination_ms;
	/* signalfd for SIGTERM, SIGINT and SIGHUP (signals.h), or -1 */
	int signal_fd;
	/* SIGHUP: called on the dispatcher's thread (NULL: only logged) */
	void (*reload)(void *ctx);
	void *reload_ctx;
};

/* Run until stopped; returns 0, or a negative errno on a fatal error. */
int dispatcher_run(const struct dispatcher_params *params);

/* Jobs running now (for health and metrics). */
unsigned dispatcher_running(void);

#endif /* DMF_CORE_DISPATCHER_H */
