/*
 * The statement cache (option stmt_cache, mywire_stmt_cached) against a real
 * MariaDB: hits send nothing (the session's Com_stmt_prepare does not move),
 * the server never holds more statements for the cache than its bound
 * (Com_stmt_prepare - Com_stmt_close of the session, measured after every
 * lease while cycling through 3 x N texts), least-recently-used eviction,
 * the same SQL leased twice and a cache full of leased entries (ordinary
 * statements, closed on free), what a given-back statement forgets (bindings,
 * batch, cursor, long data), reset / reconnect / close / free of the
 * connection, a miss in progress on a non-blocking connection, and bad
 * option values.
 */
#include "it_common.h"

#include <inttypes.h>
#include <poll.h>
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

#define RC_IS(expr, want)                                                                \
    do {                                                                                 \
        int rc_ = (expr);                                                                \
        if (rc_ != (want))                                                               \
            fail_msg("%s:%d: %s -> %d (%s), expected %d (%s)", __FILE__, __LINE__, #expr, \
                     rc_, mywire_errstr(rc_), (want), mywire_errstr(want));              \
    } while (0)

/* This session's statement counters (nothing else runs on the session). */
static long long prepares(mywire_conn *conn) { return it_status_ll(conn, "Com_stmt_prepare"); }
static long long closes(mywire_conn *conn) { return it_status_ll(conn, "Com_stmt_close"); }

static mywire_conn *connect_with_cache(unsigned n)
{
    char opt[32];
    snprintf(opt, sizeof opt, "stmt_cache=%u", n);
    mywire_conn *conn = it_configured(opt, 0);
    it_connect_configured_tcp(conn);
    return conn;
}

static mywire_stmt *lease(mywire_conn *conn, const char *sql)
{
    mywire_stmt *st = (mywire_stmt *)1;
    int rc = mywire_stmt_cached(conn, sql, strlen(sql), &st);
    if (rc != MYWIRE_OK)
        fail_msg("mywire_stmt_cached \"%s\" -> %d (%s): %s", sql, rc, mywire_errstr(rc), mywire_errmsg(conn));
    assert_non_null(st);
    assert_true(mywire_stmt_id(st) != 0);
    return st;
}

/* Executes st (one parameter bound to v unless v < 0) and checks that the
 * one row's first value is `want`. */
static void run_scalar(mywire_conn *conn, mywire_stmt *st, long long v, const char *want)
{
    if (v >= 0) IT_OK(conn, mywire_stmt_bind_int64(st, 0, v));
    mywire_result *res = NULL;
    IT_OK(conn, mywire_stmt_execute(st, MYWIRE_BUFFERED, &res));
    IT_ROW(res);
    IT_VAL(res, 0, want);
    IT_DONE(res);
    mywire_result_free(res);
}

/* --------------------------------------------------- hits and misses */

static void test_hits_send_nothing(void **state)
{
    (void)state;
    mywire_conn *conn = connect_with_cache(4);
    static const char sql[] = "SELECT ? + 1";
    long long p0 = prepares(conn);

    mywire_stmt *st = lease(conn, sql);
    assert_int_equal(mywire_stmt_is_cached(st), 1);
    uint32_t id = mywire_stmt_id(st);
    run_scalar(conn, st, 1, "2");
    mywire_stmt_free(st); /* back to the cache: not closed */
    assert_int_equal(prepares(conn), p0 + 1);
    long long c0 = closes(conn);

    for (int k = 0; k < 20; k++) {
        mywire_stmt *again = lease(conn, sql);
        assert_ptr_equal(again, st); /* the same handle, the same server statement */
        assert_int_equal(mywire_stmt_id(again), id);
        char want[16];
        snprintf(want, sizeof want, "%d", k + 11);
        run_scalar(conn, again, k + 10, want);
        mywire_stmt_free(again);
    }
    /* Twenty hits: not one prepare, not one close. */
    assert_int_equal(prepares(conn), p0 + 1);
    assert_int_equal(closes(conn), c0);
    assert_int_equal(mywire_stmt_cache_hits(conn), 20);
    assert_int_equal(mywire_stmt_cache_misses(conn), 1);
    assert_int_equal(mywire_stmt_cache_evictions(conn), 0);
    assert_int_equal(mywire_stmt_cache_held(conn), 1);

    /* Given back, its bindings are gone: an execute without binding fails. */
    st = lease(conn, sql);
    mywire_result *res = (mywire_result *)1;
    int rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_ARGUMENT, 0, NULL);
    assert_null(res);
    mywire_stmt_free(st);

    /* The key is the exact text: other bytes are another statement. */
    st = lease(conn, "SELECT ? + 1 ");
    assert_true(mywire_stmt_id(st) != id);
    mywire_stmt_free(st);
    assert_int_equal(mywire_stmt_cache_held(conn), 2);
    assert_int_equal(prepares(conn), p0 + 2);

    /* A hit works while a streaming result is unread (it sends nothing);
     * the execute then waits its turn like any command. */
    mywire_result *open = NULL;
    IT_OK(conn, mywire_query(conn, "SELECT 1 UNION SELECT 2", 23, MYWIRE_STREAMING, &open));
    st = lease(conn, sql);
    IT_OK(conn, mywire_stmt_bind_int64(st, 0, 5));
    rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &res);
    IT_ERR(conn, rc, MYWIRE_ERROR_OUT_OF_SYNC, 0, NULL);
    /* A miss needs the connection: out of sync too. */
    mywire_stmt *miss = (mywire_stmt *)1;
    rc = mywire_stmt_cached(conn, "SELECT 99", 9, &miss);
    IT_ERR(conn, rc, MYWIRE_ERROR_OUT_OF_SYNC, 0, NULL);
    assert_null(miss);
    mywire_result_free(open);
    run_scalar(conn, st, 5, "6");
    mywire_stmt_free(st);

    mywire_conn_free(conn);
}

/* --------------------------------------------------------- the bound */

/* The statements the server holds for this session, from its counters. */
static long long server_held(mywire_conn *conn, long long p0, long long c0)
{
    long long p = prepares(conn), c = closes(conn);
    return (p - p0) - (c - c0);
}

static void test_bound_never_exceeded(void **state)
{
    (void)state;
    enum { N = 5, TEXTS = 3 * N, ROUNDS = 3 };
    mywire_conn *conn = connect_with_cache(N);
    long long p0 = prepares(conn), c0 = closes(conn);
    long long max_seen = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < TEXTS; k++) {
            char sql[64], want[16];
            snprintf(sql, sizeof sql, "SELECT ? + %d", k);
            snprintf(want, sizeof want, "%d", k + round);
            mywire_stmt *st = lease(conn, sql);
            assert_int_equal(mywire_stmt_is_cached(st), 1);
            run_scalar(conn, st, round, want);
            /* Leased: counted, and the server holds exactly what the cache does. */
            long long held = server_held(conn, p0, c0);
            if (held > max_seen) max_seen = held;
            if (held > N || held != (long long)mywire_stmt_cache_held(conn))
                fail_msg("round %d text %d: the server holds %lld statements, the cache says %" PRIu64
                         " (bound %d)", round, k, held, mywire_stmt_cache_held(conn), N);
            mywire_stmt_free(st);
        }
    }
    assert_int_equal(max_seen, N);
    /* Cycling through 3N texts in order is LRU's worst case: every lease misses. */
    assert_int_equal(mywire_stmt_cache_misses(conn), ROUNDS * TEXTS);
    assert_int_equal(mywire_stmt_cache_hits(conn), 0);
    assert_int_equal(mywire_stmt_cache_evictions(conn), ROUNDS * TEXTS - N);
    assert_int_equal(mywire_stmt_cache_held(conn), N);

    /* Least recently used goes first: with A..E cached (E newest), using A
     * again and then adding F evicts B, not A. */
    IT_OK(conn, mywire_stmt_cache_clear(conn));
    assert_int_equal(mywire_stmt_cache_held(conn), 0);
    assert_int_equal(server_held(conn, p0, c0), 0); /* the clear's closes went out */
    const char *texts[] = {"SELECT 'A'", "SELECT 'B'", "SELECT 'C'", "SELECT 'D'", "SELECT 'E'",
                           "SELECT 'F'"};
    for (int k = 0; k < 5; k++) mywire_stmt_free(lease(conn, texts[k]));
    uint64_t hits = mywire_stmt_cache_hits(conn);
    mywire_stmt_free(lease(conn, texts[0]));
    assert_int_equal(mywire_stmt_cache_hits(conn), hits + 1);
    mywire_stmt_free(lease(conn, texts[5])); /* evicts B */
    mywire_stmt_free(lease(conn, texts[0]));
    assert_int_equal(mywire_stmt_cache_hits(conn), hits + 2);
    uint64_t misses = mywire_stmt_cache_misses(conn);
    mywire_stmt *b = lease(conn, texts[1]);
    assert_int_equal(mywire_stmt_cache_misses(conn), misses + 1);
    run_scalar(conn, b, -1, "B");
    mywire_stmt_free(b);
    assert_true(server_held(conn, p0, c0) <= N);

    /* The server's own count agrees (blocking build only: the _nb twin runs
     * at the same time and prepares too). Prepared_stmt_count is global;
     * others may prepare meanwhile, so it is measured again then. */
#ifndef MYWIRE_IT_NONBLOCKING_H
    mywire_conn *probe = it_connect_tcp();
    static const char count_sql[] = "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                                    "WHERE VARIABLE_NAME = 'PREPARED_STMT_COUNT'";
    int seen = 0;
    long long with = 0, without = 0;
    for (int attempt = 0; attempt < 5 && !seen; attempt++) {
        IT_OK(conn, mywire_ping(conn));
        with = it_scalar_ll(probe, count_sql);
        IT_OK(conn, mywire_stmt_cache_clear(conn));
        IT_OK(conn, mywire_ping(conn)); /* the closes go out ahead of it */
        without = it_scalar_ll(probe, count_sql);
        seen = with - without == N;
        for (int k = 0; k < N; k++) mywire_stmt_free(lease(conn, texts[k]));
    }
    if (!seen) fail_msg("Prepared_stmt_count went from %lld to %lld clearing %d", with, without, N);
    mywire_conn_free(probe);
#endif
    mywire_conn_free(conn);
}

/* ------------------------------------------------ leased twice, full */

static void test_leased_twice_and_full(void **state)
{
    (void)state;
    mywire_conn *conn = connect_with_cache(2);
    static const char a_sql[] = "SELECT ? * 2", b_sql[] = "SELECT ? * 3", c_sql[] = "SELECT ? * 4";
    mywire_stmt *a = lease(conn, a_sql);
    assert_int_equal(mywire_stmt_is_cached(a), 1);
    /* The same SQL again while leased: an ordinary statement. */
    mywire_stmt *a2 = lease(conn, a_sql);
    assert_int_equal(mywire_stmt_is_cached(a2), 0);
    assert_true(a2 != a && mywire_stmt_id(a2) != mywire_stmt_id(a));
    run_scalar(conn, a, 2, "4");
    run_scalar(conn, a2, 3, "6");
    assert_int_equal(mywire_stmt_cache_held(conn), 1);
    long long c0 = closes(conn);
    mywire_stmt_free(a2); /* closed */
    assert_int_equal(closes(conn), c0 + 1);

    /* Two entries leased: the cache is full of them, a third SQL is not cached. */
    mywire_stmt *b = lease(conn, b_sql);
    assert_int_equal(mywire_stmt_is_cached(b), 1);
    mywire_stmt *c = lease(conn, c_sql);
    assert_int_equal(mywire_stmt_is_cached(c), 0);
    assert_int_equal(mywire_stmt_cache_held(conn), 2);
    assert_int_equal(mywire_stmt_cache_evictions(conn), 0);
    run_scalar(conn, c, 5, "20");
    mywire_stmt_free(c);
    assert_int_equal(closes(conn), c0 + 2);
    /* Given back, the entries are not closed. */
    mywire_stmt_free(a);
    mywire_stmt_free(b);
    assert_int_equal(closes(conn), c0 + 2);
    assert_int_equal(mywire_stmt_cache_held(conn), 2);
    /* Now c_sql evicts the least recently used idle entry (a). */
    c = lease(conn, c_sql);
    assert_int_equal(mywire_stmt_is_cached(c), 1);
    assert_int_equal(mywire_stmt_cache_evictions(conn), 1);
    assert_int_equal(closes(conn), c0 + 3);
    mywire_stmt_free(c);
    mywire_conn_free(conn);
}

/* ------------------------------------------ what a given-back one forgets */

static void test_give_back_forgets(void **state)
{
    (void)state;
    mywire_conn *conn = connect_with_cache(4);
    it_exec(conn, "DROP TABLE IF EXISTS " T("it_stmt_cache"));
    it_exec(conn, "CREATE TABLE " T("it_stmt_cache") " (n INT PRIMARY KEY)");
    it_exec(conn, "INSERT INTO " T("it_stmt_cache") " VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10)");
    static const char sel[] = "SELECT n FROM " T("it_stmt_cache") " ORDER BY n";

    /* An open cursor ends when its statement goes back. */
    mywire_stmt *st = lease(conn, sel);
    IT_OK(conn, mywire_stmt_set_cursor(st, 3));
    mywire_result *cur = NULL;
    IT_OK(conn, mywire_stmt_execute(st, MYWIRE_STREAMING, &cur));
    for (int k = 0; k < 3; k++) IT_ROW(cur); /* the first batch */
    mywire_stmt_free(st);
    int rc;
    while ((rc = mywire_fetch(cur)) == MYWIRE_ROW) {
    }
    assert_int_equal(rc, MYWIRE_ERROR_STATE); /* ended, not a DONE that looks like the end */
    mywire_result_free(cur);
    /* Leased again: no cursor any more (all ten rows in one buffered result). */
    mywire_stmt *again = lease(conn, sel);
    assert_ptr_equal(again, st);
    mywire_result *res = NULL;
    IT_OK(conn, mywire_stmt_execute(again, MYWIRE_BUFFERED, &res));
    assert_int_equal(mywire_row_count(res), 10);
    mywire_result_free(res);
    mywire_stmt_free(again);

    /* A batch is emptied. */
    static const char ins[] = "INSERT INTO " T("it_stmt_cache") " VALUES (?)";
    st = lease(conn, ins);
    IT_OK(conn, mywire_stmt_bind_int32(st, 0, 100));
    IT_OK(conn, mywire_stmt_add_batch(st));
    assert_int_equal(mywire_stmt_batch_size(st), 1);
    mywire_stmt_free(st);
    st = lease(conn, ins);
    assert_int_equal(mywire_stmt_batch_size(st), 0);
    /* Per-row results asked for go back off (they cost bulk execution on
     * MariaDB before 11.5): the next lease's batch has none. */
    IT_OK(conn, mywire_stmt_set_row_results(st, 1));
    mywire_stmt_free(st);
    st = lease(conn, ins);
    IT_OK(conn, mywire_stmt_bind_int32(st, 0, 101));
    IT_OK(conn, mywire_stmt_add_batch(st));
    res = NULL;
    IT_OK(conn, mywire_stmt_execute_batch(st, &res));
    assert_int_equal(mywire_row_result_count(res), 0);
    mywire_result_free(res);
    it_exec(conn, "DELETE FROM " T("it_stmt_cache") " WHERE n = 101");
    mywire_stmt_free(st);
    assert_int_equal(it_scalar_ll(conn, "SELECT COUNT(*) FROM " T("it_stmt_cache")), 10);

    /* Long data sent and not executed: the server holds it, so the entry is
     * closed rather than lent again with it. */
    static const char len_sql[] = "SELECT LENGTH(?)";
    st = lease(conn, len_sql);
    uint64_t held = mywire_stmt_cache_held(conn);
    long long c0 = closes(conn);
    IT_OK(conn, mywire_stmt_send_long_data(st, 0, "abcdef", 6));
    mywire_stmt_free(st);
    assert_int_equal(mywire_stmt_cache_held(conn), held - 1);
    assert_int_equal(closes(conn), c0 + 1);
    st = lease(conn, len_sql); /* prepared afresh: a clean parameter */
    IT_OK(conn, mywire_stmt_bind_string(st, 0, "xyz", 3));
    run_scalar(conn, st, -1, "3");
    /* Long data that was executed is gone from the server: kept. */
    IT_OK(conn, mywire_stmt_send_long_data(st, 0, "abcdef", 6));
    run_scalar(conn, st, -1, "6");
    mywire_stmt_free(st);
    assert_int_equal(mywire_stmt_cache_held(conn), held);
    assert_int_equal(closes(conn), c0 + 1);

    /* Prepared again from other SQL while leased: closed when given back
     * (the old statement at the prepare, the new one at the free). */
    st = lease(conn, len_sql);
    IT_OK(conn, mywire_stmt_prepare(st, "SELECT 7", 8));
    mywire_stmt_free(st);
    assert_int_equal(closes(conn), c0 + 3);
    assert_int_equal(mywire_stmt_cache_held(conn), held - 1);
    /* Made client-side while leased: likewise. */
    st = lease(conn, len_sql);
    assert_int_equal(mywire_stmt_is_cached(st), 1);
    IT_OK(conn, mywire_stmt_prepare_client(st, "SELECT ?", 8));
    mywire_stmt_free(st);
    assert_int_equal(closes(conn), c0 + 4);

    it_exec(conn, "DROP TABLE " T("it_stmt_cache"));
    mywire_conn_free(conn);
}

/* ------------------------------------- reset, reconnect, close, free */

static void check_stale(mywire_conn *conn, mywire_stmt *st)
{
    assert_int_equal(mywire_stmt_is_cached(st), 0);
    IT_OK(conn, mywire_stmt_bind_int64(st, 0, 1)); /* local: fine */
    mywire_result *res = (mywire_result *)1;
    assert_int_equal(mywire_stmt_execute(st, MYWIRE_BUFFERED, &res), MYWIRE_ERROR_STATE);
    assert_null(res);
}

/* mywire_pipeline_run, continued while it waits (it_nonblocking.h does not
 * wrap it; the _nb build's handle is non-blocking). */
static int run_pipeline(mywire_conn *conn, mywire_pipeline *p)
{
    int rc;
    while ((rc = mywire_pipeline_run(conn, p)) == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE) {
        struct pollfd w = {mywire_socket(conn), (short)(rc == MYWIRE_WAIT_READ ? POLLIN : POLLOUT), 0};
        assert_true(poll(&w, 1, 10000) == 1);
    }
    return rc;
}

static void test_server_forgets(void **state)
{
    (void)state;
    static const char a_sql[] = "SELECT ? - 1", b_sql[] = "SELECT ? - 2";
    mywire_conn *conn = connect_with_cache(4);
    mywire_stmt_free(lease(conn, a_sql)); /* idle */
    mywire_stmt *b = lease(conn, b_sql); /* leased */
    assert_int_equal(mywire_stmt_cache_held(conn), 2);

    /* COM_RESET_CONNECTION: both dropped; nothing is closed on the new session. */
    IT_OK(conn, mywire_reset_connection(conn));
    assert_int_equal(mywire_stmt_cache_held(conn), 0);
    check_stale(conn, b);
    long long p0 = prepares(conn), c0 = closes(conn);
    mywire_stmt_free(b); /* an ordinary, forgotten statement now */
    assert_int_equal(closes(conn), c0);
    b = lease(conn, b_sql); /* prepared again */
    assert_int_equal(mywire_stmt_is_cached(b), 1);
    run_scalar(conn, b, 10, "8");
    mywire_stmt *a = lease(conn, a_sql);
    run_scalar(conn, a, 10, "9");
    assert_int_equal(prepares(conn), p0 + 2);
    mywire_stmt_free(a);
    mywire_stmt_free(b);
    assert_int_equal(closes(conn), c0);
    assert_int_equal(mywire_stmt_cache_held(conn), 2);

    /* A pipeline's reset step: the same. */
    mywire_pipeline *p = NULL;
    assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
    assert_int_equal(mywire_pipeline_add_reset_connection(p), MYWIRE_OK);
    IT_OK(conn, run_pipeline(conn, p));
    mywire_pipeline_free(p);
    assert_int_equal(mywire_stmt_cache_held(conn), 0);
    a = lease(conn, a_sql);
    run_scalar(conn, a, 3, "2");
    mywire_stmt_free(a);

    /* Killed, then connected again on the same handle. */
    b = lease(conn, b_sql);
    mywire_conn *killer = it_connect_tcp();
    char *kill = it_format("KILL CONNECTION %" PRIu64, mywire_connection_id(conn));
    it_exec(killer, kill);
    free(kill);
    mywire_conn_free(killer);
    mywire_result *res = NULL;
    for (int k = 0; k < 3 && mywire_is_connected(conn); k++) { /* an error packet, then EOF */
        int rc = mywire_query(conn, "SELECT 1", 8, MYWIRE_BUFFERED, &res);
        assert_true(rc == MYWIRE_ERROR_LOST || rc == MYWIRE_ERROR_SERVER);
    }
    assert_int_equal(mywire_is_connected(conn), 0);
    assert_int_equal(mywire_stmt_cache_held(conn), 0);
    check_stale(conn, b);
    /* Not connected: a lease is a miss, which cannot prepare. */
    mywire_stmt *none = (mywire_stmt *)1;
    int rc = mywire_stmt_cached(conn, a_sql, strlen(a_sql), &none);
    IT_ERR(conn, rc, MYWIRE_ERROR_STATE, 0, NULL);
    assert_null(none);
    const it_env *env = it_get_env();
    IT_OK(conn, mywire_connect_to(conn, env->host, env->user, env->password, env->db, env->port, NULL));
    check_stale(conn, b);
    mywire_stmt_free(b);
    p0 = prepares(conn);
    c0 = closes(conn);
    a = lease(conn, a_sql);
    run_scalar(conn, a, 5, "4");
    assert_int_equal(prepares(conn), p0 + 1);
    assert_int_equal(closes(conn), c0);

    /* mywire_close with one leased: it stays an object that says STATE. */
    mywire_close(conn);
    assert_int_equal(mywire_stmt_cache_held(conn), 0);
    check_stale(conn, a);
    mywire_stmt_free(a);
    mywire_conn_free(conn);

    /* mywire_conn_free with entries leased and idle: the leased handles stay
     * valid objects (STATE), freed afterwards. */
    conn = connect_with_cache(4);
    mywire_stmt_free(lease(conn, a_sql));
    b = lease(conn, b_sql);
    mywire_stmt *extra = lease(conn, b_sql); /* uncached */
    mywire_conn_free(conn);
    assert_int_equal(mywire_stmt_is_cached(b), 0);
    res = (mywire_result *)1;
    assert_int_equal(mywire_stmt_execute(b, MYWIRE_BUFFERED, &res), MYWIRE_ERROR_STATE);
    assert_null(res);
    assert_int_equal(mywire_stmt_prepare(b, b_sql, strlen(b_sql)), MYWIRE_ERROR_STATE);
    mywire_stmt_free(extra);
    mywire_stmt_free(b);
}

/* ------------------------------------------ a miss on a non-blocking conn */

/* Drives the real (unwrapped) mywire_stmt_cached by hand: while its miss
 * waits, other calls are out of sync; freeing the connection then is safe. */
static void test_nonblocking_miss(void **state)
{
    (void)state;
    mywire_conn *conn = connect_with_cache(4);
    IT_OK(conn, mywire_set_nonblocking(conn, 1));
    static const char sql[] = "SELECT ? + 100";
    mywire_stmt *st = NULL;
    int rc = (mywire_stmt_cached)(conn, sql, strlen(sql), &st);
    assert_true(rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE);
    assert_int_equal(mywire_in_progress(conn), 1);
    /* The prepare in progress is not another statement's. */
    mywire_stmt *other = NULL;
    assert_int_equal((mywire_stmt_new)(conn, &other), MYWIRE_OK);
    assert_int_equal((mywire_stmt_prepare)(other, "SELECT 1", 8), MYWIRE_ERROR_OUT_OF_SYNC);
    (mywire_stmt_free)(other);
    mywire_result *res = NULL;
    assert_int_equal((mywire_query)(conn, "SELECT 1", 8, MYWIRE_BUFFERED, &res), MYWIRE_ERROR_OUT_OF_SYNC);
    assert_int_equal(mywire_stmt_cache_clear(conn), MYWIRE_ERROR_OUT_OF_SYNC);
    while (rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE) {
        struct pollfd p = {mywire_socket(conn), (short)(rc == MYWIRE_WAIT_READ ? POLLIN : POLLOUT), 0};
        assert_true(poll(&p, 1, 10000) == 1);
        rc = (mywire_stmt_cached)(conn, sql, strlen(sql), &st);
    }
    IT_OK(conn, rc);
    assert_non_null(st);
    assert_int_equal(mywire_stmt_is_cached(st), 1);
    assert_int_equal(mywire_stmt_cache_held(conn), 1);
    (mywire_stmt_free)(st);
    /* A hit on a non-blocking connection returns at once. */
    mywire_stmt *hit = NULL;
    assert_int_equal((mywire_stmt_cached)(conn, sql, strlen(sql), &hit), MYWIRE_OK);
    assert_ptr_equal(hit, st);
    (mywire_stmt_free)(hit);

    /* Freed while a miss waits: nothing leaks, nothing crashes. */
    mywire_stmt *never = NULL;
    rc = (mywire_stmt_cached)(conn, "SELECT 5", 8, &never);
    assert_true(rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE);
    mywire_conn_free(conn);
    assert_null(never);
}

/* ------------------------------------------------------ bad options */

static void test_options_and_arguments(void **state)
{
    (void)state;
    mywire_conn *c = it_new();
    static const char *bad[] = {"-1", "abc", "4097", "", "1e3", "99999999999999999999"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        assert_int_equal(mywire_set_option(c, "stmt_cache", bad[k]), MYWIRE_ERROR_OPTION);
    assert_int_equal(mywire_set_stmt_cache(c, 4097), MYWIRE_ERROR_OPTION);
    assert_int_equal(mywire_set_stmt_cache(NULL, 4), MYWIRE_ERROR_ARGUMENT);
    IT_OK(c, mywire_set_option(c, "stmt_cache", "4096"));
    IT_OK(c, mywire_set_option(c, "stmt-cache", "0"));
    IT_OK(c, mywire_set_stmt_cache(c, 8));
    assert_int_equal(mywire_set_uri(c, "mysql://u@h/db?stmt_cache=x"), MYWIRE_ERROR_URI);
    assert_int_equal(mywire_set_uri(c, "mysql://u@h/db?stmt_cache=5000"), MYWIRE_ERROR_URI);
    IT_OK(c, mywire_set_uri(c, "mysql://u@h/db?stmt_cache=16"));
    mywire_conn_free(c);

    /* NULLs. */
    mywire_stmt *st = (mywire_stmt *)1;
    assert_int_equal(mywire_stmt_cached(NULL, "SELECT 1", 8, &st), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_stmt_is_cached(NULL), 0);
    assert_int_equal(mywire_stmt_cache_held(NULL), 0);
    assert_int_equal(mywire_stmt_cache_hits(NULL), 0);
    assert_int_equal(mywire_stmt_cache_misses(NULL), 0);
    assert_int_equal(mywire_stmt_cache_evictions(NULL), 0);
    assert_int_equal(mywire_stmt_cache_clear(NULL), MYWIRE_ERROR_ARGUMENT);

    mywire_conn *conn = connect_with_cache(3);
    assert_int_equal(mywire_set_option(conn, "stmt_cache", "2"), MYWIRE_ERROR_STATE);
    assert_int_equal(mywire_set_stmt_cache(conn, 2), MYWIRE_ERROR_STATE);
    int rc = mywire_stmt_cached(conn, "SELECT 1", 8, NULL);
    IT_ERR(conn, rc, MYWIRE_ERROR_ARGUMENT, 0, NULL);
    st = (mywire_stmt *)1;
    rc = mywire_stmt_cached(conn, NULL, 8, &st);
    IT_ERR(conn, rc, MYWIRE_ERROR_ARGUMENT, 0, NULL);
    assert_null(st);
    /* A failing prepare: nothing handed out, nothing cached, the connection fine. */
    st = (mywire_stmt *)1;
    rc = mywire_stmt_cached(conn, "SELEKT 1", 8, &st);
    IT_ERR(conn, rc, MYWIRE_ERROR_SERVER, 1064, "42000");
    assert_null(st);
    assert_int_equal(mywire_stmt_cache_held(conn), 0);
    assert_int_equal(mywire_stmt_cache_misses(conn), 1);
    assert_int_equal(it_scalar_ll(conn, "SELECT 3"), 3);
    /* Empty SQL is the server's to refuse. */
    rc = mywire_stmt_cached(conn, "", 0, &st);
    assert_int_equal(rc, MYWIRE_ERROR_SERVER);
    assert_null(st);
    mywire_conn_free(conn);

    /* Cache off (the default): new + prepare, closed on free. */
    conn = it_connect_tcp();
    long long c0 = closes(conn);
    mywire_stmt *a = lease(conn, "SELECT 1");
    mywire_stmt *b = lease(conn, "SELECT 1");
    assert_int_equal(mywire_stmt_is_cached(a), 0);
    assert_int_equal(mywire_stmt_is_cached(b), 0);
    assert_true(mywire_stmt_id(a) != mywire_stmt_id(b));
    run_scalar(conn, a, -1, "1");
    mywire_stmt_free(a);
    mywire_stmt_free(b);
    assert_int_equal(closes(conn), c0 + 2);
    assert_int_equal(mywire_stmt_cache_held(conn), 0);
    assert_int_equal(mywire_stmt_cache_misses(conn), 2);
    assert_int_equal(mywire_stmt_cache_hits(conn), 0);
    mywire_conn_free(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hits_send_nothing),
        cmocka_unit_test(test_bound_never_exceeded),
        cmocka_unit_test(test_leased_twice_and_full),
        cmocka_unit_test(test_give_back_forgets),
        cmocka_unit_test(test_server_forgets),
        cmocka_unit_test(test_nonblocking_miss),
        cmocka_unit_test(test_options_and_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
