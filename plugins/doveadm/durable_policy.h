/*
 * durable_policy.h - the pure part of `durability: job` (docs/doveadm.md):
 * is the target a local mail store, judged from its mail_location and
 * mail_plugins.  No host services: the unit tests call it directly.
 */
#ifndef DMF_DOVEADM_DURABLE_POLICY_H
#define DMF_DOVEADM_DURABLE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when a target with this mail_location (`doveadm config -h
 * mail_location`; NULL or "" = Dovecot's autodetection of a local store)
 * and these mail_plugins (space-separated, may be NULL) keeps its mails in
 * local files: a maildir, mbox, sdbox, mdbox or dbox location, and no
 * object-storage plugin (obox, or any plugin whose name starts with
 * "obox").  Otherwise false, with the reason in why (size bytes).
 */
bool durable_store_local(const char *mail_location, const char *mail_plugins,
			 char *why, size_t size);

#endif /* DMF_DOVEADM_DURABLE_POLICY_H */
