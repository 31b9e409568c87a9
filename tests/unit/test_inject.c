/* test_inject.c - %{mdb:..} / %{conf:..} placeholders and built commands. */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "lib/config.h"
#include "exec/inject.h"
#include "lib/job.h"
#include "lib/mdb.h"

static const char *const conf_yaml =
	"src:\n"
	"  imapc:\n"
	"    host: imap.example\n"
	"    port: 993\n"
	"    prefix: \"INBOX/%{mdb:uid}\"\n"
	"    master-user: master\n"
	"    master-password: M4sterPw\n"
	"  command:\n"
	"    inject:\n"
	"      test: value\n"
	"      imapc_port: 1143\n"
	"      chain: \"host=%{conf:imapc_host} user=%{mdb:uid}\"\n"
	"      loop: \"%{conf:test}\"\n"
	"      api_password: ApiS3cret\n"
	"      uses_master: \"pw=%{conf:imapc_master_password}\"\n"
	"      empty:\n";

static struct dmf_job *make_job(void)
{
	static const char *const props[][2] = {
		{ "md5path", "ab/cd/user1" },
		{ "2chrruid", "ru" },
		{ "container", "cont1" },
		{ "uid", "user1" },
		{ "ruid", "ruser1" },
		{ "sourcehost", "src.example" },
		{ "source", "POD_1" },
		{ "imapoptions", "opt1" },
		{ "email", "user1@example.com" },
		{ "sourceport", "143" },
		{ "imapc_ssl", "no" },
		{ "exclude", "Trash" },
		{ "directorSourcehost", "backend7" },
	};
	struct dmf_job *job = job_new("42", "sync", "POD_1", "cloud");

	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
		job_set_property(job, props[i][0], props[i][1], false);
	job_set_property(job, "sourcepasswd", "UserPw99", true);
	return job;
}

struct expand_case {
	const char *name, *text, *value, *display;
};

static const struct expand_case cases[] = {
	/* every mdb name */
	{ "mdb md5path", "%{mdb:md5path}", "ab/cd/user1", NULL },
	{ "mdb 2chrruid", "%{mdb:2chrruid}", "ru", NULL },
	{ "mdb container", "%{mdb:container}", "cont1", NULL },
	{ "mdb uid", "%{mdb:uid}", "user1", NULL },
	{ "mdb ruid", "%{mdb:ruid}", "ruser1", NULL },
	{ "mdb sourcehost", "%{mdb:sourcehost}", "src.example", NULL },
	{ "mdb source", "%{mdb:source}", "POD_1", NULL },
	{ "mdb sourcepasswd", "%{mdb:sourcepasswd}", "UserPw99", "<hidden>" },
	{ "mdb imapoptions", "%{mdb:imapoptions}", "opt1", NULL },
	{ "mdb email", "%{mdb:email}", "user1@example.com", NULL },
	{ "mdb sourceport", "%{mdb:sourceport}", "143", NULL },
	{ "mdb imapc_ssl", "%{mdb:imapc_ssl}", "no", NULL },
	{ "mdb exclude", "%{mdb:exclude}", "Trash", NULL },
	{ "mdb directorSourcehost", "%{mdb:directorSourcehost}", "backend7",
	  NULL },
	/* every conf name */
	{ "conf imapc_host", "%{conf:imapc_host}", "imap.example", NULL },
	{ "conf imapc_master_password", "%{conf:imapc_master_password}",
	  "M4sterPw", "<hidden>" },
	{ "conf imapc_master_user", "%{conf:imapc_master_user}", "master",
	  NULL },
	{ "conf imapc_prefix (itself uses mdb)", "%{conf:imapc_prefix}",
	  "INBOX/user1", NULL },
	{ "conf custom inject key", "setting=%{conf:test}", "setting=value",
	  NULL },
	/* resolution order */
	{ "inject wins over imapc for the same name", "%{conf:imapc_port}",
	  "1143", NULL },
	{ "inject value uses imapc and mdb", "%{conf:chain}",
	  "host=imap.example user=user1", NULL },
	{ "secret inject key hidden", "%{conf:api_password}", "ApiS3cret",
	  "<hidden>" },
	{ "inject value embedding a secret", "%{conf:uses_master}",
	  "pw=M4sterPw", "pw=<hidden>" },
	{ "known inject key without value", "[%{conf:empty}]", "[]", NULL },
	/* spellings and text around placeholders */
	{ "${mdb:..} spelling", "imapc_user=${mdb:ruid}", "imapc_user=ruser1",
	  NULL },
	{ "${conf:..} spelling", "${conf:imapc_host}", "imap.example", NULL },
	{ "several in one element",
	  "%{mdb:uid}@%{conf:imapc_host}:%{mdb:sourceport}",
	  "user1@imap.example:143", NULL },
	{ "%%{ is a literal %{", "%%{mdb:uid}", "%{mdb:uid}", NULL },
	{ "shell ${VAR} untouched", "${HOME}/x $PATH 100%",
	  "${HOME}/x $PATH 100%", NULL },
	{ "lone % and $ untouched", "50% $", "50% $", NULL },
	{ "no placeholders", "imapc:", "imapc:", NULL },
};

struct error_case {
	const char *name, *text, *error;
};

static const struct error_case errors[] = {
	{ "unknown mdb name", "%{mdb:nope}",
	  "unknown placeholder '%{mdb:nope}'" },
	{ "unknown conf name", "x=%{conf:nope}",
	  "unknown placeholder '%{conf:nope}'" },
	{ "unknown kind", "%{env:HOME}", "unknown kind" },
	{ "no colon", "%{uid}", "malformed placeholder '%{uid}'" },
	{ "unterminated", "a %{mdb:uid", "no closing '}'" },
	{ "unterminated ${", "${mdb:uid", "no closing '}'" },
	{ "empty name", "%{mdb:}", "bad or empty name" },
	{ "bad name char", "%{mdb:u id}", "bad or empty name" },
	{ "inject value naming another inject key", "%{conf:loop}",
	  "not allowed inside a command.inject value" },
	{ "mdb name wrong case", "%{mdb:UID}", "unknown placeholder" },
};

static void test_expand(struct dmf_job *job, const struct cfg_node *src)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *v = NULL, *d = NULL, *err = NULL;
		int ret = inject_expand(job, src, cases[i].text, &v, &d, &err);

		ok(ret == 0, "%s: expands", cases[i].name);
		if (ret < 0)
			diag("%s", err);
		is_str(v, cases[i].value, "%s: value", cases[i].name);
		is_str(d, cases[i].display ? cases[i].display : cases[i].value,
		       "%s: display", cases[i].name);
		inject_free_string(&v);
		free(d);
		free(err);
	}
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		char *v = NULL, *err = NULL;
		int ret =
			inject_expand(job, src, errors[i].text, &v, NULL, &err);

		ok(ret == -EINVAL, "%s: fails", errors[i].name);
		ok(v == NULL, "%s: no value", errors[i].name);
		like(err, errors[i].error, "%s: message", errors[i].name);
		free(err);
	}
}

static void test_every_mdb_name_known(struct dmf_job *job)
{
	size_t n = 0;

	for (size_t i = 0; i < mdb_n_props; i++) {
		char text[64], *v = NULL, *err = NULL;
		bool inject = (mdb_props[i].flags & MDB_INJECT) != 0;

		snprintf(text, sizeof(text), "%%{mdb:%s}", mdb_props[i].name);
		is_int(inject_expand(job, NULL, text, &v, NULL, &err),
		       inject ? 0 : -EINVAL, "mdb:%s %s", mdb_props[i].name,
		       inject ? "known" : "not a %{mdb:} name");
		n += inject;
		inject_free_string(&v);
		free(err);
	}
	is_int(n, 14, "14 mdb names");
	for (size_t i = 0; inject_conf_names[i] != NULL; i++) {
		char text[64], *v = NULL, *err = NULL;

		snprintf(text, sizeof(text), "[%%{conf:%s}]",
			 inject_conf_names[i]);
		ok(inject_expand(NULL, NULL, text, &v, NULL, &err) == 0,
		   "conf:%s known without config", inject_conf_names[i]);
		is_str(v, "[]", "conf:%s empty without config",
		       inject_conf_names[i]);
		inject_free_string(&v);
		free(err);
	}
}

/* Values from the job are never expanded again, whatever they hold. */
static void test_hostile_values(const struct cfg_node *src)
{
	static const char *const hostile[] = {
		"a; touch /tmp/pwned",
		"$(touch /tmp/pwned)",
		"`touch /tmp/pwned`",
		"a b  c",
		"\"quoted\" 'single'",
		"line1\nline2",
		"\xff\xfe non-utf8 \x80",
		"%{conf:imapc_master_password}",
		"${mdb:sourcepasswd}",
		"%{mdb:uid",
		"-o",
		"",
	};
	struct config *cfg = NULL;
	char *err = NULL;

	config_load_string("cmd:\n  name: /bin/echo\n  arguments:\n"
			   "    - \"%{mdb:uid}\"\n  options:\n"
			   "    - name: -u\n      value: \"%{mdb:uid}\"\n",
			   "h.yml", NULL, &cfg, &err);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct dmf_job *job = job_new("1", "sync", "POD_1", "t");
		struct dmf_command *cmd = NULL;

		job_set_property(job, "uid", hostile[i], false);
		ok(inject_build(job, src, cfg_child(cfg->root, "cmd"), &cmd,
				&err) == 0,
		   "hostile %zu builds", i);
		if (cmd == NULL) {
			diag("%s", err);
			free(err);
			err = NULL;
			job_free(&job);
			continue;
		}
		is_int(cmd->argc, 4, "hostile %zu: argc stays 4", i);
		is_str(cmd->argv[2], hostile[i],
		       "hostile %zu: option value "
		       "is exactly the value",
		       i);
		is_str(cmd->argv[3], hostile[i],
		       "hostile %zu: argument is "
		       "exactly the value",
		       i);
		ok(cmd->argv[4] == NULL, "hostile %zu: NULL-terminated", i);
		ok(strchr(cmd->display, '\n') == NULL,
		   "hostile %zu: display is one line", i);
		ok(strstr(cmd->display, "M4sterPw") == NULL,
		   "hostile %zu: no secret in display", i);
		inject_command_free(&cmd);
		job_free(&job);
	}
	config_free(&cfg);
}

static void test_build(struct dmf_job *job, const struct cfg_node *src)
{
	static const char *const yaml =
		"cmd:\n  name: doveadm\n  options:\n"
		"    - name: -o\n      value: \"imapc_user=%{mdb:ruid}\"\n"
		"    - name: -o\n      value: "
		"\"imapc_password=%{conf:imapc_master_password}\"\n"
		"    - name: -o\n      value: "
		"\"imapc_host=%{mdb:sourcehost}\"\n"
		"    - name: -o\n      value: "
		"\"imapc_master_user=LiteralPw1\"\n"
		"    - name: --password\n      value: \"Hardcoded9\"\n"
		"  sub-command:\n    name: backup\n    flags: -R\n"
		"    arguments: \"imapc:\"\n    options:\n      - name: -u\n"
		"        value: \"%{mdb:uid}\"\n"
		"bad:\n  name: echo\n  arguments: \"%{mdb:nosuch}\"\n"
		"pw:\n  name: echo\n  arguments: "
		"[\"%{mdb:uid}:%{mdb:sourcepasswd}\","
		" UserPw99]\n";
	struct config *cfg = NULL;
	struct dmf_command *cmd = NULL;
	char *err = NULL, *r;

	ok(config_load_string(yaml, "b.yml", NULL, &cfg, &err) == 0,
	   "build yaml");
	ok(inject_build(job, src, cfg_child(cfg->root, "cmd"), &cmd, &err) == 0,
	   "build doveadm backup");
	is_int(cmd->argc, 16, "argc");
	is_str(cmd->argv[4], "imapc_password=M4sterPw",
	       "argv has the password");
	is_str(cmd->argv[11], "backup", "sub-command");
	is_str(cmd->argv[14], "user1", "-u value");
	is_str(cmd->display,
	       "doveadm -o imapc_user=ruser1 -o imapc_password=<hidden> -o "
	       "imapc_host=src.example -o imapc_master_user=LiteralPw1 "
	       "--password <hidden> backup -R -u user1 imapc:",
	       "display hides passwords");
	inject_command_free(&cmd);
	ok(cmd == NULL, "command_free clears the pointer");

	ok(inject_build(job, src, cfg_child(cfg->root, "bad"), &cmd, &err) ==
		   -EINVAL,
	   "unknown placeholder fails the build");
	like(err, "%{mdb:nosuch}", "error names the placeholder");
	ok(cmd == NULL, "no command on failure");
	free(err);
	err = NULL;

	ok(inject_build(job, src, cfg_child(cfg->root, "pw"), &cmd, &err) == 0,
	   "build with user password");
	is_str(cmd->argv[1], "user1:UserPw99", "value has the password");
	is_str(cmd->display, "echo user1:<hidden> <hidden>",
	       "display hides by placeholder and by value");
	inject_command_free(&cmd);

	r = inject_redact(job, src, "login M4sterPw / UserPw99 / ApiS3cret ok");
	is_str(r, "login <hidden> / <hidden> / <hidden> ok", "redact values");
	free(r);
	config_free(&cfg);
}

int main(void)
{
	struct config *cfg = NULL;
	struct dmf_job *job;
	char *err = NULL;

	plan_lazy();
	if (config_load_string(conf_yaml, "c.yml", NULL, &cfg, &err) < 0) {
		ok(0, "config loads: %s", err);
		return done_testing();
	}
	job = make_job();
	test_expand(job, cfg_child(cfg->root, "src"));
	test_every_mdb_name_known(job);
	test_hostile_values(cfg_child(cfg->root, "src"));
	test_build(job, cfg_child(cfg->root, "src"));
	job_free(&job);
	config_free(&cfg);
	return done_testing();
}
