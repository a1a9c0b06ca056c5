/*
 * Streaming against a real MariaDB: a million rows in constant memory, and a
 * connection killed from another connection while a streaming or a buffered
 * result is being read.
 */
#include "it_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_million_rows_constant_memory(void **state)
{
    (void)state;
    const uint64_t total = 1000000;
    /* ASan keeps freed memory in quarantine and adds redzones, so its bound
     * is looser; the row count and values are checked exactly either way. */
    const long bound_kib = it_asan() ? 64 * 1024 : 8 * 1024;
    mywire_conn *conn = it_connect_tcp();
    double t0 = it_now();
    mywire_result *res = it_query(conn, "SELECT seq, REPEAT('x', 20) FROM seq_1_to_1000000",
                                  MYWIRE_STREAMING);
    uint64_t rows = 0;
    long rss_at_1000 = 0;
    long rss_max = 0;
    char want[24];
    int rc;
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        rows++;
        const mywire_value *row = mywire_row(res);
        /* Check every row cheaply: seq is the row number, the text 20 x's. */
        int n = snprintf(want, sizeof want, "%llu", (unsigned long long)rows);
        if (row[0].len != (size_t)n || memcmp(row[0].data, want, (size_t)n) != 0 ||
            row[1].len != 20 || memcmp(row[1].data, "xxxxxxxxxxxxxxxxxxxx", 20) != 0) {
            fail_msg("row %llu is (\"%.*s\", \"%.*s\")", (unsigned long long)rows,
                     (int)row[0].len, row[0].data, (int)row[1].len, row[1].data);
        }
        if (rows == 1000) {
            rss_at_1000 = it_rss_kib();
        } else if (rows % 100000 == 0) {
            long rss = it_rss_kib();
            if (rss > rss_max) {
                rss_max = rss;
            }
        }
    }
    double elapsed = it_now() - t0;
    long rss_end = it_rss_kib();
    if (rss_end > rss_max) {
        rss_max = rss_end;
    }
    assert_int_equal(rc, MYWIRE_DONE);
    assert_int_equal(rows, total);
    assert_int_equal(mywire_row_count(res), total);
    mywire_result_free(res);
    print_message("1M streamed rows in %.2f s; VmRSS %ld KiB at row 1000, peak %ld KiB "
                  "(+%ld KiB, bound %ld KiB%s)\n",
                  elapsed, rss_at_1000, rss_max, rss_max - rss_at_1000, bound_kib,
                  it_asan() ? ", ASan" : "");
    if (rss_max - rss_at_1000 >= bound_kib) {
        fail_msg("VmRSS grew by %ld KiB while streaming (bound %ld KiB)",
                 rss_max - rss_at_1000, bound_kib);
    }
    IT_OK(conn, mywire_ping(conn));
    mywire_conn_free(conn);
}

static void kill_connection(unsigned long id)
{
    mywire_conn *killer = it_connect_tcp();
    char sql[64];
    snprintf(sql, sizeof sql, "KILL %lu", id);
    it_exec(killer, sql);
    mywire_conn_free(killer);
}

/* After the kill: a server error (1927 "Connection was killed", or 1317
 * "Query execution was interrupted") or a lost connection, never DONE. */
static void check_killed_error(mywire_conn *conn, int rc, const char *when)
{
    if (rc == MYWIRE_ERROR_SERVER) {
        unsigned e = mywire_errno(conn);
        if (e != 1927 && e != 1317) {
            fail_msg("%s: server error %u (%s), expected 1927 or 1317", when, e,
                     mywire_errmsg(conn));
        }
        assert_string_equal(mywire_sqlstate(conn), "70100");
    } else if (rc == MYWIRE_ERROR_LOST) {
        IT_ERR(conn, rc, MYWIRE_ERROR_LOST, 0, NULL);
    } else {
        fail_msg("%s: got %d (%s), expected MYWIRE_ERROR_SERVER or MYWIRE_ERROR_LOST: %s", when,
                 rc, mywire_errstr(rc), mywire_errmsg(conn));
    }
}

static void test_kill_while_streaming(void **state)
{
    (void)state;
    mywire_conn *conn = it_connect_tcp();
    unsigned long id = mywire_thread_id(conn);
    /* Far more rows than fit in socket buffers: the server is blocked sending
     * when the kill arrives. */
    static const char sql[] = "SELECT seq, REPEAT('k', 200) FROM seq_1_to_100000000";
    mywire_result *res = it_query(conn, sql, MYWIRE_STREAMING);
    for (int i = 0; i < 1000; i++) {
        IT_ROW(res);
    }
    kill_connection(id);

    double t0 = it_now();
    uint64_t more = 0;
    int rc;
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        more++;
        if (more > 10 * 1000 * 1000) {
            fail_msg("still reading rows long after KILL");
        }
    }
    print_message("%llu rows after KILL, then %d (%s) errno %u after %.2f s\n",
                  (unsigned long long)more, rc, mywire_errstr(rc), mywire_errno(conn),
                  it_now() - t0);
    check_killed_error(conn, rc, "fetch after KILL");

    /* Later calls fail again (never a row or DONE) and do not crash; the
     * result's answer is checked last so that the rest runs regardless. */
    int again = mywire_fetch(res);
    int third = mywire_fetch(res);
    mywire_result *other = NULL;
    int q = mywire_query(conn, "SELECT 1", 8, MYWIRE_BUFFERED, &other);
    if (q == MYWIRE_OK) {
        fail_msg("a query on the killed connection succeeded");
    }
    assert_null(other);
    q = mywire_ping(conn);
    assert_true(q != MYWIRE_OK);
    mywire_result_free(res);
    mywire_conn_free(conn);
    if (again != rc && again != MYWIRE_ERROR_STATE) {
        fail_msg("second fetch after KILL -> %d (%s), expected %d or MYWIRE_ERROR_STATE",
                 again, mywire_errstr(again), rc);
    }
    if (third != rc && third != MYWIRE_ERROR_STATE) {
        fail_msg("third fetch after KILL -> %d (%s), expected %d or MYWIRE_ERROR_STATE",
                 third, mywire_errstr(third), rc);
    }
}

/* KILL QUERY ends only the statement: the server sends ERR 1317 in place of
 * the rest of the rows, and the connection stays in step and usable. */
static void test_kill_query_while_streaming(void **state)
{
    (void)state;
    mywire_conn *conn = it_connect_tcp();
    unsigned long id = mywire_thread_id(conn);
    static const char sql[] = "SELECT seq, REPEAT('q', 200) FROM seq_1_to_100000000";
    mywire_result *res = it_query(conn, sql, MYWIRE_STREAMING);
    for (int i = 0; i < 1000; i++) {
        IT_ROW(res);
    }
    mywire_conn *killer = it_connect_tcp();
    char kill[64];
    snprintf(kill, sizeof kill, "KILL QUERY %lu", id);
    it_exec(killer, kill);
    mywire_conn_free(killer);

    uint64_t more = 0;
    int rc;
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        more++;
        /* The rows keep their order up to the interruption. */
        char want[24];
        snprintf(want, sizeof want, "%llu", (unsigned long long)(1000 + more));
        size_t len = 0;
        const char *v = mywire_get(res, 0, &len);
        if (v == NULL || strcmp(v, want) != 0) {
            fail_msg("row %s after KILL QUERY reads \"%s\"", want, v ? v : "(null)");
        }
        if (more > 10 * 1000 * 1000) {
            fail_msg("still reading rows long after KILL QUERY");
        }
    }
    print_message("%llu rows after KILL QUERY, then %d (%s) errno %u\n",
                  (unsigned long long)more, rc, mywire_errstr(rc), mywire_errno(conn));
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1317, "70100");
    mywire_result_free(res);

    /* Same session, still usable. */
    IT_OK(conn, mywire_ping(conn));
    assert_int_equal(it_scalar_ll(conn, "SELECT CONNECTION_ID()"), (long long)id);
    res = it_query(conn, "SELECT seq FROM seq_1_to_3", MYWIRE_STREAMING);
    IT_ROW(res);
    IT_VAL(res, 0, "1");
    IT_ROW(res);
    IT_ROW(res);
    IT_DONE(res);
    mywire_result_free(res);
    mywire_conn_free(conn);
}

struct killer_args {
    unsigned long victim;
    const char *host, *user, *password;
    unsigned port;
    char error[256];
};

/* Wait until the victim runs SLEEP, then kill it. Runs on its own thread with
 * its own connection; reports failures in args->error (cmocka asserts are for
 * the test's thread only). */
static void *killer_thread(void *p)
{
    struct killer_args *a = p;
    mywire_conn *conn = NULL;
    if (mywire_conn_new(&conn) != MYWIRE_OK ||
        mywire_connect_to(conn, a->host, a->user, a->password, NULL, a->port, NULL) !=
            MYWIRE_OK) {
        snprintf(a->error, sizeof a->error, "killer connect: %s", mywire_errmsg(conn));
        mywire_conn_free(conn);
        return NULL;
    }
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %lu "
             "AND INFO LIKE 'SELECT SLEEP%%'",
             a->victim);
    int seen = 0;
    for (int tries = 0; tries < 100 && !seen; tries++) {
        mywire_result *res = NULL;
        if (mywire_query(conn, sql, strlen(sql), MYWIRE_BUFFERED, &res) != MYWIRE_OK ||
            mywire_fetch(res) != MYWIRE_ROW) {
            snprintf(a->error, sizeof a->error, "killer poll: %s", mywire_errmsg(conn));
            mywire_result_free(res);
            mywire_conn_free(conn);
            return NULL;
        }
        seen = strcmp(mywire_get(res, 0, NULL), "1") == 0;
        mywire_result_free(res);
        if (!seen) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (!seen) {
        snprintf(a->error, sizeof a->error, "the victim never showed up running SLEEP");
    }
    snprintf(sql, sizeof sql, "KILL %lu", a->victim);
    mywire_result *res = NULL;
    if (mywire_query(conn, sql, strlen(sql), MYWIRE_BUFFERED, &res) != MYWIRE_OK) {
        snprintf(a->error, sizeof a->error, "KILL: %s", mywire_errmsg(conn));
    }
    mywire_result_free(res);
    mywire_conn_free(conn);
    return NULL;
}

static void run_kill_during_sleep(int mode)
{
    const it_env *env = it_get_env();
    mywire_conn *conn = it_connect_tcp();
    struct killer_args args;
    memset(&args, 0, sizeof args);
    args.victim = mywire_thread_id(conn);
    args.host = env->host;
    args.user = env->user;
    args.password = env->password;
    args.port = env->port;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, killer_thread, &args), 0);

    double t0 = it_now();
    mywire_result *res = NULL;
    int rc = mywire_query(conn, "SELECT SLEEP(5)", 15, mode, &res);
    if (rc == MYWIRE_OK && mode == MYWIRE_STREAMING) {
        /* The error may come with the row instead of the metadata. */
        rc = mywire_fetch(res);
        if (rc == MYWIRE_ROW) {
            fail_msg("SELECT SLEEP(5) on a killed connection returned a row (\"%s\")",
                     mywire_get(res, 0, NULL));
        }
    } else if (rc == MYWIRE_OK) {
        fail_msg("buffered SELECT SLEEP(5) on a killed connection succeeded with %llu rows",
                 (unsigned long long)mywire_row_count(res));
    } else {
        assert_null(res);
    }
    double elapsed = it_now() - t0;
    print_message("%s SELECT SLEEP(5) killed: %d (%s) errno %u sqlstate %s after %.2f s\n",
                  mode == MYWIRE_BUFFERED ? "buffered" : "streaming", rc, mywire_errstr(rc),
                  mywire_errno(conn), mywire_sqlstate(conn), elapsed);
    assert_int_equal(pthread_join(th, NULL), 0);
    if (args.error[0] != '\0') {
        fail_msg("%s", args.error);
    }
    check_killed_error(conn, rc, "SELECT SLEEP(5) killed");
    /* Killed, not timed out: well before the 5 s sleep ends. */
    if (elapsed >= 4.5) {
        fail_msg("the killed query took %.2f s", elapsed);
    }
    mywire_result_free(res);
    assert_true(mywire_ping(conn) != MYWIRE_OK);
    mywire_conn_free(conn);
}

static void test_kill_during_buffered_query(void **state)
{
    (void)state;
    run_kill_during_sleep(MYWIRE_BUFFERED);
}

static void test_kill_during_streaming_query(void **state)
{
    (void)state;
    run_kill_during_sleep(MYWIRE_STREAMING);
}

/* A streaming result freed before its end whose rest ends with an error
 * packet (here ER_SUBQUERY_NO_1_ROW at row 3001, after 3000 rows): the
 * error was the freed result's. Freeing it, then the next commands, must
 * work: before the fix the drain's error stuck, and the next command
 * waited forever for rows of the freed result (or, non-blocking, failed
 * with the freed result's error). Also freed after a first row, and a
 * statement's streaming result the same way. */
static void test_free_result_ending_in_error(void **state)
{
    (void)state;
    /* A hang (the defect) becomes a timeout error after 20 s. */
    mywire_conn *conn = it_new();
    assert_int_equal(mywire_set_read_timeout(conn, 20000), MYWIRE_OK);
    it_connect_configured_tcp(conn);
    static const char sql[] = "SELECT s.seq, (SELECT 1 FROM seq_1_to_2 WHERE s.seq > 3000) "
                              "FROM seq_1_to_6000 s";
    for (int fetch_first = 0; fetch_first < 2; fetch_first++) {
        mywire_result *res = NULL;
        assert_int_equal(mywire_query(conn, sql, sizeof sql - 1, MYWIRE_STREAMING, &res), MYWIRE_OK);
        if (fetch_first)
            assert_int_equal(mywire_fetch(res), MYWIRE_ROW);
        mywire_result_free(res);
        assert_int_equal(mywire_ping(conn), MYWIRE_OK);
        assert_int_equal(it_scalar_ll(conn, "SELECT 42"), 42);
    }
    /* The same through a prepared statement's streaming result. */
    mywire_stmt *st = NULL;
    assert_int_equal(mywire_stmt_new(conn, &st), MYWIRE_OK);
    assert_int_equal(mywire_stmt_prepare(st, sql, sizeof sql - 1), MYWIRE_OK);
    mywire_result *res = NULL;
    assert_int_equal(mywire_stmt_execute(st, MYWIRE_STREAMING, &res), MYWIRE_OK);
    assert_int_equal(mywire_fetch(res), MYWIRE_ROW);
    mywire_result_free(res);
    assert_int_equal(it_scalar_ll(conn, "SELECT 43"), 43);
    /* Read to its end, the error is the result's own, as before. */
    assert_int_equal(mywire_stmt_execute(st, MYWIRE_STREAMING, &res), MYWIRE_OK);
    int rc;
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
    }
    assert_int_equal(rc, MYWIRE_ERROR_SERVER);
    assert_int_equal(mywire_errno(conn), 1242);
    mywire_result_free(res);
    assert_int_equal(it_scalar_ll(conn, "SELECT 44"), 44);
    mywire_stmt_free(st);
    mywire_conn_free(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_million_rows_constant_memory),
        cmocka_unit_test(test_free_result_ending_in_error),
        cmocka_unit_test(test_kill_while_streaming),
        cmocka_unit_test(test_kill_query_while_streaming),
        cmocka_unit_test(test_kill_during_buffered_query),
        cmocka_unit_test(test_kill_during_streaming_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
