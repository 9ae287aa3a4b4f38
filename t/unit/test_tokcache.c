/* Unit tests of todo_tokcache: hits, misses, deadlines, eviction, and
 * concurrent use. */

#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "todo_test.h"
#include "todo_tokcache.h"

static apr_pool_t *pool;

/* The shared pool fixture; the tests read the pool from `pool`. */
static int setup(void **state)
{
    int rc = todo_test_pool_setup(state);

    pool = *state;
    return rc;
}

static void put(todo_tokcache_t *c, const char *token, const char *user,
                apr_int64_t deadline)
{
    todo_tokcache_put(c, token, strlen(token), user, deadline);
}

/* The cached user of token at now, or NULL on a miss. */
static const char *get(todo_tokcache_t *c, const char *token, apr_int64_t now)
{
    const char *user = NULL;

    if (!todo_tokcache_get(c, token, strlen(token), now, pool, &user)) {
        return NULL;
    }
    assert_non_null(user);
    return user;
}

static void test_disabled(void **state)
{
    todo_tokcache_t *c = todo_tokcache_make(pool, 0);

    (void)state;
    assert_non_null(c);
    put(c, "tok", "alice", 2000);
    assert_null(get(c, "tok", 1000));
}

static void test_hit_and_deadline(void **state)
{
    todo_tokcache_t *c = todo_tokcache_make(pool, 64);
    const char *u;

    (void)state;
    assert_null(get(c, "a.b.c", 1000));
    put(c, "a.b.c", "alice", 2000);
    u = get(c, "a.b.c", 1000);
    assert_non_null(u);
    assert_string_equal(u, "alice");
    assert_string_equal(get(c, "a.b.c", 1999), "alice");
    /* now < deadline is required. */
    assert_null(get(c, "a.b.c", 2000));
    assert_null(get(c, "a.b.c", 2001));
    /* An expired entry is gone for good, even for an earlier now. */
    assert_null(get(c, "a.b.c", 1000));
    /* Re-put with a new deadline. */
    put(c, "a.b.c", "alice", 3000);
    put(c, "a.b.c", "alice2", 4000);
    assert_string_equal(get(c, "a.b.c", 3500), "alice2");
}

static void test_distinct_tokens(void **state)
{
    todo_tokcache_t *c = todo_tokcache_make(pool, 64);

    (void)state;
    put(c, "header.payload.sig1", "alice", 2000);
    assert_null(get(c, "header.payload.sig2", 1000));
    assert_null(get(c, "header.payload.sig", 1000));
    assert_null(get(c, "header.payload.sig11", 1000));
    assert_null(get(c, "", 1000));
    put(c, "header.payload.sig2", "bob", 2000);
    assert_string_equal(get(c, "header.payload.sig1", 1000), "alice");
    assert_string_equal(get(c, "header.payload.sig2", 1000), "bob");
}

static void test_user_bounds(void **state)
{
    todo_tokcache_t *c = todo_tokcache_make(pool, 64);
    char u255[256], u256[257];

    (void)state;
    memset(u255, 'u', 255);
    u255[255] = '\0';
    memset(u256, 'v', 256);
    u256[256] = '\0';
    put(c, "t255", u255, 2000);
    put(c, "t256", u256, 2000);
    put(c, "tempty", "", 2000);
    assert_string_equal(get(c, "t255", 1000), u255);
    assert_null(get(c, "t256", 1000));
    assert_null(get(c, "tempty", 1000));
}

/* With capacity 4 there is a single 4-way bucket: every token shares it. */
static void test_evicts_oldest(void **state)
{
    todo_tokcache_t *c = todo_tokcache_make(pool, 4);
    int i;

    (void)state;
    for (i = 0; i < 4; i++) {
        put(c, apr_psprintf(pool, "tok%d", i), apr_psprintf(pool, "u%d", i),
            5000);
    }
    for (i = 0; i < 4; i++) {
        assert_string_equal(get(c, apr_psprintf(pool, "tok%d", i), 1000),
                            apr_psprintf(pool, "u%d", i));
    }
    put(c, "tok4", "u4", 5000);
    assert_null(get(c, "tok0", 1000));
    for (i = 1; i < 5; i++) {
        assert_string_equal(get(c, apr_psprintf(pool, "tok%d", i), 1000),
                            apr_psprintf(pool, "u%d", i));
    }
    put(c, "tok5", "u5", 5000);
    assert_null(get(c, "tok1", 1000));
    assert_string_equal(get(c, "tok5", 1000), "u5");
}

static void test_evicts_expired_first(void **state)
{
    todo_tokcache_t *c = todo_tokcache_make(pool, 4);

    (void)state;
    put(c, "old", "u-old", 9000);     /* oldest, still valid */
    put(c, "short", "u-short", 1500); /* expires first */
    put(c, "c", "u-c", 9000);
    put(c, "d", "u-d", 9000);
    /* The cache learns the time from get(). */
    assert_string_equal(get(c, "c", 2000), "u-c");
    put(c, "new", "u-new", 9000);
    assert_string_equal(get(c, "old", 2000), "u-old");
    assert_string_equal(get(c, "new", 2000), "u-new");
    assert_string_equal(get(c, "d", 2000), "u-d");
    assert_null(get(c, "short", 1000));
}

/* Capacity is rounded up to a power of two, and a bigger cache really
 * holds more: 1000 tokens fit in a cache of 1000 (1024) entries with few
 * collisions beyond 4 per bucket. */
static void test_capacity(void **state)
{
    todo_tokcache_t *c = todo_tokcache_make(pool, 1000);
    int i, hits = 0;

    (void)state;
    for (i = 0; i < 500; i++) {
        put(c, apr_psprintf(pool, "token-%d", i), "u", 5000);
    }
    for (i = 0; i < 500; i++) {
        hits += get(c, apr_psprintf(pool, "token-%d", i), 1000) != NULL;
    }
    /* 500 tokens in 256 buckets of 4: losses are rare. */
    assert_true(hits >= 480);
}

typedef struct {
    todo_tokcache_t *cache;
    int id;
    int errors;
} worker_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    worker_t *w = data;
    apr_pool_t *p;
    int i;

    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    for (i = 0; i < 2000; i++) {
        const char *tok = apr_psprintf(p, "w%d-token-%d", w->id, i % 50);
        const char *user = apr_psprintf(p, "w%d-user-%d", w->id, i % 50);
        const char *got = NULL;

        todo_tokcache_put(w->cache, tok, strlen(tok), user, 5000);
        if (todo_tokcache_get(w->cache, tok, strlen(tok), 1000, p, &got)
            && strcmp(got, user) != 0) {
            w->errors++;
        }
        if (i % 100 == 0) {
            apr_pool_clear(p);
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
    todo_tokcache_t *c = todo_tokcache_make(pool, 128);
    apr_thread_t *th[4];
    worker_t w[4];
    apr_status_t rv;
    int i;

    (void)state;
    for (i = 0; i < 4; i++) {
        w[i].cache = c;
        w[i].id = i;
        w[i].errors = 0;
        assert_int_equal(apr_thread_create(&th[i], NULL, worker, &w[i], pool),
                         APR_SUCCESS);
    }
    for (i = 0; i < 4; i++) {
        apr_thread_join(&rv, th[i]);
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(w[i].errors, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disabled, setup,
                                        todo_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_hit_and_deadline, setup,
                                        todo_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_distinct_tokens, setup,
                                        todo_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_user_bounds, setup,
                                        todo_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_evicts_oldest, setup,
                                        todo_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_evicts_expired_first, setup,
                                        todo_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_capacity, setup,
                                        todo_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup,
                                        todo_test_pool_teardown),
    };
    return TODO_TEST_MAIN("todo_tokcache", tests, NULL, NULL);
}
