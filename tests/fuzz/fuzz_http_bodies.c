/*
 * fuzz_http_bodies.c - what the worker's HTTP server reads from a request
 * and the doveadm HTTP API client from a reply: the input's first byte
 * picks the parser, the rest is its text:
 *   0  the backends admin API's PATCH body (core/http/http_admin.c)
 *   1  /metrics/{name}?tag=k:v&... : "NAME?QUERY" answered by the metrics
 *      handler over a registry like the worker's (core/metrics/)
 *   2  a doveadm HTTP API reply body (core/client/doveadm_http.c)
 */
#include "dmf-build.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/doveadm_http.h"
#include "http/http_admin.h"
#include "lib/config.h"
#include "metrics/metrics_endpoints.h"
#include "metrics/metrics_worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void patch_body(const char *p, size_t n)
{
	json_error_t je;
	json_t *root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
	const char *name = NULL, *command = NULL;
	long long max = -1;
	int initial = -1;

	if (root != NULL) {
		admin_parse_patch(root, &name, &command, &max, &initial);
		json_decref(root);
	}
}

#define MAX_ARGS 16

static void metric_query(char *text)
{
	static bool ready;
	struct http_query_arg args[MAX_ARGS];
	struct http_request req = { .method = "GET", .path = "/metrics/x" };
	struct http_response resp = { .status = 200 };
	char *q = strchr(text, '?'), *save = NULL, *a;
	const char *params[1] = { text };
	size_t n = 0;

	if (!ready) {
		struct config *cfg = NULL;
		char *err = NULL;

		if (config_load_string("micronaut:\n  metrics:\n    enabled: "
				       "true\n",
				       "m.yml", NULL, &cfg, &err) < 0 ||
		    metrics_worker_init(cfg, &err) < 0)
			abort();
		config_free(&cfg);
		ready = true;
	}
	if (q != NULL) {
		*q++ = '\0';
		for (a = strtok_r(q, "&", &save); a != NULL && n < MAX_ARGS;
		     a = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(a, '=');

			if (eq != NULL)
				*eq++ = '\0';
			args[n].key = a;
			args[n++].value = eq != NULL ? eq : "";
		}
	}
	req.params = params;
	req.n_params = 1;
	req.query = args;
	req.n_query = n;
	req.authenticated = true;
	req.client_addr = "127.0.0.1";
	resp.content_type = "application/json";
	metrics_endpoint_meter(&req, &resp, metrics_worker_endpoints());
	dmf_strbuf_free(&resp.body);
	resp.body = (struct dmf_strbuf)DMF_STRBUF_INIT;
	metrics_endpoint_names(&req, &resp, metrics_worker_endpoints());
	dmf_strbuf_free(&resp.body);
}

static void doveadm_reply(const char *p, size_t n)
{
	char *result = NULL, *error = NULL;
	int code = 0;

	if (dhttp_parse_reply(p, n, "fuzz", &result, &code, &error) == 0)
		free(result);
	free(error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		patch_body(text, size - 1);
		break;
	case 1:
		metric_query(text);
		break;
	default:
		doveadm_reply(text, size - 1);
		break;
	}
	free(text);
	return 0;
}
