/* doveadm_http.c - the doveadm HTTP API client (doveadm_http.h). */
#include "dmf-build.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "client/doveadm_http.h"
#include "lib/job.h"
#include "lib/log.h"
#include "lib/util.h"

#define DHTTP_BASE "micronaut.http.services.doveadm"
#define DHTTP_POOL 8
#define DHTTP_MAX_REPLY (16u << 20)
#define DHTTP_PATH "/doveadm/v1"

static struct {
	bool up;
	bool tls_enabled; /* ssl.enabled: use the ssl.* settings */
	bool verify;
	char *ca_pem; /* the trust store as PEM text, or NULL */
	size_t ca_pem_len;
	long long connect_ms, read_ms;
	pthread_mutex_t lock;
	CURL *idle[DHTTP_POOL];
	size_t n_idle;
	unsigned long calls, connects;
} dh = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ----------------------------------------------------- trust store --- */

static int pem_append(BIO *out, X509 *x)
{
	return PEM_write_bio_X509(out, x) == 1 ? 0 : -EIO;
}

/* The certificates of a PKCS#12 trust store (keytool -importcert, or
 * openssl pkcs12 -export) as PEM into `out`. */
static int p12_to_pem(const char *path, const char *password, BIO *out,
		      char **error_r)
{
	FILE *f = fopen(path, "rb");
	PKCS12 *p12;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	int n = 0, r = 0;

	if (f == NULL) {
		*error_r = xasprintf("%s.ssl.trust-store.path: cannot open %s: "
				     "%s",
				     DHTTP_BASE, path, strerror(errno));
		return -errno;
	}
	p12 = d2i_PKCS12_fp(f, NULL);
	fclose(f);
	if (p12 == NULL) {
		*error_r = xasprintf("%s.ssl.trust-store: %s is not a PKCS#12 "
				     "file",
				     DHTTP_BASE, path);
		return -EINVAL;
	}
	if (!PKCS12_parse(p12, password != NULL ? password : "", &key, &cert,
			  &ca)) {
		*error_r =
			xasprintf("%s.ssl.trust-store: cannot read %s (wrong "
				  "password?)",
				  DHTTP_BASE, path);
		PKCS12_free(p12);
		return -EKEYREJECTED;
	}
	if (cert != NULL && pem_append(out, cert) == 0)
		n++;
	for (int i = 0; ca != NULL && i < sk_X509_num(ca); i++)
		if (pem_append(out, sk_X509_value(ca, i)) == 0)
			n++;
	if (n == 0) {
		*error_r = xasprintf("%s.ssl.trust-store: %s holds no "
				     "certificate",
				     DHTTP_BASE, path);
		r = -EINVAL;
	}
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	return r;
}

/* PEM certificates from `path`, checked (at least one must parse). */
static int pem_file(const char *path, BIO *out, char **error_r)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	int n = 0;

	if (f == NULL) {
		*error_r = xasprintf("%s.ssl.trust-store.path: cannot open %s: "
				     "%s",
				     DHTTP_BASE, path, strerror(errno));
		return -errno;
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (pem_append(out, x) == 0)
			n++;
		X509_free(x);
	}
	fclose(f);
	if (n == 0) {
		*error_r = xasprintf("%s.ssl.trust-store: %s holds no PEM "
				     "certificate",
				     DHTTP_BASE, path);
		return -EINVAL;
	}
	return 0;
}

static int load_trust_store(const struct cfg_node *ssl, char **error_r)
{
	const char *path = NULL, *password = NULL, *type = NULL, *e = NULL;
	BIO *out;
	BUF_MEM *mem;
	bool p12;
	int r;

	if (cfg_get_string(ssl, "trust-store.path", NULL, &path, &e) < 0 ||
	    cfg_get_string(ssl, "trust-store.password", NULL, &password, &e) <
		    0 ||
	    cfg_get_string(ssl, "trust-store.type", NULL, &type, &e) < 0) {
		*error_r = xstrdup(e);
		return -EINVAL;
	}
	if (path == NULL || *path == '\0')
		return 0;
	if (strncmp(path, "file:", 5) == 0)
		path += 5;
	if (type == NULL || *type == '\0') {
		size_t l = strlen(path);
		p12 = !(l > 4 && (strcasecmp(path + l - 4, ".pem") == 0 ||
				  strcasecmp(path + l - 4, ".crt") == 0));
	} else if (strcasecmp(type, "PKCS12") == 0) {
		p12 = true;
	} else if (strcasecmp(type, "PEM") == 0) {
		p12 = false;
	} else {
		*error_r = xasprintf("%s.ssl.trust-store.type: '%s' is not "
				     "PKCS12 or PEM",
				     DHTTP_BASE, type);
		return -EINVAL;
	}
	out = BIO_new(BIO_s_mem());
	if (out == NULL)
		return -ENOMEM;
	r = p12 ? p12_to_pem(path, password, out, error_r) :
		  pem_file(path, out, error_r);
	if (r == 0) {
		BIO_get_mem_ptr(out, &mem);
		dh.ca_pem = malloc(mem->length + 1);
		if (dh.ca_pem == NULL) {
			r = -ENOMEM;
		} else {
			memcpy(dh.ca_pem, mem->data, mem->length);
			dh.ca_pem[mem->length] = '\0';
			dh.ca_pem_len = mem->length;
		}
	}
	BIO_free(out);
	return r;
}

/* ------------------------------------------------------- init/deinit --- */

int dhttp_init(const struct config *cfg, char **error_r)
{
	const struct cfg_node *base =
		cfg != NULL ? cfg_get(cfg->root, DHTTP_BASE) : NULL;
	const struct cfg_node *ssl = cfg_get(base, "ssl");
	bool insecure = false;
	const char *e = NULL;
	int r;

	dhttp_deinit();
	if (cfg_get_duration_ms(base, "connect-timeout", 5000, &dh.connect_ms,
				&e) < 0 ||
	    cfg_get_duration_ms(base, "read-timeout", 10000, &dh.read_ms, &e) <
		    0 ||
	    cfg_get_bool(ssl, "enabled", false, &dh.tls_enabled, &e) < 0 ||
	    cfg_get_bool(ssl, "insecure-trust-all-certificates", false,
			 &insecure, &e) < 0) {
		*error_r = xstrdup(e);
		return -EINVAL;
	}
	/* ssl.enabled turns the ssl.* settings on (as in the spec's
	 * example); without it an https URL is verified against the
	 * system's CAs */
	dh.verify = !(dh.tls_enabled && insecure);
	r = dh.tls_enabled ? load_trust_store(ssl, error_r) : 0;
	if (r < 0)
		return r;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(dh.ca_pem);
		dh.ca_pem = NULL;
		*error_r = xstrdup("libcurl could not be initialised");
		return -EIO;
	}
	dh.up = true;
	return 0;
}

void dhttp_deinit(void)
{
	if (!dh.up)
		return;
	pthread_mutex_lock(&dh.lock);
	for (size_t i = 0; i < dh.n_idle; i++)
		curl_easy_cleanup(dh.idle[i]);
	dh.n_idle = 0;
	pthread_mutex_unlock(&dh.lock);
	free(dh.ca_pem);
	dh.ca_pem = NULL;
	dh.ca_pem_len = 0;
	dh.calls = dh.connects = 0;
	curl_global_cleanup();
	dh.up = false;
}

void dhttp_stats(unsigned long *calls_r, unsigned long *connects_r)
{
	pthread_mutex_lock(&dh.lock);
	*calls_r = dh.calls;
	*connects_r = dh.connects;
	pthread_mutex_unlock(&dh.lock);
}

/* --------------------------------------------------------- handles --- */

static CURL *handle_get(void)
{
	CURL *c = NULL;

	pthread_mutex_lock(&dh.lock);
	if (dh.n_idle > 0)
		c = dh.idle[--dh.n_idle];
	pthread_mutex_unlock(&dh.lock);
	return c != NULL ? c : curl_easy_init();
}

/* Back to the pool, keeping its connection (or cleaned up when full). */
static void handle_put(CURL *c, bool keep)
{
	pthread_mutex_lock(&dh.lock);
	if (keep && dh.n_idle < DHTTP_POOL) {
		curl_easy_reset(c); /* keeps the connection cache */
		dh.idle[dh.n_idle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&dh.lock);
	if (c != NULL)
		curl_easy_cleanup(c);
}

/* ------------------------------------------------------------ a call --- */

struct reply {
	char *p;
	size_t len;
	bool too_big;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct reply *b = ctx;
	size_t add = size * n;
	char *np;

	if (b->len + add > DHTTP_MAX_REPLY) {
		b->too_big = true;
		return 0;
	}
	np = realloc(b->p, b->len + add + 1);
	if (np == NULL)
		return 0;
	memcpy(np + b->len, data, add);
	b->len += add;
	np[b->len] = '\0';
	b->p = np;
	return add;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	const struct dmf_job *job = ctx;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return job != NULL && job_is_aborted(job) ? 1 : 0;
}

/* "Authorization: SCHEME base64(text)" (allocated; wipe it). */
static char *auth_header(const char *scheme, const char *text)
{
	size_t len = strlen(text), cap = 4 * ((len + 2) / 3) + 1;
	unsigned char *b64 = malloc(cap);
	char *h;

	if (b64 == NULL)
		return NULL;
	EVP_EncodeBlock(b64, (const unsigned char *)text, (int)len);
	h = xasprintf("Authorization: %s %s", scheme, (char *)b64);
	secure_wipe(b64, cap);
	free(b64);
	return h;
}

static void slist_wipe_free(struct curl_slist *l)
{
	for (struct curl_slist *i = l; i != NULL; i = i->next)
		if (i->data != NULL)
			secure_wipe(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

/* The URL with /doveadm/v1 when it has no path (allocated). */
static char *full_url(const char *url)
{
	const char *s = strstr(url, "://");
	const char *path = s != NULL ? strchr(s + 3, '/') : NULL;

	if (path != NULL && path[1] != '\0')
		return xstrdup(url);
	return xasprintf(
		"%.*s%s",
		(int)(path != NULL ? (size_t)(path - url) : strlen(url)), url,
		DHTTP_PATH);
}

/* host[:port] of a URL, for messages (no user info). */
static void url_host(const char *url, char *buf, size_t size)
{
	const char *s = strstr(url, "://");
	const char *h = s != NULL ? s + 3 : url;
	const char *at = strchr(h, '@'), *end;

	if (at != NULL && (strchr(h, '/') == NULL || at < strchr(h, '/')))
		h = at + 1;
	end = h + strcspn(h, "/?#");
	snprintf(buf, size, "%.*s", (int)(end - h), h);
}

static int map_curl_error(CURLcode cc, const char *errbuf, long os_errno,
			  const char *host, long long timeout_ms,
			  char **error_r)
{
	const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		/* curl says "Couldn't connect to server"; the errno says why */
		*error_r = xasprintf("cannot connect to %s: %s", host,
				     os_errno != 0 ? strerror((int)os_errno) :
						     why);
		return os_errno == ECONNREFUSED ? -ECONNREFUSED : -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		*error_r = xasprintf("%s did not answer within %lld ms", host,
				     timeout_ms);
		return -ETIMEDOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		*error_r = xasprintf("TLS with %s: the certificate does not "
				     "verify: %s",
				     host, why);
		return -EBADMSG;
	case CURLE_SSL_CONNECT_ERROR:
		*error_r = xasprintf("TLS with %s failed: %s", host, why);
		return -EBADMSG;
	case CURLE_ABORTED_BY_CALLBACK:
		*error_r = xasprintf("aborted (the job was stopped)");
		return -ECANCELED;
	case CURLE_COULDNT_RESOLVE_HOST:
		*error_r = xasprintf("cannot resolve %s", host);
		return -EHOSTUNREACH;
	default:
		*error_r = xasprintf("request to %s failed: %s", host, why);
		return -EIO;
	}
}

int dhttp_parse_reply(const char *body, size_t len, const char *host,
		      char **result_r, int *exit_code_r, char **error_r)
{
	json_error_t je;
	json_t *all = json_loadb(body, len, 0, &je);
	json_t *first = json_array_get(all, 0);
	const char *type = json_string_value(json_array_get(first, 0));
	json_t *payload = json_array_get(first, 1);
	int r = 0;

	if (all == NULL) {
		*error_r = xasprintf("malformed JSON from %s: %s (line %d)",
				     host, je.text, je.line);
		return -EPROTO;
	}
	if (type == NULL || payload == NULL) {
		*error_r = xasprintf("unexpected reply from %s (not "
				     "[[\"doveadmResponse\"|\"error\", ...]])",
				     host);
		r = -EPROTO;
	} else if (strcmp(type, "doveadmResponse") == 0) {
		*result_r = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
		if (*result_r == NULL) {
			*error_r = xstrdup("out of memory");
			r = -ENOMEM;
		}
	} else if (strcmp(type, "error") == 0) {
		json_t *code = json_object_get(payload, "exitCode");
		const char *etype =
			json_string_value(json_object_get(payload, "type"));

		*exit_code_r = json_is_integer(code) ?
				       (int)json_integer_value(code) :
				       -1;
		*error_r = xasprintf("doveadm error from %s: %s%s%d", host,
				     etype != NULL ? etype : "error",
				     etype != NULL ? " " : "", *exit_code_r);
		r = -EREMOTEIO;
	} else {
		*error_r = xasprintf("unexpected reply type '%s' from %s", type,
				     host);
		r = -EPROTO;
	}
	json_decref(all);
	return r;
}

int dhttp_doveadm(struct dmf_job *job, const struct dmf_http_target *t,
		  const char *command, const char *params, char **result_r,
		  int *exit_code_r, char **error_r)
{
	char errbuf[CURL_ERROR_SIZE] = "", host[256], *url = NULL, *auth = NULL,
	     *body = NULL;
	struct curl_slist *headers = NULL;
	struct reply reply = { 0 };
	json_t *req = NULL, *pj = NULL;
	long long timeout_ms;
	long status = 0, connects = 0, os_errno = 0;
	CURL *c = NULL;
	CURLcode cc;
	json_error_t je;
	int r = 0;

	*result_r = NULL;
	*error_r = NULL;
	*exit_code_r = -1;
	if (!dh.up || t == NULL || t->size < sizeof(*t) || t->url == NULL ||
	    command == NULL) {
		*error_r = xstrdup("the doveadm HTTP client is not set up or "
				   "the call is incomplete");
		return -EINVAL;
	}
	url_host(t->url, host, sizeof(host));
	if (strncasecmp(t->url, "https://", 8) != 0 &&
	    strncasecmp(t->url, "http://", 7) != 0) {
		*error_r =
			xasprintf("the doveadm URL of %s is not http(s)", host);
		return -EINVAL;
	}
	pj = params != NULL ? json_loads(params, 0, &je) : json_object();
	if (!json_is_object(pj)) {
		json_decref(pj);
		*error_r = xasprintf("the parameters of %s are not a JSON "
				     "object",
				     command);
		return -EINVAL;
	}
	req = json_pack("[[s,o,s]]", command, pj, "dmf");
	body = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	url = full_url(t->url);
	if (t->api_key != NULL && *t->api_key != '\0')
		auth = auth_header("X-Dovecot-API", t->api_key);
	else if (t->password != NULL) {
		char *up = xasprintf(
			"%s:%s", t->username != NULL ? t->username : "doveadm",
			t->password);
		auth = up != NULL ? auth_header("Basic", up) : NULL;
		secret_free(&up);
	}
	c = handle_get();
	if (body == NULL || url == NULL || c == NULL ||
	    (auth == NULL && ((t->api_key != NULL && *t->api_key != '\0') ||
			      t->password != NULL))) {
		*error_r = xstrdup("out of memory");
		r = -ENOMEM;
		goto out;
	}
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Accept: application/json");
	if (auth != NULL)
		headers = curl_slist_append(headers, auth);
	timeout_ms =
		t->timeout_ms > 0 ? t->timeout_ms : dh.connect_ms + dh.read_ms;
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)dh.connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, job);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, dh.verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, dh.verify ? 2L : 0L);
	if (dh.ca_pem != NULL) {
		struct curl_blob blob = { dh.ca_pem, dh.ca_pem_len,
					  CURL_BLOB_NOCOPY };
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
	pthread_mutex_lock(&dh.lock);
	dh.calls++;
	dh.connects += (unsigned long)connects;
	pthread_mutex_unlock(&dh.lock);
	if (cc != CURLE_OK) {
		if (reply.too_big) {
			*error_r = xasprintf("the reply of %s is larger than "
					     "%u bytes",
					     host, DHTTP_MAX_REPLY);
			r = -EPROTO;
		} else {
			r = map_curl_error(cc, errbuf, os_errno, host,
					   timeout_ms, error_r);
		}
	} else if (status == 401 || status == 403) {
		*error_r = xasprintf("%s refused the credentials (HTTP %ld)",
				     host, status);
		r = -EACCES;
	} else if (status != 200) {
		*error_r = xasprintf("%s answered HTTP %ld to %s", host, status,
				     command);
		r = -EPROTO;
	} else {
		r = dhttp_parse_reply(reply.p != NULL ? reply.p : "", reply.len,
				      host, result_r, exit_code_r, error_r);
	}
	log_job(DMF_LOG_DEBUG, job,
		"doveadm http: %s to %s: %s (HTTP %ld, %s connection)", command,
		host,
		r == 0		 ? "ok" :
		*error_r != NULL ? *error_r :
				   "failed",
		status, connects > 0 ? "new" : "reused");
out:
	slist_wipe_free(headers);
	if (auth != NULL) {
		secure_wipe(auth, strlen(auth));
		free(auth);
	}
	free(url);
	free(body);
	free(reply.p);
	if (c != NULL)
		handle_put(c, r != -ECANCELED);
	if (r < 0 && *error_r == NULL)
		*error_r = xstrdup("out of memory");
	return r;
}

/* ------------------------------------------------------------- table --- */

static void h_free_string(char **s)
{
	secret_free(s);
}

static const struct dmf_host_http http_table = {
	.size = sizeof(struct dmf_host_http),
	.doveadm = dhttp_doveadm,
	.free_string = h_free_string,
};

const struct dmf_host_http *dhttp_table(void)
{
	return dh.up ? &http_table : NULL;
}
