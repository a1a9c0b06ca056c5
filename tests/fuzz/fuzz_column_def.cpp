// parse_column_def, and the same packet read by a ResultHeadOp, whose copied
// column strings must match what the parser saw.
#include <cstring>

#include "fuzz.hpp"
#include "proto/messages.hpp"
#include "proto/operations.hpp"

using namespace mywire::proto;
using mywire::Errc;

namespace {
std::string frame(std::string_view payload, std::uint8_t seq) {
    std::string f;
    f.push_back(static_cast<char>(payload.size() & 0xFF));
    f.push_back(static_cast<char>((payload.size() >> 8) & 0xFF));
    f.push_back(static_cast<char>((payload.size() >> 16) & 0xFF));
    f.push_back(static_cast<char>(seq));
    f.append(payload);
    return f;
}
bool same(const char *s, std::size_t len, std::string_view v) {
    return len == v.size() && std::memcmp(s, v.data(), len) == 0 && s[len] == '\0';
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    std::string_view in = fuzz::as_view(data, size);
    ColumnDef d;
    Errc rc = parse_column_def(in, d);
    FUZZ_CHECK(rc == Errc::ok || rc == Errc::protocol);
    if (rc == Errc::ok) {
        for (std::string_view v : {d.catalog, d.schema, d.table, d.org_table, d.name, d.org_name})
            FUZZ_CHECK(fuzz::inside(v, in));
    }
    if (size >= 0xFFFFFF) return 0;

    Session s;
    s.capabilities = cap::protocol_41 | cap::deprecate_eof;
    s.seq = 1;
    s.rbuf.append(frame("\x01", 1));
    s.rbuf.append(frame(in, 2));
    ResultHead head;
    ResultHeadOp op(head, 16);
    Action a = op.resume(s);
    if (rc != Errc::ok) {
        FUZZ_CHECK(a == Action::error && s.err.code == Errc::protocol);
        return 0;
    }
    FUZZ_CHECK(a == Action::done);
    FUZZ_CHECK(head.columns.size() == 1);
    const mywire::Column &c = head.columns[0];
    FUZZ_CHECK(same(c.name, c.name_len, d.name));
    FUZZ_CHECK(same(c.org_name, c.org_name_len, d.org_name));
    FUZZ_CHECK(same(c.table, c.table_len, d.table));
    FUZZ_CHECK(same(c.org_table, c.org_table_len, d.org_table));
    FUZZ_CHECK(same(c.schema, c.schema_len, d.schema));
    FUZZ_CHECK(c.type == d.type && c.flags == d.flags && c.charset == d.charset);
    return 0;
}
