/*
 * http_keystore.h - the server's TLS key and certificate chain from a
 * PKCS#12 keystore (this project's dmf-worker-gen-certs, or a JDK keytool
 * -genkeypair -storetype pkcs12), read with OpenSSL and handed to
 * libmicrohttpd (GnuTLS) as PEM text in memory.
 */
#ifndef DMF_HTTP_KEYSTORE_H
#define DMF_HTTP_KEYSTORE_H

struct http_pem {
	char *key; /* PEM private key (secret: wiped by http_pem_clear) */
	char *cert; /* PEM certificate, then the CA chain */
};

/*
 * Read the PKCS#12 file `path` ("file:" prefix allowed) with `password`
 * (NULL or "" for none).  0, or a negative errno with *error_r
 * (allocated) naming the file and what is wrong.
 */
int http_keystore_load(const char *path, const char *password,
		       struct http_pem *pem_r, char **error_r);
/* Wipe and free both texts. */
void http_pem_clear(struct http_pem *pem);

#endif
