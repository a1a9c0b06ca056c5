// The compressed protocol codec: round trips for zlib and zstd, packets built
// here with zlib/libzstd (and zstd frames built by hand, and one vector made
// by Python's zlib), partial input, sequence ids, and every error.
#include "proto/compress.hpp"

#include <cstring>
#include <string>
#include <vector>

#include <zlib.h>
#include <zstd.h>

#include "unit.hpp"

using mywire::Error;
using mywire::proto::CompressedCodec;
using mywire::proto::Compression;
using mywire::proto::FrameStatus;
using mywire::proto::ReadBuffer;
using unit::Bytes;
using unit::Errc;

namespace {

constexpr std::size_t max_chunk = 0xFFFFFF;
const Compression both[] = {Compression::zlib, Compression::zstd};

const char *name(Compression c) { return c == Compression::zlib ? "zlib" : "zstd"; }

// Compressible and position-dependent: a moved or lost byte shows.
std::string text(std::size_t n, unsigned salt = 0) {
    std::string s;
    s.reserve(n + 32);
    for (std::size_t i = 0; s.size() < n; ++i)
        s += "row " + std::to_string(i + salt) + " value " + std::to_string((i * 7919) % 1000) + "\n";
    s.resize(n);
    return s;
}

// Incompressible.
std::string noise(std::size_t n, std::uint64_t seed = 88172645463325252ull) {
    std::string s(n, '\0');
    for (char &c : s) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        c = static_cast<char>(seed >> 32);
    }
    return s;
}

const std::uint8_t *u8(std::string_view s) { return reinterpret_cast<const std::uint8_t *>(s.data()); }
std::string_view sv(const std::vector<std::uint8_t> &v) {
    return {reinterpret_cast<const char *>(v.data()), v.size()};
}

struct Header {
    std::size_t len;
    unsigned seq;
    std::size_t plain;
};

// The compressed packets of a wire buffer; the buffer must hold whole ones.
std::vector<Header> headers(std::string_view wire) {
    std::vector<Header> out;
    std::size_t pos = 0;
    while (pos < wire.size()) {
        assert_true(wire.size() - pos >= 7);
        auto *h = u8(wire) + pos;
        Header x{h[0] | std::size_t(h[1]) << 8 | std::size_t(h[2]) << 16, h[3],
                 h[4] | std::size_t(h[5]) << 8 | std::size_t(h[6]) << 16};
        assert_true(wire.size() - pos - 7 >= x.len);
        out.push_back(x);
        pos += 7 + x.len;
    }
    return out;
}

std::string encode(CompressedCodec &c, std::string_view plain) {
    std::vector<std::uint8_t> out;
    Error err;
    assert_errc(c.encode(u8(plain), plain.size(), out, err), Errc::ok);
    return std::string(sv(out));
}

struct Decoded {
    FrameStatus status;
    std::string plain;
    std::string left;  // bytes still in the input buffer
    Error err;
};

// decode() over all of `wire`, called until it has no whole packet left (it
// takes one per call): packet if it took any, else need_more or the error.
Decoded decode(CompressedCodec &c, std::string_view wire) {
    ReadBuffer in(1024), out(1024);
    in.append(wire);
    Decoded d;
    d.status = FrameStatus::need_more;
    for (;;) {
        FrameStatus st = c.decode(in, out, d.err);
        if (st == FrameStatus::packet) {
            d.status = st;
            continue;
        }
        if (st == FrameStatus::error) d.status = st;
        break;
    }
    d.plain = std::string(out.pending());
    d.left = std::string(in.pending());
    return d;
}

#define assert_status(actual, expected) assert_int_equal(static_cast<int>(actual), static_cast<int>(expected))

void expect_error(Compression algo, std::string_view wire, const char *message) {
    CompressedCodec c(algo);
    Decoded d = decode(c, wire);
    assert_status(d.status, FrameStatus::error);
    assert_errc(d.err.code, Errc::protocol);
    assert_sv_equal(d.err.message, message);
}

// A compressed packet header and payload, built here.
std::string packet(std::string_view payload, unsigned seq, std::size_t plain) {
    return Bytes().u24(static_cast<unsigned>(payload.size())).u8(seq).u24(static_cast<unsigned>(plain))
        .str(payload).str();
}

std::string zlib_of(std::string_view plain, int level = Z_DEFAULT_COMPRESSION) {
    uLongf n = compressBound(plain.size());
    std::string out(n, '\0');
    assert_int_equal(compress2(reinterpret_cast<Bytef *>(out.data()), &n, u8(plain), plain.size(), level), Z_OK);
    out.resize(n);
    return out;
}

std::string zstd_of(std::string_view plain, bool content_size = true) {
    std::string out(ZSTD_compressBound(plain.size()), '\0');
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    assert_non_null(cctx);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, content_size ? 1 : 0);
    std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), plain.data(), plain.size());
    ZSTD_freeCCtx(cctx);
    assert_false(ZSTD_isError(n));
    out.resize(n);
    return out;
}

// A zstd frame written by hand from RFC 8878, no libzstd involved: magic,
// a single-segment descriptor with a 1-byte content size (`declared`, < 256),
// then blocks. Block header: bit 0 last, bits 1-2 type (0 raw, 1 RLE,
// 3 reserved), bits 3-23 size.
std::string zstd_frame_header(unsigned declared) {
    return Bytes{0x28, 0xB5, 0x2F, 0xFD, 0x20}.u8(declared).str();
}
std::string zstd_block(unsigned type, std::string_view content, std::size_t size, bool last) {
    return Bytes().u24(static_cast<unsigned>(size << 3 | type << 1 | (last ? 1 : 0))).str(content).str();
}
std::string zstd_raw_frame(std::string_view content) {
    return zstd_frame_header(static_cast<unsigned>(content.size())) +
           zstd_block(0, content, content.size(), true);
}

// COM_QUERY select "012345678901234567890123456789012345" as a plain packet
// (50 bytes), and the compressed packet Python's zlib.compress() (level 6)
// makes of it. The MySQL internals manual shows the same bytes as its
// example of a compressed packet.
const Bytes doc_plain = Bytes().u24(46).u8(0).u8(3).str("select \"012345678901234567890123456789012345\"");
const Bytes doc_wire{0x22, 0x00, 0x00, 0x00, 0x32, 0x00, 0x00, 0x78, 0x9c, 0xd3, 0x63, 0x60, 0x60, 0x60, 0x2e,
                     0x4e, 0xcd, 0x49, 0x4d, 0x2e, 0x51, 0x50, 0x32, 0x30, 0x34, 0x32, 0x36, 0x31, 0x35, 0x33,
                     0xb7, 0xb0, 0xc4, 0xcd, 0x52, 0x02, 0x00, 0x0c, 0xd1, 0x0a, 0x6c};

void test_tiny_stored(void **) {
    for (Compression algo : both) {
        CompressedCodec c(algo);
        assert_int_equal(static_cast<int>(c.algorithm()), static_cast<int>(algo));
        // COM_PING: a 5-byte plain packet goes stored.
        std::string wire = encode(c, Bytes{0x01, 0x00, 0x00, 0x00, 0x0e});
        assert_sv_equal(wire, (Bytes{0x05, 0, 0, 0x00, 0, 0, 0, 0x01, 0x00, 0x00, 0x00, 0x0e}));
        assert_int_equal(c.sequence(), 1);
        CompressedCodec d(algo);
        Decoded got = decode(d, wire);
        assert_status(got.status, FrameStatus::packet);
        assert_sv_equal(got.plain, (Bytes{0x01, 0x00, 0x00, 0x00, 0x0e}));
        assert_sv_equal(got.left, "");
        assert_int_equal(d.sequence(), 1);
        // Nothing in, nothing out.
        assert_sv_equal(encode(c, ""), "");
        assert_int_equal(c.sequence(), 1);
    }
}

void test_49_stored_50_compressed(void **) {
    for (Compression algo : both) {
        CompressedCodec c(algo);
        std::string p49 = text(49);
        std::string wire = encode(c, p49);
        assert_sv_equal(wire, Bytes().u24(49).u8(0).u24(0).str(p49));

        c.reset_sequence();
        wire = encode(c, doc_plain);
        auto hs = headers(wire);
        assert_int_equal(hs.size(), 1);
        assert_int_equal(hs[0].seq, 0);
        assert_int_equal(hs[0].plain, 50);
        assert_true(hs[0].len < 50);
        // Whatever the library version wrote, the library itself reads it back.
        std::string payload = wire.substr(7);
        if (algo == Compression::zlib) {
            std::string back(50, '\0');
            uLongf n = back.size();
            assert_int_equal(uncompress(reinterpret_cast<Bytef *>(back.data()), &n, u8(payload), payload.size()),
                             Z_OK);
            assert_int_equal(n, 50);
            assert_sv_equal(back, doc_plain);
        } else {
            assert_int_equal(ZSTD_getFrameContentSize(payload.data(), payload.size()), 50);
            std::string back(50, '\0');
            assert_int_equal(ZSTD_decompress(back.data(), back.size(), payload.data(), payload.size()), 50);
            assert_sv_equal(back, doc_plain);
        }
        CompressedCodec d(algo);
        Decoded got = decode(d, wire);
        assert_status(got.status, FrameStatus::packet);
        assert_sv_equal(got.plain, doc_plain);

        // 50 bytes that do not shrink go stored.
        c.reset_sequence();
        std::string n50 = noise(50);
        assert_sv_equal(encode(c, n50), Bytes().u24(50).u8(0).u24(0).str(n50));
    }
}

void test_round_trips(void **) {
    struct Case {
        std::string plain;
        bool compressed;
    };
    const Case cases[] = {{text(1), false},     {text(49), false},    {std::string(doc_plain), true},
                          {std::string(doc_plain) + "!", true},     {text(1000), true},   {noise(1000), false},
                          {text(1u << 20, 7), true}, {noise(1u << 20), false}};
    for (Compression algo : both) {
        CompressedCodec enc(algo), dec(algo);
        for (const Case &k : cases) {
            enc.reset_sequence();
            dec.reset_sequence();
            std::string wire = encode(enc, k.plain);
            auto hs = headers(wire);
            assert_int_equal(hs.size(), 1);
            assert_int_equal(hs[0].seq, 0);
            if (k.compressed) {
                assert_int_equal(hs[0].plain, k.plain.size());
                assert_true(hs[0].len < k.plain.size());
            } else {
                assert_int_equal(hs[0].plain, 0);
                assert_int_equal(hs[0].len, k.plain.size());
            }
            Decoded got = decode(dec, wire);
            assert_status(got.status, FrameStatus::packet);
            assert_true(got.plain == k.plain);
            assert_sv_equal(got.left, "");
        }
    }
}

// 16 MiB + 1 bytes: a full 0xFFFFFF chunk (compressed), then 2 bytes (stored).
void test_over_16_mib(void **) {
    std::string plain = text(max_chunk + 2, 3);
    for (Compression algo : both) {
        CompressedCodec enc(algo), dec(algo);
        std::string wire = encode(enc, plain);
        auto hs = headers(wire);
        assert_int_equal(hs.size(), 2);
        assert_int_equal(hs[0].seq, 0);
        assert_int_equal(hs[0].plain, max_chunk);
        assert_true(hs[0].len < max_chunk / 4);
        assert_int_equal(hs[1].seq, 1);
        assert_int_equal(hs[1].plain, 0);
        assert_int_equal(hs[1].len, 2);
        assert_sv_equal(wire.substr(wire.size() - 2), plain.substr(plain.size() - 2));
        Decoded got = decode(dec, wire);
        assert_status(got.status, FrameStatus::packet);
        assert_int_equal(got.plain.size(), plain.size());
        assert_true(got.plain == plain);
        assert_int_equal(dec.sequence(), 2);
    }
}

void test_python_zlib_vector(void **) {
    CompressedCodec c(Compression::zlib);
    Decoded got = decode(c, doc_wire);
    assert_status(got.status, FrameStatus::packet);
    assert_sv_equal(got.plain, doc_plain);
    assert_int_equal(got.plain.size(), 50);
    // The same bytes are no zstd frame.
    expect_error(Compression::zstd, doc_wire, "corrupt zstd frame in compressed packet");
}

// Several packets built here (zlib's compress2, a stored one) in one buffer.
void test_independent_zlib(void **) {
    std::string a = text(5000, 1), b = "stored bytes", c3 = text(300, 2);
    std::string wire = packet(zlib_of(a, 9), 0, a.size()) + packet(b, 1, 0) + packet(zlib_of(c3, 1), 2, c3.size());
    CompressedCodec c(Compression::zlib);
    Decoded got = decode(c, wire);
    assert_status(got.status, FrameStatus::packet);
    assert_true(got.plain == a + b + c3);
    assert_sv_equal(got.left, "");
    assert_int_equal(c.sequence(), 3);
}

void test_independent_zstd(void **) {
    std::string a = text(5000, 1), b = text(70000, 9);
    std::string raw = "a raw zstd block, written by hand";
    std::string wire = packet(zstd_of(a), 0, a.size()) + packet(zstd_of(b, false), 1, b.size()) +
                       packet(zstd_raw_frame(raw), 2, raw.size()) +
                       // An RLE block: 60 times 'z' from one byte.
                       packet(zstd_frame_header(60) + zstd_block(1, "z", 60, true), 3, 60) +
                       // Two blocks: raw then RLE.
                       packet(zstd_frame_header(8) + zstd_block(0, "abc", 3, false) + zstd_block(1, "d", 5, true),
                              4, 8);
    CompressedCodec c(Compression::zstd);
    Decoded got = decode(c, wire);
    assert_status(got.status, FrameStatus::packet);
    assert_true(got.plain == a + b + raw + std::string(60, 'z') + "abcddddd");
    assert_int_equal(c.sequence(), 5);
}

// One byte at a time: need_more with the exact number of missing bytes until
// a packet is whole, then exactly its plain bytes.
void test_byte_at_a_time(void **) {
    for (Compression algo : both) {
        CompressedCodec enc(algo);
        std::string plains[] = {"0123456789", text(300, 4), text(49, 5), noise(80)};
        std::string wire;
        std::vector<std::size_t> ends;  // offset just past each compressed packet
        for (const std::string &p : plains) {
            wire += encode(enc, p);
            ends.push_back(wire.size());
        }
        CompressedCodec dec(algo);
        ReadBuffer in(16), out(16);
        Error err;
        std::size_t packet_index = 0, packet_start = 0, plain_size = 0;
        for (std::size_t pos = 0; pos < wire.size(); ++pos) {
            in.append(wire.substr(pos, 1));
            FrameStatus st = dec.decode(in, out, err);
            std::size_t have = pos + 1 - packet_start;
            if (pos + 1 == ends[packet_index]) {
                assert_status(st, FrameStatus::packet);
                plain_size += plains[packet_index].size();
                assert_int_equal(out.pending().size(), plain_size);
                assert_int_equal(dec.need_hint(), 7);  // the next header
                packet_start = pos + 1;
                ++packet_index;
                continue;
            }
            assert_status(st, FrameStatus::need_more);
            assert_int_equal(out.pending().size(), plain_size);
            std::size_t want = have < 7 ? 7 - have : ends[packet_index] - pos - 1;
            if (dec.need_hint() != want) {
                print_error("%s: at byte %zu hint %zu, expected %zu\n", name(algo), pos, dec.need_hint(), want);
                fail();
            }
        }
        assert_int_equal(packet_index, 4);
        assert_true(std::string(out.pending()) == plains[0] + plains[1] + plains[2] + plains[3]);
        // Empty input: need_more, a whole header missing.
        assert_status(dec.decode(in, out, err), FrameStatus::need_more);
        assert_int_equal(dec.need_hint(), 7);
    }
}

// A partial packet after whole ones stays in the input.
void test_partial_tail_kept(void **) {
    CompressedCodec enc(Compression::zlib), dec(Compression::zlib);
    std::string first = encode(enc, text(500)), second = encode(enc, text(600, 1));
    std::string wire = first + second.substr(0, 10);
    ReadBuffer in(64), out(64);
    in.append(wire);
    Error err;
    assert_status(dec.decode(in, out, err), FrameStatus::packet);
    assert_true(std::string(out.pending()) == text(500));
    assert_sv_equal(in.pending(), second.substr(0, 10));
    assert_int_equal(dec.need_hint(), second.size() - 10);
    in.append(std::string_view(second).substr(10));
    assert_status(dec.decode(in, out, err), FrameStatus::packet);
    assert_true(std::string(out.pending()) == text(500) + text(600, 1));
    assert_sv_equal(in.pending(), "");
}

// One counter for both directions: the reply continues the request's ids.
void test_shared_sequence(void **) {
    CompressedCodec c(Compression::zlib);
    // A request of two compressed packets (ids 0 and 1).
    std::string req = encode(c, text(max_chunk + 60));
    auto hs = headers(req);
    assert_int_equal(hs.size(), 2);
    assert_int_equal(hs[1].seq, 1);
    assert_int_equal(c.sequence(), 2);
    // The reply starts at 2.
    Decoded got = decode(c, packet("ok", 2, 0) + packet("more", 3, 0));
    assert_status(got.status, FrameStatus::packet);
    assert_sv_equal(got.plain, "okmore");
    assert_int_equal(c.sequence(), 4);
    // A new command starts again at 0, and a reply with a stale id is refused.
    c.reset_sequence();
    assert_int_equal(headers(encode(c, "x"))[0].seq, 0);
    got = decode(c, packet("late", 0, 0));
    assert_status(got.status, FrameStatus::error);
    assert_sv_equal(got.err.message, "compressed packets out of order: expected sequence id 1, got 0");
}

void test_sequence_wraps(void **) {
    for (Compression algo : both) {
        CompressedCodec enc(algo), dec(algo);
        std::string wire, plain;
        for (int i = 0; i < 300; ++i) {
            std::string p = text(40 + i % 50, static_cast<unsigned>(i));
            plain += p;
            wire += encode(enc, p);
        }
        auto hs = headers(wire);
        assert_int_equal(hs.size(), 300);
        assert_int_equal(hs[255].seq, 255);
        assert_int_equal(hs[256].seq, 0);
        assert_int_equal(hs[299].seq, 43);
        Decoded got = decode(dec, wire);
        assert_status(got.status, FrameStatus::packet);
        assert_true(got.plain == plain);
        assert_int_equal(dec.sequence(), 300 % 256);
    }
}

void test_error_sequence(void **) {
    for (Compression algo : both) {
        expect_error(algo, packet("abc", 1, 0), "compressed packets out of order: expected sequence id 0, got 1");
        // Checked as soon as the header is in, before the payload.
        expect_error(algo, packet("abc", 7, 0).substr(0, 7),
                     "compressed packets out of order: expected sequence id 0, got 7");
        // After a good packet: its bytes stay appended.
        CompressedCodec c(algo);
        Decoded got = decode(c, packet("good", 0, 0) + packet("bad", 2, 0));
        assert_status(got.status, FrameStatus::error);
        assert_sv_equal(got.err.message, "compressed packets out of order: expected sequence id 1, got 2");
        assert_sv_equal(got.plain, "good");
    }
}

void test_error_empty_payload(void **) {
    for (Compression algo : both)
        expect_error(algo, packet("", 0, 5), "compressed packet announces 5 uncompressed bytes but has no payload");
    // Empty and stored is fine (nothing to append).
    CompressedCodec c(Compression::zlib);
    Decoded got = decode(c, packet("", 0, 0));
    assert_status(got.status, FrameStatus::packet);
    assert_sv_equal(got.plain, "");
    assert_int_equal(c.sequence(), 1);
}

void test_error_lying_length(void **) {
    std::string plain = text(100);
    // Announced too short: never written past it.
    expect_error(Compression::zlib, packet(zlib_of(plain), 0, 99),
                 "compressed packet decompresses to more than the announced 99 bytes");
    expect_error(Compression::zstd, packet(zstd_of(plain, false), 0, 99),
                 "compressed packet decompresses to more than the announced 99 bytes");
    // Announced too long.
    expect_error(Compression::zlib, packet(zlib_of(plain), 0, 101),
                 "compressed packet decompresses to 100 bytes, not the announced 101");
    expect_error(Compression::zstd, packet(zstd_of(plain, false), 0, 101),
                 "compressed packet decompresses to 100 bytes, not the announced 101");
    expect_error(Compression::zlib, packet(zlib_of(plain), 0, max_chunk),
                 "compressed packet decompresses to 100 bytes, not the announced 16777215");
    // A bomb: 32 MiB of zeros in a small zlib stream, bounded at the announced size.
    std::string bomb = zlib_of(std::string(32u << 20, '\0'), 9);
    assert_true(bomb.size() < 64 * 1024);
    expect_error(Compression::zlib, packet(bomb, 0, max_chunk),
                 "compressed packet decompresses to more than the announced 16777215 bytes");
}

// A zstd frame whose header declares another size than the packet announces
// is refused before decompressing.
void test_error_zstd_content_size(void **) {
    std::string plain = text(100);
    expect_error(Compression::zstd, packet(zstd_of(plain), 0, 99), "zstd frame declares 100 bytes, not the announced 99");
    expect_error(Compression::zstd, packet(zstd_of(plain), 0, 101),
                 "zstd frame declares 100 bytes, not the announced 101");
    // By hand: declares 200, holds 10, announced 10.
    expect_error(Compression::zstd, packet(zstd_frame_header(200) + zstd_block(0, "0123456789", 10, true), 0, 10),
                 "zstd frame declares 200 bytes, not the announced 10");
}

void test_error_truncated(void **) {
    std::string plain = text(1000);
    std::string z = zlib_of(plain);
    // Cut in the middle, and cut right before the Adler-32 trailer (all the
    // output is there but the stream does not end).
    expect_error(Compression::zlib, packet(z.substr(0, z.size() / 2), 0, 1000),
                 "truncated zlib stream in compressed packet");
    expect_error(Compression::zlib, packet(z.substr(0, z.size() - 4), 0, 1000),
                 "truncated zlib stream in compressed packet");
    std::string s = zstd_of(plain);
    expect_error(Compression::zstd, packet(s.substr(0, s.size() - 3), 0, 1000),
                 "truncated zstd frame in compressed packet");
    // Cut inside the frame header, and inside the magic number.
    expect_error(Compression::zstd, packet(s.substr(0, 6), 0, 1000), "truncated zstd frame in compressed packet");
    expect_error(Compression::zstd, packet(s.substr(0, 3), 0, 1000), "truncated zstd frame in compressed packet");
}

void test_error_garbage(void **) {
    std::string junk = "this is neither zlib nor zstd";
    expect_error(Compression::zlib, packet(junk, 0, 100), "corrupt zlib stream in compressed packet");
    expect_error(Compression::zstd, packet(junk, 0, 100), "corrupt zstd frame in compressed packet");
    // A good zlib header, then a reserved block type (BTYPE 11).
    expect_error(Compression::zlib, packet(Bytes{0x78, 0x9c, 0x07, 0x00, 0x00}, 0, 100),
                 "corrupt zlib stream in compressed packet");
    // A wrong Adler-32.
    std::string z = zlib_of(text(100));
    z.back() ^= 1;
    expect_error(Compression::zlib, packet(z, 0, 100), "corrupt zlib stream in compressed packet");
    // A zstd frame with a reserved block type.
    expect_error(Compression::zstd, packet(zstd_frame_header(10) + zstd_block(3, "0123456789", 10, true), 0, 10),
                 "corrupt zstd frame in compressed packet");
}

void test_error_trailing(void **) {
    std::string plain = text(100);
    expect_error(Compression::zlib, packet(zlib_of(plain) + "xyz", 0, 100),
                 "3 bytes after the end of the zlib stream in compressed packet");
    expect_error(Compression::zstd, packet(zstd_of(plain) + "xy", 0, 100),
                 "2 bytes after the end of the zstd frame in compressed packet");
    // A second frame is not part of the packet's one frame.
    std::string second = zstd_raw_frame("abc");
    expect_error(Compression::zstd, packet(zstd_of(plain) + second, 0, 100),
                 ("" + std::to_string(second.size()) + " bytes after the end of the zstd frame in compressed packet")
                     .c_str());
}

// Compression::none frames but never compresses, and refuses compressed payloads.
void test_none(void **) {
    CompressedCodec c(Compression::none);
    std::string plain = text(1000);
    std::string wire = encode(c, plain);
    assert_sv_equal(wire, Bytes().u24(1000).u8(0).u24(0).str(plain));
    CompressedCodec d(Compression::none);
    Decoded got = decode(d, wire);
    assert_status(got.status, FrameStatus::packet);
    assert_true(got.plain == plain);
    expect_error(Compression::none, packet(zlib_of(plain), 0, 1000),
                 "compressed payload received, but compression is off");
}

// Many small packets, as a server streams rows: one call takes exactly one,
// the others stay compressed in the input.
void test_many_in_one_input(void **) {
    for (Compression algo : both) {
        CompressedCodec enc(algo), dec(algo);
        std::string wire, plain;
        std::vector<std::size_t> ends;
        for (int i = 0; i < 1000; ++i) {
            std::string p = text(16384, static_cast<unsigned>(i));
            plain += p;
            wire += encode(enc, p);
            ends.push_back(wire.size());
        }
        ReadBuffer in(1024), out(1024);
        in.append(wire);
        Error err;
        for (std::size_t i = 0; i < 1000; ++i) {
            assert_int_equal(CompressedCodec::missing(in), 0);
            assert_status(dec.decode(in, out, err), FrameStatus::packet);
            assert_int_equal(out.pending().size(), 16384 * (i + 1));
            assert_int_equal(in.pending().size(), wire.size() - ends[i]);
        }
        assert_status(dec.decode(in, out, err), FrameStatus::need_more);
        assert_int_equal(dec.need_hint(), 7);
        assert_true(std::string(out.pending()) == plain);
        assert_int_equal(dec.sequence(), 1000 % 256);
    }
}

// Decompression bombs: many small packets in one input, each inflating
// (truthfully) to 16 MiB - 1 bytes. One call inflates only the first, so a
// reader that consumes what it is given holds one packet's worth of plain
// bytes at a time, never the sum over the input (16 x 16 MiB here).
void test_many_bombs_in_one_input(void **) {
    const std::string zeros(max_chunk, '\0');
    const std::string bombs[] = {zlib_of(zeros, 9), zstd_of(zeros)};
    const std::size_t count = 16;
    for (Compression algo : both) {
        const std::string &body = bombs[algo == Compression::zlib ? 0 : 1];
        assert_true(body.size() < (algo == Compression::zlib ? 20000u : 1000u));
        std::string wire;
        for (std::size_t i = 0; i < count; ++i) wire += packet(body, static_cast<unsigned>(i), max_chunk);
        CompressedCodec dec(algo);
        ReadBuffer in(1024), out(1024);
        in.append(wire);
        Error err;
        for (std::size_t i = 0; i < count; ++i) {
            assert_status(dec.decode(in, out, err), FrameStatus::packet);
            if (out.pending().size() != max_chunk) {
                print_error("%s: call %zu left %zu plain bytes, expected one packet's %zu\n", name(algo), i,
                            out.pending().size(), max_chunk);
                fail();
            }
            assert_int_equal(in.pending().size(), (count - 1 - i) * (7 + body.size()));
            // The reader takes it all; the buffer is reused, not grown.
            out.consume(out.pending().size());
            assert_true(out.capacity() <= 2 * max_chunk + 2);
        }
        assert_status(dec.decode(in, out, err), FrameStatus::need_more);
        assert_int_equal(dec.sequence(), count);
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_stored),
        cmocka_unit_test(test_49_stored_50_compressed),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_over_16_mib),
        cmocka_unit_test(test_python_zlib_vector),
        cmocka_unit_test(test_independent_zlib),
        cmocka_unit_test(test_independent_zstd),
        cmocka_unit_test(test_byte_at_a_time),
        cmocka_unit_test(test_partial_tail_kept),
        cmocka_unit_test(test_shared_sequence),
        cmocka_unit_test(test_sequence_wraps),
        cmocka_unit_test(test_error_sequence),
        cmocka_unit_test(test_error_empty_payload),
        cmocka_unit_test(test_error_lying_length),
        cmocka_unit_test(test_error_zstd_content_size),
        cmocka_unit_test(test_error_truncated),
        cmocka_unit_test(test_error_garbage),
        cmocka_unit_test(test_error_trailing),
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_many_in_one_input),
        cmocka_unit_test(test_many_bombs_in_one_input),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
