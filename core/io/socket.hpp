// The I/O edge: a connected TCP or unix socket with deadlines (opened by
// io::Connector, connector.hpp). Only io/ makes socket system calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "proto/errors.hpp"
#include "proto/framing.hpp"

namespace mywire::io {

using Clock = std::chrono::steady_clock;

// An absolute point on the monotonic clock; `none` means wait forever.
struct Deadline {
    Clock::time_point at{};
    bool none = true;
    static Deadline after_ms(unsigned ms) {
        if (ms == 0) return {};
        return {Clock::now() + std::chrono::milliseconds(ms), false};
    }
};

// strerror_r's text for an errno value (strerror is not thread-safe).
std::string errno_text(int e);

class Socket {
public:
    Socket() = default;
    Socket(const Socket &) = delete;
    Socket &operator=(const Socket &) = delete;
    ~Socket() { close(); }

    // Take over a connected stream socket (from io::Connector::take_fd, or
    // Options::adopt_fd in tests). It is made non-blocking and closed with
    // this Socket; on failure it is closed at once.
    Errc adopt(int fd, bool unix_socket, Error &err);
    // Read what is available (at least one byte, at most the buffer's free
    // space after prepare()) into buf.
    Errc read_some(proto::ReadBuffer &buf, Deadline d, Error &err);
    Errc write_all(const std::uint8_t *data, std::size_t len, Deadline d, Error &err);
    void close();

    // Non-blocking I/O for the engine's driver: each returns at once.
    enum class Io { done, would_block, failed };
    // recv into buf's free space; done with the bytes committed.
    Io try_read(proto::ReadBuffer &buf, Error &err);
    // send up to n bytes; done with `written` set.
    Io try_write(const std::uint8_t *data, std::size_t n, std::size_t &written, Error &err);
    // Wait until the socket is readable/writable, wake_fd (if >= 0) is
    // readable, or the deadline passes. Returns ok (ready or woken: the
    // caller checks), timeout, or lost (poll failed).
    Errc poll_for(bool write, Deadline d, int wake_fd, Error &err);

    int fd() const { return fd_; }
    bool is_unix() const { return unix_; }

private:
    // Wait until fd is ready for `events` or the deadline passes.
    Errc wait(short events, Deadline d, const char *what, Error &err);
    int fd_ = -1;
    bool unix_ = false;
};

}  // namespace mywire::io
