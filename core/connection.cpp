#include "connection.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "io/connector.hpp"
#include "io/system.hpp"
#include "proto/sqlformat.hpp"
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

void RowArena::free_block(const Block &b) noexcept {
    if (b.size >= huge_page)
        ::munmap(b.data, b.size);
    else
        std::free(b.data);
}

void RowArena::clear() {
    for (const Block &b : blocks_) free_block(b);
    blocks_.clear();
    left_ = 0;
    next_block_ = first_block;
    bytes_ = 0;
}

void RowArena::keep_first() noexcept {
    if (blocks_.empty() || blocks_[0].size != first_block) return clear();
    for (std::size_t i = 1; i < blocks_.size(); ++i) free_block(blocks_[i]);
    blocks_.resize(1);
    blocks_[0].used = 0;
    left_ = first_block;
    next_block_ = 2 * first_block;  // as after the first block's allocation
    bytes_ = first_block;
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
// One value in the stored form at out, which moves past it.
inline void store_value(char *&out, const char *data, std::size_t len) {
    std::uint32_t stored = data ? static_cast<std::uint32_t>(len) : stored_null;
    std::memcpy(out, &stored, 4);
    out += 4;
    if (!data) return;
    std::memcpy(out, data, len);
    out += len;
    *out++ = '\0';
}

Errc store_text_row(std::string_view payload, std::size_t n, char *out, std::size_t &written) {
    char *start = out;
    Errc rc = proto::visit_text_row<false>(
        payload.data(), payload.size(), n,
        [&out](std::size_t, const char *data, std::size_t len) { store_value(out, data, len); });
    written = static_cast<std::size_t>(out - start);
    return rc;
}

// Decodes a stored row; returns where the next one starts.
const char *load_row(const char *p, Value *v, std::size_t n) {
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

// Which codes close the connection: the one list, proto/errc.def.

}  // namespace

// ------------------------------------------------------------------ sinks

// A row nobody keeps (draining, or past max_result_bytes): checked, dropped.
static Errc drop_text_row(proto::Session &s, std::string_view payload, std::size_t columns) {
    Errc rc = proto::visit_text_row<false>(payload.data(), payload.size(), columns,
                                          [](std::size_t, const char *, std::size_t) {});
    return rc == Errc::ok ? rc : s.err.set(Errc::protocol, "malformed row packet");
}

[[gnu::always_inline]] inline Errc StreamSink::take_row(proto::Session &s, std::string_view payload, Next &next) {
    if (r_.binary_) {
        // The row is ours until the next fetch: its strings become C
        // strings where they lie, as a text row's do.
        if (proto::parse_binary_row_terminated(payload, r_.layout_, r_.values_.data(), s.err) != Errc::ok)
            return s.err.code;
        ++r_.fetched_;
        r_.set_row(true);
        r_.row_changed();
        next = Next::pause;
        return Errc::ok;
    }
    // The hot path of streaming: one pass over the row, in place. Every
    // value but the last ends at the next one's (overwritten) prefix; the
    // last ends at the payload's end, terminated in the spare byte -- first,
    // so that nothing about the payload is live across the walk (a short
    // row reads that NUL as a length and fails all the same).
    s.packets.terminate_payload(s.rbuf, payload);
    Value *out = r_.values_.data();
    if (proto::visit_text_row<true>(payload.data(), payload.size(), r_.values_.size(),
                                    [out](std::size_t i, const char *d, std::size_t n) { out[i] = {d, n}; }) !=
        Errc::ok)
        return s.err.set(Errc::protocol, "malformed row packet");
    ++r_.fetched_;
    r_.set_row(true);
    next = Next::pause;
    return Errc::ok;
}

Errc StreamSink::on_row(proto::Session &s, std::string_view payload, Next &next) {
    return take_row(s, payload, next);
}

// A pipeline makes a result per step, many alive at once. glibc's malloc
// serves a request of up to 1000 bytes from its small bins; from 1001 on
// (chunks of 1024 bytes and more) it is a large request, which first
// consolidates the fast bins: a result 8 bytes over that made each pipelined
// execute ~450 instructions dearer in malloc alone.
static constexpr std::size_t max_result_size = 1000;
static_assert(sizeof(Result) <= max_result_size, "Result outgrew glibc's small-request sizes: move a member behind a pointer");

Result::Result(Connection *conn, bool streaming, bool binary) : stream_sink_(*this), rows_op_(stream_sink_) {
    conn_ = conn;
    streaming_ = streaming;
    binary_ = binary;
}

Errc StoreSink::on_row(proto::Session &s, std::string_view payload, Next &) {
    const std::size_t n = r_.values_.size();
    // Binary values have no length prefix to reuse: one more byte each.
    std::size_t bound = stored_size_bound(payload, n) + (r_.binary_ ? n : 0);
    // The index a seek may build counts too (8 bytes a row).
    if (!over_limit && limit_ &&
        r_.arena_.bytes() + bound + (r_.stored_ + 1) * Result::index_bytes_per_row > limit_) {
        over_limit = true;
        r_.arena_.clear();
        r_.stored_ = 0;
    }
    if (r_.binary_) {
        // Checked and split, then stored in the same form as text values.
        if (proto::parse_binary_row(payload, r_.layout_, r_.values_.data(), s.err) != Errc::ok) return s.err.code;
        if (over_limit) return Errc::ok;
        char *out = r_.arena_.allocate(bound), *start = out;
        for (std::size_t i = 0; i < n; ++i) store_value(out, r_.values_[i].data, r_.values_[i].len);
        r_.arena_.give_back(bound - static_cast<std::size_t>(out - start));
        ++r_.stored_;
        return Errc::ok;
    }
    if (over_limit) return drop_text_row(s, payload, n);  // read the rest, still checked
    std::size_t written = 0;
    Errc rc = store_text_row(payload, n, r_.arena_.allocate(bound), written);
    r_.arena_.give_back(bound - written);
    if (rc != Errc::ok) return s.err.set(Errc::protocol, "malformed row packet");
    ++r_.stored_;
    return Errc::ok;
}

Errc DiscardSink::on_row(proto::Session &s, std::string_view payload, Next &) {
    if (binary) {
        scratch.resize(layout.size());
        return proto::parse_binary_row(payload, layout, scratch.data(), s.err);
    }
    return drop_text_row(s, payload, columns);
}

// ----------------------------------------------------------------- result

Result::~Result() {
    if (cursor_stmt_) cursor_stmt_->cursor_result_ = nullptr;
    if (conn_) conn_->detach(*this);
}

// ---------------------------------------------------------- result reuse

namespace {

// This thread's kept result (Result::release): one per thread, so no lock.
// Trivially destructible, so reaching it costs one lookup and no guard;
// KeptFree frees the result when the thread ends.
struct KeptSlot {
    Result *result = nullptr;
    bool registered = false;  // this thread has its KeptFree
    bool gone = false;        // the thread is ending: nothing is kept any more
};
thread_local KeptSlot kept_slot;

// Out of line: inlined, the compiler looks the thread-local up again at
// each use.
[[gnu::noinline]] KeptSlot &kept() { return kept_slot; }

struct KeptFree {
    ~KeptFree() {
        KeptSlot &k = kept();
        k.gone = true;
        delete std::exchange(k.result, nullptr);
    }
};

// Results with more columns than this are not kept: what is kept stays a
// few KiB.
constexpr std::size_t keep_columns_max = 64;

}  // namespace

std::unique_ptr<Result> Result::make(Connection *conn, bool streaming, bool binary) {
    KeptSlot &k = kept();
    if (!k.result) return std::make_unique<Result>(conn, streaming, binary);
    std::unique_ptr<Result> r(std::exchange(k.result, nullptr));
    r->conn_ = conn;
    r->streaming_ = streaming;
    r->binary_ = binary;
    return r;
}

void Result::reset() noexcept {
    static_cast<ResultState &>(*this) = ResultState{};
    // A statement's columns stay at hand: its next execute whose definitions
    // the server skips takes them back instead of copying them again.
    if (head.stamp != 0) {
        if (!spare_head_) spare_head_.reset(new (std::nothrow) proto::SpareColumns);
        if (spare_head_) {  // else (no memory) the next execute copies them
            spare_head_->columns.swap(head.columns);
            spare_head_->names.swap(head.names);
            spare_head_->stamp = head.stamp;
        }
    }
    head.clear();
    values_.clear();
    text_.clear();
    text_store_.clear();
    text_made_.clear();
    std::vector<proto::RowResult>().swap(row_results_);
    std::vector<RowPos>().swap(index_);
    fetch_op_.reset();
    rows_op_ = proto::BasicRowsOp<StreamSink>(stream_sink_);
    arena_.keep_first();
}

void Result::release(Result *r) noexcept {
    if (!r) return;
    KeptSlot &k = kept();
    // Tied to a connection or a cursor, its destructor has work to do.
    bool keep = !k.result && !k.gone && !r->conn_ && !r->cursor_stmt_ &&
                r->head.columns.capacity() <= keep_columns_max && r->values_.capacity() <= keep_columns_max &&
                r->text_store_.capacity() <= keep_columns_max && r->layout_.wire.capacity() <= keep_columns_max &&
                r->head.names.capacity() <= keep_columns_max * proto::ColumnCollector::names_per_column;
    if (keep && !k.registered) {
        thread_local KeptFree free_at_exit;  // constructed (and registered) once per thread
        k.registered = true;
    }
    if (!keep) {
        delete r;
        return;
    }
    r->reset();
    k.result = r;
}

void Result::discard() noexcept {
    if (conn_) conn_->discard(*this);
}

int Connection::fetch_row(Result &r) {
    if (call_ == Call::none && active_ == &r) [[likely]] {
        // The row is usually in the buffer already, whole: taken here with
        // nothing called for the framing; anything else is fetch_step's.
        proto::Action a = r.rows_op_.step_row(session);
        if (a == proto::Action::done && r.rows_op_.row) [[likely]]
            return static_cast<int>(Outcome::row);
        return a == proto::Action::read ? fetch_step(r) : fetch_go_on(r, a);
    }
    return fetch_other(r);
}

[[gnu::noinline]] int Connection::fetch_step(Result &r) {
    proto::Action a = r.rows_op_.step(session);
    if (a == proto::Action::done && r.rows_op_.row) return static_cast<int>(Outcome::row);
    return fetch_go_on(r, a);
}

int Result::fetch() noexcept {
    set_row(false);
    if (!streaming_) {
        if (next_ >= stored_) return static_cast<int>(Outcome::done);
        const auto &blocks = arena_.blocks();
        if (pos_.offset >= blocks[pos_.block].used) pos_ = RowPos{pos_.block + 1, 0};
        const char *base = blocks[pos_.block].data;
        const char *end = load_row(base + pos_.offset, values_.data(), values_.size());
        pos_.offset = static_cast<std::uint32_t>(end - base);
        ++next_;
        set_row(true);
        row_changed();
        return static_cast<int>(Outcome::row);
    }
    if (error_ != 0) return error_;
    if (finished_) return static_cast<int>(Outcome::done);
    if (!conn_) return error_ = static_cast<int>(Errc::state);
    try {
        return conn_->fetch_row(*this);
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
    set_row(false);
    if (error_ == 0) error_ = static_cast<int>(code);
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
    set_row(false);
    return Errc::ok;
}

// ------------------------------------------------------------- connection

Connection::~Connection() {
    close();
    forget_stmt_cache();  // (close forgot it already when it was connected)
    for (Statement *st : statements_) {
        st->conn_ = nullptr;
        if (Result *r = st->cursor_result_) {
            r->end_cursor(false);
            st->cursor_result_ = nullptr;
        }
    }
}

// ------------------------------------------------------------ statements

namespace {

// A statement's column definitions, new from a prepare: a new stamp, so no
// result holding a copy of earlier ones passes for a copy of these.
void take_definitions(proto::ResultHead &to, proto::ResultHead &&from) {
    to = std::move(from);  // vectors move: the column pointers stay valid
    to.stamp = proto::new_head_stamp();
}

// The same, for definitions an execute's reply brought (they changed on the
// server): the ones later executions may skip.
void copy_definitions(proto::ResultHead &to, const proto::ResultHead &from) {
    proto::copy_head(from, to);
    to.cursor = false;
    to.stamp = proto::new_head_stamp();
}

}  // namespace

void Connection::add_statement(Statement *st) { statements_.push_back(st); }

void Connection::remove_statement(Statement *st) noexcept {
    if (stmt_ == st) {
        // Freed while its own prepare or execute runs: the call goes on
        // without it (an execute keeps a copy of the columns it may skip).
        if (call_ == Call::execute && head_op_) {
            try {
                proto::copy_head(st->columns_, exec_cached_);
                head_op_->set_cached_columns(&exec_cached_);
            } catch (...) {
                head_op_->set_cached_columns(nullptr);  // a skipped head then fails cleanly
            }
        }
        stmt_ = nullptr;
    }
    if (call_ == Call::pipeline && pipe_) {
        // Freed while a batch with its steps runs: the steps not sent yet
        // fail, the replies of those sent are read with a copy of the
        // columns a server caching metadata may skip.
        proto::ResultHead *orphan = nullptr;
        for (std::size_t i = read_next_; i < pipe_->steps.size(); ++i) {
            PipelineStep &ps = pipe_->steps[i];
            if (ps.stmt != st) continue;
            ps.stmt = nullptr;
            if (!orphan) {
                try {
                    orphan = &pipe_orphans_.emplace_back();
                    proto::copy_head(st->columns_, *orphan);
                } catch (...) {
                    orphan = nullptr;  // out of memory: a skipped head then fails cleanly
                }
            }
            ps.cols = orphan;
            if (ps.kind == PipelineStep::Kind::execute && ps.op)
                static_cast<proto::ResultHeadOp &>(*ps.op).set_cached_columns(orphan);
        }
    }
    auto it = std::find(statements_.begin(), statements_.end(), st);
    if (it != statements_.end()) statements_.erase(it);
}

Errc Connection::reserve_closes(std::size_t prepares) noexcept {
    const std::size_t need = pending_closes_.size() + statements_.size() + prepares;
    if (pending_closes_.capacity() >= need) return Errc::ok;
    try {
        pending_closes_.reserve(std::max(need, 2 * pending_closes_.capacity()));
    } catch (...) {
        return session.err.set(Errc::nomem, "out of memory (the queue of statements to close)");
    }
    return Errc::ok;
}

void Connection::queue_stmt_close(std::uint32_t id) noexcept {
    if (!connected()) return;
    try {
        // Does not allocate after reserve_closes() (every prepare makes room
        // first); the catch is for a bug in that count.
        pending_closes_.push_back(id);
    } catch (...) {
        // Out of memory: the server keeps the statement until the connection ends.
    }
}

void Connection::new_epoch() noexcept {
    ++epoch_;
    pending_closes_.clear();  // the server forgot those statements too
    forget_stmt_cache();
}

void Connection::flush_stmt_closes() {
    // COM_STMT_CLOSE has no reply: each goes out ahead of the call's own
    // command, in the same write.
    for (std::uint32_t id : pending_closes_) {
        session.begin_command();
        session.write_packet([&](std::vector<std::uint8_t> &out) {
            out.push_back(proto::command::stmt_close);
            proto::append_le(out, id, 4);
        });
        transport_.begin_command();
        session.new_command = false;
        if (Errc rc = transport_.send(session.wbuf, session.err); rc != Errc::ok) throw std::bad_alloc();
    }
    pending_closes_.clear();
}

void Connection::drop_connection(int result_code, State to) noexcept {
    abandon_active(result_code);
    new_epoch();  // the server forgets the session's statements
    query_attrs_.clear();  // and they were for that session
    socket_.close();
    reset_transport();
    session.packets.reset();
    proto::wipe(session.wbuf);
    drain_pending_ = false;
    session.state = to;
}

void Connection::clear_call() noexcept {
    call_ = Call::none;
    op_ = after_drain_ = nullptr;
    cursor_tail_ = nullptr;
    fetching_ = nullptr;
    pipe_ = nullptr;
}

Errc Connection::on_exception(Errc code) noexcept {
    session.err.set(code, code == Errc::nomem ? "out of memory; the connection was closed"
                                              : "internal error; the connection was closed");
    drop_connection(static_cast<int>(code),
                    state() == State::idle || state() == State::closed ? state() : State::broken);
    clear_call();
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

void Connection::reset_transport() {
    connector_.reset();
    connect_waits_.close();
    transport_.reset();
    cancel_.clear();  // the connection ends (or starts again): nothing to cancel
}

Errc Connection::fail(Errc code) {
    if (is_fatal(code)) drop_connection(static_cast<int>(code), State::broken);
    return code;
}

void Connection::abandon_active(int code) noexcept {
    if (!active_) return;
    Result *r = active_;
    active_ = nullptr;
    if (call_ == Call::fetch && fetching_ == r) {
        call_ = Call::none;
        op_ = nullptr;
        fetching_ = nullptr;
    }
    r->finished_ = true;
    r->set_row(false);
    if (r->error_ == 0) r->error_ = code;
    r->conn_ = nullptr;
}

Errc Connection::ready_for_command() {
    if (call_ != Call::none)
        return session.err.set(Errc::out_of_sync, "commands out of sync: another call is in progress on "
                                                  "this connection (continue it first)");
    switch (state()) {
    case State::ready:
        return Errc::ok;
    case State::rows:
        if (!active_ && drain_pending_) return Errc::ok;  // a freed result: drained first
        if (active_ && at_batch_end(*active_)) return Errc::ok;  // between two batches of a cursor
        return session.err.set(Errc::out_of_sync,
                               "commands out of sync: a streaming result is still being read");
    case State::more_results:
        return session.err.set(Errc::out_of_sync,
                               "commands out of sync: read the remaining results with "
                               "mywire_next_result first");
    case State::idle:
        return session.err.set(Errc::state, "not connected");
    case State::connecting:
        return session.err.set(Errc::state, "the connection is still being established");
    case State::closed:
        return session.err.set(Errc::state, "the connection was closed");
    case State::broken:
        break;
    }
    return session.err.set(Errc::state, "the connection failed earlier; connect again");
}

Errc Connection::begin(Call call, proto::Op *op, bool sends) {
    call_ = call;
    op_ = op;
    after_drain_ = nullptr;
    io_ = IoWant::none;
    deadlines_set_ = false;
    call_done_ = false;
    op_done_ = false;
    next_none_ = false;
    call_rc_ = Errc::ok;
    // Whether the failing command had reached the socket: a fetch or a next
    // result reads the reply of a command that did.
    session.err.sent = call == Call::fetch || call == Call::next_result || call == Call::drain;
    if (call != Call::fetch && call != Call::next_result && call != Call::drain)
        cancel_.clear_request();  // a new command: an earlier mywire_cancel was not for it
    if (active_ && call != Call::fetch && call != Call::connect && call != Call::close && call != Call::drain &&
        state() == State::rows && at_batch_end(*active_)) {
        // Between two batches of a cursor: the batch's end marker first.
        cursor_tail_ = active_;
        after_drain_ = op;
        op_ = &active_->rows_op_;
    } else if (drain_pending_ && call != Call::connect && call != Call::close && call != Call::drain) {
        // A result freed while still reading rows: its rest first.
        drain_op_ = proto::RowsOp(drain_sink_);
        after_drain_ = op;
        op_ = &drain_op_;
    } else if (sends && !pending_closes_.empty() && call != Call::connect && call != Call::close &&
               call != Call::drain && call != Call::next_result) {
        flush_stmt_closes();
    }
    return Errc::ok;
}

// ---------------------------------------------------------------- connect

// Starts the socket connect: the Connector resolves the name (c-ares) and
// tries each address in turn, all without blocking, as steps of the connect
// call (IoWant::connecting); the deadline is connect_timeout's.
Errc Connection::open_socket() {
    bool unix_socket = !opts.unix_socket.empty();
    if (opts.adopt_fd >= 0)  // tests only (Options::adopt_fd)
        return socket_.adopt(std::exchange(opts.adopt_fd, -1), unix_socket, session.err);
    connector_ = std::make_unique<io::Connector>();
    Errc rc = unix_socket ? connector_->start_unix(opts.unix_socket, read_deadline_, session.err)
                          : connector_->start_tcp(tls_host_, opts.port, read_deadline_, session.err);
    if (rc != Errc::ok) {
        connector_.reset();
        return rc;
    }
    io_ = IoWant::connecting;
    return Errc::ok;
}

Errc Connection::start_connect() {
    if (call_ != Call::none)
        return session.err.set(Errc::out_of_sync, "another call is in progress on this connection");
    if (connected()) return session.err.set(Errc::state, "already connected");
    if (state() == State::closed) return session.err.set(Errc::state, "the connection was closed");
    abandon_active(static_cast<int>(Errc::state));
    query_attrs_.clear();  // a new session: the server may not even have them
    call_attrs_.clear();
    session = proto::Session{};
    session.state = State::connecting;
    session.max_packet = static_cast<std::size_t>(opts.max_allowed_packet);
    server = proto::ServerInfo{};
    tls_info_ = io::TlsInfo{};
    socket_.close();
    reset_transport();
    drain_pending_ = false;
    bool unix_socket = !opts.unix_socket.empty();
    tls_host_ = opts.host.empty() ? "localhost" : opts.host;  // over a socket too, for VERIFY_IDENTITY
    if (Errc rc = waker_.open(session.err); rc != Errc::ok) {  // mywire_abort's, kept until freed
        session.state = State::broken;
        return rc;
    }
    begin(Call::connect, nullptr);
    // The connect_timeout deadline covers the socket connect and the login.
    read_deadline_ = write_deadline_ = io::Deadline::after_ms(opts.connect_timeout_ms);
    deadlines_set_ = true;
    if (Errc rc = open_socket(); rc != Errc::ok) {
        call_ = Call::none;
        session.state = State::broken;
        return rc;
    }
    tls_mode_ = opts.effective_ssl_mode(unix_socket);
    handshake_op_ = std::make_unique<proto::HandshakeOp>(
        opts, unix_socket, tls_mode_, server,
        proto::ClientEnv{io::os_name(), io::process_id(), &io::read_key_file});
    op_ = handshake_op_.get();
    transport_.set_wipe_output(true);  // until the login ends: its packets may carry a password
    return Errc::ok;
}

Connection::Progress Connection::on_connect_done() {
    transport_.set_wipe_output(false);
    // The compressed protocol starts after the OK that ends authentication.
    // Bytes already received after that OK were sent before the switch (or
    // injected): refused unread, as at the TLS boundary.
    if ((session.capabilities & (proto::cap::zstd | proto::cap::compress)) && !session.rbuf.pending().empty()) {
        session.err.set(Errc::protocol, "the server sent unexpected bytes right after the login OK, "
                                        "before the compressed protocol started (refused without "
                                        "reading them)");
        return on_op_error();
    }
    if (session.capabilities & proto::cap::zstd)
        transport_.start_compression(proto::Compression::zstd, opts.compression_level);
    else if (session.capabilities & proto::cap::compress)
        transport_.start_compression(proto::Compression::zlib, opts.compression_level);
    session.packets.check_sequence(transport_.compression() == proto::Compression::none);
    session.state = State::ready;
    cancel_.publish(opts, server.connection_id);  // for mywire_cancel
    return Progress::done;
}

// ------------------------------------------------------------- the engine

Connection::Progress Connection::wait(Progress p) {
    if (!deadlines_set_) {
        read_deadline_ = io::Deadline::after_ms(opts.read_timeout_ms);
        write_deadline_ = io::Deadline::after_ms(opts.write_timeout_ms);
        deadlines_set_ = true;
    }
    last_wait_ = p;
    return p;
}

void Connection::pipeline_failed(Errc code) {
    // The connection failed: this step and the ones after it have no reply.
    for (std::size_t i = read_next_; i < pipe_->steps.size(); ++i) {
        PipelineStep &s = pipe_->steps[i];
        s.code = code;
        s.server_errno = 0;
        s.sqlstate = "HY000";
        s.message = i == read_next_ ? session.err.message
                    : i < send_next_ ? "no reply: the connection failed at an earlier step (this one was sent and may have run)"
                                     : "not sent: the connection failed at an earlier step";
        if (i == read_next_ && i < send_next_) s.message += " (this step was sent and may have run)";
        s.op.reset();
        s.current.reset();
    }
}

Connection::Progress Connection::fail_progress(Errc code) {
    if (call_ == Call::pipeline && pipe_ && is_fatal(code)) pipeline_failed(code);
    if (call_ == Call::connect) {
        transport_.set_wipe_output(false);
        if (server.tls_failure != tls_failure::none) tls_info_.failure = server.tls_failure;
        if (code == Errc::tls && tls_info_.failure == tls_failure::none)
            tls_info_.failure = tls_failure::handshake;
        // Any failure during login, a server error too, ends the connection.
        drop_connection(static_cast<int>(code), State::broken);
    } else {
        fail(code);
    }
    call_done_ = true;
    call_rc_ = code;
    return Progress::error;
}

Connection::Progress Connection::on_abort() {
    session.err.set(Errc::cancelled, ClientError::aborted,
                    "the call was aborted (mywire_abort) and the connection was closed");
    if (call_ == Call::connect) transport_.set_wipe_output(false);
    if (call_ == Call::pipeline && pipe_) pipeline_failed(Errc::cancelled);  // the steps with no reply
    // Closed here, in the thread that owns the socket (the aborting thread
    // only wrote the eventfd). Unread replies stay unread: connect again.
    drop_connection(static_cast<int>(Errc::cancelled), State::broken);
    call_done_ = true;
    call_rc_ = Errc::cancelled;
    return Progress::error;
}

// A freed result's rest has been read (drain_op_ ended, by its end marker
// or by an error packet taken as the freed result's): the call goes on with
// its own op, or ends here (a drain call; a next result after the last).
Connection::Progress Connection::drain_done() {
    op_ = after_drain_;
    after_drain_ = nullptr;
    if (!pending_closes_.empty() && call_ != Call::drain && call_ != Call::next_result &&
        !(call_ == Call::fetch && op_ == &fetching_->rows_op_))
        flush_stmt_closes();
    if (call_ == Call::drain) return Progress::done;
    if (call_ == Call::next_result && state() != State::more_results) {
        next_none_ = true;  // the drained result was the last
        return Progress::done;
    }
    return Progress::more;  // the call's own op
}

Connection::Progress Connection::on_op_error() {
    if (cursor_tail_ && op_ == &cursor_tail_->rows_op_) {
        // The batch ended with an error (or the connection failed): the
        // cursor's result ends with it, and the command is not sent.
        cursor_tail_ = nullptr;
        abandon_active(static_cast<int>(session.err.code));
        return fail_progress(session.err.code);
    }
    if (op_ == &drain_op_) {
        drain_pending_ = false;
        // A freed result whose rest ended with an error packet (a statement
        // stopped by KILL QUERY or mywire_cancel, an error after some rows):
        // that error was the freed result's, which nobody reads any more,
        // and the connection is ready -- the call goes on with its own
        // command. Anything else (lost, malformed) fails the call.
        // (The ERR left the session ready, so a next result finds none.)
        if (session.err.code != Errc::server || state() != State::ready) return fail_progress(session.err.code);
        const bool sent = session.err.sent;  // the call's own, as begin() set it
        session.err.clear();
        session.err.sent = sent;
        return drain_done();
    }
    // The server stopped the statement (ER_QUERY_INTERRUPTED) after a
    // mywire_cancel during this command: that is the cancel's outcome.
    if (session.err.code == Errc::server && session.err.server_errno == 1317 && cancel_.requested())
        session.err.set(Errc::cancelled, ClientError::cancelled,
                        "the statement was cancelled (mywire_cancel): the server stopped it "
                        "(ER_QUERY_INTERRUPTED); the connection is still usable");
    if (call_ == Call::pipeline) return pipeline_op_error();
    if (call_ == Call::execute && op_ == &*head_op_ && session.err.code == Errc::server &&
        session.err.server_errno == 1615 && opts.auto_reprepare && !reprepared_ && stmt_ &&
        state() == State::ready) {
        // ER_NEED_REPREPARE: prepare the statement again, then execute it once more.
        reprepared_ = true;
        prepare_op_ = std::make_unique<proto::PrepareOp>(stmt_->sql_, prep_params_, prep_columns_, head_limits());
        op_ = prepare_op_.get();
        return Progress::more;
    }
    if ((call_ == Call::execute || call_ == Call::batch) && stmt_ && session.err.code == Errc::server)
        stmt_->types_known_ = false;
    return fail_progress(session.err.code);
}

Connection::Progress Connection::on_prepare_done() {
    proto::PrepareOk ok = prepare_op_->ok;
    if (!stmt_) {  // freed meanwhile: the server's statement is closed with the next command
        queue_stmt_close(ok.statement_id);
        session.err.set(Errc::state, "the statement was freed while it was prepared");
        call_done_ = true;
        call_rc_ = Errc::state;
        return Progress::error;
    }
    Statement &st = *stmt_;
    if (st.prepared_ && st.epoch_ == epoch_ && st.id_ != ok.statement_id) queue_stmt_close(st.id_);
    st.id_ = ok.statement_id;
    st.epoch_ = epoch_;
    st.prepared_ = true;
    st.params_head_ = std::move(prep_params_);
    take_definitions(st.columns_, std::move(prep_columns_));
    prep_params_ = proto::ResultHead{};
    prep_columns_ = proto::ResultHead{};
    // An explicit prepare unbinds every parameter (the header's promise; long
    // data went with the old server statement); a re-prepare for
    // ER_NEED_REPREPARE keeps them, for the execute that follows.
    if (call_ == Call::prepare || st.params_.size() != ok.params) {
        st.params_.assign(ok.params, proto::Param{});
        st.arrays_.clear();
    }
    st.types_known_ = false;
    st.sent_types_.clear();
    return Progress::done;
}

// ------------------------------------------------------------- pipelines

bool Connection::direct_execution() const {
    if (!server.is_mariadb) return false;
    // "10.2.x-MariaDB...": from 10.2 on, id 0xFFFFFFFF names the statement
    // prepared last (and fails when that prepare failed).
    unsigned major = 0, minor = 0;
    std::size_t i = 0;
    const std::string &v = server.version;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') major = major * 10 + (v[i++] - '0');
    if (i < v.size() && v[i] == '.') ++i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') minor = minor * 10 + (v[i++] - '0');
    return major > 10 || (major == 10 && minor >= 2);
}

Errc Connection::start_pipeline(Pipeline &p) {
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    // Statement steps: each statement must be one of this connection's, alive.
    std::vector<const Statement *> mine;
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        const PipelineStep &st = p.steps[i];
        if (!st.stmt) continue;
        if (mine.empty()) {
            mine.assign(statements_.begin(), statements_.end());
            std::sort(mine.begin(), mine.end());
        }
        if (st.owner != this || !std::binary_search(mine.begin(), mine.end(), st.stmt))
            return session.err.set(Errc::argument, "pipeline step " + std::to_string(i) +
                                                       ": its statement belongs to another connection "
                                                       "(or was freed)");
    }
    std::size_t prepares = 0;
    for (const PipelineStep &st : p.steps) prepares += st.kind == PipelineStep::Kind::prepare;
    if (prepares)
        if (Errc rc = reserve_closes(prepares); rc != Errc::ok) return rc;
    for (PipelineStep &st : p.steps) {
        st.prepared = st.direct = st.no_reply = st.later_result = false;
        st.request_bytes = 0;
        if (st.kind == PipelineStep::Kind::prepare) st.stmt_id = 0;
        st.prep_params.reset();
        st.prep_columns.reset();
        st.cols = st.stmt ? &st.stmt->columns_ : nullptr;
        st.ran = false;
        st.code = Errc::ok;
        st.server_errno = 0;
        st.sqlstate = "00000";
        st.message.clear();
        st.results.clear();
        st.op.reset();
        st.current.reset();
    }
    pipe_ = &p;
    send_next_ = read_next_ = in_flight_ = 0;
    last_prepare_sent_ = PipelineStep::none;
    window_open_ = true;
    pipe_orphans_.clear();
    return begin(Call::pipeline, nullptr);
}

// The id a statement step is sent with: its statement's (checked against
// the one it was added with), the one its prepare step's reply gave, or
// 0xFFFFFFFF right behind that prepare (MariaDB: no wait for the reply).
bool Connection::pipeline_stmt_id(PipelineStep &st, std::uint32_t &id, bool &wait) {
    wait = false;
    auto fail = [&](Errc code, std::string msg) {
        st.code = code;
        st.server_errno = 0;
        st.sqlstate = "HY000";
        st.message = std::move(msg);
        st.no_reply = true;
        return false;
    };
    const bool close = st.kind == PipelineStep::Kind::stmt_close;
    if (!st.stmt) {
        if (close) {  // its free closes it
            st.no_reply = true;
            return false;
        }
        return fail(Errc::state, "not sent: the statement was freed while the pipeline ran");
    }
    if (st.depends != PipelineStep::none) {
        if (last_prepare_sent_ == st.depends && direct_execution()) {
            id = 0xFFFFFFFFu;
            st.direct = true;
            return true;
        }
        if (read_next_ <= st.depends) {  // its prepare's reply first
            wait = true;
            return false;
        }
        PipelineStep &d = pipe_->steps[st.depends];
        if (!d.prepared) {
            if (close) {  // nothing to close
                st.no_reply = true;
                return false;
            }
            pipeline_dependent_failed(st, true);
            return false;
        }
        id = d.stmt_id;
        return true;
    }
    const Statement &s = *st.stmt;
    if (st.epoch != epoch_)
        return fail(Errc::state, "not sent: the statement was prepared on an earlier session of the connection "
                                 "(it was closed, reconnected or reset, and the server forgot the statement)");
    if (!s.prepared_ || s.client_side_ || s.id_ != st.stmt_id || s.epoch_ != st.epoch)
        return fail(Errc::state, "not sent: the statement was prepared again or closed after this step was "
                                 "added (add the step again)");
    id = st.stmt_id;
    return true;
}

void Connection::pipeline_dependent_failed(PipelineStep &st, bool refused) {
    const PipelineStep &d = pipe_->steps[st.depends];
    st.code = Errc::state;
    st.server_errno = 0;
    st.sqlstate = "HY000";
    st.message = "not executed: its prepare (pipeline step " + std::to_string(st.depends) + ") failed";
    if (!d.message.empty()) st.message += ": " + d.message;
    if (st.direct)
        st.message += refused ? " (it went out with the prepare, and the server refused it too)"
                              : " (it went out with the prepare, and the server ran it: its results were dropped)";
    st.results.clear();
    st.no_reply = !st.direct;
}

bool Connection::pipeline_next(Progress &p) {
    std::vector<PipelineStep> &steps = pipe_->steps;
    namespace cmd = proto::command;
    using Reply = proto::SimpleCommandOp::Reply;
    using Kind = PipelineStep::Kind;
    for (;;) {
        // Requests go out ahead of the replies, within the window: once
        // it is full, again when half of it was answered (so that a long
        // batch goes out in writes of half a window, not one per reply).
        if (in_flight_ <= pipeline_window / 2) window_open_ = true;
        while (send_next_ < steps.size() &&
               (send_next_ == read_next_ || (window_open_ && in_flight_ < pipeline_window))) {
            PipelineStep &st = steps[send_next_];
            switch (st.kind) {
            case Kind::query: {
                st.current = Result::make(nullptr, false);
                auto op = std::make_unique<proto::ResultHeadOp>(st.current->head, head_limits());
                op->set_query(st.arg, proto::ResultHeadOp::query_prefix(session));  // no attributes
                st.op = std::move(op);
                break;
            }
            case Kind::ping:
                st.op = std::make_unique<proto::SimpleCommandOp>(cmd::ping, std::string_view(), Reply::ok);
                break;
            case Kind::reset:
                st.op = std::make_unique<proto::SimpleCommandOp>(cmd::reset_connection, std::string_view(), Reply::ok);
                break;
            case Kind::init_db:
                st.op = std::make_unique<proto::SimpleCommandOp>(cmd::init_db, st.arg, Reply::ok);
                break;
            case Kind::prepare:
                st.prep_params = std::make_unique<proto::ResultHead>();
                st.prep_columns = std::make_unique<proto::ResultHead>();
                st.op = std::make_unique<proto::PrepareOp>(st.arg, *st.prep_params, *st.prep_columns, head_limits());
                break;
            case Kind::execute:
            case Kind::stmt_close: {
                std::uint32_t id = 0;
                bool wait = false;
                if (!pipeline_stmt_id(st, id, wait)) {
                    if (wait) goto read_side;  // sent once the prepare's reply is in
                    ++send_next_;              // failed (or nothing to close): no request
                    continue;
                }
                for (int b = 0; b < 4; ++b) st.arg[b] = static_cast<char>((id >> (8 * b)) & 0xFF);
                if (st.kind == Kind::stmt_close) {
                    st.op = std::make_unique<proto::SendOnlyOp>(cmd::stmt_close, st.arg);
                    if (last_prepare_sent_ == st.depends) last_prepare_sent_ = PipelineStep::none;
                    break;
                }
                st.current = Result::make(nullptr, false, true);
                auto op = std::make_unique<proto::ResultHeadOp>(st.current->head, head_limits());
                op->set_request(cmd::stmt_execute, st.arg);
                op->set_cached_columns(st.cols);
                st.op = std::move(op);
                // The server now has this step's types, maybe not the ones a
                // later mywire_stmt_execute would skip.
                st.stmt->types_known_ = false;
                if (Result *old = st.stmt->cursor_result_) {  // executing again closes its cursor
                    old->end_cursor(old == active_);
                    st.stmt->cursor_result_ = nullptr;
                }
                break;
            }
            }
            // The first resume of every command op only builds its request.
            if (st.op->resume(session) != proto::Action::write) {
                p = fail_progress(session.err.set(Errc::internal, "a pipelined command did not start with a request"));
                return false;
            }
            if (session.new_command) {
                transport_.begin_command();
                session.new_command = false;
            }
            st.request_bytes = session.wbuf.size();
            if (Errc rc = transport_.send(session.wbuf, session.err); rc != Errc::ok) {
                p = fail_progress(rc);
                return false;
            }
            if (st.kind == Kind::prepare) last_prepare_sent_ = send_next_;
            if (st.kind == Kind::stmt_close) {
                st.no_reply = true;  // COM_STMT_CLOSE has none
                st.op.reset();
                st.request_bytes = 0;
            }
            // Where this command's reply starts: plain and compressed ids.
            st.seq_after = session.seq;
            st.cseq_after = transport_.sequence();
            in_flight_ += st.request_bytes;
            ++send_next_;
            if (in_flight_ >= pipeline_window) window_open_ = false;
        }
    read_side:
        // Steps without a reply end in their turn.
        while (read_next_ < send_next_ && steps[read_next_].no_reply) pipeline_step_done(steps[read_next_]);
        if (read_next_ == steps.size()) {
            p = Progress::done;
            call_done_ = true;
            call_rc_ = Errc::ok;
            return false;
        }
        if (read_next_ < send_next_) break;
        // Nothing in flight: send on.
    }
    PipelineStep &st = steps[read_next_];
    session.seq = st.seq_after;
    transport_.expect_reply_sequence(st.cseq_after);
    op_ = st.op.get();
    return true;
}

// A prepare step's reply is in: the statement is prepared (or the step
// failed: the SQL has another number of parameters than were bound for).
void Connection::pipeline_prepared(PipelineStep &st) {
    const proto::PrepareOk ok = static_cast<proto::PrepareOp &>(*st.op).ok;
    st.stmt_id = ok.statement_id;
    if (ok.params != st.declared_params) {
        queue_stmt_close(ok.statement_id);
        st.code = Errc::argument;
        st.server_errno = 0;
        st.sqlstate = "HY000";
        st.message = "the server counts " + std::to_string(ok.params) + " parameters in the statement, " +
                     std::to_string(st.declared_params) +
                     " placeholders were found in its SQL and bound: the statement was closed and the "
                     "steps that use it fail (prepare it again)";
        if (Statement *s = st.stmt) {
            if (s->prepared_ && !s->client_side_ && s->epoch_ == epoch_) queue_stmt_close(s->id_);
            s->prepared_ = false;
            s->params_.clear();
        }
        return;
    }
    st.prepared = true;
    Statement *s = st.stmt;
    if (!s) {  // freed meanwhile: its executes sent already read with these columns
        if (st.cols) take_definitions(*st.cols, std::move(*st.prep_columns));
        queue_stmt_close(ok.statement_id);
        return;
    }
    if (s->prepared_ && !s->client_side_ && s->epoch_ == epoch_ && s->id_ != ok.statement_id)
        queue_stmt_close(s->id_);
    s->sql_ = st.arg;
    s->id_ = ok.statement_id;
    s->epoch_ = epoch_;
    s->prepared_ = true;
    s->client_side_ = false;
    s->params_head_ = std::move(*st.prep_params);
    take_definitions(s->columns_, std::move(*st.prep_columns));
    if (s->params_.size() != ok.params) s->params_.assign(ok.params, proto::Param{});
    s->arrays_.clear();
    s->types_known_ = false;
    s->sent_types_.clear();
}

void Connection::pipeline_step_done(PipelineStep &st) {
    st.ran = !st.no_reply || (st.kind == PipelineStep::Kind::stmt_close && st.code == Errc::ok);
    if (st.kind == PipelineStep::Kind::stmt_close && st.ran) {
        // Closed now (in order: a prepare before it has been read): the
        // statement is no longer prepared, and its free sends nothing.
        std::uint32_t id = st.depends != PipelineStep::none ? pipe_->steps[st.depends].stmt_id : st.stmt_id;
        if (Statement *s = st.stmt; s && s->prepared_ && !s->client_side_ && s->id_ == id && s->epoch_ == epoch_)
            s->prepared_ = false;
    } else if (st.kind == PipelineStep::Kind::execute && st.depends != PipelineStep::none &&
               !pipe_->steps[st.depends].prepared && !st.no_reply) {
        pipeline_dependent_failed(st, st.code != Errc::ok);  // sent with its prepare, which failed
        st.ran = true;
    }
    st.op.reset();
    st.current.reset();
    in_flight_ -= std::min(in_flight_, st.request_bytes);
    ++read_next_;
    op_ = nullptr;
}

Connection::Progress Connection::pipeline_op_done() {
    PipelineStep &st = pipe_->steps[read_next_];
    if (st.kind == PipelineStep::Kind::prepare) {
        pipeline_prepared(st);
        pipeline_step_done(st);
        return Progress::more;
    }
    if (st.kind != PipelineStep::Kind::query && st.kind != PipelineStep::Kind::execute) {
        if (st.kind == PipelineStep::Kind::reset) {
            new_epoch();  // the server forgot the statements
            query_attrs_.clear();
        }
        pipeline_step_done(st);
        return Progress::more;
    }
    Result &r = *st.current;
    const bool binary = st.kind == PipelineStep::Kind::execute;
    if (binary && !st.later_result && op_ == st.op.get() && st.stmt && !r.head.metadata_cached &&
        session.cache_metadata() && !r.head.columns.empty() &&
        (st.depends == PipelineStep::none || pipe_->steps[st.depends].prepared)) {
        copy_definitions(st.stmt->columns_, r.head);
    }
    if (store_op_ && op_ == &*store_op_) {
        r.finished_ = true;
        r.head.ok.status_flags = store_op_->end_ok.status_flags;
        r.head.ok.warnings = store_op_->end_ok.warnings;
        bool over = store_sink_->over_limit;
        store_op_.reset();
        store_sink_.reset();
        if (over) {
            st.code = Errc::result_too_large;
            st.message = "the buffered result exceeds max_result_bytes (" + std::to_string(opts.max_result_bytes) +
                         "); use a streaming result or raise the limit";
            st.sqlstate = "HY000";
            st.current.reset();
        } else if (st.code == Errc::ok) {
            st.results.push_back(std::move(st.current));
        }
    } else if (!r.head.columns.empty()) {
        // A result set: its rows next, into the result.
        r.prepare_rows();
        store_sink_.emplace(r, opts.max_result_bytes);
        store_op_.emplace(*store_sink_);
        op_ = &*store_op_;
        return Progress::more;
    } else {
        r.finished_ = true;
        if (st.code == Errc::ok) st.results.push_back(std::move(st.current));
    }
    if (state() == State::more_results) {
        // A multi-statement query: its next result (read and dropped once
        // the step is over the limit).
        st.current = Result::make(nullptr, false, binary);
        st.later_result = true;
        st.op = std::make_unique<proto::ResultHeadOp>(st.current->head, head_limits());
        op_ = st.op.get();
        return Progress::more;
    }
    pipeline_step_done(st);
    return Progress::more;
}

Connection::Progress Connection::pipeline_op_error() {
    PipelineStep &st = pipe_->steps[read_next_];
    Errc code = session.err.code;
    store_op_.reset();
    store_sink_.reset();
    if (!is_fatal(code)) {
        // This step failed (a server error ends its command); the server goes
        // on with the next ones, and so do we.
        st.code = code;
        st.server_errno = session.err.server_errno;
        st.sqlstate.assign(session.err.sqlstate, 5);
        st.message = session.err.message;
        pipeline_step_done(st);
        return Progress::more;
    }
    return fail_progress(code);
}

Connection::Progress Connection::on_op_done() {
    if (cursor_tail_ && op_ == &cursor_tail_->rows_op_) {
        Result &r = *std::exchange(cursor_tail_, nullptr);
        if (!r.rows_op_.end) {
            abandon_active(static_cast<int>(Errc::protocol));
            return fail_progress(session.err.set(Errc::protocol, "the server sent more rows than the "
                                                                 "cursor's batch asked for"));
        }
        end_of_batch(r);
        op_ = after_drain_;
        after_drain_ = nullptr;
        if (!pending_closes_.empty() && call_ != Call::next_result) flush_stmt_closes();
        return Progress::more;  // the call's own op
    }
    if (op_ == &drain_op_) {
        drain_pending_ = false;
        return drain_done();
    }
    switch (call_) {
    case Call::pipeline:
        return pipeline_op_done();
    case Call::connect:
        return on_connect_done();
    case Call::prepare:
        return on_prepare_done();
    case Call::batch: {
        const proto::OkPacket &ok = batch_op_->ok;
        // Row by row, each OK is that row's result.
        if (batch_row_results_ && !batch_bulk_) batch_units_.push_back({ok.affected_rows, ok.last_insert_id});
        if (batch_affected_ == 0 && batch_insert_id_ == 0) batch_insert_id_ = ok.last_insert_id;
        batch_affected_ += ok.affected_rows;
        batch_warnings_ = static_cast<std::uint16_t>(std::min<unsigned>(0xFFFF, batch_warnings_ + ok.warnings));
        if (!stmt_) {
            session.err.set(Errc::state, "the statement was freed during its batch");
            call_done_ = true;
            call_rc_ = Errc::state;
            return Progress::error;
        }
        // A row's COM_STMT_EXECUTE went through: the server has its types, and
        // the next row sends none when they are the same (a bulk request's
        // types are its own).
        if (!batch_bulk_) stmt_->types_known_ = true;
        if (batch_next_ >= batch_total()) return Progress::done;
        if (batch_step() == Progress::error) {
            call_done_ = true;
            call_rc_ = session.err.code;
            return Progress::error;
        }
        op_ = batch_op_.get();
        return Progress::more;
    }
    case Call::execute:
        if (op_ == prepare_op_.get()) {
            // Re-prepared (ER_NEED_REPREPARE): execute once more.
            Progress p = on_prepare_done();
            if (p != Progress::done) return p;
            if (!stmt_) {
                session.err.set(Errc::state, "the statement was freed while it was re-prepared");
                call_done_ = true;
                call_rc_ = Errc::state;
                return Progress::error;
            }
            if (Errc rc = stmt_->build_execute(request_, session.err, call_attrs_, session.query_attributes());
                rc != Errc::ok) {
                call_done_ = true;
                call_rc_ = rc;
                return Progress::error;
            }
            execute_head(*stmt_, pending_->streaming_);
            op_ = &*head_op_;
            return Progress::more;
        }
        [[fallthrough]];
    case Call::query:
    case Call::next_result: {
        Result &r = *pending_;
        if (store_op_ && op_ == &*store_op_) {
            r.finished_ = true;
            r.head.ok.status_flags = store_op_->end_ok.status_flags;
            r.head.ok.warnings = store_op_->end_ok.warnings;
            if (store_sink_->over_limit) {
                session.err.set(Errc::result_too_large,
                                "the buffered result exceeds max_result_bytes (" +
                                    std::to_string(opts.max_result_bytes) +
                                    "); use a streaming result or raise the limit");
                call_done_ = true;
                call_rc_ = Errc::result_too_large;
                return Progress::error;
            }
            return Progress::done;
        }
        // The head is in.
        if (call_ == Call::execute && stmt_) {
            stmt_->types_known_ = true;  // the server has the parameter types now
            if (!r.head.metadata_cached && session.cache_metadata() && !r.head.columns.empty()) {
                copy_definitions(stmt_->columns_, r.head);
            }
        }
        if (r.head.columns.empty()) {
            r.finished_ = true;
            r.conn_ = nullptr;
            return Progress::done;
        }
        r.prepare_rows();
        if (r.head.cursor) {
            // An open cursor: each fetch past a batch asks for the next one.
            if (stmt_) {
                if (Result *old = stmt_->cursor_result_)  // re-executed: the server closed that cursor
                    old->end_cursor(old == active_);
                stmt_->cursor_result_ = &r;
                r.cursor_stmt_ = stmt_;
            } else {
                r.end_cursor(false);  // the statement was freed meanwhile
            }
            return Progress::done;
        }
        if (r.streaming_) {
            active_ = &r;
            return Progress::done;
        }
        r.conn_ = nullptr;  // a buffered result owns everything it needs
        store_sink_.emplace(r, opts.max_result_bytes);
        store_op_.emplace(*store_sink_);
        op_ = &*store_op_;
        return Progress::more;  // on with the rows
    }
    default:
        return Progress::done;
    }
}

Connection::Progress Connection::step() {
    if (call_ == Call::none) return Progress::done;
    if (call_done_) return call_rc_ == Errc::ok ? Progress::done : Progress::error;
    if (waker_.pending() && waker_.take()) return on_abort();
    if (nonblocking && deadlines_set_) {
        const io::Deadline &d = last_wait_ == Progress::wait_write ? write_deadline_ : read_deadline_;
        if (!d.none && io::Clock::now() >= d.at) {
            bool w = last_wait_ == Progress::wait_write;
            session.err.set(Errc::timeout, call_ == Call::connect ? ClientError::connect_timeout
                                           : w                    ? ClientError::write_timeout
                                                                  : ClientError::read_timeout,
                            call_ == Call::connect ? "connect timed out" : w ? "write timed out" : "read timed out");
            return fail_progress(Errc::timeout);
        }
    }
    for (;;) {
        // 1. What the transport holds for the socket goes first.
        while (transport_.has_output()) {
            std::size_t written = 0;
            auto io = socket_.try_write(transport_.output(), transport_.output_size(), written, session.err);
            if (io == io::Socket::Io::would_block) return wait(Progress::wait_write);
            if (io == io::Socket::Io::failed) return fail_progress(session.err.code);
            session.err.sent = true;
            transport_.consumed(written);
            wrote_ = true;
        }
        if (op_done_) {
            op_done_ = false;
            Progress p = on_op_done();
            if (p == Progress::more) continue;  // chained: the next op of this call
            if (p == Progress::done) {
                call_done_ = true;
                call_rc_ = Errc::ok;
            }
            return p;
        }
        // 2. What the operation waits for.
        if (io_ == IoWant::connecting) {
            switch (connector_->step(session.err)) {
            case io::Connector::Status::failed:
                connector_.reset();
                connect_waits_.close();
                return fail_progress(session.err.code);
            case io::Connector::Status::waiting:
                if (Errc rc = connect_waits_.arm(*connector_, session.err); rc != Errc::ok)
                    return fail_progress(rc);
                return wait(Progress::wait_read);  // connect_waits_.fd() becomes readable
            case io::Connector::Status::connected:
                break;
            }
            Errc rc = socket_.adopt(connector_->take_fd(), connector_->is_unix(), session.err);
            connector_.reset();
            connect_waits_.close();
            if (rc != Errc::ok) return fail_progress(rc);
            io_ = IoWant::none;
            continue;
        }
        if (io_ == IoWant::tls_handshake) {
            auto h = transport_.handshake(tls_info_, session.err);
            if (h == io::Transport::Handshake::error) return fail_progress(Errc::tls);
            if (h == io::Transport::Handshake::done) {
                io_ = IoWant::none;
                session.tls_verified = tls_info_.verified;  // the password rule needs it
                if (transport_.has_output()) continue;
            } else {
                if (transport_.has_output()) continue;
                auto io = socket_.try_read(transport_.raw_input(session.rbuf, 0), session.err);
                if (io == io::Socket::Io::would_block) return wait(Progress::wait_read);
                if (io == io::Socket::Io::failed) {
                    if (session.err.code == Errc::lost)
                        session.err.set(Errc::tls, ClientError::tls,
                                        "TLS handshake failed: the server closed the connection");
                    return fail_progress(session.err.code);
                }
                continue;
            }
        } else if (io_ == IoWant::read) {
            bool grew = false;
            if (Errc rc = transport_.pump(session.rbuf, grew, session.err); rc != Errc::ok)
                return fail_progress(rc);
            if (!grew && wrote_) {
                // A request just went out: its reply cannot be here yet, so
                // wait for it rather than spend a recv() on EAGAIN.
                wrote_ = false;
                return wait(Progress::wait_read);
            }
            if (!grew) {
                proto::ReadBuffer &in = transport_.raw_input(session.rbuf, session.read_hint());
                auto io = socket_.try_read(in, session.err);
                if (io == io::Socket::Io::would_block) return wait(Progress::wait_read);
                if (io == io::Socket::Io::failed) return fail_progress(session.err.code);
                if (&in != &session.rbuf) continue;  // up the stack first
            }
            io_ = IoWant::none;
        }
        // 3. The operation.
        if (!op_) {  // a pipeline between two steps
            Progress p;
            if (!pipeline_next(p)) return p;
            continue;  // its requests go out first
        }
        proto::Action a = op_->resume(session);
        switch (a) {
        case proto::Action::write:
        case proto::Action::start_tls: {
            const bool tls = a == proto::Action::start_tls;
            if (session.new_command) {  // the compressed protocol's ids restart too
                transport_.begin_command();
                session.new_command = false;
            }
            // The SSLRequest goes out in plain text: queued before TLS is set up.
            if (Errc rc = transport_.send(session.wbuf, session.err); rc != Errc::ok) return fail_progress(rc);
            if (tls) {
                if (Errc rc = transport_.start_tls(opts, tls_mode_, tls_host_, tls_info_, session.err);
                    rc != Errc::ok)
                    return fail_progress(rc);
                io_ = IoWant::tls_handshake;
            }
            continue;
        }
        case proto::Action::read:
            io_ = IoWant::read;
            continue;
        case proto::Action::done:
            op_done_ = true;
            continue;
        case proto::Action::error: {
            Progress p = on_op_error();
            if (p == Progress::more) continue;  // a pipeline goes on with its next step
            return p;
        }
        }
    }
}

Connection::Progress Connection::complete() {
    for (;;) {
        Progress p = step();
        if (p == Progress::done || p == Progress::error) {
            // An abort that came while that step ran wins, even though the
            // step may have read the call's end meanwhile (as the ERR of a
            // KILL QUERY sent after mywire_abort): the call had not returned.
            if (waker_.pending() && waker_.take()) return on_abort();
            return p;
        }
        const bool w = p == Progress::wait_write;
        if (io_ == IoWant::connecting) {
            // The connector's fds, until its next timer (it fails itself at
            // the deadline), or mywire_abort.
            if (Errc rc = io::wait_for(*connector_, waker_.fd(), session.err); rc != Errc::ok)
                return fail_progress(rc);
            continue;
        }
        // Woken by mywire_abort's eventfd too: the next step() ends the call.
        Errc rc = socket_.poll_for(w, w ? write_deadline_ : read_deadline_, waker_.fd(), session.err);
        if (rc != Errc::ok) {
            if (rc == Errc::timeout && call_ == Call::connect)
                session.err.set(Errc::timeout, ClientError::connect_timeout, "connect timed out");
            return fail_progress(rc);
        }
    }
}

long long Connection::timeout_ms() const {
    if (call_ == Call::none) return -1;
    if (io_ == IoWant::connecting && connector_) {
        io::Deadline d = connector_->wake_at();  // the deadline, or an earlier timer of the connector
        if (d.none) return -1;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(d.at - io::Clock::now()).count();
        return left < 0 ? 0 : static_cast<long long>(left) + 1;
    }
    unsigned configured = call_ == Call::connect ? opts.connect_timeout_ms
                          : last_wait_ == Progress::wait_write ? opts.write_timeout_ms
                                                               : opts.read_timeout_ms;
    if (!deadlines_set_) return configured ? static_cast<long long>(configured) : -1;
    const io::Deadline &d = last_wait_ == Progress::wait_write ? write_deadline_ : read_deadline_;
    if (d.none) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(d.at - io::Clock::now()).count();
    return left < 0 ? 0 : static_cast<long long>(left);
}

Errc Connection::finish(Result *&out) {
    out = nullptr;
    Errc rc = call_done_ ? call_rc_ : Errc::ok;
    Call call = call_;
    call_ = Call::none;
    op_ = after_drain_ = nullptr;
    cursor_tail_ = nullptr;
    call_done_ = false;
    switch (call) {
    case Call::connect:
        handshake_op_.reset();
        if (rc == Errc::ok) session.err.clear();
        break;
    case Call::prepare:
        prepare_op_.reset();
        stmt_ = nullptr;
        if (rc == Errc::ok) session.err.clear();
        break;
    case Call::batch:
        batch_op_.reset();
        if (rc == Errc::ok) {
            if (stmt_ && !batch_array_rows_) stmt_->clear_batch();
            auto r = Result::make(nullptr, false, true);
            r->head.ok.affected_rows = batch_affected_;
            r->head.ok.last_insert_id = batch_insert_id_;
            r->head.ok.warnings = batch_warnings_;
            r->head.ok.status_flags = session.status_flags;
            r->row_results_ = std::move(batch_units_);
            r->finished_ = true;
            out = r.release();
            session.err.clear();
        } else if (stmt_ && batch_next_ > 0) {
            session.err.message += " (in the batch's rows up to " + std::to_string(batch_next_) + " of " +
                                   std::to_string(batch_total()) + "; the earlier ones were applied)";
        }
        stmt_ = nullptr;
        batch_array_rows_ = 0;
        call_arrays_.clear();
        batch_units_ = {};
        break;
    case Call::send:
        send_op_.reset();
        stmt_ = nullptr;
        if (rc == Errc::ok) session.err.clear();
        break;
    case Call::execute:
        prepare_op_.reset();
        stmt_ = nullptr;
        reprepared_ = false;
        [[fallthrough]];
    case Call::query:
    case Call::next_result:
        call_attrs_.clear();
        head_op_.reset();
        store_op_.reset();
        store_sink_.reset();
        if (rc == Errc::ok && !next_none_) {
            out = pending_.release();
            session.err.clear();
        } else {
            if (pending_ && active_ == pending_.get()) active_ = nullptr;
            pending_.reset();
        }
        break;
    case Call::command:
        if (rc == Errc::ok) {
            session.err.clear();
            if (command_cmd_ == proto::command::reset_connection) {
                new_epoch();  // statements forgotten
                query_attrs_.clear();  // as the session's other state
            }
        }
        command_op_.reset();
        stmt_ = nullptr;
        break;
    case Call::statistics:
        if (rc == Errc::ok) {
            statistics_text = std::move(command_op_->text);
            session.err.clear();
        }
        command_op_.reset();
        break;
    case Call::pipeline:
        if (pipe_)
            for (PipelineStep &st : pipe_->steps) {
                st.op.reset();
                st.current.reset();
            }
        pipe_ = nullptr;
        pipe_orphans_.clear();
        store_op_.reset();
        store_sink_.reset();
        if (rc == Errc::ok) session.err.clear();
        break;
    case Call::fetch: {
        Result *r = fetching_;
        fetching_ = nullptr;
        if (!r) break;
        if (rc != Errc::ok) {
            // An ERR ended the result (the connection is ready again), or
            // the connection failed (already abandoned): sticky on r.
            if (active_ == r) abandon_active(static_cast<int>(rc));
            r->finished_ = true;
            if (r->error_ == 0) r->error_ = static_cast<int>(rc);
        } else if (r->rows_op_.end) {
            end_of_batch(*r);
        }
        break;
    }
    default:
        break;
    }
    return rc;
}

// The end marker of a streaming result (or of a cursor's batch) was read.
void Connection::end_of_batch(Result &r) noexcept {
    r.head.ok.status_flags = r.rows_op_.end_ok.status_flags;
    r.head.ok.warnings = r.rows_op_.end_ok.warnings;
    if (active_ == &r) active_ = nullptr;
    std::uint16_t st = r.rows_op_.end_ok.status_flags;
    if (r.cursor_stmt_ && (st & proto::status::cursor_exists) && !(st & proto::status::last_row_sent)) {
        // A batch ended; the cursor has more: the next fetch asks for them.
        r.rows_op_ = proto::BasicRowsOp<StreamSink>(r.stream_sink_);
    } else {
        r.finished_ = true;
        if (r.cursor_stmt_) r.cursor_stmt_->cursor_result_ = nullptr;
        if (r.cursor_stmt_ || r.cursor_done_) r.cursor_done_ = true;
        r.cursor_stmt_ = nullptr;
        r.conn_ = nullptr;
    }
}

// ------------------------------------------------------------------ calls

Errc Connection::start_query(std::string_view sql, bool streaming) {
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    reply_binary_ = false;
    pending_ = Result::make(this, streaming);
    head_op_.emplace(pending_->head, head_limits());
    take_query_attrs();
    if (call_attrs_.empty()) {
        head_op_->set_query(sql, proto::ResultHeadOp::query_prefix(session));
    } else {
        query_prefix_.clear();
        proto::append_query_attributes(query_prefix_, call_attrs_);
        head_op_->set_query(sql, query_prefix_);
    }
    return begin(Call::query, &*head_op_);
}

Errc Connection::start_next_result(bool streaming, bool &none) {
    none = false;
    if (call_ != Call::none)
        return session.err.set(Errc::out_of_sync, "another call is in progress on this connection");
    if (state() == State::rows && active_) {
        // The previous result's unread rows are read and dropped first; it
        // reports the end from now on.
        Result *prev = active_;
        active_ = nullptr;
        prev->finished_ = true;
        prev->set_row(false);
        prev->conn_ = nullptr;
        drain_sink_.columns = prev->values_.size();
        drain_sink_.binary = prev->binary_;
        if (prev->binary_) drain_sink_.layout = prev->layout_;
        drain_pending_ = true;
    }
    if (!drain_pending_) {
        if (state() == State::ready) return none = true, Errc::ok;
        if (state() != State::more_results) return ready_for_command();
    }
    pending_ = Result::make(this, streaming, reply_binary_);
    head_op_.emplace(pending_->head, head_limits());
    return begin(Call::next_result, &*head_op_, false);
}

// ------------------------------------------------------------ statements

// The result and head operation of an execute whose request is in request_.
void Connection::execute_head(Statement &st, bool streaming) {
    pending_ = Result::make(this, streaming, true);
    head_op_.emplace(pending_->head, head_limits());
    head_op_->set_request(proto::command::stmt_execute, request_);
    head_op_->set_cached_columns(&st.columns_);
    head_op_->set_spare_head(pending_->spare_head_.get());
    head_op_->set_cursor(st.cursor_rows_ > 0);
}

Errc Connection::check_owner(const Statement &st) {
    return st.conn_ == this ? Errc::ok
                            : session.err.set(Errc::argument, "the statement belongs to another connection");
}

Errc Connection::start_prepare(Statement &st, std::string_view sql) {
    if (Errc rc = check_owner(st); rc != Errc::ok) return rc;
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    if (Errc rc = reserve_closes(1); rc != Errc::ok) return rc;
    st.client_side_ = false;
    st.sql_.assign(sql.data(), sql.size());
    stmt_ = &st;
    prepare_op_ = std::make_unique<proto::PrepareOp>(st.sql_, prep_params_, prep_columns_, head_limits());
    return begin(Call::prepare, prepare_op_.get());
}

Errc Connection::prepare_client(Statement &st, std::string_view sql) {
    if (Errc rc = check_owner(st); rc != Errc::ok) return rc;
    std::vector<std::size_t> positions;
    if (Errc rc = proto::find_placeholders(sql, session.status_flags & proto::status::no_backslash_escapes,
                                           positions, session.err, opts.charset);
        rc != Errc::ok)
        return rc;
    if (st.prepared_ && !st.client_side_ && st.epoch_ == epoch_) queue_stmt_close(st.id_);
    st.sql_.assign(sql.data(), sql.size());
    st.client_side_ = true;
    st.prepared_ = true;
    st.id_ = 0;
    st.params_head_ = proto::ResultHead{};
    st.columns_ = proto::ResultHead{};
    st.params_.assign(positions.size(), proto::Param{});
    st.arrays_.clear();
    st.clear_batch();
    session.err.clear();
    return Errc::ok;
}

Errc Connection::start_execute(Statement &st, bool streaming) {
    if (Errc rc = check_owner(st); rc != Errc::ok) return rc;
    if (Errc rc = st.usable(session.err); rc != Errc::ok) return rc;
    if (st.client_side_) {
        if (st.cursor_rows_)
            return session.err.set(Errc::argument, "a client-side statement cannot use a cursor");
        if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
        // The status of the latest OK says whether backslashes escape.
        std::string sql;
        if (Errc rc = proto::format_query(st.sql_, st.params_, opts.charset,
                                          session.status_flags & proto::status::no_backslash_escapes, sql,
                                          session.err);
            rc != Errc::ok)
            return rc;
        request_.swap(sql);
        return start_query(request_, streaming);
    }
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    if (Errc rc = st.build_execute(request_, session.err, query_attrs_, session.query_attributes()); rc != Errc::ok)
        return rc;
    take_query_attrs();  // sent now (and again by a re-prepare's execute)
    stmt_ = &st;
    reprepared_ = false;
    reply_binary_ = true;
    if (st.cursor_rows_ > 0) streaming = true;  // a cursor's rows come batch by batch
    execute_head(st, streaming);
    st.forget_long_data();  // used by one execution: the next needs it sent again
    return begin(Call::execute, &*head_op_);
}

void Connection::take_query_attrs() {
    call_attrs_.clear();
    call_attrs_.swap(query_attrs_);
}

Errc Connection::set_query_attr(std::string_view name, proto::Param &&value) {
    if (call_ != Call::none)
        return session.err.set(Errc::out_of_sync, "commands out of sync: another call is in progress on this "
                                                  "connection (continue it first)");
    if (!connected())
        return session.err.set(Errc::state, "not connected: query attributes can be set once connected to a "
                                            "server that supports them");
    if (!session.query_attributes())
        return session.err.set(Errc::unsupported,
                               "the server does not support query attributes (MySQL 8.0.23+ offers "
                               "CLIENT_QUERY_ATTRIBUTES; MariaDB has none); nothing was set, the connection "
                               "is as it was");
    if (name.empty()) return session.err.set(Errc::argument, "a query attribute needs a name");
    for (proto::QueryAttr &a : query_attrs_)
        if (a.name == name) {
            a.value = std::move(value);
            return Errc::ok;
        }
    query_attrs_.push_back(proto::QueryAttr{std::string(name), std::move(value)});
    return Errc::ok;
}

Errc Connection::start_stmt_reset(Statement &st) {
    if (Errc rc = check_owner(st); rc != Errc::ok) return rc;
    if (st.client_side_) return Errc::ok;  // nothing on the server
    if (Errc rc = st.usable(session.err); rc != Errc::ok) return rc;
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    request_.clear();
    proto::append_le(request_, st.id_, 4);
    command_cmd_ = proto::command::stmt_reset;
    command_op_ = std::make_unique<proto::SimpleCommandOp>(proto::command::stmt_reset, request_,
                                                           proto::SimpleCommandOp::Reply::ok);
    // The server drops the long data and closes the cursor.
    st.forget_long_data();
    if (Result *r = st.cursor_result_; r && (r != active_ || at_batch_end(*r))) {
        // An active one's batch end marker is read first (begin), which ends it.
        r->end_cursor(r == active_);
        st.cursor_result_ = nullptr;
    }
    return begin(Call::command, command_op_.get());
}

Errc Connection::start_send_long_data(Statement &st, unsigned param, std::string_view data) {
    if (Errc rc = check_owner(st); rc != Errc::ok) return rc;
    if (st.client_side_) return session.err.set(Errc::argument, "a client-side statement has no long data");
    if (param >= st.params_.size())
        return session.err.set(Errc::argument, "parameter " + std::to_string(param) + " out of range (the "
                                               "statement has " + std::to_string(st.params_.size()) + ")");
    if (Errc rc = st.usable(session.err); rc != Errc::ok) return rc;
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    if (data.size() + 7 > opts.max_allowed_packet)
        return session.err.set(Errc::argument, "a long data chunk must fit in max_allowed_packet; send it in smaller pieces");
    request_.clear();
    proto::append_le(request_, st.id_, 4);
    proto::append_le(request_, param, 2);
    request_.append(data.data(), data.size());
    proto::Param &p = st.params_[param];
    if (!p.long_data) {
        // The first chunk: the value is the chunks sent until the execute.
        p.type = static_cast<std::uint8_t>(proto::field_type::blob);
        p.is_unsigned = false;
        p.bytes.clear();
    }
    p.long_data = true;
    p.bound = true;
    send_op_ = std::make_unique<proto::SendOnlyOp>(proto::command::stmt_send_long_data, request_);
    return begin(Call::send, send_op_.get());
}

Errc Connection::start_execute_batch(Statement &st) {
    if (Errc rc = check_owner(st); rc != Errc::ok) return rc;
    if (Errc rc = st.usable(session.err); rc != Errc::ok) return rc;
    if (st.batch_ends_.empty()) return session.err.set(Errc::argument, "the batch is empty (mywire_stmt_add_batch adds rows)");
    if (st.client_side_) return session.err.set(Errc::argument, "a client-side statement has no batches");
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    if (st.batch_indicators_ && !bulk_for(st))
        return session.err.set(Errc::argument, no_bulk_indicators(st));
    stmt_ = &st;
    start_batch(st);
    batch_array_rows_ = 0;
    if (Progress p = batch_step(); p == Progress::error) {
        stmt_ = nullptr;
        return session.err.code;
    }
    return begin(Call::batch, batch_op_.get());
}

Errc Connection::start_execute_array(Statement &st, std::uint64_t rows) {
    if (Errc rc = check_owner(st); rc != Errc::ok) return rc;
    if (Errc rc = st.usable(session.err); rc != Errc::ok) return rc;
    if (st.client_side_) return session.err.set(Errc::argument, "a client-side statement has no column arrays");
    const std::size_t n = st.params_.size();
    if (n == 0) return session.err.set(Errc::argument, "column arrays need a statement with parameters");
    if (rows == 0) return session.err.set(Errc::argument, "no rows to execute (rows is 0)");
    for (std::size_t i = 0; i < n; ++i) {
        if (st.arrays_.size() != n || !st.arrays_[i].bound())
            return session.err.set(Errc::argument, "parameter " + std::to_string(i) + " of " + std::to_string(n) +
                                                       " has no array (mywire_stmt_bind_array every parameter)");
        if (st.params_[i].long_data)
            return session.err.set(Errc::argument, "parameter " + std::to_string(i) +
                                                       " has long data sent, which column arrays cannot use "
                                                       "(mywire_stmt_reset drops it)");
    }
    // A row's values are read through the caller's pointers at row * step:
    // the last row's address must not wrap.
    auto wraps = [&](const void *p, std::size_t step) {
        constexpr std::uintptr_t top = std::numeric_limits<std::uintptr_t>::max();
        return p && rows - 1 > (top - reinterpret_cast<std::uintptr_t>(p)) / step;
    };
    for (const proto::ParamArray &a : st.arrays_)
        if (wraps(a.values, a.value_step) || wraps(a.lengths, a.length_step) || wraps(a.indicators, a.indicator_step))
            return session.err.set(Errc::argument, "rows reach past the end of the address space");
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    const bool bulk = bulk_for(st);
    // Every value is checked before the first request goes out: an argument
    // error applies no row.
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t bad = 0;
        const char *why = "";
        if (proto::check_param_array(st.arrays_[i], rows, opts.max_allowed_packet, bulk, bad, why) != Errc::ok)
            return session.err.set(Errc::argument, "parameter " + std::to_string(i) + ", row " + std::to_string(bad) +
                                                       ": " + why);
    }
    call_arrays_ = st.arrays_;
    stmt_ = &st;
    start_batch(st);
    batch_array_rows_ = rows;
    if (Progress p = batch_step(); p == Progress::error) {
        stmt_ = nullptr;
        batch_array_rows_ = 0;
        return session.err.code;
    }
    return begin(Call::batch, batch_op_.get());
}

// Bulk execution when the server has it -- and, when the statement asks for
// per-row results, only if the server can send them (MariaDB 11.5+); else
// one COM_STMT_EXECUTE per row, whose OKs are the rows' results.
bool Connection::bulk_for(const Statement &st) const {
    if (!(session.mariadb_caps & proto::mariadb_cap::stmt_bulk_operations)) return false;
    return !st.row_results_ || (session.mariadb_caps & proto::mariadb_cap::bulk_unit_results);
}

// Why DEFAULT and IGNORE cannot be sent (nothing was).
std::string Connection::no_bulk_indicators(const Statement &st) const {
    if (st.row_results_ && (session.mariadb_caps & proto::mariadb_cap::stmt_bulk_operations))
        return "DEFAULT and IGNORE need bulk execution, and with per-row results (mywire_stmt_set_row_results) "
               "that needs MariaDB 11.5+ (this server runs the rows one by one)";
    return "DEFAULT and IGNORE need bulk execution, which only MariaDB has";
}

void Connection::start_batch(const Statement &st) {
    batch_bulk_ = bulk_for(st);
    batch_row_results_ = st.row_results_;
    batch_units_.clear();
    batch_next_ = 0;
    batch_affected_ = batch_insert_id_ = 0;
    batch_warnings_ = 0;
}

// The next request of a batch call into batch_op_ (error: session.err set).
Connection::Progress Connection::batch_step() {
    Statement &st = *stmt_;
    std::uint8_t cmd;
    std::uint64_t request_rows = 1;  // the rows this request carries
    std::vector<proto::RowResult> *units = batch_row_results_ && batch_bulk_ ? &batch_units_ : nullptr;
    const std::uint16_t flags = proto::bulk_flag::send_types | (units ? proto::bulk_flag::send_unit_results : 0);
    if (batch_array_rows_) {
        if (batch_bulk_) {
            std::size_t limit = std::min<std::size_t>(bulk_chunk, opts.max_allowed_packet / 2);
            const std::uint64_t from = batch_next_;
            batch_next_ = st.build_array_bulk(bulk_request_, call_arrays_, from, batch_array_rows_, limit, flags);
            command_cmd_ = proto::command::stmt_bulk_execute;
            batch_op_ = std::make_unique<proto::BatchRequestOp>(&bulk_request_, batch_next_ - from, units,
                                                                head_limits());
            return Progress::more;
        } else {
            st.load_array_row(call_arrays_, batch_next_);
            static const std::vector<proto::QueryAttr> no_attrs;  // the rows carry none
            if (st.build_execute(request_, session.err, no_attrs, session.query_attributes()) != Errc::ok)
                return Progress::error;
            ++batch_next_;
            cmd = proto::command::stmt_execute;
        }
    } else if (batch_bulk_) {
        const std::size_t rows = st.batch_ends_.size();
        // As many rows as fit in a chunk (at least one).
        std::size_t start = batch_next_ ? st.batch_ends_[batch_next_ - 1] : 0, end = batch_next_ + 1;
        std::size_t limit = std::min<std::size_t>(bulk_chunk, opts.max_allowed_packet / 2);
        while (end < rows && st.batch_ends_[end] - start <= limit) ++end;
        st.build_bulk(request_, batch_next_, end, flags);
        request_rows = end - batch_next_;
        batch_next_ = end;
        cmd = proto::command::stmt_bulk_execute;
    } else {
        if (st.load_batch_row(batch_next_, session.err) != Errc::ok) return Progress::error;
        static const std::vector<proto::QueryAttr> no_attrs;  // a batch's rows carry none
        if (st.build_execute(request_, session.err, no_attrs, session.query_attributes()) != Errc::ok)
            return Progress::error;
        ++batch_next_;
        cmd = proto::command::stmt_execute;
    }
    command_cmd_ = cmd;
    batch_op_ = std::make_unique<proto::BatchRequestOp>(cmd, request_, request_rows, units, head_limits());
    return Progress::more;
}

Errc Connection::prepare(Statement &st, std::string_view sql) {
    if (Errc rc = start_prepare(st, sql); rc != Errc::ok) return rc;
    complete();
    return finish();
}

Errc Connection::execute(Statement &st, bool streaming, Result *&out) {
    out = nullptr;
    if (Errc rc = start_execute(st, streaming); rc != Errc::ok) return rc;
    complete();
    return finish(out);
}

Errc Connection::start_command(std::uint8_t cmd, std::string_view arg) {
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    command_cmd_ = cmd;
    command_op_ = std::make_unique<proto::SimpleCommandOp>(cmd, arg, proto::SimpleCommandOp::Reply::ok);
    return begin(Call::command, command_op_.get());
}

Errc Connection::start_set_option(std::uint16_t option) {
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    command_cmd_ = proto::command::set_option;
    command_op_ = std::make_unique<proto::SimpleCommandOp>(proto::SimpleCommandOp::set_option(option));
    return begin(Call::command, command_op_.get());
}

Errc Connection::start_statistics() {
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    command_cmd_ = proto::command::statistics;
    command_op_ = std::make_unique<proto::SimpleCommandOp>(proto::command::statistics, std::string_view(),
                                                           proto::SimpleCommandOp::Reply::text);
    return begin(Call::statistics, command_op_.get());
}

int Connection::start_cursor_fetch(Result &r) {
    Statement *st = r.cursor_stmt_;
    if (Errc rc = st->usable(session.err); rc != Errc::ok) {
        r.finished_ = true;
        return r.error_ = static_cast<int>(rc);
    }
    if (Errc rc = ready_for_command(); rc != Errc::ok) return static_cast<int>(rc);
    std::uint32_t id = st->id_, rows = st->cursor_rows_ ? st->cursor_rows_ : 1;
    r.batch_end_ = r.fetched_ + rows;
    for (int k = 0; k < 4; ++k) {
        r.fetch_request_[k] = static_cast<std::uint8_t>(id >> (8 * k));
        r.fetch_request_[4 + k] = static_cast<std::uint8_t>(rows >> (8 * k));
    }
    r.rows_op_ = proto::BasicRowsOp<StreamSink>(r.stream_sink_);
    r.fetch_op_.emplace(proto::command::stmt_fetch,
                        std::string_view(reinterpret_cast<const char *>(r.fetch_request_), 8), r.rows_op_);
    begin(Call::fetch, &*r.fetch_op_);
    fetching_ = &r;
    active_ = &r;
    session.state = State::rows;
    return static_cast<int>(Outcome::wait_read);  // not returned: the caller steps the call
}

// Where the streaming hot path (fetch_row, inline in Result::fetch) stopped
// without a row -- more bytes needed, the end, an error: it goes on as a
// fetch call from there.
int Connection::fetch_go_on(Result &r, proto::Action a) {
    begin(Call::fetch, &r.rows_op_, false);
    fetching_ = &r;
    Progress p;
    if (a == proto::Action::error) {
        p = on_op_error();
    } else {
        if (a == proto::Action::done)
            op_done_ = true;  // the end marker
        else
            io_ = IoWant::read;
        p = nonblocking ? step() : complete();
    }
    return fetch_finish(r, p);
}

int Connection::fetch_finish(Result &r, Progress p) {
    if (p == Progress::wait_read) return static_cast<int>(Outcome::wait_read);
    if (p == Progress::wait_write) return static_cast<int>(Outcome::wait_write);
    Errc rc = finish();
    if (rc != Errc::ok) return r.error_ ? r.error_ : static_cast<int>(rc);
    if (!r.has_row() && !r.finished_ && r.cursor_stmt_) return fetch_row(r);  // the next batch
    return r.has_row() ? static_cast<int>(Outcome::row) : static_cast<int>(Outcome::done);
}

int Connection::fetch_other(Result &r) {
    Progress p;
    if (call_ == Call::none && active_ != &r && r.cursor_stmt_) {
        // A cursor between batches: COM_STMT_FETCH for the next one.
        if (int rc = start_cursor_fetch(r); rc != static_cast<int>(Outcome::wait_read)) return rc;
        p = nonblocking ? step() : complete();
    } else if (call_ == Call::none) {
        if (active_ != &r) return r.error_ = static_cast<int>(session.err.set(Errc::state, "the result is no longer being read"));
        return fetch_row(r);
    } else if (call_ != Call::fetch || fetching_ != &r) {
        return static_cast<int>(session.err.set(Errc::out_of_sync, "commands out of sync: another call is "
                                                                   "in progress on this connection"));
    } else {
        p = nonblocking ? step() : complete();
    }
    return fetch_finish(r, p);
}

// ------------------------------------------------------ blocking wrappers

Errc Connection::connect() {
    if (Errc rc = start_connect(); rc != Errc::ok) return rc;
    complete();
    return finish();
}

Errc Connection::query(std::string_view sql, bool streaming, Result *&out) {
    out = nullptr;
    if (Errc rc = start_query(sql, streaming); rc != Errc::ok) return rc;
    complete();
    return finish(out);
}

int Connection::next_result(bool streaming, Result *&out) {
    out = nullptr;
    bool none = false;
    if (Errc rc = start_next_result(streaming, none); rc != Errc::ok) return static_cast<int>(rc);
    if (none) return static_cast<int>(Outcome::done);
    complete();
    bool no_more = next_none_;
    Errc rc = finish(out);
    if (rc != Errc::ok) return static_cast<int>(rc);
    return no_more ? static_cast<int>(Outcome::done) : 0;
}

Errc Connection::simple_command(std::uint8_t cmd, std::string_view arg) {
    if (Errc rc = start_command(cmd, arg); rc != Errc::ok) return rc;
    complete();
    return finish();
}

Errc Connection::set_server_option(std::uint16_t option) {
    if (Errc rc = start_set_option(option); rc != Errc::ok) return rc;
    complete();
    return finish();
}

Errc Connection::statistics(std::string &text) {
    if (Errc rc = start_statistics(); rc != Errc::ok) return rc;
    complete();
    Errc rc = finish();
    if (rc == Errc::ok && &text != &statistics_text) text = statistics_text;
    return rc;
}

// ---------------------------------------------------- results going away

void Connection::detach(Result &r) noexcept {
    if (active_ != &r) return;
    // Its unread rows must be read before the next command.
    active_ = nullptr;
    if (call_ == Call::fetch && fetching_ == &r) {  // freed in the middle of a non-blocking fetch
        call_ = Call::none;
        op_ = nullptr;
        fetching_ = nullptr;
    }
    r.conn_ = nullptr;
    drain_sink_.columns = r.values_.size();
    drain_sink_.binary = r.binary_;
    if (r.binary_) drain_sink_.layout = r.layout_;
    drain_pending_ = true;
    if (nonblocking || call_ != Call::none) return;  // the next call drains first
    // Blocking: drain now. Runs in a destructor: an exception closes the
    // connection instead.
    try {
        begin(Call::drain, &drain_op_);
        drain_op_ = proto::RowsOp(drain_sink_);
        complete();
        finish();
    } catch (const std::bad_alloc &) {
        on_exception(Errc::nomem);
    } catch (...) {
        on_exception(Errc::internal);
    }
}

void Connection::discard(Result &r) noexcept {
    if (active_ != &r) {
        r.conn_ = nullptr;
        return;
    }
    // Unread rows are on the wire and nobody will read them: the connection
    // cannot be used again.
    drop_connection(static_cast<int>(Errc::state), State::broken);
    session.err.set(Errc::state, "a streaming result was discarded before its end; the connection was closed");
}

void Connection::close() noexcept {
    abandon_active(static_cast<int>(Errc::state));
    if (socket_.fd() >= 0 && call_ == Call::none &&
        (state() == State::ready || state() == State::more_results || state() == State::rows)) {
        // Best effort: COM_QUIT has no reply; a short deadline, and nothing
        // that waits in non-blocking mode.
        try {
            quit_op_ = std::make_unique<proto::SendOnlyOp>(proto::command::quit, std::string_view());
            drain_pending_ = false;
            begin(Call::close, quit_op_.get());
            read_deadline_ = write_deadline_ = io::Deadline::after_ms(1000);
            deadlines_set_ = true;
            Error saved = session.err;
            if (nonblocking)
                step();
            else
                complete();
            finish();
            session.err = saved;
        } catch (...) {
        }
    }
    close_now();
}

void Connection::close_now() noexcept {
    // Never-connected handles too: only free and getters are left.
    drop_connection(static_cast<int>(Errc::state), State::closed);
    clear_call();
}

}  // namespace mywire
