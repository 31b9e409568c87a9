/*
 * state_database.c - the worker's state in the Migration Database (spec
 * 2.2.6-2.2.8, 2.3).
 *
 * On the first start the backend `target/memberid` is created with the
 * file's initial state, jobs.max and sources; from then on the database
 * values win.  Every refresh reads the backend row and obeys its `command`
 * (PAUSE, RESUME/START, STOP; cleared once obeyed), follows changes of
 * maxThreads, initialState (a change of it starts or pauses the worker)
 * and sources, and writes status, threads, updated and heartbeat.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db/db_worker.h"
#include "lib/log.h"
#include "worker/state.h"
#include "lib/util.h"

/* backends.status */
enum { BE_PAUSED = 0, BE_RUNNING = 1, BE_STOPPING = 2, BE_STOPPED = 3 };

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

struct reg_ctx {
	struct state *s;
	char **cfg_sources;
	/* out */
	int initial;
	unsigned max_threads;
	char **sources;
	bool created;
};

static int read_sources(struct db_conn *c, const char *name, char ***out_r)
{
	struct db_value p[1] = { DB_STR(name) };
	struct db_rows *rows = NULL;
	char **out;
	int ret;

	ret = db_exec(c,
		      "SELECT source FROM backend_sources WHERE backend = ? "
		      "ORDER BY source",
		      p, 1, &rows, NULL);
	if (ret < 0)
		return ret;
	out = calloc(rows->n_rows + 1, sizeof(char *));
	for (size_t i = 0; out != NULL && i < rows->n_rows; i++)
		out[i] = xstrdup(db_cell(rows, i, 0));
	db_rows_free(&rows);
	if (out == NULL)
		return -ENOMEM;
	cfg_strv_free(out_r);
	*out_r = out;
	return 0;
}

static int register_fn(struct db_conn *c, void *arg)
{
	struct reg_ctx *x = arg;
	struct db_worker *w = x->s->w;
	struct db_rows *rows = NULL;
	struct db_value p[10];
	char host[256];
	int ret;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	p[0] = DB_STR(w->name);
	ret = db_exec(c,
		      "SELECT initial_state, max_threads FROM backends "
		      "WHERE name = ? FOR UPDATE",
		      p, 1, &rows, NULL);
	if (ret < 0)
		return ret;
	x->created = rows->n_rows == 0;
	if (x->created) {
		x->initial = x->s->cfg_initial;
		x->max_threads = x->s->cfg_max;
		p[0] = DB_STR(w->name);
		p[1] = DB_STR(w->target);
		p[2] = DB_STR(w->memberid);
		p[3] = DB_INT(x->initial);
		p[4] = DB_INT(x->max_threads);
		p[5] = DB_INT(x->initial ? BE_RUNNING : BE_PAUSED);
		p[6] = DB_STR(w->owner);
		p[7] = DB_STR(host);
		p[8] = DB_INT(getpid());
		p[9] = DB_STR(PACKAGE_VERSION);
		ret = db_exec(
			c,
			"INSERT INTO backends (name, target, memberid, "
			"initial_state, max_threads, status, threads, "
			"boot_id, host, pid, version, started, updated, "
			"heartbeat) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, "
			"?, NOW(3), NOW(3), NOW(3))",
			p, 10, NULL, NULL);
		for (size_t i = 0; ret == 0 && x->cfg_sources[i] != NULL; i++) {
			p[1] = DB_STR(x->cfg_sources[i]);
			ret = db_exec(c,
				      "INSERT IGNORE INTO backend_sources "
				      "(backend, source) VALUES (?, ?)",
				      p, 2, NULL, NULL);
		}
	} else {
		x->initial = (int)db_cell_ll(rows, 0, 0, 1) != 0;
		x->max_threads = (unsigned)db_cell_ll(rows, 0, 1, 10);
		p[0] = DB_INT(x->initial ? BE_RUNNING : BE_PAUSED);
		p[1] = DB_STR(w->owner);
		p[2] = DB_STR(host);
		p[3] = DB_INT(getpid());
		p[4] = DB_STR(PACKAGE_VERSION);
		p[5] = DB_STR(w->name);
		ret = db_exec(c,
			      "UPDATE backends SET status = ?, threads = 0, "
			      "boot_id = ?, host = ?, pid = ?, version = ?, "
			      "started = NOW(3), updated = NOW(3), "
			      "heartbeat = NOW(3) WHERE name = ?",
			      p, 6, NULL, NULL);
	}
	db_rows_free(&rows);
	if (ret == 0)
		ret = read_sources(c, w->name, &x->sources);
	return ret;
}

static int do_register(struct state *s, char **error_r)
{
	struct reg_ctx x = { .s = s };
	int ret;

	x.cfg_sources = db_worker_sources(s->w, NULL);
	if (x.cfg_sources == NULL)
		return -ENOMEM;
	ret = db_transaction(s->w->pool, register_fn, &x, error_r);
	cfg_strv_free(&x.cfg_sources);
	if (ret < 0) {
		cfg_strv_free(&x.sources);
		return ret;
	}
	db_worker_set_sources(s->w, x.sources);
	db_worker_set_registered(s->w, true);
	s->state = x.initial ? RUN_STATE_RUNNING : RUN_STATE_PAUSED;
	s->max_jobs = x.max_threads;
	s->seen_initial = x.initial;
	log_info("backend %s %s: initial state %s, maxThreads %u, sources "
		 "%s%s%s",
		 s->w->name, x.created ? "registered" : "found",
		 x.initial ? "STARTED" : "STOPPED", x.max_threads,
		 x.sources[0] != NULL ? x.sources[0] : "(none)",
		 x.sources[0] != NULL && x.sources[1] != NULL ? ",..." : "",
		 x.created ? "" : " (database values win over the file)");
	cfg_strv_free(&x.sources);
	return 0;
}

struct refresh_ctx {
	struct state *s;
	unsigned running;
	bool missing;
	int initial;
	unsigned max_threads;
	char *command;
	char *boot_id;
	char **sources;
};

static int be_status(enum run_state st)
{
	switch (st) {
	case RUN_STATE_RUNNING:
		return BE_RUNNING;
	case RUN_STATE_STOPPING:
		return BE_STOPPING;
	default:
		return BE_PAUSED;
	}
}

static int refresh_read_fn(struct db_conn *c, void *arg)
{
	struct refresh_ctx *x = arg;
	struct db_value p[1] = { DB_STR(x->s->w->name) };
	struct db_rows *rows = NULL;
	int ret;

	ret = db_exec(c,
		      "SELECT initial_state, max_threads, command, boot_id "
		      "FROM backends WHERE name = ?",
		      p, 1, &rows, NULL);
	if (ret < 0)
		return ret;
	x->missing = rows->n_rows == 0;
	if (!x->missing) {
		x->initial = db_cell_ll(rows, 0, 0, 1) != 0;
		x->max_threads = (unsigned)db_cell_ll(rows, 0, 1, 10);
		free(x->command);
		free(x->boot_id);
		x->command = xstrdup(db_cell(rows, 0, 2));
		x->boot_id = xstrdup(db_cell(rows, 0, 3));
	}
	db_rows_free(&rows);
	if (x->missing)
		return 0;
	return read_sources(c, x->s->w->name, &x->sources);
}

static int write_status(struct state *s, int status, unsigned threads,
			const char *clear_command)
{
	struct db_conn *c = NULL;
	struct db_value p[4];
	int ret;

	ret = db_conn_get(s->w->pool, &c, NULL);
	if (ret < 0)
		return ret;
	if (clear_command != NULL) {
		p[0] = DB_STR(s->w->name);
		p[1] = DB_STR(clear_command);
		ret = db_exec(c,
			      "UPDATE backends SET command = NULL "
			      "WHERE name = ? AND command = ?",
			      p, 2, NULL, NULL);
	}
	if (ret == 0) {
		p[0] = DB_INT(status);
		p[1] = DB_INT(threads);
		p[2] = DB_STR(s->w->name);
		ret = db_exec(c,
			      "UPDATE backends SET status = ?, threads = ?, "
			      "updated = NOW(3), heartbeat = NOW(3) "
			      "WHERE name = ?",
			      p, 3, NULL, NULL);
	}
	db_conn_put(s->w->pool, &c);
	return ret;
}

static int sdb_refresh(struct state *s, unsigned running,
		       struct worker_state *ws_r)
{
	struct refresh_ctx x = { .s = s, .running = running };
	const char *cleared = NULL;
	char *error = NULL;
	int ret;

	ret = db_run(s->w->pool, refresh_read_fn, &x, &error);
	if (ret < 0) {
		log_debug("cannot read the backend row: %s", error);
		free(error);
		goto out;
	}
	if (x.missing) {
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
	ret = write_status(s, be_status(s->state), running, cleared);
	if (ret < 0)
		log_debug("cannot write the backend status: %s",
			  dmf_strerror(ret));
out:
	free(x.command);
	free(x.boot_id);
	cfg_strv_free(&x.sources);
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
	int ret = write_status(s, BE_STOPPED, 0, NULL);

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
