/* todo_fetch: a bounded http(s) GET with libcurl.
 *
 * One easy handle per call: easy handles are not shareable between
 * threads, and a JWKS is fetched rarely enough that connection reuse does
 * not matter. */
#include "todo_fetch.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <curl/curl.h>

#define TODO_FETCH_MAX_REDIRS 3L
#define TODO_FETCH_DEFAULT_TIMEOUT apr_time_from_sec(10)

void todo_fetch_global_init(void)
{
    /* curl_global_init is not thread-safe and must not run twice; httpd
     * calls post_config twice, before any thread exists. */
    static int done;

    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = 1;
    }
}

/* "http://" or "https://" (any case) followed by something other than
 * another '/'. */
static int has_authority(const char *url)
{
    apr_size_t n;

    if (strncasecmp(url, "http://", 7) == 0) {
        n = 7;
    }
    else if (strncasecmp(url, "https://", 8) == 0) {
        n = 8;
    }
    else {
        return 0;
    }
    return url[n] != '\0' && url[n] != '/';
}

const char *todo_fetch_check_url(apr_pool_t *p, const char *url)
{
    CURLU *u;
    char *scheme = NULL, *host = NULL;
    const char *reason = NULL;

    (void)p;
    if (url == NULL || *url == '\0') {
        return "empty URL";
    }
    /* curl is lenient ("http:host", "https:///host"); we are not. */
    if (!has_authority(url)) {
        return "not an absolute http:// or https:// URL";
    }
    if ((u = curl_url()) == NULL) {
        return "out of memory";
    }
    /* Without CURLU_DEFAULT_SCHEME a relative or scheme-less URL fails. */
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        reason = "not an absolute http:// or https:// URL";
    }
    else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        reason = "URL scheme must be http or https";
    }
    else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK
             || host == NULL || *host == '\0') {
        reason = "URL has no host";
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return reason;
}

typedef struct {
    char *data; /* malloc'd, copied into the pool at the end */
    size_t len;
    size_t cap;
    int too_big;
} todo_fetch_body_t;

static size_t write_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    todo_fetch_body_t *b = userdata;
    size_t n = size * nmemb;

    if (n > TODO_FETCH_MAX_BYTES - b->len) {
        b->too_big = 1;
        return 0; /* anything but n aborts the transfer */
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        char *d;

        while (cap < b->len + n) {
            cap *= 2;
        }
        if ((d = realloc(b->data, cap)) == NULL) {
            return 0;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    return n;
}

static void setup(CURL *h, const char *url, long timeout_ms,
                  struct curl_slist *headers, todo_fetch_body_t *body)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    /* No SIGALRM-based DNS timeouts: they are not thread-safe. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS,
                     CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, TODO_FETCH_MAX_REDIRS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)TODO_FETCH_MAX_BYTES);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mod_todo");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
}

/* Messages are fixed texts (curl_easy_strerror, not the error buffer,
 * which carries timings): callers may keep one per distinct failure. */
static const char *error(apr_pool_t *p, CURLcode rc, long status,
                         const todo_fetch_body_t *body)
{
    if (body->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        return apr_psprintf(p, "document larger than %d bytes",
                            TODO_FETCH_MAX_BYTES);
    }
    if (rc != CURLE_OK) {
        return curl_easy_strerror(rc);
    }
    if (status < 200 || status > 299) {
        return apr_psprintf(p, "HTTP status %ld", status);
    }
    return NULL;
}

apr_status_t todo_fetch_get(apr_pool_t *p, const char *url,
                            apr_interval_time_t timeout, char **body,
                            apr_size_t *len, const char **err)
{
    todo_fetch_body_t b = { NULL, 0, 0, 0 };
    struct curl_slist *headers;
    CURL *h;
    CURLcode rc;
    long status = 0;
    const char *why;

    *body = NULL;
    *len = 0;
    *err = todo_fetch_check_url(p, url);
    if (*err) {
        return APR_EINVAL;
    }
    if (timeout <= 0) {
        timeout = TODO_FETCH_DEFAULT_TIMEOUT;
    }
    if ((h = curl_easy_init()) == NULL) {
        *err = "cannot create a curl handle";
        return APR_ENOMEM;
    }
    headers = curl_slist_append(NULL, "Accept: application/jwk-set+json, "
                                      "application/json");
    setup(h, url, (long)(timeout / 1000 > 0 ? timeout / 1000 : 1), headers,
          &b);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    why = error(p, rc, status, &b);
    if (why == NULL) {
        *body = apr_palloc(p, b.len + 1);
        if (b.len) {
            memcpy(*body, b.data, b.len);
        }
        (*body)[b.len] = '\0';
        *len = b.len;
    }
    free(b.data);
    *err = why;
    return why ? APR_EGENERAL : APR_SUCCESS;
}
