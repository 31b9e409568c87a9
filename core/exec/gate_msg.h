/*
 * gate_msg.h - the message that opens a command's gate, with system calls
 * only: exec.c writes it, and its forked child and dmf-exec-gate
 * (exec_gate.c, a program of its own that links nothing of the daemon)
 * read it, hence a header.
 *
 * The message is GATE_MSG_GO followed by the start-by time, a uint64_t in
 * CLOCK_MONOTONIC milliseconds (0: none), in one write of 9 bytes.  The
 * child checks it again just before execve and does not start the
 * command once it has passed: the caller's own check (is the job's lease
 * still ours?) came before the write, and a worker frozen (SIGSTOP, a VM
 * pause) between that check and the write would otherwise start a command
 * for a job another worker has taken over meanwhile.  A single byte of
 * any other value (the message of an older worker, during a package
 * upgrade) opens the gate without a start-by time; an older gate program
 * reads the first byte only and ignores the time.
 */
#ifndef DMF_CORE_GATE_MSG_H
#define DMF_CORE_GATE_MSG_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GATE_MSG_GO 2
#define GATE_MSG_LEN 9

/* Fill buf (GATE_MSG_LEN bytes) with the message for start_by. */
static inline void gate_msg_make(unsigned char *buf, uint64_t start_by)
{
	buf[0] = GATE_MSG_GO;
	memcpy(buf + 1, &start_by, sizeof(start_by));
}

/* Wait for the message on fd: 0 with *start_by_r set (0: none), -1 when
 * the gate was closed without one (the caller gave up or died). */
static inline int gate_msg_read(int fd, uint64_t *start_by_r)
{
	unsigned char buf[GATE_MSG_LEN];
	size_t got = 0;

	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (buf[0] != GATE_MSG_GO)
			break; /* an older worker's one byte */
	}
	if (got == 0 || (buf[0] == GATE_MSG_GO && got < sizeof(buf)))
		return -1;
	*start_by_r = 0;
	if (buf[0] == GATE_MSG_GO)
		memcpy(start_by_r, buf + 1, sizeof(*start_by_r));
	return 0;
}

/* Whether start_by (CLOCK_MONOTONIC ms, 0: none) has passed. */
static inline int gate_msg_expired(uint64_t start_by)
{
	struct timespec ts;

	if (start_by == 0 || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 >=
	       start_by;
}

#endif /* DMF_CORE_GATE_MSG_H */
