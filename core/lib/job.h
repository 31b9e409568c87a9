/*
 * job.h - one migration job inside the daemon: its properties (the `mdb`
 * values handed to plugins), its abort flag and the result being built.
 *
 * A job is created by a poller, run by one worker thread through the
 * plugin, then handed back to the poller to store the result.  The result
 * fields are written only by the thread running the job; `aborted` may be
 * set from any thread.
 */
#ifndef DMF_CORE_JOB_H
#define DMF_CORE_JOB_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "dmf/host.h"

enum job_progress {
	JOB_PROGRESS_SAVED = 0,
	JOB_PROGRESS_EXPUNGED = 1,
	JOB_PROGRESS_BYTES = 2
};

struct job_property {
	char *name;
	char *value;
	bool secret; /* never logged, shown as <hidden> */
};

struct dmf_job {
	char *id; /* text form of the job id */
	int64_t db_id; /* row id in the Migration Database, 0 for none */
	char *phase; /* "sync" or "cutover" */
	char *source;
	char *target;
	unsigned attempt;

	struct job_property *props;
	size_t n_props;

	/* abort: set once, from any thread; abort_fd is an eventfd that
	 * becomes readable at the same time */
	atomic_bool aborted;
	int abort_fd;

	/* result */
	enum dmf_job_status status;
	char *error;
	json_t *details; /* JSON array of {"operation": {...}} */
	long long counts[DMF_COUNT_MAX_];
	bool count_set[DMF_COUNT_MAX_];
	struct timespec started; /* CLOCK_REALTIME when run() began */
	struct timespec finished; /* CLOCK_REALTIME when run() returned */

	/* live progress (the host's metrics->progress): the running totals
	 * the plugin reported, JOB_PROGRESS_*, -1 = none yet; written by the
	 * job's thread, read by the heartbeat (written to the job's row) */
	atomic_llong progress[3];
	/* what of it was added to the metrics counters (job's thread) */
	long long progress_counted[3];

	void *poller_data; /* owned by the poller that made the job */
	/* Set by the poller that made the job (may be NULL).  The exec host
	 * table calls it on the job's thread once a command of the job has
	 * its process group, before the command runs (started: a negative
	 * errno keeps the command from running; *start_by_r, 0 when called,
	 * may get the CLOCK_MONOTONIC ms past which it must not start, see
	 * exec.h), and once that command has ended and its group was killed
	 * (!started, start_by_r NULL: the value is ignored). */
	int (*on_process)(struct dmf_job *job, pid_t pgid, bool started,
			  uint64_t *start_by_r);
};

/* Allocate a job; NULL on out of memory.  abort_fd is created here. */
struct dmf_job *job_new(const char *id, const char *phase, const char *source,
			const char *target);
/* Free a job (NULL is fine); wipes secret property values first. */
void job_free(struct dmf_job **job);

/* Add or replace a property; 0 or -ENOMEM. */
int job_set_property(struct dmf_job *job, const char *name, const char *value,
		     bool secret);
/* The value of property `name`, or NULL. */
const char *job_get_property(const struct dmf_job *job, const char *name);
bool job_property_is_secret(const struct dmf_job *job, const char *name);

/* Ask the job to stop: sets the flag and wakes abort_fd.  Idempotent. */
void job_abort(struct dmf_job *job);
bool job_is_aborted(const struct dmf_job *job);
/* Sleep up to ms; 0, or -ECANCELED when aborted meanwhile. */
int job_sleep_ms(const struct dmf_job *job, unsigned long long ms);

/* Result building (the response table of the host API uses these). */
void job_set_status(struct dmf_job *job, enum dmf_job_status status);
void job_set_error(struct dmf_job *job, const char *fmt, ...) DMF_PRINTF(2, 3);
/* The same with a va_list (the response table's set_error). */
void job_set_errorv(struct dmf_job *job, const char *fmt, va_list ap)
	DMF_PRINTF(2, 0);
/* Append {"operation": object}; takes a new reference to object. */
int job_add_detail(struct dmf_job *job, const char *operation, json_t *object);
void job_set_count(struct dmf_job *job, enum dmf_count which, long long value);

/* "SUCCESS", "FAILURE" or "NONE". */
const char *job_status_name(enum dmf_job_status status);
/* Name of a count as stored in the result ("syncSaved", ...). */
const char *job_count_name(enum dmf_count which);

#endif /* DMF_CORE_JOB_H */
