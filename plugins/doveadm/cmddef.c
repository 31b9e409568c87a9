/* cmddef.c - commands from configured or JSON definitions (cmddef.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmddef.h"
#include "lib/secret.h"

/* The one rule of core/lib/secret.c (compiled into the plugin). */
static bool name_is_secret(const char *s, size_t len)
{
	return secret_name(s, len);
}

char *cmddef_hide_by_name(const char *element)
{
	const char *eq = strchr(element, '=');
	char *out = NULL;

	if (eq == NULL || !name_is_secret(element, (size_t)(eq - element)))
		return NULL;
	if (asprintf(&out, "%.*s=<hidden>", (int)(eq - element), element) < 0)
		return NULL;
	return out;
}

/* Add one element with its redacted display. */
static void add_elem(struct dv_job *dj, struct dv_argv *a, const char *arg,
		     const char *display, bool secret_option)
{
	const struct dmf_host *h = dj->h;
	char *byname = cmddef_hide_by_name(arg);
	char *red = NULL;

	if (secret_option) {
		dv_argv_add(a, arg, "<hidden>");
	} else if (byname != NULL) {
		dv_argv_add(a, arg, byname);
	} else {
		red = h->inject->redact(dj->job, dj->conf->node,
					display != NULL ? display : arg);
		if (red == NULL)
			a->failed = true;
		else
			dv_argv_add(a, arg, red);
	}
	free(byname);
	h->inject->free_string(&red);
}

/* --- JSON definitions --- */

struct jb {
	struct dv_job *dj;
	struct dv_argv *a;
	char *error;
};

static int jfail(struct jb *b, const char *what)
{
	if (b->error == NULL &&
	    asprintf(&b->error, "command definition: %s", what) < 0)
		b->error = NULL;
	return -EINVAL;
}

/* `text` with %{mdb:container} / ${mdb:container} replaced by the value
 * fetch-container found (its own "%{" escaped as "%%{"); NULL: no
 * change needed.  *oom set on out of memory. */
static char *with_container(const char *text, const char *container, bool *oom)
{
	static const char *const ph[] = { "%{mdb:container}",
					  "${mdb:container}" };
	size_t cap, o = 0;
	char *out;
	const char *p = text;

	if (container == NULL ||
	    (strstr(text, ph[0]) == NULL && strstr(text, ph[1]) == NULL))
		return NULL;
	cap = strlen(text) + 1;
	for (const char *c = text; (c = strstr(c, "mdb:container}")); c++)
		cap += strlen(container) * 2;
	out = malloc(cap);
	if (out == NULL) {
		*oom = true;
		return NULL;
	}
	while (*p != '\0') {
		if (strncmp(p, ph[0], 16) == 0 || strncmp(p, ph[1], 16) == 0) {
			for (const char *v = container; *v != '\0'; v++) {
				if (v[0] == '%' && v[1] == '{')
					out[o++] = '%';
				out[o++] = *v;
			}
			p += 16;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

static int expand_add(struct jb *b, const char *text, bool secret_option)
{
	const struct dmf_host *h = b->dj->h;
	char *value = NULL, *display = NULL, *sub;
	const char *error = NULL;
	bool oom = false;
	int r;

	/* a host of ABI 1.4 has the value as the job's property itself */
	sub = b->dj->container_in_job ?
		      NULL :
		      with_container(text, b->dj->container, &oom);
	if (oom)
		return -ENOMEM;
	r = h->inject->expand(b->dj->job, b->dj->conf->node,
			      sub != NULL ? sub : text, &value, &display,
			      &error);
	free(sub);
	if (r < 0)
		return jfail(b, error != NULL ? error : "bad placeholder");
	add_elem(b->dj, b->a, value, display, secret_option);
	h->inject->free_string(&value);
	h->inject->free_string(&display);
	return b->a->failed ? -ENOMEM : 0;
}

static int add_words(struct jb *b, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		size_t l;
		while (*p == ' ' || *p == '\t')
			p++;
		l = strcspn(p, " \t");
		if (l > 0) {
			char *w = strndup(p, l);
			int r;
			if (w == NULL)
				return -ENOMEM;
			r = expand_add(b, w, false);
			free(w);
			if (r < 0)
				return r;
		}
		p += l;
	}
	return 0;
}

static int add_list(struct jb *b, const json_t *n, bool split, const char *what)
{
	size_t i;
	const json_t *v;
	int r;

	if (n == NULL || json_is_null(n))
		return 0;
	if (json_is_string(n))
		return split ? add_words(b, json_string_value(n)) :
			       expand_add(b, json_string_value(n), false);
	if (!json_is_array(n))
		return jfail(b, what);
	json_array_foreach(n, i, v)
	{
		if (!json_is_string(v))
			return jfail(b, what);
		r = expand_add(b, json_string_value(v), false);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_level(struct jb *b, const json_t *def, bool sub, int depth)
{
	const json_t *name, *opts, *o;
	size_t i;
	int r;

	if (depth > 4 || !json_is_object(def))
		return jfail(b, "must be an object with a name");
	name = json_object_get(def, "name");
	if (!json_is_string(name) || json_string_value(name)[0] == '\0')
		return jfail(b, "a command needs a name");
	r = sub ? add_words(b, json_string_value(name)) :
		  expand_add(b, json_string_value(name), false);
	if (r == 0)
		r = add_list(b, json_object_get(def, "flags"), true,
			     "flags must be a string or a list");
	if (r < 0)
		return r;
	opts = json_object_get(def, "options");
	if (opts != NULL && !json_is_null(opts)) {
		if (!json_is_array(opts))
			return jfail(b, "options must be a list");
		json_array_foreach(opts, i, o)
		{
			const json_t *on = json_object_get(o, "name"),
				     *ov = json_object_get(o, "value");
			const char *nm;
			if (!json_is_string(on))
				return jfail(b, "an option needs a name");
			nm = json_string_value(on);
			if (nm[0] != '\0' && nm[strlen(nm) - 1] == '=' &&
			    json_is_string(ov)) {
				/* "--user=" + value: one element */
				char *j = NULL;
				if (asprintf(&j, "%s%s", nm,
					     json_string_value(ov)) < 0)
					return -ENOMEM;
				r = expand_add(b, j, false);
				free(j);
				if (r < 0)
					return r;
				continue;
			}
			r = expand_add(b, nm, false);
			if (r == 0 && json_is_string(ov))
				r = expand_add(b, json_string_value(ov),
					       name_is_secret(nm, strlen(nm)));
			if (r < 0)
				return r;
		}
	}
	r = add_list(b, json_object_get(def, "arguments"), false,
		     "arguments must be a string or a list");
	if (r < 0)
		return r;
	const json_t *s = json_object_get(def, "sub-command");
	if (s != NULL && !json_is_null(s))
		return add_level(b, s, true, depth + 1);
	return 0;
}

int cmddef_build_json(struct dv_job *dj, const json_t *def, struct dv_argv *a,
		      char **error_r)
{
	struct jb b = { dj, a, NULL };
	int r = add_level(&b, def, false, 0);

	if (r < 0 && b.error == NULL)
		b.error = strdup("out of memory");
	*error_r = b.error;
	return r;
}

/* The configured definition as JSON (scalars become strings). */
static json_t *conf_to_json(const struct dmf_host_config *hc,
			    const struct dmf_conf *n, int depth)
{
	json_t *out;

	if (depth > 16)
		return NULL;
	switch (hc->kind(n)) {
	case DMF_CONF_SCALAR:
		return json_string(hc->scalar(n));
	case DMF_CONF_MAP:
		out = json_object();
		for (size_t i = 0; out != NULL && i < hc->count(n); i++) {
			const struct dmf_conf *c = hc->child(n, i);
			json_t *v = conf_to_json(hc, c, depth + 1);
			if (v == NULL || hc->key(c) == NULL ||
			    json_object_set_new(out, hc->key(c), v) < 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	case DMF_CONF_LIST:
		out = json_array();
		for (size_t i = 0; out != NULL && i < hc->count(n); i++) {
			json_t *v =
				conf_to_json(hc, hc->child(n, i), depth + 1);
			if (v == NULL || json_array_append_new(out, v) < 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	default:
		return json_null();
	}
}

int cmddef_build_conf(struct dv_job *dj, const struct dmf_conf *def,
		      struct dv_argv *a, char **error_r)
{
	const struct dmf_host_config *hc = dj->h->config;
	json_t *j = conf_to_json(hc, def, 0);
	char *e = NULL;
	int r;

	*error_r = NULL;
	if (j == NULL)
		return -ENOMEM;
	r = cmddef_build_json(dj, j, a, &e);
	json_decref(j);
	if (r < 0) {
		if (asprintf(error_r, "%s: %s", hc->origin(def),
			     e != NULL ? e : "out of memory") < 0)
			*error_r = NULL;
		free(e);
	}
	return r;
}
