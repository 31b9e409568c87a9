/*
 * fuzz_analyzer.c - the dsync log analyzer (plugins/doveadm/analyzer.c):
 * every line of the input fed as a line of doveadm's output, over two
 * attempts, then the verdict and the details JSON.
 */
#include "dmf-build.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const char *p = (const char *)data, *end = p + size, *err = NULL;
	struct analyzer *a;
	json_t *obj;

	if (!ready) {
		if (analyzer_global_init(&err) < 0)
			abort();
		ready = true;
	}
	a = analyzer_new();
	if (a == NULL)
		return 0;
	analyzer_add_secret(a, "UserSecret1");
	for (int attempt = 0; attempt < 2; attempt++) {
		const char *line = p;

		analyzer_begin_attempt(a);
		for (const char *q = p; q <= end; q++) {
			if (q == end || *q == '\n') {
				analyzer_feed_line(a, line, (size_t)(q - line));
				line = q + 1;
			}
		}
	}
	analyzer_failure(a, NULL);
	analyzer_saved_total(a);
	obj = json_object();
	if (obj != NULL) {
		char *s;

		analyzer_to_json(a, obj, true);
		s = json_dumps(obj, 0);
		free(s);
		json_decref(obj);
	}
	analyzer_free(&a);
	return 0;
}
