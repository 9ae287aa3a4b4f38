/* Unit tests of the docs page text (todo_docs, docs/browser.md): the
 * TodoDocsAssets check, the HTML with its escaping, the Content-Security-
 * Policy, the script. */
#include <string.h>
#include "todo_test.h"
#include "todo_docs.h"

#define pool todo_test_pool

#define CDN "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"

static void contains(const char *text, const char *part)
{
    if (!strstr(text, part)) {
        fail_msg("\"%s\" not found in:\n%s", part, text);
    }
}

static void lacks(const char *text, const char *part)
{
    if (strstr(text, part)) {
        fail_msg("\"%s\" unexpectedly found in:\n%s", part, text);
    }
}

static void test_check_assets(void **state)
{
    static const char *good[] = {
        CDN,
        CDN "/",
        "https://cdn.jsdelivr.net",
        "http://127.0.0.1:8080/s",
        "HTTPS://Assets.Example.COM/x",
        "https://[::1]:8443/swagger",
        "/swagger-ui",
        "/swagger-ui/",
        "/",
        "/a&b/c@5",
    };
    static const char *bad[] = {
        "",
        "swagger-ui",
        "./swagger-ui",
        "//cdn.example.com/x",
        "ftp://cdn.example.com/x",
        "javascript:alert(1)",
        "data:text/javascript,alert(1)",
        "https://",
        "https:///x",
        "https://user@cdn.example.com/x",
        "https://cdn.example.com:/x",
        "https://cdn.example.com:123456/x",
        "https://cdn_example.com/x",
        "https://cdn.example.com/a b",
        "https://cdn.example.com/a\"b",
        "https://cdn.example.com/a'b",
        "https://cdn.example.com/<x>",
        "https://cdn.example.com/a;b",
        "https://cdn.example.com/a,b",
        "https://cdn.example.com/a?v=5",
        "https://cdn.example.com/a#x",
        "https://cdn.example.com/a\\b",
        "/a\tb",
        "/a\nb",
        "/\x7f",
        "/caf\xc3\xa9",
        "https://[::1/x",
        "https://[]/x",
    };
    char longer[1100];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const char *err = todo_docs_check_assets(pool, good[i]);

        if (err) {
            fail_msg("'%s' refused: %s", good[i], err);
        }
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (!todo_docs_check_assets(pool, bad[i])) {
            fail_msg("'%s' accepted", bad[i]);
        }
    }
    assert_non_null(todo_docs_check_assets(pool, NULL));
    memset(longer, 'a', sizeof(longer) - 1);
    longer[0] = '/';
    longer[sizeof(longer) - 1] = '\0';
    assert_non_null(todo_docs_check_assets(pool, longer));
}

static void test_origin(void **state)
{
    (void)state;
    assert_string_equal(todo_docs_assets_origin(pool, CDN),
                        "https://cdn.jsdelivr.net");
    assert_string_equal(
        todo_docs_assets_origin(pool, "HTTP://Assets.Example.COM:8080/a/b/"),
        "http://assets.example.com:8080");
    assert_string_equal(todo_docs_assets_origin(pool, "https://[::1]"),
                        "https://[::1]");
    assert_null(todo_docs_assets_origin(pool, "/swagger-ui"));
}

static void test_csp(void **state)
{
    const char *c;

    (void)state;
    c = todo_docs_csp(pool, CDN "/");
    assert_string_equal(
        c, "default-src 'none'; "
           "script-src 'self' https://cdn.jsdelivr.net; "
           "style-src 'self' https://cdn.jsdelivr.net; "
           "img-src 'self' https://cdn.jsdelivr.net data:; "
           "font-src 'self' https://cdn.jsdelivr.net; "
           "connect-src 'self'; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'");
    /* Assets on this server: nothing but 'self' (and data: images). */
    c = todo_docs_csp(pool, "/swagger-ui");
    assert_string_equal(
        c, "default-src 'none'; script-src 'self'; "
           "style-src 'self'; img-src 'self' data:; font-src 'self'; "
           "connect-src 'self'; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'");
    lacks(c, "unsafe");
}

static void test_html(void **state)
{
    const char *h;

    (void)state;
    h = todo_docs_html(pool, "/api/openapi.json", "/api/docs/init.js", CDN);
    contains(h, "<!DOCTYPE html>");
    contains(h, "<link rel=\"stylesheet\" href=\"" CDN "/swagger-ui.css\">");
    contains(h, "<script src=\"" CDN "/swagger-ui-bundle.js\"></script>");
    contains(h, "data-openapi-url=\"/api/openapi.json\"");
    contains(h, "data-assets=\"" CDN "\"");
    contains(h, "<script src=\"/api/docs/init.js\"></script>");
    /* Nothing inline for the CSP to allow. */
    lacks(h, "<script>");
    lacks(h, "<style");
    lacks(h, "style=");
    lacks(h, " on");

    /* Trailing slashes of the prefix are not doubled. */
    h = todo_docs_html(pool, "/api/openapi.json", "/api/docs/init.js",
                       "/swagger-ui//");
    contains(h, "href=\"/swagger-ui/swagger-ui.css\"");
    contains(h, "src=\"/swagger-ui/swagger-ui-bundle.js\"");
    /* A location at the server root. */
    h = todo_docs_html(pool, "/openapi.json", "/docs/init.js", "/");
    contains(h, "data-openapi-url=\"/openapi.json\"");
    contains(h, "src=\"/docs/init.js\"");
    contains(h, "href=\"/swagger-ui.css\"");
}

static void test_html_escaping(void **state)
{
    const char *h;

    (void)state;
    /* The prefix is HTML-escaped; the paths are also encoded as URL paths
     * (they start with the decoded <Location> path). */
    h = todo_docs_html(pool, "/a&b'c\"d<e>f g#h?i%j/caf\xc3\xa9/openapi.json",
                       "/a&b'c\"d<e>f g#h?i%j/caf\xc3\xa9/docs/init.js",
                       "https://assets.example.com/x&y/");
    contains(h, "data-openapi-url=\"/a&amp;b&#39;c%22d%3Ce%3Ef%20g%23h%3Fi"
                "%25j/caf%C3%A9/openapi.json\"");
    contains(h, "src=\"/a&amp;b&#39;c%22d%3Ce%3Ef%20g%23h%3Fi%25j/caf%C3%A9"
                "/docs/init.js\"");
    contains(h, "href=\"https://assets.example.com/x&amp;y/swagger-ui.css\"");
    contains(h, "src=\"https://assets.example.com/x&amp;y/"
                "swagger-ui-bundle.js\"");
    contains(h, "data-assets=\"https://assets.example.com/x&amp;y\"");
    lacks(h, "x&y");
    lacks(h, "<e>");
    lacks(h, "'c");
}

static void test_init_js(void **state)
{
    (void)state;
    contains(todo_docs_init_js, "SwaggerUIBundle({");
    contains(todo_docs_init_js, "getAttribute(\"data-openapi-url\")");
    contains(todo_docs_init_js, "dom_id: \"#swagger-ui\"");
    /* No request to the public validator (the CSP would block it). */
    contains(todo_docs_init_js, "validatorUrl: null");
    /* The failure message goes in as text, never as markup. */
    contains(todo_docs_init_js, "textContent");
    lacks(todo_docs_init_js, "innerHTML");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_assets),  cmocka_unit_test(test_origin),
        cmocka_unit_test(test_csp),           cmocka_unit_test(test_html),
        cmocka_unit_test(test_html_escaping), cmocka_unit_test(test_init_js),
    };
    return TODO_TEST_MAIN("docs", tests, NULL, NULL);
}
