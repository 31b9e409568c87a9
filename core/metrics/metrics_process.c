/*
 * metrics_process.c - process.* and system.* meters, computed at scrape
 * time from /proc, getrusage() and getrlimit(): Micrometer's names where
 * they mean something for a C process; process.memory.* stands in for
 * jvm.memory.*.
 */
#include "dmf-build.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "metrics/metrics_process.h"

static struct timespec proc_start_mono, proc_start_real;

static double ts_s(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ts_s(&t);
}

static double uptime(void *ctx)
{
	(void)ctx;
	return mono_s() - ts_s(&proc_start_mono);
}

static double start_time(void *ctx)
{
	(void)ctx;
	return ts_s(&proc_start_real);
}

static double cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return NAN;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double cpu_time(void *ctx)
{
	(void)ctx;
	return cpu_seconds();
}

static double ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (double)n : 1.0;
}

static double cpu_count(void *ctx)
{
	(void)ctx;
	return ncpu();
}

/* Usage over the time since the previous scrape (at least 1 s: scrapes
 * closer together get the last value), as a fraction of all CPUs, like
 * the JVM's getProcessCpuLoad(). */
static pthread_mutex_t usage_lock = PTHREAD_MUTEX_INITIALIZER;

static double process_cpu_usage(void *ctx)
{
	static double last_t, last_cpu, last_v;
	double t = mono_s(), cpu = cpu_seconds(), v;

	(void)ctx;
	pthread_mutex_lock(&usage_lock);
	if (last_t == 0) {
		/* since the start */
		last_t = ts_s(&proc_start_mono);
		last_cpu = 0;
	}
	if (t - last_t >= 1.0) {
		last_v = (cpu - last_cpu) / (t - last_t) / ncpu();
		last_t = t;
		last_cpu = cpu;
	}
	v = last_v;
	pthread_mutex_unlock(&usage_lock);
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

static bool read_proc_stat_cpu(double *busy_r, double *total_r)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "re");
	int n;

	if (f == NULL)
		return false;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 4)
		return false;
	*total_r = 0;
	for (int i = 0; i < 8; i++)
		*total_r += (double)v[i];
	/* idle + iowait */
	*busy_r = *total_r - (double)v[3] - (double)v[4];
	return true;
}

static double system_cpu_usage(void *ctx)
{
	static double last_busy, last_total, last_v;
	double busy, total, v;

	(void)ctx;
	if (!read_proc_stat_cpu(&busy, &total))
		return NAN;
	pthread_mutex_lock(&usage_lock);
	if (total - last_total >= ncpu() * 100.0 / 4) {
		/* at least 1/4 s of CPU ticks (USER_HZ 100) */
		last_v = last_total == 0 ?
				 busy / total :
				 (busy - last_busy) / (total - last_total);
		last_busy = busy;
		last_total = total;
	}
	v = last_v;
	pthread_mutex_unlock(&usage_lock);
	return v;
}

static double load1(void *ctx)
{
	double l[1];

	(void)ctx;
	return getloadavg(l, 1) == 1 ? l[0] : NAN;
}

static double files_open(void *ctx)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	double n = 0;

	(void)ctx;
	if (d == NULL)
		return NAN;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static double files_max(void *ctx)
{
	struct rlimit rl;

	(void)ctx;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return NAN;
	return rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
}

/* /proc/self/statm: size resident ... in pages */
static double statm(int field)
{
	unsigned long long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	int n;

	if (f == NULL)
		return NAN;
	n = fscanf(f, "%llu %llu", &size, &rss);
	fclose(f);
	if (n != 2)
		return NAN;
	return (double)(field == 0 ? size : rss) *
	       (double)sysconf(_SC_PAGESIZE);
}

static double mem_rss(void *ctx)
{
	(void)ctx;
	return statm(1);
}

static double mem_virtual(void *ctx)
{
	(void)ctx;
	return statm(0);
}

static double threads(void *ctx)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "re");
	double n = NAN;

	(void)ctx;
	if (f == NULL)
		return NAN;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long v;

		if (sscanf(line, "Threads: %lu", &v) == 1) {
			n = (double)v;
			break;
		}
	}
	fclose(f);
	return n;
}

struct proc_meter {
	enum met_type type;
	const char *name, *unit, *desc;
	met_value_fn *fn;
};

static const struct proc_meter proc_meters[] = {
	{ MET_GAUGE, "process.uptime", "seconds", "The uptime of the worker",
	  uptime },
	{ MET_GAUGE, "process.start.time", "seconds",
	  "Start time of the process since unix epoch.", start_time },
	{ MET_GAUGE, "process.cpu.usage", NULL,
	  "The \"recent cpu usage\" for the worker process",
	  process_cpu_usage },
	{ MET_FUNCTION_COUNTER, "process.cpu.time", "seconds",
	  "The CPU time used by the worker process", cpu_time },
	{ MET_GAUGE, "process.files.open", "files",
	  "The open file descriptor count", files_open },
	{ MET_GAUGE, "process.files.max", "files",
	  "The maximum file descriptor count", files_max },
	{ MET_GAUGE, "process.memory.rss", "bytes",
	  "Resident memory of the worker process", mem_rss },
	{ MET_GAUGE, "process.memory.virtual", "bytes",
	  "Virtual memory size of the worker process", mem_virtual },
	{ MET_GAUGE, "process.threads", "threads",
	  "The number of threads of the worker process", threads },
	{ MET_GAUGE, "system.cpu.count", NULL,
	  "The number of processors available to the worker", cpu_count },
	{ MET_GAUGE, "system.cpu.usage", NULL,
	  "The \"recent cpu usage\" of the system the worker runs on",
	  system_cpu_usage },
	{ MET_GAUGE, "system.load.average.1m", NULL,
	  "The sum of the number of runnable entities queued to available "
	  "processors and the number of runnable entities running on the "
	  "available processors averaged over a period of time",
	  load1 },
};

int metrics_process_register(struct met_registry *reg, const char **error_r)
{
	clock_gettime(CLOCK_MONOTONIC, &proc_start_mono);
	clock_gettime(CLOCK_REALTIME, &proc_start_real);
	for (size_t i = 0; i < sizeof(proc_meters) / sizeof(proc_meters[0]);
	     i++) {
		const struct proc_meter *m = &proc_meters[i];
		struct met_family *f =
			met_register(reg, m->type, m->name, m->desc, m->unit,
				     NULL, NULL, 0, error_r);

		if (f == NULL)
			return -EINVAL;
		met_series_set_fn(met_series(f, NULL), m->fn, NULL);
	}
	return 0;
}
