/* http_keystore.c - PKCS#12 keystore to PEM key and chain (OpenSSL). */
#include "dmf-build.h"

#include "http/http_keystore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/provider.h>
#endif

#include "lib/util.h"

static char *bio_text(BIO *bio)
{
	char *data = NULL, *out;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0)
		return NULL;
	out = malloc((size_t)n + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	return out;
}

static const char *ssl_error(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, size, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

/* Older JDKs protect certificate bags with RC2-40: OpenSSL 3 reads them
 * only with the legacy provider loaded next to the default one.  Both are
 * loaded for the second attempt only and unloaded after it: a handle kept
 * loaded is never freed (OpenSSL's cleanup at exit drops only its own
 * reference, so LeakSanitizer and valgrind found the provider's 116
 * allocations lost after any legacy keystore or wrong password), and the
 * legacy algorithms stay unavailable to the rest of the process.  The
 * default provider, already active before (the first attempt activated
 * it), stays active when its extra reference is dropped. */
static int parse(PKCS12 *p12, const char *pass, EVP_PKEY **pkey, X509 **cert,
		 STACK_OF(X509) * *ca)
{
	int ret;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	OSSL_PROVIDER *legacy, *dflt = NULL;
#endif

	if (PKCS12_parse(p12, pass, pkey, cert, ca) == 1)
		return 0;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	legacy = OSSL_PROVIDER_load(NULL, "legacy");
	if (legacy != NULL)
		dflt = OSSL_PROVIDER_load(NULL, "default");
	ERR_clear_error();
#endif
	ret = PKCS12_parse(p12, pass, pkey, cert, ca) == 1 ? 0 : -1;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	if (dflt != NULL)
		OSSL_PROVIDER_unload(dflt);
	if (legacy != NULL)
		OSSL_PROVIDER_unload(legacy);
#endif
	return ret;
}

int http_keystore_load(const char *path, const char *password,
		       struct http_pem *pem_r, char **error_r)
{
	STACK_OF(X509) *ca = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	PKCS12 *p12 = NULL;
	BIO *in = NULL, *kb = NULL, *cb = NULL;
	char err[256];
	int ret = -EINVAL;

	pem_r->key = NULL;
	pem_r->cert = NULL;
	if (path == NULL || *path == '\0') {
		*error_r = xasprintf("micronaut.ssl.key-store.path is not set");
		return -EINVAL;
	}
	if (strncmp(path, "file:", 5) == 0)
		path += 5;
	in = BIO_new_file(path, "rb");
	if (in == NULL) {
		ERR_clear_error();
		ret = -errno;
		*error_r = xasprintf("cannot open keystore %s: %s", path,
				     dmf_strerror(ret != 0 ? ret : -EIO));
		return ret != 0 ? ret : -EIO;
	}
	p12 = d2i_PKCS12_bio(in, NULL);
	if (p12 == NULL) {
		*error_r = xasprintf("keystore %s is not a PKCS#12 file: %s",
				     path, ssl_error(err, sizeof(err)));
		goto out;
	}
	if (parse(p12, password != NULL ? password : "", &pkey, &cert, &ca) <
	    0) {
		*error_r = xasprintf("cannot read keystore %s (wrong "
				     "micronaut.ssl.key-store.password?): %s",
				     path, ssl_error(err, sizeof(err)));
		goto out;
	}
	if (pkey == NULL || cert == NULL) {
		*error_r = xasprintf("keystore %s holds no private key with "
				     "its certificate",
				     path);
		goto out;
	}
	kb = BIO_new(BIO_s_secmem());
	if (kb == NULL)
		kb = BIO_new(BIO_s_mem());
	cb = BIO_new(BIO_s_mem());
	if (kb == NULL || cb == NULL ||
	    PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) !=
		    1 ||
	    PEM_write_bio_X509(cb, cert) != 1) {
		*error_r = xasprintf("keystore %s: cannot convert to PEM: %s",
				     path, ssl_error(err, sizeof(err)));
		goto out;
	}
	for (int i = 0; ca != NULL && i < sk_X509_num(ca); i++)
		PEM_write_bio_X509(cb, sk_X509_value(ca, i));
	pem_r->key = bio_text(kb);
	pem_r->cert = bio_text(cb);
	if (pem_r->key == NULL || pem_r->cert == NULL) {
		http_pem_clear(pem_r);
		ret = -ENOMEM;
		*error_r = xasprintf("out of memory");
		goto out;
	}
	ret = 0;
out:
	BIO_free(in);
	BIO_free(kb);
	BIO_free(cb);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	return ret;
}

void http_pem_clear(struct http_pem *pem)
{
	secret_free(&pem->key);
	free(pem->cert);
	pem->cert = NULL;
}
