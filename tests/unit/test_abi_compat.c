/*
 * test_abi_compat.c - a plugin built against the ABI 1.2 headers
 * (tests/fixtures/abi12_plugin.c with tests/fixtures/abi-1.2/dmf) loads on
 * this host (1.3 or later) and runs a job through exec: the host writes the 1.2
 * struct dmf_exec_result (no size member) and not one byte past it.
 */
#include "dmf-build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "dmf/plugin.h"
#include "host/host.h"
#include "host/plugin_loader.h"
#include "lib/config.h"
#include "lib/job.h"

int main(void)
{
	const char *builddir = getenv("abs_top_builddir");
	char dir[4096];
	struct config *cfg = NULL;
	struct plugin *p = NULL;
	struct dmf_job *job;
	char *error = NULL, *text;
	json_t *d;

	plan_lazy();
	snprintf(dir, sizeof(dir), "%s/tests/fixtures/.libs",
		 builddir != NULL ? builddir : ".");
	if (config_load_string("dmf:\n  worker:\n    type: fx_abi12\n"
			       "    command:\n      logging:\n"
			       "        type: off\n",
			       "inline.yml", NULL, &cfg, &error) < 0) {
		printf("Bail out! config: %s\n", error);
		return 1;
	}
	is_int(host_init(cfg, "fx_abi12", &error), 0, "host_init");
	is_int(plugin_load(dir, "fx_abi12", &p, &error), 0,
	       "the 1.2 plugin loads: %s", error != NULL ? error : "ok");
	if (p == NULL)
		return done_testing();
	is_int(p->desc->abi_minor, 2, "built for ABI 1.2");
	is_int(DMF_ABI_MINOR, 4, "host is ABI 1.4");
	is_int(plugin_init(p, host_get(), &error), 0, "initialises");
	job = job_new("12", "sync", "default", "default");
	job_set_property(job, "uid", "user12", false);
	is_int(p->desc->run(p->ctx, job), 0, "runs");
	is_int(job->status, DMF_STATUS_SUCCESS, "job succeeded");
	d = json_object_get(json_array_get(job->details, 0), "abi12");
	text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	diag("details: %s", text != NULL ? text : "(none)");
	free(text);
	is_int(json_integer_value(json_object_get(d, "ret")), 0, "exec ran");
	is_int(json_integer_value(json_object_get(d, "exitCode")), 7,
	       "exit code read at its 1.2 offset");
	is_int(json_integer_value(json_object_get(d, "signal")), 0,
	       "signal at its 1.2 offset");
	is_int(json_integer_value(json_object_get(d, "outputBytes")), 4,
	       "output bytes at the 1.2 offset");
	ok(json_is_true(json_object_get(d, "guardIntact")),
	   "nothing written past the 1.2 struct");
	is_int(json_integer_value(json_object_get(d, "hostMinor")),
	       DMF_ABI_MINOR, "the plugin sees the host's minor (4)");
	is_int(json_integer_value(json_object_get(d, "cryptoSize")),
	       (long long)sizeof(struct dmf_host_crypto),
	       "the crypto table is the 1.3 one (longer than 1.2 knows)");
	is_str(json_string_value(json_object_get(d, "uid")), "user12",
	       "job property read");
	host_job_finished(job);
	job_free(&job);
	plugin_unload(&p);
	host_deinit();
	config_free(&cfg);
	return done_testing();
}
