/*
 * sdnotify.h - tell systemd (Type=notify) how the daemon is doing, through
 * the datagram socket named by $NOTIFY_SOCKET.  Without that variable every
 * call does nothing.
 */
#ifndef DMF_CORE_SDNOTIFY_H
#define DMF_CORE_SDNOTIFY_H

/* Send `state` ("READY=1", "STOPPING=1", "STATUS=..."); 0, or a negative
 * errno (only worth a debug line: the daemon works without it). */
int sd_notify_send(const char *state);

#endif /* DMF_CORE_SDNOTIFY_H */
