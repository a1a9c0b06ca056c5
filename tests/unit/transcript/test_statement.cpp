// The prepared-statement operations over the in-memory Transport: PrepareOp
// (parameter and column definitions, with and without DEPRECATE_EOF, the
// metadata-follows byte, errors), the reply heads of COM_STMT_EXECUTE (binary
// result set, cursor opened or not, OK, ER_NEED_REPREPARE, MariaDB's skipped
// metadata), COM_STMT_FETCH batches, COM_STMT_RESET and
// COM_STMT_BULK_EXECUTE's reply; each with a truncated or corrupted twin that
// must end in a clear error. And the bytes of the execute request's
// parameter block (proto/params.hpp), with and without query attributes.
#include "transcript.hpp"

#include "proto/params.hpp"
#include "proto/values.hpp"

using namespace transcript;

namespace {

const std::string select_sql = "SELECT id, name FROM t WHERE id = ? AND name = ?";

std::string prepare_ok(std::uint32_t id, unsigned columns, unsigned params, int metadata_follows = -1) {
    Bytes b;
    b.u8(0).u32(id).u16(columns).u16(params).u8(0).u16(0);
    if (metadata_follows >= 0) b.u8(static_cast<unsigned>(metadata_follows));
    return b.str();
}

std::string param_def() { return column("?", "", 0xFD); }

// A binary row over (id LONG, name VAR_STRING): nullptr for NULL.
std::string binary_row(const std::int32_t *id, const char *name) {
    Bytes b;
    b.u8(0x00).u8((id ? 0 : 1 << 2) | (name ? 0 : 1 << 3));
    if (id) b.u32(static_cast<std::uint32_t>(*id));
    if (name) b.lenstr(name);
    return b.str();
}

// Rows parsed as the engine's sinks do (parse_binary_row), kept as text.
class BinarySink final : public RowSink {
public:
    explicit BinarySink(const ResultHead &head) { layout.build(head.columns.data(), head.columns.size()); }
    Errc on_row(Session &s, std::string_view payload, Next &) override {
        std::vector<Value> v(layout.size());
        if (parse_binary_row(payload, layout, v.data(), s.err) != Errc::ok) return s.err.code;
        std::vector<std::string> r;
        for (const Value &x : v) r.push_back(x.data ? std::string(x.data, x.len) : "<NULL>");
        rows.push_back(r);
        return Errc::ok;
    }
    BinaryLayout layout;
    std::vector<std::vector<std::string>> rows;
};

std::string le32(std::int32_t v) { return Bytes().u32(static_cast<std::uint32_t>(v)).str(); }

std::string execute_request(std::uint32_t id, std::uint8_t flags) {
    // One LONGLONG parameter, 5 (the request's bytes are checked below, in
    // execute_request_bytes; here they only have to go out).
    return Bytes().u8(command::stmt_execute).u32(id).u8(flags).u32(1).u8(0).u8(1).u8(8).u8(0).u64(5).str();
}

void run_error(Transport &t, Op &op, Session &s, Errc code, const char *words = nullptr) {
    if (t.run(op, s) != Action::error) {
        print_error("the operation did not fail (expected: %s)\n", words ? words : "an error");
        fail();
    }
    assert_errc(s.err.code, code);
    if (words && s.err.message.find(words) == std::string::npos) {
        print_error("message \"%s\" lacks \"%s\"\n", s.err.message.c_str(), words);
        fail();
    }
}

// ------------------------------------------------------------------ prepare

void prepare_params_and_columns(Feed feed, bool deprecate_eof) {
    Query q(deprecate_eof ? modern_caps : classic_caps);
    Transport t(feed);
    std::uint8_t seq = 0;
    t.client(Bytes().u8(0x16).str(select_sql).str(), seq++);
    t.server(prepare_ok(7, 2, 2), seq++);
    t.server(param_def(), seq++);
    t.server(param_def(), seq++);
    if (!deprecate_eof) t.server(eof_packet(0x0002), seq++);
    t.server(column("id", "t", 3, 0x4203), seq++);
    t.server(column("name", "t", 0xFD), seq++);
    if (!deprecate_eof) t.server(eof_packet(0x0002), seq++);
    ResultHead params, columns;
    PrepareOp op(select_sql, params, columns, HeadLimits{});
    assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
    assert_int_equal(op.ok.statement_id, 7);
    assert_int_equal(op.ok.params, 2);
    assert_int_equal(op.ok.columns, 2);
    assert_int_equal(params.columns.size(), 2);
    assert_string_equal(params.columns[1].name, "?");
    check_head_columns(columns);
    assert_int_equal(static_cast<int>(q.s.state), static_cast<int>(ConnState::ready));
    t.assert_finished(q.s);
}
void prepare_modern(Feed f) { prepare_params_and_columns(f, true); }
void prepare_classic(Feed f) { prepare_params_and_columns(f, false); }

void prepare_partial_lists(Feed feed) {
    for (bool deprecate_eof : {true, false}) {
        {   // INSERT: parameters only.
            Query q(deprecate_eof ? modern_caps : classic_caps);
            Transport t(feed);
            t.client(Bytes().u8(0x16).str("INSERT INTO t VALUES (?, ?)").str(), 0);
            t.server(prepare_ok(8, 0, 2), 1);
            t.server(param_def(), 2);
            t.server(param_def(), 3);
            if (!deprecate_eof) t.server(eof_packet(0x0002), 4);
            ResultHead params, columns;
            PrepareOp op("INSERT INTO t VALUES (?, ?)", params, columns, HeadLimits{});
            assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
            assert_int_equal(params.columns.size(), 2);
            assert_int_equal(columns.columns.size(), 0);
            t.assert_finished(q.s);
        }
        {   // SELECT without parameters: columns only.
            Query q(deprecate_eof ? modern_caps : classic_caps);
            Transport t(feed);
            t.client(Bytes().u8(0x16).str("SELECT id, name FROM t").str(), 0);
            t.server(prepare_ok(9, 2, 0), 1);
            t.server(column("id", "t", 3, 0x4203), 2);
            t.server(column("name", "t", 0xFD), 3);
            if (!deprecate_eof) t.server(eof_packet(0x0002), 4);
            ResultHead params, columns;
            PrepareOp op("SELECT id, name FROM t", params, columns, HeadLimits{});
            assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
            assert_int_equal(params.columns.size(), 0);
            check_head_columns(columns);
            t.assert_finished(q.s);
        }
        {   // DO 1: neither; the OK alone.
            Query q(deprecate_eof ? modern_caps : classic_caps);
            Transport t(feed);
            t.client(Bytes().u8(0x16).str("DO 1").str(), 0);
            t.server(prepare_ok(10, 0, 0), 1);
            ResultHead params, columns;
            PrepareOp op("DO 1", params, columns, HeadLimits{});
            assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
            assert_int_equal(op.ok.statement_id, 10);
            t.assert_finished(q.s);
        }
    }
}

// MySQL's metadata-follows byte after the prepare OK: 1 (the definitions
// follow) is read as usual; 0 (skipped, which only
// CLIENT_OPTIONAL_RESULTSET_METADATA, never asked for, allows) is an error
// when there are definitions to skip, and harmless when there are none.
void prepare_metadata_follows(Feed feed) {
    {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x16).str(select_sql).str(), 0);
        t.server(prepare_ok(7, 2, 2, 1), 1);
        t.server(param_def(), 2);
        t.server(param_def(), 3);
        t.server(column("id", "t", 3, 0x4203), 4);
        t.server(column("name", "t", 0xFD), 5);
        ResultHead params, columns;
        PrepareOp op(select_sql, params, columns, HeadLimits{});
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
        assert_int_equal(op.ok.metadata_follows, 1);
        check_head_columns(columns);
        t.assert_finished(q.s);
    }
    {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x16).str(select_sql).str(), 0);
        t.server(prepare_ok(7, 2, 2, 0), 1);
        ResultHead params, columns;
        PrepareOp op(select_sql, params, columns, HeadLimits{});
        run_error(t, op, q.s, Errc::protocol, "metadata-follows 0");
    }
    {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x16).str("DO 1").str(), 0);
        t.server(prepare_ok(3, 0, 0, 0), 1);
        ResultHead params, columns;
        PrepareOp op("DO 1", params, columns, HeadLimits{});
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
        t.assert_finished(q.s);
    }
    {   // A metadata-follows byte that is neither 0 nor 1.
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x16).str("DO 1").str(), 0);
        t.server(prepare_ok(3, 0, 0, 2), 1);
        ResultHead params, columns;
        PrepareOp op("DO 1", params, columns, HeadLimits{});
        run_error(t, op, q.s, Errc::protocol, "COM_STMT_PREPARE");
    }
}

void prepare_error_reply(Feed feed) {
    Query q(modern_caps);
    Transport t(feed);
    t.client(Bytes().u8(0x16).str("SELEC 1").str(), 0);
    t.server(err_packet(1064, "42000", "You have an error in your SQL syntax"), 1);
    ResultHead params, columns;
    PrepareOp op("SELEC 1", params, columns, HeadLimits{});
    run_error(t, op, q.s, Errc::server);
    assert_int_equal(q.s.err.server_errno, 1064);
    assert_sv_equal(std::string_view(q.s.err.sqlstate, 5), "42000");
    assert_int_equal(static_cast<int>(q.s.state), static_cast<int>(ConnState::ready));
    t.assert_finished(q.s);
}

// Twins: the OK cut at every length short of its fixed part, a corrupted
// definition, a definition where the EOF belongs, an EOF where a definition
// belongs, a malformed ERR, more columns than max_columns.
void prepare_corrupted(Feed feed) {
    std::string full = prepare_ok(7, 2, 2);
    for (std::size_t cut = 0; cut < 10; ++cut) {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x16).str("q").str(), 0);
        t.server(full.substr(0, cut), 1);
        ResultHead params, columns;
        PrepareOp op("q", params, columns, HeadLimits{});
        run_error(t, op, q.s, Errc::protocol, "COM_STMT_PREPARE");
    }
    {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x16).str("q").str(), 0);
        t.server(prepare_ok(7, 0, 2), 1);
        t.server(param_def().substr(0, 12), 2);
        ResultHead params, columns;
        PrepareOp op("q", params, columns, HeadLimits{});
        run_error(t, op, q.s, Errc::protocol, "malformed column definition");
    }
    {
        Query q(classic_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x16).str("q").str(), 0);
        t.server(prepare_ok(7, 1, 1), 1);
        t.server(param_def(), 2);
        t.server(column("id", "t", 3), 3);  // the EOF is missing
        ResultHead params, columns;
        PrepareOp op("q", params, columns, HeadLimits{});
        run_error(t, op, q.s, Errc::protocol, "expected EOF");
    }
    {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x16).str("q").str(), 0);
        t.server(prepare_ok(7, 2, 0), 1);
        t.server(column("id", "t", 3), 2);
        t.server(eof_packet(0x0002), 3);  // one definition short
        ResultHead params, columns;
        PrepareOp op("q", params, columns, HeadLimits{});
        run_error(t, op, q.s, Errc::protocol, "malformed column definition");
    }
    {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x16).str("q").str(), 0);
        t.server("\xFF\x01", 1);
        ResultHead params, columns;
        PrepareOp op("q", params, columns, HeadLimits{});
        run_error(t, op, q.s, Errc::protocol, "malformed error packet");
    }
    {   // max_columns bounds the columns, not the parameters.
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x16).str("q").str(), 0);
        t.server(prepare_ok(7, 2, 3), 1);
        for (int i = 0; i < 3; ++i) t.server(param_def(), 2 + i);
        ResultHead params, columns;
        PrepareOp op("q", params, columns, HeadLimits{1});
        run_error(t, op, q.s, Errc::limit, "max_columns");
        assert_int_equal(params.columns.size(), 3);
    }
}

// ------------------------------------------------------------------ execute

// A binary result set: the head, then binary rows to the end marker.
void execute_binary_result(Feed feed, bool deprecate_eof) {
    Query q(deprecate_eof ? modern_caps : classic_caps);
    Transport t(feed);
    std::uint8_t seq = 0;
    std::string req = execute_request(7, 0);
    t.client(req, seq++);
    t.server("\x02", seq++);
    t.server(column("id", "t", 3, 0x4203), seq++);
    t.server(column("name", "t", 0xFD), seq++);
    if (!deprecate_eof) t.server(eof_packet(0x0002), seq++);
    std::int32_t one = 1, minus = -2147483647 - 1;
    t.server(binary_row(&one, "a"), seq++);
    t.server(binary_row(nullptr, ""), seq++);
    t.server(binary_row(&minus, nullptr), seq++);
    t.server(deprecate_eof ? ok_packet(0, 0x0002, "", 0xFE) : eof_packet(0x0002), seq++);
    ResultHeadOp head(q.head, 10);
    head.set_request(command::stmt_execute, std::string_view(req).substr(1));
    assert_int_equal(static_cast<int>(t.run(head, q.s)), static_cast<int>(Action::done));
    check_head_columns(q.head);
    assert_false(q.head.cursor);
    assert_int_equal(static_cast<int>(q.s.state), static_cast<int>(ConnState::rows));
    BinarySink sink(q.head);
    RowsOp rows(sink);
    assert_int_equal(static_cast<int>(t.run(rows, q.s)), static_cast<int>(Action::done));
    assert_true(rows.end);
    assert_int_equal(sink.rows.size(), 3);
    assert_sv_equal(sink.rows[0][0], le32(1));
    assert_sv_equal(sink.rows[0][1], "a");
    assert_sv_equal(sink.rows[1][0], "<NULL>");
    assert_sv_equal(sink.rows[1][1], "");
    assert_sv_equal(sink.rows[2][0], le32(minus));
    assert_sv_equal(sink.rows[2][1], "<NULL>");
    assert_int_equal(static_cast<int>(q.s.state), static_cast<int>(ConnState::ready));
    t.assert_finished(q.s);
}
void execute_binary_modern(Feed f) { execute_binary_result(f, true); }
void execute_binary_classic(Feed f) { execute_binary_result(f, false); }

// Twins of a binary row: each corruption stops the rows with a clear error.
void execute_binary_corrupted(Feed feed) {
    std::int32_t one = 1;
    const std::string good = binary_row(&one, "abc");
    const struct {
        std::string row;
        const char *words;
    } bad[] = {
        {good.substr(0, 1), "NULL bitmap"},              // cut in the bitmap
        {good.substr(0, 4), "column 0 (INT) runs past the end"},  // cut in the LONG
        {good.substr(0, good.size() - 1), "column 1 (length-encoded) runs past the end"},
        {"\x01" + good.substr(1), "header"},             // not a row header
        {std::string("\x00\x01", 2) + good.substr(2), "reserved"},  // reserved bits
        {std::string("\x00\x10", 2) + good.substr(2), "past the last column"},
        {good + "x", "after"},                           // a byte too many
    };
    for (const auto &b : bad) {
        Query q(modern_caps);
        Transport t(feed);
        std::string req = execute_request(7, 0);
        t.client(req, 0);
        t.server("\x02", 1);
        t.server(column("id", "t", 3, 0x4203), 2);
        t.server(column("name", "t", 0xFD), 3);
        t.server(b.row, 4);
        ResultHeadOp head(q.head, 10);
        head.set_request(command::stmt_execute, std::string_view(req).substr(1));
        assert_int_equal(static_cast<int>(t.run(head, q.s)), static_cast<int>(Action::done));
        BinarySink sink(q.head);
        RowsOp rows(sink);
        run_error(t, rows, q.s, Errc::protocol, b.words);
        assert_int_equal(sink.rows.size(), 0);
    }
}

// A cursor: the head ends with an EOF (an EOF-headed OK under DEPRECATE_EOF)
// whose status has CURSOR_EXISTS, and no rows follow. Asked for but not
// opened (the server chose not to): rows follow as usual.
void execute_cursor(Feed feed) {
    for (bool deprecate_eof : {true, false}) {
        Query q(deprecate_eof ? modern_caps : classic_caps);
        Transport t(feed);
        std::string req = execute_request(7, 1);
        t.client(req, 0);
        t.server("\x02", 1);
        t.server(column("id", "t", 3, 0x4203), 2);
        t.server(column("name", "t", 0xFD), 3);
        t.server(deprecate_eof ? ok_packet(0, 0x0042, "", 0xFE) : eof_packet(0x0042), 4);
        ResultHeadOp head(q.head, 10);
        head.set_request(command::stmt_execute, std::string_view(req).substr(1));
        head.set_cursor(true);
        assert_int_equal(static_cast<int>(t.run(head, q.s)), static_cast<int>(Action::done));
        assert_true(q.head.cursor);
        check_head_columns(q.head);
        assert_int_equal(static_cast<int>(q.s.state), static_cast<int>(ConnState::ready));
        assert_int_equal(q.s.status_flags, 0x0042);
        t.assert_finished(q.s);
    }
    for (bool deprecate_eof : {true, false}) {
        Query q(deprecate_eof ? modern_caps : classic_caps);
        Transport t(feed);
        std::string req = execute_request(7, 1);
        t.client(req, 0);
        t.server("\x02", 1);
        t.server(column("id", "t", 3, 0x4203), 2);
        t.server(column("name", "t", 0xFD), 3);
        if (!deprecate_eof) t.server(eof_packet(0x0002), 4);  // no CURSOR_EXISTS
        std::int32_t one = 1;
        t.server(binary_row(&one, "a"), deprecate_eof ? 4 : 5);
        t.server(deprecate_eof ? ok_packet(0, 0x0002, "", 0xFE) : eof_packet(0x0002), deprecate_eof ? 5 : 6);
        ResultHeadOp head(q.head, 10);
        head.set_request(command::stmt_execute, std::string_view(req).substr(1));
        head.set_cursor(true);
        assert_int_equal(static_cast<int>(t.run(head, q.s)), static_cast<int>(Action::done));
        assert_false(q.head.cursor);
        assert_int_equal(static_cast<int>(q.s.state), static_cast<int>(ConnState::rows));
        BinarySink sink(q.head);
        RowsOp rows(sink);
        assert_int_equal(static_cast<int>(t.run(rows, q.s)), static_cast<int>(Action::done));
        assert_int_equal(sink.rows.size(), 1);
        t.assert_finished(q.s);
    }
    {   // Twin: the cursor's OK is a bare 0xFE.
        Query q(modern_caps);
        Transport t(feed);
        std::string req = execute_request(7, 1);
        t.client(req, 0);
        t.server("\x02", 1);
        t.server(column("id", "t", 3, 0x4203), 2);
        t.server(column("name", "t", 0xFD), 3);
        t.server("\xFE", 4);
        ResultHeadOp head(q.head, 10);
        head.set_request(command::stmt_execute, std::string_view(req).substr(1));
        head.set_cursor(true);
        run_error(t, head, q.s, Errc::protocol, "malformed OK packet after the column definitions");
    }
    {   // Twin: a classic EOF cut short.
        Query q(classic_caps);
        Transport t(feed);
        std::string req = execute_request(7, 1);
        t.client(req, 0);
        t.server("\x02", 1);
        t.server(column("id", "t", 3, 0x4203), 2);
        t.server(column("name", "t", 0xFD), 3);
        t.server(std::string("\xFE\x00", 2), 4);
        ResultHeadOp head(q.head, 10);
        head.set_request(command::stmt_execute, std::string_view(req).substr(1));
        head.set_cursor(true);
        run_error(t, head, q.s, Errc::protocol, "EOF");
    }
}

void execute_ok_reply(Feed feed) {
    {
        Query q(modern_caps);
        Transport t(feed);
        std::string req = execute_request(7, 0);
        t.client(req, 0);
        t.server(Bytes().u8(0).lenenc(3).lenenc(41).u16(0x0002).u16(1).str(), 1);
        ResultHeadOp head(q.head, 10);
        head.set_request(command::stmt_execute, std::string_view(req).substr(1));
        assert_int_equal(static_cast<int>(t.run(head, q.s)), static_cast<int>(Action::done));
        assert_int_equal(q.head.columns.size(), 0);
        assert_int_equal(q.head.ok.affected_rows, 3);
        assert_int_equal(q.head.ok.last_insert_id, 41);
        assert_int_equal(q.head.ok.warnings, 1);
        assert_int_equal(static_cast<int>(q.s.state), static_cast<int>(ConnState::ready));
        t.assert_finished(q.s);
    }
    for (std::size_t cut : {1, 2, 3, 5}) {  // twin: the OK cut short
        Query q(modern_caps);
        Transport t(feed);
        std::string req = execute_request(7, 0);
        t.client(req, 0);
        t.server(Bytes().u8(0).lenenc(3).lenenc(41).u16(0x0002).u16(1).str().substr(0, cut), 1);
        ResultHeadOp head(q.head, 10);
        head.set_request(command::stmt_execute, std::string_view(req).substr(1));
        run_error(t, head, q.s, Errc::protocol, "malformed OK packet");
    }
}

// ER_NEED_REPREPARE: a server error that ends the command (the engine
// re-prepares on it when auto_reprepare is on).
void execute_need_reprepare(Feed feed) {
    Query q(modern_caps);
    Transport t(feed);
    std::string req = execute_request(7, 0);
    t.client(req, 0);
    t.server(err_packet(1615, "HY000", "Prepared statement needs to be re-prepared"), 1);
    ResultHeadOp head(q.head, 10);
    head.set_request(command::stmt_execute, std::string_view(req).substr(1));
    run_error(t, head, q.s, Errc::server);
    assert_int_equal(q.s.err.server_errno, 1615);
    assert_int_equal(static_cast<int>(q.s.state), static_cast<int>(ConnState::ready));
    t.assert_finished(q.s);
    // Twin: the ERR without its code.
    Query q2(modern_caps);
    Transport t2(feed);
    t2.client(req, 0);
    t2.server("\xFF\x4F", 1);
    ResultHeadOp head2(q2.head, 10);
    head2.set_request(command::stmt_execute, std::string_view(req).substr(1));
    run_error(t2, head2, q2.s, Errc::protocol, "malformed error packet");
}

// MariaDB's metadata caching: the column count's metadata-follows byte 0
// means the statement's known definitions stand.
void execute_metadata_skipped(Feed feed) {
    ResultHead cached;
    {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server("\x02", 1);
        t.server(column("id", "t", 3, 0x4203), 2);
        t.server(column("name", "t", 0xFD), 3);
        ResultHeadOp op(cached, 10);
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
    }
    {
        Query q(modern_caps);
        q.s.mariadb_caps = mariadb_cap::cache_metadata;
        Transport t(feed);
        std::string req = execute_request(7, 0);
        t.client(req, 0);
        t.server(std::string("\x02\x00", 2), 1);
        std::int32_t one = 1;
        t.server(binary_row(&one, "a"), 2);
        t.server(ok_packet(0, 0x0002, "", 0xFE), 3);
        ResultHeadOp head(q.head, 10);
        head.set_request(command::stmt_execute, std::string_view(req).substr(1));
        head.set_cached_columns(&cached);
        assert_int_equal(static_cast<int>(t.run(head, q.s)), static_cast<int>(Action::done));
        assert_true(q.head.metadata_cached);
        check_head_columns(q.head);
        BinarySink sink(q.head);
        RowsOp rows(sink);
        assert_int_equal(static_cast<int>(t.run(rows, q.s)), static_cast<int>(Action::done));
        assert_int_equal(sink.rows.size(), 1);
        t.assert_finished(q.s);
    }
    // Twins: skipped with no definitions known, with another column count,
    // and a metadata-follows byte that is neither 0 nor 1.
    for (int which = 0; which < 3; ++which) {
        Query q(modern_caps);
        q.s.mariadb_caps = mariadb_cap::cache_metadata;
        Transport t(feed);
        std::string req = execute_request(7, 0);
        t.client(req, 0);
        t.server(which == 1 ? std::string("\x03\x00", 2) : which == 2 ? std::string("\x02\x02", 2)
                                                                      : std::string("\x02\x00", 2),
                 1);
        ResultHeadOp head(q.head, 10);
        head.set_request(command::stmt_execute, std::string_view(req).substr(1));
        if (which != 0) head.set_cached_columns(&cached);
        run_error(t, head, q.s, Errc::protocol, which == 2 ? "column count" : "skipped the column definitions");
    }
}

// -------------------------------------------------------- cursor batches

std::string fetch_arg(std::uint32_t id, std::uint32_t rows) { return Bytes().u32(id).u32(rows).str(); }

void fetch_batches(Feed feed) {
    for (bool deprecate_eof : {true, false}) {
        Query q(deprecate_eof ? modern_caps : classic_caps);
        ResultHead head;
        head.columns.resize(0);
        {   // The head of the cursor's result, as execute_cursor reads it.
            Transport t(feed);
            std::string req = execute_request(7, 1);
            t.client(req, 0);
            t.server("\x02", 1);
            t.server(column("id", "t", 3, 0x4203), 2);
            t.server(column("name", "t", 0xFD), 3);
            t.server(deprecate_eof ? ok_packet(0, 0x0042, "", 0xFE) : eof_packet(0x0042), 4);
            ResultHeadOp op(head, 10);
            op.set_request(command::stmt_execute, std::string_view(req).substr(1));
            op.set_cursor(true);
            assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
            assert_true(head.cursor);
        }
        auto end = [&](std::uint16_t status) {
            return deprecate_eof ? ok_packet(0, status, "", 0xFE) : eof_packet(status);
        };
        BinarySink sink(head);
        std::int32_t v[3] = {1, 2, 3};
        std::string arg = fetch_arg(7, 2);
        {   // First batch: two rows; the cursor has more.
            Transport t(feed);
            t.client(Bytes().u8(0x1C).str(arg).str(), 0);
            t.server(binary_row(&v[0], "a"), 1);
            t.server(binary_row(&v[1], nullptr), 2);
            t.server(end(0x0042), 3);
            RowsOp rows(sink);
            RequestThenOp op(command::stmt_fetch, arg, rows);
            assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
            assert_true(rows.end);
            assert_int_equal(rows.end_ok.status_flags, 0x0042);
            assert_int_equal(sink.rows.size(), 2);
            assert_int_equal(static_cast<int>(q.s.state), static_cast<int>(ConnState::ready));
            t.assert_finished(q.s);
        }
        {   // Second batch: the last row, LAST_ROW_SENT.
            Transport t(feed);
            t.client(Bytes().u8(0x1C).str(arg).str(), 0);
            t.server(binary_row(&v[2], "c"), 1);
            t.server(end(0x0082), 2);
            RowsOp rows(sink);
            RequestThenOp op(command::stmt_fetch, arg, rows);
            assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
            assert_int_equal(rows.end_ok.status_flags, 0x0082);
            assert_int_equal(sink.rows.size(), 3);
            assert_sv_equal(sink.rows[1][1], "<NULL>");
            assert_sv_equal(sink.rows[2][0], le32(3));
            assert_sv_equal(sink.rows[2][1], "c");
            t.assert_finished(q.s);
        }
        {   // Twin: a row of the batch cut in its string.
            Transport t(feed);
            t.client(Bytes().u8(0x1C).str(arg).str(), 0);
            std::string r = binary_row(&v[0], "abc");
            t.server(r.substr(0, r.size() - 2), 1);
            RowsOp rows(sink);
            RequestThenOp op(command::stmt_fetch, arg, rows);
            run_error(t, op, q.s, Errc::protocol);
        }
        {   // Twin: the cursor is gone (an ERR instead of the batch).
            q.s.state = ConnState::ready;
            Transport t(feed);
            t.client(Bytes().u8(0x1C).str(arg).str(), 0);
            t.server(err_packet(1243, "HY000", "Unknown prepared statement handler (7) given to mysqld_stmt_fetch"), 1);
            RowsOp rows(sink);
            RequestThenOp op(command::stmt_fetch, arg, rows);
            run_error(t, op, q.s, Errc::server);
            assert_int_equal(q.s.err.server_errno, 1243);
            assert_int_equal(static_cast<int>(q.s.state), static_cast<int>(ConnState::ready));
            t.assert_finished(q.s);
        }
        {   // Twin: an end marker cut short.
            Transport t(feed);
            t.client(Bytes().u8(0x1C).str(arg).str(), 0);
            t.server(deprecate_eof ? std::string("\xFE\x00", 2) : std::string("\xFE\x00\x00", 3), 1);
            RowsOp rows(sink);
            RequestThenOp op(command::stmt_fetch, arg, rows);
            run_error(t, op, q.s, Errc::protocol);
        }
    }
}

// ------------------------------------------- COM_STMT_RESET and bulk replies

void stmt_reset(Feed feed) {
    std::string id = Bytes().u32(7).str();
    {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x1A).str(id).str(), 0);
        t.server(ok_packet(0, 0x0002), 1);
        SimpleCommandOp op(command::stmt_reset, id, SimpleCommandOp::Reply::ok);
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
        assert_int_equal(static_cast<int>(q.s.state), static_cast<int>(ConnState::ready));
        t.assert_finished(q.s);
    }
    {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x1A).str(id).str(), 0);
        t.server(err_packet(1243, "HY000", "Unknown prepared statement handler (7) given to mysqld_stmt_reset"), 1);
        SimpleCommandOp op(command::stmt_reset, id, SimpleCommandOp::Reply::ok);
        run_error(t, op, q.s, Errc::server);
        assert_int_equal(q.s.err.server_errno, 1243);
    }
    for (std::string reply : {std::string("\x00", 1), std::string("\x00\x00", 2), std::string("\x01")}) {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x1A).str(id).str(), 0);
        t.server(reply, 1);
        SimpleCommandOp op(command::stmt_reset, id, SimpleCommandOp::Reply::ok);
        run_error(t, op, q.s, Errc::protocol, "malformed reply to a command");
    }
}

void bulk_execute_reply(Feed feed) {
    // Two rows of one INT parameter, types sent (STMT_BULK_FLAG_CLIENT_SEND_TYPES).
    std::string req = Bytes().u32(7).u16(128).u8(3).u8(0).u8(0).u32(1).u8(0).u32(2).str();
    std::string ok = Bytes().u8(0).lenenc(2).lenenc(10).u16(0x0002).u16(0).str();
    {
        Query q(modern_caps);
        q.s.mariadb_caps = mariadb_cap::stmt_bulk_operations;
        Transport t(feed);
        t.client(Bytes().u8(0xFA).str(req).str(), 0);
        t.server(ok, 1);
        SimpleCommandOp op(command::stmt_bulk_execute, req, SimpleCommandOp::Reply::ok);
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
        assert_int_equal(op.ok.affected_rows, 2);
        assert_int_equal(op.ok.last_insert_id, 10);
        t.assert_finished(q.s);
    }
    {   // A duplicate key in the second row.
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0xFA).str(req).str(), 0);
        t.server(err_packet(1062, "23000", "Duplicate entry '2' for key 'PRIMARY'"), 1);
        SimpleCommandOp op(command::stmt_bulk_execute, req, SimpleCommandOp::Reply::ok);
        run_error(t, op, q.s, Errc::server);
        assert_int_equal(q.s.err.server_errno, 1062);
    }
    // Twins: the OK cut short, and a result set where an OK belongs
    // (per-row results, never asked for).
    for (std::string reply : {ok.substr(0, 2), ok.substr(0, 4), std::string("\x01")}) {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0xFA).str(req).str(), 0);
        t.server(reply, 1);
        SimpleCommandOp op(command::stmt_bulk_execute, req, SimpleCommandOp::Reply::ok);
        run_error(t, op, q.s, Errc::protocol, "malformed reply to a command");
    }
}

// -------------------------------------------- the execute request's bytes

void execute_request_bytes(void **) {
    std::vector<Param> params(3);
    assert_errc(encode_int(params[0], 7, field_type::longlong), Errc::ok);
    assert_errc(encode_null(params[1]), Errc::ok);
    assert_errc(encode_bytes(params[2], field_type::string, "ab"), Errc::ok);
    const std::vector<QueryAttr> none;
    std::string out, types;
    assert_true(append_param_block(out, params, none, false, nullptr, types));
    // bitmap (the second NULL), new-params-bound, 3 types, the two values.
    std::string want = Bytes().u8(0x02).u8(1).u8(8).u8(0).u8(6).u8(0).u8(0xFE).u8(0).u64(7).lenstr("ab").str();
    assert_sv_equal(out, want);
    assert_sv_equal(types, Bytes().u8(8).u8(0).u8(6).u8(0).u8(0xFE).u8(0).str());
    // Same types again: flag 0, no types, appended after what out holds.
    std::string known = types;
    out.assign("head");
    assert_false(append_param_block(out, params, none, false, &known, types));
    assert_sv_equal(out, Bytes().str("head").u8(0x02).u8(0).u64(7).lenstr("ab").str());
    assert_int_equal(types.size(), 0);
    // Another value of the same type: still no types.
    assert_errc(encode_int(params[0], -2, field_type::longlong), Errc::ok);
    out.clear();
    assert_false(append_param_block(out, params, none, false, &known, types));
    assert_sv_equal(out, Bytes().u8(0x02).u8(0).u64(static_cast<std::uint64_t>(-2)).lenstr("ab").str());
    // A type or an unsigned flag changed, one parameter fewer or more: the
    // types go out again.
    {
        std::vector<Param> other = params;
        assert_errc(encode_uint(other[0], 7, field_type::longlong), Errc::ok);
        out.clear();
        assert_true(append_param_block(out, other, none, false, &known, types));
        assert_int_equal(static_cast<unsigned char>(out[1]), 1);
        assert_int_equal(static_cast<unsigned char>(types[1]), 0x80);
        other = params;
        assert_errc(encode_int(other[0], 7, field_type::long_), Errc::ok);
        out.clear();
        assert_true(append_param_block(out, other, none, false, &known, types));
        assert_sv_equal(out, Bytes().u8(0x02).u8(1).u8(3).u8(0).u8(6).u8(0).u8(0xFE).u8(0).u32(7).lenstr("ab").str());
        other.pop_back();
        out.clear();
        assert_true(append_param_block(out, other, none, false, &known, types));
        other = params;
        other.emplace_back();
        assert_errc(encode_null(other.back()), Errc::ok);
        out.clear();
        assert_true(append_param_block(out, other, none, false, &known, types));
        assert_sv_equal(out.substr(0, 2), Bytes().u8(0x0A).u8(1).str());
    }
    assert_errc(encode_int(params[0], 7, field_type::longlong), Errc::ok);
    // Every value form: length-encoded long text (0xFC prefix), a temporal
    // with its length byte, a double.
    {
        std::vector<Param> forms(3);
        assert_errc(encode_bytes(forms[0], field_type::blob, std::string(300, 'x')), Errc::ok);
        Time t{};
        t.kind = time_kind::date;
        t.year = 2026;
        t.month = 12;
        t.day = 7;
        assert_errc(encode_time(forms[1], t), Errc::ok);
        assert_errc(encode_double(forms[2], 0.5), Errc::ok);
        out.clear();
        append_param_block(out, forms, none, false, nullptr, types);
        std::string tail = Bytes().u8(0xFC).u16(300).str() + std::string(300, 'x') +
                           Bytes().u8(4).u16(2026).u8(12).u8(7).u64(0x3FE0000000000000ull).str();
        assert_int_equal(out.size(), 2 + 6 + tail.size());
        assert_sv_equal(out.substr(8), tail);
        // append_param_value writes the same bytes, one value at a time.
        std::string one;
        for (const Param &p : forms) append_param_value(one, p);
        assert_sv_equal(one, tail);
    }
    // With query attributes (named): the parameters' names are empty, the
    // attribute follows with its name; types always sent.
    std::vector<QueryAttr> attrs(1);
    attrs[0].name = "tenant";
    assert_errc(encode_uint(attrs[0].value, 300, field_type::short_), Errc::ok);
    std::string named_known;
    append_param_block(named_known, params, none, true, nullptr, types);
    named_known = types;
    // Named without attributes, types known: not sent again either.
    out.clear();
    assert_false(append_param_block(out, params, none, true, &named_known, types));
    assert_sv_equal(out, Bytes().u8(0x02).u8(0).u64(7).lenstr("ab").str());
    out.clear();
    assert_true(append_param_block(out, params, attrs, true, &named_known, types));
    want = Bytes().u8(0x02).u8(1).u8(8).u8(0).u8(0).u8(6).u8(0).u8(0).u8(0xFE).u8(0).u8(0)
               .u8(2).u8(0x80).lenstr("tenant").u64(7).lenstr("ab").u16(300).str();
    assert_sv_equal(out, want);
    // COM_QUERY's prefix: the counts, then the block; without attributes only the counts.
    out.clear();
    append_query_attributes(out, none);
    assert_sv_equal(out, std::string("\x00\x01", 2));
    out.clear();
    append_query_attributes(out, attrs);
    assert_sv_equal(out, Bytes().u8(1).u8(1).u8(0).u8(1).u8(2).u8(0x80).lenstr("tenant").u16(300).str());
    // Nothing at all for no parameters and no attributes.
    out.clear();
    append_param_block(out, {}, none, true, nullptr, types);
    assert_int_equal(out.size(), 0);
    // Bad values leave the parameter as it was.
    Param p;
    assert_errc(encode_int(p, 300, field_type::tiny), Errc::argument);
    assert_errc(encode_double(p, 1.0 / 0.0), Errc::argument);
    assert_errc(encode_bytes(p, field_type::newdecimal, "1.2.3"), Errc::argument);
    assert_false(p.bound);
}

FEEDS(prepare_modern)
FEEDS(prepare_classic)
FEEDS(prepare_partial_lists)
FEEDS(prepare_metadata_follows)
FEEDS(prepare_error_reply)
FEEDS(prepare_corrupted)
FEEDS(execute_binary_modern)
FEEDS(execute_binary_classic)
FEEDS(execute_binary_corrupted)
FEEDS(execute_cursor)
FEEDS(execute_ok_reply)
FEEDS(execute_need_reprepare)
FEEDS(execute_metadata_skipped)
FEEDS(fetch_batches)
FEEDS(stmt_reset)
FEEDS(bulk_execute_reply)

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare_modern),
        cmocka_unit_test(test_prepare_classic),
        cmocka_unit_test(test_prepare_partial_lists),
        cmocka_unit_test(test_prepare_metadata_follows),
        cmocka_unit_test(test_prepare_error_reply),
        cmocka_unit_test(test_prepare_corrupted),
        cmocka_unit_test(test_execute_binary_modern),
        cmocka_unit_test(test_execute_binary_classic),
        cmocka_unit_test(test_execute_binary_corrupted),
        cmocka_unit_test(test_execute_cursor),
        cmocka_unit_test(test_execute_ok_reply),
        cmocka_unit_test(test_execute_need_reprepare),
        cmocka_unit_test(test_execute_metadata_skipped),
        cmocka_unit_test(test_fetch_batches),
        cmocka_unit_test(test_stmt_reset),
        cmocka_unit_test(test_bulk_execute_reply),
        cmocka_unit_test(execute_request_bytes),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
