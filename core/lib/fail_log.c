/* fail_log.c - a step that keeps failing, logged once a minute. */
#include "dmf-build.h"

#include "lib/fail_log.h"

bool fail_log_due(struct fail_log *f, uint64_t now)
{
	f->failures++;
	if (f->since_ms == 0)
		f->since_ms = now;
	if (f->logged_ms != 0 && now - f->logged_ms < FAIL_LOG_EVERY_MS)
		return false;
	f->logged_ms = now;
	return true;
}

bool fail_log_ended(struct fail_log *f, uint64_t now, unsigned *failures_r,
		    unsigned long long *ms_r)
{
	if (f->since_ms == 0)
		return false;
	*failures_r = f->failures;
	*ms_r = (unsigned long long)(now - f->since_ms);
	*f = (struct fail_log){ 0 };
	return true;
}
