/* todo_metrics: counters in shared memory and their exposition (see the
 * header).
 *
 * The counters are plain 64-bit integers updated with the compiler's
 * atomic builtins, which are lock-free on the platforms httpd runs on and
 * work across processes in shared memory (APR's apr_atomic may fall back
 * to a process-local mutex).  Relaxed ordering: each counter is exact on
 * its own; a scrape taken while requests run may see one counter a
 * request ahead of another, as with any Prometheus client library. */
#include "todo_metrics.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <apr_strings.h>

/* "todomet" and a layout version. */
#define MAGIC 0x746f646f6d657401ULL
#define CLASSES 5 /* 1xx ... 5xx */

typedef struct {
    apr_uint32_t pid;     /* 0: free */
    apr_uint32_t db_down; /* its database gate is shut */
} slot_t;

struct todo_metrics {
    apr_uint64_t magic;
    apr_uint64_t size; /* of the whole block */
    apr_uint64_t nslots;
    apr_uint64_t started; /* apr_time_t of init */
    apr_uint64_t requests[TODO_OP_COUNT][TODO_ROUTE_METHODS][CLASSES];
    apr_uint64_t buckets[TODO_OP_COUNT][TODO_METRICS_BUCKETS + 1];
    apr_uint64_t sum_us[TODO_OP_COUNT];
    apr_uint64_t auth_failures[TODO_AUTHF_COUNT];
    apr_uint64_t token_cache[2]; /* misses, hits */
    apr_uint64_t jwks[2];        /* failed, ok */
    apr_uint64_t db_errors[TODO_DBERR_COUNT];
    apr_uint64_t db_unavailable;
    apr_uint64_t db_outages;
    apr_uint64_t idempotent_replays;
    apr_uint64_t rate_limited;
    apr_uint64_t rate_limit_evictions;
    slot_t slots[];
};

/* Upper bounds of the histogram's buckets, in microseconds, and as the
 * "le" label says them (seconds). */
static const apr_interval_time_t bounds[TODO_METRICS_BUCKETS] = {
    500,    1000,   2500,   5000,    10000,   25000,   50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000
};
static const char *const le[TODO_METRICS_BUCKETS + 1] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf"
};

static const char *const auth_reasons[TODO_AUTHF_COUNT] = {
    "missing", "malformed", "algorithm",        "signature",
    "expired", "claims",    "keys_unavailable", "other"
};

static const char *const db_kinds[TODO_DBERR_COUNT] = {
    "connection", "stale_plan", "data", "conflict", "statement"
};

static todo_metrics_t *current;
static slot_t *my_slot;

#define ADD(field, n) __atomic_fetch_add(&(field), (n), __ATOMIC_RELAXED)
#define GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

apr_size_t todo_metrics_size(unsigned nslots)
{
    return sizeof(todo_metrics_t) + (apr_size_t)nslots * sizeof(slot_t);
}

todo_metrics_t *todo_metrics_init(void *mem, apr_size_t size, unsigned nslots,
                                  apr_time_t now)
{
    todo_metrics_t *m = mem;

    if (!mem || size < todo_metrics_size(nslots)) {
        return NULL;
    }
    memset(mem, 0, size);
    m->size = size;
    m->nslots = nslots;
    m->started = (apr_uint64_t)now;
    __atomic_store_n(&m->magic, MAGIC, __ATOMIC_RELEASE);
    return m;
}

todo_metrics_t *todo_metrics_attach(void *mem, apr_size_t size)
{
    todo_metrics_t *m = mem;

    if (!mem || size < sizeof(*m)
        || __atomic_load_n(&m->magic, __ATOMIC_ACQUIRE) != MAGIC
        || m->size != size || todo_metrics_size((unsigned)m->nslots) > size) {
        return NULL;
    }
    return m;
}

void todo_metrics_set_current(todo_metrics_t *m)
{
    current = m;
    my_slot = NULL;
}

todo_metrics_t *todo_metrics_current(void)
{
    return current;
}

int todo_metrics_child_start(todo_metrics_t *m, apr_uint32_t pid)
{
    apr_uint64_t i;

    for (i = 0; m && i < m->nslots; i++) {
        apr_uint32_t want = 0;

        /* A slot still holding this pid belonged to a process that died
         * without giving it back, whose pid we got: ours now. */
        if (GET(m->slots[i].pid) == pid
            || __atomic_compare_exchange_n(&m->slots[i].pid, &want, pid, 0,
                                           __ATOMIC_ACQ_REL,
                                           __ATOMIC_RELAXED)) {
            __atomic_store_n(&m->slots[i].db_down, 0, __ATOMIC_RELAXED);
            my_slot = &m->slots[i];
            return 0;
        }
    }
    return -1;
}

void todo_metrics_child_end(todo_metrics_t *m)
{
    (void)m;
    if (my_slot) {
        __atomic_store_n(&my_slot->db_down, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&my_slot->pid, 0, __ATOMIC_RELEASE);
        my_slot = NULL;
    }
}

/* ---------------------------------------------------------- counting */

int todo_metrics_bucket(apr_interval_time_t took)
{
    int i;

    for (i = 0; i < TODO_METRICS_BUCKETS; i++) {
        if (took <= bounds[i]) {
            return i;
        }
    }
    return TODO_METRICS_BUCKETS;
}

static int status_class(int status)
{
    if (status < 200) {
        return 0;
    }
    if (status >= 500) {
        return 4;
    }
    return status / 100 - 1;
}

void todo_metrics_request(todo_op_e op, const char *method, int status,
                          apr_interval_time_t took)
{
    todo_metrics_t *m = current;

    if (!m) {
        return;
    }
    if ((unsigned)op >= TODO_OP_COUNT) {
        op = TODO_OP_NOT_FOUND;
    }
    if (took < 0) {
        took = 0;
    }
    ADD(m->requests[op][todo_route_method_index(method)][status_class(status)],
        1);
    ADD(m->buckets[op][todo_metrics_bucket(took)], 1);
    ADD(m->sum_us[op], (apr_uint64_t)took);
}

void todo_metrics_auth_failure(todo_auth_failure_e why)
{
    if (current) {
        ADD(current->auth_failures[(unsigned)why < TODO_AUTHF_COUNT
                                       ? why
                                       : TODO_AUTHF_OTHER],
            1);
    }
}

void todo_metrics_token_cache(int hit)
{
    if (current) {
        ADD(current->token_cache[hit ? 1 : 0], 1);
    }
}

void todo_metrics_jwks_fetch(int ok)
{
    if (current) {
        ADD(current->jwks[ok ? 1 : 0], 1);
    }
}

void todo_metrics_db_error(todo_db_error_e kind)
{
    if (current && (unsigned)kind < TODO_DBERR_COUNT) {
        ADD(current->db_errors[kind], 1);
    }
}

void todo_metrics_db_unavailable(void)
{
    if (current) {
        ADD(current->db_unavailable, 1);
    }
}

void todo_metrics_db_down(int down)
{
    if (!current) {
        return;
    }
    if (down) {
        ADD(current->db_outages, 1);
    }
    if (my_slot) {
        __atomic_store_n(&my_slot->db_down, down ? 1 : 0, __ATOMIC_RELAXED);
    }
}

void todo_metrics_idempotent_replay(void)
{
    if (current) {
        ADD(current->idempotent_replays, 1);
    }
}

void todo_metrics_rate_limited(void)
{
    if (current) {
        ADD(current->rate_limited, 1);
    }
}

void todo_metrics_rate_limit_eviction(void)
{
    if (current) {
        ADD(current->rate_limit_evictions, 1);
    }
}

/* --------------------------------------------------------- rendering */

typedef struct {
    todo_buf_t *b;
    todo_metrics_format_e fmt;
} out_t;

static void family(out_t *o, const char *name, const char *type,
                   const char *help)
{
    if (o->fmt == TODO_METRICS_PROMETHEUS) {
        todo_buf_printf(o->b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                        type);
    }
}

/* One sample: name, optional labels (already formatted), value text. */
static void sample_text(out_t *o, const char *name, const char *labels,
                        const char *value)
{
    todo_buf_puts(o->b, name);
    if (labels && *labels) {
        todo_buf_putc(o->b, '{');
        todo_buf_puts(o->b, labels);
        todo_buf_putc(o->b, '}');
    }
    todo_buf_puts(o->b, o->fmt == TODO_METRICS_PROMETHEUS ? " " : ": ");
    todo_buf_puts(o->b, value);
    todo_buf_putc(o->b, '\n');
}

static void sample(out_t *o, const char *name, const char *labels,
                   apr_uint64_t v)
{
    char num[24];

    apr_snprintf(num, sizeof(num), "%" APR_UINT64_T_FMT, v);
    sample_text(o, name, labels, num);
}

/* Microseconds as seconds, exactly (no floating point). */
static void sample_seconds(out_t *o, const char *name, const char *labels,
                           apr_uint64_t us)
{
    char num[32];

    apr_snprintf(num, sizeof(num),
                 "%" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT, us / 1000000,
                 us % 1000000);
    sample_text(o, name, labels, num);
}

static void write_requests(out_t *o, todo_metrics_t *m, apr_pool_t *p)
{
    static const char *const classes[CLASSES] = { "1xx", "2xx", "3xx", "4xx",
                                                  "5xx" };
    int op, me, c;

    family(o, "todo_http_requests_total", "counter",
           "Requests answered by the todo locations, by operation (route), "
           "method and status class.");
    for (op = 0; op < TODO_OP_COUNT; op++) {
        for (me = 0; me < TODO_ROUTE_METHODS; me++) {
            for (c = 0; c < CLASSES; c++) {
                apr_uint64_t v = GET(m->requests[op][me][c]);

                if (v) {
                    sample(o, "todo_http_requests_total",
                           apr_psprintf(p,
                                        "route=\"%s\",method=\"%s\","
                                        "code_class=\"%s\"",
                                        todo_route_op_name((todo_op_e)op),
                                        todo_route_method_name(me),
                                        classes[c]),
                           v);
                }
            }
        }
    }
}

static void write_histogram(out_t *o, todo_metrics_t *m, apr_pool_t *p)
{
    const char *name = "todo_http_request_duration_seconds";
    int op, i;

    family(o, name, "histogram",
           "Time from reading the request line to the end of the answer, "
           "by operation (route).");
    for (op = 0; op < TODO_OP_COUNT; op++) {
        apr_uint64_t counts[TODO_METRICS_BUCKETS + 1], total = 0;
        const char *route = todo_route_op_name((todo_op_e)op);

        for (i = 0; i <= TODO_METRICS_BUCKETS; i++) {
            counts[i] = GET(m->buckets[op][i]);
            total += counts[i];
        }
        if (!total) {
            continue;
        }
        /* Cumulative, and _count is the +Inf bucket: one consistent
         * snapshot of the buckets read once. */
        total = 0;
        for (i = 0; i <= TODO_METRICS_BUCKETS; i++) {
            total += counts[i];
            sample(o, "todo_http_request_duration_seconds_bucket",
                   apr_psprintf(p, "route=\"%s\",le=\"%s\"", route, le[i]),
                   total);
        }
        sample_seconds(o, "todo_http_request_duration_seconds_sum",
                       apr_psprintf(p, "route=\"%s\"", route),
                       GET(m->sum_us[op]));
        sample(o, "todo_http_request_duration_seconds_count",
               apr_psprintf(p, "route=\"%s\"", route), total);
    }
}

static void write_labelled(out_t *o, apr_pool_t *p, const char *name,
                           const char *help, const char *label,
                           const char *const *values, const apr_uint64_t *v,
                           int n)
{
    int i;

    family(o, name, "counter", help);
    for (i = 0; i < n; i++) {
        sample(o, name, apr_psprintf(p, "%s=\"%s\"", label, values[i]),
               GET(v[i]));
    }
}

static void write_counter(out_t *o, const char *name, const char *help,
                          const apr_uint64_t *v)
{
    family(o, name, "counter", help);
    sample(o, name, NULL, GET(*v));
}

static int alive(apr_uint32_t pid)
{
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

static void write_gauges(out_t *o, todo_metrics_t *m)
{
    apr_uint64_t i, procs = 0, down = 0;

    for (i = 0; i < m->nslots; i++) {
        apr_uint32_t pid = GET(m->slots[i].pid);

        if (!pid) {
            continue;
        }
        if (!alive(pid)) {
            /* Died without giving its slot back (a crash): free it. */
            __atomic_compare_exchange_n(&m->slots[i].pid, &pid, 0, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
            continue;
        }
        procs++;
        down += GET(m->slots[i].db_down) ? 1 : 0;
    }
    family(o, "todo_processes", "gauge",
           "Apache child processes running mod_todo now.");
    sample(o, "todo_processes", NULL, procs);
    family(o, "todo_db_down_processes", "gauge",
           "Child processes that cannot reach the database now and refuse "
           "its requests at once (503) while they back off.");
    sample(o, "todo_db_down_processes", NULL, down);
    family(o, "todo_metrics_start_time_seconds", "gauge",
           "When these counters started (Unix time): they survive graceful "
           "restarts, not a stop and start of Apache.");
    sample(o, "todo_metrics_start_time_seconds", NULL,
           (apr_uint64_t)apr_time_sec((apr_time_t)m->started));
}

void todo_metrics_write(todo_metrics_t *m, todo_metrics_format_e fmt,
                        todo_buf_t *b)
{
    static const char *const jwks_results[2] = { "failure", "success" };
    out_t o;

    o.b = b;
    o.fmt = fmt;
    write_requests(&o, m, b->pool);
    write_histogram(&o, m, b->pool);
    write_labelled(&o, b->pool, "todo_auth_failures_total",
                   "Requests refused for their token (401, or 503 when the "
                   "JWKS URL never answered), by reason class.",
                   "reason", auth_reasons, m->auth_failures, TODO_AUTHF_COUNT);
    write_counter(&o, "todo_token_cache_hits_total",
                  "Tokens found in the verified-token cache.",
                  &m->token_cache[1]);
    write_counter(&o, "todo_token_cache_misses_total",
                  "Tokens not in the verified-token cache (their signature "
                  "was checked).",
                  &m->token_cache[0]);
    write_labelled(&o, b->pool, "todo_jwks_fetches_total",
                   "Fetches of the JWKS URL, by result.", "result",
                   jwks_results, m->jwks, 2);
    write_labelled(&o, b->pool, "todo_db_errors_total",
                   "Database failures, by kind.", "kind", db_kinds,
                   m->db_errors, TODO_DBERR_COUNT);
    write_counter(&o, "todo_db_unavailable_total",
                  "Requests answered 503 because the database could not be "
                  "reached.",
                  &m->db_unavailable);
    write_counter(&o, "todo_db_outages_total",
                  "Times a child process lost the database and began to "
                  "back off.",
                  &m->db_outages);
    write_counter(&o, "todo_idempotent_replays_total",
                  "Requests answered with the stored answer of their "
                  "Idempotency-Key.",
                  &m->idempotent_replays);
    write_counter(&o, "todo_rate_limited_total",
                  "Requests refused 429 by TodoRateLimit.", &m->rate_limited);
    write_counter(&o, "todo_rate_limit_evictions_total",
                  "Rate-limit buckets still in use that were dropped to make "
                  "room (their users started again with a full budget).",
                  &m->rate_limit_evictions);
    write_gauges(&o, m);
}
