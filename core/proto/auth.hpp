// Authentication plugins. Each plugin turns the server's challenge (and later
// AuthMoreData packets) into responses. Plugins compute; they never do I/O.
// All plugins are built into the library: there is no plugin directory.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "proto/errors.hpp"

namespace mywire::proto {

struct AuthContext {
    std::string_view password;
    // True over a unix socket (and, later, TLS): plugins that send the
    // password in a reversible form refuse to run without it.
    bool secure_transport = false;
};

class AuthPlugin {
public:
    virtual ~AuthPlugin() = default;
    virtual std::string_view name() const = 0;
    // The first response, to the greeting's or an auth switch's challenge.
    virtual Errc start(const AuthContext &ctx, std::string_view challenge, std::string &response,
                       Error &err) = 0;
    // An AuthMoreData packet. Sets `reply` when `response` is to be sent.
    virtual Errc more_data(const AuthContext &ctx, std::string_view data, std::string &response,
                           bool &reply, Error &err);
};

// The plugin of that name, or nullptr if mywire has none by that name.
std::unique_ptr<AuthPlugin> make_auth_plugin(std::string_view name);

// The pure computations, exposed for tests.
// mysql_native_password: SHA1(pw) XOR SHA1(challenge[0..20) + SHA1(SHA1(pw))); empty for "".
std::string native_password_scramble(std::string_view password, std::string_view challenge);
// client_ed25519: an Ed25519 signature of the 32-byte challenge with the
// key derived from SHA-512(password), as MariaDB's plugin defines it.
Errc ed25519_sign(std::string_view password, std::string_view challenge, std::string &signature);

// Overwrite secret bytes (not optimised away).
void wipe(std::string &secret);

}  // namespace mywire::proto
