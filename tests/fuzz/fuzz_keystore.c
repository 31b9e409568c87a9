/*
 * fuzz_keystore.c - the TLS keystore reader of the worker's HTTPS server
 * (core/http/http_keystore.c, http_keystore_load): the input is the
 * micronaut.ssl.key-store.path file, read with the store password
 * "password" (the seeds' password, so that a mutated file gets past the
 * MAC check now and then) and, as "file:PATH", with none (NULL); a
 * successful read must hand over both PEM texts, which are cleared as
 * the server does; a failed one must name its reason and leave nothing.
 */
#include "dmf-build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "http/http_keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load(const char *file, const char *password)
{
	struct http_pem pem;
	char *error = NULL;

	if (http_keystore_load(file, password, &pem, &error) == 0) {
		if (pem.key == NULL || pem.cert == NULL ||
		    strstr(pem.key, "-----BEGIN ") == NULL ||
		    strstr(pem.cert, "-----BEGIN CERTIFICATE-----") == NULL)
			abort();
		http_pem_clear(&pem);
		if (pem.key != NULL || pem.cert != NULL)
			abort();
	} else if (error == NULL || pem.key != NULL || pem.cert != NULL) {
		abort();
	}
	free(error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("keystore", data, size);
	char spec[128];

	if (path == NULL)
		return 0;
	load(path, "password");
	snprintf(spec, sizeof(spec), "file:%s", path);
	load(spec, NULL);
	unlink(path);
	return 0;
}
