// Statement parameters and query attributes: what a typed setter
// (mywire_stmt_bind_*, mywire_query_attr_*) stores, in the form the binary
// protocol sends it, and the encoders that build it. The same values feed the
// client-side formatter (proto/sqlformat.hpp) when a statement is not
// prepared on the server, and the parameter block of COM_STMT_EXECUTE and of
// COM_QUERY with query attributes (MySQL 8.0.23+, CLIENT_QUERY_ATTRIBUTES).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "proto/errors.hpp"
#include "proto/values.hpp"

namespace mywire::proto {

struct Param {
    // The wire type COM_STMT_EXECUTE announces (field_type::*), with the
    // unsigned flag. tiny/short_/long_/longlong: `bytes` holds 1/2/4/8 bytes
    // LE; float_/double_: 4/8 bytes IEEE LE; date/time/datetime: the binary
    // temporal without its length byte (0, 4, 7, 11 / 0, 8, 12 bytes);
    // newdecimal: the decimal's text (checked by the setter); var_string /
    // string: text; blob: bytes; json: the JSON text; null: nothing.
    std::uint8_t type = static_cast<std::uint8_t>(field_type::null);
    bool is_unsigned = false;
    bool bound = false;      // a setter has been called for it
    bool long_data = false;  // the value was sent with COM_STMT_SEND_LONG_DATA
    // MariaDB bulk execution only: 2 = the column's DEFAULT, 3 = IGNORE
    // (leave the column as it is); 0 otherwise.
    std::uint8_t indicator = 0;
    std::string bytes;

    bool is_null() const { return type == field_type::null; }
};

// The encoders behind every typed setter. Each checks the value and, when it
// is valid, makes p hold it (bound, no long data, no indicator; p's buffer is
// reused); on Errc::argument p is left as it was.
Errc encode_null(Param &p);
Errc encode_int(Param &p, std::int64_t v, unsigned type);  // type: tiny/short_/long_/longlong
Errc encode_uint(Param &p, std::uint64_t v, unsigned type);
Errc encode_float(Param &p, float v);    // finite only
Errc encode_double(Param &p, double v);  // finite only
// newdecimal (a checked decimal text), string, var_string, blob, json.
Errc encode_bytes(Param &p, unsigned type, std::string_view v);
Errc encode_time(Param &p, const Time &t);
// Bulk execution's DEFAULT (2) / IGNORE (3).
Errc encode_indicator(Param &p, std::uint8_t indicator);

// A parameter's value in the binary protocol (not NULL, not long data).
void append_param_value(std::string &out, const Param &p);

// A parameter bound to an array of values in the caller's memory
// (mywire_stmt_bind_array): read at execute time, row by row, straight into
// the request -- nothing is copied when it is bound. Row k's value is at
// values + k * value_step, its length (strings, bytes) at lengths + k *
// length_step and its indicator at indicators + k * indicator_step.
struct ParamArray {
    enum Kind : std::uint8_t { none, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, str, bytes, time };
    Kind kind = none;
    std::uint8_t type = static_cast<std::uint8_t>(field_type::null);  // the wire type (time: set by check)
    bool is_unsigned = false;
    unsigned width = 0;  // fixed-width kinds: bytes per value
    const char *values = nullptr;
    std::size_t value_step = 0, length_step = 0, indicator_step = 0;
    const std::size_t *lengths = nullptr;       // str (optional: NUL-terminated without), bytes
    const std::uint8_t *indicators = nullptr;   // optional: 0 none, 1 NULL, 2 DEFAULT, 3 IGNORE

    bool bound() const { return kind != none; }
    std::uint8_t indicator(std::uint64_t row) const {
        return indicators ? *reinterpret_cast<const std::uint8_t *>(reinterpret_cast<const char *>(indicators) +
                                                                   row * indicator_step)
                          : 0;
    }
    // A string or bytes value: its data (nullptr: NULL) and length.
    const char *data(std::uint64_t row) const {
        const char *p;
        std::memcpy(&p, values + row * value_step, sizeof p);
        return p;
    }
    std::size_t length(std::uint64_t row) const {
        if (!lengths) return std::strlen(data(row));
        std::size_t n;
        std::memcpy(&n, reinterpret_cast<const char *>(lengths) + row * length_step, sizeof n);
        return n;
    }
};

// Make a hold the array described (kind is a ParamArray::Kind; stride 0:
// each array dense, its element's size apart; otherwise every array steps by
// stride bytes, one struct per row). Errc::argument (a leaves as it was) for
// an unknown kind, NULL values, bytes without lengths, lengths for a kind
// without them, a stride smaller than a value.
Errc make_param_array(ParamArray &a, int kind, const void *values, std::size_t stride, const std::size_t *lengths,
                      const std::uint8_t *indicators);
// Check rows [0, rows) of a before anything is sent: indicators 0..3 (2 and
// 3 only when bulk), finite floats, valid times all of one kind (which sets
// a.type), string and bytes lengths at most max_len. On Errc::argument, row
// is the first bad row and why says what is wrong with it.
Errc check_param_array(ParamArray &a, std::uint64_t rows, std::size_t max_len, bool bulk, std::uint64_t &row,
                       const char *&why);
// COM_STMT_BULK_EXECUTE's rows [from, ...) of the arrays (all bound and
// checked) appended to out: per parameter the indicator byte, then the value
// when it is 0. Rows are added while their bytes stay within limit (at least
// one). Returns the end row.
std::uint64_t append_bulk_rows(std::vector<std::uint8_t> &out, const std::vector<ParamArray> &arrays,
                               std::uint64_t from, std::uint64_t rows, std::size_t limit);
// The bulk request's type part: per parameter its type and unsigned flag.
void append_bulk_types(std::vector<std::uint8_t> &out, const std::vector<ParamArray> &arrays);
// Row `row` of a (checked; not DEFAULT / IGNORE) into p, as the setter of
// its type would (for servers without bulk execution).
void load_array_value(Param &p, const ParamArray &a, std::uint64_t row);

// One query attribute: a name and a value.
struct QueryAttr {
    std::string name;
    Param value;
};

// The parameter block of COM_STMT_EXECUTE (after the lenenc parameter count
// when query attributes are on), and of COM_QUERY with query attributes
// (after its two counts): the NULL bitmap over params then attrs, the
// new-params-bound flag, the types (each followed by its lenenc name when
// `named`: the statement's own parameters have empty names), the values
// (long data skipped: the server has it). Nothing when there are neither
// params nor attrs. The types go out unless there are no attributes and
// `known_types` (the type part the server has) matches params. Returns
// whether they went out; then `types` holds them, for the next comparison
// (else it is left empty).
bool append_param_block(std::string &out, const std::vector<Param> &params, const std::vector<QueryAttr> &attrs,
                        bool named, const std::string *known_types, std::string &types);

// CLIENT_QUERY_ATTRIBUTES' prefix of a COM_QUERY payload (before the SQL
// text): the attribute count, the parameter set count (1) and, when there are
// attributes, their block (types always sent).
void append_query_attributes(std::string &out, const std::vector<QueryAttr> &attrs);

// COM_STMT_EXECUTE's flags byte: PARAMETER_COUNT_AVAILABLE (a lenenc
// parameter count follows the iteration count; sent with query attributes).
inline constexpr std::uint8_t execute_parameter_count_available = 0x08;

}  // namespace mywire::proto
