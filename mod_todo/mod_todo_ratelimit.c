/* The TodoRateLimit glue (see mod_todo_ratelimit.h). */
#include <unistd.h>
#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "mod_todo_ratelimit.h"
#include "todo_metrics.h"

#define RETAINED_KEY "mod_todo_ratelimit"

/* Users remembered at once, all locations together: 65,536 entries of 16
 * bytes (about 1.1 MB of shared memory).  See todo_ratelimit.h for what
 * happens when more users than that are active within a refill period. */
#define ENTRIES 65536

typedef struct {
    apr_shm_t *shm;
} retained_t;

static todo_ratelimit_t *table;
static apr_uint32_t my_pid;

const char *todo_ratelimit_post_config(apr_pool_t *pconf, server_rec *s)
{
    retained_t *kept = ap_retained_data_get(RETAINED_KEY);
    apr_size_t size = todo_ratelimit_size(ENTRIES);
    apr_uint64_t seed = (apr_uint64_t)apr_time_now();
    apr_status_t rv;
    char buf[120];

    table = NULL;
    if (!todo_req_conf_has(pconf, "TodoRateLimit", NULL)) {
        return NULL;
    }
    if (!kept) {
        kept = ap_retained_data_create(RETAINED_KEY, sizeof(*kept));
    }
    /* After a graceful restart the users keep what is left of their
     * budgets. */
    if (kept->shm
        && (table = todo_ratelimit_attach(apr_shm_baseaddr_get(kept->shm),
                                          apr_shm_size_get(kept->shm)))) {
        return NULL;
    }
    rv = apr_shm_create(&kept->shm, size, NULL, s->process->pool);
    if (rv != APR_SUCCESS) {
        kept->shm = NULL;
        return apr_psprintf(pconf,
                            "TodoRateLimit: cannot make %" APR_SIZE_T_FMT
                            " bytes of shared memory: %s",
                            size, apr_strerror(rv, buf, sizeof(buf)));
    }
    apr_generate_random_bytes((unsigned char *)&seed, sizeof(seed));
    table = todo_ratelimit_init(apr_shm_baseaddr_get(kept->shm),
                                apr_shm_size_get(kept->shm), ENTRIES, seed,
                                apr_time_now());
    return table ? NULL : "TodoRateLimit: cannot set up the shared table";
}

void todo_ratelimit_child_init(apr_pool_t *p, server_rec *s)
{
    (void)p;
    (void)s;
    my_pid = (apr_uint32_t)getpid();
}

/* These headers go on every answer: apr_off_t_toa, not apr_psprintf,
 * whose formatter was a third of what the rate limit cost a request
 * (bench/RESULTS.md, instructions per request), and added, not set: only
 * the initial request comes here, before anything else names them.  The
 * values are bounded by the configuration, far below APR_INT64_MAX. */
static void add_header(request_rec *r, const char *name, apr_uint64_t v)
{
    apr_table_addn(r->err_headers_out, name,
                   apr_off_t_toa(r->pool, (apr_off_t)v));
}

int todo_ratelimit_check(request_rec *r)
{
    todo_req_t *q = todo_req_get(r);
    todo_ratelimit_result_t res;

    if (!q || !table || !r->user || !ap_is_initial_req(r)
        || !q->site->ratelimit.requests) {
        return DECLINED;
    }
    todo_ratelimit_take(table, &q->site->ratelimit, q->site->prefix, r->user,
                        apr_time_now(),
                        my_pid ? my_pid : (apr_uint32_t)getpid(), &res);
    /* In err_headers_out: on every answer, errors included. */
    add_header(r, "RateLimit-Limit", res.limit);
    add_header(r, "RateLimit-Remaining", res.remaining);
    add_header(r, "RateLimit-Reset", res.reset);
    if (res.allowed) {
        return DECLINED;
    }
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_off_t_toa(r->pool, (apr_off_t)res.retry));
    todo_metrics_rate_limited();
    todo_rlog(r, APLOG_INFO, 0, 0310,
              "429 for %s %s: the user's rate limit is spent (retry after "
              "%" APR_UINT64_T_FMT " s)",
              r->method, r->uri, res.retry);
    return todo_req_refuse(r, q, HTTP_TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS",
                           apr_psprintf(r->pool,
                                        "too many requests: try again in "
                                        "%" APR_UINT64_T_FMT " s",
                                        res.retry));
}
