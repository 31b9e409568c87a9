/*
 * tap.h - a tiny Test Anything Protocol emitter for the unit tests.
 *
 *   plan_lazy();  ok(cond, "name %d", i);  is_int(got, want, "name");
 *   is_str(got, want, "name");  return done_testing();
 */
#ifndef DMF_TESTS_TAP_H
#define DMF_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void plan_lazy(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

__attribute__((format(printf, 2, 3))) static inline int ok(int cond,
							   const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	return cond;
}

#define is_int(got, want, ...)                                                \
	do {                                                                  \
		long long got_ = (long long)(got), want_ = (long long)(want); \
		if (!ok(got_ == want_, __VA_ARGS__))                          \
			printf("#   got: %lld\n#   expected: %lld\n", got_,   \
			       want_);                                        \
	} while (0)

#define is_str(got, want, ...)                                        \
	do {                                                          \
		const char *got_ = (got), *want_ = (want);            \
		int same_ = (got_ == NULL && want_ == NULL) ||        \
			    (got_ != NULL && want_ != NULL &&         \
			     strcmp(got_, want_) == 0);               \
		if (!ok(same_, __VA_ARGS__))                          \
			printf("#   got: '%s'\n#   expected: '%s'\n", \
			       got_ ? got_ : "(null)",                \
			       want_ ? want_ : "(null)");             \
	} while (0)

/* ok() that the string `hay` contains `needle`. */
#define like(hay, needle, ...)                                          \
	do {                                                            \
		const char *hay_ = (hay), *needle_ = (needle);          \
		if (!ok(hay_ != NULL && strstr(hay_, needle_) != NULL,  \
			__VA_ARGS__))                                   \
			printf("#   '%s'\n#   does not contain '%s'\n", \
			       hay_ ? hay_ : "(null)", needle_);        \
	} while (0)

static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed == 0 ? 0 : 1;
}

#endif /* DMF_TESTS_TAP_H */
