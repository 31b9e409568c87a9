/* executor.c - the worker-executor thread pool (fixed or cached). */
#include "dmf-build.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "worker/executor.h"
#include "lib/log.h"
#include "lib/util.h"

struct task {
	void (*fn)(void *arg);
	void *arg;
	struct task *next;
	struct timespec queued; /* CLOCK_MONOTONIC at submit */
};

struct executor {
	char name[32];
	enum executor_type type;
	unsigned max_threads;
	unsigned idle_ms;

	pthread_mutex_t lock;
	pthread_cond_t work; /* a task was queued, or shutdown */
	pthread_cond_t ended; /* a thread ended */
	struct task *head, *tail;
	unsigned queued;
	unsigned threads, idle, active, peak;
	unsigned long long completed;
	bool shutdown;
	/* executor_set_observer(); set before the first submit */
	executor_observer_fn *observer;
	void *observer_ctx;
};

static double since_s(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void executor_set_observer(struct executor *ex, executor_observer_fn *fn,
			   void *ctx)
{
	pthread_mutex_lock(&ex->lock);
	ex->observer = fn;
	ex->observer_ctx = ctx;
	pthread_mutex_unlock(&ex->lock);
}

int executor_parse_type(const char *text, enum executor_type *type_r)
{
	if (text != NULL && strcasecmp(text, "fixed") == 0)
		*type_r = EXECUTOR_FIXED;
	else if (text != NULL && strcasecmp(text, "cached") == 0)
		*type_r = EXECUTOR_CACHED;
	else
		return -EINVAL;
	return 0;
}

static void *executor_thread(void *arg)
{
	struct executor *ex = arg;

	pthread_mutex_lock(&ex->lock);
	for (;;) {
		executor_observer_fn *obs;
		void *obs_ctx;
		struct timespec start, end;
		struct task *t;

		while (ex->head == NULL && !ex->shutdown) {
			if (ex->type == EXECUTOR_CACHED) {
				struct timespec until;
				int rc;

				realtime_after_ms(&until, ex->idle_ms);
				ex->idle++;
				rc = pthread_cond_timedwait(&ex->work,
							    &ex->lock, &until);
				ex->idle--;
				if (rc == ETIMEDOUT && ex->head == NULL)
					goto out;
			} else {
				ex->idle++;
				pthread_cond_wait(&ex->work, &ex->lock);
				ex->idle--;
			}
		}
		t = ex->head;
		if (t == NULL)
			break; /* shutdown with an empty queue */
		ex->head = t->next;
		if (ex->head == NULL)
			ex->tail = NULL;
		ex->queued--;
		ex->active++;
		obs = ex->observer;
		obs_ctx = ex->observer_ctx;
		pthread_mutex_unlock(&ex->lock);
		clock_gettime(CLOCK_MONOTONIC, &start);
		t->fn(t->arg);
		if (obs != NULL) {
			clock_gettime(CLOCK_MONOTONIC, &end);
			obs(obs_ctx, since_s(&t->queued, &start),
			    since_s(&start, &end));
		}
		free(t);
		pthread_mutex_lock(&ex->lock);
		ex->active--;
		ex->completed++;
	}
out:
	ex->threads--;
	pthread_cond_broadcast(&ex->ended);
	pthread_mutex_unlock(&ex->lock);
	return NULL;
}

int executor_create(const char *name, enum executor_type type, unsigned threads,
		    unsigned idle_ms, struct executor **ex_r)
{
	struct executor *ex = calloc(1, sizeof(*ex));

	if (ex == NULL)
		return -ENOMEM;
	snprintf(ex->name, sizeof(ex->name), "%s", name);
	ex->type = type;
	ex->max_threads =
		type == EXECUTOR_FIXED ? (threads > 0 ? threads : 1) : 0;
	ex->idle_ms = idle_ms > 0 ? idle_ms : 60000;
	pthread_mutex_init(&ex->lock, NULL);
	pthread_cond_init(&ex->work, NULL);
	pthread_cond_init(&ex->ended, NULL);
	*ex_r = ex;
	return 0;
}

/* Start one detached thread; called with the lock held. */
static int start_thread(struct executor *ex)
{
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&tid, &attr, executor_thread, ex);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -rc;
	ex->threads++;
	if (ex->threads > ex->peak)
		ex->peak = ex->threads;
	return 0;
}

int executor_submit(struct executor *ex, void (*fn)(void *), void *arg)
{
	struct task *t = malloc(sizeof(*t));
	int ret = 0;

	if (t == NULL)
		return -ENOMEM;
	t->fn = fn;
	t->arg = arg;
	t->next = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t->queued);
	pthread_mutex_lock(&ex->lock);
	if (ex->shutdown) {
		pthread_mutex_unlock(&ex->lock);
		free(t);
		return -ESHUTDOWN;
	}
	if (ex->tail != NULL)
		ex->tail->next = t;
	else
		ex->head = t;
	ex->tail = t;
	ex->queued++;
	/* A new thread when every thread is busy with something already
	 * queued, within the fixed size. */
	if (ex->idle < ex->queued &&
	    (ex->type == EXECUTOR_CACHED || ex->threads < ex->max_threads)) {
		ret = start_thread(ex);
		if (ret < 0 && ex->threads > 0)
			ret = 0; /* the running threads will get to it */
		if (ret < 0)
			log_error("executor %s: cannot start a thread: %s",
				  ex->name, strerror(-ret));
	}
	pthread_cond_signal(&ex->work);
	pthread_mutex_unlock(&ex->lock);
	return ret;
}

void executor_get_stats(struct executor *ex, struct executor_stats *st)
{
	pthread_mutex_lock(&ex->lock);
	st->threads = ex->threads;
	st->active = ex->active;
	st->queued = ex->queued;
	st->peak_threads = ex->peak;
	st->completed = ex->completed;
	st->max_threads = ex->max_threads;
	pthread_mutex_unlock(&ex->lock);
}

void executor_destroy(struct executor **exp)
{
	struct executor *ex;

	if (exp == NULL || *exp == NULL)
		return;
	ex = *exp;
	*exp = NULL;
	pthread_mutex_lock(&ex->lock);
	ex->shutdown = true;
	pthread_cond_broadcast(&ex->work);
	while (ex->threads > 0)
		pthread_cond_wait(&ex->ended, &ex->lock);
	pthread_mutex_unlock(&ex->lock);
	pthread_mutex_destroy(&ex->lock);
	pthread_cond_destroy(&ex->work);
	pthread_cond_destroy(&ex->ended);
	free(ex);
}
