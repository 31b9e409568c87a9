/*
 * host_metrics.c - the metrics table of struct dmf_host (ABI 1.4): a
 * plugin's own counters and gauges in the worker's registry, under
 * "dmf.<type>.", and a running job's progress.
 */
#include "dmf-build.h"

#include <stdio.h>
#include <string.h>

#include "host/host_services.h"
#include "lib/job.h"
#include "metrics/metrics_worker.h"

static char metrics_prefix[48];

/* A dmf_metric is the daemon's met_family. */
#define FAMILY(m) ((struct met_family *)(void *)(m))

static struct dmf_metric *hm_register(enum dmf_metric_kind kind,
				      const char *name, const char *description,
				      const char *base_unit,
				      const char *const *labels,
				      const char **error_r)
{
	struct met_registry *reg = metrics_worker_registry();
	char full[160];
	struct met_family *f;

	if (reg == NULL) {
		*error_r = "the metrics are off (micronaut.metrics.enabled)";
		return NULL;
	}
	if (kind != DMF_METRIC_COUNTER && kind != DMF_METRIC_GAUGE) {
		*error_r = "unknown metric kind";
		return NULL;
	}
	if (name == NULL || strlen(name) > 100) {
		*error_r = "malformed metric name";
		return NULL;
	}
	snprintf(full, sizeof(full), "%s%s", metrics_prefix, name);
	f = met_register(
		reg, kind == DMF_METRIC_COUNTER ? MET_COUNTER : MET_GAUGE, full,
		description, base_unit, labels, NULL, 0, error_r);
	return (struct dmf_metric *)(void *)f;
}

static void hm_counter_add(struct dmf_metric *m, const char *const *values,
			   unsigned long long n)
{
	if (m != NULL && met_family_type(FAMILY(m)) == MET_COUNTER)
		met_counter_add(met_series(FAMILY(m), values), n);
}

static void hm_gauge_set(struct dmf_metric *m, const char *const *values,
			 double value)
{
	if (m != NULL && met_family_type(FAMILY(m)) == MET_GAUGE)
		met_gauge_set(met_series(FAMILY(m), values), value);
}

static void hm_progress(struct dmf_job *job, long long saved,
			long long expunged, long long bytes)
{
	long long v[3] = { saved, expunged, bytes };

	if (job == NULL)
		return;
	for (int i = 0; i < 3; i++)
		if (v[i] >= 0)
			atomic_store(&job->progress[i], v[i]);
	metrics_job_progress(job);
}

static const struct dmf_host_metrics host_metrics = {
	.size = sizeof(struct dmf_host_metrics),
	.register_metric = hm_register,
	.counter_add = hm_counter_add,
	.gauge_set = hm_gauge_set,
	.progress = hm_progress,
};

const struct dmf_host_metrics *host_metrics_table(const char *type)
{
	snprintf(metrics_prefix, sizeof(metrics_prefix), "dmf.%s.", type);
	return &host_metrics;
}
