/*
 * test_host_config.c - generations of the configuration behind the config
 * table (core/host/host_config.c): a job pinned before a reload keeps
 * reading the configuration it started with, code outside a job reads the
 * new one, a replaced configuration is freed once its last job ended (the
 * ASan build reports a leak or a use after free otherwise), and the
 * secrets registry only grows, without moving under a reader.
 */
#include "dmf-build.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "host/host_services.h"
#include "lib/config.h"

static struct config *load(const char *cmd)
{
	char yaml[512];
	struct config *cfg = NULL;
	char *err = NULL;

	snprintf(yaml, sizeof(yaml),
		 "dmf:\n  command:\n    source:\n      default:\n"
		 "        cmd: %s\n    password: pw-of-%s\n",
		 cmd, cmd);
	if (config_load_string(yaml, "t.yml", NULL, &cfg, &err) < 0) {
		diag("config: %s", err);
		free(err);
		return NULL;
	}
	return cfg;
}

static const char *source_cmd(void)
{
	const struct dmf_host_config *c = &host_config_tbl;
	const char *v = NULL, *err = NULL;

	if (c->get_string(c->source("POD_1"), "cmd", NULL, &v, &err) < 0)
		return "(error)";
	return v != NULL ? v : "(none)";
}

struct job_thread {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int step; /* 0 start, 1 pinned, 2 main replaced, 3 read, 4 go end */
	char seen_before[32], seen_after[32];
};

static void wait_step(struct job_thread *t, int step)
{
	pthread_mutex_lock(&t->lock);
	while (t->step < step)
		pthread_cond_wait(&t->cond, &t->lock);
	pthread_mutex_unlock(&t->lock);
}

static void set_step(struct job_thread *t, int step)
{
	pthread_mutex_lock(&t->lock);
	t->step = step;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

static void *job_main(void *arg)
{
	struct job_thread *t = arg;

	host_config_job_begin();
	snprintf(t->seen_before, sizeof(t->seen_before), "%s", source_cmd());
	set_step(t, 1);
	wait_step(t, 2);
	snprintf(t->seen_after, sizeof(t->seen_after), "%s", source_cmd());
	set_step(t, 3);
	wait_step(t, 4);
	host_config_job_end();
	return NULL;
}

static size_t count(const char *const *v)
{
	size_t n = 0;

	while (v[n] != NULL)
		n++;
	return n;
}

int main(void)
{
	struct config *first = load("one");
	struct job_thread t = { .lock = PTHREAD_MUTEX_INITIALIZER,
				.cond = PTHREAD_COND_INITIALIZER };
	const char *const *before;
	pthread_t th;

	plan_lazy();
	ok(first != NULL, "first configuration");
	ok(host_config_init(first, "command") == 0, "init");
	is_str(source_cmd(), "one", "outside a job: the first configuration");

	pthread_create(&th, NULL, job_main, &t);
	wait_step(&t, 1);
	ok(host_config_replace(load("two")) == 0, "replace while a job runs");
	is_str(source_cmd(), "two", "outside a job: the new configuration");
	set_step(&t, 2);
	wait_step(&t, 3);
	is_str(t.seen_before, "one", "the job saw the first configuration");
	is_str(t.seen_after, "one", "  and still does after the replace");

	/* a second replace while the job holds the first: "two" has no job
	 * and is freed at once, "one" (borrowed) stays until the job ends */
	ok(host_config_replace(load("three")) == 0, "replace again");
	is_str(source_cmd(), "three",
	       "outside a job: the newest configuration");
	set_step(&t, 4);
	pthread_join(th, NULL);
	host_config_job_begin();
	is_str(source_cmd(), "three", "a job that starts now pins the newest");
	host_config_job_end();

	ok(host_secrets_init(first) == 0, "secrets of the first configuration");
	before = host_secrets();
	is_int((int)count(before), 1, "one secret");
	is_str(before[0], "pw-of-one", "  the first password");
	{
		struct config *c2 = load("two");

		ok(host_secrets_add(c2) == 0, "add the secrets of a reload");
		config_free(&c2);
	}
	is_int((int)count(host_secrets()), 2, "the registry grew to two");
	is_str(before[0], "pw-of-one",
	       "an array taken before the reload is still valid");
	is_int((int)count(before), 1, "  and unchanged");
	ok(host_secrets_add(first) == 0, "adding known secrets again");
	is_int((int)count(host_secrets()), 2, "  adds nothing");
	host_secrets_deinit();
	is_int((int)count(host_secrets()), 0, "deinit empties the registry");

	host_config_deinit();
	config_free(&first);
	return done_testing();
}
