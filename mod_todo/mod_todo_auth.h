/* mod_todo_auth: bearer-token authentication in the access-checker phase. */
#ifndef MOD_TODO_AUTH_H
#define MOD_TODO_AUTH_H

#include "mod_todo_config.h"

/* Validate an effective configuration and build its verifier (keys,
 * policy, JWKS URL cache, token cache) in p.  Returns NULL, or a one-line
 * reason that starts with the name of the directive to fix. */
const char *todo_auth_build(apr_pool_t *p, const todo_dir_cfg *eff,
                            todo_auth_t **out);

/* check_access hook: establishes r->user from the bearer token for every
 * request under P except the public ones (health, openapi.json, OPTIONS,
 * unknown routes and methods, which the handler answers with 404/405). */
int todo_auth_check_access(request_rec *r);

#endif
