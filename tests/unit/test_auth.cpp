// Authentication computations, checked against independent implementations:
// OpenSSL's one-shot EVP_Digest for mysql_native_password, libsodium's
// standard Ed25519 for client_ed25519, constants computed with Python's
// hashlib and `cryptography` for caching_sha2_password and parsec, RSA keys
// generated here and decrypted here for the encrypted password. Every
// refusal is checked with its exact message and an empty response.
#include "io/system.hpp"
#include "proto/auth.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "unit.hpp"

using namespace mywire::proto;
using mywire::Error;
using unit::Errc;

namespace {

const std::string challenge20 = "abcdefghij0123456789";

// The transports the password rule tells apart.
enum class Via { tcp, unverified_tls, verified_tls, unix_socket };

void set_via(AuthContext &c, Via via) {
    c.unix_socket = via == Via::unix_socket;
    c.encrypted = via == Via::unverified_tls || via == Via::verified_tls;
    c.peer_authenticated = via == Via::verified_tls;
}

// secure: verified TLS, a peer the password may go to.
AuthContext ctx_of(std::string_view pw, bool secure = false) {
    AuthContext c;
    c.password = pw;
    c.read_key_file = mywire::io::read_key_file;  // what the driver gives
    set_via(c, secure ? Via::verified_tls : Via::tcp);
    return c;
}

std::string sha1(std::string_view in) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(in.data(), in.size(), md, &n, EVP_sha1(), nullptr), 1);
    return std::string(reinterpret_cast<char *>(md), n);
}

std::string sha512(std::string_view in) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(in.data(), in.size(), md, &n, EVP_sha512(), nullptr), 1);
    return std::string(reinterpret_cast<char *>(md), n);
}

// SHA1(pw) XOR SHA1(challenge + SHA1(SHA1(pw))), the other way round.
std::string reference_native(std::string_view pw, std::string_view challenge) {
    std::string h1 = sha1(pw);
    std::string h3 = sha1(std::string(challenge.substr(0, 20)) + sha1(h1));
    std::string out(20, '\0');
    for (int i = 0; i < 20; ++i) out[i] = static_cast<char>(h1[i] ^ h3[i]);
    return out;
}

std::string hex(std::string_view s) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

void test_native_known_vector(void **) {
    // Computed once with Python's hashlib; SHA1(SHA1("mywire-pw")) is what
    // the server stores (PASSWORD() = *E62EBC5D...).
    std::string got = native_password_scramble("mywire-pw", challenge20);
    assert_sv_equal(hex(got), "0ad45be8eec97c02ff99bfa371fc0f71ec12614f");
    assert_sv_equal(hex(sha1(sha1("mywire-pw"))), "e62ebc5d39bc074ea21a7c9dea1d4ce2ac9aa97e");
}

void test_native_against_reference(void **) {
    const std::string passwords[] = {"a", "mywire-pw", std::string(200, 'p'), std::string("nul\0inside", 10),
                                     "\xC3\xA9t\xC3\xA9"};
    std::string challenge(20, '\0');
    for (int i = 0; i < 20; ++i) challenge[i] = static_cast<char>(i * 37 + 1);
    for (const auto &pw : passwords) {
        std::string got = native_password_scramble(pw, challenge);
        assert_int_equal(got.size(), 20);
        assert_sv_equal(hex(got), hex(reference_native(pw, challenge)));
        // Only the first 20 bytes of the challenge count (the switch form has a NUL after them).
        assert_sv_equal(hex(native_password_scramble(pw, challenge + std::string(1, '\0'))), hex(got));
    }
    // Another challenge, another answer.
    assert_true(native_password_scramble("x", challenge) != native_password_scramble("x", challenge20));
}

void test_native_empty_password(void **) {
    assert_int_equal(native_password_scramble("", challenge20).size(), 0);
    auto p = make_auth_plugin("mysql_native_password");
    assert_non_null(p.get());
    std::string resp = "junk";
    Error err;
    // No password: an empty response, whatever the challenge looks like.
    assert_errc(p->start(ctx_of(""), "short", resp, err), Errc::ok);
    assert_int_equal(resp.size(), 0);
}

void test_native_plugin(void **) {
    auto p = make_auth_plugin("mysql_native_password");
    assert_non_null(p.get());
    assert_sv_equal(p->name(), "mysql_native_password");
    std::string resp;
    Error err;
    assert_errc(p->start(ctx_of("pw"), challenge20, resp, err), Errc::ok);
    assert_sv_equal(hex(resp), hex(reference_native("pw", challenge20)));
    // A challenge shorter than 20 bytes cannot be answered.
    assert_errc(p->start(ctx_of("pw"), challenge20.substr(0, 19), resp, err), Errc::protocol);
    assert_errc(err.code, Errc::protocol);
    // AuthMoreData is not part of this plugin.
    bool reply = true;
    Error err2;
    assert_errc(p->more_data(ctx_of("pw"), "x", resp, reply, err2), Errc::protocol);
    assert_false(reply);
}

// The public key as MariaDB's server derives it: the clamped first half of
// SHA-512(password) times the base point.
std::string derived_public_key(std::string_view password) {
    std::string az = sha512(password);
    unsigned char scalar[32];
    std::memcpy(scalar, az.data(), 32);
    scalar[0] &= 248;
    scalar[31] &= 63;
    scalar[31] |= 64;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    assert_int_equal(crypto_scalarmult_ed25519_base(pk, scalar), 0);
    return std::string(reinterpret_cast<char *>(pk), sizeof pk);
}

bool verifies(std::string_view sig, std::string_view msg, std::string_view pk) {
    return sig.size() == crypto_sign_BYTES &&
           crypto_sign_verify_detached(reinterpret_cast<const unsigned char *>(sig.data()),
                                       reinterpret_cast<const unsigned char *>(msg.data()), msg.size(),
                                       reinterpret_cast<const unsigned char *>(pk.data())) == 0;
}

std::string challenge32(unsigned salt) {
    std::string c(32, '\0');
    for (int i = 0; i < 32; ++i) c[i] = static_cast<char>(i * 13 + salt);
    return c;
}

void test_ed25519_verifies(void **) {
    assert_true(sodium_init() >= 0);
    const std::string passwords[] = {"ed-pw", "", "x", std::string(100, 'P'), "p\xC3\xA4ss w\xC3\xB6rd"};
    for (const auto &pw : passwords) {
        std::string pk = derived_public_key(pw);
        for (unsigned salt : {0u, 1u, 200u}) {
            std::string c = challenge32(salt);
            std::string sig;
            assert_errc(ed25519_sign(pw, c, sig), Errc::ok);
            assert_int_equal(sig.size(), 64);
            assert_true(verifies(sig, c, pk));
            // Not for another message, nor another password's key.
            std::string other = c;
            other[5] ^= 1;
            assert_false(verifies(sig, other, pk));
            assert_false(verifies(sig, c, derived_public_key(pw + "!")));
            // Deterministic.
            std::string again;
            assert_errc(ed25519_sign(pw, c, again), Errc::ok);
            assert_true(sig == again);
        }
    }
}

void test_ed25519_is_standard_for_32_byte_passwords(void **) {
    assert_true(sodium_init() >= 0);
    for (unsigned salt : {3u, 77u}) {
        std::string seed = challenge32(salt + 1000);
        unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
        assert_int_equal(crypto_sign_seed_keypair(pk, sk, reinterpret_cast<const unsigned char *>(seed.data())), 0);
        std::string c = challenge32(salt);
        unsigned char sig[crypto_sign_BYTES];
        assert_int_equal(crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char *>(c.data()),
                                              c.size(), sk),
                         0);
        std::string ours;
        assert_errc(ed25519_sign(seed, c, ours), Errc::ok);
        assert_sv_equal(hex(ours), hex(std::string_view(reinterpret_cast<char *>(sig), sizeof sig)));
        assert_sv_equal(hex(derived_public_key(seed)),
                        hex(std::string_view(reinterpret_cast<char *>(pk), sizeof pk)));
    }
}

void test_ed25519_plugin(void **) {
    auto p = make_auth_plugin("client_ed25519");
    assert_non_null(p.get());
    assert_sv_equal(p->name(), "client_ed25519");
    std::string resp;
    Error err;
    std::string c = challenge32(9);
    assert_errc(p->start(ctx_of("ed-pw"), c, resp, err), Errc::ok);
    assert_true(verifies(resp, c, derived_public_key("ed-pw")));
    // The challenge must be exactly 32 bytes.
    assert_errc(p->start(ctx_of("ed-pw"), c.substr(0, 31), resp, err), Errc::protocol);
    assert_errc(p->start(ctx_of("ed-pw"), c + "x", resp, err), Errc::protocol);
}

void test_wipe(void **) {
    std::string secret = "top secret";
    wipe(secret);
    assert_true(secret.empty());
    std::string empty;
    wipe(empty);
    assert_true(empty.empty());
}

// ------------------------------------------------------------ helpers

std::string unhex(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return out;
}

std::string with_nul(std::string_view s) {
    std::string out(s);
    out.push_back('\0');
    return out;
}

// The nonce of the Python vectors: byte i = i*7+3.
std::string nonce20() {
    std::string n(20, '\0');
    for (int i = 0; i < 20; ++i) n[i] = static_cast<char>(i * 7 + 3);
    return n;
}

// A call that must fail: code, exact message, and nothing to send.
#define assert_refused(call, code, msg, resp)            \
    do {                                                 \
        Error e_;                                        \
        resp = "junk";                                   \
        assert_errc(call, code);                         \
        assert_sv_equal(e_.message, msg);                \
        assert_true(resp.empty());                       \
        assert_int_equal(ERR_peek_error(), 0);           \
    } while (0)

// Keys generated once per run; PEM texts and the private key to decrypt.
struct Keys {
    EVP_PKEY *rsa = nullptr;        // 2048-bit
    EVP_PKEY *small_rsa = nullptr;  // 1024-bit
    EVP_PKEY *ec = nullptr;
    std::string spki, pkcs1, small_spki, ec_spki, private_pem;
};

std::string pem_of(EVP_PKEY *k, int selection, const char *structure) {
    OSSL_ENCODER_CTX *ctx = OSSL_ENCODER_CTX_new_for_pkey(k, selection, "PEM", structure, nullptr);
    assert_non_null(ctx);
    unsigned char *data = nullptr;
    std::size_t len = 0;
    assert_int_equal(OSSL_ENCODER_to_data(ctx, &data, &len), 1);
    std::string out(reinterpret_cast<char *>(data), len);
    OPENSSL_free(data);
    OSSL_ENCODER_CTX_free(ctx);
    return out;
}

const Keys &keys() {
    static Keys k = [] {
        Keys k;
        k.rsa = EVP_RSA_gen(2048);
        k.small_rsa = EVP_RSA_gen(1024);
        k.ec = EVP_EC_gen("P-256");
        assert_non_null(k.rsa);
        assert_non_null(k.small_rsa);
        assert_non_null(k.ec);
        k.spki = pem_of(k.rsa, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
        k.pkcs1 = pem_of(k.rsa, EVP_PKEY_PUBLIC_KEY, "type-specific");
        k.small_spki = pem_of(k.small_rsa, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
        k.ec_spki = pem_of(k.ec, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
        k.private_pem = pem_of(k.rsa, EVP_PKEY_KEYPAIR, "PrivateKeyInfo");
        return k;
    }();
    return k;
}

// The test's own decryption: RSA-OAEP with SHA-1 and MGF1-SHA-1.
std::string rsa_decrypt(std::string_view cipher) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, keys().rsa, nullptr);
    assert_non_null(ctx);
    assert_true(EVP_PKEY_decrypt_init(ctx) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) > 0);
    std::string out(512, '\0');
    std::size_t n = out.size();
    int rc = EVP_PKEY_decrypt(ctx, reinterpret_cast<unsigned char *>(out.data()), &n,
                              reinterpret_cast<const unsigned char *>(cipher.data()), cipher.size());
    EVP_PKEY_CTX_free(ctx);
    assert_true(rc > 0);
    out.resize(n);
    return out;
}

std::string xor_nonce(std::string s, std::string_view nonce) {
    for (std::size_t i = 0; i < s.size(); ++i) s[i] ^= nonce[i % 20];
    return s;
}

// The ciphertext is (pw + NUL) XOR nonce under our key.
void assert_encrypted_password(std::string_view cipher, std::string_view pw, std::string_view nonce) {
    assert_int_equal(cipher.size(), 256);
    assert_sv_equal(hex(xor_nonce(rsa_decrypt(cipher), nonce)), hex(with_nul(pw)));
}

// Files in a private temporary directory, removed at the end of the run.
struct TempDir {
    std::string path;
    std::vector<std::string> files;
    TempDir() {
        char tmpl[] = "/tmp/mywire-auth-XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        path = tmpl;
    }
    ~TempDir() {
        for (const auto &f : files) ::unlink(f.c_str());
        ::rmdir((path + "/dir").c_str());
        ::rmdir(path.c_str());
    }
    std::string write(const std::string &name, std::string_view content) {
        std::string f = path + "/" + name;
        FILE *fp = std::fopen(f.c_str(), "wb");
        assert_non_null(fp);
        assert_int_equal(std::fwrite(content.data(), 1, content.size(), fp), content.size());
        std::fclose(fp);
        files.push_back(f);
        return f;
    }
};

TempDir &tmp() {
    static TempDir d;
    return d;
}

const char *caching_needs =
    "caching_sha2_password needs the password sent securely: use verified TLS (ssl_mode=verify_ca "
    "or verify_identity with ssl_ca, or ssl_fingerprint) or a unix socket, pin the server's RSA "
    "key with server_public_key_path, or allow fetching it with get_server_public_key=1";
const char *sha256_needs =
    "sha256_password needs the password sent securely: use verified TLS (ssl_mode=verify_ca or "
    "verify_identity with ssl_ca, or ssl_fingerprint) or a unix socket, pin the server's RSA key "
    "with server_public_key_path, or allow fetching it with get_server_public_key=1";
// TLS that did not verify the server: no password, whatever else is set.
const char *caching_unverified =
    "caching_sha2_password would send the password itself, and this TLS connection did not verify "
    "the server's certificate (a man in the middle could read it): use ssl_mode=verify_ca or "
    "verify_identity with ssl_ca, or ssl_fingerprint, or a unix socket; or, with "
    "ssl_mode=disabled, pin the server's RSA key with server_public_key_path, or set "
    "allow_unverified_tls_password=1 (open to a man in the middle)";
const char *sha256_unverified =
    "sha256_password would send the password itself, and this TLS connection did not verify "
    "the server's certificate (a man in the middle could read it): use ssl_mode=verify_ca or "
    "verify_identity with ssl_ca, or ssl_fingerprint, or a unix socket; or, with "
    "ssl_mode=disabled, pin the server's RSA key with server_public_key_path, or set "
    "allow_unverified_tls_password=1 (open to a man in the middle)";

// ------------------------------------------------------------ caching_sha2_password

void test_caching_sha2_known_vectors(void **) {
    // SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce), from Python's hashlib.
    std::string n = nonce20();
    assert_sv_equal(hex(n), "030a11181f262d343b424950575e656c737a8188");
    assert_sv_equal(hex(caching_sha2_scramble("mywire-pw", n)),
                    "54b52f8a07277e65fc1e09a4301d13473c01c0ac3a8d31241654bdc79998a9a3");
    assert_sv_equal(hex(caching_sha2_scramble("x", n)),
                    "0346fa5c169ae4126db214b402120747efadb2edcf5eb736be24d366b7d5ed90");
    assert_sv_equal(hex(caching_sha2_scramble("p\xC3\xA4ss", n)),
                    "666dc8a1b5dcaa794fa78ac3a53a7fb9efea0a491ab159c5f11c5774ed096cd4");
    assert_int_equal(caching_sha2_scramble("", n).size(), 0);
}

void test_caching_sha2_start(void **) {
    auto p = make_auth_plugin("caching_sha2_password");
    assert_non_null(p.get());
    assert_sv_equal(p->name(), "caching_sha2_password");
    std::string resp;
    Error err;
    const char *want = "54b52f8a07277e65fc1e09a4301d13473c01c0ac3a8d31241654bdc79998a9a3";
    // The greeting's 20 bytes, or the auth switch's 20 and a NUL.
    assert_errc(p->start(ctx_of("mywire-pw"), nonce20(), resp, err), Errc::ok);
    assert_sv_equal(hex(resp), want);
    assert_errc(p->start(ctx_of("mywire-pw"), with_nul(nonce20()), resp, err), Errc::ok);
    assert_sv_equal(hex(resp), want);
    // No password: an empty response.
    assert_errc(p->start(ctx_of(""), nonce20(), resp, err), Errc::ok);
    assert_true(resp.empty());
    // Any other nonce is malformed, with or without a password.
    const char *bad = "caching_sha2_password: the server's nonce is not 20 bytes";
    for (std::string nonce : {nonce20().substr(0, 19), nonce20() + "xy", nonce20() + "x",
                              std::string(), std::string(32, 'n')}) {
        assert_refused(p->start(ctx_of("mywire-pw"), nonce, resp, e_), Errc::protocol, bad, resp);
        assert_refused(p->start(ctx_of(""), nonce, resp, e_), Errc::protocol, bad, resp);
    }
}

void test_caching_sha2_fast_path(void **) {
    auto p = make_auth_plugin("caching_sha2_password");
    std::string resp;
    Error err;
    assert_errc(p->start(ctx_of("pw"), nonce20(), resp, err), Errc::ok);
    bool reply = true;
    assert_errc(p->more_data(ctx_of("pw"), "\x03", resp, reply, err), Errc::ok);
    assert_false(reply);
    assert_true(resp.empty());
    // An OK follows; anything else is out of place.
    assert_refused(p->more_data(ctx_of("pw"), "\x03", resp, reply, e_), Errc::protocol,
                   "caching_sha2_password: unexpected AuthMoreData packet from the server", resp);
    assert_false(reply);
}

void test_caching_sha2_full_secure(void **) {
    auto p = make_auth_plugin("caching_sha2_password");
    std::string resp;
    Error err;
    AuthContext c = ctx_of("s3cret", true);
    assert_errc(p->start(c, with_nul(nonce20()), resp, err), Errc::ok);
    bool reply = false;
    assert_errc(p->more_data(c, "\x04", resp, reply, err), Errc::ok);
    assert_true(reply);
    assert_sv_equal(resp, with_nul("s3cret"));
    // Done: no more data expected.
    assert_refused(p->more_data(c, "\x04", resp, reply, e_), Errc::protocol,
                   "caching_sha2_password: unexpected AuthMoreData packet from the server", resp);
}

void test_caching_sha2_full_refused(void **) {
    auto p = make_auth_plugin("caching_sha2_password");
    std::string resp;
    Error err;
    AuthContext c = ctx_of("s3cret");
    assert_errc(p->start(c, nonce20(), resp, err), Errc::ok);
    bool reply = true;
    assert_refused(p->more_data(c, "\x04", resp, reply, e_), Errc::auth, caching_needs, resp);
    assert_false(reply);
    // Cleartext consent is not the consent this plugin needs.
    auto q = make_auth_plugin("caching_sha2_password");
    c.enable_cleartext = true;
    assert_errc(q->start(c, nonce20(), resp, err), Errc::ok);
    assert_refused(q->more_data(c, "\x04", resp, reply, e_), Errc::auth, caching_needs, resp);
}

void test_caching_sha2_empty_password_full(void **) {
    // An empty password is no secret: its NUL is sent even in clear.
    auto p = make_auth_plugin("caching_sha2_password");
    std::string resp;
    Error err;
    assert_errc(p->start(ctx_of(""), nonce20(), resp, err), Errc::ok);
    bool reply = false;
    assert_errc(p->more_data(ctx_of(""), "\x04", resp, reply, err), Errc::ok);
    assert_true(reply);
    assert_sv_equal(hex(resp), "00");
}

void test_caching_sha2_pinned_key(void **) {
    for (const std::string *pem : {&keys().spki, &keys().pkcs1}) {
        std::string path = tmp().write("pinned.pem", *pem);
        auto p = make_auth_plugin("caching_sha2_password");
        std::string resp;
        Error err;
        AuthContext c = ctx_of("s3cret \xC3\xA9");
        c.server_public_key_path = path;
        assert_errc(p->start(c, with_nul(nonce20()), resp, err), Errc::ok);
        bool reply = false;
        assert_errc(p->more_data(c, "\x04", resp, reply, err), Errc::ok);
        assert_true(reply);
        assert_encrypted_password(resp, "s3cret \xC3\xA9", nonce20());
        assert_refused(p->more_data(c, keys().spki, resp, reply, e_), Errc::protocol,
                       "caching_sha2_password: unexpected AuthMoreData packet from the server", resp);
    }
    // A password longer than the 20-byte nonce cycles it.
    std::string path = tmp().write("pinned.pem", keys().spki);
    std::string long_pw(150, 'L');
    auto p = make_auth_plugin("caching_sha2_password");
    std::string resp, again;
    Error err;
    AuthContext c = ctx_of(long_pw);
    c.server_public_key_path = path;
    assert_errc(p->start(c, nonce20(), resp, err), Errc::ok);
    bool reply = false;
    assert_errc(p->more_data(c, "\x04", resp, reply, err), Errc::ok);
    assert_encrypted_password(resp, long_pw, nonce20());
    // OAEP is randomised: the same input never gives the same bytes twice.
    auto q = make_auth_plugin("caching_sha2_password");
    assert_errc(q->start(c, nonce20(), again, err), Errc::ok);
    assert_errc(q->more_data(c, "\x04", again, reply, err), Errc::ok);
    assert_encrypted_password(again, long_pw, nonce20());
    assert_true(again != resp);
    // With a secure transport the pinned key is not needed: the password goes as is.
    auto s = make_auth_plugin("caching_sha2_password");
    set_via(c, Via::verified_tls);
    assert_errc(s->start(c, nonce20(), resp, err), Errc::ok);
    assert_errc(s->more_data(c, "\x04", resp, reply, err), Errc::ok);
    assert_sv_equal(resp, with_nul(long_pw));
}

void test_caching_sha2_fetch_key(void **) {
    for (std::string pem : {keys().spki, keys().pkcs1, with_nul(keys().spki)}) {
        auto p = make_auth_plugin("caching_sha2_password");
        std::string resp;
        Error err;
        AuthContext c = ctx_of("fetched-pw");
        c.get_server_public_key = true;
        assert_errc(p->start(c, with_nul(nonce20()), resp, err), Errc::ok);
        bool reply = false;
        assert_errc(p->more_data(c, "\x04", resp, reply, err), Errc::ok);
        assert_true(reply);
        assert_sv_equal(hex(resp), "02");  // request the key
        reply = false;
        assert_errc(p->more_data(c, pem, resp, reply, err), Errc::ok);
        assert_true(reply);
        assert_encrypted_password(resp, "fetched-pw", nonce20());
        assert_refused(p->more_data(c, pem, resp, reply, e_), Errc::protocol,
                       "caching_sha2_password: unexpected AuthMoreData packet from the server", resp);
    }
    // A pinned key wins over fetching.
    auto p = make_auth_plugin("caching_sha2_password");
    std::string resp;
    Error err;
    AuthContext c = ctx_of("fetched-pw");
    c.get_server_public_key = true;
    std::string path = tmp().write("pinned.pem", keys().spki);
    c.server_public_key_path = path;
    assert_errc(p->start(c, nonce20(), resp, err), Errc::ok);
    bool reply = false;
    assert_errc(p->more_data(c, "\x04", resp, reply, err), Errc::ok);
    assert_encrypted_password(resp, "fetched-pw", nonce20());
}

void test_caching_sha2_unexpected(void **) {
    const char *msg =
        "caching_sha2_password: unexpected data from the server (expected 3 = fast "
        "authentication done or 4 = full authentication)";
    // A key nobody asked for, or anything but 3 / 4.
    for (std::string data : {keys().spki, std::string(), std::string("\x02"), std::string("\x03\x00", 2),
                             std::string("\x04\x04"), std::string("\x01")}) {
        auto p = make_auth_plugin("caching_sha2_password");
        std::string resp;
        Error err;
        AuthContext c = ctx_of("pw");
        c.get_server_public_key = true;
        assert_errc(p->start(c, nonce20(), resp, err), Errc::ok);
        bool reply = true;
        assert_refused(p->more_data(c, data, resp, reply, e_), Errc::protocol, msg, resp);
        assert_false(reply);
    }
}

// ------------------------------------------------------------ sha256_password

void test_sha256_password(void **) {
    auto p = make_auth_plugin("sha256_password");
    assert_non_null(p.get());
    assert_sv_equal(p->name(), "sha256_password");
    std::string resp;
    Error err;
    bool reply = true;
    // Secure: the password and a NUL, at once.
    assert_errc(p->start(ctx_of("pw256", true), with_nul(nonce20()), resp, err), Errc::ok);
    assert_sv_equal(resp, with_nul("pw256"));
    assert_refused(p->more_data(ctx_of("pw256", true), "\x01", resp, reply, e_), Errc::protocol,
                   "sha256_password: unexpected AuthMoreData packet from the server", resp);
    // Empty password: one NUL byte, even in clear.
    p = make_auth_plugin("sha256_password");
    assert_errc(p->start(ctx_of(""), nonce20(), resp, err), Errc::ok);
    assert_sv_equal(hex(resp), "00");
    // Neither secure nor a key: refused.
    p = make_auth_plugin("sha256_password");
    assert_refused(p->start(ctx_of("pw256"), nonce20(), resp, e_), Errc::auth, sha256_needs, resp);
    // Bad nonce.
    assert_refused(p->start(ctx_of("pw256", true), nonce20().substr(1), resp, e_), Errc::protocol,
                   "sha256_password: the server's nonce is not 20 bytes", resp);
}

void test_sha256_pinned_and_fetched(void **) {
    std::string path = tmp().write("pinned.pem", keys().pkcs1);
    auto p = make_auth_plugin("sha256_password");
    std::string resp;
    Error err;
    AuthContext c = ctx_of("pw256");
    c.server_public_key_path = path;
    assert_errc(p->start(c, with_nul(nonce20()), resp, err), Errc::ok);
    assert_encrypted_password(resp, "pw256", nonce20());
    bool reply = true;
    assert_refused(p->more_data(c, keys().spki, resp, reply, e_), Errc::protocol,
                   "sha256_password: unexpected AuthMoreData packet from the server", resp);

    p = make_auth_plugin("sha256_password");
    AuthContext f = ctx_of("pw256");
    f.get_server_public_key = true;
    assert_errc(p->start(f, nonce20(), resp, err), Errc::ok);
    assert_sv_equal(hex(resp), "01");  // request the key
    reply = false;
    assert_errc(p->more_data(f, keys().spki, resp, reply, err), Errc::ok);
    assert_true(reply);
    assert_encrypted_password(resp, "pw256", nonce20());
    assert_refused(p->more_data(f, keys().spki, resp, reply, e_), Errc::protocol,
                   "sha256_password: unexpected AuthMoreData packet from the server", resp);
}

// ------------------------------------------------------------ RSA keys

void test_rsa_bad_server_keys(void **) {
    struct Case {
        std::string pem;
        const char *msg;
    };
    std::string big = keys().spki + std::string(max_pem_size, '\n');
    const Case cases[] = {
        {"", "caching_sha2_password: the server's public key is not a PEM public key"},
        {"garbage", "caching_sha2_password: the server's public key is not a PEM public key"},
        {keys().spki.substr(0, keys().spki.size() / 2),
         "caching_sha2_password: the server's public key is not a PEM public key"},
        {keys().private_pem, "caching_sha2_password: the server's public key is not a PEM public key"},
        {big, "caching_sha2_password: the server's public key is larger than 16 KiB"},
        {keys().ec_spki, "caching_sha2_password: the server's public key is not an RSA key"},
        {keys().small_spki,
         "caching_sha2_password: the server's public key has 1024 bits; mywire requires at least 2048"},
    };
    for (const auto &cs : cases) {
        auto p = make_auth_plugin("caching_sha2_password");
        std::string resp;
        Error err;
        AuthContext c = ctx_of("pw");
        c.get_server_public_key = true;
        assert_errc(p->start(c, nonce20(), resp, err), Errc::ok);
        bool reply = false;
        assert_errc(p->more_data(c, "\x04", resp, reply, err), Errc::ok);
        assert_refused(p->more_data(c, cs.pem, resp, reply, e_), Errc::protocol, cs.msg, resp);
        assert_false(reply);
    }
}

void test_rsa_password_length(void **) {
    // OAEP-SHA1 with 256 bytes of modulus: 214 bytes of plaintext, so 213 + NUL.
    std::string out;
    Error err;
    std::string pw213(213, 'p');
    assert_errc(rsa_encrypt_password("sha256_password", "the server's public key", Errc::protocol,
                                     pw213, nonce20(), keys().spki, out, err),
                Errc::ok);
    assert_encrypted_password(out, pw213, nonce20());
    std::string pw214(214, 'p'), resp_;
    assert_refused(rsa_encrypt_password("sha256_password", "the server's public key", Errc::protocol,
                                        pw214, nonce20(), keys().spki, resp_, e_),
                   Errc::auth,
                   "sha256_password: the password is too long for the server's public key (at most "
                   "213 bytes with a 2048-bit key)",
                   resp_);
}

void test_key_file_errors(void **) {
    struct Case {
        std::string path;
        Errc code;
        std::string msg;
    };
    std::string dir = tmp().path + "/dir";
    assert_int_equal(::mkdir(dir.c_str(), 0700), 0);
    const Case cases[] = {
        {tmp().path + "/missing.pem", Errc::auth,
         "caching_sha2_password: cannot read server_public_key_path \"" + tmp().path +
             "/missing.pem\": No such file or directory"},
        {dir, Errc::auth,
         "caching_sha2_password: cannot read server_public_key_path \"" + dir +
             "\": not a regular file"},
        {std::string("a\0b", 3), Errc::auth,
         "caching_sha2_password: cannot read server_public_key_path \"" + std::string("a\0b", 3) +
             "\": the path contains a NUL byte"},
        {tmp().write("big.pem", std::string(max_pem_size + 1, 'k')), Errc::auth,
         "caching_sha2_password: the key in server_public_key_path is larger than 16 KiB"},
        {tmp().write("junk.pem", "not a key\n"), Errc::auth,
         "caching_sha2_password: the key in server_public_key_path is not a PEM public key"},
        {tmp().write("empty.pem", ""), Errc::auth,
         "caching_sha2_password: the key in server_public_key_path is not a PEM public key"},
        {tmp().write("ec.pem", keys().ec_spki), Errc::auth,
         "caching_sha2_password: the key in server_public_key_path is not an RSA key"},
        {tmp().write("small.pem", keys().small_spki), Errc::auth,
         "caching_sha2_password: the key in server_public_key_path has 1024 bits; mywire requires "
         "at least 2048"},
    };
    for (const auto &cs : cases) {
        auto p = make_auth_plugin("caching_sha2_password");
        std::string resp;
        Error err;
        AuthContext c = ctx_of("pw");
        c.server_public_key_path = cs.path;
        c.get_server_public_key = true;  // a broken pin never falls back to fetching
        assert_errc(p->start(c, nonce20(), resp, err), Errc::ok);
        bool reply = true;
        assert_refused(p->more_data(c, "\x04", resp, reply, e_), cs.code, cs.msg, resp);
        assert_false(reply);
    }
    // A file of exactly 16 KiB is read (and then judged on its content).
    std::string padded = keys().spki + std::string(max_pem_size - keys().spki.size(), '\n');
    std::string path = tmp().write("padded.pem", padded);
    std::string out;
    Error err;
    auto p = make_auth_plugin("sha256_password");
    AuthContext c = ctx_of("pw");
    c.server_public_key_path = path;
    assert_errc(p->start(c, nonce20(), out, err), Errc::ok);
    assert_encrypted_password(out, "pw", nonce20());
}

// ------------------------------------------------------------ mysql_clear_password

const char *clear_not_enabled =
    "the server asks for mysql_clear_password, which sends the password in clear; set "
    "enable_cleartext_plugin=1 to allow it (only over verified TLS or a unix socket)";
const char *clear_not_secure =
    "mysql_clear_password sends the password in clear and needs verified TLS or a unix socket; "
    "enable_cleartext_plugin is set but this connection is neither";
const char *clear_unverified =
    "mysql_clear_password would send the password itself, and this TLS connection did not verify "
    "the server's certificate (a man in the middle could read it): use ssl_mode=verify_ca or "
    "verify_identity with ssl_ca, or ssl_fingerprint, or a unix socket, or set "
    "allow_unverified_tls_password=1 (open to a man in the middle)";

void test_clear_password(void **) {
    auto p = make_auth_plugin("mysql_clear_password");
    assert_non_null(p.get());
    assert_sv_equal(p->name(), "mysql_clear_password");
    std::string resp;
    Error err;
    AuthContext c = ctx_of("clear-pw");
    assert_refused(p->start(c, "", resp, e_), Errc::auth, clear_not_enabled, resp);
    set_via(c, Via::verified_tls);
    assert_refused(p->start(c, "", resp, e_), Errc::auth, clear_not_enabled, resp);
    set_via(c, Via::tcp);
    c.enable_cleartext = true;
    assert_refused(p->start(c, "", resp, e_), Errc::auth, clear_not_secure, resp);
    set_via(c, Via::unverified_tls);
    assert_refused(p->start(c, "", resp, e_), Errc::auth, clear_unverified, resp);
    set_via(c, Via::verified_tls);
    assert_errc(p->start(c, with_nul(nonce20()), resp, err), Errc::ok);
    assert_sv_equal(resp, with_nul("clear-pw"));
    c.password = "";
    assert_errc(p->start(c, "", resp, err), Errc::ok);
    assert_sv_equal(hex(resp), "00");
    bool reply = true;
    assert_refused(p->more_data(c, "x", resp, reply, e_), Errc::protocol,
                   "mysql_clear_password: unexpected AuthMoreData packet from the server", resp);
}

// ------------------------------------------------------------ dialog

const char *dialog_not_enabled =
    "the server asks for dialog, which sends the password in clear; set "
    "enable_cleartext_plugin=1 to allow it (only over verified TLS or a unix socket)";
const char *dialog_not_secure =
    "dialog sends the password in clear and needs verified TLS or a unix socket; "
    "enable_cleartext_plugin is set but this connection is neither";
const char *dialog_unverified =
    "dialog would send the password itself, and this TLS connection did not verify the server's "
    "certificate (a man in the middle could read it): use ssl_mode=verify_ca or verify_identity "
    "with ssl_ca, or ssl_fingerprint, or a unix socket, or set allow_unverified_tls_password=1 "
    "(open to a man in the middle)";
const char *dialog_no_callback =
    "the server's dialog plugin asks a question that is not a password prompt; set a dialog "
    "callback (mywire_set_dialog_callback)";
const char *dialog_no_secret_answer =
    "the server's dialog plugin asks for a password that mywire cannot answer (no password set, "
    "or asked again); set a dialog callback (mywire_set_dialog_callback)";

// What the callback saw, and what it answers.
struct Asked {
    int calls = 0;
    int echo = -1;
    std::string prompt;
    std::size_t answer_size = 0;
    std::string answer = "blue";
    int rc = 0;
    bool overfill = false;  // write answer_size bytes and no NUL
};

int ask(void *user, int echo, const char *prompt, char *answer, std::size_t answer_size) {
    auto *a = static_cast<Asked *>(user);
    ++a->calls;
    a->echo = echo;
    a->prompt = prompt;
    a->answer_size = answer_size;
    if (a->overfill) {
        std::memset(answer, 'A', answer_size);
    } else {
        std::strncpy(answer, a->answer.c_str(), answer_size);
    }
    return a->rc;
}

AuthContext dialog_ctx(std::string_view pw, Asked *asked, bool allowed = true) {
    AuthContext c = ctx_of(pw, allowed);
    c.enable_cleartext = allowed;
    if (asked) {
        c.dialog = ask;
        c.dialog_user_data = asked;
    }
    return c;
}

void test_dialog_password_question(void **) {
    for (std::string question : {std::string("\x04Password: "), std::string("\x05Password: "),
                                 std::string("\x04"), std::string("\x05Password: \0", 12)}) {
        auto p = make_auth_plugin("dialog");
        assert_non_null(p.get());
        assert_sv_equal(p->name(), "dialog");
        std::string resp;
        Error err;
        assert_errc(p->start(dialog_ctx("pam-pw", nullptr), question, resp, err), Errc::ok);
        assert_sv_equal(resp, with_nul("pam-pw"));
    }
    // The same question as AuthMoreData after an empty first challenge.
    auto p = make_auth_plugin("dialog");
    std::string resp = "junk";
    Error err;
    assert_errc(p->start(dialog_ctx("pam-pw", nullptr), "", resp, err), Errc::ok);
    assert_true(resp.empty());  // an empty packet: the server asks next
    bool reply = false;
    assert_errc(p->more_data(dialog_ctx("pam-pw", nullptr), "\x04Password: ", resp, reply, err), Errc::ok);
    assert_true(reply);
    assert_sv_equal(resp, with_nul("pam-pw"));
}

void test_dialog_password_refused(void **) {
    Asked asked;
    auto p = make_auth_plugin("dialog");
    std::string resp;
    AuthContext c = dialog_ctx("pam-pw", &asked, false);
    assert_refused(p->start(c, "\x04Password: ", resp, e_), Errc::auth, dialog_not_enabled, resp);
    set_via(c, Via::verified_tls);
    assert_refused(p->start(c, "\x05Password: ", resp, e_), Errc::auth, dialog_not_enabled, resp);
    set_via(c, Via::tcp);
    c.enable_cleartext = true;
    assert_refused(p->start(c, "\x04Password: ", resp, e_), Errc::auth, dialog_not_secure, resp);
    set_via(c, Via::unverified_tls);
    assert_refused(p->start(c, "\x04Password: ", resp, e_), Errc::auth, dialog_unverified, resp);
    set_via(c, Via::tcp);
    bool reply = true;
    assert_refused(p->more_data(c, "\x04Password: ", resp, reply, e_), Errc::auth, dialog_not_secure, resp);
    assert_false(reply);
    // Secret answers from the callback are held to the same rule: it is never asked.
    c.password = "";
    assert_refused(p->more_data(c, "\x04One-time code: ", resp, reply, e_), Errc::auth,
                   dialog_not_secure, resp);
    assert_int_equal(asked.calls, 0);
}

void test_dialog_questions(void **) {
    Asked asked;
    auto p = make_auth_plugin("dialog");
    std::string resp;
    Error err;
    // Ordinary questions need no cleartext consent: the callback answers them.
    AuthContext c = dialog_ctx("pam-pw", &asked, false);
    assert_errc(p->start(c, "\x02" "Favourite colour? ", resp, err), Errc::ok);
    assert_int_equal(asked.calls, 1);
    assert_int_equal(asked.echo, 1);
    assert_sv_equal(asked.prompt, "Favourite colour? ");
    assert_int_equal(asked.answer_size, dialog_answer_size);
    assert_sv_equal(resp, with_nul("blue"));
    // A NUL-terminated prompt, an empty one, a NUL inside.
    bool reply = false;
    asked.answer = "second";
    assert_errc(p->more_data(c, std::string("\x03Name:\0", 7), resp, reply, err), Errc::ok);
    assert_true(reply);
    assert_sv_equal(asked.prompt, "Name:");
    assert_sv_equal(resp, with_nul("second"));
    assert_errc(p->more_data(c, "\x02", resp, reply, err), Errc::ok);
    assert_sv_equal(asked.prompt, "");
    assert_errc(p->more_data(c, std::string("\x02" "ab\0cd", 6), resp, reply, err), Errc::ok);
    assert_sv_equal(asked.prompt, "ab");
    // An empty answer is an answer.
    asked.answer = "";
    assert_errc(p->more_data(c, "\x02" "Anything?", resp, reply, err), Errc::ok);
    assert_sv_equal(hex(resp), "00");
    assert_int_equal(asked.calls, 5);
}

void test_dialog_second_password_question(void **) {
    Asked asked;
    asked.answer = "123456";
    auto p = make_auth_plugin("dialog");
    std::string resp;
    Error err;
    AuthContext c = dialog_ctx("pam-pw", &asked);
    assert_errc(p->start(c, "\x04Password: ", resp, err), Errc::ok);
    assert_sv_equal(resp, with_nul("pam-pw"));
    assert_int_equal(asked.calls, 0);
    // The second secret question (a one-time code) goes to the callback, echo off.
    bool reply = false;
    assert_errc(p->more_data(c, "\x05Verification code: ", resp, reply, err), Errc::ok);
    assert_true(reply);
    assert_int_equal(asked.calls, 1);
    assert_int_equal(asked.echo, 0);
    assert_sv_equal(asked.prompt, "Verification code: ");
    assert_sv_equal(resp, with_nul("123456"));
    // Without a callback it cannot be answered.
    auto q = make_auth_plugin("dialog");
    AuthContext n = dialog_ctx("pam-pw", nullptr);
    assert_errc(q->start(n, "\x04Password: ", resp, err), Errc::ok);
    assert_refused(q->more_data(n, "\x04Password: ", resp, reply, e_), Errc::auth,
                   dialog_no_secret_answer, resp);
    // No password set: the callback is asked, echo off.
    Asked asked2;
    asked2.answer = "typed";
    auto r = make_auth_plugin("dialog");
    assert_errc(r->start(dialog_ctx("", &asked2), "\x04Password: ", resp, err), Errc::ok);
    assert_int_equal(asked2.echo, 0);
    assert_sv_equal(resp, with_nul("typed"));
    auto s = make_auth_plugin("dialog");
    assert_refused(s->start(dialog_ctx("", nullptr), "\x04Password: ", resp, e_), Errc::auth,
                   dialog_no_secret_answer, resp);
}

void test_dialog_refusals(void **) {
    std::string resp;
    bool reply = true;
    // No callback for an ordinary question.
    auto p = make_auth_plugin("dialog");
    assert_refused(p->start(dialog_ctx("pam-pw", nullptr), "\x02Name? ", resp, e_), Errc::auth,
                   dialog_no_callback, resp);
    assert_refused(p->more_data(dialog_ctx("pam-pw", nullptr), "\x03Name? ", resp, reply, e_),
                   Errc::auth, dialog_no_callback, resp);
    // The callback says no.
    Asked asked;
    asked.rc = 1;
    assert_refused(p->start(dialog_ctx("pam-pw", &asked), "\x02Name? ", resp, e_), Errc::auth,
                   "login aborted by the dialog callback", resp);
    asked.rc = -1;
    assert_refused(p->more_data(dialog_ctx("pam-pw", &asked), "\x02Name? ", resp, reply, e_),
                   Errc::auth, "login aborted by the dialog callback", resp);
    assert_false(reply);
    // Malformed questions.
    assert_refused(p->more_data(dialog_ctx("pam-pw", &asked), "", resp, reply, e_), Errc::protocol,
                   "dialog: empty question from the server", resp);
    for (unsigned type : {0u, 1u, 6u, 7u, 8u, 0x12u, 0x84u, 0xFFu}) {
        std::string q(1, static_cast<char>(type));
        q += "Question?";
        assert_refused(p->more_data(dialog_ctx("pam-pw", &asked), q, resp, reply, e_), Errc::protocol,
                       "dialog: unknown question type " + std::to_string(type) + " from the server",
                       resp);
        assert_refused(p->start(dialog_ctx("pam-pw", &asked), q, resp, e_), Errc::protocol,
                       "dialog: unknown question type " + std::to_string(type) + " from the server",
                       resp);
    }
}

void test_dialog_bounds(void **) {
    // A callback that fills the whole buffer without a NUL: the answer is cut.
    Asked asked;
    asked.overfill = true;
    auto p = make_auth_plugin("dialog");
    std::string resp;
    Error err;
    assert_errc(p->start(dialog_ctx("pam-pw", &asked), "\x02" "Essay: ", resp, err), Errc::ok);
    assert_int_equal(resp.size(), dialog_answer_size);
    assert_sv_equal(resp, std::string(dialog_answer_size - 1, 'A') + std::string(1, '\0'));
    // A very long prompt reaches the callback cut to 1 KiB.
    Asked asked2;
    std::string longq = "\x02" + std::string(5000, 'q');
    bool reply = false;
    auto q = make_auth_plugin("dialog");
    assert_errc(q->more_data(dialog_ctx("pam-pw", &asked2), unit::Exact(longq).view(), resp, reply, err), Errc::ok);
    assert_int_equal(asked2.prompt.size(), max_dialog_prompt);
    assert_sv_equal(asked2.prompt, std::string(max_dialog_prompt, 'q'));
    // Exactly 1 KiB and one byte less pass whole.
    for (std::size_t n : {max_dialog_prompt, max_dialog_prompt - 1}) {
        std::string exact = "\x02" + std::string(n, 'r');
        assert_errc(q->more_data(dialog_ctx("pam-pw", &asked2), unit::Exact(exact).view(), resp, reply, err),
                    Errc::ok);
        assert_int_equal(asked2.prompt.size(), n);
    }
}

// ------------------------------------------------------------ parsec

// From Python: hashlib.pbkdf2_hmac('sha512', pw, salt, 1024 << f, 32) as the
// seed of cryptography's Ed25519PrivateKey; salt byte i = i*11+5, server
// scramble i*13+1, client scramble i*17+9.
std::string parsec_salt() {
    std::string s(18, '\0');
    for (int i = 0; i < 18; ++i) s[i] = static_cast<char>(i * 11 + 5);
    return s;
}
std::string server_scramble() {
    std::string s(32, '\0');
    for (int i = 0; i < 32; ++i) s[i] = static_cast<char>(i * 13 + 1);
    return s;
}
std::string client_scramble() {
    std::string s(32, '\0');
    for (int i = 0; i < 32; ++i) s[i] = static_cast<char>(i * 17 + 9);
    return s;
}
std::string ext_salt(unsigned factor) {
    return "P" + std::string(1, static_cast<char>(factor)) + parsec_salt();
}

struct ParsecVector {
    std::string password;
    unsigned factor;
    const char *pk;
    const char *response;
};

const ParsecVector parsec_vectors[] = {
    {"parsec-pw", 0, "789341ec8974c62a25f60b302fca124bb72e55aaf42a176ddf525729d99c484b",
     "091a2b3c4d5e6f8091a2b3c4d5e6f708192a3b4c5d6e7f90a1b2c3d4e5f60718542fb6ec2fec697dd21dc3c7f23eb7f0"
     "c543b9678ee71846e2b06ef50ec29487c9e3d0e83400af6236887d49338620cbc722dec776213d10d1b3e2914b11af0c"},
    {"", 1, "990865ea3e19a4543eb742ea009592d9aeeb62faeec7e855afc02ca6a5f1eb71",
     "091a2b3c4d5e6f8091a2b3c4d5e6f708192a3b4c5d6e7f90a1b2c3d4e5f6071820cc2882ea1dd0c3512bd30707f5e6"
     "0fe3dfb8ead4c0e5ba09b3aa7905c02f5f313cabffd08fb2b20aa2c299a2eae3e4d91179f3ceeeb642144a1f0fd9efd307"},
    {"p\xC3\xA4ss", 3, "0903badfb6b4305446225d5b12fefb4bd3d14478b817ea1065ca643d52667bf5",
     "091a2b3c4d5e6f8091a2b3c4d5e6f708192a3b4c5d6e7f90a1b2c3d4e5f6071815aceaa2669c6e62573c00b372e674"
     "ee83ff023c6842b63277720b186c4dbc555447173b70adcd53e74156624e1f78af2741a63076b5546e4c8ca67a676ff303"},
};

void test_parsec_known_answers(void **) {
    assert_true(sodium_init() >= 0);
    for (const auto &v : parsec_vectors) {
        std::string resp;
        Error err;
        assert_errc(parsec_response(v.password, server_scramble(), ext_salt(v.factor), client_scramble(),
                                    resp, err),
                    Errc::ok);
        assert_sv_equal(hex(resp), v.response);
        // And the signature checks out against the independently derived key.
        std::string pk = unhex(v.pk);
        assert_true(verifies(std::string_view(resp).substr(32), server_scramble() + client_scramble(), pk));
        assert_false(verifies(std::string_view(resp).substr(32), client_scramble() + server_scramble(), pk));
    }
}

void test_parsec_plugin(void **) {
    const auto &v = parsec_vectors[0];
    std::string pk = unhex(v.pk);
    std::string first;
    for (int round = 0; round < 2; ++round) {
        auto p = make_auth_plugin("parsec");
        assert_non_null(p.get());
        assert_sv_equal(p->name(), "parsec");
        std::string resp = "junk";
        Error err;
        // The scramble gets an empty response: the request for the ext-salt.
        assert_errc(p->start(ctx_of(v.password), server_scramble(), resp, err), Errc::ok);
        assert_true(resp.empty());
        bool reply = false;
        assert_errc(p->more_data(ctx_of(v.password), unit::Exact(ext_salt(0)).view(), resp, reply, err), Errc::ok);
        assert_true(reply);
        assert_int_equal(resp.size(), 96);
        // Our random scramble, then the signature of both scrambles.
        std::string client = resp.substr(0, 32);
        assert_true(verifies(resp.substr(32), server_scramble() + client, pk));
        assert_false(verifies(resp.substr(32), server_scramble() + client, derived_public_key(v.password)));
        if (round == 0) first = client;
        else assert_true(client != first);
        assert_refused(p->more_data(ctx_of(v.password), ext_salt(0), resp, reply, e_), Errc::protocol,
                       "parsec: unexpected AuthMoreData packet from the server", resp);
    }
    // The scramble is exactly 32 bytes.
    auto p = make_auth_plugin("parsec");
    std::string resp;
    for (std::string s : {server_scramble().substr(0, 31), server_scramble() + std::string(1, '\0'),
                          std::string()})
        assert_refused(p->start(ctx_of("pw"), s, resp, e_), Errc::protocol,
                       "parsec: the server's scramble is not 32 bytes", resp);
    // No ext-salt before the scramble.
    bool reply = true;
    auto q = make_auth_plugin("parsec");
    assert_refused(q->more_data(ctx_of("pw"), ext_salt(0), resp, reply, e_), Errc::protocol,
                   "parsec: unexpected AuthMoreData packet from the server", resp);
}

void test_parsec_bad_ext_salt(void **) {
    const char *malformed =
        "parsec: malformed ext-salt from the server (expected 'P', an iteration factor and an "
        "18-byte salt)";
    auto through_plugin = [](std::string_view salt, std::string &resp, Error &err) {
        auto p = make_auth_plugin("parsec");
        Error ignored;
        assert_errc(p->start(ctx_of("pw"), server_scramble(), resp, ignored), Errc::ok);
        bool reply = true;
        Errc rc = p->more_data(ctx_of("pw"), salt, resp, reply, err);
        if (rc != Errc::ok) assert_false(reply);
        return rc;
    };
    // Every truncation is malformed; the empty one says so itself.
    unit::check_prefixes(ext_salt(0), [&](std::string_view s) {
        std::string resp = "junk";
        Error err;
        Errc rc = through_plugin(s, resp, err);
        assert_true(resp.empty());
        if (s.size() >= 1)
            assert_sv_equal(err.message, malformed);
        else
            assert_sv_equal(err.message, "parsec: empty ext-salt from the server");
        return rc;
    }, nullptr, "ext-salt");
    std::string resp;
    assert_refused(through_plugin(ext_salt(0) + "x", resp, e_), Errc::protocol, malformed, resp);
    std::string q = ext_salt(0);
    q[0] = 'Q';
    assert_refused(through_plugin(q, resp, e_), Errc::auth,
                   "parsec: the server asks for a key derivation other than PBKDF2 ('P'), which "
                   "mywire does not support",
                   resp);
    assert_refused(through_plugin(ext_salt(4), resp, e_), Errc::auth,
                   "parsec: the server asks for 1024 << 4 PBKDF2 iterations; mywire refuses more "
                   "than 1024 << 3 (too costly)",
                   resp);
    assert_refused(through_plugin(ext_salt(255), resp, e_), Errc::auth,
                   "parsec: the server asks for 1024 << 255 PBKDF2 iterations; mywire refuses "
                   "more than 1024 << 3 (too costly)",
                   resp);
    // The iteration factor is a byte, not a digit.
    assert_refused(through_plugin(ext_salt('0'), resp, e_), Errc::auth,
                   "parsec: the server asks for 1024 << 48 PBKDF2 iterations; mywire refuses "
                   "more than 1024 << 3 (too costly)",
                   resp);
}

// ------------------------------------------------------------ the table

// ------------------------------------------------------------ the transport rule

// What each transport lets the password-revealing plugins send: TLS that did
// not verify the server is no better than plain TCP for the password (a man
// in the middle terminates it), and the RSA fallback is not offered there
// (over TLS the server reads the answer as the password in clear).
void test_unverified_tls_gets_no_password(void **) {
    std::string path = tmp().write("pinned.pem", keys().spki);
    for (Via via : {Via::tcp, Via::unverified_tls, Via::verified_tls, Via::unix_socket}) {
        for (bool allow : {false, true}) {
            bool goes = via == Via::verified_tls || via == Via::unix_socket ||
                        (via == Via::unverified_tls && allow);
            std::string resp;
            Error err;
            bool reply = false;
            AuthContext c = ctx_of("mitm-me");
            set_via(c, via);
            c.allow_unverified_tls_password = allow;
            c.enable_cleartext = true;
            // caching_sha2_password, full authentication.
            auto cs = make_auth_plugin("caching_sha2_password");
            assert_errc(cs->start(c, nonce20(), resp, err), Errc::ok);
            if (goes) {
                assert_errc(cs->more_data(c, "\x04", resp, reply, err), Errc::ok);
                assert_sv_equal(resp, with_nul("mitm-me"));
            } else {
                assert_refused(cs->more_data(c, "\x04", resp, reply, e_), Errc::auth,
                               via == Via::tcp ? caching_needs : caching_unverified, resp);
            }
            // sha256_password.
            auto sh = make_auth_plugin("sha256_password");
            if (goes) {
                assert_errc(sh->start(c, nonce20(), resp, err), Errc::ok);
                assert_sv_equal(resp, with_nul("mitm-me"));
            } else {
                assert_refused(sh->start(c, nonce20(), resp, e_), Errc::auth,
                               via == Via::tcp ? sha256_needs : sha256_unverified, resp);
            }
            // The clear-text plugins, opted in.
            auto cl = make_auth_plugin("mysql_clear_password");
            auto dl = make_auth_plugin("dialog");
            if (goes) {
                assert_errc(cl->start(c, "", resp, err), Errc::ok);
                assert_sv_equal(resp, with_nul("mitm-me"));
                assert_errc(dl->start(c, "\x05Password: ", resp, err), Errc::ok);
                assert_sv_equal(resp, with_nul("mitm-me"));
            } else {
                assert_refused(cl->start(c, "", resp, e_), Errc::auth,
                               via == Via::tcp ? clear_not_secure : clear_unverified, resp);
                assert_refused(dl->start(c, "\x05Password: ", resp, e_), Errc::auth,
                               via == Via::tcp ? dialog_not_secure : dialog_unverified, resp);
            }
        }
    }
    // Unverified TLS with a pinned key or key fetching allowed: still no
    // password, no RSA blob, no key request.
    for (int k = 0; k < 2; ++k) {
        AuthContext c = ctx_of("mitm-me");
        set_via(c, Via::unverified_tls);
        if (k == 0) c.server_public_key_path = path;
        else c.get_server_public_key = true;
        std::string resp;
        Error err;
        bool reply = true;
        auto cs = make_auth_plugin("caching_sha2_password");
        assert_errc(cs->start(c, nonce20(), resp, err), Errc::ok);
        assert_refused(cs->more_data(c, "\x04", resp, reply, e_), Errc::auth, caching_unverified, resp);
        assert_false(reply);
        auto sh = make_auth_plugin("sha256_password");
        assert_refused(sh->start(c, nonce20(), resp, e_), Errc::auth, sha256_unverified, resp);
    }
    // The opt-in alone does not make plain TCP good enough.
    AuthContext c = ctx_of("mitm-me");
    c.allow_unverified_tls_password = true;
    c.enable_cleartext = true;
    std::string resp;
    auto cl = make_auth_plugin("mysql_clear_password");
    assert_refused(cl->start(c, "", resp, e_), Errc::auth, clear_not_secure, resp);
    // Nothing recoverable: native and ed25519 answer over unverified TLS as anywhere.
    set_via(c, Via::unverified_tls);
    c.allow_unverified_tls_password = false;
    Error err;
    auto nat = make_auth_plugin("mysql_native_password");
    assert_errc(nat->start(c, challenge20, resp, err), Errc::ok);
    assert_sv_equal(resp, reference_native("mitm-me", challenge20));
    auto ed = make_auth_plugin("client_ed25519");
    assert_errc(ed->start(c, std::string(32, 'c'), resp, err), Errc::ok);
    assert_int_equal(resp.size(), 64);
}

void test_plugin_lookup(void **) {
    const std::vector<std::string_view> want = {"mysql_native_password", "caching_sha2_password",
                                                "sha256_password",       "client_ed25519",
                                                "parsec",                "mysql_clear_password",
                                                "dialog"};
    assert_int_equal(builtin_auth_plugins().size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        assert_sv_equal(builtin_auth_plugins()[i], want[i]);
        auto p = make_auth_plugin(want[i]);
        assert_non_null(p.get());
        assert_sv_equal(p->name(), want[i]);
    }
    assert_null(make_auth_plugin("mysql_old_password").get());
    assert_null(make_auth_plugin("").get());
    assert_null(make_auth_plugin("mysql_native_passwor").get());
    assert_null(make_auth_plugin("mysql_native_password2").get());
    assert_null(make_auth_plugin("Dialog").get());
    assert_null(make_auth_plugin("auth_gssapi_client").get());
    assert_null(make_auth_plugin(std::string_view("client_ed25519\0", 15)).get());
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_known_vector),
        cmocka_unit_test(test_native_against_reference),
        cmocka_unit_test(test_native_empty_password),
        cmocka_unit_test(test_native_plugin),
        cmocka_unit_test(test_ed25519_verifies),
        cmocka_unit_test(test_ed25519_is_standard_for_32_byte_passwords),
        cmocka_unit_test(test_ed25519_plugin),
        cmocka_unit_test(test_caching_sha2_known_vectors),
        cmocka_unit_test(test_caching_sha2_start),
        cmocka_unit_test(test_caching_sha2_fast_path),
        cmocka_unit_test(test_caching_sha2_full_secure),
        cmocka_unit_test(test_caching_sha2_full_refused),
        cmocka_unit_test(test_caching_sha2_empty_password_full),
        cmocka_unit_test(test_caching_sha2_pinned_key),
        cmocka_unit_test(test_caching_sha2_fetch_key),
        cmocka_unit_test(test_caching_sha2_unexpected),
        cmocka_unit_test(test_sha256_password),
        cmocka_unit_test(test_sha256_pinned_and_fetched),
        cmocka_unit_test(test_rsa_bad_server_keys),
        cmocka_unit_test(test_rsa_password_length),
        cmocka_unit_test(test_key_file_errors),
        cmocka_unit_test(test_clear_password),
        cmocka_unit_test(test_dialog_password_question),
        cmocka_unit_test(test_dialog_password_refused),
        cmocka_unit_test(test_dialog_questions),
        cmocka_unit_test(test_dialog_second_password_question),
        cmocka_unit_test(test_dialog_refusals),
        cmocka_unit_test(test_dialog_bounds),
        cmocka_unit_test(test_parsec_known_answers),
        cmocka_unit_test(test_parsec_plugin),
        cmocka_unit_test(test_parsec_bad_ext_salt),
        cmocka_unit_test(test_unverified_tls_gets_no_password),
        cmocka_unit_test(test_plugin_lookup),
        cmocka_unit_test(test_wipe),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
