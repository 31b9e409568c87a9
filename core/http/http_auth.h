/*
 * http_auth.h - the pure parts of the server's access checks: matching a
 * client address against micronaut.security.ip-patterns, parsing a Basic
 * Authorization header, and comparing secrets in constant time.
 */
#ifndef DMF_HTTP_AUTH_H
#define DMF_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether `addr` (numeric IPv4 or IPv6, as the server saw it) matches
 * `pattern`: an exact address, or one with `*` standing for any run of
 * characters ("192.168.1.*", "fd00:*").  Case-insensitive (IPv6 hex); an
 * IPv4-mapped IPv6 address ("::ffff:10.0.0.1") also matches as IPv4.
 */
bool http_ip_match(const char *pattern, const char *addr);
/* Whether addr matches one of the NULL-terminated patterns; an empty or
 * NULL list allows every address. */
bool http_ip_allowed(char *const *patterns, const char *addr);

/*
 * Parse the value of an Authorization header "Basic <base64(user:pass)>".
 * 0 with *user_r and *pass_r allocated (wipe and free the password);
 * -ENOENT for another scheme; -EINVAL for broken base64, a missing ':',
 * a NUL byte inside, or more than 4 KB.
 */
int http_basic_parse(const char *header, char **user_r, char **pass_r);

/* Compare two byte strings in time that depends only on their lengths
 * (never returns early at the first difference). */
bool http_secret_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
