/* mutf7.c - modified UTF-7 for IMAP mailbox names (mutf7.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mutf7.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static bool printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* One code point from UTF-8 at *p (advanced); -1 when invalid. */
static long utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	long cp, min;
	int n;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 1, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 2, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 3, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*p = s + n + 1;
	return cp;
}

int mutf7_encode(const char *utf8, char **out_r)
{
	const unsigned char *p = (const unsigned char *)utf8;
	/* worst case: each 1-byte char "&-" (2x); each 2..4-byte char at
	 * most 2 UTF-16 units = 32 bits, under 6 base64 chars + "&-" */
	size_t cap = strlen(utf8) * 3 + 8, o = 0;
	char *out = malloc(cap);

	if (out == NULL)
		return -ENOMEM;
	while (*p != '\0') {
		uint32_t bits = 0;
		int nbits = 0;

		if (printable(*p)) {
			out[o++] = (char)*p;
			if (*p++ == '&')
				out[o++] = '-';
			continue;
		}
		out[o++] = '&';
		while (*p != '\0' && !printable(*p)) {
			long cp = utf8_next(&p);
			uint16_t u[2];
			int nu = 1;

			if (cp < 0) {
				free(out);
				return -EILSEQ;
			}
			if (cp >= 0x10000) {
				cp -= 0x10000;
				u[0] = (uint16_t)(0xd800 + (cp >> 10));
				u[1] = (uint16_t)(0xdc00 + (cp & 0x3ff));
				nu = 2;
			} else {
				u[0] = (uint16_t)cp;
			}
			for (int i = 0; i < nu; i++) {
				bits = (bits << 16) | u[i];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					out[o++] = b64[(bits >> nbits) & 0x3f];
				}
				bits &= (1u << nbits) - 1;
			}
		}
		if (nbits > 0)
			out[o++] = b64[(bits << (6 - nbits)) & 0x3f];
		out[o++] = '-';
	}
	out[o] = '\0';
	*out_r = out;
	return 0;
}

static int b64_value(char c)
{
	const char *at = c != '\0' ? strchr(b64, c) : NULL;

	return at != NULL ? (int)(at - b64) : -1;
}

static size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The '&...-' run at `s` (after the '&', up to the '-') into `out`;
 * bytes written, or -1 when malformed. */
static long decode_run(const char *s, size_t len, char *out)
{
	uint32_t bits = 0, high = 0;
	int nbits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xffff;

		bits &= (1u << nbits) - 1;
		if (high != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			o += utf8_put(out + o, 0x10000 +
						       ((high - 0xd800) << 10) +
						       (u - 0xdc00));
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if ((u >= 0xdc00 && u <= 0xdfff) ||
			   (u >= 0x20 && u <= 0x7e)) {
			/* a lone low surrogate, or printable ASCII that
			 * must have been sent as itself */
			return -1;
		} else {
			o += utf8_put(out + o, u);
		}
	}
	/* leftover: fewer than 6 bits, all zero; no half pair; not empty */
	if (high != 0 || nbits >= 6 || bits != 0 || o == 0)
		return -1;
	return (long)o;
}

int mutf7_decode(const char *mutf7, char **out_r)
{
	/* each base64 char is 6 bits: at most 6 bits -> 4/3 UTF-8 bytes per
	 * input byte is a bound (a 3-byte char from 16 bits = 2.67 chars) */
	size_t len = strlen(mutf7), o = 0;
	char *out = malloc(len * 2 + 1);

	if (out == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len;) {
		const char *end;
		long n;

		if (!printable((unsigned char)mutf7[i]))
			goto bad;
		if (mutf7[i] != '&') {
			out[o++] = mutf7[i++];
			continue;
		}
		if (mutf7[i + 1] == '-') {
			out[o++] = '&';
			i += 2;
			continue;
		}
		end = strchr(mutf7 + i + 1, '-');
		if (end == NULL)
			goto bad;
		n = decode_run(mutf7 + i + 1, (size_t)(end - mutf7 - i - 1),
			       out + o);
		if (n < 0)
			goto bad;
		o += (size_t)n;
		i = (size_t)(end - mutf7) + 1;
	}
	out[o] = '\0';
	*out_r = out;
	return 0;
bad:
	free(out);
	return -EILSEQ;
}
