/*
 * test_doveadm_retry.c - the doveadm retry policy (spec 3.10, 3.12):
 * sequences of attempt results against a configuration, table-driven.
 */
#include "dmf-build.h"

#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "doveadm_conf.h"

#define MAX_STEPS 12

struct step {
	int exit_code;
	bool storage_timeout, parallel;
	size_t new_dups;
	/* expected */
	enum doveadm_verdict verdict;
	long long sleep_ms;
	const char *extra; /* the next attempt's extra args joined by ' ' */
	bool move_dups;
};

struct retry_case {
	const char *name;
	enum doveadm_phase phase;
	int max;
	long long sleep_ms;
	struct doveadm_code_map code_max[4];
	size_t n_code_max;
	struct doveadm_code_map code_sleep[4];
	size_t n_code_sleep;
	bool debug_mode, move_dups;
	struct step steps[MAX_STEPS];
	size_t n_steps;
};

#define OK_ DOVEADM_DONE_OK
#define RETRY DOVEADM_RETRY
#define FAIL DOVEADM_DONE_FAILED

static const struct retry_case cases[] = {
	{ "first attempt succeeds",
	  DOVEADM_PHASE_SYNC,
	  1,
	  5000,
	  {},
	  0,
	  {},
	  0,
	  false,
	  false,
	  { { 0, .verdict = OK_, .extra = "" } },
	  1 },
	{ "shipped defaults: 75 retries 4 times, 15 s apart",
	  DOVEADM_PHASE_SYNC,
	  1,
	  5000,
	  { { 134, 2 }, { 75, 4 } },
	  2,
	  { { 75, 15000 } },
	  1,
	  false,
	  false,
	  { { 75, .verdict = RETRY, .sleep_ms = 15000, .extra = "" },
	    { 75, .verdict = RETRY, .sleep_ms = 15000, .extra = "" },
	    { 75, .verdict = RETRY, .sleep_ms = 15000, .extra = "" },
	    { 75, .verdict = RETRY, .sleep_ms = 15000, .extra = "" },
	    { 75, .verdict = FAIL, .extra = "" } },
	  5 },
	{ "shipped defaults: 134 retries twice, 5 s apart",
	  DOVEADM_PHASE_SYNC,
	  1,
	  5000,
	  { { 134, 2 }, { 75, 4 } },
	  2,
	  { { 75, 15000 } },
	  1,
	  false,
	  false,
	  { { 134, .verdict = RETRY, .sleep_ms = 5000, .extra = "" },
	    { 134, .verdict = RETRY, .sleep_ms = 5000, .extra = "" },
	    { 134, .verdict = FAIL, .extra = "" } },
	  3 },
	{ "other code uses retry.max",
	  DOVEADM_PHASE_SYNC,
	  1,
	  250,
	  {},
	  0,
	  {},
	  0,
	  false,
	  false,
	  { { 1, .verdict = RETRY, .sleep_ms = 250, .extra = "" },
	    { 1, .verdict = FAIL, .extra = "" } },
	  2 },
	{ "retry then success",
	  DOVEADM_PHASE_SYNC,
	  2,
	  10,
	  {},
	  0,
	  {},
	  0,
	  false,
	  false,
	  { { 1, .verdict = RETRY, .sleep_ms = 10, .extra = "" },
	    { 0, .verdict = OK_, .extra = "" } },
	  2 },
	{ "retries count over mixed codes",
	  DOVEADM_PHASE_SYNC,
	  2,
	  10,
	  { { 75, 2 } },
	  1,
	  {},
	  0,
	  false,
	  false,
	  { { 1, .verdict = RETRY, .sleep_ms = 10, .extra = "" },
	    { 75, .verdict = RETRY, .sleep_ms = 10, .extra = "" },
	    { 75, .verdict = FAIL, .extra = "" } },
	  3 },
	{ "max 0: no retry",
	  DOVEADM_PHASE_SYNC,
	  0,
	  10,
	  {},
	  0,
	  {},
	  0,
	  false,
	  false,
	  { { 75, .verdict = FAIL, .extra = "" } },
	  1 },
	{ "67 unknown user is not retried",
	  DOVEADM_PHASE_SYNC,
	  3,
	  10,
	  {},
	  0,
	  {},
	  0,
	  false,
	  false,
	  { { 67, .verdict = FAIL, .extra = "" } },
	  1 },
	{ "78 retried when code-max lists it",
	  DOVEADM_PHASE_SYNC,
	  0,
	  10,
	  { { 78, 1 } },
	  1,
	  {},
	  0,
	  false,
	  false,
	  { { 78, .verdict = RETRY, .sleep_ms = 10, .extra = "" },
	    { 78, .verdict = FAIL, .extra = "" } },
	  2 },
	{ "exit 2 in the sync phase is success",
	  DOVEADM_PHASE_SYNC,
	  1,
	  10,
	  {},
	  0,
	  {},
	  0,
	  false,
	  false,
	  { { 2, .verdict = OK_, .extra = "" } },
	  1 },
	{ "exit 2 at cutover re-runs at once until 0, not counted as retries",
	  DOVEADM_PHASE_CUTOVER,
	  0,
	  5000,
	  {},
	  0,
	  {},
	  0,
	  false,
	  false,
	  { { 2, .verdict = RETRY, .sleep_ms = 0, .extra = "" },
	    { 2, .verdict = RETRY, .sleep_ms = 0, .extra = "" },
	    { 0, .verdict = OK_, .extra = "" } },
	  3 },
	{ "cutover exit-2 re-runs bounded by code-max.2",
	  DOVEADM_PHASE_CUTOVER,
	  5,
	  10,
	  { { 2, 2 } },
	  1,
	  {},
	  0,
	  false,
	  false,
	  { { 2, .verdict = RETRY, .extra = "" },
	    { 2, .verdict = RETRY, .extra = "" },
	    { 2, .verdict = FAIL, .extra = "" } },
	  3 },
	{ "storage timeout + debug-mode: next attempt -D, once",
	  DOVEADM_PHASE_SYNC,
	  3,
	  10,
	  {},
	  0,
	  {},
	  0,
	  true,
	  false,
	  { { 75, .storage_timeout = true, .verdict = RETRY, .sleep_ms = 10,
	      .extra = "-D" },
	    { 75, .verdict = RETRY, .sleep_ms = 10, .extra = "" },
	    { 0, .verdict = OK_, .extra = "" } },
	  3 },
	{ "storage timeout without debug-mode: no -D",
	  DOVEADM_PHASE_SYNC,
	  3,
	  10,
	  {},
	  0,
	  {},
	  0,
	  false,
	  false,
	  { { 75, .storage_timeout = true, .verdict = RETRY, .sleep_ms = 10,
	      .extra = "" } },
	  1 },
	{ "PUT timeout: parallel writes 1 from then on",
	  DOVEADM_PHASE_SYNC,
	  3,
	  10,
	  {},
	  0,
	  {},
	  0,
	  false,
	  false,
	  { { 75, .parallel = true, .verdict = RETRY, .sleep_ms = 10,
	      .extra = "-o plugin/obox_max_parallel_writes=1" },
	    { 75, .verdict = RETRY, .sleep_ms = 10,
	      .extra = "-o plugin/obox_max_parallel_writes=1" } },
	  2 },
	{ "both: -D and the obox option",
	  DOVEADM_PHASE_SYNC,
	  3,
	  10,
	  {},
	  0,
	  {},
	  0,
	  true,
	  false,
	  { { 75, .storage_timeout = true, .parallel = true, .verdict = RETRY,
	      .sleep_ms = 10,
	      .extra = "-D -o plugin/obox_max_parallel_writes=1" } },
	  1 },
	{ "duplicates moved before the retry when enabled",
	  DOVEADM_PHASE_SYNC,
	  1,
	  10,
	  {},
	  0,
	  {},
	  0,
	  false,
	  true,
	  { { 75, .new_dups = 2, .verdict = RETRY, .sleep_ms = 10, .extra = "",
	      .move_dups = true },
	    { 0, .verdict = OK_, .extra = "" } },
	  2 },
	{ "duplicates not moved when disabled",
	  DOVEADM_PHASE_SYNC,
	  1,
	  10,
	  {},
	  0,
	  {},
	  0,
	  false,
	  false,
	  { { 75, .new_dups = 2, .verdict = RETRY, .sleep_ms = 10, .extra = "",
	      .move_dups = false } },
	  1 },
	{ "duplicates moved even on the last failure",
	  DOVEADM_PHASE_SYNC,
	  0,
	  10,
	  {},
	  0,
	  {},
	  0,
	  false,
	  true,
	  { { 75, .new_dups = 1, .verdict = FAIL, .extra = "",
	      .move_dups = true } },
	  1 },
	{ "killed (-1) uses retry.max",
	  DOVEADM_PHASE_SYNC,
	  1,
	  10,
	  {},
	  0,
	  {},
	  0,
	  false,
	  false,
	  { { -1, .verdict = RETRY, .sleep_ms = 10, .extra = "" },
	    { -1, .verdict = FAIL, .extra = "" } },
	  2 },
};

static void join(const char *const *a, size_t n, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, a[i], size - strlen(buf) - 1);
	}
}

int main(void)
{
	plan_lazy();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct retry_case *c = &cases[i];
		struct doveadm_retry_conf rc = {
			.max = c->max,
			.sleep_ms = c->sleep_ms,
			.code_max = (struct doveadm_code_map *)c->code_max,
			.n_code_max = c->n_code_max,
			.code_sleep = (struct doveadm_code_map *)c->code_sleep,
			.n_code_sleep = c->n_code_sleep,
			.debug_mode = c->debug_mode,
		};
		struct doveadm_retry_state st = { 0 };
		for (size_t s = 0; s < c->n_steps; s++) {
			const struct step *e = &c->steps[s];
			struct doveadm_attempt_result res = {
				.exit_code = e->exit_code,
				.storage_timeout = e->storage_timeout,
				.parallel_writes_timeout = e->parallel,
				.new_duplicates = e->new_dups,
			};
			struct doveadm_retry_decision d;
			const char *extra[4];
			char buf[128];

			doveadm_retry_decide(&rc, c->phase, c->move_dups, &res,
					     &st, &d);
			is_int(d.verdict, e->verdict,
			       "%s: attempt %zu (exit %d) "
			       "verdict (%s)",
			       c->name, s + 1, e->exit_code, d.reason);
			if (e->verdict == DOVEADM_RETRY)
				is_int(d.sleep_ms, e->sleep_ms,
				       "%s: attempt %zu sleep", c->name, s + 1);
			join(extra, doveadm_retry_extra_args(&st, extra), buf,
			     sizeof(buf));
			if (e->verdict == DOVEADM_RETRY)
				is_str(buf, e->extra,
				       "%s: attempt %zu extra args", c->name,
				       s + 1);
			is_int(d.move_duplicates, e->move_dups,
			       "%s: attempt %zu move duplicates", c->name,
			       s + 1);
		}
		is_int(st.attempts, c->n_steps, "%s: attempts counted",
		       c->name);
	}
	return done_testing();
}
