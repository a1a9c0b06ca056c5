// Transcripts through the SHIPPED loop: the public C API over a
// mywire::Connection (start_*, step/complete, finish) on a real socket, not
// the in-memory Transport of the other transcript tests. The "server" is the
// other end of an AF_UNIX socketpair that the connection adopts
// (Options::adopt_fd, a test-only hook, reached as fuzz_client.cpp does).
//
// A script is the server's flushes (each a run of whole packets) and the
// client's calls, which log what they get. Each script runs
//   whole  each flush one SOCK_SEQPACKET message (one read takes at most one);
//   byte   each byte its own message: a short read at every byte;
//   cut    the first k bytes (every k), one byte a message, then the peer
//          shuts down: an EOF at every step. The calls must fail with LOST,
//          PROTOCOL or TLS, leave a message, log a prefix of the full log, and
//          never crash or wait (a read_timeout catches a hang: TIMEOUT fails);
//   closed the first k flushes (every k) queued, then the peer closed: the
//          client's next write fails (EPIPE, never SIGPIPE).
// No thread: every server byte is queued before the client starts (the
// client's requests need no answer-dependent reply; the peer's receive
// buffer absorbs the client's writes). A thread only for the short writes
// (a tiny SO_SNDBUF on the client's end, SOCK_STREAM, 1 MB queries read
// slowly by the peer).
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "connection.hpp"
#include "mywire.h"
#include "transcript.hpp"

using namespace transcript;

namespace {

constexpr std::uint32_t server_caps = mariadb_caps;  // DEPRECATE_EOF, multi statements; no query attributes
const std::string version = "5.5.5-10.11.6-MariaDB";

// What the client calls do; `failed` is the first unexpected code.
struct Ctx {
    mywire_conn *c = nullptr;
    std::string log;
    int failed = MYWIRE_OK;
    std::string message;  // mywire_errmsg at the failure

    // Logs rc; false (and failed = rc) when it is not `want`.
    bool ok(int rc, int want, const char *what) {
        log += what;
        log += '=';
        log += std::to_string(rc);
        log += '\n';
        if (rc == want) return true;
        failed = rc;
        message = mywire_errmsg(c);
        return false;
    }
    void note(const std::string &s) { log += s + "\n"; }
};

struct Script {
    const char *name;
    std::vector<std::string> flushes;  // the server's, in order
    bool multi = false;
    std::function<void(Ctx &)> run;
    const char *expected;  // the whole log
};

[[maybe_unused]] std::string frames(std::initializer_list<std::string> payloads, std::uint8_t seq) {
    std::string out;
    for (const std::string &p : payloads) out += framed(p, seq++);
    return out;
}

std::string login_greeting() { return framed(greeting(version, server_caps, 0, "mysql_native_password"), 0); }
std::string login_ok() { return framed(ok_packet(0, 0x0002), 2); }

// A result set's packets (DEPRECATE_EOF framing) from seq 1.
std::string result_set(std::initializer_list<std::initializer_list<const char *>> rows,
                       std::uint16_t end_status = 0x0002) {
    std::string out = framed("\x02", 1);
    std::uint8_t seq = 2;
    out += framed(column("id", "t", 3, 0x4203), seq++);
    out += framed(column("name", "t", 0xFD), seq++);
    for (auto r : rows) out += framed(row(r), seq++);
    out += framed(ok_packet(0, end_status, "", 0xFE), seq++);
    return out;
}

void log_rows(Ctx &x, mywire_result *r) {
    int rc;
    while ((rc = mywire_fetch(r)) == MYWIRE_ROW) {
        std::string line = "row";
        for (unsigned i = 0; i < mywire_column_count(r); ++i) {
            std::size_t len = 0;
            const char *v = mywire_get(r, i, &len);
            line += v ? " [" + std::string(v, len) + "]" : " NULL";
        }
        x.note(line);
    }
    x.ok(rc, MYWIRE_DONE, "fetch");
}

bool connect(Ctx &x) {
    if (!x.ok(mywire_connect(x.c), MYWIRE_OK, "connect")) return false;
    x.note(std::string("server ") + mywire_server_version(x.c) + " " + mywire_auth_plugin(x.c));
    return true;
}

void query(Ctx &x, const char *sql, int mode) {
    mywire_result *r = nullptr;
    if (!x.ok(mywire_query(x.c, sql, std::strlen(sql), mode, &r), MYWIRE_OK, "query")) return;
    x.note("columns " + std::to_string(mywire_column_count(r)) + " " +
           (mywire_column_count(r) ? mywire_column_at(r, 1)->name : ""));
    log_rows(x, r);
    mywire_result_free(r);
}


// ---------------------------------------------------- ER_NEED_REPREPARE

// A prepared "SELECT name FROM t WHERE id = ?" (one parameter, one column):
// the server's COM_STMT_PREPARE reply with statement id `id` (DEPRECATE_EOF:
// no EOF after the definitions).
const char reprepare_sql[] = "SELECT name FROM t WHERE id = ?";
std::string prepare_reply(std::uint32_t id) {
    std::string out = framed(Bytes().u8(0).u32(id).u16(1).u16(1).u8(0).u16(0).str(), 1);
    out += framed(column("?", "", 0xFD), 2);
    out += framed(column("name", "t", 0xFD), 3);
    return out;
}
// The execute's binary result: one row, "alice".
std::string execute_reply() {
    std::string out = framed("\x01", 1);
    out += framed(column("name", "t", 0xFD), 2);
    out += framed(Bytes().u8(0).u8(0).lenstr("alice").str(), 3);
    out += framed(ok_packet(0, 0x0002, "", 0xFE), 4);
    return out;
}
std::string need_reprepare() {
    return framed(err_packet(1615, "HY000", "Prepared statement needs to be re-prepared"), 1);
}
// The client's COM_STMT_EXECUTE of statement id with the parameter 7 (a
// LONGLONG, its type sent: new-params-bound).
std::string execute_request(std::uint32_t id) {
    return framed(Bytes().u8(0x17).u32(id).u8(0).u32(1).u8(0).u8(1).u8(0x08).u8(0).u64(7).str(), 0);
}

// prepare, bind 7, execute (want: its code), log the rows or the error.
void reprepare_run(Ctx &x, bool on, int want) {
    if (on && !x.ok(mywire_set_option(x.c, "auto_reprepare", "1"), MYWIRE_OK, "option")) return;
    if (!connect(x)) return;
    mywire_stmt *st = nullptr;
    assert_int_equal(mywire_stmt_new(x.c, &st), MYWIRE_OK);
    if (x.ok(mywire_stmt_prepare(st, reprepare_sql, std::strlen(reprepare_sql)), MYWIRE_OK, "prepare")) {
        x.note("id " + std::to_string(mywire_stmt_id(st)));
        mywire_stmt_bind_int64(st, 0, 7);
        mywire_result *r = nullptr;
        int rc = mywire_stmt_execute(st, MYWIRE_BUFFERED, &r);
        if (x.ok(rc, want, "execute")) {
            if (rc == MYWIRE_OK) {
                log_rows(x, r);
                mywire_result_free(r);
            } else {
                x.note(std::to_string(mywire_errno(x.c)) + " " + mywire_sqlstate(x.c) + " " + mywire_errmsg(x.c) +
                       (r ? " result!" : ""));
            }
            x.note("id " + std::to_string(mywire_stmt_id(st)));
        }
    }
    mywire_stmt_free(st);
}

std::vector<Script> scripts() {
    std::vector<Script> s;
    s.push_back({"login", {login_greeting(), login_ok()}, false, [](Ctx &x) { connect(x); },
                 "connect=0\nserver 10.11.6-MariaDB mysql_native_password\n"});
    auto rows = result_set({{"1", nullptr}, {"2", ""}, {"3", "three"}});
    const char *rows_log =
        "connect=0\nserver 10.11.6-MariaDB mysql_native_password\nquery=0\ncolumns 2 name\n"
        "row [1] NULL\nrow [2] []\nrow [3] [three]\nfetch=101\n";
    s.push_back({"buffered", {login_greeting(), login_ok(), rows}, false,
                 [](Ctx &x) { connect(x) && (query(x, "SELECT id, name FROM t", MYWIRE_BUFFERED), true); },
                 rows_log});
    s.push_back({"streaming", {login_greeting(), login_ok(), rows}, false,
                 [](Ctx &x) { connect(x) && (query(x, "SELECT id, name FROM t", MYWIRE_STREAMING), true); },
                 rows_log});
    // SELECT; UPDATE; SELECT: more_results announces each next one.
    const std::uint16_t more = 0x0008 | 0x0002;
    std::string multi = result_set({{"1", "a"}}, more);
    std::uint8_t seq = 6;
    multi += framed(Bytes().u8(0).u8(4).u8(0).u16(more).u16(0).lenstr("Rows matched: 4").str(), seq++);
    multi += framed("\x02", seq++);
    multi += framed(column("id", "t", 3), seq++);
    multi += framed(column("n", "t", 0xFD), seq++);
    multi += framed(row({"2", "b"}), seq++);
    multi += framed(ok_packet(0, 0x0002, "", 0xFE), seq++);
    for (int mode : {MYWIRE_BUFFERED, MYWIRE_STREAMING}) {
        s.push_back({mode == MYWIRE_BUFFERED ? "multi-buffered" : "multi-streaming",
                     {login_greeting(), login_ok(), multi}, true,
                     [mode](Ctx &x) {
                         if (!connect(x)) return;
                         query(x, "SELECT 1; UPDATE t SET a=a; SELECT 2", mode);
                         if (x.failed) return;
                         for (int k = 0; k < 3; ++k) {
                             mywire_result *r = nullptr;
                             int rc = mywire_next_result(x.c, mode, &r);
                             if (k == 2) {
                                 x.ok(rc, MYWIRE_DONE, "next");
                                 return;
                             }
                             if (!x.ok(rc, MYWIRE_OK, "next")) return;
                             x.note("columns " + std::to_string(mywire_column_count(r)) + " affected " +
                                    std::to_string(mywire_affected_rows(r)) + " info " + mywire_info(r));
                             if (mywire_column_count(r)) log_rows(x, r);
                             mywire_result_free(r);
                             if (x.failed) return;
                         }
                     },
                     "connect=0\nserver 10.11.6-MariaDB mysql_native_password\nquery=0\ncolumns 2 name\n"
                     "row [1] [a]\nfetch=101\nnext=0\ncolumns 0 affected 4 info Rows matched: 4\n"
                     "next=0\ncolumns 2 affected 0 info \nrow [2] [b]\nfetch=101\nnext=101\n"});
    }
    // An ERR, then the connection still answers a ping.
    s.push_back({"err-then-ping",
                 {login_greeting(), login_ok(),
                  framed(err_packet(1146, "42S02", "Table 'shop.nope' doesn't exist"), 1),
                  framed(ok_packet(0, 0x0002), 1)},
                 false,
                 [](Ctx &x) {
                     if (!connect(x)) return;
                     mywire_result *r = nullptr;
                     if (!x.ok(mywire_query(x.c, "SELECT * FROM nope", 18, MYWIRE_BUFFERED, &r),
                               MYWIRE_ERROR_SERVER, "query"))
                         return;
                     x.note(std::to_string(mywire_errno(x.c)) + " " + mywire_sqlstate(x.c) + " " +
                            mywire_errmsg(x.c) + (r ? " result!" : ""));
                     x.ok(mywire_ping(x.c), MYWIRE_OK, "ping");
                 },
                 "connect=0\nserver 10.11.6-MariaDB mysql_native_password\nquery=1\n"
                 "1146 42S02 Table 'shop.nope' doesn't exist\nping=0\n"});
    s.push_back({"ping", {login_greeting(), login_ok(), framed(ok_packet(0, 0x0002), 1),
                          framed(ok_packet(0, 0x0002), 1)},
                 false,
                 [](Ctx &x) {
                     connect(x) && x.ok(mywire_ping(x.c), MYWIRE_OK, "ping") &&
                         x.ok(mywire_ping(x.c), MYWIRE_OK, "ping");
                 },
                 "connect=0\nserver 10.11.6-MariaDB mysql_native_password\nping=0\nping=0\n"});
    // A pipeline: SELECT, ping, a failing query, SELECT; all the replies in one flush.
    s.push_back({"pipeline",
                 {login_greeting(), login_ok(),
                  result_set({{"1", "x"}}) + framed(ok_packet(0, 0x0002), 1) +
                      framed(err_packet(1064, "42000", "You have an error"), 1) +
                      result_set({{"7", nullptr}, {"8", "y"}})},
                 false,
                 [](Ctx &x) {
                     if (!connect(x)) return;
                     mywire_pipeline *p = nullptr;
                     assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
                     mywire_pipeline_add_query(p, "SELECT 1", 8);
                     mywire_pipeline_add_ping(p);
                     mywire_pipeline_add_query(p, "SELEKT", 6);
                     mywire_pipeline_add_query(p, "SELECT 2", 8);
                     if (x.ok(mywire_pipeline_run(x.c, p), MYWIRE_OK, "pipeline")) {
                         for (std::size_t i = 0; i < mywire_pipeline_size(p); ++i) {
                             x.note("step " + std::to_string(i) + " ran " +
                                    std::to_string(mywire_pipeline_step_ran(p, i)) + " code " +
                                    std::to_string(mywire_pipeline_step_code(p, i)) + " errno " +
                                    std::to_string(mywire_pipeline_step_errno(p, i)) + " results " +
                                    std::to_string(mywire_pipeline_result_count(p, i)));
                             for (unsigned k = 0; k < mywire_pipeline_result_count(p, i); ++k) {
                                 mywire_result *r = nullptr;
                                 if (!x.ok(mywire_pipeline_take_result(p, i, k, &r), MYWIRE_OK, "take")) break;
                                 log_rows(x, r);
                                 mywire_result_free(r);
                             }
                         }
                     } else {
                         // Each step says what happened to it; none is OK after the failure.
                         for (std::size_t i = 0; i < mywire_pipeline_size(p); ++i)
                             if (mywire_pipeline_step_ran(p, i) == 0)
                                 assert_int_not_equal(mywire_pipeline_step_code(p, i), MYWIRE_OK);
                     }
                     mywire_pipeline_free(p);
                 },
                 "connect=0\nserver 10.11.6-MariaDB mysql_native_password\npipeline=0\n"
                 "step 0 ran 1 code 0 errno 0 results 1\ntake=0\nrow [1] [x]\nfetch=101\n"
                 "step 1 ran 1 code 0 errno 0 results 0\n"
                 "step 2 ran 1 code 1 errno 1064 results 0\n"
                 "step 3 ran 1 code 0 errno 0 results 1\ntake=0\nrow [7] NULL\nrow [8] [y]\nfetch=101\n"});
    // auto_reprepare on: ER_NEED_REPREPARE at the execute, then the
    // statement is prepared again (a new id) and executed once more, in the
    // same call; the caller sees only the rows.
    s.push_back({"reprepare-on",
                 {login_greeting(), login_ok(), prepare_reply(1), need_reprepare(), prepare_reply(2),
                  execute_reply()},
                 false, [](Ctx &x) { reprepare_run(x, true, MYWIRE_OK); },
                 "option=0\nconnect=0\nserver 10.11.6-MariaDB mysql_native_password\nprepare=0\nid 1\n"
                 "execute=0\nrow [alice]\nfetch=101\nid 2\n"});
    // Off (the default): the error is the caller's; the statement is as it
    // was, and the connection goes on (a ping).
    s.push_back({"reprepare-off",
                 {login_greeting(), login_ok(), prepare_reply(1), need_reprepare(), framed(ok_packet(0, 0x0002), 1)},
                 false,
                 [](Ctx &x) {
                     reprepare_run(x, false, MYWIRE_ERROR_SERVER);
                     if (!x.failed) x.ok(mywire_ping(x.c), MYWIRE_OK, "ping");
                 },
                 "connect=0\nserver 10.11.6-MariaDB mysql_native_password\nprepare=0\nid 1\nexecute=1\n"
                 "1615 HY000 Prepared statement needs to be re-prepared\nid 1\nping=0\n"});
    // On, but the execute after the re-prepare fails the same way: re-prepared
    // once only, then the error is the caller's.
    s.push_back({"reprepare-once",
                 {login_greeting(), login_ok(), prepare_reply(1), need_reprepare(), prepare_reply(2),
                  need_reprepare()},
                 false, [](Ctx &x) { reprepare_run(x, true, MYWIRE_ERROR_SERVER); },
                 "option=0\nconnect=0\nserver 10.11.6-MariaDB mysql_native_password\nprepare=0\nid 1\n"
                 "execute=1\n1615 HY000 Prepared statement needs to be re-prepared\nid 2\n"});
    // Prepare + execute + close pipelined on a server that is not MariaDB
    // (MySQL 8): no statement id 0xFFFFFFFF; the execute waits for the
    // prepare's reply and goes out with the id it gave (a second write).
    {
        const std::string mysql_version = "8.0.36";
        std::string greet = framed(greeting(mysql_version, mysql8_caps, 0, "mysql_native_password"), 0);
        std::string prepare_ok = framed(Bytes().u8(0).u32(7).u16(1).u16(1).u8(0).u16(0).str(), 1) +
                                 framed(column("?", "", 0xFD), 2) + framed(column("v", "t", 0xFD), 3);
        std::string execute_reply = framed("\x01", 1) + framed(column("v", "t", 0xFD), 2) +
                                    framed(std::string("\x00\x00\x04" "five", 7), 3) +
                                    framed(ok_packet(0, 0x0002, "", 0xFE), 4);
        s.push_back({"stmt_pipeline_mysql",
                     {greet, login_ok(), prepare_ok, execute_reply},
                     false,
                     [](Ctx &x) {
                         if (!connect(x)) return;
                         mywire_stmt *st = nullptr;
                         assert_int_equal(mywire_stmt_new(x.c, &st), MYWIRE_OK);
                         mywire_pipeline *p = nullptr;
                         assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
                         const char sql[] = "SELECT v FROM t WHERE id = ?";
                         assert_int_equal(mywire_pipeline_add_prepare(p, st, sql, sizeof sql - 1), MYWIRE_OK);
                         assert_int_equal(mywire_stmt_bind_int32(st, 0, 5), MYWIRE_OK);
                         assert_int_equal(mywire_pipeline_add_execute(p, st), MYWIRE_OK);
                         assert_int_equal(mywire_pipeline_add_stmt_close(p, st), MYWIRE_OK);
                         if (x.ok(mywire_pipeline_run(x.c, p), MYWIRE_OK, "pipeline")) {
                             for (std::size_t i = 0; i < mywire_pipeline_size(p); ++i) {
                                 x.note("step " + std::to_string(i) + " ran " +
                                        std::to_string(mywire_pipeline_step_ran(p, i)) + " code " +
                                        std::to_string(mywire_pipeline_step_code(p, i)) + " direct " +
                                        std::to_string(mywire_pipeline_step_direct(p, i)) + " results " +
                                        std::to_string(mywire_pipeline_result_count(p, i)));
                             }
                             mywire_result *r = nullptr;
                             if (x.ok(mywire_pipeline_take_result(p, 1, 0, &r), MYWIRE_OK, "take")) {
                                 x.note("binary " + std::to_string(mywire_result_is_binary(r)));
                                 log_rows(x, r);
                                 mywire_result_free(r);
                             }
                             x.note("id " + std::to_string(mywire_stmt_id(st)));  // 0: closed by step 2
                         } else {
                             for (std::size_t i = 0; i < mywire_pipeline_size(p); ++i)
                                 if (mywire_pipeline_step_ran(p, i) == 0)
                                     assert_int_not_equal(mywire_pipeline_step_code(p, i), MYWIRE_OK);
                         }
                         mywire_pipeline_free(p);
                         mywire_stmt_free(st);
                     },
                     "connect=0\nserver 8.0.36 mysql_native_password\npipeline=0\n"
                     "step 0 ran 1 code 0 direct 0 results 0\n"
                     "step 1 ran 1 code 0 direct 0 results 1\n"
                     "step 2 ran 1 code 0 direct 0 results 0\n"
                     "take=0\nbinary 1\nrow [five]\nfetch=101\nid 0\n"});
    }
    return s;
}

// ---------------------------------------------------------------- driving

enum class Mode { whole, byte, cut, closed };
const char *mode_name(Mode m) {
    return m == Mode::whole ? "whole" : m == Mode::byte ? "byte" : m == Mode::cut ? "cut" : "closed";
}

mywire_conn *new_conn(const Script &s, int fd) {
    mywire_conn *c = nullptr;
    assert_int_equal(mywire_conn_new(&c), MYWIRE_OK);
    assert_int_equal(mywire_set_user(c, "u"), MYWIRE_OK);
    assert_int_equal(mywire_set_password(c, "pw"), MYWIRE_OK);
    assert_int_equal(mywire_set_host(c, "db.example"), MYWIRE_OK);
    assert_int_equal(mywire_set_ssl_mode(c, MYWIRE_SSL_MODE_DISABLED), MYWIRE_OK);
    assert_int_equal(mywire_set_connect_timeout(c, 3000), MYWIRE_OK);
    assert_int_equal(mywire_set_read_timeout(c, 3000), MYWIRE_OK);
    assert_int_equal(mywire_set_write_timeout(c, 3000), MYWIRE_OK);
    if (s.multi) assert_int_equal(mywire_set_multi_statements(c, 1), MYWIRE_OK);
    reinterpret_cast<mywire::Connection *>(c)->opts.adopt_fd = fd;  // as capi/mywire.cpp reaches it
    return c;
}

void queue(int fd, std::string_view m) {
    ssize_t n = ::send(fd, m.data(), m.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n != static_cast<ssize_t>(m.size())) {
        print_error("harness: could not queue a %zu-byte message (%zd)\n", m.size(), n);
        fail();
    }
}

// Runs s once; `limit` is k for cut (bytes) and closed (flushes). Returns the log.
Ctx run_once(const Script &s, Mode mode, std::size_t limit) {
    int sv[2];
    assert_int_equal(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    int big = 4 << 20;
    for (int fd : sv) {
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    }
    std::string all;
    for (const auto &f : s.flushes) all += f;
    if (mode == Mode::whole || mode == Mode::closed) {
        std::size_t n = mode == Mode::closed ? limit : s.flushes.size();
        for (std::size_t i = 0; i < n; ++i) queue(sv[1], s.flushes[i]);
    } else {
        std::size_t n = mode == Mode::cut ? limit : all.size();
        for (std::size_t i = 0; i < n; ++i) queue(sv[1], std::string_view(all).substr(i, 1));
    }
    if (mode == Mode::cut) ::shutdown(sv[1], SHUT_WR);
    if (mode == Mode::closed) {
        ::close(sv[1]);
        sv[1] = -1;
    }
    Ctx x;
    x.c = new_conn(s, sv[0]);
    s.run(x);
    mywire_close(x.c);
    mywire_conn_free(x.c);
    if (sv[1] >= 0) ::close(sv[1]);
    return x;
}

int cuts_run = 0;

void check_script(const Script &s) {
    std::size_t total = 0;
    for (const auto &f : s.flushes) total += f.size();
    for (Mode m : {Mode::whole, Mode::byte}) {
        Ctx x = run_once(s, m, 0);
        if (x.log != s.expected || x.failed) {
            print_error("[%s/%s] %s; log:\n%s--- expected:\n%s", s.name, mode_name(m), x.message.c_str(),
                        x.log.c_str(), s.expected);
            fail();
        }
    }
    std::string expected = s.expected;
    auto check_cut = [&](Mode m, std::size_t k, std::size_t of) {
        Ctx x = run_once(s, m, k);
        ++cuts_run;
        bool clean = x.failed == MYWIRE_ERROR_LOST || x.failed == MYWIRE_ERROR_PROTOCOL ||
                     x.failed == MYWIRE_ERROR_TLS;
        // The log up to the failing call is the full log's; the failing line differs.
        std::string good = x.log.substr(0, x.log.rfind('\n', x.log.size() >= 2 ? x.log.size() - 2 : 0) + 1);
        if (!x.failed) good = x.log;
        bool prefix = expected.compare(0, good.size(), good) == 0;
        if (k < of && (!clean || !prefix)) {
            print_error("[%s/%s] cut after %zu of %zu: failed with %d (%s)\nlog:\n%s", s.name, mode_name(m), k,
                        of, x.failed, x.message.c_str(), x.log.c_str());
            fail();
        }
    };
    for (std::size_t k = 0; k < total; ++k) check_cut(Mode::cut, k, total);
    for (std::size_t k = 0; k < s.flushes.size(); ++k) check_cut(Mode::closed, k, s.flushes.size());
}

void test_scripts(void **) {
    auto t0 = std::chrono::steady_clock::now();
    int n = 0;
    for (const Script &s : scripts()) {
        check_script(s);
        ++n;
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "shipped loop: %d scripts, %d cuts, %lld ms\n", n, cuts_run, static_cast<long long>(ms));
}

// ------------------------------------------------------------ short writes

// The peer: reads everything slowly (small reads, a pause between) and, as
// a server does, answers each command once it has read it: replies[i].second
// goes when replies[i].first bytes have come. Stops at EOF.
struct SlowPeer {
    int fd;
    std::vector<std::pair<std::size_t, std::string>> replies;
    std::string got;
    std::thread th;
    void start() {
        th = std::thread([this] {
            char buf[700];
            std::size_t next = 0;
            for (;;) {
                ssize_t n = ::recv(fd, buf, sizeof buf, 0);
                if (n <= 0) break;
                got.append(buf, static_cast<std::size_t>(n));
                while (next < replies.size() && got.size() >= replies[next].first) {
                    ::send(fd, replies[next].second.data(), replies[next].second.size(), MSG_NOSIGNAL);
                    ++next;
                }
                struct timespec ts = {0, 20000};
                ::nanosleep(&ts, nullptr);
            }
        });
    }
};

// The handshake response's length (one frame) at the start of what the client sent.
std::size_t first_frame(const std::string &s) {
    return 4 + (std::uint8_t(s[0]) | std::uint8_t(s[1]) << 8 | std::uint8_t(s[2]) << 16);
}

void short_writes(bool pipeline) {
    int sv[2];
    assert_int_equal(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    int tiny = 1;  // the kernel's minimum (a few KiB)
    assert_int_equal(::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &tiny, sizeof tiny), 0);
    std::string login = login_greeting() + login_ok();
    assert_int_equal(::write(sv[1], login.data(), login.size()), static_cast<ssize_t>(login.size()));
    std::string sql = "SELECT '" + std::string(1 << 20, 'q') + "'";
    std::string query_frame = framed("\x03" + sql, 0);
    std::string expect_sent = query_frame;
    std::vector<std::pair<std::size_t, std::string>> replies = {{expect_sent.size(), result_set({{"1", "big"}})}};
    if (pipeline) {
        expect_sent += framed("\x0e", 0);
        replies.push_back({expect_sent.size(), framed(ok_packet(0, 0x0002), 1)});
        expect_sent += query_frame;
        replies.push_back({expect_sent.size(), result_set({{"2", "again"}})});
    }
    Script s{"short-writes", {}, false, nullptr, ""};
    Ctx x;
    x.c = new_conn(s, sv[0]);
    assert_true(connect(x));
    int snd = 0;
    socklen_t len = sizeof snd;
    ::getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &snd, &len);
    // The handshake response is already in the peer's queue: read it first.
    char head[4];
    assert_int_equal(::recv(sv[1], head, 4, MSG_PEEK), 4);
    std::size_t hs = first_frame(std::string(head, 4));
    std::string hsbuf(hs, '\0');
    assert_int_equal(::recv(sv[1], hsbuf.data(), hs, MSG_WAITALL), static_cast<ssize_t>(hs));
    SlowPeer peer{sv[1], replies, {}, {}};
    peer.start();
    if (!pipeline) {
        query(x, sql.c_str(), MYWIRE_BUFFERED);
    } else {
        mywire_pipeline *p = nullptr;
        assert_int_equal(mywire_pipeline_new(&p), MYWIRE_OK);
        mywire_pipeline_add_query(p, sql.data(), sql.size());
        mywire_pipeline_add_ping(p);
        mywire_pipeline_add_query(p, sql.data(), sql.size());
        if (x.ok(mywire_pipeline_run(x.c, p), MYWIRE_OK, "pipeline")) {
            for (std::size_t i : {0, 2}) {
                mywire_result *r = nullptr;
                if (!x.ok(mywire_pipeline_take_result(p, i, 0, &r), MYWIRE_OK, "take")) break;
                log_rows(x, r);
                mywire_result_free(r);
            }
            x.ok(mywire_pipeline_step_code(p, 1), MYWIRE_OK, "ping");
        }
        mywire_pipeline_free(p);
    }
    mywire_close(x.c);  // COM_QUIT, then the socket closes: the peer sees EOF
    peer.th.join();
    mywire_conn_free(x.c);
    ::close(sv[1]);
    const char *want = pipeline ? "connect=0\nserver 10.11.6-MariaDB mysql_native_password\npipeline=0\ntake=0\n"
                                  "row [1] [big]\nfetch=101\ntake=0\nrow [2] [again]\nfetch=101\nping=0\n"
                                : "connect=0\nserver 10.11.6-MariaDB mysql_native_password\nquery=0\n"
                                  "columns 2 name\nrow [1] [big]\nfetch=101\n";
    if (x.log != want) {
        print_error("[short writes%s, SO_SNDBUF %d] %s; the peer read %zu of %zu bytes; log:\n%s--- expected:\n%s",
                    pipeline ? ", pipeline" : "", snd, x.message.c_str(), peer.got.size(), expect_sent.size(),
                    x.log.c_str(), want);
        fail();
    }
    std::string quit = framed("\x01", 0);
    assert_true(peer.got.size() >= expect_sent.size());
    assert_true(peer.got.compare(0, expect_sent.size(), expect_sent) == 0);
    assert_sv_equal(std::string_view(peer.got).substr(expect_sent.size()), quit);
}

void test_short_writes_query(void **) { short_writes(false); }
void test_short_writes_pipeline(void **) { short_writes(true); }


// What the client sends for ER_NEED_REPREPARE with auto_reprepare: the
// prepare, the execute of id 1, the same prepare again, the execute of the
// new id 2 with the parameter types sent again (the new statement has none
// yet); the old statement's COM_STMT_CLOSE (and the freed one's) ahead of
// the next command, a ping.
void test_reprepare_sent(void **) {
    int sv[2];
    assert_int_equal(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    for (const std::string &f : {login_greeting(), login_ok(), prepare_reply(1), need_reprepare(), prepare_reply(2),
                                 execute_reply(), framed(ok_packet(0, 0x0002), 1)})
        queue(sv[1], f);
    Script s{"reprepare-sent", {}, false, nullptr, ""};
    Ctx x;
    x.c = new_conn(s, sv[0]);
    reprepare_run(x, true, MYWIRE_OK);
    x.ok(mywire_ping(x.c), MYWIRE_OK, "ping");
    if (x.failed) {
        print_error("%s; log:\n%s", x.message.c_str(), x.log.c_str());
        fail();
    }
    mywire_close(x.c);
    mywire_conn_free(x.c);
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = ::recv(sv[1], buf, sizeof buf, MSG_DONTWAIT)) > 0;) got.append(buf, static_cast<std::size_t>(n));
    ::close(sv[1]);
    std::string prepare = framed(std::string("\x16") + reprepare_sql, 0);
    std::string want = prepare + execute_request(1) + prepare + execute_request(2) +
                       framed(Bytes().u8(0x19).u32(1).str(), 0) + framed(Bytes().u8(0x19).u32(2).str(), 0) +
                       framed("\x0e", 0) + framed("\x01", 0);
    assert_true(got.size() > 4);
    std::size_t hs = first_frame(got);
    assert_true(got.size() >= hs);
    assert_sv_equal(std::string_view(got).substr(hs), want);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_short_writes_query),
        cmocka_unit_test(test_short_writes_pipeline),
        cmocka_unit_test(test_reprepare_sent),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
