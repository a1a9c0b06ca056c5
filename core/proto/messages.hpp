// Parsers and builders for the packets of the client/server protocol.
//
// Parsers are pure functions over one payload (no framing header). They return
// Errc::ok or Errc::protocol and never read past the payload; strings in the
// parsed structs are views into the payload. Builders append a payload to a
// byte vector.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/errors.hpp"

namespace mywire::proto {

// Capability flags (the low 32 bits; MariaDB's extended ones are separate).
namespace cap {
inline constexpr std::uint32_t long_password = 1u << 0;
inline constexpr std::uint32_t found_rows = 1u << 1;
inline constexpr std::uint32_t long_flag = 1u << 2;
inline constexpr std::uint32_t connect_with_db = 1u << 3;
inline constexpr std::uint32_t compress = 1u << 5;
inline constexpr std::uint32_t local_files = 1u << 7;
inline constexpr std::uint32_t protocol_41 = 1u << 9;
inline constexpr std::uint32_t interactive = 1u << 10;
inline constexpr std::uint32_t ssl = 1u << 11;
inline constexpr std::uint32_t transactions = 1u << 13;
inline constexpr std::uint32_t secure_connection = 1u << 15;
inline constexpr std::uint32_t multi_statements = 1u << 16;
inline constexpr std::uint32_t multi_results = 1u << 17;
inline constexpr std::uint32_t ps_multi_results = 1u << 18;
inline constexpr std::uint32_t plugin_auth = 1u << 19;
inline constexpr std::uint32_t connect_attrs = 1u << 20;
inline constexpr std::uint32_t plugin_auth_lenenc_data = 1u << 21;
inline constexpr std::uint32_t session_track = 1u << 23;
inline constexpr std::uint32_t deprecate_eof = 1u << 24;
inline constexpr std::uint32_t zstd = 1u << 26;  // MySQL 8.0.18+: zstd compression
// MySQL 8.0.23+: COM_QUERY and COM_STMT_EXECUTE carry query attributes
// (COM_QUERY then always starts with the attribute count and the set count).
inline constexpr std::uint32_t query_attributes = 1u << 27;
inline constexpr std::uint32_t multi_factor_auth = 1u << 28;  // MySQL 8.0.27+
// Set by MariaDB servers (in the slot MySQL calls CLIENT_LONG_PASSWORD) to
// say "I am MariaDB"; a MariaDB client clears it to use extended caps.
inline constexpr std::uint32_t mysql = 1u << 0;
}  // namespace cap

// MariaDB's extended capabilities (the greeting's and the response's
// otherwise unused 4 bytes; bit n here is MARIADB_CLIENT_* 1ULL << (32 + n)).
namespace mariadb_cap {
inline constexpr std::uint32_t progress = 1u << 0;
inline constexpr std::uint32_t com_multi = 1u << 1;
inline constexpr std::uint32_t stmt_bulk_operations = 1u << 2;
inline constexpr std::uint32_t extended_metadata = 1u << 3;
inline constexpr std::uint32_t cache_metadata = 1u << 4;  // 10.6+
inline constexpr std::uint32_t bulk_unit_results = 1u << 5;  // 11.5+ (MARIADB_CLIENT_BULK_UNIT_RESULTS, 1ULL << 37)
}  // namespace mariadb_cap

// COM_STMT_BULK_EXECUTE's flags (MariaDB).
namespace bulk_flag {
inline constexpr std::uint16_t send_unit_results = 64;  // a result set of (Id, Affected_rows) per row; needs bulk_unit_results
inline constexpr std::uint16_t send_types = 128;        // the parameter types follow the flags
}  // namespace bulk_flag

namespace status {
inline constexpr std::uint16_t in_trans = 0x0001;
inline constexpr std::uint16_t autocommit = 0x0002;
inline constexpr std::uint16_t more_results = 0x0008;
inline constexpr std::uint16_t cursor_exists = 0x0040;
inline constexpr std::uint16_t last_row_sent = 0x0080;
inline constexpr std::uint16_t ps_out_params = 0x1000;
// sql_mode has NO_BACKSLASH_ESCAPES: '\' is an ordinary character in literals.
inline constexpr std::uint16_t no_backslash_escapes = 0x0200;
inline constexpr std::uint16_t session_state_changed = 0x4000;
}  // namespace status

namespace command {
inline constexpr std::uint8_t quit = 0x01;
inline constexpr std::uint8_t init_db = 0x02;
inline constexpr std::uint8_t query = 0x03;
inline constexpr std::uint8_t statistics = 0x09;
inline constexpr std::uint8_t ping = 0x0E;
inline constexpr std::uint8_t set_option = 0x1B;
inline constexpr std::uint8_t stmt_prepare = 0x16;
inline constexpr std::uint8_t stmt_execute = 0x17;
inline constexpr std::uint8_t stmt_send_long_data = 0x18;
inline constexpr std::uint8_t stmt_close = 0x19;
inline constexpr std::uint8_t stmt_reset = 0x1A;
inline constexpr std::uint8_t stmt_fetch = 0x1C;
inline constexpr std::uint8_t reset_connection = 0x1F;
inline constexpr std::uint8_t stmt_bulk_execute = 0xFA;  // MariaDB
}  // namespace command

// COM_SET_OPTION's argument.
namespace set_option {
inline constexpr std::uint16_t multi_statements_on = 0;
inline constexpr std::uint16_t multi_statements_off = 1;
}  // namespace set_option

// ---- server greeting
struct Handshake {
    std::uint8_t protocol_version = 0;
    std::string_view server_version;  // without MariaDB's "5.5.5-" prefix
    std::uint32_t connection_id = 0;
    std::string scramble;             // auth plugin data, 20 bytes typically
    std::uint32_t capabilities = 0;
    std::uint32_t mariadb_capabilities = 0;  // only when the server is MariaDB
    std::uint8_t charset = 0;
    std::uint16_t status_flags = 0;
    std::string_view auth_plugin;  // may be empty
    bool is_mariadb = false;
};
Errc parse_handshake(std::string_view payload, Handshake &out);

// ---- handshake response (HandshakeResponse41)
struct HandshakeResponse {
    std::uint32_t capabilities = 0;
    std::uint32_t mariadb_capabilities = 0;  // sent in the filler when MariaDB
    std::uint32_t max_packet = 0;
    std::uint8_t charset = 45;
    std::string_view user;
    std::string_view auth_response;
    std::string_view database;     // sent when capabilities has connect_with_db
    std::string_view auth_plugin;  // sent when capabilities has plugin_auth
    const std::vector<std::pair<std::string, std::string>> *attributes = nullptr;
    std::uint8_t zstd_level = 3;  // sent when capabilities has zstd
};
void build_handshake_response(std::vector<std::uint8_t> &out, const HandshakeResponse &r);
// The SSLRequest: the handshake response's first 32 bytes, nothing more (no
// user name, no credentials) before TLS is up.
void build_ssl_request(std::vector<std::uint8_t> &out, const HandshakeResponse &r);

// ---- AuthNextFactor (MySQL multi-factor authentication): 0x02, plugin
// name NUL-terminated, then the plugin's data.
struct AuthNextFactor {
    std::string_view plugin;
    std::string_view data;
};
Errc parse_auth_next_factor(std::string_view payload, AuthNextFactor &out);

// ---- generic responses
struct OkPacket {
    std::uint64_t affected_rows = 0;
    std::uint64_t last_insert_id = 0;
    std::uint16_t status_flags = 0;
    std::uint16_t warnings = 0;
    std::string_view info;
};
// An OK packet (header 0x00, or 0xFE when it ends a result under
// DEPRECATE_EOF). Session-state information is skipped safely.
Errc parse_ok(std::string_view payload, std::uint32_t capabilities, OkPacket &out);

struct ErrPacket {
    std::uint16_t code = 0;
    std::string_view sqlstate;  // empty when the server sent none
    std::string_view message;
};
Errc parse_err(std::string_view payload, std::uint32_t capabilities, ErrPacket &out);

struct EofPacket {
    std::uint16_t warnings = 0;
    std::uint16_t status_flags = 0;
};
Errc parse_eof(std::string_view payload, EofPacket &out);

inline bool is_ok(std::string_view p) { return !p.empty() && std::uint8_t(p[0]) == 0x00; }
inline bool is_err(std::string_view p) { return !p.empty() && std::uint8_t(p[0]) == 0xFF; }
// The packet that ends a column list or a result set: an EOF packet, or under
// DEPRECATE_EOF an OK packet with the 0xFE header. A text row can also start
// with 0xFE (a value of 16 MiB or more), but such a row is longer.
inline bool is_end_marker(std::string_view p, bool deprecate_eof) {
    if (p.empty() || std::uint8_t(p[0]) != 0xFE) return false;
    return deprecate_eof ? p.size() < 0xFFFFFF : p.size() < 9;
}

// ---- auth exchange
struct AuthSwitch {
    std::string_view plugin;
    std::string_view data;  // as sent, including any trailing NUL
};
Errc parse_auth_switch(std::string_view payload, AuthSwitch &out);
// 0x01 + data.
Errc parse_auth_more_data(std::string_view payload, std::string_view &data);

// ---- result sets
// The column count; with MariaDB's metadata caching negotiated, the byte
// after it says whether the column definitions follow (else metadata = true).
Errc parse_column_count(std::string_view payload, std::uint64_t &count, bool cache_metadata,
                        bool &metadata);
inline Errc parse_column_count(std::string_view payload, std::uint64_t &count) {
    bool metadata;
    return parse_column_count(payload, count, false, metadata);
}

// ---- prepared statements
// COM_STMT_PREPARE's OK: 0x00, statement id, column and parameter counts, a
// filler, the warning count (and MySQL's metadata-follows byte, ignored:
// mywire does not ask for optional metadata).
struct PrepareOk {
    std::uint32_t statement_id = 0;
    std::uint16_t columns = 0;
    std::uint16_t params = 0;
    std::uint16_t warnings = 0;
    // MySQL's optional last byte (CLIENT_OPTIONAL_RESULTSET_METADATA): 0 =
    // the definitions are skipped. 1 when absent.
    std::uint8_t metadata_follows = 1;
};
Errc parse_prepare_ok(std::string_view payload, PrepareOk &out);

struct ColumnDef {
    std::string_view catalog, schema, table, org_table, name, org_name;
    std::uint16_t charset = 0;
    std::uint32_t length = 0;
    std::uint8_t type = 0;
    std::uint16_t flags = 0;
    std::uint8_t decimals = 0;
};
Errc parse_column_def(std::string_view payload, ColumnDef &out);

// One value of a row: data == nullptr for SQL NULL (proto/types.hpp; laid out
// as the public mywire_value, so rows parse straight into what the C API hands
// out).
using mywire::Value;
// A text-protocol row of `columns` values into out[0..columns).
Errc parse_text_row(std::string_view payload, std::size_t columns, Value *out);
// The same, and every value but the last is NUL-terminated in place (the NUL
// replaces the next value's length prefix once it has been read; the first
// byte of the payload is overwritten too). The caller terminates the last
// value, whose end is the payload's end; the byte after the payload must be
// the caller's (it is read, and zeroed, when the row is short of values). A
// failed parse leaves the payload partly overwritten.
Errc parse_text_row_in_place(char *payload, std::size_t size, std::size_t columns, Value *out);

// ---- commands (payloads, without framing)
void build_command(std::vector<std::uint8_t> &out, std::uint8_t cmd);
void build_command(std::vector<std::uint8_t> &out, std::uint8_t cmd, std::string_view arg);
void build_set_option(std::vector<std::uint8_t> &out, std::uint16_t option);

}  // namespace mywire::proto
