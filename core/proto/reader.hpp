// Bounds-checked reading of protocol payloads, and a growable writer.
//
// Every read checks what is left first; a read past the end fails and leaves
// the reader in a failed state instead of touching memory it does not own.
// Strings come back as views into the payload.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace mywire::proto {

class Reader {
public:
    explicit Reader(std::string_view payload)
        : p_(reinterpret_cast<const std::uint8_t *>(payload.data())), end_(p_ + payload.size()) {}

    std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
    bool empty() const { return p_ == end_; }
    // False once any read has failed.
    bool ok() const { return ok_; }

    bool u8(std::uint8_t &v) { return fixed(v, 1); }
    bool u16(std::uint16_t &v) { return fixed(v, 2); }
    bool u24(std::uint32_t &v) { return fixed(v, 3); }
    bool u32(std::uint32_t &v) { return fixed(v, 4); }
    bool u64(std::uint64_t &v) { return fixed(v, 8); }
    bool peek(std::uint8_t &v) const {
        if (p_ == end_) return false;
        v = *p_;
        return true;
    }

    // A length-encoded integer. 0xFB (NULL) and 0xFF (error marker) are not
    // integers and fail here; callers that allow NULL check for 0xFB first.
    bool lenenc(std::uint64_t &v) {
        if (ok_ && p_ != end_ && *p_ < 0xFB) return v = *p_++, true;  // one byte: inline
        return lenenc_long(v);
    }
    bool bytes(std::size_t n, std::string_view &v);
    bool skip(std::size_t n);
    bool lenenc_str(std::string_view &v) {
        // A string under 251 bytes (a name, a short value): inline.
        if (ok_ && p_ != end_ && *p_ < 0xFB && *p_ < remaining()) {
            std::size_t n = *p_++;
            v = std::string_view(reinterpret_cast<const char *>(p_), n);
            p_ += n;
            return true;
        }
        return lenenc_str_long(v);
    }
    // A string up to a NUL byte, which must be present; the NUL is consumed.
    bool nul_str(std::string_view &v);
    // Everything that is left.
    std::string_view rest();

private:
    bool lenenc_long(std::uint64_t &v);         // any form (out of line)
    bool lenenc_str_long(std::string_view &v);  // any form (out of line)
    template <class T>
    bool fixed(T &v, unsigned n) {
        if (!ok_ || remaining() < n) return fail();
        T out = 0;
        for (unsigned i = 0; i < n; ++i) out |= static_cast<T>(static_cast<T>(p_[i]) << (8 * i));
        v = out;
        p_ += n;
        return true;
    }
    bool fail() {
        ok_ = false;
        return false;
    }

    const std::uint8_t *p_;
    const std::uint8_t *end_;
    bool ok_ = true;
};

// A little-endian integer of n bytes, and a length-encoded integer, appended
// to any byte container (std::vector<std::uint8_t>, std::string): Writer's
// and the statement requests' (core/statement.cpp) encoding.
template <class Out>
void append_le(Out &out, std::uint64_t v, unsigned n) {
    // The bytes first, then one append (one capacity check, not n).
    typename Out::value_type bytes[8];
    for (unsigned i = 0; i < n && i < 8; ++i) bytes[i] = static_cast<typename Out::value_type>(v >> (8 * i));
    out.insert(out.end(), bytes, bytes + (n < 8 ? n : 8));
}
template <class Out>
void append_lenenc(Out &out, std::uint64_t v) {
    using T = typename Out::value_type;
    if (v < 251) {
        out.push_back(static_cast<T>(v));
    } else if (v < (1u << 16)) {
        out.push_back(static_cast<T>(0xFC));
        append_le(out, v, 2);
    } else if (v < (1u << 24)) {
        out.push_back(static_cast<T>(0xFD));
        append_le(out, v, 3);
    } else {
        out.push_back(static_cast<T>(0xFE));
        append_le(out, v, 8);
    }
}

// Appends little-endian integers and strings to a byte vector.
class Writer {
public:
    explicit Writer(std::vector<std::uint8_t> &out) : out_(out) {}

    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) { le(v, 2); }
    void u24(std::uint32_t v) { le(v, 3); }
    void u32(std::uint32_t v) { le(v, 4); }
    void u64(std::uint64_t v) { le(v, 8); }
    void lenenc(std::uint64_t v) { append_lenenc(out_, v); }
    void bytes(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }
    void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
    void lenenc_str(std::string_view s) {
        lenenc(s.size());
        bytes(s);
    }
    void nul_str(std::string_view s) {
        bytes(s);
        u8(0);
    }
    std::size_t size() const { return out_.size(); }

private:
    void le(std::uint64_t v, unsigned n) { append_le(out_, v, n); }
    std::vector<std::uint8_t> &out_;
};

// Size of the length-encoded form of v.
inline std::size_t lenenc_size(std::uint64_t v) {
    return v < 251 ? 1 : v < (1u << 16) ? 3 : v < (1u << 24) ? 4 : 9;
}

}  // namespace mywire::proto
