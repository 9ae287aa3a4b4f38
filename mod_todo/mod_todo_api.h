/* mod_todo_api: the content handler -- routes, requests bodies, database
 * results and JSON responses. */
#ifndef MOD_TODO_API_H
#define MOD_TODO_API_H

#include "mod_todo_private.h"
#include "todo_buf.h"

/* handler hook for "SetHandler todo". */
int todo_api_handler(request_rec *r);

/* Write a JSON error envelope for status into b (used by the handler and
 * by the filter that turns httpd's own error pages into JSON). */
void todo_api_error_body(request_rec *r, todo_buf_t *b, int status,
                         const char *code, const char *message,
                         const apr_array_header_t *details);

/* CORS response headers for an allowed origin (err_headers_out, so that
 * error responses carry them too). */
void todo_api_cors(request_rec *r, todo_req_t *q);

#endif
