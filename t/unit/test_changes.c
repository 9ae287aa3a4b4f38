/* Unit tests of todo_changes: PostgreSQL snapshot text, sync tokens
 * through every state of a sync, their tamper evidence, the start of a
 * page, and the JSON of a tombstone. */
#include <string.h>
#include <apr_strings.h>
#include "todo_test.h"
#include "todo_changes.h"

static const unsigned char key_bytes[32] = "0123456789abcdef0123456789abcdef";
static const todo_token_key_t key = { key_bytes, 32 };
#define ID "2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c"
#define NIL "00000000-0000-0000-0000-000000000000"

static void test_snapshot_text(void **state)
{
    static const char *const good[] = { "3:3:",
                                        "737:737:",
                                        "10:20:10,14,15",
                                        "10:20:19",
                                        "5000000000:5000000003:5000000001",
                                        "0:0:" };
    static const char *const bad[] = {
        "",
        "10",
        "10:20",
        "10:20:9",
        "10:20:20",
        "10:20:14,12",
        "10:20:14,14",
        "10:20:14,",
        "20:10:",
        "a:20:",
        "10:20: 14",
        "-1:2:",
        "10::",
        "10:20:14x",
        "99999999999999999999:1:",
        /* only the text PostgreSQL writes (found by the fuzzer): what is
         * parsed is bound again as text */
        "737:0750:",
        "010:20:",
        "10:20:014",
    };
    apr_pool_t *p = *state;
    todo_snapshot_t s;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (todo_snapshot_parse(p, good[i], &s)) {
            fail_msg("[%s] refused", good[i]);
        }
        assert_string_equal(todo_snapshot_text(p, &s), good[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (!todo_snapshot_parse(p, bad[i], &s)) {
            fail_msg("[%s] accepted", bad[i]);
        }
    }
    assert_int_equal(todo_snapshot_parse(p, NULL, &s), -1);
    assert_int_equal(todo_snapshot_parse(p, "10:20:10,14,15", &s), 0);
    assert_int_equal(s.nxip, 3);
    assert_true(s.xmin == 10 && s.xmax == 20 && s.xip[2] == 15);
}

/* A snapshot with too many running transactions becomes one that sees
 * nothing from xmin on: it sees less, never more. */
static void test_snapshot_bound(void **state)
{
    apr_pool_t *p = *state;
    todo_snapshot_t s;
    char *text = apr_psprintf(p, "100:%d:", 100 + TODO_SNAPSHOT_MAX_XIP + 1);
    int i;

    for (i = 0; i <= TODO_SNAPSHOT_MAX_XIP; i++) {
        text = apr_psprintf(p, "%s%s%d", text, i ? "," : "", 100 + i);
    }
    assert_int_equal(todo_snapshot_parse(p, "1:9:2,3", &s), 0);
    todo_snapshot_bound(&s);
    assert_string_equal(todo_snapshot_text(p, &s), "1:9:2,3");
    assert_int_equal(todo_snapshot_parse(p, text, &s), 0);
    assert_int_equal(s.nxip, TODO_SNAPSHOT_MAX_XIP + 1);
    todo_snapshot_bound(&s);
    assert_string_equal(todo_snapshot_text(p, &s), "100:100:");
}

static void assert_same(const todo_sync_t *a, const todo_sync_t *b)
{
    int i;

    assert_int_equal(a->full, b->full);
    assert_int_equal(a->more, b->more);
    if (!a->full) {
        assert_true(a->since_time == b->since_time);
        assert_true(a->since.xmin == b->since.xmin);
        assert_true(a->since.xmax == b->since.xmax);
        assert_int_equal(a->since.nxip, b->since.nxip);
        for (i = 0; i < a->since.nxip; i++) {
            assert_true(a->since.xip[i] == b->since.xip[i]);
        }
    }
    if (a->more) {
        assert_true(a->upto_time == b->upto_time);
        assert_true(a->upto.xmin == b->upto.xmin);
        assert_true(a->upto.xmax == b->upto.xmax);
        assert_int_equal(a->upto.nxip, b->upto.nxip);
        assert_true(a->pos_xid == b->pos_xid);
        assert_string_equal(a->pos_id, b->pos_id);
    }
}

/* Every state of a sync survives its token. */
static void test_tokens(void **state)
{
    apr_pool_t *p = *state;
    todo_sync_t t, back;
    const char *tok;
    apr_int64_t xid;
    const char *id;

    memset(&t, 0, sizeof(t));
    /* A full sync, a page to follow (its position can be before every
     * change: -1). */
    t.full = 1;
    t.more = 1;
    t.upto_time = 1700000000;
    assert_int_equal(todo_snapshot_parse(p, "900:905:900,903", &t.upto), 0);
    t.pos_xid = -1;
    t.pos_id = ID;
    tok = todo_changes_token(p, &key, "alice", &t);
    assert_non_null(tok);
    assert_int_equal(todo_changes_open(p, &key, "alice", tok, &back), 0);
    assert_same(&t, &back);
    todo_changes_position(&back, &xid, &id);
    assert_true(xid == -1);
    assert_string_equal(id, ID);

    /* Up to date: the next sync starts at since's xmin. */
    memset(&t, 0, sizeof(t));
    t.since_time = 1700000001;
    assert_int_equal(todo_snapshot_parse(p, "905:905:", &t.since), 0);
    tok = todo_changes_token(p, &key, "alice", &t);
    assert_int_equal(todo_changes_open(p, &key, "alice", tok, &back), 0);
    assert_same(&t, &back);
    todo_changes_position(&back, &xid, &id);
    assert_true(xid == 905);
    assert_string_equal(id, NIL);

    /* A delta sync with a page to follow. */
    t.more = 1;
    t.upto_time = 1700000002;
    assert_int_equal(todo_snapshot_parse(p, "906:950:910,920", &t.upto), 0);
    t.pos_xid = 912;
    t.pos_id = ID;
    tok = todo_changes_token(p, &key, "alice", &t);
    assert_int_equal(todo_changes_open(p, &key, "alice", tok, &back), 0);
    assert_same(&t, &back);
    todo_changes_position(&back, &xid, &id);
    assert_true(xid == 912);

    /* A fresh full sync starts before everything. */
    memset(&t, 0, sizeof(t));
    t.full = 1;
    todo_changes_position(&t, &xid, &id);
    assert_true(xid == -1);
    assert_string_equal(id, NIL);
}

static void test_refused(void **state)
{
    apr_pool_t *p = *state;
    todo_sync_t t, back;
    const char *tok;
    apr_size_t i;

    memset(&t, 0, sizeof(t));
    t.since_time = 1700000001;
    assert_int_equal(todo_snapshot_parse(p, "905:907:906", &t.since), 0);
    tok = todo_changes_token(p, &key, "alice", &t);
    assert_int_equal(todo_changes_open(p, &key, "bob", tok, &back), -1);
    for (i = 0; i < strlen(tok); i++) {
        char *bad = apr_pstrdup(p, tok);

        bad[i] = bad[i] == 'x' ? 'y' : 'x';
        if (todo_changes_open(p, &key, "alice", bad, &back) != -1) {
            fail_msg("altered at %u still opens", (unsigned)i);
        }
    }
    /* A list cursor is not a sync token, nor the reverse. */
    {
        todo_token_w_t w;
        const unsigned char *payload;
        apr_size_t len;

        assert_int_equal(
            todo_token_open(p, &key, "cursor", "alice", tok, &payload, &len),
            -1);
        todo_token_w_init(&w, p);
        todo_token_put_u8(&w, 1);
        todo_token_put_u8(&w, 0);
        assert_int_equal(
            todo_changes_open(
                p, &key, "alice",
                todo_token_seal(p, &key, "cursor", "alice", w.data, w.len),
                &back),
            -1);
        /* Sealed with our key but malformed: trailing bytes, an unknown
         * version or flag, a full sync without a page to follow, an xip
         * outside its snapshot. */
        todo_token_put_varint(&w, 5);
        todo_token_put_varint(&w, 900);
        todo_token_put_varint(&w, 5);
        todo_token_put_varint(&w, 0);
        assert_int_equal(
            todo_changes_open(
                p, &key, "alice",
                todo_token_seal(p, &key, "sync", "alice", w.data, w.len),
                &back),
            0);
        todo_token_put_u8(&w, 0);
        assert_int_equal(
            todo_changes_open(
                p, &key, "alice",
                todo_token_seal(p, &key, "sync", "alice", w.data, w.len),
                &back),
            -1);
        w.data[0] = 2;
        w.len--;
        assert_int_equal(
            todo_changes_open(
                p, &key, "alice",
                todo_token_seal(p, &key, "sync", "alice", w.data, w.len),
                &back),
            -1);
        w.data[0] = 1;
        w.data[1] = 1; /* full, no page to follow */
        assert_int_equal(
            todo_changes_open(
                p, &key, "alice",
                todo_token_seal(p, &key, "sync", "alice", w.data, w.len),
                &back),
            -1);
        w.data[1] = 4;
        assert_int_equal(
            todo_changes_open(
                p, &key, "alice",
                todo_token_seal(p, &key, "sync", "alice", w.data, w.len),
                &back),
            -1);
        /* since 900:905: with one xip 905 (delta 5 from xmin): outside */
        todo_token_w_init(&w, p);
        todo_token_put_u8(&w, 1);
        todo_token_put_u8(&w, 0);
        todo_token_put_varint(&w, 5);
        todo_token_put_varint(&w, 900);
        todo_token_put_varint(&w, 5);
        todo_token_put_varint(&w, 1);
        todo_token_put_varint(&w, 5);
        assert_int_equal(
            todo_changes_open(
                p, &key, "alice",
                todo_token_seal(p, &key, "sync", "alice", w.data, w.len),
                &back),
            -1);
    }
}

static void test_tombstone_json(void **state)
{
    apr_pool_t *p = *state;
    todo_buf_t b;

    todo_buf_init(&b, p, 16);
    todo_changes_json_tombstone(&b, ID, "2026-11-22T10:31:59.979377Z");
    assert_string_equal(todo_buf_cstr(&b),
                        "{\"id\":\"" ID "\",\"deleted\":true,"
                        "\"deleted_at\":\"2026-11-22T10:31:59.979377Z\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        todo_test_with_pool(test_snapshot_text),
        todo_test_with_pool(test_snapshot_bound),
        todo_test_with_pool(test_tokens),
        todo_test_with_pool(test_refused),
        todo_test_with_pool(test_tombstone_json),
    };

    return TODO_TEST_MAIN("todo_changes", tests, NULL, NULL);
}
