/*
 * state_database.c - the worker's state in the Migration Database (spec
 * 2.2.6-2.2.8, 2.3).
 *
 * On the first start the backend `target/memberid` is created with the
 * file's initial state, jobs.max and sources; from then on the database
 * values win.  Every refresh reads the backend row and obeys its `command`
 * (PAUSE, RESUME/START, STOP; cleared once obeyed), follows changes of
 * maxThreads, initialState (a change of it starts or pauses the worker)
 * and sources, and writes status, threads, updated and heartbeat.  The
 * statements are in core/db/db_backends.c.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db_backends.h"
#include "db/db_worker.h"
#include "lib/log.h"
#include "worker/state.h"
#include "lib/util.h"

struct state {
	struct db_worker *w;
	unsigned refresh_ms;
	int cfg_initial; /* 1 STARTED, 0 STOPPED (file) */
	unsigned cfg_max; /* jobs.max (file) */
	enum run_state state;
	unsigned max_jobs;
	int seen_initial; /* last initial_state read, -1 none */
	bool warned_identity;
};

static int do_register(struct state *s, char **error_r)
{
	struct db_backend be;
	char **cfg_sources;
	int ret;

	cfg_sources = db_worker_sources(s->w, NULL);
	if (cfg_sources == NULL)
		return -ENOMEM;
	ret = db_backend_register(s->w, s->cfg_initial, s->cfg_max, cfg_sources,
				  &be, error_r);
	cfg_strv_free(&cfg_sources);
	if (ret < 0)
		return ret;
	db_worker_set_sources(s->w, be.sources);
	db_worker_set_registered(s->w, true);
	s->state = be.initial ? RUN_STATE_RUNNING : RUN_STATE_PAUSED;
	s->max_jobs = be.max_threads;
	s->seen_initial = be.initial;
	log_info("backend %s %s: initial state %s, maxThreads %u, sources "
		 "%s%s%s",
		 s->w->name, be.created ? "registered" : "found",
		 be.initial ? "STARTED" : "STOPPED", be.max_threads,
		 be.sources[0] != NULL ? be.sources[0] : "(none)",
		 be.sources[0] != NULL && be.sources[1] != NULL ? ",..." : "",
		 be.created ? "" : " (database values win over the file)");
	db_backend_clear(&be);
	return 0;
}

static enum db_backend_status be_status(enum run_state st)
{
	switch (st) {
	case RUN_STATE_RUNNING:
		return DB_BACKEND_RUNNING;
	case RUN_STATE_STOPPING:
		return DB_BACKEND_STOPPING;
	default:
		return DB_BACKEND_PAUSED;
	}
}

static int sdb_refresh(struct state *s, unsigned running,
		       struct worker_state *ws_r)
{
	struct db_backend x;
	const char *cleared = NULL;
	char *error = NULL;
	int ret;

	ret = db_backend_read(s->w->pool, s->w->name, &x, &error);
	if (ret < 0 && ret != -ENOENT) {
		log_debug("cannot read the backend row: %s", error);
		free(error);
		goto out;
	}
	if (ret == -ENOENT) {
		log_warn("backend %s vanished from the database: registering "
			 "it again",
			 s->w->name);
		ret = do_register(s, &error);
		if (ret < 0) {
			log_warn("cannot register backend %s: %s", s->w->name,
				 error);
			free(error);
		}
		goto out;
	}
	if (x.boot_id != NULL && strcmp(x.boot_id, s->w->owner) != 0) {
		if (!s->warned_identity)
			log_error("backend %s was taken over by another worker "
				  "(boot id %s, ours %s): two workers share "
				  "one identity",
				  s->w->name, x.boot_id, s->w->owner);
		s->warned_identity = true;
	}
	if (x.initial != s->seen_initial && s->state != RUN_STATE_STOPPING) {
		s->state = x.initial ? RUN_STATE_RUNNING : RUN_STATE_PAUSED;
		log_info("initialState changed to %s",
			 x.initial ? "STARTED" : "STOPPED");
	}
	s->seen_initial = x.initial;
	if (x.max_threads != s->max_jobs)
		log_info("maxThreads changed from %u to %u", s->max_jobs,
			 x.max_threads);
	s->max_jobs = x.max_threads;
	if (x.sources != NULL)
		db_worker_set_sources(s->w, x.sources);
	if (x.command != NULL) {
		cleared = x.command;
		if (strcasecmp(x.command, "PAUSE") == 0) {
			if (s->state != RUN_STATE_STOPPING)
				s->state = RUN_STATE_PAUSED;
		} else if (strcasecmp(x.command, "RESUME") == 0 ||
			   strcasecmp(x.command, "START") == 0) {
			if (s->state != RUN_STATE_STOPPING)
				s->state = RUN_STATE_RUNNING;
		} else if (strcasecmp(x.command, "STOP") == 0) {
			s->state = RUN_STATE_STOPPING;
		} else {
			log_warn("unknown backend command '%s' ignored",
				 x.command);
		}
		log_info("command %s obeyed", x.command);
	}
	ret = db_backend_heartbeat(s->w->pool, s->w->name, be_status(s->state),
				   running, cleared, NULL);
	if (ret < 0)
		log_debug("cannot write the backend status: %s",
			  dmf_strerror(ret));
out:
	db_backend_clear(&x);
	ws_r->state = s->state;
	ws_r->max_jobs = s->max_jobs;
	return ret;
}

static unsigned sdb_refresh_ms(struct state *s)
{
	return jitter_ms(s->refresh_ms, 10);
}

static void sdb_shutdown(struct state *s)
{
	int ret = db_backend_heartbeat(s->w->pool, s->w->name,
				       DB_BACKEND_STOPPED, 0, NULL, NULL);

	if (ret < 0)
		log_warn("cannot record the stop of backend %s: %s", s->w->name,
			 dmf_strerror(ret));
	db_worker_set_registered(s->w, false);
}

static void sdb_destroy(struct state **sp)
{
	struct state *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	db_worker_put(&s->w);
	free(s);
}

static int sdb_create(const struct config *cfg, struct state **state_r,
		      char **error_r)
{
	struct state *s = calloc(1, sizeof(*s));
	const char *error = NULL;
	long long refresh = 5000, heartbeat = 10000;
	bool started;
	int ret;

	if (s == NULL)
		return -ENOMEM;
	if (state_read_file(cfg, &started, &s->cfg_max, error_r) < 0) {
		free(s);
		return -EINVAL;
	}
	if (cfg_get_duration_ms(cfg->root, "dmf.worker.jobs.cache.refresh",
				5000, &refresh, &error) < 0 ||
	    cfg_get_duration_ms(cfg->root, "dmf.worker.heartbeat", 10000,
				&heartbeat, &error) < 0) {
		*error_r = xasprintf("%s", error);
		free(s);
		return -EINVAL;
	}
	s->cfg_initial = started ? 1 : 0;
	s->refresh_ms = (unsigned)(refresh < heartbeat ? refresh : heartbeat);
	if (s->refresh_ms < 100)
		s->refresh_ms = 100;
	s->seen_initial = -1;
	ret = db_worker_get(cfg, &s->w, error_r);
	if (ret < 0) {
		free(s);
		return ret;
	}
	{
		char *e = NULL;

		ret = do_register(s, &e);
		if (ret >= 0)
			goto registered;

		*error_r =
			xasprintf("cannot register backend %s: %s", s->w->name,
				  e != NULL ? e : dmf_strerror(ret));
		free(e);
		sdb_destroy(&s);
		return ret;
	}
registered:
	*state_r = s;
	return 0;
}

const struct state_ops state_database_ops = {
	.name = "database",
	.create = sdb_create,
	.refresh = sdb_refresh,
	.refresh_ms = sdb_refresh_ms,
	.shutdown = sdb_shutdown,
	.destroy = sdb_destroy,
};
