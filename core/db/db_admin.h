/*
 * db_admin.h - what dmfctl does to the Migration Database (what the DMF
 * Scheduler does): targets, sources, sourcehosts, jobs and backends.
 * dmfctl keeps the argument parsing and the printing; the list and show
 * functions hand it the rows (column names as printed).
 *
 * Each function takes a connection of the pool for its statements (no
 * retry: an admin command fails fast).  Errors are those of db.h with
 * *error_r (allocated, the server's text), plus -ENOENT without text for
 * a missing row where the description says so.
 */
#ifndef DMF_CORE_DB_ADMIN_H
#define DMF_CORE_DB_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* ------------------------------------------- targets, sources, hosts --- */

/* The tables of named things a job refers to. */
enum db_admin_kind {
	DB_ADMIN_TARGET, /* targets */
	DB_ADMIN_SOURCE, /* sources */
	DB_ADMIN_SOURCEHOST /* sourcehosts */
};

/* Add a target or source (DB_ADMIN_SOURCEHOST: -EINVAL); an existing one
 * keeps its description unless `description` is not NULL. */
int db_admin_named_add(struct db_pool *pool, enum db_admin_kind kind,
		       const char *name, const char *description,
		       char **error_r);
/* Targets or sources by name: name, description, created. */
int db_admin_named_list(struct db_pool *pool, enum db_admin_kind kind,
			struct db_rows **rows_r, char **error_r);
/* Whether the target, source or sourcehost `name` exists. */
int db_admin_named_exists(struct db_pool *pool, enum db_admin_kind kind,
			  const char *name, bool *found_r, char **error_r);

/* Add or replace a sourcehost (commands: JSON text or NULL). */
int db_admin_sourcehost_add(struct db_pool *pool, const char *name,
			    const char *host, long long port, const char *ssl,
			    const char *commands, char **error_r);
/* Sourcehosts by name: name, host, port, ssl and commands (`full`) or
 * has_commands (0/1). */
int db_admin_sourcehost_list(struct db_pool *pool, bool full,
			     struct db_rows **rows_r, char **error_r);
/* One sourcehost with created and updated; -ENOENT when unknown. */
int db_admin_sourcehost_show(struct db_pool *pool, const char *name,
			     struct db_rows **rows_r, char **error_r);

/* ------------------------------------------------------------- jobs --- */

/* A job to enqueue: NULL (or sourceport <= 0) stores SQL NULL. */
struct db_admin_job {
	const char *target, *source, *uid, *ruid, *email, *sourcehost;
	long long sourceport;
	const char *imapc_ssl, *imapoptions, *exclude;
	const char *password; /* wrapped (crypto_wrap), or NULL */
	const char *password_key, *password_iv;
	const char *phase;
	long long priority;
};

/* Enqueue a job; *id_r receives its id. */
int db_admin_job_add(struct db_pool *pool, const struct db_admin_job *job,
		     int64_t *id_r, char **error_r);
/* Every column of job `id` (camelCase names, times as ISO 8601 UTC,
 * hasPassword 0/1 instead of the password); -ENOENT when unknown. */
int db_admin_job_show(struct db_pool *pool, int64_t id, struct db_rows **rows_r,
		      char **error_r);
/* Jobs oldest first, filtered by status, target, source (NULL: any), at
 * most `limit`: every column as job_show (`full`) or a short set. */
int db_admin_job_list(struct db_pool *pool, const char *status,
		      const char *target, const char *source, long long limit,
		      bool full, struct db_rows **rows_r, char **error_r);
/* The status of job `id` (allocated); -ENOENT when unknown. */
int db_admin_job_status(struct db_pool *pool, int64_t id, char **status_r,
			char **error_r);
/* Queue an ended job (SUCCESS, FAILURE, CANCELED) again; *done_r false
 * when the job is unknown or has not ended. */
int db_admin_job_requeue(struct db_pool *pool, int64_t id, bool *done_r,
			 char **error_r);

enum db_admin_cancel {
	DB_ADMIN_CANCEL_NONE, /* unknown or already ended */
	DB_ADMIN_CANCEL_DONE, /* was QUEUED: CANCELED now */
	DB_ADMIN_CANCEL_REQUESTED /* is RUNNING: cancel_requested set */
};

/* Cancel a queued job, or ask the worker of a running one to abort it. */
int db_admin_job_cancel(struct db_pool *pool, int64_t id,
			enum db_admin_cancel *result_r, char **error_r);
/* Job counts per status (status, count), on a connection in hand. */
int db_admin_job_counts(struct db_conn *conn, struct db_rows **rows_r);

/* --------------------------------------------------------- backends --- */

/* Backends by name, or the one `name` (-ENOENT when unknown): name,
 * target, memberid, initialState, maxThreads, status, threads, command,
 * updated, heartbeat, bootId, host, pid, version, sources ("a,b"). */
int db_admin_backend_list(struct db_pool *pool, struct db_rows **rows_r,
			  char **error_r);
int db_admin_backend_show(struct db_pool *pool, const char *name,
			  struct db_rows **rows_r, char **error_r);
/* Leave `command` (PAUSE, RESUME, START, STOP) for the backend's worker;
 * -ENOENT when unknown. */
int db_admin_backend_command(struct db_pool *pool, const char *name,
			     const char *command, char **error_r);
/*
 * Change a backend (-ENOENT when unknown): maxThreads when max_threads >=
 * 0, initialState when initial >= 0, and the sources when `sources` ("a,b",
 * blanks skipped) is not NULL (replaced in one transaction).
 */
int db_admin_backend_set(struct db_pool *pool, const char *name,
			 long long max_threads, int initial,
			 const char *sources, char **error_r);

#endif /* DMF_CORE_DB_ADMIN_H */
