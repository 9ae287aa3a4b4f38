/* Unit tests of the router: every path shape of SPEC section 3. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <apr_general.h>
#include "todo_route.h"

static apr_pool_t *pool;

static void expect(const char *path, todo_route_e route, const char *user,
                   const char *id)
{
    todo_route_t r;
    todo_route_e got = todo_route_match(pool, path, &r);

    if (got != route) {
        fail_msg("%s: route %d, expected %d", path, got, route);
    }
    assert_int_equal(r.route, route);
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

static void test_methods(void **state)
{
    (void)state;
    assert_int_equal(todo_route_method("GET"), TODO_M_GET);
    assert_int_equal(todo_route_method("PATCH"), TODO_M_PATCH);
    assert_int_equal(todo_route_method("get"), TODO_M_OTHER);
    assert_int_equal(todo_route_method("TRACE"), TODO_M_OTHER);
    assert_int_equal(todo_route_method(NULL), TODO_M_OTHER);

    assert_true(todo_route_allowed(TODO_ROUTE_TASKS) & TODO_M_POST);
    assert_false(todo_route_allowed(TODO_ROUTE_TASKS) & TODO_M_DELETE);
    assert_true(todo_route_allowed(TODO_ROUTE_TASK) & TODO_M_DELETE);
    assert_false(todo_route_allowed(TODO_ROUTE_TASK) & TODO_M_POST);
    assert_int_equal(todo_route_allowed(TODO_ROUTE_TASK_COMPLETE),
                     TODO_M_PATCH | TODO_M_OPTIONS);
    assert_false(todo_route_allowed(TODO_ROUTE_HEALTH) & TODO_M_POST);
    assert_int_equal(todo_route_allowed(TODO_ROUTE_NONE), 0);
    assert_string_equal(todo_route_allow_header(TODO_ROUTE_TASK),
                        "GET, HEAD, PUT, PATCH, DELETE, OPTIONS");
    assert_string_equal(todo_route_allow_header(TODO_ROUTE_TASK_COMPLETE),
                        "PATCH, OPTIONS");
    assert_true(todo_route_needs_user(TODO_ROUTE_TASK));
    assert_false(todo_route_needs_user(TODO_ROUTE_HEALTH));
    assert_false(todo_route_needs_user(TODO_ROUTE_OPENAPI));
    /* The docs page and its script: read-only and public. */
    assert_int_equal(todo_route_allowed(TODO_ROUTE_DOCS),
                     TODO_M_GET | TODO_M_HEAD | TODO_M_OPTIONS);
    assert_int_equal(todo_route_allowed(TODO_ROUTE_DOCS_INIT),
                     TODO_M_GET | TODO_M_HEAD | TODO_M_OPTIONS);
    assert_string_equal(todo_route_allow_header(TODO_ROUTE_DOCS),
                        "GET, HEAD, OPTIONS");
    assert_string_equal(todo_route_allow_header(TODO_ROUTE_DOCS_INIT),
                        "GET, HEAD, OPTIONS");
    assert_false(todo_route_needs_user(TODO_ROUTE_DOCS));
    assert_false(todo_route_needs_user(TODO_ROUTE_DOCS_INIT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_canonical_and_alias),
        cmocka_unit_test(test_user_scoped),
        cmocka_unit_test(test_slashes),
        cmocka_unit_test(test_methods),
    };
    int rc;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    rc = cmocka_run_group_tests_name("route", tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
