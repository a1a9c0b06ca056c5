// Reader: every get at every boundary; Writer and lenenc round trips.
#include "proto/reader.hpp"

#include <limits>
#include <vector>

#include "unit.hpp"

using mywire::proto::lenenc_size;
using mywire::proto::Reader;
using mywire::proto::Writer;
using unit::Bytes;
using unit::Exact;

namespace {

const std::string_view nine = "\x01\x02\x03\x04\x05\x06\x07\x08\x09";  // u64 and one more

// A fixed-width get over inputs of n-1 bytes (fails, stays failed) and of
// n and n+1 bytes (succeeds, little-endian, consumes exactly n).
template <class T>
void fixed_width(bool (Reader::*get)(T &), unsigned n) {
    for (unsigned size = 0; size <= n + 1; ++size) {
        Exact in(nine.substr(0, size));
        Reader r(in.view());
        T v = 0;
        bool ok = (r.*get)(v);
        if (size < n) {
            assert_false(ok);
            assert_false(r.ok());
            assert_int_equal(r.remaining(), size);  // nothing consumed
            // Sticky: a later read that would fit fails too.
            std::uint8_t b;
            if (size > 0) assert_false(r.u8(b));
        } else {
            assert_true(ok);
            assert_true(r.ok());
            std::uint64_t want = 0;
            for (unsigned i = 0; i < n; ++i) want |= std::uint64_t(i + 1) << (8 * i);
            assert_int_equal(v, want);
            assert_int_equal(r.remaining(), size - n);
        }
    }
}

void test_fixed_widths(void **) {
    fixed_width(&Reader::u8, 1);
    fixed_width(&Reader::u16, 2);
    fixed_width(&Reader::u24, 3);
    fixed_width(&Reader::u32, 4);
    fixed_width(&Reader::u64, 8);
}

void test_high_bytes(void **) {
    Exact in(Bytes{0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0xFA, 0xF9, 0xF8}.view());
    Reader r(in.view());
    std::uint64_t v;
    assert_true(r.u64(v));
    assert_int_equal(v, 0xF8F9FAFBFCFDFEFFull);
    Reader r2(in.view());
    std::uint32_t v24;
    assert_true(r2.u24(v24));
    assert_int_equal(v24, 0xFDFEFFu);
}

void test_peek(void **) {
    Exact one(Bytes{0xAB}.view());
    Reader r(one.view());
    std::uint8_t b = 0;
    assert_true(r.peek(b));
    assert_int_equal(b, 0xAB);
    assert_int_equal(r.remaining(), 1);  // peek consumes nothing
    assert_true(r.skip(1));
    assert_true(r.empty());
    assert_false(r.peek(b));
}

void test_bytes_and_skip(void **) {
    Exact in(std::string_view("abcdef"));
    Reader r(in.view());
    std::string_view v;
    assert_true(r.bytes(0, v));
    assert_int_equal(v.size(), 0);
    assert_true(r.bytes(2, v));
    assert_sv_equal(v, "ab");
    assert_true(r.skip(1));
    assert_false(r.bytes(4, v));  // 3 left
    assert_false(r.ok());
    assert_false(r.skip(0));  // sticky, even for zero bytes

    Reader exact(in.view());
    assert_true(exact.skip(6));
    assert_true(exact.empty());
    Reader over(in.view());
    assert_false(over.skip(7));
    // A huge count must not wrap around the pointer arithmetic.
    Reader huge(in.view());
    assert_false(huge.bytes(std::numeric_limits<std::size_t>::max(), v));
    Reader huge2(in.view());
    assert_false(huge2.skip(std::numeric_limits<std::size_t>::max()));
}

void test_lenenc_forms(void **) {
    struct Case {
        Bytes in;
        std::uint64_t value;
    } cases[] = {
        {Bytes{0x00}, 0},
        {Bytes{0xFA}, 250},
        {Bytes{0xFC, 0xFB, 0x00}, 251},
        {Bytes{0xFC, 0xFF, 0xFF}, 65535},
        {Bytes{0xFD, 0x00, 0x00, 0x01}, 65536},
        {Bytes{0xFD, 0xFF, 0xFF, 0xFF}, 16777215},
        {Bytes{0xFE, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0}, 16777216},
        {Bytes{0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, 0xFFFFFFFFFFFFFFFFull},
        // Longer forms than needed are accepted (the protocol does not forbid them).
        {Bytes{0xFC, 0x05, 0x00}, 5},
    };
    for (auto &c : cases) {
        std::string_view full = c.in.view();
        Exact in(full);
        Reader r(in.view());
        std::uint64_t v = 0;
        assert_true(r.lenenc(v));
        assert_int_equal(v, c.value);
        assert_true(r.empty());
        // Every prefix fails cleanly.
        for (std::size_t n = 0; n < full.size(); ++n) {
            Exact p(full.substr(0, n));
            Reader rp(p.view());
            assert_false(rp.lenenc(v));
            assert_false(rp.ok());
        }
    }
}

void test_lenenc_not_integers(void **) {
    for (unsigned marker : {0xFBu, 0xFFu}) {
        Exact in(Bytes{marker, 0x01, 0x02, 0x03, 0, 0, 0, 0, 0}.view());
        Reader r(in.view());
        std::uint64_t v;
        assert_false(r.lenenc(v));
        assert_false(r.ok());
    }
}

void test_lenenc_str(void **) {
    Exact in(Bytes().lenstr("hello").lenstr("").u8(3).str("ab").view());  // last one lies
    Reader r(in.view());
    std::string_view v;
    assert_true(r.lenenc_str(v));
    assert_sv_equal(v, "hello");
    assert_true(r.lenenc_str(v));
    assert_sv_equal(v, "");
    assert_false(r.lenenc_str(v));
    assert_false(r.ok());

    // A length bigger than anything addressable.
    Exact big(Bytes{0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 'x'}.view());
    Reader rb(big.view());
    assert_false(rb.lenenc_str(v));
    // NULL marker is not a string length.
    Exact null(Bytes{0xFB}.view());
    Reader rn(null.view());
    assert_false(rn.lenenc_str(v));

    std::string long_str(300, 'q');
    Bytes b;
    b.lenstr(long_str);
    for (std::size_t n = 0; n < b.size(); ++n) {
        Exact p(b.view().substr(0, n));
        Reader rp(p.view());
        assert_false(rp.lenenc_str(v));
    }
    Exact whole(b.view());
    Reader rw(whole.view());
    assert_true(rw.lenenc_str(v));
    assert_int_equal(v.size(), 300);

    // The longest one-byte length (250, read inline): cut anywhere, it fails;
    // a failed reader fails the short form too.
    Bytes s250;
    s250.lenstr(std::string(250, 's')).lenstr("k");
    for (std::size_t n = 0; n < 251; ++n) {
        Exact p(s250.view().substr(0, n));
        Reader rp(p.view());
        assert_false(rp.lenenc_str(v));
        std::uint64_t x = 0;
        assert_false(rp.lenenc(x));
    }
    Exact both(s250.view());
    Reader r2(both.view());
    assert_true(r2.lenenc_str(v));
    assert_int_equal(v.size(), 250);
    assert_true(r2.lenenc_str(v));
    assert_sv_equal(v, "k");
    assert_true(r2.empty());
}

void test_nul_str(void **) {
    Exact in(Bytes().nul("abc").nul("").str("tail").view());
    Reader r(in.view());
    std::string_view v;
    assert_true(r.nul_str(v));
    assert_sv_equal(v, "abc");
    assert_true(r.nul_str(v));
    assert_sv_equal(v, "");
    assert_int_equal(r.remaining(), 4);
    assert_false(r.nul_str(v));  // "tail" has no NUL
    assert_false(r.ok());

    Exact empty(std::string_view(""));
    Reader re(empty.view());
    assert_false(re.nul_str(v));
}

void test_rest(void **) {
    Exact in(std::string_view("xyz"));
    Reader r(in.view());
    std::uint8_t b;
    assert_true(r.u8(b));
    assert_sv_equal(r.rest(), "yz");
    assert_true(r.empty());
    assert_sv_equal(r.rest(), "");
}

// Writer output is compared with the independent Bytes encoder, and read back.
void test_writer_lenenc_round_trip(void **) {
    const std::uint64_t values[] = {0,        1,        250,       251,       252,
                                    65535,    65536,    16777215,  16777216,  0xFFFFFFFFull,
                                    1ull << 32, 0xFFFFFFFFFFFFFFFFull};
    for (std::uint64_t v : values) {
        std::vector<std::uint8_t> out;
        Writer w(out);
        w.lenenc(v);
        Bytes expected;
        expected.lenenc(v);
        std::string_view got(reinterpret_cast<const char *>(out.data()), out.size());
        assert_sv_equal(got, expected.view());
        assert_int_equal(lenenc_size(v), out.size());
        Reader r(got);
        std::uint64_t back = 0;
        assert_true(r.lenenc(back));
        assert_int_equal(back, v);
        assert_true(r.empty());
    }
    // The boundaries pick the documented forms.
    assert_int_equal(lenenc_size(250), 1);
    assert_int_equal(lenenc_size(251), 3);
    assert_int_equal(lenenc_size(65535), 3);
    assert_int_equal(lenenc_size(65536), 4);
    assert_int_equal(lenenc_size(16777215), 4);
    assert_int_equal(lenenc_size(16777216), 9);
}

void test_writer_fixed_and_strings(void **) {
    std::vector<std::uint8_t> out;
    Writer w(out);
    w.u8(0x11);
    w.u16(0x2233);
    w.u24(0x445566);
    w.u32(0x778899AA);
    w.u64(0x0102030405060708ull);
    w.bytes("ab");
    w.zeros(2);
    w.nul_str("cd");
    w.lenenc_str("ef");
    w.lenenc_str(std::string(251, 'z'));
    Bytes e;
    e.u8(0x11).u16(0x2233).u24(0x445566).u32(0x778899AA).u64(0x0102030405060708ull).str("ab");
    e.fill(2, 0).nul("cd").lenstr("ef").lenstr(std::string(251, 'z'));
    assert_int_equal(w.size(), e.size());
    assert_sv_equal(std::string_view(reinterpret_cast<const char *>(out.data()), out.size()), e.view());

    // Read it back with the Reader.
    Reader r(std::string_view(reinterpret_cast<const char *>(out.data()), out.size()));
    std::uint8_t a;
    std::uint16_t b;
    std::uint32_t c, d;
    std::uint64_t f;
    std::string_view s;
    assert_true(r.u8(a) && r.u16(b) && r.u24(c) && r.u32(d) && r.u64(f));
    assert_int_equal(a, 0x11);
    assert_int_equal(b, 0x2233);
    assert_int_equal(c, 0x445566);
    assert_int_equal(d, 0x778899AA);
    assert_int_equal(f, 0x0102030405060708ull);
    assert_true(r.bytes(2, s) && r.skip(2) && r.nul_str(s));
    assert_sv_equal(s, "cd");
    assert_true(r.lenenc_str(s));
    assert_sv_equal(s, "ef");
    assert_true(r.lenenc_str(s));
    assert_int_equal(s.size(), 251);
    assert_true(r.empty());
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_widths),
        cmocka_unit_test(test_high_bytes),
        cmocka_unit_test(test_peek),
        cmocka_unit_test(test_bytes_and_skip),
        cmocka_unit_test(test_lenenc_forms),
        cmocka_unit_test(test_lenenc_not_integers),
        cmocka_unit_test(test_lenenc_str),
        cmocka_unit_test(test_nul_str),
        cmocka_unit_test(test_rest),
        cmocka_unit_test(test_writer_lenenc_round_trip),
        cmocka_unit_test(test_writer_fixed_and_strings),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
