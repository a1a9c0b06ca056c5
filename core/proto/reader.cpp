#include "proto/reader.hpp"

namespace mywire::proto {

bool Reader::lenenc_long(std::uint64_t &v) {
    std::uint8_t first;
    if (!u8(first)) return false;
    if (first < 0xFB) {
        v = first;
        return true;
    }
    switch (first) {
    case 0xFC: {
        std::uint16_t x;
        if (!u16(x)) return false;
        v = x;
        return true;
    }
    case 0xFD: {
        std::uint32_t x;
        if (!u24(x)) return false;
        v = x;
        return true;
    }
    case 0xFE:
        return u64(v);
    default:  // 0xFB (NULL) and 0xFF are not integers
        return fail();
    }
}

bool Reader::bytes(std::size_t n, std::string_view &v) {
    if (!ok_ || remaining() < n) return fail();
    v = std::string_view(reinterpret_cast<const char *>(p_), n);
    p_ += n;
    return true;
}

bool Reader::skip(std::size_t n) {
    if (!ok_ || remaining() < n) return fail();
    p_ += n;
    return true;
}

bool Reader::lenenc_str_long(std::string_view &v) {
    std::uint64_t n;
    if (!lenenc(n)) return false;
    if (n > remaining()) return fail();
    return bytes(static_cast<std::size_t>(n), v);
}

bool Reader::nul_str(std::string_view &v) {
    if (!ok_) return false;
    const void *nul = std::memchr(p_, 0, remaining());
    if (!nul) return fail();
    auto n = static_cast<std::size_t>(static_cast<const std::uint8_t *>(nul) - p_);
    v = std::string_view(reinterpret_cast<const char *>(p_), n);
    p_ += n + 1;
    return true;
}

std::string_view Reader::rest() {
    std::string_view v(reinterpret_cast<const char *>(p_), remaining());
    p_ = end_;
    return v;
}

}  // namespace mywire::proto
