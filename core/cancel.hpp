// Cancel and abort from any thread (mywire_cancel, mywire_abort).
//
// A Connection belongs to one thread at a time (the one running its calls,
// or the event loop driving it). Another thread may only touch the two
// objects below, which are safe for that:
//   - CancelInfo: a copy of what a side connection needs to send KILL QUERY
//     (the options and the connection id), taken when a connect succeeds and
//     dropped when the connection ends, behind a mutex; and the "a cancel was
//     requested" flag the blocked call checks when the server's
//     ER_QUERY_INTERRUPTED ends it.
//   - Waker: an eventfd the blocking wait polls next to the socket, and the
//     "an abort was requested" flag that step() checks.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "options.hpp"

namespace mywire {

class CancelInfo {
public:
    // Owner thread: the connect succeeded (copies o, adjusted for a side
    // connection: no database, no multi statements, no compression, reads
    // and writes bounded by connect_timeout).
    void publish(const Options &o, std::uint64_t connection_id);
    // Owner thread: the connection ended; nothing is left to cancel.
    void clear() noexcept;
    // Any thread: the side connection's options and the id to kill; false
    // when the connection is not (or no longer) connected.
    bool snapshot(Options &o, std::uint64_t &connection_id) const;

    // Any thread: set before KILL QUERY is sent.
    void request() noexcept { requested_.store(true, std::memory_order_release); }
    // Owner thread: a new command starts (an earlier cancel was not for it).
    void clear_request() noexcept { requested_.store(false, std::memory_order_relaxed); }
    bool requested() const noexcept { return requested_.load(std::memory_order_acquire); }

private:
    mutable std::mutex m_;
    bool valid_ = false;
    Options opts_;
    std::uint64_t id_ = 0;
    std::atomic<bool> requested_{false};
};

// KILL QUERY connection_id over a short blocking side connection opened with
// o, in the calling thread. Errc::ok, or the side connection's error.
Errc kill_query(Options o, std::uint64_t connection_id);

// The abort wake-up: an eventfd created by the owner thread (open(), once;
// closed with the Waker), written by any thread (wake()).
//
// The flag is set after the eventfd is written and taken (cleared, then the
// eventfd drained) by the owner, so the eventfd is never left readable with
// the flag clear: a blocking wait woken by it finds the flag set (at most
// after the moment between the aborting thread's write and its store), and
// a consumed abort never wakes a later wait.
class Waker {
public:
    Waker() = default;
    Waker(const Waker &) = delete;
    Waker &operator=(const Waker &) = delete;
    ~Waker();

    // Owner thread: create the eventfd unless it exists.
    Errc open(Error &err);
    // Any thread: -1 until open() succeeded.
    int fd() const noexcept { return fd_.load(std::memory_order_acquire); }
    // Any thread: request an abort and wake the wait. False without an eventfd.
    bool wake() noexcept;
    // Owner thread: cheap check (one atomic load) for step().
    bool pending() const noexcept { return requested_.load(std::memory_order_acquire); }
    // Owner thread: consume a pending abort; true if there was one.
    bool take() noexcept;

private:
    std::atomic<int> fd_{-1};
    std::atomic<bool> requested_{false};
};

}  // namespace mywire
