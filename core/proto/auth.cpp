#include "proto/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>

namespace mywire::proto {

namespace {

using Sha1 = std::array<unsigned char, 20>;
using Sha256 = std::array<unsigned char, 32>;
using Sha512 = std::array<unsigned char, 64>;

// The scramble (nonce) of mysql_native_password, caching_sha2_password and
// sha256_password.
constexpr std::size_t nonce_size = 20;

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

template <class... Parts>
std::string cat(const Parts &...parts) {
    std::string s;
    (s.append(std::string_view(parts)), ...);
    return s;
}

// Errors OpenSSL queues while we work are ours to drop: left behind, they
// would surface in unrelated TLS calls later on this thread.
struct OpenSslErrorScope {
    OpenSslErrorScope() { ERR_set_mark(); }
    ~OpenSslErrorScope() { ERR_pop_to_mark(); }
    OpenSslErrorScope(const OpenSslErrorScope &) = delete;
    OpenSslErrorScope &operator=(const OpenSslErrorScope &) = delete;
};

std::string with_nul(std::string_view password) {
    std::string s;
    s.reserve(password.size() + 1);
    s.append(password);
    s.push_back('\0');
    return s;
}

// The 20-byte nonce of the SHA-2 plugins: the greeting gives exactly 20
// bytes, an auth switch 20 and a NUL.
bool take_nonce(std::string_view challenge, std::string &nonce) {
    if (challenge.size() == nonce_size + 1 && challenge.back() == '\0') challenge.remove_suffix(1);
    if (challenge.size() != nonce_size) return false;
    nonce.assign(challenge);
    return true;
}

// The options that verify a TLS server, for messages.
constexpr std::string_view verify_options =
    "ssl_mode=verify_ca or verify_identity with ssl_ca, or ssl_fingerprint";

std::string needs_secure_message(std::string_view plugin) {
    return cat(plugin, " needs the password sent securely: use verified TLS (", verify_options,
               ") or a unix socket, pin the server's RSA key with server_public_key_path, or "
               "allow fetching it with get_server_public_key=1");
}

// TLS is up but did not authenticate the server: whoever is at the other end
// (a man in the middle with any certificate) would read the password.
std::string unverified_tls_message(std::string_view who, std::string_view more = {}) {
    return cat(who,
               " would send the password itself, and this TLS connection did not verify the "
               "server's certificate (a man in the middle could read it): use ",
               verify_options, ", or a unix socket",
               more, ", or set allow_unverified_tls_password=1 (open to a man in the middle)");
}

// caching_sha2_password and sha256_password share the full authentication:
// the password in clear to a known peer, else (plain TCP) RSA-encrypted with
// a pinned or (if allowed) fetched key. Over TLS the server reads the answer
// as the password in clear, never as RSA, so unverified TLS without the
// user's allow_unverified_tls_password is a refusal.
class Sha2Plugin : public AuthPlugin {
protected:
    enum class State { sent, awaiting_key, done };

    // What to send when the server wants the password itself. Sets
    // awaiting_key when `response` is the request for the server's key.
    Errc full_authentication(const AuthContext &ctx, char request_key, std::string &response,
                             Error &err) {
        response.clear();
        // An empty password is no secret: its NUL goes as it is.
        if (ctx.password_may_go() || ctx.password.empty()) {
            response = with_nul(ctx.password);
            state_ = State::done;
            return Errc::ok;
        }
        if (ctx.encrypted)
            return err.set(Errc::auth,
                           unverified_tls_message(name(), "; or, with ssl_mode=disabled, pin the "
                                                          "server's RSA key with "
                                                          "server_public_key_path"));
        if (!ctx.server_public_key_path.empty()) {
            std::string pem;
            if (!ctx.read_key_file)
                return err.set(Errc::internal, "no reader for server_public_key_path was given");
            if (ctx.read_key_file(name(), ctx.server_public_key_path, pem, err) != Errc::ok)
                return err.code;
            state_ = State::done;
            return rsa_encrypt_password(name(), "the key in server_public_key_path", Errc::auth,
                                        ctx.password, nonce_, pem, response, err);
        }
        if (ctx.get_server_public_key) {
            response.assign(1, request_key);
            state_ = State::awaiting_key;
            return Errc::ok;
        }
        return err.set(Errc::auth, needs_secure_message(name()));
    }

    // The server's PEM key, which we asked for.
    Errc on_server_key(const AuthContext &ctx, std::string_view pem, std::string &response,
                       bool &reply, Error &err) {
        state_ = State::done;
        if (rsa_encrypt_password(name(), "the server's public key", Errc::protocol, ctx.password,
                                 nonce_, pem, response, err) != Errc::ok)
            return err.code;
        reply = true;
        return Errc::ok;
    }

    Errc bad_nonce(Error &err) {
        return err.set(Errc::protocol, cat(name(), ": the server's nonce is not 20 bytes"));
    }

    std::string nonce_;
    State state_ = State::sent;
};

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

class CachingSha2 final : public Sha2Plugin {
public:
    std::string_view name() const override { return "caching_sha2_password"; }
    Errc start(const AuthContext &ctx, std::string_view challenge, std::string &response,
               Error &err) override {
        response.clear();
        if (!take_nonce(challenge, nonce_)) return bad_nonce(err);
        response = caching_sha2_scramble(ctx.password, nonce_);
        if (!ctx.password.empty() && response.empty())
            return err.set(Errc::internal, "caching_sha2_password: SHA-256 failed");
        state_ = State::sent;
        return Errc::ok;
    }
    Errc more_data(const AuthContext &ctx, std::string_view data, std::string &response,
                   bool &reply, Error &err) override {
        reply = false;
        response.clear();
        if (state_ == State::awaiting_key) return on_server_key(ctx, data, response, reply, err);
        if (state_ == State::sent && data == "\x03") {  // fast auth done: OK follows
            state_ = State::done;
            return Errc::ok;
        }
        if (state_ == State::sent && data == "\x04") {  // the server wants the password
            if (full_authentication(ctx, '\x02', response, err) != Errc::ok) {
                wipe(response);
                return err.code;
            }
            reply = true;
            return Errc::ok;
        }
        if (state_ == State::sent)
            return err.set(Errc::protocol,
                           "caching_sha2_password: unexpected data from the server (expected 3 = "
                           "fast authentication done or 4 = full authentication)");
        return err.set(Errc::protocol,
                       "caching_sha2_password: unexpected AuthMoreData packet from the server");
    }
};

class Sha256Password final : public Sha2Plugin {
public:
    std::string_view name() const override { return "sha256_password"; }
    Errc start(const AuthContext &ctx, std::string_view challenge, std::string &response,
               Error &err) override {
        response.clear();
        if (!take_nonce(challenge, nonce_)) return bad_nonce(err);
        if (full_authentication(ctx, '\x01', response, err) != Errc::ok) {
            wipe(response);
            return err.code;
        }
        return Errc::ok;
    }
    Errc more_data(const AuthContext &ctx, std::string_view data, std::string &response,
                   bool &reply, Error &err) override {
        reply = false;
        response.clear();
        if (state_ == State::awaiting_key) return on_server_key(ctx, data, response, reply, err);
        return err.set(Errc::protocol,
                       "sha256_password: unexpected AuthMoreData packet from the server");
    }
};

// The password in clear: only with the user's consent and to a known peer.
Errc cleartext_allowed(const AuthContext &ctx, std::string_view who, Error &err) {
    if (!ctx.enable_cleartext)
        return err.set(Errc::auth,
                       cat("the server asks for ", who,
                           ", which sends the password in clear; set enable_cleartext_plugin=1 "
                           "to allow it (only over verified TLS or a unix socket)"));
    if (ctx.password_may_go()) return Errc::ok;
    if (ctx.encrypted) return err.set(Errc::auth, unverified_tls_message(who));
    return err.set(Errc::auth,
                   cat(who,
                       " sends the password in clear and needs verified TLS or a unix socket; "
                       "enable_cleartext_plugin is set but this connection is neither"));
}

class ClearPassword final : public AuthPlugin {
public:
    std::string_view name() const override { return "mysql_clear_password"; }
    Errc start(const AuthContext &ctx, std::string_view, std::string &response,
               Error &err) override {
        response.clear();
        if (cleartext_allowed(ctx, "mysql_clear_password", err) != Errc::ok) return err.code;
        response = with_nul(ctx.password);
        return Errc::ok;
    }
};

// MariaDB's dialog (PAM): each question is a type byte and a prompt; the
// answer is text and a NUL. Type bit 0 marks the last question; the rest is
// 2 for an ordinary question, 4 for a password.
class Dialog final : public AuthPlugin {
public:
    std::string_view name() const override { return "dialog"; }
    Errc start(const AuthContext &ctx, std::string_view challenge, std::string &response,
               Error &err) override {
        response.clear();
        // No question yet: an empty packet lets the server ask its first one.
        // (libmariadb sends the password here; we do not send it unasked.)
        if (challenge.empty()) return Errc::ok;
        return answer(ctx, challenge, response, err);
    }
    Errc more_data(const AuthContext &ctx, std::string_view data, std::string &response,
                   bool &reply, Error &err) override {
        reply = false;
        response.clear();
        if (data.empty()) return err.set(Errc::protocol, "dialog: empty question from the server");
        if (answer(ctx, data, response, err) != Errc::ok) return err.code;
        reply = true;
        return Errc::ok;
    }

private:
    Errc answer(const AuthContext &ctx, std::string_view question, std::string &response,
                Error &err) {
        unsigned type = static_cast<unsigned char>(question[0]) & ~1u;
        std::string_view prompt = question.substr(1);
        prompt = prompt.substr(0, prompt.find('\0'));
        if (type != 2 && type != 4)
            return err.set(Errc::protocol,
                           cat("dialog: unknown question type ",
                               std::to_string(static_cast<unsigned char>(question[0])),
                               " from the server"));
        bool secret = type == 4;
        // Every echo-off answer goes in clear, so it is held to the rule of
        // mysql_clear_password, whoever answers it.
        if (secret && cleartext_allowed(ctx, "dialog", err) != Errc::ok) return err.code;
        // The first password question gets the password (as libmariadb does);
        // later ones (a one-time code, a new password) go to the callback.
        if (secret && !password_sent_ && !ctx.password.empty()) {
            password_sent_ = true;
            response = with_nul(ctx.password);
            return Errc::ok;
        }
        if (!ctx.dialog)
            return err.set(Errc::auth,
                           secret ? "the server's dialog plugin asks for a password that mywire "
                                    "cannot answer (no password set, or asked again); set a "
                                    "dialog callback (mywire_set_dialog_callback)"
                                  : "the server's dialog plugin asks a question that is not a "
                                    "password prompt; set a dialog callback "
                                    "(mywire_set_dialog_callback)");
        char text[max_dialog_prompt + 1];
        std::size_t n = std::min(prompt.size(), max_dialog_prompt);
        std::memcpy(text, prompt.data(), n);
        text[n] = '\0';
        char buf[dialog_answer_size] = {};
        int rc = ctx.dialog(ctx.dialog_user_data, secret ? 0 : 1, text, buf, sizeof buf);
        buf[sizeof buf - 1] = '\0';  // whatever the callback wrote
        if (rc == 0) {
            response.assign(buf, std::strlen(buf));
            response.push_back('\0');
        }
        wipe(buf, sizeof buf);
        if (rc != 0) return err.set(Errc::auth, "login aborted by the dialog callback");
        return Errc::ok;
    }

    bool password_sent_ = false;
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

// MariaDB 11.6+: the auth switch carries a 32-byte scramble; an empty
// response asks for the ext-salt; the answer is our scramble and a signature.
class Parsec final : public AuthPlugin {
public:
    std::string_view name() const override { return "parsec"; }
    Errc start(const AuthContext &, std::string_view challenge, std::string &response,
               Error &err) override {
        response.clear();
        if (challenge.size() != 32)
            return err.set(Errc::protocol, "parsec: the server's scramble is not 32 bytes");
        server_scramble_.assign(challenge);
        awaiting_salt_ = true;
        return Errc::ok;
    }
    Errc more_data(const AuthContext &ctx, std::string_view data, std::string &response,
                   bool &reply, Error &err) override {
        reply = false;
        response.clear();
        if (!awaiting_salt_)
            return err.set(Errc::protocol, "parsec: unexpected AuthMoreData packet from the server");
        awaiting_salt_ = false;
        unsigned char client[32];
        if (sodium_init() < 0) return err.set(Errc::internal, "parsec: libsodium failed to start");
        randombytes_buf(client, sizeof client);
        if (parsec_response(ctx.password, server_scramble_, data, view(client, sizeof client),
                            response, err) != Errc::ok)
            return err.code;
        reply = true;
        return Errc::ok;
    }

private:
    std::string server_scramble_;
    bool awaiting_salt_ = false;
};

}  // namespace

Errc AuthPlugin::more_data(const AuthContext &, std::string_view, std::string &response,
                           bool &reply, Error &err) {
    reply = false;
    response.clear();
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
    wipe(h1.data(), h1.size());
    wipe(h2.data(), h2.size());
    return out;
}

std::string caching_sha2_scramble(std::string_view password, std::string_view nonce) {
    if (password.empty()) return {};
    Sha256 h1, h2, h3;
    std::string out;
    if (digest(EVP_sha256(), h1, password) && digest(EVP_sha256(), h2, view(h1.data(), h1.size())) &&
        digest(EVP_sha256(), h3, view(h2.data(), h2.size()), nonce.substr(0, nonce_size))) {
        out.assign(32, '\0');
        for (std::size_t i = 0; i < 32; ++i) out[i] = static_cast<char>(h1[i] ^ h3[i]);
    }
    wipe(h1.data(), h1.size());
    wipe(h2.data(), h2.size());
    return out;
}

Errc rsa_encrypt_password(std::string_view plugin, std::string_view key, Errc bad_key,
                          std::string_view password, std::string_view nonce, std::string_view pem,
                          std::string &out, Error &err) {
    out.clear();
    auto fail = [&](Errc code, std::string_view msg) { return err.set(code, cat(plugin, ": ", msg)); };
    if (nonce.size() < nonce_size) return fail(Errc::internal, "nonce shorter than 20 bytes");
    if (pem.size() > max_pem_size) return fail(bad_key, cat(key, " is larger than 16 KiB"));

    OpenSslErrorScope scope;
    // Any PEM public key: SubjectPublicKeyInfo ("PUBLIC KEY", what MySQL
    // sends) or PKCS#1 ("RSA PUBLIC KEY"); the type is checked below.
    EVP_PKEY *raw = nullptr;
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&raw, "PEM", nullptr, nullptr,
                                                           EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
    if (!dctx) return fail(Errc::internal, "OpenSSL cannot decode PEM keys");
    const auto *p = reinterpret_cast<const unsigned char *>(pem.data());
    std::size_t len = pem.size();
    int decoded = pem.empty() ? 0 : OSSL_DECODER_from_data(dctx, &p, &len);
    OSSL_DECODER_CTX_free(dctx);
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY *)> pkey(raw, EVP_PKEY_free);
    if (decoded != 1 || !pkey) return fail(bad_key, cat(key, " is not a PEM public key"));
    if (!EVP_PKEY_is_a(pkey.get(), "RSA")) return fail(bad_key, cat(key, " is not an RSA key"));
    int bits = EVP_PKEY_get_bits(pkey.get());
    if (bits < min_rsa_bits)
        return fail(bad_key, cat(key, " has ", std::to_string(bits), " bits; mywire requires at least ",
                                 std::to_string(min_rsa_bits)));
    // OAEP with SHA-1 takes at most k - 2*20 - 2 bytes.
    int size = EVP_PKEY_get_size(pkey.get());
    std::size_t room = size > 42 ? static_cast<std::size_t>(size) - 42 : 0;
    if (password.size() + 1 > room)
        return fail(Errc::auth, cat("the password is too long for ", key, " (at most ",
                                    std::to_string(room ? room - 1 : 0), " bytes with a ",
                                    std::to_string(bits), "-bit key)"));

    std::string plain = with_nul(password);
    for (std::size_t i = 0; i < plain.size(); ++i) plain[i] ^= nonce[i % nonce_size];
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr);
    std::size_t n = 0;
    bool ok = ctx && EVP_PKEY_encrypt_init(ctx) > 0 &&
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
              EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) > 0 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) > 0 &&
              EVP_PKEY_encrypt(ctx, nullptr, &n,
                               reinterpret_cast<const unsigned char *>(plain.data()),
                               plain.size()) > 0;
    if (ok) {
        out.assign(n, '\0');
        ok = EVP_PKEY_encrypt(ctx, reinterpret_cast<unsigned char *>(out.data()), &n,
                              reinterpret_cast<const unsigned char *>(plain.data()),
                              plain.size()) > 0;
        out.resize(ok ? n : 0);
    }
    EVP_PKEY_CTX_free(ctx);
    wipe(plain);
    // OpenSSL refuses keys it parsed but cannot use (an even modulus, say):
    // the server's key is bad, not mywire.
    if (!ok) return fail(Errc::auth, "the server's RSA public key cannot be used to encrypt the password");
    return Errc::ok;
}

Errc parsec_response(std::string_view password, std::string_view server_scramble,
                     std::string_view ext_salt, std::string_view client_scramble,
                     std::string &response, Error &err) {
    response.clear();
    if (server_scramble.size() != 32 || client_scramble.size() != 32)
        return err.set(Errc::internal, "parsec: scrambles must be 32 bytes");
    // ext-salt: 'P' (PBKDF2-HMAC-SHA512), the iteration factor f as a byte
    // (1024 << f rounds), and the 18-byte salt.
    if (ext_salt.empty())
        return err.set(Errc::protocol, "parsec: empty ext-salt from the server");
    if (ext_salt[0] != 'P')
        return err.set(Errc::auth,
                       "parsec: the server asks for a key derivation other than PBKDF2 ('P'), "
                       "which mywire does not support");
    if (ext_salt.size() != 2 + 18)
        return err.set(Errc::protocol,
                       "parsec: malformed ext-salt from the server (expected 'P', an iteration "
                       "factor and an 18-byte salt)");
    unsigned factor = static_cast<unsigned char>(ext_salt[1]);
    if (factor > max_parsec_factor)
        return err.set(Errc::auth, cat("parsec: the server asks for 1024 << ", std::to_string(factor),
                                       " PBKDF2 iterations; mywire refuses more than 1024 << ",
                                       std::to_string(max_parsec_factor), " (too costly)"));
    if (password.size() > INT_MAX) return err.set(Errc::auth, "parsec: the password is too long");
    if (sodium_init() < 0) return err.set(Errc::internal, "parsec: libsodium failed to start");

    std::string_view salt = ext_salt.substr(2);
    unsigned char seed[32], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char sig[crypto_sign_BYTES];
    std::string message = cat(server_scramble, client_scramble);
    bool ok;
    {
        OpenSslErrorScope scope;
        ok = PKCS5_PBKDF2_HMAC(password.empty() ? "" : password.data(), static_cast<int>(password.size()),
                               reinterpret_cast<const unsigned char *>(salt.data()),
                               static_cast<int>(salt.size()), 1024 << factor, EVP_sha512(),
                               sizeof seed, seed) == 1;
    }
    // Standard Ed25519 with the derived key as its seed.
    ok = ok && crypto_sign_seed_keypair(pk, sk, seed) == 0 &&
         crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char *>(message.data()),
                              message.size(), sk) == 0;
    wipe(seed, sizeof seed);
    wipe(sk, sizeof sk);
    if (!ok) return err.set(Errc::internal, "parsec: key derivation or signing failed");
    response = cat(client_scramble, view(sig, sizeof sig));
    return Errc::ok;
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
    wipe(az.data(), az.size());
    wipe(nonce.data(), nonce.size());
    wipe(a, sizeof a);
    wipe(r, sizeof r);
    return ok ? Errc::ok : Errc::internal;
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
// The plugin table. mysql_old_password is absent on purpose (insecure).
constexpr Entry plugins[] = {
    {"mysql_native_password", make<NativePassword>},
    {"caching_sha2_password", make<CachingSha2>},
    {"sha256_password", make<Sha256Password>},
    {"client_ed25519", make<Ed25519>},
    {"parsec", make<Parsec>},
    {"mysql_clear_password", make<ClearPassword>},
    {"dialog", make<Dialog>},
};
}  // namespace

const std::vector<std::string_view> &builtin_auth_plugins() {
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> v;
        for (const auto &e : plugins) v.push_back(e.name);
        return v;
    }();
    return names;
}

std::unique_ptr<AuthPlugin> make_auth_plugin(std::string_view name) {
    for (const auto &e : plugins)
        if (e.name == name) return e.make();
    return nullptr;
}

}  // namespace mywire::proto
