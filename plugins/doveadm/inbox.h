/*
 * inbox.h - copy-imapc-inbox and remove-imapc-path (spec 3.3): the local
 * INBOX is copied to <home>/imapc/.INBOX/.INBOX before the sync (a pop3
 * UIDL speed-up for delta syncs) and the home is given to
 * imapc-inbox-owner (chown -R, as the spec does); without a local INBOX
 * yet (a first sync) there is nothing to copy and nothing is done.  The
 * <home>/imapc folder is removed after the sync.  The home comes from
 * `doveadm user -f home UID`, the INBOX path from `doveadm mailbox path
 * -u UID INBOX`; copying and removing use cp -a, chown -R and rm -rf
 * through the exec service.  Each adds its details entry.
 */
#ifndef DMF_DOVEADM_INBOX_H
#define DMF_DOVEADM_INBOX_H

#include "dvjob.h"

/* 0 or -EIO (the entry says why). */
int inbox_copy(struct dv_job *dj);
int inbox_remove(struct dv_job *dj);

#endif /* DMF_DOVEADM_INBOX_H */
