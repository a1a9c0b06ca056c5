#include "proto/params.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "proto/endian.hpp"
#include "proto/reader.hpp"

namespace mywire::proto {

namespace ft = field_type;

namespace {

unsigned width_of(unsigned type) {
    switch (type) {
    case ft::tiny: return 1;
    case ft::short_: return 2;
    case ft::long_: return 4;
    case ft::longlong: return 8;
    default: return 0;
    }
}

char *put_lenenc(char *p, std::uint64_t v) {
    auto le = [&](unsigned n) {
        for (unsigned i = 0; i < n; ++i) *p++ = static_cast<char>(v >> (8 * i));
    };
    if (v < 251) {
        *p++ = static_cast<char>(v);
    } else if (v < (1u << 16)) {
        *p++ = static_cast<char>(0xFC);
        le(2);
    } else if (v < (1u << 24)) {
        *p++ = static_cast<char>(0xFD);
        le(3);
    } else {
        *p++ = static_cast<char>(0xFE);
        le(8);
    }
    return p;
}

bool valid_decimal(std::string_view t) {
    std::size_t i = 0;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    std::size_t digits = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
    if (i < t.size() && t[i] == '.') {
        ++i;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
    }
    if (digits == 0) return false;
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
        ++i;
        if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
        std::size_t exp = 0;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++exp;
        if (exp == 0) return false;
    }
    return i == t.size();
}

// Every encoder ends here: p holds this value now, and nothing of its
// earlier one (its buffer is reused).
Errc set(Param &p, unsigned type, bool is_unsigned, std::string_view bytes, std::uint8_t indicator = 0) {
    p.type = static_cast<std::uint8_t>(type);
    p.is_unsigned = is_unsigned;
    p.bound = true;
    p.long_data = false;
    p.indicator = indicator;
    // The common case -- a value no longer than the buffer has room for,
    // fixed-width ones always -- without assign's general path.
    if (bytes.size() <= p.bytes.capacity()) {
        p.bytes.resize(bytes.size());
        if (!bytes.empty()) std::memcpy(p.bytes.data(), bytes.data(), bytes.size());
    } else {
        p.bytes.assign(bytes.data(), bytes.size());
    }
    return Errc::ok;
}

// The n low bytes of v, little-endian, in a small buffer.
struct LeBytes {
    char b[8];
    unsigned n;
    LeBytes(std::uint64_t v, unsigned len) : n(len) { store_le(v, len, b); }
    operator std::string_view() const { return {b, n}; }
};

}  // namespace

Errc encode_null(Param &p) { return set(p, ft::null, false, {}); }

Errc encode_int(Param &p, std::int64_t v, unsigned type) {
    unsigned w = width_of(type);
    if (w == 0) return Errc::argument;
    if (w < 8) {
        std::int64_t lo = -(std::int64_t(1) << (8 * w - 1)), hi = (std::int64_t(1) << (8 * w - 1)) - 1;
        if (v < lo || v > hi) return Errc::argument;
    }
    return set(p, type, false, LeBytes(static_cast<std::uint64_t>(v), w));
}

Errc encode_uint(Param &p, std::uint64_t v, unsigned type) {
    unsigned w = width_of(type);
    if (w == 0) return Errc::argument;
    if (w < 8 && v >> (8 * w)) return Errc::argument;
    return set(p, type, true, LeBytes(v, w));
}

Errc encode_float(Param &p, float v) {
    if (!std::isfinite(v)) return Errc::argument;
    std::uint32_t bits;
    std::memcpy(&bits, &v, 4);
    return set(p, ft::float_, false, LeBytes(bits, 4));
}

Errc encode_double(Param &p, double v) {
    if (!std::isfinite(v)) return Errc::argument;
    std::uint64_t bits;
    std::memcpy(&bits, &v, 8);
    return set(p, ft::double_, false, LeBytes(bits, 8));
}

Errc encode_bytes(Param &p, unsigned type, std::string_view v) {
    switch (type) {
    case ft::newdecimal:
        if (!valid_decimal(v)) return Errc::argument;
        break;
    case ft::string:
    case ft::var_string:
    case ft::blob:
    case ft::json:
        break;
    default:
        return Errc::argument;
    }
    return set(p, type, false, v);
}

namespace {

// The binary temporal of t (without its length byte) into b (13 bytes of
// room), its wire type and length; false when t is not a valid value.
bool pack_time(const Time &t, std::uint8_t &type, char *b, unsigned &n) {
    auto in = [](std::int32_t v, std::int32_t lo, std::int32_t hi) { return v >= lo && v <= hi; };
    auto le = [&](std::uint32_t v, unsigned w) {
        for (unsigned i = 0; i < w; ++i) b[n++] = static_cast<char>(v >> (8 * i));
    };
    n = 0;
    if (!in(t.minute, 0, 59) || !in(t.second, 0, 59) || !in(t.microsecond, 0, 999999)) return false;
    if (t.kind == time_kind::time) {
        if (!in(t.hour, 0, 838) || t.year || t.month || t.day || (t.negative != 0 && t.negative != 1))
            return false;
        type = ft::time;
        if (t.hour || t.minute || t.second || t.microsecond) {
            b[n++] = static_cast<char>(t.negative);
            le(static_cast<std::uint32_t>(t.hour / 24), 4);
            b[n++] = static_cast<char>(t.hour % 24);
            b[n++] = static_cast<char>(t.minute);
            b[n++] = static_cast<char>(t.second);
            if (t.microsecond) le(static_cast<std::uint32_t>(t.microsecond), 4);
        }
        return true;
    }
    if (t.kind != time_kind::date && t.kind != time_kind::datetime) return false;
    if (!in(t.year, 0, 9999) || !in(t.month, 0, 12) || !in(t.day, 0, 31) || !in(t.hour, 0, 23) || t.negative)
        return false;
    bool date = t.kind == time_kind::date;
    if (date && (t.hour || t.minute || t.second || t.microsecond)) return false;
    type = date ? ft::date : ft::datetime;
    // Always the 4-, 7- or 11-byte form (the zero date too: a 0-length
    // value would mean the server's "zero" anyway, sent explicitly here).
    le(static_cast<std::uint32_t>(t.year), 2);
    b[n++] = static_cast<char>(t.month);
    b[n++] = static_cast<char>(t.day);
    if (!date && (t.hour || t.minute || t.second || t.microsecond)) {
        b[n++] = static_cast<char>(t.hour);
        b[n++] = static_cast<char>(t.minute);
        b[n++] = static_cast<char>(t.second);
        if (t.microsecond) le(static_cast<std::uint32_t>(t.microsecond), 4);
    }
    return true;
}

}  // namespace

Errc encode_time(Param &p, const Time &t) {
    char b[13];
    unsigned n;
    std::uint8_t type;
    if (!pack_time(t, type, b, n)) return Errc::argument;
    return set(p, type, false, std::string_view(b, n));
}

Errc encode_indicator(Param &p, std::uint8_t indicator) {
    if (indicator != 2 && indicator != 3) return Errc::argument;
    return set(p, ft::null, false, {}, indicator);
}

namespace {

// How a parameter's value goes on the wire: its bytes as they are (integers,
// FLOAT, DOUBLE), after a length byte (temporals), or length-encoded.
enum class ValueForm { fixed, temporal, lenenc };

ValueForm form_of(const Param &p) {
    switch (p.type) {
    case ft::tiny:
    case ft::short_:
    case ft::long_:
    case ft::longlong:
    case ft::float_:
    case ft::double_: return ValueForm::fixed;
    case ft::date:
    case ft::time:
    case ft::datetime: return ValueForm::temporal;
    default: return ValueForm::lenenc;
    }
}

// Bytes of p's value in an execute request (not NULL, not long data).
std::size_t param_value_size(const Param &p) {
    const std::size_t n = p.bytes.size();
    switch (form_of(p)) {
    case ValueForm::fixed: return n;
    case ValueForm::temporal: return 1 + n;
    default: return lenenc_size(n) + n;
    }
}

// Writes p's value (param_value_size(p) bytes) at w; returns its end.
char *put_param_value(char *w, const Param &p) {
    switch (form_of(p)) {
    case ValueForm::fixed: break;
    case ValueForm::temporal: *w++ = static_cast<char>(p.bytes.size()); break;
    default: w = put_lenenc(w, p.bytes.size());
    }
    if (!p.bytes.empty()) std::memcpy(w, p.bytes.data(), p.bytes.size());
    return w + p.bytes.size();
}

// Whether the server's types (`known`: per parameter its type, unsigned
// flag and, when named, its empty name) are those of params.
bool same_types(const std::vector<Param> &params, bool named, const std::string &known) {
    const std::size_t step = named ? 3 : 2;
    if (known.size() != step * params.size()) return false;
    const char *k = known.data();
    for (const Param &p : params) {
        if (static_cast<std::uint8_t>(k[0]) != p.type ||
            static_cast<std::uint8_t>(k[1]) != (p.is_unsigned ? 0x80 : 0x00) || (named && k[2] != 0))
            return false;
        k += step;
    }
    return true;
}

}  // namespace

void append_param_value(std::string &out, const Param &p) {
    const std::size_t at = out.size();
    out.resize(at + param_value_size(p));
    put_param_value(out.data() + at, p);
}

bool append_param_block(std::string &out, const std::vector<Param> &params, const std::vector<QueryAttr> &attrs,
                        bool named, const std::string *known_types, std::string &types) {
    const std::size_t n = params.size(), total = n + attrs.size();
    types.clear();
    if (total == 0) return false;
    auto value = [&](std::size_t i) -> const Param & { return i < n ? params[i] : attrs[i - n].value; };
    // New-params-bound: the types go out only when the server does not have
    // them; attributes always carry theirs (and their names).
    const bool send_types = !known_types || !attrs.empty() || !same_types(params, named, *known_types);
    if (send_types) {
        types.reserve(total * (named ? 3 : 2));
        for (std::size_t i = 0; i < total; ++i) {
            const Param &p = value(i);
            types.push_back(static_cast<char>(p.type));
            types.push_back(static_cast<char>(p.is_unsigned ? 0x80 : 0x00));
            if (!named) continue;
            std::string_view name = i < n ? std::string_view() : std::string_view(attrs[i - n].name);
            append_lenenc(types, name.size());
            types.append(name.data(), name.size());
        }
    }
    // The block's size first, then every byte written in place.
    const std::size_t bitmap_size = (total + 7) / 8;
    std::size_t size = bitmap_size + 1 + types.size();
    for (std::size_t i = 0; i < total; ++i) {
        const Param &p = value(i);
        if (!p.is_null() && !p.long_data) size += param_value_size(p);
    }
    const std::size_t at = out.size();
    out.resize(at + size);  // the NULL bitmap starts all zero
    char *const bitmap = out.data() + at;
    char *w = bitmap + bitmap_size;
    *w++ = send_types ? 1 : 0;
    if (send_types) {
        std::memcpy(w, types.data(), types.size());
        w += types.size();
    }
    for (std::size_t i = 0; i < total; ++i) {
        const Param &p = value(i);
        if (p.is_null()) {
            bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | (1 << (i % 8)));
            continue;
        }
        if (p.long_data) continue;  // sent with COM_STMT_SEND_LONG_DATA
        w = put_param_value(w, p);
    }
    return send_types;
}

// ------------------------------------------------------------ arrays

namespace {

struct ArrayKindInfo {
    std::uint8_t type;
    bool is_unsigned;
    unsigned width;       // fixed-width values: bytes on the wire
    std::size_t element;  // bytes per value in the caller's array
};

bool array_kind_info(int kind, ArrayKindInfo &k) {
    using A = ParamArray;
    switch (kind) {
    case A::i8: k = {ft::tiny, false, 1, 1}; return true;
    case A::i16: k = {ft::short_, false, 2, 2}; return true;
    case A::i32: k = {ft::long_, false, 4, 4}; return true;
    case A::i64: k = {ft::longlong, false, 8, 8}; return true;
    case A::u8: k = {ft::tiny, true, 1, 1}; return true;
    case A::u16: k = {ft::short_, true, 2, 2}; return true;
    case A::u32: k = {ft::long_, true, 4, 4}; return true;
    case A::u64: k = {ft::longlong, true, 8, 8}; return true;
    case A::f32: k = {ft::float_, false, 4, 4}; return true;
    case A::f64: k = {ft::double_, false, 8, 8}; return true;
    case A::str: k = {ft::string, false, 0, sizeof(const char *)}; return true;
    case A::bytes: k = {ft::blob, false, 0, sizeof(const char *)}; return true;
    case A::time: k = {ft::null, false, 0, sizeof(Time)}; return true;
    default: return false;
    }
}

const Time &time_at(const ParamArray &a, std::uint64_t row) {
    return *reinterpret_cast<const Time *>(a.values + row * a.value_step);
}

// Bytes of row's value on the wire (indicator 0), its length prefix included.
std::size_t value_size(const ParamArray &a, std::uint64_t row) {
    if (a.width) return a.width;
    if (a.kind == ParamArray::time) {
        char b[13];
        unsigned n;
        std::uint8_t type;
        pack_time(time_at(a, row), type, b, n);
        return 1 + n;
    }
    std::size_t len = a.length(row);
    return lenenc_size(len) + len;
}

// The wire indicator of a checked row: a NULL string pointer is NULL.
std::uint8_t wire_indicator(const ParamArray &a, std::uint64_t row) {
    std::uint8_t ind = a.indicator(row);
    if (ind == 0 && (a.kind == ParamArray::str || a.kind == ParamArray::bytes) && !a.data(row)) return 1;
    return ind;
}

// A fixed-width value of the caller's (host order) as little-endian bytes.
inline char *put_fixed(char *p, const char *v, unsigned w) {
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(p, v, w);
    } else {
        for (unsigned i = 0; i < w; ++i) p[i] = v[w - 1 - i];
    }
    return p + w;
}

}  // namespace

Errc make_param_array(ParamArray &a, int kind, const void *values, std::size_t stride, const std::size_t *lengths,
                      const std::uint8_t *indicators) {
    ArrayKindInfo k;
    if (!array_kind_info(kind, k) || kind == ParamArray::none || !values) return Errc::argument;
    bool text = kind == ParamArray::str || kind == ParamArray::bytes;
    if (kind == ParamArray::bytes && !lengths) return Errc::argument;
    if (!text && lengths) return Errc::argument;
    if (stride && stride < k.element) return Errc::argument;
    ParamArray n;
    n.kind = static_cast<ParamArray::Kind>(kind);
    n.type = k.type;
    n.is_unsigned = k.is_unsigned;
    n.width = k.width;
    n.values = static_cast<const char *>(values);
    n.value_step = stride ? stride : k.element;
    n.length_step = stride ? stride : sizeof(std::size_t);
    n.indicator_step = stride ? stride : 1;
    n.lengths = lengths;
    n.indicators = indicators;
    a = n;
    return Errc::ok;
}

Errc check_param_array(ParamArray &a, std::uint64_t rows, std::size_t max_len, bool bulk, std::uint64_t &row,
                       const char *&why) {
    const bool text = a.kind == ParamArray::str || a.kind == ParamArray::bytes;
    const bool checks_values = text || a.kind == ParamArray::f32 || a.kind == ParamArray::f64 ||
                               a.kind == ParamArray::time;
    if (!a.indicators && !checks_values) return Errc::ok;  // every integer is a value of its type
    bool typed = false;
    if (a.kind == ParamArray::time) a.type = ft::null;  // until a row has a time
    for (row = 0; row < rows; ++row) {
        std::uint8_t ind = a.indicator(row);
        if (ind > 3) return why = "an indicator that is none of MYWIRE_IND_*", Errc::argument;
        if (ind >= 2 && !bulk)
            return why = "DEFAULT or IGNORE, which only bulk execution can send (MariaDB; with per-row results, 11.5+)", Errc::argument;
        if (ind) continue;
        switch (a.kind) {
        case ParamArray::f32: {
            float v;
            std::memcpy(&v, a.values + row * a.value_step, 4);
            if (!std::isfinite(v)) return why = "a float that is not finite", Errc::argument;
            break;
        }
        case ParamArray::f64: {
            double v;
            std::memcpy(&v, a.values + row * a.value_step, 8);
            if (!std::isfinite(v)) return why = "a double that is not finite", Errc::argument;
            break;
        }
        case ParamArray::time: {
            char b[13];
            unsigned n;
            std::uint8_t type;
            if (!pack_time(time_at(a, row), type, b, n)) return why = "an ill-formed time", Errc::argument;
            if (typed && type != a.type)
                return why = "a time of another kind than the earlier rows' (the parameter's type is sent "
                             "once)",
                       Errc::argument;
            a.type = type;
            typed = true;
            break;
        }
        case ParamArray::str:
        case ParamArray::bytes: {
            if (!a.data(row)) {
                if (a.lengths && a.length(row))
                    return why = "a NULL pointer with a length (NULL is a NULL pointer of length 0)",
                           Errc::argument;
                break;
            }
            if (a.length(row) > max_len)
                return why = "a value longer than max_allowed_packet", Errc::argument;
            break;
        }
        default:
            break;
        }
    }
    return Errc::ok;
}

void append_bulk_types(std::vector<std::uint8_t> &out, const std::vector<ParamArray> &arrays) {
    for (const ParamArray &a : arrays) {
        out.push_back(a.type);
        out.push_back(a.is_unsigned ? 0x80 : 0);
    }
}

namespace {

// The row bytes of the arrays that vary from row to row (strings, bytes,
// times, or anything with indicators), one row at a time.
std::size_t varying_size(const ParamArray &a, std::uint64_t row) {
    std::uint8_t ind = wire_indicator(a, row);
    return 1 + (ind ? 0 : value_size(a, row));
}

inline char *write_value(char *p, const ParamArray &a, std::uint64_t row) {
    const char *v = a.values + row * a.value_step;
    switch (a.kind) {
    case ParamArray::i8:
    case ParamArray::u8:
        *p = *v;
        return p + 1;
    case ParamArray::i16:
    case ParamArray::u16:
        return put_fixed(p, v, 2);
    case ParamArray::i32:
    case ParamArray::u32:
    case ParamArray::f32:
        return put_fixed(p, v, 4);
    case ParamArray::i64:
    case ParamArray::u64:
    case ParamArray::f64:
        return put_fixed(p, v, 8);
    case ParamArray::time: {
        unsigned n;
        std::uint8_t type;
        pack_time(*reinterpret_cast<const Time *>(v), type, p + 1, n);
        *p = static_cast<char>(n);
        return p + 1 + n;
    }
    default: {
        const char *d;
        std::memcpy(&d, v, sizeof d);
        std::size_t len = a.length(row);
        p = put_lenenc(p, len);
        std::memcpy(p, d, len);
        return p + len;
    }
    }
}

}  // namespace

std::uint64_t append_bulk_rows(std::vector<std::uint8_t> &out, const std::vector<ParamArray> &arrays,
                               std::uint64_t from, std::uint64_t rows, std::size_t limit) {
    // First how many rows fit and their bytes, then one resize and the
    // values written in place: no per-value growth checks. Fixed-width
    // values without indicators are the same bytes in every row; only the
    // others are looked at row by row.
    std::size_t fixed = 0;
    const ParamArray *varying[64];
    std::vector<const ParamArray *> more;
    std::size_t nvarying = 0;
    for (const ParamArray &a : arrays) {
        if (a.width && !a.indicators) {
            fixed += 1 + a.width;
        } else if (nvarying < 64) {
            varying[nvarying++] = &a;
        } else {
            more.push_back(&a);
        }
    }
    std::uint64_t end = from;
    std::size_t bytes = 0;
    if (nvarying == 0) {
        std::uint64_t fit = fixed ? limit / fixed : rows - from;
        end = from + std::max<std::uint64_t>(1, std::min<std::uint64_t>(fit, rows - from));
        bytes = static_cast<std::size_t>((end - from) * fixed);
    } else {
        while (end < rows) {
            std::size_t n = fixed;
            for (std::size_t i = 0; i < nvarying; ++i) n += varying_size(*varying[i], end);
            for (const ParamArray *a : more) n += varying_size(*a, end);
            if (end > from && bytes + n > limit) break;
            bytes += n;
            ++end;
        }
    }
    std::size_t start = out.size();
    out.resize(start + bytes);
    char *p = reinterpret_cast<char *>(out.data()) + start;
    for (std::uint64_t row = from; row < end; ++row) {
        for (const ParamArray &a : arrays) {
            std::uint8_t ind = a.indicators ? a.indicator(row) : 0;
            if (ind == 0 && (a.kind == ParamArray::str || a.kind == ParamArray::bytes) && !a.data(row)) ind = 1;
            *p++ = static_cast<char>(ind);
            if (ind == 0) p = write_value(p, a, row);
        }
    }
    return end;
}

void load_array_value(Param &p, const ParamArray &a, std::uint64_t row) {
    if (wire_indicator(a, row)) {
        encode_null(p);
        return;
    }
    const char *v = a.values + row * a.value_step;
    if (a.width) {
        char b[8];
        put_fixed(b, v, a.width);
        set(p, a.type, a.is_unsigned, std::string_view(b, a.width));
    } else if (a.kind == ParamArray::time) {
        encode_time(p, time_at(a, row));
    } else {
        set(p, a.type, false, std::string_view(a.data(row), a.length(row)));
    }
}

void append_query_attributes(std::string &out, const std::vector<QueryAttr> &attrs) {
    append_lenenc(out, attrs.size());
    append_lenenc(out, 1);  // parameter sets: always 1
    std::string types;
    append_param_block(out, {}, attrs, true, nullptr, types);
}

}  // namespace mywire::proto
