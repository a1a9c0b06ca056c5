/* helpers.c - see helpers.h. */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#include <errno.h>
#include <poll.h>

static void get_bytes(const mywire_result *res, unsigned c, mywirego_cell *cell)
{
    int rc = mywire_get_bytes(res, c, &cell->p, &cell->n);
    cell->kind = rc == MYWIRE_OK ? MYWIREGO_BYTES : MYWIREGO_NULL;
}

int mywirego_drain(mywire_result *res)
{
    int rc;
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
    }
    return rc;
}

int mywirego_fetch(mywire_result *res, unsigned ncols, const int32_t *want, mywirego_cell *cells)
{
    int rc = mywire_fetch(res);
    if (rc != MYWIRE_ROW) return rc;
    for (unsigned c = 0; c < ncols; c++) {
        mywirego_cell *cell = &cells[c];
        int got;
        switch (want[c]) {
        case MYWIREGO_INT:
            got = mywire_get_int64(res, c, &cell->i);
            break;
        case MYWIREGO_UINT: {
            uint64_t u = 0;
            got = mywire_get_uint64(res, c, &u);
            cell->i = (int64_t)u;
            break;
        }
        case MYWIREGO_DOUBLE:
            got = mywire_get_double(res, c, &cell->d);
            break;
        case MYWIREGO_TIME:
            got = mywire_get_time(res, c, &cell->t);
            break;
        default:
            get_bytes(res, c, cell);
            continue;
        }
        if (got == MYWIRE_OK) {
            cell->kind = want[c];
        } else if (got == MYWIRE_NULL) {
            cell->kind = MYWIREGO_NULL;
        } else {
            get_bytes(res, c, cell);
        }
    }
    return rc;
}

const char mywirego_empty[1] = {0};

int mywirego_idle_ok(const mywire_conn *conn)
{
    int fd = mywire_socket(conn);
    if (fd < 0) return 0;
    struct pollfd p = {fd, POLLIN, 0};
    int n;
    do {
        n = poll(&p, 1, 0);
    } while (n < 0 && errno == EINTR);
    return n == 0;
}
