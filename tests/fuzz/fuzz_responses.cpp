// The generic replies (OK, ERR, EOF), the auth exchange packets and the
// column count. The first byte picks the negotiated capabilities.
#include "fuzz.hpp"
#include "proto/messages.hpp"
#include "proto/operations.hpp"

using namespace mywire::proto;
using mywire::Errc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size == 0) return 0;
    std::uint32_t caps = 0;
    if (data[0] & 1) caps |= cap::protocol_41;
    if (data[0] & 2) caps |= cap::session_track;
    if (data[0] & 4) caps |= cap::deprecate_eof;
    std::string_view in = fuzz::as_view(data + 1, size - 1);

    OkPacket ok;
    Errc rc = parse_ok(in, caps, ok);
    FUZZ_CHECK(rc == Errc::ok || rc == Errc::protocol);
    if (rc == Errc::ok) {
        FUZZ_CHECK(fuzz::inside(ok.info, in));
        FUZZ_CHECK(in.size() >= 7);
        FUZZ_CHECK(std::uint8_t(in[0]) == 0x00 || std::uint8_t(in[0]) == 0xFE);
    }

    ErrPacket err;
    rc = parse_err(in, caps, err);
    FUZZ_CHECK(rc == Errc::ok || rc == Errc::protocol);
    if (rc == Errc::ok) {
        FUZZ_CHECK(is_err(in));
        FUZZ_CHECK(err.sqlstate.empty() || err.sqlstate.size() == 5);
        FUZZ_CHECK(fuzz::inside(err.sqlstate, in) && fuzz::inside(err.message, in));
    }
    // The session's error from it: bounded, no NUL inside.
    Session s;
    s.capabilities = caps;
    if (is_err(in)) {
        Errc e = s.server_error(in);
        FUZZ_CHECK(e == Errc::server || e == Errc::protocol);
        FUZZ_CHECK(s.err.message.size() <= mywire::max_server_message);
        FUZZ_CHECK(s.err.message.find('\0') == std::string::npos);
    }

    EofPacket eof;
    rc = parse_eof(in, eof);
    FUZZ_CHECK(rc == Errc::ok || rc == Errc::protocol);
    if (rc == Errc::ok) FUZZ_CHECK(is_end_marker(in, false) && is_end_marker(in, true));

    AuthSwitch sw;
    rc = parse_auth_switch(in, sw);
    FUZZ_CHECK(rc == Errc::ok || rc == Errc::protocol || rc == Errc::unsupported);
    if (rc == Errc::ok) {
        FUZZ_CHECK(!sw.plugin.empty());
        FUZZ_CHECK(sw.plugin.find('\0') == std::string_view::npos);
        FUZZ_CHECK(fuzz::inside(sw.plugin, in) && fuzz::inside(sw.data, in));
    }

    std::string_view more;
    rc = parse_auth_more_data(in, more);
    FUZZ_CHECK(rc == Errc::ok || rc == Errc::protocol);
    if (rc == Errc::ok) FUZZ_CHECK(more.size() + 1 == in.size());

    std::uint64_t count = 0;
    rc = parse_column_count(in, count);
    FUZZ_CHECK(rc == Errc::ok || rc == Errc::protocol);
    if (rc == Errc::ok) FUZZ_CHECK(count > 0 && in.size() <= 9);
    return 0;
}
