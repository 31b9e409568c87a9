/* test_command.c - command definitions to argv, quoting, redaction. */
#include "dmf-build.h"

#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "exec/command.h"
#include "lib/config.h"

struct shape_case {
	const char *name;
	const char *yaml; /* the definition under key `cmd` */
	const char *argv; /* elements joined with '|', or NULL for an error */
	const char *error; /* part of the error message */
};

static const struct shape_case shapes[] = {
	{ "name only", "cmd:\n  name: echo\n", "echo", NULL },
	{ "arguments as one string stay one element",
	  "cmd:\n  name: echo\n  arguments: \"messages vsize\"\n",
	  "echo|messages vsize", NULL },
	{ "arguments as a list",
	  "cmd:\n  name: echo\n  arguments:\n    - pre\n    - sync\n"
	  "    - \"%{mdb:uid}\"\n",
	  "echo|pre|sync|%{mdb:uid}", NULL },
	{ "flags as a string split on blanks",
	  "cmd:\n  name: x\n  flags: \"-R  -D\"\n", "x|-R|-D", NULL },
	{ "flags as a list", "cmd:\n  name: x\n  flags: [-R, \"-a b\"]\n",
	  "x|-R|-a b", NULL },
	{ "options name/value pairs",
	  "cmd:\n  name: doveadm\n  options:\n    - name: -f\n      value: "
	  "tab\n"
	  "    - name: -o\n      value: \"mail=imapc:\"\n",
	  "doveadm|-f|tab|-o|mail=imapc:", NULL },
	{ "option without value",
	  "cmd:\n  name: x\n  options:\n    - name: --verbose\n", "x|--verbose",
	  NULL },
	{ "option name ending in = joins its value",
	  "cmd:\n  name: x\n  options:\n    - name: --user=\n      value: u1\n",
	  "x|--user=u1", NULL },
	{ "order: name flags options arguments",
	  "cmd:\n  name: x\n  arguments: [a1]\n  options:\n    - name: -o\n"
	  "      value: v\n  flags: -f\n",
	  "x|-f|-o|v|a1", NULL },
	{ "spec 3.13 sync example (doveadm backup)",
	  "cmd:\n  name: doveadm\n  options:\n"
	  "    - name: -o\n      value: \"imapc_user=%{mdb:ruid}\"\n"
	  "    - name: -o\n      value: "
	  "\"imapc_password=%{conf:imapc_master_password}\"\n"
	  "    - name: -o\n      value: \"imapc_host=%{mdb:sourcehost}\"\n"
	  "  sub-command:\n    name: backup\n    flags: -R\n"
	  "    arguments: \"imapc:\"\n    options:\n      - name: -u\n"
	  "        value: \"%{mdb:uid}\"\n",
	  "doveadm|-o|imapc_user=%{mdb:ruid}|-o|"
	  "imapc_password=%{conf:imapc_master_password}|-o|"
	  "imapc_host=%{mdb:sourcehost}|backup|-R|-u|%{mdb:uid}|imapc:",
	  NULL },
	{ "spec 3.11.4.5 remote count example (sub-command name splits)",
	  "cmd:\n  name: doveadm\n  options:\n    - name: -f\n      value: "
	  "tab\n"
	  "  sub-command:\n    name: mailbox status\n    arguments:\n"
	  "      - \"messages vsize\"\n      - \"INBOX/*\"\n      - INBOX\n"
	  "      - \"*\"\n    options:\n      - name: -u\n"
	  "        value: \"${mdb:uid}\"\n",
	  "doveadm|-f|tab|mailbox|status|-u|${mdb:uid}|messages vsize|INBOX/*|"
	  "INBOX|*",
	  NULL },
	{ "nested sub-command",
	  "cmd:\n  name: a\n  sub-command:\n    name: b\n    sub-command:\n"
	  "      name: c\n      arguments: d\n",
	  "a|b|c|d", NULL },
	{ "root name is one element even with a blank",
	  "cmd:\n  name: \"/opt/my tools/run\"\n", "/opt/my tools/run", NULL },
	{ "empty arguments and flags are ignored",
	  "cmd:\n  name: x\n  arguments:\n  flags:\n", "x", NULL },
	{ "no name", "cmd:\n  arguments: [a]\n", NULL, "needs a name" },
	{ "not a map", "cmd: echo\n", NULL, "must be a map" },
	{ "options not a list", "cmd:\n  name: x\n  options: -v\n", NULL,
	  "options must be a list" },
	{ "option without name",
	  "cmd:\n  name: x\n  options:\n    - value: v\n", NULL,
	  "an option needs a name" },
	{ "unknown option key",
	  "cmd:\n  name: x\n  options:\n    - name: -o\n      vaule: v\n", NULL,
	  "unknown option key" },
	{ "unknown command key", "cmd:\n  name: x\n  argument: a\n", NULL,
	  "unknown command key" },
	{ "arguments as a map", "cmd:\n  name: x\n  arguments:\n    a: b\n",
	  NULL, "arguments must be a string or a list" },
	{ "sub-command without name",
	  "cmd:\n  name: x\n  sub-command:\n    flags: -R\n", NULL,
	  "needs a name" },
};

static char *joined(const struct command_template *t)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < t->n; i++)
		len += strlen(t->args[i].text) + 1;
	s = calloc(1, len);
	for (size_t i = 0; i < t->n; i++) {
		if (i > 0)
			strcat(s, "|");
		strcat(s, t->args[i].text);
	}
	return s;
}

static void test_shapes(void)
{
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape_case *c = &shapes[i];
		struct config *cfg = NULL;
		struct command_template *t = NULL;
		char *err = NULL;
		int ret;

		if (config_load_string(c->yaml, "t.yml", NULL, &cfg, &err) <
		    0) {
			ok(0, "%s: yaml loads (%s)", c->name, err);
			free(err);
			continue;
		}
		ret = command_parse(cfg_child(cfg->root, "cmd"), &t, &err);
		if (c->argv != NULL) {
			char *j = ret == 0 ? joined(t) : NULL;

			is_str(j, c->argv, "%s", c->name);
			if (ret < 0)
				diag("error: %s", err);
			free(j);
		} else {
			ok(ret < 0, "%s: fails", c->name);
			like(err, c->error, "%s: message", c->name);
			like(err, "t.yml:", "%s: message names the file",
			     c->name);
		}
		free(err);
		command_template_free(&t);
		config_free(&cfg);
	}
}

static void test_option_marks(void)
{
	struct config *cfg = NULL;
	struct command_template *t = NULL;
	char *err = NULL;

	config_load_string("cmd:\n  name: x\n  options:\n    - name: -o\n"
			   "      value: v\n    - name: --password=\n"
			   "      value: pw\n",
			   "t.yml", NULL, &cfg, &err);
	ok(command_parse(cfg_child(cfg->root, "cmd"), &t, &err) == 0, "parse");
	is_int(t->n, 4, "four elements");
	ok(t->args[1].option == NULL, "option name is not a value");
	is_str(t->args[2].option, "-o", "value knows its option");
	is_str(t->args[3].option, "--password=", "joined value knows it");
	command_template_free(&t);
	config_free(&cfg);
}

static const struct {
	const char *in, *out;
} quotes[] = {
	{ "plain", "plain" },
	{ "imapc_host=h.example:143", "imapc_host=h.example:143" },
	{ "a b", "'a b'" },
	{ "", "''" },
	{ "it's", "'it'\\''s'" },
	{ "a;b", "'a;b'" },
	{ "$(x)", "'$(x)'" },
	{ "`x`", "'`x`'" },
	{ "a\nb", "$'a\\nb'" },
	{ "tab\there", "$'tab\\there'" },
	{ "q'\x01", "$'q\\'\\x01'" },
	{ "INBOX/*", "'INBOX/*'" },
	{ "<hidden>", "<hidden>" },
	{ "pw=<hidden>", "pw=<hidden>" },
	{ "a <hidden>", "'a <hidden>'" },
	{ "<b>", "'<b>'" },
};

static void test_quote(void)
{
	const char *els[] = { "doveadm", "a b", "c" };
	char *s;

	for (size_t i = 0; i < sizeof(quotes) / sizeof(quotes[0]); i++) {
		s = command_quote(quotes[i].in);
		is_str(s, quotes[i].out, "quote %zu", i);
		free(s);
	}
	s = command_join(els, 3);
	is_str(s, "doveadm 'a b' c", "join");
	free(s);
}

static const struct {
	const char *option, *text, *out;
} redactions[] = {
	{ "-o", "imapc_password=s3cret", "imapc_password=<hidden>" },
	{ "-o", "imapc_master_password=s3cret",
	  "imapc_master_password=<hidden>" },
	{ "-o", "imapc_user=u1", "imapc_user=u1" },
	{ NULL, "IMAPC_PASSWORD=x", "IMAPC_PASSWORD=<hidden>" },
	{ "--password", "s3cret", "<hidden>" },
	{ "--password=", "--password=s3cret", "--password=<hidden>" },
	{ "-p", "s3cret", "s3cret" }, /* unknown by name: value-based only */
	{ "-o", "mail=imapc:", "mail=imapc:" },
	{ NULL, "secret_token=abc", "secret_token=<hidden>" },
	{ NULL, "a=b=password", "a=b=password" },
};

static void test_redaction(void)
{
	for (size_t i = 0; i < sizeof(redactions) / sizeof(redactions[0]);
	     i++) {
		char *s = command_redact_element(redactions[i].option,
						 redactions[i].text);

		is_str(s, redactions[i].out, "redact %s %s",
		       redactions[i].option ? redactions[i].option : "-",
		       redactions[i].text);
		free(s);
	}
	ok(command_name_is_secret("imapc_master_PASSWORD", 21), "secret name");
	ok(!command_name_is_secret("imapc_user", 10), "not a secret name");
}

int main(void)
{
	plan_lazy();
	test_shapes();
	test_option_marks();
	test_quote();
	test_redaction();
	return done_testing();
}
