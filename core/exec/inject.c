/* inject.c - %{mdb:..} / %{conf:..} placeholders, commands with values. */
#include "dmf-build.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmf/text.h"
#include "exec/command.h"
#include "exec/inject.h"
#include "lib/job.h"
#include "lib/mdb.h"
#include "lib/util.h"

const char *const inject_conf_names[] = {
	"imapc_host",	     "imapc_master_password",
	"imapc_master_user", "imapc_prefix",
	"imapc_port",	     NULL
};
const char *const inject_conf_keys[] = {
	"imapc.host",	     "imapc.master-password",
	"imapc.master-user", "imapc.prefix",
	"imapc.port",	     NULL
};

#define HIDDEN "<hidden>"

enum stage {
	STAGE_TEMPLATE = 0,
	STAGE_INJECT = 1,
	STAGE_IMAPC = 2,
	STAGE_MDB = 3
};

/* Every buffer here may hold a secret: wiped when it grows or is freed. */
#define SECRET_BUF                  \
	{                           \
		.wipe = secure_wipe \
	}

struct ctx {
	const struct dmf_job *job;
	const struct cfg_node *conf;
	char *error;
};

static bool in_list(const char *const *list, const char *name, size_t n,
		    size_t *index_r)
{
	for (size_t i = 0; list[i] != NULL; i++) {
		if (strlen(list[i]) == n && memcmp(list[i], name, n) == 0) {
			if (index_r != NULL)
				*index_r = i;
			return true;
		}
	}
	return false;
}

static const char *scalar_or_empty(const struct cfg_node *n)
{
	return n != NULL && n->kind == CFG_SCALAR ? n->value : "";
}

static const struct cfg_node *inject_map(const struct cfg_node *conf)
{
	const struct cfg_node *m = cfg_get(conf, "command.inject");

	return m != NULL && m->kind == CFG_MAP ? m : NULL;
}

static const struct cfg_node *inject_entry(const struct cfg_node *conf,
					   const char *name, size_t n)
{
	const struct cfg_node *m = inject_map(conf);

	if (m == NULL)
		return NULL;
	for (size_t i = 0; i < m->n_children; i++) {
		const char *k = m->children[i]->key;

		if (k != NULL && strlen(k) == n && memcmp(k, name, n) == 0)
			return m->children[i];
	}
	return NULL;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

DMF_PRINTF(2, 3)
static int set_error(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->error != NULL)
		return -EINVAL;
	va_start(ap, fmt);
	if (vasprintf(&c->error, fmt, ap) < 0)
		c->error = NULL;
	va_end(ap);
	return -EINVAL;
}

static const char *stage_name(enum stage s)
{
	switch (s) {
	case STAGE_INJECT:
		return "a command.inject value";
	case STAGE_IMAPC:
		return "an imapc value";
	default:
		return "a command";
	}
}

/*
 * Expand `text` found at stage `from` (placeholders of stages > from are
 * resolved) into val and disp (disp may be NULL).
 */
static int expand(struct ctx *c, const char *text, enum stage from,
		  struct dmf_strbuf *val, struct dmf_strbuf *disp)
{
	const char *p = text;

	while (*p != '\0') {
		const char *start, *close, *colon, *name;
		size_t nlen;
		bool is_mdb, secret = false;
		enum stage st;
		const char *value = NULL;
		char prefix = *p;

		if (p[0] == '%' && p[1] == '%' && p[2] == '{') {
			dmf_strbuf_add(val, "%{", 2);
			dmf_strbuf_add(disp, "%{", 2);
			p += 3;
			continue;
		}
		if (!((p[0] == '%' && p[1] == '{') ||
		      (p[0] == '$' && p[1] == '{' &&
		       (strncmp(p + 2, "mdb:", 4) == 0 ||
			strncmp(p + 2, "conf:", 5) == 0)))) {
			size_t run = 1;

			while (p[run] != '\0' && p[run] != '%' && p[run] != '$')
				run++;
			dmf_strbuf_add(val, p, run);
			dmf_strbuf_add(disp, p, run);
			p += run;
			continue;
		}
		start = p;
		close = strchr(p + 2, '}');
		colon = strchr(p + 2, ':');
		if (close == NULL) {
			return set_error(c,
					 "malformed placeholder '%.40s': "
					 "no closing '}'",
					 start);
		}
		if (colon == NULL || colon > close) {
			return set_error(c,
					 "malformed placeholder '%.*s': "
					 "expected %c{mdb:NAME} or "
					 "%c{conf:NAME}",
					 (int)(close - start + 1), start,
					 prefix, prefix);
		}
		is_mdb = (size_t)(colon - (p + 2)) == 3 &&
			 strncmp(p + 2, "mdb", 3) == 0;
		if (!is_mdb && !((size_t)(colon - (p + 2)) == 4 &&
				 strncmp(p + 2, "conf", 4) == 0)) {
			return set_error(c,
					 "malformed placeholder '%.*s': "
					 "unknown kind (expected mdb or conf)",
					 (int)(close - start + 1), start);
		}
		name = colon + 1;
		nlen = (size_t)(close - name);
		for (size_t i = 0; i < nlen; i++) {
			if (!name_char(name[i]))
				nlen = 0;
		}
		if (nlen == 0) {
			return set_error(c,
					 "malformed placeholder '%.*s': "
					 "bad or empty name",
					 (int)(close - start + 1), start);
		}
		p = close + 1;

		if (is_mdb) {
			const struct mdb_prop *mp = mdb_find(name, nlen);
			char key[64];

			if (mp == NULL || !(mp->flags & MDB_INJECT)) {
				return set_error(c,
						 "unknown placeholder "
						 "'%.*s' (no such mdb name)",
						 (int)(close - start + 1),
						 start);
			}
			st = STAGE_MDB;
			snprintf(key, sizeof(key), "%.*s", (int)nlen, name);
			if (c->job != NULL)
				value = job_get_property(c->job, key);
			secret = (mp->flags & MDB_SECRET) != 0 ||
				 (c->job != NULL &&
				  job_property_is_secret(c->job, key));
		} else {
			const struct cfg_node *e =
				inject_entry(c->conf, name, nlen);
			size_t idx;

			if (e != NULL) {
				st = STAGE_INJECT;
				if (e->kind != CFG_SCALAR &&
				    e->kind != CFG_NULL)
					return set_error(
						c,
						"command.inject.%.*s is not "
						"a string",
						(int)nlen, name);
				value = scalar_or_empty(e);
				secret = command_name_is_secret(name, nlen);
			} else if (in_list(inject_conf_names, name, nlen,
					   &idx)) {
				st = STAGE_IMAPC;
				value = scalar_or_empty(cfg_get(
					c->conf, inject_conf_keys[idx]));
				secret = command_name_is_secret(name, nlen);
			} else {
				return set_error(c,
						 "unknown placeholder "
						 "'%.*s' (not an imapc name "
						 "nor a command.inject key)",
						 (int)(close - start + 1),
						 start);
			}
		}
		if (st <= from) {
			return set_error(c,
					 "placeholder '%.*s' is not allowed "
					 "inside %s (resolution order: "
					 "inject, imapc, mdb)",
					 (int)(close - start + 1), start,
					 stage_name(from));
		}
		if (value == NULL)
			value = "";
		if (st == STAGE_MDB) {
			dmf_strbuf_adds(val, value);
			dmf_strbuf_adds(disp, secret ? HIDDEN : value);
		} else {
			int ret =
				expand(c, value, st, val, secret ? NULL : disp);

			if (ret < 0)
				return ret;
			if (secret)
				dmf_strbuf_adds(disp, HIDDEN);
		}
	}
	return 0;
}

int inject_expand(const struct dmf_job *job, const struct cfg_node *source_conf,
		  const char *text, char **value_r, char **display_r,
		  char **error_r)
{
	struct ctx c = { .job = job, .conf = source_conf };
	struct dmf_strbuf val = SECRET_BUF, disp = SECRET_BUF;
	char *v, *d = NULL;
	int ret;

	ret = expand(&c, text, STAGE_TEMPLATE, &val,
		     display_r != NULL ? &disp : NULL);
	if (ret == 0 && (val.failed || disp.failed))
		ret = -ENOMEM;
	if (ret < 0) {
		dmf_strbuf_free(&val);
		dmf_strbuf_free(&disp);
		*error_r = c.error != NULL ? c.error : xstrdup(strerror(-ret));
		return ret;
	}
	v = dmf_strbuf_take(&val);
	if (display_r != NULL)
		d = dmf_strbuf_take(&disp);
	if (v == NULL || (display_r != NULL && d == NULL)) {
		inject_free_string(&v);
		free(d);
		*error_r = xstrdup(strerror(ENOMEM));
		return -ENOMEM;
	}
	*value_r = v;
	if (display_r != NULL)
		*display_r = d;
	return 0;
}

/* The known secrets of a job as a NULL-terminated array of borrowed
 * pointers; NULL on out of memory. */
static const char **collect_secrets(const struct dmf_job *job,
				    const struct cfg_node *conf)
{
	const struct cfg_node *m = inject_map(conf);
	size_t max = 4 + (job != NULL ? job->n_props : 0) +
		     (m != NULL ? m->n_children : 0);
	const char **s = calloc(max, sizeof(*s));
	size_t n = 0;
	const char *v;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; job != NULL && i < job->n_props; i++) {
		if ((job->props[i].secret ||
		     strcmp(job->props[i].name, "sourcepasswd") == 0) &&
		    job->props[i].value != NULL)
			s[n++] = job->props[i].value;
	}
	v = scalar_or_empty(cfg_get(conf, "imapc.master-password"));
	if (*v != '\0')
		s[n++] = v;
	for (size_t i = 0; m != NULL && i < m->n_children; i++) {
		const struct cfg_node *e = m->children[i];

		if (e->key != NULL &&
		    command_name_is_secret(e->key, strlen(e->key)) &&
		    e->kind == CFG_SCALAR)
			s[n++] = e->value;
	}
	s[n] = NULL;
	return s;
}

char *inject_redact_values(const char *text, const char *const *secrets)
{
	struct dmf_strbuf out = SECRET_BUF;
	const char *p = text;

	while (*p != '\0') {
		size_t best = 0;

		for (size_t i = 0; secrets != NULL && secrets[i] != NULL; i++) {
			size_t l = strlen(secrets[i]);

			if (l >= 4 && l > best &&
			    strncmp(p, secrets[i], l) == 0)
				best = l;
		}
		if (best > 0) {
			dmf_strbuf_adds(&out, HIDDEN);
			p += best;
		} else {
			dmf_strbuf_add(&out, p, 1);
			p++;
		}
	}
	return dmf_strbuf_take(&out);
}

char *inject_redact(const struct dmf_job *job,
		    const struct cfg_node *source_conf, const char *text)
{
	const char **secrets = collect_secrets(job, source_conf);
	char *out;

	if (secrets == NULL)
		return NULL;
	out = inject_redact_values(text, secrets);
	free(secrets);
	return out;
}

void inject_free_string(char **s)
{
	secret_free(s);
}

void inject_command_free(struct dmf_command **command)
{
	struct dmf_command *cmd;

	if (command == NULL || *command == NULL)
		return;
	cmd = *command;
	*command = NULL;
	for (size_t i = 0; cmd->argv != NULL && i < cmd->argc; i++)
		secret_free(&cmd->argv[i]);
	free(cmd->argv);
	free(cmd->display);
	free(cmd);
}

int inject_build(const struct dmf_job *job, const struct cfg_node *source_conf,
		 const struct cfg_node *def, struct dmf_command **command_r,
		 char **error_r)
{
	struct command_template *tpl = NULL;
	struct dmf_command *cmd;
	char **shown = NULL, *joined;
	int ret;

	ret = command_parse(def, &tpl, error_r);
	if (ret < 0)
		return ret;
	cmd = calloc(1, sizeof(*cmd));
	if (cmd != NULL)
		cmd->argv = calloc(tpl->n + 1, sizeof(*cmd->argv));
	shown = calloc(tpl->n + 1, sizeof(*shown));
	if (cmd == NULL || cmd->argv == NULL || shown == NULL) {
		ret = -ENOMEM;
		*error_r = xstrdup(strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < tpl->n; i++) {
		char *d = NULL;

		ret = inject_expand(job, source_conf, tpl->args[i].text,
				    &cmd->argv[i], &d, error_r);
		if (ret < 0)
			goto out;
		cmd->argc = i + 1;
		shown[i] = command_redact_element(tpl->args[i].option, d);
		free(d);
		if (shown[i] == NULL) {
			ret = -ENOMEM;
			*error_r = xstrdup(strerror(ENOMEM));
			goto out;
		}
	}
	joined = command_join((const char *const *)shown, tpl->n);
	if (joined != NULL) {
		cmd->display = inject_redact(job, source_conf, joined);
		free(joined);
	}
	if (cmd->display == NULL) {
		ret = -ENOMEM;
		*error_r = xstrdup(strerror(ENOMEM));
		goto out;
	}
	*command_r = cmd;
	cmd = NULL;
	ret = 0;
out:
	for (size_t i = 0; shown != NULL && i < tpl->n; i++)
		free(shown[i]);
	free(shown);
	command_template_free(&tpl);
	inject_command_free(&cmd);
	return ret;
}
