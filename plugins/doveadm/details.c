/* details.c - job details entries (details.h). */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "details.h"
#include "dmf/text.h"

json_t *details_entry(bool success, const char *command, bool with_exit,
		      int exit_code, json_t *errors)
{
	json_t *o = json_object();

	if (errors == NULL)
		errors = json_array();
	if (o == NULL || errors == NULL) {
		json_decref(o);
		json_decref(errors);
		return NULL;
	}
	json_object_set_new(o, "success", json_boolean(success));
	if (command != NULL)
		json_object_set_new(o, "command", json_string(command));
	if (with_exit)
		json_object_set_new(o, "exitCode", json_integer(exit_code));
	json_object_set_new(o, "errors", errors);
	return o;
}

int details_add(const struct dmf_host *h, struct dmf_job *job, const char *op,
		json_t *body)
{
	char *text;
	int ret;

	if (body == NULL)
		return -ENOMEM;
	text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	if (text == NULL)
		return -ENOMEM;
	ret = h->response->add_detail(job, op, text);
	free(text);
	return ret;
}

void details_error_line(json_t *errors, const char *line, size_t len)
{
	char buf[DETAILS_MAX_ERROR_LEN + 1];
	size_t o = 0, i = 0;
	json_t *s;

	if (errors == NULL || json_array_size(errors) >= DETAILS_MAX_ERRORS)
		return;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0)
		return;
	while (i < len && o < DETAILS_MAX_ERROR_LEN) {
		const unsigned char *p = (const unsigned char *)line + i;
		size_t l = dmf_utf8_len(p, len - i);
		if (l == 0 || (l == 1 && (*p < 0x20 || *p == 0x7f))) {
			buf[o++] = *p == '\t' ? ' ' : '?';
			i++;
		} else if (o + l <= DETAILS_MAX_ERROR_LEN) {
			memcpy(buf + o, p, l);
			o += l;
			i += l;
		} else {
			break;
		}
	}
	buf[o] = '\0';
	s = json_string(buf);
	if (s != NULL)
		json_array_append_new(errors, s);
}
