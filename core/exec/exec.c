/* exec.c - spawn with argv, capture lines, kill the group on timeout. */
#include "dmf-build.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/child_env.h"
#include "exec/exec.h"
#include "lib/util.h"

extern char **environ;

/* How long to wait for the pipes to close once the command exited and
 * its group was killed (a member may have left the group). */
#define EXEC_DRAIN_MS 2000
/* A child that writes a trickle of short lines (dsync logs one line per
 * message) would wake the reader for every line: after a small read, leave
 * its pipes alone this long so that lines are read in batches.  Big reads
 * never wait, so bulk output is not slowed; abort and exit are still seen
 * at once. */
#define EXEC_COALESCE_MS 10
#define EXEC_COALESCE_BELOW 4096

struct stream {
	int fd;
	enum dmf_exec_stream which;
	char *buf; /* EXEC_LINE_MAX + 1 */
	size_t len;
};

static void emit(const struct exec_request *req, struct stream *s)
{
	s->buf[s->len] = '\0';
	if (req->on_line != NULL)
		req->on_line(req->ctx, s->which, s->buf, s->len);
	s->len = 0;
}

static void take(const struct exec_request *req, struct stream *s,
		 const char *data, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t part = nl != NULL ? (size_t)(nl - data) : n;
		size_t room = EXEC_LINE_MAX - s->len;

		if (part > room)
			part = room;
		memcpy(s->buf + s->len, data, part);
		s->len += part;
		data += part;
		n -= part;
		if (n > 0 && *data == '\n') {
			emit(req, s);
			data++;
			n--;
		} else if (s->len == EXEC_LINE_MAX) {
			emit(req, s);
		}
	}
}

/* Read what is there; returns false at EOF or on a hard error. */
static bool drain(const struct exec_request *req, struct stream *s, char *chunk,
		  size_t chunk_size, unsigned long long *bytes)
{
	for (;;) {
		ssize_t n = read(s->fd, chunk, chunk_size);

		if (n > 0) {
			*bytes += (unsigned long long)n;
			take(req, s, chunk, (size_t)n);
			if ((size_t)n < chunk_size)
				return true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (s->len > 0)
			emit(req, s);
		return false;
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* Write more of stdin; returns false once done (all written or EPIPE). */
static bool feed(int fd, const char *data, size_t len, size_t *off)
{
	sigset_t pipe_set, old;
	bool more = true;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (*off < len) {
		ssize_t n = write(fd, data + *off, len - *off);

		if (n > 0) {
			*off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0 && errno == EPIPE) {
			struct timespec zero = { 0, 0 };

			/* consume the SIGPIPE raised for this thread */
			if (!sigismember(&old, SIGPIPE))
				while (sigtimedwait(&pipe_set, NULL, &zero) <
					       0 &&
				       errno == EINTR)
					;
		}
		more = false;
		break;
	}
	if (*off >= len)
		more = false;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return more;
}

static int spawn(const struct exec_request *req, int out_w, int err_w, int in_r,
		 pid_t *pid_r)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	static const int reset[] = { SIGPIPE, SIGINT,  SIGTERM, SIGHUP,
				     SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD,
				     SIGALRM, SIGTTIN, SIGTTOU, SIGXFSZ };
	char *const *envp =
		req->envp != NULL ? (char *const *)req->envp : child_env();
	int ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (in_r >= 0)
		ret = posix_spawn_file_actions_adddup2(&fa, in_r, 0);
	else
		ret = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
						       O_RDONLY, 0);
	if (ret == 0)
		ret = posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	if (ret == 0)
		ret = posix_spawn_file_actions_adddup2(&fa, err_w, 2);
	if (ret == 0)
		ret = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigemptyset(&none);
	sigemptyset(&defaults);
	for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		sigaddset(&defaults, reset[i]);
	if (ret == 0)
		ret = posix_spawnattr_setflags(
			&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				       POSIX_SPAWN_SETSIGDEF);
	if (ret == 0)
		ret = posix_spawnattr_setpgroup(&attr, 0);
	if (ret == 0)
		ret = posix_spawnattr_setsigmask(&attr, &none);
	if (ret == 0)
		ret = posix_spawnattr_setsigdefault(&attr, &defaults);
	if (ret == 0) {
		char *const *argv = (char *const *)req->argv;

		if (strchr(req->argv[0], '/') != NULL)
			ret = posix_spawn(pid_r, req->argv[0], &fa, &attr, argv,
					  envp);
		else
			ret = posix_spawnp(pid_r, req->argv[0], &fa, &attr,
					   argv, envp);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -ret;
}

static long long ms_left(uint64_t deadline)
{
	uint64_t now = now_monotonic_ms();

	return deadline > now ? (long long)(deadline - now) : 0;
}

int exec_run(const struct exec_request *req, struct dmf_exec_result *result_r,
	     char **error_r)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, inp[2] = { -1, -1 };
	int pidfd = -1, ret, status = 0;
	struct stream out = { .which = DMF_EXEC_STDOUT },
		      err = { .which = DMF_EXEC_STDERR };
	struct dmf_exec_result res = { .exit_code = -1 };
	uint64_t start = now_monotonic_ms(), deadline = 0, drain_until = 0,
		 coalesce_until = 0;
	size_t in_off = 0;
	bool exited = false, killed = false, watch_abort = req->abort_fd >= 0;
	char *chunk = NULL;
	pid_t pid = -1;

	if (req->argv == NULL || req->argv[0] == NULL || !req->argv[0][0]) {
		*error_r = xstrdup("empty command");
		return -EINVAL;
	}
	out.buf = malloc(EXEC_LINE_MAX + 1);
	err.buf = malloc(EXEC_LINE_MAX + 1);
	chunk = malloc(EXEC_LINE_MAX);
	if (out.buf == NULL || err.buf == NULL || chunk == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    (req->stdin_data != NULL && pipe2(inp, O_CLOEXEC) < 0)) {
		ret = -errno;
		goto fail;
	}
	ret = spawn(req, outp[1], errp[1], inp[0], &pid);
	if (ret < 0)
		goto fail;
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	close_fd(&inp[0]);
	out.fd = outp[0];
	err.fd = errp[0];
	outp[0] = errp[0] = -1;
	set_nonblock(out.fd);
	set_nonblock(err.fd);
	if (inp[1] >= 0) {
		set_nonblock(inp[1]);
		if (req->stdin_len == 0)
			close_fd(&inp[1]);
	}
#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	if (req->timeout_ms > 0)
		deadline = start + (uint64_t)req->timeout_ms;

	while (out.fd >= 0 || err.fd >= 0 || !exited) {
		struct pollfd pfd[5];
		int n = 0, i_out = -1, i_err = -1, i_in = -1, i_abort = -1,
		    i_pid = -1;
		long long wait_ms = -1;
		unsigned long long before = res.output_bytes;
		bool resting = !exited && !killed && coalesce_until != 0 &&
			       ms_left(coalesce_until) > 0;

		if (out.fd >= 0 && !resting) {
			i_out = n;
			pfd[n++] = (struct pollfd){ out.fd, POLLIN, 0 };
		}
		if (err.fd >= 0 && !resting) {
			i_err = n;
			pfd[n++] = (struct pollfd){ err.fd, POLLIN, 0 };
		}
		if (inp[1] >= 0) {
			i_in = n;
			pfd[n++] = (struct pollfd){ inp[1], POLLOUT, 0 };
		}
		if (watch_abort && !killed) {
			i_abort = n;
			pfd[n++] = (struct pollfd){ req->abort_fd, POLLIN, 0 };
		}
		if (pidfd >= 0 && !exited) {
			i_pid = n;
			pfd[n++] = (struct pollfd){ pidfd, POLLIN, 0 };
		}
		if (deadline != 0 && !killed)
			wait_ms = ms_left(deadline);
		if (exited)
			wait_ms = ms_left(drain_until);
		if (pidfd < 0 && !exited && (wait_ms < 0 || wait_ms > 50))
			wait_ms = 50; /* no pidfd: check with waitpid */
		if (resting &&
		    (wait_ms < 0 || wait_ms > ms_left(coalesce_until)))
			wait_ms = ms_left(coalesce_until);
		if (poll(pfd, (nfds_t)n, (int)wait_ms) < 0 && errno != EINTR) {
			/* cannot watch it any more: stop it, then reap it */
			kill(-pid, SIGKILL);
			res.aborted = 1;
			break;
		}
		if (i_out >= 0 && pfd[i_out].revents != 0 &&
		    !drain(req, &out, chunk, EXEC_LINE_MAX, &res.output_bytes))
			close_fd(&out.fd);
		if (i_err >= 0 && pfd[i_err].revents != 0 &&
		    !drain(req, &err, chunk, EXEC_LINE_MAX, &res.output_bytes))
			close_fd(&err.fd);
		if (res.output_bytes > before &&
		    res.output_bytes - before < EXEC_COALESCE_BELOW)
			coalesce_until = now_monotonic_ms() + EXEC_COALESCE_MS;
		else if (!resting)
			coalesce_until = 0;
		if (i_in >= 0 && pfd[i_in].revents != 0 &&
		    !feed(inp[1], req->stdin_data, req->stdin_len, &in_off))
			close_fd(&inp[1]);
		if (i_abort >= 0 && pfd[i_abort].revents != 0 && !killed) {
			res.aborted = 1;
			killed = true;
			kill(-pid, SIGKILL);
		}
		if (deadline != 0 && !killed && ms_left(deadline) == 0) {
			res.timed_out = 1;
			killed = true;
			kill(-pid, SIGKILL);
		}
		if (!exited) {
			siginfo_t si = { 0 };

			if ((i_pid >= 0 && pfd[i_pid].revents != 0) ||
			    pidfd < 0) {
				/* WNOWAIT: keep the zombie so the group id
				 * cannot be reused before we kill it */
				if (waitid(P_PID, (id_t)pid, &si,
					   WEXITED | WNOHANG | WNOWAIT) == 0 &&
				    si.si_pid == pid) {
					exited = true;
					kill(-pid, SIGKILL);
					drain_until = now_monotonic_ms() +
						      EXEC_DRAIN_MS;
				}
			}
		} else if (ms_left(drain_until) == 0) {
			/* something left the group and holds the pipes */
			if (out.fd >= 0 && out.len > 0)
				emit(req, &out);
			if (err.fd >= 0 && err.len > 0)
				emit(req, &err);
			close_fd(&out.fd);
			close_fd(&err.fd);
		}
	}
	close_fd(&inp[1]);
	close_fd(&out.fd);
	close_fd(&err.fd);
	close_fd(&pidfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status)) {
		res.exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res.signal = WTERMSIG(status);
	}
	res.duration_ms = (long long)(now_monotonic_ms() - start);
	free(out.buf);
	free(err.buf);
	free(chunk);
	*result_r = res;
	return 0;

fail:
	for (int i = 0; i < 2; i++) {
		close_fd(&outp[i]);
		close_fd(&errp[i]);
		close_fd(&inp[i]);
	}
	free(out.buf);
	free(err.buf);
	free(chunk);
	*error_r =
		xasprintf("cannot run '%s': %s", req->argv[0], strerror(-ret));
	return ret;
}
