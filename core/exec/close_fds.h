/*
 * close_fds.h - close a range of descriptors between fork or spawn and
 * execve, with system calls only: exec.c's forked child and dmf-exec-gate
 * (exec_gate.c, a program of its own that links nothing of the daemon)
 * both use it, hence a header.
 */
#ifndef DMF_CORE_CLOSE_FDS_H
#define DMF_CORE_CLOSE_FDS_H

#include <sys/syscall.h>
#include <unistd.h>

/* Close descriptors first..last (an empty range does nothing): one
 * close_range() where the kernel has it, else close() up to 65535. */
static inline void close_fds(int first, int last)
{
	if (first > last)
		return;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)first, (unsigned)last, 0) == 0)
		return;
#endif
	if (last > 65535)
		last = 65535;
	for (int fd = first; fd <= last; fd++)
		close(fd);
}

#endif /* DMF_CORE_CLOSE_FDS_H */
