#include "proto/params.hpp"

#include <bit>
#include <cmath>
#include <cstring>

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
    LeBytes(std::uint64_t v, unsigned len) : n(len) {
        if constexpr (std::endian::native == std::endian::little) {
            std::memcpy(b, &v, 8);
        } else {
            for (unsigned i = 0; i < len; ++i) b[i] = static_cast<char>(v >> (8 * i));
        }
    }
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

Errc encode_time(Param &p, const Time &t) {
    auto in = [](std::int32_t v, std::int32_t lo, std::int32_t hi) { return v >= lo && v <= hi; };
    if (!in(t.minute, 0, 59) || !in(t.second, 0, 59) || !in(t.microsecond, 0, 999999)) return Errc::argument;
    std::string b;
    std::uint8_t type;
    if (t.kind == time_kind::time) {
        if (!in(t.hour, 0, 838) || t.year || t.month || t.day || (t.negative != 0 && t.negative != 1))
            return Errc::argument;
        type = ft::time;
        if (t.hour || t.minute || t.second || t.microsecond) {
            b.push_back(static_cast<char>(t.negative));
            append_le(b, static_cast<std::uint32_t>(t.hour / 24), 4);
            b.push_back(static_cast<char>(t.hour % 24));
            b.push_back(static_cast<char>(t.minute));
            b.push_back(static_cast<char>(t.second));
            if (t.microsecond) append_le(b, static_cast<std::uint32_t>(t.microsecond), 4);
        }
    } else if (t.kind == time_kind::date || t.kind == time_kind::datetime) {
        if (!in(t.year, 0, 9999) || !in(t.month, 0, 12) || !in(t.day, 0, 31) || !in(t.hour, 0, 23) || t.negative)
            return Errc::argument;
        bool date = t.kind == time_kind::date;
        if (date && (t.hour || t.minute || t.second || t.microsecond)) return Errc::argument;
        type = date ? ft::date : ft::datetime;
        // Always the 4-, 7- or 11-byte form (the zero date too: a 0-length
        // value would mean the server's "zero" anyway, sent explicitly here).
        append_le(b, static_cast<std::uint32_t>(t.year), 2);
        b.push_back(static_cast<char>(t.month));
        b.push_back(static_cast<char>(t.day));
        if (!date && (t.hour || t.minute || t.second || t.microsecond)) {
            b.push_back(static_cast<char>(t.hour));
            b.push_back(static_cast<char>(t.minute));
            b.push_back(static_cast<char>(t.second));
            if (t.microsecond) append_le(b, static_cast<std::uint32_t>(t.microsecond), 4);
        }
    } else {
        return Errc::argument;
    }
    return set(p, type, false, b);
}

Errc encode_indicator(Param &p, std::uint8_t indicator) {
    if (indicator != 2 && indicator != 3) return Errc::argument;
    return set(p, ft::null, false, {}, indicator);
}

void append_param_value(std::string &out, const Param &p) {
    switch (p.type) {
    case ft::tiny:
    case ft::short_:
    case ft::long_:
    case ft::longlong:
    case ft::float_:
    case ft::double_:
        out += p.bytes;
        break;
    case ft::date:
    case ft::time:
    case ft::datetime:
        out.push_back(static_cast<char>(p.bytes.size()));
        out += p.bytes;
        break;
    default:  // length-encoded
        append_lenenc(out, p.bytes.size());
        out += p.bytes;
    }
}

void append_param_block(std::string &out, const std::vector<Param> &params, const std::vector<QueryAttr> &attrs,
                        bool named, const std::string *known_types, std::string &types) {
    const std::size_t n = params.size(), total = n + attrs.size();
    types.clear();
    if (total == 0) return;
    auto value = [&](std::size_t i) -> const Param & { return i < n ? params[i] : attrs[i - n].value; };
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
    std::size_t bitmap = out.size();
    out.append((total + 7) / 8, '\0');
    // New-params-bound: the types go out only when the server does not have
    // them; attributes always carry theirs (and their names).
    bool send_types = !known_types || !attrs.empty() || types != *known_types;
    out.push_back(send_types ? 1 : 0);
    if (send_types) out += types;
    for (std::size_t i = 0; i < total; ++i) {
        const Param &p = value(i);
        if (p.is_null()) {
            out[bitmap + i / 8] = static_cast<char>(out[bitmap + i / 8] | (1 << (i % 8)));
            continue;
        }
        if (p.long_data) continue;  // sent with COM_STMT_SEND_LONG_DATA
        append_param_value(out, p);
    }
}

void append_query_attributes(std::string &out, const std::vector<QueryAttr> &attrs) {
    append_lenenc(out, attrs.size());
    append_lenenc(out, 1);  // parameter sets: always 1
    std::string types;
    append_param_block(out, {}, attrs, true, nullptr, types);
}

}  // namespace mywire::proto
