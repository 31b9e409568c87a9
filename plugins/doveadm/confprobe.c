/* confprobe.c - the configuration dmf.doveadm.path reads (confprobe.h). */
#include "dmf-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "confprobe.h"
#include "jobconf.h"
#include "run.h"

#define PROBE_LINES 4

/* The first stdout lines of a command. */
struct probe_out {
	char *line[PROBE_LINES];
	size_t n;
};

static void keep_lines(void *ctx, enum dmf_exec_stream stream, const char *line,
		       size_t len)
{
	struct probe_out *o = ctx;

	if (stream != DMF_EXEC_STDOUT || o->n == PROBE_LINES)
		return;
	o->line[o->n] = strndup(line, len);
	if (o->line[o->n] != NULL)
		o->n++;
}

static void probe_out_free(struct probe_out *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->line[i]);
	o->n = 0;
}

char *confprobe_parse_header(const char *line)
{
	const char *p;
	size_t len;

	/* "# 2.3.19.1 (9b53102964): /etc/dovecot/dovecot.conf" */
	if (line == NULL || strncmp(line, "# ", 2) != 0)
		return NULL;
	p = strstr(line, "): /");
	if (p == NULL)
		return NULL;
	p += 3;
	len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r'))
		len--;
	return len > 0 ? strndup(p, len) : NULL;
}

/* Run `PATH [-c conf] config ARGS...`; its first stdout lines in *o. */
static int probe_run(struct dv_plugin *pl, const char *conf,
		     const char *const *args, struct probe_out *o,
		     char **error_r)
{
	struct dv_job dj = { .pl = pl, .h = pl->host };
	struct dv_argv a = { 0 };
	struct dv_run_result rr;
	char *display;
	int r;

	dv_argv_add(&a, pl->doveadm_path, NULL);
	if (conf != NULL) {
		dv_argv_add(&a, "-c", NULL);
		dv_argv_add(&a, conf, NULL);
	}
	dv_argv_add(&a, "config", NULL);
	for (size_t i = 0; args[i] != NULL; i++)
		dv_argv_add(&a, args[i], NULL);
	display = dv_argv_display(&a);
	r = dv_run(&dj, &a, display, "config-check", keep_lines, o, NULL, &rr);
	if (r == 0 && !rr.success) {
		if (asprintf(error_r, "'%s' failed: %s",
			     display != NULL ? display : pl->doveadm_path,
			     rr.msg) < 0)
			*error_r = NULL;
		r = -EIO;
	}
	free(display);
	dv_argv_free(&a);
	return r;
}

static void random_marker(char *buf, size_t size)
{
	unsigned char raw[8] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw))
			memset(raw, 0, sizeof(raw));
		close(fd);
	}
	snprintf(buf, size, "dmf-probe-%d-%02x%02x%02x%02x%02x%02x%02x%02x",
		 (int)getpid(), raw[0], raw[1], raw[2], raw[3], raw[4], raw[5],
		 raw[6], raw[7]);
}

/* pl->include: config-file, else what `PATH config -n` names. */
static int find_include(struct dv_plugin *pl, char **error_r)
{
	static const char *const args[] = { "-n", NULL };
	struct probe_out o = { 0 };
	int r;

	if (pl->config_file != NULL) {
		pl->include = strdup(pl->config_file);
		return pl->include != NULL ? 0 : -ENOMEM;
	}
	r = probe_run(pl, NULL, args, &o, error_r);
	if (r == 0) {
		pl->include =
			confprobe_parse_header(o.n > 0 ? o.line[0] : NULL);
		if (pl->include == NULL) {
			if (asprintf(error_r,
				     "'%s config -n' names no configuration "
				     "file on its first line (%s); set "
				     "dmf.doveadm.config-file",
				     pl->doveadm_path,
				     o.n > 0 ? o.line[0] : "no output") < 0)
				*error_r = NULL;
			r = -EINVAL;
		}
	}
	probe_out_free(&o);
	return r;
}

int confprobe_check(struct dv_plugin *pl, char **error_r)
{
	static const char *const plain_args[] = { "-h", "base_dir", NULL };
	static const char *const job_args[] = { "-h", "base_dir", "imapc_host",
						NULL };
	struct probe_out plain = { 0 }, job = { 0 };
	struct jobconf_setting set[1];
	char marker[64], *file = NULL;
	int r;

	*error_r = NULL;
	r = find_include(pl, error_r);
	if (r < 0)
		return r;
	random_marker(marker, sizeof(marker));
	set[0] = (struct jobconf_setting){ "imapc_host", marker };
	r = jobconf_write(pl->runtime_dir, "startcheck", pl->include, set, 1,
			  &file, error_r);
	if (r == 0)
		r = probe_run(pl, pl->config_file, plain_args, &plain, error_r);
	if (r == 0)
		r = probe_run(pl, file, job_args, &job, error_r);
	jobconf_remove(&file);
	if (r == 0 && (job.n < 2 || strcmp(job.line[1], marker) != 0)) {
		if (asprintf(error_r,
			     "dmf.doveadm.path %s does not read the per-job "
			     "configuration it is given with -c (a setting "
			     "in it did not come back); a wrapper must pass "
			     "its arguments on after its own -c",
			     pl->doveadm_path) < 0)
			*error_r = NULL;
		r = -EINVAL;
	} else if (r == 0 &&
		   (plain.n < 1 || strcmp(plain.line[0], job.line[0]) != 0)) {
		if (asprintf(error_r,
			     "dmf.doveadm.path %s and the per-job "
			     "configuration (including %s) reach different "
			     "Dovecots (base_dir %s and %s); set "
			     "dmf.doveadm.config-file to the configuration "
			     "the path uses",
			     pl->doveadm_path, pl->include,
			     plain.n > 0 ? plain.line[0] : "(none)",
			     job.line[0]) < 0)
			*error_r = NULL;
		r = -EINVAL;
	}
	probe_out_free(&plain);
	probe_out_free(&job);
	return r;
}
