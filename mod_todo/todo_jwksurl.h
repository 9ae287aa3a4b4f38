/* todo_jwksurl: a JWKS fetched from a URL, cached in memory and shared by the
 * threads of one process.  A token with an unknown kid triggers a refetch,
 * at most once per refresh interval.  Free of httpd. */
#ifndef TODO_JWKSURL_H
#define TODO_JWKSURL_H

#include <apr_pools.h>
#include <apr_time.h>
#include "todo_keys.h"

typedef struct todo_jwksurl todo_jwksurl_t;

/* Created at configuration time in a long-lived pool (pconf).  Nothing is
 * fetched here.  interval: least time between two fetches; timeout: bound
 * on one fetch. */
todo_jwksurl_t *todo_jwksurl_make(apr_pool_t *p, const char *url,
                                  apr_interval_time_t interval,
                                  apr_interval_time_t timeout);

/* The current key set, fetched on first use (and again once it is older
 * than max(interval, 1 hour)).  Every failed fetch is
 * logged (todo_log) at warning, at most once per interval, and the first
 * success after failures at notice.  When the caller has seen an unknown kid,
 * pass refresh=1: the set is refetched unless the last fetch was less than
 * `interval` ago.  The caller holds a reference on the returned set and
 * must give it back with todo_jwksurl_release().  NULL (with *err) when
 * no set could ever be loaded. */
const todo_keys_t *todo_jwksurl_acquire(todo_jwksurl_t *r, int refresh,
                                        const char **err);
void todo_jwksurl_release(todo_jwksurl_t *r, const todo_keys_t *ks);

/* For tests and diagnostics: how many fetches were attempted. */
unsigned todo_jwksurl_fetches(const todo_jwksurl_t *r);

/* For tests and diagnostics: how many key sets are alive (the current one
 * plus replaced ones still referenced by some caller). */
unsigned todo_jwksurl_sets(const todo_jwksurl_t *r);

#endif
