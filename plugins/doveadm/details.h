/*
 * details.h - the entries of the job's details array (spec 3.16):
 * {"<operation>": {"success": B, "command": "...", "exitCode": N,
 * "errors": [...], ...}}, and the collection of a step's error lines.
 */
#ifndef DMF_DOVEADM_DETAILS_H
#define DMF_DOVEADM_DETAILS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "dmf/host.h"

/* The spec's operation names. */
#define OP_KICK_USER "kick user"
#define OP_KICK_WAIT "kick user wait"
#define OP_DIRECTOR_FLUSH "director flush metacache"
#define OP_MOVE_USER "move user"
#define OP_USE_SOURCEHOST "use sourcehost"
#define OP_PRE_COMMAND "pre migration command"
#define OP_COPY_INBOX "copy imapc inbox"
#define OP_COUNT_PRE "count local mailbox pre sync"
#define OP_DSYNC "dsync"
#define OP_MOVE_DUPLICATES "move duplicates"
#define OP_REMOVE_INBOX "remove imapc inbox"
#define OP_COUNT_POST "count local mailbox post sync"
#define OP_COUNT_REMOTE "count remote mailbox"
#define OP_FLUSH_METACACHE "flush user metacache"
#define OP_CLEAN_METACACHE "clean user metacache"
#define OP_POST_COMMAND "post migration command"
#define OP_FAILURE_COMMAND "post migration failure command"

/* Error lines kept per step and bytes per line. */
#define DETAILS_MAX_ERRORS 20
#define DETAILS_MAX_ERROR_LEN 1024

/*
 * A new entry body: success, command (left out when NULL), exitCode (left
 * out when `with_exit` is false), errors (a new empty array when NULL; a
 * given array is taken over).  NULL on out of memory.
 */
json_t *details_entry(bool success, const char *command, bool with_exit,
		      int exit_code, json_t *errors);

/* Append {"op": body} to the job's details; takes over `body`.  Returns 0
 * or a negative errno. */
int details_add(const struct dmf_host *h, struct dmf_job *job, const char *op,
		json_t *body);

/* Append a line to an errors array (capped at DETAILS_MAX_ERRORS lines of
 * DETAILS_MAX_ERROR_LEN bytes; invalid UTF-8 bytes become '?'). */
void details_error_line(json_t *errors, const char *line, size_t len);

#endif /* DMF_DOVEADM_DETAILS_H */
