/*
 * log.h - the daemon's log: one line per event on stderr, with time, level
 * and the job context of the calling thread.
 *
 *   2026-11-28T21:40:00.123Z INFO  [job 17 user1@sync] message
 */
#ifndef DMF_CORE_LOG_H
#define DMF_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "dmf/host.h"

/* Set the lowest level written (default INFO) and where lines go (default
 * stderr). */
void log_set_level(enum dmf_log_level level);
/* Parse "debug|info|warn|error"; 0 or -EINVAL. */
int log_parse_level(const char *text, enum dmf_log_level *level_r);
void log_set_stream(FILE *out);
/* Write text as the log does: control characters escaped (\n, \r, \xNN;
 * a tab too, as \t, when escape_tab is set), so that data can never
 * forge a line or reach a terminal raw. */
void log_put_escaped(FILE *out, const char *text, bool escape_tab);
int log_enabled(enum dmf_log_level level);

void log_msg(enum dmf_log_level level, const char *fmt, ...) DMF_PRINTF(2, 3);
void log_vmsg(enum dmf_log_level level, const struct dmf_job *job,
	      const char *fmt, va_list ap) DMF_PRINTF(3, 0);
/* Log with an explicit job context (NULL: the thread's current job). */
void log_job(enum dmf_log_level level, const struct dmf_job *job,
	     const char *fmt, ...) DMF_PRINTF(3, 4);

/* The job whose context this thread's lines carry (NULL for none). */
void log_set_thread_job(const struct dmf_job *job);
/* Stop using `job` for this thread's log lines if it is the one set: called
 * by job_free(), so that a job freed on the thread that runs it (a lease
 * lost: the result is dropped and the job freed inside the release) is
 * not read by the log lines that follow (its give-back, database
 * warnings) before the thread clears its job. */
void log_forget_thread_job(const struct dmf_job *job);

#define log_debug(...) log_msg(DMF_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(DMF_LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(DMF_LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(DMF_LOG_ERROR, __VA_ARGS__)

#endif /* DMF_CORE_LOG_H */
