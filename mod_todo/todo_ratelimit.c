/* todo_ratelimit: token buckets in shared memory (see the header). */
#include "todo_ratelimit.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "todo_metrics.h"

/* "todorl" and a layout version. */
#define MAGIC 0x746f646f726c0001ULL
#define NS_PER_SEC 1000000000ULL

typedef struct {
    apr_uint64_t key;     /* 0: free */
    apr_uint64_t full_at; /* ns on the table's clock */
} entry_t;

typedef struct {
    apr_uint32_t lock; /* the holder's pid; 0: free */
    apr_uint32_t pad;
    entry_t way[TODO_RATELIMIT_WAYS];
} set_t;

struct todo_ratelimit {
    apr_uint64_t magic;
    apr_uint64_t size;
    apr_uint64_t nsets; /* power of two */
    apr_uint64_t seed;
    apr_uint64_t base; /* apr_time_t: the table's clock starts here */
    set_t sets[];
};

const char *todo_ratelimit_conf(todo_ratelimit_conf_t *c, long requests,
                                long seconds, long burst)
{
    if (requests < 1 || requests > TODO_RATELIMIT_MAX_REQUESTS) {
        return "requests must be from 1 to 1000000";
    }
    if (seconds < 1 || seconds > TODO_RATELIMIT_MAX_SECONDS) {
        return "seconds must be from 1 to 86400";
    }
    if (burst < 0 || burst > TODO_RATELIMIT_MAX_BURST) {
        return "burst must be from 1 to 100000";
    }
    if (!burst) {
        burst = requests > TODO_RATELIMIT_MAX_BURST ? TODO_RATELIMIT_MAX_BURST
                                                    : requests;
    }
    c->requests = (apr_uint32_t)requests;
    c->seconds = (apr_uint32_t)seconds;
    c->burst = (apr_uint32_t)burst;
    /* Rounded up: never a token sooner than the limit says. */
    c->interval_ns =
        ((apr_uint64_t)seconds * NS_PER_SEC + (apr_uint64_t)requests - 1)
        / (apr_uint64_t)requests;
    return NULL;
}

static apr_uint64_t ceil_sec(apr_uint64_t ns)
{
    return (ns + NS_PER_SEC - 1) / NS_PER_SEC;
}

void todo_ratelimit_step(apr_uint64_t *full_at, apr_uint64_t now_ns,
                         const todo_ratelimit_conf_t *c,
                         todo_ratelimit_result_t *out)
{
    apr_uint64_t t = c->interval_ns;
    /* Burst times interval: at most 100000 x 86400 s, within 64 bits. */
    apr_uint64_t size = (apr_uint64_t)c->burst * t;
    apr_uint64_t tat = *full_at > now_ns ? *full_at : now_ns;
    apr_uint64_t debt = tat - now_ns; /* the missing tokens, as time */

    out->limit = c->burst;
    out->retry = 0;
    if (debt + t <= size) {
        out->allowed = 1;
        debt += t;
        *full_at = now_ns + debt;
        out->remaining = (size - debt) / t;
    }
    else {
        out->allowed = 0;
        out->remaining = 0;
        out->retry = ceil_sec(debt + t - size);
        if (!out->retry) {
            out->retry = 1;
        }
    }
    out->reset = ceil_sec(debt);
}

/* ----------------------------------------------------------- the table */

static apr_uint64_t nsets_for(unsigned entries)
{
    apr_uint64_t n = 1;

    while (n * TODO_RATELIMIT_WAYS < entries) {
        n *= 2;
    }
    return n;
}

apr_size_t todo_ratelimit_size(unsigned entries)
{
    return sizeof(todo_ratelimit_t)
           + (apr_size_t)nsets_for(entries) * sizeof(set_t);
}

todo_ratelimit_t *todo_ratelimit_init(void *mem, apr_size_t size,
                                      unsigned entries, apr_uint64_t seed,
                                      apr_time_t now)
{
    todo_ratelimit_t *t = mem;

    if (!mem || size < todo_ratelimit_size(entries)) {
        return NULL;
    }
    memset(mem, 0, size);
    t->size = size;
    t->nsets = nsets_for(entries);
    t->seed = seed;
    t->base = (apr_uint64_t)now;
    __atomic_store_n(&t->magic, MAGIC, __ATOMIC_RELEASE);
    return t;
}

todo_ratelimit_t *todo_ratelimit_attach(void *mem, apr_size_t size)
{
    todo_ratelimit_t *t = mem;

    if (!mem || size < sizeof(*t)
        || __atomic_load_n(&t->magic, __ATOMIC_ACQUIRE) != MAGIC
        || t->size != size || sizeof(*t) + t->nsets * sizeof(set_t) > size) {
        return NULL;
    }
    return t;
}

unsigned todo_ratelimit_entries(const todo_ratelimit_t *t)
{
    return (unsigned)(t->nsets * TODO_RATELIMIT_WAYS);
}

/* FNV-1a over the seed, the scope and the user, then a 64-bit finalizer
 * (MurmurHash3's) to spread the bits over the set index.  Keyed by the
 * table's random seed, so set collisions cannot be planned from outside;
 * user ids come from verified tokens anyway. */
static apr_uint64_t mix(apr_uint64_t h, const void *data, apr_size_t n)
{
    const unsigned char *p = data;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static apr_uint64_t key_of(apr_uint64_t seed, const char *scope,
                           const char *user)
{
    apr_uint64_t h = 0xcbf29ce484222325ULL;

    h = mix(h, &seed, sizeof(seed));
    h = mix(h, scope, strlen(scope) + 1); /* with its NUL: a separator */
    h = mix(h, user, strlen(user));
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static int alive(apr_uint32_t pid)
{
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

/* A spin lock shared by processes.  The critical section is a few dozen
 * instructions, so spinning is cheap; the holder may be preempted, so
 * spinning yields the processor now and then, and a holder that died
 * (killed inside the section) is noticed and its lock taken over. */
static void lock(set_t *s, apr_uint32_t pid)
{
    unsigned spins = 0;

    for (;;) {
        apr_uint32_t holder = 0;

        if (__atomic_compare_exchange_n(&s->lock, &holder, pid, 0,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            return;
        }
        if (++spins % 64) {
            continue;
        }
        if (spins % 4096 == 0 && holder != pid && !alive(holder)
            && __atomic_compare_exchange_n(&s->lock, &holder, pid, 0,
                                           __ATOMIC_ACQUIRE,
                                           __ATOMIC_RELAXED)) {
            return;
        }
        sched_yield();
    }
}

static void unlock(set_t *s)
{
    __atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

void todo_ratelimit_take(todo_ratelimit_t *t, const todo_ratelimit_conf_t *c,
                         const char *scope, const char *user, apr_time_t now,
                         apr_uint32_t pid, todo_ratelimit_result_t *out)
{
    apr_uint64_t key = key_of(t->seed, scope, user);
    set_t *s = &t->sets[key & (t->nsets - 1)];
    apr_uint64_t now_ns =
        (apr_uint64_t)now > t->base ? ((apr_uint64_t)now - t->base) * 1000 : 0;
    entry_t *e = NULL;
    int i, evicted = 0;

    lock(s, pid);
    for (i = 0; i < TODO_RATELIMIT_WAYS && !e; i++) {
        if (s->way[i].key == key) {
            e = &s->way[i];
        }
    }
    if (!e) {
        /* The free entry, else the fullest bucket (refilled first). */
        e = &s->way[0];
        for (i = 1; i < TODO_RATELIMIT_WAYS && e->key; i++) {
            if (!s->way[i].key || s->way[i].full_at < e->full_at) {
                e = &s->way[i];
            }
        }
        evicted = e->key && e->full_at > now_ns;
        e->key = key;
        e->full_at = 0; /* a new bucket is full */
    }
    todo_ratelimit_step(&e->full_at, now_ns, c, out);
    unlock(s);
    if (evicted) {
        todo_metrics_rate_limit_eviction();
    }
}
