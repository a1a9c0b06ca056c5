/*
 * Compression against a real MariaDB, which offers zlib only: negotiation
 * (zlib, "on" picking zlib, zstd refused), a 20 MB value up and down with the
 * server's byte counters showing that the wire carried less, values and
 * queries at the 16 MiB frame boundary, many rows streaming and buffered,
 * multi-statement results, compression under TLS, and a connection that keeps
 * working after server errors.
 */
#include "it_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_MAX 0xFFFFFFu

/* Connect over TCP (TLS off unless ca is given: then verify_identity) or the
 * socket with the given compress value. */
static int connect_compressed(mywire_conn *conn, const char *compress, int over_socket,
                              const char *ca)
{
    const it_env *env = it_get_env();
    if (compress != NULL) {
        int rc = mywire_set_option(conn, "compress", compress);
        if (rc != MYWIRE_OK) {
            fail_msg("compress=%s -> %d (%s): %s", compress, rc, mywire_errstr(rc),
                     mywire_errmsg(conn));
        }
    }
    if (over_socket) {
        IT_OK(conn, mywire_set_unix_socket(conn, env->socket));
    } else {
        IT_OK(conn, mywire_set_host(conn, ca != NULL ? "localhost" : env->host));
        IT_OK(conn, mywire_set_port(conn, env->port));
        if (ca != NULL) {
            IT_OK(conn, mywire_set_ssl_mode(conn, MYWIRE_SSL_MODE_VERIFY_IDENTITY));
            IT_OK(conn, mywire_set_option(conn, "ssl_ca", ca));
        } else {
            IT_OK(conn, mywire_set_ssl_mode(conn, MYWIRE_SSL_MODE_DISABLED));
        }
    }
    IT_OK(conn, mywire_set_user(conn, env->user));
    IT_OK(conn, mywire_set_password(conn, env->password));
    IT_OK(conn, mywire_set_database(conn, env->db));
    return mywire_connect(conn);
}

static mywire_conn *open_zlib(const char *ca)
{
    mywire_conn *conn = it_new();
    IT_OK(conn, connect_compressed(conn, "zlib", 0, ca));
    assert_string_equal(mywire_compression(conn), "zlib");
    return conn;
}

/* ------------------------------------------------------------ negotiation */

static void check_compression(mywire_conn *conn, const char *what, const char *want)
{
    if (strcmp(mywire_compression(conn), want) != 0) {
        fail_msg("%s: mywire_compression \"%s\", expected \"%s\"", what,
                 mywire_compression(conn), want);
    }
    char *on = it_status(conn, "Compression");
    const char *server_want = strcmp(want, "none") == 0 ? "OFF" : "ON";
    if (strcmp(on, server_want) != 0) {
        fail_msg("%s: the server says Compression=%s, expected %s", what, on, server_want);
    }
    free(on);
    assert_int_equal(it_scalar_ll(conn, "SELECT 6 * 7"), 42);
}

static void test_negotiation(void **state)
{
    (void)state;
    static const struct {
        const char *value; /* NULL: not set */
        int over_socket;
        const char *want;
    } cases[] = {
        {NULL, 0, "none"},    {"off", 0, "none"}, {"zlib", 0, "zlib"}, {"on", 0, "zlib"},
        {"ZLIB", 0, "zlib"},  {"zlib", 1, "zlib"}, {"on", 1, "zlib"},  {NULL, 1, "none"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "compress=%s over %s", cases[i].value ? cases[i].value : "(unset)",
                 cases[i].over_socket ? "the socket" : "TCP");
        mywire_conn *conn = it_new();
        int rc = connect_compressed(conn, cases[i].value, cases[i].over_socket, NULL);
        if (rc != MYWIRE_OK) {
            fail_msg("%s -> %d (%s): %s", what, rc, mywire_errstr(rc), mywire_errmsg(conn));
        }
        check_compression(conn, what, cases[i].want);
        mywire_conn_free(conn);
    }

    /* The typed setter. */
    static const struct {
        int algorithm;
        const char *want;
    } typed[] = {{MYWIRE_COMPRESS_OFF, "none"},
                 {MYWIRE_COMPRESS_ZLIB, "zlib"},
                 {MYWIRE_COMPRESS_ANY, "zlib"}};
    for (size_t i = 0; i < 3; i++) {
        mywire_conn *conn = it_new();
        IT_OK(conn, mywire_set_compression(conn, typed[i].algorithm));
        IT_OK(conn, connect_compressed(conn, NULL, 0, NULL));
        check_compression(conn, "mywire_set_compression", typed[i].want);
        mywire_conn_free(conn);
    }
    mywire_conn *conn = it_new();
    assert_int_equal(mywire_set_compression(conn, 4), MYWIRE_ERROR_OPTION);
    assert_int_equal(mywire_set_compression(conn, -1), MYWIRE_ERROR_OPTION);
    assert_int_equal(mywire_set_option(conn, "compress", "lz4"), MYWIRE_ERROR_OPTION);
    assert_int_equal(mywire_set_option(conn, "compression_level", "0"), MYWIRE_ERROR_OPTION);
    assert_int_equal(mywire_set_option(conn, "compression_level", "23"), MYWIRE_ERROR_OPTION);
    IT_OK(conn, mywire_set_option(conn, "compression_level", "22"));
    mywire_conn_free(conn);
}

/* MariaDB has no zstd: asking for it is an error that says so, on both
 * transports, and the handle can then connect with zlib. */
static void test_zstd_refused(void **state)
{
    (void)state;
    for (int over_socket = 0; over_socket <= 1; over_socket++) {
        for (int typed = 0; typed <= 1; typed++) {
            mywire_conn *conn = it_new();
            int rc;
            if (typed) {
                IT_OK(conn, mywire_set_compression(conn, MYWIRE_COMPRESS_ZSTD));
                rc = connect_compressed(conn, NULL, over_socket, NULL);
            } else {
                rc = connect_compressed(conn, "zstd", over_socket, NULL);
            }
            IT_ERR(conn, rc, MYWIRE_ERROR_UNSUPPORTED, 0, NULL);
            if (strstr(mywire_errmsg(conn), "zstd") == NULL) {
                fail_msg("the zstd error does not say zstd: \"%s\"", mywire_errmsg(conn));
            }
            print_message("compress=zstd: %s\n", mywire_errmsg(conn));
            assert_string_equal(mywire_compression(conn), "none");
            assert_int_equal(mywire_socket(conn), -1);

            IT_OK(conn, mywire_set_option(conn, "compress", "zlib"));
            IT_OK(conn, mywire_connect(conn));
            check_compression(conn, "zlib after zstd failed", "zlib");
            mywire_conn_free(conn);
        }
    }
}

/* ------------------------------------------------------------- big values */

/* Words picked by a xorshift generator: compressible (about 3:1 with zlib),
 * with no period, so a dropped or doubled block anywhere shows. Only letters
 * and spaces, so it can sit in a quoted SQL string. */
static void fill_words(char *out, size_t n, uint32_t seed)
{
    static const char *const words[] = {
        "alpha ",  "bravo ",    "charlie ", "delta ",  "echo ",   "foxtrot ", "golf ",
        "hotel ",  "india ",    "juliet ",  "kilo ",   "lima ",   "mike ",    "november ",
        "oscar ",  "papa ",     "quebec ",  "romeo ",  "sierra ", "tango ",   "uniform ",
        "victor ", "whiskey ",  "xray ",    "yankee ", "zulu ",   "one ",     "two ",
        "three ",  "four ",     "five ",    "six ",
    };
    uint32_t x = seed ? seed : 1;
    size_t i = 0;
    while (i < n) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        const char *w = words[x % 32];
        while (*w != '\0' && i < n) {
            out[i++] = *w++;
        }
    }
}

static void check_value(const char *what, const char *data, size_t len, const char *want,
                        size_t n)
{
    if (data == NULL) {
        fail_msg("%s: NULL", what);
    }
    if (len != n) {
        fail_msg("%s: %zu bytes, expected %zu", what, len, n);
    }
    if (memcmp(data, want, n) != 0) {
        size_t i = 0;
        while (data[i] == want[i]) {
            i++;
        }
        fail_msg("%s: first difference at byte %zu of %zu", what, i, n);
    }
    if (data[len] != '\0') {
        fail_msg("%s: not followed by a NUL byte", what);
    }
}

/* INSERT a value of n bytes into a fresh table, check what the server stored,
 * read it back in both modes. With check_wire, the server's byte counters
 * must show the wire carried less than half of it each way. */
static void round_trip(mywire_conn *conn, const char *table, size_t n, int check_wire)
{
    char *sql = it_format("DROP TABLE IF EXISTS %s", table);
    it_exec(conn, sql);
    free(sql);
    /* MyISAM: InnoDB may refuse a 20 MB BLOB with a small redo log. */
    sql = it_format("CREATE TABLE %s (id INT PRIMARY KEY, b LONGBLOB) ENGINE=MyISAM", table);
    it_exec(conn, sql);
    free(sql);

    char *head = it_format("INSERT INTO %s VALUES (1, '", table);
    static const char tail[] = "')";
    size_t hl = strlen(head), tl = strlen(tail);
    size_t sql_len = hl + n + tl;
    char *insert = malloc(sql_len);
    assert_non_null(insert);
    memcpy(insert, head, hl);
    char *value = insert + hl;
    fill_words(value, n, (uint32_t)n);
    memcpy(value + n, tail, tl);

    long long received = it_status_ll(conn, "Bytes_received");
    mywire_result *res = NULL;
    IT_OK(conn, mywire_query(conn, insert, sql_len, MYWIRE_BUFFERED, &res));
    assert_int_equal(mywire_affected_rows(res), 1);
    mywire_result_free(res);
    long long up = it_status_ll(conn, "Bytes_received") - received;
    print_message("%s: %zu bytes of query, %lld on the wire\n", table, sql_len, up);
    if (check_wire && (up <= 0 || (unsigned long long)up > sql_len / 2)) {
        fail_msg("the server received %lld bytes for a %zu-byte query: not compressed", up,
                 sql_len);
    }

    char *want = it_format("%zu %u", n, it_crc32((const unsigned char *)value, n));
    char *q = it_format("SELECT CONCAT(LENGTH(b), ' ', CRC32(b)) FROM %s", table);
    char *got = it_scalar(conn, q);
    assert_string_equal(got, want);
    free(got);
    free(q);
    free(want);

    q = it_format("SELECT id, b, 'tail' FROM %s", table);
    for (int mode = MYWIRE_BUFFERED; mode <= MYWIRE_STREAMING; mode++) {
        long long sent = it_status_ll(conn, "Bytes_sent");
        res = it_query(conn, q, mode);
        IT_ROW(res);
        IT_VAL(res, 0, "1");
        size_t len = 0;
        const char *data = mywire_get(res, 1, &len);
        check_value(mode == MYWIRE_BUFFERED ? "buffered" : "streaming", data, len, value, n);
        IT_VAL(res, 2, "tail");
        IT_DONE(res);
        mywire_result_free(res);
        long long down = it_status_ll(conn, "Bytes_sent") - sent;
        print_message("%s: %zu-byte value read back, %lld bytes on the wire\n", table, n, down);
        if (check_wire && (down <= 0 || (unsigned long long)down > n / 2)) {
            fail_msg("the server sent %lld bytes for a %zu-byte value: not compressed", down, n);
        }
    }
    free(q);
    sql = it_format("DROP TABLE %s", table);
    it_exec(conn, sql);
    free(sql);
    free(head);
    free(insert);
}

static void test_20mb_value(void **state)
{
    (void)state;
    mywire_conn *conn = open_zlib(NULL);
    double t0 = it_now();
    round_trip(conn, "it_compress_big", 20 * 1000 * 1000 + 13, 1);
    print_message("20 MB round trip over zlib in %.2f s\n", it_now() - t0);
    IT_OK(conn, mywire_ping(conn));
    mywire_conn_free(conn);
}

/* Values and queries around the 16 MiB frame limit, whose compressed frames
 * are tiny. */
static void test_frame_boundaries(void **state)
{
    (void)state;
    mywire_conn *conn = open_zlib(NULL);
    /* Row payload = 4 + n (n < 2^24) or 9 + n: just under, at and over one
     * frame. */
    static const size_t sizes[] = {FRAME_MAX - 5, FRAME_MAX - 4, FRAME_MAX - 3, FRAME_MAX + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int mode = MYWIRE_BUFFERED; mode <= MYWIRE_STREAMING; mode++) {
            char sql[64];
            snprintf(sql, sizeof sql, "SELECT REPEAT('q', %zu)", sizes[i]);
            mywire_result *res = it_query(conn, sql, mode);
            IT_ROW(res);
            size_t len = 0;
            const char *data = mywire_get(res, 0, &len);
            assert_non_null(data);
            if (len != sizes[i]) {
                fail_msg("%s: %zu bytes", sql, len);
            }
            for (size_t k = 0; k < len; k++) {
                if (data[k] != 'q') {
                    fail_msg("%s: byte %zu is 0x%02x", sql, k, (unsigned char)data[k]);
                }
            }
            IT_DONE(res);
            mywire_result_free(res);
        }
    }
    /* Queries whose COM_QUERY payload is one frame minus one, exactly one
     * frame (then an empty frame) and one more. */
    static const char head[] = "SELECT LENGTH('";
    static const char tail[] = "')";
    const size_t hl = strlen(head), tl = strlen(tail);
    for (size_t payload = FRAME_MAX - 1; payload <= FRAME_MAX + 1; payload++) {
        size_t sql_len = payload - 1; /* the command byte */
        size_t n = sql_len - hl - tl;
        char *sql = malloc(sql_len);
        assert_non_null(sql);
        memcpy(sql, head, hl);
        memset(sql + hl, 'w', n);
        memcpy(sql + hl + n, tail, tl);
        mywire_result *res = NULL;
        IT_OK(conn, mywire_query(conn, sql, sql_len, MYWIRE_BUFFERED, &res));
        IT_ROW(res);
        char want[32];
        snprintf(want, sizeof want, "%zu", n);
        IT_VAL(res, 0, want);
        IT_DONE(res);
        mywire_result_free(res);
        free(sql);
    }
    IT_OK(conn, mywire_ping(conn));
    mywire_conn_free(conn);
}

/* -------------------------------------------------------------- many rows */

static void read_rows(mywire_conn *conn, unsigned count, int mode)
{
    char *sql = it_format("SELECT seq, CONCAT('row-', seq), REPEAT('z', seq %% 50), "
                          "IF(seq %% 7 = 0, NULL, seq * 3) FROM seq_0_to_%u WHERE seq > 0",
                          count);
    mywire_result *res = it_query(conn, sql, mode);
    assert_int_equal(mywire_column_count(res), 4);
    char a[16], b[24], d[16], z[64];
    memset(z, 'z', sizeof z);
    for (unsigned i = 1; i <= count; i++) {
        IT_ROW(res);
        snprintf(a, sizeof a, "%u", i);
        snprintf(b, sizeof b, "row-%u", i);
        IT_VAL(res, 0, a);
        IT_VAL(res, 1, b);
        size_t len = 99;
        const char *data = mywire_get(res, 2, &len);
        if (data == NULL || len != i % 50 || memcmp(data, z, len) != 0) {
            fail_msg("row %u: column 2 is %zu bytes", i, len);
        }
        if (i % 7 == 0) {
            assert_int_equal(mywire_is_null(res, 3), 1);
        } else {
            snprintf(d, sizeof d, "%u", i * 3);
            IT_VAL(res, 3, d);
        }
    }
    IT_DONE(res);
    assert_int_equal(mywire_row_count(res), count);
    mywire_result_free(res);
    free(sql);
}

static void test_many_rows(void **state)
{
    (void)state;
    mywire_conn *conn = open_zlib(NULL);
    double t0 = it_now();
    read_rows(conn, 200000, MYWIRE_STREAMING);
    read_rows(conn, 200000, MYWIRE_BUFFERED);
    print_message("2 x 200000 rows over zlib in %.2f s\n", it_now() - t0);
    /* Small results, where the server's packets stay under the compression
     * threshold and go out uncompressed inside compressed frames. */
    for (unsigned n = 0; n < 5; n++) {
        read_rows(conn, n, n % 2);
    }
    mywire_conn_free(conn);
}

static void test_multi_results(void **state)
{
    (void)state;
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_option(conn, "multi_statements", "1"));
    IT_OK(conn, connect_compressed(conn, "zlib", 0, NULL));
    assert_string_equal(mywire_compression(conn), "zlib");
    static const char sql[] = "SELECT 'first'; SELECT seq FROM seq_1_to_3000; "
                              "DO 1; SELECT 'last'";
    for (int mode = MYWIRE_BUFFERED; mode <= MYWIRE_STREAMING; mode++) {
        mywire_result *res = NULL;
        IT_OK(conn, mywire_query(conn, sql, strlen(sql), mode, &res));
        IT_ROW(res);
        IT_VAL(res, 0, "first");
        IT_DONE(res);
        mywire_result_free(res);
        IT_OK(conn, mywire_next_result(conn, mode, &res));
        for (unsigned i = 1; i <= 3000; i++) {
            IT_ROW(res);
            char v[16];
            snprintf(v, sizeof v, "%u", i);
            IT_VAL(res, 0, v);
        }
        IT_DONE(res);
        mywire_result_free(res);
        IT_OK(conn, mywire_next_result(conn, mode, &res));
        assert_int_equal(mywire_column_count(res), 0);
        mywire_result_free(res);
        IT_OK(conn, mywire_next_result(conn, mode, &res));
        IT_ROW(res);
        IT_VAL(res, 0, "last");
        IT_DONE(res);
        mywire_result_free(res);
        assert_int_equal(mywire_next_result(conn, mode, &res), MYWIRE_DONE);
        assert_null(res);
    }
    mywire_conn_free(conn);
}

/* --------------------------------------------------------- zlib with TLS */

static void test_with_tls(void **state)
{
    (void)state;
    char *ca = it_cert("ca.pem");
    mywire_conn *conn = open_zlib(ca);
    assert_int_equal(mywire_tls_active(conn), 1);
    assert_int_equal(mywire_tls_verified(conn), 1);
    check_compression(conn, "zlib + TLS", "zlib");
    char *version = it_status(conn, "Ssl_version");
    assert_string_equal(version, mywire_tls_version(conn));
    free(version);
    /* The server counts the bytes under TLS, so it sees no record overhead
     * here; the counters still show compression. */
    round_trip(conn, "it_compress_tls", 6 * 1000 * 1000 + 1, 1);
    read_rows(conn, 50000, MYWIRE_STREAMING);
    read_rows(conn, 50000, MYWIRE_BUFFERED);
    IT_OK(conn, mywire_reset_connection(conn));
    assert_int_equal(it_scalar_ll(conn, "SELECT 1 + 1"), 2);
    mywire_conn_free(conn);

    /* compress=on with TLS and the socket too. */
    conn = it_new();
    IT_OK(conn, connect_compressed(conn, "on", 0, ca));
    check_compression(conn, "compress=on + TLS", "zlib");
    assert_int_equal(mywire_tls_active(conn), 1);
    mywire_conn_free(conn);
    free(ca);
}

/* ---------------------------------------------------------- server errors */

static void test_after_server_errors(void **state)
{
    (void)state;
    mywire_conn *conn = open_zlib(NULL);
    mywire_result *res = NULL;
    static const char missing[] = "SELECT * FROM it_compress_no_such_table";
    int rc = mywire_query(conn, missing, strlen(missing), MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1146, "42S02");
    assert_null(res);
    assert_int_equal(it_scalar_ll(conn, "SELECT 2 + 3"), 5);

    /* An error after thousands of rows, inside the compressed stream. */
    static const char mid[] =
        "SELECT seq, IF(seq = 5000, (SELECT 1 UNION SELECT 2), seq) FROM seq_1_to_10000";
    for (int mode = MYWIRE_BUFFERED; mode <= MYWIRE_STREAMING; mode++) {
        res = NULL;
        rc = mywire_query(conn, mid, strlen(mid), mode, &res);
        if (mode == MYWIRE_BUFFERED) {
            IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1242, "21000");
            assert_null(res);
        } else {
            IT_OK(conn, rc);
            unsigned rows = 0;
            while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
                rows++;
            }
            IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1242, "21000");
            assert_int_equal(rows, 4999);
            mywire_result_free(res);
        }
        assert_int_equal(it_scalar_ll(conn, "SELECT 7 * 6"), 42);
    }
    IT_OK(conn, mywire_ping(conn));
    IT_OK(conn, mywire_select_db(conn, it_get_env()->db));
    rc = mywire_select_db(conn, "it_compress_no_such_db");
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1049, "42000");
    read_rows(conn, 1000, MYWIRE_STREAMING);
    mywire_conn_free(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiation),
        cmocka_unit_test(test_zstd_refused),
        cmocka_unit_test(test_20mb_value),
        cmocka_unit_test(test_frame_boundaries),
        cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_multi_results),
        cmocka_unit_test(test_with_tls),
        cmocka_unit_test(test_after_server_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
