/*
 * test_cancel.c - mywire_cancel, mywire_abort and mywire_wake_fd against the
 * real MariaDB: a call blocked in SELECT SLEEP(30) on one thread, stopped
 * from another (over TCP and TLS, blocking and non-blocking), the connection
 * usable (cancel) or closed and reconnectable (abort) afterwards; a cancel or
 * an abort with nothing running; handles that were never connected.
 *
 * Also in the suite 'threads': tests/run.sh runs it under ThreadSanitizer.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "it_common.h"

#define SLEEP_SQL "SELECT SLEEP(30)"
/* How long the stopped call may take to return, from the cancel/abort call. */
#define MAX_LATENCY 1.0

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A call blocked on another thread: mywire_query(sql) (and for a streaming
 * result its rows), and what it ended with. Only the thread touches c until
 * it is joined (mywire_cancel/abort excepted). */
struct blocked {
    pthread_t thread;
    mywire_conn *c;
    const char *sql;
    int mode;
    int rc;
    int client_error;
    unsigned err_no;
    int connected;
    int sent;
    double ended;
    char msg[512];
};

static void *blocked_main(void *p)
{
    struct blocked *b = p;
    mywire_result *res = NULL;
    b->rc = mywire_query(b->c, b->sql, strlen(b->sql), b->mode, &res);
    if (b->rc == MYWIRE_OK && b->mode == MYWIRE_STREAMING) {
        while ((b->rc = mywire_fetch(res)) == MYWIRE_ROW) {
        }
        if (b->rc == MYWIRE_DONE) b->rc = MYWIRE_OK;
    }
    b->ended = it_now();
    b->client_error = mywire_client_error(b->c);
    b->err_no = mywire_errno(b->c);
    b->connected = mywire_is_connected(b->c);
    b->sent = mywire_error_sent(b->c);
    snprintf(b->msg, sizeof b->msg, "%s", mywire_errmsg(b->c));
    mywire_result_free(res);
    return NULL;
}

static void start_blocked(struct blocked *b, mywire_conn *c, const char *sql, int mode)
{
    memset(b, 0, sizeof *b);
    b->c = c;
    b->sql = sql;
    b->mode = mode;
    assert_int_equal(pthread_create(&b->thread, NULL, blocked_main, b), 0);
}

static void join_blocked(struct blocked *b)
{
    assert_int_equal(pthread_join(b->thread, NULL), 0);
    print_message("blocked call: rc %d (%s), client error %d, errno %u: %s\n", b->rc,
                  mywire_errstr(b->rc), b->client_error, b->err_no, b->msg);
}

/* Wait (up to 10 s) until connection `id` runs a statement starting with
 * `prefix`, seen through another connection. */
static void wait_running(mywire_conn *monitor, uint64_t id, const char *prefix)
{
    char *sql = it_format("SELECT COUNT(*) FROM information_schema.processlist "
                          "WHERE id = %llu AND info LIKE '%s%%'",
                          (unsigned long long)id, prefix);
    double until = it_now() + 10;
    while (it_scalar_ll(monitor, sql) != 1) {
        if (it_now() > until) fail_msg("connection %llu never ran \"%s\"", (unsigned long long)id, prefix);
        sleep_ms(10);
    }
    free(sql);
}

/* The server side of an aborted call may still sleep: stop it. */
static void kill_leftover(mywire_conn *monitor, uint64_t id)
{
    char *sql = it_format("KILL QUERY %llu", (unsigned long long)id);
    mywire_result *res = NULL;
    int rc = mywire_query(monitor, sql, strlen(sql), MYWIRE_BUFFERED, &res);
    (void)rc;  /* the connection may be gone already */
    mywire_result_free(res);
    free(sql);
}

static void check_select_1(mywire_conn *c)
{
    char *v = it_scalar(c, "SELECT 1");
    assert_string_equal(v, "1");
    free(v);
}

/* Cancel c's SELECT SLEEP(30) (mode) from this thread while another is
 * blocked in it: CANCELLED within MAX_LATENCY, the connection usable. */
static void cancel_blocked_sleep(mywire_conn *c, int mode)
{
    mywire_conn *monitor = it_connect_tcp();
    uint64_t id = mywire_connection_id(c);
    assert_true(id != 0);
    struct blocked b;
    start_blocked(&b, c, SLEEP_SQL, mode);
    wait_running(monitor, id, SLEEP_SQL);
    double t0 = it_now();
    int rc = mywire_cancel(c);
    double t_cancel = it_now() - t0;
    join_blocked(&b);
    print_message("mywire_cancel took %.3f s; the call returned %.3f s after it began\n", t_cancel,
                  b.ended - t0);
    assert_int_equal(rc, MYWIRE_OK);
    assert_int_equal(b.rc, MYWIRE_ERROR_CANCELLED);
    assert_int_equal(b.client_error, MYWIRE_CLIENT_ERROR_CANCELLED);
    assert_int_equal(b.connected, 1);
    assert_true(strstr(b.msg, "cancelled") != NULL);
    assert_true(b.ended - t0 < MAX_LATENCY);
    /* The same connection goes on. */
    check_select_1(c);
    check_select_1(c);
    mywire_conn_free(monitor);
}

static void test_cancel_blocked_query(void **state)
{
    (void)state;
    mywire_conn *c = it_connect_tcp();
    cancel_blocked_sleep(c, MYWIRE_BUFFERED);
    /* Twice on one connection: the first cancel leaves nothing behind. */
    cancel_blocked_sleep(c, MYWIRE_BUFFERED);
    mywire_conn_free(c);
}

static void test_cancel_blocked_streaming(void **state)
{
    (void)state;
    mywire_conn *c = it_connect_socket();
    cancel_blocked_sleep(c, MYWIRE_STREAMING);
    mywire_conn_free(c);
}

static void test_cancel_over_tls(void **state)
{
    (void)state;
    const it_env *e = it_get_env();
    /* An account that REQUIRE SSL: the side connection must use TLS too. */
    const char *user = it_required_env("MYWIRE_TEST_SSL_USER");
    const char *password = it_required_env("MYWIRE_TEST_SSL_PASSWORD");
    mywire_conn *c = it_new();
    IT_OK(c, mywire_set_ssl_mode(c, MYWIRE_SSL_MODE_REQUIRED));
    IT_OK(c, mywire_connect_to(c, e->host, user, password, NULL, e->port, NULL));
    assert_int_equal(mywire_tls_active(c), 1);
    cancel_blocked_sleep(c, MYWIRE_BUFFERED);
    assert_int_equal(mywire_tls_active(c), 1);
    mywire_conn_free(c);
}

/* Nothing running: the cancel is harmless, and its flag does not turn a
 * later statement's 1317 (from someone else's KILL QUERY) into CANCELLED. */
static void test_cancel_nothing_running(void **state)
{
    (void)state;
    mywire_conn *c = it_connect_tcp();
    mywire_conn *monitor = it_connect_tcp();
    uint64_t id = mywire_connection_id(c);
    assert_int_equal(mywire_cancel(c), MYWIRE_OK);
    assert_int_equal(mywire_cancel(c), MYWIRE_OK);
    check_select_1(c);
    char *v = it_scalar(c, "SELECT SLEEP(0.2)");
    assert_string_equal(v, "0"); /* not interrupted */
    free(v);

    assert_int_equal(mywire_cancel(c), MYWIRE_OK);
    struct blocked b;
    start_blocked(&b, c, SLEEP_SQL, MYWIRE_BUFFERED);
    wait_running(monitor, id, SLEEP_SQL);
    kill_leftover(monitor, id); /* KILL QUERY, not through mywire_cancel */
    join_blocked(&b);
    assert_int_equal(b.rc, MYWIRE_ERROR_SERVER);
    assert_int_equal(b.err_no, 1317);
    assert_int_equal(b.connected, 1);
    check_select_1(c);
    mywire_conn_free(monitor);
    mywire_conn_free(c);
}

static void test_never_connected(void **state)
{
    (void)state;
    mywire_conn *c = it_new();
    assert_int_equal(mywire_cancel(c), MYWIRE_ERROR_STATE);
    assert_int_equal(mywire_abort(c), MYWIRE_ERROR_STATE);
    assert_int_equal(mywire_wake_fd(c), -1);
    assert_int_equal(mywire_cancel(NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_abort(NULL), MYWIRE_ERROR_ARGUMENT);
    assert_int_equal(mywire_wake_fd(NULL), -1);
    /* A handle the abort did not touch connects as usual. */
    it_connect_configured_tcp(c);
    assert_true(mywire_wake_fd(c) >= 0);
    check_select_1(c);
    /* Closed: nothing to cancel. */
    mywire_close(c);
    assert_int_equal(mywire_cancel(c), MYWIRE_ERROR_STATE);
    mywire_conn_free(c);
}

static void test_abort_blocked_query(void **state)
{
    (void)state;
    mywire_conn *c = it_connect_tcp();
    mywire_conn *monitor = it_connect_tcp();
    int wake = mywire_wake_fd(c);
    assert_true(wake >= 0);
    uint64_t id = mywire_connection_id(c);
    struct blocked b;
    start_blocked(&b, c, SLEEP_SQL, MYWIRE_BUFFERED);
    wait_running(monitor, id, SLEEP_SQL);
    double t0 = it_now();
    assert_int_equal(mywire_abort(c), MYWIRE_OK);
    join_blocked(&b);
    print_message("the aborted call returned %.3f s after mywire_abort\n", b.ended - t0);
    assert_int_equal(b.rc, MYWIRE_ERROR_CANCELLED);
    assert_int_equal(b.client_error, MYWIRE_CLIENT_ERROR_ABORTED);
    assert_int_equal(b.connected, 0);
    assert_true(b.ended - t0 < MAX_LATENCY);
    assert_int_equal(mywire_is_connected(c), 0);
    kill_leftover(monitor, id);
    /* Connect again: the same wake fd, and no abort left over. */
    it_connect_configured_tcp(c);
    assert_int_equal(mywire_wake_fd(c), wake);
    check_select_1(c);
    char *v = it_scalar(c, "SELECT SLEEP(0.2)");
    assert_string_equal(v, "0");
    free(v);
    mywire_conn_free(monitor);
    mywire_conn_free(c);
}

/* Abort during a pipeline: the run returns CANCELLED, and the steps that got
 * no reply say so (they reported MYWIRE_OK before). */
struct pipe_run {
    mywire_conn *c;
    mywire_pipeline *p;
    int rc;
    pthread_t thread;
};

static void *pipe_main(void *arg)
{
    struct pipe_run *r = arg;
    r->rc = mywire_pipeline_run(r->c, r->p);
    return NULL;
}

static void test_abort_pipeline(void **state)
{
    (void)state;
    mywire_conn *c = it_connect_tcp();
    mywire_conn *monitor = it_connect_tcp();
    uint64_t id = mywire_connection_id(c);
    struct pipe_run r = {c, NULL, -1, 0};
    assert_int_equal(mywire_pipeline_new(&r.p), MYWIRE_OK);
    assert_int_equal(mywire_pipeline_add_query(r.p, "SELECT 1", 8), MYWIRE_OK);
    assert_int_equal(mywire_pipeline_add_query(r.p, SLEEP_SQL, strlen(SLEEP_SQL)), MYWIRE_OK);
    assert_int_equal(mywire_pipeline_add_query(r.p, "SELECT 3", 8), MYWIRE_OK);
    assert_int_equal(pthread_create(&r.thread, NULL, pipe_main, &r), 0);
    wait_running(monitor, id, SLEEP_SQL);
    assert_int_equal(mywire_abort(c), MYWIRE_OK);
    assert_int_equal(pthread_join(r.thread, NULL), 0);
    assert_int_equal(r.rc, MYWIRE_ERROR_CANCELLED);
    assert_int_equal(mywire_pipeline_step_code(r.p, 0), MYWIRE_OK);
    assert_int_equal(mywire_pipeline_step_code(r.p, 1), MYWIRE_ERROR_CANCELLED);
    assert_int_equal(mywire_pipeline_step_code(r.p, 2), MYWIRE_ERROR_CANCELLED);
    assert_int_equal(mywire_pipeline_step_ran(r.p, 2), 0);
    kill_leftover(monitor, id);
    mywire_pipeline_free(r.p);
    mywire_conn_free(monitor);
    mywire_conn_free(c);
}

/* An abort while no call runs ends the next call at once, before it sends
 * anything; after a reconnect the handle works as before. */
static void test_abort_pending(void **state)
{
    (void)state;
    mywire_conn *c = it_connect_tcp();
    assert_int_equal(mywire_abort(c), MYWIRE_OK);
    assert_int_equal(mywire_abort(c), MYWIRE_OK); /* twice: still one abort */
    int rc = mywire_ping(c);
    assert_int_equal(rc, MYWIRE_ERROR_CANCELLED);
    assert_int_equal(mywire_client_error(c), MYWIRE_CLIENT_ERROR_ABORTED);
    assert_int_equal(mywire_error_sent(c), 0);
    assert_int_equal(mywire_is_connected(c), 0);
    assert_int_equal(mywire_ping(c), MYWIRE_ERROR_STATE);
    it_connect_configured_tcp(c);
    IT_OK(c, mywire_ping(c));
    IT_OK(c, mywire_ping(c));
    check_select_1(c);
    mywire_conn_free(c);
}

/* ------------------------------------------------------------ non-blocking */

/* Drive the call `rc` came from to its end: poll the socket, call again. */
static int nb_finish(mywire_conn *c, int rc, int (*again)(mywire_conn *, void *), void *arg)
{
    while (rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE) {
        struct pollfd p = {mywire_socket(c), rc == MYWIRE_WAIT_WRITE ? POLLOUT : POLLIN, 0};
        if (poll(&p, 1, 10000) != 1) fail_msg("non-blocking call: no progress in 10 s");
        rc = again(c, arg);
    }
    return rc;
}

static int again_connect(mywire_conn *c, void *arg)
{
    (void)arg;
    return mywire_connect(c);
}

static int again_query(mywire_conn *c, void *arg)
{
    return mywire_query(c, NULL, 0, 0, (mywire_result **)arg);
}

static mywire_conn *nb_connect(void)
{
    const it_env *e = it_get_env();
    mywire_conn *c = it_new();
    IT_OK(c, mywire_set_nonblocking(c, 1));
    IT_OK(c, mywire_set_host(c, e->host));
    IT_OK(c, mywire_set_port(c, e->port));
    IT_OK(c, mywire_set_user(c, e->user));
    IT_OK(c, mywire_set_password(c, e->password));
    IT_OK(c, nb_finish(c, mywire_connect(c), again_connect, NULL));
    return c;
}

static void nb_select_1(mywire_conn *c)
{
    mywire_result *res = NULL;
    IT_OK(c, nb_finish(c, mywire_query(c, "SELECT 1", 8, MYWIRE_BUFFERED, &res), again_query, &res));
    IT_ROW(res);
    IT_VAL(res, 0, "1");
    IT_DONE(res);
    mywire_result_free(res);
}

struct stopper {
    pthread_t thread;
    mywire_conn *c;
    int abort; /* 1: mywire_abort, 0: mywire_cancel */
    int rc;
    double at;
};

static void *stopper_main(void *p)
{
    struct stopper *s = p;
    s->at = it_now();
    s->rc = s->abort ? mywire_abort(s->c) : mywire_cancel(s->c);
    return NULL;
}

/* One thread's event loop owns c, which runs SELECT SLEEP(30); another
 * thread cancels or aborts it. Returns the call's final code; *latency is
 * the time from the other thread's call to the loop's end. */
static int nb_stop_sleep(mywire_conn *c, int abort, double *latency)
{
    mywire_conn *monitor = it_connect_tcp();
    uint64_t id = mywire_connection_id(c);
    int wake = mywire_wake_fd(c);
    assert_true(wake >= 0);
    mywire_result *res = NULL;
    int rc = mywire_query(c, SLEEP_SQL, strlen(SLEEP_SQL), MYWIRE_BUFFERED, &res);
    assert_true(rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE);
    assert_int_equal(mywire_in_progress(c), 1);
    wait_running(monitor, id, SLEEP_SQL);

    struct stopper s = {.c = c, .abort = abort};
    assert_int_equal(pthread_create(&s.thread, NULL, stopper_main, &s), 0);
    int woken_by_fd = 0;
    while (rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE) {
        struct pollfd p[2] = {{mywire_socket(c), rc == MYWIRE_WAIT_WRITE ? POLLOUT : POLLIN, 0},
                              {wake, POLLIN, 0}};
        int n = poll(p, 2, 10000);
        if (n <= 0) fail_msg("non-blocking SELECT SLEEP(30): not woken in 10 s");
        if (p[1].revents & POLLIN) woken_by_fd = 1;
        rc = mywire_query(c, NULL, 0, 0, &res);
    }
    double ended = it_now();
    assert_int_equal(pthread_join(s.thread, NULL), 0);
    *latency = ended - s.at;
    print_message("non-blocking %s: rc %d (%s), %.3f s after the call, woken by the wake fd: %d: %s\n",
                  abort ? "abort" : "cancel", rc, mywire_errstr(rc), *latency, woken_by_fd,
                  mywire_errmsg(c));
    assert_int_equal(s.rc, MYWIRE_OK);
    assert_null(res);
    if (abort) {
        assert_int_equal(woken_by_fd, 1);
        kill_leftover(monitor, id);
    }
    mywire_conn_free(monitor);
    return rc;
}

static void test_nonblocking_cancel(void **state)
{
    (void)state;
    mywire_conn *c = nb_connect();
    double latency = 0;
    int rc = nb_stop_sleep(c, 0, &latency);
    assert_int_equal(rc, MYWIRE_ERROR_CANCELLED);
    assert_int_equal(mywire_client_error(c), MYWIRE_CLIENT_ERROR_CANCELLED);
    assert_int_equal(mywire_is_connected(c), 1);
    assert_true(latency < MAX_LATENCY);
    nb_select_1(c);
    mywire_conn_free(c);
}

static void test_nonblocking_abort(void **state)
{
    (void)state;
    mywire_conn *c = nb_connect();
    int wake = mywire_wake_fd(c);
    double latency = 0;
    int rc = nb_stop_sleep(c, 1, &latency);
    assert_int_equal(rc, MYWIRE_ERROR_CANCELLED);
    assert_int_equal(mywire_client_error(c), MYWIRE_CLIENT_ERROR_ABORTED);
    assert_int_equal(mywire_is_connected(c), 0);
    assert_int_equal(mywire_in_progress(c), 0);
    assert_true(latency < MAX_LATENCY);
    /* The abort was consumed: the wake fd is quiet, and a reconnect works. */
    struct pollfd p = {wake, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 0), 0);
    IT_OK(c, nb_finish(c, mywire_connect(c), again_connect, NULL));
    assert_int_equal(mywire_wake_fd(c), wake);
    nb_select_1(c);
    mywire_conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_never_connected),
        cmocka_unit_test(test_cancel_blocked_query),
        cmocka_unit_test(test_cancel_blocked_streaming),
        cmocka_unit_test(test_cancel_over_tls),
        cmocka_unit_test(test_cancel_nothing_running),
        cmocka_unit_test(test_abort_blocked_query),
        cmocka_unit_test(test_abort_pipeline),
        cmocka_unit_test(test_abort_pending),
        cmocka_unit_test(test_nonblocking_cancel),
        cmocka_unit_test(test_nonblocking_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
