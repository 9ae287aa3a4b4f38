/* mod_todo_api: the content handler -- request bodies, database results
 * and JSON responses for each operation the router names -- and the
 * filter that answers httpd's own errors under a todo location as JSON. */
#ifndef MOD_TODO_API_H
#define MOD_TODO_API_H

#include "mod_todo_req.h"

/* handler hook for "SetHandler todo". */
int todo_api_handler(request_rec *r);

/* insert_error_filter hook, and the registration of that filter. */
void todo_api_insert_error_filter(request_rec *r);
void todo_api_register_filters(void);

#endif
