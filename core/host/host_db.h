/*
 * host_db.h - the `db` table of struct dmf_host (sdk/include/dmf/host.h):
 * sourcehost and job field lookups for plugins (core/db/db_lookup.h), on
 * the pool handed in with host_db_set_pool().  Without one (simulator
 * poller and config state) every call returns -ENOTCONN.
 *
 * Wiring: core/host/host.c sets host.db = host_db_table(); the daemon's
 * main hands in the pool of the database poller/state once they are up,
 * and takes it back (NULL) before that pool goes away.
 */
#ifndef DMF_CORE_HOST_DB_H
#define DMF_CORE_HOST_DB_H

#include "db/db.h"
#include "dmf/host.h"

const struct dmf_host_db *host_db_table(void);

/* The pool the table reads on, or NULL for none.  Waits for the lookups
 * in progress on the previous pool. */
void host_db_set_pool(struct db_pool *pool);

#endif /* DMF_CORE_HOST_DB_H */
