-- mywire.lua - the Lua 5.4 module: a small object layer over the SWIG core
-- (mywire.core, generated from bindings/swig/mywire.i + lua.i).
--
--   local mywire = require "mywire"
--   local conn, err, code = mywire.connect{host = "db", user = "app", password = "pw",
--                                          database = "shop"}   -- or a mysql:// URI
--   if not conn then error(err) end
--   local res = assert(conn:query("SELECT id, name FROM t"))
--   for row in res:rows() do print(row[1], row[2]) end        -- row[i]: nil for NULL
--   local st = assert(conn:prepare("SELECT name FROM t WHERE id = ?"))
--   local r2 = assert(st:execute(42))
--   conn:close()
--
-- Errors: every call that can fail returns `nil, message, code, errno, sqlstate`
-- on failure (code: a mywire.ERROR_* number; errno and sqlstate the server's
-- for mywire.ERROR_SERVER, 0 and "HY000" for client errors); rows() raises a
-- Lua error with the same message instead, as a for loop cannot return one.
--
-- Values: integer columns (and YEAR, BIT) are Lua integers (an unsigned value
-- above math.maxinteger is its decimal string), FLOAT and DOUBLE are floats,
-- DECIMAL, strings, blobs (binary-safe), dates, times and JSON are strings in
-- the server's text form, SQL NULL is nil.
--
-- Parameters (statements): integer -> BIGINT, float -> DOUBLE, string ->
-- text in the connection's character set, boolean -> 1/0, nil -> NULL;
-- mywire.blob(s), mywire.decimal(s), mywire.json(s) and mywire.time{...}
-- choose another wire type.
--
-- Ownership: each object owns its handle. close() methods free at once (a
-- connection's sends COM_QUIT; a streaming result's reads its remaining
-- rows); the garbage collector's finalizers never block or touch the network
-- (a connection is closed without COM_QUIT; a streaming result not read to
-- its end closes its connection). Objects may be closed or collected in any
-- order: a result or statement used after its connection was closed gives an
-- error (mywire.ERROR_STATE), never a crash. All objects also close as
-- to-be-closed variables (`local conn <close> = ...`).

local core = require "mywire.core"

local M = { core = core }

-- Every constant of the header without its MYWIRE_ prefix: mywire.OK,
-- mywire.ERROR_SERVER, mywire.TYPE_LONG, mywire.SSL_MODE_VERIFY_IDENTITY, ...
for k, v in pairs(core) do
  if type(k) == "string" and type(v) == "number" and k:sub(1, 7) == "MYWIRE_" then
    M[k:sub(8)] = v
  end
end

M.version = core.mywire_version()
M.errstr = core.mywire_errstr
M.is_fatal = function(code) return core.mywire_is_fatal(code) == 1 end

local OK, ROW, DONE = core.MYWIRE_OK, core.MYWIRE_ROW, core.MYWIRE_DONE
local BUFFERED, STREAMING = core.MYWIRE_BUFFERED, core.MYWIRE_STREAMING

local Connection = {}
Connection.__index = Connection
Connection.__name = "mywire.Connection"
local Result = {}
Result.__index = Result
Result.__name = "mywire.Result"
local Statement = {}
Statement.__index = Statement
Statement.__name = "mywire.Statement"

-- The failure of the last call on connection handle h (which may be nil or
-- freed: then only the code's own text is known).
local function fail(h, code)
  local msg, errno, sqlstate = "", 0, "HY000"
  if h and not core.mywire_lua_is_freed(h) and core.mywire_errcode(h) == code then
    msg = core.mywire_errmsg(h)
    errno = core.mywire_errno(h)
    sqlstate = core.mywire_sqlstate(h)
  end
  if msg == "" then msg = core.mywire_errstr(code) end
  return nil, msg, code, errno, sqlstate
end

local function mode_of(mode)
  if mode == nil or mode == "buffered" or mode == BUFFERED then return BUFFERED end
  if mode == "stream" or mode == "streaming" or mode == STREAMING then return STREAMING end
  error("mywire: mode must be \"buffered\" or \"stream\"", 3)
end

-- ---------------------------------------------------------------- connect

-- Options: a table with the URI's keys (host, port, socket, user, password,
-- database, ssl_mode, ssl_ca, connect_timeout, compress, ...; values as
-- strings, numbers or booleans) and optionally uri = "mysql://..."; or a URI
-- string. The uri is applied first, then the other keys.
local function new_connection(opts)
  local rc, h = core.mywire_conn_new()
  if rc ~= OK then return fail(nil, rc) end
  if type(opts) == "string" then opts = { uri = opts } end
  if type(opts) ~= "table" then
    core.mywire_conn_free(h)
    error("mywire: connect expects a table of options or a URI string", 3)
  end
  if opts.uri ~= nil then
    rc = core.mywire_set_uri(h, tostring(opts.uri))
    if rc ~= OK then
      local r = table.pack(fail(h, rc))
      core.mywire_conn_free(h)
      return table.unpack(r, 1, r.n)
    end
  end
  for k, v in pairs(opts) do
    if k ~= "uri" and k ~= "nonblocking" then
      if type(k) ~= "string" then
        core.mywire_conn_free(h)
        error("mywire: option names are strings", 3)
      end
      if type(v) == "boolean" then v = v and "1" or "0" end
      rc = core.mywire_set_option(h, k, tostring(v))
      if rc ~= OK then
        local _, msg, code, errno, sqlstate = fail(h, rc)
        core.mywire_conn_free(h)
        return nil, "option " .. k .. ": " .. msg, code, errno, sqlstate
      end
    end
  end
  return setmetatable({ h = h }, Connection)
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
    core.mywire_conn_free(conn.h)
    return nil, msg, code, errno, sqlstate
  end
  return conn
end

-- A connection handle with options set but not connected yet (for the
-- non-blocking API: conn:set_nonblocking(true), then conn:connect() until it
-- stops returning a WAIT code).
function M.new(opts)
  return new_connection(opts or {})
end

-- ------------------------------------------------------------- parameters

local Tagged = {}
Tagged.__name = "mywire.Value"
local function tagged(kind, value, check)
  if check and type(value) ~= check then
    error("mywire." .. kind .. ": a " .. check .. " expected", 3)
  end
  return setmetatable({ kind = kind, value = value }, Tagged)
end
function M.blob(s) return tagged("bytes", s, "string") end
function M.decimal(s) return tagged("decimal", tostring(s)) end
function M.json(s) return tagged("json", s, "string") end
-- t: {year=, month=, day=} for a DATE, {hour=, minute=, second=,
-- microsecond=, negative=} for a TIME, all of them for a DATETIME (or kind =
-- "date" / "time" / "datetime" to say so).
function M.time(t)
  if type(t) ~= "table" then error("mywire.time: a table expected", 2) end
  return tagged("time", t)
end

local time_kinds = { date = core.MYWIRE_TIME_KIND_DATE, time = core.MYWIRE_TIME_KIND_TIME,
                     datetime = core.MYWIRE_TIME_KIND_DATETIME }

local function bind_time(sh, i, t)
  local v = core.mywire_time()
  local kind = t.kind and time_kinds[t.kind]
  if not kind then
    if t.year and t.hour then kind = time_kinds.datetime
    elseif t.year then kind = time_kinds.date
    else kind = time_kinds.time end
  end
  v.kind = kind
  v.negative = t.negative and 1 or 0
  v.year, v.month, v.day = t.year or 0, t.month or 0, t.day or 0
  v.hour, v.minute, v.second = t.hour or 0, t.minute or 0, t.second or 0
  v.microsecond = t.microsecond or 0
  return core.mywire_stmt_bind_time(sh, i, v)
end

local function bind(sh, i, v)
  local t = type(v)
  if v == nil then return core.mywire_stmt_bind_null(sh, i) end
  if t == "number" then
    if math.type(v) == "integer" then return core.mywire_stmt_bind_int64(sh, i, v) end
    return core.mywire_stmt_bind_double(sh, i, v)
  end
  if t == "string" then return core.mywire_stmt_bind_string(sh, i, v) end
  if t == "boolean" then return core.mywire_stmt_bind_int8(sh, i, v and 1 or 0) end
  if getmetatable(v) == Tagged then
    if v.kind == "bytes" then return core.mywire_stmt_bind_bytes(sh, i, v.value) end
    if v.kind == "decimal" then return core.mywire_stmt_bind_decimal(sh, i, v.value) end
    if v.kind == "json" then return core.mywire_stmt_bind_json(sh, i, v.value) end
    if v.kind == "time" then return bind_time(sh, i, v.value) end
  end
  return nil, "parameter " .. (i + 1) .. ": cannot bind a " .. t
end

-- ------------------------------------------------------------ connection

local function check_open(self)
  if self.h == nil then error("mywire: the connection was closed", 3) end
end

function Connection:connect()
  check_open(self)
  local rc = core.mywire_connect(self.h)
  if rc ~= OK then return fail(self.h, rc) end
  return true
end

-- Send COM_QUIT, close and free (blocking). Idempotent. Results and
-- statements stay valid objects.
function Connection:close()
  if self.h then
    local h = self.h
    self.h = nil
    core.mywire_conn_free(h)
  end
end
-- Free without COM_QUIT and without blocking.
function Connection:discard()
  if self.h then
    local h = self.h
    self.h = nil
    core.mywire_conn_discard(h)
  end
end
Connection.__close = Connection.close

local function wrap_result(owner_h, rh)
  return setmetatable({ h = rh, conn_h = owner_h }, Result)
end

-- mode: "buffered" (default) or "stream". A result for every success: rows
-- (column_count() > 0) or an OK (affected_rows(), insert_id(), ...). On a
-- non-blocking connection a WAIT code comes back as an error: call
-- conn:query() again (with no arguments) once conn:wait(code) says so.
function Connection:query(sql, mode)
  check_open(self)
  if sql ~= nil and type(sql) ~= "string" then
    error("mywire: query expects a string", 2)
  end
  local rc, rh = core.mywire_query(self.h, sql, mode_of(mode))
  if rc ~= OK then return fail(self.h, rc) end
  return wrap_result(self.h, rh)
end

-- The next result of a multi-result query (or CALL): a Result, false when
-- there are no more, or nil, message, code...
function Connection:next_result(mode)
  check_open(self)
  local rc, rh = core.mywire_next_result(self.h, mode_of(mode))
  if rc == DONE then return false end
  if rc ~= OK then return fail(self.h, rc) end
  return wrap_result(self.h, rh)
end

function Connection:more_results() return core.mywire_more_results(self.h) == 1 end

function Connection:prepare(sql)
  check_open(self)
  if type(sql) ~= "string" then error("mywire: prepare expects a string", 2) end
  local rc, sh = core.mywire_stmt_new(self.h)
  if rc ~= OK then return fail(self.h, rc) end
  rc = core.mywire_stmt_prepare(sh, sql)
  if rc ~= OK then
    local r = table.pack(fail(self.h, rc))
    core.mywire_stmt_free(sh)
    return table.unpack(r, 1, r.n)
  end
  return setmetatable({ h = sh, conn_h = self.h }, Statement)
end

-- Prepare, execute once with the parameters (buffered) and close the statement.
function Connection:execute(sql, ...)
  local st, msg, code, errno, sqlstate = self:prepare(sql)
  if not st then return nil, msg, code, errno, sqlstate end
  local r = table.pack(st:execute(...))
  st:close()
  return table.unpack(r, 1, r.n)
end

local function simple(name)
  return function(self, ...)
    check_open(self)
    local rc = core[name](self.h, ...)
    if rc ~= OK then return fail(self.h, rc) end
    return true
  end
end
Connection.ping = simple("mywire_ping")
Connection.select_db = simple("mywire_select_db")
Connection.reset = simple("mywire_reset_connection")
-- Stop the statement running on the server (KILL QUERY over a side
-- connection): for a non-blocking call in progress, whose next continuation
-- then gives mywire.ERROR_CANCELLED.
-- (The side connection's error is not recorded on the handle: the code's text.)
function Connection:cancel()
  check_open(self)
  local rc = core.mywire_cancel(self.h)
  if rc ~= OK then return nil, core.mywire_errstr(rc), rc, 0, "HY000" end
  return true
end
Connection.abort = simple("mywire_abort")

function Connection:set_nonblocking(on)
  check_open(self)
  local rc = core.mywire_set_nonblocking(self.h, on and 1 or 0)
  if rc ~= OK then return fail(self.h, rc) end
  return true
end

-- Wait until the connection's socket is ready for code (mywire.WAIT_READ /
-- WAIT_WRITE, as a non-blocking call returned it); true when ready, false
-- on timeout (default: the call's own deadline).
function Connection:wait(code, timeout_ms)
  check_open(self)
  return core.mywire_lua_wait(self.h, code, timeout_ms)
end

function Connection:escape(s)
  check_open(self)
  local rc, out = core.mywire_escape_string(self.h, s)
  if rc ~= OK then return fail(self.h, rc) end
  return out
end

function Connection:statistics()
  check_open(self)
  local rc, text = core.mywire_statistics(self.h)
  if rc ~= OK then return fail(self.h, rc) end
  return text
end

function Connection:errcode() return core.mywire_errcode(self.h) end
function Connection:errno() return core.mywire_errno(self.h) end
function Connection:sqlstate() return core.mywire_sqlstate(self.h) end
function Connection:errmsg() return core.mywire_errmsg(self.h) end
function Connection:client_error() return core.mywire_client_error(self.h) end
function Connection:is_connected() return core.mywire_is_connected(self.h) == 1 end
function Connection:server_version() return core.mywire_server_version(self.h) end
function Connection:connection_id() return core.mywire_connection_id(self.h) end
function Connection:transport() return core.mywire_transport(self.h) end
function Connection:socket() return core.mywire_socket(self.h) end
function Connection:server_status() return core.mywire_server_status(self.h) end
function Connection:tls()
  return {
    active = core.mywire_tls_active(self.h) == 1,
    verified = core.mywire_tls_verified(self.h) == 1,
    version = core.mywire_tls_version(self.h),
    cipher = core.mywire_tls_cipher(self.h),
    failure = core.mywire_tls_failure(self.h),
  }
end
function Connection:__tostring()
  if not self.h then return "mywire.Connection (closed)" end
  return "mywire.Connection (" .. core.mywire_transport(self.h) .. ", id " ..
         tostring(core.mywire_connection_id(self.h)) .. ")"
end

-- ---------------------------------------------------------------- result

-- The next row as a table (row[i], nil for SQL NULL), false after the last
-- row, or nil, message, code... (a streaming result whose connection was
-- closed gives mywire.ERROR_STATE).
function Result:fetch()
  if not self.h then return fail(nil, core.MYWIRE_ERROR_STATE) end
  local rc, row = core.mywire_lua_fetch(self.h)
  if rc == ROW then return row end
  if rc == DONE then return false end
  return fail(self.conn_h, rc)
end

-- for row in res:rows() do ... end; raises an error on failure.
function Result:rows()
  return function()
    local row, msg = self:fetch()
    if row == nil then error(msg, 2) end
    return row or nil
  end
end

-- Every remaining row, in a table (buffered results: all of them).
function Result:fetch_all()
  local rows = {}
  while true do
    local row, msg, code, errno, sqlstate = self:fetch()
    if row == nil then return nil, msg, code, errno, sqlstate end
    if not row then return rows end
    rows[#rows + 1] = row
  end
end

-- Free now (blocking: a streaming result's unread rows are read and dropped).
function Result:close()
  if self.h then
    local h = self.h
    self.h = nil
    core.mywire_result_free(h)
  end
end
Result.__close = Result.close

function Result:columns() return core.mywire_lua_columns(self.h) end
function Result:column_count() return core.mywire_column_count(self.h) end
function Result:affected_rows() return core.mywire_affected_rows(self.h) end
function Result:insert_id() return core.mywire_insert_id(self.h) end
function Result:warning_count() return core.mywire_warning_count(self.h) end
function Result:info() return core.mywire_info(self.h) end
function Result:row_count() return core.mywire_row_count(self.h) end
function Result:is_binary() return core.mywire_result_is_binary(self.h) == 1 end
-- Buffered results: go back to row index (0-based).
function Result:seek(index)
  local rc = core.mywire_seek(self.h, index)
  if rc ~= OK then return nil, core.mywire_errstr(rc), rc, 0, "HY000" end
  return true
end

-- ------------------------------------------------------------- statement

local function execute(self, mode, ...)
  if not self.h then return fail(nil, core.MYWIRE_ERROR_STATE) end
  local n = select("#", ...)
  local want = core.mywire_stmt_param_count(self.h)
  if n ~= want then
    return nil, ("%d parameters given, the statement has %d"):format(n, want),
           core.MYWIRE_ERROR_ARGUMENT, 0, "HY000"
  end
  for i = 1, n do
    local rc, msg = bind(self.h, i - 1, (select(i, ...)))
    if rc == nil then return nil, msg, core.MYWIRE_ERROR_ARGUMENT, 0, "HY000" end
    if rc ~= OK then
      return nil, ("parameter %d: %s"):format(i, core.mywire_errstr(rc)), rc, 0, "HY000"
    end
  end
  local rc, rh = core.mywire_stmt_execute(self.h, mode)
  if rc ~= OK then return fail(self.conn_h, rc) end
  return wrap_result(self.conn_h, rh)
end

-- Execute with the parameters, one per '?', in order; a buffered Result.
function Statement:execute(...) return execute(self, BUFFERED, ...) end
-- The same, streaming.
function Statement:stream(...) return execute(self, STREAMING, ...) end
function Statement:param_count() return core.mywire_stmt_param_count(self.h) end
function Statement:column_count() return core.mywire_stmt_column_count(self.h) end
-- Rows per COM_STMT_FETCH (a server-side cursor) for the next executions.
function Statement:set_cursor(rows)
  local rc = core.mywire_stmt_set_cursor(self.h, rows)
  if rc ~= OK then return nil, core.mywire_errstr(rc), rc, 0, "HY000" end
  return true
end
-- Never blocks (COM_STMT_CLOSE goes out before the connection's next command).
function Statement:close()
  if self.h then
    local h = self.h
    self.h = nil
    core.mywire_stmt_free(h)
  end
end
Statement.__close = Statement.close

return M
