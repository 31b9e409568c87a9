/*
 * dvjob.h - the doveadm worker's plugin-wide settings and the state of one
 * job while it runs (shared by migrate.c, counts.c, inbox.c, ...).
 */
#ifndef DMF_DOVEADM_DVJOB_H
#define DMF_DOVEADM_DVJOB_H

#include <pthread.h>
#include <stdbool.h>

#include <jansson.h>

#include "dmf/host.h"
#include "doveadm_conf.h"
#include "dsync_cmd.h"

/* Plugin-wide settings (dmf.doveadm.*), read at init. */
struct dv_plugin {
	const struct dmf_host *host;
	char *doveadm_path; /* path (/usr/bin/doveadm) */
	char *config_file; /* config-file, NULL: doveadm's default */
	char *include; /* what every per-job file includes: config-file,
			* else the configuration path reads (confprobe.h) */
	char *runtime_dir; /* runtime-dir */
	/* the target's mail_plugins, read once (doveadm config -h) */
	pthread_mutex_t lock;
	bool mail_plugins_known;
	char *mail_plugins;
	/* dmf.doveadm.dsync.runs{outcome} (ABI 1.4), NULL without */
	struct dmf_metric *dsync_runs;
	/* durability: job (durable.c): the target's mail_location, read
	 * once, and the sources whose fallback was logged (under lock) */
	bool mail_location_known;
	char *mail_location;
	struct dv_noted *noted;
};

/* The number of paths durable.c looks at: mail, index, control. */
#define DV_DURABLE_PATHS 3

/* The Dovecot config the per-job file includes. */
#define DV_DEFAULT_DOVECOT_CONF "/etc/dovecot/dovecot.conf"

struct dv_job {
	struct dv_plugin *pl;
	const struct dmf_host *h;
	struct dmf_job *job;
	const struct doveadm_source_conf *conf;
	enum doveadm_phase phase;
	const char *uid; /* the target user */
	struct imapc_params imapc; /* resolved imapc settings */
	char *jobconf; /* the per-job config file, or NULL */
	char *include; /* what the per-job file includes (pl->include, or
			* the -c of a sync override) */
	char *container; /* fetch-container's value, or NULL */
	bool container_in_job; /* set as the job's property (ABI 1.4) */
	json_t *sh_commands; /* the sourcehost's commands (phasecmd.h) */
	char *sh_name; /* the sourcehost director.use-sourcehost chose */
	char *sh_host; /* its host (dj->imapc.host may point here) */
	/* durability: job applies: -o mail_fsync=never, then syncfs() of
	 * the filesystems of durable_paths (durable.c) */
	bool fsync_never;
	char *durable_paths[DV_DURABLE_PATHS];
	size_t n_durable;
	bool failed; /* the job fails (dsync or a flagged step) */
	char *error; /* the first reason it fails */
};

/* Mark the job failed (keeps the first reason). */
void dv_job_fail(struct dv_job *dj, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* DMF_DOVEADM_DVJOB_H */
