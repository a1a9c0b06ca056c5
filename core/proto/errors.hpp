// Result codes and the error record the core hands to the C API.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

// Errc and ClientError below do not use the public header (their numbers
// come from proto/errc.def); it stays included only for the core's other uses
// of it (SSL modes, mywire_value, mywire_dialog_fn), which get their own types
// with the engine rewrite.
#include "proto/types.hpp"

namespace mywire {

// The result codes, from the one list in proto/errc.def (the same numbers
// as the public MYWIRE_* constants; capi/mywire.cpp static_asserts that).
enum class Errc : int {
#define MYWIRE_ERRC(NAME, name, number, fatal, text) name = number,
#include "proto/errc.def"
};

// Results that are not errors (MYWIRE_ROW, MYWIRE_DONE, MYWIRE_WAIT_*).
enum class Outcome : int {
#define MYWIRE_OUTCOME(NAME, name, number, text) name = number,
#include "proto/errc.def"
};

// True when a call failing with this code has closed the connection (it must
// connect again); false when the connection is as usable as before the call.
constexpr bool is_fatal(Errc code) {
    switch (code) {
#define MYWIRE_ERRC(NAME, name, number, fatal, text) \
    case Errc::name: return fatal != 0;
#include "proto/errc.def"
    }
    return true;  // not a known code: assume the worst
}

// Where a client-side failure happened, for programs that must tell them
// apart (retry logic, CR_* numbers of a compatibility layer, Go's
// driver.ErrBadConn): stable numbers, the same as MYWIRE_CLIENT_ERROR_*
// (the list and each value's meaning are in proto/errc.def).
enum class ClientError : int {
#define MYWIRE_CLIENT_ERROR(NAME, name, number) name = number,
#include "proto/errc.def"
};

// The ClientError a client-side error gets when the code that raises it does
// not say where it happened.
constexpr ClientError default_client_error(Errc code) {
    switch (code) {
    case Errc::ok:
    case Errc::server: return ClientError::none;
    case Errc::tls: return ClientError::tls;
    case Errc::cancelled: return ClientError::cancelled;
    default: return ClientError::other;
    }
}

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
        client = default_client_error(c);
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
        // Five characters of [0-9A-Z] as SQL defines them, else the generic
        // one: the C string is always five characters (no NUL, no control).
        bool good = state.size() == 5;
        for (char ch : state) good = good && ((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z'));
        if (good)
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
