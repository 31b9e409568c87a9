/* jobconf.c - the per-job 0600 doveadm configuration file (jobconf.h). */
#include "dmf-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "dmf/text.h"
#include "jobconf.h"

/* Settings Dovecot %-expands (a literal % is written %%). */
static bool expands_percent(const char *name)
{
	return strcmp(name, "imapc_user") == 0 ||
	       strcmp(name, "imapc_master_user") == 0;
}

char *jobconf_quote(const char *name, const char *value)
{
	bool pct = expands_percent(name);
	size_t o = 0;
	char *out = malloc(strlen(value) * 2 + 3);

	if (out == NULL)
		return NULL;
	out[o++] = '"';
	for (const char *c = value; *c != '\0'; c++) {
		if (*c == '\\' || *c == '"')
			out[o++] = '\\';
		else if (*c == '%' && pct)
			out[o++] = '%';
		out[o++] = *c;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* mkdir -p with 0755 parents and a 0700 last component we own. */
static int ensure_dir(const char *dir, char **error_r)
{
	struct stat st;
	char *copy = strdup(dir);

	if (copy == NULL)
		return -ENOMEM;
	for (char *p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			if (asprintf(error_r, "cannot create %s: %s", copy,
				     strerror(e)) < 0)
				*error_r = NULL;
			free(copy);
			return -e;
		}
		*p = '/';
	}
	free(copy);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		if (asprintf(error_r, "cannot create the runtime dir %s: %s",
			     dir, strerror(e)) < 0)
			*error_r = NULL;
		return -e;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid()) {
		if (asprintf(error_r,
			     "the runtime dir %s must be a directory "
			     "owned by uid %u (not a symlink)",
			     dir, (unsigned)geteuid()) < 0)
			*error_r = NULL;
		return -EPERM;
	}
	if ((st.st_mode & 077) != 0 && chmod(dir, 0700) < 0) {
		int e = errno;
		if (asprintf(error_r, "cannot make %s mode 0700: %s", dir,
			     strerror(e)) < 0)
			*error_r = NULL;
		return -e;
	}
	return 0;
}

static bool safe_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int jobconf_write(const char *dir, const char *job_id, const char *include,
		  const struct jobconf_setting *settings, size_t n,
		  char **path_r, char **error_r)
{
	struct dmf_strbuf b = { .wipe = dv_wipe }; /* passwords in it */
	char id[40], *path = NULL;
	size_t k = 0;
	int fd, ret;

	*error_r = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *v = settings[i].value;
		if (v != NULL && strpbrk(v, "\r\n") != NULL) {
			if (asprintf(error_r,
				     "the value of %s holds a line "
				     "break, which a Dovecot config "
				     "cannot carry",
				     settings[i].name) < 0)
				*error_r = NULL;
			return -EINVAL;
		}
	}
	ret = ensure_dir(dir, error_r);
	if (ret < 0)
		return ret;
	for (const char *c = job_id != NULL ? job_id : "job";
	     *c != '\0' && k < sizeof(id) - 1; c++)
		id[k++] = safe_id_char(*c) ? *c : '_';
	id[k] = '\0';
	if (asprintf(&path, "%s/job-%s-XXXXXX.conf", dir, id) < 0)
		return -ENOMEM;
	fd = mkstemps(path, 5); /* O_EXCL, mode 0600 */
	if (fd < 0) {
		ret = -errno;
		if (asprintf(error_r, "cannot create a file in %s: %s", dir,
			     strerror(-ret)) < 0)
			*error_r = NULL;
		free(path);
		return ret;
	}
	(void)fchmod(fd, 0600);
	dmf_strbuf_adds(&b,
			"# dmf-worker: per-job doveadm settings (removed after "
			"the job)\n");
	if (include != NULL) {
		dmf_strbuf_adds(&b, "!include ");
		dmf_strbuf_adds(&b, include);
		dmf_strbuf_adds(&b, "\n");
	}
	for (size_t i = 0; i < n; i++) {
		char *q;
		if (settings[i].value == NULL)
			continue;
		q = jobconf_quote(settings[i].name, settings[i].value);
		if (q == NULL) {
			b.failed = 1;
			break;
		}
		dmf_strbuf_adds(&b, settings[i].name);
		dmf_strbuf_adds(&b, " = ");
		dmf_strbuf_adds(&b, q);
		dmf_strbuf_adds(&b, "\n");
		dv_free_secret(&q);
	}
	ret = b.failed ? -ENOMEM : 0;
	for (size_t off = 0; ret == 0 && off < b.len;) {
		ssize_t w = write(fd, b.p + off, b.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	dmf_strbuf_free(&b);
	if (ret < 0) {
		if (asprintf(error_r, "cannot write %s: %s", path,
			     strerror(-ret)) < 0)
			*error_r = NULL;
		jobconf_remove(&path);
		return ret;
	}
	*path_r = path;
	return 0;
}

void jobconf_remove(char **path)
{
	struct stat st;
	int fd;

	if (*path == NULL)
		return;
	fd = open(*path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			char zero[512] = { 0 };
			off_t left = st.st_size;
			while (left > 0) {
				size_t n = left > (off_t)sizeof(zero) ?
						   sizeof(zero) :
						   (size_t)left;
				ssize_t w = write(fd, zero, n);
				if (w <= 0)
					break;
				left -= w;
			}
			(void)fsync(fd);
		}
		close(fd);
	}
	(void)unlink(*path);
	free(*path);
	*path = NULL;
}
