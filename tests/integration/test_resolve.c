/*
 * Host names and addresses through mywire_connect_to (io::Connector): the
 * test server listens on 127.0.0.1 only (tests/server/mariadb.sh binds it
 * there), so "localhost" must reach it over TCP whatever else localhost
 * resolves to, ::1 is refused, a .invalid name fails at once, and
 * connect_timeout bounds a connect that nobody answers. Only /etc/hosts
 * names, literals and loopback sockets: nothing here reads the network.
 */
#include "it_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void check_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL) fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

static void test_localhost_over_tcp(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    mywire_conn *conn = it_new();
    int rc = mywire_connect_to(conn, "localhost", env->user, env->password, env->db, env->port,
                               NULL);
    if (rc != MYWIRE_OK) fail_msg("connect to localhost -> %d: %s", rc, mywire_errmsg(conn));
    assert_true(mywire_socket(conn) >= 0);
    /* TCP, not the unix socket: the server sees the loopback address. */
    char *host = it_scalar(conn, "SELECT HOST FROM information_schema.PROCESSLIST "
                                 "WHERE ID = CONNECTION_ID()");
    assert_true(strncmp(host, "127.0.0.1:", 10) == 0);
    free(host);
    mywire_conn_free(conn);
}

static void test_refused_names_the_host(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    mywire_conn *conn = it_new();
    unsigned port = it_closed_port();
    int rc = mywire_connect_to(conn, "localhost", env->user, env->password, NULL, port, NULL);
    IT_ERR(conn, rc, MYWIRE_ERROR_CONNECT, 0, NULL);
    char *prefix = it_format("cannot connect to localhost:%u: ", port);
    check_contains(mywire_errmsg(conn), prefix);
    check_contains(mywire_errmsg(conn), "refused");
    free(prefix);
    mywire_conn_free(conn);

    /* The server is not on ::1 (or there is no ::1 at all). */
    conn = it_new();
    rc = mywire_connect_to(conn, "::1", env->user, env->password, NULL, env->port, NULL);
    IT_ERR(conn, rc, MYWIRE_ERROR_CONNECT, 0, NULL);
    check_contains(mywire_errmsg(conn), "cannot connect to [::1]:");
    mywire_conn_free(conn);
}

static void test_invalid_name_fails_at_once(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    mywire_conn *conn = it_new();
    double start = it_now();
    int rc = mywire_connect_to(conn, "nonexistent.invalid", env->user, env->password, NULL,
                               env->port, NULL);
    IT_ERR(conn, rc, MYWIRE_ERROR_CONNECT, 0, NULL);
    check_contains(mywire_errmsg(conn), "cannot resolve host 'nonexistent.invalid'");
    assert_true(it_now() - start < 1.0);
    mywire_conn_free(conn);
}

/* A listener whose queue is full never completes a connect: connect_timeout
 * ends it, with the timeout code. */
static void test_connect_timeout_bounds_a_silent_server(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(l, 0), 0);
    socklen_t alen = sizeof addr;
    assert_int_equal(getsockname(l, (struct sockaddr *)&addr, &alen), 0);
    int fillers[64];
    int nfill = 0;
    for (; nfill < 64; ++nfill) {
        fillers[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[nfill], (struct sockaddr *)&addr, sizeof addr);
        struct pollfd p = {fillers[nfill], POLLOUT, 0};
        if (poll(&p, 1, 100) == 0) {
            ++nfill;
            break;
        }
    }

    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_connect_timeout(conn, 300));
    double start = it_now();
    int rc = mywire_connect_to(conn, "127.0.0.1", env->user, env->password, NULL,
                               ntohs(addr.sin_port), NULL);
    double took = it_now() - start;
    IT_ERR(conn, rc, MYWIRE_ERROR_TIMEOUT, 0, NULL);
    check_contains(mywire_errmsg(conn), "timed out");
    assert_true(took >= 0.29 && took < 2.0);
    mywire_conn_free(conn);
    for (int i = 0; i < nfill; ++i) close(fillers[i]);
    close(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_localhost_over_tcp),
        cmocka_unit_test(test_refused_names_the_host),
        cmocka_unit_test(test_invalid_name_fails_at_once),
        cmocka_unit_test(test_connect_timeout_bounds_a_silent_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
