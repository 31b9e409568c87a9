/* db_jobs.c - the SQL of the job lifecycle (see db_jobs.h). */
#include "dmf-build.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_jobs.h"
#include "lib/log.h"
#include "lib/util.h"

/* ------------------------------------------------------ candidates --- */

struct cand_ctx {
	const char *target;
	char *const *sources;
	unsigned limit;
	struct db_rows *rows;
};

/* "?" or "?,?,?" for n parameters */
static char *in_list(size_t n)
{
	char *s = malloc(n * 2 + 1);
	size_t o = 0;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			s[o++] = ',';
		s[o++] = '?';
	}
	s[o] = '\0';
	return s;
}

static int cand_fn(struct db_conn *c, void *arg)
{
	struct cand_ctx *x = arg;
	struct db_value params[66];
	size_t n_src = 0, np = 0;
	char *marks, *sql;
	int ret;

	while (x->sources[n_src] != NULL && n_src < 64)
		n_src++;
	if (n_src == 0)
		return 0;
	marks = in_list(n_src);
	if (marks == NULL)
		return -ENOMEM;
	sql = xasprintf("SELECT id, uid FROM jobs FORCE INDEX (ix_jobs_claim) "
			"WHERE target = ? AND status = 'QUEUED' "
			"AND source IN (%s) "
			"ORDER BY prio_key, submitted, id LIMIT ?",
			marks);
	free(marks);
	if (sql == NULL)
		return -ENOMEM;
	params[np++] = DB_STR(x->target);
	for (size_t i = 0; i < n_src; i++)
		params[np++] = DB_STR(x->sources[i]);
	params[np++] = DB_INT(x->limit);
	db_rows_free(&x->rows);
	ret = db_exec(c, sql, params, np, &x->rows, NULL);
	free(sql);
	return ret;
}

int db_jobs_candidates(struct db_pool *pool, const char *target,
		       char *const *sources, unsigned limit,
		       struct db_candidate **cands_r, size_t *n_r,
		       char **error_r)
{
	struct cand_ctx x = { .target = target,
			      .sources = sources,
			      .limit = limit };
	struct db_candidate *cands = NULL;
	size_t n = 0;
	int ret;

	ret = db_run(pool, cand_fn, &x, error_r);
	if (ret < 0) {
		db_rows_free(&x.rows);
		return ret;
	}
	if (x.rows != NULL && x.rows->n_rows > 0) {
		cands = calloc(x.rows->n_rows, sizeof(*cands));
		if (cands == NULL) {
			db_rows_free(&x.rows);
			return -ENOMEM;
		}
		for (size_t i = 0; i < x.rows->n_rows; i++) {
			cands[i].id = db_cell_ll(x.rows, i, 0, 0);
			cands[i].uid = xstrdup(db_cell(x.rows, i, 1));
		}
		n = x.rows->n_rows;
	}
	db_rows_free(&x.rows);
	*cands_r = cands;
	*n_r = n;
	return 0;
}

void db_candidates_free(struct db_candidate **cands, size_t n)
{
	if (*cands == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*cands)[i].uid);
	free(*cands);
	*cands = NULL;
}

/* ----------------------------------------------------------- claim --- */

void db_job_row_clear(struct db_job_row *r)
{
	free(r->target);
	free(r->source);
	free(r->uid);
	free(r->ruid);
	free(r->email);
	free(r->sourcehost);
	free(r->imapc_ssl);
	free(r->imapoptions);
	free(r->exclude);
	free(r->phase);
	if (r->password != NULL)
		secret_free(&r->password);
	free(r->password_key);
	free(r->password_iv);
	free(r->submitted);
	free(r->sh_host);
	free(r->sh_ssl);
	free(r->sh_commands);
	free(r->problem);
	memset(r, 0, sizeof(*r));
}

void db_claim_res_clear(struct db_claim_res *res)
{
	for (size_t i = 0; i < res->n_rows; i++)
		db_job_row_clear(&res->rows[i]);
	free(res->rows);
	free(res->busy);
	free(res->gone);
	memset(res, 0, sizeof(*res));
}

static int push_id(int64_t **arr, size_t *n, int64_t id)
{
	int64_t *na = realloc(*arr, (*n + 1) * sizeof(**arr));

	if (na == NULL)
		return -ENOMEM;
	na[(*n)++] = id;
	*arr = na;
	return 0;
}

static bool str_in(char *const *list, const char *s)
{
	if (list == NULL || s == NULL)
		return false;
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static char *cell_dup(const struct db_rows *rows, size_t row, const char *name)
{
	return xstrdup(db_cell_by_name(rows, row, name));
}

/* The text columns the worker reads: a NUL byte in one fails the job (a C
 * string would silently cut the value there). */
static const char *const text_columns[] = {
	"uid",	   "ruid",	   "email",    "sourcehost",  "imapoptions",
	"exclude", "source",	   "password", "sh_commands", "target",
	"phase",   "password_key", "sh_host",  NULL
};

int db_job_row_fill(const struct db_rows *rows, size_t i, struct db_job_row *r)
{
	const char *v;
	size_t col;

	for (col = 0; col < rows->n_cols && r->problem == NULL; col++) {
		const char *cell = db_cell(rows, i, col);

		if (cell == NULL ||
		    strlen(cell) == rows->lens[i * rows->n_cols + col])
			continue;
		for (size_t k = 0; text_columns[k] != NULL; k++)
			if (strcmp(rows->names[col], text_columns[k]) == 0) {
				r->problem = xasprintf(
					"column %s contains a NUL byte",
					strcmp(rows->names[col],
					       "sh_commands") == 0 ?
						"sourcehosts.commands" :
						rows->names[col]);
				if (r->problem == NULL)
					return -ENOMEM;
			}
	}
	v = db_cell_by_name(rows, i, "id");
	r->id = v != NULL ? strtoll(v, NULL, 10) : 0;
	v = db_cell_by_name(rows, i, "attempts");
	r->attempt = v != NULL ? (unsigned)strtoul(v, NULL, 10) : 0;
	r->target = cell_dup(rows, i, "target");
	r->source = cell_dup(rows, i, "source");
	r->uid = cell_dup(rows, i, "uid");
	r->ruid = cell_dup(rows, i, "ruid");
	r->email = cell_dup(rows, i, "email");
	r->sourcehost = cell_dup(rows, i, "sourcehost");
	r->imapc_ssl = cell_dup(rows, i, "imapc_ssl");
	r->imapoptions = cell_dup(rows, i, "imapoptions");
	r->exclude = cell_dup(rows, i, "exclude");
	r->phase = cell_dup(rows, i, "phase");
	v = db_cell_by_name(rows, i, "sourceport");
	r->sourceport = v != NULL ? strtol(v, NULL, 10) : -1;
	v = db_cell_by_name(rows, i, "priority");
	r->priority = v != NULL ? (int)strtol(v, NULL, 10) : 0;
	r->password_key = cell_dup(rows, i, "password_key");
	r->submitted = cell_dup(rows, i, "submitted");
	for (col = 0; col < rows->n_cols; col++) {
		const char *cell = db_cell(rows, i, col);
		size_t len = rows->lens[i * rows->n_cols + col];

		if (cell == NULL)
			continue;
		if (strcmp(rows->names[col], "password") == 0) {
			r->password = malloc(len + 1);
			if (r->password == NULL)
				return -ENOMEM;
			memcpy(r->password, cell, len + 1);
			r->password_len = len;
		} else if (strcmp(rows->names[col], "password_iv") == 0) {
			r->password_iv = malloc(len + 1);
			if (r->password_iv == NULL)
				return -ENOMEM;
			memcpy(r->password_iv, cell, len + 1);
			r->password_iv_len = len;
		}
	}
	v = db_cell_by_name(rows, i, "source_known");
	r->source_known = v != NULL && strcmp(v, "1") == 0;
	v = db_cell_by_name(rows, i, "sourcehost_known");
	r->sourcehost_known = v != NULL && strcmp(v, "1") == 0;
	r->sh_host = cell_dup(rows, i, "sh_host");
	r->sh_ssl = cell_dup(rows, i, "sh_ssl");
	r->sh_commands = cell_dup(rows, i, "sh_commands");
	v = db_cell_by_name(rows, i, "sh_port");
	r->sh_port = v != NULL ? strtol(v, NULL, 10) : -1;
	if (r->target == NULL || r->source == NULL || r->phase == NULL)
		return -ENOMEM;
	return 0;
}

struct claim_ctx {
	const struct db_claim_req *req;
	struct db_claim_res res;
	int64_t *bad; /* rows the claim cannot take, and why */
	char **bad_error;
	size_t n_bad;
};

static int claim_bad(struct claim_ctx *x, int64_t id, const char *error)
{
	char **ne = realloc(x->bad_error, (x->n_bad + 1) * sizeof(*ne));
	size_t n = x->n_bad;

	if (ne == NULL)
		return -ENOMEM;
	x->bad_error = ne;
	ne[n] = xasprintf("the claim cannot take this row: %s", error);
	if (ne[n] == NULL || push_id(&x->bad, &n, id) < 0) {
		free(ne[n]);
		return -ENOMEM;
	}
	x->n_bad = n;
	return 0;
}

static void claim_bad_clear(struct claim_ctx *x)
{
	for (size_t i = 0; i < x->n_bad; i++)
		free(x->bad_error[i]);
	free(x->bad_error);
	free(x->bad);
	x->bad_error = NULL;
	x->bad = NULL;
	x->n_bad = 0;
}

struct fail_queued_ctx {
	int64_t id;
	const char *error;
	uint64_t affected;
};

static int fail_queued_fn(struct db_conn *c, void *arg)
{
	struct fail_queued_ctx *f = arg;
	struct db_value p[2] = { DB_STR(f->error), DB_INT(f->id) };
	int ret;

	ret = db_exec(c,
		      "UPDATE jobs SET status = 'FAILURE', error = ?, "
		      "lease_until = NULL, finished = NOW(3) "
		      "WHERE id = ? AND status = 'QUEUED'",
		      p, 2, NULL, &f->affected);
	if (ret != -EIO)
		return ret;
	/* a stored generated column that overflows (prio_key of a priority
	 * stored without strict mode) fails every strict UPDATE of the row:
	 * this one write, which changes no value the admin gave, is made
	 * without strict mode (MariaDB's SET STATEMENT) */
	return db_exec(c,
		       "SET STATEMENT sql_mode = '' FOR "
		       "UPDATE jobs SET status = 'FAILURE', error = ?, "
		       "lease_until = NULL, finished = NOW(3) "
		       "WHERE id = ? AND status = 'QUEUED'",
		       p, 2, NULL, &f->affected);
}

static char *id_list(const int64_t *ids, size_t n)
{
	char *s = malloc(n * 21 + 1);
	size_t o = 0;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(s + o, "%s%" PRId64, i ? "," : "", ids[i]);
	s[o] = '\0';
	return s;
}

/* Whether row i of `rows` is what this claim wrote: RUNNING, ours, and at
 * the attempt it wrote.  Anything else (a row Galera rolled back under us,
 * another worker's claim) must never reach the dispatcher. */
static bool row_is_ours(const struct db_rows *rows, size_t i, const char *owner,
			long long attempt)
{
	const char *st = db_cell_by_name(rows, i, "status");
	const char *ow = db_cell_by_name(rows, i, "owner");
	const char *at = db_cell_by_name(rows, i, "attempts");
	long long v;

	return st != NULL && ow != NULL && at != NULL &&
	       strcmp(st, "RUNNING") == 0 && strcmp(ow, owner) == 0 &&
	       parse_ll(at, &v) == 0 && v == attempt;
}

static int claim_fn(struct db_conn *c, void *arg)
{
	struct claim_ctx *x = arg;
	const struct db_claim_req *q = x->req;
	struct db_rows *locked = NULL, *full = NULL;
	int64_t *claimed = NULL, *wrote = NULL;
	size_t n_claimed = 0, n_wrote = 0;
	char **uids = NULL;
	char *list = NULL, *sql = NULL;
	int ret;

	db_claim_res_clear(&x->res);
	claim_bad_clear(x);
	list = id_list(q->ids, q->n_ids);
	if (list == NULL)
		return -ENOMEM;
	sql = xasprintf("SELECT id, uid, attempts FROM jobs WHERE id IN (%s) "
			"AND status = 'QUEUED' "
			"ORDER BY prio_key, submitted, id "
			"FOR UPDATE SKIP LOCKED",
			list);
	if (sql == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	ret = db_exec_once(c, sql, NULL, 0, &locked, NULL);
	if (ret < 0)
		goto out;
	/* ids not returned: taken, finished or locked by another worker */
	for (size_t i = 0; i < q->n_ids; i++) {
		bool seen = false;

		for (size_t j = 0; locked != NULL && j < locked->n_rows; j++)
			if (db_cell_ll(locked, j, 0, -1) == q->ids[i])
				seen = true;
		if (!seen &&
		    push_id(&x->res.gone, &x->res.n_gone, q->ids[i]) < 0) {
			ret = -ENOMEM;
			goto out;
		}
	}
	uids = calloc((locked != NULL ? locked->n_rows : 0) + 1,
		      sizeof(char *));
	if (uids == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t j = 0;
	     locked != NULL && j < locked->n_rows && n_claimed < q->want; j++) {
		int64_t id = db_cell_ll(locked, j, 0, -1);
		const char *uid = db_cell(locked, j, 1);
		uint64_t affected = 0;
		struct db_value p[5] = { DB_STR(q->owner), DB_STR(q->backend),
					 DB_INT((long long)q->lease_ms * 1000),
					 DB_INT(id) };

		if (uid != NULL &&
		    (str_in(q->skip_uids, uid) || str_in(uids, uid))) {
			if (push_id(&x->res.busy, &x->res.n_busy, id) < 0) {
				ret = -ENOMEM;
				goto out;
			}
			continue;
		}
		ret = db_exec(
			c,
			"UPDATE jobs SET status = 'RUNNING', owner = ?, "
			"backend = ?, attempts = attempts + 1, "
			"lease_until = DATE_ADD(NOW(3), INTERVAL ? "
			"MICROSECOND), claimed = NOW(3), started = NULL, "
			"finished = NULL, error = NULL, "
			"cancel_requested = 0, progress_saved = NULL, "
			"progress_expunged = NULL, progress_bytes = NULL, "
			"progress_updated = NULL "
			"WHERE id = ? AND status = 'QUEUED'",
			p, 4, NULL, &affected);
		if (ret == -EEXIST) {
			/* another job of this mailbox is running */
			if (push_id(&x->res.busy, &x->res.n_busy, id) < 0) {
				ret = -ENOMEM;
				goto out;
			}
			ret = 0;
			continue;
		}
		if (ret == -EIO) {
			/* this row cannot be taken (1264: attempts at its
			 * maximum, a generated column overflowing): the
			 * statement alone was rolled back; fail the row
			 * alone after the claim */
			ret = claim_bad(x, id, db_conn_error(c));
			if (ret < 0)
				goto out;
			continue;
		}
		if (ret < 0)
			goto out;
		if (affected == 0) {
			if (push_id(&x->res.gone, &x->res.n_gone, id) < 0) {
				ret = -ENOMEM;
				goto out;
			}
			continue;
		}
		ret = db_exec(c,
			      "INSERT INTO job_attempts (job_id, attempt, "
			      "target, uid, owner, backend, claimed) "
			      "SELECT id, attempts, target, uid, owner, "
			      "backend, NOW(6) FROM jobs WHERE id = ?",
			      &p[3], 1, NULL, NULL);
		if (ret < 0)
			goto out;
		if (push_id(&claimed, &n_claimed, id) < 0 ||
		    push_id(&wrote, &n_wrote,
			    db_cell_ll(locked, j, 2, -1) + 1) < 0) {
			ret = -ENOMEM;
			goto out;
		}
		if (uid != NULL) {
			size_t k = 0;

			while (uids[k] != NULL)
				k++;
			uids[k] = (char *)uid;
		}
	}
	if (n_claimed == 0)
		goto out;
	free(list);
	free(sql);
	list = id_list(claimed, n_claimed);
	if (list == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	/* the leases start now, not when each row's UPDATE began: one that
	 * waited for a lock (a unique key or a gap held by a transaction of
	 * a worker frozen meanwhile) would commit a lease that ran out during
	 * the wait, and any worker would rescue the job at once while this
	 * one ran it */
	sql = xasprintf("UPDATE jobs SET lease_until = DATE_ADD(NOW(3), "
			"INTERVAL ? MICROSECOND) WHERE id IN (%s) AND "
			"status = 'RUNNING' AND owner = ?",
			list);
	if (sql == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	{
		struct db_value p[2] = { DB_INT((long long)q->lease_ms * 1000),
					 DB_STR(q->owner) };

		x->res.leased_ms = now_monotonic_ms();
		ret = db_exec(c, sql, p, 2, NULL, NULL);
	}
	if (ret < 0)
		goto out;
	free(sql);
	sql = xasprintf("SELECT j.*, s.name IS NOT NULL AS "
			"source_known, sh.name IS NOT NULL AS "
			"sourcehost_known, sh.host AS sh_host, "
			"sh.port AS sh_port, sh.ssl AS sh_ssl, "
			"sh.commands AS sh_commands "
			"FROM jobs j "
			"LEFT JOIN sources s ON s.name = j.source "
			"LEFT JOIN sourcehosts sh "
			"ON sh.name = j.sourcehost "
			"WHERE j.id IN (%s)",
			list);
	if (sql == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	ret = db_exec_once(c, sql, NULL, 0, &full, NULL);
	if (ret < 0)
		goto out;
	x->res.rows = calloc(n_claimed, sizeof(*x->res.rows));
	if (x->res.rows == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	/* keep the claim order; every row must read back as this try wrote
	 * it, or the transaction is not the one we began: retry it all */
	for (size_t k = 0; k < n_claimed; k++) {
		bool found = false;

		for (size_t i = 0; full != NULL && i < full->n_rows; i++) {
			if (db_cell_ll(full, i, 0, -1) != claimed[k])
				continue;
			if (!row_is_ours(full, i, q->owner, wrote[k]))
				break;
			found = true;
			ret = db_job_row_fill(full, i,
					      &x->res.rows[x->res.n_rows]);
			x->res.n_rows++;
			if (ret < 0)
				goto out;
			break;
		}
		if (!found) {
			ret = db_conn_conflict(c, "a claimed job does not read "
						  "back as claimed (the "
						  "transaction was rolled "
						  "back)");
			goto out;
		}
	}
out:
	free(uids);
	free(claimed);
	free(wrote);
	free(list);
	free(sql);
	db_rows_free(&locked);
	db_rows_free(&full);
	return ret;
}

struct verify_ctx {
	const struct db_claim_res *res;
	struct db_rows *rows;
};

static int verify_fn(struct db_conn *c, void *arg)
{
	struct verify_ctx *v = arg;
	int64_t *ids = malloc(v->res->n_rows * sizeof(*ids));
	char *list, *sql;
	int ret;

	if (ids == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < v->res->n_rows; i++)
		ids[i] = v->res->rows[i].id;
	list = id_list(ids, v->res->n_rows);
	free(ids);
	sql = list == NULL ? NULL :
			     xasprintf("SELECT id, status, owner, attempts "
				       "FROM jobs WHERE id IN (%s)",
				       list);
	free(list);
	if (sql == NULL)
		return -ENOMEM;
	db_rows_free(&v->rows);
	ret = db_exec_once(c, sql, NULL, 0, &v->rows, NULL);
	free(sql);
	return ret;
}

/* After COMMIT: keep only the rows the database shows as ours at the
 * attempt written (the commit is known to have held for them). */
static int claim_verify(struct db_pool *pool, const struct db_claim_req *req,
			struct db_claim_res *res, char **error_r)
{
	struct verify_ctx v = { .res = res };
	size_t keep = 0;
	int ret;

	ret = db_run(pool, verify_fn, &v, error_r);
	if (ret < 0) {
		db_rows_free(&v.rows);
		return ret;
	}
	for (size_t k = 0; k < res->n_rows; k++) {
		struct db_job_row *r = &res->rows[k];
		bool ours = false;

		for (size_t i = 0; v.rows != NULL && i < v.rows->n_rows; i++)
			if (db_cell_ll(v.rows, i, 0, -1) == r->id)
				ours = row_is_ours(v.rows, i, req->owner,
						   r->attempt);
		if (ours) {
			if (keep != k)
				res->rows[keep] = *r;
			keep++;
			continue;
		}
		log_warn("job %" PRId64 ": its claim (attempt %u) did not "
			 "hold after COMMIT: not started",
			 r->id, r->attempt);
		if (push_id(&res->gone, &res->n_gone, r->id) < 0) {
			db_rows_free(&v.rows);
			return -ENOMEM;
		}
		db_job_row_clear(r);
	}
	res->n_rows = keep;
	db_rows_free(&v.rows);
	return 0;
}

int db_jobs_claim(struct db_pool *pool, const struct db_claim_req *req,
		  struct db_claim_res *res_r, char **error_r)
{
	struct claim_ctx x = { .req = req };
	int ret;

	memset(res_r, 0, sizeof(*res_r));
	if (req->n_ids == 0 || req->want == 0)
		return 0;
	ret = db_transaction(pool, claim_fn, &x, error_r);
	for (size_t i = 0; ret == 0 && i < x.n_bad; i++) {
		struct fail_queued_ctx f = { x.bad[i], x.bad_error[i], 0 };

		log_warn("job %" PRId64 " cannot be run: %s", f.id, f.error);
		if (db_transaction(pool, fail_queued_fn, &f, NULL) == 0 &&
		    f.affected > 0)
			x.res.n_bad++;
		else if (push_id(&x.res.gone, &x.res.n_gone, f.id) < 0)
			ret = -ENOMEM;
	}
	claim_bad_clear(&x);
	if (ret == 0 && x.res.n_rows > 0)
		ret = claim_verify(pool, req, &x.res, error_r);
	if (ret < 0) {
		/* nothing of a failed or unverified claim is started; rows
		 * it may have committed are queued again by the heartbeat
		 * (db_jobs_heartbeat lists them, the poller releases them) */
		db_claim_res_clear(&x.res);
		return ret;
	}
	*res_r = x.res;
	return 0;
}

/* -------------------------------------------------------- complete --- */

struct complete_ctx {
	const struct db_job_result *r;
	bool retrying; /* an earlier try's outcome is unknown */
};

static void ms_text(char *buf, size_t size, long long ms)
{
	snprintf(buf, size, "%lld.%03lld", ms / 1000, ms % 1000);
}

static int check_written(struct db_conn *c, const struct db_job_result *r)
{
	struct db_value p[1] = { DB_INT(r->id) };
	struct db_rows *rows = NULL;
	const char *status, *owner;
	int ret;

	ret = db_exec(c,
		      "SELECT status, owner, attempts FROM jobs WHERE id = ?",
		      p, 1, &rows, NULL);
	if (ret < 0)
		return ret;
	status = db_cell(rows, 0, 0);
	owner = db_cell(rows, 0, 1);
	ret = -ESTALE;
	if (status != NULL && owner != NULL && strcmp(status, r->status) == 0 &&
	    strcmp(owner, r->owner) == 0 &&
	    db_cell_ll(rows, 0, 2, -1) == (long long)r->attempt)
		ret = 0;
	db_rows_free(&rows);
	return ret;
}

static int complete_fn(struct db_conn *c, void *arg)
{
	struct complete_ctx *x = arg;
	const struct db_job_result *r = x->r;
	char started[32], finished[32];
	struct db_value p[16];
	uint64_t affected = 0;
	size_t np = 0;
	int ret;

	ms_text(started, sizeof(started), r->started_ms);
	ms_text(finished, sizeof(finished), r->finished_ms);
	p[np++] = DB_STR(r->status);
	p[np++] = r->started_ms > 0 ? DB_STR(started) : DB_NULL;
	p[np++] = r->finished_ms > 0 ? DB_STR(finished) : DB_NULL;
	p[np++] = r->started_ms > 0 && r->finished_ms >= r->started_ms ?
			  DB_INT(r->finished_ms - r->started_ms) :
			  DB_NULL;
	p[np++] = DB_STR(r->details);
	for (int i = 0; i < 6; i++)
		p[np++] = r->count_set[i] ? DB_INT(r->counts[i]) : DB_NULL;
	p[np++] = DB_STR(r->error);
	p[np++] = DB_INT(r->id);
	p[np++] = DB_STR(r->owner);
	p[np++] = DB_INT(r->attempt);
	ret = db_exec(
		c,
		"UPDATE jobs SET status = ?, lease_until = NULL, "
		"started = FROM_UNIXTIME(?), finished = FROM_UNIXTIME(?), "
		"duration_ms = ?, details = ?, sync_saved = ?, "
		"sync_expunged = ?, target_messages = ?, target_size = ?, "
		"origin_messages = ?, origin_size = ?, error = ? "
		"WHERE id = ? AND owner = ? AND attempts = ? "
		"AND status = 'RUNNING'",
		p, np, NULL, &affected);
	if (ret < 0)
		return ret;
	if (affected == 0)
		return x->retrying ? check_written(c, r) : -ESTALE;
	p[0] = DB_STR(r->status);
	p[1] = DB_INT(r->id);
	p[2] = DB_INT(r->attempt);
	return db_exec(c,
		       "UPDATE job_attempts SET ended = NOW(6), outcome = ? "
		       "WHERE job_id = ? AND attempt = ? AND ended IS NULL",
		       p, 3, NULL, NULL);
}

int db_jobs_complete(struct db_pool *pool, const struct db_job_result *r,
		     char **error_r)
{
	struct complete_ctx x = { .r = r };
	int ret;

	ret = db_transaction(pool, complete_fn, &x, NULL);
	if (ret == -ENOTCONN) {
		/* the outcome is unknown: one more try on a new connection
		 * (if the server is back) re-reads before concluding */
		x.retrying = true;
		ret = db_transaction(pool, complete_fn, &x, error_r);
	} else if (ret < 0 && ret != -ESTALE && error_r != NULL) {
		*error_r = xasprintf("cannot store the result of job %" PRId64
				     ": %s",
				     r->id, dmf_strerror(ret));
	}
	return ret;
}

struct release_ctx {
	int64_t id;
	const char *owner;
	unsigned attempt;
	const char *status; /* QUEUED (release) or FAILURE (fail) */
	const char *error;
	const char *outcome;
};

static int release_fn(struct db_conn *c, void *arg)
{
	struct release_ctx *x = arg;
	struct db_value p[5] = { DB_STR(x->status), DB_STR(x->error),
				 DB_INT(x->id), DB_STR(x->owner),
				 DB_INT(x->attempt) };
	uint64_t affected = 0;
	int ret;

	ret = db_exec(
		c,
		"UPDATE jobs SET status = ?, error = ?, lease_until = NULL, "
		"finished = IF(status = 'QUEUED', NULL, NOW(3)) "
		"WHERE id = ? AND owner = ? AND attempts = ? "
		"AND status = 'RUNNING'",
		p, 5, NULL, &affected);
	if (ret < 0)
		return ret;
	if (affected == 0)
		return -ESTALE;
	p[0] = DB_STR(x->outcome);
	p[1] = DB_INT(x->id);
	p[2] = DB_INT(x->attempt);
	return db_exec(c,
		       "UPDATE job_attempts SET ended = NOW(6), outcome = ? "
		       "WHERE job_id = ? AND attempt = ? AND ended IS NULL",
		       p, 3, NULL, NULL);
}

int db_jobs_release(struct db_pool *pool, int64_t id, const char *owner,
		    unsigned attempt, char **error_r)
{
	struct release_ctx x = {
		id, owner, attempt, "QUEUED", NULL, "RELEASED"
	};

	return db_transaction(pool, release_fn, &x, error_r);
}

int db_jobs_fail(struct db_pool *pool, int64_t id, const char *owner,
		 unsigned attempt, const char *error, char **error_r)
{
	struct release_ctx x = {
		id, owner, attempt, "FAILURE", error, "FAILURE"
	};

	return db_transaction(pool, release_fn, &x, error_r);
}

/* ------------------------------------------------------- heartbeat --- */

struct hb_ctx {
	const char *backend, *owner;
	unsigned lease_ms;
	struct db_rows *rows;
};

/*
 * The renewal never shortens a lease: NOW(3) is the time the statement
 * began, and one that waited for a row lock (the row of a claim still
 * committing, which starts its lease at its end) would otherwise write a
 * lease that ran out while it waited, and the job would be rescued while
 * it runs.
 */
static int hb_fn(struct db_conn *c, void *arg)
{
	struct hb_ctx *x = arg;
	int ret;

	if (x->backend != NULL) {
		struct db_value p[3] = { DB_INT((long long)x->lease_ms * 1000),
					 DB_STR(x->backend), DB_STR(x->owner) };

		ret = db_exec(c,
			      "UPDATE backends b LEFT JOIN jobs j "
			      "ON j.owner = b.boot_id AND j.status = 'RUNNING' "
			      "SET b.heartbeat = NOW(3), j.lease_until = "
			      "GREATEST(IFNULL(j.lease_until, NOW(3)), "
			      "DATE_ADD(NOW(3), INTERVAL ? MICROSECOND)) "
			      "WHERE b.name = ? AND b.boot_id = ?",
			      p, 3, NULL, NULL);
	} else {
		struct db_value p[2] = { DB_INT((long long)x->lease_ms * 1000),
					 DB_STR(x->owner) };

		ret = db_exec(c,
			      "UPDATE jobs SET lease_until = "
			      "GREATEST(IFNULL(lease_until, NOW(3)), "
			      "DATE_ADD(NOW(3), INTERVAL ? MICROSECOND)) "
			      "WHERE owner = ? AND status = 'RUNNING'",
			      p, 2, NULL, NULL);
	}
	if (ret < 0)
		return ret;
	{
		struct db_value p[1] = { DB_STR(x->owner) };

		db_rows_free(&x->rows);
		return db_exec(
			c,
			"SELECT id, attempts, cancel_requested, "
			"TIMESTAMPDIFF(MICROSECOND, NOW(3), lease_until) "
			"DIV 1000 FROM jobs "
			"WHERE owner = ? AND status = 'RUNNING'",
			p, 1, &x->rows, NULL);
	}
}

int db_jobs_heartbeat(struct db_pool *pool, const char *backend,
		      const char *owner, unsigned lease_ms,
		      struct db_held **held_r, size_t *n_r, char **error_r)
{
	struct hb_ctx x = { backend, owner, lease_ms, NULL };
	struct db_held *held = NULL;
	size_t n = 0;
	int ret;

	ret = db_run(pool, hb_fn, &x, error_r);
	if (ret < 0) {
		db_rows_free(&x.rows);
		return ret;
	}
	if (x.rows != NULL && x.rows->n_rows > 0) {
		held = calloc(x.rows->n_rows, sizeof(*held));
		if (held == NULL) {
			db_rows_free(&x.rows);
			return -ENOMEM;
		}
		for (size_t i = 0; i < x.rows->n_rows; i++) {
			held[i].id = db_cell_ll(x.rows, i, 0, 0);
			held[i].attempt = (unsigned)db_cell_ll(x.rows, i, 1, 0);
			held[i].cancel_requested =
				db_cell_ll(x.rows, i, 2, 0) != 0;
			/* NULL (no lease): run out */
			held[i].lease_left_ms = db_cell_ll(x.rows, i, 3, 0);
		}
		n = x.rows->n_rows;
	}
	db_rows_free(&x.rows);
	*held_r = held;
	*n_r = n;
	return 0;
}

/* -------------------------------------------------------- progress --- */

struct progress_ctx {
	const char *owner;
	const struct db_job_progress *jobs;
	size_t n;
};

static int progress_fn(struct db_conn *c, void *arg)
{
	struct progress_ctx *x = arg;

	for (size_t i = 0; i < x->n; i++) {
		const struct db_job_progress *j = &x->jobs[i];
		struct db_value p[6] = {
			j->saved >= 0 ? DB_INT(j->saved) : DB_NULL,
			j->expunged >= 0 ? DB_INT(j->expunged) : DB_NULL,
			j->bytes >= 0 ? DB_INT(j->bytes) : DB_NULL,
			DB_INT(j->id),
			DB_STR(x->owner),
			DB_INT((long long)j->attempt)
		};
		int ret = db_exec(c,
				  "UPDATE jobs SET progress_saved = ?, "
				  "progress_expunged = ?, progress_bytes = ?, "
				  "progress_updated = NOW(3) WHERE id = ? AND "
				  "owner = ? AND attempts = ? AND "
				  "status = 'RUNNING'",
				  p, 6, NULL, NULL);

		if (ret < 0)
			return ret;
	}
	return 0;
}

int db_jobs_progress(struct db_pool *pool, const char *owner,
		     const struct db_job_progress *jobs, size_t n,
		     char **error_r)
{
	struct progress_ctx x = { owner, jobs, n };

	if (n == 0)
		return 0;
	return db_run(pool, progress_fn, &x, error_r);
}

/* ----------------------------------------------------- rescue, recover --- */

struct rescue_ctx {
	const char *target, *backend, *owner;
	unsigned limit, margin_ms;
	unsigned requeued, failed;
	db_reap_fn *reap;
	void *reap_ctx;
	int64_t *kept; /* jobs whose previous run may still be alive */
	size_t n_kept;
};

static bool id_in(const int64_t *ids, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static int rescue_rows(struct db_conn *c, struct rescue_ctx *x,
		       struct db_rows *rows, const char *why)
{
	for (size_t i = 0; i < rows->n_rows; i++) {
		long long id = db_cell_ll(rows, i, 0, 0);
		long long attempt = db_cell_ll(rows, i, 1, 0);
		long long rescues = db_cell_ll(rows, i, 2, 0);
		bool poison = (unsigned long long)rescues >= x->limit;
		char error[200];
		struct db_value p[3];
		uint64_t affected = 0;
		int ret;

		if (id_in(x->kept, x->n_kept, id))
			continue;
		snprintf(error, sizeof(error),
			 "abandoned by its worker %lld times (%s); rescue "
			 "limit %u reached",
			 rescues + 1, why, x->limit);
		p[0] = poison ? DB_STR(error) : DB_NULL;
		p[1] = DB_INT(id);
		p[2] = DB_INT(attempt);
		ret = db_exec(c,
			      poison ? "UPDATE jobs SET status = 'FAILURE', "
				       "error = ?, rescues = rescues + 1, "
				       "lease_until = NULL, finished = NOW(3) "
				       "WHERE id = ? AND attempts = ? "
				       "AND status = 'RUNNING'" :
				       "UPDATE jobs SET status = 'QUEUED', "
				       "owner = NULL, rescues = rescues + 1, "
				       "lease_until = NULL, error = ? "
				       "WHERE id = ? AND attempts = ? "
				       "AND status = 'RUNNING'",
			      p, 3, NULL, &affected);
		if (ret < 0)
			return ret;
		if (affected == 0)
			continue;
		if (poison)
			x->failed++;
		else
			x->requeued++;
		p[0] = DB_STR(poison ? "POISONED" : "RESCUED");
		p[1] = DB_INT(id);
		p[2] = DB_INT(attempt);
		ret = db_exec(c,
			      "UPDATE job_attempts SET ended = NOW(6), "
			      "outcome = ? WHERE job_id = ? AND attempt = ? "
			      "AND ended IS NULL",
			      p, 3, NULL, NULL);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int rescue_fn(struct db_conn *c, void *arg)
{
	struct rescue_ctx *x = arg;
	struct db_value p[2] = { DB_STR(x->target),
				 DB_INT((long long)x->margin_ms * 1000) };
	struct db_rows *rows = NULL;
	int ret;

	x->requeued = x->failed = 0;
	ret = db_exec(c,
		      "SELECT id, attempts, rescues FROM jobs "
		      "WHERE target = ? AND status = 'RUNNING' "
		      "AND lease_until < DATE_SUB(NOW(3), INTERVAL ? "
		      "MICROSECOND) LIMIT 100 FOR UPDATE SKIP LOCKED",
		      p, 2, &rows, NULL);
	if (ret == 0 && rows != NULL)
		ret = rescue_rows(c, x, rows, "lease expired");
	db_rows_free(&rows);
	return ret;
}

int db_jobs_rescue(struct db_pool *pool, const char *target, unsigned limit,
		   unsigned margin_ms, unsigned *requeued_r, unsigned *failed_r,
		   char **error_r)
{
	struct rescue_ctx x = { .target = target,
				.limit = limit,
				.margin_ms = margin_ms };
	int ret = db_transaction(pool, rescue_fn, &x, error_r);

	if (ret == 0) {
		*requeued_r = x.requeued;
		*failed_r = x.failed;
	}
	return ret;
}

/* Reap the groups the earlier runs of the backend recorded; forget the
 * ones that are gone, keep the jobs of the others out of the queue. */
static int reap_groups(struct db_conn *c, struct rescue_ctx *x)
{
	struct db_value p[2] = { DB_STR(x->backend), DB_STR(x->owner) };
	struct db_rows *rows = NULL;
	int ret;

	x->n_kept = 0;
	ret = db_exec(c,
		      "SELECT job_id, attempt, pgid, pgid_start, pid_ns, "
		      "kernel_boot FROM job_processes WHERE backend = ? "
		      "AND owner <> ? FOR UPDATE",
		      p, 2, &rows, NULL);
	for (size_t i = 0; ret == 0 && rows != NULL && i < rows->n_rows; i++) {
		struct db_proc_rec r = { .job_id = db_cell_ll(rows, i, 0, 0),
					 .pgid = db_cell_ll(rows, i, 2, 0),
					 .start = db_cell_ll(rows, i, 3, 0),
					 .pidns = db_cell_ll(rows, i, 4, 0),
					 .boot_id = db_cell(rows, i, 5) };
		struct db_value k[3] = { DB_INT(r.job_id),
					 DB_INT(db_cell_ll(rows, i, 1, 0)),
					 DB_INT(r.pgid) };

		if (x->reap(x->reap_ctx, &r) < 0) {
			ret = push_id(&x->kept, &x->n_kept, r.job_id);
			continue;
		}
		ret = db_exec(c,
			      "DELETE FROM job_processes WHERE job_id = ? "
			      "AND attempt = ? AND pgid = ?",
			      k, 3, NULL, NULL);
	}
	db_rows_free(&rows);
	return ret;
}

static int recover_fn(struct db_conn *c, void *arg)
{
	struct rescue_ctx *x = arg;
	struct db_value p[2] = { DB_STR(x->backend), DB_STR(x->owner) };
	struct db_rows *rows = NULL;
	int ret;

	x->requeued = x->failed = 0;
	if (x->reap != NULL) {
		ret = reap_groups(c, x);
		if (ret < 0)
			return ret;
	}
	ret = db_exec(c,
		      "SELECT id, attempts, rescues FROM jobs "
		      "WHERE backend = ? AND status = 'RUNNING' "
		      "AND (owner IS NULL OR owner <> ?) FOR UPDATE",
		      p, 2, &rows, NULL);
	if (ret == 0 && rows != NULL)
		ret = rescue_rows(c, x, rows, "worker restarted");
	db_rows_free(&rows);
	return ret;
}

int db_jobs_recover(struct db_pool *pool, const char *backend,
		    const char *owner, unsigned limit, db_reap_fn *reap,
		    void *reap_ctx, unsigned *requeued_r, unsigned *failed_r,
		    char **error_r)
{
	struct rescue_ctx x = { .backend = backend,
				.owner = owner,
				.limit = limit,
				.reap = reap,
				.reap_ctx = reap_ctx };
	int ret = db_transaction(pool, recover_fn, &x, error_r);

	free(x.kept);

	if (ret == 0) {
		*requeued_r = x.requeued;
		*failed_r = x.failed;
	}
	return ret;
}
