/*
 * test_man_keys.c - dmf-worker.yml(5) documents exactly the keys of the
 * configuration schema (core/lib/config_schema.c), each with its type,
 * default and environment variable.
 *
 * The KEYS section of man/dmf-worker.yml.5 lies between the lines
 * `.\" BEGIN KEYS` and `.\" END KEYS`; `test_man_keys --man-keys` prints
 * what belongs there (config_schema_print_man()).  The test names every
 * key that is missing from the page, every key the page documents that the
 * schema does not know, and every entry whose text differs.
 */
#include "dmf-build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config_schema.h"
#include "lib/util.h"
#include "../tap.h"

#define BEGIN_MARK ".\\\" BEGIN KEYS\n"
#define END_MARK ".\\\" END KEYS\n"

struct entry {
	char *key; /* unescaped */
	char *text; /* the entry as written, from ".TP" on */
};

struct entries {
	struct entry *v;
	size_t n;
};

/* The key of a `.B` line: roff escapes \- \e \& undone. */
static char *unescape_key(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			i++;
			if (s[i] == '-')
				out[o++] = '-';
			else if (s[i] == 'e')
				out[o++] = '\\';
			/* \& and other escapes: nothing */
			continue;
		}
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/* Split `text` into entries at each ".TP\n". */
static void parse(const char *text, struct entries *es)
{
	const char *p = strstr(text, ".TP\n");

	es->v = NULL;
	es->n = 0;
	while (p != NULL) {
		const char *next = strstr(p + 4, ".TP\n");
		const char *end = next != NULL ? next : p + strlen(p);
		const char *b = p + 4, *nl;
		struct entry *nv = realloc(es->v, (es->n + 1) * sizeof(*nv));

		if (nv == NULL)
			return;
		es->v = nv;
		nl = strchr(b, '\n');
		if (strncmp(b, ".B ", 3) == 0 && nl != NULL)
			es->v[es->n].key = unescape_key(b + 3, nl - b - 3);
		else
			es->v[es->n].key = strdup("(entry without .B line)");
		es->v[es->n].text = strndup(p, end - p);
		es->n++;
		p = next;
	}
}

static const struct entry *find(const struct entries *es, const char *key)
{
	for (size_t i = 0; i < es->n; i++) {
		if (es->v[i].key != NULL && strcmp(es->v[i].key, key) == 0)
			return &es->v[i];
	}
	return NULL;
}

static void entries_free(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++) {
		free(es->v[i].key);
		free(es->v[i].text);
	}
	free(es->v);
	es->v = NULL;
	es->n = 0;
}

static char *expected_section(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	config_schema_print_man(f);
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *page, *want, *begin, *end;
	struct entries have, need;
	size_t missing = 0, unknown = 0, differ = 0;

	if (argc > 1 && strcmp(argv[1], "--man-keys") == 0) {
		config_schema_print_man(stdout);
		return 0;
	}
	plan_lazy();
	if (top == NULL || *top == '\0')
		top = ".";
	snprintf(path, sizeof(path), "%s/man/dmf-worker.yml.5", top);
	page = util_read_file(path, NULL);
	if (!ok(page != NULL, "man/dmf-worker.yml.5 exists"))
		return done_testing();
	begin = strstr(page, BEGIN_MARK);
	end = begin != NULL ? strstr(begin, END_MARK) : NULL;
	if (!ok(begin != NULL && end != NULL,
		"the page has its BEGIN KEYS / END KEYS section")) {
		free(page);
		return done_testing();
	}
	*end = '\0';
	parse(begin + strlen(BEGIN_MARK), &have);
	want = expected_section();
	if (want == NULL) {
		ok(0, "schema printed as man text");
		free(page);
		return done_testing();
	}
	parse(want, &need);
	ok(need.n > 100, "the schema has its keys (%zu)", need.n);

	for (size_t i = 0; i < need.n; i++) {
		const struct entry *h = find(&have, need.v[i].key);

		if (h == NULL) {
			diag("missing from dmf-worker.yml(5): %s",
			     need.v[i].key);
			missing++;
		} else if (strcmp(h->text, need.v[i].text) != 0) {
			diag("differs from the schema in dmf-worker.yml(5): "
			     "%s",
			     need.v[i].key);
			differ++;
		}
	}
	for (size_t i = 0; i < have.n; i++) {
		if (find(&need, have.v[i].key) == NULL) {
			diag("documented in dmf-worker.yml(5) but not in the "
			     "schema: %s",
			     have.v[i].key);
			unknown++;
		}
	}
	is_int(missing, 0, "every schema key is in dmf-worker.yml(5)");
	is_int(unknown, 0, "dmf-worker.yml(5) documents no unknown key");
	is_int(differ, 0,
	       "every key's type, default, environment variable and "
	       "description match the schema");
	if (missing + unknown + differ > 0)
		diag("regenerate: tests/unit/test_man_keys --man-keys, between "
		     "the BEGIN KEYS and END KEYS lines of man/dmf-worker.yml.5"
		     " (or scripts/update-man-keys.sh)");
	entries_free(&have);
	entries_free(&need);
	free(want);
	free(page);
	return done_testing();
}
