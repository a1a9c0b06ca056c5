// PacketReader over arbitrary bytes, fed in pieces whose sizes come from the
// input, against a model written here from the framing rules: the same
// packets, then the same stop (need_more, or an error with the same code).
// Every packet is NUL-terminated in place, which must not disturb the rest.
#include <cstring>
#include <string>
#include <vector>

#include "fuzz.hpp"
#include "proto/framing.hpp"

using namespace mywire::proto;
using mywire::Errc;

namespace {

struct Outcome {
    std::vector<std::string> packets;
    FrameStatus last = FrameStatus::need_more;
    Errc code = Errc::ok;
};

Outcome model(std::string_view in, std::size_t max_packet) {
    Outcome o;
    std::uint8_t seq = 0;
    std::string cur;
    std::size_t pos = 0;
    for (;;) {
        if (in.size() - pos < 4) return o;
        auto *h = reinterpret_cast<const std::uint8_t *>(in.data() + pos);
        std::size_t len = h[0] | h[1] << 8 | h[2] << 16;
        if (h[3] != seq) {
            o.last = FrameStatus::error;
            o.code = Errc::protocol;
            return o;
        }
        if (cur.size() + len > max_packet) {
            o.last = FrameStatus::error;
            o.code = Errc::limit;
            return o;
        }
        if (in.size() - pos - 4 < len) return o;
        cur.append(in.substr(pos + 4, len));
        pos += 4 + len;
        ++seq;
        if (len == 0xFFFFFF) continue;
        o.packets.push_back(cur);
        cur.clear();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size < 2) return 0;
    // A limit from tiny to large, and a seed for the piece sizes.
    static const std::size_t limits[] = {0, 1, 3, 16, 100, 1024, 0xFFFFFF, 64u << 20};
    std::size_t max_packet = limits[data[0] % 8];
    std::uint32_t rng = data[1] * 2654435761u + 1;
    std::string_view in = fuzz::as_view(data + 2, size - 2);
    Outcome want = model(in, max_packet);

    ReadBuffer buf(data[1] % 2 ? 8 : 4096);
    PacketReader pr;
    mywire::Error err;
    std::uint8_t seq = 0;
    Outcome got;
    std::size_t pos = 0;
    bool stopped = false;
    while (!stopped) {
        std::string_view payload;
        FrameStatus st = pr.next(buf, seq, max_packet, payload, err);
        if (st == FrameStatus::packet) {
            FUZZ_CHECK(payload.size() <= max_packet);
            got.packets.emplace_back(payload);
            pr.terminate_payload(buf, payload);
            FUZZ_CHECK(payload.data()[payload.size()] == '\0');
            continue;
        }
        if (st == FrameStatus::error) {
            got.last = st;
            got.code = err.code;
            break;
        }
        FUZZ_CHECK(pr.need_hint() > 0);
        if (pos == in.size()) break;  // all fed: need_more is the end
        rng = rng * 1103515245u + 12345u;
        std::size_t n = 1 + (rng >> 16) % 17;
        if (n > in.size() - pos) n = in.size() - pos;
        buf.append(in.substr(pos, n));
        pos += n;
    }
    FUZZ_CHECK(got.last == want.last);
    FUZZ_CHECK(got.code == want.code);
    FUZZ_CHECK(got.packets == want.packets);
    return 0;
}
