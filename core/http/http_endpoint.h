/* http_endpoint.h - the contract between the worker's HTTP server
 * (core/http/) and the code that answers its requests (core/http/ for
 * health, info and the admin API; core/metrics/ for /metrics and
 * /prometheus).
 *
 * The server parses the request, checks the address, the credentials and
 * whether the endpoint is enabled and sensitive, then calls the route's
 * handler with a filled http_request.  The handler fills http_response
 * from in-memory state only: it never queries the database and never
 * waits for a job.  Handlers run on the server's threads, several at once,
 * so whatever they read must be safe to read concurrently.
 *
 * The server owns everything the request points to (valid only for the
 * call); the handler owns nothing of it and the server frees resp->body
 * after sending it.
 */
#ifndef DMF_HTTP_ENDPOINT_H
#define DMF_HTTP_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include <dmf/text.h>

/* One query argument, URL-decoded; value is "" for "?flag". */
struct http_query_arg {
	const char *key;
	const char *value;
};

struct http_request {
	const char *method; /* "GET", "PATCH", ... */
	const char *path; /* the URL path as received, without the query */
	/* the route's {parameters} in order, URL-decoded ("cloud/1") */
	const char *const *params;
	size_t n_params;
	/* every query argument in request order, repeated keys kept */
	const struct http_query_arg *query;
	size_t n_query;
	const char *body; /* the request body (NULL and 0 without one) */
	size_t body_len;
	bool authenticated; /* valid Basic credentials came with it */
	const char *client_addr; /* the peer's numeric address */
};

struct http_response {
	int status; /* HTTP status; the server sets 200 before the call */
	/* a static string; the server sets "application/json" before the call */
	const char *content_type;
	struct dmf_strbuf body; /* empty before the call */
};

/* A route's handler; ctx is what the route was registered with. */
typedef void http_handler_fn(const struct http_request *req,
			     struct http_response *resp, void *ctx);

/* http_response_error: set status and a JSON error body in Micronaut's
 * shape: {"message":"<reason phrase>","_links":{"self":{"href":"<path>",
 * "templated":false}},"_embedded":{"errors":[{"message":"<message>"}]}}.
 * message NULL uses the reason phrase. */
void http_response_error(struct http_response *resp,
			 const struct http_request *req, int status,
			 const char *message);

/* http_reason_phrase: "OK", "Not Found", ... ("Unknown" for others). */
const char *http_reason_phrase(int status);

#endif
