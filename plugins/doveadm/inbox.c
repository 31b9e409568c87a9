/* inbox.c - copy-imapc-inbox / remove-imapc-path (inbox.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "details.h"
#include "inbox.h"
#include "run.h"

static int run_tool(struct dv_job *dj, const char *const *args,
		    const char *step, json_t *errors)
{
	struct dv_argv a = { 0 };
	struct dv_run_result rr;
	char *display;
	int r;

	for (size_t i = 0; args[i] != NULL; i++)
		dv_argv_add(&a, args[i], NULL);
	display = dv_argv_display(&a);
	r = dv_run(dj, &a, display, step, NULL, NULL, errors, &rr);
	if (r == 0 && !rr.success) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s: %s", display ? display : step,
			 rr.msg);
		details_error_line(errors, msg, strlen(msg));
		r = -EIO;
	}
	free(display);
	dv_argv_free(&a);
	return r;
}

/* <home>/imapc, refusing a home that is not a plain absolute path. */
static char *imapc_dir(const char *home)
{
	char *out = NULL;
	size_t l = strlen(home);

	while (l > 1 && home[l - 1] == '/')
		l--;
	if (home[0] != '/' || l < 2 || strstr(home, "/../") != NULL)
		return NULL;
	if (asprintf(&out, "%.*s/imapc", (int)l, home) < 0)
		return NULL;
	return out;
}

int inbox_copy(struct dv_job *dj)
{
	const char *home_args[] = { "user", "-f", "home", dj->uid, NULL };
	const char *path_args[] = { "mailbox", "path",	"-u",
				    dj->uid,   "INBOX", NULL };
	json_t *errors = json_array();
	char *home = NULL, *inbox = NULL, *dir = NULL, *parent = NULL,
	     *dest = NULL;
	int r;

	r = dv_doveadm_value(dj, home_args, "copy-imapc-inbox", true, errors,
			     &home);
	if (r == 0)
		r = dv_doveadm_value(dj, path_args, "copy-imapc-inbox", true,
				     errors, &inbox);
	if (r == 0 && (dir = imapc_dir(home)) == NULL) {
		details_error_line(errors, "unusable home path",
				   strlen("unusable home path"));
		r = -EIO;
	}
	if (r == 0 && (asprintf(&parent, "%s/.INBOX", dir) < 0 ||
		       asprintf(&dest, "%s/.INBOX/.INBOX", dir) < 0))
		r = -ENOMEM;
	if (r == 0 && access(inbox, F_OK) != 0) {
		/* a first sync: no local INBOX yet, nothing to copy (and the
		 * home must not be created here, as root) */
		dj->h->log->log(DMF_LOG_INFO, dj->job,
				"copy-imapc-inbox: no local INBOX yet (%s); "
				"nothing to copy",
				inbox);
		goto out;
	}
	if (r == 0) {
		const char *mk[] = { "mkdir", "-p", "--", parent, NULL };
		const char *rm[] = { "rm", "-rf", "--", dest, NULL };
		const char *cp[] = { "cp", "-a", "--", inbox, dest, NULL };
		/* spec 3.3: chown -R vmail:vmail homePath */
		const char *ch[] = { "chown", "-R",
				     "--",    dj->conf->imapc_inbox_owner,
				     home,    NULL };
		r = run_tool(dj, mk, "copy-imapc-inbox", errors);
		if (r == 0)
			r = run_tool(dj, rm, "copy-imapc-inbox", errors);
		if (r == 0)
			r = run_tool(dj, cp, "copy-imapc-inbox", errors);
		if (r == 0)
			r = run_tool(dj, ch, "copy-imapc-inbox", errors);
	}
out:
	details_add(dj->h, dj->job, OP_COPY_INBOX,
		    details_entry(r == 0, NULL, false, 0, errors));
	free(home);
	free(inbox);
	free(dir);
	free(parent);
	free(dest);
	return r < 0 ? -EIO : 0;
}

int inbox_remove(struct dv_job *dj)
{
	const char *home_args[] = { "user", "-f", "home", dj->uid, NULL };
	json_t *errors = json_array();
	char *home = NULL, *dir = NULL;
	int r;

	r = dv_doveadm_value(dj, home_args, "remove-imapc-path", true, errors,
			     &home);
	if (r == 0 && (dir = imapc_dir(home)) == NULL) {
		details_error_line(errors, "unusable home path",
				   strlen("unusable home path"));
		r = -EIO;
	}
	if (r == 0) {
		const char *rm[] = { "rm", "-rf", "--", dir, NULL };
		r = run_tool(dj, rm, "remove-imapc-path", errors);
	}
	details_add(dj->h, dj->job, OP_REMOVE_INBOX,
		    details_entry(r == 0, NULL, false, 0, errors));
	free(home);
	free(dir);
	return r < 0 ? -EIO : 0;
}
