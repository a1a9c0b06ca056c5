/*
 * it_nonblocking.h - run an integration test through the non-blocking API.
 *
 * Force-included (-include) into a second build of an integration test file
 * and of it_common.c (tests/integration/meson.build: the it_*_nb executables,
 * suites 'integration' and 'nonblocking'). Every call that can wait on the
 * network is #defined to a wrapper that makes the handle non-blocking and
 * drives the call with a poll loop: call, and while it returns
 * MYWIRE_WAIT_READ / MYWIRE_WAIT_WRITE, poll mywire_socket() for that event
 * for at most mywire_timeout_ms() and call the SAME function again. So the
 * unchanged test cases run the engine's non-blocking path and must see
 * exactly what they see through the blocking calls.
 *
 * The wrappers also check the API's invariants and abort with a message when
 * one breaks (they may run on any thread, where cmocka's fail() cannot):
 * - while a call waits, mywire_in_progress() is 1 and mywire_socket() >= 0;
 *   once it returned anything else, mywire_in_progress() is 0;
 * - a blocking handle (one the wrapper could not switch, or a result whose
 *   connection is unknown or gone) never returns MYWIRE_WAIT_*;
 * - a call continued after its deadline (mywire_timeout_ms() was 0 and poll
 *   timed out) does not keep waiting.
 *
 * mywire_fetch() needs the socket of the result's connection: the query,
 * next_result and stmt_execute wrappers record result -> connection in a
 * small map, which mywire_result_free/discard and mywire_conn_free/discard
 * update. The statement calls need their statement's connection the same
 * way: mywire_stmt_new records statement -> connection in that map and
 * mywire_stmt_free drops it (a statement whose connection was freed maps to
 * nothing, and its calls must not wait); mywire_stmt_cached records the
 * statement it hands out.
 *
 * `(mywire_query)(...)`, in parentheses, calls the real function. The
 * definitions are compiled into it_common.c only (IT_NB_IMPLEMENTATION).
 */
#ifndef MYWIRE_IT_NONBLOCKING_H
#define MYWIRE_IT_NONBLOCKING_H

#include <stddef.h>
#include <stdint.h>

#include "mywire.h"

int it_nb_connect(mywire_conn *conn);
int it_nb_connect_to(mywire_conn *conn, const char *host, const char *user, const char *password,
                     const char *database, unsigned port, const char *unix_socket);
int it_nb_connect_uri(mywire_conn *conn, const char *uri);
int it_nb_query(mywire_conn *conn, const char *sql, size_t len, int mode, mywire_result **out);
int it_nb_next_result(mywire_conn *conn, int mode, mywire_result **out);
int it_nb_fetch(mywire_result *res);
int it_nb_ping(mywire_conn *conn);
int it_nb_select_db(mywire_conn *conn, const char *database);
int it_nb_reset_connection(mywire_conn *conn);
int it_nb_statistics(mywire_conn *conn, const char **text, size_t *len);
int it_nb_set_server_multi_statements(mywire_conn *conn, int enable);
void it_nb_result_free(mywire_result *res);
void it_nb_result_discard(mywire_result *res);
void it_nb_conn_free(mywire_conn *conn);
void it_nb_conn_discard(mywire_conn *conn);
int it_nb_stmt_new(mywire_conn *conn, mywire_stmt **out);
void it_nb_stmt_free(mywire_stmt *stmt);
int it_nb_stmt_prepare(mywire_stmt *stmt, const char *sql, size_t len);
int it_nb_stmt_execute(mywire_stmt *stmt, int mode, mywire_result **out);
int it_nb_stmt_reset(mywire_stmt *stmt);
int it_nb_stmt_send_long_data(mywire_stmt *stmt, unsigned index, const void *data, size_t len);
int it_nb_stmt_cached(mywire_conn *conn, const char *sql, size_t len, mywire_stmt **out);
int it_nb_stmt_execute_batch(mywire_stmt *stmt, mywire_result **out);
int it_nb_stmt_execute_array(mywire_stmt *stmt, uint64_t rows, mywire_result **out);
int it_nb_pipeline_run(mywire_conn *conn, mywire_pipeline *p);
/* How many calls had to wait at least once, over the whole process. */
unsigned long it_nb_waited_calls(void);

#define mywire_connect(c) it_nb_connect(c)
#define mywire_connect_to(c, h, u, p, d, port, s) it_nb_connect_to(c, h, u, p, d, port, s)
#define mywire_connect_uri(c, uri) it_nb_connect_uri(c, uri)
#define mywire_query(c, sql, len, mode, out) it_nb_query(c, sql, len, mode, out)
#define mywire_next_result(c, mode, out) it_nb_next_result(c, mode, out)
#define mywire_fetch(r) it_nb_fetch(r)
#define mywire_ping(c) it_nb_ping(c)
#define mywire_select_db(c, db) it_nb_select_db(c, db)
#define mywire_reset_connection(c) it_nb_reset_connection(c)
#define mywire_statistics(c, text, len) it_nb_statistics(c, text, len)
#define mywire_set_server_multi_statements(c, on) it_nb_set_server_multi_statements(c, on)
#define mywire_result_free(r) it_nb_result_free(r)
#define mywire_result_discard(r) it_nb_result_discard(r)
#define mywire_conn_free(c) it_nb_conn_free(c)
#define mywire_conn_discard(c) it_nb_conn_discard(c)
#define mywire_stmt_new(c, out) it_nb_stmt_new(c, out)
#define mywire_stmt_free(st) it_nb_stmt_free(st)
#define mywire_stmt_prepare(st, sql, len) it_nb_stmt_prepare(st, sql, len)
#define mywire_stmt_execute(st, mode, out) it_nb_stmt_execute(st, mode, out)
#define mywire_stmt_reset(st) it_nb_stmt_reset(st)
#define mywire_stmt_send_long_data(st, i, data, len) it_nb_stmt_send_long_data(st, i, data, len)
#define mywire_stmt_cached(c, sql, len, out) it_nb_stmt_cached(c, sql, len, out)
#define mywire_stmt_execute_batch(st, out) it_nb_stmt_execute_batch(st, out)
#define mywire_stmt_execute_array(st, rows, out) it_nb_stmt_execute_array(st, rows, out)
#define mywire_pipeline_run(c, p) it_nb_pipeline_run(c, p)

#ifdef IT_NB_IMPLEMENTATION

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t it_nb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct it_nb_entry {
    const void *handle; /* a mywire_result or a mywire_stmt */
    mywire_conn *conn;
} *it_nb_map;
static size_t it_nb_used, it_nb_cap;
static unsigned long it_nb_waited;

unsigned long it_nb_waited_calls(void)
{
    pthread_mutex_lock(&it_nb_lock);
    unsigned long n = it_nb_waited;
    pthread_mutex_unlock(&it_nb_lock);
    return n;
}

/* At exit: a run in which no call ever waited did not exercise the
 * non-blocking path (the header was not wired in): fail it. */
__attribute__((destructor)) static void it_nb_at_exit(void)
{
    fprintf(stderr, "it_nonblocking: %lu calls waited and were continued\n", it_nb_waited);
    if (it_nb_waited == 0) {
        fprintf(stderr, "it_nonblocking: no call waited: the non-blocking path was not run\n");
        fflush(stderr);
        _exit(1);
    }
}

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 2, 3)))
#endif
static void it_nb_broken(const char *call, const char *fmt, ...);

static void it_nb_broken(const char *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "it_nonblocking: %s: invariant broken: ", call);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}

static void it_nb_remember(const void *handle, mywire_conn *conn)
{
    if (handle == NULL) return;
    pthread_mutex_lock(&it_nb_lock);
    size_t i = 0;
    while (i < it_nb_used && it_nb_map[i].handle != handle) i++;
    if (i == it_nb_used) {
        if (it_nb_used == it_nb_cap) {
            size_t cap = it_nb_cap ? 2 * it_nb_cap : 64;
            struct it_nb_entry *m = realloc(it_nb_map, cap * sizeof *m);
            if (m == NULL) it_nb_broken("map", "out of memory");
            it_nb_map = m;
            it_nb_cap = cap;
        }
        it_nb_used++;
    }
    it_nb_map[i].handle = handle;
    it_nb_map[i].conn = conn;
    pthread_mutex_unlock(&it_nb_lock);
}

static mywire_conn *it_nb_conn_of(const void *handle)
{
    mywire_conn *conn = NULL;
    pthread_mutex_lock(&it_nb_lock);
    for (size_t i = 0; i < it_nb_used; i++)
        if (it_nb_map[i].handle == handle) conn = it_nb_map[i].conn;
    pthread_mutex_unlock(&it_nb_lock);
    return conn;
}

/* Drop the entry of a result or statement (handle != NULL), or the entries
 * of a connection. */
static void it_nb_forget(const void *handle, const mywire_conn *conn)
{
    pthread_mutex_lock(&it_nb_lock);
    for (size_t i = 0; i < it_nb_used;) {
        if ((handle != NULL && it_nb_map[i].handle == handle) ||
            (conn != NULL && it_nb_map[i].conn == conn))
            it_nb_map[i] = it_nb_map[--it_nb_used];
        else
            i++;
    }
    pthread_mutex_unlock(&it_nb_lock);
}

static int it_nb_is_wait(int rc)
{
    return rc == MYWIRE_WAIT_READ || rc == MYWIRE_WAIT_WRITE;
}

/* After a call on conn (NULL: unknown) returned rc: wait for its socket, or
 * check that it is finished. Returns 1 to call again, 0 when rc is final. */
static int it_nb_after(const char *call, mywire_conn *conn, int rc, int *state)
{
    /* state: bit 0 = waited before, bits 1.. = consecutive expired polls */
    if (!it_nb_is_wait(rc)) {
        if (conn != NULL && mywire_in_progress(conn) != 0)
            it_nb_broken(call, "returned %d (%s) but mywire_in_progress() is still 1", rc,
                         mywire_errstr(rc));
        if ((*state & 1) != 0) {
            pthread_mutex_lock(&it_nb_lock);
            it_nb_waited++;
            pthread_mutex_unlock(&it_nb_lock);
        }
        return 0;
    }
    if (conn == NULL)
        it_nb_broken(call, "returned %s for a result whose connection is unknown or freed",
                     rc == MYWIRE_WAIT_READ ? "WAIT_READ" : "WAIT_WRITE");
    if (!mywire_is_nonblocking(conn))
        it_nb_broken(call, "returned %s on a blocking handle",
                     rc == MYWIRE_WAIT_READ ? "WAIT_READ" : "WAIT_WRITE");
    if (mywire_in_progress(conn) != 1)
        it_nb_broken(call, "returned %s but mywire_in_progress() is %d",
                     rc == MYWIRE_WAIT_READ ? "WAIT_READ" : "WAIT_WRITE", mywire_in_progress(conn));
    int fd = mywire_socket(conn);
    if (fd < 0) it_nb_broken(call, "waits, but mywire_socket() is %d", fd);
    int64_t left = mywire_timeout_ms(conn);
    if (left < -1) it_nb_broken(call, "mywire_timeout_ms() is %lld", (long long)left);
    int expired = *state >> 1;
    if (left == 0 && expired > 100000)
        it_nb_broken(call, "still waits after its deadline passed (%d polls)", expired);
    struct pollfd p = {fd, (short)(rc == MYWIRE_WAIT_WRITE ? POLLOUT : POLLIN), 0};
    int n;
    do {
        n = poll(&p, 1, left < 0 ? -1 : left > 600000 ? 600000 : (int)left);
    } while (n < 0 && errno == EINTR);
    if (n < 0) it_nb_broken(call, "poll failed: errno %d", errno);
    if (n == 0 && left == 0)
        *state = (*state & 1) | ((expired + 1) << 1);
    else
        *state &= 1;
    *state |= 1;
    return 1;
}

/* Make a handle non-blocking before its connect; 1 when it is. */
static int it_nb_prepare(mywire_conn *conn)
{
    if (conn == NULL) return 0;
    if (!mywire_is_nonblocking(conn)) (void)mywire_set_nonblocking(conn, 1);
    return mywire_is_nonblocking(conn);
}

#define IT_NB_DRIVE(name, conn, call)                                                    \
    do {                                                                                 \
        int state_ = 0, rc_;                                                             \
        do {                                                                             \
            rc_ = (call);                                                                \
        } while (it_nb_after(name, (conn), rc_, &state_));                               \
        return rc_;                                                                      \
    } while (0)

int it_nb_connect(mywire_conn *conn)
{
    it_nb_prepare(conn);
    IT_NB_DRIVE("mywire_connect", conn, (mywire_connect)(conn));
}

int it_nb_connect_to(mywire_conn *conn, const char *host, const char *user, const char *password,
                     const char *database, unsigned port, const char *unix_socket)
{
    it_nb_prepare(conn);
    IT_NB_DRIVE("mywire_connect_to", conn,
                (mywire_connect_to)(conn, host, user, password, database, port, unix_socket));
}

int it_nb_connect_uri(mywire_conn *conn, const char *uri)
{
    it_nb_prepare(conn);
    IT_NB_DRIVE("mywire_connect_uri", conn, (mywire_connect_uri)(conn, uri));
}

/* A handle connected before (by the blocking build of a helper, say) is
 * switched at its first command; mywire_set_nonblocking() refuses only while
 * a call is in progress. */
#define IT_NB_COMMAND(name, conn, call) \
    do {                                \
        it_nb_prepare(conn);            \
        IT_NB_DRIVE(name, conn, call);  \
    } while (0)

static int it_nb_query_driven(mywire_conn *conn, const char *sql, size_t len, int mode,
                              mywire_result **out)
{
    IT_NB_COMMAND("mywire_query", conn, (mywire_query)(conn, sql, len, mode, out));
}

int it_nb_query(mywire_conn *conn, const char *sql, size_t len, int mode, mywire_result **out)
{
    int rc = it_nb_query_driven(conn, sql, len, mode, out);
    if (out != NULL && *out != NULL) it_nb_remember(*out, conn);
    return rc;
}

static int it_nb_next_result_driven(mywire_conn *conn, int mode, mywire_result **out)
{
    IT_NB_COMMAND("mywire_next_result", conn, (mywire_next_result)(conn, mode, out));
}

int it_nb_next_result(mywire_conn *conn, int mode, mywire_result **out)
{
    int rc = it_nb_next_result_driven(conn, mode, out);
    if (out != NULL && *out != NULL) it_nb_remember(*out, conn);
    return rc;
}

int it_nb_pipeline_run(mywire_conn *conn, mywire_pipeline *p)
{
    IT_NB_COMMAND("mywire_pipeline_run", conn, (mywire_pipeline_run)(conn, p));
}

int it_nb_fetch(mywire_result *res)
{
    mywire_conn *conn = it_nb_conn_of(res);
    IT_NB_DRIVE("mywire_fetch", conn, (mywire_fetch)(res));
}

int it_nb_ping(mywire_conn *conn)
{
    IT_NB_COMMAND("mywire_ping", conn, (mywire_ping)(conn));
}

int it_nb_select_db(mywire_conn *conn, const char *database)
{
    IT_NB_COMMAND("mywire_select_db", conn, (mywire_select_db)(conn, database));
}

int it_nb_reset_connection(mywire_conn *conn)
{
    IT_NB_COMMAND("mywire_reset_connection", conn, (mywire_reset_connection)(conn));
}

int it_nb_statistics(mywire_conn *conn, const char **text, size_t *len)
{
    IT_NB_COMMAND("mywire_statistics", conn, (mywire_statistics)(conn, text, len));
}

int it_nb_set_server_multi_statements(mywire_conn *conn, int enable)
{
    IT_NB_COMMAND("mywire_set_server_multi_statements", conn,
                  (mywire_set_server_multi_statements)(conn, enable));
}

void it_nb_result_free(mywire_result *res)
{
    it_nb_forget(res, NULL);
    (mywire_result_free)(res);
}

void it_nb_result_discard(mywire_result *res)
{
    it_nb_forget(res, NULL);
    (mywire_result_discard)(res);
}

void it_nb_conn_free(mywire_conn *conn)
{
    if (conn != NULL) it_nb_forget(NULL, conn);
    (mywire_conn_free)(conn);
}

void it_nb_conn_discard(mywire_conn *conn)
{
    if (conn != NULL) it_nb_forget(NULL, conn);
    (mywire_conn_discard)(conn);
}

int it_nb_stmt_new(mywire_conn *conn, mywire_stmt **out)
{
    int rc = (mywire_stmt_new)(conn, out);
    if (rc == MYWIRE_OK && out != NULL) it_nb_remember(*out, conn);
    return rc;
}

void it_nb_stmt_free(mywire_stmt *stmt)
{
    it_nb_forget(stmt, NULL);
    (mywire_stmt_free)(stmt);
}

int it_nb_stmt_prepare(mywire_stmt *stmt, const char *sql, size_t len)
{
    mywire_conn *conn = it_nb_conn_of(stmt);
    IT_NB_COMMAND("mywire_stmt_prepare", conn, (mywire_stmt_prepare)(stmt, sql, len));
}

static int it_nb_stmt_execute_driven(mywire_conn *conn, mywire_stmt *stmt, int mode,
                                     mywire_result **out)
{
    IT_NB_COMMAND("mywire_stmt_execute", conn, (mywire_stmt_execute)(stmt, mode, out));
}

int it_nb_stmt_execute(mywire_stmt *stmt, int mode, mywire_result **out)
{
    mywire_conn *conn = it_nb_conn_of(stmt);
    int rc = it_nb_stmt_execute_driven(conn, stmt, mode, out);
    if (out != NULL && *out != NULL) it_nb_remember(*out, conn);
    return rc;
}

int it_nb_stmt_reset(mywire_stmt *stmt)
{
    mywire_conn *conn = it_nb_conn_of(stmt);
    IT_NB_COMMAND("mywire_stmt_reset", conn, (mywire_stmt_reset)(stmt));
}

int it_nb_stmt_send_long_data(mywire_stmt *stmt, unsigned index, const void *data, size_t len)
{
    mywire_conn *conn = it_nb_conn_of(stmt);
    IT_NB_COMMAND("mywire_stmt_send_long_data", conn,
                  (mywire_stmt_send_long_data)(stmt, index, data, len));
}

/* A batch's and the arrays' results have no rows: nothing to remember. */
int it_nb_stmt_execute_batch(mywire_stmt *stmt, mywire_result **out)
{
    mywire_conn *conn = it_nb_conn_of(stmt);
    IT_NB_COMMAND("mywire_stmt_execute_batch", conn, (mywire_stmt_execute_batch)(stmt, out));
}

int it_nb_stmt_execute_array(mywire_stmt *stmt, uint64_t rows, mywire_result **out)
{
    mywire_conn *conn = it_nb_conn_of(stmt);
    IT_NB_COMMAND("mywire_stmt_execute_array", conn, (mywire_stmt_execute_array)(stmt, rows, out));
}

static int it_nb_stmt_cached_driven(mywire_conn *conn, const char *sql, size_t len, mywire_stmt **out)
{
    IT_NB_COMMAND("mywire_stmt_cached", conn, (mywire_stmt_cached)(conn, sql, len, out));
}

/* A hit returns at once; a miss waits like a prepare. The statement handed
 * out (cached or not) belongs to conn. */
int it_nb_stmt_cached(mywire_conn *conn, const char *sql, size_t len, mywire_stmt **out)
{
    int rc = it_nb_stmt_cached_driven(conn, sql, len, out);
    if (rc == MYWIRE_OK && out != NULL && *out != NULL) it_nb_remember(*out, conn);
    return rc;
}

#endif /* IT_NB_IMPLEMENTATION */
#endif /* MYWIRE_IT_NONBLOCKING_H */
