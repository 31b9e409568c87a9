/*
 * cmddef.h - commands from their definitions (docs/commands.md) for the
 * doveadm worker: configured ones and JSON ones (a sourcehost's `status`
 * command, spec 3.11.4.4), walked here with the format of core/command.h
 * (name, flags, options, arguments, sub-command), each element expanded
 * by the host's inject->expand.  `%{mdb:container}` is the value
 * fetch-container found: the job's own property on a host of ABI 1.4
 * (job->set_property), replaced here on an older host.  Display elements hide
 * secret placeholders, known secrets and NAME=value pairs whose NAME
 * holds "password", "passwd", "secret" or "token".
 */
#ifndef DMF_DOVEADM_CMDDEF_H
#define DMF_DOVEADM_CMDDEF_H

#include <jansson.h>

#include "argv.h"
#include "dvjob.h"

/* Build the configured definition `def` into `a` (element by element,
 * display redacted).  0, or -EINVAL/-ENOMEM with *error_r allocated
 * (naming the definition's file:line:column). */
int cmddef_build_conf(struct dv_job *dj, const struct dmf_conf *def,
		      struct dv_argv *a, char **error_r);

/* The same from a JSON definition. */
int cmddef_build_json(struct dv_job *dj, const json_t *def, struct dv_argv *a,
		      char **error_r);

/* The display of one element: "NAME=<hidden>" for a secret NAME, else
 * NULL (the caller uses its own redaction). */
char *cmddef_hide_by_name(const char *element);

#endif /* DMF_DOVEADM_CMDDEF_H */
