// Client-side SQL formatting (proto/sqlformat.hpp): the placeholder scanner,
// escaping per mode and character set, and format_query for every type.
#include "proto/sqlformat.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "unit.hpp"

using mywire::Error;
using mywire::proto::Param;
namespace proto = mywire::proto;
namespace ft = mywire::proto::field_type;
using unit::Errc;

namespace {

constexpr unsigned utf8mb4 = 45, latin1 = 8, big5 = 1, gbk = 28, sjis = 13, cp932 = 95,
                   gb18030 = 248, binary = 63, ucs2 = 35, utf16 = 54, utf32 = 60;

std::string esc(std::string_view in, unsigned coll, bool nbe) {
    std::string out = "<";  // escape_string appends
    Error err;
    Errc rc = proto::escape_string(in, coll, nbe, out, err);
    if (rc != Errc::ok) {
        print_error("escape of \"%s\" failed: %s\n", unit::printable(in).c_str(), err.message.c_str());
        fail();
    }
    assert_true(out.size() >= 1 && out[0] == '<');
    return out.substr(1);
}

// The escape must fail with code; out stays as it was; the message says why.
void esc_fails(std::string_view in, unsigned coll, bool nbe, Errc code, const char *needle) {
    std::string out = "keep";
    Error err;
    assert_errc(proto::escape_string(in, coll, nbe, out, err), code);
    assert_sv_equal(out, "keep");
    if (err.message.find(needle) == std::string::npos) {
        print_error("message \"%s\" lacks \"%s\"\n", err.message.c_str(), needle);
        fail();
    }
}

std::vector<std::size_t> places(std::string_view sql, bool nbe = false, unsigned coll = utf8mb4) {
    std::vector<std::size_t> pos{999};  // replaced, not appended to
    Error err;
    Errc rc = proto::find_placeholders(sql, nbe, pos, err, coll);
    if (rc != Errc::ok) {
        print_error("scan of \"%s\" failed: %s\n", unit::printable(sql).c_str(), err.message.c_str());
        fail();
    }
    return pos;
}

void scan_fails(std::string_view sql, bool nbe, const char *needle) {
    std::vector<std::size_t> pos;
    Error err;
    assert_errc(proto::find_placeholders(sql, nbe, pos, err), Errc::argument);
    if (err.message.find(needle) == std::string::npos) {
        print_error("message \"%s\" lacks \"%s\"\n", err.message.c_str(), needle);
        fail();
    }
}

using V = std::vector<std::size_t>;
#define assert_places(got, ...)                                                  \
    do {                                                                         \
        V g_ = (got), e_{__VA_ARGS__};                                           \
        if (g_ != e_) {                                                          \
            print_error("%s:%d: got %zu placeholders\n", __FILE__, __LINE__, g_.size()); \
            for (std::size_t p_ : g_) print_error("  at %zu\n", p_);             \
            fail();                                                              \
        }                                                                        \
    } while (0)

// ------------------------------------------------------------ the scanner

void test_scan_plain(void **) {
    assert_places(places("SELECT 1"));
    assert_places(places("?"), 0);
    assert_places(places("SELECT ?, ?+?"), 7, 10, 12);
    assert_places(places("a?b"), 1);
    assert_places(places(""));
}

void test_scan_quotes(void **) {
    assert_places(places("SELECT '?', ?"), 12);
    assert_places(places("SELECT \"?\", ?"), 12);
    assert_places(places("SELECT `?`, ?"), 12);
    // Doubled quotes stay inside.
    assert_places(places("SELECT 'it''s ?', ?"), 18);
    assert_places(places("SELECT \"a\"\"?\", ?"), 15);
    assert_places(places("SELECT `a``?`, ?"), 15);
    // Backslash escapes: \' does not end the string...
    assert_places(places("SELECT 'a\\' ?', ?"), 16);
    assert_places(places("SELECT 'a\\\\', ?"), 14);
    // ...but under NO_BACKSLASH_ESCAPES it does.
    assert_places(places("SELECT 'a\\', ?, '?'", true), 13);
    // Backticks never take a backslash escape.
    assert_places(places("SELECT `a\\`, ?"), 13);
    // One quote kind inside another.
    assert_places(places("SELECT '\"?`', \"'?\", `'?\"`, ?"), 27);
}

void test_scan_comments(void **) {
    assert_places(places("SELECT 1 -- ?\n, ?"), 16);
    assert_places(places("SELECT 1 --\t?\n, ?"), 16);
    assert_places(places("SELECT 1 --\n?"), 12);  // LF is a control character
    // "--" without a blank after it is two minus signs.
    assert_places(places("SELECT 1--?"), 10);
    assert_places(places("SELECT 1 # ?\n?"), 13);
    assert_places(places("SELECT 1 # ?"));  // to the end
    assert_places(places("SELECT /* ? */ ?"), 15);
    assert_places(places("SELECT /* '?' */ ?"), 17);  // quotes in a comment are text
    assert_places(places("SELECT '/*' , ?, '*/'"), 14);
    assert_places(places("SELECT /*+ hint(?) */ ?"), 22);
    assert_places(places("SELECT /**/?"), 11);
}

void test_scan_executable_comments(void **) {
    // The code inside /*! */ and /*M! */ runs: its ? are placeholders.
    assert_places(places("SELECT /*! ? */ ?"), 11, 16);
    assert_places(places("SELECT /*!50100 ? */ 1"), 16);
    assert_places(places("SELECT /*M!100500 ?, '*/?' */ ?"), 18, 30);
    // A plain comment inside one ends at the first */, then the executable
    // comment goes on.
    assert_places(places("/*! /* ? */ ? */ ?"), 12, 17);
    // # and -- comments inside it.
    assert_places(places("/*! ? # ?\n */?"), 4, 13);
}

void test_scan_unterminated(void **) {
    scan_fails("SELECT 'abc", false, "string literal");
    scan_fails("SELECT 'abc\\'", false, "string literal");
    scan_fails("SELECT 'abc\\", false, "string literal");
    scan_fails("SELECT \"abc", false, "string literal");
    scan_fails("SELECT `abc", false, "quoted identifier");
    scan_fails("SELECT /* abc", false, "comment");
    scan_fails("SELECT /* abc *", false, "comment");
    scan_fails("SELECT /*", false, "comment");
    scan_fails("SELECT /*! ? ", false, "executable comment");
    scan_fails("SELECT 'a''", false, "offset 7");
    // Under NO_BACKSLASH_ESCAPES 'a\' is whole, and "'a\''" has a doubled quote.
    assert_places(places("SELECT 'a\\'", true));
    scan_fails("SELECT 'a\\''", true, "string literal");
}

void test_scan_multibyte(void **) {
    // gbk 0xBF5C is one character: its 0x5C is no backslash, the string ends
    // at the next quote.
    assert_places(places("SELECT '\xBF\x5C', ?", false, gbk), 13);
    // Charset-blind, the 0x5C would escape the quote and the string not end.
    scan_fails("SELECT '\xBF\x5C', ?", false, "string literal");
    // A trail byte 0x60 in a quoted identifier is no backtick.
    assert_places(places("SELECT `\xBF\x60?`, ?", false, gbk), 14);
    assert_places(places("SELECT `\xA4\x60?`, ?", false, big5), 14);
    assert_places(places("SELECT '\x95\x5C', ?", false, sjis), 13);
    assert_places(places("SELECT '\x81\x30\x81\x30', ?", false, gb18030), 15);
    // A multi-byte character outside quotes is skipped whole too.
    assert_places(places("SELECT \xBF\x60 ?", false, gbk), 10);
    // A lead byte without its trail is a byte of its own, as for the server.
    assert_places(places("SELECT '\xBF', ?", false, gbk), 12);
    // Wide and unknown character sets are refused.
    std::vector<std::size_t> pos;
    Error err;
    assert_errc(proto::find_placeholders("?", false, pos, err, ucs2), Errc::unsupported);
    assert_errc(proto::find_placeholders("?", false, pos, err, 17), Errc::argument);
    assert_errc(proto::find_placeholders("?", false, pos, err, 100000), Errc::argument);
}

// ------------------------------------------------------------- escaping

void test_escape_backslash_mode(void **) {
    assert_sv_equal(esc("", utf8mb4, false), "");
    assert_sv_equal(esc("plain text", utf8mb4, false), "plain text");
    assert_sv_equal(esc(std::string_view("\0", 1), utf8mb4, false), "\\0");
    assert_sv_equal(esc("\n\r\\'\"\x1a", utf8mb4, false), "\\n\\r\\\\\\'\\\"\\Z");
    assert_sv_equal(esc("\t%_", utf8mb4, false), "\t%_");  // not escaped
    assert_sv_equal(esc("' OR 1=1 -- ", utf8mb4, false), "\\' OR 1=1 -- ");
    // utf8mb4 is byte-safe: multi-byte characters pass through.
    assert_sv_equal(esc("\xE4\xB8\xAD'", utf8mb4, false), "\xE4\xB8\xAD\\'");
    // So are latin1 and binary for every byte.
    std::string all;
    for (int c = 0x80; c < 0x100; ++c) all.push_back(static_cast<char>(c));
    assert_sv_equal(esc(all, latin1, false), all);
    assert_sv_equal(esc(all, binary, false), all);
    assert_sv_equal(esc(all, utf8mb4, false), all);  // not validated: no escaping risk
}

void test_escape_nbe_mode(void **) {
    assert_sv_equal(esc("'", utf8mb4, true), "''");
    assert_sv_equal(esc("a'b''c", utf8mb4, true), "a''b''''c");
    std::string odd("\\\"\n\r\x1a", 5);
    odd.push_back('\0');
    assert_sv_equal(esc(odd, utf8mb4, true), odd);  // nothing else changes
    assert_sv_equal(esc("\\'", utf8mb4, true), "\\''");
}

void test_escape_multibyte_whole(void **) {
    // Trail byte 0x5C copied as is, never escaped.
    assert_sv_equal(esc("\xBF\x5C", gbk, false), "\xBF\x5C");
    assert_sv_equal(esc("\xBF\x5C'", gbk, false), "\xBF\x5C\\'");
    assert_sv_equal(esc("\xBF\x5C\\", gbk, false), "\xBF\x5C\\\\");
    assert_sv_equal(esc("\xA4\x5C", big5, false), "\xA4\x5C");
    assert_sv_equal(esc("\xA4\x5C\x5C", big5, false), "\xA4\x5C\\\\");
    assert_sv_equal(esc("\x95\x5C", sjis, false), "\x95\x5C");
    assert_sv_equal(esc("\x95\x5C'", cp932, false), "\x95\x5C\\'");
    assert_sv_equal(esc("\xB1\x5C", sjis, false), "\xB1\\\\");  // 0xB1: half-width katakana
    assert_sv_equal(esc("\x81\x5C", gb18030, false), "\x81\x5C");
    assert_sv_equal(esc("\x81\x30\x81\x30'", gb18030, false), "\x81\x30\x81\x30\\'");
    assert_sv_equal(esc("\x95\x39\xFE\x39", gb18030, false), "\x95\x39\xFE\x39");
    // Same in NBE mode (0x5C is ordinary there anyway).
    assert_sv_equal(esc("\xBF\x5C'", gbk, true), "\xBF\x5C''");
    // The nopad and bin collations of the same sets follow the same rules.
    assert_sv_equal(esc("\xBF\x5C", 87, false), "\xBF\x5C");    // gbk_bin
    assert_sv_equal(esc("\xBF\x5C", 1052, false), "\xBF\x5C");  // gbk_chinese_nopad_ci
    assert_sv_equal(esc("\xA4\x5C", 84, false), "\xA4\x5C");    // big5_bin
    assert_sv_equal(esc("\x95\x5C", 96, false), "\x95\x5C");    // cp932_bin
    // Charset-blind, the 0x5C would be doubled.
    assert_sv_equal(esc("\xBF\x5C", latin1, false), "\xBF\\\\");
}

void test_escape_multibyte_refused(void **) {
    // The classic injection: 0xBF27 is no gbk character.
    esc_fails("\xBF'", gbk, false, Errc::argument, "offset 0");
    esc_fails("\xBF'", gbk, true, Errc::argument, "well-formed");
    esc_fails("ab\xA4'", big5, false, Errc::argument, "offset 2");
    // A lead byte at the end: truncated.
    esc_fails("abc\xBF", gbk, false, Errc::argument, "cuts off");
    esc_fails("\xA4", big5, false, Errc::argument, "cuts off");
    esc_fails("\x95", sjis, false, Errc::argument, "cuts off");
    esc_fails("\x81\x30\x81", gb18030, false, Errc::argument, "cuts off");
    esc_fails("\x81\x30", gb18030, false, Errc::argument, "cuts off");
    // Bytes no character starts with.
    esc_fails("\x80", gbk, false, Errc::argument, "0x80");
    esc_fails("\xFF", gbk, false, Errc::argument, "0xFF");
    esc_fails("\xFA\x40", big5, false, Errc::argument, "well-formed");
    esc_fails("\xA0", sjis, false, Errc::argument, "well-formed");
    esc_fails("\xFD\x40", cp932, false, Errc::argument, "well-formed");
    esc_fails("\x81\x30\x30\x30", gb18030, false, Errc::argument, "well-formed");
    esc_fails("\x81\x7F", gb18030, false, Errc::argument, "well-formed");
    // Trail bytes out of range.
    esc_fails("\xBF\x3F", gbk, false, Errc::argument, "well-formed");
    esc_fails("\xA4\x80", big5, false, Errc::argument, "well-formed");
    esc_fails("\x95\xFD", sjis, false, Errc::argument, "well-formed");
}

void test_escape_collations(void **) {
    esc_fails("x", ucs2, false, Errc::unsupported, "ucs2");
    esc_fails("x", utf16, false, Errc::unsupported, "utf16");
    esc_fails("x", utf32, false, Errc::unsupported, "utf32");
    esc_fails("x", 56, false, Errc::unsupported, "utf16");  // utf16le
    esc_fails("x", 2560, false, Errc::unsupported, "ucs2");  // ucs2 uca1400
    esc_fails("x", 0, false, Errc::argument, "not known");
    esc_fails("x", 17, false, Errc::argument, "not known");
    esc_fails("x", 254, false, Errc::argument, "not known");
    esc_fails("x", 5000, false, Errc::argument, "not known");
    assert_int_equal(static_cast<int>(proto::collation_class(255)), static_cast<int>(proto::Mb::byte_safe));
    assert_int_equal(static_cast<int>(proto::collation_class(2304)), static_cast<int>(proto::Mb::byte_safe));
    assert_int_equal(static_cast<int>(proto::collation_class(1119)), static_cast<int>(proto::Mb::sjis));
    assert_int_equal(static_cast<int>(proto::collation_class(249)), static_cast<int>(proto::Mb::gb18030));
    assert_int_equal(static_cast<int>(proto::collation_class(12)), static_cast<int>(proto::Mb::byte_safe));  // ujis
}

// ------------------------------------------------------------ format_query

Param make(unsigned type, std::string bytes, bool is_unsigned = false) {
    Param p;
    p.type = static_cast<std::uint8_t>(type);
    p.bytes = std::move(bytes);
    p.is_unsigned = is_unsigned;
    p.bound = true;
    return p;
}

std::string le(std::uint64_t v, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return s;
}

Param dbl(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, 8);
    return make(ft::double_, le(bits, 8));
}
Param flt(float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, 4);
    return make(ft::float_, le(bits, 4));
}

std::string fmt(std::string_view sql, const std::vector<Param> &params, unsigned coll = utf8mb4,
                bool nbe = false) {
    std::string out = "<";
    Error err;
    Errc rc = proto::format_query(sql, params, coll, nbe, out, err);
    if (rc != Errc::ok) {
        print_error("format of \"%s\" failed: %s\n", unit::printable(sql).c_str(), err.message.c_str());
        fail();
    }
    return out.substr(1);
}

std::string one(const Param &p, unsigned coll = utf8mb4, bool nbe = false) {
    return fmt("?", {p}, coll, nbe);
}

void fmt_fails(std::string_view sql, const std::vector<Param> &params, const char *needle,
               unsigned coll = utf8mb4) {
    std::string out = "keep";
    Error err;
    assert_errc(proto::format_query(sql, params, coll, false, out, err), Errc::argument);
    assert_sv_equal(out, "keep");
    if (err.message.find(needle) == std::string::npos) {
        print_error("message \"%s\" lacks \"%s\"\n", err.message.c_str(), needle);
        fail();
    }
}

void test_format_integers(void **) {
    assert_sv_equal(one(make(ft::tiny, le(0xFF, 1))), "-1");
    assert_sv_equal(one(make(ft::tiny, le(0xFF, 1), true)), "255");
    assert_sv_equal(one(make(ft::short_, le(0x8000, 2))), "-32768");
    assert_sv_equal(one(make(ft::short_, le(0x8000, 2), true)), "32768");
    assert_sv_equal(one(make(ft::year, le(2024, 2), true)), "2024");
    assert_sv_equal(one(make(ft::long_, le(0x80000000u, 4))), "-2147483648");
    assert_sv_equal(one(make(ft::long_, le(0xFFFFFFFFu, 4), true)), "4294967295");
    assert_sv_equal(one(make(ft::int24, le(123456, 4))), "123456");
    assert_sv_equal(one(make(ft::longlong, le(0x8000000000000000ull, 8))), "-9223372036854775808");
    assert_sv_equal(one(make(ft::longlong, le(~0ull, 8), true)), "18446744073709551615");
    assert_sv_equal(one(make(ft::longlong, le(42, 8))), "42");
    // A value in "SELECT 5-?" keeps its meaning: "5--3" is no comment.
    assert_sv_equal(fmt("SELECT 5-?", {make(ft::long_, le(static_cast<std::uint32_t>(-3), 4))}),
                    "SELECT 5--3");
    fmt_fails("?", {make(ft::long_, le(1, 8))}, "4 bytes");
    fmt_fails("?", {make(ft::tiny, "")}, "1 bytes");
}

void test_format_floats(void **) {
    assert_sv_equal(one(dbl(1.5)), "1.5e0");
    assert_sv_equal(one(dbl(0.1)), "0.1e0");
    assert_sv_equal(one(dbl(-2)), "-2e0");
    assert_sv_equal(one(dbl(1e20)), "1e+20");
    assert_sv_equal(one(dbl(5e-324)), "5e-324");
    assert_sv_equal(one(dbl(1.7976931348623157e308)), "1.7976931348623157e+308");
    assert_sv_equal(one(dbl(0.30000000000000004)), "0.30000000000000004e0");
    assert_sv_equal(one(flt(0.1f)), "0.1e0");
    assert_sv_equal(one(flt(3.4028235e38f)), "3.4028235e+38");
    fmt_fails("?", {dbl(std::numeric_limits<double>::quiet_NaN())}, "NaN");
    fmt_fails("?", {dbl(std::numeric_limits<double>::infinity())}, "NaN and infinities");
    fmt_fails("?", {dbl(-std::numeric_limits<double>::infinity())}, "infinities");
    fmt_fails("?", {flt(std::numeric_limits<float>::infinity())}, "infinities");
    fmt_fails("?", {make(ft::double_, le(0, 4))}, "8 bytes");
    fmt_fails("?", {make(ft::float_, le(0, 8))}, "4 bytes");
}

void test_format_decimal(void **) {
    assert_sv_equal(one(make(ft::newdecimal, "12.50")), "12.50");
    assert_sv_equal(one(make(ft::newdecimal, "-0")), "-0");
    assert_sv_equal(one(make(ft::newdecimal, "1e-5")), "1e-5");
    assert_sv_equal(one(make(ft::newdecimal, "1.5E+10")), "1.5E+10");
    assert_sv_equal(one(make(ft::decimal, "7")), "7");
    for (const char *bad : {"", "-", "1.", ".5", "1e", "1e+", "+1", "1 ", " 1", "1;DROP TABLE t",
                            "0x10", "1..2", "--1", "1e5e5", "NaN", "1,5"})
        fmt_fails("?", {make(ft::newdecimal, bad)}, "DECIMAL");
}

void test_format_strings(void **) {
    assert_sv_equal(one(make(ft::var_string, "it's")), "'it\\'s'");
    assert_sv_equal(one(make(ft::string, "a\\b")), "'a\\\\b'");
    assert_sv_equal(one(make(ft::varchar, "x")), "'x'");
    assert_sv_equal(one(make(ft::var_string, "it's"), utf8mb4, true), "'it''s'");
    assert_sv_equal(one(make(ft::var_string, std::string("\0\x1a", 2))), "'\\0\\Z'");
    assert_sv_equal(one(make(ft::var_string, "")), "''");
    assert_sv_equal(one(make(ft::enum_, "b")), "'b'");
    assert_sv_equal(one(make(ft::json, "{\"a\": \"it's\"}")), "'{\\\"a\\\": \\\"it\\'s\\\"}'");
    assert_sv_equal(one(make(ft::json, "{\"a\":1}"), utf8mb4, true), "'{\"a\":1}'");
    // The charset's rules apply.
    assert_sv_equal(one(make(ft::var_string, "\xBF\x5C'"), gbk), "'\xBF\x5C\\''");
    fmt_fails("?", {make(ft::var_string, "\xBF'")}, "parameter 0", gbk);
    fmt_fails("?", {make(ft::var_string, "\xBF'")}, "0xBF", gbk);
}

void test_format_blob(void **) {
    assert_sv_equal(one(make(ft::blob, std::string("\0\x01'\\\xFF", 5))), "X'0001275CFF'");
    assert_sv_equal(one(make(ft::blob, "")), "X''");
    assert_sv_equal(one(make(ft::long_blob, "\xBF'")), "X'BF27'");
    // Charset-independent: the same under gbk, where the bytes are no string.
    assert_sv_equal(one(make(ft::blob, "\xBF'"), gbk), "X'BF27'");
}

void test_format_temporal(void **) {
    assert_sv_equal(one(make(ft::date, le(2024, 2) + "\x02\x1d")), "'2024-02-29'");
    assert_sv_equal(one(make(ft::date, "")), "'0000-00-00'");
    assert_sv_equal(one(make(ft::datetime, le(1999, 2) + "\x0c\x1f\x17\x3b\x3b")),
                    "'1999-12-31 23:59:59'");
    assert_sv_equal(one(make(ft::datetime, le(2024, 2) + "\x01\x02")), "'2024-01-02 00:00:00'");
    assert_sv_equal(one(make(ft::timestamp, le(2024, 2) + "\x01\x02\x03\x04\x05" + le(500, 4))),
                    "'2024-01-02 03:04:05.000500'");
    assert_sv_equal(one(make(ft::datetime, le(2024, 2) + "\x01\x02\x03\x04\x05" + le(0, 4))),
                    "'2024-01-02 03:04:05'");
    assert_sv_equal(one(make(ft::datetime, "")), "'0000-00-00 00:00:00'");
    assert_sv_equal(one(make(ft::time, std::string("\0", 1) + le(0, 4) + "\x01\x02\x03")), "'01:02:03'");
    assert_sv_equal(one(make(ft::time, std::string("\x01", 1) + le(34, 4) + "\x16\x3b\x3b")),
                    "'-838:59:59'");
    assert_sv_equal(one(make(ft::time, std::string("\0", 1) + le(34, 4) + "\x16\x3b\x3a" + le(999999, 4))),
                    "'838:59:58.999999'");
    assert_sv_equal(one(make(ft::time, std::string("\0", 1) + le(1, 4) + std::string("\x02\x00\x00", 3))), "'26:00:00'");
    assert_sv_equal(one(make(ft::time, "")), "'00:00:00'");
    fmt_fails("?", {make(ft::date, le(2024, 2) + "\x0d\x01")}, "out of range");
    fmt_fails("?", {make(ft::date, le(2024, 2) + "\x01\x20")}, "out of range");
    fmt_fails("?", {make(ft::date, le(10000, 2) + "\x01\x01")}, "out of range");
    fmt_fails("?", {make(ft::date, le(2024, 2) + "\x01\x01\x01\x01\x01")}, "0 or 4 bytes");
    fmt_fails("?", {make(ft::datetime, le(2024, 2) + std::string("\x01\x01\x18\x00\x00", 5))}, "out of range");
    fmt_fails("?", {make(ft::datetime, le(2024, 2) + std::string("\x01\x01\x01\x3c\x00", 5))}, "out of range");
    fmt_fails("?", {make(ft::datetime, le(2024, 2) + "\x01\x01\x01\x01\x01" + le(1000000, 4))},
              "out of range");
    fmt_fails("?", {make(ft::datetime, "12345")}, "0, 4, 7 or 11");
    fmt_fails("?", {make(ft::time, std::string("\0", 1) + le(35, 4) + std::string("\x00\x00\x00", 3))}, "838");
    fmt_fails("?", {make(ft::time, std::string("\0", 1) + le(0, 4) + std::string("\x18\x00\x00", 3))}, "838");
    fmt_fails("?", {make(ft::time, std::string("\0", 1) + le(34, 4) + "\x16\x3b\x3b" + le(1, 4))}, "838");
    fmt_fails("?", {make(ft::time, std::string("\x02", 1) + le(0, 4) + std::string("\x01\x00\x00", 3))}, "sign");
    fmt_fails("?", {make(ft::time, "1234")}, "0, 8 or 12");
}

void test_format_null_and_mixed(void **) {
    Param null;
    null.bound = true;
    assert_sv_equal(one(null), "NULL");
    assert_sv_equal(fmt("INSERT INTO t VALUES (?, '?', ?) -- ?\n/*! , ? */",
                        {make(ft::long_, le(7, 4)), make(ft::var_string, "a'b"), null}),
                    "INSERT INTO t VALUES (7, '?', 'a\\'b') -- ?\n/*! , NULL */");
    assert_sv_equal(fmt("SELECT 1", {}), "SELECT 1");
    // Appends.
    std::string out = "head;";
    Error err;
    assert_errc(proto::format_query("SELECT ?", {make(ft::tiny, le(1, 1))}, utf8mb4, false, out, err),
                Errc::ok);
    assert_sv_equal(out, "head;SELECT 1");
}

void test_format_errors(void **) {
    fmt_fails("SELECT ?, ?", {make(ft::tiny, le(1, 1))}, "2 placeholders but 1 parameters");
    fmt_fails("SELECT 1", {make(ft::tiny, le(1, 1))}, "0 placeholders but 1 parameters");
    fmt_fails("SELECT '?", {}, "unterminated");
    Param unbound;
    fmt_fails("SELECT ?", {unbound}, "never bound");
    fmt_fails("SELECT ?, ?", {make(ft::tiny, le(1, 1)), unbound}, "parameter 1");
    Param long_data = make(ft::blob, "x");
    long_data.long_data = true;
    fmt_fails("?", {long_data}, "long data");
    fmt_fails("?", {make(ft::bit, "x")}, "type 16");
    fmt_fails("?", {make(ft::vector, "x")}, "type 242");
    // A literal with "*/" inside an executable comment (a server that does
    // not run it would see the comment end there).
    fmt_fails("/*!99999 ? */", {make(ft::var_string, "*/ DROP TABLE t; /*")}, "*/");
    fmt_fails("/*M! ? */", {make(ft::json, "\"*/\"")}, "executable comment");
    assert_sv_equal(fmt("SELECT ?", {make(ft::var_string, "*/")}), "SELECT '*/'");
    // The second literal's error leaves out as it was, the first one's text included.
    std::string out = "keep";
    Error err;
    assert_errc(proto::format_query("?, ?", {make(ft::tiny, le(1, 1)), dbl(NAN)}, utf8mb4, false, out, err),
                Errc::argument);
    assert_sv_equal(out, "keep");
    // Charset refusals.
    assert_errc(proto::format_query("?", {make(ft::tiny, le(1, 1))}, ucs2, false, out, err),
                Errc::unsupported);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_plain),
        cmocka_unit_test(test_scan_quotes),
        cmocka_unit_test(test_scan_comments),
        cmocka_unit_test(test_scan_executable_comments),
        cmocka_unit_test(test_scan_unterminated),
        cmocka_unit_test(test_scan_multibyte),
        cmocka_unit_test(test_escape_backslash_mode),
        cmocka_unit_test(test_escape_nbe_mode),
        cmocka_unit_test(test_escape_multibyte_whole),
        cmocka_unit_test(test_escape_multibyte_refused),
        cmocka_unit_test(test_escape_collations),
        cmocka_unit_test(test_format_integers),
        cmocka_unit_test(test_format_floats),
        cmocka_unit_test(test_format_decimal),
        cmocka_unit_test(test_format_strings),
        cmocka_unit_test(test_format_blob),
        cmocka_unit_test(test_format_temporal),
        cmocka_unit_test(test_format_null_and_mixed),
        cmocka_unit_test(test_format_errors),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
