#include "cancel.hpp"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "connection.hpp"
#include "io/socket.hpp"

namespace mywire {

// ------------------------------------------------------------- CancelInfo

void CancelInfo::publish(const Options &o, std::uint64_t connection_id) {
    Options side = o;  // copied outside the lock (it allocates)
    side.database.clear();  // KILL needs none; mywire_select_db may have changed it
    side.multi_statements = false;
    side.compress = compress_opt::off;
    side.adopt_fd = -1;
    // A cancel must not hang on a server that stopped answering.
    side.read_timeout_ms = side.write_timeout_ms = side.connect_timeout_ms;
    std::lock_guard<std::mutex> lock(m_);
    std::swap(opts_, side);
    id_ = connection_id;
    valid_ = true;
}  // the previous copy is wiped and freed here, outside the lock

void CancelInfo::clear() noexcept {
    Options old;
    {
        std::lock_guard<std::mutex> lock(m_);
        if (!valid_) return;
        valid_ = false;
        id_ = 0;
        std::swap(opts_, old);
    }
}  // old (its secrets wiped) freed outside the lock

bool CancelInfo::snapshot(Options &o, std::uint64_t &connection_id) const {
    std::lock_guard<std::mutex> lock(m_);
    if (!valid_) return false;
    o = opts_;
    connection_id = id_;
    return true;
}

Errc kill_query(Options o, std::uint64_t connection_id) {
    Connection side;
    side.opts = std::move(o);
    Errc rc = side.connect();
    if (rc == Errc::ok) {
        Result *r = nullptr;
        rc = side.query("KILL QUERY " + std::to_string(connection_id), false, r);
        Result::release(r);
    }
    side.close();
    return rc;
}

// ------------------------------------------------------------------ Waker

Waker::~Waker() {
    int fd = fd_.exchange(-1);
    if (fd >= 0) ::close(fd);
}

Errc Waker::open(Error &err) {
    if (fd_.load(std::memory_order_relaxed) >= 0) return Errc::ok;
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return err.set(Errc::connect, ClientError::other,
                       "cannot create the wake-up eventfd for mywire_abort: " + io::errno_text(errno));
    fd_.store(fd, std::memory_order_release);
    return Errc::ok;
}

bool Waker::wake() noexcept {
    int fd = fd_.load(std::memory_order_acquire);
    if (fd < 0) return false;
    const std::uint64_t one = 1;
    // EAGAIN: the counter is saturated, which wakes as well.
    while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
    requested_.store(true, std::memory_order_release);  // after the write: see the class comment
    return true;
}

bool Waker::take() noexcept {
    if (!requested_.exchange(false, std::memory_order_acq_rel)) return false;
    int fd = fd_.load(std::memory_order_relaxed);
    std::uint64_t n;
    while (fd >= 0 && ::read(fd, &n, sizeof n) < 0 && errno == EINTR) {
    }
    return true;
}

}  // namespace mywire
