/*
 * test_mdb.c - the one table of job properties (core/lib/mdb.c): the
 * values the poller derives from a row, md5path and 2chrruid, and that
 * sdk/include/dmf/host.h (DMF_MDB_*), docs/commands.md (%{mdb:NAME}) and
 * docs/schema.md (the properties handed to the plugin) list exactly the
 * table's names.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "db/db_jobs.h"
#include "lib/util.h"
#include "lib/job.h"
#include "lib/mdb.h"

#define MAX_NAMES 64

struct names {
	char *v[MAX_NAMES];
	size_t n;
};

static void names_add(struct names *ns, const char *s, size_t len)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strlen(ns->v[i]) == len && memcmp(ns->v[i], s, len) == 0)
			return;
	if (ns->n < MAX_NAMES)
		ns->v[ns->n++] = strndup(s, len);
}

static bool names_has(const struct names *ns, const char *s)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], s) == 0)
			return true;
	return false;
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	ns->n = 0;
}

/* Every `name` in s[0..len) (backticks) that is a plain word. */
static void backticked(struct names *ns, const char *s, size_t len)
{
	const char *end = s + len, *p = s;

	while (p < end && (p = memchr(p, '`', (size_t)(end - p))) != NULL) {
		const char *q = memchr(p + 1, '`', (size_t)(end - p - 1));
		bool word = q != NULL && q > p + 1;

		if (q == NULL)
			break;
		for (const char *c = p + 1; word && c < q; c++)
			word = (*c >= 'a' && *c <= 'z') ||
			       (*c >= 'A' && *c <= 'Z') ||
			       (*c >= '0' && *c <= '9') || *c == '_';
		if (word)
			names_add(ns, p + 1, (size_t)(q - p - 1));
		p = q + 1;
	}
}

static char *slurp(const char *rel)
{
	const char *src = getenv("abs_top_srcdir");
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", src != NULL ? src : "..", rel);
	return util_read_file(path, NULL);
}

/* The table's names with all of `flags` set (0: every name) equal `ns`. */
static void same_names(const struct names *ns, unsigned flags, const char *what)
{
	size_t want = 0;

	for (size_t i = 0; i < mdb_n_props; i++) {
		if ((mdb_props[i].flags & flags) != flags)
			continue;
		want++;
		ok(names_has(ns, mdb_props[i].name), "%s lists %s", what,
		   mdb_props[i].name);
	}
	is_int(ns->n, want, "%s lists %zu names, no other", what, want);
	for (size_t i = 0; i < ns->n; i++) {
		const struct mdb_prop *p = mdb_find(ns->v[i], strlen(ns->v[i]));

		if (p == NULL || (p->flags & flags) != flags)
			diag("%s has '%s', the table does not", what, ns->v[i]);
	}
}

static void test_docs(void)
{
	struct names ns = { 0 };
	char *text = slurp("docs/commands.md"), *line, *sec, *p;

	/* docs/commands.md: | `%{mdb:NAME}` | a value of the job: `..`, .. | */
	line = text != NULL ? strstr(text, "\n| `%{mdb:NAME}` |") : NULL;
	ok(line != NULL, "docs/commands.md has the %%{mdb:NAME} row");
	if (line != NULL) {
		line += strlen("\n| `%{mdb:NAME}` |");
		backticked(&ns, line, strcspn(line, "\n"));
	}
	same_names(&ns, MDB_INJECT, "docs/commands.md");
	names_free(&ns);
	free(text);

	/* docs/schema.md: the first column of the property table */
	text = slurp("docs/schema.md");
	sec = text != NULL ? strstr(text, "## Job properties handed to the "
					  "plugin") :
			     NULL;
	ok(sec != NULL, "docs/schema.md has the property table");
	for (p = sec != NULL ? strstr(sec, "\n| `") : NULL; p != NULL;) {
		const char *cell = p + 2, *bar = strchr(cell, '|');

		if (bar == NULL)
			break;
		backticked(&ns, cell, (size_t)(bar - cell));
		p = strchr(p + 1, '\n');
		if (p == NULL || strncmp(p, "\n| `", 4) != 0)
			break;
	}
	same_names(&ns, 0, "docs/schema.md");
	names_free(&ns);
	free(text);

	/* sdk/include/dmf/host.h: #define DMF_MDB_X "name" */
	text = slurp("sdk/include/dmf/host.h");
	for (p = text; p != NULL && (p = strstr(p, "#define DMF_MDB_"));) {
		char *q = strchr(p, '"'),
		     *e = q != NULL ? strchr(q + 1, '"') : NULL;

		if (e == NULL || memchr(p, '\n', (size_t)(q - p)) != NULL)
			break;
		names_add(&ns, q + 1, (size_t)(e - q - 1));
		p = e;
	}
	same_names(&ns, 0, "host.h DMF_MDB_*");
	names_free(&ns);
	free(text);
}

static void test_helpers(void)
{
	char buf[128];

	ok(mdb_md5path("user1", buf, sizeof(buf)) == 0, "md5path");
	/* md5("user1") = 24c9e15e52afc47c225b757e7bee1f9d */
	is_str(buf, "24/c9/user1", "md5path layout");
	ok(mdb_md5path("user1", buf, 5) == -ENOSPC, "md5path too small");
	ok(mdb_2chr("ruser1", buf, sizeof(buf)) == 0, "2chr");
	is_str(buf, "ru", "2chrruid");
	ok(mdb_2chr("\xc3\xbc"
		    "ber",
		    buf, sizeof(buf)) == 0,
	   "2chr utf-8");
	is_str(buf,
	       "\xc3\xbc"
	       "b",
	       "2chrruid keeps a UTF-8 character whole");
	ok(mdb_2chr("x", buf, sizeof(buf)) == 0, "2chr short");
	is_str(buf, "x", "2chrruid of a one-character ruid");
}

static const char *prop(const struct dmf_job *job, const char *name)
{
	return job_get_property(job, name);
}

static void test_from_row(void)
{
	struct db_job_row r = {
		.id = 5,
		.target = "t1",
		.source = "POD_1",
		.uid = "user1",
		.email = "user1@example.com",
		.sourcehost = "sh1",
		.phase = "sync",
		.sourceport = -1,
		.priority = 7,
		.submitted = "2026-01-02 03:04:05.000",
		.sourcehost_known = true,
		.sh_host = "10.0.0.5",
		.sh_ssl = "imaps",
		.sh_commands = "{\"sync\": {}}",
		.sh_port = 993,
	};
	struct dmf_job *job = job_new("5", "sync", "POD_1", "t1");

	is_int(mdb_set_props(job, &r), 0, "properties from a row");
	is_str(prop(job, DMF_MDB_UID), "user1", "uid");
	is_str(prop(job, DMF_MDB_RUID), "user1", "ruid defaults to uid");
	is_str(prop(job, DMF_MDB_2CHRRUID), "us", "2chrruid of the uid");
	is_str(prop(job, DMF_MDB_MD5PATH), "24/c9/user1", "md5path");
	is_str(prop(job, DMF_MDB_PRIORITY), "7", "priority");
	is_str(prop(job, DMF_MDB_TARGET), "t1", "target");
	is_str(prop(job, DMF_MDB_SUBMITTED), "2026-01-02 03:04:05.000",
	       "submitted");
	is_str(prop(job, DMF_MDB_SOURCEHOST), "10.0.0.5",
	       "sourcehost: the definition's host");
	is_str(prop(job, DMF_MDB_SOURCEHOSTNAME), "sh1", "sourcehostname");
	is_str(prop(job, DMF_MDB_SOURCEHOSTCOMMANDS), "{\"sync\": {}}",
	       "sourcehostcommands");
	is_str(prop(job, DMF_MDB_SOURCEPORT), "993",
	       "sourceport: the sourcehost's");
	is_str(prop(job, DMF_MDB_IMAPC_SSL), "imaps",
	       "imapc_ssl: the sourcehost's");
	ok(prop(job, DMF_MDB_IMAPOPTIONS) == NULL, "no imapoptions: absent");
	ok(prop(job, DMF_MDB_SOURCEPASSWD) == NULL,
	   "sourcepasswd is not derived from the row");
	job_free(&job);

	/* the row's own values win; an undefined sourcehost is its name */
	r.ruid = "\xc3\xa4rger";
	r.sourceport = 1143;
	r.imapc_ssl = "starttls";
	r.sourcehost_known = false;
	r.exclude = "Trash";
	job = job_new("5", "sync", "POD_1", "t1");
	is_int(mdb_set_props(job, &r), 0, "second row");
	is_str(prop(job, DMF_MDB_2CHRRUID),
	       "\xc3\xa4"
	       "r",
	       "2chrruid of the ruid");
	is_str(prop(job, DMF_MDB_SOURCEHOST), "sh1",
	       "sourcehost: the name without a definition");
	is_str(prop(job, DMF_MDB_SOURCEPORT), "1143", "sourceport: the row's");
	is_str(prop(job, DMF_MDB_IMAPC_SSL), "starttls",
	       "imapc_ssl: the row's");
	is_str(prop(job, DMF_MDB_EXCLUDE), "Trash", "exclude");
	job_free(&job);

	/* no sourcehost at all: none of its three properties */
	r.sourcehost = NULL;
	r.sourceport = -1;
	r.imapc_ssl = NULL;
	job = job_new("5", "sync", "POD_1", "t1");
	is_int(mdb_set_props(job, &r), 0, "row without a sourcehost");
	ok(prop(job, DMF_MDB_SOURCEHOST) == NULL &&
		   prop(job, DMF_MDB_SOURCEHOSTNAME) == NULL &&
		   prop(job, DMF_MDB_SOURCEHOSTCOMMANDS) == NULL &&
		   prop(job, DMF_MDB_SOURCEPORT) == NULL &&
		   prop(job, DMF_MDB_IMAPC_SSL) == NULL,
	   "no sourcehost, port or ssl properties");
	job_free(&job);
}

int main(void)
{
	plan_lazy();
	test_helpers();
	test_from_row();
	test_docs();
	ok(mdb_find("md5path", 7) != NULL && mdb_find("md5pat", 6) == NULL,
	   "mdb_find matches whole names");
	return done_testing();
}
