// The one walk over a text-protocol row, shared by the parsers in
// messages.cpp and the buffered-row store in connection.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proto/errors.hpp"

namespace mywire::proto {

// Calls visit(index, data, len) for each of `columns` values of the row in
// [data, data + size); data is nullptr for SQL NULL. Returns Errc::protocol
// for a truncated row, a bad length or trailing bytes (visit may have been
// called for the values before the fault). With Terminate, each value gets a
// NUL written over the first byte of what follows it (the next value's length
// prefix, already read by then), and the byte after the payload must be the
// caller's, readable and writable (the streaming rows terminate their last
// value there): a row with fewer values than columns reads it as a length
// (and zeroes it) before failing, so that the loop needs no test of its own
// for the end of the row before each length byte. visit is taken by value:
// a copy of its own, which no byte stored into the row can alias, so its
// captures stay in registers instead of being loaded again for each value.
template <bool Terminate, class Visit>
inline Errc visit_text_row(const char *data, std::size_t size, std::size_t columns, Visit visit) {
    auto *p = reinterpret_cast<std::uint8_t *>(const_cast<char *>(data));
    auto *const end = p + size;
    // The hot loop of every text row: a value under 251 bytes costs one load,
    // (a store,) two compares and the visit. p never passes end, but with
    // Terminate may reach end + 1 just before failing.
    // Counted down: the loop's test is the decrement's flag (one
    // instruction a value fewer than i != columns); i is derived where it
    // is used, and the compiler turns the visit's out[i] into a pointer.
    for (std::size_t left = columns; left != 0; --left) {
        const std::size_t i = columns - left;
        if constexpr (!Terminate) {
            if (p == end) return Errc::protocol;
        }
        std::size_t len = *p;
        if constexpr (Terminate) *p = 0;  // ends the previous value
        ++p;
        if (len >= 0xFB) [[unlikely]] {
            if (p > end) return Errc::protocol;  // that was the byte after the row
            unsigned n;
            switch (len) {
            case 0xFB:
                visit(i, nullptr, 0);
                continue;
            case 0xFC: n = 2; break;
            case 0xFD: n = 3; break;
            case 0xFE: n = 8; break;
            default: return Errc::protocol;
            }
            if (static_cast<std::size_t>(end - p) < n) return Errc::protocol;
            std::uint64_t l = 0;
            for (unsigned k = 0; k < n; ++k) l |= std::uint64_t(p[k]) << (8 * k);
            p += n;
            if (l > static_cast<std::uint64_t>(end - p)) return Errc::protocol;
            len = static_cast<std::size_t>(l);
            visit(i, reinterpret_cast<const char *>(p), len);
            p += len;
            continue;
        }
        // As integers: p + len may lie past the row, and is then refused
        // (p == end + 1 always is).
        const std::uintptr_t next = reinterpret_cast<std::uintptr_t>(p) + len;
        if (next > reinterpret_cast<std::uintptr_t>(end)) return Errc::protocol;
        visit(i, reinterpret_cast<const char *>(p), len);
        p = reinterpret_cast<std::uint8_t *>(next);
    }
    return p == end ? Errc::ok : Errc::protocol;
}

}  // namespace mywire::proto
