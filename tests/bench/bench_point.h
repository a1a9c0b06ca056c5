/*
 * bench_point.h - the point-select check shared by mywire-bench and
 * mywire-bench-ir. bench_point holds, for id 1..BENCH_POINT_ROWS,
 * CONCAT('point-', id, '-', MD5(id)): "point-ID-" and 32 hex digits. The
 * prefixes are made once (bench_point_init), untimed, so that the check
 * costs both clients little and the same.
 */
#ifndef MYWIRE_BENCH_POINT_H
#define MYWIRE_BENCH_POINT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define BENCH_POINT_ROWS 1000

static char bench_point_prefix[BENCH_POINT_ROWS][16];
static size_t bench_point_prefix_len[BENCH_POINT_ROWS];

static void bench_point_init(void)
{
    for (unsigned i = 0; i < BENCH_POINT_ROWS; i++)
        bench_point_prefix_len[i] = (size_t)snprintf(bench_point_prefix[i], sizeof bench_point_prefix[i],
                                                     "point-%u-", i + 1);
}

/* Whether (data, len) is the value of query index i (id i % ROWS + 1). */
static int point_value_ok(uint64_t i, const char *data, size_t len)
{
    unsigned id = (unsigned)(i % BENCH_POINT_ROWS);
    size_t n = bench_point_prefix_len[id];
    if (!data || len != n + 32 || memcmp(data, bench_point_prefix[id], n) != 0)
        return 0;
    for (size_t k = n; k < len; k++)
        if (!((data[k] >= '0' && data[k] <= '9') || (data[k] >= 'a' && data[k] <= 'f')))
            return 0;
    return 1;
}

#endif
