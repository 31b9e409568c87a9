/*
 * state.h - the worker's run state: whether it claims jobs, how many at a
 * time, and whether it has been told to stop.
 *
 * `config` state (state_config.c) takes the initial state and jobs.max from
 * the file and never changes them; `database` state registers the backend
 * in the Migration Database and follows its admin commands.
 */
#ifndef DMF_CORE_STATE_H
#define DMF_CORE_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/config.h"

enum run_state {
	RUN_STATE_PAUSED = 0, /* registered, not claiming */
	RUN_STATE_RUNNING = 1, /* claiming jobs */
	RUN_STATE_STOPPING = 2 /* draining, then exit */
};

struct worker_state {
	enum run_state state;
	unsigned max_jobs; /* jobs at once */
};

struct state;

struct state_ops {
	const char *name; /* dmf.worker.state.type */
	int (*create)(const struct config *cfg, struct state **state_r,
		      char **error_r);
	/*
	 * Refresh and return the current desired state.  `running` is the
	 * number of jobs running now, reported back where the state is
	 * shared.  Called by the dispatcher at least once per refresh period.
	 * Returns 0, or a negative errno when the state could not be read
	 * (the previous state stays in force).
	 */
	int (*refresh)(struct state *s, unsigned running,
		       struct worker_state *ws_r);
	/* How often refresh() should be called, in milliseconds. */
	unsigned (*refresh_ms)(struct state *s);
	/* The worker is exiting; record that. */
	void (*shutdown)(struct state *s);
	void (*destroy)(struct state **s);
};

const struct state_ops *state_find(const char *type);

/*
 * The file's part of the state, shared by every state type:
 * dmf.worker.state.initial (STARTED or STOPPED) and dmf.worker.jobs.max
 * (1 to 100000).  0, or -EINVAL with *error_r (allocated) naming
 * file:line:column and key.
 */
int state_read_file(const struct config *cfg, bool *started_r,
		    unsigned *max_jobs_r, char **error_r);

extern const struct state_ops state_config_ops;
extern const struct state_ops state_database_ops;

#endif /* DMF_CORE_STATE_H */
