/* test_cmdlog.c - command logging: settings, names, files, errors, and the
 * exec host table writing a job's command log. */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "exec/cmdlog.h"
#include "lib/config.h"
#include "host/host_services.h"
#include "lib/job.h"
#include "lib/util.h"

static struct config *load(const char *yaml)
{
	struct config *cfg = NULL;
	char *err = NULL;

	if (config_load_string(yaml, "l.yml", NULL, &cfg, &err) < 0) {
		diag("config: %s", err);
		free(err);
	}
	return cfg;
}

static void test_settings(void)
{
	struct cmdlog_settings s;
	struct config *cfg;
	char *err = NULL;

	ok(cmdlog_settings_load(NULL, &s, &err) == 0, "defaults");
	is_int(s.type, CMDLOG_FILE, "default type file");
	is_str(s.format, "%(source)-%(user)-user-migration.log",
	       "default format");
	is_str(s.location, "/var/log/dmf", "default location");
	ok(!s.delete_on_success, "default keeps files");
	cmdlog_settings_clear(&s);

	cfg = load("dmf:\n  worker:\n    command:\n      logging:\n"
		   "        type: logger\n");
	ok(cmdlog_settings_load(cfg->root, &s, &err) == 0 &&
		   s.type == CMDLOG_LOGGER,
	   "type logger");
	cmdlog_settings_clear(&s);
	config_free(&cfg);
	cfg = load("dmf:\n  worker:\n    command:\n      logging:\n"
		   "        type: \"off\"\n");
	ok(cmdlog_settings_load(cfg->root, &s, &err) == 0 &&
		   s.type == CMDLOG_OFF,
	   "type off");
	cmdlog_settings_clear(&s);
	config_free(&cfg);
	/* the configuration schema refuses a bad type before we see it */
	cfg = load("dmf:\n  worker:\n    command:\n      logging:\n"
		   "        type: syslog\n");
	ok(cfg == NULL, "bad type refused by the configuration");
	config_free(&cfg);
	cfg = load("dmf:\n  worker:\n    command:\n      logging:\n"
		   "        type: file\n        file:\n"
		   "          format: \"%(uid).log\"\n");
	ok(cmdlog_settings_load(cfg->root, &s, &err) == -EINVAL,
	   "unknown specifier refused");
	like(err, "%(uid)", "message names the specifier");
	free(err);
	config_free(&cfg);
}

static const struct {
	const char *format, *user, *want;
} names[] = {
	{ "%(source)-%(user)-user-migration.log", "u1",
	  "POD_1-u1-user-migration.log" },
	{ "%(job)_%(phase)_%(date).log", "u1", "17_cutover_2026-01-02.log" },
	{ "%(user).log", "../../etc/passwd", "_._.._etc_passwd.log" },
	{ "%(user).log", "..", "_..log" },
	{ "%(user).log", "a\nb", "a_b.log" },
	{ "%(user).log", "", "unknown.log" },
	{ "plain.log", "u", "plain.log" },
	{ "100%.log", "u", "100%.log" },
};

static void test_names(void)
{
	char buf[256];
	const char *bad = NULL;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int ret = cmdlog_file_name(
			names[i].format, "POD_1", names[i].user, "cutover",
			"17", "2026-01-02", buf, sizeof(buf), NULL);

		ok(ret == 0, "name %zu formats", i);
		is_str(buf, names[i].want, "name %zu", i);
	}
	ok(cmdlog_file_name("%(nope)", "s", "u", "p", "j", "d", buf,
			    sizeof(buf), &bad) == -EINVAL,
	   "unknown specifier");
	is_str(bad, "%(nope)", "points at it");
	ok(cmdlog_file_name("%(user", "s", "u", "p", "j", "d", buf, sizeof(buf),
			    &bad) == -EINVAL,
	   "unterminated specifier");
	ok(cmdlog_file_name("%(user)", "s", "long-user", "p", "j", "d", buf, 5,
			    NULL) == -ENOSPC,
	   "too long");
}

static void test_files(void)
{
	char dir[] = "/tmp/dmf-cmdlog-XXXXXX", *path, *path2, *text;
	struct cmdlog_settings s = { .type = CMDLOG_FILE,
				     .format = "%(user)-%(job).log" };
	struct dmf_job *job = job_new("17", "sync", "POD_1", "t");
	struct dmf_job *job2 = job_new("18", "sync", "POD_1", "t");
	struct dmf_exec_result r = { .exit_code = 3, .duration_ms = 5 };
	struct cmdlog *log;
	struct stat st;

	ok(mkdtemp(dir) != NULL, "temp dir");
	s.location = dir;
	job_set_property(job, "uid", "u1", false);
	path = xasprintf("%s/u1-17.log", dir);

	log = cmdlog_open(&s, job);
	ok(log != NULL && cmdlog_error(log) == NULL, "opened");
	is_str(cmdlog_path(log), path, "path");
	cmdlog_begin(log, "sync", "doveadm -o imapc_password=<hidden> backup");
	cmdlog_line(log, DMF_EXEC_STDOUT, "line one", 8);
	cmdlog_line(log, DMF_EXEC_STDERR, "line two", 8);
	cmdlog_end(log, &r);
	ok(stat(path, &st) == 0, "file exists");
	is_int(st.st_mode & 0777, 0600, "mode 0600");
	text = util_read_file(path, NULL);
	like(text, " sync: doveadm -o imapc_password=<hidden> backup\n",
	     "header with step and display");
	like(text, "\nline one\nline two\n", "output lines");
	like(text, "=== exit status 3 after 5 ms\n", "footer");
	free(text);
	cmdlog_close(&log, false);
	ok(log == NULL, "close clears");
	ok(stat(path, &st) == 0, "kept after failure");

	s.delete_on_success = true;
	log = cmdlog_open(&s, job);
	cmdlog_line(log, DMF_EXEC_STDOUT, "again", 5);
	cmdlog_close(&log, false);
	text = util_read_file(path, NULL);
	like(text, "5 ms\nagain\n", "appends");
	free(text);
	ok(stat(path, &st) == 0,
	   "failure keeps it even with delete-on-success");
	log = cmdlog_open(&s, job);
	cmdlog_close(&log, true);
	ok(stat(path, &st) < 0, "success + delete-on-success removes it");
	s.delete_on_success = false;
	log = cmdlog_open(&s, job);
	cmdlog_close(&log, true);
	ok(stat(path, &st) == 0, "success without delete-on-success keeps it");
	unlink(path);

	/* a symlink planted at the name is not followed */
	ok(symlink("/etc/passwd", path) == 0, "plant a symlink");
	log = cmdlog_open(&s, job);
	like(cmdlog_error(log), "cannot create", "symlink refused");
	cmdlog_close(&log, false);
	unlink(path);

	/* unwritable location: an error, not a failure */
	s.location = "/nonexistent/dir";
	log = cmdlog_open(&s, job);
	ok(log != NULL, "still a log object");
	like(cmdlog_error(log), "cannot create /nonexistent/dir/u1-17.log",
	     "error names the file");
	like(cmdlog_take_new_error(log), "No such file", "reported once...");
	ok(cmdlog_take_new_error(log) == NULL, "...only once");
	cmdlog_line(log, DMF_EXEC_STDOUT, "x", 1);
	cmdlog_close(&log, true);

	/* a full disk: /dev/full answers ENOSPC */
	s.location = "/dev";
	s.format = "full";
	log = cmdlog_open(&s, job);
	ok(cmdlog_error(log) == NULL, "/dev/full opens");
	cmdlog_line(log, DMF_EXEC_STDOUT, "x", 1);
	ok(cmdlog_error(log) == NULL, "a line waits in the buffer");
	cmdlog_flush(log);
	like(cmdlog_error(log), "No space left", "full disk reported");
	cmdlog_close(&log, false);

	s.location = dir;
	s.format = "%(user)-%(job).log";
	job_set_property(job2, "uid", "u1", false);
	path2 = xasprintf("%s/u1-18.log", dir);
	/* buffered (another job, another file): the header at once, lines at a flush or a full buffer,
	 * everything in order */
	log = cmdlog_open(&s, job2);
	cmdlog_begin(log, "sync", "cmd");
	ok(stat(path2, &st) == 0 && st.st_size > 0, "header written at once");
	{
		off_t header = st.st_size;
		char line[100];

		cmdlog_line(log, DMF_EXEC_STDOUT, "first", 5);
		ok(stat(path2, &st) == 0 && st.st_size == header,
		   "a line waits for the flush");
		cmdlog_flush(log);
		ok(stat(path2, &st) == 0 && st.st_size == header + 6,
		   "flush writes it");
		memset(line, 'x', sizeof(line));
		for (int i = 0; i < 1000; i++) {
			snprintf(line, sizeof(line), "%04d", i);
			line[4] = 'x';
			cmdlog_line(log, DMF_EXEC_STDOUT, line, sizeof(line));
		}
		ok(stat(path2, &st) == 0 && st.st_size > header + 6 + 90000 &&
			   st.st_size < header + 6 + 101000,
		   "a full buffer is written without a flush");
		cmdlog_end(log, &r);
		ok(stat(path2, &st) == 0 && st.st_size > header + 6 + 101000,
		   "end writes the rest and the footer");
		text = util_read_file(path2, NULL);
		like(text, "\nfirst\n0000x", "lines in order");
		like(text, "0999xxx", "the last line");
		like(text, "xxx\n=== exit status 3", "footer after the lines");
		free(text);
	}
	cmdlog_close(&log, false);
	unlink(path2);
	free(path2);
	job_free(&job2);
	free(path);
	job_free(&job);
	rmdir(dir);
}

/* Through the exec host table: per-job file, redaction, details. */
static void test_host(void)
{
	char dir[] = "/tmp/dmf-cmdlog-XXXXXX", *yaml, *path, *text, *err = NULL;
	const struct dmf_host_exec *ex = host_exec_table();
	const char *echo[] = { "/bin/echo", "login", "UserSecret1", NULL };
	const char *fail[] = { "/bin/sh", "-c", "echo to-stderr >&2; exit 4",
			       NULL };
	struct dmf_exec_options o = { .size = sizeof(o), .step = "pre" };
	struct dmf_exec_result r = { .size = sizeof(r) };
	struct dmf_job *job;
	struct config *cfg;
	const char *e = NULL;
	struct stat st;

	ok(mkdtemp(dir) != NULL, "temp dir");
	yaml = xasprintf(
		"dmf:\n  worker:\n    command:\n      logging:\n"
		"        type: file\n        file:\n"
		"          format: \"%%(source)-%%(user)-%%(phase).log\"\n"
		"          location: %s\n"
		"          delete-on-success: true\n",
		dir);
	cfg = load(yaml);
	ok(host_exec_init(cfg, &err) == 0, "init");
	job = job_new("5", "cutover", "POD_1", "t");
	job_set_property(job, "uid", "u2", false);
	job_set_property(job, "sourcepasswd", "UserSecret1", true);
	ok(ex->run(job, echo, &o, &r, &e) == 0, "first command");
	o.step = "sync";
	ok(ex->run(job, fail, &o, &r, &e) == 0 && r.exit_code == 4,
	   "second command");
	path = xasprintf("%s/POD_1-u2-cutover.log", dir);
	text = util_read_file(path, NULL);
	ok(text != NULL, "one file per job");
	like(text, " pre: /bin/echo login <hidden>\n", "display redacted");
	like(text, "\nlogin <hidden>\n", "output redacted");
	ok(text != NULL && strstr(text, "UserSecret1") == NULL,
	   "the secret is nowhere in the file");
	like(text, " sync: /bin/sh -c 'echo to-stderr >&2; exit 4'\n",
	     "second command header");
	like(text, "\nto-stderr\n=== exit status 4", "stderr and footer");
	free(text);
	host_exec_job_finish(job, false);
	ok(stat(path, &st) == 0, "kept: job failed");
	job_free(&job);

	job = job_new("6", "cutover", "POD_1", "t");
	job_set_property(job, "uid", "u2", false);
	ok(ex->run(job, echo, NULL, &r, &e) == 0, "run ok");
	host_exec_job_finish(job, true);
	ok(stat(path, &st) < 0, "removed: success and delete-on-success");
	job_free(&job);
	host_exec_deinit();
	config_free(&cfg);
	free(yaml);

	/* unwritable location: detail + the job goes on */
	cfg = load("dmf:\n  worker:\n    command:\n      logging:\n"
		   "        file:\n          location: /nonexistent/x\n");
	ok(host_exec_init(cfg, &err) == 0, "init with a bad location");
	job = job_new("8", "sync", "POD_1", "t");
	ok(ex->run(job, echo, NULL, &r, &e) == 0 && r.exit_code == 0,
	   "command still runs");
	text = json_dumps(job->details, JSON_COMPACT);
	like(text,
	     "\"commandLog\":{\"error\":\"command log: cannot create "
	     "/nonexistent/x/",
	     "reported in the job's details");
	free(text);
	ok(ex->run(job, echo, NULL, &r, &e) == 0, "second run");
	is_int(json_array_size(job->details), 1, "reported once per job");
	host_exec_job_finish(job, true);
	job_free(&job);
	host_exec_deinit();
	config_free(&cfg);
	free(path);
	rmdir(dir);
}

int main(void)
{
	plan_lazy();
	test_settings();
	test_names();
	test_files();
	test_host();
	return done_testing();
}
