/*
 * test_input.c - hostile configuration input and secrets (issue 10):
 * alias bombs, NUL bytes, size limits, the one secret rule, the children's
 * environment, output redaction and over-long command-log names.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/child_env.h"
#include "exec/cmdlog.h"
#include "exec/exec.h"
#include "host/host_services.h"
#include "lib/config.h"
#include "lib/job.h"
#include "lib/secret.h"
#include "lib/util.h"
#include "../tap.h"

extern char **environ;

struct capture {
	char out[65536];
	size_t len;
};

static void cap_line(void *ctx, enum dmf_exec_stream s, const char *line,
		     size_t len)
{
	struct capture *c = ctx;

	(void)s;
	if (c->len + len + 2 < sizeof(c->out)) {
		memcpy(c->out + c->len, line, len);
		c->len += len;
		c->out[c->len++] = '\n';
		c->out[c->len] = '\0';
	}
}

/* levels of `aN: &aN [*aN-1 x10]` over a list of ten strings */
static char *bomb(int levels)
{
	char *s = xstrdup("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, "
			  "lol, lol]\n");

	for (int i = 1; i < levels && s != NULL; i++) {
		char *n =
			xasprintf("%sa%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, "
				  "*a%d, *a%d, *a%d, *a%d, *a%d]\n",
				  s, i, i, i - 1, i - 1, i - 1, i - 1, i - 1,
				  i - 1, i - 1, i - 1, i - 1, i - 1);
		free(s);
		s = n;
	}
	return s;
}

static void test_aliases(void)
{
	struct config *cfg = NULL;
	char *e = NULL, *text = bomb(6), *deep;

	/* six levels: 10^6 nodes through aliases from 300 bytes */
	is_int(config_load_string(text, "bomb.yml", NULL, &cfg, &e), -E2BIG,
	       "alias bomb refused");
	like(e, "bomb.yml:5:", "names the file and the line of the alias");
	like(e, "limit of alias expansion", "says why");
	free(e);
	e = NULL;
	free(text);
	text = bomb(3); /* 1110 nodes: fine */
	ok(config_load_string(text, "b3.yml", NULL, &cfg, &e) == 0,
	   "small alias use loads: %s", e ? e : "ok");
	config_free(&cfg);
	free(e);
	e = NULL;
	free(text);

	/* aliases nested 9 deep, few nodes */
	text = xstrdup("x0: &x0 leaf\n");
	for (int i = 1; i <= 9; i++) {
		deep = xasprintf("%sx%d: &x%d [*x%d]\n", text, i, i, i - 1);
		free(text);
		text = deep;
	}
	is_int(config_load_string(text, "deep.yml", NULL, &cfg, &e), -E2BIG,
	       "aliases nested 9 deep refused");
	like(e, "deep.yml:10:", "at the line of the 9th alias");
	like(e, "nests aliases 9 deep (the limit is 8)", "says why");
	free(e);
	e = NULL;
	free(text);
}

static void test_nul_and_size(void)
{
	struct config *cfg = NULL;
	char *e = NULL, *big;

	is_int(config_load_string("dmf:\n  worker:\n    identity:\n"
				  "      target: \"ab\\0cd\"\n",
				  "nul.yml", NULL, &cfg, &e),
	       -EINVAL, "NUL byte in a value refused");
	like(e,
	     "nul.yml:4:15: key 'dmf.worker.identity.target': the value "
	     "holds a NUL byte",
	     "names file:line:column and the key");
	free(e);
	e = NULL;
	is_int(config_load_string("\"k\\0x\": 1\n", "nulkey.yml", NULL, &cfg,
				  &e),
	       -EINVAL, "NUL byte in a key refused");
	like(e, "nulkey.yml:1:1: a key holds a NUL byte", "message");
	free(e);
	e = NULL;

	big = malloc(CONFIG_MAX_BYTES + 16);
	if (big != NULL) {
		memset(big, '#', CONFIG_MAX_BYTES + 8);
		big[CONFIG_MAX_BYTES + 8] = '\0';
		is_int(config_load_string(big, "big.yml", NULL, &cfg, &e),
		       -E2BIG, "a document past the size limit refused");
		like(e, "big.yml: larger than 67108864 bytes", "message");
		free(e);
		e = NULL;
		free(big);
	}
}

static void test_secret_rule(void)
{
	static const char *const yes[] = { "password",	"imapc_master_PASSWORD",
					   "passwd",	"secret",
					   "api-token", "apikey",
					   "api-key",	"private_key",
					   "accessKey", "credentials",
					   NULL };
	static const char *const no[] = { "username",  "storageKeys",
					  "key-store", "keys",
					  "url",       "monkeys",
					  NULL };
	char *r;

	for (size_t i = 0; yes[i] != NULL; i++)
		ok(secret_name(yes[i], strlen(yes[i])), "'%s' is secret",
		   yes[i]);
	for (size_t i = 0; no[i] != NULL; i++)
		ok(!secret_name(no[i], strlen(no[i])), "'%s' is not secret",
		   no[i]);
	r = secret_redact_value("jdbc:mysql://db1:3306/dmf?user=u&password=P4ss"
				"&ssl=true",
				NULL);
	is_str(r, "jdbc:mysql://db1:3306/dmf?user=u&password=<hidden>&ssl=true",
	       "password= in a URL query hidden");
	free(r);
	r = secret_redact_value("mysql://dmf:P4ss@db1/dmf", NULL);
	is_str(r, "mysql://dmf:<hidden>@db1/dmf", "user:pass@ hidden");
	free(r);
	r = secret_redact_value("see https://h/x?a=1;token=T0k and more", NULL);
	is_str(r, "see https://h/x?a=1;token=<hidden> and more",
	       "a secret parameter inside text hidden");
	free(r);
	ok(secret_redact_value("mysql://dmf@db1/dmf?user=u", NULL) == NULL,
	   "nothing secret: NULL");
}

static void test_print_config(void)
{
	struct config *cfg = NULL;
	char *e = NULL, *out = NULL;
	size_t out_len = 0;
	FILE *f;

	ok(config_load_string(
		   "datasources:\n  default:\n    url: jdbc:mysql://db1/dmf?"
		   "user=u&password=UrlPw99\n"
		   "dmf:\n  doveadm:\n    source:\n      default:\n"
		   "        command:\n          inject:\n"
		   "            token: InjTok77\n            plain: seen\n",
		   "p.yml", NULL, &cfg, &e) == 0,
	   "load: %s", e ? e : "ok");
	f = open_memstream(&out, &out_len);
	ok(f != NULL && config_print(cfg, f) == 0, "print");
	if (f != NULL)
		fclose(f);
	ok(out != NULL && strstr(out, "UrlPw99") == NULL,
	   "--print-config hides the URL's password");
	like(out, "password=<hidden>", "and shows where it is");
	ok(out != NULL && strstr(out, "InjTok77") == NULL,
	   "--print-config hides an inject value named token");
	like(out, "plain: seen", "other values shown");
	free(out);

	/* command output: the same values hidden by the exec table */
	{
		const struct dmf_host_exec *ex = host_exec_table();
		struct dmf_exec_options o = { .size = sizeof(o) };
		struct dmf_exec_result r = { .size = sizeof(r) };
		static struct capture c;
		const char *err = NULL;
		const char *echo[] = { "/bin/echo", "InjTok77", "UrlPw99",
				       "seen", NULL };
		char *he = NULL;

		ok(host_secrets_init(cfg) == 0, "host_secrets_init");
		ok(host_exec_init(cfg, &he) == 0, "host_exec_init: %s",
		   he ? he : "ok");
		free(he);
		o.on_line = cap_line;
		o.line_ctx = &c;
		o.flags = DMF_EXEC_NO_COMMAND_LOG;
		ok(ex->run(NULL, echo, &o, &r, &err) == 0, "run");
		is_str(c.out, "<hidden> <hidden> seen\n",
		       "inject token and URL password hidden in output lines");
		host_exec_deinit();
		host_secrets_deinit();
	}
	config_free(&cfg);
	free(e);
}

static bool has_var(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return true;
	return false;
}

static void test_child_env(void)
{
	char *const envp[] = { "PATH=/bin",
			       "HOME=/h",
			       "LC_ALL=C",
			       "TZ=UTC",
			       "DATASOURCES_DEFAULT_PASSWORD=dbpw",
			       "HTTP_ADMIN_PASSWORD=admpw",
			       "DMF_WORKER_CRYPTO_STORAGEKEYS_K1_SECRET=k1",
			       "MY_TOOL_HOME=/t",
			       "OTHER=x",
			       NULL };
	char *pass[] = { "MY_TOOL_HOME", NULL };
	const char **kept = child_env_filter(envp, pass);
	struct config *cfg = NULL;
	static struct capture c;
	struct dmf_exec_result r;
	const char *env_cmd[] = { "/usr/bin/env", NULL };
	struct exec_request req = {
		.argv = env_cmd, .abort_fd = -1, .on_line = cap_line, .ctx = &c
	};
	char *e = NULL;

	ok(kept != NULL, "filter");
	ok(has_var((char *const *)kept, "PATH") &&
		   has_var((char *const *)kept, "HOME") &&
		   has_var((char *const *)kept, "LC_ALL") &&
		   has_var((char *const *)kept, "TZ"),
	   "PATH, HOME, LC_*, TZ kept");
	ok(has_var((char *const *)kept, "MY_TOOL_HOME"), "a passed name kept");
	ok(!has_var((char *const *)kept, "DATASOURCES_DEFAULT_PASSWORD") &&
		   !has_var((char *const *)kept, "HTTP_ADMIN_PASSWORD") &&
		   !has_var((char *const *)kept,
			    "DMF_WORKER_CRYPTO_STORAGEKEYS_K1_SECRET") &&
		   !has_var((char *const *)kept, "OTHER"),
	   "configuration variables and others dropped");
	free(kept);

	ok(config_load_string("dmf:\n  worker:\n    command:\n"
			      "      environment:\n        pass: [\"A B\"]\n",
			      "env.yml", NULL, &cfg, &e) == 0,
	   "load: %s", e ? e : "ok");
	is_int(child_env_init(cfg, &e), -EINVAL, "a bad name refused");
	like(e,
	     "env.yml:5:9: key 'dmf.worker.command.environment.pass': "
	     "'A B' is not a variable name",
	     "message");
	free(e);
	e = NULL;
	config_free(&cfg);

	/* a real child: the worker's own secrets are not in its env */
	setenv("DATASOURCES_DEFAULT_PASSWORD", "EnvDbPw123", 1);
	setenv("PASS_ME_ON", "yes-passed", 1);
	ok(config_load_string("dmf:\n  worker:\n    command:\n"
			      "      environment:\n        pass: PASS_ME_ON\n",
			      "env2.yml", NULL, &cfg, &e) == 0,
	   "load: %s", e ? e : "ok");
	ok(child_env_init(cfg, &e) == 0, "child_env_init");
	ok(exec_run(&req, &r, &e) == 0 && r.exit_code == 0, "env runs");
	ok(strstr(c.out, "EnvDbPw123") == NULL,
	   "the child does not see DATASOURCES_DEFAULT_PASSWORD");
	like(c.out, "PASS_ME_ON=yes-passed", "a passed variable reaches it");
	like(c.out, "PATH=", "PATH reaches it");
	child_env_deinit();
	config_free(&cfg);
	unsetenv("DATASOURCES_DEFAULT_PASSWORD");
}

static void test_cmdlog_name(void)
{
	struct cmdlog_settings s = { .type = CMDLOG_FILE,
				     .format = "%(user).log",
				     .location = "/tmp" };
	struct dmf_job *job = job_new("5", "sync", "POD_1", "t");
	char uid[301];
	struct cmdlog *log;
	const char *err;

	memset(uid, 'u', 300);
	uid[300] = '\0';
	job_set_property(job, "uid", uid, false);
	log = cmdlog_open(&s, job);
	err = cmdlog_take_new_error(log);
	like(err, "is too long (304 bytes; a file name may have at most 255)",
	     "an over-long command-log name says so and how long");
	cmdlog_close(&log, false);
	job_set_property(job, "uid", "short", false);
	log = cmdlog_open(&s, job);
	err = cmdlog_take_new_error(log);
	ok(err == NULL || strstr(err, "too long") == NULL,
	   "a short name is not too long");
	cmdlog_close(&log, false);
	unlink("/tmp/short.log");
	job_free(&job);
}

int main(void)
{
	plan_lazy();
	test_aliases();
	test_nul_and_size();
	test_secret_rule();
	test_print_config();
	test_child_env();
	test_cmdlog_name();
	return done_testing();
}
