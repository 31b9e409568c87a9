/*
 * http_server.c - the worker's HTTP(S) server on libmicrohttpd.
 *
 * Every request goes: address check (403), route lookup (404 unknown or
 * disabled, 405 wrong method), credentials (401 when present and wrong,
 * or when the endpoint is sensitive and none came), then the route's
 * handler.  Request bodies are kept up to a limit (413 beyond it); the
 * header size is bounded by the connection memory limit (MHD answers 431
 * itself); idle connections time out; the number of connections is
 * bounded.  Handlers run on MHD's threads and answer from memory.
 */
#include "dmf-build.h"

#include "http/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/http_auth.h"
#include "http/http_keystore.h"
#include "lib/log.h"
#include "lib/util.h"

#define MAX_PARAMS 4
#define MAX_QUERY 64
#define REALM "Basic realm=\"Micronaut Host\""
#define FAIL_SLOTS 64
#define FAIL_QUIET_MS 60000

struct route {
	char *method, *pattern, *endpoint;
	http_handler_fn *fn;
	void *ctx;
};

/* the endpoints the configuration knows (spec defaults) */
struct endpoint_conf {
	const char *name;
	bool enabled, sensitive;
};

struct fail_slot {
	char addr[INET6_ADDRSTRLEN];
	uint64_t last_ms;
};

struct http_server {
	struct MHD_Daemon *daemon;
	struct route *routes;
	size_t n_routes;
	struct endpoint_conf ep[5];
	bool security;
	char *user, *password; /* password secret */
	char **ip_patterns;
	bool tls;
	struct http_pem pem;
	char *host;
	unsigned port;
	_Atomic unsigned bound_port; /* set by the thread that binds */
	unsigned threads, max_conn, idle_s;
	size_t max_body, max_header;
	pthread_mutex_t fail_lock;
	struct fail_slot fails[FAIL_SLOTS];
};

/* per request: the body received so far */
struct req_state {
	struct dmf_strbuf body;
	bool too_large;
};

/* ------------------------------------------------------------ config --- */

/* endpoints.<name>.<what> if set, else endpoints.all.<what>, else def */
static int ep_flag(const struct config *cfg, const char *name, const char *what,
		   bool def, bool *value_r, char **error_r)
{
	char key[128];
	const char *err = NULL;

	snprintf(key, sizeof(key), "endpoints.%s.%s", name, what);
	if (cfg_get(cfg->root, key) == NULL)
		snprintf(key, sizeof(key), "endpoints.all.%s", what);
	if (cfg_get_bool(cfg->root, key, def, value_r, &err) < 0) {
		*error_r = xasprintf("%s", err);
		return -EINVAL;
	}
	return 0;
}

static int read_endpoints(const struct config *cfg, struct http_server *s,
			  char **error_r)
{
	static const char *const names[] = { "health", "info", "metrics",
					     "prometheus" };
	const char *err = NULL;
	bool metrics = true, prom = true;

	for (size_t i = 0; i < 4; i++) {
		struct endpoint_conf *e = &s->ep[i];

		e->name = names[i];
		/* Micronaut: health is not sensitive by itself, the others
		 * are; endpoints.all.sensitive overrides that default */
		if (ep_flag(cfg, e->name, "enabled", true, &e->enabled,
			    error_r) < 0 ||
		    ep_flag(cfg, e->name, "sensitive", i != 0, &e->sensitive,
			    error_r) < 0)
			return -EINVAL;
	}
	if (cfg_get_bool(cfg->root, "micronaut.metrics.enabled", true, &metrics,
			 &err) < 0 ||
	    cfg_get_bool(cfg->root,
			 "micronaut.metrics.export.prometheus.enabled", true,
			 &prom, &err) < 0) {
		*error_r = xasprintf("%s", err);
		return -EINVAL;
	}
	s->ep[2].enabled = s->ep[2].enabled && metrics;
	s->ep[3].enabled = s->ep[3].enabled && metrics && prom;
	s->ep[4].name = "admin";
	s->ep[4].enabled = true;
	s->ep[4].sensitive = true;
	return 0;
}

static const struct endpoint_conf *find_ep(const struct http_server *s,
					   const char *name)
{
	for (size_t i = 0; i < sizeof(s->ep) / sizeof(s->ep[0]); i++)
		if (s->ep[i].name != NULL && strcmp(s->ep[i].name, name) == 0)
			return &s->ep[i];
	return NULL;
}

bool http_server_endpoint_enabled(const struct http_server *srv,
				  const char *endpoint)
{
	const struct endpoint_conf *e = find_ep(srv, endpoint);

	return e != NULL && e->enabled;
}

static int get_uint(const struct config *cfg, const char *key, long long def,
		    long long lo, long long hi, unsigned *value_r,
		    char **error_r)
{
	const char *err = NULL;
	long long v;

	if (cfg_get_int(cfg->root, key, def, &v, &err) < 0) {
		*error_r = xasprintf("%s", err);
		return -EINVAL;
	}
	if (v < lo || v > hi) {
		char what[96];

		snprintf(what, sizeof(what), "must be %lld to %lld", lo, hi);
		return cfg_key_error(cfg, key, what, error_r);
	}
	*value_r = (unsigned)v;
	return 0;
}

/* Server threads by default: two per CPU (as Netty's event loops under
 * Micronaut), 2 to 16.  On 2 cores, 4 threads keep /health's p99 under
 * 5 ms while wrk saturates both cores (docs/http.md, "Figures"). */
static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n > 8 ? 16 : (unsigned)(2 * n);
}

static int read_config(const struct config *cfg, struct http_server *s,
		       bool load_keystore, char **error_r)
{
	const char *err = NULL, *host = NULL, *user = NULL, *pass = NULL,
		   *ks = NULL, *ks_type = NULL, *ks_pass = NULL;
	long long idle_ms = 0;
	unsigned max_req = 0;
	int ret;

	if (cfg_get_bool(cfg->root, "micronaut.ssl.enabled", false, &s->tls,
			 &err) < 0 ||
	    cfg_get_string(cfg->root, "micronaut.server.host", NULL, &host,
			   &err) < 0 ||
	    cfg_get_bool(cfg->root, "micronaut.security.enabled", true,
			 &s->security, &err) < 0 ||
	    cfg_get_strv(cfg->root, "micronaut.security.ip-patterns",
			 &s->ip_patterns, &err) < 0 ||
	    cfg_get_string(cfg->root, "http.admin.username", NULL, &user,
			   &err) < 0 ||
	    cfg_get_string(cfg->root, "http.admin.password", NULL, &pass,
			   &err) < 0 ||
	    cfg_get_string(cfg->root, "micronaut.ssl.key-store.path",
			   "file:/opt/open-xchange/dmf/certs/keystore.p12", &ks,
			   &err) < 0 ||
	    cfg_get_string(cfg->root, "micronaut.ssl.key-store.type", "PKCS12",
			   &ks_type, &err) < 0 ||
	    cfg_get_string(cfg->root, "micronaut.ssl.key-store.password", NULL,
			   &ks_pass, &err) < 0 ||
	    cfg_get_duration_ms(cfg->root, "micronaut.server.idle-timeout",
				30000, &idle_ms, &err) < 0) {
		*error_r = xasprintf("%s", err != NULL ? err : "bad value");
		return -EINVAL;
	}
	if (s->tls)
		ret = get_uint(cfg, "micronaut.ssl.port", 8443, 0, 65535,
			       &s->port, error_r);
	else
		ret = get_uint(cfg, "micronaut.server.port", 8080, -1, 65535,
			       &s->port, error_r);
	if (ret == 0 && s->port == (unsigned)-1)
		s->port = 0; /* Micronaut's -1: any free port */
	if (ret == 0)
		ret = get_uint(cfg, "micronaut.server.max-connections", 512, 1,
			       100000, &s->max_conn, error_r);
	if (ret == 0)
		ret = get_uint(cfg, "micronaut.server.thread-pool-size",
			       default_threads(), 1, 64, &s->threads, error_r);
	if (ret == 0)
		ret = get_uint(cfg, "micronaut.server.max-request-size",
			       1048576, 1024, 1LL << 30, &max_req, error_r);
	if (ret < 0)
		return ret;
	s->max_body = max_req;
	if (idle_ms < 1000 || idle_ms > 24LL * 3600 * 1000)
		return cfg_key_error(cfg, "micronaut.server.idle-timeout",
				     "must be 1 second to 24 hours", error_r);
	s->idle_s = (unsigned)(idle_ms / 1000);
	s->max_header = 65536;
	if (host != NULL && *host != '\0')
		s->host = xstrdup(host);
	if (user != NULL && *user != '\0')
		s->user = xstrdup(user);
	if (pass != NULL)
		s->password = xstrdup(pass);
	if (read_endpoints(cfg, s, error_r) < 0)
		return -EINVAL;
	if (!s->tls)
		return 0;
	if (ks_type != NULL && strcasecmp(ks_type, "PKCS12") != 0)
		return cfg_key_error(cfg, "micronaut.ssl.key-store.type",
				     "only PKCS12 keystores are supported",
				     error_r);
	if (!load_keystore)
		return 0;
	{
		char *e = NULL;

		ret = http_keystore_load(ks, ks_pass, &s->pem, &e);
		if (ret < 0) {
			cfg_key_error(cfg, "micronaut.ssl.key-store.path", e,
				      error_r);
			free(e);
			return -EINVAL;
		}
	}
	return 0;
}

int http_server_create(const struct config *cfg, struct http_server **srv_r,
		       char **error_r)
{
	struct http_server *s = calloc(1, sizeof(*s));
	int ret;

	if (s == NULL)
		return -ENOMEM;
	pthread_mutex_init(&s->fail_lock, NULL);
	ret = read_config(cfg, s, true, error_r);
	if (ret < 0) {
		http_server_destroy(&s);
		return ret;
	}
	*srv_r = s;
	return 0;
}

int http_server_check(const struct config *cfg, char **error_r)
{
	struct http_server *s = calloc(1, sizeof(*s));
	int ret;

	if (s == NULL)
		return -ENOMEM;
	pthread_mutex_init(&s->fail_lock, NULL);
	ret = read_config(cfg, s, false, error_r);
	http_server_destroy(&s);
	return ret;
}

int http_server_route(struct http_server *srv, const char *method,
		      const char *pattern, const char *endpoint,
		      http_handler_fn *fn, void *ctx)
{
	struct route *r;

	if (find_ep(srv, endpoint) == NULL)
		return -EINVAL;
	r = realloc(srv->routes, (srv->n_routes + 1) * sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	srv->routes = r;
	r = &srv->routes[srv->n_routes++];
	r->method = xstrdup(method);
	r->pattern = xstrdup(pattern);
	r->endpoint = xstrdup(endpoint);
	r->fn = fn;
	r->ctx = ctx;
	return 0;
}

/* ---------------------------------------------------------- matching --- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *http_url_decode(const char *s, size_t n, bool plus_space)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) :
					     -1;
			int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) :
					     -1;

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (plus_space && s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '\0') {
			free(out);
			return NULL;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* the next segment of a path: [*p, end) without the '/' */
static bool next_seg(const char **p, const char **seg, size_t *len)
{
	const char *s = *p, *e;

	if (*s != '/')
		return false;
	s++;
	e = strchr(s, '/');
	if (e == NULL)
		e = s + strlen(s);
	*seg = s;
	*len = (size_t)(e - s);
	*p = e;
	return true;
}

bool http_route_match(const char *pattern, const char *path, char **params,
		      size_t max, size_t *n_r)
{
	const char *pp = pattern, *up = path, *ps, *us;
	size_t pl, ul, n = 0;

	*n_r = 0;
	if (path == NULL || *path != '/')
		return false;
	if (strcmp(pattern, "/") == 0)
		return strcmp(path, "/") == 0;
	for (;;) {
		bool pm, um;

		/* a trailing '/' of the path is ignored */
		if (up[0] == '/' && up[1] == '\0')
			up++;
		pm = next_seg(&pp, &ps, &pl);
		um = next_seg(&up, &us, &ul);
		if (!pm || !um) {
			if (pm == um && *pp == '\0' && *up == '\0') {
				*n_r = n;
				return true;
			}
			break;
		}
		if (pl >= 2 && ps[0] == '{' && ps[pl - 1] == '}') {
			char *v;

			if (ul == 0 || n >= max)
				break;
			v = http_url_decode(us, ul, false);
			if (v == NULL)
				break;
			params[n++] = v;
		} else if (pl != ul || memcmp(ps, us, pl) != 0) {
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(params[i]);
	return false;
}

/* ---------------------------------------------------------- requests --- */

static void log_failed_login(struct http_server *s, const char *addr,
			     const char *user)
{
	uint64_t now = now_monotonic_ms();
	struct fail_slot *slot = NULL, *oldest = &s->fails[0];
	char name[65];
	size_t i;
	bool quiet;

	for (i = 0; user != NULL && user[i] != '\0' && i < sizeof(name) - 1;
	     i++)
		name[i] = user[i] >= 0x20 && user[i] < 0x7f ? user[i] : '?';
	name[i] = '\0';
	pthread_mutex_lock(&s->fail_lock);
	for (i = 0; i < FAIL_SLOTS; i++) {
		if (strcmp(s->fails[i].addr, addr) == 0) {
			slot = &s->fails[i];
			break;
		}
		if (s->fails[i].last_ms < oldest->last_ms)
			oldest = &s->fails[i];
	}
	quiet = slot != NULL && now - slot->last_ms < FAIL_QUIET_MS;
	if (slot == NULL) {
		slot = oldest;
		snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
	}
	if (!quiet)
		slot->last_ms = now;
	pthread_mutex_unlock(&s->fail_lock);
	if (!quiet)
		log_warn("HTTP authentication failed from %s%s%s%s (further "
			 "failures from this address are not logged for a "
			 "minute)",
			 addr, user != NULL ? " for user '" : "",
			 user != NULL ? name : "", user != NULL ? "'" : "");
}

struct query_acc {
	struct http_query_arg args[MAX_QUERY];
	char *owned[2 * MAX_QUERY];
	size_t n, n_owned;
	bool bad;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind,
				     const char *key, const char *value)
{
	struct query_acc *q = cls;
	char *k, *v;

	if (q->n >= MAX_QUERY) {
		q->bad = true;
		return MHD_NO;
	}
	k = http_url_decode(key, strlen(key), true);
	v = http_url_decode(value != NULL ? value : "",
			    value != NULL ? strlen(value) : 0, true);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		q->bad = true;
		return MHD_NO;
	}
	q->owned[q->n_owned++] = k;
	q->owned[q->n_owned++] = v;
	q->args[q->n].key = k;
	q->args[q->n].value = v;
	q->n++;
	return MHD_YES;
}

static enum MHD_Result send_resp(struct MHD_Connection *c,
				 struct http_response *resp, bool challenge,
				 const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len = resp->body.len;
	char *body = dmf_strbuf_take(&resp->body);

	if (body == NULL && len > 0)
		return MHD_NO;
	if (body == NULL)
		r = MHD_create_response_from_buffer(0, (void *)"",
						    MHD_RESPMEM_PERSISTENT);
	else
		r = MHD_create_response_from_buffer(len, body,
						    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				resp->content_type != NULL ?
					resp->content_type :
					"application/json");
	if (challenge)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					REALM);
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static const char *peer_addr(struct MHD_Connection *c, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	snprintf(buf, size, "unknown");
	if (sa == NULL)
		return buf;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  buf, (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			  (socklen_t)size);
	/* an IPv4 client on the dual-stack socket: show it as IPv4 */
	if (strncasecmp(buf, "::ffff:", 7) == 0 && strchr(buf + 7, '.'))
		memmove(buf, buf + 7, strlen(buf + 7) + 1);
	return buf;
}

/* Check the credentials: 1 authenticated, 0 none given, -1 wrong. */
static int check_auth(struct http_server *s, struct MHD_Connection *c,
		      const char *addr)
{
	const char *h = MHD_lookup_connection_value(
		c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	char *user = NULL, *pass = NULL;
	bool ok;
	int ret;

	if (h == NULL)
		return 0;
	ret = http_basic_parse(h, &user, &pass);
	if (ret < 0) {
		log_failed_login(s, addr, NULL);
		return -1;
	}
	/* both compared, always: no early exit on a wrong user */
	ok = s->security && s->user != NULL && s->password != NULL;
	ok = http_secret_equal(user, strlen(user), s->user ? s->user : "",
			       s->user ? strlen(s->user) : 0) &
	     http_secret_equal(pass, strlen(pass),
			       s->password ? s->password : "",
			       s->password ? strlen(s->password) : 0) &
	     ok;
	if (!ok)
		log_failed_login(s, addr, user);
	free(user);
	secret_free(&pass);
	return ok ? 1 : -1;
}

static enum MHD_Result handle(struct http_server *s, struct MHD_Connection *c,
			      const char *url, const char *method,
			      struct req_state *st)
{
	struct http_response resp = { .status = 200,
				      .content_type = "application/json",
				      .body = DMF_STRBUF_INIT };
	struct http_request req = { .method = method, .path = url };
	struct query_acc q = { .n = 0 };
	char *params[MAX_PARAMS] = { NULL };
	char addr[INET6_ADDRSTRLEN + 8], allow[64] = "";
	const struct route *hit = NULL;
	const struct endpoint_conf *ep = NULL;
	bool path_known = false, challenge = false;
	size_t n_params = 0;
	enum MHD_Result ret;
	int auth;

	peer_addr(c, addr, sizeof(addr));
	req.client_addr = addr;
	if (s->security && !http_ip_allowed(s->ip_patterns, addr)) {
		http_response_error(&resp, &req, 403, NULL);
		return send_resp(c, &resp, false, NULL);
	}
	for (size_t i = 0; i < s->n_routes; i++) {
		const struct route *r = &s->routes[i];
		const struct endpoint_conf *e = find_ep(s, r->endpoint);
		char *tmp[MAX_PARAMS];
		size_t n = 0;

		if (!e->enabled || r->fn == NULL)
			continue;
		if (!http_route_match(r->pattern, url, tmp, MAX_PARAMS, &n))
			continue;
		path_known = true;
		if (strcmp(r->method, method) == 0 && hit == NULL) {
			hit = r;
			ep = e;
			n_params = n;
			memcpy(params, tmp, n * sizeof(tmp[0]));
			continue;
		}
		if (strstr(allow, r->method) == NULL &&
		    strlen(allow) + strlen(r->method) + 3 < sizeof(allow)) {
			if (allow[0] != '\0')
				strcat(allow, ", ");
			strcat(allow, r->method);
		}
		for (size_t j = 0; j < n; j++)
			free(tmp[j]);
	}
	if (hit == NULL) {
		http_response_error(&resp, &req, path_known ? 405 : 404, NULL);
		return send_resp(c, &resp, false, path_known ? allow : NULL);
	}
	auth = check_auth(s, c, addr);
	if (auth < 0 || (ep->sensitive && auth == 0)) {
		http_response_error(&resp, &req, 401, NULL);
		challenge = true;
		goto send;
	}
	req.authenticated = auth == 1;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, &q);
	if (q.bad) {
		http_response_error(&resp, &req, 400,
				    "malformed or too many query arguments");
		goto send;
	}
	if (st->too_large) {
		http_response_error(&resp, &req, 413,
				    "the request body is too large");
		goto send;
	}
	req.params = (const char *const *)params;
	req.n_params = n_params;
	req.query = q.args;
	req.n_query = q.n;
	req.body = st->body.len > 0 ? st->body.p : NULL;
	req.body_len = st->body.len;
	hit->fn(&req, &resp, hit->ctx);
	if (resp.body.failed) {
		dmf_strbuf_free(&resp.body);
		http_response_error(&resp, &req, 500, "out of memory");
	}
	challenge = resp.status == 401;
send:
	ret = send_resp(c, &resp, challenge, NULL);
	dmf_strbuf_free(&resp.body);
	for (size_t i = 0; i < n_params; i++)
		free(params[i]);
	for (size_t i = 0; i < q.n_owned; i++)
		free(q.owned[i]);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct req_state *st = *con_cls;

	if (st == NULL) {
		st = calloc(1, sizeof(*st));
		if (st == NULL)
			return MHD_NO;
		*con_cls = st;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!st->too_large &&
		    st->body.len + *upload_data_size <= s->max_body)
			dmf_strbuf_add(&st->body, upload_data,
				       *upload_data_size);
		else
			st->too_large = true;
		if (st->body.failed)
			st->too_large = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return handle(s, c, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req_state *st = *con_cls;

	if (st == NULL)
		return;
	dmf_strbuf_free(&st->body);
	free(st);
	*con_cls = NULL;
}

/* the path stays as received: {params} and the query are decoded by us */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug("http: %s", buf);
}

/* ------------------------------------------------------------- start --- */

static int resolve(const char *host, unsigned port, struct sockaddr_storage *ss,
		   char **error_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL;
	char service[16];
	int rc;

	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0 || res == NULL) {
		*error_r = xasprintf("micronaut.server.host '%s': %s", host,
				     gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

int http_server_start(struct http_server *s, char **error_r)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			 MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[16];
	size_t n = 0;
	int ret;

#define OPT(o, v, p) \
	(opts[n++] = (struct MHD_OptionItem){ (o), (intptr_t)(v), (p) })
	OPT(MHD_OPTION_CONNECTION_LIMIT, s->max_conn, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, s->idle_s, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->max_header, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s);
	OPT(MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)no_unescape, s);
	OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, s);
	if (s->threads > 1)
		OPT(MHD_OPTION_THREAD_POOL_SIZE, s->threads, NULL);
	if (s->tls) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->pem.key);
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->pem.cert);
	}
	if (s->host != NULL) {
		ret = resolve(s->host, s->port, &ss, error_r);
		if (ret < 0)
			return ret;
		if (ss.ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
		OPT(MHD_OPTION_SOCK_ADDR, 0, &ss);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	s->daemon = MHD_start_daemon(
		flags | (s->host == NULL ? MHD_USE_DUAL_STACK : 0),
		(uint16_t)s->port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY,
		opts, MHD_OPTION_END);
	if (s->daemon == NULL && s->host == NULL)
		/* no IPv6 on this machine: IPv4 only */
		s->daemon = MHD_start_daemon(
			flags, (uint16_t)s->port, NULL, NULL, on_request, s,
			MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (s->daemon == NULL) {
		ret = errno != 0 ? -errno : -EIO;
		*error_r = xasprintf("cannot serve %s on %s port %u: %s",
				     s->tls ? "HTTPS" : "HTTP",
				     s->host != NULL ? s->host : "*", s->port,
				     dmf_strerror(ret));
		return ret;
	}
	{
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(
			s->daemon, MHD_DAEMON_INFO_BIND_PORT);

		s->bound_port = di != NULL ? di->port : s->port;
	}
	/* GnuTLS holds its own copy of key and chain now (until then they
	 * stay: a start that failed may be tried again) */
	http_pem_clear(&s->pem);
	log_info("serving %s on %s port %u", s->tls ? "HTTPS" : "HTTP",
		 s->host != NULL ? s->host : "*", s->bound_port);
	return 0;
}

unsigned http_server_port(const struct http_server *srv)
{
	return srv != NULL ? srv->bound_port : 0;
}

void http_server_destroy(struct http_server **srvp)
{
	struct http_server *s = *srvp;

	if (s == NULL)
		return;
	*srvp = NULL;
	if (s->daemon != NULL)
		MHD_stop_daemon(s->daemon);
	for (size_t i = 0; i < s->n_routes; i++) {
		free(s->routes[i].method);
		free(s->routes[i].pattern);
		free(s->routes[i].endpoint);
	}
	free(s->routes);
	http_pem_clear(&s->pem);
	free(s->host);
	free(s->user);
	secret_free(&s->password);
	cfg_strv_free(&s->ip_patterns);
	pthread_mutex_destroy(&s->fail_lock);
	free(s);
}
