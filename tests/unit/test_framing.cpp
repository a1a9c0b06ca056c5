// Framing: PacketReader over a ReadBuffer (partial input, sequence ids, the
// size limit, split packets), frame_payload, in-place termination.
#include "proto/framing.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "unit.hpp"

using mywire::Error;
using mywire::proto::frame_payload;
using mywire::proto::FrameStatus;
using mywire::proto::header_size;
using mywire::proto::max_frame;
using mywire::proto::PacketReader;
using mywire::proto::ReadBuffer;
using unit::Bytes;
using unit::Errc;

namespace {

constexpr std::size_t big_limit = 64u << 20;

// A payload whose bytes depend on their position (and a salt), so a missing,
// duplicated or moved byte shows.
std::string pattern(std::size_t n, unsigned salt = 0) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + i / 251 + salt) & 0xFF);
    return s;
}

struct Drain {
    std::vector<std::string> packets;
    FrameStatus last = FrameStatus::need_more;
};

// Take every packet the buffer holds now.
Drain drain(PacketReader &pr, ReadBuffer &buf, std::uint8_t &seq, std::size_t max, Error &err) {
    Drain d;
    for (;;) {
        std::string_view payload;
        d.last = pr.next(buf, seq, max, payload, err);
        if (d.last != FrameStatus::packet) return d;
        d.packets.emplace_back(payload);
    }
}

void test_byte_by_byte(void **) {
    const std::string payloads[] = {"hello", "", pattern(300), "x"};
    Bytes stream;
    std::vector<std::size_t> frame_end;  // offset just past each frame
    std::vector<std::size_t> header_end;
    for (std::size_t i = 0; i < 4; ++i) {
        stream.frame(payloads[i], static_cast<unsigned>(i));
        header_end.push_back(stream.size() - payloads[i].size());
        frame_end.push_back(stream.size());
    }
    ReadBuffer buf;
    PacketReader pr;
    Error err;
    std::uint8_t seq = 0;
    std::vector<std::string> got;
    std::size_t frame = 0;
    for (std::size_t pos = 0; pos < stream.size(); ++pos) {
        buf.append(stream.view().substr(pos, 1));
        Drain d = drain(pr, buf, seq, big_limit, err);
        for (auto &p : d.packets) got.push_back(p);
        if (pos + 1 == frame_end[frame]) {
            // The frame just completed: exactly one packet, then need_more.
            assert_int_equal(d.packets.size(), 1);
            ++frame;
        } else {
            assert_int_equal(d.packets.size(), 0);
        }
        assert_int_equal(static_cast<int>(d.last), static_cast<int>(FrameStatus::need_more));
        if (frame < 4) {
            // The hint is what completes the header, or the frame once the
            // header is in.
            std::size_t have = pos + 1;
            std::size_t want = have < header_end[frame] ? header_end[frame] - have
                                                        : frame_end[frame] - have;
            assert_int_equal(pr.need_hint(), want);
        }
    }
    assert_int_equal(got.size(), 4);
    for (std::size_t i = 0; i < 4; ++i) assert_sv_equal(got[i], payloads[i]);
    assert_int_equal(seq, 4);
    assert_true(err.ok());
}

void test_wrong_sequence_id(void **) {
    for (unsigned bad : {1u, 2u, 0xFFu}) {
        ReadBuffer buf;
        PacketReader pr;
        Error err;
        std::uint8_t seq = 0;
        buf.append(Bytes().frame("abc", bad).view());
        std::string_view payload;
        assert_int_equal(static_cast<int>(pr.next(buf, seq, big_limit, payload, err)),
                         static_cast<int>(FrameStatus::error));
        assert_errc(err.code, Errc::protocol);
        assert_int_equal(seq, 0);
    }
    // The first packet is fine, the second skips an id.
    ReadBuffer buf;
    PacketReader pr;
    Error err;
    std::uint8_t seq = 0;
    buf.append(Bytes().frame("a", 0).frame("b", 2).view());
    Drain d = drain(pr, buf, seq, big_limit, err);
    assert_int_equal(d.packets.size(), 1);
    assert_int_equal(static_cast<int>(d.last), static_cast<int>(FrameStatus::error));
    assert_errc(err.code, Errc::protocol);
}

void test_sequence_wraps(void **) {
    ReadBuffer buf;
    PacketReader pr;
    Error err;
    std::uint8_t seq = 255;
    buf.append(Bytes().frame("a", 255).frame("b", 0).view());
    Drain d = drain(pr, buf, seq, big_limit, err);
    assert_int_equal(d.packets.size(), 2);
    assert_int_equal(seq, 1);
}

void test_limit_before_payload(void **) {
    // Only the header of a 2000-byte packet has arrived; max is 1000.
    ReadBuffer buf;
    PacketReader pr;
    Error err;
    std::uint8_t seq = 0;
    buf.append(Bytes().u24(2000).u8(0).view());
    std::string_view payload;
    assert_int_equal(static_cast<int>(pr.next(buf, seq, 1000, payload, err)),
                     static_cast<int>(FrameStatus::error));
    assert_errc(err.code, Errc::limit);

    // Exactly the limit is allowed.
    ReadBuffer buf2;
    PacketReader pr2;
    Error err2;
    seq = 0;
    std::string p = pattern(1000);
    buf2.append(Bytes().frame(p, 0).view());
    Drain d = drain(pr2, buf2, seq, 1000, err2);
    assert_int_equal(d.packets.size(), 1);
    assert_sv_equal(d.packets[0], p);

    // A first frame of 0xFFFFFF bytes with a smaller limit: refused on its header.
    ReadBuffer buf3;
    PacketReader pr3;
    Error err3;
    seq = 0;
    buf3.append(Bytes().u24(0xFFFFFF).u8(0).view());
    assert_int_equal(static_cast<int>(pr3.next(buf3, seq, 1u << 20, payload, err3)),
                     static_cast<int>(FrameStatus::error));
    assert_errc(err3.code, Errc::limit);
}

void test_limit_on_continuation_header(void **) {
    // max_packet is exactly 0xFFFFFF: the first frame fits, the 1-byte
    // continuation makes it 0x1000000, refused when its header arrives.
    ReadBuffer buf;
    PacketReader pr;
    Error err;
    std::uint8_t seq = 0;
    std::string first = pattern(max_frame);
    buf.append(Bytes().frame(first, 0).u24(1).u8(1).view());
    std::string_view payload;
    assert_int_equal(static_cast<int>(pr.next(buf, seq, max_frame, payload, err)),
                     static_cast<int>(FrameStatus::error));
    assert_errc(err.code, Errc::limit);
}

void test_split_then_empty_frame(void **) {
    std::string big = pattern(max_frame, 7);
    Bytes stream;
    stream.frame(big, 0).frame("", 1).frame("after", 2);
    // All at once, then in 1 MiB chunks (frames arrive in pieces).
    for (std::size_t chunk : {stream.size(), std::size_t(1) << 20}) {
        ReadBuffer buf;
        PacketReader pr;
        Error err;
        std::uint8_t seq = 0;
        std::vector<std::string> got;
        for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
            buf.append(stream.view().substr(pos, chunk));
            Drain d = drain(pr, buf, seq, big_limit, err);
            assert_int_equal(static_cast<int>(d.last), static_cast<int>(FrameStatus::need_more));
            for (auto &p : d.packets) got.push_back(std::move(p));
        }
        assert_int_equal(got.size(), 2);
        assert_int_equal(got[0].size(), 16777215);
        assert_true(got[0] == big);
        assert_sv_equal(got[1], "after");
        assert_int_equal(seq, 3);
    }
}

void test_split_then_one_byte(void **) {
    std::string big = pattern(max_frame + 1, 3);
    ReadBuffer buf;
    PacketReader pr;
    Error err;
    std::uint8_t seq = 0;
    buf.append(Bytes()
                   .frame(std::string_view(big).substr(0, max_frame), 0)
                   .frame(std::string_view(big).substr(max_frame), 1)
                   .view());
    Drain d = drain(pr, buf, seq, big_limit, err);
    assert_int_equal(d.packets.size(), 1);
    assert_int_equal(d.packets[0].size(), 16777216);
    assert_true(d.packets[0] == big);
    assert_int_equal(seq, 2);
}

void test_split_three_frames(void **) {
    std::string big = pattern(2 * max_frame + 5, 11);
    std::vector<std::uint8_t> out(header_size);
    out.insert(out.end(), big.begin(), big.end());
    std::uint8_t wseq = 0;
    frame_payload(out, 0, wseq);
    assert_int_equal(wseq, 3);
    ReadBuffer buf;
    PacketReader pr;
    Error err;
    std::uint8_t seq = 0;
    buf.append(std::string_view(reinterpret_cast<const char *>(out.data()), out.size()));
    buf.append(Bytes().frame("next", 3).view());
    Drain d = drain(pr, buf, seq, big_limit, err);
    assert_int_equal(d.packets.size(), 2);
    assert_true(d.packets[0] == big);
    assert_sv_equal(d.packets[1], "next");
}

void test_split_wrong_sequence_in_continuation(void **) {
    ReadBuffer buf;
    PacketReader pr;
    Error err;
    std::uint8_t seq = 0;
    buf.append(Bytes().frame(pattern(max_frame), 0).frame("x", 5).view());
    Drain d = drain(pr, buf, seq, big_limit, err);
    assert_int_equal(d.packets.size(), 0);
    assert_int_equal(static_cast<int>(d.last), static_cast<int>(FrameStatus::error));
    assert_errc(err.code, Errc::protocol);
}

// frame_payload on a payload of n bytes, after `prefix` bytes already in out.
void check_frame_payload(std::size_t n, std::uint8_t first_seq) {
    const std::string prefix = "PRE";
    std::string payload = pattern(n, 5);
    std::vector<std::uint8_t> out(prefix.begin(), prefix.end());
    out.resize(out.size() + header_size);
    out.insert(out.end(), payload.begin(), payload.end());
    std::uint8_t seq = first_seq;
    frame_payload(out, prefix.size(), seq);

    // Expected: frames of 0xFFFFFF while the rest is >= 0xFFFFFF, then one
    // shorter (possibly empty) frame.
    Bytes want;
    want.str(prefix);
    std::size_t off = 0;
    std::uint8_t s = first_seq;
    for (;;) {
        std::size_t len = std::min(max_frame, n - off);
        want.frame(std::string_view(payload).substr(off, len), s++);
        off += len;
        if (len < max_frame) break;
    }
    std::string_view got(reinterpret_cast<const char *>(out.data()), out.size());
    assert_int_equal(got.size(), want.size());
    assert_true(got == want.view());
    assert_int_equal(seq, s);
    std::size_t frames = n / max_frame + 1;
    assert_int_equal(static_cast<std::uint8_t>(seq - first_seq), frames);
    assert_int_equal(out.size(), prefix.size() + n + frames * header_size);

    // And the reader puts it back together.
    ReadBuffer buf;
    PacketReader pr;
    Error err;
    std::uint8_t rseq = first_seq;
    buf.append(got.substr(prefix.size()));
    Drain d = drain(pr, buf, rseq, big_limit, err);
    assert_int_equal(d.packets.size(), 1);
    assert_true(d.packets[0] == payload);
    assert_int_equal(rseq, seq);
}

void test_frame_payload_sizes(void **) {
    check_frame_payload(0, 0);
    check_frame_payload(1, 0);
    check_frame_payload(0xFFFFFE, 3);
    check_frame_payload(0xFFFFFF, 0);
    check_frame_payload(0x1000000, 0);
    check_frame_payload(0xFFFFFF, 255);  // sequence ids wrap: 255, 0
}

void test_frame_two_packets_in_one_buffer(void **) {
    std::vector<std::uint8_t> out;
    std::uint8_t seq = 0;
    for (std::string_view p : {std::string_view("first"), std::string_view("second!")}) {
        std::size_t start = out.size();
        out.resize(start + header_size);
        out.insert(out.end(), p.begin(), p.end());
        frame_payload(out, start, seq);
    }
    Bytes want;
    want.frame("first", 0).frame("second!", 1);
    assert_sv_equal(std::string_view(reinterpret_cast<const char *>(out.data()), out.size()), want.view());
}

void test_terminate_payload(void **) {
    ReadBuffer buf(64);
    PacketReader pr;
    Error err;
    std::uint8_t seq = 0;
    buf.append(Bytes().frame("abc", 0).frame("defg", 1).view());
    std::string_view p;
    assert_int_equal(static_cast<int>(pr.next(buf, seq, big_limit, p, err)),
                     static_cast<int>(FrameStatus::packet));
    assert_sv_equal(p, "abc");
    pr.terminate_payload(buf, p);
    assert_int_equal(p.data()[3], '\0');  // over the next header's first byte
    // The next packet is intact: its header byte came back.
    assert_int_equal(static_cast<int>(pr.next(buf, seq, big_limit, p, err)),
                     static_cast<int>(FrameStatus::packet));
    assert_sv_equal(p, "defg");
    // This one ends at the end of the buffered bytes: the spare byte takes the NUL.
    pr.terminate_payload(buf, p);
    assert_int_equal(p.data()[4], '\0');
    // More bytes arrive after it (append compacts/grows the buffer).
    std::string third = pattern(200, 9);
    buf.append(Bytes().frame(third, 2).view());
    assert_int_equal(static_cast<int>(pr.next(buf, seq, big_limit, p, err)),
                     static_cast<int>(FrameStatus::packet));
    assert_sv_equal(p, third);
    assert_int_equal(static_cast<int>(pr.next(buf, seq, big_limit, p, err)),
                     static_cast<int>(FrameStatus::need_more));
}

void test_terminate_payload_byte_by_byte(void **) {
    // The terminated byte is the first byte of a header still arriving.
    Bytes stream;
    stream.frame("one", 0).frame("two", 1).frame("three", 2);
    ReadBuffer buf(8);
    PacketReader pr;
    Error err;
    std::uint8_t seq = 0;
    std::vector<std::string> got;
    for (std::size_t pos = 0; pos < stream.size(); ++pos) {
        buf.append(stream.view().substr(pos, 1));
        for (;;) {
            std::string_view p;
            FrameStatus st = pr.next(buf, seq, big_limit, p, err);
            if (st != FrameStatus::packet) {
                assert_int_equal(static_cast<int>(st), static_cast<int>(FrameStatus::need_more));
                break;
            }
            pr.terminate_payload(buf, p);
            assert_int_equal(p.data()[p.size()], '\0');
            got.emplace_back(p.data());  // reads up to the NUL
        }
    }
    assert_int_equal(got.size(), 3);
    assert_sv_equal(got[0], "one");
    assert_sv_equal(got[1], "two");
    assert_sv_equal(got[2], "three");
}

void test_terminate_reassembled(void **) {
    std::string big = pattern(max_frame + 10, 1);
    ReadBuffer buf;
    PacketReader pr;
    Error err;
    std::uint8_t seq = 0;
    buf.append(Bytes()
                   .frame(std::string_view(big).substr(0, max_frame), 0)
                   .frame(std::string_view(big).substr(max_frame), 1)
                   .frame("tail", 2)
                   .view());
    std::string_view p;
    assert_int_equal(static_cast<int>(pr.next(buf, seq, big_limit, p, err)),
                     static_cast<int>(FrameStatus::packet));
    assert_int_equal(p.size(), big.size());
    pr.terminate_payload(buf, p);
    assert_int_equal(p.data()[p.size()], '\0');
    assert_true(p == big);
    assert_int_equal(static_cast<int>(pr.next(buf, seq, big_limit, p, err)),
                     static_cast<int>(FrameStatus::packet));
    assert_sv_equal(p, "tail");
}

void test_read_buffer(void **) {
    ReadBuffer buf(16);
    // Nothing is allocated until first use; then the initial size + a spare byte.
    assert_int_equal(buf.capacity(), 0);
    assert_int_equal(buf.space_size(), 0);
    buf.prepare(1);
    assert_true(buf.capacity() >= 17);  // one spare byte
    assert_true(buf.space_size() >= 16);
    buf.append("0123456789");
    buf.consume(4);
    assert_sv_equal(buf.pending(), "456789");
    buf.prepare(12);  // compacts: 6 pending + 12 fit in 16 + spare
    assert_true(buf.space_size() >= 12);
    assert_sv_equal(buf.pending(), "456789");
    std::memcpy(buf.space(), "abcdefghijkl", 12);
    buf.commit(12);
    assert_sv_equal(buf.pending(), "456789abcdefghijkl");
    // Growing keeps the pending bytes.
    std::string big = pattern(1000);
    buf.append(big);
    assert_sv_equal(buf.pending(), "456789abcdefghijkl" + big);
    assert_true(buf.capacity() > 1000);
    // Once the big bytes are consumed the buffer gives memory back.
    buf.consume(buf.pending().size());
    buf.prepare(4);
    assert_true(buf.capacity() <= 4 * 16 + 1);
    assert_true(buf.space_size() >= 4);
    assert_sv_equal(buf.pending(), "");
}

// A large buffer grows to what it needs, not to twice its size: with a
// 16 MiB (decompressed) packet in it and a few bytes of the next pending, a
// second 16 MiB packet used to double it to 32 MiB (and hold 48 MiB while
// copying), depending on where the bytes had split: the peak memory of the
// scripted compression-bomb tests varied from 32 to 65 MiB between runs.
void test_read_buffer_large_growth(void **) {
    const std::size_t mib = 1u << 20, packet = 16 * mib;
    ReadBuffer buf;
    buf.prepare(packet);
    const std::size_t first = buf.capacity();
    assert_true(first >= packet + 1 && first <= packet + mib + 1);
    buf.commit(packet);
    buf.consume(packet - 100);  // 100 bytes of the next packet are pending
    buf.prepare(packet);
    assert_true(buf.space_size() >= packet);
    assert_true(buf.capacity() <= packet + 100 + mib + 1);
    assert_int_equal(buf.pending().size(), 100);
}

// Once nothing is pending, the next bytes go to the start of the buffer
// again (its lines are still cached), not on through it; bytes still pending
// stay where they are.
void test_read_buffer_rewinds_when_empty(void **) {
    ReadBuffer buf(64);
    buf.prepare(8);
    const std::uint8_t *start = buf.space();
    buf.append("first reply");
    buf.consume(buf.pending().size());
    buf.prepare(8);
    assert_ptr_equal(buf.space(), start);
    buf.append("second");
    buf.consume(3);
    buf.prepare(8);  // "ond" pending, room enough after it: not moved
    assert_sv_equal(buf.pending(), "ond");
    assert_ptr_equal(buf.space(), start + 6);
    buf.consume(3);
    buf.prepare(8);
    assert_ptr_equal(buf.space(), start);
    assert_sv_equal(buf.pending(), "");
}

}  // namespace

// S9: reassembly keeps at most the limit (not twice the packet), and the
// buffer is given back once an ordinary packet follows the large one.
void test_reassembly_buffer_is_bounded_and_released(void **) {
    const std::size_t limit = 40u << 20;  // two full frames fit, four would not
    std::string big = pattern(2 * max_frame + 10, 3);
    Bytes stream;
    stream.frame(std::string_view(big).substr(0, max_frame), 0)
        .frame(std::string_view(big).substr(max_frame, max_frame), 1)
        .frame(std::string_view(big).substr(2 * max_frame), 2)
        .frame("small", 3);
    ReadBuffer buf;
    PacketReader pr;
    Error err;
    std::uint8_t seq = 0;
    buf.append(stream.view());
    std::string_view payload;
    assert_int_equal(static_cast<int>(pr.next(buf, seq, limit, payload, err)),
                     static_cast<int>(FrameStatus::packet));
    assert_true(payload == big);
    assert_true(pr.reassembly_capacity() >= big.size());
    assert_true(pr.reassembly_capacity() <= limit + 1);
    assert_int_equal(static_cast<int>(pr.next(buf, seq, limit, payload, err)),
                     static_cast<int>(FrameStatus::packet));
    assert_sv_equal(payload, "small");
    assert_int_equal(pr.reassembly_capacity(), 0);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_wrong_sequence_id),
        cmocka_unit_test(test_sequence_wraps),
        cmocka_unit_test(test_limit_before_payload),
        cmocka_unit_test(test_limit_on_continuation_header),
        cmocka_unit_test(test_split_then_empty_frame),
        cmocka_unit_test(test_split_then_one_byte),
        cmocka_unit_test(test_split_three_frames),
        cmocka_unit_test(test_split_wrong_sequence_in_continuation),
        cmocka_unit_test(test_frame_payload_sizes),
        cmocka_unit_test(test_frame_two_packets_in_one_buffer),
        cmocka_unit_test(test_terminate_payload),
        cmocka_unit_test(test_terminate_payload_byte_by_byte),
        cmocka_unit_test(test_terminate_reassembled),
        cmocka_unit_test(test_read_buffer),
        cmocka_unit_test(test_read_buffer_large_growth),
        cmocka_unit_test(test_read_buffer_rewinds_when_empty),
        cmocka_unit_test(test_reassembly_buffer_is_bounded_and_released),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
