/*
 * auto_reprepare against a real MariaDB. MariaDB re-prepares a statement
 * itself when a table or view it uses changes, up to three times; a view
 * replaced over and over by another connection (CREATE OR REPLACE VIEW in a
 * loop) outruns that now and then, and the execute fails with
 * ER_NEED_REPREPARE (1615). Two connections execute the same prepared
 * SELECT from that view meanwhile: without the option the error reaches the
 * caller (and the statement stays usable); with it mywire prepares again and
 * executes once more, which the caller sees as an ordinary result from a
 * statement with a new id. The loop ends as soon as both were seen, within a
 * bound (MYWIRE_IT_REPREPARE_SECONDS, default 30).
 *
 * Whether the server loses that race at all is its own affair: MariaDB
 * 10.11.19 on a 2-CPU machine lost it about once in 50,000 executes (a 90 s
 * run saw 0 or 1). So every outcome seen is checked, and when the server
 * never sent ER_NEED_REPREPARE on either connection within the bound the
 * test reports SKIP (exit 77), not a pass. More replacing connections do not
 * help: exclusive metadata locks queued back to back starve the execute for
 * minutes. The byte-exact exchange, which does not depend on a race, and the
 * error when the retry fails too, are in
 * tests/unit/transcript/test_shipped_loop.cpp.
 */
#include "it_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MYWIRE_IT_NONBLOCKING_H
#define T(name) name "_nb"
#else
#define T(name) name
#endif

static int skipped; /* the server never lost the race: exit 77 */
static atomic_int stop_flipping;
static atomic_long flips;
static atomic_int flipper_failed;

/* Replaces the view, alternating between two tables, until told to stop
 * (at most 200,000 times). Raw calls only: cmocka cannot fail on this thread. */
static void *flipper(void *arg)
{
    mywire_conn *conn = arg;
    static const char *defs[] = {
        "CREATE OR REPLACE VIEW " T("it_reprepare_v") " AS SELECT a FROM " T("it_reprepare_a"),
        "CREATE OR REPLACE VIEW " T("it_reprepare_v") " AS SELECT a FROM " T("it_reprepare_b"),
    };
    for (long k = 0; k < 200000 && !atomic_load(&stop_flipping); k++) {
        mywire_result *res = NULL;
        const char *sql = defs[k % 2];
        if (mywire_query(conn, sql, strlen(sql), MYWIRE_BUFFERED, &res) != MYWIRE_OK) {
            fprintf(stderr, "flipper: %s\n", mywire_errmsg(conn));
            atomic_store(&flipper_failed, 1);
            break;
        }
        mywire_result_free(res);
        atomic_fetch_add(&flips, 1);
    }
    return NULL;
}

/* One execute: 0 = rows as expected, 1 = ER_NEED_REPREPARE; anything else fails. */
static int execute_once(mywire_conn *conn, mywire_stmt *st)
{
    mywire_result *res = NULL;
    int rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &res);
    if (rc == MYWIRE_ERROR_SERVER && mywire_errno(conn) == 1615) {
        assert_null(res);
        return 1;
    }
    IT_OK(conn, rc);
    IT_ROW(res);
    int64_t a = 0;
    assert_int_equal(mywire_get_int64(res, 0, &a), MYWIRE_OK);
    assert_true(a == 1 || a == 2);
    IT_DONE(res);
    mywire_result_free(res);
    return 0;
}

static void test_need_reprepare(void **state)
{
    (void)state;
    mywire_conn *setup = it_connect_tcp();
    it_exec(setup, "CREATE OR REPLACE TABLE " T("it_reprepare_a") " (a INT)");
    it_exec(setup, "CREATE OR REPLACE TABLE " T("it_reprepare_b") " (a INT)");
    it_exec(setup, "INSERT INTO " T("it_reprepare_a") " VALUES (1)");
    it_exec(setup, "INSERT INTO " T("it_reprepare_b") " VALUES (2)");
    it_exec(setup, "CREATE OR REPLACE VIEW " T("it_reprepare_v") " AS SELECT a FROM " T("it_reprepare_a"));

    mywire_conn *off = it_connect_tcp();
    mywire_conn *on = it_configured("auto_reprepare=1", 0);
    it_connect_configured_tcp(on);
    static const char sql[] = "SELECT a FROM " T("it_reprepare_v");
    mywire_stmt *st_off = NULL, *st_on = NULL;
    IT_OK(off, mywire_stmt_new(off, &st_off));
    IT_OK(off, mywire_stmt_prepare(st_off, sql, strlen(sql)));
    IT_OK(on, mywire_stmt_new(on, &st_on));
    IT_OK(on, mywire_stmt_prepare(st_on, sql, strlen(sql)));
    const uint32_t off_id = mywire_stmt_id(st_off);

    pthread_t th;
    atomic_store(&stop_flipping, 0);
    assert_int_equal(pthread_create(&th, NULL, flipper, setup), 0);
    long executes = 0, off_errors = 0, off_recovered = 0, on_retried = 0, on_errors = 0;
    const char *bound_env = getenv("MYWIRE_IT_REPREPARE_SECONDS");
    const double bound = bound_env && atof(bound_env) > 0 ? atof(bound_env) : 30;
    double start = it_now();
    while (it_now() - start < bound && (off_recovered == 0 || on_retried == 0) && !atomic_load(&flipper_failed)) {
        if (execute_once(off, st_off)) {
            off_errors++;
            /* Surfaced, and the statement is still good (the server
             * re-prepares it at the next execute, or fails the same way). */
            IT_OK(off, mywire_ping(off));
            for (int k = 0; k < 50 && !off_recovered; k++) off_recovered = execute_once(off, st_off) == 0;
        }
        uint32_t id = mywire_stmt_id(st_on);
        if (execute_once(on, st_on))
            on_errors++; /* the one retry failed as well: that is the caller's again */
        else if (mywire_stmt_id(st_on) != id)
            on_retried++; /* prepared again and executed, transparently */
        executes++;
    }
    atomic_store(&stop_flipping, 1);
    pthread_join(th, NULL);
    fprintf(stderr, "need_reprepare: %ld executes each in %.1f s, %ld view replacements; off: %ld errors 1615; "
            "on: %ld transparent re-prepares, %ld errors after the retry\n",
            executes, it_now() - start, atomic_load(&flips), off_errors, on_retried, on_errors);
    assert_int_equal(atomic_load(&flipper_failed), 0);
    /* Without the option the statement keeps its id (nothing was prepared
     * again), and after a surfaced error it executed fine again. */
    assert_int_equal(mywire_stmt_id(st_off), off_id);
    if (off_errors > 0) assert_true(off_recovered);
    if (off_errors == 0 && on_retried == 0 && on_errors == 0) {
        fprintf(stderr, "SKIP: the server never sent ER_NEED_REPREPARE within %.0f s\n", bound);
        skipped = 1;
    }
    mywire_stmt_free(st_off);
    mywire_stmt_free(st_on);
    mywire_conn_free(off);
    mywire_conn_free(on);
    it_exec(setup, "DROP VIEW " T("it_reprepare_v"));
    it_exec(setup, "DROP TABLE " T("it_reprepare_a") ", " T("it_reprepare_b"));
    mywire_conn_free(setup);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_need_reprepare),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return failed == 0 && skipped ? 77 : failed;
}
