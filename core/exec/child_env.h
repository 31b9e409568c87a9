/*
 * child_env.h - the environment of the commands the worker runs.
 *
 * A child does not inherit the worker's environment: that holds the
 * configuration given by environment variable (DATASOURCES_DEFAULT_PASSWORD,
 * HTTP_ADMIN_PASSWORD, DMF_WORKER_CRYPTO_STORAGEKEYS_*_SECRET, ...).  It gets
 * only the variables a command needs to run: PATH, HOME, USER, LOGNAME,
 * SHELL, TMPDIR, TZ, TERM, LANG, LANGUAGE and every LC_*, plus the names
 * listed in dmf.worker.command.environment.pass (passed as they are, even
 * when they hold a secret: naming one there is the operator's choice).
 * A plugin that gives its own envp (dmf_exec_options.envp) decides alone.
 */
#ifndef DMF_CORE_CHILD_ENV_H
#define DMF_CORE_CHILD_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/config.h"

/* The configuration key of the extra names. */
#define CHILD_ENV_PASS_KEY "dmf.worker.command.environment.pass"

/* True when a child keeps the variable `name` (its first `len` bytes);
 * `pass` is a NULL-terminated list of extra names, or NULL. */
bool child_env_keeps(const char *name, size_t len, char *const *pass);

/*
 * The kept part of `envp` (NULL-terminated "NAME=value"), as an allocated
 * NULL-terminated array of borrowed pointers into envp (free the array
 * only).  NULL when out of memory.
 */
const char **child_env_filter(char *const *envp, char *const *pass);

/*
 * Read CHILD_ENV_PASS_KEY from `cfg` (NULL: none), check the names and
 * build the environment of every later child from the worker's own.  0,
 * or -EINVAL / -ENOMEM with *error_r an allocated message.  Call before
 * threads run commands.
 */
int child_env_init(const struct config *cfg, char **error_r);
/* Check CHILD_ENV_PASS_KEY only (--check-config); as child_env_init(). */
int child_env_check(const struct config *cfg, char **error_r);
void child_env_deinit(void);

/* The environment for a child (child_env_init()'s, or the default rule
 * applied to the worker's environment when it was not called). */
char *const *child_env(void);

#endif /* DMF_CORE_CHILD_ENV_H */
