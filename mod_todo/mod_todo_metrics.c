/* The metrics glue (see mod_todo_metrics.h): shared memory for
 * todo_metrics, kept in the parent process's retained data so that the
 * counters survive graceful restarts, and their three readers. */
#include <unistd.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <ap_mpm.h>
#include <mod_status.h>

#include "mod_todo_metrics.h"
#include "todo_metrics.h"

#define RETAINED_KEY "mod_todo_metrics"

/* What outlives a restart: the segment, made in the process pool. */
typedef struct {
    apr_shm_t *shm;
} retained_t;

/* How many child processes the slots must hold: every child of this
 * generation and of the one a graceful restart leaves finishing. */
static unsigned slots_needed(void)
{
    int daemons = 0;

    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons) != APR_SUCCESS
        || daemons < 1) {
        daemons = 256;
    }
    return 2 * (unsigned)daemons + 16;
}

static todo_metrics_t *shared_block(server_rec *s, const char **err)
{
    apr_pool_t *pp = s->process->pool;
    retained_t *kept = ap_retained_data_get(RETAINED_KEY);
    unsigned nslots = slots_needed();
    apr_size_t size = todo_metrics_size(nslots);
    todo_metrics_t *m;
    apr_status_t rv;

    if (!kept) {
        kept = ap_retained_data_create(RETAINED_KEY, sizeof(*kept));
    }
    if (kept->shm
        && (m = todo_metrics_attach(apr_shm_baseaddr_get(kept->shm),
                                    apr_shm_size_get(kept->shm)))) {
        return m; /* a graceful restart: counting goes on */
    }
    /* The first start, or another layout (an upgraded module): a new
     * block.  An old one stays mapped for the old generation's children;
     * it is not destroyed while they may write to it. */
    rv = apr_shm_create(&kept->shm, size, NULL, pp);
    if (rv != APR_SUCCESS) {
        char buf[120];

        kept->shm = NULL;
        *err = apr_psprintf(s->process->pconf,
                            "cannot make %" APR_SIZE_T_FMT
                            " bytes of shared memory for the metrics: %s",
                            size, apr_strerror(rv, buf, sizeof(buf)));
        return NULL;
    }
    return todo_metrics_init(apr_shm_baseaddr_get(kept->shm),
                             apr_shm_size_get(kept->shm), nslots,
                             apr_time_now());
}

const char *todo_metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    const char *err = NULL;
    todo_metrics_t *m;

    /* Counting costs a little on every request: done only when something
     * can read the counters. */
    if (!todo_req_conf_has(pconf, "SetHandler", TODO_METRICS_HANDLER)
        && !ap_find_linked_module("mod_status.c")) {
        todo_metrics_set_current(NULL);
        return NULL;
    }
    m = shared_block(s, &err);
    todo_metrics_set_current(m);
    return m ? NULL : err;
}

static apr_status_t child_exit(void *data)
{
    todo_metrics_child_end(data);
    return APR_SUCCESS;
}

void todo_metrics_child_init(apr_pool_t *p, server_rec *s)
{
    todo_metrics_t *m = todo_metrics_current();

    (void)s;
    if (m && todo_metrics_child_start(m, (apr_uint32_t)getpid()) == 0) {
        apr_pool_cleanup_register(p, m, child_exit, apr_pool_cleanup_null);
    }
}

int todo_metrics_log(request_rec *r)
{
    todo_req_t *q;
    request_rec *last = r;

    if (!todo_metrics_current() || !(q = todo_req_get(r))) {
        return DECLINED;
    }
    while (last->next) { /* the status the client got */
        last = last->next;
    }
    todo_metrics_request(q->route.op, r->method, last->status,
                         apr_time_now() - r->request_time);
    return DECLINED;
}

int todo_metrics_handler(request_rec *r)
{
    todo_metrics_t *m;
    todo_buf_t b;

    if (!r->handler || strcmp(r->handler, TODO_METRICS_HANDLER)) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        r->allowed = AP_METHOD_BIT << M_GET;
        return HTTP_METHOD_NOT_ALLOWED;
    }
    m = todo_metrics_current();
    if (!m) {
        return HTTP_SERVICE_UNAVAILABLE; /* cannot happen: see post_config */
    }
    todo_buf_init(&b, r->pool, 16384);
    todo_metrics_write(m, TODO_METRICS_PROMETHEUS, &b);
    ap_set_content_type(r, TODO_METRICS_CONTENT_TYPE);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)b.len);
    if (!r->header_only) {
        ap_rwrite(b.data, (int)b.len, r);
    }
    return OK;
}

int todo_metrics_status(request_rec *r, int flags)
{
    todo_metrics_t *m = todo_metrics_current();
    todo_buf_t b;

    if (!m) {
        return DECLINED;
    }
    todo_buf_init(&b, r->pool, 16384);
    todo_metrics_write(m, TODO_METRICS_STATUS, &b);
    if (flags & AP_STATUS_SHORT) {
        ap_rwrite(b.data, (int)b.len, r);
        return OK;
    }
    ap_rputs("<hr />\n<h2>mod_todo</h2>\n<pre>", r);
    ap_rputs(ap_escape_html(r->pool, todo_buf_cstr(&b)), r);
    ap_rputs("</pre>\n", r);
    return OK;
}
