/* dvhttp.c - doveadm HTTP API calls of the doveadm worker (dvhttp.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "details.h"
#include "dvhttp.h"

const char *dv_http_source_user(const struct dv_job *dj)
{
	return dj->imapc.user != NULL ? dj->imapc.user : dj->uid;
}

/* The URL without user info, for the display. */
static char *shown_url(const char *url)
{
	const char *s = strstr(url, "://"), *h, *at, *slash;

	if (s == NULL)
		return strdup(url);
	h = s + 3;
	at = strchr(h, '@');
	slash = strchr(h, '/');
	if (at == NULL || (slash != NULL && slash < at))
		return strdup(url);
	char *out = NULL;
	if (asprintf(&out, "%.*s%s", (int)(h - url), url, at + 1) < 0)
		return NULL;
	return out;
}

int dv_http_call(struct dv_job *dj, const char *command, json_t *params,
		 long long timeout_ms, struct dv_http_result *r)
{
	const struct dmf_host *h = dj->h;
	const struct doveadm_source_conf *c = dj->conf;
	struct dmf_http_target t = { .size = sizeof(t) };
	char *ptext, *result = NULL, *error = NULL, *url;
	int ret;

	*r = (struct dv_http_result){ .exit_code = -1 };
	if (params == NULL)
		params = json_object();
	ptext = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(params);
	url = c->http.url != NULL ? shown_url(c->http.url) : NULL;
	if (asprintf(&r->display, "%s %s (%s)", command,
		     ptext != NULL ? ptext : "{}",
		     url != NULL ? url : "no http.url") < 0)
		r->display = NULL;
	free(url);
	if (!c->http.configured) {
		r->error = strdup("http.url is not set for this source");
		free(ptext);
		return -ENOTSUP;
	}
	if (!DMF_HAS(struct dmf_host, h, http) || h->http == NULL) {
		r->error = strdup("the daemon offers no doveadm HTTP client "
				  "(ABI 1.4 needed)");
		free(ptext);
		return -ENOTSUP;
	}
	t.url = c->http.url;
	t.username = c->http.username;
	t.password = c->http.password;
	t.api_key = c->http.api_key;
	t.timeout_ms = timeout_ms;
	h->log->log(DMF_LOG_INFO, dj->job, "doveadm http: %s", r->display);
	ret = h->http->doveadm(dj->job, &t, command, ptext, &result,
			       &r->exit_code, &error);
	free(ptext);
	if (ret == 0) {
		json_error_t je;
		r->payload = json_loads(result, JSON_DECODE_ANY, &je);
		r->ok = r->payload != NULL;
		if (!r->ok)
			r->error = strdup("out of memory");
	} else {
		r->error = error != NULL ? strdup(error) : NULL;
		h->log->log(DMF_LOG_WARN, dj->job, "doveadm http: %s: %s",
			    command, r->error != NULL ? r->error : "failed");
	}
	h->http->free_string(&result);
	h->http->free_string(&error);
	return r->ok ? 0 : ret < 0 ? ret : -ENOMEM;
}

void dv_http_result_free(struct dv_http_result *r)
{
	json_decref(r->payload);
	free(r->display);
	free(r->error);
	*r = (struct dv_http_result){ .exit_code = -1 };
}

json_t *dv_http_entry(const struct dv_http_result *r, bool success)
{
	json_t *errors = json_array();

	if (!success && r->error != NULL)
		details_error_line(errors, r->error, strlen(r->error));
	return details_entry(success, r->display, true,
			     r->ok ? 0 : r->exit_code, errors);
}
