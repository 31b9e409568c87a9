/*
 * fuzz_command.c - the command-definition-to-argv builder
 * (core/exec/command.c through inject_build()): the input is YAML whose
 * key `def` is a command definition (name, arguments, options, ...), built
 * into an argv for a job with every property set.
 */
#include "dmf-build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/command.h"
#include "exec/inject.h"
#include "lib/config.h"
#include "lib/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dmf_job *job;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct dmf_command *cmd = NULL;
	char *text, *error = NULL;

	if (job == NULL) {
		job = job_new("1", "cutover", "POD_1", "default");
		if (job == NULL)
			abort();
		job_set_property(job, "uid", "user@example.com", false);
		job_set_property(job, "sourcepasswd", "UserSecret1", true);
	}
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string(text, "fuzz.yml", NULL, &cfg, &error) == 0) {
		const struct cfg_node *def = cfg_get(cfg->root, "def");
		const struct cfg_node *src = cfg_get(cfg->root, "source");

		free(error);
		error = NULL;
		if (def != NULL &&
		    inject_build(job, src, def, &cmd, &error) == 0)
			inject_command_free(&cmd);
		config_free(&cfg);
	}
	free(error);
	free(text);
	return 0;
}
