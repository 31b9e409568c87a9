/* dispatcher.c - follow the state, claim jobs, run them, stop cleanly. */
#include "dmf-build.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "worker/dispatcher.h"
#include "host/host.h"
#include "lib/fail_log.h"
#include "lib/job.h"
#include "lib/log.h"
#include "lib/util.h"
#include "metrics/metrics_worker.h"
#include "worker/sdnotify.h"

/* Claims back off up to this while the job source is down: short, so that
 * work resumes soon after the database returns. */
#define FETCH_BACKOFF_MAX_MS 5000u
/* While draining, systemd's stop timeout is extended by this much, again
 * every DRAIN_NOTE_MS, until the drain ends or the jobs aborted at the
 * termination deadline have had DRAIN_ABORT_GRACE_MS to go. */
#define DRAIN_EXTEND_MS 15000u
#define DRAIN_NOTE_MS 5000u
#define DRAIN_ABORT_GRACE_MS 60000u
struct dispatcher {
	const struct dispatcher_params *p;
	int wake_fd; /* eventfd: a job finished */

	pthread_mutex_t lock;
	struct dmf_job **running; /* jobs handed to the executor */
	size_t n_running, cap_running;
	/* run_job() tasks not yet returned: a task still touches this struct
	 * after its job left `running`, so the dispatcher only returns once
	 * this is 0 */
	atomic_uint in_flight;
};

struct run_task {
	struct dispatcher *d;
	struct dmf_job *job;
};

static atomic_uint running_count;

unsigned dispatcher_running(void)
{
	return atomic_load(&running_count);
}

static int running_add(struct dispatcher *d, struct dmf_job *job)
{
	pthread_mutex_lock(&d->lock);
	if (d->n_running == d->cap_running) {
		size_t cap = d->cap_running == 0 ? 16 : d->cap_running * 2;
		struct dmf_job **r = realloc(d->running, cap * sizeof(*r));

		if (r == NULL) {
			pthread_mutex_unlock(&d->lock);
			return -ENOMEM;
		}
		d->running = r;
		d->cap_running = cap;
	}
	d->running[d->n_running++] = job;
	atomic_store(&running_count, (unsigned)d->n_running);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static void running_remove(struct dispatcher *d, struct dmf_job *job)
{
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->n_running; i++) {
		if (d->running[i] == job) {
			d->running[i] = d->running[--d->n_running];
			break;
		}
	}
	atomic_store(&running_count, (unsigned)d->n_running);
	pthread_mutex_unlock(&d->lock);
}

static size_t running_n(struct dispatcher *d)
{
	size_t n;

	pthread_mutex_lock(&d->lock);
	n = d->n_running;
	pthread_mutex_unlock(&d->lock);
	return n;
}

static void running_abort_all(struct dispatcher *d)
{
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->n_running; i++)
		job_abort(d->running[i]);
	pthread_mutex_unlock(&d->lock);
}

static double elapsed_s(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Runs on an executor thread. */
static void run_job(void *arg)
{
	struct run_task *t = arg;
	struct dispatcher *d = t->d;
	struct dmf_job *job = t->job;
	const struct plugin *plugin = d->p->plugin;
	const char *failure_class = NULL;
	uint64_t one = 1;
	int ret = 0;

	free(t);
	log_set_thread_job(job);
	clock_gettime(CLOCK_REALTIME, &job->started);
	host_job_started(job);
	log_info("job started (source %s, attempt %u)", job->source,
		 job->attempt);
	if (!job_is_aborted(job))
		ret = plugin->desc->run(plugin->ctx, job);
	clock_gettime(CLOCK_REALTIME, &job->finished);
	if (job->status == DMF_STATUS_FAILURE)
		failure_class = "job";
	if (ret < 0 && job->status != DMF_STATUS_FAILURE) {
		job_set_status(job, DMF_STATUS_FAILURE);
		failure_class = "worker_error";
		if (job->error == NULL)
			job_set_error(job, "job worker error: %s",
				      dmf_strerror(ret));
	}
	if (job->status == DMF_STATUS_NONE) {
		job_set_status(job, DMF_STATUS_FAILURE);
		failure_class = "no_result";
		if (job->error == NULL)
			job_set_error(job, "the job worker reported no result");
	}
	metrics_job_finished(job, failure_class, job_is_aborted(job));
	host_job_finished(job);
	running_remove(d, job);
	if (job_is_aborted(job)) {
		log_warn("job aborted after %.3f s; given back",
			 elapsed_s(&job->started, &job->finished));
		d->p->poller_ops->release(d->p->poller, job);
	} else {
		if (job->status == DMF_STATUS_SUCCESS)
			log_info("job SUCCESS in %.3f s",
				 elapsed_s(&job->started, &job->finished));
		else
			log_warn("job FAILURE in %.3f s: %s",
				 elapsed_s(&job->started, &job->finished),
				 job->error);
		d->p->poller_ops->complete(d->p->poller, job);
	}
	log_set_thread_job(NULL);
	if (write(d->wake_fd, &one, sizeof(one)) < 0) {
		/* the dispatcher also wakes on its own timeout */
	}
	/* the last touch of `d`: the dispatcher may return right after */
	atomic_fetch_sub(&d->in_flight, 1);
}

static const char *state_name(enum run_state s)
{
	switch (s) {
	case RUN_STATE_RUNNING:
		return "running";
	case RUN_STATE_PAUSED:
		return "paused";
	default:
		return "stopping";
	}
}

/* Read pending signals; returns the last stop signal seen, 0 for none.
 * SIGHUP reloads (params->reload) and is not returned. */
static int read_signals(const struct dispatcher_params *p)
{
	struct signalfd_siginfo si;
	int last = 0;

	if (p->signal_fd < 0)
		return 0;
	while (read(p->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (p->reload != NULL)
				p->reload(p->reload_ctx);
			else
				log_info("SIGHUP: configuration reload is not "
					 "supported here; restart to apply "
					 "changes");
			continue;
		}
		last = (int)si.ssi_signo;
	}
	return last;
}

static void drain_wake(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

/* Wait up to timeout_ms for a finished job or a signal. */
static int wait_event(struct dispatcher *d, int timeout_ms)
{
	struct pollfd pfd[2] = { { .fd = d->wake_fd, .events = POLLIN },
				 { .fd = d->p->signal_fd, .events = POLLIN } };

	if (poll(pfd, d->p->signal_fd >= 0 ? 2 : 1, timeout_ms) < 0 &&
	    errno != EINTR)
		return -errno;
	drain_wake(d->wake_fd);
	return read_signals(d->p);
}

static int dispatch(struct dispatcher *d, struct dmf_job *job)
{
	struct run_task *t = malloc(sizeof(*t));
	int ret;

	if (t == NULL || running_add(d, job) < 0) {
		free(t);
		return -ENOMEM;
	}
	t->d = d;
	t->job = job;
	metrics_job_claimed(job);
	atomic_fetch_add(&d->in_flight, 1);
	ret = executor_submit(d->p->executor, run_job, t);
	if (ret < 0) {
		atomic_fetch_sub(&d->in_flight, 1);
		running_remove(d, job);
		free(t);
	}
	return ret;
}

static void drain(struct dispatcher *d, struct worker_state *ws)
{
	const struct dispatcher_params *p = d->p;
	uint64_t deadline = now_monotonic_ms() + p->termination_ms;
	uint64_t next_refresh = 0, next_note = 0;
	bool aborted = false;
	size_t n;

	while (atomic_load(&d->in_flight) > 0) {
		uint64_t now = now_monotonic_ms();
		int sig, wait_ms;

		sd_watchdog_tick(now);
		n = running_n(d);
		if (n == 0) {
			/* only the tasks' last steps are left */
			wait_event(d, 20);
			continue;
		}

		if (now >= next_refresh) {
			p->state_ops->refresh(p->state, (unsigned)n, ws);
			next_refresh = now + p->state_ops->refresh_ms(p->state);
		}
		if (!aborted && now >= deadline) {
			log_warn("termination timeout (%u ms) reached: "
				 "aborting %zu running job(s)",
				 p->termination_ms, n);
			running_abort_all(d);
			aborted = true;
		}
		/* the drain's status first, then its stop-timeout extension */
		sd_notify_status("stopping: waiting for %zu running job(s)%s",
				 n, aborted ? " to abort" : "");
		if (now >= next_note) {
			log_info("stopping: waiting for %zu running job(s)%s",
				 n, aborted ? " to abort" : "");
			if (now < deadline + DRAIN_ABORT_GRACE_MS)
				sd_notify_extend_timeout(DRAIN_EXTEND_MS);
			next_note = now + DRAIN_NOTE_MS;
		}
		/* wake at the termination deadline, not up to 1 s after it */
		wait_ms = !aborted && deadline > now && deadline - now < 1000 ?
				  (int)(deadline - now) :
				  1000;
		if (sd_watchdog_due_ms() < now + (uint64_t)wait_ms)
			wait_ms = sd_watchdog_due_ms() > now ?
					  (int)(sd_watchdog_due_ms() - now) :
					  0;
		sig = wait_event(d, wait_ms);
		if (sig > 0 && !aborted) {
			log_warn("signal %d during shutdown: aborting %zu "
				 "running job(s) now",
				 sig, running_n(d));
			running_abort_all(d);
			aborted = true;
		}
	}
}

int dispatcher_run(const struct dispatcher_params *p)
{
	struct dispatcher d = { .p = p };
	struct worker_state ws = { .state = RUN_STATE_PAUSED, .max_jobs = 1 };
	enum run_state last_state = (enum run_state) - 1;
	uint64_t next_refresh = 0, next_fetch = 0;
	struct fail_log refresh_fails = { 0 }, fetch_fails = { 0 };
	unsigned long long failed_ms;
	unsigned failures;
	unsigned backoff_ms = 0, last_max = 0;
	bool stop = false;
	struct dmf_job **batch = NULL;
	size_t batch_cap = 0;

	atomic_init(&d.in_flight, 0);
	d.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d.wake_fd < 0)
		return -errno;
	pthread_mutex_init(&d.lock, NULL);

	while (!stop) {
		uint64_t now = now_monotonic_ms();
		size_t n_running = running_n(&d);
		uint64_t wake_at;
		int sig;

		sd_watchdog_tick(now);
		if (now >= next_refresh) {
			int ret = p->state_ops->refresh(
				p->state, (unsigned)n_running, &ws);

			if (ret < 0 && fail_log_due(&refresh_fails, now))
				log_warn("cannot refresh the worker state: %s; "
					 "keeping the last one (logged once a "
					 "minute)",
					 dmf_strerror(ret));
			if (ret == 0 && fail_log_ended(&refresh_fails, now,
						       &failures, &failed_ms))
				log_info(
					"the worker state is refreshed again, "
					"after %u failed attempt(s) in %llu ms",
					failures, failed_ms);
			next_refresh = now + p->state_ops->refresh_ms(p->state);
		}
		if (ws.state != last_state || ws.max_jobs != last_max) {
			log_info("worker %s, up to %u job(s) at once",
				 state_name(ws.state), ws.max_jobs);
			last_state = ws.state;
			last_max = ws.max_jobs;
		}
		sd_notify_status("%s: %zu job(s) running, up to %u at once",
				 state_name(ws.state), n_running, ws.max_jobs);
		if (p->poller_ops->exhausted(p->poller) &&
		    atomic_load(&d.in_flight) == 0) {
			log_info("no more jobs: stopping");
			break;
		}
		if (ws.state == RUN_STATE_STOPPING) {
			log_info("stop requested by the worker state");
			break;
		}
		if (ws.state == RUN_STATE_RUNNING && n_running < ws.max_jobs &&
		    now >= next_fetch) {
			size_t want = ws.max_jobs - n_running, n = 0;
			int ret;

			if (want > batch_cap) {
				struct dmf_job **b =
					realloc(batch, want * sizeof(*b));

				if (b == NULL) {
					log_error("out of memory");
					break;
				}
				batch = b;
				batch_cap = want;
			}
			ret = p->poller_ops->fetch(p->poller, want, batch, &n);
			if (ret < 0) {
				backoff_ms =
					backoff_ms == 0 ? 500 : backoff_ms * 2;
				if (backoff_ms > FETCH_BACKOFF_MAX_MS)
					backoff_ms = FETCH_BACKOFF_MAX_MS;
				if (fail_log_due(&fetch_fails, now))
					log_warn("cannot fetch jobs: %s; "
						 "retrying in %u ms, doubling "
						 "to %u ms (logged once a "
						 "minute)",
						 dmf_strerror(ret), backoff_ms,
						 FETCH_BACKOFF_MAX_MS);
				next_fetch = now + jitter_ms(backoff_ms, 20);
			} else {
				backoff_ms = 0;
				if (fail_log_ended(&fetch_fails, now, &failures,
						   &failed_ms))
					log_info(
						"jobs are fetched again, after "
						"%u failed attempt(s) in %llu "
						"ms",
						failures, failed_ms);
			}
			for (size_t i = 0; i < n; i++) {
				if (dispatch(&d, batch[i]) < 0) {
					log_error("cannot start job %s; given "
						  "back",
						  batch[i]->id);
					p->poller_ops->release(p->poller,
							       batch[i]);
				}
			}
			/* A short batch means the queue is (nearly) empty:
			 * wait before asking again. */
			if (ret == 0 && n < want)
				next_fetch = now + p->poller_ops->idle_wait_ms(
							   p->poller);
			if (n > 0)
				continue;
		}
		/* Sleep until the next refresh or fetch, a finished job or a
		 * signal. */
		wake_at = next_refresh;
		if (ws.state == RUN_STATE_RUNNING &&
		    running_n(&d) < ws.max_jobs && next_fetch < wake_at)
			wake_at = next_fetch;
		if (sd_watchdog_due_ms() < wake_at)
			wake_at = sd_watchdog_due_ms();
		now = now_monotonic_ms();
		sig = wait_event(&d, wake_at > now ? (int)(wake_at - now) : 0);
		if (sig > 0) {
			log_info("signal %d (%s): stopping", sig,
				 strsignal(sig));
			stop = true;
		}
		if (sig < 0) {
			log_error("waiting for events: %s", dmf_strerror(sig));
			break;
		}
	}
	free(batch);
	if (running_n(&d) > 0)
		log_info("no more claims; %zu job(s) running, waiting up to "
			 "%u ms",
			 running_n(&d), p->termination_ms);
	drain(&d, &ws);
	p->state_ops->shutdown(p->state);
	close(d.wake_fd);
	free(d.running);
	pthread_mutex_destroy(&d.lock);
	return 0;
}
