/*
 * helpers.h - C helpers of the Go driver, compiled by cgo into the package
 * (not part of libmywire). They exist for speed only: one cgo call per row
 * instead of one per value. Everything they use comes from mywire.h.
 */
#ifndef MYWIREGO_HELPERS_H
#define MYWIREGO_HELPERS_H

#include <mywire.h>
#include <stddef.h>
#include <stdint.h>

/* What a column is read as (wanted) and what a cell holds (got). */
enum mywirego_kind {
    MYWIREGO_NULL = 0,   /* SQL NULL */
    MYWIREGO_INT = 1,    /* mywire_get_int64 */
    MYWIREGO_UINT = 2,   /* mywire_get_uint64 */
    MYWIREGO_DOUBLE = 3, /* mywire_get_double */
    MYWIREGO_TIME = 4,   /* mywire_get_time */
    MYWIREGO_BYTES = 5   /* mywire_get_bytes: the value's text / bytes */
};

/* One value of the current row. p points into the row (valid until the
 * next mywire_fetch or the result's free), never into Go memory. */
typedef struct mywirego_cell {
    int64_t i; /* INT, and UINT's bits */
    double d;
    const char *p;
    size_t n;
    mywire_time t;
    int32_t kind; /* what the cell holds: MYWIREGO_* */
    int32_t pad;
} mywirego_cell;

/* mywire_fetch(res); on MYWIRE_ROW, cells[0..ncols) are filled with each
 * column read as want[c] asks (a value the typed getter cannot convert, or
 * an unknown kind, falls back to MYWIREGO_BYTES). Returns mywire_fetch's code. */
int mywirego_fetch(mywire_result *res, unsigned ncols, const int32_t *want, mywirego_cell *cells);

/* Read a streaming result's remaining rows and drop them (one cgo call
 * for all); returns the last mywire_fetch code (MYWIRE_DONE, or the error
 * that ended the result). mywire_result_free would drain them too, but a
 * drain there that ends in a server error packet (a statement stopped by
 * mywire_cancel, an error after some rows) leaves the connection waiting
 * for rows that never come: its next command blocks forever (libmywire
 * 0.4.0). Reading the rest with mywire_fetch first avoids that. */
int mywirego_drain(mywire_result *res);

/* For a connected, idle connection: 1 when its socket has nothing to read
 * (the server sends nothing unasked, so anything readable means it closed
 * the connection or is about to), 0 otherwise. Never blocks, never reads. */
int mywirego_idle_ok(const mywire_conn *conn);

/* A NUL byte, for empty strings and byte slices (never NULL pointers). */
extern const char mywirego_empty[1];

#endif
