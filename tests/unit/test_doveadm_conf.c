/*
 * test_doveadm_conf.c - dmf.doveadm.source.<name> parsing: block lookup
 * and fallback, built-in defaults, every key, aliases, error positions;
 * and the `doveadm -f tab mailbox status` count parser.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "lib/config.h"
#include "doveadm_conf.h"
#include "host/host.h"

static struct config *load(const char *yaml)
{
	struct config *cfg = NULL;
	char *err = NULL;
	if (config_load_string(yaml, "test.yml", NULL, &cfg, &err) < 0) {
		diag("config_load_string: %s", err ? err : "?");
		free(err);
		return NULL;
	}
	return cfg;
}

/* The host's config table over `cfg` (what the plugin sees). */
static const struct dmf_host_config *hc_of(struct config *cfg)
{
	char *err = NULL;
	if (host_init(cfg, "doveadm", &err) < 0) {
		diag("host_init: %s", err ? err : "?");
		free(err);
		return NULL;
	}
	return host_get()->config;
}

static void check_defaults(const struct doveadm_source_conf *c,
			   const char *what)
{
	ok(c->analyze_log && !c->move_duplicates && !c->copy_imapc_inbox &&
		   !c->remove_imapc_path,
	   "%s: feature defaults", what);
	ok(!c->metacache_flush.on_success && !c->metacache_flush.on_failure &&
		   !c->metacache_clean.on_success &&
		   !c->metacache_clean.on_failure,
	   "%s: metacache defaults", what);
	ok(!c->fetch_container, "%s: fetch-container false", what);
	is_str(c->container_file, "/etc/dovecot/passwd.container",
	       "%s: container-file", what);
	ok(!c->director.enabled && !c->director.use_sourcehost &&
		   !c->director.move_user && !c->director.kick.sync &&
		   !c->director.kick.cutover && !c->director.kick.wait,
	   "%s: director defaults", what);
	is_int(c->director.kick.timeout_ms, 60000, "%s: kick timeout 60s",
	       what);
	ok(c->count.pre && c->count.sync && c->count.post && c->count.remote,
	   "%s: counts on", what);
	is_int(c->count.remote_protocol, DOVEADM_REMOTE_IMAPC,
	       "%s: remote-protocol imapc", what);
	ok(c->count.remote_http_mailbox_mask != NULL &&
		   strcmp(c->count.remote_http_mailbox_mask[0], "INBOX") == 0 &&
		   strcmp(c->count.remote_http_mailbox_mask[1], "INBOX/*") ==
			   0 &&
		   strcmp(c->count.remote_http_mailbox_mask[2], "*") == 0 &&
		   c->count.remote_http_mailbox_mask[3] == NULL,
	   "%s: mailbox-mask default", what);
	is_int(c->retry.max, 1, "%s: retry.max 1", what);
	is_int(c->retry.sleep_ms, 5000, "%s: retry.sleep 5000", what);
	is_int(doveadm_retry_max_for(&c->retry, 134), 2, "%s: code-max 134",
	       what);
	is_int(doveadm_retry_max_for(&c->retry, 75), 4, "%s: code-max 75",
	       what);
	is_int(doveadm_retry_sleep_for(&c->retry, 75), 15000,
	       "%s: code-sleep 75", what);
	ok(!c->retry.debug_mode, "%s: debug-mode false", what);
	ok(!c->http.configured && c->http.type == DOVEADM_HTTP_DIRECTOR,
	   "%s: http unset, director type", what);
	is_int(c->doveadm.port, 24245, "%s: doveadm.port", what);
	ok(c->imapc.host == NULL && c->imapc.port == 0, "%s: imapc unset",
	   what);
	ok(c->commands[0].sync == NULL && c->commands[1].pre == NULL,
	   "%s: no commands", what);
	int any = 0;
	for (int p = 0; p < DOVEADM_N_PHASES; p++)
		for (int s = 0; s < DOVEADM_N_STEPS; s++)
			any |= c->failure_flags[p][s];
	ok(!any, "%s: no failure flags", what);
}

static void test_builtin(void)
{
	struct doveadm_source_conf *c = NULL;
	char *err = NULL;
	struct config *cfg = load("dmf:\n  worker:\n    type: doveadm\n");
	const struct dmf_host_config *hc = cfg ? hc_of(cfg) : NULL;
	if (hc == NULL) {
		ok(0, "host config table");
		return;
	}
	ok(doveadm_conf_load(hc, "POD_1", &c, &err) == 0,
	   "no dmf.doveadm at all: built-ins");
	is_str(c->source, "POD_1", "source name kept");
	ok(c->block == NULL, "no block");
	check_defaults(c, "built-in");
	is_str(c->imapc_inbox_owner, "vmail:vmail",
	       "imapc-inbox-owner default");
	is_int(c->durability, DOVEADM_DURABLE_JOB, "durability default: job");
	ok(c->sync_settings != NULL && c->sync_settings[0] != NULL &&
		   strcmp(c->sync_settings[0],
			  "imapc_features=rfc822.size fetch-headers") == 0 &&
		   strcmp(c->sync_settings[1], "mail_prefetch_count=20") == 0 &&
		   c->sync_settings[2] == NULL,
	   "sync-settings default: speed settings");
	doveadm_conf_free(&c);
	ok(c == NULL, "free clears");
	host_deinit();
	config_free(&cfg);
}

static const char full_yaml[] =
	"dmf:\n"
	"  doveadm:\n"
	"    path: /usr/bin/doveadm\n"
	"    source:\n"
	"      default:\n"
	"        analyze-log: false\n"
	"        retry:\n"
	"          max: 7\n"
	"      POD_1:\n"
	"        move-duplicates: true\n"
	"        copy-imaps-inbox: true\n"
	"        remove-imaps-path: true\n"
	"        flush-metacache: true\n"
	"        metacache:\n"
	"          clean:\n"
	"            on-failure: true\n"
	"        fetch-container: true\n"
	"        container-file: /tmp/passwd.container\n"
	"        imapc-inbox-owner: dmfmail:dmfmail\n"
	"        sync-settings: [\"mail_prefetch_count=50\"]\n"
	"        director:\n"
	"          enabled: true\n"
	"          use-sourcehost: true\n"
	"          move-user: true\n"
	"          kick:\n"
	"            sync: true\n"
	"            cutover: true\n"
	"            wait: true\n"
	"            timeout: 2m\n"
	"            wait-accept-codes: [65, -1]\n"
	"          flush-metacache:\n"
	"            cutover: true\n"
	"        count:\n"
	"          pre: false\n"
	"          remote-protocol: http\n"
	"          remote-http:\n"
	"            mailbox-mask: INBOX,Sent\n"
	"            socket-path: /run/dovecot/doveadm-server\n"
	"          remote-command:\n"
	"            name: doveadm\n"
	"            sub-command:\n"
	"              name: mailbox status\n"
	"        retry:\n"
	"          max: 3\n"
	"          sleep: 2s\n"
	"          code-max:\n"
	"            75: 5\n"
	"          code-sleep:\n"
	"            75: 1000\n"
	"            134: 1m\n"
	"          debug-mode: true\n"
	"        http:\n"
	"          type: director\n"
	"          url: https://doveadmhttpapi/doveadm/v1\n"
	"          username: admin\n"
	"          password: verysecretpassword\n"
	"          director-tag: blue\n"
	"          use-only-tagged: true\n"
	"        doveadm:\n"
	"          host: src.example\n"
	"          port: 24246\n"
	"          password: dvpw\n"
	"        imapc:\n"
	"          host: imap.example\n"
	"          port: 993\n"
	"          ssl: imaps\n"
	"          prefix: INBOX.\n"
	"          master-user: admin\n"
	"          master-password: mpw\n"
	"        command:\n"
	"          inject:\n"
	"            test: value\n"
	"            n: 5\n"
	"          sync:\n"
	"            pre:\n"
	"              name: echo\n"
	"              arguments: [pre, sync, \"%{mdb:uid}\"]\n"
	"          cutover:\n"
	"            post:\n"
	"              name: echo\n"
	"            failure:\n"
	"              name: echo\n"
	"        failure-flags:\n"
	"          pre:\n"
	"            pre-migration-command: true\n"
	"          cutover:\n"
	"            post-migration-command: true\n"
	"            count-remote: false\n"
	"            clean-metacache: true\n";

static void test_full(void)
{
	struct config *cfg = load(full_yaml);
	struct doveadm_source_conf *c = NULL;
	const struct dmf_host_config *hc;
	char *err = NULL;

	ok(cfg != NULL, "full yaml loads");
	if (cfg == NULL || (hc = hc_of(cfg)) == NULL)
		return;
	is_str(hc->key(hc->source("POD_1")), "POD_1",
	       "POD_1 has its own block");
	is_str(hc->key(hc->source("POD_2")), "default",
	       "POD_2 falls back to default");
	ok(doveadm_conf_load(hc, "POD_1", &c, &err) == 0, "POD_1 parses (%s)",
	   err ? err : "ok");
	if (c == NULL)
		return;
	is_str(c->block, "POD_1", "block name");
	ok(c->analyze_log,
	   "default's analyze-log false does not leak into POD_1");
	ok(c->move_duplicates, "move-duplicates");
	ok(c->copy_imapc_inbox && c->remove_imapc_path,
	   "copy-imaps-inbox / remove-imaps-path spellings accepted");
	ok(c->metacache_flush.on_success && !c->metacache_flush.on_failure,
	   "legacy flush-metacache true = flush on success");
	ok(c->metacache_clean.on_failure && !c->metacache_clean.on_success,
	   "metacache.clean.on-failure");
	ok(c->fetch_container, "fetch-container");
	is_str(c->container_file, "/tmp/passwd.container", "container-file");
	ok(c->director.enabled && c->director.use_sourcehost &&
		   c->director.move_user,
	   "director flags");
	ok(c->director.kick.sync && c->director.kick.cutover &&
		   c->director.kick.wait,
	   "kick flags");
	is_int(c->director.kick.timeout_ms, 120000, "kick timeout 2m");
	ok(c->director.kick.n_wait_accept_codes == 2 &&
		   c->director.kick.wait_accept_codes[0] == 65 &&
		   c->director.kick.wait_accept_codes[1] == -1,
	   "wait-accept-codes");
	ok(!c->director.flush_metacache.sync &&
		   c->director.flush_metacache.cutover,
	   "director.flush-metacache");
	ok(!c->count.pre && c->count.sync, "count.pre off, sync on");
	is_int(c->count.remote_protocol, DOVEADM_REMOTE_HTTP,
	       "remote-protocol http");
	ok(strcmp(c->count.remote_http_mailbox_mask[0], "INBOX") == 0 &&
		   strcmp(c->count.remote_http_mailbox_mask[1], "Sent") == 0 &&
		   c->count.remote_http_mailbox_mask[2] == NULL,
	   "comma-separated mailbox-mask");
	is_str(c->count.remote_http_socket_path, "/run/dovecot/doveadm-server",
	       "socket-path");
	ok(c->count.remote_command != NULL, "remote-command node kept");
	is_int(c->retry.max, 3, "retry.max");
	is_int(c->retry.sleep_ms, 2000, "retry.sleep 2s");
	is_int(doveadm_retry_max_for(&c->retry, 75), 5, "code-max 75 = 5");
	is_int(doveadm_retry_max_for(&c->retry, 134), 3,
	       "own code-max replaces the built-in map (134 -> max)");
	is_int(doveadm_retry_sleep_for(&c->retry, 75), 1000, "code-sleep 75");
	is_int(doveadm_retry_sleep_for(&c->retry, 134), 60000, "code-sleep 1m");
	is_int(doveadm_retry_sleep_for(&c->retry, 1), 2000,
	       "other code sleeps retry.sleep");
	ok(c->retry.debug_mode, "debug-mode");
	ok(c->http.configured && c->http.type == DOVEADM_HTTP_DIRECTOR,
	   "http director");
	is_str(c->http.url, "https://doveadmhttpapi/doveadm/v1", "http.url");
	is_str(c->http.username, "admin", "http.username");
	is_str(c->http.password, "verysecretpassword", "http.password");
	is_str(c->http.director_tag, "blue", "director-tag");
	ok(c->http.use_only_tagged, "use-only-tagged");
	is_str(c->doveadm.host, "src.example", "doveadm.host");
	is_int(c->doveadm.port, 24246, "doveadm.port");
	is_str(c->doveadm.password, "dvpw", "doveadm.password");
	is_str(c->imapc.host, "imap.example", "imapc.host");
	is_int(c->imapc.port, 993, "imapc.port");
	is_str(c->imapc.ssl, "imaps", "imapc.ssl");
	is_str(c->imapc.prefix, "INBOX.", "imapc.prefix");
	is_str(c->imapc.master_user, "admin", "imapc.master-user");
	is_str(c->imapc.master_password, "mpw", "imapc.master-password");
	ok(c->n_inject == 2 && strcmp(c->inject_names[0], "test") == 0 &&
		   strcmp(c->inject_values[0], "value") == 0 &&
		   strcmp(c->inject_values[1], "5") == 0,
	   "command.inject");
	ok(c->commands[DOVEADM_PHASE_SYNC].pre != NULL &&
		   c->commands[DOVEADM_PHASE_SYNC].sync == NULL &&
		   c->commands[DOVEADM_PHASE_CUTOVER].post != NULL &&
		   c->commands[DOVEADM_PHASE_CUTOVER].failure != NULL,
	   "command blocks per phase");
	ok(c->failure_flags[DOVEADM_PHASE_SYNC]
			   [DOVEADM_STEP_PRE_MIGRATION_COMMAND],
	   "failure-flags.pre -> sync phase");
	ok(c->failure_flags[DOVEADM_PHASE_CUTOVER]
			   [DOVEADM_STEP_POST_MIGRATION_COMMAND] &&
		   c->failure_flags[DOVEADM_PHASE_CUTOVER]
				   [DOVEADM_STEP_CLEAN_METACACHE] &&
		   !c->failure_flags[DOVEADM_PHASE_CUTOVER]
				    [DOVEADM_STEP_COUNT_REMOTE],
	   "failure-flags.cutover");
	ok(c->node == hc->source("POD_1"), "block node kept for inject");
	is_str(c->imapc_inbox_owner, "dmfmail:dmfmail", "imapc-inbox-owner");
	ok(c->sync_settings[0] != NULL &&
		   strcmp(c->sync_settings[0], "mail_prefetch_count=50") == 0 &&
		   c->sync_settings[1] == NULL,
	   "sync-settings replaces the default");
	doveadm_conf_free(&c);

	ok(doveadm_conf_load(hc, "POD_2", &c, &err) == 0, "POD_2 parses");
	is_str(c->block, "default", "POD_2 uses default");
	ok(!c->analyze_log, "default block's analyze-log false");
	is_int(c->retry.max, 7, "default block's retry.max");
	is_int(doveadm_retry_max_for(&c->retry, 75), 4,
	       "default block without code-max keeps the built-in map");
	doveadm_conf_free(&c);
	host_deinit();
	config_free(&cfg);
}

static void test_sources_plural(void)
{
	struct config *cfg =
		load("dmf:\n  doveadm:\n    sources:\n"
		     "      POD_9:\n        move-duplicates: true\n"
		     "        retry:\n          code-max: {}\n");
	struct doveadm_source_conf *c = NULL;
	const struct dmf_host_config *hc;
	char *err = NULL;
	if (cfg == NULL || (hc = hc_of(cfg)) == NULL) {
		ok(0, "plural yaml loads");
		return;
	}
	ok(doveadm_conf_load(hc, "POD_9", &c, &err) == 0 && c->move_duplicates,
	   "sources.<name> (plural) works");
	if (c != NULL)
		is_int(doveadm_retry_max_for(&c->retry, 134), 1,
		       "code-max: {} clears the built-in map");
	doveadm_conf_free(&c);
	ok(doveadm_conf_load(hc, "OTHER", &c, &err) == 0 && c->block == NULL &&
		   c->analyze_log,
	   "no block and no default: built-ins");
	doveadm_conf_free(&c);
	host_deinit();
	config_free(&cfg);
}

struct bad_case {
	const char *yaml_tail; /* lines below `      S:` */
	const char *want; /* substring of the error */
};

static const struct bad_case bad[] = {
	{ "        analyze-log: maybe\n", "test.yml:5:" },
	{ "        analyze-log: maybe\n", "analyze-log" },
	{ "        retry:\n          max: -1\n", "retry.max" },
	{ "        retry:\n          max: lots\n", "retry.max" },
	{ "        retry:\n          code-max:\n            abc: 1\n",
	  "exit code" },
	{ "        retry:\n          code-max:\n            75: x\n",
	  "test.yml:7:" },
	{ "        retry:\n          code-sleep:\n            75: soon\n",
	  "duration" },
	{ "        count:\n          remote-protocol: pop3\n",
	  "imapc, doveadm or http" },
	{ "        durability: fsync\n", "must be job or dovecot" },
	{ "        http:\n          type: mesh\n", "director or cluster" },
	{ "        http:\n          type: cluster\n        director:\n"
	  "          move-user: true\n",
	  "director.move-user': needs http.type director" },
	{ "        imapc:\n          ssl: maybe\n", "no, imaps or starttls" },
	{ "        imapc:\n          port: 70000\n", "imapc.port" },
	{ "        failure-flags:\n          cutover:\n            nope: "
	  "true\n",
	  "unknown step" },
	{ "        failure-flags:\n          later:\n            count-remote: "
	  "true\n",
	  "unknown phase" },
	{ "        director:\n          kick:\n            wait-accept-codes: "
	  "[x]\n",
	  "exit codes" },
	{ "        command:\n          sync:\n            pre: echo\n",
	  "command definition" },
	{ "        sync-settings: [\"novalue\"]\n", "name=value" },
	{ "        sync-settings: [\"imapc_password=x\"]\n", "passwords" },
};

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char yaml[1024];
		struct config *cfg;
		struct doveadm_source_conf *c = NULL;
		char *err = NULL;
		char *lerr = NULL;

		snprintf(yaml, sizeof(yaml),
			 "dmf:\n  doveadm:\n    source:\n      S:\n%s",
			 bad[i].yaml_tail);
		/* the schema may already refuse the type at load */
		if (config_load_string(yaml, "test.yml", NULL, &cfg, &lerr) <
		    0) {
			like(lerr, "test.yml:",
			     "bad %zu refused at load with a "
			     "position: %s",
			     i, lerr ? lerr : "");
			free(lerr);
			continue;
		}
		const struct dmf_host_config *hc = hc_of(cfg);
		int r = hc != NULL ? doveadm_conf_load(hc, "S", &c, &err) :
				     -EFAULT;
		ok(r == -EINVAL && c == NULL, "bad %zu: -EINVAL", i);
		like(err, bad[i].want, "bad %zu: error names %s (%s)", i,
		     bad[i].want, err ? err : "");
		like(err, "dmf.doveadm.source.S", "bad %zu: full key in error",
		     i);
		free(err);
		host_deinit();
		config_free(&cfg);
	}
}

static void test_phase(void)
{
	enum doveadm_phase p;
	ok(doveadm_phase_parse("sync", &p) == 0 && p == DOVEADM_PHASE_SYNC,
	   "sync");
	ok(doveadm_phase_parse("PRE-SYNC", &p) == 0 && p == DOVEADM_PHASE_SYNC,
	   "pre-sync");
	ok(doveadm_phase_parse("cutover", &p) == 0 &&
		   p == DOVEADM_PHASE_CUTOVER,
	   "cutover");
	ok(doveadm_phase_parse("other", &p) == -EINVAL, "unknown phase");
	is_str(doveadm_step_name(DOVEADM_STEP_COUNT_REMOTE), "count-remote",
	       "step name");
	ok(doveadm_step_name(DOVEADM_N_STEPS) == NULL, "step out of range");
}

struct count_case {
	const char *name;
	const char *out;
	int exit_code;
	int ret;
	unsigned long long messages, vsize;
};

static const struct count_case counts[] = {
	{ "several mailboxes (real 2.3.19 output)",
	  "mailbox\tmessages\tvsize\n"
	  "\xc3\x9cn\xc3\xaf\x63\xc3\xb8\x64\xc3\xa9\t0\t0\n"
	  "Sent Items\t12\t941226\n"
	  "Archive/2024\t20\t887737\n"
	  "INBOX\t98\t3937187\n",
	  0, 0, 130, 5766150 },
	{ "one mailbox, no mailbox column", "messages\tvsize\n5\t1000\n", 0, 0,
	  5, 1000 },
	{ "tab in a mailbox name", "mailbox\tmessages\tvsize\nA\tB\t3\t30\n", 0,
	  0, 3, 30 },
	{ "exit 68 with rows", "mailbox\tmessages\tvsize\nINBOX\t4\t40\n", 68,
	  0, 4, 40 },
	{ "exit 68 without rows", "mailbox\tmessages\tvsize\n", 68, -EINVAL, 0,
	  0 },
	{ "exit 75", "", 75, -EINVAL, 0, 0 },
	{ "empty output exit 0", "", 0, 0, 0, 0 },
	{ "no header", "INBOX 4 40\n", 0, -EINVAL, 0, 0 },
	{ "noise and bad rows skipped",
	  "doveadm(u): Warning: x\nmailbox\tmessages\tvsize\r\nINBOX\t2\t20\r\n"
	  "Bad\tx\t1\n\n",
	  0, 0, 2, 20 },
	{ "columns in another order", "vsize\tmessages\n100\t1\n", 0, 0, 1,
	  100 },
};

static void test_counts(void)
{
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		const struct count_case *c = &counts[i];
		struct doveadm_count_parser p;
		unsigned long long m = 777, v = 777;
		const char *err = NULL, *s = c->out;

		doveadm_count_init(&p);
		while (*s != '\0') {
			const char *nl = strchr(s, '\n');
			size_t len = nl ? (size_t)(nl - s + 1) : strlen(s);
			doveadm_count_feed_line(&p, s, len);
			s += len;
		}
		int r = doveadm_count_finish(&p, c->exit_code, &m, &v, &err);
		is_int(r, c->ret, "count %s: result (%s)", c->name,
		       err ? err : "ok");
		if (c->ret == 0) {
			is_int(m, c->messages, "count %s: messages", c->name);
			is_int(v, c->vsize, "count %s: vsize", c->name);
		} else {
			ok(m == 777 && v == 777, "count %s: outputs untouched",
			   c->name);
		}
	}
}

int main(void)
{
	plan_lazy();
	test_builtin();
	test_full();
	test_sources_plural();
	test_bad();
	test_phase();
	test_counts();
	return done_testing();
}
