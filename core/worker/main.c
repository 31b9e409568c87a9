/*
 * main.c - dmf-worker: the DMF Worker daemon.
 *
 * Loads dmf-worker.yml (plus environment overrides), loads the job-worker
 * plugin named by dmf.worker.type, and runs the dispatcher until stopped.
 */
#include "dmf-build.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "db/db.h"
#include "exec/child_env.h"
#include "exec/exec.h"
#include "lib/config.h"
#include "lib/fail_log.h"
#include "worker/dispatcher.h"
#include "worker/executor.h"
#include "metrics/metrics_worker.h"
#include "db/db_worker.h"
#include "host/host.h"
#include "host/host_db.h"
#include "lib/log.h"
#include "host/plugin_loader.h"
#include "http/http_health.h"
#include "http/http_server.h"
#include "http/http_service.h"
#include "worker/poller.h"
#include "worker/reload.h"
#include "worker/sdnotify.h"
#include "worker/signals.h"
#include "worker/state.h"
#include "lib/util.h"

extern char **environ;

#define DEFAULT_CONFIG DMF_CONFDIR "/dmf-worker.yml"

struct settings {
	const char *type;
	const char *plugin_dir;
	const char *poller_type;
	const char *state_type;
	enum executor_type executor_type;
	unsigned executor_threads;
	long long jobs_max;
	unsigned termination_ms;
	struct reload_params reload; /* SIGHUP */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dmf-worker [OPTION]...\n"
		"The DMF Worker: runs mailbox migration jobs.\n\n"
		"  -c, --config FILE    configuration file (default %s,\n"
		"                       or $DMF_WORKER_CONFIG)\n"
		"      --check-config   validate the configuration and exit\n"
		"      --strict         with --check-config: unknown keys are "
		"errors\n"
		"      --print-config   print the effective configuration "
		"(secrets hidden)\n"
		"      --log-level L    debug, info, warn or error\n"
		"  -V, --version        print the version and exit\n"
		"  -h, --help           this help\n",
		DEFAULT_CONFIG);
}

static void version(void)
{
	printf("dmf-worker %s (%s, branch %s, commit %s)\n"
	       "plugin ABI %d.%d\n",
	       PACKAGE_VERSION, DMF_GIT_DESCRIBE, DMF_GIT_BRANCH,
	       DMF_GIT_COMMIT, DMF_ABI_MAJOR, DMF_ABI_MINOR);
}

/* Read and check the settings main() itself needs. */
static int read_settings(const struct config *cfg, struct settings *s,
			 char **error_r)
{
	const char *err, *exec_type;
	long long threads, term_ms;

	if (cfg_get_string(cfg->root, "dmf.worker.type", "doveadm", &s->type,
			   &err) < 0 ||
	    cfg_get_string(cfg->root, "dmf.worker.plugin-dir", PLUGINDIR,
			   &s->plugin_dir, &err) < 0 ||
	    cfg_get_string(cfg->root, "dmf.worker.poller.type", "database",
			   &s->poller_type, &err) < 0 ||
	    cfg_get_string(cfg->root, "dmf.worker.state.type", "database",
			   &s->state_type, &err) < 0 ||
	    cfg_get_string(cfg->root,
			   "micronaut.executors.worker-executor.type", "cached",
			   &exec_type, &err) < 0 ||
	    cfg_get_int(cfg->root,
			"micronaut.executors.worker-executor.number-of-threads",
			100, &threads, &err) < 0 ||
	    cfg_get_int(cfg->root, "dmf.worker.jobs.max", 10, &s->jobs_max,
			&err) < 0 ||
	    cfg_get_duration_ms(cfg->root, "dmf.worker.termination.timeout",
				30000, &term_ms, &err) < 0) {
		*error_r = xasprintf("%s", err);
		return -EINVAL;
	}
	if (!plugin_type_valid(s->type))
		return cfg_key_error(cfg, "dmf.worker.type",
				     "must match ^[a-z0-9_]{1,32}$", error_r);
	if (poller_find(s->poller_type) == NULL)
		return cfg_key_error(
			cfg, "dmf.worker.poller.type",
			"unknown poller type (database or simulator)", error_r);
	if (state_find(s->state_type) == NULL)
		return cfg_key_error(cfg, "dmf.worker.state.type",
				     "unknown state type (database or config)",
				     error_r);
	if (executor_parse_type(exec_type, &s->executor_type) < 0)
		return cfg_key_error(cfg,
				     "micronaut.executors.worker-executor.type",
				     "expected fixed or cached", error_r);
	if (threads < 1 || threads > 100000)
		return cfg_key_error(
			cfg,
			"micronaut.executors.worker-executor.number-of-threads",
			"must be 1 to 100000", error_r);
	if (s->jobs_max < 1 || s->jobs_max > 100000)
		return cfg_key_error(cfg, "dmf.worker.jobs.max",
				     "must be 1 to 100000", error_r);
	if (term_ms < 0 || term_ms > 24LL * 3600 * 1000)
		return cfg_key_error(cfg, "dmf.worker.termination.timeout",
				     "must be 0 to 24 hours", error_r);
	s->executor_threads = (unsigned)threads;
	s->termination_ms = (unsigned)term_ms;
	return 0;
}

/* Check what the poller and state read by creating and destroying them. */
static int check_components(const struct config *cfg, const struct settings *s,
			    char **error_r)
{
	const struct state_ops *sops = state_find(s->state_type);
	const struct poller_ops *pops = poller_find(s->poller_type);
	struct state *state = NULL;
	int ret;

	/* The database poller and state connect on create: only the
	 * configuration-only ones are instantiated here. */
	if (strcmp(s->state_type, "config") == 0) {
		ret = sops->create(cfg, &state, error_r);
		if (ret < 0)
			return ret;
		sops->destroy(&state);
	}
	if (strcmp(s->state_type, "database") == 0) {
		bool started;
		unsigned max;

		ret = state_read_file(cfg, &started, &max, error_r);
		if (ret < 0)
			return ret;
	}
	if (strcmp(s->poller_type, "database") == 0) {
		ret = poller_database_check(cfg, error_r);
		if (ret < 0)
			return ret;
	}
	if (strcmp(s->poller_type, "database") == 0 ||
	    strcmp(s->state_type, "database") == 0) {
		struct db_options o;

		/* the datasource as the start reads it (no connection) */
		ret = db_options_from_config(cfg, &o, error_r);
		if (ret < 0)
			return ret;
		db_options_clear(&o);
	}
	ret = child_env_check(cfg, error_r);
	if (ret < 0)
		return ret;
	ret = http_server_check(cfg, error_r);
	if (ret < 0)
		return ret;
	if (strcmp(s->poller_type, "simulator") == 0) {
		struct poller *poller = NULL;

		ret = pops->create(cfg, &poller, error_r);
		if (ret < 0)
			return ret;
		pops->destroy(&poller);
	}
	return 0;
}

/* Wait up to ms for a stop signal: true when one came. */
/* Wait ms for SIGTERM/SIGINT (true); a SIGHUP is only logged here.  Keeps
 * the systemd watchdog fed meanwhile. */
static bool wait_for_stop(int sigfd, unsigned ms)
{
	uint64_t end = now_monotonic_ms() + ms;
	struct signalfd_siginfo si;

	for (;;) {
		struct pollfd pfd = { .fd = sigfd, .events = POLLIN };
		uint64_t now = now_monotonic_ms(), until = end;

		sd_watchdog_tick(now);
		if (now >= end)
			return false;
		if (sd_watchdog_due_ms() < until)
			until = sd_watchdog_due_ms() > now ?
					sd_watchdog_due_ms() :
					now;
		if (poll(&pfd, 1, (int)(until - now)) <= 0)
			continue;
		while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGHUP)
				return true;
			log_info(
				"SIGHUP while waiting for the database: "
				"ignored (send it again once the worker runs)");
		}
	}
}

/*
 * Create the state and the poller (and take the database context for the
 * plugins' db table).  While the database is unreachable (-ENOTCONN) this
 * retries with a backoff of 1 s doubling to 30 s, logging once a minute;
 * /health answers DOWN meanwhile.  0, 1 when a stop signal came while
 * waiting, or a negative errno with *error_r.
 */
static int connect_components(const struct config *cfg,
			      const struct settings *s, int sigfd,
			      struct state **state_r, struct poller **poller_r,
			      struct db_worker **dbw_r, char **error_r)
{
	const struct poller_ops *pops = poller_find(s->poller_type);
	const struct state_ops *sops = state_find(s->state_type);
	bool need_db = strcmp(s->poller_type, "database") == 0 ||
		       strcmp(s->state_type, "database") == 0;
	struct fail_log fails = { 0 };
	unsigned backoff_ms = 1000;
	int ret;

	for (;;) {
		char *error = NULL;

		ret = sops->create(cfg, state_r, &error);
		if (ret == 0)
			ret = pops->create(cfg, poller_r, &error);
		/* the plugins' db table reads on the pool of the database
		 * poller/state (already open: this takes a reference) */
		if (ret == 0 && need_db) {
			ret = db_worker_get(cfg, dbw_r, &error);
			if (ret == 0) {
				host_db_set_pool((*dbw_r)->pool);
				metrics_worker_add_db_pool((*dbw_r)->pool);
			}
		}
		if (ret == 0) {
			unsigned failures;
			unsigned long long ms;

			if (fail_log_ended(&fails, now_monotonic_ms(),
					   &failures, &ms))
				log_info("the Migration Database answers after "
					 "%u attempt(s) in %llu s: starting",
					 failures + 1, ms / 1000);
		}
		if (ret != -ENOTCONN) {
			*error_r = error;
			return ret;
		}
		if (*poller_r != NULL)
			pops->destroy(poller_r);
		if (*state_r != NULL)
			sops->destroy(state_r);
		if (fail_log_due(&fails, now_monotonic_ms()))
			log_error("the Migration Database is unreachable: %s; "
				  "retrying (logged once a minute; /health "
				  "is DOWN meanwhile)",
				  error != NULL ? error : dmf_strerror(ret));
		free(error);
		if (wait_for_stop(sigfd, jitter_ms(backoff_ms, 10))) {
			log_info("stopped before the database answered");
			return 1;
		}
		backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
	}
}

static int run(const struct config *cfg, const struct settings *s)
{
	const struct poller_ops *pops = poller_find(s->poller_type);
	const struct state_ops *sops = state_find(s->state_type);
	struct dispatcher_params dp = { 0 };
	struct plugin *plugin = NULL;
	struct executor *ex = NULL;
	struct poller *poller = NULL;
	struct state *state = NULL;
	struct db_worker *dbw = NULL;
	struct http_service *http = NULL;
	const char *gate;
	char *error = NULL;
	uint64_t watchdog_ms;
	int ret, sigfd;

	sigfd = signals_setup();
	if (sigfd < 0) {
		log_error("cannot set up signal handling: %s",
			  dmf_strerror(sigfd));
		return 1;
	}
	/* before the plugin's init(): plugins register their metrics */
	ret = metrics_worker_init(cfg, &error);
	if (ret == 0)
		ret = host_init(cfg, s->type, &error);
	if (ret == 0)
		ret = plugin_load(s->plugin_dir, s->type, &plugin, &error);
	if (ret == 0)
		ret = plugin_init(plugin, host_get(), &error);
	if (ret < 0) {
		log_error("%s", error);
		goto out;
	}
	log_info("job worker '%s' %s loaded from %s", plugin->desc->name,
		 plugin->desc->version != NULL ? plugin->desc->version : "",
		 plugin->path);
	ret = executor_create("worker-executor", s->executor_type,
			      s->executor_threads, 60000, &ex);
	if (ret < 0) {
		log_error("cannot create the worker executor: %s",
			  dmf_strerror(ret));
		goto out;
	}
	metrics_worker_add_executor(ex);
	if (s->executor_type == EXECUTOR_FIXED &&
	    (long long)s->executor_threads < s->jobs_max)
		log_warn("dmf.worker.jobs.max (%lld) is greater than "
			 "micronaut.executors.worker-executor.number-of-threads"
			 " (%u): jobs beyond it wait in the executor queue",
			 s->jobs_max, s->executor_threads);
	ret = http_service_start(cfg, plugin->desc, &http, &error);
	if (ret < 0) {
		log_error("%s", error != NULL ? error : dmf_strerror(ret));
		goto out;
	}
	/* ready once it serves: systemd must not kill a worker that waits
	 * for the database (it answers /health DOWN meanwhile) */
	watchdog_ms = sd_watchdog_init();
	if (watchdog_ms > 0)
		log_info("systemd watchdog: a keep-alive every %llu ms",
			 (unsigned long long)watchdog_ms);
	sd_notify_send("READY=1");
	ret = connect_components(cfg, s, sigfd, &state, &poller, &dbw, &error);
	if (ret == 1) {
		/* stopped while waiting for the database */
		ret = 0;
		goto out;
	}
	if (ret < 0) {
		log_error("%s", error != NULL ? error : dmf_strerror(ret));
		/* the state may have registered the backend: record that it
		 * does not run */
		if (state != NULL)
			sops->shutdown(state);
		goto out;
	}
	dp.plugin = plugin;
	dp.poller_ops = pops;
	dp.poller = poller;
	dp.state_ops = sops;
	dp.state = state;
	dp.executor = ex;
	dp.termination_ms = s->termination_ms;
	dp.signal_fd = sigfd;
	dp.reload = worker_reload;
	dp.reload_ctx = (void *)&s->reload;
	if ((gate = exec_gate_init()) != NULL)
		log_info("commands start through %s", gate);
	else
		log_info("commands are forked: no %s (it saves the worker a "
			 "copy of itself per command)",
			 getenv("DMF_EXEC_GATE") != NULL ? "$DMF_EXEC_GATE" :
							   DMF_EXEC_GATE_PATH);
	log_info("dmf-worker %s started: type %s, poller %s, state %s",
		 PACKAGE_VERSION, s->type, s->poller_type, s->state_type);
	health_report_service(true);
	ret = dispatcher_run(&dp);
	health_report_service(false);
	sd_notify_send("STOPPING=1");
	sd_notify_status("stopped");
out:
	http_service_stop(&http);
	metrics_worker_remove_executor();
	metrics_worker_remove_db_pool();
	executor_destroy(&ex);
	host_db_set_pool(NULL);
	db_worker_put(&dbw);
	if (poller != NULL)
		pops->destroy(&poller);
	if (state != NULL)
		sops->destroy(&state);
	plugin_unload(&plugin);
	host_deinit();
	metrics_worker_deinit();
	free(error);
	close(sigfd);
	if (ret == 0)
		log_info("dmf-worker stopped");
	return ret == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_STRICT, OPT_PRINT, OPT_LOG_LEVEL };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "print-config", no_argument, NULL, OPT_PRINT },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = getenv("DMF_WORKER_CONFIG");
	const char *level_text = NULL, *err;
	bool check = false, strict = false, print = false, level_opt;
	struct config *cfg = NULL;
	struct settings s;
	char *error = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (*optarg == '\0') {
				fprintf(stderr, "dmf-worker: -c/--config: the "
						"file name is empty\n");
				return 2;
			}
			path = optarg;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case OPT_PRINT:
			print = true;
			break;
		case OPT_LOG_LEVEL:
			level_text = optarg;
			break;
		case 'V':
			version();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dmf-worker: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (path == NULL || *path == '\0')
		path = DEFAULT_CONFIG;

	ret = config_load(path, environ, &cfg, &error);
	if (ret < 0) {
		fprintf(stderr, "dmf-worker: %s\n", error);
		free(error);
		return 1;
	}
	for (size_t i = 0; i < cfg->n_warnings; i++)
		fprintf(stderr, "dmf-worker: warning: %s\n", cfg->warnings[i]);
	if (strict && cfg->n_warnings > 0) {
		fprintf(stderr,
			"dmf-worker: %s: %zu unknown key(s), refused in "
			"--strict mode\n",
			path, cfg->n_warnings);
		config_free(&cfg);
		return 1;
	}
	if (print) {
		config_print(cfg, stdout);
		config_free(&cfg);
		return 0;
	}
	ret = read_settings(cfg, &s, &error);
	if (ret == 0 && check)
		ret = check_components(cfg, &s, &error);
	if (ret < 0) {
		fprintf(stderr, "dmf-worker: %s\n", error);
		free(error);
		config_free(&cfg);
		return 1;
	}
	if (check) {
		fprintf(stderr, "dmf-worker: %s: configuration OK\n", path);
		config_free(&cfg);
		return 0;
	}
	level_opt = level_text != NULL;
	if (level_text == NULL &&
	    cfg_get_string(cfg->root, "logger.levels.root", "info", &level_text,
			   &err) < 0) {
		fprintf(stderr, "dmf-worker: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	{
		enum dmf_log_level level;

		if (log_parse_level(level_text, &level) < 0) {
			fprintf(stderr,
				"dmf-worker: unknown log level '%s' (debug, "
				"info, warn, error)\n",
				level_text);
			config_free(&cfg);
			return 1;
		}
		log_set_level(level);
	}
	log_info("configuration %s", path);
	s.reload.path = path;
	s.reload.type = s.type;
	s.reload.level_from_command_line = level_opt;
	ret = run(cfg, &s);
	config_free(&cfg);
	return ret;
}
