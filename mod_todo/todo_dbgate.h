/* todo_dbgate: what a child process knows of its database during an
 * outage (docs/operations.md, "When the database goes away").  After a
 * connection attempt fails, the gate shuts: requests are refused at once
 * (503 with Retry-After) instead of each trying to connect, and one
 * request -- the probe -- is let through to try again after a delay that
 * doubles from `first` up to `cap`, plus up to a quarter of it at random
 * (so the children of a server do not all knock at the same instant).
 *
 * The probe asks cheaply whether the server accepts connections (the
 * glue pings it).  When it does, the gate is ajar: every request goes
 * through again, and the first that reaches the database opens the gate
 * for good and reports how long it was shut and how many requests it
 * refused, for the one log line that says the database is back; a
 * failure while ajar shuts it again as a failed probe would (no new
 * "lost").  A caller that cannot ping sends the probe to the database
 * itself: its success opens the gate.
 *
 * Two more things shorten the way back.  A request that arrives while the
 * probe is out waits for its outcome, a little (`patience`), instead of
 * being refused.  And the caller can say when another process last saw
 * the database come back (`seen_back`, from shared memory): a gate shut
 * before that is ajar at once, without a probe of its own.
 *
 * Free of httpd, thread-safe; one per process and database.  While the
 * gate is open, enter() and reached() are one atomic read. */
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

/* A request that wants the database, at now.  seen_back: when some
 * process last saw the database come back (0: never).  patience: how long
 * to wait for a probe that is out (0: not at all; the clock is then
 * apr_time_now()).  On REFUSE, *retry_after is the time until the next
 * probe may go (a client should be told at least one second). */
todo_dbgate_e todo_dbgate_enter(todo_dbgate_t *g, apr_time_t now,
                                apr_time_t seen_back,
                                apr_interval_time_t patience,
                                apr_interval_time_t *retry_after);

/* The probe's ping says the server accepts connections: the gate is ajar,
 * every request may try. */
void todo_dbgate_answered(todo_dbgate_t *g, int probe);

/* A connection attempt failed at now (probe: made by the probe; rnd: a
 * random number for the jitter).  Returns 1 when this shuts an open gate:
 * the caller logs that the database is lost, once. */
int todo_dbgate_failed(todo_dbgate_t *g, apr_time_t now, int probe,
                       apr_uint32_t rnd);

/* The database answered at now.  Returns 1 when that ends an outage (the
 * first success once the gate is ajar, or the probe's success), with how
 * long the gate was shut and how many requests it refused, for the
 * caller's one log line.  A request let in before the outage that gets
 * through while the gate is shut ends nothing. */
int todo_dbgate_reached(todo_dbgate_t *g, apr_time_t now, int probe,
                        apr_interval_time_t *down_for, apr_uint64_t *refused);

/* The probe's request ends without having said either (it met something
 * else): let another request probe. */
void todo_dbgate_release(todo_dbgate_t *g, int probe);

/* Whether an outage is going on (shut or ajar). */
int todo_dbgate_shut(todo_dbgate_t *g);

/* The delay before probe number n (1: after the first failure) with
 * jitter rnd: min(first * 2^(n-1), cap) plus up to a quarter of it. */
apr_interval_time_t todo_dbgate_delay(apr_interval_time_t first,
                                      apr_interval_time_t cap, unsigned n,
                                      apr_uint32_t rnd);

#endif
