/* host_exec.c - the exec table: exec.c + command log + redaction. */
#include "dmf-build.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/child_env.h"
#include "exec/cmdlog.h"
#include "exec/command.h"
#include "dmf/plugin.h"
#include "exec/exec.h"
#include "host/host_services.h"
#include "exec/inject.h"
#include "fs/fs_sync.h"
#include "lib/job.h"
#include "lib/log.h"
#include "lib/secret.h"
#include "lib/util.h"

struct job_log {
	const struct dmf_job *job;
	struct cmdlog *log;
	struct job_log *next;
};

static struct cmdlog_settings settings = { .type = CMDLOG_OFF };
static pthread_mutex_t logs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct job_log *logs;
static _Thread_local char error_buf[512];
/* The ABI minor the loaded plugin was built for (set before its init()). */
static unsigned plugin_minor = DMF_ABI_MINOR;

static void warn_unwritable(const struct cmdlog_settings *s)
{
	if (s->type == CMDLOG_FILE && access(s->location, W_OK) < 0)
		log_warn("command log: location %s is not writable (%s): "
			 "command output of jobs will not be kept",
			 s->location, strerror(errno));
}

int host_exec_init(const struct config *cfg, char **error_r)
{
	int ret;

	host_exec_deinit();
	ret = cmdlog_settings_load(cfg != NULL ? cfg->root : NULL, &settings,
				   error_r);
	if (ret < 0)
		return ret;
	ret = child_env_init(cfg, error_r);
	if (ret < 0)
		return ret;
	warn_unwritable(&settings);
	return 0;
}

int host_exec_reload_logging(const struct config *cfg, char **error_r)
{
	struct cmdlog_settings fresh = { .type = CMDLOG_OFF }, old;
	int ret;

	ret = cmdlog_settings_load(cfg != NULL ? cfg->root : NULL, &fresh,
				   error_r);
	if (ret < 0)
		return ret;
	warn_unwritable(&fresh);
	/* command logs open under logs_lock, and copy what they need */
	pthread_mutex_lock(&logs_lock);
	old = settings;
	settings = fresh;
	pthread_mutex_unlock(&logs_lock);
	cmdlog_settings_clear(&old);
	return 0;
}

void host_exec_deinit(void)
{
	pthread_mutex_lock(&logs_lock);
	while (logs != NULL) {
		struct job_log *l = logs;

		logs = l->next;
		cmdlog_close(&l->log, false);
		free(l);
	}
	pthread_mutex_unlock(&logs_lock);
	cmdlog_settings_clear(&settings);
	settings.type = CMDLOG_OFF;
	child_env_deinit();
}

/* The job's command log, opened on first use; NULL when out of memory. */
static struct cmdlog *job_cmdlog(const struct dmf_job *job)
{
	struct job_log *l;
	struct cmdlog *log = NULL;

	pthread_mutex_lock(&logs_lock);
	for (l = logs; l != NULL; l = l->next)
		if (l->job == job)
			break;
	if (l == NULL) {
		l = calloc(1, sizeof(*l));
		if (l != NULL) {
			l->job = job;
			l->log = cmdlog_open(&settings, job);
			if (l->log == NULL) {
				free(l);
				l = NULL;
			} else {
				l->next = logs;
				logs = l;
			}
		}
	}
	if (l != NULL)
		log = l->log;
	pthread_mutex_unlock(&logs_lock);
	return log;
}

void host_exec_job_finish(struct dmf_job *job, bool success)
{
	struct job_log **pp, *found = NULL;

	pthread_mutex_lock(&logs_lock);
	for (pp = &logs; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->job == job) {
			found = *pp;
			*pp = found->next;
			break;
		}
	}
	pthread_mutex_unlock(&logs_lock);
	if (found != NULL) {
		cmdlog_close(&found->log, success);
		free(found);
	}
}

struct run_ctx {
	struct dmf_job *job;
	struct cmdlog *log;
	const char **secrets;
	dmf_exec_line_fn on_line;
	void *line_ctx;
	pid_t pgid; /* the command's process group once started */
};

static bool has_secret(const char *line, size_t len, const char **secrets)
{
	for (size_t i = 0; secrets[i] != NULL; i++) {
		size_t sl = strlen(secrets[i]);

		if (sl >= 4 && memmem(line, len, secrets[i], sl) != NULL)
			return true;
	}
	return false;
}

static void on_line(void *vctx, enum dmf_exec_stream stream, const char *line,
		    size_t len)
{
	struct run_ctx *c = vctx;
	char *clean = NULL;

	if (has_secret(line, len, c->secrets)) {
		clean = inject_redact_values(line, c->secrets);
		line = clean != NULL ? clean : "<hidden>";
		len = strlen(line);
	}
	cmdlog_line(c->log, stream, line, len);
	if (c->on_line != NULL)
		c->on_line(c->line_ctx, stream, line, len);
	free(clean);
}

/* Everything read so far went to on_line: bring the command log up to
 * date (it is buffered). */
static void on_drained(void *vctx)
{
	struct run_ctx *c = vctx;

	cmdlog_flush(c->log);
}

/* The command's process group exists: tell the job's poller (which
 * records it where a restarted worker finds it, and gives the time past
 * which the command must not start: its lease deadline). */
static int on_spawn(void *vctx, pid_t pgid, uint64_t *start_by_r)
{
	struct run_ctx *c = vctx;

	c->pgid = pgid;
	if (c->job == NULL || c->job->on_process == NULL)
		return 0;
	return c->job->on_process(c->job, pgid, true, start_by_r);
}

/* Secret job values and configured secrets: borrowed pointers. */
static const char **run_secrets(const struct dmf_job *job)
{
	const char *const *conf = host_secrets();
	size_t nj = job != NULL ? job->n_props : 0, nc = 0, n = 0;
	const char **s;

	while (conf[nc] != NULL)
		nc++;
	s = calloc(nj + nc + 1, sizeof(*s));

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < nj; i++)
		if ((job->props[i].secret ||
		     strcmp(job->props[i].name, "sourcepasswd") == 0) &&
		    job->props[i].value != NULL)
			s[n++] = job->props[i].value;
	for (size_t i = 0; i < nc; i++)
		s[n++] = conf[i];
	s[n] = NULL;
	return s;
}

static void report_log_error(struct dmf_job *job, struct cmdlog *log)
{
	const char *err = cmdlog_take_new_error(log);
	json_t *o;

	if (err == NULL || job == NULL)
		return;
	log_job(DMF_LOG_WARN, job, "%s (the job goes on)", err);
	o = json_pack("{s:s, s:s?}", "error", err, "file", cmdlog_path(log));
	if (o != NULL) {
		job_add_detail(job, "commandLog", o);
		json_decref(o);
	}
}

void host_exec_set_plugin_minor(unsigned minor)
{
	plugin_minor = minor;
}

/* The ABI 1.3 struct, the first with `size`: the least a plugin may give. */
#define RESULT_MIN_SIZE                                   \
	(offsetof(struct dmf_exec_result, output_bytes) + \
	 sizeof(unsigned long long))

/* Hand `r` to the plugin: never more bytes than its struct has. */
static void give_result(const struct dmf_exec_result *r,
			struct dmf_exec_result *out)
{
	const size_t head = offsetof(struct dmf_exec_result, exit_code);
	size_t n;

	if (plugin_minor < 3) {
		struct dmf_exec_result_1_2 old = {
			.exit_code = r->exit_code,
			.signal = r->signal,
			.timed_out = r->timed_out,
			.aborted = r->aborted,
			.duration_ms = r->duration_ms,
			.output_bytes = r->output_bytes,
		};

		memcpy(out, &old, sizeof(old));
		return;
	}
	n = out->size < sizeof(*r) ? out->size : sizeof(*r);
	memcpy((char *)out + head, (const char *)r + head, n - head);
}

static int h_run(struct dmf_job *job, const char *const *argv,
		 const struct dmf_exec_options *options,
		 struct dmf_exec_result *result_r, const char **error_r)
{
	struct dmf_exec_options o = { 0 };
	struct exec_request req = { 0 };
	struct run_ctx ctx = { .job = job };
	struct dmf_exec_result res = { .exit_code = -1 };
	char *display = NULL, *error = NULL;
	int ret;

	if (options != NULL)
		memcpy(&o, options,
		       options->size < sizeof(o) ? options->size : sizeof(o));
	if (argv == NULL || argv[0] == NULL || result_r == NULL) {
		snprintf(error_buf, sizeof(error_buf), "%s",
			 result_r == NULL ? "no result struct" :
					    "empty command");
		*error_r = error_buf;
		return -EINVAL;
	}
	if (plugin_minor >= 3 && result_r->size < RESULT_MIN_SIZE) {
		snprintf(error_buf, sizeof(error_buf),
			 "struct dmf_exec_result: size %u is smaller than "
			 "the ABI 1.3 struct (%zu): set it to sizeof",
			 (unsigned)result_r->size, (size_t)RESULT_MIN_SIZE);
		*error_r = error_buf;
		return -EINVAL;
	}
	ctx.secrets = run_secrets(job);
	if (ctx.secrets == NULL)
		return -ENOMEM;
	if (o.display != NULL) {
		display = inject_redact_values(o.display, ctx.secrets);
	} else {
		size_t n = 0;
		char *joined;

		while (argv[n] != NULL)
			n++;
		joined = command_join(argv, n);
		if (joined != NULL)
			display = inject_redact_values(joined, ctx.secrets);
		free(joined);
	}
	if (display == NULL) {
		free(ctx.secrets);
		return -ENOMEM;
	}
	if (job != NULL && !(o.flags & DMF_EXEC_NO_COMMAND_LOG))
		ctx.log = job_cmdlog(job);
	ctx.on_line = o.on_line;
	ctx.line_ctx = o.line_ctx;
	log_job(DMF_LOG_DEBUG, job, "running %s: %s",
		o.step != NULL ? o.step : "command", display);
	cmdlog_begin(ctx.log, o.step, display);
	report_log_error(job, ctx.log);

	req.argv = argv;
	req.envp = o.envp;
	req.stdin_data = o.stdin_data;
	req.stdin_len = o.stdin_len;
	req.timeout_ms = o.timeout_ms;
	req.abort_fd = job != NULL ? job->abort_fd : -1;
	req.on_line = on_line;
	req.on_drained = on_drained;
	req.ctx = &ctx;
	req.on_spawn = on_spawn;
	req.spawn_ctx = &ctx;
	ret = exec_run(&req, &res, &error);
	if (ctx.pgid > 0 && job != NULL && job->on_process != NULL)
		job->on_process(job, ctx.pgid, false, NULL);
	if (ret < 0) {
		char *clean = inject_redact_values(error != NULL ? error : "?",
						   ctx.secrets);

		*error_r = error_keep(error_buf, sizeof(error_buf),
				      clean != NULL ?
					      clean :
					      xstrdup("cannot run the command"),
				      ret);
		free(error);
		if (ctx.log != NULL) {
			cmdlog_line(ctx.log, DMF_EXEC_STDERR, error_buf,
				    strlen(error_buf));
			cmdlog_flush(ctx.log);
		}
	} else {
		cmdlog_end(ctx.log, &res);
		log_job(DMF_LOG_DEBUG, job,
			"%s ended: exit %d, signal %d%s%s, %lld ms",
			o.step != NULL ? o.step : "command", res.exit_code,
			res.signal, res.timed_out ? ", timed out" : "",
			res.aborted ? ", aborted" : "", res.duration_ms);
		give_result(&res, result_r);
	}
	report_log_error(job, ctx.log);
	free(display);
	free(ctx.secrets);
	return ret;
}

/* The used paths of one sync_filesystems() call: valid until the next call
 * from the same thread. */
static _Thread_local char fs_paths_buf[16384];

static int h_sync_filesystems(struct dmf_job *job, const char *const *paths,
			      size_t n, unsigned flags,
			      struct dmf_fs_sync_result *results_r,
			      const char **error_r)
{
	int ret;

	ret = fs_sync_paths(paths, n, flags, results_r, fs_paths_buf,
			    sizeof(fs_paths_buf), error_r);
	if (ret == -EINVAL)
		return ret;
	for (size_t i = 0; i < n; i++) {
		const struct dmf_fs_sync_result *r = &results_r[i];

		if (r->error != 0)
			log_job(DMF_LOG_DEBUG, job, "%s %s: %s", r->failed_call,
				r->used_path, strerror(-r->error));
		else if (r->synced)
			log_job(DMF_LOG_DEBUG, job,
				"syncfs %s (%s, dev %llu): %lld ms",
				r->used_path, r->fs_name, r->dev,
				r->duration_ms);
	}
	return ret;
}

static const struct dmf_host_exec exec_table = {
	.size = sizeof(struct dmf_host_exec),
	.run = h_run,
	/* 1.4 */
	.sync_filesystems = h_sync_filesystems,
};

const struct dmf_host_exec *host_exec_table(void)
{
	return &exec_table;
}
