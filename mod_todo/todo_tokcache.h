/* todo_tokcache: a bounded, thread-safe cache of verified tokens, so a
 * client that sends the same bearer token on every request pays for one
 * signature check per token instead of one per request.
 *
 * Entries are keyed by the SHA-256 of the whole token and remember the user
 * and a deadline (the token's exp plus the leeway); an entry past its
 * deadline is never returned.  When full, the oldest entry of a bucket is
 * replaced.  Memory is allocated once, at configuration time. */
#ifndef TODO_TOKCACHE_H
#define TODO_TOKCACHE_H

#include <apr_pools.h>
#include "todo_jwt.h"

typedef struct todo_tokcache todo_tokcache_t;

/* capacity: number of entries (0 disables the cache: get always misses). */
todo_tokcache_t *todo_tokcache_make(apr_pool_t *p, unsigned capacity);

/* 1 and *user (copied into p) when token is cached and now < deadline. */
int todo_tokcache_get(todo_tokcache_t *c, const char *token, apr_size_t len,
                      apr_int64_t now, apr_pool_t *p, const char **user);

/* Remember a verified token until deadline (seconds since the epoch). */
void todo_tokcache_put(todo_tokcache_t *c, const char *token, apr_size_t len,
                       const char *user, apr_int64_t deadline);

#endif
