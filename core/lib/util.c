/* util.c - small helpers shared by the daemon, dmfctl and the tests. */
#include "dmf-build.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "lib/util.h"

char *xstrdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *out;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&out, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : out;
}

uint64_t now_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t now_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void realtime_after_ms(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static _Thread_local uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* splitmix64, seeded per thread from getrandom() */
	uint64_t z;

	if (rng_state == 0 &&
	    getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
		rng_state =
			(uint64_t)now_realtime_ms() ^ (uint64_t)pthread_self();
	z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t random_between(uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	if (hi - lo == UINT64_MAX)
		return rng_next();
	return lo + rng_next() % (hi - lo + 1);
}

unsigned jitter_ms(unsigned ms, unsigned pct)
{
	uint64_t span = (uint64_t)ms * pct / 100u;

	if (span == 0)
		return ms;
	return (unsigned)(ms - span + random_between(0, 2 * span));
}

void secret_free(char **s)
{
	if (s == NULL || *s == NULL)
		return;
	OPENSSL_cleanse(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

void secure_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

const char *error_keep(char *buf, size_t size, char *error, int err)
{
	snprintf(buf, size, "%s", error != NULL ? error : dmf_strerror(err));
	free(error);
	return buf;
}

int parse_ll(const char *s, long long *value_r)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*value_r = v;
	return 0;
}

const char *dmf_strerror(int err)
{
	return strerror(err < 0 ? -err : err);
}

char *util_read_file(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	int err = 0;

	if (f == NULL)
		return NULL;
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (nb == NULL) {
				err = ENOMEM;
				break;
			}
			buf = nb;
			cap += 65536;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
	} while (got > 0);
	if (err == 0 && ferror(f))
		err = EIO;
	fclose(f);
	if (err != 0) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[len] = '\0';
	if (len_r != NULL)
		*len_r = len;
	return buf;
}
