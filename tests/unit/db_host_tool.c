/*
 * db_host_tool.c - drives the plugins' `db` host table (core/host/host_db.c)
 * against a real database for tests/integration/test_db_host.sh.
 *
 *   db_host_tool CONFIG sourcehost NAME     one line: ret name host port ssl
 *                                           commands ("-" for NULL)
 *   db_host_tool CONFIG field JOBID FIELD   one line: ret value
 *   db_host_tool CONFIG nopool ...          the same without a pool
 *
 * ret is the table's return value (0 or a negative errno).
 */
#include "dmf-build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "host/host_db.h"
#include "lib/config.h"
#include "lib/job.h"
#include "lib/util.h"

extern char **environ;

static const char *or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

static void run(const struct dmf_host_db *t, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[0], "sourcehost") == 0) {
		struct dmf_sourcehost *sh = NULL;
		int ret = t->sourcehost(argv[1], &sh);

		if (ret < 0) {
			printf("%d\n", ret);
			return;
		}
		printf("%d %s %s %u %s %s\n", ret, sh->name, sh->host, sh->port,
		       sh->ssl, or_dash(sh->commands));
		t->sourcehost_free(&sh);
		printf("freed %s\n", sh == NULL ? "yes" : "no");
	} else if (argc == 3 && strcmp(argv[0], "field") == 0) {
		struct dmf_job job;
		char *value = NULL;
		long long id = 0;
		int ret;

		memset(&job, 0, sizeof(job));
		if (parse_ll(argv[1], &id) < 0)
			id = -1;
		job.db_id = id;
		ret = t->job_field(&job, argv[2], &value);
		printf("%d %s\n", ret, or_dash(value));
		t->value_free(&value);
	} else {
		fprintf(stderr, "db_host_tool: bad arguments\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct db_pool *pool = NULL;
	struct db_options o;
	char *error = NULL;
	bool with_pool;

	if (argc < 4) {
		fprintf(stderr, "usage: db_host_tool CONFIG [nopool] "
				"sourcehost|field ...\n");
		return 2;
	}
	with_pool = strcmp(argv[2], "nopool") != 0;
	if (config_load(argv[1], environ, &cfg, &error) < 0 ||
	    db_options_from_config(cfg, &o, &error) < 0) {
		fprintf(stderr, "db_host_tool: %s\n", error);
		return 1;
	}
	if (db_pool_create(&o, &pool, &error) < 0) {
		fprintf(stderr, "db_host_tool: %s\n", error);
		return 1;
	}
	db_options_clear(&o);
	if (with_pool)
		host_db_set_pool(pool);
	run(host_db_table(), argc - (with_pool ? 2 : 3),
	    argv + (with_pool ? 2 : 3));
	host_db_set_pool(NULL);
	db_pool_destroy(&pool);
	config_free(&cfg);
	return 0;
}
