/*
 * fuzz_pkcs12.c - the keytool PKCS#12 reader of the storage keys
 * (core/crypto/crypto.c, crypto_read_key "keystore:PATH"): the input is
 * the keystore file, read with the store secret "password" and alias
 * "key1"; also as a plain key file.
 */
#include "dmf-build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char key[CRYPTO_KEY_LEN];
	const char *path = fuzz_file("p12", data, size);
	char spec[128], *error = NULL;

	if (path == NULL)
		return 0;
	snprintf(spec, sizeof(spec), "keystore:%s", path);
	crypto_read_key(spec, "password", "key1", key, &error);
	free(error);
	error = NULL;
	crypto_read_key(path, NULL, NULL, key, &error);
	free(error);
	unlink(path);
	return 0;
}
