/* The docs page of "SetHandler todo": P/docs and P/docs/init.js. */
#include "mod_todo_docs.h"
#include "mod_todo_config.h"
#include "todo_docs.h"

int todo_docs_off(const todo_req_t *q)
{
    return (q->route.route == TODO_ROUTE_DOCS
            || q->route.route == TODO_ROUTE_DOCS_INIT)
        && !todo_cfg_docs(q->cfg);
}

int todo_docs_handler(request_rec *r, const todo_req_t *q)
{
    const char *assets = todo_cfg_docs_assets(q->cfg);
    const char *body;
    apr_size_t len;

    if (q->route.route == TODO_ROUTE_DOCS_INIT) {
        ap_set_content_type(r, "text/javascript; charset=utf-8");
        body = todo_docs_init_js;
        len = strlen(todo_docs_init_js);
    }
    else {
        ap_set_content_type(r, "text/html; charset=utf-8");
        apr_table_setn(r->headers_out, "Content-Security-Policy",
                       todo_docs_csp(r->pool, assets));
        body = todo_docs_html(r->pool, q->cfg->prefix, assets);
        len = strlen(body);
    }
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    r->status = HTTP_OK;
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(body, (int)len, r);
    }
    return OK;
}
