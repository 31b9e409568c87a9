/*
 * db_procs.h - the process groups of running jobs' commands
 * (job_processes, schema 002, docs/schema.md).
 *
 * A worker records the group of each command of a job before the command
 * runs, under the job's owner + attempt guard, and forgets it once the
 * command has ended; a restarted worker finds the groups of its previous
 * run there (db_jobs_recover) and makes sure they are gone before it
 * queues that run's jobs again.
 */
#ifndef DMF_CORE_DB_PROCS_H
#define DMF_CORE_DB_PROCS_H

#include <stdint.h>

#include "db/db.h"

/* One recorded process group. */
struct db_proc {
	int64_t job_id;
	unsigned attempt;
	const char *owner; /* boot id of the worker */
	const char *backend; /* target/memberid */
	long long pgid;
	long long start; /* the leader's start, clock ticks since boot */
	const char *boot_id; /* the kernel's boot id */
	long long pidns; /* inode of the PID namespace */
	const char *host; /* for people reading the table; may be NULL */
};

/*
 * Record (or replace) the group of job_id's current command.  Returns 0,
 * -ESTALE when the job is no longer RUNNING for owner + attempt (nothing
 * written: the command must not run), or a db error.
 */
int db_procs_record(struct db_pool *pool, const struct db_proc *proc,
		    char **error_r);

/* Forget the group `pgid` recorded for job_id's attempt (its command
 * ended).  0 or a db error. */
int db_procs_forget(struct db_pool *pool, int64_t job_id, unsigned attempt,
		    long long pgid, char **error_r);

#endif /* DMF_CORE_DB_PROCS_H */
