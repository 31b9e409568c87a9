/* secret.c - which names and which parts of a value are secret. */
#include "dmf-build.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/secret.h"

static const char *const secret_words[] = { "password", "passwd",     "secret",
					    "token",	"credential", NULL };

bool secret_name(const char *name, size_t len)
{
	for (size_t i = 0; secret_words[i] != NULL; i++) {
		size_t wl = strlen(secret_words[i]);

		for (size_t j = 0; j + wl <= len; j++)
			if (strncasecmp(name + j, secret_words[i], wl) == 0)
				return true;
	}
	return len >= 3 && strncasecmp(name + len - 3, "key", 3) == 0;
}

static bool param_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.';
}

static bool value_end(char c)
{
	return c == '\0' || c == '&' || c == ';' || c == '#' ||
	       isspace((unsigned char)c);
}

static void add_span(struct secret_span *spans, size_t max, size_t *n,
		     size_t off, size_t len)
{
	if (len == 0)
		return;
	if (*n < max) {
		spans[*n].offset = off;
		spans[*n].len = len;
	}
	(*n)++;
}

size_t secret_spans(const char *text, struct secret_span *spans, size_t max)
{
	size_t n = 0, i = 0;

	while (text[i] != '\0') {
		if (strncmp(text + i, "://", 3) == 0) {
			/* the authority: up to / ? # or a blank */
			size_t a = i + 3, e = a, at = 0, colon = 0;

			while (text[e] != '\0' &&
			       strchr("/?#", text[e]) == NULL &&
			       !isspace((unsigned char)text[e])) {
				if (text[e] == '@')
					at = e;
				e++;
			}
			if (at != 0) {
				for (size_t k = a; k < at; k++) {
					if (text[k] == ':') {
						colon = k;
						break;
					}
				}
			}
			if (colon != 0)
				add_span(spans, max, &n, colon + 1,
					 at - colon - 1);
			i = e;
			continue;
		}
		if (text[i] == '?' || text[i] == '&' || text[i] == ';') {
			size_t s = i + 1, e = s;

			while (param_char((unsigned char)text[e]))
				e++;
			if (e > s && text[e] == '=' &&
			    secret_name(text + s, e - s)) {
				size_t v = e + 1, ve = v;

				while (!value_end(text[ve]))
					ve++;
				add_span(spans, max, &n, v, ve - v);
				i = ve;
				continue;
			}
		}
		i++;
	}
	return n;
}

char *secret_redact_value(const char *text, bool *oom_r)
{
	struct secret_span spans[32];
	size_t n = secret_spans(text, spans, 32), len = strlen(text), pos = 0;
	char *out, *o;

	if (oom_r != NULL)
		*oom_r = false;
	if (n == 0)
		return NULL;
	if (n > 32) {
		/* that many secrets in one value: hide all of it */
		out = strdup(SECRET_HIDDEN);
		if (out == NULL && oom_r != NULL)
			*oom_r = true;
		return out;
	}
	out = malloc(len + n * sizeof(SECRET_HIDDEN) + 1);
	if (out == NULL) {
		if (oom_r != NULL)
			*oom_r = true;
		return NULL;
	}
	o = out;
	for (size_t k = 0; k < n; k++) {
		memcpy(o, text + pos, spans[k].offset - pos);
		o += spans[k].offset - pos;
		memcpy(o, SECRET_HIDDEN, sizeof(SECRET_HIDDEN) - 1);
		o += sizeof(SECRET_HIDDEN) - 1;
		pos = spans[k].offset + spans[k].len;
	}
	memcpy(o, text + pos, len - pos);
	o[len - pos] = '\0';
	return out;
}
