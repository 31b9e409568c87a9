/*
 * host_services.h - the exec, inject and crypto tables of struct dmf_host
 * (sdk/include/dmf/host.h) and what the daemon must call around them.
 *
 * Start (main thread, after config_load(), before plugin init()):
 *   host_exec_init(cfg, &err);   command logging, secrets of the config
 *   host_crypto_init(cfg, &err); dmf.worker.crypto.storageKeys
 * Per job, after plugin run() returned and the status is final:
 *   host_exec_job_finish(job, status == DMF_STATUS_SUCCESS);
 *     closes the job's command log (deleting it on success when
 *     delete-on-success is set).  Without this call the log stays open.
 * Shutdown, after plugin fini(): host_crypto_deinit(); host_exec_deinit().
 */
#ifndef DMF_CORE_HOST_SERVICES_H
#define DMF_CORE_HOST_SERVICES_H

#include <stdbool.h>

#include "lib/config.h"
#include "crypto/crypto.h"
#include "dmf/host.h"

int host_exec_init(const struct config *cfg, char **error_r);
void host_exec_deinit(void);
const struct dmf_host_exec *host_exec_table(void);
/* The ABI minor the plugin was built for (default: the daemon's): below 3
 * exec->run() writes the 1.2 struct dmf_exec_result, which has no size.
 * Call before the plugin's init(); plugin_init() does. */
void host_exec_set_plugin_minor(unsigned minor);
void host_exec_job_finish(struct dmf_job *job, bool success);
/* The NULL-terminated secret values found in the configuration (any key
 * config.h's cfg_is_secret() flags), for redaction; never NULL. */
const char *const *host_exec_config_secrets(void);

const struct dmf_host_inject *host_inject_table(void);

int host_crypto_init(const struct config *cfg, char **error_r);
void host_crypto_deinit(void);
const struct dmf_host_crypto *host_crypto_table(void);
/* The keyring of host_crypto_init() (NULL before), e.g. for the poller. */
struct crypto_keyring *host_crypto_keyring(void);

/* The metrics table (ABI 1.4) for worker type `type` (plugin metrics are
 * named dmf.<type>.<name>); the registry is metrics_worker_init()'s. */
const struct dmf_host_metrics *host_metrics_table(const char *type);

#endif /* DMF_CORE_HOST_SERVICES_H */
