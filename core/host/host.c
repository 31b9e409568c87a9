/*
 * host.c - the log, config, job and response tables of struct dmf_host.
 *
 * struct dmf_conf is the SDK's opaque name for core's struct cfg_node;
 * struct dmf_job is core's job (core/job.h).
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/doveadm_http.h"
#include "client/imap_move.h"
#include "dmf/plugin.h"
#include "host/host.h"
#include "host/host_db.h"
#include "host/host_services.h"
#include "lib/job.h"
#include "lib/log.h"
#include "lib/mdb.h"
#include "lib/util.h"

static const struct config *host_cfg;
static char *host_type;

#define NODE(c) ((const struct cfg_node *)(const void *)(c))
#define CONF(n) ((const struct dmf_conf *)(const void *)(n))

/* ---------------------------------------------------------------- log --- */

static void h_log(enum dmf_log_level level, const struct dmf_job *job,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, job, fmt, ap);
	va_end(ap);
}

static int h_log_enabled(enum dmf_log_level level)
{
	return log_enabled(level);
}

static const struct dmf_host_log host_log = {
	.size = sizeof(struct dmf_host_log),
	.log = h_log,
	.enabled = h_log_enabled,
};

/* ------------------------------------------------------------- config --- */

static const struct cfg_node *plugin_node(void)
{
	char path[64];

	snprintf(path, sizeof(path), "dmf.%s", host_type);
	return cfg_get(host_cfg->root, path);
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
	return base != NULL ? NODE(base) : host_cfg->root;
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

static const struct dmf_host_config host_config = {
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

/* ---------------------------------------------------------------- job --- */

static const char *h_job_id(const struct dmf_job *job)
{
	return job->id;
}

static const char *h_job_phase(const struct dmf_job *job)
{
	return job->phase;
}

static const char *h_job_source(const struct dmf_job *job)
{
	return job->source;
}

static const char *h_job_target(const struct dmf_job *job)
{
	return job->target;
}

static size_t h_job_property_count(const struct dmf_job *job)
{
	return job->n_props;
}

static const char *h_job_property_name(const struct dmf_job *job, size_t i)
{
	return i < job->n_props ? job->props[i].name : NULL;
}

static int h_job_property_is_secret(const struct dmf_job *job, const char *name)
{
	return job_property_is_secret(job, name) ? 1 : 0;
}

static unsigned h_job_attempt(const struct dmf_job *job)
{
	return job->attempt;
}

static int h_job_aborted(const struct dmf_job *job)
{
	return job_is_aborted(job) ? 1 : 0;
}

static int h_job_abort_fd(const struct dmf_job *job)
{
	return job->abort_fd;
}

static int h_job_set_property(struct dmf_job *job, const char *name,
			      const char *value, int secret)
{
	if (job == NULL || name == NULL || *name == '\0' || value == NULL ||
	    strlen(name) > 64)
		return -EINVAL;
	if (!mdb_plugin_settable(name))
		return -EPERM;
	return job_set_property(job, name, value, secret != 0);
}

static const struct dmf_host_job host_job = {
	.size = sizeof(struct dmf_host_job),
	.id = h_job_id,
	.phase = h_job_phase,
	.source = h_job_source,
	.target = h_job_target,
	.property = job_get_property,
	.property_count = h_job_property_count,
	.property_name = h_job_property_name,
	.property_is_secret = h_job_property_is_secret,
	.attempt = h_job_attempt,
	.aborted = h_job_aborted,
	.sleep_ms = job_sleep_ms,
	.abort_fd = h_job_abort_fd,
	/* 1.4 */
	.set_property = h_job_set_property,
};

/* ----------------------------------------------------------- response --- */

static void h_set_error(struct dmf_job *job, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	job_set_errorv(job, fmt, ap);
	va_end(ap);
}

static int h_add_detail(struct dmf_job *job, const char *operation,
			const char *json_text)
{
	json_error_t jerr;
	json_t *obj;
	int ret;

	if (operation == NULL || json_text == NULL)
		return -EINVAL;
	obj = json_loads(json_text, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return -EINVAL;
	}
	ret = job_add_detail(job, operation, obj);
	json_decref(obj);
	return ret;
}

static const struct dmf_host_response host_response = {
	.size = sizeof(struct dmf_host_response),
	.set_status = job_set_status,
	.set_error = h_set_error,
	.add_detail = h_add_detail,
	.set_count = job_set_count,
};

/* --------------------------------------------------------------- host --- */

static struct dmf_host host = {
	.size = sizeof(struct dmf_host),
	.abi_major = DMF_ABI_MAJOR,
	.abi_minor = DMF_ABI_MINOR,
	.log = &host_log,
	.config = &host_config,
	.job = &host_job,
	.response = &host_response,
};

static bool host_services_up;

int host_init(const struct config *cfg, const char *type, char **error_r)
{
	int ret;

	host_deinit();
	host_cfg = cfg;
	host_type = xstrdup(type);
	if (host_type == NULL) {
		*error_r = xasprintf("out of memory");
		return -ENOMEM;
	}
	ret = host_exec_init(cfg, error_r);
	if (ret < 0)
		return ret;
	ret = host_crypto_init(cfg, error_r);
	if (ret < 0) {
		host_exec_deinit();
		return ret;
	}
	ret = dhttp_init(cfg, error_r);
	if (ret < 0) {
		host_crypto_deinit();
		host_exec_deinit();
		return ret;
	}
	host_services_up = true;
	host.exec = host_exec_table();
	host.inject = host_inject_table();
	host.crypto = host_crypto_table();
	host.db = host_db_table();
	host.http = dhttp_table();
	host.imap = imap_move_table();
	return 0;
}

void host_job_finished(struct dmf_job *job)
{
	if (host_services_up)
		host_exec_job_finish(job, job->status == DMF_STATUS_SUCCESS);
}

const struct dmf_host *host_get(void)
{
	return &host;
}

void host_deinit(void)
{
	if (host_services_up) {
		dhttp_deinit();
		host_crypto_deinit();
		host_exec_deinit();
		host_services_up = false;
	}
	host.exec = NULL;
	host.inject = NULL;
	host.crypto = NULL;
	host.db = NULL;
	host.http = NULL;
	host.imap = NULL;
	host_db_set_pool(NULL);
	free(host_type);
	host_type = NULL;
	host_cfg = NULL;
}
