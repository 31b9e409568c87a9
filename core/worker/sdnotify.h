/*
 * sdnotify.h - tell systemd (Type=notify) how the daemon is doing:
 * readiness, a one-line status, watchdog keep-alives and, while a drain
 * runs past the unit's TimeoutStopSec, extensions of the stop timeout.
 *
 * Through libsystemd's sd_notify() when configure found it
 * (HAVE_LIBSYSTEMD), else the datagram protocol to $NOTIFY_SOCKET spoken
 * here.  Without NOTIFY_SOCKET every call does nothing.  Main thread only
 * (the status and watchdog state are not locked).
 */
#ifndef DMF_CORE_SDNOTIFY_H
#define DMF_CORE_SDNOTIFY_H

#include <stdint.h>

/* Send `state` ("READY=1", "STOPPING=1", ...); 0, or a negative errno
 * (only worth a debug line: the daemon works without it). */
int sd_notify_send(const char *state);

/* STATUS=<text>, sent only when the text differs from the last one. */
void sd_notify_status(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* EXTEND_TIMEOUT_USEC=<ms * 1000>: the current start, run or stop phase
 * may take ms longer from now; repeat before it runs out. */
void sd_notify_extend_timeout(uint64_t ms);

/* Read WATCHDOG_USEC (and WATCHDOG_PID, which must be this process):
 * call once before the main loop.  Returns the keep-alive interval in ms
 * (half the watchdog timeout), 0 when the watchdog is off. */
uint64_t sd_watchdog_init(void);

/* WATCHDOG=1 when one is due at monotonic time now_ms (util.h's
 * now_monotonic_ms()); call from the main loop's progress, never from a
 * free-running thread, so a wedged loop is restarted. */
void sd_watchdog_tick(uint64_t now_ms);

/* The monotonic ms at which the next keep-alive is due (UINT64_MAX when
 * the watchdog is off): the main loop sleeps no longer than that. */
uint64_t sd_watchdog_due_ms(void);

#endif /* DMF_CORE_SDNOTIFY_H */
