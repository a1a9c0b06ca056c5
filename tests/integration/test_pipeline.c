/*
 * test_pipeline.c - pipelines against the real MariaDB: a batch mixing good
 * and failing statements (each step its own outcome, the later ones still
 * run), multi-statement steps, pings / resets / select_db in between, a batch
 * larger than the send window, blocking and non-blocking, over TCP, TLS, a
 * unix socket and zlib.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_common.h"

static void add(mywire_pipeline *p, const char *sql)
{
    assert_int_equal(mywire_pipeline_add_query(p, sql, strlen(sql)), MYWIRE_OK);
}

static int run(mywire_conn *c, mywire_pipeline *p)
{
    int rc = mywire_pipeline_run(c, p);
    while (rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE) {
        struct pollfd pf = {mywire_socket(c), (short)(rc == MYWIRE_WAIT_READ ? POLLIN : POLLOUT), 0};
        assert_true(poll(&pf, 1, 5000) >= 0);
        rc = mywire_pipeline_run(c, NULL); /* continuing: the argument is not read */
    }
    return rc;
}

static char *scalar_of(mywire_pipeline *p, size_t step, unsigned k)
{
    mywire_result *res = NULL;
    assert_int_equal(mywire_pipeline_take_result(p, step, k, &res), MYWIRE_OK);
    assert_int_equal(mywire_fetch(res), MYWIRE_ROW);
    size_t len;
    const char *v = mywire_get(res, 0, &len);
    char *copy = strdup(v ? v : "NULL");
    mywire_result_free(res);
    return copy;
}

static mywire_conn *handle(const char *option, int use_socket, int nonblocking)
{
    mywire_conn *c = it_configured(option, use_socket);
    IT_OK(c, mywire_connect(c));
    IT_OK(c, mywire_set_nonblocking(c, nonblocking));
    return c;
}

/* Good and failing steps: each has its own outcome, and the server ran the
 * steps after a failing one. */
static void mixed_batch(const char *option, int use_socket, int nonblocking)
{
    mywire_conn *c = handle(option, use_socket, nonblocking);
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    add(p, "CREATE TEMPORARY TABLE pl (id INT PRIMARY KEY, v VARCHAR(20))");
    add(p, "INSERT INTO pl VALUES (1, 'one'), (2, 'two')");
    add(p, "INSERT INTO pl VALUES (1, 'duplicate')");      /* 2: ER_DUP_ENTRY */
    add(p, "SELECT COUNT(*) FROM pl");                     /* 3: still 2 */
    add(p, "SELECT * FROM no_such_table_here");           /* 4: ER_NO_SUCH_TABLE */
    assert_int_equal(mywire_pipeline_add_ping(p), MYWIRE_OK); /* 5 */
    add(p, "SELECT 'a'; SELECT 'b', 'c'; DO 1");           /* 6: three results */
    add(p, "INSERT INTO pl VALUES (3, 'three')");          /* 7 */
    assert_int_equal(mywire_pipeline_add_select_db(p, it_get_env()->db), MYWIRE_OK); /* 8 */
    add(p, "SELECT SUM(id) FROM pl");                      /* 9: 6 */
    assert_int_equal(mywire_pipeline_size(p), 10);

    IT_OK(c, run(c, p));
    for (size_t i = 0; i < 10; i++) assert_int_equal(mywire_pipeline_step_ran(p, i), 1);
    assert_int_equal(mywire_pipeline_step_code(p, 0), MYWIRE_OK);
    assert_int_equal(mywire_pipeline_step_code(p, 1), MYWIRE_OK);
    assert_int_equal(mywire_pipeline_step_code(p, 2), MYWIRE_ERROR_SERVER);
    assert_int_equal(mywire_pipeline_step_errno(p, 2), 1062);
    assert_string_equal(mywire_pipeline_step_sqlstate(p, 2), "23000");
    assert_non_null(strstr(mywire_pipeline_step_errmsg(p, 2), "Duplicate"));
    assert_int_equal(mywire_pipeline_result_count(p, 2), 0);
    char *v = scalar_of(p, 3, 0);
    assert_string_equal(v, "2");
    free(v);
    assert_int_equal(mywire_pipeline_step_code(p, 4), MYWIRE_ERROR_SERVER);
    assert_int_equal(mywire_pipeline_step_errno(p, 4), 1146);
    assert_int_equal(mywire_pipeline_step_code(p, 5), MYWIRE_OK);
    assert_int_equal(mywire_pipeline_result_count(p, 6), 3);
    v = scalar_of(p, 6, 0);
    assert_string_equal(v, "a");
    free(v);
    v = scalar_of(p, 6, 1);
    assert_string_equal(v, "b");
    free(v);
    mywire_result *res = NULL;
    assert_int_equal(mywire_pipeline_take_result(p, 6, 1, &res), MYWIRE_ERROR_ARGUMENT); /* taken */
    assert_int_equal(mywire_pipeline_take_result(p, 6, 2, &res), MYWIRE_OK);
    assert_int_equal(mywire_column_count(res), 0);
    mywire_result_free(res);
    assert_int_equal(mywire_pipeline_step_code(p, 7), MYWIRE_OK);
    assert_int_equal(mywire_pipeline_step_code(p, 8), MYWIRE_OK);
    v = scalar_of(p, 9, 0);
    assert_string_equal(v, "6");
    free(v);

    /* The connection is in step with the server afterwards, and the
     * pipeline can be run again. */
    IT_OK(c, mywire_set_nonblocking(c, 0));
    assert_int_equal(it_scalar_ll(c, "SELECT COUNT(*) FROM pl"), 3);
    IT_OK(c, mywire_set_nonblocking(c, nonblocking));
    assert_int_equal(mywire_pipeline_clear(p), MYWIRE_OK);
    add(p, "SELECT 5");
    IT_OK(c, run(c, p));
    v = scalar_of(p, 0, 0);
    assert_string_equal(v, "5");
    free(v);
    mywire_pipeline_free(p);
    mywire_conn_free(c);
}

static void test_mixed_batch_blocking(void **state)
{
    (void)state;
    mixed_batch(NULL, 0, 0);
    mixed_batch(NULL, 1, 0);
}

static void test_mixed_batch_nonblocking(void **state)
{
    (void)state;
    mixed_batch(NULL, 0, 1);
    mixed_batch(NULL, 1, 1);
}

static void test_mixed_batch_tls_zlib(void **state)
{
    (void)state;
    mixed_batch("ssl_mode=required", 0, 0);
    mixed_batch("ssl_mode=required", 0, 1);
    mixed_batch("compress=zlib", 0, 0);
    mixed_batch("compress=zlib", 1, 1);
}

/* More requests than one window (64 KiB): 3,000 inserts of ~100 bytes go
 * out in windows, with the replies read in between, and all land. */
static void big_batch(const char *option, int nonblocking)
{
    mywire_conn *c = handle(option, 0, nonblocking);
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    add(p, "CREATE TEMPORARY TABLE big (id INT PRIMARY KEY, pad VARCHAR(100))");
    char sql[200];
    for (int i = 1; i <= 3000; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO big VALUES (%d, '%070d')", i, i);
        add(p, sql);
    }
    add(p, "SELECT COUNT(*), SUM(id) FROM big");
    IT_OK(c, run(c, p));
    for (size_t i = 0; i < mywire_pipeline_size(p); i++)
        if (mywire_pipeline_step_code(p, i) != MYWIRE_OK)
            fail_msg("step %zu: %s", i, mywire_pipeline_step_errmsg(p, i));
    mywire_result *res = NULL;
    assert_int_equal(mywire_pipeline_take_result(p, 3001, 0, &res), MYWIRE_OK);
    IT_ROW(res);
    IT_VAL(res, 0, "3000");
    IT_VAL(res, 1, "4501500");
    mywire_result_free(res);
    mywire_pipeline_free(p);
    mywire_conn_free(c);
}

static void test_batch_larger_than_the_window(void **state)
{
    (void)state;
    big_batch(NULL, 0);
    big_batch(NULL, 1);
    big_batch("compress=zlib", 0);
}

/* Misuse: a pipeline while a streaming result is open; empty pipelines;
 * NULLs. */
static void test_pipeline_misuse(void **state)
{
    (void)state;
    mywire_conn *c = handle(NULL, 0, 0);
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    IT_OK(c, mywire_pipeline_run(c, p)); /* empty: nothing to do */
    add(p, "SELECT 1");
    mywire_result *res = it_query(c, "SELECT seq FROM seq_1_to_10", MYWIRE_STREAMING);
    IT_ERR(c, mywire_pipeline_run(c, p), MYWIRE_ERROR_OUT_OF_SYNC, 0, "HY000");
    mywire_result_free(res);
    IT_OK(c, mywire_pipeline_run(c, p));
    assert_int_equal(mywire_pipeline_run(NULL, p), MYWIRE_ERROR_ARGUMENT);
    IT_ERR(c, mywire_pipeline_run(c, NULL), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    assert_int_equal(mywire_pipeline_new(NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_pipeline_add_query(NULL, "x", 1), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_pipeline_add_select_db(p, ""), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_pipeline_step_code(p, 99), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_pipeline_take_result(p, 99, 0, &res), MYWIRE_ERROR_ARGUMENT);
    mywire_pipeline_free(p);
    mywire_pipeline_free(NULL);
    mywire_conn_free(c);
}

/* The connection dies in the middle of a batch: the failing step and the
 * later ones carry the error. */
static void test_connection_lost_mid_batch(void **state)
{
    (void)state;
    mywire_conn *c = handle(NULL, 0, 0);
    mywire_conn *killer = it_connect_tcp();
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    add(p, "SELECT 1");
    char *kill = it_format("KILL CONNECTION %lu", (unsigned long)mywire_connection_id(c));
    /* The session kills itself at step 1: steps 2 and 3 get no reply. */
    add(p, kill);
    add(p, "SELECT 2");
    add(p, "SELECT 3");
    int rc = mywire_pipeline_run(c, p);
    assert_true(rc == MYWIRE_ERROR_LOST || rc == MYWIRE_ERROR_SERVER || rc == MYWIRE_OK);
    assert_int_equal(mywire_pipeline_step_code(p, 0), MYWIRE_OK);
    assert_int_not_equal(mywire_pipeline_step_code(p, 3), MYWIRE_OK);
    if (rc == MYWIRE_ERROR_LOST) {
        assert_int_equal(mywire_pipeline_step_code(p, 3), MYWIRE_ERROR_LOST);
        assert_int_equal(mywire_pipeline_step_ran(p, 3), 0);
        assert_non_null(strstr(mywire_pipeline_step_errmsg(p, 3), "may have run"));
        assert_int_equal(mywire_is_connected(c), 0);
    }
    free(kill);
    mywire_pipeline_free(p);
    mywire_conn_free(c);
    mywire_conn_free(killer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_batch_blocking),
        cmocka_unit_test(test_mixed_batch_nonblocking),
        cmocka_unit_test(test_mixed_batch_tls_zlib),
        cmocka_unit_test(test_batch_larger_than_the_window),
        cmocka_unit_test(test_pipeline_misuse),
        cmocka_unit_test(test_connection_lost_mid_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
