// HandshakeOp's compression negotiation, driven by hand.
#include "transcript.hpp"

using namespace transcript;

namespace {

void test_compression_negotiation(void **) {
    struct Case {
        int want;
        std::uint32_t server;
        std::uint32_t expect;  // 0: an error
    } cases[] = {
        {MYWIRE_COMPRESS_ZLIB, mysql8_caps, cap::compress},
        {MYWIRE_COMPRESS_ZSTD, mysql8_caps, cap::zstd},
        {MYWIRE_COMPRESS_ANY, mysql8_caps, cap::zstd},
        {MYWIRE_COMPRESS_ANY, mysql8_caps & ~cap::zstd, cap::compress},
        {MYWIRE_COMPRESS_ZSTD, mysql8_caps & ~cap::zstd, 0},
        {MYWIRE_COMPRESS_ZLIB, mysql8_caps & ~cap::compress, 0},
        {MYWIRE_COMPRESS_ANY, mysql8_caps & ~(cap::compress | cap::zstd), 0},
    };
    for (const Case &k : cases) {
        Connect c;
        c.opts.user = "u";
        c.opts.compress = k.want;
        c.opts.compression_level = 7;
        c.s.rbuf.append(framed(greeting("8.0.36", k.server, 0, "mysql_native_password"), 0));
        HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
        Action a = op.resume(c.s);
        if (!k.expect) {
            assert_int_equal(static_cast<int>(a), static_cast<int>(Action::error));
            assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::unsupported));
            assert_true(c.s.err.message.find("compress=") != std::string::npos);
            continue;
        }
        assert_int_equal(static_cast<int>(a), static_cast<int>(Action::write));
        assert_int_equal(c.s.capabilities & (cap::compress | cap::zstd), k.expect);
        // With zstd the level is the response's last byte.
        if (k.expect == cap::zstd) assert_int_equal(c.s.wbuf.back(), 7);
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compression_negotiation),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
