// SimpleCommandOp (ping, init_db, statistics, set_option) over the
// in-memory Transport.
#include "transcript.hpp"

using namespace transcript;

namespace {

void simple_commands(Feed feed) {
    Session s;
    s.capabilities = modern_caps;
    Transport t(feed);
    t.client("\x0e", 0);
    t.server(ok_packet(0, 0x0002), 1);
    t.client(Bytes().u8(0x02).str("shop").str(), 0);
    t.server(err_packet(1049, "42000", "Unknown database 'shop'"), 1);
    t.client("\x09", 0);
    t.server("Uptime: 5  Threads: 1", 1);
    // COM_SET_OPTION (multi statements on = 0, off = 1), answered by an EOF
    // packet, or an OK.
    t.client(Bytes().u8(0x1B).u16(0).str(), 0);
    t.server(eof_packet(0x000A), 1);
    t.client(Bytes().u8(0x1B).u16(1).str(), 0);
    t.server(ok_packet(0, 0x0002), 1);
    SimpleCommandOp ping(command::ping, "", SimpleCommandOp::Reply::ok);
    assert_int_equal(static_cast<int>(t.run(ping, s)), static_cast<int>(Action::done));
    SimpleCommandOp init_db(command::init_db, "shop", SimpleCommandOp::Reply::ok);
    assert_int_equal(static_cast<int>(t.run(init_db, s)), static_cast<int>(Action::error));
    assert_int_equal(s.err.server_errno, 1049);
    SimpleCommandOp stats(command::statistics, "", SimpleCommandOp::Reply::text);
    assert_int_equal(static_cast<int>(t.run(stats, s)), static_cast<int>(Action::done));
    assert_sv_equal(stats.text, "Uptime: 5  Threads: 1");
    auto on = SimpleCommandOp::set_option(set_option::multi_statements_on);
    assert_int_equal(static_cast<int>(t.run(on, s)), static_cast<int>(Action::done));
    assert_int_equal(s.status_flags, 0x000A);
    auto off = SimpleCommandOp::set_option(set_option::multi_statements_off);
    assert_int_equal(static_cast<int>(t.run(off, s)), static_cast<int>(Action::done));
    assert_int_equal(s.status_flags, 0x0002);
    t.assert_finished(s);
}

FEEDS(simple_commands)

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_commands),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
