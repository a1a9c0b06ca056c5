#include "proto/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <cstring>

namespace mywire::proto {

namespace {

using Sha1 = std::array<unsigned char, 20>;
using Sha512 = std::array<unsigned char, 64>;

// One-shot digest over up to three parts.
template <class Out>
bool digest(const EVP_MD *md, Out &out, std::string_view a, std::string_view b = {},
            std::string_view c = {}) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) return false;
    unsigned int n = 0;
    bool ok = EVP_DigestInit_ex(ctx, md, nullptr) == 1 &&
              EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
              EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
              EVP_DigestUpdate(ctx, c.data(), c.size()) == 1 &&
              EVP_DigestFinal_ex(ctx, out.data(), &n) == 1 && n == out.size();
    EVP_MD_CTX_free(ctx);
    return ok;
}

std::string_view view(const unsigned char *p, std::size_t n) {
    return {reinterpret_cast<const char *>(p), n};
}

class NativePassword final : public AuthPlugin {
public:
    std::string_view name() const override { return "mysql_native_password"; }
    Errc start(const AuthContext &ctx, std::string_view challenge, std::string &response,
               Error &err) override {
        if (!ctx.password.empty() && challenge.size() < 20)
            return err.set(Errc::protocol, "mysql_native_password: challenge shorter than 20 bytes");
        response = native_password_scramble(ctx.password, challenge);
        return Errc::ok;
    }
};

class Ed25519 final : public AuthPlugin {
public:
    std::string_view name() const override { return "client_ed25519"; }
    // The greeting's scramble is not the ed25519 challenge: the server sends
    // a 32-byte challenge in its auth switch request (which is the only way
    // this plugin starts), so `challenge` here is that.
    Errc start(const AuthContext &ctx, std::string_view challenge, std::string &response,
               Error &err) override {
        if (challenge.size() != 32)
            return err.set(Errc::protocol, "client_ed25519: challenge is not 32 bytes");
        if (ed25519_sign(ctx.password, challenge, response) != Errc::ok)
            return err.set(Errc::internal, "client_ed25519: signing failed");
        return Errc::ok;
    }
};

}  // namespace

Errc AuthPlugin::more_data(const AuthContext &, std::string_view, std::string &, bool &reply,
                           Error &err) {
    reply = false;
    std::string msg(name());
    return err.set(Errc::protocol, msg + ": unexpected AuthMoreData packet from the server");
}

std::string native_password_scramble(std::string_view password, std::string_view challenge) {
    if (password.empty()) return {};
    Sha1 h1, h2, h3;
    if (!digest(EVP_sha1(), h1, password) || !digest(EVP_sha1(), h2, view(h1.data(), h1.size())) ||
        !digest(EVP_sha1(), h3, challenge.substr(0, 20), view(h2.data(), h2.size())))
        return {};
    std::string out(20, '\0');
    for (std::size_t i = 0; i < 20; ++i) out[i] = static_cast<char>(h1[i] ^ h3[i]);
    OPENSSL_cleanse(h1.data(), h1.size());
    OPENSSL_cleanse(h2.data(), h2.size());
    return out;
}

Errc ed25519_sign(std::string_view password, std::string_view challenge, std::string &signature) {
    if (sodium_init() < 0) return Errc::internal;
    // MariaDB's variant of Ed25519: the password stands where the 32-byte
    // seed would, so the secret scalar comes from SHA-512(password).
    Sha512 az, nonce, hram;
    unsigned char a[32], r[32], h[32], s[32], big_a[32], big_r[32];
    bool ok = digest(EVP_sha512(), az, password);
    if (ok) {
        az[0] &= 248;
        az[31] &= 63;
        az[31] |= 64;
        std::memcpy(a, az.data(), 32);
        ok = crypto_scalarmult_ed25519_base_noclamp(big_a, a) == 0 &&
             digest(EVP_sha512(), nonce, view(az.data() + 32, 32), challenge);
    }
    if (ok) {
        crypto_core_ed25519_scalar_reduce(r, nonce.data());
        ok = crypto_scalarmult_ed25519_base_noclamp(big_r, r) == 0 &&
             digest(EVP_sha512(), hram, view(big_r, 32), view(big_a, 32), challenge);
    }
    if (ok) {
        crypto_core_ed25519_scalar_reduce(h, hram.data());
        crypto_core_ed25519_scalar_mul(s, h, a);
        crypto_core_ed25519_scalar_add(s, s, r);
        signature.assign(reinterpret_cast<const char *>(big_r), 32);
        signature.append(reinterpret_cast<const char *>(s), 32);
    }
    sodium_memzero(az.data(), az.size());
    sodium_memzero(nonce.data(), nonce.size());
    sodium_memzero(a, sizeof a);
    sodium_memzero(r, sizeof r);
    return ok ? Errc::ok : Errc::internal;
}

void wipe(std::string &secret) {
    if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
    secret.clear();
}

namespace {
struct Entry {
    std::string_view name;
    std::unique_ptr<AuthPlugin> (*make)();
};
template <class T>
std::unique_ptr<AuthPlugin> make() {
    return std::make_unique<T>();
}
// The plugin table. The next plugins (caching_sha2_password, sha256_password,
// parsec, dialog, mysql_clear_password) are added here.
constexpr Entry plugins[] = {
    {"mysql_native_password", make<NativePassword>},
    {"client_ed25519", make<Ed25519>},
};
}  // namespace

std::unique_ptr<AuthPlugin> make_auth_plugin(std::string_view name) {
    for (const auto &e : plugins)
        if (e.name == name) return e.make();
    return nullptr;
}

}  // namespace mywire::proto
