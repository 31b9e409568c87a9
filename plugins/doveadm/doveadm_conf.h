/*
 * doveadm_conf.h - the doveadm job worker's per-source configuration
 * (dmf.doveadm.source.<name>, spec sections 2.2.12 and 3), its retry
 * policy (spec 3.10, 3.12) and the parser of `doveadm -f tab mailbox
 * status "messages vsize" ...` output (spec 3.11).  See docs/doveadm.md.
 *
 * Resolution: the block of the job's source (under `source` or its plural
 * spelling `sources`) is used whole when present, else the `default`
 * block; keys a block leaves out take the built-in defaults below (blocks
 * are not merged with `default`).  Built-in defaults equal the shipped
 * dmf-worker.yml, including retry.code-max {134: 2, 75: 4} and
 * retry.code-sleep {75: 15000}; a block that sets code-max or code-sleep
 * replaces that map as a whole (`code-max: {}` clears it).
 *
 * Everything here is pure logic: no I/O besides reading the config tree
 * through the host's config table (struct dmf_host_config), and all
 * functions may be called from any thread on distinct objects.
 */
#ifndef DMF_DOVEADM_CONF_H
#define DMF_DOVEADM_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "dmf/host.h"

enum doveadm_phase { DOVEADM_PHASE_SYNC = 0, DOVEADM_PHASE_CUTOVER = 1 };
#define DOVEADM_N_PHASES 2

enum doveadm_durability {
	DOVEADM_DURABLE_JOB = 0, /* syncfs() at the end of the job */
	DOVEADM_DURABLE_DOVECOT = 1, /* the target's own mail_fsync */
};

enum doveadm_remote_protocol {
	DOVEADM_REMOTE_IMAPC = 0,
	DOVEADM_REMOTE_DOVEADM,
	DOVEADM_REMOTE_HTTP,
};

enum doveadm_http_type { DOVEADM_HTTP_DIRECTOR = 0, DOVEADM_HTTP_CLUSTER };

/* The steps failure-flags.<phase>.<step> may turn into job failures
 * (spec 3.14); the migration command itself always can. */
enum doveadm_step {
	DOVEADM_STEP_DIRECTOR_KICK_USER = 0,
	DOVEADM_STEP_DIRECTOR_FLUSH_METACACHE,
	DOVEADM_STEP_DIRECTOR_USE_SOURCEHOST,
	DOVEADM_STEP_DIRECTOR_MOVE_USER,
	DOVEADM_STEP_PRE_MIGRATION_COMMAND,
	DOVEADM_STEP_POST_MIGRATION_COMMAND,
	DOVEADM_STEP_COPY_IMAPC_INBOX,
	DOVEADM_STEP_REMOVE_IMAPC_INBOX,
	DOVEADM_STEP_COUNT_LOCAL_PRE,
	DOVEADM_STEP_COUNT_LOCAL_POST,
	DOVEADM_STEP_COUNT_REMOTE,
	DOVEADM_STEP_FLUSH_METACACHE,
	DOVEADM_STEP_CLEAN_METACACHE,
	DOVEADM_STEP_MOVE_DUPLICATES, /* extension: the IMAP repair (3.2) */
	DOVEADM_N_STEPS
};

/* "director-kick-user", ... (the config key); NULL when out of range. */
const char *doveadm_step_name(enum doveadm_step step);
/* "sync" / "cutover". */
const char *doveadm_phase_name(enum doveadm_phase phase);
/* Parse a job phase: "sync", "pre", "pre-sync", "presync" -> SYNC;
 * "cutover" -> CUTOVER (any case).  0 or -EINVAL. */
int doveadm_phase_parse(const char *text, enum doveadm_phase *phase_r);

/* exit code -> number (retries, or milliseconds) */
struct doveadm_code_map {
	int code;
	long long value;
};

struct doveadm_retry_conf {
	int max; /* retry.max (1) */
	long long sleep_ms; /* retry.sleep (5000) */
	struct doveadm_code_map *code_max; /* retry.code-max */
	size_t n_code_max;
	struct doveadm_code_map *code_sleep; /* retry.code-sleep */
	size_t n_code_sleep;
	bool debug_mode; /* retry.debug-mode (false) */
};

/* The command blocks of one phase; NULL when not configured.  The nodes
 * belong to the host's config tree (build them with host->inject). */
struct doveadm_phase_commands {
	const struct dmf_conf *pre, *sync, *post, *failure;
};

struct doveadm_source_conf {
	char *source; /* the job's source name */
	char *block; /* the block used: its name, "default", or NULL
			     * for built-ins only */

	bool analyze_log; /* true */
	bool move_duplicates; /* false */
	bool copy_imapc_inbox; /* false (alias copy-imaps-inbox) */
	bool remove_imapc_path; /* false (alias remove-imaps-path) */
	struct {
		bool on_success, on_failure;
	} metacache_flush, metacache_clean; /* all false; the legacy
					     * flush-metacache/clean-metacache
					     * true sets on_success */
	bool fetch_container; /* false */
	char *container_file; /* /etc/dovecot/passwd.container */

	struct {
		bool enabled, use_sourcehost, move_user;
		struct {
			bool sync, cutover, wait;
			long long timeout_ms; /* 60s */
			int *wait_accept_codes; /* -1 = all */
			size_t n_wait_accept_codes;
		} kick;
		struct {
			bool sync, cutover;
		} flush_metacache;
	} director;

	struct {
		bool pre, sync, post, remote; /* all true */
		enum doveadm_remote_protocol remote_protocol; /* imapc */
		char **remote_http_mailbox_mask; /* the three masks of spec 3.11.4.3 */
		char *remote_http_socket_path; /* NULL */
		const struct dmf_conf *remote_command; /* NULL */
	} count;

	struct doveadm_retry_conf retry;

	struct {
		bool configured; /* url set */
		enum doveadm_http_type type; /* director */
		char *url, *username, *password, *director_tag;
		char *api_key; /* http.api-key: X-Dovecot-API */
		bool use_only_tagged;
	} http;

	struct {
		char *host, *password;
		int port; /* 24245 */
	} doveadm;

	struct {
		char *host, *prefix, *ssl, *master_user, *master_password;
		int port; /* 0 = not set */
		const struct dmf_conf *session_properties;
	} imapc;

	/* command.inject: name/value pairs (values as text) */
	char **inject_names, **inject_values;
	size_t n_inject;
	struct doveadm_phase_commands commands[DOVEADM_N_PHASES];

	bool failure_flags[DOVEADM_N_PHASES][DOVEADM_N_STEPS];

	/* Extensions (docs/doveadm.md): `-o` settings added to the default
	 * migration command (sync-settings; default: the two speed settings
	 * DOVEADM_DEFAULT_SYNC_SETTINGS), and the owner given to the copied
	 * imapc INBOX (imapc-inbox-owner, default vmail:vmail). */
	char **sync_settings;
	long long sync_lock_ms; /* dsync -l (rounded up to seconds), 60s;
				 * 0 = no lock */
	char *imapc_inbox_owner;
	/* durability (extension, docs/doveadm.md): `job` (default) runs the
	 * migration command with mail_fsync=never and syncfs()es the user's
	 * filesystems after it; `dovecot` keeps the target's mail_fsync. */
	enum doveadm_durability durability;
	/* The block node itself (NULL: built-ins only), for inject. */
	const struct dmf_conf *node;
};

/* Measured on the rig (docs/doveadm.md): 1.9x faster full syncs. */
#define DOVEADM_DEFAULT_SYNC_SETTINGS                       \
	{                                                   \
		"imapc_features=rfc822.size fetch-headers", \
			"mail_prefetch_count=20", NULL      \
	}
#define DOVEADM_DEFAULT_INBOX_OWNER "vmail:vmail"

/*
 * Fill *conf_r from `block` (NULL: built-in defaults only), read through
 * `hc`.  `source` is the job's source name (copied).  On a bad value
 * returns -EINVAL and sets *error_r to an allocated "FILE:LINE:COLUMN: key
 * 'dmf.doveadm.source.X.k': what is wrong" (the caller frees it); *conf_r
 * is then not written.  -ENOMEM on out of memory (*error_r set when
 * possible).
 */
int doveadm_conf_parse(const struct dmf_host_config *hc,
		       const struct dmf_conf *block, const char *source,
		       struct doveadm_source_conf **conf_r, char **error_r);
/* hc->source(source) (source.<name>, else source.default; the loader
 * renames `sources`) + doveadm_conf_parse(). */
int doveadm_conf_load(const struct dmf_host_config *hc, const char *source,
		      struct doveadm_source_conf **conf_r, char **error_r);
/* Frees a NULL-terminated string array (NULL allowed); sets it to NULL. */
void doveadm_strv_free(char ***v);
/* Frees *conf (NULL allowed), wiping the passwords; sets *conf to NULL. */
void doveadm_conf_free(struct doveadm_source_conf **conf);

/* ------------------------------------------------------ retry policy --- */

/* The extra doveadm arguments a retry needs (sticky within one job). */
#define DOVEADM_PARALLEL_WRITES_OPTION "plugin/obox_max_parallel_writes=1"

/* Default bound for cutover re-runs on exit code 2 (code-max.2 overrides) */
#define DOVEADM_CUTOVER_RERUN_MAX 10

/* Findings of the attempt that just ended (from the analyzer). */
struct doveadm_attempt_result {
	int exit_code; /* -1: killed by a signal / not run */
	bool storage_timeout;
	bool parallel_writes_timeout;
	size_t new_duplicates; /* duplicate UIDs first seen in the attempt */
};

/* What the worker carries from attempt to attempt of one job. */
struct doveadm_retry_state {
	unsigned attempts; /* attempts made so far */
	unsigned retries; /* failure retries made (not exit-2 re-runs) */
	unsigned reruns; /* cutover exit-2 re-runs made */
	bool parallel_writes_1; /* add -o plugin/obox_max_parallel_writes=1 */
	bool debug; /* run the next attempt with -D */
};

enum doveadm_verdict {
	DOVEADM_DONE_OK = 0, /* success: stop */
	DOVEADM_RETRY, /* run again after sleep_ms */
	DOVEADM_DONE_FAILED, /* failure: stop (run the failure command) */
};

struct doveadm_retry_decision {
	enum doveadm_verdict verdict;
	long long sleep_ms;
	bool move_duplicates; /* fix duplicates at the source before retry */
	const char *reason; /* static text for the log */
};

/*
 * Decide after an attempt.  Exit 0 is success.  Exit 2 ("changed during
 * sync") is success in the sync phase and re-runs at once in the cutover
 * phase until 0 (at most code-max.2, else DOVEADM_CUTOVER_RERUN_MAX).
 * Other codes retry while retries < code-max.<code> (or retry.max), except
 * 64, 67, 77 and 78 (usage, unknown user, permission, configuration),
 * which only retry when code-max lists them.  Updates *st: attempts,
 * retries/reruns, and the sticky parallel-writes / one-shot debug flags
 * for the next attempt (debug only when retry.debug-mode is set and a
 * storage timeout was seen).  `move_duplicates_enabled` is the config's
 * move-duplicates (with analyze-log).
 */
void doveadm_retry_decide(const struct doveadm_retry_conf *rc,
			  enum doveadm_phase phase,
			  bool move_duplicates_enabled,
			  const struct doveadm_attempt_result *res,
			  struct doveadm_retry_state *st,
			  struct doveadm_retry_decision *d_r);

/* code-max.<code> (or retry.max) and code-sleep.<code> (or retry.sleep). */
int doveadm_retry_max_for(const struct doveadm_retry_conf *rc, int code);
long long doveadm_retry_sleep_for(const struct doveadm_retry_conf *rc,
				  int code);

/*
 * The extra arguments for the next attempt per *st, as a NULL-terminated
 * array of static strings to put before the sub-command: "-D" and/or
 * "-o" DOVEADM_PARALLEL_WRITES_OPTION.  `out` must hold 4 pointers.
 * Returns the number of arguments written.
 */
size_t doveadm_retry_extra_args(const struct doveadm_retry_state *st,
				const char *out[4]);

/* ------------------------------------------------ mailbox status count --- */

/*
 * Streaming parser of `doveadm -f tab mailbox status "messages vsize" ...`
 * stdout: a header line naming the columns (with several mailboxes a
 * "mailbox" column comes first), then one row per mailbox.  Columns are
 * found by name; rows are summed.  Rows that are not numeric where they
 * must be are counted in bad_rows and skipped.
 */
struct doveadm_count_parser {
	int col_messages, col_vsize; /* -1 until the header is seen */
	bool header_seen;
	unsigned long long messages, vsize;
	size_t rows, bad_rows;
};

void doveadm_count_init(struct doveadm_count_parser *p);
void doveadm_count_feed_line(struct doveadm_count_parser *p, const char *line,
			     size_t len);
/*
 * The result once the command exited with `exit_code`.  Success: exit 0,
 * or exit 68 (a listed mailbox vanished, see DESIGN.md section 4) with a
 * header and at least one row.  An exit 0 without output counts as an
 * empty mailbox (0, 0).  On failure returns -EINVAL with *error_r a static
 * message; the counts are not written.
 */
int doveadm_count_finish(const struct doveadm_count_parser *p, int exit_code,
			 unsigned long long *messages_r,
			 unsigned long long *vsize_r, const char **error_r);

#endif /* DMF_DOVEADM_CONF_H */
