#include "connection.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "proto/text_row.hpp"

namespace mywire {

using proto::Action;
using proto::FrameStatus;

// ------------------------------------------------------------------ arena

namespace {

constexpr std::size_t huge_page = 2u << 20;

// Large blocks are mapped on huge-page boundaries and the kernel is asked for
// transparent huge pages: filling them then takes one page fault per 2 MiB
// instead of 512 (buffered reads of big results spent half their time in
// page faults). Returns nullptr on failure.
char *map_huge(std::size_t size) {
    std::size_t span = size + huge_page;
    void *p = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    auto addr = reinterpret_cast<std::uintptr_t>(p);
    std::uintptr_t aligned = (addr + huge_page - 1) & ~(std::uintptr_t(huge_page) - 1);
    if (aligned > addr) ::munmap(p, aligned - addr);
    std::size_t tail = (addr + span) - (aligned + size);
    if (tail) ::munmap(reinterpret_cast<void *>(aligned + size), tail);
    ::madvise(reinterpret_cast<void *>(aligned), size, MADV_HUGEPAGE);  // a hint; may fail
    return reinterpret_cast<char *>(aligned);
}

}  // namespace

char *RowArena::allocate(std::size_t n) {
    if (n > left_) {
        std::size_t size = std::max(n, next_block_);
        blocks_.reserve(blocks_.size() + 1);  // so push_back cannot throw and leak the block
        char *block;
        if (size >= huge_page) {
            size = (size + huge_page - 1) / huge_page * huge_page;
            block = map_huge(size);
        } else {
            block = static_cast<char *>(std::malloc(size));
        }
        if (!block) throw std::bad_alloc();
        blocks_.push_back(Block{block, size, 0});
        left_ = size;
        bytes_ += size;
        if (next_block_ < (4u << 20)) next_block_ *= 2;
    }
    Block &b = blocks_.back();
    char *p = b.data + b.used;
    b.used += n;
    left_ -= n;
    return p;
}

void RowArena::clear() {
    for (Block &b : blocks_) {
        if (b.size >= huge_page)
            ::munmap(b.data, b.size);
        else
            std::free(b.data);
    }
    blocks_.clear();
    left_ = 0;
    next_block_ = 8 * 1024;
    bytes_ = 0;
}

namespace {

// Stored form of a row (see RowArena): per value a 4-byte length (all ones
// for NULL), then the bytes and a NUL. Values are under 1 GiB (the packet
// limit), so the length fits; fetching needs no decoding.
constexpr std::uint32_t stored_null = 0xFFFFFFFF;

// At most: every value's prefix (1+ byte) becomes 4 bytes, plus a NUL.
std::size_t stored_size_bound(std::string_view payload, std::size_t n) {
    return payload.size() + 4 * n;
}

// Parse a text row straight into its stored form at out (room for
// stored_size_bound bytes); sets `written`.
Errc store_text_row(std::string_view payload, std::size_t n, char *out, std::size_t &written) {
    char *start = out;
    Errc rc = proto::visit_text_row<false>(
        payload.data(), payload.size(), n, [&out](std::size_t, const char *data, std::size_t len) {
            std::uint32_t stored = data ? static_cast<std::uint32_t>(len) : stored_null;
            std::memcpy(out, &stored, 4);
            out += 4;
            if (!data) return;
            std::memcpy(out, data, len);
            out += len;
            *out++ = '\0';
        });
    written = static_cast<std::size_t>(out - start);
    return rc;
}

// Decodes a stored row; returns where the next one starts.
const char *load_row(const char *p, mywire_value *v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t len;
        std::memcpy(&len, p, 4);
        p += 4;
        if (len == stored_null) {
            v[i] = {nullptr, 0};
            continue;
        }
        v[i] = {p, len};
        p += len + 1;
    }
    return p;
}

bool fatal(Errc code) {
    return code != Errc::ok && code != Errc::server && code != Errc::argument &&
           code != Errc::option && code != Errc::uri && code != Errc::out_of_sync &&
           code != Errc::state && code != Errc::cancelled && code != Errc::result_too_large;
}

}  // namespace

// ----------------------------------------------------------------- result

Result::~Result() {
    if (conn_) conn_->detach(*this);
}

int Result::fetch() noexcept {
    has_row_ = false;
    if (!streaming_) {
        if (next_ >= stored_) return MYWIRE_DONE;
        const auto &blocks = arena_.blocks();
        if (pos_.offset >= blocks[pos_.block].used) pos_ = RowPos{pos_.block + 1, 0};
        const char *base = blocks[pos_.block].data;
        const char *end = load_row(base + pos_.offset, values_.data(), values_.size());
        pos_.offset = static_cast<std::uint32_t>(end - base);
        ++next_;
        has_row_ = true;
        return MYWIRE_ROW;
    }
    if (error_ != MYWIRE_OK) return error_;
    if (finished_) return MYWIRE_DONE;
    if (!conn_) return error_ = MYWIRE_ERROR_STATE;
    try {
        return conn_->fetch_streaming(*this);
    } catch (const std::bad_alloc &) {
        return fail_exception(Errc::nomem);
    } catch (...) {
        return fail_exception(Errc::internal);
    }
}

int Result::fail_exception(Errc code) noexcept {
    // Connection::on_exception ends this result (it is the active one) and
    // closes the connection; a result it no longer knows ends here.
    if (conn_) conn_->on_exception(code);
    finished_ = true;
    has_row_ = false;
    if (error_ == MYWIRE_OK) error_ = static_cast<int>(code);
    return error_;
}

Errc Result::seek(std::uint64_t index) noexcept {
    if (streaming_ || index > stored_) return Errc::argument;
    if (index_.empty() && stored_ > 0) try {
        // First seek: index every row once.
        index_.reserve(stored_);
        const auto &blocks = arena_.blocks();
        for (std::uint32_t b = 0; b < blocks.size(); ++b) {
            const char *base = blocks[b].data;
            for (std::size_t off = 0; off < blocks[b].used;) {
                index_.push_back(RowPos{b, static_cast<std::uint32_t>(off)});
                off = static_cast<std::size_t>(load_row(base + off, values_.data(), values_.size()) - base);
            }
        }
    } catch (...) {
        index_.clear();
        index_.shrink_to_fit();
        return Errc::nomem;  // the result is as it was
    }
    next_ = index;
    pos_ = index < stored_ ? index_[index] : RowPos{static_cast<std::uint32_t>(arena_.blocks().size()), 0};
    has_row_ = false;
    return Errc::ok;
}

// ------------------------------------------------------------- connection

Connection::~Connection() {
    close();
}

template <class Op>
Errc Connection::run(Op &op, io::Deadline overall) {
    for (;;) {
        Action a = op.resume(session);
        switch (a) {
        case Action::done:
            return Errc::ok;
        case Action::error:
            return fail(session.err.code);
        case Action::write:
        case Action::start_tls: {
            io::Deadline d = overall.none ? io::Deadline::after_ms(opts.write_timeout_ms) : overall;
            Errc rc = write_wbuf(d, session.err);
            if (rc != Errc::ok) return fail(rc);
            if (a == Action::start_tls) {
                rc = channel_.start_tls(opts, tls_mode_, tls_host_, d, session.err);
                if (rc != Errc::ok) return fail(rc);
                session.tls_verified = channel_.tls_info.verified;  // the password rule needs it
            }
            break;
        }
        case Action::read: {
            Errc rc = read_more(overall.none ? io::Deadline::after_ms(opts.read_timeout_ms) : overall);
            if (rc != Errc::ok) return rc;
            break;
        }
        }
    }
}

Errc Connection::write_wbuf(io::Deadline d, Error &err) {
    if (session.new_command) {  // the compressed protocol's ids restart too
        channel_.begin_command();
        session.new_command = false;
    }
    Errc rc = channel_.write_all(session.wbuf.data(), session.wbuf.size(), d, err);
    if (wipe_writes_)
        proto::wipe(session.wbuf);  // login packets may hold a password
    else
        session.wbuf.clear();
    return rc;
}

Errc Connection::read_more(io::Deadline d) {
    session.rbuf.prepare(std::max<std::size_t>(session.read_hint(), 16 * 1024));
    Errc rc = channel_.read_some(session.rbuf, d, session.err);
    return rc == Errc::ok ? rc : fail(rc);
}

Errc Connection::fail(Errc code) {
    if (fatal(code)) {
        channel_.close();
        state = State::broken;
        abandon_active(static_cast<int>(code));
        session.packets.reset();
    }
    return code;
}

Errc Connection::on_exception(Errc code) noexcept {
    session.err.set(code, code == Errc::nomem ? "out of memory; the connection was closed"
                                              : "internal error; the connection was closed");
    if (state != State::idle && state != State::closed) state = State::broken;
    abandon_active(static_cast<int>(code));
    channel_.close();
    session.packets.reset();
    proto::wipe(session.wbuf);
    wipe_writes_ = false;
    return code;
}

const char *Connection::stable(std::string_view s) const noexcept {
    for (const std::string &kept : stable_)
        if (kept == s) return kept.c_str();
    try {
        return stable_.emplace_back(s).c_str();
    } catch (...) {
        return "";  // out of memory: an empty string, never a dangling one
    }
}

void Connection::abandon_active(int code) {
    if (!active_) return;
    active_->finished_ = true;
    active_->error_ = code;
    active_->conn_ = nullptr;
    active_ = nullptr;
}

Errc Connection::connect() {
    if (connected()) return session.err.set(Errc::state, "already connected");
    if (state == State::closed) return session.err.set(Errc::state, "the connection was closed");
    session = proto::Session{};
    session.max_packet = static_cast<std::size_t>(opts.max_allowed_packet);
    server = proto::ServerInfo{};
    io::Deadline d = io::Deadline::after_ms(opts.connect_timeout_ms);
    channel_.close();
    channel_.tls_info = io::TlsInfo{};
    Errc rc;
    bool unix_socket = !opts.unix_socket.empty();
    tls_host_ = opts.host.empty() ? "localhost" : opts.host;  // over a socket too, for VERIFY_IDENTITY
    if (opts.adopt_fd >= 0)  // tests only (Options::adopt_fd)
        rc = channel_.socket.adopt(std::exchange(opts.adopt_fd, -1), unix_socket, session.err);
    else if (unix_socket)
        rc = channel_.socket.connect_unix(opts.unix_socket, d, session.err);
    else
        rc = channel_.socket.connect_tcp(tls_host_, opts.port, d, session.err);
    if (rc != Errc::ok) {
        state = State::broken;
        return rc;
    }
    tls_mode_ = opts.effective_ssl_mode(unix_socket);
    proto::HandshakeOp op(opts, unix_socket, tls_mode_, server);
    wipe_writes_ = true;  // until the login ends: its packets may carry a password
    rc = run(op, d);
    wipe_writes_ = false;
    if (rc != Errc::ok) {
        // A server error during login also ends the connection.
        if (server.tls_failure != MYWIRE_TLS_FAILURE_NONE) channel_.tls_info.failure = server.tls_failure;
        if (rc == Errc::tls && channel_.tls_info.failure == MYWIRE_TLS_FAILURE_NONE)
            channel_.tls_info.failure = MYWIRE_TLS_FAILURE_HANDSHAKE;
        channel_.close();
        state = State::broken;
        return rc;
    }
    // The compressed protocol starts after the OK that ends authentication.
    // Bytes already received after that OK were sent before the switch (or
    // injected): refused unread, as at the TLS boundary.
    if ((session.capabilities & (proto::cap::zstd | proto::cap::compress)) && !session.rbuf.pending().empty()) {
        channel_.close();
        state = State::broken;
        return session.err.set(Errc::protocol, "the server sent unexpected bytes right after the login OK, "
                                               "before the compressed protocol started (refused without "
                                               "reading them)");
    }
    if (session.capabilities & proto::cap::zstd)
        channel_.start_compression(proto::Compression::zstd, opts.compression_level);
    else if (session.capabilities & proto::cap::compress)
        channel_.start_compression(proto::Compression::zlib, opts.compression_level);
    session.packets.check_sequence(channel_.compression() == proto::Compression::none);
    state = State::ready;
    session.err.clear();
    return Errc::ok;
}

Errc Connection::ready_for_command() {
    switch (state) {
    case State::ready:
        return Errc::ok;
    case State::streaming:
        return session.err.set(Errc::out_of_sync,
                               "commands out of sync: a streaming result is still being read");
    case State::more_results:
        return session.err.set(Errc::out_of_sync,
                               "commands out of sync: read the remaining results with "
                               "mywire_next_result first");
    case State::idle:
        return session.err.set(Errc::state, "not connected");
    case State::closed:
        return session.err.set(Errc::state, "the connection was closed");
    case State::broken:
        break;
    }
    return session.err.set(Errc::state, "the connection failed earlier; connect again");
}

void Connection::finish_result(std::uint16_t status) {
    state = (status & proto::status::more_results) ? State::more_results : State::ready;
}

void Connection::end_rows(Result &r, const proto::OkPacket &end) {
    r.finished_ = true;
    r.head.ok.status_flags = end.status_flags;
    r.head.ok.warnings = end.warnings;
    finish_result(end.status_flags);
}

Errc Connection::query(std::string_view sql, bool streaming, Result *&out) {
    out = nullptr;
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    auto res = std::make_unique<Result>(this, streaming);
    proto::ResultHeadOp op(res->head, head_limits());
    op.set_query(sql);
    if (Errc rc = read_result(op, *res); rc != Errc::ok) return rc;
    out = res.release();
    return Errc::ok;
}

int Connection::next_result(bool streaming, Result *&out) {
    out = nullptr;
    if (state == State::streaming && active_) {
        // Drain the unread rows of the previous result first.
        Result *prev = active_;
        int rc;
        while ((rc = prev->fetch()) == MYWIRE_ROW) {
        }
        if (rc != MYWIRE_DONE) return rc;
    }
    if (state == State::ready) return MYWIRE_DONE;
    if (state != State::more_results) return static_cast<int>(ready_for_command());
    auto res = std::make_unique<Result>(this, streaming);
    proto::ResultHeadOp op(res->head, head_limits());
    if (Errc rc = read_result(op, *res); rc != Errc::ok) return static_cast<int>(rc);
    out = res.release();
    return MYWIRE_OK;
}

Errc Connection::read_result(proto::ResultHeadOp &op, Result &r) {
    state = State::ready;  // an ERR ends the command and leaves the connection usable
    if (Errc rc = run(op); rc != Errc::ok) return rc;
    session.err.clear();
    if (r.head.columns.empty()) {
        r.finished_ = true;
        r.conn_ = nullptr;
        finish_result(r.head.ok.status_flags);
        return Errc::ok;
    }
    r.values_.resize(r.head.columns.size());
    if (r.streaming_) {
        state = State::streaming;
        active_ = &r;
        return Errc::ok;
    }
    r.conn_ = nullptr;  // a buffered result owns everything it needs
    return store_rows(r);
}

Errc Connection::store_rows(Result &r) {
    const std::size_t n = r.values_.size();
    mywire_value *v = r.values_.data();
    bool over_limit = false;
    for (;;) {
        proto::RowOp op;
        if (Errc rc = read_row(op); rc != Errc::ok) return rc;
        if (op.end) {
            end_rows(r, op.end_ok);
            if (over_limit)
                return session.err.set(Errc::result_too_large,
                                       "the buffered result exceeds max_result_bytes (" +
                                           std::to_string(opts.max_result_bytes) +
                                           "); use a streaming result or raise the limit");
            return Errc::ok;
        }
        std::size_t bound = stored_size_bound(op.payload, n);
        // The index a seek may build counts too (8 bytes a row).
        if (!over_limit && opts.max_result_bytes &&
            r.arena_.bytes() + bound + (r.stored_ + 1) * Result::index_bytes_per_row >
                opts.max_result_bytes) {
            over_limit = true;
            r.arena_.clear();
            r.stored_ = 0;
        }
        if (over_limit) {
            // Drain the rest (still checked) so the connection stays usable.
            if (proto::parse_text_row(op.payload, n, v) != Errc::ok)
                return fail(session.err.set(Errc::protocol, "malformed row packet"));
            continue;
        }
        std::size_t written = 0;
        Errc rc = store_text_row(op.payload, n, r.arena_.allocate(bound), written);
        r.arena_.give_back(bound - written);
        if (rc != Errc::ok) return fail(session.err.set(Errc::protocol, "malformed row packet"));
        ++r.stored_;
    }
}

Errc Connection::read_row(proto::RowOp &op) {
    std::string_view packet;
    FrameStatus st;
    while ((st = session.read_packet(packet)) == FrameStatus::need_more)
        if (Errc rc = read_more(io::Deadline::after_ms(opts.read_timeout_ms)); rc != Errc::ok) return rc;
    if (st == FrameStatus::error) return fail(session.err.code);
    auto first = packet.empty() ? 0 : static_cast<std::uint8_t>(packet[0]);
    if (packet.empty() || first == 0xFE || first == 0xFF) {
        // the end marker, an error, or (rarely) a row starting with 0xFE
        if (op.on_packet(session, packet) == Action::error) return fail(session.err.code);
        return Errc::ok;
    }
    op.end = false;
    op.payload = packet;
    return Errc::ok;
}

int Connection::fetch_streaming(Result &r) {
    // The hot path of streaming: the framing fast path, then one pass over
    // the row, in place.
    proto::RowOp op;
    Errc rc = read_row(op);
    if (rc != Errc::ok) {
        if (active_ == &r) {
            abandon_active(static_cast<int>(rc));
            if (state == State::streaming) state = State::ready;  // an ERR ended the result
        }
        r.finished_ = true;
        r.error_ = static_cast<int>(rc);
        return r.error_;
    }
    if (op.end) {
        active_ = nullptr;
        r.conn_ = nullptr;
        end_rows(r, op.end_ok);
        return MYWIRE_DONE;
    }
    std::string_view packet = op.payload;
    char *data = const_cast<char *>(packet.data());
    if (proto::parse_text_row_in_place(data, packet.size(), r.values_.size(), r.values_.data()) !=
        Errc::ok) {
        return static_cast<int>(fail(session.err.set(Errc::protocol, "malformed row packet")));
    }
    // Every value but the last ends at the next one's (overwritten) prefix;
    // the last ends at the payload's end, terminated in the spare byte.
    session.packets.terminate_payload(session.rbuf, packet);
    ++r.fetched_;
    r.has_row_ = true;
    return MYWIRE_ROW;
}

void Connection::detach(Result &r) noexcept {
    if (active_ != &r) return;
    // Drain unread rows so the connection can run the next command. Runs in
    // a destructor: an exception here closes the connection instead.
    try {
        while (!r.finished_ && fetch_streaming(r) == MYWIRE_ROW) {
        }
    } catch (const std::bad_alloc &) {
        on_exception(Errc::nomem);
    } catch (...) {
        on_exception(Errc::internal);
    }
    if (active_ == &r) active_ = nullptr;
    r.conn_ = nullptr;
}

Errc Connection::run_command(proto::SimpleCommandOp &op) {
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    Errc rc = run(op);
    if (rc == Errc::ok) session.err.clear();
    return rc;
}

Errc Connection::simple_command(std::uint8_t cmd, std::string_view arg) {
    proto::SimpleCommandOp op(cmd, arg, proto::SimpleCommandOp::Reply::ok);
    return run_command(op);
}

Errc Connection::set_server_option(std::uint16_t option) {
    auto op = proto::SimpleCommandOp::set_option(option);
    return run_command(op);
}

Errc Connection::statistics(std::string &text) {
    proto::SimpleCommandOp op(proto::command::statistics, {}, proto::SimpleCommandOp::Reply::text);
    Errc rc = run_command(op);
    if (rc == Errc::ok) text = std::move(op.text);
    return rc;
}

void Connection::close() noexcept {
    abandon_active(MYWIRE_ERROR_STATE);
    if (channel_.socket.fd() >= 0 && (state == State::ready || state == State::more_results ||
                                      state == State::streaming)) {
        // Best effort: COM_QUIT has no reply and a short deadline.
        try {
            session.begin_command();
            session.write_packet(
                [](std::vector<std::uint8_t> &out) { proto::build_command(out, proto::command::quit); });
            Error ignored;
            write_wbuf(io::Deadline::after_ms(1000), ignored);
        } catch (...) {
        }
    }
    channel_.close();
    state = State::closed;  // never-connected handles too: only free and getters are left
}

}  // namespace mywire
