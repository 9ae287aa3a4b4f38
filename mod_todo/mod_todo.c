/* mod_todo: module record, hooks, request state and the JSON error filter. */
#include <apr_strings.h>
#include <apr_atomic.h>
#include <apr_general.h>
#include <http_core.h>
#include <util_filter.h>
#include <jansson.h>

#include "mod_todo.h"
#include "mod_todo_private.h"
#include "mod_todo_api.h"
#include "mod_todo_auth.h"
#include "mod_todo_config.h"
#include "mod_todo_dbd.h"
#include "todo_buf.h"
#include "todo_fetch.h"

#define ERROR_FILTER "TODO_JSON_ERROR"

/* ------------------------------------------------------------ request id */

/* Request ids: a random per-process part and a counter, so they are unique
 * across children and cost no system call per request. */
static char id_prefix[17];
static apr_uint32_t id_counter;

static void init_request_ids(void)
{
    unsigned char rnd[8];
    int i;

    if (apr_generate_random_bytes(rnd, sizeof(rnd)) != APR_SUCCESS) {
        apr_uint64_t t = (apr_uint64_t)apr_time_now() ^ (apr_uint64_t)getpid();
        memcpy(rnd, &t, sizeof(rnd));
    }
    for (i = 0; i < 8; i++) {
        apr_snprintf(id_prefix + 2 * i, 3, "%02x", rnd[i]);
    }
}

static const char *new_request_id(apr_pool_t *p)
{
    return apr_psprintf(p, "%s%08x", id_prefix,
                        apr_atomic_inc32(&id_counter));
}

todo_req_t *todo_req_get(request_rec *r)
{
    while (r->prev) {              /* internal redirects share the state */
        r = r->prev;
    }
    return ap_get_module_config(r->request_config, &todo_module);
}

const char *todo_request_id(request_rec *r)
{
    todo_req_t *q = todo_req_get(r);

    return q ? q->id : "-";
}

/* ------------------------------------------------------------------ hooks */

/* SetHandler is applied only in the fixups phase, after the access
 * checker: evaluate the location's SetHandler now to know it is ours. */
static int handler_is_todo(request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    const char *err = NULL, *h;

    if (!d->expr_handler) {
        return 0;
    }
    h = ap_expr_str_exec(r, d->expr_handler, &err);
    return h && !err && !strcmp(h, TODO_HANDLER);
}

/* The first hook with the location's configuration: set up the request's
 * state, its id and its CORS headers, so even errors httpd raises later
 * (401, 413, 500) are answered as JSON with them. */
static int todo_header_parser(request_rec *r)
{
    const todo_dir_cfg *cfg = ap_get_module_config(r->per_dir_config,
                                                   &todo_module);
    todo_req_t *q;
    apr_size_t n;

    if (!cfg->prefix || r->main || r->prev || !handler_is_todo(r)) {
        return DECLINED;
    }
    q = apr_pcalloc(r->pool, sizeof(*q));
    q->cfg = cfg;
    q->id = new_request_id(r->pool);
    q->method = todo_route_method(r->method);
    n = strlen(cfg->prefix);
    if (!strncmp(r->uri, cfg->prefix, n)
        && (r->uri[n] == '/' || r->uri[n] == '\0')) {
        todo_route_match(r->pool, r->uri + n, &q->route);
    }
    ap_set_module_config(r->request_config, &todo_module, q);
    r->log_id = q->id;
    apr_table_setn(r->err_headers_out, "X-Request-Id", q->id);
    todo_api_cors(r, q);
    return DECLINED;
}

/* Requests under a todo prefix map to no file: skip the directory walk
 * (no stat() per request, and <Directory> rules cannot get in the way).
 * <Location> sections still apply. */
static int todo_map_to_storage(request_rec *r)
{
    const todo_srv_cfg *sc = ap_get_module_config(r->server->module_config,
                                                  &todo_module);
    int i;

    for (i = 0; i < sc->prefixes->nelts; i++) {
        const char *p = APR_ARRAY_IDX(sc->prefixes, i, const char *);
        apr_size_t n = strlen(p);

        if (!strncmp(r->uri, p, n) && (r->uri[n] == '/' || !r->uri[n])) {
            r->filename = apr_pstrcat(r->pool, "todo:", r->uri, NULL);
            return OK;
        }
    }
    return DECLINED;
}

/* Turn httpd's HTML error page into our JSON envelope, for responses under
 * a todo location (401 from the access checker, 413, 500, ...). */
static void todo_insert_error_filter(request_rec *r)
{
    todo_req_t *q = todo_req_get(r);

    if (q && !AP_STATUS_IS_HEADER_ONLY(r->status)) {
        ap_add_output_filter(ERROR_FILTER, q, r, r->connection);
    }
}

static apr_status_t todo_error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    todo_req_t *q = f->ctx;
    apr_bucket *e;
    todo_buf_t b;
    int eos = 0;

    /* Swallow the HTML page; at its end, send ours instead. */
    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
         e = APR_BUCKET_NEXT(e)) {
        eos |= APR_BUCKET_IS_EOS(e);
    }
    apr_brigade_cleanup(bb);
    if (!eos) {
        return APR_SUCCESS;
    }
    todo_buf_init(&b, r->pool, 256);
    todo_api_error_body(r, &b, r->status, q->err_code, q->err_message, NULL);
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)b.len);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(b.data, b.len, r->pool,
                            bb->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

static int todo_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp)
{
    (void)pconf; (void)plog; (void)ptemp;
    /* Both are process-wide and not thread-safe: do them before any
     * thread exists.  (Never json_set_alloc_funcs: libjwt shares it.) */
    json_object_seed(0);
    todo_fetch_global_init();
    return OK;
}

static apr_array_header_t *todo_servers;   /* servers with todo sites */

static int todo_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    return todo_config_check(pconf, ptemp, s, &todo_servers) == OK ? OK
                                                                   : !OK;
}

static int todo_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    const char *err;
    int i;

    (void)pconf; (void)plog; (void)ptemp;
    if (!todo_servers || !todo_servers->nelts) {
        return OK;
    }
    if ((err = todo_dbd_init()) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s,
                     TODOLOG(0002) "mod_todo: %s", err);
        return !OK;
    }
    for (i = 0; i < todo_servers->nelts; i++) {
        todo_dbd_prepare_all(APR_ARRAY_IDX(todo_servers, i, server_rec *));
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, TODOLOG(0003)
                 "mod_todo/" MOD_TODO_VERSION " serving %d server(s)",
                 todo_servers->nelts);
    return OK;
}

static void todo_child_init(apr_pool_t *p, server_rec *s)
{
    (void)p; (void)s;
    init_request_ids();
}

static void todo_register_hooks(apr_pool_t *p)
{
    /* Our statements must be registered before mod_dbd groups them. */
    static const char *const before_dbd[] = { "mod_dbd.c", NULL };

    (void)p;
    ap_hook_pre_config(todo_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(todo_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(todo_post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(todo_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* Before mod_dbd opens the pool's first connections (DBDMin). */
    ap_hook_child_init(todo_dbd_child_init, NULL, before_dbd,
                       APR_HOOK_MIDDLE);
    ap_hook_map_to_storage(todo_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_header_parser(todo_header_parser, NULL, NULL,
                          APR_HOOK_REALLY_FIRST);
    ap_hook_access_checker(todo_auth_check_access, NULL, NULL,
                           APR_HOOK_MIDDLE);
    ap_hook_handler(todo_api_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(todo_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_register_output_filter(ERROR_FILTER, todo_error_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
}

/* Declared without AP_DECLARE_MODULE: mod_todo_private.h already says
 * APLOG_USE_MODULE(todo) for every glue file, this one included. */
module AP_MODULE_DECLARE_DATA todo_module = {
    STANDARD20_MODULE_STUFF,
    todo_config_create_dir,
    todo_config_merge_dir,
    todo_config_create_srv,
    NULL,
    todo_cmds,
    todo_register_hooks,
    AP_MODULE_FLAG_ALWAYS_MERGE
};
