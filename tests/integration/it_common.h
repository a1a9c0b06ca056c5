/*
 * it_common.h - shared helpers of the integration tests.
 *
 * The tests talk to a real MariaDB started by tests/server/mariadb.sh, whose
 * address and accounts come from MYWIRE_TEST_* environment variables. A missing
 * variable fails the test (it does not skip it): a suite that silently tests
 * nothing is worse than a red one.
 *
 * The helpers assert through cmocka, so they may only be called from the
 * thread that runs the test (cmocka fails by longjmp).
 */
#ifndef MYWIRE_IT_COMMON_H
#define MYWIRE_IT_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mywire.h"

typedef struct it_env {
    const char *host;
    unsigned port;
    const char *socket;
    const char *user;
    const char *password;
    const char *db;
    const char *ed_user;
    const char *ed_password;
    const char *empty_user;    /* mysql_native_password, empty password */
    const char *ed_empty_user; /* ed25519, empty password */
} it_env;

/* The test server's coordinates; fails the test when a variable is missing. */
const it_env *it_get_env(void);
/* An environment variable of the test server's DIR/env; fails the test with
 * a hint when it is not set. */
const char *it_required_env(const char *name);
/* $MYWIRE_TEST_CERTS/file (made by tests/server/certs.sh), malloc'ed. */
char *it_cert(const char *file);

/* A fresh, unconnected handle (asserts that allocation succeeded). */
mywire_conn *it_new(void);

/* Connected handles for MYWIRE_TEST_USER on MYWIRE_TEST_DB. */
mywire_conn *it_connect_tcp(void);
mywire_conn *it_connect_socket(void);
/* A fresh handle set up for MYWIRE_TEST_USER on MYWIRE_TEST_DB over TCP (or
 * the unix socket), with multi-statements on and, when option is not NULL,
 * one more option given as "key=value"; not connected. */
mywire_conn *it_configured(const char *option, int use_socket);
/* A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
unsigned it_closed_port(void);
/* Connect an already configured handle over TCP, asserting success. */
void it_connect_configured_tcp(mywire_conn *conn);

/* Fail the test with the handle's error details when rc != MYWIRE_OK. */
void it_check_ok(mywire_conn *conn, int rc, const char *what, const char *file, int line);
#define IT_OK(conn, expr) it_check_ok((conn), (expr), #expr, __FILE__, __LINE__)

/* Assert that rc is `code` and that the handle carries exactly that error.
 * For MYWIRE_ERROR_SERVER also the server errno and SQLSTATE; for client errors
 * errno 0, SQLSTATE "HY000" and a non-empty message. */
void it_check_error(mywire_conn *conn, int rc, int code, unsigned server_errno,
                    const char *sqlstate, const char *file, int line);
#define IT_ERR(conn, rc, code, server_errno, sqlstate) \
    it_check_error((conn), (rc), (code), (server_errno), (sqlstate), __FILE__, __LINE__)

/* Run a statement and free its result, asserting success. */
void it_exec(mywire_conn *conn, const char *sql);
/* Run a query (strlen(sql) bytes) and return its result, asserting success. */
mywire_result *it_query(mywire_conn *conn, const char *sql, int mode);

/* Run a query whose result is one row with one non-NULL column and return a
 * malloc'ed NUL-terminated copy of that value (free() it). */
char *it_scalar(mywire_conn *conn, const char *sql);
/* Same, parsed as a signed decimal integer. */
long long it_scalar_ll(mywire_conn *conn, const char *sql);

/* Expect the next fetch on res to be a row (asserts) / the end. */
void it_fetch_row(mywire_result *res, const char *file, int line);
#define IT_ROW(res) it_fetch_row((res), __FILE__, __LINE__)
void it_fetch_done(mywire_result *res, const char *file, int line);
#define IT_DONE(res) it_fetch_done((res), __FILE__, __LINE__)

/* Assert that column i of the current row is exactly the C string s. */
void it_check_value(mywire_result *res, unsigned i, const char *s, const char *file, int line);
#define IT_VAL(res, i, s) it_check_value((res), (i), (s), __FILE__, __LINE__)

/* A monotonic clock in seconds. */
double it_now(void);
/* VmRSS of this process in KiB, from /proc/self/status. */
long it_rss_kib(void);
/* 1 when built with AddressSanitizer or MYWIRE_TEST_ASAN is set to a
 * non-empty value other than "0". */
int it_asan(void);

/* A malloc'ed string built with printf formatting. */
char *it_format(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* A session status variable (SHOW SESSION STATUS LIKE 'name'): as a
 * malloc'ed string, or as a number. The test fails if there is none. */
char *it_status(mywire_conn *conn, const char *name);
long long it_status_ll(mywire_conn *conn, const char *name);

/* CRC-32 (the zlib/ISO-HDLC polynomial that MariaDB's CRC32() uses). */
uint32_t it_crc32(const unsigned char *data, size_t len);

/* Percent-encode every byte of s ("%XX"); malloc'ed. */
char *it_percent_encode_all(const char *s);

#endif
