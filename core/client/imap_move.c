/* imap_move.c - moving messages at the source over IMAP (imap_move.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "client/imap_move.h"
#include "dmf/text.h"
#include "lib/mutf7.h"
#include "lib/util.h"

/* The replies of a custom request (a LIST line; at most 1 MB kept). */
static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
	struct dmf_strbuf *b = ctx;

	if (b->len + size * n > (1u << 20))
		return 0;
	dmf_strbuf_add(b, data, size * n);
	return b->failed ? 0 : size * n;
}

/* An IMAP quoted string ("..." with \ and " escaped); allocated. */
static char *quoted(const char *s)
{
	size_t o = 0;
	char *out = malloc(strlen(s) * 2 + 3);

	if (out == NULL)
		return NULL;
	out[o++] = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* The URL of the server, or of `mailbox` (its wire name, modified UTF-7)
 * on it (allocated): libcurl SELECTs it before a custom request. */
static char *url_of(CURL *c, const struct dmf_imap_target *t,
		    const char *mailbox)
{
	bool imaps = t->ssl != NULL && strcmp(t->ssl, "imaps") == 0;
	const char *port = t->port != NULL ? t->port : imaps ? "993" : "143";
	char *esc = mailbox != NULL ? curl_easy_escape(c, mailbox, 0) : NULL;
	char *u = xasprintf("%s://%s:%s/%s", imaps ? "imaps" : "imap", t->host,
			    port, esc != NULL ? esc : "");

	curl_free(esc);
	return u;
}

/* One custom request (on `mailbox`, selected first, when not NULL). */
static int request(CURL *c, const struct dmf_imap_target *t,
		   const char *mailbox, const char *cmd, struct dmf_strbuf *out,
		   char **error_r)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url = url_of(c, t, mailbox);
	CURLcode cc;

	if (url == NULL)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, cmd);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	cc = curl_easy_perform(c);
	free(url);
	if (cc == CURLE_OK)
		return 0;
	*error_r =
		xasprintf("IMAP %s at %s: %s", cmd, t->host,
			  errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
	return cc == CURLE_LOGIN_DENIED	      ? -EACCES :
	       cc == CURLE_COULDNT_CONNECT    ? -ECONNREFUSED :
	       cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT :
						-EIO;
}

/* The hierarchy separator from `* LIST (...) "/" ""`; '/' when none. */
static char separator(const char *list)
{
	const char *p = list != NULL ? strstr(list, ") \"") : NULL;

	if (p != NULL && p[3] != '\0' && p[3] != '"')
		return p[3] == '\\' && p[4] != '\0' ? p[4] : p[3];
	return '/';
}

int imap_move_uids(struct dmf_job *job, const struct dmf_imap_target *t,
		   const char *mailbox, const char *dest, const char *uid_set,
		   char **moved_to_r, char **error_r)
{
	struct dmf_strbuf list = { 0 }, junk = { 0 };
	char *full = NULL, *qfull = NULL, *cmd = NULL, *wbox = NULL;
	char *wfull = NULL;
	CURL *c;
	int r;

	(void)job;
	*error_r = NULL;
	if (moved_to_r != NULL)
		*moved_to_r = NULL;
	if (t == NULL || t->size < sizeof(*t) || t->host == NULL ||
	    t->user == NULL || mailbox == NULL || dest == NULL ||
	    uid_set == NULL ||
	    strspn(uid_set, "0123456789,:") != strlen(uid_set)) {
		*error_r = xstrdup("incomplete IMAP move request");
		return -EINVAL;
	}
	/* names travel as modified UTF-7 (RFC 3501 5.1.3): "Entwürfe" is
	 * "Entw&APw-rfe" on the wire */
	r = mutf7_encode(mailbox, &wbox);
	if (r < 0) {
		*error_r =
			xstrdup(r == -EILSEQ ? "the mailbox name is not UTF-8" :
					       "out of memory");
		return r;
	}
	c = curl_easy_init();
	if (c == NULL) {
		free(wbox);
		return -ENOMEM;
	}
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
	if (t->master_user != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, t->master_user);
		curl_easy_setopt(c, CURLOPT_SASL_AUTHZID, t->user);
		curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN");
	} else {
		curl_easy_setopt(c, CURLOPT_USERNAME, t->user);
	}
	curl_easy_setopt(c, CURLOPT_PASSWORD,
			 t->password != NULL ? t->password : "");
	if (t->ssl != NULL && strcmp(t->ssl, "starttls") == 0)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	/* one handle: one connection and login for every request */
	r = request(c, t, NULL, "LIST \"\" \"\"", &list, error_r);
	if (r == 0) {
		full = xasprintf("%s%c%s", mailbox, separator(list.p), dest);
		r = full != NULL ? mutf7_encode(full, &wfull) : -ENOMEM;
		if (r == -EILSEQ)
			*error_r = xstrdup("the folder name is not UTF-8");
		qfull = r == 0 ? quoted(wfull) : NULL;
		if (r == 0 && qfull == NULL)
			r = -ENOMEM;
	}
	if (r == 0) {
		char *e = NULL;

		/* fails when it exists: the COPY below tells */
		cmd = xasprintf("CREATE %s", qfull);
		if (cmd == NULL)
			r = -ENOMEM;
		else if (request(c, t, NULL, cmd, &junk, &e) < 0)
			free(e);
		free(cmd);
	}
	if (r == 0) {
		cmd = xasprintf("UID COPY %s %s", uid_set, qfull);
		r = cmd != NULL ? request(c, t, wbox, cmd, &junk, error_r) :
				  -ENOMEM;
		free(cmd);
	}
	if (r == 0) {
		cmd = xasprintf("UID STORE %s +FLAGS.SILENT (\\Deleted)",
				uid_set);
		r = cmd != NULL ? request(c, t, wbox, cmd, &junk, error_r) :
				  -ENOMEM;
		free(cmd);
	}
	if (r == 0) {
		cmd = xasprintf("UID EXPUNGE %s", uid_set);
		r = cmd != NULL ? request(c, t, wbox, cmd, &junk, error_r) :
				  -ENOMEM;
		free(cmd);
	}
	curl_easy_cleanup(c);
	if (r == 0 && moved_to_r != NULL) {
		*moved_to_r = full;
		full = NULL;
	}
	if (r < 0 && *error_r == NULL)
		*error_r = xstrdup("out of memory");
	free(full);
	free(wfull);
	free(wbox);
	free(qfull);
	dmf_strbuf_free(&list);
	dmf_strbuf_free(&junk);
	return r;
}

static void h_free_string(char **s)
{
	free(*s);
	*s = NULL;
}

static char *h_mailbox_utf8(const char *name)
{
	char *out = NULL;

	return name != NULL && mutf7_decode(name, &out) == 0 ? out : NULL;
}

static const struct dmf_host_imap imap_table = {
	.size = sizeof(struct dmf_host_imap),
	.move_uids = imap_move_uids,
	.free_string = h_free_string,
	.mailbox_utf8 = h_mailbox_utf8,
};

const struct dmf_host_imap *imap_move_table(void)
{
	return &imap_table;
}
