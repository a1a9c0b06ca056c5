// ResultHeadOp (the head of a result: OK, ERR, columns, limits, oddities)
// over the in-memory Transport.
#include "transcript.hpp"

using namespace transcript;

namespace {

// S5: the server decides how much metadata it sends; a column string over
// 64 KiB, or a head over max_metadata_bytes, is a LIMIT error.
void query_metadata_limits(Feed feed) {
    {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server("\x01", 1);
        t.server(column("v", std::string(ResultHeadOp::max_column_string + 1, 'T'), 0xFD), 2);
        ResultHeadOp op(q.head, 10);
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::limit);
    }
    {
        // 8 columns with 4 KB names each: 64 KB of metadata against a 32 KB budget.
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server("\x08", 1);
        for (int i = 0; i < 8; ++i) t.server(column(std::string(4000, char('a' + i)), "t", 0xFD), 2 + i);
        ResultHeadOp op(q.head, ResultHeadOp::Limits{10, 32 * 1024});
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::limit);
        assert_true(q.s.err.message.find("max_metadata_bytes") != std::string::npos);
        assert_true(q.head.names.size() <= 32 * 1024);
    }
}

void query_ok_with_info(Feed feed) {
    Query q(modern_caps);
    Transport t(feed);
    std::string info = "Rows matched: 3  Changed: 2  Warnings: 0";
    t.client(Bytes().u8(0x03).str("UPDATE t SET a = 1").str(), 0);
    t.server(Bytes().u8(0).u8(2).u8(9).u16(0x0002).u16(0).lenstr(info).str(), 1);  // as servers send it
    ResultHeadOp op(q.head, 10);
    op.set_query("UPDATE t SET a = 1");
    assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
    assert_int_equal(q.head.columns.size(), 0);
    assert_int_equal(q.head.ok.affected_rows, 2);
    assert_int_equal(q.head.ok.last_insert_id, 9);
    assert_sv_equal(q.head.info, info);
    assert_int_equal(q.s.status_flags, 2);
    t.assert_finished(q.s);
}

void query_err_result(Feed feed) {
    Query q(modern_caps);
    Transport t(feed);
    t.client(Bytes().u8(0x03).str("SELECT * FROM nope").str(), 0);
    t.server(err_packet(1146, "42S02", "Table 'shop.nope' doesn't exist"), 1);
    ResultHeadOp op(q.head, 10);
    op.set_query("SELECT * FROM nope");
    assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
    assert_errc(q.s.err.code, Errc::server);
    assert_int_equal(q.s.err.server_errno, 1146);
    assert_sv_equal(std::string_view(q.s.err.sqlstate, 5), "42S02");
    assert_sv_equal(q.s.err.message, "Table 'shop.nope' doesn't exist");
    t.assert_finished(q.s);
}

void query_too_many_columns(Feed feed) {
    Query q(modern_caps);
    Transport t(feed);
    t.client(Bytes().u8(0x03).str("SELECT *").str(), 0);
    t.server("\x05", 1);
    ResultHeadOp op(q.head, 4);
    op.set_query("SELECT *");
    assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
    assert_errc(q.s.err.code, Errc::limit);
    // Exactly the limit is fine.
    Query q2(modern_caps);
    Transport t2(feed);
    t2.client(Bytes().u8(0x03).str("SELECT *").str(), 0);
    t2.server("\x02", 1);
    t2.server(column("id", "t", 3, 0x4203), 2);
    t2.server(column("name", "t", 0xFD), 3);
    ResultHeadOp op2(q2.head, 2);
    op2.set_query("SELECT *");
    assert_int_equal(static_cast<int>(t2.run(op2, q2.s)), static_cast<int>(Action::done));
    check_head_columns(q2.head);
}


void query_error_and_oddities(Feed feed) {
    {   // An ERR instead of a row (e.g. the query was killed).
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server("\x01", 1);
        t.server(column("v", "t", 0xFD), 2);
        t.server(row({"x"}), 3);
        t.server(err_packet(1317, "70100", "Query execution was interrupted"), 4);
        ResultHeadOp head_op(q.head, 10);
        head_op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(head_op, q.s)), static_cast<int>(Action::done));
        RowOp r1;
        assert_int_equal(static_cast<int>(t.run(r1, q.s)), static_cast<int>(Action::done));
        RowOp r2;
        assert_int_equal(static_cast<int>(t.run(r2, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::server);
        assert_int_equal(q.s.err.server_errno, 1317);
    }
    {   // LOCAL INFILE request: refused.
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server(Bytes().u8(0xFB).str("/etc/passwd").str(), 1);
        ResultHeadOp op(q.head, 10);
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::unsupported);
    }
    {   // A malformed column definition.
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server("\x01", 1);
        t.server(Bytes().u8(0xFB).str("garbage").str(), 2);
        ResultHeadOp op(q.head, 10);
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::protocol);
    }
    {   // Classic framing without the EOF after the columns.
        Query q(classic_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server("\x01", 1);
        t.server(column("v", "t", 0xFD), 2);
        t.server(row({"x"}), 3);
        ResultHeadOp op(q.head, 10);
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::protocol);
    }
    {   // A reply out of sequence.
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server(ok_packet(0, 2), 2);
        ResultHeadOp op(q.head, 10);
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::protocol);
    }
}

// Column definitions are stored one of two ways: every string under 251 bytes
// (one copy of the five kept strings) or any longer one (string by string).
// Both give the same metadata, in any mix; a definition short of its fixed
// fields, or with a fixed-length byte under 10, is malformed either way.
void query_column_strings(Feed feed) {
    const std::string long_name(300, 'L'), long_table(251, 'T');
    Query q(modern_caps);
    Transport t(feed);
    t.client(Bytes().u8(0x03).str("q").str(), 0);
    t.server("\x04", 1);
    t.server(column("id", "items", 0x03, 0x1003), 2);
    t.server(column(long_name, "items", 0xFD), 3);
    t.server(Bytes().lenstr("").lenstr("").lenstr("").lenstr("").lenstr("").lenstr("")
                 .lenenc(0x0C).u16(63).u32(1).u8(0x08).u16(0).u8(0).u16(0).str(), 4);
    t.server(column("n", long_table, 0x0F), 5);
    ResultHeadOp op(q.head, 10);
    op.set_query("q");
    assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
    assert_int_equal(q.head.columns.size(), 4);
    struct Want {
        std::string name, org_name, table, org_table, schema;
        unsigned type, flags, charset;
        std::uint32_t length;
    } want[4] = {{"id", "id_org", "items", "items_org", "shop", 0x03, 0x1003, 45, 44},
                 {long_name, long_name + "_org", "items", "items_org", "shop", 0xFD, 0, 45, 44},
                 {"", "", "", "", "", 0x08, 0, 63, 1},
                 {"n", "n_org", long_table, long_table + "_org", "shop", 0x0F, 0, 45, 44}};
    for (int i = 0; i < 4; ++i) {
        const mywire::Column &c = q.head.columns[i];
        const Want &w = want[i];
        const std::pair<const char *, std::size_t> got[5] = {{c.name, c.name_len}, {c.org_name, c.org_name_len},
                                                             {c.table, c.table_len}, {c.org_table, c.org_table_len},
                                                             {c.schema, c.schema_len}};
        const std::string *exp[5] = {&w.name, &w.org_name, &w.table, &w.org_table, &w.schema};
        for (int k = 0; k < 5; ++k) {
            assert_sv_equal(std::string_view(got[k].first, got[k].second), *exp[k]);
            assert_int_equal(std::strlen(got[k].first), exp[k]->size());  // NUL-terminated
        }
        assert_int_equal(c.type, w.type);
        assert_int_equal(c.flags, w.flags);
        assert_int_equal(c.charset, w.charset);
        assert_int_equal(c.length, w.length);
    }
    t.assert_finished(q.s);

    const std::string good = column("v", "t", 0x0F);
    const std::string broken[] = {
        good.substr(0, good.size() - 3),                                   // short of its fixed fields
        Bytes().lenstr("def").lenstr("s").lenstr("t").lenstr("t").lenstr("v").lenstr("v").lenenc(0x09)
            .u16(45).u32(44).u8(0x0F).u16(0).u8(0).str(),                // fixed length under 10
        Bytes().lenstr("def").lenstr("s").lenstr("t").u8(0x20).str("ab").str(),  // a string past the end
        Bytes().lenstr("def").lenstr("s").str(),                           // strings missing
    };
    for (const std::string &b : broken) {
        Query q2(modern_caps);
        Transport t2(feed);
        t2.client(Bytes().u8(0x03).str("q").str(), 0);
        t2.server("\x01", 1);
        t2.server(b, 2);
        ResultHeadOp op2(q2.head, 10);
        op2.set_query("q");
        assert_int_equal(static_cast<int>(t2.run(op2, q2.s)), static_cast<int>(Action::error));
        assert_errc(q2.s.err.code, Errc::protocol);
    }
}

FEEDS(query_metadata_limits)
FEEDS(query_column_strings)
FEEDS(query_ok_with_info)
FEEDS(query_err_result)
FEEDS(query_too_many_columns)
FEEDS(query_error_and_oddities)

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_metadata_limits),
        cmocka_unit_test(test_query_column_strings),
        cmocka_unit_test(test_query_ok_with_info),
        cmocka_unit_test(test_query_err_result),
        cmocka_unit_test(test_query_too_many_columns),
        cmocka_unit_test(test_query_error_and_oddities),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
