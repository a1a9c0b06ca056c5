#include "proto/messages.hpp"

#include <cstring>

#include <algorithm>

#include "proto/reader.hpp"
#include "proto/text_row.hpp"

namespace mywire::proto {

namespace {
constexpr std::string_view mariadb_prefix = "5.5.5-";
Errc malformed() { return Errc::protocol; }
}  // namespace

Errc parse_handshake(std::string_view payload, Handshake &out) {
    Reader r(payload);
    out = Handshake{};
    std::string_view part1;
    std::uint16_t caps_low = 0;
    if (!r.u8(out.protocol_version) || out.protocol_version != 10) return malformed();
    if (!r.nul_str(out.server_version) || !r.u32(out.connection_id) || !r.bytes(8, part1) ||
        !r.skip(1) || !r.u16(caps_low))
        return malformed();
    out.capabilities = caps_low;
    out.scramble.assign(part1);
    if (!r.empty()) {
        std::uint16_t caps_high = 0;
        std::uint8_t auth_len = 0;
        std::uint32_t ext = 0;
        if (!r.u8(out.charset) || !r.u16(out.status_flags) || !r.u16(caps_high) ||
            !r.u8(auth_len) || !r.skip(6) || !r.u32(ext))
            return malformed();
        out.capabilities |= std::uint32_t(caps_high) << 16;
        if (!(out.capabilities & cap::mysql)) out.mariadb_capabilities = ext;
        if (out.capabilities & cap::secure_connection) {
            // Part 2 is max(13, auth_len - 8) bytes, normally 12 bytes of
            // scramble and a NUL.
            // Only the trailing NUL may be missing.
            std::size_t n = auth_len > 8 ? std::max<std::size_t>(13, auth_len - 8) : 13;
            std::string_view part2;
            if (r.remaining() + 1 < n || !r.bytes(std::min(n, r.remaining()), part2))
                return malformed();
            if (!part2.empty() && part2.back() == '\0') part2.remove_suffix(1);
            out.scramble.append(part2);
        }
        if (out.capabilities & cap::plugin_auth) {
            // Some servers omit the terminating NUL; then the name is the rest.
            if (!r.nul_str(out.auth_plugin)) {
                Reader again(payload.substr(payload.size() - r.remaining()));
                out.auth_plugin = again.rest();
            }
        }
    }
    std::string_view v = out.server_version;
    out.is_mariadb = v.find("MariaDB") != std::string_view::npos ||
                     (!(out.capabilities & cap::mysql) && out.mariadb_capabilities != 0);
    if (out.is_mariadb && v.substr(0, mariadb_prefix.size()) == mariadb_prefix)
        out.server_version = v.substr(mariadb_prefix.size());
    if (!(out.capabilities & cap::protocol_41)) return Errc::unsupported;
    return Errc::ok;
}

void build_ssl_request(std::vector<std::uint8_t> &out, const HandshakeResponse &h) {
    Writer w(out);
    w.u32(h.capabilities);
    w.u32(h.max_packet);
    w.u8(h.charset);
    w.zeros(19);
    w.u32(h.mariadb_capabilities);
}

void build_handshake_response(std::vector<std::uint8_t> &out, const HandshakeResponse &h) {
    build_ssl_request(out, h);
    Writer w(out);
    w.nul_str(h.user);
    if (h.capabilities & cap::plugin_auth_lenenc_data) {
        w.lenenc_str(h.auth_response);
    } else {
        // Callers only use this form for responses under 256 bytes.
        w.u8(static_cast<std::uint8_t>(h.auth_response.size()));
        w.bytes(h.auth_response);
    }
    if (h.capabilities & cap::connect_with_db) w.nul_str(h.database);
    if (h.capabilities & cap::plugin_auth) w.nul_str(h.auth_plugin);
    if ((h.capabilities & cap::connect_attrs) && h.attributes) {
        std::size_t len = 0;
        for (const auto &[k, v] : *h.attributes)
            len += lenenc_size(k.size()) + k.size() + lenenc_size(v.size()) + v.size();
        w.lenenc(len);
        for (const auto &[k, v] : *h.attributes) {
            w.lenenc_str(k);
            w.lenenc_str(v);
        }
    }
    if (h.capabilities & cap::zstd) w.u8(h.zstd_level);
}

Errc parse_auth_next_factor(std::string_view payload, AuthNextFactor &out) {
    Reader r(payload);
    std::uint8_t header;
    if (!r.u8(header) || header != 0x02 || !r.nul_str(out.plugin) || out.plugin.empty())
        return malformed();
    out.data = r.rest();
    return Errc::ok;
}

Errc parse_ok(std::string_view payload, std::uint32_t capabilities, OkPacket &out) {
    Reader r(payload);
    std::uint8_t header;
    out = OkPacket{};
    if (!r.u8(header) || (header != 0x00 && header != 0xFE)) return malformed();
    if (!r.lenenc(out.affected_rows) || !r.lenenc(out.last_insert_id) || !r.u16(out.status_flags) ||
        !r.u16(out.warnings))
        return malformed();
    if (r.empty()) return Errc::ok;
    if (capabilities & cap::session_track) {
        if (!r.lenenc_str(out.info)) return malformed();
        if (out.status_flags & status::session_state_changed) {
            std::string_view state;  // not used yet: checked and skipped
            if (!r.lenenc_str(state)) return malformed();
        }
    } else {
        // The documented form is string<EOF>, but servers (MySQL's and
        // MariaDB's net_send_ok) send a length-encoded string here too. Take
        // it when it accounts for exactly the rest; else the raw rest.
        std::string_view rest = r.rest();
        Reader lr(rest);
        std::string_view info;
        out.info = lr.lenenc_str(info) && lr.empty() ? info : rest;
    }
    return Errc::ok;
}

Errc parse_err(std::string_view payload, std::uint32_t capabilities, ErrPacket &out) {
    Reader r(payload);
    std::uint8_t header;
    out = ErrPacket{};
    if (!r.u8(header) || header != 0xFF || !r.u16(out.code)) return malformed();
    std::uint8_t marker;
    if ((capabilities & cap::protocol_41) && r.peek(marker) && marker == '#') {
        r.skip(1);
        if (!r.bytes(5, out.sqlstate)) return malformed();
    }
    out.message = r.rest();
    return Errc::ok;
}

Errc parse_eof(std::string_view payload, EofPacket &out) {
    Reader r(payload);
    std::uint8_t header;
    out = EofPacket{};
    if (!r.u8(header) || header != 0xFE || payload.size() >= 9) return malformed();
    if (r.empty()) return Errc::ok;  // pre-4.1 form
    if (!r.u16(out.warnings) || !r.u16(out.status_flags)) return malformed();
    return Errc::ok;
}

Errc parse_auth_switch(std::string_view payload, AuthSwitch &out) {
    Reader r(payload);
    std::uint8_t header;
    out = AuthSwitch{};
    if (!r.u8(header) || header != 0xFE) return malformed();
    if (r.empty()) return Errc::unsupported;  // old-style switch to mysql_old_password
    if (!r.nul_str(out.plugin) || out.plugin.empty()) return malformed();
    // Kept whole: some plugins' data ends with a NUL the plugin ignores
    // (mysql_native_password's 20 bytes + NUL), others' may end with a 0
    // byte that belongs to it (a random ed25519 challenge).
    out.data = r.rest();
    return Errc::ok;
}

Errc parse_auth_more_data(std::string_view payload, std::string_view &data) {
    if (payload.empty() || std::uint8_t(payload[0]) != 0x01) return malformed();
    data = payload.substr(1);
    return Errc::ok;
}

Errc parse_column_count(std::string_view payload, std::uint64_t &count, bool cache_metadata,
                        bool &metadata) {
    Reader r(payload);
    metadata = true;
    if (!r.lenenc(count) || count == 0) return malformed();
    if (cache_metadata) {
        std::uint8_t follows = 1;
        if (!r.u8(follows) || follows > 1) return malformed();
        metadata = follows == 1;
    }
    return r.empty() ? Errc::ok : malformed();
}

Errc parse_prepare_ok(std::string_view payload, PrepareOk &out) {
    Reader r(payload);
    std::uint8_t header = 1;
    out = PrepareOk{};
    if (!r.u8(header) || header != 0 || !r.u32(out.statement_id) || !r.u16(out.columns) ||
        !r.u16(out.params) || !r.skip(1))
        return malformed();
    if (!r.empty() && !r.u16(out.warnings)) return malformed();
    if (r.remaining() > 1) return malformed();  // at most MySQL's metadata-follows byte
    if (!r.empty() && (!r.u8(out.metadata_follows) || out.metadata_follows > 1)) return malformed();
    return Errc::ok;
}

Errc parse_column_def(std::string_view payload, ColumnDef &out) {
    Reader r(payload);
    std::uint64_t fixed_len;
    out = ColumnDef{};
    if (!r.lenenc_str(out.catalog) || !r.lenenc_str(out.schema) || !r.lenenc_str(out.table) ||
        !r.lenenc_str(out.org_table) || !r.lenenc_str(out.name) || !r.lenenc_str(out.org_name) ||
        !r.lenenc(fixed_len) || fixed_len < 10 || fixed_len > r.remaining())
        return malformed();
    if (!r.u16(out.charset) || !r.u32(out.length) || !r.u8(out.type) || !r.u16(out.flags) ||
        !r.u8(out.decimals))
        return malformed();
    return Errc::ok;
}

Errc parse_text_row(std::string_view payload, std::size_t columns, Value *out) {
    return visit_text_row<false>(payload.data(), payload.size(), columns,
                                 [out](std::size_t i, const char *d, std::size_t n) { out[i] = {d, n}; });
}

Errc parse_text_row_in_place(char *payload, std::size_t size, std::size_t columns, Value *out) {
    return visit_text_row<true>(payload, size, columns,
                                [out](std::size_t i, const char *d, std::size_t n) { out[i] = {d, n}; });
}

void build_command(std::vector<std::uint8_t> &out, std::uint8_t cmd) { out.push_back(cmd); }

void build_command(std::vector<std::uint8_t> &out, std::uint8_t cmd, std::string_view arg) {
    // One memcpy: inserting chars into a vector of unsigned chars would copy
    // them one at a time (the element types differ).
    std::size_t at = out.size();
    out.resize(at + 1 + arg.size());
    out[at] = cmd;
    if (!arg.empty()) std::memcpy(out.data() + at + 1, arg.data(), arg.size());
}

void build_set_option(std::vector<std::uint8_t> &out, std::uint16_t option) {
    Writer w(out);
    w.u8(command::set_option);
    w.u16(option);
}

}  // namespace mywire::proto
