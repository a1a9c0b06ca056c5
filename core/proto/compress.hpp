// The compressed protocol (CLIENT_COMPRESS with zlib, or zstd as MySQL 8.0.18+
// negotiates it): a sans-io codec between the socket bytes and the plain
// packet stream. It never touches a socket.
//
// Wire format: every compressed packet is a 7-byte header -- 3-byte LE payload
// length, 1-byte compressed sequence id, 3-byte LE uncompressed length -- then
// the payload. Uncompressed length 0 means the payload is stored as is. The
// payload (after decompression) is a piece of the ordinary packet stream: a
// plain packet may span compressed packets and one compressed packet may hold
// many plain packets. zlib payloads are zlib streams (deflate with the zlib
// header); zstd payloads are one zstd frame.
//
// What the servers do (MariaDB sql/net_serv.cc and mysys/my_compress.c,
// MySQL 8 sql-common/net_serv.cc and mysys/my_compress.cc; checked, not
// guessed):
// - One counter (NET::compress_pkt_nr) numbers the compressed packets of both
//   directions. net_clear() sets it to 0 at each new command. Reading a
//   compressed packet checks its id against pkt_nr and then sets
//   compress_pkt_nr = ++pkt_nr; writing one uses compress_pkt_nr++. So the
//   first compressed packet of a reply carries (id of the request's last
//   compressed packet) + 1, exactly as plain packets do.
// - Payloads under MIN_COMPRESS_LENGTH (50 bytes) and payloads that do not
//   shrink are sent stored (uncompressed length 0). MariaDB also never
//   compresses ERR packets (net->compress = 2 while writing them). So a client
//   sees stored packets in every session.
// - The server compresses whatever its write buffer holds when it is flushed
//   or full (net_buffer_length, 16 KiB by default), not one plain packet at a
//   time.
// - Inside the compressed stream the plain packets' own sequence ids are not
//   checked by the servers' readers (they parse only the lengths), and
//   net_flush() resets the plain counter to the compressed one. Connector/C
//   writes its commands with plain id 0 under compression. A reader of the
//   plain stream must not check plain ids strictly there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "proto/errors.hpp"
#include "proto/framing.hpp"

typedef struct z_stream_s z_stream;
typedef struct ZSTD_CCtx_s ZSTD_CCtx;
typedef struct ZSTD_DCtx_s ZSTD_DCtx;

namespace mywire::proto {

enum class Compression : std::uint8_t { none, zlib, zstd };

inline constexpr std::size_t compressed_header_size = 7;
// Chunks shorter than this are sent stored, as the servers do.
inline constexpr std::size_t min_compress_length = 50;

// One per connection, used by one thread at a time. zlib compresses at level
// 6 (Z_DEFAULT_COMPRESSION, the servers' default); zstd at `zstd_level`,
// clamped to what libzstd accepts. The zlib and zstd
// contexts are made on first use and reused for every packet; their memory is
// fixed whatever the peer sends: zlib's inflater keeps one 32 KiB window, and
// a zstd frame is decompressed in one shot straight into the output (sized by
// the announced length, never by the frame's window size), so the context
// holds no window buffer.
// Compression::none frames the stream but never compresses (and rejects a
// compressed payload).
class CompressedCodec {
public:
    explicit CompressedCodec(Compression algo, int zstd_level = 3);
    ~CompressedCodec();
    CompressedCodec(const CompressedCodec &) = delete;
    CompressedCodec &operator=(const CompressedCodec &) = delete;

    Compression algorithm() const { return algo_; }

    // Compressed sequence ids restart at 0 at each new command; one counter
    // serves both directions (see above). Call before writing a command.
    void reset_sequence() { seq_ = 0; }
    // Pipelined commands: the reply of a command whose request ended before
    // id `seq` starts at `seq`.
    void set_sequence(std::uint8_t seq) { seq_ = seq; }
    // The id the next compressed packet (written or read) must carry.
    std::uint8_t sequence() const { return seq_; }

    // Wrap n bytes of the plain packet stream into compressed packets
    // appended to `out`: chunks of at most 0xFFFFFF bytes, each compressed
    // unless it is under 50 bytes or does not shrink (then stored). n == 0
    // appends nothing. Errors: Errc::nomem (a context could not be made).
    Errc encode(const std::uint8_t *data, std::size_t n, std::vector<std::uint8_t> &out, Error &err);

    // Take the first compressed packet of `in`, if it is whole, and append
    // its plain bytes to `out`, a different buffer (which may then move:
    // views into `out` taken before the call are invalid). One packet per
    // call, whatever else `in` holds: a call writes at most the packet's
    // announced uncompressed length (under 16 MiB) into `out`, so the caller
    // bounds its memory by calling again only while its reader needs more
    // plain bytes; packets not yet needed stay compressed in `in`. Returns
    // packet when one was decoded (maybe a stored empty one), need_more when
    // `in` holds no whole compressed packet (need_hint() tells how many more
    // bytes would complete it; after packet it tells what the next one
    // lacks, 0 when it is whole), or error with `err` set: Errc::protocol for
    // a wrong sequence id or a bad payload, Errc::nomem. The connection is
    // unusable after an error.
    FrameStatus decode(ReadBuffer &in, ReadBuffer &out, Error &err);
    // How many more bytes `in` needs before it starts with a whole
    // compressed packet: 0 when it does (decode() would take it).
    static std::size_t missing(const ReadBuffer &in);
    std::size_t need_hint() const { return need_; }

private:
    // Compress src into dst (room for n - 1 bytes: the result must shrink);
    // `packed` is the compressed size, or 0 to store the chunk as is.
    Errc compress_chunk(const std::uint8_t *src, std::size_t n, std::uint8_t *dst, std::size_t &packed,
                        Error &err);
    Errc inflate_into(const std::uint8_t *src, std::size_t n, std::uint8_t *dst, std::size_t want,
                      Error &err);
    Errc zstd_into(const std::uint8_t *src, std::size_t n, std::uint8_t *dst, std::size_t want,
                   Error &err);

    Compression algo_;
    int zstd_level_;
    std::uint8_t seq_ = 0;
    std::size_t need_ = compressed_header_size;
    z_stream *deflater_ = nullptr;
    z_stream *inflater_ = nullptr;
    ZSTD_CCtx *cctx_ = nullptr;
    ZSTD_DCtx *dctx_ = nullptr;
};

}  // namespace mywire::proto
