/* migrate.c - the order of operations of one job (migrate.h). */
#include "dmf-build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer.h"
#include "dmf/text.h"
#include "cmddef.h"
#include "container.h"
#include "counts.h"
#include "details.h"
#include "durable.h"
#include "dvhttp.h"
#include "inbox.h"
#include "migrate.h"
#include "phasecmd.h"
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
static bool run_defined(struct dv_job *dj, const struct dv_cmd *def,
			const char *op, const char *step)
{
	struct dv_argv a = { 0 };
	struct dv_run_result rr = { .exit_code = -1 };
	json_t *errors = json_array();
	char *error = NULL, *display = NULL;
	int r;

	r = phasecmd_build(dj, def, &a, &error);
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
	struct dv_job *dj;
	unsigned long long progress_ms; /* last progress report, monotonic */
	unsigned long last_saved, last_expunged;
};

static unsigned long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000ull +
	       (unsigned long long)ts.tv_nsec / 1000000ull;
}

/* The running totals to the host (ABI 1.4), at most once a second;
 * `force` for the last report of a run. */
static void dsync_progress(struct dsync_state *ds, bool force)
{
	const struct dmf_host *h = ds->dj->h;
	unsigned long saved, expunged;
	unsigned long long now;

	if (ds->an == NULL || !DMF_HAS(struct dmf_host, h, metrics) ||
	    !DMF_HAS(struct dmf_host_metrics, h->metrics, progress))
		return;
	saved = analyzer_saved_total(ds->an);
	expunged = analyzer_expunged_total(ds->an);
	if (saved == ds->last_saved && expunged == ds->last_expunged)
		return;
	now = mono_ms();
	if (!force && now - ds->progress_ms < 1000)
		return;
	ds->progress_ms = now;
	ds->last_saved = saved;
	ds->last_expunged = expunged;
	h->metrics->progress(ds->dj->job, (long long)saved, (long long)expunged,
			     (long long)analyzer_saved_bytes(ds->an));
}

static void dsync_line(void *ctx, enum dmf_exec_stream stream, const char *line,
		       size_t len)
{
	struct dsync_state *ds = ctx;

	if (ds->an != NULL) {
		analyzer_feed_line(ds->an, line, len);
		dsync_progress(ds, false);
	} else if (stream == DMF_EXEC_STDERR) {
		details_error_line(ds->errors, line, len);
	}
}

/* The override, converted; *moved and *config_r as dsync_convert(). */
static int build_override(struct dv_job *dj, const struct dv_cmd *def,
			  struct dv_argv *base, struct dsync_moved moved[4],
			  size_t *n_moved, char **config_r, char **display_r,
			  char **error_r)
{
	static const char *const subs[] = { "sync", "backup", NULL };
	struct dv_argv built = { 0 };
	const char *e = NULL;
	int r;

	r = phasecmd_build(dj, def, &built, error_r);
	if (r < 0)
		return r;
	*display_r = dv_argv_display(&built);
	r = dsync_convert(dv_argv_run(&built), built.show, subs, base, moved,
			  n_moved, config_r, &e);
	dv_argv_free(&built);
	if (r < 0 && asprintf(error_r,
			      "the migration command (%s) must be a "
			      "doveadm sync or backup command: %s",
			      def->where, e) < 0)
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

/* ---------------------------------------------- move-duplicates (3.2) --- */

/* The analyzer's decoder of imapc's (modified UTF-7) mailbox names, through
 * the host (ABI 1.5); malloc()ed for the analyzer. */
static char *box_utf8(const char *name, void *ctx)
{
	const struct dmf_host *h = ctx;
	char *u = h->imap->mailbox_utf8(name);
	char *out = u != NULL ? strdup(u) : NULL;

	if (u != NULL)
		h->imap->free_string(&u);
	return out;
}

/* Move the UIDs of `mailbox` first seen in this attempt into
 * lost+found-<mailbox> below it, at the source; adds its entry.  false
 * when the move failed, with *why_r (allocated, may stay NULL) saying
 * why, for the job's error when failure-flags make it a job failure. */
static bool move_mailbox_dups(struct dv_job *dj, const struct analyzer *an,
			      const char *mailbox, char **why_r)
{
	const struct dmf_host *h = dj->h;
	struct dmf_imap_target t = { .size = sizeof(t) };
	struct dmf_strbuf set = { 0 };
	const char *mb, *uid;
	char *dest = NULL, *moved = NULL, *error = NULL, *display = NULL;
	json_t *errors = json_array();
	bool isnew;
	int r;

	for (size_t i = 0; analyzer_duplicate(an, i, &mb, &uid, &isnew); i++) {
		if (!isnew || strcmp(mb, mailbox) != 0)
			continue;
		if (set.len > 0)
			dmf_strbuf_adds(&set, ",");
		dmf_strbuf_adds(&set, uid);
	}
	if (set.len == 0 && !set.failed) {
		json_decref(errors);
		return true;
	}
	if (set.failed || asprintf(&dest, "lost+found-%s", mailbox) < 0) {
		dmf_strbuf_free(&set);
		json_decref(errors);
		return false; /* out of memory */
	}
	if (asprintf(&display,
		     "IMAP %s:%s UID COPY %s %s/%s, then UID "
		     "EXPUNGE",
		     dj->imapc.host != NULL ? dj->imapc.host : "?",
		     dj->imapc.port != NULL ? dj->imapc.port : "143", set.p,
		     mailbox, dest) < 0)
		display = NULL;
	t.host = dj->imapc.host;
	t.port = dj->imapc.port;
	t.ssl = dj->imapc.ssl;
	t.user = dj->imapc.user;
	t.master_user = dj->imapc.master_user;
	t.password = dj->imapc.password;
	if (!DMF_HAS(struct dmf_host, h, imap) || h->imap == NULL) {
		error = strdup("the daemon offers no IMAP client (ABI 1.4 "
			       "needed)");
		r = -ENOTSUP;
	} else {
		char *e = NULL;

		r = h->imap->move_uids(dj->job, &t, mailbox, dest, set.p,
				       &moved, &e);
		error = e != NULL ? strdup(e) : NULL;
		h->imap->free_string(&e);
	}
	if (r < 0 && error != NULL)
		details_error_line(errors, error, strlen(error));
	h->log->log(r == 0 ? DMF_LOG_INFO : DMF_LOG_WARN, dj->job,
		    "move-duplicates: %s: %s", display != NULL ? display : "",
		    r == 0	  ? "done" :
		    error != NULL ? error :
				    "failed");
	details_add(h, dj->job, OP_MOVE_DUPLICATES,
		    details_entry(r == 0, display, false, 0, errors));
	if (moved != NULL)
		h->imap->free_string(&moved);
	if (r < 0 && *why_r == NULL &&
	    asprintf(why_r, "move duplicates in %s (%s)", mailbox,
		     error != NULL ? error : "failed") < 0)
		*why_r = NULL;
	dmf_strbuf_free(&set);
	free(dest);
	free(display);
	free(error);
	return r == 0;
}

/* move-duplicates: each mailbox with new duplicate UIDs, before the
 * retry.  A failure shows in its entry (the retry then meets the same
 * duplicates); it fails the job only with
 * failure-flags.<phase>.move-duplicates (an extension): then true is
 * returned and the job has failed. */
static bool move_duplicates(struct dv_job *dj, const struct analyzer *an)
{
	const char *mb, *uid, *prev;
	bool isnew, seen, ok = true;
	char *why = NULL;

	for (size_t i = 0; analyzer_duplicate(an, i, &mb, &uid, &isnew); i++) {
		if (!isnew)
			continue;
		seen = false;
		for (size_t j = 0; j < i; j++)
			if (analyzer_duplicate(an, j, &prev, &uid, &isnew) &&
			    isnew && strcmp(prev, mb) == 0)
				seen = true;
		if (!seen && !move_mailbox_dups(dj, an, mb, &why))
			ok = false;
	}
	if (!ok)
		step_failed(dj, DOVEADM_STEP_MOVE_DUPLICATES,
			    why != NULL ? why : "move duplicates");
	free(why);
	return !ok && flagged(dj, DOVEADM_STEP_MOVE_DUPLICATES);
}

static bool run_dsync(struct dv_job *dj)
{
	const struct dmf_host *h = dj->h;
	const struct doveadm_source_conf *c = dj->conf;
	struct dv_cmd ocmd;
	const struct dv_cmd *override =
		phasecmd_get(dj, DV_CMD_SYNC, &ocmd) ? &ocmd : NULL;
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
	/* dsync's per-user lock: no second dsync writes beside this one */
	unsigned lock_secs = (unsigned)((c->sync_lock_ms + 999) / 1000);
	char reason[512];
	json_t *body;
	int r = 0;

	ds.errors = json_array();
	ds.dj = dj;
	ds.progress_ms = mono_ms();
	if (c->analyze_log) {
		ds.an = analyzer_new();
		if (ds.an == NULL) {
			dv_job_fail(dj, "out of memory");
			json_decref(ds.errors);
			return false;
		}
		if (dj->imapc.password != NULL)
			analyzer_add_secret(ds.an, dj->imapc.password);
		if (DMF_HAS(struct dmf_host, h, imap) &&
		    DMF_HAS(struct dmf_host_imap, h->imap, mailbox_utf8))
			analyzer_set_mailbox_decoder(ds.an, box_utf8,
						     (void *)h);
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
		dsync_progress(&ds, true);
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
		if (dj->pl->dsync_runs != NULL) {
			const char *outcome[1] = {
				d.verdict == DOVEADM_DONE_OK	 ? "ok" :
				d.verdict == DOVEADM_DONE_FAILED ? "failed" :
								   "retry"
			};

			h->metrics->counter_add(dj->pl->dsync_runs, outcome, 1);
		}
		if (d.move_duplicates && move_duplicates(dj, ds.an))
			break; /* flagged: no retry; the failure branch */
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

/* ------------------------------------------------------ kick (3.6) --- */

/* Whether a failed oboxUserWait is accepted (wait-accept-codes; -1: any
 * failure). */
static bool wait_accepted(const struct doveadm_source_conf *c, int exit_code)
{
	for (size_t i = 0; i < c->director.kick.n_wait_accept_codes; i++)
		if (c->director.kick.wait_accept_codes[i] == -1 ||
		    c->director.kick.wait_accept_codes[i] == exit_code)
			return true;
	return false;
}

/* director.kick.wait: oboxUserWait for the kicked sessions, bounded by
 * kick.timeout (its exit 65: sessions remain). */
static bool kick_wait(struct dv_job *dj, const char *user)
{
	const struct doveadm_source_conf *c = dj->conf;
	long long secs = (c->director.kick.timeout_ms + 999) / 1000;
	struct dv_http_result hr;
	bool ok;
	int r;

	r = dv_http_call(dj, "oboxUserWait",
			 json_pack("{s:s, s:I}", "user", user, "timeout",
				   (json_int_t)secs),
			 c->director.kick.timeout_ms + 10000, &hr);
	ok = r == 0 || wait_accepted(c, r == -EREMOTEIO ? hr.exit_code : -1);
	details_add(dj->h, dj->job, OP_KICK_WAIT, dv_http_entry(&hr, ok));
	dv_http_result_free(&hr);
	return ok;
}

/* director.kick: directorKick (director) or kick (cluster) of the source
 * user, the very first step, then the wait.  Exit 68 (no session to
 * kick) is success. */
static void kick_step(struct dv_job *dj)
{
	const struct doveadm_source_conf *c = dj->conf;
	struct dv_http_result hr;
	const char *user = dv_http_source_user(dj);
	json_t *params;
	bool ok;
	int r;

	if (!(dj->phase == DOVEADM_PHASE_SYNC ? c->director.kick.sync :
						c->director.kick.cutover))
		return;
	if (c->http.type == DOVEADM_HTTP_DIRECTOR)
		params = json_pack("{s:s}", "user", user);
	else
		params = json_pack("{s:[s]}", "mask", user);
	r = dv_http_call(
		dj,
		c->http.type == DOVEADM_HTTP_DIRECTOR ? "directorKick" : "kick",
		params, 0, &hr);
	ok = r == 0 || (r == -EREMOTEIO && hr.exit_code == 68);
	details_add(dj->h, dj->job, OP_KICK_USER, dv_http_entry(&hr, ok));
	dv_http_result_free(&hr);
	if (ok && c->director.kick.wait)
		ok = kick_wait(dj, user);
	if (!ok)
		step_failed(dj, DOVEADM_STEP_DIRECTOR_KICK_USER, "kick user");
}

/* director.flush-metacache (spec 3.5): metacacheFlush of the source user
 * through the HTTP API, right after the kick. */
static void director_flush_step(struct dv_job *dj)
{
	const struct doveadm_source_conf *c = dj->conf;
	struct dv_http_result hr;
	bool ok;

	if (!(dj->phase == DOVEADM_PHASE_SYNC ?
		      c->director.flush_metacache.sync :
		      c->director.flush_metacache.cutover))
		return;
	ok = dv_http_call(dj, "metacacheFlush",
			  json_pack("{s:s}", "user", dv_http_source_user(dj)),
			  0, &hr) == 0;
	details_add(dj->h, dj->job, OP_DIRECTOR_FLUSH, dv_http_entry(&hr, ok));
	dv_http_result_free(&hr);
	if (!ok)
		step_failed(dj, DOVEADM_STEP_DIRECTOR_FLUSH_METACACHE,
			    "director flush metacache");
}

/* ------------------------------------------------- move user (3.8) --- */

/* Whether `ip` is one of this machine's addresses (getifaddrs). */
static bool is_own_address(const char *ip)
{
	struct ifaddrs *ifs = NULL, *i;
	bool found = false;

	if (ip == NULL || getifaddrs(&ifs) < 0)
		return false;
	for (i = ifs; i != NULL && !found; i = i->ifa_next) {
		char buf[INET6_ADDRSTRLEN];
		const void *a;

		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			a = &((struct sockaddr_in *)(void *)i->ifa_addr)
				     ->sin_addr;
		else if (i->ifa_addr->sa_family == AF_INET6)
			a = &((struct sockaddr_in6 *)(void *)i->ifa_addr)
				     ->sin6_addr;
		else
			continue;
		if (inet_ntop(i->ifa_addr->sa_family, a, buf, sizeof(buf)) !=
			    NULL &&
		    strcmp(buf, ip) == 0)
			found = true;
	}
	freeifaddrs(ifs);
	return found;
}

/* director.move-user: the backends of directorStatus ("mail server ip"),
 * the one that is this worker, then directorMove of the target user
 * there.  Refused when this worker is not among them. */
static void move_user_step(struct dv_job *dj)
{
	struct dv_http_result hr;
	const char *self = NULL;
	json_t *item;
	size_t i;
	bool ok;

	if (!dj->conf->director.move_user)
		return;
	ok = dv_http_call(dj, "directorStatus", NULL, 0, &hr) == 0;
	if (ok) {
		json_array_foreach(hr.payload, i, item)
		{
			const char *ip = json_string_value(
				json_object_get(item, "mail server ip"));
			if (is_own_address(ip)) {
				self = ip;
				break;
			}
		}
		if (self == NULL) {
			free(hr.error);
			hr.error = strdup("this worker is not among the "
					  "director's backends "
					  "(directorStatus)");
			ok = false;
		}
	}
	if (ok) {
		char *host = strdup(self);

		dv_http_result_free(&hr);
		ok = host != NULL &&
		     dv_http_call(dj, "directorMove",
				  json_pack("{s:s, s:s}", "user", dj->uid,
					    "host", host),
				  0, &hr) == 0;
		free(host);
	}
	details_add(dj->h, dj->job, OP_MOVE_USER, dv_http_entry(&hr, ok));
	dv_http_result_free(&hr);
	if (!ok)
		step_failed(dj, DOVEADM_STEP_DIRECTOR_MOVE_USER, "move user");
}

/* --------------------------------------------- use sourcehost (3.7) --- */

/* A random backend of directorStatus (only those tagged director-tag
 * with use-only-tagged); allocated, or NULL. */
static char *random_backend(const struct doveadm_source_conf *c,
			    const json_t *status)
{
	const char *pick[64];
	size_t n = 0, i;
	json_t *item;

	json_array_foreach(status, i, item)
	{
		const char *ip = json_string_value(
			json_object_get(item, "mail server ip"));
		const char *tag =
			json_string_value(json_object_get(item, "tag"));

		if (ip == NULL || *ip == '\0' || n == 64)
			continue;
		if (c->http.use_only_tagged &&
		    strcmp(tag != NULL ? tag : "",
			   c->http.director_tag != NULL ? c->http.director_tag :
							  "") != 0)
			continue;
		pick[n++] = ip;
	}
	if (n == 0)
		return NULL;
	return strdup(pick[(size_t)random() % n]);
}

/* The user's backend from directorMap; else a random one, moved there. */
static char *director_backend(struct dv_job *dj, struct dv_http_result *hr)
{
	const char *user = dv_http_source_user(dj);
	const char *ip;
	char *backend = NULL;

	if (dv_http_call(dj, "directorMap", json_pack("{s:s}", "user", user), 0,
			 hr) < 0)
		return NULL;
	ip = json_string_value(json_object_get(json_array_get(hr->payload, 0),
					       "mail server ip"));
	if (ip != NULL && *ip != '\0')
		return strdup(ip);
	dv_http_result_free(hr);
	if (dv_http_call(dj, "directorStatus", NULL, 0, hr) < 0)
		return NULL;
	backend = random_backend(dj->conf, hr->payload);
	dv_http_result_free(hr);
	if (backend == NULL) {
		hr->error = strdup("the director has no backend to move the "
				   "user to");
		return NULL;
	}
	if (dv_http_call(dj, "directorMove",
			 json_pack("{s:s, s:s}", "user", user, "host", backend),
			 0, hr) < 0) {
		free(backend);
		return NULL;
	}
	return backend;
}

/* Take the sourcehost definition named `backend`, when there is one: its
 * host, port and ssl (unless imapc.* set them) and its commands. */
static int adopt_sourcehost(struct dv_job *dj, const char *backend,
			    char **error_r)
{
	const struct dmf_host *h = dj->h;
	const struct doveadm_source_conf *c = dj->conf;
	struct dmf_sourcehost *sh = NULL;
	int r;

	*error_r = NULL;
	if (!DMF_HAS(struct dmf_host, h, db) || h->db == NULL ||
	    h->db->sourcehost(backend, &sh) < 0)
		return 0; /* none: the user's own sourcehost stays */
	dj->sh_host = strdup(sh->host);
	if (c->imapc.host == NULL && dj->sh_host != NULL)
		dj->imapc.host = dj->sh_host;
	if (c->imapc.port <= 0 && sh->port > 0) {
		snprintf(dj->imapc.port_buf, sizeof(dj->imapc.port_buf), "%u",
			 sh->port);
		dj->imapc.port = dj->imapc.port_buf;
	}
	r = phasecmd_replace(dj, sh->commands, backend, error_r);
	h->db->sourcehost_free(&sh);
	return r;
}

static void use_sourcehost_step(struct dv_job *dj)
{
	struct dv_http_result hr = { .exit_code = -1 };
	char *backend, *error = NULL;
	bool ok;

	if (!dj->conf->director.use_sourcehost)
		return;
	backend = director_backend(dj, &hr);
	ok = backend != NULL;
	if (ok && DMF_HAS(struct dmf_host_job, dj->h->job, set_property))
		(void)dj->h->job->set_property(
			dj->job, DMF_MDB_DIRECTOR_SOURCEHOST, backend, 0);
	if (ok && adopt_sourcehost(dj, backend, &error) < 0) {
		dv_job_fail(dj, "configuration error: %s",
			    error != NULL ? error : "out of memory");
		free(hr.error);
		hr.error = error;
		error = NULL;
		ok = false;
	}
	if (ok)
		dj->h->log->log(DMF_LOG_INFO, dj->job,
				"use-sourcehost: the user's backend is %s",
				backend);
	details_add(dj->h, dj->job, OP_USE_SOURCEHOST, dv_http_entry(&hr, ok));
	dv_http_result_free(&hr);
	free(backend);
	free(error);
	if (!ok)
		step_failed(dj, DOVEADM_STEP_DIRECTOR_USE_SOURCEHOST,
			    "use sourcehost");
}

static void run_steps(struct dv_job *dj)
{
	const struct doveadm_source_conf *c = dj->conf;
	const struct dmf_host *h = dj->h;
	struct dv_cmd cmd;
	unsigned long long m, v;
	bool copied = false, sync_ok = false;

	kick_step(dj);
	if (!dj->failed)
		director_flush_step(dj);
	if (!dj->failed)
		move_user_step(dj);
	if (!dj->failed)
		use_sourcehost_step(dj);
	if (!dj->failed && phasecmd_get(dj, DV_CMD_PRE, &cmd) &&
	    !run_defined(dj, &cmd, OP_PRE_COMMAND, "pre"))
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
		if (!dj->failed && phasecmd_get(dj, DV_CMD_POST, &cmd) &&
		    !run_defined(dj, &cmd, OP_POST_COMMAND, "post"))
			step_failed(dj, DOVEADM_STEP_POST_MIGRATION_COMMAND,
				    "post migration command");
	} else {
		metacache_steps(dj, false);
	}
	if (dj->failed && phasecmd_get(dj, DV_CMD_FAILURE, &cmd))
		run_defined(dj, &cmd, OP_FAILURE_COMMAND, "failure");
}

static void fetch_container(struct dv_job *dj)
{
	const char *opts = dj->h->job->property(dj->job, "imapoptions");
	int r;

	if (!dj->conf->fetch_container || opts == NULL || *opts == '\0')
		return;
	r = container_lookup(dj->conf->container_file, opts, &dj->container);
	if (r < 0) {
		dj->h->log->log(DMF_LOG_WARN, dj->job,
				"fetch-container: no userdb_container for "
				"'%s' in %s (%s)",
				opts, dj->conf->container_file, strerror(-r));
		return;
	}
	/* ABI 1.4: the job's own property, so that every command of the job
	 * sees %{mdb:container}; an older host leaves it to cmddef.c */
	if (DMF_HAS(struct dmf_host_job, dj->h->job, set_property)) {
		r = dj->h->job->set_property(dj->job, DMF_MDB_CONTAINER,
					     dj->container, 0);
		if (r == 0)
			dj->container_in_job = true;
		else
			dj->h->log->log(DMF_LOG_WARN, dj->job,
					"fetch-container: cannot set the job's "
					"container property (%s)",
					strerror(-r));
	}
}

int migrate_run(struct dv_plugin *pl, struct dmf_job *job)
{
	const struct dmf_host *h = pl->host;
	struct doveadm_source_conf *conf = NULL;
	struct dv_job dj = { .pl = pl, .h = h, .job = job };
	struct imapc_job_values jv;
	struct dv_cmd cmd;
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
	dj.include = strdup(pl->include);
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
	if (phasecmd_load(&dj, &error) < 0) {
		dv_job_fail(&dj, "configuration error: %s",
			    error != NULL ? error : "out of memory");
		free(error);
		goto done;
	}
	if (dj.imapc.host == NULL && !phasecmd_get(&dj, DV_CMD_SYNC, &cmd)) {
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
	free(dj.sh_name);
	free(dj.sh_host);
	json_decref(dj.sh_commands);
	free(dj.error);
	free(dj.container);
	doveadm_conf_free(&conf);
	return 0;
}
