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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char key[CRYPTO_KEY_LEN];
	char spec[96], *error = NULL;
	FILE *f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/dmf-fuzz-p12.%d",
			 (int)getpid());
	f = fopen(path, "wb");
	if (f == NULL)
		return 0;
	if (size > 0 && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return 0;
	}
	fclose(f);
	snprintf(spec, sizeof(spec), "keystore:%s", path);
	crypto_read_key(spec, "password", "key1", key, &error);
	free(error);
	error = NULL;
	crypto_read_key(path, NULL, NULL, key, &error);
	free(error);
	unlink(path);
	return 0;
}
