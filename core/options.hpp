// Connection options, and setting them by name (shared by the URI parser and
// mywire_set_option).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/errors.hpp"
#include "proto/wipe.hpp"

namespace mywire {

struct Options {
    std::string host;  // empty: "localhost"
    unsigned port = 3306;
    std::string unix_socket;
    std::string user;
    proto::SecretString password;
    std::string database;
    unsigned connect_timeout_ms = 10000;
    unsigned read_timeout_ms = 0;
    unsigned write_timeout_ms = 0;
    std::uint64_t max_allowed_packet = 64u << 20;
    std::uint64_t max_result_bytes = 1u << 30;
    unsigned max_columns = 4096;
    std::uint64_t max_metadata_bytes = 16u << 20;  // one result head's column definitions
    bool multi_statements = false;
    // MariaDB 10.6+: a prepared statement's result metadata is sent once
    // (MARIADB_CLIENT_CACHE_METADATA), not with every execution.
    bool cache_metadata = true;
    // Re-prepare a statement and execute it again once when the server says
    // it must be (ER_NEED_REPREPARE, 1615).
    bool auto_reprepare = false;
    // The statement cache (mywire_stmt_cached): at most this many server
    // statements kept per connection, keyed by SQL text; 0 = no cache.
    unsigned stmt_cache = 0;
    unsigned charset = 45;  // utf8mb4_general_ci
    std::vector<std::pair<std::string, std::string>> connect_attrs;

    // TLS (see mywire.h, mywire_set_option). ssl_mode keeps the public
    // MYWIRE_SSL_MODE_* numbers; effective_ssl_mode() resolves the default.
    int ssl_mode = ssl_mode::default_mode;
    std::string ssl_ca, ssl_capath, ssl_cert, ssl_key;
    proto::SecretString ssl_key_password;
    std::string ssl_crl, ssl_crlpath;
    int tls_min_version = 0x0303;  // TLS1_2_VERSION
    std::string ssl_cipher, tls_ciphersuites, ssl_sni;
    std::string ssl_fingerprint;  // 32 raw bytes once set (decoded from hex)

    // Authentication.
    proto::SecretString password2, password3;
    std::string server_public_key_path;
    bool get_server_public_key = false;
    bool enable_cleartext_plugin = false;
    // Send the password (where it can be recovered) over TLS that did not
    // verify the server: open to a man in the middle.
    bool allow_unverified_tls_password = false;
    std::vector<std::string> auth_plugins;  // allow-list; empty = all built in
    DialogFn dialog = nullptr;
    void *dialog_user_data = nullptr;

    // Compression: MYWIRE_COMPRESS_*.
    int compress = compress_opt::off;
    int compression_level = 3;

    // Tests only (tests/fuzz/fuzz_client.cpp): a connected socket that
    // connect() adopts instead of connecting (once: it is reset to -1 then).
    // Not settable by name nor through the C API.
    int adopt_fd = -1;

    int effective_ssl_mode(bool unix_socket) const;

    Options() = default;
    Options(const Options &) = default;
    Options &operator=(const Options &) = default;
    Options(Options &&) = default;
    Options &operator=(Options &&) = default;
    ~Options() = default;  // the secrets wipe themselves (SecretString)
};

// Range checks shared by the typed setters and the by-name setter.
inline constexpr std::uint64_t min_packet_limit = 1024;
inline constexpr std::uint64_t max_packet_limit = 1u << 30;

Errc set_max_allowed_packet(Options &o, std::uint64_t v, Error &err);
Errc set_max_columns(Options &o, std::uint64_t v, Error &err);
Errc set_max_metadata_bytes(Options &o, std::uint64_t v, Error &err);
Errc set_port(Options &o, std::uint64_t v, Error &err);
Errc set_charset(Options &o, std::uint64_t v, Error &err);
Errc set_ssl_mode(Options &o, int mode, Error &err);
// "REQUIRED", "VERIFY_CA", ... for messages.
const char *ssl_mode_name(int mode);
// Whether the mode checks the server's certificate.
inline bool ssl_mode_verifies(int mode) {
    return mode == ssl_mode::verify_ca || mode == ssl_mode::verify_identity;
}
Errc set_compression(Options &o, int algorithm, Error &err);
inline constexpr unsigned max_stmt_cache = 4096;
Errc set_stmt_cache(Options &o, std::uint64_t v, Error &err);

// Set an option by its URI key from text. Unknown keys and bad values give
// Errc::option with a message naming the key.
Errc set_option_by_name(Options &o, std::string_view key, std::string_view value, Error &err);

// Apply mysql://user:password@host:port/database?key=value&... to o.
// Errors are Errc::uri. o is only changed when the whole URI is valid.
Errc apply_uri(Options &o, std::string_view uri, Error &err);

}  // namespace mywire
