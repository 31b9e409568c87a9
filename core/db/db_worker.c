/* db_worker.c - the database context shared inside one worker process. */
#include "dmf-build.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "db/db_schema.h"
#include "db/db_worker.h"
#include "lib/log.h"
#include "lib/util.h"

struct worker_ctx {
	struct db_worker pub;
	unsigned refs;
	char **sources;
	unsigned sources_gen;
	bool registered;
	unsigned running;
};

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct worker_ctx *ctx;

static char **strv_copy(char *const *v)
{
	size_t n = 0;
	char **out;

	while (v != NULL && v[n] != NULL)
		n++;
	out = calloc(n + 1, sizeof(char *));
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(v[i]);
		if (out[i] == NULL) {
			cfg_strv_free(&out);
			return NULL;
		}
	}
	return out;
}

static bool strv_equal(char *const *a, char *const *b)
{
	size_t i;

	for (i = 0; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return a[i] == NULL && b[i] == NULL;
}

static void ctx_free(struct worker_ctx *c)
{
	if (c == NULL)
		return;
	db_pool_destroy(&c->pub.pool);
	free(c->pub.target);
	free(c->pub.memberid);
	free(c->pub.name);
	cfg_strv_free(&c->sources);
	free(c);
}

static int ctx_create(const struct config *cfg, struct worker_ctx **c_r,
		      char **error_r)
{
	struct worker_ctx *c = calloc(1, sizeof(*c));
	struct db_options o;
	const char *target = NULL, *memberid = NULL, *error = NULL;
	unsigned char rnd[16];
	char host[256];
	int ret;

	if (c == NULL)
		return -ENOMEM;
	if (cfg_get_string(cfg->root, "dmf.worker.identity.target", "default",
			   &target, &error) < 0 ||
	    cfg_get_string(cfg->root, "dmf.worker.identity.memberid", NULL,
			   &memberid, &error) < 0 ||
	    cfg_get_strv(cfg->root, "dmf.worker.sources", &c->sources, &error) <
		    0) {
		*error_r = xasprintf("%s", error);
		ctx_free(c);
		return -EINVAL;
	}
	if (c->sources[0] == NULL) {
		cfg_strv_free(&c->sources);
		c->sources = calloc(2, sizeof(char *));
		if (c->sources == NULL ||
		    (c->sources[0] = strdup("default")) == NULL) {
			ctx_free(c);
			return -ENOMEM;
		}
	}
	if (memberid == NULL || *memberid == '\0') {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "worker");
		host[sizeof(host) - 1] = '\0';
		memberid = host;
	}
	if (target == NULL || *target == '\0' || strchr(target, '/') != NULL ||
	    strlen(target) > 64 || strlen(memberid) > 128) {
		*error_r = xasprintf("dmf.worker.identity: target '%s' must be "
				     "1-64 characters without '/', memberid up "
				     "to 128",
				     target != NULL ? target : "");
		ctx_free(c);
		return -EINVAL;
	}
	c->pub.target = strdup(target);
	c->pub.memberid = strdup(memberid);
	c->pub.name = xasprintf("%s/%s", target, memberid);
	if (c->pub.target == NULL || c->pub.memberid == NULL ||
	    c->pub.name == NULL) {
		ctx_free(c);
		return -ENOMEM;
	}
	log_info("backend %s: memberid '%s' %s", c->pub.name, memberid,
		 memberid == host ?
			 "is the host name "
			 "(dmf.worker.identity.memberid is not set)" :
			 "from dmf.worker.identity.memberid");
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		uint64_t a = now_realtime_ms() ^ ((uint64_t)getpid() << 32);
		uint64_t b = random_between(0, UINT64_MAX);

		memcpy(rnd, &a, 8);
		memcpy(rnd + 8, &b, 8);
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(c->pub.owner + 2 * i, 3, "%02x", rnd[i]);
	ret = db_options_from_config(cfg, &o, error_r);
	if (ret < 0) {
		ctx_free(c);
		return ret;
	}
	ret = db_pool_create(&o, &c->pub.pool, error_r);
	db_options_clear(&o);
	if (ret < 0) {
		ctx_free(c);
		return ret;
	}
	ret = db_schema_check(c->pub.pool, error_r);
	if (ret < 0) {
		ctx_free(c);
		return ret;
	}
	c->sources_gen = 1;
	c->refs = 0;
	*c_r = c;
	return 0;
}

int db_worker_get(const struct config *cfg, struct db_worker **w_r,
		  char **error_r)
{
	int ret = 0;

	pthread_mutex_lock(&ctx_lock);
	if (ctx == NULL)
		ret = ctx_create(cfg, &ctx, error_r);
	if (ret == 0) {
		ctx->refs++;
		*w_r = &ctx->pub;
	}
	pthread_mutex_unlock(&ctx_lock);
	return ret;
}

void db_worker_put(struct db_worker **w)
{
	struct worker_ctx *dead = NULL;

	if (*w == NULL)
		return;
	*w = NULL;
	pthread_mutex_lock(&ctx_lock);
	if (ctx != NULL && --ctx->refs == 0) {
		dead = ctx;
		ctx = NULL;
	}
	pthread_mutex_unlock(&ctx_lock);
	ctx_free(dead);
}

#define CTX(w) ((struct worker_ctx *)(w))

char **db_worker_sources(struct db_worker *w, unsigned *gen_r)
{
	char **copy;

	pthread_mutex_lock(&ctx_lock);
	copy = strv_copy(CTX(w)->sources);
	if (gen_r != NULL)
		*gen_r = CTX(w)->sources_gen;
	pthread_mutex_unlock(&ctx_lock);
	return copy;
}

int db_worker_set_sources(struct db_worker *w, char *const *sources)
{
	char **copy = strv_copy(sources), **old = NULL;

	if (copy == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&ctx_lock);
	if (strv_equal(CTX(w)->sources, copy)) {
		old = copy;
	} else {
		old = CTX(w)->sources;
		CTX(w)->sources = copy;
		CTX(w)->sources_gen++;
	}
	pthread_mutex_unlock(&ctx_lock);
	cfg_strv_free(&old);
	return 0;
}

void db_worker_set_registered(struct db_worker *w, bool registered)
{
	pthread_mutex_lock(&ctx_lock);
	CTX(w)->registered = registered;
	pthread_mutex_unlock(&ctx_lock);
}

bool db_worker_registered(struct db_worker *w)
{
	bool r;

	pthread_mutex_lock(&ctx_lock);
	r = CTX(w)->registered;
	pthread_mutex_unlock(&ctx_lock);
	return r;
}

void db_worker_set_running(struct db_worker *w, unsigned running)
{
	pthread_mutex_lock(&ctx_lock);
	CTX(w)->running = running;
	pthread_mutex_unlock(&ctx_lock);
}

unsigned db_worker_running(struct db_worker *w)
{
	unsigned r;

	pthread_mutex_lock(&ctx_lock);
	r = CTX(w)->running;
	pthread_mutex_unlock(&ctx_lock);
	return r;
}
