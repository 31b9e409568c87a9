/*
 * test_metrics.c - the metrics registry (concurrent updates, timer
 * buckets, label sets, names) and the /metrics, /metrics/{name} and
 * /prometheus handlers called with a filled http_request: exact JSON
 * shapes, the tag filter, 404 and 400, HELP lines on and off.
 */
#include "dmf-build.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "metrics/metrics_endpoints.h"
#include "../tap.h"

#define THREADS 8
#define PER_THREAD 100000

static struct met_family *conc_counter, *conc_gauge, *conc_timer;

static void *hammer(void *arg)
{
	const char *v[2] = { (const char *)arg, "x" };

	for (int i = 0; i < PER_THREAD; i++) {
		/* the lookup on every update, as the dispatcher does */
		met_counter_add(met_series(conc_counter, v), 1);
		met_gauge_add(met_series(conc_gauge, NULL), 1.0);
		met_timer_record(met_series(conc_timer, NULL),
				 (double)(i % 4) * 0.5);
	}
	return NULL;
}

struct call {
	struct http_response resp;
	char *body;
};

static void call(http_handler_fn *fn, void *ctx, const char *path,
		 const char *param, const struct http_query_arg *q, size_t nq,
		 struct call *c)
{
	const char *params[1] = { param };
	struct http_request req = { .method = "GET",
				    .path = path,
				    .params = params,
				    .n_params = param != NULL ? 1 : 0,
				    .query = q,
				    .n_query = nq,
				    .authenticated = true,
				    .client_addr = "127.0.0.1" };

	memset(c, 0, sizeof(*c));
	c->resp.status = 200;
	c->resp.content_type = "application/json";
	fn(&req, &c->resp, ctx);
	c->body = dmf_strbuf_take(&c->resp.body);
	if (c->body == NULL)
		c->body = strdup("");
}

static void call_free(struct call *c)
{
	free(c->body);
	c->body = NULL;
}

int main(void)
{
	static const char *const two[] = { "source", "phase", NULL };
	static const double bounds[] = { 0.25, 1, 5 };
	struct met_registry *reg = met_registry_new();
	struct metrics_endpoints me = { .reg = reg,
					.enabled = true,
					.prometheus = true,
					.descriptions = true };
	struct met_snapshot *snap;
	struct met_family *f;
	const char *err = NULL;
	pthread_t th[THREADS];
	char *names[THREADS];
	struct call c;
	char pname[128];

	plan_lazy();
	ok(reg != NULL, "registry created");

	/* ---- registration rules ---- */
	f = met_register(reg, MET_COUNTER, "Bad.Name", NULL, NULL, NULL, NULL,
			 0, &err);
	ok(f == NULL && err != NULL, "upper case name refused: %s", err);
	ok(met_register(reg, MET_COUNTER, "a..b", NULL, NULL, NULL, NULL, 0,
			&err) == NULL,
	   "a..b refused");
	{
		static const char *const bad[] = { "__x", NULL };
		static const char *const le[] = { "le", NULL };
		static const char *const five[] = { "a", "b", "c",
						    "d", "e", NULL };

		ok(met_register(reg, MET_COUNTER, "x.y", NULL, NULL, bad, NULL,
				0, &err) == NULL,
		   "label __x refused");
		ok(met_register(reg, MET_COUNTER, "x.y", NULL, NULL, le, NULL,
				0, &err) == NULL,
		   "label le refused");
		ok(met_register(reg, MET_COUNTER, "x.y", NULL, NULL, five, NULL,
				0, &err) == NULL,
		   "five labels refused");
	}
	{
		static const double down[] = { 1, 0.5 };

		ok(met_register(reg, MET_TIMER, "x.t", NULL, NULL, NULL, down,
				2, &err) == NULL,
		   "decreasing buckets refused");
	}

	/* ---- concurrency: no lost update ---- */
	conc_counter = met_register(
		reg, MET_COUNTER, "test.hits", "Hits", NULL,
		(const char *const[]){ "worker", "kind", NULL }, NULL, 0, &err);
	conc_gauge = met_register(reg, MET_GAUGE, "test.level", "Level", NULL,
				  NULL, NULL, 0, &err);
	conc_timer = met_register(reg, MET_TIMER, "test.wait", "Wait",
				  "seconds", NULL, bounds, 3, &err);
	ok(conc_counter != NULL && conc_gauge != NULL && conc_timer != NULL,
	   "families registered");
	f = met_register(reg, MET_GAUGE, "test.hits", NULL, NULL, NULL, NULL, 0,
			 &err);
	ok(f == NULL, "a name registers once: %s", err);
	for (int i = 0; i < THREADS; i++) {
		names[i] = malloc(16);
		snprintf(names[i], 16, "t%d", i % 2);
		pthread_create(&th[i], NULL, hammer, names[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	snap = met_snapshot_take(reg);
	ok(snap != NULL, "snapshot");
	for (size_t i = 0; snap != NULL && i < snap->n_families; i++) {
		const struct met_family_view *v = &snap->families[i];

		if (strcmp(v->name, "test.hits") == 0) {
			is_int(v->n_samples, 2, "two label sets (t0, t1)");
			is_str(v->samples[0].label_values[0], "t0",
			       "series sorted by label value");
			is_int((long long)v->samples[0].value,
			       (THREADS / 2) * PER_THREAD,
			       "t0: every increment counted");
			is_int((long long)v->samples[1].value,
			       (THREADS / 2) * PER_THREAD,
			       "t1: every increment counted");
		} else if (strcmp(v->name, "test.level") == 0) {
			is_int((long long)v->samples[0].value,
			       THREADS * PER_THREAD,
			       "gauge adds from threads (CAS)");
		} else if (strcmp(v->name, "test.wait") == 0) {
			const struct met_sample *s = &v->samples[0];

			is_int((long long)s->count, THREADS * PER_THREAD,
			       "timer count");
			/* values 0, 0.5, 1, 1.5 in equal shares */
			is_int(s->buckets[0], THREADS * PER_THREAD / 4,
			       "le=0.25: the zeros");
			is_int(s->buckets[1], THREADS * PER_THREAD * 3 / 4,
			       "le=1: cumulative");
			is_int(s->buckets[2], THREADS * PER_THREAD,
			       "le=5: all");
			is_int(s->buckets[3], THREADS * PER_THREAD,
			       "+Inf equals count");
			is_int((long long)(s->sum * 10),
			       (long long)THREADS * PER_THREAD / 4 * 30,
			       "sum of the observations");
			ok(s->max == 1.5, "max 1.5");
		}
	}
	met_snapshot_free(&snap);
	for (int i = 0; i < THREADS; i++)
		free(names[i]);
	met_registry_free(&reg);
	ok(reg == NULL, "registry freed");

	/* ---- a registry like the worker's, for the handlers ---- */
	reg = met_registry_new();
	me.reg = reg;
	f = met_register(reg, MET_COUNTER, "dmf.jobs.claimed", "Jobs claimed",
			 NULL, two, NULL, 0, &err);
	met_counter_add(met_series(f, (const char *const[]){ "POD_1", "sync" }),
			3);
	met_counter_add(met_series(f, (const char *const[]){ "POD_2", "sync" }),
			2);
	met_counter_add(
		met_series(f, (const char *const[]){ "POD_1", "cutover" }), 1);
	f = met_register(reg, MET_GAUGE, "process.uptime",
			 "The uptime of the worker", "seconds", NULL, NULL, 0,
			 &err);
	met_gauge_set(met_series(f, NULL), 43.324);
	f = met_register(reg, MET_GAUGE, "executor.active",
			 "The approximate number of threads that are actively "
			 "executing tasks",
			 "threads", (const char *const[]){ "name", NULL }, NULL,
			 0, &err);
	met_gauge_set(met_series(f, (const char *const[]){ "worker-executor" }),
		      2);
	f = met_register(reg, MET_TIMER, "dmf.jobs.duration", "Run time",
			 "seconds", (const char *const[]){ "status", NULL },
			 bounds, 3, &err);
	met_timer_record(met_series(f, (const char *const[]){ "SUCCESS" }),
			 0.5);
	met_timer_record(met_series(f, (const char *const[]){ "SUCCESS" }),
			 2.0);
	met_timer_record(met_series(f, (const char *const[]){ "FAILURE" }),
			 7.0);
	f = met_register(reg, MET_COUNTER, "dmf.unused", "never used", NULL,
			 (const char *const[]){ "x", NULL }, NULL, 0, &err);
	f = met_register(reg, MET_GAUGE, "test.escape", "a \\ b\nc", NULL,
			 (const char *const[]){ "v", NULL }, NULL, 0, &err);
	met_gauge_set(met_series(f, (const char *const[]){ "q\"b\\s\nn" }), 1);

	/* ---- Prometheus names ---- */
	{
		struct met_family_view v = { .name = "executor.completed",
					     .base_unit = "tasks",
					     .type = MET_FUNCTION_COUNTER };

		met_prometheus_name(&v, pname, sizeof(pname));
		is_str(pname, "executor_completed_tasks_total",
		       "function counter: unit and _total");
		v = (struct met_family_view){ .name = "process.uptime",
					      .base_unit = "seconds",
					      .type = MET_GAUGE };
		met_prometheus_name(&v, pname, sizeof(pname));
		is_str(pname, "process_uptime_seconds", "gauge with unit");
		v = (struct met_family_view){ .name = "dmf.migrated.bytes",
					      .base_unit = "bytes",
					      .type = MET_COUNTER };
		met_prometheus_name(&v, pname, sizeof(pname));
		is_str(pname, "dmf_migrated_bytes_total",
		       "unit not repeated when the name ends with it");
		v = (struct met_family_view){
			.name = "hikaricp.connections.acquire",
			.type = MET_FUNCTION_TIMER
		};
		met_prometheus_name(&v, pname, sizeof(pname));
		is_str(pname, "hikaricp_connections_acquire_seconds",
		       "timers in seconds");
	}

	/* ---- GET /metrics ---- */
	call(metrics_endpoint_names, &me, "/metrics", NULL, NULL, 0, &c);
	is_int(c.resp.status, 200, "/metrics: 200");
	is_str(c.body,
	       "{\"names\":[\"dmf.jobs.claimed\",\"dmf.jobs.duration\","
	       "\"executor.active\",\"process.uptime\",\"test.escape\"]}",
	       "/metrics: sorted names, unused family not listed");
	call_free(&c);

	/* ---- GET /metrics/{name} ---- */
	call(metrics_endpoint_meter, &me, "/metrics/process.uptime",
	     "process.uptime", NULL, 0, &c);
	is_int(c.resp.status, 200, "process.uptime: 200");
	is_str(c.body,
	       "{\"name\":\"process.uptime\",\"measurements\":[{\"statistic\":"
	       "\"VALUE\",\"value\":43.324}],\"description\":\"The uptime of "
	       "the worker\",\"baseUnit\":\"seconds\"}",
	       "process.uptime: the spec's shape");
	call_free(&c);

	call(metrics_endpoint_meter, &me, "/metrics/dmf.jobs.claimed",
	     "dmf.jobs.claimed", NULL, 0, &c);
	is_str(c.body,
	       "{\"name\":\"dmf.jobs.claimed\",\"measurements\":[{"
	       "\"statistic\":\"COUNT\",\"value\":6.0}],\"availableTags\":[{"
	       "\"tag\":\"source\",\"values\":[\"POD_1\",\"POD_2\"]},{\"tag\":"
	       "\"phase\",\"values\":[\"cutover\",\"sync\"]}],\"description\":"
	       "\"Jobs claimed\"}",
	       "counter: summed, available tags, no baseUnit when none");
	call_free(&c);

	{
		struct http_query_arg q[2] = { { "tag", "source:POD_1" },
					       { "tag", "phase:sync" } };

		call(metrics_endpoint_meter, &me, "/metrics/dmf.jobs.claimed",
		     "dmf.jobs.claimed", q, 1, &c);
		is_str(c.body,
		       "{\"name\":\"dmf.jobs.claimed\",\"measurements\":[{"
		       "\"statistic\":\"COUNT\",\"value\":4.0}],"
		       "\"availableTags\":[{\"tag\":\"phase\",\"values\":["
		       "\"cutover\",\"sync\"]}],\"description\":\"Jobs "
		       "claimed\"}",
		       "tag filter: filtered tag left out of availableTags");
		call_free(&c);
		call(metrics_endpoint_meter, &me, "/metrics/dmf.jobs.claimed",
		     "dmf.jobs.claimed", q, 2, &c);
		is_str(c.body,
		       "{\"name\":\"dmf.jobs.claimed\",\"measurements\":[{"
		       "\"statistic\":\"COUNT\",\"value\":3.0}],"
		       "\"description\":\"Jobs claimed\"}",
		       "two tags: one series, no availableTags left");
		call_free(&c);
	}
	{
		struct http_query_arg q[1] = { { "tag", "source:NOPE" } };

		call(metrics_endpoint_meter, &me, "/metrics/dmf.jobs.claimed",
		     "dmf.jobs.claimed", q, 1, &c);
		is_int(c.resp.status, 404, "tag matching nothing: 404");
		call_free(&c);
	}
	{
		const char *bad[] = { "source", "source:", "a:b:c" };

		for (size_t i = 0; i < 3; i++) {
			struct http_query_arg q[1] = { { "tag", bad[i] } };

			call(metrics_endpoint_meter, &me,
			     "/metrics/dmf.jobs.claimed", "dmf.jobs.claimed", q,
			     1, &c);
			is_int(c.resp.status, 400, "tag '%s': 400", bad[i]);
			like(c.body, "Tags must be in the form key:value",
			     "tag '%s': Micronaut's message", bad[i]);
			call_free(&c);
		}
	}
	call(metrics_endpoint_meter, &me, "/metrics/no.such", "no.such", NULL,
	     0, &c);
	is_int(c.resp.status, 404, "unknown name: 404");
	like(c.body, "\"message\":\"Not Found\"",
	     "404 body in Micronaut's shape");
	call_free(&c);
	call(metrics_endpoint_meter, &me, "/metrics/dmf.unused", "dmf.unused",
	     NULL, 0, &c);
	is_int(c.resp.status, 404, "family without series: 404");
	call_free(&c);

	call(metrics_endpoint_meter, &me, "/metrics/dmf.jobs.duration",
	     "dmf.jobs.duration", NULL, 0, &c);
	is_str(c.body,
	       "{\"name\":\"dmf.jobs.duration\",\"measurements\":[{"
	       "\"statistic\":\"COUNT\",\"value\":3.0},{\"statistic\":"
	       "\"TOTAL_TIME\",\"value\":9.5},{\"statistic\":\"MAX\","
	       "\"value\":7.0}],\"availableTags\":[{\"tag\":\"status\","
	       "\"values\":[\"FAILURE\",\"SUCCESS\"]}],\"description\":\"Run "
	       "time\",\"baseUnit\":\"seconds\"}",
	       "timer: COUNT, TOTAL_TIME, MAX (max over series)");
	call_free(&c);

	/* ---- GET /prometheus ---- */
	call(metrics_endpoint_prometheus, &me, "/prometheus", NULL, NULL, 0,
	     &c);
	is_int(c.resp.status, 200, "/prometheus: 200");
	is_str(c.resp.content_type, "text/plain; version=0.0.4; charset=utf-8",
	       "/prometheus: content type");
	like(c.body,
	     "# HELP dmf_jobs_claimed_total Jobs claimed\n"
	     "# TYPE dmf_jobs_claimed_total counter\n"
	     "dmf_jobs_claimed_total{source=\"POD_1\",phase=\"cutover\"} 1\n"
	     "dmf_jobs_claimed_total{source=\"POD_1\",phase=\"sync\"} 3\n"
	     "dmf_jobs_claimed_total{source=\"POD_2\",phase=\"sync\"} 2\n",
	     "counter family");
	like(c.body,
	     "# TYPE dmf_jobs_duration_seconds histogram\n"
	     "dmf_jobs_duration_seconds_bucket{status=\"FAILURE\",le=\"0.25\"} "
	     "0\n"
	     "dmf_jobs_duration_seconds_bucket{status=\"FAILURE\",le=\"1\"} 0\n"
	     "dmf_jobs_duration_seconds_bucket{status=\"FAILURE\",le=\"5\"} 0\n"
	     "dmf_jobs_duration_seconds_bucket{status=\"FAILURE\",le=\"+Inf\"} "
	     "1\n"
	     "dmf_jobs_duration_seconds_count{status=\"FAILURE\"} 1\n"
	     "dmf_jobs_duration_seconds_sum{status=\"FAILURE\"} 7\n",
	     "histogram: buckets, +Inf, count, sum");
	like(c.body,
	     "# TYPE dmf_jobs_duration_seconds_max gauge\n"
	     "dmf_jobs_duration_seconds_max{status=\"FAILURE\"} 7\n"
	     "dmf_jobs_duration_seconds_max{status=\"SUCCESS\"} 2\n",
	     "Micrometer's _max gauge");
	like(c.body, "executor_active_threads{name=\"worker-executor\"} 2\n",
	     "executor_active_threads");
	like(c.body, "process_uptime_seconds 43.324\n",
	     "process_uptime_seconds");
	like(c.body, "# HELP test_escape a \\\\ b\\nc\n", "HELP escaped");
	like(c.body, "test_escape{v=\"q\\\"b\\\\s\\nn\"} 1\n",
	     "label value escaped");
	ok(strstr(c.body, "dmf_unused") == NULL, "unused family not rendered");
	ok(c.body[0] != '\0' && c.body[strlen(c.body) - 1] == '\n',
	   "ends with a newline");
	call_free(&c);

	me.descriptions = false;
	call(metrics_endpoint_prometheus, &me, "/prometheus", NULL, NULL, 0,
	     &c);
	ok(strstr(c.body, "# HELP") == NULL, "descriptions off: no # HELP");
	like(c.body, "# TYPE process_uptime_seconds gauge\n",
	     "descriptions off: # TYPE stays");
	call_free(&c);

	me.prometheus = false;
	call(metrics_endpoint_prometheus, &me, "/prometheus", NULL, NULL, 0,
	     &c);
	is_int(c.resp.status, 404, "prometheus export off: 404");
	call_free(&c);
	me.enabled = false;
	call(metrics_endpoint_names, &me, "/metrics", NULL, NULL, 0, &c);
	is_int(c.resp.status, 404, "metrics off: /metrics 404");
	call_free(&c);
	call(metrics_endpoint_meter, &me, "/metrics/process.uptime",
	     "process.uptime", NULL, 0, &c);
	is_int(c.resp.status, 404, "metrics off: /metrics/{name} 404");
	call_free(&c);

	met_registry_free(&reg);
	return done_testing();
}
