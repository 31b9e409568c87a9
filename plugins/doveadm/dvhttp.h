/*
 * dvhttp.h - the doveadm worker's doveadm HTTP API calls (spec 3.4-3.8,
 * 3.11.4.3) through the host's http table (ABI 1.4), to the source
 * block's `http` (url; username/password, or api-key as X-Dovecot-API).
 */
#ifndef DMF_DOVEADM_DVHTTP_H
#define DMF_DOVEADM_DVHTTP_H

#include <stdbool.h>

#include <jansson.h>

#include "dvjob.h"

/* The outcome of one call. */
struct dv_http_result {
	bool ok; /* doveadmResponse */
	int exit_code; /* Dovecot's exitCode on an "error" reply, else -1 */
	json_t *payload; /* the doveadmResponse payload (owned), or NULL */
	char *display; /* what was called: `COMMAND PARAMS (URL)` */
	char *error; /* why it failed (no secret in it), or NULL */
};

/*
 * Call `command` with `params` (taken over; NULL: {}); timeout_ms 0: the
 * configured timeouts.  Always fills *r (free with dv_http_result_free);
 * returns 0 when Dovecot answered doveadmResponse, else a negative errno
 * (-EREMOTEIO: an exitCode error, -ENOTSUP: no http block or no client).
 */
int dv_http_call(struct dv_job *dj, const char *command, json_t *params,
		 long long timeout_ms, struct dv_http_result *r);
void dv_http_result_free(struct dv_http_result *r);

/* The details entry of a call: success, command, exitCode, errors. */
json_t *dv_http_entry(const struct dv_http_result *r, bool success);

/* The user the source knows: the job's ruid, else its uid. */
const char *dv_http_source_user(const struct dv_job *dj);

#endif /* DMF_DOVEADM_DVHTTP_H */
