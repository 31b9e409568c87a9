/*
 * durable.h - `durability: job` (docs/doveadm.md, "Durable at the end of
 * the job"): before the migration command, decide whether it may run with
 * mail_fsync=never (the target is a local mail store and every filesystem
 * holding the user's mail, index and control files is one where syncfs()
 * is a durability guarantee); after it succeeded, the step `make target
 * durable`: syncfs() of each of those filesystems through the host's
 * exec->sync_filesystems() (ABI 1.4).
 */
#ifndef DMF_DOVEADM_DURABLE_H
#define DMF_DOVEADM_DURABLE_H

#include <stdbool.h>

#include "dvjob.h"

/* The details entry of the step. */
#define OP_DURABLE "make target durable"

/*
 * Before the migration command: sets dj->fsync_never and keeps the user's
 * paths in dj.  With `durability: dovecot`, on a host without
 * sync_filesystems, on a target that is not a local mail store or on a
 * filesystem that is not trusted, dj->fsync_never stays false (logged once
 * per source).  Never fails the job.
 */
void durable_prepare(struct dv_job *dj);

/*
 * After a successful migration command run with mail_fsync=never: syncfs()
 * the user's filesystems and add the step's details entry.  Returns true
 * when they are durable (or nothing had to be done); false after it failed
 * the job (dv_job_fail) with the reason.
 */
bool durable_finish(struct dv_job *dj);

/* Free what durable_prepare() kept in dj. */
void durable_clear(struct dv_job *dj);

/* Free the plugin-wide state (the list of sources already logged). */
void durable_plugin_free(struct dv_plugin *pl);

#endif /* DMF_DOVEADM_DURABLE_H */
