/* todo_jwksurl: a JWKS URL, fetched on demand and shared by the threads of a
 * process.
 *
 * Each fetched set lives in its own unmanaged pool and is reference
 * counted: the remote holds one reference on its current set, and every
 * acquire() takes one more.  When a refetch replaces the set, the old one
 * is destroyed by whoever drops its last reference, so a request that is
 * still verifying with it is never pulled from under.
 *
 * The network fetch runs without the mutex held, guarded by a "fetching"
 * flag so only one thread fetches; the others keep using the current set,
 * or, when there is none yet, wait for that one fetch to end. */
#include "todo_jwksurl.h"

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

#include "todo_fetch.h"
#include "todo_log.h"
#include "todo_metrics.h"

/* A set older than this is refetched even if no unknown kid was seen, so
 * revoked keys do not stay trusted forever. */
#define MAX_AGE apr_time_from_sec(3600)
/* After a failed first load, do not retry more often than this. */
#define RETRY apr_time_from_sec(5)

typedef struct jwks_set {
    struct jwks_set *next; /* list of live sets, current first */
    apr_pool_t *pool;      /* unmanaged; holds ks and its keys */
    todo_keys_t *ks;
    unsigned refs;
    apr_time_t loaded;
} jwks_set_t;

struct todo_jwksurl {
    apr_pool_t *pool;
    const char *url;
    apr_interval_time_t interval;
    apr_interval_time_t timeout;
    apr_thread_mutex_t *mutex;  /* guards everything below */
    apr_thread_cond_t *fetched; /* signalled when a fetch ends */
    jwks_set_t *sets;           /* current set (if any) first */
    jwks_set_t *current;
    int fetching;
    apr_time_t last_attempt; /* 0: never */
    unsigned fetches;
    const char *last_error; /* interned in errors */
    unsigned failures;      /* failed fetches since the last success */
    apr_time_t last_warned; /* the last failure logged; 0: none */
    apr_hash_t *errors;     /* distinct error texts, kept for good */
};

/* Destroy whatever is still alive when the configuration goes away; no
 * request can hold a reference by then. */
static apr_status_t cleanup(void *data)
{
    todo_jwksurl_t *r = data;

    while (r->sets) {
        jwks_set_t *s = r->sets;

        r->sets = s->next;
        apr_pool_destroy(s->pool);
    }
    r->current = NULL;
    return APR_SUCCESS;
}

todo_jwksurl_t *todo_jwksurl_make(apr_pool_t *p, const char *url,
                                  apr_interval_time_t interval,
                                  apr_interval_time_t timeout)
{
    todo_jwksurl_t *r = apr_pcalloc(p, sizeof(*r));

    r->pool = p;
    r->url = apr_pstrdup(p, url);
    r->interval = interval > 0 ? interval : 0;
    r->timeout = timeout;
    r->errors = apr_hash_make(p);
    if (apr_thread_mutex_create(&r->mutex, APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS
        || apr_thread_cond_create(&r->fetched, p) != APR_SUCCESS) {
        return NULL;
    }
    apr_pool_cleanup_register(p, r, cleanup, apr_pool_cleanup_null);
    return r;
}

/* *err must stay valid after the mutex is released while other threads
 * record newer errors, so each distinct text is kept once in r->pool:
 * bounded, because error texts come from small fixed sets. */
static const char *intern(todo_jwksurl_t *r, const char *msg)
{
    const char *s = apr_hash_get(r->errors, msg, APR_HASH_KEY_STRING);

    if (s == NULL) {
        s = apr_pstrdup(r->pool, msg);
        apr_hash_set(r->errors, s, APR_HASH_KEY_STRING, s);
    }
    return s;
}

/* Fetch and parse, without the mutex.  *err is allocated in tmp. */
static jwks_set_t *load_set(todo_jwksurl_t *r, apr_pool_t *tmp,
                            const char **err)
{
    apr_pool_t *pool;
    jwks_set_t *s;
    char *body;
    apr_size_t len;

    if (todo_fetch_get(tmp, r->url, r->timeout, &body, &len, err)
        != APR_SUCCESS) {
        *err = apr_pstrcat(tmp, "JWKS fetch failed: ", *err, NULL);
        return NULL;
    }
    /* Unmanaged: sets are made and destroyed from request threads, and a
     * child of the (unlocked) configuration pool must not be. */
    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS) {
        *err = "JWKS: out of memory";
        return NULL;
    }
    s = apr_pcalloc(pool, sizeof(*s));
    s->pool = pool;
    s->ks = todo_keys_make(pool);
    if ((*err = todo_keys_add_jwks(s->ks, body, len, NULL)) != NULL) {
        *err = apr_pstrcat(tmp, "JWKS rejected: ", *err, NULL);
        apr_pool_destroy(pool);
        return NULL;
    }
    s->refs = 1; /* the remote's own reference */
    return s;
}

static void unlink_set(todo_jwksurl_t *r, jwks_set_t *s)
{
    jwks_set_t **pp;

    for (pp = &r->sets; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            return;
        }
    }
}

/* Drop one reference (mutex held); returns the set when it must now be
 * destroyed, which the caller does after unlocking. */
static jwks_set_t *unref(todo_jwksurl_t *r, jwks_set_t *s)
{
    if (--s->refs > 0) {
        return NULL;
    }
    unlink_set(r, s);
    return s;
}

/* Whether this acquire should fetch (mutex held). */
static int due(const todo_jwksurl_t *r, int refresh, apr_time_t now)
{
    apr_interval_time_t since = now - r->last_attempt;
    apr_interval_time_t retry = r->interval < RETRY ? r->interval : RETRY;
    apr_interval_time_t max_age =
        r->interval > MAX_AGE ? r->interval : MAX_AGE;

    if (r->current == NULL) {
        return r->last_attempt == 0 || since >= retry;
    }
    if (refresh && since >= r->interval) {
        return 1;
    }
    /* A stale set is refreshed, but a failing endpoint is not hammered. */
    return now - r->current->loaded >= max_age && since >= r->interval;
}

/* A failed fetch (mutex held): a key-rotation outage must show in the
 * error log, but a dead endpoint must not flood it -- one warning per
 * refresh interval. */
static void failed(todo_jwksurl_t *r, apr_time_t now)
{
    apr_interval_time_t every =
        r->interval > 0 ? r->interval : apr_time_from_sec(1);

    r->failures++;
    if (r->last_warned && now - r->last_warned < every) {
        return;
    }
    r->last_warned = now;
    if (r->current) {
        todo_log_perror(
            TODO_LOG_MARK, TODO_LOG_WARNING, 0, NULL,
            TODO_LOGNO(0105) "JWKS URL %s: %s (%u failed "
                             "fetch(es) in a row); still verifying with the "
                             "%d key(s) loaded %" APR_TIME_T_FMT " s ago",
            r->url, r->last_error, r->failures,
            todo_keys_count(r->current->ks),
            apr_time_sec(now - r->current->loaded));
    }
    else {
        todo_log_perror(
            TODO_LOG_MARK, TODO_LOG_WARNING, 0, NULL,
            TODO_LOGNO(0105) "JWKS URL %s: %s (%u failed "
                             "fetch(es) in a row); no keys loaded yet: tokens "
                             "that need them are answered 503",
            r->url, r->last_error, r->failures);
    }
}

/* A successful fetch (mutex held), after failures or not. */
static void recovered(todo_jwksurl_t *r, const jwks_set_t *s)
{
    if (r->failures) {
        todo_log_perror(TODO_LOG_MARK, TODO_LOG_NOTICE, 0, NULL,
                        TODO_LOGNO(0106) "JWKS URL %s: fetched again after "
                                         "%u failed fetch(es); %d key(s)",
                        r->url, r->failures, todo_keys_count(s->ks));
    }
    else {
        todo_log_perror(TODO_LOG_MARK, TODO_LOG_INFO, 0, NULL,
                        TODO_LOGNO(0107) "JWKS URL %s: fetched, %d key(s)",
                        r->url, todo_keys_count(s->ks));
    }
    r->failures = 0;
    r->last_warned = 0;
}

/* Fetch with the mutex released, then install the result (mutex held on
 * entry and on return).  Returns a set to destroy after unlocking. */
static jwks_set_t *refetch(todo_jwksurl_t *r, apr_time_t now)
{
    jwks_set_t *s, *old = NULL;
    apr_pool_t *tmp;
    const char *err = NULL;

    r->fetching = 1;
    r->last_attempt = now;
    r->fetches++;
    apr_thread_mutex_unlock(r->mutex);
    s = NULL;
    if (apr_pool_create_unmanaged_ex(&tmp, NULL, NULL) != APR_SUCCESS) {
        tmp = NULL;
        err = "JWKS: out of memory";
    }
    else {
        s = load_set(r, tmp, &err);
    }
    todo_metrics_jwks_fetch(s != NULL);
    apr_thread_mutex_lock(r->mutex);
    if (s) {
        recovered(r, s);
        s->loaded = now;
        s->next = r->sets;
        r->sets = s;
        if (r->current) {
            old = unref(r, r->current);
        }
        r->current = s;
    }
    else {
        /* Keep the previous set: a broken endpoint must not lock out
         * users whose tokens the old keys still verify. */
        r->last_error = intern(r, err ? err : "JWKS fetch failed");
        failed(r, now);
    }
    if (tmp) {
        apr_pool_destroy(tmp);
    }
    r->fetching = 0;
    apr_thread_cond_broadcast(r->fetched);
    return old;
}

const todo_keys_t *todo_jwksurl_acquire(todo_jwksurl_t *r, int refresh,
                                        const char **err)
{
    jwks_set_t *dead = NULL;
    const todo_keys_t *ks = NULL;
    apr_time_t now = apr_time_now();

    apr_thread_mutex_lock(r->mutex);
    if (!r->fetching && due(r, refresh, now)) {
        dead = refetch(r, now);
    }
    /* Someone else is fetching: only a thread that has nothing to verify
     * with waits for the outcome; the others go on with the current set. */
    while (r->fetching && r->current == NULL) {
        apr_thread_cond_wait(r->fetched, r->mutex);
    }
    if (r->current) {
        r->current->refs++;
        ks = r->current->ks;
    }
    else if (err) {
        *err = r->last_error ? r->last_error : "JWKS not loaded yet";
    }
    apr_thread_mutex_unlock(r->mutex);
    if (dead) {
        apr_pool_destroy(dead->pool);
    }
    return ks;
}

void todo_jwksurl_release(todo_jwksurl_t *r, const todo_keys_t *ks)
{
    jwks_set_t *s, *dead = NULL;

    if (ks == NULL) {
        return;
    }
    apr_thread_mutex_lock(r->mutex);
    for (s = r->sets; s; s = s->next) {
        if (s->ks == ks) {
            dead = unref(r, s);
            break;
        }
    }
    apr_thread_mutex_unlock(r->mutex);
    if (dead) {
        apr_pool_destroy(dead->pool);
    }
}

unsigned todo_jwksurl_fetches(const todo_jwksurl_t *r)
{
    unsigned n;

    /* Under the mutex: another thread may be counting a fetch. */
    apr_thread_mutex_lock(r->mutex);
    n = r->fetches;
    apr_thread_mutex_unlock(r->mutex);
    return n;
}

unsigned todo_jwksurl_sets(const todo_jwksurl_t *r)
{
    const jwks_set_t *s;
    unsigned n = 0;

    apr_thread_mutex_lock(r->mutex);
    for (s = r->sets; s; s = s->next) {
        n++;
    }
    apr_thread_mutex_unlock(r->mutex);
    return n;
}
