/*
 * metrics_endpoints.c - Micronaut's /metrics JSON and Micrometer's
 * Prometheus text, rendered from a registry snapshot.
 */
#include "dmf-build.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics_endpoints.h"

int metrics_endpoints_config(const struct config *cfg,
			     struct metrics_endpoints *me, const char **error_r)
{
	static const char *const keys[3] = {
		"micronaut.metrics.enabled",
		"micronaut.metrics.export.prometheus.enabled",
		"micronaut.metrics.export.prometheus.descriptions"
	};
	bool *vals[3] = { &me->enabled, &me->prometheus, &me->descriptions };

	for (size_t i = 0; i < 3; i++) {
		int ret = cfg_get_bool(cfg->root, keys[i], true, vals[i],
				       error_r);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/* A double as Go's ParseFloat and JSON both read it ("NaN" and infinities
 * only where allowed: the caller checks). */
static void add_double(struct dmf_strbuf *b, double v, bool java_style)
{
	char buf[40];

	if (isnan(v)) {
		dmf_strbuf_adds(b, "NaN");
		return;
	}
	if (isinf(v)) {
		dmf_strbuf_adds(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	/* Jackson writes doubles with a fraction: 0.0, 5.0 */
	if (java_style && strpbrk(buf, ".en") == NULL)
		strcat(buf, ".0");
	dmf_strbuf_adds(b, buf);
}

static void add_json_str(struct dmf_strbuf *b, const char *s)
{
	dmf_strbuf_add_json_string(b, s, strlen(s));
}

/* ----------------------------------------------------------- /metrics --- */

void metrics_endpoint_names(const struct http_request *req,
			    struct http_response *resp, void *ctx)
{
	struct metrics_endpoints *me = ctx;
	struct met_snapshot *snap;

	if (me == NULL || !me->enabled) {
		http_response_error(resp, req, 404, NULL);
		return;
	}
	snap = met_snapshot_take(me->reg);
	if (snap == NULL) {
		http_response_error(resp, req, 500, "out of memory");
		return;
	}
	dmf_strbuf_adds(&resp->body, "{\"names\":[");
	for (size_t i = 0, n = 0; i < snap->n_families; i++) {
		/* a family whose labels were never used has no meter yet */
		if (snap->families[i].n_samples == 0)
			continue;
		if (n++ > 0)
			dmf_strbuf_adds(&resp->body, ",");
		add_json_str(&resp->body, snap->families[i].name);
	}
	dmf_strbuf_adds(&resp->body, "]}");
	met_snapshot_free(&snap);
	resp->status = 200;
	resp->content_type = "application/json";
}

struct tag_filter {
	char *key, *value;
};

/* Micronaut splits "key:value" on ':' and wants exactly two parts (Java's
 * split drops a trailing empty part: "a:" is one part). */
static int parse_tags(const struct http_request *req, struct tag_filter **t_r,
		      size_t *n_r)
{
	struct tag_filter *t = calloc(req->n_query + 1, sizeof(*t));
	size_t n = 0;

	if (t == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < req->n_query; i++) {
		const char *v = req->query[i].value, *colon;

		if (strcmp(req->query[i].key, "tag") != 0)
			continue;
		colon = v != NULL ? strchr(v, ':') : NULL;
		if (colon == NULL || colon[1] == '\0' ||
		    strchr(colon + 1, ':') != NULL) {
			for (size_t k = 0; k < n; k++) {
				free(t[k].key);
				free(t[k].value);
			}
			free(t);
			return -EINVAL;
		}
		t[n].key = strndup(v, (size_t)(colon - v));
		t[n].value = strdup(colon + 1);
		n++;
	}
	*t_r = t;
	*n_r = n;
	return 0;
}

static void tags_free(struct tag_filter *t, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		free(t[k].key);
		free(t[k].value);
	}
	free(t);
}

static bool sample_matches(const struct met_family_view *f,
			   const struct met_sample *s,
			   const struct tag_filter *t, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		bool ok = false;

		for (size_t i = 0; i < f->n_labels && !ok; i++)
			ok = t[k].key != NULL &&
			     strcmp(f->label_names[i], t[k].key) == 0 &&
			     strcmp(s->label_values[i], t[k].value) == 0;
		if (!ok)
			return false;
	}
	return true;
}

static bool filtered(const char *label, const struct tag_filter *t, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (t[k].key != NULL && strcmp(t[k].key, label) == 0)
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void add_measurement(struct dmf_strbuf *b, bool *first, const char *stat,
			    double v)
{
	if (isnan(v) || isinf(v))
		return;
	dmf_strbuf_adds(b, *first ? "" : ",");
	*first = false;
	dmf_strbuf_adds(b, "{\"statistic\":\"");
	dmf_strbuf_adds(b, stat);
	dmf_strbuf_adds(b, "\",\"value\":");
	add_double(b, v, true);
	dmf_strbuf_adds(b, "}");
}

static void render_meter(const struct met_family_view *f,
			 const struct tag_filter *t, size_t n_t,
			 const struct met_sample **m, size_t n_m,
			 struct dmf_strbuf *b)
{
	double value = 0, count = 0, sum = 0, max = NAN;
	bool first = true, any_tags = false;
	const char **vals;

	for (size_t i = 0; i < n_m; i++) {
		value += m[i]->value;
		count += m[i]->count;
		sum += m[i]->sum;
		if (!isnan(m[i]->max) && (isnan(max) || m[i]->max > max))
			max = m[i]->max;
	}
	dmf_strbuf_adds(b, "{\"name\":");
	add_json_str(b, f->name);
	dmf_strbuf_adds(b, ",\"measurements\":[");
	switch (f->type) {
	case MET_COUNTER:
	case MET_FUNCTION_COUNTER:
		add_measurement(b, &first, "COUNT", value);
		break;
	case MET_GAUGE:
		add_measurement(b, &first, "VALUE", value);
		break;
	case MET_TIMER:
	case MET_FUNCTION_TIMER:
		add_measurement(b, &first, "COUNT", count);
		add_measurement(b, &first, "TOTAL_TIME", sum);
		add_measurement(b, &first, "MAX", max);
		break;
	}
	dmf_strbuf_adds(b, "]");
	vals = calloc(n_m + 1, sizeof(*vals));
	for (size_t i = 0; vals != NULL && i < f->n_labels; i++) {
		size_t nv = 0;

		if (filtered(f->label_names[i], t, n_t))
			continue;
		for (size_t k = 0; k < n_m; k++)
			vals[nv++] = m[k]->label_values[i];
		qsort(vals, nv, sizeof(*vals), cmp_str);
		dmf_strbuf_adds(b, any_tags ? "," : ",\"availableTags\":[");
		any_tags = true;
		dmf_strbuf_adds(b, "{\"tag\":");
		add_json_str(b, f->label_names[i]);
		dmf_strbuf_adds(b, ",\"values\":[");
		for (size_t k = 0; k < nv; k++) {
			if (k > 0 && strcmp(vals[k], vals[k - 1]) == 0)
				continue;
			dmf_strbuf_adds(b, k > 0 ? "," : "");
			add_json_str(b, vals[k]);
		}
		dmf_strbuf_adds(b, "]}");
	}
	if (vals == NULL)
		b->failed = 1;
	free(vals);
	if (any_tags)
		dmf_strbuf_adds(b, "]");
	if (f->description != NULL) {
		dmf_strbuf_adds(b, ",\"description\":");
		add_json_str(b, f->description);
	}
	if (f->type == MET_TIMER || f->type == MET_FUNCTION_TIMER) {
		dmf_strbuf_adds(b, ",\"baseUnit\":\"seconds\"");
	} else if (f->base_unit != NULL) {
		dmf_strbuf_adds(b, ",\"baseUnit\":");
		add_json_str(b, f->base_unit);
	}
	dmf_strbuf_adds(b, "}");
}

void metrics_endpoint_meter(const struct http_request *req,
			    struct http_response *resp, void *ctx)
{
	struct metrics_endpoints *me = ctx;
	struct met_snapshot *snap = NULL;
	const struct met_family_view *f = NULL;
	const struct met_sample **m = NULL;
	struct tag_filter *t = NULL;
	size_t n_t = 0, n_m = 0;
	int ret;

	if (me == NULL || !me->enabled || req->n_params < 1) {
		http_response_error(resp, req, 404, NULL);
		return;
	}
	ret = parse_tags(req, &t, &n_t);
	if (ret == -EINVAL) {
		http_response_error(resp, req, 400,
				    "Tags must be in the form key:value");
		return;
	}
	if (ret == 0)
		snap = met_snapshot_take(me->reg);
	if (snap == NULL) {
		tags_free(t, n_t);
		http_response_error(resp, req, 500, "out of memory");
		return;
	}
	for (size_t i = 0; i < snap->n_families && f == NULL; i++)
		if (strcmp(snap->families[i].name, req->params[0]) == 0)
			f = &snap->families[i];
	if (f != NULL)
		m = calloc(f->n_samples + 1, sizeof(*m));
	for (size_t i = 0; m != NULL && i < f->n_samples; i++)
		if (sample_matches(f, &f->samples[i], t, n_t))
			m[n_m++] = &f->samples[i];
	if (f == NULL || n_m == 0) {
		/* Micronaut: no meter of that name (with those tags) */
		http_response_error(resp, req, 404, NULL);
	} else {
		render_meter(f, t, n_t, m, n_m, &resp->body);
		resp->status = 200;
		resp->content_type = "application/json";
	}
	free(m);
	tags_free(t, n_t);
	met_snapshot_free(&snap);
}

/* -------------------------------------------------------- /prometheus --- */

static void add_escaped(struct dmf_strbuf *b, const char *s, bool quote)
{
	for (const char *p = s; *p != '\0'; p++) {
		const char *run = p;

		while (*p != '\0' && *p != '\\' && *p != '\n' &&
		       !(quote && *p == '"'))
			p++;
		dmf_strbuf_add(b, run, (size_t)(p - run));
		if (*p == '\0')
			break;
		dmf_strbuf_adds(b, *p == '\\' ? "\\\\" :
				   *p == '\n' ? "\\n" :
						"\\\"");
	}
}

static void add_header(struct dmf_strbuf *b, const char *name, const char *help,
		       const char *type, bool descriptions)
{
	if (descriptions) {
		dmf_strbuf_adds(b, "# HELP ");
		dmf_strbuf_adds(b, name);
		dmf_strbuf_adds(b, " ");
		add_escaped(b, help != NULL ? help : "", false);
		dmf_strbuf_adds(b, "\n");
	}
	dmf_strbuf_addf(b, "# TYPE %s %s\n", name, type);
}

/* name{labels[,le="x"]} value */
static void add_line(struct dmf_strbuf *b, const char *name, const char *suffix,
		     const struct met_family_view *f,
		     const struct met_sample *s, const char *le, double v)
{
	dmf_strbuf_adds(b, name);
	dmf_strbuf_adds(b, suffix);
	if (f->n_labels > 0 || le != NULL) {
		dmf_strbuf_adds(b, "{");
		for (size_t i = 0; i < f->n_labels; i++) {
			dmf_strbuf_adds(b, i > 0 ? "," : "");
			dmf_strbuf_adds(b, f->label_names[i]);
			dmf_strbuf_adds(b, "=\"");
			add_escaped(b, s->label_values[i], true);
			dmf_strbuf_adds(b, "\"");
		}
		if (le != NULL) {
			dmf_strbuf_adds(b,
					f->n_labels > 0 ? ",le=\"" : "le=\"");
			dmf_strbuf_adds(b, le);
			dmf_strbuf_adds(b, "\"");
		}
		dmf_strbuf_adds(b, "}");
	}
	dmf_strbuf_adds(b, " ");
	add_double(b, v, false);
	dmf_strbuf_adds(b, "\n");
}

static void render_family(struct dmf_strbuf *b, const struct met_family_view *f,
			  bool descriptions)
{
	char name[256], max_name[272], le[40];
	bool has_max = false;

	if (f->n_samples == 0 || !met_prometheus_name(f, name, sizeof(name)))
		return;
	switch (f->type) {
	case MET_COUNTER:
	case MET_FUNCTION_COUNTER:
		add_header(b, name, f->description, "counter", descriptions);
		for (size_t i = 0; i < f->n_samples; i++)
			add_line(b, name, "", f, &f->samples[i], NULL,
				 f->samples[i].value);
		return;
	case MET_GAUGE:
		add_header(b, name, f->description, "gauge", descriptions);
		for (size_t i = 0; i < f->n_samples; i++)
			add_line(b, name, "", f, &f->samples[i], NULL,
				 f->samples[i].value);
		return;
	case MET_TIMER:
		add_header(b, name, f->description, "histogram", descriptions);
		for (size_t i = 0; i < f->n_samples; i++) {
			const struct met_sample *s = &f->samples[i];

			for (size_t k = 0; k < f->n_buckets; k++) {
				struct dmf_strbuf t = DMF_STRBUF_INIT;

				add_double(&t, f->bucket_bounds[k], false);
				snprintf(le, sizeof(le), "%s",
					 t.p != NULL ? t.p : "0");
				dmf_strbuf_free(&t);
				add_line(b, name, "_bucket", f, s, le,
					 (double)s->buckets[k]);
			}
			add_line(b, name, "_bucket", f, s, "+Inf",
				 (double)s->buckets[f->n_buckets]);
			add_line(b, name, "_count", f, s, NULL, s->count);
			add_line(b, name, "_sum", f, s, NULL, s->sum);
		}
		break;
	case MET_FUNCTION_TIMER:
		add_header(b, name, f->description, "summary", descriptions);
		for (size_t i = 0; i < f->n_samples; i++) {
			add_line(b, name, "_count", f, &f->samples[i], NULL,
				 f->samples[i].count);
			add_line(b, name, "_sum", f, &f->samples[i], NULL,
				 f->samples[i].sum);
		}
		break;
	}
	/* Micrometer's <name>_max gauge next to a timer */
	for (size_t i = 0; i < f->n_samples; i++)
		has_max = has_max || !isnan(f->samples[i].max);
	if (!has_max)
		return;
	snprintf(max_name, sizeof(max_name), "%s_max", name);
	add_header(b, max_name, f->description, "gauge", descriptions);
	for (size_t i = 0; i < f->n_samples; i++)
		if (!isnan(f->samples[i].max))
			add_line(b, max_name, "", f, &f->samples[i], NULL,
				 f->samples[i].max);
}

void metrics_render_prometheus(const struct met_snapshot *snap,
			       bool descriptions, struct dmf_strbuf *b)
{
	for (size_t i = 0; i < snap->n_families; i++)
		render_family(b, &snap->families[i], descriptions);
}

void metrics_endpoint_prometheus(const struct http_request *req,
				 struct http_response *resp, void *ctx)
{
	struct metrics_endpoints *me = ctx;
	struct met_snapshot *snap;

	if (me == NULL || !me->enabled || !me->prometheus) {
		http_response_error(resp, req, 404, NULL);
		return;
	}
	snap = met_snapshot_take(me->reg);
	if (snap == NULL) {
		http_response_error(resp, req, 500, "out of memory");
		return;
	}
	metrics_render_prometheus(snap, me->descriptions, &resp->body);
	met_snapshot_free(&snap);
	if (resp->body.failed) {
		http_response_error(resp, req, 500, "out of memory");
		return;
	}
	resp->status = 200;
	resp->content_type = METRICS_PROMETHEUS_CONTENT_TYPE;
}
