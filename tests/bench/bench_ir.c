/*
 * mywire-bench-ir: one workload, one client, in a function of its own, so that
 * callgrind can count the instructions of exactly that function and what it
 * calls (--toggle-collect=FUNCTION), per row or per query:
 *
 *   mywire-bench-ir stream mywire|libmariadb SOCKET ROWS
 *       stream ROWS rows x 6 columns from tests/bench's replay server
 *       (../shared/tools/replay_server.py SOCKET ROWS): one query, every row
 *       fetched and every value touched. Functions: ir_stream_mywire,
 *       ir_stream_libmariadb.
 *   mywire-bench-ir stmt-stream mywire|libmariadb SOCKET ROWS
 *       the same rows from the same server through a prepared statement, in
 *       the binary protocol, read through typed getters / bound typed buffers
 *       (bench_stmt.h, as mywire-bench's stmt-stream): the execute and every
 *       row; the prepare is outside. Functions: ir_stmt_stream_mywire,
 *       ir_stmt_stream_libmariadb (C names cannot hold the workload's '-').
 *   mywire-bench-ir point mywire|libmariadb|pipeline N
 *       N point selects on the real MariaDB (MYWIRE_TEST_SOCKET, _USER,
 *       _PASSWORD, _DB; the table bench_point is created and filled as
 *       mywire-bench does): mywire and libmariadb one by one (query + store +
 *       fetch + free), pipeline through mywire pipelines of 100. Functions:
 *       ir_point_mywire, ir_point_libmariadb, ir_point_pipeline.
 *   mywire-bench-ir stmt-point mywire|libmariadb N
 *       N executes of SELECT c FROM bench_point WHERE id = ?, prepared once
 *       (outside), as mywire-bench's stmt-point. Functions:
 *       ir_stmt_point_mywire, ir_stmt_point_libmariadb.
 *
 * Connecting and the table are outside the function. E.g.
 *   valgrind --tool=callgrind --toggle-collect=ir_stream_mywire \
 *       mywire-bench-ir stream mywire /tmp/replay.sock 100000
 * and divide "Collected" by ROWS (or N). It prints the checksum of the values,
 * which both clients must agree on.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_point.h"
#include "bench_stmt.h"
#include <mysql.h>

#include "mywire.h"

#define NOINLINE __attribute__((noinline, used))
#define POINT_ROWS BENCH_POINT_ROWS
#define BATCH 100

static char point_sql[POINT_ROWS][64];

static inline uint64_t touch(const char *data, size_t len)
{
    return data ? (uint64_t)len + (unsigned char)data[0] : 1;
}

static mywire_conn *mw_open(const char *sock, const char *user, const char *pw, const char *db)
{
    mywire_conn *c = NULL;
    if (mywire_conn_new(&c) != MYWIRE_OK)
        return NULL;
    int rc;
    if ((rc = mywire_set_unix_socket(c, sock)) != MYWIRE_OK ||
        (rc = mywire_set_user(c, user)) != MYWIRE_OK ||
        (rc = mywire_set_password(c, pw)) != MYWIRE_OK ||
        (db && (rc = mywire_set_database(c, db)) != MYWIRE_OK) ||
        (rc = mywire_set_max_result_bytes(c, 0)) != MYWIRE_OK ||
        (rc = mywire_connect(c)) != MYWIRE_OK) {
        fprintf(stderr, "mywire connect: %s: %s\n", mywire_errstr(rc), mywire_errmsg(c));
        mywire_conn_free(c);
        return NULL;
    }
    return c;
}

static MYSQL *my_open(const char *sock, const char *user, const char *pw, const char *db)
{
    MYSQL *m = mysql_init(NULL);
    if (!m)
        return NULL;
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(m, "localhost", user, pw, db, 0, sock, 0)) {
        fprintf(stderr, "libmariadb connect: %s\n", mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* ------------------------------------------------------------ stream */

static const char stream_sql[] = "SELECT id, a, b, c, d, e FROM t";

NOINLINE int ir_stream_mywire(mywire_conn *c, uint64_t *rows, uint64_t *sum)
{
    mywire_result *r = NULL;
    int rc = mywire_query(c, stream_sql, sizeof stream_sql - 1, MYWIRE_STREAMING, &r);
    if (rc != MYWIRE_OK)
        return -1;
    unsigned ncols = mywire_column_count(r);
    uint64_t s = 0, n = 0;
    while ((rc = mywire_fetch(r)) == MYWIRE_ROW) {
        const mywire_value *v = mywire_row(r);
        for (unsigned i = 0; i < ncols; i++)
            s += touch(v[i].data, v[i].len);
        n++;
    }
    mywire_result_free(r);
    *rows = n;
    *sum = s;
    return rc == MYWIRE_DONE ? 0 : -1;
}

NOINLINE int ir_stream_libmariadb(MYSQL *m, uint64_t *rows, uint64_t *sum)
{
    MYSQL_RES *r;
    if (mysql_real_query(m, stream_sql, sizeof stream_sql - 1) != 0 || !(r = mysql_use_result(m)))
        return -1;
    unsigned ncols = mysql_num_fields(r);
    uint64_t s = 0, n = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(r)) != NULL) {
        unsigned long *len = mysql_fetch_lengths(r);
        for (unsigned i = 0; i < ncols; i++)
            s += touch(row[i], len[i]);
        n++;
    }
    int err = mysql_errno(m) != 0;
    mysql_free_result(r);
    *rows = n;
    *sum = s;
    return err ? -1 : 0;
}

/* ------------------------------------------------------------ stmt-stream */

NOINLINE int ir_stmt_stream_mywire(mywire_stmt *st, uint64_t *rows, uint64_t *sum)
{
    mywire_result *r = NULL;
    if (mywire_stmt_execute(st, MYWIRE_STREAMING, &r) != MYWIRE_OK)
        return -1;
    uint64_t s = 0, n = 0;
    int rc;
    while ((rc = mywire_fetch(r)) == MYWIRE_ROW) {
        if (mw_stmt_row(r, &s) != 0)
            break;
        n++;
    }
    mywire_result_free(r);
    *rows = n;
    *sum = s;
    return rc == MYWIRE_DONE ? 0 : -1;
}

NOINLINE int ir_stmt_stream_libmariadb(MYSQL_STMT *st, struct my_stmt_row *row, uint64_t *rows,
                                       uint64_t *sum)
{
    if (mysql_stmt_execute(st) != 0 || my_stmt_row_bind(st, row) != 0)
        return -1;
    uint64_t s = 0, n = 0;
    int rc;
    while ((rc = mysql_stmt_fetch(st)) == 0) {
        if (my_stmt_row_sum(row, &s) != 0)
            break;
        n++;
    }
    mysql_stmt_free_result(st);
    *rows = n;
    *sum = s;
    return rc == MYSQL_NO_DATA ? 0 : -1;
}

static int run_stmt_stream(int mw, const char *sock, uint64_t *rows, uint64_t *sum)
{
    int rc = -1;
    if (mw) {
        mywire_conn *c = mw_open(sock, "bench", "", NULL);
        mywire_stmt *st = NULL;
        if (c && mywire_stmt_new(c, &st) == MYWIRE_OK &&
            mywire_stmt_prepare(st, stream_sql, sizeof stream_sql - 1) == MYWIRE_OK)
            rc = ir_stmt_stream_mywire(st, rows, sum);
        else if (c)
            fprintf(stderr, "mywire prepare: %s\n", mywire_errmsg(c));
        mywire_stmt_free(st);
        mywire_conn_free(c);
        return rc;
    }
    MYSQL *m = my_open(sock, "bench", "", NULL);
    MYSQL_STMT *st = m ? mysql_stmt_init(m) : NULL;
    struct my_stmt_row *row = calloc(1, sizeof *row);
    if (st && row && mysql_stmt_prepare(st, stream_sql, sizeof stream_sql - 1) == 0)
        rc = ir_stmt_stream_libmariadb(st, row, rows, sum);
    else if (st)
        fprintf(stderr, "libmariadb prepare: %s\n", mysql_stmt_error(st));
    free(row);
    if (st)
        mysql_stmt_close(st);
    if (m)
        mysql_close(m);
    return rc;
}

/* ------------------------------------------------------------ point */

NOINLINE int ir_point_mywire(mywire_conn *c, unsigned n, uint64_t *sum)
{
    for (unsigned i = 0; i < n; i++) {
        const char *sql = point_sql[i % POINT_ROWS];
        mywire_result *r = NULL;
        int rc = mywire_query(c, sql, strlen(sql), MYWIRE_BUFFERED, &r), ok = 0;
        if (rc == MYWIRE_OK && mywire_fetch(r) == MYWIRE_ROW) {
            size_t len = 0;
            const char *v = mywire_get(r, 0, &len);
            *sum += touch(v, len);
            ok = point_value_ok(i, v, len) && mywire_fetch(r) == MYWIRE_DONE;
        }
        mywire_result_free(r);
        if (!ok)
            return -1;
    }
    return 0;
}

NOINLINE int ir_point_libmariadb(MYSQL *m, unsigned n, uint64_t *sum)
{
    for (unsigned i = 0; i < n; i++) {
        const char *sql = point_sql[i % POINT_ROWS];
        MYSQL_RES *r = NULL;
        MYSQL_ROW row;
        int ok = mysql_real_query(m, sql, strlen(sql)) == 0 && (r = mysql_store_result(m)) &&
                 (row = mysql_fetch_row(r)) != NULL;
        if (ok) {
            unsigned long *len = mysql_fetch_lengths(r);
            *sum += touch(row[0], len[0]);
            ok = point_value_ok(i, row[0], len[0]) && mysql_fetch_row(r) == NULL;
        }
        if (r)
            mysql_free_result(r);
        if (!ok)
            return -1;
    }
    return 0;
}

NOINLINE int ir_point_pipeline(mywire_conn *c, unsigned n, uint64_t *sum)
{
    mywire_pipeline *p = NULL;
    if (mywire_pipeline_new(&p) != MYWIRE_OK)
        return -1;
    int bad = 0;
    for (unsigned base = 0; !bad && base < n; base += BATCH) {
        unsigned k = n - base < BATCH ? n - base : BATCH;
        mywire_pipeline_clear(p);
        for (unsigned i = 0; i < k; i++) {
            const char *sql = point_sql[(base + i) % POINT_ROWS];
            bad |= mywire_pipeline_add_query(p, sql, strlen(sql)) != MYWIRE_OK;
        }
        if (bad || mywire_pipeline_run(c, p) != MYWIRE_OK)
            break;
        for (unsigned i = 0; i < k && !bad; i++) {
            mywire_result *r = NULL;
            int ok = mywire_pipeline_step_code(p, i) == MYWIRE_OK &&
                     mywire_pipeline_result_count(p, i) == 1 &&
                     mywire_pipeline_take_result(p, i, 0, &r) == MYWIRE_OK &&
                     mywire_fetch(r) == MYWIRE_ROW;
            if (ok) {
                size_t len = 0;
                const char *v = mywire_get(r, 0, &len);
                *sum += touch(v, len);
                ok = point_value_ok(base + i, v, len) && mywire_fetch(r) == MYWIRE_DONE;
            }
            mywire_result_free(r);
            bad = !ok;
        }
    }
    mywire_pipeline_free(p);
    return bad ? -1 : 0;
}

/* ------------------------------------------------------------ stmt-point */

static const char stmt_point_sql[] = "SELECT c FROM bench_point WHERE id = ?";

NOINLINE int ir_stmt_point_mywire(mywire_stmt *st, unsigned n, uint64_t *sum)
{
    for (unsigned i = 0; i < n; i++) {
        mywire_result *r = NULL;
        int ok = mywire_stmt_bind_int64(st, 0, (int64_t)(i % POINT_ROWS + 1)) == MYWIRE_OK &&
                 mywire_stmt_execute(st, MYWIRE_STREAMING, &r) == MYWIRE_OK &&
                 mywire_fetch(r) == MYWIRE_ROW;
        if (ok) {
            const char *v = NULL;
            size_t len = 0;
            ok = mywire_get_bytes(r, 0, &v, &len) == MYWIRE_OK;
            *sum += touch(v, len);
            ok = ok && point_value_ok(i, v, len) && mywire_fetch(r) == MYWIRE_DONE;
        }
        mywire_result_free(r);
        if (!ok)
            return -1;
    }
    return 0;
}

NOINLINE int ir_stmt_point_libmariadb(MYSQL_STMT *st, struct my_point_bind *p, unsigned n, uint64_t *sum)
{
    for (unsigned i = 0; i < n; i++) {
        p->id = (int64_t)(i % POINT_ROWS + 1);
        if (mysql_stmt_execute(st) != 0 || mysql_stmt_fetch(st) != 0)
            return -1;
        *sum += touch(p->c, p->len);
        if (p->is_null || !point_value_ok(i, p->c, p->len) || mysql_stmt_fetch(st) != MYSQL_NO_DATA)
            return -1;
    }
    return 0;
}

static int run_stmt_point(int mw, const char *sock, const char *user, const char *pw,
                          const char *db, unsigned n, uint64_t *sum)
{
    int rc = -1;
    if (mw) {
        mywire_conn *c = mw_open(sock, user, pw, db);
        mywire_stmt *st = NULL;
        if (c && mywire_stmt_new(c, &st) == MYWIRE_OK &&
            mywire_stmt_prepare(st, stmt_point_sql, sizeof stmt_point_sql - 1) == MYWIRE_OK)
            rc = ir_stmt_point_mywire(st, n, sum);
        mywire_stmt_free(st);
        mywire_conn_free(c);
        return rc;
    }
    MYSQL *m = my_open(sock, user, pw, db);
    MYSQL_STMT *st = m ? mysql_stmt_init(m) : NULL;
    struct my_point_bind *p = calloc(1, sizeof *p);
    if (st && p && mysql_stmt_prepare(st, stmt_point_sql, sizeof stmt_point_sql - 1) == 0) {
        if (my_point_bind(st, p) == 0)
            rc = ir_stmt_point_libmariadb(st, p, n, sum);
    }
    free(p);
    if (st)
        mysql_stmt_close(st);
    if (m)
        mysql_close(m);
    return rc;
}

static int setup_points(const char *sock, const char *user, const char *pw, const char *db)
{
    MYSQL *m = my_open(sock, user, pw, db);
    if (!m)
        return -1;
    char fill[256];
    snprintf(fill, sizeof fill,
             "INSERT INTO bench_point SELECT seq, CONCAT('point-', seq, '-', MD5(seq)) "
             "FROM seq_1_to_%d",
             POINT_ROWS);
    const char *sql[] = {"DROP TABLE IF EXISTS bench_point",
                         "CREATE TABLE bench_point (id INT NOT NULL PRIMARY KEY, "
                         "c VARCHAR(64) NOT NULL) ENGINE=InnoDB",
                         fill};
    for (unsigned i = 0; i < 3; i++)
        if (mysql_query(m, sql[i]) != 0) {
            fprintf(stderr, "setup: %s\n", mysql_error(m));
            mysql_close(m);
            return -1;
        }
    mysql_close(m);
    for (unsigned i = 0; i < POINT_ROWS; i++)
        snprintf(point_sql[i], sizeof point_sql[i], "SELECT c FROM bench_point WHERE id = %u", i + 1);
    bench_point_init();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: mywire-bench-ir stream|stmt-stream mywire|libmariadb SOCKET ROWS\n"
                        "       mywire-bench-ir point mywire|libmariadb|pipeline N\n"
                        "       mywire-bench-ir stmt-point mywire|libmariadb N\n");
        return 2;
    }
    const char *what = argv[1], *client = argv[2];
    int mw = strcmp(client, "libmariadb") != 0;
    uint64_t sum = 0, rows = 0;
    int rc = -1;
    mysql_library_init(0, NULL, NULL);
    int stmt_stream = strcmp(what, "stmt-stream") == 0;
    if ((stmt_stream || strcmp(what, "stream") == 0) && argc == 5) {
        uint64_t want = strtoull(argv[4], NULL, 10);
        if (stmt_stream) {
            rc = run_stmt_stream(mw, argv[3], &rows, &sum);
        } else if (mw) {
            mywire_conn *c = mw_open(argv[3], "bench", "", NULL);
            if (c)
                rc = ir_stream_mywire(c, &rows, &sum);
            mywire_conn_free(c);
        } else {
            MYSQL *m = my_open(argv[3], "bench", "", NULL);
            if (m)
                rc = ir_stream_libmariadb(m, &rows, &sum);
            if (m)
                mysql_close(m);
        }
        if (rc == 0 && rows != want) {
            fprintf(stderr, "%llu rows, expected %llu\n", (unsigned long long)rows,
                    (unsigned long long)want);
            rc = -1;
        }
    } else if (strcmp(what, "point") == 0 || strcmp(what, "stmt-point") == 0) {
        unsigned n = (unsigned)strtoul(argv[3], NULL, 10);
        const char *sock = getenv("MYWIRE_TEST_SOCKET"), *user = getenv("MYWIRE_TEST_USER"),
                   *pw = getenv("MYWIRE_TEST_PASSWORD"), *db = getenv("MYWIRE_TEST_DB");
        if (!sock || !user || !pw || !db || setup_points(sock, user, pw, db) != 0) {
            fprintf(stderr, "point: MYWIRE_TEST_* must name a running MariaDB\n");
            return 1;
        }
        if (strcmp(what, "stmt-point") == 0) {
            rc = run_stmt_point(mw, sock, user, pw, db, n, &sum);
        } else if (mw) {
            mywire_conn *c = mw_open(sock, user, pw, db);
            if (c)
                rc = strcmp(client, "pipeline") == 0 ? ir_point_pipeline(c, n, &sum)
                                                     : ir_point_mywire(c, n, &sum);
            mywire_conn_free(c);
        } else {
            MYSQL *m = my_open(sock, user, pw, db);
            if (m)
                rc = ir_point_libmariadb(m, n, &sum);
            if (m)
                mysql_close(m);
        }
        rows = n;
    }
    mysql_library_end();
    if (rc != 0) {
        fprintf(stderr, "mywire-bench-ir %s %s: failed\n", what, client);
        return 1;
    }
    printf("%s %s: %llu rows/queries, checksum %llu\n", what, client, (unsigned long long)rows,
           (unsigned long long)sum);
    return 0;
}
