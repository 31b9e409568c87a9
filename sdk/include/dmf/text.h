/*
 * dmf/text.h - small header-only helpers for plugins: wiping memory, a
 * growable string buffer, a UTF-8 sequence check and JSON string escaping.
 *
 * Everything here is `static inline` and compiled into the plugin: none of
 * it is part of the ABI, none of it needs a library (plugins link neither
 * OpenSSL nor a JSON library).  The daemon uses the same code, so there is
 * one implementation of each.  Nothing here keeps global state: every
 * function is safe on any thread for objects that thread owns.
 *
 *   struct dmf_strbuf b = DMF_STRBUF_INIT;
 *   dmf_strbuf_adds(&b, "{\"user\": ");
 *   dmf_strbuf_add_json_string(&b, uid, strlen(uid));
 *   dmf_strbuf_adds(&b, "}");
 *   char *json = dmf_strbuf_take(&b);      NULL: out of memory
 *   ...
 *   free(json);
 */
#ifndef DMF_TEXT_H
#define DMF_TEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmf/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A function that overwrites memory with zeros (crypto->wipe). */
typedef void (*dmf_wipe_fn)(void *p, size_t len);

/* Zero `len` bytes through a volatile pointer, so that the stores are not
 * dropped as dead; the fallback when the host has no crypto->wipe. */
static inline void dmf_wipe_fallback(void *p, size_t len)
{
	volatile unsigned char *v = (volatile unsigned char *)p;

	while (len-- > 0)
		*v++ = 0;
}

/* The host's wipe (ABI 1.3) when it has one, else dmf_wipe_fallback: a
 * plugin built for 1.3 still runs on a 1.1 or 1.2 host.  `host` may be
 * NULL. */
static inline dmf_wipe_fn dmf_host_wipe(const struct dmf_host *host)
{
	if (host != NULL && DMF_HAS(struct dmf_host, host, crypto) &&
	    DMF_HAS(struct dmf_host_crypto, host->crypto, wipe) &&
	    host->crypto->wipe != NULL)
		return host->crypto->wipe;
	return dmf_wipe_fallback;
}

/*
 * A growable NUL-terminated string.  After a failed allocation `failed`
 * is set and further additions do nothing: check once, at take().  When
 * `wipe` is set (the buffer holds secrets) every block it gives up is
 * wiped first: on growth (no realloc()) and in dmf_strbuf_free().
 */
struct dmf_strbuf {
	char *p; /* NULL until something was added */
	size_t len, cap;
	int failed;
	dmf_wipe_fn wipe; /* NULL: nothing secret in it */
};

#define DMF_STRBUF_INIT             \
	{                           \
		NULL, 0, 0, 0, NULL \
	}

static inline void dmf_strbuf_add(struct dmf_strbuf *b, const char *s, size_t n)
{
	if (b == NULL || b->failed)
		return;
	if (n >= (size_t)-1 - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 64;
		char *np;

		while (cap < b->len + n + 1)
			cap = cap > (size_t)-1 / 2 ? b->len + n + 1 : cap * 2;
		if (b->wipe != NULL) {
			np = (char *)malloc(cap);
			if (np != NULL && b->p != NULL) {
				memcpy(np, b->p, b->len);
				b->wipe(b->p, b->cap);
				free(b->p);
			}
		} else {
			np = (char *)realloc(b->p, cap);
		}
		if (np == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void dmf_strbuf_adds(struct dmf_strbuf *b, const char *s)
{
	dmf_strbuf_add(b, s, strlen(s));
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline void
dmf_strbuf_addf(struct dmf_strbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (b != NULL)
			b->failed = 1;
	} else if ((size_t)n < sizeof(small)) {
		dmf_strbuf_add(b, small, (size_t)n);
	} else {
		char *big = (char *)malloc((size_t)n + 1);

		if (big == NULL) {
			if (b != NULL)
				b->failed = 1;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		dmf_strbuf_add(b, big, (size_t)n);
		if (b != NULL && b->wipe != NULL)
			b->wipe(big, (size_t)n);
		free(big);
	}
	if (b != NULL && b->wipe != NULL)
		b->wipe(small, sizeof(small));
}

/* Wipe (when `wipe` is set) and free the text; the buffer is empty again
 * and keeps its `wipe`. */
static inline void dmf_strbuf_free(struct dmf_strbuf *b)
{
	if (b->p != NULL) {
		if (b->wipe != NULL)
			b->wipe(b->p, b->cap);
		free(b->p);
	}
	b->p = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

/* The text as an allocated string the caller frees ("" when nothing was
 * added); NULL when an allocation failed (the buffer is then freed).  The
 * buffer is empty afterwards. */
static inline char *dmf_strbuf_take(struct dmf_strbuf *b)
{
	char *s;

	if (b->failed) {
		dmf_strbuf_free(b);
		return NULL;
	}
	s = b->p != NULL ? b->p : (char *)calloc(1, 1);
	b->p = NULL;
	b->len = b->cap = 0;
	return s;
}

/*
 * The length (1..4) of the valid UTF-8 sequence at `s`, reading at most
 * `n` bytes (n >= 1), or 0 when the bytes there are not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF are invalid).
 */
static inline size_t dmf_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * Append `s` (n bytes) as a JSON string with its quotes: `"` and `\`
 * escaped, control bytes as \u00XX, each byte that is not valid UTF-8 as
 * \ufffd.  The result is always valid JSON, whatever `s` holds.
 */
static inline void dmf_strbuf_add_json_string(struct dmf_strbuf *b,
					      const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	dmf_strbuf_add(b, "\"", 1);
	while (i < n) {
		char esc[8];
		size_t l;

		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			dmf_strbuf_add(b, esc, 2);
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
			dmf_strbuf_add(b, esc, 6);
			i++;
		} else if ((l = dmf_utf8_len(p + i, n - i)) > 0) {
			dmf_strbuf_add(b, s + i, l);
			i += l;
		} else {
			dmf_strbuf_add(b, "\\ufffd", 6);
			i++;
		}
	}
	dmf_strbuf_add(b, "\"", 1);
}

#ifdef __cplusplus
}
#endif

#endif /* DMF_TEXT_H */
