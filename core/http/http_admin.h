/*
 * http_admin.h - the backends admin API on the worker's server (spec
 * 2.2.6, 2.2.8, 2.2.10, 2.3), the Scheduler's paths and JSON:
 *
 *   GET   /dmf/admin/api/v2/targets/{target}/backends
 *   GET   /dmf/admin/api/v2/targets/{target}/backends/{name}
 *   PATCH /dmf/admin/api/v2/targets/{target}/backends
 *         {"name": ..., "command": "PAUSE|RESUME|START|STOP"}
 *         {"name": ..., "initialState": 0|1} / {"name": ..., "maxThreads": N}
 *
 * It acts on any backend of the target, through the same core/db/db_admin
 * functions as `dmfctl backend`, on its own small pool (two connections,
 * 5 s timeouts): an admin request never takes a connection the worker's
 * poller or heartbeat needs.  It runs on the server's thread that received
 * it: a slow database delays that request, not the worker.
 */
#ifndef DMF_HTTP_ADMIN_H
#define DMF_HTTP_ADMIN_H

#include <jansson.h>

#include "http/http_endpoint.h"
#include "lib/config.h"

struct admin_api;

/* -ENOENT (no error text) when no datasource is configured. */
int admin_api_create(const struct config *cfg, struct admin_api **api_r,
		     char **error_r);
void admin_api_destroy(struct admin_api **api);

/* Route handlers; ctx is the struct admin_api. */
http_handler_fn admin_backends_list; /* params: target */
http_handler_fn admin_backend_show; /* params: target, name */
http_handler_fn admin_backends_patch; /* params: target */

/* The PATCH body: NULL when it is valid (the pointers into root), else
 * the message of the 400 answer.  Unset fields stay as the caller set
 * them. */
const char *admin_parse_patch(json_t *root, const char **name_r,
			      const char **command_r, long long *max_r,
			      int *initial_r);

#endif
