/* http_service.c - the route table and the components behind it. */
#include "dmf-build.h"

#include "http/http_service.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "http/http_admin.h"
#include "http/http_health.h"
#include "http/http_info.h"
#include "http/http_server.h"
#include "lib/fail_log.h"
#include "lib/log.h"
#include "lib/util.h"
#include "metrics/metrics_endpoints.h"
#include "metrics/metrics_worker.h"

#define ADMIN_BACKENDS "/dmf/admin/api/v2/targets/{target}/backends"

/* a port that cannot be bound yet: tried again after 1 s, doubling to
 * 30 s, the failure logged once a minute (lib/fail_log.h) */
#define BIND_RETRY_FIRST_MS 1000
#define BIND_RETRY_MAX_MS 30000

struct http_service {
	struct http_server *server;
	struct health *health;
	struct info *info;
	struct admin_api *admin;
	/* the bind retry thread (started when the first bind failed) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, retrying;
	pthread_t retry_thread;
};

/* One route: method, path pattern ({param} segments), the endpoint whose
 * endpoints.<name>.enabled/sensitive apply, the handler (NULL: 404) and
 * its context. */
struct route_def {
	const char *method, *pattern, *endpoint;
	http_handler_fn *fn;
	void *ctx;
};

static int add_routes(struct http_service *svc)
{
	struct metrics_endpoints *me = metrics_worker_endpoints();
	const struct route_def routes[] = {
		{ "GET", "/health", "health", health_endpoint, svc->health },
		{ "GET", "/health/liveness", "health", health_endpoint_liveness,
		  svc->health },
		{ "GET", "/health/readiness", "health",
		  health_endpoint_readiness, svc->health },
		{ "GET", "/info", "info", info_endpoint, svc->info },
		/* core/metrics/metrics_endpoints.h */
		{ "GET", "/metrics", "metrics", metrics_endpoint_names, me },
		{ "GET", "/metrics/{name}", "metrics", metrics_endpoint_meter,
		  me },
		{ "GET", "/prometheus", "prometheus",
		  metrics_endpoint_prometheus, me },
		/* the backends admin API (no datasource: 404) */
		{ "GET", ADMIN_BACKENDS, "admin",
		  svc->admin != NULL ? admin_backends_list : NULL, svc->admin },
		{ "GET", ADMIN_BACKENDS "/{name}", "admin",
		  svc->admin != NULL ? admin_backend_show : NULL, svc->admin },
		{ "PATCH", ADMIN_BACKENDS, "admin",
		  svc->admin != NULL ? admin_backends_patch : NULL,
		  svc->admin },
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route_def *r = &routes[i];
		int ret = http_server_route(svc->server, r->method, r->pattern,
					    r->endpoint, r->fn, r->ctx);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/* a failure that can go away by itself: the port taken (by an old worker
 * still stopping, or any other program), the address not up yet */
static bool bind_retryable(int ret)
{
	return ret == -EADDRINUSE || ret == -EADDRNOTAVAIL;
}

static void *bind_retry_main(void *arg)
{
	struct http_service *svc = arg;
	unsigned wait_ms = BIND_RETRY_FIRST_MS, failures;
	unsigned long long failed_ms;
	struct fail_log fails = { 0 };

	/* the first failure, logged by http_service_start() */
	fail_log_due(&fails, now_monotonic_ms());

	pthread_mutex_lock(&svc->lock);
	while (!svc->stop) {
		struct timespec ts;
		char *error = NULL;
		unsigned ms = jitter_ms(wait_ms, 10);
		int ret;

		realtime_after_ms(&ts, ms);
		pthread_cond_timedwait(&svc->cond, &svc->lock, &ts);
		if (svc->stop)
			break;
		pthread_mutex_unlock(&svc->lock);
		ret = http_server_start(svc->server, &error);
		if (ret == 0) {
			if (fail_log_ended(&fails, now_monotonic_ms(),
					   &failures, &failed_ms))
				log_info("the HTTP server started after %u "
					 "attempt(s) in %llu s",
					 failures + 1, failed_ms / 1000);
		} else if (!bind_retryable(ret)) {
			log_error("%s: the worker runs without its HTTP server",
				  error);
		} else if (fail_log_due(&fails, now_monotonic_ms())) {
			log_error("%s: still trying (logged once a minute)",
				  error);
		}
		free(error);
		pthread_mutex_lock(&svc->lock);
		if (ret == 0 || !bind_retryable(ret))
			break;
		wait_ms = wait_ms * 2 > BIND_RETRY_MAX_MS ? BIND_RETRY_MAX_MS :
							    wait_ms * 2;
	}
	pthread_mutex_unlock(&svc->lock);
	return NULL;
}

int http_service_start(const struct config *cfg,
		       const struct dmf_plugin *plugin,
		       struct http_service **svc_r, char **error_r)
{
	struct http_service *svc = calloc(1, sizeof(*svc));
	char *error = NULL;
	int ret;

	if (svc == NULL)
		return -ENOMEM;
	pthread_mutex_init(&svc->lock, NULL);
	pthread_cond_init(&svc->cond, NULL);
	ret = http_server_create(cfg, &svc->server, error_r);
	if (ret == 0)
		ret = health_create(cfg, &svc->health, error_r);
	if (ret == 0)
		ret = info_create(cfg, plugin, &svc->info, error_r);
	if (ret == 0) {
		ret = admin_api_create(cfg, &svc->admin, &error);
		if (ret == -ENOENT) {
			free(error);
			error = NULL;
			ret = 0;
		} else if (ret < 0) {
			*error_r = error;
		}
	}
	if (ret == 0)
		ret = add_routes(svc);
	if (ret < 0) {
		http_service_stop(&svc);
		return ret;
	}
	ret = http_server_start(svc->server, &error);
	if (ret < 0 && bind_retryable(ret)) {
		log_error("%s: the worker goes on, and tries again after 1 s, "
			  "doubling to 30 s (logged once a minute)",
			  error);
		ret = -pthread_create(&svc->retry_thread, NULL, bind_retry_main,
				      svc);
		svc->retrying = ret == 0;
		if (ret < 0)
			log_error("cannot start the HTTP bind retry: %s: the "
				  "worker runs without its HTTP server",
				  dmf_strerror(ret));
	} else if (ret < 0) {
		log_error("%s: the worker runs without its HTTP server", error);
	}
	free(error);
	*svc_r = svc;
	return 0;
}

unsigned http_service_port(const struct http_service *svc)
{
	return svc != NULL ? http_server_port(svc->server) : 0;
}

void http_service_stop(struct http_service **svcp)
{
	struct http_service *svc = *svcp;

	if (svc == NULL)
		return;
	*svcp = NULL;
	if (svc->retrying) {
		pthread_mutex_lock(&svc->lock);
		svc->stop = true;
		pthread_cond_broadcast(&svc->cond);
		pthread_mutex_unlock(&svc->lock);
		pthread_join(svc->retry_thread, NULL);
	}
	/* the server first: no handler runs once it is stopped */
	http_server_destroy(&svc->server);
	admin_api_destroy(&svc->admin);
	info_destroy(&svc->info);
	health_destroy(&svc->health);
	pthread_mutex_destroy(&svc->lock);
	pthread_cond_destroy(&svc->cond);
	free(svc);
}
