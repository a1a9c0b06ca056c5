/*
 * mywire-bench: the client-side cost of mywire next to libmariadb, in one run
 * against the same servers.
 *
 * Workloads
 *   stream    N rows x 6 columns over the text protocol, read one row at a time
 *             (MYWIRE_STREAMING + mywire_fetch / mysql_use_result + mysql_fetch_row)
 *   buffered  the same rows stored first (MYWIRE_BUFFERED / mysql_store_result)
 *   point     P one-row primary-key selects on the real MariaDB
 *   connect   C connects + closes over the unix socket of the real MariaDB
 *   tls-connect   C connects + closes over TCP to MYWIRE_TEST_HOST:PORT of the
 *             real MariaDB with TLS required (handshake, login, COM_QUIT, close)
 *   tls-stream    stream N rows x 6 columns from a table of the real MariaDB
 *             over TCP with TLS required
 *   zlib-stream   the same over TCP with CLIENT_COMPRESS (zlib) and no TLS
 *   nb-point  --nb-conns connections (64) each running --nb-queries point
 *             selects (2000), all driven from this one thread by a poll() loop
 *             through the non-blocking APIs: mywire_set_nonblocking +
 *             MYWIRE_WAIT_*, against libmariadb's MYSQL_OPT_NONBLOCK +
 *             mysql_real_query_start/_cont + mysql_store_result_start/_cont.
 *             A third participant, the floor, runs the same selects through
 *             the same poll() loop with no client library (see below).
 *             Targets: client CPU per query <= 0.7x, throughput >= 1.0x.
 *   pipeline  --points point selects (20000), the same ones as point and
 *             nb-point: mywire sends them in pipelines of PIPELINE_BATCH (100;
 *             mywire_pipeline_add_query x100 + mywire_pipeline_run, then every
 *             step's code checked and its result taken, fetched and freed),
 *             libmariadb runs them one by one (mysql_real_query +
 *             mysql_store_result + mysql_fetch_row + mysql_free_result).
 *             Every result must be exactly one row holding the value of its
 *             id ("point-ID-" and 32 hex digits). One block is one batch.
 *             The floor, the third participant, sends a batch's packets in
 *             one send() and reads the answers with no client library.
 *             Targets: client CPU per query <= 0.5x, throughput >= 3x.
 *             With --delay-socket (run.sh --delay-us N) pipeline and
 *             stmt-pipeline run a second time through mywire-bench-delay
 *             (tests/bench/delay_proxy.c), which holds every chunk N us each
 *             way: loopback has next to no round trip for a pipeline to save,
 *             and the one CPU that client and server share caps the throughput
 *             at 1 / (client + server CPU per query); a network has one.
 *   stmt-stream   N rows x 6 columns of a prepared statement, in the binary
 *             protocol, read one at a time by a consumer that wants typed
 *             values: mywire_stmt_execute(MYWIRE_STREAMING) + mywire_fetch +
 *             mywire_get_int64/_double/_bytes/_time; libmariadb
 *             mysql_stmt_execute + mysql_stmt_bind_result into typed buffers +
 *             mysql_stmt_fetch, unbuffered (no mysql_stmt_store_result). See
 *             bench_stmt.h. The statement is prepared untimed; the execute is
 *             in the first block. Target: client CPU per row <= 0.5x.
 *   stmt-point    --points executes (20000) of SELECT c FROM bench_point
 *             WHERE id = ?, prepared once per connection (untimed; point
 *             selects reconnect after every block, see below), the id bound as
 *             an int64 before each: mywire bind + execute (streaming) + fetch +
 *             mywire_get_bytes + fetch to the end; libmariadb the bound
 *             variable set + mysql_stmt_execute + mysql_stmt_fetch x2.
 *             Targets: client CPU and wall time per execute <= 1.0x.
 *   stmt-pipeline --points executes (20000) of the same statement, pipelined
 *             by mywire in batches of STMT_PIPELINE_BATCH (2000): the id bound
 *             and mywire_pipeline_add_execute x2000 + mywire_pipeline_run, then
 *             every step's code checked and its (buffered, binary) result
 *             taken, its row read with mywire_get_bytes, freed; libmariadb
 *             executes them one by one as in stmt-point (its
 *             mysql_stmt_execute loop). One block is one batch.
 *             Targets: throughput >= 3x (wall time per execute <= 1/3),
 *             client CPU per execute <= 1.0x.
 *   stmt-bulk     N rows (id, a BIGINT, b DOUBLE, c VARCHAR) inserted into a
 *             table of each participant's own, in blocks of BULK_BATCH (10000)
 *             rows, one transaction each: libmariadb with MariaDB's array
 *             binding (column-wise arrays, STMT_ATTR_ARRAY_SIZE, one
 *             mysql_stmt_execute = COM_STMT_BULK_EXECUTE per block); mywire
 *             with its column arrays, the same arrays filled the same way
 *             (mywire_stmt_bind_array x4 + one mywire_stmt_execute_array per
 *             block); as the third participant, mywire row by row (bind +
 *             mywire_stmt_execute per row); and as the fourth, mywire's
 *             row-wise batch API (bind + mywire_stmt_add_batch per row,
 *             mywire_stmt_execute_batch per block) when mywire.h has it
 *             (MYWIRE_HAVE_BATCH, see meson.build). After each repetition
 *             every table's COUNT(*) and SUM(id + a + LENGTH(c)) must match
 *             what was sent. Target: mywire's (column arrays) client CPU per
 *             row <= 1.0x libmariadb's; the batch's ratio and the speed-ups
 *             over row by row are shown for information.
 * stream and buffered run against the replay server (replay_server.py answers
 * from memory, so nearly all the work left is the client's) and, with --real,
 * against a table of N rows on the real MariaDB. The replay server speaks
 * neither TLS nor compression, so tls-stream and zlib-stream read that table.
 *
 * TLS: both clients use OpenSSL (libmariadb as Debian builds it) and must end
 * up with the same protocol version and cipher, which the server reports (it
 * is printed, and a difference fails the run). By default neither verifies the
 * server's certificate (mywire ssl_mode=required; libmariadb
 * MYSQL_OPT_SSL_ENFORCE with MYSQL_OPT_SSL_VERIFY_SERVER_CERT off). With
 * --tls-verify (the test server's CA) or --tls-ca FILE both verify it, chain
 * and name (mywire verify_identity; libmariadb MYSQL_OPT_SSL_CA +
 * MYSQL_OPT_SSL_VERIFY_SERVER_CERT). Without a CA, libmariadb still loads
 * OpenSSL's default CA store (the system bundle) for every connection; that
 * cost is its own and is counted.
 * zlib-stream: mywire compress=zlib, libmariadb MYSQL_OPT_COMPRESS; both with
 * TLS off, so that only compression is added to plain TCP.
 *
 * CPU
 *   Client CPU is this process's user+sys time (CLOCK_PROCESS_CPUTIME_ID) over
 *   the timed part only; the servers are other processes, so their CPU is not
 *   counted. Wall time is shown too, for information.
 *   The machines this runs on are shared and noisy: the same code can cost
 *   several times more for a few seconds. So the two clients are interleaved
 *   finely and both see the same noise:
 *   - stream, point, connect: both clients hold their own connection at the
 *     same time and take turns in blocks (10,000 rows, 100 selects, 10
 *     connects) in the order A B B A A B ...; every block is one sample.
 *     Point selects reconnect (untimed) after every block: one connection can
 *     be 10x slower than another for seconds, depending on where the scheduler
 *     put its server thread (run.sh also pins everything to one CPU);
 *     stmt-stream and stmt-point do the same (stmt-point reconnects and
 *     prepares again, untimed, after every block); stmt-bulk takes turns by
 *     blocks of BULK_BATCH rows (A B C C B A ...);
 *   - except streams from the real MariaDB (--real, tls-stream, zlib-stream):
 *     there a whole stream is one sample, the clients alternating A B B A ...
 *     In blocks, the server thread of the client whose turn it is not fills
 *     that client's socket buffer whenever the reading client blocks (one
 *     CPU), so the next block of the client that blocks less starts with
 *     data waiting and takes fewer, larger reads: measured so, mywire read
 *     1M rows over TLS for 0.67-0.85x libmariadb's CPU, against 0.96x when
 *     each read alone;
 *   - buffered: every run is one sample, in a freshly forked child (for the
 *     memory figure below), the clients alternating run by run.
 *   Each workload is repeated --reps times. The table shows the MEDIAN sample
 *   per row/op; the info table adds the minimum and the wall-clock median.
 *   Every CPU nanosecond spent (query start, end of result, free) is inside
 *   some sample.
 *   Stream from the replay server also runs a third participant, the floor:
 *   the same bytes read with bare recv() into a 1 MiB buffer, no parsing and
 *   no client library (see below). nb-point and pipeline have a floor too
 *   (A B C C B A ...): on connections that mywire opened (untimed), the exact
 *   COM_QUERY packets sent with send() and the responses read with recv()
 *   into 1 MiB, only the packet headers walked to find where each ends (see
 *   "floor of point selects"). With nb-point's three participants holding
 *   3 x --nb-conns connections, the server's max_connections is raised to
 *   that (plus 16) when lower.
 *
 * Memory (buffered)
 *   In the forked child, after connecting, the RSS high-water mark is reset
 *   (writing "5" to /proc/self/clear_refs) and VmRSS read; after the last row,
 *   before the result is freed, VmHWM is read. Peak = VmHWM - VmRSS at start:
 *   all memory the query made resident, transient buffers and allocator
 *   overhead included, whatever allocator the client uses. A fresh child per
 *   run keeps the clients (and the runs) from reusing each other's freed heap.
 *   "held" is the malloc in-use delta (mallinfo2 uordblks + hblkhd) at the
 *   same moment: what the stored result occupies in the heap. mywire maps its
 *   large row blocks itself (mmap, for huge pages), which malloc does not see:
 *   for mywire, peak is the figure to compare.
 *
 * Every value is consumed (length + first byte summed); the two clients must
 * agree on the sums and on the row counts, or the run fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_point.h"
#include "bench_stmt.h"
#include <mysql.h>

#include "mywire.h"

/* The third participant: FLOOR, no client library, with stream from the
 * replay server (see the floor section), nb-point and pipeline (see the floor
 * of point selects); ROW_BY_ROW, mywire executing one row
 * at a time, with stmt-bulk; and BATCH, the fourth with stmt-bulk: mywire's
 * row-wise batch API. */
enum client { MYWIRE, MARIADB, FLOOR, ROW_BY_ROW = FLOOR, BATCH };
static const char *const client_name[] = {"mywire", "libmariadb", "floor", "mywire batch"};

enum workload { W_STREAM, W_BUFFERED, W_POINT, W_CONNECT, W_TLS_CONNECT, W_TLS_STREAM, W_ZLIB_STREAM,
                W_NB_POINT, W_PIPELINE, W_STMT_STREAM, W_STMT_POINT, W_STMT_BULK, W_STMT_PIPELINE,
                W_COUNT };
static const char *const workload_name[] = {"stream",      "buffered",    "point",
                                            "connect",     "tls-connect", "tls-stream",
                                            "zlib-stream", "nb-point",    "pipeline",
                                            "stmt-stream", "stmt-point",  "stmt-bulk",
                                            "stmt-pipeline"};
/* What runs without --only: the new workloads need a server with TLS and take
 * a while (a table of N rows, TLS handshakes), so they are asked for by name. */
#define DEFAULT_WORKLOADS \
    ((1u << W_STREAM) | (1u << W_BUFFERED) | (1u << W_POINT) | (1u << W_CONNECT))
#define STREAMS_FROM_REAL ((1u << W_TLS_STREAM) | (1u << W_ZLIB_STREAM))
#define TCP_WORKLOADS ((1u << W_TLS_CONNECT) | STREAMS_FROM_REAL)

/* Units per interleaved block. */
#define STREAM_BLOCK 10000
#define POINT_BLOCK 100
/* pipeline: queries per mywire_pipeline_run, and so per block. */
#define PIPELINE_BATCH 100
/* stmt-pipeline: executes per mywire_pipeline_run, and so per block. */
#define STMT_PIPELINE_BATCH 2000
#define CONNECT_BLOCK 10
/* stmt-bulk: rows per batch (one COM_STMT_BULK_EXECUTE, one transaction), and
 * so per block; for mywire row by row, rows per transaction. */
#define BULK_BATCH 10000
/* Distinct ids in bench_point. */
#define POINT_TABLE_ROWS BENCH_POINT_ROWS
/* Lines of the report: stream, buffered and stmt-stream x 2 sources, and 9 more. */
#define MAX_LINES 20

struct endpoint {
    const char *label; /* "replay", "mariadb", "mariadb+tls", "mariadb+zlib" */
    const char *socket;
    const char *user;
    const char *password;
    const char *database;
    int replay; /* the replay server: settle() after use; the floor can run */
    /* TCP instead of the socket when host is set; then TLS is required when
     * tls is set (verified against ca when that is set too) and off otherwise,
     * and zlib asks for compression. */
    const char *host;
    unsigned port;
    int tls;
    const char *ca;
    int zlib;
};

struct config {
    uint64_t rows;
    unsigned points;
    unsigned connects;
    unsigned nb_conns;   /* nb-point: connections per client */
    unsigned nb_queries; /* nb-point: point selects per connection */
    unsigned reps;
    unsigned workloads; /* bit mask of enum workload */
    int replay;         /* run stream/buffered against the replay server */
    int real;           /* run stream/buffered against the real MariaDB */
    int check_targets;  /* exit 3 when a target is missed */
    int verbose;        /* print every sample */
    int only_client;    /* -1: both; else run only this enum client (for profiling) */
    struct endpoint replay_ep;
    struct endpoint real_ep;
    const char *tls_ca;      /* --tls-ca */
    int tls_verify;          /* --tls-verify */
    struct endpoint tls_ep;  /* real MariaDB over TCP with TLS */
    struct endpoint zlib_ep; /* real MariaDB over TCP with zlib */
    /* --delay-socket / --delay-us: the real MariaDB through mywire-bench-delay,
     * which holds every chunk delay_us in each direction (run.sh --delay-us) */
    const char *delay_socket;
    unsigned delay_us;
    struct endpoint delay_ep;
    char delay_label[48];
};

/* What one workload needs to know. */
struct job {
    enum workload workload;
    const struct endpoint *ep;
    const char *sql;        /* stream/buffered */
    char (*point_sql)[64];  /* point: POINT_TABLE_ROWS queries, used in turn */
    uint64_t count;         /* rows expected, or operations to do */
};

/* The samples of one client, in seconds per unit. */
struct series {
    double *cpu, *wall;
    unsigned n, cap;
    double peak_mib, held_mib; /* buffered: medians */
};

/* One line of the report. */
struct line {
    char label[64];
    const char *unit; /* "row" or "op" */
    double scale;     /* seconds -> shown unit */
    const char *scale_name;
    double target;    /* the cpu ratio to meet */
    double wall_target; /* > 0: also the wall-time ratio to meet (1 / throughput ratio) */
    int has_mem;
    int row_by_row; /* stmt-bulk: s[ROW_BY_ROW] is mywire executing row by row */
    int ok;
    int peak_known;
    char note[192]; /* TLS / compression as the server saw each client's connection */
    /* The MariaDB server's CPU during each client's blocks (when its pid is
     * known: MYWIRE_BENCH_SERVER_PID), summed, and the units of those blocks. */
    double srv_cpu[2];
    uint64_t srv_units[2];
    struct series s[4]; /* by enum client; FLOOR only for stream from the replay server,
                           nb-point and pipeline, BATCH only for stmt-bulk */
    const char *floor_what; /* what the floor does, for the report */
    int point_floor;        /* the floor is that of the point selects (pfloor_*) */
    int direct;             /* through the delaying proxy: 1 + the index of the
                               same workload's line without it (0: not delayed) */
};

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mywire-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ------------------------------------------------------------ measuring */

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_now(void) { return clock_seconds(CLOCK_PROCESS_CPUTIME_ID); }
static double wall_now(void) { return clock_seconds(CLOCK_MONOTONIC); }

/* The real MariaDB's CPU time (all its threads), for information: it shows
 * how much of a round trip is the server's work, which bounds the throughput
 * of any client. From MYWIRE_BENCH_SERVER_PID (run.sh sets it for the server
 * it starts), read through the process's CPU-time clock. */
static clockid_t server_clock;
static int have_server_clock;

static void server_clock_init(void)
{
    const char *pid = getenv("MYWIRE_BENCH_SERVER_PID");
    struct timespec ts;
    if (pid && *pid && clock_getcpuclockid((pid_t)atol(pid), &server_clock) == 0 &&
        clock_gettime(server_clock, &ts) == 0)
        have_server_clock = 1;
}

static double server_cpu_now(void) { return have_server_clock ? clock_seconds(server_clock) : 0; }

/* A "Key:   123 kB" line of /proc/self/status, -1 if absent. */
static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t keylen = strlen(key);
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, keylen) == 0 && line[keylen] == ':') {
            kb = strtol(line + keylen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

static long long heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long long)(mi.uordblks + mi.hblkhd);
}

struct mem_probe {
    long rss_start_kb; /* -1 when the high-water mark could not be reset */
    long long heap_start;
};

static void mem_begin(struct mem_probe *m)
{
    m->rss_start_kb = -1;
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        /* 5: reset the peak RSS (VmHWM) to the current RSS (Linux >= 4.0). */
        int ok = fputs("5", f) >= 0;
        ok = (fclose(f) == 0) && ok;
        if (ok)
            m->rss_start_kb = status_kb("VmRSS");
    }
    m->heap_start = heap_in_use();
}

static void mem_end(const struct mem_probe *m, long *peak_kb, long long *held)
{
    long hwm = status_kb("VmHWM");
    *peak_kb = (m->rss_start_kb < 0 || hwm < 0) ? -1 : hwm - m->rss_start_kb;
    *held = heap_in_use() - m->heap_start;
}

/* replay_server.py closes, when a connection ends, the socket of the most
 * recently accepted connection (its thread's lambda reads the accept loop's
 * variable late), which can be a newer connection of ours. Giving its threads
 * time to finish before connecting again avoids that; a run it hits anyway
 * fails (rows and sums are checked), it never gives wrong numbers. */
static void settle(const struct endpoint *ep)
{
    if (!ep->replay)
        return;
    struct timespec ts = {0, 100 * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Consume one value: its length and first byte, so nothing can be skipped. */
static inline uint64_t touch(const char *data, size_t len)
{
    return data ? (uint64_t)len + (unsigned char)data[0] : 1;
}

/* ------------------------------------------------------------ connecting */

static mywire_conn *mw_open(const struct endpoint *ep)
{
    mywire_conn *conn = NULL;
    int rc = mywire_conn_new(&conn);
    if (rc != MYWIRE_OK) {
        fail("mywire_conn_new: %s", mywire_errstr(rc));
        return NULL;
    }
    if (ep->host) {
        const char *mode = !ep->tls ? "disabled" : ep->ca ? "verify_identity" : "required";
        if ((rc = mywire_set_host(conn, ep->host)) != MYWIRE_OK ||
            (rc = mywire_set_port(conn, ep->port)) != MYWIRE_OK ||
            (rc = mywire_set_option(conn, "ssl_mode", mode)) != MYWIRE_OK ||
            (ep->ca && (rc = mywire_set_option(conn, "ssl_ca", ep->ca)) != MYWIRE_OK) ||
            (ep->zlib && (rc = mywire_set_option(conn, "compress", "zlib")) != MYWIRE_OK)) {
            fail("mywire options for %s: %s: %s", ep->label, mywire_errstr(rc), mywire_errmsg(conn));
            mywire_conn_free(conn);
            return NULL;
        }
    } else if ((rc = mywire_set_unix_socket(conn, ep->socket)) != MYWIRE_OK) {
        fail("mywire options for %s: %s: %s", ep->label, mywire_errstr(rc), mywire_errmsg(conn));
        mywire_conn_free(conn);
        return NULL;
    }
    if ((rc = mywire_set_user(conn, ep->user)) != MYWIRE_OK ||
        (rc = mywire_set_password(conn, ep->password)) != MYWIRE_OK ||
        (rc = mywire_set_database(conn, ep->database)) != MYWIRE_OK ||
        /* libmariadb has no such limit; lift it so that big --rows work. */
        (rc = mywire_set_max_result_bytes(conn, 0)) != MYWIRE_OK ||
        (rc = mywire_connect(conn)) != MYWIRE_OK) {
        fail("mywire connect to %s (%s): %s: %s", ep->label, ep->host ? ep->host : ep->socket,
             mywire_errstr(rc), mywire_errmsg(conn));
        mywire_conn_free(conn);
        return NULL;
    }
    return conn;
}

static MYSQL *my_open_opt(const struct endpoint *ep, int nonblock)
{
    MYSQL *m = mysql_init(NULL);
    if (!m) {
        fail("mysql_init failed");
        return NULL;
    }
    /* Before connecting, as the API asks; blocking calls still work after it. */
    if (nonblock && mysql_options(m, MYSQL_OPT_NONBLOCK, 0) != 0) {
        fail("libmariadb: MYSQL_OPT_NONBLOCK failed");
        mysql_close(m);
        return NULL;
    }
    /* The character set mywire asks for by default. */
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (ep->host && ep->tls) {
        my_bool on = 1, verify = ep->ca != NULL;
        mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
        mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
        if (ep->ca)
            mysql_optionsv(m, MYSQL_OPT_SSL_CA, ep->ca);
    }
    if (ep->zlib)
        mysql_options(m, MYSQL_OPT_COMPRESS, NULL);
    /* "localhost" means the socket to libmariadb; an address means TCP. */
    if (!mysql_real_connect(m, ep->host ? ep->host : "localhost", ep->user, ep->password,
                            ep->database, ep->host ? ep->port : 0, ep->host ? NULL : ep->socket,
                            0)) {
        fail("libmariadb connect to %s (%s): %s", ep->label, ep->host ? ep->host : ep->socket,
             mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

static MYSQL *my_open(const struct endpoint *ep) { return my_open_opt(ep, 0); }

/* ------------------------------------------------- interleaved workloads */

/* One client's side of stream, point or connect, driven a block at a time. */
struct worker {
    enum client client;
    const struct job *job;
    mywire_conn *mc;
    mywire_result *mr;
    mywire_pipeline *pl; /* pipeline: reused batch after batch */
    mywire_stmt *ms;     /* stmt-*: prepared untimed, in worker_begin */
    MYSQL *m;
    MYSQL_RES *r;
    MYSQL_STMT *mst;
    struct my_stmt_row *row; /* stmt-stream: libmariadb's typed buffers */
    struct my_point_bind *pb; /* stmt-point: libmariadb's parameter and result */
    struct my_bulk_arrays *ba; /* stmt-bulk: libmariadb's column arrays */
    struct mw_bulk_arrays *mba; /* stmt-bulk: mywire's column arrays */
    unsigned ncols;
    int started, finished;
    uint64_t units, checksum;
    /* FLOOR: the socket, the receive buffer and where the framing stands */
    int fd;
    unsigned char *buf;
    size_t len;               /* bytes received */
    unsigned char hdr_tail[9]; /* the last 9 of them */
};

static int floor_begin(struct worker *w);
static int floor_step(struct worker *w, uint64_t want, uint64_t *done);
static int pfloor_begin(struct worker *w);
static int pfloor_step(struct worker *w, uint64_t want, uint64_t *done);
static int stmt_begin(struct worker *w);

/* The name of participant c in job's messages. */
static const char *participant(const struct job *job, enum client c)
{
    if (job->workload == W_STMT_BULK && c == ROW_BY_ROW)
        return "mywire row-by-row";
    if (job->workload == W_STMT_BULK && c == MYWIRE)
        return "mywire arrays";
    return client_name[c];
}

static int is_stmt(enum workload w)
{
    return w == W_STMT_STREAM || w == W_STMT_POINT || w == W_STMT_BULK || w == W_STMT_PIPELINE;
}

/* Untimed: the connection that stream and point use (and the statement of
 * the stmt-* workloads, prepared on it). */
static int worker_begin(struct worker *w)
{
    w->fd = -1;
    if (w->client == FLOOR && w->job->workload == W_PIPELINE)
        return pfloor_begin(w);
    if (w->client == FLOOR && w->job->workload != W_STMT_BULK)
        return floor_begin(w);
    if (w->job->workload == W_CONNECT || w->job->workload == W_TLS_CONNECT)
        return 0;
    if (w->client == MARIADB)
        w->m = my_open(w->job->ep);
    else
        w->mc = mw_open(w->job->ep); /* mywire, and mywire row by row */
    if (!w->mc && !w->m)
        return -1;
    return is_stmt(w->job->workload) ? stmt_begin(w) : 0;
}

static void worker_end(struct worker *w)
{
    mywire_result_free(w->mr);
    mywire_pipeline_free(w->pl);
    mywire_stmt_free(w->ms);
    if (w->mc && w->fd >= 0) {
        /* pipeline's floor: the socket is mywire's, non-blocking again for it */
        int flags = fcntl(w->fd, F_GETFL);
        if (flags >= 0)
            fcntl(w->fd, F_SETFL, flags | O_NONBLOCK);
        w->fd = -1;
    }
    mywire_conn_free(w->mc);
    if (w->r)
        mysql_free_result(w->r);
    if (w->mst)
        mysql_stmt_close(w->mst);
    free(w->row);
    free(w->pb);
    free(w->ba);
    free(w->mba);
    w->mba = NULL;
    w->ms = NULL;
    w->mst = NULL;
    w->row = NULL;
    w->pb = NULL;
    w->ba = NULL;
    if (w->m)
        mysql_close(w->m);
    if (w->fd >= 0)
        close(w->fd);
    free(w->buf);
    w->mr = NULL;
    w->pl = NULL;
    w->mc = NULL;
    w->r = NULL;
    w->m = NULL;
    w->fd = -1;
    w->buf = NULL;
}

/* The end of a mywire streaming step (stream, stmt-stream): n rows read with
 * checksum sum, the last mywire_fetch returned rc. */
static int mw_stream_end(struct worker *w, int rc, uint64_t n, uint64_t sum, uint64_t *done)
{
    w->checksum += sum;
    *done = n;
    if (rc == MYWIRE_DONE) {
        mywire_result_free(w->mr);
        w->mr = NULL;
        w->finished = 1;
    } else if (rc != MYWIRE_ROW) {
        fail("mywire_fetch after %llu rows: %s: %s", (unsigned long long)(w->units + n),
             mywire_errstr(rc), mywire_errmsg(w->mc));
        return -1;
    }
    return 0;
}

static int mw_stream_step(struct worker *w, uint64_t want, uint64_t *done)
{
    if (!w->started) {
        int rc = mywire_query(w->mc, w->job->sql, strlen(w->job->sql), MYWIRE_STREAMING, &w->mr);
        if (rc != MYWIRE_OK) {
            fail("mywire_query: %s: %s", mywire_errstr(rc), mywire_errmsg(w->mc));
            return -1;
        }
        w->ncols = mywire_column_count(w->mr);
        w->checksum = w->ncols;
        w->started = 1;
    }
    unsigned ncols = w->ncols;
    uint64_t sum = 0, n = 0;
    int rc = MYWIRE_ROW;
    while (n < want && (rc = mywire_fetch(w->mr)) == MYWIRE_ROW) {
        const mywire_value *v = mywire_row(w->mr);
        for (unsigned i = 0; i < ncols; i++)
            sum += touch(v[i].data, v[i].len);
        n++;
    }
    return mw_stream_end(w, rc, n, sum, done);
}

static int my_stream_step(struct worker *w, uint64_t want, uint64_t *done)
{
    if (!w->started) {
        if (mysql_real_query(w->m, w->job->sql, strlen(w->job->sql)) != 0 ||
            !(w->r = mysql_use_result(w->m))) {
            fail("libmariadb query: %s", mysql_error(w->m));
            return -1;
        }
        w->ncols = mysql_num_fields(w->r);
        w->checksum = w->ncols;
        w->started = 1;
    }
    unsigned ncols = w->ncols;
    uint64_t sum = 0, n = 0;
    MYSQL_ROW row = NULL;
    while (n < want && (row = mysql_fetch_row(w->r)) != NULL) {
        unsigned long *len = mysql_fetch_lengths(w->r);
        for (unsigned i = 0; i < ncols; i++)
            sum += touch(row[i], len[i]);
        n++;
    }
    w->checksum += sum;
    *done = n;
    if (!row && n < want) {
        if (mysql_errno(w->m) != 0) {
            fail("mysql_fetch_row after %llu rows: %s", (unsigned long long)(w->units + n),
                 mysql_error(w->m));
            return -1;
        }
        mysql_free_result(w->r);
        w->r = NULL;
        w->finished = 1;
    }
    return 0;
}

static int mw_point_step(struct worker *w, uint64_t want, uint64_t *done)
{
    uint64_t n = 0;
    for (; n < want && w->units + n < w->job->count; n++) {
        const char *sql = w->job->point_sql[(w->units + n) % POINT_TABLE_ROWS];
        mywire_result *res = NULL;
        int rc = mywire_query(w->mc, sql, strlen(sql), MYWIRE_BUFFERED, &res);
        int got_row = 0;
        if (rc == MYWIRE_OK && (rc = mywire_fetch(res)) == MYWIRE_ROW) {
            size_t len = 0;
            const char *c = mywire_get(res, 0, &len);
            w->checksum += touch(c, len);
            got_row = point_value_ok(w->units + n, c, len) ? 1 : -1;
            rc = mywire_fetch(res);
        }
        mywire_result_free(res);
        if (rc != MYWIRE_DONE || got_row != 1) {
            fail("mywire point select: %s: %s",
                 rc != MYWIRE_DONE ? mywire_errstr(rc)
                 : got_row      ? "wrong value"
                                : "not exactly one row",
                 rc != MYWIRE_DONE ? mywire_errmsg(w->mc) : sql);
            return -1;
        }
    }
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}

static int my_point_step(struct worker *w, uint64_t want, uint64_t *done)
{
    uint64_t n = 0;
    for (; n < want && w->units + n < w->job->count; n++) {
        const char *sql = w->job->point_sql[(w->units + n) % POINT_TABLE_ROWS];
        MYSQL_RES *res = NULL;
        MYSQL_ROW row = NULL;
        int ok = mysql_real_query(w->m, sql, strlen(sql)) == 0 &&
                 (res = mysql_store_result(w->m)) != NULL && (row = mysql_fetch_row(res)) != NULL;
        int right = 0;
        if (ok) {
            unsigned long *len = mysql_fetch_lengths(res);
            w->checksum += touch(row[0], len[0]);
            right = point_value_ok(w->units + n, row[0], len[0]);
            ok = mysql_fetch_row(res) == NULL; /* exactly one row */
        }
        if (res)
            mysql_free_result(res);
        if (!ok || !right) {
            fail("libmariadb point select: %s (%s)",
                 mysql_errno(w->m) ? mysql_error(w->m)
                 : !ok             ? "not exactly one row"
                                   : "wrong value",
                 sql);
            return -1;
        }
    }
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}

/* pipeline, mywire: one batch of `want` selects (at most PIPELINE_BATCH)
 * added to the worker's pipeline, run, and every step checked: code OK,
 * one result, exactly one row with the right value. */
static int mw_pipeline_step(struct worker *w, uint64_t want, uint64_t *done)
{
    if (!w->pl && mywire_pipeline_new(&w->pl) != MYWIRE_OK) {
        fail("mywire_pipeline_new failed");
        return -1;
    }
    uint64_t n = want;
    if (n > w->job->count - w->units)
        n = w->job->count - w->units;
    int rc = mywire_pipeline_clear(w->pl);
    for (uint64_t k = 0; rc == MYWIRE_OK && k < n; k++) {
        const char *sql = w->job->point_sql[(w->units + k) % POINT_TABLE_ROWS];
        rc = mywire_pipeline_add_query(w->pl, sql, strlen(sql));
    }
    if (rc != MYWIRE_OK) {
        fail("mywire pipeline: building the batch: %s", mywire_errstr(rc));
        return -1;
    }
    if ((rc = mywire_pipeline_run(w->mc, w->pl)) != MYWIRE_OK) {
        fail("mywire_pipeline_run: %s: %s", mywire_errstr(rc), mywire_errmsg(w->mc));
        return -1;
    }
    if (mywire_pipeline_size(w->pl) != n) {
        fail("mywire pipeline: %zu steps, expected %llu", mywire_pipeline_size(w->pl),
             (unsigned long long)n);
        return -1;
    }
    for (uint64_t k = 0; k < n; k++) {
        const char *what = NULL;
        mywire_result *res = NULL;
        int code = mywire_pipeline_step_code(w->pl, k);
        if (code != MYWIRE_OK)
            what = mywire_pipeline_step_errmsg(w->pl, k);
        else if (!mywire_pipeline_step_ran(w->pl, k) ||
                 mywire_pipeline_result_count(w->pl, k) != 1)
            what = "not one result";
        else if ((rc = mywire_pipeline_take_result(w->pl, k, 0, &res)) != MYWIRE_OK)
            what = mywire_errstr(rc);
        else if ((rc = mywire_fetch(res)) != MYWIRE_ROW)
            what = rc == MYWIRE_DONE ? "no row" : mywire_errmsg(w->mc);
        else {
            size_t len = 0;
            const char *c = mywire_get(res, 0, &len);
            w->checksum += touch(c, len);
            if (!point_value_ok(w->units + k, c, len))
                what = "wrong value";
            else if ((rc = mywire_fetch(res)) != MYWIRE_DONE)
                what = rc == MYWIRE_ROW ? "more than one row" : mywire_errmsg(w->mc);
        }
        mywire_result_free(res);
        if (what) {
            fail("mywire pipelined point select %llu (%s): %s%s%s",
                 (unsigned long long)(w->units + k),
                 w->job->point_sql[(w->units + k) % POINT_TABLE_ROWS],
                 code != MYWIRE_OK ? mywire_errstr(code) : "", code != MYWIRE_OK ? ": " : "", what);
            return -1;
        }
    }
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}

static int connect_step(struct worker *w, uint64_t want, uint64_t *done)
{
    uint64_t n = 0;
    for (; n < want && w->units + n < w->job->count; n++) {
        if (w->client == MYWIRE) {
            mywire_conn *c = mw_open(w->job->ep); /* new + options + connect */
            if (!c)
                return -1;
            mywire_conn_free(c); /* COM_QUIT + close + free, like mysql_close */
        } else {
            MYSQL *m = my_open(w->job->ep); /* init + options + real_connect */
            if (!m)
                return -1;
            mysql_close(m);
        }
        w->checksum++;
    }
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}


/* ------------------------------------------------- prepared statements */

/* stmt-point: the statement, and libmariadb's parameter and result. */
static const char stmt_point_sql[] = "SELECT c FROM bench_point WHERE id = ?";

/* stmt-bulk: libmariadb's column-wise arrays (MariaDB's array binding). */
struct my_bulk_arrays {
    MYSQL_BIND bind[4];
    int64_t id[BULK_BATCH], a[BULK_BATCH];
    double b[BULK_BATCH];
    const char *c[BULK_BATCH];
    unsigned long c_len[BULK_BATCH];
};

/* stmt-bulk: mywire's column arrays, shaped as libmariadb's. */
struct mw_bulk_arrays {
    int64_t id[BULK_BATCH], a[BULK_BATCH];
    double b[BULK_BATCH];
    const char *c[BULK_BATCH];
    size_t c_len[BULK_BATCH];
};

/* Rows first + 1 .. first + n into the column arrays of ba (either
 * struct: only the lengths' type differs); the rows' checksum. */
#define FILL_BULK_ARRAYS(ba, first, n)                          \
    __extension__({                                              \
        uint64_t sum_ = 0;                                       \
        for (uint64_t k_ = 0; k_ < (n); k_++) {                  \
            uint64_t id_ = (first) + k_ + 1;                     \
            unsigned t_ = bulk_text(id_);                        \
            (ba)->id[k_] = (int64_t)id_;                         \
            (ba)->a[k_] = bulk_a(id_);                           \
            (ba)->b[k_] = bulk_b(id_);                           \
            (ba)->c[k_] = bench_bulk_text[t_];                   \
            (ba)->c_len[k_] = bench_bulk_text_len[t_];           \
            sum_ += bulk_row_sum(id_);                           \
        }                                                        \
        sum_;                                                    \
    })

/* A statement without a result (TRUNCATE, START TRANSACTION, COMMIT). */
static int mw_exec(mywire_conn *conn, const char *sql)
{
    mywire_result *res = NULL;
    int rc = mywire_query(conn, sql, strlen(sql), MYWIRE_BUFFERED, &res);
    mywire_result_free(res);
    if (rc != MYWIRE_OK)
        fail("mywire: %s: %s: %s", sql, mywire_errstr(rc), mywire_errmsg(conn));
    return rc == MYWIRE_OK ? 0 : -1;
}

static int my_exec(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) != 0) {
        fail("libmariadb: %s: %s", sql, mysql_error(m));
        return -1;
    }
    return 0;
}

static int stmt_exec(struct worker *w, const char *sql)
{
    return w->mc ? mw_exec(w->mc, sql) : my_exec(w->m, sql);
}

/* Untimed, after connecting: prepare the workload's statement (and for
 * stmt-bulk empty the participant's own table, bench_bulk_<client>, first).
 * libmariadb binds its parameters and results here too, except stmt-stream's
 * results, which it binds after each execute (timed), as a program reading
 * a result it has not seen before does. */
static int stmt_begin(struct worker *w)
{
    const struct job *job = w->job;
    char insert[128];
    const char *sql = job->sql;
    unsigned params = 0;
    if (job->workload == W_STMT_POINT || job->workload == W_STMT_PIPELINE) {
        sql = stmt_point_sql;
        params = 1;
    } else if (job->workload == W_STMT_BULK) {
        char truncate[64];
        snprintf(truncate, sizeof truncate, "TRUNCATE TABLE bench_bulk_%u", (unsigned)w->client);
        if (stmt_exec(w, truncate) != 0)
            return -1;
        snprintf(insert, sizeof insert,
                 "INSERT INTO bench_bulk_%u (id, a, b, c) VALUES (?, ?, ?, ?)", (unsigned)w->client);
        sql = insert;
        params = 4;
    }
    if (w->mc) {
        int rc = mywire_stmt_new(w->mc, &w->ms);
        if (rc == MYWIRE_OK)
            rc = mywire_stmt_prepare(w->ms, sql, strlen(sql));
        if (rc != MYWIRE_OK) {
            fail("mywire prepare %s: %s: %s", sql, mywire_errstr(rc), mywire_errmsg(w->mc));
            return -1;
        }
        if (mywire_stmt_param_count(w->ms) != params) {
            fail("mywire prepare %s: %u parameters, expected %u", sql,
                 mywire_stmt_param_count(w->ms), params);
            return -1;
        }
        if (job->workload == W_STMT_BULK && w->client == MYWIRE &&
            !(w->mba = calloc(1, sizeof *w->mba)))
            return -1;
        return 0;
    }
    if (!(w->mst = mysql_stmt_init(w->m))) {
        fail("mysql_stmt_init failed");
        return -1;
    }
    if (mysql_stmt_prepare(w->mst, sql, (unsigned long)strlen(sql)) != 0) {
        fail("libmariadb prepare %s: %s", sql, mysql_stmt_error(w->mst));
        return -1;
    }
    if (mysql_stmt_param_count(w->mst) != params) {
        fail("libmariadb prepare %s: %lu parameters, expected %u", sql,
             mysql_stmt_param_count(w->mst), params);
        return -1;
    }
    int bad = 0;
    if (job->workload == W_STMT_STREAM) {
        bad = !(w->row = calloc(1, sizeof *w->row));
    } else if (job->workload == W_STMT_POINT || job->workload == W_STMT_PIPELINE) {
        struct my_point_bind *pb = w->pb = calloc(1, sizeof *w->pb);
        if (!pb)
            return -1;
        bad = my_point_bind(w->mst, pb);
    } else {
        struct my_bulk_arrays *ba = w->ba = calloc(1, sizeof *w->ba);
        if (!ba)
            return -1;
        ba->bind[0].buffer_type = MYSQL_TYPE_LONGLONG;
        ba->bind[0].buffer = ba->id;
        ba->bind[1].buffer_type = MYSQL_TYPE_LONGLONG;
        ba->bind[1].buffer = ba->a;
        ba->bind[2].buffer_type = MYSQL_TYPE_DOUBLE;
        ba->bind[2].buffer = ba->b;
        ba->bind[3].buffer_type = MYSQL_TYPE_STRING;
        ba->bind[3].buffer = ba->c; /* column-wise: an array of pointers */
        ba->bind[3].length = ba->c_len;
    }
    if (bad) {
        fail("libmariadb binding for %s: %s", sql, mysql_stmt_error(w->mst));
        return -1;
    }
    return 0;
}

/* stmt-stream, mywire: one execute (MYWIRE_STREAMING), then rows read with
 * mywire_fetch and every value through its typed getter. */
static int mw_stmt_stream_step(struct worker *w, uint64_t want, uint64_t *done)
{
    if (!w->started) {
        int rc = mywire_stmt_execute(w->ms, MYWIRE_STREAMING, &w->mr);
        if (rc != MYWIRE_OK) {
            fail("mywire_stmt_execute: %s: %s", mywire_errstr(rc), mywire_errmsg(w->mc));
            return -1;
        }
        w->ncols = mywire_column_count(w->mr);
        if (w->ncols != 6 || !mywire_result_is_binary(w->mr)) {
            fail("mywire_stmt_execute: %u columns%s, expected 6 binary", w->ncols,
                 mywire_result_is_binary(w->mr) ? "" : " in text");
            return -1;
        }
        w->checksum = w->ncols;
        w->started = 1;
    }
    uint64_t sum = 0, n = 0;
    int rc = MYWIRE_ROW;
    while (n < want && (rc = mywire_fetch(w->mr)) == MYWIRE_ROW) {
        if (mw_stmt_row(w->mr, &sum) != 0) {
            fail("mywire stmt-stream: row %llu: a value is NULL or does not convert",
                 (unsigned long long)(w->units + n + 1));
            return -1;
        }
        n++;
    }
    return mw_stream_end(w, rc, n, sum, done);
}

/* stmt-stream, libmariadb: mysql_stmt_execute, mysql_stmt_bind_result into
 * typed buffers, mysql_stmt_fetch row by row (unbuffered: no
 * mysql_stmt_store_result). */
static int my_stmt_stream_step(struct worker *w, uint64_t want, uint64_t *done)
{
    if (!w->started) {
        if (mysql_stmt_execute(w->mst) != 0 || my_stmt_row_bind(w->mst, w->row) != 0) {
            fail("libmariadb stmt-stream: %s", mysql_stmt_error(w->mst));
            return -1;
        }
        w->ncols = mysql_stmt_field_count(w->mst);
        if (w->ncols != 6) {
            fail("mysql_stmt_execute: %u columns, expected 6", w->ncols);
            return -1;
        }
        w->checksum = w->ncols;
        w->started = 1;
    }
    uint64_t sum = 0, n = 0;
    int rc = 0;
    while (n < want && (rc = mysql_stmt_fetch(w->mst)) == 0) {
        if (my_stmt_row_sum(w->row, &sum) != 0) {
            fail("libmariadb stmt-stream: row %llu: a value is NULL",
                 (unsigned long long)(w->units + n + 1));
            return -1;
        }
        n++;
    }
    w->checksum += sum;
    *done = n;
    if (n < want) {
        if (rc != MYSQL_NO_DATA) {
            fail("mysql_stmt_fetch after %llu rows: %s", (unsigned long long)(w->units + n),
                 rc == MYSQL_DATA_TRUNCATED ? "data truncated" : mysql_stmt_error(w->mst));
            return -1;
        }
        mysql_stmt_free_result(w->mst);
        w->finished = 1;
    }
    return 0;
}

/* stmt-point, mywire: bind the id, execute (MYWIRE_STREAMING), one row read
 * with mywire_get_bytes, then the end of the result. */
static int mw_stmt_point_step(struct worker *w, uint64_t want, uint64_t *done)
{
    uint64_t n = 0;
    for (; n < want && w->units + n < w->job->count; n++) {
        uint64_t q = w->units + n;
        mywire_result *res = NULL;
        int rc = mywire_stmt_bind_int64(w->ms, 0, (int64_t)(q % POINT_TABLE_ROWS + 1));
        if (rc == MYWIRE_OK)
            rc = mywire_stmt_execute(w->ms, MYWIRE_STREAMING, &res);
        int got_row = 0;
        if (rc == MYWIRE_OK && (rc = mywire_fetch(res)) == MYWIRE_ROW) {
            const char *c = NULL;
            size_t len = 0;
            int got = mywire_get_bytes(res, 0, &c, &len);
            w->checksum += touch(c, len);
            got_row = got == MYWIRE_OK && point_value_ok(q, c, len) ? 1 : -1;
            rc = mywire_fetch(res);
        }
        mywire_result_free(res);
        if (rc != MYWIRE_DONE || got_row != 1) {
            fail("mywire prepared point select (id %llu): %s: %s",
                 (unsigned long long)(q % POINT_TABLE_ROWS + 1),
                 rc != MYWIRE_DONE ? mywire_errstr(rc)
                 : got_row      ? "wrong value"
                                : "not exactly one row",
                 rc != MYWIRE_DONE ? mywire_errmsg(w->mc) : stmt_point_sql);
            return -1;
        }
    }
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}

/* stmt-pipeline, mywire: `want` executes (at most STMT_PIPELINE_BATCH) of
 * the prepared point select, each with its own id bound before it was added
 * to the worker's pipeline, run together; then every step checked: code OK,
 * one result, exactly one row with the right value. */
static int mw_stmt_pipeline_step(struct worker *w, uint64_t want, uint64_t *done)
{
    if (!w->pl && mywire_pipeline_new(&w->pl) != MYWIRE_OK) {
        fail("mywire_pipeline_new failed");
        return -1;
    }
    uint64_t n = want;
    if (n > w->job->count - w->units)
        n = w->job->count - w->units;
    int rc = mywire_pipeline_clear(w->pl);
    for (uint64_t k = 0; rc == MYWIRE_OK && k < n; k++) {
        rc = mywire_stmt_bind_int64(w->ms, 0, (int64_t)((w->units + k) % POINT_TABLE_ROWS + 1));
        if (rc == MYWIRE_OK)
            rc = mywire_pipeline_add_execute(w->pl, w->ms);
    }
    if (rc != MYWIRE_OK) {
        fail("mywire stmt pipeline: building the batch: %s: %s", mywire_errstr(rc),
             mywire_errmsg(w->mc));
        return -1;
    }
    if ((rc = mywire_pipeline_run(w->mc, w->pl)) != MYWIRE_OK) {
        fail("mywire_pipeline_run: %s: %s", mywire_errstr(rc), mywire_errmsg(w->mc));
        return -1;
    }
    if (mywire_pipeline_size(w->pl) != n) {
        fail("mywire stmt pipeline: %zu steps, expected %llu", mywire_pipeline_size(w->pl),
             (unsigned long long)n);
        return -1;
    }
    for (uint64_t k = 0; k < n; k++) {
        uint64_t q = w->units + k;
        const char *what = NULL;
        mywire_result *res = NULL;
        int code = mywire_pipeline_step_code(w->pl, k);
        if (code != MYWIRE_OK)
            what = mywire_pipeline_step_errmsg(w->pl, k);
        else if (!mywire_pipeline_step_ran(w->pl, k) ||
                 mywire_pipeline_result_count(w->pl, k) != 1)
            what = "not one result";
        else if ((rc = mywire_pipeline_take_result(w->pl, k, 0, &res)) != MYWIRE_OK)
            what = mywire_errstr(rc);
        else if ((rc = mywire_fetch(res)) != MYWIRE_ROW)
            what = rc == MYWIRE_DONE ? "no row" : mywire_errmsg(w->mc);
        else {
            const char *c = NULL;
            size_t len = 0;
            if (mywire_get_bytes(res, 0, &c, &len) != MYWIRE_OK)
                what = "not bytes";
            w->checksum += touch(c, len);
            if (!what && !point_value_ok(q, c, len))
                what = "wrong value";
            else if (!what && (rc = mywire_fetch(res)) != MYWIRE_DONE)
                what = rc == MYWIRE_ROW ? "more than one row" : mywire_errmsg(w->mc);
        }
        mywire_result_free(res);
        if (what) {
            fail("mywire pipelined execute %llu (id %llu): %s%s%s", (unsigned long long)q,
                 (unsigned long long)(q % POINT_TABLE_ROWS + 1),
                 code != MYWIRE_OK ? mywire_errstr(code) : "", code != MYWIRE_OK ? ": " : "", what);
            return -1;
        }
    }
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}

/* stmt-point, libmariadb: the bound id set, mysql_stmt_execute,
 * mysql_stmt_fetch into the bound string, then MYSQL_NO_DATA. */
static int my_stmt_point_step(struct worker *w, uint64_t want, uint64_t *done)
{
    struct my_point_bind *pb = w->pb;
    uint64_t n = 0;
    for (; n < want && w->units + n < w->job->count; n++) {
        uint64_t q = w->units + n;
        pb->id = (int64_t)(q % POINT_TABLE_ROWS + 1);
        int fetched = -1, right = 0;
        int ok = mysql_stmt_execute(w->mst) == 0 && (fetched = mysql_stmt_fetch(w->mst)) == 0;
        if (ok) {
            w->checksum += touch(pb->c, pb->len);
            right = !pb->is_null && point_value_ok(q, pb->c, pb->len);
            ok = (fetched = mysql_stmt_fetch(w->mst)) == MYSQL_NO_DATA; /* exactly one row */
        }
        if (!ok || !right) {
            fail("libmariadb prepared point select (id %lld): %s",
                 (long long)pb->id,
                 mysql_stmt_errno(w->mst)          ? mysql_stmt_error(w->mst)
                 : fetched == MYSQL_DATA_TRUNCATED ? "data truncated"
                 : !ok                             ? "not exactly one row"
                                                   : "wrong value");
            return -1;
        }
    }
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}

/* stmt-bulk: one block is one transaction of up to BULK_BATCH rows, the ids
 * following each other from 1. mywire row by row: bind + execute per row. */
static int mw_row_by_row_step(struct worker *w, uint64_t want, uint64_t *done)
{
    uint64_t n = w->job->count - w->units < want ? w->job->count - w->units : want;
    if (mw_exec(w->mc, "START TRANSACTION") != 0)
        return -1;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t id = w->units + k + 1;
        unsigned t = bulk_text(id);
        mywire_result *res = NULL;
        int rc = mywire_stmt_bind_int64(w->ms, 0, (int64_t)id);
        if (rc == MYWIRE_OK)
            rc = mywire_stmt_bind_int64(w->ms, 1, bulk_a(id));
        if (rc == MYWIRE_OK)
            rc = mywire_stmt_bind_double(w->ms, 2, bulk_b(id));
        if (rc == MYWIRE_OK)
            rc = mywire_stmt_bind_string(w->ms, 3, bench_bulk_text[t], bench_bulk_text_len[t]);
        if (rc == MYWIRE_OK)
            rc = mywire_stmt_execute(w->ms, MYWIRE_BUFFERED, &res);
        uint64_t affected = rc == MYWIRE_OK ? mywire_affected_rows(res) : 0;
        mywire_result_free(res);
        if (rc != MYWIRE_OK || affected != 1) {
            fail("mywire row-by-row insert of id %llu: %s: %s", (unsigned long long)id,
                 rc != MYWIRE_OK ? mywire_errstr(rc) : "not one row affected",
                 rc != MYWIRE_OK ? mywire_errmsg(w->mc) : "");
            return -1;
        }
        w->checksum += bulk_row_sum(id);
    }
    if (mw_exec(w->mc, "COMMIT") != 0)
        return -1;
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}

#ifdef MYWIRE_HAVE_BATCH
/* mywire bulk: bind + mywire_stmt_add_batch per row, one
 * mywire_stmt_execute_batch (COM_STMT_BULK_EXECUTE) for the block. */
static int mw_bulk_step(struct worker *w, uint64_t want, uint64_t *done)
{
    uint64_t n = w->job->count - w->units < want ? w->job->count - w->units : want;
    if (mw_exec(w->mc, "START TRANSACTION") != 0)
        return -1;
    int rc = MYWIRE_OK;
    uint64_t sum = 0;
    for (uint64_t k = 0; rc == MYWIRE_OK && k < n; k++) {
        uint64_t id = w->units + k + 1;
        unsigned t = bulk_text(id);
        rc = mywire_stmt_bind_int64(w->ms, 0, (int64_t)id);
        if (rc == MYWIRE_OK)
            rc = mywire_stmt_bind_int64(w->ms, 1, bulk_a(id));
        if (rc == MYWIRE_OK)
            rc = mywire_stmt_bind_double(w->ms, 2, bulk_b(id));
        if (rc == MYWIRE_OK)
            rc = mywire_stmt_bind_string(w->ms, 3, bench_bulk_text[t], bench_bulk_text_len[t]);
        if (rc == MYWIRE_OK)
            rc = mywire_stmt_add_batch(w->ms);
        sum += bulk_row_sum(id);
    }
    mywire_result *res = NULL;
    if (rc == MYWIRE_OK)
        rc = mywire_stmt_execute_batch(w->ms, &res);
    uint64_t affected = rc == MYWIRE_OK ? mywire_affected_rows(res) : 0;
    mywire_result_free(res);
    if (rc == MYWIRE_OK)
        rc = mywire_stmt_clear_batch(w->ms);
    if (rc != MYWIRE_OK || affected != n) {
        fail("mywire bulk insert of ids %llu..%llu: %s: %s", (unsigned long long)w->units + 1,
             (unsigned long long)(w->units + n),
             rc != MYWIRE_OK ? mywire_errstr(rc) : "not every row affected",
             rc != MYWIRE_OK ? mywire_errmsg(w->mc) : "");
        return -1;
    }
    if (mw_exec(w->mc, "COMMIT") != 0)
        return -1;
    w->checksum += sum;
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}
#endif

/* mywire column arrays: the block's rows written into the arrays as for
 * libmariadb, the four bound (mywire_stmt_bind_array), one
 * mywire_stmt_execute_array (COM_STMT_BULK_EXECUTE). */
static int mw_array_step(struct worker *w, uint64_t want, uint64_t *done)
{
    struct mw_bulk_arrays *ba = w->mba;
    uint64_t n = w->job->count - w->units < want ? w->job->count - w->units : want;
    if (mw_exec(w->mc, "START TRANSACTION") != 0)
        return -1;
    uint64_t sum = FILL_BULK_ARRAYS(ba, w->units, n);
    mywire_result *res = NULL;
    int rc = mywire_stmt_bind_array(w->ms, 0, MYWIRE_ARRAY_INT64, ba->id, 0, NULL, NULL);
    if (rc == MYWIRE_OK)
        rc = mywire_stmt_bind_array(w->ms, 1, MYWIRE_ARRAY_INT64, ba->a, 0, NULL, NULL);
    if (rc == MYWIRE_OK)
        rc = mywire_stmt_bind_array(w->ms, 2, MYWIRE_ARRAY_DOUBLE, ba->b, 0, NULL, NULL);
    if (rc == MYWIRE_OK)
        rc = mywire_stmt_bind_array(w->ms, 3, MYWIRE_ARRAY_STRING, ba->c, 0, ba->c_len, NULL);
    if (rc == MYWIRE_OK)
        rc = mywire_stmt_execute_array(w->ms, n, &res);
    uint64_t affected = rc == MYWIRE_OK ? mywire_affected_rows(res) : 0;
    mywire_result_free(res);
    if (rc != MYWIRE_OK || affected != n) {
        fail("mywire array insert of ids %llu..%llu: %s: %s", (unsigned long long)w->units + 1,
             (unsigned long long)(w->units + n),
             rc != MYWIRE_OK ? mywire_errstr(rc) : "not every row affected",
             rc != MYWIRE_OK ? mywire_errmsg(w->mc) : "");
        return -1;
    }
    if (mw_exec(w->mc, "COMMIT") != 0)
        return -1;
    w->checksum += sum;
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}

/* libmariadb bulk: the block's rows written into the column arrays,
 * STMT_ATTR_ARRAY_SIZE, mysql_stmt_bind_param, one mysql_stmt_execute
 * (COM_STMT_BULK_EXECUTE). */
static int my_bulk_step(struct worker *w, uint64_t want, uint64_t *done)
{
    struct my_bulk_arrays *ba = w->ba;
    uint64_t n = w->job->count - w->units < want ? w->job->count - w->units : want;
    if (my_exec(w->m, "START TRANSACTION") != 0)
        return -1;
    uint64_t sum = FILL_BULK_ARRAYS(ba, w->units, n);
    unsigned int size = (unsigned int)n;
    if (mysql_stmt_attr_set(w->mst, STMT_ATTR_ARRAY_SIZE, &size) != 0 ||
        mysql_stmt_bind_param(w->mst, ba->bind) != 0 || mysql_stmt_execute(w->mst) != 0) {
        fail("libmariadb bulk insert of ids %llu..%llu: %s", (unsigned long long)w->units + 1,
             (unsigned long long)(w->units + n), mysql_stmt_error(w->mst));
        return -1;
    }
    if (mysql_stmt_affected_rows(w->mst) != n) {
        fail("libmariadb bulk insert: %llu rows affected, expected %llu",
             (unsigned long long)mysql_stmt_affected_rows(w->mst), (unsigned long long)n);
        return -1;
    }
    if (my_exec(w->m, "COMMIT") != 0)
        return -1;
    w->checksum += sum;
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}

/* Untimed, after a stmt-bulk repetition: every participant's table holds
 * exactly its rows (count and SUM(id + a + LENGTH(c)) as it sent them). */
static int bulk_verify(const struct job *job, const struct worker *w, const int *ran)
{
    MYSQL *m = my_open(job->ep);
    if (!m)
        return -1;
    int rc = 0;
    for (unsigned c = 0; rc == 0 && c < 4; c++) {
        if (!ran[c])
            continue;
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT COUNT(*), SUM(id + a + LENGTH(c)) FROM bench_bulk_%u", c);
        MYSQL_RES *res = NULL;
        MYSQL_ROW row = NULL;
        rc = -1;
        if (mysql_query(m, sql) == 0 && (res = mysql_store_result(m)) &&
            (row = mysql_fetch_row(res)) && row[0] && row[1]) {
            unsigned long long count = strtoull(row[0], NULL, 10), sum = strtoull(row[1], NULL, 10);
            if (count == job->count && sum == w[c].checksum)
                rc = 0;
            else
                fail("stmt-bulk: %s's table has %llu rows (sum %llu), it inserted %llu (sum %llu)",
                     participant(job, (enum client)c), count, sum,
                     (unsigned long long)job->count, (unsigned long long)w[c].checksum);
        } else {
            fail("stmt-bulk: %s: %s", sql, mysql_error(m));
        }
        if (res)
            mysql_free_result(res);
    }
    mysql_close(m);
    return rc;
}

static int worker_step(struct worker *w, uint64_t want, uint64_t *done)
{
    switch (w->job->workload) {
    case W_STREAM:
    case W_TLS_STREAM:
    case W_ZLIB_STREAM:
        if (w->client == FLOOR)
            return floor_step(w, want, done);
        return w->client == MYWIRE ? mw_stream_step(w, want, done) : my_stream_step(w, want, done);
    case W_POINT:
        return w->client == MYWIRE ? mw_point_step(w, want, done) : my_point_step(w, want, done);
    case W_PIPELINE: /* libmariadb: one by one, as in point */
        if (w->client == FLOOR)
            return pfloor_step(w, want, done);
        return w->client == MYWIRE ? mw_pipeline_step(w, want, done) : my_point_step(w, want, done);
    case W_CONNECT:
    case W_TLS_CONNECT:
        return connect_step(w, want, done);
    case W_STMT_STREAM:
        return w->client == MYWIRE ? mw_stmt_stream_step(w, want, done)
                                   : my_stmt_stream_step(w, want, done);
    case W_STMT_POINT:
        return w->client == MYWIRE ? mw_stmt_point_step(w, want, done)
                                   : my_stmt_point_step(w, want, done);
    case W_STMT_PIPELINE: /* libmariadb: its mysql_stmt_execute loop, as in stmt-point */
        return w->client == MYWIRE ? mw_stmt_pipeline_step(w, want, done)
                                   : my_stmt_point_step(w, want, done);
    case W_STMT_BULK:
        if (w->client == ROW_BY_ROW)
            return mw_row_by_row_step(w, want, done);
        if (w->client == MARIADB)
            return my_bulk_step(w, want, done);
        if (w->client == MYWIRE)
            return mw_array_step(w, want, done);
#ifdef MYWIRE_HAVE_BATCH
        return mw_bulk_step(w, want, done);
#else
        return -1; /* not run: see run_interleaved */
#endif
    default:
        return -1;
    }
}

static int series_add(struct series *s, double cpu, double wall)
{
    if (s->n == s->cap) {
        unsigned cap = s->cap ? s->cap * 2 : 256;
        double *c = realloc(s->cpu, cap * sizeof *c);
        if (!c)
            return -1;
        s->cpu = c;
        double *w = realloc(s->wall, cap * sizeof *w);
        if (!w)
            return -1;
        s->wall = w;
        s->cap = cap;
    }
    s->cpu[s->n] = cpu;
    s->wall[s->n] = wall;
    s->n++;
    return 0;
}

/* Whether mywire has the batch API (mywire_stmt_add_batch, ...) that
 * stmt-bulk's mywire side needs: tests/bench/meson.build defines
 * MYWIRE_HAVE_BATCH when mywire.h declares it. */
#ifdef MYWIRE_HAVE_BATCH
#define HAVE_BATCH 1
#else
#define HAVE_BATCH 0
#endif

/* The clients take turns, a block each, in the order A B B A A B ... (with a
 * third participant, the floor or mywire row by row: A B C C B A A B C ...;
 * stmt-bulk's four: A B C D D C B A ...).
 * A block that produced no unit (the end of a stream) is added to the one
 * before it. */
static int run_interleaved(const struct config *cfg, const struct job *job, uint64_t block,
                           struct line *out)
{
    /* pipeline's third: the floor of point selects */
    unsigned nclients = job->workload == W_STMT_BULK                   ? 4
                        : job->workload == W_STREAM && job->ep->replay ? 3
                        : job->workload == W_PIPELINE                  ? 3
                                                                       : 2;
    for (unsigned rep = 0; rep < cfg->reps; rep++) {
        struct worker w[4];
        int ran[4] = {0, 0, 0, 0};
        memset(w, 0, sizeof w);
        int rc = 0;
        for (unsigned c = 0; c < nclients; c++) {
            w[c].client = (enum client)c;
            w[c].job = job;
            w[c].fd = -1;
            if ((cfg->only_client >= 0 && (int)c != cfg->only_client) ||
                (job->workload == W_STMT_BULK && c == BATCH && !HAVE_BATCH)) {
                w[c].finished = 1; /* not run */
                w[c].units = job->count;
                continue;
            }
            ran[c] = 1;
            if (rc == 0)
                rc = worker_begin(&w[c]);
        }
        for (unsigned turn = 0; rc == 0; turn++) {
            unsigned round = turn / nclients, place = turn % nclients;
            enum client c = (enum client)(round % 2 ? nclients - 1 - place : place);
            int all_finished = 1;
            for (unsigned k = 0; k < nclients; k++)
                all_finished &= w[k].finished;
            if (all_finished)
                break;
            if (w[c].finished)
                continue;
            uint64_t done = 0;
            double s0 = server_cpu_now();
            double c0 = cpu_now(), w0 = wall_now();
            rc = worker_step(&w[c], block, &done);
            double cpu = cpu_now() - c0, wall = wall_now() - w0;
            if (rc != 0)
                break;
            if (c < 2 && !job->ep->replay) {
                out->srv_cpu[c] += server_cpu_now() - s0;
                out->srv_units[c] += done;
            }
            /* Point selects: a new connection for every block (untimed). On a
             * shared VM one connection can run 10x slower than another for
             * seconds (where the scheduler put its server thread); a fresh
             * draw per block keeps that from deciding a whole median. */
            if (rc == 0 &&
                (job->workload == W_POINT || job->workload == W_PIPELINE ||
                 job->workload == W_STMT_POINT || job->workload == W_STMT_PIPELINE) &&
                !w[c].finished) {
                worker_end(&w[c]);
                rc = worker_begin(&w[c]);
            }
            struct series *s = &out->s[c];
            if (done > 0) {
                w[c].units += done;
                rc = series_add(s, cpu / (double)done, wall / (double)done);
                if (cfg->verbose)
                    fprintf(stderr, "    %-10s cpu %9.3f us/%s  wall %9.3f us/%s\n",
                            participant(job, c), cpu / (double)done * 1e6, out->unit,
                            wall / (double)done * 1e6, out->unit);
            } else if (s->n > 0) {
                s->cpu[s->n - 1] += cpu / (double)block;
                s->wall[s->n - 1] += wall / (double)block;
            }
        }
        for (unsigned c = 0; c < nclients; c++)
            worker_end(&w[c]);
        settle(job->ep);
        if (rc != 0)
            return -1;
        for (unsigned c = 0; c < nclients; c++) {
            if (w[c].units != job->count) {
                fail("%s %s: %llu %ss, expected %llu", participant(job, (enum client)c),
                     out->label, (unsigned long long)w[c].units, out->unit,
                     (unsigned long long)job->count);
                return -1;
            }
        }
        if (job->workload == W_STMT_BULK && bulk_verify(job, w, ran) != 0)
            return -1;
        /* The floor has no checksum; mywire row by row must agree too. */
        unsigned compared = job->workload == W_STMT_BULK ? nclients : 2;
        for (unsigned c = 0; c < compared; c++) {
            unsigned ref = ran[MARIADB] ? MARIADB : MYWIRE;
            if (ran[c] && ran[ref] && w[c].checksum != w[ref].checksum) {
                fail("%s: %s and %s read or wrote different values (sums %llu and %llu)",
                     out->label, participant(job, (enum client)c),
                     participant(job, (enum client)ref), (unsigned long long)w[c].checksum,
                     (unsigned long long)w[ref].checksum);
                return -1;
            }
        }
        fputc('.', stderr);
    }
    return 0;
}

/* -------------------------------------------------------------- floor */

/* The floor under any client, run with stream against the replay server: the
 * same query's bytes read with bare recv() into a 1 MiB buffer, with no
 * parsing at all. What it costs per row is moving the bytes into the process;
 * a client library can only add to it.
 *
 * Not parsing, the floor cannot count rows: once per process, untimed, it
 * reads the answer walking the packet headers (floor_calibrate), checks that
 * it has the rows the clients get and keeps its size. Timed, a block of R rows
 * is then the recv() of R / rows of those bytes, and the stream ends at the
 * last byte, which must end an EOF packet (the last 9 bytes are kept). */

#define FLOOR_BUF (1024 * 1024)
static uint64_t floor_total_bytes; /* of the replay server's answer; 0: not known yet */

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int read_full(int fd, unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = recv(fd, p, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads one packet of at most 1 KiB (the greeting, the OK), returns its first byte. */
static int read_small_packet(int fd)
{
    unsigned char h[4], body[1024];
    if (read_full(fd, h, 4) != 0)
        return -1;
    size_t len = h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
    if (len == 0 || len > sizeof body || read_full(fd, body, len) != 0)
        return -1;
    return body[0];
}

/* The COM_QUERY packet of sql: header (sequence id 0) and payload. */
static size_t query_packet(unsigned char *out, const char *sql, size_t len)
{
    out[0] = (unsigned char)(len + 1);
    out[1] = (unsigned char)((len + 1) >> 8);
    out[2] = (unsigned char)((len + 1) >> 16);
    out[3] = 0;
    out[4] = 3; /* COM_QUERY */
    memcpy(out + 5, sql, len);
    return len + 5;
}

static int floor_send_query(struct worker *w)
{
    const char *sql = w->job->sql;
    size_t sql_len = strlen(sql);
    unsigned char query[256];
    if (sql_len + 5 > sizeof query)
        return -1;
    if (write_all(w->fd, query, query_packet(query, sql, sql_len)) != 0) {
        fail("floor: sending the query failed");
        return -1;
    }
    return 0;
}

/* Untimed, once: the answer's size, its rows counted from the packet headers. */
static int floor_calibrate(struct worker *w)
{
    if (floor_send_query(w) != 0)
        return -1;
    uint64_t bytes = 0, rows = 0, left = 0, plen = 0;
    unsigned hdr_have = 0, eofs = 0, first = 0;
    int need_first = 0, finished = 0;
    unsigned char hdr[4];
    size_t pos = 0, len = 0;
    while (!finished) {
        if (pos == len) {
            ssize_t n = recv(w->fd, w->buf, FLOOR_BUF, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                fail("floor: the replay server closed the connection");
                return -1;
            }
            pos = 0;
            len = (size_t)n;
            bytes += (uint64_t)n;
        }
        if (hdr_have < 4) {
            hdr[hdr_have++] = w->buf[pos++];
            if (hdr_have < 4)
                continue;
            plen = left = hdr[0] | (uint64_t)hdr[1] << 8 | (uint64_t)hdr[2] << 16;
            need_first = 1;
            first = 0;
            if (left > 0)
                continue;
        } else {
            if (need_first) {
                first = w->buf[pos];
                need_first = 0;
            }
            size_t k = len - pos < left ? len - pos : (size_t)left;
            pos += k;
            left -= k;
            if (left > 0)
                continue;
        }
        /* A whole packet: two EOFs bracket the rows. */
        hdr_have = 0;
        if (first == 0xFE && plen < 9)
            finished = ++eofs == 2;
        else if (eofs == 1)
            rows++;
    }
    if (pos != len || rows != w->job->count) {
        fail("floor: the replay server sent %llu rows%s, expected %llu (start it with --rows)",
             (unsigned long long)rows, pos != len ? " and more" : "",
             (unsigned long long)w->job->count);
        return -1;
    }
    floor_total_bytes = bytes;
    return 0;
}

/* Untimed: connect and log in (and calibrate, the first time). */
static int floor_begin(struct worker *w)
{
    const struct endpoint *ep = w->job->ep;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(ep->socket) >= sizeof sa.sun_path) {
        fail("floor: socket path too long");
        return -1;
    }
    strcpy(sa.sun_path, ep->socket);
    w->buf = malloc(FLOOR_BUF);
    w->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (!w->buf || w->fd < 0 || connect(w->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fail("floor: connect %s: %s", ep->socket, strerror(errno));
        return -1;
    }
    /* The replay server takes any handshake response. This one is a
     * well-formed protocol-41 response for user "bench" without a password. */
    static const unsigned char login_payload[] = {
        0x00, 0x82, 0x00, 0x00, /* PROTOCOL_41 | SECURE_CONNECTION */
        0, 0, 0, 1,             /* max packet 16 MiB */
        45,                     /* utf8mb4_general_ci */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* filler */
        'b', 'e', 'n', 'c', 'h', 0, /* user */
        0,                          /* no auth data */
    };
    unsigned char login[4 + sizeof login_payload] = {sizeof login_payload, 0, 0, 1};
    memcpy(login + 4, login_payload, sizeof login_payload);
    if (read_small_packet(w->fd) != 0x0a || write_all(w->fd, login, sizeof login) != 0 ||
        read_small_packet(w->fd) != 0x00) {
        fail("floor: login to the replay server failed");
        return -1;
    }
    if (floor_total_bytes == 0 && floor_calibrate(w) != 0)
        return -1;
    return 0;
}

static int floor_step(struct worker *w, uint64_t want, uint64_t *done)
{
    if (!w->started) {
        if (floor_send_query(w) != 0)
            return -1;
        w->started = 1;
        w->len = 0; /* bytes received so far */
    }
    const uint64_t total = floor_total_bytes, count = w->job->count;
    uint64_t rows_to = w->units + want > count ? count : w->units + want;
    /* The bytes of rows_to rows, rounded up. */
    uint64_t target = (rows_to * total + count - 1) / count;
    uint64_t got = w->len;
    while (got < target) {
        ssize_t n = recv(w->fd, w->buf, FLOOR_BUF, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fail("floor: the replay server closed the connection");
            return -1;
        }
        got += (uint64_t)n;
        /* The last 9 bytes of the stream (of this or earlier receives). */
        size_t keep = (size_t)n < 9 ? (size_t)n : 9;
        memmove(w->hdr_tail, w->hdr_tail + keep, 9 - keep);
        memcpy(w->hdr_tail + 9 - keep, w->buf + n - keep, keep);
    }
    w->len = (size_t)got;
    if (got > total) {
        fail("floor: %llu bytes, more than the %llu of the answer",
             (unsigned long long)got, (unsigned long long)total);
        return -1;
    }
    uint64_t rows_now = got == total ? count : got * count / total;
    *done = rows_now - w->units;
    if (got == total) {
        static const unsigned char eof_head[5] = {5, 0, 0};
        if (memcmp(w->hdr_tail, eof_head, 3) != 0 || w->hdr_tail[4] != 0xFE) {
            fail("floor: the answer does not end with an EOF packet");
            return -1;
        }
        w->finished = 1;
    }
    return 0;
}

/* ------------------------------------------------ floor of point selects */

/* The floor of nb-point and pipeline: the same point selects on the real
 * MariaDB with no client library in the timed part. Each floor connection is
 * opened by mywire (untimed, blocking, as mw_open does: over the unix socket,
 * so neither TLS nor compression, which is checked), and then the floor does
 * its own I/O on mywire_socket(): the exact COM_QUERY packet (sequence id 0)
 * by send(), the response by recv(), of which it walks only the packet
 * headers and the first byte of each payload to find where the response ends
 * (pwalk): no value is parsed. mywire gets the connection back in step and
 * only closes it.
 *
 * A 1-row text result is the column count, the column definitions (their
 * payload starting with 0x03, "def"), without CLIENT_DEPRECATE_EOF an EOF
 * packet, the rows (a lenenc string first: < 0xFB), and the terminator: an
 * EOF, or with CLIENT_DEPRECATE_EOF (mywire asks for it) an OK packet with the
 * 0xFE header -- both 0xFE with a payload shorter than 9 bytes. An error
 * packet (0xFF) also ends a response (and fails the run), an OK (0x00) as the
 * first packet too. Which of the two framings the server uses is learnt once
 * per process, untimed (pfloor_calibrate), and the response checked there
 * against the value it must hold and against the server's own count of the
 * bytes it sent; anything else (a sequence id out of turn, a packet of a kind
 * out of place, bytes after the last response expected) fails the run. */

struct pwalk {
    unsigned char hdr[4];
    unsigned hdr_have; /* header bytes of the next packet seen */
    uint32_t left;     /* payload bytes of the current packet still to come */
    int ending;        /* the current packet ends a response */
    unsigned char seq; /* the sequence id the next packet must have */
    unsigned phase, ncols, defs, terms;
    unsigned eofs; /* terminators per result set: 2 without CLIENT_DEPRECATE_EOF, 1 with; 0: learn */
    uint64_t responses, rows, errors;
};
enum { PW_HEAD, PW_DEFS, PW_ROWS };
static unsigned pfloor_eofs; /* the framing learnt by pfloor_calibrate; 0: not yet */

static void pwalk_init(struct pwalk *fw)
{
    memset(fw, 0, sizeof *fw);
    fw->seq = 1; /* the response to a command sent with sequence id 0 */
    fw->eofs = pfloor_eofs;
}

/* One packet, from its first byte: 1 if it ends the response, 0 if not, -1
 * if it is not what a point select's response has there. */
static int pwalk_packet(struct pwalk *fw, unsigned first, uint32_t plen)
{
    switch (fw->phase) {
    case PW_HEAD:
        if (first == 0xFF || first == 0x00) {
            fw->errors += first == 0xFF;
            return 1;
        }
        if (first >= 0xFB) /* a column count of more than 1 byte: not a point select */
            return -1;
        fw->ncols = first;
        fw->defs = 0;
        fw->phase = PW_DEFS;
        return 0;
    case PW_DEFS:
        if (first != 0x03)
            return -1;
        if (++fw->defs == fw->ncols) {
            fw->phase = PW_ROWS;
            fw->terms = 0;
        }
        return 0;
    default:
        if (first == 0xFF) {
            fw->errors++;
            fw->phase = PW_HEAD;
            return 1;
        }
        int term = first == 0xFE && plen < 9;
        if (fw->eofs == 0) /* learning: the packet after the definitions tells */
            fw->eofs = term ? 2 : 1;
        if (term) {
            if (++fw->terms < fw->eofs)
                return 0; /* the EOF after the column definitions */
            fw->phase = PW_HEAD;
            return 1;
        }
        if (first >= 0xFB || fw->terms + 1 != fw->eofs)
            return -1; /* a NULL, or a row before the definitions' EOF */
        fw->rows++;
        return 0;
    }
}

/* Walks n received bytes; returns the responses they completed, or -1 when
 * the framing is not a point select's or bytes follow the max-th response. */
static int pwalk_feed(struct pwalk *fw, const unsigned char *p, size_t n, unsigned max)
{
    size_t pos = 0;
    unsigned done = 0;
    for (;;) {
        if (fw->left > 0) {
            if (pos == n)
                break;
            size_t k = n - pos < fw->left ? n - pos : fw->left;
            pos += k;
            fw->left -= (uint32_t)k;
            if (fw->left > 0)
                break;
        }
        if (fw->ending) {
            fw->ending = 0;
            fw->seq = 1;
            done++;
        }
        if (pos == n)
            break;
        if (fw->hdr_have == 0 && done == max)
            return -1;
        unsigned first;
        if (fw->hdr_have == 0 && n - pos >= 5) {
            memcpy(fw->hdr, p + pos, 4);
            first = p[pos + 4];
            pos += 5;
        } else {
            while (fw->hdr_have < 4 && pos < n)
                fw->hdr[fw->hdr_have++] = p[pos++];
            if (pos == n)
                break; /* the header, or the payload's first byte, in the next receive */
            first = p[pos++];
        }
        fw->hdr_have = 0;
        uint32_t plen = fw->hdr[0] | (uint32_t)fw->hdr[1] << 8 | (uint32_t)fw->hdr[2] << 16;
        if (fw->hdr[3] != fw->seq++ || plen == 0 || plen == 0xFFFFFF)
            return -1; /* out of turn, empty, or continued: not a point select's */
        fw->left = plen - 1;
        if ((fw->ending = pwalk_packet(fw, first, plen)) < 0)
            return -1;
    }
    fw->responses += done;
    return (int)done;
}

/* The point select's packet fits in this (the queries are char[64]). */
#define PFLOOR_PACKET 72

/* Untimed: the server's count of the bytes it sent on this connection (as of
 * before this statement's own answer). */
static int mw_bytes_sent(mywire_conn *mc, uint64_t *out)
{
    static const char sql[] = "SHOW SESSION STATUS LIKE 'Bytes_sent'";
    mywire_result *res = NULL;
    const char *v = NULL;
    size_t len = 0;
    char digits[32];
    int rc = mywire_query(mc, sql, sizeof sql - 1, MYWIRE_BUFFERED, &res);
    if (rc == MYWIRE_OK && (rc = mywire_fetch(res)) == MYWIRE_ROW) {
        v = mywire_get(res, 1, &len);
        rc = mywire_fetch(res);
    }
    mywire_result_free(res);
    if (rc != MYWIRE_DONE || !v || len == 0 || len >= sizeof digits) {
        fail("floor: %s: %s", sql, rc != MYWIRE_DONE ? mywire_errmsg(mc) : "no value");
        return -1;
    }
    memcpy(digits, v, len);
    digits[len] = '\0';
    *out = strtoull(digits, NULL, 10);
    return 0;
}

static uint64_t decimal_digits(uint64_t v)
{
    uint64_t d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/* Untimed, once per process: one point select through the floor's own I/O,
 * the framing learnt (pfloor_eofs), the row's value checked and the bytes the
 * walk took compared with what the server counts as sent (Bytes_sent before
 * and after, the size of the SHOW's own answer measured by one more SHOW). */
static int pfloor_calibrate(const struct job *job, mywire_conn *mc, int fd)
{
    uint64_t b0, b1, b2;
    if (mw_bytes_sent(mc, &b0) != 0 || mw_bytes_sent(mc, &b1) != 0)
        return -1;
    /* The SHOW's answer is a fixed size plus the value's digits. */
    uint64_t show_base = b1 - b0 - decimal_digits(b0);
    const char *sql = job->point_sql[0];
    unsigned char pkt[PFLOOR_PACKET], buf[4096];
    size_t plen = query_packet(pkt, sql, strlen(sql)), got = 0;
    if (write_all(fd, pkt, plen) != 0) {
        fail("floor: sending the query failed");
        return -1;
    }
    struct pwalk fw;
    pwalk_init(&fw);
    fw.eofs = 0; /* learn */
    int r = 0;
    while (r == 0) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10000) != 1) {
            fail("floor: no (complete) answer to %s in 10 s", sql);
            return -1;
        }
        ssize_t k = recv(fd, buf + got, sizeof buf - got, MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (k <= 0 || (r = pwalk_feed(&fw, buf + got, (size_t)k, 1)) < 0) {
            fail("floor: %s", k <= 0 ? "the server closed the connection"
                                     : "the answer is not framed as a point select's");
            return -1;
        }
        got += (size_t)k;
        if (r == 0 && got == sizeof buf) {
            fail("floor: the answer to %s is larger than %zu bytes", sql, sizeof buf);
            return -1;
        }
    }
    /* The row: the packet after the count, the definitions and (without
     * DEPRECATE_EOF) their EOF. Its value must be id 1's. */
    unsigned want_index = 1 + fw.ncols + (fw.eofs == 2), index = 0;
    const unsigned char *row = NULL;
    size_t row_len = 0;
    for (size_t pos = 0; pos + 4 <= got; index++) {
        size_t len = buf[pos] | (size_t)buf[pos + 1] << 8 | (size_t)buf[pos + 2] << 16;
        if (index == want_index) {
            row = buf + pos + 4;
            row_len = len;
        }
        pos += 4 + len;
    }
    if (mw_bytes_sent(mc, &b2) != 0)
        return -1;
    uint64_t server_bytes = b2 - b1 - (show_base + decimal_digits(b1));
    if (fw.responses != 1 || fw.errors != 0 || fw.rows != 1 || fw.ncols != 1 || !row ||
        row_len < 1 || row[0] + 1u != row_len ||
        !point_value_ok(0, (const char *)row + 1, row[0]) || server_bytes != got) {
        fail("floor: the answer to %s: %llu responses, %llu errors, %llu rows, %u columns, "
             "%zu bytes (the server counts %llu): not a point select's as expected",
             sql, (unsigned long long)fw.responses, (unsigned long long)fw.errors,
             (unsigned long long)fw.rows, fw.ncols, got, (unsigned long long)server_bytes);
        return -1;
    }
    pfloor_eofs = fw.eofs;
    return 0;
}

/* Untimed: a floor connection, opened by mywire; *fd is its socket
 * (non-blocking, as mywire leaves it), which stays mywire's to close. */
static int pfloor_open(const struct job *job, mywire_conn **mc, int *fd)
{
    if (!(*mc = mw_open(job->ep)))
        return -1;
    *fd = mywire_socket(*mc);
    if (*fd < 0 || mywire_tls_active(*mc) || strcmp(mywire_compression(*mc), "none") != 0) {
        fail("floor: mywire's connection to %s is %s: the floor cannot read it", job->ep->label,
             *fd < 0 ? "without a socket" : mywire_tls_active(*mc) ? "TLS" : "compressed");
        return -1;
    }
    if (pfloor_eofs == 0 && pfloor_calibrate(job, *mc, *fd) != 0)
        return -1;
    return 0;
}

/* pipeline's floor, untimed: the connection, its socket made blocking (as
 * the stream floor's), the receive buffer. */
static int pfloor_begin(struct worker *w)
{
    w->buf = malloc(FLOOR_BUF);
    if (!w->buf || pfloor_open(w->job, &w->mc, &w->fd) != 0)
        return -1;
    int flags = fcntl(w->fd, F_GETFL);
    if (flags < 0 || fcntl(w->fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        fail("floor: fcntl: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* pipeline's floor: one batch of `want` selects (at most PIPELINE_BATCH), their
 * COM_QUERY packets in one send(), then recv() into 1 MiB until as many
 * responses have ended, each exactly one row. */
static int pfloor_step(struct worker *w, uint64_t want, uint64_t *done)
{
    unsigned char out[PIPELINE_BATCH * PFLOOR_PACKET];
    uint64_t n = want;
    if (n > w->job->count - w->units)
        n = w->job->count - w->units;
    if (n > PIPELINE_BATCH)
        n = PIPELINE_BATCH;
    size_t len = 0;
    for (uint64_t k = 0; k < n; k++) {
        const char *sql = w->job->point_sql[(w->units + k) % POINT_TABLE_ROWS];
        len += query_packet(out + len, sql, strlen(sql));
    }
    if (write_all(w->fd, out, len) != 0) {
        fail("floor: sending the batch failed");
        return -1;
    }
    struct pwalk fw;
    pwalk_init(&fw);
    for (uint64_t ended = 0; ended < n;) {
        ssize_t k = recv(w->fd, w->buf, FLOOR_BUF, 0);
        if (k < 0 && errno == EINTR)
            continue;
        int r = k > 0 ? pwalk_feed(&fw, w->buf, (size_t)k, (unsigned)(n - ended)) : 0;
        if (k <= 0 || r < 0) {
            fail("floor: %s", k <= 0 ? "the server closed the connection"
                                     : "the answers are not framed as point selects'");
            return -1;
        }
        ended += (uint64_t)r;
    }
    if (fw.errors != 0 || fw.rows != n) {
        fail("floor: %llu point selects: %llu errors, %llu rows", (unsigned long long)n,
             (unsigned long long)fw.errors, (unsigned long long)fw.rows);
        return -1;
    }
    *done = n;
    w->finished = w->units + n == w->job->count;
    return 0;
}

/* ----------------------------------------------------------- buffered */

struct buffered_sample {
    int ok;
    uint64_t rows, checksum;
    double cpu, wall;
    long peak_kb;
    long long held;
};

static int mw_buffered(const struct job *job, struct buffered_sample *s)
{
    mywire_conn *conn = mw_open(job->ep);
    if (!conn)
        return -1;
    struct mem_probe mem;
    mem_begin(&mem);

    double c0 = cpu_now(), w0 = wall_now();
    mywire_result *res = NULL;
    int rc = mywire_query(conn, job->sql, strlen(job->sql), MYWIRE_BUFFERED, &res);
    if (rc != MYWIRE_OK) {
        fail("mywire_query: %s: %s", mywire_errstr(rc), mywire_errmsg(conn));
        mywire_conn_free(conn);
        return -1;
    }
    unsigned ncols = mywire_column_count(res);
    uint64_t sum = ncols, rows = 0;
    while ((rc = mywire_fetch(res)) == MYWIRE_ROW) {
        const mywire_value *v = mywire_row(res);
        for (unsigned i = 0; i < ncols; i++)
            sum += touch(v[i].data, v[i].len);
        rows++;
    }
    double c1 = cpu_now(), w1 = wall_now();
    mem_end(&mem, &s->peak_kb, &s->held); /* before the free: the result is still there */
    double c2 = cpu_now(), w2 = wall_now();
    mywire_result_free(res);
    double c3 = cpu_now(), w3 = wall_now();

    if (rc != MYWIRE_DONE) {
        fail("mywire_fetch after %llu rows: %s: %s", (unsigned long long)rows, mywire_errstr(rc),
             mywire_errmsg(conn));
        mywire_conn_free(conn);
        return -1;
    }
    mywire_conn_free(conn);
    s->rows = rows;
    s->checksum = sum;
    s->cpu = (c1 - c0) + (c3 - c2);
    s->wall = (w1 - w0) + (w3 - w2);
    return 0;
}

static int my_buffered(const struct job *job, struct buffered_sample *s)
{
    MYSQL *m = my_open(job->ep);
    if (!m)
        return -1;
    struct mem_probe mem;
    mem_begin(&mem);

    double c0 = cpu_now(), w0 = wall_now();
    MYSQL_RES *res = NULL;
    if (mysql_real_query(m, job->sql, strlen(job->sql)) != 0 ||
        !(res = mysql_store_result(m))) {
        fail("libmariadb query: %s", mysql_error(m));
        mysql_close(m);
        return -1;
    }
    unsigned ncols = mysql_num_fields(res);
    uint64_t sum = ncols, rows = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *len = mysql_fetch_lengths(res);
        for (unsigned i = 0; i < ncols; i++)
            sum += touch(row[i], len[i]);
        rows++;
    }
    double c1 = cpu_now(), w1 = wall_now();
    mem_end(&mem, &s->peak_kb, &s->held);
    double c2 = cpu_now(), w2 = wall_now();
    mysql_free_result(res);
    double c3 = cpu_now(), w3 = wall_now();

    mysql_close(m);
    s->rows = rows;
    s->checksum = sum;
    s->cpu = (c1 - c0) + (c3 - c2);
    s->wall = (w1 - w0) + (w3 - w2);
    return 0;
}

/* One buffered run in a fresh child, so that the heaps of runs do not mix. */
static int run_forked(enum client client, const struct job *job, struct buffered_sample *s)
{
    int fds[2];
    if (pipe(fds) != 0) {
        fail("pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fail("fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        struct buffered_sample out;
        memset(&out, 0, sizeof out);
        out.ok = (client == MYWIRE ? mw_buffered(job, &out) : my_buffered(job, &out)) == 0;
        ssize_t n = write(fds[1], &out, sizeof out);
        fflush(stderr);
        _exit(n == (ssize_t)sizeof out ? 0 : 1);
    }
    close(fds[1]);
    memset(s, 0, sizeof *s);
    size_t got = 0;
    while (got < sizeof *s) {
        ssize_t n = read(fds[0], (char *)s + got, sizeof *s - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got != sizeof *s || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fail("%s buffered: the child died (wait status 0x%x)", client_name[client], status);
        return -1;
    }
    return s->ok ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v. */
static double median(double *v, unsigned n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run_buffered(const struct config *cfg, const struct job *job, struct line *out)
{
    double peak[2][64], held[2][64];
    uint64_t checksum = 0;
    int have_sum = 0;
    for (unsigned rep = 0; rep < cfg->reps; rep++) {
        for (unsigned k = 0; k < 2; k++) {
            enum client c = (enum client)((rep % 2) ? 1 - k : k);
            if (cfg->only_client >= 0 && (int)c != cfg->only_client)
                continue;
            struct buffered_sample s;
            int rc = run_forked(c, job, &s);
            settle(job->ep);
            if (rc != 0)
                return -1;
            if (s.rows != job->count) {
                fail("%s %s: %llu rows, expected %llu", client_name[c], out->label,
                     (unsigned long long)s.rows, (unsigned long long)job->count);
                return -1;
            }
            if (have_sum && s.checksum != checksum) {
                fail("%s: the clients read different values (sums %llu and %llu)", out->label,
                     (unsigned long long)s.checksum, (unsigned long long)checksum);
                return -1;
            }
            checksum = s.checksum;
            have_sum = 1;
            if (series_add(&out->s[c], s.cpu / (double)s.rows, s.wall / (double)s.rows) != 0)
                return -1;
            peak[c][rep] = s.peak_kb / 1024.0;
            held[c][rep] = (double)s.held / (1024.0 * 1024.0);
            if (s.peak_kb < 0)
                out->peak_known = 0;
            if (cfg->verbose)
                fprintf(stderr, "    %-10s cpu %9.3f us/row  wall %9.3f us/row  peak %ld kB\n",
                        client_name[c], s.cpu / (double)s.rows * 1e6,
                        s.wall / (double)s.rows * 1e6, s.peak_kb);
        }
        fputc('.', stderr);
    }
    for (unsigned c = 0; c < 2; c++) {
        out->s[c].peak_mib = median(peak[c], cfg->reps);
        out->s[c].held_mib = median(held[c], cfg->reps);
    }
    return 0;
}

/* ------------------------------------------------------- what was measured */

/* The server's own view of one connection: TLS version, cipher, compression. */
static const char server_view_sql[] =
    "SELECT (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
    " WHERE VARIABLE_NAME = 'Ssl_version'),"
    " (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
    " WHERE VARIABLE_NAME = 'Ssl_cipher'),"
    " (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
    " WHERE VARIABLE_NAME = 'Compression')";

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" or "no TLS", then ", zlib" when compressed. */
static void format_view(char *out, size_t size, const char *version, const char *cipher,
                        const char *compression)
{
    int compressed = compression && strcmp(compression, "ON") == 0;
    if (version && *version)
        snprintf(out, size, "%s %s%s", version, cipher ? cipher : "?", compressed ? ", zlib" : "");
    else
        snprintf(out, size, "no TLS%s", compressed ? ", zlib" : "");
}

static int mw_view(const struct endpoint *ep, char *out, size_t size)
{
    mywire_conn *conn = mw_open(ep);
    if (!conn)
        return -1;
    mywire_result *res = NULL;
    int rc = mywire_query(conn, server_view_sql, strlen(server_view_sql), MYWIRE_BUFFERED, &res);
    if (rc == MYWIRE_OK && (rc = mywire_fetch(res)) == MYWIRE_ROW)
        format_view(out, size, mywire_get(res, 0, NULL), mywire_get(res, 1, NULL),
                    mywire_get(res, 2, NULL));
    else
        fail("mywire: %s: %s", server_view_sql, mywire_errmsg(conn));
    mywire_result_free(res);
    mywire_conn_free(conn);
    return rc == MYWIRE_ROW ? 0 : -1;
}

static int my_view(const struct endpoint *ep, char *out, size_t size)
{
    MYSQL *m = my_open(ep);
    if (!m)
        return -1;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row = NULL;
    int ok = mysql_query(m, server_view_sql) == 0 && (res = mysql_store_result(m)) != NULL &&
             (row = mysql_fetch_row(res)) != NULL;
    if (ok)
        format_view(out, size, row[0], row[1], row[2]);
    else
        fail("libmariadb: %s: %s", server_view_sql, mysql_error(m));
    if (res)
        mysql_free_result(res);
    mysql_close(m);
    return ok ? 0 : -1;
}

/* Checks, untimed, that both clients get what the endpoint asks for (TLS,
 * compression) and the same of it, and notes it for the report. */
static int check_transport(const struct endpoint *ep, struct line *l)
{
    char a[96], b[96];
    if (mw_view(ep, a, sizeof a) != 0 || my_view(ep, b, sizeof b) != 0)
        return -1;
    int tls_a = strncmp(a, "TLS", 3) == 0, tls_b = strncmp(b, "TLS", 3) == 0;
    int zlib_a = strstr(a, "zlib") != NULL, zlib_b = strstr(b, "zlib") != NULL;
    if (tls_a != ep->tls || tls_b != ep->tls || zlib_a != ep->zlib || zlib_b != ep->zlib) {
        fail("%s: the server reports mywire: %s, libmariadb: %s; wanted %s%s", l->label, a, b,
             ep->tls ? "TLS" : "no TLS", ep->zlib ? " and zlib" : "");
        return -1;
    }
    if (strcmp(a, b) != 0) {
        fail("%s: the clients negotiated differently (mywire: %s, libmariadb: %s)", l->label, a, b);
        return -1;
    }
    snprintf(l->note, sizeof l->note, "%s%s", a,
             !ep->tls ? "" : ep->ca ? ", both verify chain and name" : ", neither verifies");
    return 0;
}

/* ------------------------------------------- non-blocking, many connections */

/* nb-point: one thread drives nb_conns connections per client through the
 * non-blocking API, each running its point selects one after the other. The
 * clients and the floor take turns in blocks (every connection runs NB_BLOCK
 * selects), A B C C B A ...; each block is one sample. All keep their
 * connections open for the whole repetition. The floor (see "floor of point
 * selects") runs through the same poll() loop: per connection one send() of
 * the COM_QUERY packet, then recv() (into 1 MiB) whenever poll() says
 * readable, until the walk of the packet headers sees the response end. */
#define NB_BLOCK 100

struct nbconn {
    mywire_conn *mc;
    mywire_result *mr;
    MYSQL *m;
    MYSQL_RES *r;
    int status;     /* mywire: the last result code; libmariadb: the wait bits */
    int storing;    /* libmariadb: in mysql_store_result_*, not in the query */
    int myerr;      /* libmariadb: mysql_real_query's result */
    unsigned left;  /* selects still to run in this block */
    unsigned next;  /* index of the next query */
    uint64_t checksum;
    /* FLOOR: mywire's socket (status: MYWIRE_WAIT_READ or _WRITE), the
     * response's framing, the COM_QUERY packet being sent */
    int fd;
    struct pwalk walk;
    unsigned char out[PFLOOR_PACKET];
    size_t out_len, out_sent;
};

struct nbside {
    enum client client;
    const struct job *job;
    struct nbconn *conns;
    unsigned n;
    uint64_t queries, checksum;
    unsigned char *buf;                /* FLOOR: the receive buffer (FLOOR_BUF) */
    uint64_t responses, rows, errors; /* FLOOR: what the walks saw */
};

static const char *nb_sql(struct nbconn *c, const struct job *job, size_t *len)
{
    const char *sql = job->point_sql[c->next++ % POINT_TABLE_ROWS];
    *len = strlen(sql);
    return sql;
}

/* mywire: after the query returned c->status, go on until a call must wait.
 * Returns 1 while waiting, 0 when its block is done, -1 on error. */
static int nb_mw_advance(struct nbconn *c, const struct job *job)
{
    while (c->status != MYWIRE_WAIT_READ && c->status != MYWIRE_WAIT_WRITE) {
        int rc = c->status;
        int got_row = 0;
        if (rc == MYWIRE_OK && (rc = mywire_fetch(c->mr)) == MYWIRE_ROW) {
            size_t len = 0;
            const char *v = mywire_get(c->mr, 0, &len);
            c->checksum += touch(v, len);
            got_row = point_value_ok(c->next - 1, v, len) ? 1 : -1;
            rc = mywire_fetch(c->mr);
        }
        mywire_result_free(c->mr);
        c->mr = NULL;
        if (rc != MYWIRE_DONE || got_row != 1) {
            fail("mywire nb point select: %s: %s",
                 rc != MYWIRE_DONE ? mywire_errstr(rc)
                 : got_row      ? "wrong value"
                                : "not exactly one row",
                 rc != MYWIRE_DONE ? mywire_errmsg(c->mc) : job->point_sql[(c->next - 1) % POINT_TABLE_ROWS]);
            return -1;
        }
        if (--c->left == 0)
            return 0;
        size_t len;
        const char *sql = nb_sql(c, job, &len);
        c->status = mywire_query(c->mc, sql, len, MYWIRE_BUFFERED, &c->mr);
    }
    return 1;
}

/* libmariadb: the same, c->status being the wait bits of the call in progress. */
static int nb_my_advance(struct nbconn *c, const struct job *job)
{
    while (c->status == 0) {
        if (!c->storing) {
            if (c->myerr != 0) {
                fail("libmariadb nb point select: %s", mysql_error(c->m));
                return -1;
            }
            c->storing = 1;
            c->status = mysql_store_result_start(&c->r, c->m);
            continue;
        }
        MYSQL_ROW row = NULL;
        int ok = c->r != NULL && (row = mysql_fetch_row(c->r)) != NULL, right = 0;
        if (ok) {
            unsigned long *len = mysql_fetch_lengths(c->r);
            c->checksum += touch(row[0], len[0]);
            right = point_value_ok(c->next - 1, row[0], len[0]);
            ok = mysql_fetch_row(c->r) == NULL;
        }
        if (c->r)
            mysql_free_result(c->r); /* a stored result: no network */
        c->r = NULL;
        if (!ok || !right) {
            fail("libmariadb nb point select: %s",
                 mysql_errno(c->m) ? mysql_error(c->m)
                 : !ok             ? "not exactly one row"
                                   : "wrong value");
            return -1;
        }
        if (--c->left == 0)
            return 0;
        size_t len;
        const char *sql = nb_sql(c, job, &len);
        c->storing = 0;
        c->status = mysql_real_query_start(&c->myerr, c->m, sql, (unsigned long)len);
    }
    return 1;
}

/* The floor: sends (the rest of) c->out. Returns 1 (waiting), or -1. */
static int nb_floor_send(struct nbconn *c)
{
    while (c->out_sent < c->out_len) {
        ssize_t k = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->status = MYWIRE_WAIT_WRITE;
            return 1;
        }
        if (k <= 0) {
            fail("floor nb point select: send: %s", strerror(errno));
            return -1;
        }
        c->out_sent += (size_t)k;
    }
    c->status = MYWIRE_WAIT_READ;
    return 1;
}

static int nb_floor_query(struct nbconn *c, const struct job *job)
{
    size_t len;
    const char *sql = nb_sql(c, job, &len);
    c->out_len = query_packet(c->out, sql, len);
    c->out_sent = 0;
    return nb_floor_send(c);
}

/* The floor, when poll() said ready: the rest of the packet out, or one
 * recv() walked; at the response's end, the next query. */
static int nb_floor_resume(struct nbside *side, struct nbconn *c)
{
    if (c->status == MYWIRE_WAIT_WRITE)
        return nb_floor_send(c);
    ssize_t k = recv(c->fd, side->buf, FLOOR_BUF, MSG_DONTWAIT);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 1;
    int r = k > 0 ? pwalk_feed(&c->walk, side->buf, (size_t)k, 1) : 0;
    if (k <= 0 || r < 0) {
        fail("floor nb point select: %s",
             k < 0    ? strerror(errno)
             : k == 0 ? "the server closed the connection"
                      : "the answer is not framed as a point select's");
        return -1;
    }
    if (r == 0)
        return 1;
    if (--c->left == 0)
        return 0;
    return nb_floor_query(c, side->job);
}

static int nb_start(struct nbside *side, struct nbconn *c)
{
    if (side->client == FLOOR)
        return nb_floor_query(c, side->job);
    size_t len;
    const char *sql = nb_sql(c, side->job, &len);
    if (side->client == MYWIRE) {
        c->status = mywire_query(c->mc, sql, len, MYWIRE_BUFFERED, &c->mr);
        return nb_mw_advance(c, side->job);
    }
    c->storing = 0;
    c->status = mysql_real_query_start(&c->myerr, c->m, sql, (unsigned long)len);
    return nb_my_advance(c, side->job);
}

static int nb_resume(struct nbside *side, struct nbconn *c, short revents)
{
    if (side->client == FLOOR)
        return nb_floor_resume(side, c);
    if (side->client == MYWIRE) {
        c->status = mywire_query(c->mc, NULL, 0, 0, &c->mr); /* the same call again */
        return nb_mw_advance(c, side->job);
    }
    int ready = (revents & (POLLIN | POLLHUP | POLLERR) ? MYSQL_WAIT_READ : 0) |
                (revents & (POLLOUT | POLLERR) ? MYSQL_WAIT_WRITE : 0) |
                (revents & POLLPRI ? MYSQL_WAIT_EXCEPT : 0);
    c->status = c->storing ? mysql_store_result_cont(&c->r, c->m, ready)
                           : mysql_real_query_cont(&c->myerr, c->m, ready);
    return nb_my_advance(c, side->job);
}

/* One block: every connection runs `per_conn` selects; all from this thread. */
static int nb_block(struct nbside *side, unsigned per_conn, struct pollfd *p, unsigned *idx)
{
    unsigned active = 0;
    for (unsigned i = 0; i < side->n; i++) {
        struct nbconn *c = &side->conns[i];
        c->left = per_conn;
        int rc = nb_start(side, c);
        if (rc < 0)
            return -1;
        if (rc > 0)
            idx[active++] = i;
    }
    while (active > 0) {
        for (unsigned k = 0; k < active; k++) {
            struct nbconn *c = &side->conns[idx[k]];
            if (side->client == MYWIRE || side->client == FLOOR) {
                p[k].fd = side->client == FLOOR ? c->fd : mywire_socket(c->mc);
                p[k].events = c->status == MYWIRE_WAIT_WRITE ? POLLOUT : POLLIN;
            } else {
                if (c->status & MYSQL_WAIT_TIMEOUT) {
                    fail("libmariadb asks for a timeout, none was set");
                    return -1;
                }
                p[k].fd = (int)mysql_get_socket(c->m);
                p[k].events = (short)((c->status & MYSQL_WAIT_READ ? POLLIN : 0) |
                                      (c->status & MYSQL_WAIT_WRITE ? POLLOUT : 0) |
                                      (c->status & MYSQL_WAIT_EXCEPT ? POLLPRI : 0));
            }
            p[k].revents = 0;
        }
        int n = poll(p, active, 30000);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fail("nb-point: poll: %s", n == 0 ? "no progress for 30 s" : strerror(errno));
            return -1;
        }
        unsigned still = 0;
        for (unsigned k = 0; k < active; k++) {
            unsigned i = idx[k];
            int rc = 1;
            if (p[k].revents)
                rc = nb_resume(side, &side->conns[i], p[k].revents);
            if (rc < 0)
                return -1;
            if (rc > 0)
                idx[still++] = i;
        }
        active = still;
    }
    side->queries += (uint64_t)per_conn * side->n;
    return 0;
}

static void nb_close(struct nbside *side)
{
    for (unsigned i = 0; side->conns && i < side->n; i++) {
        struct nbconn *c = &side->conns[i];
        mywire_result_free(c->mr);
        mywire_conn_free(c->mc);
        if (c->r)
            mysql_free_result(c->r);
        if (c->m)
            mysql_close(c->m);
        side->checksum += c->checksum;
        side->responses += c->walk.responses;
        side->rows += c->walk.rows;
        side->errors += c->walk.errors;
    }
    free(side->conns);
    side->conns = NULL;
    free(side->buf);
    side->buf = NULL;
}

/* Untimed: the connections, connected blocking, then made non-blocking (the
 * floor's: mywire's, whose sockets are non-blocking already). */
static int nb_open(struct nbside *side, const struct config *cfg)
{
    side->n = cfg->nb_conns;
    side->conns = calloc(side->n, sizeof *side->conns);
    if (!side->conns)
        return -1;
    if (side->client == FLOOR && !(side->buf = malloc(FLOOR_BUF)))
        return -1;
    for (unsigned i = 0; i < side->n; i++) {
        struct nbconn *c = &side->conns[i];
        c->next = i * 37; /* the connections do not all read the same rows */
        c->fd = -1;
        if (side->client == FLOOR) {
            if (pfloor_open(side->job, &c->mc, &c->fd) != 0)
                return -1;
            pwalk_init(&c->walk);
        } else if (side->client == MYWIRE) {
            if (!(c->mc = mw_open(side->job->ep)))
                return -1;
            int rc = mywire_set_nonblocking(c->mc, 1);
            if (rc != MYWIRE_OK) {
                fail("mywire_set_nonblocking: %s", mywire_errstr(rc));
                return -1;
            }
        } else if (!(c->m = my_open_opt(side->job->ep, 1))) {
            return -1;
        }
    }
    return 0;
}

static int run_nb_point(const struct config *cfg, const struct job *job, struct line *out)
{
    struct pollfd *p = calloc(cfg->nb_conns, sizeof *p);
    unsigned *idx = calloc(cfg->nb_conns, sizeof *idx);
    int rc = (p && idx) ? 0 : -1;
    /* mywire, libmariadb and the floor (not with --client) */
    const unsigned nclients = 3;
    for (unsigned rep = 0; rc == 0 && rep < cfg->reps; rep++) {
        struct nbside side[3];
        memset(side, 0, sizeof side);
        for (unsigned c = 0; c < nclients; c++) {
            side[c].client = (enum client)c;
            side[c].job = job;
            if (rc == 0 && (cfg->only_client < 0 || (int)c == cfg->only_client))
                rc = nb_open(&side[c], cfg);
        }
        unsigned blocks = (cfg->nb_queries + NB_BLOCK - 1) / NB_BLOCK;
        for (unsigned b = 0; rc == 0 && b < nclients * blocks; b++) {
            unsigned round = b / nclients, place = b % nclients;
            enum client c = (enum client)(round % 2 ? nclients - 1 - place : place);
            if (!side[c].conns)
                continue;
            unsigned done_per_conn = (unsigned)(side[c].queries / cfg->nb_conns);
            unsigned per = cfg->nb_queries - done_per_conn < NB_BLOCK
                               ? cfg->nb_queries - done_per_conn
                               : NB_BLOCK;
            double s0 = server_cpu_now();
            double c0 = cpu_now(), w0 = wall_now();
            rc = nb_block(&side[c], per, p, idx);
            double cpu = cpu_now() - c0, wall = wall_now() - w0;
            if (rc != 0)
                break;
            double q = (double)per * cfg->nb_conns;
            if (c < 2) {
                out->srv_cpu[c] += server_cpu_now() - s0;
                out->srv_units[c] += (uint64_t)per * cfg->nb_conns;
            }
            rc = series_add(&out->s[c], cpu / q, wall / q);
            if (cfg->verbose)
                fprintf(stderr, "    %-10s cpu %9.3f us/op  wall %9.3f us/op\n", client_name[c],
                        cpu / q * 1e6, wall / q * 1e6);
        }
        for (unsigned c = 0; c < nclients; c++)
            nb_close(&side[c]);
        if (rc != 0)
            break;
        uint64_t want = (uint64_t)cfg->nb_conns * cfg->nb_queries;
        for (unsigned c = 0; c < nclients; c++) {
            if ((cfg->only_client < 0 || (int)c == cfg->only_client) && side[c].queries != want) {
                fail("%s %s: %llu selects, expected %llu", client_name[c], out->label,
                     (unsigned long long)side[c].queries, (unsigned long long)want);
                rc = -1;
            }
        }
        /* The floor has no values to sum: its walks must have seen one
         * response of one row per select, and no error. */
        if (rc == 0 && cfg->only_client < 0 &&
            (side[FLOOR].responses != want || side[FLOOR].rows != want || side[FLOOR].errors)) {
            fail("floor %s: %llu responses, %llu rows, %llu errors; expected %llu, %llu, 0",
                 out->label, (unsigned long long)side[FLOOR].responses,
                 (unsigned long long)side[FLOOR].rows, (unsigned long long)side[FLOOR].errors,
                 (unsigned long long)want, (unsigned long long)want);
            rc = -1;
        }
        if (rc == 0 && cfg->only_client < 0 && side[MYWIRE].checksum != side[MARIADB].checksum) {
            fail("%s: the clients read different values (sums %llu and %llu)", out->label,
                 (unsigned long long)side[MYWIRE].checksum,
                 (unsigned long long)side[MARIADB].checksum);
            rc = -1;
        }
        fputc('.', stderr);
    }
    free(p);
    free(idx);
    return rc;
}

/* ------------------------------------------------------------ reporting */

static void measure(const struct config *cfg, const struct job *job, struct line *out)
{
    fprintf(stderr, "  %-34s", out->label);
    if (cfg->verbose)
        fputc('\n', stderr);
    out->peak_known = 1;
    if (job->ep->host && check_transport(job->ep, out) != 0) {
        out->ok = 0;
        fputc('\n', stderr);
        return;
    }
    uint64_t block = job->workload == W_POINT || job->workload == W_STMT_POINT      ? POINT_BLOCK
                     : job->workload == W_STMT_BULK                                 ? BULK_BATCH
                     : job->workload == W_PIPELINE                                  ? PIPELINE_BATCH
                     : job->workload == W_STMT_PIPELINE                             ? STMT_PIPELINE_BATCH
                     : job->workload == W_CONNECT || job->workload == W_TLS_CONNECT ? CONNECT_BLOCK
                     : job->ep->replay                                              ? STREAM_BLOCK
                                                                                    : job->count;
    int rc = job->workload == W_BUFFERED   ? run_buffered(cfg, job, out)
             : job->workload == W_NB_POINT ? run_nb_point(cfg, job, out)
                                           : run_interleaved(cfg, job, block, out);
    out->ok = rc == 0;
    fputc('\n', stderr);
}

static void format_cost(char *buf, size_t size, const struct line *l, double seconds)
{
    snprintf(buf, size, "%.2f %s/%s", seconds * l->scale, l->scale_name, l->unit);
}

/* "0", "0-1", "0,2" or "?": the CPUs this process may run on. */
static void format_affinity(char *buf, size_t size)
{
    cpu_set_t set;
    snprintf(buf, size, "?");
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return;
    size_t used = 0;
    buf[0] = '\0';
    for (int cpu = 0; cpu < CPU_SETSIZE && used + 16 < size; cpu++) {
        if (!CPU_ISSET(cpu, &set) || (cpu > 0 && CPU_ISSET(cpu - 1, &set)))
            continue;
        int last = cpu;
        while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set))
            last++;
        used += (size_t)snprintf(buf + used, size - used, last > cpu ? "%s%d-%d" : "%s%d",
                                 used ? "," : "", cpu, last);
    }
}

static int print_report(const struct config *cfg, struct line *lines, unsigned n)
{
    int missed = 0;
    char cpus[128];
    format_affinity(cpus, sizeof cpus);
    printf("\nmywire %s vs libmariadb %s, %u repetitions, running on CPU %s\n"
           "client CPU (user+sys of this process) per row/op: MEDIAN of the samples\n\n",
           mywire_version(), mysql_get_client_info(), cfg->reps, cpus);
    printf("%-44s %15s %15s %7s %8s %5s\n", "workload", "mywire", "libmariadb", "ratio",
           "target", "");
    double med[MAX_LINES][2], min[MAX_LINES][2], wmed[MAX_LINES][2];
    for (unsigned i = 0; i < n; i++) {
        struct line *l = &lines[i];
        if (!l->ok) {
            printf("%-44s %15s\n", l->label, "FAILED");
            continue;
        }
        for (unsigned c = 0; c < 2; c++) {
            med[i][c] = median(l->s[c].cpu, l->s[c].n);
            min[i][c] = l->s[c].n ? l->s[c].cpu[0] : 0; /* sorted by median() */
            wmed[i][c] = median(l->s[c].wall, l->s[c].n);
        }
        char a[32] = "-", b[32] = "-", t[16];
        if (l->s[MYWIRE].n)
            format_cost(a, sizeof a, l, med[i][MYWIRE]);
        if (l->s[MARIADB].n)
            format_cost(b, sizeof b, l, med[i][MARIADB]);
        snprintf(t, sizeof t, "<= %.2f", l->target);
        if (cfg->only_client >= 0) {
            printf("%-44s %15s %15s\n", l->label, a, b);
            continue;
        }
        if (!l->s[MYWIRE].n || !l->s[MARIADB].n) { /* a participant not run */
            printf("%-44s %15s %15s %7s %8s %5s\n", l->label, a, b, "-", t, "n/a");
            continue;
        }
        double ratio = med[i][MYWIRE] / med[i][MARIADB];
        int met = ratio <= l->target;
        missed |= !met;
        printf("%-44s %15s %15s %7.2f %8s %5s\n", l->label, a, b, ratio, t, met ? "ok" : "MISS");
    }

    if (cfg->only_client >= 0)
        return 0;
    printf("\nfor information: minimum CPU sample, median wall time, samples per client\n");
    printf("%-44s %13s %13s %6s %13s %13s %6s %5s\n", "workload", "mywire min", "mariadb min",
           "ratio", "mywire wall", "mariadb wall", "ratio", "n");
    for (unsigned i = 0; i < n; i++) {
        struct line *l = &lines[i];
        if (!l->ok || !l->s[MYWIRE].n || !l->s[MARIADB].n)
            continue;
        char a[32], b[32], c[32], d[32];
        format_cost(a, sizeof a, l, min[i][MYWIRE]);
        format_cost(b, sizeof b, l, min[i][MARIADB]);
        format_cost(c, sizeof c, l, wmed[i][MYWIRE]);
        format_cost(d, sizeof d, l, wmed[i][MARIADB]);
        printf("%-44s %13s %13s %6.2f %13s %13s %6.2f %5u\n", l->label, a, b,
               min[i][MYWIRE] / min[i][MARIADB], c, d, wmed[i][MYWIRE] / wmed[i][MARIADB],
               l->s[MYWIRE].n);
    }

    for (unsigned i = 0; i < n; i++) {
        struct line *l = &lines[i];
        if (!l->ok || l->wall_target <= 0 || !l->s[MYWIRE].n || !l->s[MARIADB].n)
            continue;
        double q = wmed[i][MARIADB] / wmed[i][MYWIRE];
        int met = q >= 1.0 / l->wall_target;
        missed |= !met;
        printf("throughput of %s (1 / median wall time per op): mywire %.0f/s, libmariadb "
               "%.0f/s: %.2fx (target >= %.2fx) %s\n",
               l->label, 1.0 / wmed[i][MYWIRE], 1.0 / wmed[i][MARIADB], q, 1.0 / l->wall_target,
               met ? "ok" : "MISS");
    }

    for (unsigned i = 0; i < n; i++) {
        const struct line *l = &lines[i], *d = l->direct ? &lines[l->direct - 1] : NULL;
        if (!d || !l->ok || !d->ok || !l->s[MARIADB].n || !d->s[MARIADB].n)
            continue;
        printf("round trip through mywire-bench-delay (%u us each way), as\n"
               "  libmariadb's one-by-one queries see it: %.1f us a query through it, %.1f us\n"
               "  without it, so %.1f us more a round trip\n",
               cfg->delay_us, wmed[i][MARIADB] * 1e6, wmed[l->direct - 1][MARIADB] * 1e6,
               (wmed[i][MARIADB] - wmed[l->direct - 1][MARIADB]) * 1e6);
    }

    for (unsigned i = 0; have_server_clock && i < n; i++) {
        struct line *l = &lines[i];
        if (!l->ok || !l->srv_units[MYWIRE] || !l->srv_units[MARIADB])
            continue;
        double a = l->srv_cpu[MYWIRE] / (double)l->srv_units[MYWIRE];
        double b = l->srv_cpu[MARIADB] / (double)l->srv_units[MARIADB];
        printf("server CPU of %s (mariadbd, all threads, mean over each client's blocks):\n"
               "  for mywire %.2f %s/%s, for libmariadb %.2f %s/%s; with one server CPU\n"
               "  (run.sh pins it) no client gets more than 1 / that (%.0f/s for mywire's)\n",
               l->label, a * l->scale, l->scale_name, l->unit, b * l->scale, l->scale_name,
               l->unit, 1.0 / a);
    }

    for (unsigned i = 0; i < n; i++) {
        struct line *l = &lines[i];
        if (!l->ok || !l->row_by_row || l->s[ROW_BY_ROW].n == 0)
            continue;
        double rc = median(l->s[ROW_BY_ROW].cpu, l->s[ROW_BY_ROW].n);
        double rw = median(l->s[ROW_BY_ROW].wall, l->s[ROW_BY_ROW].n);
        char cost[32], w[32];
        format_cost(cost, sizeof cost, l, rc);
        format_cost(w, sizeof w, l, rw);
        printf("row by row of %s: mywire bind + mywire_stmt_execute per row, the same rows\n"
               "  in transactions of %u, interleaved with the others: median CPU %s, wall %s\n",
               l->label, BULK_BATCH, cost, w);
        static const enum client bulk_clients[] = {MYWIRE, BATCH, MARIADB};
        for (unsigned k = 0; k < 3; k++) {
            enum client c = bulk_clients[k];
            if (!l->s[c].n)
                continue;
            double mc = median(l->s[c].cpu, l->s[c].n), mw = median(l->s[c].wall, l->s[c].n);
            format_cost(cost, sizeof cost, l, mc);
            format_cost(w, sizeof w, l, mw);
            printf("  %s: median CPU %s, wall %s; speed-up over row by row: CPU %.2fx, "
                   "wall %.2fx\n",
                   c == MYWIRE ? "mywire column arrays" : c == BATCH ? "mywire row-wise batch"
                                                                      : "libmariadb bulk",
                   cost, w, rc / mc, rw / mw);
        }
        if (l->s[BATCH].n && l->s[MARIADB].n)
            printf("  mywire row-wise batch / libmariadb bulk: CPU %.2fx, wall %.2fx\n",
                   median(l->s[BATCH].cpu, l->s[BATCH].n) / med[i][MARIADB],
                   median(l->s[BATCH].wall, l->s[BATCH].n) / wmed[i][MARIADB]);
        if (!l->s[BATCH].n)
            printf("  mywire row-wise batch: not built (mywire.h has no mywire_stmt_add_batch;\n"
                   "  once it has, reconfigure the build directory: meson setup --reconfigure)\n");
    }

    for (unsigned i = 0; i < n; i++) {
        struct line *l = &lines[i];
        if (!l->ok || l->row_by_row || l->s[FLOOR].n == 0)
            continue;
        char f[32], m[32], fw[32];
        double fl = median(l->s[FLOOR].cpu, l->s[FLOOR].n);
        double flw = median(l->s[FLOOR].wall, l->s[FLOOR].n);
        format_cost(f, sizeof f, l, fl);
        format_cost(m, sizeof m, l, l->s[FLOOR].cpu[0]); /* sorted by median() */
        format_cost(fw, sizeof fw, l, flw);
        printf("floor of %s:\n  %s,\n"
               "  interleaved with the clients: median %s (wall %s), min %s; above the floor:\n"
               "  mywire +%.2f %s/%s, libmariadb +%.2f %s/%s (%.2fx mywire's);\n"
               "  floor / libmariadb: CPU %.2fx (mywire's target %.2fx), wall %.2fx\n",
               l->label, l->floor_what ? l->floor_what : "no client library", f, fw, m,
               (med[i][MYWIRE] - fl) * l->scale, l->scale_name, l->unit,
               (med[i][MARIADB] - fl) * l->scale, l->scale_name, l->unit,
               (med[i][MARIADB] - fl) / (med[i][MYWIRE] - fl), fl / med[i][MARIADB], l->target,
               flw / wmed[i][MARIADB]);
        if (l->point_floor && pfloor_eofs)
            printf("  framing seen on the wire: a 1-row result ends with %s\n",
                   pfloor_eofs == 1 ? "an OK packet with the 0xFE header (CLIENT_DEPRECATE_EOF)"
                                    : "an EOF packet (no CLIENT_DEPRECATE_EOF), after another");
    }

    for (unsigned i = 0; i < n; i++)
        if (lines[i].ok && lines[i].note[0])
            printf("%s: %s (as the server reports it, the same for both clients)\n",
                   lines[i].label, lines[i].note);

    int any_mem = 0;
    for (unsigned i = 0; i < n; i++)
        any_mem |= lines[i].has_mem && lines[i].ok;
    if (!any_mem)
        return missed;
    printf("\nbuffered memory, median: peak = VmHWM - VmRSS at query start in a fresh forked "
           "child\n(target: mywire <= libmariadb); held = malloc in-use delta after the last "
           "row, before the free\n(mywire maps its large row blocks itself, outside malloc: "
           "its held figure leaves them out)\n");
    printf("%-44s %12s %12s %7s %5s %12s %12s\n", "workload", "mywire peak", "mariadb peak",
           "ratio", "", "mywire held", "mariadb held");
    for (unsigned i = 0; i < n; i++) {
        struct line *l = &lines[i];
        if (!l->ok || !l->has_mem)
            continue;
        char pm[24] = "n/a", pl[24] = "n/a", hm[24], hl[24], ratio[16] = "-";
        const char *verdict = "";
        snprintf(hm, sizeof hm, "%.1f MiB", l->s[MYWIRE].held_mib);
        snprintf(hl, sizeof hl, "%.1f MiB", l->s[MARIADB].held_mib);
        if (l->peak_known) {
            snprintf(pm, sizeof pm, "%.1f MiB", l->s[MYWIRE].peak_mib);
            snprintf(pl, sizeof pl, "%.1f MiB", l->s[MARIADB].peak_mib);
            if (l->s[MARIADB].peak_mib > 0) {
                double q = l->s[MYWIRE].peak_mib / l->s[MARIADB].peak_mib;
                snprintf(ratio, sizeof ratio, "%.2f", q);
                verdict = q <= 1.0 ? "ok" : "MISS";
                missed |= q > 1.0;
            }
        }
        printf("%-44s %12s %12s %7s %5s %12s %12s\n", l->label, pm, pl, ratio, verdict, hm, hl);
    }
    return missed;
}

/* ---------------------------------------------------------------- setup */

static int setup_exec(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) != 0) {
        fail("setup: %s: %s", sql, mysql_error(m));
        return -1;
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (res)
        mysql_free_result(res);
    return 0;
}

/* The tables on the real server, filled server-side from the sequence engine
 * (stmt-bulk's are filled by the clients). */
/* connections: how many the benchmark holds at once; max_connections is
 * raised to that (and a margin) when lower -- nb-point's three participants
 * hold 3 x --nb-conns, more than MariaDB's default of 151. */
static int setup_tables(const struct config *cfg, int points, int rows, int bulk,
                        unsigned connections)
{
    MYSQL *m = my_open(&cfg->real_ep);
    if (!m)
        return -1;
    int rc = 0;
    if (connections) {
        char sql[256];
        snprintf(sql, sizeof sql, "SET GLOBAL max_connections = GREATEST(@@max_connections, %u)",
                 connections + 16);
        rc = setup_exec(m, sql);
    }
    if (points && rc == 0) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO bench_point SELECT seq, CONCAT('point-', seq, '-', MD5(seq)) "
                 "FROM seq_1_to_%d",
                 POINT_TABLE_ROWS);
        rc = setup_exec(m, "DROP TABLE IF EXISTS bench_point") ||
             setup_exec(m, "CREATE TABLE bench_point (id INT NOT NULL PRIMARY KEY, "
                           "c VARCHAR(64) NOT NULL) ENGINE=InnoDB") ||
             setup_exec(m, sql);
    }
    if (rows && rc == 0) {
        fprintf(stderr, "filling bench_rows with %llu rows\n", (unsigned long long)cfg->rows);
        char sql[512];
        snprintf(sql, sizeof sql,
                 "INSERT INTO bench_rows SELECT seq, seq * 7919, seq / 3, "
                 "CONCAT('row-', seq, '-', MD5(seq)), "
                 "TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND, seq / 7 "
                 "FROM seq_1_to_%llu",
                 (unsigned long long)cfg->rows);
        rc = setup_exec(m, "DROP TABLE IF EXISTS bench_rows") ||
             setup_exec(m, "CREATE TABLE bench_rows (id INT NOT NULL PRIMARY KEY, "
                           "a BIGINT NOT NULL, b DOUBLE NOT NULL, c VARCHAR(64) NOT NULL, "
                           "d DATETIME NOT NULL, e DECIMAL(14,2) NOT NULL) ENGINE=InnoDB") ||
             setup_exec(m, sql);
    }
    for (unsigned c = 0; bulk && rc == 0 && c < 4; c++) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS bench_bulk_%u", c);
        rc = setup_exec(m, sql);
        snprintf(sql, sizeof sql,
                 "CREATE TABLE bench_bulk_%u (id INT NOT NULL PRIMARY KEY, a BIGINT NOT NULL, "
                 "b DOUBLE NOT NULL, c VARCHAR(64) NOT NULL) ENGINE=InnoDB", c);
        rc = rc || setup_exec(m, sql);
    }
    mysql_close(m);
    return rc ? -1 : 0;
}

static void drop_tables(const struct config *cfg)
{
    MYSQL *m = my_open(&cfg->real_ep);
    if (!m)
        return;
    setup_exec(m, "DROP TABLE IF EXISTS bench_point, bench_rows, bench_bulk_0, bench_bulk_1, "
                  "bench_bulk_2, bench_bulk_3");
    mysql_close(m);
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fputs("usage: mywire-bench [options]\n"
          "  --rows N            rows for stream/buffered/stmt-stream and stmt-bulk\n"
          "                      (default 1000000); the replay server must have been\n"
          "                      started with the same N\n"
          "  --points N          point selects (and stmt-point executes) per client and\n"
          "                      repetition (default 20000)\n"
          "  --connects N        connects per client and repetition (default 1000)\n"
          "  --nb-conns N        nb-point: connections per client (default 64)\n"
          "  --nb-queries N      nb-point: point selects per connection (default 2000)\n"
          "  --reps N            repetitions (default 7, at most 64)\n"
          "  --only LIST         comma list of stream,buffered,point,connect,\n"
          "                      tls-connect,tls-stream,zlib-stream,nb-point,pipeline,\n"
          "                      stmt-stream,stmt-point,stmt-bulk,stmt-pipeline (default: the\n"
          "                      first 4)\n"
          "  --tls-verify        tls-*: both clients verify the server's certificate\n"
          "                      (chain and name) against $MYWIRE_TEST_CERTS/ca.pem, the\n"
          "                      CA of tests/server/mariadb.sh; default: neither does\n"
          "  --tls-ca FILE       the same against FILE\n"
          "  --delay-socket P    pipeline, stmt-pipeline: run them a second time on\n"
          "                      the MariaDB reached through the socket P of\n"
          "                      mywire-bench-delay (run.sh --delay-us starts it)\n"
          "  --delay-us N        the delay that proxy adds each way (for the label)\n"
          "  --quick             --rows 100000 --points 2000 --connects 200 --nb-queries 200\n"
          "  --replay-socket P   the replay server's socket\n"
          "                      (default $MYWIRE_BENCH_REPLAY_SOCKET)\n"
          "  --no-replay         do not use the replay server\n"
          "  --real              also run stream/buffered against the real MariaDB\n"
          "  --check-targets     exit 3 when a target is missed\n"
          "  --verbose           print every sample\n"
          "  --client NAME       run only mywire or libmariadb (for profiling; no ratios)\n"
          "The real MariaDB (point, connect, --real) comes from MYWIRE_TEST_SOCKET,\n"
          "MYWIRE_TEST_USER, MYWIRE_TEST_PASSWORD and MYWIRE_TEST_DB; the tls-* and\n"
          "zlib-* workloads reach it over TCP at MYWIRE_TEST_HOST and MYWIRE_TEST_PORT\n"
          "(it must offer TLS) and stream --rows rows from a table they fill first.\n",
          f);
}

static int parse_count(const char *opt, const char *text, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = (text && text[0] != '-') ? strtoull(text, &end, 10) : 0;
    if (!text || errno || end == text || !end || *end || v == 0 || v > max) {
        fail("%s wants a number from 1 to %llu", opt, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_only(const char *list, unsigned *mask)
{
    *mask = 0;
    char buf[128];
    if (!list || strlen(list) >= sizeof buf) {
        fail("--only wants a list");
        return -1;
    }
    strcpy(buf, list);
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned i = 0;
        while (i < W_COUNT && strcmp(w, workload_name[i]) != 0)
            i++;
        if (i == W_COUNT) {
            fail("--only: unknown workload '%s'", w);
            return -1;
        }
        *mask |= 1u << i;
    }
    if (*mask == 0) {
        fail("--only wants a list");
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct config *cfg)
{
    /* The options that take a count: name, largest value, where it goes. */
    const struct {
        const char *name;
        uint64_t max;
        unsigned *to;
    } counts[] = {
        {"--points", 100000000, &cfg->points},     {"--connects", 1000000, &cfg->connects},
        {"--nb-conns", 1000, &cfg->nb_conns},      {"--nb-queries", 100000000, &cfg->nb_queries},
        {"--reps", 64, &cfg->reps},                {"--delay-us", 10000000, &cfg->delay_us},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        size_t k = 0;
        while (k < sizeof counts / sizeof counts[0] && strcmp(a, counts[k].name) != 0)
            k++;
        if (k < sizeof counts / sizeof counts[0]) {
            uint64_t v;
            if (parse_count(a, next, counts[k].max, &v))
                return -1;
            *counts[k].to = (unsigned)v;
            i++;
        } else if (strcmp(a, "--rows") == 0) {
            if (parse_count(a, next, 1000000000ull, &cfg->rows))
                return -1;
            i++;
        } else if (strcmp(a, "--only") == 0) {
            if (parse_only(next, &cfg->workloads))
                return -1;
            i++;
        } else if (strcmp(a, "--quick") == 0) {
            cfg->rows = 100000;
            cfg->points = 2000;
            cfg->connects = 200;
            cfg->nb_queries = 200;
        } else if (strcmp(a, "--replay-socket") == 0 && next) {
            cfg->replay_ep.socket = next;
            i++;
        } else if (strcmp(a, "--delay-socket") == 0 && next) {
            cfg->delay_socket = next;
            i++;
        } else if (strcmp(a, "--tls-ca") == 0 && next) {
            cfg->tls_ca = next;
            i++;
        } else if (strcmp(a, "--tls-verify") == 0) {
            cfg->tls_verify = 1;
        } else if (strcmp(a, "--no-replay") == 0) {
            cfg->replay = 0;
        } else if (strcmp(a, "--real") == 0) {
            cfg->real = 1;
        } else if (strcmp(a, "--client") == 0 && next) {
            if (strcmp(next, "mywire") == 0)
                cfg->only_client = MYWIRE;
            else if (strcmp(next, "libmariadb") == 0)
                cfg->only_client = MARIADB;
            else {
                fail("--client wants mywire or libmariadb");
                return -1;
            }
            i++;
        } else if (strcmp(a, "--verbose") == 0) {
            cfg->verbose = 1;
        } else if (strcmp(a, "--check-targets") == 0) {
            cfg->check_targets = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fail("unknown argument '%s'", a);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

static struct line *new_line(struct line *lines, unsigned *n, const char *unit, double target)
{
    struct line *l = &lines[(*n)++];
    memset(l, 0, sizeof *l);
    l->unit = unit;
    l->target = target;
    l->scale = strcmp(unit, "row") == 0 ? 1e9 : 1e6;
    l->scale_name = strcmp(unit, "row") == 0 ? "ns" : "us";
    return l;
}

int main(int argc, char **argv)
{
    struct config cfg = {
        .rows = 1000000,
        .points = 20000,
        .connects = 1000,
        .nb_conns = 64,
        .nb_queries = 2000,
        .reps = 7,
        .workloads = DEFAULT_WORKLOADS,
        .replay = 1,
        .only_client = -1,
        .replay_ep = {"replay", getenv("MYWIRE_BENCH_REPLAY_SOCKET"), "bench", "", NULL, 1},
        .real_ep = {"mariadb", getenv("MYWIRE_TEST_SOCKET"), getenv("MYWIRE_TEST_USER"),
                    getenv("MYWIRE_TEST_PASSWORD"), getenv("MYWIRE_TEST_DB"), 0},
    };
    if (parse_args(argc, argv, &cfg) != 0)
        return 2;
    if (cfg.delay_us && !cfg.delay_socket) {
        fail("--delay-us is the delay of the proxy at --delay-socket (run.sh --delay-us starts one)");
        return 2;
    }
    server_clock_init();
    static char test_ca[4096];
    if (cfg.tls_verify && !cfg.tls_ca) {
        const char *dir = getenv("MYWIRE_TEST_CERTS");
        if (!dir || (size_t)snprintf(test_ca, sizeof test_ca, "%s/ca.pem", dir) >= sizeof test_ca) {
            fail("--tls-verify needs MYWIRE_TEST_CERTS (or use --tls-ca FILE)");
            return 2;
        }
        cfg.tls_ca = test_ca;
    }
    cfg.tls_ep = cfg.real_ep;
    cfg.tls_ep.label = "mariadb+tls";
    cfg.tls_ep.tls = 1;
    cfg.tls_ep.ca = cfg.tls_ca;
    cfg.zlib_ep = cfg.real_ep;
    cfg.zlib_ep.label = "mariadb+zlib";
    cfg.zlib_ep.zlib = 1;
    if (cfg.delay_socket) {
        cfg.delay_ep = cfg.real_ep;
        cfg.delay_ep.socket = cfg.delay_socket;
        snprintf(cfg.delay_label, sizeof cfg.delay_label, "mariadb+%uus", cfg.delay_us);
        cfg.delay_ep.label = cfg.delay_label;
    }
    const char *tcp_host = getenv("MYWIRE_TEST_HOST"), *tcp_port = getenv("MYWIRE_TEST_PORT");
    cfg.tls_ep.host = cfg.zlib_ep.host = tcp_host;
    if (tcp_port) {
        uint64_t port = 0;
        if (parse_count("MYWIRE_TEST_PORT", tcp_port, 65535, &port) != 0)
            return 2;
        cfg.tls_ep.port = cfg.zlib_ep.port = (unsigned)port;
    }

    int want_rows =
        (cfg.workloads & ((1u << W_STREAM) | (1u << W_BUFFERED) | (1u << W_STMT_STREAM))) != 0;
    int want_nb_point = (cfg.workloads >> W_NB_POINT) & 1;
    int want_pipeline = (cfg.workloads >> W_PIPELINE) & 1;
    int want_stmt_point = (cfg.workloads >> W_STMT_POINT) & 1;
    int want_stmt_pipeline = (cfg.workloads >> W_STMT_PIPELINE) & 1;
    int want_bulk = (cfg.workloads >> W_STMT_BULK) & 1;
    int want_point =
        ((cfg.workloads >> W_POINT) & 1) || want_nb_point || want_pipeline || want_stmt_point ||
        want_stmt_pipeline;
    int want_connect = (cfg.workloads >> W_CONNECT) & 1;
    if (want_rows && !cfg.replay && !cfg.real) {
        fail("stream/buffered/stmt-stream need the replay server or --real");
        return 2;
    }
    if (want_rows && cfg.replay && !cfg.replay_ep.socket) {
        fail("stream/buffered/stmt-stream need the replay server: set --replay-socket or "
             "MYWIRE_BENCH_REPLAY_SOCKET (or pass --no-replay --real)");
        return 2;
    }
    int want_tcp = (cfg.workloads & TCP_WORKLOADS) != 0;
    int want_real_rows = (want_rows && cfg.real) || (cfg.workloads & STREAMS_FROM_REAL) != 0;
    int need_real = want_point || want_connect || want_tcp || want_bulk || (want_rows && cfg.real);
    if (need_real && (!cfg.real_ep.socket || !cfg.real_ep.user || !cfg.real_ep.password ||
                      !cfg.real_ep.database)) {
        fail("MYWIRE_TEST_SOCKET, MYWIRE_TEST_USER, MYWIRE_TEST_PASSWORD and MYWIRE_TEST_DB "
             "must be set for point, connect, stmt-point, stmt-bulk, tls-*, zlib-* and --real");
        return 2;
    }
    if (want_tcp && (!tcp_host || !tcp_port)) {
        fail("MYWIRE_TEST_HOST and MYWIRE_TEST_PORT must be set for tls-* and zlib-*");
        return 2;
    }
    if (mysql_library_init(0, NULL, NULL) != 0) {
        fail("mysql_library_init failed");
        return 1;
    }
    if (need_real && setup_tables(&cfg, want_point, want_real_rows, want_bulk,
                                  want_nb_point ? 3 * cfg.nb_conns : 0) != 0)
        return 1;

    struct line lines[MAX_LINES];
    unsigned n = 0;
    const struct endpoint *sources[2];
    const char *source_sql[2];
    unsigned nsources = 0;
    if (cfg.replay) {
        sources[nsources] = &cfg.replay_ep;
        source_sql[nsources++] = "SELECT id, a, b, c, d, e FROM t";
    }
    if (cfg.real) {
        sources[nsources] = &cfg.real_ep;
        source_sql[nsources++] = "SELECT id, a, b, c, d, e FROM bench_rows";
    }

    fprintf(stderr, "running (one dot per repetition):\n");
    for (unsigned w = W_STREAM; w <= W_BUFFERED; w++) {
        if (!((cfg.workloads >> w) & 1))
            continue;
        for (unsigned i = 0; i < nsources; i++) {
            struct line *l = new_line(lines, &n, "row", 0.5);
            snprintf(l->label, sizeof l->label, "%s %llu rows (%s)", workload_name[w],
                     (unsigned long long)cfg.rows, sources[i]->label);
            l->has_mem = w == W_BUFFERED;
            l->floor_what = "the same bytes by bare recv() into 1 MiB, no parsing";
            struct job job = {.workload = (enum workload)w, .ep = sources[i],
                              .sql = source_sql[i], .count = cfg.rows};
            measure(&cfg, &job, l);
        }
    }
    if ((cfg.workloads >> W_STMT_STREAM) & 1) {
        for (unsigned i = 0; i < nsources; i++) {
            struct line *l = new_line(lines, &n, "row", 0.5);
            snprintf(l->label, sizeof l->label, "stmt-stream %llu rows (%s)",
                     (unsigned long long)cfg.rows, sources[i]->label);
            struct job job = {.workload = W_STMT_STREAM, .ep = sources[i],
                              .sql = source_sql[i], .count = cfg.rows};
            measure(&cfg, &job, l);
        }
    }
    char point_sql[POINT_TABLE_ROWS][64];
    if (want_point) {
        for (unsigned i = 0; i < POINT_TABLE_ROWS; i++)
            snprintf(point_sql[i], sizeof point_sql[i],
                     "SELECT c FROM bench_point WHERE id = %u", i + 1);
        bench_point_init();
    }
    if ((cfg.workloads >> W_POINT) & 1) {
        struct line *l = new_line(lines, &n, "op", 1.0);
        snprintf(l->label, sizeof l->label, "point select x%u (mariadb)", cfg.points);
        struct job job = {.workload = W_POINT, .ep = &cfg.real_ep, .point_sql = point_sql,
                          .count = cfg.points};
        measure(&cfg, &job, l);
    }
    if (want_stmt_point) {
        struct line *l = new_line(lines, &n, "op", 1.0);
        l->wall_target = 1.0;
        snprintf(l->label, sizeof l->label, "stmt-point x%u (mariadb)", cfg.points);
        struct job job = {.workload = W_STMT_POINT, .ep = &cfg.real_ep, .count = cfg.points};
        measure(&cfg, &job, l);
    }
    /* The pipelines also through the delaying proxy when there is one: a
     * pipeline saves round trips, and over loopback a round trip is cheap. */
    const struct endpoint *pipe_eps[2] = {&cfg.real_ep, &cfg.delay_ep};
    unsigned npipe_eps = cfg.delay_socket ? 2 : 1;
    for (unsigned e = 0; want_stmt_pipeline && e < npipe_eps; e++) {
        struct line *l = new_line(lines, &n, "op", 1.0);
        l->wall_target = 1.0 / 3.0;
        snprintf(l->label, sizeof l->label, "stmt-pipeline x%u by %u (%s)", cfg.points,
                 STMT_PIPELINE_BATCH, pipe_eps[e]->label);
        struct job job = {.workload = W_STMT_PIPELINE, .ep = pipe_eps[e], .count = cfg.points};
        l->direct = e ? (int)(l - lines) : 0; /* the line before is the direct one */
        measure(&cfg, &job, l);
    }
    if (want_bulk) {
        bench_bulk_init();
        struct line *l = new_line(lines, &n, "row", 1.0);
        l->row_by_row = 1;
        snprintf(l->label, sizeof l->label, "stmt-bulk %llu rows by %u (mariadb)",
                 (unsigned long long)cfg.rows, BULK_BATCH);
        struct job job = {.workload = W_STMT_BULK, .ep = &cfg.real_ep, .count = cfg.rows};
        measure(&cfg, &job, l);
    }
    if (want_nb_point) {
        struct line *l = new_line(lines, &n, "op", 0.7);
        l->wall_target = 1.0;
        snprintf(l->label, sizeof l->label, "nb point %ux%u (mariadb)", cfg.nb_conns,
                 cfg.nb_queries);
        l->point_floor = 1;
        l->floor_what = "mywire's sockets driven by the same poll() loop, per select one\n"
                        "  send() of the COM_QUERY packet and recv() into 1 MiB until the\n"
                        "  packet headers show the response's end, no parsing";
        struct job job = {.workload = W_NB_POINT, .ep = &cfg.real_ep, .point_sql = point_sql,
                          .count = (uint64_t)cfg.nb_conns * cfg.nb_queries};
        measure(&cfg, &job, l);
    }
    for (unsigned e = 0; want_pipeline && e < npipe_eps; e++) {
        struct line *l = new_line(lines, &n, "op", 0.5);
        l->wall_target = 1.0 / 3.0;
        snprintf(l->label, sizeof l->label, "pipeline x%u by %u (%s)", cfg.points,
                 PIPELINE_BATCH, pipe_eps[e]->label);
        l->point_floor = 1;
        l->floor_what = "on a socket of mywire's, the COM_QUERY packets of a batch in one\n"
                        "  send(), recv() into 1 MiB until the packet headers show as many\n"
                        "  responses ended, no parsing";
        struct job job = {.workload = W_PIPELINE, .ep = pipe_eps[e], .point_sql = point_sql,
                          .count = cfg.points};
        l->direct = e ? (int)(l - lines) : 0;
        measure(&cfg, &job, l);
    }
    if (want_connect) {
        struct line *l = new_line(lines, &n, "op", 1.0);
        snprintf(l->label, sizeof l->label, "connect+close x%u (mariadb)", cfg.connects);
        struct job job = {.workload = W_CONNECT, .ep = &cfg.real_ep, .count = cfg.connects};
        measure(&cfg, &job, l);
    }
    static const struct {
        enum workload w;
        int zlib;
    } real_streams[] = {{W_TLS_STREAM, 0}, {W_ZLIB_STREAM, 1}};
    for (unsigned i = 0; i < sizeof real_streams / sizeof real_streams[0]; i++) {
        if (!((cfg.workloads >> real_streams[i].w) & 1))
            continue;
        const struct endpoint *ep = real_streams[i].zlib ? &cfg.zlib_ep : &cfg.tls_ep;
        struct line *l = new_line(lines, &n, "row", 1.0);
        snprintf(l->label, sizeof l->label, "stream %llu rows (%s)", (unsigned long long)cfg.rows,
                 ep->label);
        struct job job = {.workload = real_streams[i].w, .ep = ep,
                          .sql = "SELECT id, a, b, c, d, e FROM bench_rows", .count = cfg.rows};
        measure(&cfg, &job, l);
    }
    if ((cfg.workloads >> W_TLS_CONNECT) & 1) {
        struct line *l = new_line(lines, &n, "op", 1.0);
        snprintf(l->label, sizeof l->label, "connect+close x%u (%s)", cfg.connects,
                 cfg.tls_ep.label);
        struct job job = {.workload = W_TLS_CONNECT, .ep = &cfg.tls_ep, .count = cfg.connects};
        measure(&cfg, &job, l);
    }
    if (need_real)
        drop_tables(&cfg);

    int missed = print_report(&cfg, lines, n);
    mysql_library_end();
    int failed = 0;
    for (unsigned i = 0; i < n; i++) {
        failed |= !lines[i].ok;
        for (unsigned c = 0; c < 4; c++) {
            free(lines[i].s[c].cpu);
            free(lines[i].s[c].wall);
        }
    }
    if (failed)
        return 1;
    return (cfg.check_targets && missed) ? 3 : 0;
}
