/* mdb.c - the job property table (mdb.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "db/db_jobs.h"
#include "lib/job.h"
#include "lib/mdb.h"

static bool has_text(const char *s)
{
	return s != NULL && *s != '\0';
}

static const char *ruid_of(const struct db_job_row *r)
{
	return has_text(r->ruid) ? r->ruid : r->uid;
}

static int d_ruid(const struct db_job_row *r, char *buf, const char **v)
{
	(void)buf;
	*v = ruid_of(r);
	return 0;
}

static int d_priority(const struct db_job_row *r, char *buf, const char **v)
{
	snprintf(buf, MDB_VALUE_MAX, "%d", r->priority);
	*v = buf;
	return 0;
}

static int d_md5path(const struct db_job_row *r, char *buf, const char **v)
{
	*v = buf;
	return mdb_md5path(r->uid, buf, MDB_VALUE_MAX);
}

static int d_2chrruid(const struct db_job_row *r, char *buf, const char **v)
{
	*v = buf;
	return mdb_2chr(ruid_of(r), buf, MDB_VALUE_MAX);
}

static int d_sourcehost(const struct db_job_row *r, char *buf, const char **v)
{
	(void)buf;
	*v = !has_text(r->sourcehost)		       ? NULL :
	     r->sourcehost_known && r->sh_host != NULL ? r->sh_host :
							 r->sourcehost;
	return 0;
}

static int d_sourcehostname(const struct db_job_row *r, char *buf,
			    const char **v)
{
	(void)buf;
	*v = has_text(r->sourcehost) ? r->sourcehost : NULL;
	return 0;
}

static int d_sourcehostcommands(const struct db_job_row *r, char *buf,
				const char **v)
{
	(void)buf;
	*v = has_text(r->sourcehost) ? r->sh_commands : NULL;
	return 0;
}

static int d_sourceport(const struct db_job_row *r, char *buf, const char **v)
{
	*v = NULL;
	if (r->sourceport > 0)
		snprintf(buf, MDB_VALUE_MAX, "%ld", r->sourceport);
	else if (r->sourcehost_known && r->sh_port > 0)
		snprintf(buf, MDB_VALUE_MAX, "%ld", r->sh_port);
	else
		return 0;
	*v = buf;
	return 0;
}

static int d_imapc_ssl(const struct db_job_row *r, char *buf, const char **v)
{
	(void)buf;
	*v = has_text(r->imapc_ssl) ? r->imapc_ssl :
	     r->sourcehost_known    ? r->sh_ssl :
				      NULL;
	return 0;
}

/* A string column of the row as it is; a value derive() computes; none. */
#define ROW(member) NULL, (offsetof(struct db_job_row, member) + 1)
#define DERIVED(fn) fn, 0
#define NOT_FROM_ROW NULL, 0

const struct mdb_prop mdb_props[] = {
	{ DMF_MDB_UID, MDB_INJECT, "the row's `uid`", ROW(uid) },
	{ DMF_MDB_RUID, MDB_INJECT, "the row's `ruid`, else `uid`",
	  DERIVED(d_ruid) },
	{ DMF_MDB_EMAIL, MDB_INJECT, "the row's `email`", ROW(email) },
	{ DMF_MDB_SOURCE, MDB_INJECT, "the row's `source`", ROW(source) },
	{ DMF_MDB_TARGET, 0, "the row's `target`", ROW(target) },
	{ DMF_MDB_PHASE, 0, "the row's `phase`", ROW(phase) },
	{ DMF_MDB_PRIORITY, 0, "the row's `priority`", DERIVED(d_priority) },
	{ DMF_MDB_MD5PATH, MDB_INJECT,
	  "the hashed directory path of `uid` (Dovecot's %2Mu/%2.2Mu/%u)",
	  DERIVED(d_md5path) },
	{ DMF_MDB_2CHRRUID, MDB_INJECT, "the first two characters of `ruid`",
	  DERIVED(d_2chrruid) },
	{ DMF_MDB_IMAPOPTIONS, MDB_INJECT, "the row's `imapoptions`",
	  ROW(imapoptions) },
	{ DMF_MDB_EXCLUDE, MDB_INJECT, "the row's `exclude`", ROW(exclude) },
	{ DMF_MDB_SUBMITTED, 0, "the row's `submitted`", ROW(submitted) },
	{ DMF_MDB_SOURCEHOST, MDB_INJECT,
	  "the sourcehost's `host` (the row's `sourcehost` name when it has "
	  "no definition)",
	  DERIVED(d_sourcehost) },
	{ DMF_MDB_SOURCEHOSTNAME, 0, "the row's `sourcehost` name",
	  DERIVED(d_sourcehostname) },
	{ DMF_MDB_SOURCEHOSTCOMMANDS, 0, "the sourcehost's `commands` JSON",
	  DERIVED(d_sourcehostcommands) },
	{ DMF_MDB_SOURCEPORT, MDB_INJECT,
	  "the row's port, else the sourcehost's", DERIVED(d_sourceport) },
	{ DMF_MDB_IMAPC_SSL, MDB_INJECT,
	  "the row's value, else the sourcehost's `ssl`",
	  DERIVED(d_imapc_ssl) },
	{ DMF_MDB_SOURCEPASSWD, MDB_INJECT | MDB_SECRET,
	  "the unwrapped password (the poller unwraps it)", NOT_FROM_ROW },
	{ DMF_MDB_CONTAINER, MDB_INJECT,
	  "the doveadm worker's fetch-container lookup", NOT_FROM_ROW },
	{ DMF_MDB_DIRECTOR_SOURCEHOST, MDB_INJECT,
	  "the doveadm worker's director lookup (use-sourcehost)",
	  NOT_FROM_ROW },
};

const size_t mdb_n_props = sizeof(mdb_props) / sizeof(mdb_props[0]);

const struct mdb_prop *mdb_find(const char *name, size_t len)
{
	for (size_t i = 0; i < mdb_n_props; i++)
		if (strlen(mdb_props[i].name) == len &&
		    memcmp(mdb_props[i].name, name, len) == 0)
			return &mdb_props[i];
	return NULL;
}

bool mdb_plugin_settable(const char *name)
{
	const struct mdb_prop *mp = mdb_find(name, strlen(name));

	return mp == NULL || (mp->derive == NULL && mp->row_field == 0 &&
			      !(mp->flags & MDB_SECRET));
}

int mdb_set_props(struct dmf_job *job, const struct db_job_row *r)
{
	char buf[MDB_VALUE_MAX];
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < mdb_n_props; i++) {
		const char *v = NULL;

		if (mdb_props[i].row_field != 0)
			memcpy(&v, (const char *)r + mdb_props[i].row_field - 1,
			       sizeof(v));
		else if (mdb_props[i].derive != NULL)
			ret = mdb_props[i].derive(r, buf, &v);
		else
			continue;
		if (ret == 0 && v != NULL)
			ret = job_set_property(
				job, mdb_props[i].name, v,
				(mdb_props[i].flags & MDB_SECRET) != 0);
	}
	return ret;
}

int mdb_md5path(const char *uid, char *buf, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[8];

	if (EVP_Digest(uid, strlen(uid), md, &mdlen, EVP_md5(), NULL) != 1 ||
	    mdlen < 2)
		return -EIO;
	snprintf(hex, sizeof(hex), "%02x", md[0]);
	snprintf(hex + 2, sizeof(hex) - 2, "%02x", md[1]);
	if ((size_t)snprintf(buf, size, "%.2s/%.2s/%s", hex, hex + 2, uid) >=
	    size)
		return -ENOSPC;
	return 0;
}

int mdb_2chr(const char *ruid, char *buf, size_t size)
{
	size_t n = 0;

	/* two characters, not two bytes: keep UTF-8 sequences whole */
	for (unsigned chars = 0; ruid[n] != '\0'; n++) {
		if (((unsigned char)ruid[n] & 0xc0) != 0x80 && chars++ == 2)
			break;
	}
	if (n >= size)
		return -ENOSPC;
	memcpy(buf, ruid, n);
	buf[n] = '\0';
	return 0;
}
