/* todo_route: paths and methods of the API (see todo_route.h). */
#include "todo_route.h"

#include <string.h>

#include <apr_strings.h>

#define MAX_SEGS 5

/* Every route with the methods it answers: the one table to extend when
 * the API grows.  HEAD is served as GET (httpd drops the body); OPTIONS
 * is answered on every route. */
static const struct {
    todo_route_e route;
    const char *method;
    todo_op_e op;
} ops[] = {
    { TODO_ROUTE_HEALTH, "GET", TODO_OP_HEALTH },
    { TODO_ROUTE_HEALTH, "HEAD", TODO_OP_HEALTH },
    { TODO_ROUTE_OPENAPI, "GET", TODO_OP_OPENAPI },
    { TODO_ROUTE_OPENAPI, "HEAD", TODO_OP_OPENAPI },
    { TODO_ROUTE_DOCS, "GET", TODO_OP_DOCS },
    { TODO_ROUTE_DOCS, "HEAD", TODO_OP_DOCS },
    { TODO_ROUTE_DOCS_INIT, "GET", TODO_OP_DOCS_INIT },
    { TODO_ROUTE_DOCS_INIT, "HEAD", TODO_OP_DOCS_INIT },
    { TODO_ROUTE_TASKS, "GET", TODO_OP_LIST },
    { TODO_ROUTE_TASKS, "HEAD", TODO_OP_LIST },
    { TODO_ROUTE_TASKS, "POST", TODO_OP_CREATE },
    { TODO_ROUTE_TASK, "GET", TODO_OP_GET },
    { TODO_ROUTE_TASK, "HEAD", TODO_OP_GET },
    { TODO_ROUTE_TASK, "PUT", TODO_OP_REPLACE },
    { TODO_ROUTE_TASK, "PATCH", TODO_OP_PATCH },
    { TODO_ROUTE_TASK, "DELETE", TODO_OP_DELETE },
    { TODO_ROUTE_TASK_COMPLETE, "PATCH", TODO_OP_COMPLETE },
    { TODO_ROUTE_CHANGES, "GET", TODO_OP_CHANGES },
    { TODO_ROUTE_CHANGES, "HEAD", TODO_OP_CHANGES },
};

/* The Allow header of each route: the methods of the table, and OPTIONS. */
static const char *const allow[TODO_ROUTE_COUNT] = {
    "",
    "GET, HEAD, OPTIONS",
    "GET, HEAD, OPTIONS",
    "GET, HEAD, OPTIONS",
    "GET, HEAD, OPTIONS",
    "GET, HEAD, POST, OPTIONS",
    "GET, HEAD, PUT, PATCH, DELETE, OPTIONS",
    "PATCH, OPTIONS",
    "GET, HEAD, OPTIONS",
};

const char *todo_route_rel(const char *prefix, const char *uri)
{
    apr_size_t n = strlen(prefix);

    if (!uri || strncmp(uri, prefix, n)) {
        return NULL;
    }
    return uri[n] == '/' || uri[n] == '\0' ? uri + n : NULL;
}

/* Split rel into at most MAX_SEGS non-empty segments; returns the count, or
 * MAX_SEGS + 1 when there are more (no route is that deep). */
static int split(apr_pool_t *p, const char *rel, const char **segs)
{
    int n = 0;
    const char *s = rel;

    while (*s) {
        const char *e;

        while (*s == '/') {
            s++;
        }
        if (!*s) {
            break;
        }
        e = strchr(s, '/');
        if (!e) {
            e = s + strlen(s);
        }
        if (n == MAX_SEGS) {
            return MAX_SEGS + 1;
        }
        segs[n++] = apr_pstrmemdup(p, s, (apr_size_t)(e - s));
        s = e;
    }
    return n;
}

/* Match "tasks[/{id}[/complete]]" or "changes" at segs[0..n). */
static todo_route_e match_tasks(const char **segs, int n, todo_route_t *out)
{
    if (n == 1 && strcmp(segs[0], "changes") == 0) {
        return TODO_ROUTE_CHANGES;
    }
    if (n < 1 || strcmp(segs[0], "tasks") != 0) {
        return TODO_ROUTE_NONE;
    }
    if (n == 1) {
        return TODO_ROUTE_TASKS;
    }
    out->task_id = segs[1];
    if (n == 2) {
        return TODO_ROUTE_TASK;
    }
    if (n == 3 && strcmp(segs[2], "complete") == 0) {
        return TODO_ROUTE_TASK_COMPLETE;
    }
    return TODO_ROUTE_NONE;
}

static todo_route_e match_path(apr_pool_t *p, const char *rel,
                               todo_route_t *out)
{
    const char *segs[MAX_SEGS];
    int n = split(p, rel, segs);
    int base = 0;
    todo_route_e route;

    if (n == 1 && strcmp(segs[0], "health") == 0) {
        return TODO_ROUTE_HEALTH;
    }
    if (n == 1 && strcmp(segs[0], "openapi.json") == 0) {
        return TODO_ROUTE_OPENAPI;
    }
    /* Only these two shapes: "/docs/tasks" is still the user "docs". */
    if (n == 1 && strcmp(segs[0], "docs") == 0) {
        return TODO_ROUTE_DOCS;
    }
    if (n == 2 && strcmp(segs[0], "docs") == 0
        && strcmp(segs[1], "init.js") == 0) {
        return TODO_ROUTE_DOCS_INIT;
    }
    if (n > MAX_SEGS || n == 0) {
        return TODO_ROUTE_NONE;
    }
    if (strcmp(segs[0], "v1") == 0) {
        base = 1;
    }
    /* Fixed shape first: [v1/]tasks..., [v1/]changes */
    if (n > base
        && (strcmp(segs[base], "tasks") == 0
            || (n == base + 1 && strcmp(segs[base], "changes") == 0))) {
        return match_tasks(segs + base, n - base, out);
    }
    /* Then the user-scoped shape: [v1/]{user}/tasks... */
    if (n > base + 1) {
        route = match_tasks(segs + base + 1, n - base - 1, out);
        if (route != TODO_ROUTE_NONE) {
            out->user = segs[base];
        }
        return route;
    }
    return TODO_ROUTE_NONE;
}

static todo_op_e match_method(todo_route_e route, const char *method)
{
    apr_size_t i;

    if (route == TODO_ROUTE_NONE) {
        return TODO_OP_NOT_FOUND;
    }
    if (method && !strcmp(method, "OPTIONS")) {
        return TODO_OP_OPTIONS;
    }
    for (i = 0; method && i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (ops[i].route == route && !strcmp(ops[i].method, method)) {
            return ops[i].op;
        }
    }
    return TODO_OP_NOT_ALLOWED;
}

/* The operations on a user's tasks.  Everything else -- health, the
 * OpenAPI document, preflights, and what is refused anyway (unknown
 * routes, wrong methods) -- is answered without a token. */
static int needs_user(todo_op_e op)
{
    switch (op) {
    case TODO_OP_LIST:
    case TODO_OP_CREATE:
    case TODO_OP_GET:
    case TODO_OP_REPLACE:
    case TODO_OP_PATCH:
    case TODO_OP_COMPLETE:
    case TODO_OP_DELETE:
    case TODO_OP_CHANGES:
        return 1;
    default:
        return 0;
    }
}

void todo_route_resolve(apr_pool_t *p, const char *rel, const char *method,
                        todo_route_t *out)
{
    memset(out, 0, sizeof(*out));
    out->route = rel ? match_path(p, rel, out) : TODO_ROUTE_NONE;
    if (out->route == TODO_ROUTE_NONE) {
        out->user = out->task_id = NULL;
    }
    out->op = match_method(out->route, method);
    out->allow = allow[out->route];
    out->needs_user = needs_user(out->op);
}

void todo_route_drop_docs(todo_route_t *out)
{
    if (out->route == TODO_ROUTE_DOCS || out->route == TODO_ROUTE_DOCS_INIT) {
        out->route = TODO_ROUTE_NONE;
        out->op = TODO_OP_NOT_FOUND;
        out->allow = allow[TODO_ROUTE_NONE];
        out->needs_user = 0;
    }
}

const char *todo_route_path(apr_pool_t *p, const char *prefix,
                            todo_route_e route)
{
    switch (route) {
    case TODO_ROUTE_HEALTH:
        return apr_pstrcat(p, prefix, "/health", NULL);
    case TODO_ROUTE_OPENAPI:
        return apr_pstrcat(p, prefix, "/openapi.json", NULL);
    case TODO_ROUTE_DOCS:
        return apr_pstrcat(p, prefix, "/docs", NULL);
    case TODO_ROUTE_DOCS_INIT:
        return apr_pstrcat(p, prefix, "/docs/init.js", NULL);
    case TODO_ROUTE_TASKS:
        return apr_pstrcat(p, prefix, "/v1/tasks", NULL);
    case TODO_ROUTE_CHANGES:
        return apr_pstrcat(p, prefix, "/v1/changes", NULL);
    default:
        return NULL;
    }
}

const char *todo_route_task_path(apr_pool_t *p, const char *prefix,
                                 const char *id)
{
    return apr_pstrcat(p, prefix, "/v1/tasks/", id, NULL);
}

const char *todo_route_op_name(todo_op_e op)
{
    /* No default: a new operation must be named here (-Wswitch). */
    switch (op) {
    case TODO_OP_NOT_FOUND:
        return "not_found";
    case TODO_OP_NOT_ALLOWED:
        return "not_allowed";
    case TODO_OP_OPTIONS:
        return "options";
    case TODO_OP_HEALTH:
        return "health";
    case TODO_OP_OPENAPI:
        return "openapi";
    case TODO_OP_DOCS:
        return "docs";
    case TODO_OP_DOCS_INIT:
        return "docs_init";
    case TODO_OP_LIST:
        return "list";
    case TODO_OP_CREATE:
        return "create";
    case TODO_OP_GET:
        return "get";
    case TODO_OP_REPLACE:
        return "replace";
    case TODO_OP_PATCH:
        return "patch";
    case TODO_OP_COMPLETE:
        return "complete";
    case TODO_OP_DELETE:
        return "delete";
    case TODO_OP_CHANGES:
        return "changes";
    case TODO_OP_COUNT:
        break;
    }
    return "other";
}

static const char *const methods[TODO_ROUTE_METHODS] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"
};

int todo_route_method_index(const char *method)
{
    int i;

    for (i = 0; method && i < TODO_ROUTE_METHODS - 1; i++) {
        if (!strcmp(methods[i], method)) {
            return i;
        }
    }
    return TODO_ROUTE_METHODS - 1;
}

const char *todo_route_method_name(int index)
{
    return index >= 0 && index < TODO_ROUTE_METHODS
               ? methods[index]
               : methods[TODO_ROUTE_METHODS - 1];
}
