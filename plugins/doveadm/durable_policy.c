/* durable_policy.c - is the target a local mail store (durable_policy.h). */
#include "dmf-build.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "durable_policy.h"

static const char *const local_drivers[] = { "maildir", "mbox", "sdbox",
					     "mdbox",	"dbox", NULL };

bool durable_store_local(const char *mail_location, const char *mail_plugins,
			 char *why, size_t size)
{
	const char *p = mail_plugins != NULL ? mail_plugins : "";

	while (*p != '\0') {
		size_t len;

		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
		if (len >= 4 && strncasecmp(p, "obox", 4) == 0) {
			snprintf(why, size,
				 "mail_plugins has %.*s (object storage)",
				 (int)len, p);
			return false;
		}
		p += len;
	}
	if (mail_location != NULL && *mail_location != '\0') {
		size_t len = strcspn(mail_location, ":");

		if (mail_location[len] != ':') {
			/* a bare path: Dovecot autodetects a local format */
			return true;
		}
		for (size_t i = 0; local_drivers[i] != NULL; i++)
			if (strlen(local_drivers[i]) == len &&
			    strncasecmp(mail_location, local_drivers[i], len) ==
				    0)
				return true;
		snprintf(why, size,
			 "mail_location is %.*s:, not a local mail store",
			 (int)(len > 64 ? 64 : len), mail_location);
		return false;
	}
	return true;
}
