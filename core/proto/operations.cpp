#include "proto/operations.hpp"

#include <atomic>
#include <cstring>

namespace mywire::proto {

namespace {

// Server-supplied names appear in client messages only when they are plain
// identifiers, so a client message never carries arbitrary server text.
std::string safe_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return "(unprintable name)";
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok) return "(unprintable name)";
    }
    return std::string(name);
}

Action need_read_or_error(Session &, FrameStatus st) {
    return st == FrameStatus::need_more ? Action::read : Action::error;
}

}  // namespace

Errc Session::server_error(std::string_view payload) {
    ErrPacket e;
    if (parse_err(payload, capabilities | cap::protocol_41, e) != Errc::ok)
        return err.set(Errc::protocol, "malformed error packet from the server");
    return err.set_server(e.code, e.sqlstate, e.message);
}

// ---------------------------------------------------------------- handshake

Action HandshakeOp::fail(Session &s, Errc code, std::string_view msg) {
    s.err.set(code, msg);
    return Action::error;
}

Action HandshakeOp::resume(Session &s) {
    if (phase_ == Phase::tls) {
        // The driver has brought TLS up: encrypted from here on, and the
        // server known only if the handshake verified it.
        tls_up_ = true;
        tls_verified_ = s.tls_verified;
        phase_ = Phase::auth;
        return send_handshake_response(s);
    }
    for (;;) {
        if (phase_ == Phase::done) return Action::done;
        std::string_view payload;
        FrameStatus st = s.read_packet(payload);
        if (st != FrameStatus::packet) return need_read_or_error(s, st);
        Action a = phase_ == Phase::greeting ? on_greeting(s, payload) : on_auth_packet(s, payload);
        if (a != Action::read) return a;
    }
}

bool HandshakeOp::allowed(std::string_view plugin) const {
    if (opts_.auth_plugins.empty()) return true;
    for (const auto &p : opts_.auth_plugins)
        if (p == plugin) return true;
    return false;
}

// What the SSLRequest and the handshake response both start with (the
// server may compare them).
HandshakeResponse HandshakeOp::response_head(const Session &s) const {
    HandshakeResponse r;
    r.capabilities = s.capabilities;
    r.max_packet = static_cast<std::uint32_t>(
        opts_.max_allowed_packet > 0xFFFFFFFFu ? 0xFFFFFFFFu : opts_.max_allowed_packet);
    r.charset = static_cast<std::uint8_t>(opts_.charset);
    r.mariadb_capabilities = s.mariadb_caps;
    return r;
}

AuthContext HandshakeOp::context() const {
    AuthContext ctx;
    ctx.password = factor_ == 1 ? opts_.password : factor_ == 2 ? opts_.password2 : opts_.password3;
    ctx.unix_socket = unix_socket_;
    ctx.encrypted = tls_up_;
    ctx.peer_authenticated = tls_up_ && tls_verified_;
    ctx.allow_unverified_tls_password = opts_.allow_unverified_tls_password;
    ctx.server_public_key_path = opts_.server_public_key_path;
    ctx.read_key_file = env_.read_key_file;
    ctx.get_server_public_key = opts_.get_server_public_key;
    ctx.enable_cleartext = opts_.enable_cleartext_plugin;
    ctx.dialog = opts_.dialog;
    ctx.dialog_user_data = opts_.dialog_user_data;
    return ctx;
}


Action HandshakeOp::on_greeting(Session &s, std::string_view payload) {
    if (is_err(payload)) {
        // e.g. "Too many connections" or "Host is blocked", before any greeting.
        s.server_error(payload);
        return Action::error;
    }
    Handshake hs;
    Errc rc = parse_handshake(payload, hs);
    if (rc == Errc::unsupported)
        return fail(s, Errc::unsupported, "the server does not speak protocol 4.1");
    if (rc != Errc::ok) return fail(s, Errc::protocol, "malformed greeting from the server");
    if (!(hs.capabilities & cap::secure_connection))
        return fail(s, Errc::unsupported, "the server does not support secure authentication");

    info_.version.assign(hs.server_version);
    info_.connection_id = hs.connection_id;
    info_.is_mariadb = hs.is_mariadb;
    info_.capabilities = hs.capabilities;
    scramble_ = hs.scramble;
    server_plugin_.assign(hs.auth_plugin);

    std::uint32_t want = cap::protocol_41 | cap::secure_connection | cap::long_flag |
                         cap::transactions | cap::multi_results | cap::ps_multi_results |
                         cap::plugin_auth | cap::plugin_auth_lenenc_data | cap::connect_attrs |
                         cap::deprecate_eof | cap::multi_factor_auth;
    // Query attributes: MySQL 8.0.23+ offers them; never asked of MariaDB,
    // whatever its greeting's bit 27 says.
    if (!hs.is_mariadb) want |= cap::long_password | cap::query_attributes;
    if (!opts_.database.empty()) want |= cap::connect_with_db;
    if (opts_.multi_statements) want |= cap::multi_statements;

    // Compression: exactly what was asked, or a clear error.
    switch (opts_.compress) {
    case compress_opt::zlib:
        if (!(hs.capabilities & cap::compress))
            return fail(s, Errc::unsupported, "the server does not support zlib compression (compress=zlib)");
        want |= cap::compress;
        break;
    case compress_opt::zstd:
        if (!(hs.capabilities & cap::zstd))
            return fail(s, Errc::unsupported, "the server does not support zstd compression (compress=zstd)");
        want |= cap::zstd;
        break;
    case compress_opt::any:
        if (hs.capabilities & cap::zstd)
            want |= cap::zstd;
        else if (hs.capabilities & cap::compress)
            want |= cap::compress;
        else
            return fail(s, Errc::unsupported, "the server supports no compression (compress=on)");
        break;
    default:
        break;
    }
    s.capabilities = want & hs.capabilities;
    // MariaDB's extensions (only when the server said it is MariaDB by
    // clearing CLIENT_MYSQL): bulk execution, and result metadata sent once
    // per prepared statement.
    if (!(hs.capabilities & cap::mysql)) {
        // Per-row results of bulk execution are sent only when a request asks.
        std::uint32_t ext = mariadb_cap::stmt_bulk_operations | mariadb_cap::bulk_unit_results;
        if (opts_.cache_metadata) ext |= mariadb_cap::cache_metadata;
        s.mariadb_caps = ext & hs.mariadb_capabilities;
    }
    if (!opts_.database.empty() && !(s.capabilities & cap::connect_with_db))
        return fail(s, Errc::unsupported, "the server cannot select a database at connect time");

    // TLS is decided here, before a single byte of the handshake response.
    if (tls_mode_ != ssl_mode::disabled) {
        if (hs.capabilities & cap::ssl) {
            if (!s.rbuf.pending().empty())
                return fail(s, Errc::tls, "the server sent unexpected bytes after its greeting, "
                                          "before the TLS handshake (refused without reading them)");
            s.capabilities |= cap::ssl;
            HandshakeResponse r = response_head(s);
            s.wbuf.clear();
            s.write_packet([&](std::vector<std::uint8_t> &out) { build_ssl_request(out, r); });
            phase_ = Phase::tls;
            return Action::start_tls;
        }
        if (tls_mode_ != ssl_mode::preferred) {
            info_.tls_failure = tls_failure::not_offered;
            return fail(s, Errc::tls, std::string("server does not support TLS; ssl_mode=") +
                                          ssl_mode_name(tls_mode_) +
                                          " does not allow a connection without it");
        }
    }
    phase_ = Phase::auth;
    return send_handshake_response(s);
}

Action HandshakeOp::send_handshake_response(Session &s) {
    // Start with the server's default plugin when it can use the greeting's
    // challenge; otherwise with one that can, and let the server switch us
    // to the plugin the account needs. Plugins the user did not allow are
    // not started: an empty response under the server's plugin name reveals
    // nothing and lets the server ask for what it needs.
    // (Both arms are views: a ternary of a literal and a std::string would
    // make a temporary string and leave `first` dangling.)
    std::string_view first = server_plugin_.empty() ? std::string_view("mysql_native_password")
                                                    : std::string_view(server_plugin_);
    bool greeting_usable = first != "client_ed25519" && first != "parsec" && first != "dialog" &&
                           first != "mysql_clear_password";
    plugin_ = greeting_usable && allowed(first) ? make_auth_plugin(first) : nullptr;

    std::string response;
    if (plugin_) {
        Error refused;
        if (plugin_->start(context(), scramble_, response, refused) != Errc::ok) {
            // The account may not even use the server's default plugin (e.g.
            // sha256_password over plain TCP without a key): do not fail
            // here, the server switches us if the account needs it, and
            // the plugin refuses again then.
            wipe(response);
            plugin_ = nullptr;
        }
    }
    if (!plugin_ && allowed("mysql_native_password")) {
        plugin_ = make_auth_plugin("mysql_native_password");
        if (plugin_->start(context(), scramble_, response, s.err) != Errc::ok) return Action::error;
    }
    std::string_view plugin_name = plugin_ ? plugin_->name() : std::string_view(first);

    HandshakeResponse r = response_head(s);
    r.user = opts_.user;
    r.auth_response = response;
    r.database = opts_.database;
    r.auth_plugin = plugin_name;
    r.zstd_level = static_cast<std::uint8_t>(opts_.compression_level);
    std::vector<std::pair<std::string, std::string>> attrs = {
        {"_client_name", "libmywire"},
        {"_client_version", version_string},
        {"_os", std::string(env_.os)},
        {"_pid", std::to_string(env_.pid)},
    };
    for (const auto &kv : opts_.connect_attrs) attrs.push_back(kv);
    r.attributes = &attrs;
    if (!(s.capabilities & cap::plugin_auth_lenenc_data) && response.size() > 255)
        return fail(s, Errc::unsupported, "authentication response too long for this server");

    s.wbuf.clear();
    s.write_packet([&](std::vector<std::uint8_t> &out) { build_handshake_response(out, r); });
    wipe(response);
    phase_ = Phase::auth;
    return Action::write;
}

Action HandshakeOp::send_auth_response(Session &s, std::string &response) {
    s.wbuf.clear();
    s.write_packet([&](std::vector<std::uint8_t> &out) {
        out.insert(out.end(), response.begin(), response.end());
    });
    wipe(response);
    return Action::write;
}

Action HandshakeOp::start_plugin(Session &s, std::string_view name, std::string_view data) {
    if (name == "mysql_old_password")
        return fail(s, Errc::auth,
                    "the server asks for mysql_old_password, which mywire refuses (insecure)");
    plugin_ = make_auth_plugin(name);
    if (!plugin_)
        return fail(s, Errc::auth, "the server asks for authentication plugin " + safe_name(name) +
                                       ", which mywire does not support");
    if (!allowed(name))
        return fail(s, Errc::auth, "the server asks for authentication plugin " + safe_name(name) +
                                       ", which is not in the auth_plugins allow-list");
    std::string response;
    if (plugin_->start(context(), data, response, s.err) != Errc::ok) return Action::error;
    return send_auth_response(s, response);
}

Action HandshakeOp::on_auth_packet(Session &s, std::string_view payload) {
    if (++round_trips_ > max_auth_round_trips)
        return fail(s, Errc::auth, "too many authentication round trips");
    if (payload.empty()) return fail(s, Errc::protocol, "empty packet during authentication");
    switch (std::uint8_t(payload[0])) {
    case 0x00: {
        OkPacket ok;
        if (parse_ok(payload, s.capabilities, ok) != Errc::ok)
            return fail(s, Errc::protocol, "malformed OK packet after authentication");
        s.status_flags = ok.status_flags;
        s.state = ConnState::ready;
        info_.auth_plugin.assign(plugin_ ? plugin_->name() : std::string_view());
        phase_ = Phase::done;
        return Action::done;
    }
    case 0xFF:
        s.server_error(payload);
        return Action::error;
    case 0xFE: {
        AuthSwitch sw;
        Errc rc = parse_auth_switch(payload, sw);
        if (rc == Errc::unsupported)
            return fail(s, Errc::auth,
                        "the server asks for mysql_old_password, which mywire refuses (insecure)");
        if (rc != Errc::ok) return fail(s, Errc::protocol, "malformed auth switch request");
        return start_plugin(s, sw.plugin, sw.data);
    }
    case 0x01: {
        if (!plugin_) return fail(s, Errc::protocol, "unexpected AuthMoreData packet from the server");
        std::string_view data;
        parse_auth_more_data(payload, data);
        std::string response;
        bool reply = false;
        if (plugin_->more_data(context(), data, response, reply, s.err) != Errc::ok) return Action::error;
        return reply ? send_auth_response(s, response) : Action::read;
    }
    case 0x02: {
        // MySQL multi-factor authentication: the next factor's plugin.
        if (!(s.capabilities & cap::multi_factor_auth)) return raw_plugin_data(s, payload);
        AuthNextFactor next;
        if (parse_auth_next_factor(payload, next) != Errc::ok)
            return fail(s, Errc::protocol, "malformed AuthNextFactor packet");
        if (factor_ >= 3) return fail(s, Errc::auth, "the server asks for more than three authentication factors");
        ++factor_;
        if ((factor_ == 2 ? opts_.password2 : opts_.password3).empty())
            return fail(s, Errc::auth, factor_ == 2
                                           ? "the server asks for a second authentication factor; set password2"
                                           : "the server asks for a third authentication factor; set password3");
        return start_plugin(s, next.plugin, next.data);
    }
    default:
        return raw_plugin_data(s, payload);
    }
}

Action HandshakeOp::raw_plugin_data(Session &s, std::string_view payload) {
    // MariaDB sends a plugin's data without the 0x01 AuthMoreData header
    // unless the data itself starts with 0x01, 0xFE or 0xFF (dialog's later
    // questions, parsec's ext-salt), so the plugin gets the packet whole.
    if (!plugin_) return fail(s, Errc::protocol, "unexpected packet during authentication");
    std::string response;
    bool reply = false;
    if (plugin_->more_data(context(), payload, response, reply, s.err) != Errc::ok) return Action::error;
    return reply ? send_auth_response(s, response) : Action::read;
}

// ----------------------------------------------------------- simple commands

Action SimpleCommandOp::resume(Session &s) {
    if (sent_ && reply_ == Reply::none) return Action::done;
    if (!sent_ && framed_) {
        sent_ = true;
        s.begin_command();
        s.wbuf.swap(*framed_);
        frame_payload(s.wbuf, 0, s.seq);
        return Action::write;
    }
    if (!sent_) {
        sent_ = true;
        s.begin_command();
        s.write_packet([&](std::vector<std::uint8_t> &out) {
            if (cmd_ == command::set_option) {
                build_set_option(out, option_);
            } else {
                build_command(out, cmd_, arg_);
            }
        });
        return Action::write;
    }
    std::string_view payload;
    FrameStatus st = s.read_packet(payload);
    if (st != FrameStatus::packet) return need_read_or_error(s, st);
    s.state = ConnState::ready;  // whatever came, the command has ended
    if (reply_ == Reply::text) {
        if (is_err(payload)) return s.server_error(payload), Action::error;
        text.assign(payload);
        return Action::done;
    }
    if (is_err(payload)) return s.server_error(payload), Action::error;
    // COM_SET_OPTION is answered by an EOF packet on servers without
    // DEPRECATE_EOF and by an OK on the others.
    if (cmd_ == command::set_option && is_end_marker(payload, false)) {
        EofPacket eof;
        if (parse_eof(payload, eof) != Errc::ok)
            return s.err.set(Errc::protocol, "malformed EOF packet"), Action::error;
        s.status_flags = eof.status_flags;
        return Action::done;
    }
    if (!is_ok(payload) || parse_ok(payload, s.capabilities, ok) != Errc::ok)
        return s.err.set(Errc::protocol, "malformed reply to a command"), Action::error;
    s.status_flags = ok.status_flags;
    return Action::done;
}

// ------------------------------------------------------------- result heads

namespace {

// f(pointer, length) for each of a column's five strings, in the order they
// are stored in (see ColumnCollector::add), which is the packet's.
template <class F>
void each_string(Column &c, F f) {
    f(c.schema, c.schema_len);
    f(c.table, c.table_len);
    f(c.org_table, c.org_table_len);
    f(c.name, c.name_len);
    f(c.org_name, c.org_name_len);
}

// Where a column's five kept strings (s, in each_string's order, as they
// came from parse_column_def) begin when they lie back to back in the packet,
// each followed by exactly one byte (the next one's one-byte length, the last
// the fixed fields' length): the usual definition, all strings under 251
// bytes. nullptr otherwise.
const char *contiguous_strings(const std::string_view (&s)[5]) {
    for (int i = 0; i < 4; ++i)
        if (s[i].data() + s[i].size() + 1 != s[i + 1].data()) return nullptr;
    return s[0].data();
}

}  // namespace

std::uint64_t new_head_stamp() noexcept {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

void copy_head(const ResultHead &from, ResultHead &to) {
    to.stamp = from.stamp;
    to.ok = from.ok;
    to.info = from.info;
    to.names = from.names;
    to.columns = from.columns;
    to.metadata_cached = from.metadata_cached;
    to.cursor = from.cursor;
    const char *old_base = from.names.data();
    const char *base = to.names.data();
    for (Column &c : to.columns) each_string(c, [&](const char *&v, std::size_t) { v = base + (v - old_base); });
}

Errc ColumnCollector::begin(Session &s, ResultHead &head, std::uint64_t n) {
    if (n > limits_.max_columns)
        return s.err.set(Errc::limit, "the result has " + std::to_string(n) +
                                          " columns, more than max_columns (" +
                                          std::to_string(limits_.max_columns) + ")");
    expected_ = n;
    head.columns.clear();
    head.columns.reserve(n);
    head.names.clear();
    // A column's five strings are usually short: room for them at once
    // (bounded by max_columns, whatever the server claims).
    head.names.reserve(n * names_per_column);
    return Errc::ok;
}

Errc ColumnCollector::add(Session &s, ResultHead &head, std::string_view payload, bool &full) {
    full = false;
    ColumnDef d;
    if (parse_column_def(payload, d) != Errc::ok) return s.err.set(Errc::protocol, "malformed column definition");
    // The server decides how much metadata it sends: bound it. The strings
    // are stored in each_string's order, each followed by a NUL.
    const std::string_view strings[5] = {d.schema, d.table, d.org_table, d.name, d.org_name};
    const char *contiguous = contiguous_strings(strings);
    std::size_t bytes = 0;
    for (std::string_view v : strings) {
        if (v.size() > max_column_string)
            return s.err.set(Errc::limit, "a column definition carries a name of " + std::to_string(v.size()) +
                                              " bytes (at most " + std::to_string(max_column_string) + ")");
        bytes += v.size() + 1;
    }
    std::size_t cost = head.names.size() + bytes + (head.columns.size() + 1) * (sizeof(Column) + 5 * sizeof(std::size_t));
    if (cost > limits_.max_metadata_bytes)
        return s.err.set(Errc::limit, "the result's column definitions exceed max_metadata_bytes (" +
                                          std::to_string(limits_.max_metadata_bytes) + ")");
    std::size_t at = head.names.size();
    head.names.resize(at + bytes);
    char *out = head.names.data() + at;
    if (contiguous) {
        // One copy, then each string's following byte (a length) becomes its NUL.
        std::memcpy(out, contiguous, bytes);
        for (std::string_view v : strings) out += v.size(), *out++ = '\0';
    } else {
        for (std::string_view v : strings) {
            if (!v.empty()) std::memcpy(out, v.data(), v.size());
            out += v.size();
            *out++ = '\0';
        }
    }
    Column c{};
    c.type = d.type;
    c.flags = d.flags;
    c.charset = d.charset;
    c.decimals = d.decimals;
    c.length = d.length;
    c.name_len = d.name.size();
    c.org_name_len = d.org_name.size();
    c.table_len = d.table.size();
    c.org_table_len = d.org_table.size();
    c.schema_len = d.schema.size();
    head.columns.push_back(c);
    if (head.columns.size() < expected_) return Errc::ok;
    // All in: names no longer moves. Each column's strings follow the
    // previous column's, in the order above.
    const char *p = head.names.data();
    for (Column &col : head.columns) each_string(col, [&p](const char *&v, std::size_t len) { v = p, p += len + 1; });
    full = true;
    return Errc::ok;
}

namespace {

// The packet after a head's column definitions, without taking it: true
// when it is an end marker (EOF / OK), which the caller then reads.
// need_more when the buffer does not hold its first byte yet.
FrameStatus peek_end_marker(Session &s, bool &end) {
    std::string_view in = s.rbuf.pending();
    if (in.size() < header_size + 1) return FrameStatus::need_more;
    auto *h = reinterpret_cast<const std::uint8_t *>(in.data());
    std::size_t len = h[0] | (std::size_t(h[1]) << 8) | (std::size_t(h[2]) << 16);
    end = h[4] == 0xFE && len < max_frame && (s.deprecate_eof() ? true : len < 9);
    return FrameStatus::packet;
}

}  // namespace

Action ResultHeadOp::resume(Session &s) {
    if (send_) {
        send_ = false;
        s.begin_command();
        s.write_packet([&](std::vector<std::uint8_t> &out) {
            out.reserve(out.size() + 1 + prefix_.size() + query_.size());
            out.push_back(cmd_);
            out.insert(out.end(), prefix_.begin(), prefix_.end());
            out.insert(out.end(), query_.begin(), query_.end());
        });
        return Action::write;
    }
    for (;;) {
        if (phase_ == Phase::cursor_eof) {
            bool end = false;
            FrameStatus pk = peek_end_marker(s, end);
            if (pk != FrameStatus::packet) return Action::read;
            if (!end) {  // rows follow: no cursor after all
                s.state = ConnState::rows;
                return Action::done;
            }
        }
        std::string_view payload;
        FrameStatus st = s.read_packet(payload);
        if (st != FrameStatus::packet) return need_read_or_error(s, st);
        if (phase_ == Phase::first) {
            if (payload.empty()) return s.err.set(Errc::protocol, "empty result packet"), Action::error;
            head_.stamp = 0;  // whatever comes (parsed columns too), not (yet) a statement's definitions
            std::uint8_t first = std::uint8_t(payload[0]);
            if (first == 0xFF) {
                s.state = ConnState::ready;  // an ERR ends the command; the connection stays usable
                return s.server_error(payload), Action::error;
            }
            if (first == 0x00) {
                if (parse_ok(payload, s.capabilities, head_.ok) != Errc::ok)
                    return s.err.set(Errc::protocol, "malformed OK packet"), Action::error;
                head_.info.assign(head_.ok.info);
                head_.ok.info = {};
                s.finish(head_.ok.status_flags);
                return Action::done;
            }
            if (first == 0xFB)
                return s.err.set(Errc::unsupported,
                                 "the server asks for a LOCAL INFILE transfer, which is disabled"),
                       Action::error;
            std::uint64_t n = 0;
            bool metadata = true;
            if (parse_column_count(payload, n, s.cache_metadata(), metadata) != Errc::ok)
                return s.err.set(Errc::protocol, "malformed column count"), Action::error;
            if (!metadata) {
                // MariaDB's metadata caching: the statement's definitions stand.
                if (!cached_ || cached_->columns.size() != n)
                    return s.err.set(Errc::protocol, "the server skipped the column definitions of a "
                                                     "result whose columns the client does not know"),
                           Action::error;
                if (spare_ && cached_->stamp != 0 && spare_->stamp == cached_->stamp) {
                    // The same definitions as this result's last ones.
                    head_.columns.swap(spare_->columns);
                    head_.names.swap(spare_->names);
                    head_.stamp = spare_->stamp;
                    spare_->stamp = 0;
                } else {
                    copy_head(*cached_, head_);
                }
                head_.ok = OkPacket{};
                head_.info.clear();
                head_.metadata_cached = true;
                head_.cursor = false;
                Action a = columns_done(s);
                if (a != Action::read) return a;
                continue;
            }
            if (columns_.begin(s, head_, n) != Errc::ok) return Action::error;
            phase_ = Phase::columns;
            continue;
        }
        if (phase_ == Phase::columns) {
            bool full = false;
            if (columns_.add(s, head_, payload, full) != Errc::ok) return Action::error;
            if (!full) continue;
            Action a = columns_done(s);
            if (a != Action::read) return a;
            continue;
        }
        // Phase::columns_eof / cursor_eof: an EOF (or OK) after the definitions.
        if (!is_end_marker(payload, phase_ == Phase::cursor_eof && s.deprecate_eof()))
            return s.err.set(Errc::protocol, "expected EOF after the column definitions"), Action::error;
        std::uint16_t status = 0;
        if (phase_ == Phase::cursor_eof && s.deprecate_eof()) {
            OkPacket ok;
            if (parse_ok(payload, s.capabilities, ok) != Errc::ok)
                return s.err.set(Errc::protocol, "malformed OK packet after the column definitions"), Action::error;
            status = ok.status_flags;
        } else {
            EofPacket eof;
            if (parse_eof(payload, eof) != Errc::ok)
                return s.err.set(Errc::protocol, "expected EOF after the column definitions"), Action::error;
            status = eof.status_flags;
        }
        head_.ok.status_flags = status;
        if (cursor_ && (status & status::cursor_exists)) {
            // An open cursor: no rows follow; COM_STMT_FETCH asks for them.
            head_.cursor = true;
            s.status_flags = status;
            s.state = ConnState::ready;
            return Action::done;
        }
        if (phase_ == Phase::columns_eof && cursor_ && s.deprecate_eof()) {
            phase_ = Phase::cursor_eof;
            continue;
        }
        s.state = ConnState::rows;
        return Action::done;
    }
}

Action ResultHeadOp::columns_done(Session &s) {
    if (!s.deprecate_eof()) {
        phase_ = Phase::columns_eof;
        return Action::read;
    }
    if (cursor_) {
        // MySQL sends an EOF-headed OK after the definitions when it opened
        // a cursor, even under DEPRECATE_EOF; rows follow otherwise.
        phase_ = Phase::cursor_eof;
        return Action::read;
    }
    s.state = ConnState::rows;
    return Action::done;
}

// ------------------------------------------------------- prepared statements

Action PrepareOp::resume(Session &s) {
    if (phase_ == Phase::send) {
        phase_ = Phase::ok;
        s.begin_command();
        s.write_packet([&](std::vector<std::uint8_t> &out) { build_command(out, command::stmt_prepare, sql_); });
        return Action::write;
    }
    for (;;) {
        if (phase_ == Phase::done) return Action::done;
        std::string_view payload;
        FrameStatus st = s.read_packet(payload);
        if (st != FrameStatus::packet) return need_read_or_error(s, st);
        switch (phase_) {
        case Phase::ok: {
            if (is_err(payload)) {
                s.state = ConnState::ready;
                return s.server_error(payload), Action::error;
            }
            if (parse_prepare_ok(payload, ok) != Errc::ok)
                return s.err.set(Errc::protocol, "malformed reply to COM_STMT_PREPARE"), Action::error;
            if (!ok.metadata_follows && (ok.params || ok.columns))
                // mywire never asks for CLIENT_OPTIONAL_RESULTSET_METADATA:
                // without the definitions it cannot bind or read the statement.
                return s.err.set(Errc::protocol, "the server skipped the statement's parameter and column "
                                                 "definitions (metadata-follows 0), which the client did not ask for"),
                       Action::error;
            params_.columns.clear();
            params_.names.clear();
            columns_.columns.clear();
            columns_.names.clear();
            if (ok.params > 0) {
                if (collect_params_.begin(s, params_, ok.params) != Errc::ok) return Action::error;
                phase_ = Phase::params;
                continue;
            }
            Action a = list_done(s, true);
            if (a != Action::read) return a;
            continue;
        }
        case Phase::params:
        case Phase::columns: {
            bool full = false;
            Errc added = phase_ == Phase::params ? collect_params_.add(s, params_, payload, full)
                                                 : collect_.add(s, columns_, payload, full);
            if (added != Errc::ok) return Action::error;
            if (!full) continue;
            if (!s.deprecate_eof()) {
                phase_ = phase_ == Phase::params ? Phase::params_eof : Phase::columns_eof;
                continue;
            }
            Action a = list_done(s, phase_ == Phase::params);
            if (a != Action::read) return a;
            continue;
        }
        case Phase::params_eof:
        case Phase::columns_eof: {
            EofPacket eof;
            if (!is_end_marker(payload, false) || parse_eof(payload, eof) != Errc::ok)
                return s.err.set(Errc::protocol, "expected EOF after the statement's definitions"), Action::error;
            Action a = list_done(s, phase_ == Phase::params_eof);
            if (a != Action::read) return a;
            continue;
        }
        default:
            return s.err.set(Errc::internal, "prepare: bad phase"), Action::error;
        }
    }
}

// A list is in (with its EOF): after the parameters (or an OK announcing
// none) the columns, if any; after the columns the end.
Action PrepareOp::list_done(Session &s, bool params) {
    if (params && ok.columns > 0) {
        if (collect_.begin(s, columns_, ok.columns) != Errc::ok) return Action::error;
        phase_ = Phase::columns;
        return Action::read;
    }
    phase_ = Phase::done;
    s.state = ConnState::ready;
    return Action::done;
}

Action RequestThenOp::resume(Session &s) {
    if (!sent_) {
        sent_ = true;
        s.begin_command();
        s.write_packet([&](std::vector<std::uint8_t> &out) { build_command(out, cmd_, arg_); });
        return Action::write;
    }
    return next_->resume(s);
}

// --------------------------------------------------------------------- rows

// Out of line: the loop below stays small enough to keep its state in
// registers, which is most of a streamed row's cost.
[[gnu::noinline]] bool RowsOpBase::end_or_error(Session &s, std::string_view payload, Action &a) {
    a = Action::error;
    if (payload.empty()) return s.err.set(Errc::protocol, "empty row packet"), true;
    if (std::uint8_t(payload[0]) == 0xFF) {
        s.server_error(payload);
        s.state = ConnState::ready;  // the ERR ends the command
        return true;
    }
    if (!is_end_marker(payload, s.deprecate_eof())) return false;  // a row of 0xFE-prefixed text
    end = true;
    if (s.deprecate_eof()) {
        if (parse_ok(payload, s.capabilities, end_ok) != Errc::ok)
            return s.err.set(Errc::protocol, "malformed OK packet after the rows"), true;
        end_ok.info = {};
    } else {
        EofPacket eof;
        if (parse_eof(payload, eof) != Errc::ok)
            return s.err.set(Errc::protocol, "malformed EOF packet after the rows"), true;
        end_ok = OkPacket{};
        end_ok.status_flags = eof.status_flags;
        end_ok.warnings = eof.warnings;
    }
    s.finish(end_ok.status_flags);
    a = Action::done;
    return true;
}


// ------------------------------------------------------------ batch requests

namespace {
bool same_name(const Column &c, std::string_view want) {
    if (c.name_len != want.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i) {
        char a = c.name[i], b = want[i];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
        if (a != b) return false;
    }
    return true;
}
}  // namespace

Action BatchRequestOp::resume(Session &s) {
    if (phase_ == Phase::send) {
        Action a = send_.resume(s);
        if (a != Action::done) return a;
        phase_ = Phase::head;
        head_op_.emplace(head_, limits_);
    }
    for (;;) {
        Action a = phase_ == Phase::head ? head_op_->resume(s) : rows_.resume(s);
        if (a != Action::done) return a;
        a = phase_ == Phase::head ? head_done(s) : rows_done(s);
        if (a != Action::read) return a;
    }
}

// Action::read: go on with the next phase (the rows, or the next result).
Action BatchRequestOp::head_done(Session &s) {
    if (!head_.columns.empty()) {
        const std::vector<Column> &c = head_.columns;
        units_result_ = false;
        if (units_ && !refused_ && got_ == 0 && c.size() == 2) {
            if (same_name(c[0], "Id") && same_name(c[1], "Affected_rows")) {
                id_col_ = 0, affected_col_ = 1, units_result_ = true;
            } else if (same_name(c[1], "Id") && same_name(c[0], "Affected_rows")) {
                id_col_ = 1, affected_col_ = 0, units_result_ = true;
            }
        }
        if (units_result_) {
            layout_.build(c.data(), c.size());
        } else {
            refused_ = true;  // its rows are read and dropped
        }
        phase_ = Phase::rows;
        return Action::read;
    }
    // An OK.
    if (units_ && !refused_ && got_ == 0)
        return s.err.set(Errc::protocol, "the server answered a bulk execution that asked for per-row results "
                                         "with a plain OK"),
               Action::error;
    if (got_ == 0) ok = head_.ok;
    return reply_part_done(s);
}

Action BatchRequestOp::rows_done(Session &s) {
    if (units_result_) {
        if (got_ != expected_)
            return s.err.set(Errc::protocol, "the server sent per-row results for " + std::to_string(got_) +
                                                 " rows of a bulk request of " + std::to_string(expected_)),
                   Action::error;
        std::uint64_t affected = ok.affected_rows, first_id = ok.last_insert_id;
        ok = rows_.end_ok;
        ok.affected_rows = affected;
        ok.last_insert_id = first_id;
    }
    units_result_ = false;
    return reply_part_done(s);
}

// One result of the reply has ended: the next one, or the end of the reply.
Action BatchRequestOp::reply_part_done(Session &s) {
    if (s.state == ConnState::more_results) {
        phase_ = Phase::head;
        head_op_.emplace(head_, limits_);
        return Action::read;
    }
    if (refused_)
        return s.err.set(Errc::argument, "a batch runs statements without a result set, and this one returned "
                                         "rows (RETURNING?): they were read and dropped; the request's rows "
                                         "were applied"),
               Action::error;
    return Action::done;
}

Errc BatchRequestOp::on_row(Session &s, std::string_view payload, Next &) {
    if (!units_result_) return Errc::ok;  // a refused result's row: dropped
    Value v[2];
    if (parse_binary_row(payload, layout_, v, s.err) != Errc::ok) return s.err.code;
    if (got_ == expected_)
        return s.err.set(Errc::protocol, "the server sent more per-row results than the bulk request's " +
                                             std::to_string(expected_) + " rows");
    RowResult r;
    if (to_uint64(head_.columns[id_col_], v[id_col_], true, r.insert_id) != Errc::ok ||
        to_uint64(head_.columns[affected_col_], v[affected_col_], true, r.affected_rows) != Errc::ok)
        return s.err.set(Errc::protocol, "a per-row result of a bulk execution is NULL or not a count (row " +
                                             std::to_string(got_) + ")");
    units_->push_back(r);
    if (got_ == 0) ok.affected_rows = 0, ok.last_insert_id = r.insert_id;
    ok.affected_rows += r.affected_rows;
    ++got_;
    return Errc::ok;
}

Action SendOnlyOp::resume(Session &s) {
    if (sent_) return Action::done;
    sent_ = true;
    s.begin_command();
    s.write_packet([&](std::vector<std::uint8_t> &out) { build_command(out, cmd_, arg_); });
    return Action::write;
}

}  // namespace mywire::proto
