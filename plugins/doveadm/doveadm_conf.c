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

#include "doveadm_conf.h"
#include "secret.h"

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
	[DOVEADM_STEP_MOVE_DUPLICATES] = "move-duplicates",
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
	for (size_t i = 0; i < sizeof(sync_names) / sizeof(sync_names[0]);
	     i++) {
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

/* ------------------------------------------------------------ parsing --- */

/* What the parser carries: the host's config table and the block. */
struct pctx {
	const struct dmf_host_config *hc;
	const struct dmf_conf *b;
	const char *block_name; /* the block's key, for messages */
	char **error_r;
};

/* "FILE:LINE:COL: key 'dmf.doveadm.source.B.path': what", allocated. */
static int path_error(struct pctx *x, const struct dmf_conf *n,
		      const char *path, const char *what)
{
	if (asprintf(x->error_r, "%s: key 'dmf.doveadm.source.%s.%s': %s",
		     x->hc->origin(n != NULL ? n : x->b),
		     x->block_name != NULL ? x->block_name : "?", path,
		     what) < 0)
		*x->error_r = NULL;
	return -EINVAL;
}

static int getter_error(struct pctx *x, const char *e)
{
	*x->error_r = strdup(e != NULL ? e : "invalid value");
	return -EINVAL;
}

static const struct dmf_conf *node_at(struct pctx *x, const char *path)
{
	const struct dmf_conf *n = x->hc->get(x->b, path);
	return x->hc->kind(n) == DMF_CONF_NULL ? NULL : n;
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

static int get_bool(struct pctx *x, const char *path, bool *v)
{
	const char *e = NULL;
	int r;
	if (x->hc->get_bool(x->b, path, *v ? 1 : 0, &r, &e) < 0)
		return getter_error(x, e);
	*v = r != 0;
	return 0;
}

static int get_str(struct pctx *x, const char *path, char **v)
{
	const char *e = NULL, *s;
	if (x->hc->get_string(x->b, path, *v, &s, &e) < 0)
		return getter_error(x, e);
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

static int get_int_range(struct pctx *x, const char *path, int *v,
			 long long min, long long max)
{
	const char *e = NULL;
	long long r;
	if (x->hc->get_int(x->b, path, *v, &r, &e) < 0)
		return getter_error(x, e);
	if (r < min || r > max) {
		char what[96];
		snprintf(what, sizeof(what), "must be between %lld and %lld",
			 min, max);
		return path_error(x, x->hc->get(x->b, path), path, what);
	}
	*v = (int)r;
	return 0;
}

static int get_ms(struct pctx *x, const char *path, long long *v)
{
	const char *e = NULL;
	long long r;
	if (x->hc->get_duration_ms(x->b, path, *v, &r, &e) < 0)
		return getter_error(x, e);
	if (r < 0)
		return path_error(x, x->hc->get(x->b, path), path,
				  "must not be negative");
	*v = r;
	return 0;
}

static int parse_long(const char *s, long long min, long long max, long long *v)
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

void doveadm_strv_free(char ***v)
{
	if (*v == NULL)
		return;
	for (size_t i = 0; (*v)[i] != NULL; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
}

/* Append a copy of s[0..len) (trimmed) to the array; 0 or -ENOMEM. */
static int strv_add(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return 0;
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (nv == NULL)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strndup(s, len);
	if (nv[*n] == NULL)
		return -ENOMEM;
	(*n)++;
	nv[*n] = NULL;
	return 0;
}

/* A list of strings: a sequence of scalars, or one scalar holding a
 * comma-separated list (when `split` is true).  Absent: *items_r
 * untouched.  An empty list gives an empty array. */
static int get_strv(struct pctx *x, const char *path, bool split,
		    char ***items_r)
{
	const struct dmf_conf *n = node_at(x, path);
	char **v = NULL;
	size_t k = 0;
	int r = 0;

	if (n == NULL)
		return 0;
	v = calloc(1, sizeof(char *));
	if (v == NULL)
		return -ENOMEM;
	if (x->hc->kind(n) == DMF_CONF_SCALAR) {
		const char *s = x->hc->scalar(n);
		if (!split) {
			r = strv_add(&v, &k, s, strlen(s));
		} else {
			while (r == 0 && *s != '\0') {
				const char *c = strchr(s, ',');
				size_t len =
					c != NULL ? (size_t)(c - s) : strlen(s);
				r = strv_add(&v, &k, s, len);
				s += len + (c != NULL);
			}
		}
	} else if (x->hc->kind(n) == DMF_CONF_LIST) {
		for (size_t i = 0; r == 0 && i < x->hc->count(n); i++) {
			const struct dmf_conf *c = x->hc->child(n, i);
			const char *s = x->hc->scalar(c);
			if (s == NULL) {
				doveadm_strv_free(&v);
				return path_error(x, c, path,
						  "must list plain values");
			}
			r = strv_add(&v, &k, s, strlen(s));
		}
	} else {
		doveadm_strv_free(&v);
		return path_error(x, n, path, "must be a list");
	}
	if (r < 0) {
		doveadm_strv_free(&v);
		return r;
	}
	doveadm_strv_free(items_r);
	*items_r = v;
	return 0;
}

/* retry.code-max / retry.code-sleep: a map of exit code -> number. */
static int get_code_map(struct pctx *x, const char *path, bool duration,
			struct doveadm_code_map **map, size_t *n_map)
{
	const struct dmf_conf *n = node_at(x, path);
	struct doveadm_code_map *m;
	size_t cnt;

	if (n == NULL)
		return 0; /* keep the built-in map */
	if (x->hc->kind(n) != DMF_CONF_MAP)
		return path_error(x, n, path,
				  "must be a map of exit code: value");
	cnt = x->hc->count(n);
	m = calloc(cnt + 1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		const struct dmf_conf *c = x->hc->child(n, i);
		const char *key = x->hc->key(c), *e = NULL;
		char cpath[128];
		long long code, v;
		int r;

		snprintf(cpath, sizeof(cpath), "%s.%s", path,
			 key != NULL ? key : "?");
		if (parse_long(key, 0, 255, &code) < 0) {
			free(m);
			return path_error(x, c, cpath,
					  "the key must be an exit "
					  "code (0-255)");
		}
		if (x->hc->kind(c) != DMF_CONF_SCALAR) {
			free(m);
			return path_error(x, c, cpath, "must be a number");
		}
		if (duration)
			r = x->hc->get_duration_ms(n, key, 0, &v, &e);
		else
			r = parse_long(x->hc->scalar(c), 0, INT_MAX, &v);
		if (r < 0 || v < 0) {
			free(m);
			return path_error(
				x, c, cpath,
				duration ? "must be a duration (ms, 5s, 1m)" :
					   "must be a non-negative integer");
		}
		m[i].code = (int)code;
		m[i].value = v;
	}
	free(*map);
	*map = m;
	*n_map = cnt;
	return 0;
}

static int get_accept_codes(struct pctx *x, const char *path, int **codes,
			    size_t *n_codes)
{
	char **items = NULL;
	size_t k = 0;
	int *c, r;

	r = get_strv(x, path, true, &items);
	if (r < 0 || items == NULL)
		return r;
	while (items[k] != NULL)
		k++;
	c = calloc(k + 1, sizeof(*c));
	if (c == NULL) {
		doveadm_strv_free(&items);
		return -ENOMEM;
	}
	for (size_t i = 0; i < k; i++) {
		long long v;
		if (parse_long(items[i], -1, 255, &v) < 0) {
			doveadm_strv_free(&items);
			free(c);
			return path_error(x, node_at(x, path), path,
					  "must list exit codes (-1 for all)");
		}
		c[i] = (int)v;
	}
	doveadm_strv_free(&items);
	free(*codes);
	*codes = c;
	*n_codes = k;
	return 0;
}

static int parse_protocol(struct pctx *x, enum doveadm_remote_protocol *p)
{
	const char *e = NULL, *s, *path = "count.remote-protocol";
	if (x->hc->get_string(x->b, path, NULL, &s, &e) < 0)
		return getter_error(x, e);
	if (s == NULL || *s == '\0')
		return 0;
	if (strcasecmp(s, "imapc") == 0)
		*p = DOVEADM_REMOTE_IMAPC;
	else if (strcasecmp(s, "doveadm") == 0)
		*p = DOVEADM_REMOTE_DOVEADM;
	else if (strcasecmp(s, "http") == 0)
		*p = DOVEADM_REMOTE_HTTP;
	else
		return path_error(x, node_at(x, path), path,
				  "must be imapc, doveadm or http");
	return 0;
}

static int parse_durability(struct pctx *x, enum doveadm_durability *d)
{
	const char *e = NULL, *s, *path = "durability";
	if (x->hc->get_string(x->b, path, NULL, &s, &e) < 0)
		return getter_error(x, e);
	if (s == NULL || *s == '\0')
		return 0;
	if (strcasecmp(s, "job") == 0)
		*d = DOVEADM_DURABLE_JOB;
	else if (strcasecmp(s, "dovecot") == 0)
		*d = DOVEADM_DURABLE_DOVECOT;
	else
		return path_error(x, node_at(x, path), path,
				  "must be job or dovecot");
	return 0;
}

static int parse_http_type(struct pctx *x, enum doveadm_http_type *t)
{
	const char *e = NULL, *s;
	if (x->hc->get_string(x->b, "http.type", NULL, &s, &e) < 0)
		return getter_error(x, e);
	if (s == NULL || *s == '\0')
		return 0;
	if (strcasecmp(s, "director") == 0)
		*t = DOVEADM_HTTP_DIRECTOR;
	else if (strcasecmp(s, "cluster") == 0)
		*t = DOVEADM_HTTP_CLUSTER;
	else
		return path_error(x, node_at(x, "http.type"), "http.type",
				  "must be director or cluster");
	return 0;
}

static int parse_inject(struct pctx *x, struct doveadm_source_conf *c)
{
	const struct dmf_conf *n = node_at(x, "command.inject");
	size_t cnt;

	if (n == NULL)
		return 0;
	if (x->hc->kind(n) != DMF_CONF_MAP)
		return path_error(x, n, "command.inject",
				  "must be a map of name: value");
	cnt = x->hc->count(n);
	c->inject_names = calloc(cnt + 1, sizeof(char *));
	c->inject_values = calloc(cnt + 1, sizeof(char *));
	if (c->inject_names == NULL || c->inject_values == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		const struct dmf_conf *v = x->hc->child(n, i);
		const char *key = x->hc->key(v), *val = x->hc->scalar(v);
		enum dmf_conf_kind k = x->hc->kind(v);
		if (k != DMF_CONF_SCALAR && k != DMF_CONF_NULL)
			return path_error(x, v, "command.inject",
					  "must be a plain value");
		c->inject_names[c->n_inject] = strdup(key != NULL ? key : "");
		c->inject_values[c->n_inject] = strdup(val != NULL ? val : "");
		c->n_inject++;
		if (c->inject_names[c->n_inject - 1] == NULL ||
		    c->inject_values[c->n_inject - 1] == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int parse_commands(struct pctx *x, struct doveadm_source_conf *c)
{
	static const char *const phases[DOVEADM_N_PHASES] = { "sync",
							      "cutover" };
	static const char *const which[4] = { "pre", "sync", "post",
					      "failure" };
	for (int p = 0; p < DOVEADM_N_PHASES; p++) {
		struct doveadm_phase_commands *pc = &c->commands[p];
		const struct dmf_conf **slot[4] = { &pc->pre, &pc->sync,
						    &pc->post, &pc->failure };
		for (size_t i = 0; i < 4; i++) {
			char path[64];
			const struct dmf_conf *n;

			snprintf(path, sizeof(path), "command.%s.%s", phases[p],
				 which[i]);
			n = node_at(x, path);
			if (n != NULL && x->hc->kind(n) != DMF_CONF_MAP)
				return path_error(
					x, n, path,
					"must be a command definition "
					"(name, options, arguments, "
					"sub-command)");
			*slot[i] = n;
		}
	}
	const struct dmf_conf *rc = node_at(x, "count.remote-command");
	if (rc != NULL) {
		if (x->hc->kind(rc) != DMF_CONF_MAP)
			return path_error(x, rc, "count.remote-command",
					  "must be a command definition");
		c->count.remote_command = rc;
	}
	return 0;
}

static int parse_failure_phase(struct pctx *x, const struct dmf_conf *n,
			       const char *ppath, bool *flags)
{
	if (x->hc->kind(n) == DMF_CONF_NULL)
		return 0;
	if (x->hc->kind(n) != DMF_CONF_MAP)
		return path_error(x, n, ppath,
				  "must be a map of step: true|false");
	for (size_t i = 0; i < x->hc->count(n); i++) {
		const struct dmf_conf *c = x->hc->child(n, i);
		const char *key = x->hc->key(c), *e = NULL;
		char path[128];
		int step = -1, v;

		snprintf(path, sizeof(path), "%s.%s", ppath,
			 key != NULL ? key : "?");
		for (int s = 0; key != NULL && s < DOVEADM_N_STEPS; s++) {
			if (strcmp(key, step_names[s]) == 0)
				step = s;
		}
		if (step < 0)
			return path_error(x, c, path,
					  "unknown step (see "
					  "failure-flags in "
					  "docs/doveadm.md)");
		if (x->hc->get_bool(n, key, flags[step] ? 1 : 0, &v, &e) < 0)
			return getter_error(x, e);
		flags[step] = v != 0;
	}
	return 0;
}

static int set_defaults(struct doveadm_source_conf *c)
{
	static const char *const masks[] = { "INBOX", "INBOX/*", "*" };
	static const char *const settings[] = DOVEADM_DEFAULT_SYNC_SETTINGS;
	size_t n = 0;

	c->analyze_log = true;
	c->container_file = strdup("/etc/dovecot/passwd.container");
	c->imapc_inbox_owner = strdup(DOVEADM_DEFAULT_INBOX_OWNER);
	c->director.kick.timeout_ms = 60000;
	c->sync_lock_ms = 60000;
	c->count.pre = c->count.sync = c->count.post = c->count.remote = true;
	c->count.remote_protocol = DOVEADM_REMOTE_IMAPC;
	c->count.remote_http_mailbox_mask = calloc(4, sizeof(char *));
	c->retry.max = 1;
	c->retry.sleep_ms = 5000;
	c->retry.code_max = calloc(2, sizeof(*c->retry.code_max));
	c->retry.code_sleep = calloc(1, sizeof(*c->retry.code_sleep));
	c->doveadm.port = 24245;
	c->sync_settings = calloc(1, sizeof(char *));
	if (c->container_file == NULL || c->imapc_inbox_owner == NULL ||
	    c->count.remote_http_mailbox_mask == NULL ||
	    c->retry.code_max == NULL || c->retry.code_sleep == NULL ||
	    c->sync_settings == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < 3; i++) {
		c->count.remote_http_mailbox_mask[i] = strdup(masks[i]);
		if (c->count.remote_http_mailbox_mask[i] == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; settings[i] != NULL; i++) {
		if (strv_add(&c->sync_settings, &n, settings[i],
			     strlen(settings[i])) < 0)
			return -ENOMEM;
	}
	c->retry.code_max[0] = (struct doveadm_code_map){ 134, 2 };
	c->retry.code_max[1] = (struct doveadm_code_map){ 75, 4 };
	c->retry.n_code_max = 2;
	c->retry.code_sleep[0] = (struct doveadm_code_map){ 75, 15000 };
	c->retry.n_code_sleep = 1;
	return 0;
}

#define TRY(expr)                     \
	do {                          \
		if ((r = (expr)) < 0) \
			return r;     \
	} while (0)

static int parse_block(struct pctx *x, struct doveadm_source_conf *c)
{
	const struct dmf_host_config *hc = x->hc;
	int r;
	bool legacy;

	if (hc->kind(x->b) != DMF_CONF_MAP)
		return path_error(x, x->b, "",
				  "must be a map of doveadm "
				  "settings");
	TRY(get_bool(x, "analyze-log", &c->analyze_log));
	TRY(get_bool(x, "move-duplicates", &c->move_duplicates));
	/* the loader renames copy-imaps-inbox / remove-imaps-path */
	TRY(get_bool(x, "copy-imapc-inbox", &c->copy_imapc_inbox));
	TRY(get_bool(x, "copy-imaps-inbox", &c->copy_imapc_inbox));
	TRY(get_bool(x, "remove-imapc-path", &c->remove_imapc_path));
	TRY(get_bool(x, "remove-imaps-path", &c->remove_imapc_path));
	TRY(get_bool(x, "metacache.flush.on-success",
		     &c->metacache_flush.on_success));
	TRY(get_bool(x, "metacache.flush.on-failure",
		     &c->metacache_flush.on_failure));
	TRY(get_bool(x, "metacache.clean.on-success",
		     &c->metacache_clean.on_success));
	TRY(get_bool(x, "metacache.clean.on-failure",
		     &c->metacache_clean.on_failure));
	legacy = false;
	TRY(get_bool(x, "flush-metacache", &legacy));
	if (legacy)
		c->metacache_flush.on_success = true;
	legacy = false;
	TRY(get_bool(x, "clean-metacache", &legacy));
	if (legacy)
		c->metacache_clean.on_success = true;
	TRY(get_bool(x, "fetch-container", &c->fetch_container));
	TRY(get_str(x, "container-file", &c->container_file));
	if (c->container_file == NULL &&
	    (c->container_file = strdup("/etc/dovecot/passwd.container")) ==
		    NULL)
		return -ENOMEM;
	TRY(get_str(x, "imapc-inbox-owner", &c->imapc_inbox_owner));
	if (c->imapc_inbox_owner == NULL &&
	    (c->imapc_inbox_owner = strdup(DOVEADM_DEFAULT_INBOX_OWNER)) ==
		    NULL)
		return -ENOMEM;
	TRY(get_strv(x, "sync-settings", true, &c->sync_settings));
	for (size_t i = 0; c->sync_settings[i] != NULL; i++) {
		const char *s = c->sync_settings[i], *eq = strchr(s, '=');
		if (eq == NULL || eq == s)
			return path_error(x, node_at(x, "sync-settings"),
					  "sync-settings",
					  "each entry must be name=value");
		if (strncasecmp(s, "imapc_password=", 15) == 0 ||
		    strncasecmp(s, "doveadm_password=", 17) == 0)
			return path_error(x, node_at(x, "sync-settings"),
					  "sync-settings",
					  "must not hold passwords");
	}

	TRY(get_ms(x, "sync-lock", &c->sync_lock_ms));
	TRY(parse_durability(x, &c->durability));

	TRY(get_bool(x, "director.enabled", &c->director.enabled));
	TRY(get_bool(x, "director.use-sourcehost",
		     &c->director.use_sourcehost));
	TRY(get_bool(x, "director.move-user", &c->director.move_user));
	TRY(get_bool(x, "director.kick.sync", &c->director.kick.sync));
	TRY(get_bool(x, "director.kick.cutover", &c->director.kick.cutover));
	TRY(get_bool(x, "director.kick.wait", &c->director.kick.wait));
	TRY(get_ms(x, "director.kick.timeout", &c->director.kick.timeout_ms));
	TRY(get_accept_codes(x, "director.kick.wait-accept-codes",
			     &c->director.kick.wait_accept_codes,
			     &c->director.kick.n_wait_accept_codes));
	TRY(get_bool(x, "director.flush-metacache.sync",
		     &c->director.flush_metacache.sync));
	TRY(get_bool(x, "director.flush-metacache.cutover",
		     &c->director.flush_metacache.cutover));

	TRY(get_bool(x, "count.pre", &c->count.pre));
	TRY(get_bool(x, "count.sync", &c->count.sync));
	TRY(get_bool(x, "count.post", &c->count.post));
	TRY(get_bool(x, "count.remote", &c->count.remote));
	TRY(parse_protocol(x, &c->count.remote_protocol));
	char **mask = NULL;
	TRY(get_strv(x, "count.remote-http.mailbox-mask", true, &mask));
	if (mask != NULL && mask[0] == NULL) {
		doveadm_strv_free(&mask); /* empty: keep the default */
	} else if (mask != NULL) {
		doveadm_strv_free(&c->count.remote_http_mailbox_mask);
		c->count.remote_http_mailbox_mask = mask;
	}
	TRY(get_str(x, "count.remote-http.socket-path",
		    &c->count.remote_http_socket_path));

	TRY(get_int_range(x, "retry.max", &c->retry.max, 0, 1000));
	TRY(get_ms(x, "retry.sleep", &c->retry.sleep_ms));
	TRY(get_code_map(x, "retry.code-max", false, &c->retry.code_max,
			 &c->retry.n_code_max));
	TRY(get_code_map(x, "retry.code-sleep", true, &c->retry.code_sleep,
			 &c->retry.n_code_sleep));
	TRY(get_bool(x, "retry.debug-mode", &c->retry.debug_mode));

	TRY(parse_http_type(x, &c->http.type));
	TRY(get_str(x, "http.url", &c->http.url));
	TRY(get_str(x, "http.username", &c->http.username));
	TRY(get_str(x, "http.password", &c->http.password));
	TRY(get_str(x, "http.api-key", &c->http.api_key));
	TRY(get_str(x, "http.director-tag", &c->http.director_tag));
	TRY(get_bool(x, "http.use-only-tagged", &c->http.use_only_tagged));
	c->http.configured = c->http.url != NULL;
	if (c->director.move_user && c->http.type == DOVEADM_HTTP_CLUSTER)
		return path_error(x, node_at(x, "director.move-user"),
				  "director.move-user",
				  "needs http.type director (a cluster has "
				  "no directorMove)");

	TRY(get_str(x, "doveadm.host", &c->doveadm.host));
	TRY(get_str(x, "doveadm.password", &c->doveadm.password));
	TRY(get_int_range(x, "doveadm.port", &c->doveadm.port, 1, 65535));

	TRY(get_str(x, "imapc.host", &c->imapc.host));
	TRY(get_int_range(x, "imapc.port", &c->imapc.port, 0, 65535));
	TRY(get_str(x, "imapc.prefix", &c->imapc.prefix));
	TRY(get_str(x, "imapc.ssl", &c->imapc.ssl));
	if (c->imapc.ssl != NULL && strcmp(c->imapc.ssl, "no") != 0 &&
	    strcmp(c->imapc.ssl, "imaps") != 0 &&
	    strcmp(c->imapc.ssl, "starttls") != 0)
		return path_error(x, node_at(x, "imapc.ssl"), "imapc.ssl",
				  "must be no, imaps or starttls");
	TRY(get_str(x, "imapc.master-user", &c->imapc.master_user));
	TRY(get_str(x, "imapc.master-password", &c->imapc.master_password));
	c->imapc.session_properties = node_at(x, "imapc.session-properties");

	TRY(parse_inject(x, c));
	TRY(parse_commands(x, c));

	const struct dmf_conf *ff = node_at(x, "failure-flags");
	if (ff != NULL) {
		if (hc->kind(ff) != DMF_CONF_MAP)
			return path_error(x, ff, "failure-flags",
					  "must be a map with pre, sync "
					  "and/or cutover");
		for (size_t i = 0; i < hc->count(ff); i++) {
			const struct dmf_conf *ph = hc->child(ff, i);
			const char *key = hc->key(ph);
			char path[64];
			enum doveadm_phase p;

			snprintf(path, sizeof(path), "failure-flags.%s",
				 key != NULL ? key : "?");
			if (doveadm_phase_parse(key, &p) < 0)
				return path_error(x, ph, path,
						  "unknown phase (pre, sync or "
						  "cutover)");
			TRY(parse_failure_phase(x, ph, path,
						c->failure_flags[p]));
		}
	}
	return 0;
}

int doveadm_conf_parse(const struct dmf_host_config *hc,
		       const struct dmf_conf *block, const char *source,
		       struct doveadm_source_conf **conf_r, char **error_r)
{
	struct doveadm_source_conf *c = calloc(1, sizeof(*c));
	struct pctx x = { .hc = hc, .b = block, .error_r = error_r };
	int r;

	*error_r = NULL;
	if (c == NULL)
		return -ENOMEM;
	x.block_name = block != NULL ? hc->key(block) : NULL;
	r = set_defaults(c);
	if (r == 0 && source != NULL && (c->source = strdup(source)) == NULL)
		r = -ENOMEM;
	if (r == 0 && x.block_name != NULL &&
	    (c->block = strdup(x.block_name)) == NULL)
		r = -ENOMEM;
	if (r == 0 && block != NULL && hc->kind(block) != DMF_CONF_NULL) {
		c->node = block;
		r = parse_block(&x, c);
	}
	if (r < 0) {
		if (r == -ENOMEM && *error_r == NULL)
			*error_r = strdup("out of memory");
		doveadm_conf_free(&c);
		return r;
	}
	*conf_r = c;
	return 0;
}

int doveadm_conf_load(const struct dmf_host_config *hc, const char *source,
		      struct doveadm_source_conf **conf_r, char **error_r)
{
	return doveadm_conf_parse(hc, hc->source(source), source, conf_r,
				  error_r);
}

void doveadm_conf_free(struct doveadm_source_conf **cp)
{
	struct doveadm_source_conf *c = *cp;
	if (c == NULL)
		return;
	free(c->source);
	free(c->block);
	free(c->container_file);
	free(c->imapc_inbox_owner);
	doveadm_strv_free(&c->sync_settings);
	free(c->director.kick.wait_accept_codes);
	doveadm_strv_free(&c->count.remote_http_mailbox_mask);
	free(c->count.remote_http_socket_path);
	free(c->retry.code_max);
	free(c->retry.code_sleep);
	free(c->http.url);
	free(c->http.username);
	dv_free_secret(&c->http.password);
	dv_free_secret(&c->http.api_key);
	free(c->http.director_tag);
	free(c->doveadm.host);
	dv_free_secret(&c->doveadm.password);
	free(c->imapc.host);
	free(c->imapc.prefix);
	free(c->imapc.ssl);
	free(c->imapc.master_user);
	dv_free_secret(&c->imapc.master_password);
	for (size_t i = 0; i < c->n_inject; i++) {
		free(c->inject_names[i]);
		dv_free_secret(&c->inject_values[i]);
	}
	free(c->inject_names);
	free(c->inject_values);
	free(c);
	*cp = NULL;
}

/* ------------------------------------------------------- retry policy --- */

static const struct doveadm_code_map *
code_find(const struct doveadm_code_map *m, size_t n, int code)
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

long long doveadm_retry_sleep_for(const struct doveadm_retry_conf *rc, int code)
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
		d.reason =
			"mails changed during the sync (exit 2); the cutover "
			"will catch up";
	} else if (code == 2) {
		const struct doveadm_code_map *m =
			code_find(rc->code_max, rc->n_code_max, 2);
		unsigned max = m != NULL ? (unsigned)m->value :
					   DOVEADM_CUTOVER_RERUN_MAX;
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
		d.reason = code_is_fatal(code) && code_find(rc->code_max,
							    rc->n_code_max,
							    code) == NULL ?
				   "migration command failed with an exit "
				   "code retrying cannot fix" :
				   "migration command failed; no retries left";
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
