// parse_binary_row over a layout taken from the input, then every getter and
// to_text on every value (binary and, on the same bytes, text): no crash, no
// read outside the payload, and the text form of a binary value converts
// back to what the binary value gives.
//
// Input: byte 0 = column count n (at most 40); then 3 bytes per column:
// the type (an index into `types`), flags/decimals (bit 0: UNSIGNED, bit 1:
// ZEROFILL, bits 2..7: decimals, 32 and up meaning not fixed), the column
// length; then the row payload.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz.hpp"
#include "proto/values.hpp"

using namespace mywire::proto;
using mywire::Column;
using mywire::Errc;
using mywire::Error;
using mywire::Value;

namespace {

const unsigned types[] = {field_type::tiny,     field_type::short_,   field_type::long_,     field_type::int24,
                          field_type::longlong, field_type::year,     field_type::float_,    field_type::double_,
                          field_type::date,     field_type::datetime, field_type::timestamp, field_type::time,
                          field_type::newdecimal, field_type::var_string, field_type::blob, field_type::bit,
                          field_type::json,     field_type::enum_,    field_type::geometry,  field_type::null};

void check_value(const Column &c, Value v, std::string_view payload) {
    FUZZ_CHECK(fuzz::inside(std::string_view(v.data, v.len), payload));
    std::int64_t i = 0;
    std::uint64_t u = 0;
    double d = 0;
    Time t{};
    Errc ri = to_int64(c, v, true, i);
    Errc ru = to_uint64(c, v, true, u);
    Errc rd = to_double(c, v, true, d);
    Errc rt = to_time(c, v, true, t);
    for (Errc rc : {ri, ru, rd, rt}) FUZZ_CHECK(rc == Errc::ok || rc == Errc::conversion);
    if (rd == Errc::ok) FUZZ_CHECK(std::isfinite(d));
    if (rt == Errc::ok) {
        FUZZ_CHECK(t.minute >= 0 && t.minute <= 59 && t.second >= 0 && t.second <= 59);
        FUZZ_CHECK(t.microsecond >= 0 && t.microsecond <= 999999);
        FUZZ_CHECK(t.kind == time_kind::time ? t.hour <= 838 : t.hour <= 23);
    }
    // The same bytes as a text value: any verdict, no crash.
    std::int64_t i2;
    std::uint64_t u2;
    double d2;
    Time t2;
    (void)to_int64(c, v, false, i2);
    (void)to_uint64(c, v, false, u2);
    (void)to_double(c, v, false, d2);
    (void)to_time(c, v, false, t2);

    std::string text;
    Errc rx = to_text(c, v, text);
    FUZZ_CHECK(rx == Errc::ok || rx == Errc::conversion);
    if (rx != Errc::ok) return;
    Value tv{text.data(), text.size()};
    const Wire w = binary_wire(c.type);
    switch (w) {
    case Wire::int1:
    case Wire::int2:
    case Wire::int4:
    case Wire::int8:
        // Decimal text (zero-padded or not) reads back as the same integer.
        FUZZ_CHECK(to_int64(c, tv, false, i2) == ri && (ri != Errc::ok || i2 == i));
        FUZZ_CHECK(to_uint64(c, tv, false, u2) == ru && (ru != Errc::ok || u2 == u));
        break;
    case Wire::double8:
        // The shortest form reads back exactly.
        if (c.decimals == not_fixed_decimals) FUZZ_CHECK(to_double(c, tv, false, d2) == Errc::ok && d2 == d);
        break;
    case Wire::date:
    case Wire::datetime:
    case Wire::time:
        FUZZ_CHECK(rt == Errc::ok);
        if (c.decimals == 6 && w != Wire::date) {
            FUZZ_CHECK(to_time(c, tv, false, t2) == Errc::ok);
            FUZZ_CHECK(std::memcmp(&t, &t2, sizeof t) == 0);
        }
        break;
    case Wire::lenenc: FUZZ_CHECK(text == std::string_view(v.data, v.len)); break;
    default: break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t n = data[0];
    if (n > 40 || size < 1 + 3 * n) return 0;
    std::vector<Column> cols(n);
    for (std::size_t k = 0; k < n; ++k) {
        const std::uint8_t *m = data + 1 + 3 * k;
        Column c{};
        c.name = c.org_name = c.table = c.org_table = c.schema = "";
        c.type = types[m[0] % (sizeof types / sizeof types[0])];
        c.flags = (m[1] & 1 ? column_flag::unsigned_ : 0) | (m[1] & 2 ? column_flag::zerofill : 0);
        c.decimals = (m[1] >> 2) >= 32 ? not_fixed_decimals : (m[1] >> 2);
        c.length = m[2];
        c.charset = binary_charset;
        cols[k] = c;
    }
    BinaryLayout layout;
    layout.build(cols.data(), n);
    std::string_view payload = fuzz::as_view(data + 1 + 3 * n, size - 1 - 3 * n);
    std::vector<Value> out(n + 1, Value{"x", 1});
    Error err;
    Errc rc = parse_binary_row(payload, layout, out.data(), err);
    FUZZ_CHECK(rc == Errc::ok || rc == Errc::protocol);
    if (rc != Errc::ok) {
        FUZZ_CHECK(err.code == Errc::protocol && err.message.rfind("malformed binary row: ", 0) == 0);
        return 0;
    }
    FUZZ_CHECK(out[n].data && out[n].len == 1);  // nothing written past the layout
    for (std::size_t k = 0; k < n; ++k) {
        if (!out[k].data) {
            FUZZ_CHECK(out[k].len == 0);
            continue;
        }
        check_value(cols[k], out[k], payload);
    }
    return 0;
}
