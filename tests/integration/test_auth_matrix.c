/*
 * Every authentication plugin the real MariaDB offers here
 * (mysql_native_password, ed25519), each with an empty and a non-empty
 * password, over every transport: TCP without TLS, TCP with verified TLS and
 * the unix socket. Each login must succeed with the right plugin, transport
 * and encryption, and a wrong password must give the server's 1045 in each
 * combination.
 */
#include "it_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct account {
    const char *user;
    const char *password; /* "" for the empty-password accounts */
    const char *plugin;   /* what mywire_auth_plugin() reports */
} account;

enum { T_TCP_PLAIN, T_TCP_TLS, T_SOCKET, T_COUNT };
static const char *const transport_names[T_COUNT] = {"TCP, ssl_mode=disabled",
                                                     "TCP, verify_identity", "unix socket"};

static int login(mywire_conn *conn, int transport, const char *user, const char *password)
{
    const it_env *env = it_get_env();
    if (transport == T_SOCKET) {
        IT_OK(conn, mywire_set_unix_socket(conn, env->socket));
    } else {
        IT_OK(conn, mywire_set_host(conn, env->host));
        IT_OK(conn, mywire_set_port(conn, env->port));
    }
    if (transport == T_TCP_PLAIN) {
        IT_OK(conn, mywire_set_ssl_mode(conn, MYWIRE_SSL_MODE_DISABLED));
    } else if (transport == T_TCP_TLS) {
        char *ca = it_cert("ca.pem");
        IT_OK(conn, mywire_set_ssl_mode(conn, MYWIRE_SSL_MODE_VERIFY_IDENTITY));
        IT_OK(conn, mywire_set_option(conn, "ssl_ca", ca));
        free(ca);
    }
    IT_OK(conn, mywire_set_user(conn, user));
    IT_OK(conn, mywire_set_password(conn, password));
    IT_OK(conn, mywire_set_database(conn, env->db));
    return mywire_connect(conn);
}

static void check_session(mywire_conn *conn, const account *a, int transport)
{
    const char *what = transport_names[transport];
    if (strcmp(mywire_auth_plugin(conn), a->plugin) != 0) {
        fail_msg("%s over %s: auth plugin \"%s\", expected \"%s\"", a->user, what,
                 mywire_auth_plugin(conn), a->plugin);
    }
    const char *want_transport = transport == T_SOCKET ? "unix" : "tcp";
    if (strcmp(mywire_transport(conn), want_transport) != 0) {
        fail_msg("%s over %s: transport \"%s\"", a->user, what, mywire_transport(conn));
    }
    int want_tls = transport == T_TCP_TLS;
    if (mywire_tls_active(conn) != want_tls) {
        fail_msg("%s over %s: tls_active %d", a->user, what, mywire_tls_active(conn));
    }
    if (mywire_tls_verified(conn) != want_tls) {
        fail_msg("%s over %s: tls_verified %d", a->user, what, mywire_tls_verified(conn));
    }

    /* The server agrees on who logged in, how, and over what. */
    char *who = it_scalar(conn, "SELECT CURRENT_USER()");
    char *want = it_format("%s@%s", a->user, transport == T_SOCKET ? "localhost" : "%");
    if (strcmp(who, want) != 0) {
        fail_msg("%s over %s: CURRENT_USER() is \"%s\", expected \"%s\"", a->user, what, who,
                 want);
    }
    free(who);
    free(want);

    mywire_result *res = it_query(conn, "SHOW SESSION STATUS LIKE 'Ssl_version'",
                                  MYWIRE_BUFFERED);
    IT_ROW(res);
    IT_VAL(res, 1, mywire_tls_version(conn));
    IT_DONE(res);
    mywire_result_free(res);
    if (want_tls && mywire_tls_version(conn)[0] == '\0') {
        fail_msg("%s over %s: empty tls_version", a->user, what);
    }
}

static void run_account(const account *a)
{
    for (int t = 0; t < T_COUNT; t++) {
        mywire_conn *conn = it_new();
        int rc = login(conn, t, a->user, a->password);
        if (rc != MYWIRE_OK) {
            fail_msg("%s (%s password) over %s -> %d (%s) errno %u tls_failure %d: %s", a->user,
                     a->password[0] ? "a" : "an empty", transport_names[t], rc,
                     mywire_errstr(rc), mywire_errno(conn), mywire_tls_failure(conn),
                     mywire_errmsg(conn));
        }
        check_session(conn, a, t);
        mywire_conn_free(conn);

        /* Wrong passwords: another one, an empty one (or, for the empty
         * accounts, a non-empty one) and the right one with a byte more. */
        char *longer = it_format("%sx", a->password);
        const char *wrong[] = {"definitely-wrong", a->password[0] ? "" : "not-empty", longer};
        for (size_t w = 0; w < 3; w++) {
            conn = it_new();
            rc = login(conn, t, a->user, wrong[w]);
            if (rc != MYWIRE_ERROR_SERVER || mywire_errno(conn) != 1045) {
                fail_msg("%s with the wrong password \"%s\" over %s -> %d (%s) errno %u: %s",
                         a->user, wrong[w], transport_names[t], rc, mywire_errstr(rc),
                         mywire_errno(conn), mywire_errmsg(conn));
            }
            IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1045, "28000");
            assert_int_equal(mywire_tls_failure(conn), MYWIRE_TLS_FAILURE_NONE);
            mywire_conn_free(conn);
        }
        free(longer);
    }
}

static void test_native_password(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    account a = {env->user, env->password, "mysql_native_password"};
    run_account(&a);
}

static void test_native_empty_password(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    account a = {env->empty_user, "", "mysql_native_password"};
    run_account(&a);
}

static void test_ed25519_password(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    account a = {env->ed_user, env->ed_password, "client_ed25519"};
    run_account(&a);
}

static void test_ed25519_empty_password(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    account a = {env->ed_empty_user, "", "client_ed25519"};
    run_account(&a);
}

/* An account that does not exist is the same 1045 everywhere (no hint that
 * the user is unknown). */
static void test_unknown_user(void **state)
{
    (void)state;
    for (int t = 0; t < T_COUNT; t++) {
        mywire_conn *conn = it_new();
        int rc = login(conn, t, "mywire_no_such_user", "pw");
        IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1045, "28000");
        mywire_conn_free(conn);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_password),
        cmocka_unit_test(test_native_empty_password),
        cmocka_unit_test(test_ed25519_password),
        cmocka_unit_test(test_ed25519_empty_password),
        cmocka_unit_test(test_unknown_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
