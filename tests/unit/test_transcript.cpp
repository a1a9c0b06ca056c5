// The operations of operations.hpp driven over an in-memory transport by a
// scripted transcript: "expect the client to write this, then feed it that".
// Every transcript runs three times: the server's bytes fed all at once, one
// byte at a time, and exactly read_hint() bytes at a time.
#include "proto/operations.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "unit.hpp"

using namespace mywire::proto;
using mywire::Options;
using unit::Bytes;
using unit::Errc;

namespace {

enum class Feed { all, byte, hint };
const Feed all_feeds[] = {Feed::all, Feed::byte, Feed::hint};
const char *feed_name(Feed f) { return f == Feed::all ? "all" : f == Feed::byte ? "byte" : "hint"; }

// ------------------------------------------------------------- transport

class Transport {
public:
    explicit Transport(Feed feed) : feed_(feed) {}

    // The server sends payload as one packet with sequence id seq.
    Transport &server(std::string_view payload, std::uint8_t seq) {
        steps_.push_back({false, Bytes().frame(payload, seq).str(), {}});
        return *this;
    }
    // The client must write exactly this packet.
    Transport &client(std::string_view payload, std::uint8_t seq) {
        std::string want = Bytes().frame(payload, seq).str();
        steps_.push_back({true, {}, [want](std::string_view got) {
                              assert_sv_equal(got, want);
                          }});
        return *this;
    }
    // The client writes one packet with this sequence id; check looks at its payload.
    Transport &client(std::uint8_t seq, std::function<void(std::string_view)> check) {
        steps_.push_back({true, {}, [seq, check](std::string_view got) {
                              assert_true(got.size() >= 4);
                              std::size_t len = std::uint8_t(got[0]) | std::uint8_t(got[1]) << 8 |
                                                std::uint8_t(got[2]) << 16;
                              assert_int_equal(std::uint8_t(got[3]), seq);
                              assert_int_equal(got.size(), 4 + len);  // one packet, whole
                              check(got.substr(4));
                          }});
        return *this;
    }

    // Resume op until it is done or fails, serving its writes and reads.
    template <class Op>
    Action run(Op &op, Session &s) {
        for (int guard = 0; guard < 100000000; ++guard) {
            Action a = op.resume(s);
            if (a == Action::done || a == Action::error) return a;
            if (a == Action::write) {
                if (!pending_.empty() || steps_.empty() || !steps_.front().from_client) {
                    print_error("[%s] unexpected write of %zu bytes: \"%s\"\n", feed_name(feed_),
                                s.wbuf.size(), unit::printable(wbuf_view(s)).c_str());
                    fail();
                }
                steps_.front().check(wbuf_view(s));
                steps_.pop_front();
                ++writes;
                s.wbuf.clear();
                continue;
            }
            // Action::read
            if (s.read_hint() == 0) {
                print_error("[%s] read with no hint\n", feed_name(feed_));
                fail();
            }
            if (pending_.empty()) {
                while (!steps_.empty() && !steps_.front().from_client) {
                    pending_ += steps_.front().bytes;
                    steps_.pop_front();
                }
                if (pending_.empty()) {
                    print_error("[%s] the operation reads, but the script has %s\n", feed_name(feed_),
                                steps_.empty() ? "ended" : "the client write next");
                    fail();
                }
            }
            std::size_t n = feed_ == Feed::all    ? pending_.size()
                            : feed_ == Feed::byte ? 1
                                                  : std::min(pending_.size(), s.read_hint());
            s.rbuf.append(std::string_view(pending_).substr(0, n));
            pending_.erase(0, n);
        }
        print_error("operation never finished\n");
        fail();
        return Action::error;
    }

    // Everything scripted happened (and nothing the server sent is left over).
    void assert_finished(const Session &s) const {
        if (!steps_.empty() || !pending_.empty() || !s.rbuf.pending().empty()) {
            print_error("[%s] transcript not finished: %zu steps, %zu + %zu bytes left\n", feed_name(feed_),
                        steps_.size(), pending_.size(), s.rbuf.pending().size());
            fail();
        }
    }
    std::size_t steps_left() const { return steps_.size(); }
    int writes = 0;

private:
    static std::string_view wbuf_view(const Session &s) {
        return {reinterpret_cast<const char *>(s.wbuf.data()), s.wbuf.size()};
    }
    struct Step {
        bool from_client;
        std::string bytes;                                // server
        std::function<void(std::string_view)> check;      // client
    };
    Feed feed_;
    std::deque<Step> steps_;
    std::string pending_;
};

// ------------------------------------------------------- server packets

const std::string scramble20 = "S1cr2mbl3-4Xy!7QzZpL";

constexpr std::uint32_t mysql8_caps = 0xDFFFFFFF;
constexpr std::uint32_t mariadb_caps = 0x81FFF7FE;  // bit 0 clear: MariaDB

std::string greeting(std::string_view version, std::uint32_t caps, std::uint32_t ext_caps,
                     std::string_view plugin, std::string_view scramble = scramble20) {
    Bytes g;
    g.u8(10).nul(version).u32(77).str(scramble.substr(0, 8)).u8(0).u16(caps & 0xFFFF);
    g.u8(45).u16(0x0002).u16(caps >> 16).u8(21).fill(6, 0).u32(ext_caps);
    g.str(scramble.substr(8)).u8(0).nul(plugin);
    return g.str();
}

std::string ok_packet(std::uint64_t affected, std::uint16_t status, std::string_view info = {},
                      unsigned header = 0x00) {
    return Bytes().u8(header).lenenc(affected).lenenc(0).u16(status).u16(0).str(info).str();
}

std::string err_packet(unsigned code, std::string_view state, std::string_view msg) {
    Bytes b;
    b.u8(0xFF).u16(code);
    if (!state.empty()) b.str("#").str(state);
    return b.str(msg).str();
}

std::string switch_packet(std::string_view plugin, std::string_view data) {
    return Bytes().u8(0xFE).nul(plugin).str(data).str();
}

std::string challenge32(unsigned salt) {
    std::string c(32, '\0');
    for (int i = 0; i < 32; ++i) c[i] = static_cast<char>(i * 29 + salt + 1);
    return c;
}

// ---------------------------------------------- independent computations

std::string sha(const EVP_MD *md, std::string_view in) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    assert_int_equal(EVP_Digest(in.data(), in.size(), out, &n, md, nullptr), 1);
    return std::string(reinterpret_cast<char *>(out), n);
}

std::string native_reference(std::string_view pw, std::string_view challenge) {
    if (pw.empty()) return {};
    std::string h1 = sha(EVP_sha1(), pw);
    std::string h3 = sha(EVP_sha1(), std::string(challenge.substr(0, 20)) + sha(EVP_sha1(), h1));
    for (int i = 0; i < 20; ++i) h1[i] = static_cast<char>(h1[i] ^ h3[i]);
    return h1;
}

void assert_ed25519_signature(std::string_view sig, std::string_view challenge, std::string_view pw) {
    std::string az = sha(EVP_sha512(), pw);
    unsigned char scalar[32], pk[32];
    std::memcpy(scalar, az.data(), 32);
    scalar[0] &= 248;
    scalar[31] &= 63;
    scalar[31] |= 64;
    assert_int_equal(crypto_scalarmult_ed25519_base(pk, scalar), 0);
    assert_int_equal(sig.size(), 64);
    assert_int_equal(crypto_sign_verify_detached(reinterpret_cast<const unsigned char *>(sig.data()),
                                                 reinterpret_cast<const unsigned char *>(challenge.data()),
                                                 challenge.size(), pk),
                     0);
}

// The client's HandshakeResponse41, taken apart by hand.
struct Response {
    std::uint32_t caps = 0, max_packet = 0;
    unsigned charset = 0;
    std::string filler, user, auth, database, plugin;
    std::map<std::string, std::string> attrs;
};

Response parse_response(std::string_view p) {
    Response r;
    std::size_t i = 0;
    auto need = [&](std::size_t n) {
        if (p.size() - i < n) {
            print_error("handshake response truncated at %zu\n", i);
            fail();
        }
    };
    auto u32 = [&] {
        need(4);
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) v |= std::uint32_t(std::uint8_t(p[i + k])) << (8 * k);
        i += 4;
        return v;
    };
    auto nul = [&] {
        std::size_t e = p.find('\0', i);
        if (e == std::string_view::npos) {
            print_error("missing NUL in handshake response at %zu\n", i);
            fail();
        }
        std::string s(p.substr(i, e - i));
        i = e + 1;
        return s;
    };
    auto lenenc = [&]() -> std::uint64_t {
        need(1);
        unsigned b = std::uint8_t(p[i++]);
        if (b < 0xFB) return b;
        int n = b == 0xFC ? 2 : b == 0xFD ? 3 : 8;
        need(n);
        std::uint64_t v = 0;
        for (int k = 0; k < n; ++k) v |= std::uint64_t(std::uint8_t(p[i + k])) << (8 * k);
        i += n;
        return v;
    };
    auto lenstr = [&] {
        std::uint64_t n = lenenc();
        need(n);
        std::string s(p.substr(i, n));
        i += n;
        return s;
    };
    r.caps = u32();
    r.max_packet = u32();
    need(24);
    r.charset = std::uint8_t(p[i]);
    r.filler = std::string(p.substr(i + 1, 23));
    i += 24;
    r.user = nul();
    if (r.caps & cap::plugin_auth_lenenc_data) {
        r.auth = lenstr();
    } else {
        need(1);
        std::size_t n = std::uint8_t(p[i++]);
        need(n);
        r.auth = std::string(p.substr(i, n));
        i += n;
    }
    if (r.caps & cap::connect_with_db) r.database = nul();
    if (r.caps & cap::plugin_auth) r.plugin = nul();
    if (r.caps & cap::connect_attrs) {
        std::uint64_t total = lenenc();
        std::size_t end = i + total;
        need(total);
        while (i < end) {
            std::string k = lenstr();
            r.attrs[k] = lenstr();
        }
        assert_int_equal(i, end);
    }
    assert_int_equal(i, p.size());  // nothing after the last field
    return r;
}

// What every handshake response must satisfy, given what the server offered.
void check_common_caps(const Response &r, std::uint32_t server_caps) {
    assert_int_equal(r.caps & ~server_caps, 0);  // nothing the server lacks
    assert_true(r.caps & cap::protocol_41);
    assert_true(r.caps & cap::secure_connection);
    assert_false(r.caps & cap::ssl);
    assert_false(r.caps & cap::compress);
    assert_false(r.caps & cap::local_files);
}

// --------------------------------------------------------------- connect

struct Connect {
    Options opts;
    ServerInfo info;
    Session s;
};

void connect_native_mysql8(Feed feed) {
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "pw";
    c.opts.database = "shop";
    c.opts.connect_attrs = {{"app", "transcript"}};
    Transport t(feed);
    std::uint32_t sent_caps = 0;
    t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
    t.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        check_common_caps(r, mysql8_caps);
        assert_true(r.caps & cap::deprecate_eof);    // offered: requested
        assert_true(r.caps & cap::connect_with_db);  // a database is set
        assert_false(r.caps & cap::multi_statements);
        assert_true(r.caps & cap::plugin_auth);
        assert_int_equal(r.max_packet, 64u << 20);
        assert_int_equal(r.charset, 45);
        assert_sv_equal(r.filler, std::string(23, '\0'));
        assert_sv_equal(r.user, "alice");
        assert_sv_equal(r.auth, native_reference("pw", scramble20));
        assert_sv_equal(r.database, "shop");
        assert_sv_equal(r.plugin, "mysql_native_password");
        assert_sv_equal(r.attrs["_client_name"], "libmywire");
        assert_sv_equal(r.attrs["_client_version"], MYWIRE_VERSION_STRING);
        assert_sv_equal(r.attrs["app"], "transcript");
        sent_caps = r.caps;
    });
    t.server(ok_packet(0, 0x0002), 2);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
    t.assert_finished(c.s);
    assert_int_equal(c.s.capabilities, sent_caps);
    assert_int_equal(c.s.status_flags, 2);
    assert_sv_equal(c.info.version, "8.0.36");
    assert_int_equal(c.info.connection_id, 77);
    assert_false(c.info.is_mariadb);
    assert_sv_equal(c.info.auth_plugin, "mysql_native_password");
    assert_int_equal(t.writes, 1);
}

void connect_mariadb_caps(Feed feed) {
    // No DEPRECATE_EOF offered, no database, multi statements asked for.
    std::uint32_t server_caps = mariadb_caps & ~cap::deprecate_eof;
    Connect c;
    c.opts.user = "bob";
    c.opts.multi_statements = true;
    c.opts.max_allowed_packet = 1u << 30;
    c.opts.charset = 33;
    Transport t(feed);
    t.server(greeting("5.5.5-10.11.6-MariaDB", server_caps, 0x1D, "mysql_native_password"), 0);
    t.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        check_common_caps(r, server_caps);
        assert_false(r.caps & cap::deprecate_eof);
        assert_false(r.caps & cap::connect_with_db);
        assert_true(r.caps & cap::multi_statements);
        assert_false(r.caps & cap::long_password);  // the "I am MySQL" bit stays clear
        assert_int_equal(r.max_packet, 1u << 30);
        assert_int_equal(r.charset, 33);
        assert_sv_equal(r.auth, "");  // no password
        assert_sv_equal(r.database, "");
    });
    t.server(ok_packet(0, 0x0002), 2);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
    t.assert_finished(c.s);
    assert_false(c.s.deprecate_eof());
    assert_true(c.info.is_mariadb);
    assert_sv_equal(c.info.version, "10.11.6-MariaDB");

    // The same server offering DEPRECATE_EOF, without multi statements.
    Connect c2;
    Transport t2(feed);
    t2.server(greeting("5.5.5-10.11.6-MariaDB", mariadb_caps, 0x1D, "mysql_native_password"), 0);
    t2.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        assert_true(r.caps & cap::deprecate_eof);
        assert_false(r.caps & cap::multi_statements);
    });
    t2.server(ok_packet(0, 0x0002), 2);
    HandshakeOp op2(c2.opts, false, MYWIRE_SSL_MODE_DISABLED, c2.info);
    assert_int_equal(static_cast<int>(t2.run(op2, c2.s)), static_cast<int>(Action::done));
    assert_true(c2.s.deprecate_eof());
}

void connect_unknown_default_plugin(Feed feed) {
    // MySQL 8's default plugin is not ours: answer as mysql_native_password
    // and follow the server's switch to it (a fresh challenge).
    Connect c;
    c.opts.user = "u";
    c.opts.password = "secret";
    std::string fresh = "abcdefghijKLMNOPQRST";
    Transport t(feed);
    t.server(greeting("8.0.36", mysql8_caps, 0, "authentication_ldap_sasl_client"), 0);
    t.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        assert_sv_equal(r.plugin, "mysql_native_password");
        assert_sv_equal(r.auth, native_reference("secret", scramble20));
    });
    t.server(switch_packet("mysql_native_password", fresh + std::string(1, '\0')), 2);
    t.client(native_reference("secret", fresh), 3);
    t.server(ok_packet(0, 2), 4);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
    t.assert_finished(c.s);
    assert_sv_equal(c.info.auth_plugin, "mysql_native_password");
}

void connect_switch_native_to_ed25519(Feed feed) {
    Connect c;
    c.opts.user = "mywire_ed";
    c.opts.password = "ed-pw";
    std::string nonce = challenge32(5);
    Transport t(feed);
    t.server(greeting("5.5.5-10.11.6-MariaDB", mariadb_caps, 0x1D, "mysql_native_password"), 0);
    t.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        assert_sv_equal(r.plugin, "mysql_native_password");
        assert_sv_equal(r.auth, native_reference("ed-pw", scramble20));
    });
    t.server(switch_packet("client_ed25519", nonce), 2);
    t.client(3, [&](std::string_view p) { assert_ed25519_signature(p, nonce, "ed-pw"); });
    t.server(ok_packet(0, 2), 4);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
    t.assert_finished(c.s);
    assert_sv_equal(c.info.auth_plugin, "client_ed25519");
}

void connect_switch_ed25519_to_native(Feed feed) {
    // The greeting names client_ed25519 (its scramble is no ed25519 challenge):
    // the client answers as mysql_native_password; the server switches to
    // ed25519, then back to mysql_native_password with a new challenge.
    Connect c;
    c.opts.user = "u";
    c.opts.password = "pw2";
    std::string nonce = challenge32(9);
    std::string fresh = "0123456789abcdefghij";
    Transport t(feed);
    t.server(greeting("5.5.5-10.11.6-MariaDB", mariadb_caps, 0x1D, "client_ed25519"), 0);
    t.client(1, [&](std::string_view p) {
        Response r = parse_response(p);
        assert_sv_equal(r.plugin, "mysql_native_password");
        assert_sv_equal(r.auth, native_reference("pw2", scramble20));
    });
    t.server(switch_packet("client_ed25519", nonce), 2);
    t.client(3, [&](std::string_view p) { assert_ed25519_signature(p, nonce, "pw2"); });
    t.server(switch_packet("mysql_native_password", fresh + std::string(1, '\0')), 4);
    t.client(native_reference("pw2", fresh), 5);
    t.server(ok_packet(0, 2), 6);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
    t.assert_finished(c.s);
    assert_sv_equal(c.info.auth_plugin, "mysql_native_password");
}

// A 32-byte ed25519 challenge whose last byte is 0x00 is still 32 bytes.
void connect_ed25519_nonce_ending_in_nul(Feed feed) {
    Connect c;
    c.opts.user = "mywire_ed";
    c.opts.password = "ed-pw";
    std::string nonce = challenge32(3);
    nonce[31] = '\0';
    Transport t(feed);
    t.server(greeting("5.5.5-10.11.6-MariaDB", mariadb_caps, 0x1D, "mysql_native_password"), 0);
    t.client(1, [&](std::string_view) {});
    t.server(switch_packet("client_ed25519", nonce), 2);
    t.client(3, [&](std::string_view p) { assert_ed25519_signature(p, nonce, "ed-pw"); });
    t.server(ok_packet(0, 2), 4);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    Action a = t.run(op, c.s);
    if (a != Action::done) {
        print_error("[%s] login failed: Errc %d: %s\n", feed_name(feed), unit::ec(c.s.err.code),
                    c.s.err.message.c_str());
        fail();
    }
    t.assert_finished(c.s);
}

// The operation stops with `code`; the client wrote `writes` packets in all.
template <class Setup>
void expect_connect_failure(Feed feed, Errc code, int writes, Setup &&setup) {
    Connect c;
    c.opts.user = "u";
    c.opts.password = "pw";
    Transport t(feed);
    setup(c, t);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::error));
    assert_errc(c.s.err.code, code);
    assert_int_equal(t.writes, writes);
    assert_int_equal(t.steps_left(), 0);
}

void connect_unknown_plugin_switch(Feed feed) {
    expect_connect_failure(feed, Errc::auth, 1, [](Connect &, Transport &t) {
        t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        t.server(switch_packet("dialog", "\x04Password: "), 2);
    });
    // The name in the message is the server's only when it is a plain identifier.
    Connect c;
    Transport t(feed);
    t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
    t.client(1, [](std::string_view) {});
    t.server(switch_packet("evil\x1b[2Jname", "x"), 2);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::error));
    assert_errc(c.s.err.code, Errc::auth);
    assert_true(c.s.err.message.find('\x1b') == std::string::npos);
}

void connect_old_password_switch(Feed feed) {
    // The old 1-byte form, and the named form.
    expect_connect_failure(feed, Errc::auth, 1, [](Connect &, Transport &t) {
        t.server(greeting("5.0.96", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        t.server(Bytes{0xFE}.str(), 2);
    });
    expect_connect_failure(feed, Errc::auth, 1, [](Connect &, Transport &t) {
        t.server(greeting("5.0.96", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        t.server(switch_packet("mysql_old_password", "12345678"), 2);
    });
}

void connect_too_many_round_trips(Feed feed) {
    // Every auth packet is a round trip; the 9th switch is refused unanswered.
    expect_connect_failure(feed, Errc::auth, 1 + HandshakeOp::max_auth_round_trips,
                           [](Connect &c, Transport &t) {
        t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        std::uint8_t seq = 2;
        for (int i = 0; i <= HandshakeOp::max_auth_round_trips; ++i) {
            std::string ch = scramble20;
            ch[0] = static_cast<char>('a' + i);
            t.server(switch_packet("mysql_native_password", ch), seq++);
            if (i < HandshakeOp::max_auth_round_trips) t.client(native_reference(c.opts.password, ch), seq++);
        }
    });
    // Fewer switches are fine.
    Connect c;
    c.opts.password = "pw";
    Transport t(feed);
    t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
    t.client(1, [](std::string_view) {});
    std::uint8_t seq = 2;
    for (int i = 0; i < HandshakeOp::max_auth_round_trips - 1; ++i) {
        std::string ch = scramble20;
        ch[1] = static_cast<char>('A' + i);
        t.server(switch_packet("mysql_native_password", ch), seq++);
        t.client(native_reference("pw", ch), seq++);
    }
    t.server(ok_packet(0, 2), seq);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::done));
}

void connect_auth_more_data_unexpected(Feed feed) {
    // Neither built-in plugin takes AuthMoreData.
    expect_connect_failure(feed, Errc::protocol, 1, [](Connect &, Transport &t) {
        t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        t.server(Bytes().u8(0x01).u8(0x04).str(), 2);  // "perform full authentication"
    });
}

void connect_err_greeting(Feed feed) {
    Connect c;
    Transport t(feed);
    t.server(err_packet(1040, "", "Too many connections"), 0);
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(t.run(op, c.s)), static_cast<int>(Action::error));
    assert_errc(c.s.err.code, Errc::server);
    assert_int_equal(c.s.err.server_errno, 1040);
    assert_sv_equal(std::string_view(c.s.err.sqlstate, 5), "HY000");
    assert_sv_equal(c.s.err.message, "Too many connections");
    assert_int_equal(t.writes, 0);
}

void connect_access_denied(Feed feed) {
    expect_connect_failure(feed, Errc::server, 1, [](Connect &, Transport &t) {
        t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0);
        t.client(1, [](std::string_view) {});
        t.server(err_packet(1045, "28000", "Access denied for user 'u'@'localhost'"), 2);
    });
}

void connect_unsupported_servers(Feed feed) {
    // A 4.0 server.
    expect_connect_failure(feed, Errc::unsupported, 0, [](Connect &, Transport &t) {
        t.server(Bytes().u8(10).nul("4.0.30").u32(1).str("abcdefgh").u8(0).u16(0x202C).u8(8).u16(2)
                     .fill(13, 0).str(),
                 0);
    });
    // No secure connection.
    expect_connect_failure(feed, Errc::unsupported, 0, [](Connect &, Transport &t) {
        t.server(greeting("5.0.1", mysql8_caps & ~cap::secure_connection, 0, "mysql_native_password"), 0);
    });
    // A database but no CONNECT_WITH_DB.
    expect_connect_failure(feed, Errc::unsupported, 0, [](Connect &c, Transport &t) {
        c.opts.database = "db";
        t.server(greeting("8.0.36", mysql8_caps & ~cap::connect_with_db, 0, "mysql_native_password"), 0);
    });
    // Garbage.
    expect_connect_failure(feed, Errc::protocol, 0, [](Connect &, Transport &t) {
        t.server("\x0a" "8.0", 0);
    });
    // A greeting out of sequence.
    expect_connect_failure(feed, Errc::protocol, 0, [](Connect &, Transport &t) {
        t.server(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 1);
    });
}

// ---------------------------------------------------------------- queries

constexpr std::uint32_t classic_caps = cap::protocol_41 | cap::secure_connection | cap::plugin_auth |
                                       cap::transactions | cap::multi_results;
constexpr std::uint32_t modern_caps = classic_caps | cap::deprecate_eof;

std::string column(std::string_view name, std::string_view table, unsigned type, unsigned flags = 0) {
    Bytes b;
    b.lenstr("def").lenstr("shop").lenstr(table).lenstr(std::string(table) + "_org").lenstr(name);
    b.lenstr(std::string(name) + "_org").lenenc(0x0C).u16(45).u32(44).u8(type).u16(flags).u8(0).u16(0);
    return b.str();
}

std::string row(std::initializer_list<const char *> values) {
    Bytes b;
    for (const char *v : values) {
        if (v)
            b.lenstr(v);
        else
            b.u8(0xFB);
    }
    return b.str();
}

std::string eof_packet(std::uint16_t status, std::uint16_t warnings = 0) {
    return Bytes().u8(0xFE).u16(warnings).u16(status).str();
}

struct Query {
    Session s;
    ResultHead head;
    explicit Query(std::uint32_t caps) { s.capabilities = caps; }
};

// Reads rows with RowOp to the end; returns them parsed (NULL as "<NULL>").
std::vector<std::vector<std::string>> read_rows(Transport &t, Session &s, std::size_t columns, RowOp &last) {
    std::vector<std::vector<std::string>> rows;
    for (;;) {
        RowOp op;
        Action a = t.run(op, s);
        if (a != Action::done) {
            print_error("RowOp failed: %d %s\n", unit::ec(s.err.code), s.err.message.c_str());
            fail();
        }
        if (op.end) {
            last = op;
            return rows;
        }
        std::vector<Value> vals(columns);
        assert_errc(parse_text_row(op.payload, columns, vals.data()), Errc::ok);
        std::vector<std::string> r;
        for (auto &v : vals) r.push_back(v.data ? std::string(v.data, v.len) : "<NULL>");
        rows.push_back(r);
    }
}

void check_head_columns(const ResultHead &head) {
    assert_int_equal(head.columns.size(), 2);
    const mywire_column &a = head.columns[0];
    assert_string_equal(a.name, "id");
    assert_int_equal(a.name_len, 2);
    assert_string_equal(a.org_name, "id_org");
    assert_string_equal(a.table, "t");
    assert_string_equal(a.org_table, "t_org");
    assert_string_equal(a.schema, "shop");
    assert_int_equal(a.type, 3);
    assert_int_equal(a.flags, 0x4203);
    assert_int_equal(a.charset, 45);
    assert_int_equal(a.length, 44);
    assert_string_equal(head.columns[1].name, "name");
    assert_int_equal(head.columns[1].type, 0xFD);
}

void query_text_result(Feed feed, bool deprecate_eof) {
    Query q(deprecate_eof ? modern_caps : classic_caps);
    Transport t(feed);
    std::uint8_t seq = 0;
    t.client(Bytes().u8(0x03).str("SELECT id, name FROM t").str(), seq++);
    t.server("\x02", seq++);
    t.server(column("id", "t", 3, 0x4203), seq++);
    t.server(column("name", "t", 0xFD), seq++);
    if (!deprecate_eof) t.server(eof_packet(0x0022), seq++);
    t.server(row({"1", nullptr}), seq++);
    t.server(row({"2", ""}), seq++);
    std::string long_value(300, 'L');
    t.server(row({"3", long_value.c_str()}), seq++);
    if (deprecate_eof)
        t.server(ok_packet(0, 0x0022, "", 0xFE), seq++);
    else
        t.server(eof_packet(0x0022, 1), seq++);

    ResultHeadOp head_op(q.head, 100);
    head_op.set_query("SELECT id, name FROM t");
    assert_int_equal(static_cast<int>(t.run(head_op, q.s)), static_cast<int>(Action::done));
    check_head_columns(q.head);
    RowOp last;
    auto rows = read_rows(t, q.s, 2, last);
    assert_int_equal(rows.size(), 3);
    assert_sv_equal(rows[0][0], "1");
    assert_sv_equal(rows[0][1], "<NULL>");
    assert_sv_equal(rows[1][1], "");
    assert_sv_equal(rows[2][1], long_value);
    assert_true(last.end);
    assert_int_equal(last.end_ok.status_flags, 0x0022);
    assert_int_equal(q.s.status_flags, 0x0022);
    if (!deprecate_eof) assert_int_equal(last.end_ok.warnings, 1);
    t.assert_finished(q.s);
}

void query_text_result_classic(Feed feed) { query_text_result(feed, false); }
void query_text_result_deprecate_eof(Feed feed) { query_text_result(feed, true); }

void query_row_starting_with_fe(Feed feed) {
    // Classic framing: a row whose first value has an 8-byte length is a row, not the EOF.
    Query q(classic_caps);
    Transport t(feed);
    t.client(Bytes().u8(0x03).str("q").str(), 0);
    t.server("\x01", 1);
    t.server(column("v", "t", 0xFD), 2);
    t.server(eof_packet(2), 3);
    t.server(Bytes().u8(0xFE).u64(3).str("abc").str(), 4);
    t.server(eof_packet(2), 5);
    ResultHeadOp head_op(q.head, 10);
    head_op.set_query("q");
    assert_int_equal(static_cast<int>(t.run(head_op, q.s)), static_cast<int>(Action::done));
    RowOp last;
    auto rows = read_rows(t, q.s, 1, last);
    assert_int_equal(rows.size(), 1);
    assert_sv_equal(rows[0][0], "abc");
    t.assert_finished(q.s);
}

// S5: the server decides how much metadata it sends; a column string over
// 64 KiB, or a head over max_metadata_bytes, is a LIMIT error.
void query_metadata_limits(Feed feed) {
    {
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server("\x01", 1);
        t.server(column("v", std::string(ResultHeadOp::max_column_string + 1, 'T'), 0xFD), 2);
        ResultHeadOp op(q.head, 10);
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::limit);
    }
    {
        // 8 columns with 4 KB names each: 64 KB of metadata against a 32 KB budget.
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server("\x08", 1);
        for (int i = 0; i < 8; ++i) t.server(column(std::string(4000, char('a' + i)), "t", 0xFD), 2 + i);
        ResultHeadOp op(q.head, ResultHeadOp::Limits{10, 32 * 1024});
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::limit);
        assert_true(q.s.err.message.find("max_metadata_bytes") != std::string::npos);
        assert_true(q.head.names.size() <= 32 * 1024);
    }
}

void query_ok_with_info(Feed feed) {
    Query q(modern_caps);
    Transport t(feed);
    std::string info = "Rows matched: 3  Changed: 2  Warnings: 0";
    t.client(Bytes().u8(0x03).str("UPDATE t SET a = 1").str(), 0);
    t.server(Bytes().u8(0).u8(2).u8(9).u16(0x0002).u16(0).lenstr(info).str(), 1);  // as servers send it
    ResultHeadOp op(q.head, 10);
    op.set_query("UPDATE t SET a = 1");
    assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
    assert_int_equal(q.head.columns.size(), 0);
    assert_int_equal(q.head.ok.affected_rows, 2);
    assert_int_equal(q.head.ok.last_insert_id, 9);
    assert_sv_equal(q.head.info, info);
    assert_int_equal(q.s.status_flags, 2);
    t.assert_finished(q.s);
}

void query_err_result(Feed feed) {
    Query q(modern_caps);
    Transport t(feed);
    t.client(Bytes().u8(0x03).str("SELECT * FROM nope").str(), 0);
    t.server(err_packet(1146, "42S02", "Table 'shop.nope' doesn't exist"), 1);
    ResultHeadOp op(q.head, 10);
    op.set_query("SELECT * FROM nope");
    assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
    assert_errc(q.s.err.code, Errc::server);
    assert_int_equal(q.s.err.server_errno, 1146);
    assert_sv_equal(std::string_view(q.s.err.sqlstate, 5), "42S02");
    assert_sv_equal(q.s.err.message, "Table 'shop.nope' doesn't exist");
    t.assert_finished(q.s);
}

void query_multi_result(Feed feed, bool deprecate_eof) {
    // SELECT 1; UPDATE ...; SELECT 2 — the status flag announces each next result.
    Query q((deprecate_eof ? modern_caps : classic_caps) | cap::multi_statements);
    Transport t(feed);
    const std::uint16_t more = status::more_results | status::autocommit;
    auto end_of_rows = [&](std::uint16_t st, std::uint8_t seq) {
        if (deprecate_eof)
            t.server(ok_packet(0, st, "", 0xFE), seq);
        else
            t.server(eof_packet(st), seq);
    };
    std::uint8_t seq = 0;
    t.client(Bytes().u8(0x03).str("SELECT 1; UPDATE t SET a=a; SELECT 2").str(), seq++);
    t.server("\x01", seq++);
    t.server(column("1", "", 8), seq++);
    if (!deprecate_eof) t.server(eof_packet(more), seq++);
    t.server(row({"1"}), seq++);
    end_of_rows(more, seq++);
    t.server(Bytes().u8(0).u8(4).u8(0).u16(more).u16(0).lenstr("Rows matched: 4").str(), seq++);
    t.server("\x01", seq++);
    t.server(column("2", "", 8), seq++);
    if (!deprecate_eof) t.server(eof_packet(status::autocommit), seq++);
    t.server(row({"2"}), seq++);
    end_of_rows(status::autocommit, seq++);

    ResultHeadOp first(q.head, 10);
    first.set_query("SELECT 1; UPDATE t SET a=a; SELECT 2");
    assert_int_equal(static_cast<int>(t.run(first, q.s)), static_cast<int>(Action::done));
    RowOp last;
    assert_int_equal(read_rows(t, q.s, 1, last).size(), 1);
    assert_true(q.s.status_flags & status::more_results);

    ResultHead h2;
    ResultHeadOp second(h2, 10);  // no query: reads the next result
    assert_int_equal(static_cast<int>(t.run(second, q.s)), static_cast<int>(Action::done));
    assert_int_equal(h2.columns.size(), 0);
    assert_int_equal(h2.ok.affected_rows, 4);
    assert_sv_equal(h2.info, "Rows matched: 4");
    assert_true(q.s.status_flags & status::more_results);

    ResultHead h3;
    ResultHeadOp third(h3, 10);
    assert_int_equal(static_cast<int>(t.run(third, q.s)), static_cast<int>(Action::done));
    auto rows = read_rows(t, q.s, 1, last);
    assert_int_equal(rows.size(), 1);
    assert_sv_equal(rows[0][0], "2");
    assert_false(q.s.status_flags & status::more_results);
    t.assert_finished(q.s);
}

void query_multi_result_classic(Feed feed) { query_multi_result(feed, false); }
void query_multi_result_deprecate_eof(Feed feed) { query_multi_result(feed, true); }

void query_too_many_columns(Feed feed) {
    Query q(modern_caps);
    Transport t(feed);
    t.client(Bytes().u8(0x03).str("SELECT *").str(), 0);
    t.server("\x05", 1);
    ResultHeadOp op(q.head, 4);
    op.set_query("SELECT *");
    assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
    assert_errc(q.s.err.code, Errc::limit);
    // Exactly the limit is fine.
    Query q2(modern_caps);
    Transport t2(feed);
    t2.client(Bytes().u8(0x03).str("SELECT *").str(), 0);
    t2.server("\x02", 1);
    t2.server(column("id", "t", 3, 0x4203), 2);
    t2.server(column("name", "t", 0xFD), 3);
    ResultHeadOp op2(q2.head, 2);
    op2.set_query("SELECT *");
    assert_int_equal(static_cast<int>(t2.run(op2, q2.s)), static_cast<int>(Action::done));
    check_head_columns(q2.head);
}

void query_truncated_row(Feed feed) {
    Query q(modern_caps);
    Transport t(feed);
    t.client(Bytes().u8(0x03).str("q").str(), 0);
    t.server("\x01", 1);
    t.server(column("v", "t", 0xFD), 2);
    t.server(Bytes().u8(3).str("ab").str(), 3);  // says 3 bytes, has 2
    ResultHeadOp head_op(q.head, 10);
    head_op.set_query("q");
    assert_int_equal(static_cast<int>(t.run(head_op, q.s)), static_cast<int>(Action::done));
    RowOp op;
    assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::done));
    assert_false(op.end);
    assert_sv_equal(op.payload, "\x03" "ab");
    Value v;
    assert_errc(parse_text_row(op.payload, 1, &v), Errc::protocol);
    t.assert_finished(q.s);
}

void query_error_and_oddities(Feed feed) {
    {   // An ERR instead of a row (e.g. the query was killed).
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server("\x01", 1);
        t.server(column("v", "t", 0xFD), 2);
        t.server(row({"x"}), 3);
        t.server(err_packet(1317, "70100", "Query execution was interrupted"), 4);
        ResultHeadOp head_op(q.head, 10);
        head_op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(head_op, q.s)), static_cast<int>(Action::done));
        RowOp r1;
        assert_int_equal(static_cast<int>(t.run(r1, q.s)), static_cast<int>(Action::done));
        RowOp r2;
        assert_int_equal(static_cast<int>(t.run(r2, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::server);
        assert_int_equal(q.s.err.server_errno, 1317);
    }
    {   // LOCAL INFILE request: refused.
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server(Bytes().u8(0xFB).str("/etc/passwd").str(), 1);
        ResultHeadOp op(q.head, 10);
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::unsupported);
    }
    {   // A malformed column definition.
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server("\x01", 1);
        t.server(Bytes().u8(0xFB).str("garbage").str(), 2);
        ResultHeadOp op(q.head, 10);
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::protocol);
    }
    {   // Classic framing without the EOF after the columns.
        Query q(classic_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server("\x01", 1);
        t.server(column("v", "t", 0xFD), 2);
        t.server(row({"x"}), 3);
        ResultHeadOp op(q.head, 10);
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::protocol);
    }
    {   // A reply out of sequence.
        Query q(modern_caps);
        Transport t(feed);
        t.client(Bytes().u8(0x03).str("q").str(), 0);
        t.server(ok_packet(0, 2), 2);
        ResultHeadOp op(q.head, 10);
        op.set_query("q");
        assert_int_equal(static_cast<int>(t.run(op, q.s)), static_cast<int>(Action::error));
        assert_errc(q.s.err.code, Errc::protocol);
    }
}

void simple_commands(Feed feed) {
    Session s;
    s.capabilities = modern_caps;
    Transport t(feed);
    t.client("\x0e", 0);
    t.server(ok_packet(0, 0x0002), 1);
    t.client(Bytes().u8(0x02).str("shop").str(), 0);
    t.server(err_packet(1049, "42000", "Unknown database 'shop'"), 1);
    t.client("\x09", 0);
    t.server("Uptime: 5  Threads: 1", 1);
    // COM_SET_OPTION (multi statements on = 0, off = 1), answered by an EOF
    // packet, or an OK.
    t.client(Bytes().u8(0x1B).u16(0).str(), 0);
    t.server(eof_packet(0x000A), 1);
    t.client(Bytes().u8(0x1B).u16(1).str(), 0);
    t.server(ok_packet(0, 0x0002), 1);
    SimpleCommandOp ping(command::ping, "", SimpleCommandOp::Reply::ok);
    assert_int_equal(static_cast<int>(t.run(ping, s)), static_cast<int>(Action::done));
    SimpleCommandOp init_db(command::init_db, "shop", SimpleCommandOp::Reply::ok);
    assert_int_equal(static_cast<int>(t.run(init_db, s)), static_cast<int>(Action::error));
    assert_int_equal(s.err.server_errno, 1049);
    SimpleCommandOp stats(command::statistics, "", SimpleCommandOp::Reply::text);
    assert_int_equal(static_cast<int>(t.run(stats, s)), static_cast<int>(Action::done));
    assert_sv_equal(stats.text, "Uptime: 5  Threads: 1");
    auto on = SimpleCommandOp::set_option(set_option::multi_statements_on);
    assert_int_equal(static_cast<int>(t.run(on, s)), static_cast<int>(Action::done));
    assert_int_equal(s.status_flags, 0x000A);
    auto off = SimpleCommandOp::set_option(set_option::multi_statements_off);
    assert_int_equal(static_cast<int>(t.run(off, s)), static_cast<int>(Action::done));
    assert_int_equal(s.status_flags, 0x0002);
    t.assert_finished(s);
}

// cmocka entry points: each transcript under every feeding mode.
#define FEEDS(name)                                  \
    void test_##name(void **) {                      \
        for (Feed f : all_feeds) name(f);            \
    }
FEEDS(connect_native_mysql8)
FEEDS(connect_mariadb_caps)
FEEDS(connect_unknown_default_plugin)
FEEDS(connect_switch_native_to_ed25519)
FEEDS(connect_switch_ed25519_to_native)
FEEDS(connect_ed25519_nonce_ending_in_nul)
FEEDS(connect_unknown_plugin_switch)
FEEDS(connect_old_password_switch)
FEEDS(connect_too_many_round_trips)
FEEDS(connect_auth_more_data_unexpected)
FEEDS(connect_err_greeting)
FEEDS(connect_access_denied)
FEEDS(connect_unsupported_servers)
FEEDS(query_text_result_classic)
FEEDS(query_text_result_deprecate_eof)
FEEDS(query_row_starting_with_fe)
FEEDS(query_metadata_limits)
FEEDS(query_ok_with_info)
FEEDS(query_err_result)
FEEDS(query_multi_result_classic)
FEEDS(query_multi_result_deprecate_eof)
FEEDS(query_too_many_columns)
FEEDS(query_truncated_row)
FEEDS(query_error_and_oddities)
FEEDS(simple_commands)

// ------------------------------------------------------- TLS and friends
// Driven by hand: the Transport above knows nothing of start_tls.

std::string framed(std::string_view payload, std::uint8_t seq) {
    std::string f;
    f.push_back(static_cast<char>(payload.size() & 0xFF));
    f.push_back(static_cast<char>((payload.size() >> 8) & 0xFF));
    f.push_back(static_cast<char>((payload.size() >> 16) & 0xFF));
    f.push_back(static_cast<char>(seq));
    return f.append(payload);
}

std::string_view written(const Session &s) {
    return {reinterpret_cast<const char *>(s.wbuf.data()), s.wbuf.size()};
}

void test_tls_required_but_not_offered(void **) {
    for (int mode : {MYWIRE_SSL_MODE_REQUIRED, MYWIRE_SSL_MODE_VERIFY_CA, MYWIRE_SSL_MODE_VERIFY_IDENTITY}) {
        Connect c;
        c.opts.user = "alice";
        c.opts.password = "secret";
        c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps & ~cap::ssl, 0, "mysql_native_password"), 0));
        HandshakeOp op(c.opts, false, mode, c.info);
        assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::error));
        assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::tls));
        assert_int_equal(c.info.tls_failure, MYWIRE_TLS_FAILURE_NOT_OFFERED);
        assert_true(c.s.err.message.find("server does not support TLS; ssl_mode=") == 0);
        assert_int_equal(c.s.wbuf.size(), 0);  // not one byte to send
    }
    // PREFERRED goes on in plain text; DISABLED never asks.
    for (int mode : {MYWIRE_SSL_MODE_PREFERRED, MYWIRE_SSL_MODE_DISABLED}) {
        Connect c;
        c.opts.user = "alice";
        c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps & ~cap::ssl, 0, "mysql_native_password"), 0));
        HandshakeOp op(c.opts, false, mode, c.info);
        assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
        assert_false(c.s.capabilities & cap::ssl);
    }
}

void test_tls_ssl_request_then_response(void **) {
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "secret";
    c.opts.database = "shop";
    c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0));
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_PREFERRED, c.info);
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::start_tls));
    // The SSLRequest: a 32-byte payload with seq 1, and nothing else.
    std::string_view req = written(c.s);
    assert_int_equal(req.size(), 4 + 32);
    assert_int_equal(static_cast<std::uint8_t>(req[3]), 1);
    std::uint32_t caps = static_cast<std::uint8_t>(req[4]) | static_cast<std::uint8_t>(req[5]) << 8 |
                         static_cast<std::uint8_t>(req[6]) << 16 |
                         static_cast<std::uint32_t>(static_cast<std::uint8_t>(req[7])) << 24;
    assert_true(caps & cap::ssl);
    assert_int_equal(caps, c.s.capabilities);
    assert_sv_equal(req.substr(13), std::string(23, '\0'));
    assert_true(req.find("alice") == std::string_view::npos);
    // TLS is up (the driver's part): the handshake response follows, seq 2.
    c.s.wbuf.clear();
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
    std::string_view resp = written(c.s);
    assert_int_equal(static_cast<std::uint8_t>(resp[3]), 2);
    Response r = parse_response(resp.substr(4));
    assert_int_equal(r.caps, caps);
    assert_sv_equal(r.user, "alice");
    assert_sv_equal(r.auth, native_reference("secret", scramble20));
    c.s.wbuf.clear();
    c.s.rbuf.append(framed(ok_packet(0, 2), 3));
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::done));
}

void test_tls_pre_tls_bytes_refused(void **) {
    // Bytes after the greeting, before our TLS request was even sent: a
    // man in the middle queueing plain text to be read "after" TLS.
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "secret";
    c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0) +
                    framed(ok_packet(0, 2), 2));
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_REQUIRED, c.info);
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::error));
    assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::tls));
    assert_true(c.s.err.message.find("unexpected bytes after its greeting") != std::string::npos);
    assert_int_equal(c.s.wbuf.size(), 0);
}

// caching_sha2_password asks for full authentication (0x01 0x04) over TLS:
// the password goes only when the driver says the TLS handshake verified the
// server (session.tls_verified), or with allow_unverified_tls_password.
void test_tls_full_auth_needs_verified_server(void **) {
    struct Case {
        bool verified, allow, goes;
    } cases[] = {{false, false, false}, {true, false, true}, {false, true, true}};
    for (const Case &k : cases) {
        Connect c;
        c.opts.user = "alice";
        c.opts.password = "mitm-me";
        c.opts.allow_unverified_tls_password = k.allow;
        c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps, 0, "caching_sha2_password"), 0));
        HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_REQUIRED, c.info);
        assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::start_tls));
        c.s.wbuf.clear();
        c.s.tls_verified = k.verified;  // the driver's part
        assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
        c.s.wbuf.clear();
        c.s.rbuf.append(framed(std::string("\x01\x04", 2), 3));
        Action a = op.resume(c.s);
        std::string_view out = written(c.s);
        if (k.goes) {
            assert_int_equal(static_cast<int>(a), static_cast<int>(Action::write));
            assert_sv_equal(out, framed(std::string("mitm-me\0", 8), 4));
        } else {
            assert_int_equal(static_cast<int>(a), static_cast<int>(Action::error));
            assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::auth));
            assert_true(c.s.err.message.find("allow_unverified_tls_password") != std::string::npos);
            assert_int_equal(out.size(), 0);  // not one byte after the 0x04
        }
    }
}

void test_compression_negotiation(void **) {
    struct Case {
        int want;
        std::uint32_t server;
        std::uint32_t expect;  // 0: an error
    } cases[] = {
        {MYWIRE_COMPRESS_ZLIB, mysql8_caps, cap::compress},
        {MYWIRE_COMPRESS_ZSTD, mysql8_caps, cap::zstd},
        {MYWIRE_COMPRESS_ANY, mysql8_caps, cap::zstd},
        {MYWIRE_COMPRESS_ANY, mysql8_caps & ~cap::zstd, cap::compress},
        {MYWIRE_COMPRESS_ZSTD, mysql8_caps & ~cap::zstd, 0},
        {MYWIRE_COMPRESS_ZLIB, mysql8_caps & ~cap::compress, 0},
        {MYWIRE_COMPRESS_ANY, mysql8_caps & ~(cap::compress | cap::zstd), 0},
    };
    for (const Case &k : cases) {
        Connect c;
        c.opts.user = "u";
        c.opts.compress = k.want;
        c.opts.compression_level = 7;
        c.s.rbuf.append(framed(greeting("8.0.36", k.server, 0, "mysql_native_password"), 0));
        HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
        Action a = op.resume(c.s);
        if (!k.expect) {
            assert_int_equal(static_cast<int>(a), static_cast<int>(Action::error));
            assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::unsupported));
            assert_true(c.s.err.message.find("compress=") != std::string::npos);
            continue;
        }
        assert_int_equal(static_cast<int>(a), static_cast<int>(Action::write));
        assert_int_equal(c.s.capabilities & (cap::compress | cap::zstd), k.expect);
        // With zstd the level is the response's last byte.
        if (k.expect == cap::zstd) assert_int_equal(c.s.wbuf.back(), 7);
    }
}

void test_mfa_next_factor(void **) {
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "one";
    c.opts.password2 = "two";
    c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps, 0, "mysql_native_password"), 0));
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
    assert_true(c.s.capabilities & cap::multi_factor_auth);
    c.s.wbuf.clear();
    std::string fresh = "abcdefghijKLMNOPQRST";
    c.s.rbuf.append(framed(Bytes().u8(0x02).nul("mysql_native_password").str(fresh).str(), 2));
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
    assert_sv_equal(written(c.s).substr(4), native_reference("two", fresh));
    c.s.wbuf.clear();
    // A third factor without password3: a clear error, nothing sent.
    c.s.rbuf.append(framed(Bytes().u8(0x02).nul("mysql_native_password").str(fresh).str(), 4));
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::error));
    assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::auth));
    assert_true(c.s.err.message.find("password3") != std::string::npos);
    assert_int_equal(c.s.wbuf.size(), 0);
}

void test_greeting_plugin_used(void **) {
    // The server's default plugin (a name too long for the small-string
    // buffer) starts the login when mywire has it.
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "pw";
    c.s.rbuf.append(framed(greeting("8.0.36", mysql8_caps, 0, "caching_sha2_password"), 0));
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
    Response r = parse_response(written(c.s).substr(4));
    assert_sv_equal(r.plugin, "caching_sha2_password");
    assert_int_equal(r.auth.size(), 32);
}

void test_auth_plugins_allow_list(void **) {
    Connect c;
    c.opts.user = "alice";
    c.opts.password = "pw";
    c.opts.auth_plugins = {"mysql_native_password"};
    c.s.rbuf.append(framed(greeting("5.5.5-10.11.6-MariaDB", mariadb_caps, 0x1D, "mysql_native_password"), 0));
    HandshakeOp op(c.opts, false, MYWIRE_SSL_MODE_DISABLED, c.info);
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::write));
    c.s.wbuf.clear();
    c.s.rbuf.append(framed(switch_packet("client_ed25519", challenge32(3)), 2));
    assert_int_equal(static_cast<int>(op.resume(c.s)), static_cast<int>(Action::error));
    assert_int_equal(static_cast<int>(c.s.err.code), static_cast<int>(Errc::auth));
    assert_true(c.s.err.message.find("auth_plugins") != std::string::npos);
    assert_int_equal(c.s.wbuf.size(), 0);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_native_mysql8),
        cmocka_unit_test(test_connect_mariadb_caps),
        cmocka_unit_test(test_connect_unknown_default_plugin),
        cmocka_unit_test(test_connect_switch_native_to_ed25519),
        cmocka_unit_test(test_connect_switch_ed25519_to_native),
        cmocka_unit_test(test_connect_ed25519_nonce_ending_in_nul),
        cmocka_unit_test(test_connect_unknown_plugin_switch),
        cmocka_unit_test(test_connect_old_password_switch),
        cmocka_unit_test(test_connect_too_many_round_trips),
        cmocka_unit_test(test_connect_auth_more_data_unexpected),
        cmocka_unit_test(test_connect_err_greeting),
        cmocka_unit_test(test_connect_access_denied),
        cmocka_unit_test(test_connect_unsupported_servers),
        cmocka_unit_test(test_query_text_result_classic),
        cmocka_unit_test(test_query_text_result_deprecate_eof),
        cmocka_unit_test(test_query_row_starting_with_fe),
        cmocka_unit_test(test_query_metadata_limits),
        cmocka_unit_test(test_query_ok_with_info),
        cmocka_unit_test(test_query_err_result),
        cmocka_unit_test(test_query_multi_result_classic),
        cmocka_unit_test(test_query_multi_result_deprecate_eof),
        cmocka_unit_test(test_query_too_many_columns),
        cmocka_unit_test(test_query_truncated_row),
        cmocka_unit_test(test_query_error_and_oddities),
        cmocka_unit_test(test_simple_commands),
        cmocka_unit_test(test_tls_required_but_not_offered),
        cmocka_unit_test(test_tls_ssl_request_then_response),
        cmocka_unit_test(test_tls_pre_tls_bytes_refused),
        cmocka_unit_test(test_tls_full_auth_needs_verified_server),
        cmocka_unit_test(test_compression_negotiation),
        cmocka_unit_test(test_mfa_next_factor),
        cmocka_unit_test(test_auth_plugins_allow_list),
        cmocka_unit_test(test_greeting_plugin_used),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
