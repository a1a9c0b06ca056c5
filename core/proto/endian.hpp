// Little-endian integers of the wire, read and written: the one place the
// host's byte order is looked at. On a little-endian host the protocol's
// widths (1, 2, 4, 8) are single loads and stores.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace mywire::proto {

// The sizeof(T) bytes at p.
template <class T>
inline T load_le(const void *p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native != std::endian::little) {
        const auto *b = static_cast<const unsigned char *>(p);
        T r = 0;
        for (std::size_t k = 0; k < sizeof v; ++k) r |= static_cast<T>(static_cast<T>(b[k]) << (8 * k));
        v = r;
    }
    return v;
}

// The n (<= 8) bytes at p.
inline std::uint64_t load_le(const void *p, unsigned n) {
    switch (n) {
    case 1: return *static_cast<const unsigned char *>(p);
    case 2: return load_le<std::uint16_t>(p);
    case 4: return load_le<std::uint32_t>(p);
    case 8: return load_le<std::uint64_t>(p);
    default: break;
    }
    const auto *b = static_cast<const unsigned char *>(p);
    std::uint64_t v = 0;
    for (unsigned k = 0; k < n; ++k) v |= std::uint64_t(b[k]) << (8 * k);
    return v;
}

// The n (<= 8) low bytes of v, into out.
inline void store_le(std::uint64_t v, unsigned n, void *out) {
    auto *b = static_cast<unsigned char *>(out);
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(b, &v, n);
    } else {
        for (unsigned k = 0; k < n; ++k) b[k] = static_cast<unsigned char>(v >> (8 * k));
    }
}

}  // namespace mywire::proto
