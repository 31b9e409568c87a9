/*
 * executor.h - the worker-executor thread pool
 * (micronaut.executors.worker-executor).
 *
 * `fixed`: at most `threads` threads, started on demand and kept; tasks
 * beyond them wait in a FIFO queue (the spec's warning about jobs.max >
 * number-of-threads).  `cached`: a new thread whenever no thread is idle,
 * idle threads end after `idle_ms`.
 */
#ifndef DMF_CORE_EXECUTOR_H
#define DMF_CORE_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>

enum executor_type { EXECUTOR_FIXED, EXECUTOR_CACHED };

struct executor_stats {
	unsigned threads; /* threads alive */
	unsigned active; /* threads running a task */
	unsigned queued; /* tasks waiting for a thread */
	unsigned peak_threads; /* most threads alive at once */
	unsigned long long completed;
	unsigned max_threads; /* the fixed size, 0 for cached */
};

struct executor;

/* Parse "fixed" or "cached" (case-insensitive); 0 or -EINVAL. */
int executor_parse_type(const char *text, enum executor_type *type_r);

/* threads: the fixed size (>= 1); ignored for cached. */
int executor_create(const char *name, enum executor_type type, unsigned threads,
		    unsigned idle_ms, struct executor **ex_r);
/* Queue fn(arg); 0, -ENOMEM, or -ESHUTDOWN after executor_destroy began. */
int executor_submit(struct executor *ex, void (*fn)(void *arg), void *arg);
void executor_get_stats(struct executor *ex, struct executor_stats *stats_r);
/* Called on the task's thread after each task: idle_s the time it waited
 * in the queue, run_s the time it ran (the metrics' executor.idle and
 * executor timers). */
typedef void executor_observer_fn(void *ctx, double idle_s, double run_s);
void executor_set_observer(struct executor *ex, executor_observer_fn *fn,
			   void *ctx);
/* Wait for every queued and running task, join the threads and free. */
void executor_destroy(struct executor **ex);

#endif /* DMF_CORE_EXECUTOR_H */
