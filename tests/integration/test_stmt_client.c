/* Client-side statements (mywire_stmt_prepare_client): the bound values are
 * formatted into the SQL as typed literals; what the server stores is
 * exactly the value, in both escaping modes and with placeholders-like text
 * in literals and comments left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "it_common.h"

/* The non-blocking copy runs at the same time: its own table. */
#ifdef MYWIRE_IT_NONBLOCKING_H
#define TABLE "client_stmt_nb"
#else
#define TABLE "client_stmt"
#endif

static const char hostile[] = "it's a \\'; DROP TABLE x; -- \"?\" \\\\ \x1a end";

static void round_trip(mywire_conn *c)
{
    it_exec(c, "DROP TABLE IF EXISTS " TABLE);
    it_exec(c, "CREATE TABLE " TABLE " (i BIGINT, u BIGINT UNSIGNED, d DOUBLE, s VARCHAR(200), "
               "b BLOB, t DATETIME(6), n INT)");
    mywire_stmt *st;
    IT_OK(c, mywire_stmt_new(c, &st));
    /* The '?' in the literal and in the comment are not placeholders. */
    const char *ins = "INSERT INTO " TABLE " /* ? */ VALUES (?, ?, ?, ?, ?, ?, ?) -- '?'\n";
    IT_OK(c, mywire_stmt_prepare_client(st, ins, strlen(ins)));
    assert_int_equal(mywire_stmt_param_count(st), 7);
    assert_int_equal(mywire_stmt_is_client_side(st), 1);
    static const unsigned char bytes[] = {0, '\'', '\\', 0xff, '"', '\n'};
    mywire_time t = {MYWIRE_TIME_KIND_DATETIME, 0, 2024, 2, 29, 23, 59, 58, 123456};
    IT_OK(c, mywire_stmt_bind_int64(st, 0, INT64_MIN));
    IT_OK(c, mywire_stmt_bind_uint64(st, 1, UINT64_MAX));
    IT_OK(c, mywire_stmt_bind_double(st, 2, 0.1 + 0.2));
    IT_OK(c, mywire_stmt_bind_string(st, 3, hostile, strlen(hostile)));
    IT_OK(c, mywire_stmt_bind_bytes(st, 4, bytes, sizeof bytes));
    IT_OK(c, mywire_stmt_bind_time(st, 5, &t));
    IT_OK(c, mywire_stmt_bind_null(st, 6));
    mywire_result *r;
    IT_OK(c, mywire_stmt_execute(st, MYWIRE_BUFFERED, &r));
    assert_int_equal(mywire_affected_rows(r), 1);
    assert_int_equal(mywire_result_is_binary(r), 0);
    mywire_result_free(r);
    mywire_stmt_free(st);

    r = it_query(c, "SELECT i, u, d, s, b, t, n FROM " TABLE, MYWIRE_BUFFERED);
    IT_ROW(r);
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    assert_int_equal(mywire_get_int64(r, 0, &i), MYWIRE_OK);
    assert_true(i == INT64_MIN);
    assert_int_equal(mywire_get_uint64(r, 1, &u), MYWIRE_OK);
    assert_true(u == UINT64_MAX);
    assert_int_equal(mywire_get_double(r, 2, &d), MYWIRE_OK);
    assert_true(d == 0.1 + 0.2);
    size_t len = 0;
    const char *s = mywire_get(r, 3, &len);
    assert_int_equal(len, strlen(hostile));
    assert_memory_equal(s, hostile, len);
    s = mywire_get(r, 4, &len);
    assert_int_equal(len, sizeof bytes);
    assert_memory_equal(s, bytes, len);
    mywire_time got;
    assert_int_equal(mywire_get_time(r, 5, &got), MYWIRE_OK);
    assert_memory_equal(&got, &t, sizeof t);
    assert_int_equal(mywire_get_int64(r, 6, &i), MYWIRE_NULL);
    IT_DONE(r);
    mywire_result_free(r);
}

static void test_round_trip(void **state)
{
    (void)state;
    mywire_conn *c = it_connect_socket();
    round_trip(c);
    /* The same under NO_BACKSLASH_ESCAPES: the mode comes from the latest OK. */
    it_exec(c, "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'");
    assert_true(mywire_server_status(c) & MYWIRE_STATUS_NO_BACKSLASH_ESCAPES);
    round_trip(c);
    it_exec(c, "DROP TABLE " TABLE);
    mywire_conn_free(c);
}

static void test_errors(void **state)
{
    (void)state;
    mywire_conn *c = it_connect_socket();
    mywire_stmt *st;
    IT_OK(c, mywire_stmt_new(c, &st));
    const char *bad = "SELECT 'unterminated ?";
    IT_ERR(c, mywire_stmt_prepare_client(st, bad, strlen(bad)), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    const char *q = "SELECT ?, ?";
    IT_OK(c, mywire_stmt_prepare_client(st, q, strlen(q)));
    IT_OK(c, mywire_stmt_bind_int32(st, 0, 1));
    mywire_result *r = NULL;
    /* Parameter 1 unbound: refused before anything is sent. */
    IT_ERR(c, mywire_stmt_execute(st, MYWIRE_BUFFERED, &r), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    assert_null(r);
    assert_int_equal(mywire_stmt_set_cursor(st, 10), MYWIRE_OK);
    IT_OK(c, mywire_stmt_bind_int32(st, 1, 2));
    IT_ERR(c, mywire_stmt_execute(st, MYWIRE_BUFFERED, &r), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    assert_int_equal(mywire_stmt_set_cursor(st, 0), MYWIRE_OK);
    IT_OK(c, mywire_stmt_execute(st, MYWIRE_STREAMING, &r));
    IT_ROW(r);
    IT_VAL(r, 0, "1");
    IT_VAL(r, 1, "2");
    IT_DONE(r);
    mywire_result_free(r);
    mywire_stmt_free(st);
    IT_OK(c, mywire_ping(c));
    mywire_conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
