// Typed values: binary-protocol rows (COM_STMT_EXECUTE / COM_STMT_FETCH
// results), the typed view of any value of either protocol, and the text
// form of a binary value (what the server's text protocol would have sent).
// Sans-io and allocation-free except where a std::string is filled.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "proto/endian.hpp"
#include "proto/errors.hpp"
#include "proto/small_array.hpp"
#include "proto/types.hpp"

namespace mywire::proto {

// Column / parameter types (the protocol's numbers, = MYWIRE_TYPE_*).
namespace field_type {
inline constexpr unsigned decimal = 0, tiny = 1, short_ = 2, long_ = 3, float_ = 4, double_ = 5,
                          null = 6, timestamp = 7, longlong = 8, int24 = 9, date = 10, time = 11,
                          datetime = 12, year = 13, newdate = 14, varchar = 15, bit = 16,
                          timestamp2 = 17, datetime2 = 18, time2 = 19, vector = 242, json = 245,
                          newdecimal = 246, enum_ = 247, set = 248, tiny_blob = 249,
                          medium_blob = 250, long_blob = 251, blob = 252, var_string = 253,
                          string = 254, geometry = 255;
}
namespace column_flag {
inline constexpr unsigned not_null = 0x0001, blob = 0x0010, unsigned_ = 0x0020, zerofill = 0x0040,
                          binary = 0x0080;
}
// Column::decimals for "not fixed": FLOAT/DOUBLE printed in their shortest form.
inline constexpr unsigned not_fixed_decimals = 31;
// The binary collation (charset 63): BLOB/BINARY/BIT/GEOMETRY/VECTOR bytes.
inline constexpr unsigned binary_charset = 63;

// How a value of a column is laid out in a binary row.
enum class Wire : std::uint8_t {
    int1,     // TINY                     1 byte
    int2,     // SHORT, YEAR              2 bytes LE
    int4,     // LONG, INT24              4 bytes LE
    int8,     // LONGLONG                 8 bytes LE
    float4,   // FLOAT                    4 bytes IEEE LE
    double8,  // DOUBLE                   8 bytes IEEE LE
    date,     // DATE: length byte 0 or 4 (7 and 11 accepted too: servers send DATE like DATETIME at times)
    datetime, // DATETIME, TIMESTAMP: length byte 0, 4, 7 or 11
    time,     // TIME: length byte 0, 8 or 12
    lenenc,   // everything else: a length-encoded string (DECIMAL, strings, BLOB, ENUM, SET, BIT, JSON, GEOMETRY, VECTOR)
};
Wire binary_wire(unsigned type);

// The typed getters' fast path for the common binary columns, chosen once
// per result: integer columns by width and sign, FLOAT and DOUBLE.
// The temporal columns by their wire form, for mywire_get_time.
enum class Fast : std::uint8_t { none, s1, s2, s4, s8, u1, u2, u4, u8, f4, d8, date, datetime, time };

// BinaryLayout::step's codes for the columns without a fixed width.
namespace step {
inline constexpr std::uint8_t date = 16, time = 17, lenenc = 18, unknown = 19;
}

// Per-result decoding plan for binary rows (built once per result head).
struct BinaryLayout {
    // Up to `local_columns` columns without an allocation.
    static constexpr std::size_t local_columns = 16;
    SmallArray<Wire, local_columns> wire;
    SmallArray<Fast, local_columns> fast;
    // What the row walk does per column, from one byte: a fixed width
    // (integers, FLOAT, DOUBLE: 1, 2, 4, 8), taken without a switch, or one
    // of the step:: codes below (all above 8).
    SmallArray<std::uint8_t, local_columns> step;
    // The NULL bitmap's size, (size() + 7 + 2) / 8, and the bits of its
    // last byte that stand for no column (they must be 0).
    std::size_t bitmap_len = 1;
    std::uint8_t past_last = 0xFC;
    // wire (and step) from the columns' types, fast from their flags too.
    void build(const Column *columns, std::size_t n);
    // Only the wire forms (step and the bitmap's from them; fast stays
    // empty): tests.
    void set_wire(std::vector<Wire> w);
    std::size_t size() const { return wire.size(); }
};

// Splits a binary row into out[0 .. layout.size()): the 0x00 header, the
// NULL bitmap ((n + 7 + 2) / 8 bytes, the first two bits unused), then the
// non-NULL values. Each value views its bytes as sent: the 1/2/4/8 bytes of
// an integer, FLOAT or DOUBLE; the bytes after the length byte of a temporal
// (len = 0, 4, 7, 11 / 0, 8, 12); the bytes after the length prefix of a
// length-encoded value. data == nullptr for NULL (a non-NULL value of length 0
// has a non-null data). Never reads outside payload. Errors (Errc::protocol,
// with a message in err that says which column, counted from 0, and what was
// wrong: "malformed binary row: column 3 (DATETIME) has length 5"): payload
// not starting with 0x00, shorter than the header and bitmap, a bitmap with
// the two reserved bits or bits past the last column set, a temporal length
// outside its set, a length-encoded value with the prefix 0xFB (NULL is
// the bitmap's) or 0xFF, a value running past the end, bytes left after the
// last value. On error, out[] may hold the values before the fault.
Errc parse_binary_row(std::string_view payload, const BinaryLayout &layout, Value *out, Error &err);

// Length-encoded values up to this size are made C strings in place by
// terminate_binary_strings; longer ones are left as they are (copying a
// large value that nobody asks for as text would cost more than it saves).
inline constexpr std::size_t in_place_text_max = 4096;
inline bool terminated_in_place(Value v) { return v.len <= in_place_text_max; }

// After parse_binary_row over a payload the caller owns and may overwrite:
// moves every non-NULL length-encoded value of at most in_place_text_max
// bytes one byte back, over the last byte of its own length prefix, and puts
// a NUL after it, updating out[i]. Nothing outside a value and its prefix is
// touched, so the other values stay as they were.
void terminate_binary_strings(const BinaryLayout &layout, Value *out);

// parse_binary_row and then terminate_binary_strings, in one pass (the
// streaming rows' path), over a payload the caller owns and may overwrite.
// On error, the values before the fault may have been moved already.
Errc parse_binary_row_terminated(std::string_view payload, const BinaryLayout &layout, Value *out, Error &err);

// A date, a time or both; layout-compatible with the public mywire_time
// (all int32_t). For TIME, `day` is always 0 and `hour` holds the whole
// hours (TIME '-838:59:59' is negative=1, hour=838). The zero date
// '0000-00-00' is all zeros (kind date or datetime).
struct Time {
    std::int32_t kind;  // time_kind below
    std::int32_t negative;  // TIME only: 1 for a negative time
    std::int32_t year, month, day, hour, minute, second, microsecond;
};
namespace time_kind {
inline constexpr std::int32_t date = 1, time = 2, datetime = 3;
}

// The fast paths of to_int64 / to_uint64 / to_double for a binary value of
// a column whose layout has a Fast form: true with out set when the value
// converts exactly; false when it does not or needs a look the fast path
// does not take -- then the general function decides (same rules, same
// errors). Inline: they run once per value read.
namespace fast_detail {
// The value as a signed (or, for u8 above INT64_MAX, unsigned) integer.
inline bool integer(Fast f, Value v, std::int64_t &s, std::uint64_t &u, bool &is_u) {
    is_u = false;
    switch (f) {
    case Fast::s1: if (v.len != 1) return false; s = static_cast<std::int8_t>(v.data[0]); return true;
    case Fast::s2: if (v.len != 2) return false; s = load_le<std::int16_t>(v.data); return true;
    case Fast::s4: if (v.len != 4) return false; s = load_le<std::int32_t>(v.data); return true;
    case Fast::s8: if (v.len != 8) return false; s = load_le<std::int64_t>(v.data); return true;
    case Fast::u1: if (v.len != 1) return false; s = static_cast<std::uint8_t>(v.data[0]); return true;
    case Fast::u2: if (v.len != 2) return false; s = load_le<std::uint16_t>(v.data); return true;
    case Fast::u4: if (v.len != 4) return false; s = load_le<std::uint32_t>(v.data); return true;
    case Fast::u8:
        if (v.len != 8) return false;
        u = load_le<std::uint64_t>(v.data);
        is_u = true;
        return true;
    default: return false;
    }
}
}  // namespace fast_detail

inline bool fast_int64(Fast f, Value v, std::int64_t &out) {
    std::int64_t s = 0;
    std::uint64_t u = 0;
    bool is_u = false;
    if (!fast_detail::integer(f, v, s, u, is_u)) return false;
    if (is_u) {
        if (u > static_cast<std::uint64_t>(INT64_MAX)) return false;
        s = static_cast<std::int64_t>(u);
    }
    out = s;
    return true;
}

inline bool fast_uint64(Fast f, Value v, std::uint64_t &out) {
    std::int64_t s = 0;
    std::uint64_t u = 0;
    bool is_u = false;
    if (!fast_detail::integer(f, v, s, u, is_u)) return false;
    if (!is_u) {
        if (s < 0) return false;
        u = static_cast<std::uint64_t>(s);
    }
    out = u;
    return true;
}

inline bool fast_double(Fast f, Value v, double &out) {
    double d;
    if (f == Fast::d8) {
        if (v.len != 8) return false;
        const std::uint64_t bits = load_le<std::uint64_t>(v.data);
        std::memcpy(&d, &bits, 8);
    } else if (f == Fast::f4) {
        if (v.len != 4) return false;
        const std::uint32_t bits = load_le<std::uint32_t>(v.data);
        float x;
        std::memcpy(&x, &bits, 4);
        d = x;
    } else {
        std::int64_t s = 0;
        std::uint64_t u = 0;
        bool is_u = false;
        // Up to 32 bits every integer is exact as a double; wider ones take
        // the general path (which checks).
        if (f == Fast::s8 || f == Fast::u8 || !fast_detail::integer(f, v, s, u, is_u)) return false;
        d = static_cast<double>(s);
    }
    if (!std::isfinite(d)) return false;
    out = d;
    return true;
}

// The range checks of a decoded date and time of day (TIME: hours up to 838).
inline bool valid_date(const Time &t) {
    return t.year >= 0 && t.year <= 9999 && t.month >= 0 && t.month <= 12 && t.day >= 0 && t.day <= 31;
}
inline bool valid_clock(const Time &t, std::int32_t max_hour) {
    return t.hour >= 0 && t.hour <= max_hour && t.minute >= 0 && t.minute <= 59 && t.second >= 0 &&
           t.second <= 59 && t.microsecond >= 0 && t.microsecond <= 999999;
}

// A binary DATE / DATETIME / TIMESTAMP (w date or datetime: length 0, 4, 7
// or 11) or TIME (w time: 0, 8 or 12) value into out; false when it is
// malformed or out of range (out unchanged). to_time's binary form and
// fast_time are this one function. Inline: it runs once per value read.
inline bool decode_binary_time(Wire w, Value v, Time &out) {
    const auto *p = reinterpret_cast<const std::uint8_t *>(v.data);
    Time t{};
    switch (w) {
    case Wire::date:
    case Wire::datetime:
        t.kind = w == Wire::date ? time_kind::date : time_kind::datetime;
        if (v.len != 0 && v.len != 4 && v.len != 7 && v.len != 11) return false;
        if (v.len >= 4) {
            t.year = load_le<std::uint16_t>(v.data);
            t.month = p[2];
            t.day = p[3];
        }
        if (v.len >= 7) {
            t.hour = p[4];
            t.minute = p[5];
            t.second = p[6];
        }
        if (v.len == 11)
            t.microsecond = static_cast<std::int32_t>(std::min<std::uint32_t>(load_le<std::uint32_t>(v.data + 7), 99999999));
        if (!valid_date(t) || !valid_clock(t, 23)) return false;
        break;
    case Wire::time: {
        t.kind = time_kind::time;
        if (v.len != 0 && v.len != 8 && v.len != 12) return false;
        if (v.len >= 8) {
            if (p[0] > 1) return false;
            t.negative = p[0];
            const std::uint32_t days = load_le<std::uint32_t>(v.data + 1);
            if (p[5] > 23 || days > 838 / 24) return false;
            t.hour = static_cast<std::int32_t>(days * 24 + p[5]);
            t.minute = p[6];
            t.second = p[7];
        }
        if (v.len == 12)
            t.microsecond = static_cast<std::int32_t>(std::min<std::uint32_t>(load_le<std::uint32_t>(v.data + 8), 99999999));
        if (!valid_clock(t, 838)) return false;
        break;
    }
    default: return false;
    }
    out = t;
    return true;
}

inline bool fast_time(Fast f, Value v, Time &out) {
    switch (f) {
    case Fast::date: return decode_binary_time(Wire::date, v, out);
    case Fast::datetime: return decode_binary_time(Wire::datetime, v, out);
    case Fast::time: return decode_binary_time(Wire::time, v, out);
    default: return false;
    }
}

// Typed getters over one value of either protocol. `binary` says v is as
// parse_binary_row gave it; otherwise it is the text protocol's text. v must
// not be NULL (the caller reports MYWIRE_NULL). They return Errc::ok or
// Errc::conversion (the value is not representable exactly in the target
// type, or the column's type cannot convert; out is then unchanged). The
// rules, the same for both protocols (documented in capi/mywire.h):
//  - to_int64 / to_uint64: integer columns (TINY..LONGLONG, YEAR, and their
//    unsigned forms) when in range; BIT (big-endian bytes, at most 8) when in
//    range; DECIMAL / NEWDECIMAL whose value is integral ("12.000") and in
//    range; FLOAT / DOUBLE whose value is integral and in range; strings
//    (CHAR, VARCHAR, TEXT, ENUM, JSON, ...) holding exactly an optional sign
//    and decimal digits. Anything else (temporals, a fraction, overflow,
//    blanks, empty) is conversion.
//  - to_double: FLOAT, DOUBLE exactly; integers when the double holds them
//    exactly (|v| <= 2^53, or exactly representable); DECIMAL and numeric
//    strings as the nearest double (strtod's rounding; a finite, fully
//    consumed number only); YEAR; others conversion. A NaN or infinite
//    FLOAT / DOUBLE is conversion too. A FLOAT's text is read as a float
//    (then widened), so both protocols give the same double when the
//    server's text reads back to the stored float.
//    Strings may carry a leading '+' (to_int64 / to_uint64 / to_double);
//    the server's own forms (integer, DECIMAL, FLOAT/DOUBLE text) may not.
//  - to_time: DATE, DATETIME, TIMESTAMP, TIME; strings in the server's text
//    forms ('YYYY-MM-DD', 'YYYY-MM-DD hh:mm:ss[.ffffff]', '[-]h..h:mm:ss[.ffffff]').
// Values out of their type's valid ranges (month 13, minute 60, a binary
// TIME's day*24+hour over 838, a binary TIME's hour byte over 23, year over
// 9999...) are conversion errors too. TIME text has 2 or 3 hour digits and
// at most 838 hours; fractions have 1 to 6 digits.
Errc to_int64(const Column &c, Value v, bool binary, std::int64_t &out);
Errc to_uint64(const Column &c, Value v, bool binary, std::uint64_t &out);
Errc to_double(const Column &c, Value v, bool binary, double &out);
Errc to_time(const Column &c, Value v, bool binary, Time &out);

// True when a binary value's bytes are already its text form (the lenenc
// wire: DECIMAL, strings, BLOB, ENUM, SET, BIT, JSON, GEOMETRY, VECTOR).
inline bool text_passthrough(Wire w) { return w == Wire::lenenc; }

// Replaces out with the text the server's text protocol sends for this
// binary value of column c (non-NULL), byte for byte: integers in decimal
// (ZEROFILL padded to the column's length), YEAR as 4 digits (0 as "0000";
// YEAR(2), length 2: 2 digits), FLOAT and DOUBLE as the server prints them
// (c.decimals == not_fixed_decimals: format_float / format_double; else
// c.decimals digits after the point: the shortest digits zero-padded, or
// the value rounded there when it needs more places), DATE 'YYYY-MM-DD',
// DATETIME/TIMESTAMP 'YYYY-MM-DD hh:mm:ss' plus c.decimals fraction digits
// (when 1..6; above 6, six digits when the fraction is not zero), TIME
// '[-]hh:mm:ss' (hours may be 3 digits) plus fraction digits; lenenc values
// are copied. Errc::conversion only for a value the layout check let through
// but that has no text form (NaN, infinities, temporals out of range, a
// value of the wrong width for its column; never for a well-formed row);
// out is then unchanged.
Errc to_text(const Column &c, Value v, std::string &out);

// Formats a double / float the way the server does (MariaDB's my_gcvt),
// appending to out. Digits: a double's shortest round-trip digits; a float's
// value rounded to 6 significant digits (FLT_DIG: the server prints FLOAT
// 16777217 as "16777200", so a FLOAT's text need not read back to it).
// Notation: plain ("0.00001", "100000000000000") while the first digit is at
// most 14 places right of the point and the integer part has at most 15
// digits (or more digits than that but all significant); else
// "d.ddde[-]x" ("1e15", "1e-16", "1.2345678901234568e20"). -0 prints as
// "0"; NaN and infinities (which the server never sends) as "nan", "inf",
// "-inf". For the text form above and for client-side formatted parameters.
void format_double(double v, std::string &out);
void format_float(float v, std::string &out);

}  // namespace mywire::proto
