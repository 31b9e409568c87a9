/*
 * exec.h - run one command without a shell and capture its output.
 *
 * The child gets argv as given, its own process group, stdin from the
 * given bytes (or /dev/null), stdout and stderr on pipes, no other open
 * descriptors and default signal dispositions.  The calling thread runs a
 * poll() loop over the pipes, the job's abort eventfd and a pidfd of the
 * child, so no thread is started per command or pipe and any number of
 * worker threads can each run their own command at the same time.
 *
 * The whole process group is killed with SIGKILL when the timeout passes,
 * when abort_fd becomes readable, and once the command has exited (so
 * nothing it left behind keeps the pipes open).
 *
 * The child is started through dmf-exec-gate (exec_gate.c) with
 * posix_spawn, so nothing of the daemon is copied (a fork would copy its
 * page tables and make every page it writes afterwards take a fault), or,
 * when that program is not installed, with fork + execve.  Either way it
 * gets PR_SET_PDEATHSIG(SIGKILL), so it dies with the thread that started
 * it (that thread waits for it: in effect with the daemon, even after
 * kill -9), and it checks getppid() after the prctl so a parent that died
 * in between is not missed.  PR_SET_PDEATHSIG reaches this direct child
 * only: on_spawn lets the caller record the process group (the child is
 * held before execve until on_spawn returns), so that a later run can kill
 * what is left of the group (proc.h).
 */
#ifndef DMF_CORE_EXEC_H
#define DMF_CORE_EXEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dmf/host.h"

/* Longest line delivered in one piece. */
#define EXEC_LINE_MAX 65536

struct exec_request {
	const char *const *argv; /* NULL-terminated; argv[0] is run */
	const char *const *envp; /* NULL: child_env() (exec/child_env.h) */
	const void *stdin_data; /* NULL: /dev/null */
	size_t stdin_len;
	long long timeout_ms; /* 0: none */
	int abort_fd; /* readable = abort; -1: none */
	/* each output line, without its '\n' (may be NULL) */
	void (*on_line)(void *ctx, enum dmf_exec_stream stream,
			const char *line, size_t len);
	void *ctx;
	/* called (with ctx) after a round of reads whose lines all went to
	 * on_line, i.e. when the pipes are empty for now (may be NULL) */
	void (*on_drained)(void *ctx);
	/* called once the child and its process group exist (pgid = the
	 * child's pid), before it runs the command; a negative errno stops it
	 * (exec_run then fails with that error).  *start_by_r (0 when
	 * called) may be set to a CLOCK_MONOTONIC time in ms past which the
	 * command must not start: the child checks it just before execve,
	 * whatever delayed the caller after its own check, and exec_run then
	 * fails with -ETIME (gate_msg.h).  May be NULL. */
	int (*on_spawn)(void *spawn_ctx, pid_t pgid, uint64_t *start_by_r);
	void *spawn_ctx;
};

/*
 * Run the command and wait for it.  Returns 0 when it ran (*result_r
 * filled, whatever the exit status) or a negative errno when it could not
 * be started, with *error_r an allocated message.
 */
int exec_run(const struct exec_request *req, struct dmf_exec_result *result_r,
	     char **error_r);

/*
 * The gate program commands start through (decided once): $DMF_EXEC_GATE
 * when set (empty: none, commands are forked), else the installed
 * DMF_EXEC_GATE_PATH when it is there.  NULL when commands are forked.
 */
const char *exec_gate_init(void);

#endif /* DMF_CORE_EXEC_H */
