/*
 * test_nomem.c - allocation failures (finding S2 of the security review).
 *
 * This program replaces malloc, calloc, realloc and free with wrappers over
 * glibc's own (__libc_malloc, ...) that can fail the Nth allocation. libmywire
 * allocates through them (operator new calls malloc), and so do OpenSSL, zlib
 * and zstd inside it. For every N, the test runs the key paths of the API
 * (connect, buffered and streaming queries, draining by mywire_result_free,
 * multi-results, ping) with the Nth allocation failing, and checks:
 *   - no call terminates the process;
 *   - a failed call returns a code that the handle records too, with a text;
 *   - after MYWIRE_ERROR_NOMEM the connection is closed: the next command
 *     gives MYWIRE_ERROR_STATE, never the leftovers of an earlier reply;
 *   - any later command that succeeds returns its own, correct answer;
 *   - the handle reconnects once memory is back.
 * A second test reads a 600 MB row under RLIMIT_AS, in a child process.
 *
 * Not built with AddressSanitizer (it replaces malloc itself).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "it_common.h"

/* ------------------------------------------------------------- allocator */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static long alloc_count; /* allocations since arming */
static long fail_at;     /* 0: never fail; else fail allocation number fail_at */
static int armed;
static int failed_one;   /* the armed failure happened */

static int should_fail(void)
{
    if (!armed) return 0;
    if (++alloc_count != fail_at) return 0;
    failed_one = 1;
    errno = ENOMEM;
    return 1;
}

void *malloc(size_t n) { return should_fail() ? NULL : __libc_malloc(n); }
void *calloc(size_t n, size_t m) { return should_fail() ? NULL : __libc_calloc(n, m); }
void *realloc(void *p, size_t n) { return should_fail() ? NULL : __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }

static void arm(long n)
{
    alloc_count = 0;
    fail_at = n;
    failed_one = 0;
    armed = 1;
}

static void disarm(void) { armed = 0; }

/* --------------------------------------------------------------- checks */

struct sweep_stats {
    long runs, nomem, other_errors, broke;
};

/* rc came back from a call on conn: OK, or an error the handle records. */
static int check_rc(mywire_conn *conn, int rc, const char *what, long n)
{
    if (rc == MYWIRE_OK) return 0;
    if (mywire_errcode(conn) != rc)
        fail_msg("N=%ld %s returned %d but the handle records %d", n, what, rc, mywire_errcode(conn));
    if (!*mywire_errmsg(conn)) fail_msg("N=%ld %s returned %d with no message", n, what, rc);
    return 1;
}

/* After a failure: the connection is either closed (STATE), or usable and
 * answering this question, not an older one. */
static void check_after_failure(mywire_conn *conn, int rc, long n, struct sweep_stats *st)
{
    disarm();
    if (rc == MYWIRE_ERROR_NOMEM)
        ++st->nomem;
    else
        ++st->other_errors;
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT 'after-%ld'", n);
    mywire_result *res = NULL;
    int q = mywire_query(conn, sql, strlen(sql), MYWIRE_BUFFERED, &res);
    if (rc == MYWIRE_ERROR_NOMEM && q != MYWIRE_ERROR_STATE)
        fail_msg("N=%ld: after NOMEM the next query gave %d (%s), expected MYWIRE_ERROR_STATE", n, q,
                 mywire_errmsg(conn));
    if (q == MYWIRE_OK) {
        char want[64];
        snprintf(want, sizeof want, "after-%ld", n);
        if (mywire_fetch(res) != MYWIRE_ROW || strcmp(mywire_get(res, 0, NULL), want) != 0)
            fail_msg("N=%ld: the query after a failure read another reply", n);
        mywire_result_free(res);
    } else {
        ++st->broke;
        if (q != MYWIRE_ERROR_STATE && q != MYWIRE_ERROR_LOST)
            fail_msg("N=%ld: after a failure the next query gave %d (%s)", n, q, mywire_errmsg(conn));
        /* Memory is back: the handle connects again and works. */
        int c = mywire_connect(conn);
        if (c != MYWIRE_OK) fail_msg("N=%ld: reconnect failed: %d %s", n, c, mywire_errmsg(conn));
        long long v = it_scalar_ll(conn, "SELECT 41 + 1");
        assert_int_equal(v, 42);
    }
}

/* The key paths, with the armed failure somewhere inside. Returns 0 when all
 * went through, else the failing rc (after checking what follows). */
static int key_paths(mywire_conn *conn, long n, struct sweep_stats *st)
{
    int rc;
    mywire_result *res = NULL;
    static const char q1[] = "SELECT 1, 'two', NULL UNION ALL SELECT 4, 'five', 6";
    static const char q2[] = "SELECT seq, REPEAT('y', 100) FROM seq_1_to_50";
    static const char q3[] = "SELECT 1; SELECT 2, 3; DO 0";

    rc = mywire_connect(conn);
    if (check_rc(conn, rc, "connect", n)) {
        disarm();
        /* A failed connect leaves a handle that can connect again. */
        int c = mywire_connect(conn);
        if (c != MYWIRE_OK) fail_msg("N=%ld: reconnect after a failed connect: %d %s", n, c, mywire_errmsg(conn));
        return rc;
    }

    rc = mywire_query(conn, q1, strlen(q1), MYWIRE_BUFFERED, &res);
    if (check_rc(conn, rc, "buffered query", n)) goto failed;
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
    }
    mywire_result_free(res);
    if (rc != MYWIRE_DONE) fail_msg("N=%ld: buffered fetch gave %d", n, rc);

    /* Streaming: read two rows, then free (which drains the rest). */
    rc = mywire_query(conn, q2, strlen(q2), MYWIRE_STREAMING, &res);
    if (check_rc(conn, rc, "streaming query", n)) goto failed;
    for (int i = 0; i < 2; ++i) {
        rc = mywire_fetch(res);
        if (rc != MYWIRE_ROW) {
            if (mywire_fetch(res) != rc) fail_msg("N=%ld: a fetch error is not sticky", n);
            mywire_result_free(res);
            check_rc(conn, rc, "fetch", n);
            goto failed;
        }
    }
    mywire_result_free(res);
    if (mywire_errcode(conn) == MYWIRE_ERROR_NOMEM) {
        rc = MYWIRE_ERROR_NOMEM; /* the drain in mywire_result_free failed */
        goto failed;
    }

    /* Multi-results, each streamed. */
    rc = mywire_query(conn, q3, strlen(q3), MYWIRE_STREAMING, &res);
    if (check_rc(conn, rc, "multi query", n)) goto failed;
    for (;;) {
        while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        }
        mywire_result_free(res);
        res = NULL;
        if (rc != MYWIRE_DONE) {
            check_rc(conn, rc, "multi fetch", n);
            goto failed;
        }
        if (!mywire_more_results(conn)) break;
        rc = mywire_next_result(conn, MYWIRE_STREAMING, &res);
        if (check_rc(conn, rc, "next_result", n)) goto failed;
    }

    rc = mywire_ping(conn);
    if (check_rc(conn, rc, "ping", n)) goto failed;
    return 0;

failed:
    check_after_failure(conn, rc, n, st);
    return rc;
}

static void sweep(const char *label, int tls, const char *compress, long stride)
{
    const it_env *e = it_get_env();
    struct sweep_stats st = {0, 0, 0, 0};
    long n;
    for (n = 1;; n += stride) {
        mywire_conn *conn = it_new();
        if (tls) {
            IT_OK(conn, mywire_set_host(conn, e->host));
            IT_OK(conn, mywire_set_port(conn, e->port));
            IT_OK(conn, mywire_set_ssl_mode(conn, MYWIRE_SSL_MODE_REQUIRED));
        } else {
            IT_OK(conn, mywire_set_unix_socket(conn, e->socket));
        }
        IT_OK(conn, mywire_set_user(conn, e->user));
        IT_OK(conn, mywire_set_password(conn, e->password));
        IT_OK(conn, mywire_set_database(conn, e->db));
        IT_OK(conn, mywire_set_multi_statements(conn, 1));
        if (compress) IT_OK(conn, mywire_set_option(conn, "compress", compress));
        arm(n);
        key_paths(conn, n, &st);
        disarm();
        int done = !failed_one;
        mywire_conn_free(conn);
        ++st.runs;
        if (done) break; /* N is past the last allocation of the key paths */
        if (n > 200000) fail_msg("%s: more than 200000 allocations?", label);
    }
    print_message("%s: %ld runs (every %ld. of %ld allocations failed in turn): %ld NOMEM, %ld other "
                  "errors, %ld connections closed by the failure\n",
                  label, st.runs, stride, n, st.nomem, st.other_errors, st.broke);
    assert_true(st.nomem > 0);
}

static void test_fail_every_allocation_unix(void **state)
{
    (void)state;
    sweep("unix socket", 0, NULL, 1);
}

static void test_fail_every_allocation_zlib(void **state)
{
    (void)state;
    sweep("unix socket, zlib", 0, "zlib", 1);
}

static void test_fail_allocations_tls(void **state)
{
    (void)state;
    /* A TLS login allocates thousands of times; every 7th keeps this short. */
    sweep("TCP + TLS", 1, NULL, 7);
}

/* ------------------------------------------------ the statement cache */

/* Leases (misses, hits, a second lease of the same SQL, an eviction),
 * executes and gives back, with the Nth allocation failing: every call gives
 * a documented code, nothing crashes, the cache never holds more than its
 * bound, and once memory is back a lease works (on a reconnected handle if
 * the failure closed it). Returns 1 when no failure happened. */
static int cache_paths(long n, struct sweep_stats *st)
{
    enum { BOUND = 2 };
    const it_env *e = it_get_env();
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_unix_socket(conn, e->socket));
    IT_OK(conn, mywire_set_user(conn, e->user));
    IT_OK(conn, mywire_set_password(conn, e->password));
    IT_OK(conn, mywire_set_database(conn, e->db));
    IT_OK(conn, mywire_set_stmt_cache(conn, BOUND));
    IT_OK(conn, mywire_connect(conn));
    static const char *sql[] = {"SELECT ? + 1", "SELECT ? + 1", "SELECT ? + 2", "SELECT ? + 3", "SELECT ? + 1"};
    mywire_stmt *held[5] = {NULL};
    int rc = MYWIRE_OK;
    arm(n);
    for (int k = 0; k < 5 && rc == MYWIRE_OK; k++) {
        mywire_stmt *s = NULL;
        rc = mywire_stmt_cached(conn, sql[k], strlen(sql[k]), &s);
        if (check_rc(conn, rc, "stmt_cached", n)) {
            if (s != NULL) fail_msg("N=%ld: a failed mywire_stmt_cached handed out a statement", n);
            break;
        }
        if (mywire_stmt_cache_held(conn) > BOUND) fail_msg("N=%ld: the cache holds more than its bound", n);
        rc = mywire_stmt_bind_int64(s, 0, k);
        mywire_result *res = NULL;
        if (rc == MYWIRE_OK) {
            rc = mywire_stmt_execute(s, MYWIRE_BUFFERED, &res);
            if (!check_rc(conn, rc, "execute", n)) mywire_result_free(res);
        }
        if (k == 0 || k == 1) {
            held[k] = s; /* 0 and 1: the same SQL leased twice at once */
        } else {
            mywire_stmt_free(s);
        }
    }
    disarm();
    int clean = !failed_one;
    for (int k = 0; k < 5; k++) mywire_stmt_free(held[k]);
    if (mywire_stmt_cache_held(conn) > BOUND) fail_msg("N=%ld: the cache holds more than its bound", n);
    if (rc != MYWIRE_OK) {
        if (rc == MYWIRE_ERROR_NOMEM) ++st->nomem; else ++st->other_errors;
        if (!mywire_is_connected(conn)) {
            ++st->broke;
            IT_OK(conn, mywire_connect(conn));
        }
    }
    mywire_stmt *s = NULL;
    IT_OK(conn, mywire_stmt_cached(conn, sql[0], strlen(sql[0]), &s));
    IT_OK(conn, mywire_stmt_bind_int64(s, 0, 41));
    mywire_result *res = NULL;
    IT_OK(conn, mywire_stmt_execute(s, MYWIRE_BUFFERED, &res));
    IT_ROW(res);
    IT_VAL(res, 0, "42");
    mywire_result_free(res);
    mywire_stmt_free(s);
    /* The server holds no more statements than the cache: every close was
     * queued and has gone out (ahead of these queries), whatever failed. */
    long long open = it_scalar_ll(conn, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                                        "WHERE VARIABLE_NAME = 'COM_STMT_PREPARE'") -
                     it_scalar_ll(conn, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                                        "WHERE VARIABLE_NAME = 'COM_STMT_CLOSE'");
    if (open > (long long)mywire_stmt_cache_held(conn))
        fail_msg("N=%ld: the server holds %lld statements of this session, the cache %llu", n, open,
                 (unsigned long long)mywire_stmt_cache_held(conn));
    mywire_conn_free(conn);
    return clean;
}

/* Runs paths(N) for N = 1, 2, ... until no allocation failed (paths returns
 * 1 then); at least one must have given NOMEM. */
static void sweep_paths(const char *label, int (*paths)(long, struct sweep_stats *))
{
    struct sweep_stats st = {0, 0, 0, 0};
    long n;
    for (n = 1; !paths(n, &st); n++) {
        ++st.runs;
        if (n > 200000) fail_msg("%s: more than 200000 allocations?", label);
    }
    print_message("%s: %ld runs (each of %ld allocations failed in turn): %ld NOMEM, %ld other errors, "
                  "%ld connections closed by the failure\n",
                  label, st.runs, n, st.nomem, st.other_errors, st.broke);
    assert_true(st.nomem > 0);
}

static void test_fail_every_allocation_stmt_cache(void **state)
{
    (void)state;
    sweep_paths("stmt cache", cache_paths);
}

/* ------------------------------------------------------- column arrays */

/* Prepare, bind four arrays and execute them (two bulk requests: a small
 * max_allowed_packet), then the row-wise batch of the same rows, with the
 * Nth allocation failing: every call gives a documented code, a failed
 * execute hands out no result, and once memory is back the arrays run on
 * (a reconnected handle if the failure closed it) and the table holds what
 * the successful calls inserted. Returns 1 when no failure happened. */
static int array_paths(long n, struct sweep_stats *st)
{
    enum { ROWS = 300 };
    static int64_t ids[ROWS];
    static double vals[ROWS];
    static const char *strs[ROWS];
    static size_t lens[ROWS];
    static uint8_t ind[ROWS];
    for (int k = 0; k < ROWS; k++) {
        ids[k] = k + 1;
        vals[k] = k / 2.0;
        strs[k] = "abcdefghijklmnopqrstuvwxyz" + k % 26;
        lens[k] = (size_t)(26 - k % 26);
        ind[k] = k % 7 == 0 ? MYWIRE_IND_NULL : MYWIRE_IND_NONE;
    }
    const it_env *e = it_get_env();
    mywire_conn *conn = it_new();
    IT_OK(conn, mywire_set_unix_socket(conn, e->socket));
    IT_OK(conn, mywire_set_user(conn, e->user));
    IT_OK(conn, mywire_set_password(conn, e->password));
    IT_OK(conn, mywire_set_database(conn, e->db));
    IT_OK(conn, mywire_set_max_allowed_packet(conn, 16384));
    IT_OK(conn, mywire_connect(conn));
    it_exec(conn, "CREATE TEMPORARY TABLE nomem_bulk (id BIGINT PRIMARY KEY, v DOUBLE, s VARCHAR(26))");
    static const char sql[] = "INSERT INTO nomem_bulk VALUES (?, ?, ?)";
    mywire_stmt *s = NULL;
    mywire_result *res = NULL;
    long long inserted = 0;
    int rc;
    arm(n);
    rc = mywire_stmt_new(conn, &s);
    if (rc != MYWIRE_OK && rc != MYWIRE_ERROR_NOMEM) fail_msg("N=%ld: stmt_new -> %d", n, rc);
    if (rc == MYWIRE_OK) {
        rc = mywire_stmt_prepare(s, sql, strlen(sql));
        check_rc(conn, rc, "prepare", n);
    }
    if (rc == MYWIRE_OK) rc = mywire_stmt_bind_array(s, 0, MYWIRE_ARRAY_INT64, ids, 0, NULL, NULL);
    if (rc == MYWIRE_OK) rc = mywire_stmt_bind_array(s, 1, MYWIRE_ARRAY_DOUBLE, vals, 0, NULL, ind);
    if (rc == MYWIRE_OK) rc = mywire_stmt_bind_array(s, 2, MYWIRE_ARRAY_STRING, strs, 0, lens, NULL);
    if (rc != MYWIRE_OK && rc != MYWIRE_ERROR_NOMEM) fail_msg("N=%ld: bind_array -> %d", n, rc);
    if (rc == MYWIRE_OK) {
        rc = mywire_stmt_execute_array(s, ROWS, &res);
        if (check_rc(conn, rc, "execute_array", n)) {
            if (res != NULL) fail_msg("N=%ld: a failed execute_array handed out a result", n);
        } else {
            if (mywire_affected_rows(res) != ROWS) fail_msg("N=%ld: execute_array affected the wrong rows", n);
            inserted = ROWS;
            mywire_result_free(res);
        }
    }
    disarm();
    int clean = !failed_one;
    if (rc != MYWIRE_OK) {
        if (rc == MYWIRE_ERROR_NOMEM) ++st->nomem; else ++st->other_errors;
    }
    if (!mywire_is_connected(conn)) {
        ++st->broke;
        IT_OK(conn, mywire_connect(conn));
        it_exec(conn, "CREATE TEMPORARY TABLE nomem_bulk (id BIGINT PRIMARY KEY, v DOUBLE, s VARCHAR(26))");
        inserted = 0;
    }
    /* The failure may have come after some requests were applied. */
    long long have = it_scalar_ll(conn, "SELECT COUNT(*) FROM nomem_bulk");
    if (have > ROWS || (inserted && have != ROWS)) fail_msg("N=%ld: %lld rows in the table", n, have);
    it_exec(conn, "DELETE FROM nomem_bulk");
    if (s == NULL) IT_OK(conn, mywire_stmt_new(conn, &s));
    IT_OK(conn, mywire_stmt_prepare(s, sql, strlen(sql)));
    IT_OK(conn, mywire_stmt_bind_array(s, 0, MYWIRE_ARRAY_INT64, ids, 0, NULL, NULL));
    IT_OK(conn, mywire_stmt_bind_array(s, 1, MYWIRE_ARRAY_DOUBLE, vals, 0, NULL, ind));
    IT_OK(conn, mywire_stmt_bind_array(s, 2, MYWIRE_ARRAY_STRING, strs, 0, lens, NULL));
    IT_OK(conn, mywire_stmt_execute_array(s, ROWS, &res));
    if (mywire_affected_rows(res) != ROWS) fail_msg("N=%ld: after the failure, wrong rows affected", n);
    mywire_result_free(res);
    if (it_scalar_ll(conn, "SELECT COUNT(*) FROM nomem_bulk WHERE v IS NULL") != (ROWS + 6) / 7)
        fail_msg("N=%ld: the NULLs did not arrive", n);
    mywire_stmt_free(s);
    mywire_conn_free(conn);
    return clean;
}

static void test_fail_every_allocation_arrays(void **state)
{
    (void)state;
    sweep_paths("arrays", array_paths);
}

/* ------------------------------------------------- a 600 MB row, no room */

/* In the child: 0 when all went as it should, else a line on stderr and 1. */
static int big_row_child(int mode)
{
    const it_env *e = it_get_env();
    static const char sql[] = "SELECT 1 UNION ALL SELECT REPEAT('x', 600000000)";
    mywire_conn *conn = NULL;
    if (mywire_conn_new(&conn) != MYWIRE_OK) return fprintf(stderr, "conn_new\n"), 1;
    mywire_set_unix_socket(conn, e->socket);
    mywire_set_user(conn, e->user);
    mywire_set_password(conn, e->password);
    mywire_set_max_allowed_packet(conn, 1u << 30);
    mywire_set_max_result_bytes(conn, 0);
    if (mywire_connect(conn) != MYWIRE_OK) return fprintf(stderr, "connect: %s\n", mywire_errmsg(conn)), 1;

    /* Room for the library and a few hundred MB, not for 600 MB twice. */
    struct rlimit lim = {700ul << 20, 700ul << 20};
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    lim.rlim_cur = lim.rlim_max = pages * (unsigned long)sysconf(_SC_PAGESIZE) + (400ul << 20);
    if (setrlimit(RLIMIT_AS, &lim) != 0) return perror("setrlimit"), 1;

    mywire_result *res = NULL;
    int rc = mywire_query(conn, sql, strlen(sql), mode, &res);
    if (mode == MYWIRE_BUFFERED) {
        if (rc != MYWIRE_ERROR_NOMEM || res)
            return fprintf(stderr, "buffered: %d %s\n", rc, mywire_errmsg(conn)), 1;
    } else {
        if (rc != MYWIRE_OK) return fprintf(stderr, "streaming query: %d %s\n", rc, mywire_errmsg(conn)), 1;
        if (mywire_fetch(res) != MYWIRE_ROW) return fprintf(stderr, "first row\n"), 1;
        rc = mywire_fetch(res);
        if (rc != MYWIRE_ERROR_NOMEM) return fprintf(stderr, "second fetch: %d\n", rc), 1;
        if (mywire_fetch(res) != MYWIRE_ERROR_NOMEM) return fprintf(stderr, "not sticky\n"), 1;
        if (mywire_errcode(conn) != MYWIRE_ERROR_NOMEM)
            return fprintf(stderr, "not recorded: %d\n", mywire_errcode(conn)), 1;
        mywire_result_free(res);
    }
    rc = mywire_ping(conn);
    if (rc != MYWIRE_ERROR_STATE) return fprintf(stderr, "ping after NOMEM: %d\n", rc), 1;
    mywire_conn_free(conn);
    return 0;
}

/* The same, but the 600 MB row is never fetched: mywire_result_free drains
 * it (this aborted the process before). */
static int big_row_free_child(void)
{
    const it_env *e = it_get_env();
    static const char sql[] = "SELECT 1 UNION ALL SELECT REPEAT('x', 600000000)";
    mywire_conn *conn = NULL;
    if (mywire_conn_new(&conn) != MYWIRE_OK) return 1;
    mywire_set_unix_socket(conn, e->socket);
    mywire_set_user(conn, e->user);
    mywire_set_password(conn, e->password);
    mywire_set_max_allowed_packet(conn, 1u << 30);
    if (mywire_connect(conn) != MYWIRE_OK) return fprintf(stderr, "connect: %s\n", mywire_errmsg(conn)), 1;
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    struct rlimit lim;
    lim.rlim_cur = lim.rlim_max = pages * (unsigned long)sysconf(_SC_PAGESIZE) + (400ul << 20);
    if (setrlimit(RLIMIT_AS, &lim) != 0) return perror("setrlimit"), 1;
    mywire_result *res = NULL;
    int rc = mywire_query(conn, sql, strlen(sql), MYWIRE_STREAMING, &res);
    if (rc != MYWIRE_OK) return fprintf(stderr, "query: %d %s\n", rc, mywire_errmsg(conn)), 1;
    if (mywire_fetch(res) != MYWIRE_ROW) return 1;
    mywire_result_free(res); /* drains the 600 MB row: no memory for it */
    if (mywire_errcode(conn) != MYWIRE_ERROR_NOMEM)
        return fprintf(stderr, "after free: %d\n", mywire_errcode(conn)), 1;
    rc = mywire_ping(conn);
    if (rc != MYWIRE_ERROR_STATE) return fprintf(stderr, "ping after NOMEM: %d\n", rc), 1;
    mywire_conn_free(conn);
    return 0;
}

static void run_child(int which)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(which < 0 ? big_row_free_child() : big_row_child(which));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) fail_msg("the child was killed by signal %d", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_big_row_without_memory(void **state)
{
    (void)state;
    run_child(MYWIRE_STREAMING);
    run_child(MYWIRE_BUFFERED);
    run_child(-1);
}

int main(void)
{
    if (it_asan()) {
        /* This program replaces malloc, which the sanitizer owns. */
        printf("test_nomem: not run under AddressSanitizer\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_every_allocation_unix),
        cmocka_unit_test(test_fail_every_allocation_zlib),
        cmocka_unit_test(test_fail_allocations_tls),
        cmocka_unit_test(test_fail_every_allocation_stmt_cache),
        cmocka_unit_test(test_fail_every_allocation_arrays),
        cmocka_unit_test(test_big_row_without_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
