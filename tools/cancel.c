/*
 * Ctrl-C for the mywire CLI (see cancel.h).
 *
 * Three threads: the main one runs the statements; the watcher takes SIGINT
 * with sigwait() (the signal is blocked everywhere, so no handler ever runs);
 * a canceller, started by the first Ctrl-C during a statement, calls
 * mywire_cancel() -- which blocks while it connects, so the watcher stays
 * free to take a second Ctrl-C and call mywire_abort(), which never blocks.
 * One mutex guards the shared state below.
 */
#define _POSIX_C_SOURCE 200809L

#include "cancel.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { STATUS_INTERRUPTED = 130 }; /* 128 + SIGINT, as a shell reports it */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* any change below */
    mywire_conn *conn;
    uint64_t conn_id; /* for the messages, read once connected */
    int running;     /* between statement_begin() and statement_end() */
    int interrupted; /* Ctrl-C while running */
    int aborted;     /* a second Ctrl-C: mywire_abort() was called */
    int canceller;   /* the canceller thread runs */
    int cancel_rc;   /* the last mywire_cancel()'s code; -1 before any */
    int cancel_ok;   /* the server accepted a KILL QUERY */
} st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, 0, 0, -1, 0};

static int watching;        /* the watcher runs (set before any other thread exists) */
static atomic_int sigint_seen; /* the watcher took a SIGINT (set before it takes the lock) */

/* SIGINT as if we had never touched it: the default action ends the process. */
static void die_by_sigint(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    signal(SIGINT, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGINT);
    _exit(STATUS_INTERRUPTED);
}

static void wait_a_quarter_second(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 250 * 1000 * 1000;
    if (until.tv_nsec >= 1000 * 1000 * 1000) {
        until.tv_sec++;
        until.tv_nsec -= 1000 * 1000 * 1000;
    }
    while (st.running && !st.aborted && pthread_cond_timedwait(&st.cond, &st.lock, &until) != ETIMEDOUT)
        ;
}

/* KILL QUERY until the statement (or batch) returns: once is not always
 * enough (a KILL may reach the server before the statement does, and in a
 * batch the steps behind a stopped one run next). */
static void *canceller_main(void *arg)
{
    mywire_conn *conn = arg;

    pthread_mutex_lock(&st.lock);
    while (st.running && !st.aborted) {
        pthread_mutex_unlock(&st.lock);
        int rc = mywire_cancel(conn);
        pthread_mutex_lock(&st.lock);
        st.cancel_rc = rc;
        if (rc != MYWIRE_OK) {
            if (st.running && !st.aborted)
                fprintf(stderr,
                        "mywire: cannot cancel the statement on the server: %s; press Ctrl-C again to "
                        "abort (the connection is closed, and the statement may go on running there)\n",
                        mywire_errstr(rc));
            break;
        }
        st.cancel_ok = 1;
        wait_a_quarter_second();
    }
    st.canceller = 0;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.lock);
    return NULL;
}

static void start_canceller(void)
{
    pthread_attr_t attr;
    pthread_t thread;

    st.canceller = 1;
    if (pthread_attr_init(&attr) == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&thread, &attr, canceller_main, st.conn);
        pthread_attr_destroy(&attr);
        if (rc == 0)
            return;
    }
    st.canceller = 0;
    fputs("mywire: cannot start the thread that cancels the statement; press Ctrl-C again to abort\n",
          stderr);
}

static void *watcher_main(void *arg)
{
    sigset_t set;
    int sig;

    (void)arg;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        atomic_store(&sigint_seen, 1);
        pthread_mutex_lock(&st.lock);
        if (!st.running && !st.interrupted) {
            die_by_sigint(); /* no statement runs: end as without us */
        } else if (!st.interrupted) {
            st.interrupted = 1;
            start_canceller();
        } else if (!st.aborted) {
            st.aborted = 1;
            if (st.conn)
                mywire_abort(st.conn); /* the blocked call closes the connection and returns */
        } else {
            die_by_sigint(); /* a third Ctrl-C */
        }
        pthread_cond_broadcast(&st.cond);
        pthread_mutex_unlock(&st.lock);
    }
    return NULL;
}

void interrupt_init(void)
{
    sigset_t set, old;
    pthread_t thread;
    struct sigaction was;

    /* Started with SIGINT ignored (a background job of a non-interactive
     * shell, nohup, a supervisor): the parent asked for no Ctrl-C, so keep
     * it ignored. Blocking it instead would queue the signal for sigwait()
     * and turn an ignored SIGINT into one that ends us or cancels. */
    if (sigaction(SIGINT, NULL, &was) != 0 || was.sa_handler == SIG_IGN)
        return;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, &old) != 0)
        return;
    if (pthread_create(&thread, NULL, watcher_main, NULL) != 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return;
    }
    pthread_detach(thread);
    watching = 1;
}

void interrupt_finish(void)
{
    sigset_t pending;

    if (!watching)
        return;
    /* A SIGINT the watcher has not acted on yet (it had no CPU before we
     * got here) ends us as it would have without the watcher: dying holds
     * the lock, so if the watcher is already at it, we wait to be ended. */
    if (atomic_load(&sigint_seen) || (sigpending(&pending) == 0 && sigismember(&pending, SIGINT))) {
        pthread_mutex_lock(&st.lock);
        die_by_sigint();
    }
}

void interrupt_set_conn(mywire_conn *conn)
{
    pthread_mutex_lock(&st.lock);
    st.conn = conn;
    st.conn_id = conn ? mywire_connection_id(conn) : 0;
    pthread_mutex_unlock(&st.lock);
}

void statement_begin(void)
{
    pthread_mutex_lock(&st.lock);
    st.running = 1;
    pthread_mutex_unlock(&st.lock);
}

int statement_end(void)
{
    pthread_mutex_lock(&st.lock);
    st.running = 0;
    int interrupted = st.interrupted;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.lock);
    return interrupted;
}

void interrupt_exit(int rc)
{
    fflush(stdout);
    pthread_mutex_lock(&st.lock);
    while (st.canceller && !st.aborted)
        pthread_cond_wait(&st.cond, &st.lock);
    int aborted = st.aborted, cancel_ok = st.cancel_ok, cancel_rc = st.cancel_rc;
    mywire_conn *conn = st.conn;
    uint64_t id = st.conn_id;
    pthread_mutex_unlock(&st.lock);

    /* The calling thread owns conn: it may read its state. */
    if (conn && rc == MYWIRE_ERROR_CANCELLED && mywire_client_error(conn) == MYWIRE_CLIENT_ERROR_ABORTED) {
        if (cancel_ok)
            fputs("mywire: aborted (second Ctrl-C); the connection was closed, after the server had "
                  "accepted the cancel (KILL QUERY)\n",
                  stderr);
        else
            fprintf(stderr,
                    "mywire: aborted (second Ctrl-C); the connection was closed, but the cancel had not "
                    "reached the server: the statement may still be running there (connection id %" PRIu64
                    ")\n",
                    id);
    } else if (rc == MYWIRE_ERROR_CANCELLED) {
        fputs("mywire: query cancelled (Ctrl-C); the server stopped it\n", stderr);
    } else if (cancel_rc != MYWIRE_OK && cancel_rc != -1) {
        fputs("mywire: interrupted (Ctrl-C); the statement ended before it could be cancelled\n", stderr);
    } else {
        fputs("mywire: interrupted (Ctrl-C); the statement had finished, no further statement was run\n",
              stderr);
    }
    /* After an abort the canceller may still be inside mywire_cancel(conn):
     * end at once, without running exit handlers under it. */
    if (aborted)
        _exit(STATUS_INTERRUPTED);
    exit(STATUS_INTERRUPTED);
}
