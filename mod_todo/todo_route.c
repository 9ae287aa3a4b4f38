#include <string.h>
#include <apr_strings.h>
#include "todo_route.h"

#define MAX_SEGS 5

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

/* Match "tasks[/{id}[/complete]]" at segs[0..n). */
static todo_route_e match_tasks(const char **segs, int n, todo_route_t *out)
{
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

todo_route_e todo_route_match(apr_pool_t *p, const char *rel,
                              todo_route_t *out)
{
    const char *segs[MAX_SEGS];
    int n = split(p, rel ? rel : "", segs);
    int base = 0;

    memset(out, 0, sizeof(*out));
    if (n == 1 && strcmp(segs[0], "health") == 0) {
        return out->route = TODO_ROUTE_HEALTH;
    }
    if (n == 1 && strcmp(segs[0], "openapi.json") == 0) {
        return out->route = TODO_ROUTE_OPENAPI;
    }
    if (n == 1 && strcmp(segs[0], "docs") == 0) {
        return out->route = TODO_ROUTE_DOCS;
    }
    if (n == 2 && strcmp(segs[0], "docs") == 0
        && strcmp(segs[1], "init.js") == 0) {
        return out->route = TODO_ROUTE_DOCS_INIT;
    }
    if (n > MAX_SEGS || n == 0) {
        return out->route = TODO_ROUTE_NONE;
    }
    if (strcmp(segs[0], "v1") == 0) {
        base = 1;
    }
    /* Fixed shape first: [v1/]tasks... */
    if (n > base && strcmp(segs[base], "tasks") == 0) {
        return out->route = match_tasks(segs + base, n - base, out);
    }
    /* Then the user-scoped shape: [v1/]{user}/tasks... */
    if (n > base + 1) {
        out->route = match_tasks(segs + base + 1, n - base - 1, out);
        if (out->route != TODO_ROUTE_NONE) {
            out->user = segs[base];
        }
        return out->route;
    }
    return out->route = TODO_ROUTE_NONE;
}

unsigned todo_route_method(const char *method)
{
    static const struct { const char *name; unsigned bit; } map[] = {
        {"GET", TODO_M_GET}, {"HEAD", TODO_M_HEAD}, {"POST", TODO_M_POST},
        {"PUT", TODO_M_PUT}, {"PATCH", TODO_M_PATCH},
        {"DELETE", TODO_M_DELETE}, {"OPTIONS", TODO_M_OPTIONS},
    };
    size_t i;

    for (i = 0; method && i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(method, map[i].name) == 0) {
            return map[i].bit;
        }
    }
    return TODO_M_OTHER;
}

unsigned todo_route_allowed(todo_route_e route)
{
    const unsigned read = TODO_M_GET | TODO_M_HEAD | TODO_M_OPTIONS;

    switch (route) {
    case TODO_ROUTE_HEALTH:
    case TODO_ROUTE_OPENAPI:
    case TODO_ROUTE_DOCS:
    case TODO_ROUTE_DOCS_INIT:
        return read;
    case TODO_ROUTE_TASKS:
        return read | TODO_M_POST;
    case TODO_ROUTE_TASK:
        return read | TODO_M_PUT | TODO_M_PATCH | TODO_M_DELETE;
    case TODO_ROUTE_TASK_COMPLETE:
        return TODO_M_PATCH | TODO_M_OPTIONS;
    default:
        return 0;
    }
}

const char *todo_route_allow_header(todo_route_e route)
{
    switch (route) {
    case TODO_ROUTE_HEALTH:
    case TODO_ROUTE_OPENAPI:
    case TODO_ROUTE_DOCS:
    case TODO_ROUTE_DOCS_INIT:
        return "GET, HEAD, OPTIONS";
    case TODO_ROUTE_TASKS:
        return "GET, HEAD, POST, OPTIONS";
    case TODO_ROUTE_TASK:
        return "GET, HEAD, PUT, PATCH, DELETE, OPTIONS";
    case TODO_ROUTE_TASK_COMPLETE:
        return "PATCH, OPTIONS";
    default:
        return "";
    }
}

int todo_route_needs_user(todo_route_e route)
{
    return route == TODO_ROUTE_TASKS || route == TODO_ROUTE_TASK
        || route == TODO_ROUTE_TASK_COMPLETE;
}
