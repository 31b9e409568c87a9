/*
 * fs_sync.h - making the filesystems that hold a list of paths durable:
 * stat() + statfs() each path (or its nearest existing parent), syncfs()
 * each distinct filesystem (st_dev) once.  The host's
 * exec->sync_filesystems() (ABI 1.4) is this.
 */
#ifndef DMF_FS_SYNC_H
#define DMF_FS_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "dmf/host.h"

/* The name of a statfs() f_type ("ext2/ext3/ext4", "nfs", ...), or
 * "unknown"; static. */
const char *fs_type_name(unsigned long long f_type);

/* True when syncfs() on a filesystem of this type makes what was written
 * durable: known local disk filesystems only.  NFS, FUSE, CIFS/SMB, 9p,
 * Ceph, AFS and other network or userspace filesystems, and every type
 * not known here, are false. */
bool fs_type_trusted(unsigned long long f_type);

/*
 * The test hooks (docs/plugin-guide.md): parse DMF_TEST_FS_TYPE ("0x6969",
 * "26985") into *type_r, DMF_TEST_SYNCFS_ERROR ("EIO", "5") into *errno_r
 * (positive).  Return 0 when the text is valid, -EINVAL otherwise (NULL
 * or empty text: -ENOENT).
 */
int fs_parse_type(const char *text, unsigned long long *type_r);
int fs_parse_errno(const char *text, int *errno_r);

/*
 * Look at the `n` absolute paths and, unless DMF_FS_STAT_ONLY is in
 * `flags`, syncfs() each distinct filesystem once (the first path of each
 * st_dev).  results[i] is filled for paths[i] (used_path points into
 * `buf`, buf_size bytes for all of them).  Returns 0, -EIO when a path
 * failed (see its result), -EINVAL for a relative path, n == 0 or a
 * buffer too small (*error_r set).
 */
int fs_sync_paths(const char *const *paths, size_t n, unsigned flags,
		  struct dmf_fs_sync_result *results, char *buf,
		  size_t buf_size, const char **error_r);

#endif /* DMF_FS_SYNC_H */
