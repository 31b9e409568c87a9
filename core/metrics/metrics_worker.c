/*
 * metrics_worker.c - the worker's registry: executor.*, hikaricp.* and the
 * job metrics, and the events core/worker reports into them.
 */
#include "dmf-build.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/job.h"
#include "lib/util.h"
#include "metrics/metrics_process.h"
#include "metrics/metrics_worker.h"
#include "worker/dispatcher.h"

/* Micrometer's values for a pool without a bound */
#define JAVA_INT_MAX 2147483647.0
#define POOL_NAME "HikariPool-1"

static struct met_registry *reg;
static struct metrics_endpoints endpoints; /* reg NULL: handlers 404 */

/* what the scrape callbacks read; under src_lock */
static pthread_mutex_t src_lock = PTHREAD_MUTEX_INITIALIZER;
static struct executor *src_ex;
static struct db_pool *src_pool;
/* the executor and executor.idle timers */
static struct met_series *ex_run, *ex_idle;

static struct {
	struct met_family *claimed, *retried, *succeeded, *failed, *aborted,
		*duration, *saved, *expunged, *bytes, *rescued;
	struct met_series *renewals_failed, *running;
} jm;

struct met_registry *metrics_worker_registry(void)
{
	return reg;
}

struct metrics_endpoints *metrics_worker_endpoints(void)
{
	return &endpoints;
}

/* Bounds of dmf.jobs.duration and executor, seconds: a second to eight
 * hours. */
static const double duration_buckets[] = {
	1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800
};
#define N_DURATION_BUCKETS \
	(sizeof(duration_buckets) / sizeof(duration_buckets[0]))
/* executor.idle: the wait of a job for a thread */
static const double idle_buckets[] = { 0.001, 0.01, 0.1, 1, 10, 60 };

/* ---------------------------------------------------------- executor --- */

enum ex_field {
	EX_ACTIVE,
	EX_COMPLETED,
	EX_QUEUED,
	EX_REMAINING,
	EX_POOL_SIZE,
	EX_POOL_CORE,
	EX_POOL_MAX
};

static double ex_value(void *ctx)
{
	enum ex_field which = (enum ex_field)(intptr_t)ctx;
	struct executor_stats st;
	bool have;

	pthread_mutex_lock(&src_lock);
	have = src_ex != NULL;
	if (have)
		executor_get_stats(src_ex, &st);
	pthread_mutex_unlock(&src_lock);
	if (!have)
		return NAN;
	switch (which) {
	case EX_ACTIVE:
		return st.active;
	case EX_COMPLETED:
		return (double)st.completed;
	case EX_QUEUED:
		return st.queued;
	case EX_REMAINING:
		/* fixed: an unbounded queue; cached: a hand-off queue */
		return st.max_threads > 0 ? JAVA_INT_MAX - st.queued : 0;
	case EX_POOL_SIZE:
		return st.threads;
	case EX_POOL_CORE:
		return st.max_threads;
	default:
		return st.max_threads > 0 ? st.max_threads : JAVA_INT_MAX;
	}
}

static const struct {
	enum met_type type;
	const char *name, *unit, *desc;
	enum ex_field field;
} ex_meters[] = {
	{ MET_GAUGE, "executor.active", "threads",
	  "The approximate number of threads that are actively executing "
	  "tasks",
	  EX_ACTIVE },
	{ MET_FUNCTION_COUNTER, "executor.completed", "tasks",
	  "The approximate total number of tasks that have completed "
	  "execution",
	  EX_COMPLETED },
	{ MET_GAUGE, "executor.queued", "tasks",
	  "The approximate number of tasks that are queued for execution",
	  EX_QUEUED },
	{ MET_GAUGE, "executor.queue.remaining", "tasks",
	  "The number of additional elements that this queue can ideally "
	  "accept without blocking",
	  EX_REMAINING },
	{ MET_GAUGE, "executor.pool.size", "threads",
	  "The current number of threads in the pool", EX_POOL_SIZE },
	{ MET_GAUGE, "executor.pool.core", "threads",
	  "The core number of threads for the pool", EX_POOL_CORE },
	{ MET_GAUGE, "executor.pool.max", "threads",
	  "The maximum allowed number of threads in the pool", EX_POOL_MAX },
};

static int register_executor(const char **error_r)
{
	static const char *const labels[] = { "name", NULL };
	static const char *const values[] = { "worker-executor" };

	struct met_family *timer;

	/* Micrometer's TimedExecutorService timers: the run time of a task
	 * and its wait in the queue */
	timer = met_register(reg, MET_TIMER, "executor",
			     "The time the pool's tasks (jobs) ran", "seconds",
			     labels, duration_buckets, N_DURATION_BUCKETS,
			     error_r);
	ex_run = met_series(timer, values);
	timer = met_register(reg, MET_TIMER, "executor.idle",
			     "The time the pool's tasks waited for a thread",
			     "seconds", labels, idle_buckets,
			     sizeof(idle_buckets) / sizeof(idle_buckets[0]),
			     error_r);
	ex_idle = met_series(timer, values);
	if (ex_run == NULL || ex_idle == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(ex_meters) / sizeof(ex_meters[0]); i++) {
		struct met_family *f =
			met_register(reg, ex_meters[i].type, ex_meters[i].name,
				     ex_meters[i].desc, ex_meters[i].unit,
				     labels, NULL, 0, error_r);

		if (f == NULL)
			return -EINVAL;
		met_series_set_fn(met_series(f, values), ex_value,
				  (void *)(intptr_t)ex_meters[i].field);
	}
	return 0;
}

static void ex_observe(void *ctx, double idle_s, double run_s)
{
	(void)ctx;
	met_timer_record(ex_idle, idle_s);
	met_timer_record(ex_run, run_s);
}

void metrics_worker_add_executor(struct executor *ex)
{
	pthread_mutex_lock(&src_lock);
	src_ex = ex;
	pthread_mutex_unlock(&src_lock);
	if (ex != NULL && reg != NULL)
		executor_set_observer(ex, ex_observe, NULL);
}

void metrics_worker_remove_executor(void)
{
	metrics_worker_add_executor(NULL);
}

/* -------------------------------------------------------------- pool --- */

enum pool_field {
	P_TOTAL,
	P_ACTIVE,
	P_IDLE,
	P_PENDING,
	P_MAX,
	P_MIN,
	P_TIMEOUT
};

static bool pool_stats(struct db_pool_stats *st)
{
	bool have;

	pthread_mutex_lock(&src_lock);
	have = src_pool != NULL;
	if (have)
		db_pool_get_stats(src_pool, st);
	pthread_mutex_unlock(&src_lock);
	return have;
}

static double pool_value(void *ctx)
{
	struct db_pool_stats st;

	if (!pool_stats(&st))
		return NAN;
	switch ((enum pool_field)(intptr_t)ctx) {
	case P_TOTAL:
		return st.total;
	case P_ACTIVE:
		return st.active;
	case P_IDLE:
		return st.idle;
	case P_PENDING:
		return st.pending;
	case P_MAX:
		return st.max;
	case P_MIN:
		return st.min;
	default:
		return (double)st.timeouts;
	}
}

static void pool_acquire(void *ctx, double *count_r, double *sum_r,
			 double *max_r)
{
	struct db_pool_stats st;

	(void)ctx;
	*max_r = NAN;
	if (!pool_stats(&st)) {
		*count_r = *sum_r = 0;
		return;
	}
	*count_r = (double)st.acquired;
	*sum_r = (double)st.acquire_ms_sum / 1000.0;
}

static void pool_usage(void *ctx, double *count_r, double *sum_r, double *max_r)
{
	struct db_pool_stats st;

	(void)ctx;
	*max_r = NAN;
	if (!pool_stats(&st)) {
		*count_r = *sum_r = 0;
		return;
	}
	/* every acquired connection is given back once */
	*count_r =
		(double)(st.acquired > st.active ? st.acquired - st.active : 0);
	*sum_r = (double)st.usage_ms_sum / 1000.0;
}

static const struct {
	enum met_type type;
	const char *name, *desc;
	enum pool_field field;
} pool_meters[] = {
	{ MET_GAUGE, "hikaricp.connections", "Total connections", P_TOTAL },
	{ MET_GAUGE, "hikaricp.connections.active", "Active connections",
	  P_ACTIVE },
	{ MET_GAUGE, "hikaricp.connections.idle", "Idle connections", P_IDLE },
	{ MET_GAUGE, "hikaricp.connections.pending", "Pending threads",
	  P_PENDING },
	{ MET_GAUGE, "hikaricp.connections.max", "Max connections", P_MAX },
	{ MET_GAUGE, "hikaricp.connections.min", "Min connections", P_MIN },
	{ MET_FUNCTION_COUNTER, "hikaricp.connections.timeout",
	  "Connection timeout total count", P_TIMEOUT },
};

static int register_pool(const char **error_r)
{
	static const char *const labels[] = { "pool", NULL };
	static const char *const values[] = { POOL_NAME };
	struct met_family *f;

	for (size_t i = 0; i < sizeof(pool_meters) / sizeof(pool_meters[0]);
	     i++) {
		f = met_register(reg, pool_meters[i].type, pool_meters[i].name,
				 pool_meters[i].desc, NULL, labels, NULL, 0,
				 error_r);
		if (f == NULL)
			return -EINVAL;
		met_series_set_fn(met_series(f, values), pool_value,
				  (void *)(intptr_t)pool_meters[i].field);
	}
	f = met_register(
		reg, MET_FUNCTION_TIMER, "hikaricp.connections.acquire",
		"Connection acquire time", NULL, labels, NULL, 0, error_r);
	if (f == NULL)
		return -EINVAL;
	met_series_set_timer_fn(met_series(f, values), pool_acquire, NULL);
	f = met_register(reg, MET_FUNCTION_TIMER, "hikaricp.connections.usage",
			 "Connection usage time", NULL, labels, NULL, 0,
			 error_r);
	if (f == NULL)
		return -EINVAL;
	met_series_set_timer_fn(met_series(f, values), pool_usage, NULL);
	return 0;
}

/* The hikaricp.* series exist only once there is a pool: before, their
 * families have no series (not listed). */
void metrics_worker_add_db_pool(struct db_pool *pool)
{
	pthread_mutex_lock(&src_lock);
	src_pool = pool;
	pthread_mutex_unlock(&src_lock);
	if (pool != NULL && reg != NULL &&
	    met_find(reg, "hikaricp.connections") == NULL) {
		const char *error;

		if (register_pool(&error) < 0)
			/* only out of memory: the pool is just not shown */
			return;
	}
}

void metrics_worker_remove_db_pool(void)
{
	pthread_mutex_lock(&src_lock);
	src_pool = NULL;
	pthread_mutex_unlock(&src_lock);
}

/* -------------------------------------------------------------- jobs --- */

static double running_jobs(void *ctx)
{
	(void)ctx;
	return (double)dispatcher_running();
}

static int register_jobs(const char **error_r)
{
	static const char *const sp[] = { "source", "phase", NULL };
	static const char *const spc[] = { "source", "phase", "class", NULL };
	static const char *const sps[] = { "source", "phase", "status", NULL };
	static const char *const src[] = { "source", NULL };
	static const char *const outcome[] = { "outcome", NULL };
	struct met_family *f;

#define REG(dst, type, name, desc, unit, labels)                              \
	do {                                                                  \
		dst = met_register(reg, type, name, desc, unit, labels, NULL, \
				   0, error_r);                               \
		if (dst == NULL)                                              \
			return -EINVAL;                                       \
	} while (0)
	REG(jm.claimed, MET_COUNTER, "dmf.jobs.claimed",
	    "Jobs claimed by this worker", NULL, sp);
	REG(jm.retried, MET_COUNTER, "dmf.jobs.retried",
	    "Jobs claimed again after an earlier attempt", NULL, sp);
	REG(jm.succeeded, MET_COUNTER, "dmf.jobs.succeeded",
	    "Jobs that ended with SUCCESS", NULL, sp);
	REG(jm.failed, MET_COUNTER, "dmf.jobs.failed",
	    "Jobs that ended with FAILURE, by failure class", NULL, spc);
	REG(jm.aborted, MET_COUNTER, "dmf.jobs.aborted",
	    "Jobs aborted while running (shutdown, lease lost, cancel) and "
	    "given back",
	    NULL, sp);
	REG(jm.rescued, MET_COUNTER, "dmf.jobs.rescued",
	    "Stale jobs this worker rescued (queued again or failed)", NULL,
	    outcome);
	REG(jm.saved, MET_COUNTER, "dmf.messages.saved",
	    "Messages saved by migrations (live while jobs run)", NULL, src);
	REG(jm.expunged, MET_COUNTER, "dmf.messages.expunged",
	    "Messages expunged by migrations (live while jobs run)", NULL, src);
	REG(jm.bytes, MET_COUNTER, "dmf.migrated.bytes",
	    "Bytes of the messages saved by migrations", "bytes", src);
	jm.duration = met_register(
		reg, MET_TIMER, "dmf.jobs.duration", "Run time of the jobs",
		"seconds", sps, duration_buckets, N_DURATION_BUCKETS, error_r);
	if (jm.duration == NULL)
		return -EINVAL;
	REG(f, MET_COUNTER, "dmf.lease.renewals.failed",
	    "Heartbeats that could not renew the job leases", NULL, NULL);
	jm.renewals_failed = met_series(f, NULL);
	REG(f, MET_GAUGE, "dmf.jobs.running", "Jobs running now", NULL, NULL);
	jm.running = met_series(f, NULL);
	met_series_set_fn(jm.running, running_jobs, NULL);
#undef REG
	return 0;
}

int metrics_worker_init(const struct config *cfg, char **error_r)
{
	const char *err = NULL;
	struct metrics_endpoints me = { 0 };
	int ret;

	metrics_worker_deinit();
	ret = metrics_endpoints_config(cfg, &me, &err);
	if (ret < 0) {
		*error_r = xasprintf("%s", err);
		return ret;
	}
	if (!me.enabled) {
		endpoints = me;
		return 0;
	}
	reg = met_registry_new();
	if (reg == NULL) {
		*error_r = xasprintf("out of memory");
		return -ENOMEM;
	}
	ret = metrics_process_register(reg, &err);
	if (ret == 0)
		ret = register_executor(&err);
	if (ret == 0)
		ret = register_jobs(&err);
	if (ret < 0) {
		*error_r = xasprintf("metrics: %s", err);
		metrics_worker_deinit();
		return ret;
	}
	me.reg = reg;
	endpoints = me;
	return 0;
}

void metrics_worker_deinit(void)
{
	metrics_worker_remove_db_pool();
	metrics_worker_remove_executor();
	memset(&jm, 0, sizeof(jm));
	ex_run = ex_idle = NULL;
	memset(&endpoints, 0, sizeof(endpoints));
	met_registry_free(&reg);
}

static struct met_series *
job_series(struct met_family *f, const struct dmf_job *job, const char *extra)
{
	const char *v[3] = { job->source, job->phase, extra };

	return met_series(f, v);
}

void metrics_job_claimed(const struct dmf_job *job)
{
	if (reg == NULL)
		return;
	met_counter_add(job_series(jm.claimed, job, NULL), 1);
	if (job->attempt > 1)
		met_counter_add(job_series(jm.retried, job, NULL), 1);
}

void metrics_job_bad_row(const char *source, const char *phase)
{
	const char *v[3] = { source != NULL ? source : "",
			     phase != NULL ? phase : "", "invalid_row" };

	if (reg != NULL)
		met_counter_add(met_series(jm.failed, v), 1);
}

static void add_progress(struct dmf_job *job, int which, long long total)
{
	struct met_family *f = which == JOB_PROGRESS_SAVED    ? jm.saved :
			       which == JOB_PROGRESS_EXPUNGED ? jm.expunged :
								jm.bytes;
	const char *v[1] = { job->source };
	long long done = job->progress_counted[which];

	if (total <= done)
		return;
	met_counter_add(met_series(f, v), (uint64_t)(total - done));
	job->progress_counted[which] = total;
}

void metrics_job_progress(struct dmf_job *job)
{
	if (reg == NULL)
		return;
	for (int i = 0; i < 3; i++)
		add_progress(job, i, atomic_load(&job->progress[i]));
}

void metrics_job_finished(struct dmf_job *job, const char *failure_class,
			  bool aborted)
{
	double s;

	if (reg == NULL)
		return;
	metrics_job_progress(job);
	/* the final counts may go beyond the last progress report */
	if (job->count_set[DMF_COUNT_SYNC_SAVED])
		add_progress(job, JOB_PROGRESS_SAVED,
			     job->counts[DMF_COUNT_SYNC_SAVED]);
	if (job->count_set[DMF_COUNT_SYNC_EXPUNGED])
		add_progress(job, JOB_PROGRESS_EXPUNGED,
			     job->counts[DMF_COUNT_SYNC_EXPUNGED]);
	s = (double)(job->finished.tv_sec - job->started.tv_sec) +
	    (double)(job->finished.tv_nsec - job->started.tv_nsec) / 1e9;
	met_timer_record(job_series(jm.duration, job,
				    aborted		  ? "ABORTED" :
				    failure_class == NULL ? "SUCCESS" :
							    "FAILURE"),
			 s < 0 ? 0 : s);
	if (aborted)
		met_counter_add(job_series(jm.aborted, job, NULL), 1);
	else if (failure_class == NULL)
		met_counter_add(job_series(jm.succeeded, job, NULL), 1);
	else
		met_counter_add(job_series(jm.failed, job, failure_class), 1);
}

void metrics_jobs_rescued(unsigned requeued, unsigned failed)
{
	const char *q[1] = { "requeued" }, *f[1] = { "failed" };

	if (reg == NULL)
		return;
	if (requeued > 0)
		met_counter_add(met_series(jm.rescued, q), requeued);
	if (failed > 0)
		met_counter_add(met_series(jm.rescued, f), failed);
}

void metrics_lease_renewal_failed(void)
{
	if (reg != NULL)
		met_counter_add(jm.renewals_failed, 1);
}
