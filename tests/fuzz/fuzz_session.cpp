// A whole session against a server whose bytes are the input: login
// (HandshakeOp), one query (ResultHeadOp), its rows (RowOp, parse_text_row).
// Byte 0 seeds the sizes of the reads. Whatever the server sends, every
// operation ends in done or a clean error, and what it hands out is sound.
#include <cstring>
#include <string>
#include <vector>

#include "mywire.h"
#include "fuzz.hpp"
#include "proto/operations.hpp"

using namespace mywire::proto;
using mywire::Errc;

namespace {

struct Feeder {
    std::string_view in;
    std::size_t pos = 0;
    std::uint32_t rng;
    // Resume op to done or error; false when the input ran out first.
    template <class Op>
    bool run(Op &op, Session &s, Action &a) {
        for (int guard = 0; guard < 1000000; ++guard) {
            a = op.resume(s);
            if (a == Action::done || a == Action::error) return true;
            if (a == Action::write) {
                FUZZ_CHECK(!s.wbuf.empty());
                s.wbuf.clear();
                continue;
            }
            FUZZ_CHECK(s.read_hint() > 0);
            if (pos == in.size()) return false;
            rng = rng * 1103515245u + 12345u;
            std::size_t n = 1 + (rng >> 16) % 64;
            if (n > in.size() - pos) n = in.size() - pos;
            s.rbuf.append(in.substr(pos, n));
            pos += n;
        }
        FUZZ_CHECK(!"an operation looped without progress");
        return false;
    }
};

bool clean_error(const Session &s) {
    switch (s.err.code) {
    case Errc::server:
    case Errc::protocol:
    case Errc::auth:
    case Errc::limit:
    case Errc::unsupported:
        return s.err.message.size() <= 1024;
    default:
        return false;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size < 1) return 0;
    Feeder f{fuzz::as_view(data + 1, size - 1), 0, data[0] * 2654435761u + 7};
    mywire::Options opts;
    opts.user = "fuzz";
    opts.password = "pw";
    ServerInfo info;
    Session s;
    s.max_packet = 1u << 20;
    Action a;
    HandshakeOp login(opts, false, MYWIRE_SSL_MODE_DISABLED, info);
    if (!f.run(login, s, a)) return 0;
    if (a == Action::error) {
        FUZZ_CHECK(clean_error(s));
        return 0;
    }

    ResultHead head;
    ResultHeadOp query(head, 64);
    query.set_query("SELECT 1");
    if (!f.run(query, s, a)) return 0;
    if (a == Action::error) {
        FUZZ_CHECK(clean_error(s));
        return 0;
    }
    for (const mywire::Column &c : head.columns) {
        FUZZ_CHECK(c.name && std::strlen(c.name) <= c.name_len && c.name[c.name_len] == '\0');
        FUZZ_CHECK(c.schema && c.schema[c.schema_len] == '\0');
    }
    if (head.columns.empty()) return 0;
    std::vector<Value> values(head.columns.size());
    for (int rows = 0; rows < 10000; ++rows) {
        RowOp row;
        if (!f.run(row, s, a)) return 0;
        if (a == Action::error) {
            FUZZ_CHECK(clean_error(s));
            return 0;
        }
        if (row.end) return 0;
        Errc rc = parse_text_row(row.payload, head.columns.size(), values.data());
        FUZZ_CHECK(rc == Errc::ok || rc == Errc::protocol);
    }
    return 0;
}
