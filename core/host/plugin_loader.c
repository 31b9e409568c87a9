/* plugin_loader.c - find, check, load and initialise the job-worker plugin. */
#include "dmf-build.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/host_services.h"
#include "host/plugin_loader.h"
#include "lib/util.h"

#define HOST_ABI_TEXT                                                         \
	"daemon ABI " DMF_PLUGIN_STR_X_(DMF_ABI_MAJOR) "." DMF_PLUGIN_STR_X_( \
		DMF_ABI_MINOR)

bool plugin_type_valid(const char *type)
{
	size_t n = 0;

	if (type == NULL)
		return false;
	for (; type[n] != '\0'; n++) {
		char c = type[n];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return n >= 1 && n <= 32;
}

static int refuse(char **error_r, int err, const char *path,
		  const struct dmf_plugin *desc, const char *fmt, ...)
	DMF_PRINTF(5, 6);

static int refuse(char **error_r, int err, const char *path,
		  const struct dmf_plugin *desc, const char *fmt, ...)
{
	char reason[512], abi[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (desc != NULL)
		snprintf(abi, sizeof(abi), "plugin ABI %u.%u",
			 (unsigned)desc->abi_major, (unsigned)desc->abi_minor);
	else
		snprintf(abi, sizeof(abi), "plugin ABI unknown");
	*error_r = xasprintf("plugin %s refused: %s (%s, %s)", path, reason,
			     abi, HOST_ABI_TEXT);
	return err;
}

/* The descriptor of any ABI major: every major starts with the frozen
 * fields, so a plugin for another major can still be named. */
static const struct dmf_plugin *find_descriptor(void *handle, unsigned *major_r)
{
	char name[32];

	for (unsigned major = 1; major <= 16; major++) {
		const struct dmf_plugin *d;

		snprintf(name, sizeof(name), "dmf_plugin_v%u", major);
		d = dlsym(handle, name);
		if (d != NULL) {
			*major_r = major;
			return d;
		}
	}
	return NULL;
}

static int check_file(const char *path, char **error_r)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		int err = errno;

		return refuse(error_r, -err, path, NULL, "cannot stat: %s",
			      strerror(err));
	}
	if (S_ISLNK(st.st_mode))
		return refuse(error_r, -ELOOP, path, NULL,
			      "is a symbolic link, not a regular file");
	if (!S_ISREG(st.st_mode))
		return refuse(error_r, -EINVAL, path, NULL,
			      "not a regular file");
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return refuse(error_r, -EPERM, path, NULL,
			      "is group- or world-writable (mode %04o)",
			      (unsigned)(st.st_mode & 07777));
	return 0;
}

static int check_descriptor(const char *path, const char *type,
			    const struct dmf_plugin *d, unsigned sym_major,
			    char **error_r)
{
	if (d->magic != DMF_PLUGIN_MAGIC)
		return refuse(error_r, -EINVAL, path, NULL,
			      "bad magic 0x%08x in dmf_plugin_v%u (expected "
			      "0x%08x): not a dmf-worker plugin",
			      (unsigned)d->magic, sym_major, DMF_PLUGIN_MAGIC);
	if (d->abi_major != DMF_ABI_MAJOR || sym_major != DMF_ABI_MAJOR)
		return refuse(error_r, -EPROTO, path, d,
			      "ABI major %u does not match the daemon's %u",
			      (unsigned)d->abi_major, DMF_ABI_MAJOR);
	if (d->abi_minor > DMF_ABI_MINOR)
		return refuse(error_r, -EPROTO, path, d,
			      "built for a newer ABI minor %u than the "
			      "daemon's %u: upgrade dmf-worker",
			      (unsigned)d->abi_minor, DMF_ABI_MINOR);
	if (d->size < DMF_PLUGIN_MIN_SIZE)
		return refuse(error_r, -EINVAL, path, d,
			      "descriptor size %u is smaller than the minimum "
			      "%zu",
			      (unsigned)d->size, (size_t)DMF_PLUGIN_MIN_SIZE);
	if (d->name == NULL || strcmp(d->name, type) != 0)
		return refuse(error_r, -EINVAL, path, d,
			      "its name '%s' does not match dmf.worker.type "
			      "'%s'",
			      d->name != NULL ? d->name : "(null)", type);
	if (d->init == NULL || d->run == NULL || d->fini == NULL)
		return refuse(error_r, -EINVAL, path, d,
			      "init, run or fini is NULL (init %s, run %s, "
			      "fini %s)",
			      d->init ? "set" : "NULL", d->run ? "set" : "NULL",
			      d->fini ? "set" : "NULL");
	return 0;
}

int plugin_load(const char *dir, const char *type, struct plugin **plugin_r,
		char **error_r)
{
	struct plugin *p;
	const struct dmf_plugin *d;
	unsigned sym_major = 0;
	char *path;
	int ret;

	if (!plugin_type_valid(type)) {
		*error_r = xasprintf("plugin refused: dmf.worker.type '%s' is "
				     "not a valid worker type name (must match "
				     "^[a-z0-9_]{1,32}$) (%s)",
				     type != NULL ? type : "(null)",
				     HOST_ABI_TEXT);
		return -EINVAL;
	}
	path = xasprintf("%s/%s.so", dir, type);
	if (path == NULL)
		return -ENOMEM;
	ret = check_file(path, error_r);
	if (ret < 0) {
		free(path);
		return ret;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		free(path);
		return -ENOMEM;
	}
	p->path = path;
	dlerror();
	p->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (p->handle == NULL) {
		const char *why = dlerror();

		ret = refuse(error_r, -ENOEXEC, path, NULL, "dlopen failed: %s",
			     why != NULL ? why : "unknown error");
		plugin_unload(&p);
		return ret;
	}
	d = find_descriptor(p->handle, &sym_major);
	if (d == NULL) {
		ret = refuse(error_r, -ENOENT, path, NULL,
			     "it does not export the symbol %s",
			     DMF_PLUGIN_SYMBOL_NAME);
		plugin_unload(&p);
		return ret;
	}
	ret = check_descriptor(path, type, d, sym_major, error_r);
	if (ret < 0) {
		plugin_unload(&p);
		return ret;
	}
	p->desc = d;
	*plugin_r = p;
	return 0;
}

int plugin_init(struct plugin *p, const struct dmf_host *host, char **error_r)
{
	const char *why = NULL;
	int ret;

	/* exec->run() writes the struct dmf_exec_result the plugin knows */
	host_exec_set_plugin_minor(p->desc->abi_minor);
	ret = p->desc->init(host, &p->ctx, &why);

	if (ret != 0) {
		return refuse(error_r, ret < 0 ? ret : -EINVAL, p->path,
			      p->desc, "init failed: %s",
			      why != NULL ? why : "no reason given");
	}
	p->initialised = true;
	return 0;
}

void plugin_unload(struct plugin **pp)
{
	struct plugin *p;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	*pp = NULL;
	if (p->initialised)
		p->desc->fini(p->ctx);
	/* Under a leak checker keep the object mapped so that reports can
	 * still symbolise the plugin's frames. */
	if (p->handle != NULL && getenv("DMF_NO_DLCLOSE") == NULL)
		dlclose(p->handle);
	free(p->path);
	free(p);
}
