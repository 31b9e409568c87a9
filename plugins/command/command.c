/*
 * command.c - the `command` job worker (spec 7.1.3): runs the configured
 * migration command of the job's phase, with property injection, and
 * nothing more.  The command is not converted to doveadm form and, as the
 * spec says, passwords in it are not hidden in the job's details (set
 * `hide-passwords: true` to hide them anyway); the worker log only ever
 * shows the redacted form.
 *
 *   dmf:
 *     command:
 *       hide-passwords: false        # details show the command as run
 *       source:                      # or `sources:`
 *         default:                   # a source name, or `default`
 *           timeout: 0               # kill the command after this; 0 = none
 *           imapc: {host: .., port: .., prefix: .., master-user: ..,
 *                   master-password: ..}          # for %{conf:imapc_*}
 *           command:
 *             inject: {name: value}  # for %{conf:name}
 *             sync:
 *               sync: {name: .., flags: .., options: .., arguments: ..,
 *                      sub-command: ..}
 *             cutover:
 *               sync: {...}
 *
 * Details: {"command": {"command": "...", "exitCode": N, "success": B,
 * "errors": ["stderr line", ...]}}.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmf/plugin.h"
#include "dmf/text.h" /* string buffer, JSON strings */

#define MAX_ERRORS 20
#define MAX_ERROR_LEN 1024

struct command_worker {
	const struct dmf_host *host;
	int hide_passwords;
};

/* Shell-like display of argv as run (nothing hidden). */
static void add_argv(struct dmf_strbuf *t, char *const *argv)
{
	for (size_t i = 0; argv[i] != NULL; i++) {
		const char *a = argv[i];
		bool plain = *a != '\0';

		for (const char *c = a; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') ||
			      (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') ||
			      strchr("_@%+=:,./-", *c) != NULL))
				plain = false;
		if (i > 0)
			dmf_strbuf_adds(t, " ");
		if (plain) {
			dmf_strbuf_adds(t, a);
			continue;
		}
		dmf_strbuf_adds(t, "'");
		for (const char *c = a; *c; c++) {
			if (*c == '\'')
				dmf_strbuf_adds(t, "'\\''");
			else
				dmf_strbuf_add(t, c, 1);
		}
		dmf_strbuf_adds(t, "'");
	}
}

/* --- the worker --- */

struct run_state {
	char *errors[MAX_ERRORS];
	size_t n_errors;
	unsigned long long more_errors;
};

static void on_line(void *ctx, enum dmf_exec_stream stream, const char *line,
		    size_t len)
{
	struct run_state *st = ctx;

	if (stream != DMF_EXEC_STDERR || len == 0)
		return;
	if (st->n_errors == MAX_ERRORS) {
		st->more_errors++;
		return;
	}
	st->errors[st->n_errors] =
		strndup(line, len > MAX_ERROR_LEN ? MAX_ERROR_LEN : len);
	if (st->errors[st->n_errors] != NULL)
		st->n_errors++;
}

static int cmd_init(const struct dmf_host *host, void **ctx_r,
		    const char **error_r)
{
	const struct dmf_host_config *c = host->config;
	const struct dmf_conf *root;
	struct command_worker *w;
	int hide = 0;

	if (!DMF_HAS(struct dmf_host, host, inject) || host->exec == NULL ||
	    host->inject == NULL) {
		*error_r = "the daemon offers no exec/inject services (ABI "
			   "1.1 needed)";
		return -ENOTSUP;
	}
	root = c->plugin_root();
	if (c->get_bool(root, "hide-passwords", 0, &hide, error_r) < 0)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		*error_r = "out of memory";
		return -ENOMEM;
	}
	w->host = host;
	w->hide_passwords = hide;
	*ctx_r = w;
	return 0;
}

static void fail_config(struct command_worker *w, struct dmf_job *job,
			const char *msg)
{
	const struct dmf_host *h = w->host;
	struct dmf_strbuf d = DMF_STRBUF_INIT;

	h->log->log(DMF_LOG_ERROR, job, "configuration error: %s", msg);
	h->response->set_status(job, DMF_STATUS_FAILURE);
	h->response->set_error(job, "configuration error: %s", msg);
	dmf_strbuf_adds(&d,
			"{\"command\":null,\"exitCode\":-1,\"success\":false,"
			"\"errors\":[");
	dmf_strbuf_add_json_string(&d, msg, strlen(msg));
	dmf_strbuf_adds(&d, "]}");
	if (!d.failed)
		h->response->add_detail(job, "command", d.p);
	dmf_strbuf_free(&d);
}

static int cmd_run(void *ctx, struct dmf_job *job)
{
	struct command_worker *w = ctx;
	const struct dmf_host *h = w->host;
	const struct dmf_host_config *c = h->config;
	const char *phase = h->job->phase(job), *source = h->job->source(job);
	const char *error = NULL;
	const struct dmf_conf *src, *def;
	struct dmf_command *cmd = NULL;
	struct dmf_exec_options o = { .size = sizeof(o) };
	struct dmf_exec_result r = { 0 };
	struct run_state st = { 0 };
	/* the details may hold the command as run, passwords included */
	struct dmf_strbuf d = { .wipe = dmf_host_wipe(h) };
	long long timeout = 0;
	char path[96], msg[512];
	bool success;
	int ret;

	src = c->source(source);
	if (src == NULL) {
		snprintf(msg, sizeof(msg),
			 "no dmf.command.source block for source '%s' and no "
			 "default",
			 source);
		fail_config(w, job, msg);
		return 0;
	}
	snprintf(path, sizeof(path), "command.%s.sync", phase);
	def = c->get(src, path);
	if (def == NULL || c->kind(def) == DMF_CONF_NULL) {
		snprintf(msg, sizeof(msg),
			 "no migration command for phase '%s' of source '%s' "
			 "(dmf.command.source.<source>.%s)",
			 phase, source, path);
		fail_config(w, job, msg);
		return 0;
	}
	if (c->get_duration_ms(src, "timeout", 0, &timeout, &error) < 0) {
		fail_config(w, job, error);
		return 0;
	}
	if (h->inject->build(job, src, def, &cmd, &error) < 0) {
		fail_config(w, job, error);
		return 0;
	}
	h->log->log(DMF_LOG_INFO, job, "running migration command: %s",
		    cmd->display);
	o.timeout_ms = timeout;
	o.on_line = on_line;
	o.line_ctx = &st;
	o.display = cmd->display;
	o.step = "sync";
	ret = dmf_exec_run(h, job, (const char *const *)cmd->argv, &o, &r,
			   &error);

	if (ret < 0) {
		success = false;
		snprintf(msg, sizeof(msg), "%s", error);
		r.exit_code = -1;
	} else if (r.aborted) {
		success = false;
		snprintf(msg, sizeof(msg),
			 "migration command aborted (job "
			 "stopped)");
	} else if (r.timed_out) {
		success = false;
		snprintf(msg, sizeof(msg),
			 "migration command timed out after %lld ms", timeout);
	} else if (r.signal != 0) {
		success = false;
		snprintf(msg, sizeof(msg),
			 "migration command killed by signal %d", r.signal);
	} else {
		success = r.exit_code == 0;
		snprintf(msg, sizeof(msg),
			 "migration command exited with status %d",
			 r.exit_code);
	}
	h->log->log(success ? DMF_LOG_INFO : DMF_LOG_WARN, job, "%s (%lld ms)",
		    msg, r.duration_ms);

	dmf_strbuf_adds(&d, "{\"command\":");
	if (w->hide_passwords) {
		dmf_strbuf_add_json_string(&d, cmd->display,
					   strlen(cmd->display));
	} else {
		struct dmf_strbuf as_run = { .wipe = d.wipe };

		add_argv(&as_run, cmd->argv);
		if (as_run.failed)
			d.failed = 1;
		else
			dmf_strbuf_add_json_string(&d, as_run.p, as_run.len);
		dmf_strbuf_free(&as_run);
	}
	snprintf(path, sizeof(path), ",\"exitCode\":%d,\"success\":%s",
		 r.exit_code, success ? "true" : "false");
	dmf_strbuf_adds(&d, path);
	dmf_strbuf_adds(&d, ",\"errors\":[");
	for (size_t i = 0; i < st.n_errors; i++) {
		if (i > 0)
			dmf_strbuf_adds(&d, ",");
		dmf_strbuf_add_json_string(&d, st.errors[i],
					   strlen(st.errors[i]));
		free(st.errors[i]);
	}
	if (!success && st.n_errors == 0) {
		dmf_strbuf_add_json_string(&d, msg, strlen(msg));
	} else if (st.more_errors > 0) {
		snprintf(path, sizeof(path), ",\"... %llu more lines\"",
			 st.more_errors);
		dmf_strbuf_adds(&d, path);
	}
	dmf_strbuf_adds(&d, "]}");
	if (!d.failed)
		h->response->add_detail(job, "command", d.p);
	dmf_strbuf_free(&d);
	h->inject->command_free(&cmd);
	h->response->set_status(job, success ? DMF_STATUS_SUCCESS :
					       DMF_STATUS_FAILURE);
	if (!success)
		h->response->set_error(job, "%s", msg);
	return 0;
}

static void cmd_fini(void *ctx)
{
	free(ctx);
}

DMF_PLUGIN_DEFINE("command", "1.0.0", cmd_init, cmd_run, cmd_fini);
