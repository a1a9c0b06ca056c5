// Parsers and builders of messages.hpp on bytes: each valid payload, every
// prefix of it (truncated twins) and corrupted twins.
#include "proto/messages.hpp"

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "unit.hpp"

using namespace mywire::proto;
using unit::Bytes;
using unit::check_prefixes;
using unit::Errc;
using unit::Exact;

namespace {

const std::string scramble20 = "abcdefghij0123456789";

// ------------------------------------------------------------ greetings

struct Greeting {
    Bytes bytes;
    std::size_t caps_low_end = 0;  // offset just past the low capability flags
    std::size_t reserved_end = 0;  // offset just past the 10 reserved bytes
};

// A v10 greeting with every part present.
Greeting greeting(std::string_view version, std::uint32_t caps, std::uint32_t ext_caps,
                  std::string_view scramble, std::string_view plugin, bool plugin_nul = true,
                  unsigned auth_len = 21) {
    Greeting g;
    g.bytes.u8(10).nul(version).u32(0x01020304).str(scramble.substr(0, 8)).u8(0).u16(caps & 0xFFFF);
    g.caps_low_end = g.bytes.size();
    g.bytes.u8(45).u16(0x0002).u16(caps >> 16).u8(auth_len).fill(6, 0).u32(ext_caps);
    g.reserved_end = g.bytes.size();
    g.bytes.str(scramble.substr(8)).u8(0);
    if (plugin_nul)
        g.bytes.nul(plugin);
    else
        g.bytes.str(plugin);
    return g;
}

constexpr std::uint32_t mysql8_caps = 0xDFFFFFFF;  // includes CLIENT_LONG_PASSWORD (bit 0)
constexpr std::uint32_t mariadb_caps = 0x81FFF7FE; // bit 0 clear: "I am MariaDB"

void test_handshake_mysql8(void **) {
    Greeting g = greeting("8.0.36", mysql8_caps, 0x12345678, scramble20, "caching_sha2_password");
    Exact in(g.bytes.view());
    Handshake hs;
    assert_errc(parse_handshake(in.view(), hs), Errc::ok);
    assert_int_equal(hs.protocol_version, 10);
    assert_sv_equal(hs.server_version, "8.0.36");
    assert_int_equal(hs.connection_id, 0x01020304);
    assert_sv_equal(hs.scramble, scramble20);
    assert_int_equal(hs.capabilities, mysql8_caps);
    assert_int_equal(hs.mariadb_capabilities, 0);  // ignored: not MariaDB
    assert_int_equal(hs.charset, 45);
    assert_int_equal(hs.status_flags, 2);
    assert_sv_equal(hs.auth_plugin, "caching_sha2_password");
    assert_false(hs.is_mariadb);
}

void test_handshake_mariadb(void **) {
    Greeting g = greeting("5.5.5-10.11.6-MariaDB-0+deb12u1", mariadb_caps, 0x1D, scramble20,
                          "mysql_native_password");
    Exact in(g.bytes.view());
    Handshake hs;
    assert_errc(parse_handshake(in.view(), hs), Errc::ok);
    assert_sv_equal(hs.server_version, "10.11.6-MariaDB-0+deb12u1");
    assert_true(hs.is_mariadb);
    assert_int_equal(hs.capabilities, mariadb_caps);
    assert_int_equal(hs.mariadb_capabilities, 0x1D);
    assert_sv_equal(hs.scramble, scramble20);
    assert_sv_equal(hs.auth_plugin, "mysql_native_password");

    // Newer MariaDB: no "5.5.5-" prefix; still MariaDB by its extended caps.
    Greeting g2 = greeting("11.4.2-MariaDB", mariadb_caps, 0x1D, scramble20, "mysql_native_password");
    Exact in2(g2.bytes.view());
    assert_errc(parse_handshake(in2.view(), hs), Errc::ok);
    assert_sv_equal(hs.server_version, "11.4.2-MariaDB");
    assert_true(hs.is_mariadb);

    // A MySQL server whose version happens to start with 5.5.5- keeps it.
    Greeting g3 = greeting("5.5.5-mysql", mysql8_caps, 0, scramble20, "mysql_native_password");
    Exact in3(g3.bytes.view());
    assert_errc(parse_handshake(in3.view(), hs), Errc::ok);
    assert_sv_equal(hs.server_version, "5.5.5-mysql");
    assert_false(hs.is_mariadb);
}

void test_handshake_plugin_without_nul(void **) {
    Greeting g = greeting("5.5.8", mysql8_caps, 0, scramble20, "mysql_native_password", false);
    Exact in(g.bytes.view());
    Handshake hs;
    assert_errc(parse_handshake(in.view(), hs), Errc::ok);
    assert_sv_equal(hs.auth_plugin, "mysql_native_password");
    assert_sv_equal(hs.scramble, scramble20);
}

void test_handshake_without_plugin_auth(void **) {
    // No CLIENT_PLUGIN_AUTH: nothing after the scramble, the name stays empty.
    std::uint32_t caps = mysql8_caps & ~cap::plugin_auth;
    Greeting g = greeting("5.1.73", caps, 0, scramble20, "");
    std::string bytes(g.bytes.view().substr(0, g.reserved_end + 13));
    Exact in(bytes);
    Handshake hs;
    assert_errc(parse_handshake(in.view(), hs), Errc::ok);
    assert_sv_equal(hs.scramble, scramble20);
    assert_sv_equal(hs.auth_plugin, "");
}

void test_handshake_pre41(void **) {
    // A 4.0 server: protocol 10 but no CLIENT_PROTOCOL_41.
    std::uint32_t caps = 0x202C;  // long_flag, connect_with_db, compress, transactions
    Bytes b;
    b.u8(10).nul("4.0.30").u32(7).str("abcdefgh").u8(0).u16(caps).u8(8).u16(2).fill(13, 0);
    Exact in(b.view());
    Handshake hs;
    assert_errc(parse_handshake(in.view(), hs), Errc::unsupported);
    // The shortest form, ending after the capability flags.
    Exact short_in(b.view().substr(0, b.size() - 16));
    assert_errc(parse_handshake(short_in.view(), hs), Errc::unsupported);
}

void test_handshake_other_protocol_version(void **) {
    Greeting g = greeting("8.0.36", mysql8_caps, 0, scramble20, "mysql_native_password");
    std::string bytes(g.bytes.view());
    for (unsigned v : {0u, 9u, 11u, 0xFFu}) {
        bytes[0] = static_cast<char>(v);
        Exact in(bytes);
        Handshake hs;
        assert_errc(parse_handshake(in.view(), hs), Errc::protocol);
    }
}

Errc parse_greeting(std::string_view p) {
    Handshake hs;
    return parse_handshake(p, hs);
}

// Every prefix of a full greeting: what the protocol makes optional may end
// the packet (after the low capability flags; inside the plugin name, which
// some servers do not NUL-terminate); anything else is a truncation. Prefixes
// ending inside scramble part 2 are left to test_handshake_truncated_scramble.
void test_handshake_prefixes(void **) {
    Greeting my = greeting("8.0.36", mysql8_caps, 0, scramble20, "caching_sha2_password");
    Greeting ma = greeting("5.5.5-10.11.6-MariaDB", mariadb_caps, 0x1D, scramble20, "mysql_native_password");
    for (const Greeting *g : {&my, &ma}) {
        check_prefixes(g->bytes.view(), parse_greeting, [&](std::size_t n) -> std::optional<Errc> {
            if (n == g->caps_low_end) return Errc::ok;
            if (n < g->reserved_end) return Errc::protocol;
            if (n < g->reserved_end + 12) return std::nullopt;
            return Errc::ok;
        }, g == &my ? "mysql8 greeting" : "mariadb greeting");
    }
}

// A greeting that ends inside the 12 bytes of scramble part 2 (or whose
// auth-data length claims more than the packet holds) is truncated.
void test_handshake_truncated_scramble(void **) {
    Greeting my = greeting("8.0.36", mysql8_caps, 0, scramble20, "mysql_native_password");
    check_prefixes(my.bytes.view(), parse_greeting, [&](std::size_t n) -> std::optional<Errc> {
        if (n >= my.reserved_end && n < my.reserved_end + 12) return Errc::protocol;
        return std::nullopt;
    }, "greeting cut inside scramble part 2");
}

void test_handshake_auth_len_past_end(void **) {
    // auth_len 255: part 2 should be 247 bytes, the packet has 13 + name.
    Greeting lying = greeting("8.0.36", mysql8_caps, 0, scramble20, "mysql_native_password", true, 255);
    Exact in(lying.bytes.view());
    Handshake hs;
    assert_errc(parse_handshake(in.view(), hs), Errc::protocol);
}

void test_handshake_corrupted(void **) {
    Handshake hs;
    // No NUL after the server version: the version runs to the end.
    Bytes no_nul;
    no_nul.u8(10).str("8.0.36-no-terminator-at-all");
    Exact a(no_nul.view());
    assert_errc(parse_handshake(a.view(), hs), Errc::protocol);
    // Trailing garbage after a complete greeting (the name has its NUL) is ignored.
    Greeting g = greeting("8.0.36", mysql8_caps, 0, scramble20, "mysql_native_password");
    Bytes extra = g.bytes;
    extra.str("junk");
    Exact b(extra.view());
    assert_errc(parse_handshake(b.view(), hs), Errc::ok);
    assert_sv_equal(hs.auth_plugin, "mysql_native_password");
}

// ---------------------------------------------------- handshake response

std::string bytes_of(const std::vector<std::uint8_t> &v) { return std::string(v.begin(), v.end()); }

void test_handshake_response_full(void **) {
    std::vector<std::pair<std::string, std::string>> attrs = {
        {"_client_name", "libmywire"},
        {"k", std::string(300, 'v')},
    };
    std::string auth(20, '\x9c');
    HandshakeResponse r;
    r.capabilities = cap::protocol_41 | cap::secure_connection | cap::long_flag | cap::transactions |
                     cap::multi_results | cap::plugin_auth | cap::plugin_auth_lenenc_data |
                     cap::connect_attrs | cap::connect_with_db | cap::deprecate_eof;
    r.max_packet = 0x01000000;
    r.charset = 45;
    r.user = "alice";
    r.auth_response = auth;
    r.database = "shop";
    r.auth_plugin = "mysql_native_password";
    r.attributes = &attrs;
    std::vector<std::uint8_t> out = {0xEE};  // appends after what is there
    build_handshake_response(out, r);

    Bytes want;
    want.u8(0xEE).u32(r.capabilities).u32(0x01000000).u8(45).fill(23, 0);
    want.nul("alice").lenenc(20).str(auth).nul("shop").nul("mysql_native_password");
    // Attributes: 13 + 10 + 2 + 303 bytes.
    want.lenenc(328).lenstr("_client_name").lenstr("libmywire").lenstr("k").lenstr(std::string(300, 'v'));
    assert_sv_equal(bytes_of(out), want.view());
}

void test_handshake_response_minimal(void **) {
    // No lenenc auth data (1-byte length), no database, plugin or attributes,
    // MariaDB's extended capabilities in the last 4 filler bytes.
    std::vector<std::pair<std::string, std::string>> attrs = {{"a", "b"}};
    std::string auth(20, '\x01');
    HandshakeResponse r;
    r.capabilities = cap::protocol_41 | cap::secure_connection;
    r.mariadb_capabilities = 0x0000001D;
    r.max_packet = 1024;
    r.charset = 33;
    r.user = "";
    r.auth_response = auth;
    r.database = "ignored";
    r.auth_plugin = "ignored";
    r.attributes = &attrs;  // not sent: no CLIENT_CONNECT_ATTRS
    std::vector<std::uint8_t> out;
    build_handshake_response(out, r);
    Bytes want;
    want.u32(r.capabilities).u32(1024).u8(33).fill(19, 0).u32(0x1D).nul("").u8(20).str(auth);
    assert_sv_equal(bytes_of(out), want.view());

    // An empty password: a zero length, nothing else.
    r.auth_response = {};
    out.clear();
    build_handshake_response(out, r);
    Bytes want_empty;
    want_empty.u32(r.capabilities).u32(1024).u8(33).fill(19, 0).u32(0x1D).nul("").u8(0);
    assert_sv_equal(bytes_of(out), want_empty.view());
}

void test_handshake_response_long_auth_and_empty_attrs(void **) {
    std::vector<std::pair<std::string, std::string>> attrs;
    std::string auth(300, 'A');
    HandshakeResponse r;
    r.capabilities = cap::protocol_41 | cap::secure_connection | cap::plugin_auth_lenenc_data |
                     cap::connect_attrs;
    r.max_packet = 0xFFFFFFFF;
    r.user = "u";
    r.auth_response = auth;
    r.attributes = &attrs;
    std::vector<std::uint8_t> out;
    build_handshake_response(out, r);
    Bytes want;
    want.u32(r.capabilities).u32(0xFFFFFFFF).u8(45).fill(23, 0).nul("u");
    want.u8(0xFC).u16(300).str(auth).u8(0);  // lenenc 300, then an empty attribute block
    assert_sv_equal(bytes_of(out), want.view());
}

// ------------------------------------------------------------------- OK

void test_ok_plain(void **) {
    Exact in(Bytes{0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}.view());
    OkPacket ok;
    assert_errc(parse_ok(in.view(), cap::protocol_41, ok), Errc::ok);
    assert_int_equal(ok.affected_rows, 0);
    assert_int_equal(ok.last_insert_id, 0);
    assert_int_equal(ok.status_flags, 2);
    assert_int_equal(ok.warnings, 0);
    assert_sv_equal(ok.info, "");
    check_prefixes(in.view(), [](std::string_view p) {
        OkPacket o;
        return parse_ok(p, cap::protocol_41, o);
    }, nullptr, "plain OK");
}

void test_ok_with_info(void **) {
    Bytes b;
    b.u8(0).u8(0xFC).u16(300).u8(5).u16(0x0022).u16(1).str("Rows matched: 1  Changed: 1  Warnings: 1");
    Exact in(b.view());
    OkPacket ok;
    assert_errc(parse_ok(in.view(), cap::protocol_41, ok), Errc::ok);
    assert_int_equal(ok.affected_rows, 300);
    assert_int_equal(ok.last_insert_id, 5);
    assert_int_equal(ok.status_flags, 0x22);
    assert_int_equal(ok.warnings, 1);
    assert_sv_equal(ok.info, "Rows matched: 1  Changed: 1  Warnings: 1");
    // The info is the rest of the packet: any prefix past the fixed part is an OK with less info.
    check_prefixes(in.view(), [](std::string_view p) {
        OkPacket o;
        return parse_ok(p, cap::protocol_41, o);
    }, [](std::size_t n) -> std::optional<Errc> { return n < 9 ? Errc::protocol : Errc::ok; }, "OK with info");
}

// What MySQL and MariaDB servers actually send without CLIENT_SESSION_TRACK:
// the info as a length-encoded string (documented as string<EOF>).
void test_ok_with_lenenc_info(void **) {
    std::string info = "Records: 3  Duplicates: 0  Warnings: 0";
    Bytes b;
    b.u8(0).u8(3).u8(0).u16(2).u16(0).lenstr(info);
    Exact in(b.view());
    OkPacket ok;
    assert_errc(parse_ok(in.view(), cap::protocol_41, ok), Errc::ok);
    assert_int_equal(ok.affected_rows, 3);
    assert_sv_equal(ok.info, info);
    // A long one, with a 0xFC length.
    std::string long_info(300, 'i');
    Bytes l;
    l.u8(0).u8(0).u8(0).u16(2).u16(0).lenstr(long_info);
    Exact in2(l.view());
    assert_errc(parse_ok(in2.view(), cap::protocol_41, ok), Errc::ok);
    assert_sv_equal(ok.info, long_info);
}

void test_ok_session_track(void **) {
    const std::uint32_t caps = cap::protocol_41 | cap::session_track;
    Bytes state;
    state.u8(0).lenenc(12).lenstr("autocommit").u8(0);  // a system-variable entry (skipped)
    Bytes b;
    b.u8(0).u8(1).u8(0).u16(status::session_state_changed | status::autocommit).u16(0);
    b.lenstr("info text").lenstr(state.view());
    Exact in(b.view());
    OkPacket ok;
    assert_errc(parse_ok(in.view(), caps, ok), Errc::ok);
    assert_int_equal(ok.affected_rows, 1);
    assert_sv_equal(ok.info, "info text");
    // Only the packet that ends after warnings is complete short of the end.
    check_prefixes(in.view(), [&](std::string_view p) {
        OkPacket o;
        return parse_ok(p, caps, o);
    }, [](std::size_t n) -> std::optional<Errc> { return n == 7 ? Errc::ok : Errc::protocol; }, "session-track OK");

    // Info without state (the flag is clear).
    Bytes no_state;
    no_state.u8(0).u8(0).u8(0).u16(2).u16(0).lenstr("x");
    Exact in2(no_state.view());
    assert_errc(parse_ok(in2.view(), caps, ok), Errc::ok);
    assert_sv_equal(ok.info, "x");

    // The 0xFE header form (end of a result under DEPRECATE_EOF).
    Bytes fe;
    fe.u8(0xFE).u8(0).u8(0).u16(0x400A).u16(3).lenstr("").lenstr(state.view());
    Exact in3(fe.view());
    assert_errc(parse_ok(in3.view(), caps | cap::deprecate_eof, ok), Errc::ok);
    assert_int_equal(ok.status_flags, 0x400A);
    assert_int_equal(ok.warnings, 3);
    assert_sv_equal(ok.info, "");
}

void test_ok_corrupted(void **) {
    const std::uint32_t caps = cap::protocol_41 | cap::session_track;
    OkPacket ok;
    struct Case {
        const char *what;
        Bytes bytes;
        std::uint32_t caps;
    } cases[] = {
        {"header 0x01", Bytes{0x01, 0, 0, 2, 0, 0, 0}, caps},
        {"header 0xFF", Bytes{0xFF, 0, 0, 2, 0, 0, 0}, caps},
        {"NULL as affected rows", Bytes{0x00, 0xFB, 0, 2, 0, 0, 0}, caps},
        {"0xFF lenenc as insert id", Bytes{0x00, 0, 0xFF, 2, 0, 0, 0}, caps},
        {"lenenc past the end", Bytes{0x00, 0xFE, 1, 0, 0, 0, 0, 0}, caps},
        {"info longer than the packet", Bytes{0x00, 0, 0, 2, 0, 0, 0, 9, 'a', 'b'}, caps},
        {"info length 0xFB", Bytes{0x00, 0, 0, 2, 0, 0, 0, 0xFB, 'a'}, caps},
        {"state longer than the packet", Bytes{0x00, 0, 0, 2, 0x40, 0, 0, 1, 'a', 5, 'b'}, caps},
        {"state flag, no state", Bytes{0x00, 0, 0, 2, 0x40, 0, 0, 1, 'a'}, caps},
    };
    for (auto &c : cases) {
        Exact in(c.bytes.view());
        if (parse_ok(in.view(), c.caps, ok) != Errc::protocol) {
            print_error("OK corrupted case '%s' accepted\n", c.what);
            fail();
        }
    }
}

// ------------------------------------------------------------------ ERR

void test_err_with_sqlstate(void **) {
    Bytes b;
    b.u8(0xFF).u16(1146).str("#42S02").str("Table 'x.y' doesn't exist");
    Exact in(b.view());
    ErrPacket e;
    assert_errc(parse_err(in.view(), cap::protocol_41, e), Errc::ok);
    assert_int_equal(e.code, 1146);
    assert_sv_equal(e.sqlstate, "42S02");
    assert_sv_equal(e.message, "Table 'x.y' doesn't exist");
    check_prefixes(in.view(), [](std::string_view p) {
        ErrPacket x;
        return parse_err(p, cap::protocol_41, x);
    }, [](std::size_t n) -> std::optional<Errc> { return n == 3 || n >= 9 ? Errc::ok : Errc::protocol; }, "ERR");

    // Without protocol 4.1 the '#' is part of the message.
    assert_errc(parse_err(in.view(), 0, e), Errc::ok);
    assert_sv_equal(e.sqlstate, "");
    assert_sv_equal(e.message, "#42S02Table 'x.y' doesn't exist");
}

void test_err_without_sqlstate(void **) {
    Bytes b;
    b.u8(0xFF).u16(1040).str("Too many connections");
    Exact in(b.view());
    ErrPacket e;
    assert_errc(parse_err(in.view(), cap::protocol_41, e), Errc::ok);
    assert_int_equal(e.code, 1040);
    assert_sv_equal(e.sqlstate, "");
    assert_sv_equal(e.message, "Too many connections");
    // Empty message.
    Exact bare(Bytes{0xFF, 0x10, 0x04}.view());
    assert_errc(parse_err(bare.view(), cap::protocol_41, e), Errc::ok);
    assert_sv_equal(e.message, "");
}

void test_err_corrupted(void **) {
    ErrPacket e;
    Exact ok_header(Bytes{0x00, 0x10, 0x04, 'x'}.view());
    assert_errc(parse_err(ok_header.view(), cap::protocol_41, e), Errc::protocol);
    Exact short_state(Bytes{0xFF, 0x10, 0x04, '#', 'H', 'Y'}.view());
    assert_errc(parse_err(short_state.view(), cap::protocol_41, e), Errc::protocol);
}

// ------------------------------------------------------------------ EOF

void test_eof(void **) {
    Exact in(Bytes{0xFE, 0x01, 0x00, 0x0A, 0x00}.view());
    EofPacket eof;
    assert_errc(parse_eof(in.view(), eof), Errc::ok);
    assert_int_equal(eof.warnings, 1);
    assert_int_equal(eof.status_flags, 0x0A);
    // Prefix of 1 byte is the pre-4.1 EOF (just 0xFE).
    check_prefixes(in.view(), [](std::string_view p) {
        EofPacket x;
        return parse_eof(p, x);
    }, [](std::size_t n) -> std::optional<Errc> { return n == 1 ? Errc::ok : Errc::protocol; }, "EOF");

    Exact wrong_header(Bytes{0x00, 0x00, 0x00, 0x02, 0x00}.view());
    assert_errc(parse_eof(wrong_header.view(), eof), Errc::protocol);
    // 9 bytes or more is not an EOF packet (it is a row or an OK).
    Exact too_long(Bytes{0xFE, 0, 0, 2, 0, 0, 0, 0, 0}.view());
    assert_errc(parse_eof(too_long.view(), eof), Errc::protocol);
}

void test_markers(void **) {
    Exact eof(Bytes{0xFE, 0, 0, 2, 0}.view());
    assert_true(is_end_marker(eof.view(), false));
    assert_true(is_end_marker(eof.view(), true));
    // A text row starting with a 0xFE length is at least 9 bytes.
    Bytes row;
    row.u8(0xFE).u64(3).str("abc");
    assert_false(is_end_marker(row.view(), false));
    // Under DEPRECATE_EOF, an OK with a long info is still the end.
    Bytes ok;
    ok.u8(0xFE).u8(0).u8(0).u16(2).u16(0).str(std::string(100, 'i'));
    assert_true(is_end_marker(ok.view(), true));
    assert_false(is_end_marker("", true));
    assert_false(is_end_marker(std::string_view("\x00", 1), true));
    assert_true(is_ok(std::string_view("\x00", 1)));
    assert_false(is_ok(""));
    assert_true(is_err("\xFF"));
    assert_false(is_err("\xFE"));
    // A row of 16 MiB or more under DEPRECATE_EOF is a row.
    std::string huge(0xFFFFFF, 'x');
    huge[0] = static_cast<char>(0xFE);
    assert_false(is_end_marker(huge, true));
}

// ------------------------------------------------------------ auth switch

void test_auth_switch_native(void **) {
    Bytes b;
    b.u8(0xFE).nul("mysql_native_password").str(scramble20).u8(0);
    Exact in(b.view());
    AuthSwitch sw;
    assert_errc(parse_auth_switch(in.view(), sw), Errc::ok);
    assert_sv_equal(sw.plugin, "mysql_native_password");
    // The 20-byte challenge, with or without the NUL the server appends.
    assert_true(sw.data.size() == 20 || sw.data.size() == 21);
    assert_sv_equal(sw.data.substr(0, 20), scramble20);
    std::size_t name_end = 1 + std::strlen("mysql_native_password");  // offset of its NUL
    check_prefixes(in.view(), [](std::string_view p) {
        AuthSwitch x;
        return parse_auth_switch(p, x);
    }, [&](std::size_t n) -> std::optional<Errc> {
        if (n == 1) return Errc::unsupported;  // the old-style 1-byte switch
        return n <= name_end ? Errc::protocol : Errc::ok;
    }, "auth switch");
}

// The ed25519 challenge is 32 raw bytes with no terminator: a last byte of
// 0x00 is part of it (1 in 256 challenges).
void test_auth_switch_ed25519_challenge_ending_in_nul(void **) {
    std::string challenge(32, '\x5a');
    challenge[31] = '\0';
    Bytes b;
    b.u8(0xFE).nul("client_ed25519").str(challenge);
    Exact in(b.view());
    AuthSwitch sw;
    assert_errc(parse_auth_switch(in.view(), sw), Errc::ok);
    assert_sv_equal(sw.plugin, "client_ed25519");
    assert_int_equal(sw.data.size(), 32);
    assert_sv_equal(sw.data, challenge);
}

void test_auth_switch_forms(void **) {
    AuthSwitch sw;
    Exact old_style(Bytes{0xFE}.view());
    assert_errc(parse_auth_switch(old_style.view(), sw), Errc::unsupported);
    Exact no_nul(Bytes().u8(0xFE).str("mysql_native_password").view());
    assert_errc(parse_auth_switch(no_nul.view(), sw), Errc::protocol);
    Exact empty_name(Bytes().u8(0xFE).u8(0).str("data").view());
    assert_errc(parse_auth_switch(empty_name.view(), sw), Errc::protocol);
    Exact wrong_header(Bytes().u8(0x01).nul("x").view());
    assert_errc(parse_auth_switch(wrong_header.view(), sw), Errc::protocol);
    Exact no_data(Bytes().u8(0xFE).nul("client_ed25519").view());
    assert_errc(parse_auth_switch(no_data.view(), sw), Errc::ok);
    assert_sv_equal(sw.data, "");
}

void test_auth_more_data(void **) {
    std::string_view data;
    Exact in(Bytes().u8(0x01).str("\x03more").view());
    assert_errc(parse_auth_more_data(in.view(), data), Errc::ok);
    assert_sv_equal(data, "\x03more");
    Exact bare(Bytes{0x01}.view());
    assert_errc(parse_auth_more_data(bare.view(), data), Errc::ok);
    assert_sv_equal(data, "");
    assert_errc(parse_auth_more_data("", data), Errc::protocol);
    Exact wrong(Bytes{0x02, 'x'}.view());
    assert_errc(parse_auth_more_data(wrong.view(), data), Errc::protocol);
}

// --------------------------------------------------------- column count

void test_column_count(void **) {
    struct Case {
        Bytes bytes;
        Errc rc;
        std::uint64_t count;
    } cases[] = {
        {Bytes{0x01}, Errc::ok, 1},
        {Bytes{0xFA}, Errc::ok, 250},
        {Bytes{0xFC, 0x00, 0x01}, Errc::ok, 256},
        {Bytes{0xFD, 0x00, 0x00, 0x01}, Errc::ok, 65536},
        {Bytes{0x00}, Errc::protocol, 0},        // zero columns is not a result set
        {Bytes{0xFC, 0x00, 0x00}, Errc::protocol, 0},  // zero in a long form
        {Bytes{0xFB}, Errc::protocol, 0},        // NULL
        {Bytes{0xFF}, Errc::protocol, 0},
        {Bytes{0xFC, 0x00}, Errc::protocol, 0},  // truncated
        {Bytes{0x01, 0x00}, Errc::protocol, 0},  // trailing garbage
        {Bytes{}, Errc::protocol, 0},
    };
    int i = 0;
    for (auto &c : cases) {
        Exact in(c.bytes.view());
        std::uint64_t n = 0;
        Errc rc = parse_column_count(in.view(), n);
        if (rc != c.rc || (rc == Errc::ok && n != c.count)) {
            print_error("column count case %d: rc %d count %llu\n", i, unit::ec(rc),
                        static_cast<unsigned long long>(n));
            fail();
        }
        ++i;
    }
}

// ------------------------------------------------------ column definition

Bytes column_def_bytes(unsigned fixed_len = 0x0C) {
    Bytes b;
    b.lenstr("def").lenstr("shop").lenstr("t").lenstr("items").lenstr("n").lenstr("name");
    b.lenenc(fixed_len).u16(45).u32(1020).u8(0xFD).u16(0x1001).u8(2).u16(0);
    return b;
}

void test_column_def(void **) {
    Bytes b = column_def_bytes();
    Exact in(b.view());
    ColumnDef d;
    assert_errc(parse_column_def(in.view(), d), Errc::ok);
    assert_sv_equal(d.catalog, "def");
    assert_sv_equal(d.schema, "shop");
    assert_sv_equal(d.table, "t");
    assert_sv_equal(d.org_table, "items");
    assert_sv_equal(d.name, "n");
    assert_sv_equal(d.org_name, "name");
    assert_int_equal(d.charset, 45);
    assert_int_equal(d.length, 1020);
    assert_int_equal(d.type, 0xFD);
    assert_int_equal(d.flags, 0x1001);
    assert_int_equal(d.decimals, 2);
    check_prefixes(in.view(), [](std::string_view p) {
        ColumnDef x;
        return parse_column_def(p, x);
    }, nullptr, "column definition");

    // Empty strings everywhere, and a long (0xFC) name.
    Bytes e;
    std::string long_name(300, 'c');
    e.lenstr("").lenstr("").lenstr("").lenstr("").lenstr(long_name).lenstr("");
    e.lenenc(0x0C).u16(63).u32(0).u8(8).u16(0).u8(0).u16(0);
    Exact in2(e.view());
    assert_errc(parse_column_def(in2.view(), d), Errc::ok);
    assert_sv_equal(d.name, long_name);
    assert_sv_equal(d.catalog, "");
}

void test_column_def_corrupted(void **) {
    ColumnDef d;
    auto replace_first = [](unsigned byte) {
        std::string s(column_def_bytes().view());
        s[0] = static_cast<char>(byte);
        return s;
    };
    std::string null_catalog = replace_first(0xFB);
    Exact a(null_catalog);
    assert_errc(parse_column_def(a.view(), d), Errc::protocol);
    std::string ff_catalog = replace_first(0xFF);
    Exact b(ff_catalog);
    assert_errc(parse_column_def(b.view(), d), Errc::protocol);
    std::string lying = replace_first(0xF0);  // catalog of 240 bytes
    Exact c(lying);
    assert_errc(parse_column_def(c.view(), d), Errc::protocol);
    // The fixed-length block must hold the 10 bytes read from it.
    Bytes short_fixed = column_def_bytes(9);
    Exact e(short_fixed.view());
    assert_errc(parse_column_def(e.view(), d), Errc::protocol);
    // ... and not claim more than the packet holds.
    Bytes long_fixed = column_def_bytes(0x20);
    Exact f(long_fixed.view());
    assert_errc(parse_column_def(f.view(), d), Errc::protocol);
    Bytes null_fixed = column_def_bytes(0);
    std::string nf(null_fixed.view());
    nf[nf.size() - 13] = static_cast<char>(0xFB);
    Exact g(nf);
    assert_errc(parse_column_def(g.view(), d), Errc::protocol);
}

// -------------------------------------------------------------- text rows

struct Row {
    Bytes bytes;
    std::vector<std::string> values;  // "\xFF<NULL>" marks NULL
    std::size_t columns() const { return values.size(); }
};

const std::string null_mark = "\xFF<NULL>";

Row sample_row() {
    Row r;
    std::string v300(300, 'm');
    for (std::size_t i = 0; i < v300.size(); ++i) v300[i] = static_cast<char>('a' + i % 26);
    r.bytes.u8(0xFB).lenstr("").lenstr("abc").lenstr(v300);
    r.bytes.u8(0xFE).u64(3).str("xyz");  // an 8-byte length for a small value (accepted)
    r.bytes.u8(0xFB);
    r.values = {null_mark, "", "abc", v300, "xyz", null_mark};
    return r;
}

void check_values(const Row &r, const Value *vals) {
    for (std::size_t i = 0; i < r.columns(); ++i) {
        if (r.values[i] == null_mark) {
            assert_null(vals[i].data);
        } else {
            assert_non_null(vals[i].data);
            assert_sv_equal(std::string_view(vals[i].data, vals[i].len), r.values[i]);
        }
    }
}

void test_text_row(void **) {
    Row r = sample_row();
    Exact in(r.bytes.view(), 1);
    std::vector<Value> vals(r.columns());
    assert_errc(parse_text_row(in.view(), r.columns(), vals.data()), Errc::ok);
    check_values(r, vals.data());
    // NULL and the empty string differ.
    assert_null(vals[0].data);
    assert_non_null(vals[1].data);
    assert_int_equal(vals[1].len, 0);
    check_prefixes(in.view(), [&](std::string_view p) {
        std::vector<Value> v(r.columns());
        return parse_text_row(p, r.columns(), v.data());
    }, nullptr, "text row");
}

void test_text_row_fd_length(void **) {
    std::string v(70000, 'q');
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>(i * 7);
    Bytes b;
    b.lenstr("a").lenstr(v).lenstr("z");
    assert_int_equal(static_cast<unsigned char>(b.view()[2]), 0xFD);
    Exact in(b.view());
    Value vals[3];
    assert_errc(parse_text_row(in.view(), 3, vals), Errc::ok);
    assert_true(std::string_view(vals[1].data, vals[1].len) == v);
    assert_sv_equal(std::string_view(vals[2].data, vals[2].len), "z");
    // Prefixes (views into the exact copy; a heap copy each would be slow).
    for (std::size_t n = 0; n < b.size(); ++n)
        assert_errc(parse_text_row(in.view().substr(0, n), 3, vals), Errc::protocol);
}

void test_text_row_fe_length(void **) {
    std::string v(16777216, 'L');
    Bytes b;
    b.lenstr(v);
    assert_int_equal(static_cast<unsigned char>(b.view()[0]), 0xFE);
    Value val;
    assert_errc(parse_text_row(b.view(), 1, &val), Errc::ok);
    assert_int_equal(val.len, 16777216);
    assert_ptr_equal(val.data, b.view().data() + 9);
    assert_false(is_end_marker(b.view(), true));
    assert_false(is_end_marker(b.view(), false));
    for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(8), std::size_t(9), b.size() - 1})
        assert_errc(parse_text_row(b.view().substr(0, n), 1, &val), Errc::protocol);
}

void test_text_row_corrupted(void **) {
    struct Case {
        const char *what;
        Bytes bytes;
        std::size_t columns;
    } cases[] = {
        {"trailing garbage", Bytes().lenstr("a").lenstr("b").u8('!'), 2},
        {"trailing NULL marker", Bytes().lenstr("a").u8(0xFB), 1},
        {"0xFF length", Bytes().lenstr("a").u8(0xFF).str("bc"), 2},
        {"length past the end", Bytes().u8(5).str("abc"), 1},
        {"0xFC with one byte", Bytes().u8(0xFC).u8(1), 1},
        {"0xFD with two bytes", Bytes().u8(0xFD).u8(1).u8(0), 1},
        {"0xFE with seven bytes", Bytes().u8(0xFE).fill(7, 0), 1},
        {"0xFE length 2^63", Bytes().u8(0xFE).u64(1ull << 63).str("x"), 1},
        {"0xFE length 2^64-1", Bytes().u8(0xFE).u64(~0ull).str("x"), 1},
        {"fewer values than columns", Bytes().lenstr("a").lenstr("b"), 3},
        {"values but no columns", Bytes().lenstr("a"), 0},
    };
    for (auto &c : cases) {
        Exact in(c.bytes.view());
        std::vector<Value> v(c.columns + 1);
        Errc rc = parse_text_row(in.view(), c.columns, v.data());
        Exact in2(c.bytes.view(), 1);
        Errc rc2 = parse_text_row_in_place(in2.data(), in2.size(), c.columns, v.data());
        if (rc != Errc::protocol || rc2 != Errc::protocol) {
            print_error("text row case '%s': got %d / %d (in place)\n", c.what, unit::ec(rc), unit::ec(rc2));
            fail();
        }
    }
    // No columns and no bytes is a valid (empty) row.
    Value v;
    assert_errc(parse_text_row("", 0, &v), Errc::ok);
}

void test_text_row_in_place(void **) {
    Row r = sample_row();
    Exact in(r.bytes.view());
    std::vector<Value> vals(r.columns()), ref(r.columns());
    assert_errc(parse_text_row(r.bytes.view(), r.columns(), ref.data()), Errc::ok);
    assert_errc(parse_text_row_in_place(in.data(), in.size(), r.columns(), vals.data()), Errc::ok);
    check_values(r, vals.data());
    // Same offsets as the plain parse, and every value but the last ends with a NUL.
    for (std::size_t i = 0; i < r.columns(); ++i) {
        if (!vals[i].data) {
            assert_null(ref[i].data);
            continue;
        }
        assert_int_equal(vals[i].data - in.data(), ref[i].data - r.bytes.view().data());
        assert_int_equal(vals[i].len, ref[i].len);
        if (i + 1 < r.columns()) assert_int_equal(vals[i].data[vals[i].len], '\0');
    }
    // Every prefix fails in place too.
    for (std::size_t n = 0; n < r.bytes.size(); ++n) {
        Exact p(r.bytes.view().substr(0, n), 1);
        std::vector<Value> v(r.columns());
        assert_errc(parse_text_row_in_place(p.data(), n, r.columns(), v.data()), Errc::protocol);
    }
}

// -------------------------------------------------------------- commands

void test_commands(void **) {
    std::vector<std::uint8_t> out;
    build_command(out, command::ping);
    build_command(out, command::query, "SELECT 1");
    build_set_option(out, 1);
    Bytes want;
    want.u8(0x0E).u8(0x03).str("SELECT 1").u8(0x1B).u16(1);
    assert_sv_equal(bytes_of(out), want.view());
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_mysql8),
        cmocka_unit_test(test_handshake_mariadb),
        cmocka_unit_test(test_handshake_plugin_without_nul),
        cmocka_unit_test(test_handshake_without_plugin_auth),
        cmocka_unit_test(test_handshake_pre41),
        cmocka_unit_test(test_handshake_other_protocol_version),
        cmocka_unit_test(test_handshake_prefixes),
        cmocka_unit_test(test_handshake_truncated_scramble),
        cmocka_unit_test(test_handshake_auth_len_past_end),
        cmocka_unit_test(test_handshake_corrupted),
        cmocka_unit_test(test_handshake_response_full),
        cmocka_unit_test(test_handshake_response_minimal),
        cmocka_unit_test(test_handshake_response_long_auth_and_empty_attrs),
        cmocka_unit_test(test_ok_plain),
        cmocka_unit_test(test_ok_with_info),
        cmocka_unit_test(test_ok_with_lenenc_info),
        cmocka_unit_test(test_ok_session_track),
        cmocka_unit_test(test_ok_corrupted),
        cmocka_unit_test(test_err_with_sqlstate),
        cmocka_unit_test(test_err_without_sqlstate),
        cmocka_unit_test(test_err_corrupted),
        cmocka_unit_test(test_eof),
        cmocka_unit_test(test_markers),
        cmocka_unit_test(test_auth_switch_native),
        cmocka_unit_test(test_auth_switch_ed25519_challenge_ending_in_nul),
        cmocka_unit_test(test_auth_switch_forms),
        cmocka_unit_test(test_auth_more_data),
        cmocka_unit_test(test_column_count),
        cmocka_unit_test(test_column_def),
        cmocka_unit_test(test_column_def_corrupted),
        cmocka_unit_test(test_text_row),
        cmocka_unit_test(test_text_row_fd_length),
        cmocka_unit_test(test_text_row_fe_length),
        cmocka_unit_test(test_text_row_corrupted),
        cmocka_unit_test(test_text_row_in_place),
        cmocka_unit_test(test_commands),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
