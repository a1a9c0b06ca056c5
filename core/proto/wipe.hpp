// The one way secrets are wiped: OPENSSL_cleanse, which the compiler cannot
// drop as a dead store. Strings and vectors are wiped over their whole
// capacity, not just their size: bytes of an earlier, longer secret (or of
// the buffer a move handed back) may still sit past the end.
#pragma once

#include <openssl/crypto.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mywire::proto {

inline void wipe(void *p, std::size_t n) noexcept {
    if (p && n) OPENSSL_cleanse(p, n);
}

// Wipes and empties the string (its buffer is kept).
inline void wipe(std::string &s) noexcept {
    wipe(s.data(), s.capacity());
    s.clear();
}

// Wipes and empties the vector (its buffer is kept).
inline void wipe(std::vector<std::uint8_t> &v) noexcept {
    wipe(v.data(), v.capacity());
    v.clear();
}

// Wipes a string when the scope ends, however it ends.
class WipeOnExit {
public:
    explicit WipeOnExit(std::string &s) noexcept : s_(s) {}
    WipeOnExit(const WipeOnExit &) = delete;
    WipeOnExit &operator=(const WipeOnExit &) = delete;
    ~WipeOnExit() { wipe(s_); }

private:
    std::string &s_;
};

// A string that holds a secret (a password, a key's passphrase): wiped when
// destroyed, before it is overwritten, and (the source) after a move. Use
// assign() or = to change it; std::string's other mutators do not wipe what
// they free.
class SecretString : public std::string {
public:
    SecretString() = default;
    SecretString(std::string_view v) : std::string(v) {}
    SecretString(const SecretString &) = default;
    SecretString(SecretString &&o) noexcept : std::string(std::move(static_cast<std::string &>(o))) {
        wipe(o);
    }
    SecretString &operator=(const SecretString &o) {
        if (this != &o) assign(o);
        return *this;
    }
    SecretString &operator=(SecretString &&o) noexcept {
        if (this != &o) {
            wipe(*this);
            std::string::operator=(std::move(static_cast<std::string &>(o)));
            wipe(o);
        }
        return *this;
    }
    SecretString &operator=(std::string_view v) { return assign(v); }
    SecretString &assign(std::string_view v) {
        if (v.size() > capacity()) {
            // Growing frees the old buffer: wipe it first.
            wipe(*this);
            std::string bigger;
            bigger.reserve(v.size());
            bigger.assign(v);
            std::string::swap(bigger);
            wipe(bigger);
        } else {
            wipe(*this);
            std::string::assign(v);
        }
        return *this;
    }
    ~SecretString() { wipe(*this); }
};

}  // namespace mywire::proto
