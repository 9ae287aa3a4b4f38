/* Unit tests of todo_cursor: a list cursor round-trips its position, is
 * bound to its user, sort and filters (not to limit or offset), and does
 * not open once altered. */
#include <string.h>
#include <apr_strings.h>
#include "todo_test.h"
#include "todo_cursor.h"

static const unsigned char key_bytes[32] = "0123456789abcdef0123456789abcdef";
static const todo_token_key_t key = { key_bytes, 32 };
#define ID "2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c"

static todo_list_query_t base(void)
{
    todo_list_query_t q;

    memset(&q, 0, sizeof(q));
    q.sort = TODO_SORT_TITLE_ASC;
    q.status = TODO_STATUS_PENDING;
    q.limit = 7;
    q.q = "milk";
    q.due_after = "2026-01-01T00:00:00Z";
    return q;
}

static void test_round_trip(void **state)
{
    apr_pool_t *p = *state;
    todo_list_query_t q = base();
    todo_cursor_t c;
    const char *title = "caf\xc3\xa9 \"au lait\"";

    q.cursor = todo_cursor_make(p, &key, "alice", &q, title, ID);
    assert_non_null(q.cursor);
    assert_int_equal(todo_cursor_open(p, &key, "alice", &q, &c),
                     TODO_CURSOR_OK);
    assert_string_equal(c.key, title);
    assert_string_equal(c.id, ID);
    /* Ids come back in canonical lower case. */
    q.cursor =
        todo_cursor_make(p, &key, "alice", &q, "2026-11-22 10:31:59.979377+00",
                         "2F6C1A9E-7A57-4A53-9A4E-0D2B2F3F5B0C");
    assert_int_equal(todo_cursor_open(p, &key, "alice", &q, &c),
                     TODO_CURSOR_OK);
    assert_string_equal(c.id, ID);
    assert_string_equal(c.key, "2026-11-22 10:31:59.979377+00");
    /* An empty key (no title is empty, but the format allows it). */
    q.cursor = todo_cursor_make(p, &key, "alice", &q, "", ID);
    assert_int_equal(todo_cursor_open(p, &key, "alice", &q, &c),
                     TODO_CURSOR_OK);
    assert_string_equal(c.key, "");
}

/* What may change between pages, and what may not. */
static void test_binding(void **state)
{
    apr_pool_t *p = *state;
    todo_list_query_t q = base(), o;
    todo_cursor_t c;
    const char *cur = todo_cursor_make(p, &key, "alice", &q, "k", ID);

    o = q;
    o.cursor = cur;
    o.limit = 100;
    o.offset = 0;
    assert_int_equal(todo_cursor_open(p, &key, "alice", &o, &c),
                     TODO_CURSOR_OK);
#define OTHER(field, value)                                          \
    do {                                                             \
        o = q;                                                       \
        o.cursor = cur;                                              \
        o.field = value;                                             \
        assert_int_equal(todo_cursor_open(p, &key, "alice", &o, &c), \
                         TODO_CURSOR_OTHER_QUERY);                   \
    } while (0)
    OTHER(sort, TODO_SORT_TITLE_DESC);
    OTHER(status, TODO_STATUS_ALL);
    OTHER(q, "milk ");
    OTHER(q, NULL);
    OTHER(due_after, NULL);
    OTHER(due_before, "2026-01-01T00:00:00Z");
    OTHER(updated_since, "2026-01-01T00:00:00Z");
#undef OTHER
    /* Another user's cursor does not open at all. */
    o = q;
    o.cursor = cur;
    assert_int_equal(todo_cursor_open(p, &key, "bob", &o, &c),
                     TODO_CURSOR_ALTERED);
}

static void test_altered(void **state)
{
    apr_pool_t *p = *state;
    todo_list_query_t q = base();
    todo_cursor_t c;
    const char *cur = todo_cursor_make(p, &key, "alice", &q, "k", ID);
    apr_size_t i;

    for (i = 0; i < strlen(cur); i++) {
        char *bad = apr_pstrdup(p, cur);

        bad[i] = bad[i] == 'x' ? 'y' : 'x';
        q.cursor = bad;
        if (todo_cursor_open(p, &key, "alice", &q, &c)
            != TODO_CURSOR_ALTERED) {
            fail_msg("altered at %u still opens", (unsigned)i);
        }
    }
    q.cursor = "AAAA";
    assert_int_equal(todo_cursor_open(p, &key, "alice", &q, &c),
                     TODO_CURSOR_ALTERED);
}

static void test_refused_input(void **state)
{
    apr_pool_t *p = *state;
    todo_list_query_t q = base();
    char *big = apr_palloc(p, TODO_CURSOR_KEY_MAX + 2);

    assert_null(todo_cursor_make(p, &key, "alice", &q, "k", "nope"));
    assert_null(todo_cursor_make(p, &key, "alice", &q, NULL, ID));
    memset(big, 'a', TODO_CURSOR_KEY_MAX + 1);
    big[TODO_CURSOR_KEY_MAX + 1] = '\0';
    assert_null(todo_cursor_make(p, &key, "alice", &q, big, ID));
    big[TODO_CURSOR_KEY_MAX] = '\0';
    assert_non_null(todo_cursor_make(p, &key, "alice", &q, big, ID));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        todo_test_with_pool(test_round_trip),
        todo_test_with_pool(test_binding),
        todo_test_with_pool(test_altered),
        todo_test_with_pool(test_refused_input),
    };

    return TODO_TEST_MAIN("todo_cursor", tests, NULL, NULL);
}
