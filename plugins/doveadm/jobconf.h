/*
 * jobconf.h - the per-job Dovecot configuration file that carries the
 * imapc settings and passwords to doveadm (`doveadm -c FILE`), so that no
 * password is ever on a command line (docs/doveadm.md "Passwords").
 *
 * The file lives in the runtime dir (created mode 0700; an existing one
 * must be a real directory owned by us, and is tightened to 0700), is
 * created with O_EXCL and mode 0600, and reads:
 *
 *   !include /etc/dovecot/dovecot.conf
 *   imapc_host = "src.example"
 *   imapc_user = "user%%1"
 *   imapc_password = "secret \"x\""
 *
 * Values are double-quoted with `\` and `"` escaped; settings Dovecot
 * %-expands (imapc_user, imapc_master_user) get `%` doubled.  Values with
 * a line break are refused.  jobconf_remove() overwrites the file with
 * zeros before unlinking it.
 */
#ifndef DMF_DOVEADM_JOBCONF_H
#define DMF_DOVEADM_JOBCONF_H

#include <stdbool.h>
#include <stddef.h>

struct jobconf_setting {
	const char *name;
	const char *value; /* NULL: the setting is left out */
};

/* The quoted form of `value` for setting `name` (see above); allocated,
 * NULL on out of memory. */
char *jobconf_quote(const char *name, const char *value);

/*
 * Create the file for job `job_id` in `dir`, including `include` (NULL:
 * no include line).  On success *path_r is the allocated path.  Errors
 * return a negative errno with *error_r an allocated message (no secret
 * in it).
 */
int jobconf_write(const char *dir, const char *job_id, const char *include,
		  const struct jobconf_setting *settings, size_t n,
		  char **path_r, char **error_r);

/* Overwrite the file with zeros, unlink it, free *path; NULL is fine. */
void jobconf_remove(char **path);

#endif /* DMF_DOVEADM_JOBCONF_H */
