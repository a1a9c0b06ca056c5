#include "io/socket.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace mywire::io {

// strerror is not thread-safe; the GNU strerror_r returns the text to use.
std::string errno_text(int e) {
    char buf[128];
    return ::strerror_r(e, buf, sizeof buf);
}

namespace {

std::string sys_error(const char *what, int e) {
    return std::string(what) + ": " + errno_text(e);
}

}  // namespace

Errc Socket::wait(short events, Deadline d, const char *what, Error &err) {
    for (;;) {
        int timeout = -1;
        if (!d.none) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(d.at - Clock::now()).count();
            // Past the deadline the socket is still looked at once (timeout
            // 0): bytes that came while this thread was not running are not
            // a timeout.
            timeout = left <= 0 ? 0 : left > 0x7FFFFFFF ? 0x7FFFFFFF : static_cast<int>(left);
        }
        pollfd p{fd_, events, 0};
        int n = ::poll(&p, 1, timeout);
        if (n > 0) return Errc::ok;  // readable, writable, or an error the next call reports
        if (n == 0) return err.set(Errc::timeout, std::string(what) + " timed out");
        if (errno != EINTR) return err.set(Errc::lost, sys_error("poll", errno));
        // EINTR: retried with the time that is left
    }
}

Errc Socket::adopt(int fd, bool unix_socket, Error &err) {
    close();
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        int e = errno;
        ::close(fd);
        return err.set(Errc::connect, sys_error("adopting a socket", e));
    }
    fd_ = fd;
    unix_ = unix_socket;
    return Errc::ok;
}

Errc Socket::read_some(proto::ReadBuffer &buf, Deadline d, Error &err) {
    if (fd_ < 0) return err.set(Errc::state, "not connected");
    for (;;) {
        ssize_t n = ::recv(fd_, buf.space(), buf.space_size(), 0);
        if (n > 0) {
            buf.commit(static_cast<std::size_t>(n));
            return Errc::ok;
        }
        if (n == 0) return err.set(Errc::lost, "lost connection: the server closed the connection");
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (Errc rc = wait(POLLIN, d, "read", err); rc != Errc::ok) return rc;
            continue;
        }
        return err.set(Errc::lost, "lost connection: " + sys_error("read", errno));
    }
}

Errc Socket::write_all(const std::uint8_t *data, std::size_t len, Deadline d, Error &err) {
    if (fd_ < 0) return err.set(Errc::state, "not connected");
    while (len > 0) {
        // MSG_NOSIGNAL: a closed peer gives EPIPE, not SIGPIPE; the process's
        // signal handling is left alone.
        ssize_t n = ::send(fd_, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (Errc rc = wait(POLLOUT, d, "write", err); rc != Errc::ok) return rc;
            continue;
        }
        return err.set(Errc::lost, "lost connection: " + sys_error("write", n < 0 ? errno : EIO));
    }
    return Errc::ok;
}

Socket::Io Socket::try_read(proto::ReadBuffer &buf, Error &err) {
    if (fd_ < 0) return err.set(Errc::state, "not connected"), Io::failed;
    for (;;) {
        ssize_t n = ::recv(fd_, buf.space(), buf.space_size(), 0);
        if (n > 0) {
            buf.commit(static_cast<std::size_t>(n));
            return Io::done;
        }
        if (n == 0) {
            err.set(Errc::lost, ClientError::lost_reading, "lost connection: the server closed the connection");
            return Io::failed;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::would_block;
        err.set(Errc::lost, ClientError::lost_reading, "lost connection: " + sys_error("read", errno));
        return Io::failed;
    }
}

Socket::Io Socket::try_write(const std::uint8_t *data, std::size_t n, std::size_t &written, Error &err) {
    written = 0;
    if (fd_ < 0) return err.set(Errc::state, "not connected"), Io::failed;
    for (;;) {
        // MSG_NOSIGNAL: a closed peer gives EPIPE, not SIGPIPE; the process's
        // signal handling is left alone.
        ssize_t w = ::send(fd_, data, n, MSG_NOSIGNAL);
        if (w > 0) {
            written = static_cast<std::size_t>(w);
            return Io::done;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Io::would_block;
        err.set(Errc::lost, ClientError::send_failed, "lost connection: " + sys_error("write", w < 0 ? errno : EIO));
        return Io::failed;
    }
}

Errc Socket::poll_for(bool write, Deadline d, int wake_fd, Error &err) {
    for (;;) {
        int timeout = -1;
        if (!d.none) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(d.at - Clock::now()).count();
            // Past the deadline the socket is still looked at once (timeout
            // 0): bytes that came while this thread was not running (a
            // loaded machine) are not a timeout.
            timeout = left <= 0 ? 0 : left > 0x7FFFFFFF ? 0x7FFFFFFF : static_cast<int>(left) + 1;
        }
        pollfd p[2] = {{fd_, static_cast<short>(write ? POLLOUT : POLLIN), 0}, {wake_fd, POLLIN, 0}};
        int n = ::poll(p, wake_fd >= 0 ? 2 : 1, timeout);
        if (n > 0) return Errc::ok;
        if (n == 0) {
            if (timeout == 0)
                return err.set(Errc::timeout, write ? ClientError::write_timeout : ClientError::read_timeout,
                               write ? "write timed out" : "read timed out");
            continue;  // woken early: the deadline check above decides
        }
        if (errno != EINTR) return err.set(Errc::lost, ClientError::other, sys_error("poll", errno));
    }
}

void Socket::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

}  // namespace mywire::io
