// values.hpp on bytes: binary rows (each valid row, its truncated twins and
// corrupted twins), the typed getters of both protocols (each allowed and
// refused conversion, each type's boundaries), the server's text forms, and
// a parity table recorded from a real server (values_parity_data.inc).
#include "proto/values.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "unit.hpp"

using namespace mywire::proto;
using mywire::Column;
using mywire::Error;
using mywire::Value;
using unit::Bytes;
using unit::check_prefixes;
using unit::Errc;
using unit::Exact;

namespace {

namespace ft = field_type;
namespace cf = column_flag;

Column col(unsigned type, unsigned flags = 0, unsigned decimals = 0, std::uint32_t length = 0,
           unsigned charset = binary_charset) {
    Column c{};
    c.name = c.org_name = c.table = c.org_table = c.schema = "";
    c.type = type;
    c.flags = flags;
    c.charset = charset;
    c.decimals = decimals;
    c.length = length;
    return c;
}

Value val(std::string_view s) { return Value{s.data(), s.size()}; }

std::string hex(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return out;
}

Errc parse(std::string_view payload, const std::vector<Wire> &wires, std::vector<Value> &out, Error &err) {
    BinaryLayout layout;
    layout.set_wire(wires);
    out.assign(wires.size() + 1, Value{"sentinel", 8});
    return parse_binary_row(payload, layout, out.data(), err);
}

Errc parse(std::string_view payload, const std::vector<Wire> &wires) {
    std::vector<Value> out;
    Error err;
    Errc rc = parse(payload, wires, out, err);
    if (rc != Errc::ok) {
        assert_int_equal(unit::ec(err.code), unit::ec(rc));
        assert_true(err.message.rfind("malformed binary row: ", 0) == 0);
    }
    return rc;
}

// The row header and a NULL bitmap for n columns with the given ones NULL.
Bytes head(std::size_t n, std::initializer_list<std::size_t> nulls = {}) {
    std::vector<unsigned> bitmap((n + 9) / 8, 0);
    for (std::size_t i : nulls) bitmap[(i + 2) / 8] |= 1u << ((i + 2) % 8);
    Bytes b{0x00};
    for (unsigned x : bitmap) b.u8(x);
    return b;
}

void assert_value(Value v, std::string_view want) {
    assert_non_null(v.data);
    assert_sv_equal(std::string_view(v.data, v.len), want);
}

std::string text_of(const Column &c, std::string_view bytes) {
    std::string out = "junk";
    Errc rc = to_text(c, val(bytes), out);
    assert_errc(rc, Errc::ok);
    return out;
}

std::string dbl(double v) {
    std::string s;
    format_double(v, s);
    return s;
}
std::string flt(float v) {
    std::string s;
    format_float(v, s);
    return s;
}

std::string le_double(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, 8);
    return Bytes().u64(bits).str();
}
std::string le_float(float f) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    return Bytes().u32(bits).str();
}

// ------------------------------------------------------------ layout

void test_wire_of_types(void **) {
    assert_true(binary_wire(ft::tiny) == Wire::int1);
    assert_true(binary_wire(ft::short_) == Wire::int2);
    assert_true(binary_wire(ft::year) == Wire::int2);
    assert_true(binary_wire(ft::long_) == Wire::int4);
    assert_true(binary_wire(ft::int24) == Wire::int4);
    assert_true(binary_wire(ft::longlong) == Wire::int8);
    assert_true(binary_wire(ft::float_) == Wire::float4);
    assert_true(binary_wire(ft::double_) == Wire::double8);
    assert_true(binary_wire(ft::date) == Wire::date);
    assert_true(binary_wire(ft::datetime) == Wire::datetime);
    assert_true(binary_wire(ft::timestamp) == Wire::datetime);
    assert_true(binary_wire(ft::time) == Wire::time);
    for (unsigned t : {ft::decimal, ft::newdecimal, ft::varchar, ft::var_string, ft::string, ft::blob,
                       ft::tiny_blob, ft::medium_blob, ft::long_blob, ft::bit, ft::json, ft::enum_, ft::set,
                       ft::geometry, ft::vector, ft::null})
        assert_true(binary_wire(t) == Wire::lenenc);

    Column cols[3] = {col(ft::tiny), col(ft::datetime), col(ft::blob)};
    BinaryLayout layout;
    layout.build(cols, 3);
    assert_int_equal(layout.size(), 3);
    assert_true(layout.wire[0] == Wire::int1 && layout.wire[1] == Wire::datetime && layout.wire[2] == Wire::lenenc);
    layout.build(cols, 0);
    assert_int_equal(layout.size(), 0);
}

// ------------------------------------------------------------ binary rows

const std::vector<Wire> every_wire = {Wire::int1,   Wire::int2, Wire::int4,     Wire::int8,
                                      Wire::float4, Wire::double8, Wire::date,  Wire::datetime,
                                      Wire::time,   Wire::lenenc, Wire::lenenc, Wire::int4};

Bytes every_wire_row() {
    // Column 10 and 11 are NULL (11 ends the bitmap's second byte).
    return head(12, {10, 11})
        .u8(0xFE)
        .u16(0xFFFE)
        .u32(0x01020304)
        .u64(0x8000000000000001ull)
        .str(le_float(1.5f))
        .str(le_double(-2.25))
        .u8(4).u16(2024).u8(2).u8(29)
        .u8(11).u16(1999).u8(12).u8(31).u8(23).u8(59).u8(58).u32(999999)
        .u8(12).u8(1).u32(34).u8(22).u8(59).u8(59).u32(0)
        .lenstr("hello");
}

void test_row_every_wire(void **) {
    Bytes row = every_wire_row();
    std::vector<Value> out;
    Error err;
    Exact copy(row);
    assert_errc(parse(copy.view(), every_wire, out, err), Errc::ok);
    assert_value(out[0], "\xFE");
    assert_value(out[1], "\xFE\xFF");
    assert_value(out[2], "\x04\x03\x02\x01");
    assert_value(out[3], std::string_view("\x01\0\0\0\0\0\0\x80", 8));
    assert_value(out[4], le_float(1.5f));
    assert_value(out[5], le_double(-2.25));
    assert_value(out[6], Bytes().u16(2024).u8(2).u8(29).str());
    assert_int_equal(out[7].len, 11);
    assert_int_equal(out[8].len, 12);
    assert_value(out[9], "hello");
    assert_null(out[10].data);
    assert_null(out[11].data);
    assert_int_equal(out[10].len, 0);
    assert_true(out[12].data && out[12].len == 8);  // past the layout: untouched

    // Every truncation, and a trailing byte.
    check_prefixes(row, [&](std::string_view p) { return parse(p, every_wire); }, nullptr, "every wire");
    assert_errc(parse(Bytes(row).u8(0).view(), every_wire), Errc::protocol);
    // A bitmap one byte short or long shifts everything: refused.
    std::string short_bitmap = row.str();
    short_bitmap.erase(2, 1);
    assert_errc(parse(short_bitmap, every_wire), Errc::protocol);
    std::string long_bitmap = row.str();
    long_bitmap.insert(3, 1, '\0');
    assert_errc(parse(long_bitmap, every_wire), Errc::protocol);
}

void test_row_header_and_bitmap(void **) {
    // n = 0: the header and one bitmap byte.
    assert_errc(parse(Exact(Bytes{0x00, 0x00}).view(), {}), Errc::ok);
    assert_errc(parse(Exact(Bytes{0x00}).view(), {}), Errc::protocol);
    assert_errc(parse(Exact(std::string_view()).view(), {}), Errc::protocol);
    assert_errc(parse(Exact(Bytes{0x01, 0x00}).view(), {}), Errc::protocol);
    assert_errc(parse(Exact(Bytes{0xFE, 0x00}).view(), {}), Errc::protocol);  // an EOF is not a row
    assert_errc(parse(Exact(Bytes{0x00, 0x00, 0x00}).view(), {}), Errc::protocol);

    // All-NULL rows at each bitmap size boundary; every reserved or unused
    // bit set in turn is refused.
    for (std::size_t n : {1u, 5u, 6u, 7u, 13u, 14u, 15u, 30u}) {
        std::vector<Wire> wires(n, Wire::lenenc);
        std::vector<std::size_t> all;
        Bytes row{0x00};
        const std::size_t bytes = (n + 9) / 8;
        std::vector<unsigned> bitmap(bytes, 0);
        for (std::size_t i = 0; i < n; ++i) bitmap[(i + 2) / 8] |= 1u << ((i + 2) % 8);
        for (unsigned x : bitmap) row.u8(x);
        std::vector<Value> out;
        Error err;
        assert_errc(parse(Exact(row).view(), wires, out, err), Errc::ok);
        for (std::size_t i = 0; i < n; ++i) assert_null(out[i].data);
        for (std::size_t bit = 0; bit < bytes * 8; ++bit) {
            if (bit >= 2 && bit < n + 2) continue;
            std::string bad = row.str();
            bad[1 + bit / 8] = static_cast<char>(bad[1 + bit / 8] | (1 << (bit % 8)));
            Error e2;
            assert_errc(parse(Exact(bad).view(), wires, out, e2), Errc::protocol);
            assert_non_null(std::strstr(e2.message.c_str(), bit < 2 ? "reserved" : "past the last column"));
        }
        // The bitmap cut short.
        assert_errc(parse(Exact(row.view().substr(0, row.size() - 1)).view(), wires), Errc::protocol);
    }
}

void test_row_temporal_lengths(void **) {
    struct Case {
        Wire wire;
        std::vector<unsigned> good;
    };
    const Case cases[] = {{Wire::date, {0, 4, 7, 11}}, {Wire::datetime, {0, 4, 7, 11}}, {Wire::time, {0, 8, 12}}};
    for (const Case &c : cases) {
        for (unsigned len = 0; len <= 255; ++len) {
            Bytes row = head(2).u8(len).fill(len, 0).u8(0x07);
            bool good = std::find(c.good.begin(), c.good.end(), len) != c.good.end();
            std::vector<Value> out;
            Error err;
            Exact copy(row);
            Errc rc = parse(copy.view(), {c.wire, Wire::int1}, out, err);
            if (good) {
                assert_errc(rc, Errc::ok);
                assert_non_null(out[0].data);  // length 0 is a value, not NULL
                assert_int_equal(out[0].len, len);
                assert_value(out[1], "\x07");
                check_prefixes(row, [&](std::string_view p) { return parse(p, {c.wire, Wire::int1}); });
            } else if (len < 200) {  // a long bad length may just run past the end
                assert_errc(rc, Errc::protocol);
                std::string want = std::string("column 0 (") + (c.wire == Wire::time ? "TIME" : c.wire == Wire::date ? "DATE" : "DATETIME") +
                                   ") has length " + std::to_string(len);
                if (err.message.find(want) == std::string::npos) {
                    print_error("message \"%s\" lacks \"%s\"\n", err.message.c_str(), want.c_str());
                    fail();
                }
            } else {
                assert_errc(rc, Errc::protocol);
            }
        }
    }
    Error err;
    std::vector<Value> out;
    assert_errc(parse(Exact(head(4).u8(1).u8(0).u8(0).view()).view(), {Wire::int1, Wire::int1, Wire::int1, Wire::datetime}, out, err),
                Errc::protocol);
    assert_sv_equal(err.message, "malformed binary row: column 3 (DATETIME) has no length byte");
    assert_errc(parse(Exact(head(1).u8(5).fill(5, 0).view()).view(), {Wire::datetime}, out, err), Errc::protocol);
    assert_sv_equal(err.message, "malformed binary row: column 0 (DATETIME) has length 5");
}

void test_row_lenenc(void **) {
    const std::vector<Wire> one = {Wire::lenenc};
    std::vector<Value> out;
    Error err;
    // Every length prefix form.
    std::string big(300, 'x');
    for (Bytes row : {head(1).lenstr(""), head(1).lenstr("abc"), head(1).u8(0xFA).fill(250, 'y'),
                      head(1).u8(0xFC).u16(3).str("abc"), head(1).lenstr(big), head(1).u8(0xFD).u24(2).str("ab"),
                      head(1).u8(0xFE).u64(1).str("z")}) {
        assert_errc(parse(Exact(row).view(), one, out, err), Errc::ok);
        assert_non_null(out[0].data);
        check_prefixes(row, [&](std::string_view p) { return parse(p, one); }, nullptr, "lenenc");
    }
    // 0xFB (NULL belongs in the bitmap) and 0xFF.
    assert_errc(parse(Exact(head(1).u8(0xFB).view()).view(), one, out, err), Errc::protocol);
    assert_sv_equal(err.message, "malformed binary row: column 0 (length-encoded) has the invalid length prefix 251");
    assert_errc(parse(Exact(head(1).u8(0xFF).view()).view(), one, out, err), Errc::protocol);
    // A length past the end, a huge 8-byte length, a cut prefix.
    assert_errc(parse(Exact(head(1).u8(4).str("abc").view()).view(), one, out, err), Errc::protocol);
    assert_non_null(std::strstr(err.message.c_str(), "runs past the end"));
    assert_errc(parse(Exact(head(1).u8(0xFE).u64(~0ull).str("abc").view()).view(), one, out, err), Errc::protocol);
    assert_errc(parse(Exact(head(1).u8(0xFC).u8(1).view()).view(), one, out, err), Errc::protocol);
    // A NULL marked in the bitmap takes no bytes.
    Exact nulls(head(2, {0}).lenstr("q"));
    assert_errc(parse(nulls.view(), {Wire::lenenc, Wire::lenenc}, out, err), Errc::ok);
    assert_null(out[0].data);
    assert_value(out[1], "q");
}

// ------------------------------------------------------------ integers

struct IntType {
    unsigned type;
    unsigned bytes;
};
const IntType int_types[] = {{ft::tiny, 1}, {ft::short_, 2}, {ft::int24, 4}, {ft::long_, 4}, {ft::longlong, 8}};

void test_integer_boundaries(void **) {
    for (const IntType &t : int_types) {
        const unsigned bits = t.bytes == 4 && t.type == ft::int24 ? 24 : 8 * t.bytes;
        const std::int64_t smin = bits == 64 ? std::numeric_limits<std::int64_t>::min() : -(std::int64_t(1) << (bits - 1));
        const std::int64_t smax = bits == 64 ? std::numeric_limits<std::int64_t>::max() : (std::int64_t(1) << (bits - 1)) - 1;
        const std::uint64_t umax = bits == 64 ? ~0ull : (std::uint64_t(1) << bits) - 1;
        auto raw = [&](std::uint64_t v) { return Bytes().u64(v).str().substr(0, t.bytes); };
        Column s = col(t.type), u = col(t.type, cf::unsigned_);
        std::int64_t i;
        std::uint64_t w;
        double d;
        // Signed min and max, binary and text.
        for (std::int64_t v : {smin, smax, std::int64_t(-1), std::int64_t(0)}) {
            std::string b = raw(static_cast<std::uint64_t>(v));
            std::string txt = std::to_string(v);
            for (bool binary : {true, false}) {
                Value x = val(binary ? std::string_view(b) : std::string_view(txt));
                assert_errc(to_int64(s, x, binary, i), Errc::ok);
                assert_true(i == v);
                assert_errc(to_uint64(s, x, binary, w), v < 0 ? Errc::conversion : Errc::ok);
                if (v >= 0) assert_true(w == static_cast<std::uint64_t>(v));
                // -2^63 is a double; 2^63 - 1 is not.
                bool exact = bits < 64 || v == smin || (v > -(std::int64_t(1) << 53) && v < (std::int64_t(1) << 53));
                assert_errc(to_double(s, x, binary, d), exact ? Errc::ok : Errc::conversion);
                if (exact) assert_true(d == static_cast<double>(v));
            }
            if (bits == 64 || bits == 24) continue;
            assert_sv_equal(text_of(s, b), txt);
        }
        // Unsigned max.
        std::string b = raw(umax);
        std::string txt = std::to_string(umax);
        for (bool binary : {true, false}) {
            Value x = val(binary ? std::string_view(b) : std::string_view(txt));
            assert_errc(to_uint64(u, x, binary, w), Errc::ok);
            assert_true(w == umax);
            assert_errc(to_int64(u, x, binary, i), bits == 64 ? Errc::conversion : Errc::ok);
            assert_errc(to_double(u, x, binary, d), bits == 64 ? Errc::conversion : Errc::ok);
        }
        if (bits != 24) assert_sv_equal(text_of(u, b), txt);
        // A value of the wrong width for its column is not read.
        std::string wide = raw(1) + "x";
        assert_errc(to_int64(s, val(wide), true, i), Errc::conversion);
        assert_errc(to_text(s, val(wide), txt), Errc::conversion);
    }
    // A MEDIUMINT travels as 4 bytes: sign-extended from 32 bits.
    std::int64_t i;
    assert_errc(to_int64(col(ft::int24), val(Bytes().u32(0xFF800000u)), true, i), Errc::ok);
    assert_true(i == -8388608);
    assert_sv_equal(text_of(col(ft::int24), Bytes().u32(0xFF800000u).str()), "-8388608");
    // BIGINT: 2^53 + 1 is not a double; 2^63 (unsigned) is.
    double d;
    assert_errc(to_double(col(ft::longlong), val(Bytes().u64((1ull << 53) + 1)), true, d), Errc::conversion);
    assert_errc(to_double(col(ft::longlong), val(Bytes().u64(1ull << 53)), true, d), Errc::ok);
    assert_errc(to_double(col(ft::longlong, cf::unsigned_), val(Bytes().u64(1ull << 63)), true, d), Errc::ok);
    assert_true(d == 9223372036854775808.0);
    assert_errc(to_double(col(ft::longlong), val(Bytes().u64(1ull << 63)), true, d), Errc::ok);  // INT64_MIN
    assert_true(d == -9223372036854775808.0);
    assert_errc(to_double(col(ft::longlong), val("9007199254740993"), false, d), Errc::conversion);
}

void test_integer_text_strict(void **) {
    Column c = col(ft::long_);
    std::int64_t i;
    std::uint64_t u;
    for (const char *bad : {"", "-", "+1", " 1", "1 ", "1.0", "0x10", "1e3", "--1", "12a", "9223372036854775808",
                            "-9223372036854775809"})
        assert_errc(to_int64(c, val(bad), false, i), Errc::conversion);
    assert_errc(to_int64(c, val("-9223372036854775808"), false, i), Errc::ok);
    assert_true(i == std::numeric_limits<std::int64_t>::min());
    assert_errc(to_int64(c, val("0000000042"), false, i), Errc::ok);  // ZEROFILL text
    assert_int_equal(i, 42);
    assert_errc(to_uint64(c, val("18446744073709551615"), false, u), Errc::ok);
    assert_errc(to_uint64(c, val("18446744073709551616"), false, u), Errc::conversion);
    assert_errc(to_uint64(c, val("-0"), false, u), Errc::ok);
    assert_int_equal(u, 0);
    // out is unchanged on failure.
    i = 77;
    assert_errc(to_int64(c, val("x"), false, i), Errc::conversion);
    assert_int_equal(i, 77);
}

void test_decimal_and_strings(void **) {
    Column dec = col(ft::newdecimal, 0, 3);
    std::int64_t i;
    std::uint64_t u;
    double d;
    assert_errc(to_int64(dec, val("12.000"), true, i), Errc::ok);
    assert_int_equal(i, 12);
    assert_errc(to_int64(dec, val("-12.000"), false, i), Errc::ok);
    assert_int_equal(i, -12);
    assert_errc(to_int64(dec, val("12"), true, i), Errc::ok);
    assert_errc(to_uint64(dec, val("-0.000"), true, u), Errc::ok);
    assert_int_equal(u, 0);
    for (const char *bad : {"12.5", "12.001", "0.000000000000000000000000000001", "", "1.", ".5", "+1", "1e3",
                            "99999999999999999999.000", "12.0.0", "- 1"})
        assert_errc(to_int64(dec, val(bad), true, i), Errc::conversion);
    assert_errc(to_uint64(dec, val("-1.000"), true, u), Errc::conversion);
    assert_errc(to_uint64(dec, val("18446744073709551615.00"), true, u), Errc::ok);
    assert_true(u == ~0ull);
    assert_errc(to_double(dec, val("12.5"), true, d), Errc::ok);
    assert_true(d == 12.5);
    assert_errc(to_double(dec, val("0.1"), true, d), Errc::ok);
    assert_true(d == 0.1);
    assert_errc(to_double(dec, val("12345678901234567890123456789012345.123456789012345678901234567890"), true, d), Errc::ok);
    assert_true(d == 12345678901234567890123456789012345.0);
    assert_errc(to_double(dec, val("+1"), true, d), Errc::conversion);

    for (unsigned t : {ft::varchar, ft::var_string, ft::string, ft::blob, ft::enum_, ft::json}) {
        Column s = col(t, 0, 0, 0, 45);
        assert_errc(to_int64(s, val("-42"), true, i), Errc::ok);
        assert_int_equal(i, -42);
        assert_errc(to_int64(s, val("+42"), false, i), Errc::ok);
        assert_int_equal(i, 42);
        for (const char *bad : {"", " 1", "1 ", "1.0", "abc", "+-1", "0x1", "1e2"})
            assert_errc(to_int64(s, val(bad), true, i), Errc::conversion);
        assert_errc(to_double(s, val("1e3"), true, d), Errc::ok);
        assert_true(d == 1000);
        assert_errc(to_double(s, val("+.5"), true, d), Errc::ok);
        assert_true(d == 0.5);
        assert_errc(to_double(s, val("-2.5E-3"), true, d), Errc::ok);
        assert_true(d == -0.0025);
        for (const char *bad : {"", " 1", "1 ", "inf", "nan", "-inf", "infinity", "1e400", "+-1", "0x10", "1,5", "e5", "."})
            assert_errc(to_double(s, val(bad), true, d), Errc::conversion);
    }
    // Types that never convert to numbers.
    for (unsigned t : {ft::geometry, ft::vector, ft::null, ft::date, ft::datetime, ft::time, ft::timestamp}) {
        assert_errc(to_int64(col(t), val("1"), false, i), Errc::conversion);
        assert_errc(to_double(col(t), val("1"), false, d), Errc::conversion);
    }
    assert_errc(to_int64(col(ft::datetime), val(Bytes().u16(2020).u8(1).u8(2)), true, i), Errc::conversion);
}

void test_bit(void **) {
    Column b = col(ft::bit, cf::unsigned_, 0, 12);
    std::uint64_t u;
    std::int64_t i;
    double d;
    assert_errc(to_uint64(b, val("\x0A\x01"), true, u), Errc::ok);  // big-endian
    assert_int_equal(u, 0x0A01);
    assert_errc(to_uint64(b, val("\x0A\x01"), false, u), Errc::ok);  // the same bytes in text
    assert_int_equal(u, 0x0A01);
    assert_errc(to_uint64(b, val("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF"), true, u), Errc::ok);
    assert_true(u == ~0ull);
    assert_errc(to_int64(b, val("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF"), true, i), Errc::conversion);
    assert_errc(to_int64(b, val("\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF"), true, i), Errc::ok);
    assert_true(i == std::numeric_limits<std::int64_t>::max());
    assert_errc(to_uint64(b, val(std::string_view("\x01\0\0\0\0\0\0\0\0", 9)), true, u), Errc::conversion);
    assert_errc(to_uint64(b, val(""), true, u), Errc::conversion);
    assert_errc(to_double(b, val("\x01"), true, d), Errc::conversion);
    std::string t;
    assert_errc(to_text(b, val("\x0A\x01"), t), Errc::ok);  // passthrough
    assert_sv_equal(t, "\x0A\x01");
}

// ------------------------------------------------------------ reals

void test_real_conversions(void **) {
    Column dc = col(ft::double_, 0, not_fixed_decimals), fc = col(ft::float_, 0, not_fixed_decimals);
    std::int64_t i;
    std::uint64_t u;
    double d;
    // Integral and in range: yes; fraction, out of range, non-finite: no.
    struct Case {
        double v;
        Errc s, u;
    };
    const Case cases[] = {
        {12.0, Errc::ok, Errc::ok},
        {-0.0, Errc::ok, Errc::ok},
        {-3.0, Errc::ok, Errc::conversion},
        {12.5, Errc::conversion, Errc::conversion},
        {-9223372036854775808.0, Errc::ok, Errc::conversion},
        {9223372036854775808.0, Errc::conversion, Errc::ok},
        {18446744073709549568.0, Errc::conversion, Errc::ok},
        {18446744073709551616.0, Errc::conversion, Errc::conversion},
        {1e300, Errc::conversion, Errc::conversion},
        {std::numeric_limits<double>::infinity(), Errc::conversion, Errc::conversion},
        {std::nan(""), Errc::conversion, Errc::conversion},
        {5e-324, Errc::conversion, Errc::conversion},
    };
    for (const Case &c : cases) {
        std::string b = le_double(c.v);
        assert_errc(to_int64(dc, val(b), true, i), c.s);
        if (c.s == Errc::ok) assert_true(static_cast<double>(i) == c.v);
        assert_errc(to_uint64(dc, val(b), true, u), c.u);
        if (c.u == Errc::ok) assert_true(static_cast<double>(u) == c.v);
        assert_errc(to_double(dc, val(b), true, d), std::isfinite(c.v) ? Errc::ok : Errc::conversion);
        std::string t;
        if (!std::isfinite(c.v)) {
            assert_errc(to_text(dc, val(b), t), Errc::conversion);
            continue;
        }
        // Text: the server's form of the same value converts the same way.
        t = text_of(dc, b);
        assert_errc(to_int64(dc, val(t), false, i), c.s);
        assert_errc(to_uint64(dc, val(t), false, u), c.u);
        assert_errc(to_double(dc, val(t), false, d), Errc::ok);
        assert_true(d == c.v);
    }
    // FLOAT: the float's exact value, binary and text alike.
    assert_errc(to_double(fc, val(le_float(0.1f)), true, d), Errc::ok);
    assert_true(d == static_cast<double>(0.1f));
    assert_errc(to_double(fc, val("0.1"), false, d), Errc::ok);
    assert_true(d == static_cast<double>(0.1f));
    assert_errc(to_int64(fc, val(le_float(16777216.0f)), true, i), Errc::ok);
    assert_int_equal(i, 16777216);
    assert_errc(to_int64(fc, val(le_float(0.5f)), true, i), Errc::conversion);
    assert_errc(to_double(fc, val(le_float(std::numeric_limits<float>::quiet_NaN())), true, d), Errc::conversion);
    // Text forms refused: blanks, inf, nan.
    for (const char *bad : {"", " 1", "inf", "nan", "1e999", "1,5", "+1"})
        assert_errc(to_double(dc, val(bad), false, d), Errc::conversion);
    // Wrong width.
    assert_errc(to_double(dc, val(le_float(1.0f)), true, d), Errc::conversion);
    assert_errc(to_double(fc, val(le_double(1.0)), true, d), Errc::conversion);
}

void test_format_double(void **) {
    // What MariaDB 10.11.19 printed for SELECT of these literals (text protocol).
    assert_sv_equal(dbl(1e20), "1e20");
    assert_sv_equal(dbl(1e-5), "0.00001");
    assert_sv_equal(dbl(123456789012345680000.0), "1.2345678901234568e20");
    assert_sv_equal(dbl(0.1 + 0.2), "0.30000000000000004");
    assert_sv_equal(dbl(-0.0), "0");
    assert_sv_equal(dbl(0.0), "0");
    assert_sv_equal(dbl(1.7976931348623157e308), "1.7976931348623157e308");
    assert_sv_equal(dbl(-1.7976931348623157e308), "-1.7976931348623157e308");
    assert_sv_equal(dbl(5e-324), "5e-324");
    assert_sv_equal(dbl(2.2250738585072014e-308), "2.2250738585072014e-308");
    assert_sv_equal(dbl(1e15), "1e15");
    assert_sv_equal(dbl(1e14), "100000000000000");
    assert_sv_equal(dbl(1e16), "1e16");
    assert_sv_equal(dbl(1234567890123456.8), "1234567890123456.8");
    assert_sv_equal(dbl(12345678901234567.0), "1.2345678901234568e16");
    assert_sv_equal(dbl(1e-14), "0.00000000000001");
    assert_sv_equal(dbl(1.5e-15), "0.0000000000000015");
    assert_sv_equal(dbl(1e-15), "0.000000000000001");
    assert_sv_equal(dbl(1e-16), "1e-16");
    assert_sv_equal(dbl(2.5e-10), "0.00000000025");
    assert_sv_equal(dbl(-2.5e-10), "-0.00000000025");
    assert_sv_equal(dbl(1.2345678901234567e-10), "0.00000000012345678901234568");
    assert_sv_equal(dbl(6.838732987893575e-15), "0.000000000000006838732987893575");
    assert_sv_equal(dbl(1.0 / 3), "0.3333333333333333");
    assert_sv_equal(dbl(3.0 / 7), "0.42857142857142855");
    assert_sv_equal(dbl(100), "100");
    assert_sv_equal(dbl(1.5), "1.5");
    assert_sv_equal(dbl(-1.5e300), "-1.5e300");
    assert_sv_equal(dbl(std::nan("")), "nan");
    assert_sv_equal(dbl(-std::numeric_limits<double>::infinity()), "-inf");
    std::string s = "x=";
    format_double(2.5, s);  // appends
    assert_sv_equal(s, "x=2.5");
}

void test_format_float(void **) {
    // A FLOAT column as MariaDB 10.11.19 printed it: 6 significant digits.
    assert_sv_equal(flt(3.4028235e38f), "3.40282e38");
    assert_sv_equal(flt(1e-45f), "1.4013e-45");
    assert_sv_equal(flt(1.17549435e-38f), "1.17549e-38");
    assert_sv_equal(flt(0.1f), "0.1");
    assert_sv_equal(flt(-0.0f), "0");
    assert_sv_equal(flt(16777217.0f), "16777200");
    assert_sv_equal(flt(123456789.0f), "123457000");
    assert_sv_equal(flt(1e20f), "1e20");
    assert_sv_equal(flt(1.2345678e-5f), "0.0000123457");
    assert_sv_equal(flt(1234565.0f), "1234560");  // ties to even, as the server
    assert_sv_equal(flt(1234575.0f), "1234580");
    assert_sv_equal(flt(80370691211264.0f), "80370700000000");
    assert_sv_equal(flt(-2.1331684519915878e-13f), "-0.000000000000213317");
    assert_sv_equal(flt(9.99999e-41f), "9.99995e-41");  // a subnormal
    assert_sv_equal(flt(0.5f), "0.5");
}

void test_real_text(void **) {
    // Fixed decimals: FLOAT(7,2), DOUBLE(10,3), DOUBLE(30,25): the shortest
    // digits padded, or rounded when they need more places.
    assert_sv_equal(text_of(col(ft::float_, 0, 2, 7), le_float(12345.67f)), "12345.67");
    assert_sv_equal(text_of(col(ft::float_, 0, 2, 7), le_float(-0.01f)), "-0.01");
    assert_sv_equal(text_of(col(ft::float_, 0, 2, 7), le_float(-0.001f)), "0.00");  // no "-0.00"
    assert_sv_equal(text_of(col(ft::double_, 0, 3, 10), le_double(1234567.891)), "1234567.891");
    assert_sv_equal(text_of(col(ft::double_, 0, 3, 10), le_double(2)), "2.000");
    assert_sv_equal(text_of(col(ft::double_, 0, 3, 10), le_double(-0.0)), "0.000");
    assert_sv_equal(text_of(col(ft::double_, 0, 25, 30), le_double(0.3)), "0.3000000000000000000000000");
    assert_sv_equal(text_of(col(ft::float_, 0, 25, 30), le_float(0.3f)), "0.3000000119209289600000000");
    assert_sv_equal(text_of(col(ft::double_, 0, 10, 22), le_double(123456789012.0123456789)), "123456789012.0123400000");
    assert_sv_equal(text_of(col(ft::double_, 0, 0, 22), le_double(2.5)), "2");  // ROUND(2.5e0, 0)
    assert_sv_equal(text_of(col(ft::double_, 0, 2, 22), le_double(1e300)), "1" + std::string(300, '0') + ".00");
    // ZEROFILL pads to the column length, before everything.
    assert_sv_equal(text_of(col(ft::float_, cf::zerofill | cf::unsigned_, 31, 12), le_float(1.5f)), "0000000001.5");
    assert_sv_equal(text_of(col(ft::double_, cf::zerofill | cf::unsigned_, 31, 22), le_double(1e20)), "0000000000000000001e20");
    assert_sv_equal(text_of(col(ft::float_, cf::zerofill | cf::unsigned_, 2, 7), le_float(1.5f)), "0001.50");
    // NaN and infinities have no text form.
    std::string t = "keep";
    assert_errc(to_text(col(ft::double_, 0, 31), val(le_double(std::nan(""))), t), Errc::conversion);
    assert_errc(to_text(col(ft::float_, 0, 2), val(le_float(INFINITY)), t), Errc::conversion);
    assert_sv_equal(t, "keep");
}

// ------------------------------------------------------------ integers as text

void test_integer_text(void **) {
    const unsigned zf = cf::zerofill | cf::unsigned_;
    assert_sv_equal(text_of(col(ft::long_, zf, 0, 10), Bytes().u32(42).str()), "0000000042");
    assert_sv_equal(text_of(col(ft::tiny, zf, 0, 3), "\x07"), "007");
    assert_sv_equal(text_of(col(ft::tiny, zf, 0, 3), "\xFF"), "255");
    assert_sv_equal(text_of(col(ft::longlong, zf, 0, 20), Bytes().u64(~0ull).str()), "18446744073709551615");
    assert_sv_equal(text_of(col(ft::longlong, zf, 0, 20), Bytes().u64(0).str()), "00000000000000000000");
    assert_sv_equal(text_of(col(ft::int24, zf, 0, 4), Bytes().u32(123456).str()), "123456");  // longer than the length
    assert_sv_equal(text_of(col(ft::tiny, 0, 0, 4), "\x80"), "-128");
    assert_sv_equal(text_of(col(ft::tiny, cf::unsigned_, 0, 3), "\x80"), "128");
    // YEAR: 4 digits (YEAR(2): 2).
    assert_sv_equal(text_of(col(ft::year, zf, 0, 4), Bytes().u16(0).str()), "0000");
    assert_sv_equal(text_of(col(ft::year, zf, 0, 4), Bytes().u16(1901).str()), "1901");
    assert_sv_equal(text_of(col(ft::year, zf, 0, 2), Bytes().u16(5).str()), "05");
    std::int64_t i;
    double d;
    assert_errc(to_int64(col(ft::year, zf), val(Bytes().u16(2155)), true, i), Errc::ok);
    assert_int_equal(i, 2155);
    assert_errc(to_double(col(ft::year, zf), val("2155"), false, d), Errc::ok);
    assert_true(d == 2155);
}

// ------------------------------------------------------------ temporals

Bytes dt(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s, std::uint32_t us) {
    return Bytes().u16(y).u8(mo).u8(d).u8(h).u8(mi).u8(s).u32(us);
}
Bytes tm(unsigned neg, std::uint32_t days, unsigned h, unsigned mi, unsigned s, std::uint32_t us) {
    return Bytes().u8(neg).u32(days).u8(h).u8(mi).u8(s).u32(us);
}

void expect_time(const Time &t, int kind, int neg, int y, int mo, int d, int h, int mi, int s, int us) {
    assert_int_equal(t.kind, kind);
    assert_int_equal(t.negative, neg);
    assert_int_equal(t.year, y);
    assert_int_equal(t.month, mo);
    assert_int_equal(t.day, d);
    assert_int_equal(t.hour, h);
    assert_int_equal(t.minute, mi);
    assert_int_equal(t.second, s);
    assert_int_equal(t.microsecond, us);
}

void test_time_binary(void **) {
    Column dtc = col(ft::datetime, 0, 6), dc = col(ft::date), tc = col(ft::time, 0, 6), tsc = col(ft::timestamp, 0, 0);
    Time t;
    assert_errc(to_time(dtc, val(dt(2024, 2, 29, 23, 59, 58, 999999)), true, t), Errc::ok);
    expect_time(t, time_kind::datetime, 0, 2024, 2, 29, 23, 59, 58, 999999);
    assert_errc(to_time(dtc, val(dt(2024, 2, 29, 23, 59, 58, 0).view().substr(0, 7)), true, t), Errc::ok);
    expect_time(t, time_kind::datetime, 0, 2024, 2, 29, 23, 59, 58, 0);
    assert_errc(to_time(tsc, val(dt(2024, 2, 29, 0, 0, 0, 0).view().substr(0, 4)), true, t), Errc::ok);
    expect_time(t, time_kind::datetime, 0, 2024, 2, 29, 0, 0, 0, 0);
    Value empty{"", 0};
    assert_errc(to_time(dtc, empty, true, t), Errc::ok);  // the zero date
    expect_time(t, time_kind::datetime, 0, 0, 0, 0, 0, 0, 0, 0);
    assert_errc(to_time(dc, empty, true, t), Errc::ok);
    expect_time(t, time_kind::date, 0, 0, 0, 0, 0, 0, 0, 0);
    assert_errc(to_time(dc, val(Bytes().u16(1999).u8(12).u8(31)), true, t), Errc::ok);
    expect_time(t, time_kind::date, 0, 1999, 12, 31, 0, 0, 0, 0);
    // TIME: days * 24 + hours.
    assert_errc(to_time(tc, val(tm(1, 34, 22, 59, 59, 0)), true, t), Errc::ok);
    expect_time(t, time_kind::time, 1, 0, 0, 0, 838, 59, 59, 0);
    assert_errc(to_time(tc, val(tm(0, 34, 22, 59, 59, 999999)), true, t), Errc::ok);
    expect_time(t, time_kind::time, 0, 0, 0, 0, 838, 59, 59, 999999);
    assert_errc(to_time(tc, val(tm(0, 1, 1, 0, 0, 0).view().substr(0, 8)), true, t), Errc::ok);
    expect_time(t, time_kind::time, 0, 0, 0, 0, 25, 0, 0, 0);
    assert_errc(to_time(tc, empty, true, t), Errc::ok);
    expect_time(t, time_kind::time, 0, 0, 0, 0, 0, 0, 0, 0);

    // Out of range: each field in turn.
    t.year = 1234;
    const Bytes bad_dt[] = {dt(2024, 13, 1, 0, 0, 0, 0),    dt(2024, 1, 32, 0, 0, 0, 0), dt(2024, 1, 1, 24, 0, 0, 0),
                            dt(2024, 1, 1, 0, 60, 0, 0),    dt(2024, 1, 1, 0, 0, 60, 0), dt(2024, 1, 1, 0, 0, 0, 1000000),
                            dt(10000, 1, 1, 0, 0, 0, 0),    dt(2024, 1, 1, 0, 0, 0, 0xFFFFFFFFu)};
    for (const Bytes &b : bad_dt) {
        assert_errc(to_time(dtc, val(b), true, t), Errc::conversion);
        std::string s;
        assert_errc(to_text(dtc, val(b), s), Errc::conversion);
    }
    assert_int_equal(t.year, 1234);  // unchanged
    const Bytes bad_tm[] = {tm(0, 34, 23, 0, 0, 0), tm(0, 35, 0, 0, 0, 0), tm(0, 0xFFFFFFFFu, 0, 0, 0, 0),
                            tm(0, 0, 24, 0, 0, 0),  tm(0, 0, 0, 60, 0, 0),  tm(0, 0, 0, 0, 60, 0),
                            tm(0, 0, 0, 0, 0, 1000000), tm(2, 0, 0, 0, 0, 0)};
    for (const Bytes &b : bad_tm) {
        assert_errc(to_time(tc, val(b), true, t), Errc::conversion);
        std::string s;
        assert_errc(to_text(tc, val(b), s), Errc::conversion);
    }
    // Lengths outside the sets (a value not from parse_binary_row).
    for (std::size_t n : {1u, 5u, 9u}) assert_errc(to_time(dtc, val(dt(2024, 1, 1, 0, 0, 0, 0).view().substr(0, n)), true, t), Errc::conversion);
    for (std::size_t n : {1u, 4u, 9u}) assert_errc(to_time(tc, val(tm(0, 0, 0, 0, 0, 0).view().substr(0, n)), true, t), Errc::conversion);
    // Not temporals.
    assert_errc(to_time(col(ft::long_), val(Bytes().u32(20240101)), true, t), Errc::conversion);
    assert_errc(to_time(col(ft::double_), val(le_double(1)), true, t), Errc::conversion);
}

void test_time_text(void **) {
    Time t;
    assert_errc(to_time(col(ft::datetime, 0, 6), val("9999-12-31 23:59:59.999999"), false, t), Errc::ok);
    expect_time(t, time_kind::datetime, 0, 9999, 12, 31, 23, 59, 59, 999999);
    assert_errc(to_time(col(ft::datetime, 0, 2), val("2038-01-19 03:14:07.99"), false, t), Errc::ok);
    expect_time(t, time_kind::datetime, 0, 2038, 1, 19, 3, 14, 7, 990000);
    assert_errc(to_time(col(ft::timestamp), val("0000-00-00 00:00:00"), false, t), Errc::ok);
    expect_time(t, time_kind::datetime, 0, 0, 0, 0, 0, 0, 0, 0);
    assert_errc(to_time(col(ft::date), val("0000-00-00"), false, t), Errc::ok);
    expect_time(t, time_kind::date, 0, 0, 0, 0, 0, 0, 0, 0);
    assert_errc(to_time(col(ft::time, 0, 6), val("-838:59:59.000000"), false, t), Errc::ok);
    expect_time(t, time_kind::time, 1, 0, 0, 0, 838, 59, 59, 0);
    assert_errc(to_time(col(ft::time, 0, 1), val("-00:00:00.5"), false, t), Errc::ok);
    expect_time(t, time_kind::time, 1, 0, 0, 0, 0, 0, 0, 500000);
    assert_errc(to_time(col(ft::time), val("25:00:00"), false, t), Errc::ok);
    expect_time(t, time_kind::time, 0, 0, 0, 0, 25, 0, 0, 0);
    // Strings: the form says the kind.
    Column s = col(ft::var_string, 0, 0, 0, 45);
    assert_errc(to_time(s, val("2020-01-02"), false, t), Errc::ok);
    assert_int_equal(t.kind, time_kind::date);
    assert_errc(to_time(s, val("2020-01-02 03:04:05.1"), true, t), Errc::ok);
    expect_time(t, time_kind::datetime, 0, 2020, 1, 2, 3, 4, 5, 100000);
    assert_errc(to_time(s, val("-12:34:56"), true, t), Errc::ok);
    expect_time(t, time_kind::time, 1, 0, 0, 0, 12, 34, 56, 0);

    for (const char *bad : {"", "2020-1-02", "2020-01-02 ", "2020-13-01", "2020-01-32", "20200102", "2020/01/02",
                            "2020-01-02T03:04:05", "2020-01-02 03:04:05.", "2020-01-02 03:04:05.1234567",
                            "2020-01-02 24:00:00", "2020-01-02 03:60:00", "2020-01-02 03:04:05x", "839:00:00",
                            "1:00:00", "1000:00:00", "12:60:00", "12:00:60", "-", "--12:00:00", "12:00", "12:00:00.",
                            "+12:00:00", " 12:00:00"})
        assert_errc(to_time(s, val(bad), false, t), Errc::conversion);
    // A typed column takes only its own form.
    assert_errc(to_time(col(ft::date), val("2020-01-02 00:00:00"), false, t), Errc::conversion);
    assert_errc(to_time(col(ft::datetime), val("2020-01-02"), false, t), Errc::conversion);
    assert_errc(to_time(col(ft::time), val("2020-01-02"), false, t), Errc::conversion);
}

void test_time_to_text(void **) {
    assert_sv_equal(text_of(col(ft::datetime, 0, 0), dt(2020, 1, 2, 3, 4, 5, 0).str()), "2020-01-02 03:04:05");
    assert_sv_equal(text_of(col(ft::datetime, 0, 6), dt(2020, 1, 2, 3, 4, 5, 1).str()), "2020-01-02 03:04:05.000001");
    assert_sv_equal(text_of(col(ft::datetime, 0, 3), dt(2020, 1, 2, 3, 4, 5, 120000).str()), "2020-01-02 03:04:05.120");
    assert_sv_equal(text_of(col(ft::datetime, 0, 1), dt(2020, 1, 2, 0, 0, 0, 0).view().substr(0, 4)), "2020-01-02 00:00:00.0");
    assert_sv_equal(text_of(col(ft::timestamp, 0, 2), ""), "0000-00-00 00:00:00.00");
    assert_sv_equal(text_of(col(ft::date), ""), "0000-00-00");
    assert_sv_equal(text_of(col(ft::date), dt(2024, 2, 29, 0, 0, 0, 0).view().substr(0, 4)), "2024-02-29");
    assert_sv_equal(text_of(col(ft::date), dt(2024, 2, 29, 0, 0, 0, 0).view().substr(0, 7)), "2024-02-29");
    // Not fixed (31): all six digits when there is a fraction.
    assert_sv_equal(text_of(col(ft::datetime, 0, 31), dt(2020, 1, 2, 3, 4, 5, 5).str()), "2020-01-02 03:04:05.000005");
    assert_sv_equal(text_of(col(ft::datetime, 0, 31), dt(2020, 1, 2, 3, 4, 5, 0).str()), "2020-01-02 03:04:05");
    assert_sv_equal(text_of(col(ft::time, 0, 6), tm(1, 34, 22, 59, 59, 0).str()), "-838:59:59.000000");
    assert_sv_equal(text_of(col(ft::time, 0, 0), tm(1, 34, 22, 59, 59, 0).view().substr(0, 8)), "-838:59:59");
    assert_sv_equal(text_of(col(ft::time, 0, 3), tm(1, 0, 0, 0, 0, 500000).str()), "-00:00:00.500");
    assert_sv_equal(text_of(col(ft::time, 0, 0), tm(0, 1, 1, 0, 0, 0).view().substr(0, 8)), "25:00:00");
    assert_sv_equal(text_of(col(ft::time, 0, 0), tm(0, 4, 4, 0, 0, 0).view().substr(0, 8)), "100:00:00");
    assert_sv_equal(text_of(col(ft::time, 0, 2), ""), "00:00:00.00");
    // Lenenc values are copied as they are.
    assert_sv_equal(text_of(col(ft::newdecimal, 0, 2), "-1.50"), "-1.50");
    assert_sv_equal(text_of(col(ft::blob), std::string_view("\0\1", 2)), std::string_view("\0\1", 2));
    assert_sv_equal(text_of(col(ft::var_string), ""), "");
}

// ------------------------------------------------------------ parity with a server

struct ParityColumn {
    const char *name;
    unsigned type, flags, charset, decimals;
    std::uint32_t length;
};
struct ParityText {
    const char *data;  // nullptr: NULL
    std::size_t len;
};
#define PT(s) ParityText{s, sizeof(s) - 1}
#define PT_NULL ParityText{nullptr, 0}
struct ParityRow {
    const char *binary_hex;
    std::vector<ParityText> text;
};
struct ParityResult {
    const char *sql;
    std::vector<ParityColumn> columns;
    std::vector<ParityRow> rows;
};

#include "values_parity_data.inc"

// For each recorded row: parse_binary_row splits the server's binary row,
// to_text gives the text protocol's bytes exactly, and the getters give the
// same answer for both (FLOAT and fixed-decimal reals excepted: their text is
// rounded, so it may convert differently).
void test_parity(void **) {
    int failures = 0, values = 0;
    for (const ParityResult &r : parity_results) {
        std::vector<Column> cols;
        for (const ParityColumn &pc : r.columns) {
            Column c = col(pc.type, pc.flags, pc.decimals, pc.length, pc.charset);
            c.name = pc.name;
            cols.push_back(c);
        }
        BinaryLayout layout;
        layout.build(cols.data(), cols.size());
        for (const ParityRow &row : r.rows) {
            Exact bytes(hex(row.binary_hex));
            std::vector<Value> out(cols.size());
            Error err;
            Errc rc = parse_binary_row(bytes.view(), layout, out.data(), err);
            if (rc != Errc::ok) {
                print_error("%s: %s\n", r.sql, err.message.c_str());
                ++failures;
                continue;
            }
            assert_int_equal(row.text.size(), cols.size());
            for (std::size_t i = 0; i < cols.size(); ++i) {
                const Column &c = cols[i];
                const ParityText &want = row.text[i];
                if (!want.data || !out[i].data) {
                    if (want.data || out[i].data) {
                        print_error("%s: column %s: NULL in one protocol only\n", r.sql, c.name);
                        ++failures;
                    }
                    continue;
                }
                ++values;
                std::string got;
                if (to_text(c, out[i], got) != Errc::ok || got != std::string_view(want.data, want.len)) {
                    print_error("%s: column %s: to_text gave \"%s\", the server sent \"%s\"\n", r.sql, c.name,
                                unit::printable(got).c_str(), unit::printable(std::string_view(want.data, want.len)).c_str());
                    ++failures;
                }
                const bool rounded_text = c.type == ft::float_ || (c.type == ft::double_ && c.decimals != not_fixed_decimals);
                if (rounded_text) continue;
                Value tv{want.data, want.len};
                std::int64_t i1 = 0, i2 = 0;
                std::uint64_t u1 = 0, u2 = 0;
                double d1 = 0, d2 = 0;
                Time t1{}, t2{};
                Errc a, b;
                bool same = true;
                a = to_int64(c, out[i], true, i1), b = to_int64(c, tv, false, i2);
                same = same && a == b && i1 == i2;
                a = to_uint64(c, out[i], true, u1), b = to_uint64(c, tv, false, u2);
                same = same && a == b && u1 == u2;
                a = to_double(c, out[i], true, d1), b = to_double(c, tv, false, d2);
                same = same && a == b && (d1 == d2 || (std::isnan(d1) && std::isnan(d2)));
                a = to_time(c, out[i], true, t1), b = to_time(c, tv, false, t2);
                same = same && a == b && std::memcmp(&t1, &t2, sizeof t1) == 0;
                if (!same) {
                    print_error("%s: column %s: the getters disagree between the protocols\n", r.sql, c.name);
                    ++failures;
                }
            }
        }
    }
    assert_true(values > 150);  // the table is really there
    if (failures) {
        print_error("%d parity failures\n", failures);
        fail();
    }
}

}  // namespace

// The getters' fast paths (fast_int64 / _uint64 / _double) against the
// general to_* functions: for every fast form, boundary values and wrong
// lengths, a fast answer is the general answer, and a value the fast path
// declines is one the general path decides (errors included).
void test_fast_getters(void **) {
    struct Case {
        unsigned type;
        unsigned flags;
        std::size_t width;
    };
    const Case cases[] = {
        {ft::tiny, 0, 1},          {ft::tiny, cf::unsigned_, 1},    {ft::short_, 0, 2},
        {ft::short_, cf::unsigned_, 2}, {ft::year, cf::unsigned_, 2}, {ft::int24, 0, 4},
        {ft::long_, 0, 4},         {ft::long_, cf::unsigned_, 4},   {ft::longlong, 0, 8},
        {ft::longlong, cf::unsigned_, 8}, {ft::float_, 0, 4},       {ft::double_, 0, 8},
    };
    const std::uint64_t patterns[] = {0,
                                      1,
                                      0x7F,
                                      0x80,
                                      0xFF,
                                      0x7FFF,
                                      0x8000,
                                      0xFFFF,
                                      0x7FFFFFFF,
                                      0x80000000,
                                      0xFFFFFFFF,
                                      (1ULL << 53) + 1,
                                      0x7FFFFFFFFFFFFFFFULL,
                                      0x8000000000000000ULL,
                                      0xFFFFFFFFFFFFFFFFULL,
                                      0x7FF0000000000000ULL,  // +inf as a double
                                      0x7F800000,             // +inf as a float
                                      0x3FF0000000000000ULL}; // 1.0 as a double
    int fast_taken = 0;
    for (const Case &k : cases) {
        Column c = col(k.type, k.flags, not_fixed_decimals);
        BinaryLayout layout;
        layout.build(&c, 1);
        assert_int_not_equal(static_cast<int>(layout.fast[0]), static_cast<int>(Fast::none));
        for (std::uint64_t bits : patterns) {
            for (std::size_t len : {k.width, k.width + 1, k.width - 1}) {
                char buf[16] = {};
                for (std::size_t b = 0; b < 8; ++b) buf[b] = static_cast<char>(bits >> (8 * b));
                Value v{buf, len};
                std::int64_t fi = 0, gi = 0;
                std::uint64_t fu = 0, gu = 0;
                double fd = 0, gd = 0;
                Errc ri = to_int64(c, v, true, gi), ru = to_uint64(c, v, true, gu), rd = to_double(c, v, true, gd);
                if (fast_int64(layout.fast[0], v, fi)) {
                    ++fast_taken;
                    assert_int_equal(static_cast<int>(ri), static_cast<int>(Errc::ok));
                    assert_true(fi == gi);
                }
                if (fast_uint64(layout.fast[0], v, fu)) {
                    assert_int_equal(static_cast<int>(ru), static_cast<int>(Errc::ok));
                    assert_true(fu == gu);
                }
                if (fast_double(layout.fast[0], v, fd)) {
                    assert_int_equal(static_cast<int>(rd), static_cast<int>(Errc::ok));
                    assert_memory_equal(&fd, &gd, sizeof fd);
                }
            }
        }
    }
    assert_true(fast_taken > 50);  // the fast paths ran, not only declined
    // Columns without a fast form.
    for (unsigned type : {ft::newdecimal, ft::varchar, ft::blob, ft::bit}) {
        Column c = col(type);
        BinaryLayout layout;
        layout.build(&c, 1);
        assert_int_equal(static_cast<int>(layout.fast[0]), static_cast<int>(Fast::none));
        std::int64_t x;
        assert_false(fast_int64(layout.fast[0], val("12345678"), x));
    }
    // Temporal columns: the time getter's fast form, which the numeric ones
    // decline; fast_time agrees with to_time on every length and on bytes
    // in and out of range (months 13, hours 24, days past 34, signs 2).
    int time_taken = 0;
    for (unsigned type : {ft::date, ft::newdate, ft::datetime, ft::timestamp, ft::datetime2, ft::timestamp2,
                          ft::time, ft::time2}) {
        Column c = col(type);
        BinaryLayout layout;
        layout.build(&c, 1);
        assert_int_not_equal(static_cast<int>(layout.fast[0]), static_cast<int>(Fast::none));
        std::int64_t x;
        double d;
        assert_false(fast_int64(layout.fast[0], val("\x07\x00\x00\x00"), x));
        assert_false(fast_double(layout.fast[0], val("\x07\x00\x00\x00"), d));
        const unsigned char fills[][12] = {
            {0xE8, 0x07, 12, 31, 23, 59, 59, 0x3F, 0x42, 0x0F, 0x00, 0},
            {0x01, 0x22, 0x00, 0x00, 0x00, 22, 59, 59, 0x3F, 0x42, 0x0F, 0x00},
            {0x10, 0x27, 13, 32, 24, 60, 60, 0x40, 0x42, 0x0F, 0x00, 0},
            {0x02, 0x23, 0x00, 0x00, 0x00, 24, 60, 60, 0x40, 0x42, 0x0F, 0x00},
            {0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
            {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
        };
        for (const auto &f : fills) {
            for (std::size_t len = 0; len <= 12; ++len) {
                Value v{reinterpret_cast<const char *>(f), len};
                Time ft{}, gt{};
                Errc r = to_time(c, v, true, gt);
                const bool fast = fast_time(layout.fast[0], v, ft);
                assert_int_equal(fast, r == Errc::ok);
                if (fast) {
                    ++time_taken;
                    assert_memory_equal(&ft, &gt, sizeof ft);
                }
            }
        }
    }
    assert_true(time_taken > 20);
}

// terminate_binary_strings: every length-encoded value up to
// in_place_text_max becomes a C string in place, its bytes unchanged; longer
// ones and the fixed-width values around them stay as they were.
void test_terminate_in_place(void **) {
    // Every way the move is made: bytes, two overlapping 4- and 8-byte words,
    // 16-byte blocks with an overlapping tail, memmove.
    const std::size_t lens[] = {0,  1,  2,  3,  4,  5,  7,  8,  9,  15,  16,  17,  31,  32,
                                33, 47, 48, 49, 63, 64, 65, 250, 251, in_place_text_max, in_place_text_max + 1};
    std::vector<Wire> wires;
    std::string row(1, '\0');
    const std::size_t n = std::size(lens) * 2;
    row.append((n + 7 + 2) / 8, '\0');
    std::vector<std::string> want;
    for (std::size_t k = 0; k < std::size(lens); ++k) {
        // A 4-byte INT after each string: the NUL must not land on it.
        std::string v;
        for (std::size_t b = 0; b < lens[k]; ++b) v.push_back(static_cast<char>('a' + (b + k) % 26));
        want.push_back(v);
        if (lens[k] < 251) {
            row.push_back(static_cast<char>(lens[k]));
        } else {
            row.push_back(static_cast<char>(0xFC));
            row.push_back(static_cast<char>(lens[k] & 0xFF));
            row.push_back(static_cast<char>(lens[k] >> 8));
        }
        row += v;
        wires.push_back(Wire::lenenc);
        row += std::string("\x01\x02\x03\x04", 4);
        wires.push_back(Wire::int4);
    }
    BinaryLayout layout;
    layout.set_wire(wires);
    std::vector<Value> out(n);
    Error err;
    assert_int_equal(static_cast<int>(parse_binary_row(row, layout, out.data(), err)), static_cast<int>(Errc::ok));
    const std::vector<Value> before = out;
    // The one-pass form gives the same values on a copy of the row.
    std::string copy = row;
    std::vector<Value> fused(n);
    assert_int_equal(static_cast<int>(parse_binary_row_terminated(copy, layout, fused.data(), err)),
                     static_cast<int>(Errc::ok));
    terminate_binary_strings(layout, out.data());
    for (std::size_t i = 0; i < n; ++i) {
        assert_int_equal(fused[i].len, out[i].len);
        assert_int_equal(fused[i].data - copy.data(), out[i].data - row.data());
        assert_memory_equal(fused[i].data, out[i].data, out[i].len);
    }
    assert_true(copy == row);
    for (std::size_t k = 0; k < std::size(lens); ++k) {
        const Value &s = out[2 * k];
        assert_int_equal(s.len, lens[k]);
        assert_true(std::string_view(s.data, s.len) == want[k]);
        if (lens[k] <= in_place_text_max) {
            assert_true(s.data == before[2 * k].data - 1);
            assert_int_equal(s.data[s.len], 0);
        } else {
            assert_true(s.data == before[2 * k].data);
        }
        assert_true(out[2 * k + 1].data == before[2 * k + 1].data);
        assert_memory_equal(out[2 * k + 1].data, "\x01\x02\x03\x04", 4);
    }
    // NULL values stay NULL.
    std::string nulls = std::string(1, '\0') + std::string(1, '\x04');  // column 0 NULL
    layout.set_wire({Wire::lenenc});
    Value one{"x", 1};
    assert_int_equal(static_cast<int>(parse_binary_row(nulls, layout, &one, err)), static_cast<int>(Errc::ok));
    terminate_binary_strings(layout, &one);
    assert_null(one.data);
}

// BinaryLayout's arrays: up to N elements in the object, more on the heap;
// copies and moves keep the contents, either way.
void test_small_array(void **) {
    using A = SmallArray<std::uint8_t, 4>;
    A a;
    assert_int_equal(a.size(), 0);
    assert_int_equal(a.capacity(), 4);
    a.resize(3);
    for (std::size_t i = 0; i < 3; ++i) assert_int_equal(a[i], 0);  // value-initialised
    a[0] = 7, a[2] = 9;
    const std::uint8_t *local = a.data();
    a.resize(4);
    assert_ptr_equal(a.data(), local);  // still in the object
    a.resize(10);                        // to the heap, contents kept, the rest zero
    assert_true(a.capacity() >= 10);
    assert_int_equal(a[0], 7);
    assert_int_equal(a[2], 9);
    for (std::size_t i = 3; i < 10; ++i) assert_int_equal(a[i], 0);
    a[9] = 5;
    A b = a;  // a heap copy
    assert_int_equal(b.size(), 10);
    assert_ptr_not_equal(b.data(), a.data());
    assert_int_equal(b[9], 5);
    A c = std::move(b);  // steals the heap block
    assert_int_equal(c.size(), 10);
    assert_int_equal(c[9], 5);
    assert_int_equal(b.size(), 0);
    A d;
    const std::uint8_t two[2] = {1, 2};
    d.assign(two, 2);
    A e = std::move(d);  // a local one copied
    assert_int_equal(e.size(), 2);
    assert_int_equal(e[1], 2);
    c = e;  // shrinks the size, keeps c's heap capacity
    assert_int_equal(c.size(), 2);
    assert_int_equal(c[0], 1);
    c = c;
    assert_int_equal(c.size(), 2);
    c.clear();
    assert_true(c.empty());

    // A layout past local_columns works as one within it.
    std::vector<Column> cols(BinaryLayout::local_columns + 3);
    for (Column &col : cols) col = Column{}, col.type = 8;  // LONGLONG
    BinaryLayout l;
    l.build(cols.data(), cols.size());
    assert_int_equal(l.size(), cols.size());
    for (std::size_t i = 0; i < cols.size(); ++i) {
        assert_true(l.wire[i] == Wire::int8);
        assert_int_equal(l.step[i], 8);
    }
    BinaryLayout copy = l;
    assert_int_equal(copy.size(), cols.size());
    assert_true(copy.wire[cols.size() - 1] == Wire::int8);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_of_types),
        cmocka_unit_test(test_row_every_wire),
        cmocka_unit_test(test_row_header_and_bitmap),
        cmocka_unit_test(test_row_temporal_lengths),
        cmocka_unit_test(test_row_lenenc),
        cmocka_unit_test(test_integer_boundaries),
        cmocka_unit_test(test_integer_text_strict),
        cmocka_unit_test(test_decimal_and_strings),
        cmocka_unit_test(test_bit),
        cmocka_unit_test(test_real_conversions),
        cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_format_float),
        cmocka_unit_test(test_real_text),
        cmocka_unit_test(test_integer_text),
        cmocka_unit_test(test_time_binary),
        cmocka_unit_test(test_time_text),
        cmocka_unit_test(test_time_to_text),
        cmocka_unit_test(test_parity),
        cmocka_unit_test(test_fast_getters),
        cmocka_unit_test(test_terminate_in_place),
        cmocka_unit_test(test_small_array),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
