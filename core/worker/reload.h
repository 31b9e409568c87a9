/*
 * reload.h - SIGHUP: read the configuration file again and apply what can
 * change while the worker runs:
 *   logger.levels.root             (unless --log-level was given)
 *   dmf.worker.command.logging.*   for command logs opened after it
 *   dmf.<type>.source(s).*         the plugin's per-source settings, for
 *                                  jobs that start after it
 * Every other key that changed is logged as needing a restart and keeps
 * its running value.  A file that does not load (or whose reloadable part
 * is invalid) changes nothing and is logged with its file, line and key.
 */
#ifndef DMF_CORE_RELOAD_H
#define DMF_CORE_RELOAD_H

#include <stdbool.h>

struct reload_params {
	const char *path; /* the configuration file */
	const char *type; /* dmf.worker.type */
	bool level_from_command_line; /* --log-level wins over the file */
};

/* The dispatcher's reload hook (ctx is a struct reload_params *); main
 * thread, between jobs' claims. */
void worker_reload(void *ctx);

#endif /* DMF_CORE_RELOAD_H */
