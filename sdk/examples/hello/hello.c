/*
 * hello.c - the smallest useful dmf-worker job-worker plugin.
 *
 * It reports every job as a success with one details entry that names the
 * job's user and phase.  Build it against the installed SDK:
 *
 *   cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags dmf-plugin) \
 *      -o hello.so hello.c
 *
 * and run it with `dmf.worker.type: hello` and `dmf.worker.plugin-dir` set
 * to the directory holding hello.so.
 */
#include <stdio.h>
#include <stdlib.h>

#include <dmf/plugin.h>

struct hello {
	const struct dmf_host *host;
	const char *greeting;
};

static int hello_init(const struct dmf_host *host, void **ctx_r,
		      const char **error_r)
{
	struct hello *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		*error_r = "out of memory";
		return -12;
	}
	h->host = host;
	/* dmf.hello.greeting, with a default */
	if (host->config->get_string(host->config->plugin_root(), "greeting",
				     "hello", &h->greeting, error_r) < 0) {
		free(h);
		return -22;
	}
	*ctx_r = h;
	return 0;
}

static int hello_run(void *ctx, struct dmf_job *job)
{
	struct hello *h = ctx;
	const struct dmf_host *host = h->host;
	const char *uid = host->job->property(job, "uid");
	char details[256];

	snprintf(details, sizeof(details),
		 "{\"success\": true, \"greeting\": \"%s\", \"phase\": \"%s\"}",
		 h->greeting, host->job->phase(job));
	host->log->log(DMF_LOG_INFO, job, "%s, %s", h->greeting,
		       uid != NULL ? uid : "(no uid)");
	if (host->response->add_detail(job, "hello", details) < 0) {
		host->response->set_error(job, "bad details");
		host->response->set_status(job, DMF_STATUS_FAILURE);
		return 0;
	}
	host->response->set_status(job, DMF_STATUS_SUCCESS);
	return 0;
}

static void hello_fini(void *ctx)
{
	free(ctx);
}

DMF_PLUGIN_DEFINE("hello", "1.0.0", hello_init, hello_run, hello_fini);
