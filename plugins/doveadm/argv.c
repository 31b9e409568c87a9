/* argv.c - argument vectors with display forms (see argv.h). */
#include "dmf-build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"

static bool grow(struct dv_argv *a)
{
	if (a->failed)
		return false;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		char **v = realloc(a->v, cap * sizeof(char *));
		if (v == NULL) {
			a->failed = true;
			return false;
		}
		a->v = v;
		char **s = realloc(a->show, cap * sizeof(char *));
		if (s == NULL) {
			a->failed = true;
			return false;
		}
		a->show = s;
		a->cap = cap;
	}
	return true;
}

static void insert(struct dv_argv *a, size_t at, const char *arg,
		   const char *shown, bool run_only)
{
	char *v = NULL, *s = NULL;

	if (at > a->n || !grow(a))
		return;
	if (arg != NULL)
		v = strdup(arg);
	if (!run_only)
		s = strdup(shown != NULL ? shown : arg != NULL ? arg : "");
	if ((arg != NULL && v == NULL) || (!run_only && s == NULL)) {
		dv_free_secret(&v);
		free(s);
		a->failed = true;
		return;
	}
	memmove(a->v + at + 1, a->v + at, (a->n - at) * sizeof(char *));
	memmove(a->show + at + 1, a->show + at, (a->n - at) * sizeof(char *));
	a->v[at] = v;
	a->show[at] = s;
	a->n++;
	a->v[a->n] = NULL;
	a->show[a->n] = NULL;
}

void dv_argv_insert(struct dv_argv *a, size_t at, const char *arg,
		    const char *shown)
{
	insert(a, at, arg, shown, false);
}

void dv_argv_add(struct dv_argv *a, const char *arg, const char *shown)
{
	insert(a, a->n, arg, shown, false);
}

void dv_argv_add_run_only(struct dv_argv *a, const char *arg)
{
	insert(a, a->n, arg, NULL, true);
}

char *const *dv_argv_run(struct dv_argv *a)
{
	size_t k = 0;

	if (a->failed)
		return NULL;
	free(a->run);
	a->run = calloc(a->n + 1, sizeof(char *));
	if (a->run == NULL)
		return NULL;
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i] != NULL)
			a->run[k++] = a->v[i];
	}
	return a->run;
}

void dv_argv_add_setting(struct dv_argv *a, const char *name, const char *value,
			 bool secret)
{
	char *set = NULL, *shown = NULL;

	if (asprintf(&set, "%s=%s", name, value) < 0 ||
	    asprintf(&shown, "%s=%s", name, secret ? "<hidden>" : value) < 0) {
		if (set != NULL)
			dv_free_secret(&set);
		a->failed = true;
		return;
	}
	dv_argv_add(a, "-o", NULL);
	dv_argv_add(a, set, shown);
	dv_free_secret(&set);
	free(shown);
}

void dv_argv_remove(struct dv_argv *a, size_t at)
{
	if (at >= a->n)
		return;
	dv_free_secret(&a->v[at]);
	free(a->show[at]);
	memmove(a->v + at, a->v + at + 1, (a->n - at) * sizeof(char *));
	memmove(a->show + at, a->show + at + 1, (a->n - at) * sizeof(char *));
	a->n--;
}

void dv_argv_free(struct dv_argv *a)
{
	for (size_t i = 0; i < a->n; i++) {
		dv_free_secret(&a->v[i]);
		free(a->show[i]);
	}
	free(a->v);
	free(a->show);
	free(a->run);
	*a = (struct dv_argv){ 0 };
}

char *dv_quote(const char *text)
{
	bool plain = *text != '\0';
	size_t len = strlen(text), o = 0;
	char *out;

	for (const char *c = text; *c != '\0'; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') ||
		      strchr("_@%+=:,./-<>", *c) != NULL))
			plain = false;
	}
	if (plain)
		return strdup(text);
	out = malloc(len * 4 + 3);
	if (out == NULL)
		return NULL;
	out[o++] = '\'';
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else if (*c < 0x20 || *c == 0x7f) {
			o += (size_t)snprintf(out + o, 5, "\\x%02x", *c);
		} else {
			out[o++] = (char)*c;
		}
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

char *dv_argv_display(const struct dv_argv *a)
{
	size_t len = 1, o = 0;
	char **q;
	char *out = NULL;

	if (a->failed)
		return NULL;
	q = calloc(a->n + 1, sizeof(char *));
	if (q == NULL)
		return NULL;
	for (size_t i = 0; i < a->n; i++) {
		if (a->show[i] == NULL)
			continue;
		q[i] = dv_quote(a->show[i]);
		if (q[i] == NULL)
			goto out;
		len += strlen(q[i]) + 1;
	}
	out = malloc(len);
	if (out == NULL)
		goto out;
	for (size_t i = 0; i < a->n; i++) {
		if (q[i] == NULL)
			continue;
		size_t l = strlen(q[i]);
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, q[i], l);
		o += l;
	}
	out[o] = '\0';
out:
	for (size_t i = 0; i < a->n; i++)
		free(q[i]);
	free(q);
	return out;
}
