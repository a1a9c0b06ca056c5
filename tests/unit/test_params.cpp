// Column arrays (proto::ParamArray): the bulk rows byte for byte for every
// kind, strides, indicators, NULL string pointers, long length prefixes, the
// chunk limit (rows added while they fit, at least one), and what
// make_param_array / check_param_array refuse.
#include "proto/params.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "unit.hpp"

namespace {

using namespace mywire;
using proto::ParamArray;
using unit::Bytes;

std::string rows_of(const std::vector<ParamArray> &arrays, std::uint64_t from, std::uint64_t rows,
                    std::size_t limit, std::uint64_t &end) {
    std::vector<std::uint8_t> out = {0xAA};  // rows are appended after what is there
    end = proto::append_bulk_rows(out, arrays, from, rows, limit);
    assert_int_equal(out[0], 0xAA);
    return std::string(out.begin() + 1, out.end());
}

ParamArray array(int kind, const void *values, std::size_t stride = 0, const std::size_t *lengths = nullptr,
                 const std::uint8_t *ind = nullptr) {
    ParamArray a;
    assert_errc(proto::make_param_array(a, kind, values, stride, lengths, ind), Errc::ok);
    return a;
}

void check_all(std::vector<ParamArray> &arrays, std::uint64_t rows, bool bulk = true) {
    for (ParamArray &a : arrays) {
        std::uint64_t bad = 99;
        const char *why = "";
        assert_errc(proto::check_param_array(a, rows, 1u << 20, bulk, bad, why), Errc::ok);
    }
}

void test_every_fixed_kind(void **) {
    std::int8_t i8[2] = {-1, 127};
    std::int16_t i16[2] = {-2, 0x1234};
    std::int32_t i32[2] = {-3, 0x12345678};
    std::int64_t i64[2] = {-4, 0x123456789abcdef0};
    std::uint8_t u8[2] = {255, 1};
    std::uint16_t u16[2] = {65535, 2};
    std::uint32_t u32[2] = {0xFFFFFFFF, 3};
    std::uint64_t u64[2] = {~0ull, 4};
    float f[2] = {1.5f, -0.0f};
    double d[2] = {-2.25, 1e300};
    std::vector<ParamArray> arrays = {
        array(ParamArray::i8, i8),   array(ParamArray::i16, i16), array(ParamArray::i32, i32),
        array(ParamArray::i64, i64), array(ParamArray::u8, u8),   array(ParamArray::u16, u16),
        array(ParamArray::u32, u32), array(ParamArray::u64, u64), array(ParamArray::f32, f),
        array(ParamArray::f64, d)};
    check_all(arrays, 2);
    std::vector<std::uint8_t> types;
    proto::append_bulk_types(types, arrays);
    assert_true(types == (std::vector<std::uint8_t>{1, 0, 2, 0, 3, 0, 8, 0, 1, 0x80, 2, 0x80, 3, 0x80, 8, 0x80,
                                                      4, 0, 5, 0}));
    Bytes want;
    for (int r = 0; r < 2; ++r) {
        std::uint32_t fb;
        std::uint64_t db;
        std::memcpy(&fb, &f[r], 4);
        std::memcpy(&db, &d[r], 8);
        want.u8(0).u8(static_cast<std::uint8_t>(i8[r])).u8(0).u16(static_cast<std::uint16_t>(i16[r]));
        want.u8(0).u32(static_cast<std::uint32_t>(i32[r])).u8(0).u64(static_cast<std::uint64_t>(i64[r]));
        want.u8(0).u8(u8[r]).u8(0).u16(u16[r]).u8(0).u32(u32[r]).u8(0).u64(u64[r]);
        want.u8(0).u32(fb).u8(0).u64(db);
    }
    std::uint64_t end = 0;
    assert_sv_equal(rows_of(arrays, 0, 2, 1 << 20, end), want.str());
    assert_int_equal(end, 2);
}

void test_strings_bytes_times_and_indicators(void **) {
    std::string long_text(300, 'x');  // a 3-byte length prefix
    const char *s[4] = {"ab", nullptr, long_text.c_str(), ""};
    std::size_t s_len[4] = {2, 0, 300, 0};
    const char *z[4] = {"nul", "t", nullptr, "zz"};  // NUL-terminated, no lengths
    const void *b[4] = {"\0\xff", "", nullptr, "q"};
    std::size_t b_len[4] = {2, 0, 0, 1};
    proto::Time t[4] = {{proto::time_kind::datetime, 0, 2024, 2, 29, 1, 2, 3, 4},
                        {proto::time_kind::datetime, 0, 2024, 2, 29, 0, 0, 0, 0},
                        {proto::time_kind::datetime, 0, 0, 0, 0, 0, 0, 0, 0},
                        {proto::time_kind::datetime, 0, 1, 1, 1, 23, 59, 59, 0}};
    std::int32_t v[4] = {1, 2, 3, 4};
    std::uint8_t ind[4] = {0, 1, 2, 3};
    std::vector<ParamArray> arrays = {
        array(ParamArray::str, s, 0, s_len), array(ParamArray::str, z), array(ParamArray::bytes, b, 0, b_len),
        array(ParamArray::time, t), array(ParamArray::i32, v, 0, nullptr, ind)};
    check_all(arrays, 4);
    assert_int_equal(arrays[3].type, 12);  // DATETIME, from the rows
    Bytes want;
    want.u8(0).lenstr("ab").u8(0).lenstr("nul").u8(0).lenstr(std::string("\0\xff", 2));
    want.u8(0).u8(11).u16(2024).u8(2).u8(29).u8(1).u8(2).u8(3).u32(4).u8(0).u32(1);
    want.u8(1).u8(0).lenstr("t").u8(0).lenstr("").u8(0).u8(4).u16(2024).u8(2).u8(29).u8(1);
    want.u8(0).u8(0xFC).u16(300).str(long_text).u8(1).u8(1).u8(0).u8(4).u16(0).u8(0).u8(0).u8(2);
    want.u8(0).lenstr("").u8(0).lenstr("zz").u8(0).lenstr("q");
    want.u8(0).u8(7).u16(1).u8(1).u8(1).u8(23).u8(59).u8(59).u8(3);
    std::uint64_t end = 0;
    assert_sv_equal(rows_of(arrays, 0, 4, 1 << 20, end), want.str());
    assert_int_equal(end, 4);
}

struct Row {
    std::int64_t id;
    const char *name;
    std::size_t len;
    std::uint8_t ind;
};

void test_row_structs(void **) {
    Row rows[3] = {{7, "a", 1, 0}, {8, nullptr, 0, 1}, {9, "bc", 2, 0}};
    std::vector<ParamArray> arrays = {array(ParamArray::i64, &rows[0].id, sizeof(Row)),
                                      array(ParamArray::str, &rows[0].name, sizeof(Row), &rows[0].len, &rows[0].ind)};
    check_all(arrays, 3);
    Bytes want;
    want.u8(0).u64(7).u8(0).lenstr("a").u8(0).u64(8).u8(1).u8(0).u64(9).u8(0).lenstr("bc");
    std::uint64_t end = 0;
    assert_sv_equal(rows_of(arrays, 0, 3, 1 << 20, end), want.str());
    // From a later row.
    assert_sv_equal(rows_of(arrays, 2, 3, 1 << 20, end), Bytes().u8(0).u64(9).u8(0).lenstr("bc").str());
    assert_int_equal(end, 3);
}

void test_chunk_limit(void **) {
    std::int64_t ids[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const char *s[10] = {"a", "bb", "ccc", "d", "e", "f", "g", "h", "i", "j"};
    std::vector<ParamArray> fixed = {array(ParamArray::i64, ids)};
    std::uint64_t end = 0;
    // 9 bytes a row: a limit of 30 takes 3, of 8 still one.
    assert_int_equal(rows_of(fixed, 0, 10, 30, end).size(), 27);
    assert_int_equal(end, 3);
    assert_int_equal(rows_of(fixed, 9, 10, 30, end).size(), 9);
    assert_int_equal(end, 10);
    assert_int_equal(rows_of(fixed, 4, 10, 8, end).size(), 9);
    assert_int_equal(end, 5);
    // Varying rows: 9 + 3, 9 + 4, 9 + 5 bytes.
    std::vector<ParamArray> varying = {array(ParamArray::i64, ids), array(ParamArray::str, s)};
    check_all(varying, 10);
    assert_int_equal(rows_of(varying, 0, 10, 25, end).size(), 25);
    assert_int_equal(end, 2);
    assert_int_equal(rows_of(varying, 0, 10, 24, end).size(), 12);
    assert_int_equal(end, 1);
    assert_int_equal(rows_of(varying, 2, 10, 1, end).size(), 14);
    assert_int_equal(end, 3);
}

void test_refused(void **) {
    std::int64_t ids[2] = {1, 2};
    std::size_t lens[2] = {1, 1};
    ParamArray a;
    assert_errc(proto::make_param_array(a, 0, ids, 0, nullptr, nullptr), Errc::argument);
    assert_errc(proto::make_param_array(a, 14, ids, 0, nullptr, nullptr), Errc::argument);
    assert_errc(proto::make_param_array(a, ParamArray::i64, nullptr, 0, nullptr, nullptr), Errc::argument);
    assert_errc(proto::make_param_array(a, ParamArray::bytes, ids, 0, nullptr, nullptr), Errc::argument);
    assert_errc(proto::make_param_array(a, ParamArray::i64, ids, 0, lens, nullptr), Errc::argument);
    assert_errc(proto::make_param_array(a, ParamArray::i64, ids, 7, nullptr, nullptr), Errc::argument);
    assert_false(a.bound());  // left as it was

    auto refuses = [](ParamArray x, std::uint64_t rows, bool bulk, std::uint64_t row, const char *says) {
        std::uint64_t bad = 0;
        const char *why = "";
        assert_errc(proto::check_param_array(x, rows, 100, bulk, bad, why), Errc::argument);
        assert_int_equal(bad, row);
        if (!std::strstr(why, says)) fail_msg("%s (not: %s)", why, says);
    };
    std::uint8_t ind[2] = {0, 4};
    refuses(array(ParamArray::i64, ids, 0, nullptr, ind), 2, true, 1, "indicator");
    ind[1] = 2;
    refuses(array(ParamArray::i64, ids, 0, nullptr, ind), 2, false, 1, "DEFAULT or IGNORE");
    double d[2] = {1, NAN};
    refuses(array(ParamArray::f64, d), 2, true, 1, "not finite");
    float f[2] = {-INFINITY, 1};
    refuses(array(ParamArray::f32, f), 2, true, 0, "not finite");
    const char *s[2] = {"a", nullptr};
    std::size_t slen[2] = {1, 3};
    refuses(array(ParamArray::str, s, 0, slen), 2, true, 1, "NULL pointer with a length");
    s[1] = "b";
    slen[1] = 101;
    refuses(array(ParamArray::str, s, 0, slen), 2, true, 1, "longer than max_allowed_packet");
    slen[1] = std::numeric_limits<std::size_t>::max();
    refuses(array(ParamArray::str, s, 0, slen), 2, true, 1, "longer than max_allowed_packet");
    proto::Time t[2] = {{proto::time_kind::date, 0, 2024, 1, 1, 0, 0, 0, 0},
                        {proto::time_kind::time, 0, 0, 0, 0, 1, 0, 0, 0}};
    refuses(array(ParamArray::time, t), 2, true, 1, "another kind");
    t[0].day = 32;
    refuses(array(ParamArray::time, t), 2, true, 0, "ill-formed");
    // A row that is NULL is not looked at.
    std::uint8_t null_ind[2] = {0, 1};
    ParamArray ok = array(ParamArray::time, t, 0, nullptr, null_ind);
    t[0].day = 1;
    std::uint64_t bad = 0;
    const char *why = "";
    assert_errc(proto::check_param_array(ok, 2, 100, true, bad, why), Errc::ok);
    assert_int_equal(ok.type, 10);  // DATE
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fixed_kind),
        cmocka_unit_test(test_strings_bytes_times_and_indicators),
        cmocka_unit_test(test_row_structs),
        cmocka_unit_test(test_chunk_limit),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
