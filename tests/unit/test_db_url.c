/* test_db_url.c - parsing of datasources.default.url (core/db_url.c) and
 * the retryable/connection error classes (core/db.c). */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "../tap.h"

struct url_case {
	const char *url;
	int ok;
	const char *host, *socket, *database, *user, *password;
	unsigned port;
	int create;
	unsigned connect_ms, socket_ms;
	enum db_ssl_mode ssl;
	const char *error_part; /* for failures */
};

static const struct url_case cases[] = {
	{ "jdbc:mysql://dmf-db:3306/migration", 1, "dmf-db", NULL, "migration",
	  NULL, NULL, 3306, 0, 0, 0, DB_SSL_DISABLED, NULL },
	{ "jdbc:mysql://localhost:3306/migration?createDatabaseIfNotExist=true",
	  1, "localhost", NULL, "migration", NULL, NULL, 3306, 1, 0, 0,
	  DB_SSL_DISABLED, NULL },
	{ "jdbc:mariadb://db.example/"
	  "m?user=w&password=p%40ss&connectTimeout=2500"
	  "&socketTimeout=10000",
	  1, "db.example", NULL, "m", "w", "p@ss", 3306, 0, 2500, 10000,
	  DB_SSL_DISABLED, NULL },
	{ "jdbc:mariadb://localhost/migration?localSocket=/run/mysqld/"
	  "mysqld.sock",
	  1, NULL, "/run/mysqld/mysqld.sock", "migration", NULL, NULL, 3306, 0,
	  0, 0, DB_SSL_DISABLED, NULL },
	{ "jdbc:mysql://[::1]:3307/db?useSSL=true", 1, "::1", NULL, "db", NULL,
	  NULL, 3307, 0, 0, 0, DB_SSL_VERIFY, NULL },
	{ "jdbc:mysql://h/db?useSSL=true&trustServerCertificate=true", 1, "h",
	  NULL, "db", NULL, NULL, 3306, 0, 0, 0, DB_SSL_REQUIRED, NULL },
	{ "jdbc:mysql://h/db?sslMode=verify-ca", 1, "h", NULL, "db", NULL, NULL,
	  3306, 0, 0, 0, DB_SSL_VERIFY, NULL },
	{ "mysql://u:pw@h:1234/db", 1, "h", NULL, "db", "u", "pw", 1234, 0, 0,
	  0, DB_SSL_DISABLED, NULL },
	{ "jdbc:mysql:///db?unknownOption=1&autoReconnect=true", 1, "localhost",
	  NULL, "db", NULL, NULL, 3306, 0, 0, 0, DB_SSL_DISABLED, NULL },
	{ "jdbc:mysql://h", 1, "h", NULL, NULL, NULL, NULL, 3306, 0, 0, 0,
	  DB_SSL_DISABLED, NULL },
	{ "jdbc:postgresql://h/db", 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0,
	  0, "is not a jdbc:mysql" },
	{ "jdbc:mysql://h:99999/db", 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0,
	  0, 0, "bad port" },
	{ "jdbc:mysql://h:x/db", 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0,
	  "bad port" },
	{ "jdbc:mysql://a,b/db", 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0,
	  "several hosts" },
	{ "jdbc:mysql://h/db?localSocket=relative.sock", 0, NULL, NULL, NULL,
	  NULL, NULL, 0, 0, 0, 0, 0, "absolute" },
	{ "jdbc:mysql://h/db?createDatabaseIfNotExist=maybe", 0, NULL, NULL,
	  NULL, NULL, NULL, 0, 0, 0, 0, 0, "not true or false" },
	{ "jdbc:mysql://h/db?connectTimeout=-5", 0, NULL, NULL, NULL, NULL,
	  NULL, 0, 0, 0, 0, 0, "milliseconds" },
	{ "jdbc:mysql://h/db%zz", 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0,
	  0, "bad database name" },
	{ "jdbc:mysql://h/d`b", 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0,
	  "bad database name" },
	{ "", 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0,
	  "no database URL" },
};

int main(void)
{
	plan_lazy();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct url_case *c = &cases[i];
		struct db_url u;
		char *error = NULL;
		int ret = db_url_parse(c->url, &u, &error);

		if (!c->ok) {
			ok(ret == -EINVAL, "'%s' is refused", c->url);
			like(error, c->error_part,
			     "'%s': error names the problem", c->url);
			free(error);
			continue;
		}
		if (!ok(ret == 0, "'%s' parses", c->url)) {
			diag("error: %s", error);
			free(error);
			continue;
		}
		is_str(u.host, c->host, "'%s': host", c->url);
		is_str(u.socket, c->socket, "'%s': socket", c->url);
		is_str(u.database, c->database, "'%s': database", c->url);
		is_str(u.user, c->user, "'%s': user", c->url);
		is_str(u.password, c->password, "'%s': password", c->url);
		is_int(u.port, c->port, "'%s': port", c->url);
		is_int(u.create_database, c->create, "'%s': create", c->url);
		is_int(u.connect_timeout_ms, c->connect_ms, "'%s': connect ms",
		       c->url);
		is_int(u.socket_timeout_ms, c->socket_ms, "'%s': socket ms",
		       c->url);
		is_int(u.ssl_mode, c->ssl, "'%s': ssl mode", c->url);
		db_url_clear(&u);
	}
	/* error classes */
	ok(db_errno_is_retryable(1213), "1213 deadlock is retried");
	ok(db_errno_is_retryable(1205), "1205 lock wait timeout is retried");
	ok(db_errno_is_retryable(1020), "1020 snapshot conflict is retried");
	ok(!db_errno_is_retryable(1062), "1062 duplicate is not retried");
	ok(db_errno_is_connection(2006), "2006 server gone is a connection "
					 "error");
	ok(db_errno_is_connection(2013), "2013 lost connection is a "
					 "connection error");
	ok(!db_errno_is_connection(1213), "1213 is not a connection error");
	return done_testing();
}
