// Shared helpers of the unit tests (include last): cmocka, a byte builder written
// independently of core's Writer, and checks over every prefix of a payload.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <algorithm>
#include <string>
#include <string_view>

#include "mywire.h"  // the public constants, which the core's equal (capi checks)
#include "proto/errors.hpp"

// cmocka last: it defines fail() and skip() as macros, which clash with
// standard and core member functions included after it. Include this header
// after every other one.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}
#undef skip

namespace unit {

using mywire::Errc;

inline int ec(Errc e) { return static_cast<int>(e); }

#define assert_errc(actual, expected) assert_int_equal(::unit::ec(actual), ::unit::ec(expected))

// Compares copies, so a temporary string as `expected` is safe.
#define assert_sv_equal(actual, expected)                                                   \
    do {                                                                                    \
        std::string a_{std::string_view(actual)}, e_{std::string_view(expected)};          \
        if (a_ != e_) {                                                                     \
            print_error("%s:%d: got %zu bytes \"%s\", expected %zu bytes \"%s\"\n", __FILE__, \
                        __LINE__, a_.size(), ::unit::printable(a_).c_str(), e_.size(),     \
                        ::unit::printable(e_).c_str());                                     \
            fail();                                                                         \
        }                                                                                   \
    } while (0)

// Bytes as text for failure messages: printable ASCII as is, the rest as \xNN.
inline std::string printable(std::string_view s, std::size_t limit = 200) {
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < limit; ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out.push_back(static_cast<char>(c));
        } else {
            char tmp[8];
            std::snprintf(tmp, sizeof tmp, "\\x%02x", c);
            out += tmp;
        }
    }
    if (s.size() > limit) out += "...";
    return out;
}

// Builds protocol bytes. Deliberately its own code (not proto::Writer), so the
// tests do not check the core's encoders against themselves.
class Bytes {
public:
    Bytes() = default;
    Bytes(std::initializer_list<unsigned> list) {
        for (unsigned b : list) s_.push_back(static_cast<char>(b));
    }
    Bytes &u8(unsigned v) { return le(v, 1); }
    Bytes &u16(unsigned v) { return le(v, 2); }
    Bytes &u24(unsigned v) { return le(v, 3); }
    Bytes &u32(std::uint32_t v) { return le(v, 4); }
    Bytes &u64(std::uint64_t v) { return le(v, 8); }
    Bytes &str(std::string_view v) {
        s_.append(v);
        return *this;
    }
    Bytes &nul(std::string_view v) {
        s_.append(v);
        s_.push_back('\0');
        return *this;
    }
    Bytes &fill(std::size_t n, unsigned byte) {
        s_.append(n, static_cast<char>(byte));
        return *this;
    }
    Bytes &lenenc(std::uint64_t v) {
        if (v <= 250) return u8(static_cast<unsigned>(v));
        if (v <= 0xFFFF) return u8(0xFC).u16(static_cast<unsigned>(v));
        if (v <= 0xFFFFFF) return u8(0xFD).u24(static_cast<unsigned>(v));
        return u8(0xFE).u64(v);
    }
    Bytes &lenstr(std::string_view v) { return lenenc(v.size()).str(v); }
    // A frame: 3-byte length, sequence id, payload.
    Bytes &frame(std::string_view payload, unsigned seq) {
        return u24(static_cast<unsigned>(payload.size())).u8(seq).str(payload);
    }
    const std::string &str() const { return s_; }
    std::string_view view() const { return s_; }
    operator std::string_view() const { return s_; }
    std::size_t size() const { return s_.size(); }

private:
    Bytes &le(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) s_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
        return *this;
    }
    std::string s_;
};

// An exact-size heap copy of some bytes: a parser reading one byte past the
// end is caught by ASan (a std::string would have its NUL there).
class Exact {
public:
    explicit Exact(std::string_view bytes) : n_(bytes.size()), p_(new char[bytes.size() ? bytes.size() : 1]) {
        std::copy(bytes.begin(), bytes.end(), p_.get());
    }
    // With `spare` bytes ('X') after the bytes, outside size(): for parsers
    // that own the byte after the payload (parse_text_row_in_place).
    Exact(std::string_view bytes, std::size_t spare) : n_(bytes.size()), p_(new char[bytes.size() + spare]) {
        std::copy(bytes.begin(), bytes.end(), p_.get());
        std::fill(p_.get() + n_, p_.get() + n_ + spare, 'X');
    }
    std::string_view view() const { return {p_.get(), n_}; }
    char *data() { return p_.get(); }
    std::size_t size() const { return n_; }

private:
    std::size_t n_;
    std::unique_ptr<char[]> p_;
};

// Runs parse on a heap copy of every strict prefix of payload (so ASan sees a
// read past the end) and checks the result: `expect(len)` says what a prefix
// of that length must give (by default Errc::protocol; nullopt: not checked).
inline void check_prefixes(std::string_view payload, const std::function<Errc(std::string_view)> &parse,
                           const std::function<std::optional<Errc>(std::size_t)> &expect = nullptr,
                           const char *what = "") {
    int failures = 0;
    for (std::size_t n = 0; n < payload.size(); ++n) {
        Exact copy(payload.substr(0, n));
        Errc got = parse(copy.view());
        std::optional<Errc> expected = expect ? expect(n) : Errc::protocol;
        if (!expected) continue;
        Errc want = *expected;
        if (got != want) {
            if (failures < 5)
                print_error("%s: prefix of %zu of %zu bytes: got Errc %d, expected Errc %d\n", what,
                            n, payload.size(), ec(got), ec(want));
            ++failures;
        }
    }
    if (failures) {
        print_error("%s: %d prefixes gave the wrong result\n", what, failures);
        fail();
    }
}

}  // namespace unit
