/* durable.c - durability: job (durable.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "details.h"
#include "durable.h"
#include "durable_policy.h"
#include "migrate.h"
#include "run.h"

/* A source whose fallback to the target's mail_fsync was logged. */
struct dv_noted {
	char *source;
	struct dv_noted *next;
};

void durable_plugin_free(struct dv_plugin *pl)
{
	while (pl->noted != NULL) {
		struct dv_noted *n = pl->noted;

		pl->noted = n->next;
		free(n->source);
		free(n);
	}
	free(pl->mail_location);
	pl->mail_location = NULL;
}

/* Log once per source that durability: job does not apply, and why. */
static void fallback(struct dv_job *dj, const char *why)
{
	struct dv_plugin *pl = dj->pl;
	const char *source = dj->h->job->source(dj->job);
	struct dv_noted *n;
	bool first = true;

	if (source == NULL)
		source = "";
	pthread_mutex_lock(&pl->lock);
	for (n = pl->noted; n != NULL; n = n->next)
		if (strcmp(n->source, source) == 0)
			first = false;
	if (first && (n = calloc(1, sizeof(*n))) != NULL &&
	    (n->source = strdup(source)) != NULL) {
		n->next = pl->noted;
		pl->noted = n;
	} else if (n != NULL && first) {
		free(n);
	}
	pthread_mutex_unlock(&pl->lock);
	dj->h->log->log(first ? DMF_LOG_WARN : DMF_LOG_DEBUG, dj->job,
			"durability: job does not apply to source %s: %s; the "
			"target's mail_fsync applies%s",
			source, why, first ? " (logged once per source)" : "");
}

/* The target's mail_location, read once ("" when unknown). */
static const char *mail_location(struct dv_job *dj)
{
	struct dv_plugin *pl = dj->pl;
	const char *out;

	pthread_mutex_lock(&pl->lock);
	if (!pl->mail_location_known) {
		static const char *const args[] = { "config", "-h",
						    "mail_location", NULL };
		json_t *errors = json_array();
		char *v = NULL;

		if (dv_doveadm_value(dj, args, "mail-location", false, errors,
				     &v) == 0) {
			pl->mail_location = v != NULL ? v : strdup("");
			pl->mail_location_known = pl->mail_location != NULL;
		}
		json_decref(errors);
	}
	out = pl->mail_location_known ? pl->mail_location : NULL;
	pthread_mutex_unlock(&pl->lock);
	return out;
}

static bool host_can_sync(const struct dmf_host *h)
{
	return h->abi_minor >= 4 &&
	       DMF_HAS(struct dmf_host_exec, h->exec, sync_filesystems);
}

/* The user's INBOX mail, index and control paths, each once. */
static int user_paths(struct dv_job *dj, char *why, size_t size)
{
	static const char *const types[DV_DURABLE_PATHS] = { NULL, "index",
							     "control" };

	for (size_t i = 0; i < DV_DURABLE_PATHS; i++) {
		const char *args[8];
		size_t k = 0;
		json_t *errors = json_array();
		char *v = NULL;
		bool dup = false;
		int r;

		args[k++] = "mailbox";
		args[k++] = "path";
		args[k++] = "-u";
		args[k++] = dj->uid;
		if (types[i] != NULL) {
			args[k++] = "-t";
			args[k++] = types[i];
		}
		args[k++] = "INBOX";
		args[k] = NULL;
		r = dv_doveadm_value(dj, args, "mailbox-path", false, errors,
				     &v);
		if (r < 0) {
			const char *e =
				json_string_value(json_array_get(errors, 0));
			snprintf(why, size,
				 "cannot find the user's %s path (%s)",
				 types[i] != NULL ? types[i] : "mail",
				 e != NULL ? e : "out of memory");
			json_decref(errors);
			return r;
		}
		json_decref(errors);
		if (v == NULL || v[0] == '\0') { /* e.g. INDEX=MEMORY */
			free(v);
			continue;
		}
		if (v[0] != '/') {
			snprintf(why, size,
				 "the user's %s path '%.200s' is "
				 "not a local absolute path",
				 types[i] != NULL ? types[i] : "mail", v);
			free(v);
			return -EINVAL;
		}
		for (size_t j = 0; j < dj->n_durable; j++)
			dup = dup || strcmp(dj->durable_paths[j], v) == 0;
		if (dup)
			free(v);
		else
			dj->durable_paths[dj->n_durable++] = v;
	}
	if (dj->n_durable == 0) {
		snprintf(why, size, "doveadm mailbox path printed no path");
		return -ENOENT;
	}
	return 0;
}

/* "<path> is on nfs (f_type 0x6969), where syncfs() is not a durability
 * guarantee", or false when every filesystem is trusted. */
static bool untrusted(const struct dmf_fs_sync_result *res, size_t n, char *why,
		      size_t size)
{
	for (size_t i = 0; i < n; i++) {
		if (res[i].error == 0 && !res[i].trusted) {
			snprintf(why, size,
				 "%s is on %s (f_type 0x%llx), where syncfs() "
				 "is not a durability guarantee",
				 res[i].used_path, res[i].fs_name,
				 res[i].fs_type);
			return true;
		}
	}
	return false;
}

void durable_prepare(struct dv_job *dj)
{
	const struct dmf_host *h = dj->h;
	struct dmf_fs_sync_result res[DV_DURABLE_PATHS];
	const char *loc, *e = NULL;
	char why[700];

	dj->fsync_never = false;
	if (dj->conf->durability != DOVEADM_DURABLE_JOB)
		return;
	if (!host_can_sync(h)) {
		fallback(dj, "the daemon offers no exec->sync_filesystems "
			     "(ABI 1.4)");
		return;
	}
	loc = mail_location(dj);
	if (loc == NULL) {
		fallback(dj, "cannot read the target's mail_location "
			     "(doveadm config -h mail_location)");
		return;
	}
	if (!durable_store_local(loc, migrate_mail_plugins(dj), why,
				 sizeof(why))) {
		fallback(dj, why);
		return;
	}
	if (user_paths(dj, why, sizeof(why)) < 0) {
		h->log->log(DMF_LOG_WARN, dj->job,
			    "durability: job does not apply to this job: %s; "
			    "the target's mail_fsync applies",
			    why);
		durable_clear(dj);
		return;
	}
	if (h->exec->sync_filesystems(
		    dj->job, (const char *const *)dj->durable_paths,
		    dj->n_durable, DMF_FS_STAT_ONLY, res, &e) < 0) {
		size_t i = 0;

		while (i + 1 < dj->n_durable && res[i].error == 0)
			i++;
		h->log->log(DMF_LOG_WARN, dj->job,
			    "durability: job does not apply to this job: "
			    "%s %s: %s; the target's mail_fsync applies",
			    e != NULL ? "sync_filesystems" : res[i].failed_call,
			    e != NULL ? "" : res[i].used_path,
			    e != NULL ? e : strerror(-res[i].error));
		durable_clear(dj);
		return;
	}
	if (untrusted(res, dj->n_durable, why, sizeof(why))) {
		fallback(dj, why);
		durable_clear(dj);
		return;
	}
	dj->fsync_never = true;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool durable_finish(struct dv_job *dj)
{
	const struct dmf_host *h = dj->h;
	struct dmf_fs_sync_result res[DV_DURABLE_PATHS];
	json_t *body, *fss, *errors;
	const char *e = NULL;
	char why[900] = "";
	long long t0 = now_ms();
	bool ok;
	int r;

	if (!dj->fsync_never)
		return true;
	fss = json_array();
	errors = json_array();
	r = h->exec->sync_filesystems(dj->job,
				      (const char *const *)dj->durable_paths,
				      dj->n_durable, 0, res, &e);
	if (r == -EINVAL) {
		snprintf(why, sizeof(why), "%s", e != NULL ? e : "bad paths");
	} else {
		for (size_t i = 0; i < dj->n_durable; i++) {
			const struct dmf_fs_sync_result *x = &res[i];
			json_t *o = json_object();

			json_object_set_new(o, "path",
					    json_string(dj->durable_paths[i]));
			json_object_set_new(o, "filesystem",
					    json_string(x->fs_name));
			json_object_set_new(o, "synced",
					    json_boolean(x->synced));
			if (x->synced)
				json_object_set_new(
					o, "durationMs",
					json_integer(x->duration_ms));
			json_array_append_new(fss, o);
			if (x->error != 0 && why[0] == '\0')
				snprintf(why, sizeof(why), "%s %s: %s",
					 x->failed_call, x->used_path,
					 strerror(-x->error));
		}
		if (why[0] == '\0' &&
		    untrusted(res, dj->n_durable, why, sizeof(why)))
			strncat(why, " (it was not when the job started)",
				sizeof(why) - strlen(why) - 1);
	}
	ok = why[0] == '\0';
	if (!ok) {
		details_error_line(errors, why, strlen(why));
		dv_job_fail(dj, "making the target durable failed: %s", why);
	}
	body = details_entry(ok, NULL, false, 0, errors);
	if (body != NULL) {
		json_object_set_new(body, "filesystems", fss);
		json_object_set_new(body, "durationMs",
				    json_integer(now_ms() - t0));
	} else {
		json_decref(fss);
	}
	details_add(h, dj->job, OP_DURABLE, body);
	if (ok)
		h->log->log(DMF_LOG_DEBUG, dj->job,
			    "target durable: %zu path(s), %lld ms",
			    dj->n_durable, now_ms() - t0);
	return ok;
}

void durable_clear(struct dv_job *dj)
{
	for (size_t i = 0; i < dj->n_durable; i++) {
		free(dj->durable_paths[i]);
		dj->durable_paths[i] = NULL;
	}
	dj->n_durable = 0;
	dj->fsync_never = false;
}
