/* http_admin.c - the backends admin API (what `dmfctl backend` does). */
#include "dmf-build.h"

#include "http/http_admin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "db/db.h"
#include "db/db_admin.h"
#include "lib/log.h"
#include "lib/util.h"

struct admin_api {
	struct db_pool *pool;
};

int admin_api_create(const struct config *cfg, struct admin_api **api_r,
		     char **error_r)
{
	struct admin_api *api;
	struct db_options o;
	int ret;

	ret = db_options_from_config(cfg, &o, error_r);
	if (ret < 0)
		return ret;
	o.max_pool_size = 2;
	o.min_idle = 0;
	o.connection_timeout_ms = 5000;
	o.connect_timeout_ms = 5000;
	o.read_timeout_ms = 10000;
	o.write_timeout_ms = 10000;
	o.validation_timeout_ms = 5000;
	api = calloc(1, sizeof(*api));
	if (api == NULL) {
		db_options_clear(&o);
		return -ENOMEM;
	}
	ret = db_pool_create(&o, &api->pool, error_r);
	db_options_clear(&o);
	if (ret < 0) {
		free(api);
		return ret;
	}
	*api_r = api;
	return 0;
}

void admin_api_destroy(struct admin_api **apip)
{
	struct admin_api *api = *apip;

	if (api == NULL)
		return;
	*apip = NULL;
	db_pool_destroy(&api->pool);
	free(api);
}

static void add_str(struct dmf_strbuf *b, const char *s)
{
	dmf_strbuf_add_json_string(b, s, strlen(s));
}

/* one backend in the Scheduler's shape (spec 2.3.2) */
static void add_backend(struct dmf_strbuf *b, const struct db_rows *rows,
			size_t r)
{
	static const char *const ints[] = { "initialState", "maxThreads",
					    "status", "threads" };
	const char *v;

	dmf_strbuf_adds(b, "{\"name\":");
	add_str(b, db_cell_by_name(rows, r, "name"));
	dmf_strbuf_adds(b, ",\"target\":");
	add_str(b, db_cell_by_name(rows, r, "target"));
	for (size_t i = 0; i < 4; i++) {
		v = db_cell_by_name(rows, r, ints[i]);
		dmf_strbuf_addf(b, ",\"%s\":%lld", ints[i],
				v != NULL ? strtoll(v, NULL, 10) : 0LL);
	}
	dmf_strbuf_adds(b, ",\"command\":");
	v = db_cell_by_name(rows, r, "command");
	if (v != NULL)
		add_str(b, v);
	else
		dmf_strbuf_adds(b, "null");
	dmf_strbuf_adds(b, ",\"updated\":");
	v = db_cell_by_name(rows, r, "updated");
	if (v != NULL)
		add_str(b, v);
	else
		dmf_strbuf_adds(b, "null");
	dmf_strbuf_adds(b, "}");
}

static void db_failed(const struct http_request *req,
		      struct http_response *resp, char *error, int ret)
{
	log_warn("admin API %s %s: %s", req->method, req->path,
		 error != NULL ? error : dmf_strerror(ret));
	free(error);
	http_response_error(resp, req, 503,
			    "the Migration Database is not available");
}

/* 0 when the target exists; otherwise the response is set */
static int check_target(struct admin_api *api, const struct http_request *req,
			struct http_response *resp)
{
	char *error = NULL;
	bool found = false;
	int ret = db_admin_named_exists(api->pool, DB_ADMIN_TARGET,
					req->params[0], &found, &error);

	if (ret < 0) {
		db_failed(req, resp, error, ret);
		return ret;
	}
	if (!found) {
		http_response_error(resp, req, 404, "unknown target");
		return -ENOENT;
	}
	return 0;
}

/* the backend `name` of the request's target into *rows_r */
static int show(struct admin_api *api, const struct http_request *req,
		struct http_response *resp, const char *name,
		struct db_rows **rows_r)
{
	const char *target;
	char *error = NULL;
	int ret;

	if (check_target(api, req, resp) < 0)
		return -ENOENT;
	ret = db_admin_backend_show(api->pool, name, rows_r, &error);
	if (ret == -ENOENT) {
		free(error);
		http_response_error(resp, req, 404, "unknown backend");
		return ret;
	}
	if (ret < 0) {
		db_failed(req, resp, error, ret);
		return ret;
	}
	target = db_cell_by_name(*rows_r, 0, "target");
	if ((*rows_r)->n_rows == 0 || target == NULL ||
	    strcmp(target, req->params[0]) != 0) {
		db_rows_free(rows_r);
		http_response_error(resp, req, 404,
				    "unknown backend of this target");
		return -ENOENT;
	}
	return 0;
}

void admin_backends_list(const struct http_request *req,
			 struct http_response *resp, void *ctx)
{
	struct admin_api *api = ctx;
	struct db_rows *rows = NULL;
	char *error = NULL;
	bool first = true;
	int ret;

	if (check_target(api, req, resp) < 0)
		return;
	ret = db_admin_backend_list(api->pool, &rows, &error);
	if (ret < 0) {
		db_failed(req, resp, error, ret);
		return;
	}
	dmf_strbuf_adds(&resp->body, "[");
	for (size_t r = 0; r < rows->n_rows; r++) {
		const char *t = db_cell_by_name(rows, r, "target");

		if (t == NULL || strcmp(t, req->params[0]) != 0)
			continue;
		if (!first)
			dmf_strbuf_adds(&resp->body, ",");
		add_backend(&resp->body, rows, r);
		first = false;
	}
	dmf_strbuf_adds(&resp->body, "]");
	db_rows_free(&rows);
}

void admin_backend_show(const struct http_request *req,
			struct http_response *resp, void *ctx)
{
	struct db_rows *rows = NULL;

	if (show(ctx, req, resp, req->params[1], &rows) < 0)
		return;
	add_backend(&resp->body, rows, 0);
	db_rows_free(&rows);
}

const char *admin_parse_patch(json_t *root, const char **name_r,
			      const char **command_r, long long *max_r,
			      int *initial_r)
{
	json_t *v;
	const char *key;

	if (!json_is_object(root))
		return "the body must be a JSON object";
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "name") != 0 && strcmp(key, "command") != 0 &&
		    strcmp(key, "initialState") != 0 &&
		    strcmp(key, "maxThreads") != 0)
			return "unknown field (name, command, initialState, "
			       "maxThreads)";
	}
	v = json_object_get(root, "name");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return "\"name\" (the backend, e.g. \"cloud/1\") is required";
	*name_r = json_string_value(v);
	v = json_object_get(root, "command");
	if (v != NULL && !json_is_null(v)) {
		static const char *const cmds[] = { "PAUSE", "RESUME", "START",
						    "STOP" };
		const char *c = json_is_string(v) ? json_string_value(v) : "";

		for (size_t i = 0; i < 4; i++)
			if (strcasecmp(c, cmds[i]) == 0)
				*command_r = cmds[i];
		if (*command_r == NULL)
			return "\"command\" must be PAUSE, RESUME, START or "
			       "STOP";
	}
	v = json_object_get(root, "initialState");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) ||
		    (json_integer_value(v) != 0 && json_integer_value(v) != 1))
			return "\"initialState\" must be 0 (STOPPED) or 1 "
			       "(STARTED)";
		*initial_r = (int)json_integer_value(v);
	}
	v = json_object_get(root, "maxThreads");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 100000)
			return "\"maxThreads\" must be an integer from 0 to "
			       "100000";
		*max_r = json_integer_value(v);
	}
	if (*command_r == NULL && *initial_r < 0 && *max_r < 0)
		return "nothing to change: give command, initialState or "
		       "maxThreads";
	return NULL;
}

void admin_backends_patch(const struct http_request *req,
			  struct http_response *resp, void *ctx)
{
	struct admin_api *api = ctx;
	const char *name = NULL, *command = NULL, *bad;
	struct db_rows *rows = NULL;
	long long max = -1;
	int initial = -1, ret = 0;
	char *error = NULL;
	json_error_t jerr;
	json_t *root;

	if (req->body == NULL) {
		http_response_error(resp, req, 400, "a JSON body is required");
		return;
	}
	root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
			  &jerr);
	if (root == NULL) {
		char msg[256];

		snprintf(msg, sizeof(msg), "the body is not valid JSON: %s",
			 jerr.text);
		http_response_error(resp, req, 400, msg);
		return;
	}
	bad = admin_parse_patch(root, &name, &command, &max, &initial);
	if (bad != NULL) {
		http_response_error(resp, req, 400, bad);
		json_decref(root);
		return;
	}
	if (show(api, req, resp, name, &rows) < 0)
		goto out;
	db_rows_free(&rows);
	if (max >= 0 || initial >= 0)
		ret = db_admin_backend_set(api->pool, name, max, initial, NULL,
					   &error);
	if (ret == 0 && command != NULL)
		ret = db_admin_backend_command(api->pool, name, command,
					       &error);
	if (ret < 0) {
		db_failed(req, resp, error, ret);
		goto out;
	}
	log_info("admin API: backend %s:%s%s%s%s from %s", name,
		 command != NULL ? " command " : "",
		 command != NULL ? command : "", max >= 0 ? " maxThreads" : "",
		 initial >= 0 ? " initialState" : "", req->client_addr);
	if (show(api, req, resp, name, &rows) == 0) {
		add_backend(&resp->body, rows, 0);
		db_rows_free(&rows);
	}
out:
	json_decref(root);
}
