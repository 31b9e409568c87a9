/*
 * dsync_cmd.h - the migration command of the doveadm worker (spec 3.13.3):
 * the default `doveadm backup -R -u <uid> imapc:` with its imapc settings,
 * and the conversion of a configured `sync` override (which must be a
 * doveadm sync or backup command).  Passwords never go on the command
 * line: they travel in the per-job config file (jobconf.h), and the
 * display form shows them as `<hidden>`.
 */
#ifndef DMF_DOVEADM_DSYNC_CMD_H
#define DMF_DOVEADM_DSYNC_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "argv.h"
#include "doveadm_conf.h"
#include "jobconf.h"

/* The imapc settings of one job: the source block's imapc.* first, then
 * the job's values (spec: "these will override values defined with the
 * job").  Strings point into the conf or the job. */
struct imapc_params {
	const char *host; /* imapc.host, else the job's sourcehost */
	const char *port; /* imapc.port, else sourceport, else 993
				  * for imaps / 143 */
	const char *ssl; /* imapc.ssl, else imapc_ssl, else "no" */
	const char *user; /* the job's ruid (else uid) */
	const char *master_user; /* imapc.master-user or NULL */
	const char *password; /* master-password with a master user, else
				  * the job's sourcepasswd; may be NULL */
	const char *prefix; /* imapc.prefix (imapc_list_prefix) or NULL */
	char port_buf[16];
};

/* The job values it needs (any may be NULL). */
struct imapc_job_values {
	const char *sourcehost, *sourceport, *imapc_ssl, *ruid, *uid,
		*sourcepasswd;
};

void imapc_resolve(const struct doveadm_source_conf *c,
		   const struct imapc_job_values *jv, struct imapc_params *p_r);

/* Settings for the per-job file: imapc_* (and doveadm_password when
 * given).  `out` must hold 8 entries; returns how many were set. */
size_t imapc_jobconf_settings(const struct imapc_params *p,
			      const char *doveadm_password,
			      struct jobconf_setting out[8]);

/* Add "-o imapc_host=H ..." show-only elements (the password <hidden>). */
void imapc_show_settings(const struct imapc_params *p, struct dv_argv *a);

/* What the migration command is made of. */
struct dsync_opts {
	const char *doveadm_path;
	const char *jobconf; /* the per-job file, run as -c FILE */
	const char *config_shown; /* the target config shown for -c, or NULL */
	const char *uid; /* the target user (-u) */
	const char *exclude; /* the job's exclude list: comma or line
				   * separated masks, each one -x MASK */
	char *const *settings; /* sync-settings ("name=value"), may be NULL */
	bool mail_log; /* add the mail_log settings (count.sync) */
	const char *mail_plugins; /* the target's configured mail_plugins */
	const char *const *extra; /* retry extras (-D, -o ...), may be NULL */
	const struct imapc_params *imapc;
	unsigned lock_secs; /* backup -l SECS; 0 = no lock */
};

/* The mail_log `-o` settings (docs/doveadm.md) for `mail_plugins`. */
void dsync_add_mail_log(struct dv_argv *a, const char *mail_plugins);

/*
 * The default command: doveadm -c JOBCONF [extras] [-o settings] [mail_log]
 * backup -R [-l SECS] [-x MASK]... -u UID imapc:.  The display shows -c with
 * config_shown (or nothing) and the imapc settings as -o options.
 */
void dsync_default_argv(const struct dsync_opts *o, struct dv_argv *a);

/*
 * Convert a built override (argv with passwords in it) in place into
 * `a`: argv[0] must be doveadm (its base name), and the first word after
 * the global options must be one of `subcommands` (e.g. {"sync",
 * "backup", NULL}).  `-o imapc_password=X` / `-o doveadm_password=X` (also
 * joined as -oNAME=X) are removed and returned in *moved (name/value
 * pairs, allocated; free with dsync_moved_free); a `-c FILE` is removed
 * and returned in *config_r (allocated, NULL when none).  Then `-c
 * JOBCONF` (run-only, shown as config_shown when given) and `extra` are
 * inserted after argv[0].  Returns 0, or -EINVAL with *error_r a static
 * message ("... must be a doveadm sync or backup command").
 */
struct dsync_moved {
	char *name, *value;
};
int dsync_convert(char *const *argv, char *const *shown,
		  const char *const *subcommands, struct dv_argv *a,
		  struct dsync_moved moved[4], size_t *n_moved, char **config_r,
		  const char **error_r);
/*
 * Add dsync's per-user lock, "-l SECS", right after the sub-command (sync
 * or backup) of a converted command, unless it has a -l of its own.  With
 * it a second dsync of the same user waits up to SECS for the first to
 * end, then fails (exit 75), instead of writing into the mailbox beside it
 * (docs/doveadm.md).
 */
void dsync_add_lock(struct dv_argv *a, unsigned secs);
/* Insert "-c JOBCONF" (run-only) and `extra` after argv[0]. */
void dsync_insert_jobconf(struct dv_argv *a, const char *jobconf,
			  const char *config_shown, const char *const *extra);
void dsync_moved_free(struct dsync_moved moved[4], size_t n);

#endif /* DMF_DOVEADM_DSYNC_CMD_H */
