/*
 * dmfctl.c - the admin tool of the Migration Database: main, common
 * helpers, `db`, `target`, `source` and `sourcehost`.
 *
 * dmfctl reads the same configuration file and environment as the worker
 * (datasources.default.*).  Exit codes: 0 ok, 1 usage, 2 not found,
 * 3 database error, 4 wait timed out or a job failed.
 */
#include "dmf-build.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db_schema.h"
#include "dmfctl/dmfctl.h"
#include "lib/log.h"

#define DEFAULT_CONFIG DMF_CONFDIR "/dmf-worker.yml"

extern char **environ;

int ctl_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("dmfctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

bool ctl_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

static int load_config(struct ctl *ctl)
{
	const char *path = ctl->config_path;
	bool explicit = path != NULL;
	char *error = NULL;
	int ret;

	if (ctl->cfg != NULL)
		return CTL_OK;
	if (path == NULL)
		path = getenv("DMF_WORKER_CONFIG");
	if (path == NULL || *path == '\0')
		path = DEFAULT_CONFIG;
	if (!explicit && access(path, F_OK) != 0)
		ret = config_load_string("{}", "environment", environ,
					 &ctl->cfg, &error);
	else
		ret = config_load(path, environ, &ctl->cfg, &error);
	if (ret < 0) {
		ret = ctl_error(CTL_USAGE, "%s", error);
		free(error);
		return ret;
	}
	return CTL_OK;
}

int ctl_connect(struct ctl *ctl)
{
	struct db_options o;
	char *error = NULL;
	int ret;

	if (ctl->pool != NULL)
		return CTL_OK;
	ret = load_config(ctl);
	if (ret != CTL_OK)
		return ret;
	if (db_options_from_config(ctl->cfg, &o, &error) < 0) {
		ret = ctl_error(CTL_USAGE, "%s", error);
		free(error);
		return ret;
	}
	/* an admin command should fail fast, not wait like the worker */
	o.max_pool_size = 2;
	if (o.connection_timeout_ms > 10000)
		o.connection_timeout_ms = 10000;
	if (db_pool_create(&o, &ctl->pool, &error) < 0) {
		db_options_clear(&o);
		ret = ctl_error(CTL_DB, "%s", error);
		free(error);
		return ret;
	}
	db_options_clear(&o);
	return CTL_OK;
}

int ctl_db_error(char **error)
{
	int ret = ctl_error(CTL_DB, "%s", *error != NULL ? *error : "");

	free(*error);
	*error = NULL;
	return ret;
}

static bool name_in(const char *const *list, const char *name)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

json_t *ctl_rows_json(const struct db_rows *rows, const char *const *numeric,
		      const char *const *json)
{
	json_t *arr = json_array();

	for (size_t r = 0; rows != NULL && r < rows->n_rows; r++) {
		json_t *obj = json_object();

		for (size_t c = 0; c < rows->n_cols; c++) {
			const char *name = rows->names[c];
			const char *v = db_cell(rows, r, c);
			json_t *jv = NULL;
			long long n;

			if (v == NULL)
				jv = json_null();
			else if (name_in(numeric, name) && parse_ll(v, &n) == 0)
				jv = json_integer(n);
			else if (name_in(json, name))
				jv = json_loads(v, JSON_DECODE_ANY, NULL);
			if (jv == NULL)
				jv = json_string(v);
			json_object_set_new(obj, name, jv);
		}
		json_array_append_new(arr, obj);
	}
	return arr;
}

int ctl_print_rows(struct db_rows **rows, bool as_json,
		   const char *const *numeric, const char *const *json)
{
	if (as_json) {
		json_t *j = ctl_rows_json(*rows, numeric, json);

		ctl_print_json(j);
		json_decref(j);
	} else {
		ctl_print_table(*rows);
	}
	db_rows_free(rows);
	return CTL_OK;
}

void ctl_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
					JSON_ENCODE_ANY);

	if (s != NULL) {
		puts(s);
		free(s);
	}
}

void ctl_print_table(const struct db_rows *rows)
{
	if (rows == NULL)
		return;
	/* cells escaped as the worker log does: a uid holding ESC, CR or a
	 * tab can neither break the table nor reach the terminal raw */
	for (size_t c = 0; c < rows->n_cols; c++) {
		fputs(c ? "\t" : "", stdout);
		log_put_escaped(stdout, rows->names[c], true);
	}
	putchar('\n');
	for (size_t r = 0; r < rows->n_rows; r++) {
		for (size_t c = 0; c < rows->n_cols; c++) {
			const char *v = db_cell(rows, r, c);

			fputs(c ? "\t" : "", stdout);
			log_put_escaped(stdout, v != NULL ? v : "-", true);
		}
		putchar('\n');
	}
}

/* ---------------------------------------------------------------- db --- */

static int db_cmd(struct ctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	struct db_conn *conn = NULL;
	char *error = NULL;
	unsigned from = 0, to = 0, version = 0;
	int ret;

	if (sub == NULL || ctl_wants_help(argc, argv)) {
		printf("Usage: dmfctl db migrate   create or upgrade the "
		       "schema "
		       "(idempotent)\n"
		       "       dmfctl db status    server, schema version and "
		       "job counts\n"
		       "The schema files are read from --schema-dir, "
		       "$DMF_SCHEMA_DIR or %s.\n",
		       db_schema_dir(NULL));
		return sub == NULL ? CTL_USAGE : CTL_OK;
	}
	ret = ctl_connect(ctl);
	if (ret != CTL_OK)
		return ret;
	if (strcmp(sub, "migrate") == 0) {
		ret = db_schema_migrate(ctl->pool,
					db_schema_dir(ctl->schema_dir), &from,
					&to, stdout, &error);
		if (ret < 0) {
			ret = ctl_error(ret == -ENOENT || ret == -EINVAL ?
						CTL_USAGE :
						CTL_DB,
					"db migrate: %s", error);
			free(error);
			return ret;
		}
		if (from == to)
			printf("schema is up to date (version %u)\n", to);
		else
			printf("schema migrated from version %u to %u\n", from,
			       to);
		return CTL_OK;
	}
	if (strcmp(sub, "status") == 0) {
		struct db_rows *rows = NULL;

		if (db_conn_get(ctl->pool, &conn, &error) < 0) {
			ret = ctl_error(CTL_DB, "%s", error);
			free(error);
			return ret;
		}
		printf("server: %s\n", db_conn_server_info(conn));
		if (db_server_check(conn, &error) < 0) {
			printf("server check: %s\n", error);
			free(error);
		}
		ret = db_schema_version(conn, &version);
		if (ret < 0) {
			ret = ctl_error(CTL_DB, "%s", db_conn_error(conn));
			db_conn_put(ctl->pool, &conn);
			return ret;
		}
		printf("schema: version %u (this build: %u)%s\n", version,
		       DB_SCHEMA_VERSION,
		       version == DB_SCHEMA_VERSION ?
			       "" :
		       version < DB_SCHEMA_VERSION ?
			       ": run 'dmfctl db migrate'" :
			       ": unknown to this build");
		if (version > 0 && db_admin_job_counts(conn, &rows) == 0) {
			for (size_t i = 0; i < rows->n_rows; i++)
				printf("jobs %s: %s\n", db_cell(rows, i, 0),
				       db_cell(rows, i, 1));
			db_rows_free(&rows);
		}
		db_conn_put(ctl->pool, &conn);
		return version == DB_SCHEMA_VERSION ? CTL_OK : CTL_DB;
	}
	return ctl_error(CTL_USAGE,
			 "db: unknown command '%s' (migrate, "
			 "status)",
			 sub);
}

/* ------------------------------------------------ target and source --- */

/* `target` and `source` are the same shape: name + description. */
static int named_cmd(struct ctl *ctl, int argc, char **argv,
		     enum db_admin_kind kind)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	char *error = NULL;

	if (sub == NULL || ctl_wants_help(argc, argv)) {
		printf("Usage: dmfctl %s add NAME [--description TEXT]\n"
		       "       dmfctl %s list [--json]\n",
		       argv[0], argv[0]);
		return sub == NULL ? CTL_USAGE : CTL_OK;
	}
	if (strcmp(sub, "add") == 0) {
		const char *name = NULL, *desc = NULL;
		int ret;

		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--description") == 0 &&
			    i + 1 < argc)
				desc = argv[++i];
			else if (argv[i][0] != '-' && name == NULL)
				name = argv[i];
			else
				return ctl_error(CTL_USAGE,
						 "%s add: unexpected "
						 "'%s'",
						 argv[0], argv[i]);
		}
		if (name == NULL || *name == '\0' || strlen(name) > 64 ||
		    strchr(name, '/') != NULL)
			return ctl_error(CTL_USAGE,
					 "%s add: give a NAME of 1-64 "
					 "characters without '/'",
					 argv[0]);
		ret = ctl_connect(ctl);
		if (ret != CTL_OK)
			return ret;
		if (db_admin_named_add(ctl->pool, kind, name, desc, &error) < 0)
			return ctl_db_error(&error);
		printf("%s\n", name);
		return CTL_OK;
	}
	if (strcmp(sub, "list") == 0) {
		bool as_json = argc > 2 && strcmp(argv[2], "--json") == 0;
		struct db_rows *rows = NULL;
		int ret;

		ret = ctl_connect(ctl);
		if (ret != CTL_OK)
			return ret;
		if (db_admin_named_list(ctl->pool, kind, &rows, &error) < 0)
			return ctl_db_error(&error);
		return ctl_print_rows(&rows, as_json, NULL, NULL);
	}
	return ctl_error(CTL_USAGE, "%s: unknown command '%s' (add, list)",
			 argv[0], sub);
}

int ctl_target(struct ctl *ctl, int argc, char **argv)
{
	return named_cmd(ctl, argc, argv, DB_ADMIN_TARGET);
}

int ctl_source(struct ctl *ctl, int argc, char **argv)
{
	return named_cmd(ctl, argc, argv, DB_ADMIN_SOURCE);
}

/* -------------------------------------------------------------- main --- */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dmfctl [-c FILE] [--schema-dir DIR] COMMAND ...\n"
		"Administer the DMF Migration Database.\n\n"
		"  db migrate|status\n"
		"  target add|list          source add|list\n"
		"  sourcehost add|list|show\n"
		"  job add|show|list|wait|requeue|cancel\n"
		"  backend list|show|pause|resume|stop|set\n\n"
		"  -c, --config FILE   configuration file (default "
		"$DMF_WORKER_CONFIG or %s)\n"
		"      --schema-dir DIR  schema files for 'db migrate'\n"
		"  -h, --help          this help; COMMAND --help for each "
		"command\n\n"
		"Exit codes: 0 ok, 1 usage, 2 not found, 3 database error, "
		"4 wait timed out or a job failed.\n",
		DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "schema-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl ctl = { 0 };
	const char *cmd;
	int c, ret;

	log_set_level(DMF_LOG_WARN);
	/* stop at the first non-option: the rest belongs to the command */
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctl.config_path = optarg;
			break;
		case 's':
			ctl.schema_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		default:
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_USAGE;
	}
	argc -= optind;
	argv += optind;
	cmd = argv[0];
	if (strcmp(cmd, "db") == 0)
		ret = db_cmd(&ctl, argc, argv);
	else if (strcmp(cmd, "target") == 0)
		ret = ctl_target(&ctl, argc, argv);
	else if (strcmp(cmd, "source") == 0)
		ret = ctl_source(&ctl, argc, argv);
	else if (strcmp(cmd, "sourcehost") == 0)
		ret = ctl_sourcehost(&ctl, argc, argv);
	else if (strcmp(cmd, "job") == 0)
		ret = ctl_job(&ctl, argc, argv);
	else if (strcmp(cmd, "backend") == 0)
		ret = ctl_backend(&ctl, argc, argv);
	else if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		ret = CTL_OK;
	} else
		ret = ctl_error(CTL_USAGE, "unknown command '%s' (try --help)",
				cmd);
	db_pool_destroy(&ctl.pool);
	config_free(&ctl.cfg);
	return ret;
}
