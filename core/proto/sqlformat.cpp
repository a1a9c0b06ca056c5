#include "proto/sqlformat.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <system_error>

namespace mywire::proto {

namespace {

struct CollationRun {
    unsigned first, last;
    Mb mb;
};

// Runs of collation ids with the same class, from MariaDB 10.11's
// `SELECT ID, CHARACTER_SET_NAME FROM
// information_schema.COLLATION_CHARACTER_SET_APPLICABILITY` plus MySQL 8.0's
// ids MariaDB does not have (76 utf8mb3_tolower_ci, 248-250 gb18030, 253
// utf8mb3_general50_ci, 255-323 utf8mb4_0900_*). Ids the two share mean the
// same character set in both. Sorted, not overlapping.
constexpr CollationRun collation_runs[] = {
    {1, 1, Mb::big5}, {2, 12, Mb::byte_safe}, {13, 13, Mb::sjis}, {14, 16, Mb::byte_safe},
    {18, 27, Mb::byte_safe}, {28, 28, Mb::gbk}, {29, 34, Mb::byte_safe}, {35, 35, Mb::wide},
    {36, 53, Mb::byte_safe}, {54, 56, Mb::wide}, {57, 59, Mb::byte_safe}, {60, 62, Mb::wide},
    {63, 83, Mb::byte_safe}, {84, 84, Mb::big5}, {85, 86, Mb::byte_safe}, {87, 87, Mb::gbk},
    {88, 88, Mb::sjis}, {89, 89, Mb::byte_safe}, {90, 90, Mb::wide}, {91, 94, Mb::byte_safe},
    {95, 96, Mb::sjis}, {97, 99, Mb::byte_safe}, {101, 124, Mb::wide}, {128, 151, Mb::wide},
    {159, 183, Mb::wide}, {192, 215, Mb::byte_safe}, {223, 247, Mb::byte_safe},
    {248, 250, Mb::gb18030}, {253, 253, Mb::byte_safe}, {255, 323, Mb::byte_safe},
    {576, 578, Mb::byte_safe}, {608, 610, Mb::byte_safe}, {640, 642, Mb::wide},
    {672, 674, Mb::wide}, {736, 738, Mb::wide}, {1025, 1025, Mb::big5},
    {1027, 1028, Mb::byte_safe}, {1030, 1036, Mb::byte_safe}, {1037, 1037, Mb::sjis},
    {1040, 1040, Mb::byte_safe}, {1042, 1043, Mb::byte_safe}, {1046, 1046, Mb::byte_safe},
    {1048, 1050, Mb::byte_safe}, {1052, 1052, Mb::gbk}, {1054, 1054, Mb::byte_safe},
    {1056, 1057, Mb::byte_safe}, {1059, 1059, Mb::wide}, {1060, 1065, Mb::byte_safe},
    {1067, 1067, Mb::byte_safe}, {1069, 1071, Mb::byte_safe}, {1074, 1075, Mb::byte_safe},
    {1077, 1077, Mb::byte_safe}, {1078, 1080, Mb::wide}, {1081, 1083, Mb::byte_safe},
    {1084, 1086, Mb::wide}, {1088, 1099, Mb::byte_safe}, {1101, 1107, Mb::byte_safe},
    {1108, 1108, Mb::big5}, {1109, 1110, Mb::byte_safe}, {1111, 1111, Mb::gbk},
    {1112, 1112, Mb::sjis}, {1113, 1113, Mb::byte_safe}, {1114, 1114, Mb::wide},
    {1115, 1117, Mb::byte_safe}, {1119, 1120, Mb::sjis}, {1121, 1122, Mb::byte_safe},
    {1125, 1125, Mb::wide}, {1147, 1147, Mb::wide}, {1152, 1152, Mb::wide},
    {1174, 1174, Mb::wide}, {1184, 1184, Mb::wide}, {1206, 1206, Mb::wide},
    {1216, 1216, Mb::byte_safe}, {1238, 1238, Mb::byte_safe}, {1248, 1248, Mb::byte_safe},
    {1270, 1270, Mb::byte_safe}, {2048, 2215, Mb::byte_safe}, {2232, 2247, Mb::byte_safe},
    {2304, 2471, Mb::byte_safe}, {2488, 2503, Mb::byte_safe}, {2560, 2727, Mb::wide},
    {2744, 2759, Mb::wide}, {2816, 2983, Mb::wide}, {3000, 3015, Mb::wide},
    {3072, 3239, Mb::wide}, {3256, 3271, Mb::wide},
};

const char *mb_name(Mb mb) {
    switch (mb) {
    case Mb::big5: return "big5";
    case Mb::gbk: return "gbk";
    case Mb::sjis: return "sjis/cp932";
    case Mb::gb18030: return "gb18030";
    default: return "";
    }
}

bool in(unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; }

// The length of the well-formed multi-byte character of set mb at s[i]
// (s[i] >= 0x80), or 0 when s[i] starts none. The same tests as the server's
// lexer (my_ismbchar) for these sets.
std::size_t mb_length(Mb mb, std::string_view s, std::size_t i) {
    auto at = [&](std::size_t k) -> int {
        return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : -1;
    };
    unsigned char c = static_cast<unsigned char>(s[i]);
    int c2 = at(1);
    auto trail = [&](int t, unsigned lo2, unsigned hi2) {
        return t >= 0 && (in(static_cast<unsigned char>(t), 0x40, 0x7E) ||
                          in(static_cast<unsigned char>(t), lo2, hi2));
    };
    switch (mb) {
    case Mb::big5:
        return in(c, 0xA1, 0xF9) && trail(c2, 0xA1, 0xFE) ? 2 : 0;
    case Mb::gbk:
        return in(c, 0x81, 0xFE) && trail(c2, 0x80, 0xFE) ? 2 : 0;
    case Mb::sjis:
        if (in(c, 0xA1, 0xDF)) return 1;  // half-width katakana
        return (in(c, 0x81, 0x9F) || in(c, 0xE0, 0xFC)) && trail(c2, 0x80, 0xFC) ? 2 : 0;
    case Mb::gb18030: {
        if (!in(c, 0x81, 0xFE)) return 0;
        if (trail(c2, 0x80, 0xFE)) return 2;
        int c3 = at(2), c4 = at(3);
        if (c2 >= 0 && in(static_cast<unsigned char>(c2), 0x30, 0x39) && c3 >= 0 &&
            in(static_cast<unsigned char>(c3), 0x81, 0xFE) && c4 >= 0 &&
            in(static_cast<unsigned char>(c4), 0x30, 0x39))
            return 4;
        return 0;
    }
    default:
        return 1;
    }
}

// Whether s[i..] is the start of a character of set mb that the end of s
// cuts off (completing it with trail bytes would make it well-formed).
bool truncated_at_end(Mb mb, std::string_view s, std::size_t i) {
    std::string_view rest = s.substr(i);
    if (rest.size() >= 4) return false;
    for (std::string_view pad : {std::string_view("\x40"), std::string_view("\x30\x81\x30"),
                                 std::string_view("\x81\x30"), std::string_view("\x30")}) {
        std::string t(rest);
        t.append(pad);
        std::size_t n = mb_length(mb, t, 0);
        if (n > rest.size()) return true;
    }
    return false;
}

Errc bad_multibyte(Mb mb, std::string_view s, std::size_t i, Error &err) {
    char msg[200];
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::snprintf(msg, sizeof msg,
                  "%s: byte 0x%02X at offset %zu %s (the string is refused rather than "
                  "escaped)",
                  mb_name(mb), c, i,
                  truncated_at_end(mb, s, i)
                      ? "starts a multi-byte character that the end of the string cuts off"
                      : "does not start a well-formed character");
    return err.set(Errc::argument, msg);
}

}  // namespace

Mb collation_class(unsigned id) {
    std::size_t lo = 0, hi = std::size(collation_runs);
    while (lo < hi) {
        std::size_t mid = (lo + hi) / 2;
        if (id < collation_runs[mid].first)
            hi = mid;
        else if (id > collation_runs[mid].last)
            lo = mid + 1;
        else
            return collation_runs[mid].mb;
    }
    return Mb::unknown;
}

Errc check_escape_collation(unsigned collation_id, Error &err) {
    char msg[160];
    switch (collation_class(collation_id)) {
    case Mb::unknown:
        std::snprintf(msg, sizeof msg,
                      "collation id %u is not known to mywire: its character set's escaping "
                      "rules cannot be chosen",
                      collation_id);
        return err.set(Errc::argument, msg);
    case Mb::wide:
        std::snprintf(msg, sizeof msg,
                      "collation id %u is ucs2, utf16 or utf32, which cannot be a connection "
                      "character set",
                      collation_id);
        return err.set(Errc::unsupported, msg);
    default:
        return Errc::ok;
    }
}

Errc escape_string(std::string_view s, unsigned collation_id, bool no_backslash_escapes,
                   std::string &out, Error &err) {
    if (Errc rc = check_escape_collation(collation_id, err); rc != Errc::ok) return rc;
    Mb mb = collation_class(collation_id);
    const std::size_t start = out.size();
    out.reserve(start + s.size() + s.size() / 8 + 2);
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80 && mb != Mb::byte_safe) {
            std::size_t n = mb_length(mb, s, i);
            if (n == 0) {
                out.resize(start);
                return bad_multibyte(mb, s, i, err);
            }
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        ++i;
        if (no_backslash_escapes) {
            if (c == '\'') out.push_back('\'');
            out.push_back(static_cast<char>(c));
            continue;
        }
        char esc = 0;
        switch (c) {
        case '\0': esc = '0'; break;
        case '\n': esc = 'n'; break;
        case '\r': esc = 'r'; break;
        case '\\': esc = '\\'; break;
        case '\'': esc = '\''; break;
        case '"': esc = '"'; break;
        case 0x1A: esc = 'Z'; break;
        default: break;
        }
        if (esc) {
            out.push_back('\\');
            out.push_back(esc);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return Errc::ok;
}

namespace {

Errc scan_error(Error &err, const char *what, std::size_t at) {
    char msg[128];
    std::snprintf(msg, sizeof msg, "the query has an unterminated %s (from offset %zu)", what, at);
    return err.set(Errc::argument, msg);
}

// A placeholder found by the scanner, and whether it is inside an
// executable comment.
struct Mark {
    std::size_t pos;
    bool in_executable;
};

Errc scan(std::string_view sql, bool nbe, Mb mb, std::vector<Mark> &marks, Error &err) {
    marks.clear();
    const std::size_t n = sql.size();
    bool in_exec = false;      // inside /*! ... */ or /*M! ... */
    std::size_t exec_start = 0;
    auto at = [&](std::size_t k) -> unsigned char {
        return k < n ? static_cast<unsigned char>(sql[k]) : 0;
    };
    // Skip a well-formed multi-byte character at i; returns its length
    // (1 for any other byte, which the lexer takes as a byte of its own).
    auto step = [&](std::size_t i) -> std::size_t {
        if (mb == Mb::byte_safe || at(i) < 0x80) return 1;
        std::size_t len = mb_length(mb, sql, i);
        return len ? len : 1;
    };
    std::size_t i = 0;
    while (i < n) {
        unsigned char c = at(i);
        if (c == '\'' || c == '"' || c == '`') {
            const std::size_t open = i;
            const bool escapes = c != '`' && !nbe;
            ++i;
            for (;;) {
                if (i >= n)
                    return scan_error(err, c == '`' ? "quoted identifier" : "string literal", open);
                unsigned char d = at(i);
                if (d == c) {
                    if (at(i + 1) == c && i + 1 < n) {
                        i += 2;  // a doubled quote stays inside
                        continue;
                    }
                    ++i;
                    break;
                }
                if (d == '\\' && escapes) {
                    // The server skips the one byte after it, whatever it is.
                    if (i + 1 >= n) return scan_error(err, "string literal", open);
                    i += 2;
                    continue;
                }
                i += step(i);
            }
            continue;
        }
        if (c == '#' || (c == '-' && at(i + 1) == '-' && (i + 2 >= n || at(i + 2) <= ' ' || at(i + 2) == 0x7F))) {
            // To the end of the line ("--" needs a blank or a control
            // character after it: <= 0x20 or 0x7F).
            while (i < n && at(i) != '\n') ++i;
            continue;
        }
        if (c == '/' && at(i + 1) == '*' && i + 1 < n) {
            const std::size_t open = i;
            bool executable = at(i + 2) == '!' || (at(i + 2) == 'M' && at(i + 3) == '!');
            if (executable && !in_exec) {
                in_exec = true;
                exec_start = open;
                i += at(i + 2) == '!' ? 3 : 4;
                continue;
            }
            // A plain comment (one inside an executable comment ends at the
            // first */ as well).
            i += 2;
            for (;;) {
                if (i + 1 >= n) return scan_error(err, "comment", open);
                if (at(i) == '*' && at(i + 1) == '/') {
                    i += 2;
                    break;
                }
                ++i;
            }
            continue;
        }
        if (in_exec && c == '*' && at(i + 1) == '/' && i + 1 < n) {
            in_exec = false;
            i += 2;
            continue;
        }
        if (c == '?') marks.push_back({i, in_exec});
        i += step(i);
    }
    if (in_exec) return scan_error(err, "executable comment", exec_start);
    return Errc::ok;
}

Errc scan_checked(std::string_view sql, bool nbe, unsigned collation_id, std::vector<Mark> &marks,
                  Error &err) {
    if (Errc rc = check_escape_collation(collation_id, err); rc != Errc::ok) return rc;
    return scan(sql, nbe, collation_class(collation_id), marks, err);
}

Errc param_error(Error &err, std::size_t index, const char *what) {
    char msg[400];
    std::snprintf(msg, sizeof msg, "parameter %zu (counting from 0): %s", index, what);
    return err.set(Errc::argument, msg);
}

std::uint64_t le(std::string_view b) {
    std::uint64_t v = 0;
    for (std::size_t k = b.size(); k-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[k]);
    return v;
}

void append_uint(std::uint64_t v, std::string &out) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_int(std::int64_t v, std::string &out) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// Shortest round-trip digits, with an exponent so that the literal is a
// DOUBLE (the server reads "1.5" as DECIMAL).
template <class F>
bool append_float(F v, std::string &out) {
    if (!std::isfinite(v)) return false;
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    if (r.ec != std::errc()) return false;
    std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
    out.append(text);
    if (text.find('e') == std::string_view::npos) out.append("e0");
    return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// -?digits[.digits][(e|E)[+-]digits]
bool valid_decimal(std::string_view s) {
    std::size_t i = 0, n = s.size();
    auto digits = [&] {
        std::size_t from = i;
        while (i < n && is_digit(s[i])) ++i;
        return i > from;
    };
    if (i < n && s[i] == '-') ++i;
    if (!digits()) return false;
    if (i < n && s[i] == '.') {
        ++i;
        if (!digits()) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
        if (!digits()) return false;
    }
    return i == n;
}

void append_2(unsigned v, std::string &out) {
    out.push_back(static_cast<char>('0' + v / 10 % 10));
    out.push_back(static_cast<char>('0' + v % 10));
}

void append_fraction(std::uint32_t micro, std::string &out) {
    if (micro == 0) return;
    char buf[12];  // ".ffffff" (callers check micro <= 999999); room for any uint32 all the same
    std::snprintf(buf, sizeof buf, ".%06u", static_cast<unsigned>(micro));
    out.append(buf);
}

// ":mm:ss[.ffffff]" after the hours, for DATETIME and TIME literals.
void append_minutes_on(unsigned minute, unsigned second, std::uint32_t micro, std::string &out) {
    out.push_back(':');
    append_2(minute, out);
    out.push_back(':');
    append_2(second, out);
    append_fraction(micro, out);
}

// DATE / DATETIME / TIMESTAMP bytes: year(2) month day [hour minute second
// [microsecond(4)]].
Errc append_datetime(const Param &p, std::size_t index, bool with_time, std::string &out,
                     Error &err) {
    std::string_view b = p.bytes;
    bool sizes_ok = with_time ? (b.size() == 0 || b.size() == 4 || b.size() == 7 || b.size() == 11)
                              : (b.size() == 0 || b.size() == 4);
    if (!sizes_ok)
        return param_error(err, index,
                           with_time ? "a DATETIME value must have 0, 4, 7 or 11 bytes"
                                     : "a DATE value must have 0 or 4 bytes");
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    std::uint32_t micro = 0;
    if (b.size() >= 4) {
        year = static_cast<unsigned>(le(b.substr(0, 2)));
        month = static_cast<unsigned char>(b[2]);
        day = static_cast<unsigned char>(b[3]);
    }
    if (b.size() >= 7) {
        hour = static_cast<unsigned char>(b[4]);
        minute = static_cast<unsigned char>(b[5]);
        second = static_cast<unsigned char>(b[6]);
    }
    if (b.size() == 11) micro = static_cast<std::uint32_t>(le(b.substr(7, 4)));
    if (year > 9999 || month > 12 || day > 31 || hour > 23 || minute > 59 || second > 59 ||
        micro > 999999)
        return param_error(err, index, "a date or time field is out of range");
    char buf[16];
    std::snprintf(buf, sizeof buf, "'%04u-", year);
    out.append(buf);
    append_2(month, out);
    out.push_back('-');
    append_2(day, out);
    if (with_time) {
        out.push_back(' ');
        append_2(hour, out);
        append_minutes_on(minute, second, micro, out);
    }
    out.push_back('\'');
    return Errc::ok;
}

// TIME bytes: negative(1) days(4) hour minute second [microsecond(4)].
Errc append_time(const Param &p, std::size_t index, std::string &out, Error &err) {
    std::string_view b = p.bytes;
    if (b.size() != 0 && b.size() != 8 && b.size() != 12)
        return param_error(err, index, "a TIME value must have 0, 8 or 12 bytes");
    bool negative = false;
    std::uint64_t days = 0;
    unsigned hour = 0, minute = 0, second = 0;
    std::uint32_t micro = 0;
    if (b.size() >= 8) {
        unsigned char sign = static_cast<unsigned char>(b[0]);
        if (sign > 1) return param_error(err, index, "a TIME's sign byte must be 0 or 1");
        negative = sign == 1;
        days = le(b.substr(1, 4));
        hour = static_cast<unsigned char>(b[5]);
        minute = static_cast<unsigned char>(b[6]);
        second = static_cast<unsigned char>(b[7]);
    }
    if (b.size() == 12) micro = static_cast<std::uint32_t>(le(b.substr(8, 4)));
    std::uint64_t hours = days * 24 + hour;
    if (hour > 23 || minute > 59 || second > 59 || micro > 999999 || hours > 838 ||
        (hours == 838 && minute == 59 && second == 59 && micro > 0))
        return param_error(err, index, "a TIME field is out of range (at most 838:59:59)");
    out.push_back('\'');
    if (negative) out.push_back('-');
    if (hours >= 100) out.push_back(static_cast<char>('0' + hours / 100));
    append_2(static_cast<unsigned>(hours % 100), out);
    append_minutes_on(minute, second, micro, out);
    out.push_back('\'');
    return Errc::ok;
}

Errc append_literal(const Param &p, std::size_t index, unsigned collation_id, bool nbe,
                    std::string &out, Error &err) {
    static constexpr char hex[] = "0123456789ABCDEF";
    if (!p.bound) return param_error(err, index, "never bound");
    if (p.long_data)
        return param_error(err, index,
                           "sent as long data (COM_STMT_SEND_LONG_DATA); it cannot be formatted "
                           "into the query text");
    if (p.is_null()) {
        out.append("NULL");
        return Errc::ok;
    }
    std::string_view b = p.bytes;
    auto int_of = [&](std::size_t size) -> Errc {
        if (b.size() != size) {
            char what[64];
            std::snprintf(what, sizeof what, "an integer of this type must have %zu bytes", size);
            return param_error(err, index, what);
        }
        std::uint64_t u = le(b);
        if (p.is_unsigned) {
            append_uint(u, out);
        } else {
            // Sign-extend from size bytes.
            unsigned shift = static_cast<unsigned>(64 - 8 * size);
            auto v = static_cast<std::int64_t>(u << shift) >> shift;
            append_int(v, out);
        }
        return Errc::ok;
    };
    switch (p.type) {
    case field_type::tiny: return int_of(1);
    case field_type::short_:
    case field_type::year: return int_of(2);
    case field_type::long_:
    case field_type::int24: return int_of(4);
    case field_type::longlong: return int_of(8);
    case field_type::double_: {
        if (b.size() != 8) return param_error(err, index, "a DOUBLE must have 8 bytes");
        std::uint64_t bits = le(b);
        double v;
        std::memcpy(&v, &bits, sizeof v);
        if (!append_float(v, out))
            return param_error(err, index, "NaN and infinities have no SQL literal");
        return Errc::ok;
    }
    case field_type::float_: {
        if (b.size() != 4) return param_error(err, index, "a FLOAT must have 4 bytes");
        auto bits = static_cast<std::uint32_t>(le(b));
        float v;
        std::memcpy(&v, &bits, sizeof v);
        if (!append_float(v, out))
            return param_error(err, index, "NaN and infinities have no SQL literal");
        return Errc::ok;
    }
    case field_type::decimal:
    case field_type::newdecimal:
        if (!valid_decimal(b))
            return param_error(err, index,
                               "a DECIMAL must be -?digits[.digits][e[+-]digits]");
        out.append(b);
        return Errc::ok;
    case field_type::varchar:
    case field_type::var_string:
    case field_type::string:
    case field_type::enum_:
    case field_type::set:
    case field_type::json: {
        out.push_back('\'');
        if (Errc rc = escape_string(b, collation_id, nbe, out, err); rc != Errc::ok) {
            char what[300];
            std::snprintf(what, sizeof what, "%s", err.message.c_str());
            return param_error(err, index, what);
        }
        out.push_back('\'');
        return Errc::ok;
    }
    case field_type::tiny_blob:
    case field_type::medium_blob:
    case field_type::long_blob:
    case field_type::blob:
    case field_type::geometry:
        out.append("X'");
        for (unsigned char c : b) {
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
        out.push_back('\'');
        return Errc::ok;
    case field_type::date: return append_datetime(p, index, false, out, err);
    case field_type::datetime:
    case field_type::timestamp: return append_datetime(p, index, true, out, err);
    case field_type::time: return append_time(p, index, out, err);
    default: {
        char what[64];
        std::snprintf(what, sizeof what, "type %u cannot be formatted", static_cast<unsigned>(p.type));
        return param_error(err, index, what);
    }
    }
}

}  // namespace

Errc find_placeholders(std::string_view sql, bool no_backslash_escapes,
                       std::vector<std::size_t> &positions, Error &err, unsigned collation_id) {
    std::vector<Mark> marks;
    if (Errc rc = scan_checked(sql, no_backslash_escapes, collation_id, marks, err); rc != Errc::ok)
        return rc;
    positions.clear();
    positions.reserve(marks.size());
    for (const Mark &m : marks) positions.push_back(m.pos);
    return Errc::ok;
}

Errc format_query(std::string_view sql, const std::vector<Param> &params, unsigned collation_id,
                  bool no_backslash_escapes, std::string &out, Error &err) {
    std::vector<Mark> marks;
    if (Errc rc = scan_checked(sql, no_backslash_escapes, collation_id, marks, err); rc != Errc::ok)
        return rc;
    if (marks.size() != params.size()) {
        char msg[128];
        std::snprintf(msg, sizeof msg, "the query has %zu placeholders but %zu parameters were given",
                      marks.size(), params.size());
        return err.set(Errc::argument, msg);
    }
    const std::size_t start = out.size();
    std::size_t copied = 0;
    for (std::size_t k = 0; k < marks.size(); ++k) {
        out.append(sql.substr(copied, marks[k].pos - copied));
        const std::size_t literal = out.size();
        Errc rc = append_literal(params[k], k, collation_id, no_backslash_escapes, out, err);
        if (rc == Errc::ok && marks[k].in_executable &&
            std::string_view(out).substr(literal).find("*/") != std::string_view::npos)
            rc = param_error(err, k,
                             "its literal contains \"*/\", which would end the executable "
                             "comment the placeholder is in if the server does not run it");
        if (rc != Errc::ok) {
            out.resize(start);
            return rc;
        }
        copied = marks[k].pos + 1;
    }
    out.append(sql.substr(copied));
    return Errc::ok;
}

}  // namespace mywire::proto
