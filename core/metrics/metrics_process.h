/*
 * metrics_process.h - the process.* and system.* meters (computed at
 * scrape time; docs/http.md lists them).
 */
#ifndef DMF_METRICS_PROCESS_H
#define DMF_METRICS_PROCESS_H

#include <errno.h>

#include "metrics/metrics.h"

/* Register them in `reg`; the process start is now.  0 or -EINVAL with
 * *error_r (static). */
int metrics_process_register(struct met_registry *reg, const char **error_r);

#endif /* DMF_METRICS_PROCESS_H */
