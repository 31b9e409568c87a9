/*
 * metrics_endpoints.h - /metrics, /metrics/{name} and /prometheus: the
 * handlers the HTTP server calls (http_endpoint.h) and the renderers
 * behind them.
 *
 * Each handler takes as ctx a `struct metrics_endpoints *` that outlives
 * the server; the worker's is metrics_worker_endpoints() (metrics_worker.h).
 * The lead's routes:
 *
 *   struct metrics_endpoints *me = metrics_worker_endpoints();
 *   GET /metrics          -> metrics_endpoint_names, me
 *   GET /metrics/{name}   -> metrics_endpoint_meter, me
 *   GET /prometheus       -> metrics_endpoint_prometheus, me
 *
 * (endpoints.metrics.* governs the first two, endpoints.prometheus.* the
 * third: the server checks enabled/sensitive before the call.)  With
 * micronaut.metrics.enabled false every handler answers 404, as Micronaut
 * has no metrics beans then; with micronaut.metrics.export.prometheus
 * .enabled false /prometheus answers 404.
 */
#ifndef DMF_METRICS_ENDPOINTS_H
#define DMF_METRICS_ENDPOINTS_H

#include <stdbool.h>

#include "http/http_endpoint.h"
#include "lib/config.h"
#include "metrics/metrics.h"

struct metrics_endpoints {
	struct met_registry *reg;
	bool enabled; /* micronaut.metrics.enabled */
	bool prometheus; /* micronaut.metrics.export.prometheus.enabled */
	bool descriptions; /* ...prometheus.descriptions: # HELP lines */
};

/* Read the three keys (defaults true); 0 or -EINVAL with *error_r
 * (naming file, line and key; valid until the next config call). */
int metrics_endpoints_config(const struct config *cfg,
			     struct metrics_endpoints *me,
			     const char **error_r);

/* GET /metrics: {"names":[...]} sorted. */
http_handler_fn metrics_endpoint_names;
/* GET /metrics/{name}: params[0] the name, query `tag=key:value`
 * (repeatable).  404 for an unknown name or when no series matches the
 * tags; 400 "Tags must be in the form key:value". */
http_handler_fn metrics_endpoint_meter;
/* GET /prometheus: text format 0.0.4. */
http_handler_fn metrics_endpoint_prometheus;

/* The Prometheus text of a snapshot into b (descriptions: # HELP). */
void metrics_render_prometheus(const struct met_snapshot *snap,
			       bool descriptions, struct dmf_strbuf *b);

#define METRICS_PROMETHEUS_CONTENT_TYPE \
	"text/plain; version=0.0.4; charset=utf-8"

#endif /* DMF_METRICS_ENDPOINTS_H */
