/*
 * Connecting and authenticating against a real MariaDB: TCP and unix socket,
 * mywire_connect_to, setters, set_option and URIs, mysql_native_password and
 * ed25519 (with and without a password), and the login errors.
 */
#include "it_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The transport the server sees: "localhost" for a unix socket, "host:port"
 * for TCP. */
static char *peer_host(mywire_conn *conn)
{
    return it_scalar(conn, "SELECT HOST FROM information_schema.PROCESSLIST "
                           "WHERE ID = CONNECTION_ID()");
}

static void check_connected_session(mywire_conn *conn, const char *user, const char *db,
                                    const char *plugin, int over_socket)
{
    assert_int_equal(mywire_errcode(conn), MYWIRE_OK);
    assert_string_equal(mywire_sqlstate(conn), "00000");
    assert_string_equal(mywire_errmsg(conn), "");

    const char *version = mywire_server_version(conn);
    assert_non_null(version);
    assert_true(strlen(version) > 0);
    assert_non_null(strstr(version, "MariaDB"));
    assert_int_equal(mywire_is_mariadb(conn), 1);
    assert_string_equal(mywire_auth_plugin(conn), plugin);
    assert_true(mywire_socket(conn) >= 0);
    assert_true((mywire_server_status(conn) & MYWIRE_STATUS_AUTOCOMMIT) != 0);

    /* The handshake's thread id is the server's CONNECTION_ID(). */
    long long id = it_scalar_ll(conn, "SELECT CONNECTION_ID()");
    assert_true(id > 0);
    assert_int_equal((unsigned long)id, mywire_thread_id(conn));

    /* The version string is what the server reports as @@version. */
    char *v = it_scalar(conn, "SELECT @@version");
    assert_string_equal(v, version);
    free(v);

    char *cur = it_scalar(conn, "SELECT CURRENT_USER()");
    size_t ulen = strlen(user);
    if (strncmp(cur, user, ulen) != 0 || cur[ulen] != '@') {
        fail_msg("CURRENT_USER() is \"%s\", expected %s@...", cur, user);
    }
    free(cur);

    if (db != NULL) {
        char *d = it_scalar(conn, "SELECT DATABASE()");
        assert_string_equal(d, db);
        free(d);
    }

    char *host = peer_host(conn);
    if (over_socket) {
        assert_string_equal(host, "localhost");
    } else if (strchr(host, ':') == NULL) {
        fail_msg("expected a TCP peer (\"host:port\"), the server sees \"%s\"", host);
    }
    free(host);
}

static void test_unconnected_status(void **state)
{
    (void)state;
    mywire_conn *conn = it_new();
    assert_string_equal(mywire_server_version(conn), "");
    assert_string_equal(mywire_auth_plugin(conn), "");
    assert_int_equal(mywire_is_mariadb(conn), 0);
    assert_int_equal(mywire_socket(conn), -1);
    assert_int_equal(mywire_errcode(conn), MYWIRE_OK);
    assert_string_equal(mywire_errmsg(conn), "");
    mywire_conn_free(conn);
}

static void test_connect_tcp(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    mywire_conn *conn = it_connect_tcp();
    check_connected_session(conn, env->user, env->db, "mysql_native_password", 0);
    mywire_conn_free(conn);
}

static void test_connect_socket(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    mywire_conn *conn = it_connect_socket();
    check_connected_session(conn, env->user, env->db, "mysql_native_password", 1);
    mywire_conn_free(conn);
}

static void test_connect_with_setters(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_host(conn, env->host));
    IT_OK(conn, mywire_set_port(conn, env->port));
    IT_OK(conn, mywire_set_user(conn, env->user));
    IT_OK(conn, mywire_set_password(conn, env->password));
    IT_OK(conn, mywire_set_database(conn, env->db));
    IT_OK(conn, mywire_set_connect_timeout(conn, 5000));
    IT_OK(conn, mywire_set_read_timeout(conn, 60000));
    IT_OK(conn, mywire_set_write_timeout(conn, 60000));
    IT_OK(conn, mywire_set_connect_attr(conn, "it_attr", "integration"));
    IT_OK(conn, mywire_connect(conn));
    check_connected_session(conn, env->user, env->db, "mysql_native_password", 0);
    mywire_conn_free(conn);

    /* A socket set by setter wins over host and port. */
    conn = it_new();
    IT_OK(conn, mywire_set_host(conn, "host.invalid"));
    IT_OK(conn, mywire_set_port(conn, 1));
    IT_OK(conn, mywire_set_unix_socket(conn, env->socket));
    IT_OK(conn, mywire_set_user(conn, env->user));
    IT_OK(conn, mywire_set_password(conn, env->password));
    IT_OK(conn, mywire_connect(conn));
    check_connected_session(conn, env->user, NULL, "mysql_native_password", 1);
    mywire_conn_free(conn);

    /* NULL clears a string option: the socket cleared, TCP is used. */
    conn = it_new();
    IT_OK(conn, mywire_set_unix_socket(conn, "/nonexistent/mywire.sock"));
    IT_OK(conn, mywire_set_unix_socket(conn, NULL));
    IT_OK(conn, mywire_set_database(conn, "no_such_database_xyz"));
    IT_OK(conn, mywire_set_database(conn, NULL));
    IT_OK(conn, mywire_set_host(conn, env->host));
    IT_OK(conn, mywire_set_port(conn, env->port));
    IT_OK(conn, mywire_set_user(conn, env->user));
    IT_OK(conn, mywire_set_password(conn, env->password));
    IT_OK(conn, mywire_connect(conn));
    mywire_result *res = it_query(conn, "SELECT DATABASE()", MYWIRE_BUFFERED);
    IT_ROW(res);
    assert_int_equal(mywire_is_null(res, 0), 1);
    mywire_result_free(res);
    check_connected_session(conn, env->user, NULL, "mysql_native_password", 0);
    mywire_conn_free(conn);
}

static void test_connect_with_set_option(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    char port[16];
    snprintf(port, sizeof port, "%u", env->port);
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_option(conn, "host", env->host));
    IT_OK(conn, mywire_set_option(conn, "port", port));
    IT_OK(conn, mywire_set_option(conn, "user", env->user));
    IT_OK(conn, mywire_set_option(conn, "password", env->password));
    IT_OK(conn, mywire_set_option(conn, "database", env->db));
    IT_OK(conn, mywire_set_option(conn, "connect_timeout", "5000"));
    IT_OK(conn, mywire_set_option(conn, "read_timeout", "60000"));
    IT_OK(conn, mywire_set_option(conn, "write_timeout", "60000"));
    IT_OK(conn, mywire_set_option(conn, "max_allowed_packet", "16777216"));
    IT_OK(conn, mywire_set_option(conn, "max_result_bytes", "0"));
    IT_OK(conn, mywire_set_option(conn, "max_columns", "100"));
    IT_OK(conn, mywire_set_option(conn, "multi_statements", "1"));
    IT_OK(conn, mywire_set_option(conn, "charset", "45"));
    IT_OK(conn, mywire_connect(conn));
    check_connected_session(conn, env->user, env->db, "mysql_native_password", 0);

    /* multi_statements=1 took effect. */
    mywire_result *res = it_query(conn, "SELECT 1; SELECT 2", MYWIRE_BUFFERED);
    IT_ROW(res);
    IT_VAL(res, 0, "1");
    mywire_result_free(res);
    IT_OK(conn, mywire_next_result(conn, MYWIRE_BUFFERED, &res));
    IT_ROW(res);
    IT_VAL(res, 0, "2");
    mywire_result_free(res);
    assert_int_equal(mywire_next_result(conn, MYWIRE_BUFFERED, &res), MYWIRE_DONE);
    assert_null(res);
    mywire_conn_free(conn);

    conn = it_new();
    IT_OK(conn, mywire_set_option(conn, "socket", env->socket));
    IT_OK(conn, mywire_set_option(conn, "user", env->user));
    IT_OK(conn, mywire_set_option(conn, "password", env->password));
    IT_OK(conn, mywire_connect(conn));
    check_connected_session(conn, env->user, NULL, "mysql_native_password", 1);
    mywire_conn_free(conn);
}

static void test_connect_uri_tcp(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    char *uri = it_format("mysql://%s:%s@%s:%u/%s", env->user, env->password, env->host,
                          env->port, env->db);
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_connect_uri(conn, uri));
    check_connected_session(conn, env->user, env->db, "mysql_native_password", 0);
    mywire_conn_free(conn);

    /* set_uri then connect, with query options. */
    conn = it_new();
    char *uri2 = it_format("%s?connect_timeout=5000&read_timeout=60000&max_columns=50", uri);
    IT_OK(conn, mywire_set_uri(conn, uri2));
    IT_OK(conn, mywire_connect(conn));
    check_connected_session(conn, env->user, env->db, "mysql_native_password", 0);
    mywire_conn_free(conn);
    free(uri2);
    free(uri);
}

static void test_connect_uri_percent_encoded(void **state)
{
    (void)state;
    const it_env *env = it_get_env();

    /* Every byte of user, password and database escaped. */
    char *u = it_percent_encode_all(env->user);
    char *p = it_percent_encode_all(env->password);
    char *d = it_percent_encode_all(env->db);
    char *uri = it_format("mysql://%s:%s@%s:%u/%s", u, p, env->host, env->port, d);
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_connect_uri(conn, uri));
    check_connected_session(conn, env->user, env->db, "mysql_native_password", 0);

    /* A user whose password holds every URI delimiter, a space, '+' and UTF-8. */
    static const char pw[] = "p@ss:w/rd?#&=% \xC3\xA9+[]";
    it_exec(conn, "DROP USER IF EXISTS 'mywire_pct'@'%', 'mywire_pct'@'localhost'");
    it_exec(conn, "CREATE USER 'mywire_pct'@'%' IDENTIFIED BY 'p@ss:w/rd?#&=% \xC3\xA9+[]'");
    it_exec(conn,
            "CREATE USER 'mywire_pct'@'localhost' IDENTIFIED BY 'p@ss:w/rd?#&=% \xC3\xA9+[]'");

    char *pe = it_percent_encode_all(pw);
    char *uri_all = it_format("mysql://mywire_pct:%s@%s:%u", pe, env->host, env->port);
    /* Only what must be escaped; '+' stays literal (it is not a space here). */
    char *uri_min = it_format("mysql://mywire_pct:p%%40ss%%3Aw%%2Frd%%3F%%23%%26%%3D%%25%%20"
                              "%%C3%%A9+%%5B%%5D@%s:%u/",
                              env->host, env->port);
    /* Lower-case hex digits are valid escapes too. */
    char *uri_lower = it_format("mysql://mywire_pct:p%%40ss%%3aw%%2frd%%3f%%23%%26%%3d%%25%%20"
                                "%%c3%%a9+%%5b%%5d@%s:%u",
                                env->host, env->port);
    const char *uris[] = {uri_all, uri_min, uri_lower};
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        mywire_conn *c = it_new();
        int rc = mywire_connect_uri(c, uris[i]);
        if (rc != MYWIRE_OK) {
            fail_msg("connect with %s -> %d (%s) errno %u: %s", uris[i], rc, mywire_errstr(rc),
                     mywire_errno(c), mywire_errmsg(c));
        }
        check_connected_session(c, "mywire_pct", NULL, "mysql_native_password", 0);
        mywire_conn_free(c);
    }

    /* The same password without decoding is wrong: the escapes matter. */
    mywire_conn *c = it_new();
    int rc = mywire_set_password(c, "p%40ss");
    IT_OK(c, rc);
    rc = mywire_connect_to(c, env->host, "mywire_pct", NULL, NULL, env->port, NULL);
    IT_ERR(c, rc, MYWIRE_ERROR_SERVER, 1045, "28000");
    mywire_conn_free(c);

    it_exec(conn, "DROP USER 'mywire_pct'@'%', 'mywire_pct'@'localhost'");
    mywire_conn_free(conn);
    free(uri_all);
    free(uri_min);
    free(uri_lower);
    free(pe);
    free(uri);
    free(u);
    free(p);
    free(d);
}

static void test_connect_uri_socket(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    char *sock_enc = it_percent_encode_all(env->socket);
    char *uris[3];
    /* The socket path escaped, with a host that must be ignored. */
    uris[0] = it_format("mysql://%s:%s@localhost/%s?socket=%s", env->user, env->password,
                        env->db, sock_enc);
    /* The path raw ('/' is allowed in a query) and an unreachable host/port. */
    uris[1] = it_format("mysql://%s:%s@host.invalid:1/%s?socket=%s", env->user, env->password,
                        env->db, env->socket);
    /* No host at all. */
    uris[2] = it_format("mysql://%s:%s@/%s?socket=%s&connect_timeout=3000", env->user,
                        env->password, env->db, sock_enc);
    for (size_t i = 0; i < 3; i++) {
        mywire_conn *conn = it_new();
        int rc = mywire_connect_uri(conn, uris[i]);
        if (rc != MYWIRE_OK) {
            fail_msg("connect with %s -> %d (%s) errno %u: %s", uris[i], rc, mywire_errstr(rc),
                     mywire_errno(conn), mywire_errmsg(conn));
        }
        check_connected_session(conn, env->user, env->db, "mysql_native_password", 1);
        mywire_conn_free(conn);
        free(uris[i]);
    }
    free(sock_enc);
}

static void test_connect_ed25519(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_connect_to(conn, env->host, env->ed_user, env->ed_password, NULL,
                                  env->port, NULL));
    check_connected_session(conn, env->ed_user, NULL, "client_ed25519", 0);
    mywire_conn_free(conn);

    conn = it_new();
    IT_OK(conn, mywire_connect_to(conn, NULL, env->ed_user, env->ed_password, NULL, 0,
                                  env->socket));
    check_connected_session(conn, env->ed_user, NULL, "client_ed25519", 1);
    mywire_conn_free(conn);

    /* Through a URI, too. */
    char *uri = it_format("mysql://%s:%s@%s:%u", env->ed_user, env->ed_password, env->host,
                          env->port);
    conn = it_new();
    IT_OK(conn, mywire_connect_uri(conn, uri));
    check_connected_session(conn, env->ed_user, NULL, "client_ed25519", 0);
    mywire_conn_free(conn);
    free(uri);
}

/* The ed25519 challenge is 32 random bytes, so one in 256 ends in 0x00 and
 * one in 65536 in two: a client that trims a trailing NUL from the auth switch
 * data (as some do for mysql_native_password's 20 bytes + NUL) fails those
 * logins. 2000 logins miss a NUL-ended challenge with probability ~0.04%. */
static void test_ed25519_many_logins(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    const int logins = 2000;
    int failed = 0;
    char first_error[512] = "";
    double t0 = it_now();
    for (int i = 0; i < logins; i++) {
        mywire_conn *conn = it_new();
        int rc = (i % 2) ? mywire_connect_to(conn, NULL, env->ed_user, env->ed_password, NULL,
                                             0, env->socket)
                         : mywire_connect_to(conn, env->host, env->ed_user, env->ed_password,
                                             NULL, env->port, NULL);
        if (rc != MYWIRE_OK) {
            if (failed++ == 0) {
                snprintf(first_error, sizeof first_error, "login %d -> %d (%s): %s", i, rc,
                         mywire_errstr(rc), mywire_errmsg(conn));
            }
        }
        mywire_conn_free(conn);
    }
    print_message("%d ed25519 logins in %.2f s, %d failed\n", logins, it_now() - t0, failed);
    if (failed > 0) {
        fail_msg("%d of %d ed25519 logins failed; first: %s", failed, logins, first_error);
    }
}

static void test_connect_empty_passwords(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    struct {
        const char *user;
        const char *plugin;
    } users[] = {{env->empty_user, "mysql_native_password"},
                 {env->ed_empty_user, "client_ed25519"}};
    for (size_t u = 0; u < 2; u++) {
        for (int sock = 0; sock <= 1; sock++) {
            /* No password set, and an explicitly empty one. */
            for (int explicit_empty = 0; explicit_empty <= 1; explicit_empty++) {
                mywire_conn *conn = it_new();
                const char *pw = explicit_empty ? "" : NULL;
                int rc = sock ? mywire_connect_to(conn, NULL, users[u].user, pw, env->db, 0,
                                                  env->socket)
                              : mywire_connect_to(conn, env->host, users[u].user, pw, env->db,
                                                  env->port, NULL);
                if (rc != MYWIRE_OK) {
                    fail_msg("%s over %s with %s password -> %d (%s) errno %u: %s",
                             users[u].user, sock ? "socket" : "TCP",
                             explicit_empty ? "an empty" : "no", rc, mywire_errstr(rc),
                             mywire_errno(conn), mywire_errmsg(conn));
                }
                check_connected_session(conn, users[u].user, env->db, users[u].plugin, sock);
                mywire_conn_free(conn);
            }
        }
        /* A URI with an empty password, too. */
        char *uri = it_format("mysql://%s:@%s:%u/%s", users[u].user, env->host, env->port,
                              env->db);
        mywire_conn *conn = it_new();
        IT_OK(conn, mywire_connect_uri(conn, uri));
        check_connected_session(conn, users[u].user, env->db, users[u].plugin, 0);
        mywire_conn_free(conn);
        free(uri);

        /* And a non-empty password is refused. */
        conn = it_new();
        int rc = mywire_connect_to(conn, env->host, users[u].user, "not-empty", NULL, env->port,
                                   NULL);
        IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1045, "28000");
        mywire_conn_free(conn);
    }
}

static void check_wrong_password(const char *user, int over_socket)
{
    const it_env *env = it_get_env();
    mywire_conn *conn = it_new();
    int rc = over_socket
                 ? mywire_connect_to(conn, NULL, user, "definitely-wrong", NULL, 0, env->socket)
                 : mywire_connect_to(conn, env->host, user, "definitely-wrong", NULL, env->port,
                                     NULL);
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1045, "28000");
    /* The message names the user (server text, "Access denied for user ..."). */
    assert_non_null(strstr(mywire_errmsg(conn), user));
    /* The failed handle is not connected. */
    assert_int_equal(mywire_socket(conn), -1);
    rc = mywire_ping(conn);
    IT_ERR(conn, rc, MYWIRE_ERROR_STATE, 0, NULL);
    static char sentinel;
    mywire_result *res = (mywire_result *)(void *)&sentinel; /* must be reset to NULL */
    rc = mywire_query(conn, "SELECT 1", 8, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_STATE, 0, NULL);
    assert_null(res);
    mywire_conn_free(conn);
}

static void test_wrong_password_native(void **state)
{
    (void)state;
    check_wrong_password(it_get_env()->user, 0);
    check_wrong_password(it_get_env()->user, 1);
}

static void test_wrong_password_ed25519(void **state)
{
    (void)state;
    check_wrong_password(it_get_env()->ed_user, 0);
    check_wrong_password(it_get_env()->ed_user, 1);
}

static void test_unknown_user(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    mywire_conn *conn = it_new();
    int rc = mywire_connect_to(conn, env->host, "mywire_no_such_user", "x", NULL, env->port,
                               NULL);
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1045, "28000");
    mywire_conn_free(conn);
}

static void test_unknown_database(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    mywire_conn *conn = it_new();
    int rc = mywire_connect_to(conn, env->host, env->user, env->password,
                               "mywire_no_such_db", env->port, NULL);
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1049, "42000");
    assert_non_null(strstr(mywire_errmsg(conn), "mywire_no_such_db"));
    mywire_conn_free(conn);

    conn = it_new();
    rc = mywire_connect_to(conn, NULL, env->user, env->password, "mywire_no_such_db", 0,
                           env->socket);
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1049, "42000");
    mywire_conn_free(conn);
}

static void test_charset(void **state)
{
    (void)state;
    mywire_conn *conn = it_connect_tcp();
    char *cs = it_scalar(conn, "SELECT CONCAT(@@character_set_client, ',', "
                               "@@character_set_results, ',', @@collation_connection)");
    assert_string_equal(cs, "utf8mb4,utf8mb4,utf8mb4_general_ci");
    free(cs);
    mywire_conn_free(conn);

    /* 8 is latin1_swedish_ci. */
    conn = it_new();
    IT_OK(conn, mywire_set_charset(conn, 8));
    it_connect_configured_tcp(conn);
    cs = it_scalar(conn, "SELECT CONCAT(@@character_set_client, ',', "
                         "@@character_set_results, ',', @@collation_connection)");
    assert_string_equal(cs, "latin1,latin1,latin1_swedish_ci");
    free(cs);
    /* The server now sends latin1: 'é' is one byte, 0xE9. */
    mywire_result *res = it_query(conn, "SELECT _utf8mb4 X'C3A9'", MYWIRE_BUFFERED);
    IT_ROW(res);
    size_t len = 0;
    const char *v = mywire_get(res, 0, &len);
    assert_non_null(v);
    assert_int_equal(len, 1);
    assert_int_equal((unsigned char)v[0], 0xE9);
    assert_int_equal(mywire_column_at(res, 0)->charset, 8);
    mywire_result_free(res);
    mywire_conn_free(conn);
}

static void test_close_and_reconnect_handles(void **state)
{
    (void)state;
    /* Many sequential connections, freed or closed then freed: none of them
     * stays behind as a server thread (COM_QUIT was sent or the socket closed). */
    enum { N = 40 };
    unsigned long ids[N];
    for (int i = 0; i < N; i++) {
        mywire_conn *conn = (i % 2) ? it_connect_socket() : it_connect_tcp();
        IT_OK(conn, mywire_ping(conn));
        ids[i] = mywire_thread_id(conn);
        assert_true(ids[i] > 0);
        if (i % 3 == 0) {
            mywire_close(conn);
            mywire_close(conn); /* idempotent */
            assert_int_equal(mywire_socket(conn), -1);
        }
        mywire_conn_free(conn);
    }
    char list[N * 24] = "";
    size_t used = 0;
    for (int i = 0; i < N; i++) {
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%lu", i ? "," : "", ids[i]);
    }
    char *sql = it_format("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID IN (%s)",
                          list);
    mywire_conn *admin = it_connect_tcp();
    /* The server ends a thread shortly after COM_QUIT: poll for up to 5 s. */
    long long left = -1;
    for (int tries = 0; tries < 50; tries++) {
        left = it_scalar_ll(admin, sql);
        if (left == 0) {
            break;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(left, 0);
    free(sql);
    mywire_conn_free(admin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unconnected_status),
        cmocka_unit_test(test_connect_tcp),
        cmocka_unit_test(test_connect_socket),
        cmocka_unit_test(test_connect_with_setters),
        cmocka_unit_test(test_connect_with_set_option),
        cmocka_unit_test(test_connect_uri_tcp),
        cmocka_unit_test(test_connect_uri_percent_encoded),
        cmocka_unit_test(test_connect_uri_socket),
        cmocka_unit_test(test_connect_ed25519),
        cmocka_unit_test(test_ed25519_many_logins),
        cmocka_unit_test(test_connect_empty_passwords),
        cmocka_unit_test(test_wrong_password_native),
        cmocka_unit_test(test_wrong_password_ed25519),
        cmocka_unit_test(test_unknown_user),
        cmocka_unit_test(test_unknown_database),
        cmocka_unit_test(test_charset),
        cmocka_unit_test(test_close_and_reconnect_handles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
