/* http_health.c - the health snapshot and its three endpoints. */
#include "dmf-build.h"

#include "http/http_health.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <time.h>

#include "db/db.h"
#include "lib/log.h"
#include "lib/util.h"

#define REFRESH_MS 5000

enum visible { VIS_ANONYMOUS, VIS_AUTHENTICATED, VIS_NEVER };

struct snapshot {
	bool jdbc_up;
	char db_product[16];
	char db_version[128];
	char db_error[256];
	bool disk_up;
	uint64_t disk_total, disk_free;
	char disk_error[128];
};

struct health {
	char *name; /* micronaut.application.name */
	enum visible visible;
	bool jdbc_on, disk_on;
	char *url; /* datasource URL, password masked */
	char *disk_path;
	long long threshold;
	struct db_pool *pool; /* its own: never the worker's */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, started;
	pthread_t thread;
	struct snapshot snap;
};

/* reported by the worker: process-wide */
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static bool leases_ok = true, service_up;
static char leases_error[256];

void health_report_leases(bool ok, const char *error)
{
	pthread_mutex_lock(&report_lock);
	leases_ok = ok;
	snprintf(leases_error, sizeof(leases_error), "%s",
		 ok || error == NULL ? "" : error);
	pthread_mutex_unlock(&report_lock);
}

void health_report_service(bool up)
{
	pthread_mutex_lock(&report_lock);
	service_up = up;
	pthread_mutex_unlock(&report_lock);
}

/* ---------------------------------------------------------- snapshot --- */

static void take_snapshot(struct health *h)
{
	struct snapshot s;

	memset(&s, 0, sizeof(s));
	if (h->pool != NULL) {
		struct db_conn *c = NULL;
		char *error = NULL;

		if (db_conn_get(h->pool, &c, &error) == 0) {
			s.jdbc_up = true;
			snprintf(s.db_product, sizeof(s.db_product), "%s",
				 db_conn_is_mariadb(c) ? "MariaDB" : "MySQL");
			snprintf(s.db_version, sizeof(s.db_version), "%s",
				 db_conn_server_info(c));
			db_conn_put(h->pool, &c);
		} else {
			snprintf(s.db_error, sizeof(s.db_error), "%s",
				 error != NULL ? error :
						 "no database connection");
		}
		free(error);
	}
	if (h->disk_on) {
		struct statvfs v;

		if (statvfs(h->disk_path, &v) == 0) {
			s.disk_total = (uint64_t)v.f_blocks * v.f_frsize;
			s.disk_free = (uint64_t)v.f_bavail * v.f_frsize;
			s.disk_up = s.disk_free >= (uint64_t)h->threshold;
		} else {
			snprintf(s.disk_error, sizeof(s.disk_error), "%s: %s",
				 h->disk_path, dmf_strerror(-errno));
		}
	}
	pthread_mutex_lock(&h->lock);
	h->snap = s;
	pthread_mutex_unlock(&h->lock);
}

static void *refresh_main(void *arg)
{
	struct health *h = arg;

	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += REFRESH_MS / 1000;
		pthread_cond_timedwait(&h->cond, &h->lock, &ts);
		if (h->stop)
			break;
		pthread_mutex_unlock(&h->lock);
		take_snapshot(h);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* ------------------------------------------------------------ create --- */

/* the URL as configured, with a password= value masked */
static char *mask_url(const char *url)
{
	char *out = xstrdup(url), *p;

	p = strcasestr(out, "password=");
	if (p != NULL) {
		char *v = p + 9, *end = strchr(v, '&');
		char *masked = xasprintf("%.*s******%s", (int)(v - out), out,
					 end != NULL ? end : "");

		free(out);
		out = masked;
	}
	return out;
}

static int read_config(const struct config *cfg, struct health *h,
		       char **error_r)
{
	const char *err = NULL, *name = NULL, *vis = NULL, *path = NULL,
		   *url = NULL;

	if (cfg_get_string(cfg->root, "micronaut.application.name", "worker",
			   &name, &err) < 0 ||
	    cfg_get_string(cfg->root, "endpoints.health.details-visible",
			   "AUTHENTICATED", &vis, &err) < 0 ||
	    cfg_get_bool(cfg->root, "endpoints.health.jdbc.enabled", true,
			 &h->jdbc_on, &err) < 0 ||
	    cfg_get_bool(cfg->root, "endpoints.health.disk-space.enabled", true,
			 &h->disk_on, &err) < 0 ||
	    cfg_get_string(cfg->root, "endpoints.health.disk-space.path", "/",
			   &path, &err) < 0 ||
	    cfg_get_int(cfg->root, "endpoints.health.disk-space.threshold",
			10485760, &h->threshold, &err) < 0 ||
	    cfg_get_string(cfg->root, "datasources.default.url", NULL, &url,
			   &err) < 0) {
		*error_r = xasprintf("%s", err);
		return -EINVAL;
	}
	if (strcasecmp(vis, "ANONYMOUS") == 0)
		h->visible = VIS_ANONYMOUS;
	else if (strcasecmp(vis, "AUTHENTICATED") == 0)
		h->visible = VIS_AUTHENTICATED;
	else if (strcasecmp(vis, "NEVER") == 0)
		h->visible = VIS_NEVER;
	else
		return cfg_key_error(
			cfg, "endpoints.health.details-visible",
			"expected ANONYMOUS, AUTHENTICATED or NEVER", error_r);
	if (h->threshold < 0)
		return cfg_key_error(cfg,
				     "endpoints.health.disk-space.threshold",
				     "must not be negative", error_r);
	h->name = xstrdup(name != NULL ? name : "worker");
	h->disk_path = xstrdup(path != NULL && *path != '\0' ? path : "/");
	if (h->jdbc_on && url != NULL && *url != '\0') {
		struct db_options o;
		int ret = db_options_from_config(cfg, &o, error_r);

		if (ret < 0)
			return ret;
		/* one connection, and short waits: a snapshot must not hang */
		o.max_pool_size = 1;
		o.min_idle = 1;
		o.connection_timeout_ms = 5000;
		o.connect_timeout_ms = 5000;
		o.read_timeout_ms = 5000;
		o.write_timeout_ms = 5000;
		o.validation_timeout_ms = 5000;
		ret = db_pool_create(&o, &h->pool, error_r);
		db_options_clear(&o);
		if (ret < 0)
			return ret;
		h->url = mask_url(url);
	}
	return 0;
}

int health_create(const struct config *cfg, struct health **h_r, char **error_r)
{
	struct health *h = calloc(1, sizeof(*h));
	int ret;

	if (h == NULL)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	ret = read_config(cfg, h, error_r);
	if (ret < 0) {
		health_destroy(&h);
		return ret;
	}
	take_snapshot(h);
	ret = -pthread_create(&h->thread, NULL, refresh_main, h);
	if (ret < 0) {
		*error_r = xasprintf("cannot start the health thread: %s",
				     dmf_strerror(ret));
		health_destroy(&h);
		return ret;
	}
	h->started = true;
	*h_r = h;
	return 0;
}

void health_destroy(struct health **hp)
{
	struct health *h = *hp;

	if (h == NULL)
		return;
	*hp = NULL;
	if (h->started) {
		pthread_mutex_lock(&h->lock);
		h->stop = true;
		pthread_cond_broadcast(&h->cond);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->thread, NULL);
	}
	db_pool_destroy(&h->pool);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h->name);
	free(h->url);
	free(h->disk_path);
	free(h);
}

/* ------------------------------------------------------------ render --- */

static const char *st(bool up)
{
	return up ? "UP" : "DOWN";
}

static void add_str(struct dmf_strbuf *b, const char *s)
{
	dmf_strbuf_add_json_string(b, s, strlen(s));
}

/* "key":{"name":..,"status":..  (the caller closes or adds details) */
static void open_ind(struct dmf_strbuf *b, const struct health *h,
		     const char *key, bool up)
{
	add_str(b, key);
	dmf_strbuf_adds(b, ":{\"name\":");
	add_str(b, h->name);
	dmf_strbuf_addf(b, ",\"status\":\"%s\"", st(up));
}

enum which { W_ALL, W_READINESS, W_LIVENESS };

static void render(const struct health *h, const struct snapshot *s,
		   enum which which, bool details, struct http_response *resp)
{
	struct dmf_strbuf *b = &resp->body;
	bool jobs, service, up = true, first = true;
	char jobs_err[256];

	pthread_mutex_lock(&report_lock);
	jobs = leases_ok;
	service = service_up;
	snprintf(jobs_err, sizeof(jobs_err), "%s", leases_error);
	pthread_mutex_unlock(&report_lock);
	if (which != W_LIVENESS) {
		if (h->pool != NULL && !s->jdbc_up)
			up = false;
		if (h->disk_on && !s->disk_up)
			up = false;
		if (!jobs || !service)
			up = false;
	}
	resp->status = up ? 200 : 503;
	if (!details) {
		dmf_strbuf_addf(b, "{\"status\":\"%s\"}", st(up));
		return;
	}
	dmf_strbuf_adds(b, "{\"name\":");
	add_str(b, h->name);
	dmf_strbuf_addf(b, ",\"status\":\"%s\",\"details\":{", st(up));
	if (which == W_LIVENESS) {
		open_ind(b, h, "livenessState", true);
		dmf_strbuf_adds(b, "}}}");
		return;
	}
	if (h->pool != NULL) {
		open_ind(b, h, "jdbc", s->jdbc_up);
		dmf_strbuf_adds(b, ",\"details\":{");
		open_ind(b, h, h->url, s->jdbc_up);
		dmf_strbuf_adds(b, ",\"details\":{");
		if (s->jdbc_up) {
			dmf_strbuf_adds(b, "\"database\":");
			add_str(b, s->db_product);
			dmf_strbuf_adds(b, ",\"version\":");
			add_str(b, s->db_version);
		} else {
			dmf_strbuf_adds(b, "\"error\":");
			add_str(b, s->db_error);
		}
		dmf_strbuf_adds(b, "}}}}");
		first = false;
	}
	if (h->disk_on) {
		if (!first)
			dmf_strbuf_adds(b, ",");
		open_ind(b, h, "diskSpace", s->disk_up);
		if (s->disk_error[0] != '\0') {
			dmf_strbuf_adds(b, ",\"details\":{\"error\":");
			add_str(b, s->disk_error);
			dmf_strbuf_adds(b, "}}");
		} else {
			dmf_strbuf_addf(
				b,
				",\"details\":{\"total\":%" PRIu64
				",\"free\":%" PRIu64 ",\"threshold\":%lld}}",
				s->disk_total, s->disk_free, h->threshold);
		}
		first = false;
	}
	if (!first)
		dmf_strbuf_adds(b, ",");
	open_ind(b, h, "service", service);
	dmf_strbuf_adds(b, "},");
	open_ind(b, h, "jobs", jobs);
	dmf_strbuf_adds(b, ",\"details\":{\"leases\":");
	add_str(b, jobs ? "renewed" : jobs_err);
	dmf_strbuf_adds(b, "}}}}");
}

static void answer(const struct http_request *req, struct http_response *resp,
		   struct health *h, enum which which)
{
	struct snapshot s;
	bool details = h->visible == VIS_ANONYMOUS ||
		       (h->visible == VIS_AUTHENTICATED && req->authenticated);

	pthread_mutex_lock(&h->lock);
	s = h->snap;
	pthread_mutex_unlock(&h->lock);
	render(h, &s, which, details, resp);
}

void health_endpoint(const struct http_request *req, struct http_response *resp,
		     void *ctx)
{
	answer(req, resp, ctx, W_ALL);
}

void health_endpoint_liveness(const struct http_request *req,
			      struct http_response *resp, void *ctx)
{
	answer(req, resp, ctx, W_LIVENESS);
}

void health_endpoint_readiness(const struct http_request *req,
			       struct http_response *resp, void *ctx)
{
	answer(req, resp, ctx, W_READINESS);
}
