/*
 * Prepared statements against a real MariaDB: every column type through both
 * protocols (text from mywire_query, binary from mywire_stmt_execute) with
 * the typed getters, re-execution with changed values and types, handle
 * validity across reset / reconnect / free, COM_STMT_CLOSE of freed
 * statements, 10,000 parameters, cursors, a procedure's results and OUT
 * parameters, metadata caching, and the error paths. The 64 MB long-data
 * case is in test_stmt_large.c.
 */
#include "it_common.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The blocking and the non-blocking build run at the same time: each has
 * its own tables. */
#ifdef MYWIRE_IT_NONBLOCKING_H
#define T(name) name "_nb"
#else
#define T(name) name
#endif

/* The smallest subnormals (C11's FLT_TRUE_MIN / DBL_TRUE_MIN). */
#define FLOAT_TRUE_MIN 0x1p-149f
#define DOUBLE_TRUE_MIN 0x1p-1074

/* ------------------------------------------------------------- helpers */

/* Where a check failed: protocol, mode, row and column. */
static char where[160];

#define RC_IS(expr, want)                                                                   \
    do {                                                                                    \
        int rc_ = (expr);                                                                   \
        if (rc_ != (want))                                                                  \
            fail_msg("%s:%d: %s: %s -> %d (%s), expected %d (%s)", __FILE__, __LINE__,      \
                     where, #expr, rc_, mywire_errstr(rc_), (want), mywire_errstr(want));   \
    } while (0)

static mywire_stmt *new_stmt(mywire_conn *conn)
{
    mywire_stmt *st = NULL;
    IT_OK(conn, mywire_stmt_new(conn, &st));
    assert_non_null(st);
    return st;
}

static mywire_stmt *prepare(mywire_conn *conn, const char *sql)
{
    mywire_stmt *st = new_stmt(conn);
    int rc = mywire_stmt_prepare(st, sql, strlen(sql));
    if (rc != MYWIRE_OK)
        fail_msg("prepare \"%.200s\" -> %d (%s); errno %u: %s", sql, rc, mywire_errstr(rc),
                 mywire_errno(conn), mywire_errmsg(conn));
    assert_true(mywire_stmt_id(st) != 0);
    return st;
}

static mywire_result *execute(mywire_conn *conn, mywire_stmt *st, int mode)
{
    mywire_result *res = NULL;
    int rc = mywire_stmt_execute(st, mode, &res);
    if (rc != MYWIRE_OK)
        fail_msg("%s: execute -> %d (%s); errno %u: %s", where, rc, mywire_errstr(rc),
                 mywire_errno(conn), mywire_errmsg(conn));
    assert_non_null(res);
    assert_int_equal(mywire_result_is_binary(res), 1);
    return res;
}

/* Execute a statement that returns no rows and free its OK result. */
static void execute_ok(mywire_conn *conn, mywire_stmt *st)
{
    mywire_result *res = execute(conn, st, MYWIRE_BUFFERED);
    assert_int_equal(mywire_column_count(res), 0);
    mywire_result_free(res);
}

static uint64_t double_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

/* --------------------------------------------- 1. every type, both ways */

enum {
    C_ID, C_TI, C_TIU, C_SI, C_SIU, C_MI, C_MIU, C_I, C_IU, C_BI, C_BIU, C_F, C_D, C_DE, C_Y,
    C_DT, C_TM, C_DTM, C_TS, C_C, C_VC, C_TX, C_BL, C_EN, C_ST, C_BT, C_JS, N_COLS
};

static const char types_ddl[] =
    "CREATE TABLE " T("it_stmt_types") " ("
    " id INT PRIMARY KEY,"
    " ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,"
    " mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,"
    " bi BIGINT, biu BIGINT UNSIGNED,"
    " f FLOAT, d DOUBLE, de DECIMAL(65,30), y YEAR,"
    " dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL,"
    " c CHAR(10), vc VARCHAR(100), tx TEXT, bl BLOB,"
    " en ENUM('a','b','c'), st SET('x','y','z'), bt BIT(64), js JSON"
    ") CHARACTER SET utf8mb4";

typedef struct type_row {
    int id;
    int all_null;
    int64_t s[5];  /* ti si mi i bi */
    uint64_t u[5]; /* tiu siu miu iu biu */
    float f;
    double d;
    const char *de;
    int y;
    mywire_time dt, tm, dtm, ts;
    const char *c, *vc, *tx;
    const char *bl;
    size_t bl_len;
    const char *en, *st;
    uint64_t bt;
    const char *js;
} type_row;

#define DATE(y, m, d) {MYWIRE_TIME_KIND_DATE, 0, y, m, d, 0, 0, 0, 0}
#define TIME(neg, h, mi, s, us) {MYWIRE_TIME_KIND_TIME, neg, 0, 0, 0, h, mi, s, us}
#define DATETIME(y, m, d, h, mi, s, us) {MYWIRE_TIME_KIND_DATETIME, 0, y, m, d, h, mi, s, us}

static type_row type_rows[8];
static size_t n_type_rows;

static void make_type_rows(void)
{
    static const char blob1[] = {'\0', '\xff', 'a', '\0', '\x80', '\n', '\\', '\''};
    static const char blob2[] = {'\0'};
    type_row r[] = {
        {1, 0, {INT8_MIN, INT16_MIN, -8388608, INT32_MIN, INT64_MIN}, {0, 0, 0, 0, 0},
         -FLT_MAX, -DBL_MAX,
         "-99999999999999999999999999999999999.999999999999999999999999999999", 1901,
         DATE(1000, 1, 1), TIME(1, 838, 59, 59, 0), DATETIME(1000, 1, 1, 0, 0, 0, 0),
         DATETIME(1970, 1, 1, 0, 0, 1, 0), "", "", "", "", 0, "a", "", 0, "[]"},
        {2, 0, {INT8_MAX, INT16_MAX, 8388607, INT32_MAX, INT64_MAX},
         {UINT8_MAX, UINT16_MAX, 16777215, UINT32_MAX, UINT64_MAX}, FLT_MAX, DBL_MAX,
         "99999999999999999999999999999999999.999999999999999999999999999999", 2155,
         DATE(9999, 12, 31), TIME(0, 838, 59, 59, 999999),
         DATETIME(9999, 12, 31, 23, 59, 59, 999999), DATETIME(2038, 1, 19, 3, 14, 7, 999999),
         "\xf0\x9f\x98\x80\xf0\x9d\x84\x9e" "ab", "a\xf0\x9f\x98\x80" "b\xf0\x9d\x84\x9e",
         "text \xf0\x9f\x92\xa9 with four-byte characters", blob1, sizeof blob1, "c", "x,y,z",
         UINT64_MAX, "{\"a\": [1, 2.5, \"\xf0\x9f\x98\x80\"], \"b\": null}"},
        /* 0.1 + 0.2 needs 17 digits; the FLOAT right above 1 needs 9. */
        {3, 0, {-1, -1, -1, -1, -1}, {1, 1, 1, 1, 1}, 1.00000012f, 0.1 + 0.2,
         "0.000000000000000000000000000001", 0, DATE(0, 0, 0), TIME(1, 0, 0, 0, 500000),
         DATETIME(0, 0, 0, 0, 0, 0, 0), DATETIME(0, 0, 0, 0, 0, 0, 0), "-12", "12",
         "x", blob2, sizeof blob2, "b", "y", UINT64_C(0x8000000000000001), "\"\xf0\x9f\x98\x80\""},
        /* The smallest subnormals. */
        {4, 0, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}, FLOAT_TRUE_MIN, DOUBLE_TRUE_MIN,
         "9223372036854775807", 2000, DATE(2024, 2, 29), TIME(0, 0, 0, 0, 1),
         DATETIME(2024, 2, 29, 12, 34, 56, 1), DATETIME(2024, 2, 29, 12, 34, 56, 1), "x",
         "9223372036854775808", "-9223372036854775808", "0", 1, "c", "x,z", 1, "0"},
        /* Negative zero, and values just past int64. */
        {5, 0, {1, 1, 1, 1, 1}, {INT8_MAX + 1u, INT16_MAX + 1u, 8388608, INT32_MAX + 1u,
                                 UINT64_C(9223372036854775808)},
         -0.0f, -0.0, "-9223372036854775809", 1999, DATE(1999, 12, 31),
         TIME(0, 23, 59, 59, 0), DATETIME(1999, 12, 31, 23, 59, 59, 0),
         DATETIME(1999, 12, 31, 23, 59, 59, 0), "1.5", "+7", " 1", "", 0, "a", "x,y", 0x80,
         "{}"},
        /* Fractions for the conversions that must fail. */
        {6, 0, {42, 42, 42, 42, -9007199254740993}, {42, 42, 42, 42, UINT64_C(9007199254740993)},
         0.1f, 1.5, "-1.5", 1970, DATE(1970, 1, 1), TIME(1, 100, 0, 0, 0),
         DATETIME(1970, 1, 1, 0, 0, 0, 0), DATETIME(2001, 9, 9, 1, 46, 40, 0), "1e3", "-0",
         "00:00:01", "ab", 2, "b", "z", 42, "{\"k\": \"v\"}"},
        {7, 1, {0}, {0}, 0, 0, NULL, 0, DATE(0, 0, 0), DATE(0, 0, 0), DATE(0, 0, 0),
         DATE(0, 0, 0), NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL},
    };
    n_type_rows = sizeof r / sizeof r[0];
    memcpy(type_rows, r, sizeof r);
}

static void bind_type_row(mywire_stmt *st, const type_row *r)
{
    RC_IS(mywire_stmt_bind_int32(st, C_ID, r->id), MYWIRE_OK);
    if (r->all_null) {
        for (unsigned i = 1; i < N_COLS; i++) RC_IS(mywire_stmt_bind_null(st, i), MYWIRE_OK);
        return;
    }
    RC_IS(mywire_stmt_bind_int8(st, C_TI, (int8_t)r->s[0]), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_uint8(st, C_TIU, (uint8_t)r->u[0]), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_int16(st, C_SI, (int16_t)r->s[1]), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_uint16(st, C_SIU, (uint16_t)r->u[1]), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_int32(st, C_MI, (int32_t)r->s[2]), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_uint32(st, C_MIU, (uint32_t)r->u[2]), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_int32(st, C_I, (int32_t)r->s[3]), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_uint32(st, C_IU, (uint32_t)r->u[3]), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_int64(st, C_BI, r->s[4]), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_uint64(st, C_BIU, r->u[4]), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_float(st, C_F, r->f), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_double(st, C_D, r->d), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_decimal(st, C_DE, r->de, strlen(r->de)), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_int16(st, C_Y, (int16_t)r->y), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_time(st, C_DT, &r->dt), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_time(st, C_TM, &r->tm), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_time(st, C_DTM, &r->dtm), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_time(st, C_TS, &r->ts), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_string(st, C_C, r->c, strlen(r->c)), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_string(st, C_VC, r->vc, strlen(r->vc)), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_string(st, C_TX, r->tx, strlen(r->tx)), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_bytes(st, C_BL, r->bl, r->bl_len), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_string(st, C_EN, r->en, strlen(r->en)), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_string(st, C_ST, r->st, strlen(r->st)), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_bit(st, C_BT, r->bt), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_json(st, C_JS, r->js, strlen(r->js)), MYWIRE_OK);
}

/* Expected outcomes of the integer getters for an integer value (neg, mag). */
static void check_integer(const mywire_result *res, unsigned col, int neg, uint64_t mag)
{
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    uint64_t lim = UINT64_C(1) << 63;
    int i_ok = neg ? mag <= lim : mag < lim;
    int64_t want_i = !i_ok ? 0 : neg ? (mag == lim ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    RC_IS(mywire_get_int64(res, col, &i), i_ok ? MYWIRE_OK : MYWIRE_ERROR_CONVERSION);
    if (i_ok && i != want_i)
        fail_msg("%s col %u: get_int64 %" PRId64 ", expected %" PRId64, where, col, i, want_i);
    int u_ok = !neg || mag == 0;
    RC_IS(mywire_get_uint64(res, col, &u), u_ok ? MYWIRE_OK : MYWIRE_ERROR_CONVERSION);
    if (u_ok && u != mag)
        fail_msg("%s col %u: get_uint64 %" PRIu64 ", expected %" PRIu64, where, col, u, mag);
    /* A double holds it when converting back gives the same magnitude. */
    double dm = (double)mag;
    int d_ok = dm < 18446744073709551616.0 && (uint64_t)dm == mag;
    RC_IS(mywire_get_double(res, col, &d), d_ok ? MYWIRE_OK : MYWIRE_ERROR_CONVERSION);
    if (d_ok && d != (neg ? -dm : dm))
        fail_msg("%s col %u: get_double %.17g, expected %s%" PRIu64, where, col, d,
                 neg ? "-" : "", mag);
    mywire_time t;
    RC_IS(mywire_get_time(res, col, &t), MYWIRE_ERROR_CONVERSION);
}

static void check_signed(const mywire_result *res, unsigned col, int64_t v)
{
    check_integer(res, col, v < 0, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
}

static void check_time(const mywire_result *res, unsigned col, const mywire_time *want,
                       int kind)
{
    mywire_time t;
    memset(&t, 0x55, sizeof t);
    RC_IS(mywire_get_time(res, col, &t), MYWIRE_OK);
    mywire_time w = *want;
    w.kind = kind;
    if (memcmp(&t, &w, sizeof t) != 0)
        fail_msg("%s col %u: get_time {kind %d neg %d %04d-%02d-%02d %d:%02d:%02d.%06d}, expected "
                 "{kind %d neg %d %04d-%02d-%02d %d:%02d:%02d.%06d}",
                 where, col, t.kind, t.negative, t.year, t.month, t.day, t.hour, t.minute,
                 t.second, t.microsecond, w.kind, w.negative, w.year, w.month, w.day, w.hour,
                 w.minute, w.second, w.microsecond);
    int64_t i;
    RC_IS(mywire_get_int64(res, col, &i), MYWIRE_ERROR_CONVERSION);
    uint64_t u;
    RC_IS(mywire_get_uint64(res, col, &u), MYWIRE_ERROR_CONVERSION);
}

static void check_bytes(const mywire_result *res, unsigned col, const char *want, size_t n)
{
    size_t len = 0;
    const char *data = mywire_get(res, col, &len);
    if (data == NULL) fail_msg("%s col %u: NULL, expected %zu bytes", where, col, n);
    if (len != n || memcmp(data, want, n) != 0)
        fail_msg("%s col %u: \"%.*s\" (%zu bytes), expected \"%.*s\" (%zu bytes)", where, col,
                 (int)len, data, len, (int)n, want, n);
    assert_int_equal(data[len], '\0');
    const char *b = NULL;
    size_t blen = 0;
    RC_IS(mywire_get_bytes(res, col, &b, &blen), MYWIRE_OK);
    assert_ptr_equal(b, data);
    assert_int_equal(blen, len);
}

static void check_str(const mywire_result *res, unsigned col, const char *want)
{
    check_bytes(res, col, want, strlen(want));
}

/* The typed values of one row of it_stmt_types against what was bound. */
static void check_type_row(const mywire_result *res, const type_row *r, int binary)
{
    check_signed(res, C_ID, r->id);
    if (r->all_null) {
        for (unsigned c = 1; c < N_COLS; c++) {
            int64_t i = 77;
            uint64_t u = 78;
            double d = 79.5;
            mywire_time t = DATE(1, 2, 3);
            const char *b = "x";
            size_t blen = 9;
            RC_IS(mywire_get_int64(res, c, &i), MYWIRE_NULL);
            RC_IS(mywire_get_uint64(res, c, &u), MYWIRE_NULL);
            RC_IS(mywire_get_double(res, c, &d), MYWIRE_NULL);
            RC_IS(mywire_get_time(res, c, &t), MYWIRE_NULL);
            RC_IS(mywire_get_bytes(res, c, &b, &blen), MYWIRE_NULL);
            /* Outputs untouched, but for get_bytes' documented NULL / 0. */
            assert_int_equal(i, 77);
            assert_int_equal(u, 78);
            assert_true(d == 79.5);
            assert_int_equal(t.year, 1);
            assert_int_equal(t.day, 3);
            assert_null(b);
            assert_null(mywire_get(res, c, NULL));
            assert_int_equal(mywire_is_null(res, c), 1);
        }
        return;
    }
    static const unsigned scols[5] = {C_TI, C_SI, C_MI, C_I, C_BI};
    static const unsigned ucols[5] = {C_TIU, C_SIU, C_MIU, C_IU, C_BIU};
    for (int k = 0; k < 5; k++) {
        check_signed(res, scols[k], r->s[k]);
        check_integer(res, ucols[k], 0, r->u[k]);
    }

    /* FLOAT: the binary protocol gives the stored float exactly; the text
     * protocol its six digits, read as a float. */
    double d = 0;
    RC_IS(mywire_get_double(res, C_F, &d), MYWIRE_OK);
    if (binary) {
        /* (The server stores -0.0 as 0.) */
        if (r->f == 0 ? d != 0 : double_bits(d) != double_bits((double)r->f))
            fail_msg("%s FLOAT: get_double %a, expected %a", where, d, (double)r->f);
    } else {
        const char *text = mywire_get(res, C_F, NULL);
        float want = strtof(text, NULL);
        if (double_bits(d) != double_bits((double)want))
            fail_msg("%s FLOAT \"%s\": get_double %a, expected %a", where, text, d,
                     (double)want);
        if (fabs(d - r->f) > 1e-5 * fabs((double)r->f) && !(r->f < 1e-37f && r->f > -1e-37f))
            fail_msg("%s FLOAT \"%s\": too far from the bound %a", where, text, (double)r->f);
    }
    int64_t i = 0;
    if (binary) {
        int integral = r->f == truncf(r->f) && fabsf(r->f) < 9.2e18f;
        RC_IS(mywire_get_int64(res, C_F, &i), integral ? MYWIRE_OK : MYWIRE_ERROR_CONVERSION);
        if (integral) assert_int_equal(i, (int64_t)r->f);
    }
    mywire_time t;
    RC_IS(mywire_get_time(res, C_F, &t), MYWIRE_ERROR_CONVERSION);

    /* DOUBLE: exact in both (the server prints up to 17 digits). */
    RC_IS(mywire_get_double(res, C_D, &d), MYWIRE_OK);
    if (r->d == 0 ? d != 0 : double_bits(d) != double_bits(r->d))
        fail_msg("%s DOUBLE \"%s\": get_double %a, expected %a", where,
                 mywire_get(res, C_D, NULL), d, r->d);
    {
        int integral = r->d == trunc(r->d) && fabs(r->d) < 9.2e18;
        RC_IS(mywire_get_int64(res, C_D, &i), integral ? MYWIRE_OK : MYWIRE_ERROR_CONVERSION);
        if (integral) assert_int_equal(i, (int64_t)r->d);
    }

    /* DECIMAL: the nearest double; an integer only when it is integral. */
    RC_IS(mywire_get_double(res, C_DE, &d), MYWIRE_OK);
    if (d != strtod(r->de, NULL))
        fail_msg("%s DECIMAL \"%s\": get_double %.17g, expected %.17g", where,
                 mywire_get(res, C_DE, NULL), d, strtod(r->de, NULL));
    {
        char *end = NULL;
        errno = 0;
        long long want = strtoll(r->de, &end, 10);
        int integral = *end == '\0' && errno == 0;
        RC_IS(mywire_get_int64(res, C_DE, &i), integral ? MYWIRE_OK : MYWIRE_ERROR_CONVERSION);
        if (integral) assert_int_equal(i, want);
    }

    check_integer(res, C_Y, 0, (uint64_t)r->y);
    check_time(res, C_DT, &r->dt, MYWIRE_TIME_KIND_DATE);
    check_time(res, C_TM, &r->tm, MYWIRE_TIME_KIND_TIME);
    check_time(res, C_DTM, &r->dtm, MYWIRE_TIME_KIND_DATETIME);
    check_time(res, C_TS, &r->ts, MYWIRE_TIME_KIND_DATETIME);

    check_str(res, C_C, r->c);
    check_str(res, C_VC, r->vc);
    check_str(res, C_TX, r->tx);
    check_bytes(res, C_BL, r->bl, r->bl_len);
    check_str(res, C_EN, r->en);
    check_str(res, C_ST, r->st);
    check_str(res, C_JS, r->js);

    /* BIT(64): eight bytes, big-endian, in both protocols. */
    char be[8];
    for (int k = 0; k < 8; k++) be[k] = (char)(r->bt >> (56 - 8 * k));
    check_bytes(res, C_BT, be, 8);
    int64_t bi = 0;
    uint64_t bu = 0;
    RC_IS(mywire_get_uint64(res, C_BT, &bu), MYWIRE_OK);
    assert_true(bu == r->bt);
    RC_IS(mywire_get_int64(res, C_BT, &bi), r->bt >> 63 ? MYWIRE_ERROR_CONVERSION : MYWIRE_OK);
    if (r->bt >> 63 == 0) assert_true(bi == (int64_t)r->bt);
}

/* Strings as integers: exactly [sign] digits. */
static void check_string_conversions(const mywire_result *res, int id)
{
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    switch (id) {
    case 1: /* "" */
        RC_IS(mywire_get_int64(res, C_C, &i), MYWIRE_ERROR_CONVERSION);
        RC_IS(mywire_get_double(res, C_C, &d), MYWIRE_ERROR_CONVERSION);
        break;
    case 2: /* four-byte characters */
        RC_IS(mywire_get_int64(res, C_C, &i), MYWIRE_ERROR_CONVERSION);
        RC_IS(mywire_get_double(res, C_VC, &d), MYWIRE_ERROR_CONVERSION);
        break;
    case 3: /* "-12", "12" */
        RC_IS(mywire_get_int64(res, C_C, &i), MYWIRE_OK);
        assert_int_equal(i, -12);
        RC_IS(mywire_get_uint64(res, C_C, &u), MYWIRE_ERROR_CONVERSION);
        RC_IS(mywire_get_uint64(res, C_VC, &u), MYWIRE_OK);
        assert_int_equal(u, 12);
        break;
    case 4: /* "9223372036854775808", "-9223372036854775808" */
        RC_IS(mywire_get_int64(res, C_VC, &i), MYWIRE_ERROR_CONVERSION);
        RC_IS(mywire_get_uint64(res, C_VC, &u), MYWIRE_OK);
        assert_true(u == UINT64_C(9223372036854775808));
        RC_IS(mywire_get_int64(res, C_TX, &i), MYWIRE_OK);
        assert_true(i == INT64_MIN);
        break;
    case 5: /* "1.5", "+7", " 1" */
        RC_IS(mywire_get_int64(res, C_C, &i), MYWIRE_ERROR_CONVERSION);
        RC_IS(mywire_get_double(res, C_C, &d), MYWIRE_OK);
        assert_true(d == 1.5);
        RC_IS(mywire_get_int64(res, C_VC, &i), MYWIRE_OK);
        assert_int_equal(i, 7);
        RC_IS(mywire_get_int64(res, C_TX, &i), MYWIRE_ERROR_CONVERSION);
        break;
    case 6: { /* "1e3", "-0", "00:00:01" */
        RC_IS(mywire_get_int64(res, C_C, &i), MYWIRE_ERROR_CONVERSION);
        RC_IS(mywire_get_double(res, C_C, &d), MYWIRE_OK);
        assert_true(d == 1000.0);
        RC_IS(mywire_get_uint64(res, C_VC, &u), MYWIRE_OK);
        assert_int_equal(u, 0);
        mywire_time t;
        mywire_time want = TIME(0, 0, 0, 1, 0);
        RC_IS(mywire_get_time(res, C_TX, &t), MYWIRE_OK);
        assert_memory_equal(&t, &want, sizeof t);
        break;
    }
    default: break;
    }
}

/* The text of every value of a result, row by row, in a malloc'ed table. */
typedef struct text_table {
    size_t rows;
    char *data[8][N_COLS];
    size_t len[8][N_COLS];
} text_table;

static void table_free(text_table *t)
{
    for (size_t r = 0; r < t->rows; r++)
        for (unsigned c = 0; c < N_COLS; c++) free(t->data[r][c]);
    t->rows = 0;
}

static void read_types(mywire_conn *conn, mywire_result *res, int binary, const char *label,
                       text_table *ref, text_table *out)
{
    assert_int_equal(mywire_result_is_binary(res), binary);
    assert_int_equal(mywire_column_count(res), N_COLS);
    int rc;
    size_t r = 0;
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        assert_true(r < n_type_rows);
        snprintf(where, sizeof where, "%s, row id %d", label, type_rows[r].id);
        check_type_row(res, &type_rows[r], binary);
        check_string_conversions(res, type_rows[r].id);
        for (unsigned c = 0; c < N_COLS; c++) {
            size_t len = 0;
            const char *v = mywire_get(res, c, &len);
            if (out != NULL) {
                out->len[r][c] = len;
                out->data[r][c] = NULL;
                if (v != NULL) {
                    out->data[r][c] = malloc(len + 1);
                    assert_non_null(out->data[r][c]);
                    memcpy(out->data[r][c], v, len + 1);
                }
            }
            if (ref == NULL) continue;
            const char *w = ref->data[r][c];
            size_t wlen = ref->len[r][c];
            if ((v == NULL) != (w == NULL) ||
                (v != NULL && (len != wlen || memcmp(v, w, len) != 0)))
                fail_msg("%s col %u (%s): text \"%.*s\" (%zu bytes), the text protocol gave "
                         "\"%.*s\" (%zu bytes)",
                         where, c, mywire_column_at(res, c)->name, v ? (int)len : 4,
                         v ? v : "NULL", len, w ? (int)wlen : 4, w ? w : "NULL", wlen);
        }
        r++;
        if (out != NULL) out->rows = r;
    }
    if (rc != MYWIRE_DONE)
        fail_msg("%s: fetch -> %d (%s): %s", label, rc, mywire_errstr(rc), mywire_errmsg(conn));
    assert_int_equal(r, n_type_rows);
}

static void test_types_both_protocols(void **state)
{
    (void)state;
    make_type_rows();
    mywire_conn *conn = it_connect_tcp();
    it_exec(conn, "SET sql_mode = '', time_zone = '+00:00'");
    it_exec(conn, "DROP TABLE IF EXISTS " T("it_stmt_types"));
    it_exec(conn, types_ddl);

    char sql[256] = "INSERT INTO " T("it_stmt_types") " VALUES (?";
    for (unsigned i = 1; i < N_COLS; i++) strcat(sql, ", ?");
    strcat(sql, ")");
    mywire_stmt *ins = prepare(conn, sql);
    assert_int_equal(mywire_stmt_param_count(ins), N_COLS);
    assert_int_equal(mywire_stmt_column_count(ins), 0);
    for (size_t r = 0; r < n_type_rows; r++) {
        snprintf(where, sizeof where, "insert row id %d", type_rows[r].id);
        bind_type_row(ins, &type_rows[r]);
        mywire_result *res = execute(conn, ins, MYWIRE_BUFFERED);
        assert_int_equal(mywire_affected_rows(res), 1);
        if (mywire_warning_count(res) != 0) {
            mywire_result *wr = it_query(conn, "SHOW WARNINGS", MYWIRE_BUFFERED);
            IT_ROW(wr);
            fail_msg("row id %d: %u warnings, first: %s", type_rows[r].id,
                     mywire_warning_count(res), mywire_get(wr, 2, NULL));
        }
        mywire_result_free(res);
    }
    mywire_stmt_free(ins);

    static const char select[] = "SELECT * FROM " T("it_stmt_types") " ORDER BY id";
    text_table ref = {0};
    mywire_result *res = it_query(conn, select, MYWIRE_BUFFERED);
    read_types(conn, res, 0, "text buffered", NULL, &ref);
    mywire_result_free(res);
    res = it_query(conn, select, MYWIRE_STREAMING);
    read_types(conn, res, 0, "text streaming", &ref, NULL);
    mywire_result_free(res);

    mywire_result *text = it_query(conn, select, MYWIRE_BUFFERED);
    mywire_stmt *sel = prepare(conn, select);
    assert_int_equal(mywire_stmt_column_count(sel), N_COLS);
    for (int pass = 0; pass < 2; pass++) { /* the second with cached metadata */
        for (int mode = MYWIRE_BUFFERED; mode <= MYWIRE_STREAMING; mode++) {
            char label[64];
            snprintf(label, sizeof label, "binary %s, pass %d",
                     mode == MYWIRE_BUFFERED ? "buffered" : "streaming", pass + 1);
            snprintf(where, sizeof where, "%s", label);
            res = execute(conn, sel, mode);
            /* The same column definitions as the text result. */
            for (unsigned c = 0; c < N_COLS; c++) {
                const mywire_column *a = mywire_column_at(res, c), *b = mywire_column_at(text, c);
                assert_non_null(a);
                assert_string_equal(a->name, b->name);
                if (a->type != b->type || a->flags != b->flags || a->decimals != b->decimals ||
                    a->charset != b->charset || a->length != b->length)
                    fail_msg("%s col %s: type %u flags %#x decimals %u charset %u length %u; "
                             "text: %u %#x %u %u %u",
                             label, a->name, a->type, a->flags, a->decimals, a->charset,
                             a->length, b->type, b->flags, b->decimals, b->charset, b->length);
            }
            read_types(conn, res, 1, label, &ref, NULL);
            mywire_result_free(res);
        }
    }
    mywire_result_free(text);
    mywire_stmt_free(sel);
    table_free(&ref);
    it_exec(conn, "DROP TABLE " T("it_stmt_types"));
    mywire_conn_free(conn);
}

/* Many magnitudes of FLOAT and DOUBLE (plain and fixed decimals, ZEROFILL):
 * the binary protocol's text is the server's, byte for byte. */
static void test_number_text_sweep(void **state)
{
    (void)state;
    mywire_conn *conn = it_connect_tcp();
    it_exec(conn, "DROP TABLE IF EXISTS " T("it_stmt_num"));
    it_exec(conn, "CREATE TABLE " T("it_stmt_num") " (id INT PRIMARY KEY, f FLOAT, d DOUBLE,"
                  " f2 FLOAT(12,4), d2 DOUBLE(40,12), dz DOUBLE ZEROFILL, iz INT(8) ZEROFILL,"
                  " de DECIMAL(20,5), y2 YEAR)");
    mywire_stmt *ins = prepare(conn, "INSERT INTO " T("it_stmt_num") " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    int id = 0;
    uint32_t x = 12345;
    for (int e = -325; e <= 308; e++) {
        for (int k = 0; k < 3; k++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            double m = k == 0 ? 1.0 : 1.0 + (double)(x % 1000000) / 1e6;
            double v = m * pow(10.0, e);
            if (!isfinite(v)) continue;
            if (x & 1) v = -v;
            double fixed = fmod(v, 1e25);
            snprintf(where, sizeof where, "insert %.17g", v);
            RC_IS(mywire_stmt_bind_int32(ins, 0, ++id), MYWIRE_OK);
            float f = (float)v;
            if (isinf(f)) RC_IS(mywire_stmt_bind_null(ins, 1), MYWIRE_OK);
            else RC_IS(mywire_stmt_bind_float(ins, 1, f), MYWIRE_OK);
            RC_IS(mywire_stmt_bind_double(ins, 2, v), MYWIRE_OK);
            RC_IS(mywire_stmt_bind_double(ins, 3, fmod(v, 1e7)), MYWIRE_OK);
            RC_IS(mywire_stmt_bind_double(ins, 4, fixed), MYWIRE_OK);
            RC_IS(mywire_stmt_bind_double(ins, 5, fabs(v)), MYWIRE_OK);
            RC_IS(mywire_stmt_bind_uint32(ins, 6, x % 100000), MYWIRE_OK);
            RC_IS(mywire_stmt_bind_double(ins, 7, fmod(v, 1e14)), MYWIRE_OK);
            RC_IS(mywire_stmt_bind_int16(ins, 8, (int16_t)(x % 100)), MYWIRE_OK);
            execute_ok(conn, ins);
        }
    }
    mywire_stmt_free(ins);

    static const char select[] = "SELECT * FROM " T("it_stmt_num") " ORDER BY id";
    mywire_result *text = it_query(conn, select, MYWIRE_BUFFERED);
    mywire_stmt *sel = prepare(conn, select);
    snprintf(where, sizeof where, "sweep");
    mywire_result *bin = execute(conn, sel, MYWIRE_STREAMING);
    unsigned n = mywire_column_count(text);
    assert_int_equal(mywire_column_count(bin), n);
    uint64_t rows = 0;
    int rc;
    while ((rc = mywire_fetch(bin)) == MYWIRE_ROW) {
        IT_ROW(text);
        rows++;
        for (unsigned c = 0; c < n; c++) {
            size_t tl = 0, bl = 0;
            const char *t = mywire_get(text, c, &tl), *b = mywire_get(bin, c, &bl);
            if ((t == NULL) != (b == NULL) || (t && (tl != bl || memcmp(t, b, tl) != 0)))
                fail_msg("row %s col %s: binary \"%s\", text \"%s\"", mywire_get(text, 0, NULL),
                         mywire_column_at(text, c)->name, b ? b : "NULL", t ? t : "NULL");
            /* And the typed value of the text is that of the binary. */
            double dt = 0, db = 0;
            int rt = mywire_get_double(text, c, &dt), rb = mywire_get_double(bin, c, &db);
            if (c == 2 && (rt != MYWIRE_OK || rb != MYWIRE_OK || double_bits(dt) != double_bits(db)))
                fail_msg("row %s DOUBLE \"%s\": text %a (%d), binary %a (%d)",
                         mywire_get(text, 0, NULL), t, dt, rt, db, rb);
        }
    }
    assert_int_equal(rc, MYWIRE_DONE);
    IT_DONE(text);
    assert_int_equal(rows, (uint64_t)id);
    mywire_result_free(bin);
    mywire_result_free(text);
    mywire_stmt_free(sel);
    it_exec(conn, "DROP TABLE " T("it_stmt_num"));
    mywire_conn_free(conn);
}

/* ------------------------------------------------- 2. re-execution */

static void test_reexecute_changed_values_and_types(void **state)
{
    (void)state;
    mywire_conn *conn = it_connect_tcp();
    snprintf(where, sizeof where, "re-execute");
    mywire_stmt *st = prepare(conn, "SELECT ?, ?, ?, ? IS NULL");
    assert_int_equal(mywire_stmt_param_count(st), 4);
    static const struct {
        int64_t i;
        double d;
        const char *s;
    } v[3] = {{INT64_MIN, 0.1 + 0.2, "first"}, {0, -DBL_MAX, ""}, {INT64_MAX, DOUBLE_TRUE_MIN, "\xf0\x9f\x98\x80"}};
    for (int k = 0; k < 3; k++) {
        RC_IS(mywire_stmt_bind_int64(st, 0, v[k].i), MYWIRE_OK);
        RC_IS(mywire_stmt_bind_double(st, 1, v[k].d), MYWIRE_OK);
        RC_IS(mywire_stmt_bind_string(st, 2, v[k].s, strlen(v[k].s)), MYWIRE_OK);
        if (k == 1) RC_IS(mywire_stmt_bind_null(st, 3), MYWIRE_OK);
        else RC_IS(mywire_stmt_bind_int8(st, 3, 1), MYWIRE_OK);
        mywire_result *res = execute(conn, st, k == 1 ? MYWIRE_STREAMING : MYWIRE_BUFFERED);
        IT_ROW(res);
        int64_t i = 0;
        double d = 0;
        RC_IS(mywire_get_int64(res, 0, &i), MYWIRE_OK);
        assert_true(i == v[k].i);
        RC_IS(mywire_get_double(res, 1, &d), MYWIRE_OK);
        assert_true(double_bits(d) == double_bits(v[k].d));
        IT_VAL(res, 2, v[k].s);
        IT_VAL(res, 3, k == 1 ? "1" : "0");
        IT_DONE(res);
        mywire_result_free(res);
    }

    /* Parameter 0 now a string, 1 an unsigned integer, 2 a date. */
    RC_IS(mywire_stmt_bind_string(st, 0, "abc", 3), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_uint64(st, 1, UINT64_MAX), MYWIRE_OK);
    mywire_time dt = DATETIME(2024, 2, 29, 1, 2, 3, 4);
    RC_IS(mywire_stmt_bind_time(st, 2, &dt), MYWIRE_OK);
    for (int k = 0; k < 2; k++) {
        mywire_result *res = execute(conn, st, MYWIRE_BUFFERED);
        IT_ROW(res);
        IT_VAL(res, 0, "abc");
        int64_t i = 0;
        RC_IS(mywire_get_int64(res, 0, &i), MYWIRE_ERROR_CONVERSION);
        IT_VAL(res, 1, "18446744073709551615");
        uint64_t u = 0;
        RC_IS(mywire_get_uint64(res, 1, &u), MYWIRE_OK);
        assert_true(u == UINT64_MAX);
        IT_VAL(res, 2, "2024-02-29 01:02:03.000004");
        mywire_time t;
        RC_IS(mywire_get_time(res, 2, &t), MYWIRE_OK);
        assert_memory_equal(&t, &dt, sizeof t);
        IT_DONE(res);
        mywire_result_free(res);
    }

    /* The same into a table: an INT column fed an int, then a string. */
    it_exec(conn, "DROP TABLE IF EXISTS " T("it_stmt_reexec"));
    it_exec(conn, "CREATE TABLE " T("it_stmt_reexec") " (k INT, v VARCHAR(20))");
    mywire_stmt *ins = prepare(conn, "INSERT INTO " T("it_stmt_reexec") " VALUES (?, ?)");
    for (int k = 1; k <= 3; k++) {
        RC_IS(mywire_stmt_bind_int32(ins, 0, k * 10), MYWIRE_OK);
        RC_IS(mywire_stmt_bind_int32(ins, 1, -k), MYWIRE_OK);
        execute_ok(conn, ins);
    }
    RC_IS(mywire_stmt_bind_string(ins, 0, "40", 2), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_string(ins, 1, "four", 4), MYWIRE_OK);
    execute_ok(conn, ins);
    RC_IS(mywire_stmt_bind_int64(ins, 0, 50), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_double(ins, 1, 2.5), MYWIRE_OK);
    execute_ok(conn, ins);
    char *all = it_scalar(conn, "SELECT GROUP_CONCAT(k, '=', v ORDER BY k) FROM " T("it_stmt_reexec"));
    assert_string_equal(all, "10=-1,20=-2,30=-3,40=four,50=2.5");
    free(all);
    mywire_stmt_free(ins);
    mywire_stmt_free(st);
    it_exec(conn, "DROP TABLE " T("it_stmt_reexec"));
    mywire_conn_free(conn);
}

/* ---------------------------------------------- 3. handle validity */

static void check_stale(mywire_conn *conn, mywire_stmt *st)
{
    mywire_result *res = (mywire_result *)1;
    int rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_STATE, 0, NULL);
    assert_null(res);
    rc = mywire_stmt_reset(st);
    IT_ERR(conn, rc, MYWIRE_ERROR_STATE, 0, NULL);
    rc = mywire_stmt_send_long_data(st, 0, "x", 1);
    IT_ERR(conn, rc, MYWIRE_ERROR_STATE, 0, NULL);
}

static void check_select_param(mywire_conn *conn, mywire_stmt *st, int32_t v)
{
    RC_IS(mywire_stmt_bind_int32(st, 0, v), MYWIRE_OK);
    mywire_result *res = execute(conn, st, MYWIRE_BUFFERED);
    IT_ROW(res);
    int64_t got = 0;
    RC_IS(mywire_get_int64(res, 0, &got), MYWIRE_OK);
    assert_int_equal(got, v + 1);
    IT_DONE(res);
    mywire_result_free(res);
}

static void test_handle_validity(void **state)
{
    (void)state;
    snprintf(where, sizeof where, "validity");
    static const char sql[] = "SELECT ? + 1";
    mywire_conn *conn = it_connect_tcp();
    mywire_stmt *st = prepare(conn, sql);
    check_select_param(conn, st, 1);
    mywire_result *res;
    int rc;

    /* COM_RESET_CONNECTION: the server forgot it. */
    IT_OK(conn, mywire_reset_connection(conn));
    check_stale(conn, st);
    IT_OK(conn, mywire_ping(conn));
    assert_int_equal(it_scalar_ll(conn, "SELECT 41 + 1"), 42);
    IT_OK(conn, mywire_stmt_prepare(st, sql, strlen(sql)));
    /* Prepared again: the parameters are all unbound. */
    res = (mywire_result *)1;
    rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_ARGUMENT, 0, NULL);
    assert_null(res);
    check_select_param(conn, st, 2);

    /* The connection killed, then connected again on the same handle. */
    mywire_conn *killer = it_connect_tcp();
    char *kill = it_format("KILL CONNECTION %" PRIu64, mywire_connection_id(conn));
    it_exec(killer, kill);
    free(kill);
    res = NULL;
    rc = MYWIRE_OK;
    for (int k = 0; k < 3 && mywire_is_connected(conn); k++) { /* an error packet, then EOF */
        rc = mywire_query(conn, "SELECT 1", 8, MYWIRE_BUFFERED, &res);
        assert_true(rc == MYWIRE_ERROR_LOST || rc == MYWIRE_ERROR_SERVER);
    }
    assert_int_equal(mywire_is_connected(conn), 0);
    check_stale(conn, st);
    const it_env *env = it_get_env();
    IT_OK(conn, mywire_connect_to(conn, env->host, env->user, env->password, env->db, env->port,
                                  NULL));
    check_stale(conn, st);
    assert_int_equal(it_scalar_ll(conn, "SELECT 1"), 1);
    IT_OK(conn, mywire_stmt_prepare(st, sql, strlen(sql)));
    check_select_param(conn, st, 3);

    /* mywire_close: STATE, and no prepare either. */
    mywire_close(conn);
    check_stale(conn, st);
    rc = mywire_stmt_prepare(st, sql, strlen(sql));
    IT_ERR(conn, rc, MYWIRE_ERROR_STATE, 0, NULL);
    mywire_conn_free(conn);

    /* mywire_conn_free: the handle stays an object; every call is STATE. */
    conn = it_connect_tcp();
    mywire_stmt *st2 = prepare(conn, sql);
    mywire_stmt *never = new_stmt(conn);
    mywire_conn_free(conn);
    res = (mywire_result *)1;
    RC_IS(mywire_stmt_execute(st2, MYWIRE_BUFFERED, &res), MYWIRE_ERROR_STATE);
    assert_null(res);
    RC_IS(mywire_stmt_prepare(st2, sql, strlen(sql)), MYWIRE_ERROR_STATE);
    RC_IS(mywire_stmt_reset(st2), MYWIRE_ERROR_STATE);
    RC_IS(mywire_stmt_send_long_data(st2, 0, "x", 1), MYWIRE_ERROR_STATE);
    RC_IS(mywire_stmt_prepare(never, sql, strlen(sql)), MYWIRE_ERROR_STATE);
    RC_IS(mywire_stmt_bind_int32(st2, 0, 1), MYWIRE_OK); /* local: fine */
    assert_int_equal(mywire_stmt_param_count(st2), 1);
    mywire_stmt_free(st2);
    mywire_stmt_free(never);
    mywire_stmt_free(st);
    mywire_conn_free(killer);
}

/* Freed statements are closed on the server with the next command (session
 * counters: nothing else runs on this session). */
static void test_free_closes_on_server(void **state)
{
    (void)state;
    snprintf(where, sizeof where, "free");
    enum { N = 40 };
    mywire_conn *conn = it_connect_tcp();
    mywire_stmt *st[N];
    for (int k = 0; k < N; k++) st[k] = prepare(conn, "SELECT ?");
    long long closes = it_status_ll(conn, "Com_stmt_close");
    for (int k = 0; k < N; k++) mywire_stmt_free(st[k]);
    /* The closes went out ahead of this query. */
    assert_int_equal(it_status_ll(conn, "Com_stmt_close"), closes + N);
    /* A statement never prepared, one whose prepare failed: nothing to close. */
    mywire_stmt *a = new_stmt(conn), *b = new_stmt(conn);
    assert_int_equal(mywire_stmt_prepare(b, "SELEKT", 6), MYWIRE_ERROR_SERVER);
    mywire_stmt_free(a);
    mywire_stmt_free(b);
    assert_int_equal(it_status_ll(conn, "Com_stmt_close"), closes + N);

    /* Prepared again on the same handle: the old id is closed. */
    mywire_stmt *c = prepare(conn, "SELECT 1");
    uint32_t id1 = mywire_stmt_id(c);
    IT_OK(conn, mywire_stmt_prepare(c, "SELECT 2", 8));
    assert_true(mywire_stmt_id(c) != id1);
    assert_int_equal(it_status_ll(conn, "Com_stmt_close"), closes + N + 1);

    /* A statement of a session that was reset is not closed afterwards:
     * its id is gone, and the id may be reused by a new statement. */
    IT_OK(conn, mywire_reset_connection(conn));
    long long base = it_status_ll(conn, "Com_stmt_close");
    mywire_stmt *d = prepare(conn, "SELECT 3");
    mywire_stmt_free(c);
    assert_int_equal(it_status_ll(conn, "Com_stmt_close"), base);
    mywire_result *res = execute(conn, d, MYWIRE_BUFFERED);
    IT_ROW(res);
    IT_VAL(res, 0, "3");
    mywire_result_free(res);
    mywire_stmt_free(d);
    assert_int_equal(it_status_ll(conn, "Com_stmt_close"), base + 1);

    /* Prepared_stmt_count (global): N prepared, freed, and after the next
     * command the count is down by N. Another program preparing meanwhile
     * can hide that (then measured again); the _nb twin, which runs at the
     * same time and would do just that, skips this part. */
#ifndef MYWIRE_IT_NONBLOCKING_H
    mywire_conn *probe = it_connect_tcp();
    static const char count_sql[] = "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                                    "WHERE VARIABLE_NAME = 'PREPARED_STMT_COUNT'";
    int seen = 0;
    long long with = 0, without = 0;
    for (int attempt = 0; attempt < 5 && !seen; attempt++) { /* others may prepare meanwhile */
        for (int k = 0; k < N; k++) st[k] = prepare(conn, "SELECT ?");
        with = it_scalar_ll(probe, count_sql);
        for (int k = 0; k < N; k++) mywire_stmt_free(st[k]);
        IT_OK(conn, mywire_ping(conn));
        without = it_scalar_ll(probe, count_sql);
        seen = with - without >= N;
    }
    if (!seen)
        fail_msg("Prepared_stmt_count went from %lld to %lld after freeing %d", with, without, N);
    mywire_conn_free(probe);
#endif
    mywire_conn_free(conn);
}

/* ------------------------------------------- 5. 10,000 parameters */

static void test_ten_thousand_params(void **state)
{
    (void)state;
    enum { N = 10000 };
    snprintf(where, sizeof where, "10000 params");
    mywire_conn *conn = it_connect_tcp();
    size_t cap = 32 + 2 * N + 3 * (N / 100);
    char *sql = malloc(cap);
    assert_non_null(sql);
    /* In groups of 100: a chain of 10,000 '+' overruns the server's stack. */
    size_t len = 0;
    len += (size_t)sprintf(sql + len, "SELECT ");
    for (int k = 0; k < N; k++) {
        if (k % 100 == 0) len += (size_t)sprintf(sql + len, "%s(", k ? ")+" : "");
        len += (size_t)sprintf(sql + len, "%s?", k % 100 ? "+" : "");
    }
    sprintf(sql + len, ")");
    mywire_stmt *st = prepare(conn, sql);
    assert_int_equal(mywire_stmt_param_count(st), N);
    int64_t want = 0, last = 0;
    for (int k = 0; k < N; k++) {
        /* Mixed widths, so the type list is not one repeated byte pair. */
        int64_t v = (int64_t)k * 1000003 - 5000000000LL;
        want += v;
        int rc = k % 3 == 0 ? mywire_stmt_bind_int64(st, (unsigned)k, v)
                 : k % 3 == 1 ? mywire_stmt_bind_int32(st, (unsigned)k, (int32_t)(k - 5000))
                              : mywire_stmt_bind_int16(st, (unsigned)k, (int16_t)k);
        if (k % 3 == 1) want += (k - 5000) - v;
        if (k % 3 == 2) want += k - v;
        last = k % 3 == 0 ? v : k % 3 == 1 ? k - 5000 : k;
        RC_IS(rc, MYWIRE_OK);
    }
    RC_IS(mywire_stmt_bind_int32(st, N, 1), MYWIRE_ERROR_ARGUMENT);
    for (int pass = 0; pass < 2; pass++) {
        mywire_result *res = execute(conn, st, MYWIRE_BUFFERED);
        IT_ROW(res);
        int64_t got = 0;
        RC_IS(mywire_get_int64(res, 0, &got), MYWIRE_OK);
        assert_int_equal(got, want);
        IT_DONE(res);
        mywire_result_free(res);
        /* Change the last parameter's value and type. */
        RC_IS(mywire_stmt_bind_int16(st, N - 1, 0), MYWIRE_OK);
        want -= last;
    }
    mywire_stmt_free(st);
    free(sql);
    mywire_conn_free(conn);
}

/* ------------------------------------------------------ 6. cursors */

static void test_cursor_million_rows(void **state)
{
    (void)state;
    snprintf(where, sizeof where, "cursor");
    mywire_conn *conn = it_connect_tcp();
    mywire_stmt *st = prepare(conn, "SELECT seq, REPEAT('x', 100) FROM seq_1_to_1000000");
    RC_IS(mywire_stmt_set_cursor(st, 1000), MYWIRE_OK);
    long before = it_rss_kib();
    /* Buffered is asked for: a cursor's result streams anyway. */
    mywire_result *res = execute(conn, st, MYWIRE_BUFFERED);
    uint64_t rows = 0, sum = 0;
    int rc;
    long peak = before;
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        uint64_t v = 0;
        RC_IS(mywire_get_uint64(res, 0, &v), MYWIRE_OK);
        rows++;
        if (v != rows) fail_msg("row %" PRIu64 " has seq %" PRIu64, rows, v);
        sum += v;
        if (rows % 100000 == 0) {
            long now = it_rss_kib();
            if (now > peak) peak = now;
        }
    }
    if (rc != MYWIRE_DONE) fail_msg("fetch -> %d: %s", rc, mywire_errmsg(conn));
    assert_int_equal(rows, 1000000);
    assert_int_equal(sum, UINT64_C(500000500000));
    assert_int_equal(mywire_row_count(res), 1000000);
    mywire_result_free(res);
    if (peak - before >= 32 * 1024)
        fail_msg("RSS grew by %ld KiB reading a cursor", peak - before);
    IT_OK(conn, mywire_ping(conn));

    /* Another command between two batches. */
    RC_IS(mywire_stmt_set_cursor(st, 10), MYWIRE_OK);
    res = execute(conn, st, MYWIRE_STREAMING);
    for (int k = 1; k <= 10; k++) {
        IT_ROW(res);
        int64_t v = 0;
        RC_IS(mywire_get_int64(res, 0, &v), MYWIRE_OK);
        assert_int_equal(v, k);
    }
    assert_int_equal(it_scalar_ll(conn, "SELECT 1"), 1);
    IT_OK(conn, mywire_ping(conn));
    for (int k = 11; k <= 35; k++) {
        IT_ROW(res);
        int64_t v = 0;
        RC_IS(mywire_get_int64(res, 0, &v), MYWIRE_OK);
        assert_int_equal(v, k);
        if (k == 20) { /* a prepared statement between batches too */
            mywire_stmt *other = prepare(conn, "SELECT ? * 2");
            RC_IS(mywire_stmt_bind_int32(other, 0, 21), MYWIRE_OK);
            mywire_result *o = execute(conn, other, MYWIRE_BUFFERED);
            IT_ROW(o);
            IT_VAL(o, 0, "42");
            mywire_result_free(o);
            mywire_stmt_free(other);
        }
    }
    /* In the middle of a batch: the connection is busy with it. */
    mywire_result *q = NULL;
    rc = mywire_query(conn, "SELECT 2", 8, MYWIRE_BUFFERED, &q);
    IT_ERR(conn, rc, MYWIRE_ERROR_OUT_OF_SYNC, 0, NULL);
    assert_null(q);
    mywire_result_free(res); /* closes the cursor: reads the batch to its end */
    assert_int_equal(it_scalar_ll(conn, "SELECT 2"), 2);

    /* Re-executing ends the previous cursor: its result says STATE. */
    res = execute(conn, st, MYWIRE_STREAMING);
    for (int k = 0; k < 10; k++) IT_ROW(res);
    mywire_result *res2 = execute(conn, st, MYWIRE_STREAMING);
    RC_IS(mywire_fetch(res), MYWIRE_ERROR_STATE);
    IT_ROW(res2);
    IT_VAL(res2, 0, "1");
    mywire_result_free(res);
    /* mywire_stmt_reset closes it as well. */
    for (int k = 1; k < 10; k++) IT_ROW(res2);
    IT_OK(conn, mywire_stmt_reset(st));
    RC_IS(mywire_fetch(res2), MYWIRE_ERROR_STATE);
    mywire_result_free(res2);

    /* An empty cursor; and a cursor over a result smaller than one batch. */
    mywire_stmt *small = prepare(conn, "SELECT seq FROM seq_1_to_5 WHERE seq > ?");
    RC_IS(mywire_stmt_set_cursor(small, 10), MYWIRE_OK);
    for (int from = 0; from <= 5; from += 5) {
        RC_IS(mywire_stmt_bind_int32(small, 0, from), MYWIRE_OK);
        res = execute(conn, small, MYWIRE_STREAMING);
        for (int k = from + 1; k <= 5; k++) IT_ROW(res);
        IT_DONE(res);
        mywire_result_free(res);
    }
    mywire_stmt_free(small);
    /* Freeing the statement ends its cursor. */
    res = execute(conn, st, MYWIRE_STREAMING);
    for (int k = 0; k < 10; k++) IT_ROW(res);
    mywire_stmt_free(st);
    RC_IS(mywire_fetch(res), MYWIRE_ERROR_STATE);
    mywire_result_free(res);
    assert_int_equal(it_scalar_ll(conn, "SELECT 3"), 3);
    mywire_conn_free(conn);
}

/* ----------------------------------------- 7. procedures, OUT params */

static void test_call_out_params(void **state)
{
    (void)state;
    snprintf(where, sizeof where, "CALL");
    mywire_conn *conn = it_connect_tcp();
    it_exec(conn, "DROP PROCEDURE IF EXISTS " T("it_stmt_proc"));
    it_exec(conn, "CREATE PROCEDURE " T("it_stmt_proc") "(IN a INT, OUT b INT, OUT c VARCHAR(20),"
                  " INOUT d BIGINT)\n"
                  "BEGIN\n"
                  "  SELECT a AS x;\n"
                  "  SELECT a + 1 AS y, 'two' AS z;\n"
                  "  SELECT seq FROM seq_1_to_3;\n"
                  "  SET b = a * 2, c = CONCAT('out', '\xf0\x9f\x98\x80'), d = d + 1;\n"
                  "END");
    mywire_stmt *st = prepare(conn, "CALL " T("it_stmt_proc") "(?, ?, ?, ?)");
    assert_int_equal(mywire_stmt_param_count(st), 4);
    for (int round = 0; round < 4; round++) {
        int mode = round % 2 ? MYWIRE_STREAMING : MYWIRE_BUFFERED;
        int a = 10 * (round + 1);
        RC_IS(mywire_stmt_bind_int32(st, 0, a), MYWIRE_OK);
        RC_IS(mywire_stmt_bind_null(st, 1), MYWIRE_OK);
        RC_IS(mywire_stmt_bind_null(st, 2), MYWIRE_OK);
        RC_IS(mywire_stmt_bind_int64(st, 3, INT64_MAX - 1), MYWIRE_OK);
        mywire_result *res = execute(conn, st, mode);
        /* 1 */
        assert_int_equal(mywire_column_count(res), 1);
        assert_string_equal(mywire_column_at(res, 0)->name, "x");
        IT_ROW(res);
        int64_t v = 0;
        RC_IS(mywire_get_int64(res, 0, &v), MYWIRE_OK);
        assert_int_equal(v, a);
        IT_DONE(res);
        if (!(mywire_status_flags(res) & MYWIRE_STATUS_MORE_RESULTS_EXISTS))
            fail_msg("round %d: status flags %#x after the first result", round,
                     mywire_status_flags(res));
        assert_int_equal(mywire_more_results(conn), 1);
        mywire_result_free(res);
        /* 2 */
        IT_OK(conn, mywire_next_result(conn, mode, &res));
        assert_int_equal(mywire_result_is_binary(res), 1);
        assert_int_equal(mywire_column_count(res), 2);
        IT_ROW(res);
        RC_IS(mywire_get_int64(res, 0, &v), MYWIRE_OK);
        assert_int_equal(v, a + 1);
        IT_VAL(res, 1, "two");
        IT_DONE(res);
        mywire_result_free(res);
        /* 3: in the streaming rounds left unread, for next_result to drain */
        IT_OK(conn, mywire_next_result(conn, mode, &res));
        assert_int_equal(mywire_result_is_binary(res), 1);
        if (mode == MYWIRE_BUFFERED) {
            assert_int_equal(mywire_row_count(res), 3);
            assert_false(mywire_status_flags(res) & MYWIRE_STATUS_PS_OUT_PARAMS);
            mywire_result_free(res);
            res = NULL;
        } else {
            IT_ROW(res);
            IT_VAL(res, 0, "1");
        }
        /* 4: the OUT parameters */
        mywire_result *out = NULL;
        IT_OK(conn, mywire_next_result(conn, mode, &out));
        mywire_result_free(res);
        assert_int_equal(mywire_result_is_binary(out), 1);
        assert_int_equal(mywire_column_count(out), 3);
        /* (Streaming, the flags come with the end: DEPRECATE_EOF leaves no
         * EOF packet after the column definitions.) */
        if (mode == MYWIRE_BUFFERED && !(mywire_status_flags(out) & MYWIRE_STATUS_PS_OUT_PARAMS))
            fail_msg("round %d: the OUT parameters' result has status flags %#x (before its rows)",
                     round, mywire_status_flags(out));
        IT_ROW(out);
        RC_IS(mywire_get_int64(out, 0, &v), MYWIRE_OK);
        assert_int_equal(v, 2 * a);
        IT_VAL(out, 1, "out\xf0\x9f\x98\x80");
        RC_IS(mywire_get_int64(out, 2, &v), MYWIRE_OK);
        assert_true(v == INT64_MAX);
        IT_DONE(out);
        if (!(mywire_status_flags(out) & MYWIRE_STATUS_PS_OUT_PARAMS))
            fail_msg("round %d: the OUT parameters' result has status flags %#x (after its end)",
                     round, mywire_status_flags(out));
        mywire_result_free(out);
        /* 5: the CALL's own OK, the last */
        IT_OK(conn, mywire_next_result(conn, mode, &res));
        assert_int_equal(mywire_column_count(res), 0);
        assert_false(mywire_status_flags(res) & MYWIRE_STATUS_MORE_RESULTS_EXISTS);
        assert_false(mywire_status_flags(res) & MYWIRE_STATUS_PS_OUT_PARAMS);
        mywire_result_free(res);
        assert_int_equal(mywire_more_results(conn), 0);
        res = (mywire_result *)1;
        RC_IS(mywire_next_result(conn, mode, &res), MYWIRE_DONE);
        assert_null(res);
        assert_int_equal(it_scalar_ll(conn, "SELECT 7"), 7);
    }
    /* Executing before the results were read: out of sync, nothing sent. */
    mywire_result *res = execute(conn, st, MYWIRE_BUFFERED);
    mywire_result_free(res);
    mywire_result *again = (mywire_result *)1;
    int rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &again);
    IT_ERR(conn, rc, MYWIRE_ERROR_OUT_OF_SYNC, 0, NULL);
    assert_null(again);
    while ((rc = mywire_next_result(conn, MYWIRE_BUFFERED, &res)) == MYWIRE_OK)
        mywire_result_free(res);
    assert_int_equal(rc, MYWIRE_DONE);
    mywire_stmt_free(st);
    it_exec(conn, "DROP PROCEDURE " T("it_stmt_proc"));
    mywire_conn_free(conn);
}

/* -------------------------------------------- 8. metadata caching */

static void check_meta_run(mywire_conn *conn, mywire_stmt *st, int want_cached, unsigned cols,
                           const char *last_name, const char *last_value)
{
    mywire_result *res = execute(conn, st, MYWIRE_STREAMING);
    if (want_cached >= 0) assert_int_equal(mywire_result_metadata_cached(res), want_cached);
    assert_int_equal(mywire_column_count(res), cols);
    const mywire_column *c = mywire_column_at(res, cols - 1);
    assert_non_null(c);
    assert_string_equal(c->name, last_name);
    assert_string_equal(mywire_column_at(res, 0)->org_table, T("it_stmt_meta"));
    IT_ROW(res);
    IT_VAL(res, 0, "1");
    IT_VAL(res, cols - 1, last_value);
    IT_DONE(res);
    mywire_result_free(res);
}

static void test_metadata_caching(void **state)
{
    (void)state;
    snprintf(where, sizeof where, "metadata");
    mywire_conn *conn = it_connect_tcp();
    it_exec(conn, "DROP TABLE IF EXISTS " T("it_stmt_meta"));
    it_exec(conn, "CREATE TABLE " T("it_stmt_meta") " (id INT, name VARCHAR(10))");
    it_exec(conn, "INSERT INTO " T("it_stmt_meta") " VALUES (1, 'one')");
    mywire_stmt *st = prepare(conn, "SELECT * FROM " T("it_stmt_meta"));
    assert_int_equal(mywire_stmt_column_count(st), 2);
    /* The first execution may already skip them (MariaDB sent them at
     * prepare); the later ones must. */
    check_meta_run(conn, st, -1, 2, "name", "one");
    check_meta_run(conn, st, 1, 2, "name", "one");
    check_meta_run(conn, st, 1, 2, "name", "one");

    /* The table changes: the server sends the new definitions. */
    it_exec(conn, "ALTER TABLE " T("it_stmt_meta") " ADD COLUMN extra INT DEFAULT 77");
    check_meta_run(conn, st, 0, 3, "extra", "77");
    check_meta_run(conn, st, 1, 3, "extra", "77");
    it_exec(conn, "ALTER TABLE " T("it_stmt_meta") " DROP COLUMN name");
    check_meta_run(conn, st, 0, 2, "extra", "77");
    check_meta_run(conn, st, 1, 2, "extra", "77");

    /* Results reuse the columns of the result freed before them when both
     * are copies of the same statement's definitions. Two statements with as
     * many columns but other names and types, run in turn; a re-prepare of
     * one handle with other columns; a type changed under the statement:
     * each result has its own statement's columns, and its values decode
     * by them (an INT read as a string or the reverse would not). */
    mywire_stmt *sa = prepare(conn, "SELECT id, extra FROM " T("it_stmt_meta"));
    mywire_stmt *sb = prepare(conn, "SELECT CONCAT('b', id) AS bs, extra * 1.5e0 AS bd FROM " T("it_stmt_meta"));
    for (int round = 0; round < 3; round++) {
        for (int which = 0; which < 2; which++) {
            mywire_result *res = execute(conn, which ? sb : sa, MYWIRE_STREAMING);
            assert_int_equal(mywire_column_count(res), 2);
            const mywire_column *c0 = mywire_column_at(res, 0), *c1 = mywire_column_at(res, 1);
            assert_string_equal(c0->name, which ? "bs" : "id");
            assert_string_equal(c1->name, which ? "bd" : "extra");
            assert_int_equal(c0->type, which ? MYWIRE_TYPE_VAR_STRING : MYWIRE_TYPE_LONG);
            assert_int_equal(c1->type, which ? MYWIRE_TYPE_DOUBLE : MYWIRE_TYPE_LONG);
            IT_ROW(res);
            IT_VAL(res, 0, which ? "b1" : "1");
            IT_VAL(res, 1, which ? "115.5" : "77");
            IT_DONE(res);
            mywire_result_free(res);
        }
    }
    const char *other = "SELECT 'x' AS px, 2.5e0 AS py";
    IT_OK(conn, mywire_stmt_prepare(sa, other, strlen(other)));
    for (int round = 0; round < 2; round++) {
        mywire_result *res = execute(conn, sa, MYWIRE_STREAMING);
        assert_string_equal(mywire_column_at(res, 0)->name, "px");
        assert_string_equal(mywire_column_at(res, 1)->name, "py");
        IT_ROW(res);
        IT_VAL(res, 0, "x");
        IT_VAL(res, 1, "2.5");
        IT_DONE(res);
        mywire_result_free(res);
    }
    it_exec(conn, "ALTER TABLE " T("it_stmt_meta") " MODIFY extra VARCHAR(5)");
    it_exec(conn, "UPDATE " T("it_stmt_meta") " SET extra = 'e77'");
    for (int round = 0; round < 3; round++) {
        mywire_result *res = execute(conn, st, MYWIRE_STREAMING);
        assert_int_equal(mywire_result_metadata_cached(res), round == 0 ? 0 : 1);
        assert_int_equal(mywire_column_at(res, 1)->type, MYWIRE_TYPE_VAR_STRING);
        IT_ROW(res);
        IT_VAL(res, 0, "1");
        IT_VAL(res, 1, "e77");
        IT_DONE(res);
        mywire_result_free(res);
    }
    mywire_stmt_free(sa);
    mywire_stmt_free(sb);
    it_exec(conn, "UPDATE " T("it_stmt_meta") " SET extra = '77'");
    it_exec(conn, "ALTER TABLE " T("it_stmt_meta") " MODIFY extra INT DEFAULT 77");

    /* Off: always sent. */
    mywire_conn *off = it_new();
    IT_OK(off, mywire_set_option(off, "cache_metadata", "0"));
    IT_OK(off, mywire_set_option(off, "auto_reprepare", "1"));
    it_connect_configured_tcp(off);
    mywire_stmt *st2 = prepare(off, "SELECT * FROM " T("it_stmt_meta"));
    check_meta_run(off, st2, 0, 2, "extra", "77");
    check_meta_run(off, st2, 0, 2, "extra", "77");
    mywire_stmt_free(st2);
    mywire_conn_free(off);
    /* The option is refused once connected, and for a bad value. */
    assert_int_equal(mywire_set_option(conn, "cache_metadata", "0"), MYWIRE_ERROR_STATE);
    mywire_conn *bad = it_new();
    assert_int_equal(mywire_set_option(bad, "cache_metadata", "maybe"), MYWIRE_ERROR_OPTION);
    mywire_conn_free(bad);

    mywire_stmt_free(st);
    it_exec(conn, "DROP TABLE " T("it_stmt_meta"));
    mywire_conn_free(conn);
}

/* ---------------------------------------------------------- 9. errors */

static void test_errors(void **state)
{
    (void)state;
    snprintf(where, sizeof where, "errors");
    mywire_conn *conn = it_connect_tcp();

    /* A syntax error at prepare: the connection is usable. */
    mywire_stmt *st = new_stmt(conn);
    int rc = mywire_stmt_prepare(st, "SELEKT ?", 8);
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1064, "42000");
    assert_int_equal(mywire_stmt_id(st), 0);
    mywire_result *res = (mywire_result *)1;
    rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_STATE, 0, NULL);
    assert_null(res);
    assert_int_equal(it_scalar_ll(conn, "SELECT 5"), 5);
    rc = mywire_stmt_prepare(st, "SELECT * FROM it_stmt_no_such_table WHERE ? = 1", 47);
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1146, "42S02");
    assert_int_equal(mywire_stmt_id(st), 0);
    mywire_stmt_free(st);
    /* A server error at execute. */
    it_exec(conn, "DROP TABLE IF EXISTS " T("it_stmt_err"));
    it_exec(conn, "CREATE TABLE " T("it_stmt_err") " (k INT PRIMARY KEY)");
    st = prepare(conn, "INSERT INTO " T("it_stmt_err") " VALUES (?)");
    RC_IS(mywire_stmt_bind_int32(st, 0, 1), MYWIRE_OK);
    execute_ok(conn, st);
    res = (mywire_result *)1;
    rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1062, "23000");
    assert_null(res);
    RC_IS(mywire_stmt_bind_int32(st, 0, 2), MYWIRE_OK);
    execute_ok(conn, st);
    mywire_stmt_free(st);

    /* Unbound parameters. */
    st = prepare(conn, "SELECT ?, ?");
    RC_IS(mywire_stmt_bind_int32(st, 0, 1), MYWIRE_OK);
    res = (mywire_result *)1;
    rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_ARGUMENT, 0, NULL);
    assert_null(res);
    assert_non_null(strstr(mywire_errmsg(conn), "parameter 1"));
    RC_IS(mywire_stmt_bind_int32(st, 1, 2), MYWIRE_OK);
    RC_IS(mywire_stmt_clear_bindings(st), MYWIRE_OK);
    rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_ARGUMENT, 0, NULL);
    assert_non_null(strstr(mywire_errmsg(conn), "parameter 0"));
    /* A bad mode. */
    RC_IS(mywire_stmt_bind_int32(st, 0, 1), MYWIRE_OK);
    RC_IS(mywire_stmt_bind_int32(st, 1, 2), MYWIRE_OK);
    rc = mywire_stmt_execute(st, 7, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_ARGUMENT, 0, NULL);
    IT_OK(conn, mywire_ping(conn));

    /* Bindings out of range and values the setters refuse. */
    RC_IS(mywire_stmt_bind_int32(st, 2, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_null(st, 2), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_string(st, 99, "x", 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_time(st, UINT32_MAX, &(mywire_time)DATE(2000, 1, 1)),
          MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_double(st, 0, NAN), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_double(st, 0, INFINITY), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_float(st, 0, -INFINITY), MYWIRE_ERROR_ARGUMENT);
    static const char *bad_decimals[] = {"", "-", "1.2.3", "1e", "e5", "0x10", " 1", "1 ", "."};
    for (size_t k = 0; k < sizeof bad_decimals / sizeof *bad_decimals; k++)
        RC_IS(mywire_stmt_bind_decimal(st, 0, bad_decimals[k], strlen(bad_decimals[k])),
              MYWIRE_ERROR_ARGUMENT);
    static const mywire_time bad_times[] = {
        {MYWIRE_TIME_KIND_DATE, 0, 2000, 13, 1, 0, 0, 0, 0},
        {MYWIRE_TIME_KIND_DATE, 0, 2000, 1, 1, 1, 0, 0, 0},
        {MYWIRE_TIME_KIND_DATETIME, 0, 2000, 1, 1, 24, 0, 0, 0},
        {MYWIRE_TIME_KIND_DATETIME, 1, 2000, 1, 1, 0, 0, 0, 0},
        {MYWIRE_TIME_KIND_DATETIME, 0, 10000, 1, 1, 0, 0, 0, 0},
        {MYWIRE_TIME_KIND_TIME, 0, 0, 0, 0, 839, 0, 0, 0},
        {MYWIRE_TIME_KIND_TIME, 0, 0, 0, 0, 1, 60, 0, 0},
        {MYWIRE_TIME_KIND_TIME, 0, 0, 0, 0, 1, 0, 0, 1000000},
        {MYWIRE_TIME_KIND_TIME, 2, 0, 0, 0, 1, 0, 0, 0},
        {MYWIRE_TIME_KIND_TIME, 0, 0, 0, 1, 1, 0, 0, 0},
        {0, 0, 2000, 1, 1, 0, 0, 0, 0},
        {4, 0, 2000, 1, 1, 0, 0, 0, 0},
    };
    for (size_t k = 0; k < sizeof bad_times / sizeof *bad_times; k++)
        if (mywire_stmt_bind_time(st, 0, &bad_times[k]) != MYWIRE_ERROR_ARGUMENT)
            fail_msg("bad time %zu accepted", k);
    /* The refused setters left the binding as it was. */
    res = execute(conn, st, MYWIRE_BUFFERED);
    IT_ROW(res);
    IT_VAL(res, 0, "1");
    IT_VAL(res, 1, "2");
    mywire_result_free(res);
    rc = mywire_stmt_send_long_data(st, 2, "x", 1);
    IT_ERR(conn, rc, MYWIRE_ERROR_ARGUMENT, 0, NULL);

    /* A streaming result open: every statement call is out of sync. */
    mywire_stmt *other = prepare(conn, "SELECT 1");
    res = execute(conn, st, MYWIRE_STREAMING);
    mywire_result *r2 = (mywire_result *)1;
    rc = mywire_stmt_execute(other, MYWIRE_BUFFERED, &r2);
    IT_ERR(conn, rc, MYWIRE_ERROR_OUT_OF_SYNC, 0, NULL);
    assert_null(r2);
    rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &r2);
    IT_ERR(conn, rc, MYWIRE_ERROR_OUT_OF_SYNC, 0, NULL);
    rc = mywire_stmt_prepare(other, "SELECT 2", 8);
    IT_ERR(conn, rc, MYWIRE_ERROR_OUT_OF_SYNC, 0, NULL);
    rc = mywire_stmt_reset(other);
    IT_ERR(conn, rc, MYWIRE_ERROR_OUT_OF_SYNC, 0, NULL);
    rc = mywire_stmt_send_long_data(other, 0, "x", 1);
    assert_true(rc == MYWIRE_ERROR_OUT_OF_SYNC || rc == MYWIRE_ERROR_ARGUMENT);
    IT_ROW(res); /* the result is still fine */
    IT_VAL(res, 1, "2");
    IT_DONE(res);
    mywire_result_free(res);
    res = execute(conn, other, MYWIRE_BUFFERED);
    IT_ROW(res);
    IT_VAL(res, 0, "1");
    mywire_result_free(res);
    IT_OK(conn, mywire_stmt_reset(st));
    mywire_stmt_free(other);

    /* The typed getters: no current row, index out of range, NULL outs. */
    res = execute(conn, st, MYWIRE_BUFFERED);
    int64_t i;
    uint64_t u;
    double d;
    mywire_time t;
    const char *b;
    size_t blen;
    RC_IS(mywire_get_int64(res, 0, &i), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_bytes(res, 0, &b, &blen), MYWIRE_ERROR_ARGUMENT);
    IT_ROW(res);
    RC_IS(mywire_get_int64(res, 2, &i), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_uint64(res, 2, &u), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_double(res, 2, &d), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_time(res, 2, &t), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_bytes(res, 2, &b, &blen), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_int64(res, 0, NULL), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_uint64(res, 0, NULL), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_double(res, 0, NULL), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_time(res, 0, NULL), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_bytes(res, 0, NULL, &blen), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_bytes(res, 0, &b, NULL), MYWIRE_OK);
    assert_string_equal(b, "1");
    IT_DONE(res);
    RC_IS(mywire_get_int64(res, 0, &i), MYWIRE_ERROR_ARGUMENT);
    mywire_result_free(res);
    assert_int_equal(mywire_errcode(conn), MYWIRE_OK); /* getters record nothing */

    /* NULL handles, for every new function. */
    mywire_stmt *none = (mywire_stmt *)1;
    RC_IS(mywire_stmt_new(NULL, &none), MYWIRE_ERROR_ARGUMENT);
    assert_null(none);
    RC_IS(mywire_stmt_new(conn, NULL), MYWIRE_ERROR_ARGUMENT);
    mywire_stmt_free(NULL);
    RC_IS(mywire_stmt_prepare(NULL, "SELECT 1", 8), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_prepare(st, NULL, 8), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_param_count(NULL), 0);
    assert_int_equal(mywire_stmt_column_count(NULL), 0);
    assert_null(mywire_stmt_column_at(NULL, 0));
    assert_null(mywire_stmt_param_at(NULL, 0));
    assert_null(mywire_stmt_column_at(st, 2));
    assert_null(mywire_stmt_param_at(st, 2));
    assert_int_equal(mywire_stmt_id(NULL), 0);
    RC_IS(mywire_stmt_bind_null(NULL, 0), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_int8(NULL, 0, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_int16(NULL, 0, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_int32(NULL, 0, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_int64(NULL, 0, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_uint8(NULL, 0, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_uint16(NULL, 0, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_uint32(NULL, 0, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_uint64(NULL, 0, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_float(NULL, 0, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_double(NULL, 0, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_decimal(NULL, 0, "1", 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_decimal(st, 0, NULL, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_string(NULL, 0, "1", 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_string(st, 0, NULL, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_bytes(NULL, 0, "1", 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_bytes(st, 0, NULL, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_json(NULL, 0, "1", 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_json(st, 0, NULL, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_bit(NULL, 0, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_time(NULL, 0, &(mywire_time)DATE(2000, 1, 1)), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_bind_time(st, 0, NULL), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_clear_bindings(NULL), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_send_long_data(NULL, 0, "x", 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_send_long_data(st, 0, NULL, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_set_cursor(NULL, 1), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_execute(NULL, MYWIRE_BUFFERED, &res), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_execute(st, MYWIRE_BUFFERED, NULL), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_stmt_reset(NULL), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_int64(NULL, 0, &i), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_uint64(NULL, 0, &u), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_double(NULL, 0, &d), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_time(NULL, 0, &t), MYWIRE_ERROR_ARGUMENT);
    RC_IS(mywire_get_bytes(NULL, 0, &b, &blen), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_result_is_binary(NULL), 0);
    assert_int_equal(mywire_result_metadata_cached(NULL), 0);
    /* The statement survived all that. */
    res = execute(conn, st, MYWIRE_BUFFERED);
    IT_ROW(res);
    IT_VAL(res, 1, "2");
    mywire_result_free(res);

    /* A statement of another connection. */
    mywire_conn *conn2 = it_connect_tcp();
    mywire_stmt *st2 = prepare(conn2, "SELECT 1");
    mywire_result *r3 = execute(conn2, st2, MYWIRE_BUFFERED);
    mywire_result_free(r3);
    mywire_stmt_free(st2);
    mywire_conn_free(conn2);

    mywire_stmt_free(st);
    it_exec(conn, "DROP TABLE " T("it_stmt_err"));
    mywire_conn_free(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_both_protocols),
        cmocka_unit_test(test_number_text_sweep),
        cmocka_unit_test(test_reexecute_changed_values_and_types),
        cmocka_unit_test(test_handle_validity),
        cmocka_unit_test(test_free_closes_on_server),
        cmocka_unit_test(test_ten_thousand_params),
        cmocka_unit_test(test_cursor_million_rows),
        cmocka_unit_test(test_call_out_params),
        cmocka_unit_test(test_metadata_caching),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
