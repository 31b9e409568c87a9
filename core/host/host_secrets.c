/* host_secrets.c - the secret values of the configuration, for redaction.
 *
 * One registry for every host table that shows text to an operator (the
 * exec table's command logs and displays, the inject table's displays):
 * the values of secret keys and the secret parts of other values (a URL's
 * password, `password=` in a query), lib/secret.h's rule.  Filled at
 * start; a reload adds the new configuration's secrets. */
#include "dmf-build.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_services.h"
#include "lib/secret.h"
#include "lib/util.h"

/* The published registry: a NULL-terminated array that is never changed
 * once published.  A reload publishes a longer copy (the strings are
 * shared) and keeps the old array until deinit, so a reader that took it
 * before keeps a valid array. */
static _Atomic(char **) published;
static size_t n_published;
struct retired {
	char **v;
	struct retired *next;
};
static struct retired *retired;
static const char *const no_secrets[] = { NULL };

const char *const *host_secrets(void)
{
	char **p = atomic_load(&published);

	return p != NULL ? (const char *const *)p : no_secrets;
}

/* Values being added: the published ones first (copied pointers), then
 * the new ones (owned). */
struct pending {
	char **v;
	size_t n, n_old;
};

static bool pending_has(const struct pending *p, const char *value, size_t len)
{
	for (size_t i = 0; i < p->n; i++)
		if (strlen(p->v[i]) == len && memcmp(p->v[i], value, len) == 0)
			return true;
	return false;
}

/* Values shorter than 4 bytes are not redacted: they would blank out
 * ordinary text and protect nothing. */
static int add_secret(struct pending *p, const char *value, size_t len)
{
	char **grown;

	if (len < 4 || pending_has(p, value, len))
		return 0;
	grown = realloc(p->v, (p->n + 2) * sizeof(char *));
	if (grown == NULL)
		return -ENOMEM;
	p->v = grown;
	p->v[p->n] = strndup(value, len);
	if (p->v[p->n] == NULL)
		return -ENOMEM;
	p->v[++p->n] = NULL;
	return 0;
}

static int add_node_secrets(struct pending *p, const struct cfg_node *n)
{
	if (n == NULL)
		return 0;
	if (n->kind == CFG_SCALAR && n->value != NULL) {
		if (cfg_is_secret(n)) {
			if (add_secret(p, n->value, strlen(n->value)) < 0)
				return -ENOMEM;
		} else {
			struct secret_span sp[32];
			size_t k = secret_spans(n->value, sp, 32);

			for (size_t i = 0; i < k && i < 32; i++)
				if (add_secret(p, n->value + sp[i].offset,
					       sp[i].len) < 0)
					return -ENOMEM;
		}
	}
	for (size_t i = 0; i < n->n_children; i++)
		if (add_node_secrets(p, n->children[i]) < 0)
			return -ENOMEM;
	return 0;
}

int host_secrets_add(const struct config *cfg)
{
	char **old = atomic_load(&published);
	struct pending p = { 0 };
	struct retired *r = calloc(1, sizeof(*r));

	p.v = calloc(n_published + 1, sizeof(char *));
	if (p.v == NULL || r == NULL)
		goto nomem;
	for (size_t i = 0; i < n_published; i++)
		p.v[i] = old[i];
	p.n = p.n_old = n_published;
	if (cfg != NULL && add_node_secrets(&p, cfg->root) < 0)
		goto nomem;
	if (p.n == n_published) {
		free(p.v);
		free(r);
		return 0;
	}
	atomic_store(&published, p.v);
	n_published = p.n;
	if (old != NULL) {
		r->v = old;
		r->next = retired;
		retired = r;
	} else {
		free(r);
	}
	return 0;
nomem:
	for (size_t i = p.n_old; p.v != NULL && i < p.n; i++)
		secret_free(&p.v[i]);
	free(p.v);
	free(r);
	return -ENOMEM;
}

int host_secrets_init(const struct config *cfg)
{
	host_secrets_deinit();
	return host_secrets_add(cfg);
}

void host_secrets_deinit(void)
{
	char **p = atomic_exchange(&published, NULL);

	for (size_t i = 0; p != NULL && i < n_published; i++)
		secret_free(&p[i]);
	free(p);
	n_published = 0;
	while (retired != NULL) {
		struct retired *r = retired;

		retired = r->next;
		free(r->v);
		free(r);
	}
}
