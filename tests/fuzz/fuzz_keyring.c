/* fuzz_keyring.c - the storage key of the fuzz targets. */
#include "dmf-build.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_keyring.h"
#include "lib/config.h"

struct crypto_keyring *fuzz_keyring(void)
{
	static struct crypto_keyring *ring;
	char keyfile[64], yaml[256], *err = NULL;
	struct config *cfg = NULL;
	FILE *f;

	if (ring != NULL)
		return ring;
	snprintf(keyfile, sizeof(keyfile), "/tmp/dmf-fuzz-key.%d",
		 (int)getpid());
	f = fopen(keyfile, "w");
	if (f == NULL)
		abort();
	fputs("000102030405060708090a0b0c0d0e0f"
	      "101112131415161718191a1b1c1d1e1f\n",
	      f);
	fclose(f);
	snprintf(yaml, sizeof(yaml), "k1:\n  file: %s\n", keyfile);
	if (config_load_string(yaml, "keys.yml", NULL, &cfg, &err) < 0 ||
	    crypto_keyring_load(cfg->root, &ring, &err) < 0)
		abort();
	/* keys are read at load: the file is no longer needed */
	unlink(keyfile);
	config_free(&cfg);
	return ring;
}
