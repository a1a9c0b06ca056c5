// parse_text_row with the column count from the first byte, checked against
// parse_text_row_in_place on a copy: same verdict, same values, and the in
// place values NUL-terminated.
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz.hpp"
#include "proto/messages.hpp"

using namespace mywire::proto;
using mywire::Errc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size == 0) return 0;
    std::size_t columns = data[0];
    std::string_view in = fuzz::as_view(data + 1, size - 1);
    std::vector<Value> a(columns + 1), b(columns + 1);
    Errc rc = parse_text_row(in, columns, a.data());
    FUZZ_CHECK(rc == Errc::ok || rc == Errc::protocol);

    std::unique_ptr<char[]> copy(new char[in.size() + 1]);
    std::memcpy(copy.get(), in.data(), in.size());
    copy[in.size()] = 'X';
    Errc rc2 = parse_text_row_in_place(copy.get(), in.size(), columns, b.data());
    FUZZ_CHECK(rc == rc2);
    if (rc != Errc::ok) return 0;
    std::size_t total = 0;
    for (std::size_t i = 0; i < columns; ++i) {
        if (!a[i].data) {
            FUZZ_CHECK(!b[i].data);
            ++total;
            continue;
        }
        FUZZ_CHECK(fuzz::inside(std::string_view(a[i].data, a[i].len), in));
        FUZZ_CHECK(b[i].data && b[i].len == a[i].len);
        FUZZ_CHECK(b[i].data - copy.get() == a[i].data - in.data());
        FUZZ_CHECK(std::memcmp(a[i].data, b[i].data, a[i].len) == 0);
        if (i + 1 < columns) FUZZ_CHECK(b[i].data[b[i].len] == '\0');
        total += a[i].len + 1;
    }
    FUZZ_CHECK(total <= in.size());  // each value took its length prefix too
    FUZZ_CHECK(copy[in.size()] == 'X');  // the byte after the payload is the caller's
    return 0;
}
