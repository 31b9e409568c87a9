/*
 * fail_log.h - a step that keeps failing, logged when it starts failing,
 * then at most once a minute, and once when it works again: the worker
 * state read every heartbeat, the claims, the database at start and the
 * HTTP port, whose every failure logged would flood the log during an
 * outage.
 */
#ifndef DMF_CORE_FAIL_LOG_H
#define DMF_CORE_FAIL_LOG_H

#include <stdbool.h>
#include <stdint.h>

/* A failure is logged at most this often. */
#define FAIL_LOG_EVERY_MS 60000u

struct fail_log {
	uint64_t since_ms, logged_ms; /* 0: not failing, not logged */
	unsigned failures;
};

/* Count a failure at `now` (monotonic ms); true when it is to be logged
 * now: the first one, then one a minute. */
bool fail_log_due(struct fail_log *f, uint64_t now);

/* A success at `now`: true, with the failures counted and how long they
 * lasted in ms, when it ends a run of failures (which is then forgotten);
 * false when nothing failed before it. */
bool fail_log_ended(struct fail_log *f, uint64_t now, unsigned *failures_r,
		    unsigned long long *ms_r);

#endif /* DMF_CORE_FAIL_LOG_H */
