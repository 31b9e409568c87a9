/* dmfctl_admin.c - `dmfctl sourcehost ...` and `dmfctl backend ...`. */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmfctl/dmfctl.h"

/* ------------------------------------------------------- sourcehost --- */

static const char *const sh_numeric[] = { "port", NULL };
static const char *const sh_json[] = { "commands", NULL };

static int sourcehost_add(struct ctl *ctl, int argc, char **argv)
{
	const char *name = NULL, *host = NULL, *ssl = "no", *commands = NULL;
	long long port = 143;
	char *error = NULL;
	int ret;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--host") == 0 && i + 1 < argc)
			host = argv[++i];
		else if (strcmp(a, "--port") == 0 && i + 1 < argc) {
			if (parse_ll(argv[++i], &port) < 0 || port < 1 ||
			    port > 65535)
				return ctl_error(CTL_USAGE,
						 "sourcehost add: bad "
						 "--port '%s'",
						 argv[i]);
		} else if (strcmp(a, "--ssl") == 0 && i + 1 < argc)
			ssl = argv[++i];
		else if (strcmp(a, "--commands") == 0 && i + 1 < argc)
			commands = argv[++i];
		else if (a[0] != '-' && name == NULL)
			name = a;
		else
			return ctl_error(CTL_USAGE,
					 "sourcehost add: unexpected "
					 "'%s'",
					 a);
	}
	if (name == NULL)
		return ctl_error(CTL_USAGE, "sourcehost add: give a NAME");
	if (strcmp(ssl, "no") != 0 && strcmp(ssl, "imaps") != 0 &&
	    strcmp(ssl, "starttls") != 0)
		return ctl_error(CTL_USAGE,
				 "sourcehost add: --ssl is no, imaps "
				 "or starttls");
	if (commands != NULL) {
		json_error_t jerr;
		json_t *j = json_loads(commands, 0, &jerr);

		if (j == NULL || !json_is_object(j)) {
			json_decref(j);
			return ctl_error(CTL_USAGE,
					 "sourcehost add: --commands "
					 "must be a JSON object of "
					 "phase: command (%s)",
					 j == NULL ? jerr.text :
						     "not an object");
		}
		json_decref(j);
	}
	ret = ctl_connect(ctl);
	if (ret != CTL_OK)
		return ret;
	if (db_admin_sourcehost_add(ctl->pool, name, host != NULL ? host : name,
				    port, ssl, commands, &error) < 0)
		return ctl_db_error(&error);
	printf("%s\n", name);
	return CTL_OK;
}

int ctl_sourcehost(struct ctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	struct db_rows *rows = NULL;
	char *error = NULL;
	json_t *j;
	int ret;

	if (sub == NULL || ctl_wants_help(argc, argv)) {
		printf("Usage: dmfctl sourcehost add NAME [--host HOST] "
		       "[--port PORT] [--ssl no|imaps|starttls]\n"
		       "                            [--commands JSON]\n"
		       "       dmfctl sourcehost list [--json]\n"
		       "       dmfctl sourcehost show NAME\n"
		       "--commands is a JSON object of per-phase commands, "
		       "e.g. '{\"sync\": {...}, \"cutover\": {...}, "
		       "\"status\": {...}}'.\nadd replaces an existing "
		       "sourcehost of the same NAME.\n");
		return sub == NULL ? CTL_USAGE : CTL_OK;
	}
	if (strcmp(sub, "add") == 0)
		return sourcehost_add(ctl, argc, argv);
	if (strcmp(sub, "list") == 0) {
		bool as_json = argc > 2 && strcmp(argv[2], "--json") == 0;

		ret = ctl_connect(ctl);
		if (ret != CTL_OK)
			return ret;
		if (db_admin_sourcehost_list(ctl->pool, as_json, &rows,
					     &error) < 0)
			return ctl_db_error(&error);
		return ctl_print_rows(&rows, as_json, sh_numeric, sh_json);
	}
	if (strcmp(sub, "show") == 0) {
		if (argc != 3)
			return ctl_error(CTL_USAGE, "sourcehost show: give one "
						    "NAME");
		ret = ctl_connect(ctl);
		if (ret != CTL_OK)
			return ret;
		ret = db_admin_sourcehost_show(ctl->pool, argv[2], &rows,
					       &error);
		if (ret == -ENOENT)
			return ctl_error(CTL_NOT_FOUND, "no sourcehost '%s'",
					 argv[2]);
		if (ret < 0)
			return ctl_db_error(&error);
		j = ctl_rows_json(rows, sh_numeric, sh_json);
		ctl_print_json(json_array_get(j, 0));
		json_decref(j);
		db_rows_free(&rows);
		return CTL_OK;
	}
	return ctl_error(CTL_USAGE,
			 "sourcehost: unknown command '%s' (add, "
			 "list, show)",
			 sub);
}

/* ---------------------------------------------------------- backend --- */

static const char *const be_numeric[] = { "initialState", "maxThreads",
					  "status",	  "threads",
					  "pid",	  NULL };

/* backends.sources as a JSON array instead of "a,b" */
static void split_sources(json_t *arr)
{
	size_t i;
	json_t *obj;

	json_array_foreach(arr, i, obj)
	{
		json_t *s = json_object_get(obj, "sources");
		json_t *list = json_array();

		if (json_is_string(s)) {
			char *copy = strdup(json_string_value(s)), *save = NULL;

			for (char *t = copy ? strtok_r(copy, ",", &save) : NULL;
			     t != NULL; t = strtok_r(NULL, ",", &save))
				json_array_append_new(list, json_string(t));
			free(copy);
		}
		json_object_set_new(obj, "sources", list);
	}
}

static int backend_list(struct ctl *ctl, int argc, char **argv, bool one)
{
	struct db_rows *rows = NULL;
	bool as_json = one;
	char *error = NULL;
	json_t *j;
	int ret;

	if (one) {
		if (argc != 3)
			return ctl_error(CTL_USAGE, "backend show: give one "
						    "NAME (target/memberid)");
		ret = ctl_connect(ctl);
		if (ret != CTL_OK)
			return ret;
		ret = db_admin_backend_show(ctl->pool, argv[2], &rows, &error);
	} else {
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0)
				as_json = true;
			else
				return ctl_error(CTL_USAGE,
						 "backend list: "
						 "unexpected '%s'",
						 argv[i]);
		}
		ret = ctl_connect(ctl);
		if (ret != CTL_OK)
			return ret;
		ret = db_admin_backend_list(ctl->pool, &rows, &error);
	}
	if (ret == -ENOENT)
		return ctl_error(CTL_NOT_FOUND, "no backend '%s'", argv[2]);
	if (ret < 0)
		return ctl_db_error(&error);
	if (as_json) {
		j = ctl_rows_json(rows, be_numeric, NULL);
		split_sources(j);
		ctl_print_json(one ? json_array_get(j, 0) : j);
		json_decref(j);
	} else {
		ctl_print_table(rows);
	}
	db_rows_free(&rows);
	return CTL_OK;
}

static int backend_command(struct ctl *ctl, int argc, char **argv,
			   const char *command)
{
	char *error = NULL;
	int ret;

	if (argc != 3)
		return ctl_error(CTL_USAGE, "backend %s: give one NAME",
				 argv[1]);
	ret = ctl_connect(ctl);
	if (ret != CTL_OK)
		return ret;
	ret = db_admin_backend_command(ctl->pool, argv[2], command, &error);
	if (ret == -ENOENT)
		return ctl_error(CTL_NOT_FOUND, "no backend '%s'", argv[2]);
	if (ret < 0)
		return ctl_db_error(&error);
	printf("%s: %s requested\n", argv[2], command);
	return CTL_OK;
}

static int backend_set(struct ctl *ctl, int argc, char **argv)
{
	const char *name = NULL, *sources = NULL;
	long long max_threads = -1, initial = -1;
	char *error = NULL;
	int ret;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--max-threads") == 0 && i + 1 < argc) {
			if (parse_ll(argv[++i], &max_threads) < 0 ||
			    max_threads < 0 || max_threads > 100000)
				return ctl_error(CTL_USAGE,
						 "backend set: bad "
						 "--max-threads "
						 "'%s'",
						 argv[i]);
		} else if (strcmp(a, "--initial-state") == 0 && i + 1 < argc) {
			const char *v = argv[++i];

			if (strcasecmp(v, "started") == 0 ||
			    strcmp(v, "1") == 0)
				initial = 1;
			else if (strcasecmp(v, "stopped") == 0 ||
				 strcmp(v, "0") == 0)
				initial = 0;
			else
				return ctl_error(CTL_USAGE,
						 "backend set: "
						 "--initial-state is "
						 "started or stopped");
		} else if (strcmp(a, "--sources") == 0 && i + 1 < argc)
			sources = argv[++i];
		else if (a[0] != '-' && name == NULL)
			name = a;
		else
			return ctl_error(CTL_USAGE,
					 "backend set: unexpected "
					 "'%s'",
					 a);
	}
	if (name == NULL)
		return ctl_error(CTL_USAGE, "backend set: give a NAME");
	if (max_threads < 0 && initial < 0 && sources == NULL)
		return ctl_error(CTL_USAGE, "backend set: nothing to set "
					    "(--max-threads, --initial-state, "
					    "--sources)");
	ret = ctl_connect(ctl);
	if (ret != CTL_OK)
		return ret;
	ret = db_admin_backend_set(ctl->pool, name, max_threads, (int)initial,
				   sources, &error);
	if (ret == -ENOENT)
		return ctl_error(CTL_NOT_FOUND, "no backend '%s'", name);
	if (ret < 0)
		return ctl_db_error(&error);
	printf("%s updated\n", name);
	return CTL_OK;
}

int ctl_backend(struct ctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL || ctl_wants_help(argc, argv)) {
		printf("Usage: dmfctl backend list [--json]\n"
		       "       dmfctl backend show NAME\n"
		       "       dmfctl backend pause|resume|stop NAME\n"
		       "       dmfctl backend set NAME [--max-threads N] "
		       "[--initial-state started|stopped] [--sources A,B]\n"
		       "NAME is target/memberid.  status: 0 paused, 1 running, "
		       "2 stopping, 3 stopped.\nThe worker obeys a command "
		       "within one refresh period and then clears it.\n");
		return sub == NULL ? CTL_USAGE : CTL_OK;
	}
	if (strcmp(sub, "list") == 0)
		return backend_list(ctl, argc, argv, false);
	if (strcmp(sub, "show") == 0)
		return backend_list(ctl, argc, argv, true);
	if (strcmp(sub, "pause") == 0)
		return backend_command(ctl, argc, argv, "PAUSE");
	if (strcmp(sub, "resume") == 0)
		return backend_command(ctl, argc, argv, "RESUME");
	if (strcmp(sub, "start") == 0)
		return backend_command(ctl, argc, argv, "START");
	if (strcmp(sub, "stop") == 0)
		return backend_command(ctl, argc, argv, "STOP");
	if (strcmp(sub, "set") == 0)
		return backend_set(ctl, argc, argv);
	return ctl_error(CTL_USAGE, "backend: unknown command '%s'", sub);
}
