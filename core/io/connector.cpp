#include "io/connector.hpp"

#include <sys/epoll.h>

#include <ares.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace mywire::io {

namespace {

// A unix socket whose listen queue is full refuses a non-blocking connect
// with EAGAIN and gives no event when room appears: retry on a timer.
constexpr unsigned unix_retry_first_ms = 2;
constexpr unsigned unix_retry_max_ms = 50;
// Failures listed per reason in the message (the rest are counted).
constexpr std::size_t listed_per_reason = 4;

// ares_library_init is not thread-safe and must run before the first channel;
// a function-local static runs it once, even with threads racing here. Never
// undone: another user of c-ares in the process may still need it.
int cares_library() {
    static const int status = ::ares_library_init(ARES_LIB_INIT_ALL);
    return status;
}

bool passed(const Deadline &d, Clock::time_point now) { return !d.none && now >= d.at; }

Clock::time_point earliest(Clock::time_point a, Clock::time_point b) { return a < b ? a : b; }

ClientError classify(int e) {
    switch (e) {
    case ECONNREFUSED:
    case ENOENT:  // a unix socket path with nobody listening
        return ClientError::refused;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:  // no IPv6 (or IPv4) stack at all
        return ClientError::unreachable;
    case ETIMEDOUT:
        return ClientError::connect_timeout;
    default:
        return ClientError::other;
    }
}

// How much a failure tells the user: "refused" means the host was reached.
int rank(ClientError k) {
    switch (k) {
    case ClientError::refused: return 3;
    case ClientError::connect_timeout: return 2;
    case ClientError::unreachable: return 1;
    default: return 0;
    }
}

std::string address_text(const sockaddr *sa, socklen_t len) {
    char host[NI_MAXHOST];
    // NI_NUMERICHOST: formatting only, never a lookup.
    if (::getnameinfo(sa, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0)
        return "?";
    return host;
}

// RFC 6761 6.4: names under "invalid." never resolve, and resolver libraries
// should say so at once rather than ask a DNS server.
bool is_invalid_tld(std::string_view h) {
    if (!h.empty() && h.back() == '.') h.remove_suffix(1);
    constexpr std::string_view tld = "invalid";
    if (h.size() < tld.size()) return false;
    std::string_view end = h.substr(h.size() - tld.size());
    for (std::size_t i = 0; i < tld.size(); ++i)
        if ((end[i] | 0x20) != tld[i]) return false;
    return h.size() == tld.size() || h[h.size() - tld.size() - 1] == '.';
}

}  // namespace

// ------------------------------------------------------------------ start

Errc Connector::start_tcp(const std::string &host, unsigned port, Deadline deadline, Error &err) {
    cancel();
    std::string_view h = host;
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (h.empty()) return err.set(Errc::argument, ClientError::other, "the host name is empty");
    if (h.find('\0') != std::string_view::npos)
        return err.set(Errc::argument, ClientError::other, "the host name contains a NUL byte");
    if (port < 1 || port > 65535)
        return err.set(Errc::argument, ClientError::other, "port must be between 1 and 65535");
    where_.assign(h);
    port_ = port;
    unix_ = false;
    deadline_ = deadline;
    started_ = Clock::now();
    phase_ = Phase::begin;
    return Errc::ok;
}

Errc Connector::start_unix(const std::string &path, Deadline deadline, Error &err) {
    cancel();
    if (path.empty() || path.size() >= sizeof(sockaddr_un{}.sun_path) ||
        path.find('\0') != std::string::npos)
        return err.set(Errc::connect, ClientError::other, "unix socket path is empty or too long");
    where_ = path;
    port_ = 0;
    unix_ = true;
    deadline_ = deadline;
    started_ = Clock::now();
    retry_ms_ = unix_retry_first_ms;
    phase_ = Phase::begin;
    return Errc::ok;
}

// ------------------------------------------------------------------- step

Connector::Status Connector::step(Error &err) {
    switch (phase_) {
    case Phase::idle:
        err.set(Errc::state, ClientError::other, "connect: nothing was started");
        return Status::failed;
    case Phase::begin:
        return unix_ ? begin_unix(err) : begin_tcp(err);
    case Phase::resolving:
        return step_resolve(err);
    case Phase::connecting:
        return step_connect(err);
    case Phase::unix_retry:
        if (Clock::now() >= retry_at_) return begin_unix(err);
        if (deadline_passed())
            return fail(err, Errc::timeout, ClientError::connect_timeout,
                        "cannot connect to unix socket " + where_ +
                            ": timed out (the server's listen queue is full)");
        return Status::waiting;
    case Phase::connected:
        return Status::connected;
    case Phase::failed:
        err = error_;
        return Status::failed;
    }
    return Status::failed;
}

int Connector::wants(Wait *out, int max) const {
    int n = 0;
    auto put = [&](const Wait &w) {
        if (n < max) out[n] = w;
        ++n;
    };
    if (phase_ == Phase::resolving)
        for (const Wait &w : dns_fds_) put(w);
    else if (phase_ == Phase::connecting)
        put(Wait{fd_, false, true});
    return n;
}

Deadline Connector::wake_at() const {
    Deadline d = deadline_;
    auto at = [&d](Clock::time_point t) {
        d.at = d.none ? t : earliest(d.at, t);
        d.none = false;
    };
    switch (phase_) {
    case Phase::resolving:
        if (channel_) {
            // c-ares rounds what is left down to a millisecond (0 while a
            // timer is less than 1 ms away), and processes a timer only once
            // it is due: 1 ms more, or the loop would spin until then.
            timeval tv{};
            if (::ares_timeout(channel_, nullptr, &tv))
                at(Clock::now() + std::chrono::seconds(tv.tv_sec) +
                   std::chrono::microseconds(tv.tv_usec) + std::chrono::milliseconds(1));
        }
        return d;
    case Phase::connecting:
        if (attempt_bounded_) at(attempt_end_);
        return d;
    case Phase::unix_retry:
        at(retry_at_);
        return d;
    case Phase::begin:  // step() at once
        at(Clock::now());
        return d;
    default:
        return {};
    }
}

int Connector::take_fd() {
    if (phase_ != Phase::connected) return -1;
    int fd = fd_;
    fd_ = -1;
    phase_ = Phase::idle;
    return fd;
}

void Connector::cancel() {
    close_resolver();
    close_socket();
    addrs_.clear();
    failures_.clear();
    next_ = 0;
    phase_ = Phase::idle;
}

// -------------------------------------------------------------- resolving

Connector::Status Connector::begin_tcp(Error &err) {
    std::string service = std::to_string(port_);
    // An IP literal: AI_NUMERICHOST makes getaddrinfo parse it (scope ids
    // too) without any lookup, so it never blocks.
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo *list = nullptr;
    if (::getaddrinfo(where_.c_str(), service.c_str(), &hints, &list) == 0) {
        for (addrinfo *ai = list; ai; ai = ai->ai_next) {
            if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
            Address a{};
            std::memcpy(&a.sa, ai->ai_addr, ai->ai_addrlen);
            a.len = ai->ai_addrlen;
            addrs_.push_back(a);
        }
        ::freeaddrinfo(list);
        return try_next(err);
    }
    if (is_invalid_tld(where_))
        return fail(err, Errc::connect, ClientError::resolve,
                    "cannot resolve host '" + where_ + "': names under .invalid never resolve");

    if (int st = cares_library(); st != ARES_SUCCESS)
        return fail(err, Errc::connect, ClientError::resolve,
                    "cannot resolve host '" + where_ + "': " + ::ares_strerror(st));
    ares_options o{};
    int mask = ARES_OPT_SOCK_STATE_CB;
    o.sock_state_cb = &Connector::on_sock_state;
    o.sock_state_cb_data = this;
    if (!config_.lookups.empty()) {
        mask |= ARES_OPT_LOOKUPS;
        o.lookups = config_.lookups.data();
    }
    if (config_.try_timeout_ms) {
        mask |= ARES_OPT_TIMEOUTMS;
        o.timeout = static_cast<int>(config_.try_timeout_ms);
    }
    // Reads resolv.conf, nsswitch.conf and host.conf (local files).
    int st = ::ares_init_options(&channel_, &o, mask);
    if (st == ARES_SUCCESS && !config_.servers.empty())
        st = ::ares_set_servers_ports_csv(channel_, config_.servers.c_str());
    if (st != ARES_SUCCESS) {
        close_resolver();
        return fail(err, Errc::connect, ClientError::resolve,
                    "cannot resolve host '" + where_ + "': cannot set up the resolver: " +
                        ::ares_strerror(st));
    }
    ares_addrinfo_hints ah{};
    ah.ai_family = AF_UNSPEC;
    ah.ai_socktype = SOCK_STREAM;
    ah.ai_flags = ARES_AI_NUMERICSERV | (config_.env_hosts ? ARES_AI_ENVHOSTS : 0);
    resolved_ = false;
    phase_ = Phase::resolving;
    // May call on_addrinfo before it returns (a hosts-file answer).
    ::ares_getaddrinfo(channel_, where_.c_str(), service.c_str(), &ah, &Connector::on_addrinfo,
                       this);
    return after_resolve(err);
}

void Connector::on_sock_state(void *self, int fd, int readable, int writable) {
    auto &fds = static_cast<Connector *>(self)->dns_fds_;
    auto it = std::find_if(fds.begin(), fds.end(), [fd](const Wait &w) { return w.fd == fd; });
    if (!readable && !writable) {
        if (it != fds.end()) fds.erase(it);
        return;
    }
    Wait w{fd, readable != 0, writable != 0};
    if (it != fds.end())
        *it = w;
    else
        fds.push_back(w);  // a few entries at most (one or two per DNS server)
}

void Connector::on_addrinfo(void *self, int status, int, ares_addrinfo *res) {
    auto *c = static_cast<Connector *>(self);
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {  // cancel() or a timeout
        if (res) ::ares_freeaddrinfo(res);
        return;
    }
    c->resolved_ = true;
    c->resolve_status_ = status;
    if (status == ARES_SUCCESS && res) {
        for (ares_addrinfo_node *n = res->nodes; n; n = n->ai_next) {
            if (n->ai_addrlen > sizeof(sockaddr_storage) || n->ai_socktype != SOCK_STREAM) continue;
            Address a{};
            std::memcpy(&a.sa, n->ai_addr, n->ai_addrlen);
            a.len = static_cast<socklen_t>(n->ai_addrlen);
            bool dup = std::any_of(c->addrs_.begin(), c->addrs_.end(), [&a](const Address &b) {
                return b.len == a.len && std::memcmp(&b.sa, &a.sa, a.len) == 0;
            });
            if (!dup) c->addrs_.push_back(a);
        }
    }
    if (res) ::ares_freeaddrinfo(res);
}

Connector::Status Connector::step_resolve(Error &err) {
    // Which of c-ares's sockets are ready, without waiting. A copy: processing
    // opens and closes sockets (on_sock_state edits dns_fds_).
    pollfd p[max_waits];
    nfds_t n = 0;
    for (const Wait &w : dns_fds_) {
        if (n == max_waits) break;
        p[n++] = pollfd{w.fd, static_cast<short>((w.read ? POLLIN : 0) | (w.write ? POLLOUT : 0)), 0};
    }
    if (n > 0 && ::poll(p, n, 0) > 0) {
        for (nfds_t i = 0; i < n && !resolved_; ++i) {
            short r = p[i].revents;
            if (!r) continue;
            bool bad = r & (POLLERR | POLLHUP | POLLNVAL);
            ::ares_process_fd(channel_, (r & POLLIN) || bad ? p[i].fd : ARES_SOCKET_BAD,
                              (r & POLLOUT) || bad ? p[i].fd : ARES_SOCKET_BAD);
        }
    }
    // Timeouts: a retransmit, the next server, or the end of the last try.
    if (!resolved_) ::ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    return after_resolve(err);
}

Connector::Status Connector::after_resolve(Error &err) {
    if (!resolved_) {
        if (deadline_passed())
            return fail(err, Errc::timeout, ClientError::connect_timeout,
                        "cannot resolve host '" + where_ + "': timed out after " + timeout_text());
        return Status::waiting;
    }
    close_resolver();  // its sockets are not needed any more
    if (resolve_status_ != ARES_SUCCESS)
        return fail(err, Errc::connect, ClientError::resolve,
                    "cannot resolve host '" + where_ + "': " + ::ares_strerror(resolve_status_));
    if (addrs_.empty())
        return fail(err, Errc::connect, ClientError::resolve,
                    "cannot resolve host '" + where_ + "': no address");
    return try_next(err);
}

// ------------------------------------------------------------- connecting

Connector::Status Connector::try_next(Error &err) {
    while (next_ < addrs_.size()) {
        if (deadline_passed()) return fail_tcp(err, true);
        const Address &a = addrs_[next_++];
        fd_ = ::socket(a.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd_ < 0) {
            record(a, errno);
            continue;
        }
        if (::connect(fd_, reinterpret_cast<const sockaddr *>(&a.sa), a.len) == 0) return connected();
        int e = errno;
        if (e == EINPROGRESS || e == EINTR) {  // EINTR: the connect goes on asynchronously
            // The time left is shared equally by this address and the ones after it.
            attempt_bounded_ = !deadline_.none && next_ < addrs_.size();
            if (attempt_bounded_) {
                auto now = Clock::now();
                auto share = (deadline_.at - now) / static_cast<long>(addrs_.size() - next_ + 1);
                attempt_end_ = now + share;
            }
            phase_ = Phase::connecting;
            return Status::waiting;
        }
        record(a, e);
        close_socket();
    }
    return fail_tcp(err, false);
}

Connector::Status Connector::step_connect(Error &err) {
    pollfd p{fd_, POLLOUT, 0};
    int n = ::poll(&p, 1, 0);
    if (n > 0) {
        int e = 0;
        socklen_t len = sizeof e;
        if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &e, &len) != 0) e = errno;
        if (e == 0 && (p.revents & POLLOUT)) return connected();
        if (e == 0) e = ECONNABORTED;  // hung up without saying why
        if (unix_) return fail_unix(err, e);
        record(addrs_[next_ - 1], e);
        close_socket();
        return try_next(err);
    }
    auto now = Clock::now();
    bool over = passed(deadline_, now);
    if (!over && !(attempt_bounded_ && now >= attempt_end_)) return Status::waiting;
    if (unix_)
        return fail(err, Errc::timeout, ClientError::connect_timeout,
                    "cannot connect to unix socket " + where_ + ": timed out");
    record(addrs_[next_ - 1], ETIMEDOUT);
    close_socket();
    return over ? fail_tcp(err, true) : try_next(err);
}

Connector::Status Connector::begin_unix(Error &err) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, where_.data(), where_.size());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) return fail_unix(err, errno);
    if (::connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0) return connected();
    int e = errno;
    if (e == EINPROGRESS || e == EINTR) {
        attempt_bounded_ = false;
        phase_ = Phase::connecting;
        return Status::waiting;
    }
    if (e == EAGAIN) {
        // The listen queue is full: the connect did not start (the socket
        // would poll writable and hung up), so try again a little later.
        close_socket();
        if (deadline_passed())
            return fail(err, Errc::timeout, ClientError::connect_timeout,
                        "cannot connect to unix socket " + where_ +
                            ": timed out (the server's listen queue is full)");
        retry_at_ = Clock::now() + std::chrono::milliseconds(retry_ms_);
        retry_ms_ = std::min(retry_ms_ * 2, unix_retry_max_ms);
        phase_ = Phase::unix_retry;
        return Status::waiting;
    }
    return fail_unix(err, e);
}

Connector::Status Connector::connected() {
    if (!unix_) {
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(fd_, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    }
    phase_ = Phase::connected;
    return Status::connected;
}

// ---------------------------------------------------------------- failing

void Connector::record(const Address &a, int e) {
    failures_.push_back(Failure{address_text(reinterpret_cast<const sockaddr *>(&a.sa), a.len),
                                e == ETIMEDOUT ? "timed out" : errno_text(e), classify(e)});
}

Connector::Status Connector::fail(Error &err, Errc code, ClientError kind, const std::string &msg) {
    close_resolver();
    close_socket();
    err.set(code, kind, msg);
    error_ = err;
    phase_ = Phase::failed;
    return Status::failed;
}

Connector::Status Connector::fail_unix(Error &err, int e) {
    return fail(err, Errc::connect, classify(e),
                "cannot connect to unix socket " + where_ + ": " + errno_text(e));
}

// "cannot connect to H:P: Connection refused (::1, 127.0.0.1); timed out
// (10.0.0.1)": the reasons most telling first, each with its addresses.
Connector::Status Connector::fail_tcp(Error &err, bool deadline_passed) {
    std::string msg = "cannot connect to ";
    msg += where_.find(':') != std::string::npos ? "[" + where_ + "]" : where_;
    msg += ":" + std::to_string(port_) + ": ";
    std::vector<const Failure *> order;
    for (const Failure &f : failures_) order.push_back(&f);
    std::stable_sort(order.begin(), order.end(), [](const Failure *a, const Failure *b) {
        return rank(a->kind) > rank(b->kind);
    });
    // A literal tried once needs no address list.
    bool one_literal = failures_.size() == 1 && failures_[0].address == where_;
    std::vector<bool> done(order.size(), false);
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (done[i]) continue;
        if (i > 0) msg += "; ";
        msg += order[i]->reason;
        if (one_literal) break;
        msg += " (";
        std::size_t listed = 0, more = 0;
        for (std::size_t j = i; j < order.size(); ++j) {
            if (done[j] || order[j]->reason != order[i]->reason) continue;
            done[j] = true;
            if (listed == listed_per_reason) {
                ++more;
                continue;
            }
            if (listed++) msg += ", ";
            msg += order[j]->address;
        }
        if (more) msg += " and " + std::to_string(more) + " more";
        msg += ")";
    }
    ClientError kind = order.empty() ? ClientError::other : order[0]->kind;
    if (deadline_passed) {
        kind = ClientError::connect_timeout;
        std::size_t untried = addrs_.size() - std::min(next_, addrs_.size());
        if (untried) msg += "; " + std::to_string(untried) + " more address(es) not tried";
        if (order.empty())
            msg += "timed out after " + timeout_text();
        else if (one_literal && !untried)
            msg += " after " + timeout_text();
        else
            msg += "; connect timeout " + timeout_text();
    } else if (order.empty()) {
        msg += "no address";
    }
    return fail(err, kind == ClientError::connect_timeout ? Errc::timeout : Errc::connect, kind, msg);
}

// ---------------------------------------------------------------- closing

bool Connector::deadline_passed() const { return passed(deadline_, Clock::now()); }

std::string Connector::timeout_text() const {
    auto ms = std::chrono::round<std::chrono::milliseconds>(deadline_.at - started_).count();
    return std::to_string(ms) + " ms";
}

void Connector::close_socket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void Connector::close_resolver() {
    if (channel_) {
        // Closes its sockets and calls a pending on_addrinfo with
        // ARES_EDESTRUCTION, which ignores it. Never blocks.
        ares_channeldata *ch = channel_;
        channel_ = nullptr;
        ::ares_destroy(ch);
    }
    dns_fds_.clear();
}

// ----------------------------------------------------------- the blocking loop

Errc wait_for(const Connector &c, int wake_fd, Error &err) {
    Wait w[Connector::max_waits];
    int n = std::min(c.wants(w, Connector::max_waits), Connector::max_waits);
    pollfd p[Connector::max_waits + 1];
    for (int i = 0; i < n; ++i)
        p[i] = pollfd{w[i].fd, static_cast<short>((w[i].read ? POLLIN : 0) | (w[i].write ? POLLOUT : 0)), 0};
    Deadline wake = c.wake_at();
    int timeout = -1;
    if (!wake.none) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(wake.at - Clock::now()).count();
        timeout = left <= 0 ? 0 : left > 0x7FFFFFFF ? 0x7FFFFFFF : static_cast<int>(left);
    }
    if (n == 0 && timeout < 0)  // nothing would ever wake us: a bug
        return err.set(Errc::internal, ClientError::other, "connect: nothing to wait for");
    int all = n;
    if (wake_fd >= 0) p[all++] = pollfd{wake_fd, POLLIN, 0};
    if (::poll(p, static_cast<nfds_t>(all), timeout) < 0 && errno != EINTR && errno != EAGAIN)
        return err.set(Errc::connect, ClientError::other, "connect: poll: " + errno_text(errno));
    return Errc::ok;
}

Errc connect_blocking(Connector &c, Error &err) {
    for (;;) {
        switch (c.step(err)) {
        case Connector::Status::connected: return Errc::ok;
        case Connector::Status::failed: return err.code;
        case Connector::Status::waiting: break;
        }
        if (Errc rc = wait_for(c, -1, err); rc != Errc::ok) {
            c.cancel();
            return rc;
        }
    }
}

WaitSet::~WaitSet() { close(); }

void WaitSet::close() {
    if (ep_ >= 0) ::close(ep_);
    ep_ = -1;
    registered_.clear();
}

Errc WaitSet::arm(const Connector &c, Error &err) {
    if (ep_ < 0) {
        ep_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) return err.set(Errc::connect, ClientError::other, "epoll_create1: " + errno_text(errno));
    }
    for (int fd : registered_) ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);  // closed ones left already
    registered_.clear();
    Wait w[Connector::max_waits];
    int n = std::min(c.wants(w, Connector::max_waits), Connector::max_waits);
    for (int i = 0; i < n; ++i) {
        epoll_event ev{};
        ev.events = (w[i].read ? EPOLLIN : 0u) | (w[i].write ? EPOLLOUT : 0u);
        ev.data.fd = w[i].fd;
        if (::epoll_ctl(ep_, EPOLL_CTL_ADD, w[i].fd, &ev) != 0 && errno != EEXIST)
            return err.set(Errc::connect, ClientError::other, "epoll_ctl: " + errno_text(errno));
        registered_.push_back(w[i].fd);
    }
    return Errc::ok;
}

}  // namespace mywire::io
