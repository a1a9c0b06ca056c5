/* mywire-bench-delay: a unix-socket proxy that holds every chunk of bytes
 * for a fixed time in each direction, so that a benchmark can run where a
 * round trip costs what it costs on a network (pipelining exists to hide
 * round trips; over loopback there is almost none to hide).
 *
 *   mywire-bench-delay LISTEN_SOCKET TARGET_SOCKET DELAY_US
 *
 * For every connection accepted on LISTEN_SOCKET it opens one to
 * TARGET_SOCKET. Whatever one side sends is forwarded to the other
 * DELAY_US microseconds after it was read, in order, unchanged; an end of
 * stream is forwarded (shutdown(SHUT_WR)) once the bytes before it are.
 * It prints "ready" on stdout when listening and, on SIGTERM/SIGINT, how
 * many chunks it forwarded and how late the forwarding was on average and
 * at most, on stderr. One thread, ppoll() with nanosecond timeouts (timer
 * slack 1 ns), and for the last SPIN_NS before a chunk is due a loop of
 * zero-timeout looks and sched_yield(): run.sh pins it to the benchmark's CPU,
 * where it must not take the CPU from the client or the server. It runs as a
 * process of its own so that its CPU time is nobody's client CPU.
 * Not a general proxy: no TCP, bounded by MAX_PAIRS connections. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 512
#define CHUNK 65536
#define MAX_QUEUED (8u << 20) /* per direction; reading pauses above it */
#define SPIN_NS 100000u        /* see the ppoll() below */

struct chunk {
    struct chunk *next;
    uint64_t due; /* CLOCK_MONOTONIC ns */
    size_t len, off;
    unsigned char data[];
};

struct dir {
    int from, to;
    struct chunk *head, *tail;
    size_t queued;
    int eof;     /* `from` ended (or failed): nothing more to read */
    int shut;    /* the end was forwarded to `to` */
    int blocked; /* the head is due but `to` would block: wait for POLLOUT */
};

struct pair {
    int fd[2]; /* 0: the client, 1: the target */
    struct dir d[2]; /* d[0]: client -> target, d[1]: target -> client */
    int used;
};

static struct pair pairs[MAX_PAIRS];
static volatile sig_atomic_t stop;
static uint64_t forwarded, late_sum, late_max;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path) {
        fprintf(stderr, "mywire-bench-delay: socket path too long: %s\n", path);
        return -1;
    }
    strcpy(sa->sun_path, path);
    return 0;
}

static void pair_close(struct pair *p)
{
    for (int i = 0; i < 2; i++) {
        close(p->fd[i]);
        struct chunk *c = p->d[i].head;
        while (c) {
            struct chunk *n = c->next;
            free(c);
            c = n;
        }
    }
    memset(p, 0, sizeof *p);
}

static void pair_open(int client, const struct sockaddr_un *target)
{
    struct pair *p = NULL;
    for (int i = 0; i < MAX_PAIRS && !p; i++)
        if (!pairs[i].used)
            p = &pairs[i];
    /* Blocking: a connect to a local unix socket waits only for room in the
     * backlog (a non-blocking one would fail with EAGAIN then). Every send()
     * and recv() below is MSG_DONTWAIT. */
    int t = p ? socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
    if (!p || t < 0 || connect(t, (const struct sockaddr *)target, sizeof *target) != 0) {
        fprintf(stderr, "mywire-bench-delay: %s%s\n",
                p ? "connect to the target: " : "too many connections", p ? strerror(errno) : "");
        if (t >= 0)
            close(t);
        close(client);
        return;
    }
    memset(p, 0, sizeof *p);
    p->used = 1;
    p->fd[0] = client;
    p->fd[1] = t;
    p->d[0].from = client;
    p->d[0].to = t;
    p->d[1].from = t;
    p->d[1].to = client;
}

/* Reads what `d->from` has into a new chunk due `delay` from now. */
static void dir_read(struct dir *d, uint64_t delay)
{
    struct chunk *c = malloc(sizeof *c + CHUNK);
    if (!c) {
        d->eof = 1;
        return;
    }
    ssize_t k = recv(d->from, c->data, CHUNK, MSG_DONTWAIT);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        free(c);
        return;
    }
    if (k <= 0) {
        free(c);
        d->eof = 1;
        return;
    }
    struct chunk *s = realloc(c, sizeof *c + (size_t)k); /* give back the unused tail */
    if (s)
        c = s;
    c->next = NULL;
    c->due = now_ns() + delay;
    c->len = (size_t)k;
    c->off = 0;
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    d->queued += (size_t)k;
}

/* Forwards the chunks that are due. Returns -1 when `to` failed. */
static int dir_write(struct dir *d, uint64_t now)
{
    d->blocked = 0;
    while (d->head && d->head->due <= now) {
        struct chunk *c = d->head;
        ssize_t k = send(d->to, c->data + c->off, c->len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            d->blocked = 1;
            return 0;
        }
        if (k <= 0)
            return -1;
        if (c->off == 0) {
            uint64_t late = now - c->due;
            forwarded++;
            late_sum += late;
            if (late > late_max)
                late_max = late;
        }
        c->off += (size_t)k;
        d->queued -= (size_t)k;
        if (c->off < c->len)
            continue;
        d->head = c->next;
        if (!d->head)
            d->tail = NULL;
        free(c);
    }
    if (d->eof && !d->head && !d->shut) {
        shutdown(d->to, SHUT_WR);
        d->shut = 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: mywire-bench-delay LISTEN_SOCKET TARGET_SOCKET DELAY_US\n");
        return 2;
    }
    char *end = NULL;
    unsigned long us = strtoul(argv[3], &end, 10);
    if (!*argv[3] || *end || us > 10000000) {
        fprintf(stderr, "mywire-bench-delay: DELAY_US must be 0..10000000\n");
        return 2;
    }
    uint64_t delay = (uint64_t)us * 1000u;
    struct sockaddr_un listen_sa, target_sa;
    if (unix_addr(argv[1], &listen_sa) || unix_addr(argv[2], &target_sa))
        return 2;
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    unlink(argv[1]);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&listen_sa, sizeof listen_sa) != 0 ||
        listen(lfd, 256) != 0) {
        fprintf(stderr, "mywire-bench-delay: listen on %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    printf("ready\n");
    fflush(stdout);

    static struct pollfd pfd[1 + 2 * MAX_PAIRS];
    static int owner[1 + 2 * MAX_PAIRS]; /* pfd index -> pair index * 2 + side */
    while (!stop) {
        uint64_t now = now_ns(), next_due = UINT64_MAX;
        unsigned n = 0;
        pfd[n].fd = lfd;
        pfd[n].events = POLLIN;
        owner[n++] = -1;
        for (int i = 0; i < MAX_PAIRS; i++) {
            struct pair *p = &pairs[i];
            if (!p->used)
                continue;
            for (int s = 0; s < 2; s++) {
                struct dir *in = &p->d[s];      /* reads from fd[s] */
                struct dir *out = &p->d[1 - s]; /* writes to fd[s] */
                short ev = 0;
                if (!in->eof && in->queued < MAX_QUEUED)
                    ev |= POLLIN;
                if (out->blocked)
                    ev |= POLLOUT;
                else if (out->head && out->head->due < next_due)
                    next_due = out->head->due;
                /* Nothing to wait for on it (its side ended, nothing blocked
                 * towards it): left out, or its POLLHUP would end every wait. */
                pfd[n].fd = ev ? p->fd[s] : -1;
                pfd[n].events = ev;
                owner[n++] = i * 2 + s;
            }
        }
        struct timespec ts, *tp = NULL;
        if (next_due != UINT64_MAX) {
            uint64_t wait = next_due > now ? next_due - now : 0;
            /* A sleeping ppoll() wakes ~20 us late on this VM (the idle CPU
             * halts): within SPIN_NS of a due time it only looks (a zero
             * timeout) and yields the CPU between looks, so that the client
             * and the server it shares the CPU with run first. */
            if (wait <= SPIN_NS)
                sched_yield();
            wait = wait > SPIN_NS ? wait - SPIN_NS : 0;
            ts.tv_sec = (time_t)(wait / 1000000000u);
            ts.tv_nsec = (long)(wait % 1000000000u);
            tp = &ts;
        }
        int r = ppoll(pfd, n, tp, NULL);
        if (r < 0 && errno != EINTR) {
            perror("mywire-bench-delay: ppoll");
            return 1;
        }
        for (unsigned k = 0; r > 0 && k < n; k++) {
            if (!pfd[k].revents)
                continue;
            if (owner[k] < 0) {
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
                    pair_open(c, &target_sa);
                continue;
            }
            struct pair *p = &pairs[owner[k] / 2];
            int s = owner[k] % 2;
            if ((pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) && !p->d[s].eof)
                dir_read(&p->d[s], delay);
        }
        now = now_ns();
        for (int i = 0; i < MAX_PAIRS; i++) {
            struct pair *p = &pairs[i];
            if (!p->used)
                continue;
            if (dir_write(&p->d[0], now) != 0 || dir_write(&p->d[1], now) != 0 ||
                (p->d[0].shut && p->d[1].shut))
                pair_close(p);
        }
    }
    fprintf(stderr, "mywire-bench-delay: %llu chunks forwarded %lu us after they were read, "
                    "late by %.1f us on average, at most %.1f us\n",
            (unsigned long long)forwarded, us,
            forwarded ? (double)late_sum / (double)forwarded / 1000.0 : 0.0,
            (double)late_max / 1000.0);
    for (int i = 0; i < MAX_PAIRS; i++)
        if (pairs[i].used)
            pair_close(&pairs[i]);
    close(lfd);
    unlink(argv[1]);
    return 0;
}
