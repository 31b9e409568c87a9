/* db_procs.c - the SQL of job_processes (see db_procs.h). */
#include "dmf-build.h"

#include <errno.h>

#include "db/db_procs.h"

static int record_fn(struct db_conn *c, void *arg)
{
	const struct db_proc *x = arg;
	struct db_value p[8] = { DB_INT(x->pgid),    DB_INT(x->start),
				 DB_STR(x->boot_id), DB_INT(x->pidns),
				 DB_STR(x->host),    DB_INT(x->job_id),
				 DB_STR(x->owner),   DB_INT(x->attempt) };
	uint64_t affected = 0;
	int ret;

	/* the job's own row supplies owner, attempt and backend, so that
	 * nothing is written for a job this worker no longer holds */
	ret = db_exec(c,
		      "INSERT INTO job_processes (job_id, attempt, owner, "
		      "backend, pgid, pgid_start, kernel_boot, pid_ns, host, "
		      "recorded) SELECT id, attempts, owner, backend, ?, ?, ?, "
		      "?, ?, NOW(3) FROM jobs WHERE id = ? AND owner = ? "
		      "AND attempts = ? AND status = 'RUNNING' "
		      "ON DUPLICATE KEY UPDATE pgid = VALUES(pgid), "
		      "pgid_start = VALUES(pgid_start), "
		      "kernel_boot = VALUES(kernel_boot), "
		      "pid_ns = VALUES(pid_ns), host = VALUES(host), "
		      "recorded = VALUES(recorded)",
		      p, 8, NULL, &affected);
	if (ret == 0 && affected == 0)
		ret = -ESTALE;
	return ret;
}

int db_procs_record(struct db_pool *pool, const struct db_proc *proc,
		    char **error_r)
{
	return db_run(pool, record_fn, (void *)proc, error_r);
}

struct forget_ctx {
	int64_t job_id;
	unsigned attempt;
	long long pgid;
};

static int forget_fn(struct db_conn *c, void *arg)
{
	struct forget_ctx *x = arg;
	struct db_value p[3] = { DB_INT(x->job_id), DB_INT(x->attempt),
				 DB_INT(x->pgid) };

	return db_exec(c,
		       "DELETE FROM job_processes WHERE job_id = ? "
		       "AND attempt = ? AND pgid = ?",
		       p, 3, NULL, NULL);
}

int db_procs_forget(struct db_pool *pool, int64_t job_id, unsigned attempt,
		    long long pgid, char **error_r)
{
	struct forget_ctx x = { job_id, attempt, pgid };

	return db_run(pool, forget_fn, &x, error_r);
}
