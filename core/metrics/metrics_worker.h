/*
 * metrics_worker.h - the worker process's registry and what it exports:
 * process.* and system.* (what they mean for a C process), executor.* of
 * the worker-executor, hikaricp.connections.* of the database pool, and
 * the job metrics (dmf.jobs.*, dmf.messages.*, dmf.migrated.bytes,
 * dmf.lease.renewals.failed).  docs/http.md lists every name.
 *
 * main.c: metrics_worker_init(cfg) before the plugin's init() (plugins
 * register their metrics there), metrics_worker_add_executor() and
 * metrics_worker_add_db_pool() once those exist, the matching _remove()
 * before they are destroyed, metrics_worker_deinit() after the HTTP
 * server stopped.  Every other function is a no-op before init (unit
 * tests, dmfctl) and safe from any thread.
 */
#ifndef DMF_METRICS_WORKER_H
#define DMF_METRICS_WORKER_H

#include <stdbool.h>

#include "db/db.h"
#include "dmf/host.h"
#include "lib/config.h"
#include "metrics/metrics.h"
#include "metrics/metrics_endpoints.h"
#include "worker/executor.h"

/* 0, or -EINVAL/-ENOMEM with *error_r allocated. */
int metrics_worker_init(const struct config *cfg, char **error_r);
void metrics_worker_deinit(void);
/* The process's registry (NULL before init). */
struct met_registry *metrics_worker_registry(void);
/* The ctx of the three handlers (metrics_endpoints.h); never NULL: before
 * init (or with micronaut.metrics.enabled false) its handlers answer 404. */
struct metrics_endpoints *metrics_worker_endpoints(void);

void metrics_worker_add_executor(struct executor *ex);
void metrics_worker_remove_executor(void);
void metrics_worker_add_db_pool(struct db_pool *pool);
void metrics_worker_remove_db_pool(void);

/* ---------------------------------------------------- job events --- */

/* A job was claimed (attempt > 1 also counts as retried). */
void metrics_job_claimed(const struct dmf_job *job);
/* A claimed row could not be run and was failed at once. */
void metrics_job_bad_row(const char *source, const char *phase);
/*
 * A job's run is over.  failure_class: NULL for SUCCESS; else "job" (the
 * plugin reported FAILURE), "worker_error" (the plugin broke),
 * "no_result"; aborted: the job was aborted (shutdown, lost lease,
 * cancel) and is given back.  Records the duration, and adds what the
 * final counts add to the running progress.  Job's thread.
 */
void metrics_job_finished(struct dmf_job *job, const char *failure_class,
			  bool aborted);
/* The plugin reported progress: add the deltas to the counters.  Job's
 * thread. */
void metrics_job_progress(struct dmf_job *job);
/* The heartbeat's rescue requeued/failed stale jobs of the target; a
 * restarted worker recovered its earlier run's jobs. */
void metrics_jobs_rescued(unsigned requeued, unsigned failed);
/* A heartbeat could not renew the leases. */
void metrics_lease_renewal_failed(void);

#endif /* DMF_METRICS_WORKER_H */
