/* http_info.c - the /info body. */
#include "dmf-build.h"

#include "http/http_info.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

#define ORIGIN_MAX 65536

struct info {
	char *body;
	size_t len;
};

static void add_str(struct dmf_strbuf *b, const char *s)
{
	dmf_strbuf_add_json_string(b, s, strlen(s));
}

/* the file's text (at most 64 KB), trailing blank lines removed */
static char *read_origin(const char *location)
{
	const char *path = location;
	char *buf;
	size_t n;
	FILE *f;

	if (strncmp(path, "file:", 5) == 0)
		path += 5;
	f = fopen(path, "r");
	if (f == NULL) {
		log_warn("endpoints.info.sourceCodeOrigin.location: cannot "
			 "read %s: %s (/info goes without it)",
			 path, dmf_strerror(-errno));
		return NULL;
	}
	buf = malloc(ORIGIN_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, ORIGIN_MAX, f);
	fclose(f);
	while (n > 0 &&
	       (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return buf;
}

int info_create(const struct config *cfg, const struct dmf_plugin *plugin,
		struct info **info_r, char **error_r)
{
	struct dmf_strbuf b = DMF_STRBUF_INIT;
	const char *err = NULL, *location = NULL;
	struct info *info;
	bool origin_on = true;
	char *origin = NULL;

	if (cfg_get_bool(cfg->root, "endpoints.info.sourceCodeOrigin.enabled",
			 true, &origin_on, &err) < 0 ||
	    cfg_get_string(cfg->root,
			   "endpoints.info.sourceCodeOrigin.location",
			   "file:/opt/open-xchange/dmf/worker/share/"
			   "SourceCodeOrigin.txt",
			   &location, &err) < 0) {
		*error_r = xasprintf("%s", err);
		return -EINVAL;
	}
	if (origin_on && location != NULL && *location != '\0')
		origin = read_origin(location);
	dmf_strbuf_addf(
		&b, "{\"date\":%lld,\"version\":", (long long)DMF_BUILD_DATE);
	add_str(&b, PACKAGE_VERSION);
	dmf_strbuf_adds(&b, ",\"revision\":");
	add_str(&b, DMF_REVISION);
	dmf_strbuf_adds(&b, ",\"gitCommit\":");
	add_str(&b, DMF_GIT_COMMIT);
	dmf_strbuf_adds(&b, ",\"gitBranch\":");
	add_str(&b, DMF_GIT_BRANCH);
	dmf_strbuf_adds(&b, ",\"gitDescribe\":");
	add_str(&b, DMF_GIT_DESCRIBE);
	dmf_strbuf_addf(&b, ",\"abi\":\"%d.%d\"", DMF_ABI_MAJOR, DMF_ABI_MINOR);
	if (plugin != NULL) {
		dmf_strbuf_adds(&b, ",\"plugin\":{\"name\":");
		add_str(&b, plugin->name != NULL ? plugin->name : "");
		dmf_strbuf_adds(&b, ",\"version\":");
		add_str(&b, plugin->version != NULL ? plugin->version : "");
		dmf_strbuf_addf(&b, ",\"abi\":\"%u.%u\"}",
				(unsigned)plugin->abi_major,
				(unsigned)plugin->abi_minor);
	}
	if (origin != NULL) {
		dmf_strbuf_adds(&b, ",\"sourceCodeOrigin\":");
		add_str(&b, origin);
		free(origin);
	}
	dmf_strbuf_adds(&b, "}");
	info = calloc(1, sizeof(*info));
	if (info == NULL || b.failed) {
		free(info);
		dmf_strbuf_free(&b);
		return -ENOMEM;
	}
	info->len = b.len;
	info->body = dmf_strbuf_take(&b);
	*info_r = info;
	return 0;
}

void info_destroy(struct info **infop)
{
	if (*infop == NULL)
		return;
	free((*infop)->body);
	free(*infop);
	*infop = NULL;
}

void info_endpoint(const struct http_request *req, struct http_response *resp,
		   void *ctx)
{
	const struct info *info = ctx;

	dmf_strbuf_add(&resp->body, info->body, info->len);
}
