/*
 * container.h - fetch-container (spec 3.9): the `userdb_container` value
 * of the passwd-file line whose user is the job's imapoptions, for
 * `%{mdb:container}`.
 */
#ifndef DMF_DOVEADM_CONTAINER_H
#define DMF_DOVEADM_CONTAINER_H

/*
 * Look `user` up in the passwd-file `path` (user:pass:uid:gid:gecos:home:
 * shell:extra fields, the extra fields blank-separated name=value).
 * Returns 0 with *value_r allocated; -ENOENT when the user or the field is
 * missing; a negative errno when the file cannot be read.
 */
int container_lookup(const char *path, const char *user, char **value_r);

#endif /* DMF_DOVEADM_CONTAINER_H */
