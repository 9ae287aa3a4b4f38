/* todo_docs: the interactive API documentation of GET P/docs (docs/api.md
 * §3, docs/browser.md): an HTML page that loads Swagger UI 5 from the TodoDocsAssets
 * prefix and points it at P/openapi.json, the script that starts it
 * (P/docs/init.js, a file of its own so that the page's
 * Content-Security-Policy needs no 'unsafe-inline'), and that policy.
 * Pure and httpd-free, so the text is unit tested. */
#ifndef TODO_DOCS_H
#define TODO_DOCS_H

#include <apr_pools.h>

/* NULL when assets can be a TodoDocsAssets prefix, otherwise a one-line
 * reason.  Accepted: an absolute http:// or https:// URL with a host (no
 * user info), or a path on this server starting with one "/"; without a
 * query or fragment, and without the characters that would need escaping
 * in a URL, an HTML attribute or a CSP header (white space, quotes, <, >,
 * backslash, ";", ","...).  One or more trailing slashes are allowed. */
const char *todo_docs_check_assets(apr_pool_t *p, const char *assets);

/* The page, for a checked assets prefix: the stylesheet and bundle come
 * from <assets>/swagger-ui.css and <assets>/swagger-ui-bundle.js; it
 * shows the document at path `openapi` and runs the script at path
 * `init` (P/openapi.json and P/docs/init.js, from the router; decoded
 * paths, percent-encoded here).  Every value is HTML-escaped. */
const char *todo_docs_html(apr_pool_t *p, const char *openapi,
                           const char *init, const char *assets);

/* The Content-Security-Policy of the page: scripts, styles, images and
 * fonts from 'self' and the assets' origin only (nothing more when the
 * assets are on this server), requests to 'self' only, nothing else. */
const char *todo_docs_csp(apr_pool_t *p, const char *assets);

/* The scheme://host[:port] of an absolute assets prefix (lower case), or
 * NULL for a path on this server. */
const char *todo_docs_assets_origin(apr_pool_t *p, const char *assets);

/* The text of P/docs/init.js (the same for every location: it reads the
 * URLs from the page). */
extern const char todo_docs_init_js[];

#endif
