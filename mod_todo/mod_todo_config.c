/* Directives, the per-directory configuration and its defaults, and the
 * startup pass that turns each todo location into a todo_site_t. */
#include <errno.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <http_core.h>

#include "mod_todo_config.h"
#include "todo_docs.h"
#include "todo_fetch.h"

#define MAX_KEY_FILE (64 * 1024)

/* The default of every Todo* directive, in one place (as mod_http2's
 * h2_config does).  httpd's merges leave a field unset (TODO_UNSET, 0 or
 * NULL) until a directive sets it; at startup each todo location's
 * effective configuration is merged over this record, once, so requests
 * read plain values and never test for "unset". */
static const todo_dir_cfg defaults = {
    .algs = TODO_ALG_BIT(TODO_ALG_HS256), /* TodoJWTAlgorithms HS256 */
    .keys = NULL,                         /* no key material: refused */
    .jwks_url = NULL,                     /* TodoJWKSURL: none */
    .jwks_refresh = 60,                   /* TodoJWKSRefreshInterval, s */
    .issuer = NULL,                       /* TodoJWTIssuer: not checked */
    .audience = NULL,                     /* TodoJWTAudience: not checked */
    .leeway = 30,                         /* TodoJWTLeeway, s */
    .user_claim = "sub",                  /* TodoJWTUserClaim */
    .foreign_status = 404,                /* TodoForeignTaskStatus */
    .cors_origins = NULL,                 /* TodoCORSOrigins: no CORS */
    .max_body = 16384,                    /* TodoMaxBodySize, bytes */
    .page_default = 50,                   /* TodoPageSize default ... */
    .page_max = 100,                      /* ... and maximum */
    .docs = 1,                            /* TodoDocs on */
    /* TodoDocsAssets: like FastAPI's /docs, a public CDN copy of
     * swagger-ui-dist 5 */
    .docs_assets = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5",
    .rate_requests = 0, /* TodoRateLimit: off */
    .rate_seconds = 0,
    .rate_burst = 0,
    .idem_retention = 86400,   /* TodoIdempotencyRetention, s (a day) */
    .tomb_retention = 2592000, /* TodoTombstoneRetention, s (30 days) */
};

void *todo_config_create_dir(apr_pool_t *p, char *dir)
{
    todo_dir_cfg *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->jwks_refresh = TODO_UNSET;
    c->leeway = TODO_UNSET;
    c->foreign_status = TODO_UNSET;
    c->max_body = TODO_UNSET;
    c->page_default = TODO_UNSET;
    c->page_max = TODO_UNSET;
    c->docs = TODO_UNSET;
    c->rate_requests = TODO_UNSET;
    c->idem_retention = TODO_UNSET;
    c->tomb_retention = TODO_UNSET;
    return c;
}

void *todo_config_create_srv(apr_pool_t *p, server_rec *s)
{
    todo_srv_cfg *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->prefixes = apr_array_make(p, 2, sizeof(const char *));
    return c;
}

#define MERGE_PTR(f) n->f = add->f ? add->f : base->f
#define MERGE_INT(f) n->f = add->f != TODO_UNSET ? add->f : base->f

void *todo_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const todo_dir_cfg *base = basev, *add = addv;
    todo_dir_cfg *n = apr_palloc(p, sizeof(*n));

    n->algs = add->algs ? add->algs : base->algs;
    /* Key directives of a section replace the inherited keys as a whole:
     * mixing two sections' keys would be hard to reason about. */
    n->keys = add->keys ? add->keys : base->keys;
    n->has_secret = add->keys ? add->has_secret : base->has_secret;
    MERGE_PTR(jwks_url);
    MERGE_INT(jwks_refresh);
    MERGE_PTR(issuer);
    MERGE_PTR(audience);
    MERGE_INT(leeway);
    MERGE_PTR(user_claim);
    MERGE_INT(foreign_status);
    MERGE_PTR(cors_origins);
    MERGE_INT(max_body);
    MERGE_INT(page_default);
    MERGE_INT(page_max);
    MERGE_INT(docs);
    MERGE_PTR(docs_assets);
    /* TodoRateLimit's three numbers go together. */
    n->rate_requests = add->rate_requests != TODO_UNSET ? add->rate_requests
                                                        : base->rate_requests;
    n->rate_seconds = add->rate_requests != TODO_UNSET ? add->rate_seconds
                                                       : base->rate_seconds;
    n->rate_burst =
        add->rate_requests != TODO_UNSET ? add->rate_burst : base->rate_burst;
    MERGE_INT(idem_retention);
    MERGE_INT(tomb_retention);
    MERGE_PTR(site);
    MERGE_PTR(vsites);
    return n;
}

/* ------------------------------------------------------------ helpers */

static const char *dir_err(cmd_parms *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "<Directive>: <reason>" -- httpd prints it after the file and line. */
static const char *dir_err(cmd_parms *cmd, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(cmd->pool, fmt, ap);
    va_end(ap);
    return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", msg, NULL);
}

/* Parse a whole decimal number in [lo, hi]. */
static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    if (!s || !apr_isdigit(*s)) {
        return -1;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Read a small file (key material) completely. */
static const char *read_file(cmd_parms *cmd, const char *arg, char **buf,
                             apr_size_t *len)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    char err[128];

    if (!path) {
        return dir_err(cmd, "invalid path '%s'", arg);
    }
    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    }
    if (rv != APR_SUCCESS) {
        return dir_err(cmd, "cannot read %s: %s", path,
                       apr_strerror(rv, err, sizeof(err)));
    }
    if (fi.filetype != APR_REG || fi.size > MAX_KEY_FILE) {
        apr_file_close(f);
        return dir_err(cmd, "%s is not a regular file of at most %d bytes",
                       path, MAX_KEY_FILE);
    }
    *buf = apr_palloc(cmd->pool, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, *buf, (apr_size_t)fi.size, len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return dir_err(cmd, "cannot read %s: %s", path,
                       apr_strerror(rv, err, sizeof(err)));
    }
    (*buf)[*len] = '\0';
    return NULL;
}

static todo_keys_t *section_keys(cmd_parms *cmd, todo_dir_cfg *c)
{
    if (!c->keys) {
        c->keys = todo_keys_make(cmd->pool);
    }
    return c->keys;
}

/* --------------------------------------------------------- directives */

static const char *set_algorithms(cmd_parms *cmd, void *dv, const char *args)
{
    todo_dir_cfg *c = dv;
    unsigned mask = 0;
    const char *w;

    while (*(w = ap_getword_conf(cmd->temp_pool, &args))) {
        int alg = todo_keys_alg_from_name(w);

        if (alg < 0) {
            return dir_err(cmd,
                           "unknown or unsafe algorithm '%s' (allowed: "
                           "HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384 "
                           "ES512 EdDSA, exact spelling)",
                           w);
        }
        mask |= TODO_ALG_BIT(alg);
    }
    if (!mask) {
        return dir_err(cmd, "needs at least one algorithm");
    }
    c->algs = mask;
    return NULL;
}

static const char *add_secret(cmd_parms *cmd, todo_dir_cfg *c,
                              const char *secret, apr_size_t len)
{
    const char *err;

    if (c->has_secret) {
        return dir_err(cmd,
                       "a secret is already set in this section "
                       "(TodoJWTSecret and TodoJWTSecretFile are exclusive)");
    }
    err = todo_keys_add_secret(section_keys(cmd, c),
                               (const unsigned char *)secret, len, NULL);
    if (err) {
        return dir_err(cmd, "%s", err);
    }
    c->has_secret = 1;
    return NULL;
}

/* The first "${NAME}" in s, or NULL.  httpd has replaced every defined
 * variable by the time a directive sees its argument, so what is left is
 * an undefined one. */
static const char *undefined_variable(apr_pool_t *p, const char *s)
{
    const char *v, *e;

    for (v = strstr(s, "${"); v; v = strstr(v + 1, "${")) {
        for (e = v + 2; apr_isalnum(*e) || *e == '_'; e++) {
            ;
        }
        if (*e == '}' && e > v + 2) {
            return apr_pstrmemdup(p, v, (apr_size_t)(e - v + 1));
        }
    }
    return NULL;
}

static const char *set_secret(cmd_parms *cmd, void *dv, const char *arg)
{
    const char *var = undefined_variable(cmd->temp_pool, arg);

    /* httpd leaves an undefined ${VAR} in place, alone or inside a longer
     * argument; never take that literal (and well known) text for a
     * secret.  Name only the variable: the rest may be secret. */
    if (var) {
        return dir_err(cmd,
                       "%s is not defined (export it in the "
                       "environment of httpd, e.g. /etc/apache2/envvars)",
                       var);
    }
    return add_secret(cmd, dv, arg, strlen(arg));
}

static const char *set_secret_file(cmd_parms *cmd, void *dv, const char *arg)
{
    char *buf;
    apr_size_t len;
    const char *err = read_file(cmd, arg, &buf, &len);

    if (err) {
        return err;
    }
    /* One trailing newline (as editors and `echo` leave it) is not part of
     * the secret. */
    if (len && buf[len - 1] == '\n') {
        len--;
        if (len && buf[len - 1] == '\r') {
            len--;
        }
    }
    return add_secret(cmd, dv, buf, len);
}

static const char *add_pem(cmd_parms *cmd, void *dv, const char *path,
                           const char *kid)
{
    char *buf;
    apr_size_t len;
    const char *err = read_file(cmd, path, &buf, &len);

    if (err) {
        return err;
    }
    /* (An empty second argument reaches us as NULL: no kid.) */
    err = todo_keys_add_pem(section_keys(cmd, dv), buf, len, kid);
    return err ? dir_err(cmd, "%s: %s", path, err) : NULL;
}

static const char *set_jwks_file(cmd_parms *cmd, void *dv, const char *path)
{
    char *buf;
    apr_size_t len;
    const char *err = read_file(cmd, path, &buf, &len);

    if (err) {
        return err;
    }
    err = todo_keys_add_jwks(section_keys(cmd, dv), buf, len, NULL);
    return err ? dir_err(cmd, "%s: %s", path, err) : NULL;
}

static const char *set_jwks_url(cmd_parms *cmd, void *dv, const char *url)
{
    todo_dir_cfg *c = dv;
    const char *err = todo_fetch_check_url(cmd->pool, url);

    if (err) {
        return dir_err(cmd, "%s", err);
    }
    c->jwks_url = url;
    return NULL;
}

/* Integer directives: the field's offset and range come with the entry. */
typedef struct {
    apr_size_t offset;
    long lo, hi;
} int_spec;

static const int_spec spec_refresh = {
    APR_OFFSETOF(todo_dir_cfg, jwks_refresh), 1, 86400
};
static const int_spec spec_leeway = { APR_OFFSETOF(todo_dir_cfg, leeway), 0,
                                      300 };
/* Retentions: from a second (tests) to ten years. */
static const int_spec spec_idem_retention = {
    APR_OFFSETOF(todo_dir_cfg, idem_retention), 1, 315360000
};
static const int_spec spec_tomb_retention = {
    APR_OFFSETOF(todo_dir_cfg, tomb_retention), 1, 315360000
};

static const char *set_int(cmd_parms *cmd, void *dv, const char *arg)
{
    const int_spec *spec = cmd->info;
    long v;

    if (parse_int(arg, spec->lo, spec->hi, &v)) {
        return dir_err(cmd, "'%s' is not a whole number from %ld to %ld", arg,
                       spec->lo, spec->hi);
    }
    *(int *)((char *)dv + spec->offset) = (int)v;
    return NULL;
}

static const char *set_nonempty(cmd_parms *cmd, void *dv, const char *arg)
{
    if (!*arg) {
        return dir_err(cmd, "must not be empty");
    }
    return ap_set_string_slot(cmd, dv, arg);
}

static const char *set_user_claim(cmd_parms *cmd, void *dv, const char *arg)
{
    if (!*arg || strlen(arg) > 64) {
        return dir_err(cmd, "a claim name of 1-64 characters is required");
    }
    return ap_set_string_slot(cmd, dv, arg);
}

static const char *set_foreign(cmd_parms *cmd, void *dv, const char *arg)
{
    todo_dir_cfg *c = dv;

    if (strcmp(arg, "404") && strcmp(arg, "403")) {
        return dir_err(cmd, "must be 404 or 403, not '%s'", arg);
    }
    c->foreign_status = atoi(arg);
    return NULL;
}

/* An origin is scheme://host[:port] exactly as browsers send it. */
static const char *check_origin(apr_pool_t *p, const char *o)
{
    const char *host;
    const char *s;

    if (!strncmp(o, "https://", 8)) {
        host = o + 8;
    }
    else if (!strncmp(o, "http://", 7)) {
        host = o + 7;
    }
    else {
        return apr_psprintf(p, "'%s' is not an http(s) origin", o);
    }
    if (!*host) {
        return apr_psprintf(p, "'%s' has no host", o);
    }
    for (s = host; *s; s++) {
        if (!(apr_isalnum(*s) || *s == '.' || *s == '-' || *s == ':'
              || *s == '[' || *s == ']')
            || apr_isupper(*s)) {
            return apr_psprintf(p,
                                "'%s' is not a lower-case scheme://host"
                                "[:port] origin (no path, no wildcard)",
                                o);
        }
    }
    return NULL;
}

static const char *set_cors(cmd_parms *cmd, void *dv, const char *args)
{
    todo_dir_cfg *c = dv;
    apr_array_header_t *list = apr_array_make(cmd->pool, 4, sizeof(char *));
    const char *w;

    while (*(w = ap_getword_conf(cmd->pool, &args))) {
        const char *err = check_origin(cmd->temp_pool, w);

        if (err) {
            return dir_err(cmd, "%s", err);
        }
        APR_ARRAY_PUSH(list, const char *) = w;
    }
    if (!list->nelts) {
        return dir_err(cmd, "needs at least one origin");
    }
    c->cors_origins = list;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dv, const char *arg)
{
    todo_dir_cfg *c = dv;
    long v;

    if (parse_int(arg, 256, 16L * 1024 * 1024, &v)) {
        return dir_err(cmd, "'%s' is not a size from 256 to 16777216 bytes",
                       arg);
    }
    c->max_body = v;
    return NULL;
}

static const char *set_page(cmd_parms *cmd, void *dv, const char *def,
                            const char *max)
{
    todo_dir_cfg *c = dv;
    long d, m;

    if (parse_int(def, 1, 1000, &d) || parse_int(max, 1, 1000, &m) || d > m) {
        return dir_err(cmd, "needs a default and a maximum page size, "
                            "1 <= default <= maximum <= 1000");
    }
    c->page_default = (int)d;
    c->page_max = (int)m;
    return NULL;
}

/* TodoRateLimit requests seconds [burst], or off. */
static const char *set_ratelimit(cmd_parms *cmd, void *dv, const char *req,
                                 const char *secs, const char *burst)
{
    todo_dir_cfg *c = dv;
    todo_ratelimit_conf_t rl;
    long r, sec, b = 0;
    const char *err;

    if (!strcasecmp(req, "off") && !secs) {
        c->rate_requests = 0;
        c->rate_seconds = 0;
        c->rate_burst = 0;
        return NULL;
    }
    if (!secs || parse_int(req, 1, TODO_RATELIMIT_MAX_REQUESTS, &r)
        || parse_int(secs, 1, TODO_RATELIMIT_MAX_SECONDS, &sec)
        || (burst && parse_int(burst, 1, TODO_RATELIMIT_MAX_BURST, &b))) {
        return dir_err(cmd, "needs requests (1-1000000), seconds (1-86400) "
                            "and optionally a burst (1-100000), or off");
    }
    if ((err = todo_ratelimit_conf(&rl, r, sec, b)) != NULL) {
        return dir_err(cmd, "%s", err);
    }
    c->rate_requests = (int)r;
    c->rate_seconds = (int)sec;
    c->rate_burst = (int)b;
    return NULL;
}

static const char *set_docs_assets(cmd_parms *cmd, void *dv, const char *arg)
{
    const char *err = todo_docs_check_assets(cmd->temp_pool, arg);

    if (err) {
        return dir_err(cmd, "%s", err);
    }
    return ap_set_string_slot(cmd, dv, arg);
}

#define DIRCONF (RSRC_CONF | ACCESS_CONF)
#define SLOT(f) (void *)APR_OFFSETOF(todo_dir_cfg, f)

const command_rec todo_config_cmds[] = {
    AP_INIT_RAW_ARGS("TodoJWTAlgorithms", set_algorithms, NULL, DIRCONF,
                     "algorithms accepted in tokens (HS256 ... EdDSA)"),
    AP_INIT_TAKE1("TodoJWTSecret", set_secret, NULL, DIRCONF,
                  "HMAC secret, raw bytes, at least 32"),
    AP_INIT_TAKE1("TodoJWTSecretFile", set_secret_file, NULL, DIRCONF,
                  "file holding the HMAC secret"),
    AP_INIT_TAKE12(
        "TodoJWTPublicKeyFile", add_pem, NULL, DIRCONF,
        "PEM public key file (RSA, EC or Ed25519) and optional kid"),
    AP_INIT_TAKE1("TodoJWKSFile", set_jwks_file, NULL, DIRCONF,
                  "JWKS document with the verification keys"),
    AP_INIT_TAKE1("TodoJWKSURL", set_jwks_url, NULL, DIRCONF,
                  "http(s) URL of a JWKS document"),
    AP_INIT_TAKE1("TodoJWKSRefreshInterval", set_int, (void *)&spec_refresh,
                  DIRCONF,
                  "least seconds between two fetches of the JWKS URL"),
    AP_INIT_TAKE1("TodoJWTIssuer", set_nonempty, SLOT(issuer), DIRCONF,
                  "required iss claim"),
    AP_INIT_TAKE1("TodoJWTAudience", set_nonempty, SLOT(audience), DIRCONF,
                  "required aud claim value"),
    AP_INIT_TAKE1("TodoJWTLeeway", set_int, (void *)&spec_leeway, DIRCONF,
                  "allowed clock skew in seconds (0-300)"),
    AP_INIT_TAKE1("TodoJWTUserClaim", set_user_claim, SLOT(user_claim),
                  DIRCONF, "claim naming the user"),
    AP_INIT_TAKE1("TodoForeignTaskStatus", set_foreign, NULL, DIRCONF,
                  "status for another user's task: 404 or 403"),
    AP_INIT_RAW_ARGS("TodoCORSOrigins", set_cors, NULL, DIRCONF,
                     "origins allowed to call the API from a browser"),
    AP_INIT_TAKE1("TodoMaxBodySize", set_max_body, NULL, DIRCONF,
                  "largest request body in bytes"),
    AP_INIT_TAKE2("TodoPageSize", set_page, NULL, DIRCONF,
                  "default and maximum list page size"),
    AP_INIT_FLAG("TodoDocs", ap_set_flag_slot, SLOT(docs), DIRCONF,
                 "serve the API documentation (Swagger UI) at P/docs"),
    AP_INIT_TAKE1("TodoDocsAssets", set_docs_assets, SLOT(docs_assets),
                  DIRCONF,
                  "URL prefix of Swagger UI 5's swagger-ui-bundle.js and "
                  "swagger-ui.css"),
    AP_INIT_TAKE123("TodoRateLimit", set_ratelimit, NULL, DIRCONF,
                    "requests per seconds for each user, and optionally "
                    "the burst; or off"),
    AP_INIT_TAKE1("TodoIdempotencyRetention", set_int,
                  (void *)&spec_idem_retention, DIRCONF,
                  "seconds an Idempotency-Key and its answer are kept"),
    AP_INIT_TAKE1("TodoTombstoneRetention", set_int,
                  (void *)&spec_tomb_retention, DIRCONF,
                  "seconds a deleted task is remembered for sync"),
    { NULL }
};

/* ------------------------------------------- finding the todo locations */

/* A "SetHandler todo" found in the parsed configuration tree. */
typedef struct {
    const ap_directive_t *vhost;   /* enclosing <VirtualHost>, or NULL */
    const ap_directive_t *section; /* enclosing section, or NULL */
    const char *path;              /* <Location> path */
    const char *problem;           /* why it cannot be used, or NULL */
} found_site;

/* A Todo* directive inside a section. */
typedef struct {
    const ap_directive_t *directive;
    const ap_directive_t *section;
} stray_dir;

static int is_todo_handler(apr_pool_t *p, const ap_directive_t *d)
{
    const char *args = d->args;

    return !strcasecmp(d->directive, "SetHandler")
           && !strcmp(ap_getword_conf(p, &args), TODO_HANDLER);
}

/* The first word of a section's arguments ("/api>" -> "/api"). */
static const char *section_arg(apr_pool_t *p, const ap_directive_t *d)
{
    char *args = apr_pstrdup(p, d->args);
    char *gt = strrchr(args, '>');
    const char *a = args;

    if (gt) {
        *gt = '\0';
    }
    return ap_getword_conf(p, &a);
}

static void add_site(apr_pool_t *p, apr_array_header_t *sites,
                     const ap_directive_t *vhost, const ap_directive_t *sec)
{
    found_site *site = apr_array_push(sites);

    site->vhost = vhost;
    site->section = sec;
    site->path = NULL;
    site->problem = NULL;
    if (!sec) {
        site->path = ""; /* server-wide: P is "" */
    }
    else if (!strcasecmp(sec->directive, "<Location")) {
        site->path = section_arg(p, sec);
        if (!strcmp(site->path, "~")) {
            site->problem = "a regular-expression <Location ~>";
        }
    }
    else {
        site->problem = apr_psprintf(p, "a %s> section", sec->directive);
    }
    if (!site->problem && site->path[0] && site->path[0] != '/') {
        site->problem = "a <Location> whose path does not start with /";
    }
}

/* Walk the tree: conditional sections (<IfModule>, <IfDefine>, ...) are
 * entered; whether their condition held is settled later, because only
 * sections httpd actually built are matched against this list.  Todo*
 * directives inside sections are noted, to check that each sits in a todo
 * location. */
static void find_sites(apr_pool_t *p, const ap_directive_t *node,
                       const ap_directive_t *vhost, const ap_directive_t *sec,
                       apr_array_header_t *sites, apr_array_header_t *strays)
{
    for (; node; node = node->next) {
        if (!strcasecmp(node->directive, "<VirtualHost")) {
            find_sites(p, node->first_child, node, NULL, sites, strays);
        }
        else if (node->first_child && !strncasecmp(node->directive, "<If", 3)
                 && strcasecmp(node->directive, "<If")) {
            find_sites(p, node->first_child, vhost, sec, sites, strays);
        }
        else if (node->first_child) {
            find_sites(p, node->first_child, vhost, node, sites, strays);
        }
        else if (is_todo_handler(p, node)) {
            add_site(p, sites, vhost, sec);
        }
        else if (sec && !strncasecmp(node->directive, "Todo", 4)) {
            stray_dir *d = apr_array_push(strays);

            d->directive = node;
            d->section = sec;
        }
    }
}

static int site_in_server(const found_site *site, const server_rec *s)
{
    if (!s->is_virtual) {
        return site->vhost == NULL;
    }
    return site->vhost && s->defn_name
           && !strcmp(site->vhost->filename, s->defn_name)
           && site->vhost->line_num == (int)s->defn_line_number;
}

/* The per-directory configuration httpd built for a site. */
static ap_conf_vector_t *site_config(const found_site *site, server_rec *s)
{
    core_server_config *sconf = ap_get_core_module_config(s->module_config);
    ap_conf_vector_t **sec = (ap_conf_vector_t **)sconf->sec_url->elts;
    int i;

    if (!site->section) {
        return s->lookup_defaults;
    }
    for (i = 0; i < sconf->sec_url->nelts; i++) {
        core_dir_config *cd = ap_get_core_module_config(sec[i]);

        if (!cd->r && cd->d && !strcmp(cd->d, site->path)) {
            return sec[i];
        }
    }
    return NULL;
}

static const char *site_where(apr_pool_t *p, const found_site *site)
{
    const ap_directive_t *d = site->section ? site->section : site->vhost;

    if (!d) {
        return "the server configuration";
    }
    return apr_psprintf(p, "%s %s> at %s:%d", d->directive,
                        site->section ? site->path : d->args, d->filename,
                        d->line_num);
}

static int config_fail(server_rec *s, const char *msg)
{
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s,
                 TODOLOG(0001) "mod_todo: %s", msg);
    return HTTP_INTERNAL_SERVER_ERROR;
}

static int same_string(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* Whether two resolved configurations make the same verifier. */
static int same_auth(const todo_dir_cfg *a, const todo_dir_cfg *b)
{
    return a->algs == b->algs && a->keys == b->keys
           && same_string(a->jwks_url, b->jwks_url)
           && a->jwks_refresh == b->jwks_refresh
           && same_string(a->issuer, b->issuer)
           && same_string(a->audience, b->audience) && a->leeway == b->leeway
           && same_string(a->user_claim, b->user_claim);
}

/* What section c runs with in server s: s's defaults merged with the
 * section, over the defaults record. */
static todo_dir_cfg *resolve(apr_pool_t *pconf, server_rec *s, todo_dir_cfg *c)
{
    todo_dir_cfg *eff = todo_config_merge_dir(
        pconf, ap_get_module_config(s->lookup_defaults, &todo_module), c);

    return todo_config_merge_dir(pconf, (void *)&defaults, eff);
}

static const char *make_verifier(apr_pool_t *pconf, const todo_dir_cfg *r,
                                 todo_verifier_t **out)
{
    todo_verifier_conf_t vc;

    vc.algs = r->algs;
    vc.keys = r->keys;
    vc.jwks_url = r->jwks_url;
    vc.jwks_refresh = apr_time_from_sec(r->jwks_refresh);
    vc.issuer = r->issuer;
    vc.audience = r->audience;
    vc.leeway = r->leeway;
    vc.user_claim = r->user_claim;
    return todo_verifier_make(pconf, &vc, out);
}

/* The site of a resolved configuration; its verifier is `verifier` when
 * given (an equal one exists), else built and validated here. */
static const char *make_site(apr_pool_t *pconf, const found_site *site,
                             const todo_dir_cfg *r, todo_verifier_t *verifier,
                             todo_site_t **out)
{
    todo_site_t *t = apr_pcalloc(pconf, sizeof(*t));
    apr_size_t n = strlen(site->path);
    const char *err;

    t->verifier = verifier;
    if (!verifier && (err = make_verifier(pconf, r, &t->verifier))) {
        return err;
    }
    t->prefix = apr_pstrmemdup(pconf, site->path,
                               n && site->path[n - 1] == '/' ? n - 1 : n);
    t->foreign_status = r->foreign_status;
    t->cors_origins = r->cors_origins;
    t->max_body = r->max_body;
    t->page_default = r->page_default;
    t->page_max = r->page_max;
    t->docs = r->docs;
    t->docs_assets = r->docs_assets;
    if (r->rate_requests > 0) {
        todo_ratelimit_conf(&t->ratelimit, r->rate_requests, r->rate_seconds,
                            r->rate_burst);
    }
    t->idem_retention = r->idem_retention;
    t->tomb_retention = r->tomb_retention;
    *out = t;
    return NULL;
}

/* A main-server site served by virtual host s: s's Todo* defaults apply
 * there (as httpd merges them for every request to s), so resolve it for
 * s too; its verifier is shared when s's defaults leave it the same. */
static int vhost_site(apr_pool_t *pconf, server_rec *main_s, server_rec *s,
                      const found_site *site, todo_dir_cfg *c)
{
    todo_dir_cfg *mine = resolve(pconf, s, c);
    todo_dir_cfg *theirs = resolve(pconf, main_s, c);
    todo_site_t *t;
    const char *err =
        make_site(pconf, site, mine,
                  same_auth(mine, theirs) ? c->site->verifier : NULL, &t);

    if (err) {
        return config_fail(s, apr_psprintf(pconf,
                                           "%s (%s, in the virtual "
                                           "host at %s:%d)",
                                           err, site_where(pconf, site),
                                           s->defn_name ? s->defn_name : "?",
                                           (int)s->defn_line_number));
    }
    if (!c->vsites) {
        c->vsites = apr_hash_make(pconf);
    }
    apr_hash_set(c->vsites, apr_pmemdup(pconf, &s, sizeof(s)), sizeof(s), t);
    return OK;
}

/* Give one site its resolved configuration. */
static int setup_site(apr_pool_t *pconf, server_rec *main_s, server_rec *s,
                      const found_site *site)
{
    ap_conf_vector_t *v = site_config(site, s);
    todo_srv_cfg *sc;
    todo_dir_cfg *c;

    if (site->problem) {
        return config_fail(
            s, apr_psprintf(pconf,
                            "SetHandler todo: needs a "
                            "<Location> with a literal path, not %s (%s)",
                            site->problem, site_where(pconf, site)));
    }
    if (!v) {
        return OK; /* inside a condition that was false */
    }
    c = ap_get_module_config(v, &todo_module);
    if (!c) {
        /* httpd creates a module's per-directory configuration for a
         * section only when one of its directives appears there: a
         * <Location> with nothing but "SetHandler todo" (all Todo*
         * directives at server level) has none.  Give it an empty one,
         * which inherits everything, to hold the site. */
        c = todo_config_create_dir(pconf, NULL);
        ap_set_module_config(v, &todo_module, c);
    }
    if (!c->site) {
        todo_site_t *t;
        const char *err =
            make_site(pconf, site, resolve(pconf, s, c), NULL, &t);

        if (err) {
            return config_fail(s, apr_psprintf(pconf, "%s (%s)", err,
                                               site_where(pconf, site)));
        }
        c->site = t;
    }
    else if (s->is_virtual && !site->vhost) {
        /* A main-server site, seen again through a virtual host. */
        if (vhost_site(pconf, main_s, s, site, c) != OK) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    sc = ap_get_module_config(s->module_config, &todo_module);
    APR_ARRAY_PUSH(sc->prefixes, const char *) = c->site->prefix;
    return OK;
}

/* A Todo* directive in a section that is not a todo location has no
 * effect (each location's settings are resolved once, at startup, from
 * its own section and its server's): refuse it rather than let an admin
 * believe, say, a key or a body limit applies there. */
static int check_strays(apr_pool_t *ptemp, server_rec *s,
                        const apr_array_header_t *sites,
                        const apr_array_header_t *todo_dirs)
{
    int i, j;

    for (i = 0; i < todo_dirs->nelts; i++) {
        const stray_dir *d = &APR_ARRAY_IDX(todo_dirs, i, stray_dir);
        int ours = 0;

        for (j = 0; j < sites->nelts && !ours; j++) {
            ours = APR_ARRAY_IDX(sites, j, found_site).section == d->section;
        }
        if (!ours) {
            return config_fail(
                s,
                apr_psprintf(ptemp,
                             "%s: has no effect in "
                             "%s %s> at %s:%d, which is not a todo location"
                             " (put Todo* directives in the <Location> "
                             "with SetHandler todo, or at server or "
                             "virtual-host level)",
                             d->directive->directive, d->section->directive,
                             section_arg(ptemp, d->section),
                             d->directive->filename, d->directive->line_num));
        }
    }
    return OK;
}

int todo_config_check(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                      apr_array_header_t **servers_out)
{
    apr_array_header_t *sites = apr_array_make(ptemp, 4, sizeof(found_site));
    apr_array_header_t *strays = apr_array_make(ptemp, 4, sizeof(stray_dir));
    apr_array_header_t *servers =
        apr_array_make(pconf, 2, sizeof(server_rec *));
    server_rec *sp;
    int i;

    find_sites(ptemp, ap_conftree, NULL, NULL, sites, strays);
    for (sp = s; sp; sp = sp->next) {
        int used = 0;

        for (i = 0; i < sites->nelts; i++) {
            const found_site *site = &APR_ARRAY_IDX(sites, i, found_site);

            /* A virtual host also serves the main server's sites. */
            if (!site_in_server(site, sp) && site->vhost) {
                continue;
            }
            if (setup_site(pconf, s, sp, site) != OK) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            used = 1;
        }
        if (used) {
            APR_ARRAY_PUSH(servers, server_rec *) = sp;
        }
    }
    if (check_strays(ptemp, s, sites, strays) != OK) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (servers_out) {
        *servers_out = servers;
    }
    return OK;
}
