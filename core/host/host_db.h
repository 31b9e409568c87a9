/*
 * host_db.h - the `db` table of struct dmf_host (sdk/include/dmf/host.h):
 * sourcehost and job field lookups for plugins, on the pool of the
 * database poller/state (db_worker.h).  Without a database (simulator
 * poller and config state) every call returns -ENOTCONN.
 *
 * Wiring (core/host.c): host.db = host_db_table(); nothing to init.
 */
#ifndef DMF_CORE_HOST_DB_H
#define DMF_CORE_HOST_DB_H

#include "dmf/host.h"

const struct dmf_host_db *host_db_table(void);

#endif /* DMF_CORE_HOST_DB_H */
