/* log.c - timestamped, levelled log lines with the thread's job context. */
#include "dmf-build.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "job.h"
#include "log.h"

static enum dmf_log_level log_level = DMF_LOG_INFO;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local const struct dmf_job *log_thread_job;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_set_level(enum dmf_log_level level)
{
	log_level = level;
}

int log_parse_level(const char *text, enum dmf_log_level *level_r)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

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

void log_vmsg(enum dmf_log_level level, const struct dmf_job *job,
	      const char *fmt, va_list ap)
{
	char stamp[32], ctx[256] = "";
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
	pthread_mutex_lock(&log_lock);
	fprintf(out, "%s.%03ldZ %-5s %s", stamp, ts.tv_nsec / 1000000L,
		level_names[level], ctx);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	fflush(out);
	pthread_mutex_unlock(&log_lock);
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
