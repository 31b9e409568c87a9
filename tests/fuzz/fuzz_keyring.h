/* fuzz_keyring.h - a keyring with one plain storage key "k1", for the
 * targets that unwrap passwords (made once; never freed). */
#ifndef DMF_FUZZ_KEYRING_H
#define DMF_FUZZ_KEYRING_H

#include "crypto/crypto.h"

struct crypto_keyring *fuzz_keyring(void);

#endif
