/* Unit tests of todo_ratelimit: the directive's numbers, the token
 * bucket's arithmetic (the headers' values, the budget over a window),
 * the table (users apart, locations apart, eviction) and one budget spent
 * by several processes at once in shared memory. */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_shm.h>
#include <apr_strings.h>

#include "todo_test.h"
#include "todo_metrics.h"
#include "todo_ratelimit.h"

#define SEC 1000000000ULL

static todo_ratelimit_conf_t conf(long requests, long seconds, long burst)
{
    todo_ratelimit_conf_t c;

    assert_null(todo_ratelimit_conf(&c, requests, seconds, burst));
    return c;
}

static void test_conf(void **state)
{
    todo_ratelimit_conf_t c;

    (void)state;
    c = conf(60, 60, 0);
    assert_int_equal(c.burst, 60); /* burst defaults to requests */
    assert_int_equal(c.interval_ns, SEC);
    c = conf(3, 1, 10);
    assert_int_equal(c.burst, 10);
    assert_int_equal(c.interval_ns, 333333334); /* rounded up */
    c = conf(1, 86400, 100000);
    assert_int_equal(c.interval_ns, 86400 * SEC);
    c = conf(1000000, 1, 0);
    assert_int_equal(c.burst, TODO_RATELIMIT_MAX_BURST);
    assert_int_equal(c.interval_ns, 1000);
    assert_non_null(todo_ratelimit_conf(&c, 0, 1, 0));
    assert_non_null(todo_ratelimit_conf(&c, 1000001, 1, 0));
    assert_non_null(todo_ratelimit_conf(&c, 1, 0, 0));
    assert_non_null(todo_ratelimit_conf(&c, 1, 86401, 0));
    assert_non_null(todo_ratelimit_conf(&c, 1, 1, 100001));
    assert_non_null(todo_ratelimit_conf(&c, 1, 1, -1));
}

/* Burst 3, one token a second. */
static void test_step(void **state)
{
    todo_ratelimit_conf_t c = conf(1, 1, 3);
    todo_ratelimit_result_t r;
    apr_uint64_t full_at = 0, t = 100 * SEC;

    (void)state;
    todo_ratelimit_step(&full_at, t, &c, &r);
    assert_true(r.allowed);
    assert_int_equal(r.limit, 3);
    assert_int_equal(r.remaining, 2);
    assert_int_equal(r.reset, 1); /* full again in 1 s */
    todo_ratelimit_step(&full_at, t, &c, &r);
    assert_int_equal(r.remaining, 1);
    assert_int_equal(r.reset, 2);
    todo_ratelimit_step(&full_at, t, &c, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.reset, 3);
    /* Empty: refused, a token in 1 s. */
    todo_ratelimit_step(&full_at, t, &c, &r);
    assert_false(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry, 1);
    assert_int_equal(r.reset, 3);
    /* A refusal spends nothing: still a token in (now) 0.5 s. */
    todo_ratelimit_step(&full_at, t + SEC / 2, &c, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry, 1); /* rounded up */
    todo_ratelimit_step(&full_at, t + SEC, &c, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 0);
    /* Idle long enough: full again, and no more than full. */
    todo_ratelimit_step(&full_at, t + 60 * SEC, &c, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 2);
    /* A clock that went back is taken as "now". */
    full_at = 0;
    todo_ratelimit_step(&full_at, 0, &c, &r);
    assert_true(r.allowed);
}

/* Over any window of `seconds`, at most burst + requests are granted,
 * however the requests come; hammering gets exactly that many. */
static void test_window(void **state)
{
    todo_ratelimit_conf_t c = conf(10, 2, 4); /* 10 per 2 s, burst 4 */
    todo_ratelimit_result_t r;
    apr_uint64_t full_at = 0, t, start = 5 * SEC, step = SEC / 1000;
    unsigned granted = 0, offsets[] = { 0, 1, 7, 333, 999 };
    apr_size_t i;

    (void)state;
    /* A request every millisecond for 2 s, from a full bucket. */
    for (t = start; t <= start + 2 * SEC; t += step) {
        todo_ratelimit_step(&full_at, t, &c, &r);
        granted += r.allowed;
    }
    assert_int_equal(granted, 4 + 10);
    /* Sliding windows over a long run: never more. */
    for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        apr_uint64_t w0 = start + 3 * SEC + offsets[i] * step;
        apr_uint64_t f = full_at;

        granted = 0;
        for (t = w0; t < w0 + 2 * SEC; t += step) {
            todo_ratelimit_step(&f, t, &c, &r);
            granted += r.allowed;
        }
        assert_true(granted <= 4 + 10);
    }
}

static todo_ratelimit_t *table(apr_pool_t *p, unsigned entries)
{
    apr_size_t size = todo_ratelimit_size(entries);
    void *mem = apr_palloc(p, size);
    todo_ratelimit_t *t =
        todo_ratelimit_init(mem, size, entries, 42, apr_time_from_sec(1000));

    assert_non_null(t);
    return t;
}

static int take(todo_ratelimit_t *t, const todo_ratelimit_conf_t *c,
                const char *scope, const char *user, apr_time_t now)
{
    todo_ratelimit_result_t r;

    todo_ratelimit_take(t, c, scope, user, now, (apr_uint32_t)getpid(), &r);
    return r.allowed;
}

static void test_table(void **state)
{
    apr_pool_t *p = *state;
    todo_ratelimit_t *t = table(p, 1000);
    todo_ratelimit_conf_t c = conf(2, 60, 0);
    apr_time_t now = apr_time_from_sec(2000);
    apr_size_t size = todo_ratelimit_size(1000);
    char *mem = apr_pcalloc(p, size);

    assert_int_equal(todo_ratelimit_entries(t), 1024);
    assert_true(take(t, &c, "/api", "alice", now));
    assert_true(take(t, &c, "/api", "alice", now));
    assert_false(take(t, &c, "/api", "alice", now));
    /* Another user, another location: budgets of their own. */
    assert_true(take(t, &c, "/api", "bob", now));
    assert_true(take(t, &c, "/other", "alice", now));
    /* "ab" + "c" is not "a" + "bc". */
    assert_true(take(t, &c, "/apia", "lice", now));
    assert_true(take(t, &c, "/apia", "lice", now));
    /* 30 s later: one token back. */
    assert_true(take(t, &c, "/api", "alice", now + apr_time_from_sec(30)));
    assert_false(take(t, &c, "/api", "alice", now + apr_time_from_sec(30)));

    assert_null(todo_ratelimit_attach(mem, size));
    assert_null(todo_ratelimit_init(mem, size - 1, 1000, 1, 0));
    assert_non_null(todo_ratelimit_init(mem, size, 1000, 1, 0));
    assert_non_null(todo_ratelimit_attach(mem, size));
    assert_null(todo_ratelimit_attach(mem, size - 8));
}

/* One set of 8 entries: a ninth user evicts the fullest bucket; only a
 * bucket that was not full again counts as a lost budget. */
static void test_eviction(void **state)
{
    apr_pool_t *p = *state;
    todo_ratelimit_t *t = table(p, TODO_RATELIMIT_WAYS);
    todo_ratelimit_conf_t c = conf(1, 10, 1);
    apr_size_t msize = todo_metrics_size(1);
    todo_metrics_t *m =
        todo_metrics_init(apr_palloc(p, msize), msize, 1, apr_time_now());
    apr_time_t now = apr_time_from_sec(5000);
    todo_buf_t b;
    int i;

    assert_int_equal(todo_ratelimit_entries(t), TODO_RATELIMIT_WAYS);
    todo_metrics_set_current(m);
    for (i = 0; i < TODO_RATELIMIT_WAYS; i++) {
        assert_true(take(t, &c, "/api", apr_psprintf(p, "u%d", i),
                         now + apr_time_from_sec(i)));
    }
    /* All 8 still refilling: the ninth evicts u0 (the first to refill),
     * which then gets a full bucket back. */
    assert_true(take(t, &c, "/api", "u8", now + apr_time_from_sec(8)));
    assert_true(take(t, &c, "/api", "u0", now + apr_time_from_sec(8)));
    /* u1 went for u0; u2 is still there and still empty. */
    assert_false(take(t, &c, "/api", "u2", now + apr_time_from_sec(8)));
    todo_buf_init(&b, p, 4096);
    todo_metrics_write(m, TODO_METRICS_PROMETHEUS, &b);
    assert_non_null(
        strstr(todo_buf_cstr(&b), "\ntodo_rate_limit_evictions_total 2\n"));
    /* Much later every bucket is full again: evicting one loses nothing. */
    assert_true(take(t, &c, "/api", "u9", now + apr_time_from_sec(100)));
    todo_buf_init(&b, p, 4096);
    todo_metrics_write(m, TODO_METRICS_PROMETHEUS, &b);
    assert_non_null(
        strstr(todo_buf_cstr(&b), "\ntodo_rate_limit_evictions_total 2\n"));
    todo_metrics_set_current(NULL);
}

/* One user's budget, spent by several processes at once from shared
 * memory: exactly `burst` requests are granted in total, never a burst
 * each. */
static void test_processes(void **state)
{
    enum { PROCS = 4, EACH = 300000, BURST = 50000 };
    apr_pool_t *p = *state;
    todo_ratelimit_conf_t c =
        conf(1, 86400, BURST); /* no refill to speak of */
    apr_size_t size = todo_ratelimit_size(64);
    apr_shm_t *shm;
    todo_ratelimit_t *t;
    pid_t pids[PROCS];
    int i, status, total = 0;
    int fds[2], go[2];

    assert_int_equal(apr_shm_create(&shm, size, NULL, p), APR_SUCCESS);
    t = todo_ratelimit_init(apr_shm_baseaddr_get(shm), apr_shm_size_get(shm),
                            64, 7, apr_time_now());
    assert_non_null(t);
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(pipe(go), 0);
    for (i = 0; i < PROCS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            int n, granted = 0;
            char byte;

            /* All start together, so that they really contend. */
            close(go[1]);
            if (read(go[0], &byte, 1) != 0) {
                _exit(2);
            }
            for (n = 0; n < EACH; n++) {
                granted += take(t, &c, "/api", "runaway", apr_time_now());
            }
            _exit(write(fds[1], &granted, sizeof(granted)) == sizeof(granted)
                      ? 0
                      : 1);
        }
    }
    close(go[0]);
    close(go[1]); /* go */
    for (i = 0; i < PROCS; i++) {
        int granted = 0;

        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(read(fds[0], &granted, sizeof(granted)),
                         sizeof(granted));
        total += granted;
    }
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(total, BURST);
    apr_shm_destroy(shm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf),
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_window),
        todo_test_with_pool(test_table),
        todo_test_with_pool(test_eviction),
        todo_test_with_pool(test_processes),
    };

    return TODO_TEST_MAIN("ratelimit", tests, NULL, NULL);
}
