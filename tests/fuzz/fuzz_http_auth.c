/*
 * fuzz_http_auth.c - the worker's HTTP access checks (core/http/
 * http_auth.c): the input's first line is an Authorization header value
 * (Basic base64), the second an ip pattern, the third a peer address, as
 * the server hands them over.
 */
#include "dmf-build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line[3] = { "", "", "" }, *p, *save;
	char *user = NULL, *pass = NULL;
	size_t n = 0;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (p = strtok_r(text, "\n", &save); p != NULL && n < 3;
	     p = strtok_r(NULL, "\n", &save))
		line[n++] = p;
	if (http_basic_parse(line[0], &user, &pass) == 0) {
		http_secret_equal(pass, strlen(pass), "s3cret", 6);
		free(user);
		free(pass);
	}
	http_ip_match(line[1], line[2]);
	{
		char *pats[] = { line[1], "127.0.0.1", "fd00:*", NULL };

		http_ip_allowed(pats, line[2]);
	}
	free(text);
	return 0;
}
