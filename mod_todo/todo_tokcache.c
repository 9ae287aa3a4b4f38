/* todo_tokcache: verified tokens, keyed by their SHA-256.
 *
 * A fixed table of 4-way set-associative buckets, allocated once: no
 * allocation after configuration, no unbounded growth whatever tokens
 * clients send.  Buckets are guarded by striped mutexes so concurrent
 * requests rarely contend.  The whole hash is compared, so a hit means the
 * very same token was verified before. */
#include "todo_tokcache.h"

#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define TODO_TOKCACHE_WAYS 4
#define TODO_TOKCACHE_MAX_STRIPES 16
/* Far more than any sensible configuration; keeps the size arithmetic
 * away from overflow. */
#define TODO_TOKCACHE_MAX_ENTRIES (1u << 22)
#define TODO_TOKCACHE_HASH_LEN 32

typedef struct {
    unsigned char hash[TODO_TOKCACHE_HASH_LEN];
    apr_int64_t deadline;
    apr_uint64_t stamp; /* insertion order in the stripe; 0: free */
    unsigned char user_len;
    char user[TODO_JWT_MAX_USER + 1];
} entry_t;

typedef struct {
    apr_thread_mutex_t *mutex;
    apr_uint64_t clock; /* last stamp handed out */
    apr_int64_t now;    /* latest "now" seen by get(): what expired */
} stripe_t;

struct todo_tokcache {
    EVP_MD *sha256; /* fetched once: see hash */
    entry_t *entries;
    unsigned nbuckets; /* power of two */
    stripe_t *stripes;
    unsigned nstripes; /* power of two, <= nbuckets */
};

static apr_status_t md_free(void *md)
{
    EVP_MD_free(md);
    return APR_SUCCESS;
}

todo_tokcache_t *todo_tokcache_make(apr_pool_t *p, unsigned capacity)
{
    todo_tokcache_t *c = apr_pcalloc(p, sizeof(*c));
    unsigned n = TODO_TOKCACHE_WAYS, i;

    if (capacity == 0) {
        return c; /* disabled: no buckets */
    }
    c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (c->sha256) {
        apr_pool_cleanup_register(p, c->sha256, md_free,
                                  apr_pool_cleanup_null);
    }
    if (capacity > TODO_TOKCACHE_MAX_ENTRIES) {
        capacity = TODO_TOKCACHE_MAX_ENTRIES;
    }
    while (n < capacity) {
        n *= 2;
    }
    c->nbuckets = n / TODO_TOKCACHE_WAYS;
    c->nstripes = c->nbuckets < TODO_TOKCACHE_MAX_STRIPES
                      ? c->nbuckets
                      : TODO_TOKCACHE_MAX_STRIPES;
    c->entries = apr_pcalloc(p, (apr_size_t)n * sizeof(*c->entries));
    c->stripes = apr_pcalloc(p, c->nstripes * sizeof(*c->stripes));
    for (i = 0; i < c->nstripes; i++) {
        if (apr_thread_mutex_create(&c->stripes[i].mutex,
                                    APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS) {
            c->nbuckets = 0; /* cannot lock: behave as disabled */
            return c;
        }
    }
    return c;
}

/* With OpenSSL 3, EVP_sha256() makes every digest look its implementation
 * up again (locks included); a digest fetched once costs half as much, and
 * this runs on every authenticated request. */
static int token_hash(const todo_tokcache_t *c, const char *token,
                      apr_size_t len, unsigned char *md)
{
    return EVP_Digest(token, len, md, NULL,
                      c->sha256 ? c->sha256 : EVP_sha256(), NULL)
           == 1;
}

/* Bucket and stripe of a hash.  SHA-256 output is uniform, so its first
 * bytes pick the bucket. */
static unsigned bucket_of(const todo_tokcache_t *c, const unsigned char *md)
{
    unsigned h = ((unsigned)md[0] << 24) | ((unsigned)md[1] << 16)
                 | ((unsigned)md[2] << 8) | md[3];

    return h & (c->nbuckets - 1);
}

static stripe_t *stripe_of(const todo_tokcache_t *c, unsigned bucket)
{
    return &c->stripes[bucket & (c->nstripes - 1)];
}

static entry_t *find_entry(entry_t *b, const unsigned char *md)
{
    int i;

    for (i = 0; i < TODO_TOKCACHE_WAYS; i++) {
        if (b[i].stamp
            && CRYPTO_memcmp(b[i].hash, md, TODO_TOKCACHE_HASH_LEN) == 0) {
            return &b[i];
        }
    }
    return NULL;
}

int todo_tokcache_get(todo_tokcache_t *c, const char *token, apr_size_t len,
                      apr_int64_t now, apr_pool_t *p, const char **user)
{
    unsigned char md[TODO_TOKCACHE_HASH_LEN];
    stripe_t *st;
    entry_t *e;
    unsigned bucket;
    int hit = 0;

    if (c->nbuckets == 0 || token == NULL || !token_hash(c, token, len, md)) {
        return 0;
    }
    bucket = bucket_of(c, md);
    st = stripe_of(c, bucket);
    apr_thread_mutex_lock(st->mutex);
    if (now > st->now) {
        st->now = now;
    }
    e = find_entry(&c->entries[bucket * TODO_TOKCACHE_WAYS], md);
    if (e && now < e->deadline) {
        *user = apr_pstrmemdup(p, e->user, e->user_len);
        hit = 1;
    }
    else if (e) {
        e->stamp = 0; /* expired: free the slot */
    }
    apr_thread_mutex_unlock(st->mutex);
    return hit;
}

/* The slot to (re)use in a bucket: the token's own, a free one, one past
 * its deadline, else the oldest. */
static entry_t *victim_of(entry_t *b, const unsigned char *md, apr_int64_t now)
{
    entry_t *e = find_entry(b, md), *oldest = &b[0];
    int i;

    if (e) {
        return e;
    }
    for (i = 0; i < TODO_TOKCACHE_WAYS; i++) {
        if (b[i].stamp == 0 || now >= b[i].deadline) {
            return &b[i];
        }
        if (b[i].stamp < oldest->stamp) {
            oldest = &b[i];
        }
    }
    return oldest;
}

void todo_tokcache_put(todo_tokcache_t *c, const char *token, apr_size_t len,
                       const char *user, apr_int64_t deadline)
{
    unsigned char md[TODO_TOKCACHE_HASH_LEN];
    stripe_t *st;
    entry_t *e;
    apr_size_t ulen;
    unsigned bucket;

    if (c->nbuckets == 0 || token == NULL || user == NULL) {
        return;
    }
    ulen = strlen(user);
    if (ulen == 0 || ulen > TODO_JWT_MAX_USER
        || !token_hash(c, token, len, md)) {
        return;
    }
    bucket = bucket_of(c, md);
    st = stripe_of(c, bucket);
    apr_thread_mutex_lock(st->mutex);
    e = victim_of(&c->entries[bucket * TODO_TOKCACHE_WAYS], md, st->now);
    memcpy(e->hash, md, sizeof(md));
    e->deadline = deadline;
    e->stamp = ++st->clock;
    e->user_len = (unsigned char)ulen;
    memcpy(e->user, user, ulen);
    e->user[ulen] = '\0';
    apr_thread_mutex_unlock(st->mutex);
}
