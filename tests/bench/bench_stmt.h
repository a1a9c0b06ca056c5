/*
 * bench_stmt.h - the prepared-statement consumers shared by mywire-bench and
 * mywire-bench-ir, so that both measure exactly the same work.
 *
 * stmt-stream reads the 6 columns of the replay server's result (and of
 * bench_rows): id INT, a BIGINT, b DOUBLE, c VARCHAR(64), d DATETIME,
 * e DECIMAL, in the binary protocol, as a program that wants typed values
 * does: mywire through its typed getters (int64, int64, double, bytes, time,
 * bytes), libmariadb through mysql_stmt_bind_result into typed buffers
 * (LONGLONG, LONGLONG, DOUBLE, STRING with length, DATETIME into MYSQL_TIME,
 * STRING with length: DECIMAL is text in both protocols). Every value goes
 * into the checksum, which both clients must agree on.
 *
 * stmt-bulk inserts rows (id, id * 7919, id / 3.0, a string of
 * bench_bulk_text) into a table of (id INT, a BIGINT, b DOUBLE, c VARCHAR(64)).
 */
#ifndef MYWIRE_BENCH_STMT_H
#define MYWIRE_BENCH_STMT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mysql.h>

#include "mywire.h"

/* One row's checksum: every value, strings by length and first byte. */
static inline uint64_t stmt_row_sum(int64_t id, int64_t a, double b, const char *c, size_t c_len,
                                    unsigned year, unsigned month, unsigned day, unsigned hour,
                                    unsigned minute, unsigned second, unsigned usec,
                                    const char *e, size_t e_len)
{
    uint64_t bits;
    memcpy(&bits, &b, sizeof bits);
    return (uint64_t)id + (uint64_t)a + bits + c_len + (c_len ? (unsigned char)c[0] : 0) +
           year * 10000000000ull + month * 100000000ull + day * 1000000ull + hour * 10000ull +
           minute * 100ull + second + usec + e_len + (e_len ? (unsigned char)e[0] : 0);
}

/* mywire: the current row of a stmt-stream result through the typed getters.
 * 0 and *sum increased, or -1 (a NULL or a value that does not convert:
 * neither can happen with the bench's data). */
static inline int mw_stmt_row(const mywire_result *r, uint64_t *sum)
{
    int64_t id, a;
    double b;
    mywire_time d;
    const char *c, *e;
    size_t c_len, e_len;
    if (mywire_get_int64(r, 0, &id) != MYWIRE_OK || mywire_get_int64(r, 1, &a) != MYWIRE_OK ||
        mywire_get_double(r, 2, &b) != MYWIRE_OK ||
        mywire_get_bytes(r, 3, &c, &c_len) != MYWIRE_OK ||
        mywire_get_time(r, 4, &d) != MYWIRE_OK || mywire_get_bytes(r, 5, &e, &e_len) != MYWIRE_OK)
        return -1;
    *sum += stmt_row_sum(id, a, b, c, c_len, (unsigned)d.year, (unsigned)d.month,
                         (unsigned)d.day, (unsigned)d.hour, (unsigned)d.minute,
                         (unsigned)d.second, (unsigned)d.microsecond, e, e_len);
    return 0;
}

/* libmariadb: the typed buffers of a stmt-stream result. */
struct my_stmt_row {
    MYSQL_BIND bind[6];
    int64_t id, a;
    double b;
    char c[256];
    MYSQL_TIME d;
    char e[80];
    unsigned long c_len, e_len;
    my_bool is_null[6], error[6];
};

/* mysql_stmt_bind_result for struct my_stmt_row; 0 or -1. */
static inline int my_stmt_row_bind(MYSQL_STMT *st, struct my_stmt_row *row)
{
    memset(row->bind, 0, sizeof row->bind);
    static const enum enum_field_types types[6] = {MYSQL_TYPE_LONGLONG, MYSQL_TYPE_LONGLONG,
                                                   MYSQL_TYPE_DOUBLE,   MYSQL_TYPE_STRING,
                                                   MYSQL_TYPE_DATETIME, MYSQL_TYPE_STRING};
    void *buf[6] = {&row->id, &row->a, &row->b, row->c, &row->d, row->e};
    unsigned long size[6] = {sizeof row->id, sizeof row->a, sizeof row->b,
                             sizeof row->c,  sizeof row->d, sizeof row->e};
    for (unsigned i = 0; i < 6; i++) {
        row->bind[i].buffer_type = types[i];
        row->bind[i].buffer = buf[i];
        row->bind[i].buffer_length = size[i];
        row->bind[i].is_null = &row->is_null[i];
        row->bind[i].error = &row->error[i];
    }
    row->bind[3].length = &row->c_len;
    row->bind[5].length = &row->e_len;
    return mysql_stmt_bind_result(st, row->bind) ? -1 : 0;
}

/* libmariadb: the row mysql_stmt_fetch just filled in; -1 for a NULL. */
/* stmt-point, libmariadb: the id parameter and the one string column, bound
 * once to the prepared statement (mywire-bench and mywire-bench-ir). */
struct my_point_bind {
    MYSQL_BIND param, result;
    int64_t id;
    char c[128];
    unsigned long len;
    my_bool is_null, error;
};

static inline int my_point_bind(MYSQL_STMT *st, struct my_point_bind *pb)
{
    pb->param.buffer_type = MYSQL_TYPE_LONGLONG;
    pb->param.buffer = &pb->id;
    pb->result.buffer_type = MYSQL_TYPE_STRING;
    pb->result.buffer = pb->c;
    pb->result.buffer_length = sizeof pb->c;
    pb->result.length = &pb->len;
    pb->result.is_null = &pb->is_null;
    pb->result.error = &pb->error;
    return mysql_stmt_bind_param(st, &pb->param) || mysql_stmt_bind_result(st, &pb->result);
}

static inline int my_stmt_row_sum(const struct my_stmt_row *row, uint64_t *sum)
{
    for (unsigned i = 0; i < 6; i++)
        if (row->is_null[i])
            return -1;
    const MYSQL_TIME *d = &row->d;
    *sum += stmt_row_sum(row->id, row->a, row->b, row->c, row->c_len, d->year, d->month, d->day,
                         d->hour, d->minute, d->second, (unsigned)d->second_part, row->e,
                         row->e_len);
    return 0;
}

/* ------------------------------------------------------------ stmt-bulk */

#define BENCH_BULK_TEXTS 1000
static char bench_bulk_text[BENCH_BULK_TEXTS][48];
static unsigned long bench_bulk_text_len[BENCH_BULK_TEXTS];

static inline void bench_bulk_init(void)
{
    for (unsigned i = 0; i < BENCH_BULK_TEXTS; i++)
        bench_bulk_text_len[i] = (unsigned long)snprintf(
            bench_bulk_text[i], sizeof bench_bulk_text[i], "bulk-%u-%032x", i,
            (unsigned)((i * 2654435761u) ^ 0x5bd1e995u));
}

/* Row id's values (id counts from 1). */
static inline int64_t bulk_a(uint64_t id) { return (int64_t)id * 7919; }
static inline double bulk_b(uint64_t id) { return (double)id / 3.0; }
static inline unsigned bulk_text(uint64_t id) { return (unsigned)(id % BENCH_BULK_TEXTS); }
/* What the server's SUM(id + a + LENGTH(c)) must give for a row. */
static inline uint64_t bulk_row_sum(uint64_t id)
{
    return id + (uint64_t)bulk_a(id) + bench_bulk_text_len[bulk_text(id)];
}

#endif
