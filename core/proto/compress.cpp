#include "proto/compress.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

namespace mywire::proto {

namespace {

std::size_t get24(const std::uint8_t *p) {
    return p[0] | (std::size_t(p[1]) << 8) | (std::size_t(p[2]) << 16);
}

void put24(std::uint8_t *p, std::size_t v) {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
    p[2] = static_cast<std::uint8_t>(v >> 16);
}

Errc more_than_announced(Error &err, std::size_t want) {
    return err.set(Errc::protocol, "compressed packet decompresses to more than the announced " +
                                       std::to_string(want) + " bytes");
}

Errc fewer_than_announced(Error &err, std::size_t got, std::size_t want) {
    return err.set(Errc::protocol, "compressed packet decompresses to " + std::to_string(got) +
                                       " bytes, not the announced " + std::to_string(want));
}

Errc trailing_bytes(Error &err, std::size_t n, const char *what) {
    return err.set(Errc::protocol, std::to_string(n) + " bytes after the end of the " + what +
                                       " in compressed packet");
}

}  // namespace

CompressedCodec::CompressedCodec(Compression algo, int zstd_level)
    : algo_(algo), zstd_level_(std::clamp(zstd_level, ZSTD_minCLevel(), ZSTD_maxCLevel())) {}

CompressedCodec::~CompressedCodec() {
    if (deflater_) {
        deflateEnd(deflater_);
        delete deflater_;
    }
    if (inflater_) {
        inflateEnd(inflater_);
        delete inflater_;
    }
    ZSTD_freeCCtx(cctx_);  // both accept NULL
    ZSTD_freeDCtx(dctx_);
}

Errc CompressedCodec::compress_chunk(const std::uint8_t *src, std::size_t n, std::uint8_t *dst,
                                     std::size_t &packed, Error &err) {
    packed = 0;
    if (algo_ == Compression::zlib) {
        if (!deflater_) {
            auto *zs = new (std::nothrow) z_stream{};
            if (!zs || deflateInit(zs, Z_DEFAULT_COMPRESSION) != Z_OK) {
                delete zs;
                return err.set(Errc::nomem, "out of memory for the zlib compressor");
            }
            deflater_ = zs;
        } else {
            deflateReset(deflater_);
        }
        deflater_->next_in = src;
        deflater_->avail_in = static_cast<uInt>(n);
        deflater_->next_out = dst;
        deflater_->avail_out = static_cast<uInt>(n - 1);
        // Anything but the end of the stream means it did not fit in n - 1
        // bytes (or failed): then the chunk goes stored.
        if (deflate(deflater_, Z_FINISH) == Z_STREAM_END) packed = n - 1 - deflater_->avail_out;
        return Errc::ok;
    }
    if (algo_ == Compression::zstd) {
        if (!cctx_ && !(cctx_ = ZSTD_createCCtx()))
            return err.set(Errc::nomem, "out of memory for the zstd compressor");
        // One frame with its content size in the header, as MySQL writes it.
        // An error here is dstSize_tooSmall (it did not shrink) in practice;
        // storing is correct on the wire whatever the cause.
        std::size_t r = ZSTD_compressCCtx(cctx_, dst, n - 1, src, n, zstd_level_);
        if (!ZSTD_isError(r)) packed = r;
    }
    return Errc::ok;
}

Errc CompressedCodec::encode(const std::uint8_t *data, std::size_t n, std::vector<std::uint8_t> &out,
                             Error &err) {
    while (n > 0) {
        std::size_t chunk = std::min(n, max_frame);
        std::size_t start = out.size();
        out.resize(start + compressed_header_size + chunk);
        std::uint8_t *p = out.data() + start;
        std::size_t packed = 0;
        if (chunk >= min_compress_length && algo_ != Compression::none) {
            if (Errc rc = compress_chunk(data, chunk, p + compressed_header_size, packed, err);
                rc != Errc::ok) {
                out.resize(start);
                return rc;
            }
        }
        if (packed) {
            put24(p, packed);
            put24(p + 4, chunk);
            out.resize(start + compressed_header_size + packed);
        } else {
            std::memcpy(p + compressed_header_size, data, chunk);
            put24(p, chunk);
            put24(p + 4, 0);
        }
        p[3] = seq_++;
        data += chunk;
        n -= chunk;
    }
    return Errc::ok;
}

// Inflate exactly `want` bytes: the output buffer is bounded by the announced
// length, the stream must end there and use all of the payload.
Errc CompressedCodec::inflate_into(const std::uint8_t *src, std::size_t n, std::uint8_t *dst,
                                   std::size_t want, Error &err) {
    if (!inflater_) {
        auto *zs = new (std::nothrow) z_stream{};
        if (!zs || inflateInit(zs) != Z_OK) {
            delete zs;
            return err.set(Errc::nomem, "out of memory for the zlib decompressor");
        }
        inflater_ = zs;
    } else {
        inflateReset(inflater_);
    }
    z_stream *zs = inflater_;
    zs->next_in = src;
    zs->avail_in = static_cast<uInt>(n);
    zs->next_out = dst;
    zs->avail_out = static_cast<uInt>(want);
    int rc = inflate(zs, Z_FINISH);
    std::size_t produced = want - zs->avail_out;
    if (rc == Z_BUF_ERROR && zs->avail_out == 0) {
        // Output full before the end: more data follows, or the stream is
        // cut right here. One spare byte tells which.
        std::uint8_t extra;
        zs->next_out = &extra;
        zs->avail_out = 1;
        rc = inflate(zs, Z_FINISH);
        if (zs->avail_out == 0) return more_than_announced(err, want);
    }
    switch (rc) {
    case Z_STREAM_END:
        if (produced != want) return fewer_than_announced(err, produced, want);
        if (zs->avail_in) return trailing_bytes(err, zs->avail_in, "zlib stream");
        return Errc::ok;
    case Z_BUF_ERROR:  // all input used, no end of stream
        return err.set(Errc::protocol, "truncated zlib stream in compressed packet");
    case Z_MEM_ERROR:
        return err.set(Errc::nomem, "out of memory in the zlib decompressor");
    default:  // Z_DATA_ERROR, Z_NEED_DICT (no dictionary is ever agreed)
        return err.set(Errc::protocol, "corrupt zlib stream in compressed packet");
    }
}

// Decompress one zstd frame into exactly `want` bytes. The frame's declared
// size is checked before any work, so a frame claiming more than the header
// announced is refused without decompressing it.
Errc CompressedCodec::zstd_into(const std::uint8_t *src, std::size_t n, std::uint8_t *dst,
                                std::size_t want, Error &err) {
    if (!dctx_ && !(dctx_ = ZSTD_createDCtx()))
        return err.set(Errc::nomem, "out of memory for the zstd decompressor");
    // One whole frame and nothing after it (ZSTD_decompressDCtx would go on
    // into further frames). This walks the block headers only.
    std::size_t frame = ZSTD_findFrameCompressedSize(src, n);
    if (ZSTD_isError(frame))
        return err.set(Errc::protocol, ZSTD_getErrorCode(frame) == ZSTD_error_srcSize_wrong
                                           ? "truncated zstd frame in compressed packet"
                                           : "corrupt zstd frame in compressed packet");
    if (frame != n) return trailing_bytes(err, n - frame, "zstd frame");
    unsigned long long declared = ZSTD_getFrameContentSize(src, n);
    if (declared == ZSTD_CONTENTSIZE_ERROR)
        return err.set(Errc::protocol, "corrupt zstd frame in compressed packet");
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != want)
        return err.set(Errc::protocol, "zstd frame declares " + std::to_string(declared) +
                                           " bytes, not the announced " + std::to_string(want));
    std::size_t r = ZSTD_decompressDCtx(dctx_, dst, want, src, n);
    if (ZSTD_isError(r)) {
        switch (ZSTD_getErrorCode(r)) {
        case ZSTD_error_dstSize_tooSmall:
            return more_than_announced(err, want);
        case ZSTD_error_srcSize_wrong:
            return err.set(Errc::protocol, "truncated zstd frame in compressed packet");
        case ZSTD_error_memory_allocation:
            return err.set(Errc::nomem, "out of memory in the zstd decompressor");
        default:
            return err.set(Errc::protocol, "corrupt zstd frame in compressed packet");
        }
    }
    if (r != want) return fewer_than_announced(err, r, want);
    return Errc::ok;
}

std::size_t CompressedCodec::missing(const ReadBuffer &in) {
    std::string_view pending = in.pending();
    if (pending.size() < compressed_header_size) return compressed_header_size - pending.size();
    std::size_t whole = compressed_header_size + get24(reinterpret_cast<const std::uint8_t *>(pending.data()));
    return pending.size() < whole ? whole - pending.size() : 0;
}

FrameStatus CompressedCodec::decode(ReadBuffer &in, ReadBuffer &out, Error &err) {
    std::string_view pending = in.pending();
    if (pending.size() < compressed_header_size) {
        need_ = compressed_header_size - pending.size();
        return FrameStatus::need_more;
    }
    auto *h = reinterpret_cast<const std::uint8_t *>(pending.data());
    std::size_t len = get24(h);
    std::size_t plain = get24(h + 4);
    if (h[3] != seq_) {
        err.set(Errc::protocol, "compressed packets out of order: expected sequence id " + std::to_string(seq_) +
                                    ", got " + std::to_string(h[3]));
        return FrameStatus::error;
    }
    if (pending.size() - compressed_header_size < len) {
        need_ = compressed_header_size + len - pending.size();
        return FrameStatus::need_more;
    }
    const std::uint8_t *payload = h + compressed_header_size;
    if (plain == 0) {  // stored
        if (len) {
            out.prepare(len);
            std::memcpy(out.space(), payload, len);
            out.commit(len);
        }
    } else {
        if (len == 0) {
            err.set(Errc::protocol, "compressed packet announces " + std::to_string(plain) +
                                        " uncompressed bytes but has no payload");
            return FrameStatus::error;
        }
        Errc rc = Errc::ok;
        out.prepare(plain);
        if (algo_ == Compression::zlib)
            rc = inflate_into(payload, len, out.space(), plain, err);
        else if (algo_ == Compression::zstd)
            rc = zstd_into(payload, len, out.space(), plain, err);
        else
            rc = err.set(Errc::protocol, "compressed payload received, but compression is off");
        if (rc != Errc::ok) return FrameStatus::error;
        out.commit(plain);
    }
    ++seq_;
    in.consume(compressed_header_size + len);
    need_ = missing(in);
    return FrameStatus::packet;
}

}  // namespace mywire::proto
