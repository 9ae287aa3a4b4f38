/* todo_metrics: the module's counters, kept in one block of shared memory
 * so that a scrape shows the sum over every child process, and their text
 * in Prometheus' exposition format 0.0.4 (and as "name: value" lines for
 * mod_status).  Free of httpd: the glue (mod_todo_metrics.c) makes the
 * shared memory, installs it with todo_metrics_set_current() and renders
 * it for the todo-metrics handler; the core and the glue count through
 * the functions below, which do nothing while no block is installed (the
 * unit tests, or a server that has no metrics location).
 *
 * Every counter is a 64-bit integer updated with an atomic add, shared by
 * all processes: nothing is per child, so nothing is lost when a child
 * exits.  The only per-process state is a slot saying "this child runs"
 * (and whether its database gate is shut), for the process gauges; a slot
 * whose process died without giving it back is reclaimed at the next
 * scrape. */
#ifndef TODO_METRICS_H
#define TODO_METRICS_H

#include <apr_pools.h>
#include <apr_time.h>

#include "todo_buf.h"
#include "todo_route.h"

/* Why a request was refused 401 (or 503, keys unavailable): a small fixed
 * set, never the free text of the reason. */
typedef enum {
    TODO_AUTHF_MISSING,   /* no bearer token, another scheme, empty */
    TODO_AUTHF_MALFORMED, /* not a compact JWS we can read, typ, crit */
    TODO_AUTHF_ALGORITHM, /* an algorithm unknown or not allowed */
    TODO_AUTHF_SIGNATURE, /* no key for it, unknown kid, bad signature */
    TODO_AUTHF_EXPIRED,   /* exp, nbf, iat out of the leeway */
    TODO_AUTHF_CLAIMS,    /* iss, aud, the user claim, claim types */
    TODO_AUTHF_KEYS_UNAVAILABLE, /* the JWKS URL never answered: 503 */
    TODO_AUTHF_OTHER,
    TODO_AUTHF_COUNT
} todo_auth_failure_e;

/* What went wrong with the database. */
typedef enum {
    TODO_DBERR_CONNECTION, /* a connection failed or could not be made */
    TODO_DBERR_STALE_PLAN, /* a statement prepared again after a migration */
    TODO_DBERR_DATA,       /* a value the database refused: 400 */
    TODO_DBERR_CONFLICT,   /* a unique violation: 409 */
    TODO_DBERR_STATEMENT,  /* any other failed statement: 500 */
    TODO_DBERR_COUNT
} todo_db_error_e;

/* Latency histogram: finite upper bounds, in microseconds (le="0.0005"
 * ... le="10"), and +Inf after them. */
#define TODO_METRICS_BUCKETS 14

typedef struct todo_metrics todo_metrics_t;

/* The size of a block with room for nslots child processes. */
apr_size_t todo_metrics_size(unsigned nslots);

/* Format mem (size bytes, from todo_metrics_size) as a fresh block whose
 * counters start now.  NULL when size is too small. */
todo_metrics_t *todo_metrics_init(void *mem, apr_size_t size, unsigned nslots,
                                  apr_time_t now);

/* A block made by todo_metrics_init with this very layout (same module
 * build), or NULL: after an upgrade the old block is not reused. */
todo_metrics_t *todo_metrics_attach(void *mem, apr_size_t size);

/* The block the counting functions update; NULL: count nothing. */
void todo_metrics_set_current(todo_metrics_t *m);
todo_metrics_t *todo_metrics_current(void);

/* This process runs from now on: take a free slot of m for pid (0 when
 * done, -1 when every slot is taken: the process is then not reported in
 * the gauges, but it counts).  child_end gives the slot back. */
int todo_metrics_child_start(todo_metrics_t *m, apr_uint32_t pid);
void todo_metrics_child_end(todo_metrics_t *m);

/* ---------------------------------------------------------- counting */

/* One answered request of a todo location: its operation, method, final
 * status and how long it took. */
void todo_metrics_request(todo_op_e op, const char *method, int status,
                          apr_interval_time_t took);
void todo_metrics_auth_failure(todo_auth_failure_e why);
void todo_metrics_token_cache(int hit);
void todo_metrics_jwks_fetch(int ok);
void todo_metrics_db_error(todo_db_error_e kind);
/* A request answered 503 because the database could not be reached. */
void todo_metrics_db_unavailable(void);
/* This process lost the database (down=1; counts an outage) or has it
 * back (down=0): the todo_db_down_processes gauge. */
void todo_metrics_db_down(int down);
/* A request answered from a stored Idempotency-Key answer (docs/api.md
 * §9).  Defined for that feature, which calls it where it replays. */
void todo_metrics_idempotent_replay(void);
/* A request refused 429 by TodoRateLimit. */
void todo_metrics_rate_limited(void);
/* A rate-limit bucket still in use was dropped to make room. */
void todo_metrics_rate_limit_eviction(void);

/* The histogram bucket of a duration: 0 to TODO_METRICS_BUCKETS - 1 for
 * the finite bounds, TODO_METRICS_BUCKETS for +Inf. */
int todo_metrics_bucket(apr_interval_time_t took);

/* --------------------------------------------------------- rendering */

typedef enum {
    TODO_METRICS_PROMETHEUS, /* text format 0.0.4, with HELP and TYPE */
    TODO_METRICS_STATUS      /* "name{labels}: value" lines, mod_status */
} todo_metrics_format_e;

/* Append every metric of m to b.  Processes that died without giving
 * their slot back are reclaimed on the way. */
void todo_metrics_write(todo_metrics_t *m, todo_metrics_format_e fmt,
                        todo_buf_t *b);

/* The content type of the Prometheus rendering. */
#define TODO_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
