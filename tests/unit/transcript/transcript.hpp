// Shared by the transcript tests (one file per operation): the in-memory
// Transport that feeds a sans-io operation a scripted transcript ("expect the
// client to write this, then feed it that") byte-exactly, and the builders of
// server packets. Every Transport transcript runs three times: the server's
// bytes fed all at once, one byte at a time, and exactly read_hint() bytes at
// a time. (shipped_loop.hpp drives the shipped Connection loop instead.)
#pragma once

#include "proto/operations.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "../unit.hpp"

namespace transcript {

using namespace mywire::proto;
using mywire::Options;
using unit::Bytes;
using unit::Errc;

enum class Feed { all, byte, hint };
inline constexpr Feed all_feeds[] = {Feed::all, Feed::byte, Feed::hint};
inline const char *feed_name(Feed f) { return f == Feed::all ? "all" : f == Feed::byte ? "byte" : "hint"; }

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

inline const std::string scramble20 = "S1cr2mbl3-4Xy!7QzZpL";

constexpr std::uint32_t mysql8_caps = 0xDFFFFFFF;
constexpr std::uint32_t mariadb_caps = 0x81FFF7FE;  // bit 0 clear: MariaDB

inline std::string greeting(std::string_view version, std::uint32_t caps, std::uint32_t ext_caps,
                     std::string_view plugin, std::string_view scramble = scramble20) {
    Bytes g;
    g.u8(10).nul(version).u32(77).str(scramble.substr(0, 8)).u8(0).u16(caps & 0xFFFF);
    g.u8(45).u16(0x0002).u16(caps >> 16).u8(21).fill(6, 0).u32(ext_caps);
    g.str(scramble.substr(8)).u8(0).nul(plugin);
    return g.str();
}

inline std::string ok_packet(std::uint64_t affected, std::uint16_t status, std::string_view info = {},
                      unsigned header = 0x00) {
    return Bytes().u8(header).lenenc(affected).lenenc(0).u16(status).u16(0).str(info).str();
}

inline std::string err_packet(unsigned code, std::string_view state, std::string_view msg) {
    Bytes b;
    b.u8(0xFF).u16(code);
    if (!state.empty()) b.str("#").str(state);
    return b.str(msg).str();
}

inline std::string switch_packet(std::string_view plugin, std::string_view data) {
    return Bytes().u8(0xFE).nul(plugin).str(data).str();
}

inline std::string challenge32(unsigned salt) {
    std::string c(32, '\0');
    for (int i = 0; i < 32; ++i) c[i] = static_cast<char>(i * 29 + salt + 1);
    return c;
}

// ---------------------------------------------- independent computations

inline std::string sha(const EVP_MD *md, std::string_view in) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    assert_int_equal(EVP_Digest(in.data(), in.size(), out, &n, md, nullptr), 1);
    return std::string(reinterpret_cast<char *>(out), n);
}

inline std::string native_reference(std::string_view pw, std::string_view challenge) {
    if (pw.empty()) return {};
    std::string h1 = sha(EVP_sha1(), pw);
    std::string h3 = sha(EVP_sha1(), std::string(challenge.substr(0, 20)) + sha(EVP_sha1(), h1));
    for (int i = 0; i < 20; ++i) h1[i] = static_cast<char>(h1[i] ^ h3[i]);
    return h1;
}

inline void assert_ed25519_signature(std::string_view sig, std::string_view challenge, std::string_view pw) {
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

inline Response parse_response(std::string_view p) {
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
inline void check_common_caps(const Response &r, std::uint32_t server_caps) {
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

// ---------------------------------------------------------------- queries

constexpr std::uint32_t classic_caps = cap::protocol_41 | cap::secure_connection | cap::plugin_auth |
                                       cap::transactions | cap::multi_results;
constexpr std::uint32_t modern_caps = classic_caps | cap::deprecate_eof;

inline std::string column(std::string_view name, std::string_view table, unsigned type, unsigned flags = 0) {
    Bytes b;
    b.lenstr("def").lenstr("shop").lenstr(table).lenstr(std::string(table) + "_org").lenstr(name);
    b.lenstr(std::string(name) + "_org").lenenc(0x0C).u16(45).u32(44).u8(type).u16(flags).u8(0).u16(0);
    return b.str();
}

inline std::string row(std::initializer_list<const char *> values) {
    Bytes b;
    for (const char *v : values) {
        if (v)
            b.lenstr(v);
        else
            b.u8(0xFB);
    }
    return b.str();
}

inline std::string eof_packet(std::uint16_t status, std::uint16_t warnings = 0) {
    return Bytes().u8(0xFE).u16(warnings).u16(status).str();
}

struct Query {
    Session s;
    ResultHead head;
    explicit Query(std::uint32_t caps) { s.capabilities = caps; }
};

// Reads rows with RowOp to the end; returns them parsed (NULL as "<NULL>").
inline std::vector<std::vector<std::string>> read_rows(Transport &t, Session &s, std::size_t columns, RowOp &last) {
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

inline void check_head_columns(const ResultHead &head) {
    assert_int_equal(head.columns.size(), 2);
    const mywire::Column &a = head.columns[0];
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

// cmocka entry points: each transcript under every feeding mode.
#define FEEDS(name)                                  \
    void test_##name(void **) {                      \
        for (Feed f : all_feeds) name(f);            \
    }

// For the cases driven by hand (the Transport knows nothing of start_tls).
inline std::string framed(std::string_view payload, std::uint8_t seq) {
    std::string f;
    f.push_back(static_cast<char>(payload.size() & 0xFF));
    f.push_back(static_cast<char>((payload.size() >> 8) & 0xFF));
    f.push_back(static_cast<char>((payload.size() >> 16) & 0xFF));
    f.push_back(static_cast<char>(seq));
    return f.append(payload);
}

inline std::string_view written(const Session &s) {
    return {reinterpret_cast<const char *>(s.wbuf.data()), s.wbuf.size()};
}

}  // namespace transcript
