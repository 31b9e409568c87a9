/*
 * secret.h - wiping secrets in the doveadm worker without OpenSSL: the
 * host's crypto->wipe (ABI 1.3) once dv_secret_init() has seen it, else the
 * volatile-store fallback of dmf/text.h (an older host, the unit tests of
 * the logic library).
 */
#ifndef DMF_DOVEADM_SECRET_H
#define DMF_DOVEADM_SECRET_H

#include <stddef.h>

#include "dmf/host.h"

/* From init() and fini() (main thread, no job running): the host whose
 * wipe to use; NULL goes back to the fallback. */
void dv_secret_init(const struct dmf_host *host);
/* Overwrite len bytes at p with zeros. */
void dv_wipe(void *p, size_t len);
/* Wipe and free a string (NULL allowed); sets it to NULL. */
void dv_free_secret(char **s);

#endif /* DMF_DOVEADM_SECRET_H */
