/* host_inject.c - the inject table: inject.c over the host's config. */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_services.h"
#include "exec/inject.h"
#include "lib/util.h"

/* struct dmf_conf is the SDK's opaque name for struct cfg_node. */
#define NODE(c) ((const struct cfg_node *)(const void *)(c))

static _Thread_local char error_buf[512];

static const char *keep_error(char *error, int ret)
{
	return error_keep(error_buf, sizeof(error_buf), error, ret);
}

static int h_expand(const struct dmf_job *job, const struct dmf_conf *conf,
		    const char *text, char **value_r, char **display_r,
		    const char **error_r)
{
	char *error = NULL, *display = NULL;
	int ret;

	ret = inject_expand(job, NODE(conf), text, value_r,
			    display_r != NULL ? &display : NULL, &error);
	if (ret < 0) {
		*error_r = keep_error(error, ret);
		return ret;
	}
	if (display_r != NULL) {
		*display_r = inject_redact_values(display, host_secrets());
		free(display);
		if (*display_r == NULL) {
			inject_free_string(value_r);
			*error_r = keep_error(NULL, -ENOMEM);
			return -ENOMEM;
		}
	}
	return 0;
}

static int h_build(const struct dmf_job *job, const struct dmf_conf *conf,
		   const struct dmf_conf *definition,
		   struct dmf_command **command_r, const char **error_r)
{
	struct dmf_command *cmd = NULL;
	char *error = NULL, *display;
	int ret;

	ret = inject_build(job, NODE(conf), NODE(definition), &cmd, &error);
	if (ret < 0) {
		*error_r = keep_error(error, ret);
		return ret;
	}
	display = inject_redact_values(cmd->display, host_secrets());
	if (display == NULL) {
		inject_command_free(&cmd);
		*error_r = keep_error(NULL, -ENOMEM);
		return -ENOMEM;
	}
	free(cmd->display);
	cmd->display = display;
	*command_r = cmd;
	return 0;
}

static char *h_redact(const struct dmf_job *job, const struct dmf_conf *conf,
		      const char *text)
{
	char *first = inject_redact(job, NODE(conf), text), *out;

	if (first == NULL)
		return NULL;
	out = inject_redact_values(first, host_secrets());
	free(first);
	return out;
}

static const struct dmf_host_inject inject_table = {
	.size = sizeof(struct dmf_host_inject),
	.expand = h_expand,
	.build = h_build,
	.command_free = inject_command_free,
	.redact = h_redact,
	.free_string = inject_free_string,
};

const struct dmf_host_inject *host_inject_table(void)
{
	return &inject_table;
}
