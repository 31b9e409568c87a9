/*
 * inject.h - property injection into commands (spec 3.13.1,
 * docs/commands.md).
 *
 * Placeholders: `%{mdb:NAME}` (a job value) and `%{conf:NAME}` (a value of
 * the source's configuration block); `${mdb:NAME}` and `${conf:NAME}` are
 * accepted too.  `%%{` gives a literal `%{`.  Any other `%{` is malformed.
 *
 * Resolution order (spec 3.13.1): a `%{conf:NAME}` is first looked up in
 * `command.inject` (custom properties), then among the imapc properties
 * (`imapc.host`, ... of the same block); `%{mdb:NAME}` comes from the job.
 * A value taken from a stage may itself hold placeholders of the LATER
 * stages only: an inject value may use %{conf:imapc_*} and %{mdb:*}, an
 * imapc value may use %{mdb:*}, and job values are never expanded again
 * (so a user name such as `%{conf:imapc_master_password}` stays literal).
 * A known name without a value gives the empty string.
 */
#ifndef DMF_CORE_INJECT_H
#define DMF_CORE_INJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/config.h"
#include "dmf/host.h"

/* The `%{mdb:X}` names: the entries of lib/mdb.h's table marked
 * MDB_INJECT. */
/* The imapc `%{conf:Y}` names and their keys under the source block. */
extern const char *const inject_conf_names[];
extern const char *const inject_conf_keys[];

/*
 * Expand `text` for `job` with `source_conf` (may be NULL: no inject or
 * imapc values).  *value_r gets the result; *display_r, when display_r is
 * not NULL, the same with secret values shown as `<hidden>`.  Errors
 * (-EINVAL for a malformed or unknown placeholder, -ENOMEM) set *error_r
 * to an allocated message; outputs are not written on failure.  Free the
 * results with inject_free_string().
 */
int inject_expand(const struct dmf_job *job, const struct cfg_node *source_conf,
		  const char *text, char **value_r, char **display_r,
		  char **error_r);

/*
 * Build a command from the definition `def` (command.h): every element is
 * expanded as by inject_expand() and stays exactly one argv element.  The
 * display form has secrets hidden by placeholder (sourcepasswd,
 * imapc_master_password, secret-named inject values), by name (secret
 * options, NAME=value with a secret NAME) and by value (every known secret
 * of the job).
 */
int inject_build(const struct dmf_job *job, const struct cfg_node *source_conf,
		 const struct cfg_node *def, struct dmf_command **command_r,
		 char **error_r);
void inject_command_free(struct dmf_command **command);

/*
 * A copy of `text` with every known secret value of the job (secret job
 * properties, sourcepasswd, imapc.master-password, secret-named inject
 * values; values shorter than 4 bytes are left alone) replaced by
 * `<hidden>`.  NULL on out of memory.
 */
char *inject_redact(const struct dmf_job *job,
		    const struct cfg_node *source_conf, const char *text);
/* The same with an explicit NULL-terminated list of secret values. */
char *inject_redact_values(const char *text, const char *const *secrets);

/* Wipe and free. */
void inject_free_string(char **s);

#endif /* DMF_CORE_INJECT_H */
