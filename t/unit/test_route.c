/* Unit tests of the router: every path shape of docs/api.md §3, the
 * operation of each method, Allow, and which need a token. */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include "todo_test.h"
#include "todo_route.h"

static void expect(const char *path, todo_route_e route, const char *user,
                   const char *id)
{
    todo_route_t r;

    todo_route_resolve(todo_test_pool, path, "GET", &r);
    if (r.route != route) {
        fail_msg("%s: route %d, expected %d", path, r.route, route);
    }
    if (user) {
        assert_non_null(r.user);
        assert_string_equal(r.user, user);
    }
    else {
        assert_null(r.user);
    }
    if (id) {
        assert_non_null(r.task_id);
        assert_string_equal(r.task_id, id);
    }
}

/* The operation for a path and method, and what comes with it. */
static todo_route_t op_of(const char *path, const char *method)
{
    todo_route_t r;

    todo_route_resolve(todo_test_pool, path, method, &r);
    return r;
}

static void test_fixed(void **state)
{
    (void)state;
    expect("/health", TODO_ROUTE_HEALTH, NULL, NULL);
    expect("/health/", TODO_ROUTE_HEALTH, NULL, NULL);
    expect("/openapi.json", TODO_ROUTE_OPENAPI, NULL, NULL);
    expect("/v1/health", TODO_ROUTE_NONE, NULL, NULL);
    expect("/healthz", TODO_ROUTE_NONE, NULL, NULL);
    expect("/docs", TODO_ROUTE_DOCS, NULL, NULL);
    expect("/docs/", TODO_ROUTE_DOCS, NULL, NULL);
    expect("/docs/init.js", TODO_ROUTE_DOCS_INIT, NULL, NULL);
    expect("//docs//init.js/", TODO_ROUTE_DOCS_INIT, NULL, NULL);
    expect("/docs/init.js/x", TODO_ROUTE_NONE, NULL, NULL);
    expect("/docs/swagger-ui.css", TODO_ROUTE_NONE, NULL, NULL);
    expect("/v1/docs", TODO_ROUTE_NONE, NULL, NULL);
    expect("/docsx", TODO_ROUTE_NONE, NULL, NULL);
    /* A user called "docs" keeps the user-scoped shape. */
    expect("/docs/tasks", TODO_ROUTE_TASKS, "docs", NULL);
    expect("/v1/docs/tasks/7", TODO_ROUTE_TASK, "docs", "7");
}

/* The changes feed in the four shapes of docs/api.md §3.1, and near
 * misses. */
static void test_changes(void **state)
{
    (void)state;
    expect("/v1/changes", TODO_ROUTE_CHANGES, NULL, NULL);
    expect("/changes", TODO_ROUTE_CHANGES, NULL, NULL);
    expect("/changes/", TODO_ROUTE_CHANGES, NULL, NULL);
    expect("//v1//changes", TODO_ROUTE_CHANGES, NULL, NULL);
    expect("/alice/changes", TODO_ROUTE_CHANGES, "alice", NULL);
    expect("/v1/alice/changes", TODO_ROUTE_CHANGES, "alice", NULL);
    /* A user called "changes" keeps the user-scoped task routes. */
    expect("/changes/tasks", TODO_ROUTE_TASKS, "changes", NULL);
    expect("/v1/changes/tasks/9", TODO_ROUTE_TASK, "changes", "9");
    /* Nothing below it, and no task of that name. */
    expect("/v1/changes/x", TODO_ROUTE_NONE, NULL, NULL);
    expect("/changes/x", TODO_ROUTE_NONE, NULL, NULL);
    expect("/changesx", TODO_ROUTE_NONE, NULL, NULL);
    expect("/v1/tasks/changes", TODO_ROUTE_TASK, NULL, "changes");
    expect("/a/b/changes", TODO_ROUTE_NONE, NULL, NULL);
}

static void test_canonical_and_alias(void **state)
{
    const char *shapes[] = { "/v1/tasks", "/tasks" };
    int i;

    (void)state;
    for (i = 0; i < 2; i++) {
        const char *b = shapes[i];
        char p[128];

        expect(b, TODO_ROUTE_TASKS, NULL, NULL);
        snprintf(p, sizeof(p), "%s/", b);
        expect(p, TODO_ROUTE_TASKS, NULL, NULL);
        snprintf(p, sizeof(p), "%s/abc", b);
        expect(p, TODO_ROUTE_TASK, NULL, "abc");
        snprintf(p, sizeof(p), "%s/abc/complete", b);
        expect(p, TODO_ROUTE_TASK_COMPLETE, NULL, "abc");
        snprintf(p, sizeof(p), "%s/abc/complete/", b);
        expect(p, TODO_ROUTE_TASK_COMPLETE, NULL, "abc");
        snprintf(p, sizeof(p), "%s/abc/other", b);
        expect(p, TODO_ROUTE_NONE, NULL, NULL);
        snprintf(p, sizeof(p), "%s/abc/complete/more", b);
        expect(p, TODO_ROUTE_NONE, NULL, NULL);
    }
}

static void test_user_scoped(void **state)
{
    (void)state;
    expect("/alice/tasks", TODO_ROUTE_TASKS, "alice", NULL);
    expect("/alice/tasks/42", TODO_ROUTE_TASK, "alice", "42");
    expect("/alice/tasks/42/complete", TODO_ROUTE_TASK_COMPLETE, "alice",
           "42");
    expect("/v1/alice/tasks", TODO_ROUTE_TASKS, "alice", NULL);
    expect("/v1/alice/tasks/42", TODO_ROUTE_TASK, "alice", "42");
    expect("/v1/alice/tasks/42/complete", TODO_ROUTE_TASK_COMPLETE, "alice",
           "42");
    /* Fixed words win; a user called v1 needs the versioned shape. */
    expect("/v1/tasks", TODO_ROUTE_TASKS, NULL, NULL);
    expect("/v1/v1/tasks", TODO_ROUTE_TASKS, "v1", NULL);
    expect("/alice/bob/tasks", TODO_ROUTE_NONE, NULL, NULL);
    expect("/alice", TODO_ROUTE_NONE, NULL, NULL);
    expect("/alice/things", TODO_ROUTE_NONE, NULL, NULL);
}

static void test_slashes(void **state)
{
    (void)state;
    expect("", TODO_ROUTE_NONE, NULL, NULL);
    expect("/", TODO_ROUTE_NONE, NULL, NULL);
    expect("//v1//tasks", TODO_ROUTE_TASKS, NULL, NULL);
    expect("/v1///tasks//abc//", TODO_ROUTE_TASK, NULL, "abc");
    expect("/a/b/c/d/e/f", TODO_ROUTE_NONE, NULL, NULL);
}

static void test_prefix(void **state)
{
    (void)state;
    assert_string_equal(todo_route_rel("/api", "/api/v1/tasks"), "/v1/tasks");
    assert_string_equal(todo_route_rel("/api", "/api"), "");
    assert_string_equal(todo_route_rel("/api", "/api/"), "/");
    assert_null(todo_route_rel("/api", "/apix"));
    assert_null(todo_route_rel("/api", "/ap"));
    assert_null(todo_route_rel("/api", "/other/api"));
    assert_null(todo_route_rel("/api", NULL));
    /* A server-wide location has the empty prefix. */
    assert_string_equal(todo_route_rel("", "/v1/tasks"), "/v1/tasks");
    /* Nothing under the prefix: no route, whatever the method. */
    assert_int_equal(op_of(NULL, "GET").op, TODO_OP_NOT_FOUND);
}

static void test_methods(void **state)
{
    static const struct {
        const char *path, *method;
        todo_op_e op;
        int needs_user;
    } cases[] = {
        { "/health", "GET", TODO_OP_HEALTH, 0 },
        { "/health", "HEAD", TODO_OP_HEALTH, 0 },
        { "/health", "POST", TODO_OP_NOT_ALLOWED, 0 },
        { "/openapi.json", "GET", TODO_OP_OPENAPI, 0 },
        { "/openapi.json", "DELETE", TODO_OP_NOT_ALLOWED, 0 },
        { "/docs", "GET", TODO_OP_DOCS, 0 },
        { "/docs", "HEAD", TODO_OP_DOCS, 0 },
        { "/docs", "POST", TODO_OP_NOT_ALLOWED, 0 },
        { "/docs/init.js", "GET", TODO_OP_DOCS_INIT, 0 },
        { "/docs/init.js", "HEAD", TODO_OP_DOCS_INIT, 0 },
        { "/docs/init.js", "DELETE", TODO_OP_NOT_ALLOWED, 0 },
        { "/docs", "OPTIONS", TODO_OP_OPTIONS, 0 },
        { "/v1/tasks", "GET", TODO_OP_LIST, 1 },
        { "/v1/tasks", "HEAD", TODO_OP_LIST, 1 },
        { "/v1/tasks", "POST", TODO_OP_CREATE, 1 },
        { "/v1/tasks", "DELETE", TODO_OP_NOT_ALLOWED, 0 },
        { "/tasks/x", "GET", TODO_OP_GET, 1 },
        { "/tasks/x", "PUT", TODO_OP_REPLACE, 1 },
        { "/tasks/x", "PATCH", TODO_OP_PATCH, 1 },
        { "/tasks/x", "DELETE", TODO_OP_DELETE, 1 },
        { "/tasks/x", "POST", TODO_OP_NOT_ALLOWED, 0 },
        { "/u/tasks/x/complete", "PATCH", TODO_OP_COMPLETE, 1 },
        { "/u/tasks/x/complete", "GET", TODO_OP_NOT_ALLOWED, 0 },
        { "/v1/changes", "GET", TODO_OP_CHANGES, 1 },
        { "/u/changes", "HEAD", TODO_OP_CHANGES, 1 },
        { "/changes", "POST", TODO_OP_NOT_ALLOWED, 0 },
        { "/v1/u/changes", "DELETE", TODO_OP_NOT_ALLOWED, 0 },
        { "/changes", "OPTIONS", TODO_OP_OPTIONS, 0 },
        /* Preflights need no token, on every route. */
        { "/v1/tasks", "OPTIONS", TODO_OP_OPTIONS, 0 },
        { "/tasks/x/complete", "OPTIONS", TODO_OP_OPTIONS, 0 },
        /* Methods are exact, upper case as HTTP sends them. */
        { "/v1/tasks", "get", TODO_OP_NOT_ALLOWED, 0 },
        { "/v1/tasks", "TRACE", TODO_OP_NOT_ALLOWED, 0 },
        { "/v1/tasks", NULL, TODO_OP_NOT_ALLOWED, 0 },
        /* An unknown path is a 404 whatever the method. */
        { "/nope", "GET", TODO_OP_NOT_FOUND, 0 },
        { "/nope", "OPTIONS", TODO_OP_NOT_FOUND, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        todo_route_t r = op_of(cases[i].path, cases[i].method);

        if (r.op != cases[i].op || r.needs_user != cases[i].needs_user) {
            fail_msg("%s %s: op %d needs_user %d, expected %d %d",
                     cases[i].method ? cases[i].method : "(null)",
                     cases[i].path, r.op, r.needs_user, cases[i].op,
                     cases[i].needs_user);
        }
    }
}

static void test_allow(void **state)
{
    (void)state;
    assert_string_equal(op_of("/health", "GET").allow, "GET, HEAD, OPTIONS");
    assert_string_equal(op_of("/openapi.json", "PUT").allow,
                        "GET, HEAD, OPTIONS");
    assert_string_equal(op_of("/docs", "PUT").allow, "GET, HEAD, OPTIONS");
    assert_string_equal(op_of("/docs/init.js", "POST").allow,
                        "GET, HEAD, OPTIONS");
    assert_string_equal(op_of("/v1/tasks", "PUT").allow,
                        "GET, HEAD, POST, OPTIONS");
    assert_string_equal(op_of("/v1/tasks/a", "POST").allow,
                        "GET, HEAD, PUT, PATCH, DELETE, OPTIONS");
    assert_string_equal(op_of("/v1/tasks/a/complete", "GET").allow,
                        "PATCH, OPTIONS");
    assert_string_equal(op_of("/v1/changes", "PUT").allow,
                        "GET, HEAD, OPTIONS");
    assert_string_equal(op_of("/nope", "GET").allow, "");
}

/* The names the metrics give operations and methods: every operation has
 * its own, and methods outside the API's are one label. */
static void test_names(void **state)
{
    int op, i, j;

    (void)state;
    for (op = 0; op < TODO_OP_COUNT; op++) {
        const char *n = todo_route_op_name((todo_op_e)op);

        assert_string_not_equal(n, "other");
        for (i = 0; i < op; i++) {
            assert_string_not_equal(n, todo_route_op_name((todo_op_e)i));
        }
    }
    assert_string_equal(todo_route_op_name(TODO_OP_LIST), "list");
    assert_string_equal(todo_route_op_name(TODO_OP_COUNT), "other");
    assert_int_equal(todo_route_method_index("GET"), 0);
    assert_string_equal(todo_route_method_name(0), "GET");
    for (i = 0; i < TODO_ROUTE_METHODS; i++) {
        const char *m = todo_route_method_name(i);

        assert_int_equal(todo_route_method_index(m), i);
        for (j = 0; j < i; j++) {
            assert_string_not_equal(m, todo_route_method_name(j));
        }
    }
    assert_int_equal(todo_route_method_index("BREW"), TODO_ROUTE_METHODS - 1);
    assert_int_equal(todo_route_method_index("get"), TODO_ROUTE_METHODS - 1);
    assert_int_equal(todo_route_method_index(NULL), TODO_ROUTE_METHODS - 1);
    assert_string_equal(todo_route_method_name(99), "other");
    assert_string_equal(todo_route_method_name(-1), "other");
}

/* "TodoDocs off": the docs routes become unknown paths, nothing else
 * changes. */
static void test_drop_docs(void **state)
{
    static const char *const paths[] = { "/docs", "/docs/init.js" };
    static const char *const methods[] = { "GET", "POST", "OPTIONS" };
    todo_route_t r;
    size_t i, j;

    (void)state;
    for (i = 0; i < 2; i++) {
        for (j = 0; j < 3; j++) {
            r = op_of(paths[i], methods[j]);
            todo_route_drop_docs(&r);
            assert_int_equal(r.route, TODO_ROUTE_NONE);
            assert_int_equal(r.op, TODO_OP_NOT_FOUND);
            assert_string_equal(r.allow, "");
            assert_int_equal(r.needs_user, 0);
        }
    }
    r = op_of("/docs/tasks", "GET");
    todo_route_drop_docs(&r);
    assert_int_equal(r.op, TODO_OP_LIST);
    assert_string_equal(r.user, "docs");
    r = op_of("/openapi.json", "GET");
    todo_route_drop_docs(&r);
    assert_int_equal(r.op, TODO_OP_OPENAPI);
}

static void test_paths(void **state)
{
    (void)state;
    assert_string_equal(
        todo_route_path(todo_test_pool, "/api", TODO_ROUTE_OPENAPI),
        "/api/openapi.json");
    assert_string_equal(
        todo_route_path(todo_test_pool, "/api", TODO_ROUTE_DOCS_INIT),
        "/api/docs/init.js");
    assert_string_equal(todo_route_path(todo_test_pool, "", TODO_ROUTE_DOCS),
                        "/docs");
    assert_string_equal(
        todo_route_path(todo_test_pool, "/a", TODO_ROUTE_HEALTH), "/a/health");
    /* The canonical shapes, for the Link of a list's next page. */
    assert_string_equal(
        todo_route_path(todo_test_pool, "/api", TODO_ROUTE_TASKS),
        "/api/v1/tasks");
    assert_string_equal(
        todo_route_path(todo_test_pool, "", TODO_ROUTE_CHANGES),
        "/v1/changes");
    assert_null(todo_route_path(todo_test_pool, "/api", TODO_ROUTE_TASK));
    assert_null(todo_route_path(todo_test_pool, "/api", TODO_ROUTE_NONE));
}

/* Write operations name themselves in an Idempotency-Key's fingerprint:
 * each differently, the same in every path shape. */
static void test_op_names(void **state)
{
    static const todo_op_e writes[] = { TODO_OP_CREATE, TODO_OP_REPLACE,
                                        TODO_OP_PATCH, TODO_OP_COMPLETE,
                                        TODO_OP_DELETE };
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        assert_non_null(todo_route_op_name(writes[i]));
        for (j = 0; j < i; j++) {
            assert_string_not_equal(todo_route_op_name(writes[i]),
                                    todo_route_op_name(writes[j]));
        }
    }
    assert_string_equal(
        todo_route_op_name(op_of("/tasks/x", "PATCH").op),
        todo_route_op_name(op_of("/v1/u/tasks/x", "PATCH").op));
    assert_string_equal(todo_route_op_name(TODO_OP_CHANGES), "changes");
}

static void test_task_path(void **state)
{
    (void)state;
    assert_string_equal(todo_route_task_path(todo_test_pool, "/api", "x-1"),
                        "/api/v1/tasks/x-1");
    assert_string_equal(todo_route_task_path(todo_test_pool, "", "y"),
                        "/v1/tasks/y");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_changes),
        cmocka_unit_test(test_canonical_and_alias),
        cmocka_unit_test(test_user_scoped),
        cmocka_unit_test(test_slashes),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_allow),
        cmocka_unit_test(test_drop_docs),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_op_names),
        cmocka_unit_test(test_task_path),
        cmocka_unit_test(test_names),
    };
    return TODO_TEST_MAIN("route", tests, NULL, NULL);
}
