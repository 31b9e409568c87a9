/* http_auth.c - ip-patterns, Basic Authorization parsing, constant-time
 * comparison. */
#include "http/http_auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"

/* glob with '*' only, iterative with one backtrack point */
static bool glob_match(const char *p, const char *s)
{
	const char *star = NULL, *retry = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = p++;
			retry = s;
		} else if (tolower((unsigned char)*p) ==
			   tolower((unsigned char)*s)) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++retry;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool http_ip_match(const char *pattern, const char *addr)
{
	if (pattern == NULL || addr == NULL || *pattern == '\0')
		return false;
	if (glob_match(pattern, addr))
		return true;
	if (strncasecmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.'))
		return glob_match(pattern, addr + 7);
	return false;
}

bool http_ip_allowed(char *const *patterns, const char *addr)
{
	if (patterns == NULL || patterns[0] == NULL)
		return true;
	for (size_t i = 0; patterns[i] != NULL; i++)
		if (http_ip_match(patterns[i], addr))
			return true;
	return false;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* strict base64 (padding required when the length is not a multiple of
 * 4 is relaxed: unpadded input is accepted, as browsers send padded) */
static int b64_decode(const char *in, size_t n, unsigned char *out,
		      size_t *out_len)
{
	size_t o = 0, pad = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	while (n > 0 && in[n - 1] == '=') {
		n--;
		pad++;
	}
	if (pad > 2 || n % 4 == 1 || (pad > 0 && (n + pad) % 4 != 0))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)in[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* leftover bits must be zero (canonical encoding) */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return -EINVAL;
	*out_len = o;
	return 0;
}

int http_basic_parse(const char *header, char **user_r, char **pass_r)
{
	unsigned char buf[3072];
	const char *p = header, *colon;
	size_t n, len = 0;
	int ret;

	*user_r = NULL;
	*pass_r = NULL;
	if (header == NULL)
		return -ENOENT;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "Basic", 5) != 0 || (p[5] != ' ' && p[5] != '\t'))
		return -ENOENT;
	p += 5;
	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0 || n > 4096)
		return -EINVAL;
	ret = b64_decode(p, n, buf, &len);
	if (ret < 0)
		goto out;
	ret = -EINVAL;
	if (memchr(buf, '\0', len) != NULL)
		goto out;
	colon = memchr(buf, ':', len);
	if (colon == NULL)
		goto out;
	*user_r = strndup((const char *)buf, (size_t)(colon - (char *)buf));
	*pass_r = strndup(colon + 1, len - (size_t)(colon + 1 - (char *)buf));
	if (*user_r == NULL || *pass_r == NULL) {
		free(*user_r);
		secret_free(pass_r);
		*user_r = NULL;
		ret = -ENOMEM;
		goto out;
	}
	ret = 0;
out:
	secure_wipe(buf, sizeof(buf));
	return ret;
}

bool http_secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	volatile unsigned char diff = (unsigned char)(alen != blen);
	size_t n = alen > blen ? alen : blen;

	/* walk the longer length; the shorter side reads as 0 past its end */
	for (size_t i = 0; i < n; i++) {
		unsigned char x = i < alen ? (unsigned char)a[i] : 0;
		unsigned char y = i < blen ? (unsigned char)b[i] : 0;

		diff |= x ^ y;
	}
	return diff == 0;
}
