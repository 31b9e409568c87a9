/* child_env.c - the environment commands get (see child_env.h). */
#include "dmf-build.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exec/child_env.h"
#include "lib/util.h"

extern char **environ;

static const char *const kept[] = { "PATH",  "HOME",	 "USER", "LOGNAME",
				    "SHELL", "TMPDIR",	 "TZ",	 "TERM",
				    "LANG",  "LANGUAGE", NULL };

static const char **env_built; /* from child_env_init() */
static char **env_pass;
static const char **env_default; /* built on first use without init */
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static const char *const env_empty[] = { NULL };

static bool name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncmp(name, want, len) == 0;
}

bool child_env_keeps(const char *name, size_t len, char *const *pass)
{
	for (size_t i = 0; kept[i] != NULL; i++)
		if (name_is(name, len, kept[i]))
			return true;
	if (len > 3 && strncmp(name, "LC_", 3) == 0)
		return true;
	for (size_t i = 0; pass != NULL && pass[i] != NULL; i++)
		if (name_is(name, len, pass[i]))
			return true;
	return false;
}

const char **child_env_filter(char *const *envp, char *const *pass)
{
	size_t n = 0, k = 0;
	const char **out;

	while (envp != NULL && envp[n] != NULL)
		n++;
	out = calloc(n + 1, sizeof(*out));
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(envp[i], '=');

		if (eq != NULL &&
		    child_env_keeps(envp[i], (size_t)(eq - envp[i]), pass))
			out[k++] = envp[i];
	}
	out[k] = NULL;
	return out;
}

static bool name_ok(const char *name)
{
	if (!isalpha((unsigned char)name[0]) && name[0] != '_')
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

static int read_pass(const struct config *cfg, char ***pass_r, char **error_r)
{
	const char *err = NULL;
	char **pass = NULL;

	if (cfg == NULL) {
		*pass_r = NULL;
		return 0;
	}
	if (cfg_get_strv(cfg->root, CHILD_ENV_PASS_KEY, &pass, &err) < 0) {
		*error_r = xstrdup(err != NULL ? err : strerror(ENOMEM));
		return -EINVAL;
	}
	for (size_t i = 0; pass[i] != NULL; i++) {
		if (!name_ok(pass[i]) || strlen(pass[i]) > 255) {
			char where[512];

			*error_r = xasprintf(
				"%s: key '%s': '%.64s' is not a variable name "
				"(letters, digits and _, not starting with a "
				"digit)",
				cfg_origin(
					cfg_get(cfg->root, CHILD_ENV_PASS_KEY),
					where, sizeof(where)),
				CHILD_ENV_PASS_KEY, pass[i]);
			cfg_strv_free(&pass);
			return -EINVAL;
		}
	}
	*pass_r = pass;
	return 0;
}

int child_env_check(const struct config *cfg, char **error_r)
{
	char **pass = NULL;
	int ret = read_pass(cfg, &pass, error_r);

	cfg_strv_free(&pass);
	return ret;
}

int child_env_init(const struct config *cfg, char **error_r)
{
	char **pass = NULL;
	int ret = read_pass(cfg, &pass, error_r);

	if (ret < 0)
		return ret;
	child_env_deinit();
	env_built = child_env_filter(environ, pass);
	if (env_built == NULL) {
		cfg_strv_free(&pass);
		*error_r = xstrdup(strerror(ENOMEM));
		return -ENOMEM;
	}
	env_pass = pass;
	return 0;
}

void child_env_deinit(void)
{
	free(env_built);
	env_built = NULL;
	cfg_strv_free(&env_pass);
}

static void build_default(void)
{
	env_default = child_env_filter(environ, NULL);
}

char *const *child_env(void)
{
	if (env_built != NULL)
		return (char *const *)env_built;
	pthread_once(&default_once, build_default);
	return (char *const *)(env_default != NULL ? env_default : env_empty);
}
