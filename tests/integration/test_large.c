/*
 * Large values against a real MariaDB: a 20 MB value sent in a query (split
 * into 16 MiB frames) and read back; payloads at and around the 0xFFFFFF frame
 * boundary in both directions; the client's max_allowed_packet and
 * max_result_bytes limits.
 */
#include "it_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_MAX 0xFFFFFFu /* the largest payload of one protocol frame */

/* Letters from a xorshift generator: no period that lines up with frames, so a
 * dropped, doubled or misplaced byte anywhere changes the content. */
static void fill_pattern(char *out, size_t n, uint32_t seed)
{
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = (char)('a' + x % 26);
    }
}

/* The index of the first byte of data[0..n) that is not c, or n. */
static size_t first_not(const char *data, size_t n, char c)
{
    for (size_t i = 0; i < n; i++) {
        if (data[i] != c) {
            return i;
        }
    }
    return n;
}

static void check_big_value(mywire_result *res, unsigned col, const char *want, size_t n)
{
    size_t len = 0;
    const char *data = mywire_get(res, col, &len);
    assert_non_null(data);
    if (len != n) {
        fail_msg("column %u: %zu bytes, expected %zu", col, len, n);
    }
    if (memcmp(data, want, n) != 0) {
        size_t i = 0;
        while (data[i] == want[i]) {
            i++;
        }
        fail_msg("column %u: first difference at byte %zu of %zu", col, i, n);
    }
    assert_int_equal(data[len], '\0');
}

static void test_20mb_value_round_trip(void **state)
{
    (void)state;
    const size_t n = 20 * 1000 * 1000 + 7;
    mywire_conn *conn = it_connect_tcp();
    it_exec(conn, "DROP TABLE IF EXISTS it_big");
    /* MyISAM: InnoDB may refuse a 20 MB BLOB with a small redo log. */
    it_exec(conn, "CREATE TABLE it_big (id INT PRIMARY KEY, b LONGBLOB) ENGINE=MyISAM");

    static const char head[] = "INSERT INTO it_big VALUES (1, '";
    static const char tail[] = "')";
    size_t sql_len = strlen(head) + n + strlen(tail);
    char *sql = malloc(sql_len);
    assert_non_null(sql);
    memcpy(sql, head, strlen(head));
    char *value = sql + strlen(head);
    fill_pattern(value, n, 20240229);
    memcpy(value + n, tail, strlen(tail));

    /* 20 MB of query: two frames, 16777215 bytes then the rest. */
    mywire_result *res = NULL;
    IT_OK(conn, mywire_query(conn, sql, sql_len, MYWIRE_BUFFERED, &res));
    assert_int_equal(mywire_affected_rows(res), 1);
    mywire_result_free(res);

    /* The server stored exactly these bytes. */
    char *want = it_format("%zu %u", n, it_crc32((const unsigned char *)value, n));
    char *got = it_scalar(conn, "SELECT CONCAT(LENGTH(b), ' ', CRC32(b)) FROM it_big");
    assert_string_equal(got, want);
    free(got);
    free(want);

    for (int mode = MYWIRE_BUFFERED; mode <= MYWIRE_STREAMING; mode++) {
        res = it_query(conn, "SELECT id, b, 'tail' FROM it_big", mode);
        IT_ROW(res);
        IT_VAL(res, 0, "1");
        check_big_value(res, 1, value, n);
        IT_VAL(res, 2, "tail");
        IT_DONE(res);
        mywire_result_free(res);

        /* The value alone (the row starts with 0xFE: a 9-byte length, not EOF). */
        res = it_query(conn, "SELECT b FROM it_big", mode);
        IT_ROW(res);
        check_big_value(res, 0, value, n);
        IT_DONE(res);
        mywire_result_free(res);
    }
    IT_OK(conn, mywire_ping(conn));
    it_exec(conn, "DROP TABLE it_big");
    free(sql);
    mywire_conn_free(conn);
}

/* SELECT REPEAT('x', n): the row payload is a 4-byte length prefix plus n
 * bytes for 2^16 <= n < 2^24, 9 bytes plus n from 2^24 on. */
static void check_repeat_row(mywire_conn *conn, size_t n, int mode)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT REPEAT('x', %zu), 'after'", n);
    mywire_result *res = it_query(conn, sql, mode);
    IT_ROW(res);
    size_t len = 0;
    const char *data = mywire_get(res, 0, &len);
    assert_non_null(data);
    if (len != n) {
        fail_msg("REPEAT('x', %zu) came back with %zu bytes", n, len);
    }
    size_t bad = first_not(data, len, 'x');
    if (bad != len) {
        fail_msg("REPEAT('x', %zu): byte %zu is 0x%02x", n, bad, (unsigned char)data[bad]);
    }
    assert_int_equal(data[len], '\0');
    IT_VAL(res, 1, "after");
    IT_DONE(res);
    mywire_result_free(res);
}

static void test_receive_frame_boundaries(void **state)
{
    (void)state;
    mywire_conn *conn = it_connect_tcp();
    /* Row payload = 4 + n + 1 + 5 ('after'): 0xFFFFFF - 1, 0xFFFFFF exactly
     * (followed by an empty frame), 0xFFFFFF + 1 and + 2. */
    const size_t base = FRAME_MAX - 4 - 6;
    const size_t sizes[] = {base - 1, base, base + 1, base + 2,
                            /* a single column at exactly 0xFFFFFF is covered
                             * below; these cross the 2^24 length-prefix edge */
                            (1u << 24) - 1, 1u << 24};
    for (int mode = MYWIRE_BUFFERED; mode <= MYWIRE_STREAMING; mode++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            check_repeat_row(conn, sizes[i], mode);
        }
        /* One column alone: payload 4 + n = 0xFFFFFF and 0x1000000. */
        for (size_t n = FRAME_MAX - 4; n <= FRAME_MAX - 3; n++) {
            char sql[64];
            snprintf(sql, sizeof sql, "SELECT REPEAT('y', %zu)", n);
            mywire_result *res = it_query(conn, sql, mode);
            IT_ROW(res);
            size_t len = 0;
            const char *data = mywire_get(res, 0, &len);
            assert_non_null(data);
            assert_int_equal(len, n);
            assert_int_equal(first_not(data, len, 'y'), len);
            IT_DONE(res);
            mywire_result_free(res);
        }
        /* Two rows in a row at the boundary, then a small one. */
        char sql[160];
        snprintf(sql, sizeof sql,
                 "SELECT REPEAT('z', %u) FROM seq_1_to_2 UNION ALL SELECT 'end'",
                 FRAME_MAX - 4);
        mywire_result *res = it_query(conn, sql, mode);
        for (int r = 0; r < 2; r++) {
            IT_ROW(res);
            size_t len = 0;
            const char *data = mywire_get(res, 0, &len);
            assert_non_null(data);
            assert_int_equal(len, FRAME_MAX - 4);
            assert_int_equal(first_not(data, len, 'z'), len);
        }
        IT_ROW(res);
        IT_VAL(res, 0, "end");
        IT_DONE(res);
        mywire_result_free(res);
        /* The stream is still in step. */
        res = it_query(conn, "SELECT 'in sync'", MYWIRE_BUFFERED);
        IT_ROW(res);
        IT_VAL(res, 0, "in sync");
        mywire_result_free(res);
    }
    mywire_conn_free(conn);
}

static void test_send_frame_boundaries(void **state)
{
    (void)state;
    mywire_conn *conn = it_connect_tcp();
    static const char head[] = "SELECT LENGTH('";
    static const char tail[] = "')";
    const size_t fixed = strlen(head) + strlen(tail);
    /* COM_QUERY payload = 1 command byte + the SQL: 0xFFFFFE, 0xFFFFFF (then an
     * empty frame), 0x1000000, 0x1000001. */
    const size_t sql_lens[] = {FRAME_MAX - 2, FRAME_MAX - 1, FRAME_MAX, FRAME_MAX + 1};
    char *sql = malloc(FRAME_MAX + 1);
    assert_non_null(sql);
    for (size_t i = 0; i < sizeof sql_lens / sizeof sql_lens[0]; i++) {
        size_t len = sql_lens[i];
        size_t k = len - fixed;
        memcpy(sql, head, strlen(head));
        memset(sql + strlen(head), 'q', k);
        memcpy(sql + strlen(head) + k, tail, strlen(tail));
        mywire_result *res = NULL;
        int rc = mywire_query(conn, sql, len, MYWIRE_BUFFERED, &res);
        if (rc != MYWIRE_OK) {
            fail_msg("a %zu-byte query -> %d (%s) errno %u: %s", len, rc, mywire_errstr(rc),
                     mywire_errno(conn), mywire_errmsg(conn));
        }
        IT_ROW(res);
        char want[32];
        snprintf(want, sizeof want, "%zu", k);
        IT_VAL(res, 0, want);
        IT_DONE(res);
        mywire_result_free(res);
        IT_OK(conn, mywire_ping(conn));
    }
    free(sql);
    mywire_conn_free(conn);
}

static mywire_conn *connect_with_packet_limit(uint64_t bytes)
{
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_max_allowed_packet(conn, bytes));
    it_connect_configured_tcp(conn);
    return conn;
}

static void test_client_max_allowed_packet(void **state)
{
    (void)state;
    const uint64_t limit = 1024 * 1024;
    mywire_conn *conn = connect_with_packet_limit(limit);

    /* Under the limit, and exactly at it (payload 4 + n == limit). */
    check_repeat_row(conn, 1000000, MYWIRE_BUFFERED);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT REPEAT('x', %u)", (unsigned)(limit - 4));
    mywire_result *res = it_query(conn, sql, MYWIRE_BUFFERED);
    IT_ROW(res);
    size_t len = 0;
    assert_non_null(mywire_get(res, 0, &len));
    assert_int_equal(len, limit - 4);
    mywire_result_free(res);

    /* One byte over. */
    snprintf(sql, sizeof sql, "SELECT REPEAT('x', %u)", (unsigned)(limit - 3));
    res = NULL;
    int rc = mywire_query(conn, sql, strlen(sql), MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_LIMIT, 0, NULL);
    assert_null(res);
    mywire_conn_free(conn);

    /* 2 MB, buffered. */
    conn = connect_with_packet_limit(limit);
    res = NULL;
    rc = mywire_query(conn, "SELECT REPEAT('x', 2000000)", 27, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_LIMIT, 0, NULL);
    assert_null(res);
    /* Whatever the handle does next, it does not crash or pretend. */
    rc = mywire_ping(conn);
    if (rc != MYWIRE_OK && rc != MYWIRE_ERROR_STATE) {
        fail_msg("ping after a LIMIT error -> %d (%s)", rc, mywire_errstr(rc));
    }
    mywire_conn_free(conn);

    /* 2 MB in the third row of a streaming result. */
    conn = connect_with_packet_limit(limit);
    res = it_query(conn, "SELECT seq, REPEAT('x', IF(seq = 3, 2000000, 10)) FROM seq_1_to_5",
                   MYWIRE_STREAMING);
    IT_ROW(res);
    IT_ROW(res);
    rc = mywire_fetch(res);
    IT_ERR(conn, rc, MYWIRE_ERROR_LIMIT, 0, NULL);
    /* The result did not end: a later fetch must not claim it did (checked
     * after the rest of this block). */
    int again = mywire_fetch(res);
    mywire_result_free(res);
    rc = mywire_ping(conn);
    if (rc != MYWIRE_OK && rc != MYWIRE_ERROR_STATE) {
        fail_msg("ping after a LIMIT error -> %d (%s)", rc, mywire_errstr(rc));
    }
    mywire_conn_free(conn);

    /* The limit applies after reassembly: 20 MB split into frames is refused. */
    conn = connect_with_packet_limit(16 * 1024 * 1024);
    res = NULL;
    rc = mywire_query(conn, "SELECT REPEAT('x', 20000000)", 28, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_LIMIT, 0, NULL);
    mywire_conn_free(conn);

    if (again == MYWIRE_ROW || again == MYWIRE_DONE) {
        fail_msg("fetch after a LIMIT error in a streaming result -> %d (%s), expected "
                 "MYWIRE_ERROR_LIMIT or MYWIRE_ERROR_STATE",
                 again, mywire_errstr(again));
    }
}

static void test_max_result_bytes(void **state)
{
    (void)state;
    static const char big[] = "SELECT seq, REPEAT('x', 1000) FROM seq_1_to_10000"; /* ~10 MB */
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_max_result_bytes(conn, 1000 * 1000));
    it_connect_configured_tcp(conn);
    mywire_result *res = NULL;
    int rc = mywire_query(conn, big, strlen(big), MYWIRE_BUFFERED, &res);
    /* Its own code: unlike MYWIRE_ERROR_LIMIT, the connection stays usable. */
    IT_ERR(conn, rc, MYWIRE_ERROR_RESULT_TOO_LARGE, 0, NULL);
    assert_null(res);
    assert_int_equal(it_scalar_ll(conn, "SELECT 5"), 5);
    mywire_conn_free(conn);

    /* The limit is for buffered results: streaming reads all 10 MB, and a
     * small buffered result fits. */
    conn = it_new();
    IT_OK(conn, mywire_set_max_result_bytes(conn, 1000 * 1000));
    it_connect_configured_tcp(conn);
    res = it_query(conn, big, MYWIRE_STREAMING);
    uint64_t rows = 0;
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        rows++;
    }
    assert_int_equal(rc, MYWIRE_DONE);
    assert_int_equal(rows, 10000);
    mywire_result_free(res);
    res = it_query(conn, "SELECT seq, REPEAT('x', 1000) FROM seq_1_to_100", MYWIRE_BUFFERED);
    assert_int_equal(mywire_row_count(res), 100);
    mywire_result_free(res);
    mywire_conn_free(conn);

    /* 0 is no limit. */
    conn = it_new();
    IT_OK(conn, mywire_set_max_result_bytes(conn, 0));
    it_connect_configured_tcp(conn);
    res = it_query(conn, big, MYWIRE_BUFFERED);
    assert_int_equal(mywire_row_count(res), 10000);
    IT_OK(conn, mywire_seek(res, 9999));
    IT_ROW(res);
    IT_VAL(res, 0, "10000");
    mywire_result_free(res);
    mywire_conn_free(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_20mb_value_round_trip),
        cmocka_unit_test(test_receive_frame_boundaries),
        cmocka_unit_test(test_send_frame_boundaries),
        cmocka_unit_test(test_client_max_allowed_packet),
        cmocka_unit_test(test_max_result_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
