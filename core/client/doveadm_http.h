/*
 * doveadm_http.h - the client of Dovecot's doveadm HTTP API (libcurl +
 * jansson), one per process, behind the host's `http` table (ABI 1.4,
 * sdk/include/dmf/host.h struct dmf_host_http).
 *
 * Settings: micronaut.http.services.doveadm (docs/doveadm.md "The doveadm
 * HTTP API"):
 *   connect-timeout, read-timeout          durations (5s, 10s)
 *   ssl.enabled                            true: the ssl.* settings below apply (else an https URL
 *                                           is checked against the system CAs)
 *   ssl.insecure-trust-all-certificates    true: no certificate check
 *   ssl.trust-store.path / password / type  PKCS12 (Java's keytool) or PEM;
 *                                           a `file:` prefix is allowed
 * Idle connections are kept in a small pool of curl handles and reused
 * by the next call to the same server, whatever job makes it.
 */
#ifndef DMF_CORE_CLIENT_DOVEADM_HTTP_H
#define DMF_CORE_CLIENT_DOVEADM_HTTP_H

#include "dmf/host.h"
#include "lib/config.h"

/* Read the settings and set up libcurl.  0, or a negative errno with
 * *error_r (allocated) naming the key. */
int dhttp_init(const struct config *cfg, char **error_r);
void dhttp_deinit(void);

/* The table handed to plugins (valid between init and deinit). */
const struct dmf_host_http *dhttp_table(void);

/* One call, as struct dmf_host_http's doveadm(). */
int dhttp_doveadm(struct dmf_job *job, const struct dmf_http_target *t,
		  const char *command, const char *params, char **result_r,
		  int *exit_code_r, char **error_r);

/* A reply body: `[["doveadmResponse", PAYLOAD, tag]]` gives 0 and
 * *result_r (PAYLOAD's JSON text, allocated); `[["error", {"type":
 * "exitCode", "exitCode": N}, tag]]` gives -EREMOTEIO and *exit_code_r =
 * N; anything else -EPROTO.  Except on 0, *error_r (allocated) names
 * `host`. */
int dhttp_parse_reply(const char *body, size_t len, const char *host,
		      char **result_r, int *exit_code_r, char **error_r);

/* Calls made and TCP connections opened since init (for tests/logs). */
void dhttp_stats(unsigned long *calls_r, unsigned long *connects_r);

#endif /* DMF_CORE_CLIENT_DOVEADM_HTTP_H */
