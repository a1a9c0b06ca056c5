/*
 * test_hardening.c - regression tests for findings of the security review
 * (../shared/reviews/security.md) that the real MariaDB can show: string
 * lifetimes across a reconnect (S6), mywire_close on a never-connected handle
 * (S7), the seek index counted in max_result_bytes (S9) and the metadata
 * budget option (S5). Allocation failures (S2) are in test_nomem.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_common.h"

/* Kill conn's session from a second connection, so that its next command
 * fails with LOST and a reconnect is allowed. */
static void kill_session(mywire_conn *conn)
{
    mywire_conn *killer = it_connect_tcp();
    char *sql = it_format("KILL %lu", (unsigned long)mywire_thread_id(conn));
    it_exec(killer, sql);
    free(sql);
    mywire_conn_free(killer);
    /* The server closes the socket; the next command sees it. */
    int rc = mywire_ping(conn);
    assert_int_not_equal(rc, MYWIRE_OK);
}

/* S6: strings handed out by the handle stay valid across a reconnect
 * (ASan reported a heap-use-after-free in the ASan build before the fix). */
static void test_strings_survive_a_reconnect(void **state)
{
    (void)state;
    mywire_conn *conn = it_new();
    const it_env *e = it_get_env();
    IT_OK(conn, mywire_set_host(conn, e->host));
    IT_OK(conn, mywire_set_port(conn, e->port));
    IT_OK(conn, mywire_set_user(conn, e->user));
    IT_OK(conn, mywire_set_password(conn, e->password));
    IT_OK(conn, mywire_set_ssl_mode(conn, MYWIRE_SSL_MODE_REQUIRED));
    /* A short cipher name first, a longer one after the reconnect: a string
     * reused in place would have to grow (and did, freeing the old text). */
    IT_OK(conn, mywire_set_option(conn, "tls_ciphersuites", "TLS_AES_128_GCM_SHA256"));
    IT_OK(conn, mywire_connect(conn));
    const char *version = mywire_server_version(conn);
    const char *plugin = mywire_auth_plugin(conn);
    const char *tls_version = mywire_tls_version(conn);
    const char *cipher = mywire_tls_cipher(conn);
    char *v_copy = strdup(version), *p_copy = strdup(plugin);
    char *t_copy = strdup(tls_version), *c_copy = strdup(cipher);
    assert_true(strlen(version) > 0 && strlen(plugin) > 0);
    assert_true(strlen(tls_version) > 0 && strlen(cipher) > 0);

    assert_string_equal(cipher, "TLS_AES_128_GCM_SHA256");
    kill_session(conn);
    IT_OK(conn, mywire_set_option(conn, "tls_ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"));
    IT_OK(conn, mywire_connect(conn));
    assert_string_equal(mywire_tls_cipher(conn), "TLS_CHACHA20_POLY1305_SHA256");
    /* Read the old pointers: the same text, and (under ASan) no use after free. */
    assert_string_equal(version, v_copy);
    assert_string_equal(plugin, p_copy);
    assert_string_equal(tls_version, t_copy);
    assert_string_equal(cipher, c_copy);
    /* The same text is handed out as the same pointer (no growth per call). */
    assert_ptr_equal(mywire_server_version(conn), version);

    kill_session(conn);
    IT_OK(conn, mywire_connect(conn));
    mywire_close(conn);
    assert_string_equal(version, v_copy);
    assert_string_equal(cipher, c_copy);
    mywire_conn_free(conn);
    free(v_copy), free(p_copy), free(t_copy), free(c_copy);
}

/* S7: mywire_close on a handle that never connected closes it too. */
static void test_close_before_connect(void **state)
{
    (void)state;
    mywire_conn *conn = it_new();
    mywire_close(conn);
    int rc = mywire_set_host(conn, "127.0.0.1");
    IT_ERR(conn, rc, MYWIRE_ERROR_STATE, 0, "HY000");
    rc = mywire_connect(conn);
    IT_ERR(conn, rc, MYWIRE_ERROR_STATE, 0, "HY000");
    mywire_close(conn); /* idempotent */
    mywire_conn_free(conn);
}

static int run_buffered(mywire_conn *conn, const char *sql, mywire_result **res)
{
    return mywire_query(conn, sql, strlen(sql), MYWIRE_BUFFERED, res);
}

/* S9: the 8-byte-a-row index a seek builds counts against max_result_bytes.
 * 100,000 NULL rows take about 0.5 MB of arena and would need 0.8 MB of
 * index: under a 1,000,000-byte limit they used to be accepted. */
static void test_seek_index_counts_in_the_limit(void **state)
{
    (void)state;
    static const char sql[] = "SELECT NULL FROM seq_1_to_100000";
    mywire_conn *conn = it_connect_tcp();
    mywire_result *res = NULL;

    /* Without a tight limit the rows fit, and seeking works. */
    IT_OK(conn, run_buffered(conn, sql, &res));
    assert_int_equal(mywire_row_count(res), 100000);
    assert_int_equal(mywire_seek(res, 99999), MYWIRE_OK);
    IT_ROW(res);
    IT_DONE(res);
    mywire_result_free(res);
    mywire_conn_free(conn);

    conn = it_new();
    IT_OK(conn, mywire_set_max_result_bytes(conn, 1000000));
    it_connect_configured_tcp(conn);
    int rc = run_buffered(conn, sql, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_RESULT_TOO_LARGE, 0, "HY000");
    assert_null(res);
    /* The rows were drained: the connection is still usable. */
    assert_int_equal(it_scalar_ll(conn, "SELECT 7"), 7);
    mywire_conn_free(conn);
}

/* S5: max_metadata_bytes bounds a result head. 200 columns named with 300
 * characters each need about 60 KB of metadata. */
static void test_metadata_budget(void **state)
{
    (void)state;
    size_t cap = 200 * 320 + 64;
    char *sql = malloc(cap);
    assert_non_null(sql);
    size_t n = (size_t)snprintf(sql, cap, "SELECT ");
    for (int i = 0; i < 200; ++i) {
        n += (size_t)snprintf(sql + n, cap - n, "%s1 AS `c%03d", i ? ", " : "", i);
        for (int k = 0; k < 250; ++k) sql[n++] = 'x';
        sql[n++] = '`';
    }
    sql[n] = '\0';

    mywire_conn *conn = it_connect_tcp();
    mywire_result *res = NULL;
    IT_OK(conn, run_buffered(conn, sql, &res));
    assert_int_equal(mywire_column_count(res), 200);
    mywire_result_free(res);
    mywire_conn_free(conn);

    for (int mode = MYWIRE_BUFFERED; mode <= MYWIRE_STREAMING; ++mode) {
        conn = it_new();
        int rc = mywire_set_option(conn, "max_metadata_bytes", "100");
        IT_ERR(conn, rc, MYWIRE_ERROR_OPTION, 0, "HY000");
        IT_OK(conn, mywire_set_option(conn, "max_metadata_bytes", "32768"));
        it_connect_configured_tcp(conn);
        rc = mywire_query(conn, sql, strlen(sql), mode, &res);
        IT_ERR(conn, rc, MYWIRE_ERROR_LIMIT, 0, "HY000");
        assert_non_null(strstr(mywire_errmsg(conn), "max_metadata_bytes"));
        assert_null(res);
        mywire_conn_free(conn);
    }
    free(sql);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_survive_a_reconnect),
        cmocka_unit_test(test_close_before_connect),
        cmocka_unit_test(test_seek_index_counts_in_the_limit),
        cmocka_unit_test(test_metadata_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
