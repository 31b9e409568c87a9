/* log.c - timestamped, levelled log lines with the thread's job context. */
#include "dmf-build.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/job.h"
#include "lib/log.h"

static enum dmf_log_level log_level = DMF_LOG_INFO;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local const struct dmf_job *log_thread_job;

static const char *const level_names[] = { "DEBUG", "INFO", "WARN", "ERROR" };

void log_set_level(enum dmf_log_level level)
{
	log_level = level;
}

int log_parse_level(const char *text, enum dmf_log_level *level_r)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(text, names[i]) == 0 ||
		    (i == 2 && strcasecmp(text, "warning") == 0)) {
			*level_r = (enum dmf_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_set_stream(FILE *out)
{
	log_stream = out;
}

int log_enabled(enum dmf_log_level level)
{
	return level >= log_level;
}

void log_set_thread_job(const struct dmf_job *job)
{
	log_thread_job = job;
}

void log_forget_thread_job(const struct dmf_job *job)
{
	if (job != NULL && log_thread_job == job)
		log_thread_job = NULL;
}

/*
 * Write text with control characters other than tab escaped (\n, \r,
 * \xNN), so that job data (a uid holding a newline, a command's output)
 * can never start a forged log line.
 */
void log_put_escaped(FILE *out, const char *text, bool escape_tab)
{
	const char *p = text;

	while (*p != '\0') {
		size_t n = 0;
		unsigned char c;

		while (p[n] != '\0' &&
		       ((unsigned char)p[n] >= 0x20 ||
			(p[n] == '\t' && !escape_tab)) &&
		       p[n] != 0x7f)
			n++;
		fwrite(p, 1, n, out);
		p += n;
		if (*p == '\0')
			break;
		c = (unsigned char)*p++;
		if (c == '\n')
			fputs("\\n", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c == '\t')
			fputs("\\t", out);
		else
			fprintf(out, "\\x%02x", c);
	}
}

void log_vmsg(enum dmf_log_level level, const struct dmf_job *job,
	      const char *fmt, va_list ap)
{
	char stamp[32], ctx[256] = "", buf[4096], *msg = buf;
	va_list aq;
	int len;
	struct timespec ts;
	struct tm tm;
	FILE *out = log_stream != NULL ? log_stream : stderr;
	int saved_errno = errno;

	if (level < log_level)
		return;
	if ((unsigned)level > DMF_LOG_ERROR)
		level = DMF_LOG_ERROR;
	if (job == NULL)
		job = log_thread_job;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (job != NULL) {
		const char *uid = job_get_property(job, "uid");

		snprintf(ctx, sizeof(ctx), "[job %s %s@%s] ",
			 job->id != NULL ? job->id : "-",
			 uid != NULL ? uid : "-",
			 job->phase != NULL ? job->phase : "-");
	}
	va_copy(aq, ap);
	errno = saved_errno; /* for %m */
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (len < 0) {
		buf[0] = '\0';
	} else if ((size_t)len >= sizeof(buf)) {
		msg = malloc((size_t)len + 1);
		if (msg == NULL) {
			msg = buf; /* keep the truncated text */
		} else {
			errno = saved_errno;
			vsnprintf(msg, (size_t)len + 1, fmt, aq);
		}
	}
	va_end(aq);
	pthread_mutex_lock(&log_lock);
	fprintf(out, "%s.%03ldZ %-5s ", stamp, ts.tv_nsec / 1000000L,
		level_names[level]);
	log_put_escaped(out, ctx, false);
	log_put_escaped(out, msg, false);
	fputc('\n', out);
	fflush(out);
	pthread_mutex_unlock(&log_lock);
	if (msg != buf)
		free(msg);
	errno = saved_errno;
}

void log_msg(enum dmf_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, NULL, fmt, ap);
	va_end(ap);
}

void log_job(enum dmf_log_level level, const struct dmf_job *job,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, job, fmt, ap);
	va_end(ap);
}
