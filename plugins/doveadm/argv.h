/*
 * argv.h - growable argument vectors for the commands the doveadm worker
 * runs, with a parallel display form (what the job details and the logs
 * show: passwords `<hidden>`), and shell-like quoting for that display.
 */
#ifndef DMF_DOVEADM_ARGV_H
#define DMF_DOVEADM_ARGV_H

#include <stdbool.h>
#include <stddef.h>

#include "secret.h" /* dv_free_secret() */

/*
 * Element i is run when v[i] != NULL and shown when show[i] != NULL, so a
 * vector can hold run-only elements (the per-job config file path) and
 * show-only ones (the imapc settings that travel in that file).
 */
struct dv_argv {
	char **v;
	char **show;
	size_t n, cap;
	bool failed; /* an allocation failed: the vector is unusable */
	char **run; /* dv_argv_run()'s array */
};

/* Append `arg` (NULL: show-only); `shown` is its display form (NULL: the
 * same text as arg). */
void dv_argv_add(struct dv_argv *a, const char *arg, const char *shown);
/* Append an element that is run but not shown. */
void dv_argv_add_run_only(struct dv_argv *a, const char *arg);
/* The elements to run, NULL-terminated (owned by `a`, valid until the
 * next change); NULL on out of memory. */
char *const *dv_argv_run(struct dv_argv *a);
/* Append "NAME=VALUE" after "-o"; shown as "-o NAME=<hidden>" when
 * `secret`. */
void dv_argv_add_setting(struct dv_argv *a, const char *name, const char *value,
			 bool secret);
/* Insert `arg` (shown as `shown`, NULL: same) at index `at`. */
void dv_argv_insert(struct dv_argv *a, size_t at, const char *arg,
		    const char *shown);
/* Remove the element at `at` (wiped). */
void dv_argv_remove(struct dv_argv *a, size_t at);
/* Wipe and free; the struct may be reused after. */
void dv_argv_free(struct dv_argv *a);
/* The display line: the `show` elements quoted and joined by spaces.
 * Allocated; NULL on out of memory or when a->failed. */
char *dv_argv_display(const struct dv_argv *a);
/* Shell-quote one element: safe text as is, else '...' (control bytes
 * as \xNN so the result is one line).  Allocated or NULL. */
char *dv_quote(const char *text);

#endif /* DMF_DOVEADM_ARGV_H */
