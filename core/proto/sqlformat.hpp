// Client-side SQL formatting, for servers and proxies that cannot prepare
// statements: escaping a string for a quoted literal in the connection's
// character set, finding the `?` placeholders of a query, and replacing each
// with the typed literal of a statement parameter (proto/params.hpp).
// Sans-io and allocation-free except for the std::string / std::vector the
// caller passes. Every function appends (or fills) only on success: on an
// error the output is as it was.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "proto/errors.hpp"
#include "proto/params.hpp"

namespace mywire::proto {

// utf8mb4_general_ci, the default connection collation (Options::charset).
inline constexpr unsigned default_collation = 45;

// How a connection character set matters to escaping and to the lexer.
enum class Mb : unsigned char {
    unknown,    // not a collation id of MariaDB or MySQL
    byte_safe,  // every byte < 0x80 is a character of its own (single-byte
                // sets, utf8mb3/utf8mb4, the EUC sets ujis, eucjpms, euckr,
                // gb2312, binary): the bytes escaping handles are never part
                // of a multi-byte character
    big5,       // lead 0xA1-0xF9, trail 0x40-0x7E or 0xA1-0xFE
    gbk,        // lead 0x81-0xFE, trail 0x40-0x7E or 0x80-0xFE
    sjis,       // sjis and cp932: lead 0x81-0x9F or 0xE0-0xFC, trail
                // 0x40-0x7E or 0x80-0xFC; 0xA1-0xDF single bytes
    gb18030,    // gbk's two-byte form, and four bytes lead, 0x30-0x39,
                // 0x81-0xFE, 0x30-0x39
    wide,       // ucs2, utf16, utf16le, utf32: never a client character set
};

// The class of a collation id: the ids of MariaDB 10.11 (from
// information_schema.COLLATION_CHARACTER_SET_APPLICABILITY, UCA-14.0 ones
// included) and MySQL 8.0's own (76, 248-250 gb18030, 253, 255-323).
// Mb::unknown for any other id.
Mb collation_class(unsigned collation_id);

// Checks that a collation can be used as the character set of escaped text:
// Errc::argument for an unknown id, Errc::unsupported for ucs2 / utf16 /
// utf32 (servers refuse them as a client character set), with a message.
Errc check_escape_collation(unsigned collation_id, Error &err);

// Appends `in` escaped for the inside of a '...' literal in the character
// set of collation_id (the quotes are not added).
//  - Default mode: as mysql_real_escape_string: NUL -> \0, LF -> \n,
//    CR -> \r, \ -> \\, ' -> \', " -> \", 0x1A -> \Z.
//  - no_backslash_escapes (sql_mode NO_BACKSLASH_ESCAPES, which the server
//    reports with status::no_backslash_escapes): only ' is doubled;
//    every other byte is copied.
// In big5, gbk, sjis, cp932 and gb18030 every multi-byte character is
// copied whole (its trail byte may be 0x5C, which must not be escaped), and
// a byte that starts no well-formed character of the set (a lead byte
// without its trail bytes, a truncated sequence at the end, a byte the set
// never uses) is an error: Errc::argument, with the offset in the message.
// The result is at most 2 * in.size() bytes. check_escape_collation's
// errors for the collation.
Errc escape_string(std::string_view in, unsigned collation_id, bool no_backslash_escapes,
                   std::string &out, Error &err);

// The byte offsets in sql of the `?` that are placeholders, in order
// (positions is replaced). Not placeholders: a `?` inside '...' or "..."
// (backslash escapes unless no_backslash_escapes; a doubled quote stays
// inside), inside `...` (a doubled ` stays inside), in a -- comment ("--"
// followed by a blank or control character, or at the end, as the server
// has it), a # comment (both to the end of the line) or a /* */ comment.
// Executable comments, /*! ... */ and MariaDB's /*M! ... */ (with or
// without a version number), hold code the server may run: their `?` ARE
// placeholders (and format_query refuses literals containing "*/" there,
// which could end a comment a server does not execute early). Multi-byte
// characters of collation_id's set are skipped whole, as the server's
// lexer does (a trail byte 0x5C or 0x60 is not a backslash or a backtick).
// Not seen: sql_mode ANSI_QUOTES ("..." is read as a string with backslash
// escapes). Errors (Errc::argument, with the offset): an unterminated
// quote or /* comment. check_escape_collation's errors for the collation.
Errc find_placeholders(std::string_view sql, bool no_backslash_escapes,
                       std::vector<std::size_t> &positions, Error &err,
                       unsigned collation_id = default_collation);

// Appends sql with each placeholder replaced by the literal of the
// parameter at the same index (never raw text):
//  - null (or Param::is_null()): NULL
//  - tiny, short_, year, int24, long_, longlong (1, 2, 2, 4, 4, 8 bytes LE):
//    the decimal number, unsigned when is_unsigned
//  - double_ (8 bytes), float_ (4 bytes): the shortest digits that read
//    back to the same double / float, always with an exponent ("1.5e0",
//    "1e+20") so that the server types it DOUBLE, not DECIMAL. NaN and
//    infinities are Errc::argument.
//  - newdecimal, decimal: the text, unquoted, when it is exactly
//    -?digits[.digits][(e|E)[+-]digits]; anything else is Errc::argument
//  - var_string, string, varchar, enum_, set: '...' escaped as
//    escape_string does (the charset's rules, the mode)
//  - json: the JSON text as such a string
//  - blob, tiny_blob, medium_blob, long_blob, geometry: X'hex' (no charset)
//  - date (0 or 4 bytes): 'YYYY-MM-DD'; datetime, timestamp (0, 4, 7 or 11
//    bytes): 'YYYY-MM-DD hh:mm:ss[.ffffff]'; time (0, 8 or 12 bytes):
//    '[-]hh:mm:ss[.ffffff]' (hours up to 838). Fields out of range (month
//    13, minute 60, ...) are Errc::argument; the fraction is written when
//    not zero.
// Errors (Errc::argument, with a message; out unchanged): the number of
// placeholders differs from params.size() (both are in the message), a
// parameter never bound, one sent as long data (its bytes are not here), a
// value whose bytes do not fit its type, an unknown type, and
// find_placeholders' and escape_string's errors.
Errc format_query(std::string_view sql, const std::vector<Param> &params, unsigned collation_id,
                  bool no_backslash_escapes, std::string &out, Error &err);

}  // namespace mywire::proto
