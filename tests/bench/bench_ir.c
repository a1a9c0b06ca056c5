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
 *   mywire-bench-ir point mywire|libmariadb|pipeline N
 *       N point selects on the real MariaDB (MYWIRE_TEST_SOCKET, _USER,
 *       _PASSWORD, _DB; the table bench_point is created and filled as
 *       mywire-bench does): mywire and libmariadb one by one (query + store +
 *       fetch + free), pipeline through mywire pipelines of 100. Functions:
 *       ir_point_mywire, ir_point_libmariadb, ir_point_pipeline.
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
        fprintf(stderr, "usage: mywire-bench-ir stream mywire|libmariadb SOCKET ROWS\n"
                        "       mywire-bench-ir point mywire|libmariadb|pipeline N\n");
        return 2;
    }
    const char *what = argv[1], *client = argv[2];
    int mw = strcmp(client, "libmariadb") != 0;
    uint64_t sum = 0, rows = 0;
    int rc = -1;
    mysql_library_init(0, NULL, NULL);
    if (strcmp(what, "stream") == 0 && argc == 5) {
        uint64_t want = strtoull(argv[4], NULL, 10);
        if (mw) {
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
    } else if (strcmp(what, "point") == 0) {
        unsigned n = (unsigned)strtoul(argv[3], NULL, 10);
        const char *sock = getenv("MYWIRE_TEST_SOCKET"), *user = getenv("MYWIRE_TEST_USER"),
                   *pw = getenv("MYWIRE_TEST_PASSWORD"), *db = getenv("MYWIRE_TEST_DB");
        if (!sock || !user || !pw || !db || setup_points(sock, user, pw, db) != 0) {
            fprintf(stderr, "point: MYWIRE_TEST_* must name a running MariaDB\n");
            return 1;
        }
        if (mw) {
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
