/*
 * util.h - small helpers shared by the daemon, dmfctl and the tests.
 */
#ifndef DMF_CORE_UTIL_H
#define DMF_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dmf/host.h"

/* strdup that returns NULL for NULL. */
char *xstrdup(const char *s);
/* Allocated printf; NULL on out of memory. */
char *xasprintf(const char *fmt, ...) DMF_PRINTF(1, 2);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t now_monotonic_ms(void);
/* Milliseconds since the epoch. */
uint64_t now_realtime_ms(void);
/* *ts = CLOCK_REALTIME now + ms: the deadline for pthread_cond_timedwait
 * on a condition variable of the default clock. */
void realtime_after_ms(struct timespec *ts, unsigned ms);
/* A uniformly random number in [lo, hi] (thread-safe, seeded once). */
uint64_t random_between(uint64_t lo, uint64_t hi);
/* `ms` with +/- `pct` percent of jitter. */
unsigned jitter_ms(unsigned ms, unsigned pct);

/* Wipe and free a secret string; NULL is fine. */
void secret_free(char **s);
/* Overwrite `len` bytes with zeros (OPENSSL_cleanse: never optimised
 * away); the host's crypto->wipe and the wipe of dmf/text.h buffers. */
void secure_wipe(void *p, size_t len);

/*
 * The host tables' error step: copy `error` (an allocated message, freed
 * here; NULL: the text of errno value `err`) into `buf` and return `buf`.
 * Pass a _Thread_local buffer for messages that stay "valid until the next
 * call from the same thread".
 */
const char *error_keep(char *buf, size_t size, char *error, int err);

/* Parse a decimal integer that must fill the whole string; 0 or -EINVAL. */
int parse_ll(const char *s, long long *value_r);

/* Text for project and errno error codes (negative values). */
const char *dmf_strerror(int err);

/* The whole file as NUL-terminated text (allocated; *len_r, when not NULL,
 * gets its length), or NULL with errno set. */
char *util_read_file(const char *path, size_t *len_r);

#endif /* DMF_CORE_UTIL_H */
