/* todo_route: maps a path relative to the location prefix P and a method to
 * one of the API's routes.  Pure and httpd-free, so every path shape of
 * SPEC section 3 is unit tested.
 *
 * Shapes (after P):
 *   /health  /openapi.json  /docs  /docs/init.js
 *   /v1/tasks[/{id}[/complete]]            canonical
 *   /tasks[/{id}[/complete]]               unversioned alias
 *   /{user}/tasks[...]  /v1/{user}/tasks[...]   user-scoped
 * Empty segments ("//") are ignored and one trailing slash is accepted.
 * Fixed words win over user ids: "/v1/tasks" is the canonical list, never
 * the user "v1"; such a user can still say "/v1/v1/tasks".
 */
#ifndef TODO_ROUTE_H
#define TODO_ROUTE_H

#include <apr_pools.h>

typedef enum {
    TODO_ROUTE_NONE = 0,       /* unknown path: 404 */
    TODO_ROUTE_HEALTH,
    TODO_ROUTE_OPENAPI,
    TODO_ROUTE_DOCS,           /* /docs: Swagger UI (todo_docs.h) */
    TODO_ROUTE_DOCS_INIT,      /* /docs/init.js: the script starting it */
    TODO_ROUTE_TASKS,          /* .../tasks */
    TODO_ROUTE_TASK,           /* .../tasks/{id} */
    TODO_ROUTE_TASK_COMPLETE   /* .../tasks/{id}/complete */
} todo_route_e;

/* Methods, as a bit mask (independent of httpd's M_* numbers). */
#define TODO_M_GET     0x01u
#define TODO_M_HEAD    0x02u
#define TODO_M_POST    0x04u
#define TODO_M_PUT     0x08u
#define TODO_M_PATCH   0x10u
#define TODO_M_DELETE  0x20u
#define TODO_M_OPTIONS 0x40u
#define TODO_M_OTHER   0x80u

typedef struct {
    todo_route_e route;
    const char *user;          /* the {user} segment, or NULL */
    const char *task_id;       /* the {id} segment (not yet validated) */
} todo_route_t;

/* Split and match rel (the path after P, e.g. "/v1/tasks/abc").  Returns
 * the route (TODO_ROUTE_NONE when nothing matches); segments are copied
 * into p. */
todo_route_e todo_route_match(apr_pool_t *p, const char *rel,
                              todo_route_t *out);

/* TODO_M_* for a method name (exact, upper case as HTTP sends it). */
unsigned todo_route_method(const char *method);

/* The methods a route answers, and the matching Allow header value. */
unsigned todo_route_allowed(todo_route_e route);
const char *todo_route_allow_header(todo_route_e route);

/* Whether the route needs an authenticated user (the task routes). */
int todo_route_needs_user(todo_route_e route);

#endif
