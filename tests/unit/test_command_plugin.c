/* test_command_plugin.c - the `command` job worker against the daemon's
 * real host tables (no database): phases, sources, injection, failures,
 * details JSON, and secrets kept out of the worker log. */
#include "dmf-build.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/fake_host.h"
#include "../tap.h"
#include "lib/config.h"
#include "dmf/plugin.h"
#include "host/host.h"
#include "lib/job.h"
#include "lib/log.h"

extern const struct dmf_plugin dmf_plugin_v1;

static const char *const yaml =
	"dmf:\n"
	"  worker:\n"
	"    type: command\n"
	"    command:\n"
	"      logging:\n"
	"        type: \"off\"\n"
	"  command:\n"
	"    source:\n"
	"      default:\n"
	"        timeout: 2s\n"
	"        imapc:\n"
	"          host: imap.example\n"
	"        command:\n"
	"          inject:\n"
	"            greeting: hello\n"
	"          sync:\n"
	"            sync:\n"
	"              name: /bin/sh\n"
	"              arguments:\n"
	"                - \"-c\"\n"
	"                - 'echo \"$1 $2 $3\"; echo warn-line >&2; exit 0'\n"
	"                - sh\n"
	"                - \"%{conf:greeting}\"\n"
	"                - \"%{mdb:uid}\"\n"
	"                - \"%{conf:imapc_host}\"\n"
	"          cutover:\n"
	"            sync:\n"
	"              name: /bin/sh\n"
	"              arguments: [\"-c\", \"echo bad1 >&2; echo bad2 >&2; "
	"exit 3\"]\n"
	"      POD_2:\n"
	"        command:\n"
	"          sync:\n"
	"            sync:\n"
	"              name: /bin/echo\n"
	"              arguments: [\"pw=%{mdb:sourcepasswd}\"]\n"
	"          cutover:\n"
	"            sync:\n"
	"              name: /bin/echo\n"
	"              arguments: \"%{mdb:nosuch}\"\n"
	"      POD_3:\n"
	"        timeout: 200ms\n"
	"        command:\n"
	"          sync:\n"
	"            sync: {name: /bin/sleep, arguments: \"10\"}\n"
	"          cutover:\n"
	"            sync: {name: /nonexistent/migrate}\n";

static void *ctx;

static struct dmf_job *run(const char *source, const char *phase,
			   const char *uid, const char *pw)
{
	struct dmf_job *job = job_new("1", phase, source, "t");

	job_set_property(job, "uid", uid, false);
	if (pw != NULL)
		job_set_property(job, "sourcepasswd", pw, true);
	dmf_plugin_v1.run(ctx, job);
	host_job_finished(job);
	return job;
}

static json_t *detail(struct dmf_job *job)
{
	for (size_t i = 0; i < json_array_size(job->details); i++) {
		json_t *d = json_object_get(json_array_get(job->details, i),
					    "command");

		if (d != NULL)
			return d;
	}
	return NULL;
}

/* The worker on older daemons and shortened tables (tests/lib/fake_host). */
static void test_older_hosts(void)
{
	struct fake_host fh;
	struct config *cfg = NULL;
	struct dmf_job *job;
	const char *e = NULL;
	char *err = NULL;
	unsigned long wipes;

	ok(config_load_string(yaml, "p.yml", NULL, &cfg, &err) == 0,
	   "config again");
	ok(host_init(cfg, "command", &err) == 0, "host_init again");

	/* a 1.2 daemon: its exec writes the 1.2 result (no size) */
	fake_host_init(&fh, host_get());
	fake_host_as_minor(&fh, 2);
	ok(dmf_plugin_v1.init(&fh.host, &ctx, &e) == 0, "init on a 1.2 host");
	wipes = fake_host_wipe_calls;
	job = run("POD_1", "cutover", "u", NULL);
	is_int(json_integer_value(json_object_get(detail(job), "exitCode")), 3,
	       "1.2 host: exit code 3 read from the 1.2 result");
	like(job->error, "exited with status 3", "1.2 host: job error");
	job_free(&job);
	job = run("POD_1", "sync", "u1", NULL);
	is_int(job->status, DMF_STATUS_SUCCESS, "1.2 host: sync succeeds");
	job_free(&job);
	is_int(fake_host_wipe_calls - wipes, 0,
	       "1.2 host: no crypto->wipe called (the fallback wipes)");
	dmf_plugin_v1.fini(ctx);

	/* 1.3: the host's wipe is used */
	fake_host_init(&fh, host_get());
	ok(dmf_plugin_v1.init(&fh.host, &ctx, &e) == 0, "init on a 1.3 host");
	wipes = fake_host_wipe_calls;
	job = run("POD_1", "sync", "u1", NULL);
	is_int(job->status, DMF_STATUS_SUCCESS, "1.3 host: sync succeeds");
	job_free(&job);
	ok(fake_host_wipe_calls > wipes, "1.3 host: crypto->wipe used (%lu)",
	   fake_host_wipe_calls - wipes);
	dmf_plugin_v1.fini(ctx);

	/* no crypto table at all: still runs, on the fallback */
	fake_host_init(&fh, host_get());
	fh.host.crypto = NULL;
	ok(dmf_plugin_v1.init(&fh.host, &ctx, &e) == 0,
	   "init without a crypto table");
	wipes = fake_host_wipe_calls;
	job = run("POD_1", "cutover", "u", NULL);
	is_int(json_integer_value(json_object_get(detail(job), "exitCode")), 3,
	       "NULL crypto table: the job runs");
	job_free(&job);
	is_int(fake_host_wipe_calls - wipes, 0, "NULL crypto table: no wipe");
	dmf_plugin_v1.fini(ctx);

	/* a 1.0 daemon (no exec table) and a NULL exec table: refused */
	fake_host_init(&fh, host_get());
	fake_host_as_minor(&fh, 0);
	ok(dmf_plugin_v1.init(&fh.host, &ctx, &e) < 0, "1.0 host refused");
	like(e, "ABI 1.1 needed", "1.0 host: reason");
	fake_host_init(&fh, host_get());
	fh.host.exec = NULL;
	e = NULL;
	ok(dmf_plugin_v1.init(&fh.host, &ctx, &e) < 0,
	   "NULL exec table refused");
	like(e, "no exec/inject services", "NULL exec table: reason");
	host_deinit();
	config_free(&cfg);
}

int main(void)
{
	struct config *cfg = NULL;
	char *err = NULL, *logbuf = NULL;
	const char *e = NULL;
	size_t loglen = 0;
	FILE *logf = open_memstream(&logbuf, &loglen);
	struct dmf_job *job;
	json_t *d;

	plan_lazy();
	log_set_stream(logf);
	ok(config_load_string(yaml, "p.yml", NULL, &cfg, &err) == 0,
	   "config: %s", err ? err : "ok");
	ok(host_init(cfg, "command", &err) == 0, "host_init: %s",
	   err ? err : "ok");
	is_str(dmf_plugin_v1.name, "command", "plugin name");
	ok(dmf_plugin_v1.init(host_get(), &ctx, &e) == 0, "init: %s",
	   e ? e : "ok");

	job = run("POD_1", "sync", "us er;1", NULL);
	is_int(job->status, DMF_STATUS_SUCCESS, "sync via default: success");
	d = detail(job);
	is_int(json_integer_value(json_object_get(d, "exitCode")), 0,
	       "exitCode 0");
	ok(json_is_true(json_object_get(d, "success")), "success true");
	like(json_string_value(json_object_get(d, "command")),
	     "sh hello 'us er;1' imap.example",
	     "command as run, injected, one argument per value");
	is_str(json_string_value(
		       json_array_get(json_object_get(d, "errors"), 0)),
	       "warn-line", "stderr lines in errors");
	job_free(&job);

	job = run("POD_1", "cutover", "u1", NULL);
	is_int(job->status, DMF_STATUS_FAILURE, "cutover exit 3: failure");
	is_str(job->error, "migration command exited with status 3",
	       "error text");
	d = detail(job);
	is_int(json_integer_value(json_object_get(d, "exitCode")), 3,
	       "exitCode 3");
	ok(json_is_false(json_object_get(d, "success")), "success false");
	is_int(json_array_size(json_object_get(d, "errors")), 2, "two errors");
	job_free(&job);

	job = run("POD_2", "sync", "u2", "Sup3rSecret");
	is_int(job->status, DMF_STATUS_SUCCESS, "POD_2 block used");
	like(json_string_value(json_object_get(detail(job), "command")),
	     "pw=Sup3rSecret",
	     "spec 7.1.3: passwords not hidden in the command worker's "
	     "details");
	job_free(&job);
	fflush(logf);
	ok(logbuf != NULL && strstr(logbuf, "Sup3rSecret") == NULL,
	   "but never in the worker log");
	like(logbuf, "running migration command: /bin/echo pw=<hidden>",
	     "the log shows the redacted form");

	job = run("POD_2", "cutover", "u2", NULL);
	is_int(job->status, DMF_STATUS_FAILURE, "unknown placeholder fails");
	like(job->error,
	     "configuration error: unknown placeholder "
	     "'%{mdb:nosuch}'",
	     "error names the placeholder");
	ok(json_is_null(json_object_get(detail(job), "command")),
	   "details: command null");
	job_free(&job);

	job = run("POD_3", "sync", "u3", NULL);
	is_int(job->status, DMF_STATUS_FAILURE, "timeout fails");
	like(job->error, "timed out after 200 ms", "timeout error");
	job_free(&job);

	job = run("POD_3", "cutover", "u3", NULL);
	is_int(job->status, DMF_STATUS_FAILURE, "missing program fails");
	like(job->error, "cannot run '/nonexistent/migrate'", "its error");
	job_free(&job);

	job = job_new("2", "sync", "POD_1", "t");
	job_set_property(job, "uid", "u4", false);
	job_abort(job);
	dmf_plugin_v1.run(ctx, job);
	is_int(job->status, DMF_STATUS_FAILURE, "aborted job fails");
	host_job_finished(job);
	job_free(&job);

	dmf_plugin_v1.fini(ctx);
	host_deinit();
	config_free(&cfg);

	/* hide-passwords: true, and no block for the source */
	ok(config_load_string(
		   "dmf:\n  command:\n    hide-passwords: true\n"
		   "    source:\n      POD_9:\n        command:\n"
		   "          sync:\n            sync:\n"
		   "              name: /bin/echo\n"
		   "              arguments: \"%{mdb:sourcepasswd}\"\n",
		   "q.yml", NULL, &cfg, &err) == 0,
	   "second config");
	ok(host_init(cfg, "command", &err) == 0, "host_init 2");
	ok(dmf_plugin_v1.init(host_get(), &ctx, &e) == 0, "init 2");
	job = run("POD_9", "sync", "u", "Sup3rSecret");
	is_str(json_string_value(json_object_get(detail(job), "command")),
	       "/bin/echo <hidden>", "hide-passwords hides them in details");
	job_free(&job);
	job = run("POD_8", "sync", "u", NULL);
	like(job->error, "no dmf.command.source block for source 'POD_8'",
	     "no block for the source and no default");
	job_free(&job);
	job = run("POD_9", "cutover", "u", NULL);
	like(job->error, "no migration command for phase 'cutover'",
	     "no command for the phase");
	job_free(&job);
	dmf_plugin_v1.fini(ctx);
	host_deinit();
	config_free(&cfg);

	test_older_hosts();
	log_set_stream(stderr);
	fclose(logf);
	free(logbuf);
	return done_testing();
}
