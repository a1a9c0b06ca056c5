// Binary rows, typed getters and the server's text forms (see values.hpp).
#include "proto/values.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

namespace mywire::proto {

Wire binary_wire(unsigned type) {
    switch (type) {
    case field_type::tiny: return Wire::int1;
    case field_type::short_:
    case field_type::year: return Wire::int2;
    case field_type::long_:
    case field_type::int24: return Wire::int4;
    case field_type::longlong: return Wire::int8;
    case field_type::float_: return Wire::float4;
    case field_type::double_: return Wire::double8;
    case field_type::date:
    case field_type::newdate: return Wire::date;
    case field_type::datetime:
    case field_type::timestamp:
    case field_type::datetime2:
    case field_type::timestamp2: return Wire::datetime;
    case field_type::time:
    case field_type::time2: return Wire::time;
    default: return Wire::lenenc;
    }
}

namespace {
// The getters' fast form of a column (see Fast): the integer kinds (YEAR
// too) by their wire width and sign, FLOAT, DOUBLE.
Fast fast_form(const Column &c, Wire w) {
    const bool u = (c.flags & column_flag::unsigned_) != 0;
    switch (c.type) {
    case field_type::tiny:
    case field_type::short_:
    case field_type::long_:
    case field_type::int24:
    case field_type::longlong:
    case field_type::year:
        switch (w) {
        case Wire::int1: return u ? Fast::u1 : Fast::s1;
        case Wire::int2: return u ? Fast::u2 : Fast::s2;
        case Wire::int4: return u ? Fast::u4 : Fast::s4;
        case Wire::int8: return u ? Fast::u8 : Fast::s8;
        default: return Fast::none;
        }
    case field_type::float_: return w == Wire::float4 ? Fast::f4 : Fast::none;
    case field_type::double_: return w == Wire::double8 ? Fast::d8 : Fast::none;
    default:
        switch (w) {
        case Wire::date: return Fast::date;
        case Wire::datetime: return Fast::datetime;
        case Wire::time: return Fast::time;
        default: return Fast::none;
        }
    }
}
}  // namespace

namespace {
std::uint8_t step_of(Wire w) {
    switch (w) {
    case Wire::int1: return 1;
    case Wire::int2: return 2;
    case Wire::int4:
    case Wire::float4: return 4;
    case Wire::int8:
    case Wire::double8: return 8;
    case Wire::date:
    case Wire::datetime: return step::date;
    case Wire::time: return step::time;
    case Wire::lenenc: return step::lenenc;
    }
    return step::unknown;
}

void size_bitmap(BinaryLayout &l) {
    const std::size_t n = l.size();
    l.bitmap_len = (n + 7 + 2) / 8;
    const unsigned used_in_last = static_cast<unsigned>((n + 2) - 8 * (l.bitmap_len - 1));  // 1..8
    l.past_last = static_cast<std::uint8_t>(0xFFu << used_in_last);
}
}  // namespace

void BinaryLayout::build(const Column *columns, std::size_t n) {
    wire.resize(n);
    fast.resize(n);
    step.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        wire[i] = binary_wire(columns[i].type);
        fast[i] = fast_form(columns[i], wire[i]);
        step[i] = step_of(wire[i]);
    }
    size_bitmap(*this);
}

void BinaryLayout::set_wire(std::vector<Wire> w) {
    wire.assign(w.data(), w.size());
    fast.clear();
    step.resize(wire.size());
    for (std::size_t i = 0; i < wire.size(); ++i) step[i] = step_of(wire[i]);
    size_bitmap(*this);
}

namespace {

const char *wire_name(Wire w) {
    switch (w) {
    case Wire::int1: return "TINYINT";
    case Wire::int2: return "SMALLINT/YEAR";
    case Wire::int4: return "INT";
    case Wire::int8: return "BIGINT";
    case Wire::float4: return "FLOAT";
    case Wire::double8: return "DOUBLE";
    case Wire::date: return "DATE";
    case Wire::datetime: return "DATETIME";
    case Wire::time: return "TIME";
    case Wire::lenenc: return "length-encoded";
    }
    return "?";
}

// The error paths of parse_binary_row, out of line so the loop stays small.
[[gnu::cold, gnu::noinline]] Errc row_error(Error &err, const char *what) {
    std::string msg = "malformed binary row: ";
    msg += what;
    return err.set(Errc::protocol, msg);
}

// "... column 3 (DATETIME) has length 5": what, then the number if any.
[[gnu::cold, gnu::noinline]] Errc column_error(Error &err, std::size_t i, Wire w, const char *what,
                                               const std::uint64_t *number = nullptr) {
    std::string msg = "malformed binary row: column ";
    msg += std::to_string(i);
    msg += " (";
    msg += wire_name(w);
    msg += ") ";
    msg += what;
    if (number) {
        msg += ' ';
        msg += std::to_string(*number);
    }
    return err.set(Errc::protocol, msg);
}

[[gnu::cold, gnu::noinline]] Errc column_error(Error &err, std::size_t i, Wire w, const char *what,
                                               std::uint64_t number) {
    return column_error(err, i, w, what, &number);
}


}  // namespace

namespace {

// Moves the len (sizeof(Word) .. 2 * sizeof(Word)) bytes at s to d: two
// words, overlapping when len < 2 * sizeof(Word), both loaded first.
template <class Word>
inline void head_and_tail(char *d, const char *s, std::size_t len) {
    Word head, tail;
    std::memcpy(&head, s, sizeof head);
    std::memcpy(&tail, s + len - sizeof tail, sizeof tail);
    std::memcpy(d, &head, sizeof head);
    std::memcpy(d + len - sizeof tail, &tail, sizeof tail);
}

// Moves the len bytes at d + 1 to d, touching nothing past d + len: whole
// words, the last one overlapping, each loaded before anything it reads is
// stored over (a byte loop or a memmove call cost several times more on the
// short strings rows are made of). The tail is loaded first: the forward
// blocks overwrite bytes it reads.
inline void shift_back(char *d, std::size_t len) {
    const char *s = d + 1;
    if (len >= 16) {
        if (len > 64) {
            std::memmove(d, s, len);
            return;
        }
        char tail[16], block[16];
        std::memcpy(tail, s + len - 16, 16);
        for (std::size_t k = 0; k + 16 < len; k += 16) {
            std::memcpy(block, s + k, 16);
            std::memcpy(d + k, block, 16);
        }
        std::memcpy(d + len - 16, tail, 16);
    } else if (len >= 8) {
        head_and_tail<std::uint64_t>(d, s, len);
    } else if (len >= 4) {
        head_and_tail<std::uint32_t>(d, s, len);
    } else {
        for (std::size_t k = 0; k < len; ++k) d[k] = s[k];
    }
}

// The len bytes at s + 1 ... made a C string at s (= the length prefix's
// last byte, already read): the value as it now lies.
inline Value terminate_at_prefix(char *d, std::size_t len) {
    shift_back(d, len);
    d[len] = 0;
    return Value{d, len};
}

}  // namespace

namespace {

// The values of a row after its header and bitmap. Nulls: the row has a
// NULL somewhere, so the bitmap is looked at per column; without (most
// rows), no column looks at it.
template <bool Terminate, bool Nulls>
[[gnu::always_inline]] inline Errc walk_row(const std::uint8_t *p, const std::uint8_t *const end,
                                            [[maybe_unused]] const std::uint8_t *bitmap, const BinaryLayout &layout, Value *out,
                                            Error &err) {
    const std::size_t n = layout.size();
    const Wire *wire = layout.wire.data();
    const std::uint8_t *steps = layout.step.data();
    for (std::size_t i = 0; i < n; ++i) {
        if constexpr (Nulls) {
            const std::size_t bit = i + 2;
            if ((bitmap[bit >> 3] >> (bit & 7)) & 1) {
                out[i] = Value{nullptr, 0};
                continue;
            }
        }
        std::size_t len = steps[i];  // integers, FLOAT, DOUBLE: their width
        if (len > 8) {
            const auto left = static_cast<std::size_t>(end - p);
            switch (len) {
            case step::date:
                if (left == 0) return column_error(err, i, wire[i], "has no length byte");
                len = *p++;
                if (len != 0 && len != 4 && len != 7 && len != 11)
                    return column_error(err, i, wire[i], "has length", len);
                break;
            case step::time:
                if (left == 0) return column_error(err, i, wire[i], "has no length byte");
                len = *p++;
                if (len != 0 && len != 8 && len != 12) return column_error(err, i, wire[i], "has length", len);
                break;
            case step::lenenc: {
                if (left == 0) return column_error(err, i, wire[i], "has no length prefix");
                std::uint64_t l = *p++;
                if (l >= 0xFB) {
                    unsigned k;
                    switch (l) {
                    case 0xFC: k = 2; break;
                    case 0xFD: k = 3; break;
                    case 0xFE: k = 8; break;
                    default:  // 0xFB (NULL is in the bitmap) and 0xFF
                        return column_error(err, i, wire[i], "has the invalid length prefix", l);
                    }
                    if (static_cast<std::size_t>(end - p) < k)
                        return column_error(err, i, wire[i], "has a truncated length prefix");
                    l = load_le(p, k);
                    p += k;
                }
                if (l > static_cast<std::uint64_t>(end - p))
                    return column_error(err, i, wire[i], "runs past the end of the row: length", l);
                len = static_cast<std::size_t>(l);
                if (Terminate && len <= in_place_text_max) {
                    // Its prefix is read: the value moves over the prefix's last
                    // byte and ends with a NUL (terminate_binary_strings).
                    out[i] = terminate_at_prefix(reinterpret_cast<char *>(const_cast<std::uint8_t *>(p)) - 1, len);
                    p += len;
                    continue;
                }
                break;
            }
            default: return column_error(err, i, wire[i], "has an unknown wire type");
            }
        }
        if (len > static_cast<std::size_t>(end - p))
            return column_error(err, i, wire[i], "runs past the end of the row: length", len);
        out[i] = Value{reinterpret_cast<const char *>(p), len};
        p += len;
    }
    if (p != end) return row_error(err, "bytes left after the last value");
    return Errc::ok;
}

template <bool Terminate>
Errc parse_row(std::string_view payload, const BinaryLayout &layout, Value *out, Error &err) {
    const auto *p = reinterpret_cast<const std::uint8_t *>(payload.data());
    const auto *const end = p + payload.size();
    const std::size_t bitmap_len = layout.bitmap_len;
    if (payload.empty() || p[0] != 0x00) return row_error(err, "the header byte is not 0x00");
    if (payload.size() - 1 < bitmap_len) return row_error(err, "shorter than its NULL bitmap");
    const std::uint8_t *bitmap = p + 1;
    if (bitmap[0] & 0x03) return row_error(err, "the two reserved bits of the NULL bitmap are set");
    // Bits n+2 .. 8*bitmap_len-1 stand for no column.
    if (bitmap[bitmap_len - 1] & layout.past_last)
        return row_error(err, "the NULL bitmap has bits set past the last column");
    p = bitmap + bitmap_len;
    bool nulls = bitmap[0] != 0;  // up to 6 columns: the whole bitmap
    for (std::size_t k = 1; k < bitmap_len; ++k) nulls |= bitmap[k] != 0;
    return nulls ? walk_row<Terminate, true>(p, end, bitmap, layout, out, err)
                 : walk_row<Terminate, false>(p, end, bitmap, layout, out, err);
}

}  // namespace

Errc parse_binary_row(std::string_view payload, const BinaryLayout &layout, Value *out, Error &err) {
    return parse_row<false>(payload, layout, out, err);
}

Errc parse_binary_row_terminated(std::string_view payload, const BinaryLayout &layout, Value *out, Error &err) {
    return parse_row<true>(payload, layout, out, err);
}


void terminate_binary_strings(const BinaryLayout &layout, Value *out) {
    const Wire *wire = layout.wire.data();
    for (std::size_t i = 0, n = layout.size(); i < n; ++i) {
        if (wire[i] != Wire::lenenc || !out[i].data || !terminated_in_place(out[i])) continue;
        out[i] = terminate_at_prefix(const_cast<char *>(out[i].data) - 1, out[i].len);
    }
}

namespace {

// ---- Column kinds -------------------------------------------------------

enum class Kind { integer, real, decimal, bit, string, temporal, other };

Kind kind_of(unsigned type) {
    switch (type) {
    case field_type::tiny:
    case field_type::short_:
    case field_type::long_:
    case field_type::int24:
    case field_type::longlong:
    case field_type::year: return Kind::integer;
    case field_type::float_:
    case field_type::double_: return Kind::real;
    case field_type::decimal:
    case field_type::newdecimal: return Kind::decimal;
    case field_type::bit: return Kind::bit;
    case field_type::varchar:
    case field_type::var_string:
    case field_type::string:
    case field_type::tiny_blob:
    case field_type::medium_blob:
    case field_type::long_blob:
    case field_type::blob:
    case field_type::enum_:
    case field_type::set:
    case field_type::json: return Kind::string;
    case field_type::date:
    case field_type::newdate:
    case field_type::datetime:
    case field_type::timestamp:
    case field_type::datetime2:
    case field_type::timestamp2:
    case field_type::time:
    case field_type::time2: return Kind::temporal;
    default: return Kind::other;  // NULL, GEOMETRY, VECTOR
    }
}

bool is_unsigned(const Column &c) { return (c.flags & column_flag::unsigned_) != 0; }

// An integer of either signedness: the value is neg ? -mag : mag.
struct Integer {
    bool neg;
    std::uint64_t mag;
};

Errc to_signed(Integer x, std::int64_t &out) {
    constexpr std::uint64_t lim = std::uint64_t(1) << 63;
    if (x.neg) {
        if (x.mag > lim) return Errc::conversion;
        out = x.mag == lim ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(x.mag);
    } else {
        if (x.mag >= lim) return Errc::conversion;
        out = static_cast<std::int64_t>(x.mag);
    }
    return Errc::ok;
}

Errc to_unsigned(Integer x, std::uint64_t &out) {
    if (x.neg && x.mag != 0) return Errc::conversion;
    out = x.mag;
    return Errc::ok;
}

// 2^63 and 2^64 as doubles (exact).
constexpr double two63 = 9223372036854775808.0;
constexpr double two64 = 18446744073709551616.0;

// A double that is integral and fits the 65-bit range of Integer.
Errc integer_of_double(double d, Integer &out) {
    if (!std::isfinite(d) || std::trunc(d) != d) return Errc::conversion;
    if (d >= two64 || d <= -two64) return Errc::conversion;
    out.neg = d < 0;
    out.mag = static_cast<std::uint64_t>(out.neg ? -d : d);
    return Errc::ok;
}

Errc double_of_integer(Integer x, double &out) {
    double d = static_cast<double>(x.mag);
    // The conversion rounds; it is exact when converting back gives the same.
    if (d >= two64 || static_cast<std::uint64_t>(d) != x.mag) return Errc::conversion;
    out = x.neg ? -d : d;
    return Errc::ok;
}

// ---- Text parsing (strict) ----------------------------------------------

bool all_digits(const char *p, const char *e) {
    if (p == e) return false;
    for (; p != e; ++p)
        if (*p < '0' || *p > '9') return false;
    return true;
}

// [sign] digits [. digits]: a fraction only when allow_fraction, and then
// only zeros in it; sign '-' (and '+' when allow_plus).
Errc parse_integer_text(std::string_view s, bool allow_plus, bool allow_fraction, Integer &out) {
    const char *p = s.data(), *e = p + s.size();
    bool neg = false;
    if (p != e && (*p == '-' || (allow_plus && *p == '+'))) neg = *p++ == '-';
    const char *dot = allow_fraction ? static_cast<const char *>(std::memchr(p, '.', static_cast<std::size_t>(e - p))) : nullptr;
    const char *int_end = dot ? dot : e;
    if (!all_digits(p, int_end)) return Errc::conversion;
    if (dot) {
        if (!all_digits(dot + 1, e)) return Errc::conversion;
        for (const char *q = dot + 1; q != e; ++q)
            if (*q != '0') return Errc::conversion;
    }
    std::uint64_t mag = 0;
    auto r = std::from_chars(p, int_end, mag);
    if (r.ec != std::errc() || r.ptr != int_end) return Errc::conversion;
    out = Integer{neg, mag};
    return Errc::ok;
}

// A finite number in strtod's syntax (no blanks, no hex, no inf/nan), fully
// consumed; a leading '+' when allow_plus.
template <class F>
Errc parse_real_text(std::string_view s, bool allow_plus, F &out) {
    const char *p = s.data(), *e = p + s.size();
    if (allow_plus && p != e && *p == '+') {
        ++p;
        if (p != e && (*p == '-' || *p == '+')) return Errc::conversion;
    }
    if (p == e) return Errc::conversion;
    // from_chars also reads "inf", "nan" and "nan(...)": only digits, '.'
    // and an exponent may appear.
    for (const char *q = p; q != e; ++q) {
        char ch = *q;
        if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == 'e' || ch == 'E' || ch == '-' || ch == '+'))
            return Errc::conversion;
    }
    F v{};
    auto r = std::from_chars(p, e, v, std::chars_format::general);
    if (r.ec != std::errc() || r.ptr != e || !std::isfinite(v)) return Errc::conversion;
    out = v;
    return Errc::ok;
}

// ---- Binary numbers -----------------------------------------------------

std::size_t int_width(Wire w) {
    switch (w) {
    case Wire::int1: return 1;
    case Wire::int2: return 2;
    case Wire::int4: return 4;
    case Wire::int8: return 8;
    default: return 0;
    }
}

// An integer column's binary value (the width is checked: a value not from
// parse_binary_row with this column's layout is conversion, not a misread).
Errc binary_integer(const Column &c, Value v, Integer &out) {
    const std::size_t n = int_width(binary_wire(c.type));
    if (n == 0 || v.len != n) return Errc::conversion;
    std::uint64_t raw = load_le(reinterpret_cast<const std::uint8_t *>(v.data), static_cast<unsigned>(n));
    if (is_unsigned(c)) {
        out = Integer{false, raw};
        return Errc::ok;
    }
    const unsigned bits = static_cast<unsigned>(8 * n);
    std::int64_t s;
    if (bits == 64) {
        s = static_cast<std::int64_t>(raw);
    } else {
        const std::uint64_t sign = std::uint64_t(1) << (bits - 1);
        s = static_cast<std::int64_t>(raw & (sign - 1)) - static_cast<std::int64_t>(raw & sign);
    }
    out = s < 0 ? Integer{true, static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(s)}
                : Integer{false, static_cast<std::uint64_t>(s)};
    return Errc::ok;
}

// A FLOAT / DOUBLE column's binary value; is_float says it was 4 bytes.
Errc binary_real(const Column &c, Value v, double &out, bool &is_float) {
    const auto *p = reinterpret_cast<const std::uint8_t *>(v.data);
    if (c.type == field_type::float_ && v.len == 4) {
        std::uint32_t bits = static_cast<std::uint32_t>(load_le(p, 4));
        float f;
        std::memcpy(&f, &bits, 4);
        out = f;
        is_float = true;
        return Errc::ok;
    }
    if (c.type == field_type::double_ && v.len == 8) {
        std::uint64_t bits = load_le(p, 8);
        std::memcpy(&out, &bits, 8);
        is_float = false;
        return Errc::ok;
    }
    return Errc::conversion;
}

Errc bit_integer(Value v, Integer &out) {
    if (v.len == 0 || v.len > 8) return Errc::conversion;
    std::uint64_t x = 0;
    for (std::size_t k = 0; k < v.len; ++k) x = (x << 8) | static_cast<std::uint8_t>(v.data[k]);
    out = Integer{false, x};
    return Errc::ok;
}

// The real value of a FLOAT / DOUBLE column in either protocol.
Errc real_value(const Column &c, Value v, bool binary, double &out) {
    if (binary) {
        bool is_float;
        if (binary_real(c, v, out, is_float) != Errc::ok || !std::isfinite(out)) return Errc::conversion;
        return Errc::ok;
    }
    std::string_view s(v.data, v.len);
    if (c.type == field_type::float_) {
        // As a float, so the text and the binary protocol give the same
        // double whenever the server's text reads back to the stored float.
        float f;
        if (parse_real_text(s, false, f) != Errc::ok) return Errc::conversion;
        out = f;
        return Errc::ok;
    }
    return parse_real_text(s, false, out);
}

// Any value as an Integer, by the to_int64 / to_uint64 rules.
Errc integer_value(const Column &c, Value v, bool binary, Integer &out) {
    std::string_view s(v.data, v.len);
    switch (kind_of(c.type)) {
    case Kind::integer:
        if (binary) return binary_integer(c, v, out);
        return parse_integer_text(s, false, false, out);
    case Kind::real: {
        double d;
        if (real_value(c, v, binary, d) != Errc::ok) return Errc::conversion;
        return integer_of_double(d, out);
    }
    case Kind::decimal: return parse_integer_text(s, false, true, out);
    case Kind::bit: return bit_integer(v, out);
    case Kind::string: return parse_integer_text(s, true, false, out);
    default: return Errc::conversion;
    }
}

// ---- Temporals ----------------------------------------------------------

Errc binary_time(const Column &c, Value v, Time &out) {
    return decode_binary_time(binary_wire(c.type), v, out) ? Errc::ok : Errc::conversion;
}

// n digits at p (all checked to be digits by the caller's pattern).
std::int32_t digits(const char *p, std::size_t n) {
    std::int32_t v = 0;
    for (std::size_t k = 0; k < n; ++k) v = v * 10 + (p[k] - '0');
    return v;
}

// s matches pattern, where 'd' is a digit and any other char is itself.
bool matches(std::string_view s, std::string_view pattern) {
    if (s.size() != pattern.size()) return false;
    for (std::size_t k = 0; k < s.size(); ++k) {
        if (pattern[k] == 'd' ? (s[k] < '0' || s[k] > '9') : s[k] != pattern[k]) return false;
    }
    return true;
}

// ".f{1,6}" or nothing: the microseconds.
bool parse_fraction(std::string_view s, std::int32_t &micro) {
    micro = 0;
    if (s.empty()) return true;
    if (s[0] != '.' || s.size() < 2 || s.size() > 7 || !all_digits(s.data() + 1, s.data() + s.size())) return false;
    std::int32_t v = digits(s.data() + 1, s.size() - 1);
    for (std::size_t k = s.size() - 1; k < 6; ++k) v *= 10;
    micro = v;
    return true;
}

bool parse_date_text(std::string_view s, Time &t) {
    if (!matches(s, "dddd-dd-dd")) return false;
    t.year = digits(s.data(), 4);
    t.month = digits(s.data() + 5, 2);
    t.day = digits(s.data() + 8, 2);
    return valid_date(t);
}

bool parse_datetime_text(std::string_view s, Time &t) {
    if (s.size() < 19 || !matches(s.substr(0, 19), "dddd-dd-dd dd:dd:dd")) return false;
    if (!parse_date_text(s.substr(0, 10), t)) return false;
    t.hour = digits(s.data() + 11, 2);
    t.minute = digits(s.data() + 14, 2);
    t.second = digits(s.data() + 17, 2);
    return parse_fraction(s.substr(19), t.microsecond) && valid_clock(t, 23);
}

bool parse_time_text(std::string_view s, Time &t) {
    if (!s.empty() && s[0] == '-') {
        t.negative = 1;
        s.remove_prefix(1);
    }
    std::size_t h = 0;
    while (h < s.size() && h < 4 && s[h] >= '0' && s[h] <= '9') ++h;
    if (h < 2 || h > 3 || s.size() < h + 6 || !matches(s.substr(h, 6), ":dd:dd")) return false;
    t.hour = digits(s.data(), h);
    t.minute = digits(s.data() + h + 1, 2);
    t.second = digits(s.data() + h + 4, 2);
    return parse_fraction(s.substr(h + 6), t.microsecond) && valid_clock(t, 838);
}

Errc text_time(const Column &c, std::string_view s, Time &out) {
    Time t{};
    bool ok;
    switch (binary_wire(c.type)) {
    case Wire::date:
        t.kind = time_kind::date;
        ok = parse_date_text(s, t);
        break;
    case Wire::datetime:
        t.kind = time_kind::datetime;
        ok = parse_datetime_text(s, t);
        break;
    case Wire::time:
        t.kind = time_kind::time;
        ok = parse_time_text(s, t);
        break;
    default:  // a string: whichever of the three forms it has
        if (s.size() == 10 && s[4] == '-') {
            t.kind = time_kind::date;
            ok = parse_date_text(s, t);
        } else if (s.size() >= 19 && s[4] == '-') {
            t.kind = time_kind::datetime;
            ok = parse_datetime_text(s, t);
        } else {
            t.kind = time_kind::time;
            ok = parse_time_text(s, t);
        }
    }
    if (!ok) return Errc::conversion;
    out = t;
    return Errc::ok;
}

// ---- Number formatting --------------------------------------------------

// The shortest round-trip digits of a finite, non-zero |v| (or its value
// rounded to `precision` significant digits, trailing zeros dropped), and
// the position of the decimal point: value = 0.DIGITS * 10^decpt.
struct Digits {
    char d[32];
    int len;
    int decpt;
};

void digits_of(double v, int precision, Digits &out) {
    char buf[64];
    std::to_chars_result r = precision > 0
                                 ? std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific, precision - 1)
                                 : std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
    // "d[.ddd]e[+-]xx"
    const char *p = buf, *end = r.ptr;
    int len = 0;
    for (; p != end && *p != 'e'; ++p)
        if (*p != '.') out.d[len++] = *p;
    while (len > 1 && out.d[len - 1] == '0') --len;
    int exp = 0;
    std::from_chars(p + 1 + (p[1] == '+'), end, exp);
    out.len = len;
    out.decpt = exp + 1;
}

// The server's choice of notation (my_gcvt): plain unless the point would
// sit more than 14 places left of the first digit, or the number has more
// than 15 integer digits of which not all are significant.
void append_general(bool neg, const Digits &g, std::string &out) {
    if (neg) out.push_back('-');
    const int len = g.len, decpt = g.decpt;
    if (decpt >= -14 && (decpt <= 15 || len > decpt)) {
        if (decpt <= 0) {
            out += "0.";
            out.append(static_cast<std::size_t>(-decpt), '0');
            out.append(g.d, static_cast<std::size_t>(len));
        } else if (decpt < len) {
            out.append(g.d, static_cast<std::size_t>(decpt));
            out.push_back('.');
            out.append(g.d + decpt, static_cast<std::size_t>(len - decpt));
        } else {
            out.append(g.d, static_cast<std::size_t>(len));
            out.append(static_cast<std::size_t>(decpt - len), '0');
        }
        return;
    }
    out.push_back(g.d[0]);
    if (len > 1) {
        out.push_back('.');
        out.append(g.d + 1, static_cast<std::size_t>(len - 1));
    }
    out.push_back('e');
    char buf[8];
    auto r = std::to_chars(buf, buf + sizeof buf, decpt - 1);
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

bool append_special(double v, std::string &out) {
    if (std::isnan(v)) {
        out += "nan";
        return true;
    }
    if (std::isinf(v)) {
        out += v < 0 ? "-inf" : "inf";
        return true;
    }
    if (v == 0) {  // -0.0 too: the server prints "0"
        out.push_back('0');
        return true;
    }
    return false;
}

// The server's fixed form (my_fcvt): the shortest digits when they need no
// more than `decimals` places, zero-padded, else the value rounded to that
// many places; the sign is dropped when every digit is zero.
void append_fixed(double v, unsigned decimals, std::string &out) {
    if (v == 0) {
        out.push_back('0');
        if (decimals) {
            out.push_back('.');
            out.append(decimals, '0');
        }
        return;
    }
    Digits g;
    digits_of(v, 0, g);
    const int places = g.len - g.decpt;  // fraction digits of the shortest form
    if (places <= static_cast<int>(decimals)) {
        if (v < 0) out.push_back('-');
        if (g.decpt <= 0) {
            out.push_back('0');
        } else if (g.decpt >= g.len) {
            out.append(g.d, static_cast<std::size_t>(g.len));
            out.append(static_cast<std::size_t>(g.decpt - g.len), '0');
        } else {
            out.append(g.d, static_cast<std::size_t>(g.decpt));
        }
        if (decimals) {
            out.push_back('.');
            std::size_t written = 0;
            if (g.decpt < 0) {
                out.append(static_cast<std::size_t>(-g.decpt), '0');
                written = static_cast<std::size_t>(-g.decpt);
            }
            if (places > 0) {
                int from = g.decpt > 0 ? g.decpt : 0;
                out.append(g.d + from, static_cast<std::size_t>(g.len - from));
                written += static_cast<std::size_t>(g.len - from);
            }
            out.append(decimals - written, '0');
        }
        return;
    }
    // More places than asked for, so at most 17 integer digits: sign, 17
    // digits, the point and at most 30 places fit.
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, static_cast<int>(decimals));
    if (r.ec != std::errc()) {  // not reached (decimals < 31)
        format_double(v, out);
        return;
    }
    const char *p = buf;
    bool nonzero = false;
    for (const char *q = buf; q != r.ptr; ++q) nonzero = nonzero || (*q >= '1' && *q <= '9');
    if (!nonzero && *p == '-') ++p;
    out.append(p, static_cast<std::size_t>(r.ptr - p));
}

void append_uint(std::uint64_t v, std::string &out) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// n >= 0 as at least `width` digits.
void append_padded(std::uint64_t v, int width, std::string &out) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    int n = static_cast<int>(r.ptr - buf);
    if (n < width) out.append(static_cast<std::size_t>(width - n), '0');
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

void append_fraction(std::int32_t micro, unsigned decimals, std::string &out) {
    if (decimals == 0) return;
    if (decimals > 6) {  // not fixed: all six digits, when there is a fraction
        if (micro == 0) return;
        decimals = 6;
    }
    std::int32_t v = micro;
    for (unsigned k = decimals; k < 6; ++k) v /= 10;
    out.push_back('.');
    append_padded(static_cast<std::uint64_t>(v), static_cast<int>(decimals), out);
}

// ZEROFILL: zeros in front up to the column's length. Such columns are
// UNSIGNED, so there is no sign; were there one, the zeros go after it.
void zerofill(const Column &c, std::string &out) {
    if (!(c.flags & column_flag::zerofill) || out.size() >= c.length) return;
    out.insert(!out.empty() && out[0] == '-' ? 1 : 0, c.length - out.size(), '0');
}

}  // namespace

Errc to_int64(const Column &c, Value v, bool binary, std::int64_t &out) {
    Integer x;
    if (!v.data || integer_value(c, v, binary, x) != Errc::ok) return Errc::conversion;
    return to_signed(x, out);
}

Errc to_uint64(const Column &c, Value v, bool binary, std::uint64_t &out) {
    Integer x;
    if (!v.data || integer_value(c, v, binary, x) != Errc::ok) return Errc::conversion;
    return to_unsigned(x, out);
}

Errc to_double(const Column &c, Value v, bool binary, double &out) {
    if (!v.data) return Errc::conversion;
    std::string_view s(v.data, v.len);
    switch (kind_of(c.type)) {
    case Kind::real: return real_value(c, v, binary, out);
    case Kind::integer: {
        Integer x;
        if ((binary ? binary_integer(c, v, x) : parse_integer_text(s, false, false, x)) != Errc::ok)
            return Errc::conversion;
        return double_of_integer(x, out);
    }
    case Kind::decimal: return parse_real_text(s, false, out);
    case Kind::string: return parse_real_text(s, true, out);
    default: return Errc::conversion;
    }
}

Errc to_time(const Column &c, Value v, bool binary, Time &out) {
    if (!v.data) return Errc::conversion;
    switch (kind_of(c.type)) {
    case Kind::temporal: return binary ? binary_time(c, v, out) : text_time(c, std::string_view(v.data, v.len), out);
    case Kind::string: return text_time(c, std::string_view(v.data, v.len), out);
    default: return Errc::conversion;
    }
}

Errc to_text(const Column &c, Value v, std::string &out) {
    if (!v.data) return Errc::conversion;
    const Wire w = binary_wire(c.type);
    if (text_passthrough(w)) {
        out.assign(v.data, v.len);
        return Errc::ok;
    }
    std::string text;
    text.reserve(32);
    switch (w) {
    case Wire::int1:
    case Wire::int2:
    case Wire::int4:
    case Wire::int8: {
        Integer x;
        if (binary_integer(c, v, x) != Errc::ok) return Errc::conversion;
        if (x.neg) text.push_back('-');
        if (c.type == field_type::year)
            append_padded(x.mag, c.length == 2 ? 2 : 4, text);
        else
            append_uint(x.mag, text);
        zerofill(c, text);
        break;
    }
    case Wire::float4:
    case Wire::double8: {
        double d;
        bool is_float;
        if (binary_real(c, v, d, is_float) != Errc::ok || !std::isfinite(d)) return Errc::conversion;
        if (c.decimals < not_fixed_decimals)
            append_fixed(d, c.decimals, text);
        else if (is_float)
            format_float(static_cast<float>(d), text);
        else
            format_double(d, text);
        zerofill(c, text);
        break;
    }
    case Wire::date:
    case Wire::datetime:
    case Wire::time: {
        Time t;
        if (binary_time(c, v, t) != Errc::ok) return Errc::conversion;
        if (w == Wire::time) {
            if (t.negative) text.push_back('-');
            append_padded(static_cast<std::uint64_t>(t.hour), 2, text);
        } else {
            append_padded(static_cast<std::uint64_t>(t.year), 4, text);
            text.push_back('-');
            append_padded(static_cast<std::uint64_t>(t.month), 2, text);
            text.push_back('-');
            append_padded(static_cast<std::uint64_t>(t.day), 2, text);
            if (w == Wire::date) break;
            text.push_back(' ');
            append_padded(static_cast<std::uint64_t>(t.hour), 2, text);
        }
        text.push_back(':');
        append_padded(static_cast<std::uint64_t>(t.minute), 2, text);
        text.push_back(':');
        append_padded(static_cast<std::uint64_t>(t.second), 2, text);
        append_fraction(t.microsecond, c.decimals, text);
        break;
    }
    case Wire::lenenc: break;  // above
    }
    out.swap(text);
    return Errc::ok;
}

void format_double(double v, std::string &out) {
    if (append_special(v, out)) return;
    Digits g;
    digits_of(v, 0, g);
    append_general(v < 0, g, out);
}

void format_float(float v, std::string &out) {
    if (append_special(v, out)) return;
    // The server prints a FLOAT with FLT_DIG (6) significant digits.
    Digits g;
    digits_of(static_cast<double>(v), 6, g);
    append_general(v < 0, g, out);
}

}  // namespace mywire::proto
