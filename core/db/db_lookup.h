/*
 * db_lookup.h - the single-row reads behind the plugins' `db` host table
 * (core/host/host_db.c): a sourcehost by name, one field of a job row.
 * Errors are those of db.h, plus -ENOENT (no such row, or a NULL field)
 * and -EINVAL (a field name not in the list).
 */
#ifndef DMF_CORE_DB_LOOKUP_H
#define DMF_CORE_DB_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* A row of `sourcehosts`. */
struct db_sourcehost {
	char *name;
	char *host;
	unsigned port; /* 143 when NULL */
	char *ssl; /* no, imaps, starttls */
	char *commands; /* JSON object text, NULL when none */
};

/* Read sourcehost `name` into *sh_r (free with db_sourcehost_clear). */
int db_sourcehost_get(struct db_pool *pool, const char *name,
		      struct db_sourcehost *sh_r);
void db_sourcehost_clear(struct db_sourcehost *sh);

/* True for the job fields a plugin may read: uid, ruid, email,
 * sourcehost, sourceport, imapc_ssl, imapoptions, exclude, phase,
 * priority, status, attempts, rescues, submitted, target, source. */
bool db_job_field_known(const char *field);

/* Field `field` of job `id` as stored now, into *value_r (allocated). */
int db_job_field(struct db_pool *pool, int64_t id, const char *field,
		 char **value_r);

#endif /* DMF_CORE_DB_LOOKUP_H */
