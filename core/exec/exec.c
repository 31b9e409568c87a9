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
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/child_env.h"
#include "exec/close_fds.h"
#include "exec/exec.h"
#include "exec/gate_msg.h"
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

/* Move a descriptor the child needs to 3 or above (so that its dup2 onto
 * 0, 1 or 2 never meets itself), keeping O_CLOEXEC. */
static int fd_above_stdio(int *fd)
{
	int nfd;

	if (*fd < 0 || *fd > 2)
		return 0;
	nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -errno;
	close(*fd);
	*fd = nfd;
	return 0;
}

/* argv[0] as execve() needs it: looked up in PATH when it has no '/'
 * (done before fork: the child only makes system calls). */
static char *resolve_path(const char *name)
{
	const char *path = getenv("PATH"), *p;

	if (strchr(name, '/') != NULL)
		return xstrdup(name);
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p++) {
		const char *colon = strchr(p, ':');
		size_t len = colon != NULL ? (size_t)(colon - p) : strlen(p);
		char *full = len == 0 ? xasprintf("./%s", name) :
					xasprintf("%.*s/%s", (int)len, p, name);

		if (full == NULL)
			return NULL;
		if (access(full, X_OK) == 0)
			return full;
		free(full);
		if (colon == NULL)
			break;
		p = colon;
	}
	errno = ENOENT;
	return NULL;
}

/*
 * The child between fork and exec: system calls only.  It waits on the
 * gate until the parent has recorded its process group (on_spawn), does
 * not start the command once the start-by time in the gate's message has
 * passed (gate_msg.h: ETIME), and reports that or a failed exec through
 * `status_w` (O_CLOEXEC: EOF means exec).
 */
static void __attribute__((noreturn))
child(const struct exec_request *req, const char *path, char *const *envp,
      pid_t parent, int fds[3], int gate_r, int gate_w, int status_w)
{
	sigset_t empty;
	uint64_t start_by;
	int err;

	/* the parent's end: a gate closed without a byte must read EOF */
	close(gate_w);
	setpgid(0, 0);
	/* killed when the thread that started it ends (the worker dies) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa = { .sa_handler = SIG_DFL };

		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			goto fail;
	if (gate_msg_read(gate_r, &start_by) < 0)
		_exit(127); /* the parent gave up or died */
	close_fds(3, status_w - 1);
	close_fds(status_w + 1, ~0U >> 1);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	if (gate_msg_expired(start_by)) {
		errno = ETIME;
		goto fail;
	}
	execve(path, (char *const *)req->argv, envp);
fail:
	err = errno;
	while (write(status_w, &err, sizeof(err)) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* dmf-exec-gate, or NULL: commands are forked (exec_gate_init). */
static const char *gate_path;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;

static void gate_pick(void)
{
	const char *env = getenv("DMF_EXEC_GATE");

	if (env != NULL)
		gate_path =
			env[0] != '\0' && access(env, X_OK) == 0 ? env : NULL;
	else if (access(DMF_EXEC_GATE_PATH, X_OK) == 0)
		gate_path = DMF_EXEC_GATE_PATH;
}

const char *exec_gate_init(void)
{
	pthread_once(&gate_once, gate_pick);
	return gate_path;
}

/* The child of fork() runs child(): the whole daemon is copied.  All
 * signals are blocked around fork so that the child runs no handler of the
 * daemon before it has reset them. */
static int spawn_forked(const struct exec_request *req, const char *path,
			char *const *envp, int fds[3], int gate[2],
			int status_w, pid_t *pid_r)
{
	sigset_t all, old;
	pid_t parent = getpid(), pid;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child(req, path, envp, parent, fds, gate[0], gate[1], status_w);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return -err;
	/* the group exists before anything is recorded or run */
	setpgid(pid, pid);
	*pid_r = pid;
	return 0;
}

/*
 * posix_spawn of dmf-exec-gate (exec_gate.c), which does in the new
 * process what child() does after a fork: nothing of the daemon is copied.
 * The gate's read end and the status pipe's write end are handed down
 * (dup2 onto themselves clears their close-on-exec); the process group,
 * signal dispositions and mask are set by posix_spawn.
 */
static int spawn_gated(const struct exec_request *req, const char *path,
		       char *const *envp, const int fds[3], int gate_r,
		       int status_w, pid_t *pid_r)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	char parent[24], gate[16], status[16];
	size_t argc = 0;
	char **argv;
	int ret;

	while (req->argv[argc] != NULL)
		argc++;
	argv = calloc(argc + 6, sizeof(*argv));
	if (argv == NULL)
		return -ENOMEM;
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	snprintf(gate, sizeof(gate), "%d", gate_r);
	snprintf(status, sizeof(status), "%d", status_w);
	argv[0] = (char *)"dmf-exec-gate";
	argv[1] = parent;
	argv[2] = gate;
	argv[3] = status;
	argv[4] = (char *)path;
	memcpy(argv + 5, req->argv, argc * sizeof(*argv));
	sigfillset(&all);
	sigemptyset(&none);
	if ((ret = posix_spawn_file_actions_init(&fa)) != 0) {
		free(argv);
		return -ret;
	}
	if ((ret = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		free(argv);
		return -ret;
	}
	for (int i = 0; ret == 0 && i < 3; i++)
		ret = posix_spawn_file_actions_adddup2(&fa, fds[i], i);
	if (ret == 0)
		ret = posix_spawn_file_actions_adddup2(&fa, gate_r, gate_r);
	if (ret == 0)
		ret = posix_spawn_file_actions_adddup2(&fa, status_w, status_w);
	if (ret == 0)
		ret = posix_spawnattr_setsigdefault(&at, &all);
	if (ret == 0)
		ret = posix_spawnattr_setsigmask(&at, &none);
	if (ret == 0)
		ret = posix_spawnattr_setpgroup(&at, 0);
	if (ret == 0)
		ret = posix_spawnattr_setflags(
			&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
				     POSIX_SPAWN_SETPGROUP);
	if (ret == 0)
		ret = posix_spawn(pid_r, gate_path, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	return -ret;
}

/*
 * Start the command held at its gate: through dmf-exec-gate when it is
 * installed (posix_spawn), else with fork + exec (child()).  posix_spawn
 * alone cannot set PR_SET_PDEATHSIG nor hold the command before execve:
 * the gate program does both in the new process.
 */
static int spawn(const struct exec_request *req, int out_w, int err_w, int in_r,
		 pid_t *pid_r)
{
	char *const *envp =
		req->envp != NULL ? (char *const *)req->envp : child_env();
	int gate[2] = { -1, -1 }, status[2] = { -1, -1 };
	int fds[3] = { in_r, out_w, err_w }, moved[3] = { -1, -1, -1 };
	int null_fd = -1, ret = 0, err = 0;
	uint64_t start_by = 0;
	pid_t pid;
	char *path;
	ssize_t n;

	path = resolve_path(req->argv[0]);
	if (path == NULL)
		return -errno;
	if (in_r < 0) {
		null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null_fd < 0)
			ret = -errno;
		fds[0] = null_fd;
	}
	if (ret == 0 &&
	    (pipe2(gate, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0))
		ret = -errno;
	/* the caller's descriptors stay as they are: only copies move */
	for (int i = 0; ret == 0 && i < 3; i++) {
		int nfd;

		if (fds[i] > 2)
			continue;
		nfd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (nfd < 0) {
			ret = -errno;
			break;
		}
		if (fds[i] == null_fd) {
			close(null_fd);
			null_fd = nfd;
		} else {
			moved[i] = nfd;
		}
		fds[i] = nfd;
	}
	if (ret == 0)
		ret = fd_above_stdio(&gate[0]);
	if (ret == 0)
		ret = fd_above_stdio(&status[1]);
	if (ret < 0)
		goto out;
	ret = -ENOENT; /* no gate program: fork */
	if (exec_gate_init() != NULL)
		ret = spawn_gated(req, path, envp, fds, gate[0], status[1],
				  &pid);
	/* also when the gate program went away (a package upgrade) */
	if (ret == -ENOENT || ret == -EACCES || ret == -ENOEXEC)
		ret = spawn_forked(req, path, envp, fds, gate, status[1], &pid);
	if (ret < 0)
		goto out;
	close_fd(&gate[0]);
	close_fd(&status[1]);
	if (req->on_spawn != NULL)
		ret = req->on_spawn(req->spawn_ctx, pid, &start_by);
	if (ret == 0) {
		unsigned char go[GATE_MSG_LEN];

		gate_msg_make(go, start_by);
		while ((n = write(gate[1], go, sizeof(go))) < 0 &&
		       errno == EINTR)
			;
		if (n != (ssize_t)sizeof(go))
			ret = -EPIPE;
	}
	close_fd(&gate[1]); /* without a byte: the child exits */
	if (ret == 0) {
		do
			n = read(status[0], &err, sizeof(err));
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)sizeof(err))
			ret = err > 0 ? -err : -ENOEXEC;
	}
	if (ret < 0) {
		/* not started, or its exec failed: it may be stopped (a
		 * frozen worker's session), where the closed gate would reach
		 * it only once it is continued */
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		*pid_r = pid;
	}
out:
	for (int i = 0; i < 3; i++)
		close_fd(&moved[i]);
	close_fd(&null_fd);
	for (int i = 0; i < 2; i++) {
		close_fd(&gate[i]);
		close_fd(&status[i]);
	}
	free(path);
	return ret;
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
		if (res.output_bytes > before && req->on_drained != NULL)
			req->on_drained(req->ctx);
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
	*error_r = xasprintf("cannot run '%s': %s", req->argv[0],
			     ret == -ETIME ? "not started, its start-by time "
					     "had passed" :
					     strerror(-ret));
	return ret;
}
