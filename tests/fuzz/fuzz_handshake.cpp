// parse_handshake on arbitrary payloads, and the same payload as the greeting
// of a HandshakeOp (which must answer with a write or fail cleanly).
#include "mywire.h"
#include "fuzz.hpp"
#include "proto/messages.hpp"
#include "proto/operations.hpp"

using namespace mywire::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    std::string_view in = fuzz::as_view(data, size);
    Handshake hs;
    mywire::Errc rc = parse_handshake(in, hs);
    FUZZ_CHECK(rc == mywire::Errc::ok || rc == mywire::Errc::protocol || rc == mywire::Errc::unsupported);
    if (rc == mywire::Errc::ok) {
        FUZZ_CHECK(hs.protocol_version == 10);
        FUZZ_CHECK(fuzz::inside(hs.server_version, in));
        FUZZ_CHECK(fuzz::inside(hs.auth_plugin, in));
        FUZZ_CHECK(hs.scramble.size() <= size);
        FUZZ_CHECK(hs.capabilities & cap::protocol_41);
    }

    mywire::Options opts;
    opts.user = "fuzz";
    opts.password = "pw";
    opts.database = size % 2 ? "db" : "";
    ServerInfo info;
    Session s;
    std::string frame;
    frame.push_back(static_cast<char>(size & 0xFF));
    frame.push_back(static_cast<char>((size >> 8) & 0xFF));
    frame.push_back(static_cast<char>((size >> 16) & 0xFF));
    frame.push_back(0);
    frame.append(in);
    s.rbuf.append(frame);
    HandshakeOp op(opts, false, MYWIRE_SSL_MODE_PREFERRED, info);
    Action a = op.resume(s);
    if (size >= 0xFFFFFF) return 0;
    FUZZ_CHECK(a == Action::write || a == Action::start_tls || a == Action::error);
    if (a == Action::start_tls) {
        // The SSLRequest: 32 bytes of capabilities, limits and filler, and
        // nothing about the user before TLS is up.
        FUZZ_CHECK(s.wbuf.size() == 4 + 32 && s.wbuf[3] == 1);
        FUZZ_CHECK(s.capabilities & mywire::proto::cap::ssl);
        return 0;
    }
    if (a == Action::error) {
        FUZZ_CHECK(s.err.code != mywire::Errc::ok);
        FUZZ_CHECK(s.err.message.size() <= 1024);
    } else {
        // A greeting that starts a login parses, and the response is one packet with id 1.
        FUZZ_CHECK(rc == mywire::Errc::ok);
        FUZZ_CHECK(s.wbuf.size() >= 4 + 32);
        std::size_t len = s.wbuf[0] | s.wbuf[1] << 8 | s.wbuf[2] << 16;
        FUZZ_CHECK(len + 4 == s.wbuf.size());
        FUZZ_CHECK(s.wbuf[3] == 1);
        FUZZ_CHECK((s.capabilities & ~hs.capabilities) == 0);
    }
    return 0;
}
