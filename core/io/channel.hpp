// The byte stream under the packet layer: a socket, optionally TLS, optionally
// the compressed protocol on top. The blocking driver's only way to move
// bytes; it owns the socket and moves ciphertext between it and the sans-io
// TLS engine and compression codec.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/socket.hpp"
#include "io/tls.hpp"
#include "proto/compress.hpp"

namespace mywire::io {

class Channel {
public:
    Socket socket;
    TlsInfo tls_info;

    // Plain bytes of the packet stream into `plain` (after plain.prepare()).
    Errc read_some(proto::ReadBuffer &plain, Deadline d, Error &err);
    Errc write_all(const std::uint8_t *data, std::size_t n, Deadline d, Error &err);

    // Run the TLS handshake (the SSLRequest has been sent).
    Errc start_tls(const Options &o, int mode, const std::string &host, Deadline d, Error &err);
    // From now on both directions use the compressed protocol.
    void start_compression(proto::Compression algo, int level);
    proto::Compression compression() const {
        return codec_ ? codec_->algorithm() : proto::Compression::none;
    }
    // A new command: compressed sequence ids restart.
    void begin_command() {
        if (codec_) codec_->reset_sequence();
    }
    void close();

private:
    // One layer down from the compressed protocol: TLS or the socket.
    Errc raw_read(proto::ReadBuffer &buf, Deadline d, Error &err);
    Errc raw_write(const std::uint8_t *data, std::size_t n, Deadline d, Error &err);

    std::unique_ptr<TlsEngine> tls_;
    std::unique_ptr<proto::CompressedCodec> codec_;
    proto::ReadBuffer compressed_{64 * 1024};  // compressed bytes not yet decoded
    std::vector<std::uint8_t> wbuf_;            // compressed bytes to send
};

}  // namespace mywire::io
