/*
 * db.h - the Migration Database connection: JDBC-style URL parsing, a
 * thread-safe pool of libmariadb connections, prepared statements and
 * transactions with retry.
 *
 * Errors are negative errno values:
 *   -ENOTCONN   the server cannot be reached or the connection broke (after
 *               2006/2013 the outcome of the last write is unknown: every
 *               caller guards its writes and re-reads)
 *   -ETIMEDOUT  no connection became free within connection-timeout
 *   -EAGAIN     deadlock (1213), lock wait timeout (1205) or snapshot
 *               conflict (1020) still failing after the retries
 *   -EEXIST     duplicate key (1062)
 *   -EIO        any other server error
 * The text of the last error of a connection is db_conn_error().
 *
 * The pool and its connections may be used from any thread; one connection
 * is used by one thread at a time (between db_conn_get and db_conn_put).
 */
#ifndef DMF_CORE_DB_H
#define DMF_CORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/config.h"

/* ------------------------------------------------------------ URL --- */

enum db_ssl_mode {
	DB_SSL_DISABLED = 0, /* no TLS (the default, as Connector/J) */
	DB_SSL_REQUIRED = 1, /* TLS, any certificate */
	DB_SSL_VERIFY = 2 /* TLS, certificate and host name verified */
};

/* A parsed `datasources.default.url`. */
struct db_url {
	char *host; /* NULL when a unix socket is used */
	unsigned port; /* 3306 when absent */
	char *socket; /* unix socket path, or NULL */
	char *database; /* may be NULL */
	char *user; /* from ?user=, NULL when absent */
	char *password; /* from ?password=, NULL when absent (secret) */
	bool create_database; /* createDatabaseIfNotExist=true */
	unsigned connect_timeout_ms; /* connectTimeout, 0 = not given */
	unsigned socket_timeout_ms; /* socketTimeout, 0 = not given */
	enum db_ssl_mode ssl_mode;
};

/*
 * Parse `jdbc:mysql://host:port/db?k=v&...`, `jdbc:mariadb://...` (also
 * without `jdbc:`).  The host may be `[v6addr]`; the unix socket comes from
 * the option localSocket (MariaDB Connector/J), socket or unix_socket.
 * Known options: user, password, createDatabaseIfNotExist, connectTimeout,
 * socketTimeout, useSSL, useSsl, sslMode, trustServerCertificate; others
 * are ignored.  Values are %-decoded.  On failure returns -EINVAL and sets
 * *error_r (allocated).
 */
int db_url_parse(const char *url, struct db_url *url_r, char **error_r);
/* Free the members of a parsed URL (wipes the password). */
void db_url_clear(struct db_url *url);

/* ------------------------------------------------------ pool options --- */

enum db_isolation {
	DB_ISOLATION_READ_COMMITTED = 0, /* the default */
	DB_ISOLATION_REPEATABLE_READ = 1
};

struct db_options {
	struct db_url url;
	char *username; /* overrides url.user */
	char *password; /* overrides url.password (secret) */
	unsigned max_pool_size; /* maximum-pool-size, default 10 */
	unsigned min_idle; /* minimum-idle, default max */
	unsigned connection_timeout_ms; /* wait for a free connection, 30 s */
	unsigned idle_timeout_ms; /* close idle extras after, 10 min */
	unsigned max_lifetime_ms; /* retire connections after, 30 min */
	unsigned validation_timeout_ms; /* ping timeout, 5 s */
	unsigned connect_timeout_ms; /* TCP connect, default
					 * connection-timeout */
	unsigned read_timeout_ms; /* socketTimeout, default 30 s */
	unsigned write_timeout_ms; /* socketTimeout, default 30 s */
	enum db_isolation isolation; /* transaction-isolation */
	unsigned lock_wait_timeout_s; /* innodb_lock_wait_timeout, 10 */
};

/*
 * Read `datasources.default` (url, username, password and the Hikari keys
 * maximum-pool-size, minimum-idle, connection-timeout, idle-timeout,
 * max-lifetime, validation-timeout, transaction-isolation; camelCase
 * spellings are accepted too).  -ENOENT when no url is configured.
 */
int db_options_from_config(const struct config *cfg, struct db_options *o_r,
			   char **error_r);
/* Defaults for everything; the URL is left empty. */
void db_options_init(struct db_options *o);
void db_options_clear(struct db_options *o);

/* -------------------------------------------------------------- pool --- */

struct db_pool;
struct db_conn;

/* Statistics for the metrics endpoint (names follow HikariCP's). */
struct db_pool_stats {
	unsigned total; /* open connections */
	unsigned active; /* handed out */
	unsigned idle; /* open and free */
	unsigned pending; /* threads waiting for a connection */
	unsigned max;
	unsigned min;
	uint64_t created; /* connections opened, ever */
	uint64_t closed; /* connections closed, ever */
	uint64_t connect_errors; /* failed connection attempts */
	uint64_t timeouts; /* db_conn_get timed out */
	uint64_t acquired; /* successful db_conn_get calls */
	uint64_t acquire_ms_sum; /* time spent waiting in db_conn_get */
	uint64_t usage_ms_sum; /* time connections were held */
	uint64_t retries; /* transactions retried (1213/1205/1020) */
	uint64_t reconnects; /* connections replaced after a break */
	bool up; /* the last connect attempt succeeded */
};

/* Create a pool (no connection is opened yet).  Copies `o`. */
int db_pool_create(const struct db_options *o, struct db_pool **pool_r,
		   char **error_r);
/* Close every connection and free the pool; all connections must have
 * been put back. */
void db_pool_destroy(struct db_pool **pool);
void db_pool_get_stats(struct db_pool *pool, struct db_pool_stats *stats_r);

/*
 * Take a connection (opening one when none is idle and the pool is not
 * full; waiting up to connection-timeout otherwise).  While the server is
 * unreachable, new connection attempts are spaced with a jittered
 * exponential backoff (100 ms .. 5 s) and calls in between fail at once
 * with -ENOTCONN.  On failure sets *error_r (allocated) when not NULL.
 */
int db_conn_get(struct db_pool *pool, struct db_conn **conn_r, char **error_r);
/* Give a connection back (a broken one is closed).  NULL is fine. */
void db_conn_put(struct db_pool *pool, struct db_conn **conn);

/* The last error text of this connection ("" for none) and its code. */
const char *db_conn_error(const struct db_conn *conn);
unsigned db_conn_errno(const struct db_conn *conn);
/* Fail the current try of a transaction as a conflict (-EAGAIN: the whole
 * transaction is rolled back and run again) with this error text. */
int db_conn_conflict(struct db_conn *conn, const char *text);
/* The server's version text ("10.11.6-MariaDB-...") and number (101106). */
const char *db_conn_server_info(const struct db_conn *conn);
unsigned long db_conn_server_version(const struct db_conn *conn);
bool db_conn_is_mariadb(const struct db_conn *conn);

/* ---------------------------------------------------------- queries --- */

enum db_type { DB_T_NULL = 0, DB_T_INT, DB_T_STR, DB_T_BLOB };

/* A statement parameter; strings are not copied. */
struct db_value {
	enum db_type type;
	long long i;
	const char *s;
	size_t len;
};

#define DB_NULL ((struct db_value){ .type = DB_T_NULL })
#define DB_INT(x) ((struct db_value){ .type = DB_T_INT, .i = (long long)(x) })
/* A string, or SQL NULL when s is NULL. */
static inline struct db_value db_str(const char *s)
{
	struct db_value v = { .type = s == NULL ? DB_T_NULL : DB_T_STR,
			      .s = s };

	v.len = s == NULL ? 0 : strlen(s);
	return v;
}
#define DB_STR(x) db_str(x)
#define DB_BLOB(p, n) \
	((struct db_value){ .type = DB_T_BLOB, .s = (p), .len = (n) })

/* A result set: every cell as text (NULL for SQL NULL). */
struct db_rows {
	size_t n_rows;
	size_t n_cols;
	char **names; /* column names [n_cols] */
	char **cells; /* [n_rows * n_cols] */
	size_t *lens; /* [n_rows * n_cols] */
};

/* The cell at row, col (NULL for SQL NULL or out of range). */
const char *db_cell(const struct db_rows *rows, size_t row, size_t col);
/* The cell of column `name` (NULL for SQL NULL or unknown column). */
const char *db_cell_by_name(const struct db_rows *rows, size_t row,
			    const char *name);
/* The cell as a number; `def` when NULL or not a number. */
long long db_cell_ll(const struct db_rows *rows, size_t row, size_t col,
		     long long def);
void db_rows_free(struct db_rows **rows);

/*
 * Run one statement with `?` parameters as a prepared statement, cached
 * per connection (a connection opened after a break prepares again).
 * `rows_r` (may be NULL) receives the result set, `affected_r` (may be
 * NULL) the affected rows.  Returns 0 or an error listed at the top.
 */
int db_exec(struct db_conn *conn, const char *sql,
	    const struct db_value *params, size_t n_params,
	    struct db_rows **rows_r, uint64_t *affected_r);
/* Same without caching the statement (for SQL built at run time). */
int db_exec_once(struct db_conn *conn, const char *sql,
		 const struct db_value *params, size_t n_params,
		 struct db_rows **rows_r, uint64_t *affected_r);
/* A statement without parameters or result, over the text protocol. */
int db_exec_text(struct db_conn *conn, const char *sql);

int db_begin(struct db_conn *conn);
int db_commit(struct db_conn *conn);
int db_rollback(struct db_conn *conn);

/*
 * The body of a transaction: return 0 to commit, a negative error to roll
 * back.  Errors from db_exec() may be returned as they are: -EAGAIN makes
 * db_transaction() retry the whole body.
 */
typedef int db_txn_fn(struct db_conn *conn, void *arg);

/*
 * Run `fn` in a transaction on a connection of the pool, retrying the
 * whole transaction (up to 8 times, jittered backoff) on 1213, 1205 and
 * 1020, and committing at the end.  -ENOTCONN is not retried: the caller
 * knows whether its write may be repeated.  On failure sets *error_r
 * (allocated) when not NULL.
 */
int db_transaction(struct db_pool *pool, db_txn_fn *fn, void *arg,
		   char **error_r);
/* The same without BEGIN/COMMIT (each statement commits by itself). */
int db_run(struct db_pool *pool, db_txn_fn *fn, void *arg, char **error_r);

/* True for the retryable server errors 1213, 1205, 1020. */
bool db_errno_is_retryable(unsigned code);
/* True for the errors that mean the connection is gone (2006, 2013...). */
bool db_errno_is_connection(unsigned code);

#endif /* DMF_CORE_DB_H */
