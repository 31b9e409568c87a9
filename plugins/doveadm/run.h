/*
 * run.h - run one step's command through the host's exec service, feeding
 * its output lines to a callback and its stderr lines to the step's
 * errors array.
 */
#ifndef DMF_DOVEADM_RUN_H
#define DMF_DOVEADM_RUN_H

#include <stdbool.h>

#include <jansson.h>

#include "argv.h"
#include "dvjob.h"

struct dv_run_result {
	bool started; /* the command ran */
	int exit_code; /* its exit code; 128 + N when killed by signal N
			   * (as a shell shows it: 134 for SIGABRT); -1 when
			   * it did not run, timed out or was aborted */
	bool success; /* exited 0 */
	bool aborted; /* killed because the job was aborted */
	char msg[256]; /* what went wrong, when not success */
	long long duration_ms;
};

/*
 * Run `a` (display: its display form, shown in the logs and the command
 * log).  `step` names the step for the command log.  Every output line
 * goes to fn(ctx, ...) when fn is set; stderr lines (stdout ones too when
 * `stdout_errors`) are added to `errors` when it is not NULL.  Returns 0
 * (the outcome is in *r), or -ENOMEM when the argv could not be built.
 */
int dv_run(struct dv_job *dj, struct dv_argv *a, const char *display,
	   const char *step, dmf_exec_line_fn fn, void *ctx, json_t *errors,
	   struct dv_run_result *r);

/*
 * Run `doveadm [-c CONF] ARGS...` (args NULL-terminated) and take the first
 * non-empty line it prints: *value_r (free it; NULL when it printed
 * nothing).  With `absolute` the line must be an absolute path.  Failures
 * add a line to `errors` and return -EIO (-ENOMEM).
 */
int dv_doveadm_value(struct dv_job *dj, const char *const *args,
		     const char *step, bool absolute, json_t *errors,
		     char **value_r);

#endif /* DMF_DOVEADM_RUN_H */
