/* Unit tests of todo_log: the core's lines reach the installed callback,
 * formatted, at their level, and nothing happens without one. */
#include <string.h>

#include <apr_strings.h>
#include "todo_test.h"
#include "todo_log.h"

typedef struct {
    int lines;
    todo_log_level_e level;
    apr_status_t rv;
    char msg[256];
    todo_log_level_e threshold;
} capture_t;

static int level_ok(void *baton, todo_log_level_e level)
{
    return level <= ((capture_t *)baton)->threshold;
}

static void print(void *baton, const char *file, int line,
                  todo_log_level_e level, apr_status_t rv, const char *msg)
{
    capture_t *c = baton;

    assert_non_null(file);
    assert_true(line > 0);
    c->lines++;
    c->level = level;
    c->rv = rv;
    apr_cpystrn(c->msg, msg, sizeof(c->msg));
}

static void test_callback(void **state)
{
    capture_t c = { 0, TODO_LOG_DEBUG, 0, "", TODO_LOG_WARNING };

    (void)state;
    todo_log_set(level_ok, print, &c);
    todo_log_perror(TODO_LOG_MARK, TODO_LOG_WARNING, APR_ENOENT, NULL,
                    TODO_LOGNO(0999) "%s %d", "x", 7);
    assert_int_equal(c.lines, 1);
    assert_int_equal(c.level, TODO_LOG_WARNING);
    assert_int_equal(c.rv, APR_ENOENT);
    assert_string_equal(c.msg, "TODO0999: x 7");
    /* Below the threshold: not even formatted. */
    todo_log_perror(TODO_LOG_MARK, TODO_LOG_INFO, 0, NULL, "quiet");
    assert_int_equal(c.lines, 1);
    assert_false(todo_log_is_level(TODO_LOG_DEBUG));
    assert_true(todo_log_is_level(TODO_LOG_ERR));
    todo_log_set(NULL, NULL, NULL);
}

static void test_pool_and_long_lines(void **state)
{
    capture_t c = { 0, TODO_LOG_DEBUG, 0, "", TODO_LOG_DEBUG };
    char big[2000];

    todo_log_set(level_ok, print, &c);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    /* Without a pool a line is cut to a fixed buffer, never overrun. */
    todo_log_perror(TODO_LOG_MARK, TODO_LOG_ERR, 0, NULL, "%s", big);
    assert_int_equal(c.lines, 1);
    assert_int_equal(strlen(c.msg), sizeof(c.msg) - 1);
    todo_log_perror(TODO_LOG_MARK, TODO_LOG_ERR, 0, *state, "in %s", "pool");
    assert_string_equal(c.msg, "in pool");
    todo_log_set(NULL, NULL, NULL);
}

static void test_no_callback(void **state)
{
    (void)state;
    todo_log_set(NULL, NULL, NULL);
    assert_false(todo_log_is_level(TODO_LOG_EMERG));
    /* Must not crash. */
    todo_log_perror(TODO_LOG_MARK, TODO_LOG_EMERG, 0, NULL, "dropped");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callback),
        todo_test_with_pool(test_pool_and_long_lines),
        cmocka_unit_test(test_no_callback),
    };

    return TODO_TEST_MAIN("todo_log", tests, NULL, NULL);
}
