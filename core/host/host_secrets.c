/* host_secrets.c - the secret values of the configuration, for redaction.
 *
 * One registry for every host table that shows text to an operator (the
 * exec table's command logs and displays, the inject table's displays):
 * the values of secret keys and the secret parts of other values (a URL's
 * password, `password=` in a query), lib/secret.h's rule.  Filled once at
 * start, read-only while jobs run. */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_services.h"
#include "lib/secret.h"
#include "lib/util.h"

static char **secrets;
static size_t n_secrets;
static const char *const no_secrets[] = { NULL };

const char *const *host_secrets(void)
{
	return secrets != NULL ? (const char *const *)secrets : no_secrets;
}

/* Values shorter than 4 bytes are not redacted: they would blank out
 * ordinary text and protect nothing. */
static int add_secret(const char *value, size_t len)
{
	char **grown;

	if (len < 4)
		return 0;
	grown = realloc(secrets, (n_secrets + 2) * sizeof(char *));
	if (grown == NULL)
		return -ENOMEM;
	secrets = grown;
	secrets[n_secrets] = strndup(value, len);
	if (secrets[n_secrets] == NULL)
		return -ENOMEM;
	secrets[++n_secrets] = NULL;
	return 0;
}

static int add_node_secrets(const struct cfg_node *n)
{
	if (n == NULL)
		return 0;
	if (n->kind == CFG_SCALAR && n->value != NULL) {
		if (cfg_is_secret(n)) {
			if (add_secret(n->value, strlen(n->value)) < 0)
				return -ENOMEM;
		} else {
			struct secret_span sp[32];
			size_t k = secret_spans(n->value, sp, 32);

			for (size_t i = 0; i < k && i < 32; i++)
				if (add_secret(n->value + sp[i].offset,
					       sp[i].len) < 0)
					return -ENOMEM;
		}
	}
	for (size_t i = 0; i < n->n_children; i++)
		if (add_node_secrets(n->children[i]) < 0)
			return -ENOMEM;
	return 0;
}

int host_secrets_init(const struct config *cfg)
{
	host_secrets_deinit();
	if (cfg != NULL && add_node_secrets(cfg->root) < 0) {
		host_secrets_deinit();
		return -ENOMEM;
	}
	return 0;
}

void host_secrets_deinit(void)
{
	for (size_t i = 0; i < n_secrets; i++)
		secret_free(&secrets[i]);
	free(secrets);
	secrets = NULL;
	n_secrets = 0;
}
