/* mod_todo: the hub -- the module record, and the registration of every
 * hook with why it sits where it does in httpd's order.  The hooks' work
 * is done in the glue files; the core (todo_*.c) knows nothing of httpd. */
#include <jansson.h>

#include "mod_todo.h"
#include "mod_todo_req.h"
#include "mod_todo_api.h"
#include "mod_todo_auth.h"
#include "mod_todo_config.h"
#include "mod_todo_dbd.h"
#include "mod_todo_metrics.h"
#include "mod_todo_ratelimit.h"
#include <mod_status.h>
#include "todo_fetch.h"

/* ------------------------------------------------ the core's error log */

/* The server the core's lines are logged for: the main server, known
 * from post_config on (earlier lines go to the startup log). */
static server_rec *log_server;

static int log_level_ok(void *baton, todo_log_level_e level)
{
    (void)baton;
    return !log_server
           || APLOG_MODULE_IS_LEVEL(log_server, APLOG_MODULE_INDEX,
                                    (int)level);
}

static void log_print(void *baton, const char *file, int line,
                      todo_log_level_e level, apr_status_t rv, const char *msg)
{
    (void)baton;
    ap_log_error_(file, line, APLOG_MODULE_INDEX, (int)level, rv, log_server,
                  "%s", msg);
}

/* ------------------------------------------------------------ startup */

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    /* Both are process-wide and not thread-safe: do them before any
     * thread exists.  (Never json_set_alloc_funcs: libjwt shares it.) */
    json_object_seed(0);
    todo_fetch_global_init();
    todo_log_set(log_level_ok, log_print, NULL);
    return OK;
}

static apr_array_header_t *todo_servers; /* servers with todo sites */

static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    (void)plog;
    return todo_config_check(pconf, ptemp, s, &todo_servers) == OK ? OK : !OK;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    const char *err;
    int i;

    (void)plog;
    (void)ptemp;
    log_server = s;
    /* Before the early return: a server may serve its metrics (or
     * mod_status) without a todo location of its own. */
    if ((err = todo_metrics_post_config(pconf, s)) != NULL
        || (err = todo_ratelimit_post_config(pconf, s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s,
                     TODOLOG(0030) "mod_todo: %s", err);
        return !OK;
    }
    if (!todo_servers || !todo_servers->nelts) {
        return OK;
    }
    if ((err = todo_dbd_init()) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s,
                     TODOLOG(0002) "mod_todo: %s", err);
        return !OK;
    }
    if ((err = todo_dbd_gates(pconf, todo_servers)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s,
                     TODOLOG(0030) "mod_todo: %s", err);
        return !OK;
    }
    for (i = 0; i < todo_servers->nelts; i++) {
        todo_dbd_prepare_all(APR_ARRAY_IDX(todo_servers, i, server_rec *));
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                 TODOLOG(0003) "mod_todo/" MOD_TODO_VERSION
                               " serving %d server(s)",
                 todo_servers->nelts);
    return OK;
}

static void child_init(apr_pool_t *p, server_rec *s)
{
    todo_req_child_init(p, s);
    todo_metrics_child_init(p, s);
    todo_ratelimit_child_init(p, s);
}

/* ------------------------------------------------------------- hooks */

static void register_hooks(apr_pool_t *p)
{
    /* Our statements must be registered before mod_dbd's post_config
     * groups each server's statements for its connections. */
    static const char *const before_dbd[] = { "mod_dbd.c", NULL };
    static const char *const translate_pre[] = { "mod_alias.c",
                                                 "mod_rewrite.c",
                                                 "mod_proxy.c", NULL };

    (void)p;
    /* Process-wide library set-up, before any thread exists. */
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* check_config runs in "apachectl configtest" too: an unsafe todo
     * location stops the server there, never at the first request. */
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    /* Each child draws its own random request-id prefix, takes its slot
     * in the shared metrics and learns the pid it holds rate-limit locks
     * with. */
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* ... and keeps the key of cursors and sync tokens once it has read
     * it from the database. */
    ap_hook_child_init(todo_secret_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* libpq in a child must not look for client certificates in a HOME
     * the child cannot enter (root's, inherited from "apachectl start"):
     * fixed before mod_dbd opens the pool's first connections (DBDMin). */
    ap_hook_child_init(todo_dbd_child_init, NULL, before_dbd, APR_HOOK_MIDDLE);
    /* The request's state is made as soon as httpd has walked the
     * locations, before it decodes the URI: its own refusals from then
     * on (an encoded slash or NUL is a 404) come out as our JSON, with a
     * request id and CORS headers. */
    ap_hook_pre_translate_name(todo_req_pre_translate, NULL, NULL,
                               APR_HOOK_REALLY_FIRST);
    /* A todo URI names no file: claim it before core maps it under the
     * DocumentRoot (a path too long for a file name would be a 403 and an
     * error-log line), after the admin's own mappings had their chance. */
    ap_hook_translate_name(todo_req_translate, translate_pre, NULL,
                           APR_HOOK_LAST);
    /* First: spare a todo URI core's directory walk (no stat() per
     * request, no <Directory> rule in the way). */
    ap_hook_map_to_storage(todo_req_map_to_storage, NULL, NULL,
                           APR_HOOK_FIRST);
    /* The first hook after the URI is decoded and the locations walked
     * again: the request is routed there. */
    ap_hook_header_parser(todo_req_header_parser, NULL, NULL,
                          APR_HOOK_REALLY_FIRST);
    /* Tokens are checked in the access checker, before any handler, as
     * the specification requires; the handler refuses a task route that
     * arrives without a user all the same. */
    ap_hook_access_checker(todo_auth_check_access, NULL, NULL,
                           APR_HOOK_MIDDLE);
    /* The rate limit right after authentication (a later order in the
     * same phase: it needs r->user) and before any database work, which
     * only the handler does. */
    ap_hook_access_checker(todo_ratelimit_check, NULL, NULL, APR_HOOK_LAST);
    ap_hook_handler(todo_api_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(todo_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* Every request of a todo location is counted once its answer is
     * sent, whoever answered it (the handler, the access checker, httpd's
     * own errors); the first so that no other logger's failure skips it. */
    ap_hook_log_transaction(todo_metrics_log, NULL, NULL,
                            APR_HOOK_REALLY_FIRST);
    /* mod_status' page shows the same figures (a no-op without it). */
    APR_OPTIONAL_HOOK(ap, status_hook, todo_metrics_status, NULL, NULL,
                      APR_HOOK_MIDDLE);
    /* httpd's own error pages under a todo location become JSON. */
    ap_hook_insert_error_filter(todo_api_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    todo_api_register_filters();
}

/* Declared without AP_DECLARE_MODULE: mod_todo_req.h already says
 * APLOG_USE_MODULE(todo) for every glue file, this one included. */
module AP_MODULE_DECLARE_DATA todo_module = { STANDARD20_MODULE_STUFF,
                                              todo_config_create_dir,
                                              todo_config_merge_dir,
                                              todo_config_create_srv,
                                              NULL,
                                              todo_config_cmds,
                                              register_hooks,
                                              AP_MODULE_FLAG_ALWAYS_MERGE };
