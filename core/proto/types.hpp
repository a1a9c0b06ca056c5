// The core's own value, column and option types. The C API (capi/) maps them
// to the public mywire_* ones and checks there that numbers and layouts are
// the same (static_asserts in capi/mywire.cpp); nothing here includes the
// public header.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mywire {

// A value of a row: a view of the bytes, data == nullptr for SQL NULL.
// Layout-compatible with mywire_value.
struct Value {
    const char *data;
    std::size_t len;
};

// A column of a result head. Layout-compatible with mywire_column.
struct Column {
    const char *name;
    const char *org_name;
    const char *table;
    const char *org_table;
    const char *schema;
    unsigned type;
    unsigned flags;
    unsigned charset;
    unsigned decimals;
    std::uint32_t length;
    std::size_t name_len, org_name_len, table_len, org_table_len, schema_len;
};

// TLS modes (the numbers of MYWIRE_SSL_MODE_*).
namespace ssl_mode {
inline constexpr int default_mode = 0, disabled = 1, preferred = 2, required = 3, verify_ca = 4,
                     verify_identity = 5;
}

// The compress option (the numbers of MYWIRE_COMPRESS_*).
namespace compress_opt {
inline constexpr int off = 0, zlib = 1, zstd = 2, any = 3;
}

// Why TLS failed (the numbers of MYWIRE_TLS_FAILURE_*).
namespace tls_failure {
inline constexpr int none = 0, not_offered = 1, untrusted = 2, expired = 3, not_yet_valid = 4,
                     hostname = 5, revoked = 6, fingerprint = 7, config = 8, handshake = 9;
}

// The dialog plugin's prompt callback (the type of mywire_dialog_fn).
using DialogFn = int (*)(void *user_data, int echo, const char *prompt, char *answer, std::size_t answer_size);

// This library's version, for the connection attributes (meson's).
#ifdef MYWIRE_CORE_VERSION
inline constexpr const char *version_string = MYWIRE_CORE_VERSION;
#else
inline constexpr const char *version_string = "unknown";
#endif

}  // namespace mywire
