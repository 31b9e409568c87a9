/*
 * fuzz_unwrap.c - the stored-password unwrap (core/crypto/crypto.c): the
 * input is split at its first newline into the IV and the ciphertext as
 * the database holds them (base64), unwrapped with a configured plain key
 * file; and as raw bytes through crypto_unwrap_raw().  Base64 decoding is
 * covered on the way.
 */
#include "dmf-build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "fuzz_keyring.h"
#include "lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char raw_key[CRYPTO_KEY_LEN] = { 1, 2, 3, 4, 5 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *nl, *plain = NULL, *error = NULL;

	struct crypto_keyring *ring = fuzz_keyring();

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nl = strchr(text, '\n');
	if (nl != NULL) {
		*nl = '\0';
		if (crypto_unwrap(ring, "k1", text, nl + 1, &plain, &error) ==
		    0)
			crypto_free_secret(&plain);
		free(error);
		error = NULL;
	}
	if (size > 12 && crypto_unwrap_raw(raw_key, data, 12, data + 12,
					   size - 12, &plain, &error) == 0)
		crypto_free_secret(&plain);
	free(error);
	free(text);
	return 0;
}
