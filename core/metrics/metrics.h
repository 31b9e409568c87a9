/*
 * metrics.h - the worker's metrics registry: counters, gauges and
 * histograms (timers), each a family with a fixed set of label names
 * declared at registration, and one series per set of label values.
 *
 * Names are Micrometer's dotted form ("executor.active"), with a base unit
 * ("threads", "seconds", "bytes" or NULL).  /metrics shows them as they
 * are; /prometheus renders them as Micrometer's Prometheus registry does:
 * dots to underscores, the base unit appended unless the name ends with
 * it, counters ending in _total ("executor.completed" + "tasks" ->
 * executor_completed_tasks_total).
 *
 * Hot path: metrics_series() finds a series without a lock (series are
 * published once on an append-only list and live as long as the
 * registry); the updates are single atomic operations.  Only the creation
 * of a new series takes the registry's mutex.  Callers that update the
 * same series often may keep the pointer.  Never label by user, mailbox
 * or anything else unbounded: MET_MAX_SERIES caps each family (further
 * label sets are folded into no series: metrics_series() returns NULL and
 * the update functions accept NULL).
 *
 * Every function is safe from any thread.  Registration normally happens
 * at start; metrics_registry_free() only after every user is gone.
 */
#ifndef DMF_METRICS_H
#define DMF_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MET_MAX_LABELS 4
#define MET_MAX_SERIES 256
#define MET_MAX_BUCKETS 16

enum met_type {
	MET_COUNTER, /* monotonic, integer increments */
	MET_GAUGE, /* set, added to, or computed at scrape time */
	MET_TIMER, /* histogram of durations in seconds: buckets, sum,
		    * count, max */
	MET_FUNCTION_COUNTER, /* monotonic, computed at scrape time */
	MET_FUNCTION_TIMER /* count and total seconds computed at scrape
			    * time (rendered as a summary) */
};

struct met_registry;
struct met_family;
struct met_series;

/* Scrape-time callbacks; called with no lock of the registry held, from
 * the scraping thread.  value: a gauge's value, or a function counter's
 * total.  timer: *count_r and *total_s_r (and *max_s_r, NaN unknown). */
typedef double met_value_fn(void *ctx);
typedef void met_timer_fn(void *ctx, double *count_r, double *total_s_r,
			  double *max_s_r);

/* The registry.  NULL on out of memory. */
struct met_registry *met_registry_new(void);
void met_registry_free(struct met_registry **reg);

/*
 * Register a family.  `name` is dotted ([a-z][a-z0-9._]*, no "..", not
 * ending in '.'); `labels` the NULL-terminated label names
 * ([a-zA-Z_][a-zA-Z0-9_]*, not starting "__", at most MET_MAX_LABELS; NULL
 * for none).  A timer's `buckets` are its upper bounds in seconds,
 * increasing, n_buckets <= MET_MAX_BUCKETS (+Inf is implicit).  All
 * strings are copied.  Returns the family, or NULL with *error_r (static)
 * when the name is taken or malformed.
 */
struct met_family *met_register(struct met_registry *reg, enum met_type type,
				const char *name, const char *description,
				const char *base_unit,
				const char *const *labels,
				const double *buckets, size_t n_buckets,
				const char **error_r);
/* The family called `name`, or NULL. */
struct met_family *met_find(struct met_registry *reg, const char *name);
enum met_type met_family_type(const struct met_family *f);
size_t met_family_n_labels(const struct met_family *f);

/*
 * The series of `f` for `values` (one per label name, in order; NULL when
 * the family has no labels), created on first use.  NULL when `f` is
 * NULL, a value is NULL or the family is full.
 */
struct met_series *met_series(struct met_family *f, const char *const *values);

/* Counter: add n. */
void met_counter_add(struct met_series *s, uint64_t n);
/* Gauge: set, or add a (negative) delta. */
void met_gauge_set(struct met_series *s, double v);
void met_gauge_add(struct met_series *s, double delta);
/* Timer: one observation of `seconds`. */
void met_timer_record(struct met_series *s, double seconds);
/* Function gauges, counters, timers: the series computes its value with
 * fn(ctx) at scrape time.  Set once, before the first scrape. */
void met_series_set_fn(struct met_series *s, met_value_fn *fn, void *ctx);
void met_series_set_timer_fn(struct met_series *s, met_timer_fn *fn, void *ctx);

/* ------------------------------------------------------ reading --- */

/* A copy of one series as seen now (scrape side). */
struct met_sample {
	const char *const *label_values; /* owned by the registry */
	double value; /* counter, gauge, function counter */
	/* timers */
	double count, sum, max;
	uint64_t buckets[MET_MAX_BUCKETS + 1]; /* cumulative; last: +Inf */
};

/* Read-only view of a family for the renderers. */
struct met_family_view {
	const char *name, *description, *base_unit;
	enum met_type type;
	const char *const *label_names;
	size_t n_labels;
	const double *bucket_bounds;
	size_t n_buckets;
	struct met_sample *samples;
	size_t n_samples;
};

/*
 * A snapshot of every family, sorted by name; callbacks are called now.
 * Free with met_snapshot_free().  NULL on out of memory.
 */
struct met_snapshot {
	struct met_family_view *families;
	size_t n_families;
};
struct met_snapshot *met_snapshot_take(struct met_registry *reg);
void met_snapshot_free(struct met_snapshot **snap);

/* The Prometheus name of a family (snake_case, unit suffix, _total for
 * counters) into buf; false when it does not fit. */
bool met_prometheus_name(const struct met_family_view *f, char *buf,
			 size_t size);

#endif /* DMF_METRICS_H */
