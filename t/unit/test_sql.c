/* Unit tests of todo_sql: statement table, argument vectors, native text. */
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "todo_test.h"
#include "todo_sql.h"

static int count_args(const char *sql)
{
    int n = 0;

    for (; *sql; sql++) {
        if (sql[0] == '%' && sql[1] == '%') {
            sql++;
        }
        else if (sql[0] == '%') {
            /* apr_dbd counts any %<letter>; only %s may appear. */
            assert_int_equal(sql[1], 's');
            n++;
        }
    }
    return n;
}

static void test_table(void **state)
{
    int i, j;

    (void)state;
    for (i = 0; i < TODO_STMT_COUNT; i++) {
        const todo_stmt_t *st = todo_sql_stmt((todo_stmt_e)i);
        const char *c;

        assert_non_null(st);
        assert_non_null(st->label);
        /* The pgsql driver PREPAREs the label unquoted: lower case only. */
        for (c = st->label; *c; c++) {
            assert_true(islower((unsigned char)*c) || *c == '_');
        }
        assert_int_equal(count_args(st->sql), st->nargs);
        /* No ":name" outside "::type": pgbench (the benchmark's ceiling)
         * would read it as a variable. */
        for (c = st->sql; *c; c++) {
            if (c[0] == ':' && c[1] == ':') {
                c++;
            }
            else if (c[0] == ':') {
                assert_false(isalpha((unsigned char)c[1]));
            }
        }
        for (j = 0; j < i; j++) {
            assert_string_not_equal(st->label, todo_sql_stmt(j)->label);
        }
    }
    assert_null(todo_sql_stmt(TODO_STMT_COUNT));
    for (i = 0; i < TODO_SORT_COUNT; i++) {
        todo_list_query_t q = { 0 };
        const todo_stmt_t *st;

        q.sort = (todo_sort_e)i;
        st = todo_sql_stmt(todo_sql_list_stmt(&q));
        assert_non_null(strstr(st->label, "todo_listp_"));
        assert_int_equal(st->nargs, 6);
        q.status = TODO_STATUS_PENDING;
        st = todo_sql_stmt(todo_sql_list_stmt(&q));
        assert_non_null(strstr(st->label, "todo_lists_"));
        assert_int_equal(st->nargs, 8);
        q.due_after = "2026-01-01T00:00:00Z";
        st = todo_sql_stmt(todo_sql_list_stmt(&q));
        assert_non_null(strstr(st->label, "todo_list_"));
        assert_int_equal(st->nargs, 10);
        /* The same sort in every shape. */
        assert_string_equal(st->label + strlen("todo_list_"),
                            todo_sql_stmt(TODO_STMT_LISTP_FIRST + i)->label
                                + strlen("todo_listp_"));
        assert_string_equal(st->label + strlen("todo_list_"),
                            todo_sql_stmt(TODO_STMT_LISTS_FIRST + i)->label
                                + strlen("todo_lists_"));
    }
}

/* Every statement is scoped by the user: its first argument (the foreign
 * check excludes the user instead; tasks_create_keyed() takes the user
 * first and scopes each of its statements by it,
 * sql/deploy/create_keyed.sql). */
static void test_scoped_by_user(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < TODO_STMT_COUNT; i++) {
        const todo_stmt_t *st = todo_sql_stmt((todo_stmt_e)i);

        if (i == TODO_STMT_HEALTH || i == TODO_STMT_TOKEN_KEY) {
            continue; /* no user's data */
        }
        assert_true(strstr(st->sql, "user_id = %s")
                    || strstr(st->sql, "user_id = CAST(%s AS text)")
                    || strstr(st->sql, "user_id = p.uid")
                    || strstr(st->sql, "user_id <> %s")
                    || strstr(st->sql, "tasks_create_keyed(CAST(%s AS text)")
                    || strstr(st->sql, "INSERT INTO tasks"));
    }
}

static void test_args_update(void **state)
{
    todo_task_input_t in = { 0 };
    const char **a;

    (void)state;
    in.present = TODO_F_PRIORITY | TODO_F_DESCRIPTION;
    in.priority = 3;
    in.description = NULL; /* clear it */
    a = todo_sql_args_update(todo_test_pool, "u", "id", NULL, &in, 0);
    assert_string_equal(a[0], "u");
    assert_string_equal(a[1], "id");
    assert_string_equal(a[2], "");  /* no If-Match */
    assert_string_equal(a[3], "");  /* title kept */
    assert_string_equal(a[4], "t"); /* description set ... */
    assert_null(a[5]);              /* ... to NULL */
    assert_string_equal(a[6], "f");
    assert_string_equal(a[7], "");
    assert_string_equal(a[8], "3");
    assert_string_equal(a[9], "f");
    assert_string_equal(a[10], "");

    a = todo_sql_args_update(todo_test_pool, "u", "id", "{2}", NULL, 1);
    assert_string_equal(a[2], "{2}");
    assert_string_equal(a[4], "f");
    assert_string_equal(a[5], "");  /* ignored when not set */
    assert_string_equal(a[6], "t"); /* toggle */
}

static void test_args_list_and_create(void **state)
{
    todo_list_query_t q = { 0 };
    todo_task_input_t in = { 0 };
    const char **a;

    (void)state;
    q.limit = 20;
    q.offset = 40;
    a = todo_sql_args_list(todo_test_pool, "u", &q, NULL, NULL); /* plain */
    assert_string_equal(a[0], "u");
    assert_string_equal(a[1], "u");
    assert_string_equal(a[2], ""); /* no cursor: from the start */
    assert_string_equal(a[3], "");
    assert_string_equal(a[4], "21"); /* one more: is there a next page? */
    assert_string_equal(a[5], "40");

    q.status = TODO_STATUS_PENDING; /* status only */
    a = todo_sql_args_list(todo_test_pool, "u", &q, "k", "id");
    assert_string_equal(a[1], "f");
    assert_string_equal(a[2], "u");
    assert_string_equal(a[3], "f");
    assert_string_equal(a[4], "k"); /* after the cursor's task */
    assert_string_equal(a[5], "id");
    assert_string_equal(a[6], "21");
    assert_string_equal(a[7], "40");

    q.q = "milk"; /* general */
    a = todo_sql_args_list(todo_test_pool, "u", &q, NULL, NULL);
    assert_string_equal(a[1], "f");
    assert_string_equal(a[2], "milk");
    assert_string_equal(a[3], "");
    assert_string_equal(a[6], "");
    assert_string_equal(a[7], "");
    assert_string_equal(a[8], "21");
    assert_string_equal(a[9], "40");
    q.status = TODO_STATUS_ALL;
    assert_string_equal(
        todo_sql_args_list(todo_test_pool, "u", &q, NULL, NULL)[1], "");

    in.title = "t";
    in.description = ""; /* "" is a description, not absent */
    in.completed = 1;
    in.priority = 2;
    a = todo_sql_args_create(todo_test_pool, "u", &in);
    assert_string_equal(a[2], "");
    assert_string_equal(a[3], "t");
    assert_string_equal(a[4], "2");
    assert_string_equal(a[5], ""); /* no due date */
    in.description = NULL;
    assert_null(todo_sql_args_create(todo_test_pool, "u", &in)[2]);
}

static const todo_idem_args_t idem = {
    .key = "key",
    .fingerprint = "ab",
    .request_id = "rid",
    .retention = 86400,
    .head = "{\"data\":",
    .tail = ",tail}",
    .b404 = "B404",
    .b412 = "B412",
    .b403 = NULL,
};

/* The arguments every keyed statement ends with, at a. */
static void assert_idem_tail(const char **a)
{
    assert_string_equal(a[0], "key");
    assert_string_equal(a[1], "ab");
    assert_string_equal(a[2], "rid");
    assert_string_equal(a[3], "86400");
    assert_string_equal(a[4], "0"); /* "a": no pruning this time */
}

static void test_args_idem(void **state)
{
    todo_task_input_t in = { 0 };
    todo_idem_args_t k = idem;
    const char **a;

    (void)state;
    in.title = "t";
    in.priority = 1;
    a = todo_sql_args_create_idem(todo_test_pool, "u", &in, "/api/v1/x/", &k);
    assert_string_equal(a[0], "u");
    assert_string_equal(a[1], "t");
    assert_string_equal(a[4], "1");
    assert_string_equal(a[6], "{\"data\":");
    assert_string_equal(a[7], ",tail}");
    assert_string_equal(a[8], "/api/v1/x/");
    assert_idem_tail(a + 9);

    a = todo_sql_args_update_idem(todo_test_pool, "u", "id", "{3}", NULL, 1,
                                  &k);
    assert_string_equal(a[1], "id");
    assert_string_equal(a[2], "{3}");
    assert_string_equal(a[6], "t"); /* toggle */
    assert_string_equal(a[11], "{\"data\":");
    assert_string_equal(a[12], ",tail}");
    assert_string_equal(a[13], "B404");
    assert_string_equal(a[14], "B412");
    assert_string_equal(a[15], ""); /* no 403: foreign tasks are 404s */
    assert_idem_tail(a + 16);
    k.b403 = "B403";
    a = todo_sql_args_update_idem(todo_test_pool, "u", "id", NULL, NULL, 1,
                                  &k);
    assert_string_equal(a[2], "");
    assert_string_equal(a[15], "B403");

    a = todo_sql_args_delete_idem(todo_test_pool, "u", "1d", NULL, 60, &k);
    assert_string_equal(a[0], "u");
    assert_string_equal(a[1], "1d");
    assert_string_equal(a[2], "");
    assert_string_equal(a[3], "60");
    assert_string_equal(a[4], "32"); /* "1...": this delete prunes */
    assert_string_equal(a[5], "B404");
    assert_string_equal(a[6], "B412");
    assert_string_equal(a[7], "B403");
    assert_idem_tail(a + 8);

    a = todo_sql_args_delete(todo_test_pool, "u", "f0", "{1,2}", 2592000);
    assert_string_equal(a[2], "{1,2}");
    assert_string_equal(a[3], "2592000");
    assert_string_equal(a[4], "0");

    a = todo_sql_args_idem_store(todo_test_pool, "u", 400, "BODY", &k);
    assert_string_equal(a[0], "u");
    assert_string_equal(a[1], "400");
    assert_string_equal(a[2], "BODY");
    assert_idem_tail(a + 3);

    a = todo_sql_args_idem_get(todo_test_pool, "u", &k);
    assert_string_equal(a[0], "ab");
    assert_string_equal(a[1], "u");
    assert_string_equal(a[2], "key");
    assert_string_equal(a[3], "86400");

    a = todo_sql_args_idem_expire(todo_test_pool, "u", &k);
    assert_string_equal(a[0], "u");
    assert_string_equal(a[1], "key");
    assert_string_equal(a[2], "86400");
}

/* One write in 8 prunes, up to 32 rows: 4 a write on average. */
static void test_prune_limit(void **state)
{
    static const char digits[] = "0123456789abcdef";
    int i, pruning = 0;

    (void)state;
    for (i = 0; i < 16; i++) {
        char hex[2] = { digits[i], 0 };

        pruning += todo_sql_prune_limit(hex) > 0;
        assert_true(todo_sql_prune_limit(hex) == 0
                    || todo_sql_prune_limit(hex) == TODO_SQL_PRUNE_MAX);
    }
    assert_int_equal(pruning, 16 / TODO_SQL_PRUNE_EVERY);
    assert_true(TODO_SQL_PRUNE_MAX / TODO_SQL_PRUNE_EVERY > 1);
    assert_int_equal(todo_sql_prune_limit("0"), TODO_SQL_PRUNE_MAX);
    assert_int_equal(todo_sql_prune_limit("x"), 0);
    assert_int_equal(todo_sql_prune_limit(""), 0);
    assert_int_equal(todo_sql_prune_limit(NULL), 0);
    /* The statements take the limit as an argument. */
    assert_non_null(strstr(todo_sql_stmt(TODO_STMT_DELETE)->sql,
                           "LIMIT p.tprune FOR UPDATE SKIP LOCKED"));
    assert_non_null(strstr(todo_sql_stmt(TODO_STMT_IDEM_STORE)->sql,
                           "LIMIT p.prune FOR UPDATE SKIP LOCKED"));
}

/* Each keyed statement gates its write and stores its answer in the same
 * statement, so in the same transaction (docs/api.md §9). */
static void test_idem_statements(void **state)
{
    static const todo_stmt_e keyed[] = { TODO_STMT_UPDATE_IDEM,
                                         TODO_STMT_DELETE_IDEM,
                                         TODO_STMT_IDEM_STORE };
    const char *create = todo_sql_stmt(TODO_STMT_CREATE_IDEM)->sql;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(keyed) / sizeof(keyed[0]); i++) {
        const char *sql = todo_sql_stmt(keyed[i])->sql;

        assert_non_null(strstr(sql, "pg_try_advisory_xact_lock("));
        assert_non_null(strstr(sql, "INSERT INTO idempotency_keys"));
        /* Expired answers are pruned, a bounded number at a time. */
        assert_non_null(strstr(sql, "DELETE FROM idempotency_keys"));
        assert_non_null(strstr(sql, "LIMIT p.prune FOR UPDATE SKIP LOCKED"));
    }
    /* The keyed create is tasks_create_keyed() (sql/deploy/create_keyed.sql
     * and its verify script do the above there), with every argument of
     * the other keyed statements, the prune limit last. */
    assert_non_null(strstr(create, "FROM tasks_create_keyed("));
    assert_non_null(strstr(create,
                           "decode(CAST(%s AS text), 'hex'),"
                           " CAST(%s AS text),"
                           " make_interval(secs => CAST(%s AS integer)),"
                           " CAST(%s AS integer)) AS k"));
    assert_non_null(
        strstr(todo_sql_stmt(TODO_STMT_UPDATE_IDEM)->sql, "UPDATE tasks"));
    assert_non_null(strstr(todo_sql_stmt(TODO_STMT_DELETE_IDEM)->sql,
                           "DELETE FROM tasks"));
    /* Deletes prune tombstones, keyed or not. */
    assert_non_null(strstr(todo_sql_stmt(TODO_STMT_DELETE)->sql,
                           "DELETE FROM task_tombstones"));
    assert_non_null(strstr(todo_sql_stmt(TODO_STMT_DELETE_IDEM)->sql,
                           "DELETE FROM task_tombstones"));
}

static void test_args_changes(void **state)
{
    const char **a;

    (void)state;
    a = todo_sql_args_changes(todo_test_pool, "u", NULL, NULL, -1,
                              "00000000-0000-0000-0000-000000000000", 50);
    assert_string_equal(a[0], "u");
    assert_string_equal(a[1], ""); /* full sync */
    assert_string_equal(a[2], ""); /* the statement's own snapshot */
    assert_string_equal(a[3], "-1");
    assert_string_equal(a[4], "00000000-0000-0000-0000-000000000000");
    assert_string_equal(a[5], "51");
    assert_string_equal(a[6], "51");
    assert_string_equal(a[7], "51");
    a = todo_sql_args_changes(todo_test_pool, "u", "10:12:10", "12:20:", 13,
                              "x", 5);
    assert_string_equal(a[1], "10:12:10");
    assert_string_equal(a[2], "12:20:");
    assert_string_equal(a[3], "13");
    /* Visibility by snapshot, never by timestamps. */
    assert_non_null(strstr(todo_sql_stmt(TODO_STMT_CHANGES)->sql,
                           "pg_visible_in_snapshot"));
    assert_non_null(strstr(todo_sql_stmt(TODO_STMT_CHANGES)->sql,
                           "pg_current_snapshot()"));
}

static void test_native(void **state)
{
    const todo_stmt_t *st = todo_sql_stmt(TODO_STMT_UPDATE);
    const char *n = todo_sql_native(todo_test_pool, st);

    (void)state;
    assert_null(strstr(n, "%s"));
    assert_non_null(strstr(n, "$1"));
    assert_non_null(strstr(n, "$11"));
    assert_null(strstr(n, "$12"));
}

/* Task timestamps are plain text casts of the UTC time (to_char cost the
 * database ~3.5 times as much), read back by todo_time_from_pg. */
static void test_timestamps(void **state)
{
    static const char *const cols[] = {
        "CAST(t.completed_at AT TIME ZONE 'UTC' AS text) AS completed_at",
        "CAST(t.due_at AT TIME ZONE 'UTC' AS text) AS due_at",
        "CAST(t.created_at AT TIME ZONE 'UTC' AS text) AS created_at",
        "CAST(t.updated_at AT TIME ZONE 'UTC' AS text) AS updated_at",
    };
    int i, j;

    (void)state;
    for (i = 0; i < TODO_STMT_COUNT; i++) {
        const char *sql = todo_sql_stmt((todo_stmt_e)i)->sql;

        switch (i) {
        case TODO_STMT_UPDATE_IDEM:
            /* The stored answer is JSON made by the statement, the task
             * as the type task_json, its timestamps in the API's form
             * (task_json_time(), sql/deploy/create_keyed.sql). */
            assert_null(strstr(sql, "to_char"));
            assert_non_null(strstr(sql, "task_json_time(r.updated_at)"));
            assert_non_null(strstr(sql, "::task_json) AS text)"));
            continue;
        case TODO_STMT_CREATE_IDEM:
            continue; /* tasks_create_keyed() renders it, the same way */
        case TODO_STMT_HEALTH:
        case TODO_STMT_DELETE:
        case TODO_STMT_FOREIGN:
        case TODO_STMT_DELETE_IDEM:
        case TODO_STMT_IDEM_STORE:
        case TODO_STMT_IDEM_GET:
        case TODO_STMT_IDEM_EXPIRE:
        case TODO_STMT_TOKEN_KEY:
            assert_null(strstr(sql, "to_char"));
            continue; /* no task columns */
        default:
            assert_null(strstr(sql, "to_char"));
        }
        for (j = 0; j < 4; j++) {
            assert_non_null(strstr(sql, cols[j]));
        }
    }
}

/* The settings the statements need, as one SQL statement for the module
 * and as PGOPTIONS for pgbench, from the same list. */
static void test_session(void **state)
{
    (void)state;
    assert_string_equal(TODO_SQL_SESSION_SETUP,
                        "SELECT set_config('plan_cache_mode', "
                        "'force_generic_plan', false), "
                        "set_config('DateStyle', 'ISO', false)");
    assert_string_equal(TODO_SQL_SESSION_PGOPTIONS,
                        "-c plan_cache_mode=force_generic_plan "
                        "-c DateStyle=ISO");
}

/* Messages as libpq words them in its verbose form (mod_todo_dbd.c asks
 * for it), from a PostgreSQL 15 server with lc_messages in German and in
 * English: the SQLSTATE decides, not the words. */
#define DE_UNIQUE                                                              \
    "FEHLER:  23505: doppelter Schl\xc3\xbcsselwert verletzt "                 \
    "Unique-Constraint \xc2\xbbtasks_pkey\xc2\xab\nDETAIL:  Schl\xc3\xbcssel " \
    "\xc2\xbb(a)=(1)\xc2\xab existiert bereits.\nSCHEMA NAME:  public\n"       \
    "LOCATION:  _bt_check_unique, nbtinsert.c:664\n"
#define DE_CHECK                                                                \
    "FEHLER:  23514: neue Zeile f\xc3\xbcr Relation "                           \
    "\xc2\xbbtasks\xc2\xab verletzt Check-Constraint \xc2\xbbtasks_title_check" \
    "\xc2\xab\nDETAIL:  Fehlgeschlagene Zeile enth\xc3\xa4lt (-1, null).\n"
#define DE_STALE                                           \
    "FEHLER:  0A000: gecachter Plan darf den Ergebnistyp " \
    "nicht \xc3\xa4ndern\nLOCATION:  RevalidateCachedQuery, plancache.c:722\n"
#define DE_NO_STMT                            \
    "FEHLER:  26000: vorbereitete Anweisung " \
    "\xc2\xbbtodo_get\xc2\xab existiert nicht\n"
#define EN_STALE                                               \
    "ERROR:  0A000: cached plan must not change result type\n" \
    "LOCATION:  RevalidateCachedQuery, plancache.c:722\n"

static void test_error_code(void **state)
{
    char code[6] = "";

    (void)state;
    assert_true(todo_sql_error_code(DE_UNIQUE, code));
    assert_string_equal(code, "23505");
    assert_true(todo_sql_error_code(EN_STALE, code));
    assert_string_equal(code, "0A000");
    /* No code: libpq's own words, the default (non-verbose) form, a code
     * only on a later line, a truncated one. */
    assert_false(todo_sql_error_code(NULL, code));
    assert_false(todo_sql_error_code("server closed the connection "
                                     "unexpectedly\n",
                                     code));
    assert_false(todo_sql_error_code("ERROR:  cached plan must not change "
                                     "result type\n",
                                     code));
    assert_false(todo_sql_error_code("ERROR:  no code here\nDETAIL:  "
                                     "23505: x\n",
                                     code));
    assert_false(todo_sql_error_code("ERROR:  2350", code));
    assert_false(todo_sql_error_code("ERROR:  23505 no colon", code));
    assert_false(todo_sql_error_code("ERROR:  23a05: lower case", code));
}

static void test_error_status(void **state)
{
    (void)state;
    assert_int_equal(todo_sql_error_status(NULL), 500);
    assert_int_equal(todo_sql_error_status(DE_CHECK), 400);
    assert_int_equal(todo_sql_error_status(DE_UNIQUE), 409);
    assert_int_equal(todo_sql_error_status(
                         "ERROR:  23505: duplicate key "
                         "value violates unique constraint \"tasks_pkey\""),
                     409);
    assert_int_equal(todo_sql_error_status("ERROR:  22P02: invalid input "
                                           "syntax for type uuid: \"x\""),
                     400);
    assert_int_equal(
        todo_sql_error_status("ERROR:  22003: value \"99999\" "
                              "is out of range for type smallint"),
        400);
    assert_int_equal(todo_sql_error_status("ERROR:  42P01: relation "
                                           "\"tasks\" does not exist"),
                     500);
    /* Without a code, even words that once meant 400 are the server's. */
    assert_int_equal(
        todo_sql_error_status(
            "ERROR:  new row for relation "
            "\"tasks\" violates check constraint \"tasks_title_check\""),
        500);
}

static void test_error_stale_plan(void **state)
{
    (void)state;
    assert_true(todo_sql_error_stale_plan(EN_STALE));
    assert_true(todo_sql_error_stale_plan(DE_STALE));
    assert_false(todo_sql_error_stale_plan(NULL));
    assert_false(todo_sql_error_stale_plan(DE_NO_STMT));
    assert_false(todo_sql_error_stale_plan(DE_UNIQUE));
    /* A stale plan is not the client's fault: were it ever passed on
     * unhealed, a 500. */
    assert_int_equal(todo_sql_error_status(DE_STALE), 500);
}

/* Failover (SPEC section 11): which failures mean "this connection is
 * not on the primary any more", and whether the statement may have run. */
static void test_error_conn(void **state)
{
    (void)state;
    /* A hot standby, or a primary made read-only while being demoted:
     * refused before it ran. */
    assert_int_equal(
        todo_sql_error_conn(
            "ERROR:  25006: cannot execute INSERT in a read-only transaction\n"
            "LOCATION:  PreventCommandIfReadOnly, utility.c:409\n"),
        TODO_SQL_CONN_READ_ONLY);
    assert_int_equal(
        todo_sql_error_conn(
            "FEHLER:  25006: kann INSERT in einer Read-only-Transaktion nicht "
            "ausf\xc3\xbchren\n"),
        TODO_SQL_CONN_READ_ONLY);
    /* The session ended: administrator or crash shutdown, a server not
     * (yet) accepting connections, any connection exception. */
    assert_int_equal(
        todo_sql_error_conn(
            "FATAL:  57P01: terminating connection due to administrator "
            "command\n"),
        TODO_SQL_CONN_LOST);
    assert_int_equal(
        todo_sql_error_conn(
            "FATAL:  57P02: terminating connection because of crash of another "
            "server process\n"),
        TODO_SQL_CONN_LOST);
    assert_int_equal(
        todo_sql_error_conn(
            "FATAL:  57P03: the database system is shutting down\n"),
        TODO_SQL_CONN_LOST);
    assert_int_equal(todo_sql_error_conn(
                         "FATAL:  08P01: invalid frontend message type 0\n"),
                     TODO_SQL_CONN_LOST);
    assert_int_equal(todo_sql_error_conn("FATAL:  08006: connection failure"
                                         "\n"),
                     TODO_SQL_CONN_LOST);
    /* The statement's own failures, and messages without a code (libpq's
     * words: the glue probes the connection instead). */
    assert_int_equal(todo_sql_error_conn(DE_UNIQUE), TODO_SQL_CONN_OK);
    assert_int_equal(todo_sql_error_conn(EN_STALE), TODO_SQL_CONN_OK);
    assert_int_equal(
        todo_sql_error_conn(
            "ERROR:  57014: canceling statement due to statement timeout\n"),
        TODO_SQL_CONN_OK);
    assert_int_equal(
        todo_sql_error_conn("ERROR:  25P02: current transaction is aborted\n"),
        TODO_SQL_CONN_OK);
    assert_int_equal(
        todo_sql_error_conn("server closed the connection unexpectedly\n"),
        TODO_SQL_CONN_OK);
    assert_int_equal(todo_sql_error_conn(NULL), TODO_SQL_CONN_OK);
    /* Unavailable, never a server error, should a retry meet them too. */
    assert_int_equal(
        todo_sql_error_status(
            "ERROR:  25006: cannot execute UPDATE in a read-only transaction\n"),
        503);
    assert_int_equal(
        todo_sql_error_status(
            "FATAL:  57P01: terminating connection due to administrator "
            "command\n"),
        503);
    assert_int_equal(
        todo_sql_error_status(
            "ERROR:  57014: canceling statement due to statement timeout\n"),
        500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_scoped_by_user),
        cmocka_unit_test(test_args_update),
        cmocka_unit_test(test_args_list_and_create),
        cmocka_unit_test(test_args_idem),
        cmocka_unit_test(test_idem_statements),
        cmocka_unit_test(test_prune_limit),
        cmocka_unit_test(test_args_changes),
        cmocka_unit_test(test_native),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_error_code),
        cmocka_unit_test(test_error_status),
        cmocka_unit_test(test_error_stale_plan),
        cmocka_unit_test(test_error_conn),
    };
    return TODO_TEST_MAIN("sql", tests, NULL, NULL);
}
