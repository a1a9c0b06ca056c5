// Opening a connection without blocking: a host name is resolved with c-ares,
// then each resolved address is connected to in turn, or a unix socket is
// connected to, all within one deadline. The Connector never waits: it says
// which fds to poll and until when, and the caller's loop calls step() again.
//
//     io::Connector c;
//     if (c.start_tcp(host, port, io::Deadline::after_ms(ms), err) != Errc::ok) return err.code;
//     while (c.step(err) == io::Connector::Status::waiting) {
//         io::Wait w[io::Connector::max_waits];
//         int n = std::min(c.wants(w, io::Connector::max_waits), io::Connector::max_waits);
//         ... poll the n fds (w[i].read: POLLIN, w[i].write: POLLOUT) until c.wake_at() ...
//     }
//     // connected: sock.adopt(c.take_fd(), c.is_unix(), err); failed: err says why
//
// connect_blocking() is that loop with poll().
//
// Addresses are tried in the resolver's order (RFC 6724: an address without a
// route to it goes last). With a deadline, an attempt that has not completed
// gets an equal share of the time left (the last one all of it), so an address
// that never answers cannot stop the next from being tried. Attempts are
// sequential, never in parallel: a server counts a connection closed before
// its handshake as a connect error and may block the host after too many.
//
// Errors (err.set): Errc::connect with ClientError::resolve (the name has no
// address), refused, unreachable or other; Errc::timeout with
// ClientError::connect_timeout when the deadline passed while resolving or
// connecting (or the kernel gave up on the address). When every address
// failed, the message names the host and port and lists the failures, most
// telling first (refused, timed out, unreachable, other); the ClientError is
// that of the first.
//
// Threads: a Connector is used by one thread at a time; separate Connectors
// are independent (each has its own c-ares channel, created only when a name
// has to be resolved; c-ares is initialised once per process).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "io/socket.hpp"  // Deadline, Clock

struct ares_channeldata;  // c-ares's channel; ares.h stays out of this header
struct ares_addrinfo;

namespace mywire::io {

// One fd to poll, and for what.
struct Wait {
    int fd = -1;
    bool read = false;
    bool write = false;
};

// Where the resolver looks. The library always uses the defaults (the
// system's /etc/nsswitch.conf, /etc/hosts and /etc/resolv.conf); tests set
// these so that they never depend on the network.
struct ResolverConfig {
    std::string lookups;          // c-ares order: "f" hosts file, "b" DNS ("fb", "f", ...)
    std::string servers;          // DNS servers, "127.0.0.1:5353,[::1]:53"
    bool env_hosts = false;       // read the hosts file named by $CARES_HOSTS
    unsigned try_timeout_ms = 0;  // c-ares's per-try timeout (0: its default)
};

class Connector {
public:
    enum class Status { connected, waiting, failed };
    // The most fds wants() lists: one socket, or c-ares's sockets (at most 16).
    static constexpr int max_waits = 16;

    Connector() = default;
    explicit Connector(ResolverConfig config) : config_(std::move(config)) {}
    Connector(const Connector &) = delete;
    Connector &operator=(const Connector &) = delete;
    ~Connector() { cancel(); }

    // Begin a connection (any earlier one is cancelled). host is a name, an
    // IPv4 or an IPv6 literal (brackets allowed); literals skip the resolver.
    // Only checks the arguments: Errc::argument for an empty host or path, a
    // port out of range or a path too long for sun_path. The work starts at
    // the first step().
    Errc start_tcp(const std::string &host, unsigned port, Deadline deadline, Error &err);
    Errc start_unix(const std::string &path, Deadline deadline, Error &err);

    // Advance as far as possible without blocking. connected: take_fd().
    // waiting: poll wants() until wake_at(), then step again (a call with
    // nothing ready is harmless). failed: err holds the reason, everything is
    // closed, and later calls report the same error.
    Status step(Error &err);

    // The fds to poll while waiting: writes up to max entries into out and
    // returns how many there are (0 while waiting only for wake_at()).
    int wants(Wait *out, int max) const;
    // When step() must be called even if no fd is ready: the deadline, the
    // end of the current attempt's share, a resolver retransmit or a retry of
    // a unix socket whose listen queue is full. `none`: only fds matter.
    Deadline wake_at() const;

    // The connected, non-blocking socket (TCP_NODELAY and SO_KEEPALIVE set
    // for TCP), which the caller then owns; -1 unless step() said connected.
    int take_fd();
    bool is_unix() const { return unix_; }
    // How many addresses a TCP connect has tried so far.
    std::size_t attempts() const { return next_; }

    // Close the socket and the resolver; idempotent; never blocks.
    void cancel();

private:
    enum class Phase { idle, begin, resolving, connecting, unix_retry, connected, failed };
    struct Address {
        sockaddr_storage sa;
        socklen_t len;
    };
    struct Failure {
        std::string address;  // as text; empty for a unix socket
        std::string reason;   // strerror text or "timed out"
        ClientError kind;
    };

    Status begin_tcp(Error &err);
    Status begin_unix(Error &err);
    Status step_resolve(Error &err);
    Status after_resolve(Error &err);
    Status step_connect(Error &err);
    Status try_next(Error &err);
    Status connected();
    Status fail(Error &err, Errc code, ClientError kind, const std::string &msg);
    Status fail_tcp(Error &err, bool deadline_passed);
    Status fail_unix(Error &err, int e);
    void record(const Address &a, int e);
    void close_socket();
    void close_resolver();
    bool deadline_passed() const;
    std::string timeout_text() const;  // "300 ms": the deadline, from start_*

    static void on_sock_state(void *self, int fd, int readable, int writable);
    static void on_addrinfo(void *self, int status, int timeouts, ares_addrinfo *res);

    ResolverConfig config_;
    Phase phase_ = Phase::idle;
    bool unix_ = false;
    std::string where_;  // the host or the socket path
    unsigned port_ = 0;
    Deadline deadline_;
    Clock::time_point started_{};

    ares_channeldata *channel_ = nullptr;
    std::vector<Wait> dns_fds_;  // kept by on_sock_state
    bool resolved_ = false;
    int resolve_status_ = 0;

    std::vector<Address> addrs_;
    std::size_t next_ = 0;  // addrs_[next_ - 1] is the one being tried
    int fd_ = -1;
    bool attempt_bounded_ = false;
    Clock::time_point attempt_end_{};
    std::vector<Failure> failures_;
    Clock::time_point retry_at_{};  // unix: the next connect() after EAGAIN
    unsigned retry_ms_ = 0;
    Error error_;  // the failure, repeated by later step() calls
};

// The blocking form: step() and poll() until connected or failed (the
// deadline given to start_* bounds it all, resolution included).
Errc connect_blocking(Connector &c, Error &err);

// Wait (poll) until one of c's fds is ready, its wake_at() passes, or
// wake_fd (if >= 0) is readable. Errc::ok in each case: step() again.
Errc wait_for(const Connector &c, int wake_fd, Error &err);

// The fds a Connector wants, behind one epoll fd that is readable when any
// of them is ready: the one fd a non-blocking caller polls while connecting.
class WaitSet {
public:
    WaitSet() = default;
    WaitSet(const WaitSet &) = delete;
    WaitSet &operator=(const WaitSet &) = delete;
    ~WaitSet();
    Errc arm(const Connector &c, Error &err);  // after each step() that says waiting
    int fd() const { return ep_; }
    void close();

private:
    int ep_ = -1;
    std::vector<int> registered_;
};

}  // namespace mywire::io
