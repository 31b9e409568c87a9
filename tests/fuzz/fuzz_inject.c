/*
 * fuzz_inject.c - injection (core/exec/inject.c): %{mdb:..}, %{conf:..}
 * and the rest expanded in a command element.  The input is the element's
 * text, expanded for a job with every property set and a source block with
 * inject values; the display form and the redaction run too.
 */
#include "dmf-build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/inject.h"
#include "lib/config.h"
#include "lib/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *cfg;
static struct dmf_job *job;

static void setup(void)
{
	static const char yaml[] =
		"dmf:\n  command:\n    source:\n      default:\n"
		"        imapc:\n          host: imap.example\n"
		"          master-user: master\n"
		"          master-password: MasterPw1\n"
		"        command:\n          inject:\n"
		"            plain: value-of-plain\n"
		"            api-token: Token12345\n"
		"            list: [a, b]\n";
	char *err = NULL;

	if (config_load_string(yaml, "fuzz.yml", NULL, &cfg, &err) < 0)
		abort();
	job = job_new("1", "sync", "POD_1", "default");
	if (job == NULL)
		abort();
	job_set_property(job, "uid", "user@example.com", false);
	job_set_property(job, "ruid", "remote-user", false);
	job_set_property(job, "email", "user@example.com", false);
	job_set_property(job, "sourcehost", "imap1", false);
	job_set_property(job, "sourcepasswd", "UserSecret1", true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct cfg_node *src;
	char *text, *value = NULL, *display = NULL, *error = NULL, *red;

	if (cfg == NULL)
		setup();
	src = cfg_get(cfg->root, "dmf.command.source.default");
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (inject_expand(job, src, text, &value, &display, &error) == 0) {
		inject_free_string(&value);
		inject_free_string(&display);
	}
	free(error);
	red = inject_redact(job, src, text);
	free(red);
	free(text);
	return 0;
}
