/* mod_todo_req: the state of a request under a todo location -- set up by
 * the header parser -- its id, its CORS headers, and the map_to_storage
 * shortcut for the locations' URIs. */
#include <apr_atomic.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <http_core.h>
#include <util_cfgtree.h>

#include "mod_todo_req.h"
#include "mod_todo_config.h"

/* docs/api.md §7: what a browser script may read of a response. */
#define CORS_EXPOSE_HEADERS                                               \
    "ETag, Location, Link, X-Request-Id, Retry-After, WWW-Authenticate, " \
    "Idempotent-Replayed, RateLimit-Limit, RateLimit-Remaining, "         \
    "RateLimit-Reset"

/* Request ids: a random per-process part and a counter, so they are unique
 * across children and cost no system call per request. */
static char id_prefix[17];
static apr_uint32_t id_counter;

void todo_req_child_init(apr_pool_t *p, server_rec *s)
{
    unsigned char rnd[8];
    int i;

    (void)p;
    (void)s;
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
    return apr_psprintf(p, "%s%08x", id_prefix, apr_atomic_inc32(&id_counter));
}

todo_req_t *todo_req_get(request_rec *r)
{
    while (r->prev) { /* internal redirects share the state */
        r = r->prev;
    }
    return ap_get_module_config(r->request_config, &todo_module);
}

const char *todo_req_id(request_rec *r)
{
    todo_req_t *q = todo_req_get(r);

    return q ? q->id : "-";
}

int todo_req_refuse(request_rec *r, todo_req_t *q, int status,
                    const char *code, const char *message)
{
    (void)r;
    q->err_code = code;
    q->err_message = message;
    return status;
}

/* The allowed origin a request comes from, or NULL. */
static const char *allowed_origin(request_rec *r, const todo_site_t *site)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    int i;

    for (i = 0; origin && i < site->cors_origins->nelts; i++) {
        const char *o = APR_ARRAY_IDX(site->cors_origins, i, const char *);

        if (!strcmp(origin, o)) {
            return o;
        }
    }
    return NULL;
}

void todo_req_headers(request_rec *r, todo_req_t *q)
{
    apr_table_setn(r->err_headers_out, "X-Request-Id", q->id);
    if (!q->site->cors_origins) {
        return;
    }
    /* Responses differ by Origin whether or not this one is allowed. */
    apr_table_mergen(r->err_headers_out, "Vary", "Origin");
    q->origin = allowed_origin(r, q->site);
    if (q->origin) {
        apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin",
                       q->origin);
        apr_table_setn(r->err_headers_out, "Access-Control-Expose-Headers",
                       CORS_EXPOSE_HEADERS);
    }
}

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

/* The site of a location for a request to server s: a main-server
 * location served by a virtual host runs with that host's defaults. */
static const todo_site_t *site_of(const todo_dir_cfg *c, const server_rec *s)
{
    const todo_site_t *site = NULL;

    if (c->vsites && s->is_virtual) {
        site = apr_hash_get(c->vsites, &s, sizeof(s));
    }
    return site ? site : c->site;
}

/* The site of the location the current per-directory configuration is
 * for, when that location is a todo location. */
static const todo_site_t *current_site(request_rec *r)
{
    const todo_dir_cfg *c =
        ap_get_module_config(r->per_dir_config, &todo_module);

    if (!c || !c->site || !handler_is_todo(r)) {
        return NULL;
    }
    return site_of(c, r->server);
}

static void route(request_rec *r, todo_req_t *q)
{
    todo_route_resolve(r->pool, todo_route_rel(q->site->prefix, r->uri),
                       r->method, &q->route);
    if (!q->site->docs) {
        todo_route_drop_docs(&q->route);
    }
}

int todo_req_pre_translate(request_rec *r)
{
    const todo_site_t *site;
    todo_req_t *q;

    if (r->main || r->prev || !(site = current_site(r))) {
        return DECLINED;
    }
    q = apr_pcalloc(r->pool, sizeof(*q));
    q->site = site;
    q->id = new_request_id(r->pool);
    ap_set_module_config(r->request_config, &todo_module, q);
    r->log_id = q->id;
    todo_req_headers(r, q);
    route(r, q);
    return DECLINED;
}

int todo_req_translate(request_rec *r)
{
    todo_req_t *q = ap_get_module_config(r->request_config, &todo_module);

    if (!q || r->main || r->prev) {
        return DECLINED;
    }
    /* Any non-empty name will do: map_to_storage (below) keeps the
     * directory walk away from it. */
    r->filename = apr_pstrcat(r->pool, "todo:", r->uri, NULL);
    return OK;
}

int todo_req_header_parser(request_rec *r)
{
    todo_req_t *q = ap_get_module_config(r->request_config, &todo_module);

    if (!q || r->main || r->prev) {
        return DECLINED;
    }
    /* The URI is decoded now, and the location walked again: route what
     * the handler will serve.  (Normalisation happened before the state
     * was made, so the location is the same one.) */
    q->site = current_site(r);
    if (!q->site) {
        ap_set_module_config(r->request_config, &todo_module, NULL);
        return DECLINED;
    }
    route(r, q);
    return DECLINED;
}

int todo_req_map_to_storage(request_rec *r)
{
    const todo_srv_cfg *sc =
        ap_get_module_config(r->server->module_config, &todo_module);
    int i;

    for (i = 0; i < sc->prefixes->nelts; i++) {
        if (todo_route_rel(APR_ARRAY_IDX(sc->prefixes, i, const char *),
                           r->uri)) {
            r->filename = apr_pstrcat(r->pool, "todo:", r->uri, NULL);
            return OK;
        }
    }
    return DECLINED;
}

static int tree_has(apr_pool_t *p, const ap_directive_t *node,
                    const char *directive, const char *arg)
{
    for (; node; node = node->next) {
        const char *args = node->args;

        if (node->first_child
            && tree_has(p, node->first_child, directive, arg)) {
            return 1;
        }
        if (!strcasecmp(node->directive, directive)
            && (!arg || !strcmp(ap_getword_conf(p, &args), arg))) {
            return 1;
        }
    }
    return 0;
}

int todo_req_conf_has(apr_pool_t *p, const char *directive, const char *arg)
{
    return tree_has(p, ap_conftree, directive, arg);
}
