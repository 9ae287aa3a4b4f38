/* Private to the httpd glue (mod_todo*.c): httpd headers, the module's log
 * identity and the per-request state the hooks share. */
#ifndef MOD_TODO_PRIVATE_H
#define MOD_TODO_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "todo_route.h"
#include "todo_task.h"

/* So that "LogLevel todo:debug" selects this module's messages. */
APLOG_USE_MODULE(todo);
extern module AP_MODULE_DECLARE_DATA todo_module;

/* Our own tag for log lines: APLOGNO numbers belong to httpd's modules. */
#define TODOLOG(n) "TODO" #n ": "

/* Every error-log line about a request names its request id. */
#define todo_rlog(r, level, status, tag, fmt, ...)                        \
    ap_log_rerror(APLOG_MARK, level, status, r, TODOLOG(tag) "[req %s] " fmt, \
                  todo_request_id(r), ##__VA_ARGS__)

#define TODO_HANDLER "todo"

/* What the hooks of one request share (r->request_config). */
typedef struct {
    const char *id;                /* request id (X-Request-Id, meta) */
    const struct todo_dir_cfg *cfg;
    todo_route_t route;
    unsigned method;               /* TODO_M_* */
    const char *origin;            /* allowed CORS origin, or NULL */
    /* An error decided before the handler (401 in the access checker),
     * rendered as JSON by the error filter. */
    const char *err_code;
    const char *err_message;
} todo_req_t;

/* The state of a request under a todo location, or NULL for others. */
todo_req_t *todo_req_get(request_rec *r);
const char *todo_request_id(request_rec *r);

#endif
