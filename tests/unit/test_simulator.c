/*
 * test_simulator.c - the simulator plugin, loaded through the real loader
 * and host: sleeps within its bounds, reports success with a details
 * entry, stops at once when aborted, refuses bad bounds.
 */
#include "dmf-build.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "../tap.h"
#include "lib/config.h"
#include "host/host.h"
#include "lib/job.h"
#include "host/plugin_loader.h"
#include "lib/util.h"

static char plugin_dir[4096];

static struct plugin *load(const char *yaml, struct config **cfg, char **error)
{
	struct plugin *p = NULL;

	if (config_load_string(yaml, "inline.yml", NULL, cfg, error) < 0 ||
	    host_init(*cfg, "simulator", error) < 0 ||
	    plugin_load(plugin_dir, "simulator", &p, error) < 0)
		return NULL;
	if (plugin_init(p, host_get(), error) < 0) {
		p->initialised = false;
		plugin_unload(&p);
		return NULL;
	}
	return p;
}

static void *abort_later(void *arg)
{
	usleep(100000);
	job_abort(arg);
	return NULL;
}

int main(void)
{
	const char *builddir = getenv("abs_top_builddir");
	struct config *cfg = NULL;
	char *error = NULL;
	struct plugin *p;
	struct dmf_job *job;
	pthread_t th;
	uint64_t t0, ms;
	json_t *entry;

	plan_lazy();
	snprintf(plugin_dir, sizeof(plugin_dir), "%s/plugins/simulator/.libs",
		 builddir != NULL ? builddir : ".");

	p = load("dmf:\n  simulator:\n    min-sleep: 50ms\n    max-sleep: "
		 "PT0.1S\n",
		 &cfg, &error);
	ok(p != NULL, "simulator loads with bounds 50..100 ms (%s)",
	   error != NULL ? error : "ok");
	if (p == NULL)
		return done_testing();
	for (int i = 0; i < 5; i++) {
		job = job_new("7", "sync", "default", "default");
		t0 = now_monotonic_ms();
		is_int(p->desc->run(p->ctx, job), 0, "run %d returns 0", i);
		ms = now_monotonic_ms() - t0;
		ok(ms >= 50 && ms < 400, "run %d slept within bounds (%llu ms)",
		   i, (unsigned long long)ms);
		is_int(job->status, DMF_STATUS_SUCCESS, "run %d: SUCCESS", i);
		entry = json_array_get(job->details, 0);
		ok(json_object_get(entry, "simulation") != NULL,
		   "run %d: details has a simulation entry", i);
		job_free(&job);
	}
	plugin_unload(&p);
	config_free(&cfg);

	/* default bounds are 1..10 s; an abort ends the sleep at once */
	p = load("dmf:\n  worker:\n    type: simulator\n", &cfg, &error);
	ok(p != NULL, "simulator loads with default bounds");
	job = job_new("8", "sync", "default", "default");
	pthread_create(&th, NULL, abort_later, job);
	t0 = now_monotonic_ms();
	p->desc->run(p->ctx, job);
	ms = now_monotonic_ms() - t0;
	pthread_join(th, NULL);
	ok(ms >= 90 && ms < 1000, "abort ended the sleep after %llu ms",
	   (unsigned long long)ms);
	is_int(job->status, DMF_STATUS_FAILURE, "aborted job is not a success");
	job_free(&job);
	plugin_unload(&p);
	config_free(&cfg);

	/* bad bounds are refused at init with a reason */
	p = load("dmf:\n  simulator:\n    min-sleep: 5s\n    max-sleep: 1s\n",
		 &cfg, &error);
	ok(p == NULL, "max-sleep < min-sleep refused");
	like(error, "max-sleep >= min-sleep", "reason given");
	free(error);
	error = NULL;
	config_free(&cfg);
	p = load("dmf:\n  simulator:\n    min-sleep: soon\n", &cfg, &error);
	ok(p == NULL, "a bad duration is refused");
	like(error, "inline.yml:3:", "error names file and line");
	like(error, "dmf.simulator.min-sleep", "error names the key");
	free(error);
	config_free(&cfg);
	host_deinit();
	return done_testing();
}
