/* test_fail_log.c - a failing step logged first, then once a minute, and
 * once when it works again (core/lib/fail_log.c). */
#include "dmf-build.h"

#include "lib/fail_log.h"
#include "../tap.h"

int main(void)
{
	struct fail_log f = { 0 };
	unsigned failures = 99;
	unsigned long long ms = 99;

	plan_lazy();
	ok(!fail_log_ended(&f, 5000, &failures, &ms),
	   "a success with no failure before it ends nothing");
	is_int(failures, 99, "and leaves the count alone");
	ok(fail_log_due(&f, 10000), "the first failure is logged");
	ok(!fail_log_due(&f, 10001), "the next one, 1 ms later, is not");
	ok(!fail_log_due(&f, 10000 + FAIL_LOG_EVERY_MS - 1),
	   "nor one 1 ms short of a minute");
	ok(fail_log_due(&f, 10000 + FAIL_LOG_EVERY_MS),
	   "one a minute after the first log is");
	ok(!fail_log_due(&f, 10000 + FAIL_LOG_EVERY_MS + 30000),
	   "and the minute counts from that log");
	ok(fail_log_ended(&f, 10000 + 2 * FAIL_LOG_EVERY_MS, &failures, &ms),
	   "the success after them ends the run");
	is_int(failures, 5, "with every failure counted, logged or not");
	is_int(ms, 2 * FAIL_LOG_EVERY_MS, "and how long they lasted");
	ok(!fail_log_ended(&f, 10000 + 3 * FAIL_LOG_EVERY_MS, &failures, &ms),
	   "a second success ends nothing: the run was forgotten");
	ok(fail_log_due(&f, 10000 + 3 * FAIL_LOG_EVERY_MS + 1),
	   "a new failure is logged at once");
	return done_testing();
}
