// A connection and its results: the blocking driver over the sans-io
// operations in proto/operations.hpp, and the row storage of results.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/channel.hpp"
#include "options.hpp"
#include "proto/operations.hpp"
#include "proto/reader.hpp"

namespace mywire {

class Connection;

// Buffered rows: stored back to back in large blocks (the format is in
// connection.cpp, store_row). A row never spans two blocks. Rows are found by walking; an index is only built if the
// caller seeks. Memory stays close to the size of the rows' payloads.
class RowArena {
public:
    struct Block {
        char *data;
        std::size_t size;
        std::size_t used;
    };
    RowArena() = default;
    RowArena(const RowArena &) = delete;
    RowArena &operator=(const RowArena &) = delete;
    ~RowArena() { clear(); }

    // Room for n bytes at the end of the last block; valid until the arena
    // is cleared or destroyed.
    char *allocate(std::size_t n);
    // Return the last n bytes of the latest allocation.
    void give_back(std::size_t n) {
        blocks_.back().used -= n;
        left_ += n;
    }
    std::uint64_t bytes() const { return bytes_; }
    const std::vector<Block> &blocks() const { return blocks_; }
    void clear();

private:
    std::vector<Block> blocks_;
    std::size_t left_ = 0;
    std::size_t next_block_ = 8 * 1024;  // small results stay small
    std::uint64_t bytes_ = 0;
};

// A row's place in a RowArena.
struct RowPos {
    std::uint32_t block = 0;
    std::uint32_t offset = 0;  // blocks stay under 4 GiB: rows are under 1 GiB (the packet limit)
};

class Result {
public:
    Result(Connection *conn, bool streaming) : conn_(conn), streaming_(streaming) {}
    ~Result();

    proto::ResultHead head;
    std::uint64_t affected_rows() const { return head.ok.affected_rows; }

    unsigned column_count() const { return static_cast<unsigned>(head.columns.size()); }
    bool streaming() const { return streaming_; }
    std::uint64_t row_count() const { return streaming_ ? fetched_ : stored_; }
    const mywire_value *row() const { return has_row_ ? values_.data() : nullptr; }

    // MYWIRE_ROW, MYWIRE_DONE or an error code. Never throws: an exception
    // (out of memory) ends the result with a sticky error, recorded on the
    // connection, which is closed (it was left in the middle of a reply).
    int fetch() noexcept;
    static constexpr std::size_t index_bytes_per_row = sizeof(RowPos);  // counted in max_result_bytes
    // Never throws (Errc::nomem when the index cannot be built).
    Errc seek(std::uint64_t index) noexcept;

private:
    friend class Connection;
    int fail_exception(Errc code) noexcept;
    Connection *conn_;  // null once the connection is gone
    bool streaming_;
    bool finished_ = false;  // all rows (and the end marker) read, or failed
    int error_ = MYWIRE_OK;  // why a streaming result stopped early; sticky
    bool has_row_ = false;
    std::uint64_t fetched_ = 0;
    std::vector<mywire_value> values_;
    // buffered
    RowArena arena_;
    std::uint64_t stored_ = 0;
    std::uint64_t next_ = 0;  // index of the row the next fetch returns
    RowPos pos_;              // where that row is
    std::vector<RowPos> index_;  // built on the first seek
};

class Connection {
public:
    Connection() = default;
    ~Connection();

    enum class State { idle, ready, streaming, more_results, broken, closed };

    Options opts;
    proto::Session session;
    proto::ServerInfo server;
    State state = State::idle;
    std::string statistics_text;  // mywire_statistics' answer

    Error &err() { return session.err; }
    // An exception (out of memory, or a bug) escaped the core in the middle
    // of a call: record it and close the connection, whose protocol state is
    // unknown now (a later command must never read an earlier reply's
    // leftovers). Returns the code. Never throws.
    Errc on_exception(Errc code) noexcept;
    // A copy of s that stays valid until the connection is freed, across
    // reconnects (mywire_server_version and the like hand these out).
    const char *stable(std::string_view s) const noexcept;
    bool connected() const { return state != State::idle && state != State::broken && state != State::closed; }

    // From idle or after a failure; not after close().
    Errc connect();
    // Returns ok with *out set, or an error.
    Errc query(std::string_view sql, bool streaming, Result *&out);
    // ok with *out set, or MYWIRE_DONE as Errc (see capi), or an error.
    int next_result(bool streaming, Result *&out);
    Errc simple_command(std::uint8_t cmd, std::string_view arg);
    Errc set_server_option(std::uint16_t option);
    Errc statistics(std::string &text);
    void close() noexcept;  // closes a never-connected handle too

    bool more_results() const { return state == State::more_results; }
    int socket_fd() const { return channel_.socket.fd(); }
    const io::TlsInfo &tls_info() const { return channel_.tls_info; }
    proto::Compression compression() const { return channel_.compression(); }
    bool is_unix() const { return channel_.socket.is_unix(); }

    // For Result.
    int fetch_streaming(Result &r);
    void detach(Result &r) noexcept;
    // Stop the active streaming result early with a sticky error.
    void abandon_active(int code);

private:
    Errc run_command(proto::SimpleCommandOp &op);
    // Checks that a new command may start.
    Errc ready_for_command();
    // Reads the result head, and all rows when buffered.
    Errc read_result(proto::ResultHeadOp &op, Result &r);
    Errc store_rows(Result &r);
    // After a result's end: more results pending or ready.
    void finish_result(std::uint16_t status);
    // The end marker after a result's rows: record it on r, then as above.
    void end_rows(Result &r, const proto::OkPacket &end);
    template <class Op>
    Errc run(Op &op, io::Deadline overall = {});
    Errc fail(Errc code);
    Errc read_more(io::Deadline d);
    // Send session.wbuf (starting a new command in the channel if it is one).
    Errc write_wbuf(io::Deadline d, Error &err);
    // The next packet of a result's rows, classified by op.
    Errc read_row(proto::RowOp &op);  // marks the connection broken for fatal errors

    proto::ResultHeadOp::Limits head_limits() const {
        return {opts.max_columns, static_cast<std::size_t>(opts.max_metadata_bytes)};
    }

    io::Channel channel_;
    bool wipe_writes_ = false;  // wipe session.wbuf after each write (the login)
    int tls_mode_ = MYWIRE_SSL_MODE_DISABLED;  // resolved at connect
    std::string tls_host_;                     // the name or address TLS checks
    Result *active_ = nullptr;  // the streaming result still reading rows
    // Strings handed out by stable(); never shrinks while the handle lives.
    mutable std::deque<std::string> stable_;
};

}  // namespace mywire
