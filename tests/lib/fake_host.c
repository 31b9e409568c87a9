/* fake_host.c - a host whose tables can be shortened (fake_host.h). */
#include "dmf-build.h"

#include <string.h>

#include "fake_host.h"

unsigned long fake_host_wipe_calls;

static const struct dmf_host_crypto *real_crypto;
static const struct dmf_host_exec *real_exec;

static void counting_wipe(void *p, size_t len)
{
	volatile unsigned char *v = p;

	fake_host_wipe_calls++;
	if (real_crypto != NULL &&
	    DMF_HAS(struct dmf_host_crypto, real_crypto, wipe)) {
		real_crypto->wipe(p, len);
		return;
	}
	while (len-- > 0)
		*v++ = 0;
}

/* exec->run of a daemon older than 1.3: the 1.2 struct, no size. */
static int run_1_2(struct dmf_job *job, const char *const *argv,
		   const struct dmf_exec_options *options,
		   struct dmf_exec_result *result_r, const char **error_r)
{
	struct dmf_exec_result r = { .size = sizeof(r) };
	struct dmf_exec_result_1_2 old = { .exit_code = -1 };
	int ret = real_exec->run(job, argv, options, &r, error_r);

	if (ret == 0) {
		old.exit_code = r.exit_code;
		old.signal = r.signal;
		old.timed_out = r.timed_out;
		old.aborted = r.aborted;
		old.duration_ms = r.duration_ms;
		old.output_bytes = r.output_bytes;
		memcpy(result_r, &old, sizeof(old));
	}
	return ret;
}

#define COPY(name)                                 \
	do {                                       \
		if (real->name != NULL) {          \
			fh->name = *real->name;    \
			fh->host.name = &fh->name; \
		}                                  \
	} while (0)

void fake_host_init(struct fake_host *fh, const struct dmf_host *real)
{
	memset(fh, 0, sizeof(*fh));
	fh->host = *real;
	fh->host.log = NULL;
	fh->host.config = NULL;
	fh->host.job = NULL;
	fh->host.response = NULL;
	fh->host.exec = NULL;
	fh->host.inject = NULL;
	fh->host.crypto = NULL;
	fh->host.db = NULL;
	COPY(log);
	COPY(config);
	COPY(job);
	COPY(response);
	COPY(exec);
	COPY(inject);
	COPY(crypto);
	COPY(db);
	real_crypto = real->crypto;
	real_exec = real->exec;
	if (fh->host.crypto != NULL)
		fh->crypto.wipe = counting_wipe;
}

void fake_host_as_minor(struct fake_host *fh, unsigned minor)
{
	fh->host.abi_minor = (uint16_t)minor;
	if (minor < 1) {
		fh->host.size = (uint32_t)offsetof(struct dmf_host, exec);
		fh->host.exec = NULL;
		fh->host.inject = NULL;
		fh->host.crypto = NULL;
	}
	if (minor < 2) {
		if (minor >= 1)
			fh->host.size = (uint32_t)offsetof(struct dmf_host, db);
		fh->host.db = NULL;
	}
	if (minor < 4) {
		FAKE_HOST_CUT(fh, job, struct dmf_host_job, set_property);
		fh->job.set_property = NULL;
	}
	if (minor < 3) {
		FAKE_HOST_CUT(fh, crypto, struct dmf_host_crypto, wipe);
		fh->crypto.wipe = NULL;
		if (fh->host.exec != NULL)
			fh->exec.run = run_1_2;
	}
}
