/* container.c - userdb_container from a passwd-file (container.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"

#define FIELD "userdb_container="

/* The value of FIELD among the blank-separated extra fields, or NULL. */
static char *extra_field(const char *extra)
{
	const char *p = extra;

	while (p != NULL && *p != '\0') {
		size_t l;
		while (*p == ' ' || *p == '\t')
			p++;
		l = strcspn(p, " \t\r\n");
		if (l > strlen(FIELD) && strncmp(p, FIELD, strlen(FIELD)) == 0)
			return strndup(p + strlen(FIELD), l - strlen(FIELD));
		p += l;
	}
	return NULL;
}

int container_lookup(const char *path, const char *user, char **value_r)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, ulen = strlen(user);
	int ret = -ENOENT;

	if (f == NULL)
		return -errno;
	while (getline(&line, &cap, f) >= 0) {
		const char *p = line;
		char *v;

		if (strncmp(line, user, ulen) != 0 || line[ulen] != ':')
			continue;
		/* skip user:pass:uid:gid:gecos:home:shell: (7 colons) */
		for (int k = 0; k < 7 && p != NULL; k++) {
			p = strchr(p, ':');
			if (p != NULL)
				p++;
		}
		v = p != NULL ? extra_field(p) : NULL;
		if (v != NULL) {
			*value_r = v;
			ret = 0;
		}
		break;
	}
	free(line);
	fclose(f);
	return ret;
}
