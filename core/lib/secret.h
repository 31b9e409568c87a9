/*
 * secret.h - the one definition of which configuration keys, option names
 * and parts of a URL hold secrets.  Everything that shows a value
 * (--print-config, the command display, the worker log, job details and
 * command logs) decides with these functions.
 *
 * A NAME is secret when it contains, in any case, "password", "passwd",
 * "secret", "token" or "credential", or when it ends in "key" (apikey,
 * api-key, private_key, accessKey; not "storageKeys" nor "key-store").
 *
 * In a value, the secret parts are the password of a URL's user
 * information (`scheme://user:PASSWORD@host`) and the value of every query
 * or parameter whose name is secret (`?password=VALUE`, `&token=VALUE`,
 * `;password=VALUE`).
 */
#ifndef DMF_CORE_SECRET_H
#define DMF_CORE_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_HIDDEN "<hidden>"

/* True when the first `len` bytes of `name` name a secret. */
bool secret_name(const char *name, size_t len);

struct secret_span {
	size_t offset, len;
};

/*
 * The secret parts of `text` (see above), in order and not overlapping, in
 * spans[0..max-1].  Returns how many there are (possibly more than max).
 */
size_t secret_spans(const char *text, struct secret_span *spans, size_t max);

/*
 * A copy of `text` with its secret parts shown as <hidden>, or NULL when it
 * has none (*oom_r tells an allocation failure apart; may be NULL).
 */
char *secret_redact_value(const char *text, bool *oom_r);

#endif /* DMF_CORE_SECRET_H */
