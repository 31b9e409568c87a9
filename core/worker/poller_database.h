/*
 * poller_database.h - the database poller's row-to-job adapter, for the
 * poller itself and the fuzz target of the job row decoder.
 */
#ifndef DMF_CORE_POLLER_DATABASE_H
#define DMF_CORE_POLLER_DATABASE_H

#include "crypto/crypto.h"
#include "db/db_jobs.h"
#include "lib/job.h"

/* Why a claimed row cannot be run (allocated), or NULL when it can. */
char *pdb_row_problem(const struct db_job_row *r);

/* The job for a claimed row: its properties (lib/mdb.h) and its password
 * unwrapped with `ring`.  NULL with *problem_r allocated (the reason the
 * job fails with) when the row cannot be run. */
struct dmf_job *pdb_row_to_job(struct crypto_keyring *ring,
			       const struct db_job_row *r, char **problem_r);

#endif /* DMF_CORE_POLLER_DATABASE_H */
