/* reload.c - SIGHUP: apply the reloadable part of the configuration file,
 * name every other change as needing a restart. */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmf/text.h"
#include "host/host_services.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/util.h"
#include "worker/reload.h"

extern char **environ;

/* One leaf of a configuration: "a.b[2].c" and its text ("" for an empty
 * map or list, so that removing a block is seen too). */
struct leaf {
	char *path;
	const char *value;
};

struct leaves {
	struct leaf *v;
	size_t n, cap;
	bool failed;
};

static void leaves_add(struct leaves *l, const char *path, const char *value)
{
	if (l->failed)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 64 : l->cap * 2;
		struct leaf *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			l->failed = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].path = xstrdup(path);
	l->v[l->n].value = value != NULL ? value : "";
	if (l->v[l->n].path == NULL)
		l->failed = true;
	else
		l->n++;
}

static void flatten(struct leaves *l, const struct cfg_node *n,
		    const char *path)
{
	char sub[512];

	if (n->kind == CFG_SCALAR || n->n_children == 0) {
		leaves_add(l, path, n->value);
		return;
	}
	for (size_t i = 0; i < n->n_children; i++) {
		const struct cfg_node *c = n->children[i];

		if (c->key != NULL)
			snprintf(sub, sizeof(sub), "%s%s%s", path,
				 path[0] != '\0' ? "." : "", c->key);
		else
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		flatten(l, c, sub);
	}
}

static int leaf_cmp(const void *a, const void *b)
{
	return strcmp(((const struct leaf *)a)->path,
		      ((const struct leaf *)b)->path);
}

static void leaves_free(struct leaves *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
}

static bool has_prefix(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(path, prefix, n) == 0 &&
	       (path[n] == '\0' || path[n] == '.' || path[n] == '[');
}

static bool reloadable(const char *path, const char *type)
{
	char p[80];

	if (has_prefix(path, "logger.levels.root") ||
	    has_prefix(path, "dmf.worker.command.logging"))
		return true;
	snprintf(p, sizeof(p), "dmf.%s.source", type);
	if (has_prefix(path, p))
		return true;
	snprintf(p, sizeof(p), "dmf.%s.sources", type);
	return has_prefix(path, p);
}

/* Name the changed keys (never their values: some are secrets). */
static void report_changes(const struct config *old, const struct config *new,
			   const char *type, unsigned *applied_r)
{
	struct leaves a = { 0 }, b = { 0 };
	struct dmf_strbuf restart = DMF_STRBUF_INIT;
	size_t i = 0, j = 0, n_restart = 0;
	unsigned applied = 0;

	flatten(&a, old->root, "");
	flatten(&b, new->root, "");
	if (a.failed || b.failed) {
		log_warn("SIGHUP: out of memory comparing the configurations");
		goto out;
	}
	qsort(a.v, a.n, sizeof(*a.v), leaf_cmp);
	qsort(b.v, b.n, sizeof(*b.v), leaf_cmp);
	while (i < a.n || j < b.n) {
		int c = i == a.n ? 1 :
			j == b.n ? -1 :
				   strcmp(a.v[i].path, b.v[j].path);
		const char *path;

		if (c == 0 && strcmp(a.v[i].value, b.v[j].value) == 0) {
			i++;
			j++;
			continue;
		}
		path = c <= 0 ? a.v[i].path : b.v[j].path;
		if (reloadable(path, type)) {
			applied++;
		} else {
			if (n_restart < 20)
				dmf_strbuf_addf(&restart, "%s%s",
						n_restart > 0 ? ", " : "",
						path);
			n_restart++;
		}
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	if (n_restart > 0)
		log_warn("SIGHUP: %zu changed setting(s) need a restart and "
			 "keep their running value: %s%s",
			 n_restart, restart.failed ? "?" : restart.p,
			 n_restart > 20 ? ", ..." : "");
out:
	dmf_strbuf_free(&restart);
	leaves_free(&a);
	leaves_free(&b);
	*applied_r = applied;
}

void worker_reload(void *ctx)
{
	const struct reload_params *p = ctx;
	const struct config *old = host_config_current();
	struct config *cfg = NULL;
	enum dmf_log_level level;
	const char *level_text = "info", *err = NULL;
	char *error = NULL;
	unsigned applied = 0;

	log_info("SIGHUP: reloading %s", p->path);
	if (config_load(p->path, environ, &cfg, &error) < 0) {
		log_error("SIGHUP: %s; the running configuration is kept",
			  error);
		free(error);
		return;
	}
	for (size_t i = 0; i < cfg->n_warnings; i++)
		log_warn("SIGHUP: %s", cfg->warnings[i]);
	if (cfg_get_string(cfg->root, "logger.levels.root", "info", &level_text,
			   &err) < 0 ||
	    log_parse_level(level_text, &level) < 0) {
		log_error("SIGHUP: %s; the running configuration is kept",
			  err != NULL ? err :
					"logger.levels.root: unknown "
					"level (debug, info, warn, "
					"error)");
		config_free(&cfg);
		return;
	}
	/* the command-logging settings are checked by applying them: on
	 * error nothing has changed yet */
	if (host_exec_reload_logging(cfg, &error) < 0) {
		log_error("SIGHUP: %s; the running configuration is kept",
			  error);
		free(error);
		config_free(&cfg);
		return;
	}
	if (old != NULL)
		report_changes(old, cfg, p->type, &applied);
	if (host_secrets_add(cfg) < 0 || host_config_replace(cfg) < 0) {
		log_error("SIGHUP: out of memory; the per-source settings are "
			  "kept");
		config_free(&cfg);
		return;
	}
	if (p->level_from_command_line)
		log_info("SIGHUP: the log level stays as --log-level set it");
	else
		log_set_level(level);
	log_info("SIGHUP: configuration reloaded (%u reloadable setting(s) "
		 "changed): log level %s, command logging and per-source "
		 "settings apply to jobs that start from now on",
		 applied,
		 p->level_from_command_line ? "unchanged" : level_text);
}
