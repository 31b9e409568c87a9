/*
 * test_http_keystore.c - core/http/http_keystore.c, the HTTPS server's
 * PKCS#12 reader, over the keystores of tests/fuzz/seeds/keystore/ (made
 * by `openssl pkcs12 -export` as dmf-worker-gen-certs does, by `keytool
 * -genkeypair -storetype pkcs12`, with -legacy RC2-40 certificate bags,
 * with a CA chain, and one holding only a certificate; all with the
 * password "password"), and its failures.  The legacy provider, loaded
 * for a legacy keystore or a wrong password, must be unloaded again:
 * fuzz_keystore found its handle lost at exit (116 allocations, 6.5 kB).
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/provider.h>
#endif

#include "http/http_keystore.h"
#include "lib/util.h"
#include "../tap.h"

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL;
	     p += strlen(needle))
		n++;
	return n;
}

static char *seed(const char *name)
{
	return xasprintf("%s/%s", KEYSTORE_DIR, name);
}

static int legacy_loaded(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	return OSSL_PROVIDER_available(NULL, "legacy");
#else
	return 0;
#endif
}

/* Read `name` with "password": the key and `certs` certificates. */
static void good(const char *name, const char *prefix, int certs)
{
	struct http_pem pem = { (char *)"x", (char *)"x" };
	char *path = seed(name), *spec = xasprintf("%s%s", prefix, path);
	char *err = NULL;

	is_int(http_keystore_load(spec, "password", &pem, &err), 0,
	       "%s%s reads", prefix, name);
	is_str(err, NULL, "%s: no error", name);
	like(pem.key, "-----BEGIN PRIVATE KEY-----", "%s: PEM private key",
	     name);
	is_int(count(pem.key, "-----END PRIVATE KEY-----"), 1, "%s: one key",
	       name);
	is_int(count(pem.cert, "-----BEGIN CERTIFICATE-----"), certs,
	       "%s: %d certificate(s)", name, certs);
	http_pem_clear(&pem);
	ok(pem.key == NULL && pem.cert == NULL, "%s: cleared", name);
	ok(!legacy_loaded(), "%s: legacy provider not left loaded", name);
	free(err);
	free(spec);
	free(path);
}

static void bad(const char *path, const char *pass, int want, const char *msg,
		const char *what)
{
	struct http_pem pem = { (char *)"x", (char *)"x" };
	char *err = NULL;

	is_int(http_keystore_load(path, pass, &pem, &err), want, "%s fails",
	       what);
	like(err, msg, "%s: its message", what);
	ok(pem.key == NULL && pem.cert == NULL, "%s: no PEM texts", what);
	ok(!legacy_loaded(), "%s: legacy provider not left loaded", what);
	if (pass != NULL && *pass != '\0' && err != NULL)
		ok(strstr(err, pass) == NULL, "%s: password not in message",
		   what);
	free(err);
}

int main(void)
{
	char *p;

	plan_lazy();
	good("openssl.p12", "", 1);
	good("openssl.p12", "file:", 1);
	good("keytool.p12", "", 1);
	good("chain-noiter.p12", "", 2);
	good("legacy.p12", "", 1);
	/* the default provider still works once the legacy one is gone */
	good("openssl.p12", "", 1);
	{
		EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);

		ok(md != NULL, "SHA-256 still fetchable after a legacy read");
		EVP_MD_free(md);
	}
	/* a legacy keystore read many times: nothing piles up (the ASan
	 * and valgrind runs of this test count the leaks) */
	p = seed("legacy.p12");
	{
		int fails = 0;

		for (int i = 0; i < 50; i++) {
			struct http_pem pem;
			char *err = NULL;

			if (http_keystore_load(p, "password", &pem, &err) != 0)
				fails++;
			http_pem_clear(&pem);
			free(err);
		}
		is_int(fails, 0, "legacy keystore read 50 times");
	}
	bad(p, "wrong-secret", -EINVAL,
	    "wrong micronaut.ssl.key-store.password",
	    "legacy keystore, wrong password");
	free(p);
	p = seed("openssl.p12");
	bad(p, "wrong-secret", -EINVAL,
	    "wrong micronaut.ssl.key-store.password", "wrong password");
	bad(p, NULL, -EINVAL, "wrong micronaut.ssl.key-store.password",
	    "no password for a protected keystore");
	free(p);
	p = seed("certonly.p12");
	bad(p, "password", -EINVAL, "holds no private key with its certificate",
	    "certificate-only keystore");
	free(p);
	bad(__FILE__, "password", -EINVAL, "is not a PKCS#12 file", "a C file");
	bad("/nonexistent/keystore.p12", "password", -ENOENT,
	    "cannot open keystore /nonexistent/keystore.p12", "missing file");
	bad("file:/nonexistent/k.p12", "password", -ENOENT,
	    "cannot open keystore /nonexistent/k.p12",
	    "missing file with file: prefix");
	bad("", "password", -EINVAL, "key-store.path is not set", "empty path");
	bad(NULL, "password", -EINVAL, "key-store.path is not set", "no path");
	return done_testing();
}
