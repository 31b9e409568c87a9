/* dmfctl_job.c - `dmfctl job ...`: enqueue, inspect, wait for, requeue
 * and cancel migration jobs. */
#include "dmf-build.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "crypto/crypto.h"
#include "dmfctl/dmfctl.h"

static const char *const job_numeric[] = { "id",
					   "sourceport",
					   "priority",
					   "attempts",
					   "rescues",
					   "durationMs",
					   "syncSaved",
					   "syncExpunged",
					   "targetMessages",
					   "targetSize",
					   "originMessages",
					   "originSize",
					   "cancelRequested",
					   "progressSaved",
					   "progressExpunged",
					   "progressBytes",
					   NULL };
/* parsed as JSON: the details, and the decimals of the live progress */
static const char *const job_json[] = { "details", "elapsedSeconds",
					"savedPerSecond", NULL };

static int parse_id(const char *s, long long *id_r)
{
	return parse_ll(s, id_r) < 0 || *id_r <= 0 ? -EINVAL : 0;
}

/* Read a password from stdin (one line, newline stripped). */
static char *read_password(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static int wrap_password(struct ctl *ctl, const char *key, char **iv_r,
			 char **ct_r)
{
	struct crypto_keyring *ring = NULL;
	char *password, *error = NULL;
	int ret;

	ret = crypto_keyring_load(
		cfg_get(ctl->cfg->root, "dmf.worker.crypto.storageKeys"), &ring,
		&error);
	if (ret < 0) {
		ret = ctl_error(CTL_USAGE, "%s", error);
		free(error);
		return ret;
	}
	password = read_password();
	if (password == NULL) {
		crypto_keyring_free(&ring);
		return ctl_error(CTL_USAGE, "job add: no password on stdin");
	}
	ret = crypto_wrap(ring, key, password, iv_r, ct_r, &error);
	OPENSSL_cleanse(password, strlen(password));
	free(password);
	crypto_keyring_free(&ring);
	if (ret < 0) {
		ret = ctl_error(ret == -ENOKEY ? CTL_NOT_FOUND : CTL_USAGE,
				"job add: %s", error);
		free(error);
		return ret;
	}
	return CTL_OK;
}

static int exists(struct ctl *ctl, enum db_admin_kind kind, const char *name,
		  bool *found_r)
{
	char *error = NULL;

	if (db_admin_named_exists(ctl->pool, kind, name, found_r, &error) < 0)
		return ctl_db_error(&error);
	return CTL_OK;
}

/* Count the code points of valid UTF-8 (no overlong forms, surrogates or
 * values past U+10FFFF); -EINVAL when it is not. */
static int utf8_chars(const char *text, size_t *chars_r)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = 0;

	while (*p != '\0') {
		unsigned c = *p, len, cp, min;

		if (c < 0x80) {
			p++;
			n++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return -EINVAL;
		}
		for (unsigned i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -EINVAL;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -EINVAL;
		p += len;
		n++;
	}
	*chars_r = n;
	return 0;
}

static int job_add(struct ctl *ctl, int argc, char **argv)
{
	const char *source = NULL, *target = NULL, *uid = NULL, *ruid = NULL,
		   *email = NULL, *sourcehost = NULL, *imapc_ssl = NULL,
		   *imapoptions = NULL, *exclude = NULL, *phase = "sync",
		   *key = NULL, *error = NULL;
	long long sourceport = -1, priority = 0;
	bool password_stdin = false, found;
	char *iv = NULL, *ct = NULL, *err = NULL;
	int64_t id = 0;
	int ret;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **dst = NULL;

		if (strcmp(a, "--password-stdin") == 0) {
			password_stdin = true;
			continue;
		}
		if (v == NULL)
			return ctl_error(CTL_USAGE,
					 "job add: '%s' needs a "
					 "value",
					 a);
		if (strcmp(a, "--source") == 0)
			dst = &source;
		else if (strcmp(a, "--target") == 0)
			dst = &target;
		else if (strcmp(a, "--uid") == 0)
			dst = &uid;
		else if (strcmp(a, "--ruid") == 0)
			dst = &ruid;
		else if (strcmp(a, "--email") == 0)
			dst = &email;
		else if (strcmp(a, "--sourcehost") == 0)
			dst = &sourcehost;
		else if (strcmp(a, "--imapc-ssl") == 0)
			dst = &imapc_ssl;
		else if (strcmp(a, "--imapoptions") == 0)
			dst = &imapoptions;
		else if (strcmp(a, "--exclude") == 0)
			dst = &exclude;
		else if (strcmp(a, "--phase") == 0)
			dst = &phase;
		else if (strcmp(a, "--key") == 0)
			dst = &key;
		else if (strcmp(a, "--sourceport") == 0) {
			if (parse_ll(v, &sourceport) < 0 || sourceport < 1 ||
			    sourceport > 65535)
				return ctl_error(CTL_USAGE,
						 "job add: bad "
						 "--sourceport '%s'",
						 v);
		} else if (strcmp(a, "--priority") == 0) {
			if (parse_ll(v, &priority) < 0 ||
			    priority < -1000000000 || priority > 1000000000)
				return ctl_error(CTL_USAGE,
						 "job add: bad "
						 "--priority '%s'",
						 v);
		} else
			return ctl_error(CTL_USAGE,
					 "job add: unknown option "
					 "'%s' (see --help)",
					 a);
		if (dst != NULL)
			*dst = v;
		i++;
	}
	if (source == NULL || uid == NULL || *uid == '\0')
		return ctl_error(CTL_USAGE, "job add: --source and --uid are "
					    "required");
	{
		/* what the jobs table holds (utf8mb4 VARCHAR(n)): checked
		 * before the database sees it */
		const struct {
			const char *opt, *v;
			size_t max;
		} texts[] = { { "--source", source, 64 },
			      { "--target", target, 64 },
			      { "--uid", uid, 255 },
			      { "--ruid", ruid, 255 },
			      { "--email", email, 255 },
			      { "--sourcehost", sourcehost, 255 },
			      { "--imapoptions", imapoptions, 1024 },
			      { "--exclude", exclude, 65535 },
			      { "--key", key, 128 } };

		for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
			size_t chars;

			if (texts[t].v == NULL)
				continue;
			if (utf8_chars(texts[t].v, &chars) < 0)
				return ctl_error(CTL_USAGE,
						 "job add: %s is not valid "
						 "UTF-8",
						 texts[t].opt);
			if (chars > texts[t].max)
				return ctl_error(CTL_USAGE,
						 "job add: %s is too long "
						 "(%zu characters; at most "
						 "%zu)",
						 texts[t].opt, chars,
						 texts[t].max);
		}
	}
	if (strcmp(phase, "sync") != 0 && strcmp(phase, "cutover") != 0)
		return ctl_error(CTL_USAGE, "job add: --phase is sync or "
					    "cutover");
	if (imapc_ssl != NULL && strcmp(imapc_ssl, "no") != 0 &&
	    strcmp(imapc_ssl, "imaps") != 0 &&
	    strcmp(imapc_ssl, "starttls") != 0)
		return ctl_error(CTL_USAGE, "job add: --imapc-ssl is no, imaps "
					    "or starttls");
	if (password_stdin != (key != NULL))
		return ctl_error(CTL_USAGE,
				 "job add: --password-stdin and --key "
				 "NAME go together");
	ret = ctl_connect(ctl);
	if (ret != CTL_OK)
		return ret;
	if (target == NULL &&
	    cfg_get_string(ctl->cfg->root, "dmf.worker.identity.target",
			   "default", &target, &error) < 0)
		return ctl_error(CTL_USAGE, "%s", error);
	ret = exists(ctl, DB_ADMIN_TARGET, target, &found);
	if (ret != CTL_OK)
		return ret;
	if (!found)
		return ctl_error(CTL_NOT_FOUND,
				 "unknown target '%s' (dmfctl "
				 "target add %s)",
				 target, target);
	ret = exists(ctl, DB_ADMIN_SOURCE, source, &found);
	if (ret != CTL_OK)
		return ret;
	if (!found)
		return ctl_error(CTL_NOT_FOUND,
				 "unknown source '%s' (dmfctl "
				 "source add %s)",
				 source, source);
	if (sourcehost != NULL) {
		ret = exists(ctl, DB_ADMIN_SOURCEHOST, sourcehost, &found);
		if (ret != CTL_OK)
			return ret;
		if (!found)
			return ctl_error(CTL_NOT_FOUND,
					 "unknown sourcehost "
					 "'%s' (dmfctl "
					 "sourcehost add)",
					 sourcehost);
	}
	if (password_stdin) {
		ret = wrap_password(ctl, key, &iv, &ct);
		if (ret != CTL_OK)
			return ret;
	}
	{
		const struct db_admin_job job = {
			.target = target,
			.source = source,
			.uid = uid,
			.ruid = ruid,
			.email = email,
			.sourcehost = sourcehost,
			.sourceport = sourceport,
			.imapc_ssl = imapc_ssl,
			.imapoptions = imapoptions,
			.exclude = exclude,
			.password = ct,
			.password_key = key,
			.password_iv = iv,
			.phase = phase,
			.priority = priority,
		};

		if (db_admin_job_add(ctl->pool, &job, &id, &err) < 0)
			ret = ctl_db_error(&err);
	}
	free(iv);
	free(ct);
	if (ret != CTL_OK)
		return ret;
	printf("%" PRId64 "\n", id);
	return CTL_OK;
}

static int job_show(struct ctl *ctl, int argc, char **argv)
{
	struct db_rows *rows = NULL;
	char *error = NULL;
	long long id;
	json_t *j;
	int ret;

	if (argc != 3 || parse_id(argv[2], &id) < 0)
		return ctl_error(CTL_USAGE, "job show: give one job ID");
	ret = ctl_connect(ctl);
	if (ret != CTL_OK)
		return ret;
	ret = db_admin_job_show(ctl->pool, id, &rows, &error);
	if (ret == -ENOENT)
		return ctl_error(CTL_NOT_FOUND, "no job %lld", id);
	if (ret < 0)
		return ctl_db_error(&error);
	j = ctl_rows_json(rows, job_numeric, job_json);
	{
		json_t *obj = json_array_get(j, 0);
		json_t *hp = json_object_get(obj, "hasPassword");

		json_object_set_new(
			obj, "hasPassword",
			json_boolean(json_is_string(hp) &&
				     strcmp(json_string_value(hp), "1") == 0));
		ctl_print_json(obj);
	}
	json_decref(j);
	db_rows_free(&rows);
	return CTL_OK;
}

static int job_list(struct ctl *ctl, int argc, char **argv)
{
	const char *status = NULL, *target = NULL, *source = NULL;
	long long limit = 1000;
	bool as_json = false;
	struct db_rows *rows = NULL;
	char *error = NULL;
	int ret;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0)
			as_json = true;
		else if (strcmp(a, "--status") == 0 && i + 1 < argc)
			status = argv[++i];
		else if (strcmp(a, "--target") == 0 && i + 1 < argc)
			target = argv[++i];
		else if (strcmp(a, "--source") == 0 && i + 1 < argc)
			source = argv[++i];
		else if (strcmp(a, "--limit") == 0 && i + 1 < argc) {
			if (parse_ll(argv[++i], &limit) < 0 || limit < 1)
				return ctl_error(CTL_USAGE, "job list: bad "
							    "--limit");
		} else
			return ctl_error(CTL_USAGE, "job list: unexpected '%s'",
					 a);
	}
	if (status != NULL && strcmp(status, "QUEUED") != 0 &&
	    strcmp(status, "RUNNING") != 0 && strcmp(status, "SUCCESS") != 0 &&
	    strcmp(status, "FAILURE") != 0 && strcmp(status, "CANCELED") != 0)
		return ctl_error(CTL_USAGE, "job list: --status is QUEUED, "
					    "RUNNING, SUCCESS, FAILURE or "
					    "CANCELED");
	ret = ctl_connect(ctl);
	if (ret != CTL_OK)
		return ret;
	if (db_admin_job_list(ctl->pool, status, target, source, limit, as_json,
			      &rows, &error) < 0)
		return ctl_db_error(&error);
	return ctl_print_rows(&rows, as_json, job_numeric, job_json);
}

static int job_status_of(struct ctl *ctl, long long id, char **status_r)
{
	char *error = NULL;
	int ret;

	ret = ctl_connect(ctl);
	if (ret != CTL_OK)
		return ret;
	ret = db_admin_job_status(ctl->pool, id, status_r, &error);
	if (ret == -ENOENT)
		return ctl_error(CTL_NOT_FOUND, "no job %lld", id);
	if (ret < 0)
		return ctl_db_error(&error);
	return CTL_OK;
}

static int job_wait(struct ctl *ctl, int argc, char **argv)
{
	long long *ids = calloc((size_t)argc, sizeof(long long));
	double timeout = 0;
	size_t n = 0;
	struct timespec t0, now;
	int ret = CTL_OK;

	if (ids == NULL)
		return ctl_error(CTL_DB, "out of memory");
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			char *end;

			timeout = strtod(argv[++i], &end);
			if (*end != '\0' || timeout < 0) {
				free(ids);
				return ctl_error(CTL_USAGE, "job wait: bad "
							    "--timeout");
			}
		} else if (parse_id(argv[i], &ids[n]) == 0) {
			n++;
		} else {
			free(ids);
			return ctl_error(CTL_USAGE,
					 "job wait: '%s' is not a job "
					 "ID",
					 argv[i]);
		}
	}
	if (n == 0) {
		free(ids);
		return ctl_error(CTL_USAGE,
				 "job wait: give one or more job IDs");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		size_t done = 0, failed = 0;

		for (size_t i = 0; i < n && ret == CTL_OK; i++) {
			char *st = NULL;

			ret = job_status_of(ctl, ids[i], &st);
			if (ret != CTL_OK)
				break;
			if (strcmp(st, "QUEUED") != 0 &&
			    strcmp(st, "RUNNING") != 0) {
				done++;
				if (strcmp(st, "SUCCESS") != 0) {
					failed++;
					fprintf(stderr,
						"dmfctl: job %lld "
						"ended %s\n",
						ids[i], st);
				}
			}
			free(st);
		}
		if (ret != CTL_OK)
			break;
		if (done == n) {
			ret = failed > 0 ? CTL_FAILED : CTL_OK;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout > 0 &&
		    (double)(now.tv_sec - t0.tv_sec) +
				    (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >=
			    timeout) {
			ret = ctl_error(CTL_FAILED,
					"job wait: timed out after "
					"%g s (%zu of %zu ended)",
					timeout, done, n);
			break;
		}
		nanosleep(&(struct timespec){ 0, 200000000L }, NULL);
	}
	free(ids);
	return ret;
}

static int job_requeue(struct ctl *ctl, int argc, char **argv)
{
	char *status = NULL, *error = NULL;
	bool done = false;
	long long id;
	int ret;

	if (argc != 3 || parse_id(argv[2], &id) < 0)
		return ctl_error(CTL_USAGE, "job requeue: give one job ID");
	ret = ctl_connect(ctl);
	if (ret != CTL_OK)
		return ret;
	if (db_admin_job_requeue(ctl->pool, id, &done, &error) < 0)
		return ctl_db_error(&error);
	if (done) {
		printf("job %lld queued\n", id);
		return CTL_OK;
	}
	ret = job_status_of(ctl, id, &status);
	if (ret != CTL_OK)
		return ret;
	ret = ctl_error(CTL_USAGE,
			"job %lld is %s: only ended jobs can be "
			"requeued",
			id, status != NULL ? status : "?");
	free(status);
	return ret;
}

static int job_cancel(struct ctl *ctl, int argc, char **argv)
{
	enum db_admin_cancel result;
	char *status = NULL, *error = NULL;
	long long id;
	int ret;

	if (argc != 3 || parse_id(argv[2], &id) < 0)
		return ctl_error(CTL_USAGE, "job cancel: give one job ID");
	ret = ctl_connect(ctl);
	if (ret != CTL_OK)
		return ret;
	if (db_admin_job_cancel(ctl->pool, id, &result, &error) < 0)
		return ctl_db_error(&error);
	if (result == DB_ADMIN_CANCEL_DONE) {
		printf("job %lld canceled\n", id);
		return CTL_OK;
	}
	if (result == DB_ADMIN_CANCEL_REQUESTED) {
		printf("job %lld is running: cancel requested (its worker "
		       "aborts it at its next heartbeat)\n",
		       id);
		return CTL_OK;
	}
	ret = job_status_of(ctl, id, &status);
	if (ret != CTL_OK)
		return ret;
	ret = ctl_error(CTL_USAGE, "job %lld already ended (%s)", id,
			status != NULL ? status : "?");
	free(status);
	return ret;
}

int ctl_job(struct ctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL || ctl_wants_help(argc, argv)) {
		printf("Usage:\n"
		       "  dmfctl job add --source S --uid U [--target T] "
		       "[--ruid R] [--email E]\n"
		       "        [--sourcehost H] [--sourceport P] [--imapc-ssl "
		       "no|imaps|starttls]\n"
		       "        [--imapoptions O] [--exclude X] [--phase "
		       "sync|cutover] [--priority N]\n"
		       "        [--password-stdin --key NAME]     prints the "
		       "new "
		       "job id\n"
		       "  dmfctl job show ID                       the job as "
		       "JSON, with its response details\n"
		       "  dmfctl job list [--status S] [--target T] [--source "
		       "S] "
		       "[--limit N] [--json]\n"
		       "  dmfctl job wait ID... [--timeout SECONDS]  exit 0 "
		       "when "
		       "all ended in SUCCESS, 4 otherwise\n"
		       "  dmfctl job requeue ID                    queue an "
		       "ended "
		       "job again\n"
		       "  dmfctl job cancel ID                     cancel a "
		       "queued "
		       "job, or ask a running one to stop\n"
		       "Status values: QUEUED, RUNNING, SUCCESS, FAILURE, "
		       "CANCELED.\n"
		       "--target defaults to dmf.worker.identity.target.  "
		       "--password-stdin reads the user's\npassword from the "
		       "first line of stdin and stores it wrapped with the "
		       "storage key NAME\n(dmf.worker.crypto.storageKeys).\n");
		return sub == NULL ? CTL_USAGE : CTL_OK;
	}
	if (strcmp(sub, "add") == 0)
		return job_add(ctl, argc, argv);
	if (strcmp(sub, "show") == 0)
		return job_show(ctl, argc, argv);
	if (strcmp(sub, "list") == 0)
		return job_list(ctl, argc, argv);
	if (strcmp(sub, "wait") == 0)
		return job_wait(ctl, argc, argv);
	if (strcmp(sub, "requeue") == 0)
		return job_requeue(ctl, argc, argv);
	if (strcmp(sub, "cancel") == 0)
		return job_cancel(ctl, argc, argv);
	return ctl_error(CTL_USAGE,
			 "job: unknown command '%s' (add, show, "
			 "list, wait, requeue, cancel)",
			 sub);
}
