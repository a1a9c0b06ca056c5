// RowOp (text rows to the end of a result) over the in-memory Transport.
#include "transcript.hpp"

using namespace transcript;

namespace {

void query_text_result(Feed feed, bool deprecate_eof) {
    Query q(deprecate_eof ? modern_caps : classic_caps);
    Transport t(feed);
    std::uint8_t seq = 0;
    t.client(Bytes().u8(0x03).str("SELECT id, name FROM t").str(), seq++);
    t.server("\x02", seq++);
    t.server(column("id", "t", 3, 0x4203), seq++);
    t.server(column("name", "t", 0xFD), seq++);
    if (!deprecate_eof) t.server(eof_packet(0x0022), seq++);
    t.server(row({"1", nullptr}), seq++);
    t.server(row({"2", ""}), seq++);
    std::string long_value(300, 'L');
    t.server(row({"3", long_value.c_str()}), seq++);
    if (deprecate_eof)
        t.server(ok_packet(0, 0x0022, "", 0xFE), seq++);
    else
        t.server(eof_packet(0x0022, 1), seq++);

    ResultHeadOp head_op(q.head, 100);
    head_op.set_query("SELECT id, name FROM t");
    assert_int_equal(static_cast<int>(t.run(head_op, q.s)), static_cast<int>(Action::done));
    check_head_columns(q.head);
    RowOp last;
    auto rows = read_rows(t, q.s, 2, last);
    assert_int_equal(rows.size(), 3);
    assert_sv_equal(rows[0][0], "1");
    assert_sv_equal(rows[0][1], "<NULL>");
    assert_sv_equal(rows[1][1], "");
    assert_sv_equal(rows[2][1], long_value);
    assert_true(last.end);
    assert_int_equal(last.end_ok.status_flags, 0x0022);
    assert_int_equal(q.s.status_flags, 0x0022);
    if (!deprecate_eof) assert_int_equal(last.end_ok.warnings, 1);
    t.assert_finished(q.s);
}

void query_text_result_classic(Feed feed) { query_text_result(feed, false); }
void query_text_result_deprecate_eof(Feed feed) { query_text_result(feed, true); }

void query_row_starting_with_fe(Feed feed) {
    // Classic framing: a row whose first value has an 8-byte length is a row, not the EOF.
    Query q(classic_caps);
    Transport t(feed);
    t.client(Bytes().u8(0x03).str("q").str(), 0);
    t.server("\x01", 1);
    t.server(column("v", "t", 0xFD), 2);
    t.server(eof_packet(2), 3);
    t.server(Bytes().u8(0xFE).u64(3).str("abc").str(), 4);
    t.server(eof_packet(2), 5);
    ResultHeadOp head_op(q.head, 10);
    head_op.set_query("q");
    assert_int_equal(static_cast<int>(t.run(head_op, q.s)), static_cast<int>(Action::done));
    RowOp last;
    auto rows = read_rows(t, q.s, 1, last);
    assert_int_equal(rows.size(), 1);
    assert_sv_equal(rows[0][0], "abc");
    t.assert_finished(q.s);
}


void query_truncated_row(Feed feed) {
    Query q(modern_caps);
    Transport t(feed);
    t.client(Bytes().u8(0x03).str("q").str(), 0);
    t.server("\x01", 1);
    t.server(column("v", "t", 0xFD), 2);
    t.server(Bytes().u8(3).str("ab").str(), 3);  // says 3 bytes, has 2
    ResultHeadOp head_op(q.head, 10);
    head_op.set_query("q");
    assert_int_equal(static_cast<int>(t.run(head_op, q.s)), static_cast<int>(Action::done));
    RowOp op;
    assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
    assert_false(op.end);
    assert_sv_equal(op.payload, "\x03" "ab");
    Value v;
    assert_errc(parse_text_row(op.payload, 1, &v), Errc::protocol);
    t.assert_finished(q.s);
}


FEEDS(query_text_result_classic)
FEEDS(query_text_result_deprecate_eof)
FEEDS(query_row_starting_with_fe)
FEEDS(query_truncated_row)

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_text_result_classic),
        cmocka_unit_test(test_query_text_result_deprecate_eof),
        cmocka_unit_test(test_query_row_starting_with_fe),
        cmocka_unit_test(test_query_truncated_row),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
