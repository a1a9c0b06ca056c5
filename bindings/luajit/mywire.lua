-- mywire.lua for LuaJIT - the C API through LuaJIT's FFI (no C module).
--
--   local mywire = require "mywire"      -- LuaJIT's path: share/lua/5.1
--   local conn = assert(mywire.connect{host = "db", user = "app", password = "pw"})
--   local res = assert(conn:query("SELECT id, name FROM t"))
--   for row in res:rows() do print(row[1], row[2]) end
--   conn:close()
--
-- The library: $MYWIRE_LIB when set (a path), else the soname libmywire.so.1.
-- The declarations below are capi/mywire.h's, written by
--     python3 bindings/luajit/gen_cdef.py capi/mywire.h bindings/luajit/mywire.lua
-- after each header change; the suite 'bindings' fails when they are stale
-- (gen_cdef.py --check) and checks them against the header at the level of
-- the ABI too (bindings/check_ffi.py: every function, its return and
-- parameter types, every struct field, every constant).
--
-- The API is that of the Lua 5.4 module (bindings/lua/mywire.lua): errors as
-- `nil, message, code, errno, sqlstate`; values as Lua values -- integers as
-- numbers when a double holds them exactly (|v| <= 2^53), else as int64_t /
-- uint64_t cdata; FLOAT and DOUBLE as numbers; everything else as strings
-- (binary-safe); SQL NULL as nil. Every handle has an ffi.gc finalizer that
-- never blocks (mywire_conn_discard, mywire_result_discard, mywire_stmt_free);
-- close() frees at once and removes the finalizer, so nothing is freed twice,
-- and the C API lets results and statements outlive their connection (they
-- then give mywire.ERROR_STATE).

local ffi = require "ffi"

-- capi/mywire.h's declarations (gen_cdef.py: do not edit by hand).
local CDEF = [[
unsigned mywire_version_number(void);
const char *mywire_version(void);
enum mywire_code {
    MYWIRE_OK = 0,
    MYWIRE_ERROR_SERVER = 1,
    MYWIRE_ERROR_ARGUMENT = 2,
    MYWIRE_ERROR_OPTION = 3,
    MYWIRE_ERROR_URI = 4,
    MYWIRE_ERROR_NOMEM = 5,
    MYWIRE_ERROR_CONNECT = 6,
    MYWIRE_ERROR_TIMEOUT = 7,
    MYWIRE_ERROR_LOST = 8,
    MYWIRE_ERROR_PROTOCOL = 9,
    MYWIRE_ERROR_AUTH = 10,
    MYWIRE_ERROR_OUT_OF_SYNC = 11,
    MYWIRE_ERROR_STATE = 12,
    MYWIRE_ERROR_LIMIT = 13,
    MYWIRE_ERROR_UNSUPPORTED = 14,
    MYWIRE_ERROR_INTERNAL = 15,
    MYWIRE_ERROR_TLS = 16,
    MYWIRE_ERROR_CANCELLED = 17,
    MYWIRE_ERROR_RESULT_TOO_LARGE = 18,
    MYWIRE_ERROR_CONVERSION = 19,
    MYWIRE_ROW = 100,
    MYWIRE_DONE = 101,
    MYWIRE_WAIT_READ = 102,
    MYWIRE_WAIT_WRITE = 103,
    MYWIRE_NULL = 104
};
const char *mywire_errstr(int code);
int mywire_is_fatal(int code);
typedef struct mywire_conn mywire_conn;
typedef struct mywire_result mywire_result;
int mywire_conn_new(mywire_conn **out);
void mywire_conn_free(mywire_conn *conn);
int mywire_set_host(mywire_conn *conn, const char *host);
int mywire_set_port(mywire_conn *conn, unsigned port);
int mywire_set_unix_socket(mywire_conn *conn, const char *path);
int mywire_set_user(mywire_conn *conn, const char *user);
int mywire_set_password(mywire_conn *conn, const char *password);
int mywire_set_database(mywire_conn *conn, const char *database);
int mywire_set_connect_timeout(mywire_conn *conn, unsigned ms);
int mywire_set_read_timeout(mywire_conn *conn, unsigned ms);
int mywire_set_write_timeout(mywire_conn *conn, unsigned ms);
int mywire_set_max_allowed_packet(mywire_conn *conn, uint64_t bytes);
int mywire_set_max_result_bytes(mywire_conn *conn, uint64_t bytes);
int mywire_set_max_columns(mywire_conn *conn, unsigned columns);
int mywire_set_multi_statements(mywire_conn *conn, int enable);
int mywire_set_charset(mywire_conn *conn, unsigned collation_id);
int mywire_set_connect_attr(mywire_conn *conn, const char *key, const char *value);
int mywire_set_option(mywire_conn *conn, const char *key, const char *value);
int mywire_set_uri(mywire_conn *conn, const char *uri);
int mywire_connect(mywire_conn *conn);
int mywire_connect_to(mywire_conn *conn, const char *host, const char *user,
                                 const char *password, const char *database, unsigned port,
                                 const char *unix_socket);
enum mywire_ssl_mode {
    MYWIRE_SSL_MODE_DEFAULT = 0,
    MYWIRE_SSL_MODE_DISABLED = 1,
    MYWIRE_SSL_MODE_PREFERRED = 2,
    MYWIRE_SSL_MODE_REQUIRED = 3,
    MYWIRE_SSL_MODE_VERIFY_CA = 4,
    MYWIRE_SSL_MODE_VERIFY_IDENTITY = 5
};
int mywire_set_ssl_mode(mywire_conn *conn, int mode);
int mywire_set_stmt_cache(mywire_conn *conn, unsigned statements);
enum mywire_compress {
    MYWIRE_COMPRESS_OFF = 0,
    MYWIRE_COMPRESS_ZLIB = 1,
    MYWIRE_COMPRESS_ZSTD = 2,
    MYWIRE_COMPRESS_ANY = 3
};
int mywire_set_compression(mywire_conn *conn, int algorithm);
typedef int (*mywire_dialog_fn)(void *user_data, int echo, const char *prompt, char *answer,
                                size_t answer_size);
int mywire_set_dialog_callback(mywire_conn *conn, mywire_dialog_fn fn,
                                          void *user_data);
int mywire_connect_uri(mywire_conn *conn, const char *uri);
void mywire_close(mywire_conn *conn);
int mywire_errcode(const mywire_conn *conn);
unsigned mywire_errno(const mywire_conn *conn);
const char *mywire_sqlstate(const mywire_conn *conn);
const char *mywire_errmsg(const mywire_conn *conn);
enum mywire_client_error_code {
    MYWIRE_CLIENT_ERROR_NONE = 0,
    MYWIRE_CLIENT_ERROR_RESOLVE = 1,
    MYWIRE_CLIENT_ERROR_REFUSED = 2,
    MYWIRE_CLIENT_ERROR_UNREACHABLE = 3,
    MYWIRE_CLIENT_ERROR_CONNECT_TIMEOUT = 4,
    MYWIRE_CLIENT_ERROR_SEND_FAILED = 5,
    MYWIRE_CLIENT_ERROR_LOST_READING = 6,
    MYWIRE_CLIENT_ERROR_READ_TIMEOUT = 7,
    MYWIRE_CLIENT_ERROR_WRITE_TIMEOUT = 8,
    MYWIRE_CLIENT_ERROR_TLS = 9,
    MYWIRE_CLIENT_ERROR_CANCELLED = 10,
    MYWIRE_CLIENT_ERROR_ABORTED = 11,
    MYWIRE_CLIENT_ERROR_OTHER = 12
};
int mywire_client_error(const mywire_conn *conn);
int mywire_error_sent(const mywire_conn *conn);
int mywire_is_connected(const mywire_conn *conn);
const char *mywire_server_version(const mywire_conn *conn);
uint64_t mywire_connection_id(const mywire_conn *conn);
unsigned long mywire_thread_id(const mywire_conn *conn);
unsigned mywire_server_status(const mywire_conn *conn);
const char *mywire_auth_plugin(const mywire_conn *conn);
int mywire_is_mariadb(const mywire_conn *conn);
const char *mywire_transport(const mywire_conn *conn);
int mywire_tls_active(const mywire_conn *conn);
const char *mywire_tls_version(const mywire_conn *conn);
const char *mywire_tls_cipher(const mywire_conn *conn);
int mywire_tls_verified(const mywire_conn *conn);
enum mywire_tls_failure_reason {
    MYWIRE_TLS_FAILURE_NONE = 0,
    MYWIRE_TLS_FAILURE_NOT_OFFERED = 1,
    MYWIRE_TLS_FAILURE_UNTRUSTED = 2,
    MYWIRE_TLS_FAILURE_EXPIRED = 3,
    MYWIRE_TLS_FAILURE_NOT_YET_VALID = 4,
    MYWIRE_TLS_FAILURE_HOSTNAME = 5,
    MYWIRE_TLS_FAILURE_REVOKED = 6,
    MYWIRE_TLS_FAILURE_FINGERPRINT = 7,
    MYWIRE_TLS_FAILURE_CONFIG = 8,
    MYWIRE_TLS_FAILURE_HANDSHAKE = 9
};
int mywire_tls_failure(const mywire_conn *conn);
const char *mywire_compression(const mywire_conn *conn);
int mywire_socket(const mywire_conn *conn);
int mywire_ping(mywire_conn *conn);
int mywire_select_db(mywire_conn *conn, const char *database);
int mywire_reset_connection(mywire_conn *conn);
int mywire_set_server_multi_statements(mywire_conn *conn, int enable);
int mywire_statistics(mywire_conn *conn, const char **text, size_t *len);
enum mywire_result_mode {
    MYWIRE_BUFFERED = 0,
    MYWIRE_STREAMING = 1
};
int mywire_query(mywire_conn *conn, const char *sql, size_t len, int mode,
                            mywire_result **out);
int mywire_more_results(const mywire_conn *conn);
int mywire_next_result(mywire_conn *conn, int mode, mywire_result **out);
void mywire_result_free(mywire_result *res);
unsigned mywire_column_count(const mywire_result *res);
uint64_t mywire_affected_rows(const mywire_result *res);
uint64_t mywire_insert_id(const mywire_result *res);
unsigned mywire_warning_count(const mywire_result *res);
unsigned mywire_status_flags(const mywire_result *res);
const char *mywire_info(const mywire_result *res);
uint64_t mywire_row_count(const mywire_result *res);
typedef struct mywire_column {
    const char *name;
    const char *org_name;
    const char *table;
    const char *org_table;
    const char *schema;
    unsigned type;
    unsigned flags;
    unsigned charset;
    unsigned decimals;
    uint32_t length;
    size_t name_len, org_name_len, table_len, org_table_len, schema_len;
} mywire_column;
const mywire_column *mywire_column_at(const mywire_result *res, unsigned index);
int mywire_fetch(mywire_result *res);
int mywire_seek(mywire_result *res, uint64_t row_index);
typedef struct mywire_value {
    const char *data;
    size_t len;
} mywire_value;
const mywire_value *mywire_row(const mywire_result *res);
const char *mywire_get(const mywire_result *res, unsigned index, size_t *len);
int mywire_is_null(const mywire_result *res, unsigned index);
enum mywire_field_type {
    MYWIRE_TYPE_DECIMAL = 0,
    MYWIRE_TYPE_TINY = 1,
    MYWIRE_TYPE_SHORT = 2,
    MYWIRE_TYPE_LONG = 3,
    MYWIRE_TYPE_FLOAT = 4,
    MYWIRE_TYPE_DOUBLE = 5,
    MYWIRE_TYPE_NULL = 6,
    MYWIRE_TYPE_TIMESTAMP = 7,
    MYWIRE_TYPE_LONGLONG = 8,
    MYWIRE_TYPE_INT24 = 9,
    MYWIRE_TYPE_DATE = 10,
    MYWIRE_TYPE_TIME = 11,
    MYWIRE_TYPE_DATETIME = 12,
    MYWIRE_TYPE_YEAR = 13,
    MYWIRE_TYPE_VARCHAR = 15,
    MYWIRE_TYPE_BIT = 16,
    MYWIRE_TYPE_JSON = 245,
    MYWIRE_TYPE_NEWDECIMAL = 246,
    MYWIRE_TYPE_ENUM = 247,
    MYWIRE_TYPE_SET = 248,
    MYWIRE_TYPE_TINY_BLOB = 249,
    MYWIRE_TYPE_MEDIUM_BLOB = 250,
    MYWIRE_TYPE_LONG_BLOB = 251,
    MYWIRE_TYPE_BLOB = 252,
    MYWIRE_TYPE_VAR_STRING = 253,
    MYWIRE_TYPE_STRING = 254,
    MYWIRE_TYPE_GEOMETRY = 255
};
enum mywire_column_flag {
    MYWIRE_FLAG_NOT_NULL = 0x0001,
    MYWIRE_FLAG_PRI_KEY = 0x0002,
    MYWIRE_FLAG_UNIQUE_KEY = 0x0004,
    MYWIRE_FLAG_MULTIPLE_KEY = 0x0008,
    MYWIRE_FLAG_BLOB = 0x0010,
    MYWIRE_FLAG_UNSIGNED = 0x0020,
    MYWIRE_FLAG_ZEROFILL = 0x0040,
    MYWIRE_FLAG_BINARY = 0x0080,
    MYWIRE_FLAG_ENUM = 0x0100,
    MYWIRE_FLAG_AUTO_INCREMENT = 0x0200,
    MYWIRE_FLAG_TIMESTAMP = 0x0400,
    MYWIRE_FLAG_SET = 0x0800,
    MYWIRE_FLAG_NUM = 0x8000
};
enum mywire_status_flag {
    MYWIRE_STATUS_IN_TRANS = 0x0001,
    MYWIRE_STATUS_AUTOCOMMIT = 0x0002,
    MYWIRE_STATUS_MORE_RESULTS_EXISTS = 0x0008,
    MYWIRE_STATUS_CURSOR_EXISTS = 0x0040,
    MYWIRE_STATUS_LAST_ROW_SENT = 0x0080,
    MYWIRE_STATUS_PS_OUT_PARAMS = 0x1000,
    MYWIRE_STATUS_NO_BACKSLASH_ESCAPES = 0x0200
};
int mywire_set_nonblocking(mywire_conn *conn, int enable);
int mywire_is_nonblocking(const mywire_conn *conn);
int mywire_in_progress(const mywire_conn *conn);
int64_t mywire_timeout_ms(const mywire_conn *conn);
void mywire_result_discard(mywire_result *res);
void mywire_conn_discard(mywire_conn *conn);
typedef struct mywire_pipeline mywire_pipeline;
int mywire_pipeline_new(mywire_pipeline **out);
void mywire_pipeline_free(mywire_pipeline *p);
int mywire_pipeline_clear(mywire_pipeline *p);
int mywire_pipeline_add_query(mywire_pipeline *p, const char *sql, size_t len);
int mywire_pipeline_add_ping(mywire_pipeline *p);
int mywire_pipeline_add_reset_connection(mywire_pipeline *p);
int mywire_pipeline_add_select_db(mywire_pipeline *p, const char *database);
size_t mywire_pipeline_size(const mywire_pipeline *p);
int mywire_pipeline_run(mywire_conn *conn, mywire_pipeline *p);
int mywire_pipeline_step_ran(const mywire_pipeline *p, size_t i);
int mywire_pipeline_step_code(const mywire_pipeline *p, size_t i);
unsigned mywire_pipeline_step_errno(const mywire_pipeline *p, size_t i);
const char *mywire_pipeline_step_sqlstate(const mywire_pipeline *p, size_t i);
const char *mywire_pipeline_step_errmsg(const mywire_pipeline *p, size_t i);
unsigned mywire_pipeline_result_count(const mywire_pipeline *p, size_t i);
int mywire_pipeline_take_result(mywire_pipeline *p, size_t i, unsigned k, mywire_result **out);
typedef struct mywire_stmt mywire_stmt;
int mywire_pipeline_add_prepare(mywire_pipeline *p, mywire_stmt *stmt, const char *sql, size_t len);
int mywire_pipeline_add_execute(mywire_pipeline *p, mywire_stmt *stmt);
int mywire_pipeline_add_stmt_close(mywire_pipeline *p, mywire_stmt *stmt);
int mywire_pipeline_step_direct(const mywire_pipeline *p, size_t i);
typedef struct mywire_time {
    int32_t kind;
    int32_t negative;
    int32_t year, month, day;
    int32_t hour, minute, second, microsecond;
} mywire_time;
enum mywire_time_kind {
    MYWIRE_TIME_KIND_DATE = 1,
    MYWIRE_TIME_KIND_TIME = 2,
    MYWIRE_TIME_KIND_DATETIME = 3
};
int mywire_stmt_new(mywire_conn *conn, mywire_stmt **out);
void mywire_stmt_free(mywire_stmt *stmt);
int mywire_stmt_prepare(mywire_stmt *stmt, const char *sql, size_t len);
int mywire_stmt_prepare_client(mywire_stmt *stmt, const char *sql, size_t len);
int mywire_stmt_is_client_side(const mywire_stmt *stmt);
unsigned mywire_stmt_param_count(const mywire_stmt *stmt);
unsigned mywire_stmt_column_count(const mywire_stmt *stmt);
const mywire_column *mywire_stmt_column_at(const mywire_stmt *stmt, unsigned index);
const mywire_column *mywire_stmt_param_at(const mywire_stmt *stmt, unsigned index);
uint32_t mywire_stmt_id(const mywire_stmt *stmt);
int mywire_stmt_bind_null(mywire_stmt *stmt, unsigned index);
int mywire_stmt_bind_int8(mywire_stmt *stmt, unsigned index, int8_t value);
int mywire_stmt_bind_int16(mywire_stmt *stmt, unsigned index, int16_t value);
int mywire_stmt_bind_int32(mywire_stmt *stmt, unsigned index, int32_t value);
int mywire_stmt_bind_int64(mywire_stmt *stmt, unsigned index, int64_t value);
int mywire_stmt_bind_uint8(mywire_stmt *stmt, unsigned index, uint8_t value);
int mywire_stmt_bind_uint16(mywire_stmt *stmt, unsigned index, uint16_t value);
int mywire_stmt_bind_uint32(mywire_stmt *stmt, unsigned index, uint32_t value);
int mywire_stmt_bind_uint64(mywire_stmt *stmt, unsigned index, uint64_t value);
int mywire_stmt_bind_float(mywire_stmt *stmt, unsigned index, float value);
int mywire_stmt_bind_double(mywire_stmt *stmt, unsigned index, double value);
int mywire_stmt_bind_decimal(mywire_stmt *stmt, unsigned index, const char *text, size_t len);
int mywire_stmt_bind_string(mywire_stmt *stmt, unsigned index, const char *data, size_t len);
int mywire_stmt_bind_bytes(mywire_stmt *stmt, unsigned index, const void *data, size_t len);
int mywire_stmt_bind_json(mywire_stmt *stmt, unsigned index, const char *text, size_t len);
int mywire_stmt_bind_bit(mywire_stmt *stmt, unsigned index, uint64_t bits);
int mywire_stmt_bind_time(mywire_stmt *stmt, unsigned index, const mywire_time *value);
int mywire_stmt_clear_bindings(mywire_stmt *stmt);
int mywire_stmt_send_long_data(mywire_stmt *stmt, unsigned index, const void *data, size_t len);
int mywire_stmt_set_cursor(mywire_stmt *stmt, uint32_t rows_per_fetch);
int mywire_stmt_execute(mywire_stmt *stmt, int mode, mywire_result **out);
int mywire_stmt_reset(mywire_stmt *stmt);
int mywire_stmt_bind_default(mywire_stmt *stmt, unsigned index);
int mywire_stmt_bind_ignore(mywire_stmt *stmt, unsigned index);
int mywire_stmt_add_batch(mywire_stmt *stmt);
uint64_t mywire_stmt_batch_size(const mywire_stmt *stmt);
int mywire_stmt_clear_batch(mywire_stmt *stmt);
int mywire_stmt_execute_batch(mywire_stmt *stmt, mywire_result **out);
int mywire_stmt_set_row_results(mywire_stmt *stmt, int on);
uint64_t mywire_row_result_count(const mywire_result *res);
int mywire_row_result(const mywire_result *res, uint64_t k, uint64_t *affected_rows,
                                 uint64_t *insert_id);
enum mywire_array_type {
    MYWIRE_ARRAY_INT8 = 1,
    MYWIRE_ARRAY_INT16 = 2,
    MYWIRE_ARRAY_INT32 = 3,
    MYWIRE_ARRAY_INT64 = 4,
    MYWIRE_ARRAY_UINT8 = 5,
    MYWIRE_ARRAY_UINT16 = 6,
    MYWIRE_ARRAY_UINT32 = 7,
    MYWIRE_ARRAY_UINT64 = 8,
    MYWIRE_ARRAY_FLOAT = 9,
    MYWIRE_ARRAY_DOUBLE = 10,
    MYWIRE_ARRAY_STRING = 11,
    MYWIRE_ARRAY_BYTES = 12,
    MYWIRE_ARRAY_TIME = 13
};
enum mywire_indicator {
    MYWIRE_IND_NONE = 0,
    MYWIRE_IND_NULL = 1,
    MYWIRE_IND_DEFAULT = 2,
    MYWIRE_IND_IGNORE = 3
};
int mywire_stmt_bind_array(mywire_stmt *stmt, unsigned index, int type, const void *values,
                                      size_t stride, const size_t *lengths, const uint8_t *indicators);
int mywire_stmt_execute_array(mywire_stmt *stmt, uint64_t rows, mywire_result **out);
int mywire_query_attributes_supported(const mywire_conn *conn);
int mywire_query_attr_null(mywire_conn *conn, const char *name);
int mywire_query_attr_int64(mywire_conn *conn, const char *name, int64_t value);
int mywire_query_attr_uint64(mywire_conn *conn, const char *name, uint64_t value);
int mywire_query_attr_double(mywire_conn *conn, const char *name, double value);
int mywire_query_attr_string(mywire_conn *conn, const char *name, const char *data, size_t len);
int mywire_query_attr_bytes(mywire_conn *conn, const char *name, const void *data, size_t len);
int mywire_query_attr_time(mywire_conn *conn, const char *name, const mywire_time *value);
int mywire_query_attr_clear(mywire_conn *conn);
unsigned mywire_query_attr_count(const mywire_conn *conn);
int mywire_stmt_cached(mywire_conn *conn, const char *sql, size_t len, mywire_stmt **out);
int mywire_stmt_is_cached(const mywire_stmt *stmt);
uint64_t mywire_stmt_cache_held(const mywire_conn *conn);
uint64_t mywire_stmt_cache_hits(const mywire_conn *conn);
uint64_t mywire_stmt_cache_misses(const mywire_conn *conn);
uint64_t mywire_stmt_cache_evictions(const mywire_conn *conn);
int mywire_stmt_cache_clear(mywire_conn *conn);
int mywire_get_int64(const mywire_result *res, unsigned index, int64_t *out);
int mywire_get_uint64(const mywire_result *res, unsigned index, uint64_t *out);
int mywire_get_double(const mywire_result *res, unsigned index, double *out);
int mywire_get_time(const mywire_result *res, unsigned index, mywire_time *out);
int mywire_get_bytes(const mywire_result *res, unsigned index, const char **data, size_t *len);
int mywire_result_is_binary(const mywire_result *res);
int mywire_result_metadata_cached(const mywire_result *res);
int mywire_cancel(mywire_conn *conn);
int mywire_abort(mywire_conn *conn);
int mywire_wake_fd(const mywire_conn *conn);
int mywire_escape_string(mywire_conn *conn, const char *in, size_t len, char *out,
                                    size_t out_size, size_t *out_len);
int mywire_escape_string_for(unsigned collation_id, int no_backslash_escapes,
                                        const char *in, size_t len, char *out, size_t out_size,
                                        size_t *out_len);
]]
ffi.cdef(CDEF)

-- For conn:wait() (the non-blocking API): poll(2).
ffi.cdef[[
struct mywire_luajit_pollfd { int fd; short events; short revents; };
int poll(struct mywire_luajit_pollfd *fds, unsigned long nfds, int timeout);
]]

local C = ffi.load(os.getenv("MYWIRE_LIB") or "libmywire.so.1")

local M = { C = C, ffi = ffi }

-- The header's constants without the MYWIRE_ prefix (mywire.OK,
-- mywire.ERROR_SERVER, mywire.TYPE_LONG, ...): every enumerator of CDEF.
for name in CDEF:gmatch("MYWIRE_([%w_]+)%s*=") do
  M[name] = tonumber(C["MYWIRE_" .. name])
end

local OK, ROW, DONE = C.MYWIRE_OK, C.MYWIRE_ROW, C.MYWIRE_DONE
local BUFFERED, STREAMING = C.MYWIRE_BUFFERED, C.MYWIRE_STREAMING

local function str(p) return p ~= nil and ffi.string(p) or "" end

M.version = str(C.mywire_version())
function M.errstr(code) return str(C.mywire_errstr(code)) end
function M.is_fatal(code) return C.mywire_is_fatal(code) == 1 end

local TWO53 = 2 ^ 53
local function int_value(v) -- int64_t / uint64_t cdata
  if v <= TWO53 and v >= -TWO53 then return tonumber(v) end
  return v
end
local function u64(v) return int_value(ffi.new("uint64_t", v)) end

local Connection, Result, Statement = {}, {}, {}
Connection.__index, Result.__index, Statement.__index = Connection, Result, Statement

local function fail(h, code)
  local msg, errno, sqlstate = "", 0, "HY000"
  if h ~= nil and C.mywire_errcode(h) == code then
    msg = str(C.mywire_errmsg(h))
    errno = tonumber(C.mywire_errno(h))
    sqlstate = str(C.mywire_sqlstate(h))
  end
  if msg == "" then msg = M.errstr(code) end
  return nil, msg, code, errno, sqlstate
end

local function mode_of(mode)
  if mode == nil or mode == "buffered" or mode == BUFFERED then return BUFFERED end
  if mode == "stream" or mode == "streaming" or mode == STREAMING then return STREAMING end
  error("mywire: mode must be \"buffered\" or \"stream\"", 3)
end

-- Each object holds its handle in a one-slot box (obj.b, b[0] the handle)
-- that carries the ffi.gc finalizer: the finalizer empties the box before
-- freeing, so an object reached again from another finalizer (LuaJIT may run
-- them in any order) sees NULL -- which every function of the C API accepts --
-- never a freed pointer; close() empties it the same way.
local function finalizer(free)
  return function(b)
    local h = b[0]
    b[0] = nil
    if h ~= nil then free(h) end
  end
end
local gc_conn = finalizer(C.mywire_conn_discard)
local gc_result = finalizer(C.mywire_result_discard)
local gc_stmt = finalizer(C.mywire_stmt_free)
local function box(ctype, h, gc)
  local b = ffi.new(ctype)
  b[0] = h
  return ffi.gc(b, gc)
end

-- Release: take the handle out of obj's box, or nil (already released).
local function take(obj)
  local h = obj.b[0]
  obj.b[0] = nil
  if h == nil then return nil end
  return h
end

-- ---------------------------------------------------------------- connect

local function new_connection(opts)
  local out = ffi.new("mywire_conn *[1]")
  local rc = C.mywire_conn_new(out)
  if rc ~= OK then return fail(nil, rc) end
  local self = setmetatable({ b = box("mywire_conn *[1]", out[0], gc_conn) }, Connection)
  local h = self.b[0]
  if type(opts) == "string" then opts = { uri = opts } end
  if type(opts) ~= "table" then
    self:discard()
    error("mywire: connect expects a table of options or a URI string", 3)
  end
  if opts.uri ~= nil then
    rc = C.mywire_set_uri(h, tostring(opts.uri))
    if rc ~= OK then
      local a, b, c, d, e = fail(h, rc)
      self:discard()
      return a, b, c, d, e
    end
  end
  for k, v in pairs(opts) do
    if k ~= "uri" and k ~= "nonblocking" then
      if type(v) == "boolean" then v = v and "1" or "0" end
      rc = C.mywire_set_option(h, tostring(k), tostring(v))
      if rc ~= OK then
        local _, msg, code, errno, sqlstate = fail(h, rc)
        self:discard()
        return nil, "option " .. tostring(k) .. ": " .. msg, code, errno, sqlstate
      end
    end
  end
  return self
end

function M.connect(opts)
  local conn, msg, code, errno, sqlstate = new_connection(opts)
  if not conn then return nil, msg, code, errno, sqlstate end
  if type(opts) == "table" and opts.nonblocking then
    -- non-blocking: the caller continues conn:connect() (and every later
    -- call) while it returns nil, message, mywire.WAIT_READ / WAIT_WRITE
    local ok, m2, c2, e2, s2 = conn:set_nonblocking(true)
    if not ok then
      conn:discard()
      return nil, m2, c2, e2, s2
    end
    return conn
  end
  local ok
  ok, msg, code, errno, sqlstate = conn:connect()
  if not ok then
    conn:discard()
    return nil, msg, code, errno, sqlstate
  end
  return conn
end

function M.new(opts) return new_connection(opts or {}) end

-- ------------------------------------------------------------- parameters

local Tagged = {}
local function tagged(kind, value, check)
  if check and type(value) ~= check then
    error("mywire." .. kind .. ": a " .. check .. " expected", 3)
  end
  return setmetatable({ kind = kind, value = value }, Tagged)
end
function M.blob(s) return tagged("bytes", s, "string") end
function M.decimal(s) return tagged("decimal", tostring(s)) end
function M.json(s) return tagged("json", s, "string") end
function M.time(t)
  if type(t) ~= "table" then error("mywire.time: a table expected", 2) end
  return tagged("time", t)
end

local time_kinds = { date = C.MYWIRE_TIME_KIND_DATE, time = C.MYWIRE_TIME_KIND_TIME,
                     datetime = C.MYWIRE_TIME_KIND_DATETIME }

local function bind(sh, i, v)
  local t = type(v)
  if v == nil then return C.mywire_stmt_bind_null(sh, i) end
  if t == "number" then
    if v == math.floor(v) and v >= -TWO53 and v <= TWO53 then
      return C.mywire_stmt_bind_int64(sh, i, v)
    end
    return C.mywire_stmt_bind_double(sh, i, v)
  end
  if t == "string" then return C.mywire_stmt_bind_string(sh, i, v, #v) end
  if t == "boolean" then return C.mywire_stmt_bind_int8(sh, i, v and 1 or 0) end
  if t == "cdata" then
    if ffi.istype("uint64_t", v) then return C.mywire_stmt_bind_uint64(sh, i, v) end
    if ffi.istype("int64_t", v) then return C.mywire_stmt_bind_int64(sh, i, v) end
  end
  if getmetatable(v) == Tagged then
    local s = v.value
    if v.kind == "bytes" then return C.mywire_stmt_bind_bytes(sh, i, s, #s) end
    if v.kind == "decimal" then return C.mywire_stmt_bind_decimal(sh, i, s, #s) end
    if v.kind == "json" then return C.mywire_stmt_bind_json(sh, i, s, #s) end
    if v.kind == "time" then
      local kind = s.kind and time_kinds[s.kind]
      if not kind then
        kind = (s.year and s.hour) and time_kinds.datetime or s.year and time_kinds.date
               or time_kinds.time
      end
      local tv = ffi.new("mywire_time", {
        kind = kind, negative = s.negative and 1 or 0, year = s.year or 0,
        month = s.month or 0, day = s.day or 0, hour = s.hour or 0, minute = s.minute or 0,
        second = s.second or 0, microsecond = s.microsecond or 0 })
      return C.mywire_stmt_bind_time(sh, i, tv)
    end
  end
  return nil, "parameter " .. (i + 1) .. ": cannot bind a " .. t
end

-- ------------------------------------------------------------ connection

local function check_open(self)
  if self.b[0] == nil then error("mywire: the connection was closed", 3) end
end

function Connection:connect()
  check_open(self)
  local rc = C.mywire_connect(self.b[0])
  if rc ~= OK then return fail(self.b[0], rc) end
  return true
end

function Connection:close()
  local h = take(self)
  if h ~= nil then C.mywire_conn_free(h) end
end
function Connection:discard()
  local h = take(self)
  if h ~= nil then C.mywire_conn_discard(h) end
end

-- A result keeps a reference to its connection's wrapper (for the error
-- text), never to the raw handle: after conn:close() it sees an empty box.
local function wrap_result(conn, rh)
  return setmetatable({ b = box("mywire_result *[1]", rh, gc_result), conn = conn }, Result)
end

function Connection:query(sql, mode)
  check_open(self)
  if sql ~= nil and type(sql) ~= "string" then error("mywire: query expects a string", 2) end
  local out = ffi.new("mywire_result *[1]")
  local rc = C.mywire_query(self.b[0], sql, sql and #sql or 0, mode_of(mode), out)
  if rc ~= OK then return fail(self.b[0], rc) end
  return wrap_result(self, out[0])
end

function Connection:next_result(mode)
  check_open(self)
  local out = ffi.new("mywire_result *[1]")
  local rc = C.mywire_next_result(self.b[0], mode_of(mode), out)
  if rc == DONE then return false end
  if rc ~= OK then return fail(self.b[0], rc) end
  return wrap_result(self, out[0])
end

function Connection:more_results() return C.mywire_more_results(self.b[0]) == 1 end

function Connection:prepare(sql)
  check_open(self)
  if type(sql) ~= "string" then error("mywire: prepare expects a string", 2) end
  local out = ffi.new("mywire_stmt *[1]")
  local rc = C.mywire_stmt_new(self.b[0], out)
  if rc ~= OK then return fail(self.b[0], rc) end
  local st = setmetatable({ b = box("mywire_stmt *[1]", out[0], gc_stmt), conn = self },
                          Statement)
  rc = C.mywire_stmt_prepare(st.b[0], sql, #sql)
  if rc ~= OK then
    local a, b, c, d, e = fail(self.b[0], rc)
    st:close()
    return a, b, c, d, e
  end
  return st
end

function Connection:execute(sql, ...)
  local st, msg, code, errno, sqlstate = self:prepare(sql)
  if not st then return nil, msg, code, errno, sqlstate end
  local res
  res, msg, code, errno, sqlstate = st:execute(...)
  st:close()
  return res, msg, code, errno, sqlstate
end

local function simple(fn)
  return function(self, ...)
    check_open(self)
    local rc = fn(self.b[0], ...)
    if rc ~= OK then return fail(self.b[0], rc) end
    return true
  end
end
Connection.ping = simple(function(h) return C.mywire_ping(h) end)
Connection.select_db = simple(function(h, db) return C.mywire_select_db(h, db) end)
Connection.reset = simple(function(h) return C.mywire_reset_connection(h) end)
-- Stop the statement running on the server (KILL QUERY over a side
-- connection) while a non-blocking call is in progress; the side
-- connection's error is not recorded on the handle: the code's text.
function Connection:cancel()
  check_open(self)
  local rc = C.mywire_cancel(self.b[0])
  if rc ~= OK then return nil, M.errstr(rc), rc, 0, "HY000" end
  return true
end
Connection.abort = simple(function(h) return C.mywire_abort(h) end)

function Connection:set_nonblocking(on)
  check_open(self)
  local rc = C.mywire_set_nonblocking(self.b[0], on and 1 or 0)
  if rc ~= OK then return fail(self.b[0], rc) end
  return true
end

function Connection:wait(code, timeout_ms)
  check_open(self)
  if code ~= C.MYWIRE_WAIT_READ and code ~= C.MYWIRE_WAIT_WRITE then
    error("mywire: wait expects mywire.WAIT_READ or mywire.WAIT_WRITE", 2)
  end
  local p = ffi.new("struct mywire_luajit_pollfd[2]")
  p[0].fd = C.mywire_socket(self.b[0])
  if p[0].fd < 0 then return nil, "mywire: no call in progress on the connection" end
  p[0].events = code == C.MYWIRE_WAIT_WRITE and 4 or 1 -- POLLOUT / POLLIN
  p[1].fd = C.mywire_wake_fd(self.b[0])
  p[1].events = 1
  local n = p[1].fd >= 0 and 2 or 1
  local timeout = timeout_ms or tonumber(C.mywire_timeout_ms(self.b[0]))
  if timeout < 0 then timeout = -1 end
  if timeout > 2147483647 then timeout = 2147483647 end
  local rc
  repeat rc = ffi.C.poll(p, n, timeout) until rc >= 0 or ffi.errno() ~= 4 -- EINTR
  if rc < 0 then return nil, "poll failed: errno " .. ffi.errno() end
  return rc > 0
end

function Connection:escape(s)
  check_open(self)
  local buf = ffi.new("char[?]", 2 * #s + 1)
  local n = ffi.new("size_t[1]")
  local rc = C.mywire_escape_string(self.b[0], s, #s, buf, 2 * #s + 1, n)
  if rc ~= OK then return fail(self.b[0], rc) end
  return ffi.string(buf, n[0])
end

function Connection:errcode() return C.mywire_errcode(self.b[0]) end
function Connection:errno() return tonumber(C.mywire_errno(self.b[0])) end
function Connection:sqlstate() return str(C.mywire_sqlstate(self.b[0])) end
function Connection:errmsg() return str(C.mywire_errmsg(self.b[0])) end
function Connection:client_error() return C.mywire_client_error(self.b[0]) end
function Connection:is_connected() return C.mywire_is_connected(self.b[0]) == 1 end
function Connection:server_version() return str(C.mywire_server_version(self.b[0])) end
function Connection:connection_id() return int_value(C.mywire_connection_id(self.b[0])) end
function Connection:transport() return str(C.mywire_transport(self.b[0])) end
function Connection:socket() return C.mywire_socket(self.b[0]) end
function Connection:tls()
  return {
    active = C.mywire_tls_active(self.b[0]) == 1,
    verified = C.mywire_tls_verified(self.b[0]) == 1,
    version = str(C.mywire_tls_version(self.b[0])),
    cipher = str(C.mywire_tls_cipher(self.b[0])),
    failure = C.mywire_tls_failure(self.b[0]),
  }
end

-- ---------------------------------------------------------------- result

local int_types = {
  [C.MYWIRE_TYPE_TINY] = true, [C.MYWIRE_TYPE_SHORT] = true, [C.MYWIRE_TYPE_LONG] = true,
  [C.MYWIRE_TYPE_LONGLONG] = true, [C.MYWIRE_TYPE_INT24] = true, [C.MYWIRE_TYPE_YEAR] = true,
  [C.MYWIRE_TYPE_BIT] = true,
}
local float_types = { [C.MYWIRE_TYPE_FLOAT] = true, [C.MYWIRE_TYPE_DOUBLE] = true }

local i64 = ffi.new("int64_t[1]")
local u64b = ffi.new("uint64_t[1]")
local dbl = ffi.new("double[1]")

-- The column kinds of res, read once: 1 integer, 2 float, 3 string.
local function kinds_of(self)
  local k = self.kinds
  if k then return k end
  k = {}
  for i = 0, C.mywire_column_count(self.b[0]) - 1 do
    local col = C.mywire_column_at(self.b[0], i)
    local t = col ~= nil and col.type or C.MYWIRE_TYPE_STRING
    k[i + 1] = int_types[t] and 1 or float_types[t] and 2 or 3
  end
  self.kinds = k
  return k
end

function Result:fetch()
  local h = self.b[0]
  if h == nil then return fail(nil, C.MYWIRE_ERROR_STATE) end
  local rc = C.mywire_fetch(h)
  if rc == DONE then return false end
  if rc ~= ROW then return fail(self.conn.b[0], rc) end
  local kinds = kinds_of(self)
  local vals = C.mywire_row(h)
  local row = {}
  for i = 1, #kinds do
    local v = vals[i - 1]
    if v.data ~= nil then
      local k = kinds[i]
      if k == 1 and C.mywire_get_int64(h, i - 1, i64) == OK then
        row[i] = int_value(i64[0])
      elseif k == 1 and C.mywire_get_uint64(h, i - 1, u64b) == OK then
        row[i] = int_value(u64b[0])
      elseif k == 2 and C.mywire_get_double(h, i - 1, dbl) == OK then
        row[i] = dbl[0]
      else
        row[i] = ffi.string(v.data, v.len)
      end
    end
  end
  return row
end

function Result:rows()
  return function()
    local row, msg = self:fetch()
    if row == nil then error(msg, 2) end
    return row or nil
  end
end

function Result:fetch_all()
  local rows = {}
  while true do
    local row, msg, code, errno, sqlstate = self:fetch()
    if row == nil then return nil, msg, code, errno, sqlstate end
    if not row then return rows end
    rows[#rows + 1] = row
  end
end

function Result:close()
  local h = take(self)
  if h ~= nil then C.mywire_result_free(h) end
end

local function column_table(c)
  if c == nil then return nil end
  return {
    name = ffi.string(c.name, c.name_len), org_name = ffi.string(c.org_name, c.org_name_len),
    table = ffi.string(c.table, c.table_len), org_table = ffi.string(c.org_table, c.org_table_len),
    schema = ffi.string(c.schema, c.schema_len), type = c.type, flags = c.flags,
    charset = c.charset, decimals = c.decimals, length = c.length,
  }
end

function Result:columns()
  local out = {}
  for i = 0, C.mywire_column_count(self.b[0]) - 1 do
    out[i + 1] = column_table(C.mywire_column_at(self.b[0], i))
  end
  return out
end
function Result:column_count() return C.mywire_column_count(self.b[0]) end
function Result:affected_rows() return int_value(C.mywire_affected_rows(self.b[0])) end
function Result:insert_id() return int_value(C.mywire_insert_id(self.b[0])) end
function Result:warning_count() return C.mywire_warning_count(self.b[0]) end
function Result:info() return str(C.mywire_info(self.b[0])) end
function Result:row_count() return int_value(C.mywire_row_count(self.b[0])) end
function Result:is_binary() return C.mywire_result_is_binary(self.b[0]) == 1 end
function Result:seek(index)
  local rc = C.mywire_seek(self.b[0], index)
  if rc ~= OK then return nil, M.errstr(rc), rc, 0, "HY000" end
  return true
end

-- ------------------------------------------------------------- statement

local function execute(self, mode, ...)
  if self.b[0] == nil then return fail(nil, C.MYWIRE_ERROR_STATE) end
  local n = select("#", ...)
  local want = C.mywire_stmt_param_count(self.b[0])
  if n ~= want then
    return nil, ("%d parameters given, the statement has %d"):format(n, want),
           C.MYWIRE_ERROR_ARGUMENT, 0, "HY000"
  end
  for i = 1, n do
    local rc, msg = bind(self.b[0], i - 1, (select(i, ...)))
    if rc == nil then return nil, msg, C.MYWIRE_ERROR_ARGUMENT, 0, "HY000" end
    if rc ~= OK then
      return nil, ("parameter %d: %s"):format(i, M.errstr(rc)), rc, 0, "HY000"
    end
  end
  local out = ffi.new("mywire_result *[1]")
  local rc = C.mywire_stmt_execute(self.b[0], mode, out)
  if rc ~= OK then return fail(self.conn.b[0], rc) end
  return wrap_result(self.conn, out[0])
end

function Statement:execute(...) return execute(self, BUFFERED, ...) end
function Statement:stream(...) return execute(self, STREAMING, ...) end
function Statement:param_count() return C.mywire_stmt_param_count(self.b[0]) end
function Statement:column_count() return C.mywire_stmt_column_count(self.b[0]) end
function Statement:set_cursor(rows)
  local rc = C.mywire_stmt_set_cursor(self.b[0], rows)
  if rc ~= OK then return nil, M.errstr(rc), rc, 0, "HY000" end
  return true
end
function Statement:close()
  local h = take(self)
  if h ~= nil then C.mywire_stmt_free(h) end
end

return M
