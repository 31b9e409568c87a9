/*
 * test_doveadm_plugin.c - the doveadm job worker (plugins/doveadm) against
 * the daemon's real host tables and a scripted stand-in `doveadm` that
 * records its calls: order of operations (spec 3.15), details JSON (3.16),
 * retries (3.12), failure flags (3.14), counts (3.11), metacache (3.5),
 * sync override conversion, and the password kept out of argv, details,
 * logs and command log (only in the per-job 0600 file, removed after).
 */
#include "dmf-build.h"

#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/fake_host.h"
#include "../tap.h"
#include "lib/util.h"
#include "lib/config.h"
#include "dmf/plugin.h"
#include "host/host.h"
#include "lib/job.h"
#include "lib/log.h"

extern const struct dmf_plugin dmf_plugin_v1;

/* like() with a POSIX extended regex */
static int rx_match(const char *hay, const char *re)
{
	regex_t rx;
	int m;

	if (hay == NULL || regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	m = regexec(&rx, hay, 0, NULL, 0) == 0;
	regfree(&rx);
	return m;
}
#undef like
#define like(hay, re, ...)                                            \
	do {                                                          \
		const char *hay_ = (hay), *re_ = (re);                \
		if (!ok(rx_match(hay_, re_), __VA_ARGS__))            \
			printf("#   '%s'\n#   does not match '%s'\n", \
			       hay_ ? hay_ : "(null)", re_);          \
	} while (0)

/* `a` occurs before `b` in `s`. */
static int before(const char *s, const char *a, const char *b)
{
	const char *pa = s ? strstr(s, a) : NULL;
	const char *pb = pa ? strstr(pa, b) : NULL;
	return pb != NULL;
}

#define PW "S3cr3t \"pw\" #$%x"
#define MPW "M4ster-Pw"

static char dir[256];
static void *ctx;

static const char fake_doveadm[] =
	"#!/bin/sh\n"
	"# a scripted doveadm: records argv, answers per sub-command\n"
	"d=$(dirname \"$0\")\n"
	"printf 'ARGV %s\\n' \"$*\" >>\"$d/calls.log\"\n"
	"conf=\n"
	"prev=\n"
	"for a in \"$@\"; do\n"
	"  [ \"$prev\" = -c ] && conf=$a\n"
	"  prev=$a\n"
	"done\n"
	"case \" $* \" in\n"
	"*' config -h mail_plugins '*) echo 'quota'; exit 0 ;;\n"
	"*' config -h base_dir imapc_host '*) echo /run/fake;"
	" sed -n 's/^imapc_host = \"\\(.*\\)\"$/\\1/p' \"$conf\"; exit 0 ;;\n"
	"*' config -h base_dir '*) echo /run/fake; exit 0 ;;\n"
	"*' mailbox status '*)\n"
	"  printf 'mailbox\\tmessages\\tvsize\\n'\n"
	"  case \" $* \" in *mail=imapc:*) n=$(cat \"$d/remote\" 2>/dev/null"
	" || echo 5) ;; *) n=3 ;; esac\n"
	"  printf 'INBOX\\t%s\\t%s00\\n' \"$n\" \"$n\"\n"
	"  exit $(cat \"$d/count_code\" 2>/dev/null || echo 0) ;;\n"
	"*' backup '*|*' sync '*)\n"
	"  n=$(wc -l <\"$d/calls.log\")\n"
	"  if [ -n \"$conf\" ]; then cp \"$conf\" \"$d/jobconf.last\";"
	" stat -c %a \"$conf\" >\"$d/jobconf.mode\";"
	" stat -c %a \"$(dirname \"$conf\")\" >\"$d/rundir.mode\"; fi\n"
	"  code=$(head -n 1 \"$d/sync_codes\" 2>/dev/null)\n"
	"  sed -i 1d \"$d/sync_codes\" 2>/dev/null\n"
	"  echo 'dsync(u1): Info: copy from INBOX: box=INBOX, uid=1, msgid=<a>,"
	" size=10, vsize=10' >&2\n"
	"  echo 'dsync(u1): Info: copy from Sent: box=Sent, uid=7, msgid=<b>,"
	" size=10, vsize=10' >&2\n"
	"  echo 'dsync(u1): Info: expunge: box=INBOX, uid=4, msgid=<c>,"
	" size=10, vsize=10' >&2\n"
	"  [ \"$code\" = abrt ] && kill -ABRT $$\n"
	"  [ \"${code:-0}\" = 0 ] || echo \"dsync(u1): Error: temporary"
	" failure $code\" >&2\n"
	"  exit ${code:-0} ;;\n"
	"*' metacache '*) exit $(cat \"$d/metacache_code\" 2>/dev/null ||"
	" echo 0) ;;\n"
	"*' user -f home '*) echo \"$d/home/u1\"; exit 0 ;;\n"
	"*' mailbox path '*) echo \"$d/home/u1/Maildir\"; exit 0 ;;\n"
	"esac\n"
	"exit 64\n";

static void write_file(const char *name, const char *text, mode_t mode)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

static char *read_file(const char *name)
{
	char p[512], *buf;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	buf = util_read_file(p, NULL);
	return buf != NULL ? buf : strdup("");
}

static void reset(void)
{
	char p[512];
	const char *names[] = { "calls.log",	  "sync_codes",
				"jobconf.last",	  "jobconf.mode",
				"metacache_code", "remote",
				"count_code",	  NULL };
	for (size_t i = 0; names[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
}

static int count_runtime_files(void)
{
	char p[512];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(p, sizeof(p), "%s/run", dir);
	d = opendir(p);
	while (d != NULL && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

static struct dmf_job *run(const char *source, const char *phase)
{
	struct dmf_job *job = job_new("42", phase, source, "t");

	job_set_property(job, "uid", "u1", false);
	job_set_property(job, "ruid", "src1", false);
	job_set_property(job, "sourcehost", "127.0.0.1", false);
	job_set_property(job, "sourceport", "1143", false);
	job_set_property(job, "sourcepasswd", PW, true);
	job_set_property(job, "imapoptions", "box7", false);
	dmf_plugin_v1.run(ctx, job);
	host_job_finished(job);
	return job;
}

/* The operations of the details array, joined by '|'. */
static char *ops(struct dmf_job *job)
{
	static char buf[1024];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_array_size(job->details); i++) {
		const char *k;
		json_t *v;
		json_object_foreach(json_array_get(job->details, i), k,
				    v) if (strcmp(k, "commandLog") !=
					   0) /* the host's */
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
					      o ? "|" : "", k);
	}
	return buf;
}

static json_t *detail(struct dmf_job *job, const char *op)
{
	for (size_t i = 0; i < json_array_size(job->details); i++) {
		json_t *d =
			json_object_get(json_array_get(job->details, i), op);
		if (d != NULL)
			return d;
	}
	return NULL;
}

static const char *dstr(struct dmf_job *job, const char *op, const char *k)
{
	return json_string_value(json_object_get(detail(job, op), k));
}

static long long dint(struct dmf_job *job, const char *op, const char *k)
{
	return json_integer_value(json_object_get(detail(job, op), k));
}

static char yaml[8192];

static void make_yaml(void)
{
	snprintf(yaml, sizeof(yaml),
		 "dmf:\n"
		 "  worker:\n"
		 "    type: doveadm\n"
		 "    command:\n"
		 "      logging:\n"
		 "        type: file\n"
		 "        file:\n"
		 "          location: %s/cmdlog\n"
		 "          format: \"%%(user)-%%(job).log\"\n"
		 "          delete-on-success: false\n"
		 "  doveadm:\n"
		 "    path: %s/doveadm\n"
		 "    config-file: %s/target.conf\n"
		 "    runtime-dir: %s/run\n"
		 "    source:\n"
		 "      default:\n"
		 "        fetch-container: true\n"
		 "        container-file: %s/passwd.container\n"
		 "        retry:\n"
		 "          sleep: 10\n"
		 "          code-sleep:\n"
		 "            75: 10\n"
		 "        metacache:\n"
		 "          flush:\n"
		 "            on-failure: true\n"
		 "        command:\n"
		 "          sync:\n"
		 "            pre:\n"
		 "              name: /bin/sh\n"
		 "              arguments: [\"-c\", \"echo PRE $0 "
		 ">>%s/calls.log\","
		 " \"%%{mdb:uid}-%%{mdb:container}\"]\n"
		 "            post:\n"
		 "              name: /bin/sh\n"
		 "              arguments: [\"-c\", \"echo POST "
		 ">>%s/calls.log\"]\n"
		 "            failure:\n"
		 "              name: /bin/sh\n"
		 "              arguments: [\"-c\", \"echo FAILURE "
		 ">>%s/calls.log\"]\n"
		 "          cutover:\n"
		 "            post:\n"
		 "              name: /bin/sh\n"
		 "              arguments: [\"-c\", \"echo POST "
		 ">>%s/calls.log\"]\n"
		 "      FLAGS:\n"
		 "        director:\n"
		 "          enabled: true\n"
		 "        move-duplicates: true\n"
		 "        count:\n"
		 "          pre: false\n"
		 "        flush-metacache: true\n"
		 "        retry:\n"
		 "          code-max:\n"
		 "            134: 2\n"
		 "          code-sleep:\n"
		 "            134: 1\n"
		 "        command:\n"
		 "          sync:\n"
		 "            pre:\n"
		 "              name: /bin/false\n"
		 "            failure:\n"
		 "              name: /bin/sh\n"
		 "              arguments: [\"-c\", \"echo FAILURE "
		 ">>%s/calls.log\"]\n"
		 "          cutover:\n"
		 "            post:\n"
		 "              name: /bin/sh\n"
		 "              arguments: [\"-c\", \"echo POST "
		 ">>%s/calls.log\"]\n"
		 "            failure:\n"
		 "              name: /bin/sh\n"
		 "              arguments: [\"-c\", \"echo FAILURE "
		 ">>%s/calls.log\"]\n"
		 "        failure-flags:\n"
		 "          pre:\n"
		 "            pre-migration-command: true\n"
		 "          cutover:\n"
		 "            count-remote: true\n"
		 "      MASTER:\n"
		 "        analyze-log: false\n"
		 "        count: {pre: false, post: false, remote: false}\n"
		 "        sync-settings: []\n"
		 "        sync-lock: 0\n"
		 "        imapc:\n"
		 "          host: imap.example\n"
		 "          port: 993\n"
		 "          ssl: imaps\n"
		 "          prefix: \"INBOX.\"\n"
		 "          master-user: \"adm%%in\"\n"
		 "          master-password: " MPW "\n"
		 "      OVERRIDE:\n"
		 "        count: {pre: false, post: false, remote: false}\n"
		 "        command:\n"
		 "          sync:\n"
		 "            sync:\n"
		 "              name: %s/doveadm\n"
		 "              options:\n"
		 "                - {name: -o, value: "
		 "\"imapc_host=%%{mdb:sourcehost}\"}\n"
		 "                - {name: -o, value: "
		 "\"imapc_password=%%{mdb:sourcepasswd}\"}\n"
		 "              sub-command:\n"
		 "                name: sync\n"
		 "                flags: -R\n"
		 "                options: [{name: -u, value: "
		 "\"%%{mdb:uid}\"}]\n"
		 "                arguments: \"imapc:\"\n"
		 "          cutover:\n"
		 "            sync:\n"
		 "              name: %s/doveadm\n"
		 "              sub-command: {name: expunge, arguments: "
		 "[\"-u\", x]}\n",
		 dir, dir, dir, dir, dir, dir, dir, dir, dir, dir, dir, dir,
		 dir, dir);
}

static bool has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

int main(void)
{
	struct config *cfg = NULL;
	char *err = NULL, *logbuf = NULL, *calls, *jc;
	const char *e = NULL;
	size_t loglen = 0;
	FILE *logf = open_memstream(&logbuf, &loglen);
	struct dmf_job *job;
	json_t *d;

	plan_lazy();
	snprintf(dir, sizeof(dir), "/tmp/dv-plugin-test.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	write_file("doveadm", fake_doveadm, 0755);
	write_file("target.conf", "# target\n", 0644);
	{
		char p[512];
		snprintf(p, sizeof(p), "%s/cmdlog", dir);
		mkdir(p, 0700);
	}
	write_file("passwd.container",
		   "other:x:1:1::/h::userdb_container=nope\n"
		   "box7:x:1:1::/h::userdb_quota=1 userdb_container=c-77\n",
		   0644);
	make_yaml();
	log_set_stream(logf);
	ok(config_load_string(yaml, "dv.yml", NULL, &cfg, &err) == 0,
	   "config: %s", err ? err : "ok");
	ok(host_init(cfg, "doveadm", &err) == 0, "host_init: %s",
	   err ? err : "ok");
	is_str(dmf_plugin_v1.name, "doveadm", "plugin name");
	ok(dmf_plugin_v1.init(host_get(), &ctx, &e) == 0, "init: %s",
	   e ? e : "ok");

	/* 1. the default command, every step, success */
	reset();
	job = run("POD_1", "sync");
	is_int(job->status, DMF_STATUS_SUCCESS, "default sync succeeds (%s)",
	       job->error ? job->error : "");
	is_str(ops(job),
	       "pre migration command|count local mailbox pre sync|dsync|"
	       "count local mailbox post sync|count remote mailbox|"
	       "post migration command",
	       "order of operations (spec 3.15)");
	d = detail(job, "dsync");
	ok(json_is_true(json_object_get(d, "success")), "dsync success");
	is_int(dint(job, "dsync", "exitCode"), 0, "dsync exitCode 0");
	is_int(dint(job, "dsync", "attempts"), 1, "one attempt");
	is_int(json_integer_value(
		       json_object_get(json_object_get(d, "saved"), "INBOX")),
	       1, "saved INBOX 1");
	is_int(json_integer_value(
		       json_object_get(json_object_get(d, "saved"), "Sent")),
	       1, "saved Sent 1");
	is_int(json_integer_value(json_object_get(
		       json_object_get(d, "expunged"), "INBOX")),
	       1, "expunged INBOX 1");
	ok(json_is_array(json_object_get(d, "errors")) &&
		   json_array_size(json_object_get(d, "errors")) == 0,
	   "errors []");
	like(dstr(job, "dsync", "command"),
	     "^doveadm -c [^ ]*/target.conf -o imapc_host=127.0.0.1 "
	     "-o imapc_port=1143 -o imapc_ssl=no -o imapc_user=src1 "
	     "-o imapc_password=<hidden> -o 'imapc_features=rfc822.size "
	     "fetch-headers' -o mail_prefetch_count=20 -o "
	     "'mail_plugins=quota notify mail_log' ",
	     "dsync command shown");
	like(dstr(job, "dsync", "command"), "backup -R -l 60 -u u1 imapc:$",
	     "backup -R -l 60 -u u1 imapc: (dsync's user lock, sync-lock)");
	like(dstr(job, "count local mailbox pre sync", "command"),
	     "^doveadm -c [^ ]*/target.conf -f tab mailbox status -u u1 "
	     "'messages vsize' 'INBOX/\\*' INBOX '\\*'$",
	     "local count shown");
	is_int(job->counts[DMF_COUNT_TARGET_MESSAGES], 3, "target messages");
	is_int(job->counts[DMF_COUNT_TARGET_SIZE], 300, "target size");
	is_int(job->counts[DMF_COUNT_ORIGIN_MESSAGES], 5, "origin messages");
	is_int(job->counts[DMF_COUNT_ORIGIN_SIZE], 500, "origin size");
	is_int(job->counts[DMF_COUNT_SYNC_SAVED], 2, "sync saved 2");
	is_int(job->counts[DMF_COUNT_SYNC_EXPUNGED], 1, "sync expunged 1");
	like(dstr(job, "count remote mailbox", "command"),
	     "-o imapc_password=<hidden> -o 'imapc_features=rfc822.size "
	     "fetch-headers' -o mail_prefetch_count=20 -o mail=imapc: mailbox "
	     "status -u u1",
	     "remote count over imapc with the sync-settings, password hidden");
	calls = read_file("calls.log");
	like(calls, "PRE u1-c-77", "pre command ran with %%{mdb:container}");
	is_str(job_get_property(job, DMF_MDB_CONTAINER), "c-77",
	       "fetch-container set the job's container property (ABI 1.4), "
	       "so every command of the job sees it");
	like(calls, "ARGV -c [^ ]*/run/job-42-[^ ]*\\.conf -o imapc_features",
	     "doveadm ran with the per-job file");
	ok(!has(calls, "S3cr3t"), "password not in any argv");
	ok(before(calls, "PRE", "mailbox status") &&
		   before(calls, "mailbox status", "backup") &&
		   before(calls, "backup", "mail=imapc:") &&
		   before(calls, "mail=imapc:", "POST"),
	   "pre, count, sync, remote count, post ran in order");
	free(calls);
	jc = read_file("jobconf.last");
	like(jc, "\n!include [^\n]*/target.conf\n", "job file includes target");
	like(jc, "imapc_password = \"S3cr3t \\\\\"pw\\\\\" #\\$%x\"",
	     "job file holds the password, quoted");
	like(jc, "imapc_user = \"src1\"", "imapc_user is the ruid");
	free(jc);
	jc = read_file("jobconf.mode");
	is_str(jc, "600\n", "job file mode 0600");
	free(jc);
	jc = read_file("rundir.mode");
	is_str(jc, "700\n", "runtime dir mode 0700");
	free(jc);
	is_int(count_runtime_files(), 0, "job file removed after the job");
	{
		char *t = json_dumps(job->details, 0);
		ok(!has(t, "S3cr3t"), "password not in the details");
		free(t);
	}
	job_free(&job);

	/* 2. retry on 75, then success */
	reset();
	write_file("sync_codes", "75\n0\n", 0644);
	job = run("POD_1", "sync");
	is_int(job->status, DMF_STATUS_SUCCESS, "75 then 0: success");
	is_int(dint(job, "dsync", "attempts"), 2, "two attempts");
	like(json_string_value(json_array_get(
		     json_object_get(detail(job, "dsync"), "errors"), 0)),
	     "temporary failure 75", "the failed attempt's error kept");
	is_int(job->counts[DMF_COUNT_SYNC_SAVED], 4,
	       "saved counts add up over attempts");
	job_free(&job);

	/* 3. cutover exit 2 re-runs until 0; sync exit 2 is done */
	reset();
	write_file("sync_codes", "2\n2\n0\n", 0644);
	job = run("POD_1", "cutover");
	is_int(job->status, DMF_STATUS_SUCCESS, "cutover 2,2,0: success");
	is_int(dint(job, "dsync", "attempts"), 3, "three attempts");
	job_free(&job);
	reset();
	write_file("sync_codes", "2\n", 0644);
	job = run("POD_1", "sync");
	is_int(dint(job, "dsync", "attempts"), 1, "sync exit 2: one attempt");
	is_int(job->status, DMF_STATUS_SUCCESS, "sync exit 2: success");
	job_free(&job);

	/* 4. failure after retries: failure branch */
	reset();
	write_file("sync_codes", "1\n1\n1\n", 0644);
	job = run("POD_1", "sync");
	is_int(job->status, DMF_STATUS_FAILURE, "exit 1 twice: failure");
	is_int(dint(job, "dsync", "attempts"), 2, "retry.max 1: two attempts");
	is_int(dint(job, "dsync", "exitCode"), 1, "exitCode 1");
	is_str(ops(job),
	       "pre migration command|count local mailbox pre sync|dsync|"
	       "flush user metacache|post migration failure command",
	       "failure branch: metacache on-failure, failure command");
	like(job->error, "migration command failed", "job error");
	calls = read_file("calls.log");
	ok(has(calls, "FAILURE") && !has(calls, "POST"),
	   "failure command ran, post did not");
	free(calls);
	job_free(&job);

	/* 5. failure flag on the pre command: no sync */
	reset();
	job = run("FLAGS", "sync");
	is_int(job->status, DMF_STATUS_FAILURE, "flagged pre failure fails");
	is_str(ops(job), "pre migration command|post migration failure command",
	       "no sync after a flagged pre failure");
	like(job->error, "pre-migration-command", "error names the flag");
	job_free(&job);

	/* 6. flagged count-remote on cutover; 134 retried twice; legacy
	 * flush-metacache */
	reset();
	write_file("sync_codes", "abrt\n134\n0\n", 0644);
	write_file("count_code", "75\n", 0644);
	job = run("FLAGS", "cutover");
	is_int(dint(job, "dsync", "attempts"), 3,
	       "SIGABRT (as 134) and 134 retried by code-max 134: 2");
	is_int(job->status, DMF_STATUS_FAILURE, "flagged remote count fails");
	is_str(ops(job),
	       "dsync|count local mailbox post sync|count remote mailbox|"
	       "flush user metacache|post migration failure command",
	       "count failures, legacy flush, failure command not post");
	like(dstr(job, "flush user metacache", "command"),
	     "metacache flush -u u1$", "doveadm metacache flush -u u1");
	job_free(&job);

	/* 7. master user, imaps, prefix, exclude, no analyzer */
	reset();
	job = job_new("43", "sync", "MASTER", "t");
	job_set_property(job, "uid", "u1", false);
	job_set_property(job, "sourcepasswd", PW, true);
	job_set_property(job, "exclude", "Trash, Junk\nSpam/*", false);
	dmf_plugin_v1.run(ctx, job);
	host_job_finished(job);
	is_int(job->status, DMF_STATUS_SUCCESS, "master-user job succeeds");
	like(dstr(job, "dsync", "command"),
	     "-o imapc_host=imap.example -o imapc_port=993 -o imapc_ssl=imaps "
	     "-o imapc_user=u1 -o imapc_master_user=adm%in "
	     "-o imapc_password=<hidden> -o imapc_list_prefix=INBOX. backup",
	     "imaps, master user, prefix shown");
	like(dstr(job, "dsync", "command"),
	     "backup -R -x Trash -x Junk -x 'Spam/\\*' -u u1 imapc:$",
	     "exclude list as -x; sync-lock: 0 gives no -l");
	ok(json_object_get(detail(job, "dsync"), "saved") == NULL,
	   "analyze-log off: no saved counts");
	jc = read_file("jobconf.last");
	like(jc, "imapc_master_user = \"adm%%in\"", "%% doubled for Dovecot");
	like(jc, "imapc_password = \"" MPW "\"", "master password in file");
	ok(!has(jc, "S3cr3t"), "user password not used with a master user");
	like(jc, "imapc_ssl = \"imaps\"", "imapc_ssl imaps");
	free(jc);
	job_free(&job);

	/* 8. the sync override: password moved out of argv; non-sync refused */
	reset();
	job = run("OVERRIDE", "sync");
	is_int(job->status, DMF_STATUS_SUCCESS, "override job succeeds (%s)",
	       job->error ? job->error : "");
	calls = read_file("calls.log");
	ok(!has(calls, "S3cr3t") && !has(calls, "imapc_password"),
	   "override's password not in argv");
	like(calls,
	     "ARGV -c [^ ]*job-42-[^ ]*\\.conf .*-o imapc_host=127.0.0.1 "
	     "sync -l 60 -R -u u1 imapc:",
	     "override runs with the job file and dsync's user lock");
	free(calls);
	like(dstr(job, "dsync", "command"),
	     "-o imapc_password=<hidden> sync -l 60 -R -u u1 imapc:$",
	     "override shown with <hidden>");
	jc = read_file("jobconf.last");
	like(jc, "imapc_password = \"S3cr3t", "moved password in the file");
	free(jc);
	job_free(&job);
	reset();
	job = run("OVERRIDE", "cutover");
	is_int(job->status, DMF_STATUS_FAILURE, "non-sync override refused");
	like(job->error,
	     "configuration error: .*must be a doveadm sync or "
	     "backup command",
	     "configuration error");
	calls = read_file("calls.log");
	ok(!has(calls, "expunge"), "the refused command never ran");
	free(calls);
	job_free(&job);

	/* 9. the sourcehost's status command for the remote count */
	reset();
	write_file("remote", "9\n", 0644);
	job = job_new("45", "sync", "POD_1", "t");
	job_set_property(job, "uid", "u1", false);
	job_set_property(job, "sourcehost", "127.0.0.1", false);
	job_set_property(job, "sourcepasswd", PW, true);
	{
		char shc[1024];
		snprintf(
			shc, sizeof(shc),
			"{\"status\": {\"name\": \"%s/doveadm\", \"options\": ["
			"{\"name\": \"-f\", \"value\": \"tab\"}, "
			"{\"name\": \"-o\", \"value\": "
			"\"imapc_password=%%{mdb:sourcepasswd}\"}, "
			"{\"name\": \"-o\", \"value\": \"mail=imapc:\"}], "
			"\"sub-command\": {\"name\": \"mailbox status\", "
			"\"options\": [{\"name\": \"-u\", \"value\": "
			"\"%%{mdb:uid}\"}], \"arguments\": [\"messages "
			"vsize\", "
			"\"*\"]}}}",
			dir);
		job_set_property(job, "sourcehostcommands", shc, false);
	}
	dmf_plugin_v1.run(ctx, job);
	host_job_finished(job);
	is_int(job->status, DMF_STATUS_SUCCESS, "status-command job succeeds");
	is_int(job->counts[DMF_COUNT_ORIGIN_MESSAGES], 9,
	       "origin count from the sourcehost's status command");
	like(dstr(job, "count remote mailbox", "command"),
	     "/doveadm -f tab -o imapc_password=<hidden> -o mail=imapc: "
	     "mailbox status -u u1 'messages vsize' '\\*'$",
	     "status command shown with the password hidden");
	calls = read_file("calls.log");
	ok(!has(calls, "S3cr3t"), "status command's password not in argv");
	like(calls,
	     "ARGV -c [^ ]*/run/job-45-[^ ]*\\.conf -f tab -o "
	     "mail=imapc: mailbox status",
	     "it ran with a per-job file");
	free(calls);
	job_free(&job);

	/* 10. abort */
	reset();
	job = job_new("44", "sync", "POD_1", "t");
	job_set_property(job, "uid", "u1", false);
	job_set_property(job, "sourcehost", "h", false);
	job_abort(job);
	dmf_plugin_v1.run(ctx, job);
	is_int(job->status, DMF_STATUS_FAILURE, "aborted job fails");
	host_job_finished(job);
	job_free(&job);

	fflush(logf);
	ok(!has(logbuf, "director.enabled is not supported"),
	   "director.enabled alone: no warning (no effect of its own)");
	ok(!has(logbuf, "is not supported yet"),
	   "no 'not supported yet' warning left (move-duplicates is built)");
	ok(!has(logbuf, "S3cr3t") && !has(logbuf, MPW),
	   "no password in the worker log");
	like(logbuf,
	     "destination system statistics before sync. messages: 3, "
	     "size: 300 \\(bytes\\)",
	     "pre count logged (spec 3.11.1)");
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd),
			 "grep -rlF -e S3cr3t -e " MPW " %s/cmdlog", dir);
		ok(system(cmd) != 0, "no password in the command logs");
		snprintf(cmd, sizeof(cmd), "grep -rqF 'backup -R' %s/cmdlog",
			 dir);
		ok(system(cmd) == 0, "the command logs were written");
	}

	dmf_plugin_v1.fini(ctx);

	/* 11. older daemons (tests/lib/fake_host): a 1.2 host has no
	 * crypto->wipe and writes the 1.2 exec result; a NULL crypto table */
	{
		struct fake_host fh;
		unsigned long wipes;

		fake_host_init(&fh, host_get());
		fake_host_as_minor(&fh, 3);
		ok(dmf_plugin_v1.init(&fh.host, &ctx, &e) == 0,
		   "init on the fake 1.3 host");
		wipes = fake_host_wipe_calls;
		reset();
		job = run("POD_1", "sync");
		is_int(job->status, DMF_STATUS_SUCCESS, "1.3 host: success");
		ok(job_get_property(job, DMF_MDB_CONTAINER) == NULL,
		   "1.3 host: no set_property, no container property");
		calls = read_file("calls.log");
		like(calls, "PRE u1-c-77",
		     "1.3 host: the commands still get %%{mdb:container}");
		free(calls);
		job_free(&job);
		ok(fake_host_wipe_calls > wipes,
		   "1.3 host: secrets wiped by crypto->wipe (%lu calls)",
		   fake_host_wipe_calls - wipes);
		dmf_plugin_v1.fini(ctx);

		fake_host_init(&fh, host_get());
		fake_host_as_minor(&fh, 2);
		ok(dmf_plugin_v1.init(&fh.host, &ctx, &e) == 0,
		   "init on a 1.2 host");
		wipes = fake_host_wipe_calls;
		reset();
		write_file("sync_codes", "1\n1\n1\n", 0644);
		job = run("POD_1", "sync");
		is_int(job->status, DMF_STATUS_FAILURE,
		       "1.2 host: exit 1 fails");
		is_int(dint(job, "dsync", "exitCode"), 1,
		       "1.2 host: exit code read from the 1.2 result");
		is_int(dint(job, "dsync", "attempts"), 2,
		       "1.2 host: retried as on 1.3");
		job_free(&job);
		reset();
		job = run("POD_1", "sync");
		is_int(job->status, DMF_STATUS_SUCCESS, "1.2 host: success");
		is_int(job->counts[DMF_COUNT_TARGET_MESSAGES], 3,
		       "1.2 host: counts");
		is_int(count_runtime_files(), 0, "1.2 host: job file removed");
		job_free(&job);
		is_int(fake_host_wipe_calls - wipes, 0,
		       "1.2 host: crypto->wipe never called");
		dmf_plugin_v1.fini(ctx);

		fake_host_init(&fh, host_get());
		fh.host.crypto = NULL;
		ok(dmf_plugin_v1.init(&fh.host, &ctx, &e) == 0,
		   "init without a crypto table");
		reset();
		job = run("POD_1", "sync");
		is_int(job->status, DMF_STATUS_SUCCESS,
		       "NULL crypto table: success");
		job_free(&job);
		dmf_plugin_v1.fini(ctx);
	}
	host_deinit();
	config_free(&cfg);
	if (getenv("DV_KEEP") == NULL) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("cannot remove %s", dir);
	}
	fclose(logf);
	free(logbuf);
	return done_testing();
}
