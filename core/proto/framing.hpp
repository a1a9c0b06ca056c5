// Packet framing: a 3-byte little-endian length and a 1-byte sequence id in
// front of every payload. Payloads of 0xFFFFFF bytes or more are split into
// 0xFFFFFF-byte frames, ending with a shorter (possibly empty) frame.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "proto/endian.hpp"
#include "proto/errors.hpp"

namespace mywire::proto {

inline constexpr std::size_t max_frame = 0xFFFFFF;
inline constexpr std::size_t header_size = 4;
// How far ahead of the row being taken PacketReader::next_row prefetches (a
// few rows of a typical result; 256 to 1024 measured the same).
inline constexpr std::size_t row_prefetch_distance = 512;

// A contiguous, reusable buffer that the I/O layer reads into and the framing
// layer takes packets out of. Bytes [begin, end) are pending; after end there
// is always at least one spare byte, so a payload ending at end can be
// NUL-terminated in place.
class ReadBuffer {
public:
    ReadBuffer() : ReadBuffer(64 * 1024) {}
    explicit ReadBuffer(std::size_t initial);

    std::string_view pending() const {
        return {reinterpret_cast<const char *>(buf_.get() + begin_), end_ - begin_};
    }
    void consume(std::size_t n) { begin_ += n; }
    // Make room for at least `want` more bytes (compacting, then growing).
    void prepare(std::size_t want);
    std::uint8_t *space() { return buf_.get() + end_; }
    // Free bytes after end, less the spare byte.
    std::size_t space_size() const { return size_ ? size_ - 1 - end_ : 0; }
    void commit(std::size_t n) { end_ += n; }
    // Feed bytes directly (tests, in-memory transports).
    void append(std::string_view bytes);

    // Write a NUL right after `payload_end` (which must lie in this buffer's
    // pending or consumed region), remembering the byte it replaces; the next
    // restore() puts it back.
    void terminate_at(const char *payload_end) {  // inline: once per streamed row
        restore();
        auto *p = reinterpret_cast<std::uint8_t *>(const_cast<char *>(payload_end));
        saved_ = *p;
        *p = 0;
        patched_ = p;
    }
    // terminate_at when nothing is patched (right after PacketReader::next,
    // which restores first): the same without the restore.
    void terminate_unpatched(const char *payload_end) {
        auto *p = reinterpret_cast<std::uint8_t *>(const_cast<char *>(payload_end));
        saved_ = *p;
        *p = 0;
        patched_ = p;
    }
    void restore() {
        if (patched_) {
            *patched_ = saved_;
            patched_ = nullptr;
        }
    }
    std::size_t capacity() const { return size_; }

private:
    // Move the pending bytes to the start of a new buffer of n bytes.
    void reallocate(std::size_t n);
    // A large packet passed (the buffer holds over 4x its initial size) and
    // `needed` bytes, the spare one included, fit in the initial size: then
    // prepare gives the memory back.
    bool oversized(std::size_t needed) const { return size_ > 4 * initial_ + 1 && needed <= initial_ + 1; }

    // Allocated on first use and never zero-filled: a connection that is
    // created and connected pays for no memset of its buffer.
    std::unique_ptr<std::uint8_t[]> buf_;
    std::size_t size_ = 0;  // allocated bytes, the spare byte included
    std::size_t initial_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::uint8_t *patched_ = nullptr;
    std::uint8_t saved_ = 0;
};

enum class FrameStatus { packet, need_more, error };

// Takes whole logical packets out of a ReadBuffer, reassembling split ones,
// checking sequence ids and the size limit. A returned payload view is valid
// until the next call to next() or any change to the buffer.
class PacketReader {
public:
    // Returns packet with `payload` set; need_more when the buffer lacks bytes
    // (need_hint() then tells how many more would complete the current frame);
    // error with `err` set.
    FrameStatus next(ReadBuffer &buf, std::uint8_t &seq, std::size_t max_packet,
                     std::string_view &payload, Error &err) {
        if (take_whole<false>(buf, seq, max_packet, payload)) return FrameStatus::packet;
        return next_slow(buf, seq, max_packet, payload, err);
    }
    // next()'s fast path alone, for a row: true with `payload` set when a
    // whole, unsplit, in-sequence packet is in the buffer and its first byte
    // is below 0xFE (not an end marker or an error: a row of a result set);
    // false with nothing consumed otherwise (then next() decides).
    bool next_row(ReadBuffer &buf, std::uint8_t &seq, std::size_t max_packet, std::string_view &payload) {
        return take_whole<true>(buf, seq, max_packet, payload);
    }
    std::size_t need_hint() const { return need_; }
    // NUL-terminate the payload last returned by next(), in place (nothing
    // may have been terminated since that next()).
    void terminate_payload(ReadBuffer &buf, std::string_view payload) {
        if (big_returned_ && payload.data() == reinterpret_cast<const char *>(big_.data())) {
            big_.back() = 0;  // the spare byte next() appended
            return;
        }
        buf.terminate_unpatched(payload.data() + payload.size());  // next() restored
    }
    // Forget a partially reassembled packet (after an error).
    void reset();
    // Under the compressed protocol the servers do not keep the plain
    // packets' sequence ids in order (the compressed packets' ids are
    // checked instead), so the check is turned off there.
    void check_sequence(bool on) { check_sequence_ = on; }
    // Bytes held for reassembling split packets (0 once ordinary packets follow).
    std::size_t reassembly_capacity() const { return big_.capacity(); }

private:
    // The fast path of next() and next_row(): a whole, unsplit, in-sequence
    // packet is in the buffer (Row: and its first byte is below 0xFE) --
    // taken, true; else nothing consumed, false.
    template <bool Row>
    [[gnu::always_inline]] bool take_whole(ReadBuffer &buf, std::uint8_t &seq, std::size_t max_packet,
                                           std::string_view &payload) {
        buf.restore();
        if (!plain_) return false;
        std::string_view in = buf.pending();
        if (in.size() < header_size) return false;
        // The whole header in one load: 3 bytes of length, the sequence id.
        const std::uint32_t h = load_le<std::uint32_t>(in.data());
        const std::size_t len = h & 0xFFFFFF;
        const auto id = static_cast<std::uint8_t>(h >> 24);
        if (len >= max_frame || (id != seq && check_sequence_) || len > max_packet || in.size() < header_size + len)
            return false;
        if (Row && (len == 0 || static_cast<std::uint8_t>(in[header_size]) >= 0xFE)) return false;
        seq = static_cast<std::uint8_t>(id + 1);
        // Rows are read front to back through bytes recv() has just
        // written, mostly no longer in L1 (a read is tens of KiB): ask for
        // the bytes a few rows on now, so that the header load of a later
        // row does not wait for them (the streaming fetch stalled there;
        // 5% less CPU per row, tests/bench stream). Past the end it loads
        // nothing: a prefetch never faults.
        if (Row) __builtin_prefetch(in.data() + row_prefetch_distance);
        buf.consume(header_size + len);
        payload = std::string_view(in.data() + header_size, len);
        return true;
    }
    FrameStatus next_slow(ReadBuffer &buf, std::uint8_t &seq, std::size_t max_packet,
                          std::string_view &payload, Error &err);
    std::vector<std::uint8_t> big_;  // reassembly of split packets
    bool assembling_ = false;
    bool big_returned_ = false;
    bool plain_ = true;  // neither of the two: next()'s fast path may run
    bool check_sequence_ = true;
    std::size_t need_ = 0;
};

// Frame the payload at out[start + 4, out.end()) whose 4 header bytes at
// out[start] were reserved, splitting it when it is 0xFFFFFF bytes or more.
// seq is the id of the first frame and is advanced past the last one.
void frame_payload(std::vector<std::uint8_t> &out, std::size_t start, std::uint8_t &seq);

}  // namespace mywire::proto
