/*
 * metrics_dump.c - the worker's registry populated as a running worker's
 * is (process, system, executor with a running task, a database pool, a
 * plugin's own metrics through the host table, job events with progress)
 * and printed in the Prometheus text format (--descriptions=off: without
 * # HELP), for test_metrics_promtool.sh.  No database is contacted (the
 * pool opens no connection until asked).
 */
#include "dmf-build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "host/host.h"
#include "lib/config.h"
#include "lib/job.h"
#include "metrics/metrics_worker.h"
#include "worker/executor.h"

static void task(void *arg)
{
	usleep((useconds_t)(uintptr_t)arg);
}

static void job_events(const char *id, const char *source, const char *phase,
		       const char *failure, bool aborted, long long saved)
{
	const struct dmf_host *h = host_get();
	struct dmf_job *job = job_new(id, phase, source, "default");

	if (job == NULL)
		exit(1);
	/* job 2 runs a second time (dmf.jobs.retried) */
	job->attempt = strcmp(id, "2") == 0 ? 2 : 1;
	metrics_job_claimed(job);
	clock_gettime(CLOCK_REALTIME, &job->started);
	h->metrics->progress(job, saved / 2, 0, saved * 1000);
	h->metrics->progress(job, saved, 1, -1);
	job_set_count(job, DMF_COUNT_SYNC_SAVED, saved + 3);
	clock_gettime(CLOCK_REALTIME, &job->finished);
	job->finished.tv_sec += 42;
	metrics_job_finished(job, failure, aborted);
	job_free(&job);
}

int main(int argc, char **argv)
{
	char text[256];
	struct config *cfg = NULL;
	struct executor *ex = NULL;
	struct db_options o;
	struct db_pool *pool = NULL;
	struct metrics_endpoints *me;
	struct http_response resp = { .status = 200 };
	struct http_request req = { .method = "GET", .path = "/prometheus" };
	const struct dmf_host *h;
	const char *err = NULL;
	char *error = NULL;
	struct dmf_metric *m;

	snprintf(text, sizeof(text),
		 "micronaut:\n  metrics:\n    export:\n      prometheus:\n"
		 "        descriptions: %s\n",
		 argc > 1 && strcmp(argv[1], "--descriptions=off") == 0 ?
			 "false" :
			 "true");
	if (config_load_string(text, "dump.yml", NULL, &cfg, &error) < 0 ||
	    metrics_worker_init(cfg, &error) < 0 ||
	    host_init(cfg, "doveadm", &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return 1;
	}
	h = host_get();
	m = h->metrics->register_metric(
		DMF_METRIC_COUNTER, "dsync.runs", "dsync runs by outcome", NULL,
		(const char *const[]){ "outcome", NULL }, &err);
	h->metrics->counter_add(m, (const char *const[]){ "ok" }, 3);
	h->metrics->counter_add(m, (const char *const[]){ "retry" }, 1);
	m = h->metrics->register_metric(DMF_METRIC_GAUGE, "queue.depth",
					"a \"quoted\"\nhelp \\ text", "bytes",
					NULL, &err);
	h->metrics->gauge_set(m, NULL, 12.5);
	if (h->metrics->register_metric(DMF_METRIC_GAUGE, "queue.depth", NULL,
					NULL, NULL, &err) != NULL) {
		fprintf(stderr, "a plugin metric registered twice\n");
		return 1;
	}

	executor_create("worker-executor", EXECUTOR_FIXED, 4, 1000, &ex);
	metrics_worker_add_executor(ex);
	/* one task done (the executor timers), one running (active 1) */
	executor_submit(ex, task, (void *)(uintptr_t)1000);
	usleep(50000);
	executor_submit(ex, task, (void *)(uintptr_t)200000);
	usleep(50000);
	db_options_init(&o);
	if (db_url_parse("jdbc:mariadb://127.0.0.1:9/migration", &o.url,
			 &error) < 0 ||
	    db_pool_create(&o, &pool, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return 1;
	}
	metrics_worker_add_db_pool(pool);

	job_events("1", "POD_1", "sync", NULL, false, 100);
	job_events("2", "POD_1", "cutover", "job", false, 10);
	job_events("3", "POD \"2\"\\x", "sync", "worker_error", false, 0);
	job_events("4", "POD_1", "sync", NULL, true, 5);
	metrics_job_bad_row("POD_1", "sync");
	metrics_jobs_rescued(2, 1);
	metrics_lease_renewal_failed();

	me = metrics_worker_endpoints();
	metrics_endpoint_prometheus(&req, &resp, me);
	if (resp.status != 200 || resp.body.p == NULL) {
		fprintf(stderr, "status %d\n", resp.status);
		return 1;
	}
	fputs(resp.body.p, stdout);
	dmf_strbuf_free(&resp.body);

	metrics_worker_remove_executor();
	metrics_worker_remove_db_pool();
	executor_destroy(&ex);
	db_pool_destroy(&pool);
	db_options_clear(&o);
	host_deinit();
	metrics_worker_deinit();
	config_free(&cfg);
	return 0;
}
