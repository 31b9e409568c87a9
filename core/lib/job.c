/* job.c - one migration job: properties, abort flag, result. */
#include "dmf-build.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/job.h"
#include "lib/log.h"
#include "lib/util.h"

struct dmf_job *job_new(const char *id, const char *phase, const char *source,
			const char *target)
{
	struct dmf_job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		return NULL;
	job->abort_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	job->id = xstrdup(id);
	job->phase = xstrdup(phase != NULL ? phase : "sync");
	job->source = xstrdup(source != NULL ? source : "default");
	job->target = xstrdup(target != NULL ? target : "default");
	job->details = json_array();
	job->attempt = 1;
	atomic_init(&job->aborted, false);
	for (int i = 0; i < 3; i++)
		atomic_init(&job->progress[i], -1);
	if (job->abort_fd < 0 || job->id == NULL || job->phase == NULL ||
	    job->source == NULL || job->target == NULL || job->details == NULL)
		job_free(&job);
	return job;
}

void job_free(struct dmf_job **jobp)
{
	struct dmf_job *job;

	if (jobp == NULL || *jobp == NULL)
		return;
	job = *jobp;
	*jobp = NULL;
	log_forget_thread_job(job);
	for (size_t i = 0; i < job->n_props; i++) {
		free(job->props[i].name);
		if (job->props[i].secret)
			secret_free(&job->props[i].value);
		else
			free(job->props[i].value);
	}
	free(job->props);
	if (job->abort_fd >= 0)
		close(job->abort_fd);
	json_decref(job->details);
	free(job->id);
	free(job->phase);
	free(job->source);
	free(job->target);
	free(job->error);
	free(job);
}

static struct job_property *find_prop(const struct dmf_job *job,
				      const char *name)
{
	for (size_t i = 0; i < job->n_props; i++)
		if (strcmp(job->props[i].name, name) == 0)
			return &job->props[i];
	return NULL;
}

int job_set_property(struct dmf_job *job, const char *name, const char *value,
		     bool secret)
{
	struct job_property *p = find_prop(job, name);
	char *copy = xstrdup(value);

	if (value != NULL && copy == NULL)
		return -ENOMEM;
	if (p == NULL) {
		struct job_property *props = realloc(
			job->props, (job->n_props + 1) * sizeof(*props));

		if (props == NULL) {
			secret_free(&copy);
			return -ENOMEM;
		}
		job->props = props;
		p = &props[job->n_props];
		p->name = strdup(name);
		if (p->name == NULL) {
			secret_free(&copy);
			return -ENOMEM;
		}
		p->value = NULL;
		job->n_props++;
	} else if (p->secret) {
		secret_free(&p->value);
	} else {
		free(p->value);
	}
	p->value = copy;
	p->secret = secret;
	return 0;
}

const char *job_get_property(const struct dmf_job *job, const char *name)
{
	const struct job_property *p = find_prop(job, name);

	return p != NULL ? p->value : NULL;
}

bool job_property_is_secret(const struct dmf_job *job, const char *name)
{
	const struct job_property *p = find_prop(job, name);

	return p != NULL && p->secret;
}

void job_abort(struct dmf_job *job)
{
	uint64_t one = 1;

	if (atomic_exchange(&job->aborted, true))
		return;
	if (write(job->abort_fd, &one, sizeof(one)) < 0) {
		/* the flag alone still stops the job */
	}
}

bool job_is_aborted(const struct dmf_job *job)
{
	return atomic_load(&((struct dmf_job *)job)->aborted);
}

int job_sleep_ms(const struct dmf_job *job, unsigned long long ms)
{
	uint64_t end = now_monotonic_ms() + ms;

	for (;;) {
		struct pollfd pfd = { .fd = job->abort_fd, .events = POLLIN };
		uint64_t now = now_monotonic_ms();
		unsigned long long left;

		if (job_is_aborted(job))
			return -ECANCELED;
		if (now >= end)
			return 0;
		left = end - now;
		if (poll(&pfd, 1, left > 60000 ? 60000 : (int)left) < 0 &&
		    errno != EINTR)
			return -errno;
	}
}

void job_set_status(struct dmf_job *job, enum dmf_job_status status)
{
	job->status = status;
}

void job_set_errorv(struct dmf_job *job, const char *fmt, va_list ap)
{
	char *text = NULL;

	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	free(job->error);
	job->error = text != NULL ? text : strdup("(out of memory)");
}

void job_set_error(struct dmf_job *job, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	job_set_errorv(job, fmt, ap);
	va_end(ap);
}

int job_add_detail(struct dmf_job *job, const char *operation, json_t *object)
{
	json_t *entry;

	if (!json_is_object(object) || operation == NULL)
		return -EINVAL;
	entry = json_object();
	if (entry == NULL || json_object_set(entry, operation, object) < 0 ||
	    json_array_append_new(job->details, entry) < 0) {
		json_decref(entry);
		return -ENOMEM;
	}
	return 0;
}

void job_set_count(struct dmf_job *job, enum dmf_count which, long long value)
{
	if ((unsigned)which >= DMF_COUNT_MAX_)
		return;
	job->counts[which] = value;
	job->count_set[which] = true;
}

const char *job_status_name(enum dmf_job_status status)
{
	switch (status) {
	case DMF_STATUS_SUCCESS:
		return "SUCCESS";
	case DMF_STATUS_FAILURE:
		return "FAILURE";
	default:
		return "NONE";
	}
}

const char *job_count_name(enum dmf_count which)
{
	static const char *const names[DMF_COUNT_MAX_] = {
		"syncSaved",  "syncExpunged",	"targetMessages",
		"targetSize", "originMessages", "originSize"
	};

	return (unsigned)which < DMF_COUNT_MAX_ ? names[which] : "unknown";
}
