/* fuzz_file.c - the fuzz input as a file (fuzz_file.h). */
#include "dmf-build.h"

#include "fuzz_file.h"

#include <stdio.h>
#include <unistd.h>

const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	static char path[96];
	FILE *f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/dmf-fuzz-%s.%d", name,
			 (int)getpid());
	f = fopen(path, "wb");
	if (f == NULL)
		return NULL;
	if (size > 0 && fwrite(data, 1, size, f) != size) {
		fclose(f);
		unlink(path);
		return NULL;
	}
	if (fclose(f) != 0) {
		unlink(path);
		return NULL;
	}
	return path;
}
