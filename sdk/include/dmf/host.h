/*
 * dmf/host.h - the services the daemon hands to a job-worker plugin.
 *
 * The plugin receives `const struct dmf_host *` in init().  Every service
 * table starts with its own size so that members appended in later ABI
 * minors can be detected with DMF_HAS().  All tables and all functions in
 * them are owned by the daemon, stay valid until the plugin's fini()
 * returns, and may be called from any thread unless stated otherwise.
 *
 * Strings returned by the host are owned by the host.  Strings the plugin
 * passes in are copied when the host keeps them.
 */
#ifndef DMF_HOST_H
#define DMF_HOST_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One migration job, owned by the daemon; valid for the duration of run(). */
struct dmf_job;
/* One node of the effective configuration tree, owned by the daemon. */
struct dmf_conf;

#if defined(__GNUC__)
#define DMF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define DMF_PRINTF(fmt, args)
#endif

/*
 * True when the table `tbl` of type `type` is present (not NULL) and holds
 * `member`.  Guard every member newer than the ABI minor the plugin was
 * built for, and every table newer than it (test the table's member of
 * struct dmf_host first: DMF_HAS(struct dmf_host, host, crypto)).
 */
#define DMF_HAS(type, tbl, member) \
	((tbl) != NULL &&          \
	 (tbl)->size >= offsetof(type, member) + sizeof(((type *)0)->member))

/* ---------------------------------------------------------------- log --- */

enum dmf_log_level {
	DMF_LOG_DEBUG = 0,
	DMF_LOG_INFO = 1,
	DMF_LOG_WARN = 2,
	DMF_LOG_ERROR = 3
};

struct dmf_host_log {
	uint32_t size;
	/* Write one log line at `level`.  When `job` is not NULL the line
	 * carries the job's id and user.  Never pass secrets. */
	void (*log)(enum dmf_log_level level, const struct dmf_job *job,
		    const char *fmt, ...) DMF_PRINTF(3, 4);
	/* Non-zero when lines at `level` are written. */
	int (*enabled)(enum dmf_log_level level);
};

/* ------------------------------------------------------------- config --- */

enum dmf_conf_kind {
	DMF_CONF_NULL = 0, /* key present without a value */
	DMF_CONF_SCALAR = 1, /* a string, number or boolean */
	DMF_CONF_MAP = 2,
	DMF_CONF_LIST = 3
};

/*
 * Read access to the effective configuration (the file merged with the
 * environment).  Paths are dotted (`retry.code-max`) and relative to
 * `base`; a NULL base means the root of the whole configuration.
 *
 * The typed getters return 0 and store the value (or `def` when the key is
 * absent or null).  They return -EINVAL when the value has the wrong type
 * and then set *error_r to a message naming the file, line, column and key;
 * error messages stay valid until the next call into this table from the
 * same thread.  Value strings stay valid until fini().
 */
struct dmf_host_config {
	uint32_t size;
	/* The plugin's own subtree, `dmf.<type>`, or NULL when absent. */
	const struct dmf_conf *(*plugin_root)(void);
	/*
	 * The plugin's block for one source: `dmf.<type>.source.<source>` (or
	 * `dmf.<type>.sources.<source>`), else the `default` block under the
	 * same key, else NULL.  A source's block replaces `default` as a whole.
	 */
	const struct dmf_conf *(*source)(const char *source);
	/* The node at `path` below `base`, or NULL when absent. */
	const struct dmf_conf *(*get)(const struct dmf_conf *base,
				      const char *path);
	int (*get_string)(const struct dmf_conf *base, const char *path,
			  const char *def, const char **value_r,
			  const char **error_r);
	int (*get_int)(const struct dmf_conf *base, const char *path,
		       long long def, long long *value_r, const char **error_r);
	int (*get_bool)(const struct dmf_conf *base, const char *path, int def,
			int *value_r, const char **error_r);
	/* Durations: `5s`, `1m`, `250ms`, plain milliseconds, or ISO-8601
	 * `PT1M`.  The value is returned in milliseconds. */
	int (*get_duration_ms)(const struct dmf_conf *base, const char *path,
			       long long def, long long *ms_r,
			       const char **error_r);
	/* Tree walking.  kind() of NULL is DMF_CONF_NULL. */
	enum dmf_conf_kind (*kind)(const struct dmf_conf *node);
	/* The text of a scalar, NULL for other kinds. */
	const char *(*scalar)(const struct dmf_conf *node);
	/* Number of entries of a map or list, 0 for other kinds. */
	size_t (*count)(const struct dmf_conf *node);
	/* Entry `i` of a map or list, NULL when out of range. */
	const struct dmf_conf *(*child)(const struct dmf_conf *node, size_t i);
	/* The key of a map entry, NULL for list items and the root. */
	const char *(*key)(const struct dmf_conf *node);
	/* "file:line:column" of the node (or "environment VAR"), for error
	 * messages; valid until the next call from the same thread. */
	const char *(*origin)(const struct dmf_conf *node);
};

/* ---------------------------------------------------------------- job --- */

/*
 * The names of the job properties (ABI 1.3 constants; the names themselves
 * are those of every earlier minor).  The database poller derives them
 * from the job's row (docs/schema.md); `%{mdb:NAME}` (inject table) takes
 * the names marked "mdb:".  A property the row has no value for is absent
 * (property() returns NULL; `%{mdb:NAME}` gives "").  Other pollers (the
 * simulator) set fewer.
 */
#define DMF_MDB_UID "uid" /* mdb: the mailbox's user */
#define DMF_MDB_RUID "ruid" /* mdb: remote user; defaults to uid */
#define DMF_MDB_EMAIL "email" /* mdb: */
#define DMF_MDB_SOURCE "source" /* mdb: the DMF source (platform) */
#define DMF_MDB_TARGET "target" /* the DMF target */
#define DMF_MDB_PHASE "phase" /* "sync" or "cutover" */
#define DMF_MDB_PRIORITY "priority" /* the row's priority, decimal */
#define DMF_MDB_MD5PATH "md5path" /* mdb: "<h0h1>/<h2h3>/<uid>", h = MD5 */
#define DMF_MDB_2CHRRUID "2chrruid" /* mdb: first two characters of ruid */
#define DMF_MDB_IMAPOPTIONS "imapoptions" /* mdb: */
#define DMF_MDB_EXCLUDE "exclude" /* mdb: */
#define DMF_MDB_SUBMITTED "submitted" /* when the job was submitted */
#define DMF_MDB_SOURCEHOST "sourcehost" /* mdb: the sourcehost's address */
#define DMF_MDB_SOURCEHOSTNAME "sourcehostname" /* the row's sourcehost */
#define DMF_MDB_SOURCEHOSTCOMMANDS "sourcehostcommands" /* its JSON */
#define DMF_MDB_SOURCEPORT "sourceport" /* mdb: row's, else sourcehost's */
#define DMF_MDB_IMAPC_SSL "imapc_ssl" /* mdb: row's, else sourcehost's */
#define DMF_MDB_SOURCEPASSWD "sourcepasswd" /* mdb: unwrapped; a secret */
/* mdb: not from the row: the doveadm worker's fetch-container lookup, and
 * the director lookup (not supported yet: always empty) */
#define DMF_MDB_CONTAINER "container"
#define DMF_MDB_DIRECTOR_SOURCEHOST "directorSourcehost"

/*
 * The job being run.  Properties are named by the DMF_MDB_* constants
 * above.
 */
struct dmf_host_job {
	uint32_t size;
	/* The job's id as text. */
	const char *(*id)(const struct dmf_job *job);
	/* "sync" or "cutover". */
	const char *(*phase)(const struct dmf_job *job);
	/* The DMF source (platform) the mailbox comes from. */
	const char *(*source)(const struct dmf_job *job);
	/* The DMF target this worker belongs to. */
	const char *(*target)(const struct dmf_job *job);
	/* The property `name`, or NULL when the job does not have it. */
	const char *(*property)(const struct dmf_job *job, const char *name);
	/* Number of properties, and the name of property `i`. */
	size_t (*property_count)(const struct dmf_job *job);
	const char *(*property_name)(const struct dmf_job *job, size_t i);
	/* Non-zero when the property holds a secret (never log it). */
	int (*property_is_secret)(const struct dmf_job *job, const char *name);
	/* How many times this job has been started, this run included (>= 1). */
	unsigned (*attempt)(const struct dmf_job *job);
	/* Non-zero once the daemon asked the job to stop (shutdown, lost
	 * lease); run() should then return as soon as it can. */
	int (*aborted)(const struct dmf_job *job);
	/* Sleep up to `ms` milliseconds; returns 0 after the full sleep or
	 * -ECANCELED as soon as the job is aborted. */
	int (*sleep_ms)(const struct dmf_job *job, unsigned long long ms);
	/* A file descriptor that becomes readable when the job is aborted, for
	 * poll(); owned by the daemon, never close or read it. */
	int (*abort_fd)(const struct dmf_job *job);
	/* 1.4 */
	/*
	 * Set (or replace) the property `name` for the rest of the job: every
	 * later property(), %{mdb:NAME} expansion (inject) and command of the
	 * job sees it.  Only names the job row does not supply may be set
	 * (DMF_MDB_CONTAINER, DMF_MDB_DIRECTOR_SOURCEHOST, or a name that is
	 * no DMF_MDB_* one): a row property gives -EPERM.  `secret` non-zero
	 * hides the value like a password.  Replacing a property frees the
	 * value an earlier property() of that name returned.  0, -EINVAL (bad
	 * name or value), -EPERM or -ENOMEM.  Call from the job's thread.
	 */
	int (*set_property)(struct dmf_job *job, const char *name,
			    const char *value, int secret);
};

/* --------------------------------------------------------- response --- */

enum dmf_job_status {
	DMF_STATUS_NONE = 0, /* not set yet: the job fails */
	DMF_STATUS_SUCCESS = 1,
	DMF_STATUS_FAILURE = 2
};

/* The counts stored with the job's result (spec 3.11). */
enum dmf_count {
	DMF_COUNT_SYNC_SAVED = 0,
	DMF_COUNT_SYNC_EXPUNGED = 1,
	DMF_COUNT_TARGET_MESSAGES = 2,
	DMF_COUNT_TARGET_SIZE = 3,
	DMF_COUNT_ORIGIN_MESSAGES = 4,
	DMF_COUNT_ORIGIN_SIZE = 5,
	DMF_COUNT_MAX_ = 6
};

/*
 * Building the job's result.  Only call from the thread running the job.
 */
struct dmf_host_response {
	uint32_t size;
	void (*set_status)(struct dmf_job *job, enum dmf_job_status status);
	/* Set the job's one-line error text (replaces an earlier one). */
	void (*set_error)(struct dmf_job *job, const char *fmt, ...)
		DMF_PRINTF(2, 3);
	/*
	 * Append one entry `{"<operation>": <json_object>}` to the job's
	 * details array (spec 3.16).  `json_object` is the text of a JSON
	 * object.  Returns 0, or -EINVAL when it is not a JSON object.
	 */
	int (*add_detail)(struct dmf_job *job, const char *operation,
			  const char *json_object);
	/* Store one of the job's counts. */
	void (*set_count)(struct dmf_job *job, enum dmf_count which,
			  long long value);
};

/* --------------------------------------------------------------- exec --- */

/* Which output stream of a child a line came from. */
enum dmf_exec_stream { DMF_EXEC_STDOUT = 1, DMF_EXEC_STDERR = 2 };

/*
 * Receives one line of a child's output, without its line end, on the
 * thread that called run().  `line` is NUL-terminated, valid only during
 * the call, and has the job's known secrets replaced by `<hidden>`.  A line
 * longer than 64 KiB arrives in pieces of at most 64 KiB.
 */
typedef void (*dmf_exec_line_fn)(void *ctx, enum dmf_exec_stream stream,
				 const char *line, size_t len);

/* Do not write this command's output to the command log. */
#define DMF_EXEC_NO_COMMAND_LOG 0x1u

/*
 * Options of one run.  Zero-initialize, then set `size` to
 * sizeof(struct dmf_exec_options); members past `size` count as zero.
 */
struct dmf_exec_options {
	uint32_t size;
	/* The child's environment, NULL-terminated "NAME=value" strings;
	 * NULL gives the daemon's environment filtered: PATH, HOME, USER,
	 * LOGNAME, SHELL, TMPDIR, TZ, TERM, LANG, LANGUAGE, LC_* and the names
	 * in dmf.worker.command.environment.pass (never its configuration
	 * variables, which may hold secrets). */
	const char *const *envp;
	/* Bytes written to the child's stdin, which is then closed; NULL gives
	 * /dev/null as stdin. */
	const void *stdin_data;
	size_t stdin_len;
	/* Kill the child's process group after this many ms; 0 = no limit. */
	long long timeout_ms;
	/* Called for every output line (may be NULL). */
	dmf_exec_line_fn on_line;
	void *line_ctx;
	/* The command as it may be shown (passwords already `<hidden>`), for
	 * the worker log and the command log.  NULL: built from argv, quoted,
	 * with the job's known secrets hidden. */
	const char *display;
	/* A short name of the step ("sync", "pre", "count-remote"), shown in
	 * the command log; may be NULL. */
	const char *step;
	unsigned flags; /* DMF_EXEC_* */
};

/*
 * How a command ended.  Set `size` to sizeof(struct dmf_exec_result) before
 * calling exec->run(): the host writes at most `size` bytes (members it
 * does not know stay as they were) and leaves `size` alone.  (Built for
 * ABI minor <= 2 the struct had no `size`; the host writes that layout to
 * such plugins.)
 */
struct dmf_exec_result {
	uint32_t size; /* ABI 1.3 */
	int exit_code; /* 0..255 when the command exited, else -1 */
	int signal; /* the signal that ended it, else 0 */
	int timed_out; /* non-zero: killed because timeout_ms passed */
	int aborted; /* non-zero: killed because the job was aborted */
	long long duration_ms;
	unsigned long long output_bytes; /* stdout + stderr */
};

/*
 * ABI 1.4: the outcome of exec->sync_filesystems() for one path.
 */
struct dmf_fs_sync_result {
	/* 0, or the negative errno of the first call that failed for this
	 * path (stat, statfs, open or syncfs); `failed_call` names it. */
	int error;
	const char *failed_call; /* "stat", "statfs", "open", "syncfs" */
	/* The path that was looked at: the given one, or its nearest
	 * existing parent when it does not exist (yet).  Owned by the host,
	 * valid until the next call from the same thread. */
	const char *used_path;
	unsigned long long dev; /* st_dev of used_path */
	unsigned long long fs_type; /* statfs() f_type of used_path */
	/* The filesystem's name ("ext2/ext3/ext4", "xfs", "nfs", "fuse",
	 * ...; "unknown" for a type the host does not know); static. */
	const char *fs_name;
	/* Non-zero when syncfs() on this filesystem is a durability
	 * guarantee: a known local disk filesystem, not NFS, FUSE, CIFS/SMB,
	 * 9p, Ceph or another network or userspace filesystem. */
	int trusted;
	/* Non-zero for the path whose syncfs() ran for its filesystem (the
	 * first path of each distinct st_dev; later ones share its outcome). */
	int synced;
	long long duration_ms; /* time of the syncfs() (0 when not run) */
};

/* exec->sync_filesystems(): only stat and statfs, no syncfs(). */
#define DMF_FS_STAT_ONLY 0x1u

/*
 * Running commands.  Plugins never fork themselves.
 */
struct dmf_host_exec {
	uint32_t size;
	/*
	 * Run argv[0] (looked up in PATH when it has no '/') with argv, never
	 * through a shell, in its own process group, with no descriptors but
	 * 0, 1 and 2.  Blocks the calling thread until the command ends; its
	 * output goes line by line to options->on_line and to the job's
	 * command log (dmf.worker.command.logging).  The whole process group
	 * is killed with SIGKILL when the timeout passes, when the job is
	 * aborted, and when the command exits (so that nothing it started
	 * outlives it).  `options` may be NULL.
	 *
	 * Returns 0 when the command ran, whatever its exit status, and fills
	 * *result_r (result_r->size must be set, see struct dmf_exec_result:
	 * a size below the ABI 1.3 struct gives -EINVAL and runs nothing);
	 * a negative errno when it could not be started, with
	 * *error_r set ("cannot run 'x': No such file or directory"), valid
	 * until the next call from the same thread.  Call from the thread
	 * running `job` only.
	 */
	int (*run)(struct dmf_job *job, const char *const *argv,
		   const struct dmf_exec_options *options,
		   struct dmf_exec_result *result_r, const char **error_r);
	/* 1.4 */
	/*
	 * Make the filesystems holding `paths` durable: for each of the `n`
	 * absolute paths (a path that does not exist stands for its nearest
	 * existing parent) stat() and statfs() it, then syncfs() each
	 * distinct filesystem (st_dev) once, in the order of the paths.  With
	 * DMF_FS_STAT_ONLY in `flags` nothing is synced (a check of where
	 * the paths live).  results_r[i] gets the outcome for paths[i].
	 * Returns 0 when every path was looked at and every syncfs() done
	 * succeeded, -EIO when one path failed (see its result), -EINVAL on
	 * a relative path or n == 0 (with *error_r).  Call from the thread
	 * running `job`.
	 *
	 * Test hooks (environment of the daemon, for tests only):
	 * DMF_TEST_FS_TYPE=0xHEX replaces the f_type statfs() reports for
	 * every path; DMF_TEST_SYNCFS_ERROR=NAME|NUMBER (an errno such as
	 * EIO) makes every syncfs() fail with it after it ran.
	 */
	int (*sync_filesystems)(struct dmf_job *job, const char *const *paths,
				size_t n, unsigned flags,
				struct dmf_fs_sync_result *results_r,
				const char **error_r);
};

/* The struct dmf_exec_result of ABI 1.0 to 1.2 (no size): what a host of
 * those minors writes, and what a 1.3 host writes to plugins built for
 * them. */
struct dmf_exec_result_1_2 {
	int exit_code;
	int signal;
	int timed_out;
	int aborted;
	long long duration_ms;
	unsigned long long output_bytes;
};

/* Plugins call exec->run() through dmf_exec_run() (end of this file). */

/* ------------------------------------------------------------- inject --- */

/*
 * A command built from a configured definition, owned by the host; free it
 * with inject->command_free() (which wipes it: argv may hold passwords).
 */
struct dmf_command {
	char **argv; /* NULL-terminated, placeholders replaced */
	size_t argc;
	char *display; /* one line, shell-quoted, passwords `<hidden>` */
};

/*
 * Property injection (spec 3.13.1) and commands from their configured
 * definitions (docs/commands.md).  `source_conf` is the plugin's block for
 * the job's source (config->source()); it supplies `imapc.*` and
 * `command.inject.*` for `%{conf:NAME}`; the job supplies `%{mdb:NAME}`.
 * An unknown name or a malformed placeholder is an error (-EINVAL) whose
 * message names it; *error_r stays valid until the next call from the same
 * thread.  Outputs are not written on failure.
 */
struct dmf_host_inject {
	uint32_t size;
	/*
	 * Replace the placeholders in `text`.  *value_r gets the result,
	 * *display_r (when not NULL) the same with secret values `<hidden>`;
	 * free both with free_string().
	 */
	int (*expand)(const struct dmf_job *job,
		      const struct dmf_conf *source_conf, const char *text,
		      char **value_r, char **display_r, const char **error_r);
	/* Build argv and its display form from a command definition node
	 * (name, flags, options, arguments, sub-command). */
	int (*build)(const struct dmf_job *job,
		     const struct dmf_conf *source_conf,
		     const struct dmf_conf *definition,
		     struct dmf_command **command_r, const char **error_r);
	/* Wipe and free a command; NULL is fine. */
	void (*command_free)(struct dmf_command **command);
	/* A copy of `text` with every secret known for the job (secret job
	 * properties, imapc.master-password, password-like inject values)
	 * replaced by `<hidden>`; NULL on out of memory.  Free with
	 * free_string(). */
	char *(*redact)(const struct dmf_job *job,
			const struct dmf_conf *source_conf, const char *text);
	/* Wipe and free a string returned by this table; NULL is fine. */
	void (*free_string)(char **s);
};

/* ------------------------------------------------------------- crypto --- */

/*
 * The storage keys of dmf.worker.crypto.storageKeys (spec 2.2.9) and
 * password unwrapping (docs/crypto.md).  Plugins never touch OpenSSL (nor
 * link it: wipe() is here for that).
 */
struct dmf_host_crypto {
	uint32_t size;
	/*
	 * Unwrap a stored password: `key_name` names a storage key, `iv` and
	 * `ciphertext` are the base64 texts stored with the job.  On success
	 * *password_r is an allocated NUL-terminated string: free it with
	 * free_secret() as soon as it was used.  Errors (-ENOKEY unknown key,
	 * -EBADMSG tampered or wrong key, -EINVAL bad encoding, ...) set
	 * *error_r to a message valid until the next call from the same
	 * thread.
	 */
	int (*unwrap_password)(const char *key_name, const char *iv,
			       const char *ciphertext, char **password_r,
			       const char **error_r);
	/* Wipe and free a secret; NULL is fine. */
	void (*free_secret)(char **secret);
	/* ABI 1.3: overwrite `len` bytes at `p` with zeros in a way the
	 * compiler cannot drop (for secrets a plugin holds).  Any thread. */
	void (*wipe)(void *p, size_t len);
};

/* ----------------------------------------------------------------- db --- */

/* A sourcehost of the Migration Database (dmfctl sourcehost add). */
struct dmf_sourcehost {
	const char *name; /* the name jobs refer to */
	const char *host; /* address to connect to */
	unsigned port; /* IMAP port */
	const char *ssl; /* "no", "imaps" or "starttls" */
	const char *commands; /* JSON object of per-phase commands (keys such
			       * as "sync", "cutover", "status"), or NULL */
};

/*
 * The narrow Migration Database operations a plugin may need (ABI 1.2).
 * No raw SQL: each call is one indexed lookup on the daemon's pool.
 * Results are allocated for the caller and freed with the paired free
 * function.  Thread-safe.  Errors: -ENOENT not found, -ENOTCONN no
 * database (none configured, or unreachable), -ENOMEM, -EINVAL.
 */
struct dmf_host_db {
	uint32_t size;
	/* Look up the sourcehost `name`; on success *sh_r is allocated. */
	int (*sourcehost)(const char *name, struct dmf_sourcehost **sh_r);
	void (*sourcehost_free)(struct dmf_sourcehost **sh);
	/*
	 * Read one field of the job's row as stored now: uid, ruid, email,
	 * sourcehost, sourceport, imapc_ssl, imapoptions, exclude, phase,
	 * priority, status, attempts, rescues, submitted, target, source.
	 * *value_r is allocated (free with value_free); a NULL field gives
	 * -ENOENT.  Other names give -EINVAL.
	 */
	int (*job_field)(const struct dmf_job *job, const char *field,
			 char **value_r);
	void (*value_free)(char **value);
};

/* ------------------------------------------------------------ metrics --- */

/* A metric the plugin registered; owned by the daemon. */
struct dmf_metric;

enum dmf_metric_kind {
	DMF_METRIC_COUNTER = 0, /* only goes up */
	DMF_METRIC_GAUGE = 1 /* set to the value it has now */
};

/*
 * The worker's metrics (ABI 1.4): a plugin registers its own counters and
 * gauges, shown by /metrics and /prometheus next to the daemon's, and
 * reports a running job's progress.
 */
struct dmf_host_metrics {
	uint32_t size;
	/*
	 * Register a metric; call from init() only.  `name` is dotted, lower
	 * case ([a-z][a-z0-9_.]*): the daemon shows it as
	 * "dmf.<type>.<name>" (dmf.doveadm.retries), in Prometheus
	 * dmf_doveadm_retries_total.  `description` and `base_unit`
	 * ("bytes", "seconds"; may be NULL) are copied.  `labels` is a
	 * NULL-terminated list of at most 4 label names
	 * ([a-zA-Z_][a-zA-Z0-9_]*), or NULL: every value of a label makes a
	 * series of its own, so never label by user, mailbox or anything
	 * else without a small bound (the daemon keeps at most 256 series
	 * per metric and drops updates beyond).  Returns the metric, or NULL
	 * with *error_r (static) when the name is taken or malformed, or the
	 * metrics are off (micronaut.metrics.enabled false); the update
	 * functions accept NULL and then do nothing.
	 */
	struct dmf_metric *(*register_metric)(enum dmf_metric_kind kind,
					      const char *name,
					      const char *description,
					      const char *base_unit,
					      const char *const *labels,
					      const char **error_r);
	/* Add n to a counter; `values` holds one value per label, in the
	 * order registered (NULL without labels).  Lock-free; any thread. */
	void (*counter_add)(struct dmf_metric *metric,
			    const char *const *values, unsigned long long n);
	/* Set a gauge.  Any thread. */
	void (*gauge_set)(struct dmf_metric *metric, const char *const *values,
			  double value);
	/*
	 * The running totals of the job so far: messages saved, expunged,
	 * bytes of the saved messages (-1: not known, keeps the earlier
	 * value).  They feed dmf.messages.saved/expunged and
	 * dmf.migrated.bytes at once and are written to the job's row with
	 * the next heartbeat (dmfctl job show: progressSaved ...).  Cheap,
	 * but call it at most about once a second, not per message.  From
	 * the thread running `job` only.
	 */
	void (*progress)(struct dmf_job *job, long long saved,
			 long long expunged, long long bytes);
};

/* --------------------------------------------------------------- http --- */

/* Where one doveadm HTTP API call goes (a source block's `http`). */
struct dmf_http_target {
	uint32_t size; /* sizeof(struct dmf_http_target) */
	const char *url; /* http(s)://host:port[/doveadm/v1]; no path:
			  * /doveadm/v1 is added */
	const char *username; /* Basic auth user; NULL: "doveadm" */
	const char *password; /* Basic auth password, or NULL */
	const char *api_key; /* sent as `Authorization: X-Dovecot-API
			      * <base64>`; wins over the password */
	long long timeout_ms; /* the whole call; 0: the configured
			       * connect-timeout + read-timeout */
};

/*
 * The doveadm HTTP API client (ABI 1.4; core/client/, configured by
 * micronaut.http.services.doveadm: TLS trust store, timeouts).  Connections
 * are kept and reused across calls and jobs.  Credentials are never
 * logged nor put into messages.
 */
struct dmf_host_http {
	uint32_t size;
	/*
	 * POST `[[command, params, "dmf"]]` (params: a JSON object's text,
	 * NULL: {}) to the target.  0: Dovecot answered doveadmResponse;
	 * *result_r is the payload (JSON text, allocated; free_string()).
	 * -EREMOTEIO: Dovecot answered ["error", {"type": "exitCode",
	 * "exitCode": N}]: *exit_code_r = N.  Any other negative errno: the
	 * call failed (-ECONNREFUSED, -ETIMEDOUT, -EACCES for HTTP 401/403,
	 * -EPROTO for another HTTP status or a malformed reply, -EBADMSG for
	 * a TLS certificate that does not verify, -ECANCELED when the job was
	 * aborted).  Except on 0, *error_r is one line (allocated) saying
	 * why.  `job` may be NULL; call from its thread.
	 */
	int (*doveadm)(struct dmf_job *job,
		       const struct dmf_http_target *target,
		       const char *command, const char *params, char **result_r,
		       int *exit_code_r, char **error_r);
	void (*free_string)(char **s);
};

/* --------------------------------------------------------------- imap --- */

/* The source IMAP server and login of one job (its imapc settings). */
struct dmf_imap_target {
	uint32_t size; /* sizeof(struct dmf_imap_target) */
	const char *host;
	const char *port; /* NULL: 143, or 993 with imaps */
	const char *ssl; /* "no", "imaps" or "starttls"; NULL: "no" */
	const char *user; /* the mailbox's user */
	const char *master_user; /* log in as this master user for `user`
				  * (SASL PLAIN authzid), or NULL */
	const char *password; /* the master user's, else the user's */
};

/*
 * An IMAP client for the source (ABI 1.4; core/client/, libcurl's IMAP).
 * Credentials are never logged nor put into messages.
 */
struct dmf_host_imap {
	uint32_t size;
	/*
	 * In `mailbox`, copy the messages of `uid_set` (e.g. "2,7") to the
	 * mailbox `dest` below it (MAILBOX<separator>DEST, created when
	 * missing; the separator is the server's), then flag them \Deleted
	 * and UID EXPUNGE them.  `mailbox` and `dest` are UTF-8; they are
	 * sent as modified UTF-7 (-EILSEQ when they are not UTF-8).  *moved_to_r (allocated, may be NULL) gets
	 * the full name of the destination.  0, or a negative errno with
	 * *error_r one line (allocated).  Call from the job's thread.
	 */
	int (*move_uids)(struct dmf_job *job, const struct dmf_imap_target *t,
			 const char *mailbox, const char *dest,
			 const char *uid_set, char **moved_to_r,
			 char **error_r);
	void (*free_string)(char **s);
	/* ABI 1.5 */
	/*
	 * The UTF-8 form of a mailbox name as IMAP sends it, in modified
	 * UTF-7 (RFC 3501 5.1.3; "Entw&APw-rfe" -> "Entwürfe"), e.g. the
	 * names in Dovecot's imapc log lines.  move_uids() takes UTF-8
	 * names and encodes them itself.  Allocated (free_string()); NULL
	 * when `name` is not valid modified UTF-7 (it is then no wire name:
	 * use it as it is) or out of memory.  Any thread.
	 */
	char *(*mailbox_utf8)(const char *name);
};

/* --------------------------------------------------------------- host --- */

struct dmf_host {
	uint32_t size;
	uint16_t abi_major; /* the daemon's DMF_ABI_MAJOR */
	uint16_t abi_minor; /* the daemon's DMF_ABI_MINOR */
	const struct dmf_host_log *log;
	const struct dmf_host_config *config;
	const struct dmf_host_job *job;
	const struct dmf_host_response *response;
	/* ABI 1.1 */
	const struct dmf_host_exec *exec;
	const struct dmf_host_inject *inject;
	const struct dmf_host_crypto *crypto;
	/* ABI 1.2 */
	const struct dmf_host_db *db;
	/* 1.4 */
	const struct dmf_host_metrics *metrics;
	const struct dmf_host_http *http;
	const struct dmf_host_imap *imap;
};

/*
 * exec->run() for every host: sets result_r->size and, on a host older
 * than ABI 1.3 (which writes the 1.2 layout), converts the result.  A host
 * without an exec table (ABI 1.0) gives -ENOSYS.  Plugins built for 1.3
 * call this instead of host->exec->run(); same thread rule (the thread
 * running `job`).
 */
static inline int dmf_exec_run(const struct dmf_host *host, struct dmf_job *job,
			       const char *const *argv,
			       const struct dmf_exec_options *options,
			       struct dmf_exec_result *result_r,
			       const char **error_r)
{
	struct dmf_exec_result_1_2 old;
	int ret;

	memset(result_r, 0, sizeof(*result_r));
	result_r->size = (uint32_t)sizeof(*result_r);
	result_r->exit_code = -1;
	if (!DMF_HAS(struct dmf_host, host, exec) || host->exec == NULL ||
	    !DMF_HAS(struct dmf_host_exec, host->exec, run)) {
		*error_r = "the daemon offers no exec table (ABI 1.0)";
		return -ENOSYS;
	}
	if (host->abi_minor >= 3)
		return host->exec->run(job, argv, options, result_r, error_r);
	memset(&old, 0, sizeof(old));
	ret = host->exec->run(job, argv, options,
			      (struct dmf_exec_result *)(void *)&old, error_r);
	result_r->exit_code = ret < 0 ? -1 : old.exit_code;
	result_r->signal = old.signal;
	result_r->timed_out = old.timed_out;
	result_r->aborted = old.aborted;
	result_r->duration_ms = old.duration_ms;
	result_r->output_bytes = old.output_bytes;
	return ret;
}

#ifdef __cplusplus
}
#endif

#endif /* DMF_HOST_H */
