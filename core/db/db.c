/*
 * db.c - the pool of libmariadb connections, prepared statements and
 * transactions with retry.
 *
 * Every connection sets connect/read/write timeouts, never auto-reconnects
 * (MYSQL_OPT_RECONNECT off), uses utf8mb4, UTC (time_zone '+00:00') and
 * the configured isolation level.  A connection that saw a connection
 * error is closed when it is put back; a new one starts with an empty
 * statement cache, so statements are prepared again after a reconnect.
 */
#include "dmf-build.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "db/db.h"
#include "lib/log.h"
#include "lib/util.h"

#define STMT_CACHE_SIZE 48
#define TXN_RETRIES 8
#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u
#define VALIDATE_AFTER_IDLE_MS 1000u

struct stmt_entry {
	char *sql;
	MYSQL_STMT *stmt;
	uint64_t used; /* tick of last use, for eviction */
};

struct db_conn {
	MYSQL *mysql;
	struct db_conn *next; /* idle list */
	uint64_t created_ms;
	uint64_t last_used_ms;
	uint64_t taken_ms;
	bool broken;
	bool in_txn; /* between db_begin and db_commit/db_rollback */
	/* statements closed at the end of the transaction: COM_STMT_CLOSE has
	 * no reply, so a Galera abort of the transaction it met would not be
	 * reported, and the next statement would run outside it */
	MYSQL_STMT **deferred;
	size_t n_deferred, cap_deferred;
	unsigned err;
	char error[512];
	struct stmt_entry stmts[STMT_CACHE_SIZE];
	uint64_t tick;
};

struct db_pool {
	struct db_options o;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct db_conn *idle; /* most recently used first */
	unsigned n_total; /* open + being opened */
	unsigned n_idle;
	unsigned n_pending;
	uint64_t backoff_until_ms;
	unsigned backoff_ms;
	char last_connect_error[512];
	struct db_pool_stats stats;
};

static pthread_once_t library_once = PTHREAD_ONCE_INIT;

static void txn_end(struct db_conn *c);

static void library_init(void)
{
	mysql_library_init(0, NULL, NULL);
}

/* ------------------------------------------------------------ errors --- */

bool db_errno_is_retryable(unsigned code)
{
	return code == ER_LOCK_DEADLOCK || code == ER_LOCK_WAIT_TIMEOUT ||
	       code == 1020 /* ER_CHECKREAD: snapshot isolation */ ||
	       code == 1180 /* ER_ERROR_DURING_COMMIT: Galera rolled back */;
}

bool db_errno_is_connection(unsigned code)
{
	return code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST ||
	       code == CR_CONNECTION_ERROR || code == CR_CONN_HOST_ERROR ||
	       code == CR_SERVER_LOST_EXTENDED ||
	       code == CR_COMMANDS_OUT_OF_SYNC ||
	       code == 1927 /* ER_CONNECTION_KILLED */ ||
	       code == ER_SERVER_SHUTDOWN ||
	       code == 4031 /* idle disconnect */ ||
	       code == 1047 /* Galera: WSREP has not yet prepared node */;
}

static int code_to_errno(unsigned code)
{
	if (code == 0)
		return 0;
	if (db_errno_is_connection(code))
		return -ENOTCONN;
	if (db_errno_is_retryable(code))
		return -EAGAIN;
	if (code == ER_DUP_ENTRY)
		return -EEXIST;
	return -EIO;
}

static int conn_fail(struct db_conn *c, unsigned code, const char *text)
{
	c->err = code;
	snprintf(c->error, sizeof(c->error), "%s (%u)", text, code);
	if (db_errno_is_connection(code))
		c->broken = true;
	return code_to_errno(code);
}

static int conn_fail_mysql(struct db_conn *c)
{
	unsigned code = mysql_errno(c->mysql);

	if (code == 0)
		code = CR_UNKNOWN_ERROR;
	return conn_fail(c, code, mysql_error(c->mysql));
}

static int conn_fail_stmt(struct db_conn *c, MYSQL_STMT *stmt)
{
	unsigned code = mysql_stmt_errno(stmt);

	if (code == 0)
		code = CR_UNKNOWN_ERROR;
	return conn_fail(c, code, mysql_stmt_error(stmt));
}

int db_conn_conflict(struct db_conn *conn, const char *text)
{
	return conn_fail(conn, ER_LOCK_DEADLOCK, text);
}

const char *db_conn_error(const struct db_conn *conn)
{
	return conn == NULL ? "" : conn->error;
}

unsigned db_conn_errno(const struct db_conn *conn)
{
	return conn == NULL ? 0 : conn->err;
}

const char *db_conn_server_info(const struct db_conn *conn)
{
	return mysql_get_server_info(conn->mysql);
}

unsigned long db_conn_server_version(const struct db_conn *conn)
{
	return mysql_get_server_version(conn->mysql);
}

bool db_conn_is_mariadb(const struct db_conn *conn)
{
	const char *info = mysql_get_server_info(conn->mysql);

	return info != NULL && strstr(info, "MariaDB") != NULL;
}

/* ----------------------------------------------------------- options --- */

void db_options_init(struct db_options *o)
{
	memset(o, 0, sizeof(*o));
	o->url.port = 3306;
	o->max_pool_size = 10;
	o->min_idle = 10;
	o->connection_timeout_ms = 30000;
	o->idle_timeout_ms = 600000;
	o->max_lifetime_ms = 1800000;
	o->validation_timeout_ms = 5000;
	o->connect_timeout_ms = 0;
	o->read_timeout_ms = 30000;
	o->write_timeout_ms = 30000;
	o->isolation = DB_ISOLATION_READ_COMMITTED;
	o->lock_wait_timeout_s = 10;
}

void db_options_clear(struct db_options *o)
{
	if (o == NULL)
		return;
	db_url_clear(&o->url);
	free(o->username);
	secret_free(&o->password);
	memset(o, 0, sizeof(*o));
}

/* An integer/duration key under either spelling (kebab or camelCase). */
static int get_ms(const struct cfg_node *ds, const char *kebab,
		  const char *camel, unsigned def, unsigned *ms_r,
		  char **error_r)
{
	const char *error = NULL;
	long long ms;

	if (cfg_get(ds, kebab) == NULL && cfg_get(ds, camel) != NULL)
		kebab = camel;
	if (cfg_get_duration_ms(ds, kebab, def, &ms, &error) < 0) {
		*error_r = xasprintf("%s", error != NULL ? error : kebab);
		return -EINVAL;
	}
	if (ms < 0 || ms > UINT32_MAX) {
		*error_r = xasprintf("datasources.default.%s: out of range",
				     kebab);
		return -EINVAL;
	}
	*ms_r = (unsigned)ms;
	return 0;
}

static int get_uint(const struct cfg_node *ds, const char *kebab,
		    const char *camel, unsigned def, unsigned *v_r,
		    char **error_r)
{
	const char *error = NULL;
	long long v;

	if (cfg_get(ds, kebab) == NULL && cfg_get(ds, camel) != NULL)
		kebab = camel;
	if (cfg_get_int(ds, kebab, def, &v, &error) < 0) {
		*error_r = xasprintf("%s", error != NULL ? error : kebab);
		return -EINVAL;
	}
	if (v < 0 || v > 100000) {
		*error_r = xasprintf("datasources.default.%s: out of range",
				     kebab);
		return -EINVAL;
	}
	*v_r = (unsigned)v;
	return 0;
}

static int get_str(const struct cfg_node *ds, const char *key, const char **v_r,
		   char **error_r)
{
	const char *error = NULL;

	if (cfg_get_string(ds, key, NULL, v_r, &error) < 0) {
		*error_r = xasprintf("%s", error != NULL ? error : key);
		return -EINVAL;
	}
	return 0;
}

int db_options_from_config(const struct config *cfg, struct db_options *o_r,
			   char **error_r)
{
	const struct cfg_node *ds = cfg_get(cfg->root, "datasources.default");
	const char *url = NULL, *user = NULL, *pass = NULL, *iso = NULL;
	struct db_options o;
	char *error = NULL;
	int ret;

	db_options_init(&o);
	if (ds == NULL || get_str(ds, "url", &url, &error) < 0 || url == NULL ||
	    *url == '\0') {
		*error_r = error != NULL ? error :
					   xasprintf("no database configured: "
						     "set "
						     "datasources.default.url");
		return error != NULL ? -EINVAL : -ENOENT;
	}
	ret = db_url_parse(url, &o.url, &error);
	if (ret < 0) {
		*error_r = xasprintf("datasources.default.url: %s", error);
		free(error);
		return ret;
	}
	if (get_str(ds, "username", &user, &error) < 0 ||
	    get_str(ds, "password", &pass, &error) < 0 ||
	    get_uint(ds, "maximum-pool-size", "maximumPoolSize", 10,
		     &o.max_pool_size, &error) < 0 ||
	    get_uint(ds, "minimum-idle", "minimumIdle", o.max_pool_size,
		     &o.min_idle, &error) < 0 ||
	    get_ms(ds, "connection-timeout", "connectionTimeout", 30000,
		   &o.connection_timeout_ms, &error) < 0 ||
	    get_ms(ds, "idle-timeout", "idleTimeout", 600000,
		   &o.idle_timeout_ms, &error) < 0 ||
	    get_ms(ds, "max-lifetime", "maxLifetime", 1800000,
		   &o.max_lifetime_ms, &error) < 0 ||
	    get_ms(ds, "validation-timeout", "validationTimeout", 5000,
		   &o.validation_timeout_ms, &error) < 0)
		goto fail;
	if (cfg_get(ds, "transaction-isolation") != NULL)
		ret = get_str(ds, "transaction-isolation", &iso, &error);
	else
		ret = get_str(ds, "transactionIsolation", &iso, &error);
	if (ret < 0)
		goto fail;
	if (iso != NULL) {
		if (strstr(iso, "REPEATABLE_READ") != NULL ||
		    strstr(iso, "REPEATABLE-READ") != NULL)
			o.isolation = DB_ISOLATION_REPEATABLE_READ;
		else if (strstr(iso, "READ_COMMITTED") != NULL ||
			 strstr(iso, "READ-COMMITTED") != NULL)
			o.isolation = DB_ISOLATION_READ_COMMITTED;
		else {
			error = xasprintf("datasources.default."
					  "transaction-isolation: '%s' is not "
					  "TRANSACTION_READ_COMMITTED or "
					  "TRANSACTION_REPEATABLE_READ",
					  iso);
			goto fail;
		}
	}
	if (o.max_pool_size == 0)
		o.max_pool_size = 1;
	if (o.min_idle > o.max_pool_size)
		o.min_idle = o.max_pool_size;
	if (o.connection_timeout_ms < 250)
		o.connection_timeout_ms = 250;
	if (user != NULL && *user != '\0' &&
	    (o.username = strdup(user)) == NULL)
		goto nomem;
	if (pass != NULL && *pass != '\0' &&
	    (o.password = strdup(pass)) == NULL)
		goto nomem;
	o.connect_timeout_ms = o.url.connect_timeout_ms;
	if (o.url.socket_timeout_ms > 0)
		o.read_timeout_ms = o.write_timeout_ms =
			o.url.socket_timeout_ms;
	*o_r = o;
	return 0;
nomem:
	error = xasprintf("out of memory");
fail:
	db_options_clear(&o);
	*error_r = error;
	return -EINVAL;
}

/* ------------------------------------------------------- connections --- */

static unsigned ms_to_s(unsigned ms)
{
	unsigned s = (ms + 999) / 1000;

	return s == 0 ? 1 : s;
}

/* Close a statement now, or at the end of the open transaction. */
static void stmt_close(struct db_conn *c, MYSQL_STMT *stmt)
{
	if (c->in_txn && !c->broken) {
		if (c->n_deferred == c->cap_deferred) {
			size_t ncap = c->cap_deferred ? c->cap_deferred * 2 : 8;
			MYSQL_STMT **n =
				realloc(c->deferred, ncap * sizeof(*n));

			if (n != NULL) {
				c->deferred = n;
				c->cap_deferred = ncap;
			}
		}
		if (c->n_deferred < c->cap_deferred) {
			c->deferred[c->n_deferred++] = stmt;
			return;
		}
		/* no memory: a close the server does not answer, the next
		 * statement's in-transaction check still catches an abort */
	}
	mysql_stmt_close(stmt);
}

static void conn_close_deferred(struct db_conn *c)
{
	for (size_t i = 0; i < c->n_deferred; i++)
		mysql_stmt_close(c->deferred[i]);
	c->n_deferred = 0;
}

static void conn_close_stmts(struct db_conn *c)
{
	conn_close_deferred(c);
	for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
		if (c->stmts[i].stmt != NULL)
			mysql_stmt_close(c->stmts[i].stmt);
		free(c->stmts[i].sql);
		c->stmts[i].stmt = NULL;
		c->stmts[i].sql = NULL;
	}
}

static void conn_free(struct db_conn *c)
{
	if (c == NULL)
		return;
	conn_close_stmts(c);
	free(c->deferred);
	if (c->mysql != NULL)
		mysql_close(c->mysql);
	free(c);
}

/* Open a connection; on failure copy the error into `error` (size 512). */
static struct db_conn *conn_open(const struct db_options *o, char *error)
{
	struct db_conn *c = calloc(1, sizeof(*c));
	const char *user = o->username != NULL ? o->username : o->url.user;
	const char *pass = o->password != NULL ? o->password : o->url.password;
	unsigned connect_s, read_s, write_s;
	my_bool off = 0, on = 1;
	unsigned long flags = CLIENT_FOUND_ROWS; /* matched, not changed */
	char sql[256];

	if (c == NULL) {
		snprintf(error, 512, "out of memory");
		return NULL;
	}
	c->mysql = mysql_init(NULL);
	if (c->mysql == NULL) {
		free(c);
		snprintf(error, 512, "out of memory");
		return NULL;
	}
	connect_s =
		ms_to_s(o->connect_timeout_ms != 0 ? o->connect_timeout_ms :
						     o->connection_timeout_ms);
	read_s = ms_to_s(o->read_timeout_ms);
	write_s = ms_to_s(o->write_timeout_ms);
	mysql_optionsv(c->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
	mysql_optionsv(c->mysql, MYSQL_OPT_READ_TIMEOUT, &read_s);
	mysql_optionsv(c->mysql, MYSQL_OPT_WRITE_TIMEOUT, &write_s);
	mysql_optionsv(c->mysql, MYSQL_OPT_RECONNECT, &off);
	mysql_optionsv(c->mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(c->mysql, MYSQL_OPT_LOCAL_INFILE, &off);
	if (o->url.ssl_mode != DB_SSL_DISABLED) {
		my_bool verify = o->url.ssl_mode == DB_SSL_VERIFY;

		mysql_optionsv(c->mysql, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_optionsv(c->mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
			       &verify);
	}
	if (mysql_real_connect(
		    c->mysql, o->url.socket != NULL ? "localhost" : o->url.host,
		    user, pass, o->url.create_database ? NULL : o->url.database,
		    o->url.socket != NULL ? 0 : o->url.port, o->url.socket,
		    flags) == NULL) {
		if (o->url.socket != NULL)
			snprintf(error, 512, "cannot connect to %s: %s (%u)",
				 o->url.socket, mysql_error(c->mysql),
				 mysql_errno(c->mysql));
		else
			snprintf(error, 512, "cannot connect to %s:%u: %s (%u)",
				 o->url.host, o->url.port,
				 mysql_error(c->mysql), mysql_errno(c->mysql));
		conn_free(c);
		return NULL;
	}
	if (o->url.create_database && o->url.database != NULL) {
		snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS `%s`",
			 o->url.database);
		if (mysql_query(c->mysql, sql) != 0 ||
		    mysql_select_db(c->mysql, o->url.database) != 0) {
			snprintf(error, 512, "database '%s': %s (%u)",
				 o->url.database, mysql_error(c->mysql),
				 mysql_errno(c->mysql));
			conn_free(c);
			return NULL;
		}
	}
	snprintf(sql, sizeof(sql),
		 "SET time_zone = '+00:00', innodb_lock_wait_timeout = %u",
		 o->lock_wait_timeout_s);
	if (mysql_query(c->mysql, sql) != 0 ||
	    mysql_query(c->mysql,
			o->isolation == DB_ISOLATION_REPEATABLE_READ ?
				"SET SESSION TRANSACTION ISOLATION LEVEL "
				"REPEATABLE READ" :
				"SET SESSION TRANSACTION ISOLATION LEVEL "
				"READ COMMITTED") != 0) {
		snprintf(error, 512, "session setup: %s (%u)",
			 mysql_error(c->mysql), mysql_errno(c->mysql));
		conn_free(c);
		return NULL;
	}
	c->created_ms = c->last_used_ms = now_monotonic_ms();
	return c;
}

/* Ping an idle connection before handing it out again. */
static bool conn_alive(struct db_conn *c)
{
	return mysql_ping(c->mysql) == 0;
}

/* -------------------------------------------------------------- pool --- */

int db_pool_create(const struct db_options *o, struct db_pool **pool_r,
		   char **error_r)
{
	struct db_pool *p;

	pthread_once(&library_once, library_init);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		goto nomem;
	p->o = *o;
	p->o.url.host = xstrdup(o->url.host);
	p->o.url.socket = xstrdup(o->url.socket);
	p->o.url.database = xstrdup(o->url.database);
	p->o.url.user = xstrdup(o->url.user);
	p->o.url.password = xstrdup(o->url.password);
	p->o.username = xstrdup(o->username);
	p->o.password = xstrdup(o->password);
	if ((o->url.host && !p->o.url.host) ||
	    (o->url.socket && !p->o.url.socket) ||
	    (o->url.database && !p->o.url.database) ||
	    (o->url.user && !p->o.url.user) ||
	    (o->url.password && !p->o.url.password) ||
	    (o->username && !p->o.username) ||
	    (o->password && !p->o.password)) {
		db_options_clear(&p->o);
		free(p);
		goto nomem;
	}
	if (p->o.max_pool_size == 0)
		p->o.max_pool_size = 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->stats.max = p->o.max_pool_size;
	p->stats.min = p->o.min_idle;
	p->stats.up = true;
	*pool_r = p;
	return 0;
nomem:
	if (error_r != NULL)
		*error_r = xasprintf("out of memory");
	return -ENOMEM;
}

void db_pool_destroy(struct db_pool **pool)
{
	struct db_pool *p = *pool;

	if (p == NULL)
		return;
	*pool = NULL;
	while (p->idle != NULL) {
		struct db_conn *c = p->idle;

		p->idle = c->next;
		conn_free(c);
	}
	if (p->n_total != p->n_idle)
		log_warn("database pool destroyed with %u connections in use",
			 p->n_total - p->n_idle);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	db_options_clear(&p->o);
	free(p);
}

void db_pool_get_stats(struct db_pool *pool, struct db_pool_stats *stats_r)
{
	pthread_mutex_lock(&pool->lock);
	*stats_r = pool->stats;
	stats_r->total = pool->n_total;
	stats_r->idle = pool->n_idle;
	stats_r->active = pool->n_total - pool->n_idle;
	stats_r->pending = pool->n_pending;
	pthread_mutex_unlock(&pool->lock);
}

/* Close idle connections beyond minimum-idle that idled too long, and
 * any past max-lifetime.  Called with the lock held; returns the list of
 * connections to close outside the lock. */
static struct db_conn *reap_locked(struct db_pool *p, uint64_t now)
{
	struct db_conn **pp = &p->idle, *dead = NULL;

	while (*pp != NULL) {
		struct db_conn *c = *pp;
		bool old = p->o.max_lifetime_ms > 0 &&
			   now - c->created_ms >= p->o.max_lifetime_ms;
		bool idle = p->o.idle_timeout_ms > 0 &&
			    p->n_idle > p->o.min_idle &&
			    now - c->last_used_ms >= p->o.idle_timeout_ms;

		if (old || idle) {
			*pp = c->next;
			c->next = dead;
			dead = c;
			p->n_idle--;
			p->n_total--;
			p->stats.closed++;
		} else {
			pp = &c->next;
		}
	}
	return dead;
}

static void free_list(struct db_conn *c)
{
	while (c != NULL) {
		struct db_conn *next = c->next;

		conn_free(c);
		c = next;
	}
}

int db_conn_get(struct db_pool *p, struct db_conn **conn_r, char **error_r)
{
	uint64_t start = now_monotonic_ms();
	struct timespec deadline;
	struct db_conn *c, *dead;
	char error[512];

	realtime_after_ms(&deadline, p->o.connection_timeout_ms);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		uint64_t now = now_monotonic_ms();

		dead = reap_locked(p, now);
		if (dead != NULL) {
			pthread_mutex_unlock(&p->lock);
			free_list(dead);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		if (p->idle != NULL) {
			c = p->idle;
			p->idle = c->next;
			c->next = NULL;
			p->n_idle--;
			if (now - c->last_used_ms < VALIDATE_AFTER_IDLE_MS)
				break;
			pthread_mutex_unlock(&p->lock);
			if (conn_alive(c)) {
				pthread_mutex_lock(&p->lock);
				break;
			}
			conn_free(c);
			pthread_mutex_lock(&p->lock);
			p->n_total--;
			p->stats.closed++;
			p->stats.reconnects++;
			continue;
		}
		if (p->n_total < p->o.max_pool_size) {
			if (now < p->backoff_until_ms) {
				snprintf(error, sizeof(error), "%s",
					 p->last_connect_error);
				pthread_mutex_unlock(&p->lock);
				if (error_r != NULL)
					*error_r = xasprintf("%s (retrying)",
							     error);
				return -ENOTCONN;
			}
			p->n_total++;
			pthread_mutex_unlock(&p->lock);
			c = conn_open(&p->o, error);
			pthread_mutex_lock(&p->lock);
			if (c == NULL) {
				p->n_total--;
				p->stats.connect_errors++;
				p->stats.up = false;
				p->backoff_ms = p->backoff_ms == 0 ?
							BACKOFF_MIN_MS :
							p->backoff_ms * 2;
				if (p->backoff_ms > BACKOFF_MAX_MS)
					p->backoff_ms = BACKOFF_MAX_MS;
				p->backoff_until_ms =
					now_monotonic_ms() +
					jitter_ms(p->backoff_ms, 25);
				snprintf(p->last_connect_error,
					 sizeof(p->last_connect_error), "%s",
					 error);
				pthread_cond_broadcast(&p->cond);
				pthread_mutex_unlock(&p->lock);
				if (error_r != NULL)
					*error_r = xasprintf("%s", error);
				return -ENOTCONN;
			}
			p->stats.created++;
			p->stats.up = true;
			p->backoff_ms = 0;
			p->backoff_until_ms = 0;
			break;
		}
		p->n_pending++;
		if (pthread_cond_timedwait(&p->cond, &p->lock, &deadline) ==
		    ETIMEDOUT) {
			p->n_pending--;
			p->stats.timeouts++;
			pthread_mutex_unlock(&p->lock);
			if (error_r != NULL)
				*error_r =
					xasprintf("no database connection "
						  "free after %u ms",
						  p->o.connection_timeout_ms);
			return -ETIMEDOUT;
		}
		p->n_pending--;
	}
	p->stats.acquired++;
	p->stats.acquire_ms_sum += now_monotonic_ms() - start;
	pthread_mutex_unlock(&p->lock);
	c->taken_ms = now_monotonic_ms();
	c->err = 0;
	c->error[0] = '\0';
	*conn_r = c;
	return 0;
}

void db_conn_put(struct db_pool *p, struct db_conn **conn)
{
	struct db_conn *c = *conn;
	uint64_t now = now_monotonic_ms();
	bool close_it;

	if (c == NULL)
		return;
	*conn = NULL;
	if (c->in_txn) {
		/* a transaction left open (its COMMIT failed): roll it back */
		if (c->broken || mysql_rollback(c->mysql) != 0)
			c->broken = true;
		txn_end(c);
	}
	close_it = c->broken || (p->o.max_lifetime_ms > 0 &&
				 now - c->created_ms >= p->o.max_lifetime_ms);
	if (!close_it) {
		unsigned int status = 0;

		/* never hand out a connection inside a transaction */
		if (mariadb_get_infov(c->mysql,
				      MARIADB_CONNECTION_SERVER_STATUS,
				      &status) != 0 ||
		    ((status & SERVER_STATUS_IN_TRANS) != 0 &&
		     mysql_rollback(c->mysql) != 0))
			close_it = true;
	}
	c->last_used_ms = now;
	pthread_mutex_lock(&p->lock);
	p->stats.usage_ms_sum += now - c->taken_ms;
	if (close_it) {
		p->n_total--;
		p->stats.closed++;
		if (c->broken)
			p->stats.reconnects++;
	} else {
		c->next = p->idle;
		p->idle = c;
		p->n_idle++;
	}
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (close_it)
		conn_free(c);
}

/* ------------------------------------------------------------ results --- */

const char *db_cell(const struct db_rows *rows, size_t row, size_t col)
{
	if (rows == NULL || row >= rows->n_rows || col >= rows->n_cols)
		return NULL;
	return rows->cells[row * rows->n_cols + col];
}

const char *db_cell_by_name(const struct db_rows *rows, size_t row,
			    const char *name)
{
	if (rows == NULL)
		return NULL;
	for (size_t i = 0; i < rows->n_cols; i++)
		if (strcmp(rows->names[i], name) == 0)
			return db_cell(rows, row, i);
	return NULL;
}

long long db_cell_ll(const struct db_rows *rows, size_t row, size_t col,
		     long long def)
{
	const char *s = db_cell(rows, row, col);
	long long v;

	if (s == NULL || parse_ll(s, &v) < 0)
		return def;
	return v;
}

void db_rows_free(struct db_rows **rows)
{
	struct db_rows *r = *rows;

	if (r == NULL)
		return;
	*rows = NULL;
	for (size_t i = 0; i < r->n_rows * r->n_cols; i++)
		free(r->cells[i]);
	for (size_t i = 0; i < r->n_cols; i++)
		free(r->names[i]);
	free(r->cells);
	free(r->lens);
	free(r->names);
	free(r);
}

/* Read the whole result set of an executed statement. */
static int fetch_rows(struct db_conn *c, MYSQL_STMT *stmt, MYSQL_RES *meta,
		      struct db_rows **rows_r)
{
	unsigned n_cols = mysql_num_fields(meta);
	MYSQL_FIELD *fields = mysql_fetch_fields(meta);
	MYSQL_BIND *bind = NULL;
	unsigned long *lengths = NULL;
	my_bool *nulls = NULL, *errs = NULL;
	struct db_rows *r = NULL;
	size_t cap = 0;
	int ret = -ENOMEM, st;

	if (mysql_stmt_store_result(stmt) != 0)
		return conn_fail_stmt(c, stmt);
	r = calloc(1, sizeof(*r));
	bind = calloc(n_cols ? n_cols : 1, sizeof(*bind));
	lengths = calloc(n_cols ? n_cols : 1, sizeof(*lengths));
	nulls = calloc(n_cols ? n_cols : 1, sizeof(*nulls));
	errs = calloc(n_cols ? n_cols : 1, sizeof(*errs));
	if (r == NULL || bind == NULL || lengths == NULL || nulls == NULL ||
	    errs == NULL)
		goto out;
	r->n_cols = n_cols;
	r->names = calloc(n_cols ? n_cols : 1, sizeof(char *));
	if (r->names == NULL)
		goto out;
	for (unsigned i = 0; i < n_cols; i++) {
		size_t size = fields[i].max_length;

		if (size < 64)
			size = 64;
		r->names[i] = strdup(fields[i].name);
		bind[i].buffer_type = MYSQL_TYPE_STRING;
		bind[i].buffer = malloc(size + 1);
		bind[i].buffer_length = size + 1;
		bind[i].length = &lengths[i];
		bind[i].is_null = &nulls[i];
		bind[i].error = &errs[i];
		if (r->names[i] == NULL || bind[i].buffer == NULL)
			goto out;
	}
	if (n_cols > 0 && mysql_stmt_bind_result(stmt, bind) != 0) {
		ret = conn_fail_stmt(c, stmt);
		goto out;
	}
	while ((st = mysql_stmt_fetch(stmt)) == 0 ||
	       st == MYSQL_DATA_TRUNCATED) {
		size_t base;

		if (r->n_rows == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			char **cells = realloc(r->cells,
					       ncap * n_cols * sizeof(char *));
			size_t *lens;

			if (cells == NULL)
				goto out;
			r->cells = cells;
			lens = realloc(r->lens, ncap * n_cols * sizeof(size_t));
			if (lens == NULL)
				goto out;
			r->lens = lens;
			cap = ncap;
		}
		base = r->n_rows * n_cols;
		for (unsigned i = 0; i < n_cols; i++)
			r->cells[base + i] = NULL;
		r->n_rows++;
		for (unsigned i = 0; i < n_cols; i++) {
			char *v;

			r->lens[base + i] = 0;
			if (nulls[i])
				continue;
			v = malloc(lengths[i] + 1);
			if (v == NULL)
				goto out;
			if (lengths[i] + 1 > bind[i].buffer_length) {
				MYSQL_BIND one = { 0 };
				unsigned long len = 0;

				one.buffer_type = MYSQL_TYPE_STRING;
				one.buffer = v;
				one.buffer_length = lengths[i] + 1;
				one.length = &len;
				if (mysql_stmt_fetch_column(stmt, &one, i, 0) !=
				    0) {
					free(v);
					ret = conn_fail_stmt(c, stmt);
					goto out;
				}
			} else {
				memcpy(v, bind[i].buffer, lengths[i]);
			}
			v[lengths[i]] = '\0';
			r->cells[base + i] = v;
			r->lens[base + i] = lengths[i];
		}
	}
	if (st != MYSQL_NO_DATA) {
		ret = conn_fail_stmt(c, stmt);
		goto out;
	}
	*rows_r = r;
	r = NULL;
	ret = 0;
out:
	if (bind != NULL)
		for (unsigned i = 0; i < n_cols; i++)
			free(bind[i].buffer);
	free(bind);
	free(lengths);
	free(nulls);
	free(errs);
	db_rows_free(&r);
	mysql_stmt_free_result(stmt);
	return ret;
}

static MYSQL_STMT *stmt_prepare(struct db_conn *c, const char *sql, int *ret_r)
{
	MYSQL_STMT *stmt = mysql_stmt_init(c->mysql);
	my_bool on = 1;

	if (stmt == NULL) {
		*ret_r = conn_fail_mysql(c);
		return NULL;
	}
	mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
	if (mysql_stmt_prepare(stmt, sql, strlen(sql)) != 0) {
		*ret_r = conn_fail_stmt(c, stmt);
		mysql_stmt_close(stmt);
		return NULL;
	}
	return stmt;
}

static struct stmt_entry *stmt_cached(struct db_conn *c, const char *sql,
				      int *ret_r)
{
	struct stmt_entry *e, *victim = &c->stmts[0];

	for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
		e = &c->stmts[i];
		if (e->sql != NULL && strcmp(e->sql, sql) == 0) {
			e->used = ++c->tick;
			return e;
		}
		if (e->sql == NULL || e->used < victim->used)
			victim = e;
	}
	if (victim->stmt != NULL)
		stmt_close(c, victim->stmt);
	free(victim->sql);
	victim->stmt = NULL;
	victim->sql = strdup(sql);
	if (victim->sql == NULL) {
		*ret_r = conn_fail(c, CR_OUT_OF_MEMORY, "out of memory");
		return NULL;
	}
	victim->stmt = stmt_prepare(c, sql, ret_r);
	if (victim->stmt == NULL) {
		free(victim->sql);
		victim->sql = NULL;
		return NULL;
	}
	victim->used = ++c->tick;
	return victim;
}

static int stmt_run(struct db_conn *c, MYSQL_STMT *stmt,
		    const struct db_value *params, size_t n_params,
		    struct db_rows **rows_r, uint64_t *affected_r)
{
	MYSQL_BIND bind[64];
	MYSQL_RES *meta;
	int ret = 0;

	if (n_params > 64 || mysql_stmt_param_count(stmt) != n_params)
		return conn_fail(c, CR_INVALID_PARAMETER_NO,
				 "wrong number of statement parameters");
	memset(bind, 0, sizeof(bind));
	for (size_t i = 0; i < n_params; i++) {
		switch (params[i].type) {
		case DB_T_NULL:
			bind[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case DB_T_INT:
			bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[i].buffer = (void *)&params[i].i;
			break;
		case DB_T_STR:
			bind[i].buffer_type = MYSQL_TYPE_STRING;
			bind[i].buffer = (void *)params[i].s;
			bind[i].buffer_length = params[i].len;
			break;
		case DB_T_BLOB:
			bind[i].buffer_type = MYSQL_TYPE_BLOB;
			bind[i].buffer = (void *)params[i].s;
			bind[i].buffer_length = params[i].len;
			break;
		}
	}
	if (n_params > 0 && mysql_stmt_bind_param(stmt, bind) != 0)
		return conn_fail_stmt(c, stmt);
	if (mysql_stmt_execute(stmt) != 0)
		return conn_fail_stmt(c, stmt);
	meta = mysql_stmt_result_metadata(stmt);
	if (meta != NULL) {
		struct db_rows *rows = NULL;

		ret = fetch_rows(c, stmt, meta, &rows);
		mysql_free_result(meta);
		if (ret == 0) {
			if (affected_r != NULL)
				*affected_r = rows->n_rows;
			if (rows_r != NULL)
				*rows_r = rows;
			else
				db_rows_free(&rows);
		}
		return ret;
	}
	if (affected_r != NULL)
		*affected_r = mysql_stmt_affected_rows(stmt);
	if (rows_r != NULL)
		*rows_r = NULL;
	return 0;
}

/*
 * Inside a transaction, after a statement: the server must still be in it.
 * Galera rolls back a local transaction whose rows a replicated write set
 * needs (brute-force abort); when the error that reports it does not reach
 * us, the next statements run in autocommit, outside the transaction, and
 * COMMIT has nothing to commit but succeeds.  Every reply carries the
 * server status, so this costs no round trip.
 */
static int txn_check(struct db_conn *c, int ret)
{
	unsigned int status = 0;

	if (ret < 0 || !c->in_txn)
		return ret;
	if (mariadb_get_infov(c->mysql, MARIADB_CONNECTION_SERVER_STATUS,
			      &status) != 0 ||
	    (status & SERVER_STATUS_IN_TRANS) == 0)
		return conn_fail(c, ER_LOCK_DEADLOCK,
				 "the server is no longer in the transaction "
				 "(rolled back by a conflict)");
	return 0;
}

int db_exec(struct db_conn *c, const char *sql, const struct db_value *params,
	    size_t n_params, struct db_rows **rows_r, uint64_t *affected_r)
{
	struct stmt_entry *e;
	int ret = 0;

	c->err = 0;
	c->error[0] = '\0';
	for (int tries = 0; tries < 2; tries++) {
		e = stmt_cached(c, sql, &ret);
		if (e == NULL)
			return ret;
		ret = stmt_run(c, e->stmt, params, n_params, rows_r,
			       affected_r);
		if (ret == 0 || c->err != ER_NEED_REPREPARE)
			break;
		/* the table changed under the statement: prepare again */
		stmt_close(c, e->stmt);
		free(e->sql);
		e->stmt = NULL;
		e->sql = NULL;
	}
	if (c->broken)
		conn_close_stmts(c);
	return txn_check(c, ret);
}

int db_exec_once(struct db_conn *c, const char *sql,
		 const struct db_value *params, size_t n_params,
		 struct db_rows **rows_r, uint64_t *affected_r)
{
	MYSQL_STMT *stmt;
	int ret = 0;

	c->err = 0;
	c->error[0] = '\0';
	stmt = stmt_prepare(c, sql, &ret);
	if (stmt == NULL)
		return ret;
	ret = stmt_run(c, stmt, params, n_params, rows_r, affected_r);
	stmt_close(c, stmt);
	return txn_check(c, ret);
}

int db_exec_text(struct db_conn *c, const char *sql)
{
	MYSQL_RES *res;

	c->err = 0;
	c->error[0] = '\0';
	if (mysql_query(c->mysql, sql) != 0)
		return conn_fail_mysql(c);
	do {
		res = mysql_store_result(c->mysql);
		if (res != NULL)
			mysql_free_result(res);
	} while (mysql_next_result(c->mysql) == 0);
	if (mysql_errno(c->mysql) != 0)
		return conn_fail_mysql(c);
	/* text statements are DDL and session settings: DDL commits the
	 * transaction implicitly, so its in-transaction checks end here */
	c->in_txn = false;
	return 0;
}

int db_begin(struct db_conn *c)
{
	int ret;

	conn_close_deferred(c);
	ret = db_exec_text(c, "START TRANSACTION");
	if (ret == 0)
		c->in_txn = true;
	return ret;
}

/* The transaction is over: close what waited for its end. */
static void txn_end(struct db_conn *c)
{
	c->in_txn = false;
	if (c->broken)
		conn_close_stmts(c);
	else
		conn_close_deferred(c);
}

/*
 * COMMIT only what is still the transaction begun: a transaction the
 * server rolled back meanwhile is a conflict to retry, never an empty
 * COMMIT that "succeeds".  1213 at COMMIT (Galera certification) and 1180
 * are retryable; a connection lost at COMMIT leaves the outcome unknown
 * (-ENOTCONN).
 */
int db_commit(struct db_conn *c)
{
	int ret;

	c->err = 0;
	ret = txn_check(c, 0);
	if (ret == 0 && mysql_commit(c->mysql) != 0)
		ret = conn_fail_mysql(c);
	if (ret == 0)
		txn_end(c);
	return ret;
}

int db_rollback(struct db_conn *c)
{
	int ret = 0;

	if (mysql_rollback(c->mysql) != 0) {
		unsigned code = mysql_errno(c->mysql);

		if (db_errno_is_connection(code))
			c->broken = true;
		ret = code_to_errno(code);
	}
	txn_end(c);
	return ret;
}

/* -------------------------------------------------------- transactions --- */

static void backoff_sleep(unsigned attempt)
{
	unsigned ms = 5u << (attempt < 6 ? attempt : 6);
	struct timespec ts;

	ms = (unsigned)random_between(ms / 2, ms * 3 / 2);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

static int run_with_retry(struct db_pool *p, db_txn_fn *fn, void *arg, bool txn,
			  char **error_r)
{
	struct db_conn *c = NULL;
	int ret = 0;

	for (unsigned attempt = 0; attempt < TXN_RETRIES; attempt++) {
		char *error = NULL;

		ret = db_conn_get(p, &c, &error);
		if (ret < 0) {
			if (error_r != NULL)
				*error_r = error;
			else
				free(error);
			return ret;
		}
		if (txn)
			ret = db_begin(c);
		if (ret == 0)
			ret = fn(c, arg);
		if (ret == 0 && txn)
			ret = db_commit(c);
		if (ret < 0 && txn && !c->broken)
			db_rollback(c);
		if (ret == -EAGAIN && attempt + 1 < TXN_RETRIES) {
			log_debug("database conflict, the whole %s is run "
				  "again: %s",
				  txn ? "transaction" : "statement", c->error);
			db_conn_put(p, &c);
			pthread_mutex_lock(&p->lock);
			p->stats.retries++;
			pthread_mutex_unlock(&p->lock);
			backoff_sleep(attempt);
			continue;
		}
		break;
	}
	if (ret < 0 && error_r != NULL)
		*error_r = xasprintf("%s", c->error[0] != '\0' ?
						   c->error :
						   dmf_strerror(ret));
	db_conn_put(p, &c);
	return ret;
}

int db_transaction(struct db_pool *pool, db_txn_fn *fn, void *arg,
		   char **error_r)
{
	return run_with_retry(pool, fn, arg, true, error_r);
}

int db_run(struct db_pool *pool, db_txn_fn *fn, void *arg, char **error_r)
{
	return run_with_retry(pool, fn, arg, false, error_r);
}
