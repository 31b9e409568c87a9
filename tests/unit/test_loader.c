/*
 * test_loader.c - the plugin loader refuses each bad plugin with its own
 * message naming the file and both ABI versions, and loads a good one.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "lib/config.h"
#include "host/host.h"
#include "lib/job.h"
#include "host/plugin_loader.h"
#include "lib/util.h"

static char fixture_dir[4096];

struct refusal {
	const char *dir; /* NULL: the fixture dir */
	const char *type;
	const char *expect; /* text the message must contain */
};

static void check_refused(const char *dir, const char *type, const char *expect)
{
	struct plugin *p = NULL;
	char *error = NULL;
	int ret = plugin_load(dir, type, &p, &error);

	ok(ret < 0 && p == NULL, "%s refused", type);
	like(error, expect, "%s: reason", type);
	like(error, "daemon ABI 1.", "%s: names the daemon's ABI", type);
	if (strcmp(type, "Bad-Type") != 0)
		like(error, type, "%s: names the file", type);
	diag("%s", error != NULL ? error : "(no message)");
	free(error);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;

	if (in == NULL || out == NULL) {
		fprintf(stderr, "copy %s -> %s failed\n", from, to);
		exit(99);
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	chmod(to, mode);
}

int main(void)
{
	static const struct refusal cases[] = {
		{ NULL, "fx_badmagic", "bad magic 0x12345678" },
		{ NULL, "fx_major", "ABI major 2 does not match" },
		{ NULL, "fx_minor", "newer ABI minor 99" },
		{ NULL, "fx_size", "descriptor size 12 is smaller" },
		{ NULL, "fx_name", "name 'some_other_type' does not match" },
		{ NULL, "fx_nosym",
		  "does not export the symbol dmf_plugin_v1" },
		{ NULL, "fx_norun", "run NULL" },
		{ NULL, "fx_missing", "cannot stat" },
		{ NULL, "Bad-Type", "not a valid worker type name" },
	};
	const char *builddir = getenv("abs_top_builddir");
	char tmp[] = "/tmp/dmf-test-loader-XXXXXX", path[4200], src[4200];
	struct config *cfg = NULL;
	struct plugin *p = NULL;
	char *error = NULL;
	struct dmf_job *job;

	plan_lazy();
	snprintf(fixture_dir, sizeof(fixture_dir), "%s/tests/fixtures/.libs",
		 builddir != NULL ? builddir : ".");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_refused(cases[i].dir != NULL ? cases[i].dir : fixture_dir,
			      cases[i].type, cases[i].expect);

	/* init failure */
	if (config_load_string("dmf:\n  worker:\n    type: fx_initfail\n",
			       "inline.yml", NULL, &cfg, &error) < 0) {
		printf("Bail out! config: %s\n", error);
		return 1;
	}
	host_init(cfg, "fx_initfail", &error);
	is_int(plugin_load(fixture_dir, "fx_initfail", &p, &error), 0,
	       "fx_initfail loads");
	ok(plugin_init(p, host_get(), &error) < 0, "fx_initfail init refused");
	like(error, "init failed: fixture refuses to start", "init reason");
	like(error, "fx_initfail.so", "init failure names the file");
	free(error);
	error = NULL;
	p->initialised = false;
	plugin_unload(&p);

	/* file checks on copies of the good plugin */
	if (mkdtemp(tmp) == NULL)
		return 99;
	snprintf(src, sizeof(src), "%s/fx_good.so", fixture_dir);
	snprintf(path, sizeof(path), "%s/fx_good.so", tmp);
	copy_file(src, path, 0664);
	check_refused(tmp, "fx_good", "group- or world-writable (mode 0664)");
	chmod(path, 0646);
	check_refused(tmp, "fx_good", "group- or world-writable (mode 0646)");
	unlink(path);
	if (symlink(src, path) < 0)
		return 99;
	check_refused(tmp, "fx_good", "symbolic link");
	unlink(path);
	if (mkdir(path, 0755) < 0)
		return 99;
	check_refused(tmp, "fx_good", "not a regular file");
	rmdir(path);

	/* the good plugin loads, initialises and runs a job */
	copy_file(src, path, 0644);
	host_init(cfg, "fx_good", &error);
	is_int(plugin_load(tmp, "fx_good", &p, &error), 0, "fx_good loads");
	is_int(plugin_init(p, host_get(), &error), 0, "fx_good initialises");
	job = job_new("1", "sync", "default", "default");
	is_int(p->desc->run(p->ctx, job), 0, "fx_good runs");
	is_int(job->status, DMF_STATUS_SUCCESS, "job succeeded");
	is_int(json_array_size(job->details), 1, "one details entry");
	job_free(&job);
	plugin_unload(&p);
	unlink(path);
	rmdir(tmp);
	host_deinit();
	config_free(&cfg);
	return done_testing();
}
