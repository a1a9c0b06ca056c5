-- The Lua bindings against the real MariaDB: the same cases for the Lua 5.4
-- module (SWIG, bindings/lua) and the LuaJIT FFI module (bindings/luajit),
-- whichever `require "mywire"` finds (meson sets LUA_PATH / LUA_CPATH /
-- MYWIRE_LIB). The server comes from the MYWIRE_TEST_* variables of
-- tests/server/mariadb.sh, as for the integration tests.
--
--   lua5.4 tests/bindings/test_lua.lua [case ...]
--   luajit tests/bindings/test_lua.lua [case ...]

local mywire = require "mywire"
local IS_JIT = rawget(_G, "jit") ~= nil
local unpack = table.unpack or unpack
local FLAVOUR = IS_JIT and "luajit" or "lua5.4"

local function env(name)
  local v = os.getenv(name)
  if not v or v == "" then
    io.stderr:write(name .. " is not set: start tests/server/mariadb.sh and source its env\n")
    os.exit(1)
  end
  return v
end

local E = {
  host = env("MYWIRE_TEST_HOST"), port = env("MYWIRE_TEST_PORT"),
  socket = env("MYWIRE_TEST_SOCKET"), user = env("MYWIRE_TEST_USER"),
  password = env("MYWIRE_TEST_PASSWORD"), db = env("MYWIRE_TEST_DB"),
  certs = env("MYWIRE_TEST_CERTS"),
}

-- ------------------------------------------------------------ the harness

local cases, order = {}, {}
local function case(name, fn)
  cases[name] = fn
  order[#order + 1] = name
end

local function fmt(v)
  if type(v) == "string" then return string.format("%q", #v > 80 and v:sub(1, 80) .. "..." or v) end
  return tostring(v)
end
local function eq(got, want, what)
  if got ~= want then
    error(("%s: got %s (%s), want %s (%s)"):format(what or "value", fmt(got), type(got),
                                                   fmt(want), type(want)), 2)
  end
end
local function check(cond, what) if not cond then error(what or "check failed", 2) end end
-- a & b in either flavour (LuaJIT has no bitwise operators, only `bit`)
local band = IS_JIT and bit.band or load("return function(a, b) return a & b end")()

-- An integer that may be beyond 2^53 (LuaJIT: int64/uint64 cdata) or beyond
-- math.maxinteger (a string in Lua 5.4), compared by its decimal text.
local function int_text(v)
  if type(v) == "cdata" then return (tostring(v):gsub("U?LL$", "")) end
  if type(v) == "number" then
    if IS_JIT then return string.format("%.0f", v) end
    check(math.type(v) == "integer", "an integer expected, got the float " .. tostring(v))
    return tostring(v)
  end
  return v
end
local function eq_int(got, want, what)
  if int_text(got) ~= want then
    error(("%s: got %s (%s), want %s"):format(what or "integer", fmt(got), type(got), want), 2)
  end
end

-- An int64 parameter for either flavour, from its decimal text.
local function int64(text)
  if IS_JIT then return loadstring("return " .. text .. "LL")() end
  return math.tointeger(tonumber(text))
end

local function opts(extra)
  local o = { host = E.host, port = E.port, user = E.user, password = E.password,
              database = E.db }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function connect(extra)
  local conn, msg, code = mywire.connect(opts(extra))
  if not conn then error(("connect: %s (code %s)"):format(tostring(msg), tostring(code)), 2) end
  return conn
end

local function must(v, msg, code, errno, sqlstate)
  if v == nil then
    error(("%s (code %s, errno %s, sqlstate %s)"):format(tostring(msg), tostring(code),
                                                         tostring(errno), tostring(sqlstate)), 2)
  end
  return v
end

local function one(conn, sql)
  local res = must(conn:query(sql))
  local row = must(res:fetch())
  res:close()
  return row
end

local function proc_status_kb(field)
  local f = io.open("/proc/self/status", "r")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match(field .. ":%s*(%d+)"))
end
local function vmhwm_kb() return proc_status_kb("VmHWM") end
local function vmrss_kb() return proc_status_kb("VmRSS") end

-- ----------------------------------------------------------------- cases

case("connect_tcp", function()
  local conn = connect()
  eq(conn:transport(), "tcp", "transport")
  check(conn:is_connected(), "connected")
  check(conn:server_version():find("MariaDB") ~= nil, "a MariaDB version")
  eq_int(one(conn, "SELECT 1 + 1")[1], "2", "SELECT 1 + 1")
  check(conn:ping(), "ping")
  conn:close()
  check(not conn:is_connected(), "not connected after close")
  conn:close() -- idempotent
end)

case("connect_unix_socket", function()
  local conn = must(mywire.connect{ socket = E.socket, user = E.user, password = E.password,
                                    database = E.db })
  eq(conn:transport(), "unix", "transport")
  eq(one(conn, "SELECT DATABASE()")[1], E.db, "database")
  conn:close()
end)

case("connect_uri", function()
  local uri = ("mysql://%s:%s@%s:%s/%s"):format(E.user, E.password, E.host, E.port, E.db)
  local conn = must(mywire.connect(uri))
  eq(one(conn, "SELECT DATABASE()")[1], E.db, "database")
  conn:close()
  local bad, msg, code = mywire.connect("mysql://x@h/?no_such_key=1")
  eq(bad, nil, "a bad URI")
  eq(code, mywire.ERROR_URI, "code")
  check(type(msg) == "string" and #msg > 0, "a message")
end)

case("tls_verify_identity", function()
  -- server.pem: SAN DNS:localhost and IP:127.0.0.1, from ca.pem.
  for _, host in ipairs({ "127.0.0.1", "localhost" }) do
    local conn = connect{ host = host, ssl_mode = "verify_identity",
                          ssl_ca = E.certs .. "/ca.pem" }
    local tls = conn:tls()
    check(tls.active, "TLS active over " .. host)
    check(tls.verified, "certificate verified over " .. host)
    check(tls.version:match("^TLSv1%.[23]$") ~= nil, "TLS version " .. tls.version)
    local row = one(conn, "SHOW SESSION STATUS LIKE 'Ssl_version'")
    eq(row[2], tls.version, "the server's view of the TLS version")
    conn:close()
  end
  -- A CA that did not sign the server's certificate: refused, with the reason.
  local conn, msg, code = mywire.connect(opts{ ssl_mode = "verify_identity",
                                               ssl_ca = E.certs .. "/wrongca.pem" })
  eq(conn, nil, "connect with the wrong CA")
  eq(code, mywire.ERROR_TLS, "code")
  check(#msg > 0, "a message")
end)

case("server_error", function()
  local conn = connect()
  local res, msg, code, errno, sqlstate = conn:query("SELECT * FROM no_such_table_lua")
  eq(res, nil, "result")
  eq(code, mywire.ERROR_SERVER, "code")
  eq(errno, 1146, "errno")
  eq(sqlstate, "42S02", "sqlstate")
  check(msg:find("no_such_table_lua", 1, true) ~= nil, "message names the table: " .. msg)
  eq(conn:errno(), 1146, "conn:errno()")
  eq(conn:sqlstate(), "42S02", "conn:sqlstate()")
  -- a server error leaves the connection usable
  check(conn:ping(), "ping after a server error")
  -- a syntax error from prepare
  local st
  st, msg, code, errno, sqlstate = conn:prepare("SELEC 1")
  eq(st, nil, "statement")
  eq(code, mywire.ERROR_SERVER, "prepare code")
  eq(errno, 1064, "prepare errno")
  eq(sqlstate, "42000", "prepare sqlstate")
  -- a duplicate key from a prepared INSERT
  must(conn:query("CREATE TEMPORARY TABLE dup (id INT PRIMARY KEY)"))
  must(conn:execute("INSERT INTO dup VALUES (?)", 1))
  res, msg, code, errno, sqlstate = conn:execute("INSERT INTO dup VALUES (?)", 1)
  eq(res, nil, "duplicate insert")
  eq(errno, 1062, "duplicate errno")
  eq(sqlstate, "23000", "duplicate sqlstate")
  conn:close()
  -- a refused login
  local bad
  bad, msg, code, errno, sqlstate = mywire.connect(opts{ password = "wrong-password" })
  eq(bad, nil, "login with a wrong password")
  eq(code, mywire.ERROR_SERVER, "login code")
  eq(errno, 1045, "login errno")
  eq(sqlstate, "28000", "login sqlstate")
  -- a client error: errno 0, HY000
  bad, msg, code, errno, sqlstate = mywire.connect(opts{ port = 1 })
  eq(bad, nil, "connect to a closed port")
  eq(code, mywire.ERROR_CONNECT, "closed port code")
  eq(errno, 0, "client error errno")
  eq(sqlstate, "HY000", "client error sqlstate")
end)

local ALL_BYTES = {}
for i = 0, 255 do ALL_BYTES[#ALL_BYTES + 1] = string.char(i) end
ALL_BYTES = table.concat(ALL_BYTES)

local TYPES_DDL = [[
CREATE TEMPORARY TABLE lua_types (
  id INT PRIMARY KEY, ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT,
  ubi BIGINT UNSIGNED, f FLOAT, d DOUBLE, de DECIMAL(20,6), dt DATE, tm TIME(6),
  dtm DATETIME(6), ts TIMESTAMP(3) NULL, y YEAR, b BIT(64), c CHAR(5), vc VARCHAR(100),
  tx TEXT, bl BLOB, js JSON, e ENUM('a','b'), st SET('x','y'))]]
local COLUMNS = { "id", "ti", "si", "mi", "i", "bi", "ubi", "f", "d", "de", "dt", "tm", "dtm",
                  "ts", "y", "b", "c", "vc", "tx", "bl", "js", "e", "st" }

-- {column, parameter, expected: {kind, value}} kinds: int (decimal text),
-- num (a float), str (exact bytes)
local function type_rows()
  local ubi = IS_JIT and loadstring("return 18446744073709551615ULL")()
                      or mywire.decimal("18446744073709551615")
  return {
    { 1, { "int", "1" } },
    { -128, { "int", "-128" } },
    { -32768, { "int", "-32768" } },
    { -8388608, { "int", "-8388608" } },
    { -2147483648, { "int", "-2147483648" } },
    { int64("-9223372036854775807"), { "int", "-9223372036854775807" } },
    { ubi, { "int", "18446744073709551615" } },
    { 1.5, { "num", 1.5 } },
    { 2.25e300, { "num", 2.25e300 } },
    { mywire.decimal("-12345678901234.123456"), { "str", "-12345678901234.123456" } },
    { mywire.time{ year = 2024, month = 2, day = 29 }, { "str", "2024-02-29" } },
    { mywire.time{ kind = "time", negative = true, hour = 838, minute = 59, second = 58,
                   microsecond = 999999 }, { "str", "-838:59:58.999999" } },
    { mywire.time{ year = 1999, month = 12, day = 31, hour = 23, minute = 59, second = 59,
                   microsecond = 123456 }, { "str", "1999-12-31 23:59:59.123456" } },
    { "2020-01-02 03:04:05.678", { "str", "2020-01-02 03:04:05.678" } },
    { 2155, { "int", "2155" } },
    { int64("72623859790382856"), { "int", "72623859790382856" } }, -- 0x0102030405060708
    { "abc", { "str", "abc" } },
    { "h\195\169llo \226\156\147", { "str", "h\195\169llo \226\156\147" } },
    { "a\0b\0c", { "str", "a\0b\0c" } },
    { mywire.blob(ALL_BYTES), { "str", ALL_BYTES } },
    { mywire.json('{"k": [1, 2]}'), { "str", '{"k": [1, 2]}' } },
    { "b", { "str", "b" } },
    { "x,y", { "str", "x,y" } },
  }
end

local function check_row(row, spec, how)
  for i, s in ipairs(spec) do
    local kind, want = s[2][1], s[2][2]
    local what = how .. " " .. COLUMNS[i]
    if kind == "int" then eq_int(row[i], want, what)
    elseif kind == "num" then eq(row[i], want, what)
    else eq(row[i], want, what) end
  end
end

case("value_types_round_trip", function()
  local conn = connect()
  must(conn:query(TYPES_DDL))
  local spec = type_rows()
  local params = {}
  for i, s in ipairs(spec) do params[i] = s[1] end
  local marks = ("?,"):rep(#spec):sub(1, -2)
  local ins = must(conn:prepare("INSERT INTO lua_types VALUES (" .. marks .. ")"))
  local n = #params
  local r = must(ins:execute(unpack(params, 1, n)))
  eq_int(r:affected_rows(), "1", "affected rows")
  -- and a row of NULLs (nil parameters)
  r = must(ins:execute(2, unpack({}, 1, #COLUMNS - 1)))
  ins:close()
  local sel = "SELECT " .. table.concat(COLUMNS, ", ") .. " FROM lua_types WHERE id = "
  -- text protocol
  local row = must(must(conn:query(sel .. "1")):fetch())
  check_row(row, spec, "text")
  -- binary protocol (prepared), buffered and streaming
  local st = must(conn:prepare(sel .. "?"))
  row = must(must(st:execute(1)):fetch())
  check_row(row, spec, "binary")
  local res = must(st:stream(1))
  check(res:is_binary(), "a binary result")
  row = must(res:fetch())
  check_row(row, spec, "binary streaming")
  eq(must(res:fetch()), false, "one row")
  -- integers are integers
  if not IS_JIT then
    eq(math.type(row[2]), "integer", "TINYINT's Lua type")
    eq(math.type(row[8]), "float", "FLOAT's Lua type")
  end
  -- NULLs
  for _, how in ipairs({ "text", "binary" }) do
    local nrow = how == "text" and must(must(conn:query(sel .. "2")):fetch())
                                 or must(must(st:execute(2)):fetch())
    eq(nrow[1], 2, how .. " id")
    for i = 2, #COLUMNS do eq(nrow[i], nil, how .. " NULL " .. COLUMNS[i]) end
  end
  -- column metadata
  local cols = must(conn:query(sel .. "1")):columns()
  eq(#cols, #COLUMNS, "column count")
  eq(cols[2].name, "ti", "column name")
  eq(cols[2].type, mywire.TYPE_TINY, "column type")
  check(band(cols[7].flags, mywire.FLAG_UNSIGNED) ~= 0, "UNSIGNED flag")
  st:close()
  conn:close()
end)

case("prepared_statements", function()
  local conn = connect()
  must(conn:query("CREATE TEMPORARY TABLE ps (id INT PRIMARY KEY, name VARCHAR(20), v DOUBLE)"))
  local ins = must(conn:prepare("INSERT INTO ps VALUES (?, ?, ?)"))
  eq(ins:param_count(), 3, "param count")
  for i = 1, 50 do must(ins:execute(i, "name" .. i, i / 4)) end
  -- wrong number of parameters: a clear error, nothing sent
  local r, msg, code = ins:execute(1, 2)
  eq(r, nil, "too few parameters")
  eq(code, mywire.ERROR_ARGUMENT, "code")
  check(msg:find("3") ~= nil, msg)
  -- a value that cannot be bound
  r, msg, code = ins:execute(99, {}, 1)
  eq(r, nil, "a table parameter")
  eq(code, mywire.ERROR_ARGUMENT, "table parameter code")
  -- NaN is refused by the library
  r, msg, code = ins:execute(98, "nan", 0 / 0)
  eq(r, nil, "NaN")
  eq(code, mywire.ERROR_ARGUMENT, "NaN code")
  ins:close()
  local sel = must(conn:prepare("SELECT id, name, v FROM ps WHERE id BETWEEN ? AND ? ORDER BY id"))
  local rows = must(must(sel:execute(10, 14)):fetch_all())
  eq(#rows, 5, "rows 10..14")
  eq(rows[1][1], 10, "first id")
  eq(rows[1][2], "name10", "first name")
  eq(rows[1][3], 2.5, "first v")
  -- the same statement again, streaming, through a cursor of 7 rows a fetch
  must(sel:set_cursor(7))
  local n = 0
  for row in must(sel:stream(1, 50)):rows() do
    n = n + 1
    eq(row[1], n, "cursor row id")
  end
  eq(n, 50, "cursor rows")
  -- a parameter of each Lua type in one statement
  local t = must(must(conn:execute("SELECT ?, ?, ?, ?, ?", 7, 0.5, "s", true, nil)):fetch())
  eq_int(t[1], "7", "integer parameter")
  eq(t[2], 0.5, "float parameter")
  eq(t[3], "s", "string parameter")
  eq_int(t[4], "1", "boolean parameter")
  eq(t[5], nil, "nil parameter")
  -- a string with quotes and backslashes is a value, never SQL
  local evil = "x' OR '1'='1\\"
  t = must(must(conn:execute("SELECT COUNT(*) FROM ps WHERE name = ?", evil)):fetch())
  eq_int(t[1], "0", "injection attempt matches nothing")
  sel:close()
  conn:close()
end)

case("multi_results", function()
  local conn = connect{ multi_statements = true }
  local r1 = must(conn:query("SELECT 1; SELECT 2, 3"))
  eq_int(must(r1:fetch())[1], "1", "first result")
  check(conn:more_results(), "more results")
  local r2 = must(conn:next_result())
  eq_int(must(r2:fetch())[2], "3", "second result")
  eq(conn:next_result(), false, "no third result")
  eq(must(conn:escape("a'b")), "a\\'b", "escape")
  conn:close()
end)

case("stream_1m_rows_constant_memory", function()
  local conn = connect()
  local N = 1000000
  -- warm up: the first rows and the allocator's first arenas
  local warm = must(conn:query("SELECT seq, CONCAT('row-', seq), seq * 0.5 FROM seq_1_to_1000",
                               "stream"))
  for _ in warm:rows() do end
  collectgarbage("collect")
  local hwm0 = vmhwm_kb()
  local rss0 = vmrss_kb()
  local rss_max = rss0
  local heap0 = collectgarbage("count")
  local heap_max = heap0
  local res = must(conn:query(("SELECT seq, CONCAT('row-', seq), seq * 0.5 FROM seq_1_to_%d")
                              :format(N), "stream"))
  local n, sum, t0 = 0, 0, os.clock()
  while true do
    local row = must(res:fetch())
    if not row then break end
    n = n + 1
    sum = sum + row[1]
    if n % 50000 == 0 then
      eq(row[2], "row-" .. n, "value of row " .. n)
      local heap = collectgarbage("count")
      if heap > heap_max then heap_max = heap end
      local rss = vmrss_kb()
      if rss and rss > rss_max then rss_max = rss end
    end
  end
  local secs = os.clock() - t0
  local hwm1 = vmhwm_kb()
  eq(n, N, "rows")
  eq(sum, N * (N + 1) / 2, "sum of seq")
  eq_int(res:row_count(), tostring(N), "row_count")
  res:close()
  local grew_kb = hwm1 and hwm0 and (hwm1 - hwm0) or 0
  print(("# %s: %d rows streamed in %.2f s CPU; Lua heap %.0f KiB -> max %.0f KiB; " ..
         "VmRSS %s -> max %s KiB; VmHWM %s -> %s KiB"):format(FLAVOUR, N, secs, heap0,
         heap_max, tostring(rss0), tostring(rss_max), tostring(hwm0), tostring(hwm1)))
  -- The rows are never held: a buffered read of them would take over 40 MB.
  check(heap_max - heap0 < 16 * 1024, ("Lua heap grew by %.0f KiB"):format(heap_max - heap0))
  check(grew_kb < 16 * 1024, ("VmHWM grew by %d KiB"):format(grew_kb))
  if rss0 then
    check(rss_max - rss0 < 16 * 1024, ("VmRSS grew by %d KiB"):format(rss_max - rss0))
  end
  conn:close()
end)

-- The non-blocking API from Lua: connect, query and a streaming read driven
-- by conn:wait() (poll on mywire_socket()) and calling the same method again.
case("nonblocking_connect_query", function()
  local conn = must(mywire.connect(opts{ nonblocking = true }))
  local waits = 0
  local function again(code, msg)
    check(code == mywire.WAIT_READ or code == mywire.WAIT_WRITE,
          ("a WAIT code expected, got %s: %s"):format(tostring(code), tostring(msg)))
    check(conn:wait(code, 10000), "the socket became ready")
    waits = waits + 1
  end
  local ok, msg, code = conn:connect()
  while not ok do
    again(code, msg)
    ok, msg, code = conn:connect()
  end
  check(conn:is_connected(), "connected")
  local res
  res, msg, code = conn:query("SELECT seq, REPEAT('y', 50) FROM seq_1_to_100000", "stream")
  while not res do
    again(code, msg)
    res, msg, code = conn:query()
  end
  local n = 0
  while true do
    local row
    row, msg, code = res:fetch()
    if row == nil then
      again(code, msg)
    elseif row == false then
      break
    else
      n = n + 1
      eq(row[1], n, "row order")
    end
  end
  eq(n, 100000, "rows")
  check(waits > 0, "the calls waited at least once")
  conn:close()
end)

-- Cancel. Lua runs one thread, so the blocking call that mywire_cancel()
-- interrupts elsewhere cannot be running while Lua calls cancel; the
-- non-blocking API can: start SELECT SLEEP(30), cancel while it is in
-- progress, and continue the query, which then ends with ERROR_CANCELLED
-- within the time of a KILL, and the connection stays usable.
case("cancel_nonblocking", function()
  local conn = connect()
  must(conn:set_nonblocking(true))
  local t0 = os.time()
  local res, msg, code = conn:query("SELECT SLEEP(30)")
  eq(res, nil, "the query is in progress")
  check(code == mywire.WAIT_READ or code == mywire.WAIT_WRITE, "a WAIT code, got " .. tostring(code))
  -- let the server start the statement
  for _ = 1, 5 do
    if code ~= mywire.WAIT_READ then break end
    local ready = conn:wait(code, 100)
    if ready then
      res, msg, code = conn:query()
    end
  end
  eq(res, nil, "still running")
  must(conn:cancel())
  local errno
  repeat
    check(conn:wait(code, 10000), "the cancelled query answers")
    res, msg, code, errno = conn:query()
  until code ~= mywire.WAIT_READ and code ~= mywire.WAIT_WRITE
  eq(res, nil, "the cancelled query's result")
  check(code == mywire.ERROR_CANCELLED or (code == mywire.ERROR_SERVER and errno == 1317),
        ("cancelled: code %s errno %s: %s"):format(tostring(code), tostring(errno), tostring(msg)))
  check(os.time() - t0 < 20, "cancelled well before the 30 s sleep ended")
  check(conn:is_connected(), "the connection survives a cancel")
  must(conn:set_nonblocking(false))
  eq_int(one(conn, "SELECT 42")[1], "42", "a query after the cancel")
  -- cancel with nothing running: nothing happens
  must(conn:cancel())
  eq_int(one(conn, "SELECT 43")[1], "43", "a query after an idle cancel")
  conn:close()
end)

case("close_wrong_order", function()
  local conn = connect()
  local buffered = must(conn:query("SELECT seq FROM seq_1_to_10"))
  local streaming = must(conn:query("SELECT seq FROM seq_1_to_100000", "stream"))
  eq_int(must(streaming:fetch())[1], "1", "first streamed row")
  local conn2 = connect()
  local st = must(conn2:prepare("SELECT ?"))
  -- the connection first, its result and statement after
  conn:close()
  local row, msg, code = streaming:fetch()
  eq(row, nil, "a streaming result after its connection closed")
  eq(code, mywire.ERROR_STATE, "code")
  check(#msg > 0, "a message")
  eq(#must(buffered:fetch_all()), 10, "a buffered result outlives its connection")
  conn2:close()
  row, msg, code = st:execute(1)
  eq(row, nil, "a statement after its connection closed")
  eq(code, mywire.ERROR_STATE, "statement code")
  -- closing twice, in any order: no-ops
  streaming:close(); streaming:close()
  buffered:close(); buffered:close()
  st:close(); st:close()
  conn:close(); conn2:discard()
  row, msg, code = buffered:fetch()
  eq(row, nil, "a closed result")
  eq(code, mywire.ERROR_STATE, "closed result code")
end)

-- Garbage collection in any order: connections with open streaming results
-- (unread rows) and statements, dropped all at once; the finalizers never
-- block (no draining, no COM_QUIT), and the server sees the sockets close.
case("gc_any_order", function()
  local probe = connect()
  local function threads()
    return tonumber(int_text(one(probe, "SHOW STATUS LIKE 'Threads_connected'")[2]))
  end
  local base = threads()
  for round = 1, 5 do
    local objs = {}
    for i = 1, 20 do
      local c = connect()
      local s = must(c:prepare("SELECT ? + " .. i))
      local r = must(c:query("SELECT seq, REPEAT('x', 100) FROM seq_1_to_1000000", "stream"))
      must(r:fetch())
      -- shuffle who refers to whom: only the result, only the statement, or both
      objs[#objs + 1] = (i % 3 == 0) and { r } or (i % 3 == 1) and { s } or { s, r, c }
    end
    objs = nil
    local t0 = os.clock()
    local w0 = os.time()
    collectgarbage("collect")
    collectgarbage("collect")
    check(os.time() - w0 <= 2, "finalizers must not wait on the network (round " .. round .. ")")
    check(os.clock() - t0 < 2, "finalizers took too much CPU")
  end
  -- every connection closed on the server's side too
  local n
  for _ = 1, 50 do
    n = threads()
    if n <= base then break end
    must(probe:query("DO SLEEP(0.1)"))
  end
  check(n <= base, ("threads connected: %d, before: %d"):format(n, base))
  probe:close()
end)

-- A user finalizer that runs after the connection's own finalizer (Lua 5.4:
-- in the reverse order of creation; LuaJIT: any order) uses the connection:
-- it gets an error (a NULL handle), never a freed pointer.
case("finalizer_uses_collected_handles", function()
  local seen = {}
  local function use(o)
    local _, _, code = o.conn:ping()
    seen.ping = code or mywire.OK
    local _, _, fcode = o.res:fetch()
    seen.fetch = fcode or mywire.OK
    local _, _, scode = o.st:execute(1)
    seen.exec = scode or mywire.OK
    o.conn:close() -- a connection closed in a finalizer
    seen.ran = true
  end
  local function make() -- (its locals are gone once it returns)
    local holder
    if IS_JIT then
      -- LuaJIT (5.1): a userdata's finalizer; what it refers to stays alive for it
      holder = {}
      local proxy = newproxy(true)
      getmetatable(proxy).__gc = function() use(holder) end
      holder.proxy = proxy
    else
      -- Lua 5.4: the holder is marked for finalization before the handles
      -- exist, so its finalizer runs after theirs in the same cycle
      holder = setmetatable({}, { __gc = use })
    end
    holder.conn = connect()
    holder.st = must(holder.conn:prepare("SELECT ?"))
    holder.res = must(holder.conn:query("SELECT seq FROM seq_1_to_1000", "stream"))
  end
  make()
  collectgarbage("collect")
  collectgarbage("collect")
  check(seen.ran, "the finalizer ran")
  if not IS_JIT then
    -- created before the handles, so finalized after them: NULL handles
    eq(seen.ping, mywire.ERROR_ARGUMENT, "ping on a finalized connection")
    eq(seen.fetch, mywire.ERROR_ARGUMENT, "fetch on a finalized result")
    check(seen.exec ~= mywire.OK, "execute on a finalized statement fails")
  end
  -- and the core level (Lua 5.4): double free and use after free are no-ops
  if not IS_JIT then
    local core = mywire.core
    local rc, h = core.mywire_conn_new()
    eq(rc, mywire.OK, "conn_new")
    core.mywire_conn_free(h)
    core.mywire_conn_free(h)
    eq(core.mywire_ping(h), mywire.ERROR_ARGUMENT, "a freed handle is NULL to the library")
    eq(tostring(h), "mywire_conn: freed", "tostring of a freed handle")
    local ok = pcall(core.mywire_result_free, h)
    check(not ok, "a connection handle is not a result")
  end
end)

-- Lua 5.4: the SWIG core itself (mywire.core): out-parameters as extra
-- results, integers as integers, (pointer, length) pairs as strings, copies
-- instead of borrowed pointers, argument checks as Lua errors.
case("swig_core", function()
  if IS_JIT then return end
  local core = mywire.core
  local rc, h = core.mywire_conn_new()
  eq(rc, mywire.OK, "conn_new")
  eq(core.mywire_connect_to(h, E.host, E.user, E.password, E.db, tonumber(E.port), nil),
     mywire.OK, "connect_to")
  local res
  rc, res = core.mywire_query(h, "SELECT 7, 'a\0b', NULL, 2.5e0, -9223372036854775807",
                              mywire.BUFFERED)
  eq(rc, mywire.OK, "query")
  eq(core.mywire_column_count(res), 5, "column count")
  eq(math.type(core.mywire_column_count(res)), "integer", "an integer, not a float")
  eq(core.mywire_fetch(res), mywire.ROW, "fetch")
  local v
  rc, v = core.mywire_get_int64(res, 0)
  eq(rc, mywire.OK, "get_int64"); eq(v, 7, "int64 value")
  rc, v = core.mywire_get_int64(res, 2)
  eq(rc, mywire.NULL, "get_int64 of NULL"); eq(v, nil, "no value for NULL")
  rc, v = core.mywire_get_double(res, 3)
  eq(v, 2.5, "get_double")
  rc, v = core.mywire_get_int64(res, 4)
  eq(v, math.mininteger + 1, "a 64-bit integer kept exactly")
  rc, v = core.mywire_get_bytes(res, 1)
  eq(v, "a\0b", "get_bytes, binary-safe")
  eq(core.mywire_get(res, 1), "a\0b", "mywire_get")
  eq(core.mywire_get(res, 2), nil, "mywire_get of NULL")
  eq(core.mywire_get(res, 99), nil, "mywire_get out of range")
  local row = core.mywire_row(res)
  eq(row[1], "7", "mywire_row: text"); eq(row[3], nil, "mywire_row: NULL")
  eq(core.mywire_column_at(res, 0).name, "7", "column_at copies the name")
  eq(core.mywire_column_at(res, 0).type, mywire.TYPE_LONG, "column_at's type")
  eq(core.mywire_column_at(res, 9), nil, "column_at out of range")
  eq(core.mywire_fetch(res), mywire.DONE, "done")
  core.mywire_result_free(res)
  -- statistics: rc, text
  local text
  rc, text = core.mywire_statistics(h)
  eq(rc, mywire.OK, "statistics")
  check(text:find("Uptime") ~= nil, "statistics text")
  -- escaping
  rc, text = core.mywire_escape_string(h, "it's\0")
  eq(text, "it\\'s\\0", "escape_string")
  rc, text = core.mywire_escape_string_for(45, 1, "it's")
  eq(text, "it''s", "escape_string_for NO_BACKSLASH_ESCAPES")
  rc, text = core.mywire_escape_string_for(28, 0, "\191'") -- gbk: a lead byte, then a quote
  eq(rc, mywire.ERROR_ARGUMENT, "ill-formed gbk refused")
  eq(text, nil, "no text")
  -- a pipeline: handles from out-parameters, results taken and owned
  local p
  rc, p = core.mywire_pipeline_new()
  eq(rc, mywire.OK, "pipeline_new")
  core.mywire_pipeline_add_query(p, "SELECT 1")
  core.mywire_pipeline_add_ping(p)
  core.mywire_pipeline_add_query(p, "SELECT * FROM no_such_table_lua")
  eq(core.mywire_pipeline_run(h, p), mywire.OK, "pipeline_run")
  eq(core.mywire_pipeline_size(p), 3, "pipeline_size")
  eq(core.mywire_pipeline_step_errno(p, 2), 1146, "step errno")
  eq(core.mywire_pipeline_step_sqlstate(p, 2), "42S02", "step sqlstate")
  rc, res = core.mywire_pipeline_take_result(p, 0, 0)
  eq(rc, mywire.OK, "take_result")
  core.mywire_pipeline_free(p)
  core.mywire_pipeline_free(p)
  eq(core.mywire_fetch(res), mywire.ROW, "a taken result outlives its pipeline")
  eq(core.mywire_get(res, 0), "1", "its value")
  -- argument checks are Lua errors, never a wrong call
  check(not pcall(core.mywire_set_port, h, -1), "a negative unsigned")
  check(not pcall(core.mywire_set_port, h, 1.5), "a fraction")
  check(not pcall(core.mywire_set_port, h, 2 ^ 40), "out of the C type's range")
  check(not pcall(core.mywire_fetch, h), "a connection is not a result")
  check(not pcall(core.mywire_query, h, {}, 0), "a table is not SQL")
  eq(core.mywire_set_port(h, 3306), mywire.ERROR_STATE, "a setter while connected")
  core.mywire_conn_free(h)
  eq(core.mywire_fetch(res), mywire.DONE, "a buffered result after its connection")
  core.mywire_result_free(res)
end)

case("to_be_closed", function()
  if IS_JIT then return end -- `local x <close>` is Lua 5.4 syntax
  local chunk = assert(load([[
    local mywire, connect = ...
    local keep
    do
      local conn <close> = connect()
      local res <close> = assert(conn:query("SELECT 1"))
      keep = { conn, res }
    end
    return keep
  ]]))
  local keep = chunk(mywire, connect)
  check(not keep[1]:is_connected(), "closed at the end of the block")
  local _, _, code = keep[2]:fetch()
  eq(code, mywire.ERROR_STATE, "result closed at the end of the block")
end)

-- ------------------------------------------------------------------ main

local wanted = { ... }
local run = #wanted > 0 and wanted or order
local failed = 0
print(("1..%d"):format(#run))
for i, name in ipairs(run) do
  local fn = cases[name]
  if not fn then
    print(("not ok %d - %s (no such case)"):format(i, name))
    failed = failed + 1
  else
    local ok, err = xpcall(fn, debug.traceback)
    if ok then
      print(("ok %d - %s %s"):format(i, FLAVOUR, name))
    else
      failed = failed + 1
      print(("not ok %d - %s %s"):format(i, FLAVOUR, name))
      io.stderr:write(tostring(err), "\n")
    end
  end
end
collectgarbage("collect")
os.exit(failed == 0 and 0 or 1)
