/* Unit tests of todo_dbgate: the backoff's delays (exponential, capped,
 * with jitter), and the gate's life through an outage: one "lost", one
 * probe at a time, refusals counted, one "back" from the probe only. */
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "todo_test.h"
#include "todo_dbgate.h"

#define MS(n) apr_time_from_msec(n)
#define FIRST MS(125)
#define CAP MS(1000)

static void test_delay(void **state)
{
    apr_uint32_t rnd;

    (void)state;
    assert_int_equal(todo_dbgate_delay(FIRST, CAP, 1, 0), MS(125));
    assert_int_equal(todo_dbgate_delay(FIRST, CAP, 2, 0), MS(250));
    assert_int_equal(todo_dbgate_delay(FIRST, CAP, 3, 0), MS(500));
    assert_int_equal(todo_dbgate_delay(FIRST, CAP, 4, 0), MS(1000));
    assert_int_equal(todo_dbgate_delay(FIRST, CAP, 5, 0), MS(1000));
    assert_int_equal(todo_dbgate_delay(FIRST, CAP, 1000000, 0), MS(1000));
    assert_int_equal(todo_dbgate_delay(FIRST, CAP, 0, 0), MS(125));
    /* Jitter: up to a quarter more, never less; at the cap, between 1 and
     * 1.25 s, so never more than one attempt a second. */
    for (rnd = 0; rnd < 4000000000u; rnd += 7777777) {
        apr_interval_time_t d = todo_dbgate_delay(FIRST, CAP, 9, rnd);

        assert_true(d >= MS(1000) && d <= MS(1250));
        d = todo_dbgate_delay(FIRST, CAP, 1, rnd);
        assert_true(d >= MS(125) && d <= MS(125) + MS(125) / 4);
    }
    assert_int_not_equal(todo_dbgate_delay(FIRST, CAP, 9, 12345),
                         todo_dbgate_delay(FIRST, CAP, 9, 54321));
}

static void test_outage(void **state)
{
    apr_pool_t *p = *state;
    todo_dbgate_t *g = todo_dbgate_make(p, FIRST, CAP);
    apr_time_t t = apr_time_from_sec(1000);
    apr_interval_time_t wait = -1, down = 0;
    apr_uint64_t refused = 0;

    assert_non_null(g);
    assert_false(todo_dbgate_shut(g));
    assert_int_equal(todo_dbgate_enter(g, t, 0, 0, &wait), TODO_DBGATE_OPEN);
    /* Open: a success changes nothing, reports nothing. */
    assert_false(todo_dbgate_reached(g, t, 0, &down, &refused));
    assert_false(todo_dbgate_reached(g, t, 1, &down, &refused));

    /* The first failure shuts it and is the one to log; the others of
     * requests already let in are not. */
    assert_true(todo_dbgate_failed(g, t, 0, 0));
    assert_true(todo_dbgate_shut(g));
    assert_false(todo_dbgate_failed(g, t + MS(1), 0, 0));
    /* Refused at once until the first delay has passed. */
    assert_int_equal(todo_dbgate_enter(g, t + MS(10), 0, 0, &wait),
                     TODO_DBGATE_REFUSE);
    assert_int_equal(wait, MS(115));
    assert_int_equal(todo_dbgate_enter(g, t + MS(124), 0, 0, &wait),
                     TODO_DBGATE_REFUSE);
    /* Then one probe, and only one while it is out. */
    assert_int_equal(todo_dbgate_enter(g, t + MS(125), 0, 0, &wait),
                     TODO_DBGATE_PROBE);
    assert_int_equal(todo_dbgate_enter(g, t + MS(126), 0, 0, &wait),
                     TODO_DBGATE_REFUSE);
    /* A request let in before the outage that gets through says
     * nothing: only the probe opens the gate. */
    assert_false(todo_dbgate_reached(g, t + MS(127), 0, &down, &refused));
    assert_true(todo_dbgate_shut(g));
    /* The probe fails: twice as long now. */
    assert_false(todo_dbgate_failed(g, t + MS(130), 1, 0));
    assert_int_equal(todo_dbgate_enter(g, t + MS(379), 0, 0, &wait),
                     TODO_DBGATE_REFUSE);
    assert_int_equal(wait, MS(1));
    assert_int_equal(todo_dbgate_enter(g, t + MS(380), 0, 0, &wait),
                     TODO_DBGATE_PROBE);
    assert_false(todo_dbgate_failed(g, t + MS(380), 1, 0)); /* 500 ms */
    assert_int_equal(todo_dbgate_enter(g, t + MS(880), 0, 0, &wait),
                     TODO_DBGATE_PROBE);
    /* A probe whose request ended otherwise lets the next one go. */
    todo_dbgate_release(g, 1);
    assert_int_equal(todo_dbgate_enter(g, t + MS(881), 0, 0, &wait),
                     TODO_DBGATE_PROBE);
    assert_false(todo_dbgate_failed(g, t + MS(890), 1, 0)); /* 1 s: cap */
    assert_int_equal(todo_dbgate_enter(g, t + MS(1889), 0, 0, &wait),
                     TODO_DBGATE_REFUSE);
    assert_int_equal(todo_dbgate_enter(g, t + MS(1890), 0, 0, &wait),
                     TODO_DBGATE_PROBE);
    assert_false(todo_dbgate_failed(g, t + MS(1890), 1, 0)); /* cap */
    assert_int_equal(todo_dbgate_enter(g, t + MS(2889), 0, 0, &wait),
                     TODO_DBGATE_REFUSE);
    /* The database is back: the probe opens the gate, once, with the
     * length of the outage and the refusals (6 above). */
    assert_int_equal(todo_dbgate_enter(g, t + MS(2890), 0, 0, &wait),
                     TODO_DBGATE_PROBE);
    assert_true(todo_dbgate_reached(g, t + MS(2900), 1, &down, &refused));
    assert_int_equal(down, MS(2900));
    assert_int_equal(refused, 6);
    assert_false(todo_dbgate_shut(g));
    assert_false(todo_dbgate_reached(g, t + MS(2901), 1, &down, &refused));
    assert_int_equal(todo_dbgate_enter(g, t + MS(2901), 0, 0, &wait),
                     TODO_DBGATE_OPEN);

    /* The next outage starts over from the first delay, with a count of
     * its own. */
    assert_true(todo_dbgate_failed(g, t + MS(5000), 0, 0));
    assert_int_equal(todo_dbgate_enter(g, t + MS(5124), 0, 0, &wait),
                     TODO_DBGATE_REFUSE);
    assert_int_equal(todo_dbgate_enter(g, t + MS(5125), 0, 0, &wait),
                     TODO_DBGATE_PROBE);
    assert_true(todo_dbgate_reached(g, t + MS(5200), 1, &down, &refused));
    assert_int_equal(refused, 1);
}

/* With a ping: the probe's ping answers, the gate is ajar and every
 * request goes through; the first to reach the database ends the outage
 * (once).  A failure while ajar shuts it again as a failed probe, without
 * a second "lost". */
static void test_ajar(void **state)
{
    apr_pool_t *p = *state;
    todo_dbgate_t *g = todo_dbgate_make(p, FIRST, CAP);
    apr_time_t t = apr_time_from_sec(1000);
    apr_interval_time_t wait, down = 0;
    apr_uint64_t refused = 0;

    assert_true(todo_dbgate_failed(g, t, 0, 0));
    assert_int_equal(todo_dbgate_enter(g, t + MS(1), 0, 0, &wait),
                     TODO_DBGATE_REFUSE);
    assert_int_equal(todo_dbgate_enter(g, t + MS(125), 0, 0, &wait),
                     TODO_DBGATE_PROBE);
    todo_dbgate_answered(g, 0); /* only the probe's ping counts */
    assert_int_equal(todo_dbgate_enter(g, t + MS(126), 0, 0, &wait),
                     TODO_DBGATE_REFUSE);
    todo_dbgate_answered(g, 1);
    assert_true(todo_dbgate_shut(g)); /* not over yet */
    assert_int_equal(todo_dbgate_enter(g, t + MS(127), 0, 0, &wait),
                     TODO_DBGATE_OPEN);
    /* The server took the ping but no connection yet (starting up). */
    assert_false(todo_dbgate_failed(g, t + MS(130), 0, 0));
    assert_int_equal(todo_dbgate_enter(g, t + MS(379), 0, 0, &wait),
                     TODO_DBGATE_REFUSE);
    assert_int_equal(todo_dbgate_enter(g, t + MS(380), 0, 0, &wait),
                     TODO_DBGATE_PROBE);
    todo_dbgate_answered(g, 1);
    assert_int_equal(todo_dbgate_enter(g, t + MS(381), 0, 0, &wait),
                     TODO_DBGATE_OPEN);
    assert_true(todo_dbgate_reached(g, t + MS(400), 0, &down, &refused));
    assert_int_equal(down, MS(400));
    assert_int_equal(refused, 3);
    assert_false(todo_dbgate_shut(g));
    assert_false(todo_dbgate_reached(g, t + MS(401), 0, &down, &refused));
}

/* A probe that never reports (its request hung) does not keep the gate
 * shut for good: after 30 s another request probes. */
static void test_stuck_probe(void **state)
{
    apr_pool_t *p = *state;
    todo_dbgate_t *g = todo_dbgate_make(p, FIRST, CAP);
    apr_time_t t = apr_time_from_sec(1000);
    apr_interval_time_t wait;

    assert_true(todo_dbgate_failed(g, t, 0, 0));
    assert_int_equal(todo_dbgate_enter(g, t + MS(200), 0, 0, &wait),
                     TODO_DBGATE_PROBE);
    assert_int_equal(
        todo_dbgate_enter(g, t + apr_time_from_sec(30), 0, 0, &wait),
        TODO_DBGATE_REFUSE);
    assert_int_equal(
        todo_dbgate_enter(g, t + apr_time_from_sec(31), 0, 0, &wait),
        TODO_DBGATE_PROBE);
}

/* Another process saw the database come back after this gate shut: the
 * gate is ajar at once, no probe needed; the first success ends the
 * outage.  An older sighting changes nothing. */
static void test_seen_back(void **state)
{
    apr_pool_t *p = *state;
    todo_dbgate_t *g = todo_dbgate_make(p, FIRST, CAP);
    apr_time_t t = apr_time_from_sec(1000);
    apr_interval_time_t wait, down;
    apr_uint64_t refused;

    assert_true(todo_dbgate_failed(g, t, 0, 0));
    assert_int_equal(todo_dbgate_enter(g, t + MS(10), t - MS(1), 0, &wait),
                     TODO_DBGATE_REFUSE);
    assert_int_equal(todo_dbgate_enter(g, t + MS(20), t + MS(15), 0, &wait),
                     TODO_DBGATE_OPEN);
    assert_int_equal(todo_dbgate_enter(g, t + MS(21), t + MS(15), 0, &wait),
                     TODO_DBGATE_OPEN);
    assert_true(todo_dbgate_shut(g));
    assert_true(todo_dbgate_reached(g, t + MS(30), 0, &down, &refused));
    assert_int_equal(refused, 1);
    assert_false(todo_dbgate_shut(g));
}

typedef struct {
    todo_dbgate_t *g;
    todo_dbgate_e st;
    apr_time_t t0, t1; /* when it entered, when it was answered */
} waiter_t;

static void *APR_THREAD_FUNC wait_enter(apr_thread_t *th, void *data)
{
    waiter_t *w = data;
    apr_interval_time_t wait;

    w->t0 = apr_time_now();
    w->st = todo_dbgate_enter(w->g, w->t0, 0, apr_time_from_sec(5), &wait);
    w->t1 = apr_time_now();
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

/* A request that comes while the probe is out waits for its outcome
 * (within its patience): it goes on when the probe got through, and is
 * refused when it did not. */
static void test_patience(void **state)
{
    apr_pool_t *p = *state;
    todo_dbgate_t *g = todo_dbgate_make(p, MS(200), CAP);
    apr_interval_time_t wait, down;
    apr_uint64_t refused;
    apr_thread_t *th;
    apr_status_t rv;
    apr_time_t decided;
    waiter_t w;
    int round;

    for (round = 0; round < 2; round++) {
        assert_true(todo_dbgate_failed(g, apr_time_now() - MS(300), 0, 0));
        assert_int_equal(todo_dbgate_enter(g, apr_time_now(), 0, 0, &wait),
                         TODO_DBGATE_PROBE);
        w.g = g;
        w.st = TODO_DBGATE_PROBE;
        assert_int_equal(apr_thread_create(&th, NULL, wait_enter, &w, p),
                         APR_SUCCESS);
        apr_sleep(MS(100));
        decided = apr_time_now();
        if (round == 0) {
            assert_true(
                todo_dbgate_reached(g, apr_time_now(), 1, &down, &refused));
        }
        else {
            /* A failed probe: the gate waits 400 ms now. */
            todo_dbgate_failed(g, apr_time_now(), 1, 0);
        }
        apr_thread_join(&rv, th);
        assert_int_equal(w.st,
                         round == 0 ? TODO_DBGATE_OPEN : TODO_DBGATE_REFUSE);
        /* Had it come before the outcome (the thread may start late on a
         * busy machine), it was answered only once the outcome was
         * known, not at once, and well within its patience. */
        if (w.t0 < decided) {
            assert_true(w.t1 >= decided);
        }
        assert_true(w.t1 - w.t0 < apr_time_from_sec(4));
        if (round == 0) {
            assert_int_equal(refused, 0); /* it waited, it was not refused */
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay),
        todo_test_with_pool(test_outage),
        todo_test_with_pool(test_stuck_probe),
        todo_test_with_pool(test_ajar),
        todo_test_with_pool(test_seen_back),
        todo_test_with_pool(test_patience),
    };

    return TODO_TEST_MAIN("dbgate", tests, NULL, NULL);
}
