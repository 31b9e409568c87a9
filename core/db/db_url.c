/* db_url.c - parse the JDBC-style `datasources.default.url`. */
#include "dmf-build.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "db/db.h"
#include "lib/secret.h"
#include "lib/util.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* %-decode [s, s+n) into a new string; NULL on bad escapes or memory. */
static char *pct_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

static int parse_bool(const char *v, bool *b_r)
{
	if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcasecmp(v, "yes") == 0) {
		*b_r = true;
		return 0;
	}
	if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
	    strcasecmp(v, "no") == 0) {
		*b_r = false;
		return 0;
	}
	return -EINVAL;
}

static int parse_ms(const char *v, unsigned *ms_r)
{
	long long n;

	if (parse_ll(v, &n) < 0 || n < 0 || n > 24LL * 3600 * 1000)
		return -EINVAL;
	*ms_r = (unsigned)n;
	return 0;
}

static int set_option(struct db_url *u, const char *key, const char *value,
		      char **error_r)
{
	bool b;

	if (strcmp(key, "user") == 0) {
		free(u->user);
		u->user = strdup(value);
		return u->user == NULL ? -ENOMEM : 0;
	}
	if (strcmp(key, "password") == 0) {
		secret_free(&u->password);
		u->password = strdup(value);
		return u->password == NULL ? -ENOMEM : 0;
	}
	if (strcmp(key, "localSocket") == 0 || strcmp(key, "socket") == 0 ||
	    strcmp(key, "unix_socket") == 0 || strcmp(key, "unixSocket") == 0) {
		if (value[0] != '/') {
			*error_r = xasprintf("option %s: the socket path must "
					     "be absolute",
					     key);
			return -EINVAL;
		}
		free(u->socket);
		u->socket = strdup(value);
		return u->socket == NULL ? -ENOMEM : 0;
	}
	if (strcmp(key, "createDatabaseIfNotExist") == 0) {
		if (parse_bool(value, &b) < 0)
			goto bad_bool;
		u->create_database = b;
		return 0;
	}
	if (strcmp(key, "connectTimeout") == 0) {
		if (parse_ms(value, &u->connect_timeout_ms) < 0)
			goto bad_ms;
		return 0;
	}
	if (strcmp(key, "socketTimeout") == 0) {
		if (parse_ms(value, &u->socket_timeout_ms) < 0)
			goto bad_ms;
		return 0;
	}
	if (strcmp(key, "useSSL") == 0 || strcmp(key, "useSsl") == 0 ||
	    strcmp(key, "requireSSL") == 0) {
		if (parse_bool(value, &b) < 0)
			goto bad_bool;
		if (!b)
			u->ssl_mode = DB_SSL_DISABLED;
		else if (u->ssl_mode == DB_SSL_DISABLED)
			u->ssl_mode = DB_SSL_VERIFY;
		return 0;
	}
	if (strcmp(key, "trustServerCertificate") == 0) {
		if (parse_bool(value, &b) < 0)
			goto bad_bool;
		if (b && u->ssl_mode != DB_SSL_DISABLED)
			u->ssl_mode = DB_SSL_REQUIRED;
		return 0;
	}
	if (strcmp(key, "sslMode") == 0 || strcmp(key, "sslmode") == 0) {
		if (strcasecmp(value, "disable") == 0 ||
		    strcasecmp(value, "disabled") == 0)
			u->ssl_mode = DB_SSL_DISABLED;
		else if (strcasecmp(value, "trust") == 0 ||
			 strcasecmp(value, "required") == 0 ||
			 strcasecmp(value, "preferred") == 0)
			u->ssl_mode = DB_SSL_REQUIRED;
		else if (strcasecmp(value, "verify-ca") == 0 ||
			 strcasecmp(value, "verify_ca") == 0 ||
			 strcasecmp(value, "verify-full") == 0 ||
			 strcasecmp(value, "verify_identity") == 0)
			u->ssl_mode = DB_SSL_VERIFY;
		else {
			*error_r = xasprintf("option sslMode: unknown value "
					     "'%s'",
					     value);
			return -EINVAL;
		}
		return 0;
	}
	return 0; /* other Connector/J options do not apply */
bad_bool:
	*error_r =
		xasprintf("option %s: '%s' is not true or false", key, value);
	return -EINVAL;
bad_ms:
	*error_r = xasprintf("option %s: '%s' is not a number of "
			     "milliseconds",
			     key, value);
	return -EINVAL;
}

static int parse_options(struct db_url *u, const char *q, char **error_r)
{
	while (*q != '\0') {
		const char *end = q + strcspn(q, "&;");
		const char *eq = memchr(q, '=', (size_t)(end - q));
		char *key, *value;
		int ret;

		if (end == q) {
			q++;
			continue;
		}
		key = pct_decode(q, (size_t)((eq != NULL ? eq : end) - q));
		value = eq != NULL ?
				pct_decode(eq + 1, (size_t)(end - eq - 1)) :
				strdup("true");
		if (key == NULL || value == NULL) {
			free(key);
			secret_free(&value);
			*error_r = xasprintf(
				"bad %%-escape in option '%.*s'",
				(int)(eq != NULL ? eq - q : end - q), q);
			return -EINVAL;
		}
		ret = set_option(u, key, value, error_r);
		free(key);
		secret_free(&value);
		if (ret < 0)
			return ret;
		q = *end != '\0' ? end + 1 : end;
	}
	return 0;
}

static int parse_url(const char *url, struct db_url *u, char **error_r)
{
	static const char *const schemes[] = { "jdbc:mysql://",
					       "jdbc:mariadb://", "mysql://",
					       "mariadb://" };
	const char *p = NULL, *auth_end, *host_end, *q;
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);

		if (strncasecmp(url, schemes[i], n) == 0) {
			p = url + n;
			break;
		}
	}
	if (p == NULL) {
		/* the URL may still hold a password: never echo it */
		char *shown = secret_redact_value(url, NULL);

		*error_r = xasprintf("'%s' is not a jdbc:mysql:// or "
				     "jdbc:mariadb:// URL",
				     shown != NULL ? shown : url);
		free(shown);
		return -EINVAL;
	}
	/* user:password@ before the host (not JDBC, but common) */
	auth_end = p + strcspn(p, "/?");
	q = memchr(p, '@', (size_t)(auth_end - p));
	if (q != NULL) {
		const char *colon = memchr(p, ':', (size_t)(q - p));

		u->user = pct_decode(p, (size_t)((colon ? colon : q) - p));
		if (colon != NULL)
			u->password =
				pct_decode(colon + 1, (size_t)(q - colon - 1));
		if (u->user == NULL || (colon != NULL && u->password == NULL)) {
			*error_r = xasprintf("bad user or password in the URL");
			return -EINVAL;
		}
		p = q + 1;
	}
	/* host[:port] */
	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (close == NULL) {
			*error_r = xasprintf("unterminated [ in the host of "
					     "the URL");
			return -EINVAL;
		}
		u->host = strndup(p + 1, (size_t)(close - p - 1));
		host_end = close + 1;
	} else {
		host_end = p + strcspn(p, ":/?");
		if (memchr(p, ',', (size_t)(host_end - p)) != NULL) {
			*error_r = xasprintf("several hosts in the URL are not "
					     "supported");
			return -EINVAL;
		}
		u->host = host_end > p ? strndup(p, (size_t)(host_end - p)) :
					 strdup("localhost");
	}
	if (u->host == NULL)
		return -ENOMEM;
	p = host_end;
	if (*p == ':') {
		long long port;
		size_t n = strcspn(p + 1, "/?");
		char *text = strndup(p + 1, n);

		if (text == NULL)
			return -ENOMEM;
		if (parse_ll(text, &port) < 0 || port < 1 || port > 65535) {
			*error_r = xasprintf("bad port '%s' in the URL", text);
			free(text);
			return -EINVAL;
		}
		free(text);
		u->port = (unsigned)port;
		p += 1 + n;
	}
	if (*p == '/') {
		size_t n = strcspn(p + 1, "?");

		p++;
		if (n > 0) {
			u->database = pct_decode(p, n);
			if (u->database == NULL) {
				*error_r = xasprintf("bad database name in "
						     "the URL");
				return -EINVAL;
			}
			if (strchr(u->database, '`') != NULL ||
			    strlen(u->database) > 64) {
				*error_r = xasprintf("bad database name '%s' "
						     "in the URL",
						     u->database);
				return -EINVAL;
			}
		}
		p += n;
	}
	if (*p == '?')
		return parse_options(u, p + 1, error_r);
	if (*p != '\0') {
		*error_r = xasprintf("unexpected '%s' in the URL", p);
		return -EINVAL;
	}
	return 0;
}

int db_url_parse(const char *url, struct db_url *url_r, char **error_r)
{
	struct db_url u = { .port = 3306 };
	char *error = NULL;
	int ret;

	if (url == NULL || *url == '\0') {
		*error_r = xasprintf("no database URL configured "
				     "(datasources.default.url)");
		return -EINVAL;
	}
	ret = parse_url(url, &u, &error);
	if (ret < 0) {
		db_url_clear(&u);
		if (error == NULL)
			error = xasprintf("%s", dmf_strerror(ret));
		*error_r = error;
		return -EINVAL;
	}
	if (u.socket != NULL) {
		free(u.host);
		u.host = NULL;
	}
	*url_r = u;
	return 0;
}

void db_url_clear(struct db_url *url)
{
	if (url == NULL)
		return;
	free(url->host);
	free(url->socket);
	free(url->database);
	free(url->user);
	secret_free(&url->password);
	memset(url, 0, sizeof(*url));
}
