/* mod_dbd glue: pooled connections, prepared statements, recovery. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_optional.h>
#include <apr_shm.h>
#include <apr_dbd.h> /* before mod_dbd.h, which needs it */
#include <mod_dbd.h>
#include <libpq-fe.h>

#include "mod_todo_dbd.h"
#include "todo_dbgate.h"
#include "todo_dbslots.h"
#include "todo_metrics.h"

static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) * dbd_prepare;
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire;

/* Which of our statements the server still knows on this connection. */
#define PROBE_SQL                             \
    "SELECT name FROM pg_prepared_statements" \
    " WHERE name LIKE 'todo\\_%'"

/* A pooled connection that sat idle this long may have lost its server
 * (PostgreSQL restarted meanwhile) without libpq knowing yet.  A write is
 * not sent on such a connection before one cheap round trip shows it is
 * alive: if the write itself then fails, the database failed during it,
 * not long before, and only then is the outcome unknown (503).  Short,
 * because the check costs little and a restart can be quick. */
#define IDLE_CHECK apr_time_from_msec(250)

/* Broken connections this process has met.  A connection last known good
 * before the latest one may have been broken by the same outage, however
 * recently it was used. */
static apr_uint32_t outages;

/* What we know of one pooled connection, kept in its own pool. */
typedef struct {
    apr_time_t last_ok;   /* a statement last succeeded on it */
    apr_uint32_t outages; /* the count of outages at that time */
    int configured;       /* TODO_SQL_SESSION_SETUP was sent */
} todo_conn_state_t;

#define CONN_STATE_KEY "todo_conn_state"

const char *todo_dbd_init(void)
{
    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    if (!dbd_prepare || !dbd_acquire) {
        return "mod_dbd is not loaded (LoadModule dbd_module, or "
               "a2enmod dbd): mod_todo stores tasks through it";
    }
    return NULL;
}

/* libpq looks for its files under $HOME: ~/.postgresql/postgresql.crt
 * and .key (a client certificate, sent when present), root.crt (the CA of
 * sslmode=verify-*, unless sslrootcert= says), ~/.pgpass.  Started from a
 * root shell ("sudo -i; apachectl start"), the children inherit HOME=/root,
 * which the unprivileged User cannot enter, and libpq then fails every TLS
 * connection -- 'could not open certificate file
 * "/root/.postgresql/postgresql.crt": Permission denied' -- although no
 * client certificate was asked for (a file that does not exist is fine,
 * one that cannot be looked at is an error).  So, in the child, after
 * privileges were dropped and before mod_dbd opens its first connection:
 * when HOME cannot be entered, point it at the child user's own home from
 * the password database, which is where libpq looks when HOME is unset
 * and what a login as that user would give.  A HOME the child can enter
 * is the administrator's choice and stays.  Before any thread exists. */
void todo_dbd_child_init(apr_pool_t *p, server_rec *s)
{
    const char *home = getenv("HOME");
    struct passwd pw, *found = NULL;
    char buf[4096];

    (void)p;
    if (!home || !*home || access(home, X_OK) == 0 || errno != EACCES) {
        return; /* usable, or absent: libpq copes */
    }
    if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found) || !found) {
        /* libpq falls back to the same lookup, finds no home and takes
         * that as "no such files". */
        ap_log_error(
            APLOG_MARK, APLOG_WARNING, 0, s,
            TODOLOG(
                0209) "HOME=%s cannot be entered by this child (uid %ld), "
                      "which has no home of its own: HOME unset, for libpq",
            home, (long)geteuid());
        unsetenv("HOME");
        return;
    }
    ap_log_error(
        APLOG_MARK, APLOG_NOTICE, 0, s,
        TODOLOG(0209) "HOME=%s cannot be entered by this child (user %s): "
                      "HOME=%s instead, where libpq looks for ~/.postgresql "
                      "and ~/.pgpass",
        home, pw.pw_name, pw.pw_dir);
    setenv("HOME", pw.pw_dir, 1);
}

/* ------------------------------------------------------ the outage gate */

/* While the database cannot be reached, each child refuses its requests at
 * once (503, Retry-After) and lets one request -- the probe -- try again
 * after 125 ms, 250 ms, 500 ms, then every second or so (todo_dbgate).
 * The probe first pings the server (PQping: no log line on either side
 * when it is down, no session when it is up); only when the server
 * accepts connections again are requests let through to mod_dbd's pooled
 * connections, whose every failed acquire logs two lines.  Requests that
 * come while the probe is out wait for it a little (PATIENCE: a ping
 * takes tens of milliseconds on a busy server), and a child that sees the
 * database back says so in shared memory, so that the other children let
 * their requests through at once: once the database is back, the children
 * serve again within milliseconds of one another.  The error log
 * gets one line when a child loses the database (TODO0210) and one when
 * it is back (TODO0211), with the count of refused requests.  A request
 * that finds all DBDMax connections taken waits for its turn before the
 * gate (todo_dbslots), not inside mod_dbd's pool, where the broken
 * connections of an outage's first moments would each be tried again
 * and logged.  docs/operations.md, "When the database goes away". */
#define GATE_FIRST apr_time_from_msec(125)
#define GATE_CAP apr_time_from_sec(1)
#define PATIENCE apr_time_from_msec(300)
/* Set in the request pool of the request that is the probe. */
#define PROBE_KEY "todo_dbd_probe"
/* Set in the initial request's pool once it has its turn at the pool. */
#define SLOT_KEY "todo_dbd_slot"

typedef struct {
    todo_dbgate_t *gate;
    const char *params;      /* DBDParams for PQping; NULL: no ping */
    apr_uint64_t *seen_back; /* shared: when a child last saw it back */
    todo_dbslots_t *slots;   /* turns at mod_dbd's pool; NULL: none */
} db_t;

static apr_hash_t *dbs; /* server_rec * -> db_t *, from post_config on */

/* mod_dbd's configuration of server s.  mod_dbd.h exports its type
 * (dbd_cfg_t, for the post_connect hook) but not the server record that
 * holds it; that record begins with a pointer to it (httpd 2.2 and 2.4),
 * and every dbd_cfg_t names its own server, which says the layout is the
 * one we know.  NULL otherwise: then there is no ping, and a probe takes
 * a pooled connection as any request would. */
static const dbd_cfg_t *dbd_cfg_of(server_rec *s)
{
    module *m = ap_find_linked_module("mod_dbd.c");
    dbd_cfg_t *const *rec;

    if (!m || !(rec = ap_get_module_config(s->module_config, m)) || !*rec
        || (*rec)->server != s) {
        return NULL;
    }
    return *rec;
}

/* What makes mod_dbd give servers one pool (dbd_post_config): the same
 * driver, parameters and pool settings.  (It also compares the statements
 * prepared with DBDPrepareSQL; servers that differ only in those have
 * pools of their own sharing our turns, which can only make them wait
 * more, never fail.)  Without persistent connections there is no pool:
 * each request opens its own. */
static const char *pool_key(apr_pool_t *p, const dbd_cfg_t *cfg)
{
    return apr_psprintf(p, "%s\n%s\n%d %d %d %d %d", cfg->name, cfg->params,
                        cfg->persist, cfg->nmin, cfg->nkeep, cfg->nmax,
                        cfg->exptime);
}

const char *todo_dbd_gates(apr_pool_t *pconf,
                           const apr_array_header_t *servers)
{
    apr_hash_t *by_pool = apr_hash_make(pconf);
    apr_uint64_t *shared = NULL;
    apr_shm_t *shm = NULL;
    int i, n = 0;

    /* One word per database, shared by the children (made before they
     * are); without shared memory each child only learns for itself. */
    if (servers->nelts
        && apr_shm_create(&shm, servers->nelts * sizeof(apr_uint64_t), NULL,
                          pconf)
               == APR_SUCCESS) {
        shared = apr_shm_baseaddr_get(shm);
        memset(shared, 0, servers->nelts * sizeof(apr_uint64_t));
    }
    dbs = apr_hash_make(pconf);
    for (i = 0; i < servers->nelts; i++) {
        server_rec *sp = APR_ARRAY_IDX(servers, i, server_rec *);
        const dbd_cfg_t *cfg = dbd_cfg_of(sp);
        const char *key = cfg ? pool_key(pconf, cfg) : "";
        db_t *db = apr_hash_get(by_pool, key, APR_HASH_KEY_STRING);

        /* Servers that share a pool share its gate and its turns. */
        if (!db) {
            db = apr_pcalloc(pconf, sizeof(*db));
            db->gate = todo_dbgate_make(pconf, GATE_FIRST, GATE_CAP);
            if (!db->gate) {
                return "cannot make a mutex for the database gate";
            }
            if (cfg && !strcmp(cfg->name, "pgsql") && *cfg->params) {
                db->params = cfg->params;
            }
            if (cfg && cfg->persist
                && !(db->slots = todo_dbslots_make(pconf, cfg->nmax))) {
                return "cannot make a mutex for the database pool's turns";
            }
            db->seen_back = shared ? &shared[n++]
                                   : apr_pcalloc(pconf, sizeof(apr_uint64_t));
            apr_hash_set(by_pool, key, APR_HASH_KEY_STRING, db);
        }
        apr_hash_set(dbs, apr_pmemdup(pconf, &sp, sizeof(sp)), sizeof(sp), db);
    }
    return NULL;
}

static db_t *db_of(request_rec *r)
{
    return dbs ? apr_hash_get(dbs, &r->server, sizeof(r->server)) : NULL;
}

static int is_probe(request_rec *r)
{
    void *v = NULL;

    apr_pool_userdata_get(&v, PROBE_KEY, r->pool);
    return v != NULL;
}

static void probe_done(request_rec *r)
{
    apr_pool_userdata_setn(NULL, PROBE_KEY, NULL, r->pool);
}

static apr_uint32_t jitter(void)
{
    apr_uint32_t rnd = 0;

    if (apr_generate_random_bytes((unsigned char *)&rnd, sizeof(rnd))) {
        rnd = (apr_uint32_t)apr_time_now();
    }
    return rnd;
}

/* A connection could not be made or reset: shut the gate (and say so,
 * once), or, for the probe, wait longer. */
static void gate_failed(request_rec *r, const char *why)
{
    db_t *db = db_of(r);
    int probe = is_probe(r);

    if (!db) {
        return;
    }
    if (todo_dbgate_failed(db->gate, apr_time_now(), probe, jitter())) {
        todo_metrics_db_down(1);
        todo_rlog(r, APLOG_ERR, 0, 0210,
                  "database lost (%s): this child answers its requests 503 "
                  "at once and tries to connect again at most about once a "
                  "second, until the database is back",
                  why);
    }
    if (probe) {
        probe_done(r);
    }
}

/* The database answered: when that ends an outage, say so, once, and
 * tell the other children. */
static void gate_reached(request_rec *r)
{
    db_t *db = db_of(r);
    apr_interval_time_t down = 0;
    apr_uint64_t refused = 0;
    int probe;

    if (!db || !todo_dbgate_shut(db->gate)) {
        return;
    }
    probe = is_probe(r);
    if (todo_dbgate_reached(db->gate, apr_time_now(), probe, &down,
                            &refused)) {
        __atomic_store_n(db->seen_back, (apr_uint64_t)apr_time_now(),
                         __ATOMIC_RELAXED);
        todo_metrics_db_down(0);
        todo_rlog(
            r, APLOG_NOTICE, 0, 0211,
            "database reachable again after %" APR_TIME_T_FMT
            ".%01d s; %" APR_UINT64_T_FMT " request(s) were refused meanwhile",
            apr_time_sec(down), (int)(apr_time_usec(down) / 100000), refused);
    }
    if (probe) {
        probe_done(r);
    }
}

/* Whether the server accepts connections (for the probe), without
 * opening a session: PQping. */
static int ping(const db_t *db)
{
    PGPing st = PQping(db->params);

    return st != PQPING_NO_RESPONSE && st != PQPING_REJECT;
}

/* Before any connection is taken: OK to go on, or 503 at once. */
static int gate_enter(request_rec *r, db_t *db)
{
    apr_interval_time_t wait = 0;
    char *secs;

    if (!db) {
        return OK;
    }
    switch (todo_dbgate_enter(
        db->gate, apr_time_now(),
        (apr_time_t)__atomic_load_n(db->seen_back, __ATOMIC_RELAXED), PATIENCE,
        &wait)) {
    case TODO_DBGATE_OPEN:
        return OK;
    case TODO_DBGATE_PROBE:
        apr_pool_userdata_setn("", PROBE_KEY, NULL, r->pool);
        if (!db->params) {
            return OK; /* no ping: this request is the probe */
        }
        if (ping(db)) {
            /* The server takes connections: every request may try. */
            todo_dbgate_answered(db->gate, 1);
            probe_done(r);
            return OK;
        }
        gate_failed(r, "ping");
        wait = GATE_CAP;
        break;
    case TODO_DBGATE_REFUSE:
        break;
    }
    todo_metrics_db_unavailable();
    secs = apr_psprintf(r->pool, "%" APR_TIME_T_FMT,
                        apr_time_sec(wait + apr_time_from_sec(1) - 1));
    apr_table_setn(r->err_headers_out, "Retry-After",
                   strcmp(secs, "0") ? secs : "1");
    todo_rlog(r, APLOG_DEBUG, 0, 0203,
              "database unavailable: refused at once while this child backs "
              "off");
    return HTTP_SERVICE_UNAVAILABLE;
}

/* The request that mod_dbd ties a pooled connection to (ap_dbd_acquire):
 * the initial one. */
static request_rec *initial_req(request_rec *r)
{
    while (!ap_is_initial_req(r)) {
        r = r->prev ? r->prev : r->main;
    }
    return r;
}

static apr_status_t slot_give(void *slots)
{
    todo_dbslots_give(slots);
    return APR_SUCCESS;
}

/* Wait for this request's turn at the pool (todo_dbslots), once per
 * request; it is given back when the request ends -- after mod_dbd's own
 * cleanup has put the connection back, as it is registered before that
 * one and cleanups run last first. */
static void slot_take(request_rec *r, db_t *db)
{
    void *held = NULL;

    if (!db || !db->slots) {
        return;
    }
    r = initial_req(r);
    apr_pool_userdata_get(&held, SLOT_KEY, r->pool);
    if (held) {
        return;
    }
    todo_dbslots_take(db->slots);
    apr_pool_userdata_setn(db, SLOT_KEY, NULL, r->pool);
    apr_pool_cleanup_register(r->pool, db->slots, slot_give,
                              apr_pool_cleanup_null);
}

/* The request is done with the database: a probe that met neither
 * outcome (cannot happen today) lets another request probe. */
static void gate_leave(request_rec *r)
{
    db_t *db;

    if (is_probe(r) && (db = db_of(r)) != NULL) {
        todo_dbgate_release(db->gate, 1);
        probe_done(r);
    }
}

void todo_dbd_prepare_all(server_rec *s)
{
    int i;

    for (i = 0; i < TODO_STMT_COUNT; i++) {
        const todo_stmt_t *st = todo_sql_stmt((todo_stmt_e)i);

        dbd_prepare(s, st->sql, st->label);
    }
}

static todo_conn_state_t *conn_state(ap_dbd_t *dbd)
{
    void *v = NULL;

    apr_pool_userdata_get(&v, CONN_STATE_KEY, dbd->pool);
    if (!v) {
        /* Never seen: as suspect as a connection idle since the epoch. */
        v = apr_pcalloc(dbd->pool, sizeof(todo_conn_state_t));
        apr_pool_userdata_setn(v, CONN_STATE_KEY, NULL, dbd->pool);
    }
    return v;
}

/* A connection that is gone (not a refused statement): the server ended
 * the session (SQLSTATE class 57P, e.g. an administrator's shutdown) or
 * the connection failed (08); libpq's own words, in Apache's locale, when
 * the server said nothing. */
static int connection_lost(const char *msg)
{
    char code[6];

    if (todo_sql_error_code(msg, code)) {
        return todo_sql_error_conn(msg) == TODO_SQL_CONN_LOST;
    }
    return !msg || strstr(msg, "server closed the connection")
           || strstr(msg, "no connection to the server");
}

/* PostgreSQL words its errors in the server's lc_messages language, and
 * apr_dbd passes on only libpq's text of them.  In libpq's verbose form
 * that text carries the SQLSTATE ("FEHLER:  0A000: ..."), which is what
 * todo_sql_error_status() and todo_sql_error_stale_plan() read.  A
 * setting of the client side (no round trip), kept across PQreset. */
static void verbose_errors(ap_dbd_t *dbd)
{
    if (!strcmp(apr_dbd_name(dbd->driver), "pgsql")) {
        PQsetErrorVerbosity(apr_dbd_native_handle(dbd->driver, dbd->handle),
                            PQERRORS_VERBOSE);
    }
}

/* Give the session the settings our statements are written for, all in
 * one round trip.  A failure is not fatal: the plans are only slower, and
 * DateStyle is already ISO unless the server or the role was set
 * otherwise -- in which case the task timestamps of this session are
 * refused with a 500 and logged (mod_todo_api.c), never passed on.  On a
 * lost connection it is not even worth a warning: the statement that
 * follows fails too, and its recovery sets up the new session. */
static void configure(request_rec *r, ap_dbd_t *dbd)
{
    int nrows = 0, rv;
    const char *msg;

    conn_state(dbd)->configured = 1;
    verbose_errors(dbd);
    rv = apr_dbd_query(dbd->driver, dbd->handle, &nrows,
                       TODO_SQL_SESSION_SETUP);
    if (rv) {
        msg = apr_dbd_error(dbd->driver, dbd->handle, rv);
        todo_rlog(r, connection_lost(msg) ? APLOG_DEBUG : APLOG_WARNING, 0,
                  0205, "%s failed: %s", TODO_SQL_SESSION_SETUP, msg);
    }
}

/* Prepare st on this connection, for mod_dbd's later lookups by label. */
static int prepare_one(request_rec *r, ap_dbd_t *dbd, const todo_stmt_t *st)
{
    apr_dbd_prepared_t *stmt = NULL;

    if (apr_dbd_prepare(dbd->driver, dbd->pool, dbd->handle, st->sql,
                        st->label, &stmt)) {
        todo_rlog(r, APLOG_ERR, 0, 0201, "cannot prepare %s: %s", st->label,
                  apr_dbd_error(dbd->driver, dbd->handle, 1));
        return -1;
    }
    apr_hash_set(dbd->prepared, st->label, APR_HASH_KEY_STRING, stmt);
    return 0;
}

/* Prepare on this connection every statement the server has lost.  After
 * PostgreSQL restarts, libpq's PQreset (done by mod_dbd on acquire, or by
 * us) gives a fresh session without them, and mod_dbd never prepares
 * again on a connection it keeps: we do.  Returns how many were missing,
 * or -1 when the connection itself is unusable. */
static int reprepare(request_rec *r, ap_dbd_t *dbd)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_hash_t *have = apr_hash_make(r->pool);
    int i, n, missing = 0;

    if (apr_dbd_select(dbd->driver, r->pool, dbd->handle, &res, PROBE_SQL,
                       1)) {
        return -1;
    }
    n = apr_dbd_num_tuples(dbd->driver, res);
    for (i = 1; i <= n; i++) {
        if (apr_dbd_get_row(dbd->driver, r->pool, res, &row, i) == 0) {
            apr_hash_set(have, apr_dbd_get_entry(dbd->driver, row, 0),
                         APR_HASH_KEY_STRING, "");
        }
    }
    for (i = 0; i < TODO_STMT_COUNT; i++) {
        const todo_stmt_t *st = todo_sql_stmt((todo_stmt_e)i);

        if (apr_hash_get(have, st->label, APR_HASH_KEY_STRING)) {
            continue;
        }
        missing++;
        if (prepare_one(r, dbd, st) < 0) {
            return -1;
        }
    }
    if (missing) {
        /* A new session (the server restarted): its settings are gone. */
        configure(r, dbd);
        todo_rlog(r, APLOG_NOTICE, 0, 0202,
                  "prepared %d statement(s) again "
                  "on a database connection that had lost them",
                  missing);
    }
    return missing;
}

static void mark_ok(ap_dbd_t *dbd)
{
    todo_conn_state_t *cs = conn_state(dbd);

    cs->last_ok = apr_time_now();
    cs->outages = apr_atomic_read32(&outages);
}

static int suspect(ap_dbd_t *dbd)
{
    const todo_conn_state_t *cs = conn_state(dbd);

    return cs->outages != apr_atomic_read32(&outages)
           || apr_time_now() - cs->last_ok > IDLE_CHECK;
}

/* Reset a connection whose server went away, and give the new session
 * our statements.  0 when it works again, -1 when the database is still
 * unreachable. */
static int reconnect(request_rec *r, ap_dbd_t *dbd)
{
    apr_atomic_inc32(&outages);
    todo_metrics_db_error(TODO_DBERR_CONNECTION);
    if (apr_dbd_check_conn(dbd->driver, r->pool, dbd->handle) != APR_SUCCESS
        || reprepare(r, dbd) < 0) {
        gate_failed(r, "a connection was lost and could not be made again");
        return -1;
    }
    gate_reached(r);
    return 0;
}

/* Before a statement that must not be sent twice, on a connection that
 * may be stale: make sure it is alive (and has our statements).  Nothing
 * was sent when this fails. */
static int ensure_live(request_rec *r, ap_dbd_t *dbd)
{
    if (!suspect(dbd) || reprepare(r, dbd) >= 0) {
        return 0;
    }
    return reconnect(r, dbd);
}

/* After a failed statement: heal the connection if we can.  Returns
 * 1 when the statement may be sent again, 0 when the failure was the
 * statement's own, -1 when the database cannot be reached. */
static int recover(request_rec *r, ap_dbd_t *dbd, int idempotent)
{
    int missing = reprepare(r, dbd);

    if (missing > 0) {
        return 1; /* it never ran: safe to send again */
    }
    if (missing == 0) {
        return 0;
    }
    /* The connection is broken (the server went away under it).  Reset it
     * now, so the next request finds it working; whether the statement
     * ran before the break is unknown, so only idempotent ones retry. */
    if (reconnect(r, dbd) < 0) {
        return -1;
    }
    return idempotent ? 1 : -1;
}

/* Reset the connection unconditionally (apr_dbd_check_conn resets only a
 * connection libpq reports broken, and one on a server that turned
 * read-only is not).  PQreset connects again walking DBDParams' host list
 * from the first host; with target_session_attrs=read-write libpq settles
 * only on a server that takes writes.  0 when connected again. */
static int reset(request_rec *r, ap_dbd_t *dbd, const char *code)
{
    PGconn *conn;

    if (strcmp(apr_dbd_name(dbd->driver), "pgsql")) {
        return apr_dbd_check_conn(dbd->driver, r->pool, dbd->handle)
                       == APR_SUCCESS
                   ? 0
                   : -1;
    }
    conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    PQreset(conn);
    if (PQstatus(conn) != CONNECTION_OK) {
        /* The request's 503 is logged as an error anyway (TODO0203);
         * this says what each host answered. */
        todo_rlog(r, APLOG_INFO, 0, 0207,
                  "after SQLSTATE %s, no server "
                  "accepting writes: %s",
                  code, PQerrorMessage(conn));
        return -1;
    }
    todo_rlog(r, APLOG_NOTICE, 0, 0208,
              "after SQLSTATE %s, database "
              "connection reset: now on %s port %s",
              code, PQhost(conn), PQport(conn));
    return 0;
}

/* Failover (SPEC section 11): the statement met a server that is not the
 * primary any more -- it refused it as read-only (25006: a standby now,
 * or a node being demoted or promoted) or ended the session (57P, 08).
 * Reset the connection, which finds the new primary, and give it our
 * statements.  Returns 1 when the statement may be sent again (`again`:
 * it cannot have run, or it is idempotent), -1 otherwise (503): a write
 * whose session was lost under it may have committed. */
static int failover(request_rec *r, ap_dbd_t *dbd, const char *msg, int again)
{
    char code[6] = "";

    todo_sql_error_code(msg, code);
    apr_atomic_inc32(&outages); /* the pool's other connections too */
    todo_metrics_db_error(TODO_DBERR_CONNECTION);
    if (reset(r, dbd, code) < 0 || reprepare(r, dbd) < 0) {
        gate_failed(r, "the connection was lost and no server took it again");
        return -1;
    }
    gate_reached(r);
    return again ? 1 : -1;
}

/* A statement refused as a stale plan (todo_sql_error_stale_plan): drop
 * it and prepare it again from the current tables (same session: its
 * settings stand); it never ran, so it may be sent again, write or not. */
static int renew(request_rec *r, ap_dbd_t *dbd, const todo_stmt_t *st,
                 int idempotent)
{
    int nrows = 0;

    if (apr_dbd_query(dbd->driver, dbd->handle, &nrows,
                      apr_pstrcat(r->pool, "DEALLOCATE ", st->label, NULL))) {
        return recover(r, dbd, idempotent); /* the connection failed */
    }
    todo_metrics_db_error(TODO_DBERR_STALE_PLAN);
    todo_rlog(r, APLOG_NOTICE, 0, 0206,
              "%s: the tables it reads changed "
              "since it was prepared; preparing it again",
              st->label);
    return prepare_one(r, dbd, st) == 0 ? 1 : recover(r, dbd, idempotent);
}

static int exec_stmt(request_rec *r, ap_dbd_t *dbd, const todo_stmt_t *st,
                     const char **args, apr_dbd_results_t **res)
{
    apr_dbd_prepared_t *stmt =
        apr_hash_get(dbd->prepared, st->label, APR_HASH_KEY_STRING);

    *res = NULL;
    if (!stmt) {
        return -1; /* reprepare() will supply it */
    }
    return apr_dbd_pselect(dbd->driver, r->pool, dbd->handle, res, stmt, 1,
                           st->nargs, args);
}

static int unavailable(request_rec *r, const char *why)
{
    db_t *db = db_of(r);

    /* During an outage the line that says the database is lost stands
     * for every request it refuses. */
    todo_metrics_db_unavailable();
    todo_rlog(r, db && todo_dbgate_shut(db->gate) ? APLOG_DEBUG : APLOG_ERR, 0,
              0203, "database unavailable: %s", why);
    apr_table_setn(r->err_headers_out, "Retry-After", "1");
    return HTTP_SERVICE_UNAVAILABLE;
}

static const char *error_text(request_rec *r, ap_dbd_t *dbd, int rv)
{
    return apr_pstrdup(r->pool, apr_dbd_error(dbd->driver, dbd->handle, rv));
}

/* The statement itself failed (the database refused it). */
static int statement_failed(request_rec *r, const todo_stmt_t *st,
                            const char *msg)
{
    int status = todo_sql_error_status(msg);

    if (status == HTTP_SERVICE_UNAVAILABLE) {
        return unavailable(r, msg); /* read-only or lost again */
    }
    todo_metrics_db_error(status == HTTP_CONFLICT      ? TODO_DBERR_CONFLICT
                          : status == HTTP_BAD_REQUEST ? TODO_DBERR_DATA
                                                       : TODO_DBERR_STATEMENT);
    todo_rlog(r, status >= 500 ? APLOG_ERR : APLOG_INFO, 0, 0204,
              "%s failed: %s", st->label, msg);
    return status;
}

/* After st failed with msg: heal the connection, as the failure says.
 * 1 when st may be sent again, 0 when the failure was the statement's
 * own, -1 when the database cannot be reached. */
static int heal(request_rec *r, ap_dbd_t *dbd, const todo_stmt_t *st,
                const char *msg, int idempotent)
{
    switch (todo_sql_error_conn(msg)) {
    case TODO_SQL_CONN_READ_ONLY:
        return failover(r, dbd, msg, 1); /* it never ran */
    case TODO_SQL_CONN_LOST:
        return failover(r, dbd, msg, idempotent);
    default:
        return todo_sql_error_stale_plan(msg) ? renew(r, dbd, st, idempotent)
                                              : recover(r, dbd, idempotent);
    }
}

/* Two heals at most: one failure can hide another behind it -- a plan
 * gone stale while the connection sat idle, and, once it is prepared
 * again, a server that turned read-only meanwhile (a migration, then a
 * failover). */
#define MAX_HEALS 2

/* Send st; after a failure heal the connection and, when that is safe,
 * send it again.  Returns OK with *res, or the HTTP status. */
static int exec_healing(request_rec *r, ap_dbd_t *dbd, const todo_stmt_t *st,
                        const char **args, int idempotent,
                        apr_dbd_results_t **res)
{
    int heals = 0, rv, how;
    const char *msg;

    while ((rv = exec_stmt(r, dbd, st, args, res)) != 0) {
        msg = error_text(r, dbd, rv);
        if (heals++ == MAX_HEALS) {
            return statement_failed(r, st, msg);
        }
        how = heal(r, dbd, st, msg, idempotent);
        if (how < 0) {
            return unavailable(r, msg);
        }
        if (how == 0) {
            return statement_failed(r, st, msg);
        }
    }
    return OK;
}

static int run(request_rec *r, todo_stmt_e which, const char **args,
               int idempotent, todo_rows_t *rows)
{
    const todo_stmt_t *st = todo_sql_stmt(which);
    ap_dbd_t *dbd = dbd_acquire(r);
    apr_dbd_results_t *res;
    int status;

    if (!dbd) {
        apr_atomic_inc32(&outages);
        todo_metrics_db_error(TODO_DBERR_CONNECTION);
        gate_failed(r, "no connection: see mod_dbd's line above");
        return unavailable(r, "no connection");
    }
    if (!conn_state(dbd)->configured) {
        configure(r, dbd); /* first use of this connection */
    }
    if (!idempotent && ensure_live(r, dbd) < 0) {
        return unavailable(r, "the connection is lost and cannot be reset");
    }
    status = exec_healing(r, dbd, st, args, idempotent, &res);
    if (status != OK) {
        return status;
    }
    mark_ok(dbd);
    rows->driver = dbd->driver;
    rows->res = res;
    rows->nrows = apr_dbd_num_tuples(dbd->driver, res);
    rows->row = NULL;
    return OK;
}

int todo_dbd_run(request_rec *r, todo_stmt_e which, const char **args,
                 int idempotent, todo_rows_t *rows)
{
    db_t *db = db_of(r);
    int status;

    /* The turn first, the gate after: a request that waited for its turn
     * while the database went away is refused, not sent to mod_dbd with a
     * broken connection. */
    slot_take(r, db);
    status = gate_enter(r, db);
    if (status != OK) {
        return status;
    }
    status = run(r, which, args, idempotent, rows);
    if (status != HTTP_SERVICE_UNAVAILABLE) {
        gate_reached(r); /* the database answered, whatever it said */
    }
    gate_leave(r);
    return status;
}

int todo_dbd_row(request_rec *r, todo_rows_t *rows, int n)
{
    /* Rows are addressed explicitly (1-based for the driver) and never
     * past the last one: asking beyond it makes the pgsql driver free the
     * result, and with it every value already handed out. */
    if (n < 0 || n >= rows->nrows) {
        return -1;
    }
    return apr_dbd_get_row(rows->driver, r->pool, rows->res, &rows->row,
                           n + 1);
}

const char *todo_dbd_col(const todo_rows_t *rows, int col)
{
    char *v = NULL;

    if (apr_dbd_datum_get(rows->driver, rows->row, col, APR_DBD_TYPE_STRING,
                          &v)
        != APR_SUCCESS) {
        return NULL;
    }
    return v;
}
