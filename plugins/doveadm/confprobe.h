/*
 * confprobe.h - which Dovecot configuration dmf.doveadm.path really reads,
 * and the start-up check that the per-job file (jobconf.h) reaches the same
 * Dovecot.
 *
 * The per-job file is given to doveadm as `-c FILE` and includes the
 * target's configuration.  A `path` that is a wrapper adding its own `-c`
 * (`exec doveadm -c /etc/dovecot-target/dovecot.conf "$@"`) is overridden
 * by that later `-c`, so the file must include the wrapper's
 * configuration, not doveadm's default: with no config-file, it is read
 * from the header line of `PATH config -n` ("# 2.3.19.1 (...): FILE").
 */
#ifndef DMF_DOVEADM_CONFPROBE_H
#define DMF_DOVEADM_CONFPROBE_H

#include "dvjob.h"

/*
 * The file of the header line of `doveconf -n` output ("# VERSION
 * (HASH): FILE"): allocated, or NULL when `line` is not such a line.
 */
char *confprobe_parse_header(const char *line);

/*
 * At init (main thread, no job): set pl->include to config-file, or to
 * the configuration `PATH config -n` names; then run
 * `PATH [-c config-file] config -h base_dir` and, with a per-job file
 * including pl->include and setting a marker imapc_host, `PATH -c FILE
 * config -h base_dir imapc_host`; both must give the same base_dir and the
 * second the marker.  Returns 0, or a negative errno with *error_r one
 * line (allocated) saying what disagrees.
 */
int confprobe_check(struct dv_plugin *pl, char **error_r);

#endif /* DMF_DOVEADM_CONFPROBE_H */
