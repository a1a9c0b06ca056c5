// What the core needs from the operating system outside sockets, read at
// the I/O edge and handed to the sans-io operations: the OS name and process
// id for the connection attributes, and the user's pinned RSA key file.
#pragma once

#include <string>
#include <string_view>

#include "proto/errors.hpp"

namespace mywire::io {

// uname()'s sysname ("Linux"), once per process; "unknown" if it fails.
const std::string &os_name();
long process_id();
// The pinned key of server_public_key_path: a regular file of at most
// 16 KiB (a FIFO does not hang the connect). Errors are Errc::auth naming
// the plugin and the path.
Errc read_key_file(std::string_view plugin, std::string_view path, std::string &pem, Error &err);

}  // namespace mywire::io
