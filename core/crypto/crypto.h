/*
 * crypto.h - storage keys and password (un)wrapping (spec 2.2.9,
 * docs/crypto.md).
 *
 *   dmf.worker.crypto.storageKeys:
 *     key1:
 *       file: keystore:/path/keystore.p12   # or a plain key file
 *       secret: password                    # the keystore's password
 *       alias: key1                         # optional, default: the name
 *
 * A plain key file holds the 32 key bytes raw, or as base64 or hex text
 * (surrounding blanks ignored).  A `keystore:` file is a PKCS#12 store as
 * made by `keytool -genseckey -keyalg AES -keysize 256 -storetype pkcs12`:
 * the key is the secret bag whose friendlyName equals the alias (ignoring
 * case; keytool lowercases aliases), an encrypted PKCS#8 structure
 * decrypted with the secret.  An optional `file:` prefix is ignored.
 *
 * Wrapped passwords: `iv` and `ciphertext` are base64 text.  The IV length
 * picks the mode: 12 bytes = AES-256-GCM, ciphertext || 16-byte tag (what
 * crypto_wrap() writes); 16 bytes = AES-256-CBC with PKCS#5 padding (what
 * a Java "AES/CBC/PKCS5Padding" scheduler stores).
 *
 * Keys are read at load time; a key whose file cannot be read is retried
 * at each use, and its error fails only the jobs that need it.  All
 * functions are thread-safe.
 */
#ifndef DMF_CORE_CRYPTO_H
#define DMF_CORE_CRYPTO_H

#include <stddef.h>

#include "lib/config.h"

#define CRYPTO_KEY_LEN 32

struct crypto_keyring;

/*
 * Build a keyring from the storageKeys map (NULL or absent: empty ring).
 * Fails (-EINVAL, *error_r allocated) only for a malformed configuration
 * (an entry that is not a map or has no `file`); unreadable key files are
 * kept as per-key errors (crypto_keyring_check()).
 */
int crypto_keyring_load(const struct cfg_node *storage_keys,
			struct crypto_keyring **ring_r, char **error_r);
void crypto_keyring_free(struct crypto_keyring **ring);
/* Number of keys, and for key i its name and its load error (NULL when
 * the key is usable); for logging at start. */
size_t crypto_keyring_count(const struct crypto_keyring *ring);
const char *crypto_keyring_check(struct crypto_keyring *ring, size_t i,
				 const char **name_r);

/*
 * Unwrap a stored password with the key `key_name`.  On success
 * *password_r is allocated (free with crypto_free_secret()).  Errors:
 * -ENOKEY unknown key name, -ENOENT/-EACCES/... key file unreadable,
 * -EKEYREJECTED wrong keystore secret, -EINVAL bad base64 or IV length,
 * -EMSGSIZE truncated ciphertext, -EBADMSG authentication or padding
 * failure (wrong key or tampered); *error_r (allocated) says which.
 */
int crypto_unwrap(struct crypto_keyring *ring, const char *key_name,
		  const char *iv, const char *ciphertext, char **password_r,
		  char **error_r);
/* Wrap `password` with AES-256-GCM and a fresh random 12-byte IV; the
 * base64 IV and ciphertext are allocated. */
int crypto_wrap(struct crypto_keyring *ring, const char *key_name,
		const char *password, char **iv_r, char **ciphertext_r,
		char **error_r);

/* The same with a raw key (also used by the tests). */
int crypto_unwrap_raw(const unsigned char key[CRYPTO_KEY_LEN],
		      const unsigned char *iv, size_t iv_len,
		      const unsigned char *ct, size_t ct_len, char **password_r,
		      char **error_r);
int crypto_wrap_raw(const unsigned char key[CRYPTO_KEY_LEN],
		    const char *password, char **iv_r, char **ciphertext_r,
		    char **error_r);

/* Read one key file ("keystore:PATH" with secret and alias, or a plain
 * file) into key. */
int crypto_read_key(const char *file, const char *secret, const char *alias,
		    unsigned char key[CRYPTO_KEY_LEN], char **error_r);

/* Base64 (standard alphabet, padding optional, blanks ignored). */
int crypto_base64_decode(const char *text, unsigned char **out_r,
			 size_t *len_r);
char *crypto_base64_encode(const unsigned char *data, size_t len);

/* Wipe and free; NULL is fine. */
void crypto_free_secret(char **secret);

#endif /* DMF_CORE_CRYPTO_H */
