/*
 * proc.h - who a process group is, and making sure it is gone.
 *
 * A job's command runs in its own process group (exec.h).  Its identity is
 * recorded where a restarted worker finds it (the Migration Database,
 * docs/schema.md): the group id, the start time of its leader (clock ticks
 * since boot, /proc/PID/stat field 22), the kernel's boot id and the PID
 * namespace, so that a group id reused after a reboot, in another
 * namespace or by a later process is never taken for the recorded run.
 */
#ifndef DMF_CORE_PROC_H
#define DMF_CORE_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct proc_ident {
	pid_t pgid; /* the group id = its leader's pid */
	unsigned long long start; /* the leader's start, ticks since boot */
	char boot_id[40]; /* /proc/sys/kernel/random/boot_id */
	unsigned long long pidns; /* inode of /proc/self/ns/pid */
};

/* The identity of the group `pid` leads (pid must be alive or a zombie
 * not yet reaped).  0, or a negative errno. */
int proc_ident_of(pid_t pid, struct proc_ident *ident_r);

/* This machine's boot id and this process's PID namespace: false when
 * `ident` was recorded elsewhere, where its group cannot be checked. */
bool proc_ident_is_local(const struct proc_ident *ident);

/*
 * Make sure no process of the recorded group is alive: when processes of
 * group ident->pgid exist and belong to the recorded run (its leader alive
 * with the recorded start time, or, the leader gone, every member started
 * at or after it), kill the group with SIGKILL and wait up to timeout_ms
 * until only zombies are left.  A group id now used by another group is
 * left alone.  *killed_r (may be NULL) is the number of processes that
 * were alive.  Returns 0 when none is alive (any more), -EXDEV when the
 * identity is not local, -ETIMEDOUT when some survived the wait.
 */
int proc_group_reap(const struct proc_ident *ident, unsigned timeout_ms,
		    unsigned *killed_r);

#endif /* DMF_CORE_PROC_H */
