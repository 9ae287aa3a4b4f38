/* Unit tests of todo_token: sealed tokens (HMAC-SHA256 over purpose, user
 * and payload, checked against RFC 4231's HMAC vectors' construction),
 * tamper evidence, and the payload writer and reader. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include "todo_test.h"
#include "todo_b64.h"
#include "todo_token.h"

static const unsigned char key_bytes[32] = "0123456789abcdef0123456789abcdef";
static const todo_token_key_t key = { key_bytes, 32 };

/* The token seal() must produce, computed independently. */
static const char *expected(apr_pool_t *p, const char *purpose,
                            const char *user, const char *payload)
{
    unsigned char msg[256], mac[EVP_MAX_MD_SIZE], all[256];
    apr_size_t n = 0, maclen = 0, len = strlen(payload);

    memcpy(msg, purpose, strlen(purpose) + 1);
    n += strlen(purpose) + 1;
    memcpy(msg + n, user, strlen(user) + 1);
    n += strlen(user) + 1;
    memcpy(msg + n, payload, len);
    n += len;
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key_bytes,
                              32, msg, n, mac, sizeof(mac), &maclen));
    memcpy(all, payload, len);
    memcpy(all + len, mac, TODO_TOKEN_TAG_LEN);
    return todo_b64_encode(p, all, len + TODO_TOKEN_TAG_LEN);
}

static void test_seal_and_open(void **state)
{
    apr_pool_t *p = *state;
    const unsigned char *out;
    apr_size_t len;
    const char *t = todo_token_seal(p, &key, "cursor", "alice",
                                    (const unsigned char *)"hello", 5);

    assert_string_equal(t, expected(p, "cursor", "alice", "hello"));
    assert_int_equal(
        todo_token_open(p, &key, "cursor", "alice", t, &out, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "hello", 5);
    /* An empty payload is a token too. */
    t = todo_token_seal(p, &key, "sync", "bob", (const unsigned char *)"", 0);
    assert_int_equal(todo_token_open(p, &key, "sync", "bob", t, &out, &len),
                     0);
    assert_int_equal(len, 0);
}

/* Another purpose, user or key, or any altered character: refused. */
static void test_tamper(void **state)
{
    apr_pool_t *p = *state;
    const unsigned char *out;
    apr_size_t len, i;
    unsigned char other_bytes[32];
    todo_token_key_t other = { other_bytes, 32 };
    const char *t = todo_token_seal(p, &key, "cursor", "alice",
                                    (const unsigned char *)"payload!", 8);
    char *bad;

    memcpy(other_bytes, key_bytes, 32);
    other_bytes[31] ^= 1;
    assert_int_equal(todo_token_open(p, &key, "sync", "alice", t, &out, &len),
                     -1);
    assert_int_equal(todo_token_open(p, &key, "cursor", "alic", t, &out, &len),
                     -1);
    assert_int_equal(
        todo_token_open(p, &key, "cursor", "alice2", t, &out, &len), -1);
    assert_int_equal(
        todo_token_open(p, &other, "cursor", "alice", t, &out, &len), -1);
    for (i = 0; i < strlen(t); i++) {
        bad = apr_pstrdup(p, t);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        if (todo_token_open(p, &key, "cursor", "alice", bad, &out, &len)
            != -1) {
            fail_msg("altered at %u: %s still opens", (unsigned)i, bad);
        }
    }
    /* Cut, extended, not base64url, too short for a tag, too long. */
    assert_int_equal(todo_token_open(p, &key, "cursor", "alice",
                                     apr_pstrndup(p, t, strlen(t) - 1), &out,
                                     &len),
                     -1);
    assert_int_equal(todo_token_open(p, &key, "cursor", "alice",
                                     apr_pstrcat(p, t, "AA", NULL), &out,
                                     &len),
                     -1);
    assert_int_equal(
        todo_token_open(p, &key, "cursor", "alice", "a+b/", &out, &len), -1);
    assert_int_equal(
        todo_token_open(p, &key, "cursor", "alice", "", &out, &len), -1);
    assert_int_equal(
        todo_token_open(p, &key, "cursor", "alice", NULL, &out, &len), -1);
    assert_int_equal(
        todo_token_open(p, &key, "cursor", "alice", "AAAA", &out, &len), -1);
    bad = apr_palloc(p, TODO_TOKEN_MAX + 8);
    memset(bad, 'A', TODO_TOKEN_MAX + 4);
    bad[TODO_TOKEN_MAX + 4] = '\0';
    assert_int_equal(
        todo_token_open(p, &key, "cursor", "alice", bad, &out, &len), -1);
}

static void test_varints(void **state)
{
    static const apr_uint64_t values[] = { 0,
                                           1,
                                           127,
                                           128,
                                           300,
                                           16383,
                                           16384,
                                           APR_UINT64_C(0xffffffff),
                                           APR_UINT64_C(0x7fffffffffffffff),
                                           APR_UINT64_C(0xffffffffffffffff) };
    apr_pool_t *p = *state;
    todo_token_w_t w;
    todo_token_r_t r;
    apr_uint64_t v;
    size_t i;

    todo_token_w_init(&w, p);
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        todo_token_put_varint(&w, values[i]);
    }
    assert_int_equal(w.data[0], 0);
    assert_int_equal(w.data[3], 0x80); /* 128: 0x80 0x01 */
    assert_int_equal(w.data[4], 0x01);
    todo_token_r_init(&r, w.data, w.len);
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_int_equal(todo_token_get_varint(&r, &v), 0);
        assert_true(v == values[i]);
    }
    assert_true(todo_token_r_done(&r));
    assert_int_equal(todo_token_get_varint(&r, &v), -1); /* at the end */
    assert_false(todo_token_r_done(&r));                 /* and failed */

    /* One spelling per value: no padded zero groups, nothing past 64
     * bits, no unterminated number. */
    {
        static const unsigned char padded[] = { 0x81, 0x00 };
        static const unsigned char big[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
                                             0xff, 0xff, 0xff, 0xff, 0x02 };
        static const unsigned char unended[] = { 0x81, 0x81 };

        todo_token_r_init(&r, padded, sizeof(padded));
        assert_int_equal(todo_token_get_varint(&r, &v), -1);
        todo_token_r_init(&r, big, sizeof(big));
        assert_int_equal(todo_token_get_varint(&r, &v), -1);
        todo_token_r_init(&r, unended, sizeof(unended));
        assert_int_equal(todo_token_get_varint(&r, &v), -1);
    }
}

static void test_fields(void **state)
{
    apr_pool_t *p = *state;
    todo_token_w_t w;
    todo_token_r_t r;
    const char *s, *id;
    apr_size_t n;
    unsigned u;
    char b[3];

    todo_token_w_init(&w, p);
    todo_token_put_u8(&w, 7);
    todo_token_put_str(&w, "lower title", 11);
    todo_token_put_bytes(&w, "xyz", 3);
    assert_int_equal(
        todo_token_put_uuid(&w, "2F6C1A9E-7A57-4A53-9A4E-0D2B2F3F5B0C"), 0);
    assert_int_equal(todo_token_put_uuid(&w, "not-a-uuid"), -1);
    assert_int_equal(todo_token_put_uuid(&w, NULL), -1);
    /* Enough to grow the buffer several times. */
    for (n = 0; n < 100; n++) {
        todo_token_put_str(&w, "0123456789", 10);
    }

    todo_token_r_init(&r, w.data, w.len);
    assert_int_equal(todo_token_get_u8(&r, &u), 0);
    assert_int_equal(u, 7);
    assert_int_equal(todo_token_get_str(&r, p, 64, &s, &n), 0);
    assert_string_equal(s, "lower title");
    assert_int_equal(n, 11);
    assert_int_equal(todo_token_get_bytes(&r, b, 3), 0);
    assert_memory_equal(b, "xyz", 3);
    assert_int_equal(todo_token_get_uuid(&r, p, &id), 0);
    assert_string_equal(id, "2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c");
    for (n = 0; n < 100; n++) {
        assert_int_equal(todo_token_get_str(&r, p, 10, &s, NULL), 0);
    }
    assert_true(todo_token_r_done(&r));

    /* A string longer than allowed, or than what is left. */
    todo_token_r_init(&r, w.data, w.len);
    assert_int_equal(todo_token_get_u8(&r, &u), 0);
    assert_int_equal(todo_token_get_str(&r, p, 10, &s, &n), -1);
    todo_token_r_init(&r, w.data + 1, 5);
    assert_int_equal(todo_token_get_str(&r, p, 64, &s, &n), -1);
    /* Bytes past the end. */
    todo_token_r_init(&r, w.data, 2);
    assert_int_equal(todo_token_get_bytes(&r, b, 3), -1);
    todo_token_r_init(&r, w.data, 15);
    assert_int_equal(todo_token_get_uuid(&r, p, &id), -1);
    todo_token_r_init(&r, w.data, 0);
    assert_int_equal(todo_token_get_u8(&r, &u), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        todo_test_with_pool(test_seal_and_open),
        todo_test_with_pool(test_tamper),
        todo_test_with_pool(test_varints),
        todo_test_with_pool(test_fields),
    };

    return TODO_TEST_MAIN("todo_token", tests, NULL, NULL);
}
