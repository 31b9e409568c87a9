/* fs_sync.c - stat/statfs and syncfs() of the filesystems holding paths
 * (fs_sync.h). */
#include "dmf-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "fs/fs_sync.h"

struct fs_kind {
	unsigned long long type;
	const char *name;
	bool trusted;
};

/* statfs() f_type values (linux/magic.h and the filesystems' sources).
 * Trusted: local disk filesystems whose syncfs() writes back and flushes
 * the device.  tmpfs keeps nothing over a crash whatever mail_fsync says,
 * so trusting it changes nothing.  Everything else is not trusted. */
static const struct fs_kind kinds[] = {
	{ 0xEF53, "ext2/ext3/ext4", true }, { 0x58465342, "xfs", true },
	{ 0x9123683E, "btrfs", true },	    { 0xF2F52010, "f2fs", true },
	{ 0x2FC12FC1, "zfs", true },	    { 0xCA451A4E, "bcachefs", true },
	{ 0x3153464A, "jfs", true },	    { 0x52654973, "reiserfs", true },
	{ 0x794C7630, "overlay", true },    { 0x01021994, "tmpfs", true },
	{ 0x6969, "nfs", false },	    { 0x65735546, "fuse", false },
	{ 0x517B, "smb", false },	    { 0xFE534D42, "smb2", false },
	{ 0xFF534D42, "cifs", false },	    { 0x01021997, "9p", false },
	{ 0x00C36400, "ceph", false },	    { 0x5346414F, "afs", false },
	{ 0x6B414653, "afs", false },	    { 0x73757245, "coda", false },
	{ 0x564C, "ncp", false },	    { 0x0BD00BD0, "lustre", false },
	{ 0x47504653, "gpfs", false },	    { 0x20030528, "orangefs", false },
	{ 0x01161970, "gfs2", false },	    { 0x7461636F, "ocfs2", false },
};

static const struct fs_kind *kind_of(unsigned long long type)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].type == type)
			return &kinds[i];
	return NULL;
}

const char *fs_type_name(unsigned long long f_type)
{
	const struct fs_kind *k = kind_of(f_type);

	return k != NULL ? k->name : "unknown";
}

bool fs_type_trusted(unsigned long long f_type)
{
	const struct fs_kind *k = kind_of(f_type);

	return k != NULL && k->trusted;
}

int fs_parse_type(const char *text, unsigned long long *type_r)
{
	char *end;
	unsigned long long v;

	if (text == NULL || *text == '\0')
		return -ENOENT;
	if (*text == '-' || *text == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return -EINVAL;
	*type_r = v;
	return 0;
}

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "EIO", EIO },	      { "ENOSPC", ENOSPC },
	{ "EROFS", EROFS },   { "EDQUOT", EDQUOT },
	{ "EBADF", EBADF },   { "ENODEV", ENODEV },
	{ "EPERM", EPERM },   { "EACCES", EACCES },
	{ "ENOSYS", ENOSYS }, { "ETIMEDOUT", ETIMEDOUT },
};

int fs_parse_errno(const char *text, int *errno_r)
{
	char *end;
	long v;

	if (text == NULL || *text == '\0')
		return -ENOENT;
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
		if (strcmp(text, errnos[i].name) == 0) {
			*errno_r = errnos[i].value;
			return 0;
		}
	}
	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || v > 4095)
		return -EINVAL;
	*errno_r = (int)v;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copy `path` to `out` and cut it back to its nearest existing ancestor;
 * *st_r gets its stat. */
static int nearest_existing(const char *path, char *out, size_t size,
			    struct stat *st_r)
{
	size_t len = strlen(path);

	if (len + 1 > size)
		return -ENAMETOOLONG;
	memcpy(out, path, len + 1);
	for (;;) {
		char *slash;

		if (stat(out, st_r) == 0)
			return 0;
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		slash = strrchr(out, '/');
		if (slash == NULL)
			return -ENOENT;
		if (slash == out) {
			out[1] = '\0'; /* "/" exists */
			continue;
		}
		*slash = '\0';
	}
}

static void set_error(struct dmf_fs_sync_result *r, const char *call, int err)
{
	if (r->error != 0)
		return;
	r->error = err;
	r->failed_call = call;
}

static void do_syncfs(struct dmf_fs_sync_result *r, int hook_errno)
{
	long long t0 = now_ms();
	int fd = open(r->used_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		set_error(r, "open", -errno);
		return;
	}
	r->synced = 1;
	if (syncfs(fd) < 0)
		set_error(r, "syncfs", -errno);
	else if (hook_errno > 0)
		set_error(r, "syncfs", -hook_errno);
	close(fd);
	r->duration_ms = now_ms() - t0;
}

int fs_sync_paths(const char *const *paths, size_t n, unsigned flags,
		  struct dmf_fs_sync_result *results, char *buf,
		  size_t buf_size, const char **error_r)
{
	unsigned long long hook_type = 0;
	bool have_hook_type;
	int hook_errno = 0, ret = 0;
	size_t used = 0;

	if (n == 0) {
		*error_r = "no paths";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (paths[i] == NULL || paths[i][0] != '/') {
			*error_r = "a path is not absolute";
			return -EINVAL;
		}
	}
	have_hook_type =
		fs_parse_type(getenv("DMF_TEST_FS_TYPE"), &hook_type) == 0;
	if (fs_parse_errno(getenv("DMF_TEST_SYNCFS_ERROR"), &hook_errno) < 0)
		hook_errno = 0;
	memset(results, 0, n * sizeof(*results));
	for (size_t i = 0; i < n; i++) {
		struct dmf_fs_sync_result *r = &results[i];
		struct statfs sf;
		struct stat st;
		int e;

		r->fs_name = "unknown";
		r->used_path = buf + used;
		e = nearest_existing(paths[i], buf + used, buf_size - used,
				     &st);
		if (e == -ENAMETOOLONG && buf_size - used < strlen(paths[i])) {
			*error_r = "path buffer too small";
			return -EINVAL;
		}
		if (e < 0) {
			/* keep the given path visible */
			r->used_path = paths[i];
			set_error(r, "stat", e);
			continue;
		}
		used += strlen(buf + used) + 1;
		r->dev = (unsigned long long)st.st_dev;
		if (statfs(r->used_path, &sf) < 0) {
			set_error(r, "statfs", -errno);
			continue;
		}
		r->fs_type = have_hook_type ? hook_type :
					      (unsigned long long)sf.f_type;
		r->fs_name = fs_type_name(r->fs_type);
		r->trusted = fs_type_trusted(r->fs_type);
	}
	for (size_t i = 0; i < n; i++) {
		struct dmf_fs_sync_result *r = &results[i];
		const struct dmf_fs_sync_result *first = NULL;

		if (r->error != 0) {
			ret = -EIO;
			continue;
		}
		if (flags & DMF_FS_STAT_ONLY)
			continue;
		for (size_t j = 0; j < i && first == NULL; j++)
			if (results[j].synced && results[j].dev == r->dev)
				first = &results[j];
		if (first != NULL) {
			if (first->error != 0)
				set_error(r, first->failed_call, first->error);
		} else {
			do_syncfs(r, hook_errno);
		}
		if (r->error != 0)
			ret = -EIO;
	}
	return ret;
}
