// HandshakeOp (greeting, handshake response, auth switches, MFA, failures)
// over the in-memory Transport.
#include "transcript.hpp"

using namespace transcript;

namespace {

void connect_native_mysql8(Feed feed) {
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "pw";
    c.opts.database = "shop";
    c.opts.connect_attrs = {{"app", "transcript"}};
    Transport t(feed);
    std::uint32_t sent_caps = 0;
    t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
    t.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        check_common_caps(r, mysql8_caps);
        assert_true(r.caps & cap::deprecate_eof);    // offered: requested
        assert_true(r.caps & cap::connect_with_db);  // a database is set
        assert_false(r.caps & cap::multi_statements);
        assert_true(r.caps & cap::plugin_auth);
        assert_int_equal(r.max_packet, 64u << 20);
        assert_int_equal(r.charset, 45);
        assert_sv_equal(r.filler, std::string(23, '\0'));
        assert_sv_equal(r.user, "alice");
        assert_sv_equal(r.auth, native_reference("pw", scramble20));
        assert_sv_equal(r.database, "shop");
        assert_sv_equal(r.plugin, "mysql_native_password");
        assert_sv_equal(r.attrs["_client_name"], "libmywire");
        assert_sv_equal(r.attrs["_client_version"], MYWIRE_VERSION_STRING);
        assert_sv_equal(r.attrs["app"], "transcript");
        sent_caps = r.caps;
    });
    t.server(ok_packet(0, 0x0002), 2);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
    t.assert_finished(c.s);
    assert_int_equal(c.s.capabilities, sent_caps);
    assert_int_equal(c.s.status_flags, 2);
    assert_sv_equal(c.info.version, "8.0.36");
    assert_int_equal(c.info.connection_id, 77);
    assert_false(c.info.is_mariadb);
    assert_sv_equal(c.info.auth_plugin, "mysql_native_password");
    assert_int_equal(t.writes, 1);
}

void connect_mariadb_caps(Feed feed) {
    // No DEPRECATE_EOF offered, no database, multi statements asked for.
    std::uint32_t server_caps = mariadb_caps & ~cap::deprecate_eof;
    Connect c;
    c.opts.user = "bob";
    c.opts.multi_statements = true;
    c.opts.max_allowed_packet = 1u << 30;
    c.opts.charset = 33;
    Transport t(feed);
    t.server(greeting("5.5.5-10.11.6-MariaDB", server_caps, 0x1D, "mysql_native_password"), 0);
    t.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        check_common_caps(r, server_caps);
        assert_false(r.caps & cap::deprecate_eof);
        assert_false(r.caps & cap::connect_with_db);
        assert_true(r.caps & cap::multi_statements);
        assert_false(r.caps & cap::long_password);  // the "I am MySQL" bit stays clear
        assert_int_equal(r.max_packet, 1u << 30);
        assert_int_equal(r.charset, 33);
        assert_sv_equal(r.auth, "");  // no password
        assert_sv_equal(r.database, "");
    });
    t.server(ok_packet(0, 0x0002), 2);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
    t.assert_finished(c.s);
    assert_false(c.s.deprecate_eof());
    assert_true(c.info.is_mariadb);
    assert_sv_equal(c.info.version, "10.11.6-MariaDB");

    // The same server offering DEPRECATE_EOF, without multi statements.
    Connect c2;
    Transport t2(feed);
    t2.server(greeting("5.5.5-10.11.6-MariaDB", mariadb_caps, 0x1D, "mysql_native_password"), 0);
    t2.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        assert_true(r.caps & cap::deprecate_eof);
        assert_false(r.caps & cap::multi_statements);
    });
    t2.server(ok_packet(0, 0x0002), 2);
    HandshakeOp op2(c2.opts, false, MYWIRE_SSL_MODE_DISABLED, c2.info);
    assert_int_equal(static_cast<int>(t2.run(op2, c2.s)), static_cast<int>(Action::done));
    assert_true(c2.s.deprecate_eof());
}

void connect_unknown_default_plugin(Feed feed) {
    // MySQL 8's default plugin is not ours: answer as mysql_native_password
    // and follow the server's switch to it (a fresh challenge).
    Connect c;
    c.opts.user = "u";
    c.opts.password = "secret";
    std::string fresh = "abcdefghijKLMNOPQRST";
    Transport t(feed);
    t.server(greeting("8.0.36", mysql8_caps, 0, "authentication_ldap_sasl_client"), 0);
    t.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        assert_sv_equal(r.plugin, "mysql_native_password");
        assert_sv_equal(r.auth, native_reference("secret", scramble20));
    });
    t.server(switch_packet("mysql_native_password", fresh + std::string(1, '\0')), 2);
    t.client(native_reference("secret", fresh), 3);
    t.server(ok_packet(0, 2), 4);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
    t.assert_finished(c.s);
    assert_sv_equal(c.info.auth_plugin, "mysql_native_password");
}

void connect_switch_native_to_ed25519(Feed feed) {
    Connect c;
    c.opts.user = "mywire_ed";
    c.opts.password = "ed-pw";
    std::string nonce = challenge32(5);
    Transport t(feed);
    t.server(greeting("5.5.5-10.11.6-MariaDB", mariadb_caps, 0x1D, "mysql_native_password"), 0);
    t.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        assert_sv_equal(r.plugin, "mysql_native_password");
        assert_sv_equal(r.auth, native_reference("ed-pw", scramble20));
    });
    t.server(switch_packet("client_ed25519", nonce), 2);
    t.client(3, [&](std::string_view p) { assert_ed25519_signature(p, nonce, "ed-pw"); });
    t.server(ok_packet(0, 2), 4);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
    t.assert_finished(c.s);
    assert_sv_equal(c.info.auth_plugin, "client_ed25519");
}

void connect_switch_ed25519_to_native(Feed feed) {
    // The greeting names client_ed25519 (its scramble is no ed25519 challenge):
    // the client answers as mysql_native_password; the server switches to
    // ed25519, then back to mysql_native_password with a new challenge.
    Connect c;
    c.opts.user = "u";
    c.opts.password = "pw2";
    std::string nonce = challenge32(9);
    std::string fresh = "0123456789abcdefghij";
    Transport t(feed);
    t.server(greeting("5.5.5-10.11.6-MariaDB", mariadb_caps, 0x1D, "client_ed25519"), 0);
    t.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        assert_sv_equal(r.plugin, "mysql_native_password");
        assert_sv_equal(r.auth, native_reference("pw2", scramble20));
    });
    t.server(switch_packet("client_ed25519", nonce), 2);
    t.client(3, [&](std::string_view p) { assert_ed25519_signature(p, nonce, "pw2"); });
    t.server(switch_packet("mysql_native_password", fresh + std::string(1, '\0')), 4);
    t.client(native_reference("pw2", fresh), 5);
    t.server(ok_packet(0, 2), 6);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
    t.assert_finished(c.s);
    assert_sv_equal(c.info.auth_plugin, "mysql_native_password");
}

// A 32-byte ed25519 challenge whose last byte is 0x00 is still 32 bytes.
void connect_ed25519_nonce_ending_in_nul(Feed feed) {
    Connect c;
    c.opts.user = "mywire_ed";
    c.opts.password = "ed-pw";
    std::string nonce = challenge32(3);
    nonce[31] = '\0';
    Transport t(feed);
    t.server(greeting("5.5.5-10.11.6-MariaDB", mariadb_caps, 0x1D, "mysql_native_password"), 0);
    t.client(1, [&](std::string_view) {});
    t.server(switch_packet("client_ed25519", nonce), 2);
    t.client(3, [&](std::string_view p) { assert_ed25519_signature(p, nonce, "ed-pw"); });
    t.server(ok_packet(0, 2), 4);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    Action a = t.run(op, c.s);
    if (a != Action::done) {
        print_error("[%s] login failed: Errc %d: %s\n", feed_name(feed), unit::ec(c.s.err.code),
                    c.s.err.message.c_str());
        fail();
    }
    t.assert_finished(c.s);
}

// The operation stops with `code`; the client wrote `writes` packets in all.
template <class Setup>
void expect_connect_failure(Feed feed, Errc code, int writes, Setup &&setup) {
    Connect c;
    c.opts.user = "u";
    c.opts.password = "pw";
    Transport t(feed);
    setup(c, t);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::error));
    assert_errc(c.s.err.code, code);
    assert_int_equal(t.writes, writes);
    assert_int_equal(t.steps_left(), 0);
}

void connect_unknown_plugin_switch(Feed feed) {
    expect_connect_failure(feed, Errc::auth, 1, [](Connect &, Transport &t) {
        t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        t.server(switch_packet("dialog", "\x04Password: "), 2);
    });
    // The name in the message is the server's only when it is a plain identifier.
    Connect c;
    Transport t(feed);
    t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
    t.client(1, [](std::string_view) {});
    t.server(switch_packet("evil\x1b[2Jname", "x"), 2);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::error));
    assert_errc(c.s.err.code, Errc::auth);
    assert_true(c.s.err.message.find('\x1b') == std::string::npos);
}

void connect_old_password_switch(Feed feed) {
    // The old 1-byte form, and the named form.
    expect_connect_failure(feed, Errc::auth, 1, [](Connect &, Transport &t) {
        t.server(greeting("5.0.96", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        t.server(Bytes{0xFE}.str(), 2);
    });
    expect_connect_failure(feed, Errc::auth, 1, [](Connect &, Transport &t) {
        t.server(greeting("5.0.96", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        t.server(switch_packet("mysql_old_password", "12345678"), 2);
    });
}

void connect_too_many_round_trips(Feed feed) {
    // Every auth packet is a round trip; the 9th switch is refused unanswered.
    expect_connect_failure(feed, Errc::auth, 1 + HandshakeOp::max_auth_round_trips,
                           [](Connect &c, Transport &t) {
        t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        std::uint8_t seq = 2;
        for (int i = 0; i <= HandshakeOp::max_auth_round_trips; ++i) {
            std::string ch = scramble20;
            ch[0] = static_cast<char>('a' + i);
            t.server(switch_packet("mysql_native_password", ch), seq++);
            if (i < HandshakeOp::max_auth_round_trips) t.client(native_reference(c.opts.password, ch), seq++);
        }
    });
    // Fewer switches are fine.
    Connect c;
    c.opts.password = "pw";
    Transport t(feed);
    t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
    t.client(1, [](std::string_view) {});
    std::uint8_t seq = 2;
    for (int i = 0; i < HandshakeOp::max_auth_round_trips - 1; ++i) {
        std::string ch = scramble20;
        ch[1] = static_cast<char>('A' + i);
        t.server(switch_packet("mysql_native_password", ch), seq++);
        t.client(native_reference("pw", ch), seq++);
    }
    t.server(ok_packet(0, 2), seq);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
}

void connect_auth_more_data_unexpected(Feed feed) {
    // Neither built-in plugin takes AuthMoreData.
    expect_connect_failure(feed, Errc::protocol, 1, [](Connect &, Transport &t) {
        t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        t.server(Bytes().u8(0x01).u8(0x04).str(), 2);  // "perform full authentication"
    });
}

void connect_err_greeting(Feed feed) {
    Connect c;
    Transport t(feed);
    t.server(err_packet(1040, "", "Too many connections"), 0);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::error));
    assert_errc(c.s.err.code, Errc::server);
    assert_int_equal(c.s.err.server_errno, 1040);
    assert_sv_equal(std::string_view(c.s.err.sqlstate, 5), "HY000");
    assert_sv_equal(c.s.err.message, "Too many connections");
    assert_int_equal(t.writes, 0);
}

void connect_access_denied(Feed feed) {
    expect_connect_failure(feed, Errc::server, 1, [](Connect &, Transport &t) {
        t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        t.server(err_packet(1045, "28000", "Access denied for user 'u'@'localhost'"), 2);
    });
}

void connect_unsupported_servers(Feed feed) {
    // A 4.0 server.
    expect_connect_failure(feed, Errc::unsupported, 0, [](Connect &, Transport &t) {
        t.server(Bytes().u8(10).nul("4.0.30").u32(1).str("abcdefgh").u8(0).u16(0x202C).u8(8).u16(2)
                     .fill(13, 0).str(),
                 0);
    });
    // No secure connection.
    expect_connect_failure(feed, Errc::unsupported, 0, [](Connect &, Transport &t) {
        t.server(greeting("5.0.1", mysql8_caps & ~cap::secure_connection, 0, "mysql_native_password"), 0);
    });
    // A database but no CONNECT_WITH_DB.
    expect_connect_failure(feed, Errc::unsupported, 0, [](Connect &c, Transport &t) {
        c.opts.database = "db";
        t.server(greeting("8.0.36", mysql8_caps & ~cap::connect_with_db, 0, "mysql_native_password"), 0);
    });
    // Garbage.
    expect_connect_failure(feed, Errc::protocol, 0, [](Connect &, Transport &t) {
        t.server("\x0a" "8.0", 0);
    });
    // A greeting out of sequence.
    expect_connect_failure(feed, Errc::protocol, 0, [](Connect &, Transport &t) {
        t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 1);
    });
}

void test_mfa_next_factor(void **) {
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "one";
    c.opts.password2 = "two";
    c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0));
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
    assert_true(c.s.capabilities & cap::multi_factor_auth);
    c.s.wbuf.clear();
    std::string fresh = "abcdefghijKLMNOPQRST";
    c.s.rbuf.append(framed(Bytes().u8(0x02).nul("mysql_native_password").str(fresh).str(), 2));
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
    assert_sv_equal(written(c.s).substr(4), native_reference("two", fresh));
    c.s.wbuf.clear();
    // A third factor without password3: a clear error, nothing sent.
    c.s.rbuf.append(framed(Bytes().u8(0x02).nul("mysql_native_password").str(fresh).str(), 4));
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::error));
    assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::auth));
    assert_true(c.s.err.message.find("password3") != std::string::npos);
    assert_int_equal(c.s.wbuf.size(), 0);
}

void test_greeting_plugin_used(void **) {
    // The server's default plugin (a name too long for the small-string
    // buffer) starts the login when mywire has it.
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "pw";
    c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps, 0, "caching_sha2_password"), 0));
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
    Response r = parse_response(written(c.s).substr(4));
    assert_sv_equal(r.plugin, "caching_sha2_password");
    assert_int_equal(r.auth.size(), 32);
}

void test_auth_plugins_allow_list(void **) {
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "pw";
    c.opts.auth_plugins = {"mysql_native_password"};
    c.s.rbuf.append(framed(greeting("5.5.5-10.11.6-MariaDB", mariadb_caps, 0x1D, "mysql_native_password"), 0));
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
    c.s.wbuf.clear();
    c.s.rbuf.append(framed(switch_packet("client_ed25519", challenge32(3)), 2));
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::error));
    assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::auth));
    assert_true(c.s.err.message.find("auth_plugins") != std::string::npos);
    assert_int_equal(c.s.wbuf.size(), 0);
}

FEEDS(connect_native_mysql8)
FEEDS(connect_mariadb_caps)
FEEDS(connect_unknown_default_plugin)
FEEDS(connect_switch_native_to_ed25519)
FEEDS(connect_switch_ed25519_to_native)
FEEDS(connect_ed25519_nonce_ending_in_nul)
FEEDS(connect_unknown_plugin_switch)
FEEDS(connect_old_password_switch)
FEEDS(connect_too_many_round_trips)
FEEDS(connect_auth_more_data_unexpected)
FEEDS(connect_err_greeting)
FEEDS(connect_access_denied)
FEEDS(connect_unsupported_servers)

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_native_mysql8),
        cmocka_unit_test(test_connect_mariadb_caps),
        cmocka_unit_test(test_connect_unknown_default_plugin),
        cmocka_unit_test(test_connect_switch_native_to_ed25519),
        cmocka_unit_test(test_connect_switch_ed25519_to_native),
        cmocka_unit_test(test_connect_ed25519_nonce_ending_in_nul),
        cmocka_unit_test(test_connect_unknown_plugin_switch),
        cmocka_unit_test(test_connect_old_password_switch),
        cmocka_unit_test(test_connect_too_many_round_trips),
        cmocka_unit_test(test_connect_auth_more_data_unexpected),
        cmocka_unit_test(test_connect_err_greeting),
        cmocka_unit_test(test_connect_access_denied),
        cmocka_unit_test(test_connect_unsupported_servers),
        cmocka_unit_test(test_mfa_next_factor),
        cmocka_unit_test(test_greeting_plugin_used),
        cmocka_unit_test(test_auth_plugins_allow_list),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
