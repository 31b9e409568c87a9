/*
 * doveadm_conf.c - per-source doveadm configuration, retry policy and the
 * mailbox-status count parser (see doveadm_conf.h).
 */
#include "dmf-build.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "doveadm_conf.h"

static const char *const step_names[DOVEADM_N_STEPS] = {
	[DOVEADM_STEP_DIRECTOR_KICK_USER] = "director-kick-user",
	[DOVEADM_STEP_DIRECTOR_FLUSH_METACACHE] = "director-flush-metacache",
	[DOVEADM_STEP_DIRECTOR_USE_SOURCEHOST] = "director-use-sourcehost",
	[DOVEADM_STEP_DIRECTOR_MOVE_USER] = "director-move-user",
	[DOVEADM_STEP_PRE_MIGRATION_COMMAND] = "pre-migration-command",
	[DOVEADM_STEP_POST_MIGRATION_COMMAND] = "post-migration-command",
	[DOVEADM_STEP_COPY_IMAPC_INBOX] = "copy-imapc-inbox",
	[DOVEADM_STEP_REMOVE_IMAPC_INBOX] = "remove-imapc-inbox",
	[DOVEADM_STEP_COUNT_LOCAL_PRE] = "count-local-pre",
	[DOVEADM_STEP_COUNT_LOCAL_POST] = "count-local-post",
	[DOVEADM_STEP_COUNT_REMOTE] = "count-remote",
	[DOVEADM_STEP_FLUSH_METACACHE] = "flush-metacache",
	[DOVEADM_STEP_CLEAN_METACACHE] = "clean-metacache",
};

const char *doveadm_step_name(enum doveadm_step step)
{
	return (unsigned)step < DOVEADM_N_STEPS ? step_names[step] : NULL;
}

const char *doveadm_phase_name(enum doveadm_phase phase)
{
	return phase == DOVEADM_PHASE_CUTOVER ? "cutover" : "sync";
}

int doveadm_phase_parse(const char *text, enum doveadm_phase *phase_r)
{
	static const char *const sync_names[] = { "sync", "pre", "pre-sync",
						  "presync", "pre_sync" };
	if (text == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(sync_names) / sizeof(sync_names[0]); i++) {
		if (strcasecmp(text, sync_names[i]) == 0) {
			*phase_r = DOVEADM_PHASE_SYNC;
			return 0;
		}
	}
	if (strcasecmp(text, "cutover") == 0) {
		*phase_r = DOVEADM_PHASE_CUTOVER;
		return 0;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------- lookup --- */

const struct cfg_node *doveadm_conf_block(const struct cfg_node *doveadm,
					  const char *source,
					  const char **name_r)
{
	static const char *const parents[] = { "source", "sources" };
	const char *names[2] = { source, "default" };

	if (doveadm == NULL)
		return NULL;
	for (size_t n = 0; n < 2; n++) {
		if (names[n] == NULL)
			continue;
		for (size_t p = 0; p < 2; p++) {
			const struct cfg_node *parent =
				cfg_child(doveadm, parents[p]);
			const struct cfg_node *b =
				parent != NULL ? cfg_child(parent, names[n])
					       : NULL;
			if (b != NULL && b->kind != CFG_NULL) {
				if (name_r != NULL)
					*name_r = b->key;
				return b;
			}
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ parsing --- */

/* "FILE:LINE:COL: key 'a.b.c': what" for a node, allocated. */
static int node_error(const struct cfg_node *n, const char *what,
		      char **error_r)
{
	char origin[256], path[512];

	if (asprintf(error_r, "%s: key '%s': %s",
		     cfg_origin(n, origin, sizeof(origin)),
		     cfg_path(n, path, sizeof(path)), what) < 0)
		*error_r = NULL;
	return -EINVAL;
}

static int getter_error(const char *e, char **error_r)
{
	*error_r = strdup(e != NULL ? e : "invalid value");
	return -EINVAL;
}

static int dup_str(const char *s, char **out)
{
	free(*out);
	*out = NULL;
	if (s == NULL)
		return 0;
	*out = strdup(s);
	return *out == NULL ? -ENOMEM : 0;
}

static int get_bool(const struct cfg_node *b, const char *path, bool *v,
		    char **error_r)
{
	const char *e = NULL;
	bool r;
	if (cfg_get_bool(b, path, *v, &r, &e) < 0)
		return getter_error(e, error_r);
	*v = r;
	return 0;
}

/* A bool that may be spelled `alias` (legacy) when `path` is absent. */
static int get_bool_alias(const struct cfg_node *b, const char *path,
			  const char *alias, bool *v, char **error_r)
{
	const struct cfg_node *n = cfg_get(b, path);
	if ((n == NULL || n->kind == CFG_NULL) && alias != NULL)
		return get_bool(b, alias, v, error_r);
	return get_bool(b, path, v, error_r);
}

static int get_str(const struct cfg_node *b, const char *path, char **v,
		   char **error_r)
{
	const char *e = NULL, *s;
	if (cfg_get_string(b, path, *v, &s, &e) < 0)
		return getter_error(e, error_r);
	if (s == *v)
		return 0;
	if (dup_str(s, v) < 0)
		return -ENOMEM;
	/* an empty value means "not set" */
	if (*v != NULL && **v == '\0') {
		free(*v);
		*v = NULL;
	}
	return 0;
}

static int get_int_range(const struct cfg_node *b, const char *path, int *v,
			 long long min, long long max, char **error_r)
{
	const char *e = NULL;
	long long r;
	if (cfg_get_int(b, path, *v, &r, &e) < 0)
		return getter_error(e, error_r);
	if (r < min || r > max) {
		char what[96];
		snprintf(what, sizeof(what), "must be between %lld and %lld",
			 min, max);
		return node_error(cfg_get(b, path), what, error_r);
	}
	*v = (int)r;
	return 0;
}

static int get_ms(const struct cfg_node *b, const char *path, long long *v,
		  char **error_r)
{
	const char *e = NULL;
	long long r;
	if (cfg_get_duration_ms(b, path, *v, &r, &e) < 0)
		return getter_error(e, error_r);
	if (r < 0)
		return node_error(cfg_get(b, path), "must not be negative",
				  error_r);
	*v = r;
	return 0;
}

static int parse_long(const char *s, long long min, long long max,
		      long long *v)
{
	char *end;
	long long r;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	r = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || r < min || r > max)
		return -EINVAL;
	*v = r;
	return 0;
}

/* retry.code-max / retry.code-sleep: a map of exit code -> number. */
static int get_code_map(const struct cfg_node *b, const char *path,
			bool duration, struct doveadm_code_map **map,
			size_t *n_map, char **error_r)
{
	const struct cfg_node *n = cfg_get(b, path);
	struct doveadm_code_map *m;

	if (n == NULL || n->kind == CFG_NULL)
		return 0; /* keep the built-in map */
	if (n->kind != CFG_MAP)
		return node_error(n, "must be a map of exit code: value",
				  error_r);
	m = calloc(n->n_children + 1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_children; i++) {
		const struct cfg_node *c = n->children[i];
		long long code, v;
		int r;

		if (parse_long(c->key, 0, 255, &code) < 0) {
			free(m);
			return node_error(c, "the key must be an exit code "
					     "(0-255)", error_r);
		}
		if (c->kind != CFG_SCALAR) {
			free(m);
			return node_error(c, "must be a number", error_r);
		}
		if (duration)
			r = cfg_parse_duration_ms(c->value, &v);
		else
			r = parse_long(c->value, 0, INT_MAX, &v);
		if (r < 0 || v < 0) {
			free(m);
			return node_error(c, duration ?
					  "must be a duration (ms, 5s, 1m)" :
					  "must be a non-negative integer",
					  error_r);
		}
		m[i].code = (int)code;
		m[i].value = v;
	}
	free(*map);
	*map = m;
	*n_map = n->n_children;
	return 0;
}

static int get_accept_codes(const struct cfg_node *b, const char *path,
			    int **codes, size_t *n_codes, char **error_r)
{
	const struct cfg_node *n = cfg_get(b, path);
	const char *e = NULL;
	char **items = NULL;
	size_t k = 0;
	int *c;

	if (n == NULL || n->kind == CFG_NULL)
		return 0;
	if (cfg_get_strv(b, path, &items, &e) < 0)
		return getter_error(e, error_r);
	while (items[k] != NULL)
		k++;
	c = calloc(k + 1, sizeof(*c));
	if (c == NULL) {
		cfg_strv_free(&items);
		return -ENOMEM;
	}
	for (size_t i = 0; i < k; i++) {
		long long v;
		if (parse_long(items[i], -1, 255, &v) < 0) {
			cfg_strv_free(&items);
			free(c);
			return node_error(n, "must list exit codes (-1 for all)",
					  error_r);
		}
		c[i] = (int)v;
	}
	cfg_strv_free(&items);
	free(*codes);
	*codes = c;
	*n_codes = k;
	return 0;
}

static int parse_protocol(const struct cfg_node *b,
			  enum doveadm_remote_protocol *p, char **error_r)
{
	const char *e = NULL, *s;
	if (cfg_get_string(b, "count.remote-protocol", NULL, &s, &e) < 0)
		return getter_error(e, error_r);
	if (s == NULL || *s == '\0')
		return 0;
	if (strcasecmp(s, "imapc") == 0)
		*p = DOVEADM_REMOTE_IMAPC;
	else if (strcasecmp(s, "doveadm") == 0)
		*p = DOVEADM_REMOTE_DOVEADM;
	else if (strcasecmp(s, "http") == 0)
		*p = DOVEADM_REMOTE_HTTP;
	else
		return node_error(cfg_get(b, "count.remote-protocol"),
				  "must be imapc, doveadm or http", error_r);
	return 0;
}

static int parse_http_type(const struct cfg_node *b,
			   enum doveadm_http_type *t, char **error_r)
{
	const char *e = NULL, *s;
	if (cfg_get_string(b, "http.type", NULL, &s, &e) < 0)
		return getter_error(e, error_r);
	if (s == NULL || *s == '\0')
		return 0;
	if (strcasecmp(s, "director") == 0)
		*t = DOVEADM_HTTP_DIRECTOR;
	else if (strcasecmp(s, "cluster") == 0)
		*t = DOVEADM_HTTP_CLUSTER;
	else
		return node_error(cfg_get(b, "http.type"),
				  "must be director or cluster", error_r);
	return 0;
}

static int parse_inject(const struct cfg_node *b,
			struct doveadm_source_conf *c, char **error_r)
{
	const struct cfg_node *n = cfg_get(b, "command.inject");

	if (n == NULL || n->kind == CFG_NULL)
		return 0;
	if (n->kind != CFG_MAP)
		return node_error(n, "must be a map of name: value", error_r);
	c->inject_names = calloc(n->n_children + 1, sizeof(char *));
	c->inject_values = calloc(n->n_children + 1, sizeof(char *));
	if (c->inject_names == NULL || c->inject_values == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_children; i++) {
		const struct cfg_node *v = n->children[i];
		if (v->kind != CFG_SCALAR && v->kind != CFG_NULL)
			return node_error(v, "must be a plain value", error_r);
		c->inject_names[c->n_inject] = strdup(v->key);
		c->inject_values[c->n_inject] =
			strdup(v->value != NULL ? v->value : "");
		c->n_inject++;
		if (c->inject_names[c->n_inject - 1] == NULL ||
		    c->inject_values[c->n_inject - 1] == NULL)
			return -ENOMEM;
	}
	return 0;
}

static const struct cfg_node *command_node(const struct cfg_node *b,
					   const char *phase, const char *which)
{
	char path[64];
	const struct cfg_node *n;

	snprintf(path, sizeof(path), "command.%s.%s", phase, which);
	n = cfg_get(b, path);
	return n != NULL && n->kind != CFG_NULL ? n : NULL;
}

static int parse_commands(const struct cfg_node *b,
			  struct doveadm_source_conf *c, char **error_r)
{
	static const char *const phases[DOVEADM_N_PHASES] = { "sync",
							      "cutover" };
	for (int p = 0; p < DOVEADM_N_PHASES; p++) {
		struct doveadm_phase_commands *pc = &c->commands[p];
		pc->pre = command_node(b, phases[p], "pre");
		pc->sync = command_node(b, phases[p], "sync");
		pc->post = command_node(b, phases[p], "post");
		pc->failure = command_node(b, phases[p], "failure");
		const struct cfg_node *all[] = { pc->pre, pc->sync, pc->post,
						 pc->failure };
		for (size_t i = 0; i < 4; i++) {
			if (all[i] != NULL && all[i]->kind != CFG_MAP)
				return node_error(all[i],
						  "must be a command definition "
						  "(name, options, arguments, "
						  "sub-command)",
						  error_r);
		}
	}
	const struct cfg_node *rc = cfg_get(b, "count.remote-command");
	if (rc != NULL && rc->kind != CFG_NULL) {
		if (rc->kind != CFG_MAP)
			return node_error(rc, "must be a command definition",
					  error_r);
		c->count.remote_command = rc;
	}
	return 0;
}

static int parse_failure_phase(const struct cfg_node *n, bool *flags,
			       char **error_r)
{
	if (n == NULL || n->kind == CFG_NULL)
		return 0;
	if (n->kind != CFG_MAP)
		return node_error(n, "must be a map of step: true|false",
				  error_r);
	for (size_t i = 0; i < n->n_children; i++) {
		const struct cfg_node *c = n->children[i];
		int step = -1;
		for (int s = 0; s < DOVEADM_N_STEPS; s++) {
			if (strcmp(c->key, step_names[s]) == 0)
				step = s;
		}
		if (step < 0)
			return node_error(c, "unknown step (see failure-flags "
					     "in docs/doveadm.md)", error_r);
		bool v = flags[step];
		int r = get_bool(n, c->key, &v, error_r);
		if (r < 0)
			return r;
		flags[step] = v;
	}
	return 0;
}

static int set_defaults(struct doveadm_source_conf *c)
{
	static const char *const masks[] = { "INBOX", "INBOX/*", "*" };

	c->analyze_log = true;
	c->container_file = strdup("/etc/dovecot/passwd.container");
	c->director.kick.timeout_ms = 60000;
	c->count.pre = c->count.sync = c->count.post = c->count.remote = true;
	c->count.remote_protocol = DOVEADM_REMOTE_IMAPC;
	c->count.remote_http_mailbox_mask = calloc(4, sizeof(char *));
	c->retry.max = 1;
	c->retry.sleep_ms = 5000;
	c->retry.code_max = calloc(2, sizeof(*c->retry.code_max));
	c->retry.code_sleep = calloc(1, sizeof(*c->retry.code_sleep));
	c->doveadm.port = 24245;
	if (c->container_file == NULL ||
	    c->count.remote_http_mailbox_mask == NULL ||
	    c->retry.code_max == NULL || c->retry.code_sleep == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < 3; i++) {
		c->count.remote_http_mailbox_mask[i] = strdup(masks[i]);
		if (c->count.remote_http_mailbox_mask[i] == NULL)
			return -ENOMEM;
	}
	c->retry.code_max[0] = (struct doveadm_code_map){ 134, 2 };
	c->retry.code_max[1] = (struct doveadm_code_map){ 75, 4 };
	c->retry.n_code_max = 2;
	c->retry.code_sleep[0] = (struct doveadm_code_map){ 75, 15000 };
	c->retry.n_code_sleep = 1;
	return 0;
}

#define TRY(expr)                                                              \
	do {                                                                   \
		if ((r = (expr)) < 0)                                          \
			goto fail;                                             \
	} while (0)

static int parse_block(const struct cfg_node *b, struct doveadm_source_conf *c,
		       char **error_r)
{
	int r;
	bool legacy;

	if (b->kind != CFG_MAP)
		return node_error(b, "must be a map of doveadm settings",
				  error_r);
	TRY(get_bool(b, "analyze-log", &c->analyze_log, error_r));
	TRY(get_bool(b, "move-duplicates", &c->move_duplicates, error_r));
	TRY(get_bool_alias(b, "copy-imapc-inbox", "copy-imaps-inbox",
			   &c->copy_imapc_inbox, error_r));
	TRY(get_bool_alias(b, "remove-imapc-path", "remove-imaps-path",
			   &c->remove_imapc_path, error_r));
	TRY(get_bool(b, "metacache.flush.on-success",
		     &c->metacache_flush.on_success, error_r));
	TRY(get_bool(b, "metacache.flush.on-failure",
		     &c->metacache_flush.on_failure, error_r));
	TRY(get_bool(b, "metacache.clean.on-success",
		     &c->metacache_clean.on_success, error_r));
	TRY(get_bool(b, "metacache.clean.on-failure",
		     &c->metacache_clean.on_failure, error_r));
	legacy = false;
	TRY(get_bool(b, "flush-metacache", &legacy, error_r));
	if (legacy)
		c->metacache_flush.on_success = true;
	legacy = false;
	TRY(get_bool(b, "clean-metacache", &legacy, error_r));
	if (legacy)
		c->metacache_clean.on_success = true;
	TRY(get_bool(b, "fetch-container", &c->fetch_container, error_r));
	TRY(get_str(b, "container-file", &c->container_file, error_r));
	if (c->container_file == NULL &&
	    (c->container_file = strdup("/etc/dovecot/passwd.container")) == NULL)
		return -ENOMEM;

	TRY(get_bool(b, "director.enabled", &c->director.enabled, error_r));
	TRY(get_bool(b, "director.use-sourcehost", &c->director.use_sourcehost,
		     error_r));
	TRY(get_bool(b, "director.move-user", &c->director.move_user, error_r));
	TRY(get_bool(b, "director.kick.sync", &c->director.kick.sync, error_r));
	TRY(get_bool(b, "director.kick.cutover", &c->director.kick.cutover,
		     error_r));
	TRY(get_bool(b, "director.kick.wait", &c->director.kick.wait, error_r));
	TRY(get_ms(b, "director.kick.timeout", &c->director.kick.timeout_ms,
		   error_r));
	TRY(get_accept_codes(b, "director.kick.wait-accept-codes",
			     &c->director.kick.wait_accept_codes,
			     &c->director.kick.n_wait_accept_codes, error_r));
	TRY(get_bool(b, "director.flush-metacache.sync",
		     &c->director.flush_metacache.sync, error_r));
	TRY(get_bool(b, "director.flush-metacache.cutover",
		     &c->director.flush_metacache.cutover, error_r));

	TRY(get_bool(b, "count.pre", &c->count.pre, error_r));
	TRY(get_bool(b, "count.sync", &c->count.sync, error_r));
	TRY(get_bool(b, "count.post", &c->count.post, error_r));
	TRY(get_bool(b, "count.remote", &c->count.remote, error_r));
	TRY(parse_protocol(b, &c->count.remote_protocol, error_r));
	const struct cfg_node *mask = cfg_get(b, "count.remote-http.mailbox-mask");
	if (mask != NULL && mask->kind != CFG_NULL) {
		char **items = NULL;
		const char *e = NULL;
		if (cfg_get_strv(b, "count.remote-http.mailbox-mask", &items,
				 &e) < 0)
			return getter_error(e, error_r);
		if (items[0] == NULL) {
			cfg_strv_free(&items); /* empty: keep the default */
		} else {
			cfg_strv_free(&c->count.remote_http_mailbox_mask);
			c->count.remote_http_mailbox_mask = items;
		}
	}
	TRY(get_str(b, "count.remote-http.socket-path",
		    &c->count.remote_http_socket_path, error_r));

	TRY(get_int_range(b, "retry.max", &c->retry.max, 0, 1000, error_r));
	TRY(get_ms(b, "retry.sleep", &c->retry.sleep_ms, error_r));
	TRY(get_code_map(b, "retry.code-max", false, &c->retry.code_max,
			 &c->retry.n_code_max, error_r));
	TRY(get_code_map(b, "retry.code-sleep", true, &c->retry.code_sleep,
			 &c->retry.n_code_sleep, error_r));
	TRY(get_bool(b, "retry.debug-mode", &c->retry.debug_mode, error_r));

	TRY(parse_http_type(b, &c->http.type, error_r));
	TRY(get_str(b, "http.url", &c->http.url, error_r));
	TRY(get_str(b, "http.username", &c->http.username, error_r));
	TRY(get_str(b, "http.password", &c->http.password, error_r));
	TRY(get_str(b, "http.director-tag", &c->http.director_tag, error_r));
	TRY(get_bool(b, "http.use-only-tagged", &c->http.use_only_tagged,
		     error_r));
	c->http.configured = c->http.url != NULL;

	TRY(get_str(b, "doveadm.host", &c->doveadm.host, error_r));
	TRY(get_str(b, "doveadm.password", &c->doveadm.password, error_r));
	TRY(get_int_range(b, "doveadm.port", &c->doveadm.port, 1, 65535,
			  error_r));

	TRY(get_str(b, "imapc.host", &c->imapc.host, error_r));
	TRY(get_int_range(b, "imapc.port", &c->imapc.port, 0, 65535, error_r));
	TRY(get_str(b, "imapc.prefix", &c->imapc.prefix, error_r));
	TRY(get_str(b, "imapc.ssl", &c->imapc.ssl, error_r));
	if (c->imapc.ssl != NULL && strcmp(c->imapc.ssl, "no") != 0 &&
	    strcmp(c->imapc.ssl, "imaps") != 0 &&
	    strcmp(c->imapc.ssl, "starttls") != 0)
		return node_error(cfg_get(b, "imapc.ssl"),
				  "must be no, imaps or starttls", error_r);
	TRY(get_str(b, "imapc.master-user", &c->imapc.master_user, error_r));
	TRY(get_str(b, "imapc.master-password", &c->imapc.master_password,
		    error_r));
	const struct cfg_node *sp = cfg_get(b, "imapc.session-properties");
	if (sp != NULL && sp->kind != CFG_NULL)
		c->imapc.session_properties = sp;

	TRY(parse_inject(b, c, error_r));
	TRY(parse_commands(b, c, error_r));

	const struct cfg_node *ff = cfg_get(b, "failure-flags");
	if (ff != NULL && ff->kind != CFG_NULL) {
		if (ff->kind != CFG_MAP)
			return node_error(ff, "must be a map with pre, sync "
					      "and/or cutover", error_r);
		for (size_t i = 0; i < ff->n_children; i++) {
			const struct cfg_node *ph = ff->children[i];
			enum doveadm_phase p;
			if (doveadm_phase_parse(ph->key, &p) < 0)
				return node_error(ph, "unknown phase (pre, "
						      "sync or cutover)",
						  error_r);
			TRY(parse_failure_phase(ph, c->failure_flags[p],
						error_r));
		}
	}
	return 0;
fail:
	return r;
}

int doveadm_conf_parse(const struct cfg_node *block, const char *source,
		       struct doveadm_source_conf **conf_r, char **error_r)
{
	struct doveadm_source_conf *c = calloc(1, sizeof(*c));
	int r;

	*error_r = NULL;
	if (c == NULL)
		return -ENOMEM;
	r = set_defaults(c);
	if (r == 0 && source != NULL && (c->source = strdup(source)) == NULL)
		r = -ENOMEM;
	if (r == 0 && block != NULL && block->key != NULL &&
	    (c->block = strdup(block->key)) == NULL)
		r = -ENOMEM;
	if (r == 0 && block != NULL && block->kind != CFG_NULL)
		r = parse_block(block, c, error_r);
	if (r < 0) {
		if (r == -ENOMEM && *error_r == NULL)
			*error_r = strdup("out of memory");
		doveadm_conf_free(&c);
		return r;
	}
	*conf_r = c;
	return 0;
}

int doveadm_conf_load(const struct cfg_node *doveadm, const char *source,
		      struct doveadm_source_conf **conf_r, char **error_r)
{
	return doveadm_conf_parse(doveadm_conf_block(doveadm, source, NULL),
				  source, conf_r, error_r);
}

static void free_secret(char **s)
{
	if (*s != NULL) {
		OPENSSL_cleanse(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void doveadm_conf_free(struct doveadm_source_conf **cp)
{
	struct doveadm_source_conf *c = *cp;
	if (c == NULL)
		return;
	free(c->source);
	free(c->block);
	free(c->container_file);
	free(c->director.kick.wait_accept_codes);
	cfg_strv_free(&c->count.remote_http_mailbox_mask);
	free(c->count.remote_http_socket_path);
	free(c->retry.code_max);
	free(c->retry.code_sleep);
	free(c->http.url);
	free(c->http.username);
	free_secret(&c->http.password);
	free(c->http.director_tag);
	free(c->doveadm.host);
	free_secret(&c->doveadm.password);
	free(c->imapc.host);
	free(c->imapc.prefix);
	free(c->imapc.ssl);
	free(c->imapc.master_user);
	free_secret(&c->imapc.master_password);
	for (size_t i = 0; i < c->n_inject; i++) {
		free(c->inject_names[i]);
		free_secret(&c->inject_values[i]);
	}
	free(c->inject_names);
	free(c->inject_values);
	free(c);
	*cp = NULL;
}

/* ------------------------------------------------------- retry policy --- */

static const struct doveadm_code_map *code_find(const struct doveadm_code_map *m,
						size_t n, int code)
{
	for (size_t i = 0; i < n; i++) {
		if (m[i].code == code)
			return &m[i];
	}
	return NULL;
}

/* Exit codes that retrying cannot fix (sysexits): usage, unknown user,
 * permission, configuration. */
static bool code_is_fatal(int code)
{
	return code == 64 || code == 67 || code == 77 || code == 78;
}

int doveadm_retry_max_for(const struct doveadm_retry_conf *rc, int code)
{
	const struct doveadm_code_map *m =
		code_find(rc->code_max, rc->n_code_max, code);
	if (m != NULL)
		return (int)m->value;
	return code_is_fatal(code) ? 0 : rc->max;
}

long long doveadm_retry_sleep_for(const struct doveadm_retry_conf *rc,
				  int code)
{
	const struct doveadm_code_map *m =
		code_find(rc->code_sleep, rc->n_code_sleep, code);
	return m != NULL ? m->value : rc->sleep_ms;
}

void doveadm_retry_decide(const struct doveadm_retry_conf *rc,
			  enum doveadm_phase phase,
			  bool move_duplicates_enabled,
			  const struct doveadm_attempt_result *res,
			  struct doveadm_retry_state *st,
			  struct doveadm_retry_decision *d_r)
{
	struct doveadm_retry_decision d = { .verdict = DOVEADM_DONE_FAILED };
	int code = res->exit_code;

	st->attempts++;
	st->debug = false;
	if (res->parallel_writes_timeout)
		st->parallel_writes_1 = true;
	d.move_duplicates = move_duplicates_enabled && res->new_duplicates > 0;

	if (code == 0) {
		d.verdict = DOVEADM_DONE_OK;
		d.reason = "migration command succeeded";
	} else if (code == 2 && phase == DOVEADM_PHASE_SYNC) {
		d.verdict = DOVEADM_DONE_OK;
		d.reason = "mails changed during the sync (exit 2); the cutover "
			   "will catch up";
	} else if (code == 2) {
		const struct doveadm_code_map *m =
			code_find(rc->code_max, rc->n_code_max, 2);
		unsigned max = m != NULL ? (unsigned)m->value
					 : DOVEADM_CUTOVER_RERUN_MAX;
		if (st->reruns < max) {
			st->reruns++;
			d.verdict = DOVEADM_RETRY;
			const struct doveadm_code_map *s =
				code_find(rc->code_sleep, rc->n_code_sleep, 2);
			d.sleep_ms = s != NULL ? s->value : 0;
			d.reason = "mails changed during the cutover (exit 2): "
				   "running again until nothing changes";
		} else {
			d.reason = "mails still changing after the cutover "
				   "re-runs (exit 2)";
		}
	} else if (st->retries < (unsigned)doveadm_retry_max_for(rc, code)) {
		st->retries++;
		d.verdict = DOVEADM_RETRY;
		d.sleep_ms = doveadm_retry_sleep_for(rc, code);
		st->debug = rc->debug_mode && res->storage_timeout;
		if (st->debug)
			d.reason = "retrying in debug mode after a storage "
				   "timeout";
		else if (res->parallel_writes_timeout)
			d.reason = "retrying with obox_max_parallel_writes=1 "
				   "after a PUT timeout";
		else
			d.reason = "retrying the migration command";
	} else {
		d.reason = code_is_fatal(code) &&
					   code_find(rc->code_max,
						     rc->n_code_max,
						     code) == NULL
				   ? "migration command failed with an exit "
				     "code retrying cannot fix"
				   : "migration command failed; no retries left";
	}
	*d_r = d;
}

size_t doveadm_retry_extra_args(const struct doveadm_retry_state *st,
				const char *out[4])
{
	size_t n = 0;
	if (st->debug)
		out[n++] = "-D";
	if (st->parallel_writes_1) {
		out[n++] = "-o";
		out[n++] = DOVEADM_PARALLEL_WRITES_OPTION;
	}
	out[n] = NULL;
	return n;
}

/* ------------------------------------------------- mailbox status count --- */

void doveadm_count_init(struct doveadm_count_parser *p)
{
	*p = (struct doveadm_count_parser){ .col_messages = -1,
					    .col_vsize = -1 };
}

/* Split at tabs into at most `max` fields; returns the field count (which
 * may exceed max: only the first max are stored). */
static size_t split_tabs(const char *line, size_t len, const char **f,
			 size_t *fl, size_t max)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || line[i] == '\t') {
			if (n < max) {
				f[n] = line + start;
				fl[n] = i - start;
			}
			n++;
			start = i + 1;
		}
	}
	return n;
}

static bool parse_ull(const char *s, size_t len, unsigned long long *v)
{
	unsigned long long r = 0;
	if (len == 0 || len > 19)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		r = r * 10 + (unsigned long long)(s[i] - '0');
	}
	*v = r;
	return true;
}

#define COUNT_MAX_FIELDS 64

void doveadm_count_feed_line(struct doveadm_count_parser *p, const char *line,
			     size_t len)
{
	const char *f[COUNT_MAX_FIELDS];
	size_t fl[COUNT_MAX_FIELDS], n;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0)
		return;
	n = split_tabs(line, len, f, fl, COUNT_MAX_FIELDS);
	if (!p->header_seen) {
		int m = -1, v = -1;
		for (size_t i = 0; i < n && i < COUNT_MAX_FIELDS; i++) {
			if (fl[i] == 8 && memcmp(f[i], "messages", 8) == 0)
				m = (int)i;
			else if (fl[i] == 5 && memcmp(f[i], "vsize", 5) == 0)
				v = (int)i;
		}
		if (m >= 0 && v >= 0) {
			p->header_seen = true;
			p->col_messages = m;
			p->col_vsize = v;
			/* count from the end: a mailbox name holding a tab
			 * shifts the columns after it */
			p->col_messages -= (int)n;
			p->col_vsize -= (int)n;
		} else {
			p->bad_rows++; /* noise before the header */
		}
		return;
	}
	int im = (int)n + p->col_messages, iv = (int)n + p->col_vsize;
	unsigned long long m, v;
	if (im < 0 || iv < 0 || im >= COUNT_MAX_FIELDS ||
	    iv >= COUNT_MAX_FIELDS || !parse_ull(f[im], fl[im], &m) ||
	    !parse_ull(f[iv], fl[iv], &v)) {
		p->bad_rows++;
		return;
	}
	p->messages += m;
	p->vsize += v;
	p->rows++;
}

int doveadm_count_finish(const struct doveadm_count_parser *p, int exit_code,
			 unsigned long long *messages_r,
			 unsigned long long *vsize_r, const char **error_r)
{
	if (exit_code == 0) {
		if (!p->header_seen && p->bad_rows > 0) {
			*error_r = "no \"messages vsize\" header in the "
				   "mailbox status output (use -f tab)";
			return -EINVAL;
		}
	} else if (exit_code == 68) {
		if (!p->header_seen || p->rows == 0) {
			*error_r = "mailbox status exited 68 without counts";
			return -EINVAL;
		}
	} else {
		*error_r = "mailbox status failed";
		return -EINVAL;
	}
	*messages_r = p->messages;
	*vsize_r = p->vsize;
	return 0;
}
