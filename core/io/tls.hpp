// TLS over memory buffers (OpenSSL). The engine never touches a socket:
// ciphertext from the server is fed into incoming(), ciphertext to send is
// taken from outgoing(). The blocking driver (io/channel) moves the bytes;
// a non-blocking driver can do the same from an event loop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "options.hpp"
#include "proto/errors.hpp"
#include "proto/framing.hpp"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace mywire::io {

// What a connection reports about its TLS session.
struct TlsInfo {
    bool active = false;
    bool verified = false;  // chain (and name) verified, or the fingerprint matched
    std::string version;
    std::string cipher;
    int failure = tls_failure::none;  // why the last connect failed in TLS
};

class TlsEngine {
public:
    TlsEngine() = default;
    TlsEngine(const TlsEngine &) = delete;
    TlsEngine &operator=(const TlsEngine &) = delete;
    ~TlsEngine();

    // Set up a client session for `mode` (MYWIRE_SSL_MODE_*, resolved) to
    // `host` (what the user connected to: a name, an IP address literal, or
    // "localhost" for a unix socket). Errors are Errc::tls with
    // info.failure = MYWIRE_TLS_FAILURE_CONFIG.
    Errc init(const Options &o, int mode, const std::string &host, TlsInfo &info, Error &err);

    enum class Step { done, want_read, error };
    // Advance the handshake. After each call, send outgoing() if not empty.
    // want_read: feed more bytes from the server into incoming(). done: the
    // session is verified as the mode asks and `info` is filled in.
    Step handshake(TlsInfo &info, Error &err);

    // Encrypt plaintext into outgoing().
    Errc write(const std::uint8_t *data, std::size_t n, Error &err);
    // Decrypt what incoming() holds into `plain` (after plain.prepare()).
    // Sets `got` to the bytes added; 0 means more ciphertext is needed.
    Errc read(proto::ReadBuffer &plain, std::size_t &got, Error &err);

    proto::ReadBuffer &incoming() { return in_; }
    std::vector<std::uint8_t> &outgoing() { return out_; }
    bool established() const { return established_; }
    void reset();

private:
    friend struct TlsBio;
    Errc config_error(TlsInfo &info, Error &err, const std::string &what);
    Step handshake_failed(TlsInfo &info, Error &err);
    Step check_peer(TlsInfo &info, Error &err);

    SSL_CTX *ctx_ = nullptr;
    SSL *ssl_ = nullptr;
    proto::ReadBuffer in_{32 * 1024};
    std::vector<std::uint8_t> out_;
    int mode_ = 0;
    std::string fingerprint_;  // 32 bytes, or empty
    std::string host_;
    bool established_ = false;
    bool first_checked_ = false;
};

}  // namespace mywire::io
