/* proc.c - process group identity and reaping (proc.h). */
#include "dmf-build.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec/proc.h"
#include "lib/util.h"

#define REAP_POLL_MS 10

static pthread_once_t local_once = PTHREAD_ONCE_INIT;
static char local_boot[40];
static unsigned long long local_pidns;

static void local_init(void)
{
	struct stat st;
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = read(fd, local_boot, sizeof(local_boot) - 1);

		local_boot[n > 0 ? n : 0] = '\0';
		local_boot[strcspn(local_boot, "\n")] = '\0';
		close(fd);
	}
	if (stat("/proc/self/ns/pid", &st) == 0)
		local_pidns = (unsigned long long)st.st_ino;
}

/* state, pgrp and start time of `pid` from /proc/PID/stat */
static int read_stat(pid_t pid, char *state_r, pid_t *pgrp_r,
		     unsigned long long *start_r)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	int fd, pgrp = 0, field;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* the command name may hold anything: fields follow the last ')' */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return -EINVAL;
	p += 2;
	*state_r = *p;
	for (field = 3; *p != '\0' && field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return -EINVAL;
		p++;
		if (field + 1 == 5)
			pgrp = atoi(p);
	}
	if (field != 22 || sscanf(p, "%llu", &start) != 1)
		return -EINVAL;
	*pgrp_r = pgrp;
	*start_r = start;
	return 0;
}

int proc_ident_of(pid_t pid, struct proc_ident *ident_r)
{
	struct proc_ident id = { .pgid = pid };
	char state;
	pid_t pgrp;
	int ret;

	pthread_once(&local_once, local_init);
	ret = read_stat(pid, &state, &pgrp, &id.start);
	if (ret < 0)
		return ret;
	if (local_boot[0] == '\0' || local_pidns == 0)
		return -ENOTSUP;
	snprintf(id.boot_id, sizeof(id.boot_id), "%s", local_boot);
	id.pidns = local_pidns;
	*ident_r = id;
	return 0;
}

bool proc_ident_is_local(const struct proc_ident *ident)
{
	pthread_once(&local_once, local_init);
	return local_boot[0] != '\0' &&
	       strcmp(ident->boot_id, local_boot) == 0 &&
	       ident->pidns == local_pidns;
}

/*
 * Count the live (not zombie) members of the recorded group; 0 also when
 * the group id now belongs to another group (its leader started at another
 * time, or a member is older than the recorded leader).
 */
static int count_members(const struct proc_ident *ident, unsigned *n_r)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	unsigned n = 0;
	bool foreign = false;

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		unsigned long long start;
		char state;
		pid_t pgrp, pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (read_stat(pid, &state, &pgrp, &start) < 0 ||
		    pgrp != ident->pgid || state == 'Z' || state == 'X')
			continue;
		if ((pid == ident->pgid && start != ident->start) ||
		    start < ident->start)
			foreign = true;
		n++;
	}
	closedir(d);
	*n_r = foreign ? 0 : n;
	return 0;
}

int proc_group_reap(const struct proc_ident *ident, unsigned timeout_ms,
		    unsigned *killed_r)
{
	uint64_t deadline = now_monotonic_ms() + timeout_ms;
	unsigned n = 0, first;
	int ret;

	if (killed_r != NULL)
		*killed_r = 0;
	if (!proc_ident_is_local(ident))
		return -EXDEV;
	if (ident->pgid <= 1)
		return -EINVAL;
	ret = count_members(ident, &n);
	if (ret < 0 || n == 0)
		return ret;
	first = n;
	if (killed_r != NULL)
		*killed_r = first;
	for (;;) {
		struct timespec ts = { 0, REAP_POLL_MS * 1000000L };

		/* again each time: a member may have forked meanwhile */
		if (kill(-ident->pgid, SIGKILL) < 0 && errno == ESRCH)
			return 0;
		if (now_monotonic_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
		ret = count_members(ident, &n);
		if (ret < 0 || n == 0)
			return ret;
	}
}
