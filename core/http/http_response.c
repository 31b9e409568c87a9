/* http_response.c - error bodies in Micronaut's shape, reason phrases. */
#include "http/http_endpoint.h"

#include <string.h>

const char *http_reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Request Entity Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

void http_response_error(struct http_response *resp,
			 const struct http_request *req, int status,
			 const char *message)
{
	const char *reason = http_reason_phrase(status);
	const char *path = req != NULL && req->path != NULL ? req->path : "/";

	resp->status = status;
	resp->content_type = "application/json";
	dmf_strbuf_free(&resp->body);
	dmf_strbuf_adds(&resp->body, "{\"message\":");
	dmf_strbuf_add_json_string(&resp->body, reason, strlen(reason));
	dmf_strbuf_adds(&resp->body, ",\"_links\":{\"self\":{\"href\":");
	dmf_strbuf_add_json_string(&resp->body, path, strlen(path));
	dmf_strbuf_adds(&resp->body,
			",\"templated\":false}},\"_embedded\":{\"errors\":"
			"[{\"message\":");
	if (message == NULL)
		message = reason;
	dmf_strbuf_add_json_string(&resp->body, message, strlen(message));
	dmf_strbuf_adds(&resp->body, "}]}}");
}
