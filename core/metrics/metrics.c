/* metrics.c - the registry: families, lock-free series lookup, atomics. */
#include "dmf-build.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

struct met_series {
	struct met_series *_Atomic next; /* published list, newest first */
	struct met_family *family;
	char **values; /* n_labels strings */
	_Atomic uint64_t count; /* counter value; timer count */
	_Atomic uint64_t bits; /* gauge value; timer sum (double bits) */
	_Atomic uint64_t max_bits; /* timer max (double bits) */
	_Atomic uint64_t buckets[MET_MAX_BUCKETS + 1]; /* not cumulative */
	met_value_fn *_Atomic fn;
	met_timer_fn *_Atomic timer_fn;
	void *_Atomic fn_ctx;
};

struct met_family {
	struct met_family *next;
	enum met_type type;
	char *name, *description, *base_unit;
	char *labels[MET_MAX_LABELS + 1];
	size_t n_labels;
	double bounds[MET_MAX_BUCKETS];
	size_t n_buckets;
	struct met_series *_Atomic series;
	_Atomic size_t n_series;
	pthread_mutex_t *lock; /* the registry's */
};

struct met_registry {
	pthread_mutex_t lock;
	struct met_family *families; /* under lock */
	size_t n_families;
};

static uint64_t dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double bitsd(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

struct met_registry *met_registry_new(void)
{
	struct met_registry *r = calloc(1, sizeof(*r));

	if (r != NULL)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

static void series_free(struct met_series *s, size_t n_labels)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->values != NULL && i < n_labels; i++)
		free(s->values[i]);
	free(s->values);
	free(s);
}

static void family_free(struct met_family *f)
{
	struct met_series *s = atomic_load(&f->series);

	while (s != NULL) {
		struct met_series *next = atomic_load(&s->next);

		series_free(s, f->n_labels);
		s = next;
	}
	for (size_t i = 0; i < f->n_labels; i++)
		free(f->labels[i]);
	free(f->name);
	free(f->description);
	free(f->base_unit);
	free(f);
}

void met_registry_free(struct met_registry **reg)
{
	struct met_registry *r = reg != NULL ? *reg : NULL;

	if (r == NULL)
		return;
	while (r->families != NULL) {
		struct met_family *f = r->families;

		r->families = f->next;
		family_free(f);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
	*reg = NULL;
}

static bool name_ok(const char *n)
{
	if (n == NULL || !(*n >= 'a' && *n <= 'z'))
		return false;
	for (const char *p = n; *p != '\0'; p++) {
		if (*p == '.' && (p[1] == '.' || p[1] == '\0'))
			return false;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_'))
			return false;
	}
	return strlen(n) < 128;
}

static bool label_ok(const char *n)
{
	if (n == NULL || (n[0] == '_' && n[1] == '_') ||
	    !((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
	      *n == '_'))
		return false;
	for (const char *p = n; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return strlen(n) < 64 && strcmp(n, "le") != 0 &&
	       strcmp(n, "quantile") != 0;
}

static struct met_family *find_locked(struct met_registry *reg,
				      const char *name)
{
	for (struct met_family *f = reg->families; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

struct met_family *met_register(struct met_registry *reg, enum met_type type,
				const char *name, const char *description,
				const char *base_unit,
				const char *const *labels,
				const double *buckets, size_t n_buckets,
				const char **error_r)
{
	struct met_family *f;
	size_t n = 0;

	*error_r = NULL;
	if (reg == NULL) {
		*error_r = "no metrics registry";
		return NULL;
	}
	if (!name_ok(name)) {
		*error_r = "malformed metric name (lower case letters, digits, "
			   "'_' and single dots, starting with a letter)";
		return NULL;
	}
	if (base_unit != NULL && !label_ok(base_unit)) {
		*error_r = "malformed base unit";
		return NULL;
	}
	while (labels != NULL && labels[n] != NULL) {
		if (!label_ok(labels[n])) {
			*error_r = "malformed label name";
			return NULL;
		}
		for (size_t k = 0; k < n; k++)
			if (strcmp(labels[k], labels[n]) == 0) {
				*error_r = "label name given twice";
				return NULL;
			}
		n++;
	}
	if (n > MET_MAX_LABELS) {
		*error_r = "too many labels";
		return NULL;
	}
	if (n_buckets > MET_MAX_BUCKETS ||
	    (type == MET_TIMER && (buckets == NULL || n_buckets == 0))) {
		*error_r = "a timer needs 1 to 16 buckets";
		return NULL;
	}
	for (size_t i = 1; type == MET_TIMER && i < n_buckets; i++)
		if (!(buckets[i] > buckets[i - 1])) {
			*error_r = "bucket bounds must increase";
			return NULL;
		}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		*error_r = "out of memory";
		return NULL;
	}
	f->type = type;
	f->name = strdup(name);
	f->description = description != NULL ? strdup(description) : NULL;
	f->base_unit = base_unit != NULL ? strdup(base_unit) : NULL;
	f->n_labels = n;
	f->lock = &reg->lock;
	for (size_t i = 0; i < n; i++)
		f->labels[i] = strdup(labels[i]);
	if (type == MET_TIMER) {
		memcpy(f->bounds, buckets, n_buckets * sizeof(*buckets));
		f->n_buckets = n_buckets;
	}
	for (size_t i = 0; i < n; i++)
		if (f->labels[i] == NULL)
			goto nomem;
	if (f->name == NULL || (description != NULL && !f->description) ||
	    (base_unit != NULL && !f->base_unit))
		goto nomem;
	pthread_mutex_lock(&reg->lock);
	if (find_locked(reg, name) != NULL) {
		pthread_mutex_unlock(&reg->lock);
		family_free(f);
		*error_r = "a metric of that name is registered already";
		return NULL;
	}
	f->next = reg->families;
	reg->families = f;
	reg->n_families++;
	pthread_mutex_unlock(&reg->lock);
	/* a family without labels has its one series from the start */
	if (n == 0 && met_series(f, NULL) == NULL) {
		*error_r = "out of memory";
		return NULL;
	}
	return f;
nomem:
	family_free(f);
	*error_r = "out of memory";
	return NULL;
}

struct met_family *met_find(struct met_registry *reg, const char *name)
{
	struct met_family *f;

	if (reg == NULL || name == NULL)
		return NULL;
	pthread_mutex_lock(&reg->lock);
	f = find_locked(reg, name);
	pthread_mutex_unlock(&reg->lock);
	return f;
}

enum met_type met_family_type(const struct met_family *f)
{
	return f->type;
}

size_t met_family_n_labels(const struct met_family *f)
{
	return f->n_labels;
}

static bool series_match(const struct met_family *f, const struct met_series *s,
			 const char *const *values)
{
	for (size_t i = 0; i < f->n_labels; i++)
		if (strcmp(s->values[i], values[i]) != 0)
			return false;
	return true;
}

static struct met_series *lookup(struct met_family *f,
				 const char *const *values)
{
	for (struct met_series *s =
		     atomic_load_explicit(&f->series, memory_order_acquire);
	     s != NULL;
	     s = atomic_load_explicit(&s->next, memory_order_acquire))
		if (series_match(f, s, values))
			return s;
	return NULL;
}

struct met_series *met_series(struct met_family *f, const char *const *values)
{
	struct met_series *s;

	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < f->n_labels; i++)
		if (values == NULL || values[i] == NULL)
			return NULL;
	s = lookup(f, values);
	if (s != NULL)
		return s;
	pthread_mutex_lock(f->lock);
	s = lookup(f, values);
	if (s == NULL && atomic_load(&f->n_series) < MET_MAX_SERIES) {
		s = calloc(1, sizeof(*s));
		if (s != NULL && f->n_labels > 0) {
			s->values = calloc(f->n_labels, sizeof(char *));
			for (size_t i = 0; s->values != NULL && i < f->n_labels;
			     i++) {
				s->values[i] = strdup(values[i]);
				if (s->values[i] == NULL) {
					series_free(s, f->n_labels);
					s = NULL;
					break;
				}
			}
			if (s != NULL && s->values == NULL) {
				free(s);
				s = NULL;
			}
		}
		if (s != NULL) {
			s->family = f;
			if (f->type == MET_TIMER)
				atomic_store(&s->max_bits, dbits(0.0));
			atomic_store(&s->bits, dbits(0.0));
			atomic_store(&s->next, atomic_load(&f->series));
			atomic_store_explicit(&f->series, s,
					      memory_order_release);
			atomic_fetch_add(&f->n_series, 1);
		}
	}
	pthread_mutex_unlock(f->lock);
	return s;
}

void met_counter_add(struct met_series *s, uint64_t n)
{
	if (s != NULL)
		atomic_fetch_add_explicit(&s->count, n, memory_order_relaxed);
}

void met_gauge_set(struct met_series *s, double v)
{
	if (s != NULL)
		atomic_store_explicit(&s->bits, dbits(v), memory_order_relaxed);
}

static void add_double(_Atomic uint64_t *a, double delta)
{
	uint64_t old = atomic_load_explicit(a, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(
		a, &old, dbits(bitsd(old) + delta), memory_order_relaxed,
		memory_order_relaxed))
		;
}

void met_gauge_add(struct met_series *s, double delta)
{
	if (s != NULL)
		add_double(&s->bits, delta);
}

void met_timer_record(struct met_series *s, double seconds)
{
	struct met_family *f;
	size_t i = 0;
	uint64_t old;

	if (s == NULL || !(seconds >= 0))
		return;
	f = s->family;
	while (i < f->n_buckets && seconds > f->bounds[i])
		i++;
	atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
	add_double(&s->bits, seconds);
	old = atomic_load_explicit(&s->max_bits, memory_order_relaxed);
	while (bitsd(old) < seconds &&
	       !atomic_compare_exchange_weak_explicit(
		       &s->max_bits, &old, dbits(seconds), memory_order_relaxed,
		       memory_order_relaxed))
		;
	atomic_fetch_add_explicit(&s->count, 1, memory_order_release);
}

void met_series_set_fn(struct met_series *s, met_value_fn *fn, void *ctx)
{
	if (s == NULL)
		return;
	atomic_store(&s->fn_ctx, ctx);
	atomic_store(&s->fn, fn);
}

void met_series_set_timer_fn(struct met_series *s, met_timer_fn *fn, void *ctx)
{
	if (s == NULL)
		return;
	atomic_store(&s->fn_ctx, ctx);
	atomic_store(&s->timer_fn, fn);
}

/* ----------------------------------------------------------- reading --- */

static void sample_read(const struct met_family *f, struct met_series *s,
			struct met_sample *out)
{
	met_value_fn *fn = atomic_load(&s->fn);
	met_timer_fn *tfn = atomic_load(&s->timer_fn);
	void *ctx = atomic_load(&s->fn_ctx);

	memset(out, 0, sizeof(*out));
	out->label_values = (const char *const *)s->values;
	switch (f->type) {
	case MET_COUNTER:
		out->value = (double)atomic_load(&s->count);
		break;
	case MET_GAUGE:
	case MET_FUNCTION_COUNTER:
		out->value =
			fn != NULL ? fn(ctx) : bitsd(atomic_load(&s->bits));
		break;
	case MET_FUNCTION_TIMER:
		out->max = NAN;
		if (tfn != NULL)
			tfn(ctx, &out->count, &out->sum, &out->max);
		break;
	case MET_TIMER: {
		uint64_t cum = 0;

		/* count last (written last by met_timer_record) */
		out->count = (double)atomic_load_explicit(&s->count,
							  memory_order_acquire);
		out->sum = bitsd(atomic_load(&s->bits));
		out->max = bitsd(atomic_load(&s->max_bits));
		for (size_t i = 0; i <= f->n_buckets; i++) {
			cum += atomic_load(&s->buckets[i]);
			out->buckets[i] = cum;
		}
		/* +Inf must equal count: a record under way may have
		 * counted its bucket but not yet the count */
		out->buckets[f->n_buckets] = (uint64_t)out->count;
		for (size_t i = 0; i < f->n_buckets; i++)
			if (out->buckets[i] > (uint64_t)out->count)
				out->buckets[i] = (uint64_t)out->count;
		break;
	}
	}
}

static int cmp_view(const void *a, const void *b)
{
	const struct met_family_view *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int cmp_sample_labels(size_t n, const struct met_sample *x,
			     const struct met_sample *y)
{
	for (size_t i = 0; i < n; i++) {
		int c = strcmp(x->label_values[i], y->label_values[i]);

		if (c != 0)
			return c;
	}
	return 0;
}

static void sort_samples(struct met_family_view *v)
{
	/* insertion sort: few series per family */
	for (size_t i = 1; i < v->n_samples; i++) {
		struct met_sample t = v->samples[i];
		size_t k = i;

		while (k > 0 && cmp_sample_labels(v->n_labels,
						  &v->samples[k - 1], &t) > 0) {
			v->samples[k] = v->samples[k - 1];
			k--;
		}
		v->samples[k] = t;
	}
}

struct met_snapshot *met_snapshot_take(struct met_registry *reg)
{
	struct met_snapshot *snap = calloc(1, sizeof(*snap));
	struct met_family **fams = NULL;
	size_t n = 0;

	if (snap == NULL || reg == NULL)
		return snap;
	/* families are never removed: collect the list, read outside the
	 * lock (callbacks may take their own locks) */
	pthread_mutex_lock(&reg->lock);
	fams = calloc(reg->n_families + 1, sizeof(*fams));
	for (struct met_family *f = reg->families; fams != NULL && f != NULL;
	     f = f->next)
		fams[n++] = f;
	pthread_mutex_unlock(&reg->lock);
	if (fams == NULL)
		goto nomem;
	snap->families = calloc(n + 1, sizeof(*snap->families));
	if (snap->families == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		struct met_family *f = fams[i];
		struct met_family_view *v = &snap->families[i];
		size_t ns = atomic_load(&f->n_series), k = 0;

		v->name = f->name;
		v->description = f->description;
		v->base_unit = f->base_unit;
		v->type = f->type;
		v->label_names = (const char *const *)f->labels;
		v->n_labels = f->n_labels;
		v->bucket_bounds = f->bounds;
		v->n_buckets = f->n_buckets;
		v->samples = calloc(ns + 1, sizeof(*v->samples));
		snap->n_families++;
		if (v->samples == NULL)
			goto nomem;
		for (struct met_series *s = atomic_load_explicit(
			     &f->series, memory_order_acquire);
		     s != NULL && k < ns; s = atomic_load(&s->next))
			sample_read(f, s, &v->samples[k++]);
		v->n_samples = k;
		sort_samples(v);
	}
	free(fams);
	qsort(snap->families, snap->n_families, sizeof(*snap->families),
	      cmp_view);
	return snap;
nomem:
	free(fams);
	met_snapshot_free(&snap);
	return NULL;
}

void met_snapshot_free(struct met_snapshot **snap)
{
	struct met_snapshot *s = snap != NULL ? *snap : NULL;

	if (s == NULL)
		return;
	for (size_t i = 0; s->families != NULL && i < s->n_families; i++)
		free(s->families[i].samples);
	free(s->families);
	free(s);
	*snap = NULL;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n + 1 && s[len - n - 1] == '_' &&
	       memcmp(s + len - n, suffix, n) == 0;
}

bool met_prometheus_name(const struct met_family_view *f, char *buf,
			 size_t size)
{
	size_t len = strlen(f->name);
	bool counter =
		f->type == MET_COUNTER || f->type == MET_FUNCTION_COUNTER;
	/* timers are in seconds whatever their base unit says */
	const char *unit =
		f->type == MET_TIMER || f->type == MET_FUNCTION_TIMER ?
			"seconds" :
			f->base_unit;

	if (len + 1 > size)
		return false;
	for (size_t i = 0; i < len; i++)
		buf[i] = f->name[i] == '.' ? '_' : f->name[i];
	buf[len] = '\0';
	if (unit != NULL && !ends_with(buf, len, unit)) {
		if (len + 1 + strlen(unit) + 1 > size)
			return false;
		buf[len++] = '_';
		memcpy(buf + len, unit, strlen(unit) + 1);
		len += strlen(unit);
	}
	if (counter && !ends_with(buf, len, "total")) {
		if (len + 7 > size)
			return false;
		memcpy(buf + len, "_total", 7);
	}
	return true;
}
