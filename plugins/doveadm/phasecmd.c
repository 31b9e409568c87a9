/* phasecmd.c - the per-phase commands of a job (phasecmd.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmddef.h"
#include "phasecmd.h"

static const char *const step_names[] = { "pre", "sync", "post", "failure" };

static const char *sourcehost_name(const struct dv_job *dj)
{
	const char *n = dj->sh_name != NULL ?
				dj->sh_name :
				dj->h->job->property(dj->job, "sourcehostname");

	return n != NULL && *n != '\0' ? n : "?";
}

static int load_text(struct dv_job *dj, const char *text, char **error_r);

int phasecmd_load(struct dv_job *dj, char **error_r)
{
	return load_text(dj,
			 dj->h->job->property(dj->job, "sourcehostcommands"),
			 error_r);
}

int phasecmd_replace(struct dv_job *dj, const char *text, const char *name,
		     char **error_r)
{
	free(dj->sh_name);
	dj->sh_name = strdup(name);
	json_decref(dj->sh_commands);
	dj->sh_commands = NULL;
	return load_text(dj, text, error_r);
}

static int load_text(struct dv_job *dj, const char *text, char **error_r)
{
	json_error_t je;
	json_t *all;

	*error_r = NULL;
	if (text == NULL || *text == '\0')
		return 0;
	all = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (all == NULL || !json_is_object(all)) {
		if (asprintf(error_r,
			     "the commands of sourcehost %s are not a JSON "
			     "object%s%s",
			     sourcehost_name(dj), all == NULL ? ": " : "",
			     all == NULL ? je.text : "") < 0)
			*error_r = NULL;
		json_decref(all);
		return -EINVAL;
	}
	for (int p = 0; p < DOVEADM_N_PHASES; p++) {
		const char *name = doveadm_phase_name((enum doveadm_phase)p);
		json_t *pc = json_object_get(all, name);

		if (pc != NULL && !json_is_null(pc) && !json_is_object(pc)) {
			if (asprintf(error_r,
				     "commands.%s of sourcehost %s must be an "
				     "object of pre, sync, post and failure "
				     "commands",
				     name, sourcehost_name(dj)) < 0)
				*error_r = NULL;
			json_decref(all);
			return -EINVAL;
		}
	}
	dj->sh_commands = all;
	return 0;
}

static const struct dmf_conf *conf_step(const struct doveadm_phase_commands *pc,
					enum dv_cmd_step step)
{
	switch (step) {
	case DV_CMD_PRE:
		return pc->pre;
	case DV_CMD_SYNC:
		return pc->sync;
	case DV_CMD_POST:
		return pc->post;
	case DV_CMD_FAILURE:
		return pc->failure;
	}
	return NULL;
}

bool phasecmd_get(const struct dv_job *dj, enum dv_cmd_step step,
		  struct dv_cmd *cmd_r)
{
	const char *phase = doveadm_phase_name(dj->phase);
	json_t *pc = json_object_get(dj->sh_commands, phase);
	json_t *def = json_object_get(pc, step_names[step]);

	*cmd_r = (struct dv_cmd){ 0 };
	if (def != NULL && !json_is_null(def)) {
		cmd_r->json = def;
		snprintf(cmd_r->where, sizeof(cmd_r->where),
			 "sourcehost %s commands.%s.%s", sourcehost_name(dj),
			 phase, step_names[step]);
		return true;
	}
	cmd_r->conf = conf_step(&dj->conf->commands[dj->phase], step);
	snprintf(cmd_r->where, sizeof(cmd_r->where), "command.%s.%s", phase,
		 step_names[step]);
	return cmd_r->conf != NULL;
}

int phasecmd_build(struct dv_job *dj, const struct dv_cmd *cmd,
		   struct dv_argv *a, char **error_r)
{
	char *e = NULL;
	int r;

	if (cmd->json != NULL)
		r = cmddef_build_json(dj, cmd->json, a, &e);
	else
		r = cmddef_build_conf(dj, cmd->conf, a, &e);
	if (r < 0 && cmd->json != NULL) {
		/* a JSON definition's message does not say where it is */
		if (asprintf(error_r, "%s: %s", cmd->where,
			     e != NULL ? e : "out of memory") < 0)
			*error_r = NULL;
		free(e);
	} else {
		*error_r = e;
	}
	return r;
}
