/*
 * test_nonblocking.c - the non-blocking API against the real MariaDB: one
 * thread drives 64 connections at once (connect, queries, streaming and
 * buffered results, multi-results, pings), over TCP, TLS, a unix socket and
 * zlib/zstd; timeouts; results freed unread; the finalizer-safe discards.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_common.h"

enum { CONNECT, QUERY, FETCH, PING, NEXT, DONE };

struct job {
    mywire_conn *c;
    mywire_result *res;
    int rc, call;
    int queries_left;    /* statements still to run */
    uint64_t rows, sum;  /* rows streamed, sum of their first column */
    int waits;           /* how often it had to wait */
    int failed;
    const char *sql;
};

static void job_fail(struct job *j)
{
    print_error("job: call %d gave %d (%s): %s\n", j->call, j->rc, mywire_errstr(j->rc), mywire_errmsg(j->c));
    j->failed = 1;
    j->call = DONE;
}

/* After the call j->call returned j->rc: go on until a call must wait. */
static void advance(struct job *j)
{
    while (j->call != DONE && j->rc != MYWIRE_WAIT_READ && j->rc != MYWIRE_WAIT_WRITE) {
        if (j->rc != MYWIRE_OK && j->rc != MYWIRE_ROW && j->rc != MYWIRE_DONE) {
            job_fail(j);
            return;
        }
        switch (j->call) {
        case CONNECT:
        case PING:
            if (j->queries_left-- <= 0) {
                j->call = DONE;
                return;
            }
            j->call = QUERY;
            j->res = NULL;
            j->rc = mywire_query(j->c, j->sql, strlen(j->sql), MYWIRE_STREAMING, &j->res);
            break;
        case QUERY:
        case FETCH:
        case NEXT:
            if (j->call == NEXT && j->rc == MYWIRE_DONE) { /* no more results */
                j->call = PING;
                j->rc = mywire_ping(j->c);
                break;
            }
            if (j->call == FETCH && j->rc == MYWIRE_ROW) {
                size_t len;
                const char *v = mywire_get(j->res, 0, &len);
                j->rows++;
                if (v) j->sum += strtoull(v, NULL, 10);
            }
            if (j->call == FETCH && j->rc == MYWIRE_DONE) {
                mywire_result_free(j->res);
                j->res = NULL;
                j->call = NEXT;
                j->rc = mywire_next_result(j->c, MYWIRE_STREAMING, &j->res);
                break;
            }
            j->call = FETCH;
            j->rc = mywire_fetch(j->res);
            break;
        }
    }
    if (j->call != DONE) j->waits++;
}

/* The socket is ready: the same call again (its arguments are not read). */
static void resume(struct job *j)
{
    switch (j->call) {
    case CONNECT: j->rc = mywire_connect(j->c); break;
    case QUERY: j->rc = mywire_query(j->c, NULL, 0, 0, &j->res); break;
    case FETCH: j->rc = mywire_fetch(j->res); break;
    case PING: j->rc = mywire_ping(j->c); break;
    case NEXT: j->rc = mywire_next_result(j->c, MYWIRE_STREAMING, &j->res); break;
    }
    advance(j);
}

/* Drive every job from this one thread until all are done. */
static void run_jobs(struct job *jobs, int n)
{
    struct pollfd *p = calloc((size_t)n, sizeof *p);
    assert_non_null(p);
    double start = it_now();
    for (int i = 0; i < n; i++) {
        jobs[i].call = CONNECT;
        jobs[i].rc = mywire_connect(jobs[i].c);
        advance(&jobs[i]);
    }
    for (;;) {
        int waiting = 0;
        for (int i = 0; i < n; i++) {
            p[i].fd = jobs[i].call == DONE ? -1 : mywire_socket(jobs[i].c);
            p[i].events = jobs[i].rc == MYWIRE_WAIT_WRITE ? POLLOUT : POLLIN;
            p[i].revents = 0;
            if (jobs[i].call != DONE) {
                assert_true(p[i].fd >= 0);
                assert_int_equal(mywire_in_progress(jobs[i].c), 1);
                int64_t left = mywire_timeout_ms(jobs[i].c);
                assert_true(left >= 0 && left <= 30000);
                waiting++;
            }
        }
        if (!waiting) break;
        if (it_now() - start > 60) fail_msg("the jobs did not finish within 60 s");
        int r = poll(p, (nfds_t)n, 1000);
        assert_true(r >= 0);
        for (int i = 0; i < n; i++)
            if (p[i].fd >= 0 && p[i].revents) resume(&jobs[i]);
    }
    free(p);
}

static mywire_conn *nb_handle(const char *option, int use_socket)
{
    mywire_conn *c = it_configured(option, use_socket);
    IT_OK(c, mywire_set_read_timeout(c, 30000));
    IT_OK(c, mywire_set_write_timeout(c, 30000));
    IT_OK(c, mywire_set_connect_timeout(c, 30000));
    IT_OK(c, mywire_set_nonblocking(c, 1));
    assert_int_equal(mywire_is_nonblocking(c), 1);
    return c;
}

/* 64 connections from one thread, each running 5 multi-statement queries
 * (a streamed result of 2,000 rows, then a second result), a ping between. */
static void run_many(const char *option, int use_socket, int n)
{
    static const char sql[] = "SELECT seq, REPEAT('r', 50) FROM seq_1_to_2000; SELECT 7";
    struct job *jobs = calloc((size_t)n, sizeof *jobs);
    assert_non_null(jobs);
    for (int i = 0; i < n; i++) {
        jobs[i].c = nb_handle(option, use_socket);
        jobs[i].queries_left = 5;
        jobs[i].sql = sql;
    }
    run_jobs(jobs, n);
    long waits = 0;
    for (int i = 0; i < n; i++) {
        assert_false(jobs[i].failed);
        /* 5 x (2,000 rows summing to 2,001,000, and one row of 7) */
        assert_int_equal(jobs[i].rows, 5 * 2001);
        assert_int_equal(jobs[i].sum, 5 * (2001000 + 7));
        waits += jobs[i].waits;
        mywire_conn_free(jobs[i].c);
    }
    print_message("%d connections (%s%s): %ld waits in all\n", n, use_socket ? "unix" : "tcp",
                  option ? option : "", waits);
    assert_true(waits >= n); /* it really waited, at least once each */
    free(jobs);
}

static void test_64_connections_tcp(void **state)
{
    (void)state;
    run_many(NULL, 0, 64);
}

static void test_64_connections_unix(void **state)
{
    (void)state;
    run_many(NULL, 1, 64);
}

static void test_connections_tls(void **state)
{
    (void)state;
    run_many("ssl_mode=required", 0, 16);
}

static void test_connections_zlib(void **state)
{
    (void)state;
    /* MariaDB offers zlib only (zstd is covered by the scripted server). */
    run_many("compress=zlib", 0, 8);
    run_many("compress=zlib", 1, 4);
}

/* Drive one call on a non-blocking handle to its end with poll. */
static int drive(mywire_conn *c, int rc, int (*again)(void *), void *arg)
{
    while (rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE) {
        struct pollfd p = {mywire_socket(c), (short)(rc == MYWIRE_WAIT_READ ? POLLIN : POLLOUT), 0};
        int64_t t = mywire_timeout_ms(c);
        assert_true(poll(&p, 1, t < 0 ? -1 : (int)t + 1) >= 0);
        rc = again(arg);
    }
    return rc;
}

static int again_connect(void *c) { return mywire_connect(c); }
static int again_ping(void *c) { return mywire_ping(c); }
struct qarg {
    mywire_conn *c;
    mywire_result **res;
};
static int again_query(void *a)
{
    struct qarg *q = a;
    return mywire_query(q->c, NULL, 0, 0, q->res);
}

/* A call in progress must be continued, not overtaken; options are frozen. */
static void test_one_call_at_a_time(void **state)
{
    (void)state;
    mywire_conn *c = nb_handle(NULL, 0);
    int rc = mywire_connect(c);
    if (rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE) {
        assert_int_equal(mywire_in_progress(c), 1);
        int other = mywire_ping(c);
        IT_ERR(c, other, MYWIRE_ERROR_OUT_OF_SYNC, 0, "HY000");
        other = mywire_set_user(c, "someone");
        assert_int_equal(other, MYWIRE_ERROR_STATE);
        assert_int_equal(mywire_set_nonblocking(c, 0), MYWIRE_ERROR_STATE);
    }
    rc = drive(c, rc, again_connect, c);
    IT_OK(c, rc);
    assert_int_equal(mywire_in_progress(c), 0);
    assert_int_equal(mywire_timeout_ms(c), -1);

    /* SELECT SLEEP: the call waits; a ping meanwhile is refused. */
    mywire_result *res = NULL;
    rc = mywire_query(c, "SELECT SLEEP(0.2)", 17, MYWIRE_BUFFERED, &res);
    assert_int_equal(rc, MYWIRE_WAIT_READ);
    assert_null(res);
    IT_ERR(c, mywire_ping(c), MYWIRE_ERROR_OUT_OF_SYNC, 0, "HY000");
    struct qarg q = {c, &res};
    rc = drive(c, rc, again_query, &q);
    IT_OK(c, rc);
    assert_non_null(res);
    IT_ROW(res);
    IT_VAL(res, 0, "0");
    mywire_result_free(res);

    /* Back to blocking on the same handle. */
    IT_OK(c, mywire_set_nonblocking(c, 0));
    IT_OK(c, mywire_ping(c));
    assert_int_equal(it_scalar_ll(c, "SELECT 12"), 12);
    mywire_conn_free(c);
}

struct sarg {
    mywire_stmt *st;
    mywire_result **res;
};
static int again_execute(void *a)
{
    struct sarg *q = a;
    return mywire_stmt_execute(q->st, MYWIRE_BUFFERED, q->res);
}

/* A call in progress belongs to its statement: the same call on another
 * statement is refused (it used to continue the first one's and hand its
 * result over as the second's), and so are the other statement calls;
 * the first statement's call then ends as it would have. */
static void test_one_statement_call_at_a_time(void **state)
{
    (void)state;
    mywire_conn *c = nb_handle(NULL, 1);
    IT_OK(c, mywire_set_nonblocking(c, 0));
    IT_OK(c, mywire_connect(c));
    mywire_stmt *a = NULL, *b = NULL;
    IT_OK(c, mywire_stmt_new(c, &a));
    IT_OK(c, mywire_stmt_new(c, &b));
    IT_OK(c, mywire_stmt_prepare(a, "SELECT SLEEP(0.3), 'a'", 22));
    IT_OK(c, mywire_stmt_prepare(b, "SELECT 'b'", 10));
    IT_OK(c, mywire_set_nonblocking(c, 1));

    mywire_result *res = NULL, *other = NULL;
    int rc = mywire_stmt_execute(a, MYWIRE_BUFFERED, &res);
    assert_int_equal(rc, MYWIRE_WAIT_READ);
    IT_ERR(c, mywire_stmt_execute(b, MYWIRE_BUFFERED, &other), MYWIRE_ERROR_OUT_OF_SYNC, 0, "HY000");
    assert_null(other);
    IT_ERR(c, mywire_stmt_reset(b), MYWIRE_ERROR_OUT_OF_SYNC, 0, "HY000");
    IT_ERR(c, mywire_stmt_prepare(b, "SELECT 2", 8), MYWIRE_ERROR_OUT_OF_SYNC, 0, "HY000");
    IT_ERR(c, mywire_stmt_send_long_data(b, 0, "x", 1), MYWIRE_ERROR_OUT_OF_SYNC, 0, "HY000");
    struct sarg q = {a, &res};
    rc = drive(c, rc, again_execute, &q);
    IT_OK(c, rc);
    IT_ROW(res);
    IT_VAL(res, 1, "a");
    mywire_result_free(res);

    /* And the other way round: b's execute is not continued by a. */
    res = NULL;
    rc = mywire_stmt_execute(b, MYWIRE_BUFFERED, &res);
    if (rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE) {
        IT_ERR(c, mywire_stmt_execute(a, MYWIRE_BUFFERED, &other), MYWIRE_ERROR_OUT_OF_SYNC, 0, "HY000");
        q.st = b;
        rc = drive(c, rc, again_execute, &q);
    }
    IT_OK(c, rc);
    IT_ROW(res);
    IT_VAL(res, 0, "b");
    mywire_result_free(res);

    /* A pipeline in progress is not continued by another pipeline. */
    mywire_pipeline *p1 = NULL, *p2 = NULL;
    IT_OK(c, mywire_pipeline_new(&p1));
    IT_OK(c, mywire_pipeline_new(&p2));
    IT_OK(c, mywire_pipeline_add_query(p1, "SELECT SLEEP(0.3)", 17));
    IT_OK(c, mywire_pipeline_add_query(p2, "SELECT 2", 8));
    rc = mywire_pipeline_run(c, p1);
    assert_true(rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE);
    IT_ERR(c, mywire_pipeline_run(c, p2), MYWIRE_ERROR_OUT_OF_SYNC, 0, "HY000");
    while (rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE) {
        struct pollfd pf = {mywire_socket(c), (short)(rc == MYWIRE_WAIT_READ ? POLLIN : POLLOUT), 0};
        assert_true(poll(&pf, 1, 10000) >= 0);
        rc = mywire_pipeline_run(c, p1);
    }
    IT_OK(c, rc);
    assert_int_equal(mywire_pipeline_step_ran(p1, 0), 1);
    assert_int_equal(mywire_pipeline_step_ran(p2, 0), 0);
    mywire_pipeline_free(p1);
    mywire_pipeline_free(p2);

    mywire_stmt_free(a);
    mywire_stmt_free(b);
    IT_OK(c, mywire_set_nonblocking(c, 0));
    assert_int_equal(it_scalar_ll(c, "SELECT 12"), 12);
    mywire_conn_free(c);
}

/* The per-call read deadline: a statement slower than read_timeout times out
 * as a whole, with MYWIRE_ERROR_TIMEOUT, in both modes. */
static void test_call_deadline(void **state)
{
    (void)state;
    for (int nb = 0; nb <= 1; nb++) {
        mywire_conn *c = nb_handle(NULL, 1);
        IT_OK(c, mywire_set_nonblocking(c, 0));
        IT_OK(c, mywire_set_read_timeout(c, 300));
        IT_OK(c, mywire_connect(c));
        IT_OK(c, mywire_set_nonblocking(c, nb));
        mywire_result *res = NULL;
        double t0 = it_now();
        int rc = mywire_query(c, "SELECT SLEEP(3)", 15, MYWIRE_BUFFERED, &res);
        if (nb) {
            struct qarg q = {c, &res};
            rc = drive(c, rc, again_query, &q);
        }
        double took = it_now() - t0;
        IT_ERR(c, rc, MYWIRE_ERROR_TIMEOUT, 0, "HY000");
        assert_int_equal(mywire_client_error(c), MYWIRE_CLIENT_ERROR_READ_TIMEOUT);
        assert_true(took > 0.25 && took < 2.0);
        assert_int_equal(mywire_is_connected(c), 0);
        mywire_conn_free(c);
    }
}

/* A streaming result freed unread on a non-blocking connection: nothing
 * waits; the next call drains it first and then runs its own command. */
static void test_free_unread_then_next_call(void **state)
{
    (void)state;
    mywire_conn *c = nb_handle(NULL, 0);
    IT_OK(c, drive(c, mywire_connect(c), again_connect, c));
    mywire_result *res = NULL;
    static const char sql[] = "SELECT seq, REPEAT('z', 200) FROM seq_1_to_20000";
    struct qarg q = {c, &res};
    IT_OK(c, drive(c, mywire_query(c, sql, strlen(sql), MYWIRE_STREAMING, &res), again_query, &q));
    int rc;
    while ((rc = mywire_fetch(res)) == MYWIRE_WAIT_READ) {
        struct pollfd p = {mywire_socket(c), POLLIN, 0};
        poll(&p, 1, 1000);
    }
    assert_int_equal(rc, MYWIRE_ROW);
    double t0 = it_now();
    mywire_result_free(res); /* 20,000 rows unread: must not wait */
    assert_true(it_now() - t0 < 0.05);
    IT_OK(c, drive(c, mywire_ping(c), again_ping, c));
    res = NULL;
    IT_OK(c, drive(c, mywire_query(c, "SELECT 99", 9, MYWIRE_BUFFERED, &res), again_query, &q));
    IT_ROW(res);
    IT_VAL(res, 0, "99");
    mywire_result_free(res);
    mywire_conn_free(c);
}

/* The finalizer-safe frees never touch the network. */
static void test_discards(void **state)
{
    (void)state;
    mywire_conn *c = it_connect_tcp();
    mywire_result *res = it_query(c, "SELECT seq FROM seq_1_to_100000", MYWIRE_STREAMING);
    IT_ROW(res);
    double t0 = it_now();
    mywire_result_discard(res);
    assert_true(it_now() - t0 < 0.05);
    /* Unread rows were left on the wire: the connection was closed. */
    IT_ERR(c, mywire_ping(c), MYWIRE_ERROR_STATE, 0, "HY000");
    IT_OK(c, mywire_connect(c));
    assert_int_equal(it_scalar_ll(c, "SELECT 3"), 3);
    /* A finished or buffered result is discarded like a free. */
    res = it_query(c, "SELECT 1", MYWIRE_BUFFERED);
    mywire_result_discard(res);
    IT_OK(c, mywire_ping(c));
    mywire_conn_discard(c);
    mywire_conn_discard(NULL);
    mywire_result_discard(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_64_connections_tcp),
        cmocka_unit_test(test_64_connections_unix),
        cmocka_unit_test(test_connections_tls),
        cmocka_unit_test(test_connections_zlib),
        cmocka_unit_test(test_one_call_at_a_time),
        cmocka_unit_test(test_one_statement_call_at_a_time),
        cmocka_unit_test(test_call_deadline),
        cmocka_unit_test(test_free_unread_then_next_call),
        cmocka_unit_test(test_discards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
