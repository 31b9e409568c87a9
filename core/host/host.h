/*
 * host.h - the service tables the daemon hands to its job-worker plugin
 * (struct dmf_host of sdk/include/dmf/host.h).
 */
#ifndef DMF_CORE_HOST_H
#define DMF_CORE_HOST_H

#include "lib/config.h"
#include "dmf/host.h"

/*
 * Prepare the tables for worker type `type` over configuration `cfg`
 * (which must outlive the host).  Returns 0 or a negative errno with
 * *error_r allocated.
 */
int host_init(const struct config *cfg, const char *type, char **error_r);
/* The host handed to plugin init(); valid after host_init(). */
const struct dmf_host *host_get(void);
/* Call on the thread that runs the job, before the plugin's run(): pins
 * the current configuration to the job (host_config.c). */
void host_job_started(struct dmf_job *job);
/* Call once per job, on the same thread, after the plugin's run()
 * returned and the status is final: closes the job's command log (deleted
 * on success when so configured) and unpins the configuration. */
void host_job_finished(struct dmf_job *job);
void host_deinit(void);

#endif /* DMF_CORE_HOST_H */
