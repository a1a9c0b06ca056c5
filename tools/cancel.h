/*
 * Ctrl-C for the mywire CLI: while a statement runs, the first SIGINT cancels
 * it on the server (mywire_cancel, from a thread of its own) and the second
 * aborts the blocked call (mywire_abort: the connection is closed). When no
 * statement runs, SIGINT ends the process as it would without this file.
 *
 * SIGINT is blocked in every thread and taken by a watcher thread with
 * sigwait(); mywire_cancel() cannot run in a signal handler (it allocates and
 * connects), so nothing here does.
 */
#ifndef MYWIRE_TOOLS_CANCEL_H
#define MYWIRE_TOOLS_CANCEL_H

#include "mywire.h"

/* Blocks SIGINT and starts the watcher; call before any other thread starts.
 * Without a watcher (the thread could not be made), or when SIGINT was
 * ignored when we started, SIGINT is left as it was. */
void interrupt_init(void);

/* Before the process ends on its own (from main): a SIGINT that came in
 * while no statement ran, and that the watcher has not acted on yet, ends
 * it by the signal instead (the exit status a shell sees). */
void interrupt_finish(void);

/* The connection statements run on, once connected (NULL: none, before it
 * is freed). */
void interrupt_set_conn(mywire_conn *conn);

/* Around each statement (or pipelined batch): from statement_begin() to
 * statement_end() a Ctrl-C cancels instead of ending the process. The cancel
 * is repeated every quarter second until statement_end(), so that a KILL
 * that reached the server before the statement did, and in a batch the
 * statements already sent behind the stopped one, are stopped too.
 * statement_end() returns nonzero when Ctrl-C was pressed meanwhile: the
 * caller then prints what it has and calls interrupt_exit(). */
void statement_begin(void);
int statement_end(void);

/* Ends the process after a Ctrl-C: waits for the cancel to finish (or for a
 * second Ctrl-C), prints why on stderr and exits with status 130. rc is the
 * statement's last result code. Does not return. */
void interrupt_exit(int rc);

#endif
