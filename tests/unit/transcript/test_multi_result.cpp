// Multi-results (ResultHeadOp for each next result, RowOp) over the
// in-memory Transport.
#include "transcript.hpp"

using namespace transcript;

namespace {

void query_multi_result(Feed feed, bool deprecate_eof) {
    // SELECT 1; UPDATE ...; SELECT 2 — the status flag announces each next result.
    Query q((deprecate_eof ? modern_caps : classic_caps) | cap::multi_statements);
    Transport t(feed);
    const std::uint16_t more = status::more_results | status::autocommit;
    auto end_of_rows = [&](std::uint16_t st, std::uint8_t seq) {
        if (deprecate_eof)
            t.server(ok_packet(0, st, "", 0xFE), seq);
        else
            t.server(eof_packet(st), seq);
    };
    std::uint8_t seq = 0;
    t.client(Bytes().u8(0x03).str("SELECT 1; UPDATE t SET a=a; SELECT 2").str(), seq++);
    t.server("\x01", seq++);
    t.server(column("1", "", 8), seq++);
    if (!deprecate_eof) t.server(eof_packet(more), seq++);
    t.server(row({"1"}), seq++);
    end_of_rows(more, seq++);
    t.server(Bytes().u8(0).u8(4).u8(0).u16(more).u16(0).lenstr("Rows matched: 4").str(), seq++);
    t.server("\x01", seq++);
    t.server(column("2", "", 8), seq++);
    if (!deprecate_eof) t.server(eof_packet(status::autocommit), seq++);
    t.server(row({"2"}), seq++);
    end_of_rows(status::autocommit, seq++);

    ResultHeadOp first(q.head, 10);
    first.set_query("SELECT 1; UPDATE t SET a=a; SELECT 2");
    assert_int_equal(static_cast<int>(t.run(first, q.s)), static_cast<int>(Action::done));
    RowOp last;
    assert_int_equal(read_rows(t, q.s, 1, last).size(), 1);
    assert_true(q.s.status_flags & status::more_results);

    ResultHead h2;
    ResultHeadOp second(h2, 10);  // no query: reads the next result
    assert_int_equal(static_cast<int>(t.run(second, q.s)), static_cast<int>(Action::done));
    assert_int_equal(h2.columns.size(), 0);
    assert_int_equal(h2.ok.affected_rows, 4);
    assert_sv_equal(h2.info, "Rows matched: 4");
    assert_true(q.s.status_flags & status::more_results);

    ResultHead h3;
    ResultHeadOp third(h3, 10);
    assert_int_equal(static_cast<int>(t.run(third, q.s)), static_cast<int>(Action::done));
    auto rows = read_rows(t, q.s, 1, last);
    assert_int_equal(rows.size(), 1);
    assert_sv_equal(rows[0][0], "2");
    assert_false(q.s.status_flags & status::more_results);
    t.assert_finished(q.s);
}

void query_multi_result_classic(Feed feed) { query_multi_result(feed, false); }
void query_multi_result_deprecate_eof(Feed feed) { query_multi_result(feed, true); }


FEEDS(query_multi_result_classic)
FEEDS(query_multi_result_deprecate_eof)

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_multi_result_classic),
        cmocka_unit_test(test_query_multi_result_deprecate_eof),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
