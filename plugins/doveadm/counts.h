/*
 * counts.h - the mailbox counts of spec 3.11: the local count before and
 * after the sync (`doveadm -f tab mailbox status -u UID "messages vsize"
 * INBOX/\* INBOX '*'`) and the remote count, made by (first match)
 * count.remote-command, the sourcehost's `status` command, or the
 * remote-protocol's default command (imapc: the same command with
 * `-o mail=imapc:` and the per-job file's imapc settings; doveadm: `-S
 * host:port` with doveadm_password in a per-job file).  Each adds its
 * details entry.
 */
#ifndef DMF_DOVEADM_COUNTS_H
#define DMF_DOVEADM_COUNTS_H

#include <stdbool.h>

#include "dvjob.h"

enum counts_kind { COUNTS_LOCAL_PRE, COUNTS_LOCAL_POST, COUNTS_REMOTE };

/*
 * Run one count.  On success returns 0 and stores the sums; -EINVAL when
 * the count failed (the details entry says why), -ENOTSUP when the remote
 * count is not possible with this configuration (remote-protocol http:
 * logged, no entry).
 */
int counts_run(struct dv_job *dj, enum counts_kind kind,
	       unsigned long long *messages_r, unsigned long long *vsize_r);

#endif /* DMF_DOVEADM_COUNTS_H */
