/* secret.c - wiping secrets (secret.h). */
#include "dmf-build.h"

#include <stdlib.h>
#include <string.h>

#include "dmf/text.h"
#include "secret.h"

/* Written by init()/fini() only, before and after every run(). */
static dmf_wipe_fn wipe = dmf_wipe_fallback;

void dv_secret_init(const struct dmf_host *host)
{
	wipe = dmf_host_wipe(host);
}

void dv_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		wipe(p, len);
}

void dv_free_secret(char **s)
{
	if (*s != NULL) {
		dv_wipe(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}
