// HandshakeOp's TLS decisions (SSLRequest, refusals, full auth over TLS),
// driven by hand.
#include "transcript.hpp"

using namespace transcript;

namespace {

void test_tls_required_but_not_offered(void **) {
    for (int mode : {MYWIRE_SSL_MODE_REQUIRED, MYWIRE_SSL_MODE_VERIFY_CA, MYWIRE_SSL_MODE_VERIFY_IDENTITY}) {
        Connect c;
        c.opts.user = "alice";
        c.opts.password = "secret";
        c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps & ~cap::ssl, 0, "mysql_native_password"), 0));
        HandshakeOp op(c.opts, false, mode, c.info);
        assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::error));
        assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::tls));
        assert_int_equal(c.info.tls_failure, MYWIRE_TLS_FAILURE_NOT_OFFERED);
        assert_true(c.s.err.message.find("server does not support TLS; ssl_mode=") == 0);
        assert_int_equal(c.s.wbuf.size(), 0);  // not one byte to send
    }
    // PREFERRED goes on in plain text; DISABLED never asks.
    for (int mode : {MYWIRE_SSL_MODE_PREFERRED, MYWIRE_SSL_MODE_DISABLED}) {
        Connect c;
        c.opts.user = "alice";
        c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps & ~cap::ssl, 0, "mysql_native_password"), 0));
        HandshakeOp op(c.opts, false, mode, c.info);
        assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
        assert_false(c.s.capabilities & cap::ssl);
    }
}

void test_tls_ssl_request_then_response(void **) {
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "secret";
    c.opts.database = "shop";
    c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0));
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_PREFERRED, c.info);
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::start_tls));
    // The SSLRequest: a 32-byte payload with seq 1, and nothing else.
    std::string_view req = written(c.s);
    assert_int_equal(req.size(), 4 + 32);
    assert_int_equal(static_cast<std::uint8_t>(req[3]), 1);
    std::uint32_t caps = static_cast<std::uint8_t>(req[4]) | static_cast<std::uint8_t>(req[5]) << 8 |
                         static_cast<std::uint8_t>(req[6]) << 16 |
                         static_cast<std::uint32_t>(static_cast<std::uint8_t>(req[7])) << 24;
    assert_true(caps & cap::ssl);
    assert_int_equal(caps, c.s.capabilities);
    assert_sv_equal(req.substr(13), std::string(23, '\0'));
    assert_true(req.find("alice") == std::string_view::npos);
    // TLS is up (the driver's part): the handshake response follows, seq 2.
    c.s.wbuf.clear();
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
    std::string_view resp = written(c.s);
    assert_int_equal(static_cast<std::uint8_t>(resp[3]), 2);
    Response r = parse_response(resp.substr(4));
    assert_int_equal(r.caps, caps);
    assert_sv_equal(r.user, "alice");
    assert_sv_equal(r.auth, native_reference("secret", scramble20));
    c.s.wbuf.clear();
    c.s.rbuf.append(framed(ok_packet(0, 2), 3));
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::done));
}

void test_tls_pre_tls_bytes_refused(void **) {
    // Bytes after the greeting, before our TLS request was even sent: a
    // man in the middle queueing plain text to be read "after" TLS.
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "secret";
    c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0) +
                    framed(ok_packet(0, 2), 2));
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_REQUIRED, c.info);
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::error));
    assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::tls));
    assert_true(c.s.err.message.find("unexpected bytes after its greeting") != std::string::npos);
    assert_int_equal(c.s.wbuf.size(), 0);
}

// caching_sha2_password asks for full authentication (0x01 0x04) over TLS:
// the password goes only when the driver says the TLS handshake verified the
// server (session.tls_verified), or with allow_unverified_tls_password.
void test_tls_full_auth_needs_verified_server(void **) {
    struct Case {
        bool verified, allow, goes;
    } cases[] = {{false, false, false}, {true, false, true}, {false, true, true}};
    for (const Case &k : cases) {
        Connect c;
        c.opts.user = "alice";
        c.opts.password = "mitm-me";
        c.opts.allow_unverified_tls_password = k.allow;
        c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps, 0, "caching_sha2_password"), 0));
        HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_REQUIRED, c.info);
        assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::start_tls));
        c.s.wbuf.clear();
        c.s.tls_verified = k.verified;  // the driver's part
        assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
        c.s.wbuf.clear();
        c.s.rbuf.append(framed(std::string("\x01\x04", 2), 3));
        Action a = op.resume(c.s);
        std::string_view out = written(c.s);
        if (k.goes) {
            assert_int_equal(static_cast<int>(a), static_cast<int>(Action::write));
            assert_sv_equal(out, framed(std::string("mitm-me\0", 8), 4));
        } else {
            assert_int_equal(static_cast<int>(a), static_cast<int>(Action::error));
            assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::auth));
            assert_true(c.s.err.message.find("allow_unverified_tls_password") != std::string::npos);
            assert_int_equal(out.size(), 0);  // not one byte after the 0x04
        }
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_required_but_not_offered),
        cmocka_unit_test(test_tls_ssl_request_then_response),
        cmocka_unit_test(test_tls_pre_tls_bytes_refused),
        cmocka_unit_test(test_tls_full_auth_needs_verified_server),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
