/*
 * plugin_loader.h - find, check, load and initialise the job-worker plugin.
 *
 * The plugin for `dmf.worker.type` TYPE is DIR/TYPE.so.  It is refused,
 * each time with its own message naming the file and both ABI versions,
 * when: TYPE does not match ^[a-z0-9_]{1,32}$, the file is missing, not a
 * regular file (a symlink counts as not regular), group- or world-writable,
 * dlopen() fails, the descriptor symbol is missing, its magic is wrong, its
 * ABI major differs, its ABI minor is newer than the daemon's, its size is
 * too small, its name differs from TYPE, init/run/fini is NULL, or init()
 * fails.
 */
#ifndef DMF_CORE_PLUGIN_LOADER_H
#define DMF_CORE_PLUGIN_LOADER_H

#include <stdbool.h>

#include "dmf/plugin.h"

struct plugin {
	char *path;
	void *handle;
	const struct dmf_plugin *desc;
	void *ctx;
	bool initialised;
};

/* True when `type` is a valid worker type name. */
bool plugin_type_valid(const char *type);

/*
 * Load and check DIR/TYPE.so.  On refusal returns a negative errno and sets
 * *error_r to an allocated one-line message (caller frees).
 */
int plugin_load(const char *dir, const char *type, struct plugin **plugin_r,
		char **error_r);
/* Call the plugin's init(); same error convention. */
int plugin_init(struct plugin *plugin, const struct dmf_host *host,
		char **error_r);
/* fini() when initialised, dlclose(), free.  NULL is fine. */
void plugin_unload(struct plugin **plugin);

#endif /* DMF_CORE_PLUGIN_LOADER_H */
