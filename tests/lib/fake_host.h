/*
 * fake_host.h - a struct dmf_host for plugin unit tests whose tables can be
 * shortened, so that a plugin's code paths for an older daemon run:
 *
 *   struct fake_host fh;
 *   fake_host_init(&fh, host_get());      copies of the real tables
 *   fake_host_as_minor(&fh, 2);           a 1.2 daemon: no crypto->wipe,
 *                                         exec writes the 1.2 result
 *   FAKE_HOST_CUT(&fh, crypto, struct dmf_host_crypto, wipe);
 *   fh.host.crypto = NULL;                no crypto table at all
 *   plugin.init(&fh.host, &ctx, &err);
 *
 * The functions in the tables are the real host's (host_init() first),
 * except crypto->wipe, which counts its calls (fake_host_wipe_calls) and
 * wipes, and exec->run of a host older than 1.3, which writes the 1.2
 * struct dmf_exec_result as such a daemon does.  One fake host at a time.
 */
#ifndef DMF_TESTS_FAKE_HOST_H
#define DMF_TESTS_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "dmf/host.h"

struct fake_host {
	struct dmf_host host; /* hand &fh.host to the plugin */
	struct dmf_host_log log;
	struct dmf_host_config config;
	struct dmf_host_job job;
	struct dmf_host_response response;
	struct dmf_host_exec exec;
	struct dmf_host_inject inject;
	struct dmf_host_crypto crypto;
	struct dmf_host_db db;
};

/* Calls of the fake crypto->wipe since the program started. */
extern unsigned long fake_host_wipe_calls;

/* Copies of every table of `real` (a table `real` lacks stays NULL). */
void fake_host_init(struct fake_host *fh, const struct dmf_host *real);
/* Shape it as a daemon of ABI 1.`minor` (0..3): its abi_minor, the
 * struct dmf_host and tables of that minor (newer tables NULL, newer
 * members cut off by `size`), its exec result layout. */
void fake_host_as_minor(struct fake_host *fh, unsigned minor);

/* End table `table` (a member of struct fake_host) just before `member`. */
#define FAKE_HOST_CUT(fh, table, type, member) \
	((fh)->table.size = (uint32_t)offsetof(type, member))

#endif /* DMF_TESTS_FAKE_HOST_H */
