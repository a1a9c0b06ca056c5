// The transport stack between the socket and the packet layer: TLS (the
// sans-io engine of io/tls), the compressed protocol (proto/compress) and the
// buffers between them, behind one object that takes bytes in, hands bytes
// out and remembers a partial write. It makes no system call: the driver
// (core/connection.cpp) moves bytes between it and the socket, blocking or
// not, and runs the TLS handshake as steps.
//
// Read path:  socket -> raw_input() -> [TLS decrypt] -> [decompress] -> plain
// Write path: plain packets -> send() -> [compress] -> [TLS encrypt] -> output()
//
// Decompression is driven by the packet reader, not by what arrived: pump()
// inflates one compressed packet at a time and stops as soon as the plain
// buffer has grown, and raw_input() is asked for only when no whole
// compressed packet is pending. So the plain buffer gains at most one
// compressed packet's worth (under 16 MiB) per pump, and the compressed buffer
// holds at most one partial packet plus one read, whatever was sent at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/tls.hpp"
#include "proto/compress.hpp"
#include "proto/framing.hpp"

namespace mywire::io {

class Transport {
public:
    // ------------------------------------------------------------ output
    // Queue plain packet bytes (wbuf) for sending, through the codec and TLS.
    // wbuf is left empty (its storage may be swapped with the output's).
    Errc send(std::vector<std::uint8_t> &wbuf, Error &err);
    bool has_output() const { return out_pos_ < out_.size(); }
    const std::uint8_t *output() const { return out_.data() + out_pos_; }
    std::size_t output_size() const { return out_.size() - out_pos_; }
    // n bytes of output() reached the socket.
    void consumed(std::size_t n);
    // Wipe output bytes once sent (they may carry a password: the login).
    void set_wipe_output(bool on) { wipe_output_ = on; }

    // ------------------------------------------------------------- input
    // The buffer the socket's bytes go into (prepared for at least some
    // bytes): TLS's ciphertext buffer, the compressed buffer, or `plain`
    // itself when there is neither (no copy). plain_hint: what the packet
    // reader lacks.
    proto::ReadBuffer &raw_input(proto::ReadBuffer &plain, std::size_t plain_hint);
    // Move bytes that arrived up the stack into `plain`: `grew` tells whether
    // plain gained bytes. Errors: TLS alerts (tls), bad compressed packets
    // (protocol), nomem.
    Errc pump(proto::ReadBuffer &plain, bool &grew, Error &err);
    // Whether bytes that raw_input() received are still below `plain`.
    bool has_pending_input() const;

    // --------------------------------------------------------------- TLS
    Errc start_tls(const Options &o, int mode, const std::string &host, TlsInfo &info, Error &err);
    enum class Handshake { done, want_read, error };
    // One step of the TLS handshake; its bytes to send land in output().
    Handshake handshake(TlsInfo &info, Error &err);
    bool tls_active() const { return tls_ && tls_->established(); }
    bool in_handshake() const { return tls_ && !tls_->established(); }

    // ------------------------------------------------------- compression
    void start_compression(proto::Compression algo, int level);
    proto::Compression compression() const {
        return codec_ ? codec_->algorithm() : proto::Compression::none;
    }
    // A new command: compressed sequence ids restart (both directions).
    void begin_command() {
        if (codec_) codec_->reset_sequence();
    }
    // The reply of a pipelined command starts: compressed ids restart at
    // what follows that command's request.
    void expect_reply_sequence(std::uint8_t seq) {
        if (codec_) codec_->set_sequence(seq);
    }
    std::uint8_t sequence() const { return codec_ ? codec_->sequence() : 0; }

    // Forget everything (after close or before a new connect).
    void reset();

private:
    void append_output(const std::uint8_t *p, std::size_t n);

    std::unique_ptr<TlsEngine> tls_;
    std::unique_ptr<proto::CompressedCodec> codec_;
    proto::ReadBuffer compressed_{64 * 1024};  // compressed bytes not yet decoded
    std::vector<std::uint8_t> cbuf_;           // compressed bytes on their way to TLS
    std::vector<std::uint8_t> out_;            // bytes for the socket
    std::size_t out_pos_ = 0;                  // how much of out_ was sent
    bool wipe_output_ = false;
};

}  // namespace mywire::io
