#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "todo_buf.h"
#include "todo_docs.h"

/* Longest TodoDocsAssets accepted: a URL prefix, not a document. */
#define MAX_ASSETS 1024

const char todo_docs_init_js[] =
    "/* mod_todo: starts Swagger UI on P/docs.  A file of its own, so that\n"
    " * the page's Content-Security-Policy needs no 'unsafe-inline'; the\n"
    " * URLs come from the page. */\n"
    "(function () {\n"
    "  \"use strict\";\n"
    "  var root = document.getElementById(\"swagger-ui\");\n"
    "  if (typeof window.SwaggerUIBundle !== \"function\") {\n"
    "    root.textContent = \"Swagger UI could not be loaded from \" +\n"
    "      root.getAttribute(\"data-assets\") + \" (see TodoDocsAssets).\";\n"
    "    return;\n"
    "  }\n"
    "  window.ui = window.SwaggerUIBundle({\n"
    "    url: root.getAttribute(\"data-openapi-url\"),\n"
    "    dom_id: \"#swagger-ui\",\n"
    "    layout: \"BaseLayout\",\n"
    "    deepLinking: true,\n"
    "    presets: [window.SwaggerUIBundle.presets.apis],\n"
    "    validatorUrl: null\n"
    "  });\n"
    "})();\n";

/* Characters a prefix may not hold: they would need escaping in a URL or
 * in a header value, or end a CSP source list (";", ","). */
static int bad_char(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || strchr("\"'<>\\`^{}|;,?#", c) != NULL;
}

/* A host[:port] authority without user info: a DNS name or IPv4 address,
 * or an IPv6 literal in brackets. */
static int good_authority(const char *a, apr_size_t n)
{
    apr_size_t i = 0, d;

    if (n && a[0] == '[') {
        i = 1;
        while (i < n && (apr_isxdigit(a[i]) || a[i] == ':' || a[i] == '.')) {
            i++;
        }
        if (i == 1 || i >= n || a[i] != ']') {
            return 0;
        }
        i++;
    }
    else {
        while (i < n && (apr_isalnum(a[i]) || a[i] == '.' || a[i] == '-')) {
            i++;
        }
        if (i == 0) {
            return 0;
        }
    }
    if (i < n && a[i] == ':') {
        d = ++i;
        while (i < n && apr_isdigit(a[i])) {
            i++;
        }
        if (i == d || i - d > 5) {
            return 0;
        }
    }
    return i == n;
}

/* Length of the scheme "http://" or "https://" at the start of s, or 0. */
static apr_size_t scheme_len(const char *s)
{
    if (!strncasecmp(s, "https://", 8)) {
        return 8;
    }
    if (!strncasecmp(s, "http://", 7)) {
        return 7;
    }
    return 0;
}

const char *todo_docs_check_assets(apr_pool_t *p, const char *assets)
{
    apr_size_t n = assets ? strlen(assets) : 0, s, a;
    const char *c;

    if (!n) {
        return "must not be empty";
    }
    if (n > MAX_ASSETS) {
        return apr_psprintf(p, "is longer than %d characters", MAX_ASSETS);
    }
    for (c = assets; *c; c++) {
        if (bad_char((unsigned char)*c)) {
            return "must be a plain URL prefix: no white space, quotes, "
                   "<, >, \\, ;, ,, query (?) or fragment (#)";
        }
    }
    s = scheme_len(assets);
    if (s) {
        a = strcspn(assets + s, "/");
        if (!good_authority(assets + s, a)) {
            return apr_psprintf(p,
                                "'%s' has no valid host[:port] (user "
                                "info is not allowed)",
                                assets);
        }
        return NULL;
    }
    if (assets[0] == '/' && assets[1] != '/') {
        return NULL;
    }
    return apr_psprintf(p,
                        "'%s' is neither an http(s) URL nor a path "
                        "starting with /",
                        assets);
}

const char *todo_docs_assets_origin(apr_pool_t *p, const char *assets)
{
    apr_size_t s = scheme_len(assets);
    char *o, *c;

    if (!s) {
        return NULL;
    }
    o = apr_pstrmemdup(p, assets, s + strcspn(assets + s, "/"));
    for (c = o; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    return o;
}

/* HTML-escape s[0..n) into b (for text and quoted attribute values). */
static void put_html(todo_buf_t *b, const char *s, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            todo_buf_puts(b, "&amp;");
            break;
        case '<':
            todo_buf_puts(b, "&lt;");
            break;
        case '>':
            todo_buf_puts(b, "&gt;");
            break;
        case '"':
            todo_buf_puts(b, "&quot;");
            break;
        case '\'':
            todo_buf_puts(b, "&#39;");
            break;
        default:
            todo_buf_putc(b, s[i]);
        }
    }
}

/* A path as a URL path (RFC 3986 pchar and "/" kept, the rest percent-
 * encoded: P is the decoded <Location> path), HTML-escaped. */
static void put_path(todo_buf_t *b, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s;

    for (s = (const unsigned char *)path; *s; s++) {
        if (apr_isalnum(*s) || strchr("-._~!$&'()*+,;=:@/", *s)) {
            put_html(b, (const char *)s, 1);
        }
        else {
            todo_buf_putc(b, '%');
            todo_buf_putc(b, hex[*s >> 4]);
            todo_buf_putc(b, hex[*s & 15]);
        }
    }
}

/* The assets prefix without its trailing slashes. */
static apr_size_t assets_len(const char *assets)
{
    apr_size_t n = strlen(assets);

    while (n && assets[n - 1] == '/') {
        n--;
    }
    return n;
}

const char *todo_docs_html(apr_pool_t *p, const char *openapi,
                           const char *init, const char *assets)
{
    apr_size_t an = assets_len(assets);
    todo_buf_t b;

    todo_buf_init(&b, p, 1024);
    todo_buf_puts(&b, "<!DOCTYPE html>\n"
                      "<html lang=\"en\">\n"
                      "<head>\n"
                      "<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, "
                      "initial-scale=1\">\n"
                      "<title>mod_todo API - Swagger UI</title>\n"
                      "<link rel=\"icon\" href=\"data:,\">\n"
                      "<link rel=\"stylesheet\" href=\"");
    put_html(&b, assets, an);
    todo_buf_puts(&b, "/swagger-ui.css\">\n"
                      "</head>\n"
                      "<body>\n"
                      "<div id=\"swagger-ui\" data-openapi-url=\"");
    put_path(&b, openapi);
    todo_buf_puts(&b, "\" data-assets=\"");
    put_html(&b, assets, an);
    todo_buf_puts(&b, "\"></div>\n"
                      "<script src=\"");
    put_html(&b, assets, an);
    todo_buf_puts(&b, "/swagger-ui-bundle.js\"></script>\n"
                      "<script src=\"");
    put_path(&b, init);
    todo_buf_puts(&b, "\"></script>\n"
                      "</body>\n"
                      "</html>\n");
    return todo_buf_cstr(&b);
}

const char *todo_docs_csp(apr_pool_t *p, const char *assets)
{
    const char *o = todo_docs_assets_origin(p, assets);
    const char *src = o ? apr_pstrcat(p, "'self' ", o, NULL) : "'self'";

    /* Swagger UI's stylesheet carries its icons as data: URLs, and the
     * page's empty icon is one; requests (the document, "Try it out") go
     * to this server only. */
    return apr_psprintf(p,
                        "default-src 'none'; script-src %s; "
                        "style-src %s; img-src %s data:; font-src %s; "
                        "connect-src 'self'; base-uri 'none'; "
                        "form-action 'none'; frame-ancestors 'none'",
                        src, src, src, src);
}
