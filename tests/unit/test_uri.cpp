// URI parsing (apply_uri) and setting options by name.
#include "options.hpp"

#include <string>

#include "unit.hpp"

using mywire::apply_uri;
using mywire::Error;
using mywire::Options;
using mywire::set_option_by_name;
using unit::Errc;

namespace {

void assert_same_options(const Options &a, const Options &b) {
    assert_sv_equal(a.host, b.host);
    assert_int_equal(a.port, b.port);
    assert_sv_equal(a.unix_socket, b.unix_socket);
    assert_sv_equal(a.user, b.user);
    assert_sv_equal(a.password, b.password);
    assert_sv_equal(a.database, b.database);
    assert_int_equal(a.connect_timeout_ms, b.connect_timeout_ms);
    assert_int_equal(a.read_timeout_ms, b.read_timeout_ms);
    assert_int_equal(a.write_timeout_ms, b.write_timeout_ms);
    assert_int_equal(a.max_allowed_packet, b.max_allowed_packet);
    assert_int_equal(a.max_result_bytes, b.max_result_bytes);
    assert_int_equal(a.max_columns, b.max_columns);
    assert_int_equal(a.multi_statements, b.multi_statements);
    assert_int_equal(a.charset, b.charset);
    assert_true(a.connect_attrs == b.connect_attrs);
}

Options parse_ok(std::string_view uri) {
    Options o;
    Error err;
    Errc rc = apply_uri(o, uri, err);
    if (rc != Errc::ok) {
        print_error("URI '%s' rejected: %s\n", std::string(uri).c_str(), err.message.c_str());
        fail();
    }
    return o;
}

// True when uri is refused with Errc::uri and nothing applied; prints why not.
bool refused(std::string_view uri) {
    Options o;
    Error err;
    Errc rc = apply_uri(o, uri, err);
    if (rc != Errc::uri || err.code != Errc::uri || err.message.rfind("invalid URI", 0) != 0) {
        print_error("URI '%s': got %d, expected Errc::uri\n", unit::printable(uri).c_str(), unit::ec(rc));
        return false;
    }
    Options fresh;
    if (o.host != fresh.host || o.user != fresh.user || o.password != fresh.password ||
        o.database != fresh.database || o.port != fresh.port || o.unix_socket != fresh.unix_socket) {
        print_error("URI '%s': refused but options changed\n", unit::printable(uri).c_str());
        return false;
    }
    return true;
}

void expect_uri_error(std::string_view uri) {
    if (!refused(uri)) fail();
}

// Every URI of the list is refused (all are tried before failing).
void expect_uri_errors(std::initializer_list<const char *> uris) {
    int wrong = 0;
    for (const char *uri : uris) wrong += !refused(uri);
    if (wrong) fail();
}

void test_user_only(void **) {
    Options o = parse_ok("mysql://alice@db.example.com");
    assert_sv_equal(o.user, "alice");
    assert_sv_equal(o.password, "");
    assert_sv_equal(o.host, "db.example.com");
    assert_int_equal(o.port, 3306);
    assert_sv_equal(o.database, "");
}

void test_user_password_port_db(void **) {
    Options o = parse_ok("mysql://alice:s3cret@db:3307/shop");
    assert_sv_equal(o.user, "alice");
    assert_sv_equal(o.password, "s3cret");
    assert_sv_equal(o.host, "db");
    assert_int_equal(o.port, 3307);
    assert_sv_equal(o.database, "shop");
    // An empty password is a password.
    Options e = parse_ok("mysql://bob:@h");
    assert_sv_equal(e.user, "bob");
    assert_sv_equal(e.password, "");
    // Only a host; nothing at all.
    Options h = parse_ok("mysql://h");
    assert_sv_equal(h.host, "h");
    assert_sv_equal(h.user, "");
    assert_same_options(parse_ok("mysql://"), Options{});
}

void test_percent_encoding(void **) {
    Options o = parse_ok("mysql://al%40ice:p%3Aw%2F%40%25%3f@h%2Dx:3307/my%20db%2f2?connect_timeout=5");
    assert_sv_equal(o.user, "al@ice");
    assert_sv_equal(o.password, "p:w/@%?");
    assert_sv_equal(o.host, "h-x");
    assert_sv_equal(o.database, "my db/2");
    assert_int_equal(o.connect_timeout_ms, 5);
    // Upper and lower case hex, a NUL-free UTF-8 value, and escapes in query keys and values.
    Options q = parse_ok("mysql://%C3%A9l%c3%a8ve@h?sock%65t=%2Ftmp%2Fs.sock&password=a%26b%3Dc");
    assert_sv_equal(q.user, "\xC3\xA9l\xC3\xA8ve");
    assert_sv_equal(q.unix_socket, "/tmp/s.sock");
    assert_sv_equal(q.password, "a&b=c");
    // A raw '@' in the password is tolerated (the last '@' ends the user info).
    Options at = parse_ok("mysql://u:p@ss@h");
    assert_sv_equal(at.password, "p@ss");
    assert_sv_equal(at.host, "h");
}

void test_ipv6(void **) {
    Options o = parse_ok("mysql://u@[::1]:3307");
    assert_sv_equal(o.host, "::1");
    assert_int_equal(o.port, 3307);
    Options p = parse_ok("mysql://[2001:db8::7]/d");
    assert_sv_equal(p.host, "2001:db8::7");
    assert_int_equal(p.port, 3306);
    assert_sv_equal(p.database, "d");
    Options z = parse_ok("mysql://[fe80::1%25eth0]:3310");
    assert_sv_equal(z.host, "fe80::1%eth0");
    assert_int_equal(z.port, 3310);
    expect_uri_error("mysql://[::1");
    expect_uri_error("mysql://[::1]3307");
    expect_uri_error("mysql://[::1]:99999");
}

void test_socket(void **) {
    Options o = parse_ok("mysql://u@localhost?socket=/run/mysqld/mysqld.sock");
    assert_sv_equal(o.unix_socket, "/run/mysqld/mysqld.sock");
    assert_sv_equal(o.host, "localhost");
    Options e = parse_ok("mysql://u@/db?socket=%2Frun%2Fm.sock");
    assert_sv_equal(e.unix_socket, "/run/m.sock");
    assert_sv_equal(e.host, "");
    assert_sv_equal(e.database, "db");
}

void test_every_key(void **) {
    Options o = parse_ok(
        "mysql://a:b@h:1/d?host=h2&port=4000&socket=/s&user=u2&password=p2&database=d2"
        "&connect_timeout=1500&read_timeout=2500&write_timeout=3500&max_allowed_packet=1048576"
        "&max_result_bytes=123456789&max_columns=100&multi_statements=true&charset=33");
    // Query parameters come after the authority and win.
    assert_sv_equal(o.host, "h2");
    assert_int_equal(o.port, 4000);
    assert_sv_equal(o.unix_socket, "/s");
    assert_sv_equal(o.user, "u2");
    assert_sv_equal(o.password, "p2");
    assert_sv_equal(o.database, "d2");
    assert_int_equal(o.connect_timeout_ms, 1500);
    assert_int_equal(o.read_timeout_ms, 2500);
    assert_int_equal(o.write_timeout_ms, 3500);
    assert_int_equal(o.max_allowed_packet, 1048576);
    assert_int_equal(o.max_result_bytes, 123456789);
    assert_int_equal(o.max_columns, 100);
    assert_true(o.multi_statements);
    assert_int_equal(o.charset, 33);

    for (const char *yes : {"1", "true", "on", "yes"})
        assert_true(parse_ok(std::string("mysql://h?multi_statements=") + yes).multi_statements);
    for (const char *no : {"0", "false", "off", "no"}) {
        Options m;
        m.multi_statements = true;
        Error err;
        assert_errc(apply_uri(m, std::string("mysql://h?multi_statements=") + no, err), Errc::ok);
        assert_false(m.multi_statements);
    }
    // Empty parameters are skipped; a lone '?' is fine.
    assert_same_options(parse_ok("mysql://?&&"), Options{});
    // Range ends that are allowed.
    Options r = parse_ok("mysql://h?max_allowed_packet=1024&max_columns=65535&charset=255"
                         "&connect_timeout=86400000&max_result_bytes=18446744073709551615&port=65535");
    assert_int_equal(r.max_allowed_packet, 1024);
    assert_int_equal(r.max_columns, 65535);
    assert_int_equal(r.charset, 255);
    assert_int_equal(r.connect_timeout_ms, 86400000);
    assert_int_equal(r.max_result_bytes, 18446744073709551615ull);
    assert_int_equal(r.port, 65535);
    Options big = parse_ok("mysql://h?max_allowed_packet=1073741824");
    assert_int_equal(big.max_allowed_packet, 1073741824);
}

void test_bad_keys_and_values(void **) {
    expect_uri_errors({
        "mysql://h?bogus=1",
        "mysql://h?HOST=x",  // keys are case-sensitive
        "mysql://h?port",    // no '='
        "mysql://h?=1",
        "mysql://h?multi_statements=maybe",
        "mysql://h?multi_statements=",
        "mysql://h?connect_timeout=86400001",
        "mysql://h?read_timeout=-1",
        "mysql://h?write_timeout=1s",
        "mysql://h?max_allowed_packet=1023",
        "mysql://h?max_allowed_packet=1073741825",
        "mysql://h?max_columns=0",
        "mysql://h?max_columns=65536",
        "mysql://h?charset=0",
        "mysql://h?charset=256",
        "mysql://h?charset=utf8mb4",
        "mysql://h?port=0",
        "mysql://h?port=",
        "mysql://h?max_result_bytes=18446744073709551616",
    });
}

void test_bad_escapes(void **) {
    expect_uri_errors({
        "mysql://u%4@h",       "mysql://u%zz@h",      "mysql://u%4g@h", "mysql://u:p%4@h",
        "mysql://u:p%@h",      "mysql://u@h%2/d",     "mysql://u@h/d%", "mysql://u@h/d%x1",
        "mysql://u@h?user=%4", "mysql://u@h?us%zr=x", "mysql://%",
    });
}

void test_bad_ports(void **) {
    expect_uri_errors({
        "mysql://h:0",     "mysql://h:65536", "mysql://h:abc",  "mysql://h:-1",
        "mysql://h:+1",    "mysql://h:3306x", "mysql://h: 3306", "mysql://h:18446744073709551617",
        "mysql://u@h:0/d",
    });
    assert_int_equal(parse_ok("mysql://h:1").port, 1);
}

void test_bad_scheme(void **) {
    expect_uri_errors({"", "mysql:/h", "mariadb://h", "MYSQL://h", "http://h", " mysql://h", "mysql"});
}

void test_empty_database(void **) {
    Options o = parse_ok("mysql://u@h/");
    assert_sv_equal(o.database, "");
    assert_sv_equal(o.host, "h");
    Options q = parse_ok("mysql://u@h/?read_timeout=7");
    assert_sv_equal(q.database, "");
    assert_int_equal(q.read_timeout_ms, 7);
}

// A URI that fails anywhere leaves every option as it was, even the parts
// parsed before the failure.
void test_failure_leaves_options_unchanged(void **) {
    Options before;
    before.host = "orig-host";
    before.port = 4444;
    before.unix_socket = "/orig.sock";
    before.user = "orig-user";
    before.password = "orig-pw";
    before.database = "orig-db";
    before.connect_timeout_ms = 11;
    before.read_timeout_ms = 12;
    before.write_timeout_ms = 13;
    before.max_allowed_packet = 4096;
    before.max_result_bytes = 5555;
    before.max_columns = 77;
    before.multi_statements = true;
    before.charset = 8;
    before.connect_attrs = {{"k", "v"}};
    const char *bad[] = {
        "mysql://new:newpw@newhost:1234/newdb?read_timeout=5&bogus=1",
        "mysql://new:newpw@newhost:0/newdb",
        "mysql://new:newpw@newhost:1234/new%zz",
        "mysql://new:new%@newhost",
        "mysql://new@[::1/db",
        "mysql://new@h?max_columns=1&max_columns=0",
        "postgres://new@h",
    };
    for (const char *uri : bad) {
        Options o = before;
        Error err;
        assert_errc(apply_uri(o, uri, err), Errc::uri);
        assert_same_options(o, before);
    }
    // And a valid one changes only what it names.
    Options o = before;
    Error err;
    assert_errc(apply_uri(o, "mysql://newhost?read_timeout=5", err), Errc::ok);
    assert_sv_equal(o.host, "newhost");
    assert_int_equal(o.read_timeout_ms, 5);
    o.host = before.host;
    o.read_timeout_ms = before.read_timeout_ms;
    assert_same_options(o, before);
}

void test_error_message_hides_password(void **) {
    Options o;
    Error err;
    assert_errc(apply_uri(o, "mysql://u:s3cr%zzet@h", err), Errc::uri);
    assert_true(err.message.find("s3cr") == std::string::npos);
    assert_errc(apply_uri(o, "mysql://u:s3cret@h?password=x&nope=1", err), Errc::uri);
    assert_true(err.message.find("s3cret") == std::string::npos);
}

// A %00 would put a NUL inside a value the handshake sends NUL-terminated
// (user, database) or hands to the OS as a C string (host, socket): the
// packet would end the field early and the rest would be read as other
// fields. Such URIs are refused.
void test_percent_nul_refused(void **) {
    expect_uri_errors({
        "mysql://ro%00ot@h",
        "mysql://u@h/db%00x",
        "mysql://u@ho%00st",
        "mysql://u@h?socket=/tmp/s%00x",
        "mysql://u@h?user=a%00b",
        "mysql://u@h?database=a%00b",
    });
}

void test_set_option_by_name(void **) {
    Options o;
    Error err;
    assert_errc(set_option_by_name(o, "port", "3310", err), Errc::ok);
    assert_int_equal(o.port, 3310);
    assert_errc(set_option_by_name(o, "nope", "1", err), Errc::option);
    assert_errc(err.code, Errc::option);
    assert_errc(set_option_by_name(o, "port", "x", err), Errc::option);
    assert_errc(set_option_by_name(o, "max_columns", "0", err), Errc::option);
    assert_int_equal(o.port, 3310);
    assert_int_equal(o.max_columns, 4096);
    assert_errc(mywire::set_port(o, 65536, err), Errc::option);
    assert_errc(mywire::set_max_allowed_packet(o, 1u << 30, err), Errc::ok);
    assert_errc(mywire::set_max_allowed_packet(o, (1u << 30) + 1, err), Errc::option);
    assert_errc(mywire::set_charset(o, 0, err), Errc::option);
    assert_errc(mywire::set_max_columns(o, 65535, err), Errc::ok);
}

void test_security_options(void **) {
    Options o;
    Error err;
    // Resolution of the default TLS mode.
    assert_int_equal(o.effective_ssl_mode(false), MYWIRE_SSL_MODE_PREFERRED);
    assert_int_equal(o.effective_ssl_mode(true), MYWIRE_SSL_MODE_DISABLED);
    assert_errc(set_option_by_name(o, "ssl-ca", "/ca.pem", err), Errc::ok);  // '-' reads as '_'
    assert_int_equal(o.effective_ssl_mode(false), MYWIRE_SSL_MODE_VERIFY_CA);
    assert_int_equal(o.effective_ssl_mode(true), MYWIRE_SSL_MODE_VERIFY_CA);
    assert_errc(set_option_by_name(o, "ssl_mode", "Verify_Identity", err), Errc::ok);
    assert_int_equal(o.ssl_mode, MYWIRE_SSL_MODE_VERIFY_IDENTITY);
    assert_errc(set_option_by_name(o, "ssl_mode", "verify-ca", err), Errc::ok);
    assert_int_equal(o.ssl_mode, MYWIRE_SSL_MODE_VERIFY_CA);
    assert_errc(set_option_by_name(o, "ssl_mode", "sometimes", err), Errc::option);
    assert_true(err.message.find("ssl_mode") != std::string::npos);
    assert_int_equal(o.ssl_mode, MYWIRE_SSL_MODE_VERIFY_CA);
    assert_errc(mywire::set_ssl_mode(o, 6, err), Errc::option);

    // tls_version: the lowest of a list; TLS 1.0/1.1 refused.
    assert_int_equal(o.tls_min_version, 0x0303);
    assert_errc(set_option_by_name(o, "tls_version", "TLSv1.3", err), Errc::ok);
    assert_int_equal(o.tls_min_version, 0x0304);
    assert_errc(set_option_by_name(o, "tls_version", "TLSv1.3, TLSv1.2", err), Errc::ok);
    assert_int_equal(o.tls_min_version, 0x0303);
    assert_errc(set_option_by_name(o, "tls_version", "TLSv1.1", err), Errc::option);
    assert_errc(set_option_by_name(o, "tls_version", "", err), Errc::option);

    // ssl_fingerprint: 64 hex digits, colons allowed.
    std::string hex64;
    for (int i = 0; i < 32; ++i) hex64 += "a" + std::to_string(i % 10);
    assert_errc(set_option_by_name(o, "ssl_fingerprint", hex64, err), Errc::ok);
    assert_int_equal(o.ssl_fingerprint.size(), 32);
    assert_int_equal(static_cast<unsigned char>(o.ssl_fingerprint[1]), 0xA1);
    std::string colons;
    for (int i = 0; i < 32; ++i) colons += (i ? ":" : "") + std::string("0F");
    assert_errc(set_option_by_name(o, "ssl_fingerprint", colons, err), Errc::ok);
    assert_int_equal(static_cast<unsigned char>(o.ssl_fingerprint[31]), 0x0F);
    assert_errc(set_option_by_name(o, "ssl_fingerprint", hex64.substr(2), err), Errc::option);
    assert_errc(set_option_by_name(o, "ssl_fingerprint", hex64 + "00", err), Errc::option);
    assert_errc(set_option_by_name(o, "ssl_fingerprint", "0:F" + hex64.substr(2), err), Errc::option);
    assert_errc(set_option_by_name(o, "ssl_fingerprint", hex64.substr(1) + "g", err), Errc::option);

    // Authentication and compression.
    assert_errc(set_option_by_name(o, "enable_cleartext_plugin", "yes", err), Errc::ok);
    assert_true(o.enable_cleartext_plugin);
    assert_errc(set_option_by_name(o, "get_server_public_key", "maybe", err), Errc::option);
    assert_false(o.allow_unverified_tls_password);
    assert_errc(set_option_by_name(o, "allow_unverified_tls_password", "1", err), Errc::ok);
    assert_true(o.allow_unverified_tls_password);
    assert_errc(set_option_by_name(o, "allow-unverified-tls-password", "0", err), Errc::ok);
    assert_false(o.allow_unverified_tls_password);
    assert_errc(set_option_by_name(o, "allow_unverified_tls_password", "2", err), Errc::option);
    assert_errc(set_option_by_name(o, "auth_plugins", "caching_sha2_password, client_ed25519", err), Errc::ok);
    assert_int_equal(o.auth_plugins.size(), 2);
    assert_string_equal(o.auth_plugins[1].c_str(), "client_ed25519");
    assert_errc(set_option_by_name(o, "auth_plugins", "a,,b", err), Errc::option);
    assert_int_equal(o.auth_plugins.size(), 2);
    assert_errc(set_option_by_name(o, "compress", "zstd", err), Errc::ok);
    assert_int_equal(o.compress, MYWIRE_COMPRESS_ZSTD);
    assert_errc(set_option_by_name(o, "compress", "on", err), Errc::ok);
    assert_int_equal(o.compress, MYWIRE_COMPRESS_ANY);
    assert_errc(set_option_by_name(o, "compress", "lz4", err), Errc::option);
    assert_errc(set_option_by_name(o, "compression_level", "23", err), Errc::option);
    assert_errc(set_option_by_name(o, "compression_level", "19", err), Errc::ok);
    assert_int_equal(o.compression_level, 19);

    // Through a URI, atomically.
    Options u;
    assert_errc(apply_uri(u, "mysql://h/?ssl-mode=required&compress=zlib&password2=two", err), Errc::ok);
    assert_int_equal(u.ssl_mode, MYWIRE_SSL_MODE_REQUIRED);
    assert_int_equal(u.compress, MYWIRE_COMPRESS_ZLIB);
    assert_string_equal(u.password2.c_str(), "two");
    assert_errc(apply_uri(u, "mysql://h/?ssl_mode=disabled&ssl_fingerprint=xx", err), Errc::uri);
    assert_int_equal(u.ssl_mode, MYWIRE_SSL_MODE_REQUIRED);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_only),
        cmocka_unit_test(test_security_options),
        cmocka_unit_test(test_user_password_port_db),
        cmocka_unit_test(test_percent_encoding),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_socket),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_bad_keys_and_values),
        cmocka_unit_test(test_bad_escapes),
        cmocka_unit_test(test_bad_ports),
        cmocka_unit_test(test_bad_scheme),
        cmocka_unit_test(test_empty_database),
        cmocka_unit_test(test_failure_leaves_options_unchanged),
        cmocka_unit_test(test_error_message_hides_password),
        cmocka_unit_test(test_percent_nul_refused),
        cmocka_unit_test(test_set_option_by_name),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
