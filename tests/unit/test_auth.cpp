// Authentication computations, checked against independent implementations:
// OpenSSL's one-shot EVP_Digest for mysql_native_password, libsodium's
// standard Ed25519 for client_ed25519.
#include "proto/auth.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>
#include <string>

#include "unit.hpp"

using namespace mywire::proto;
using mywire::Error;
using unit::Errc;

namespace {

const std::string challenge20 = "abcdefghij0123456789";

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
    assert_errc(p->start(AuthContext{"", false}, "short", resp, err), Errc::ok);
    assert_int_equal(resp.size(), 0);
}

void test_native_plugin(void **) {
    auto p = make_auth_plugin("mysql_native_password");
    assert_non_null(p.get());
    assert_sv_equal(p->name(), "mysql_native_password");
    std::string resp;
    Error err;
    assert_errc(p->start(AuthContext{"pw", false}, challenge20, resp, err), Errc::ok);
    assert_sv_equal(hex(resp), hex(reference_native("pw", challenge20)));
    // A challenge shorter than 20 bytes cannot be answered.
    assert_errc(p->start(AuthContext{"pw", false}, challenge20.substr(0, 19), resp, err), Errc::protocol);
    assert_errc(err.code, Errc::protocol);
    // AuthMoreData is not part of this plugin.
    bool reply = true;
    Error err2;
    assert_errc(p->more_data(AuthContext{"pw", false}, "x", resp, reply, err2), Errc::protocol);
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
    assert_errc(p->start(AuthContext{"ed-pw", false}, c, resp, err), Errc::ok);
    assert_true(verifies(resp, c, derived_public_key("ed-pw")));
    // The challenge must be exactly 32 bytes.
    assert_errc(p->start(AuthContext{"ed-pw", false}, c.substr(0, 31), resp, err), Errc::protocol);
    assert_errc(p->start(AuthContext{"ed-pw", false}, c + "x", resp, err), Errc::protocol);
}

void test_plugin_lookup(void **) {
    assert_null(make_auth_plugin("mysql_old_password").get());
    assert_null(make_auth_plugin("").get());
    assert_null(make_auth_plugin("mysql_native_passwor").get());
    assert_null(make_auth_plugin("mysql_native_password2").get());
    assert_null(make_auth_plugin(std::string_view("client_ed25519\0", 15)).get());
}

void test_wipe(void **) {
    std::string secret = "top secret";
    wipe(secret);
    assert_true(secret.empty());
    std::string empty;
    wipe(empty);
    assert_true(empty.empty());
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
        cmocka_unit_test(test_plugin_lookup),
        cmocka_unit_test(test_wipe),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
