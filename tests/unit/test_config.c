/* test_config.c - core/config.c and core/config_schema.c. */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/config_schema.h"
#include "../tap.h"

static struct config *load(const char *yaml, char *const *env, char **err_r)
{
	struct config *cfg = NULL;
	char *err = NULL;

	if (config_load_string(yaml, "t.yml", env, &cfg, &err) < 0) {
		if (err_r != NULL)
			*err_r = err;
		else {
			diag("load failed: %s", err);
			free(err);
		}
		return NULL;
	}
	return cfg;
}

static const char *str(const struct config *cfg, const char *path)
{
	const struct cfg_node *n =
		cfg != NULL ? cfg_get(cfg->root, path) : NULL;

	return n != NULL && n->kind == CFG_SCALAR ? n->value : NULL;
}

/* ------------------------------------------------------------ merging --- */

static const char merge_yaml[] = "micronaut:\n" /* 1 */
				 "  ssl:\n" /* 2 */
				 "    enabled: true\n" /* 3 */
				 "    port: 8443\n" /* 4 */
				 "  security:\n" /* 5 */
				 "    ip-patterns: [a, b, c]\n" /* 6 */
				 "---\n" /* 7 */
				 "# comment only document\n" /* 8 */
				 "---\n" /* 9 */
				 "micronaut:\n" /* 10 */
				 "  ssl:\n" /* 11 */
				 "    port: 9443\n" /* 12 */
				 "  security:\n" /* 13 */
				 "    ip-patterns: [d]\n" /* 14 */
				 "dmf:\n" /* 15 */
				 "  worker:\n" /* 16 */
				 "    jobs: {max: 3}\n" /* 17 */
				 "    identity:\n" /* 18 */
				 "      memberid:\n" /* 19 */
				 "      target: 'null'\n"; /* 20 */

static void test_merge(void)
{
	struct config *cfg = load(merge_yaml, NULL, NULL);
	const struct cfg_node *n;
	char **v = NULL;
	const char *err = NULL;

	ok(cfg != NULL, "multi-document file loads");
	if (cfg == NULL)
		return;
	is_str(str(cfg, "micronaut.ssl.enabled"), "true",
	       "merge: key of document 1 kept");
	is_str(str(cfg, "micronaut.ssl.port"), "9443",
	       "merge: later document wins for scalars");
	is_int(cfg_get_strv(cfg->root, "micronaut.security.ip-patterns", &v,
			    &err),
	       0, "strv of a list");
	ok(v != NULL && v[0] != NULL && strcmp(v[0], "d") == 0 && v[1] == NULL,
	   "merge: later list replaces the earlier one");
	cfg_strv_free(&v);
	is_str(str(cfg, "dmf.worker.jobs.max"), "3", "flow map read");
	n = cfg_get(cfg->root, "micronaut.ssl.port");
	ok(n != NULL && n->line == 12 && n->column == 11 && n->key_line == 12 &&
		   n->key_column == 5,
	   "scalar position is the value's, key position kept (12:11, 12:5)");
	n = cfg_get(cfg->root, "dmf.worker.identity.memberid");
	ok(n != NULL && n->kind == CFG_NULL && n->line == 19 && n->column == 7,
	   "empty value is null at its key (19:7)");
	is_str(str(cfg, "dmf.worker.identity.target"), "null",
	       "quoted 'null' stays a string");
	is_int(cfg->n_warnings, 0, "no warnings");
	config_free(&cfg);
	ok(cfg == NULL, "config_free clears the pointer");
}

static void test_yaml_features(void)
{
	static const char anchors[] = "dmf:\n"
				      "  doveadm:\n"
				      "    source:\n"
				      "      default: &base\n"
				      "        retry: {max: 2, sleep: 1s}\n"
				      "        analyze-log: true\n"
				      "      POD_1:\n"
				      "        <<: *base\n"
				      "        analyze-log: false\n"
				      "      POD_2: *base\n";
	static const char dup[] = "dmf:\n"
				  "  worker:\n"
				  "    jobs:\n"
				  "      max: 1\n"
				  "      max: 2\n";
	struct config *cfg = load(anchors, NULL, NULL);
	char *err = NULL;

	is_str(str(cfg, "dmf.doveadm.source.POD_2.retry.sleep"), "1s",
	       "alias copies the anchored map");
	is_str(str(cfg, "dmf.doveadm.source.POD_1.retry.max"), "2",
	       "merge key << adds missing keys");
	is_str(str(cfg, "dmf.doveadm.source.POD_1.analyze-log"), "false",
	       "merge key << does not override explicit keys");
	ok(cfg != NULL && cfg->n_warnings == 0, "no warnings for anchors");
	config_free(&cfg);

	cfg = load(dup, NULL, NULL);
	is_str(str(cfg, "dmf.worker.jobs.max"), "2",
	       "duplicate key: later wins");
	ok(cfg != NULL && cfg->n_warnings == 1, "duplicate key: one warning");
	if (cfg != NULL && cfg->n_warnings == 1)
		is_str(cfg->warnings[0],
		       "t.yml:5:7: duplicate key 'dmf.worker.jobs.max' (first "
		       "at line 4; the later value wins)",
		       "duplicate key warning text");
	config_free(&cfg);

	cfg = load("dmf:\n  worker: *nope\n", NULL, &err);
	ok(cfg == NULL, "unknown alias refused");
	like(err, "t.yml:2:11: unknown alias '*nope'", "unknown alias message");
	free(err);
	err = NULL;

	cfg = load("- a\n- b\n", NULL, &err);
	ok(cfg == NULL, "top-level list refused");
	like(err, "t.yml:1:1: the top level of a document must be a map",
	     "top-level list message");
	free(err);
	config_free(&cfg);

	cfg = load("", NULL, NULL);
	ok(cfg != NULL && cfg->root->kind == CFG_MAP &&
		   cfg->root->n_children == 0,
	   "empty file gives an empty map");
	config_free(&cfg);
}

/* -------------------------------------------------------- environment --- */

static const char env_yaml[] = "http:\n"
			       "  admin:\n"
			       "    username: fileuser\n"
			       "dmf:\n"
			       "  worker:\n"
			       "    sources: [A]\n"
			       "    crypto:\n"
			       "      storageKeys:\n"
			       "        key1: {file: /k1}\n"
			       "  doveadm:\n"
			       "    source:\n"
			       "      pod_3:\n"
			       "        analyze-log: true\n"
			       "    sources:\n"
			       "      POD_4:\n"
			       "        analyze-log: true\n";

static const struct {
	const char *env; /* NAME=value */
	const char *path; /* where it must land */
	const char *want;
} env_cases[] = {
	{ "HTTP_ADMIN_USERNAME=envuser", "http.admin.username", "envuser" },
	{ "HTTP_ADMIN_PASSWORD=pw", "http.admin.password", "pw" },
	{ "MICRONAUT_EXECUTORS_WORKER_EXECUTOR_NUMBER_OF_THREADS=7",
	  "micronaut.executors.worker-executor.number-of-threads", "7" },
	{ "DMF_WORKER_JOBS_CACHE_REFRESH=2m", "dmf.worker.jobs.cache.refresh",
	  "2m" },
	{ "DMF_DOVEADM_SOURCE_POD_1_RETRY_MAX=4",
	  "dmf.doveadm.source.POD_1.retry.max", "4" },
	{ "DMF_DOVEADM_SOURCE_POD_3_RETRY_MAX=5",
	  "dmf.doveadm.source.pod_3.retry.max", "5" },
	{ "DMF_DOVEADM_SOURCES_POD_4_RETRY_SLEEP=9s",
	  "dmf.doveadm.source.POD_4.retry.sleep", "9s" },
	{ "DMF_DOVEADM_SOURCES_POD_5_RETRY_SLEEP=8s",
	  "dmf.doveadm.source.POD_5.retry.sleep", "8s" },
	{ "DMF_DOVEADM_SOURCE_DEFAULT_RETRY_CODE_MAX_75=6",
	  "dmf.doveadm.source.default.retry.code-max.75", "6" },
	{ "DMF_DOVEADM_SOURCE_MY_SRC_COUNT_REMOTE_HTTP_SOCKET_PATH=/s",
	  "dmf.doveadm.source.MY_SRC.count.remote-http.socket-path", "/s" },
	{ "DMF_DOVEADM_SOURCE_DEFAULT_COMMAND_INJECT_MY_VAR=x",
	  "dmf.doveadm.source.default.command.inject.MY_VAR", "x" },
	{ "DMF_DOVEADM_SOURCE_DEFAULT_FAILURE_FLAGS_PRE_COUNT_REMOTE=true",
	  "dmf.doveadm.source.default.failure-flags.pre.count-remote", "true" },
	{ "DMF_WORKER_CRYPTO_STORAGEKEYS_KEY1_SECRET=s1",
	  "dmf.worker.crypto.storageKeys.key1.secret", "s1" },
	{ "DMF_WORKER_CRYPTO_STORAGE_KEYS_KEY2_FILE=/k2",
	  "dmf.worker.crypto.storageKeys.KEY2.file", "/k2" },
	{ "ENDPOINTS_INFO_SOURCE_CODE_ORIGIN_ENABLED=false",
	  "endpoints.info.sourceCodeOrigin.enabled", "false" },
	{ "ENDPOINTS_HEALTH_DISK_SPACE_THRESHOLD=5",
	  "endpoints.health.disk-space.threshold", "5" },
	{ "DATASOURCES_DEFAULT_MAXIMUM_POOL_SIZE=12",
	  "datasources.default.maximum-pool-size", "12" },
	{ "DATASOURCES_DEFAULT_MINIMUMIDLE=3",
	  "datasources.default.minimum-idle", "3" },
	{ "LOGGER_LEVELS_ROOT=DEBUG", "logger.levels.root", "DEBUG" },
	{ "MICRONAUT_SECURITY_IP_PATTERNS=127.0.0.1,10.*",
	  "micronaut.security.ip-patterns", "127.0.0.1,10.*" },
};

static void test_env(void)
{
	char *env[sizeof(env_cases) / sizeof(env_cases[0]) + 8];
	size_t n = 0;
	struct config *cfg;
	const struct cfg_node *node;
	char **v = NULL;
	const char *err = NULL;
	char buf[256];

	for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++)
		env[n++] = (char *)env_cases[i].env;
	env[n++] = (char *)"DMF_WORKER_SOURCES=POD_1, POD_2";
	env[n++] = (char *)"HTTP_PROXY=http://proxy:3128";
	env[n++] = (char *)"DMF_NO_SUCH_KEY=1";
	env[n++] = (char *)"dmf_worker_type=lower";
	env[n++] = (char *)"PATH=/bin";
	env[n] = NULL;
	cfg = load(env_yaml, env, NULL);
	ok(cfg != NULL, "file + environment loads");
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
		is_str(str(cfg, env_cases[i].path), env_cases[i].want,
		       "env %s -> %s", env_cases[i].env, env_cases[i].path);
	}
	node = cfg_get(cfg->root, "http.admin.username");
	ok(node != NULL && node->line == 0 && node->env_name != NULL &&
		   strcmp(node->file, "environment") == 0,
	   "env node: file 'environment', line 0, env_name set");
	is_str(cfg_origin(node, buf, sizeof(buf)),
	       "environment HTTP_ADMIN_USERNAME", "cfg_origin of an env node");
	is_str(str(cfg, "dmf.doveadm.source.pod_3.analyze-log"), "true",
	       "env keeps the file's sibling keys");
	is_int(cfg_get_strv(cfg->root, "dmf.worker.sources", &v, &err), 0,
	       "env list replaces the file list");
	ok(v != NULL && v[0] != NULL && strcmp(v[0], "POD_1") == 0 &&
		   v[1] != NULL && strcmp(v[1], "POD_2") == 0 && v[2] == NULL,
	   "DMF_WORKER_SOURCES=POD_1, POD_2 gives [POD_1, POD_2]");
	cfg_strv_free(&v);
	ok(cfg_get(cfg->root, "http.proxy") == NULL, "HTTP_PROXY ignored");
	ok(cfg_get(cfg->root, "dmf.no") == NULL &&
		   cfg_get(cfg->root, "dmf.no_such_key") == NULL,
	   "unknown DMF_ name ignored");
	ok(cfg_get(cfg->root, "dmf.worker.type") == NULL,
	   "lower-case name ignored");
	is_int(cfg->n_warnings, 0, "env overrides give no warnings");
	for (size_t i = 0; i < cfg->n_warnings; i++)
		diag("%s", cfg->warnings[i]);
	config_free(&cfg);

	/* a bad value from the environment fails the load */
	{
		char *bad[] = { (char *)"DMF_WORKER_JOBS_MAX=ten", NULL };
		char *msg = NULL;

		cfg = load("dmf: {worker: {jobs: {max: 5}}}\n", bad, &msg);
		ok(cfg == NULL, "bad env value fails the load");
		is_str(msg,
		       "environment DMF_WORKER_JOBS_MAX: key "
		       "'dmf.worker.jobs.max': expected an integer, got 'ten'",
		       "bad env value message");
		free(msg);
		config_free(&cfg);
	}
}

/* ---------------------------------------------------------- durations --- */

static const struct {
	const char *text;
	long long ms; /* -1: invalid */
} durations[] = {
	{ "0", 0 },
	{ "250", 250 },
	{ "30000", 30000 },
	{ "250ms", 250 },
	{ "5s", 5000 },
	{ "1m", 60000 },
	{ "2h", 7200000 },
	{ "1d", 86400000 },
	{ "1.5s", 1500 },
	{ "5S", 5000 },
	{ "PT1M", 60000 },
	{ "PT1M30S", 90000 },
	{ "P1D", 86400000 },
	{ "PT0.5S", 500 },
	{ "pt2h", 7200000 },
	{ "P1DT1S", 86401000 },
	{ "PT0S", 0 },
	{ "PT1H1M1.25S", 3661250 },
	{ "", -1 },
	{ "s", -1 },
	{ "5x", -1 },
	{ "-5s", -1 },
	{ "5 s", -1 },
	{ "1.5", -1 },
	{ "1.2.3s", -1 },
	{ "P", -1 },
	{ "PT", -1 },
	{ "P1DT", -1 },
	{ "PT1S1M", -1 },
	{ "P1H", -1 },
	{ "PT5", -1 },
	{ "ten", -1 },
	{ "99999999999999999999", -1 },
	{ "1e3", -1 },
	{ "PT1M1M", -1 },
};

static void test_durations(void)
{
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		long long ms = -42;
		int ret = cfg_parse_duration_ms(durations[i].text, &ms);

		if (durations[i].ms < 0) {
			ok(ret == -EINVAL && ms == -42,
			   "duration '%s' refused, output untouched",
			   durations[i].text);
		} else {
			ok(ret == 0 && ms == durations[i].ms,
			   "duration '%s' = %lld ms", durations[i].text,
			   durations[i].ms);
		}
	}
}

static void test_getters(void)
{
	static const char yaml[] =
		"dmf:\n"
		"  worker:\n"
		"    jobs: {max: 10, cache: {refresh: PT5S}}\n"
		"    type: doveadm\n"
		"    sources: 'A, B,,C'\n"
		"    flag: YES\n" /* unknown key, read for the getter test */
		"    heartbeat: soon\n"
		"logger:\n"
		"  levels:\n"
		"    io.micronaut: INFO\n";
	const char *err = NULL, *s = NULL;
	long long v = -1;
	bool b = false;
	char **items = NULL;
	char *msg = NULL;
	struct config *cfg = load(yaml, NULL, &msg);

	ok(cfg == NULL, "load refuses a bad duration");
	is_str(msg,
	       "t.yml:7:16: key 'dmf.worker.heartbeat': expected a duration "
	       "(e.g. 250ms, 5s, 1m, 2h, 1d, PT1M30S or milliseconds), got "
	       "'soon'",
	       "bad duration message names FILE:LINE:COL and the key");
	free(msg);

	/* the getters on a tree that passed the load */
	cfg = load("dmf:\n"
		   "  worker:\n"
		   "    jobs: {max: 10, cache: {refresh: PT5S}}\n"
		   "    type: doveadm\n"
		   "    sources: 'A, B,,C'\n"
		   "    identity: {target: x}\n"
		   "logger:\n"
		   "  levels:\n"
		   "    io.micronaut: INFO\n",
		   NULL, NULL);
	if (cfg == NULL) {
		ok(0, "getter config loads");
		return;
	}
	is_int(cfg_get_int(cfg->root, "dmf.worker.jobs.max", 1, &v, &err), 0,
	       "get_int");
	is_int(v, 10, "get_int value");
	is_int(cfg_get_int(cfg->root, "dmf.worker.jobs.none", 7, &v, &err), 0,
	       "get_int absent");
	is_int(v, 7, "get_int default");
	v = -1;
	is_int(cfg_get_int(cfg->root, "dmf.worker.type", 7, &v, &err), -EINVAL,
	       "get_int on text fails");
	is_int(v, -1, "value untouched on failure");
	is_str(err,
	       "t.yml:4:11: key 'dmf.worker.type': expected an integer, got "
	       "'doveadm'",
	       "get_int error text");
	is_int(cfg_get_int(cfg->root, "dmf.worker.jobs", 7, &v, &err), -EINVAL,
	       "get_int on a map fails");
	like(err, "expected an integer, got a map", "map error text");
	is_int(cfg_get_duration_ms(cfg->root, "dmf.worker.jobs.cache.refresh",
				   0, &v, &err),
	       0, "get_duration");
	is_int(v, 5000, "PT5S = 5000 ms");
	is_int(cfg_get_bool(cfg->root, "dmf.worker.none", true, &b, &err), 0,
	       "get_bool absent");
	ok(b, "get_bool default");
	is_int(cfg_get_bool(cfg->root, "dmf.worker.type", true, &b, &err),
	       -EINVAL, "get_bool on text fails");
	like(err, "expected a boolean", "bool error text");
	is_int(cfg_get_string(cfg->root, "dmf.worker.identity", "d", &s, &err),
	       -EINVAL, "get_string on a map fails");
	is_int(cfg_get_string(cfg->root, "logger.levels.io.micronaut", "d", &s,
			      &err),
	       0, "get_string through a key with dots");
	is_str(s, "INFO", "dotted key value");
	is_int(cfg_get_strv(cfg->root, "dmf.worker.sources", &items, &err), 0,
	       "strv of a comma scalar");
	ok(items != NULL && items[0] && strcmp(items[0], "A") == 0 &&
		   items[1] && strcmp(items[1], "B") == 0 && items[2] &&
		   strcmp(items[2], "C") == 0 && items[3] == NULL,
	   "'A, B,,C' -> A B C");
	cfg_strv_free(&items);
	is_int(cfg_get_strv(cfg->root, "dmf.worker.nothing", &items, &err), 0,
	       "strv absent");
	ok(items != NULL && items[0] == NULL, "strv absent is empty");
	cfg_strv_free(&items);
	ok(cfg_get(NULL, "a") == NULL, "cfg_get(NULL) is NULL");
	ok(cfg_child(cfg->root, "dmf") == cfg_get(cfg->root, "dmf"),
	   "cfg_child");
	{
		char buf[128];

		is_str(cfg_path(cfg_get(cfg->root, "dmf.worker.jobs.max"), buf,
				sizeof(buf)),
		       "dmf.worker.jobs.max", "cfg_path");
	}
	config_free(&cfg);
}

static const struct {
	const char *text;
	int value; /* -1 invalid */
} bools[] = {
	{ "true", 1 },	{ "TRUE", 1 }, { "yes", 1 }, { "On", 1 },
	{ "false", 0 }, { "No", 0 },   { "off", 0 }, { "OFF", 0 },
	{ "1", -1 },	{ "", -1 },    { "y", -1 },  { "tru", -1 },
};

static void test_bools(void)
{
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		bool b = false;
		int ret = cfg_parse_bool(bools[i].text, &b);

		if (bools[i].value < 0)
			is_int(ret, -EINVAL, "bool '%s' refused",
			       bools[i].text);
		else
			ok(ret == 0 && (int)b == bools[i].value, "bool '%s'",
			   bools[i].text);
	}
}

/* ------------------------------------------------------------- errors --- */

static const struct {
	const char *yaml;
	const char *error; /* exact text */
} errors[] = {
	{ "dmf:\n  worker:\n    jobs:\n      max: ten\n",
	  "t.yml:4:12: key 'dmf.worker.jobs.max': expected an integer, got "
	  "'ten'" },
	{ "dmf:\n  doveadm:\n    source:\n      POD_1:\n        analyze-log: "
	  "maybe\n",
	  "t.yml:5:22: key 'dmf.doveadm.source.POD_1.analyze-log': expected a "
	  "boolean (true/false/yes/no/on/off), got 'maybe'" },
	{ "dmf:\n  doveadm:\n    sources:\n      x:\n        retry:\n"
	  "          sleep: 5y\n",
	  "t.yml:6:18: key 'dmf.doveadm.source.x.retry.sleep': expected a "
	  "duration (e.g. 250ms, 5s, 1m, 2h, 1d, PT1M30S or milliseconds), got "
	  "'5y'" },
	{ "dmf:\n  worker:\n    state:\n      initial: RUNNING\n",
	  "t.yml:4:16: key 'dmf.worker.state.initial': expected one of "
	  "STARTED|STOPPED, got 'RUNNING'" },
	{ "dmf:\n  worker:\n    identity: cloud\n",
	  "t.yml:3:15: key 'dmf.worker.identity': expected a map, got "
	  "'cloud'" },
	{ "http:\n  admin:\n    username:\n      a: b\n",
	  "t.yml:3:5: key 'http.admin.username': expected a string, got a "
	  "map" },
	{ "dmf:\n  worker:\n    crypto:\n      storageKeys:\n        k:\n"
	  "          secret: [x]\n",
	  "t.yml:6:11: key 'dmf.worker.crypto.storageKeys.k.secret': expected "
	  "a string, got a list" },
	{ "micronaut:\n  ssl:\n    port: [1]\n",
	  "t.yml:3:5: key 'micronaut.ssl.port': expected an integer, got a "
	  "list" },
	{ "dmf:\n  doveadm:\n    source:\n      d:\n        director:\n"
	  "          kick:\n            wait-accept-codes: [65, x]\n",
	  "t.yml:7:37: key "
	  "'dmf.doveadm.source.d.director.kick.wait-accept-codes[1]': expected "
	  "an integer, got 'x'" },
	{ "dmf:\n  doveadm:\n    source:\n      d:\n        command:\n"
	  "          sync:\n            pre:\n              name: [a]\n",
	  "t.yml:8:15: key 'dmf.doveadm.source.d.command.sync.pre.name': "
	  "expected a string, got a list" },
	{ "dmf:\n  doveadm:\n    source:\n      d:\n        command:\n"
	  "          sync:\n            pre: echo\n",
	  "t.yml:7:18: key 'dmf.doveadm.source.d.command.sync.pre': expected a "
	  "command definition (a map with name, options, flags, arguments, "
	  "sub-command), got 'echo'" },
	/* YAML syntax errors */
	{ "dmf:\n  worker:\n    jobs: [1, 2\n    type: x\n",
	  "t.yml:4:9: did not find expected ',' or ']' (while parsing a flow "
	  "sequence at line 3, in key 'dmf.worker.jobs')" },
	{ "dmf:\n  worker:\n    type: a\n   bad: b\n",
	  "t.yml:4:4: did not find expected key (while parsing a block mapping "
	  "at line 2, in key 'dmf')" },
	{ "dmf:\n  worker: x: y\n",
	  "t.yml:2:12: mapping values are not allowed in this context (while "
	  "parsing key 'dmf')" },
	{ "a: \"unterminated\n",
	  "t.yml:2:1: found unexpected end of stream (while scanning a quoted "
	  "scalar at line 1, in key 'a')" },
	{ "a:\n\tb: 1\n",
	  "t.yml:2:1: found character that cannot start any token (while "
	  "scanning for the next token at line 2, in key 'a')" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		char *err = NULL;
		struct config *cfg = load(errors[i].yaml, NULL, &err);

		ok(cfg == NULL, "error case %zu refused", i);
		is_str(err, errors[i].error, "error case %zu message", i);
		free(err);
		config_free(&cfg);
	}
	{
		/* a secret is never echoed, even in a type error */
		char *err = NULL;
		struct config *cfg =
			load("http:\n  admin:\n    password: {x: hunter2}\n",
			     NULL, &err);

		ok(cfg == NULL && err != NULL && strstr(err, "hunter2") == NULL,
		   "secret not echoed in a type error");
		free(err);
		config_free(&cfg);
	}
	{
		char *err = NULL;
		struct config *cfg = NULL;
		int ret = config_load("/nonexistent/dmf.yml", NULL, &cfg, &err);

		is_int(ret, -ENOENT, "missing file: -ENOENT");
		is_str(err, "/nonexistent/dmf.yml: No such file or directory",
		       "missing file message");
		free(err);
	}
}

/* ----------------------------------------------------------- warnings --- */

static const struct {
	const char *yaml;
	const char *warning; /* NULL: none */
} warnings[] = {
	{ "dmf:\n  worker:\n    jobs:\n      maxx: 3\n",
	  "t.yml:4:7: unknown key 'dmf.worker.jobs.maxx' (did you mean "
	  "'dmf.worker.jobs.max'?)" },
	{ "dmf:\n  worker:\n    doveadm:\n      path: /x\n",
	  "t.yml:3:5: unknown key 'dmf.worker.doveadm' (did you mean "
	  "'dmf.doveadm'?)" },
	{ "dmf:\n  doveadm:\n    source:\n      POD_1:\n        analyse-log: "
	  "true\n",
	  "t.yml:5:9: unknown key 'dmf.doveadm.source.POD_1.analyse-log' (did "
	  "you mean 'dmf.doveadm.source.POD_1.analyze-log'?)" },
	{ "micronaut:\n  executors:\n    worker-executor:\n"
	  "      number-of-thread: 4\n",
	  "t.yml:4:7: unknown key "
	  "'micronaut.executors.worker-executor.number-of-thread' (did you "
	  "mean "
	  "'micronaut.executors.worker-executor.number-of-threads'?)" },
	{ "endpoints:\n  helth:\n    enabled: true\n",
	  "t.yml:2:3: unknown key 'endpoints.helth' (did you mean "
	  "'endpoints.health'?)" },
	{ "dmf:\n  worker:\n    completely-unrelated-thing: 1\n",
	  "t.yml:3:5: unknown key 'dmf.worker.completely-unrelated-thing'" },
	{ "dmf:\n  doveadm:\n    source:\n      d:\n        command:\n"
	  "          cutover:\n            post:\n              name: echo\n"
	  "              argumnets: [a]\n",
	  "t.yml:9:15: unknown key "
	  "'dmf.doveadm.source.d.command.cutover.post.argumnets' (did you mean "
	  "'arguments'?)" },
	/* accepted spellings: no warning */
	{ "dmf:\n  doveadm:\n    source:\n      d:\n        copy-imaps-inbox: "
	  "true\n        failure-flags:\n          sync:\n"
	  "            count-remote: true\n",
	  NULL },
	{ "datasources:\n  default:\n    maximumPoolSize: 5\n"
	  "    driver-class-name: x\n",
	  NULL },
	{ "dmf:\n  worker:\n    type: hello\n  hello:\n    anything: [1]\n",
	  NULL },
	{ "micronaut:\n  http:\n    services:\n      doveadm:\n        ssl:\n"
	  "          enabled: true\n          protocols: [TLSv1.3]\n"
	  "          trust-store: {path: /x, password: p, type: PKCS12}\n",
	  NULL },
	{ "dmf:\n  doveadm:\n    source:\n      d:\n        imapc:\n"
	  "          session-properties:\n            mail.imap.timeout: 5\n"
	  "        command:\n          inject:\n            a: b\n"
	  "        retry:\n          code-max: {75: 4}\n"
	  "          code-sleep: {75: 15000}\n",
	  NULL },
};

static void test_warnings(void)
{
	for (size_t i = 0; i < sizeof(warnings) / sizeof(warnings[0]); i++) {
		struct config *cfg = load(warnings[i].yaml, NULL, NULL);
		char *err = NULL;

		if (cfg == NULL) {
			ok(0, "warning case %zu loads", i);
			continue;
		}
		if (warnings[i].warning == NULL) {
			is_int(cfg->n_warnings, 0, "warning case %zu: none", i);
			for (size_t k = 0; k < cfg->n_warnings; k++)
				diag("%s", cfg->warnings[k]);
			is_int(config_check_strict(cfg, &err), 0,
			       "strict passes case %zu", i);
		} else {
			is_int(cfg->n_warnings, 1, "warning case %zu: one", i);
			is_str(cfg->n_warnings > 0 ? cfg->warnings[0] : NULL,
			       warnings[i].warning, "warning case %zu text", i);
			is_int(config_check_strict(cfg, &err), -EINVAL,
			       "strict fails case %zu", i);
			is_str(err, warnings[i].warning,
			       "strict error text case %zu", i);
		}
		free(err);
		config_free(&cfg);
	}
}

/* -------------------------------------------------------------- print --- */

static void test_print(void)
{
	static const char yaml[] =
		"http:\n  admin:\n    username: admin\n    password: hunter2\n"
		"datasources:\n  default:\n    password:\n"
		"dmf:\n  worker:\n    crypto:\n      storageKeys:\n"
		"        key1: {file: /k, secret: s3cr3t}\n"
		"    identity: {target: 'null', memberid: ''}\n"
		"  doveadm:\n    source:\n      default:\n"
		"        imapc: {master-password: mpw}\n"
		"        command:\n          inject: {db_password: ipw}\n"
		"micronaut:\n  http:\n    services:\n      doveadm:\n"
		"        ssl: {}\n";
	char *env[] = { (char *)"DMF_DOVEADM_SOURCE_DEFAULT_HTTP_PASSWORD=epw",
			NULL };
	struct config *cfg = load(yaml, env, NULL), *again;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (cfg == NULL) {
		ok(0, "print config loads");
		return;
	}
	f = open_memstream(&text, &len);
	is_int(config_print(cfg, f), 0, "config_print returns 0");
	fclose(f);
	ok(text != NULL && strstr(text, "hunter2") == NULL &&
		   strstr(text, "s3cr3t") == NULL &&
		   strstr(text, "mpw") == NULL && strstr(text, "ipw") == NULL &&
		   strstr(text, "epw") == NULL,
	   "no secret in the printout");
	like(text, "    password: <hidden>\n", "password printed <hidden>");
	like(text, "        secret: <hidden>\n", "storage secret <hidden>");
	like(text, "    username: admin\n", "plain values printed");
	like(text, "ssl: {}", "empty map printed {}");
	again = load(text, NULL, NULL);
	ok(again != NULL, "the printout loads again");
	is_str(str(again, "dmf.worker.identity.target"), "null",
	       "quoted 'null' survives the round trip");
	is_str(str(again, "dmf.worker.identity.memberid"), "",
	       "empty string survives the round trip");
	ok(again != NULL &&
		   cfg_get(again->root, "datasources.default.password") &&
		   cfg_get(again->root, "datasources.default.password")->kind ==
			   CFG_NULL,
	   "null secret stays null");
	ok(cfg_is_secret(cfg_get(cfg->root, "dmf.doveadm.source.default."
					    "imapc.master-password")),
	   "cfg_is_secret on a schema secret");
	ok(!cfg_is_secret(cfg_get(cfg->root, "http.admin.username")),
	   "cfg_is_secret false on a user name");
	{
		/* an operator's label that looks like a secret name (a source
		 * named HKEY) does not make the block under it secret; a
		 * secret-named key still is */
		struct config *lab = load(
			"dmf:\n  doveadm:\n    source:\n      HKEY:\n"
			"        count: {remote-protocol: http}\n"
			"        http: {type: cluster, api-key: k3y-s3cr3t}\n",
			NULL, NULL);
		ok(lab != NULL &&
			   !cfg_is_secret(cfg_get(
				   lab->root, "dmf.doveadm.source.HKEY.count."
					      "remote-protocol")),
		   "a source named HKEY: its values are not secrets");
		ok(lab != NULL &&
			   cfg_is_secret(cfg_get(lab->root,
						 "dmf.doveadm.source.HKEY.http."
						 "api-key")),
		   "...but its api-key is");
		config_free(&lab);
	}
	if (text != NULL && getenv("TEST_CONFIG_SHOW") != NULL)
		diag("%s", text);
	free(text);
	config_free(&again);
	config_free(&cfg);
}

/* ------------------------------------------------------------- schema --- */

static void test_schema(void)
{
	size_t n = 0;
	const struct cfg_schema_entry *e = config_schema_entries(&n);
	const struct cfg_schema_entry *l;
	int dup = 0;

	ok(n > 150, "schema has %zu entries", n);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++)
			dup += strcmp(e[i].pattern, e[j].pattern) == 0;
		if (e[i].type == CFG_T_ALIAS &&
		    config_schema_lookup(e[i].def) == NULL &&
		    strchr(e[i].def + strlen(e[i].def) - 1, '*') == NULL) {
			/* alias targets that are maps are INNER, fine */
		}
	}
	is_int(dup, 0, "no pattern listed twice");
	l = config_schema_lookup("dmf.worker.jobs.max");
	ok(l != NULL && l->type == CFG_T_INT, "lookup jobs.max: int");
	l = config_schema_lookup("dmf.doveadm.sources.X.retry.code-max.75");
	ok(l != NULL && l->type == CFG_T_INT, "lookup through sources alias");
	l = config_schema_lookup("dmf.doveadm.source.X.command.sync.pre.name");
	ok(l != NULL && l->type == CFG_T_COMMAND, "inside a command");
	ok(config_schema_lookup("dmf.worker.nope") == NULL, "unknown key");
	ok(config_schema_is_secret("datasources.default.password"),
	   "is_secret datasource password");
	ok(config_schema_is_secret("dmf.worker.crypto.storageKeys.k.secret"),
	   "is_secret storage key secret");
	ok(config_schema_is_secret("dmf.doveadm.source.x.command.inject."
				   "my_password"),
	   "is_secret by name");
	ok(!config_schema_is_secret("dmf.worker.jobs.max"), "not secret");
	is_int(config_schema_distance("maxx", "max"), 1, "distance 1");
	is_int(config_schema_distance("analyse", "analyze"), 1, "distance sub");
	is_int(config_schema_distance("ab", "ba"), 1, "transposition is 1");
	is_str(config_schema_type_name(CFG_T_DURATION), "duration",
	       "type name");
}

/* ------------------------------------------------------- shipped files --- */

static void test_files(void)
{
	static const char *const files[] = {
		"conf/dmf-worker.yml",
		"tests/config-fixtures/spec-examples.yml",
	};
	const char *top = getenv("top_srcdir");

	if (top == NULL || *top == '\0')
		top = ".";
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[4096], *err = NULL;
		struct config *cfg = NULL;
		int ret;

		snprintf(path, sizeof(path), "%s/%s", top, files[i]);
		ret = config_load(path, NULL, &cfg, &err);
		is_int(ret, 0, "%s loads", files[i]);
		if (ret < 0) {
			diag("%s", err);
			free(err);
			continue;
		}
		is_int(cfg->n_warnings, 0, "%s: no warnings", files[i]);
		for (size_t k = 0; k < cfg->n_warnings; k++)
			diag("%s", cfg->warnings[k]);
		is_int(config_check_strict(cfg, &err), 0, "%s: strict ok",
		       files[i]);
		free(err);
		config_free(&cfg);
	}
}

/* docs/configuration.md names every key of the schema. */
static void test_docs(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *text = NULL;
	size_t n = 0, len = 0, missing = 0;
	const struct cfg_schema_entry *e = config_schema_entries(&n);
	FILE *f;

	if (top == NULL || *top == '\0')
		top = ".";
	snprintf(path, sizeof(path), "%s/docs/configuration.md", top);
	f = fopen(path, "r");
	ok(f != NULL, "docs/configuration.md exists");
	if (f == NULL)
		return;
	text = malloc(1 << 20);
	if (text != NULL)
		len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	if (text == NULL)
		return;
	text[len] = '\0';
	for (size_t i = 0; i < n; i++) {
		char want[300];

		snprintf(want, sizeof(want), "| `%s` |", e[i].pattern);
		if (strstr(text, want) == NULL) {
			diag("not in docs/configuration.md: %s", e[i].pattern);
			missing++;
		}
	}
	is_int(missing, 0,
	       "every schema key is documented (regenerate the "
	       "table with tests/unit/test_config --schema-md)");
	free(text);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--schema-md") == 0) {
		config_schema_print_markdown(stdout);
		return 0;
	}
	plan_lazy();
	test_merge();
	test_yaml_features();
	test_env();
	test_durations();
	test_bools();
	test_getters();
	test_errors();
	test_warnings();
	test_print();
	test_schema();
	test_files();
	test_docs();
	return done_testing();
}
