/* Unit tests of todo_dbslots: a caller that finds every turn taken waits
 * until one is given back, and never more callers hold a turn than there
 * are turns, however many threads compete. */
#include <apr_atomic.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "todo_test.h"
#include "todo_dbslots.h"

typedef struct {
    todo_dbslots_t *s;
    volatile apr_uint32_t done; /* it has its turn */
    int waited;
} taker_t;

static void *APR_THREAD_FUNC take_one(apr_thread_t *th, void *data)
{
    taker_t *t = data;

    t->waited = todo_dbslots_take(t->s);
    apr_atomic_set32(&t->done, 1);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

/* Wait (up to 5 s) until n callers are waiting. */
static int waiting_for(todo_dbslots_t *s, int n)
{
    int i;

    for (i = 0; i < 500 && todo_dbslots_waiting(s) != n; i++) {
        apr_sleep(apr_time_from_msec(10));
    }
    return todo_dbslots_waiting(s);
}

static void test_wait_for_a_turn(void **state)
{
    apr_pool_t *p = *state;
    todo_dbslots_t *s = todo_dbslots_make(p, 2);
    taker_t t = { s, 0, -1 };
    apr_thread_t *th;
    apr_status_t rv;

    assert_non_null(s);
    assert_int_equal(todo_dbslots_take(s), 0);
    assert_int_equal(todo_dbslots_take(s), 0);
    assert_int_equal(apr_thread_create(&th, NULL, take_one, &t, p),
                     APR_SUCCESS);
    /* Both turns are taken: the third caller waits... */
    assert_int_equal(waiting_for(s, 1), 1);
    apr_sleep(apr_time_from_msec(50));
    assert_int_equal(apr_atomic_read32(&t.done), 0);
    /* ...until one is given back, and says it waited. */
    todo_dbslots_give(s);
    apr_thread_join(&rv, th);
    assert_int_equal(apr_atomic_read32(&t.done), 1);
    assert_int_equal(t.waited, 1);
    assert_int_equal(todo_dbslots_waiting(s), 0);
    /* Two held again (the first caller's and the thread's). */
    todo_dbslots_give(s);
    assert_int_equal(todo_dbslots_take(s), 0);
}

static void test_at_least_one(void **state)
{
    todo_dbslots_t *s = todo_dbslots_make(*state, 0);

    assert_non_null(s);
    assert_int_equal(todo_dbslots_take(s), 0);
    todo_dbslots_give(s);
    assert_int_equal(todo_dbslots_take(s), 0);
}

#define TURNS 3
#define THREADS 12
#define ROUNDS 2000

typedef struct {
    todo_dbslots_t *s;
    apr_uint32_t inside, most, waits;
} crowd_t;

static void *APR_THREAD_FUNC compete(apr_thread_t *th, void *data)
{
    crowd_t *c = data;
    apr_uint32_t now, most;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        if (todo_dbslots_take(c->s)) {
            apr_atomic_inc32(&c->waits);
        }
        now = apr_atomic_inc32(&c->inside) + 1;
        while ((most = apr_atomic_read32(&c->most)) < now
               && apr_atomic_cas32(&c->most, now, most) != most) {
        }
        if (i % 16 == 0) {
            apr_sleep(10); /* hold it a little: others must wait */
        }
        apr_atomic_dec32(&c->inside);
        todo_dbslots_give(c->s);
    }
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void test_crowd(void **state)
{
    apr_pool_t *p = *state;
    crowd_t c = { todo_dbslots_make(p, TURNS), 0, 0, 0 };
    apr_thread_t *th[THREADS];
    apr_status_t rv;
    int i;

    assert_non_null(c.s);
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(apr_thread_create(&th[i], NULL, compete, &c, p),
                         APR_SUCCESS);
    }
    for (i = 0; i < THREADS; i++) {
        apr_thread_join(&rv, th[i]);
    }
    assert_true(c.most >= 1 && c.most <= TURNS);
    assert_true(c.waits > 0);
    assert_int_equal(c.inside, 0);
    assert_int_equal(todo_dbslots_waiting(c.s), 0);
    /* Every turn came back. */
    for (i = 0; i < TURNS; i++) {
        assert_int_equal(todo_dbslots_take(c.s), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        todo_test_with_pool(test_wait_for_a_turn),
        todo_test_with_pool(test_at_least_one),
        todo_test_with_pool(test_crowd),
    };

    return TODO_TEST_MAIN("dbslots", tests, NULL, NULL);
}
