/* migrate.c - the order of operations of one job (migrate.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "cmddef.h"
#include "container.h"
#include "counts.h"
#include "details.h"
#include "durable.h"
#include "inbox.h"
#include "migrate.h"
#include "run.h"

void dv_job_fail(struct dv_job *dj, const char *fmt, ...)
{
	va_list ap;

	dj->failed = true;
	if (dj->error != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&dj->error, fmt, ap) < 0)
		dj->error = NULL;
	va_end(ap);
}

static bool flagged(struct dv_job *dj, enum doveadm_step step)
{
	return dj->conf->failure_flags[dj->phase][step];
}

/* A failed step: fails the job when its flag is set. */
static void step_failed(struct dv_job *dj, enum doveadm_step step,
			const char *what)
{
	if (flagged(dj, step))
		dv_job_fail(dj, "%s failed (failure-flags.%s.%s)", what,
			    dj->phase == DOVEADM_PHASE_SYNC ? "pre" : "cutover",
			    doveadm_step_name(step));
	else
		dj->h->log->log(DMF_LOG_WARN, dj->job,
				"%s failed (not a job failure)", what);
}

/* ------------------------------------------------- mail_plugins cache --- */

struct first_line {
	char *text;
	bool seen;
};

static void keep_first(void *ctx, enum dmf_exec_stream stream, const char *line,
		       size_t len)
{
	struct first_line *f = ctx;

	if (stream != DMF_EXEC_STDOUT || f->seen)
		return;
	f->seen = true;
	f->text = strndup(line, len);
}

const char *migrate_mail_plugins(struct dv_job *dj)
{
	struct dv_plugin *pl = dj->pl;
	const char *out;

	pthread_mutex_lock(&pl->lock);
	if (!pl->mail_plugins_known) {
		struct dv_argv a = { 0 };
		struct first_line f = { 0 };
		struct dv_run_result rr;

		dv_argv_add(&a, pl->doveadm_path, "doveadm");
		if (pl->config_file != NULL) {
			dv_argv_add(&a, "-c", NULL);
			dv_argv_add(&a, pl->config_file, NULL);
		}
		dv_argv_add(&a, "config", NULL);
		dv_argv_add(&a, "-h", NULL);
		dv_argv_add(&a, "mail_plugins", NULL);
		char *disp = dv_argv_display(&a);
		int rc = dv_run(dj, &a, disp, "mail-plugins", keep_first, &f,
				NULL, &rr);
		free(disp);
		if (rc == 0 && rr.success) {
			free(pl->mail_plugins);
			pl->mail_plugins = f.text != NULL ? f.text : strdup("");
			f.text = NULL;
			pl->mail_plugins_known = pl->mail_plugins != NULL;
		} else {
			dj->h->log->log(DMF_LOG_WARN, dj->job,
					"cannot read the target's mail_plugins "
					"(doveadm config -h mail_plugins: %s); "
					"loading only notify mail_log",
					rr.msg);
		}
		free(f.text);
		dv_argv_free(&a);
	}
	out = pl->mail_plugins_known ? pl->mail_plugins : "";
	pthread_mutex_unlock(&pl->lock);
	return out;
}

/* ------------------------------------------------ configured commands --- */

/* Run a pre/post/failure command; adds its entry.  True on success. */
static bool run_defined(struct dv_job *dj, const struct dmf_conf *def,
			const char *op, const char *step)
{
	struct dv_argv a = { 0 };
	struct dv_run_result rr = { .exit_code = -1 };
	json_t *errors = json_array();
	char *error = NULL, *display = NULL;
	int r;

	r = cmddef_build_conf(dj, def, &a, &error);
	if (r == 0) {
		display = dv_argv_display(&a);
		r = dv_run(dj, &a, display, step, NULL, NULL, errors, &rr);
	}
	if (r < 0) {
		const char *m = error != NULL ? error : "out of memory";
		details_error_line(errors, m, strlen(m));
		dv_job_fail(dj, "configuration error: %s", m);
	} else if (!rr.success && json_array_size(errors) == 0) {
		details_error_line(errors, rr.msg, strlen(rr.msg));
	}
	details_add(dj->h, dj->job, op,
		    details_entry(r == 0 && rr.success, display, r == 0,
				  rr.exit_code, errors));
	free(error);
	free(display);
	dv_argv_free(&a);
	return r == 0 && rr.success;
}

/* ----------------------------------------------------------- metacache --- */

static bool run_metacache(struct dv_job *dj, const char *what, const char *op)
{
	struct dv_argv a = { 0 };
	struct dv_run_result rr = { .exit_code = -1 };
	json_t *errors = json_array();
	char *display;
	int r;

	dv_argv_add(&a, dj->pl->doveadm_path, "doveadm");
	if (dj->pl->config_file != NULL) {
		dv_argv_add(&a, "-c", NULL);
		dv_argv_add(&a, dj->pl->config_file, NULL);
	}
	dv_argv_add(&a, "metacache", NULL);
	dv_argv_add(&a, what, NULL);
	dv_argv_add(&a, "-u", NULL);
	dv_argv_add(&a, dj->uid, NULL);
	display = dv_argv_display(&a);
	r = dv_run(dj, &a, display, op, NULL, NULL, errors, &rr);
	if (r == 0 && !rr.success && json_array_size(errors) == 0)
		details_error_line(errors, rr.msg, strlen(rr.msg));
	details_add(dj->h, dj->job, op,
		    details_entry(r == 0 && rr.success, display, r == 0,
				  rr.exit_code, errors));
	free(display);
	dv_argv_free(&a);
	return r == 0 && rr.success;
}

static void metacache_steps(struct dv_job *dj, bool sync_ok)
{
	const struct doveadm_source_conf *c = dj->conf;

	if (sync_ok ? c->metacache_flush.on_success :
		      c->metacache_flush.on_failure) {
		if (!run_metacache(dj, "flush", OP_FLUSH_METACACHE))
			step_failed(dj, DOVEADM_STEP_FLUSH_METACACHE,
				    "metacache flush");
	}
	if (sync_ok ? c->metacache_clean.on_success :
		      c->metacache_clean.on_failure) {
		if (!run_metacache(dj, "clean", OP_CLEAN_METACACHE))
			step_failed(dj, DOVEADM_STEP_CLEAN_METACACHE,
				    "metacache clean");
	}
}

/* --------------------------------------------------------------- dsync --- */

struct dsync_state {
	struct analyzer *an;
	json_t *errors; /* stderr lines when analyze-log is off */
};

static void dsync_line(void *ctx, enum dmf_exec_stream stream, const char *line,
		       size_t len)
{
	struct dsync_state *ds = ctx;

	if (ds->an != NULL)
		analyzer_feed_line(ds->an, line, len);
	else if (stream == DMF_EXEC_STDERR)
		details_error_line(ds->errors, line, len);
}

/* The override, converted; *moved and *config_r as dsync_convert(). */
static int build_override(struct dv_job *dj, const struct dmf_conf *def,
			  struct dv_argv *base, struct dsync_moved moved[4],
			  size_t *n_moved, char **config_r, char **display_r,
			  char **error_r)
{
	static const char *const subs[] = { "sync", "backup", NULL };
	struct dv_argv built = { 0 };
	const char *e = NULL;
	int r;

	r = cmddef_build_conf(dj, def, &built, error_r);
	if (r < 0)
		return r;
	*display_r = dv_argv_display(&built);
	r = dsync_convert(dv_argv_run(&built), built.show, subs, base, moved,
			  n_moved, config_r, &e);
	dv_argv_free(&built);
	if (r < 0 && asprintf(error_r,
			      "the migration command (command.%s."
			      "sync) must be a doveadm sync or "
			      "backup command: %s",
			      doveadm_phase_name(dj->phase), e) < 0)
		*error_r = NULL;
	return r;
}

/* ": <why>" from the analyzer's failure class of the last attempt, so
 * that the job's error says why (e.g. the imapc login was refused), or "". */
static const char *failure_reason(const struct analyzer *an, char *buf,
				  size_t size)
{
	const char *detail = NULL;
	enum analyzer_failure f;

	if (an == NULL)
		return "";
	f = analyzer_failure(an, &detail);
	if (detail == NULL)
		detail = "";
	switch (f) {
	case ANALYZER_FAIL_IMAPC_LOGIN:
		snprintf(buf, size, ": imapc login failed: %s", detail);
		break;
	case ANALYZER_FAIL_IMAPC_CONNECT:
		snprintf(buf, size, ": cannot connect to the source: %s",
			 detail);
		break;
	case ANALYZER_FAIL_IMAPC_CONNECT_TIMEOUT:
		snprintf(buf, size, ": connecting to the source (%s) timed out",
			 detail);
		break;
	case ANALYZER_FAIL_VIEW_INCONSISTENT:
		snprintf(buf, size, ": mailbox %s: view is inconsistent",
			 detail);
		break;
	case ANALYZER_FAIL_USER_UNKNOWN:
		snprintf(buf, size, ": user doesn't exist at the target");
		break;
	default:
		return "";
	}
	return buf;
}

static bool run_dsync(struct dv_job *dj)
{
	const struct dmf_host *h = dj->h;
	const struct doveadm_source_conf *c = dj->conf;
	const struct dmf_conf *override = c->commands[dj->phase].sync;
	struct dsync_state ds = { 0 };
	struct doveadm_retry_state st = { 0 };
	struct doveadm_retry_decision d = { 0 };
	struct dv_run_result rr = { .exit_code = -1 };
	struct dv_argv base = { 0 };
	struct dsync_moved moved[4];
	struct jobconf_setting set[12];
	size_t n_moved = 0, n_set;
	char *config = NULL, *display = NULL, *error = NULL;
	const char *mail_plugins = NULL;
	bool mail_log = c->analyze_log && c->count.sync, ok = false;
	bool warned_dups = false;
	/* dsync's per-user lock: no second dsync writes beside this one */
	unsigned lock_secs = (unsigned)((c->sync_lock_ms + 999) / 1000);
	char reason[512];
	json_t *body;
	int r = 0;

	ds.errors = json_array();
	if (c->analyze_log) {
		ds.an = analyzer_new();
		if (ds.an == NULL) {
			dv_job_fail(dj, "out of memory");
			json_decref(ds.errors);
			return false;
		}
		if (dj->imapc.password != NULL)
			analyzer_add_secret(ds.an, dj->imapc.password);
	}
	if (mail_log)
		mail_plugins = migrate_mail_plugins(dj);
	if (override != NULL)
		r = build_override(dj, override, &base, moved, &n_moved,
				   &config, &display, &error);
	if (r == 0 && override != NULL)
		dsync_add_lock(&base, lock_secs);
	if (r == 0) {
		n_set = imapc_jobconf_settings(&dj->imapc, NULL, set);
		for (size_t i = 0; i < n_moved; i++)
			set[n_set++] =
				(struct jobconf_setting){ moved[i].name,
							  moved[i].value };
		if (config != NULL) {
			free(dj->include);
			dj->include = strdup(config);
		}
		r = jobconf_write(dj->pl->runtime_dir, h->job->id(dj->job),
				  dj->include, set, n_set, &dj->jobconf,
				  &error);
		dsync_moved_free(moved, n_moved);
	}
	if (r < 0) {
		const char *m = error != NULL ? error : "out of memory";
		details_error_line(ds.errors, m, strlen(m));
		dv_job_fail(dj, "%s%s",
			    override != NULL ? "configuration error: " : "", m);
		goto out;
	}

	for (;;) {
		struct dv_argv a = { 0 };
		struct doveadm_attempt_result res = { 0 };
		const char *extra[8];
		size_t ne = doveadm_retry_extra_args(&st, extra);

		if (dj->fsync_never) { /* durability: job (durable.c) */
			extra[ne++] = "-o";
			extra[ne++] = "mail_fsync=never";
			extra[ne] = NULL;
		}

		if (ds.an != NULL)
			analyzer_begin_attempt(ds.an);
		if (override == NULL) {
			struct dsync_opts o = {
				.doveadm_path = dj->pl->doveadm_path,
				.jobconf = dj->jobconf,
				.config_shown = dj->pl->config_file,
				.uid = dj->uid,
				.exclude = h->job->property(dj->job, "exclude"),
				.settings = c->sync_settings,
				.mail_log = mail_log,
				.mail_plugins = mail_plugins,
				.extra = extra,
				.imapc = &dj->imapc,
				.lock_secs = lock_secs,
			};
			dsync_default_argv(&o, &a);
		} else {
			for (size_t i = 0; i < base.n; i++) {
				if (base.v[i] == NULL)
					dv_argv_add(&a, NULL, base.show[i]);
				else
					dv_argv_add(&a, base.v[i],
						    base.show[i]);
			}
			if (mail_log) {
				/* extras + the mail_log settings after argv[0] */
				struct dv_argv ml = { 0 };
				const char *all[16];
				size_t k = 0;

				dsync_add_mail_log(&ml, mail_plugins);
				for (size_t i = 0; i < ne; i++)
					all[k++] = extra[i];
				for (size_t i = 0; i < ml.n && k < 15; i++)
					all[k++] = ml.v[i];
				all[k] = NULL;
				dsync_insert_jobconf(&a, dj->jobconf, config,
						     all);
				dv_argv_free(&ml);
			} else {
				dsync_insert_jobconf(&a, dj->jobconf, config,
						     extra);
			}
		}
		free(display);
		display = dv_argv_display(&a);
		r = dv_run(dj, &a, display, "sync", dsync_line, &ds, NULL, &rr);
		dv_argv_free(&a);
		if (r < 0) {
			dv_job_fail(dj, "out of memory");
			break;
		}
		if (rr.aborted || h->job->aborted(dj->job)) {
			dv_job_fail(dj, "the job was aborted");
			st.attempts++;
			break;
		}
		if (!rr.started)
			details_error_line(ds.errors, rr.msg, strlen(rr.msg));
		res.exit_code = rr.exit_code;
		if (ds.an != NULL) {
			res.storage_timeout = analyzer_storage_timeout(ds.an);
			res.parallel_writes_timeout =
				analyzer_parallel_writes_timeout(ds.an);
			res.new_duplicates = analyzer_new_duplicates(ds.an);
		}
		doveadm_retry_decide(&c->retry, dj->phase,
				     c->move_duplicates && c->analyze_log, &res,
				     &st, &d);
		if (d.move_duplicates && !warned_dups) {
			h->log->log(DMF_LOG_WARN, dj->job,
				    "duplicate UIDs found; move-duplicates is "
				    "not supported yet");
			warned_dups = true;
		}
		if (d.verdict == DOVEADM_DONE_OK) {
			ok = true;
			break;
		}
		if (d.verdict == DOVEADM_DONE_FAILED) {
			h->log->log(DMF_LOG_WARN, dj->job, "%s (%s)", d.reason,
				    rr.msg);
			dv_job_fail(
				dj,
				"migration command failed: %s after "
				"%u attempt%s%s",
				rr.msg, st.attempts,
				st.attempts == 1 ? "" : "s",
				failure_reason(ds.an, reason, sizeof(reason)));
			break;
		}
		h->log->log(DMF_LOG_INFO, dj->job,
			    "%s (%s); attempt %u in %lld ms", d.reason, rr.msg,
			    st.attempts + 1, d.sleep_ms);
		if (d.sleep_ms > 0 &&
		    h->job->sleep_ms(dj->job, (unsigned long long)d.sleep_ms) <
			    0) {
			dv_job_fail(dj, "the job was aborted");
			break;
		}
	}
	if (ds.an != NULL && c->count.sync) {
		h->response->set_count(dj->job, DMF_COUNT_SYNC_SAVED,
				       (long long)analyzer_saved_total(ds.an));
		h->response->set_count(
			dj->job, DMF_COUNT_SYNC_EXPUNGED,
			(long long)analyzer_expunged_total(ds.an));
	}
out:
	body = details_entry(ok, display, rr.started, rr.exit_code,
			     json_incref(ds.errors));
	if (body != NULL) {
		json_object_set_new(body, "attempts",
				    json_integer(st.attempts));
		if (ds.an != NULL) {
			analyzer_to_json(ds.an, body, c->count.sync);
			/* keep start failures next to the analyzer's lines */
			json_t *e = json_object_get(body, "errors");
			size_t i;
			json_t *v;
			json_array_foreach(ds.errors, i, v)
				json_array_append(e, v);
		}
		json_t *e = json_object_get(body, "errors");
		if (!ok && json_array_size(e) == 0 && rr.msg[0] != '\0')
			details_error_line(e, rr.msg, strlen(rr.msg));
	}
	details_add(h, dj->job, OP_DSYNC, body);
	json_decref(ds.errors);
	analyzer_free(&ds.an);
	free(config);
	free(display);
	free(error);
	dv_argv_free(&base);
	return ok;
}

/* ---------------------------------------------------------------- job --- */

static void log_failure(struct dv_job *dj, const char *m)
{
	dj->h->log->log(DMF_LOG_ERROR, dj->job, "%s", m);
}

static void post_counts(struct dv_job *dj)
{
	const struct doveadm_source_conf *c = dj->conf;
	const struct dmf_host *h = dj->h;
	unsigned long long m, v;
	int r;

	if (c->count.post) {
		if (counts_run(dj, COUNTS_LOCAL_POST, &m, &v) == 0) {
			h->response->set_count(dj->job,
					       DMF_COUNT_TARGET_MESSAGES,
					       (long long)m);
			h->response->set_count(dj->job, DMF_COUNT_TARGET_SIZE,
					       (long long)v);
		} else {
			step_failed(dj, DOVEADM_STEP_COUNT_LOCAL_POST,
				    "local count after the sync");
		}
	}
	if (c->count.remote) {
		r = counts_run(dj, COUNTS_REMOTE, &m, &v);
		if (r == 0) {
			h->response->set_count(dj->job,
					       DMF_COUNT_ORIGIN_MESSAGES,
					       (long long)m);
			h->response->set_count(dj->job, DMF_COUNT_ORIGIN_SIZE,
					       (long long)v);
		} else if (r != -ENOTSUP) {
			step_failed(dj, DOVEADM_STEP_COUNT_REMOTE,
				    "remote count");
		}
	}
}

static void run_steps(struct dv_job *dj)
{
	const struct doveadm_source_conf *c = dj->conf;
	const struct doveadm_phase_commands *pc = &c->commands[dj->phase];
	const struct dmf_host *h = dj->h;
	unsigned long long m, v;
	bool copied = false, sync_ok = false;

	if (pc->pre != NULL && !run_defined(dj, pc->pre, OP_PRE_COMMAND, "pre"))
		step_failed(dj, DOVEADM_STEP_PRE_MIGRATION_COMMAND,
			    "pre migration command");
	if (!dj->failed && c->copy_imapc_inbox) {
		copied = inbox_copy(dj) == 0;
		if (!copied)
			step_failed(dj, DOVEADM_STEP_COPY_IMAPC_INBOX,
				    "copy imapc inbox");
	}
	if (!dj->failed && c->count.pre) {
		if (counts_run(dj, COUNTS_LOCAL_PRE, &m, &v) == 0)
			h->log->log(DMF_LOG_INFO, dj->job,
				    "destination system statistics before "
				    "sync. messages: %llu, size: %llu (bytes)",
				    m, v);
		else
			step_failed(dj, DOVEADM_STEP_COUNT_LOCAL_PRE,
				    "local count before the sync");
	}
	if (!dj->failed) {
		durable_prepare(dj);
		sync_ok = run_dsync(dj);
	}
	/* durable before anything reads the target or the result is written */
	if (sync_ok && !h->job->aborted(dj->job))
		sync_ok = durable_finish(dj);
	if (c->remove_imapc_path && (copied || c->copy_imapc_inbox) &&
	    !h->job->aborted(dj->job)) {
		if (inbox_remove(dj) < 0)
			step_failed(dj, DOVEADM_STEP_REMOVE_IMAPC_INBOX,
				    "remove imapc inbox");
	}
	if (h->job->aborted(dj->job))
		return;
	if (sync_ok) {
		post_counts(dj);
		metacache_steps(dj, true);
		if (!dj->failed && pc->post != NULL &&
		    !run_defined(dj, pc->post, OP_POST_COMMAND, "post"))
			step_failed(dj, DOVEADM_STEP_POST_MIGRATION_COMMAND,
				    "post migration command");
	} else {
		metacache_steps(dj, false);
	}
	if (dj->failed && pc->failure != NULL)
		run_defined(dj, pc->failure, OP_FAILURE_COMMAND, "failure");
}

static void fetch_container(struct dv_job *dj)
{
	const char *opts = dj->h->job->property(dj->job, "imapoptions");
	int r;

	if (!dj->conf->fetch_container || opts == NULL || *opts == '\0')
		return;
	r = container_lookup(dj->conf->container_file, opts, &dj->container);
	if (r < 0)
		dj->h->log->log(DMF_LOG_WARN, dj->job,
				"fetch-container: no userdb_container for "
				"'%s' in %s (%s)",
				opts, dj->conf->container_file, strerror(-r));
}

int migrate_run(struct dv_plugin *pl, struct dmf_job *job)
{
	const struct dmf_host *h = pl->host;
	struct doveadm_source_conf *conf = NULL;
	struct dv_job dj = { .pl = pl, .h = h, .job = job };
	struct imapc_job_values jv;
	char *error = NULL;
	int r;

	r = doveadm_conf_load(h->config, h->job->source(job), &conf, &error);
	if (r < 0) {
		dv_job_fail(&dj, "configuration error: %s",
			    error != NULL ? error : "out of memory");
		free(error);
		goto done;
	}
	dj.conf = conf;
	if (doveadm_phase_parse(h->job->phase(job), &dj.phase) < 0) {
		dv_job_fail(&dj, "unknown phase '%s'", h->job->phase(job));
		goto done;
	}
	dj.uid = h->job->property(job, "uid");
	if (dj.uid == NULL || *dj.uid == '\0') {
		dv_job_fail(&dj, "the job has no uid");
		goto done;
	}
	dj.include = strdup(pl->config_file != NULL ? pl->config_file :
						      DV_DEFAULT_DOVECOT_CONF);
	if (dj.include == NULL) {
		dv_job_fail(&dj, "out of memory");
		goto done;
	}
	jv = (struct imapc_job_values){
		.sourcehost = h->job->property(job, "sourcehost"),
		.sourceport = h->job->property(job, "sourceport"),
		.imapc_ssl = h->job->property(job, "imapc_ssl"),
		.ruid = h->job->property(job, "ruid"),
		.uid = dj.uid,
		.sourcepasswd = h->job->property(job, "sourcepasswd"),
	};
	imapc_resolve(conf, &jv, &dj.imapc);
	if (dj.imapc.host == NULL && conf->commands[dj.phase].sync == NULL) {
		dv_job_fail(&dj, "configuration error: no source host (the "
				 "job has no sourcehost and imapc.host is "
				 "not set)");
		goto done;
	}
	fetch_container(&dj);
	run_steps(&dj);
done:
	if (dj.failed)
		log_failure(&dj, dj.error != NULL ? dj.error : "job failed");
	h->response->set_status(job, dj.failed ? DMF_STATUS_FAILURE :
						 DMF_STATUS_SUCCESS);
	if (dj.failed)
		h->response->set_error(job, "%s",
				       dj.error != NULL ? dj.error : "failed");
	jobconf_remove(&dj.jobconf);
	durable_clear(&dj);
	free(dj.include);
	free(dj.error);
	free(dj.container);
	doveadm_conf_free(&conf);
	return 0;
}
