/*
 * test_executor.c - the worker-executor pool: a fixed pool never runs more
 * tasks at once than its size and queues the rest; a cached pool grows to
 * the demand; destroy waits for every task.
 */
#include "dmf-build.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "../tap.h"
#include "worker/executor.h"

static atomic_int now_running, max_running, done;

static void task(void *arg)
{
	int n = atomic_fetch_add(&now_running, 1) + 1;
	int m = atomic_load(&max_running);

	while (n > m && !atomic_compare_exchange_weak(&max_running, &m, n))
		;
	usleep((useconds_t)(long)arg);
	atomic_fetch_sub(&now_running, 1);
	atomic_fetch_add(&done, 1);
}

static void run_pool(enum executor_type type, unsigned size, int tasks,
		     struct executor_stats *st)
{
	struct executor *ex = NULL;

	atomic_store(&now_running, 0);
	atomic_store(&max_running, 0);
	atomic_store(&done, 0);
	executor_create("test", type, size, 200, &ex);
	for (int i = 0; i < tasks; i++)
		executor_submit(ex, task, (void *)20000L);
	usleep(5000);
	executor_get_stats(ex, st);
	executor_destroy(&ex);
}

int main(void)
{
	struct executor_stats st;
	enum executor_type t;
	struct executor *ex = NULL;

	plan_lazy();
	is_int(executor_parse_type("fixed", &t), 0, "parse fixed");
	is_int(t, EXECUTOR_FIXED, "fixed type");
	is_int(executor_parse_type("CACHED", &t), 0, "parse CACHED");
	is_int(t, EXECUTOR_CACHED, "cached type");
	ok(executor_parse_type("pooled", &t) < 0, "unknown type refused");

	run_pool(EXECUTOR_FIXED, 3, 12, &st);
	is_int(atomic_load(&done), 12, "fixed: every task ran");
	ok(atomic_load(&max_running) <= 3, "fixed: at most 3 at once (%d)",
	   atomic_load(&max_running));
	ok(st.queued > 0, "fixed: tasks beyond the size were queued (%u)",
	   st.queued);
	is_int(st.peak_threads, 3, "fixed: 3 threads");

	run_pool(EXECUTOR_CACHED, 0, 12, &st);
	is_int(atomic_load(&done), 12, "cached: every task ran");
	ok(atomic_load(&max_running) >= 10,
	   "cached: grew to the demand (%d at once)",
	   atomic_load(&max_running));

	/* idle cached threads end */
	executor_create("idle", EXECUTOR_CACHED, 0, 50, &ex);
	executor_submit(ex, task, (void *)1000L);
	usleep(300000);
	executor_get_stats(ex, &st);
	is_int(st.threads, 0, "cached: idle thread ended");
	is_int(st.completed, 1, "cached: task completed");
	executor_destroy(&ex);
	return done_testing();
}
