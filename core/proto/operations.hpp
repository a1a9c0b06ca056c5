// The protocol's operations as resumable state machines (sans-io).
//
// A Session holds what the protocol needs between packets: the read buffer,
// the write buffer, the sequence id and the negotiated capabilities. An
// operation's resume() looks at what the session has and answers with the
// next action for whoever drives it: write the session's write buffer, read
// more bytes into its read buffer, or stop (done / error). Operations never
// touch a socket, so the same machines serve the blocking driver in
// core/connection.cpp, tests over in-memory transports and, later, a
// non-blocking API.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "options.hpp"
#include "proto/auth.hpp"
#include "proto/framing.hpp"
#include "proto/messages.hpp"
#include "proto/values.hpp"

namespace mywire::proto {

enum class Action {
    write,  // send session.wbuf, then resume
    read,   // read more bytes into session.rbuf (read_hint() bytes would help), then resume
    start_tls,  // send session.wbuf (the SSLRequest) in plain text, then run the TLS
                // handshake on the transport; resume once TLS is up, with
                // session.tls_verified set. Bytes the server sent before must not be
                // read as if they came over TLS.
    done,
    error,  // session.err says what
};

// Where a connection is in the protocol; the operations change it.
enum class ConnState {
    idle,          // never connected
    connecting,    // the login is running
    ready,         // a command may start
    rows,          // a result's rows are being read (streaming)
    more_results,  // a multi-result reply has more results to read
    broken,        // failed; connect again
    closed,        // closed by the user: only free and getters remain
};

struct Session {
    ConnState state = ConnState::idle;
    ReadBuffer rbuf;
    PacketReader packets;
    std::vector<std::uint8_t> wbuf;
    std::uint8_t seq = 0;
    std::uint32_t capabilities = 0;  // negotiated
    std::uint32_t mariadb_caps = 0;  // negotiated MariaDB extended capabilities (mariadb_cap)
    std::uint16_t status_flags = 0;
    std::size_t max_packet = 64u << 20;
    bool new_command = false;  // set by begin_command; the compressed framing restarts too
    // Set by the driver after start_tls: the TLS handshake verified the
    // server (ssl_mode verify_ca / verify_identity, or ssl_fingerprint).
    bool tls_verified = false;
    Error err;

    bool deprecate_eof() const { return capabilities & cap::deprecate_eof; }
    bool query_attributes() const { return capabilities & cap::query_attributes; }
    bool cache_metadata() const { return mariadb_caps & mariadb_cap::cache_metadata; }
    std::size_t read_hint() const { return packets.need_hint(); }

    FrameStatus read_packet(std::string_view &payload) {
        return packets.next(rbuf, seq, max_packet, payload, err);
    }
    // Start a new command: sequence ids restart at 0.
    void begin_command() {
        seq = 0;
        wbuf.clear();
        new_command = true;
    }
    // Reserve a header, let build() append the payload, frame it.
    template <class Build>
    void write_packet(Build &&build) {
        std::size_t start = wbuf.size();
        wbuf.resize(start + header_size);
        build(wbuf);
        frame_payload(wbuf, start, seq);
    }
    // Turn an ERR packet into a server error (Errc::server), or a protocol
    // error if it is malformed.
    Errc server_error(std::string_view payload);
    // A reply (or one result of it) ended with these status flags.
    void finish(std::uint16_t status) {
        status_flags = status;
        state = (status & status::more_results) ? ConnState::more_results : ConnState::ready;
    }
};

// What every operation is to its driver: resume() until done or error.
class Op {
public:
    virtual ~Op() = default;
    virtual Action resume(Session &s) = 0;
};

// Facts about the server learnt while connecting.
struct ServerInfo {
    std::string version;
    std::uint32_t connection_id = 0;
    bool is_mariadb = false;
    std::uint32_t capabilities = 0;  // as the server offered them
    std::string auth_plugin;  // the plugin that completed the login
    int tls_failure = tls_failure::none;  // set when TLS was required but not offered
};

// What the handshake needs from the system, read by the driver at the I/O
// edge (io/system): the connection attributes' OS name and process id, and
// the reader of the pinned RSA key file.
struct ClientEnv {
    std::string_view os = "unknown";
    long pid = 0;
    Errc (*read_key_file)(std::string_view plugin, std::string_view path, std::string &pem, Error &err) = nullptr;
};

// Greeting, optional TLS request, handshake response, authentication
// exchange (auth switches, AuthMoreData, further factors).
class HandshakeOp final : public Op {
public:
    // tls_mode: the resolved MYWIRE_SSL_MODE_*; unix_socket: the transport is
    // a unix socket (a known peer for the plugins' rules).
    HandshakeOp(const Options &opts, bool unix_socket, int tls_mode, ServerInfo &info, ClientEnv env = {})
        : opts_(opts), unix_socket_(unix_socket), tls_mode_(tls_mode), info_(info), env_(env) {}
    Action resume(Session &s) override;

    static constexpr int max_auth_round_trips = 16;

private:
    Action on_greeting(Session &s, std::string_view payload);
    Action send_handshake_response(Session &s);
    Action on_auth_packet(Session &s, std::string_view payload);
    Action start_plugin(Session &s, std::string_view name, std::string_view data);
    Action raw_plugin_data(Session &s, std::string_view payload);
    Action send_auth_response(Session &s, std::string &response);
    Action fail(Session &s, Errc code, std::string_view msg);
    bool allowed(std::string_view plugin) const;
    AuthContext context() const;
    HandshakeResponse response_head(const Session &s) const;

    enum class Phase { greeting, tls, auth, done } phase_ = Phase::greeting;
    const Options &opts_;
    bool unix_socket_;
    bool tls_up_ = false;
    bool tls_verified_ = false;  // the server's certificate (or fingerprint) was checked
    int tls_mode_;
    ServerInfo &info_;
    ClientEnv env_;
    std::string scramble_;        // the greeting's challenge
    std::string server_plugin_;   // the greeting's default plugin
    std::unique_ptr<AuthPlugin> plugin_;
    int factor_ = 1;  // which password: 1, 2 or 3
    int round_trips_ = 0;
};

// A command answered by OK or ERR (ping, init_db, reset_connection,
// set_option), or by one raw text packet (statistics).
class SimpleCommandOp final : public Op {
public:
    // none: done once the request is written (a caller reads the reply).
    enum class Reply { ok, text, none };
    SimpleCommandOp(std::uint8_t cmd, std::string_view arg, Reply reply)
        : cmd_(cmd), arg_(arg), reply_(reply) {}
    // A command already laid out in *framed: header_size bytes of room for
    // the packet header, the command byte, the payload. Its storage becomes
    // the session's write buffer (the old one goes back in *framed): a large
    // request (bulk execution) is not copied on its way out.
    SimpleCommandOp(std::vector<std::uint8_t> *framed, Reply reply)
        : cmd_(framed->size() > header_size ? (*framed)[header_size] : 0), reply_(reply), framed_(framed) {}
    // COM_SET_OPTION with one of the set_option values.
    static SimpleCommandOp set_option(std::uint16_t option) {
        SimpleCommandOp op(command::set_option, {}, Reply::ok);
        op.option_ = option;
        return op;
    }
    Action resume(Session &s) override;
    OkPacket ok;           // when Reply::ok
    std::string text;      // when Reply::text

private:
    std::uint8_t cmd_;
    std::string_view arg_;
    Reply reply_;
    std::uint16_t option_ = 0;
    std::vector<std::uint8_t> *framed_ = nullptr;
    bool sent_ = false;
};

// What a result head leaves: either an OK (no columns) or the column list,
// copied out of the packets into storage the result owns.
struct ResultHead {
    OkPacket ok;              // views are NOT kept: info is copied below
    std::string info;
    std::vector<Column> columns;
    std::vector<char> names;  // storage for the column strings
    bool metadata_cached = false;  // the server skipped the column definitions (MariaDB metadata caching)
    bool cursor = false;           // an execute opened a cursor: rows come with COM_STMT_FETCH
    // Nonzero: these columns are a statement's definitions as of one prepare
    // or metadata change (new_head_stamp), or a copy of them (copy_head
    // carries it). Two heads with the same stamp have the same columns.
    std::uint64_t stamp = 0;
    // Empty again; the vectors keep their room.
    void clear() noexcept {
        ok = {};
        info.clear();
        columns.clear();
        names.clear();
        metadata_cached = false;
        cursor = false;
        stamp = 0;
    }
};
// The columns of a head, set aside for a later head with the same stamp.
struct SpareColumns {
    std::vector<Column> columns;
    std::vector<char> names;
    std::uint64_t stamp = 0;
    std::uint64_t layout_stamp = 0;  // the stamp of the columns a result's binary layout was built for
};
// A deep copy (the column strings point into to.names), stamp included.
void copy_head(const ResultHead &from, ResultHead &to);
// A stamp no head has had (process-wide, thread-safe).
std::uint64_t new_head_stamp() noexcept;

// Limits on what a server may send as metadata.
struct HeadLimits {
    std::size_t max_columns = 4096;
    // The whole head: the column strings plus a fixed cost per column.
    std::size_t max_metadata_bytes = 16u << 20;
};

// Collects column definitions into a ResultHead, bounded by the limits.
class ColumnCollector {
public:
    // Longest string (name, table, schema, ...) a column definition may carry.
    static constexpr std::size_t max_column_string = 64 * 1024;
    // Room reserved per column for its five strings (more is made if need be).
    static constexpr std::size_t names_per_column = 64;
    explicit ColumnCollector(HeadLimits limits) : limits_(limits) {}
    // Expect n definitions into head (cleared).
    Errc begin(Session &s, ResultHead &head, std::uint64_t n);
    // One definition; `full` once the n-th is in (its pointers are set then).
    Errc add(Session &s, ResultHead &head, std::string_view payload, bool &full);

private:
    HeadLimits limits_;
    std::uint64_t expected_ = 0;
};

// Reads the first packets of a result: OK, ERR or a column count and the
// column definitions (plus the EOF after them without DEPRECATE_EOF).
// With a request, sends it first (COM_QUERY, COM_STMT_EXECUTE).
class ResultHeadOp final : public Op {
public:
    using Limits = HeadLimits;
    static constexpr std::size_t max_column_string = ColumnCollector::max_column_string;
    ResultHeadOp(ResultHead &head, Limits limits) : head_(head), columns_(limits), limits_(limits) {}
    ResultHeadOp(ResultHead &head, std::size_t max_columns) : ResultHeadOp(head, Limits{max_columns}) {}
    // Send `sql` as COM_QUERY before reading, after `prefix` (the query
    // attributes' counts and block under CLIENT_QUERY_ATTRIBUTES; see
    // query_prefix()). Both must outlive the operation.
    void set_query(std::string_view sql, std::string_view prefix = {}) {
        set_request(command::query, sql);
        prefix_ = prefix;
    }
    // Send command cmd with payload arg (after the command byte) first.
    void set_request(std::uint8_t cmd, std::string_view arg) { cmd_ = cmd, query_ = arg, prefix_ = {}, send_ = true; }
    // What a COM_QUERY without attributes starts with on session s: nothing,
    // or under CLIENT_QUERY_ATTRIBUTES the two counts (0 attributes, 1 set).
    static std::string_view query_prefix(const Session &s) {
        return s.query_attributes() ? std::string_view("\0\1", 2) : std::string_view();
    }
    // The column definitions a server that caches metadata may skip (a
    // prepared statement's); copied into the head when it does.
    void set_cached_columns(const ResultHead *cached) { cached_ = cached; }
    // A head this result held before (Result::reset keeps a stamped one):
    // when it has the cached columns' stamp, its columns are taken over
    // instead of copied again.
    void set_spare_head(SpareColumns *spare) { spare_ = spare; }
    // The request asked for a cursor: a result set's head is followed by an
    // EOF/OK that says whether the server opened one (head.cursor).
    void set_cursor(bool requested) { cursor_ = requested; }
    Action resume(Session &s) override;

private:
    Action columns_done(Session &s);
    ResultHead &head_;
    ColumnCollector columns_;
    Limits limits_;
    std::string_view query_;
    std::string_view prefix_;
    std::uint8_t cmd_ = command::query;
    bool send_ = false;
    bool cursor_ = false;
    const ResultHead *cached_ = nullptr;
    SpareColumns *spare_ = nullptr;
    enum class Phase { first, columns, columns_eof, cursor_eof } phase_ = Phase::first;
};

// COM_STMT_PREPARE: the OK with the statement id, then the parameter and the
// column definitions (each list followed by an EOF without DEPRECATE_EOF).
class PrepareOp final : public Op {
public:
    PrepareOp(std::string_view sql, ResultHead &params, ResultHead &columns, HeadLimits limits)
        : sql_(sql), params_(params), columns_(columns), collect_(limits), collect_params_(param_limits(limits)) {}
    Action resume(Session &s) override;
    PrepareOk ok;

private:
    Action list_done(Session &s, bool params);
    std::string_view sql_;
    ResultHead &params_, &columns_;
    // max_columns bounds a result's columns, not the parameters: their count
    // is a 2-byte field (a statement may have up to 65535).
    static HeadLimits param_limits(HeadLimits l) {
        l.max_columns = 65535;
        return l;
    }
    ColumnCollector collect_, collect_params_;
    enum class Phase { send, ok, params, params_eof, columns, columns_eof, done } phase_ = Phase::send;
};

// Sends one command (cmd + arg) and then runs `next` to read its reply
// (COM_STMT_FETCH followed by the rows operation).
class RequestThenOp final : public Op {
public:
    RequestThenOp(std::uint8_t cmd, std::string_view arg, Op &next) : cmd_(cmd), arg_(arg), next_(&next) {}
    Action resume(Session &s) override;

private:
    std::uint8_t cmd_;
    std::string_view arg_;
    Op *next_;
    bool sent_ = false;
};

// Where the rows of a result go: the parser and the storage, for one kind of
// row (text rows today; binary rows, cursor fetches and binlog events are
// further sinks, the loop stays RowsOp's).
class RowSink {
public:
    virtual ~RowSink() = default;
    enum class Next { more, pause };
    // One row's packet, valid until the next read on the session. Set next
    // to pause to end RowsOp::resume with done after this row (streaming);
    // an error sets s.err and is returned.
    virtual Errc on_row(Session &s, std::string_view payload, Next &next) = 0;
    // What BasicRowsOp calls: on_row. A final sink may hide it with a
    // non-virtual take_row of its own, which BasicRowsOp<ThatSink> then
    // calls directly (and can inline).
    Errc take_row(Session &s, std::string_view payload, Next &next) { return on_row(s, payload, next); }
};

// Reads the rows of a result into a sink, up to the end marker (OK or EOF),
// which ends the result: then `end` is set, `end_ok` holds its information
// and the session's state says whether more results follow. An ERR instead
// of a row ends the command (state ready) with the server error.
// RowsOpBase is what does not depend on the sink's type; BasicRowsOp<Sink>
// is the one loop, for a sink through RowSink's virtual call (RowsOp) or
// for a final sink class whose on_row the compiler may inline (a streaming
// result's: one call less per row on the hottest path).
class RowsOpBase : public Op {
public:
    bool end = false;  // the end marker was read
    bool row = false;  // the sink paused after a row
    OkPacket end_ok;

protected:
    // A packet that may end the rows (empty, 0xFE, 0xFF): true with `a` set
    // for the end marker (done), an ERR or a malformed packet (error); false
    // for a row after all.
    bool end_or_error(Session &s, std::string_view payload, Action &a);
};

template <class Sink>
class BasicRowsOp final : public RowsOpBase {
public:
    explicit BasicRowsOp(Sink &sink) : sink_(&sink) {}
    Action resume(Session &s) override { return step(s); }
    // resume, inline: for the one caller that owns the concrete operation
    // and calls it per row (a streaming fetch).
    [[gnu::always_inline]] Action step(Session &s) {
        row = false;
        for (;;) {
            std::string_view payload;
            FrameStatus st = s.read_packet(payload);
            if (st != FrameStatus::packet) [[unlikely]]
                return st == FrameStatus::need_more ? Action::read : Action::error;
            if (payload.empty() || std::uint8_t(payload[0]) >= 0xFE) [[unlikely]] {
                if (Action a; end_or_error(s, payload, a)) return a;
            }
            RowSink::Next next = RowSink::Next::more;
            if (sink_->take_row(s, payload, next) != Errc::ok) return Action::error;
            if (next == RowSink::Next::pause) {
                row = true;
                return Action::done;
            }
        }
    }

    // step()'s first row alone, inline, with no call out for framing: a
    // whole row packet in the buffer goes to the sink (done, `row` set when
    // it paused; error). Anything else (no whole packet, an end marker, a
    // split packet, compression) is left for step(): Action::read, nothing
    // consumed. The streaming fetch tries it first.
    [[gnu::always_inline]] Action step_row(Session &s) {
        row = false;
        std::string_view payload;
        if (!s.packets.next_row(s.rbuf, s.seq, s.max_packet, payload)) return Action::read;
        RowSink::Next next = RowSink::Next::more;
        if (sink_->take_row(s, payload, next) != Errc::ok) return Action::error;
        if (next != RowSink::Next::pause) [[unlikely]]
            return step_on(s);
        row = true;
        return Action::done;
    }

private:
    [[gnu::noinline]] Action step_on(Session &s) { return step(s); }  // step_row's rare rest
    Sink *sink_;
};
using RowsOp = BasicRowsOp<RowSink>;

// One row at a time, for tests and fuzzers: RowsOp with a sink that keeps the
// row's packet. After done: `end`, or `payload` holds the row's packet.
class RowOp final : public Op, private RowSink {
public:
    RowOp() : rows_(*this) {}
    Action resume(Session &s) override {
        Action a = rows_.resume(s);
        end = rows_.end;
        end_ok = rows_.end_ok;
        return a;
    }
    bool end = false;
    OkPacket end_ok;
    std::string_view payload;

private:
    Errc on_row(Session &, std::string_view p, Next &next) override {
        payload = p;
        next = Next::pause;
        return Errc::ok;
    }
    RowsOp rows_;
};

// One row's outcome in a batch, as MariaDB's per-row results
// (COM_STMT_BULK_EXECUTE with SEND_UNIT_RESULTS, 11.5+) or one row's
// COM_STMT_EXECUTE's OK report it.
struct RowResult {
    std::uint64_t affected_rows = 0;
    std::uint64_t insert_id = 0;
};

// One request of a batch -- a COM_STMT_BULK_EXECUTE or one row's
// COM_STMT_EXECUTE -- and its reply: an ERR (error), an OK (done, `ok`), or,
// for a bulk request with SEND_UNIT_RESULTS, a result set with a row (Id,
// Affected_rows) per parameter row, appended to *units (done; `ok` is the
// end marker's, its affected rows the sum and its insert id the first row's).
// The per-row results must be exactly `rows` (the request's rows), their
// columns the two named ones (in either order, integer types): anything else
// is Errc::protocol. A result set of any other shape (a statement with
// RETURNING) is read to its end and refused with Errc::argument: the rows
// were applied, the connection stays usable.
class BatchRequestOp final : public Op, private RowSink {
public:
    BatchRequestOp(std::vector<std::uint8_t> *framed, std::uint64_t rows, std::vector<RowResult> *units,
                   HeadLimits limits)
        : send_(framed, SimpleCommandOp::Reply::none), rows_(*this), units_(units), expected_(rows), limits_(limits) {}
    BatchRequestOp(std::uint8_t cmd, std::string_view arg, std::uint64_t rows, std::vector<RowResult> *units,
                   HeadLimits limits)
        : send_(cmd, arg, SimpleCommandOp::Reply::none), rows_(*this), units_(units), expected_(rows), limits_(limits) {}
    Action resume(Session &s) override;
    OkPacket ok;

private:
    Errc on_row(Session &s, std::string_view payload, Next &next) override;
    Action head_done(Session &s);
    Action rows_done(Session &s);
    Action reply_part_done(Session &s);
    SimpleCommandOp send_;
    ResultHead head_;
    std::optional<ResultHeadOp> head_op_;
    RowsOp rows_;
    std::vector<RowResult> *units_;
    std::uint64_t expected_;
    std::uint64_t got_ = 0;
    HeadLimits limits_;
    BinaryLayout layout_;
    std::size_t id_col_ = 0, affected_col_ = 0;
    bool units_result_ = false;  // the result set being read is the per-row results
    bool refused_ = false;       // a result set of another shape came (RETURNING)
    enum class Phase { send, head, rows } phase_ = Phase::send;
};

// A command with no reply (COM_QUIT; COM_STMT_CLOSE and COM_STMT_SEND_LONG_DATA
// later): done once the request is written.
class SendOnlyOp final : public Op {
public:
    SendOnlyOp(std::uint8_t cmd, std::string_view arg) : cmd_(cmd), arg_(arg) {}
    Action resume(Session &s) override;

private:
    std::uint8_t cmd_;
    std::string_view arg_;
    bool sent_ = false;
};

}  // namespace mywire::proto
