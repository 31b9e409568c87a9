/*
 * test_analyzer.c - the doveadm log analyzer against real Dovecot 2.3.19
 * log lines captured from the test rig (tests/fixtures/doveadm/) and
 * a table of single lines.
 */
#include "dmf-build.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "../tap.h"

#ifndef FIXTURES_DIR
#define FIXTURES_DIR "tests/fixtures/doveadm"
#endif

static int feed_file(struct analyzer *a, const char *name)
{
	char path[512];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, name);
	f = fopen(path, "r");
	if (f == NULL) {
		diag("cannot open %s", path);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0)
		analyzer_feed_line(a, line, (size_t)n);
	free(line);
	fclose(f);
	return 0;
}

static char *details(struct analyzer *a, bool counts)
{
	json_t *o = json_object();
	char *s;
	analyzer_to_json(a, o, counts);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static void test_full_sync_debug(void)
{
	struct analyzer *a = analyzer_new();
	ok(a != NULL, "analyzer_new");
	ok(feed_file(a, "debug-sync.log") == 0, "fed the -D full-sync log");
	is_int(analyzer_saved_total(a), 300, "300 saves in the -D log");
	is_int(analyzer_expunged_total(a), 0, "no expunges");
	is_int(analyzer_saved(a, "INBOX"), 143, "INBOX saved 143");
	is_int(analyzer_saved(a, "Archive/2024/Q1 Reports"), 32,
	       "nested spaced folder counted");
	is_int(analyzer_saved(a, "Entwürfe"), 26, "non-ASCII folder counted");
	is_int(analyzer_saved(a, "Ünïcødé/日本語"), 20, "CJK folder counted");
	is_int(analyzer_error_count(a), 0, "no errors in a clean run");
	is_int(analyzer_failure(a, NULL), ANALYZER_FAIL_NONE, "no failure");
	ok(!analyzer_storage_timeout(a), "no storage timeout");
	analyzer_free(&a);
	ok(a == NULL, "analyzer_free clears the pointer");
	analyzer_free(&a);
}

static void test_incremental(void)
{
	struct analyzer *a = analyzer_new();
	feed_file(a, "incremental.log");
	is_int(analyzer_saved_total(a), 20, "incremental: 20 saved");
	is_int(analyzer_expunged_total(a), 12, "incremental: 12 expunged");
	is_int(analyzer_expunged(a, "INBOX"), 5, "INBOX expunged 5");
	is_int(analyzer_expunged(a, "Entwürfe"), 3, "Entwürfe expunged 3");
	is_int(analyzer_saved(a, "Sent Items"), 1, "Sent Items saved 1");
	char *s = details(a, true);
	like(s, "\"saved\":{", "details have saved");
	like(s, "\"INBOX\":9", "details: INBOX saved 9");
	like(s, "\"expunged\":{", "details have expunged");
	like(s, "\"invalid\":{}", "details: invalid empty");
	like(s, "\"errors\":[]", "details: errors empty");
	ok(strstr(s, "\"Archive/2024/Q1 Reports\":0") == NULL,
	   "zero counts left out");
	free(s);
	s = details(a, false);
	ok(strstr(s, "saved") == NULL && strstr(s, "expunged") == NULL,
	   "count.sync off leaves saved/expunged out");
	free(s);
	analyzer_free(&a);
}

static void test_duplicates(void)
{
	struct analyzer *a = analyzer_new();
	const char *box, *uid;
	bool isnew;

	feed_file(a, "dupuid.log");
	is_int(analyzer_duplicate_count(a), 1,
	       "Warning + Error for one UID give one duplicate");
	ok(analyzer_duplicate(a, 0, &box, &uid, &isnew), "duplicate 0");
	is_str(box, "Archive/2024", "duplicate mailbox");
	is_str(uid, "5", "duplicate uid");
	ok(isnew, "first seen in this attempt");
	is_int(analyzer_new_duplicates(a), 1, "one new duplicate");
	const char *detail;
	is_int(analyzer_failure(a, &detail), ANALYZER_FAIL_VIEW_INCONSISTENT,
	       "classified: view inconsistent");
	is_str(detail, "Archive/2024", "view inconsistent mailbox");
	is_int(analyzer_error_count(a), 2, "two error lines");
	is_str(analyzer_error(a, 0),
	       "Error: imapc(127.0.0.1:38107): Mailbox 'Archive/2024' state "
	       "corrupted: Expunged message reappeared in session (uid=5 < "
	       "next_uid=6) - disconnecting",
	       "error kept without the dsync(user) prefix");
	char *s = details(a, true);
	like(s, "\"invalid\":{\"Archive/2024\":[\"5\"]}", "details: invalid");
	free(s);

	/* next attempt: same duplicate again is not new; a new one is */
	analyzer_begin_attempt(a);
	is_int(analyzer_failure(a, NULL), ANALYZER_FAIL_NONE,
	       "begin_attempt clears the failure");
	feed_file(a, "dupuid.log");
	is_int(analyzer_new_duplicates(a), 0, "known duplicate is not new");
	static const char line[] =
		"dsync(erin): Warning: imapc(127.0.0.1:1): Mailbox 'INBOX' "
		"state corrupted: Expunged message reappeared in session "
		"(uid=17 < next_uid=1005) - reconnecting (delay 0 ms)\n";
	analyzer_feed_line(a, line, sizeof(line) - 1);
	is_int(analyzer_new_duplicates(a), 1, "new duplicate in attempt 2");
	ok(analyzer_duplicate(a, 0, &box, &uid, &isnew) && !isnew,
	   "attempt-1 duplicate is old now");
	s = details(a, true);
	like(s, "\"invalid\":{\"Archive/2024\":[\"5\"],\"INBOX\":[\"17\"]}",
	     "invalid accumulates over attempts");
	free(s);
	analyzer_free(&a);
}

/* a stand-in for the host's imap->mailbox_utf8 (core/lib/mutf7.c has
 * its own tests): knows one name */
static char *test_utf8(const char *name, void *ctx)
{
	(*(int *)ctx)++;
	return strcmp(name, "Entw&APw-rfe") == 0 ? strdup("Entw\xc3\xbcrfe") :
						   NULL;
}

/* imapc names mailboxes in modified UTF-7, mail_log in UTF-8: with the
 * decoder both are one mailbox, under its UTF-8 name */
static void test_duplicate_names(void)
{
	struct analyzer *a = analyzer_new();
	const char *box, *uid;
	bool isnew;
	int calls = 0;
	static const char dup[] =
		"dsync(u): Warning: imapc(127.0.0.1:1): Mailbox 'Entw&APw-rfe' "
		"state corrupted: Expunged message reappeared in session "
		"(uid=2 < next_uid=4) - reconnecting (delay 0 ms)\n";
	static const char copy[] =
		"dsync(u): Info: copy from Entw\xc3\xbcrfe: "
		"box=Entw\xc3\xbcrfe, uid=1, msgid=<1@x>, size=10, vsize=12\n";
	static const char other[] =
		"dsync(u): Warning: imapc(127.0.0.1:1): Mailbox 'A&B' "
		"state corrupted: Expunged message reappeared in session "
		"(uid=7 < next_uid=9) - reconnecting (delay 0 ms)\n";

	analyzer_set_mailbox_decoder(a, test_utf8, &calls);
	analyzer_feed_line(a, copy, sizeof(copy) - 1);
	analyzer_feed_line(a, dup, sizeof(dup) - 1);
	analyzer_feed_line(a, other, sizeof(other) - 1);
	is_int(calls, 2, "the decoder sees the imapc names only");
	ok(analyzer_duplicate(a, 0, &box, &uid, &isnew), "duplicate 0");
	is_str(box, "Entw\xc3\xbcrfe", "imapc's Entw&APw-rfe is Entwürfe");
	ok(analyzer_duplicate(a, 1, &box, &uid, &isnew), "duplicate 1");
	is_str(box, "A&B", "a name the decoder refuses is kept");
	char *s = details(a, true);
	like(s, "\"invalid\":{\"Entw\xc3\xbcrfe\":[\"2\"],\"A&B\":[\"7\"]}",
	     "details: invalid under the UTF-8 names");
	like(s, "\"saved\":{\"Entw\xc3\xbcrfe\":1}",
	     "  one mailbox with mail_log's");
	free(s);
	analyzer_free(&a);
}

struct line_case {
	const char *name;
	const char *file; /* fixture, or NULL for `line` */
	const char *line;
	enum analyzer_failure failure;
	const char *detail;
	size_t errors;
	bool storage_timeout;
	bool parallel;
};

static const struct line_case cases[] = {
	{ "wrong password", "wrongpw.log", NULL, ANALYZER_FAIL_IMAPC_LOGIN,
	  "[AUTHENTICATIONFAILED] Authentication failed.", 2, false, false },
	{ "source down", "srcdown.log", NULL, ANALYZER_FAIL_IMAPC_CONNECT,
	  "Connection refused", 2, false, false },
	{ "source silent", "conntimeout.log", NULL,
	  ANALYZER_FAIL_IMAPC_CONNECT_TIMEOUT, "127.0.0.1, 47835", 2, false,
	  false },
	{ "unknown target user", "unknowntgt.log", NULL,
	  ANALYZER_FAIL_USER_UNKNOWN, "", 1, false, false },
	{ "obox PUT timeout", NULL,
	  "dsync(u1): Error: Mailbox INBOX: Saving mail failed: "
	  "PUT http://obox/u1/mails/abc failed: Absolute request "
	  "timeout expired (30001 ms)",
	  ANALYZER_FAIL_NONE, "", 1, true, true },
	{ "lock timeout", NULL,
	  "Nov 28 21:45:37 dsync(u1)<123><sess>: Error: Mailbox INBOX: "
	  "Timeout (180s) while waiting for lock for transaction log file "
	  "/m/dovecot.index.log",
	  ANALYZER_FAIL_NONE, "", 1, true, false },
	{ "imapc timeout is not a storage timeout", NULL,
	  "dsync(u1): Error: imapc(h:143): Command timed out, disconnecting",
	  ANALYZER_FAIL_NONE, "", 1, false, false },
	{ "PUT timeout in a warning", NULL,
	  "dsync(u1): Warning: fs-object: copy failed: PUT x failed: Absolute "
	  "request "
	  "timeout expired",
	  ANALYZER_FAIL_NONE, "", 0, false, true },
	{ "fatal kept", NULL, "doveadm(u1): Fatal: Couldn't drop privileges",
	  ANALYZER_FAIL_NONE, "", 1, false, false },
	{ "bare level", NULL, "Error: net_connect_unix(x) failed",
	  ANALYZER_FAIL_NONE, "", 1, false, false },
	{ "panic and backtrace ignored", NULL,
	  "dsync(u1): Panic: file lib-event.c: line 506", ANALYZER_FAIL_NONE,
	  "", 0, false, false },
	{ "debug ignored", NULL, "dsync(u1): Debug: Error: looks like an error",
	  ANALYZER_FAIL_NONE, "", 0, false, false },
	{ "no level", NULL, "garbage without a level", ANALYZER_FAIL_NONE, "",
	  0, false, false },
	{ "empty", NULL, "", ANALYZER_FAIL_NONE, "", 0, false, false },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct line_case *c = &cases[i];
		struct analyzer *a = analyzer_new();
		const char *detail;
		if (c->file != NULL)
			feed_file(a, c->file);
		else
			analyzer_feed_line(a, c->line, strlen(c->line));
		is_int(analyzer_failure(a, &detail), c->failure,
		       "%s: failure %s", c->name,
		       analyzer_failure_name(c->failure));
		is_str(detail, c->detail, "%s: detail", c->name);
		is_int(analyzer_error_count(a), c->errors, "%s: %zu errors",
		       c->name, c->errors);
		is_int(analyzer_storage_timeout(a), c->storage_timeout,
		       "%s: storage timeout %d", c->name, c->storage_timeout);
		is_int(analyzer_parallel_writes_timeout(a), c->parallel,
		       "%s: parallel writes %d", c->name, c->parallel);
		analyzer_free(&a);
	}
}

static void test_maillog_lines(void)
{
	static const char *const lines[] = {
		"dsync(u): Info: save: box=Drafts, uid=1, msgid=<a@b>",
		"dsync(u): Info: copy from INBOX: box=INBOX, uid=130, "
		"msgid=<x>, size=1, vsize=2",
		"dsync(u): Info: expunge: box=INBOX, uid=4, msgid=<y>",
		"dsync(u): Info: expunge: box=Box, with, commas, uid=4",
		"dsync(u): Info: save: box=Last",
		"dsync(u): Info: Mailbox created: Nope",
		"dsync(u): Info: flag_change: box=INBOX, uid=9",
		"dsync(u): Info: delete: box=INBOX, uid=9",
	};
	struct analyzer *a = analyzer_new();
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		analyzer_feed_line(a, lines[i], strlen(lines[i]));
	is_int(analyzer_saved(a, "Drafts"), 1, "save: counted as saved");
	is_int(analyzer_saved(a, "INBOX"), 1, "copy from: counted as saved");
	is_int(analyzer_expunged(a, "INBOX"), 1, "expunge counted");
	is_int(analyzer_expunged(a, "Box, with, commas"), 1,
	       "mailbox name with commas");
	is_int(analyzer_saved(a, "Last"), 1, "box as the last field");
	is_int(analyzer_saved_total(a), 3, "three saves");
	is_int(analyzer_expunged_total(a), 2,
	       "flag_change and delete are not expunges");
	analyzer_free(&a);
}

static void test_secrets_and_limits(void)
{
	struct analyzer *a = analyzer_new();
	char line[4096];

	ok(analyzer_add_secret(a, "s3cr3t") == 0, "add secret");
	analyzer_add_secret(a, "");
	snprintf(line, sizeof(line),
		 "dsync(u): Error: something with s3cr3t and s3cr3t again");
	analyzer_feed_line(a, line, strlen(line));
	is_str(analyzer_error(a, 0),
	       "Error: something with <hidden> and <hidden> again",
	       "secret hidden in errors");
	analyzer_feed_line(a, line, strlen(line));
	is_int(analyzer_error_count(a), 1, "identical errors kept once");
	for (int i = 0; i < ANALYZER_MAX_ERRORS + 10; i++) {
		snprintf(line, sizeof(line), "dsync(u): Error: number %d", i);
		analyzer_feed_line(a, line, strlen(line));
	}
	is_int(analyzer_error_count(a), ANALYZER_MAX_ERRORS, "errors capped");
	is_int(analyzer_errors_dropped(a), 11, "dropped errors counted");
	analyzer_free(&a);

	a = analyzer_new();
	memset(line, 'x', sizeof(line));
	memcpy(line, "dsync(u): Error: ", 17);
	line[2000] = (char)0xff; /* invalid UTF-8 */
	analyzer_feed_line(a, line, sizeof(line));
	is_int(strlen(analyzer_error(a, 0)), ANALYZER_MAX_ERROR_LEN,
	       "long error line cut");
	char *s = details(a, true);
	ok(s != NULL && strstr(s, "\"errors\":[\"Error: xxx") != NULL,
	   "details JSON valid despite the cut");
	free(s);
	analyzer_free(&a);

	a = analyzer_new();
	static const char bad[] = "dsync(u): Error: bad \xc3 byte \x01 ctl";
	analyzer_feed_line(a, bad, sizeof(bad) - 1);
	is_str(analyzer_error(a, 0), "Error: bad ? byte ? ctl",
	       "invalid UTF-8 and control bytes replaced");
	analyzer_free(&a);
}

static void *thread_main(void *arg)
{
	struct analyzer *a = analyzer_new();
	(void)arg;
	for (int i = 0; i < 20; i++)
		feed_file(a, "debug-sync.log");
	unsigned long n = analyzer_saved_total(a);
	analyzer_free(&a);
	return (void *)n;
}

/* Found by fuzz_analyzer: a mailbox name holding a NUL byte (the line
 * comes from doveadm, which prints what the source server sent) was
 * stored cut at the NUL and then compared past its end. */
static void test_nul_in_mailbox(void)
{
	static const char line[] =
		"dsync(alice): Info: expunge: box=Arch\0ive, uid=19, "
		"msgid=<1@x>, size=615, vsize=628";
	static const char line2[] =
		"dsync(alice): Info: expunge: box=Arch, uid=20, "
		"msgid=<2@x>, size=615, vsize=628";
	struct analyzer *a = analyzer_new();

	analyzer_begin_attempt(a);
	analyzer_feed_line(a, line, sizeof(line) - 1);
	analyzer_feed_line(a, line, sizeof(line) - 1);
	analyzer_feed_line(a, line2, sizeof(line2) - 1);
	is_int((int)analyzer_expunged_total(a), 3,
	       "a NUL byte in a mailbox name: every expunge counted");
	is_int((int)analyzer_expunged(a, "Arch"), 1,
	       "  and 'Arch' is a mailbox of its own, not the one with the "
	       "NUL");
	analyzer_free(&a);
}

/* fuzz_analyzer found it: a ": " straddling the 512-byte prefix limit
 * (':' its last byte) stepped past the limit, and the next memchr() read
 * far beyond the line (ASan: heap-buffer-overflow). */
static void test_prefix_limit(void)
{
	struct analyzer *a = analyzer_new();

	analyzer_begin_attempt(a);
	for (size_t colon = 505; colon < 515; colon++) {
		size_t len = colon + 2 + 100;
		char *line = malloc(len); /* exactly: ASan sees any overread */

		memset(line, 'x', len);
		line[colon] = ':';
		line[colon + 1] = ' ';
		analyzer_feed_line(a, line, len);
		free(line);
	}
	is_int((int)analyzer_saved_total(a), 0,
	       "long lines with ': ' at the 512-byte prefix limit: no level, "
	       "nothing read past the line");
	analyzer_free(&a);
}

static void test_threads(void)
{
	pthread_t t[4];
	void *r;
	int good = 0;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread_main, NULL);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], &r);
		good += (unsigned long)r == 6000;
	}
	is_int(good, 4, "four analyzers in four threads count alike");
}

int main(void)
{
	const char *e = NULL;
	plan_lazy();
	ok(analyzer_global_init(&e) == 0, "patterns compile (%s)",
	   e ? e : "ok");
	test_full_sync_debug();
	test_incremental();
	test_duplicates();
	test_duplicate_names();
	test_cases();
	test_maillog_lines();
	test_secrets_and_limits();
	test_nul_in_mailbox();
	test_prefix_limit();
	test_threads();
	return done_testing();
}
