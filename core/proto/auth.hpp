// Authentication plugins. Each plugin turns the server's challenge (and later
// AuthMoreData packets) into responses. Plugins compute; they never do
// network I/O (the one file they may read is the user's pinned RSA key).
// All plugins are built into the library: there is no plugin directory.
//
// The rule every plugin keeps: nothing from which the password can be
// recovered leaves the process unless it goes to a known peer (a unix socket,
// or TLS whose server certificate was verified: AuthContext::peer_known()),
// or RSA-encrypted without TLS (a pinned key, or the server's when the user
// allows fetching it); the clear-text plugins also need
// enable_cleartext_plugin. TLS that did not verify the server keeps out
// eavesdroppers but not a man in the middle, so it counts only with the
// user's allow_unverified_tls_password. Otherwise start()/more_data() fail
// with Errc::auth and a message naming the options, and `response` stays
// empty. (Nothing recoverable: native, ed25519 and parsec go anywhere.)
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/errors.hpp"
#include "proto/wipe.hpp"

namespace mywire::proto {

struct AuthContext {
    std::string_view password;
    // The transport, as the password rule sees it.
    bool unix_socket = false;                   // a local peer
    bool encrypted = false;                     // TLS is up
    bool peer_authenticated = false;            // TLS verified the server (CA chain or fingerprint)
    bool allow_unverified_tls_password = false; // user accepts encrypted but unverified TLS
    std::string_view server_public_key_path{};  // pinned RSA public key, PEM file; may be empty
    // Reads that file: given by the driver (io::read_key_file), so that no
    // system call is made here.
    Errc (*read_key_file)(std::string_view plugin, std::string_view path, std::string &pem, Error &err) = nullptr;
    bool get_server_public_key = false;         // user allows asking the server for its key
    bool enable_cleartext = false;              // user allows sending the password in clear
    // dialog prompts that are not password prompts; same contract as mywire_dialog_fn in capi/mywire.h
    int (*dialog)(void *user_data, int echo, const char *prompt, char *answer, std::size_t answer_size) = nullptr;
    void *dialog_user_data = nullptr;

    // Whether the password itself may be sent: only to a known peer, or
    // over unverified TLS when the user said so.
    bool peer_known() const { return unix_socket || (encrypted && peer_authenticated); }
    bool password_may_go() const {
        return peer_known() || (encrypted && allow_unverified_tls_password);
    }
};

class AuthPlugin {
public:
    virtual ~AuthPlugin() = default;
    virtual std::string_view name() const = 0;
    // The first response, to the greeting's or an auth switch's challenge.
    // Always sent, even when empty (parsec's empty response asks for the salt).
    virtual Errc start(const AuthContext &ctx, std::string_view challenge, std::string &response,
                       Error &err) = 0;
    // An AuthMoreData packet (without its 0x01 header). Sets `reply` when
    // `response` is to be sent; otherwise the server's next packet follows.
    virtual Errc more_data(const AuthContext &ctx, std::string_view data, std::string &response,
                           bool &reply, Error &err);
};

// The plugin of that name, or nullptr if mywire has none by that name
// (mysql_old_password is refused on purpose).
std::unique_ptr<AuthPlugin> make_auth_plugin(std::string_view name);

// The names make_auth_plugin() knows, in a fixed order.
const std::vector<std::string_view> &builtin_auth_plugins();

// Largest PEM key accepted, from a file or from the server.
inline constexpr std::size_t max_pem_size = 16 * 1024;
// Smallest RSA key the password is encrypted with.
inline constexpr int min_rsa_bits = 2048;
// parsec: the largest iteration factor f (1024 << f PBKDF2 rounds) accepted.
// MariaDB's server stores 0..3 and its clients refuse more.
inline constexpr int max_parsec_factor = 3;
// dialog: longest prompt handed to the callback, and the answer buffer.
inline constexpr std::size_t max_dialog_prompt = 1024;
inline constexpr std::size_t dialog_answer_size = 4096;

// The pure computations, exposed for tests.
// mysql_native_password: SHA1(pw) XOR SHA1(challenge[0..20) + SHA1(SHA1(pw))); empty for "".
std::string native_password_scramble(std::string_view password, std::string_view challenge);
// client_ed25519: an Ed25519 signature of the 32-byte challenge with the
// key derived from SHA-512(password), as MariaDB's plugin defines it.
Errc ed25519_sign(std::string_view password, std::string_view challenge, std::string &signature);
// caching_sha2_password: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce[0..20)); empty for "".
std::string caching_sha2_scramble(std::string_view password, std::string_view nonce);
// sha256_password / caching_sha2_password without a secure transport:
// RSA-OAEP (SHA-1, MGF1-SHA-1) of (password + NUL) XOR the 20-byte nonce
// (repeated), with the public key in `pem` (SubjectPublicKeyInfo or PKCS#1).
// `plugin` and `key` ("the server's public key", ...) name things in errors;
// a bad key gives `bad_key` (Errc::protocol for the server's, Errc::auth for
// the user's file).
Errc rsa_encrypt_password(std::string_view plugin, std::string_view key, Errc bad_key,
                          std::string_view password, std::string_view nonce, std::string_view pem,
                          std::string &out, Error &err);
// parsec: client_scramble + Ed25519 signature of server_scramble +
// client_scramble, the key's seed being PBKDF2-HMAC-SHA512(password, salt,
// 1024 << f, 32 bytes); ext_salt = 'P', f, 18-byte salt.
Errc parsec_response(std::string_view password, std::string_view server_scramble,
                     std::string_view ext_salt, std::string_view client_scramble,
                     std::string &response, Error &err);

}  // namespace mywire::proto
