#include "proto/framing.hpp"

#include <algorithm>

#include <cstring>
#include <string>

namespace mywire::proto {

ReadBuffer::ReadBuffer(std::size_t initial) : initial_(initial) {}

void ReadBuffer::reallocate(std::size_t n) {
    std::size_t pending_bytes = end_ - begin_;
    std::unique_ptr<std::uint8_t[]> fresh(new std::uint8_t[n]);  // not zeroed
    if (pending_bytes) std::memcpy(fresh.get(), buf_.get() + begin_, pending_bytes);
    buf_ = std::move(fresh);
    size_ = n;
    begin_ = 0;
    end_ = pending_bytes;
}

void ReadBuffer::prepare(std::size_t want) {
    restore();
    // Nothing pending: the next bytes go to the start again, where the last
    // reply's lines are still in the cache, rather than on through the
    // buffer into cold ones (a connection of small replies walked its whole
    // 64 KiB, and the kernel's copy and our first loads each missed).
    if (begin_ == end_) {
        begin_ = end_ = 0;
        if (oversized(want + 1)) return reallocate(initial_ + 1);
    }
    if (space_size() >= want) return;
    std::size_t pending_bytes = end_ - begin_;
    std::size_t needed = pending_bytes + want + 1;
    if (size_ >= needed) {
        if (pending_bytes) std::memmove(buf_.get(), buf_.get() + begin_, pending_bytes);
        begin_ = 0;
        end_ = pending_bytes;
        if (oversized(needed)) reallocate(initial_ + 1);
        return;
    }
    // Doubling keeps small reads cheap; past 4 MiB (a big packet, or a bomb
    // announcing one) the buffer grows to what is needed, in whole MiB:
    // doubling 16 MiB for a few bytes more would hold 48 MiB while copying.
    constexpr std::size_t mib = std::size_t{1} << 20;
    std::size_t grown = size_ ? size_ * 2 : initial_ + 1;
    if (needed > 4 * mib) grown = (needed + mib - 1) / mib * mib;
    reallocate(grown > needed ? grown : needed);
}

void ReadBuffer::append(std::string_view bytes) {
    if (bytes.empty()) return;  // nothing to copy, and no buffer to copy to yet
    prepare(bytes.size());
    std::memcpy(space(), bytes.data(), bytes.size());
    commit(bytes.size());
}

FrameStatus PacketReader::next_slow(ReadBuffer &buf, std::uint8_t &seq, std::size_t max_packet,
                               std::string_view &payload, Error &err) {
    buf.restore();
    if (big_returned_) {
        big_.clear();
        big_returned_ = false;
        plain_ = true;
    }
    for (;;) {
        std::string_view in = buf.pending();
        if (in.size() < header_size) {
            need_ = header_size - in.size();
            return FrameStatus::need_more;
        }
        auto *h = reinterpret_cast<const std::uint8_t *>(in.data());
        std::size_t len = h[0] | (std::size_t(h[1]) << 8) | (std::size_t(h[2]) << 16);
        if (h[3] != seq && check_sequence_) {
            reset();
            err.set(Errc::protocol, "packets out of order: expected sequence id " +
                                        std::to_string(seq) + ", got " + std::to_string(h[3]));
            return FrameStatus::error;
        }
        std::size_t total = (assembling_ ? big_.size() : 0) + len;
        if (total > max_packet) {
            reset();
            err.set(Errc::limit, "packet of " + std::to_string(total) +
                                     (len == max_frame ? "+" : "") +
                                     " bytes from the server exceeds max_allowed_packet (" +
                                     std::to_string(max_packet) + ")");
            return FrameStatus::error;
        }
        if (in.size() < header_size + len) {
            need_ = header_size + len - in.size();
            return FrameStatus::need_more;
        }
        seq = static_cast<std::uint8_t>(h[3] + 1);
        const char *data = in.data() + header_size;
        buf.consume(header_size + len);
        if (!assembling_ && len < max_frame) {
            // Back to ordinary packets: give back the reassembly buffer a
            // large packet needed, so an idle connection does not keep it.
            if (big_.capacity()) std::vector<std::uint8_t>().swap(big_);
            payload = std::string_view(data, len);
            return FrameStatus::packet;
        }
        if (big_.capacity() < total + 1) {
            // Grow geometrically while frames keep coming, never past the limit.
            std::size_t want = len == max_frame ? total * 2 + 1 : total + 1;
            big_.reserve(std::max(total + 1, std::min(want, max_packet + 1)));
        }
        big_.insert(big_.end(), data, data + len);
        assembling_ = true;
        plain_ = false;
        if (len == max_frame) continue;  // more frames follow (maybe an empty one)
        assembling_ = false;
        big_returned_ = true;
        big_.push_back(0);  // not part of the payload: room for terminate_payload's NUL
        payload = std::string_view(reinterpret_cast<const char *>(big_.data()), big_.size() - 1);
        return FrameStatus::packet;
    }
}

void PacketReader::reset() {
    big_.clear();
    big_.shrink_to_fit();
    assembling_ = false;
    big_returned_ = false;
    plain_ = true;
}

void frame_payload(std::vector<std::uint8_t> &out, std::size_t start, std::uint8_t &seq) {
    std::size_t len = out.size() - start - header_size;
    if (len < max_frame) {
        out[start] = static_cast<std::uint8_t>(len);
        out[start + 1] = static_cast<std::uint8_t>(len >> 8);
        out[start + 2] = static_cast<std::uint8_t>(len >> 16);
        out[start + 3] = seq++;
        return;
    }
    // Split: rebuild the tail with a header in front of every frame.
    std::vector<std::uint8_t> payload(out.begin() + static_cast<std::ptrdiff_t>(start + header_size),
                                      out.end());
    out.resize(start);
    std::size_t off = 0;
    for (;;) {
        std::size_t n = payload.size() - off < max_frame ? payload.size() - off : max_frame;
        out.push_back(static_cast<std::uint8_t>(n));
        out.push_back(static_cast<std::uint8_t>(n >> 8));
        out.push_back(static_cast<std::uint8_t>(n >> 16));
        out.push_back(seq++);
        out.insert(out.end(), payload.begin() + static_cast<std::ptrdiff_t>(off),
                   payload.begin() + static_cast<std::ptrdiff_t>(off + n));
        off += n;
        if (n < max_frame) break;  // the last frame is shorter, possibly empty
    }
}

}  // namespace mywire::proto
