/* todo_dbgate: what a child process knows of its database during an
 * outage (docs/operations.md, "When the database goes away").  After a
 * connection attempt fails, the gate shuts: requests are refused at once
 * (503 with Retry-After) instead of each trying to connect, and one
 * request -- the probe -- is let through to try again after a delay that
 * doubles from `first` up to `cap`, plus up to a quarter of it at random
 * (so the children of a server do not all knock at the same instant).
 * When a probe reaches the database the gate opens again and reports how
 * long it was shut and how many requests it refused, for the one log
 * line that says the database is back.
 *
 * Free of httpd, thread-safe; one per process and database.  While the
 * gate is open, enter() is one atomic read. */
#ifndef TODO_DBGATE_H
#define TODO_DBGATE_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct todo_dbgate todo_dbgate_t;

/* NULL when a mutex cannot be made. */
todo_dbgate_t *todo_dbgate_make(apr_pool_t *p, apr_interval_time_t first,
                                apr_interval_time_t cap);

typedef enum {
    TODO_DBGATE_OPEN,  /* go on as usual */
    TODO_DBGATE_PROBE, /* shut, and this request is the one to try */
    TODO_DBGATE_REFUSE /* shut: answer 503 now, try nothing */
} todo_dbgate_e;

/* A request that wants the database, at now.  On REFUSE, *retry_after is
 * the time until the next probe may go (at least one second's worth is
 * what a client should be told). */
todo_dbgate_e todo_dbgate_enter(todo_dbgate_t *g, apr_time_t now,
                                apr_interval_time_t *retry_after);

/* A connection attempt failed at now (probe: made by the probe; rnd: a
 * random number for the jitter).  Returns 1 when this shuts an open gate:
 * the caller logs that the database is lost, once. */
int todo_dbgate_failed(todo_dbgate_t *g, apr_time_t now, int probe,
                       apr_uint32_t rnd);

/* The database answered at now.  Only the probe can open a shut gate:
 * returns 1 when it did, with how long the gate was shut and how many
 * requests it refused meanwhile, for the caller's one log line. */
int todo_dbgate_reached(todo_dbgate_t *g, apr_time_t now, int probe,
                        apr_interval_time_t *down_for, apr_uint64_t *refused);

/* The probe's request ends without having said either (it met something
 * else): let another request probe. */
void todo_dbgate_release(todo_dbgate_t *g, int probe);

/* Whether the gate is shut now. */
int todo_dbgate_shut(todo_dbgate_t *g);

/* The delay before probe number n (1: after the first failure) with
 * jitter rnd: min(first * 2^(n-1), cap) plus up to a quarter of it. */
apr_interval_time_t todo_dbgate_delay(apr_interval_time_t first,
                                      apr_interval_time_t cap, unsigned n,
                                      apr_uint32_t rnd);

#endif
