#include "io/transport.hpp"

#include <algorithm>

#include "proto/wipe.hpp"

namespace mywire::io {

void Transport::append_output(const std::uint8_t *p, std::size_t n) {
    if (out_pos_ == out_.size()) {
        out_.clear();
        out_pos_ = 0;
    }
    out_.insert(out_.end(), p, p + n);
}

Errc Transport::send(std::vector<std::uint8_t> &wbuf, Error &err) {
    if (wbuf.empty()) return Errc::ok;
    const std::vector<std::uint8_t> *plain = &wbuf;
    if (codec_) {
        cbuf_.clear();
        if (Errc rc = codec_->encode(wbuf.data(), wbuf.size(), cbuf_, err); rc != Errc::ok) return rc;
        plain = &cbuf_;
    }
    if (tls_ && tls_->established()) {
        std::vector<std::uint8_t> &enc = tls_->outgoing();
        enc.clear();
        Errc rc = tls_->write(plain->data(), plain->size(), err);
        if (rc == Errc::ok) append_output(enc.data(), enc.size());
        enc.clear();
        if (rc != Errc::ok) return rc;
    } else if (plain == &wbuf && !has_output()) {
        // The common case, no copy: wbuf's bytes become the output.
        out_.swap(wbuf);
        out_pos_ = 0;
    } else {
        append_output(plain->data(), plain->size());
    }
    if (wipe_output_ && plain == &wbuf)
        proto::wipe(wbuf);
    else
        wbuf.clear();
    if (cbuf_.capacity() > (1u << 20)) std::vector<std::uint8_t>().swap(cbuf_);
    return Errc::ok;
}

void Transport::consumed(std::size_t n) {
    out_pos_ += n;
    if (out_pos_ < out_.size()) return;
    if (wipe_output_)
        proto::wipe(out_);
    else
        out_.clear();
    out_pos_ = 0;
    if (out_.capacity() > (4u << 20)) std::vector<std::uint8_t>().swap(out_);  // after a huge query
}

proto::ReadBuffer &Transport::raw_input(proto::ReadBuffer &plain, std::size_t plain_hint) {
    if (tls_) {
        proto::ReadBuffer &in = tls_->incoming();
        in.prepare(32 * 1024);
        return in;
    }
    if (codec_) {
        compressed_.prepare(std::max<std::size_t>(codec_->need_hint(), 16 * 1024));
        return compressed_;
    }
    plain.prepare(std::max<std::size_t>(plain_hint, 16 * 1024));
    return plain;
}

bool Transport::has_pending_input() const {
    if (tls_ && !tls_->incoming().pending().empty()) return true;
    return codec_ && !compressed_.pending().empty();
}

Errc Transport::pump(proto::ReadBuffer &plain, bool &grew, Error &err) {
    grew = false;
    const bool tls = tls_ && tls_->established();
    if (!codec_) {
        if (!tls) return Errc::ok;  // the socket's bytes went straight into plain
        plain.prepare(16 * 1024);
        std::size_t got = 0;
        Errc rc = tls_->read(plain, got, err);
        grew = got > 0;
        return rc;
    }
    const std::size_t before = plain.pending().size();
    for (;;) {
        switch (codec_->decode(compressed_, plain, err)) {
        case proto::FrameStatus::packet:
            if (plain.pending().size() != before) {
                grew = true;
                return Errc::ok;
            }
            continue;  // a stored empty packet: nothing for the reader yet
        case proto::FrameStatus::error:
            return err.code;  // protocol, or nomem
        case proto::FrameStatus::need_more:
            break;
        }
        if (!tls) return Errc::ok;  // more compressed bytes from the socket
        compressed_.prepare(std::max<std::size_t>(codec_->need_hint(), 16 * 1024));
        std::size_t got = 0;
        if (Errc rc = tls_->read(compressed_, got, err); rc != Errc::ok) return rc;
        if (!got) return Errc::ok;  // more ciphertext from the socket
    }
}

Errc Transport::start_tls(const Options &o, int mode, const std::string &host, TlsInfo &info, Error &err) {
    if (!tls_) tls_ = std::make_unique<TlsEngine>();
    return tls_->init(o, mode, host, info, err);
}

Transport::Handshake Transport::handshake(TlsInfo &info, Error &err) {
    TlsEngine::Step step = tls_->handshake(info, err);
    std::vector<std::uint8_t> &out = tls_->outgoing();
    if (!out.empty() && step != TlsEngine::Step::error) append_output(out.data(), out.size());
    out.clear();
    switch (step) {
    case TlsEngine::Step::done: return Handshake::done;
    case TlsEngine::Step::want_read: return Handshake::want_read;
    default: return Handshake::error;
    }
}

void Transport::start_compression(proto::Compression algo, int level) {
    codec_ = std::make_unique<proto::CompressedCodec>(algo, level);
}

void Transport::reset() {
    tls_.reset();
    codec_.reset();
    compressed_ = proto::ReadBuffer(64 * 1024);
    cbuf_.clear();
    if (wipe_output_) proto::wipe(out_);
    out_.clear();
    out_pos_ = 0;
    wipe_output_ = false;
}

}  // namespace mywire::io
