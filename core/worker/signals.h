/*
 * signals.h - the daemon's signal handling: SIGTERM, SIGINT and SIGHUP are
 * blocked in every thread and read from a signalfd by the dispatcher;
 * SIGPIPE is ignored.  Children get a clean signal mask (the exec service
 * resets it).
 */
#ifndef DMF_CORE_SIGNALS_H
#define DMF_CORE_SIGNALS_H

/* Call before any thread starts.  Returns the signalfd or -errno. */
int signals_setup(void);

#endif /* DMF_CORE_SIGNALS_H */
