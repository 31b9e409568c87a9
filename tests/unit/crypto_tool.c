/* crypto_tool.c - drives core/crypto.c from test_crypto_keytool.sh:
 *   crypto_tool key FILE SECRET ALIAS          -> hex of the key
 *   crypto_tool wrap FILE SECRET NAME PASSWORD -> "IV CIPHERTEXT"
 *   crypto_tool unwrap FILE SECRET NAME IV CT  -> the password
 * FILE is given as configured ("keystore:/path" or a plain key file);
 * wrap/unwrap go through a keyring built from a YAML configuration.
 * Errors print "error: MESSAGE" on stdout and exit 1. */
#include "dmf-build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "crypto/crypto.h"
#include "lib/util.h"

static struct crypto_keyring *ring_for(const char *file, const char *secret,
				       const char *name)
{
	struct crypto_keyring *ring = NULL;
	struct config *cfg = NULL;
	char *err = NULL;
	char *yaml = xasprintf("storageKeys:\n  %s:\n    file: \"%s\"\n"
			       "    secret: \"%s\"\n",
			       name, file, secret);

	if (config_load_string(yaml, "tool.yml", NULL, &cfg, &err) < 0 ||
	    crypto_keyring_load(cfg_child(cfg->root, "storageKeys"), &ring,
				&err) < 0) {
		printf("error: %s\n", err);
		fflush(stdout);
		exit(1);
	}
	free(yaml);
	/* the keyring copied what it needs */
	config_free(&cfg);
	return ring;
}

int main(int argc, char **argv)
{
	struct crypto_keyring *ring;
	char *err = NULL, *a = NULL, *b = NULL;
	unsigned char key[CRYPTO_KEY_LEN];

	if (argc == 5 && strcmp(argv[1], "key") == 0) {
		if (crypto_read_key(argv[2], argv[3], argv[4], key, &err) < 0) {
			printf("error: %s\n", err);
			free(err);
			fflush(stdout);
			return 1;
		}
		for (size_t i = 0; i < sizeof(key); i++)
			printf("%02x", key[i]);
		printf("\n");
		return 0;
	}
	if (argc == 6 && strcmp(argv[1], "wrap") == 0) {
		ring = ring_for(argv[2], argv[3], argv[4]);
		if (crypto_wrap(ring, argv[4], argv[5], &a, &b, &err) < 0) {
			printf("error: %s\n", err);
			free(err);
			crypto_keyring_free(&ring);
			fflush(stdout);
			return 1;
		}
		printf("%s %s\n", a, b);
		free(a);
		free(b);
		crypto_keyring_free(&ring);
		return 0;
	}
	if (argc == 7 && strcmp(argv[1], "unwrap") == 0) {
		ring = ring_for(argv[2], argv[3], argv[4]);
		if (crypto_unwrap(ring, argv[4], argv[5], argv[6], &a, &err) <
		    0) {
			printf("error: %s\n", err);
			free(err);
			crypto_keyring_free(&ring);
			fflush(stdout);
			return 1;
		}
		printf("%s\n", a);
		crypto_free_secret(&a);
		crypto_keyring_free(&ring);
		return 0;
	}
	fprintf(stderr, "usage: crypto_tool key|wrap|unwrap ...\n");
	return 2;
}
