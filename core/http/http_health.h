/*
 * http_health.h - /health, /health/liveness and /health/readiness in
 * Micronaut's shapes, answered from a snapshot a background thread
 * refreshes every 5 seconds (never a database query per request).
 *
 * Indicators: jdbc (its own one-connection pool to the Migration
 * Database: product and version, per datasource URL), diskSpace (total,
 * free, threshold of endpoints.health.disk-space.path), service (UP once
 * the worker registered and polls, DOWN before and while stopping) and
 * jobs (DOWN while the job leases cannot be renewed).
 */
#ifndef DMF_HTTP_HEALTH_H
#define DMF_HTTP_HEALTH_H

#include <stdbool.h>

#include "http/http_endpoint.h"
#include "lib/config.h"

struct health;

/* Read endpoints.health.* and the datasource, take a first snapshot and
 * start the refresh thread.  0 or -EINVAL with *error_r (allocated). */
int health_create(const struct config *cfg, struct health **h_r,
		  char **error_r);
void health_destroy(struct health **h);

/* What the worker reports (any thread; these work without a health). */
/* the heartbeat renewed the job leases (ok) or failed (error text) */
void health_report_leases(bool ok, const char *error);
/* the worker registered and polls (true), or stops (false) */
void health_report_service(bool up);

/* Route handlers; ctx is the struct health. */
http_handler_fn health_endpoint;
http_handler_fn health_endpoint_liveness;
http_handler_fn health_endpoint_readiness;

#endif
