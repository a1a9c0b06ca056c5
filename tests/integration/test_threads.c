/*
 * Threads: several connections used at the same time from different threads,
 * each by one thread (the documented rule). Every thread checks every value.
 */
#include "it_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { THREADS = 4, QUERIES = 200 };

struct worker {
    int index;
    const it_env *env;
    int over_socket;
    int queries_ok;
    char error[512];
};

static int worker_fail(struct worker *w, mywire_conn *conn, const char *what, int rc)
{
    snprintf(w->error, sizeof w->error, "thread %d: %s -> %d (%s): %s", w->index, what, rc,
             mywire_errstr(rc), conn ? mywire_errmsg(conn) : "");
    return 0;
}

/* One query with a value unique to (thread, i), checked in full. */
static int run_one(struct worker *w, mywire_conn *conn, int i)
{
    char sql[256];
    int mode = (i % 2) ? MYWIRE_STREAMING : MYWIRE_BUFFERED;
    int reps = i % 50;
    snprintf(sql, sizeof sql,
             "SELECT %d, %d, REPEAT(CHAR(%d), %d), seq FROM seq_1_to_%d",
             w->index, i, 65 + w->index, reps, 1 + i % 5);
    mywire_result *res = NULL;
    int rc = mywire_query(conn, sql, strlen(sql), mode, &res);
    if (rc != MYWIRE_OK) {
        return worker_fail(w, conn, sql, rc);
    }
    int rows = 0;
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        rows++;
        char want[64];
        size_t len = 0;
        const char *v = mywire_get(res, 0, &len);
        snprintf(want, sizeof want, "%d", w->index);
        if (v == NULL || strcmp(v, want) != 0) {
            mywire_result_free(res);
            return worker_fail(w, conn, "column 0 has another thread's value", -1);
        }
        v = mywire_get(res, 1, &len);
        snprintf(want, sizeof want, "%d", i);
        if (v == NULL || strcmp(v, want) != 0) {
            mywire_result_free(res);
            return worker_fail(w, conn, "column 1 has the wrong query number", -1);
        }
        v = mywire_get(res, 2, &len);
        if (v == NULL || len != (size_t)reps) {
            mywire_result_free(res);
            return worker_fail(w, conn, "column 2 has the wrong length", -1);
        }
        for (size_t k = 0; k < len; k++) {
            if (v[k] != (char)(65 + w->index)) {
                mywire_result_free(res);
                return worker_fail(w, conn, "column 2 has a foreign byte", -1);
            }
        }
        v = mywire_get(res, 3, &len);
        snprintf(want, sizeof want, "%d", rows);
        if (v == NULL || strcmp(v, want) != 0) {
            mywire_result_free(res);
            return worker_fail(w, conn, "column 3 is out of order", -1);
        }
    }
    mywire_result_free(res);
    if (rc != MYWIRE_DONE) {
        return worker_fail(w, conn, "fetch", rc);
    }
    if (rows != 1 + i % 5) {
        return worker_fail(w, conn, "wrong row count", rows);
    }
    return 1;
}

static void *worker_main(void *p)
{
    struct worker *w = p;
    mywire_conn *conn = NULL;
    int rc = mywire_conn_new(&conn);
    if (rc != MYWIRE_OK) {
        worker_fail(w, NULL, "mywire_conn_new", rc);
        return NULL;
    }
    rc = w->over_socket ? mywire_connect_to(conn, NULL, w->env->user, w->env->password,
                                            w->env->db, 0, w->env->socket)
                        : mywire_connect_to(conn, w->env->host, w->env->user,
                                            w->env->password, w->env->db, w->env->port, NULL);
    if (rc != MYWIRE_OK) {
        worker_fail(w, conn, "connect", rc);
        mywire_conn_free(conn);
        return NULL;
    }
    for (int i = 0; i < QUERIES; i++) {
        if (!run_one(w, conn, i)) {
            break;
        }
        if (i % 25 == 24) {
            rc = mywire_ping(conn);
            if (rc != MYWIRE_OK) {
                worker_fail(w, conn, "ping", rc);
                break;
            }
        }
        w->queries_ok++;
    }
    mywire_conn_free(conn);
    return NULL;
}

static void test_concurrent_connections(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    double t0 = it_now();
    for (int t = 0; t < THREADS; t++) {
        memset(&workers[t], 0, sizeof workers[t]);
        workers[t].index = t;
        workers[t].env = env;
        workers[t].over_socket = t % 2;
        assert_int_equal(pthread_create(&threads[t], NULL, worker_main, &workers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    }
    print_message("%d threads x %d queries in %.2f s\n", THREADS, QUERIES, it_now() - t0);
    for (int t = 0; t < THREADS; t++) {
        if (workers[t].error[0] != '\0') {
            fail_msg("%s", workers[t].error);
        }
        assert_int_equal(workers[t].queries_ok, QUERIES);
    }
}

/* Handles created and freed on many threads at once, with errors on some:
 * no shared state between handles (errors stay on their own handle). */
struct churn {
    const it_env *env;
    int index;
    char error[256];
};

static void *churn_main(void *p)
{
    struct churn *c = p;
    for (int i = 0; i < 20; i++) {
        mywire_conn *conn = NULL;
        if (mywire_conn_new(&conn) != MYWIRE_OK) {
            snprintf(c->error, sizeof c->error, "mywire_conn_new failed");
            return NULL;
        }
        int wrong = (i + c->index) % 3 == 0;
        int rc = mywire_connect_to(conn, c->env->host, c->env->user,
                                   wrong ? "wrong-password" : c->env->password, NULL,
                                   c->env->port, NULL);
        if (wrong) {
            if (rc != MYWIRE_ERROR_SERVER || mywire_errno(conn) != 1045) {
                snprintf(c->error, sizeof c->error, "wrong password -> %d errno %u", rc,
                         mywire_errno(conn));
            }
        } else if (rc != MYWIRE_OK || mywire_errcode(conn) != MYWIRE_OK ||
                   strcmp(mywire_sqlstate(conn), "00000") != 0) {
            snprintf(c->error, sizeof c->error, "connect -> %d (%s) state %s", rc,
                     mywire_errmsg(conn), mywire_sqlstate(conn));
        }
        mywire_conn_free(conn);
        if (c->error[0] != '\0') {
            return NULL;
        }
    }
    return NULL;
}

static void test_handles_churn_on_threads(void **state)
{
    (void)state;
    const it_env *env = it_get_env();
    struct churn churns[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        memset(&churns[t], 0, sizeof churns[t]);
        churns[t].env = env;
        churns[t].index = t;
        assert_int_equal(pthread_create(&threads[t], NULL, churn_main, &churns[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        if (churns[t].error[0] != '\0') {
            fail_msg("thread %d: %s", t, churns[t].error);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_connections),
        cmocka_unit_test(test_handles_churn_on_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
