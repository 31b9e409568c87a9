/*
 * cmdlog.h - the command log (spec 2.2.11): where the output of the
 * commands a job runs goes.
 *
 *   dmf.worker.command.logging.type: file | logger | off   (default file)
 *   dmf.worker.command.logging.file.format:
 *       "%(source)-%(user)-user-migration.log" (default); specifiers
 *       %(source) %(user) %(phase) %(job) %(date) (YYYY-MM-DD, local time)
 *   dmf.worker.command.logging.file.location: /var/log/dmf (default)
 *   dmf.worker.command.logging.file.delete-on-success: false (default)
 *
 * One file per job (several jobs of one user may share a file when the
 * format has no %(job)); opened on the job's first command with O_APPEND,
 * O_NOFOLLOW and mode 0600; '/' and leading dots in substituted values
 * become '_'.  A file that cannot be created or written is reported once
 * (cmdlog_error()) and the job goes on without it.
 */
#ifndef DMF_CORE_CMDLOG_H
#define DMF_CORE_CMDLOG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/config.h"
#include "dmf/host.h"

enum cmdlog_type { CMDLOG_FILE = 0, CMDLOG_LOGGER = 1, CMDLOG_OFF = 2 };

struct cmdlog_settings {
	enum cmdlog_type type;
	char *format;
	char *location;
	bool delete_on_success;
};

/* Read dmf.worker.command.logging from the root of the configuration
 * (NULL root: defaults).  Errors set *error_r (allocated). */
int cmdlog_settings_load(const struct cfg_node *root,
			 struct cmdlog_settings *settings_r, char **error_r);
void cmdlog_settings_clear(struct cmdlog_settings *settings);

/*
 * The file name for a job: `format` with its specifiers replaced (values
 * made safe for one path component).  0, -EINVAL for an unknown specifier
 * (*bad_r points at it when bad_r is not NULL) or -ENOSPC.
 */
int cmdlog_file_name(const char *format, const char *source, const char *user,
		     const char *phase, const char *job_id, const char *date,
		     char *buf, size_t size, const char **bad_r);

struct cmdlog;

/* A command log for `job`.  Never fails for file errors (see
 * cmdlog_error()); NULL only on out of memory. */
struct cmdlog *cmdlog_open(const struct cmdlog_settings *settings,
			   const struct dmf_job *job);
/* Start of one command: a header line with the time, step and display. */
void cmdlog_begin(struct cmdlog *log, const char *step, const char *display);
/* One output line (already redacted).  Lines are buffered (8 KiB) and
 * written by cmdlog_flush(), cmdlog_end() or a full buffer. */
void cmdlog_line(struct cmdlog *log, enum dmf_exec_stream stream,
		 const char *line, size_t len);
/* Write out what is buffered: called whenever the command's output read
 * so far has been passed on (exec's on_drained), so the file is current
 * while the command is quiet. */
void cmdlog_flush(struct cmdlog *log);
/* End of one command: a footer line with how it ended. */
void cmdlog_end(struct cmdlog *log, const struct dmf_exec_result *result);
/* The first error met ("cannot create /x/y.log: Permission denied"), or
 * NULL.  cmdlog_take_new_error() returns it only once. */
const char *cmdlog_error(const struct cmdlog *log);
const char *cmdlog_take_new_error(struct cmdlog *log);
/* The file's path, or NULL when not logging to a file. */
const char *cmdlog_path(const struct cmdlog *log);
/* Close; the file is removed when `success` and delete-on-success. */
void cmdlog_close(struct cmdlog **log, bool success);

#endif /* DMF_CORE_CMDLOG_H */
