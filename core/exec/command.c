/* command.c - command definitions to template argv, and display forms. */
#include "dmf-build.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmf/text.h"
#include "exec/command.h"
#include "lib/secret.h"
#include "lib/util.h"

struct builder {
	struct command_template *tpl;
	size_t cap;
	char *error;
};

DMF_PRINTF(3, 4)
static int fail(struct builder *b, const struct cfg_node *node, const char *fmt,
		...)
{
	char origin[256], path[512], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_origin(node, origin, sizeof(origin));
	cfg_path(node, path, sizeof(path));
	b->error = xasprintf("%s: key '%s': %s", origin, path, msg);
	return -EINVAL;
}

static int push(struct builder *b, const char *text, size_t len,
		const char *option)
{
	struct command_template *t = b->tpl;
	char *copy;

	if (t->n + 1 >= b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		struct command_arg *a = realloc(t->args, cap * sizeof(*a));

		if (a == NULL)
			return -ENOMEM;
		t->args = a;
		b->cap = cap;
	}
	copy = strndup(text, len);
	if (copy == NULL)
		return -ENOMEM;
	t->args[t->n].text = copy;
	t->args[t->n].option = option;
	t->n++;
	return 0;
}

/* Push the blank-separated words of `text`. */
static int push_words(struct builder *b, const char *text)
{
	const char *p = text;
	int ret;

	while (*p != '\0') {
		const char *start;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		ret = push(b, start, (size_t)(p - start), NULL);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int add_flags(struct builder *b, const struct cfg_node *node)
{
	int ret;

	if (node == NULL || node->kind == CFG_NULL)
		return 0;
	if (node->kind == CFG_SCALAR)
		return push_words(b, node->value);
	if (node->kind != CFG_LIST)
		return fail(b, node, "flags must be a string or a list");
	for (size_t i = 0; i < node->n_children; i++) {
		const struct cfg_node *f = node->children[i];

		if (f->kind == CFG_NULL)
			continue;
		if (f->kind != CFG_SCALAR)
			return fail(b, f, "a flag must be a string");
		ret = push(b, f->value, strlen(f->value), NULL);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int add_arguments(struct builder *b, const struct cfg_node *node)
{
	int ret;

	if (node == NULL || node->kind == CFG_NULL)
		return 0;
	if (node->kind == CFG_SCALAR)
		return push(b, node->value, strlen(node->value), NULL);
	if (node->kind != CFG_LIST)
		return fail(b, node, "arguments must be a string or a list");
	for (size_t i = 0; i < node->n_children; i++) {
		const struct cfg_node *a = node->children[i];

		if (a->kind == CFG_NULL)
			continue;
		if (a->kind != CFG_SCALAR)
			return fail(b, a, "an argument must be a string");
		ret = push(b, a->value, strlen(a->value), NULL);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int add_option(struct builder *b, const struct cfg_node *opt)
{
	const struct cfg_node *name, *value;
	size_t nlen;
	int ret;

	if (opt->kind != CFG_MAP)
		return fail(b, opt,
			    "an option must be a map with name and value");
	for (size_t i = 0; i < opt->n_children; i++) {
		const char *k = opt->children[i]->key;

		if (k == NULL ||
		    (strcmp(k, "name") != 0 && strcmp(k, "value") != 0))
			return fail(
				b, opt->children[i],
				"unknown option key (expected name, value)");
	}
	name = cfg_child(opt, "name");
	value = cfg_child(opt, "value");
	if (name == NULL || name->kind != CFG_SCALAR || name->value[0] == '\0')
		return fail(b, opt, "an option needs a name");
	if (value != NULL && value->kind != CFG_SCALAR &&
	    value->kind != CFG_NULL)
		return fail(b, value, "an option value must be a string");
	if (value == NULL || value->kind == CFG_NULL)
		return push(b, name->value, strlen(name->value), NULL);
	nlen = strlen(name->value);
	if (name->value[nlen - 1] == '=') {
		/* "--user=" + value: one element */
		char *joined = xasprintf("%s%s", name->value, value->value);

		if (joined == NULL)
			return -ENOMEM;
		ret = push(b, joined, strlen(joined), name->value);
		free(joined);
		return ret;
	}
	ret = push(b, name->value, nlen, NULL);
	if (ret == 0)
		ret = push(b, value->value, strlen(value->value), name->value);
	return ret;
}

static int add_options(struct builder *b, const struct cfg_node *node)
{
	int ret;

	if (node == NULL || node->kind == CFG_NULL)
		return 0;
	if (node->kind != CFG_LIST)
		return fail(b, node,
			    "options must be a list of name/value maps");
	for (size_t i = 0; i < node->n_children; i++) {
		ret = add_option(b, node->children[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static const char *const known_keys[] = { "name",      "flags",	      "options",
					  "arguments", "sub-command", NULL };

static int add_level(struct builder *b, const struct cfg_node *def, bool sub,
		     unsigned depth)
{
	const struct cfg_node *name;
	int ret;

	if (depth > 8)
		return fail(b, def, "sub-commands nested too deeply");
	if (def->kind != CFG_MAP)
		return fail(b, def,
			    "a command must be a map with at least a name");
	for (size_t i = 0; i < def->n_children; i++) {
		const char *k = def->children[i]->key;
		bool found = false;

		for (size_t j = 0; k != NULL && known_keys[j] != NULL; j++)
			found = found || strcmp(k, known_keys[j]) == 0;
		if (!found)
			return fail(
				b, def->children[i],
				"unknown command key (expected name, flags, "
				"options, arguments, sub-command)");
	}
	name = cfg_child(def, "name");
	if (name == NULL || name->kind != CFG_SCALAR || name->value[0] == '\0')
		return fail(b, def, "a command needs a name");
	if (sub)
		ret = push_words(b, name->value);
	else
		ret = push(b, name->value, strlen(name->value), NULL);
	if (ret == 0)
		ret = add_flags(b, cfg_child(def, "flags"));
	if (ret == 0)
		ret = add_options(b, cfg_child(def, "options"));
	if (ret == 0)
		ret = add_arguments(b, cfg_child(def, "arguments"));
	if (ret == 0) {
		const struct cfg_node *s = cfg_child(def, "sub-command");

		if (s != NULL && s->kind != CFG_NULL)
			ret = add_level(b, s, true, depth + 1);
	}
	return ret;
}

int command_parse(const struct cfg_node *def, struct command_template **tpl_r,
		  char **error_r)
{
	struct builder b = { 0 };
	int ret;

	if (def == NULL || def->kind == CFG_NULL) {
		*error_r = xstrdup("no command defined");
		return -EINVAL;
	}
	b.tpl = calloc(1, sizeof(*b.tpl));
	if (b.tpl == NULL)
		return -ENOMEM;
	ret = add_level(&b, def, false, 0);
	if (ret < 0) {
		command_template_free(&b.tpl);
		if (b.error == NULL)
			b.error = xstrdup(strerror(-ret));
		*error_r = b.error;
		return ret;
	}
	*tpl_r = b.tpl;
	return 0;
}

void command_template_free(struct command_template **tpl)
{
	if (tpl == NULL || *tpl == NULL)
		return;
	for (size_t i = 0; i < (*tpl)->n; i++)
		free((*tpl)->args[i].text);
	free((*tpl)->args);
	free(*tpl);
	*tpl = NULL;
}

bool command_name_is_secret(const char *name, size_t len)
{
	return secret_name(name, len);
}

char *command_redact_element(const char *option, const char *text)
{
	const char *eq;

	if (option != NULL) {
		size_t ol = strlen(option);

		if (ol > 0 && option[ol - 1] == '=' &&
		    command_name_is_secret(option, ol))
			return xasprintf("%s<hidden>", option);
		if (command_name_is_secret(option, ol))
			return xstrdup("<hidden>");
	}
	eq = strchr(text, '=');
	if (eq != NULL && command_name_is_secret(text, (size_t)(eq - text)))
		return xasprintf("%.*s=<hidden>", (int)(eq - text), text);
	return xstrdup(text);
}

static bool safe_char(unsigned char c)
{
	return isalnum(c) || strchr("_@%+=:,./-", c) != NULL || c >= 0x80;
}

char *command_quote(const char *text)
{
	size_t len = strlen(text), cap = len * 4 + 4;
	bool safe = len > 0, ctl = false;
	char *out, *o;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (strncmp((const char *)p, "<hidden>", 8) == 0) {
			p += 7; /* shown as is */
			continue;
		}
		if (!safe_char(*p))
			safe = false;
		if (*p < 0x20 || *p == 0x7f)
			ctl = true;
	}
	if (safe)
		return xstrdup(text);
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	o = out;
	if (ctl) {
		*o++ = '$';
		*o++ = '\'';
		for (const unsigned char *p = (const unsigned char *)text; *p;
		     p++) {
			if (*p == '\n') {
				*o++ = '\\';
				*o++ = 'n';
			} else if (*p == '\t') {
				*o++ = '\\';
				*o++ = 't';
			} else if (*p < 0x20 || *p == 0x7f) {
				o += sprintf(o, "\\x%02x", *p);
			} else if (*p == '\'' || *p == '\\') {
				*o++ = '\\';
				*o++ = (char)*p;
			} else {
				*o++ = (char)*p;
			}
		}
		*o++ = '\'';
		*o = '\0';
		return out;
	}
	*o++ = '\'';
	for (const char *p = text; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

char *command_join(const char *const *elements, size_t n)
{
	/* elements may be an argv with passwords in it */
	struct dmf_strbuf out = { .wipe = secure_wipe };

	for (size_t i = 0; i < n; i++) {
		char *q = command_quote(elements[i]);

		if (q == NULL) {
			out.failed = 1;
			break;
		}
		if (i > 0)
			dmf_strbuf_add(&out, " ", 1);
		dmf_strbuf_adds(&out, q);
		secret_free(&q);
	}
	return dmf_strbuf_take(&out);
}
