/*
 * config.c - dmf-worker.yml: read the YAML documents with libyaml's event
 * API into one tree, apply environment overrides, check the keys against
 * the schema, and typed access to the result.
 */
#include "dmf-build.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <openssl/crypto.h>
#include <yaml.h>

#include "lib/config.h"
#include "lib/config_schema.h"
#include "lib/secret.h"
#include "lib/util.h"

#define MAX_DEPTH 64
#define ENV_FILE "environment"

/* ------------------------------------------------------------ nodes --- */

static struct cfg_node *node_new(enum cfg_kind kind, const char *key,
				 const char *file, unsigned line,
				 unsigned column)
{
	struct cfg_node *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->kind = kind;
	n->file = file;
	n->line = line;
	n->column = column;
	if (key != NULL && (n->key = strdup(key)) == NULL) {
		free(n);
		return NULL;
	}
	return n;
}

static void node_free(struct cfg_node *n);
static void index_drop(struct cfg_node *map);
static void index_added(struct cfg_node *map);

static void node_clear(struct cfg_node *n)
{
	index_drop(n);
	for (size_t i = 0; i < n->n_children; i++)
		node_free(n->children[i]);
	free(n->children);
	n->children = NULL;
	n->n_children = 0;
	if (n->value != NULL) {
		OPENSSL_cleanse(n->value, strlen(n->value));
		free(n->value);
		n->value = NULL;
	}
}

static void node_free(struct cfg_node *n)
{
	if (n == NULL)
		return;
	node_clear(n);
	free(n->key);
	free(n->env_name);
	free(n);
}

static int node_append(struct cfg_node *parent, struct cfg_node *child)
{
	struct cfg_node **c = parent->children;
	size_t n = parent->n_children;

	/* room for next_pow2(n) (at least 4) entries: grow when n is 0 or a
	 * power of two from 4 on, so that appending stays linear */
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		c = realloc(c, (n == 0 ? 4 : 2 * n) * sizeof(*c));
		if (c == NULL)
			return -ENOMEM;
	}
	parent->children = c;
	c[parent->n_children++] = child;
	child->parent = parent;
	index_added(parent);
	return 0;
}

/*
 * A map with many keys gets a hash index (open addressing over the child
 * positions), so that loading, merging and looking up stay linear in the
 * number of keys.  It is built on the first lookup, extended by
 * node_append() and dropped whenever keys are renamed or removed.
 */
#define INDEX_FROM 16

struct cfg_index {
	size_t cap; /* a power of two, at least twice n */
	size_t n; /* positions indexed: children[0..n-1] */
	size_t *slots; /* position + 1; 0 = empty */
};

static size_t key_hash(const char *key)
{
	size_t h = 1469598103934665603ull & SIZE_MAX;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) *
		    (sizeof(size_t) > 4 ? 1099511628211ull : 16777619u);
	return h;
}

static void index_drop(struct cfg_node *map)
{
	if (map->index != NULL) {
		free(map->index->slots);
		free(map->index);
		map->index = NULL;
	}
}

static void index_put(struct cfg_index *ix, struct cfg_node *const *children,
		      size_t pos)
{
	size_t at = key_hash(children[pos]->key) & (ix->cap - 1);

	while (ix->slots[at] != 0)
		at = (at + 1) & (ix->cap - 1);
	ix->slots[at] = pos + 1;
}

/* (Re)build the index for children[0..n_children-1]; false when out of
 * memory (lookups then fall back to a scan). */
static bool index_build(struct cfg_node *map, size_t cap)
{
	struct cfg_index *ix = map->index;

	if (ix == NULL && (ix = calloc(1, sizeof(*ix))) == NULL)
		return false;
	free(ix->slots);
	ix->cap = cap;
	ix->n = 0;
	ix->slots = calloc(cap, sizeof(*ix->slots));
	map->index = ix;
	if (ix->slots == NULL) {
		index_drop(map);
		return false;
	}
	for (size_t i = 0; i < map->n_children; i++)
		if (map->children[i]->key != NULL)
			index_put(ix, map->children, i);
	ix->n = map->n_children;
	return true;
}

/* node_append() added children[n_children-1]. */
static void index_added(struct cfg_node *map)
{
	struct cfg_index *ix = map->index;

	if (ix == NULL)
		return;
	if (ix->n + 1 != map->n_children) {
		index_drop(map); /* out of step: rebuilt on the next lookup */
		return;
	}
	if (map->n_children * 2 > ix->cap) {
		if (!index_build(map, ix->cap * 2))
			return;
	} else if (map->children[ix->n]->key != NULL) {
		index_put(ix, map->children, ix->n);
	}
	ix->n = map->n_children;
}

static ssize_t child_index(const struct cfg_node *cmap, const char *key)
{
	struct cfg_node *map = (struct cfg_node *)cmap;

	if (map->n_children >= INDEX_FROM &&
	    (map->index == NULL || map->index->n != map->n_children)) {
		size_t cap = 64;

		while (cap < map->n_children * 2)
			cap *= 2;
		index_build(map, cap);
	}
	if (map->index != NULL && map->index->n == map->n_children) {
		const struct cfg_index *ix = map->index;
		size_t at = key_hash(key) & (ix->cap - 1);

		while (ix->slots[at] != 0) {
			size_t pos = ix->slots[at] - 1;

			if (strcmp(map->children[pos]->key, key) == 0)
				return (ssize_t)pos;
			at = (at + 1) & (ix->cap - 1);
		}
		return -1;
	}
	for (size_t i = 0; i < map->n_children; i++) {
		if (map->children[i]->key != NULL &&
		    strcmp(map->children[i]->key, key) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static struct cfg_node *node_copy(const struct cfg_node *src, const char *key)
{
	struct cfg_node *n =
		node_new(src->kind, key, src->file, src->line, src->column);

	if (n == NULL)
		return NULL;
	n->key_line = src->key_line;
	n->key_column = src->key_column;
	if (src->value != NULL && (n->value = strdup(src->value)) == NULL)
		goto fail;
	if (src->env_name != NULL &&
	    (n->env_name = strdup(src->env_name)) == NULL)
		goto fail;
	for (size_t i = 0; i < src->n_children; i++) {
		const struct cfg_node *c = src->children[i];
		struct cfg_node *cc = node_copy(c, c->key);

		if (cc == NULL || node_append(n, cc) < 0) {
			node_free(cc);
			goto fail;
		}
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

/*
 * Merge map `src` into map `dst` (src is consumed): maps merge key by key,
 * anything else in src replaces what dst has.
 */
static int merge_maps(struct cfg_node *dst, struct cfg_node *src)
{
	int ret = 0;

	for (size_t i = 0; i < src->n_children; i++) {
		struct cfg_node *c = src->children[i];
		ssize_t at = child_index(dst, c->key);

		src->children[i] = NULL;
		if (at >= 0 && dst->children[at]->kind == CFG_MAP &&
		    c->kind == CFG_MAP) {
			if (ret == 0)
				ret = merge_maps(dst->children[at], c);
			else
				node_free(c);
		} else if (at >= 0) {
			node_free(dst->children[at]);
			dst->children[at] = c;
			c->parent = dst;
		} else if (ret < 0 || (ret = node_append(dst, c)) < 0) {
			node_free(c);
		}
	}
	src->n_children = 0;
	node_free(src);
	return ret;
}

/* ----------------------------------------------------------- messages --- */

static int add_warning(struct config *cfg, char *line)
{
	char **w;

	if (line == NULL)
		return -ENOMEM;
	w = realloc(cfg->warnings, (cfg->n_warnings + 1) * sizeof(*w));
	if (w == NULL) {
		free(line);
		return -ENOMEM;
	}
	cfg->warnings = w;
	w[cfg->n_warnings++] = line;
	return 0;
}

/* Append a line to an allocated multi-line message. */
static int add_line(char **msg, const char *line)
{
	char *m;

	if (line == NULL)
		return -ENOMEM;
	m = *msg == NULL ? strdup(line) : xasprintf("%s\n%s", *msg, line);
	if (m == NULL)
		return -ENOMEM;
	free(*msg);
	*msg = m;
	return 0;
}

const char *cfg_path(const struct cfg_node *node, char *buf, size_t size)
{
	const struct cfg_node *chain[MAX_DEPTH];
	size_t n = 0, len = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (; node != NULL && node->parent != NULL && n < MAX_DEPTH;
	     node = node->parent)
		chain[n++] = node;
	while (n-- > 0 && len < size) {
		const struct cfg_node *c = chain[n];
		int w;

		if (c->key != NULL) {
			w = snprintf(buf + len, size - len, "%s%s",
				     len > 0 ? "." : "", c->key);
		} else {
			size_t idx = 0;

			while (idx < c->parent->n_children &&
			       c->parent->children[idx] != c)
				idx++;
			w = snprintf(buf + len, size - len, "[%zu]", idx);
		}
		if (w < 0)
			break;
		len += (size_t)w;
	}
	return buf;
}

const char *cfg_origin(const struct cfg_node *node, char *buf, size_t size)
{
	if (node == NULL)
		snprintf(buf, size, "(unset)");
	else if (node->env_name != NULL)
		snprintf(buf, size, "environment %s", node->env_name);
	else
		snprintf(buf, size, "%s:%u:%u", node->file ? node->file : "?",
			 node->line, node->column);
	return buf;
}

int cfg_key_error(const struct config *cfg, const char *key, const char *what,
		  char **error_r)
{
	const struct cfg_node *node = cfg_get(cfg->root, key);
	char where[512];

	if (node == NULL)
		*error_r = xasprintf("%s: key '%s' (built-in default): %s",
				     cfg->path != NULL ? cfg->path : "-", key,
				     what);
	else
		*error_r = xasprintf("%s: key '%s': %s",
				     cfg_origin(node, where, sizeof(where)),
				     key, what);
	return -EINVAL;
}

/* Key segments from the root to node (list items are skipped). */
static size_t node_segs(const struct cfg_node *node, const char **segs,
			size_t max)
{
	const struct cfg_node *chain[MAX_DEPTH];
	size_t n = 0, k = 0;

	for (; node != NULL && node->parent != NULL && n < MAX_DEPTH;
	     node = node->parent)
		chain[n++] = node;
	while (n-- > 0 && k < max) {
		if (chain[n]->key != NULL)
			segs[k++] = chain[n]->key;
	}
	return k;
}

bool cfg_is_secret(const struct cfg_node *node)
{
	const char *segs[MAX_DEPTH];
	size_t n = node_segs(node, segs, MAX_DEPTH);

	for (size_t i = 1; i <= n; i++) {
		/* a block under a secret name is secret, but an operator's
		 * own label above the key (a source named HKEY) is not a
		 * name of a secret */
		if (i < n && config_schema_is_label(segs, i))
			continue;
		if (config_schema_is_secret_segs(segs, i))
			return true;
	}
	return false;
}

static const char *kind_name(enum cfg_kind kind)
{
	switch (kind) {
	case CFG_MAP:
		return "a map";
	case CFG_LIST:
		return "a list";
	case CFG_SCALAR:
		return "a scalar";
	default:
		return "nothing";
	}
}

/* "ORIGIN: key 'a.b': expected X, got 'v'" */
static char *type_message(const struct cfg_node *node, const char *expected)
{
	char origin[512], path[512], got[256];

	if (node->kind != CFG_SCALAR)
		snprintf(got, sizeof(got), "%s", kind_name(node->kind));
	else if (cfg_is_secret(node))
		snprintf(got, sizeof(got), "<hidden>");
	else {
		char *clean = secret_redact_value(node->value, NULL);

		snprintf(got, sizeof(got), "'%.200s'",
			 clean != NULL ? clean : node->value);
		free(clean);
	}
	return xasprintf("%s: key '%s': expected %s, got %s",
			 cfg_origin(node, origin, sizeof(origin)),
			 cfg_path(node, path, sizeof(path)), expected, got);
}

/* --------------------------------------------------------- YAML input --- */

struct anchor {
	char *name;
	struct cfg_node *node; /* an owned copy */
	size_t nodes; /* how many nodes an alias of it makes */
	unsigned depth; /* aliases nested inside it, plus one */
};

struct loader {
	struct config *cfg;
	yaml_parser_t parser;
	const char *file;
	struct anchor *anchors;
	size_t n_anchors;
	const char *keys[MAX_DEPTH]; /* key path being parsed */
	size_t depth;
	size_t n_nodes; /* nodes made so far (aliases included) */
	size_t alias_nodes; /* nodes made by aliases so far */
	unsigned alias_depth; /* deepest alias nesting in the node parsed */
	char *error;
	int err;
};

static size_t node_count(const struct cfg_node *n)
{
	size_t count = 1;

	for (size_t i = 0; i < n->n_children; i++)
		count += node_count(n->children[i]);
	return count;
}

static void loader_clear_anchors(struct loader *ld)
{
	for (size_t i = 0; i < ld->n_anchors; i++) {
		free(ld->anchors[i].name);
		node_free(ld->anchors[i].node);
	}
	free(ld->anchors);
	ld->anchors = NULL;
	ld->n_anchors = 0;
}

static void key_path(const struct loader *ld, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ld->depth && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i > 0 ? "." : "", ld->keys[i]);
}

static int fail(struct loader *ld, int err, const yaml_mark_t *mark,
		const char *fmt, ...) DMF_PRINTF(4, 5);

static int fail(struct loader *ld, int err, const yaml_mark_t *mark,
		const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (ld->error != NULL)
		return ld->err;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (mark != NULL)
		ld->error = xasprintf("%s:%zu:%zu: %s", ld->file,
				      mark->line + 1, mark->column + 1, what);
	else
		ld->error = xasprintf("%s: %s", ld->file, what);
	ld->err = err;
	return err;
}

static int yaml_fail(struct loader *ld)
{
	yaml_parser_t *p = &ld->parser;
	char key[512], ctx[600] = "";

	if (p->error == YAML_MEMORY_ERROR)
		return fail(ld, -ENOMEM, NULL, "out of memory");
	key_path(ld, key, sizeof(key));
	if (p->context != NULL)
		snprintf(ctx, sizeof(ctx), " (%s at line %zu%s%s%s)",
			 p->context, p->context_mark.line + 1,
			 key[0] != '\0' ? ", in key '" : "", key,
			 key[0] != '\0' ? "'" : "");
	else if (key[0] != '\0')
		snprintf(ctx, sizeof(ctx), " (while parsing key '%s')", key);
	if (p->error == YAML_READER_ERROR)
		return fail(ld, -EINVAL, NULL, "%s at byte %zu%s",
			    p->problem ? p->problem : "cannot read",
			    p->problem_offset, ctx);
	return fail(ld, -EINVAL, &p->problem_mark, "%s%s",
		    p->problem ? p->problem : "YAML error", ctx);
}

static int next_event(struct loader *ld, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&ld->parser, ev))
		return yaml_fail(ld);
	return 0;
}

static bool is_null_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static int add_anchor(struct loader *ld, const yaml_char_t *name,
		      const struct cfg_node *node, unsigned depth)
{
	struct anchor *a;

	if (name == NULL)
		return 0;
	a = realloc(ld->anchors, (ld->n_anchors + 1) * sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	ld->anchors = a;
	a = &a[ld->n_anchors];
	a->name = strdup((const char *)name);
	a->node = node_copy(node, NULL);
	a->nodes = node_count(node);
	a->depth = depth;
	if (a->name == NULL || a->node == NULL) {
		free(a->name);
		node_free(a->node);
		return -ENOMEM;
	}
	ld->n_anchors++;
	return 0;
}

static int parse_node(struct loader *ld, yaml_event_t *ev, const char *key,
		      struct cfg_node **node_r);

/* `<<: *base` (or a list of aliases): keys the map lacks come from there. */
static int apply_merge_key(struct loader *ld, struct cfg_node *map,
			   const struct cfg_node *src)
{
	if (src->kind == CFG_LIST) {
		for (size_t i = 0; i < src->n_children; i++) {
			int ret = apply_merge_key(ld, map, src->children[i]);

			if (ret < 0)
				return ret;
		}
		return 0;
	}
	if (src->kind != CFG_MAP) {
		yaml_mark_t m = { 0, src->line - 1, src->column - 1 };

		return fail(ld, -EINVAL, &m,
			    "a merge key (<<) needs a map or a list of maps");
	}
	for (size_t i = 0; i < src->n_children; i++) {
		const struct cfg_node *c = src->children[i];
		struct cfg_node *cc;

		if (child_index(map, c->key) >= 0)
			continue;
		cc = node_copy(c, c->key);
		if (cc == NULL || node_append(map, cc) < 0) {
			node_free(cc);
			return fail(ld, -ENOMEM, NULL, "out of memory");
		}
	}
	return 0;
}

static int parse_map(struct loader *ld, struct cfg_node *map)
{
	struct cfg_node *merges[16];
	size_t n_merges = 0;
	int ret = 0;

	for (;;) {
		yaml_event_t kev, vev;
		struct cfg_node *child = NULL;
		char *k;
		ssize_t at;

		if ((ret = next_event(ld, &kev)) < 0)
			break;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			ret = fail(ld, -EINVAL, &kev.start_mark,
				   "only plain keys are supported here");
			yaml_event_delete(&kev);
			break;
		}
		if (memchr(kev.data.scalar.value, '\0',
			   kev.data.scalar.length) != NULL) {
			ret = fail(ld, -EINVAL, &kev.start_mark,
				   "a key holds a NUL byte");
			yaml_event_delete(&kev);
			break;
		}
		k = strdup((const char *)kev.data.scalar.value);
		if (k == NULL) {
			yaml_event_delete(&kev);
			ret = fail(ld, -ENOMEM, NULL, "out of memory");
			break;
		}
		if (ld->depth == MAX_DEPTH) {
			ret = fail(ld, -EINVAL, &kev.start_mark,
				   "nested too deeply");
			yaml_event_delete(&kev);
			free(k);
			break;
		}
		ld->keys[ld->depth++] = k;
		ret = next_event(ld, &vev);
		if (ret == 0)
			ret = parse_node(ld, &vev, k, &child);
		ld->depth--;
		if (ret < 0) {
			yaml_event_delete(&kev);
			free(k);
			break;
		}
		child->key_line = (unsigned)kev.start_mark.line + 1;
		child->key_column = (unsigned)kev.start_mark.column + 1;
		if (child->kind != CFG_SCALAR) {
			/* a map, list or null is where its key is */
			child->line = child->key_line;
			child->column = child->key_column;
		}
		yaml_event_delete(&kev);
		if (strcmp(k, "<<") == 0 && n_merges < 16) {
			free(k);
			merges[n_merges++] = child;
			continue;
		}
		at = child_index(map, k);
		if (at >= 0) {
			struct cfg_node *old = map->children[at];
			char path[512];
			size_t len;

			key_path(ld, path, sizeof(path));
			len = strlen(path);
			snprintf(path + len, sizeof(path) - len, "%s%s",
				 len > 0 ? "." : "", k);
			ret = add_warning(
				ld->cfg,
				xasprintf("%s:%u:%u: duplicate key '%s' (first "
					  "at line %u; the later value wins)",
					  ld->file, child->key_line,
					  child->key_column, path,
					  old->key_line));
			node_free(old);
			map->children[at] = child;
		} else {
			ret = node_append(map, child);
			if (ret < 0)
				node_free(child);
		}
		free(k);
		if (ret < 0) {
			ret = fail(ld, ret, NULL, "out of memory");
			break;
		}
	}
	for (size_t i = 0; i < n_merges; i++) {
		if (ret == 0)
			ret = apply_merge_key(ld, map, merges[i]);
		node_free(merges[i]);
	}
	return ret;
}

/* Build the node that starts with event `ev` (consumed). */
static int parse_node(struct loader *ld, yaml_event_t *ev, const char *key,
		      struct cfg_node **node_r)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	unsigned col = (unsigned)ev->start_mark.column + 1;
	const yaml_char_t *anchor = NULL;
	struct cfg_node *n = NULL;
	unsigned outer_depth = ld->alias_depth;
	int ret = 0;

	ld->alias_depth = 0;
	if (ev->type != YAML_ALIAS_EVENT && ++ld->n_nodes > CONFIG_MAX_NODES) {
		ret = fail(ld, -E2BIG, &ev->start_mark,
			   "more than %u keys and list items (the limit of a "
			   "configuration)",
			   CONFIG_MAX_NODES);
		goto out;
	}
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		for (size_t i = ld->n_anchors; i-- > 0;) {
			const struct anchor *a = &ld->anchors[i];

			if (strcmp(a->name,
				   (const char *)ev->data.alias.anchor) != 0)
				continue;
			if (a->depth + 1 > CONFIG_MAX_ALIAS_DEPTH) {
				ret = fail(ld, -E2BIG, &ev->start_mark,
					   "alias '*%s' nests aliases %u deep "
					   "(the limit is %u)",
					   a->name, a->depth + 1,
					   CONFIG_MAX_ALIAS_DEPTH);
				break;
			}
			ld->alias_nodes += a->nodes;
			ld->n_nodes += a->nodes;
			if (ld->alias_nodes > CONFIG_MAX_ALIAS_NODES ||
			    ld->n_nodes > CONFIG_MAX_NODES) {
				ret = fail(ld, -E2BIG, &ev->start_mark,
					   "alias '*%s' would make the aliases "
					   "of this file expand to more than "
					   "%u nodes (the limit of alias "
					   "expansion)",
					   a->name, CONFIG_MAX_ALIAS_NODES);
				break;
			}
			ld->alias_depth = a->depth + 1;
			n = node_copy(a->node, key);
			if (n == NULL)
				ret = fail(ld, -ENOMEM, NULL, "out of memory");
			break;
		}
		if (n == NULL && ret == 0)
			ret = fail(ld, -EINVAL, &ev->start_mark,
				   "unknown alias '*%s'",
				   (const char *)ev->data.alias.anchor);
		if (n != NULL) {
			n->line = line;
			n->column = col;
		}
		break;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		if (memchr(ev->data.scalar.value, '\0',
			   ev->data.scalar.length) != NULL) {
			char path[512];

			key_path(ld, path, sizeof(path));
			ret = fail(ld, -EINVAL, &ev->start_mark,
				   "key '%s': the value holds a NUL byte",
				   path);
		} else if (is_null_scalar(ev)) {
			n = node_new(CFG_NULL, key, ld->file, line, col);
		} else {
			n = node_new(CFG_SCALAR, key, ld->file, line, col);
			if (n != NULL &&
			    (n->value = strdup(
				     (const char *)ev->data.scalar.value)) ==
				    NULL) {
				node_free(n);
				n = NULL;
			}
		}
		if (n == NULL && ret == 0)
			ret = fail(ld, -ENOMEM, NULL, "out of memory");
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		n = node_new(CFG_LIST, key, ld->file, line, col);
		if (n == NULL) {
			ret = fail(ld, -ENOMEM, NULL, "out of memory");
			break;
		}
		for (;;) {
			yaml_event_t iev;
			struct cfg_node *item = NULL;

			if ((ret = next_event(ld, &iev)) < 0)
				break;
			if (iev.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&iev);
				break;
			}
			if ((ret = parse_node(ld, &iev, NULL, &item)) < 0)
				break;
			if ((ret = node_append(n, item)) < 0) {
				node_free(item);
				ret = fail(ld, ret, NULL, "out of memory");
				break;
			}
		}
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		n = node_new(CFG_MAP, key, ld->file, line, col);
		if (n == NULL)
			ret = fail(ld, -ENOMEM, NULL, "out of memory");
		else
			ret = parse_map(ld, n);
		break;
	default:
		ret = fail(ld, -EINVAL, &ev->start_mark,
			   "unexpected YAML event");
		break;
	}
	if (ret == 0 && anchor != NULL &&
	    add_anchor(ld, anchor, n, ld->alias_depth) < 0)
		ret = fail(ld, -ENOMEM, NULL, "out of memory");
out:
	if (ld->alias_depth < outer_depth)
		ld->alias_depth = outer_depth;
	yaml_event_delete(ev);
	if (ret < 0) {
		node_free(n);
		return ret;
	}
	*node_r = n;
	return 0;
}

/* Read every document of the stream and merge it into cfg->root. */
static int load_stream(struct loader *ld)
{
	yaml_event_t ev;
	int ret;

	for (;;) {
		struct cfg_node *doc = NULL;

		if ((ret = next_event(ld, &ev)) < 0)
			return ret;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			return 0;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			yaml_event_delete(&ev);
			continue;
		case YAML_DOCUMENT_START_EVENT:
			yaml_event_delete(&ev);
			loader_clear_anchors(ld);
			continue;
		default:
			break;
		}
		/* the root node of a document */
		if (ev.type == YAML_SCALAR_EVENT && is_null_scalar(&ev)) {
			yaml_event_delete(&ev); /* an empty document */
			continue;
		}
		if (ev.type != YAML_MAPPING_START_EVENT) {
			ret = fail(ld, -EINVAL, &ev.start_mark,
				   "the top level of a document must be a map "
				   "of keys");
			yaml_event_delete(&ev);
			return ret;
		}
		if ((ret = parse_node(ld, &ev, NULL, &doc)) < 0)
			return ret;
		if ((ret = merge_maps(ld->cfg->root, doc)) < 0)
			return fail(ld, ret, NULL, "out of memory");
	}
}

/* ------------------------------------------------- environment input --- */

static const char *const env_roots[] = { "MICRONAUT", "DMF",  "DATASOURCES",
					 "ENDPOINTS", "HTTP", "LOGGER" };

#define SEG_MAX 128

struct env_search {
	struct cfg_node *root;
	const char *segs[MAX_DEPTH];
	char wild[MAX_DEPTH][SEG_MAX]; /* free names taken from the env name */
	char best[MAX_DEPTH][SEG_MAX];
	size_t n_best;
	size_t best_lit, best_tree;
	bool found;
};

/*
 * Does `key`, upper-cased with `-` and `.` as `_` (and, when camel is set,
 * `_` before each upper-case letter that follows a lower-case one), start
 * `rest` as whole tokens?  Returns the length matched or 0.
 */
static size_t norm_match(const char *rest, const char *key, bool camel)
{
	size_t i = 0;

	if (key[0] == '\0')
		return 0;
	for (size_t k = 0; key[k] != '\0'; k++) {
		unsigned char c = (unsigned char)key[k];
		char want = (c == '-' || c == '.') ? '_' : (char)toupper(c);

		if (camel && k > 0 && isupper(c) &&
		    islower((unsigned char)key[k - 1])) {
			if (rest[i] != '_')
				return 0;
			i++;
		}
		if (rest[i] != want)
			return 0;
		i++;
	}
	return rest[i] == '\0' || rest[i] == '_' ? i : 0;
}

static size_t key_match(const char *rest, const char *key)
{
	size_t n = norm_match(rest, key, false);

	return n != 0 ? n : norm_match(rest, key, true);
}

static size_t count_tokens(const char *s, size_t len)
{
	size_t n = 1;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '_';
	return n;
}

struct seg_list {
	const char *segs[256];
	size_t n;
	bool wild;
};

static void collect_seg(const char *seg, void *ctx)
{
	struct seg_list *l = ctx;

	if (strcmp(seg, "*") == 0) {
		l->wild = true;
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->segs[i], seg) == 0)
			return;
	}
	if (l->n < sizeof(l->segs) / sizeof(l->segs[0]))
		l->segs[l->n++] = seg;
}

static bool env_target_ok(struct env_search *s, size_t depth,
			  const struct cfg_node *tnode)
{
	struct cfg_schema_match m;

	if (tnode != NULL)
		return true;
	switch (config_schema_match(s->segs, depth, &m)) {
	case CFG_MATCH_KEY:
		return m.entry->type != CFG_T_MAP;
	case CFG_MATCH_INSIDE:
		return true;
	default:
		return false;
	}
}

static void env_search(struct env_search *s, const char *rest,
		       const struct cfg_node *tnode, size_t depth, size_t lit,
		       size_t tree)
{
	struct seg_list next = { .n = 0 };
	size_t len;

	if (*rest == '\0') {
		if (depth == 0 || !env_target_ok(s, depth, tnode))
			return;
		if (s->found && (lit < s->best_lit ||
				 (lit == s->best_lit && tree <= s->best_tree)))
			return;
		s->found = true;
		s->best_lit = lit;
		s->best_tree = tree;
		s->n_best = depth;
		for (size_t i = 0; i < depth; i++)
			snprintf(s->best[i], SEG_MAX, "%s", s->segs[i]);
		return;
	}
	if (depth == MAX_DEPTH)
		return;
	/* keys that exist in the file */
	if (tnode != NULL && tnode->kind == CFG_MAP) {
		for (size_t i = 0; i < tnode->n_children; i++) {
			const struct cfg_node *c = tnode->children[i];

			len = key_match(rest, c->key);
			if (len == 0)
				continue;
			s->segs[depth] = c->key;
			env_search(s, rest + len + (rest[len] == '_'), c,
				   depth + 1, lit + count_tokens(rest, len),
				   tree + 1);
		}
	}
	/* keys the schema knows */
	config_schema_next_segments(s->segs, depth, collect_seg, &next);
	for (size_t i = 0; i < next.n; i++) {
		if (tnode != NULL && tnode->kind == CFG_MAP &&
		    child_index(tnode, next.segs[i]) >= 0)
			continue; /* done above */
		len = key_match(rest, next.segs[i]);
		if (len == 0)
			continue;
		s->segs[depth] = next.segs[i];
		env_search(s, rest + len + (rest[len] == '_'), NULL, depth + 1,
			   lit + count_tokens(rest, len), tree);
	}
	/* a free name: one or more tokens */
	if (!next.wild)
		return;
	for (len = 1; len <= strlen(rest); len++) {
		char *w = s->wild[depth];

		if (rest[len] != '_' && rest[len] != '\0')
			continue;
		if (len >= SEG_MAX)
			break;
		memcpy(w, rest, len);
		w[len] = '\0';
		if (strcmp(w, "DEFAULT") == 0 || strcmp(w, "ROOT") == 0)
			for (char *c = w; *c != '\0'; c++)
				*c = (char)tolower((unsigned char)*c);
		s->segs[depth] = w;
		env_search(s, rest + len + (rest[len] == '_'), NULL, depth + 1,
			   lit, tree);
		if (rest[len] == '\0')
			break;
	}
}

static struct cfg_node *env_node(enum cfg_kind kind, const char *key,
				 const char *env_name)
{
	struct cfg_node *n = node_new(kind, key, ENV_FILE, 0, 0);

	if (n != NULL && (n->env_name = strdup(env_name)) == NULL) {
		node_free(n);
		n = NULL;
	}
	return n;
}

static int env_apply(struct config *cfg, const struct env_search *s,
		     const char *name, const char *value)
{
	struct cfg_node *node = cfg->root, *c;

	for (size_t d = 0; d < s->n_best; d++) {
		bool last = d + 1 == s->n_best;
		ssize_t at = child_index(node, s->best[d]);

		if (at < 0) {
			c = env_node(last ? CFG_SCALAR : CFG_MAP, s->best[d],
				     name);
			if (c == NULL || node_append(node, c) < 0) {
				node_free(c);
				return -ENOMEM;
			}
		} else {
			c = node->children[at];
			if (last || c->kind != CFG_MAP) {
				/* the environment wins: re-make the node */
				node_clear(c);
				free(c->env_name);
				c->env_name = strdup(name);
				c->kind = last ? CFG_SCALAR : CFG_MAP;
				c->file = ENV_FILE;
				c->line = c->column = 0;
				c->key_line = c->key_column = 0;
				if (c->env_name == NULL)
					return -ENOMEM;
			}
		}
		node = c;
	}
	node->value = strdup(value);
	return node->value == NULL ? -ENOMEM : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool env_name_ok(const char *name, size_t len)
{
	size_t root_len = 0;

	for (size_t i = 0; i < len; i++) {
		if (!isupper((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '_')
			return false;
	}
	while (root_len < len && name[root_len] != '_')
		root_len++;
	for (size_t i = 0; i < sizeof(env_roots) / sizeof(env_roots[0]); i++) {
		if (strlen(env_roots[i]) == root_len &&
		    strncmp(env_roots[i], name, root_len) == 0)
			return root_len < len;
	}
	return false;
}

static int apply_environment(struct config *cfg, char *const *envp)
{
	const char **vars;
	size_t n = 0, k = 0;
	int ret = 0;

	if (envp == NULL)
		return 0;
	while (envp[n] != NULL)
		n++;
	vars = calloc(n + 1, sizeof(*vars));
	if (vars == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(envp[i], '=');

		if (eq != NULL && env_name_ok(envp[i], (size_t)(eq - envp[i])))
			vars[k++] = envp[i];
	}
	qsort(vars, k, sizeof(*vars), cmp_str);
	for (size_t i = 0; i < k && ret == 0; i++) {
		const char *eq = strchr(vars[i], '=');
		char name[512];
		struct env_search *s;

		if ((size_t)(eq - vars[i]) >= sizeof(name))
			continue;
		memcpy(name, vars[i], (size_t)(eq - vars[i]));
		name[eq - vars[i]] = '\0';
		s = calloc(1, sizeof(*s));
		if (s == NULL) {
			ret = -ENOMEM;
			break;
		}
		s->root = cfg->root;
		env_search(s, name, cfg->root, 0, 0, 0);
		if (s->found)
			ret = env_apply(cfg, s, name, eq + 1);
		free(s);
	}
	free(vars);
	return ret;
}

/* ------------------------------------------------------ alias spellings --- */

/*
 * Rename keys spelled as an alias (dmf.doveadm.sources, maximumPoolSize,
 * copy-imaps-inbox, failure-flags.sync) to the canonical spelling, so that
 * readers need to know one name only.  When both spellings are present,
 * the alias is merged into the canonical key and wins.
 */
static int canonicalize_map(struct cfg_node *map, const char **segs,
			    size_t depth)
{
	int ret = 0;

	if (depth >= MAX_DEPTH)
		return 0;
	for (size_t i = 0; i < map->n_children && ret == 0; i++) {
		struct cfg_node *c = map->children[i];
		const char *canon;

		segs[depth] = c->key;
		canon = config_schema_canonical_key(segs, depth + 1);
		if (canon != NULL) {
			ssize_t at = child_index(map, canon);

			if (at >= 0) {
				struct cfg_node *old = map->children[at];

				/* drop the alias node from the map */
				memmove(&map->children[i],
					&map->children[i + 1],
					(map->n_children - i - 1) *
						sizeof(*map->children));
				map->n_children--;
				index_drop(map);
				if ((size_t)at > i)
					at--;
				if (old->kind == CFG_MAP &&
				    c->kind == CFG_MAP) {
					ret = merge_maps(old, c);
				} else {
					free(c->key);
					c->key = old->key;
					old->key = NULL;
					map->children[at] = c;
					node_free(old);
				}
				i = (size_t)-1; /* the map changed: rescan */
				continue;
			}
			canon = strdup(canon);
			if (canon == NULL)
				return -ENOMEM;
			free(c->key);
			c->key = (char *)canon;
			segs[depth] = c->key;
			index_drop(map);
		}
		if (c->kind == CFG_MAP)
			ret = canonicalize_map(c, segs, depth + 1);
	}
	return ret;
}

static int canonicalize_tree(struct config *cfg)
{
	const char *segs[MAX_DEPTH];

	return canonicalize_map(cfg->root, segs, 0);
}

/* ------------------------------------------------------ schema checks --- */

struct checker {
	struct config *cfg;
	const char *plugin_type; /* dmf.worker.type when not built in */
	char *errors;
	int ret;
};

static void check_error(struct checker *ck, char *msg)
{
	if (add_line(&ck->errors, msg) < 0 && ck->ret == 0)
		ck->ret = -ENOMEM;
	else if (ck->ret == 0)
		ck->ret = -EINVAL;
	free(msg);
}

static void check_warn(struct checker *ck, char *msg)
{
	if (add_warning(ck->cfg, msg) < 0)
		ck->ret = -ENOMEM;
}

static void warn_unknown(struct checker *ck, const struct cfg_node *node,
			 const char *suggestion)
{
	char origin[512], path[512];

	if (node->key_line != 0)
		snprintf(origin, sizeof(origin), "%s:%u:%u", node->file,
			 node->key_line, node->key_column);
	else
		cfg_origin(node, origin, sizeof(origin));
	cfg_path(node, path, sizeof(path));
	if (suggestion != NULL)
		check_warn(ck, xasprintf("%s: unknown key '%s' (did you mean "
					 "'%s'?)",
					 origin, path, suggestion));
	else
		check_warn(ck, xasprintf("%s: unknown key '%s'", origin, path));
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t len = strlen(v);

	for (const char *p = choices; *p != '\0';) {
		const char *bar = strchr(p, '|');
		size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);

		if (n == len && strncasecmp(p, v, n) == 0)
			return true;
		p += n + (bar != NULL);
	}
	return false;
}

static void check_scalar_items(struct checker *ck, const struct cfg_node *node,
			       bool ints)
{
	long long v;

	if (node->kind == CFG_NULL)
		return;
	if (node->kind == CFG_MAP) {
		check_error(ck, type_message(node, ints ? "a list of integers" :
							  "a list of strings"));
		return;
	}
	if (node->kind == CFG_SCALAR) {
		char *copy, *save = NULL, *tok;

		if (!ints)
			return;
		copy = strdup(node->value);
		if (copy == NULL) {
			ck->ret = -ENOMEM;
			return;
		}
		for (char *p = copy; (tok = strtok_r(p, ", ", &save)) != NULL;
		     p = NULL) {
			if (parse_ll(tok, &v) < 0) {
				check_error(ck,
					    type_message(node,
							 "a list of integers"));
				break;
			}
		}
		free(copy);
		return;
	}
	for (size_t i = 0; i < node->n_children; i++) {
		const struct cfg_node *c = node->children[i];

		if (c->kind != CFG_SCALAR)
			check_error(ck, type_message(c, ints ? "an integer" :
							       "a string"));
		else if (ints && parse_ll(c->value, &v) < 0)
			check_error(ck, type_message(c, "an integer"));
	}
}

static const char *const command_keys[] = { "name", "options", "flags",
					    "arguments", "sub-command" };

static void check_command(struct checker *ck, const struct cfg_node *node,
			  bool sub);

static void check_scalar_or_list(struct checker *ck,
				 const struct cfg_node *node)
{
	if (node->kind == CFG_MAP)
		check_error(ck, type_message(node, "a string or a list of "
						   "strings"));
	else if (node->kind == CFG_LIST)
		check_scalar_items(ck, node, false);
}

static void check_options(struct checker *ck, const struct cfg_node *node)
{
	if (node->kind == CFG_NULL)
		return;
	if (node->kind != CFG_LIST) {
		check_error(ck, type_message(node, "a list of {name, value}"));
		return;
	}
	for (size_t i = 0; i < node->n_children; i++) {
		const struct cfg_node *o = node->children[i];

		if (o->kind != CFG_MAP) {
			check_error(ck, type_message(o, "a map {name, value}"));
			continue;
		}
		for (size_t j = 0; j < o->n_children; j++) {
			const struct cfg_node *f = o->children[j];

			if (strcmp(f->key, "name") != 0 &&
			    strcmp(f->key, "value") != 0)
				warn_unknown(ck, f,
					     config_schema_distance(
						     f->key, "value") <= 2 ?
						     "value" :
						     NULL);
			else if (f->kind == CFG_MAP || f->kind == CFG_LIST)
				check_error(ck, type_message(f, "a string"));
		}
	}
}

static void check_command(struct checker *ck, const struct cfg_node *node,
			  bool sub)
{
	if (node->kind == CFG_NULL)
		return;
	if (node->kind != CFG_MAP) {
		check_error(ck, type_message(node, "a command definition (a "
						   "map with name, options, "
						   "flags, arguments, "
						   "sub-command)"));
		return;
	}
	for (size_t i = 0; i < node->n_children; i++) {
		const struct cfg_node *c = node->children[i];
		const char *best = NULL;
		size_t bd = 3;

		if (strcmp(c->key, "name") == 0) {
			if (c->kind == CFG_MAP || c->kind == CFG_LIST)
				check_error(ck, type_message(c, "a string"));
		} else if (strcmp(c->key, "options") == 0) {
			check_options(ck, c);
		} else if (strcmp(c->key, "flags") == 0 ||
			   strcmp(c->key, "arguments") == 0) {
			check_scalar_or_list(ck, c);
		} else if (strcmp(c->key, "sub-command") == 0 && !sub) {
			check_command(ck, c, true);
		} else {
			for (size_t k = 0; k < 5; k++) {
				size_t d = config_schema_distance(
					c->key, command_keys[k]);

				if (d < bd) {
					bd = d;
					best = command_keys[k];
				}
			}
			warn_unknown(ck, c, best);
		}
	}
}

static void check_value(struct checker *ck, const struct cfg_schema_entry *e,
			const struct cfg_node *node)
{
	long long v;
	bool b;

	if (node->kind == CFG_NULL || e->type == CFG_T_ANY)
		return;
	switch (e->type) {
	case CFG_T_STRING:
		if (node->kind != CFG_SCALAR) {
			check_error(ck, type_message(node, "a string"));
		} else if (e->choices != NULL &&
			   !choice_ok(e->choices, node->value)) {
			char want[256];

			snprintf(want, sizeof(want), "one of %s", e->choices);
			check_error(ck, type_message(node, want));
		}
		break;
	case CFG_T_INT:
		if (node->kind != CFG_SCALAR || parse_ll(node->value, &v) < 0)
			check_error(ck, type_message(node, "an integer"));
		break;
	case CFG_T_BOOL:
		if (node->kind != CFG_SCALAR ||
		    cfg_parse_bool(node->value, &b) < 0)
			check_error(ck,
				    type_message(node, "a boolean (true/false/"
						       "yes/no/on/off)"));
		break;
	case CFG_T_DURATION:
		if (node->kind != CFG_SCALAR ||
		    cfg_parse_duration_ms(node->value, &v) < 0)
			check_error(ck, type_message(node,
						     "a duration (e.g. 250ms, "
						     "5s, 1m, 2h, 1d, PT1M30S "
						     "or milliseconds)"));
		break;
	case CFG_T_STRV:
		check_scalar_items(ck, node, false);
		break;
	case CFG_T_INT_LIST:
		check_scalar_items(ck, node, true);
		break;
	case CFG_T_MAP:
		if (node->kind != CFG_MAP)
			check_error(ck, type_message(node, "a map"));
		break;
	case CFG_T_LIST:
		if (node->kind != CFG_LIST)
			check_error(ck, type_message(node, "a list"));
		break;
	case CFG_T_COMMAND:
		check_command(ck, node, false);
		break;
	default:
		break;
	}
}

static void check_map(struct checker *ck, const struct cfg_node *map,
		      const char **segs, size_t depth)
{
	if (depth >= MAX_DEPTH)
		return;
	for (size_t i = 0; i < map->n_children; i++) {
		const struct cfg_node *c = map->children[i];
		struct cfg_schema_match m;
		char hint[512];

		segs[depth] = c->key;
		/* a custom plugin's own subtree, dmf.<type> */
		if (depth == 1 && ck->plugin_type != NULL &&
		    strcmp(segs[0], "dmf") == 0 &&
		    strcmp(c->key, ck->plugin_type) == 0)
			continue;
		switch (config_schema_match(segs, depth + 1, &m)) {
		case CFG_MATCH_NONE:
			warn_unknown(ck, c,
				     config_schema_suggest(segs, depth + 1,
							   hint, sizeof(hint)) ?
					     hint :
					     NULL);
			break;
		case CFG_MATCH_INNER:
			if (c->kind == CFG_MAP)
				check_map(ck, c, segs, depth + 1);
			else if (c->kind != CFG_NULL)
				check_error(ck, type_message(c, "a map"));
			break;
		case CFG_MATCH_KEY:
			check_value(ck, m.entry, c);
			if (m.entry->type == CFG_T_MAP && c->kind == CFG_MAP)
				check_map(ck, c, segs, depth + 1);
			break;
		case CFG_MATCH_INSIDE:
			break;
		}
	}
}

static int check_schema(struct config *cfg, char **error_r)
{
	struct checker ck = { .cfg = cfg };
	const char *segs[MAX_DEPTH];
	const struct cfg_node *t = cfg_get(cfg->root, "dmf.worker.type");

	if (t != NULL && t->kind == CFG_SCALAR &&
	    strcmp(t->value, "doveadm") != 0 &&
	    strcmp(t->value, "command") != 0 &&
	    strcmp(t->value, "simulator") != 0 &&
	    strcmp(t->value, "worker") != 0)
		ck.plugin_type = t->value;
	check_map(&ck, cfg->root, segs, 0);
	if (ck.ret < 0) {
		*error_r =
			ck.errors != NULL ? ck.errors : strdup("out of memory");
		return ck.ret;
	}
	free(ck.errors);
	return 0;
}

/* ---------------------------------------------------------- load/free --- */

static struct config *config_new(const char *path, const char *name)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	cfg->path = xstrdup(path);
	cfg->name = strdup(name);
	cfg->root = node_new(CFG_MAP, NULL, cfg->name, 1, 1);
	if ((path != NULL && cfg->path == NULL) || cfg->name == NULL ||
	    cfg->root == NULL)
		config_free(&cfg);
	return cfg;
}

void config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;

	if (cfg == NULL)
		return;
	node_free(cfg->root);
	for (size_t i = 0; i < cfg->n_warnings; i++)
		free(cfg->warnings[i]);
	free(cfg->warnings);
	free(cfg->path);
	free(cfg->name);
	free(cfg);
	*cfgp = NULL;
}

static int load_common(struct config *cfg, struct loader *ld, char *const *envp,
		       struct config **cfg_r, char **error_r)
{
	int ret = load_stream(ld);

	loader_clear_anchors(ld);
	yaml_parser_delete(&ld->parser);
	if (ret < 0) {
		*error_r =
			ld->error != NULL ? ld->error : strdup("out of memory");
		config_free(&cfg);
		return ret;
	}
	if ((ret = canonicalize_tree(cfg)) < 0 ||
	    (ret = apply_environment(cfg, envp)) < 0 ||
	    (ret = canonicalize_tree(cfg)) < 0) {
		*error_r = strdup("out of memory");
		config_free(&cfg);
		return ret;
	}
	if ((ret = check_schema(cfg, error_r)) < 0) {
		config_free(&cfg);
		return ret;
	}
	*cfg_r = cfg;
	return 0;
}

struct file_input {
	FILE *f;
	size_t total;
	bool too_big;
};

/* libyaml's read handler: the file, but no more than CONFIG_MAX_BYTES. */
static int read_limited(void *data, unsigned char *buf, size_t size,
			size_t *size_read)
{
	struct file_input *in = data;
	size_t n = fread(buf, 1, size, in->f);

	*size_read = n;
	in->total += n;
	if (in->total > CONFIG_MAX_BYTES) {
		in->too_big = true;
		return 0;
	}
	return ferror(in->f) ? 0 : 1;
}

static char *too_big_message(const char *name)
{
	return xasprintf("%s: larger than %u bytes (the limit of a "
			 "configuration file)",
			 name, CONFIG_MAX_BYTES);
}

int config_load(const char *path, char *const *envp, struct config **cfg_r,
		char **error_r)
{
	struct file_input in = { 0 };
	struct loader ld = { 0 };
	struct config *cfg;
	FILE *f;
	int err;

	f = fopen(path, "re");
	if (f == NULL) {
		err = errno;
		*error_r = xasprintf("%s: %s", path, strerror(err));
		return -err;
	}
	cfg = config_new(path, path);
	if (cfg == NULL || !yaml_parser_initialize(&ld.parser)) {
		config_free(&cfg);
		fclose(f);
		*error_r = strdup("out of memory");
		return -ENOMEM;
	}
	ld.cfg = cfg;
	ld.file = cfg->name;
	in.f = f;
	yaml_parser_set_input(&ld.parser, read_limited, &in);
	err = load_common(cfg, &ld, envp, cfg_r, error_r);
	fclose(f);
	if (err < 0 && in.too_big) {
		free(*error_r);
		*error_r = too_big_message(path);
		err = -E2BIG;
	}
	return err;
}

int config_load_string(const char *text, const char *name, char *const *envp,
		       struct config **cfg_r, char **error_r)
{
	struct loader ld = { 0 };
	struct config *cfg;

	if (strlen(text) > CONFIG_MAX_BYTES) {
		*error_r = too_big_message(name != NULL ? name : "<string>");
		return -E2BIG;
	}
	cfg = config_new(NULL, name != NULL ? name : "<string>");
	if (cfg == NULL || !yaml_parser_initialize(&ld.parser)) {
		config_free(&cfg);
		*error_r = strdup("out of memory");
		return -ENOMEM;
	}
	ld.cfg = cfg;
	ld.file = cfg->name;
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text,
				     strlen(text));
	return load_common(cfg, &ld, envp, cfg_r, error_r);
}

int config_check_strict(const struct config *cfg, char **error_r)
{
	char *msg = NULL;

	if (cfg->n_warnings == 0)
		return 0;
	for (size_t i = 0; i < cfg->n_warnings; i++) {
		if (add_line(&msg, cfg->warnings[i]) < 0) {
			free(msg);
			*error_r = strdup("out of memory");
			return -ENOMEM;
		}
	}
	*error_r = msg;
	return -EINVAL;
}

/* ------------------------------------------------------------ getters --- */

const struct cfg_node *cfg_child(const struct cfg_node *node, const char *key)
{
	ssize_t at;

	if (node == NULL || node->kind != CFG_MAP || key == NULL)
		return NULL;
	at = child_index(node, key);
	return at < 0 ? NULL : node->children[at];
}

const struct cfg_node *cfg_get(const struct cfg_node *base, const char *path)
{
	const char *rest = path;

	if (base == NULL || path == NULL)
		return NULL;
	while (*rest != '\0') {
		const struct cfg_node *next = NULL;
		size_t best = 0;

		char key[512];
		size_t len = strlen(rest);

		if (base->kind != CFG_MAP)
			return NULL;
		/* the longest key that is a whole prefix: keys may hold dots */
		if (len >= sizeof(key))
			return NULL;
		memcpy(key, rest, len + 1);
		for (;;) {
			ssize_t at = child_index(base, key);

			if (at >= 0) {
				next = base->children[at];
				best = len;
				break;
			}
			while (len > 0 && key[len - 1] != '.')
				len--;
			if (len <= 1)
				break;
			key[--len] = '\0';
		}
		if (next == NULL)
			return NULL;
		base = next;
		rest += best;
		if (*rest == '.')
			rest++;
	}
	return base;
}

static _Thread_local char getter_error[1024];

static const char *getter_fail(const struct cfg_node *node,
			       const char *expected)
{
	char *msg = type_message(node, expected);

	snprintf(getter_error, sizeof(getter_error), "%s",
		 msg != NULL ? msg : "out of memory");
	free(msg);
	return getter_error;
}

int cfg_get_string(const struct cfg_node *base, const char *path,
		   const char *def, const char **value_r, const char **error_r)
{
	const struct cfg_node *n = cfg_get(base, path);

	if (n == NULL || n->kind == CFG_NULL) {
		*value_r = def;
		return 0;
	}
	if (n->kind != CFG_SCALAR) {
		*error_r = getter_fail(n, "a string");
		return -EINVAL;
	}
	*value_r = n->value;
	return 0;
}

int cfg_get_int(const struct cfg_node *base, const char *path, long long def,
		long long *value_r, const char **error_r)
{
	const struct cfg_node *n = cfg_get(base, path);
	long long v;

	if (n == NULL || n->kind == CFG_NULL) {
		*value_r = def;
		return 0;
	}
	if (n->kind != CFG_SCALAR || parse_ll(n->value, &v) < 0) {
		*error_r = getter_fail(n, "an integer");
		return -EINVAL;
	}
	*value_r = v;
	return 0;
}

int cfg_parse_bool(const char *text, bool *value_r)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*value_r = true;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*value_r = false;
			return 0;
		}
	}
	return -EINVAL;
}

int cfg_get_bool(const struct cfg_node *base, const char *path, bool def,
		 bool *value_r, const char **error_r)
{
	const struct cfg_node *n = cfg_get(base, path);
	bool v;

	if (n == NULL || n->kind == CFG_NULL) {
		*value_r = def;
		return 0;
	}
	if (n->kind != CFG_SCALAR || cfg_parse_bool(n->value, &v) < 0) {
		*error_r = getter_fail(n, "a boolean (true/false/yes/no/on/"
					  "off)");
		return -EINVAL;
	}
	*value_r = v;
	return 0;
}

/*
 * Read digits and an optional fraction from *p: the value times `mult`
 * (the fraction's part truncated) into *ms_r.  False when there is no
 * digit or the value overflows.
 */
static bool read_number(const char **p, long long mult, bool frac_ok,
			long long *ms_r)
{
	const char *s = *p;
	long long ip = 0, frac = 0, scale = 1;
	bool digits = false;

	while (isdigit((unsigned char)*s)) {
		if (ip > (LLONG_MAX - 9) / 10)
			return false;
		ip = ip * 10 + (*s++ - '0');
		digits = true;
	}
	if (*s == '.' && frac_ok) {
		s++;
		while (isdigit((unsigned char)*s)) {
			if (scale < 1000000000LL) {
				frac = frac * 10 + (*s - '0');
				scale *= 10;
			}
			s++;
			digits = true;
		}
	}
	if (!digits || ip > LLONG_MAX / mult)
		return false;
	*ms_r = ip * mult + frac * mult / scale;
	*p = s;
	return true;
}

static int parse_iso_duration(const char *p, long long *ms_r)
{
	static const struct {
		char unit;
		long long mult;
		bool time;
	} parts[] = { { 'D', 86400000LL, false },
		      { 'H', 3600000LL, true },
		      { 'M', 60000LL, true },
		      { 'S', 1000LL, true } };
	long long total = 0, v;
	size_t next = 0;
	bool in_time = false, any = false, any_time = false;

	while (*p != '\0') {
		const char *q = p;
		char unit;
		size_t i;

		if ((*p == 'T' || *p == 't') && !in_time) {
			in_time = true;
			p++;
			continue;
		}
		/* find the unit after the number */
		while (isdigit((unsigned char)*q) || *q == '.')
			q++;
		unit = (char)toupper((unsigned char)*q);
		for (i = next; i < 4; i++) {
			if (parts[i].unit == unit && parts[i].time == in_time)
				break;
		}
		if (i == 4 || !read_number(&p, parts[i].mult, true, &v) ||
		    p != q || total > LLONG_MAX - v)
			return -EINVAL;
		total += v;
		p++;
		next = i + 1;
		any = true;
		any_time = any_time || in_time;
	}
	if (!any || (in_time && !any_time))
		return -EINVAL;
	*ms_r = total;
	return 0;
}

int cfg_parse_duration_ms(const char *text, long long *ms_r)
{
	static const struct {
		const char *unit;
		long long mult;
	} units[] = { { "", 1 },      { "ms", 1 },	{ "s", 1000 },
		      { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 } };
	const char *p = text;
	long long v;

	if (text == NULL || *text == '\0')
		return -EINVAL;
	if (*p == 'P' || *p == 'p')
		return parse_iso_duration(p + 1, ms_r);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		const char *q = text, *end;

		/* the unit is what follows the number */
		while (isdigit((unsigned char)*q) || *q == '.')
			q++;
		if (strcasecmp(q, units[i].unit) != 0)
			continue;
		end = text;
		/* plain milliseconds have no fraction */
		if (!read_number(&end, units[i].mult, i > 1, &v) || end != q)
			return -EINVAL;
		*ms_r = v;
		return 0;
	}
	return -EINVAL;
}

int cfg_get_duration_ms(const struct cfg_node *base, const char *path,
			long long def, long long *ms_r, const char **error_r)
{
	const struct cfg_node *n = cfg_get(base, path);
	long long v;

	if (n == NULL || n->kind == CFG_NULL) {
		*ms_r = def;
		return 0;
	}
	if (n->kind != CFG_SCALAR || cfg_parse_duration_ms(n->value, &v) < 0) {
		*error_r = getter_fail(n, "a duration (e.g. 250ms, 5s, 1m, "
					  "2h, 1d, PT1M30S or milliseconds)");
		return -EINVAL;
	}
	*ms_r = v;
	return 0;
}

static int strv_push(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (nv == NULL)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strndup(s, len);
	if (nv[*n] == NULL)
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

int cfg_get_strv(const struct cfg_node *base, const char *path, char ***items_r,
		 const char **error_r)
{
	const struct cfg_node *n = cfg_get(base, path);
	char **v = calloc(1, sizeof(*v));
	size_t count = 0;
	int ret = 0;

	if (v == NULL)
		return -ENOMEM;
	if (n == NULL || n->kind == CFG_NULL) {
		*items_r = v;
		return 0;
	}
	if (n->kind == CFG_MAP) {
		*error_r = getter_fail(n, "a list of strings");
		ret = -EINVAL;
	} else if (n->kind == CFG_SCALAR) {
		for (const char *p = n->value; *p != '\0' && ret == 0;) {
			const char *comma = strchr(p, ',');
			const char *end = comma != NULL ? comma : p + strlen(p);
			const char *s = p;

			while (s < end && isspace((unsigned char)*s))
				s++;
			while (end > s && isspace((unsigned char)end[-1]))
				end--;
			if (end > s)
				ret = strv_push(&v, &count, s,
						(size_t)(end - s));
			p = comma != NULL ? comma + 1 : p + strlen(p);
		}
	} else {
		for (size_t i = 0; i < n->n_children && ret == 0; i++) {
			const struct cfg_node *c = n->children[i];

			if (c->kind == CFG_NULL)
				continue;
			if (c->kind != CFG_SCALAR) {
				*error_r = getter_fail(c, "a string");
				ret = -EINVAL;
			} else {
				ret = strv_push(&v, &count, c->value,
						strlen(c->value));
			}
		}
	}
	if (ret < 0) {
		cfg_strv_free(&v);
		return ret;
	}
	*items_r = v;
	return 0;
}

void cfg_strv_free(char ***items)
{
	if (*items == NULL)
		return;
	for (char **p = *items; *p != NULL; p++)
		free(*p);
	free(*items);
	*items = NULL;
}

/* ------------------------------------------------------------- output --- */

static bool would_read_as_null(const char *v)
{
	return v[0] == '\0' || strcmp(v, "~") == 0 ||
	       strcasecmp(v, "null") == 0;
}

static int emit_scalar(yaml_emitter_t *em, const char *v)
{
	yaml_event_t ev;
	int plain = would_read_as_null(v) ? 0 : 1;

	if (!yaml_scalar_event_initialize(
		    &ev, NULL, NULL, (yaml_char_t *)(uintptr_t)v,
		    (int)strlen(v), plain, 1, YAML_ANY_SCALAR_STYLE))
		return -ENOMEM;
	return yaml_emitter_emit(em, &ev) ? 0 : -EIO;
}

static int emit_node(yaml_emitter_t *em, const struct cfg_node *n)
{
	yaml_event_t ev;
	int ret = 0;

	if (n->kind != CFG_NULL && n->parent != NULL && cfg_is_secret(n))
		return emit_scalar(em, "<hidden>");
	switch (n->kind) {
	case CFG_NULL:
		if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
						  (yaml_char_t *)"", 0, 1, 1,
						  YAML_PLAIN_SCALAR_STYLE))
			return -ENOMEM;
		return yaml_emitter_emit(em, &ev) ? 0 : -EIO;
	case CFG_SCALAR: {
		bool oom;
		char *clean = secret_redact_value(n->value, &oom);

		if (oom)
			return -ENOMEM;
		ret = emit_scalar(em, clean != NULL ? clean : n->value);
		free(clean);
		return ret;
	}
	case CFG_LIST:
		if (!yaml_sequence_start_event_initialize(
			    &ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return -EIO;
		for (size_t i = 0; i < n->n_children && ret == 0; i++)
			ret = emit_node(em, n->children[i]);
		if (ret == 0 && (!yaml_sequence_end_event_initialize(&ev) ||
				 !yaml_emitter_emit(em, &ev)))
			ret = -EIO;
		return ret;
	case CFG_MAP:
		if (!yaml_mapping_start_event_initialize(
			    &ev, NULL, NULL, 1,
			    n->n_children == 0 ? YAML_FLOW_MAPPING_STYLE :
						 YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return -EIO;
		for (size_t i = 0; i < n->n_children && ret == 0; i++) {
			ret = emit_scalar(em, n->children[i]->key);
			if (ret == 0)
				ret = emit_node(em, n->children[i]);
		}
		if (ret == 0 && (!yaml_mapping_end_event_initialize(&ev) ||
				 !yaml_emitter_emit(em, &ev)))
			ret = -EIO;
		return ret;
	}
	return -EINVAL;
}

int config_print(const struct config *cfg, FILE *out)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int ret = -EIO;

	if (!yaml_emitter_initialize(&em))
		return -ENOMEM;
	yaml_emitter_set_output_file(&em, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	if (yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	    yaml_emitter_emit(&em, &ev)) {
		ret = emit_node(&em, cfg->root);
		if (ret == 0 &&
		    (!yaml_document_end_event_initialize(&ev, 1) ||
		     !yaml_emitter_emit(&em, &ev) ||
		     !yaml_stream_end_event_initialize(&ev) ||
		     !yaml_emitter_emit(&em, &ev) || !yaml_emitter_flush(&em)))
			ret = -EIO;
	}
	yaml_emitter_delete(&em);
	return ret;
}
