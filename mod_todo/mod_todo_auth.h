/* mod_todo_auth: bearer-token authentication in the access-checker phase,
 * the glue between httpd and todo_verifier. */
#ifndef MOD_TODO_AUTH_H
#define MOD_TODO_AUTH_H

#include "mod_todo_req.h"

/* check_access hook: establishes r->user from the bearer token for every
 * request the router says needs a user (todo_route_t.needs_user). */
int todo_auth_check_access(request_rec *r);

#endif
