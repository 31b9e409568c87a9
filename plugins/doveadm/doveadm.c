/*
 * doveadm.c - the `doveadm` job worker (spec section 3): the descriptor,
 * init (plugin-wide settings, analyzer patterns, the config check of
 * confprobe.h, warnings for HTTP API features without http.url), run (migrate.c) and fini.
 *
 *   dmf:
 *     doveadm:
 *       path: /usr/bin/doveadm
 *       config-file: /etc/dovecot/dovecot.conf   # extension: doveadm -c
 *       runtime-dir: /run/dmf-worker/doveadm     # extension: per-job files
 *       source:
 *         default: {...}                         # docs/doveadm.md
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "confprobe.h"
#include "dmf/plugin.h"
#include "durable.h"
#include "migrate.h"
#include "secret.h"

#define DV_DEFAULT_RUNTIME_DIR "/run/dmf-worker/doveadm"

static int get_str(const struct dmf_host *h, const struct dmf_conf *root,
		   const char *key, const char *def, char **out,
		   const char **error_r)
{
	const char *v = def;

	if (root != NULL &&
	    h->config->get_string(root, key, def, &v, error_r) < 0)
		return -EINVAL;
	if (v == NULL || *v == '\0') {
		*out = NULL;
		return 0;
	}
	*out = strdup(v);
	if (*out == NULL) {
		*error_r = "out of memory";
		return -ENOMEM;
	}
	return 0;
}

static void warn_block(const struct dmf_host *h, const char *name,
		       const struct doveadm_source_conf *c)
{
	bool kick = c->director.kick.sync || c->director.kick.cutover ||
		    c->director.flush_metacache.sync ||
		    c->director.flush_metacache.cutover ||
		    c->director.move_user || c->director.use_sourcehost;
	bool remote_http = c->count.remote &&
			   c->count.remote_protocol == DOVEADM_REMOTE_HTTP &&
			   c->count.remote_command == NULL;

	if ((kick || remote_http) && !c->http.configured)
		h->log->log(DMF_LOG_WARN, NULL,
			    "dmf.doveadm.source.%s: %s needs http.url (the "
			    "step will fail)",
			    name,
			    kick ? "director.kick" :
				   "count.remote-protocol: http");
	else if ((kick || remote_http) &&
		 (!DMF_HAS(struct dmf_host, h, http) || h->http == NULL))
		h->log->log(DMF_LOG_WARN, NULL,
			    "dmf.doveadm.source.%s: the daemon offers no "
			    "doveadm HTTP client (ABI 1.4 needed)",
			    name);
}

/* Parse every source block once: report errors early, warn about HTTP
 * API features without http.url. */
static void check_blocks(const struct dmf_host *h, const struct dmf_conf *root)
{
	const struct dmf_host_config *hc = h->config;
	const struct dmf_conf *src =
		root != NULL ? hc->get(root, "source") : NULL;

	for (size_t i = 0; i < hc->count(src); i++) {
		const struct dmf_conf *b = hc->child(src, i);
		struct doveadm_source_conf *c = NULL;
		char *error = NULL;
		const char *name = hc->key(b);

		if (doveadm_conf_parse(hc, b, name, &c, &error) < 0) {
			h->log->log(DMF_LOG_ERROR, NULL,
				    "doveadm worker: %s (jobs of this source "
				    "will fail)",
				    error != NULL ? error : "out of memory");
			free(error);
			continue;
		}
		warn_block(h, name != NULL ? name : "?", c);
		doveadm_conf_free(&c);
	}
}

static void plugin_free(struct dv_plugin *pl)
{
	if (pl == NULL)
		return;
	free(pl->doveadm_path);
	free(pl->config_file);
	free(pl->include);
	free(pl->runtime_dir);
	free(pl->mail_plugins);
	durable_plugin_free(pl);
	pthread_mutex_destroy(&pl->lock);
	free(pl);
}

static int dv_init(const struct dmf_host *host, void **ctx_r,
		   const char **error_r)
{
	const struct dmf_conf *root;
	struct dv_plugin *pl;
	int r;

	if (!DMF_HAS(struct dmf_host, host, inject) || host->exec == NULL ||
	    host->inject == NULL) {
		*error_r = "the daemon offers no exec/inject services (ABI "
			   "1.1 needed)";
		return -ENOTSUP;
	}
	/* wipe secrets with the host's crypto->wipe, or the fallback */
	dv_secret_init(host);
	r = analyzer_global_init(error_r);
	if (r < 0)
		return r;
	pl = calloc(1, sizeof(*pl));
	if (pl == NULL) {
		*error_r = "out of memory";
		return -ENOMEM;
	}
	pthread_mutex_init(&pl->lock, NULL);
	pl->host = host;
	root = host->config->plugin_root();
	r = get_str(host, root, "path", "/usr/bin/doveadm", &pl->doveadm_path,
		    error_r);
	if (r == 0)
		r = get_str(host, root, "config-file", NULL, &pl->config_file,
			    error_r);
	if (r == 0)
		r = get_str(host, root, "runtime-dir", DV_DEFAULT_RUNTIME_DIR,
			    &pl->runtime_dir, error_r);
	if (r == 0 && pl->doveadm_path == NULL) {
		*error_r = "dmf.doveadm.path is empty";
		r = -EINVAL;
	}
	if (r == 0 && pl->runtime_dir == NULL &&
	    (pl->runtime_dir = strdup(DV_DEFAULT_RUNTIME_DIR)) == NULL)
		r = -ENOMEM;
	if (r == 0 && pl->runtime_dir[0] != '/') {
		*error_r = "dmf.doveadm.runtime-dir must be an absolute path";
		r = -EINVAL;
	}
	if (r == 0) {
		char *why = NULL;

		r = confprobe_check(pl, &why);
		if (r < 0) {
			/* init's message must outlive the call */
			static char msg[1024];

			snprintf(msg, sizeof(msg), "%s",
				 why != NULL ? why : "out of memory");
			free(why);
			*error_r = msg;
		}
	}
	if (r < 0) {
		plugin_free(pl);
		dv_secret_init(NULL);
		return r;
	}
	check_blocks(host, root);
	if (DMF_HAS(struct dmf_host, host, metrics) &&
	    DMF_HAS(struct dmf_host_metrics, host->metrics, register_metric)) {
		static const char *const labels[] = { "outcome", NULL };
		const char *merr = NULL;

		/* NULL when the metrics are off: counter_add ignores it */
		pl->dsync_runs = host->metrics->register_metric(
			DMF_METRIC_COUNTER, "dsync.runs",
			"dsync runs of the doveadm worker by outcome (ok, "
			"retry, failed)",
			NULL, labels, &merr);
	}
	host->log->log(DMF_LOG_INFO, NULL,
		       "doveadm worker: %s, config %s%s, per-job files in %s",
		       pl->doveadm_path, pl->include,
		       pl->config_file != NULL ? "" : " (the one it reads)",
		       pl->runtime_dir);
	*ctx_r = pl;
	return 0;
}

static int dv_run(void *ctx, struct dmf_job *job)
{
	return migrate_run(ctx, job);
}

static void dv_fini(void *ctx)
{
	plugin_free(ctx);
	/* the daemon dlcloses the plugin next: free the shared patterns */
	analyzer_global_free();
	dv_secret_init(NULL); /* the host's tables end with fini() */
}

DMF_PLUGIN_DEFINE("doveadm", "1.0.0", dv_init, dv_run, dv_fini);
