/* todo_query: the list query string of GET .../tasks (docs/api.md §5).
 *
 * This runs on every list request, so the query string is copied once into
 * the pool and decoded in place; the strings handed back point into that
 * copy.  Everything wrong is reported, one detail per parameter. */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include "todo_query.h"
#include "todo_task.h" /* todo_detail_t */
#include "todo_text.h"
#include "todo_time.h"

typedef enum {
    P_STATUS,
    P_SORT,
    P_LIMIT,
    P_OFFSET,
    P_Q,
    P_DUE_BEFORE,
    P_DUE_AFTER,
    P_UPDATED_SINCE,
    P_CURSOR,
    P_COUNT
} param_e;

static const char *const param_names[P_COUNT] = {
    [P_STATUS] = "status",
    [P_SORT] = "sort",
    [P_LIMIT] = "limit",
    [P_OFFSET] = "offset",
    [P_Q] = "q",
    [P_DUE_BEFORE] = "due_before",
    [P_DUE_AFTER] = "due_after",
    [P_UPDATED_SINCE] = "updated_since",
    [P_CURSOR] = "cursor",
};

static const char *const sort_names[TODO_SORT_COUNT] = {
    [TODO_SORT_CREATED_DESC] = "-created_at",
    [TODO_SORT_CREATED_ASC] = "created_at",
    [TODO_SORT_UPDATED_ASC] = "updated_at",
    [TODO_SORT_UPDATED_DESC] = "-updated_at",
    [TODO_SORT_DUE_ASC] = "due_at",
    [TODO_SORT_DUE_DESC] = "-due_at",
    [TODO_SORT_PRIORITY_ASC] = "priority",
    [TODO_SORT_PRIORITY_DESC] = "-priority",
    [TODO_SORT_TITLE_ASC] = "title",
    [TODO_SORT_TITLE_DESC] = "-title",
};

#define M_STATUS "must be one of pending, completed, all"
#define M_SORT                                                  \
    "must be one of created_at, updated_at, due_at, priority, " \
    "title, each optionally prefixed by '-' for descending, "   \
    "or created_at_asc, created_at_desc"
#define M_OFFSET "must be an integer 0-1000000000"
#define M_TIME "must be an RFC 3339 date-time"
#define M_TOKEN(what) "must be the " what " of an earlier answer"

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *details;
    int problems;
    int max_limit;
    todo_list_query_t *q;
} query_parse_t;

static void problem(query_parse_t *qp, const char *field, const char *message)
{
    qp->problems++;
    if (qp->details != NULL) {
        todo_detail_t *d = apr_array_push(qp->details);

        d->field = field;
        d->message = message;
    }
}

/* application/x-www-form-urlencoded decoding of the NUL-terminated s, in
 * place ('+' is a space, %XX a byte).  Returns the decoded length -- the
 * result may hold NUL bytes from %00 -- or -1 on a bad escape. */
static long form_decode(char *s)
{
    char *o = s, *start = s;

    for (; *s != '\0'; s++) {
        if (*s == '+') {
            *o++ = ' ';
        }
        else if (*s == '%') {
            int hi = todo_text_hex_value((unsigned char)s[1]), lo;

            /* hi < 0 also stops at the NUL of a "%" at the end. */
            if (hi < 0
                || (lo = todo_text_hex_value((unsigned char)s[2])) < 0) {
                return -1;
            }
            *o++ = (char)(hi << 4 | lo);
            s += 2;
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return (long)(o - start);
}

/* 1 when the n bytes at s hold a NUL (from %00): the value then cannot be
 * the C string it looks like. */
static int has_nul(const char *s, long n)
{
    return memchr(s, '\0', (apr_size_t)n) != NULL;
}

/* Digits only (no sign, no blanks), at most max.  Returns the value or -1. */
static long parse_count(const char *s, long n, long max)
{
    long v = 0, i;

    if (n == 0) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
        if (v > max) {
            /* Stop before a long run of digits can overflow. */
            return -1;
        }
    }
    return v;
}

static void parse_status(query_parse_t *qp, const char *v, long n)
{
    if (!has_nul(v, n)) {
        if (strcasecmp(v, "all") == 0) {
            qp->q->status = TODO_STATUS_ALL;
            return;
        }
        if (strcasecmp(v, "pending") == 0) {
            qp->q->status = TODO_STATUS_PENDING;
            return;
        }
        if (strcasecmp(v, "completed") == 0) {
            qp->q->status = TODO_STATUS_COMPLETED;
            return;
        }
    }
    problem(qp, param_names[P_STATUS], M_STATUS);
}

static void parse_sort(query_parse_t *qp, const char *v, long n)
{
    int i;

    if (!has_nul(v, n)) {
        for (i = 0; i < TODO_SORT_COUNT; i++) {
            if (strcmp(v, sort_names[i]) == 0) {
                qp->q->sort = (todo_sort_e)i;
                return;
            }
        }
        /* Spellings of the original plans. */
        if (strcmp(v, "created_at_asc") == 0) {
            qp->q->sort = TODO_SORT_CREATED_ASC;
            return;
        }
        if (strcmp(v, "created_at_desc") == 0) {
            qp->q->sort = TODO_SORT_CREATED_DESC;
            return;
        }
    }
    problem(qp, param_names[P_SORT], M_SORT);
}

static void parse_limit(query_parse_t *qp, const char *v, long n)
{
    long limit = parse_count(v, n, qp->max_limit);

    if (limit < 1) {
        problem(qp, param_names[P_LIMIT],
                apr_psprintf(qp->p, "must be an integer 1-%d", qp->max_limit));
        return;
    }
    qp->q->limit = (int)limit;
}

static void parse_offset(query_parse_t *qp, const char *v, long n)
{
    long offset = parse_count(v, n, TODO_OFFSET_MAX);

    if (offset < 0) {
        problem(qp, param_names[P_OFFSET], M_OFFSET);
        return;
    }
    qp->q->offset = offset;
}

/* C0 controls, DEL and the C1 controls U+0080-009F (C2 80-C2 9F). */
static int has_control(const char *s, long n)
{
    const unsigned char *u = (const unsigned char *)s;
    long i;

    for (i = 0; i < n; i++) {
        if (u[i] < 0x20 || u[i] == 0x7F
            || (u[i] == 0xC2 && i + 1 < n && u[i + 1] <= 0x9F)) {
            return 1;
        }
    }
    return 0;
}

static void parse_q(query_parse_t *qp, const char *v, long n)
{
    long chars;

    if (n == 0) {
        qp->q->q = NULL; /* "q=" is the same as no q */
        return;
    }
    chars = todo_text_utf8_length(v, (apr_size_t)n);
    if (chars < 0) {
        problem(qp, param_names[P_Q], "must be valid UTF-8");
    }
    else if (has_control(v, n)) {
        problem(qp, param_names[P_Q], "must not contain control characters");
    }
    else if (chars > TODO_Q_MAX_LEN) {
        problem(qp, param_names[P_Q], "must be at most 200 characters");
    }
    else {
        qp->q->q = v;
    }
}

static void parse_time(query_parse_t *qp, param_e which, const char *v, long n)
{
    const char *norm;

    if (has_nul(v, n) || todo_time_rfc3339_parse(qp->p, v, &norm) != 0) {
        problem(qp, param_names[which], M_TIME);
        return;
    }
    switch (which) {
    case P_DUE_BEFORE:
        qp->q->due_before = norm;
        break;
    case P_DUE_AFTER:
        qp->q->due_after = norm;
        break;
    default:
        qp->q->updated_since = norm;
        break;
    }
}

/* A cursor or sync token as this API writes them: base64url, bounded.
 * Whether it is genuine is checked later, with the key. */
static int is_token(const char *v, long n)
{
    long i;

    if (n < 1 || n > TODO_QUERY_TOKEN_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = v[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

static void parse_cursor(query_parse_t *qp, const char *v, long n)
{
    if (!is_token(v, n)) {
        problem(qp, param_names[P_CURSOR], M_TOKEN("next_cursor"));
        return;
    }
    qp->q->cursor = v;
}

static int param_lookup(const char *name, long n)
{
    int i;

    if (has_nul(name, n)) {
        return -1;
    }
    for (i = 0; i < P_COUNT; i++) {
        if (strcmp(name, param_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* One "name=value" (or bare "name") of the query string, writable. */
static void parse_pair(query_parse_t *qp, char *pair, unsigned *seen)
{
    char *name = pair, *value = strchr(pair, '=');
    long nlen, vlen;
    int which;

    if (value != NULL) {
        *value++ = '\0';
    }
    else {
        value = pair + strlen(pair); /* a bare name has an empty value */
    }
    nlen = form_decode(name);
    if (nlen < 0 || todo_text_utf8_length(name, (apr_size_t)nlen) < 0) {
        /* Nothing we could name in details[].field. */
        problem(qp, NULL, "malformed parameter name");
        return;
    }
    which = param_lookup(name, nlen);
    if (which < 0) {
        problem(qp, name, "unknown parameter");
        return;
    }
    if (*seen & (1u << which)) {
        problem(qp, param_names[which], "given more than once");
        return;
    }
    *seen |= 1u << which;
    vlen = form_decode(value);
    if (vlen < 0) {
        problem(qp, param_names[which], "malformed percent-encoding");
        return;
    }
    switch ((param_e)which) {
    case P_STATUS:
        parse_status(qp, value, vlen);
        break;
    case P_SORT:
        parse_sort(qp, value, vlen);
        break;
    case P_LIMIT:
        parse_limit(qp, value, vlen);
        break;
    case P_OFFSET:
        parse_offset(qp, value, vlen);
        break;
    case P_Q:
        parse_q(qp, value, vlen);
        break;
    case P_CURSOR:
        parse_cursor(qp, value, vlen);
        break;
    default:
        parse_time(qp, (param_e)which, value, vlen);
        break;
    }
}

int todo_query_parse(apr_pool_t *p, const char *args, int default_limit,
                     int max_limit, todo_list_query_t *q,
                     apr_array_header_t *details)
{
    query_parse_t qp;
    unsigned seen = 0;
    char *pair;

    memset(q, 0, sizeof(*q));
    q->status = TODO_STATUS_ALL;
    q->sort = TODO_SORT_CREATED_DESC;
    q->limit = default_limit;
    q->offset = 0;
    if (args == NULL || *args == '\0') {
        return 0; /* the common case costs nothing */
    }
    qp.p = p;
    qp.details = details;
    qp.problems = 0;
    qp.max_limit = max_limit;
    qp.q = q;

    /* One copy, decoded pair by pair in place. */
    pair = apr_pstrdup(p, args);
    while (pair != NULL) {
        char *amp = strchr(pair, '&');

        if (amp != NULL) {
            *amp++ = '\0';
        }
        if (*pair != '\0') { /* "&&" and a trailing "&" */
            parse_pair(&qp, pair, &seen);
        }
        pair = amp;
    }
    /* A cursor says where the page starts; so would an offset. */
    if (q->cursor && (seen & (1u << P_OFFSET))) {
        problem(&qp, param_names[P_CURSOR], "cannot be combined with offset");
    }
    return qp.problems > 0 ? 400 : 0;
}

int todo_query_parse_changes(apr_pool_t *p, const char *args,
                             int default_limit, int max_limit,
                             todo_changes_query_t *q,
                             apr_array_header_t *details)
{
    todo_list_query_t unused;
    query_parse_t qp;
    unsigned seen = 0;
    char *pair;

    q->since = NULL;
    q->limit = default_limit;
    if (args == NULL || *args == '\0') {
        return 0;
    }
    memset(&unused, 0, sizeof(unused));
    qp.p = p;
    qp.details = details;
    qp.problems = 0;
    qp.max_limit = max_limit;
    qp.q = &unused;
    for (pair = apr_pstrdup(p, args); pair != NULL;) {
        char *amp = strchr(pair, '&'), *value;
        long nlen, vlen;

        if (amp != NULL) {
            *amp++ = '\0';
        }
        if (*pair == '\0') {
            pair = amp;
            continue;
        }
        value = strchr(pair, '=');
        if (value != NULL) {
            *value++ = '\0';
        }
        else {
            value = pair + strlen(pair);
        }
        nlen = form_decode(pair);
        vlen = form_decode(value);
        if (nlen < 0 || todo_text_utf8_length(pair, (apr_size_t)nlen) < 0) {
            problem(&qp, NULL, "malformed parameter name");
        }
        else if (has_nul(pair, nlen)
                 || (strcmp(pair, "since") && strcmp(pair, "limit"))) {
            problem(&qp, pair, "unknown parameter");
        }
        else if (seen & (*pair == 's' ? 1u : 2u)) {
            problem(&qp, *pair == 's' ? "since" : "limit",
                    "given more than once");
        }
        else if (*pair == 's') {
            seen |= 1u;
            if (vlen < 0 || !is_token(value, vlen)) {
                problem(&qp, "since", M_TOKEN("next_token"));
            }
            else {
                q->since = value;
            }
        }
        else {
            seen |= 2u;
            if (vlen < 0) {
                problem(&qp, "limit", "malformed percent-encoding");
            }
            else {
                parse_limit(&qp, value, vlen);
                q->limit = unused.limit ? unused.limit : q->limit;
            }
        }
        pair = amp;
    }
    return qp.problems > 0 ? 400 : 0;
}

const char *todo_query_sort_name(todo_sort_e sort)
{
    if ((int)sort < 0 || sort >= TODO_SORT_COUNT) {
        return NULL;
    }
    return sort_names[sort];
}

/* Append name=value, percent-encoding all but RFC 3986's unreserved
 * characters. */
static void put_param(char **o, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *v = (const unsigned char *)value;
    char *c = *o;

    memcpy(c, name, strlen(name));
    c += strlen(name);
    *c++ = '=';
    for (; *v; v++) {
        if ((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z')
            || (*v >= '0' && *v <= '9') || *v == '-' || *v == '.' || *v == '_'
            || *v == '~') {
            *c++ = (char)*v;
        }
        else {
            *c++ = '%';
            *c++ = hex[*v >> 4];
            *c++ = hex[*v & 0xf];
        }
    }
    *c++ = '&';
    *o = c;
}

const char *todo_query_next(apr_pool_t *p, const todo_list_query_t *q,
                            const char *cursor)
{
    static const char *const status[] = { "all", "pending", "completed" };
    apr_size_t n = 128 + strlen(cursor);
    char *out, *o;

    n += q->q ? 3 * strlen(q->q) : 0;
    n += q->due_before ? 3 * strlen(q->due_before) : 0;
    n += q->due_after ? 3 * strlen(q->due_after) : 0;
    n += q->updated_since ? 3 * strlen(q->updated_since) : 0;
    o = out = apr_palloc(p, n);
    if (q->status != TODO_STATUS_ALL) {
        put_param(&o, param_names[P_STATUS], status[q->status]);
    }
    put_param(&o, param_names[P_SORT], sort_names[q->sort]);
    put_param(&o, param_names[P_LIMIT], apr_itoa(p, q->limit));
    if (q->q) {
        put_param(&o, param_names[P_Q], q->q);
    }
    if (q->due_before) {
        put_param(&o, param_names[P_DUE_BEFORE], q->due_before);
    }
    if (q->due_after) {
        put_param(&o, param_names[P_DUE_AFTER], q->due_after);
    }
    if (q->updated_since) {
        put_param(&o, param_names[P_UPDATED_SINCE], q->updated_since);
    }
    put_param(&o, param_names[P_CURSOR], cursor);
    o[-1] = '\0'; /* the last '&' */
    return out;
}
