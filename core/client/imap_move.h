/*
 * imap_move.h - moving messages at the source IMAP server with libcurl's
 * IMAP (custom requests; no IMAP parser of our own), behind the host's
 * `imap` table (ABI 1.4, struct dmf_host_imap): the doveadm worker's
 * move-duplicates.
 */
#ifndef DMF_CORE_CLIENT_IMAP_MOVE_H
#define DMF_CORE_CLIENT_IMAP_MOVE_H

#include "dmf/host.h"

/* The table (libcurl is set up by dhttp_init()). */
const struct dmf_host_imap *imap_move_table(void);

/* As struct dmf_host_imap's move_uids(). */
int imap_move_uids(struct dmf_job *job, const struct dmf_imap_target *t,
		   const char *mailbox, const char *dest, const char *uid_set,
		   char **moved_to_r, char **error_r);

#endif /* DMF_CORE_CLIENT_IMAP_MOVE_H */
