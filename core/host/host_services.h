/*
 * host_services.h - the exec, inject and crypto tables of struct dmf_host
 * (sdk/include/dmf/host.h) and what the daemon must call around them.
 *
 * Start (main thread, after config_load(), before plugin init()):
 *   host_secrets_init(cfg);      the secrets of the config, for redaction
 *   host_exec_init(cfg, &err);   command logging, the child environment
 *   host_crypto_init(cfg, &err); dmf.worker.crypto.storageKeys
 * Per job, after plugin run() returned and the status is final:
 *   host_exec_job_finish(job, status == DMF_STATUS_SUCCESS);
 *     closes the job's command log (deleting it on success when
 *     delete-on-success is set).  Without this call the log stays open.
 * Shutdown, after plugin fini(): host_crypto_deinit(); host_exec_deinit();
 * host_secrets_deinit().
 */
#ifndef DMF_CORE_HOST_SERVICES_H
#define DMF_CORE_HOST_SERVICES_H

#include <stdbool.h>

#include "lib/config.h"
#include "crypto/crypto.h"
#include "dmf/host.h"

/* The NULL-terminated secret values found in the configuration (any key
 * config.h's cfg_is_secret() flags, and the secret parts of other values:
 * lib/secret.h), for redaction by every table; never NULL.  Init fails
 * only when out of memory (-ENOMEM); deinit wipes the copies. */
int host_secrets_init(const struct config *cfg);
/* Add the secrets of a reloaded configuration: the registry only grows
 * (an old password stays hidden), readers are never disturbed. */
int host_secrets_add(const struct config *cfg);
void host_secrets_deinit(void);
const char *const *host_secrets(void);

/* host_config.c: the config table over generations of the configuration.
 * init borrows cfg (it must outlive the host) for worker type `type`;
 * replace() makes cfg (which it then owns) current for jobs that start
 * after it (main thread); job_begin()/job_end() pin and unpin the current
 * one for the job run by the calling thread (host_job_started/finished
 * call them).  -ENOMEM is the only failure. */
int host_config_init(const struct config *cfg, const char *type);
void host_config_deinit(void);
int host_config_replace(struct config *cfg);
const struct config *host_config_current(void);
void host_config_job_begin(void);
void host_config_job_end(void);
extern const struct dmf_host_config host_config_tbl;

int host_exec_init(const struct config *cfg, char **error_r);
void host_exec_deinit(void);
/* Replace the command-logging settings (dmf.worker.command.logging) for
 * command logs opened from now on; logs already open are kept.  0, or a
 * negative errno with *error_r allocated (the old settings stay). */
int host_exec_reload_logging(const struct config *cfg, char **error_r);
const struct dmf_host_exec *host_exec_table(void);
/* The ABI minor the plugin was built for (default: the daemon's): below 3
 * exec->run() writes the 1.2 struct dmf_exec_result, which has no size.
 * Call before the plugin's init(); plugin_init() does. */
void host_exec_set_plugin_minor(unsigned minor);
void host_exec_job_finish(struct dmf_job *job, bool success);

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
