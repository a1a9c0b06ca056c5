// apply_uri on arbitrary text: a refused URI changes nothing; an accepted one
// gives options within their documented ranges, and applying it again to the
// result changes nothing more.
#include "fuzz.hpp"
#include "options.hpp"

using mywire::Errc;
using mywire::Options;

namespace {
bool same(const Options &a, const Options &b) {
    return a.host == b.host && a.port == b.port && a.unix_socket == b.unix_socket && a.user == b.user &&
           a.password == b.password && a.database == b.database &&
           a.connect_timeout_ms == b.connect_timeout_ms && a.read_timeout_ms == b.read_timeout_ms &&
           a.write_timeout_ms == b.write_timeout_ms && a.max_allowed_packet == b.max_allowed_packet &&
           a.max_result_bytes == b.max_result_bytes && a.max_columns == b.max_columns &&
           a.multi_statements == b.multi_statements && a.charset == b.charset &&
           a.connect_attrs == b.connect_attrs;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    std::string_view uri = fuzz::as_view(data, size);
    Options before;
    before.host = "h0";
    before.user = "u0";
    before.password = "p0";
    before.database = "d0";
    before.unix_socket = "/s0";
    before.port = 1234;
    before.connect_attrs = {{"k", "v"}};
    Options o = before;
    mywire::Error err;
    Errc rc = mywire::apply_uri(o, uri, err);
    FUZZ_CHECK(rc == Errc::ok || rc == Errc::uri);
    FUZZ_CHECK(err.code == rc);
    if (rc != Errc::ok) {
        FUZZ_CHECK(same(o, before));
        FUZZ_CHECK(!err.message.empty());
        return 0;
    }
    FUZZ_CHECK(o.port >= 1 && o.port <= 65535);
    FUZZ_CHECK(o.max_columns >= 1 && o.max_columns <= 65535);
    FUZZ_CHECK(o.charset >= 1 && o.charset <= 255);
    FUZZ_CHECK(o.max_allowed_packet >= mywire::min_packet_limit &&
               o.max_allowed_packet <= mywire::max_packet_limit);
    Options again = o;
    mywire::Error err2;
    FUZZ_CHECK(mywire::apply_uri(again, uri, err2) == Errc::ok);
    FUZZ_CHECK(same(again, o));
    return 0;
}
