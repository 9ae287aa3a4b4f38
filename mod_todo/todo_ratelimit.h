/* todo_ratelimit: per-user token buckets for TodoRateLimit, in a table
 * of fixed size that lives in shared memory, so that every child process
 * draws on the same budget.  Free of httpd: the glue
 * (mod_todo_ratelimit.c) makes the shared memory and asks for a token
 * right after authentication.
 *
 * A bucket holds at most `burst` tokens and gains one every
 * seconds/requests; a request takes one or is refused.  Over any window
 * of `seconds`, a user is granted at most burst + requests.  A bucket is
 * stored as one number, the time at which it will be full again (the
 * GCRA form of a token bucket), in a set-associative table: 8 entries per
 * set, each set guarded by a lock word in the shared memory (the holder's
 * pid; a lock left by a dead process is taken over), so that two children
 * never both spend the same token.  Entries are keyed by a keyed 64-bit
 * hash of the location and the user: no user id is stored.
 *
 * Eviction: a user not in its set takes a free entry, else the entry
 * whose bucket is fullest (the one refilled first).  A bucket that is
 * already full holds nothing worth keeping; dropping one that is not
 * means that user starts again with a full bucket, which is counted
 * (todo_metrics_rate_limit_eviction). */
#ifndef TODO_RATELIMIT_H
#define TODO_RATELIMIT_H

#include <apr_pools.h>
#include <apr_time.h>

/* Entries per set. */
#define TODO_RATELIMIT_WAYS 8
/* Bounds of TodoRateLimit's numbers (so the arithmetic cannot overflow). */
#define TODO_RATELIMIT_MAX_REQUESTS 1000000
#define TODO_RATELIMIT_MAX_SECONDS 86400
#define TODO_RATELIMIT_MAX_BURST 100000

typedef struct todo_ratelimit todo_ratelimit_t;

/* A location's limit, as TodoRateLimit says it. */
typedef struct {
    apr_uint32_t requests; /* 0: off */
    apr_uint32_t seconds;
    apr_uint32_t burst;       /* the bucket's size */
    apr_uint64_t interval_ns; /* time to gain one token (rounded up) */
} todo_ratelimit_conf_t;

/* Fill c from the directive's numbers, which must be within the bounds
 * above; burst 0 means "requests".  NULL, or what is wrong. */
const char *todo_ratelimit_conf(todo_ratelimit_conf_t *c, long requests,
                                long seconds, long burst);

/* What a request learns from its bucket. */
typedef struct {
    int allowed;
    apr_uint64_t limit;     /* the bucket's size: RateLimit-Limit */
    apr_uint64_t remaining; /* tokens left: RateLimit-Remaining */
    apr_uint64_t reset;     /* seconds until full again: RateLimit-Reset */
    apr_uint64_t retry;     /* refused: seconds until a token, >= 1 */
} todo_ratelimit_result_t;

/* ------------------------------------------------ the bucket's arithmetic */

/* One request at now_ns against the bucket whose "full again" time is
 * *full_at (0: never used, full), both in nanoseconds on the table's
 * clock: takes a token when there is one and updates *full_at. */
void todo_ratelimit_step(apr_uint64_t *full_at, apr_uint64_t now_ns,
                         const todo_ratelimit_conf_t *c,
                         todo_ratelimit_result_t *out);

/* ----------------------------------------------------------- the table */

/* Bytes for a table of at least `entries` entries (rounded up to a power
 * of two sets). */
apr_size_t todo_ratelimit_size(unsigned entries);

/* Format mem (size bytes from todo_ratelimit_size(entries)) as an empty
 * table; seed keys the hash.  NULL when size is too small. */
todo_ratelimit_t *todo_ratelimit_init(void *mem, apr_size_t size,
                                      unsigned entries, apr_uint64_t seed,
                                      apr_time_t now);

/* A table made by todo_ratelimit_init with this layout, or NULL. */
todo_ratelimit_t *todo_ratelimit_attach(void *mem, apr_size_t size);

/* How many entries the table has. */
unsigned todo_ratelimit_entries(const todo_ratelimit_t *t);

/* One request of user under scope (the location) at now, for pid (the
 * lock's owner). */
void todo_ratelimit_take(todo_ratelimit_t *t, const todo_ratelimit_conf_t *c,
                         const char *scope, const char *user, apr_time_t now,
                         apr_uint32_t pid, todo_ratelimit_result_t *out);

#endif
