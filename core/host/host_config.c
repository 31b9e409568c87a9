/*
 * host_config.c - the config table of struct dmf_host, over generations of
 * the configuration.
 *
 * A job sees, for its whole run, the configuration that was current when
 * it started (host_config_job_begin() pins it to the executor thread that
 * runs the job).  A reload (SIGHUP) makes a new configuration current for
 * the jobs that start after it; the one it replaces is freed when the last
 * job that still uses it has ended.  Outside a job (plugin init(), the
 * main thread) the current configuration is read.
 *
 * struct dmf_conf is the SDK's opaque name for core's struct cfg_node.
 */
#include "dmf-build.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_services.h"
#include "lib/config.h"
#include "lib/util.h"

#define NODE(c) ((const struct cfg_node *)(const void *)(c))
#define CONF(n) ((const struct dmf_conf *)(const void *)(n))

struct cfg_gen {
	const struct config *cfg;
	struct config *owned; /* NULL for the one host_init() was given */
	unsigned jobs; /* running jobs pinned to it */
	struct cfg_gen *next; /* in `retired` */
};

static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct cfg_gen *) current;
static struct cfg_gen *retired; /* replaced, still used by running jobs */
static _Thread_local struct cfg_gen *pinned;
static char *host_type;

static const struct config *cur(void)
{
	struct cfg_gen *g = pinned != NULL ? pinned : atomic_load(&current);

	return g->cfg;
}

static void gen_free(struct cfg_gen **gp)
{
	if (*gp == NULL)
		return;
	config_free(&(*gp)->owned);
	free(*gp);
	*gp = NULL;
}

int host_config_init(const struct config *cfg, const char *type)
{
	struct cfg_gen *g = calloc(1, sizeof(*g));

	host_config_deinit();
	host_type = xstrdup(type);
	if (g == NULL || host_type == NULL) {
		free(g);
		free(host_type);
		host_type = NULL;
		return -ENOMEM;
	}
	g->cfg = cfg;
	atomic_store(&current, g);
	return 0;
}

void host_config_deinit(void)
{
	struct cfg_gen *g = atomic_exchange(&current, NULL);

	pthread_mutex_lock(&gen_lock);
	while (retired != NULL) {
		struct cfg_gen *r = retired;

		retired = r->next;
		gen_free(&r);
	}
	pthread_mutex_unlock(&gen_lock);
	gen_free(&g);
	free(host_type);
	host_type = NULL;
}

const struct config *host_config_current(void)
{
	struct cfg_gen *g = atomic_load(&current);

	return g != NULL ? g->cfg : NULL;
}

int host_config_replace(struct config *cfg)
{
	struct cfg_gen *g = calloc(1, sizeof(*g)), *old;

	if (g == NULL)
		return -ENOMEM;
	g->cfg = cfg;
	g->owned = cfg;
	pthread_mutex_lock(&gen_lock);
	old = atomic_exchange(&current, g);
	if (old != NULL && old->jobs > 0) {
		old->next = retired;
		retired = old;
		old = NULL;
	}
	pthread_mutex_unlock(&gen_lock);
	gen_free(&old);
	return 0;
}

void host_config_job_begin(void)
{
	pthread_mutex_lock(&gen_lock);
	pinned = atomic_load(&current);
	if (pinned != NULL)
		pinned->jobs++;
	pthread_mutex_unlock(&gen_lock);
}

void host_config_job_end(void)
{
	struct cfg_gen *g = pinned, *done = NULL;

	if (g == NULL)
		return;
	pinned = NULL;
	pthread_mutex_lock(&gen_lock);
	if (--g->jobs == 0 && g != atomic_load(&current)) {
		for (struct cfg_gen **p = &retired; *p != NULL;
		     p = &(*p)->next) {
			if (*p == g) {
				*p = g->next;
				done = g;
				break;
			}
		}
	}
	pthread_mutex_unlock(&gen_lock);
	gen_free(&done);
}

static const struct cfg_node *plugin_node(void)
{
	char path[64];

	snprintf(path, sizeof(path), "dmf.%s", host_type);
	return cfg_get(cur()->root, path);
}

static const struct dmf_conf *h_plugin_root(void)
{
	return CONF(plugin_node());
}

static const struct dmf_conf *h_source(const char *source)
{
	static const char *const blocks[] = { "source", "sources" };
	const struct cfg_node *root = plugin_node();
	const char *names[2] = { source, "default" };

	if (root == NULL)
		return NULL;
	for (size_t n = 0; n < 2; n++) {
		if (names[n] == NULL)
			continue;
		for (size_t b = 0; b < 2; b++) {
			const struct cfg_node *m = cfg_child(root, blocks[b]);
			const struct cfg_node *s =
				m != NULL ? cfg_child(m, names[n]) : NULL;

			if (s != NULL)
				return CONF(s);
		}
	}
	return NULL;
}

static const struct cfg_node *base_or_root(const struct dmf_conf *base)
{
	return base != NULL ? NODE(base) : cur()->root;
}

static const struct dmf_conf *h_get(const struct dmf_conf *base,
				    const char *path)
{
	return CONF(cfg_get(base_or_root(base), path));
}

static int h_get_string(const struct dmf_conf *base, const char *path,
			const char *def, const char **value_r,
			const char **error_r)
{
	return cfg_get_string(base_or_root(base), path, def, value_r, error_r);
}

static int h_get_int(const struct dmf_conf *base, const char *path,
		     long long def, long long *value_r, const char **error_r)
{
	return cfg_get_int(base_or_root(base), path, def, value_r, error_r);
}

static int h_get_bool(const struct dmf_conf *base, const char *path, int def,
		      int *value_r, const char **error_r)
{
	bool v;
	int ret = cfg_get_bool(base_or_root(base), path, def != 0, &v, error_r);

	if (ret == 0)
		*value_r = v ? 1 : 0;
	return ret;
}

static int h_get_duration_ms(const struct dmf_conf *base, const char *path,
			     long long def, long long *ms_r,
			     const char **error_r)
{
	return cfg_get_duration_ms(base_or_root(base), path, def, ms_r,
				   error_r);
}

static enum dmf_conf_kind h_kind(const struct dmf_conf *node)
{
	if (node == NULL)
		return DMF_CONF_NULL;
	switch (NODE(node)->kind) {
	case CFG_SCALAR:
		return DMF_CONF_SCALAR;
	case CFG_MAP:
		return DMF_CONF_MAP;
	case CFG_LIST:
		return DMF_CONF_LIST;
	default:
		return DMF_CONF_NULL;
	}
}

static const char *h_scalar(const struct dmf_conf *node)
{
	return node != NULL && NODE(node)->kind == CFG_SCALAR ?
		       NODE(node)->value :
		       NULL;
}

static size_t h_count(const struct dmf_conf *node)
{
	if (node == NULL ||
	    (NODE(node)->kind != CFG_MAP && NODE(node)->kind != CFG_LIST))
		return 0;
	return NODE(node)->n_children;
}

static const struct dmf_conf *h_child(const struct dmf_conf *node, size_t i)
{
	return i < h_count(node) ? CONF(NODE(node)->children[i]) : NULL;
}

static const char *h_key(const struct dmf_conf *node)
{
	return node != NULL ? NODE(node)->key : NULL;
}

static const char *h_origin(const struct dmf_conf *node)
{
	static _Thread_local char buf[512];

	if (node == NULL)
		return "(absent)";
	return cfg_origin(NODE(node), buf, sizeof(buf));
}

const struct dmf_host_config host_config_tbl = {
	.size = sizeof(struct dmf_host_config),
	.plugin_root = h_plugin_root,
	.source = h_source,
	.get = h_get,
	.get_string = h_get_string,
	.get_int = h_get_int,
	.get_bool = h_get_bool,
	.get_duration_ms = h_get_duration_ms,
	.kind = h_kind,
	.scalar = h_scalar,
	.count = h_count,
	.child = h_child,
	.key = h_key,
	.origin = h_origin,
};
