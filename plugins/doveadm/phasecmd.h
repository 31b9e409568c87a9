/*
 * phasecmd.h - which definition each configured command of a job comes
 * from (docs/doveadm.md "Sourcehost commands"): the job's sourcehost
 * definition first (its `commands` JSON, `{"sync": {"pre": DEF, "sync":
 * DEF, "post": DEF, "failure": DEF}, "cutover": {...}, "status": DEF}`),
 * then the source block's `command.<phase>.<step>`, then the built-in
 * behaviour (the default migration command; no pre/post/failure command).
 */
#ifndef DMF_DOVEADM_PHASECMD_H
#define DMF_DOVEADM_PHASECMD_H

#include <stdbool.h>

#include <jansson.h>

#include "argv.h"
#include "dvjob.h"

enum dv_cmd_step { DV_CMD_PRE, DV_CMD_SYNC, DV_CMD_POST, DV_CMD_FAILURE };

/* One command definition: configured (conf) or from the sourcehost
 * (json); both NULL: none.  `where` names it for messages
 * ("command.sync.pre", "sourcehost imap1 commands.sync.pre"). */
struct dv_cmd {
	const struct dmf_conf *conf;
	const json_t *json;
	char where[160];
};

/*
 * Read the job's sourcehostcommands into dj->sh_commands (once, before
 * any command).  A value that is not a JSON object, or a phase entry that
 * is not an object, is a configuration error: -EINVAL with *error_r
 * allocated, naming the sourcehost.
 */
int phasecmd_load(struct dv_job *dj, char **error_r);

/* Replace dj->sh_commands by `text`, the commands of sourcehost `name`
 * (director.use-sourcehost found another one); as phasecmd_load. */
int phasecmd_replace(struct dv_job *dj, const char *text, const char *name,
		     char **error_r);

/* The definition of `step` in the job's phase; false when there is none
 * (the built-in behaviour applies). */
bool phasecmd_get(const struct dv_job *dj, enum dv_cmd_step step,
		  struct dv_cmd *cmd_r);

/* Build `cmd` into `a` (cmddef_build_conf or cmddef_build_json). */
int phasecmd_build(struct dv_job *dj, const struct dv_cmd *cmd,
		   struct dv_argv *a, char **error_r);

#endif /* DMF_DOVEADM_PHASECMD_H */
