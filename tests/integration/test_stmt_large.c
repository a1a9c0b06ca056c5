/*
 * Large prepared-statement values against a real MariaDB: a 64 MB value sent
 * with mywire_stmt_send_long_data in 1 MB chunks into a LONGBLOB, checked on
 * the server and read back through the binary protocol (streaming and
 * buffered); a value bound the ordinary way across the 16 MiB frame size.
 * The server runs with max_allowed_packet=1G (tests/server/mariadb.sh).
 */
#include "it_common.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB (1000u * 1000u)

/* Letters from a xorshift generator (no period that lines up with chunks). */
static void fill_pattern(unsigned char *out, size_t n, uint32_t seed)
{
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = (unsigned char)(x >> 11);
    }
}

static mywire_conn *connect_big(void)
{
    mywire_conn *conn = it_new();
    /* The row is 64 MB and a few bytes, just under the default limit of
     * 64 MiB; raised so that this tests long data, not the limit. */
    IT_OK(conn, mywire_set_max_allowed_packet(conn, 256u * 1024 * 1024));
    it_connect_configured_tcp(conn);
    return conn;
}

static mywire_stmt *prepare(mywire_conn *conn, const char *sql)
{
    mywire_stmt *st = NULL;
    IT_OK(conn, mywire_stmt_new(conn, &st));
    IT_OK(conn, mywire_stmt_prepare(st, sql, strlen(sql)));
    return st;
}

static void check_value(mywire_conn *conn, mywire_stmt *sel, int mode, const unsigned char *want,
                        size_t n)
{
    mywire_result *res = NULL;
    IT_OK(conn, mywire_stmt_execute(sel, mode, &res));
    assert_int_equal(mywire_result_is_binary(res), 1);
    IT_ROW(res);
    size_t len = 0;
    const char *data = mywire_get(res, 1, &len);
    assert_non_null(data);
    if (len != n) fail_msg("read back %zu bytes, expected %zu", len, n);
    uint32_t got = it_crc32((const unsigned char *)data, len);
    uint32_t exp = it_crc32(want, n);
    if (got != exp || memcmp(data, want, n) != 0) {
        size_t i = 0;
        while (i < n && (unsigned char)data[i] == want[i]) i++;
        fail_msg("CRC %08x, expected %08x; first difference at byte %zu", got, exp, i);
    }
    assert_int_equal(data[len], '\0');
    const char *b = NULL;
    size_t blen = 0;
    assert_int_equal(mywire_get_bytes(res, 1, &b, &blen), MYWIRE_OK);
    assert_ptr_equal(b, data);
    IT_VAL(res, 2, "tail");
    IT_DONE(res);
    mywire_result_free(res);
}

static void test_64mb_long_data(void **state)
{
    (void)state;
    const size_t n = 64 * MB, chunk = 1 * MB;
    unsigned char *value = malloc(n);
    assert_non_null(value);
    fill_pattern(value, n, 64064064);

    mywire_conn *conn = connect_big();
    it_exec(conn, "DROP TABLE IF EXISTS it_stmt_big");
    /* MyISAM: InnoDB may refuse a 64 MB BLOB with the test server's redo log. */
    it_exec(conn, "CREATE TABLE it_stmt_big (id INT PRIMARY KEY, b LONGBLOB) ENGINE=MyISAM");
    mywire_stmt *ins = prepare(conn, "INSERT INTO it_stmt_big VALUES (?, ?)");
    IT_OK(conn, mywire_stmt_bind_int32(ins, 0, 1));
    double t0 = it_now();
    for (size_t off = 0; off < n; off += chunk)
        IT_OK(conn, mywire_stmt_send_long_data(ins, 1, value + off, chunk));
    mywire_result *res = NULL;
    IT_OK(conn, mywire_stmt_execute(ins, MYWIRE_BUFFERED, &res));
    assert_int_equal(mywire_affected_rows(res), 1);
    mywire_result_free(res);
    fprintf(stderr, "64 MB long data sent and stored in %.1f s\n", it_now() - t0);

    /* The long data was for that execution only: the parameter is unbound. */
    IT_OK(conn, mywire_stmt_bind_int32(ins, 0, 2));
    int rc = mywire_stmt_execute(ins, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_ARGUMENT, 0, NULL);
    assert_non_null(strstr(mywire_errmsg(conn), "parameter 1"));

    /* Long data dropped by mywire_stmt_reset: the parameter is unbound. */
    IT_OK(conn, mywire_stmt_send_long_data(ins, 1, "junk", 4));
    IT_OK(conn, mywire_stmt_reset(ins));
    rc = mywire_stmt_execute(ins, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_ARGUMENT, 0, NULL);

    /* Long data, then an ordinary bind of the same parameter: refused (the
     * server would take the long data and skip the bound value), also
     * after mywire_stmt_clear_bindings; mywire_stmt_reset drops the data. */
    IT_OK(conn, mywire_stmt_send_long_data(ins, 1, "junk", 4));
    assert_int_equal(mywire_stmt_bind_bytes(ins, 1, "ok", 2), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_clear_bindings(ins), MYWIRE_OK);
    assert_int_equal(mywire_stmt_bind_bytes(ins, 1, "ok", 2), MYWIRE_ERROR_ARGUMENT);
    IT_OK(conn, mywire_stmt_reset(ins));
    IT_OK(conn, mywire_stmt_bind_int32(ins, 0, 2));
    IT_OK(conn, mywire_stmt_bind_bytes(ins, 1, "ok", 2));
    IT_OK(conn, mywire_stmt_execute(ins, MYWIRE_BUFFERED, &res));
    mywire_result_free(res);
    char *v2 = it_scalar(conn, "SELECT b FROM it_stmt_big WHERE id = 2");
    assert_string_equal(v2, "ok");
    free(v2);

    /* A chunk of 0 bytes and chunks of odd sizes. */
    IT_OK(conn, mywire_stmt_bind_int32(ins, 0, 3));
    IT_OK(conn, mywire_stmt_send_long_data(ins, 1, "", 0));
    IT_OK(conn, mywire_stmt_send_long_data(ins, 1, "ab", 2));
    IT_OK(conn, mywire_stmt_send_long_data(ins, 1, "", 0));
    IT_OK(conn, mywire_stmt_send_long_data(ins, 1, "cde", 3));
    IT_OK(conn, mywire_stmt_execute(ins, MYWIRE_BUFFERED, &res));
    mywire_result_free(res);
    v2 = it_scalar(conn, "SELECT b FROM it_stmt_big WHERE id = 3");
    assert_string_equal(v2, "abcde");
    free(v2);
    mywire_stmt_free(ins);

    /* Long data for a parameter before another: the one after is read right. */
    ins = prepare(conn, "INSERT INTO it_stmt_big (b, id) VALUES (?, ?)");
    IT_OK(conn, mywire_stmt_send_long_data(ins, 0, "first", 5));
    IT_OK(conn, mywire_stmt_bind_int32(ins, 1, 4));
    IT_OK(conn, mywire_stmt_execute(ins, MYWIRE_BUFFERED, &res));
    mywire_result_free(res);
    mywire_stmt_free(ins);
    v2 = it_scalar(conn, "SELECT b FROM it_stmt_big WHERE id = 4");
    assert_string_equal(v2, "first");
    free(v2);

    /* What the server stored. */
    char *want = it_format("%zu %u", n, it_crc32(value, n));
    char *got = it_scalar(conn, "SELECT CONCAT(LENGTH(b), ' ', CRC32(b)) FROM it_stmt_big WHERE id = 1");
    assert_string_equal(got, want);
    free(got);
    free(want);

    /* Back through the binary protocol. */
    mywire_stmt *sel = prepare(conn, "SELECT id, b, 'tail' FROM it_stmt_big WHERE id = ?");
    IT_OK(conn, mywire_stmt_bind_int32(sel, 0, 1));
    long before = it_rss_kib();
    check_value(conn, sel, MYWIRE_STREAMING, value, n);
    check_value(conn, sel, MYWIRE_BUFFERED, value, n);
    fprintf(stderr, "RSS %ld KiB -> %ld KiB\n", before, it_rss_kib());
    mywire_stmt_free(sel);
    it_exec(conn, "DROP TABLE it_stmt_big");
    mywire_conn_free(conn);
    free(value);
}

/* An ordinary bind of a 20 MB value: COM_STMT_EXECUTE split across frames. */
static void test_20mb_bound_value(void **state)
{
    (void)state;
    const size_t n = 20 * MB + 3;
    unsigned char *value = malloc(n);
    assert_non_null(value);
    fill_pattern(value, n, 2020);
    mywire_conn *conn = connect_big();
    it_exec(conn, "DROP TABLE IF EXISTS it_stmt_big2");
    it_exec(conn, "CREATE TABLE it_stmt_big2 (id INT PRIMARY KEY, b LONGBLOB) ENGINE=MyISAM");
    mywire_stmt *ins = prepare(conn, "INSERT INTO it_stmt_big2 VALUES (?, ?)");
    IT_OK(conn, mywire_stmt_bind_int32(ins, 0, 1));
    IT_OK(conn, mywire_stmt_bind_bytes(ins, 1, value, n));
    mywire_result *res = NULL;
    IT_OK(conn, mywire_stmt_execute(ins, MYWIRE_BUFFERED, &res));
    mywire_result_free(res);
    mywire_stmt_free(ins);
    mywire_stmt *sel = prepare(conn, "SELECT id, b, 'tail' FROM it_stmt_big2 WHERE id = ?");
    IT_OK(conn, mywire_stmt_bind_int32(sel, 0, 1));
    check_value(conn, sel, MYWIRE_STREAMING, value, n);
    mywire_stmt_free(sel);
    it_exec(conn, "DROP TABLE it_stmt_big2");
    mywire_conn_free(conn);
    free(value);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_64mb_long_data),
        cmocka_unit_test(test_20mb_bound_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
