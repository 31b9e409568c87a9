/*
 * exec_bench.c - what running a command through the exec service costs.
 *
 *   exec_bench [RUNS] [MIB]
 *
 * 1. RUNS (default 1000) runs of /bin/true through exec_run() (pipes,
 *    process group, pidfd, poll loop, line splitting) and through the exec
 *    host table (plus redaction and the command log, type off), against a
 *    plain fork/execv/waitpid loop (and, for reference, a bare
 *    posix_spawn/waitpid loop, which exec_run uses underneath); prints
 *    microseconds per command and the ratios to fork/execv/waitpid.
 * 2. Output capture: a child writing MIB MiB (default 256) of 100-byte
 *    lines, read line by line into a counting sink, against a plain read()
 *    loop over a pipe from the same child; prints MB/s and the ratio.
 * 3. The spawning process's own CPU (getrusage: what the worker pays, its
 *    children excluded) per command while it holds 64 MiB of heap and
 *    writes 4 MiB of it between commands, as a busy worker does: through
 *    exec_run() and through a bare posix_spawn/waitpid loop (the cost of
 *    the writes alone, nearly).  exec_run() starts commands through
 *    $DMF_EXEC_GATE (bench/run-exec.sh runs this once with the gate
 *    program and once without, i.e. forked).
 */
#include "dmf-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/config.h"
#include "exec/exec.h"
#include "host/host_services.h"
#include "lib/job.h"
#include "lib/util.h"

extern char **environ;

static unsigned long long lines_seen, bytes_seen;

static void count_line(void *ctx, enum dmf_exec_stream s, const char *line,
		       size_t len)
{
	lines_seen++;
	bytes_seen += len + 1;
}

static double plain_true(unsigned runs)
{
	uint64_t t0 = now_monotonic_ms();
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

	for (unsigned i = 0; i < runs; i++) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		waitpid(pid, &st, 0);
	}
	close(devnull);
	return (double)(now_monotonic_ms() - t0) * 1000.0 / runs;
}

static double plain_spawn_true(unsigned runs)
{
	char *const argv[] = { "true", NULL };
	uint64_t t0 = now_monotonic_ms();

	for (unsigned i = 0; i < runs; i++) {
		pid_t pid;
		int st;

		if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) !=
		    0)
			exit(1);
		waitpid(pid, &st, 0);
	}
	return (double)(now_monotonic_ms() - t0) * 1000.0 / runs;
}

static double service_true(unsigned runs)
{
	const char *argv[] = { "/bin/true", NULL };
	struct exec_request req = { .argv = argv,
				    .abort_fd = -1,
				    .on_line = count_line };
	uint64_t t0 = now_monotonic_ms();

	for (unsigned i = 0; i < runs; i++) {
		struct dmf_exec_result r = { .size = sizeof(r) };
		char *err = NULL;

		if (exec_run(&req, &r, &err) < 0 || r.exit_code != 0) {
			fprintf(stderr, "exec_run failed: %s\n", err);
			exit(1);
		}
	}
	return (double)(now_monotonic_ms() - t0) * 1000.0 / runs;
}

static double table_true(unsigned runs)
{
	const char *argv[] = { "/bin/true", NULL };
	const struct dmf_host_exec *ex = host_exec_table();
	struct dmf_exec_options o = { .size = sizeof(o),
				      .on_line = count_line };
	struct dmf_job *job = job_new("1", "sync", "POD_1", "t");
	struct config *cfg = NULL;
	char *err = NULL;
	uint64_t t0;

	job_set_property(job, "uid", "bench", false);
	job_set_property(job, "sourcepasswd", "BenchSecret", true);
	if (config_load_string("dmf:\n  worker:\n    command:\n      logging:\n"
			       "        type: \"off\"\n",
			       "bench.yml", NULL, &cfg, &err) < 0 ||
	    host_exec_init(cfg, &err) < 0) {
		fprintf(stderr, "init: %s\n", err);
		exit(1);
	}
	t0 = now_monotonic_ms();
	for (unsigned i = 0; i < runs; i++) {
		struct dmf_exec_result r = { .size = sizeof(r) };
		const char *e = NULL;

		if (ex->run(job, argv, &o, &r, &e) < 0 || r.exit_code != 0) {
			fprintf(stderr, "run failed: %s\n", e);
			exit(1);
		}
	}
	t0 = now_monotonic_ms() - t0;
	host_exec_job_finish(job, true);
	host_exec_deinit();
	job_free(&job);
	config_free(&cfg);
	return (double)t0 * 1000.0 / runs;
}

static char *writer_script(unsigned mib)
{
	/* 99 characters + '\n' per line */
	return xasprintf("yes 'dsync(user@example.com): Info: copy from INBOX: "
			 "box=INBOX, uid=130, msgid=<x@y>, size=12345' | "
			 "head -c %u",
			 mib * 1024u * 1024u);
}

static double capture_service(unsigned mib)
{
	char *script = writer_script(mib);
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct exec_request req = { .argv = argv,
				    .abort_fd = -1,
				    .on_line = count_line };
	struct dmf_exec_result r = { .size = sizeof(r) };
	char *err = NULL;
	uint64_t t0 = now_monotonic_ms(), ms;

	lines_seen = bytes_seen = 0;
	if (exec_run(&req, &r, &err) < 0) {
		fprintf(stderr, "exec_run: %s\n", err);
		exit(1);
	}
	ms = now_monotonic_ms() - t0;
	free(script);
	/* +1: the cut-off last line counts a line end it does not have */
	if (bytes_seen != (unsigned long long)mib * 1024 * 1024 + 1)
		fprintf(stderr, "warning: saw %llu bytes\n", bytes_seen);
	return (double)r.output_bytes / (1e6) /
	       ((double)(ms ? ms : 1) / 1000.0);
}

static double capture_plain(unsigned mib)
{
	char *script = writer_script(mib), buf[65536];
	int p[2];
	pid_t pid;
	unsigned long long total = 0;
	uint64_t t0 = now_monotonic_ms(), ms;
	ssize_t n;
	int st;

	if (pipe2(p, O_CLOEXEC) < 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		total += (unsigned long long)n;
	close(p[0]);
	waitpid(pid, &st, 0);
	ms = now_monotonic_ms() - t0;
	free(script);
	return (double)total / 1e6 / ((double)(ms ? ms : 1) / 1000.0);
}

static double cpu_s(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Own CPU microseconds per command, the heap written between commands;
 * through exec_run() when `service`, else a bare posix_spawn; the
 * children's CPU per command (the command, and the gate program before
 * it) in *kids_us. */
static double own_cpu_per_command(bool service, unsigned runs,
				  unsigned char *heap, size_t heap_len,
				  size_t write_len, double *kids_us)
{
	const char *argv[] = { "/bin/true", NULL };
	struct exec_request req = { .argv = argv,
				    .abort_fd = -1,
				    .on_line = count_line };
	double t0 = cpu_s(RUSAGE_SELF), k0 = cpu_s(RUSAGE_CHILDREN);

	for (unsigned i = 0; i < runs; i++) {
		struct dmf_exec_result r = { .size = sizeof(r) };
		char *err = NULL;
		size_t at = (i * write_len) % heap_len;

		if (service) {
			if (exec_run(&req, &r, &err) < 0 || r.exit_code != 0) {
				fprintf(stderr, "exec_run failed: %s\n", err);
				exit(1);
			}
		} else {
			char *const pargv[] = { "true", NULL };
			pid_t pid;
			int st;

			if (posix_spawn(&pid, "/bin/true", NULL, NULL, pargv,
					environ) != 0)
				exit(1);
			waitpid(pid, &st, 0);
		}
		for (size_t k = 0; k < write_len; k += 4096)
			heap[(at + k) % heap_len]++;
	}
	*kids_us = (cpu_s(RUSAGE_CHILDREN) - k0) * 1e6 / runs;
	return (cpu_s(RUSAGE_SELF) - t0) * 1e6 / runs;
}

int main(int argc, char **argv)
{
	unsigned runs = argc > 1 ? (unsigned)atoi(argv[1]) : 1000;
	unsigned mib = argc > 2 ? (unsigned)atoi(argv[2]) : 256;
	double plain, pspawn, service, table, cap_s, cap_p;

	if (runs == 0 || mib == 0) {
		fprintf(stderr, "usage: exec_bench [RUNS] [MIB]\n");
		return 2;
	}
	plain_true(50); /* warm up */
	plain = plain_true(runs);
	pspawn = plain_spawn_true(runs);
	service = service_true(runs);
	table = table_true(runs);
	printf("spawn+capture of /bin/true, %u runs each:\n", runs);
	printf("  plain fork/execv/waitpid    %8.1f us/command\n", plain);
	printf("  plain posix_spawn/waitpid   %8.1f us/command   ratio %.2f\n",
	       pspawn, pspawn / plain);
	printf("  exec service (exec_run)     %8.1f us/command   ratio %.2f\n",
	       service, service / plain);
	printf("  exec host table (+redaction, cmdlog off)\n"
	       "                              %8.1f us/command   ratio %.2f\n",
	       table, table / plain);
	cap_p = capture_plain(mib);
	cap_s = capture_service(mib);
	printf("output capture, %u MiB of 100-byte lines:\n", mib);
	printf("  plain read() of a pipe      %8.1f MB/s\n", cap_p);
	printf("  exec service, line sink     %8.1f MB/s   ratio %.2f "
	       "(%llu lines)\n",
	       cap_s, cap_s / cap_p, lines_seen);
	{
		size_t heap_len = 64u << 20, write_len = 4u << 20;
		unsigned char *heap = malloc(heap_len);
		const char *gate = exec_gate_init();
		double svc, bare, svc_kids, bare_kids;

		if (heap == NULL)
			return 1;
		memset(heap, 1, heap_len);
		bare = own_cpu_per_command(false, 300, heap, heap_len,
					   write_len, &bare_kids);
		svc = own_cpu_per_command(true, 300, heap, heap_len, write_len,
					  &svc_kids);
		printf("CPU per command, 64 MiB heap, 4 MiB written between "
		       "commands (300 runs): own, and the children's\n");
		printf("  bare posix_spawn/waitpid    %8.1f us own  %8.1f us "
		       "children\n",
		       bare, bare_kids);
		printf("  exec service, %-13s %8.1f us own  %8.1f us "
		       "children   (%s)\n",
		       gate != NULL ? "gate program" : "forked", svc, svc_kids,
		       gate != NULL ? gate : "DMF_EXEC_GATE empty or no gate");
		free(heap);
	}
	return 0;
}
