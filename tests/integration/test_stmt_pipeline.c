/*
 * test_stmt_pipeline.c - prepared statements as pipeline steps, against the
 * real MariaDB: many executes of one statement with different bindings in
 * one batch (each step its own binary result), prepare + execute + close in
 * one write (MariaDB's statement id 0xFFFFFFFF; counted with the send()
 * calls on the socket and the server's Com_stmt_* counters), the second
 * write when an execute must wait for its prepare's reply, errors mid-batch
 * (a failing execute between good ones, a failing prepare and the execute
 * that depends on it), over TCP, TLS and zlib. The _nb twin runs every case
 * through the non-blocking API (it_nonblocking.h).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "it_common.h"

/* ------------------------------------------------ counting the writes
 * libmywire's send() calls resolve to this one (the executable's symbol
 * interposes libc's): each call on the watched socket that sent bytes is
 * one write. */
static int watched_fd = -1;
static unsigned long sends_seen;

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    static ssize_t (*real)(int, const void *, size_t, int);
    if (!real) real = (ssize_t(*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
    ssize_t n = real(fd, buf, len, flags);
    if (fd == watched_fd && n > 0) __atomic_add_fetch(&sends_seen, 1, __ATOMIC_RELAXED);
    return n;
}

static void watch(mywire_conn *c)
{
    watched_fd = mywire_socket(c);
    assert_true(watched_fd >= 0);
    __atomic_store_n(&sends_seen, 0, __ATOMIC_RELAXED);
}

static unsigned long unwatch(void)
{
    watched_fd = -1;
    return __atomic_load_n(&sends_seen, __ATOMIC_RELAXED);
}

/* The _nb twin runs at the same time: its own procedure. */
#ifdef MYWIRE_IT_NONBLOCKING_H
#define T(name) name "_nb"
#else
#define T(name) name
#endif

/* ------------------------------------------------------------ helpers */

static mywire_conn *handle(const char *option, const char *option2)
{
    mywire_conn *c = it_configured(option, 0);
    if (option2) {
        char *key = strdup(option2), *eq = strchr(key, '=');
        *eq = '\0';
        IT_OK(c, mywire_set_option(c, key, eq + 1));
        free(key);
    }
    IT_OK(c, mywire_connect(c));
    return c;
}

static mywire_stmt *prepared(mywire_conn *c, const char *sql)
{
    mywire_stmt *st = NULL;
    IT_OK(c, mywire_stmt_new(c, &st));
    IT_OK(c, mywire_stmt_prepare(st, sql, strlen(sql)));
    return st;
}

static void add_query(mywire_pipeline *p, const char *sql)
{
    assert_int_equal(mywire_pipeline_add_query(p, sql, strlen(sql)), MYWIRE_OK);
}

static void add_prepare(mywire_pipeline *p, mywire_stmt *st, const char *sql)
{
    assert_int_equal(mywire_pipeline_add_prepare(p, st, sql, strlen(sql)), MYWIRE_OK);
}

/* The session's Com_<name> counter. */
static long long counter(mywire_conn *c, const char *name)
{
    char *sql = it_format("SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                          "WHERE VARIABLE_NAME = '%s'", name);
    long long v = it_scalar_ll(c, sql);
    free(sql);
    return v;
}

/* Step i's only result has one row: its column 0 as an int64 (binary). */
static int64_t int_of(mywire_pipeline *p, size_t i, unsigned col)
{
    mywire_result *res = NULL;
    assert_int_equal(mywire_pipeline_result_count(p, i), 1);
    assert_int_equal(mywire_pipeline_take_result(p, i, 0, &res), MYWIRE_OK);
    assert_int_equal(mywire_result_is_binary(res), 1);
    assert_int_equal(mywire_fetch(res), MYWIRE_ROW);
    int64_t v = 0;
    assert_int_equal(mywire_get_int64(res, col, &v), MYWIRE_OK);
    assert_int_equal(mywire_fetch(res), MYWIRE_DONE);
    mywire_result_free(res);
    return v;
}

static void setup_table(mywire_conn *c)
{
    it_exec(c, "CREATE TEMPORARY TABLE sp (id INT PRIMARY KEY, v VARCHAR(20), d DOUBLE)");
    it_exec(c, "INSERT INTO sp SELECT seq, CONCAT('v', seq), seq / 4 FROM seq_1_to_500");
}

/* ------------------------------------------- executes with their bindings */

/* One statement, rebound between the steps: each execute uses the values it
 * was added with, mixed with queries and an INSERT statement, and the
 * statement is still usable by mywire_stmt_execute afterwards (the types the
 * server has changed: they are sent again). */
static void executes_with_bindings(const char *option, const char *option2)
{
    mywire_conn *c = handle(option, option2);
    setup_table(c);
    mywire_stmt *sel = prepared(c, "SELECT id, v, d FROM sp WHERE id = ?");
    mywire_stmt *ins = prepared(c, "INSERT INTO sp VALUES (?, ?, ?)");
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    enum { n = 300 };
    for (int i = 0; i < n; i++) {
        IT_OK(c, mywire_stmt_bind_int32(sel, 0, i * 7 % 600 + 1)); /* some past 500: no row */
        IT_OK(c, mywire_pipeline_add_execute(p, sel));
    }
    IT_OK(c, mywire_stmt_bind_int32(ins, 0, 1000));
    IT_OK(c, mywire_stmt_bind_string(ins, 1, "thousand", 8));
    IT_OK(c, mywire_stmt_bind_null(ins, 2));
    IT_OK(c, mywire_pipeline_add_execute(p, ins)); /* n */
    add_query(p, "SELECT COUNT(*) FROM sp");       /* n + 1: a text result */
    IT_OK(c, mywire_stmt_bind_int64(sel, 0, 1000)); /* another type than before */
    IT_OK(c, mywire_pipeline_add_execute(p, sel)); /* n + 2: the row just inserted */
    IT_OK(c, mywire_stmt_bind_int32(sel, 0, 42)); /* bound after the last step: not in the batch */

    IT_OK(c, mywire_pipeline_run(c, p));
    for (int i = 0; i < n; i++) {
        int id = i * 7 % 600 + 1;
        assert_int_equal(mywire_pipeline_step_code(p, i), MYWIRE_OK);
        assert_int_equal(mywire_pipeline_step_ran(p, i), 1);
        assert_int_equal(mywire_pipeline_step_direct(p, i), 0);
        mywire_result *res = NULL;
        assert_int_equal(mywire_pipeline_result_count(p, i), 1);
        assert_int_equal(mywire_pipeline_take_result(p, i, 0, &res), MYWIRE_OK);
        assert_int_equal(mywire_column_count(res), 3);
        if (id > 500) {
            assert_int_equal(mywire_fetch(res), MYWIRE_DONE);
        } else {
            assert_int_equal(mywire_fetch(res), MYWIRE_ROW);
            int64_t got = 0;
            assert_int_equal(mywire_get_int64(res, 0, &got), MYWIRE_OK);
            assert_int_equal(got, id);
            char want[16];
            snprintf(want, sizeof want, "v%d", id);
            IT_VAL(res, 1, want);
            double d = 0;
            assert_int_equal(mywire_get_double(res, 2, &d), MYWIRE_OK);
            assert_true(d == id / 4.0);
            assert_int_equal(mywire_fetch(res), MYWIRE_DONE);
        }
        mywire_result_free(res);
    }
    assert_int_equal(mywire_pipeline_step_code(p, n), MYWIRE_OK);
    mywire_result *res = NULL;
    assert_int_equal(mywire_pipeline_take_result(p, n, 0, &res), MYWIRE_OK);
    assert_int_equal(mywire_column_count(res), 0);
    assert_int_equal(mywire_affected_rows(res), 1);
    mywire_result_free(res);
    char *count = NULL;
    {
        assert_int_equal(mywire_pipeline_take_result(p, n + 1, 0, &res), MYWIRE_OK);
        assert_int_equal(mywire_result_is_binary(res), 0);
        IT_ROW(res);
        count = strdup(mywire_get(res, 0, NULL));
        mywire_result_free(res);
    }
    assert_string_equal(count, "501");
    free(count);
    assert_int_equal(int_of(p, n + 2, 0), 1000);

    /* The statement outside the pipeline: the binding made after the last step. */
    IT_OK(c, mywire_stmt_execute(sel, MYWIRE_BUFFERED, &res));
    IT_ROW(res);
    IT_VAL(res, 1, "v42");
    mywire_result_free(res);

    /* The pipeline runs again: the same snapshots. */
    it_exec(c, "DELETE FROM sp WHERE id = 1000");
    IT_OK(c, mywire_pipeline_run(c, p));
    assert_int_equal(int_of(p, 1, 0), 8);
    assert_int_equal(mywire_pipeline_step_code(p, n), MYWIRE_OK);
    assert_int_equal(int_of(p, n + 2, 0), 1000);

    mywire_pipeline_free(p);
    mywire_stmt_free(sel);
    mywire_stmt_free(ins);
    mywire_conn_free(c);
}

static void test_executes_with_bindings(void **state)
{
    (void)state;
    executes_with_bindings(NULL, NULL);
}

/* 20,000 point selects of one statement in one batch: sent in windows,
 * every step's result right. */
static void test_many_point_selects(void **state)
{
    (void)state;
    mywire_conn *c = handle(NULL, NULL);
    setup_table(c);
    mywire_stmt *sel = prepared(c, "SELECT id * 2 FROM sp WHERE id = ?");
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    enum { n = 20000 };
    for (int i = 0; i < n; i++) {
        IT_OK(c, mywire_stmt_bind_int32(sel, 0, i % 500 + 1));
        IT_OK(c, mywire_pipeline_add_execute(p, sel));
    }
    watch(c);
    IT_OK(c, mywire_pipeline_run(c, p));
    unsigned long writes = unwatch();
    for (int i = 0; i < n; i++) assert_int_equal(int_of(p, i, 0), 2 * (i % 500 + 1));
    /* ~ 24 bytes a request, 64 KiB windows: several writes, far fewer than steps. */
    assert_true(writes > 1 && writes < 100);
    mywire_pipeline_free(p);
    mywire_stmt_free(sel);
    mywire_conn_free(c);
}

/* ------------------------------------------ prepare + execute + close */

static void one_round_trip(const char *option, const char *option2)
{
    mywire_conn *c = handle(option, option2);
    setup_table(c);
    long long prep0 = counter(c, "Com_stmt_prepare"), exec0 = counter(c, "Com_stmt_execute"),
              close0 = counter(c, "Com_stmt_close");
    mywire_stmt *st = NULL;
    IT_OK(c, mywire_stmt_new(c, &st));
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    /* A '?' inside a string literal and a comment is no placeholder. */
    add_prepare(p, st, "SELECT id, v, '?' FROM sp /* ? */ WHERE id = ? OR id = ? ORDER BY id");
    assert_int_equal(mywire_stmt_param_count(st), 2); /* bound before the reply */
    for (int i = 0; i < 3; i++) {
        IT_OK(c, mywire_stmt_bind_int32(st, 0, 10 + i));
        IT_OK(c, mywire_stmt_bind_int64(st, 1, 20 + i));
        IT_OK(c, mywire_pipeline_add_execute(p, st));
    }
    assert_int_equal(mywire_pipeline_add_stmt_close(p, st), MYWIRE_OK);
    assert_int_equal(mywire_pipeline_size(p), 5);

    watch(c);
    IT_OK(c, mywire_pipeline_run(c, p));
    unsigned long writes = unwatch();
    assert_int_equal(writes, 1); /* the five commands in one write: one round trip */
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(mywire_pipeline_step_code(p, i), MYWIRE_OK);
        assert_int_equal(mywire_pipeline_step_ran(p, i), 1);
        assert_int_equal(mywire_pipeline_step_direct(p, i), i > 0);
    }
    assert_int_equal(mywire_pipeline_result_count(p, 0), 0);
    assert_int_equal(mywire_pipeline_result_count(p, 4), 0);
    for (int i = 0; i < 3; i++) {
        mywire_result *res = NULL;
        assert_int_equal(mywire_pipeline_take_result(p, 1 + i, 0, &res), MYWIRE_OK);
        assert_int_equal(mywire_column_count(res), 3);
        IT_ROW(res);
        int64_t id = 0;
        assert_int_equal(mywire_get_int64(res, 0, &id), MYWIRE_OK);
        assert_int_equal(id, 10 + i);
        IT_VAL(res, 2, "?");
        IT_ROW(res);
        assert_int_equal(mywire_get_int64(res, 0, &id), MYWIRE_OK);
        assert_int_equal(id, 20 + i);
        IT_DONE(res);
        mywire_result_free(res);
    }
    /* The server ran exactly one prepare, three executes and one close. */
    assert_int_equal(counter(c, "Com_stmt_prepare") - prep0, 1);
    assert_int_equal(counter(c, "Com_stmt_execute") - exec0, 3);
    assert_int_equal(counter(c, "Com_stmt_close") - close0, 1);
    /* Closed: the handle says so. */
    mywire_result *res = NULL;
    IT_ERR(c, mywire_stmt_execute(st, MYWIRE_BUFFERED, &res), MYWIRE_ERROR_STATE, 0, "HY000");
    mywire_pipeline_free(p);

    /* Prepare and execute without a close: the statement stays prepared,
     * with the parameter and column definitions of the reply. */
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    add_prepare(p, st, "SELECT v FROM sp WHERE id = ?");
    IT_OK(c, mywire_stmt_bind_int32(st, 0, 7));
    IT_OK(c, mywire_pipeline_add_execute(p, st));
    IT_OK(c, mywire_pipeline_run(c, p));
    assert_int_equal(mywire_pipeline_step_code(p, 1), MYWIRE_OK);
    assert_int_equal(mywire_stmt_param_count(st), 1);
    assert_int_equal(mywire_stmt_column_count(st), 1);
    assert_true(mywire_stmt_id(st) != 0);
    IT_OK(c, mywire_pipeline_take_result(p, 1, 0, &res));
    IT_ROW(res);
    IT_VAL(res, 0, "v7");
    mywire_result_free(res);
    IT_OK(c, mywire_stmt_bind_int32(st, 0, 8));
    IT_OK(c, mywire_stmt_execute(st, MYWIRE_BUFFERED, &res));
    IT_ROW(res);
    IT_VAL(res, 0, "v8");
    mywire_result_free(res);
    mywire_pipeline_free(p);
    mywire_stmt_free(st);
    mywire_conn_free(c);
}

static void test_one_round_trip(void **state)
{
    (void)state;
    one_round_trip(NULL, NULL);
}

/* An execute that is not right behind its prepare (another prepare step in
 * between) waits for the prepare's reply: the rest of the batch goes out in a
 * second write, with the real statement id, and the outcome is the same. */
static void test_execute_waits_for_its_prepare(void **state)
{
    (void)state;
    mywire_conn *c = handle(NULL, NULL);
    setup_table(c);
    mywire_stmt *a = NULL, *b = NULL;
    IT_OK(c, mywire_stmt_new(c, &a));
    IT_OK(c, mywire_stmt_new(c, &b));
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    add_prepare(p, a, "SELECT id + 1 FROM sp WHERE id = ?"); /* 0 */
    add_prepare(p, b, "SELECT id + 2 FROM sp WHERE id = ?"); /* 1 */
    IT_OK(c, mywire_stmt_bind_int32(a, 0, 5));
    IT_OK(c, mywire_pipeline_add_execute(p, a));                /* 2: waits for 0 */
    IT_OK(c, mywire_stmt_bind_int32(b, 0, 5));
    IT_OK(c, mywire_pipeline_add_execute(p, b));                /* 3: right behind 1... but sent after 2 */
    assert_int_equal(mywire_pipeline_add_stmt_close(p, a), MYWIRE_OK); /* 4 */
    watch(c);
    IT_OK(c, mywire_pipeline_run(c, p));
    unsigned long writes = unwatch();
    assert_int_equal(writes, 2);
    assert_int_equal(mywire_pipeline_step_direct(p, 2), 0);
    /* Step 3 goes out in the second write, after prepare 1: still "the last prepared". */
    assert_int_equal(mywire_pipeline_step_direct(p, 3), 1);
    assert_int_equal(mywire_pipeline_step_direct(p, 4), 0);
    for (size_t i = 0; i < 5; i++) assert_int_equal(mywire_pipeline_step_code(p, i), MYWIRE_OK);
    assert_int_equal(int_of(p, 2, 0), 6);
    assert_int_equal(int_of(p, 3, 0), 7);
    mywire_result *res = NULL;
    IT_ERR(c, mywire_stmt_execute(a, MYWIRE_BUFFERED, &res), MYWIRE_ERROR_STATE, 0, "HY000");
    IT_OK(c, mywire_stmt_execute(b, MYWIRE_BUFFERED, &res));
    mywire_result_free(res);
    mywire_pipeline_free(p);
    mywire_stmt_free(a);
    mywire_stmt_free(b);
    mywire_conn_free(c);
}

/* ---------------------------------------------------- errors mid-batch */

static void errors_mid_pipeline(const char *option, const char *option2)
{
    mywire_conn *c = handle(option, option2);
    setup_table(c);
    it_exec(c, "CREATE TEMPORARY TABLE splog (v INT)");
    mywire_stmt *sel = prepared(c, "SELECT v FROM sp WHERE id = ?");
    mywire_stmt *ins = prepared(c, "INSERT INTO sp (id, v) VALUES (?, ?)");
    /* Prepared last before the batch: a direct execute after a failed
     * prepare must not run it. */
    mywire_stmt *log = prepared(c, "INSERT INTO splog VALUES (?)");
    mywire_stmt *bad = NULL, *bad2 = NULL;
    IT_OK(c, mywire_stmt_new(c, &bad));
    IT_OK(c, mywire_stmt_new(c, &bad2));
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);

    IT_OK(c, mywire_stmt_bind_int32(sel, 0, 1));
    IT_OK(c, mywire_pipeline_add_execute(p, sel));   /* 0: ok */
    IT_OK(c, mywire_stmt_bind_int32(ins, 0, 2));     /* duplicate key */
    IT_OK(c, mywire_stmt_bind_string(ins, 1, "dup", 3));
    IT_OK(c, mywire_pipeline_add_execute(p, ins));   /* 1: ER_DUP_ENTRY */
    IT_OK(c, mywire_stmt_bind_int32(sel, 0, 3));
    IT_OK(c, mywire_pipeline_add_execute(p, sel));   /* 2: ok */
    add_prepare(p, bad, "INSERT INTO no_such_table_here VALUES (?)"); /* 3: ER_NO_SUCH_TABLE */
    IT_OK(c, mywire_stmt_bind_int32(bad, 0, 777));
    IT_OK(c, mywire_pipeline_add_execute(p, bad));   /* 4: its prepare failed */
    assert_int_equal(mywire_pipeline_add_stmt_close(p, bad), MYWIRE_OK); /* 5: nothing to close */
    IT_OK(c, mywire_stmt_bind_int32(sel, 0, 4));
    IT_OK(c, mywire_pipeline_add_execute(p, sel));   /* 6: ok */
    add_prepare(p, bad2, "SELEC ?");                 /* 7: syntax error */
    IT_OK(c, mywire_stmt_bind_int32(bad2, 0, 1));
    IT_OK(c, mywire_pipeline_add_execute(p, bad2));  /* 8: its prepare failed */
    add_query(p, "SELECT COUNT(*) FROM sp");         /* 9: ok */
    IT_OK(c, mywire_stmt_bind_int32(log, 0, 5));
    IT_OK(c, mywire_pipeline_add_execute(p, log));   /* 10: ok */

    IT_OK(c, mywire_pipeline_run(c, p));
    /* Every step ran but the ones whose prepare failed; each its own outcome. */
    static const int code[] = {MYWIRE_OK, MYWIRE_ERROR_SERVER, MYWIRE_OK, MYWIRE_ERROR_SERVER,
                               MYWIRE_ERROR_STATE, MYWIRE_OK, MYWIRE_OK, MYWIRE_ERROR_SERVER,
                               MYWIRE_ERROR_STATE, MYWIRE_OK, MYWIRE_OK};
    assert_int_equal(mywire_pipeline_size(p), 11);
    for (size_t i = 0; i < 11; i++) {
        if (mywire_pipeline_step_code(p, i) != code[i])
            fail_msg("step %zu: code %d, expected %d (%s)", i, mywire_pipeline_step_code(p, i), code[i],
                     mywire_pipeline_step_errmsg(p, i));
    }
    for (size_t i = 0; i < 11; i++) assert_int_equal(mywire_pipeline_step_ran(p, i), 1);
    assert_int_equal(mywire_pipeline_step_errno(p, 1), 1062);
    assert_string_equal(mywire_pipeline_step_sqlstate(p, 1), "23000");
    assert_int_equal(mywire_pipeline_step_errno(p, 3), 1146);
    assert_non_null(strstr(mywire_pipeline_step_errmsg(p, 3), "no_such_table_here"));
    assert_int_equal(mywire_pipeline_step_errno(p, 7), 1064);
    /* The dependent executes: sent with their prepare (MariaDB), refused. */
    assert_int_equal(mywire_pipeline_step_direct(p, 4), 1);
    assert_int_equal(mywire_pipeline_step_direct(p, 8), 1);
    assert_non_null(strstr(mywire_pipeline_step_errmsg(p, 4), "its prepare (pipeline step 3) failed"));
    assert_non_null(strstr(mywire_pipeline_step_errmsg(p, 4), "no_such_table_here"));
    assert_non_null(strstr(mywire_pipeline_step_errmsg(p, 8), "its prepare (pipeline step 7) failed"));
    assert_non_null(strstr(mywire_pipeline_step_errmsg(p, 4), "the server refused it too"));
    assert_string_equal(mywire_pipeline_step_sqlstate(p, 4), "HY000");
    assert_int_equal(mywire_pipeline_result_count(p, 4), 0);
    assert_int_equal(mywire_pipeline_result_count(p, 1), 0);
    mywire_result *res = NULL;
    IT_OK(c, mywire_pipeline_take_result(p, 0, 0, &res));
    IT_ROW(res);
    IT_VAL(res, 0, "v1");
    mywire_result_free(res);
    IT_OK(c, mywire_pipeline_take_result(p, 2, 0, &res));
    IT_ROW(res);
    IT_VAL(res, 0, "v3");
    mywire_result_free(res);
    IT_OK(c, mywire_pipeline_take_result(p, 6, 0, &res));
    IT_ROW(res);
    IT_VAL(res, 0, "v4");
    mywire_result_free(res);
    IT_OK(c, mywire_pipeline_take_result(p, 9, 0, &res));
    IT_ROW(res);
    IT_VAL(res, 0, "500");
    mywire_result_free(res);
    assert_int_equal(mywire_pipeline_result_count(p, 10), 1);
    /* Nothing ran for the failed prepares: splog has only step 10's row
     * (not 777, which a direct execute of the statement prepared last
     * before the batch would have inserted). */
    assert_int_equal(it_scalar_ll(c, "SELECT COUNT(*) FROM splog"), 1);
    assert_int_equal(it_scalar_ll(c, "SELECT SUM(v) FROM splog"), 5);
    /* The failed statements are not prepared; the connection is fine. */
    IT_ERR(c, mywire_stmt_execute(bad, MYWIRE_BUFFERED, &res), MYWIRE_ERROR_STATE, 0, "HY000");
    IT_OK(c, mywire_ping(c));
    mywire_pipeline_free(p);
    mywire_stmt_free(sel);
    mywire_stmt_free(ins);
    mywire_stmt_free(log);
    mywire_stmt_free(bad);
    mywire_stmt_free(bad2);
    mywire_conn_free(c);
}

static void test_errors_mid_pipeline(void **state)
{
    (void)state;
    errors_mid_pipeline(NULL, NULL);
}

/* The same over TLS, zlib, and both. */
static void test_tls_and_compression(void **state)
{
    (void)state;
    const char *opts[][2] = {
        {"ssl_mode=required", NULL},
        {"compress=zlib", NULL},
        {"ssl_mode=required", "compress=zlib"},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        executes_with_bindings(opts[i][0], opts[i][1]);
        one_round_trip(opts[i][0], opts[i][1]);
        errors_mid_pipeline(opts[i][0], opts[i][1]);
    }
}

/* A statement freed while its batch runs (non-blocking, between two calls):
 * the steps already sent are read (with a copy of the columns a server
 * caching metadata skips), the ones not sent yet fail, the batch and the
 * connection go on. */
static void test_statement_freed_mid_batch(void **state)
{
    (void)state;
    mywire_conn *c = handle(NULL, NULL);
    setup_table(c);
    mywire_stmt *st = prepared(c, "SELECT v FROM sp WHERE id = ?");
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    enum { n = 6000 }; /* more than one window */
    for (int i = 0; i < n; i++) {
        IT_OK(c, mywire_stmt_bind_int32(st, 0, i % 500 + 1));
        IT_OK(c, mywire_pipeline_add_execute(p, st));
    }
    add_query(p, "SELECT 7");
    IT_OK(c, mywire_set_nonblocking(c, 1));
    int rc = (mywire_pipeline_run)(c, p);
    assert_true(rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE);
    mywire_stmt_free(st);
    while (rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE) {
        struct pollfd pf = {mywire_socket(c), (short)(rc == MYWIRE_WAIT_READ ? POLLIN : POLLOUT), 0};
        assert_true(poll(&pf, 1, 5000) > 0);
        rc = (mywire_pipeline_run)(c, p);
    }
    IT_OK(c, rc);
    size_t ok = 0, freed = 0;
    for (size_t i = 0; i < n; i++) {
        int code = mywire_pipeline_step_code(p, i);
        if (code == MYWIRE_OK) {
            assert_int_equal(freed, 0); /* the sent ones come first */
            char want[16];
            snprintf(want, sizeof want, "v%d", (int)(i % 500 + 1));
            mywire_result *res = NULL;
            IT_OK(c, mywire_pipeline_take_result(p, i, 0, &res));
            IT_ROW(res);
            IT_VAL(res, 0, want);
            mywire_result_free(res);
            ok++;
        } else {
            assert_int_equal(code, MYWIRE_ERROR_STATE);
            assert_int_equal(mywire_pipeline_step_ran(p, i), 0);
            assert_non_null(strstr(mywire_pipeline_step_errmsg(p, i), "freed"));
            freed++;
        }
    }
    assert_true(ok > 0 && freed > 0);
    assert_int_equal(mywire_pipeline_step_code(p, n), MYWIRE_OK);
    IT_OK(c, mywire_set_nonblocking(c, 0));
    IT_OK(c, mywire_ping(c));
    mywire_pipeline_free(p);
    mywire_conn_free(c);
}

/* A CALL as a pipelined execute: one binary result per result set, the OUT
 * parameters' last (prepared in the same batch, one round trip). */
static void test_call_in_pipeline(void **state)
{
    (void)state;
    mywire_conn *c = handle(NULL, NULL);
    it_exec(c, "DROP PROCEDURE IF EXISTS " T("it_stmt_pipe_proc"));
    it_exec(c, "CREATE PROCEDURE " T("it_stmt_pipe_proc") "(IN a INT, OUT b INT)\n"
               "BEGIN\n"
               "  SELECT a AS x;\n"
               "  SELECT seq FROM seq_1_to_3;\n"
               "  SET b = a * 2;\n"
               "END");
    mywire_stmt *st = NULL;
    IT_OK(c, mywire_stmt_new(c, &st));
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    add_prepare(p, st, "CALL " T("it_stmt_pipe_proc") "(?, ?)");
    IT_OK(c, mywire_stmt_bind_int32(st, 0, 21));
    IT_OK(c, mywire_stmt_bind_null(st, 1));
    IT_OK(c, mywire_pipeline_add_execute(p, st));
    add_query(p, "SELECT 'after'");
    IT_OK(c, mywire_pipeline_run(c, p));
    assert_int_equal(mywire_pipeline_step_code(p, 1), MYWIRE_OK);
    assert_int_equal(mywire_pipeline_step_direct(p, 1), 1);
    /* x, seq, the OUT parameters, and the CALL's own OK. */
    unsigned n = mywire_pipeline_result_count(p, 1);
    assert_int_equal(n, 4);
    mywire_result *res = NULL;
    int64_t v = 0;
    IT_OK(c, mywire_pipeline_take_result(p, 1, 0, &res));
    assert_int_equal(mywire_result_is_binary(res), 1);
    IT_ROW(res);
    assert_int_equal(mywire_get_int64(res, 0, &v), MYWIRE_OK);
    assert_int_equal(v, 21);
    mywire_result_free(res);
    IT_OK(c, mywire_pipeline_take_result(p, 1, 1, &res));
    assert_int_equal(mywire_result_is_binary(res), 1);
    assert_int_equal(mywire_row_count(res), 3);
    mywire_result_free(res);
    IT_OK(c, mywire_pipeline_take_result(p, 1, 2, &res));
    assert_int_equal(mywire_result_is_binary(res), 1);
    assert_true(mywire_status_flags(res) & MYWIRE_STATUS_PS_OUT_PARAMS);
    IT_ROW(res);
    assert_int_equal(mywire_get_int64(res, 0, &v), MYWIRE_OK);
    assert_int_equal(v, 42);
    mywire_result_free(res);
    IT_OK(c, mywire_pipeline_take_result(p, 1, 3, &res));
    assert_int_equal(mywire_column_count(res), 0);
    mywire_result_free(res);
    IT_OK(c, mywire_pipeline_take_result(p, 2, 0, &res));
    IT_ROW(res);
    IT_VAL(res, 0, "after");
    mywire_result_free(res);
    mywire_pipeline_free(p);
    mywire_stmt_free(st);
    it_exec(c, "DROP PROCEDURE " T("it_stmt_pipe_proc"));
    mywire_conn_free(c);
}

/* ------------------------------------------------------------- misuse */

static void test_misuse(void **state)
{
    (void)state;
    mywire_conn *c = handle(NULL, NULL), *other = handle(NULL, NULL);
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    mywire_stmt *st = NULL, *fresh = NULL;
    IT_OK(c, mywire_stmt_new(c, &fresh));
    /* NULL handles. */
    assert_int_equal(mywire_pipeline_add_execute(NULL, fresh), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_pipeline_add_execute(p, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_pipeline_add_prepare(p, NULL, "SELECT 1", 8), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_pipeline_add_prepare(p, fresh, NULL, 3), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_pipeline_add_stmt_close(NULL, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_pipeline_step_direct(NULL, 0), 0);
    /* Not prepared, and no prepare step before. */
    IT_ERR(c, mywire_pipeline_add_execute(p, fresh), MYWIRE_ERROR_STATE, 0, "HY000");
    IT_ERR(c, mywire_pipeline_add_stmt_close(p, fresh), MYWIRE_ERROR_STATE, 0, "HY000");
    /* An unterminated quote: the placeholders cannot be counted. */
    IT_ERR(c, mywire_pipeline_add_prepare(p, fresh, "SELECT '?", 9), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    /* A parameter not bound. */
    st = prepared(c, "SELECT ? + ?");
    IT_OK(c, mywire_stmt_bind_int32(st, 0, 1));
    IT_ERR(c, mywire_pipeline_add_execute(p, st), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    assert_non_null(strstr(mywire_errmsg(c), "parameter 1"));
    /* Long data cannot be pipelined. */
    IT_OK(c, mywire_stmt_send_long_data(st, 1, "12", 2));
    IT_ERR(c, mywire_pipeline_add_execute(p, st), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    assert_non_null(strstr(mywire_errmsg(c), "long data"));
    IT_OK(c, mywire_stmt_reset(st));
    assert_int_equal(mywire_pipeline_size(p), 0);
    /* A statement of another connection. */
    IT_OK(c, mywire_stmt_bind_int32(st, 1, 2));
    IT_OK(c, mywire_pipeline_add_execute(p, st));
    IT_ERR(other, mywire_pipeline_run(other, p), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    assert_non_null(strstr(mywire_errmsg(other), "another connection"));
    IT_OK(c, mywire_pipeline_run(c, p));
    assert_int_equal(int_of(p, 0, 0), 3);
    /* Reset since the step was added: not sent. */
    IT_OK(c, mywire_reset_connection(c));
    IT_OK(c, mywire_pipeline_run(c, p));
    assert_int_equal(mywire_pipeline_step_code(p, 0), MYWIRE_ERROR_STATE);
    assert_int_equal(mywire_pipeline_step_ran(p, 0), 0);
    assert_non_null(strstr(mywire_pipeline_step_errmsg(p, 0), "not sent"));
    /* Freed before the run: the step's statement is no longer one of the connection's. */
    mywire_pipeline_clear(p);
    add_prepare(p, fresh, "SELECT 1");
    mywire_stmt_free(fresh);
    IT_ERR(c, mywire_pipeline_run(c, p), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    IT_OK(c, mywire_ping(c));
    /* A client-side statement becomes a query step. */
    mywire_stmt *cs = NULL;
    IT_OK(c, mywire_stmt_new(c, &cs));
    IT_OK(c, mywire_stmt_prepare_client(cs, "SELECT ? + 1", 12));
    IT_OK(c, mywire_stmt_bind_int32(cs, 0, 41));
    mywire_pipeline_clear(p);
    IT_OK(c, mywire_pipeline_add_execute(p, cs));
    IT_OK(c, mywire_pipeline_run(c, p));
    mywire_result *res = NULL;
    IT_OK(c, mywire_pipeline_take_result(p, 0, 0, &res));
    IT_ROW(res);
    IT_VAL(res, 0, "42");
    mywire_result_free(res);
    mywire_stmt_free(cs);
    mywire_stmt_free(st);
    mywire_pipeline_free(p);
    mywire_conn_free(c);
    mywire_conn_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_executes_with_bindings),
        cmocka_unit_test(test_many_point_selects),
        cmocka_unit_test(test_one_round_trip),
        cmocka_unit_test(test_execute_waits_for_its_prepare),
        cmocka_unit_test(test_errors_mid_pipeline),
        cmocka_unit_test(test_tls_and_compression),
        cmocka_unit_test(test_statement_freed_mid_batch),
        cmocka_unit_test(test_call_in_pipeline),
        cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
