/*
 * test_doveadm_cmd.c - the doveadm worker's migration command, pure logic:
 * the default argv and its display for imapc ssl no/imaps/starttls, a
 * master user, a prefix and an exclude list; the per-job config file
 * (content, quoting, mode, removal); the conversion of a `sync` override
 * (refusals, passwords moved out of argv, -c taken over).
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "argv.h"
#include "dsync_cmd.h"
#include "jobconf.h"

static char *joined(char *const *v)
{
	static char buf[2048];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
				      i ? " " : "", v[i]);
	return buf;
}

struct imapc_case {
	const char *name;
	const char *c_host, *c_ssl, *c_master, *c_mpw, *c_prefix;
	int c_port;
	struct imapc_job_values jv;
	const char *want_show; /* the display's imapc part */
	const char *want_pw;
};

static const struct imapc_case icases[] = {
	{ "job values, ssl no",
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  0,
	  { "src.example", "1143", "no", "ruser", "u", "pw1" },
	  "-o imapc_host=src.example -o imapc_port=1143 -o imapc_ssl=no "
	  "-o imapc_user=ruser -o imapc_password=<hidden>",
	  "pw1" },
	{ "imaps default port 993",
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  0,
	  { "src.example", NULL, "imaps", NULL, "u", "pw1" },
	  "-o imapc_host=src.example -o imapc_port=993 -o imapc_ssl=imaps "
	  "-o imapc_user=u -o imapc_password=<hidden>",
	  "pw1" },
	{ "starttls, port 143",
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  0,
	  { "h", NULL, "starttls", "r", "u", NULL },
	  "-o imapc_host=h -o imapc_port=143 -o imapc_ssl=starttls "
	  "-o imapc_user=r",
	  NULL },
	{ "config overrides the job; master user; prefix",
	  "imap.cfg",
	  "imaps",
	  "admin",
	  "mpw",
	  "INBOX.",
	  10993,
	  { "src.example", "1143", "no", "ruser", "u", "userpw" },
	  "-o imapc_host=imap.cfg -o imapc_port=10993 -o imapc_ssl=imaps "
	  "-o imapc_user=ruser -o imapc_master_user=admin "
	  "-o imapc_password=<hidden> -o imapc_list_prefix=INBOX.",
	  "mpw" },
};

static void test_default_argv(void)
{
	char *settings[] = { "imapc_features=rfc822.size fetch-headers",
			     "mail_prefetch_count=20", NULL };

	for (size_t i = 0; i < sizeof(icases) / sizeof(icases[0]); i++) {
		const struct imapc_case *t = &icases[i];
		struct doveadm_source_conf c = { 0 };
		struct imapc_params p;
		struct dv_argv a = { 0 };
		const char *extra[] = { "-D", NULL };
		char *disp, want[1024];

		c.imapc.host = (char *)t->c_host;
		c.imapc.ssl = (char *)t->c_ssl;
		c.imapc.master_user = (char *)t->c_master;
		c.imapc.master_password = (char *)t->c_mpw;
		c.imapc.prefix = (char *)t->c_prefix;
		c.imapc.port = t->c_port;
		imapc_resolve(&c, &t->jv, &p);
		is_str(p.password, t->want_pw, "%s: password source", t->name);
		struct dsync_opts o = {
			.doveadm_path = "/usr/bin/doveadm",
			.jobconf = "/run/x/job-1-abc.conf",
			.config_shown =
				i == 0 ? "/etc/dovecot/dovecot.conf" : NULL,
			.uid = "u",
			.exclude = i == 3 ? "Trash,Junk\n Spam/*  " : NULL,
			.settings = settings,
			.mail_log = i == 1,
			.mail_plugins = "quota",
			.extra = i == 2 ? extra : NULL,
			.imapc = &p,
			.lock_secs = i == 3 ? 45 : 0,
		};
		dsync_default_argv(&o, &a);
		disp = dv_argv_display(&a);
		snprintf(want, sizeof(want),
			 "%s %s%s-o 'imapc_features=rfc822."
			 "size fetch-headers' -o mail_"
			 "prefetch_count=20 ",
			 i == 0 ? "doveadm -c /etc/dovecot/dovecot.conf" :
			 i == 2 ? "doveadm -D" :
				  "doveadm",
			 t->want_show, " ");
		like(disp, want, "%s: display", t->name);
		ok(strstr(disp, "job-1-abc") == NULL,
		   "%s: the per-job file is not shown", t->name);
		char *const *run = dv_argv_run(&a);
		const char *r = joined(run);
		like(r, "/usr/bin/doveadm -c /run/x/job-1-abc.conf ",
		     "%s: runs with -c JOBFILE first", t->name);
		ok(strstr(r, "imapc_host") == NULL &&
			   strstr(r, "imapc_user") == NULL &&
			   strstr(r, "imapc_password") == NULL,
		   "%s: no imapc connection setting in argv (%s)", t->name, r);
		ok(t->want_pw == NULL || strstr(r, t->want_pw) == NULL,
		   "%s: password not in argv", t->name);
		ok(strstr(disp, t->want_pw ? t->want_pw : "\001") == NULL,
		   "%s: password not in the display", t->name);
		if (i == 3)
			like(r,
			     " backup -R -l 45 -x Trash -x Junk -x Spam/* "
			     "-u u imapc:",
			     "%s: dsync's lock, exclude masks as -x", t->name);
		else
			like(r, " backup -R -u u imapc:", "%s: backup -R",
			     t->name);
		if (i == 1)
			like(r,
			     "-o mail_plugins=quota notify mail_log -o "
			     "plugin/mail_log_events=save copy expunge "
			     "mailbox_create mailbox_delete mailbox_rename "
			     "-o plugin/mail_log_fields=uid box msgid size "
			     "vsize backup",
			     "%s: mail_log settings", t->name);
		if (i == 2)
			like(r, "job-1-abc.conf -D -o", "%s: -D after -c",
			     t->name);
		free(disp);
		dv_argv_free(&a);
	}
}

static void test_jobconf(void)
{
	char dir[] = "/tmp/dv-jobconf.XXXXXX", sub[128], *path = NULL,
	     *err = NULL, buf[1024];
	struct jobconf_setting s[] = {
		{ "imapc_host", "h" },
		{ "imapc_user", "us%er\"x" },
		{ "imapc_master_user", NULL },
		{ "imapc_password", "p\\w\"#$%u" },
	};
	struct stat st;
	FILE *f;
	size_t n;

	ok(mkdtemp(dir) != NULL, "temp dir");
	snprintf(sub, sizeof(sub), "%s/a/run", dir);
	ok(jobconf_write(sub, "12/../x", "/etc/dovecot/dovecot.conf", s, 4,
			 &path, &err) == 0,
	   "job file written (%s)", err ? err : "ok");
	if (path == NULL)
		return;
	ok(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700,
	   "runtime dir created 0700");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	   "job file mode 0600");
	like(path, "/job-12____x-", "job id sanitized in the name");
	f = fopen(path, "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	like(buf, "!include /etc/dovecot/dovecot.conf\n", "include line");
	like(buf, "imapc_host = \"h\"\n", "plain value quoted");
	like(buf, "imapc_user = \"us%%er\\\"x\"\n",
	     "user: %% doubled, quote escaped");
	like(buf, "imapc_password = \"p\\\\w\\\"#$%u\"\n",
	     "password: backslash and quote escaped, %% kept");
	ok(strstr(buf, "imapc_master_user") == NULL, "unset value left out");
	char *keep = strdup(path);
	jobconf_remove(&path);
	ok(path == NULL && access(keep, F_OK) != 0, "job file removed");
	free(keep);
	struct jobconf_setting bad[] = { { "imapc_password", "a\nb" } };
	ok(jobconf_write(sub, "1", NULL, bad, 1, &path, &err) == -EINVAL,
	   "a line break in a value is refused");
	like(err, "imapc_password", "the error names the setting");
	ok(err == NULL || strstr(err, "a\nb") == NULL, "without the value");
	free(err);
	ok(chmod(sub, 0755) == 0 &&
		   jobconf_write(sub, "1", NULL, s, 1, &path, &err) == 0 &&
		   stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700,
	   "a loose runtime dir is tightened to 0700");
	jobconf_remove(&path);
	snprintf(buf, sizeof(buf), "rm -rf %s", dir);
	ok(system(buf) == 0, "cleanup");
}

struct conv_case {
	const char *name;
	const char *argv[16];
	int ret;
	const char *want_run; /* after dsync_insert_jobconf */
	const char *want_show;
	size_t n_moved;
	const char *config;
};

static const struct conv_case conv[] = {
	{ "backup with passwords",
	  { "/usr/bin/doveadm", "-o", "imapc_host=h", "-o",
	    "imapc_password=PW1", "-oimapc_user=u", "backup", "-R", "-u", "u",
	    "imapc:", NULL },
	  0,
	  "/usr/bin/doveadm -c /j.conf -D -o imapc_host=h -oimapc_user=u "
	  "backup -R -u u imapc:",
	  "/usr/bin/doveadm -D -o imapc_host=h -o imapc_password=<hidden> "
	  "-oimapc_user=u backup -R -u u imapc:",
	  1,
	  NULL },
	{ "sync with -c and doveadm_password",
	  { "doveadm", "-c", "/etc/other.conf", "-odoveadm_password=PW2", "-v",
	    "sync", "-u", "u", "imapc:", NULL },
	  0,
	  "doveadm -c /j.conf -D -v sync -u u imapc:",
	  "doveadm -c /etc/other.conf -D -o doveadm_password=<hidden> -v sync "
	  "-u u imapc:",
	  1,
	  "/etc/other.conf" },
	{ "not doveadm",
	  { "/bin/echo", "sync", NULL },
	  -EINVAL,
	  NULL,
	  NULL,
	  0,
	  NULL },
	{ "doveadm expunge",
	  { "doveadm", "expunge", "-u", "x", NULL },
	  -EINVAL,
	  NULL,
	  NULL,
	  0,
	  NULL },
	{ "only options",
	  { "doveadm", "-o", "a=b", NULL },
	  -EINVAL,
	  NULL,
	  NULL,
	  0,
	  NULL },
	{ "password after the sub-command",
	  { "doveadm", "backup", "-oimapc_password=x", NULL },
	  -EINVAL,
	  NULL,
	  NULL,
	  0,
	  NULL },
};

static void test_convert(void)
{
	static const char *const subs[] = { "sync", "backup", NULL };
	const char *extra[] = { "-D", NULL };

	for (size_t i = 0; i < sizeof(conv) / sizeof(conv[0]); i++) {
		const struct conv_case *t = &conv[i];
		struct dv_argv a = { 0 };
		struct dsync_moved moved[4];
		size_t n = 0;
		char *config = NULL, *disp;
		const char *e = NULL;
		int r = dsync_convert((char *const *)t->argv, NULL, subs, &a,
				      moved, &n, &config, &e);

		is_int(r, t->ret, "%s: result (%s)", t->name, e ? e : "ok");
		if (r < 0)
			continue;
		dsync_insert_jobconf(&a, "/j.conf", config, extra);
		is_str(joined(dv_argv_run(&a)), t->want_run, "%s: argv",
		       t->name);
		disp = dv_argv_display(&a);
		is_str(disp, t->want_show, "%s: display", t->name);
		is_int(n, t->n_moved, "%s: passwords moved", t->name);
		if (n > 0)
			ok(strncmp(moved[0].value, "PW", 2) == 0,
			   "%s: moved value %s", t->name, moved[0].name);
		is_str(config, t->config, "%s: -c taken over", t->name);
		dsync_moved_free(moved, n);
		free(config);
		free(disp);
		dv_argv_free(&a);
	}
	const char *st[] = { "doveadm", "-f", "tab", "mailbox",
			     "status",	"-u", "x",   "messages vsize",
			     "*",	NULL };
	static const char *const ms[] = { "mailbox status", NULL };
	struct dv_argv a = { 0 };
	struct dsync_moved moved[4];
	size_t n;
	char *config = NULL;
	const char *e = NULL;
	ok(dsync_convert((char *const *)st, NULL, ms, &a, moved, &n, &config,
			 &e) == 0,
	   "a two-word sub-command (mailbox status)");
	dv_argv_free(&a);
	st[4] = "list";
	ok(dsync_convert((char *const *)st, NULL, ms, &a, moved, &n, &config,
			 &e) == -EINVAL,
	   "mailbox list refused");
}

/* dsync's per-user lock on a converted override: after the sub-command,
 * unless the command has its own -l; none for 0 seconds. */
static void test_lock(void)
{
	static const char *const subs[] = { "sync", "backup", NULL };
	static const struct {
		const char *argv[12];
		unsigned secs;
		const char *want_run, *want_show;
	} t[] = {
		{ { "doveadm", "-o", "a=b", "backup", "-R", "-u", "u",
		    "imapc:", NULL },
		  30,
		  "doveadm -o a=b backup -l 30 -R -u u imapc:",
		  "doveadm -o a=b backup -l 30 -R -u u imapc:" },
		{ { "doveadm", "-c", "/x.conf", "-oimapc_password=PW", "sync",
		    "-u", "u", "imapc:", NULL },
		  7,
		  "doveadm sync -l 7 -u u imapc:",
		  "doveadm -o imapc_password=<hidden> sync -l 7 -u u imapc:" },
		{ { "doveadm", "sync", "-l", "5", "-u", "u", "imapc:", NULL },
		  30,
		  "doveadm sync -l 5 -u u imapc:",
		  "doveadm sync -l 5 -u u imapc:" },
		{ { "doveadm", "backup", "-R", "-l9", "-u", "u",
		    "imapc:", NULL },
		  30,
		  "doveadm backup -R -l9 -u u imapc:",
		  "doveadm backup -R -l9 -u u imapc:" },
		{ { "doveadm", "backup", "-u", "u", "imapc:", NULL },
		  0,
		  "doveadm backup -u u imapc:",
		  "doveadm backup -u u imapc:" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dv_argv a = { 0 };
		struct dsync_moved moved[4];
		size_t n = 0;
		char *config = NULL, *disp;
		const char *e = NULL;

		ok(dsync_convert((char *const *)t[i].argv, NULL, subs, &a,
				 moved, &n, &config, &e) == 0,
		   "lock %zu: converted (%s)", i, e ? e : "ok");
		dsync_add_lock(&a, t[i].secs);
		is_str(joined(dv_argv_run(&a)), t[i].want_run, "lock %zu: argv",
		       i);
		disp = dv_argv_display(&a);
		is_str(disp, t[i].want_show, "lock %zu: display", i);
		free(disp);
		free(config);
		dsync_moved_free(moved, n);
		dv_argv_free(&a);
	}
}

static void test_quote(void)
{
	char *q = dv_quote("a b'c");
	is_str(q, "'a b'\\''c'", "quote with a single quote");
	free(q);
	q = dv_quote("x\ny");
	is_str(q, "'x\\x0ay'", "control bytes escaped, one line");
	free(q);
	q = dv_quote("imapc_password=<hidden>");
	is_str(q, "imapc_password=<hidden>", "<hidden> left plain");
	free(q);
}

int main(void)
{
	plan_lazy();
	test_default_argv();
	test_jobconf();
	test_convert();
	test_lock();
	test_quote();
	return done_testing();
}
