#include "io/channel.hpp"

#include <algorithm>

namespace mywire::io {

Errc Channel::raw_read(proto::ReadBuffer &buf, Deadline d, Error &err) {
    if (!tls_ || !tls_->established()) return socket.read_some(buf, d, err);
    for (;;) {
        std::size_t got = 0;
        if (Errc rc = tls_->read(buf, got, err); rc != Errc::ok) return rc;
        if (got) return Errc::ok;
        proto::ReadBuffer &in = tls_->incoming();
        in.prepare(32 * 1024);
        if (Errc rc = socket.read_some(in, d, err); rc != Errc::ok) return rc;
    }
}

Errc Channel::raw_write(const std::uint8_t *data, std::size_t n, Deadline d, Error &err) {
    if (!tls_ || !tls_->established()) return socket.write_all(data, n, d, err);
    std::vector<std::uint8_t> &out = tls_->outgoing();
    out.clear();
    Errc rc = tls_->write(data, n, err);
    if (rc == Errc::ok) rc = socket.write_all(out.data(), out.size(), d, err);
    out.clear();
    return rc;
}

// Decompression is driven by the packet reader, not by what arrived: each
// call inflates compressed packets one at a time only until `plain` has grown
// (the reader asks again when it needs more), and reads from the transport
// only when no whole compressed packet is pending. So a call adds at most one
// compressed packet's plain bytes (under 16 MiB) to `plain`, and `compressed_`
// holds at most one partial packet plus one read, whatever was sent at once.
Errc Channel::read_some(proto::ReadBuffer &plain, Deadline d, Error &err) {
    if (!codec_) return raw_read(plain, d, err);
    const std::size_t before = plain.pending().size();
    for (;;) {
        switch (codec_->decode(compressed_, plain, err)) {
        case proto::FrameStatus::packet:
            if (plain.pending().size() != before) return Errc::ok;
            continue;  // a stored empty packet: nothing for the reader yet
        case proto::FrameStatus::error:
            return err.code;  // protocol, or nomem
        case proto::FrameStatus::need_more:
            break;
        }
        compressed_.prepare(std::max<std::size_t>(codec_->need_hint(), 16 * 1024));
        if (Errc rc = raw_read(compressed_, d, err); rc != Errc::ok) return rc;
    }
}

Errc Channel::write_all(const std::uint8_t *data, std::size_t n, Deadline d, Error &err) {
    if (!codec_) return raw_write(data, n, d, err);
    wbuf_.clear();
    if (Errc rc = codec_->encode(data, n, wbuf_, err); rc != Errc::ok) return rc;
    Errc rc = raw_write(wbuf_.data(), wbuf_.size(), d, err);
    if (wbuf_.capacity() > (1u << 20)) std::vector<std::uint8_t>().swap(wbuf_);
    return rc;
}

Errc Channel::start_tls(const Options &o, int mode, const std::string &host, Deadline d, Error &err) {
    if (!tls_) tls_ = std::make_unique<TlsEngine>();
    if (Errc rc = tls_->init(o, mode, host, tls_info, err); rc != Errc::ok) return rc;
    for (;;) {
        TlsEngine::Step step = tls_->handshake(tls_info, err);
        std::vector<std::uint8_t> &out = tls_->outgoing();
        if (!out.empty() && step != TlsEngine::Step::error) {
            Errc rc = socket.write_all(out.data(), out.size(), d, err);
            out.clear();
            if (rc != Errc::ok) return rc;
        }
        switch (step) {
        case TlsEngine::Step::done:
            return Errc::ok;
        case TlsEngine::Step::error:
            return Errc::tls;
        case TlsEngine::Step::want_read: {
            proto::ReadBuffer &in = tls_->incoming();
            in.prepare(16 * 1024);
            if (Errc rc = socket.read_some(in, d, err); rc != Errc::ok) {
                if (tls_info.failure == MYWIRE_TLS_FAILURE_NONE) tls_info.failure = MYWIRE_TLS_FAILURE_HANDSHAKE;
                if (rc == Errc::lost)
                    err.set(Errc::tls, "TLS handshake failed: the server closed the connection");
                return err.code;
            }
            break;
        }
        }
    }
}

void Channel::start_compression(proto::Compression algo, int level) {
    codec_ = std::make_unique<proto::CompressedCodec>(algo, level);
}

void Channel::close() {
    socket.close();
    tls_.reset();
    codec_.reset();
    compressed_ = proto::ReadBuffer(64 * 1024);
    wbuf_.clear();
}

}  // namespace mywire::io
