// CompressedCodec::decode over arbitrary bytes, with zlib or zstd (byte 0
// bit 0), fed whole and in pieces whose sizes come from byte 1. Byte 0 bits
// 1-2 repeat the rest 1, 2, 4 or 8 times with the compressed sequence ids
// renumbered, so many whole packets (bombs among them) sit in one input.
// Checks: every call takes at most one packet and appends exactly its
// announced size (the output bound, however many packets are pending); both
// feeds give the same plain bytes and the same stop; the plain bytes are
// exactly the announced sizes of the packets taken; need_more's hint is what
// a model of the headers says; what was decoded survives encode + decode.
#include <cstring>
#include <string>
#include <vector>

#include "fuzz.hpp"
#include "proto/compress.hpp"

using namespace mywire::proto;
using mywire::Errc;

namespace {

struct Outcome {
    std::string plain;
    FrameStatus last = FrameStatus::need_more;
    std::string message;
    std::size_t hint = 0;
    std::size_t consumed = 0;
};

std::size_t get24(std::string_view s, std::size_t at) {
    auto *p = reinterpret_cast<const std::uint8_t *>(s.data() + at);
    return p[0] | std::size_t(p[1]) << 8 | std::size_t(p[2]) << 16;
}

// One decode call, checked against the header model: a packet takes
// exactly the first compressed packet of `buf` and appends exactly its
// announced size; nothing else moves.
FrameStatus decode_one(CompressedCodec &codec, ReadBuffer &buf, ReadBuffer &out, mywire::Error &err) {
    std::string_view before = buf.pending();
    std::size_t out_before = out.pending().size();
    std::size_t whole = before.size() >= 7 ? 7 + get24(before, 0) : 0;
    std::size_t announced = whole ? (get24(before, 4) ? get24(before, 4) : get24(before, 0)) : 0;
    FrameStatus st = codec.decode(buf, out, err);
    if (st == FrameStatus::packet) {
        FUZZ_CHECK(whole && before.size() >= whole);
        FUZZ_CHECK(buf.pending().size() == before.size() - whole);
        FUZZ_CHECK(out.pending().size() == out_before + announced);
        FUZZ_CHECK(codec.need_hint() == CompressedCodec::missing(buf));
    } else {
        FUZZ_CHECK(buf.pending().size() == before.size());
        if (st == FrameStatus::need_more) {
            FUZZ_CHECK(out.pending().size() == out_before);
            FUZZ_CHECK(CompressedCodec::missing(buf) == codec.need_hint());
        }
    }
    return st;
}

// Feed `in` in pieces (all at once when piece_seed is 0), decoding after
// each piece until need_more, or an error.
Outcome run(Compression algo, std::string_view in, std::uint32_t piece_seed) {
    CompressedCodec codec(algo);
    ReadBuffer buf(piece_seed ? 8 : 4096), out(piece_seed ? 8 : 4096);
    mywire::Error err;
    Outcome o;
    std::size_t pos = 0;
    std::uint32_t rng = piece_seed;
    for (;;) {
        if (piece_seed == 0) {
            if (!in.empty()) buf.append(in);  // ReadBuffer::append("") on a fresh buffer memcpys to null
            pos = in.size();
        } else if (pos < in.size()) {
            rng = rng * 1103515245u + 12345u;
            std::size_t n = 1 + (rng >> 16) % 23;
            if (n > in.size() - pos) n = in.size() - pos;
            buf.append(in.substr(pos, n));
            pos += n;
        }
        FrameStatus st;
        while ((st = decode_one(codec, buf, out, err)) == FrameStatus::packet) {
            // The reader takes the plain bytes: the output holds one packet's worth at most.
            o.plain += out.pending();
            out.consume(out.pending().size());
        }
        if (st == FrameStatus::error) {
            FUZZ_CHECK(err.code == Errc::protocol);
            FUZZ_CHECK(!err.message.empty());
            o.last = st;
            o.message = err.message;
            o.plain += out.pending();
            break;
        }
        FUZZ_CHECK(codec.need_hint() > 0);
        if (pos == in.size()) {
            o.hint = codec.need_hint();
            break;
        }
    }
    o.consumed = pos - buf.pending().size();  // pos: bytes fed so far
    return o;
}

// The body repeated `times` times, the sequence ids of its whole packets
// renumbered 0, 1, 2... (so the copies are not refused as out of order).
std::string repeated(std::string_view body, unsigned times) {
    std::string s;
    for (unsigned i = 0; i < times; ++i) s += body;
    unsigned seq = 0;
    for (std::size_t at = 0; at + 7 <= s.size(); at += 7 + get24(s, at)) s[at + 3] = static_cast<char>(seq++);
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size < 2) return 0;
    Compression algo = data[0] & 1 ? Compression::zstd : Compression::zlib;
    std::uint32_t piece_seed = data[1] * 2654435761u + 1;
    std::string input = repeated(fuzz::as_view(data + 2, size - 2), 1u << ((data[0] >> 1) & 3));
    std::string_view in = input;

    Outcome whole = run(algo, in, 0);
    Outcome pieces = run(algo, in, piece_seed);
    FUZZ_CHECK(whole.last == pieces.last);
    FUZZ_CHECK(whole.message == pieces.message);
    FUZZ_CHECK(whole.plain == pieces.plain);
    FUZZ_CHECK(whole.consumed == pieces.consumed);
    FUZZ_CHECK(whole.hint == pieces.hint);

    // The packets taken: in order, and their plain bytes are exactly the
    // announced sizes.
    std::size_t at = 0, announced = 0;
    unsigned seq = 0;
    while (at < whole.consumed) {
        FUZZ_CHECK(whole.consumed - at >= 7);
        FUZZ_CHECK(static_cast<std::uint8_t>(in[at + 3]) == (seq & 0xFF));
        std::size_t len = get24(in, at), plain = get24(in, at + 4);
        announced += plain ? plain : len;
        at += 7 + len;
        ++seq;
    }
    FUZZ_CHECK(at == whole.consumed);
    FUZZ_CHECK(announced == whole.plain.size());
    if (whole.last == FrameStatus::need_more) {
        // The hint completes the next header, or the next packet.
        std::size_t rest = in.size() - at;
        std::size_t want = rest < 7 ? 7 - rest : 7 + get24(in, at) - rest;
        FUZZ_CHECK(whole.hint == want);
    }

    // Whatever was decoded goes through encode and decode unchanged.
    if (!whole.plain.empty() && whole.plain.size() <= 1u << 20) {
        CompressedCodec enc(algo), dec(algo);
        std::vector<std::uint8_t> wire;
        mywire::Error err;
        FUZZ_CHECK(enc.encode(reinterpret_cast<const std::uint8_t *>(whole.plain.data()), whole.plain.size(), wire,
                              err) == Errc::ok);
        ReadBuffer b, out;
        b.append(std::string_view(reinterpret_cast<const char *>(wire.data()), wire.size()));
        FUZZ_CHECK(dec.decode(b, out, err) == FrameStatus::packet);
        while (!b.pending().empty()) FUZZ_CHECK(dec.decode(b, out, err) == FrameStatus::packet);
        FUZZ_CHECK(out.pending() == whole.plain);
    }
    return 0;
}
