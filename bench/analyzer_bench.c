/*
 * analyzer_bench.c - throughput of the doveadm log analyzer.
 *
 *   analyzer_bench FILE [ROUNDS]
 *
 * Reads FILE into memory once, then feeds it line by line to a fresh
 * analyzer ROUNDS times (default 1) and prints MB/s, lines/s and what the
 * analyzer found, so a run on a replicated real `-D` log shows the cost
 * per byte of what doveadm prints.
 */
#include "dmf-build.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct stat st;
	char *buf;
	int fd, rounds = argc > 2 ? atoi(argv[2]) : 1;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE [ROUNDS]\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		return 1;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			perror("read");
			return 1;
		}
		got += (size_t)n;
	}
	close(fd);

	double best = 0;
	for (int r = 0; r < rounds; r++) {
		struct analyzer *a = analyzer_new();
		size_t lines = 0;
		double t0 = now();
		const char *p = buf, *end = buf + got;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len =
				nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
			analyzer_feed_line(a, p, len);
			p += len;
			lines++;
		}
		double dt = now() - t0;
		double mbs = (double)got / 1e6 / dt;
		if (mbs > best)
			best = mbs;
		printf("round %d: %.1f MB in %.3f s = %.0f MB/s, %.2f M "
		       "lines/s; "
		       "saved=%lu expunged=%lu errors=%zu duplicates=%zu\n",
		       r + 1, (double)got / 1e6, dt, mbs,
		       (double)lines / 1e6 / dt, analyzer_saved_total(a),
		       analyzer_expunged_total(a), analyzer_error_count(a),
		       analyzer_duplicate_count(a));
		analyzer_free(&a);
	}
	printf("analyzer throughput: %.0f MB/s (best of %d)\n", best, rounds);
	free(buf);
	return 0;
}
