// The whole client through the public C API against a server whose bytes are
// the input: connect (greeting, authentication, TLS offer, compression),
// queries buffered or streaming, rows, multi-results, seeks, pings, draining
// frees, then a prepared statement (prepare-OK and parameter / column
// definitions, two executes with binary result rows, buffered, streaming or
// through a cursor, a batch, a reset), close. In-process and cheap per input: no thread, no listening
// socket. The server's bytes are queued in one end of an AF_UNIX socketpair
// whose sending side is then shut down (the client reads them, then EOF); the
// client's writes land unread in that end. The connection adopts the other
// end (Options::adopt_fd, a test-only hook).
//
// The socketpair is SOCK_SEQPACKET, and the server's bytes are cut into
// messages at each "|MW|" in the input: one read takes at most one message,
// as if the server had flushed there and waited. A byte stream would hand
// the client everything at once, and bytes that come before their time are
// refused (after the greeting, before TLS) or misread (after the login OK,
// before compression), so no session could get past those points.
//
// Input: two option bytes choosing the script (see Script), then the server's
// bytes. Invariants: every call returns a documented code and leaves a
// bounded message on the handle, never the password; nothing waits (a
// timeout means the client wanted bytes that cannot come); values and column
// metadata are readable and NUL-terminated; the typed getters answer every
// value with a value, NULL or CONVERSION; a buffered result reads the same
// rows again after a seek; a streaming error is sticky; over plain TCP the
// password never leaves the process in clear.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "fuzz.hpp"
#include "mywire.h"

namespace {

// All server bytes fit in the socket buffer at once (see feed()).
constexpr std::size_t max_server_bytes = 32 * 1024;
// The password: it must never appear in a message (unless the server's
// bytes hold it: server text is quoted, and libFuzzer learns the string from
// the checks below), nor in clear on a plain TCP wire.
constexpr std::string_view password = "Fz7#qP!e2Lw@9xKd";
bool server_has_password;

struct Script {
    bool streaming, multi, small_limits, seek, ping, early_free;
    int compress;  // MYWIRE_COMPRESS_*
    int queries;   // 1..4
    bool unix_socket, tls, cleartext, database, dialog, small_packet;

    explicit Script(std::uint8_t a, std::uint8_t b)
        : streaming(a & 0x01), multi(a & 0x02), small_limits(a & 0x10), seek(a & 0x20),
          ping(a & 0x40), early_free(a & 0x80),
          compress((a >> 2 & 3) == 3 ? MYWIRE_COMPRESS_OFF : a >> 2 & 3), queries(1 + (b & 3)),
          unix_socket(b & 0x04), tls(b & 0x08), cleartext(b & 0x10), database(b & 0x20),
          dialog(b & 0x40), small_packet(b & 0x80) {}
};

// MYWIRE_FUZZ_TRACE=1: each call's result on stderr (to see what an input does).
const bool trace = std::getenv("MYWIRE_FUZZ_TRACE") != nullptr;

// A code mywire.h defines: one mywire_errstr() knows (the list grows).
bool documented(int rc) {
    return std::strcmp(mywire_errstr(rc), mywire_errstr(-1)) != 0;
}

// A connection call returned rc: check the code and what the handle says.
void check_call(mywire_conn *c, int rc, const char *what) {
    if (trace) std::fprintf(stderr, "  %s -> %d %s\n", what, rc, mywire_errmsg(c));
    FUZZ_CHECK(documented(rc) && rc != MYWIRE_ROW);
    // Nothing here is the caller's fault, nothing may wait (the server's
    // bytes end in EOF), and a few KiB of input cannot exhaust memory.
    FUZZ_CHECK(rc != MYWIRE_ERROR_ARGUMENT && rc != MYWIRE_ERROR_OPTION && rc != MYWIRE_ERROR_URI);
    FUZZ_CHECK(rc != MYWIRE_ERROR_TIMEOUT && rc != MYWIRE_ERROR_INTERNAL && rc != MYWIRE_ERROR_NOMEM);
    FUZZ_CHECK(rc != MYWIRE_ERROR_CONNECT);
    const char *msg = mywire_errmsg(c);
    FUZZ_CHECK(msg && std::strlen(msg) <= 1024);
    FUZZ_CHECK(server_has_password || std::string_view(msg).find(password) == std::string_view::npos);
    // mywire.h promises five characters (a server's "#\08004" gave "":
    // corpus/client/sqlstate_nul.bin).
    FUZZ_CHECK(std::strlen(mywire_sqlstate(c)) == 5);
    if (rc != MYWIRE_OK && rc != MYWIRE_DONE) {
        FUZZ_CHECK(mywire_errcode(c) == rc);
        FUZZ_CHECK(*msg);
    }
}

// Where hashes of bytes read only for ASan's sake go, so they are not optimized away.
volatile std::uint64_t sink;

std::uint64_t mix(std::uint64_t h, const void *p, std::size_t n) {
    const auto *b = static_cast<const unsigned char *>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}

// Every value of the current row, read byte by byte (ASan sees a bad view).
std::uint64_t row_hash(mywire_result *r) {
    unsigned n = mywire_column_count(r);
    const mywire_value *row = mywire_row(r);
    FUZZ_CHECK(row);
    std::uint64_t h = 0xCBF29CE484222325ull;
    for (unsigned i = 0; i < n; ++i) {
        std::size_t len = 7;
        const char *v = mywire_get(r, i, &len);
        FUZZ_CHECK(v == row[i].data && len == row[i].len);
        FUZZ_CHECK(mywire_is_null(r, i) == (v == nullptr));
        if (!v) {
            FUZZ_CHECK(len == 0);
            h = mix(h, "N", 1);
            continue;
        }
        FUZZ_CHECK(v[len] == '\0');
        h = mix(mix(h, &len, sizeof len), v, len);
    }
    FUZZ_CHECK(mywire_get(r, n, nullptr) == nullptr);
    return h;
}

// A column definition's strings are readable and NUL-terminated.
void check_column(const mywire_column *c) {
    FUZZ_CHECK(c);
    const std::pair<const char *, std::size_t> texts[] = {
        {c->name, c->name_len}, {c->org_name, c->org_name_len}, {c->table, c->table_len},
        {c->org_table, c->org_table_len}, {c->schema, c->schema_len}};
    for (auto [text, len] : texts) {
        FUZZ_CHECK(text && text[len] == '\0');
        sink = mix(sink, text, len);
    }
}

// The typed getters on every value of the current row (text or binary):
// a value, NULL exactly when the value is NULL, or CONVERSION.
void check_typed(mywire_result *r) {
    unsigned n = mywire_column_count(r);
    for (unsigned i = 0; i < n; ++i) {
        const bool null = mywire_is_null(r, i) == 1;
        auto ok = [&](int rc) {
            FUZZ_CHECK(null ? rc == MYWIRE_NULL : (rc == MYWIRE_OK || rc == MYWIRE_ERROR_CONVERSION));
            return rc == MYWIRE_OK;
        };
        std::int64_t i64;
        if (ok(mywire_get_int64(r, i, &i64))) sink = mix(sink, &i64, sizeof i64);
        std::uint64_t u64;
        if (ok(mywire_get_uint64(r, i, &u64))) sink = mix(sink, &u64, sizeof u64);
        double d;
        if (ok(mywire_get_double(r, i, &d))) sink = mix(sink, &d, sizeof d);
        mywire_time t;
        if (ok(mywire_get_time(r, i, &t))) {
            FUZZ_CHECK(t.kind >= MYWIRE_TIME_KIND_DATE && t.kind <= MYWIRE_TIME_KIND_DATETIME);
            sink = mix(sink, &t, sizeof t);
        }
        const char *data = nullptr;
        std::size_t len = 0;
        if (ok(mywire_get_bytes(r, i, &data, &len))) {
            FUZZ_CHECK(data);
            sink = mix(sink, data, len);
        }
    }
    FUZZ_CHECK(mywire_get_int64(r, n, nullptr) == MYWIRE_ERROR_ARGUMENT);
}

void check_columns(mywire_result *r) {
    unsigned n = mywire_column_count(r);
    for (unsigned i = 0; i < n; ++i) check_column(mywire_column_at(r, i));
    FUZZ_CHECK(mywire_column_at(r, n) == nullptr);
    const char *info = mywire_info(r);
    FUZZ_CHECK(info);
    sink = mix(sink, info, std::strlen(info));
}

// Read a result: all its rows, or (early_free) just one and let the free
// drain the rest. The result is freed.
void read_result(mywire_conn *c, mywire_result *r, const Script &s) {
    check_columns(r);
    bool buffered = !mywire_column_count(r) || !s.streaming;
    std::vector<std::uint64_t> rows;
    int rc;
    while ((rc = mywire_fetch(r)) == MYWIRE_ROW) {
        rows.push_back(row_hash(r));
        check_typed(r);
        if (s.early_free || rows.size() > 100000) break;
    }
    if (trace)
        std::fprintf(stderr, "  %u columns, %zu rows, fetch -> %d\n", mywire_column_count(r), rows.size(), rc);
    FUZZ_CHECK(documented(rc) && rc != MYWIRE_OK);
    if (rc != MYWIRE_ROW && rc != MYWIRE_DONE) {
        FUZZ_CHECK(!buffered);  // a buffered result's rows failed at query time, if at all
        FUZZ_CHECK(mywire_fetch(r) == rc);                  // sticky
        FUZZ_CHECK(mywire_errcode(c) == rc);
    }
    if (buffered && rc == MYWIRE_DONE) {
        FUZZ_CHECK(mywire_row_count(r) == rows.size());
        FUZZ_CHECK(mywire_fetch(r) == MYWIRE_DONE);
        if (s.seek && !rows.empty()) {
            // The same rows again, from the last, the middle and the first.
            for (std::size_t at : {rows.size() - 1, rows.size() / 2, std::size_t(0)}) {
                FUZZ_CHECK(mywire_seek(r, at) == MYWIRE_OK);
                FUZZ_CHECK(mywire_fetch(r) == MYWIRE_ROW);
                FUZZ_CHECK(row_hash(r) == rows[at]);
            }
            FUZZ_CHECK(mywire_seek(r, rows.size()) == MYWIRE_OK);
            FUZZ_CHECK(mywire_fetch(r) == MYWIRE_DONE);
            FUZZ_CHECK(mywire_seek(r, rows.size() + 1) != MYWIRE_OK);
        }
    }
    mywire_result_free(r);  // drains a streaming result not read to its end
    check_call(c, mywire_errcode(c), "result_free");
}

int dialog_answer(void *, int echo, const char *prompt, char *answer, std::size_t size) {
    FUZZ_CHECK(prompt);
    sink = mix(sink, prompt, std::strlen(prompt));
    if (size < 8) return 1;
    std::memcpy(answer, echo ? "yes" : "123456", echo ? 4 : 7);
    return 0;
}

// The server's bytes into one end of a socketpair as messages (cut at each
// separator; at most max_messages, each at most max_message bytes, which
// every read of the client has room for), EOF after them. Returns the
// client's end, or -1 if the kernel would not queue them all.
constexpr std::string_view separator = "|MW|";
constexpr std::size_t max_messages = 64;
constexpr std::size_t max_message = 16 * 1024;

int feed(std::string_view in, int &peer) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return -1;
    int buf = 1 << 20;  // the kernel caps it (net.core.wmem_max, 208 KiB by default)
    for (int fd : sv) {
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    }
    bool queued = true;
    for (std::size_t messages = 0; queued && !in.empty(); ++messages) {
        std::size_t cut = messages + 1 < max_messages ? in.find(separator) : in.npos;
        std::string_view m = in.substr(0, std::min(cut, max_message));
        in.remove_prefix(m.size());
        if (cut == m.size()) in.remove_prefix(separator.size());
        if (m.empty()) continue;  // an empty message would read as EOF
        queued = ::send(sv[1], m.data(), m.size(), MSG_NOSIGNAL | MSG_DONTWAIT) == static_cast<ssize_t>(m.size());
    }
    if (!queued) {
        ::close(sv[0]);
        ::close(sv[1]);
        return -1;
    }
    ::shutdown(sv[1], SHUT_WR);
    peer = sv[1];
    return sv[0];
}

// Everything the client wrote.
std::string drain(int peer) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(peer, buf, sizeof buf, MSG_DONTWAIT)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
}

// A query's or an execute's further results (multi-statements, CALL).
void read_more(mywire_conn *c, int rc, const Script &s) {
    for (int more = 0; rc == MYWIRE_OK && more < 1000 && mywire_more_results(c); ++more) {
        mywire_result *r = nullptr;
        rc = mywire_next_result(c, s.streaming ? MYWIRE_STREAMING : MYWIRE_BUFFERED, &r);
        check_call(c, rc, "next_result");
        FUZZ_CHECK((rc == MYWIRE_OK) == (r != nullptr));
        if (r) read_result(c, r, s);
    }
}

// Every parameter the server announced, bound (round changes the values,
// not the types: the second execute sends no types).
void bind_all(mywire_stmt *st, unsigned round) {
    const unsigned n = mywire_stmt_param_count(st);
    for (unsigned i = 0; i < n; ++i) {
        switch (i % 4) {
        case 0: FUZZ_CHECK(mywire_stmt_bind_int64(st, i, -1 - static_cast<int>(round)) == MYWIRE_OK); break;
        case 1: FUZZ_CHECK(mywire_stmt_bind_string(st, i, "fuzz", 4 - round) == MYWIRE_OK); break;
        case 2: FUZZ_CHECK(mywire_stmt_bind_null(st, i) == MYWIRE_OK); break;
        default: {
            mywire_time t = {MYWIRE_TIME_KIND_DATETIME, 0, 2024, 2, 29, 13, 5, 9, static_cast<int>(round)};
            FUZZ_CHECK(mywire_stmt_bind_time(st, i, &t) == MYWIRE_OK);
        }
        }
    }
}

// The prepared statement after the queries: COM_STMT_PREPARE, its
// definitions, then two executes (the first sends the types, the second
// not; with seek and streaming through a cursor of 2 rows per
// COM_STMT_FETCH) whose binary results are read as the queries' are; with
// multi a batch of two rows (bulk on MariaDB), with ping a COM_STMT_RESET.
void run_statement(mywire_conn *c, const Script &s) {
    mywire_stmt *st = nullptr;
    FUZZ_CHECK(mywire_stmt_new(c, &st) == MYWIRE_OK && st);
    static const char sql[] = "SELECT a, b FROM t WHERE a > ? AND b = ?";
    int rc = mywire_stmt_prepare(st, sql, sizeof sql - 1);
    check_call(c, rc, "stmt_prepare");
    if (rc == MYWIRE_OK) {
        const unsigned params = mywire_stmt_param_count(st), columns = mywire_stmt_column_count(st);
        for (unsigned i = 0; i < params; ++i) check_column(mywire_stmt_param_at(st, i));
        FUZZ_CHECK(mywire_stmt_param_at(st, params) == nullptr);
        for (unsigned i = 0; i < columns; ++i) check_column(mywire_stmt_column_at(st, i));
        FUZZ_CHECK(mywire_stmt_column_at(st, columns) == nullptr);
        if (s.seek && s.streaming) FUZZ_CHECK(mywire_stmt_set_cursor(st, 2) == MYWIRE_OK);
        for (unsigned round = 0; round < 2 && mywire_is_connected(c); ++round) {
            bind_all(st, round);
            mywire_result *r = nullptr;
            rc = mywire_stmt_execute(st, s.streaming ? MYWIRE_STREAMING : MYWIRE_BUFFERED, &r);
            check_call(c, rc, "stmt_execute");
            FUZZ_CHECK((rc == MYWIRE_OK) == (r != nullptr));
            if (r) {
                FUZZ_CHECK(mywire_result_is_binary(r) == 1);
                read_result(c, r, s);
            }
            read_more(c, rc, s);
        }
        if (s.multi && params > 0 && mywire_is_connected(c)) {
            for (unsigned round = 0; round < 2; ++round) {
                bind_all(st, round);
                FUZZ_CHECK(mywire_stmt_add_batch(st) == MYWIRE_OK);
            }
            mywire_result *r = nullptr;
            rc = mywire_stmt_execute_batch(st, &r);
            check_call(c, rc, "stmt_execute_batch");
            FUZZ_CHECK((rc == MYWIRE_OK) == (r != nullptr));
            if (r) {
                FUZZ_CHECK(mywire_column_count(r) == 0);
                mywire_result_free(r);
            }
        }
        if (s.ping && mywire_is_connected(c)) check_call(c, mywire_stmt_reset(st), "stmt_reset");
    }
    mywire_stmt_free(st);  // its COM_STMT_CLOSE is queued: sent ahead of the next command, if any
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size < 2 || size - 2 > max_server_bytes) return 0;
    const Script s(data[0], data[1]);
    server_has_password = fuzz::as_view(data, size).find(password) != std::string_view::npos;
    int peer = -1;
    int fd = feed(fuzz::as_view(data + 2, size - 2), peer);
    if (fd < 0) return 0;

    mywire_conn *c = nullptr;
    FUZZ_CHECK(mywire_conn_new(&c) == MYWIRE_OK && c);
    FUZZ_CHECK(mywire_set_user(c, "fuzz") == MYWIRE_OK);
    FUZZ_CHECK(mywire_set_password(c, password.data()) == MYWIRE_OK);
    FUZZ_CHECK(mywire_set_connect_timeout(c, 200) == MYWIRE_OK);
    FUZZ_CHECK(mywire_set_read_timeout(c, 200) == MYWIRE_OK);
    FUZZ_CHECK(mywire_set_write_timeout(c, 200) == MYWIRE_OK);
    if (s.unix_socket)
        FUZZ_CHECK(mywire_set_unix_socket(c, "/nonexistent/fuzz.sock") == MYWIRE_OK);
    else
        FUZZ_CHECK(mywire_set_host(c, "db.example") == MYWIRE_OK);
    FUZZ_CHECK(mywire_set_ssl_mode(c, s.tls ? MYWIRE_SSL_MODE_PREFERRED : MYWIRE_SSL_MODE_DISABLED) == MYWIRE_OK);
    FUZZ_CHECK(mywire_set_compression(c, s.compress) == MYWIRE_OK);
    if (s.multi) FUZZ_CHECK(mywire_set_multi_statements(c, 1) == MYWIRE_OK);
    if (s.small_limits) {
        FUZZ_CHECK(mywire_set_max_result_bytes(c, 100) == MYWIRE_OK);
        FUZZ_CHECK(mywire_set_max_columns(c, 3) == MYWIRE_OK);
    }
    if (s.small_packet) FUZZ_CHECK(mywire_set_max_allowed_packet(c, 1024) == MYWIRE_OK);
    if (s.cleartext) {
        FUZZ_CHECK(mywire_set_option(c, "enable_cleartext_plugin", "1") == MYWIRE_OK);
        FUZZ_CHECK(mywire_set_option(c, "get_server_public_key", "1") == MYWIRE_OK);
    }
    if (s.database) FUZZ_CHECK(mywire_set_database(c, "shop") == MYWIRE_OK);
    if (s.dialog) FUZZ_CHECK(mywire_set_dialog_callback(c, dialog_answer, nullptr) == MYWIRE_OK);
    reinterpret_cast<mywire::Connection *>(c)->opts.adopt_fd = fd;  // as capi/mywire.cpp reaches it

    int rc = mywire_connect(c);
    check_call(c, rc, "connect");
    bool tls_used = mywire_tls_active(c) == 1;
    if (rc == MYWIRE_OK) {
        FUZZ_CHECK(std::strcmp(mywire_transport(c), s.unix_socket ? "unix" : "tcp") == 0);
        sink = mix(sink, mywire_server_version(c), std::strlen(mywire_server_version(c)));
        sink = mix(sink, mywire_auth_plugin(c), std::strlen(mywire_auth_plugin(c)));
        if (s.compress == MYWIRE_COMPRESS_OFF) FUZZ_CHECK(std::strcmp(mywire_compression(c), "none") == 0);
        // A MySQL 8.0.23+ greeting: the first query carries an attribute.
        if (mywire_query_attributes_supported(c))
            FUZZ_CHECK(mywire_query_attr_string(c, "fuzz", "1", 1) == MYWIRE_OK);
        else
            FUZZ_CHECK(mywire_query_attr_string(c, "fuzz", "1", 1) == MYWIRE_ERROR_UNSUPPORTED);
        for (int q = 0; q < s.queries; ++q) {
            static const char *const sql[] = {"SELECT 1", "SELECT a, b FROM t", "SELECT 1; SELECT 2",
                                              "UPDATE t SET a = 1"};
            mywire_result *r = nullptr;
            rc = mywire_query(c, sql[q], std::strlen(sql[q]), s.streaming ? MYWIRE_STREAMING : MYWIRE_BUFFERED, &r);
            check_call(c, rc, sql[q]);
            FUZZ_CHECK((rc == MYWIRE_OK) == (r != nullptr));
            if (r) read_result(c, r, s);
            read_more(c, rc, s);
            if (s.ping) check_call(c, mywire_ping(c), "ping");
        }
        if (mywire_is_connected(c)) run_statement(c, s);
    }
    mywire_close(c);
    std::string sent = drain(peer);
    // What the client sent: in clear only over a unix socket (or TLS); the
    // compressed protocol may hide it, so only plain sessions are checked.
    if (!s.unix_socket && !tls_used && s.compress == MYWIRE_COMPRESS_OFF)
        FUZZ_CHECK(sent.find(password) == std::string::npos);
    FUZZ_CHECK(mywire_query(c, "SELECT 1", 8, MYWIRE_BUFFERED, nullptr) == MYWIRE_ERROR_ARGUMENT);
    mywire_result *r = nullptr;
    FUZZ_CHECK(mywire_query(c, "SELECT 1", 8, MYWIRE_BUFFERED, &r) == MYWIRE_ERROR_STATE && !r);
    mywire_conn_free(c);
    ::close(peer);
    return 0;
}
