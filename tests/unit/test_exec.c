/* test_exec.c - spawning, capture, stdin, timeouts, abort, groups, fds,
 * and the exec host table with injection end to end. */
#include "dmf-build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "lib/config.h"
#include "exec/exec.h"
#include "exec/proc.h"
#include "host/host_services.h"
#include "dmf/plugin.h"
#include "exec/inject.h"
#include "lib/job.h"
#include "lib/util.h"

struct capture {
	char out[65536 * 4];
	size_t out_len;
	char err[4096];
	size_t err_len;
	unsigned lines, long_pieces;
	size_t max_len;
};

static void cap_line(void *ctx, enum dmf_exec_stream s, const char *line,
		     size_t len)
{
	struct capture *c = ctx;
	char *buf = s == DMF_EXEC_STDOUT ? c->out : c->err;
	size_t *blen = s == DMF_EXEC_STDOUT ? &c->out_len : &c->err_len;
	size_t cap = s == DMF_EXEC_STDOUT ? sizeof(c->out) : sizeof(c->err);

	c->lines++;
	if (len > c->max_len)
		c->max_len = len;
	if (len == EXEC_LINE_MAX)
		c->long_pieces++;
	if (*blen + len + 2 < cap) {
		memcpy(buf + *blen, line, len);
		*blen += len;
		buf[(*blen)++] = '\n';
		buf[*blen] = '\0';
	}
}

static int run(const char *const *argv, const char *in, long long timeout,
	       int abort_fd, struct capture *c, struct dmf_exec_result *r,
	       char **err)
{
	struct exec_request req = {
		.argv = argv,
		.stdin_data = in,
		.stdin_len = in != NULL ? strlen(in) : 0,
		.timeout_ms = timeout,
		.abort_fd = abort_fd,
		.on_line = cap_line,
		.ctx = c,
	};

	memset(c, 0, sizeof(*c));
	memset(r, 0, sizeof(*r));
	return exec_run(&req, r, err);
}

static void test_basic(void)
{
	static struct capture c;
	struct dmf_exec_result r;
	char *err = NULL;
	const char *t[] = { "/bin/true", NULL };
	const char *f[] = { "false", NULL }; /* PATH lookup */
	const char *e7[] = { "/bin/sh", "-c", "exit 7", NULL };
	const char *io[] = {
		"/bin/sh", "-c",
		"echo out1; echo err1 >&2; printf 'out2\\r\\nlast'", NULL
	};
	const char *sig[] = { "/bin/sh", "-c", "kill -TERM $$", NULL };
	const char *missing[] = { "/nonexistent/cmd", NULL };
	const char *missing2[] = { "no-such-command-dmf", NULL };
	const char *empty[] = { NULL };

	ok(run(t, NULL, 0, -1, &c, &r, &err) == 0, "true runs");
	is_int(r.exit_code, 0, "true exits 0");
	is_int(r.signal, 0, "no signal");
	ok(run(f, NULL, 0, -1, &c, &r, &err) == 0 && r.exit_code == 1,
	   "false via PATH exits 1");
	ok(run(e7, NULL, 0, -1, &c, &r, &err) == 0 && r.exit_code == 7,
	   "exit status 7");
	ok(run(io, NULL, 0, -1, &c, &r, &err) == 0, "stdout/stderr runs");
	is_str(c.out, "out1\nout2\r\nlast\n", "stdout lines, last partial");
	is_str(c.err, "err1\n", "stderr line");
	is_int(r.output_bytes, 20, "output bytes counted");
	ok(run(sig, NULL, 0, -1, &c, &r, &err) == 0, "signal run");
	is_int(r.signal, SIGTERM, "killed by SIGTERM reported");
	is_int(r.exit_code, -1, "no exit code when signalled");
	is_int(run(missing, NULL, 0, -1, &c, &r, &err), -ENOENT,
	       "missing command: -ENOENT");
	like(err, "cannot run '/nonexistent/cmd'", "message names it");
	free(err);
	err = NULL;
	is_int(run(missing2, NULL, 0, -1, &c, &r, &err), -ENOENT,
	       "missing PATH command: -ENOENT");
	free(err);
	err = NULL;
	is_int(run(empty, NULL, 0, -1, &c, &r, &err), -EINVAL, "empty argv");
	free(err);
}

static void test_lines_and_stdin(void)
{
	static struct capture c;
	struct dmf_exec_result r;
	char *err = NULL, *big;
	const char *cat[] = { "/bin/cat", NULL };
	const char *wc[] = { "/usr/bin/wc", "-c", NULL };
	const char *t[] = { "/bin/true", NULL };
	const char *longline[] = {
		"/bin/sh", "-c",
		"head -c 150000 /dev/zero | tr '\\0' x; echo; echo after", NULL
	};
	const char *nostdin[] = { "/bin/sh", "-c", "cat; echo done", NULL };
	size_t n = 1 << 20;

	ok(run(cat, "a\nb b\n\nc", 0, -1, &c, &r, &err) == 0, "cat runs");
	is_str(c.out, "a\nb b\n\nc\n",
	       "stdin reaches the child, empty line kept");
	big = malloc(n + 1);
	memset(big, 'y', n);
	big[n] = '\0';
	ok(run(wc, big, 0, -1, &c, &r, &err) == 0, "1 MiB stdin");
	is_str(c.out, "1048576\n", "all of stdin written");
	ok(run(t, big, 0, -1, &c, &r, &err) == 0 && r.exit_code == 0,
	   "child ignoring stdin: no SIGPIPE, exit 0");
	free(big);
	ok(run(longline, NULL, 0, -1, &c, &r, &err) == 0, "long line");
	is_int(c.max_len, EXEC_LINE_MAX, "pieces of at most 64 KiB");
	is_int(c.lines, 4, "150000 bytes = 3 pieces, then 'after'");
	ok(run(nostdin, NULL, 0, -1, &c, &r, &err) == 0, "no stdin");
	is_str(c.out, "done\n", "stdin is /dev/null (EOF at once)");
}

static bool pid_gone(pid_t pid)
{
	for (int i = 0; i < 100; i++) {
		char path[64], state = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "r");
		if (f == NULL)
			return true;
		/* "pid (comm) S ..." */
		if (fscanf(f, "%*d (%*[^)]) %c", &state) == 1 && state == 'Z') {
			fclose(f);
			return true;
		}
		fclose(f);
		usleep(20000);
	}
	return false;
}

struct aborter {
	int fd;
	unsigned ms;
};

static void *abort_later(void *arg)
{
	struct aborter *a = arg;
	uint64_t one = 1;

	usleep(a->ms * 1000);
	if (write(a->fd, &one, sizeof(one)) < 0)
		perror("write");
	return NULL;
}

static void test_kill(void)
{
	static struct capture c;
	struct dmf_exec_result r;
	char *err = NULL;
	const char *sleeper[] = { "/bin/sleep", "30", NULL };
	const char *tree[] = { "/bin/sh", "-c", "sleep 30 & echo $!; wait",
			       NULL };
	const char *leaver[] = { "/bin/sh", "-c", "sleep 30 & echo $!", NULL };
	const char *pgrp[] = { "/bin/sh", "-c", "cat /proc/$$/stat", NULL };
	uint64_t t0;
	pid_t bg;
	struct aborter a;
	pthread_t th;
	int pid = 0, pg = 0;

	t0 = now_monotonic_ms();
	ok(run(sleeper, NULL, 200, -1, &c, &r, &err) == 0, "timeout run");
	ok(r.timed_out && r.signal == SIGKILL, "timed out, SIGKILL");
	ok(now_monotonic_ms() - t0 < 2000, "returned soon after the timeout");

	ok(run(tree, NULL, 300, -1, &c, &r, &err) == 0, "tree with timeout");
	bg = (pid_t)atoi(c.out);
	ok(bg > 0 && r.timed_out, "timed out");
	ok(pid_gone(bg), "grandchild killed with the group (pid %d)", (int)bg);

	t0 = now_monotonic_ms();
	ok(run(leaver, NULL, 0, -1, &c, &r, &err) == 0, "leaver run");
	bg = (pid_t)atoi(c.out);
	ok(r.exit_code == 0 && !r.timed_out, "leader exits 0");
	ok(now_monotonic_ms() - t0 < 1500,
	   "does not wait for what the leader left running");
	ok(pid_gone(bg), "left-behind child killed (pid %d)", (int)bg);

	a.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a.ms = 200;
	pthread_create(&th, NULL, abort_later, &a);
	t0 = now_monotonic_ms();
	ok(run(tree, NULL, 0, a.fd, &c, &r, &err) == 0, "abort run");
	pthread_join(th, NULL);
	bg = (pid_t)atoi(c.out);
	ok(r.aborted && !r.timed_out && r.signal == SIGKILL,
	   "aborted, SIGKILL");
	ok(now_monotonic_ms() - t0 < 2000, "abort is immediate");
	ok(pid_gone(bg), "abort kills the whole group");
	close(a.fd);

	ok(run(pgrp, NULL, 0, -1, &c, &r, &err) == 0, "pgrp run");
	sscanf(c.out, "%d (%*[^)]) %*c %*d %d", &pid, &pg);
	ok(pid > 0 && pid == pg, "child leads its own process group");
	ok(pg != getpgrp(), "not the test's process group");
}

static void test_fds_env(void)
{
	static struct capture c;
	struct dmf_exec_result r;
	char *err = NULL, want[32];
	const char *ls[] = { "/bin/ls", "/proc/self/fd", NULL };
	const char *env[] = { "/usr/bin/env", NULL };
	const char *envp[] = { "FOO=bar baz", NULL };
	struct exec_request req = { .argv = env,
				    .envp = envp,
				    .abort_fd = -1,
				    .on_line = cap_line,
				    .ctx = &c };
	int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */

	ok(dup2(leak, 57) == 57, "a leaky fd 57 exists");
	ok(run(ls, NULL, 0, -1, &c, &r, &err) == 0, "ls fds");
	snprintf(want, sizeof(want), "\n57\n");
	ok(strstr(c.out, want) == NULL, "fd 57 not inherited");
	ok(c.lines <= 4, "only 0, 1, 2 (+ ls's own): %u", c.lines);
	close(57);
	close(leak);
	memset(&c, 0, sizeof(c));
	ok(exec_run(&req, &r, &err) == 0, "env run");
	is_str(c.out, "FOO=bar baz\n", "the given environment only");
}

/* a uid of `a; touch FILE` reaches the command as one argument */
static void test_hostile_end_to_end(void)
{
	static struct capture c;
	char dir[] = "/tmp/dmf-exec-XXXXXX", *uid, *err = NULL, *yaml;
	struct config *cfg = NULL;
	struct dmf_job *job;
	struct dmf_command *cmd = NULL;
	struct dmf_exec_result r;
	struct stat st;
	static const char *const forms[][2] = {
		{ "a; touch ", "/pwned" },     { "$(touch ", "/pwned)" },
		{ "`touch ", "/pwned`" },      { "a\ntouch ", "/pwned" },
		{ "a && touch ", "/pwned #" }, { "a | touch ", "/pwned" }
	};
	char *pwned;

	ok(mkdtemp(dir) != NULL, "temp dir");
	pwned = xasprintf("%s/pwned", dir);
	yaml = xasprintf("cmd:\n  name: /usr/bin/printf\n  arguments:\n"
			 "    - \"[%%s]\\\\n\"\n    - \"%%{mdb:uid}\"\n");
	ok(config_load_string(yaml, "e.yml", NULL, &cfg, &err) == 0, "yaml: %s",
	   err ? err : "ok");
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct exec_request req = { .abort_fd = -1,
					    .on_line = cap_line,
					    .ctx = &c };
		char *want;

		job = job_new("7", "sync", "POD_1", "t");
		uid = xasprintf("%s%s%s", forms[i][0], dir, forms[i][1]);
		job_set_property(job, "uid", uid, false);
		ok(inject_build(job, NULL, cfg_child(cfg->root, "cmd"), &cmd,
				&err) == 0,
		   "hostile %zu: build", i);
		is_int(cmd->argc, 3, "hostile %zu: three elements", i);
		memset(&c, 0, sizeof(c));
		req.argv = (const char *const *)cmd->argv;
		ok(exec_run(&req, &r, &err) == 0 && r.exit_code == 0,
		   "hostile %zu: runs", i);
		want = xasprintf("[%s]\n", uid);
		is_str(c.out, want, "hostile %zu: one argument, verbatim", i);
		ok(stat(pwned, &st) < 0, "hostile %zu: nothing created", i);
		free(want);
		free(uid);
		inject_command_free(&cmd);
		job_free(&job);
	}
	free(yaml);
	free(pwned);
	config_free(&cfg);
	rmdir(dir);
}

struct par {
	pthread_t th;
	int ok;
};

static void *par_run(void *arg)
{
	struct par *p = arg;
	struct capture *c = malloc(sizeof(*c));
	struct dmf_exec_result r;
	char *err = NULL;
	const char *echo[] = { "/bin/echo", "hello", NULL };

	p->ok = run(echo, NULL, 10000, -1, c, &r, &err) == 0 &&
		r.exit_code == 0 && strcmp(c->out, "hello\n") == 0;
	free(err);
	free(c);
	return NULL;
}

static void test_parallel(void)
{
	enum { N = 100 };
	static struct par p[N];
	int good = 0;

	for (int i = 0; i < N; i++)
		pthread_create(&p[i].th, NULL, par_run, &p[i]);
	for (int i = 0; i < N; i++) {
		pthread_join(p[i].th, NULL);
		good += p[i].ok;
	}
	is_int(good, N, "%d commands at once from %d threads", N, N);
}

/* The host table: redaction of output lines and of the display. */
static void test_host_table(void)
{
	static struct capture c;
	const struct dmf_host_exec *ex = host_exec_table();
	struct config *cfg = NULL;
	struct dmf_job *job = job_new("9", "sync", "POD_1", "t");
	struct dmf_exec_options o = { .size = sizeof(o) };
	struct dmf_exec_result r = { .size = sizeof(r) };
	const char *err = NULL;
	char *e = NULL;
	const char *echo[] = { "/bin/echo", "pw", "UserSecret1", "Master123",
			       NULL };
	const char *missing[] = { "/nonexistent", NULL };

	ok(config_load_string("dmf:\n  worker:\n    command:\n      logging:\n"
			      "        type: off\n  doveadm:\n    source:\n"
			      "      default:\n        imapc:\n"
			      "          master-password: Master123\n",
			      "h.yml", NULL, &cfg, &e) == 0,
	   "config: %s", e ? e : "ok");
	ok(host_secrets_init(cfg) == 0, "host_secrets_init");
	ok(host_exec_init(cfg, &e) == 0, "host_exec_init");
	job_set_property(job, "sourcepasswd", "UserSecret1", true);
	o.on_line = cap_line;
	o.line_ctx = &c;
	memset(&c, 0, sizeof(c));
	ok(ex->size == sizeof(struct dmf_host_exec), "table size");
	ok(ex->run(job, echo, &o, &r, &err) == 0, "run through the table");
	is_str(c.out, "pw <hidden> <hidden>\n",
	       "job and config secrets hidden in output lines");
	is_int(ex->run(job, missing, NULL, &r, &err), -ENOENT,
	       "missing command through the table");
	like(err, "cannot run", "error text");
	host_exec_job_finish(job, true);
	job_free(&job);
	host_exec_deinit();
	host_secrets_deinit();
	config_free(&cfg);
}

/* ABI 1.3: the host writes at most the plugin's struct dmf_exec_result. */
static void test_result_size(void)
{
	const struct dmf_host_exec *ex = host_exec_table();
	const char *exit7[] = { "/bin/sh", "-c", "echo hi; exit 7", NULL };
	struct {
		struct dmf_exec_result r;
		unsigned char guard[16];
	} small;
	struct {
		struct dmf_exec_result_1_2 r;
		unsigned char guard[16];
	} old;
	struct dmf_exec_result zero = { 0 };
	const char *err = NULL;
	char *e = NULL;
	int guard_ok = 1;

	ok(host_exec_init(NULL, &e) == 0, "host_exec_init");
	is_int(ex->run(NULL, exit7, NULL, &zero, &err), -EINVAL,
	       "size 0 refused");
	like(err, "size 0 is smaller", "names the size");

	/* a 1.3 plugin: the whole struct, size left alone, nothing past it */
	memset(&small, 0xa5, sizeof(small));
	small.r.size = sizeof(small.r);
	is_int(ex->run(NULL, exit7, NULL, &small.r, &err), 0, "1.3 run");
	is_int(small.r.exit_code, 7, "1.3 layout: exit code");
	is_int(small.r.signal, 0, "1.3 layout: signal");
	is_int((long long)small.r.output_bytes, 3, "1.3 layout: output bytes");
	is_int((long long)small.r.size, (long long)sizeof(small.r),
	       "size untouched");
	for (size_t i = 0; i < sizeof(small.guard); i++)
		guard_ok &= small.guard[i] == 0xa5;
	ok(guard_ok, "nothing written past the struct");

	/* a plugin built for 1.2: the old layout, no byte more */
	host_exec_set_plugin_minor(2);
	memset(&old, 0xa5, sizeof(old));
	is_int(ex->run(NULL, exit7, NULL, (struct dmf_exec_result *)&old.r,
		       &err),
	       0, "1.2 run");
	is_int(old.r.exit_code, 7, "1.2 layout: exit code at offset 0");
	is_int(old.r.timed_out, 0, "1.2 layout: timed_out");
	is_int((long long)old.r.output_bytes, 3, "1.2 layout: output bytes");
	guard_ok = 1;
	for (size_t i = 0; i < sizeof(old.guard); i++)
		guard_ok &= old.guard[i] == 0xa5;
	ok(guard_ok, "1.2 layout: nothing written past the old struct");
	host_exec_set_plugin_minor(DMF_ABI_MINOR);
	host_exec_deinit();
}

struct spawn_seen {
	pid_t pgid;
	bool before_exec, ident_ok;
	int ret;
	uint64_t start_by; /* given to the child */
	unsigned delay_ms; /* held up after the check, as when frozen */
};

static int seen_spawn(void *ctx, pid_t pgid, uint64_t *start_by_r)
{
	struct spawn_seen *s = ctx;
	struct proc_ident id;
	char exe[512] = "", cmd[PATH_MAX];
	char path[64];

	s->pgid = pgid;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pgid);
	if (readlink(path, exe, sizeof(exe) - 1) < 0 ||
	    realpath("/bin/sh", cmd) == NULL)
		exe[0] = '\0';
	/* held before execve: not yet the command's program.  (Not "still
	 * this program": under valgrind the forked child is valgrind's tool
	 * and valgrind answers /proc/self/exe, and /proc/OWN-PID/exe, with
	 * the client program.) */
	s->before_exec = exe[0] != '\0' && strcmp(exe, cmd) != 0;
	s->ident_ok = proc_ident_of(pgid, &id) == 0 && id.pgid == pgid &&
		      proc_ident_is_local(&id);
	*start_by_r = s->start_by;
	if (s->delay_ms > 0)
		usleep(s->delay_ms * 1000);
	return s->ret;
}

static bool alive(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;
	bool r = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f != NULL) {
		char *p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;

		r = p != NULL && p[1] == ' ' && p[2] != 'Z';
		fclose(f);
	}
	return r;
}

static pid_t read_pid(const char *file, unsigned wait_ms)
{
	for (unsigned i = 0; i < wait_ms / 10; i++) {
		FILE *f = fopen(file, "re");
		int pid = 0;

		if (f != NULL) {
			if (fscanf(f, "%d", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (pid > 0)
			return pid;
		usleep(10000);
	}
	return 0;
}

/* Orphans: the group is seen before the command runs, a refusal stops it,
 * the child dies with its parent, and proc_group_reap kills a recorded
 * group but leaves one with another identity alone. */
static void test_orphans(const char *tmp)
{
	char file[512], script[1200];
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct spawn_seen seen = { 0 };
	struct exec_request req = { .argv = argv,
				    .abort_fd = -1,
				    .on_spawn = seen_spawn,
				    .spawn_ctx = &seen };
	struct dmf_exec_result r;
	struct proc_ident id;
	unsigned killed = 99;
	char *err = NULL;
	pid_t helper, leaf, grp;
	int st;

	snprintf(file, sizeof(file), "%s/ran", tmp);
	snprintf(script, sizeof(script), "touch %s", file);
	ok(exec_run(&req, &r, &err) == 0 && r.exit_code == 0, "gated run");
	ok(seen.pgid > 0 && seen.before_exec,
	   "on_spawn sees the group before the command runs");
	ok(seen.ident_ok, "its identity is read and local");
	ok(access(file, F_OK) == 0, "then the command ran");
	unlink(file);
	seen.ret = -ECANCELED;
	is_int(exec_run(&req, &r, &err), -ECANCELED,
	       "on_spawn refusing: the run fails with its error");
	ok(access(file, F_OK) != 0, "and the command never ran");
	free(err);
	err = NULL;

	/* the start-by time: the child checks it itself, just before execve */
	seen.ret = 0;
	seen.start_by = now_monotonic_ms() + 60000;
	ok(exec_run(&req, &r, &err) == 0 && r.exit_code == 0 &&
		   access(file, F_OK) == 0,
	   "a start-by time still ahead: the command runs");
	unlink(file);
	seen.start_by = now_monotonic_ms() + 50;
	seen.delay_ms = 150;
	is_int(exec_run(&req, &r, &err), -ETIME,
	       "held up past its start-by time after the check: -ETIME");
	ok(err != NULL && strstr(err, "not started, its start-by time had "
				      "passed") != NULL,
	   "with a message that says so (%s)", err != NULL ? err : "-");
	ok(access(file, F_OK) != 0, "and the command never ran");
	free(err);
	err = NULL;
	seen.start_by = 0;
	ok(exec_run(&req, &r, &err) == 0 && r.exit_code == 0 &&
		   access(file, F_OK) == 0,
	   "no start-by time, held up as long: the command runs");
	unlink(file);
	seen.delay_ms = 0;

	/* kill -9 of the parent: its child goes too (PR_SET_PDEATHSIG) */
	snprintf(file, sizeof(file), "%s/leaf.pid", tmp);
	snprintf(script, sizeof(script), "echo $$ >%s; exec sleep 30", file);
	helper = fork();
	if (helper == 0) {
		struct exec_request hr = { .argv = argv, .abort_fd = -1 };

		exec_run(&hr, &r, &err);
		_exit(0);
	}
	leaf = read_pid(file, 5000);
	ok(leaf > 0 && alive(leaf), "the child runs (pid %d)", (int)leaf);
	kill(helper, SIGKILL);
	waitpid(helper, &st, 0);
	for (int i = 0; i < 200 && leaf > 0 && alive(leaf); i++)
		usleep(10000);
	ok(leaf > 0 && !alive(leaf), "it died with its killed parent");

	/* a group whose leader spawned a child: reap it */
	snprintf(file, sizeof(file), "%s/grp.pid", tmp);
	unlink(file);
	snprintf(script, sizeof(script),
		 "sleep 30 & echo $! >%s; exec sleep 30", file);
	grp = fork();
	if (grp == 0) {
		setpgid(0, 0);
		execv("/bin/sh", (char *const *)argv);
		_exit(127);
	}
	setpgid(grp, grp);
	leaf = read_pid(file, 5000);
	ok(proc_ident_of(grp, &id) == 0, "identity of a test group");
	id.start++;
	ok(proc_group_reap(&id, 1000, &killed) == 0 && killed == 0 &&
		   alive(grp) && alive(leaf),
	   "another start time: not that run, left alone");
	id.start--;
	snprintf(id.boot_id, sizeof(id.boot_id), "not-this-boot");
	is_int(proc_group_reap(&id, 1000, NULL), -EXDEV,
	       "another machine: cannot be checked here");
	ok(proc_ident_of(grp, &id) == 0, "identity again");
	ok(proc_group_reap(&id, 3000, &killed) == 0 && killed == 2,
	   "the recorded group is killed (%u processes)", killed);
	ok(!alive(grp) && !alive(leaf), "and gone");
	waitpid(grp, &st, 0);
	free(err);
}

/* An older worker (a package upgrade) opens the gate with one byte and no
 * start-by time: the gate program still runs the command. */
static void test_gate_old_message(const char *gate)
{
	int g[2], st[2], status = -1;
	char parent[24], gfd[16], sfd[16];
	pid_t pid;

	if (pipe(g) < 0 || pipe(st) < 0) {
		ok(0, "pipes for the gate program");
		return;
	}
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	snprintf(gfd, sizeof(gfd), "%d", g[0]);
	snprintf(sfd, sizeof(sfd), "%d", st[1]);
	pid = fork();
	if (pid == 0) {
		close(g[1]);
		close(st[0]);
		execl(gate, "dmf-exec-gate", parent, gfd, sfd, "/bin/sh", "sh",
		      "-c", "exit 7", (char *)NULL);
		_exit(126);
	}
	close(g[0]);
	close(st[1]);
	if (write(g[1], "\1", 1) != 1)
		status = -2;
	close(g[1]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 7,
	   "one byte (an older worker's message) opens the gate: the command "
	   "ran (exit %d)",
	   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	close(st[0]);
}

/* Which way commands start: $DMF_EXEC_GATE (set by the test suite to the
 * built dmf-exec-gate; test_exec_forked.sh sets it empty). */
static void test_gate(void)
{
	const char *want = getenv("DMF_EXEC_GATE");
	const char *gate = exec_gate_init();

	if (want == NULL || want[0] == '\0') {
		ok(gate == NULL, "commands are forked (DMF_EXEC_GATE %s)",
		   want == NULL ? "unset" : "empty");
		return;
	}
	ok(gate != NULL && strcmp(gate, want) == 0, "commands start through %s",
	   want);
	if (gate != NULL) {
		const char *argv[] = { gate, "1", NULL };
		struct exec_request req = { .argv = argv, .abort_fd = -1 };
		struct dmf_exec_result r;
		char *err = NULL;
		int ret = exec_run(&req, &r, &err);

		ok(ret == 0 && r.exit_code == 127,
		   "the gate program run by hand refuses (exit %d)",
		   r.exit_code);
		free(err);
		test_gate_old_message(gate);
	}
}

int main(void)
{
	plan_lazy();
	signal(SIGPIPE, SIG_DFL);
	test_gate();
	test_basic();
	test_lines_and_stdin();
	test_kill();
	test_fds_env();
	test_hostile_end_to_end();
	test_parallel();
	test_host_table();
	test_result_size();
	{
		char tmp[] = "/tmp/dmf-exec-orphans.XXXXXX";

		if (mkdtemp(tmp) != NULL) {
			char cmd[600];

			test_orphans(tmp);
			snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
			ok(system(cmd) == 0, "orphans: temp dir removed");
		}
	}
	return done_testing();
}
