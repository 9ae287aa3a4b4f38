/* libFuzzer harness over mod_todo's httpd-free core: everything a client
 * controls passes through one of these functions before any SQL runs.
 * The first byte of an input picks the target (a digit '0'-'9' in the
 * seeds, any byte modulo 10 after mutation); the rest is the input.
 * Besides AddressSanitizer's and UndefinedBehaviorSanitizer's checks, each
 * target asserts what its caller in mod_todo relies on: a value accepted
 * by a parser is inside the documented bounds, a normalised timestamp
 * parses to itself, an If-Match condition becomes nothing but an integer
 * array literal, escaped JSON decodes to the very bytes escaped, no
 * token verifies without a signature made with one of the keys, and no
 * cursor or sync token opens without the token key's tag.
 * Built and run by t/fuzz/run.sh (scripts/test.sh runs it with a fixed
 * seed and run count). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "todo_test.h"
#include "todo_buf.h"
#include "todo_changes.h"
#include "todo_cursor.h"
#include "todo_idem.h"
#include "todo_jwt.h"
#include "todo_query.h"
#include "todo_route.h"
#include "todo_sql.h"
#include "todo_task.h"
#include "todo_text.h"
#include "todo_time.h"
#include "todo_etag.h"

#define CHECK(c)                                                           \
    do {                                                                   \
        if (!(c)) {                                                        \
            fprintf(stderr, "property failed: %s (%s:%d)\n", #c, __FILE__, \
                    __LINE__);                                             \
            abort();                                                       \
        }                                                                  \
    } while (0)

#define ALL_ALGS ((1u << TODO_ALG_COUNT) - 1)
#define NOW 1700000000

static apr_pool_t *root;
static todo_keys_t *hmac_keys, *public_keys;
static const unsigned char secret[] = "fuzz-secret-fuzz-secret-fuzz-sec";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *d, size_t n);

/* ------------------------------------------------------------ set-up */

/* Run the keys' pool cleanups (EVP_PKEY_free) so LeakSanitizer sees a
 * clean exit: a leak it reports is then one of the targets'. */
static void finish(void)
{
    apr_pool_destroy(root);
    apr_terminate();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const pems[] = { "rsa2048.pub.pem", "ecp256.pub.pem",
                                        "ed25519.pub.pem" };
    apr_size_t n;
    const char *err;
    char *text;
    unsigned i;

    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&root, NULL);
    atexit(finish);
    json_object_seed(1);
    hmac_keys = todo_keys_make(root);
    CHECK(!todo_keys_add_secret(hmac_keys, secret, sizeof secret - 1, NULL));
    public_keys = todo_keys_make(root);
    for (i = 0; i < sizeof pems / sizeof pems[0]; i++) {
        text = todo_test_slurp(root, apr_pstrcat(root, "keys/", pems[i], NULL),
                               &n);
        err = todo_keys_add_pem(public_keys, text, n, NULL);
        CHECK(!err);
    }
    text = todo_test_slurp(root, apr_pstrcat(root, "keys/", "jwks.json", NULL),
                           &n);
    CHECK(!todo_keys_add_jwks(public_keys, text, n, NULL));
    return 0;
}

/* --------------------------------------------------------- helpers */

/* The input as a C string (mod_todo's callers hand these functions
 * NUL-terminated strings from httpd; an embedded NUL ends it early). */
static char *cstr(apr_pool_t *p, const unsigned char *d, size_t n)
{
    return apr_pstrmemdup(p, (const char *)d, n);
}

/* The input in a heap block of exactly n bytes, so that reading past the
 * end of a length-delimited buffer is caught.  Free it. */
static char *exact(const unsigned char *d, size_t n)
{
    char *s = malloc(n ? n : 1);

    CHECK(s);
    memcpy(s, d, n);
    return s;
}

/* A normalised timestamp is RFC 3339 and normalises to itself. */
static void check_time(apr_pool_t *p, const char *norm)
{
    const char *again = NULL;

    CHECK(norm);
    CHECK(todo_time_rfc3339_parse(p, norm, &again) == 0);
    CHECK(again && strcmp(norm, again) == 0);
}

static void check_text(const char *s, long min, long max)
{
    long chars = todo_text_utf8_length(s, strlen(s));

    CHECK(chars >= min && chars <= max);
}

/* ---------------------------------------------------------- targets */

/* Request bodies: first byte picks create, replace, patch or complete. */
static void fuzz_task(apr_pool_t *p, const unsigned char *d, size_t n)
{
    apr_array_header_t *details = apr_array_make(p, 2, sizeof(todo_detail_t));
    todo_task_input_t in;
    const char *msg = NULL;
    char *body;
    int st;

    if (!n) {
        return;
    }
    memset(&in, 0, sizeof in);
    body = exact(d + 1, n - 1);
    st = todo_task_parse(p, body, n - 1, (todo_body_kind_e)(d[0] % 4), &in,
                         details, &msg);
    free(body);
    if (st) {
        CHECK(st == 400 || st == 422);
        CHECK(msg && details->nelts > 0);
        return;
    }
    if (in.title) {
        check_text(in.title, 1, 200);
        CHECK(!todo_text_is_blank(in.title));
    }
    if (in.description) {
        check_text(in.description, 0, 1000);
    }
    CHECK(in.priority >= 0 && in.priority <= 3);
    if (in.due_at) {
        check_time(p, in.due_at);
    }
}

static void fuzz_query(apr_pool_t *p, const unsigned char *d, size_t n)
{
    apr_array_header_t *details = apr_array_make(p, 2, sizeof(todo_detail_t));
    todo_list_query_t q;
    int st;

    memset(&q, 0, sizeof q);
    st = todo_query_parse(p, cstr(p, d, n), 20, 100, &q, details);
    if (st) {
        CHECK(st == 400 && details->nelts > 0);
        return;
    }
    CHECK(q.limit >= 1 && q.limit <= 100);
    CHECK(q.offset >= 0 && q.offset <= TODO_OFFSET_MAX);
    CHECK(q.sort < TODO_SORT_COUNT);
    if (q.q) {
        check_text(q.q, 1, TODO_Q_MAX_LEN);
    }
    if (q.due_before) {
        check_time(p, q.due_before);
    }
    if (q.due_after) {
        check_time(p, q.due_after);
    }
    if (q.updated_since) {
        check_time(p, q.updated_since);
    }
}

static void fuzz_route(apr_pool_t *p, const unsigned char *d, size_t n)
{
    static const char *const methods[] = { "GET",     "HEAD",  "POST",
                                           "PUT",     "PATCH", "DELETE",
                                           "OPTIONS", "TRACE" };
    const char *path = cstr(p, d, n);
    todo_route_t r;

    /* The path under a prefix, with every method: the router's answer is
     * always a route it knows, a task id when the route has one, and a
     * token demanded exactly for the task operations. */
    todo_route_resolve(p, todo_route_rel("/api", path), methods[n % 8], &r);
    CHECK(r.route < TODO_ROUTE_COUNT && r.allow != NULL);
    if (r.route == TODO_ROUTE_TASK || r.route == TODO_ROUTE_TASK_COMPLETE) {
        CHECK(r.task_id && *r.task_id);
    }
    if (r.route == TODO_ROUTE_NONE) {
        CHECK(r.op == TODO_OP_NOT_FOUND && !r.needs_user && !*r.allow);
    }
    CHECK(!r.needs_user || r.op >= TODO_OP_LIST);
    todo_route_resolve(p, path, cstr(p, d, n), &r);
}

/* Client timestamps, and the database's text of one. */
static void fuzz_time(apr_pool_t *p, const unsigned char *d, size_t n)
{
    char out[TODO_TIME_LEN + 1];
    const char *norm = NULL;
    char *s = cstr(p, d, n);

    if (todo_time_rfc3339_parse(p, s, &norm) == 0) {
        check_time(p, norm);
    }
    out[TODO_TIME_LEN] = 'x';
    if (todo_time_from_pg(s, out) == 0) {
        CHECK(out[TODO_TIME_LEN - 1] == '\0');
        CHECK(out[TODO_TIME_LEN] == 'x');
        check_time(p, out);
    }
}

/* Header values, and PostgreSQL's error messages. */
static void fuzz_headers(apr_pool_t *p, const unsigned char *d, size_t n)
{
    char *s = cstr(p, d, n);
    const char *vers = todo_etag_match_versions(p, s);
    char code[6];
    size_t i, len;
    int st;

    if (vers) {
        /* Bound as a bigint[] parameter: nothing but digits and commas. */
        len = strlen(vers);
        CHECK(len >= 2 && vers[0] == '{' && vers[len - 1] == '}');
        for (i = 1; i + 1 < len; i++) {
            CHECK((vers[i] >= '0' && vers[i] <= '9') || vers[i] == ',');
        }
    }
    (void)todo_etag_none_match(s, 1);
    (void)todo_etag_none_match(s, 7);
    (void)todo_text_is_json_type(s);
    (void)todo_text_is_uuid(s);
    (void)todo_text_is_blank(s);
    st = todo_sql_error_status(s);
    CHECK(st == 400 || st == 409 || st == 500 || st == 503);
    /* 503 exactly when the connection is not on a primary any more. */
    CHECK((st == 503) == (todo_sql_error_conn(s) != TODO_SQL_CONN_OK));
    if (todo_sql_error_code(s, code)) {
        CHECK(strlen(code) == 5);
    }
    else {
        CHECK(todo_sql_error_conn(s) == TODO_SQL_CONN_OK);
    }
    (void)todo_sql_error_stale_plan(s);
}

static void verify(apr_pool_t *p, const char *tok, size_t len,
                   const todo_jwt_policy_t *pol, int expect_invalid)
{
    const todo_keys_t *sets[2] = { hmac_keys, public_keys };
    const char *reason = NULL;
    todo_jwt_result_t res;
    todo_jwt_status_e st;

    st = todo_jwt_verify(p, tok, len, pol, sets, 2, NOW, &res, &reason);
    if (st != TODO_JWT_OK) {
        CHECK(reason);
        /* Every reason has its class for the metrics' fixed label set. */
        CHECK(todo_jwt_reason_class(reason) != TODO_AUTHF_OTHER);
        return;
    }
    CHECK(!expect_invalid);
    CHECK(res.user && *res.user);
    CHECK(res.alg == TODO_ALG_HS256);
}

/* Header and claims (JSON, split at the first NUL), signed with the
 * secret, so that the claim checks are reached. */
static void fuzz_jwt_signed(apr_pool_t *p, const unsigned char *d, size_t n)
{
    todo_jwt_policy_t pol = { ALL_ALGS, NULL, NULL, 30, "sub" };
    const unsigned char *sep = memchr(d, 0, n);
    size_t hlen = sep ? (size_t)(sep - d) : n;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    todo_buf_t b;

    todo_buf_init(&b, p, 256);
    todo_buf_puts(&b, todo_test_b64url(p, d, hlen));
    todo_buf_putc(&b, '.');
    if (sep) {
        todo_buf_puts(&b, todo_test_b64url(p, sep + 1, n - hlen - 1));
    }
    CHECK(HMAC(EVP_sha256(), secret, sizeof secret - 1,
               (const unsigned char *)b.data, b.len, mac, &maclen));
    todo_buf_putc(&b, '.');
    todo_buf_puts(&b, todo_test_b64url(p, mac, maclen));
    if (n && d[0] == 'i') {
        pol.issuer = "https://issuer.example";
        pol.audience = "todo";
    }
    verify(p, todo_buf_cstr(&b), b.len, &pol, 0);
}

/* Any bytes as a token: without a key's signature nothing verifies. */
static void fuzz_jwt_raw(apr_pool_t *p, const unsigned char *d, size_t n)
{
    todo_jwt_policy_t pol = { ALL_ALGS, NULL, NULL, 30, "sub" };
    char *tok = exact(d, n);

    verify(p, tok, n, &pol, 1);
    free(tok);
}

static void fuzz_keys(apr_pool_t *p, const unsigned char *d, size_t n)
{
    todo_keys_t *ks = todo_keys_make(p);
    char *text = exact(d, n);
    int added = -1;

    if (!todo_keys_add_jwks(ks, text, n, &added)) {
        CHECK(added > 0 && todo_keys_count(ks) == added);
    }
    (void)todo_keys_add_pem(ks, text, n, "k");
    free(text);
}

/* Escaping any valid UTF-8 (NUL included) gives a JSON string of it. */
static void fuzz_json_string(apr_pool_t *p, const unsigned char *d, size_t n)
{
    json_error_t err;
    todo_buf_t b;
    json_t *j;

    if (todo_text_utf8_length((const char *)d, n) < 0) {
        return;
    }
    todo_buf_init(&b, p, 16);
    todo_buf_json_string_n(&b, (const char *)d, n);
    j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!j) {
        fprintf(stderr, "escaped text is not JSON: %s\n", err.text);
        abort();
    }
    CHECK(json_is_string(j) && json_string_length(j) == n);
    CHECK(memcmp(json_string_value(j), d, n) == 0);
    json_decref(j);
}

/* What a client sends to resume or retry -- Idempotency-Key, the
 * changes query, cursors and sync tokens -- and the snapshot text the
 * database returns.  The first byte picks which. */
static void fuzz_sync(apr_pool_t *p, const unsigned char *d, size_t n)
{
    static const todo_token_key_t key = {
        (const unsigned char *)"fuzz-token-key-fuzz-token-key-fu", 32
    };
    apr_array_header_t *details = apr_array_make(p, 2, sizeof(todo_detail_t));
    todo_list_query_t lq;
    todo_changes_query_t cq;
    todo_snapshot_t snap;
    todo_cursor_t cur;
    todo_sync_t t;
    const char *s, *idem, *why;
    size_t i;

    if (!n) {
        return;
    }
    s = cstr(p, d + 1, n - 1);
    switch (d[0] % 4) {
    case 0:
        if (todo_idem_parse_key(p, s, &idem, &why) == 0) {
            CHECK(strlen(idem) >= 1 && strlen(idem) <= TODO_IDEM_KEY_MAX);
            for (i = 0; idem[i]; i++) {
                CHECK(idem[i] >= 0x21 && idem[i] <= 0x7e);
            }
        }
        else {
            CHECK(why);
        }
        break;
    case 1:
        if (todo_snapshot_parse(p, s, &snap) == 0) {
            /* What is bound as a pg_snapshot is what was parsed. */
            CHECK(strcmp(todo_snapshot_text(p, &snap), s) == 0);
            for (i = 0; i < (size_t)snap.nxip; i++) {
                CHECK(snap.xip[i] >= snap.xmin && snap.xip[i] < snap.xmax);
                CHECK(!i || snap.xip[i] > snap.xip[i - 1]);
            }
        }
        break;
    case 2:
        if (todo_query_parse_changes(p, s, 20, 100, &cq, details) == 0) {
            CHECK(cq.limit >= 1 && cq.limit <= 100);
            CHECK(!cq.since || strlen(cq.since) <= TODO_QUERY_TOKEN_MAX);
        }
        else {
            CHECK(details->nelts > 0);
        }
        break;
    default:
        /* Unsealed bytes never open ... */
        memset(&lq, 0, sizeof lq);
        lq.cursor = s;
        CHECK(todo_cursor_open(p, &key, "u", &lq, &cur)
              == TODO_CURSOR_ALTERED);
        CHECK(todo_changes_open(p, &key, "u", s, &t) == -1);
        /* ... and sealed ones are read with care: a payload that opens
         * makes a token that opens the same. */
        lq.cursor = todo_token_seal(p, &key, "cursor", "u", d + 1, n - 1);
        (void)todo_cursor_open(p, &key, "u", &lq, &cur);
        if (todo_changes_open(
                p, &key, "u",
                todo_token_seal(p, &key, "sync", "u", d + 1, n - 1), &t)
            == 0) {
            todo_sync_t again;

            CHECK(todo_changes_open(p, &key, "u",
                                    todo_changes_token(p, &key, "u", &t),
                                    &again)
                  == 0);
            CHECK(again.full == t.full && again.more == t.more);
            if (!t.full) {
                CHECK(todo_snapshot_parse(p, todo_snapshot_text(p, &t.since),
                                          &snap)
                      == 0);
            }
        }
        break;
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *d, size_t n)
{
    static void (*const targets[])(
        apr_pool_t *, const unsigned char *,
        size_t) = { fuzz_task,        fuzz_query,      fuzz_route,   fuzz_time,
                    fuzz_headers,     fuzz_jwt_signed, fuzz_jwt_raw, fuzz_keys,
                    fuzz_json_string, fuzz_sync };
    const unsigned count = sizeof targets / sizeof targets[0];
    unsigned t;
    apr_pool_t *p;

    if (!n) {
        return 0;
    }
    t = d[0] >= '0' && d[0] < '0' + count ? d[0] - '0' : d[0] % count;
    apr_pool_create(&p, root);
    targets[t](p, d + 1, n - 1);
    apr_pool_destroy(p);
    return 0;
}
