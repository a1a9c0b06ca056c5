// A connection and its results: the driver of the sans-io operations in
// proto/operations.hpp (blocking and non-blocking alike), and the row
// storage of results.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cancel.hpp"
#include "io/connector.hpp"
#include "io/socket.hpp"
#include "io/tls.hpp"
#include "io/transport.hpp"
#include "options.hpp"
#include "proto/operations.hpp"
#include "proto/params.hpp"
#include "proto/reader.hpp"
#include "proto/small_array.hpp"
#include "proto/values.hpp"

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
    // Empty again, but a first block of the first size stays (with the
    // list's room), for the next small result (Result::release).
    void keep_first() noexcept;

private:
    static void free_block(const Block &b) noexcept;
    std::vector<Block> blocks_;
    std::size_t left_ = 0;
    // Small results stay small: a one-row result (a pipeline holds thousands)
    // takes a few hundred bytes, not a block of 8 KiB.
    static constexpr std::size_t first_block = 512;
    std::size_t next_block_ = first_block;
    std::uint64_t bytes_ = 0;
};

// A row's place in a RowArena.
struct RowPos {
    std::uint32_t block = 0;
    std::uint32_t offset = 0;  // blocks stay under 4 GiB: rows are under 1 GiB (the packet limit)
};

class Result;

// A text row parsed in place into a result's values (streaming).
class StreamSink final : public proto::RowSink {
public:
    explicit StreamSink(Result &r) : r_(r) {}
    Errc on_row(proto::Session &s, std::string_view payload, Next &next) override;
    // The row itself, inlined into the streaming fetch (BasicRowsOp<StreamSink>).
    inline Errc take_row(proto::Session &s, std::string_view payload, Next &next);

private:
    Result &r_;
};

// Text rows stored into a result's arena (buffered), within max_result_bytes:
// past it the rest is still read and checked, then dropped.
class StoreSink final : public proto::RowSink {
public:
    StoreSink(Result &r, std::uint64_t limit) : r_(r), limit_(limit) {}
    Errc on_row(proto::Session &s, std::string_view payload, Next &next) override;
    bool over_limit = false;

private:
    Result &r_;
    std::uint64_t limit_;
};

// Rows read and dropped (draining a result nobody reads), still checked.
class DiscardSink final : public proto::RowSink {
public:
    Errc on_row(proto::Session &s, std::string_view payload, Next &next) override;
    std::size_t columns = 0;
    bool binary = false;  // binary rows: checked against `layout`
    proto::BinaryLayout layout;
    std::vector<Value> scratch;
};

class Statement;
struct StmtCacheEntry;

// A result's plain state. A kept result that is used again (Result::make)
// starts from these defaults, all at once: a field added here needs no
// code to be reset. Whatever owns memory is Result's own, further below.
struct ResultState {
    Connection *conn_ = nullptr;  // null once the connection is gone
    bool streaming_ = false;
    bool binary_ = false;  // binary protocol rows (a prepared statement's)
    bool finished_ = false;  // all rows (and the end marker) read, or failed
    mutable bool text_all_ = false;
    int error_ = 0;  // why a streaming result stopped early; sticky
    std::uint32_t row_generation_ = 1;  // see Result::row_changed
    // A cursor (COM_STMT_FETCH): the statement whose cursor it reads, while
    // more rows may be fetched; cursor_done_ once the last batch ended.
    Statement *cursor_stmt_ = nullptr;
    bool cursor_done_ = false;
    std::uint8_t fetch_request_[8] = {};
    // fetched_ once every row of the current batch was read (its end marker
    // may still be unread: the next command reads it first).
    std::uint64_t batch_end_ = 0;
    // The current row: while there is one, cols_.all is its column count
    // (values_.size(), never 0: a result set has columns) and cols_.bin the
    // same for a binary result (0 for a text one); both 0 without a row. So
    // the getters' checks (a row, the index, the protocol) are one compare.
    struct RowCols {
        std::uint32_t all = 0, bin = 0;
    };
    RowCols cols_;    // the current row's
    RowCols row_on_;  // cols_ with a row: set by prepare_rows with values_
    std::uint64_t fetched_ = 0;
    // buffered
    std::uint64_t stored_ = 0;
    std::uint64_t next_ = 0;  // index of the row the next fetch returns
    RowPos pos_;              // where that row is
};

class Result : private ResultState {
public:
    // Out of line: only connection.cpp instantiates the streaming rows
    // operation, whose row step (StreamSink::take_row) is defined there.
    Result(Connection *conn, bool streaming, bool binary = false);
    ~Result();
    Result(const Result &) = delete;
    Result &operator=(const Result &) = delete;

    // A new result: the one release kept on this thread, if any, so that a
    // point select's result costs no allocation.
    static std::unique_ptr<Result> make(Connection *conn, bool streaming, bool binary = false);
    // Frees r (nullptr: nothing). A small result no longer tied to a
    // connection or a cursor is kept instead, with its buffers' room, for
    // the next make on this thread (one per thread, freed when it ends).
    static void release(Result *r) noexcept;

    proto::ResultHead head;

    unsigned column_count() const { return static_cast<unsigned>(head.columns.size()); }
    bool streaming() const { return streaming_; }
    std::uint64_t row_count() const { return streaming_ ? fetched_ : stored_; }
    // The current row: text values (a binary result's are formatted on
    // first use into text_, valid until the next fetch).
    const Value *row() const {
        if (!cols_.all) return nullptr;
        return binary_ ? binary_text_row() : values_.data();
    }
    // One value as text; nullptr without a row or out of range.
    const Value *text_value(unsigned i) const {
        if (i >= cols_.all) return nullptr;
        return binary_ && !text_as_is(i) ? binary_text(i) : &values_[i];
    }
    // The value as it came: binary results keep the binary encoding.
    const Value *raw_value(unsigned i) const {
        return i < cols_.all ? &values_[i] : nullptr;
    }
    bool binary() const { return binary_; }
    // The typed getters' fast path: value i of the current row of a binary
    // result, not NULL; nullptr for anything else.
    const Value *binary_value(unsigned i) const {
        return i < cols_.bin && values_[i].data ? &values_[i] : nullptr;
    }
    // Value i of the current row when it is its own text, not NULL (a text
    // result's; a binary string's terminated in place); nullptr otherwise.
    const Value *as_is_text(unsigned i) const {
        if (i >= cols_.all || !values_[i].data) return nullptr;
        return !binary_ || text_as_is(i) ? &values_[i] : nullptr;
    }
    // A binary result's column's fast form for the typed getters.
    proto::Fast fast_form(unsigned i) const { return layout_.fast[i]; }
    bool has_row() const { return cols_.all != 0; }
    bool cursor() const { return cursor_stmt_ != nullptr || cursor_done_; }
    // A batch's per-row results, when its statement asked for them (else empty).
    const std::vector<proto::RowResult> &row_results() const { return row_results_; }

    // MYWIRE_ROW, MYWIRE_DONE, MYWIRE_WAIT_* (a non-blocking connection) or
    // an error code. Never throws: an exception (out of memory) ends the
    // result with a sticky error, recorded on the connection, which is closed
    // (it was left in the middle of a reply).
    int fetch() noexcept;
    static constexpr std::size_t index_bytes_per_row = sizeof(RowPos);  // counted in max_result_bytes
    // Never throws (Errc::nomem when the index cannot be built).
    Errc seek(std::uint64_t index) noexcept;
    // Free without reading the rest: a streaming result still being read
    // closes its connection (nothing blocks, nothing is drained).
    void discard() noexcept;

private:
    friend class Connection;
    friend class StreamSink;
    friend class StoreSink;
    friend class Statement;
    int fail_exception(Errc code) noexcept;
    void prepare_rows();  // the head is in: sizes values_, builds the binary layout
    // The cursor ends before its last row: the rows not fetched give STATE
    // (never a DONE that would look like the end). keep_connection: the
    // result is still reading a batch, whose end it reads on its connection.
    void end_cursor(bool keep_connection) noexcept;
    bool ensure_text() const noexcept;  // sizes the text buffers; false: out of memory
    const Value *binary_text_row() const noexcept;
    const Value *binary_text(unsigned i) const noexcept;
    // A binary value that is its own text, already a C string: a string
    // stored in the arena, or one a streaming row terminated in place.
    bool text_as_is(unsigned i) const {
        return proto::text_passthrough(layout_.wire[i]) &&
               (!streaming_ || !values_[i].data || proto::terminated_in_place(values_[i]));
    }
    // A new current row: the text forms made for the previous one are stale
    // (text_made_[i] holds the row generation it was made for).
    void row_changed() {
        if (binary_) {
            text_all_ = false;
            if (++row_generation_ == 0) {  // wrapped: no stale entry may match
                std::fill(text_made_.begin(), text_made_.end(), 0);
                row_generation_ = 1;
            }
        }
    }
    void set_row(bool on) { cols_ = on ? row_on_ : RowCols{}; }
    // Back to a new result's state, keeping the buffers' room (release).
    void reset() noexcept;
    std::vector<proto::RowResult> row_results_;
    proto::BinaryLayout layout_;
    // The columns of an earlier execute, kept by reset
    // (ResultHeadOp::set_spare_head), and the stamp of the columns layout_
    // was built for. Behind a pointer, made when the result is first kept:
    // see max_result_size.
    std::unique_ptr<proto::SpareColumns> spare_head_;
    // Text forms of a binary row's values, made on demand.
    mutable std::vector<Value> text_;
    mutable std::vector<std::string> text_store_;
    mutable std::vector<std::uint32_t> text_made_;
    std::optional<proto::RequestThenOp> fetch_op_;
    // The current row's values; up to 16 columns without an allocation.
    proto::SmallArray<Value, 16> values_;
    StreamSink stream_sink_;
    proto::BasicRowsOp<StreamSink> rows_op_;  // streaming: reads one row per fetch
    RowArena arena_;  // buffered: the rows
    std::vector<RowPos> index_;  // built on the first seek
};

// A prepared statement (COM_STMT_PREPARE), owned by the caller. It stays a
// valid object when its connection closes, reconnects, resets or is freed:
// using it then is Errc::state with a clear message (prepare again).
class Statement {
public:
    explicit Statement(Connection *conn);
    ~Statement();
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;

    unsigned param_count() const { return static_cast<unsigned>(params_.size()); }
    unsigned column_count() const { return static_cast<unsigned>(columns_.columns.size()); }
    const proto::ResultHead &params_head() const { return params_head_; }
    const proto::ResultHead &columns_head() const { return columns_; }
    bool prepared() const { return prepared_; }
    bool client_side() const { return client_side_; }
    void attach(Connection *conn) { conn_ = conn; }  // once, right after add_statement
    Connection *connection() const { return conn_; }
    std::uint32_t id() const { return id_; }

    // Typed setters (Errc::argument for a wrong index or value).
    Errc bind_null(unsigned i);
    Errc bind_int(unsigned i, std::int64_t v, unsigned type);     // tiny/short_/long_/longlong
    Errc bind_uint(unsigned i, std::uint64_t v, unsigned type);
    Errc bind_float(unsigned i, float v);
    Errc bind_double(unsigned i, double v);
    Errc bind_bytes(unsigned i, unsigned type, std::string_view v);  // string/blob/json/decimal
    Errc bind_time(unsigned i, const proto::Time &t);
    Errc clear_bindings();
    // Bulk execution (MariaDB): DEFAULT / IGNORE for one row's parameter.
    Errc bind_indicator(unsigned i, std::uint8_t indicator);
    // Append the current bindings as one row of the batch.
    Errc add_batch(Error &err);
    void clear_batch() noexcept;
    std::uint64_t batch_rows() const { return batch_ends_.size(); }
    // Column arrays (mywire_stmt_bind_array): parameter i takes its rows from
    // the caller's memory when the arrays are executed (nothing is copied now).
    Errc bind_array(unsigned i, int kind, const void *values, std::size_t stride, const std::size_t *lengths,
                    const std::uint8_t *indicators);
    // Rows per COM_STMT_FETCH; 0 = no cursor.
    void set_cursor(std::uint32_t rows) { cursor_rows_ = rows; }
    // Batches and column arrays report each row's affected rows and insert id.
    void set_row_results(bool on) { row_results_ = on; }
    bool row_results() const { return row_results_; }
    std::uint32_t cursor_rows() const { return cursor_rows_; }
    // Why the statement cannot be used now (sets err), or Errc::ok.
    Errc usable(Error &err) const;
    // An entry of its connection's statement cache (mywire_stmt_cached):
    // freeing it gives it back to the cache.
    bool cached() const { return cache_entry_ != nullptr; }
    // mywire_stmt_free: a cache entry goes back to its cache (or is closed
    // when it cannot be reused); any other statement is deleted.
    static void release(Statement *st) noexcept;

private:
    friend class Connection;
    friend class Result;
    friend struct Pipeline;
    // A parameter a setter may bind: in range, and not one whose long data
    // the server holds (it would take that and skip the bound value, and
    // misread the parameters after it).
    Errc param_index(unsigned i) const {
        return i < params_.size() && !params_[i].long_data ? Errc::ok : Errc::argument;
    }
    // The server no longer holds long data: those parameters are unbound.
    void forget_long_data() {
        for (proto::Param &p : params_)
            if (p.long_data) p.long_data = false, p.bound = false;
    }
    // The COM_STMT_EXECUTE payload (after the command byte) into out, with
    // the query attributes attrs after the parameters; query_attributes: the
    // session has CLIENT_QUERY_ATTRIBUTES (the parameter count is sent).
    Errc build_execute(std::string &out, Error &err, const std::vector<proto::QueryAttr> &attrs,
                       bool query_attributes);
    // A pipeline step's payload: the current bindings, types always sent, no
    // cursor, no attributes; the statement id (4 bytes at the start) is
    // filled in when the step is sent. Long data is refused (Errc::argument).
    Errc build_pipelined_execute(std::string &out, Error &err, bool query_attributes) const;
    Errc check_params(Error &err, bool pipelined) const;
    // The execute request: id, flags, iteration count, [parameter count],
    // the parameter block (proto::append_param_block). True when the types
    // went out, which `types` then holds.
    bool write_execute(std::string &out, std::uint32_t id, std::uint8_t flags,
                       const std::vector<proto::QueryAttr> &attrs, bool query_attributes,
                       const std::string *known_types, std::string &types) const;
    // Batch rows [from, to) as one COM_STMT_BULK_EXECUTE payload.
    void build_bulk(std::string &out, std::size_t from, std::size_t to, std::uint16_t flags) const;
    // Without bulk execution: row i into the parameters (for build_execute).
    Errc load_batch_row(std::size_t i, Error &err);
    // Array rows [from, ...) as one COM_STMT_BULK_EXECUTE packet, within
    // limit bytes of rows (at least one), into out: room for the packet
    // header, the command byte, the payload (proto::SimpleCommandOp's framed
    // form: no copy on the way to the socket). Returns the end row.
    std::uint64_t build_array_bulk(std::vector<std::uint8_t> &out, const std::vector<proto::ParamArray> &arrays,
                                   std::uint64_t from, std::uint64_t rows, std::size_t limit,
                                   std::uint16_t flags) const;
    // Without bulk execution: array row i into the parameters.
    void load_array_row(const std::vector<proto::ParamArray> &arrays, std::uint64_t i);
    // Its open cursor's result ends (the rows not fetched give STATE).
    void end_cursor_result() noexcept;
    Connection *conn_;
    StmtCacheEntry *cache_entry_ = nullptr;  // its entry while it is one of the cache's
    std::uint64_t epoch_ = 0;  // the connection's epoch when prepared
    bool prepared_ = false;
    bool client_side_ = false;  // prepare_client: formatted and sent as text
    std::uint32_t id_ = 0;
    std::string sql_;
    proto::ResultHead params_head_, columns_;
    std::vector<proto::Param> params_;
    std::string sent_types_;  // the types the server has (new-params-bound)
    bool types_known_ = false;
    std::uint32_t cursor_rows_ = 0;
    bool row_results_ = false;  // set_row_results
    Result *cursor_result_ = nullptr;  // its open cursor's result
    // The batch: rows in bulk form (per parameter an indicator, then the
    // value), where each row ends, and the parameter types of the batch.
    std::string batch_;
    std::vector<std::size_t> batch_ends_;
    std::string batch_types_;
    std::vector<std::uint8_t> batch_typed_;  // a parameter's type is fixed by its first non-NULL value
    bool batch_indicators_ = false;  // a row has DEFAULT or IGNORE (bulk execution only)
    // The column arrays bound: as many as params_ once one is bound (empty
    // otherwise); whatever replaces params_ (a prepare) clears them.
    std::vector<proto::ParamArray> arrays_;
};

// A batch of commands sent together and answered in order (pipelining). Each
// step keeps its own outcome: an error in one step is reported on that step,
// and the later ones still run, as the server runs them. Query results are
// buffered.
struct PipelineStep {
    enum class Kind { query, ping, reset, init_db, prepare, execute, stmt_close };
    Kind kind = Kind::ping;
    std::string arg;  // the SQL text, the database, or an execute's payload (statement id first)
    // Statement steps (prepare, execute, stmt_close): the statement (null
    // once freed while the batch runs) and its connection when added.
    Statement *stmt = nullptr;
    const Connection *owner = nullptr;
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    // execute / stmt_close: the prepare step of this batch they use, or none:
    // then the statement's id and epoch when the step was added.
    std::size_t depends = none;
    std::uint32_t stmt_id = 0;  // prepare: the id the reply gave
    std::uint64_t epoch = 0;
    unsigned declared_params = 0;  // prepare: the placeholders counted in the SQL
    bool prepared = false;         // prepare: the statement is prepared (the step succeeded)
    bool direct = false;           // execute / stmt_close: sent with id 0xFFFFFFFF (MariaDB)
    bool later_result = false;     // execute: reading a result after its first (CALL)
    bool no_reply = false;         // sent without a reply (stmt_close), or failed before it was sent
    // The columns an execute may skip (metadata caching): the statement's,
    // or a copy once it was freed while the batch ran.
    proto::ResultHead *cols = nullptr;
    // prepare: what the reply brought (moved into the statement).
    std::unique_ptr<proto::ResultHead> prep_params, prep_columns;
    // Outcome.
    bool ran = false;
    Errc code = Errc::ok;
    unsigned server_errno = 0;
    std::string sqlstate = "00000";
    std::string message;
    std::vector<std::unique_ptr<Result>> results;
    // The engine's, while the batch runs.
    std::unique_ptr<proto::Op> op;
    std::unique_ptr<Result> current;
    std::uint8_t seq_after = 0, cseq_after = 0;
    std::size_t request_bytes = 0;
};

struct Pipeline {
    std::vector<PipelineStep> steps;
    // Each statement's latest prepare step in the batch (for the steps that
    // follow it).
    std::vector<std::pair<const Statement *, std::size_t>> prepares;
    void clear() {
        steps.clear();
        prepares.clear();
    }
    std::size_t prepare_of(const Statement *st) const {
        for (const auto &[s, i] : prepares)
            if (s == st) return i;
        return PipelineStep::none;
    }
    // The steps (their errors are set on the statement's connection, when
    // no call runs on it).
    Errc add_prepare(Statement &st, std::string_view sql);
    Errc add_execute(Statement &st);
    Errc add_stmt_close(Statement &st);
};

// One statement of a connection's statement cache: the entry owns it, and
// lends it out (leased) until mywire_stmt_free gives it back (idle). Idle
// entries are in a list, most recently used first.
struct StmtCacheEntry {
    Statement *st = nullptr;
    const std::string *key = nullptr;  // the SQL text (the map's key)
    bool leased = false;
    StmtCacheEntry *newer = nullptr, *older = nullptr;  // the idle list
};

// The statement cache (option stmt_cache, mywire_stmt_cached): prepared
// statements keyed by SQL text. It never holds more than `capacity` entries,
// leased or idle, each one server statement; the least recently used idle
// entry is closed (COM_STMT_CLOSE, queued) to make room. When the server
// forgets the session's statements (reset, reconnect, close) the idle
// entries go without a close, and the leased ones leave the cache (they are
// ordinary statements then, deleted when freed).
struct StmtCache {
    std::unordered_map<std::string, StmtCacheEntry> entries;
    StmtCacheEntry *newest = nullptr, *oldest = nullptr;  // idle entries
    // A miss whose prepare runs: handed out when it ends (cached: it is in
    // entries already, leased).
    Statement *pending = nullptr;
    bool pending_cached = false;
    bool running = false;  // that prepare is the connection's call
    std::uint64_t hits = 0, misses = 0, evictions = 0;

    void unlink(StmtCacheEntry &e) noexcept;
    void erase(StmtCacheEntry &e) noexcept;
    void push_newest(StmtCacheEntry &e) noexcept;
};

// One connection: the options, the sans-io session and the driver that moves
// bytes between the session's operations, the transport stack and the socket.
//
// Every API call is an operation started by a start_*() function and advanced
// by step(), which never blocks: it returns done, error, or what to wait for.
// The blocking calls are complete() = step() and poll until done; the
// non-blocking API calls step() once per call. One code path.
class Connection {
public:
    Connection() = default;
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    using State = proto::ConnState;
    enum class Progress {
        done,
        error,
        wait_read,
        wait_write,
        more,  // internal to step(): go on with the call's next operation
    };
    // The call in progress (what step() advances).
    enum class Call { none, connect, query, next_result, command, statistics, fetch, drain, close, pipeline,
                      prepare, execute, send, batch };

    Options opts;
    proto::Session session;
    proto::ServerInfo server;
    std::string statistics_text;  // mywire_statistics' answer
    bool nonblocking = false;      // the API returns MYWIRE_WAIT_* instead of waiting
    std::string pending_database;  // mywire_select_db's argument while it runs

    State state() const { return session.state; }
    Error &err() { return session.err; }
    bool connected() const {
        return state() != State::idle && state() != State::broken && state() != State::closed &&
               state() != State::connecting;
    }
    Call call() const { return call_; }
    // The batch call in progress runs column arrays (start_execute_array).
    bool array_call() const { return call_ == Call::batch && batch_array_rows_ != 0; }
    // Which object the call in progress belongs to (a statement, a
    // pipeline; nullptr: the connection itself), set by the C API when it
    // starts one: continuing a call on another object of the same kind
    // would run the first object's call and report it as the second's.
    const void *call_owner = nullptr;
    bool next_is_none() const { return next_none_; }

    // An exception (out of memory, or a bug) escaped the core in the middle
    // of a call: record it and close the connection, whose protocol state is
    // unknown now (a later command must never read an earlier reply's
    // leftovers). Returns the code. Never throws.
    Errc on_exception(Errc code) noexcept;
    // A copy of s that stays valid until the connection is freed, across
    // reconnects (mywire_server_version and the like hand these out).
    const char *stable(std::string_view s) const noexcept;

    // ------------------------------------------------------------ calls
    // Each start_*() checks that the call may start and sets it up (nothing
    // is sent yet); then step() / complete() run it, and the matching
    // finish_*() hands out what it produced and ends the call.
    Errc start_connect();  // from idle or after a failure; not after close()
    Errc start_query(std::string_view sql, bool streaming);
    // Errc::ok, or `none` set when there is no further result.
    Errc start_next_result(bool streaming, bool &none);
    Errc start_command(std::uint8_t cmd, std::string_view arg);
    Errc start_set_option(std::uint16_t option);
    Errc start_statistics();
    // Prepared statements. prepare: st gets its id and definitions.
    Errc start_prepare(Statement &st, std::string_view sql);
    // A client-side statement: nothing is sent; each execute formats the SQL
    // with the bound values (proto/sqlformat) and runs it as a text query.
    Errc prepare_client(Statement &st, std::string_view sql);
    Errc start_execute(Statement &st, bool streaming);
    Errc start_stmt_reset(Statement &st);
    // Every row of st's batch: COM_STMT_BULK_EXECUTE in chunks of at most
    // bulk_chunk bytes (MariaDB), else one COM_STMT_EXECUTE per row. The
    // result (no columns) carries the affected rows of all of them.
    Errc start_execute_batch(Statement &st);
    // The same call over rows [0, rows) of st's column arrays (every
    // parameter bound with bind_array), read from the caller's memory as each
    // request is built: it must stay valid until the call ends.
    Errc start_execute_array(Statement &st, std::uint64_t rows);
    static constexpr std::size_t bulk_chunk = 4u << 20;
    Errc start_send_long_data(Statement &st, unsigned param, std::string_view data);
    // Query attributes (MySQL 8.0.23+): kept for the next query or execute,
    // which sends and drops them. set_query_attr replaces one of the same
    // name; Errc::state when not connected, Errc::unsupported when the
    // session has no CLIENT_QUERY_ATTRIBUTES (nothing changes either way).
    bool query_attributes() const { return connected() && session.query_attributes(); }
    Errc set_query_attr(std::string_view name, proto::Param &&value);
    void clear_query_attrs() noexcept { query_attrs_.clear(); }
    std::size_t query_attr_count() const { return query_attrs_.size(); }
    // Statements register while they live; epoch() changes whenever the
    // server forgets its statements (connect, reset, close).
    void add_statement(Statement *st);
    void remove_statement(Statement *st) noexcept;
    std::uint64_t epoch() const { return epoch_; }
    // COM_STMT_CLOSE for id, sent ahead of the next command (no reply).
    // Room in the queue of COM_STMT_CLOSEs for every server statement the
    // connection may hold once `prepares` more prepares are in (one per live
    // statement, the queued ones, the new ones), so that queue_stmt_close
    // never allocates: a close lost to a failed allocation would leave the
    // statement open on the server (and the statement cache over its bound).
    // NOMEM (nothing sent, the connection as it was) when there is no room.
    Errc reserve_closes(std::size_t prepares) noexcept;
    void queue_stmt_close(std::uint32_t id) noexcept;
    // The statement cache (stmt_cache.cpp). A hit sets out and starts no
    // call; a miss (out stays null) starts a prepare, whose statement
    // finish_stmt_cached hands out: a cache entry, or an ordinary statement
    // when the cache is off, full of leased entries, or has this SQL leased.
    Errc start_stmt_cached(std::string_view sql, Statement *&out);
    Errc finish_stmt_cached(Statement *&out);
    // A call of start_stmt_cached is in progress.
    bool stmt_cached_running() const { return call_ == Call::prepare && stmt_cache_.running; }
    const StmtCache &stmt_cache() const { return stmt_cache_; }
    // Close every idle entry (queued COM_STMT_CLOSE); the count closed.
    std::size_t clear_stmt_cache() noexcept;
    // Every step of p, in order; p must outlive the call.
    Errc start_pipeline(Pipeline &p);
    // Requests sent ahead of the reply being read, at most (a batch larger
    // than this is sent in windows, so that neither side blocks writing).
    static constexpr std::size_t pipeline_window = 64 * 1024;

    Progress step();
    // step() and wait (poll, within the call's deadlines) until done or error.
    Progress complete();
    // Ends the call: Errc::ok or its error. For query/next_result, out is the result.
    Errc finish(Result *&out);
    Errc finish() {
        Result *r = nullptr;
        return finish(r);
    }
    // Milliseconds left before the call in progress times out; -1: no deadline.
    long long timeout_ms() const;

    // Blocking conveniences (start, complete, finish).
    Errc connect();
    Errc query(std::string_view sql, bool streaming, Result *&out);
    int next_result(bool streaming, Result *&out);  // ok, MYWIRE_DONE, or an error
    Errc simple_command(std::uint8_t cmd, std::string_view arg);
    Errc set_server_option(std::uint16_t option);
    Errc statistics(std::string &text);
    Errc prepare(Statement &st, std::string_view sql);
    Errc execute(Statement &st, bool streaming, Result *&out);

    // COM_QUIT (best effort: in non-blocking mode only what the socket takes
    // at once, else within 1 s), then close. Closes a never-connected handle too.
    void close() noexcept;
    // Close without COM_QUIT and without waiting for anything (finalizers).
    void close_now() noexcept;

    bool more_results() const { return state() == State::more_results; }
    int socket_fd() const { return socket_.fd(); }
    // What a non-blocking caller polls: the socket, or while the socket
    // connect runs an epoll fd over the resolver's and the connect's fds.
    int poll_fd() const { return io_ == IoWant::connecting ? connect_waits_.fd() : socket_.fd(); }
    const io::TlsInfo &tls_info() const { return tls_info_; }
    proto::Compression compression() const { return transport_.compression(); }
    bool is_unix() const { return socket_.is_unix(); }

    // For mywire_cancel / mywire_abort: the only members another thread may
    // touch while this one runs a call (see cancel.hpp).
    CancelInfo &cancel_info() { return cancel_; }
    Waker &waker() { return waker_; }
    const Waker &waker() const { return waker_; }

    // For Result.
    void detach(Result &r) noexcept;   // drains (blocking) or leaves the drain to the next call
    void discard(Result &r) noexcept;  // closes the connection if r was still reading rows
    // Stop the active streaming result early with a sticky error.
    void abandon_active(int code) noexcept;
    // A streaming result's next row: the hot path (the row in the buffer,
    // taken by its rows operation without a call set up) is short and
    // inlines the operation; everything else goes on out of line.
    int fetch_row(Result &r);

private:
    int fetch_go_on(Result &r, proto::Action a);
    int fetch_step(Result &r);  // the rows operation's whole step (not only a row in the buffer)
    int fetch_other(Result &r);
    int fetch_finish(Result &r, Progress p);
    enum class IoWant { none, connecting, read, tls_handshake };

    Errc ready_for_command();
    // Pipelines: queue the requests the window allows and set op_ to the
    // reply to read next; false (with p) when the batch is over.
    bool pipeline_next(Progress &p);
    Progress pipeline_op_done();
    Progress pipeline_op_error();
    void pipeline_step_done(PipelineStep &st);
    void pipeline_failed(Errc code);  // marks the steps from read_next_ on
    // A statement step about to be sent: its id (false: the step failed or
    // must wait for its prepare's reply, `wait` says which).
    bool pipeline_stmt_id(PipelineStep &st, std::uint32_t &id, bool &wait);
    void pipeline_prepared(PipelineStep &st);  // a prepare step's reply is in
    // An execute whose prepare step failed; refused: the server's own answer
    // to it (sent with the prepare) was an error too.
    void pipeline_dependent_failed(PipelineStep &st, bool refused);
    bool direct_execution() const;  // MariaDB 10.2+: statement id 0xFFFFFFFF
    std::size_t last_prepare_sent_ = PipelineStep::none;
    bool window_open_ = true;  // requests may go out until the window is full
    std::deque<proto::ResultHead> pipe_orphans_;  // the columns of statements freed while their batch ran
    Errc begin(Call call, proto::Op *op, bool sends = true);
    // The reply's head is in: streaming results start reading rows, buffered
    // ones are read to the end here.
    Progress on_op_done();
    Progress drain_done();  // the freed result is drained: on with the call
    Progress on_op_error();
    Progress on_connect_done();
    Progress fail_progress(Errc code);
    // mywire_abort woke the call (taken from waker_): end it (CANCELLED, ClientError::aborted)
    // and close the connection.
    Progress on_abort();
    Progress wait(Progress p);  // sets the call's deadlines at its first wait
    Errc fail(Errc code);
    // Close the socket and forget the stream (the active result ends with
    // result_code); the connection goes to `to`.
    void drop_connection(int result_code, State to) noexcept;
    void clear_call() noexcept;  // no call in progress any more
    // The socket connect of start_connect (blocking for now: see README).
    Errc open_socket();
    void reset_transport();
    void new_epoch() noexcept;
    // Statement cache internals.
    friend class Statement;
    void give_back(Statement &st) noexcept;
    void drop_entry(StmtCacheEntry &e) noexcept;   // erased, its statement deleted
    void forget_stmt_cache() noexcept;             // the server forgot the statements
    Errc check_owner(const Statement &st);
    void execute_head(Statement &st, bool streaming);  // argument unless st is this connection's
    void flush_stmt_closes();
    Progress on_prepare_done();
    int start_cursor_fetch(Result &r);
    // A cursor's result whose current batch's rows were all read: only the
    // batch's end marker is left, which the next command reads first.
    static bool at_batch_end(const Result &r) {
        return r.cursor() && !r.finished_ && r.fetched_ == r.batch_end_ && !r.rows_op_.end;
    }
    void end_of_batch(Result &r) noexcept;

    proto::ResultHeadOp::Limits head_limits() const {
        return {opts.max_columns, static_cast<std::size_t>(opts.max_metadata_bytes)};
    }

    io::Socket socket_;
    std::unique_ptr<io::Connector> connector_;  // while the socket connect runs
    io::WaitSet connect_waits_;                 // its fds, for poll_fd()
    io::Transport transport_;
    io::TlsInfo tls_info_;
    int tls_mode_ = ssl_mode::disabled;  // resolved at connect
    std::string tls_host_;                     // the name or address TLS checks

    // The call in progress.
    Call call_ = Call::none;
    proto::Op *op_ = nullptr;      // the operation step() resumes
    proto::Op *after_drain_ = nullptr;  // the call's own op, once a pending drain ends
    IoWant io_ = IoWant::none;
    io::Deadline read_deadline_, write_deadline_;
    bool deadlines_set_ = false;
    Progress last_wait_ = Progress::wait_read;
    bool op_done_ = false;    // op_ said done; handled once the output is flushed
    bool wrote_ = false;      // bytes went out since the last read: the reply is not here yet
    bool call_done_ = false;  // the call ended (call_rc_ says how)
    bool next_none_ = false;  // next_result: no further result after all
    Errc call_rc_ = Errc::ok;
    std::unique_ptr<proto::SendOnlyOp> quit_op_;
    std::unique_ptr<proto::HandshakeOp> handshake_op_;
    std::optional<proto::ResultHeadOp> head_op_;  // in place: no allocation per query
    std::unique_ptr<proto::SimpleCommandOp> command_op_;
    std::uint8_t command_cmd_ = 0;  // the command a Call::command runs
    std::unique_ptr<proto::SendOnlyOp> send_op_;
    std::unique_ptr<proto::PrepareOp> prepare_op_;
    Statement *stmt_ = nullptr;    // the statement a prepare / execute is for (null if freed meanwhile)
    proto::ResultHead prep_params_, prep_columns_;  // what a prepare reads, then the statement's
    proto::ResultHead exec_cached_;  // the columns an execute may skip (a copy: the statement may go)
    std::string request_;          // a statement command's payload (after the command byte)
    std::vector<std::uint8_t> bulk_request_;  // an array call's bulk packet, framed in place
    // An array call's arrays, as checked when it started: binding again (or
    // clearing) while it runs changes the next execution, not this one.
    std::vector<proto::ParamArray> call_arrays_;
    // Query attributes: set for the next query / execute; the ones the
    // running call sends (kept for a re-prepare's second execute), and a
    // query's COM_QUERY prefix made from them.
    std::vector<proto::QueryAttr> query_attrs_, call_attrs_;
    std::string query_prefix_;
    void take_query_attrs();
    bool reply_binary_ = false;    // the reply being read is an execute's (binary rows)
    bool reprepared_ = false;      // this execute already re-prepared once (auto_reprepare)
    // A batch call: the next row (or chunk start), the totals so far.
    std::uint64_t batch_next_ = 0;
    std::uint64_t batch_array_rows_ = 0;  // an array call's rows; 0: the statement's batch
    std::uint64_t batch_total() const { return batch_array_rows_ ? batch_array_rows_ : stmt_->batch_ends_.size(); }
    std::uint64_t batch_affected_ = 0, batch_insert_id_ = 0;
    std::uint16_t batch_warnings_ = 0;
    bool batch_bulk_ = false;
    bool batch_row_results_ = false;  // the statement asked for per-row results
    std::vector<proto::RowResult> batch_units_;  // them, so far
    std::unique_ptr<proto::BatchRequestOp> batch_op_;
    bool bulk_for(const Statement &st) const;
    void start_batch(const Statement &st);
    std::string no_bulk_indicators(const Statement &st) const;
    Progress batch_step();
    // Statements.
    std::vector<Statement *> statements_;
    std::uint64_t epoch_ = 1;
    std::vector<std::uint32_t> pending_closes_;
    StmtCache stmt_cache_;
    std::unique_ptr<Result> pending_;  // the result a query / next_result call builds
    std::optional<StoreSink> store_sink_;
    std::optional<proto::RowsOp> store_op_;
    Result *fetching_ = nullptr;  // the result a fetch call is for
    // A cursor result whose batch's rows were all read when a command began:
    // the command reads the batch's end marker first (its rows_op_).
    Result *cursor_tail_ = nullptr;
    Pipeline *pipe_ = nullptr;    // the batch a pipeline call runs
    std::size_t send_next_ = 0, read_next_ = 0, in_flight_ = 0;

    // A result freed while it was still reading rows: its rest is read and
    // dropped before the next call's own operation.
    DiscardSink drain_sink_;
    proto::RowsOp drain_op_{drain_sink_};
    bool drain_pending_ = false;

    Result *active_ = nullptr;  // the streaming result still reading rows
    CancelInfo cancel_;  // what mywire_cancel reads from another thread
    Waker waker_;        // mywire_abort's eventfd (from the first connect)
    // Strings handed out by stable(); never shrinks while the handle lives.
    mutable std::deque<std::string> stable_;
};

}  // namespace mywire
