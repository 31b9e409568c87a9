/*
 * analyzer.c - streaming doveadm log analyzer (see analyzer.h).
 *
 * Each line is split by hand into (level, message): an optional syslog
 * timestamp and the "dsync(user)<pid><session>: " prefix are skipped by
 * looking for ": <Level>: ".  Debug lines stop there, so a `-D` log costs
 * little more than reading it; the PCRE2 patterns only run on the few Info
 * lines that mail_log prints and on Warning/Error/Fatal lines.
 */
#include "dmf-build.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "analyzer.h"
#include "dmf/text.h"
#include "secret.h"

enum pat_id {
	PAT_MAILLOG,
	PAT_DUPLICATE,
	PAT_PARALLEL,
	PAT_STORAGE_TIMEOUT,
	PAT_LOGIN,
	PAT_CONNECT,
	PAT_VIEW,
	PAT_COUNT
};

static const char *const pat_text[PAT_COUNT] = {
	/* mail_log: "copy from SRC: box=B, uid=..", "save: box=B, ..",
	 * "expunge: box=B, .." with our mail_log_fields "uid box msgid size
	 * vsize" (box may also be last) */
	[PAT_MAILLOG] = "^(copy from .*?|save|expunge): box=(.*?)"
			"(?:, (?:uid|msgid|size|vsize|flags|from|subject|"
			"guid|pop3_uidl|keywords)=|$)",
	[PAT_DUPLICATE] = "Mailbox '(.*)' state corrupted: Expunged message "
			  "reappeared in session \\(uid=([0-9]+) < "
			  "next_uid=[0-9]+\\)",
	[PAT_PARALLEL] = ANALYZER_PARALLEL_WRITES_RE,
	[PAT_STORAGE_TIMEOUT] = ANALYZER_STORAGE_TIMEOUT_RE,
	[PAT_LOGIN] = "^Failed to initialize user: imapc: Login to (.*) "
		      "failed: Authentication failed: (.*)$",
	[PAT_CONNECT] = "^imapc\\(([^)]*)\\): connect\\(([^)]*)\\) "
			"(failed: (.*)|timed out after [0-9]+ seconds) - "
			"disconnecting$",
	[PAT_VIEW] = "^Can't (?:open|sync) mailbox (.*): View is "
		     "inconsistent$",
};

static pcre2_code *pat_code[PAT_COUNT];
static pthread_once_t pat_once = PTHREAD_ONCE_INIT;
static const char *pat_error;
static char pat_error_buf[256];

static void pat_compile(void)
{
	for (int i = 0; i < PAT_COUNT; i++) {
		int err;
		PCRE2_SIZE off;
		pat_code[i] = pcre2_compile((PCRE2_SPTR)pat_text[i],
					    PCRE2_ZERO_TERMINATED, 0, &err,
					    &off, NULL);
		if (pat_code[i] == NULL) {
			char msg[160];
			pcre2_get_error_message(err, (PCRE2_UCHAR *)msg,
						sizeof(msg));
			snprintf(pat_error_buf, sizeof(pat_error_buf),
				 "analyzer pattern %d at offset %zu: %s", i,
				 (size_t)off, msg);
			pat_error = pat_error_buf;
			return;
		}
		/* JIT failure (e.g. no executable memory) is not fatal:
		 * pcre2_match() then interprets */
		(void)pcre2_jit_compile(pat_code[i], PCRE2_JIT_COMPLETE);
	}
}

int analyzer_global_init(const char **error_r)
{
	pthread_once(&pat_once, pat_compile);
	if (pat_error != NULL) {
		if (error_r != NULL)
			*error_r = pat_error;
		return -EINVAL;
	}
	return 0;
}

void analyzer_global_free(void)
{
	for (int i = 0; i < PAT_COUNT; i++) {
		pcre2_code_free(pat_code[i]);
		pat_code[i] = NULL;
	}
}

/* ------------------------------------------------------------ storage --- */

struct box {
	char *name;
	size_t len; /* of name: the log line may hold a NUL byte */
	unsigned long saved, expunged;
	uint32_t hash;
};

struct dup {
	size_t box; /* index into boxes */
	char *uid;
	unsigned attempt;
};

struct analyzer {
	pcre2_match_data *md;
	unsigned attempt;

	struct box *boxes;
	size_t n_boxes, cap_boxes;
	size_t *index; /* open addressing: box index + 1, 0 = empty */
	size_t index_cap;

	struct dup *dups;
	size_t n_dups, cap_dups;

	char **errors;
	size_t n_errors, errors_dropped;

	char **secrets;
	size_t n_secrets;

	char *(*box_utf8)(const char *name, void *ctx);
	void *box_utf8_ctx;

	unsigned long saved_total, expunged_total;
	unsigned long long saved_bytes; /* size= (else vsize=) of saves */

	/* per attempt */
	bool storage_timeout, parallel_writes;
	enum analyzer_failure failure;
	char *failure_detail;
	size_t new_dups;
	bool oom;
};

static uint32_t fnv1a(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static int index_grow(struct analyzer *a)
{
	size_t cap = a->index_cap ? a->index_cap * 2 : 64;
	size_t *idx = calloc(cap, sizeof(*idx));
	if (idx == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_boxes; i++) {
		size_t j = a->boxes[i].hash & (cap - 1);
		while (idx[j] != 0)
			j = (j + 1) & (cap - 1);
		idx[j] = i + 1;
	}
	free(a->index);
	a->index = idx;
	a->index_cap = cap;
	return 0;
}

static ssize_t box_find(const struct analyzer *a, const char *name, size_t len,
			uint32_t h)
{
	if (a->index_cap == 0)
		return -1;
	for (size_t j = h & (a->index_cap - 1);;
	     j = (j + 1) & (a->index_cap - 1)) {
		size_t v = a->index[j];
		if (v == 0)
			return -1;
		const struct box *b = &a->boxes[v - 1];
		if (b->hash == h && b->len == len &&
		    memcmp(b->name, name, len) == 0)
			return (ssize_t)(v - 1);
	}
}

/* The index of mailbox `name`, added when new; -1 on out of memory. */
static ssize_t box_get(struct analyzer *a, const char *name, size_t len)
{
	uint32_t h = fnv1a(name, len);
	ssize_t i = box_find(a, name, len, h);
	if (i >= 0)
		return i;
	if ((a->n_boxes + 1) * 2 > a->index_cap && index_grow(a) < 0)
		return -1;
	if (a->n_boxes == a->cap_boxes) {
		size_t cap = a->cap_boxes ? a->cap_boxes * 2 : 16;
		struct box *nb = realloc(a->boxes, cap * sizeof(*nb));
		if (nb == NULL)
			return -1;
		a->boxes = nb;
		a->cap_boxes = cap;
	}
	char *copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, name, len);
	copy[len] = '\0';
	struct box *b = &a->boxes[a->n_boxes];
	*b = (struct box){ .name = copy, .len = len, .hash = h };
	size_t j = h & (a->index_cap - 1);
	while (a->index[j] != 0)
		j = (j + 1) & (a->index_cap - 1);
	a->index[j] = ++a->n_boxes;
	return (ssize_t)(a->n_boxes - 1);
}

/* ------------------------------------------------------------ lifetime --- */

struct analyzer *analyzer_new(void)
{
	if (analyzer_global_init(NULL) < 0)
		return NULL;
	struct analyzer *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	/* enough pairs for every pattern's groups */
	a->md = pcre2_match_data_create(8, NULL);
	a->errors = calloc(ANALYZER_MAX_ERRORS, sizeof(*a->errors));
	if (a->md == NULL || a->errors == NULL) {
		analyzer_free(&a);
		return NULL;
	}
	a->attempt = 1;
	return a;
}

void analyzer_free(struct analyzer **ap)
{
	struct analyzer *a = *ap;
	if (a == NULL)
		return;
	pcre2_match_data_free(a->md);
	for (size_t i = 0; i < a->n_boxes; i++)
		free(a->boxes[i].name);
	free(a->boxes);
	free(a->index);
	for (size_t i = 0; i < a->n_dups; i++)
		free(a->dups[i].uid);
	free(a->dups);
	if (a->errors != NULL) {
		for (size_t i = 0; i < a->n_errors; i++)
			free(a->errors[i]);
		free(a->errors);
	}
	for (size_t i = 0; i < a->n_secrets; i++) {
		dv_wipe(a->secrets[i], strlen(a->secrets[i]));
		free(a->secrets[i]);
	}
	free(a->secrets);
	free(a->failure_detail);
	free(a);
	*ap = NULL;
}

int analyzer_add_secret(struct analyzer *a, const char *secret)
{
	if (secret == NULL || *secret == '\0')
		return 0;
	char **ns = realloc(a->secrets, (a->n_secrets + 1) * sizeof(*ns));
	if (ns == NULL)
		return -ENOMEM;
	a->secrets = ns;
	if ((a->secrets[a->n_secrets] = strdup(secret)) == NULL)
		return -ENOMEM;
	a->n_secrets++;
	return 0;
}

void analyzer_begin_attempt(struct analyzer *a)
{
	a->attempt++;
	a->storage_timeout = false;
	a->parallel_writes = false;
	a->failure = ANALYZER_FAIL_NONE;
	free(a->failure_detail);
	a->failure_detail = NULL;
	a->new_dups = 0;
}

/* ------------------------------------------------------------- parsing --- */

enum level {
	LV_NONE,
	LV_DEBUG,
	LV_INFO,
	LV_WARNING,
	LV_ERROR,
	LV_FATAL,
	LV_PANIC
};

/* The level whose name (followed by ": ") starts at p, with its length. */
static enum level level_at(const char *p, const char *end, size_t *len_r)
{
	static const struct {
		const char *word;
		size_t len;
		enum level lv;
	} words[] = {
		{ "Debug: ", 7, LV_DEBUG },	{ "Info: ", 6, LV_INFO },
		{ "Warning: ", 9, LV_WARNING }, { "Error: ", 7, LV_ERROR },
		{ "Fatal: ", 7, LV_FATAL },	{ "Panic: ", 7, LV_PANIC },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (words[i].word[0] == *p &&
		    (size_t)(end - p) >= words[i].len &&
		    memcmp(p, words[i].word, words[i].len) == 0) {
			*len_r = words[i].len;
			return words[i].lv;
		}
	}
	return LV_NONE;
}

/* Split a line into level and message; LV_NONE for unknown shapes. */
static enum level split_line(const char *line, size_t len, const char **msg_r,
			     size_t *msg_len_r)
{
	const char *end = line + len, *p = line;
	size_t wl;
	enum level lv;

	if (len == 0)
		return LV_NONE;
	lv = level_at(p, end, &wl);
	/* the prefix ends at the first ": " followed by a level; look only
	 * in the first 512 bytes (timestamp + "dsync(user)<pid><sess>") */
	const char *limit = len > 512 ? line + 512 : end;
	while (lv == LV_NONE) {
		/* p may have stepped past the limit over ": " */
		if (p >= limit)
			return LV_NONE;
		p = memchr(p, ':', (size_t)(limit - p));
		if (p == NULL || p + 2 >= end)
			return LV_NONE;
		p++;
		if (*p != ' ')
			continue;
		p++;
		lv = level_at(p, end, &wl);
	}
	*msg_r = p + wl;
	*msg_len_r = (size_t)(end - *msg_r);
	return lv;
}

static int match(struct analyzer *a, enum pat_id id, const char *s, size_t len)
{
	return pcre2_match(pat_code[id], (PCRE2_SPTR)s, len, 0, 0, a->md, NULL);
}

/* Group g of the last match as (start, length); false when unset. */
static bool group(struct analyzer *a, int g, const char *s, const char **p_r,
		  size_t *len_r)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(a->md);
	if (ov[2 * g] == PCRE2_UNSET)
		return false;
	*p_r = s + ov[2 * g];
	*len_r = ov[2 * g + 1] - ov[2 * g];
	return true;
}

/* The ", size=N" (else ", vsize=N") field of a mail_log line, 0 without. */
static unsigned long long field_size(const char *msg, size_t len)
{
	static const char *const keys[2] = { ", size=", ", vsize=" };

	for (int k = 0; k < 2; k++) {
		size_t kl = strlen(keys[k]);
		unsigned long long v = 0;

		for (size_t i = 0; i + kl < len; i++) {
			if (memcmp(msg + i, keys[k], kl) != 0)
				continue;
			for (i += kl; i < len && msg[i] >= '0' && msg[i] <= '9';
			     i++)
				v = v * 10 + (unsigned)(msg[i] - '0');
			return v;
		}
	}
	return 0;
}

static void handle_maillog(struct analyzer *a, const char *msg, size_t len)
{
	const char *ev, *box;
	size_t ev_len, box_len;

	if (match(a, PAT_MAILLOG, msg, len) < 0)
		return;
	if (!group(a, 1, msg, &ev, &ev_len) ||
	    !group(a, 2, msg, &box, &box_len))
		return;
	ssize_t i = box_get(a, box, box_len);
	if (i < 0) {
		a->oom = true;
		return;
	}
	if (ev[0] == 'e') {
		a->boxes[i].expunged++;
		a->expunged_total++;
	} else {
		a->boxes[i].saved++;
		a->saved_total++;
		a->saved_bytes += field_size(msg, len);
	}
}

static void handle_duplicate(struct analyzer *a, const char *msg, size_t len)
{
	const char *box, *uid;
	size_t box_len, uid_len;

	if (match(a, PAT_DUPLICATE, msg, len) < 0 ||
	    !group(a, 1, msg, &box, &box_len) ||
	    !group(a, 2, msg, &uid, &uid_len))
		return;
	/* imapc names the server's mailbox: modified UTF-7 */
	char *wire = a->box_utf8 != NULL ? strndup(box, box_len) : NULL;
	char *utf8 = wire != NULL ? a->box_utf8(wire, a->box_utf8_ctx) : NULL;
	ssize_t bi = utf8 != NULL ? box_get(a, utf8, strlen(utf8)) :
				    box_get(a, box, box_len);
	free(utf8);
	free(wire);
	if (bi < 0) {
		a->oom = true;
		return;
	}
	for (size_t i = 0; i < a->n_dups; i++) {
		if (a->dups[i].box == (size_t)bi &&
		    strncmp(a->dups[i].uid, uid, uid_len) == 0 &&
		    a->dups[i].uid[uid_len] == '\0')
			return;
	}
	if (a->n_dups == a->cap_dups) {
		size_t cap = a->cap_dups ? a->cap_dups * 2 : 8;
		struct dup *nd = realloc(a->dups, cap * sizeof(*nd));
		if (nd == NULL) {
			a->oom = true;
			return;
		}
		a->dups = nd;
		a->cap_dups = cap;
	}
	char *u = strndup(uid, uid_len);
	if (u == NULL) {
		a->oom = true;
		return;
	}
	a->dups[a->n_dups++] = (struct dup){ .box = (size_t)bi,
					     .uid = u,
					     .attempt = a->attempt };
	a->new_dups++;
}

/* Replace every registered secret in s by "<hidden>"; returns the new
 * string (s freed) or NULL on out of memory (s freed). */
static char *redact(const struct analyzer *a, char *s)
{
	static const char hidden[] = "<hidden>";
	for (size_t k = 0; k < a->n_secrets; k++) {
		const char *sec = a->secrets[k];
		size_t sl = strlen(sec);
		char *hit;
		while ((hit = strstr(s, sec)) != NULL) {
			size_t pre = (size_t)(hit - s), rest = strlen(hit + sl);
			char *n = malloc(pre + sizeof(hidden) + rest);
			if (n == NULL) {
				dv_wipe(s, strlen(s));
				free(s);
				return NULL;
			}
			memcpy(n, s, pre);
			memcpy(n + pre, hidden, sizeof(hidden) - 1);
			memcpy(n + pre + sizeof(hidden) - 1, hit + sl,
			       rest + 1);
			dv_wipe(s, strlen(s));
			free(s);
			s = n;
		}
	}
	return s;
}

/* A copy of s[0..len) that is valid UTF-8 without control bytes (invalid
 * bytes and controls become '?'), cut at a character boundary. */
static char *utf8_copy(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t i = 0;

	if (out == NULL)
		return NULL;
	while (i < len) {
		size_t n = dmf_utf8_len((const unsigned char *)s + i, len - i);
		if (n == 0 ||
		    (n == 1 && (unsigned char)s[i] < 0x20 && s[i] != '\t')) {
			out[i++] = '?';
			continue;
		}
		memcpy(out + i, s + i, n);
		i += n;
	}
	out[len] = '\0';
	return out;
}

static void keep_error(struct analyzer *a, const char *tagged, size_t len)
{
	if (len > ANALYZER_MAX_ERROR_LEN) {
		len = ANALYZER_MAX_ERROR_LEN;
		/* do not cut a UTF-8 sequence in two */
		while (len > 0 && ((unsigned char)tagged[len] & 0xc0) == 0x80)
			len--;
	}
	char *s = utf8_copy(tagged, len);
	if (s == NULL || (s = redact(a, s)) == NULL) {
		a->oom = true;
		return;
	}
	for (size_t i = 0; i < a->n_errors; i++) {
		if (strcmp(a->errors[i], s) == 0) {
			free(s);
			return;
		}
	}
	if (a->n_errors == ANALYZER_MAX_ERRORS) {
		a->errors_dropped++;
		free(s);
		return;
	}
	a->errors[a->n_errors++] = s;
}

static void set_failure(struct analyzer *a, enum analyzer_failure f,
			const char *detail, size_t len)
{
	if (a->failure != ANALYZER_FAIL_NONE)
		return;
	char *d = strndup(detail, len);
	if (d == NULL) {
		a->oom = true;
		return;
	}
	if ((d = redact(a, d)) == NULL) {
		a->oom = true;
		return;
	}
	a->failure = f;
	a->failure_detail = d;
}

static void classify(struct analyzer *a, const char *msg, size_t len)
{
	const char *g;
	size_t gl;

	if (a->failure != ANALYZER_FAIL_NONE)
		return;
	if (len > 7 && memcmp(msg, "imapc(", 6) == 0) {
		if (match(a, PAT_CONNECT, msg, len) >= 0) {
			if (group(a, 4, msg, &g, &gl))
				set_failure(a, ANALYZER_FAIL_IMAPC_CONNECT, g,
					    gl);
			else if (group(a, 2, msg, &g, &gl))
				set_failure(a,
					    ANALYZER_FAIL_IMAPC_CONNECT_TIMEOUT,
					    g, gl);
		}
	} else if (len > 27 &&
		   memcmp(msg, "Failed to initialize user: ", 27) == 0) {
		if (match(a, PAT_LOGIN, msg, len) >= 0 &&
		    group(a, 2, msg, &g, &gl))
			set_failure(a, ANALYZER_FAIL_IMAPC_LOGIN, g, gl);
	} else if (len > 6 && memcmp(msg, "Can't ", 6) == 0) {
		if (match(a, PAT_VIEW, msg, len) >= 0 &&
		    group(a, 1, msg, &g, &gl))
			set_failure(a, ANALYZER_FAIL_VIEW_INCONSISTENT, g, gl);
	} else if (len == 18 && memcmp(msg, "User doesn't exist", 18) == 0) {
		set_failure(a, ANALYZER_FAIL_USER_UNKNOWN, "", 0);
	}
}

static bool contains(const char *s, size_t len, const char *needle)
{
	return memmem(s, len, needle, strlen(needle)) != NULL;
}

void analyzer_feed_line(struct analyzer *a, const char *line, size_t len)
{
	const char *msg;
	size_t msg_len;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	enum level lv = split_line(line, len, &msg, &msg_len);
	switch (lv) {
	case LV_NONE:
	case LV_DEBUG:
	case LV_PANIC:
		return;
	case LV_INFO:
		if ((msg_len > 10 && memcmp(msg, "copy from ", 10) == 0) ||
		    (msg_len > 6 && memcmp(msg, "save: ", 6) == 0) ||
		    (msg_len > 9 && memcmp(msg, "expunge: ", 9) == 0))
			handle_maillog(a, msg, msg_len);
		return;
	case LV_WARNING:
	case LV_ERROR:
	case LV_FATAL:
		break;
	}
	if (contains(msg, msg_len, "reappeared in session"))
		handle_duplicate(a, msg, msg_len);
	if (contains(msg, msg_len, "Absolute request timeout expired") &&
	    match(a, PAT_PARALLEL, msg, msg_len) >= 0)
		a->parallel_writes = true;
	if (lv == LV_WARNING)
		return;
	if (msg_len >= 14 && memcmp(msg, "Raw backtrace:", 14) == 0)
		return;
	/* keep "Error: ..." / "Fatal: ...": the tag starts 7 bytes back */
	keep_error(a, msg - 7, msg_len + 7);
	if (!a->storage_timeout &&
	    match(a, PAT_STORAGE_TIMEOUT, msg, msg_len) >= 0)
		a->storage_timeout = true;
	classify(a, msg, msg_len);
}

/* ----------------------------------------------------------- accessors --- */

void analyzer_set_mailbox_decoder(struct analyzer *a,
				  char *(*utf8)(const char *name, void *ctx),
				  void *ctx)
{
	a->box_utf8 = utf8;
	a->box_utf8_ctx = ctx;
}

bool analyzer_storage_timeout(const struct analyzer *a)
{
	return a->storage_timeout;
}

bool analyzer_parallel_writes_timeout(const struct analyzer *a)
{
	return a->parallel_writes;
}

enum analyzer_failure analyzer_failure(const struct analyzer *a,
				       const char **detail_r)
{
	if (detail_r != NULL)
		*detail_r = a->failure_detail != NULL ? a->failure_detail : "";
	return a->failure;
}

const char *analyzer_failure_name(enum analyzer_failure f)
{
	switch (f) {
	case ANALYZER_FAIL_NONE:
		return "none";
	case ANALYZER_FAIL_IMAPC_LOGIN:
		return "imapc-login";
	case ANALYZER_FAIL_IMAPC_CONNECT:
		return "imapc-connect";
	case ANALYZER_FAIL_IMAPC_CONNECT_TIMEOUT:
		return "imapc-connect-timeout";
	case ANALYZER_FAIL_VIEW_INCONSISTENT:
		return "view-inconsistent";
	case ANALYZER_FAIL_USER_UNKNOWN:
		return "user-unknown";
	}
	return "unknown";
}

size_t analyzer_new_duplicates(const struct analyzer *a)
{
	return a->new_dups;
}

unsigned long analyzer_saved_total(const struct analyzer *a)
{
	return a->saved_total;
}

unsigned long analyzer_expunged_total(const struct analyzer *a)
{
	return a->expunged_total;
}

unsigned long long analyzer_saved_bytes(const struct analyzer *a)
{
	return a->saved_bytes;
}

size_t analyzer_error_count(const struct analyzer *a)
{
	return a->n_errors;
}

const char *analyzer_error(const struct analyzer *a, size_t i)
{
	return i < a->n_errors ? a->errors[i] : NULL;
}

size_t analyzer_errors_dropped(const struct analyzer *a)
{
	return a->errors_dropped;
}

bool analyzer_oom(const struct analyzer *a)
{
	return a->oom;
}

size_t analyzer_duplicate_count(const struct analyzer *a)
{
	return a->n_dups;
}

bool analyzer_duplicate(const struct analyzer *a, size_t i,
			const char **mailbox_r, const char **uid_r, bool *new_r)
{
	if (i >= a->n_dups)
		return false;
	*mailbox_r = a->boxes[a->dups[i].box].name;
	*uid_r = a->dups[i].uid;
	if (new_r != NULL)
		*new_r = a->dups[i].attempt == a->attempt;
	return true;
}

unsigned long analyzer_saved(const struct analyzer *a, const char *mailbox)
{
	size_t len = strlen(mailbox);
	ssize_t i = box_find(a, mailbox, len, fnv1a(mailbox, len));
	return i < 0 ? 0 : a->boxes[i].saved;
}

unsigned long analyzer_expunged(const struct analyzer *a, const char *mailbox)
{
	size_t len = strlen(mailbox);
	ssize_t i = box_find(a, mailbox, len, fnv1a(mailbox, len));
	return i < 0 ? 0 : a->boxes[i].expunged;
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
	if (v == NULL)
		return -ENOMEM;
	return json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

int analyzer_to_json(const struct analyzer *a, json_t *obj, bool with_counts)
{
	if (with_counts) {
		json_t *saved = json_object(), *exp = json_object();
		if (saved == NULL || exp == NULL) {
			json_decref(saved);
			json_decref(exp);
			return -ENOMEM;
		}
		for (size_t i = 0; i < a->n_boxes; i++) {
			const struct box *b = &a->boxes[i];
			if (b->saved > 0 &&
			    set_new(saved, b->name,
				    json_integer((json_int_t)b->saved)) < 0)
				goto oom;
			if (b->expunged > 0 &&
			    set_new(exp, b->name,
				    json_integer((json_int_t)b->expunged)) < 0)
				goto oom;
		}
		if (set_new(obj, "saved", saved) < 0) {
			json_decref(exp);
			return -ENOMEM;
		}
		if (set_new(obj, "expunged", exp) < 0)
			return -ENOMEM;
		goto counts_done;
	oom:
		json_decref(saved);
		json_decref(exp);
		return -ENOMEM;
	}
counts_done:;
	json_t *inv = json_object();
	if (inv == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_dups; i++) {
		const char *box = a->boxes[a->dups[i].box].name;
		json_t *list = json_object_get(inv, box);
		if (list == NULL) {
			list = json_array();
			if (set_new(inv, box, list) < 0) {
				json_decref(inv);
				return -ENOMEM;
			}
		}
		if (json_array_append_new(list, json_string(a->dups[i].uid)) <
		    0) {
			json_decref(inv);
			return -ENOMEM;
		}
	}
	if (set_new(obj, "invalid", inv) < 0)
		return -ENOMEM;
	json_t *errs = json_array();
	if (errs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_errors; i++) {
		/* kept lines are valid UTF-8 (utf8_copy) */
		if (json_array_append_new(errs, json_string(a->errors[i])) <
		    0) {
			json_decref(errs);
			return -ENOMEM;
		}
	}
	return set_new(obj, "errors", errs);
}
