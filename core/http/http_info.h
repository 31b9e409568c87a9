/*
 * http_info.h - /info (spec section 5): build date, version, revision and
 * git identity of the build, the loaded job-worker plugin, and the text of
 * endpoints.info.sourceCodeOrigin.location when enabled.  The body is
 * made once at start.
 */
#ifndef DMF_HTTP_INFO_H
#define DMF_HTTP_INFO_H

#include "dmf/plugin.h"
#include "http/http_endpoint.h"
#include "lib/config.h"

struct info;

/* plugin NULL: no plugin section.  A missing sourceCodeOrigin file is a
 * warning.  0 or -EINVAL with *error_r (allocated). */
int info_create(const struct config *cfg, const struct dmf_plugin *plugin,
		struct info **info_r, char **error_r);
void info_destroy(struct info **info);

/* The route handler; ctx is the struct info. */
http_handler_fn info_endpoint;

#endif
