/*
 * test_contract.c - the header's contract about failures (0.3.0): whether
 * the connection survives a code (mywire_is_fatal, mywire_is_connected),
 * where a client error happened (mywire_client_error), whether the failing
 * command had been sent (mywire_error_sent), and mywire_connection_id.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "it_common.h"

/* A failure as the header promises it: the code's fatality and the handle's
 * state agree (for a connected handle), and the error details are the
 * expected ones. */
static void check_failure(mywire_conn *conn, int rc, int code, int client_error, int sent,
                          const char *what)
{
    if (rc != code)
        fail_msg("%s: got %d (%s: %s), expected %d (%s)", what, rc, mywire_errstr(rc),
                 mywire_errmsg(conn), code, mywire_errstr(code));
    assert_int_equal(mywire_errcode(conn), code);
    if (mywire_client_error(conn) != client_error)
        fail_msg("%s: client error %d, expected %d (%s)", what, mywire_client_error(conn),
                 client_error, mywire_errmsg(conn));
    if (mywire_error_sent(conn) != sent)
        fail_msg("%s: error_sent %d, expected %d", what, mywire_error_sent(conn), sent);
    if (mywire_is_connected(conn) != !mywire_is_fatal(code))
        fail_msg("%s: is_connected %d after code %d whose is_fatal is %d", what,
                 mywire_is_connected(conn), code, mywire_is_fatal(code));
}

static void test_refused(void **state)
{
    (void)state;
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_host(conn, "127.0.0.1"));
    IT_OK(conn, mywire_set_port(conn, it_closed_port()));
    int rc = mywire_connect(conn);
    check_failure(conn, rc, MYWIRE_ERROR_CONNECT, MYWIRE_CLIENT_ERROR_REFUSED, 0, "refused");
    assert_int_equal(mywire_is_fatal(rc), 1);
    assert_int_equal(mywire_connection_id(conn), 0);
    mywire_conn_free(conn);
}

/* A server that accepts the TCP connection but never greets: the login's
 * read runs out of connect_timeout. Nothing of ours was sent. */
static void test_connect_timeout(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);

    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_host(conn, "127.0.0.1"));
    IT_OK(conn, mywire_set_port(conn, ntohs(a.sin_port)));
    IT_OK(conn, mywire_set_connect_timeout(conn, 300));
    IT_OK(conn, mywire_set_read_timeout(conn, 60000)); /* not the one that applies */
    double t0 = it_now();
    int rc = mywire_connect(conn);
    double took = it_now() - t0;
    check_failure(conn, rc, MYWIRE_ERROR_TIMEOUT, MYWIRE_CLIENT_ERROR_CONNECT_TIMEOUT, 0,
                  "silent server");
    assert_true(took >= 0.25 && took < 5.0);
    mywire_conn_free(conn);
    close(fd);
}

static void test_connection_id(void **state)
{
    (void)state;
    mywire_conn *conn = it_connect_tcp();
    assert_int_equal(mywire_is_connected(conn), 1);
    uint64_t id = mywire_connection_id(conn);
    assert_true(id != 0);
    assert_int_equal(id, (uint64_t)it_scalar_ll(conn, "SELECT CONNECTION_ID()"));
    assert_int_equal(id, (uint64_t)mywire_thread_id(conn));
    mywire_close(conn);
    assert_int_equal(mywire_is_connected(conn), 0);
    assert_int_equal(mywire_connection_id(conn), 0);
    mywire_conn_free(conn);

    assert_int_equal(mywire_is_connected(NULL), 0);
    assert_int_equal(mywire_connection_id(NULL), 0);
    assert_int_equal(mywire_client_error(NULL), MYWIRE_CLIENT_ERROR_OTHER);
    assert_int_equal(mywire_error_sent(NULL), 0);
}

/* KILL the session from a second connection; the next query is written (the
 * kernel accepts it) and its reply is lost. */
static void test_killed_session(void **state)
{
    (void)state;
    mywire_conn *conn = it_connect_tcp();
    mywire_conn *killer = it_connect_tcp();
    char *sql = it_format("KILL %llu", (unsigned long long)mywire_connection_id(conn));
    it_exec(killer, sql);
    free(sql);
    mywire_conn_free(killer);
    {
        struct timespec pause = {0, 100 * 1000 * 1000}; /* the server closes the socket */
        nanosleep(&pause, NULL);
    }

    mywire_result *res = NULL;
    int rc = mywire_query(conn, "SELECT 1", 8, MYWIRE_BUFFERED, &res);
    assert_null(res);
    if (rc == MYWIRE_ERROR_SERVER) {
        /* MariaDB may say why before it closes (1927 connection killed):
         * a server error leaves the handle as it was, but the next command
         * finds the socket closed. */
        assert_int_equal(mywire_client_error(conn), MYWIRE_CLIENT_ERROR_NONE);
        rc = mywire_query(conn, "SELECT 1", 8, MYWIRE_BUFFERED, &res);
        assert_null(res);
    }
    check_failure(conn, rc, MYWIRE_ERROR_LOST, MYWIRE_CLIENT_ERROR_LOST_READING, 1, "after KILL");
    /* The handle may connect again; the new session has a new id. */
    it_connect_configured_tcp(conn);
    assert_int_equal(mywire_is_connected(conn), 1);
    assert_int_equal(mywire_client_error(conn), MYWIRE_CLIENT_ERROR_NONE);
    assert_int_equal(mywire_error_sent(conn), 0);
    mywire_conn_free(conn);
}

static void test_read_timeout(void **state)
{
    (void)state;
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_read_timeout(conn, 200));
    it_connect_configured_tcp(conn);
    mywire_result *res = NULL;
    int rc = mywire_query(conn, "SELECT SLEEP(3)", 15, MYWIRE_BUFFERED, &res);
    check_failure(conn, rc, MYWIRE_ERROR_TIMEOUT, MYWIRE_CLIENT_ERROR_READ_TIMEOUT, 1, "SLEEP(3)");
    mywire_conn_free(conn);
}

/* Errors the connection survives. */
static void test_recoverable(void **state)
{
    (void)state;
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_max_result_bytes(conn, 64 * 1024));
    it_connect_configured_tcp(conn);
    mywire_result *res = NULL;

    /* A server error: the query was sent. */
    int rc = mywire_query(conn, "SELECT * FROM no_such_table_here", 32, MYWIRE_BUFFERED, &res);
    check_failure(conn, rc, MYWIRE_ERROR_SERVER, MYWIRE_CLIENT_ERROR_NONE, 1, "no such table");
    assert_int_equal(mywire_errno(conn), 1146);

    /* Over max_result_bytes: sent, read to its end, connection usable. */
    const char *big = "SELECT REPEAT('x', 1000) FROM seq_1_to_1000";
    rc = mywire_query(conn, big, strlen(big), MYWIRE_BUFFERED, &res);
    check_failure(conn, rc, MYWIRE_ERROR_RESULT_TOO_LARGE, MYWIRE_CLIENT_ERROR_OTHER, 1,
                  "max_result_bytes");
    IT_OK(conn, mywire_ping(conn));
    assert_int_equal(mywire_error_sent(conn), 0); /* success */

    /* Out of sync: nothing was sent. */
    res = it_query(conn, "SELECT 1 UNION SELECT 2", MYWIRE_STREAMING);
    rc = mywire_ping(conn);
    check_failure(conn, rc, MYWIRE_ERROR_OUT_OF_SYNC, MYWIRE_CLIENT_ERROR_OTHER, 0, "ping while streaming");
    mywire_result_free(res);
    IT_OK(conn, mywire_ping(conn));

    /* An invalid argument: nothing was sent, even right after a sent one. */
    rc = mywire_query(conn, "SELECT * FROM no_such_table_here", 32, MYWIRE_BUFFERED, &res);
    assert_int_equal(mywire_error_sent(conn), 1);
    rc = mywire_select_db(conn, "");
    check_failure(conn, rc, MYWIRE_ERROR_ARGUMENT, MYWIRE_CLIENT_ERROR_OTHER, 0, "empty database");
    mywire_conn_free(conn);
}

/* LIMIT always closes the connection (max_result_bytes has its own code). */
static void test_limit_is_fatal(void **state)
{
    (void)state;
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_max_columns(conn, 2));
    it_connect_configured_tcp(conn);
    mywire_result *res = NULL;
    int rc = mywire_query(conn, "SELECT 1, 2, 3", 14, MYWIRE_BUFFERED, &res);
    check_failure(conn, rc, MYWIRE_ERROR_LIMIT, MYWIRE_CLIENT_ERROR_OTHER, 1, "max_columns");
    rc = mywire_ping(conn);
    assert_int_equal(rc, MYWIRE_ERROR_STATE);
    assert_int_equal(mywire_client_error(conn), MYWIRE_CLIENT_ERROR_OTHER);
    assert_int_equal(mywire_error_sent(conn), 0);
    assert_int_equal(mywire_is_connected(conn), 0);
    mywire_conn_free(conn);
}

/* mywire_is_fatal is the header's table. */
static void test_is_fatal_table(void **state)
{
    (void)state;
    static const int survives[] = {MYWIRE_OK, MYWIRE_ERROR_SERVER, MYWIRE_ERROR_ARGUMENT,
                                   MYWIRE_ERROR_OPTION, MYWIRE_ERROR_URI, MYWIRE_ERROR_OUT_OF_SYNC,
                                   MYWIRE_ERROR_STATE, MYWIRE_ERROR_CANCELLED,
                                   MYWIRE_ERROR_RESULT_TOO_LARGE, MYWIRE_ROW, MYWIRE_DONE,
                                   MYWIRE_WAIT_READ, MYWIRE_WAIT_WRITE, -1, 19, 1000};
    static const int closes[] = {MYWIRE_ERROR_NOMEM, MYWIRE_ERROR_CONNECT, MYWIRE_ERROR_TIMEOUT,
                                 MYWIRE_ERROR_LOST, MYWIRE_ERROR_PROTOCOL, MYWIRE_ERROR_AUTH,
                                 MYWIRE_ERROR_LIMIT, MYWIRE_ERROR_UNSUPPORTED,
                                 MYWIRE_ERROR_INTERNAL, MYWIRE_ERROR_TLS};
    size_t i;
    for (i = 0; i < sizeof survives / sizeof survives[0]; ++i)
        assert_int_equal(mywire_is_fatal(survives[i]), 0);
    for (i = 0; i < sizeof closes / sizeof closes[0]; ++i)
        assert_int_equal(mywire_is_fatal(closes[i]), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_fatal_table),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_connection_id),
        cmocka_unit_test(test_killed_session),
        cmocka_unit_test(test_read_timeout),
        cmocka_unit_test(test_recoverable),
        cmocka_unit_test(test_limit_is_fatal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
