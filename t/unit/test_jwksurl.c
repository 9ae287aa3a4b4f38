/* Unit tests of todo_fetch and todo_jwks against a tiny HTTP/1.0 server
 * run in a thread on 127.0.0.1.  The server serves a JWKS the test can
 * swap (key rotation) or break, and counts requests. */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_network_io.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "todo_test.h"
#include "todo_fetch.h"
#include "todo_jwksurl.h"
#include "todo_jwt.h"
#include "todo_log.h"

#ifndef TODO_TEST_DATA
#error "TODO_TEST_DATA must name the t/data directory"
#endif

#define NOW ((apr_int64_t)1700000000)
/* Tests that need a refetch sleep past INTERVAL; tests that need none use
 * LONG, so that a slow run (valgrind) cannot turn "too soon" into "due". */
#define INTERVAL apr_time_from_msec(200)
#define LONG apr_time_from_sec(60)
#define TIMEOUT apr_time_from_sec(5)

static EVP_PKEY *ed_priv;
static const char *jwks_v1; /* t/data/keys/jwks.json */
static const char *jwks_v2; /* the same keys, Ed25519 under kid ed-2 */

/* ------------------------------------------------------------ server */

typedef struct {
    apr_socket_t *listener;
    apr_port_t port;
    apr_thread_t *thread;
    apr_thread_mutex_t *mutex; /* guards the fields below */
    int status;                /* answer to /jwks */
    const char *body;          /* copied by the server thread */
    apr_interval_time_t delay; /* before answering /jwks */
    unsigned jwks_requests;
    int stop;
} server_t;

static server_t server;

static void server_set(int status, const char *body, apr_interval_time_t delay)
{
    apr_thread_mutex_lock(server.mutex);
    server.status = status;
    server.body = body;
    server.delay = delay;
    apr_thread_mutex_unlock(server.mutex);
}

static unsigned server_requests(void)
{
    unsigned n;

    apr_thread_mutex_lock(server.mutex);
    n = server.jwks_requests;
    apr_thread_mutex_unlock(server.mutex);
    return n;
}

static void server_reset(void)
{
    apr_thread_mutex_lock(server.mutex);
    server.jwks_requests = 0;
    apr_thread_mutex_unlock(server.mutex);
    server_set(200, jwks_v1, 0);
}

/* The request path, or NULL. */
static const char *server_read_path(apr_pool_t *p, apr_socket_t *s)
{
    char buf[8192];
    apr_size_t have = 0;
    char *sp, *end;

    while (have < sizeof(buf) - 1) {
        apr_size_t n = sizeof(buf) - 1 - have;

        if (apr_socket_recv(s, buf + have, &n) != APR_SUCCESS || n == 0) {
            return NULL;
        }
        have += n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n")) {
            break;
        }
    }
    if (strncmp(buf, "GET ", 4) != 0 || (sp = strchr(buf + 4, ' ')) == NULL) {
        return NULL;
    }
    end = sp;
    return apr_pstrmemdup(p, buf + 4, (apr_size_t)(end - buf - 4));
}

static void server_send(apr_socket_t *s, apr_pool_t *p, int status,
                        const char *extra, const char *body, apr_size_t len)
{
    const char *head =
        apr_psprintf(p,
                     "HTTP/1.0 %d X\r\nContent-Type: "
                     "application/json\r\nContent-Length: %" APR_SIZE_T_FMT
                     "\r\n%sConnection: close"
                     "\r\n\r\n",
                     status, len, extra);
    apr_size_t n = strlen(head);

    apr_socket_send(s, head, &n);
    while (len > 0) {
        n = len;
        if (apr_socket_send(s, body, &n) != APR_SUCCESS) {
            break;
        }
        body += n;
        len -= n;
    }
}

static void server_answer(apr_pool_t *p, apr_socket_t *s, const char *path)
{
    int status, hops;
    const char *body;
    apr_interval_time_t delay;

    if (sscanf(path, "/redir/%d", &hops) == 1) {
        server_send(s, p, 302,
                    hops > 0
                        ? apr_psprintf(p, "Location: /redir/%d\r\n", hops - 1)
                        : "Location: /jwks\r\n",
                    "", 0);
        return;
    }
    if (strcmp(path, "/tofile") == 0) {
        server_send(s, p, 302, "Location: file:///etc/passwd\r\n", "", 0);
        return;
    }
    if (strcmp(path, "/toftp") == 0) {
        /* curl would follow this one by default */
        server_send(s, p, 302, "Location: ftp://127.0.0.1:1/jwks\r\n", "", 0);
        return;
    }
    if (strcmp(path, "/big") == 0) {
        apr_size_t n = TODO_FETCH_MAX_BYTES + 1000;
        char *big = apr_palloc(p, n);

        memset(big, ' ', n);
        server_send(s, p, 200, "", big, n);
        return;
    }
    if (strcmp(path, "/jwks") != 0) {
        server_send(s, p, 404, "", "{}", 2);
        return;
    }
    apr_thread_mutex_lock(server.mutex);
    server.jwks_requests++;
    status = server.status;
    body = apr_pstrdup(p, server.body);
    delay = server.delay;
    apr_thread_mutex_unlock(server.mutex);
    if (delay) {
        apr_sleep(delay);
    }
    server_send(s, p, status, "", body, strlen(body));
}

static void *APR_THREAD_FUNC server_main(apr_thread_t *t, void *data)
{
    apr_pool_t *p;

    (void)data;
    /* The thread's own pool: pools are not shared between threads. */
    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    for (;;) {
        apr_socket_t *c;
        const char *path;
        int stop;

        apr_pool_clear(p);
        if (apr_socket_accept(&c, server.listener, p) != APR_SUCCESS) {
            continue;
        }
        apr_thread_mutex_lock(server.mutex);
        stop = server.stop;
        apr_thread_mutex_unlock(server.mutex);
        if (stop) {
            apr_socket_close(c);
            break;
        }
        apr_socket_timeout_set(c, apr_time_from_sec(5));
        if ((path = server_read_path(p, c)) != NULL) {
            server_answer(p, c, path);
        }
        apr_socket_shutdown(c, APR_SHUTDOWN_WRITE);
        apr_socket_close(c);
    }
    apr_pool_destroy(p);
    /* Return rather than apr_thread_exit(): its pthread_exit() trips
     * AddressSanitizer. */
    (void)t;
    return NULL;
}

static apr_port_t listen_on_loopback(apr_socket_t **s)
{
    apr_sockaddr_t *sa, *local;

    assert_int_equal(apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0,
                                           todo_test_pool),
                     APR_SUCCESS);
    assert_int_equal(apr_socket_create(s, APR_INET, SOCK_STREAM, APR_PROTO_TCP,
                                       todo_test_pool),
                     APR_SUCCESS);
    apr_socket_opt_set(*s, APR_SO_REUSEADDR, 1);
    assert_int_equal(apr_socket_bind(*s, sa), APR_SUCCESS);
    assert_int_equal(apr_socket_listen(*s, 16), APR_SUCCESS);
    assert_int_equal(apr_socket_addr_get(&local, APR_LOCAL, *s), APR_SUCCESS);
    return local->port;
}

/* Wake the blocking accept() with one last connection, then join. */
static void server_stop(void)
{
    apr_sockaddr_t *sa;
    apr_socket_t *s;
    apr_status_t rv;

    apr_thread_mutex_lock(server.mutex);
    server.stop = 1;
    apr_thread_mutex_unlock(server.mutex);
    apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, server.port, 0,
                          todo_test_pool);
    apr_socket_create(&s, APR_INET, SOCK_STREAM, APR_PROTO_TCP,
                      todo_test_pool);
    apr_socket_connect(s, sa);
    apr_socket_close(s);
    apr_thread_join(&rv, server.thread);
    apr_socket_close(server.listener);
}

static const char *url(const char *path)
{
    return apr_psprintf(todo_test_pool, "http://127.0.0.1:%u%s",
                        (unsigned)server.port, path);
}

/* ----------------------------------------------------------- helpers */

/* An EdDSA token signed with the test key, with the given kid (or none). */
static const char *ed_token(const char *kid)
{
    const char *h = kid ? apr_psprintf(todo_test_pool,
                                       "{\"alg\":\"EdDSA\",\"kid\":"
                                       "\"%s\"}",
                                       kid)
                        : "{\"alg\":\"EdDSA\"}";
    const char *pl = "{\"sub\":\"alice\",\"exp\":1700000600}";
    const char *input = apr_pstrcat(
        todo_test_pool, todo_test_b64url(todo_test_pool, h, strlen(h)), ".",
        todo_test_b64url(todo_test_pool, pl, strlen(pl)), NULL);
    return todo_test_sign_ed25519(todo_test_pool, ed_priv, input);
}

/* Thread-safe: only its own pool p is used. */
static todo_jwt_status_e verify_p(apr_pool_t *p, const todo_keys_t *ks,
                                  const char *token)
{
    todo_jwt_policy_t pol = { TODO_ALG_BIT(TODO_ALG_EDDSA), NULL, NULL, 0,
                              "sub" };
    const todo_keys_t *sets[1];
    todo_jwt_result_t res;
    const char *reason;

    sets[0] = ks;
    return todo_jwt_verify(p, token, strlen(token), &pol, sets, 1, NOW, &res,
                           &reason);
}

static todo_jwt_status_e verify(const todo_keys_t *ks, const char *token)
{
    return verify_p(todo_test_pool, ks, token);
}

/* -------------------------------------------------------- fixtures */

static int group_setup(void **state)
{
    BIO *bio;
    char *pem, *at;

    (void)state;
    todo_fetch_global_init();
    todo_fetch_global_init(); /* harmless twice, as httpd does */

    pem = todo_test_slurp(
        todo_test_pool,
        apr_pstrcat(todo_test_pool, "keys/", "ed25519.key.pem", NULL), NULL);
    bio = BIO_new_mem_buf(pem, -1);
    ed_priv = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(ed_priv);
    jwks_v1 = todo_test_slurp(
        todo_test_pool,
        apr_pstrcat(todo_test_pool, "keys/", "jwks.json", NULL), NULL);
    /* Rotation: the Ed25519 key is republished under a new kid. */
    jwks_v2 = apr_pstrdup(todo_test_pool, jwks_v1);
    at = strstr(jwks_v2, "\"ed-1\"");
    assert_non_null(at);
    at[4] = '2';

    assert_int_equal(apr_thread_mutex_create(&server.mutex,
                                             APR_THREAD_MUTEX_DEFAULT,
                                             todo_test_pool),
                     APR_SUCCESS);
    server.port = listen_on_loopback(&server.listener);
    server_set(200, jwks_v1, 0);
    assert_int_equal(apr_thread_create(&server.thread, NULL, server_main, NULL,
                                       todo_test_pool),
                     APR_SUCCESS);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    server_stop();
    EVP_PKEY_free(ed_priv);
    curl_global_cleanup();
    return 0;
}

static int test_setup(void **state)
{
    apr_pool_t *p;

    server_reset();
    apr_pool_create(&p, todo_test_pool);
    *state = p;
    return 0;
}

static int test_teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

/* ------------------------------------------------------------- fetch */

static void test_check_url(void **state)
{
    apr_pool_t *p = *state;

    assert_null(todo_fetch_check_url(p, "https://auth.example.com/jwks"));
    assert_null(todo_fetch_check_url(p, "http://localhost:3000/api/jwks"));
    assert_null(todo_fetch_check_url(p, "HTTPS://EXAMPLE.COM"));
    assert_null(todo_fetch_check_url(p, "http://[::1]:8080/jwks"));
    assert_non_null(todo_fetch_check_url(p, NULL));
    assert_non_null(todo_fetch_check_url(p, ""));
    assert_non_null(todo_fetch_check_url(p, "file:///etc/passwd"));
    assert_non_null(todo_fetch_check_url(p, "ftp://example.com/jwks"));
    assert_non_null(todo_fetch_check_url(p, "gopher://example.com/"));
    assert_non_null(todo_fetch_check_url(p, "/api/auth/jwks"));
    assert_non_null(todo_fetch_check_url(p, "example.com/jwks"));
    assert_non_null(todo_fetch_check_url(p, "http://"));
    assert_non_null(todo_fetch_check_url(p, "https:///jwks"));
    assert_non_null(todo_fetch_check_url(p, "http:jwks"));
}

static void test_fetch_get(void **state)
{
    apr_pool_t *p = *state;
    char *body;
    apr_size_t len;
    const char *err;
    apr_time_t start;

    assert_int_equal(
        todo_fetch_get(p, url("/jwks"), TIMEOUT, &body, &len, &err),
        APR_SUCCESS);
    assert_null(err);
    assert_int_equal(len, strlen(jwks_v1));
    assert_string_equal(body, jwks_v1);

    assert_int_not_equal(
        todo_fetch_get(p, url("/nothing"), TIMEOUT, &body, &len, &err),
        APR_SUCCESS);
    assert_string_equal(err, "HTTP status 404");
    assert_null(body);

    assert_int_not_equal(
        todo_fetch_get(p, url("/big"), TIMEOUT, &body, &len, &err),
        APR_SUCCESS);
    assert_non_null(strstr(err, "larger than"));

    /* At most 3 redirects, and only to http(s). */
    assert_int_equal(
        todo_fetch_get(p, url("/redir/2"), TIMEOUT, &body, &len, &err),
        APR_SUCCESS);
    assert_string_equal(body, jwks_v1);
    assert_int_not_equal(
        todo_fetch_get(p, url("/redir/3"), TIMEOUT, &body, &len, &err),
        APR_SUCCESS);
    assert_non_null(err);
    assert_int_not_equal(
        todo_fetch_get(p, url("/tofile"), TIMEOUT, &body, &len, &err),
        APR_SUCCESS);
    assert_string_equal(err, curl_easy_strerror(CURLE_UNSUPPORTED_PROTOCOL));
    assert_null(body);
    assert_int_not_equal(
        todo_fetch_get(p, url("/toftp"), TIMEOUT, &body, &len, &err),
        APR_SUCCESS);
    assert_string_equal(err, curl_easy_strerror(CURLE_UNSUPPORTED_PROTOCOL));
    assert_int_not_equal(
        todo_fetch_get(p, "file:///etc/passwd", TIMEOUT, &body, &len, &err),
        APR_SUCCESS);
    assert_non_null(err);

    /* Bounded in time. */
    server_set(200, jwks_v1, apr_time_from_msec(1500));
    start = apr_time_now();
    assert_int_not_equal(todo_fetch_get(p, url("/jwks"),
                                        apr_time_from_msec(200), &body, &len,
                                        &err),
                         APR_SUCCESS);
    assert_true(apr_time_now() - start < apr_time_from_msec(1200));
    assert_non_null(err);
    apr_sleep(apr_time_from_msec(1500)); /* let the server finish */
}

/* -------------------------------------------------------------- jwks */

static apr_port_t closed_port(void)
{
    apr_socket_t *s;
    apr_port_t port = listen_on_loopback(&s);

    apr_socket_close(s);
    return port;
}

static void test_first_acquire_fetches(void **state)
{
    apr_pool_t *p = *state;
    todo_jwksurl_t *r = todo_jwksurl_make(p, url("/jwks"), LONG, TIMEOUT);
    const todo_keys_t *a, *b, *c;
    const char *err = NULL;

    assert_non_null(r);
    /* make() fetches nothing. */
    assert_int_equal(todo_jwksurl_fetches(r), 0);
    assert_int_equal(server_requests(), 0);

    a = todo_jwksurl_acquire(r, 0, &err);
    assert_non_null(a);
    assert_int_equal(todo_keys_count(a), 5);
    assert_int_equal(todo_jwksurl_fetches(r), 1);
    assert_int_equal(server_requests(), 1);
    assert_int_equal(verify(a, ed_token("ed-1")), TODO_JWT_OK);

    /* No refresh asked: no refetch. */
    b = todo_jwksurl_acquire(r, 0, &err);
    assert_ptr_equal(a, b);
    /* Refresh asked within the interval: still no refetch. */
    c = todo_jwksurl_acquire(r, 1, &err);
    assert_ptr_equal(a, c);
    assert_int_equal(todo_jwksurl_fetches(r), 1);
    assert_int_equal(server_requests(), 1);
    todo_jwksurl_release(r, a);
    todo_jwksurl_release(r, b);
    todo_jwksurl_release(r, c);
    todo_jwksurl_release(r, NULL);
}

static void test_rotation(void **state)
{
    apr_pool_t *p = *state;
    todo_jwksurl_t *r = todo_jwksurl_make(p, url("/jwks"), INTERVAL, TIMEOUT);
    const todo_keys_t *v1, *v2, *again;
    const char *err = NULL;
    const char *old_token = ed_token("ed-1"), *new_token = ed_token("ed-2");

    v1 = todo_jwksurl_acquire(r, 0, &err);
    assert_non_null(v1);
    server_set(200, jwks_v2, 0);
    /* The issuer rotated: a token with the new kid is unknown. */
    assert_int_equal(verify(v1, new_token), TODO_JWT_UNKNOWN_KID);
    assert_int_equal(server_requests(), 1);

    apr_sleep(INTERVAL + apr_time_from_msec(50));
    v2 = todo_jwksurl_acquire(r, 1, &err);
    assert_non_null(v2);
    assert_ptr_not_equal(v1, v2);
    assert_int_equal(todo_jwksurl_fetches(r), 2);
    assert_int_equal(server_requests(), 2);
    assert_int_equal(verify(v2, new_token), TODO_JWT_OK);
    assert_int_equal(verify(v2, old_token), TODO_JWT_UNKNOWN_KID);
    /* The replaced set stays valid while it is held. */
    assert_int_equal(todo_jwksurl_sets(r), 2);
    assert_int_equal(verify(v1, old_token), TODO_JWT_OK);
    todo_jwksurl_release(r, v1); /* last reference: destroyed */
    assert_int_equal(todo_jwksurl_sets(r), 1);
    again = todo_jwksurl_acquire(r, 0, &err);
    assert_ptr_equal(again, v2);
    todo_jwksurl_release(r, again);
    todo_jwksurl_release(r, v2);
    /* The remote keeps its current set. */
    assert_int_equal(todo_jwksurl_sets(r), 1);
    assert_int_equal(verify(v2, new_token), TODO_JWT_OK);
}

static void test_failed_refetch_keeps_set(void **state)
{
    apr_pool_t *p = *state;
    todo_jwksurl_t *r = todo_jwksurl_make(p, url("/jwks"), INTERVAL, TIMEOUT);
    const todo_keys_t *v1, *ks;
    const char *err = NULL;
    static const struct {
        int status;
        const char *body;
    } broken[] = {
        { 500, "{\"error\":\"boom\"}" },
        { 200, "not json at all" },
        { 200, "{\"keys\":[]}" },
        { 200, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}" },
        { 404, "" },
    };
    size_t i;

    v1 = todo_jwksurl_acquire(r, 0, &err);
    assert_non_null(v1);
    for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        server_set(broken[i].status, broken[i].body, 0);
        apr_sleep(INTERVAL + apr_time_from_msec(20));
        ks = todo_jwksurl_acquire(r, 1, &err);
        assert_ptr_equal(ks, v1);
        assert_int_equal(todo_jwksurl_fetches(r), i + 2);
        assert_int_equal(server_requests(), i + 2);
        assert_int_equal(verify(ks, ed_token("ed-1")), TODO_JWT_OK);
        todo_jwksurl_release(r, ks);
    }
    assert_int_equal(todo_jwksurl_sets(r), 1);
    /* Healthy again: the next refresh replaces the set. */
    server_set(200, jwks_v2, 0);
    apr_sleep(INTERVAL + apr_time_from_msec(20));
    ks = todo_jwksurl_acquire(r, 1, &err);
    assert_ptr_not_equal(ks, v1);
    assert_int_equal(verify(ks, ed_token("ed-2")), TODO_JWT_OK);
    todo_jwksurl_release(r, ks);
    todo_jwksurl_release(r, v1);
    assert_int_equal(todo_jwksurl_sets(r), 1);
}

/* ------------------------------------------------------------ logging */

typedef struct {
    int warnings, notices;
    char last[512];
} log_capture_t;

static log_capture_t logged;

static void capture(void *baton, const char *file, int line,
                    todo_log_level_e level, apr_status_t rv, const char *msg)
{
    (void)baton;
    (void)file;
    (void)line;
    (void)rv;
    if (level == TODO_LOG_WARNING) {
        logged.warnings++;
    }
    else if (level == TODO_LOG_NOTICE) {
        logged.notices++;
    }
    else {
        return;
    }
    apr_cpystrn(logged.last, msg, sizeof(logged.last));
}

/* A key-rotation outage shows in the log: each failed refresh is a
 * warning, at most one per refresh interval, and the recovery a notice;
 * meanwhile the keys already loaded keep verifying. */
static void test_failed_refresh_logged(void **state)
{
    apr_pool_t *p = *state;
    todo_jwksurl_t *r = todo_jwksurl_make(p, url("/jwks"), INTERVAL, TIMEOUT);
    const todo_keys_t *v1, *ks;
    const char *err = NULL;
    int i;

    memset(&logged, 0, sizeof(logged));
    todo_log_set(NULL, capture, NULL);
    v1 = todo_jwksurl_acquire(r, 0, &err);
    assert_non_null(v1);
    assert_int_equal(logged.warnings, 0);
    server_set(500, "{}", 0);
    apr_sleep(INTERVAL + apr_time_from_msec(20));
    ks = todo_jwksurl_acquire(r, 1, &err);
    assert_ptr_equal(ks, v1);
    assert_int_equal(verify(ks, ed_token("ed-1")), TODO_JWT_OK);
    todo_jwksurl_release(r, ks);
    assert_int_equal(logged.warnings, 1);
    assert_non_null(strstr(logged.last, "TODO0105: JWKS URL http://"));
    assert_non_null(strstr(logged.last, "HTTP status 500"));
    assert_non_null(strstr(logged.last, "still verifying with the 5 key(s)"));
    /* Unknown kids within the interval fetch nothing and log nothing. */
    for (i = 0; i < 5; i++) {
        ks = todo_jwksurl_acquire(r, 1, &err);
        todo_jwksurl_release(r, ks);
    }
    assert_int_equal(todo_jwksurl_fetches(r), 2);
    assert_int_equal(logged.warnings, 1);
    /* The next failed refresh, an interval later, is logged again. */
    apr_sleep(INTERVAL + apr_time_from_msec(20));
    ks = todo_jwksurl_acquire(r, 1, &err);
    todo_jwksurl_release(r, ks);
    assert_int_equal(logged.warnings, 2);
    assert_non_null(strstr(logged.last, "2 failed fetch(es) in a row"));
    /* Back: one notice with the count of failures. */
    server_set(200, jwks_v1, 0);
    apr_sleep(INTERVAL + apr_time_from_msec(20));
    ks = todo_jwksurl_acquire(r, 1, &err);
    todo_jwksurl_release(r, ks);
    todo_jwksurl_release(r, v1);
    assert_int_equal(logged.notices, 1);
    assert_non_null(strstr(logged.last, "TODO0106: JWKS URL"));
    assert_non_null(strstr(logged.last, "after 2 failed fetch(es)"));
    todo_log_set(NULL, NULL, NULL);
}

static void test_first_load_failures(void **state)
{
    apr_pool_t *p = *state;
    const char *dead_url =
        apr_psprintf(p, "http://127.0.0.1:%u/jwks", (unsigned)closed_port());
    todo_jwksurl_t *slow = todo_jwksurl_make(p, dead_url, LONG, TIMEOUT);
    todo_jwksurl_t *fast = todo_jwksurl_make(p, dead_url, INTERVAL, TIMEOUT);
    todo_jwksurl_t *r = todo_jwksurl_make(p, url("/jwks"), INTERVAL, TIMEOUT);
    const todo_keys_t *ks;
    const char *err = NULL, *err2 = NULL;

    ks = todo_jwksurl_acquire(slow, 0, &err);
    assert_null(ks);
    assert_non_null(err);
    assert_non_null(strstr(err, "JWKS fetch failed"));
    assert_int_equal(todo_jwksurl_fetches(slow), 1);
    /* Not hammered: retries wait min(interval, 5 s), refresh or not. */
    assert_null(todo_jwksurl_acquire(slow, 1, &err2));
    assert_null(todo_jwksurl_acquire(slow, 0, &err2));
    assert_int_equal(todo_jwksurl_fetches(slow), 1);
    assert_string_equal(err2, err);

    /* With a short interval the retry comes sooner; the same failure
     * gives the very same (kept) text. */
    assert_null(todo_jwksurl_acquire(fast, 0, &err));
    apr_sleep(INTERVAL + apr_time_from_msec(20));
    assert_null(todo_jwksurl_acquire(fast, 0, &err2));
    assert_int_equal(todo_jwksurl_fetches(fast), 2);
    assert_ptr_equal(err2, err);

    /* An HTTP error, then garbage, then success. */
    server_set(503, "{}", 0);
    assert_null(todo_jwksurl_acquire(r, 0, &err));
    assert_string_equal(err, "JWKS fetch failed: HTTP status 503");
    server_set(200, "[1,2,3]", 0);
    apr_sleep(INTERVAL + apr_time_from_msec(20));
    assert_null(todo_jwksurl_acquire(r, 0, &err));
    assert_non_null(strstr(err, "JWKS rejected"));
    server_set(200, jwks_v1, 0);
    apr_sleep(INTERVAL + apr_time_from_msec(20));
    ks = todo_jwksurl_acquire(r, 0, &err);
    assert_non_null(ks);
    assert_int_equal(todo_jwksurl_fetches(r), 3);
    assert_int_equal(server_requests(), 3);
    todo_jwksurl_release(r, ks);
}

typedef struct {
    todo_jwksurl_t *remote;
    int id;
    int failures;
    const char *token;
} worker_t;

/* Acquire, verify, release, in a loop, with refreshes now and then. */
static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    worker_t *w = data;
    apr_pool_t *p;
    int i;

    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    for (i = 0; i < 200; i++) {
        const char *err = NULL;
        const todo_keys_t *ks =
            todo_jwksurl_acquire(w->remote, i % 7 == 0, &err);

        if (ks == NULL || verify_p(p, ks, w->token) != TODO_JWT_OK) {
            w->failures++;
        }
        todo_jwksurl_release(w->remote, ks);
        apr_pool_clear(p);
        if (i % 20 == 0) {
            apr_sleep(apr_time_from_msec(5));
        }
    }
    apr_pool_destroy(p);
    /* Return rather than apr_thread_exit(): its pthread_exit() trips
     * AddressSanitizer. */
    (void)t;
    return NULL;
}

static void test_threads(void **state)
{
    apr_pool_t *p = *state;
    todo_jwksurl_t *r =
        todo_jwksurl_make(p, url("/jwks"), apr_time_from_msec(10), TIMEOUT);
    apr_thread_t *th[4];
    worker_t w[4];
    apr_status_t rv;
    int i;
    /* Without kid, the token verifies under every version of the JWKS. */
    const char *tok = ed_token(NULL);

    for (i = 0; i < 4; i++) {
        w[i].remote = r;
        w[i].id = i;
        w[i].failures = 0;
        w[i].token = tok;
        assert_int_equal(apr_thread_create(&th[i], NULL, worker, &w[i], p),
                         APR_SUCCESS);
    }
    /* Rotate under their feet. */
    for (i = 0; i < 10; i++) {
        apr_sleep(apr_time_from_msec(30));
        server_set(200, i % 2 ? jwks_v1 : jwks_v2, 0);
    }
    for (i = 0; i < 4; i++) {
        apr_thread_join(&rv, th[i]);
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(w[i].failures, 0);
    }
    /* Every reference was given back: only the current set is alive. */
    assert_int_equal(todo_jwksurl_sets(r), 1);
    /* Several refetches happened, each counted once. */
    assert_true(todo_jwksurl_fetches(r) >= 2);
    assert_int_equal(todo_jwksurl_fetches(r), server_requests());
}

typedef struct {
    todo_jwksurl_t *remote;
    const todo_keys_t *ks;
} first_t;

static void *APR_THREAD_FUNC first_loader(apr_thread_t *t, void *data)
{
    first_t *f = data;
    const char *err = NULL;

    f->ks = todo_jwksurl_acquire(f->remote, 0, &err);
    /* Return rather than apr_thread_exit(): its pthread_exit() trips
     * AddressSanitizer. */
    (void)t;
    return NULL;
}

/* Threads arriving while the first fetch is under way wait for it rather
 * than fetching again or failing. */
static void test_concurrent_first_load(void **state)
{
    apr_pool_t *p = *state;
    todo_jwksurl_t *r =
        todo_jwksurl_make(p, url("/jwks"), apr_time_from_sec(60), TIMEOUT);
    apr_thread_t *th[3];
    first_t f[3];
    apr_status_t rv;
    int i;

    server_set(200, jwks_v1, apr_time_from_msec(300));
    for (i = 0; i < 3; i++) {
        f[i].remote = r;
        f[i].ks = NULL;
        assert_int_equal(
            apr_thread_create(&th[i], NULL, first_loader, &f[i], p),
            APR_SUCCESS);
    }
    for (i = 0; i < 3; i++) {
        apr_thread_join(&rv, th[i]);
    }
    for (i = 0; i < 3; i++) {
        assert_non_null(f[i].ks);
        assert_ptr_equal(f[i].ks, f[0].ks);
        todo_jwksurl_release(r, f[i].ks);
    }
    assert_int_equal(todo_jwksurl_fetches(r), 1);
    assert_int_equal(server_requests(), 1);
}

/* Sets still held when the configuration todo_test_pool goes away are freed too
 * (valgrind checks). */
static void test_destroy_with_references(void **state)
{
    apr_pool_t *p;
    todo_jwksurl_t *r;
    const char *err;

    (void)state;
    apr_pool_create(&p, todo_test_pool);
    r = todo_jwksurl_make(p, url("/jwks"), INTERVAL, TIMEOUT);
    assert_non_null(todo_jwksurl_acquire(r, 0, &err));
    server_set(200, jwks_v2, 0);
    apr_sleep(INTERVAL + apr_time_from_msec(20));
    assert_non_null(todo_jwksurl_acquire(r, 1, &err));
    assert_int_equal(todo_jwksurl_fetches(r), 2);
    apr_pool_destroy(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)
    const struct CMUnitTest tests[] = {
        T(test_check_url),
        T(test_fetch_get),
        T(test_first_acquire_fetches),
        T(test_rotation),
        T(test_failed_refetch_keeps_set),
        T(test_failed_refresh_logged),
        T(test_first_load_failures),
        T(test_threads),
        T(test_concurrent_first_load),
        T(test_destroy_with_references),
    };
#undef T

    /* The server writes to clients that hung up on purpose (too big). */
    signal(SIGPIPE, SIG_IGN);
    /* The test server is local: no proxy from the environment. */
    setenv("no_proxy", "*", 1);
    return TODO_TEST_MAIN("todo_jwksurl", tests, group_setup, group_teardown);
}
