/* sdnotify.c - the sd_notify() protocol: libsystemd's when configure found
 * it, else the datagram to $NOTIFY_SOCKET written out here. */
#include "dmf-build.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "worker/sdnotify.h"

static char last_status[256];
static uint64_t watchdog_interval_ms;
static uint64_t watchdog_due_ms = UINT64_MAX;

#ifdef HAVE_LIBSYSTEMD
int sd_notify_send(const char *state)
{
	int ret = sd_notify(0, state);

	return ret < 0 ? ret : 0;
}

static uint64_t watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}
#else
int sd_notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	socklen_t salen;
	ssize_t n;
	int fd;

	if (path == NULL || path[0] == '\0')
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, salen);
	close(fd);
	return n < 0 ? -errno : 0;
}

/* sd_watchdog_enabled(3): WATCHDOG_USEC, for this process only when
 * WATCHDOG_PID is set. */
static uint64_t watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (usec == NULL || usec[0] == '\0')
		return 0;
	if (pid != NULL && pid[0] != '\0') {
		errno = 0;
		v = strtoull(pid, &end, 10);
		if (errno != 0 || *end != '\0' ||
		    v != (unsigned long long)getpid())
			return 0;
	}
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0' || usec[0] == '-')
		return 0;
	return v;
}
#endif

void sd_notify_status(const char *fmt, ...)
{
	char msg[sizeof(last_status) + 8];
	char text[sizeof(last_status)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (strcmp(text, last_status) == 0)
		return;
	memcpy(last_status, text, sizeof(last_status));
	snprintf(msg, sizeof(msg), "STATUS=%s", text);
	sd_notify_send(msg);
}

void sd_notify_extend_timeout(uint64_t ms)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "EXTEND_TIMEOUT_USEC=%" PRIu64, ms * 1000);
	sd_notify_send(msg);
}

uint64_t sd_watchdog_init(void)
{
	uint64_t usec = watchdog_usec();

	watchdog_interval_ms = usec / 2000;
	if (usec > 0 && watchdog_interval_ms == 0)
		watchdog_interval_ms = 1;
	watchdog_due_ms = watchdog_interval_ms > 0 ? 0 : UINT64_MAX;
	return watchdog_interval_ms;
}

void sd_watchdog_tick(uint64_t now_ms)
{
	if (watchdog_interval_ms == 0 || now_ms < watchdog_due_ms)
		return;
	sd_notify_send("WATCHDOG=1");
	watchdog_due_ms = now_ms + watchdog_interval_ms;
}

uint64_t sd_watchdog_due_ms(void)
{
	return watchdog_due_ms;
}
