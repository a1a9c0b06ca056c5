// Shared by the fuzz targets: the libFuzzer entry point and invariant checks
// that abort (a crash to libFuzzer, a failure to the regression runner).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size);

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                 \
        }                                                                                 \
    } while (0)

namespace fuzz {

inline std::string_view as_view(const std::uint8_t *data, std::size_t size) {
    return {reinterpret_cast<const char *>(data), size};
}

// v lies within [base, base + size) (an empty view may sit anywhere).
inline bool inside(std::string_view v, std::string_view base) {
    if (v.empty()) return true;
    return v.data() >= base.data() && v.data() + v.size() <= base.data() + base.size();
}

}  // namespace fuzz
