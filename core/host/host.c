/*
 * host.c - the log, job and response tables of struct dmf_host, and the
 * host's start and end (the config table is host_config.c).
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
	.config = &host_config_tbl,
	.job = &host_job,
	.response = &host_response,
};

static bool host_services_up;

int host_init(const struct config *cfg, const char *type, char **error_r)
{
	int ret;

	host_deinit();
	if (host_config_init(cfg, type) < 0) {
		*error_r = xasprintf("out of memory");
		return -ENOMEM;
	}
	if (host_secrets_init(cfg) < 0) {
		*error_r = xasprintf("out of memory");
		return -ENOMEM;
	}
	ret = host_exec_init(cfg, error_r);
	if (ret < 0) {
		host_secrets_deinit();
		return ret;
	}
	ret = host_crypto_init(cfg, error_r);
	if (ret < 0) {
		host_exec_deinit();
		host_secrets_deinit();
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
	host.metrics = host_metrics_table(type);
	host.http = dhttp_table();
	host.imap = imap_move_table();
	return 0;
}

void host_job_started(struct dmf_job *job)
{
	(void)job;
	host_config_job_begin();
}

void host_job_finished(struct dmf_job *job)
{
	if (host_services_up)
		host_exec_job_finish(job, job->status == DMF_STATUS_SUCCESS);
	host_config_job_end();
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
		host_secrets_deinit();
		host_services_up = false;
	}
	host.exec = NULL;
	host.inject = NULL;
	host.crypto = NULL;
	host.db = NULL;
	host.metrics = NULL;
	host.http = NULL;
	host.imap = NULL;
	host_db_set_pool(NULL);
	host_config_deinit();
}
