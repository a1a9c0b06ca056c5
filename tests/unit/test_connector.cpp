// io::Connector, driven by poll() exactly as an event loop drives it: local
// listeners on 127.0.0.1 and ::1, refused ports, a full listen queue, names
// from a hosts file of the test's own ($CARES_HOSTS) and a DNS "server" on
// a loopback UDP port that never answers. Nothing here reads the network:
// only literals, hosts files and loopback sockets. Every step() is timed: it
// must never block.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "connection.hpp"
#include "io/connector.hpp"
#include "io/socket.hpp"
#include "unit.hpp"

using mywire::ClientError;
using mywire::Error;
using mywire::io::Clock;
using mywire::io::Connector;
using mywire::io::Deadline;
using mywire::io::ResolverConfig;
using mywire::io::Wait;
using unit::Errc;

namespace {

using Status = Connector::Status;
using std::chrono::milliseconds;

// A step() that takes longer than this has blocked (generous for ASan and a
// loaded machine; a step takes microseconds).
constexpr long max_step_ms = 50;

long ms_since(Clock::time_point t) {
    return static_cast<long>(
        std::chrono::duration_cast<milliseconds>(Clock::now() - t).count());
}

#define assert_client(err, kind) \
    assert_int_equal(static_cast<int>((err).client), static_cast<int>(kind))
#define assert_contains(text, part)                                                      \
    do {                                                                                 \
        if (std::string(text).find(part) == std::string::npos) {                         \
            print_error("%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,   \
                        std::string(text).c_str(), part);                                \
            fail();                                                                      \
        }                                                                                \
    } while (0)

struct Drive {
    Status status = Status::waiting;
    long max_step_ms = 0;
    int steps = 0;
    int max_fds = 0;  // the most fds wants() listed at once
    long elapsed_ms = 0;
};

// The event loop: step, poll what wants() lists until wake_at(), step again.
// `tick` runs between polls (a test's chance to change the world).
Drive drive(Connector &c, Error &err, const std::function<void()> &tick = {}) {
    Drive d;
    auto start = Clock::now();
    for (;;) {
        auto t = Clock::now();
        d.status = c.step(err);
        d.max_step_ms = std::max(d.max_step_ms, ms_since(t));
        ++d.steps;
        if (d.status != Status::waiting) break;
        Wait w[Connector::max_waits];
        int n = c.wants(w, Connector::max_waits);
        assert_true(n <= Connector::max_waits);
        d.max_fds = std::max(d.max_fds, n);
        pollfd p[Connector::max_waits];
        for (int i = 0; i < n; ++i) {
            assert_true(w[i].fd >= 0 && (w[i].read || w[i].write));
            p[i] = pollfd{w[i].fd, static_cast<short>((w[i].read ? POLLIN : 0) |
                                                      (w[i].write ? POLLOUT : 0)),
                          0};
        }
        Deadline wake = c.wake_at();
        assert_true(n > 0 || !wake.none);  // something must wake the loop
        int timeout = -1;
        if (!wake.none) {
            auto left = std::chrono::ceil<milliseconds>(wake.at - Clock::now()).count();
            timeout = left < 0 ? 0 : static_cast<int>(left);
        }
        if (tick) timeout = timeout < 0 || timeout > 10 ? 10 : timeout;
        ::poll(p, static_cast<nfds_t>(n), timeout);
        if (tick) tick();
        assert_true(ms_since(start) < 20000);  // a hung loop fails instead of hanging
    }
    d.elapsed_ms = ms_since(start);
    if (d.max_step_ms > max_step_ms) {
        print_error("a step() took %ld ms\n", d.max_step_ms);
        fail();
    }
    return d;
}

// --- sockets of the test's own

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd &&o) noexcept : fd(o.fd) { o.fd = -1; }
    Fd &operator=(Fd &&o) noexcept {
        std::swap(fd, o.fd);
        return *this;
    }
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

sockaddr_storage loopback(int family, unsigned port, socklen_t &len) {
    sockaddr_storage ss{};
    if (family == AF_INET) {
        auto *a = reinterpret_cast<sockaddr_in *>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<std::uint16_t>(port));
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    } else {
        auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<std::uint16_t>(port));
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    }
    return ss;
}

// A socket bound to the loopback address of `family` (port 0: any), listening
// with `backlog` unless backlog < 0 (then bound only: connects are refused
// and nobody else can take the port). fd -1 when it cannot be bound.
Fd bound(int family, unsigned port, int backlog, int type = SOCK_STREAM) {
    Fd s(::socket(family, type | SOCK_CLOEXEC, 0));
    if (s.fd < 0) return s;
    int one = 1;
    if (family == AF_INET6) ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    socklen_t len;
    sockaddr_storage ss = loopback(family, port, len);
    if (::bind(s.fd, reinterpret_cast<sockaddr *>(&ss), len) != 0) return Fd{};
    if (backlog >= 0 && ::listen(s.fd, backlog) != 0) return Fd{};
    return s;
}

unsigned port_of(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    assert_int_equal(::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len), 0);
    return ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port)
                                   : ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
}

int peer_family(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    assert_int_equal(::getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len), 0);
    return ss.ss_family;
}

bool have_ipv6() { return bound(AF_INET6, 0, 1).fd >= 0; }

// A listener whose queue is full: connects to it stay in progress (the
// kernel drops their SYNs). Returns the clients that filled it.
std::vector<Fd> fill_backlog(int family, int listener) {
    std::vector<Fd> clients;
    unsigned port = port_of(listener);
    for (int i = 0; i < 64; ++i) {
        Fd c(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        socklen_t len;
        sockaddr_storage ss = loopback(family, port, len);
        ::connect(c.fd, reinterpret_cast<sockaddr *>(&ss), len);
        pollfd p{c.fd, POLLOUT, 0};
        bool done = ::poll(&p, 1, 100) > 0;
        clients.push_back(std::move(c));
        if (!done) return clients;
    }
    fail_msg("could not fill the listen queue");
    return clients;
}

// A hosts file for c-ares ($CARES_HOSTS, read with ResolverConfig::env_hosts).
struct HostsFile {
    std::string path;
    explicit HostsFile(const std::string &text) {
        char tmpl[] = "/tmp/mywire-hosts-XXXXXX";
        int fd = ::mkstemp(tmpl);
        assert_true(fd >= 0);
        assert_int_equal(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
        ::close(fd);
        path = tmpl;
        ::setenv("CARES_HOSTS", path.c_str(), 1);
    }
    ~HostsFile() {
        ::unsetenv("CARES_HOSTS");
        ::unlink(path.c_str());
    }
};

ResolverConfig hosts_only() {
    ResolverConfig rc;
    rc.lookups = "f";  // the hosts file, never DNS
    rc.env_hosts = true;
    return rc;
}

void check_connected_tcp(Connector &c, int listener) {
    int fd = c.take_fd();
    assert_true(fd >= 0);
    assert_int_equal(c.take_fd(), -1);  // handed over once
    assert_true(::fcntl(fd, F_GETFL) & O_NONBLOCK);
    int v = 0;
    socklen_t len = sizeof v;
    assert_int_equal(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    assert_true(v != 0);
    // The listener really has it.
    pollfd p{listener, POLLIN, 0};
    assert_int_equal(::poll(&p, 1, 2000), 1);
    Fd accepted(::accept(listener, nullptr, nullptr));
    assert_true(accepted.fd >= 0);
    assert_int_equal(::write(fd, "x", 1), 1);
    char ch = 0;
    assert_int_equal(::read(accepted.fd, &ch, 1), 1);
    ::close(fd);
}

// ---------------------------------------------------------------- literals

void test_ipv4_literal(void **) {
    Fd l = bound(AF_INET, 0, 8);
    Connector c;
    Error err;
    assert_errc(c.start_tcp("127.0.0.1", port_of(l.fd), Deadline::after_ms(5000), err), Errc::ok);
    Drive d = drive(c, err);
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::connected));
    assert_false(c.is_unix());
    assert_int_equal(c.attempts(), 1);
    check_connected_tcp(c, l.fd);
}

void test_ipv6_literal(void **) {
    if (!have_ipv6()) {
        print_message("no ::1 here: skipped\n");
        return;
    }
    for (const char *host : {"::1", "[::1]"}) {
        Fd l = bound(AF_INET6, 0, 8);
        Connector c;
        Error err;
        assert_errc(c.start_tcp(host, port_of(l.fd), Deadline::after_ms(5000), err), Errc::ok);
        Drive d = drive(c, err);
        assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::connected));
        check_connected_tcp(c, l.fd);
    }
}

void test_refused_literal(void **) {
    Fd closed = bound(AF_INET, 0, -1);  // bound, not listening: refused
    Connector c;
    Error err;
    std::string host_port = "127.0.0.1:" + std::to_string(port_of(closed.fd));
    assert_errc(c.start_tcp("127.0.0.1", port_of(closed.fd), Deadline::after_ms(5000), err), Errc::ok);
    Drive d = drive(c, err);
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::failed));
    assert_errc(err.code, Errc::connect);
    assert_client(err, ClientError::refused);
    assert_sv_equal(err.message, "cannot connect to " + host_port + ": Connection refused");
    // Failed stays failed, with the same error.
    Error again;
    assert_int_equal(static_cast<int>(c.step(again)), static_cast<int>(Status::failed));
    assert_sv_equal(again.message, err.message);
    assert_int_equal(c.take_fd(), -1);
}

void test_bad_arguments(void **) {
    Connector c;
    Error err;
    assert_errc(c.start_tcp("", 3306, {}, err), Errc::argument);
    assert_errc(c.start_tcp("127.0.0.1", 0, {}, err), Errc::argument);
    assert_errc(c.start_tcp("127.0.0.1", 65536, {}, err), Errc::argument);
    assert_errc(c.start_tcp(std::string("a\0b", 3), 3306, {}, err), Errc::argument);
    assert_errc(c.start_unix("", {}, err), Errc::connect);
    assert_errc(c.start_unix(std::string(200, 'x'), {}, err), Errc::connect);
    // Nothing started: step() says so instead of waiting forever.
    assert_int_equal(static_cast<int>(c.step(err)), static_cast<int>(Status::failed));
    assert_errc(err.code, Errc::state);
    Wait w[Connector::max_waits];
    assert_int_equal(c.wants(w, Connector::max_waits), 0);
}

// A listen queue that is full drops the SYNs: the deadline ends the attempt.
void test_deadline_while_connecting(void **) {
    Fd l = bound(AF_INET, 0, 0);
    std::vector<Fd> fillers = fill_backlog(AF_INET, l.fd);
    Connector c;
    Error err;
    assert_errc(c.start_tcp("127.0.0.1", port_of(l.fd), Deadline::after_ms(300), err), Errc::ok);
    Drive d = drive(c, err);
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::failed));
    assert_errc(err.code, Errc::timeout);
    assert_client(err, ClientError::connect_timeout);
    assert_contains(err.message, "timed out");
    assert_true(d.elapsed_ms >= 290);
    assert_true(d.elapsed_ms < 2000);
    assert_int_equal(d.max_fds, 1);
    assert_true(d.steps <= 5);
}

// ------------------------------------------------------------------- names

// "localhost" has ::1 and 127.0.0.1; the server listens on 127.0.0.1 only.
void test_localhost_v6_refused_then_v4(void **) {
    Fd l = bound(AF_INET, 0, 8);
    unsigned port = port_of(l.fd);
    Fd v6 = bound(AF_INET6, port, -1);  // ::1 of that port refuses (if there is a ::1)
    HostsFile hosts("::1 localhost\n127.0.0.1 localhost\n");
    Connector c(hosts_only());
    Error err;
    assert_errc(c.start_tcp("localhost", port, Deadline::after_ms(5000), err), Errc::ok);
    Drive d = drive(c, err);
    if (d.status != Status::connected) print_error("%s\n", err.message.c_str());
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::connected));
    // ::1 is tried first (RFC 6724 prefers it) and refused; 127.0.0.1 is not
    // given up on because of that.
    if (v6.fd >= 0) assert_int_equal(c.attempts(), 2);
    int fd = c.take_fd();
    assert_int_equal(peer_family(fd), AF_INET);
    ::close(fd);
}

void test_every_address_refused(void **) {
    Fd v4 = bound(AF_INET, 0, -1);
    unsigned port = port_of(v4.fd);
    Fd v6 = bound(AF_INET6, port, -1);
    HostsFile hosts("::1 localhost\n127.0.0.1 localhost\n");
    Connector c(hosts_only());
    Error err;
    assert_errc(c.start_tcp("localhost", port, Deadline::after_ms(5000), err), Errc::ok);
    Drive d = drive(c, err);
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::failed));
    assert_errc(err.code, Errc::connect);
    assert_client(err, ClientError::refused);
    // The host and port, and each address that was tried.
    assert_contains(err.message, ("cannot connect to localhost:" + std::to_string(port) + ": ").c_str());
    assert_contains(err.message, "127.0.0.1");
    assert_contains(err.message, "refused");
    if (v6.fd >= 0) {
        assert_int_equal(c.attempts(), 2);
        assert_sv_equal(err.message, "cannot connect to localhost:" + std::to_string(port) +
                                         ": Connection refused (::1, 127.0.0.1)");
    }
}

// An address that never answers gets its share of the deadline, not all of
// it: the next address is still tried (the AAAA record of a host whose IPv6
// is firewalled must not stop its IPv4 address).
void test_silent_address_does_not_stop_the_next(void **) {
    if (!have_ipv6()) {
        print_message("no ::1 here: skipped\n");
        return;
    }
    Fd good = bound(AF_INET, 0, 8);
    unsigned port = port_of(good.fd);
    Fd silent = bound(AF_INET6, port, 0);
    assert_true(silent.fd >= 0);
    std::vector<Fd> fillers = fill_backlog(AF_INET6, silent.fd);
    HostsFile hosts("::1 db.mywire.test\n127.0.0.1 db.mywire.test\n");
    Connector c(hosts_only());
    Error err;
    assert_errc(c.start_tcp("db.mywire.test", port, Deadline::after_ms(1000), err), Errc::ok);
    Drive d = drive(c, err);
    if (d.status != Status::connected) print_error("%s\n", err.message.c_str());
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::connected));
    assert_int_equal(c.attempts(), 2);
    // ::1 had half of the second.
    assert_true(d.elapsed_ms >= 450);
    assert_true(d.elapsed_ms < 1000);
    check_connected_tcp(c, good.fd);
}

// With both silent, the deadline ends it: a timeout naming both.
void test_every_address_silent(void **) {
    if (!have_ipv6()) {
        print_message("no ::1 here: skipped\n");
        return;
    }
    Fd v4 = bound(AF_INET, 0, 0);
    unsigned port = port_of(v4.fd);
    Fd v6 = bound(AF_INET6, port, 0);
    assert_true(v6.fd >= 0);
    std::vector<Fd> f4 = fill_backlog(AF_INET, v4.fd), f6 = fill_backlog(AF_INET6, v6.fd);
    HostsFile hosts("::1 db.mywire.test\n127.0.0.1 db.mywire.test\n");
    Connector c(hosts_only());
    Error err;
    assert_errc(c.start_tcp("db.mywire.test", port, Deadline::after_ms(400), err), Errc::ok);
    Drive d = drive(c, err);
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::failed));
    assert_errc(err.code, Errc::timeout);
    assert_client(err, ClientError::connect_timeout);
    assert_sv_equal(err.message, "cannot connect to db.mywire.test:" + std::to_string(port) +
                                     ": timed out (::1, 127.0.0.1); connect timeout 400 ms");
    assert_true(d.elapsed_ms >= 390 && d.elapsed_ms < 2000);
}

// The system's configuration: "localhost" comes from /etc/hosts (or c-ares's
// built-in loopback answer), never from DNS.
void test_system_localhost(void **) {
    Fd v4 = bound(AF_INET, 0, 8);
    unsigned port = port_of(v4.fd);
    Fd v6 = bound(AF_INET6, port, 8);  // whichever family localhost has
    Connector c;
    Error err;
    assert_errc(c.start_tcp("localhost", port, Deadline::after_ms(5000), err), Errc::ok);
    Drive d = drive(c, err);
    if (d.status != Status::connected) print_error("%s\n", err.message.c_str());
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::connected));
    ::close(c.take_fd());
}

void test_name_not_found(void **) {
    // RFC 6761: .invalid never resolves, and no resolver is asked.
    for (const char *name : {"nonexistent.invalid", "NONEXISTENT.INVALID.", "invalid"}) {
        Connector c;
        Error err;
        assert_errc(c.start_tcp(name, 3306, Deadline::after_ms(5000), err), Errc::ok);
        Drive d = drive(c, err);
        assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::failed));
        assert_errc(err.code, Errc::connect);
        assert_client(err, ClientError::resolve);
        assert_contains(err.message, (std::string("cannot resolve host '") + name + "'").c_str());
        assert_int_equal(d.steps, 1);
        assert_true(d.elapsed_ms < 100);
    }
    {
        // Not in the hosts file, and DNS is not asked (lookups "f").
        HostsFile hosts("127.0.0.1 db.mywire.test\n");
        Connector c(hosts_only());
        Error err;
        assert_errc(c.start_tcp("other.mywire.test", 3306, Deadline::after_ms(5000), err), Errc::ok);
        Drive d = drive(c, err);
        assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::failed));
        assert_errc(err.code, Errc::connect);
        assert_client(err, ClientError::resolve);
        assert_contains(err.message, "cannot resolve host 'other.mywire.test': ");
        assert_true(d.elapsed_ms < 100);
    }
}

// A DNS server that never answers: the deadline bounds the resolution, and
// step() never waits for c-ares.
void test_dns_timeout(void **) {
    Fd dns = bound(AF_INET, 0, -1, SOCK_DGRAM);
    assert_true(dns.fd >= 0);
    ResolverConfig rc;
    rc.lookups = "b";
    rc.servers = "127.0.0.1:" + std::to_string(port_of(dns.fd));
    rc.try_timeout_ms = 100;  // c-ares retransmits: wake_at() must say so
    Connector c(rc);
    Error err;
    assert_errc(c.start_tcp("db.mywire.test", 3306, Deadline::after_ms(700), err), Errc::ok);
    Drive d = drive(c, err);
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::failed));
    assert_errc(err.code, Errc::timeout);
    assert_client(err, ClientError::connect_timeout);
    assert_sv_equal(err.message, "cannot resolve host 'db.mywire.test': timed out after 700 ms");
    assert_true(d.elapsed_ms >= 690);
    assert_true(d.elapsed_ms < 3000);
    assert_true(d.max_fds >= 1);  // c-ares's socket was handed out to poll
    // Woken by c-ares's retransmit timers and the deadline, not spinning
    // (c-ares rounds a timer that is less than 1 ms away down to 0).
    assert_true(d.steps < 20);
    // The queries did go to our "server" (and nowhere else), more than once.
    int queries = 0;
    char buf[512];
    while (::recv(dns.fd, buf, sizeof buf, MSG_DONTWAIT) > 0) ++queries;
    assert_true(queries >= 2);
}

// A DNS server port nobody listens on: c-ares gives up quickly.
void test_dns_unreachable(void **) {
    Fd closed = bound(AF_INET, 0, -1, SOCK_DGRAM);
    unsigned port = port_of(closed.fd);
    closed = Fd{};
    ResolverConfig rc;
    rc.lookups = "b";
    rc.servers = "127.0.0.1:" + std::to_string(port);
    rc.try_timeout_ms = 200;
    Connector c(rc);
    Error err;
    assert_errc(c.start_tcp("db.mywire.test", 3306, Deadline::after_ms(10000), err), Errc::ok);
    Drive d = drive(c, err);
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::failed));
    assert_client(err, ClientError::resolve);
    assert_errc(err.code, Errc::connect);
    assert_contains(err.message, "cannot resolve host 'db.mywire.test': ");
    assert_true(d.elapsed_ms < 5000);
}

// cancel() while c-ares has a query out: closes everything, twice is fine,
// and the destructor after it too (ASan: nothing leaks, nothing dangles).
void test_cancel_while_resolving(void **) {
    Fd dns = bound(AF_INET, 0, -1, SOCK_DGRAM);
    ResolverConfig rc;
    rc.lookups = "b";
    rc.servers = "127.0.0.1:" + std::to_string(port_of(dns.fd));
    Connector c(rc);
    Error err;
    assert_errc(c.start_tcp("db.mywire.test", 3306, Deadline::after_ms(5000), err), Errc::ok);
    assert_int_equal(static_cast<int>(c.step(err)), static_cast<int>(Status::waiting));
    Wait w[Connector::max_waits];
    int n = c.wants(w, Connector::max_waits);
    assert_true(n >= 1);
    int fd = w[0].fd;
    c.cancel();
    c.cancel();
    assert_int_equal(c.wants(w, Connector::max_waits), 0);
    assert_int_equal(::fcntl(fd, F_GETFD), -1);  // c-ares's socket is closed
    // Reusable after a cancel.
    Fd l = bound(AF_INET, 0, 8);
    assert_errc(c.start_tcp("127.0.0.1", port_of(l.fd), Deadline::after_ms(5000), err), Errc::ok);
    assert_int_equal(static_cast<int>(drive(c, err).status), static_cast<int>(Status::connected));
    // Started again with a query out, then destroyed.
    Connector c2(rc);
    assert_errc(c2.start_tcp("db.mywire.test", 3306, {}, err), Errc::ok);
    assert_int_equal(static_cast<int>(c2.step(err)), static_cast<int>(Status::waiting));
    assert_true(c2.wake_at().none == false);  // c-ares's retransmit timer
}

// --------------------------------------------------------------------- unix

struct UnixListener {
    std::string dir, path;
    Fd fd;
    explicit UnixListener(int backlog) {
        char tmpl[] = "/tmp/mywire-conn-XXXXXX";
        assert_non_null(::mkdtemp(tmpl));
        dir = tmpl;
        path = dir + "/s";
        fd = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, path.c_str(), path.size());
        assert_int_equal(::bind(fd.fd, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
        assert_int_equal(::listen(fd.fd, backlog), 0);
    }
    ~UnixListener() {
        fd = Fd{};
        ::unlink(path.c_str());
        ::rmdir(dir.c_str());
    }
    // Connect clients until the queue is full (a connect gives EAGAIN).
    std::vector<Fd> fill() {
        std::vector<Fd> out;
        for (int i = 0; i < 64; ++i) {
            Fd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            sockaddr_un a{};
            a.sun_family = AF_UNIX;
            std::memcpy(a.sun_path, path.c_str(), path.size());
            if (::connect(c.fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
                assert_int_equal(errno, EAGAIN);
                return out;
            }
            out.push_back(std::move(c));
        }
        fail_msg("could not fill the unix listen queue");
        return out;
    }
};

void test_unix(void **) {
    UnixListener l(8);
    Connector c;
    Error err;
    assert_errc(c.start_unix(l.path, Deadline::after_ms(5000), err), Errc::ok);
    Drive d = drive(c, err);
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::connected));
    assert_true(c.is_unix());
    int fd = c.take_fd();
    assert_true(::fcntl(fd, F_GETFL) & O_NONBLOCK);
    ::close(fd);

    assert_errc(c.start_unix(l.dir + "/missing", Deadline::after_ms(5000), err), Errc::ok);
    d = drive(c, err);
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::failed));
    assert_errc(err.code, Errc::connect);
    assert_client(err, ClientError::refused);
    assert_sv_equal(err.message,
                    "cannot connect to unix socket " + l.dir + "/missing: No such file or directory");
}

// A full listen queue: the connect waits (retrying) until there is room, and
// the socket it hands out is really connected.
void test_unix_full_queue_waits(void **) {
    UnixListener l(0);
    std::vector<Fd> fillers = l.fill();
    Connector c;
    Error err;
    assert_errc(c.start_unix(l.path, Deadline::after_ms(5000), err), Errc::ok);
    auto start = Clock::now();
    bool made_room = false;
    Drive d = drive(c, err, [&] {
        if (!made_room && ms_since(start) >= 100) {
            made_room = true;
            Fd a(::accept(l.fd.fd, nullptr, nullptr));  // one leaves the queue
            assert_true(a.fd >= 0);
        }
    });
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::connected));
    assert_true(made_room);
    assert_true(d.elapsed_ms >= 100);
    int fd = c.take_fd();
    assert_int_equal(::send(fd, "x", 1, MSG_NOSIGNAL), 1);  // ENOTCONN if it were not
    ::close(fd);
}

void test_unix_full_queue_times_out(void **) {
    UnixListener l(0);
    std::vector<Fd> fillers = l.fill();
    Connector c;
    Error err;
    assert_errc(c.start_unix(l.path, Deadline::after_ms(200), err), Errc::ok);
    Drive d = drive(c, err);
    assert_int_equal(static_cast<int>(d.status), static_cast<int>(Status::failed));
    assert_errc(err.code, Errc::timeout);
    assert_client(err, ClientError::connect_timeout);
    assert_sv_equal(err.message, "cannot connect to unix socket " + l.path +
                                     ": timed out (the server's listen queue is full)");
    assert_true(d.elapsed_ms >= 190 && d.elapsed_ms < 2000);
}

// The regression through Connection::connect: a unix socket whose queue is
// full was taken for connected (it polls writable) and the login then failed
// with "lost connection: ... not connected" at once; now connect_timeout
// bounds the wait.
void test_connection_unix_full_queue(void **) {
    UnixListener l(0);
    std::vector<Fd> fillers = l.fill();
    mywire::Connection conn;
    conn.opts.unix_socket = l.path;
    conn.opts.connect_timeout_ms = 300;
    auto start = Clock::now();
    Errc rc = conn.connect();
    if (rc != Errc::timeout) print_error("connect: %s\n", conn.err().message.c_str());
    assert_errc(rc, Errc::timeout);
    assert_client(conn.err(), ClientError::connect_timeout);
    assert_true(ms_since(start) >= 290);
}

// And a blocking connect to a name goes through the same Connector.
void test_connect_blocking(void **) {
    Fd l = bound(AF_INET, 0, 8);
    HostsFile hosts("127.0.0.1 db.mywire.test\n");
    Connector c(hosts_only());
    Error err;
    assert_errc(c.start_tcp("db.mywire.test", port_of(l.fd), Deadline::after_ms(5000), err), Errc::ok);
    assert_errc(mywire::io::connect_blocking(c, err), Errc::ok);
    check_connected_tcp(c, l.fd);

    Fd silent = bound(AF_INET, 0, 0);
    std::vector<Fd> fillers = fill_backlog(AF_INET, silent.fd);
    assert_errc(c.start_tcp("127.0.0.1", port_of(silent.fd), Deadline::after_ms(200), err), Errc::ok);
    auto start = Clock::now();
    assert_errc(mywire::io::connect_blocking(c, err), Errc::timeout);
    assert_client(err, ClientError::connect_timeout);
    assert_true(ms_since(start) >= 190 && ms_since(start) < 2000);
}

// Connectors on several threads at once, each resolving with its own c-ares
// channel (c-ares 1.18 channels are not thread-safe; separate ones are, and
// the library is initialised once). Run under TSan by hand: see the report.
void test_threads(void **) {
    Fd v4 = bound(AF_INET, 0, 256);
    unsigned port = port_of(v4.fd);
    Fd v6 = bound(AF_INET6, port, 256);
    constexpr int threads = 4, each = 20;
    int ok[threads] = {};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&ok, t, port] {
            for (int i = 0; i < each; ++i) {
                Connector c;
                Error err;
                if (c.start_tcp("localhost", port, Deadline::after_ms(5000), err) != Errc::ok) continue;
                if (mywire::io::connect_blocking(c, err) == Errc::ok) {
                    ::close(c.take_fd());
                    ++ok[t];
                }
            }
        });
    for (auto &th : pool) th.join();
    for (int t = 0; t < threads; ++t) assert_int_equal(ok[t], each);
}

}  // namespace

// A socket whose bytes are there is ready even when the deadline has passed
// by the time the caller looks (a loaded machine did not run the thread in
// time): poll_for and the blocking wait say ready, not timeout; an empty one
// past its deadline is a timeout at once.
void test_past_deadline_still_reads(void **) {
    int sv[2];
    assert_int_equal(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    mywire::io::Socket sock;
    Error err;
    assert_errc(sock.adopt(sv[0], true, err), Errc::ok);
    const Deadline past{Clock::now() - std::chrono::seconds(1), false};
    auto t0 = Clock::now();
    assert_errc(sock.poll_for(false, past, -1, err), Errc::timeout);
    assert_int_equal(static_cast<int>(err.client), static_cast<int>(ClientError::read_timeout));
    assert_true(Clock::now() - t0 < std::chrono::milliseconds(500));
    assert_int_equal(::write(sv[1], "x", 1), 1);
    Error err2;
    assert_errc(sock.poll_for(false, past, -1, err2), Errc::ok);
    assert_errc(sock.poll_for(true, past, -1, err2), Errc::ok);  // writable too
    mywire::proto::ReadBuffer buf;
    buf.prepare(16);
    assert_errc(sock.read_some(buf, past, err2), Errc::ok);
    assert_int_equal(buf.pending().size(), 1);
    // Drained: the blocking wait past the deadline is a timeout again.
    buf.prepare(16);
    assert_errc(sock.read_some(buf, past, err2), Errc::timeout);
    ::close(sv[1]);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_literal),
        cmocka_unit_test(test_ipv6_literal),
        cmocka_unit_test(test_refused_literal),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_deadline_while_connecting),
        cmocka_unit_test(test_localhost_v6_refused_then_v4),
        cmocka_unit_test(test_every_address_refused),
        cmocka_unit_test(test_silent_address_does_not_stop_the_next),
        cmocka_unit_test(test_every_address_silent),
        cmocka_unit_test(test_system_localhost),
        cmocka_unit_test(test_name_not_found),
        cmocka_unit_test(test_dns_timeout),
        cmocka_unit_test(test_dns_unreachable),
        cmocka_unit_test(test_cancel_while_resolving),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_unix_full_queue_waits),
        cmocka_unit_test(test_unix_full_queue_times_out),
        cmocka_unit_test(test_connection_unix_full_queue),
        cmocka_unit_test(test_connect_blocking),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_past_deadline_still_reads),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
