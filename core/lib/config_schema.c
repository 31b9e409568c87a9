/*
 * config_schema.c - the table of every configuration key, and matching
 * key paths against it.
 *
 * To add a key, append one line to `schema` below:
 *   K("dotted.pattern", TYPE, FLAGS, "default" or NULL, "a|b" or NULL,
 *     "one-line description"),
 * `*` stands for one free name.  Parent maps need no line of their own.
 * docs/configuration.md lists the same keys: regenerate its table with
 * `tests/unit/test_config --schema-md` (the test fails while a key is
 * missing there).
 */
#include "dmf-build.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config_schema.h"
#include "lib/secret.h"

#define K(p, t, fl, d, ch, desc)              \
	{                                     \
		p, CFG_T_##t, fl, d, ch, desc \
	}
#define SECRET CFG_SECRET
#define OURS CFG_OURS
#define LEGACY CFG_LEGACY
#define UNUSED CFG_UNUSED

#define DS "datasources.default."
#define W "dmf.worker."
#define S "dmf.doveadm.source.*."
#define EXEC_TYPES "fixed|cached|scheduled|work_stealing|thread_per_task"
#define LEVELS "TRACE|DEBUG|INFO|WARN|ERROR|OFF|ALL"

/* The steps that failure-flags.<phase> may turn into job failures. */
#define FAILURE_FLAGS(ph)                                                      \
	K(S "failure-flags." ph ".director-kick-user", BOOL, 0, "false", NULL, \
	  "fail the job when the director kick fails"),                        \
		K(S "failure-flags." ph ".director-flush-metacache", BOOL, 0,  \
		  "false", NULL,                                               \
		  "fail the job when the HTTP metacache flush fails"),         \
		K(S "failure-flags." ph ".director-use-sourcehost", BOOL, 0,   \
		  "false", NULL,                                               \
		  "fail the job when the director sourcehost lookup fails"),   \
		K(S "failure-flags." ph ".director-move-user", BOOL, 0,        \
		  "false", NULL, "fail the job when the director move fails"), \
		K(S "failure-flags." ph ".pre-migration-command", BOOL, 0,     \
		  "false", NULL, "fail the job when the pre command fails"),   \
		K(S "failure-flags." ph ".post-migration-command", BOOL, 0,    \
		  "false", NULL, "fail the job when the post command fails"),  \
		K(S "failure-flags." ph ".copy-imapc-inbox", BOOL, 0, "false", \
		  NULL, "fail the job when copying the imapc INBOX fails"),    \
		K(S "failure-flags." ph ".remove-imapc-inbox", BOOL, 0,        \
		  "false", NULL,                                               \
		  "fail the job when removing the imapc path fails"),          \
		K(S "failure-flags." ph ".count-local-pre", BOOL, 0, "false",  \
		  NULL, "fail the job when the local pre-sync count fails"),   \
		K(S "failure-flags." ph ".count-local-post", BOOL, 0, "false", \
		  NULL, "fail the job when the local post-sync count fails"),  \
		K(S "failure-flags." ph ".count-remote", BOOL, 0, "false",     \
		  NULL, "fail the job when the remote count fails"),           \
		K(S "failure-flags." ph ".flush-metacache", BOOL, 0, "false",  \
		  NULL, "fail the job when the metacache flush fails"),        \
		K(S "failure-flags." ph ".clean-metacache", BOOL, 0, "false",  \
		  NULL, "fail the job when the metacache clean fails"),        \
		K(S "failure-flags." ph ".move-duplicates", BOOL, OURS,        \
		  "false", NULL,                                               \
		  "fail the job when moving duplicate UIDs at the source "     \
		  "fails")

/* The command blocks of one phase (doveadm and command job workers). */
#define COMMANDS(base, ph)                                               \
	K(base "command." ph ".pre", COMMAND, 0, NULL, NULL,             \
	  "command run before the migration command (" ph ")"),          \
		K(base "command." ph ".sync", COMMAND, 0, NULL, NULL,    \
		  "the migration command itself (" ph ")"),              \
		K(base "command." ph ".post", COMMAND, 0, NULL, NULL,    \
		  "command run after a successful migration (" ph ")"),  \
		K(base "command." ph ".failure", COMMAND, 0, NULL, NULL, \
		  "command run after a failed migration (" ph ")")

static const struct cfg_schema_entry schema[] = {
	/* ---- micronaut: HTTPS server, executors, metrics, security ---- */
	K("micronaut.application.name", STRING, 0, "worker", NULL,
	  "application name (the \"name\" of /health details)"),
	K("micronaut.server.port", INT, 0, "8080", NULL,
	  "HTTP port when micronaut.ssl.enabled is false"),
	K("micronaut.server.host", STRING, 0, NULL, NULL,
	  "address the HTTP(S) server binds to (default: all)"),
	K("micronaut.server.idle-timeout", DURATION, 0, "30s", NULL,
	  "close an HTTP connection idle this long"),
	K("micronaut.server.max-request-size", INT, 0, "1048576", NULL,
	  "largest request body accepted (413 beyond it)"),
	K("micronaut.server.max-connections", INT, OURS, "512", NULL,
	  "HTTP connections served at once (more are closed at accept)"),
	K("micronaut.server.thread-pool-size", INT, OURS, "2", NULL,
	  "threads of the HTTP server"),
	K("micronaut.ssl.enabled", BOOL, 0, "false", NULL,
	  "serve HTTPS (on micronaut.ssl.port) instead of HTTP"),
	K("micronaut.ssl.port", INT, 0, "8443", NULL, "HTTPS port"),
	K("micronaut.ssl.key-store.path", STRING, 0,
	  "file:/opt/open-xchange/dmf/certs/keystore.p12", NULL,
	  "PKCS#12 file with the server key and certificate (file: prefix ok)"),
	K("micronaut.ssl.key-store.type", STRING, 0, "PKCS12", "PKCS12",
	  "keystore type (only PKCS12)"),
	K("micronaut.ssl.key-store.password", STRING, SECRET, NULL, NULL,
	  "keystore password"),
	K("micronaut.metrics.enabled", BOOL, 0, "true", NULL,
	  "collect metrics; false: no registry, /metrics, /metrics/{name} and "
	  "/prometheus answer 404"),
	K("micronaut.metrics.export.prometheus.enabled", BOOL, 0, "true", NULL,
	  "serve /prometheus (false: 404)"),
	K("micronaut.metrics.export.prometheus.descriptions", BOOL, 0, "true",
	  NULL, "write a # HELP line per metric in /prometheus"),
	K("micronaut.metrics.export.prometheus.step", DURATION, UNUSED, "PT1M",
	  NULL,
	  "Micrometer's step of decaying maxima (accepted, no effect: the "
	  "_max gauges are maxima since the start)"),
	K("micronaut.executors.worker-executor.name", STRING, 0,
	  "worker-executor", NULL, "name of the pool that runs jobs"),
	K("micronaut.executors.worker-executor.type", STRING, 0, "fixed",
	  EXEC_TYPES, "pool type of the job threads"),
	K("micronaut.executors.worker-executor.number-of-threads", INT, 0,
	  "100", NULL, "job threads (should be >= dmf.worker.jobs.max)"),
	K("micronaut.executors.command-executor.name", STRING, 0,
	  "command-executor", NULL,
	  "name of the pool that reads command output"),
	K("micronaut.executors.command-executor.type", STRING, 0, "fixed",
	  EXEC_TYPES, "pool type of the command output threads"),
	K("micronaut.executors.command-executor.number-of-threads", INT, 0,
	  "100", NULL, "command output threads (>= worker-executor's)"),
	K("micronaut.http.services.doveadm.url", STRING, 0, NULL, NULL,
	  "base URL of the doveadm HTTP API (usually set per source)"),
	K("micronaut.http.services.doveadm.urls", STRV, 0, NULL, NULL,
	  "several base URLs of the doveadm HTTP API"),
	K("micronaut.http.services.doveadm.connect-timeout", DURATION, 0, "5s",
	  NULL, "connect timeout of doveadm HTTP API calls"),
	K("micronaut.http.services.doveadm.read-timeout", DURATION, 0, "10s",
	  NULL, "read timeout of doveadm HTTP API calls"),
	K("micronaut.http.services.doveadm.read-idle-timeout", DURATION, 0,
	  "5m", NULL, "idle timeout of doveadm HTTP API calls"),
	K("micronaut.http.services.doveadm.ssl", MAP, 0, "{}", NULL,
	  "TLS settings of the doveadm HTTP API client"),
	K("micronaut.http.services.doveadm.ssl.enabled", BOOL, 0, "false", NULL,
	  "use TLS towards the doveadm HTTP API"),
	K("micronaut.http.services.doveadm.ssl.insecure-trust-all-certificates",
	  BOOL, 0, "false", NULL, "do not verify the server certificate"),
	K("micronaut.http.services.doveadm.ssl.trust-store.path", STRING, 0,
	  NULL, NULL, "PKCS#12 or PEM file with the trusted CA certificates"),
	K("micronaut.http.services.doveadm.ssl.trust-store.password", STRING,
	  SECRET, NULL, NULL, "trust store password"),
	K("micronaut.http.services.doveadm.ssl.trust-store.type", STRING, 0,
	  "PKCS12", NULL, "trust store type"),
	K("micronaut.http.services.doveadm.ssl.key-store.path", STRING, 0, NULL,
	  NULL, "client certificate keystore (PKCS#12)"),
	K("micronaut.http.services.doveadm.ssl.key-store.password", STRING,
	  SECRET, NULL, NULL, "client keystore password"),
	K("micronaut.http.services.doveadm.ssl.key-store.type", STRING, 0,
	  "PKCS12", NULL, "client keystore type"),
	K("micronaut.http.services.doveadm.ssl.*", ANY, UNUSED, NULL, NULL,
	  "other Micronaut SSL client settings (accepted, no effect)"),
	K("micronaut.security.enabled", BOOL, 0, "true", NULL,
	  "require authentication for sensitive endpoints"),
	K("micronaut.security.ip-patterns", STRV, 0, NULL, NULL,
	  "client addresses allowed (globs such as 192.168.1.*); empty = all"),

	/* ---- endpoints: /health /info /metrics /prometheus ---- */
	K("endpoints.all.enabled", BOOL, 0, "true", NULL,
	  "enable every endpoint"),
	K("endpoints.all.sensitive", BOOL, 0, "true", NULL,
	  "require authentication on every endpoint"),
	K("endpoints.health.enabled", BOOL, 0, "true", NULL, "serve /health"),
	K("endpoints.health.sensitive", BOOL, 0, "false", NULL,
	  "require authentication for /health (unset: "
	  "endpoints.all.sensitive)"),
	K("endpoints.health.details-visible", STRING, 0, "AUTHENTICATED",
	  "ANONYMOUS|AUTHENTICATED|NEVER", "who sees the /health details"),
	K("endpoints.health.disk-space.enabled", BOOL, 0, "true", NULL,
	  "diskSpace health indicator"),
	K("endpoints.health.disk-space.path", STRING, 0, "/", NULL,
	  "path whose file system is watched"),
	K("endpoints.health.disk-space.threshold", INT, 0, "10485760", NULL,
	  "free bytes below which diskSpace is DOWN"),
	K("endpoints.health.jdbc.enabled", BOOL, 0, "true", NULL,
	  "jdbc (Migration Database) health indicator"),
	K("endpoints.info.enabled", BOOL, 0, "true", NULL, "serve /info"),
	K("endpoints.info.sensitive", BOOL, 0, "true", NULL,
	  "require authentication for /info"),
	K("endpoints.info.sourceCodeOrigin.enabled", BOOL, 0, "true", NULL,
	  "add the source code origin file to /info"),
	K("endpoints.info.sourceCodeOrigin.location", STRING, 0,
	  "file:/opt/open-xchange/dmf/worker/share/SourceCodeOrigin.txt", NULL,
	  "file whose text is added to /info"),
	K("endpoints.metrics.enabled", BOOL, 0, "true", NULL, "serve /metrics"),
	K("endpoints.metrics.sensitive", BOOL, 0, "true", NULL,
	  "require authentication for /metrics"),
	K("endpoints.prometheus.enabled", BOOL, 0, "true", NULL,
	  "serve /prometheus"),
	K("endpoints.prometheus.sensitive", BOOL, 0, "true", NULL,
	  "require authentication for /prometheus"),

	/* ---- http: basic authentication of the endpoints ---- */
	K("http.admin.username", STRING, 0, NULL, NULL,
	  "basic auth user for the endpoints"),
	K("http.admin.password", STRING, SECRET, NULL, NULL,
	  "basic auth password for the endpoints"),

	/* ---- datasources: the Migration Database ---- */
	K(DS "url", STRING, 0,
	  "jdbc:mysql://localhost:3306/migration?createDatabaseIfNotExist=true",
	  NULL, "JDBC URL jdbc:mysql|mariadb://HOST[:PORT]/DB[?...]"),
	K(DS "username", STRING, 0, NULL, NULL, "database user"),
	K(DS "password", STRING, SECRET, NULL, NULL, "database password"),
	K(DS "dialect", STRING, 0, "MYSQL", "MYSQL|MARIADB",
	  "SQL dialect (MariaDB and MySQL are both MYSQL)"),
	K(DS "driverClassName", STRING, UNUSED, "org.mariadb.jdbc.Driver", NULL,
	  "JDBC driver class (accepted, no effect: libmariadb is used)"),
	K(DS "driver-class-name", ALIAS, 0, DS "driverClassName", NULL,
	  "kebab-case spelling"),
	K(DS "maximum-pool-size", INT, 0, "10", NULL,
	  "most database connections"),
	K(DS "minimum-idle", INT, 0, "2", NULL, "idle connections kept open"),
	K(DS "connection-timeout", DURATION, 0, "30s", NULL,
	  "wait for a free pooled connection / connect timeout"),
	K(DS "idle-timeout", DURATION, 0, "10m", NULL,
	  "close connections idle this long (above minimum-idle)"),
	K(DS "max-lifetime", DURATION, 0, "30m", NULL,
	  "reconnect connections older than this"),
	K(DS "validation-timeout", DURATION, 0, "5s", NULL,
	  "timeout of a connection check (ping)"),
	K(DS "transaction-isolation", STRING, 0, "TRANSACTION_READ_COMMITTED",
	  "TRANSACTION_READ_COMMITTED|TRANSACTION_REPEATABLE_READ",
	  "isolation level of the worker's transactions"),
	K(DS "transactionIsolation", ALIAS, 0, DS "transaction-isolation", NULL,
	  "Hikari spelling"),
	K(DS "maximumPoolSize", ALIAS, 0, DS "maximum-pool-size", NULL,
	  "Hikari spelling"),
	K(DS "minimumIdle", ALIAS, 0, DS "minimum-idle", NULL,
	  "Hikari spelling"),
	K(DS "connectionTimeout", ALIAS, 0, DS "connection-timeout", NULL,
	  "Hikari spelling"),
	K(DS "idleTimeout", ALIAS, 0, DS "idle-timeout", NULL,
	  "Hikari spelling"),
	K(DS "maxLifetime", ALIAS, 0, DS "max-lifetime", NULL,
	  "Hikari spelling"),
	K(DS "validationTimeout", ALIAS, 0, DS "validation-timeout", NULL,
	  "Hikari spelling"),
	K(DS "data-source-properties", ANY, UNUSED, NULL, NULL,
	  "JDBC driver properties (accepted, no effect)"),

	/* ---- dmf.worker: the daemon ---- */
	K(W "type", STRING, 0, "doveadm", NULL,
	  "job worker plugin: doveadm, command, simulator or a custom .so"),
	K(W "plugin-dir", STRING, OURS, "PLUGINDIR (configure)", NULL,
	  "directory of the job worker plugins TYPE.so"),
	K(W "sources", STRV, 0, "default", NULL,
	  "sources served at first registration (list or a,b scalar)"),
	K(W "identity.target", STRING, 0, "default", NULL,
	  "target (platform) this worker migrates into"),
	K(W "identity.memberid", STRING, 0, "the host name", NULL,
	  "unique name of this worker within the target (the start logs "
	  "which one is used)"),
	K(W "state.initial", STRING, 0, "STARTED", "STARTED|STOPPED",
	  "state at first start"),
	K(W "state.type", STRING, 0, "database", "database|config",
	  "where the state and max jobs live"),
	K(W "jobs.max", INT, 0, "10", NULL, "jobs run in parallel"),
	K(W "jobs.cache.size", INT, 0, "1000", NULL, "jobs kept in the cache"),
	K(W "jobs.cache.refresh", DURATION, 0, "5s", NULL,
	  "how often the job cache is refilled"),
	K(W "termination.timeout", DURATION, 0, "30000", NULL,
	  "wait for running jobs at shutdown before aborting them"),
	K(W "poller.type", STRING, 0, "database", "database|simulator",
	  "where jobs come from"),
	K(W "poller.simulator.max-jobs", INT, 0, "5", NULL,
	  "simulated jobs made per poll"),
	K(W "poller.simulator.max-wait-ms", INT, 0, "0", NULL,
	  "pause in ms after each simulated batch"),
	K(W "poller.simulator.limit", INT, OURS, "0", NULL,
	  "total simulated jobs, 0 = no end"),
	K(W "heartbeat", DURATION, OURS, "10s", NULL,
	  "how often the worker renews its heartbeat and job leases"),
	K(W "lease", DURATION, OURS, "60s", NULL,
	  "a job whose owner missed its heartbeat this long is rescued"),
	K(W "rescue.limit", INT, OURS, "3", NULL,
	  "rescues after which a job fails (poison pill)"),
	K(W "rescue.margin", DURATION, OURS, NULL, NULL,
	  "a stale job is rescued this long after its lease ran out "
	  "(default: the heartbeat)"),
	K(W "command.logging.type", STRING, 0, "file", "file|logger|off",
	  "where command output goes"),
	K(W "command.logging.file.format", STRING, 0,
	  "%(source)-%(user)-user-migration.log", NULL,
	  "log file name: %(source) %(user) %(phase) %(job) %(date)"),
	K(W "command.logging.file.location", STRING, 0, "/var/log/dmf-worker",
	  NULL, "directory of the command log files"),
	K(W "command.logging.file.delete-on-success", BOOL, 0, "true", NULL,
	  "remove the log file when the command succeeded"),
	K(W "command.environment.pass", STRV, OURS, NULL, NULL,
	  "environment variables commands get besides PATH, HOME, USER, "
	  "LOGNAME, SHELL, TMPDIR, TZ, TERM, LANG, LANGUAGE, LC_*"),
	K(W "crypto.storageKeys", MAP, 0, NULL, NULL,
	  "AES-256 keys that unwrap user passwords, by key name"),
	K(W "crypto.storageKeys.*", MAP, 0, NULL, NULL,
	  "one storage key, named as in the Scheduler"),
	K(W "crypto.storageKeys.*.file", STRING, 0, NULL, NULL,
	  "raw key file, or keystore:PATH of a PKCS#12 keystore"),
	K(W "crypto.storageKeys.*.secret", STRING, SECRET, NULL, NULL,
	  "keystore password"),
	K(W "crypto.storageKeys.*.alias", STRING, OURS, NULL, NULL,
	  "alias of the key in the keystore (default: the key name)"),

	/* ---- dmf.simulator: the simulator job worker ---- */
	K("dmf.simulator.min-sleep", DURATION, OURS, "1s", NULL,
	  "shortest simulated job"),
	K("dmf.simulator.max-sleep", DURATION, OURS, "10s", NULL,
	  "longest simulated job"),

	/* ---- dmf.command: the command job worker ---- */
	K("dmf.command.source.*", MAP, OURS, NULL, NULL,
	  "command worker block per source (`default` as fallback)"),
	K("dmf.command.sources", ALIAS, 0, "dmf.command.source", NULL,
	  "plural spelling"),
	K("dmf.command.source.*.command.inject.*", ANY, OURS, NULL, NULL,
	  "custom %{conf:NAME} values"),
	COMMANDS("dmf.command.source.*.", "sync"),
	COMMANDS("dmf.command.source.*.", "cutover"),
	K("dmf.command.hide-passwords", BOOL, OURS, "false", NULL,
	  "show passwords as <hidden> in the command worker's job details"),
	K("dmf.command.source.*.timeout", DURATION, OURS, "0", NULL,
	  "kill the migration command after this long (0 = no limit)"),
	K("dmf.command.source.*.imapc.host", STRING, OURS, NULL, NULL,
	  "%{conf:imapc_host}"),
	K("dmf.command.source.*.imapc.port", INT, OURS, NULL, NULL,
	  "%{conf:imapc_port}"),
	K("dmf.command.source.*.imapc.prefix", STRING, OURS, NULL, NULL,
	  "%{conf:imapc_prefix}"),
	K("dmf.command.source.*.imapc.master-user", STRING, OURS, NULL, NULL,
	  "%{conf:imapc_master_user}"),
	K("dmf.command.source.*.imapc.master-password", STRING, OURS | SECRET,
	  NULL, NULL, "%{conf:imapc_master_password}"),

	/* ---- dmf.doveadm: the doveadm job worker ---- */
	K("dmf.doveadm.path", STRING, 0, "/usr/bin/doveadm", NULL,
	  "the doveadm binary"),
	K("dmf.doveadm.config-file", STRING, OURS, NULL, NULL,
	  "target Dovecot config for doveadm -c (unset: doveadm's default)"),
	K("dmf.doveadm.runtime-dir", STRING, OURS, "/run/dmf-worker/doveadm",
	  NULL, "0700 dir of the per-job 0600 doveadm config files"),
	K("dmf.doveadm.source.*", MAP, 0, NULL, NULL,
	  "doveadm settings of one source (`default` as fallback)"),
	K("dmf.doveadm.sources", ALIAS, 0, "dmf.doveadm.source", NULL,
	  "plural spelling used in parts of the spec"),
	K(S "analyze-log", BOOL, 0, "true", NULL,
	  "analyze the migration log (errors, duplicates, counts)"),
	K(S "move-duplicates", BOOL, 0, "false", NULL,
	  "move duplicate-UID mails to lost+found-FOLDER and retry"),
	K(S "copy-imapc-inbox", BOOL, 0, "false", NULL,
	  "copy the local INBOX to <home>/imapc/.INBOX/.INBOX before sync"),
	K(S "remove-imapc-path", BOOL, 0, "false", NULL,
	  "remove the imapc folder created by copy-imapc-inbox"),
	K(S "copy-imaps-inbox", ALIAS, LEGACY, S "copy-imapc-inbox", NULL,
	  "misspelling in the shipped 1.2.0 file"),
	K(S "remove-imaps-path", ALIAS, LEGACY, S "remove-imapc-path", NULL,
	  "misspelling in the shipped 1.2.0 file"),
	K(S "metacache.flush.on-success", BOOL, 0, "false", NULL,
	  "doveadm metacache flush after a successful sync"),
	K(S "metacache.flush.on-failure", BOOL, 0, "false", NULL,
	  "doveadm metacache flush after a failed sync"),
	K(S "metacache.clean.on-success", BOOL, 0, "false", NULL,
	  "doveadm metacache clean after a successful sync"),
	K(S "metacache.clean.on-failure", BOOL, 0, "false", NULL,
	  "doveadm metacache clean after a failed sync"),
	K(S "flush-metacache", BOOL, LEGACY, "false", NULL,
	  "legacy: true = metacache.flush.on-success"),
	K(S "clean-metacache", BOOL, LEGACY, "false", NULL,
	  "legacy: true = metacache.clean.on-success"),
	K(S "fetch-container", BOOL, 0, "false", NULL,
	  "look up userdb_container for the user's imapoptions"),
	K(S "container-file", STRING, 0, "/etc/dovecot/passwd.container", NULL,
	  "the passwd file fetch-container reads"),
	K(S "imapc-inbox-owner", STRING, OURS, "vmail:vmail", NULL,
	  "owner:group given to the copied imapc INBOX (chown -R)"),
	K(S "sync-settings", STRV, OURS,
	  "imapc_features=rfc822.size fetch-headers,mail_prefetch_count=20",
	  NULL,
	  "doveadm -o settings of the default migration command "
	  "and remote count"),
	K(S "durability", STRING, OURS, "job", "job|dovecot",
	  "job: mail_fsync=never, then syncfs() of the user's filesystems "
	  "before the post steps; dovecot: the target's mail_fsync"),
	K(S "sync-lock", DURATION, OURS, "60s", NULL,
	  "dsync's per-user lock (-l): a second dsync of the user waits this "
	  "long, then fails; 0 = none"),
	K(S "director.enabled", BOOL, 0, "false", NULL,
	  "use the doveadm HTTP API (needs http.*)"),
	K(S "director.use-sourcehost", BOOL, 0, "false", NULL,
	  "ask the director for the user's source backend"),
	K(S "director.kick.sync", BOOL, 0, "false", NULL,
	  "kick the user first during sync"),
	K(S "director.kick.cutover", BOOL, 0, "false", NULL,
	  "kick the user first during cutover"),
	K(S "director.kick.wait", BOOL, 0, "false", NULL,
	  "wait for the kicked sessions to end (obox)"),
	K(S "director.kick.timeout", DURATION, 0, "60s", NULL,
	  "how long to wait for kicked sessions"),
	K(S "director.kick.wait-accept-codes", INT_LIST, 0, "[]", NULL,
	  "wait exit codes treated as success (-1: all)"),
	K(S "director.flush-metacache.sync", BOOL, 0, "false", NULL,
	  "HTTP API metacache flush during sync"),
	K(S "director.flush-metacache.cutover", BOOL, 0, "false", NULL,
	  "HTTP API metacache flush during cutover"),
	K(S "director.move-user", BOOL, 0, "false", NULL,
	  "move the target user to this backend (director only)"),
	K(S "count.pre", BOOL, 0, "true", NULL,
	  "count the local mailbox before the sync (logged)"),
	K(S "count.sync", BOOL, 0, "true", NULL,
	  "count saved/expunged mails during the sync (needs analyze-log)"),
	K(S "count.post", BOOL, 0, "true", NULL,
	  "count the local mailbox after a successful sync"),
	K(S "count.remote", BOOL, 0, "true", NULL,
	  "count the source mailbox after a successful sync"),
	K(S "count.remote-protocol", STRING, 0, "imapc", "imapc|doveadm|http",
	  "how the remote count is made"),
	K(S "count.remote-http.mailbox-mask", STRV, 0, "INBOX,INBOX/*,*", NULL,
	  "mailbox patterns of the http remote count"),
	K(S "count.remote-http.socket-path", STRING, 0, NULL, NULL,
	  "socketPath parameter of the mailboxStatus call"),
	K(S "count.remote-command", COMMAND, 0, NULL, NULL,
	  "the remote count command (overrides the protocol)"),
	K(S "retry.max", INT, 0, "1", NULL,
	  "retries of a failed migration command"),
	K(S "retry.sleep", DURATION, 0, "5000", NULL, "pause before a retry"),
	K(S "retry.code-max.*", INT, 0, NULL, NULL,
	  "retries for one exit code (key: the code)"),
	K(S "retry.code-sleep.*", DURATION, 0, NULL, NULL,
	  "pause before a retry for one exit code"),
	K(S "retry.debug-mode", BOOL, 0, "false", NULL,
	  "retry with -D after a storage timeout"),
	K(S "http.type", STRING, 0, "director", "director|cluster",
	  "doveadm HTTP API architecture"),
	K(S "http.url", STRING, 0, NULL, NULL,
	  "doveadm HTTP API URL, e.g. https://host/doveadm/v1"),
	K(S "http.username", STRING, 0, NULL, NULL, "doveadm HTTP API user"),
	K(S "http.password", STRING, SECRET, NULL, NULL,
	  "doveadm HTTP API password"),
	K(S "http.api-key", STRING, SECRET | OURS, NULL, NULL,
	  "doveadm API key (doveadm_api_key), sent as X-Dovecot-API"),
	K(S "http.director-tag", STRING, 0, NULL, NULL,
	  "backend tag used with use-only-tagged"),
	K(S "http.use-only-tagged", BOOL, 0, "false", NULL,
	  "only backends tagged director-tag (director only)"),
	K(S "doveadm.password", STRING, SECRET, NULL, NULL,
	  "doveadm protocol password of the source"),
	K(S "doveadm.host", STRING, 0, NULL, NULL,
	  "doveadm protocol host of the source"),
	K(S "doveadm.port", INT, 0, "24245", NULL,
	  "doveadm protocol port of the source"),
	K(S "imapc.host", STRING, 0, NULL, NULL,
	  "source IMAP host (%{conf:imapc_host}; overrides the job's)"),
	K(S "imapc.port", INT, 0, NULL, NULL, "source IMAP port"),
	K(S "imapc.prefix", STRING, 0, NULL, NULL, "source IMAP folder prefix"),
	K(S "imapc.ssl", STRING, 0, NULL, NULL,
	  "imapc_ssl: no, imaps or starttls"),
	K(S "imapc.master-user", STRING, 0, NULL, NULL, "source master user"),
	K(S "imapc.master-password", STRING, SECRET, NULL, NULL,
	  "source master password"),
	K(S "imapc.session-properties", MAP, 0, NULL, NULL,
	  "extra IMAP client properties"),
	K(S "imapc.session-properties.*", ANY, 0, NULL, NULL,
	  "one IMAP client property"),
	K(S "command.inject", MAP, 0, NULL, NULL,
	  "custom values for %{conf:NAME}"),
	K(S "command.inject.*", ANY, 0, NULL, NULL, "one %{conf:NAME} value"),
	COMMANDS(S, "sync"),
	COMMANDS(S, "cutover"),
	K(S "failure-flags.sync", ALIAS, 0, S "failure-flags.pre", NULL,
	  "the pre-sync phase is also called sync"),
	FAILURE_FLAGS("pre"),
	FAILURE_FLAGS("cutover"),

	/* ---- logger ---- */
	K("logger.levels.*", STRING, 0, NULL, LEVELS,
	  "log level per logger; root (or dmf) sets the daemon's"),
};

#define N_SCHEMA (sizeof(schema) / sizeof(schema[0]))

/* The patterns split into segments once. */
struct split {
	char *buf;
	const char *segs[16];
	size_t n;
	size_t literal; /* segments other than "*" */
};

static struct split splits[N_SCHEMA];
static struct split alias_targets[N_SCHEMA];
static pthread_once_t split_once = PTHREAD_ONCE_INIT;
static bool split_failed;

static void split_one(const char *pattern, struct split *sp)
{
	char *p, *save = NULL, *tok;

	sp->buf = strdup(pattern);
	if (sp->buf == NULL) {
		split_failed = true;
		return;
	}
	for (p = sp->buf; (tok = strtok_r(p, ".", &save)) != NULL; p = NULL) {
		if (sp->n == sizeof(sp->segs) / sizeof(sp->segs[0])) {
			split_failed = true;
			return;
		}
		sp->segs[sp->n++] = tok;
		if (strcmp(tok, "*") != 0)
			sp->literal++;
	}
}

static void split_all(void)
{
	for (size_t i = 0; i < N_SCHEMA; i++) {
		split_one(schema[i].pattern, &splits[i]);
		if (schema[i].type == CFG_T_ALIAS)
			split_one(schema[i].def, &alias_targets[i]);
	}
}

static bool ready(void)
{
	pthread_once(&split_once, split_all);
	return !split_failed;
}

const struct cfg_schema_entry *config_schema_entries(size_t *n_r)
{
	*n_r = N_SCHEMA;
	return schema;
}

const char *config_schema_type_name(enum cfg_type type)
{
	static const char *const names[] = {
		[CFG_T_STRING] = "string", [CFG_T_INT] = "int",
		[CFG_T_BOOL] = "bool",	   [CFG_T_DURATION] = "duration",
		[CFG_T_STRV] = "list",	   [CFG_T_INT_LIST] = "int list",
		[CFG_T_MAP] = "map",	   [CFG_T_LIST] = "list of maps",
		[CFG_T_ANY] = "any",	   [CFG_T_COMMAND] = "command",
		[CFG_T_ALIAS] = "alias",
	};

	if ((size_t)type >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[type];
}

/* Does pattern `sp` match the first sp->n segments of `segs`? */
static bool prefix_matches(const struct split *sp, const char *const *segs,
			   size_t n)
{
	if (sp->n > n)
		return false;
	for (size_t i = 0; i < sp->n; i++) {
		if (strcmp(sp->segs[i], "*") != 0 &&
		    strcmp(sp->segs[i], segs[i]) != 0)
			return false;
	}
	return true;
}

/* Whether `sp` reaches depth n below the parent canon[0..n-2] (a pattern
 * with a segment at position n-1 under that parent). */
static bool parent_matches(const struct split *sp, const char *const *canon,
			   size_t n)
{
	if (sp->n < n)
		return false;
	for (size_t j = 0; j + 1 < n; j++) {
		if (strcmp(sp->segs[j], "*") != 0 &&
		    strcmp(sp->segs[j], canon[j]) != 0)
			return false;
	}
	return true;
}

/*
 * Rewrite aliased prefixes of segs into `out` (same length).  Literal
 * segments of the alias target replace the path's; free names stay.
 */
static void canonicalize(const char *const *segs, size_t n, const char **out)
{
	bool changed = true;
	int rounds = 0;

	memcpy(out, segs, n * sizeof(*out));
	while (changed && rounds++ < 8) {
		changed = false;
		for (size_t i = 0; i < N_SCHEMA; i++) {
			const struct split *sp = &splits[i];
			const struct split *tp = &alias_targets[i];

			if (schema[i].type != CFG_T_ALIAS || tp->n != sp->n ||
			    !prefix_matches(sp, out, n))
				continue;
			for (size_t j = 0; j < tp->n; j++) {
				if (strcmp(tp->segs[j], "*") != 0)
					out[j] = tp->segs[j];
			}
			changed = true;
		}
	}
}

enum cfg_match_kind config_schema_match(const char *const *segs, size_t n,
					struct cfg_schema_match *m_r)
{
	const char *canon[64];
	const struct cfg_schema_entry *best = NULL, *inside = NULL;
	size_t best_lit = 0, inside_len = 0;
	bool inner = false;

	m_r->kind = CFG_MATCH_NONE;
	m_r->entry = NULL;
	if (!ready() || n == 0 || n > sizeof(canon) / sizeof(canon[0]))
		return CFG_MATCH_NONE;
	canonicalize(segs, n, canon);
	for (size_t i = 0; i < N_SCHEMA; i++) {
		const struct split *sp = &splits[i];

		if (schema[i].type == CFG_T_ALIAS)
			continue;
		if (sp->n == n && prefix_matches(sp, canon, n)) {
			if (best == NULL || sp->literal > best_lit) {
				best = &schema[i];
				best_lit = sp->literal;
			}
		} else if (sp->n > n) {
			bool pre = true;

			for (size_t j = 0; j < n && pre; j++)
				pre = strcmp(sp->segs[j], "*") == 0 ||
				      strcmp(sp->segs[j], canon[j]) == 0;
			if (pre)
				inner = true;
		} else if (sp->n < n &&
			   (schema[i].type == CFG_T_ANY ||
			    schema[i].type == CFG_T_COMMAND) &&
			   prefix_matches(sp, canon, n) && sp->n > inside_len) {
			inside = &schema[i];
			inside_len = sp->n;
		}
	}
	if (best != NULL) {
		m_r->kind = CFG_MATCH_KEY;
		m_r->entry = best;
	} else if (inner) {
		m_r->kind = CFG_MATCH_INNER;
	} else if (inside != NULL) {
		m_r->kind = CFG_MATCH_INSIDE;
		m_r->entry = inside;
	}
	return m_r->kind;
}

const char *config_schema_canonical_key(const char *const *segs, size_t n)
{
	const char *canon[64];

	if (!ready() || n == 0 || n > sizeof(canon) / sizeof(canon[0]))
		return NULL;
	canonicalize(segs, n, canon);
	if (strcmp(canon[n - 1], segs[n - 1]) == 0)
		return NULL;
	return canon[n - 1];
}

/* Split a dotted path into at most `max` segments held in `buf`. */
static size_t split_path(const char *path, char *buf, size_t size,
			 const char **segs, size_t max)
{
	char *p, *save = NULL, *tok;
	size_t n = 0;

	if (strlen(path) >= size)
		return 0;
	strcpy(buf, path);
	for (p = buf; (tok = strtok_r(p, ".", &save)) != NULL; p = NULL) {
		if (n == max)
			return 0;
		segs[n++] = tok;
	}
	return n;
}

const struct cfg_schema_entry *config_schema_lookup(const char *path)
{
	char buf[512];
	const char *segs[32];
	struct cfg_schema_match m;
	size_t n = split_path(path, buf, sizeof(buf), segs, 32);

	if (n == 0)
		return NULL;
	config_schema_match(segs, n, &m);
	return m.entry;
}

bool config_schema_is_label(const char *const *segs, size_t n)
{
	const char *canon[64];
	bool wild = false;

	if (!ready() || n == 0 || n > sizeof(canon) / sizeof(canon[0]))
		return false;
	canonicalize(segs, n, canon);
	for (size_t i = 0; i < N_SCHEMA; i++) {
		const struct split *sp = &splits[i];
		bool pre = parent_matches(sp, canon, n);
		if (!pre)
			continue;
		if (strcmp(sp->segs[n - 1], canon[n - 1]) == 0)
			return false; /* a name of the schema */
		if (strcmp(sp->segs[n - 1], "*") == 0)
			wild = true;
	}
	return wild;
}

bool config_schema_is_secret_segs(const char *const *segs, size_t n)
{
	struct cfg_schema_match m;

	if (n == 0)
		return false;
	if (secret_name(segs[n - 1], strlen(segs[n - 1])))
		return true;
	config_schema_match(segs, n, &m);
	return m.entry != NULL && (m.entry->flags & CFG_SECRET) != 0;
}

bool config_schema_is_secret(const char *path)
{
	char buf[512];
	const char *segs[32];
	size_t n = split_path(path, buf, sizeof(buf), segs, 32);

	return config_schema_is_secret_segs(segs, n);
}

void config_schema_next_segments(const char *const *segs, size_t n,
				 void (*cb)(const char *seg, void *ctx),
				 void *ctx)
{
	const char *canon[64];

	if (!ready() || n >= sizeof(canon) / sizeof(canon[0]))
		return;
	canonicalize(segs, n, canon);
	for (size_t i = 0; i < N_SCHEMA; i++) {
		const struct split *sp = &splits[i];
		bool pre = sp->n > n;

		for (size_t j = 0; j < n && pre; j++)
			pre = strcmp(sp->segs[j], "*") == 0 ||
			      strcmp(sp->segs[j], canon[j]) == 0;
		if (pre)
			cb(sp->segs[n], ctx);
	}
}

size_t config_schema_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *d, cost, v, w = lb + 1;

	if (la > 200 || lb > 200)
		return SIZE_MAX;
	d = malloc((la + 1) * w * sizeof(*d));
	if (d == NULL)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i * w] = i;
	for (size_t j = 0; j <= lb; j++)
		d[j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			v = d[(i - 1) * w + j] + 1;
			if (d[i * w + j - 1] + 1 < v)
				v = d[i * w + j - 1] + 1;
			if (d[(i - 1) * w + j - 1] + cost < v)
				v = d[(i - 1) * w + j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] &&
			    d[(i - 2) * w + j - 2] + 1 < v)
				v = d[(i - 2) * w + j - 2] + 1;
			d[i * w + j] = v;
		}
	}
	v = d[la * w + lb];
	free(d);
	return v;
}

/* Write pattern `sp` with free names taken from segs (where present). */
static void render(const struct split *sp, const char *const *segs, size_t n,
		   char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sp->n && len < size; i++) {
		const char *s = sp->segs[i];

		if (strcmp(s, "*") == 0 && i < n)
			s = segs[i];
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i > 0 ? "." : "", s);
	}
}

static size_t threshold(const char *s)
{
	size_t len = strlen(s);

	return len <= 3 ? 1 : len <= 8 ? 2 : 3;
}

bool config_schema_suggest(const char *const *segs, size_t n, char *buf,
			   size_t size)
{
	const char *canon[64];
	const char *last;
	const struct split *pick = NULL;
	size_t best = SIZE_MAX, dist;
	char full[512], cand[512];
	size_t flen = 0;
	bool ambiguous = false;

	if (!ready() || n == 0 || n > sizeof(canon) / sizeof(canon[0]))
		return false;
	canonicalize(segs, n, canon);
	last = canon[n - 1];

	/* 1. a sibling a few edits away (pattern segments at depth n) */
	for (size_t i = 0; i < N_SCHEMA; i++) {
		const struct split *sp = &splits[i];
		bool pre = parent_matches(sp, canon, n);
		if (!pre || strcmp(sp->segs[n - 1], "*") == 0)
			continue;
		dist = config_schema_distance(last, sp->segs[n - 1]);
		if (dist <= threshold(last) && dist < best) {
			best = dist;
			pick = sp;
		}
	}
	if (pick != NULL) {
		struct split cut = *pick;

		cut.n = n;
		render(&cut, canon, n, buf, size);
		return true;
	}

	/* 2. the same name elsewhere (a key put under the wrong parent),
	 * when its shortest place is unique: "enabled" is everywhere */
	for (size_t i = 0; i < N_SCHEMA; i++) {
		const struct split *sp = &splits[i];
		struct split cut = *sp;

		if (schema[i].type == CFG_T_ALIAS)
			continue;
		for (size_t j = 0; j < sp->n; j++) {
			if (strcmp(sp->segs[j], last) != 0 || j + 1 > best)
				continue;
			/* free names of the path do not line up here */
			cut.n = j + 1;
			render(&cut, NULL, 0, cand, sizeof(cand));
			if (j + 1 < best) {
				best = j + 1;
				snprintf(full, sizeof(full), "%s", cand);
				ambiguous = false;
			} else if (strcmp(cand, full) != 0) {
				ambiguous = true;
			}
		}
	}
	if (best != SIZE_MAX && !ambiguous) {
		snprintf(buf, size, "%s", full);
		return true;
	}

	/* 3. the closest full path */
	for (size_t i = 0; i < n && flen < sizeof(full); i++)
		flen += (size_t)snprintf(full + flen, sizeof(full) - flen,
					 "%s%s", i > 0 ? "." : "", canon[i]);
	best = SIZE_MAX;
	for (size_t i = 0; i < N_SCHEMA; i++) {
		struct split cut = splits[i];

		if (schema[i].type == CFG_T_ALIAS)
			continue;
		if (cut.n > n)
			cut.n = n;
		render(&cut, canon, n, cand, sizeof(cand));
		dist = config_schema_distance(full, cand);
		if (dist < best) {
			best = dist;
			snprintf(buf, size, "%s", cand);
		}
	}
	return best <= threshold(full) + 1;
}

/* Text for a Markdown table cell: `|` would end the cell. */
static void md_cell(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else
			fputc(*s, out);
	}
}

void config_schema_env_name(const char *pattern, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return;
	for (const char *p = pattern; *p != '\0' && len + 7 < size; p++) {
		if (*p == '*') {
			memcpy(buf + len, "<NAME>", 6);
			len += 6;
		} else if (*p == '.' || *p == '-') {
			buf[len++] = '_';
		} else {
			buf[len++] = (char)toupper((unsigned char)*p);
		}
	}
	buf[len] = '\0';
}

void config_schema_print_markdown(FILE *out)
{
	char env[600];

	fputs("| Key | Type | Default | Environment variable | Description |\n"
	      "|---|---|---|---|---|\n",
	      out);
	for (size_t i = 0; i < N_SCHEMA; i++) {
		const struct cfg_schema_entry *e = &schema[i];

		fprintf(out, "| `%s` | %s | ", e->pattern,
			config_schema_type_name(e->type));
		if (e->type != CFG_T_ALIAS && e->def != NULL) {
			fputc('`', out);
			md_cell(out, e->def);
			fputc('`', out);
		}
		config_schema_env_name(e->pattern, env, sizeof(env));
		fprintf(out, " | `%s` | ", env);
		if (e->type == CFG_T_ALIAS)
			fprintf(out, "alias of `%s`: ", e->def);
		md_cell(out, e->desc);
		if (e->choices != NULL) {
			fputs("; one of `", out);
			md_cell(out, e->choices);
			fputc('`', out);
		}
		if (e->flags & CFG_SECRET)
			fputs(" **(secret)**", out);
		if (e->flags & CFG_OURS)
			fputs(" *(our extension)*", out);
		if (e->flags & CFG_LEGACY)
			fputs(" *(legacy)*", out);
		if (e->flags & CFG_UNUSED)
			fputs(" *(accepted, no effect)*", out);
		fputs(" |\n", out);
	}
}

/* Text for man(7): backslashes and minus signs escaped, no control line. */
static void man_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

void config_schema_print_man(FILE *out)
{
	char env[600];

	for (size_t i = 0; i < N_SCHEMA; i++) {
		const struct cfg_schema_entry *e = &schema[i];

		fputs(".TP\n.B ", out);
		man_text(out, e->pattern);
		fputc('\n', out);
		fputs(config_schema_type_name(e->type), out);
		if (e->type != CFG_T_ALIAS && e->def != NULL) {
			fputs("; default \\fB", out);
			man_text(out, e->def);
			fputs("\\fR", out);
		}
		config_schema_env_name(e->pattern, env, sizeof(env));
		fputs("; environment \\fB", out);
		man_text(out, env);
		fputs("\\fR\n.br\n", out);
		if (e->type == CFG_T_ALIAS) {
			fputs("alias of \\fB", out);
			man_text(out, e->def);
			fputs("\\fR: ", out);
		}
		man_text(out, e->desc);
		if (e->choices != NULL) {
			fputs("; one of \\fB", out);
			man_text(out, e->choices);
			fputs("\\fR", out);
		}
		if (e->flags & CFG_SECRET)
			fputs(" (secret)", out);
		if (e->flags & CFG_OURS)
			fputs(" (our extension)", out);
		if (e->flags & CFG_LEGACY)
			fputs(" (legacy)", out);
		if (e->flags & CFG_UNUSED)
			fputs(" (accepted, no effect)", out);
		fputc('\n', out);
	}
}
