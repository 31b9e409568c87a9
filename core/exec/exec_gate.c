/*
 * dmf-exec-gate - the first program of every command the worker runs
 * (exec.c starts it with posix_spawn; see exec.h).
 *
 *   dmf-exec-gate PARENT GATE_FD STATUS_FD PATH ARGV0 [ARG...]
 *
 * The worker cannot fork a copy of itself for each command at little cost
 * (the copy's page tables, then a copy-on-write fault for every page the
 * worker writes afterwards), so it spawns this small program instead with
 * posix_spawn (vfork semantics: nothing is copied), in its own process
 * group, with default signal dispositions, an empty signal mask and the
 * command's standard descriptors in place.  Here, in the command's own
 * process, what a forked child did before exec:
 *   - ask for SIGKILL when the worker's spawning thread ends (the worker
 *     dies), and exit at once if it is gone already (getppid() is no
 *     longer PARENT);
 *   - wait on GATE_FD until the worker has recorded the process group (its
 *     message, gate_msg.h; EOF: the worker gave up or died, exit without
 *     running);
 *   - close every descriptor above stderr but STATUS_FD (close-on-exec);
 *   - not start the command once the message's start-by time has passed
 *     (the job's lease may have run out while the worker was frozen after
 *     its own check): ETIME to STATUS_FD;
 *   - execve PATH with ARGV0... and the environment it was given; a failed
 *     execve writes its errno to STATUS_FD, so that the worker reads EOF
 *     exactly when the command runs.
 * It is no tool for people: run by hand it says so and exits 127.
 */
#include "dmf-build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "exec/close_fds.h"
#include "exec/gate_msg.h"

extern char **environ;

static int number(const char *s, long min, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	long parent, gate, status;
	uint64_t start_by;
	int err;

	if (argc < 6 || number(argv[1], 1, &parent) < 0 ||
	    number(argv[2], 3, &gate) < 0 || number(argv[3], 3, &status) < 0 ||
	    gate > INT_MAX || status > INT_MAX || gate == status) {
		fprintf(stderr, "dmf-exec-gate: started by dmf-worker for its "
				"commands, not by hand\n");
		return 127;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != (pid_t)parent)
		_exit(127);
	if (gate_msg_read((int)gate, &start_by) < 0)
		_exit(127); /* the worker gave up or died */
	if (fcntl((int)status, F_SETFD, FD_CLOEXEC) < 0)
		_exit(127);
	close_fds(3, (int)status - 1);
	close_fds((int)status + 1, ~0U >> 1);
	if (gate_msg_expired(start_by)) {
		err = ETIME;
	} else {
		execve(argv[4], argv + 5, environ);
		err = errno;
	}
	while (write((int)status, &err, sizeof(err)) < 0 && errno == EINTR)
		;
	_exit(127);
}
