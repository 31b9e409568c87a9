/*
 * config.h - dmf-worker.yml: YAML tree, environment overrides, typed access.
 *
 * The file may hold several YAML documents separated by `---`; they merge
 * into one tree (later documents win for scalars, maps merge key by key).
 * Environment variables then override the tree: `http.admin.username` is
 * HTTP_ADMIN_USERNAME; dots and dashes both become `_` and names are upper
 * case.  See docs/configuration.md for the resolution rules.
 *
 * Keys spelled as a schema alias are renamed to the canonical key at load,
 * so readers use one spelling only: `dmf.doveadm.source` (not `sources`),
 * `failure-flags.pre` (not `sync`), `copy-imapc-inbox`, `remove-imapc-path`,
 * `datasources.default.maximum-pool-size` (not `maximumPoolSize`), ...
 *
 * The tree is read-only after config_load() and may be read from any thread.
 *
 * Limits (docs/configuration.md): a file of at most CONFIG_MAX_BYTES, at
 * most CONFIG_MAX_NODES keys and list items, at most CONFIG_MAX_ALIAS_NODES
 * nodes made by aliases (`*name`) in all and aliases nested at most
 * CONFIG_MAX_ALIAS_DEPTH deep; no NUL byte in a key or a value.  Looking a
 * key up in a map costs the same whatever the map's size.
 */
#ifndef DMF_CORE_CONFIG_H
#define DMF_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_MAX_BYTES (64u * 1024 * 1024)
#define CONFIG_MAX_NODES 4000000u
#define CONFIG_MAX_ALIAS_NODES 100000u
#define CONFIG_MAX_ALIAS_DEPTH 8u

struct cfg_index;

enum cfg_kind { CFG_NULL = 0, CFG_SCALAR = 1, CFG_MAP = 2, CFG_LIST = 3 };

struct cfg_node {
	enum cfg_kind kind;
	char *key; /* key in the parent map; NULL for list items, root */
	char *value; /* text of a scalar; NULL otherwise */
	const char *file; /* file the node came from ("environment" for env) */
	unsigned line; /* 1-based; 0 for the environment.  The value's */
	unsigned column; /* position for scalars, else the key's */
	unsigned key_line; /* position of the key; 0 for list items, root */
	unsigned key_column; /* and nodes made by the environment */
	char *env_name; /* the variable that set it, or NULL */
	struct cfg_node *parent;
	struct cfg_node **children; /* map entries or list items */
	size_t n_children;
	struct cfg_index *index; /* private: hash of a big map's keys */
};

struct config {
	char *path; /* the file loaded (NULL for strings) */
	char *name; /* the file name nodes and messages use */
	struct cfg_node *root; /* always a map */
	/* warnings found by config_load(): one line each, unknown keys
	 * "FILE:LINE:COL: unknown key 'a.b' (did you mean 'a.c'?)" and
	 * duplicate keys "FILE:LINE:COL: duplicate key 'a.b' ..." */
	char **warnings;
	size_t n_warnings;
};

/*
 * Load `path`, merge its documents and apply the overrides found in `envp`
 * (a NULL-terminated "NAME=value" array such as `environ`; NULL for none).
 * Checks every known key's type (config_schema.h) and records unknown keys
 * as warnings.  On failure returns a negative errno and sets *error_r to an
 * allocated message "FILE:LINE:COLUMN: key 'a.b.c': what is wrong" that the
 * caller frees (several such lines, separated by newlines, when several
 * keys are wrong; YAML syntax errors read "FILE:LINE:COLUMN: problem
 * (while parsing ..., in key 'a.b')").  A file that cannot be read gives
 * "FILE: strerror" and -errno.
 */
int config_load(const char *path, char *const *envp, struct config **cfg_r,
		char **error_r);
/* Same from a string; `name` stands for the file name in messages. */
int config_load_string(const char *text, const char *name, char *const *envp,
		       struct config **cfg_r, char **error_r);
void config_free(struct config **cfg);

/*
 * Strict mode (`--strict`): 0 when config_load() found no warnings, else
 * -EINVAL and *error_r = all warnings, one per line (allocated; the caller
 * frees).
 */
int config_check_strict(const struct config *cfg, char **error_r);

/* The node at dotted `path` below `base` (NULL base: never found). */
const struct cfg_node *cfg_get(const struct cfg_node *base, const char *path);
/* The entry `key` of map `node`, or NULL. */
const struct cfg_node *cfg_child(const struct cfg_node *node, const char *key);
/* The dotted path of a node from the root ("dmf.worker.jobs.max"), into
 * buf; returns buf. */
const char *cfg_path(const struct cfg_node *node, char *buf, size_t size);
/* "file:line:column" (or "environment NAME") of a node, into buf. */
const char *cfg_origin(const struct cfg_node *node, char *buf, size_t size);
/* A bad value of `key`: *error_r = "FILE:LINE:COL: key 'KEY': WHAT"
 * (allocated), or "FILE: key 'KEY' (built-in default): WHAT" when the
 * file does not set it.  Returns -EINVAL. */
int cfg_key_error(const struct config *cfg, const char *key, const char *what,
		  char **error_r);
/* True when the node's key is secret (schema flag, or a secret name as
 * lib/secret.h defines it: *password*, *passwd*, *secret*, *token*,
 * *credential*, *key), or it lies below such a key. */
bool cfg_is_secret(const struct cfg_node *node);
/* Parse true/false/yes/no/on/off (any case); 0 or -EINVAL. */
int cfg_parse_bool(const char *text, bool *value_r);

/*
 * Typed getters.  `path` is relative to `base`.  Absent or null keys give
 * `def` and return 0.  A value of the wrong type returns -EINVAL and sets
 * *error_r to a message naming file:line:column and the full key; the
 * message lives in a thread-local buffer valid until the next failing
 * getter call on the same thread.  *value_r is not written on failure.
 */
int cfg_get_string(const struct cfg_node *base, const char *path,
		   const char *def, const char **value_r, const char **error_r);
int cfg_get_int(const struct cfg_node *base, const char *path, long long def,
		long long *value_r, const char **error_r);
int cfg_get_bool(const struct cfg_node *base, const char *path, bool def,
		 bool *value_r, const char **error_r);
/* `5s`, `1m`, `2h`, `1d`, `250ms`, `1.5s`, plain milliseconds, ISO-8601
 * `PT1M30S`, `P1D`, `PT0.5S` (any case); result in milliseconds. */
int cfg_get_duration_ms(const struct cfg_node *base, const char *path,
			long long def, long long *ms_r, const char **error_r);
/*
 * A list of strings: a YAML sequence of scalars, or one scalar holding a
 * comma-separated list (as environment variables give lists).  On success
 * *items_r is an allocated NULL-terminated array of allocated strings
 * (free with cfg_strv_free); an absent key gives an empty array.
 */
int cfg_get_strv(const struct cfg_node *base, const char *path, char ***items_r,
		 const char **error_r);
void cfg_strv_free(char ***items);

/* Parse a duration text as cfg_get_duration_ms() does; 0 or -EINVAL. */
int cfg_parse_duration_ms(const char *text, long long *ms_r);

/*
 * Print the effective configuration as YAML to `out`, secrets (any key
 * cfg_is_secret() names, and the secret parts of any value that
 * lib/secret.h finds: a URL's password, `password=` in a query) shown as
 * `<hidden>`; a secret left empty prints empty.  Returns 0 or -EIO.
 */
int config_print(const struct config *cfg, FILE *out);

#endif /* DMF_CORE_CONFIG_H */
