// Statement parameters: what a typed setter (mywire_stmt_bind_*) stores, in
// the form COM_STMT_EXECUTE sends it. The same values feed the client-side
// formatter (proto/sqlformat.hpp) when a statement is not prepared on the
// server.
#pragma once

#include <cstdint>
#include <string>

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

}  // namespace mywire::proto
