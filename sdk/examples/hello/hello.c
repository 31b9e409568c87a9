/*
 * hello.c - the smallest useful dmf-worker job-worker plugin, and the file
 * to copy when you start one.
 *
 * It reports every job as a success with one details entry that names the
 * job's user, phase and the configured greeting.  Build it against the
 * installed SDK:
 *
 *   cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags dmf-plugin) \
 *      -o hello.so hello.c
 *
 * and run it with `dmf.worker.type: hello` and `dmf.worker.plugin-dir` set
 * to the directory holding hello.so (mode 0755, not group/world-writable).
 *
 * The ABI rules this file follows (docs/plugin-guide.md says more):
 *
 * - Threads.  init() and fini() run once, on the main thread, while no job
 *   runs.  run() runs on worker threads, several at once with the same
 *   ctx: anything it shares must be read-only after init() or locked.  The
 *   response table and exec->run() may only be called from the thread
 *   running that job; log, config, job, inject, crypto and db from any.
 * - Ownership.  The host owns `host`, its tables, every job and every
 *   string it returns; they stay valid until fini() returns (a job: until
 *   run() returns).  What the plugin allocates it frees.  Strings passed to
 *   the host are copied when the host keeps them.
 * - Errors.  Return 0 or a negative errno name (-ENOMEM, -EINVAL, ...),
 *   never a bare number.  init()'s *error_r must be static or owned by
 *   ctx: the daemon logs it and exits.
 * - Versions.  A member newer than the ABI minor you build for must be
 *   tested with DMF_HAS() before use (false for a NULL table too); the
 *   daemon refuses a plugin built for a newer minor than its own.
 * - Secrets.  Never log job properties that property_is_secret() flags;
 *   wipe copies with dmf_host_wipe(host) (no OpenSSL in plugins).
 * - Libraries.  A plugin links nothing the daemon wraps (OpenSSL, the
 *   database client); for JSON text use dmf/text.h's escaping, as here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dmf/plugin.h>
#include <dmf/text.h>

/* The plugin's state: written by init(), only read by run() afterwards,
 * so the worker threads share it without a lock. */
struct hello {
	const struct dmf_host *host;
	const char *greeting; /* owned by the host's config: valid to fini() */
};

static int hello_init(const struct dmf_host *host, void **ctx_r,
		      const char **error_r)
{
	struct hello *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		*error_r = "out of memory"; /* static text */
		return -ENOMEM;
	}
	h->host = host;
	/* dmf.hello.greeting, with a default; on a wrong type *error_r is
	 * the host's message naming file, line and key */
	if (host->config->get_string(host->config->plugin_root(), "greeting",
				     "hello", &h->greeting, error_r) < 0) {
		free(h);
		return -EINVAL;
	}
	*ctx_r = h;
	return 0;
}

/* Append `, "key": "value"` with the value escaped for JSON (quotes,
 * backslashes, control bytes, invalid UTF-8): a user name such as
 * `a"b` must not break the details. */
static void add_member(struct dmf_strbuf *b, const char *key, const char *value)
{
	dmf_strbuf_adds(b, ", ");
	dmf_strbuf_add_json_string(b, key, strlen(key));
	dmf_strbuf_adds(b, ": ");
	dmf_strbuf_add_json_string(b, value, strlen(value));
}

/* On a worker thread; `job` is the host's and valid until we return. */
static int hello_run(void *ctx, struct dmf_job *job)
{
	const struct hello *h = ctx;
	const struct dmf_host *host = h->host;
	const char *uid = host->job->property(job, DMF_MDB_UID);
	struct dmf_strbuf details = DMF_STRBUF_INIT;
	char *json;
	int ret;

	if (uid == NULL)
		uid = "(no uid)";
	dmf_strbuf_adds(&details, "{\"success\": true");
	add_member(&details, "greeting", h->greeting);
	add_member(&details, "user", uid);
	add_member(&details, "phase", host->job->phase(job));
	dmf_strbuf_adds(&details, "}");
	json = dmf_strbuf_take(&details); /* ours: free it */
	if (json == NULL)
		return -ENOMEM; /* the job fails with "out of memory" */

	host->log->log(DMF_LOG_INFO, job, "%s, %s", h->greeting, uid);
	/* add_detail() copies the text */
	ret = host->response->add_detail(job, "hello", json);
	free(json);
	if (ret < 0) {
		host->response->set_error(job, "bad details: %s",
					  strerror(-ret));
		host->response->set_status(job, DMF_STATUS_FAILURE);
		return 0; /* the job failed, the plugin did not */
	}
	host->response->set_status(job, DMF_STATUS_SUCCESS);
	return 0;
}

/* On the main thread, after the last run() returned. */
static void hello_fini(void *ctx)
{
	free(ctx);
}

DMF_PLUGIN_DEFINE("hello", "1.1.0", hello_init, hello_run, hello_fini);
