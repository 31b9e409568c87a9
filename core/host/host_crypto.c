/* host_crypto.c - the crypto table over the configured storage keys. */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "host/host_services.h"
#include "lib/log.h"
#include "lib/util.h"

static struct crypto_keyring *ring;
static _Thread_local char error_buf[512];

int host_crypto_init(const struct config *cfg, char **error_r)
{
	int ret;

	host_crypto_deinit();
	ret = crypto_keyring_load(cfg_get(cfg != NULL ? cfg->root : NULL,
					  "dmf.worker.crypto.storageKeys"),
				  &ring, error_r);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < crypto_keyring_count(ring); i++) {
		const char *name = NULL,
			   *err = crypto_keyring_check(ring, i, &name);

		if (err != NULL)
			log_warn("%s (jobs using key '%s' will fail until it "
				 "can be read)",
				 err, name);
	}
	return 0;
}

void host_crypto_deinit(void)
{
	crypto_keyring_free(&ring);
}

struct crypto_keyring *host_crypto_keyring(void)
{
	return ring;
}

static int h_unwrap(const char *key_name, const char *iv,
		    const char *ciphertext, char **password_r,
		    const char **error_r)
{
	char *error = NULL;
	int ret = crypto_unwrap(ring, key_name, iv, ciphertext, password_r,
				&error);

	if (ret < 0)
		*error_r = error_keep(error_buf, sizeof(error_buf), error, ret);
	return ret;
}

static const struct dmf_host_crypto crypto_table = {
	.size = sizeof(struct dmf_host_crypto),
	.unwrap_password = h_unwrap,
	.free_secret = crypto_free_secret,
	.wipe = secure_wipe,
};

const struct dmf_host_crypto *host_crypto_table(void)
{
	return &crypto_table;
}
