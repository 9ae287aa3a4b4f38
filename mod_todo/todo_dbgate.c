/* todo_dbgate: the per-process gate in front of the database (see the
 * header). */
#include "todo_dbgate.h"

#include <apr_atomic.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

/* A probe that never reported (its request hung past any connect
 * timeout) does not keep the gate shut for good. */
#define PROBE_TIMEOUT apr_time_from_sec(30)

enum { OPEN = 0, SHUT, AJAR };

struct todo_dbgate {
    apr_uint32_t state; /* read without the mutex */
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *probed; /* a probe ended */
    apr_interval_time_t first, cap;
    apr_time_t since;     /* when it shut */
    apr_time_t next;      /* when the next probe may go */
    apr_time_t probe_at;  /* when the probe in flight went; 0: none */
    unsigned failures;    /* failed probes, for the delay */
    apr_uint64_t refused; /* since it shut */
};

todo_dbgate_t *todo_dbgate_make(apr_pool_t *p, apr_interval_time_t first,
                                apr_interval_time_t cap)
{
    todo_dbgate_t *g = apr_pcalloc(p, sizeof(*g));

    if (apr_thread_mutex_create(&g->mutex, APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS
        || apr_thread_cond_create(&g->probed, p) != APR_SUCCESS) {
        return NULL;
    }
    g->first = first > 0 ? first : 1;
    g->cap = cap > g->first ? cap : g->first;
    return g;
}

apr_interval_time_t todo_dbgate_delay(apr_interval_time_t first,
                                      apr_interval_time_t cap, unsigned n,
                                      apr_uint32_t rnd)
{
    apr_interval_time_t d = first;

    while (n-- > 1 && d < cap) {
        d *= 2;
    }
    if (d > cap) {
        d = cap;
    }
    return d + (apr_interval_time_t)(rnd % (apr_uint32_t)(d / 4 + 1));
}

int todo_dbgate_shut(todo_dbgate_t *g)
{
    return apr_atomic_read32(&g->state) != OPEN;
}

todo_dbgate_e todo_dbgate_enter(todo_dbgate_t *g, apr_time_t now,
                                apr_time_t seen_back,
                                apr_interval_time_t patience,
                                apr_interval_time_t *retry_after)
{
    apr_time_t until = now + patience;
    todo_dbgate_e st;

    if (apr_atomic_read32(&g->state) != SHUT) {
        return TODO_DBGATE_OPEN;
    }
    apr_thread_mutex_lock(g->mutex);
    for (;;) {
        if (g->state != SHUT) {
            st = TODO_DBGATE_OPEN;
            break;
        }
        if (seen_back > g->since) {
            /* Another process saw the database back since: no need to
             * ping it again, every request may try. */
            g->probe_at = 0;
            apr_atomic_set32(&g->state, AJAR);
            apr_thread_cond_broadcast(g->probed);
            st = TODO_DBGATE_OPEN;
            break;
        }
        if (now >= g->next
            && (!g->probe_at || now - g->probe_at > PROBE_TIMEOUT)) {
            g->probe_at = now;
            st = TODO_DBGATE_PROBE;
            break;
        }
        if (g->probe_at && now < until) {
            /* The probe is out: its outcome decides, soon. */
            apr_thread_cond_timedwait(g->probed, g->mutex, until - now);
            now = apr_time_now();
            continue;
        }
        g->refused++;
        *retry_after = g->next > now ? g->next - now : 0;
        st = TODO_DBGATE_REFUSE;
        break;
    }
    apr_thread_mutex_unlock(g->mutex);
    return st;
}

void todo_dbgate_answered(todo_dbgate_t *g, int probe)
{
    if (!probe) {
        return;
    }
    apr_thread_mutex_lock(g->mutex);
    if (g->state == SHUT) {
        g->probe_at = 0;
        apr_atomic_set32(&g->state, AJAR);
        apr_thread_cond_broadcast(g->probed);
    }
    apr_thread_mutex_unlock(g->mutex);
}

int todo_dbgate_failed(todo_dbgate_t *g, apr_time_t now, int probe,
                       apr_uint32_t rnd)
{
    int lost = 0;

    apr_thread_mutex_lock(g->mutex);
    if (g->state == OPEN) {
        lost = 1;
        g->since = now;
        g->refused = 0;
        g->failures = 1;
        g->probe_at = 0;
        g->next = now + todo_dbgate_delay(g->first, g->cap, 1, rnd);
        apr_atomic_set32(&g->state, SHUT);
    }
    else if (probe || g->state == AJAR) {
        /* The probe failed, or the server that answered the ping does
         * not take connections yet: wait longer. */
        g->failures++;
        g->probe_at = 0;
        g->next = now + todo_dbgate_delay(g->first, g->cap, g->failures, rnd);
        apr_atomic_set32(&g->state, SHUT);
        apr_thread_cond_broadcast(g->probed);
    }
    /* Else a request that was let in before the gate shut, failing now:
     * the outage is already known and timed. */
    apr_thread_mutex_unlock(g->mutex);
    return lost;
}

int todo_dbgate_reached(todo_dbgate_t *g, apr_time_t now, int probe,
                        apr_interval_time_t *down_for, apr_uint64_t *refused)
{
    apr_uint32_t state = apr_atomic_read32(&g->state);
    int back = 0;

    if (state == OPEN || (state == SHUT && !probe)) {
        /* Open, or a request let in before it shut that got through:
         * that says nothing of the database now. */
        return 0;
    }
    apr_thread_mutex_lock(g->mutex);
    if (g->state == AJAR || (g->state == SHUT && probe)) {
        back = 1;
        *down_for = now - g->since;
        *refused = g->refused;
        g->probe_at = 0;
        g->failures = 0;
        apr_atomic_set32(&g->state, OPEN);
        apr_thread_cond_broadcast(g->probed);
    }
    apr_thread_mutex_unlock(g->mutex);
    return back;
}

void todo_dbgate_release(todo_dbgate_t *g, int probe)
{
    if (!probe) {
        return;
    }
    apr_thread_mutex_lock(g->mutex);
    g->probe_at = 0;
    apr_thread_cond_broadcast(g->probed);
    apr_thread_mutex_unlock(g->mutex);
}
