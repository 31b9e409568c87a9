/* test_crypto.c - base64, AES-256-GCM/CBC (un)wrapping, plain key files,
 * the keyring and the crypto host table.  PKCS#12 keystores made by
 * keytool are tested by test_crypto_keytool.sh. */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../tap.h"
#include "lib/config.h"
#include "crypto/crypto.h"
#include "host/host_services.h"
#include "lib/util.h"

static const unsigned char key_a[32] = "0123456789abcdef0123456789ABCDEF";
static const unsigned char key_b[32] = "ffffffffffffffffffffffffffffffff";

static void test_base64(void)
{
	static const struct {
		const char *in;
		const char *out;
		size_t len;
		int ret;
	} cases[] = {
		{ "aGVsbG8=", "hello", 5, 0 },	   { "aGVsbG8", "hello", 5, 0 },
		{ "aGVs\nbG8=\n", "hello", 5, 0 }, { "", "", 0, 0 },
		{ "aGVsbG8=x", NULL, 0, -EINVAL }, { "a", NULL, 0, -EINVAL },
		{ "a*b=", NULL, 0, -EINVAL },
	};
	char *enc;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *out = NULL;
		size_t len = 0;
		int ret = crypto_base64_decode(cases[i].in, &out, &len);

		is_int(ret, cases[i].ret, "base64 %zu", i);
		if (ret == 0)
			ok(len == cases[i].len &&
				   memcmp(out, cases[i].out, len) == 0,
			   "base64 %zu value", i);
		free(out);
	}
	enc = crypto_base64_encode((const unsigned char *)"hello", 5);
	is_str(enc, "aGVsbG8=", "encode");
	free(enc);
}

static int unwrap_b64(const unsigned char *key, const char *iv, const char *ct,
		      char **pw, char **err)
{
	unsigned char *ivb = NULL, *ctb = NULL;
	size_t ivl = 0, ctl = 0;
	int ret;

	crypto_base64_decode(iv, &ivb, &ivl);
	crypto_base64_decode(ct, &ctb, &ctl);
	ret = crypto_unwrap_raw(key, ivb, ivl, ctb, ctl, pw, err);
	free(ivb);
	free(ctb);
	return ret;
}

static void test_gcm(void)
{
	char *iv = NULL, *ct = NULL, *pw = NULL, *err = NULL, *bad;
	const char *secret = "pässwörd with spaces; $(x) `y`";
	size_t l;

	ok(crypto_wrap_raw(key_a, secret, &iv, &ct, &err) == 0, "wrap");
	is_int(strlen(iv), 16, "12-byte IV in base64");
	ok(unwrap_b64(key_a, iv, ct, &pw, &err) == 0, "unwrap");
	is_str(pw, secret, "round trip");
	crypto_free_secret(&pw);
	ok(pw == NULL, "free_secret clears");

	is_int(unwrap_b64(key_b, iv, ct, &pw, &err), -EBADMSG, "wrong key");
	like(err, "failed authentication", "wrong key message");
	free(err);
	err = NULL;

	bad = xstrdup(ct);
	bad[2] = bad[2] == 'A' ? 'B' : 'A';
	is_int(unwrap_b64(key_a, iv, bad, &pw, &err), -EBADMSG, "tampered");
	like(err, "tampered", "tampered message");
	free(err);
	err = NULL;
	free(bad);

	bad = xstrdup("AAAA");
	is_int(unwrap_b64(key_a, iv, bad, &pw, &err), -EMSGSIZE, "truncated");
	like(err, "truncated", "truncated message");
	free(err);
	err = NULL;
	free(bad);

	/* drop the last 4 bytes of tag: still authenticates? no */
	l = strlen(ct);
	bad = xstrdup(ct);
	bad[l - 8] = '\0';
	ok(unwrap_b64(key_a, iv, bad, &pw, &err) < 0, "shortened fails");
	free(err);
	err = NULL;
	free(bad);

	is_int(unwrap_b64(key_a, "AAAA", ct, &pw, &err), -EINVAL,
	       "bad IV length");
	like(err, "expected 12 (AES-256-GCM) or 16 (AES-256-CBC)",
	     "IV length message");
	free(err);
	free(iv);
	free(ct);
}

/* CBC as a Java "AES/CBC/PKCS5Padding" scheduler stores it. */
static void test_cbc(void)
{
	unsigned char iv[16] = "0123456789012345", out[64];
	int l1 = 0, l2 = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	char *pw = NULL, *err = NULL;

	EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key_a, iv);
	EVP_EncryptUpdate(ctx, out, &l1, (const unsigned char *)"cbc-pass", 8);
	EVP_EncryptFinal_ex(ctx, out + l1, &l2);
	EVP_CIPHER_CTX_free(ctx);
	ok(crypto_unwrap_raw(key_a, iv, 16, out, (size_t)(l1 + l2), &pw,
			     &err) == 0,
	   "CBC unwrap");
	is_str(pw, "cbc-pass", "CBC value");
	crypto_free_secret(&pw);
	is_int(crypto_unwrap_raw(key_a, iv, 16, out, 15, &pw, &err), -EMSGSIZE,
	       "CBC truncated");
	like(err, "not a whole number of AES blocks", "CBC truncated message");
	free(err);
	err = NULL;
	out[l1 + l2 - 1] ^= 0x55;
	is_int(crypto_unwrap_raw(key_a, iv, 16, out, (size_t)(l1 + l2), &pw,
				 &err),
	       -EBADMSG, "CBC tampered");
	like(err, "bad padding", "CBC tampered message");
	free(err);
}

static char *write_tmp(const char *dir, const char *name, const void *data,
		       size_t len)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");

	fwrite(data, 1, len, f);
	fclose(f);
	return path;
}

static void test_key_files(const char *dir)
{
	static const char hex[] =
		"3031323334353637383961626364656630313233343536"
		"373839414243444546\n";
	static const char b64[] =
		"  MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY=  \n";
	unsigned char key[32];
	char *p, *err = NULL;

	p = write_tmp(dir, "raw.key", key_a, 32);
	ok(crypto_read_key(p, NULL, "k", key, &err) == 0 &&
		   memcmp(key, key_a, 32) == 0,
	   "raw 32-byte key file");
	free(p);
	p = write_tmp(dir, "hex.key", hex, strlen(hex));
	ok(crypto_read_key(p, NULL, "k", key, &err) == 0 &&
		   memcmp(key, key_a, 32) == 0,
	   "hex key file");
	free(p);
	p = write_tmp(dir, "b64.key", b64, strlen(b64));
	ok(crypto_read_key(p, NULL, "k", key, &err) == 0 &&
		   memcmp(key, key_a, 32) == 0,
	   "base64 key file");
	free(p);
	p = xasprintf("file:%s/b64.key", dir);
	ok(crypto_read_key(p, NULL, "k", key, &err) == 0, "file: prefix");
	free(p);
	p = write_tmp(dir, "short.key", key_a, 31);
	is_int(crypto_read_key(p, NULL, "k", key, &err), -EINVAL,
	       "31 bytes refused");
	like(err, "holds no AES-256 key", "short key message");
	free(err);
	err = NULL;
	free(p);
	p = xasprintf("%s/missing.key", dir);
	is_int(crypto_read_key(p, NULL, "k", key, &err), -ENOENT,
	       "missing file");
	like(err, "cannot read key file", "missing file message");
	free(err);
	err = NULL;
	free(p);
	p = xasprintf("keystore:%s/raw.key", dir);
	is_int(crypto_read_key(p, "pw", "k", key, &err), -EINVAL,
	       "not a keystore");
	like(err, "is not a PKCS#12 file", "not a keystore message");
	free(err);
	free(p);
}

static void test_keyring(const char *dir)
{
	struct crypto_keyring *ring = NULL;
	struct config *cfg = NULL;
	char *yaml, *err = NULL, *iv = NULL, *ct = NULL, *pw = NULL;
	const char *name = NULL, *e = NULL;
	const struct dmf_host_crypto *tbl = host_crypto_table();

	yaml = xasprintf("dmf:\n  worker:\n    crypto:\n      storageKeys:\n"
			 "        key1:\n          file: %s/raw.key\n"
			 "        key2:\n          file: %s/b64.key\n"
			 "        gone:\n          file: %s/later.key\n",
			 dir, dir, dir);
	ok(config_load_string(yaml, "k.yml", NULL, &cfg, &err) == 0,
	   "config: %s", err ? err : "ok");
	ok(crypto_keyring_load(
		   cfg_get(cfg->root, "dmf.worker.crypto.storageKeys"), &ring,
		   &err) == 0,
	   "keyring loads");
	is_int(crypto_keyring_count(ring), 3, "three keys");
	ok(crypto_keyring_check(ring, 0, &name) == NULL, "key1 usable");
	like(crypto_keyring_check(ring, 2, &name), "cannot read key file",
	     "missing file kept as the key's error");
	is_str(name, "gone", "its name");

	ok(crypto_wrap(ring, "key1", "round-trip-pw", &iv, &ct, &err) == 0,
	   "wrap with key1 (what dmfctl job add --password-stdin does)");
	ok(crypto_unwrap(ring, "key1", iv, ct, &pw, &err) == 0,
	   "unwrap with key1");
	is_str(pw, "round-trip-pw", "round trip through the keyring");
	crypto_free_secret(&pw);
	ok(crypto_unwrap(ring, "key2", iv, ct, &pw, &err) == 0,
	   "key2 holds the same key bytes (base64 file)");
	crypto_free_secret(&pw);

	is_int(crypto_unwrap(ring, "nokey", iv, ct, &pw, &err), -ENOKEY,
	       "unknown key name");
	like(err, "unknown storage key 'nokey'", "unknown key message");
	free(err);
	err = NULL;
	is_int(crypto_unwrap(ring, "gone", iv, ct, &pw, &err), -ENOENT,
	       "missing key file fails the job");
	like(err, "storage key 'gone': cannot read key file", "its message");
	free(err);
	err = NULL;
	/* the file appears: the key is read at the next use */
	free(write_tmp(dir, "later.key", key_a, 32));
	ok(crypto_unwrap(ring, "gone", iv, ct, &pw, &err) == 0,
	   "key file that appears later is used");
	crypto_free_secret(&pw);
	is_int(crypto_unwrap(ring, "key1", "%%%", ct, &pw, &err), -EINVAL,
	       "IV not base64");
	like(err, "IV is missing or not base64", "IV message");
	free(err);
	err = NULL;
	is_int(crypto_unwrap(ring, "key1", iv, NULL, &pw, &err), -EINVAL,
	       "no ciphertext");
	free(err);
	err = NULL;

	/* the host table over the same configuration */
	ok(host_crypto_init(cfg, &err) == 0, "host_crypto_init");
	ok(tbl->unwrap_password("key1", iv, ct, &pw, &e) == 0, "table unwrap");
	is_str(pw, "round-trip-pw", "table value");
	tbl->free_secret(&pw);
	ok(tbl->unwrap_password("zzz", iv, ct, &pw, &e) == -ENOKEY,
	   "table unknown key");
	like(e, "unknown storage key 'zzz'", "table message");
	host_crypto_deinit();

	free(iv);
	free(ct);
	crypto_keyring_free(&ring);
	config_free(&cfg);
	free(yaml);

	ok(config_load_string(
		   "dmf:\n  worker:\n    crypto:\n      storageKeys:\n"
		   "        k:\n          secret: x\n",
		   "k.yml", NULL, &cfg, &err) == 0,
	   "config without file");
	if (cfg != NULL) {
		is_int(crypto_keyring_load(
			       cfg_get(cfg->root,
				       "dmf.worker.crypto.storageKeys"),
			       &ring, &err),
		       -EINVAL, "a key without file is a config error");
		like(err, "needs a 'file'", "its message");
		free(err);
		config_free(&cfg);
	}
}

int main(void)
{
	char dir[] = "/tmp/dmf-crypto-XXXXXX";
	char cmd[128];

	plan_lazy();
	if (mkdtemp(dir) == NULL)
		return 1;
	test_base64();
	test_gcm();
	test_cbc();
	test_key_files(dir);
	test_keyring(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", dir);
	return done_testing();
}
