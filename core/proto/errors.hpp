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
    cancelled = MYWIRE_ERROR_CANCELLED,
    result_too_large = MYWIRE_ERROR_RESULT_TOO_LARGE,
};

// Where a client-side failure happened, for programs that must tell them
// apart (retry logic, CR_* numbers of a compatibility layer, Go's
// driver.ErrBadConn): stable numbers, the same as MYWIRE_CLIENT_ERROR_*.
enum class ClientError : int {
    none = 0,
    resolve = 1,          // the host name could not be resolved
    refused = 2,          // every address refused the connection
    unreachable = 3,      // no route / network unreachable
    connect_timeout = 4,  // connect_timeout passed while connecting or logging in
    send_failed = 5,      // a write to the socket failed
    lost_reading = 6,     // the peer closed or reset while a reply was read
    read_timeout = 7,
    write_timeout = 8,
    tls = 9,              // a TLS error (handshake, alert, certificate)
    cancelled = 10,       // mywire_cancel stopped the statement
    aborted = 11,         // mywire_abort woke the call and closed the connection
    other = 12,           // any other client-side failure
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
    ClientError client = ClientError::none;  // for client-side errors
    // Whether any byte of the failing command had reached the socket (a
    // command that failed before sending anything may be retried safely).
    bool sent = false;

    void clear() {
        code = Errc::ok;
        client = ClientError::none;
        sent = false;
        server_errno = 0;
        std::string_view("00000").copy(sqlstate, 5);
        message.clear();
    }
    // A client-side error; msg must not contain server-supplied text.
    // Never throws: without memory for the text the message stays empty
    // (the C API then gives the code's static text).
    Errc set(Errc c, std::string_view msg) noexcept {
        code = c;
        client = ClientError::other;
        server_errno = 0;
        std::string_view("HY000").copy(sqlstate, 5);
        try {
            message.assign(msg);
        } catch (...) {
            message.clear();
        }
        return c;
    }
    // A client-side error with where it happened.
    Errc set(Errc c, ClientError where, std::string_view msg) noexcept {
        set(c, msg);
        client = where;
        return c;
    }
    Errc set_server(unsigned number, std::string_view state, std::string_view msg) noexcept {
        code = Errc::server;
        client = ClientError::none;
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
