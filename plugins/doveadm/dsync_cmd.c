/* dsync_cmd.c - the migration command and its conversion (dsync_cmd.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsync_cmd.h"

static const char *nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

void imapc_resolve(const struct doveadm_source_conf *c,
		   const struct imapc_job_values *jv, struct imapc_params *p)
{
	*p = (struct imapc_params){ 0 };
	p->host = nonempty(c->imapc.host);
	if (p->host == NULL)
		p->host = nonempty(jv->sourcehost);
	p->ssl = nonempty(c->imapc.ssl);
	if (p->ssl == NULL)
		p->ssl = nonempty(jv->imapc_ssl);
	if (p->ssl == NULL)
		p->ssl = "no";
	if (c->imapc.port > 0) {
		snprintf(p->port_buf, sizeof(p->port_buf), "%d", c->imapc.port);
		p->port = p->port_buf;
	} else if (nonempty(jv->sourceport) != NULL) {
		p->port = jv->sourceport;
	} else {
		p->port = strcmp(p->ssl, "imaps") == 0 ? "993" : "143";
	}
	p->user = nonempty(jv->ruid);
	if (p->user == NULL)
		p->user = nonempty(jv->uid);
	p->master_user = nonempty(c->imapc.master_user);
	p->password = p->master_user != NULL ? c->imapc.master_password :
					       jv->sourcepasswd;
	p->prefix = nonempty(c->imapc.prefix);
}

size_t imapc_jobconf_settings(const struct imapc_params *p,
			      const char *doveadm_password,
			      struct jobconf_setting out[8])
{
	size_t n = 0;

	out[n++] = (struct jobconf_setting){ "imapc_host", p->host };
	out[n++] = (struct jobconf_setting){ "imapc_port", p->port };
	out[n++] = (struct jobconf_setting){ "imapc_ssl", p->ssl };
	out[n++] = (struct jobconf_setting){ "imapc_user", p->user };
	out[n++] =
		(struct jobconf_setting){ "imapc_master_user", p->master_user };
	out[n++] = (struct jobconf_setting){ "imapc_password", p->password };
	out[n++] = (struct jobconf_setting){ "imapc_list_prefix", p->prefix };
	if (doveadm_password != NULL)
		out[n++] = (struct jobconf_setting){ "doveadm_password",
						     doveadm_password };
	return n;
}

static void show_setting(struct dv_argv *a, const char *name, const char *value)
{
	char *s = NULL;

	if (value == NULL)
		return;
	if (asprintf(&s, "%s=%s", name, value) < 0) {
		a->failed = true;
		return;
	}
	dv_argv_add(a, NULL, "-o");
	dv_argv_add(a, NULL, s);
	free(s);
}

void imapc_show_settings(const struct imapc_params *p, struct dv_argv *a)
{
	show_setting(a, "imapc_host", p->host);
	show_setting(a, "imapc_port", p->port);
	show_setting(a, "imapc_ssl", p->ssl);
	show_setting(a, "imapc_user", p->user);
	show_setting(a, "imapc_master_user", p->master_user);
	if (p->password != NULL)
		show_setting(a, "imapc_password", "<hidden>");
	show_setting(a, "imapc_list_prefix", p->prefix);
}

void dsync_add_mail_log(struct dv_argv *a, const char *mail_plugins)
{
	char *s = NULL;

	if (asprintf(&s, "mail_plugins=%s%snotify mail_log",
		     mail_plugins != NULL ? mail_plugins : "",
		     mail_plugins != NULL && *mail_plugins != '\0' ? " " : "") <
	    0) {
		a->failed = true;
		return;
	}
	dv_argv_add(a, "-o", NULL);
	dv_argv_add(a, s, NULL);
	free(s);
	dv_argv_add(a, "-o", NULL);
	dv_argv_add(a,
		    "plugin/mail_log_events=save copy expunge "
		    "mailbox_create mailbox_delete mailbox_rename",
		    NULL);
	dv_argv_add(a, "-o", NULL);
	dv_argv_add(a, "plugin/mail_log_fields=uid box msgid size vsize", NULL);
}

static void add_extra(struct dv_argv *a, const char *const *extra)
{
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		dv_argv_add(a, extra[i], NULL);
}

static void add_excludes(struct dv_argv *a, const char *list)
{
	const char *s = list;

	while (s != NULL && *s != '\0') {
		size_t len = strcspn(s, ",\n");
		const char *b = s, *e = s + len;
		while (b < e && (*b == ' ' || *b == '\t' || *b == '\r'))
			b++;
		while (e > b &&
		       (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (e > b) {
			char *m = strndup(b, (size_t)(e - b));
			if (m == NULL) {
				a->failed = true;
				return;
			}
			dv_argv_add(a, "-x", NULL);
			dv_argv_add(a, m, NULL);
			free(m);
		}
		s += len;
		if (*s != '\0')
			s++;
	}
}

void dsync_default_argv(const struct dsync_opts *o, struct dv_argv *a)
{
	dv_argv_add(a, o->doveadm_path, "doveadm");
	dv_argv_add_run_only(a, "-c");
	dv_argv_add_run_only(a, o->jobconf);
	if (o->config_shown != NULL) {
		dv_argv_add(a, NULL, "-c");
		dv_argv_add(a, NULL, o->config_shown);
	}
	add_extra(a, o->extra);
	imapc_show_settings(o->imapc, a);
	for (size_t i = 0; o->settings != NULL && o->settings[i] != NULL; i++) {
		dv_argv_add(a, "-o", NULL);
		dv_argv_add(a, o->settings[i], NULL);
	}
	if (o->mail_log)
		dsync_add_mail_log(a, o->mail_plugins);
	dv_argv_add(a, "backup", NULL);
	dv_argv_add(a, "-R", NULL);
	if (o->lock_secs > 0) {
		char secs[16];

		snprintf(secs, sizeof(secs), "%u", o->lock_secs);
		dv_argv_add(a, "-l", NULL);
		dv_argv_add(a, secs, NULL);
	}
	add_excludes(a, o->exclude);
	dv_argv_add(a, "-u", NULL);
	dv_argv_add(a, o->uid, NULL);
	dv_argv_add(a, "imapc:", NULL);
}

static bool is_password_setting(const char *s, size_t *name_len)
{
	static const char *const names[] = { "imapc_password=",
					     "doveadm_password=" };
	for (size_t i = 0; i < 2; i++) {
		size_t l = strlen(names[i]);
		if (strncmp(s, names[i], l) == 0) {
			*name_len = l - 1;
			return true;
		}
	}
	return false;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s != NULL ? s + 1 : p;
}

/* doveadm's global options that take a value. */
static bool takes_value(const char *opt)
{
	return strcmp(opt, "-o") == 0 || strcmp(opt, "-c") == 0 ||
	       strcmp(opt, "-f") == 0 || strcmp(opt, "-i") == 0;
}

void dsync_moved_free(struct dsync_moved moved[4], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(moved[i].name);
		dv_free_secret(&moved[i].value);
	}
}

int dsync_convert(char *const *argv, char *const *shown,
		  const char *const *subcommands, struct dv_argv *a,
		  struct dsync_moved moved[4], size_t *n_moved, char **config_r,
		  const char **error_r)
{
	size_t i, n = 0;
	char *config = NULL;
	bool sub_ok = false;

	*n_moved = 0;
	if (argv == NULL || argv[0] == NULL ||
	    strcmp(base_name(argv[0]), "doveadm") != 0) {
		*error_r = "the command is not doveadm";
		return -EINVAL;
	}
	dv_argv_add(a, argv[0], shown != NULL ? shown[0] : NULL);
	for (i = 1; argv[i] != NULL && argv[i][0] == '-'; i++) {
		const char *opt = argv[i], *val = NULL;
		bool joined = false;
		size_t nl;

		if (takes_value(opt)) {
			if (argv[i + 1] == NULL)
				break;
			val = argv[++i];
		} else if ((strncmp(opt, "-o", 2) == 0 ||
			    strncmp(opt, "-c", 2) == 0) &&
			   opt[2] != '\0') {
			val = opt + 2;
			opt = opt[1] == 'o' ? "-o" : "-c";
			joined = true;
		}
		if (strcmp(opt, "-o") == 0 && is_password_setting(val, &nl)) {
			if (n == 4) {
				*error_r = "too many password settings";
				goto fail;
			}
			moved[n].name = strndup(val, nl);
			moved[n].value = strdup(val + nl + 1);
			n++;
			if (moved[n - 1].name == NULL ||
			    moved[n - 1].value == NULL) {
				*error_r = "out of memory";
				goto fail;
			}
			dv_argv_add(a, NULL, "-o");
			char hidden[64];
			snprintf(hidden, sizeof(hidden), "%.*s=<hidden>",
				 (int)nl, val);
			dv_argv_add(a, NULL, hidden);
			continue;
		}
		if (strcmp(opt, "-c") == 0) {
			free(config);
			config = strdup(val);
			if (config == NULL) {
				*error_r = "out of memory";
				goto fail;
			}
			continue;
		}
		if (joined || val == NULL) {
			dv_argv_add(a, argv[i],
				    shown != NULL ? shown[i] : NULL);
		} else {
			dv_argv_add(a, argv[i - 1],
				    shown != NULL ? shown[i - 1] : NULL);
			dv_argv_add(a, argv[i],
				    shown != NULL ? shown[i] : NULL);
		}
	}
	if (argv[i] != NULL) {
		for (size_t s = 0; subcommands[s] != NULL; s++) {
			/* a sub-command may have two words ("mailbox status") */
			const char *sp = strchr(subcommands[s], ' ');
			if (sp == NULL) {
				if (strcmp(argv[i], subcommands[s]) == 0)
					sub_ok = true;
			} else if (strncmp(argv[i], subcommands[s],
					   (size_t)(sp - subcommands[s])) ==
					   0 &&
				   argv[i][sp - subcommands[s]] == '\0' &&
				   argv[i + 1] != NULL &&
				   strcmp(argv[i + 1], sp + 1) == 0) {
				sub_ok = true;
			}
		}
	}
	if (!sub_ok) {
		*error_r = "the command is not one of the doveadm sub-commands "
			   "allowed here";
		goto fail;
	}
	for (; argv[i] != NULL; i++) {
		size_t nl;
		if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2] != '\0' &&
		    is_password_setting(argv[i] + 2, &nl)) {
			*error_r = "a password setting after the sub-command";
			goto fail;
		}
		dv_argv_add(a, argv[i], shown != NULL ? shown[i] : NULL);
	}
	if (a->failed) {
		*error_r = "out of memory";
		goto fail;
	}
	*n_moved = n;
	*config_r = config;
	return 0;
fail:
	dsync_moved_free(moved, n);
	free(config);
	dv_argv_free(a);
	return -EINVAL;
}

void dsync_add_lock(struct dv_argv *a, unsigned secs)
{
	size_t i, sub = 0;
	char text[16];

	if (secs == 0)
		return;
	/* the first run element after the global options */
	for (i = 1; i < a->n && sub == 0; i++) {
		if (a->v[i] == NULL)
			continue; /* shown only */
		if (a->v[i][0] != '-')
			sub = i;
		else if (takes_value(a->v[i]))
			i++;
	}
	if (sub == 0)
		return;
	for (i = sub + 1; i < a->n; i++)
		if (a->v[i] != NULL && strncmp(a->v[i], "-l", 2) == 0)
			return; /* -l SECS or -lSECS of its own */
	snprintf(text, sizeof(text), "%u", secs);
	dv_argv_insert(a, sub + 1, "-l", NULL);
	dv_argv_insert(a, sub + 2, text, NULL);
}

void dsync_insert_jobconf(struct dv_argv *a, const char *jobconf,
			  const char *config_shown, const char *const *extra)
{
	struct dv_argv tail = { 0 };

	/* rebuild: argv[0], -c JOBCONF, extras, the rest */
	for (size_t i = 1; i < a->n; i++) {
		if (a->v[i] == NULL)
			dv_argv_add(&tail, NULL, a->show[i]);
		else if (a->show[i] == NULL)
			dv_argv_add_run_only(&tail, a->v[i]);
		else
			dv_argv_add(&tail, a->v[i], a->show[i]);
	}
	while (a->n > 1)
		dv_argv_remove(a, a->n - 1);
	dv_argv_add_run_only(a, "-c");
	dv_argv_add_run_only(a, jobconf);
	if (config_shown != NULL) {
		dv_argv_add(a, NULL, "-c");
		dv_argv_add(a, NULL, config_shown);
	}
	add_extra(a, extra);
	for (size_t i = 0; i < tail.n; i++) {
		if (tail.v[i] == NULL)
			dv_argv_add(a, NULL, tail.show[i]);
		else if (tail.show[i] == NULL)
			dv_argv_add_run_only(a, tail.v[i]);
		else
			dv_argv_add(a, tail.v[i], tail.show[i]);
	}
	if (tail.failed)
		a->failed = true;
	dv_argv_free(&tail);
}
