/* Unit tests of todo_metrics: the histogram's buckets, the layout checks
 * of the shared block, the exposition text (both formats), the child
 * slots and their reclaiming, and counts from several processes at once
 * in real shared memory. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_shm.h>
#include <apr_strings.h>

#include "todo_test.h"
#include "todo_metrics.h"

#define SLOTS 8

static todo_metrics_t *fresh(apr_pool_t *p)
{
    apr_size_t size = todo_metrics_size(SLOTS);
    void *mem = apr_palloc(p, size);
    todo_metrics_t *m =
        todo_metrics_init(mem, size, SLOTS, apr_time_from_sec(1700000000));

    assert_non_null(m);
    return m;
}

static const char *text_of(apr_pool_t *p, todo_metrics_t *m,
                           todo_metrics_format_e fmt)
{
    todo_buf_t b;

    todo_buf_init(&b, p, 1024);
    todo_metrics_write(m, fmt, &b);
    return todo_buf_cstr(&b);
}

/* The line of text that starts with `start` (up to its newline). */
static const char *line(apr_pool_t *p, const char *text, const char *start)
{
    const char *s = text;
    apr_size_t n = strlen(start);

    while (s && *s) {
        const char *e = strchr(s, '\n');

        if (!strncmp(s, start, n)) {
            return apr_pstrmemdup(p, s, e ? (apr_size_t)(e - s) : strlen(s));
        }
        s = e ? e + 1 : NULL;
    }
    return NULL;
}

static void expect_line(apr_pool_t *p, const char *text, const char *want)
{
    const char *sp = strrchr(want, ' ');
    const char *got =
        line(p, text, apr_pstrmemdup(p, want, (apr_size_t)(sp - want + 1)));

    if (!got || strcmp(got, want)) {
        fail_msg("expected \"%s\", got \"%s\"", want, got ? got : "(none)");
    }
}

static void test_buckets(void **state)
{
    (void)state;
    assert_int_equal(todo_metrics_bucket(0), 0);
    assert_int_equal(todo_metrics_bucket(-5), 0);
    assert_int_equal(todo_metrics_bucket(500), 0); /* le: less or equal */
    assert_int_equal(todo_metrics_bucket(501), 1);
    assert_int_equal(todo_metrics_bucket(1000), 1);
    assert_int_equal(todo_metrics_bucket(1001), 2);
    assert_int_equal(todo_metrics_bucket(100000), 7);
    assert_int_equal(todo_metrics_bucket(1000000), 10);
    assert_int_equal(todo_metrics_bucket(10000000), 13);
    assert_int_equal(todo_metrics_bucket(10000001), TODO_METRICS_BUCKETS);
    assert_int_equal(todo_metrics_bucket(APR_INT64_MAX), TODO_METRICS_BUCKETS);
}

static void test_layout(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t size = todo_metrics_size(SLOTS);
    char *mem = apr_pcalloc(p, size);

    assert_null(todo_metrics_attach(mem, size)); /* never formatted */
    assert_null(todo_metrics_init(mem, size - 1, SLOTS, 0));
    assert_non_null(todo_metrics_init(mem, size, SLOTS, 0));
    assert_non_null(todo_metrics_attach(mem, size));
    assert_null(todo_metrics_attach(mem, size + 8)); /* another size */
    assert_null(todo_metrics_attach(NULL, size));
    mem[0] ^= 1; /* another layout version */
    assert_null(todo_metrics_attach(mem, size));
}

/* Nothing installed: counting is a no-op (the unit tests of the other
 * areas, a server with no metrics location). */
static void test_nothing_installed(void **state)
{
    (void)state;
    todo_metrics_set_current(NULL);
    todo_metrics_request(TODO_OP_LIST, "GET", 200, 10);
    todo_metrics_auth_failure(TODO_AUTHF_EXPIRED);
    todo_metrics_db_down(1);
    todo_metrics_rate_limited();
    assert_null(todo_metrics_current());
}

static void test_exposition(void **state)
{
    apr_pool_t *p = *state;
    todo_metrics_t *m = fresh(p);
    const char *t;

    todo_metrics_set_current(m);
    todo_metrics_request(TODO_OP_LIST, "GET", 200, 400);       /* bucket 0 */
    todo_metrics_request(TODO_OP_LIST, "GET", 200, 3000);      /* 0.005 */
    todo_metrics_request(TODO_OP_LIST, "HEAD", 304, 20000000); /* +Inf */
    todo_metrics_request(TODO_OP_CREATE, "POST", 503, 1000);
    todo_metrics_request(TODO_OP_NOT_FOUND, "BREW", 404, 1);
    todo_metrics_auth_failure(TODO_AUTHF_EXPIRED);
    todo_metrics_auth_failure(TODO_AUTHF_EXPIRED);
    todo_metrics_auth_failure(TODO_AUTHF_COUNT + 3); /* out of range */
    todo_metrics_token_cache(1);
    todo_metrics_token_cache(1);
    todo_metrics_token_cache(0);
    todo_metrics_jwks_fetch(0);
    todo_metrics_db_error(TODO_DBERR_CONFLICT);
    todo_metrics_db_unavailable();
    todo_metrics_idempotent_replay();
    todo_metrics_rate_limited();
    todo_metrics_rate_limit_eviction();
    t = text_of(p, m, TODO_METRICS_PROMETHEUS);

    expect_line(p, t, "# TYPE todo_http_requests_total counter");
    expect_line(p, t,
                "todo_http_requests_total{route=\"list\",method=\"GET\","
                "code_class=\"2xx\"} 2");
    expect_line(p, t,
                "todo_http_requests_total{route=\"list\",method=\"HEAD\","
                "code_class=\"3xx\"} 1");
    expect_line(p, t,
                "todo_http_requests_total{route=\"create\",method=\"POST\","
                "code_class=\"5xx\"} 1");
    expect_line(p, t,
                "todo_http_requests_total{route=\"not_found\","
                "method=\"other\",code_class=\"4xx\"} 1");
    /* Only what happened: no zero series of requests. */
    assert_null(line(p, t, "todo_http_requests_total{route=\"get\""));

    expect_line(p, t, "# TYPE todo_http_request_duration_seconds histogram");
    /* Cumulative buckets, +Inf equal to _count. */
    expect_line(p, t,
                "todo_http_request_duration_seconds_bucket{route=\"list\","
                "le=\"0.0005\"} 1");
    expect_line(p, t,
                "todo_http_request_duration_seconds_bucket{route=\"list\","
                "le=\"0.0025\"} 1");
    expect_line(p, t,
                "todo_http_request_duration_seconds_bucket{route=\"list\","
                "le=\"0.005\"} 2");
    expect_line(p, t,
                "todo_http_request_duration_seconds_bucket{route=\"list\","
                "le=\"10\"} 2");
    expect_line(p, t,
                "todo_http_request_duration_seconds_bucket{route=\"list\","
                "le=\"+Inf\"} 3");
    expect_line(p, t,
                "todo_http_request_duration_seconds_count{route=\"list\"} 3");
    expect_line(p, t,
                "todo_http_request_duration_seconds_sum{route=\"list\"} "
                "20.003400");
    expect_line(p, t,
                "todo_http_request_duration_seconds_sum{route=\"create\"} "
                "0.001000");
    assert_null(line(p, t,
                     "todo_http_request_duration_seconds_count{route="
                     "\"get\""));

    expect_line(p, t, "todo_auth_failures_total{reason=\"expired\"} 2");
    expect_line(p, t, "todo_auth_failures_total{reason=\"other\"} 1");
    expect_line(p, t, "todo_auth_failures_total{reason=\"missing\"} 0");
    expect_line(p, t, "todo_token_cache_hits_total 2");
    expect_line(p, t, "todo_token_cache_misses_total 1");
    expect_line(p, t, "todo_jwks_fetches_total{result=\"failure\"} 1");
    expect_line(p, t, "todo_jwks_fetches_total{result=\"success\"} 0");
    expect_line(p, t, "todo_db_errors_total{kind=\"conflict\"} 1");
    expect_line(p, t, "todo_db_errors_total{kind=\"connection\"} 0");
    expect_line(p, t, "todo_db_unavailable_total 1");
    expect_line(p, t, "todo_idempotent_replays_total 1");
    expect_line(p, t, "todo_rate_limited_total 1");
    expect_line(p, t, "todo_rate_limit_evictions_total 1");
    expect_line(p, t, "todo_metrics_start_time_seconds 1700000000");
    expect_line(p, t,
                "# HELP todo_rate_limited_total Requests refused 429 by "
                "TodoRateLimit.");
    /* Every line is a comment or a sample ending in a number. */
    assert_null(strstr(t, "\n\n"));
    assert_int_equal(t[strlen(t) - 1], '\n');

    /* The status format: the same samples, "name: value", no comments. */
    t = text_of(p, m, TODO_METRICS_STATUS);
    expect_line(p, t, "todo_token_cache_hits_total: 2");
    expect_line(p, t,
                "todo_http_requests_total{route=\"list\",method=\"GET\","
                "code_class=\"2xx\"}: 2");
    assert_null(strstr(t, "# "));
    todo_metrics_set_current(NULL);
}

/* A forked child that exited at once: a pid that is surely dead. */
static apr_uint32_t dead_pid(void)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(0);
    }
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    return (apr_uint32_t)pid;
}

static void test_slots(void **state)
{
    apr_pool_t *p = *state;
    todo_metrics_t *m = fresh(p);
    apr_uint32_t dead = dead_pid();
    int i;

    todo_metrics_set_current(m);
    expect_line(p, text_of(p, m, TODO_METRICS_PROMETHEUS), "todo_processes 0");
    /* A crashed child's slot (taken, never given back). */
    assert_int_equal(todo_metrics_child_start(m, dead), 0);
    todo_metrics_db_down(1);
    /* This process. */
    assert_int_equal(todo_metrics_child_start(m, (apr_uint32_t)getpid()), 0);
    todo_metrics_db_down(1);
    expect_line(p, text_of(p, m, TODO_METRICS_PROMETHEUS), "todo_processes 1");
    expect_line(p, text_of(p, m, TODO_METRICS_PROMETHEUS),
                "todo_db_down_processes 1");
    expect_line(p, text_of(p, m, TODO_METRICS_PROMETHEUS),
                "todo_db_outages_total 2");
    todo_metrics_db_down(0);
    expect_line(p, text_of(p, m, TODO_METRICS_PROMETHEUS),
                "todo_db_down_processes 0");
    /* The dead one's slot was reclaimed: SLOTS - 1 more fit (this
     * process's own pid again takes its own slot). */
    for (i = 0; i < SLOTS - 1; i++) {
        assert_int_equal(todo_metrics_child_start(m, 1000000 + i), 0);
    }
    assert_int_equal(todo_metrics_child_start(m, 2000000), -1);
    assert_int_equal(todo_metrics_child_start(m, (apr_uint32_t)getpid()), 0);
    todo_metrics_child_end(m);
    assert_int_equal(todo_metrics_child_start(m, 2000000), 0);
    todo_metrics_set_current(NULL);
}

/* Counts from several processes at once, in shared memory as httpd's
 * children have it: every increment is there, nothing per process. */
static void test_processes(void **state)
{
    enum { PROCS = 4, EACH = 20000 };
    apr_pool_t *p = *state;
    apr_size_t size = todo_metrics_size(SLOTS);
    apr_shm_t *shm;
    todo_metrics_t *m;
    pid_t pids[PROCS];
    int i, status;
    const char *t;

    assert_int_equal(apr_shm_create(&shm, size, NULL, p), APR_SUCCESS);
    m = todo_metrics_init(apr_shm_baseaddr_get(shm), apr_shm_size_get(shm),
                          SLOTS, apr_time_now());
    assert_non_null(m);
    for (i = 0; i < PROCS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            int n;

            todo_metrics_set_current(m);
            todo_metrics_child_start(m, (apr_uint32_t)getpid());
            for (n = 0; n < EACH; n++) {
                todo_metrics_request(TODO_OP_GET, "GET", 200, 700);
                todo_metrics_token_cache(1);
            }
            /* Exits without child_end: its counts stay all the same. */
            _exit(0);
        }
    }
    for (i = 0; i < PROCS; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    t = text_of(p, m, TODO_METRICS_PROMETHEUS);
    expect_line(p, t,
                apr_psprintf(p,
                             "todo_http_requests_total{route=\"get\","
                             "method=\"GET\",code_class=\"2xx\"} %d",
                             PROCS * EACH));
    expect_line(p, t,
                apr_psprintf(p,
                             "todo_http_request_duration_seconds_bucket{"
                             "route=\"get\",le=\"0.001\"} %d",
                             PROCS * EACH));
    expect_line(
        p, t, apr_psprintf(p, "todo_token_cache_hits_total %d", PROCS * EACH));
    /* They exited: none is reported running, and the slots are free. */
    expect_line(p, t, "todo_processes 0");
    apr_shm_destroy(shm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        todo_test_with_pool(test_layout),
        cmocka_unit_test(test_nothing_installed),
        todo_test_with_pool(test_exposition),
        todo_test_with_pool(test_slots),
        todo_test_with_pool(test_processes),
    };

    return TODO_TEST_MAIN("metrics", tests, NULL, NULL);
}
