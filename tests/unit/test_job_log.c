/*
 * test_job_log.c - a job freed on the thread whose log lines carry it
 * (core/lib/job.c, core/lib/log.c): the lines logged after the free carry
 * no job context and never read the freed job.  Found by the fault soak
 * (tests/integration/test_soak.sh): a worker thawed after a freeze past
 * its lease dropped the jobs it had claimed just before; the release
 * freed each job on its executor thread and the give-back's log line
 * then read the freed job for its "[job ...]" prefix (a segfault).
 * Under ASan the old code is a heap-use-after-free here.
 */
#include "dmf-build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "lib/job.h"
#include "lib/log.h"

static char *logged(void (*fn)(void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	log_set_stream(out);
	fn(arg);
	log_set_stream(NULL);
	fclose(out);
	return buf;
}

static void free_then_log(void *arg)
{
	struct dmf_job *job = arg;

	log_set_thread_job(job);
	log_msg(DMF_LOG_INFO, "before the free");
	job_free(&job);
	log_msg(DMF_LOG_INFO, "after the free");
	log_set_thread_job(NULL);
}

static void other_job_kept(void *arg)
{
	struct dmf_job **jobs = arg;

	log_set_thread_job(jobs[0]);
	job_free(&jobs[1]); /* another job: the thread's job stays */
	log_msg(DMF_LOG_INFO, "still the first");
	log_set_thread_job(NULL);
	job_free(&jobs[0]);
}

int main(void)
{
	struct dmf_job *job, *jobs[2];
	char *out;

	plan_lazy();
	job = job_new("42", "sync", "POD_1", "default");
	ok(job != NULL && job_set_property(job, "uid", "alice", false) == 0,
	   "a job with a uid");
	out = logged(free_then_log, job);
	ok(out != NULL &&
		   strstr(out, "[job 42 alice@sync] before the free") != NULL,
	   "a line before the free carries the job");
	ok(out != NULL && strstr(out, "INFO  after the free") != NULL &&
		   strstr(out, "] after the free") == NULL,
	   "a line after the free carries no job context");
	free(out);

	jobs[0] = job_new("1", "sync", "POD_1", "default");
	jobs[1] = job_new("2", "cutover", "POD_1", "default");
	out = logged(other_job_kept, jobs);
	ok(out != NULL && strstr(out, "[job 1 -@sync] still the first") != NULL,
	   "freeing another job keeps the thread's job");
	free(out);
	return done_testing();
}
