/*
 * http_server.h - the worker's HTTP(S) server (libmicrohttpd with its own
 * polling threads): TLS from the PKCS#12 keystore, the access checks
 * (ip-patterns, Basic authentication, endpoints enabled and sensitive),
 * request limits, and a table of routes whose handlers follow
 * http_endpoint.h.
 *
 *   http_server_create(cfg, &srv, &error);        reads every key
 *   http_server_route(srv, "GET", "/metrics/{name}", "metrics", fn, ctx);
 *   http_server_start(srv, &error);               binds and serves
 *   http_server_destroy(&srv);                    stops
 */
#ifndef DMF_HTTP_SERVER_H
#define DMF_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http_endpoint.h"
#include "lib/config.h"

struct http_server;

/* Read micronaut.server.*, micronaut.ssl.*, micronaut.security.*,
 * endpoints.* and http.admin.*; loads the keystore when TLS is on.
 * 0, or -EINVAL with *error_r (allocated) naming file, line and key. */
int http_server_create(const struct config *cfg, struct http_server **srv_r,
		       char **error_r);

/* --check-config: read and check the same keys, without loading the
 * keystore (its file may live on the production host only). */
int http_server_check(const struct config *cfg, char **error_r);

/*
 * Add a route (before http_server_start).  `pattern` is a path whose
 * segments may be `{name}` (one URL-decoded segment each, handed to the
 * handler as params[] in order).  `endpoint` names the endpoint whose
 * endpoints.<name>.enabled / .sensitive apply ("health", "info",
 * "metrics", "prometheus"), or "admin" for the backends admin API
 * (always enabled, always authenticated).  fn NULL: the route exists but
 * answers 404 (an endpoint built without its handler).
 */
int http_server_route(struct http_server *srv, const char *method,
		      const char *pattern, const char *endpoint,
		      http_handler_fn *fn, void *ctx);

/* Bind and serve on the server's threads.  0 or a negative errno with
 * *error_r (allocated); after a failure it may be called again (-EADDRINUSE:
 * the port is taken, -EADDRNOTAVAIL: micronaut.server.host is not an
 * address of this machine yet). */
int http_server_start(struct http_server *srv, char **error_r);
/* The port bound (after start), 0 before. */
unsigned http_server_port(const struct http_server *srv);
/* Whether an endpoint is enabled by the configuration (spec defaults). */
bool http_server_endpoint_enabled(const struct http_server *srv,
				  const char *endpoint);
void http_server_destroy(struct http_server **srv);

/*
 * Match a raw URL path against a route pattern.  On a match returns true
 * and fills params[0..*n_r-1] (allocated, URL-decoded; free each) for its
 * {name} segments, at most `max`.  A segment that does not decode (bad
 * %XX, %00) does not match.  A trailing '/' on the path is ignored.
 */
bool http_route_match(const char *pattern, const char *path, char **params,
		      size_t max, size_t *n_r);

/* %XX and (query only, plus_space) '+' decoding; NULL for a bad escape or
 * %00. */
char *http_url_decode(const char *s, size_t n, bool plus_space);

#endif
