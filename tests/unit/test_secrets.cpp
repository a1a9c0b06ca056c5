// Secret hygiene (finding S10 of the security review): secrets are wiped in
// the buffers they pass through, not only where they are kept.
//   - SecretString: a moved-from or overwritten secret leaves no bytes behind;
//   - Options: assigning options (as apply_uri does) wipes the old password
//     in place;
//   - Connection: after a login that sent the password in clear (over a unix
//     socket, with enable_cleartext_plugin), the write buffer holds no byte of it.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "options.hpp"
#include "proto/wipe.hpp"
#include "unit.hpp"

using mywire::Connection;
using mywire::Error;
using mywire::Options;
using mywire::proto::SecretString;
using unit::Bytes;
using unit::Errc;

namespace {

bool contains(const void *p, std::size_t n, std::string_view needle) {
    std::string_view hay(static_cast<const char *>(p), n);
    return hay.find(needle) != std::string_view::npos;
}

void test_secret_string_move_leaves_nothing(void **) {
    // Short: stored inside the object, so a move copies and the source keeps
    // its bytes unless wiped.
    SecretString a("pw12345");
    const char *inside = a.data();
    SecretString b(std::move(a));
    assert_string_equal(b.c_str(), "pw12345");
    assert_false(contains(inside, 7, "12345"));

    SecretString c("short");
    inside = c.data();
    SecretString d;
    d = std::move(c);
    assert_string_equal(d.c_str(), "short");
    assert_false(contains(inside, 5, "hort"));
}

void test_secret_string_overwrite_wipes_old_bytes(void **) {
    // Overwriting with a shorter value reuses the buffer: the rest of the old
    // secret must not stay past the new end.
    SecretString s("a-rather-long-old-password-0123456789");
    const char *buf = s.data();
    std::size_t cap = s.capacity();
    s = std::string_view("new");
    assert_ptr_equal(s.data(), buf);
    assert_false(contains(buf, cap, "old-password"));
    mywire::proto::wipe(s);
    assert_true(s.empty());
    assert_false(contains(buf, cap, "new"));
}

void test_options_assignment_wipes_the_old_password(void **) {
    Options target;
    target.password = std::string_view("old-secret-password-AAAAAAAA");
    const char *buf = target.password.data();
    std::size_t cap = target.password.capacity();
    Error err;
    // apply_uri builds a copy and moves it into target.
    assert_errc(mywire::apply_uri(target, "mysql://u:new@h/", err), Errc::ok);
    assert_string_equal(target.password.c_str(), "new");
    if (target.password.data() == buf) assert_false(contains(buf, cap, "secret-password"));

    Options a, b;
    a.password = std::string_view("first-secret-password-BBBBBBBBB");
    buf = a.password.data();
    cap = a.password.capacity();
    b.password = std::string_view("x");
    a = std::move(b);  // a's old heap buffer is wiped before it is reused or freed
    assert_string_equal(a.password.c_str(), "x");
    if (a.password.data() == buf) assert_false(contains(buf, cap, "secret-password"));
}

// A server that answers a login with an auth switch to mysql_clear_password,
// all written in advance into a socketpair the connection adopts.
void test_login_write_buffer_is_wiped(void **) {
    const std::string password = "Cleartext-Secret-9f3b";
    const std::string scramble = "S1cr2mbl3-4Xy!7QzZpL";
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    Bytes g;
    g.u8(10).nul("10.11.99-MariaDB").u32(7).str(scramble.substr(0, 8)).u8(0).u16(0xF7FE);
    g.u8(45).u16(0x0002).u16(0x81FF).u8(21).fill(6, 0).u32(0);
    g.str(scramble.substr(8)).u8(0).nul("mysql_native_password");
    Bytes server;
    server.frame(g.str(), 0);
    server.frame(Bytes().u8(0xFE).nul("mysql_clear_password").str(), 2);
    server.frame(Bytes().u8(0).u8(0).u8(0).u16(2).u16(0).str(), 4);
    std::string bytes = server.str();
    assert_int_equal(::write(sv[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));

    {
        Connection conn;
        conn.opts.user = "u";
        conn.opts.password = std::string_view(password);
        conn.opts.unix_socket = "/adopted";  // a unix socket: clear text may go
        conn.opts.enable_cleartext_plugin = true;
        conn.opts.adopt_fd = sv[0];
        Errc rc = conn.connect();
        if (rc != Errc::ok) print_error("connect: %s\n", conn.err().message.c_str());
        assert_errc(rc, Errc::ok);
        assert_string_equal(conn.server.auth_plugin.c_str(), "mysql_clear_password");

        // The password did go out (the client's bytes are in the peer's queue)...
        char sent[4096];
        ssize_t n = ::read(sv[1], sent, sizeof sent);
        assert_true(n > 0);
        assert_true(contains(sent, static_cast<std::size_t>(n), password));
        // ...and no copy stays in the connection's write buffer.
        const auto &wbuf = conn.session.wbuf;
        assert_false(contains(wbuf.data(), wbuf.capacity(), password));
        assert_false(contains(wbuf.data(), wbuf.capacity(), "Secret-9f3b"));
    }
    ::close(sv[1]);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_string_move_leaves_nothing),
        cmocka_unit_test(test_secret_string_overwrite_wipes_old_bytes),
        cmocka_unit_test(test_options_assignment_wipes_the_old_password),
        cmocka_unit_test(test_login_write_buffer_is_wiped),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
