/* run.c - one step's command through the exec service (run.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "details.h"
#include "run.h"

struct line_ctx {
	dmf_exec_line_fn fn;
	void *ctx;
	json_t *errors;
};

static void on_line(void *ctx, enum dmf_exec_stream stream, const char *line,
		    size_t len)
{
	struct line_ctx *lc = ctx;

	if (lc->fn != NULL)
		lc->fn(lc->ctx, stream, line, len);
	/* Dovecot's Info/Debug lines on stderr are not errors */
	if (lc->errors != NULL && stream == DMF_EXEC_STDERR &&
	    memmem(line, len, ": Info: ", 8) == NULL &&
	    memmem(line, len, ": Debug: ", 9) == NULL)
		details_error_line(lc->errors, line, len);
}

int dv_run(struct dv_job *dj, struct dv_argv *a, const char *display,
	   const char *step, dmf_exec_line_fn fn, void *ctx, json_t *errors,
	   struct dv_run_result *r)
{
	const struct dmf_host *h = dj->h;
	struct line_ctx lc = { fn, ctx, errors };
	struct dmf_exec_options o = { .size = sizeof(o) };
	struct dmf_exec_result er = { 0 };
	char *const *argv = dv_argv_run(a);
	const char *error = NULL;
	int ret;

	*r = (struct dv_run_result){ .exit_code = -1 };
	if (argv == NULL || argv[0] == NULL)
		return -ENOMEM;
	o.on_line = on_line;
	o.line_ctx = &lc;
	o.display = display;
	o.step = step;
	h->log->log(DMF_LOG_INFO, dj->job, "%s: running %s", step,
		    display != NULL ? display : argv[0]);
	ret = dmf_exec_run(h, dj->job, (const char *const *)argv, &o, &er,
			   &error);
	if (ret < 0) {
		snprintf(r->msg, sizeof(r->msg), "%s",
			 error != NULL ? error : strerror(-ret));
	} else {
		r->started = true;
		r->duration_ms = er.duration_ms;
		r->aborted = er.aborted != 0;
		if (er.aborted)
			snprintf(r->msg, sizeof(r->msg),
				 "aborted (the job was stopped)");
		else if (er.timed_out)
			snprintf(r->msg, sizeof(r->msg), "timed out");
		else if (er.signal != 0) {
			/* as a shell reports it: Dovecot 2.3.19 aborts (134)
			 * on imapc login failures, which code-max: {134: N}
			 * retries */
			r->exit_code = 128 + er.signal;
			snprintf(r->msg, sizeof(r->msg),
				 "killed by signal %d (exit %d)", er.signal,
				 r->exit_code);
		} else {
			r->exit_code = er.exit_code;
		}
		r->success = r->exit_code == 0 && !er.aborted &&
			     !er.timed_out && er.signal == 0;
		if (!r->success && r->msg[0] == '\0')
			snprintf(r->msg, sizeof(r->msg),
				 "exited with status %d", r->exit_code);
	}
	h->log->log(r->success ? DMF_LOG_INFO : DMF_LOG_WARN, dj->job,
		    "%s: %s (%lld ms)", step, r->success ? "ok" : r->msg,
		    r->duration_ms);
	return 0;
}

struct first_line {
	char *text;
};

static void keep_first(void *ctx, enum dmf_exec_stream stream, const char *line,
		       size_t len)
{
	struct first_line *f = ctx;

	if (stream != DMF_EXEC_STDOUT || f->text != NULL || len == 0)
		return;
	f->text = strndup(line, len);
}

int dv_doveadm_value(struct dv_job *dj, const char *const *args,
		     const char *step, bool absolute, json_t *errors,
		     char **value_r)
{
	struct dv_argv a = { 0 };
	struct first_line f = { 0 };
	struct dv_run_result rr;
	char *display;
	int r;

	dv_argv_add(&a, dj->pl->doveadm_path, "doveadm");
	if (dj->pl->config_file != NULL) {
		dv_argv_add(&a, "-c", NULL);
		dv_argv_add(&a, dj->pl->config_file, NULL);
	}
	for (size_t i = 0; args[i] != NULL; i++)
		dv_argv_add(&a, args[i], NULL);
	display = dv_argv_display(&a);
	r = dv_run(dj, &a, display, step, keep_first, &f, errors, &rr);
	if (r == 0 && (!rr.success ||
		       (absolute && (f.text == NULL || f.text[0] != '/')))) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s: %s", display ? display : step,
			 !rr.success ? rr.msg : "no absolute path printed");
		details_error_line(errors, msg, strlen(msg));
		r = -EIO;
	}
	free(display);
	dv_argv_free(&a);
	if (r < 0) {
		free(f.text);
		return r < 0 ? r : -EIO;
	}
	*value_r = f.text;
	return 0;
}
