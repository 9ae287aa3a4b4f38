/* todo_dbslots: turns at a child's pool of database connections (see the
 * header). */
#include "todo_dbslots.h"

#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

struct todo_dbslots {
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *given; /* a turn was given back */
    int free;                 /* turns nobody holds */
    int waiting;              /* callers waiting for one */
};

todo_dbslots_t *todo_dbslots_make(apr_pool_t *p, int n)
{
    todo_dbslots_t *s = apr_pcalloc(p, sizeof(*s));

    if (apr_thread_mutex_create(&s->mutex, APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS
        || apr_thread_cond_create(&s->given, p) != APR_SUCCESS) {
        return NULL;
    }
    s->free = n > 0 ? n : 1;
    return s;
}

int todo_dbslots_take(todo_dbslots_t *s)
{
    int waited = 0;

    apr_thread_mutex_lock(s->mutex);
    while (s->free == 0) {
        waited = 1;
        s->waiting++;
        apr_thread_cond_wait(s->given, s->mutex);
        s->waiting--;
    }
    s->free--;
    apr_thread_mutex_unlock(s->mutex);
    return waited;
}

void todo_dbslots_give(todo_dbslots_t *s)
{
    apr_thread_mutex_lock(s->mutex);
    s->free++;
    /* One turn back, one waiter woken: it takes it, or, were another
     * caller quicker, waits again. */
    if (s->waiting) {
        apr_thread_cond_signal(s->given);
    }
    apr_thread_mutex_unlock(s->mutex);
}

int todo_dbslots_waiting(todo_dbslots_t *s)
{
    int n;

    apr_thread_mutex_lock(s->mutex);
    n = s->waiting;
    apr_thread_mutex_unlock(s->mutex);
    return n;
}
