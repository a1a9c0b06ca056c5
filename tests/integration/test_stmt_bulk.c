/*
 * Column arrays (mywire_stmt_bind_array + mywire_stmt_execute_array) against
 * the real MariaDB, which has bulk execution (COM_STMT_BULK_EXECUTE): every
 * array type with its boundary values and NULLs read back, DEFAULT in an
 * INSERT and IGNORE in an UPDATE, row structs (a stride), arrays re-read after
 * the caller changed them, more than 4 MiB of rows (several requests,
 * counted by the server), a duplicate key in a later request (the earlier
 * requests applied, the message says how far), a small max_allowed_packet,
 * and every bad argument giving ARGUMENT with no row applied and the
 * connection usable. The row-wise batch gets the same result for the same
 * rows. Per-row results (mywire_stmt_set_row_results), and a statement with
 * RETURNING refused without losing the connection. Servers without bulk
 * execution, and MariaDB 11.5's bulk per-row results: tests/scripted/test_bulk.py.
 */
#include "it_common.h"

#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mywire_stmt *prepared(mywire_conn *conn, const char *sql)
{
    mywire_stmt *st = NULL;
    IT_OK(conn, mywire_stmt_new(conn, &st));
    IT_OK(conn, mywire_stmt_prepare(st, sql, strlen(sql)));
    return st;
}

static uint64_t run_array(mywire_conn *conn, mywire_stmt *st, uint64_t rows, uint64_t *insert_id)
{
    mywire_result *res = NULL;
    IT_OK(conn, mywire_stmt_execute_array(st, rows, &res));
    assert_non_null(res);
    assert_int_equal(mywire_column_count(res), 0);
    uint64_t affected = mywire_affected_rows(res);
    if (insert_id) *insert_id = mywire_insert_id(res);
    mywire_result_free(res);
    return affected;
}

static long long bulk_requests(mywire_conn *conn)
{
    return it_scalar_ll(conn, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                              "WHERE VARIABLE_NAME = 'COM_STMT_EXECUTE'");
}

/* ------------------------------------------------------------ every type */

static void test_every_type(void **state)
{
    enum { N = 4 };
    int8_t i8[N] = {INT8_MIN, INT8_MAX, 0, -1};
    int16_t i16[N] = {INT16_MIN, INT16_MAX, 0, -2};
    int32_t i32[N] = {INT32_MIN, INT32_MAX, 0, -3};
    int64_t i64[N] = {INT64_MIN, INT64_MAX, 0, -4};
    uint8_t u8[N] = {0, UINT8_MAX, 1, 5};
    uint16_t u16[N] = {0, UINT16_MAX, 1, 6};
    uint32_t u32[N] = {0, UINT32_MAX, 1, 7};
    uint64_t u64[N] = {0, UINT64_MAX, 1, 8};
    float f[N] = {-1.5f, 3.25f, 0.0f, 16777216.0f};
    double d[N] = {-2.5e-300, 1e308, 0.1, 2.5};
    const char *s[N] = {"", "caf\xc3\xa9 \xf0\x9f\x98\x80", NULL, "x'y\\z"};
    size_t s_len[N] = {0, 10, 0, 5};
    const char *strz[N] = {"nul", "terminated", "", NULL};
    const void *b[N] = {"\0\1\2", "", "\xff", NULL};
    size_t b_len[N] = {3, 0, 1, 0};
    mywire_time t[N] = {
        {MYWIRE_TIME_KIND_DATETIME, 0, 2024, 2, 29, 23, 59, 58, 123456},
        {MYWIRE_TIME_KIND_DATETIME, 0, 0, 0, 0, 0, 0, 0, 0},
        {MYWIRE_TIME_KIND_DATETIME, 0, 1999, 12, 31, 0, 0, 0, 0},
        {MYWIRE_TIME_KIND_DATETIME, 0, 9999, 12, 31, 23, 59, 59, 999999},
    };
    mywire_time tm[N] = {
        {MYWIRE_TIME_KIND_TIME, 1, 0, 0, 0, 838, 59, 59, 0},
        {MYWIRE_TIME_KIND_TIME, 0, 0, 0, 0, 25, 0, 1, 5},
        {MYWIRE_TIME_KIND_TIME, 0, 0, 0, 0, 0, 0, 0, 0},
        {MYWIRE_TIME_KIND_TIME, 0, 0, 0, 0, 1, 2, 3, 0},
    };
    /* Row 2 is NULL in every integer column, row 3 in the floats. */
    uint8_t ints_null[N] = {MYWIRE_IND_NONE, MYWIRE_IND_NONE, MYWIRE_IND_NULL, MYWIRE_IND_NONE};
    uint8_t floats_null[N] = {MYWIRE_IND_NONE, MYWIRE_IND_NONE, MYWIRE_IND_NONE, MYWIRE_IND_NULL};
    mywire_conn *conn = it_connect_tcp();
    (void)state;

    it_exec(conn, "CREATE TEMPORARY TABLE bulk_types (k INT AUTO_INCREMENT PRIMARY KEY, "
                  "i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, u8 TINYINT UNSIGNED, "
                  "u16 SMALLINT UNSIGNED, u32 INT UNSIGNED, u64 BIGINT UNSIGNED, f FLOAT, d DOUBLE, "
                  "s VARCHAR(32) CHARACTER SET utf8mb4, z VARCHAR(32), b VARBINARY(8), t DATETIME(6), "
                  "tm TIME(6))");
    mywire_stmt *st = prepared(conn, "INSERT INTO bulk_types (i8, i16, i32, i64, u8, u16, u32, u64, f, d, "
                                     "s, z, b, t, tm) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    IT_OK(conn, mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_INT8, i8, 0, NULL, ints_null));
    IT_OK(conn, mywire_stmt_bind_array(st, 1, MYWIRE_ARRAY_INT16, i16, 0, NULL, ints_null));
    IT_OK(conn, mywire_stmt_bind_array(st, 2, MYWIRE_ARRAY_INT32, i32, 0, NULL, ints_null));
    IT_OK(conn, mywire_stmt_bind_array(st, 3, MYWIRE_ARRAY_INT64, i64, 0, NULL, ints_null));
    IT_OK(conn, mywire_stmt_bind_array(st, 4, MYWIRE_ARRAY_UINT8, u8, 0, NULL, ints_null));
    IT_OK(conn, mywire_stmt_bind_array(st, 5, MYWIRE_ARRAY_UINT16, u16, 0, NULL, ints_null));
    IT_OK(conn, mywire_stmt_bind_array(st, 6, MYWIRE_ARRAY_UINT32, u32, 0, NULL, ints_null));
    IT_OK(conn, mywire_stmt_bind_array(st, 7, MYWIRE_ARRAY_UINT64, u64, 0, NULL, ints_null));
    IT_OK(conn, mywire_stmt_bind_array(st, 8, MYWIRE_ARRAY_FLOAT, f, 0, NULL, floats_null));
    IT_OK(conn, mywire_stmt_bind_array(st, 9, MYWIRE_ARRAY_DOUBLE, d, 0, NULL, floats_null));
    IT_OK(conn, mywire_stmt_bind_array(st, 10, MYWIRE_ARRAY_STRING, s, 0, s_len, NULL));
    IT_OK(conn, mywire_stmt_bind_array(st, 11, MYWIRE_ARRAY_STRING, strz, 0, NULL, NULL));
    IT_OK(conn, mywire_stmt_bind_array(st, 12, MYWIRE_ARRAY_BYTES, b, 0, b_len, NULL));
    IT_OK(conn, mywire_stmt_bind_array(st, 13, MYWIRE_ARRAY_TIME, t, 0, NULL, NULL));
    IT_OK(conn, mywire_stmt_bind_array(st, 14, MYWIRE_ARRAY_TIME, tm, 0, NULL, NULL));
    uint64_t id = 0;
    long long before = bulk_requests(conn);
    assert_int_equal(run_array(conn, st, N, &id), N);
    assert_int_equal(id, 1);
    assert_int_equal(bulk_requests(conn) - before, 1);

    static const char *const want[N][15] = {
        {"-128", "-32768", "-2147483648", "-9223372036854775808", "0", "0", "0", "0", "-1.5", "-2.5e-300", "", "nul",
         "000102", "2024-02-29 23:59:58.123456", "-838:59:59.000000"},
        {"127", "32767", "2147483647", "9223372036854775807", "255", "65535", "4294967295",
         "18446744073709551615", "3.25", "1e308", "caf\xc3\xa9 \xf0\x9f\x98\x80", "terminated", "",
         "0000-00-00 00:00:00.000000", "25:00:01.000005"},
        {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "0", "0.1", NULL, "", "FF",
         "1999-12-31 00:00:00.000000", "00:00:00.000000"},
        {"-1", "-2", "-3", "-4", "5", "6", "7", "8", NULL, NULL, "x'y\\z", NULL, NULL,
         "9999-12-31 23:59:59.999999", "01:02:03.000000"},
    };
    mywire_result *res = it_query(conn, "SELECT i8, i16, i32, i64, u8, u16, u32, u64, f, d, s, z, HEX(b), t, tm "
                                        "FROM bulk_types ORDER BY k", MYWIRE_BUFFERED);
    for (int r = 0; r < N; r++) {
        IT_ROW(res);
        const mywire_value *row = mywire_row(res);
        for (int c = 0; c < 15; c++) {
            if (want[r][c] == NULL) {
                if (row[c].data != NULL) fail_msg("row %d column %d: %s, not NULL", r, c, row[c].data);
            } else {
                if (row[c].data == NULL) fail_msg("row %d column %d: NULL, not %s", r, c, want[r][c]);
                if (strcmp(row[c].data, want[r][c]) != 0)
                    fail_msg("row %d column %d: %s, not %s", r, c, row[c].data, want[r][c]);
            }
        }
    }
    IT_DONE(res);
    mywire_result_free(res);

    /* The arrays stay bound and are read again: changed in between. */
    i64[0] = 42;
    s[2] = "again";
    s_len[2] = 5;
    assert_int_equal(run_array(conn, st, 3, &id), 3);
    assert_true(id > 4); /* (InnoDB may have reserved more ids for the first rows) */
    char *sql = it_format("SELECT COUNT(*) FROM bulk_types WHERE i64 = 42 AND k = %llu", (unsigned long long)id);
    assert_int_equal(it_scalar_ll(conn, sql), 1);
    free(sql);
    sql = it_format("SELECT COUNT(*) FROM bulk_types WHERE s = 'again' AND k > %llu", (unsigned long long)id);
    assert_int_equal(it_scalar_ll(conn, sql), 1);
    free(sql);
    assert_int_equal(it_scalar_ll(conn, "SELECT COUNT(*) FROM bulk_types"), 7);

    /* clear_bindings drops them. */
    IT_OK(conn, mywire_stmt_clear_bindings(st));
    mywire_result *none = NULL;
    IT_ERR(conn, mywire_stmt_execute_array(st, 1, &none), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    assert_null(none);
    assert_non_null(strstr(mywire_errmsg(conn), "has no array"));
    mywire_stmt_free(st);
    mywire_conn_free(conn);
}

/* ------------------------------------------------ DEFAULT, IGNORE, strides */

struct person {
    int32_t id;
    const char *name;
    size_t name_len;
    uint8_t name_ind;
    int32_t age;
    uint8_t age_ind;
};

static void test_default_ignore_and_row_structs(void **state)
{
    struct person p[4] = {
        {1, "ann", 3, MYWIRE_IND_NONE, 30, MYWIRE_IND_NONE},
        {2, NULL, 0, MYWIRE_IND_DEFAULT, 0, MYWIRE_IND_DEFAULT},
        {3, "cy", 2, MYWIRE_IND_NONE, 0, MYWIRE_IND_NULL},
        {4, "dee", 3, MYWIRE_IND_DEFAULT, 44, MYWIRE_IND_NONE},
    };
    mywire_conn *conn = it_connect_socket();
    (void)state;

    it_exec(conn, "CREATE TEMPORARY TABLE bulk_people (id INT PRIMARY KEY, name VARCHAR(10) DEFAULT 'anon', "
                  "age INT DEFAULT 18)");
    mywire_stmt *ins = prepared(conn, "INSERT INTO bulk_people VALUES (?, ?, ?)");
    IT_OK(conn, mywire_stmt_bind_array(ins, 0, MYWIRE_ARRAY_INT32, &p[0].id, sizeof p[0], NULL, NULL));
    IT_OK(conn, mywire_stmt_bind_array(ins, 1, MYWIRE_ARRAY_STRING, &p[0].name, sizeof p[0], &p[0].name_len,
                                       &p[0].name_ind));
    IT_OK(conn, mywire_stmt_bind_array(ins, 2, MYWIRE_ARRAY_INT32, &p[0].age, sizeof p[0], NULL, &p[0].age_ind));
    assert_int_equal(run_array(conn, ins, 4, NULL), 4);
    char *all = it_scalar(conn, "SELECT GROUP_CONCAT(id, ':', name, ':', IFNULL(age, 'null') ORDER BY id) "
                                "FROM bulk_people");
    assert_string_equal(all, "1:ann:30,2:anon:18,3:cy:null,4:anon:44");
    free(all);

    /* UPDATE: IGNORE leaves the column as it is, row by row. (MariaDB 10.11
     * sets a column that is NULL to its DEFAULT instead: not tested here.) */
    int32_t ids[3] = {1, 3, 4};
    int32_t ages[3] = {31, 33, 0};
    uint8_t age_ind[3] = {MYWIRE_IND_NONE, MYWIRE_IND_NONE, MYWIRE_IND_IGNORE};
    const char *names[3] = {"x", "cyd", "y"};
    uint8_t name_ind[3] = {MYWIRE_IND_IGNORE, MYWIRE_IND_NONE, MYWIRE_IND_NONE};
    mywire_stmt *upd = prepared(conn, "UPDATE bulk_people SET age = ?, name = ? WHERE id = ?");
    IT_OK(conn, mywire_stmt_bind_array(upd, 0, MYWIRE_ARRAY_INT32, ages, 0, NULL, age_ind));
    IT_OK(conn, mywire_stmt_bind_array(upd, 1, MYWIRE_ARRAY_STRING, names, 0, NULL, name_ind));
    IT_OK(conn, mywire_stmt_bind_array(upd, 2, MYWIRE_ARRAY_INT32, ids, 0, NULL, NULL));
    assert_int_equal(run_array(conn, upd, 3, NULL), 3);
    all = it_scalar(conn, "SELECT GROUP_CONCAT(id, ':', name, ':', IFNULL(age, 'null') ORDER BY id) "
                          "FROM bulk_people");
    assert_string_equal(all, "1:ann:31,2:anon:18,3:cyd:33,4:y:44");
    free(all);
    mywire_stmt_free(upd);
    mywire_stmt_free(ins);
    mywire_conn_free(conn);
}

/* ------------------------------------------------- chunks, errors mid-way */

static char *row_text(uint64_t k, size_t *len)
{
    static char buf[64];
    int n = snprintf(buf, sizeof buf, "row-%08llu-padding-padding-padding", (unsigned long long)k);
    *len = (size_t)n;
    return buf;
}

struct big {
    uint64_t n;
    int64_t *ids;
    double *vals;
    char *text; /* 48 bytes per row */
    const char **strs;
    size_t *lens;
};

static struct big make_big(uint64_t n)
{
    struct big b = {n, malloc(n * sizeof(int64_t)), malloc(n * sizeof(double)), malloc(n * 48),
                    malloc(n * sizeof(char *)), malloc(n * sizeof(size_t))};
    assert_true(b.ids && b.vals && b.text && b.strs && b.lens);
    for (uint64_t k = 0; k < n; k++) {
        size_t len;
        char *t = row_text(k, &len);
        b.ids[k] = (int64_t)k + 1;
        b.vals[k] = (double)k / 4;
        memcpy(b.text + 48 * k, t, len);
        b.strs[k] = b.text + 48 * k;
        b.lens[k] = len;
    }
    return b;
}

static void free_big(struct big *b)
{
    free(b->ids);
    free(b->vals);
    free(b->text);
    free(b->strs);
    free(b->lens);
}

static void bind_big(mywire_conn *conn, mywire_stmt *st, struct big *b)
{
    IT_OK(conn, mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_INT64, b->ids, 0, NULL, NULL));
    IT_OK(conn, mywire_stmt_bind_array(st, 1, MYWIRE_ARRAY_DOUBLE, b->vals, 0, NULL, NULL));
    IT_OK(conn, mywire_stmt_bind_array(st, 2, MYWIRE_ARRAY_STRING, b->strs, 0, b->lens, NULL));
}

/* 200,000 rows of about 60 bytes: 12 MB, at least 3 requests of 4 MiB. */
static void test_more_than_one_request(void **state)
{
    struct big b = make_big(200000);
    mywire_conn *conn = it_connect_tcp();
    (void)state;

    it_exec(conn, "CREATE TEMPORARY TABLE bulk_big (id BIGINT PRIMARY KEY, v DOUBLE, s VARCHAR(48))");
    mywire_stmt *st = prepared(conn, "INSERT INTO bulk_big VALUES (?, ?, ?)");
    bind_big(conn, st, &b);
    long long before = bulk_requests(conn);
    assert_int_equal(run_array(conn, st, b.n, NULL), b.n);
    long long requests = bulk_requests(conn) - before;
    if (requests < 3 || requests > 4) fail_msg("%lld bulk requests for 12 MB of rows", requests);
    assert_int_equal(it_scalar_ll(conn, "SELECT COUNT(*) FROM bulk_big"), (long long)b.n);
    assert_int_equal(it_scalar_ll(conn, "SELECT SUM(id) FROM bulk_big"), (long long)(b.n * (b.n + 1) / 2));
    assert_int_equal(it_scalar_ll(conn, "SELECT SUM(LENGTH(s)) FROM bulk_big"), (long long)(b.n * 36));
    assert_int_equal(it_scalar_ll(conn, "SELECT COUNT(*) FROM bulk_big WHERE v = (id - 1) / 4 AND "
                                        "s = CONCAT('row-', LPAD(id - 1, 8, '0'), '-padding-padding-padding')"),
                     (long long)b.n);

    /* A duplicate key in the last rows: the requests before it were applied
     * (autocommit), the failing one is not; the message says how far. */
    it_exec(conn, "TRUNCATE TABLE bulk_big");
    b.ids[b.n - 1] = 1;
    mywire_result *res = NULL;
    int rc = mywire_stmt_execute_array(st, b.n, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1062, "23000");
    assert_null(res);
    assert_non_null(strstr(mywire_errmsg(conn), "of 200000; the earlier ones were applied"));
    long long kept = it_scalar_ll(conn, "SELECT COUNT(*) FROM bulk_big");
    if (kept < 100000 || kept >= (long long)b.n) fail_msg("%lld rows kept", kept);
    mywire_stmt_free(st);

    /* The row-wise batch sends the same rows the same way. */
    it_exec(conn, "TRUNCATE TABLE bulk_big");
    st = prepared(conn, "INSERT INTO bulk_big VALUES (?, ?, ?)");
    for (uint64_t k = 0; k < 1000; k++) {
        IT_OK(conn, mywire_stmt_bind_int64(st, 0, b.ids[k]));
        IT_OK(conn, mywire_stmt_bind_double(st, 1, b.vals[k]));
        IT_OK(conn, mywire_stmt_bind_string(st, 2, b.strs[k], b.lens[k]));
        IT_OK(conn, mywire_stmt_add_batch(st));
    }
    IT_OK(conn, mywire_stmt_execute_batch(st, &res));
    assert_int_equal(mywire_affected_rows(res), 1000);
    mywire_result_free(res);
    mywire_stmt_free(st);
    free_big(&b);
    mywire_conn_free(conn);
}

/* Half of a small max_allowed_packet per request: many requests. */
static void test_small_max_allowed_packet(void **state)
{
    struct big b = make_big(5000);
    mywire_conn *conn = it_configured("max_allowed_packet=65536", 0);
    (void)state;

    IT_OK(conn, mywire_connect(conn));
    it_exec(conn, "CREATE TEMPORARY TABLE bulk_big (id BIGINT PRIMARY KEY, v DOUBLE, s VARCHAR(48))");
    mywire_stmt *st = prepared(conn, "INSERT INTO bulk_big VALUES (?, ?, ?)");
    bind_big(conn, st, &b);
    long long before = bulk_requests(conn);
    assert_int_equal(run_array(conn, st, b.n, NULL), b.n);
    long long requests = bulk_requests(conn) - before;
    /* 5000 rows of 56 bytes in requests of at most 32 KiB of rows: 585 each. */
    if (requests != 9) fail_msg("%lld bulk requests", requests);
    assert_int_equal(it_scalar_ll(conn, "SELECT COUNT(*) FROM bulk_big"), (long long)b.n);
    mywire_stmt_free(st);
    free_big(&b);
    mywire_conn_free(conn);
}

/* The bulk packets through TLS and through zlib compression. */
static void test_over_tls_and_zlib(void **state)
{
    static const char *const options[] = {"ssl_mode=required", "compress=zlib"};
    struct big b = make_big(100000);
    (void)state;
    for (int k = 0; k < 2; k++) {
        mywire_conn *conn = it_configured(options[k], 0);
        IT_OK(conn, mywire_connect(conn));
        it_exec(conn, "CREATE TEMPORARY TABLE bulk_big (id BIGINT PRIMARY KEY, v DOUBLE, s VARCHAR(48))");
        mywire_stmt *st = prepared(conn, "INSERT INTO bulk_big VALUES (?, ?, ?)");
        bind_big(conn, st, &b);
        long long before = bulk_requests(conn);
        assert_int_equal(run_array(conn, st, b.n, NULL), b.n);
        assert_int_equal(bulk_requests(conn) - before, 2); /* 5.6 MB of rows */
        assert_int_equal(it_scalar_ll(conn, "SELECT COUNT(*) FROM bulk_big WHERE v = (id - 1) / 4 AND "
                                            "s = CONCAT('row-', LPAD(id - 1, 8, '0'), '-padding-padding-padding')"),
                         (long long)b.n);
        mywire_stmt_free(st);
        mywire_conn_free(conn);
    }
    free_big(&b);
}

/* Non-blocking: an array call in progress is continued only by
 * mywire_stmt_execute_array on its own statement (the real functions, in
 * parentheses: not the it_nonblocking wrappers that would drive them). */
static void test_nonblocking_continued_only_by_itself(void **state)
{
    struct big b = make_big(200000);
    mywire_conn *conn = it_connect_tcp();
    (void)state;
    it_exec(conn, "CREATE TEMPORARY TABLE bulk_big (id BIGINT PRIMARY KEY, v DOUBLE, s VARCHAR(48))");
    mywire_stmt *st = prepared(conn, "INSERT INTO bulk_big VALUES (?, ?, ?)");
    mywire_stmt *other = prepared(conn, "INSERT INTO bulk_big VALUES (?, ?, ?)");
    bind_big(conn, st, &b);
    bind_big(conn, other, &b);
    IT_OK(conn, mywire_set_nonblocking(conn, 1));
    mywire_result *res = NULL, *wrong = NULL;
    int rc = (mywire_stmt_execute_array)(st, b.n, &res);
    assert_true(rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE);
    IT_ERR(conn, (mywire_stmt_execute_batch)(st, &wrong), MYWIRE_ERROR_OUT_OF_SYNC, 0, "HY000");
    IT_ERR(conn, (mywire_stmt_execute_array)(other, 1, &wrong), MYWIRE_ERROR_OUT_OF_SYNC, 0, "HY000");
    assert_null(wrong);
    /* Clearing (or binding again) while it runs changes the next execution
     * only: this one goes on with the arrays it started with. */
    IT_OK(conn, mywire_stmt_clear_bindings(st));
    unsigned waits = 0;
    while (rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE) {
        struct pollfd pf = {mywire_socket(conn), (short)(rc == MYWIRE_WAIT_READ ? POLLIN : POLLOUT), 0};
        assert_true(poll(&pf, 1, 10000) >= 0);
        rc = (mywire_stmt_execute_array)(st, b.n, &res);
        waits++;
    }
    IT_OK(conn, rc);
    assert_true(waits > 1);
    assert_int_equal(mywire_affected_rows(res), b.n);
    mywire_result_free(res);
    IT_OK(conn, mywire_set_nonblocking(conn, 0));
    assert_int_equal(it_scalar_ll(conn, "SELECT COUNT(*) FROM bulk_big"), (long long)b.n);
    IT_ERR(conn, (mywire_stmt_execute_array)(st, 1, &wrong), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    mywire_stmt_free(other);
    mywire_stmt_free(st);
    mywire_conn_free(conn);
    free_big(&b);
}

/* ---------------------------------------------------------- bad arguments */

static void expect_argument(mywire_conn *conn, mywire_stmt *st, uint64_t rows, const char *says)
{
    mywire_result *res = (mywire_result *)st; /* must be set to NULL */
    IT_ERR(conn, mywire_stmt_execute_array(st, rows, &res), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    assert_null(res);
    if (says && !strstr(mywire_errmsg(conn), says)) fail_msg("message: %s (not: %s)", mywire_errmsg(conn), says);
    assert_true(mywire_is_connected(conn));
}

static void test_bad_arguments(void **state)
{
    int64_t ids[3] = {1, 2, 3};
    double vals[3] = {1, 2, 3};
    const char *strs[3] = {"a", "b", "c"};
    size_t lens[3] = {1, 1, 1};
    uint8_t ind[3] = {0, 0, 0};
    mywire_time times[2] = {{MYWIRE_TIME_KIND_DATE, 0, 2024, 1, 2, 0, 0, 0, 0},
                            {MYWIRE_TIME_KIND_DATETIME, 0, 2024, 1, 2, 3, 4, 5, 0}};
    mywire_conn *conn = it_connect_tcp();
    mywire_result *res = NULL;
    (void)state;

    it_exec(conn, "CREATE TEMPORARY TABLE bulk_bad (id BIGINT PRIMARY KEY, v DOUBLE, s VARCHAR(8))");
    mywire_stmt *st = prepared(conn, "INSERT INTO bulk_bad VALUES (?, ?, ?)");

    /* The binder. */
    assert_int_equal(mywire_stmt_bind_array(NULL, 0, MYWIRE_ARRAY_INT64, ids, 0, NULL, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_bind_array(st, 3, MYWIRE_ARRAY_INT64, ids, 0, NULL, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_INT64, NULL, 0, NULL, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_bind_array(st, 0, 0, ids, 0, NULL, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_bind_array(st, 0, 14, ids, 0, NULL, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_bind_array(st, 0, -1, ids, 0, NULL, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_bind_array(st, 2, MYWIRE_ARRAY_BYTES, strs, 0, NULL, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_INT64, ids, 0, lens, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_INT64, ids, 4, NULL, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_TIME, times, 8, NULL, NULL), MYWIRE_ERROR_ARGUMENT);

    /* The execute: nothing bound, then only some. */
    assert_int_equal(mywire_stmt_execute_array(NULL, 1, &res), MYWIRE_ERROR_ARGUMENT);
    IT_ERR(conn, mywire_stmt_execute_array(st, 1, NULL), MYWIRE_ERROR_ARGUMENT, 0, "HY000");
    expect_argument(conn, st, 1, "parameter 0 of 3 has no array");
    IT_OK(conn, mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_INT64, ids, 0, NULL, ind));
    IT_OK(conn, mywire_stmt_bind_array(st, 1, MYWIRE_ARRAY_DOUBLE, vals, 0, NULL, NULL));
    expect_argument(conn, st, 1, "parameter 2 of 3 has no array");
    IT_OK(conn, mywire_stmt_bind_array(st, 2, MYWIRE_ARRAY_STRING, strs, 0, lens, NULL));
    expect_argument(conn, st, 0, "rows is 0");

    /* Values checked before anything is sent: no row applied. */
    vals[2] = NAN;
    expect_argument(conn, st, 3, "parameter 1, row 2: a double that is not finite");
    vals[2] = INFINITY;
    expect_argument(conn, st, 3, "not finite");
    vals[2] = 3;
    ind[1] = 4;
    expect_argument(conn, st, 3, "parameter 0, row 1: an indicator");
    ind[1] = 0;
    lens[1] = SIZE_MAX;
    expect_argument(conn, st, 3, "parameter 2, row 1: a value longer than max_allowed_packet");
    lens[1] = (size_t)1 << 40;
    expect_argument(conn, st, 3, "longer than max_allowed_packet");
    lens[1] = 1;
    strs[0] = NULL; /* NULL with length 1 */
    expect_argument(conn, st, 3, "a NULL pointer with a length");
    strs[0] = "a";
    expect_argument(conn, st, UINT64_MAX, "address space");
    /* An indicator array whose rows would wrap (checked before it is read). */
    IT_OK(conn, mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_INT64, ids, 0, NULL, (const uint8_t *)(UINTPTR_MAX - 1)));
    expect_argument(conn, st, 3, "address space");
    IT_OK(conn, mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_INT64, ids, 0, NULL, ind));
    assert_int_equal(it_scalar_ll(conn, "SELECT COUNT(*) FROM bulk_bad"), 0);

    /* Times of different kinds in one parameter; an ill-formed time. */
    mywire_stmt *ts = prepared(conn, "SELECT ?");
    IT_OK(conn, mywire_stmt_bind_array(ts, 0, MYWIRE_ARRAY_TIME, times, 0, NULL, NULL));
    expect_argument(conn, ts, 2, "parameter 0, row 1: a time of another kind");
    times[1].kind = MYWIRE_TIME_KIND_DATE;
    times[1].hour = 0;
    times[1].minute = 0;
    times[1].second = 0;
    times[0].month = 13;
    expect_argument(conn, ts, 2, "parameter 0, row 0: an ill-formed time");
    mywire_stmt_free(ts);

    /* A statement without parameters; a client-side statement. */
    mywire_stmt *none = prepared(conn, "DO 1");
    expect_argument(conn, none, 1, "with parameters");
    mywire_stmt_free(none);
    mywire_stmt *cs = NULL;
    IT_OK(conn, mywire_stmt_new(conn, &cs));
    IT_OK(conn, mywire_stmt_prepare_client(cs, "SELECT ?", 8));
    IT_OK(conn, mywire_stmt_bind_array(cs, 0, MYWIRE_ARRAY_INT64, ids, 0, NULL, NULL));
    expect_argument(conn, cs, 1, "client-side");
    mywire_stmt_free(cs);

    /* A prepare drops the arrays. */
    IT_OK(conn, mywire_stmt_prepare(st, "INSERT INTO bulk_bad VALUES (?, ?, ?)", 37));
    expect_argument(conn, st, 1, "has no array");

    /* And then all is well. */
    IT_OK(conn, mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_INT64, ids, 0, NULL, ind));
    IT_OK(conn, mywire_stmt_bind_array(st, 1, MYWIRE_ARRAY_DOUBLE, vals, 0, NULL, NULL));
    IT_OK(conn, mywire_stmt_bind_array(st, 2, MYWIRE_ARRAY_STRING, strs, 0, lens, NULL));
    assert_int_equal(run_array(conn, st, 3, NULL), 3);
    assert_int_equal(it_scalar_ll(conn, "SELECT SUM(id) FROM bulk_bad"), 6);
    mywire_stmt_free(st);
    mywire_conn_free(conn);
}

/* ------------------------------------------------------- per-row results */

/* mywire_stmt_set_row_results: each row's affected rows and insert id. The
 * MariaDB here (10.11) cannot send them with bulk execution (11.5+ can:
 * tests/scripted/test_bulk.py), so the rows run one COM_STMT_EXECUTE each --
 * the same rows applied, now with their results. */
static void test_row_results(void **state)
{
    mywire_conn *conn = it_connect_socket();
    (void)state;
    it_exec(conn, "CREATE TEMPORARY TABLE bulk_auto (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
    it_exec(conn, "INSERT INTO bulk_auto (id, v) VALUES (100, 0)");
    mywire_stmt *ins = prepared(conn, "INSERT INTO bulk_auto (v) VALUES (?)");
    IT_OK(conn, mywire_stmt_set_row_results(ins, 1));
    int32_t v[3] = {1, 2, 3};
    IT_OK(conn, mywire_stmt_bind_array(ins, 0, MYWIRE_ARRAY_INT32, v, 0, NULL, NULL));
    long long before = bulk_requests(conn);
    mywire_result *res = NULL;
    IT_OK(conn, mywire_stmt_execute_array(ins, 3, &res));
    assert_int_equal(bulk_requests(conn) - before, 3); /* one execute per row */
    assert_int_equal(mywire_row_result_count(res), 3);
    for (uint64_t k = 0; k < 3; ++k) {
        uint64_t affected = 99, id = 99;
        IT_OK(conn, mywire_row_result(res, k, &affected, &id));
        assert_int_equal(affected, 1);
        assert_int_equal(id, 101 + k);
    }
    assert_int_equal(mywire_row_result(res, 3, NULL, NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_affected_rows(res), 3);
    assert_int_equal(mywire_insert_id(res), 101);
    mywire_result_free(res);

    /* Affected rows per row: an UPDATE matching 4, 0 and 2 rows. */
    mywire_stmt *upd = prepared(conn, "UPDATE bulk_auto SET v = v + 10 WHERE v >= ?");
    IT_OK(conn, mywire_stmt_set_row_results(upd, 1));
    int32_t from[3] = {0, 1000, 12};
    IT_OK(conn, mywire_stmt_bind_array(upd, 0, MYWIRE_ARRAY_INT32, from, 0, NULL, NULL));
    IT_OK(conn, mywire_stmt_execute_array(upd, 3, &res));
    uint64_t counts[3] = {0};
    for (uint64_t k = 0; k < 3; ++k) IT_OK(conn, mywire_row_result(res, k, &counts[k], NULL));
    assert_int_equal(counts[0], 4);
    assert_int_equal(counts[1], 0);
    assert_int_equal(counts[2], 2); /* v is 10, 11, 12, 13 after row 0 */
    assert_int_equal(mywire_affected_rows(res), 6);
    mywire_result_free(res);
    mywire_stmt_free(upd);

    /* The same through a batch; then off again: bulk execution, no row results. */
    for (int k = 0; k < 2; ++k) {
        IT_OK(conn, mywire_stmt_bind_int32(ins, 0, 10 + k));
        IT_OK(conn, mywire_stmt_add_batch(ins));
    }
    IT_OK(conn, mywire_stmt_execute_batch(ins, &res));
    assert_int_equal(mywire_row_result_count(res), 2);
    uint64_t id = 0;
    IT_OK(conn, mywire_row_result(res, 1, NULL, &id));
    assert_int_equal(id, 105);
    mywire_result_free(res);
    IT_OK(conn, mywire_stmt_set_row_results(ins, 0));
    int32_t w[2] = {20, 21};
    IT_OK(conn, mywire_stmt_bind_array(ins, 0, MYWIRE_ARRAY_INT32, w, 0, NULL, NULL));
    before = bulk_requests(conn);
    IT_OK(conn, mywire_stmt_execute_array(ins, 2, &res));
    assert_int_equal(bulk_requests(conn) - before, 1); /* one bulk request for both rows */
    assert_int_equal(mywire_row_result_count(res), 0);
    assert_int_equal(mywire_affected_rows(res), 2);
    mywire_result_free(res);
    assert_int_equal(mywire_row_result_count(NULL), 0);
    assert_int_equal(mywire_stmt_set_row_results(NULL, 1), MYWIRE_ERROR_ARGUMENT);
    mywire_stmt_free(ins);
    mywire_conn_free(conn);
}

/* A statement with RETURNING returns rows, which a batch does not take: they
 * are read and dropped, the call gives ARGUMENT, the rows were applied and the
 * connection is usable (it used to be a protocol error that closed it). */
static void test_returning_refused_cleanly(void **state)
{
    mywire_conn *conn = it_connect_socket();
    (void)state;
    it_exec(conn, "CREATE TEMPORARY TABLE bulk_ret (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
    mywire_stmt *st = prepared(conn, "INSERT INTO bulk_ret (v) VALUES (?) RETURNING id, v");
    int32_t v[3] = {7, 8, 9};
    IT_OK(conn, mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_INT32, v, 0, NULL, NULL));
    mywire_result *res = NULL;
    assert_int_equal(mywire_stmt_execute_array(st, 3, &res), MYWIRE_ERROR_ARGUMENT);
    assert_null(res);
    assert_non_null(strstr(mywire_errmsg(conn), "RETURNING"));
    assert_true(mywire_is_connected(conn));
    assert_int_equal(it_scalar_ll(conn, "SELECT SUM(v) FROM bulk_ret"), 24);
    mywire_stmt_free(st);
    mywire_conn_free(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type),
        cmocka_unit_test(test_default_ignore_and_row_structs),
        cmocka_unit_test(test_more_than_one_request),
        cmocka_unit_test(test_small_max_allowed_packet),
        cmocka_unit_test(test_over_tls_and_zlib),
        cmocka_unit_test(test_nonblocking_continued_only_by_itself),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_row_results),
        cmocka_unit_test(test_returning_refused_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
