/* crypto.c - storage keys (plain files, PKCS#12 secret bags) and AES-256
 * password wrapping. */
#include "dmf-build.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "lib/util.h"

#define GCM_IV_LEN 12
#define GCM_TAG_LEN 16
#define CBC_IV_LEN 16

struct storage_key {
	char *name;
	char *file;
	char *secret;
	char *alias;
	unsigned char key[CRYPTO_KEY_LEN];
	bool loaded;
	char *error;
	int error_code;
};

struct crypto_keyring {
	pthread_mutex_t lock;
	struct storage_key *keys;
	size_t n;
};

void crypto_free_secret(char **secret)
{
	secret_free(secret);
}

/* --- base64 --- */

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int crypto_base64_decode(const char *text, unsigned char **out_r, size_t *len_r)
{
	size_t cap = strlen(text) / 4 * 3 + 3, n = 0;
	unsigned char *out = malloc(cap + 1);
	unsigned acc = 0;
	int bits = 0, pad = 0;

	if (out == NULL)
		return -ENOMEM;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		int v;

		if (isspace(*p))
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		v = b64_value(*p);
		if (v < 0 || pad > 0) {
			OPENSSL_cleanse(out, cap);
			free(out);
			return -EINVAL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (bits >= 6 || pad > 2) { /* a lone sextet is not valid base64 */
		OPENSSL_cleanse(out, cap);
		free(out);
		return -EINVAL;
	}
	*out_r = out;
	*len_r = n;
	return 0;
}

char *crypto_base64_encode(const unsigned char *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* --- key files --- */

static int read_file(const char *path, unsigned char **data_r, size_t *len_r,
		     char **error_r)
{
	FILE *f = fopen(path, "rbe");
	unsigned char *buf;
	size_t n;

	if (f == NULL) {
		int err = errno;

		*error_r = xasprintf("cannot read key file %s: %s", path,
				     strerror(err));
		return -err;
	}
	buf = malloc(65536);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, 65536, f);
	if (ferror(f) || n == 65536) {
		fclose(f);
		OPENSSL_cleanse(buf, 65536);
		free(buf);
		*error_r = xasprintf("cannot read key file %s: %s", path,
				     n == 65536 ? "too large" : "read error");
		return -EIO;
	}
	fclose(f);
	*data_r = buf;
	*len_r = n;
	return 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int read_plain_key(const char *path, unsigned char key[CRYPTO_KEY_LEN],
			  char **error_r)
{
	unsigned char *data = NULL, *dec = NULL;
	size_t len = 0, start = 0, end, dlen = 0;
	int ret = read_file(path, &data, &len, error_r);

	if (ret < 0)
		return ret;
	if (len == CRYPTO_KEY_LEN) {
		memcpy(key, data, CRYPTO_KEY_LEN);
		goto out;
	}
	end = len;
	while (start < end && isspace(data[start]))
		start++;
	while (end > start && isspace(data[end - 1]))
		end--;
	if (end - start == 2 * CRYPTO_KEY_LEN) {
		bool hex = true;

		for (size_t i = 0; i < CRYPTO_KEY_LEN && hex; i++) {
			int hi = hexval(data[start + 2 * i]);
			int lo = hexval(data[start + 2 * i + 1]);

			if (hi < 0 || lo < 0)
				hex = false;
			else
				key[i] = (unsigned char)(hi << 4 | lo);
		}
		if (hex)
			goto out;
	}
	data[end] = '\0';
	if (memchr(data + start, '\0', end - start) == NULL &&
	    crypto_base64_decode((char *)data + start, &dec, &dlen) == 0 &&
	    dlen == CRYPTO_KEY_LEN) {
		memcpy(key, dec, CRYPTO_KEY_LEN);
		goto out;
	}
	*error_r = xasprintf("key file %s holds no AES-256 key (expected 32 "
			     "raw bytes, or 32 bytes as base64 or hex text)",
			     path);
	ret = -EINVAL;
out:
	if (dec != NULL) {
		OPENSSL_cleanse(dec, dlen);
		free(dec);
	}
	OPENSSL_cleanse(data, 65536);
	free(data);
	return ret;
}

/* Look at one safe bag; 1 when it is the key (copied), 0 when not ours. */
static int secret_bag_key(PKCS12_SAFEBAG *bag, const char *path,
			  const char *secret, const char *alias,
			  unsigned char key[CRYPTO_KEY_LEN], char **error_r)
{
	const ASN1_TYPE *value;
	const ASN1_OBJECT *type;
	const unsigned char *der, *pk = NULL;
	X509_SIG *sig;
	PKCS8_PRIV_KEY_INFO *p8;
	char *name;
	int pklen = 0, match;

	if (PKCS12_SAFEBAG_get_nid(bag) != NID_secretBag)
		return 0;
	name = PKCS12_get_friendlyname(bag);
	match = name != NULL && strcasecmp(name, alias) == 0;
	OPENSSL_free(name);
	if (!match)
		return 0;
	type = PKCS12_SAFEBAG_get0_bag_type(bag);
	value = PKCS12_SAFEBAG_get0_bag_obj(bag);
	if (type == NULL || OBJ_obj2nid(type) != NID_pkcs8ShroudedKeyBag ||
	    value == NULL ||
	    (value->type != V_ASN1_SEQUENCE &&
	     value->type != V_ASN1_OCTET_STRING)) {
		*error_r = xasprintf("keystore %s: entry '%s' is not a "
				     "PKCS#8-shrouded secret key",
				     path, alias);
		return -EINVAL;
	}
	/* keytool stores the EncryptedPrivateKeyInfo DER in an OCTET STRING;
	 * others put the SEQUENCE itself: both are an ASN1_STRING here */
	der = value->value.asn1_string->data;
	sig = d2i_X509_SIG(NULL, &der, value->value.asn1_string->length);
	if (sig == NULL) {
		*error_r = xasprintf("keystore %s: entry '%s' is damaged", path,
				     alias);
		return -EINVAL;
	}
	p8 = PKCS8_decrypt(sig, secret, -1);
	X509_SIG_free(sig);
	if (p8 == NULL) {
		*error_r = xasprintf("keystore %s: cannot decrypt entry '%s': "
				     "wrong secret",
				     path, alias);
		return -EKEYREJECTED;
	}
	if (PKCS8_pkey_get0(NULL, &pk, &pklen, NULL, p8) != 1 ||
	    pklen != CRYPTO_KEY_LEN) {
		PKCS8_PRIV_KEY_INFO_free(p8);
		*error_r = xasprintf("keystore %s: entry '%s' is not an "
				     "AES-256 key (%d bytes)",
				     path, alias, pklen);
		return -EINVAL;
	}
	memcpy(key, pk, CRYPTO_KEY_LEN);
	PKCS8_PRIV_KEY_INFO_free(p8); /* clears the key material */
	return 1;
}

static int read_keystore(const char *path, const char *secret,
			 const char *alias, unsigned char key[CRYPTO_KEY_LEN],
			 char **error_r)
{
	FILE *f = fopen(path, "rbe");
	STACK_OF(PKCS7) *safes = NULL;
	PKCS12 *p12;
	int ret = 0;

	if (f == NULL) {
		int err = errno;

		*error_r = xasprintf("cannot read keystore %s: %s", path,
				     strerror(err));
		return -err;
	}
	p12 = d2i_PKCS12_fp(f, NULL);
	fclose(f);
	if (p12 == NULL) {
		*error_r = xasprintf("keystore %s is not a PKCS#12 file", path);
		return -EINVAL;
	}
	if (secret == NULL)
		secret = "";
	if (PKCS12_mac_present(p12) && !PKCS12_verify_mac(p12, secret, -1)) {
		*error_r = xasprintf("keystore %s: wrong secret (MAC "
				     "verification failed)",
				     path);
		ret = -EKEYREJECTED;
		goto out;
	}
	safes = PKCS12_unpack_authsafes(p12);
	if (safes == NULL) {
		*error_r = xasprintf("keystore %s is damaged", path);
		ret = -EINVAL;
		goto out;
	}
	for (int i = 0; ret == 0 && i < sk_PKCS7_num(safes); i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);
		STACK_OF(PKCS12_SAFEBAG) *bags = NULL;

		if (PKCS7_type_is_data(p7))
			bags = PKCS12_unpack_p7data(p7);
		else if (PKCS7_type_is_encrypted(p7))
			bags = PKCS12_unpack_p7encdata(p7, secret, -1);
		for (int j = 0; ret == 0 && bags != NULL &&
				j < sk_PKCS12_SAFEBAG_num(bags);
		     j++)
			ret = secret_bag_key(sk_PKCS12_SAFEBAG_value(bags, j),
					     path, secret, alias, key, error_r);
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	if (ret == 0) {
		*error_r = xasprintf("keystore %s has no secret key with alias "
				     "'%s'",
				     path, alias);
		ret = -ENOKEY;
	}
out:
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	return ret < 0 ? ret : 0;
}

int crypto_read_key(const char *file, const char *secret, const char *alias,
		    unsigned char key[CRYPTO_KEY_LEN], char **error_r)
{
	if (strncmp(file, "keystore:", 9) == 0) {
		file += 9;
		if (strncmp(file, "file:", 5) == 0)
			file += 5;
		return read_keystore(file, secret, alias, key, error_r);
	}
	if (strncmp(file, "file:", 5) == 0)
		file += 5;
	return read_plain_key(file, key, error_r);
}

/* --- keyring --- */

static const char *scalar(const struct cfg_node *n)
{
	return n != NULL && n->kind == CFG_SCALAR ? n->value : NULL;
}

static void load_key(struct storage_key *k)
{
	char *error = NULL;
	int ret;

	ret = crypto_read_key(k->file, k->secret,
			      k->alias != NULL ? k->alias : k->name, k->key,
			      &error);
	free(k->error);
	k->error = NULL;
	if (ret < 0) {
		OPENSSL_cleanse(k->key, sizeof(k->key));
		k->error = xasprintf("storage key '%s': %s", k->name,
				     error != NULL ? error : strerror(-ret));
		k->error_code = ret;
	}
	free(error);
	k->loaded = ret == 0;
}

int crypto_keyring_load(const struct cfg_node *storage_keys,
			struct crypto_keyring **ring_r, char **error_r)
{
	struct crypto_keyring *ring = calloc(1, sizeof(*ring));
	size_t n;

	if (ring == NULL)
		return -ENOMEM;
	pthread_mutex_init(&ring->lock, NULL);
	*ring_r = NULL;
	if (storage_keys == NULL || storage_keys->kind == CFG_NULL) {
		*ring_r = ring;
		return 0;
	}
	if (storage_keys->kind != CFG_MAP) {
		*error_r = xstrdup("dmf.worker.crypto.storageKeys must be a "
				   "map of key names");
		crypto_keyring_free(&ring);
		return -EINVAL;
	}
	n = storage_keys->n_children;
	ring->keys = calloc(n ? n : 1, sizeof(*ring->keys));
	if (ring->keys == NULL) {
		crypto_keyring_free(&ring);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cfg_node *e = storage_keys->children[i];
		struct storage_key *k = &ring->keys[ring->n];
		const char *file = scalar(cfg_child(e, "file"));

		if (e->kind != CFG_MAP || file == NULL || *file == '\0') {
			*error_r =
				xasprintf("dmf.worker.crypto.storageKeys.%s: "
					  "needs a 'file'",
					  e->key != NULL ? e->key : "?");
			crypto_keyring_free(&ring);
			return -EINVAL;
		}
		k->name = xstrdup(e->key);
		k->file = xstrdup(file);
		k->secret = xstrdup(scalar(cfg_child(e, "secret")));
		k->alias = xstrdup(scalar(cfg_child(e, "alias")));
		ring->n++;
		if (k->name == NULL || k->file == NULL) {
			crypto_keyring_free(&ring);
			return -ENOMEM;
		}
		load_key(k);
	}
	*ring_r = ring;
	return 0;
}

void crypto_keyring_free(struct crypto_keyring **ringp)
{
	struct crypto_keyring *ring;

	if (ringp == NULL || *ringp == NULL)
		return;
	ring = *ringp;
	*ringp = NULL;
	for (size_t i = 0; i < ring->n; i++) {
		struct storage_key *k = &ring->keys[i];

		OPENSSL_cleanse(k->key, sizeof(k->key));
		free(k->name);
		free(k->file);
		secret_free(&k->secret);
		free(k->alias);
		free(k->error);
	}
	free(ring->keys);
	pthread_mutex_destroy(&ring->lock);
	free(ring);
}

size_t crypto_keyring_count(const struct crypto_keyring *ring)
{
	return ring != NULL ? ring->n : 0;
}

const char *crypto_keyring_check(struct crypto_keyring *ring, size_t i,
				 const char **name_r)
{
	const char *err;

	if (ring == NULL || i >= ring->n)
		return NULL;
	pthread_mutex_lock(&ring->lock);
	*name_r = ring->keys[i].name;
	err = ring->keys[i].loaded ? NULL : ring->keys[i].error;
	pthread_mutex_unlock(&ring->lock);
	return err;
}

/* Copy the key named `name` into key (loading it again if it failed). */
static int get_key(struct crypto_keyring *ring, const char *name,
		   unsigned char key[CRYPTO_KEY_LEN], char **error_r)
{
	int ret = -ENOKEY;
	bool found = false;

	if (name == NULL || *name == '\0') {
		*error_r = xstrdup("no storage key name given for the wrapped "
				   "password");
		return -ENOKEY;
	}
	if (ring == NULL) {
		*error_r = xasprintf("unknown storage key '%s' (no "
				     "dmf.worker.crypto.storageKeys)",
				     name);
		return -ENOKEY;
	}
	pthread_mutex_lock(&ring->lock);
	for (size_t i = 0; i < ring->n; i++) {
		struct storage_key *k = &ring->keys[i];

		if (strcmp(k->name, name) != 0)
			continue;
		found = true;
		if (!k->loaded)
			load_key(k);
		if (k->loaded) {
			memcpy(key, k->key, CRYPTO_KEY_LEN);
			ret = 0;
		} else {
			*error_r = xstrdup(k->error);
			ret = k->error_code;
		}
		break;
	}
	pthread_mutex_unlock(&ring->lock);
	if (!found)
		*error_r = xasprintf("unknown storage key '%s' (not in "
				     "dmf.worker.crypto.storageKeys)",
				     name);
	return ret;
}

/* --- wrapping --- */

int crypto_unwrap_raw(const unsigned char key[CRYPTO_KEY_LEN],
		      const unsigned char *iv, size_t iv_len,
		      const unsigned char *ct, size_t ct_len, char **password_r,
		      char **error_r)
{
	EVP_CIPHER_CTX *ctx;
	unsigned char *out;
	int len1 = 0, len2 = 0, ok;
	bool gcm = iv_len == GCM_IV_LEN;
	size_t body = ct_len;

	if (iv_len != GCM_IV_LEN && iv_len != CBC_IV_LEN) {
		*error_r = xasprintf("the IV has %zu bytes: expected 12 "
				     "(AES-256-GCM) or 16 (AES-256-CBC)",
				     iv_len);
		return -EINVAL;
	}
	if (gcm && ct_len < GCM_TAG_LEN) {
		*error_r = xasprintf("wrapped password truncated (%zu bytes, "
				     "shorter than the GCM tag)",
				     ct_len);
		return -EMSGSIZE;
	}
	if (!gcm && (ct_len == 0 || ct_len % 16 != 0)) {
		*error_r = xasprintf("wrapped password truncated (%zu bytes, "
				     "not a whole number of AES blocks)",
				     ct_len);
		return -EMSGSIZE;
	}
	if (gcm)
		body = ct_len - GCM_TAG_LEN;
	out = malloc(body + 32);
	ctx = EVP_CIPHER_CTX_new();
	if (out == NULL || ctx == NULL) {
		free(out);
		EVP_CIPHER_CTX_free(ctx);
		return -ENOMEM;
	}
	if (gcm) {
		ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL,
					NULL) == 1 &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
					 GCM_IV_LEN, NULL) == 1 &&
		     EVP_DecryptInit_ex(ctx, NULL, NULL, key, iv) == 1 &&
		     EVP_DecryptUpdate(ctx, out, &len1, ct, (int)body) == 1 &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN,
					 (void *)(ct + body)) == 1 &&
		     EVP_DecryptFinal_ex(ctx, out + len1, &len2) == 1;
	} else {
		ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key,
					iv) == 1 &&
		     EVP_DecryptUpdate(ctx, out, &len1, ct, (int)ct_len) == 1 &&
		     EVP_DecryptFinal_ex(ctx, out + len1, &len2) == 1;
	}
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		OPENSSL_cleanse(out, body + 32);
		free(out);
		*error_r = xstrdup(
			gcm ? "wrapped password failed authentication (wrong "
			      "key or tampered ciphertext)" :
			      "wrapped password has bad padding (wrong key or "
			      "tampered ciphertext)");
		return -EBADMSG;
	}
	out[len1 + len2] = '\0';
	if (memchr(out, '\0', (size_t)(len1 + len2)) != NULL) {
		OPENSSL_cleanse(out, body + 32);
		free(out);
		*error_r = xstrdup("unwrapped password contains a NUL byte "
				   "(wrong key?)");
		return -EBADMSG;
	}
	*password_r = (char *)out;
	return 0;
}

int crypto_unwrap(struct crypto_keyring *ring, const char *key_name,
		  const char *iv, const char *ciphertext, char **password_r,
		  char **error_r)
{
	unsigned char key[CRYPTO_KEY_LEN], *ivb = NULL, *ctb = NULL;
	size_t ivl = 0, ctl = 0;
	int ret;

	if (iv == NULL || crypto_base64_decode(iv, &ivb, &ivl) < 0) {
		*error_r = xstrdup("the stored IV is missing or not base64");
		return -EINVAL;
	}
	if (ciphertext == NULL ||
	    crypto_base64_decode(ciphertext, &ctb, &ctl) < 0) {
		free(ivb);
		*error_r = xstrdup("the wrapped password is missing or not "
				   "base64");
		return -EINVAL;
	}
	ret = get_key(ring, key_name, key, error_r);
	if (ret == 0) {
		char *err = NULL;

		ret = crypto_unwrap_raw(key, ivb, ivl, ctb, ctl, password_r,
					&err);
		if (ret < 0) {
			*error_r =
				xasprintf("storage key '%s': %s", key_name,
					  err != NULL ? err : strerror(-ret));
			free(err);
		}
	}
	OPENSSL_cleanse(key, sizeof(key));
	free(ivb);
	free(ctb);
	return ret;
}

int crypto_wrap_raw(const unsigned char key[CRYPTO_KEY_LEN],
		    const char *password, char **iv_r, char **ciphertext_r,
		    char **error_r)
{
	unsigned char iv[GCM_IV_LEN], *out;
	size_t len = strlen(password);
	EVP_CIPHER_CTX *ctx;
	int l1 = 0, l2 = 0, ok;
	char *ivs, *cts;

	if (RAND_bytes(iv, sizeof(iv)) != 1) {
		*error_r = xstrdup("no random bytes for the IV");
		return -EIO;
	}
	out = malloc(len + GCM_TAG_LEN + 16);
	ctx = EVP_CIPHER_CTX_new();
	if (out == NULL || ctx == NULL) {
		free(out);
		EVP_CIPHER_CTX_free(ctx);
		return -ENOMEM;
	}
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) ==
		     1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_IV_LEN,
				 NULL) == 1 &&
	     EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) == 1 &&
	     EVP_EncryptUpdate(ctx, out, &l1, (const unsigned char *)password,
			       (int)len) == 1 &&
	     EVP_EncryptFinal_ex(ctx, out + l1, &l2) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN,
				 out + l1 + l2) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		OPENSSL_cleanse(out, len + GCM_TAG_LEN + 16);
		free(out);
		*error_r = xstrdup("AES-256-GCM encryption failed");
		return -EIO;
	}
	ivs = crypto_base64_encode(iv, sizeof(iv));
	cts = crypto_base64_encode(out, (size_t)(l1 + l2) + GCM_TAG_LEN);
	free(out);
	if (ivs == NULL || cts == NULL) {
		free(ivs);
		free(cts);
		return -ENOMEM;
	}
	*iv_r = ivs;
	*ciphertext_r = cts;
	return 0;
}

int crypto_wrap(struct crypto_keyring *ring, const char *key_name,
		const char *password, char **iv_r, char **ciphertext_r,
		char **error_r)
{
	unsigned char key[CRYPTO_KEY_LEN];
	int ret = get_key(ring, key_name, key, error_r);

	if (ret == 0)
		ret = crypto_wrap_raw(key, password, iv_r, ciphertext_r,
				      error_r);
	OPENSSL_cleanse(key, sizeof(key));
	return ret;
}
