/*
 * dmf/plugin.h - the job-worker plugin ABI of dmf-worker.
 *
 * A plugin is a shared object that exports exactly one data symbol,
 * dmf_plugin_v<MAJOR>, declared through DMF_PLUGIN_DEFINE().  The daemon
 * loads the plugin named by `dmf.worker.type` from `dmf.worker.plugin-dir`,
 * checks the descriptor, calls init() once with the host's service tables,
 * run() once per job (from several worker threads at the same time) and
 * fini() once at shutdown.
 *
 * Load rule (checked by the daemon, each refusal logged on its own line):
 *   magic == DMF_PLUGIN_MAGIC, abi_major == host major, abi_minor <= host
 *   minor, size >= DMF_PLUGIN_MIN_SIZE, name == dmf.worker.type, init, run
 *   and fini are non-NULL.
 *
 * Versioning: appending a member to a service table, to struct dmf_host or
 * to a struct that starts with its own `size` (dmf_exec_options,
 * dmf_exec_result) bumps DMF_ABI_MINOR; any other change bumps
 * DMF_ABI_MAJOR and with it the name of the exported symbol.  A plugin
 * built against minor N runs on every host with minor >= N.  Members newer
 * than the minor a plugin was built against must be guarded with DMF_HAS(),
 * which is also false when the table itself is NULL.
 *
 * Changelog of DMF_ABI_MINOR (major 1):
 *   0  log, config, job and response tables.
 *   1  exec, inject and crypto tables (struct dmf_host members appended).
 *   2  db table (sourcehost lookup, job field lookup; struct dmf_host
 *      member appended).
 *   3  struct dmf_exec_result starts with `size`: the plugin sets it, the
 *      host writes at most that many bytes (to a plugin built for minor
 *      <= 2 the host writes the 1.2 layout, which has no size).
 *      crypto->wipe(): wipe memory without linking OpenSSL.  DMF_MDB_*
 *      names of the job properties.  _Static_asserts freeze the offsets
 *      of the first four descriptor members.  (DMF_HAS() tests the table
 *      pointer too; dmf/text.h: header-only helpers, no ABI.)
 *   4  metrics table (struct dmf_host member appended): plugin counters
 *      and gauges, and progress() for a running job's totals.
 *      job->set_property(): a property for the rest of the job (the
 *      doveadm worker's %{mdb:container}).  http table (struct dmf_host
 *      member appended): the doveadm HTTP API client.  imap table
 *      (struct dmf_host member appended): move UIDs at the source.
 *      exec->sync_filesystems(): stat/statfs and syncfs() of the
 *      filesystems holding a list of paths, with per-path results
 *      (struct dmf_fs_sync_result, DMF_FS_STAT_ONLY).
 *   5  imap->mailbox_utf8(): the UTF-8 form of a modified UTF-7 mailbox
 *      name (Dovecot's imapc log lines name mailboxes so); move_uids()
 *      sends its UTF-8 names as modified UTF-7.
 */
#ifndef DMF_PLUGIN_H
#define DMF_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "dmf/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "DMFP" in ASCII: the first four bytes of every descriptor. */
#define DMF_PLUGIN_MAGIC 0x444d4650u
#define DMF_ABI_MAJOR 1
#define DMF_ABI_MINOR 5

/*
 * The plugin descriptor.  The first four members are frozen forever, across
 * all majors, so that any host can read them from any plugin.
 */
struct dmf_plugin {
	uint32_t magic; /* DMF_PLUGIN_MAGIC */
	uint16_t abi_major; /* DMF_ABI_MAJOR the plugin was built with */
	uint16_t abi_minor; /* DMF_ABI_MINOR the plugin was built with */
	uint32_t size; /* sizeof(struct dmf_plugin) at build time */

	/* The worker type this plugin implements; must equal dmf.worker.type
	 * and match ^[a-z0-9_]{1,32}$. */
	const char *name;
	/* Free-form version string of the plugin, shown in logs and /info. */
	const char *version;

	/*
	 * Called once, from the main thread, before any job runs.  `host` stays
	 * valid until fini() returns.  Store per-plugin state in *ctx_r.
	 * Return 0 on success; on failure return a negative errno value and set
	 * *error_r to a static or ctx-owned message: the daemon logs it and
	 * exits non-zero.
	 */
	int (*init)(const struct dmf_host *host, void **ctx_r,
		    const char **error_r);

	/*
	 * Process one job.  Called from worker threads, possibly many at once
	 * with the same ctx, so it must be thread-safe.  The outcome is reported
	 * through host->response (status, error, details, counts); if run()
	 * returns without setting a status the job is a FAILURE.  The return
	 * value is 0, or a negative errno when the plugin itself broke (the job
	 * then fails with that error).  run() should return promptly once
	 * host->job->aborted(job) becomes true.
	 */
	int (*run)(void *ctx, struct dmf_job *job);

	/* Called once, from the main thread, after the last run() returned. */
	void (*fini)(void *ctx);
};

/*
 * Compile-time checks.  The offsets of magic, abi_major, abi_minor and size
 * are frozen across all majors: any host reads them from any plugin.
 */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define DMF_STATIC_ASSERT_(name, cond, msg) static_assert(cond, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define DMF_STATIC_ASSERT_(name, cond, msg) _Static_assert(cond, msg)
#else /* C99, C++98: a negative array size fails the build */
#define DMF_STATIC_ASSERT_(name, cond, msg) \
	typedef char dmf_static_assert_##name[(cond) ? 1 : -1]
#endif
DMF_STATIC_ASSERT_(magic, offsetof(struct dmf_plugin, magic) == 0,
		   "dmf_plugin.magic is frozen at offset 0");
DMF_STATIC_ASSERT_(abi_major, offsetof(struct dmf_plugin, abi_major) == 4,
		   "dmf_plugin.abi_major is frozen at offset 4");
DMF_STATIC_ASSERT_(abi_minor, offsetof(struct dmf_plugin, abi_minor) == 6,
		   "dmf_plugin.abi_minor is frozen at offset 6");
DMF_STATIC_ASSERT_(size, offsetof(struct dmf_plugin, size) == 8,
		   "dmf_plugin.size is frozen at offset 8");

/* The smallest descriptor (the ABI 1.0 layout) the daemon accepts. */
#define DMF_PLUGIN_MIN_SIZE \
	(offsetof(struct dmf_plugin, fini) + sizeof(void (*)(void *)))

#define DMF_PLUGIN_SYMBOL_(major) dmf_plugin_v##major
#define DMF_PLUGIN_SYMBOL_X_(major) DMF_PLUGIN_SYMBOL_(major)
/* The name of the one exported symbol: dmf_plugin_v1 for major 1. */
#define DMF_PLUGIN_SYMBOL DMF_PLUGIN_SYMBOL_X_(DMF_ABI_MAJOR)
#define DMF_PLUGIN_STR_(x) #x
#define DMF_PLUGIN_STR_X_(x) DMF_PLUGIN_STR_(x)
/* The symbol name as a string, for dlsym(). */
#define DMF_PLUGIN_SYMBOL_NAME "dmf_plugin_v" DMF_PLUGIN_STR_X_(DMF_ABI_MAJOR)

#if defined(__GNUC__)
#define DMF_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define DMF_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
#define DMF_PLUGIN_EXTERN_ extern "C"
#else
#define DMF_PLUGIN_EXTERN_ extern
#endif

/*
 * Declare the plugin.  Use exactly once per plugin, at file scope:
 *
 *   DMF_PLUGIN_DEFINE("simulator", "1.0.0", sim_init, sim_run, sim_fini);
 */
#define DMF_PLUGIN_DEFINE(name_, version_, init_, run_, fini_)         \
	DMF_PLUGIN_EXTERN_ DMF_PLUGIN_EXPORT const struct dmf_plugin   \
		DMF_PLUGIN_SYMBOL;                                     \
	const struct dmf_plugin DMF_PLUGIN_SYMBOL = {                  \
		DMF_PLUGIN_MAGIC, DMF_ABI_MAJOR,                       \
		DMF_ABI_MINOR,	  (uint32_t)sizeof(struct dmf_plugin), \
		(name_),	  (version_),                          \
		(init_),	  (run_),                              \
		(fini_)                                                \
	}

#ifdef __cplusplus
}
#endif

#endif /* DMF_PLUGIN_H */
