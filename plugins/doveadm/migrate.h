/*
 * migrate.h - one job of the doveadm worker, in the order of operations of
 * spec 3.15:
 *
 *   director kick (with the obox wait), director flush metacache, director
 *   move user, use sourcehost (directorMap); pre migration command, copy
 *   imapc inbox, count local pre sync, dsync (with retries, the duplicate
 *   repair and count sync), make the target durable (durability: job),
 *   remove imapc inbox; then on success count local post sync, count
 *   remote, flush and clean metacache (on-success), post migration
 *   command; on failure flush and clean metacache (on-failure), post
 *   migration failure command.
 *
 * A step whose failure-flags.<phase>.<step> is set fails the job when it
 * fails: before the sync this skips the sync and goes to the failure
 * branch; after a successful sync the remaining count and metacache steps
 * still run, and the failure command runs instead of the post command.
 * A failed post command with its flag set fails the job and then runs the
 * failure command.  A step without its flag set only records its failure
 * in the details.
 */
#ifndef DMF_DOVEADM_MIGRATE_H
#define DMF_DOVEADM_MIGRATE_H

#include "dvjob.h"

/* Run `job`; the outcome goes to the host's response table.  Returns 0
 * (or a negative errno when the plugin itself broke). */
int migrate_run(struct dv_plugin *pl, struct dmf_job *job);

/* The target's configured mail_plugins (cached once read); "" when it
 * cannot be read (logged). */
const char *migrate_mail_plugins(struct dv_job *dj);

#endif /* DMF_DOVEADM_MIGRATE_H */
