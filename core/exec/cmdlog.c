/* cmdlog.c - the command log: file, worker logger or off. */
#include "dmf-build.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec/cmdlog.h"
#include "lib/job.h"
#include "lib/log.h"
#include "lib/util.h"

#define DEFAULT_FORMAT "%(source)-%(user)-user-migration.log"
#define DEFAULT_LOCATION "/var/log/dmf"

struct cmdlog {
	enum cmdlog_type type;
	bool delete_on_success;
	const struct dmf_job *job;
	int fd;
	char *path;
	char *error;
	bool error_reported;
	/* output waiting for cmdlog_flush(): one write() per round of output
	 * instead of two per line (CMDLOG_BUFFER bytes, allocated on first
	 * use) */
	char *buf;
	size_t buf_len;
};

#define CMDLOG_BUFFER 8192

int cmdlog_settings_load(const struct cfg_node *root,
			 struct cmdlog_settings *settings_r, char **error_r)
{
	const struct cfg_node *base =
		cfg_get(root, "dmf.worker.command.logging");
	const char *type = "file", *format = DEFAULT_FORMAT,
		   *location = DEFAULT_LOCATION, *err = NULL;
	bool del = false;
	struct cmdlog_settings s = { 0 };

	if (cfg_get_string(base, "type", "file", &type, &err) < 0 ||
	    cfg_get_string(base, "file.format", DEFAULT_FORMAT, &format, &err) <
		    0 ||
	    cfg_get_string(base, "file.location", DEFAULT_LOCATION, &location,
			   &err) < 0 ||
	    cfg_get_bool(base, "file.delete-on-success", false, &del, &err) <
		    0) {
		*error_r = xstrdup(err != NULL ? err : "bad command logging");
		return -EINVAL;
	}
	if (strcasecmp(type, "file") == 0) {
		s.type = CMDLOG_FILE;
	} else if (strcasecmp(type, "logger") == 0) {
		s.type = CMDLOG_LOGGER;
	} else if (strcasecmp(type, "off") == 0) {
		s.type = CMDLOG_OFF;
	} else {
		*error_r = xasprintf("dmf.worker.command.logging.type: '%s' is "
				     "not one of file, logger, off",
				     type);
		return -EINVAL;
	}
	if (s.type == CMDLOG_FILE && *format == '\0') {
		*error_r = xstrdup("dmf.worker.command.logging.file.format is "
				   "empty");
		return -EINVAL;
	}
	if (s.type == CMDLOG_FILE) {
		const char *bad = NULL;
		char buf[4096];

		if (cmdlog_file_name(format, "s", "u", "p", "j", "d", buf,
				     sizeof(buf), &bad) == -EINVAL) {
			*error_r = xasprintf(
				"dmf.worker.command.logging.file.format: "
				"unknown specifier '%.20s' (known: %%(source) "
				"%%(user) %%(phase) %%(job) %%(date))",
				bad != NULL ? bad : "?");
			return -EINVAL;
		}
	}
	s.format = xstrdup(format);
	s.location = xstrdup(location);
	s.delete_on_success = del;
	if (s.format == NULL || s.location == NULL) {
		cmdlog_settings_clear(&s);
		*error_r = xstrdup(strerror(ENOMEM));
		return -ENOMEM;
	}
	*settings_r = s;
	return 0;
}

void cmdlog_settings_clear(struct cmdlog_settings *settings)
{
	free(settings->format);
	free(settings->location);
	settings->format = settings->location = NULL;
}

/* Append `v` made safe for a file name component. */
static int put_safe(char **o, char *end, const char *v)
{
	if (v == NULL || *v == '\0')
		v = "unknown";
	for (size_t i = 0; v[i] != '\0'; i++) {
		unsigned char c = (unsigned char)v[i];

		if (*o >= end)
			return -ENOSPC;
		if (c == '/' || c < 0x20 || c == 0x7f || (i == 0 && c == '.'))
			c = '_';
		*(*o)++ = (char)c;
	}
	return 0;
}

int cmdlog_file_name(const char *format, const char *source, const char *user,
		     const char *phase, const char *job_id, const char *date,
		     char *buf, size_t size, const char **bad_r)
{
	static const char *const names[] = { "source", "user", "phase",
					     "job",    "date", NULL };
	const char *values[] = { source, user, phase, job_id, date };
	char *o = buf, *end = buf + size - 1;
	const char *p = format;

	if (size == 0)
		return -ENOSPC;
	while (*p != '\0') {
		if (p[0] == '%' && p[1] == '(') {
			const char *close = strchr(p, ')');
			size_t i;

			for (i = 0; close != NULL && names[i] != NULL; i++) {
				size_t l = strlen(names[i]);

				if ((size_t)(close - p - 2) == l &&
				    strncmp(p + 2, names[i], l) == 0)
					break;
			}
			if (close == NULL || names[i] == NULL) {
				if (bad_r != NULL)
					*bad_r = p;
				return -EINVAL;
			}
			if (put_safe(&o, end, values[i]) < 0)
				return -ENOSPC;
			p = close + 1;
			continue;
		}
		if (o >= end)
			return -ENOSPC;
		*o++ = *p++;
	}
	*o = '\0';
	return 0;
}

static void set_error(struct cmdlog *log, const char *what, int err)
{
	if (log->error != NULL)
		return;
	log->error = xasprintf("command log: cannot %s %s: %s", what,
			       log->path != NULL ? log->path : "(none)",
			       strerror(err));
}

struct cmdlog *cmdlog_open(const struct cmdlog_settings *settings,
			   const struct dmf_job *job)
{
	struct cmdlog *log = calloc(1, sizeof(*log));
	char name[1024], date[16];
	struct tm tm;
	time_t now = time(NULL);
	int ret;

	if (log == NULL)
		return NULL;
	log->fd = -1;
	log->job = job;
	log->type = settings != NULL ? settings->type : CMDLOG_OFF;
	log->delete_on_success =
		settings != NULL && settings->delete_on_success;
	if (log->type != CMDLOG_FILE)
		return log;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	ret = cmdlog_file_name(
		settings->format, job != NULL ? job->source : NULL,
		job != NULL ? job_get_property(job, "uid") : NULL,
		job != NULL ? job->phase : NULL, job != NULL ? job->id : NULL,
		date, name, sizeof(name), NULL);
	if (ret == -ENOSPC || (ret == 0 && strlen(name) > NAME_MAX)) {
		/* how long it would be, for the message */
		size_t big = 1u << 20, len = strlen(name);
		char *full = malloc(big);
		bool exact = ret == 0;

		if (full != NULL &&
		    cmdlog_file_name(
			    settings->format, job != NULL ? job->source : NULL,
			    job != NULL ? job_get_property(job, "uid") : NULL,
			    job != NULL ? job->phase : NULL,
			    job != NULL ? job->id : NULL, date, full, big,
			    NULL) == 0) {
			len = strlen(full);
			exact = true;
		}
		free(full);
		log->error = xasprintf("command log: the file name made from "
				       "format '%s' is too long (%s%zu bytes; "
				       "a file name may have at most %d)",
				       settings->format,
				       exact ? "" : "at least ", len, NAME_MAX);
		return log;
	}
	if (ret < 0) {
		log->error = xasprintf("command log: bad file name format "
				       "'%s'",
				       settings->format);
		return log;
	}
	log->path = xasprintf("%s/%s", settings->location, name);
	if (log->path == NULL) {
		free(log);
		return NULL;
	}
	log->fd = open(log->path,
		       O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC |
			       O_NOCTTY,
		       0600);
	if (log->fd < 0)
		set_error(log, "create", errno);
	return log;
}

static void write_all(struct cmdlog *log, const char *data, size_t len)
{
	while (log->fd >= 0 && len > 0) {
		ssize_t n = write(log->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			set_error(log, "write", n < 0 ? errno : ENOSPC);
			close(log->fd);
			log->fd = -1;
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

void cmdlog_flush(struct cmdlog *log)
{
	if (log == NULL || log->buf_len == 0)
		return;
	write_all(log, log->buf, log->buf_len);
	log->buf_len = 0;
}

/* Queue `len` bytes for the file: kept in the buffer, which is written
 * out when full (text longer than the buffer goes out directly). */
static void put(struct cmdlog *log, const char *data, size_t len)
{
	if (log->fd < 0)
		return;
	if (log->buf == NULL && (log->buf = malloc(CMDLOG_BUFFER)) == NULL) {
		write_all(log, data, len);
		return;
	}
	if (log->buf_len + len > CMDLOG_BUFFER)
		cmdlog_flush(log);
	if (len > CMDLOG_BUFFER) {
		write_all(log, data, len);
		return;
	}
	memcpy(log->buf + log->buf_len, data, len);
	log->buf_len += len;
}

void cmdlog_begin(struct cmdlog *log, const char *step, const char *display)
{
	char stamp[64], *line;
	struct tm tm;
	time_t now = time(NULL);

	if (log == NULL)
		return;
	if (log->type == CMDLOG_LOGGER) {
		log_job(DMF_LOG_INFO, log->job, "command %s: %s",
			step != NULL ? step : "run", display);
		return;
	}
	if (log->fd < 0)
		return;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", &tm);
	line = xasprintf("=== %s %s: %s\n", stamp, step != NULL ? step : "run",
			 display);
	if (line != NULL) {
		put(log, line, strlen(line));
		free(line);
	}
	cmdlog_flush(log); /* the header shows what runs, even when quiet */
}

void cmdlog_line(struct cmdlog *log, enum dmf_exec_stream stream,
		 const char *line, size_t len)
{
	if (log == NULL)
		return;
	if (log->type == CMDLOG_LOGGER) {
		log_job(DMF_LOG_INFO, log->job, "%s: %.*s",
			stream == DMF_EXEC_STDERR ? "stderr" : "stdout",
			(int)len, line);
		return;
	}
	put(log, line, len);
	put(log, "\n", 1);
}

void cmdlog_end(struct cmdlog *log, const struct dmf_exec_result *r)
{
	char line[256];

	if (log == NULL)
		return;
	if (r->signal != 0)
		snprintf(line, sizeof(line),
			 "killed by signal %d%s%s after %lld ms", r->signal,
			 r->timed_out ? " (timeout)" : "",
			 r->aborted ? " (job aborted)" : "", r->duration_ms);
	else
		snprintf(line, sizeof(line), "exit status %d after %lld ms",
			 r->exit_code, r->duration_ms);
	if (log->type == CMDLOG_LOGGER) {
		log_job(DMF_LOG_INFO, log->job, "command ended: %s", line);
		return;
	}
	put(log, "=== ", 4);
	put(log, line, strlen(line));
	put(log, "\n", 1);
	cmdlog_flush(log);
}

const char *cmdlog_error(const struct cmdlog *log)
{
	return log != NULL ? log->error : NULL;
}

const char *cmdlog_take_new_error(struct cmdlog *log)
{
	if (log == NULL || log->error == NULL || log->error_reported)
		return NULL;
	log->error_reported = true;
	return log->error;
}

const char *cmdlog_path(const struct cmdlog *log)
{
	return log != NULL && log->type == CMDLOG_FILE ? log->path : NULL;
}

void cmdlog_close(struct cmdlog **logp, bool success)
{
	struct cmdlog *log;

	if (logp == NULL || *logp == NULL)
		return;
	log = *logp;
	*logp = NULL;
	cmdlog_flush(log);
	if (log->fd >= 0)
		close(log->fd);
	if (log->type == CMDLOG_FILE && success && log->delete_on_success &&
	    log->path != NULL)
		unlink(log->path);
	free(log->path);
	free(log->error);
	free(log->buf);
	free(log);
}
