/* todo_dbslots: turns at a child's pool of database connections.
 *
 * mod_dbd's pool (an apr_reslist of DBDMax connections) makes a request
 * that finds every connection taken wait inside apr_reslist_acquire, past
 * any check of ours.  When the database goes away, the requests already in
 * flight hand back connections that are broken, and each waiter, woken
 * with one, has mod_dbd try to reset it and log the failure: one error
 * line per waiting request, however soon the outage gate shut.  So a
 * request waits for its turn here instead, before it looks at the gate:
 * at most DBDMax requests of a child are between the gate and the pool,
 * and a request that waited sees the gate as it is once it has its turn.
 *
 * A counting semaphore; free of httpd, thread-safe, one per process and
 * pool.  Taking and giving a free turn is a mutex lock each. */
#ifndef TODO_DBSLOTS_H
#define TODO_DBSLOTS_H

#include <apr_pools.h>

typedef struct todo_dbslots todo_dbslots_t;

/* n turns (at least one); NULL when a mutex cannot be made. */
todo_dbslots_t *todo_dbslots_make(apr_pool_t *p, int n);

/* Wait for a turn and take it.  Returns 1 when the caller had to wait
 * (every turn was taken when it came), 0 when one was free. */
int todo_dbslots_take(todo_dbslots_t *s);

/* Give back a turn taken with todo_dbslots_take. */
void todo_dbslots_give(todo_dbslots_t *s);

/* How many callers are waiting for a turn now. */
int todo_dbslots_waiting(todo_dbslots_t *s);

#endif
