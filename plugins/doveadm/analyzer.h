/*
 * analyzer.h - streaming analyzer of the log a `doveadm backup/sync` run
 * prints (spec 3.1 "Analyze Log", docs/doveadm.md).
 *
 * The analyzer is fed one line at a time while doveadm runs; it never sees
 * or keeps the whole log.  From the lines it collects:
 *   - the error lines ("Error: ..." and "Fatal: ...", without the
 *     "dsync(user): " / "doveadm(user)<pid><session>: " prefix and without
 *     an optional syslog-style timestamp), capped in number and length;
 *   - per-mailbox saved and expunged counts from the mail_log plugin's
 *     "copy from X: box=B, uid=..." / "save: box=B, ..." and
 *     "expunge: box=B, ..." lines;
 *   - duplicate UIDs: "Mailbox 'B' state corrupted: Expunged message
 *     reappeared in session (uid=N < next_uid=M)" adds "N" to invalid[B];
 *   - a storage timeout (see ANALYZER_STORAGE_TIMEOUT_RE below), which
 *     makes the next retry run in debug mode when retry.debug-mode is set;
 *   - the obox parallel-writes timeout ("failed: PUT .+ failed: Absolute
 *     request timeout expired"), which adds
 *     plugin/obox_max_parallel_writes=1 to the retry;
 *   - the first classified failure (imapc login failed + reason, imapc
 *     connect failed / timed out, view inconsistent, user unknown).
 *
 * Counts, invalid UIDs and errors accumulate over all attempts of a job;
 * the per-attempt findings (timeouts, failure class, new duplicates) are
 * cleared by analyzer_begin_attempt().
 *
 * Threads: the compiled patterns are shared read-only by all analyzers
 * (compiled once, JIT where available); each analyzer owns its match data,
 * so different analyzers may be used from different threads at once.  One
 * analyzer must not be used from two threads at the same time.
 */
#ifndef DMF_DOVEADM_ANALYZER_H
#define DMF_DOVEADM_ANALYZER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Error lines kept per job and bytes kept per error line. */
#define ANALYZER_MAX_ERRORS 100
#define ANALYZER_MAX_ERROR_LEN 1024

/* The storage-timeout pattern (PCRE2, matched against the text after the
 * "Error: " tag).  Target storage (obox/fs/http/lock) timeouts, not the
 * imapc side, which has its own classes. */
#define ANALYZER_STORAGE_TIMEOUT_RE                                 \
	"^(?!imapc\\()(?:.*(?:[Tt]imed out|[Tt]imeout expired|"     \
	"Timeout \\([0-9]+s\\) while waiting for (?:lock|dotlock)|" \
	"[Rr]equest timeout|Timeout during))"

/* The obox parallel-writes pattern (spec 3.10), searched in every
 * Warning/Error/Fatal line. */
#define ANALYZER_PARALLEL_WRITES_RE \
	"failed: PUT .+ failed: Absolute request timeout expired"

enum analyzer_failure {
	ANALYZER_FAIL_NONE = 0,
	/* "Failed to initialize user: imapc: Login to H failed:
	 * Authentication failed: REASON" (wrong password, unknown user) */
	ANALYZER_FAIL_IMAPC_LOGIN,
	/* "imapc(H:P): connect(H, P) failed: REASON - disconnecting" */
	ANALYZER_FAIL_IMAPC_CONNECT,
	/* "imapc(H:P): connect(H, P) timed out after N seconds -
	 * disconnecting" (source down or silent) */
	ANALYZER_FAIL_IMAPC_CONNECT_TIMEOUT,
	/* "Can't open|sync mailbox B: View is inconsistent" */
	ANALYZER_FAIL_VIEW_INCONSISTENT,
	/* "User doesn't exist" (target userdb) */
	ANALYZER_FAIL_USER_UNKNOWN,
};

struct analyzer;

/*
 * Compile the shared patterns (done once; later calls return the first
 * result).  analyzer_new() calls it; call it at plugin init to report a
 * bad pattern early.  On failure returns -EINVAL and sets *error_r to a
 * static message.
 */
int analyzer_global_init(const char **error_r);
/*
 * Free the shared patterns (the plugin's fini, before the daemon dlcloses
 * it: otherwise they leak).  Only when no analyzer exists any more; no
 * analyzer may be created afterwards.
 */
void analyzer_global_free(void);

/* A new analyzer, or NULL on out of memory or pattern failure. */
struct analyzer *analyzer_new(void);
/* Frees *a (NULL allowed) and sets it to NULL; wipes the secrets. */
void analyzer_free(struct analyzer **a);

/*
 * Register a secret (e.g. the imapc password): any occurrence in a kept
 * error line is replaced by "<hidden>".  The analyzer keeps a copy, wiped
 * on free.  Empty secrets are ignored.  0 or -ENOMEM.
 */
int analyzer_add_secret(struct analyzer *a, const char *secret);

/*
 * How to read the mailbox names of Dovecot's imapc lines ("Mailbox 'B'
 * state corrupted"), which are the IMAP server's, in modified UTF-7:
 * `utf8` returns the UTF-8 form of `name` (malloc()ed; the analyzer
 * free()s it), or NULL to keep the name as it is.  Without a decoder
 * (the default) names are kept as they are.  mail_log's box= names are
 * UTF-8 already and never decoded.
 */
void analyzer_set_mailbox_decoder(struct analyzer *a,
				  char *(*utf8)(const char *name, void *ctx),
				  void *ctx);

/* Start a new attempt: clears the per-attempt findings. */
void analyzer_begin_attempt(struct analyzer *a);

/*
 * Feed one line (with or without its trailing "\n" / "\r\n"; need not be
 * NUL-terminated).  Never fails: on out of memory the line's findings are
 * dropped and analyzer_oom() turns true.
 */
void analyzer_feed_line(struct analyzer *a, const char *line, size_t len);

/* Per-attempt findings. */
bool analyzer_storage_timeout(const struct analyzer *a);
bool analyzer_parallel_writes_timeout(const struct analyzer *a);
/* The first classified failure of the attempt; *detail_r (may be NULL)
 * gets the captured reason or host ("" when none), owned by the analyzer. */
enum analyzer_failure analyzer_failure(const struct analyzer *a,
				       const char **detail_r);
/* A stable name for a failure class ("imapc-login", ...; "none"). */
const char *analyzer_failure_name(enum analyzer_failure f);
/* Duplicate UIDs first seen in the current attempt. */
size_t analyzer_new_duplicates(const struct analyzer *a);

/* Totals over the job. */
unsigned long analyzer_saved_total(const struct analyzer *a);
unsigned long analyzer_expunged_total(const struct analyzer *a);
/* Bytes of the saved messages (their size=, else vsize= field). */
unsigned long long analyzer_saved_bytes(const struct analyzer *a);
size_t analyzer_error_count(const struct analyzer *a);
/* The i-th kept error line (0-based), or NULL past the end. */
const char *analyzer_error(const struct analyzer *a, size_t i);
/* Error lines seen but not kept (over ANALYZER_MAX_ERRORS). */
size_t analyzer_errors_dropped(const struct analyzer *a);
bool analyzer_oom(const struct analyzer *a);

/*
 * Duplicates, in the order first seen: the i-th (mailbox, uid) pair;
 * *new_r (may be NULL) tells whether it was first seen in the current
 * attempt.  Returns false past the end.  Strings owned by the analyzer.
 */
bool analyzer_duplicate(const struct analyzer *a, size_t i,
			const char **mailbox_r, const char **uid_r,
			bool *new_r);
size_t analyzer_duplicate_count(const struct analyzer *a);

/* Counts of one mailbox (0 when never seen). */
unsigned long analyzer_saved(const struct analyzer *a, const char *mailbox);
unsigned long analyzer_expunged(const struct analyzer *a, const char *mailbox);

/*
 * Set "saved", "expunged", "invalid" and "errors" of the dsync details
 * entry `obj` (spec 3.16): {"saved": {"INBOX": 50}, "expunged": {...},
 * "invalid": {"INBOX": ["5"]}, "errors": ["Error: ..."]}.  Mailboxes with
 * a zero count are left out.  `with_counts` false leaves out saved and
 * expunged (count.sync off).  0 or -ENOMEM (obj may then be partly set).
 */
int analyzer_to_json(const struct analyzer *a, json_t *obj, bool with_counts);

#endif /* DMF_DOVEADM_ANALYZER_H */
