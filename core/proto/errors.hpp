// Result codes and the error record the core hands to the C API.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "mywire.h"

namespace mywire {

// The same numbers as the public MYWIRE_* result codes.
enum class Errc : int {
    ok = MYWIRE_OK,
    server = MYWIRE_ERROR_SERVER,
    argument = MYWIRE_ERROR_ARGUMENT,
    option = MYWIRE_ERROR_OPTION,
    uri = MYWIRE_ERROR_URI,
    nomem = MYWIRE_ERROR_NOMEM,
    connect = MYWIRE_ERROR_CONNECT,
    timeout = MYWIRE_ERROR_TIMEOUT,
    lost = MYWIRE_ERROR_LOST,
    protocol = MYWIRE_ERROR_PROTOCOL,
    auth = MYWIRE_ERROR_AUTH,
    out_of_sync = MYWIRE_ERROR_OUT_OF_SYNC,
    state = MYWIRE_ERROR_STATE,
    limit = MYWIRE_ERROR_LIMIT,
    unsupported = MYWIRE_ERROR_UNSUPPORTED,
    internal = MYWIRE_ERROR_INTERNAL,
    tls = MYWIRE_ERROR_TLS,
};

// Longest server message kept; the rest is cut (server text is untrusted).
inline constexpr std::size_t max_server_message = 512;

// The last error of a connection. Client errors: errno 0, SQLSTATE HY000 and
// a message written by mywire. Server errors: the server's number, SQLSTATE
// and (bounded, untrusted) message.
struct Error {
    Errc code = Errc::ok;
    unsigned server_errno = 0;
    char sqlstate[6] = "00000";
    std::string message;

    void clear() {
        code = Errc::ok;
        server_errno = 0;
        std::string_view("00000").copy(sqlstate, 5);
        message.clear();
    }
    // A client-side error; msg must not contain server-supplied text.
    // Never throws: without memory for the text the message stays empty
    // (the C API then gives the code's static text).
    Errc set(Errc c, std::string_view msg) noexcept {
        code = c;
        server_errno = 0;
        std::string_view("HY000").copy(sqlstate, 5);
        try {
            message.assign(msg);
        } catch (...) {
            message.clear();
        }
        return c;
    }
    Errc set_server(unsigned number, std::string_view state, std::string_view msg) noexcept {
        code = Errc::server;
        server_errno = number;
        if (state.size() == 5)
            state.copy(sqlstate, 5);
        else
            std::string_view("HY000").copy(sqlstate, 5);
        // Bounded, and NUL bytes dropped so the C string stays whole.
        message.clear();
        try {
            message.reserve(std::min(msg.size(), max_server_message));
            for (char ch : msg.substr(0, max_server_message))
                if (ch != '\0') message.push_back(ch);
        } catch (...) {
            message.clear();
        }
        return Errc::server;
    }
    bool ok() const { return code == Errc::ok; }
};

}  // namespace mywire
