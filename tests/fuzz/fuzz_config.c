/*
 * fuzz_config.c - the configuration loader (core/lib/config.c): YAML text
 * and environment overrides.  The input is YAML, optionally followed by a
 * line "#--env--" and NAME=value lines handed over as the environment.
 * Whatever loads is also printed (secrets hidden) and read through the
 * typed getters the daemon uses.
 */
#include "dmf-build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENV 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *sep, *env[MAX_ENV + 1];
	struct config *cfg = NULL;
	char *error = NULL;
	size_t n_env = 0;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	sep = strstr(text, "\n#--env--\n");
	if (sep != NULL) {
		char *line = sep + strlen("\n#--env--\n"), *save = NULL;

		*sep = '\0';
		for (line = strtok_r(line, "\n", &save);
		     line != NULL && n_env < MAX_ENV;
		     line = strtok_r(NULL, "\n", &save))
			env[n_env++] = line;
	}
	env[n_env] = NULL;
	/* the text may hold NUL bytes: the loader sees them through size */
	if (config_load_string(text, "fuzz.yml", env, &cfg, &error) == 0) {
		FILE *out = fopen("/dev/null", "w");
		const char *s = NULL, *err = NULL;
		long long v;
		bool b;

		if (out != NULL) {
			config_print(cfg, out);
			fclose(out);
		}
		cfg_get_string(cfg->root, "dmf.worker.type", "doveadm", &s,
			       &err);
		cfg_get_int(cfg->root, "dmf.worker.jobs.max", 10, &v, &err);
		cfg_get_duration_ms(cfg->root, "dmf.worker.heartbeat", 1000, &v,
				    &err);
		cfg_get_bool(cfg->root, "micronaut.ssl.enabled", true, &b,
			     &err);
		config_free(&cfg);
	}
	free(error);
	free(text);
	return 0;
}
