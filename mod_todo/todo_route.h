/* todo_route: the router, and the only place that knows the API's paths
 * and methods.  Given a todo location's prefix P, a request's path and its
 * method, it decides the route, the operation to run, the Allow header and
 * whether a token is needed -- for the access checker and the handler
 * alike.  Pure and httpd-free, so every path shape of docs/api.md §3 is
 * unit tested.
 *
 * Shapes (after P):
 *   /health  /openapi.json  /docs  /docs/init.js
 *   /v1/tasks[/{id}[/complete]]            canonical
 *   /tasks[/{id}[/complete]]               unversioned alias
 *   /{user}/tasks[...]  /v1/{user}/tasks[...]   user-scoped
 *   /v1/changes  /changes  /{user}/changes  /v1/{user}/changes
 * Empty segments ("//") are ignored and one trailing slash is accepted.
 * Fixed words win over user ids: "/v1/tasks" is the canonical list, never
 * the user "v1"; such a user can still say "/v1/v1/tasks".
 */
#ifndef TODO_ROUTE_H
#define TODO_ROUTE_H

#include <apr_pools.h>

typedef enum {
    TODO_ROUTE_NONE = 0, /* unknown path: 404 */
    TODO_ROUTE_HEALTH,
    TODO_ROUTE_OPENAPI,
    TODO_ROUTE_DOCS,          /* /docs: Swagger UI for /openapi.json */
    TODO_ROUTE_DOCS_INIT,     /* /docs/init.js: the script starting it */
    TODO_ROUTE_TASKS,         /* .../tasks */
    TODO_ROUTE_TASK,          /* .../tasks/{id} */
    TODO_ROUTE_TASK_COMPLETE, /* .../tasks/{id}/complete */
    TODO_ROUTE_CHANGES,       /* .../changes: the sync feed */
    TODO_ROUTE_COUNT
} todo_route_e;

/* What the handler does with a request: one per route and method. */
typedef enum {
    TODO_OP_NOT_FOUND = 0, /* no such route: 404 */
    TODO_OP_NOT_ALLOWED,   /* the route exists, not this method: 405 */
    TODO_OP_OPTIONS,       /* OPTIONS, a CORS preflight or not */
    TODO_OP_HEALTH,
    TODO_OP_OPENAPI,
    TODO_OP_DOCS,      /* GET/HEAD /docs (todo_docs.h) */
    TODO_OP_DOCS_INIT, /* GET/HEAD /docs/init.js */
    TODO_OP_LIST,      /* GET/HEAD .../tasks */
    TODO_OP_CREATE,    /* POST .../tasks */
    TODO_OP_GET,       /* GET/HEAD .../tasks/{id} */
    TODO_OP_REPLACE,   /* PUT .../tasks/{id} */
    TODO_OP_PATCH,     /* PATCH .../tasks/{id} */
    TODO_OP_COMPLETE,  /* PATCH .../tasks/{id}/complete */
    TODO_OP_DELETE,    /* DELETE .../tasks/{id} */
    TODO_OP_CHANGES,   /* GET/HEAD .../changes */
    TODO_OP_COUNT      /* (the number of operations) */
} todo_op_e;

typedef struct {
    todo_route_e route;
    todo_op_e op;
    const char *user;    /* the {user} segment, or NULL */
    const char *task_id; /* the {id} segment (not yet validated) */
    const char *allow;   /* the route's Allow header; "" for none */
    int needs_user;      /* 1: only for an authenticated user */
} todo_route_t;

/* The part of uri under the location prefix (e.g. "/v1/tasks" for
 * "/api/v1/tasks" under "/api"; "" for "/api" itself), or NULL when uri is
 * not under prefix ("/apix" is not under "/api"). */
const char *todo_route_rel(const char *prefix, const char *uri);

/* Route a request: rel is todo_route_rel()'s result (NULL: nothing under
 * P, which is TODO_OP_NOT_FOUND), method its name as HTTP sends it (exact,
 * upper case).  Segments are copied into p. */
void todo_route_resolve(apr_pool_t *p, const char *rel, const char *method,
                        todo_route_t *out);

/* A location that does not serve the docs page ("TodoDocs off"): a docs
 * route becomes an unknown path, 404 whatever the method. */
void todo_route_drop_docs(todo_route_t *out);

/* The path of a route without variable segments under prefix
 * ("/api/openapi.json" for TODO_ROUTE_OPENAPI; the canonical shape
 * "/api/v1/tasks" for TODO_ROUTE_TASKS, "/api/v1/changes" for
 * TODO_ROUTE_CHANGES), in p; NULL for the others.  The docs page names
 * the document and its script with these, a list's Link header its next
 * page. */
const char *todo_route_path(apr_pool_t *p, const char *prefix,
                            todo_route_e route);

/* The operation's name, for metrics' "route" label ("list", "create",
 * ...; "other" for anything else), and part of an Idempotency-Key's
 * fingerprint (two path shapes of one operation are one request). */
const char *todo_route_op_name(todo_op_e op);

/* Methods as the metrics count them: the API's methods (0 to
 * TODO_ROUTE_METHODS - 2) and every other method under one last index,
 * so that a client cannot make up labels. */
#define TODO_ROUTE_METHODS 8
int todo_route_method_index(const char *method);
const char *todo_route_method_name(int index);

/* The canonical path of task id under prefix ("/api/v1/tasks/<id>"), in
 * p: the Location of a created task. */
const char *todo_route_task_path(apr_pool_t *p, const char *prefix,
                                 const char *id);

#endif
