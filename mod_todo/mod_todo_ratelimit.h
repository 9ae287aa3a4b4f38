/* mod_todo_ratelimit: TodoRateLimit -- the shared table of todo_ratelimit
 * (made in post_config, kept across graceful restarts) and the check
 * right after authentication, before any database work: 429 with
 * Retry-After past the budget, RateLimit-* headers on every answer to a
 * user's request (docs/api.md §6.4). */
#ifndef MOD_TODO_RATELIMIT_H
#define MOD_TODO_RATELIMIT_H

#include "mod_todo_req.h"

/* post_config: make or find the table when a TodoRateLimit directive is
 * in the configuration.  NULL, or why not. */
const char *todo_ratelimit_post_config(apr_pool_t *pconf, server_rec *s);

/* child_init: the pid that holds the table's locks. */
void todo_ratelimit_child_init(apr_pool_t *p, server_rec *s);

/* access_checker, after authentication: charge the user's bucket. */
int todo_ratelimit_check(request_rec *r);

#endif
