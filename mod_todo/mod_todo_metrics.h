/* mod_todo_metrics: the glue of todo_metrics -- the shared memory that
 * holds the counters (made in post_config, kept across graceful
 * restarts), each child's slot, the count of every request of a todo
 * location (log_transaction), the "SetHandler todo-metrics" handler and
 * mod_status' status hook.  See docs/operations.md, "Metrics". */
#ifndef MOD_TODO_METRICS_H
#define MOD_TODO_METRICS_H

#include "mod_todo_req.h"

#define TODO_METRICS_HANDLER "todo-metrics"

/* post_config: make or find the shared counters, when anything can read
 * them (a todo-metrics location, or mod_status).  NULL, or why not. */
const char *todo_metrics_post_config(apr_pool_t *pconf, server_rec *s);

/* child_init: this child's slot. */
void todo_metrics_child_init(apr_pool_t *p, server_rec *s);

/* log_transaction: count a request of a todo location. */
int todo_metrics_log(request_rec *r);

/* handler for "SetHandler todo-metrics". */
int todo_metrics_handler(request_rec *r);

/* mod_status' status_hook. */
int todo_metrics_status(request_rec *r, int flags);

#endif
