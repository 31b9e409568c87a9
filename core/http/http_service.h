/*
 * http_service.h - the worker's HTTP surfaces put together: the server
 * (http_server.h), its route table, and the components answering it
 * (health, info, the backends admin API; /metrics and /prometheus from
 * core/metrics/).  main() starts it before the worker reaches the
 * database, so /health answers (DOWN) while the database is unreachable.
 */
#ifndef DMF_HTTP_SERVICE_H
#define DMF_HTTP_SERVICE_H

#include "dmf/plugin.h"
#include "lib/config.h"

struct http_service;

/*
 * Read the configuration, build the components, register the routes and
 * serve.  A configuration error (bad key, unreadable keystore) fails with
 * -EINVAL and *error_r (allocated).  A port that cannot be bound is logged
 * as an error and the worker goes on: when it is taken (or the configured
 * address is not up yet) a thread binds it again after 1 s, doubling to
 * 30 s, until it serves.
 */
int http_service_start(const struct config *cfg,
		       const struct dmf_plugin *plugin,
		       struct http_service **svc_r, char **error_r);
/* The port served, 0 when none. */
unsigned http_service_port(const struct http_service *svc);
void http_service_stop(struct http_service **svc);

#endif
