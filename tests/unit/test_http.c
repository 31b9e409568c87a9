/* test_http.c - the pure parts of core/http/: ip-patterns, Basic
 * Authorization parsing, constant-time comparison, route matching and
 * URL decoding. */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_auth.h"
#include "http/http_server.h"
#include "lib/util.h"
#include "../tap.h"

static void test_ip(void)
{
	char *list[] = { "127.0.0.1", "192.168.1.*", "fd00:*", NULL };
	char *empty[] = { NULL };

	ok(http_ip_match("127.0.0.1", "127.0.0.1"), "exact IPv4");
	ok(!http_ip_match("127.0.0.1", "127.0.0.10"), "exact is not a prefix");
	ok(http_ip_match("192.168.1.*", "192.168.1.77"), "wildcard IPv4");
	ok(!http_ip_match("192.168.1.*", "192.168.10.7"),
	   "wildcard does not match another net");
	ok(http_ip_match("*", "10.1.2.3"), "* matches all");
	ok(http_ip_match("::1", "::1"), "exact IPv6");
	ok(http_ip_match("FD00:*", "fd00::5"), "IPv6 wildcard, any case");
	ok(http_ip_match("10.0.0.1", "::ffff:10.0.0.1"),
	   "IPv4-mapped IPv6 matches as IPv4");
	ok(!http_ip_match("", "10.0.0.1"), "empty pattern matches nothing");
	ok(http_ip_match("1*2*3", "1a2b3"), "several wildcards");
	ok(!http_ip_match("1*2*3", "1a2b4"), "several wildcards, no match");
	ok(http_ip_allowed(list, "192.168.1.9"), "list allows a match");
	ok(!http_ip_allowed(list, "10.9.9.9"), "list refuses others");
	ok(http_ip_allowed(empty, "10.9.9.9"), "empty list allows all");
	ok(http_ip_allowed(NULL, "10.9.9.9"), "no list allows all");
}

static int basic(const char *h, const char *user, const char *pass)
{
	char *u = NULL, *p = NULL;
	int ret = http_basic_parse(h, &u, &p);

	if (ret == 0 && (strcmp(u, user) != 0 || strcmp(p, pass) != 0))
		ret = -100;
	free(u);
	secret_free(&p);
	return ret;
}

static void test_basic(void)
{
	/* admin:password, the spec's example */
	is_int(basic("Basic YWRtaW46cGFzc3dvcmQ=", "admin", "password"), 0,
	       "the spec's header");
	is_int(basic("basic   YWRtaW46cGFzc3dvcmQ=  ", "admin", "password"), 0,
	       "scheme any case, blanks");
	/* a:b:c - the password keeps its colons */
	is_int(basic("Basic YTpiOmM=", "a", "b:c"), 0, "colon in password");
	/* ":" - empty user and password */
	is_int(basic("Basic Og==", "", ""), 0, "empty user and password");
	is_int(basic("Basic YWRtaW46cGFzc3dvcmQ", "admin", "password"), 0,
	       "unpadded base64");
	is_int(basic("Bearer abc", "", ""), -ENOENT, "another scheme");
	is_int(basic("Basicabc", "", ""), -ENOENT, "no blank after Basic");
	is_int(basic("Basic %%%%", "", ""), -EINVAL, "broken base64");
	is_int(basic("Basic YWRtaW4=", "", ""), -EINVAL, "no colon");
	is_int(basic("Basic YQ==Og==", "", ""), -EINVAL, "padding inside");
	is_int(basic("Basic YWI6AGM=", "", ""), -EINVAL, "NUL byte inside");
	is_int(basic("Basic ", "", ""), -EINVAL, "empty credentials");
	is_int(basic("Basic YR==", "", ""), -EINVAL,
	       "non-canonical trailing bits");
	{
		char big[6000];

		memcpy(big, "Basic ", 6);
		memset(big + 6, 'A', sizeof(big) - 7);
		big[sizeof(big) - 1] = '\0';
		is_int(basic(big, "", ""), -EINVAL, "over 4 KB");
	}
	is_int(basic(NULL, "", ""), -ENOENT, "no header");
}

static void test_equal(void)
{
	ok(http_secret_equal("abc", 3, "abc", 3), "equal");
	ok(!http_secret_equal("abc", 3, "abd", 3), "last byte differs");
	ok(!http_secret_equal("abc", 3, "abcd", 4), "prefix");
	ok(!http_secret_equal("", 0, "a", 1), "empty vs one");
	ok(http_secret_equal("", 0, "", 0), "both empty");
}

static int route(const char *pattern, const char *path, const char *want0,
		 const char *want1)
{
	char *params[4];
	size_t n = 0;
	bool m = http_route_match(pattern, path, params, 4, &n);
	int ret = m ? 1 : 0;

	if (m && want0 != NULL && (n < 1 || strcmp(params[0], want0) != 0))
		ret = -1;
	if (m && want1 != NULL && (n < 2 || strcmp(params[1], want1) != 0))
		ret = -2;
	for (size_t i = 0; i < n; i++)
		free(params[i]);
	return ret;
}

#define API "/dmf/admin/api/v2/targets/{target}/backends"

static void test_route(void)
{
	is_int(route("/health", "/health", NULL, NULL), 1, "literal");
	is_int(route("/health", "/health/", NULL, NULL), 1, "trailing slash");
	is_int(route("/health", "/healthz", NULL, NULL), 0, "longer segment");
	is_int(route("/health", "/health/liveness", NULL, NULL), 0,
	       "more segments");
	is_int(route("/health/liveness", "/health", NULL, NULL), 0,
	       "fewer segments");
	is_int(route("/metrics/{name}", "/metrics/process.uptime",
		     "process.uptime", NULL),
	       1, "one parameter");
	is_int(route("/metrics/{name}", "/metrics/", NULL, NULL), 0,
	       "empty parameter");
	is_int(route(API "/{name}",
		     "/dmf/admin/api/v2/targets/cloud/backends/cloud%2F1",
		     "cloud", "cloud/1"),
	       1, "two parameters, %%2F decoded");
	is_int(route(API, "/dmf/admin/api/v2/targets/cloud/backends", "cloud",
		     NULL),
	       1, "target parameter");
	is_int(route(API "/{name}",
		     "/dmf/admin/api/v2/targets/cloud/backends/a%00b", NULL,
		     NULL),
	       0, "%%00 does not match");
	is_int(route(API "/{name}",
		     "/dmf/admin/api/v2/targets/cloud/backends/a%zz", NULL,
		     NULL),
	       0, "bad escape does not match");
	is_int(route("/health", "health", NULL, NULL), 0, "relative path");
	is_int(route("/health", "", NULL, NULL), 0, "empty path");
	is_int(route("/", "/", NULL, NULL), 1, "root");
}

static void test_decode(void)
{
	char *s = http_url_decode("a%2Fb+c", 7, true);

	is_str(s, "a/b c", "query decoding: %%2F and +");
	free(s);
	s = http_url_decode("a+b", 3, false);
	is_str(s, "a+b", "path decoding keeps +");
	free(s);
	ok(http_url_decode("a%2", 3, false) == NULL, "truncated escape");
	ok(http_url_decode("%", 1, false) == NULL, "lone %%");
}

int main(void)
{
	plan_lazy();
	test_ip();
	test_basic();
	test_equal();
	test_route();
	test_decode();
	return done_testing();
}
