/*
 * API misuse and failure paths: NULL handles and pointers, commands on a
 * handle that is not connected or was closed, options after connecting, bad
 * option values and URIs, unreachable servers, a peer that breaks the
 * handshake, timeouts, and the static texts and version.
 */
#include "it_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void test_version_and_errstr(void **state)
{
    (void)state;
    assert_int_equal(mywire_version_number(), MYWIRE_VERSION_NUMBER);
    assert_int_equal(MYWIRE_VERSION_NUMBER, MYWIRE_VERSION_MAJOR * 10000 +
                                                MYWIRE_VERSION_MINOR * 100 +
                                                MYWIRE_VERSION_PATCH);
    assert_non_null(mywire_version());
    assert_string_equal(mywire_version(), MYWIRE_VERSION_STRING);

    const int codes[] = {MYWIRE_OK,
                         MYWIRE_ERROR_SERVER,
                         MYWIRE_ERROR_ARGUMENT,
                         MYWIRE_ERROR_OPTION,
                         MYWIRE_ERROR_URI,
                         MYWIRE_ERROR_NOMEM,
                         MYWIRE_ERROR_CONNECT,
                         MYWIRE_ERROR_TIMEOUT,
                         MYWIRE_ERROR_LOST,
                         MYWIRE_ERROR_PROTOCOL,
                         MYWIRE_ERROR_AUTH,
                         MYWIRE_ERROR_OUT_OF_SYNC,
                         MYWIRE_ERROR_STATE,
                         MYWIRE_ERROR_LIMIT,
                         MYWIRE_ERROR_UNSUPPORTED,
                         MYWIRE_ERROR_INTERNAL,
                         MYWIRE_ERROR_TLS,
                         MYWIRE_ROW,
                         MYWIRE_DONE};
    const size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = mywire_errstr(codes[i]);
        if (s == NULL || s[0] == '\0') {
            fail_msg("mywire_errstr(%d) is %s", codes[i], s ? "empty" : "NULL");
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s, mywire_errstr(codes[j])) == 0) {
                fail_msg("mywire_errstr(%d) == mywire_errstr(%d) == \"%s\"", codes[i],
                         codes[j], s);
            }
        }
    }
    /* Unknown codes still give a text. */
    const int unknown[] = {-1, 17, 99, 102, 1000, -2147483647 - 1, 2147483647};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_non_null(mywire_errstr(unknown[i]));
    }
}

static void test_null_handles(void **state)
{
    (void)state;
    const int A = MYWIRE_ERROR_ARGUMENT;
    assert_int_equal(mywire_conn_new(NULL), A);
    mywire_conn_free(NULL);
    mywire_result_free(NULL);
    mywire_close(NULL);

    assert_int_equal(mywire_set_host(NULL, "h"), A);
    assert_int_equal(mywire_set_port(NULL, 3306), A);
    assert_int_equal(mywire_set_unix_socket(NULL, "/s"), A);
    assert_int_equal(mywire_set_user(NULL, "u"), A);
    assert_int_equal(mywire_set_password(NULL, "p"), A);
    assert_int_equal(mywire_set_database(NULL, "d"), A);
    assert_int_equal(mywire_set_connect_timeout(NULL, 1), A);
    assert_int_equal(mywire_set_read_timeout(NULL, 1), A);
    assert_int_equal(mywire_set_write_timeout(NULL, 1), A);
    assert_int_equal(mywire_set_max_allowed_packet(NULL, 4096), A);
    assert_int_equal(mywire_set_max_result_bytes(NULL, 4096), A);
    assert_int_equal(mywire_set_max_columns(NULL, 10), A);
    assert_int_equal(mywire_set_multi_statements(NULL, 1), A);
    assert_int_equal(mywire_set_charset(NULL, 45), A);
    assert_int_equal(mywire_set_connect_attr(NULL, "k", "v"), A);
    assert_int_equal(mywire_set_option(NULL, "host", "h"), A);
    assert_int_equal(mywire_set_uri(NULL, "mysql://h"), A);
    assert_int_equal(mywire_connect(NULL), A);
    assert_int_equal(mywire_connect_to(NULL, "h", "u", "p", "d", 1, NULL), A);
    assert_int_equal(mywire_connect_uri(NULL, "mysql://h"), A);

    assert_int_equal(mywire_errcode(NULL), A);
    assert_int_equal(mywire_errno(NULL), 0);
    assert_non_null(mywire_errmsg(NULL));
    const char *st = mywire_sqlstate(NULL);
    assert_true(st == NULL || strlen(st) == 5);
    const char *v = mywire_server_version(NULL);
    assert_true(v == NULL || v[0] == '\0');
    assert_int_equal(mywire_thread_id(NULL), 0);
    assert_int_equal(mywire_server_status(NULL), 0);
    const char *plugin = mywire_auth_plugin(NULL);
    assert_true(plugin == NULL || plugin[0] == '\0');
    assert_int_equal(mywire_is_mariadb(NULL), 0);
    assert_int_equal(mywire_socket(NULL), -1);

    assert_int_equal(mywire_ping(NULL), A);
    assert_int_equal(mywire_select_db(NULL, "d"), A);
    assert_int_equal(mywire_reset_connection(NULL), A);
    assert_int_equal(mywire_set_server_multi_statements(NULL, 1), A);
    const char *text = NULL;
    size_t len = 0;
    assert_int_equal(mywire_statistics(NULL, &text, &len), A);
    mywire_result *res = NULL;
    assert_int_equal(mywire_query(NULL, "SELECT 1", 8, MYWIRE_BUFFERED, &res), A);
    assert_null(res);
    assert_int_equal(mywire_more_results(NULL), 0);
    assert_int_equal(mywire_next_result(NULL, MYWIRE_BUFFERED, &res), A);
    assert_null(res);

    assert_int_equal(mywire_column_count(NULL), 0);
    assert_int_equal(mywire_affected_rows(NULL), 0);
    assert_int_equal(mywire_insert_id(NULL), 0);
    assert_int_equal(mywire_warning_count(NULL), 0);
    assert_int_equal(mywire_status_flags(NULL), 0);
    const char *info = mywire_info(NULL);
    assert_true(info == NULL || info[0] == '\0');
    assert_int_equal(mywire_row_count(NULL), 0);
    assert_null(mywire_column_at(NULL, 0));
    assert_int_equal(mywire_fetch(NULL), A);
    assert_int_equal(mywire_seek(NULL, 0), A);
    assert_null(mywire_row(NULL));
    len = 7;
    assert_null(mywire_get(NULL, 0, &len));
    assert_null(mywire_get(NULL, 0, NULL));
    int isnull = mywire_is_null(NULL, 0);
    assert_true(isnull == 0 || isnull == 1);
}

static void test_null_arguments_on_a_live_handle(void **state)
{
    (void)state;
    const int A = MYWIRE_ERROR_ARGUMENT;
    mywire_conn *conn = it_new();
    assert_int_equal(mywire_set_option(conn, NULL, "x"), A);
    assert_int_equal(mywire_set_uri(conn, NULL), A);
    assert_int_equal(mywire_connect_uri(conn, NULL), A);
    assert_int_equal(mywire_set_connect_attr(conn, NULL, "v"), A);
    mywire_conn_free(conn);

    conn = it_connect_tcp();
    mywire_result *res = NULL;
    IT_ERR(conn, mywire_query(conn, NULL, 8, MYWIRE_BUFFERED, &res), A, 0, NULL);
    assert_null(res);
    IT_ERR(conn, mywire_query(conn, "SELECT 1", 8, MYWIRE_BUFFERED, NULL), A, 0, NULL);
    IT_ERR(conn, mywire_query(conn, "SELECT 1", 8, 2, &res), A, 0, NULL);
    IT_ERR(conn, mywire_query(conn, "SELECT 1", 8, -1, &res), A, 0, NULL);
    assert_null(res);
    IT_ERR(conn, mywire_next_result(conn, MYWIRE_BUFFERED, NULL), A, 0, NULL);
    IT_ERR(conn, mywire_select_db(conn, NULL), A, 0, NULL);
    size_t len = 0;
    IT_ERR(conn, mywire_statistics(conn, NULL, &len), A, 0, NULL);

    /* None of that hurt the connection. */
    IT_OK(conn, mywire_ping(conn));
    res = it_query(conn, "SELECT 'ok', NULL", MYWIRE_BUFFERED);
    /* Before the first fetch and past the last column. */
    assert_null(mywire_column_at(res, 2));
    IT_ROW(res);
    assert_null(mywire_get(res, 2, &len));
    assert_null(mywire_get(res, 100000, NULL));
    assert_int_equal(mywire_is_null(res, 2), 1);
    assert_int_equal(mywire_is_null(res, 1), 1);
    assert_int_equal(mywire_is_null(res, 0), 0);
    mywire_result_free(res);
    mywire_conn_free(conn);
}

/* Every command fails with STATE on this handle and leaves no result. */
static void check_commands_give_state(mywire_conn *conn)
{
    const int S = MYWIRE_ERROR_STATE;
    IT_ERR(conn, mywire_ping(conn), S, 0, NULL);
    IT_ERR(conn, mywire_select_db(conn, "mysql"), S, 0, NULL);
    IT_ERR(conn, mywire_reset_connection(conn), S, 0, NULL);
    IT_ERR(conn, mywire_set_server_multi_statements(conn, 1), S, 0, NULL);
    const char *text = NULL;
    size_t len = 0;
    IT_ERR(conn, mywire_statistics(conn, &text, &len), S, 0, NULL);
    mywire_result *res = NULL;
    IT_ERR(conn, mywire_query(conn, "SELECT 1", 8, MYWIRE_BUFFERED, &res), S, 0, NULL);
    assert_null(res);
    IT_ERR(conn, mywire_query(conn, "SELECT 1", 8, MYWIRE_STREAMING, &res), S, 0, NULL);
    assert_null(res);
    IT_ERR(conn, mywire_next_result(conn, MYWIRE_BUFFERED, &res), S, 0, NULL);
    assert_null(res);
    assert_int_equal(mywire_more_results(conn), 0);
    assert_int_equal(mywire_socket(conn), -1);
}

static void test_commands_need_a_connection(void **state)
{
    (void)state;
    /* Never connected. */
    mywire_conn *conn = it_new();
    check_commands_give_state(conn);
    mywire_close(conn); /* closing a handle that never connected is harmless */
    mywire_conn_free(conn);

    /* Closed. */
    conn = it_connect_tcp();
    const char *version_before = mywire_server_version(conn);
    assert_true(strlen(version_before) > 0);
    mywire_close(conn);
    check_commands_give_state(conn);
    mywire_close(conn);
    check_commands_give_state(conn);
    /* Inspection still works. */
    assert_non_null(mywire_server_version(conn));
    assert_non_null(mywire_errmsg(conn));
    mywire_conn_free(conn);
}

static void test_closed_handle_stays_closed(void **state)
{
    (void)state;
    /* "The handle can then only be freed or inspected": no reconnecting and
     * no option changes after mywire_close. */
    mywire_conn *conn = it_connect_tcp();
    mywire_close(conn);
    IT_ERR(conn, mywire_set_host(conn, "localhost"), MYWIRE_ERROR_STATE, 0, NULL);
    IT_ERR(conn, mywire_set_read_timeout(conn, 100), MYWIRE_ERROR_STATE, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "port", "3306"), MYWIRE_ERROR_STATE, 0, NULL);
    IT_ERR(conn, mywire_set_uri(conn, "mysql://localhost"), MYWIRE_ERROR_STATE, 0, NULL);
    IT_ERR(conn, mywire_connect(conn), MYWIRE_ERROR_STATE, 0, NULL);
    assert_int_equal(mywire_socket(conn), -1);
    mywire_conn_free(conn);
}

static void test_options_after_connect(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    const int S = MYWIRE_ERROR_STATE;
    mywire_conn *conn = it_connect_tcp();
    IT_ERR(conn, mywire_set_host(conn, "localhost"), S, 0, NULL);
    IT_ERR(conn, mywire_set_port(conn, 3306), S, 0, NULL);
    IT_ERR(conn, mywire_set_unix_socket(conn, "/tmp/x.sock"), S, 0, NULL);
    IT_ERR(conn, mywire_set_user(conn, "u"), S, 0, NULL);
    IT_ERR(conn, mywire_set_password(conn, "p"), S, 0, NULL);
    IT_ERR(conn, mywire_set_database(conn, "d"), S, 0, NULL);
    IT_ERR(conn, mywire_set_connect_timeout(conn, 100), S, 0, NULL);
    IT_ERR(conn, mywire_set_read_timeout(conn, 100), S, 0, NULL);
    IT_ERR(conn, mywire_set_write_timeout(conn, 100), S, 0, NULL);
    IT_ERR(conn, mywire_set_max_allowed_packet(conn, 4096), S, 0, NULL);
    IT_ERR(conn, mywire_set_max_result_bytes(conn, 4096), S, 0, NULL);
    IT_ERR(conn, mywire_set_max_columns(conn, 10), S, 0, NULL);
    IT_ERR(conn, mywire_set_multi_statements(conn, 1), S, 0, NULL);
    IT_ERR(conn, mywire_set_charset(conn, 8), S, 0, NULL);
    IT_ERR(conn, mywire_set_connect_attr(conn, "k", "v"), S, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "read_timeout", "100"), S, 0, NULL);
    IT_ERR(conn, mywire_set_uri(conn, "mysql://localhost"), S, 0, NULL);
    IT_ERR(conn, mywire_connect(conn), S, 0, NULL);
    IT_ERR(conn, mywire_connect_to(conn, env->host, env->user, env->password, NULL, env->port,
                                   NULL),
           S, 0, NULL);
    IT_ERR(conn, mywire_connect_uri(conn, "mysql://localhost"), S, 0, NULL);

    /* The refused calls changed nothing: the session is intact. */
    IT_OK(conn, mywire_ping(conn));
    char *db = it_scalar(conn, "SELECT DATABASE()");
    assert_string_equal(db, env->db);
    free(db);
    mywire_result *res = NULL;
    static const char multi[] = "SELECT 1; SELECT 2";
    IT_ERR(conn, mywire_query(conn, multi, strlen(multi), MYWIRE_BUFFERED, &res),
           MYWIRE_ERROR_SERVER, 1064, "42000");
    mywire_conn_free(conn);
}

static void test_bad_option_values(void **state)
{
    (void)state;
    const int O = MYWIRE_ERROR_OPTION;
    const it_env *env = it_get_env();
    mywire_conn *conn = it_new();

    IT_ERR(conn, mywire_set_port(conn, 65536), O, 0, NULL);
    IT_ERR(conn, mywire_set_port(conn, 1u << 31), O, 0, NULL);
    IT_ERR(conn, mywire_set_max_allowed_packet(conn, 1023), O, 0, NULL);
    IT_ERR(conn, mywire_set_max_allowed_packet(conn, (UINT64_C(1) << 30) + 1), O, 0, NULL);
    IT_ERR(conn, mywire_set_max_allowed_packet(conn, UINT64_MAX), O, 0, NULL);
    IT_ERR(conn, mywire_set_max_columns(conn, 0), O, 0, NULL);
    IT_ERR(conn, mywire_set_max_columns(conn, 65536), O, 0, NULL);
    IT_ERR(conn, mywire_set_charset(conn, 256), O, 0, NULL);

    IT_ERR(conn, mywire_set_option(conn, "no_such_option", "1"), O, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "", "1"), O, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "port", "abc"), O, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "port", "70000"), O, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "port", "-1"), O, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "port", "33 06"), O, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "port", ""), O, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "connect_timeout", "-5"), O, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "read_timeout", "99999999999999999999999"), O, 0,
           NULL);
    IT_ERR(conn, mywire_set_option(conn, "max_allowed_packet", "100"), O, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "max_columns", "0"), O, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "multi_statements", "maybe"), O, 0, NULL);

    /* The limits themselves are accepted. */
    IT_OK(conn, mywire_set_port(conn, 65535));
    IT_OK(conn, mywire_set_max_allowed_packet(conn, 1024));
    IT_OK(conn, mywire_set_max_allowed_packet(conn, UINT64_C(1) << 30));
    IT_OK(conn, mywire_set_max_columns(conn, 1));
    IT_OK(conn, mywire_set_max_columns(conn, 65535));
    IT_OK(conn, mywire_set_max_result_bytes(conn, 0));
    IT_OK(conn, mywire_set_max_result_bytes(conn, UINT64_MAX));
    IT_OK(conn, mywire_set_option(conn, "multi_statements", "0"));

    /* A refused value leaves the previous one in place. */
    IT_OK(conn, mywire_set_port(conn, env->port));
    IT_ERR(conn, mywire_set_port(conn, 70000), O, 0, NULL);
    IT_ERR(conn, mywire_set_option(conn, "port", "x"), O, 0, NULL);
    IT_OK(conn, mywire_set_max_allowed_packet(conn, 64 * 1024 * 1024));
    IT_ERR(conn, mywire_set_max_allowed_packet(conn, 10), O, 0, NULL);
    IT_OK(conn, mywire_connect_to(conn, env->host, env->user, env->password, NULL, 0, NULL));
    /* A 2 MB value passes the kept 64 MiB limit (not 10 bytes, not 1 KiB). */
    mywire_result *res = it_query(conn, "SELECT REPEAT('a', 2000000)", MYWIRE_BUFFERED);
    IT_ROW(res);
    size_t len = 0;
    assert_non_null(mywire_get(res, 0, &len));
    assert_int_equal(len, 2000000);
    mywire_result_free(res);
    mywire_conn_free(conn);
}

static void test_bad_uris(void **state)
{
    (void)state;
    const char *bad[] = {
        "mysql://u:p@h:3306/db?bogus=1",
        "mysql://u:p@h/db?host=x&nope=",
        "mysql://u:p@h:99999/db",
        "mysql://u:p@h:abc/db",
        "mysql://u:%zz@h/db",
        "mysql://u:%4@h/db",
        "mysql://u:p@h/d%b",
        "http://u:p@h/db",
        "mysql:/h/db",
        "not a uri",
        "mysql://[::1/db",
        "mysql://h/db?port=abc",
        "mysql://h/db?max_columns=0",
        "mysql://h/db?connect_timeout=-1",
        "mysql://h/db?max_allowed_packet=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mywire_conn *conn = it_new();
        int rc = mywire_set_uri(conn, bad[i]);
        if (rc != MYWIRE_ERROR_URI) {
            fail_msg("mywire_set_uri(\"%s\") -> %d (%s), expected MYWIRE_ERROR_URI", bad[i], rc,
                     mywire_errstr(rc));
        }
        IT_ERR(conn, rc, MYWIRE_ERROR_URI, 0, NULL);
        /* The message is mywire's own: it does not echo a password. */
        assert_null(strstr(mywire_errmsg(conn), "u:p@"));
        rc = mywire_connect_uri(conn, bad[i]);
        IT_ERR(conn, rc, MYWIRE_ERROR_URI, 0, NULL);
        mywire_conn_free(conn);
    }

    const char *good[] = {
        "mysql://",
        "mysql://h",
        "mysql://h:3307",
        "mysql://u@h/db",
        "mysql://u:@h/db",
        "mysql://[::1]:3307/db",
        "mysql://h/db?connect_timeout=5&read_timeout=0&multi_statements=1",
        "mysql:///db?socket=%2Ftmp%2Fmysql.sock",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        mywire_conn *conn = it_new();
        int rc = mywire_set_uri(conn, good[i]);
        if (rc != MYWIRE_OK) {
            fail_msg("mywire_set_uri(\"%s\") -> %d (%s): %s", good[i], rc, mywire_errstr(rc),
                     mywire_errmsg(conn));
        }
        mywire_conn_free(conn);
    }
}

static void test_unreachable_servers(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    mywire_conn *conn = it_new();
    int rc = mywire_connect_to(conn, "127.0.0.1", env->user, env->password, NULL, it_closed_port(),
                               NULL);
    IT_ERR(conn, rc, MYWIRE_ERROR_CONNECT, 0, NULL);
    assert_int_equal(mywire_socket(conn), -1);
    IT_ERR(conn, mywire_ping(conn), MYWIRE_ERROR_STATE, 0, NULL);
    mywire_conn_free(conn);

    conn = it_new();
    rc = mywire_connect_to(conn, NULL, env->user, env->password, NULL, 0,
                           "/nonexistent-dir/mywire-it.sock");
    IT_ERR(conn, rc, MYWIRE_ERROR_CONNECT, 0, NULL);
    mywire_conn_free(conn);

    conn = it_new();
    IT_OK(conn, mywire_set_connect_timeout(conn, 5000));
    rc = mywire_connect_to(conn, "host.invalid", env->user, env->password, NULL, 3306, NULL);
    IT_ERR(conn, rc, MYWIRE_ERROR_CONNECT, 0, NULL);
    mywire_conn_free(conn);
}

/* A one-shot fake server on a loopback port: accepts one connection (if
 * `accept_it`), writes `reply`, then waits for the client to hang up. */
struct fake_server {
    int listen_fd;
    unsigned port;
    int accept_it;
    const unsigned char *reply;
    size_t reply_len;
    pthread_t thread;
};

static void *fake_server_main(void *p)
{
    struct fake_server *fs = p;
    struct pollfd pfd = {fs->listen_fd, POLLIN, 0};
    if (poll(&pfd, 1, 10000) <= 0) {
        return NULL;
    }
    int fd = accept(fs->listen_fd, NULL, NULL);
    if (fd < 0) {
        return NULL;
    }
    if (fs->reply_len > 0) {
        ssize_t w = write(fd, fs->reply, fs->reply_len);
        (void)w;
    }
    if (fs->reply != NULL) {
        /* Keep the socket open until the client closes it (or 10 s pass), so
         * the client judges the bytes, not a hang-up. */
        char buf[512];
        struct pollfd cfd = {fd, POLLIN, 0};
        while (poll(&cfd, 1, 10000) > 0 && read(fd, buf, sizeof buf) > 0) {
        }
    }
    close(fd);
    return NULL;
}

static void fake_server_start(struct fake_server *fs, int accept_it, const unsigned char *reply,
                              size_t reply_len)
{
    fs->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fs->listen_fd >= 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fs->listen_fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fs->listen_fd, 4), 0);
    socklen_t alen = sizeof addr;
    assert_int_equal(getsockname(fs->listen_fd, (struct sockaddr *)&addr, &alen), 0);
    fs->port = ntohs(addr.sin_port);
    fs->accept_it = accept_it;
    fs->reply = reply;
    fs->reply_len = reply_len;
    if (accept_it) {
        assert_int_equal(pthread_create(&fs->thread, NULL, fake_server_main, fs), 0);
    }
}

static void fake_server_stop(struct fake_server *fs)
{
    if (fs->accept_it) {
        pthread_join(fs->thread, NULL);
    }
    close(fs->listen_fd);
}

static int connect_to_fake(mywire_conn *conn, unsigned port)
{
    return mywire_connect_to(conn, "127.0.0.1", "u", "p", NULL, port, NULL);
}

static void test_connect_timeout(void **state)
{
    (void)state;
    /* Listening but never accepting: TCP connects, no greeting ever comes. */
    struct fake_server fs;
    fake_server_start(&fs, 0, NULL, 0);
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_connect_timeout(conn, 300));
    double t0 = it_now();
    int rc = connect_to_fake(conn, fs.port);
    double elapsed = it_now() - t0;
    IT_ERR(conn, rc, MYWIRE_ERROR_TIMEOUT, 0, NULL);
    if (elapsed < 0.25 || elapsed > 3.0) {
        fail_msg("a 300 ms connect timeout fired after %.3f s", elapsed);
    }
    IT_ERR(conn, mywire_ping(conn), MYWIRE_ERROR_STATE, 0, NULL);
    mywire_conn_free(conn);
    fake_server_stop(&fs);
}

static void test_peer_breaks_handshake(void **state)
{
    (void)state;
    /* Accepts and hangs up at once. */
    struct fake_server fs;
    fake_server_start(&fs, 1, NULL, 0);
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_connect_timeout(conn, 5000));
    int rc = connect_to_fake(conn, fs.port);
    IT_ERR(conn, rc, MYWIRE_ERROR_LOST, 0, NULL);
    mywire_conn_free(conn);
    fake_server_stop(&fs);

    /* A framed greeting that is truncated inside the version string. */
    static const unsigned char truncated[] = {0x05, 0x00, 0x00, 0x00, 0x0A, '1', '1', '.', '0'};
    fake_server_start(&fs, 1, truncated, sizeof truncated);
    conn = it_new();
    IT_OK(conn, mywire_set_connect_timeout(conn, 5000));
    rc = connect_to_fake(conn, fs.port);
    IT_ERR(conn, rc, MYWIRE_ERROR_PROTOCOL, 0, NULL);
    mywire_conn_free(conn);
    fake_server_stop(&fs);

    /* A greeting with a wrong sequence number. */
    static const unsigned char wrong_seq[] = {0x01, 0x00, 0x00, 0x07, 0x0A};
    fake_server_start(&fs, 1, wrong_seq, sizeof wrong_seq);
    conn = it_new();
    IT_OK(conn, mywire_set_connect_timeout(conn, 5000));
    rc = connect_to_fake(conn, fs.port);
    IT_ERR(conn, rc, MYWIRE_ERROR_PROTOCOL, 0, NULL);
    mywire_conn_free(conn);
    fake_server_stop(&fs);

    /* Not MySQL at all: an HTTP server. The first "header" announces a 5 MB
     * packet that never completes; the deadline ends the wait. */
    static const unsigned char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    fake_server_start(&fs, 1, http, sizeof http - 1);
    conn = it_new();
    IT_OK(conn, mywire_set_connect_timeout(conn, 500));
    rc = connect_to_fake(conn, fs.port);
    if (rc != MYWIRE_ERROR_PROTOCOL && rc != MYWIRE_ERROR_TIMEOUT) {
        fail_msg("an HTTP greeting -> %d (%s), expected PROTOCOL or TIMEOUT", rc,
                 mywire_errstr(rc));
    }
    mywire_conn_free(conn);
    fake_server_stop(&fs);

    /* The server refuses with an ERR packet instead of a greeting (as for
     * "Too many connections"): a server error with its number. */
    static const unsigned char err[] = {0x17, 0x00, 0x00, 0x00, 0xFF, 0x10, 0x04, 'T', 'o',
                                        'o',  ' ',  'm',  'a',  'n',  'y',  ' ',  'c', 'o',
                                        'n',  'n',  'e',  'c',  't',  'i',  'o',  'n', 's'};
    fake_server_start(&fs, 1, err, sizeof err);
    conn = it_new();
    IT_OK(conn, mywire_set_connect_timeout(conn, 5000));
    rc = connect_to_fake(conn, fs.port);
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1040, NULL);
    assert_non_null(strstr(mywire_errmsg(conn), "Too many connections"));
    mywire_conn_free(conn);
    fake_server_stop(&fs);
}

static void test_read_timeout(void **state)
{
    (void)state;
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_read_timeout(conn, 200));
    it_connect_configured_tcp(conn);
    /* Quick queries are unaffected. */
    mywire_result *res = it_query(conn, "SELECT SLEEP(0.01)", MYWIRE_BUFFERED);
    mywire_result_free(res);

    double t0 = it_now();
    res = NULL;
    int rc = mywire_query(conn, "SELECT SLEEP(2)", 15, MYWIRE_BUFFERED, &res);
    double elapsed = it_now() - t0;
    IT_ERR(conn, rc, MYWIRE_ERROR_TIMEOUT, 0, NULL);
    assert_null(res);
    if (elapsed < 0.15 || elapsed > 1.5) {
        fail_msg("a 200 ms read timeout fired after %.3f s", elapsed);
    }
    /* The connection is unusable afterwards. */
    IT_ERR(conn, mywire_ping(conn), MYWIRE_ERROR_STATE, 0, NULL);
    IT_ERR(conn, mywire_query(conn, "SELECT 1", 8, MYWIRE_BUFFERED, &res), MYWIRE_ERROR_STATE,
           0, NULL);
    mywire_conn_free(conn);

    /* In a streaming fetch, too: the rows stop coming. */
    conn = it_new();
    IT_OK(conn, mywire_set_read_timeout(conn, 200));
    it_connect_configured_tcp(conn);
    /* The server buffers output, so the deadline may pass while waiting for
     * the metadata or for a row; rows 3..5 never arrive in time. */
    static const char slow[] = "SELECT seq, IF(seq = 3, SLEEP(2), 0) FROM seq_1_to_5";
    res = NULL;
    rc = mywire_query(conn, slow, strlen(slow), MYWIRE_STREAMING, &res);
    if (rc == MYWIRE_OK) {
        while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
            assert_true(mywire_row_count(res) <= 2);
        }
        IT_ERR(conn, rc, MYWIRE_ERROR_TIMEOUT, 0, NULL);
        rc = mywire_fetch(res);
        assert_true(rc != MYWIRE_ROW && rc != MYWIRE_DONE);
        mywire_result_free(res);
    } else {
        IT_ERR(conn, rc, MYWIRE_ERROR_TIMEOUT, 0, NULL);
        assert_null(res);
    }
    mywire_conn_free(conn);
}

static void test_results_outlive_their_connection(void **state)
{
    (void)state;
    /* Buffered, read or not. */
    mywire_conn *conn = it_connect_tcp();
    mywire_result *a = it_query(conn, "SELECT seq FROM seq_1_to_10", MYWIRE_BUFFERED);
    mywire_result *b = it_query(conn, "SELECT 'b'", MYWIRE_BUFFERED);
    IT_ROW(b);
    mywire_conn_free(conn);
    mywire_result_free(a);
    mywire_result_free(b);

    /* Streaming, unread: freeing the connection does not drain through a
     * freed handle. */
    conn = it_connect_tcp();
    mywire_result *s = it_query(conn, "SELECT seq FROM seq_1_to_100000", MYWIRE_STREAMING);
    IT_ROW(s);
    mywire_conn_free(conn);
    mywire_result_free(s);

    /* Streaming, unread, connection closed: the rest cannot be read. */
    conn = it_connect_tcp();
    s = it_query(conn, "SELECT seq FROM seq_1_to_100000", MYWIRE_STREAMING);
    IT_ROW(s);
    mywire_close(conn);
    int rc = mywire_fetch(s);
    if (rc == MYWIRE_ROW || rc == MYWIRE_DONE) {
        fail_msg("fetch on a result of a closed connection -> %d (%s)", rc, mywire_errstr(rc));
    }
    mywire_result_free(s);
    mywire_conn_free(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_errstr),
        cmocka_unit_test(test_null_handles),
        cmocka_unit_test(test_null_arguments_on_a_live_handle),
        cmocka_unit_test(test_commands_need_a_connection),
        cmocka_unit_test(test_closed_handle_stays_closed),
        cmocka_unit_test(test_options_after_connect),
        cmocka_unit_test(test_bad_option_values),
        cmocka_unit_test(test_bad_uris),
        cmocka_unit_test(test_unreachable_servers),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_peer_breaks_handshake),
        cmocka_unit_test(test_read_timeout),
        cmocka_unit_test(test_results_outlive_their_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
