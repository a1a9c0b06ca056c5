#include "options.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>

namespace mywire {

int Options::effective_ssl_mode(bool unix_socket) const {
    if (ssl_mode != ssl_mode::default_mode) return ssl_mode;
    // A CA without a mode means the user wants the server verified.
    if (!ssl_ca.empty() || !ssl_capath.empty()) return ssl_mode::verify_ca;
    // A unix socket is a secure transport already.
    return unix_socket ? ssl_mode::disabled : ssl_mode::preferred;
}

namespace {

bool parse_uint(std::string_view s, std::uint64_t &v) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
}

bool parse_bool(std::string_view s, bool &v) {
    if (s == "1" || s == "true" || s == "on" || s == "yes") return v = true, true;
    if (s == "0" || s == "false" || s == "off" || s == "no") return v = false, true;
    return false;
}

Errc bad_value(std::string_view key, Error &err) {
    return err.set(Errc::option, "invalid value for option '" + std::string(key) + "'");
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// out may hold a secret: wiped first, and reserved so that growing never
// frees a buffer with decoded bytes in it.
bool percent_decode(std::string_view in, std::string &out) {
    proto::wipe(out);
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out.push_back(in[i]);
            continue;
        }
        if (i + 2 >= in.size()) return false;
        int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;  // %00 cannot be in a C string
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return true;
}

}  // namespace

Errc set_max_allowed_packet(Options &o, std::uint64_t v, Error &err) {
    if (v < min_packet_limit || v > max_packet_limit)
        return err.set(Errc::option, "max_allowed_packet must be between 1024 and 1073741824");
    o.max_allowed_packet = v;
    return Errc::ok;
}

Errc set_max_columns(Options &o, std::uint64_t v, Error &err) {
    if (v < 1 || v > 65535) return err.set(Errc::option, "max_columns must be between 1 and 65535");
    o.max_columns = static_cast<unsigned>(v);
    return Errc::ok;
}

Errc set_stmt_cache(Options &o, std::uint64_t v, Error &err) {
    if (v > max_stmt_cache)
        return err.set(Errc::option, "stmt_cache must be between 0 (no cache) and " + std::to_string(max_stmt_cache));
    o.stmt_cache = static_cast<unsigned>(v);
    return Errc::ok;
}

Errc set_max_metadata_bytes(Options &o, std::uint64_t v, Error &err) {
    if (v < (4u << 10) || v > max_packet_limit)
        return err.set(Errc::option, "max_metadata_bytes must be between 4096 and 1073741824");
    o.max_metadata_bytes = v;
    return Errc::ok;
}

Errc set_port(Options &o, std::uint64_t v, Error &err) {
    if (v < 1 || v > 65535) return err.set(Errc::option, "port must be between 1 and 65535");
    o.port = static_cast<unsigned>(v);
    return Errc::ok;
}

Errc set_charset(Options &o, std::uint64_t v, Error &err) {
    if (v < 1 || v > 255)
        return err.set(Errc::option, "charset must be a collation id between 1 and 255");
    o.charset = static_cast<unsigned>(v);
    return Errc::ok;
}

Errc set_ssl_mode(Options &o, int mode, Error &err) {
    if (mode < ssl_mode::default_mode || mode > ssl_mode::verify_identity)
        return err.set(Errc::option, "ssl_mode must be one of MYWIRE_SSL_MODE_*");
    o.ssl_mode = mode;
    return Errc::ok;
}

const char *ssl_mode_name(int mode) {
    switch (mode) {
    case ssl_mode::preferred: return "PREFERRED";
    case ssl_mode::required: return "REQUIRED";
    case ssl_mode::verify_ca: return "VERIFY_CA";
    case ssl_mode::verify_identity: return "VERIFY_IDENTITY";
    default: return "DISABLED";
    }
}

Errc set_compression(Options &o, int algorithm, Error &err) {
    if (algorithm < compress_opt::off || algorithm > compress_opt::any)
        return err.set(Errc::option, "compression must be one of MYWIRE_COMPRESS_*");
    o.compress = algorithm;
    return Errc::ok;
}

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c == '-') c = '_';
    }
    return out;
}

// The items of a comma-separated list, spaces around them trimmed (a
// trailing comma adds no item).
std::vector<std::string_view> split_list(std::string_view rest) {
    std::vector<std::string_view> items;
    while (!rest.empty()) {
        std::string_view item = rest.substr(0, rest.find(','));
        rest.remove_prefix(std::min(rest.size(), item.size() + 1));
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        items.push_back(item);
    }
    return items;
}

// "TLSv1.2", "TLSv1.3" or a comma-separated list of them: the lowest.
bool parse_tls_version(std::string_view value, int &version) {
    int lowest = 0;
    for (std::string_view item : split_list(value)) {
        std::string v = lower(item);
        int this_one;
        if (v == "tlsv1.2" || v == "tls1.2" || v == "1.2")
            this_one = 0x0303;
        else if (v == "tlsv1.3" || v == "tls1.3" || v == "1.3")
            this_one = 0x0304;
        else
            return false;  // TLS 1.0/1.1 are refused: they are broken
        if (!lowest || this_one < lowest) lowest = this_one;
    }
    if (!lowest) return false;
    version = lowest;
    return true;
}

// 64 hex digits, optionally separated by ':' → 32 bytes.
bool parse_fingerprint(std::string_view value, std::string &out) {
    std::string bytes;
    int hi = -1;
    for (char c : value) {
        if (c == ':') {
            if (hi >= 0) return false;
            continue;
        }
        int h = hex(c);
        if (h < 0) return false;
        if (hi < 0) {
            hi = h;
        } else {
            bytes.push_back(static_cast<char>(hi * 16 + h));
            hi = -1;
        }
    }
    if (hi >= 0 || bytes.size() != 32) return false;
    out = std::move(bytes);
    return true;
}

}  // namespace

Errc set_option_by_name(Options &o, std::string_view raw_key, std::string_view value, Error &err) {
    // Keys are case-sensitive; "ssl-mode" is read as "ssl_mode".
    std::string key_storage(raw_key.substr(0, 64));
    for (char &c : key_storage)
        if (c == '-') c = '_';
    std::string_view key = key_storage;
    std::uint64_t n = 0;
    bool b = false;
    auto flag = [&](bool &field) {
        if (!parse_bool(value, b)) return bad_value(key, err);
        field = b;
        return Errc::ok;
    };
    auto timeout = [&](unsigned &field) {
        if (!parse_uint(value, n) || n > 86400000u) return bad_value(key, err);
        field = static_cast<unsigned>(n);
        return Errc::ok;
    };
    if (key == "host") return o.host.assign(value), Errc::ok;
    if (key == "socket") return o.unix_socket.assign(value), Errc::ok;
    if (key == "user") return o.user.assign(value), Errc::ok;
    if (key == "password") return o.password.assign(value), Errc::ok;
    if (key == "database") return o.database.assign(value), Errc::ok;
    if (key == "port") return parse_uint(value, n) ? set_port(o, n, err) : bad_value(key, err);
    if (key == "connect_timeout") return timeout(o.connect_timeout_ms);
    if (key == "read_timeout") return timeout(o.read_timeout_ms);
    if (key == "write_timeout") return timeout(o.write_timeout_ms);
    if (key == "max_allowed_packet")
        return parse_uint(value, n) ? set_max_allowed_packet(o, n, err) : bad_value(key, err);
    if (key == "max_result_bytes") {
        if (!parse_uint(value, n)) return bad_value(key, err);
        o.max_result_bytes = n;
        return Errc::ok;
    }
    if (key == "max_columns")
        return parse_uint(value, n) ? set_max_columns(o, n, err) : bad_value(key, err);
    if (key == "max_metadata_bytes")
        return parse_uint(value, n) ? set_max_metadata_bytes(o, n, err) : bad_value(key, err);
    if (key == "charset")
        return parse_uint(value, n) ? set_charset(o, n, err) : bad_value(key, err);
    if (key == "multi_statements") return flag(o.multi_statements);
    if (key == "cache_metadata") return flag(o.cache_metadata);
    if (key == "auto_reprepare") return flag(o.auto_reprepare);
    if (key == "stmt_cache") return parse_uint(value, n) ? set_stmt_cache(o, n, err) : bad_value(key, err);

    // TLS
    if (key == "ssl_mode") {
        static constexpr std::pair<std::string_view, int> modes[] = {
            {"disabled", ssl_mode::disabled},   {"preferred", ssl_mode::preferred},
            {"required", ssl_mode::required},   {"verify_ca", ssl_mode::verify_ca},
            {"verify_identity", ssl_mode::verify_identity},
        };
        std::string v = lower(value);
        for (const auto &[name, mode] : modes)
            if (v == name) return o.ssl_mode = mode, Errc::ok;
        return err.set(Errc::option, "invalid value for option 'ssl_mode' (disabled, preferred, "
                                     "required, verify_ca or verify_identity)");
    }
    if (key == "ssl_ca") return o.ssl_ca.assign(value), Errc::ok;
    if (key == "ssl_capath") return o.ssl_capath.assign(value), Errc::ok;
    if (key == "ssl_cert") return o.ssl_cert.assign(value), Errc::ok;
    if (key == "ssl_key") return o.ssl_key.assign(value), Errc::ok;
    if (key == "ssl_key_password") return o.ssl_key_password.assign(value), Errc::ok;
    if (key == "ssl_crl") return o.ssl_crl.assign(value), Errc::ok;
    if (key == "ssl_crlpath") return o.ssl_crlpath.assign(value), Errc::ok;
    if (key == "ssl_cipher") return o.ssl_cipher.assign(value), Errc::ok;
    if (key == "tls_ciphersuites") return o.tls_ciphersuites.assign(value), Errc::ok;
    if (key == "ssl_sni") return o.ssl_sni.assign(value), Errc::ok;
    if (key == "tls_version") {
        if (!parse_tls_version(value, o.tls_min_version))
            return err.set(Errc::option,
                           "invalid value for option 'tls_version' (TLSv1.2, TLSv1.3 or a list)");
        return Errc::ok;
    }
    if (key == "ssl_fingerprint") {
        if (value.empty()) return o.ssl_fingerprint.clear(), Errc::ok;
        if (!parse_fingerprint(value, o.ssl_fingerprint))
            return err.set(Errc::option, "invalid value for option 'ssl_fingerprint' (the "
                                         "certificate's SHA-256: 64 hex digits, colons allowed)");
        return Errc::ok;
    }

    // Authentication
    if (key == "password2") return o.password2.assign(value), Errc::ok;
    if (key == "password3") return o.password3.assign(value), Errc::ok;
    if (key == "server_public_key_path") return o.server_public_key_path.assign(value), Errc::ok;
    if (key == "get_server_public_key") return flag(o.get_server_public_key);
    if (key == "enable_cleartext_plugin") return flag(o.enable_cleartext_plugin);
    if (key == "allow_unverified_tls_password") return flag(o.allow_unverified_tls_password);
    if (key == "auth_plugins") {
        std::vector<std::string> list;
        for (std::string_view item : split_list(value)) {
            if (item.empty() || item.size() > 64) return bad_value(key, err);
            list.emplace_back(item);
        }
        o.auth_plugins = std::move(list);
        return Errc::ok;
    }

    // Compression
    if (key == "compress") {
        std::string v = lower(value);
        if (v == "zlib") return o.compress = compress_opt::zlib, Errc::ok;
        if (v == "zstd") return o.compress = compress_opt::zstd, Errc::ok;
        if (parse_bool(v, b)) return o.compress = b ? compress_opt::any : compress_opt::off, Errc::ok;
        return err.set(Errc::option, "invalid value for option 'compress' (off, zlib, zstd or on)");
    }
    if (key == "compression_level") {
        if (!parse_uint(value, n) || n < 1 || n > 22)
            return err.set(Errc::option, "compression_level must be between 1 and 22");
        o.compression_level = static_cast<int>(n);
        return Errc::ok;
    }
    return err.set(Errc::option, "unknown option '" + std::string(raw_key.substr(0, 64)) + "'");
}

Errc apply_uri(Options &target, std::string_view uri, Error &err) {
    auto fail = [&](std::string_view why) {
        return err.set(Errc::uri, "invalid URI: " + std::string(why));
    };
    constexpr std::string_view scheme = "mysql://";
    if (uri.substr(0, scheme.size()) != scheme) return fail("it must start with mysql://");
    std::string_view rest = uri.substr(scheme.size());
    Options o = target;  // applied to target only if the whole URI is good
    std::string decoded;   // may hold the password: wiped however this ends
    proto::WipeOnExit wipe_decoded(decoded);

    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    std::string_view path;
    if (auto s = rest.find('/'); s != std::string_view::npos) {
        path = rest.substr(s + 1);
        rest = rest.substr(0, s);
    }
    // userinfo@hostport; the last '@' separates them (a raw '@' in a
    // password is tolerated, though it should be %40).
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        std::string_view user = userinfo, password;
        bool has_password = false;
        if (auto c = userinfo.find(':'); c != std::string_view::npos) {
            user = userinfo.substr(0, c);
            password = userinfo.substr(c + 1);
            has_password = true;
        }
        if (!percent_decode(user, decoded)) return fail("bad %-escape in the user name");
        o.user = decoded;
        if (has_password) {
            if (!percent_decode(password, decoded)) return fail("bad %-escape in the password");
            o.password = decoded;
        }
    }
    // host[:port], with [v6-address] in brackets
    std::string_view host = rest, port;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos) return fail("unterminated [ in the host");
        host = rest.substr(1, close - 1);
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return fail("unexpected text after ]");
            port = after.substr(1);
        }
    } else if (auto c = rest.rfind(':'); c != std::string_view::npos) {
        host = rest.substr(0, c);
        port = rest.substr(c + 1);
    }
    if (!host.empty()) {
        if (!percent_decode(host, decoded)) return fail("bad %-escape in the host");
        o.host = decoded;
    }
    if (!port.empty()) {
        std::uint64_t n;
        if (!parse_uint(port, n) || n < 1 || n > 65535) return fail("the port must be 1..65535");
        o.port = static_cast<unsigned>(n);
    }
    if (!path.empty()) {
        if (!percent_decode(path, decoded)) return fail("bad %-escape in the database");
        o.database = decoded;
    }
    while (!query.empty()) {
        std::string_view pair = query;
        if (auto amp = query.find('&'); amp != std::string_view::npos) {
            pair = query.substr(0, amp);
            query = query.substr(amp + 1);
        } else {
            query = {};
        }
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        if (eq == std::string_view::npos) return fail("a query parameter has no '='");
        std::string key, value;  // value may be a secret (password=, ssl_key_password=)
        proto::WipeOnExit wipe_key(key), wipe_value(value);
        if (!percent_decode(pair.substr(0, eq), key) || !percent_decode(pair.substr(eq + 1), value))
            return fail("bad %-escape in a query parameter");
        Error option_err;
        if (set_option_by_name(o, key, value, option_err) != Errc::ok)
            return err.set(Errc::uri, "invalid URI: " + option_err.message);
    }
    target = std::move(o);
    return Errc::ok;
}

}  // namespace mywire
