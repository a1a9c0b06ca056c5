/*
 * Query attributes against the real MariaDB, which has none: mywire does not
 * ask for CLIENT_QUERY_ATTRIBUTES, mywire_query_attributes_supported() is 0,
 * every setter fails with MYWIRE_ERROR_UNSUPPORTED and a message saying so,
 * sets nothing, and the connection goes on: queries, prepared statements and
 * pipelines still work (their COM_QUERY / COM_STMT_EXECUTE are the classic
 * ones MariaDB parses). The bytes of the MySQL form are checked against the
 * scripted server (tests/scripted/test_query_attrs.py).
 */
#include "it_common.h"

#include <math.h>
#include <string.h>

static void check_unsupported(mywire_conn *conn, int rc)
{
    IT_ERR(conn, rc, MYWIRE_ERROR_UNSUPPORTED, 0, "HY000");
    assert_non_null(strstr(mywire_errmsg(conn), "does not support query attributes"));
    assert_true(mywire_is_connected(conn));
    assert_int_equal(mywire_query_attr_count(conn), 0);
}

static void test_refused_and_queries_work(void **state)
{
    mywire_time t = {MYWIRE_TIME_KIND_DATE, 0, 2024, 2, 29, 0, 0, 0, 0};
    mywire_conn *conn = it_connect_tcp();
    mywire_stmt *st;
    mywire_result *res;
    (void)state;

    assert_int_equal(mywire_query_attributes_supported(conn), 0);
    check_unsupported(conn, mywire_query_attr_string(conn, "trace", "ab", 2));
    check_unsupported(conn, mywire_query_attr_int64(conn, "n", -2));
    check_unsupported(conn, mywire_query_attr_uint64(conn, "u", 7));
    check_unsupported(conn, mywire_query_attr_double(conn, "d", 1.5));
    check_unsupported(conn, mywire_query_attr_null(conn, "z"));
    check_unsupported(conn, mywire_query_attr_bytes(conn, "b", "\0", 1));
    check_unsupported(conn, mywire_query_attr_time(conn, "t", &t));
    IT_OK(conn, mywire_query_attr_clear(conn));

    /* A bad argument is still reported as such. */
    IT_ERR(conn, mywire_query_attr_double(conn, "d", NAN), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    IT_ERR(conn, mywire_query_attr_int64(conn, NULL, 1), MYWIRE_ERROR_ARGUMENT, 0, "HY000");

    /* A query: the server reads the text as sent (no attribute prefix in
     * front of it, which MariaDB would take for SQL). */
    check_unsupported(conn, mywire_query_attr_string(conn, "trace", "ab", 2));
    res = it_query(conn, "SELECT CONCAT('a', 'b')", MYWIRE_BUFFERED);
    IT_ROW(res);
    IT_VAL(res, 0, "ab");
    IT_DONE(res);
    mywire_result_free(res);

    /* A prepared statement with a parameter, executed twice. */
    IT_OK(conn, mywire_stmt_new(conn, &st));
    IT_OK(conn, mywire_stmt_prepare(st, "SELECT ? + 1", 12));
    IT_OK(conn, mywire_stmt_bind_int64(st, 0, 41));
    check_unsupported(conn, mywire_query_attr_int64(conn, "n", 1));
    for (int i = 0; i < 2; ++i) {
        IT_OK(conn, mywire_stmt_execute(st, MYWIRE_BUFFERED, &res));
        IT_ROW(res);
        IT_VAL(res, 0, "42");
        IT_DONE(res);
        mywire_result_free(res);
    }
    mywire_stmt_free(st);
    assert_true(mywire_is_connected(conn));
    mywire_conn_free(conn);
}

static void test_not_connected(void **state)
{
    mywire_conn *conn = it_new();
    (void)state;
    assert_int_equal(mywire_query_attributes_supported(conn), 0);
    IT_ERR(conn, mywire_query_attr_int64(conn, "n", 1), MYWIRE_ERROR_STATE, 0, "HY000");
    assert_int_equal(mywire_query_attr_count(conn), 0);
    mywire_conn_free(conn);
    assert_int_equal(mywire_query_attributes_supported(NULL), 0);
    assert_int_equal(mywire_query_attr_int64(NULL, "n", 1), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_query_attr_clear(NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_query_attr_count(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_and_queries_work),
        cmocka_unit_test(test_not_connected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
