/* lua.i - what the Lua 5.4 module adds to mywire.i (included by it, before
 * the header, when SWIG runs with -lua).
 *
 * The module built from it is the core, "mywire.core": the header's functions
 * under their C names, with these Lua rules (bindings/lua/mywire.lua is the
 * friendlier layer over it):
 * - Integers are Lua integers (SWIG's default would make them floats): an
 *   argument must be an integer that fits the C type, else a Lua error;
 *   uint64_t / size_t results above math.maxinteger come back as floats.
 * - (pointer, length) pairs are one Lua string argument, binary-safe; the
 *   query text may be nil when a non-blocking call is continued.
 * - Handles (connections, results, statements, pipelines) come back from the
 *   out-parameters as extra results: `rc, conn = mywire_conn_new()`. Each is a
 *   userdata that owns its handle; its __gc is the non-blocking finalizer of
 *   mywire.i and it is a no-op once the handle was freed. The explicit
 *   destructors (mywire_conn_free, mywire_conn_discard, mywire_result_free,
 *   mywire_result_discard, mywire_stmt_free, mywire_pipeline_free) are
 *   replaced by versions that also clear the userdata: freeing twice, or
 *   using a freed handle, passes NULL to the library (ARGUMENT / no-op), never
 *   a dangling pointer.
 * - Borrowed pointers are not handed to Lua: mywire_get, mywire_row and the
 *   typed getters give Lua values (copies); mywire_column_at,
 *   mywire_stmt_column_at and mywire_stmt_param_at give tables (copies).
 * - mywire_lua_fetch(res) is the hot path: one call fetches a row and returns
 *   it as a table of typed Lua values.
 * Cut: mywire_set_dialog_callback (a C callback into Lua) is not wrapped. */

%{
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
%}

/* ---------------------------------------------------------------- numbers */

%typemap(in, checkfn="lua_isnumber") int, short, long, long long, signed char, int8_t, int16_t,
    int32_t, int64_t, unsigned int, unsigned short, unsigned long, unsigned long long,
    unsigned char, uint8_t, uint16_t, uint32_t, uint64_t, size_t
{
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, $input, &isint);
    $1 = ($1_ltype)v;
    if (!isint || (lua_Integer)$1 != v || (($1_ltype)-1 > 0 && v < 0)) {
        SWIG_Lua_pushferrstring(L, "mywire: argument %d: an integer in the range of %s expected",
                                $argnum, "$1_type");
        SWIG_fail;
    }
}

%typemap(out) int, short, long, long long, signed char, int8_t, int16_t, int32_t, int64_t,
    unsigned int, unsigned short, unsigned char, uint8_t, uint16_t, uint32_t
%{ lua_pushinteger(L, (lua_Integer)$1); SWIG_arg++; %}

%typemap(out) unsigned long, unsigned long long, uint64_t, size_t
%{ mywire_lua_push_u64(L, (uint64_t)$1); SWIG_arg++; %}

/* ------------------------------------------------- (pointer, length) pairs */

%typemap(in) (const char *sql, size_t len), (const char *data, size_t len),
    (const char *text, size_t len), (const void *data, size_t len)
{
    size_t n = 0;
    if (lua_isnil(L, $input)) {
        $1 = NULL;
        $2 = 0;
    } else if (lua_type(L, $input) == LUA_TSTRING) {
        $1 = ($1_ltype)lua_tolstring(L, $input, &n);
        $2 = n;
    } else {
        SWIG_Lua_pushferrstring(L, "mywire: argument %d: a string expected", $argnum);
        SWIG_fail;
    }
}

/* ------------------------------------------------------ handles (owned) */

%typemap(in, numinputs=0) mywire_conn **out (mywire_conn *temp = NULL),
    mywire_result **out (mywire_result *temp = NULL), mywire_stmt **out (mywire_stmt *temp = NULL),
    mywire_pipeline **out (mywire_pipeline *temp = NULL)
%{ $1 = &temp; %}

%typemap(argout) mywire_conn **out, mywire_result **out, mywire_stmt **out,
    mywire_pipeline **out
%{ mywire_lua_push_handle(L, *$1, $*1_descriptor); SWIG_arg++; %}

/* ---------------------------------------------------------- out values */

%typemap(in, numinputs=0) int64_t *out (int64_t temp = 0), uint64_t *out (uint64_t temp = 0),
    double *out (double temp = 0)
%{ $1 = &temp; %}
%typemap(argout) int64_t *out
%{ if (result == MYWIRE_OK) lua_pushinteger(L, (lua_Integer)*$1); else lua_pushnil(L); SWIG_arg++; %}
%typemap(argout) uint64_t *out
%{ if (result == MYWIRE_OK) mywire_lua_push_u64(L, *$1); else lua_pushnil(L); SWIG_arg++; %}
%typemap(argout) double *out
%{ if (result == MYWIRE_OK) lua_pushnumber(L, *$1); else lua_pushnil(L); SWIG_arg++; %}

/* mywire_get_bytes(res, i) and mywire_statistics(conn): rc, string|nil */
%typemap(in, numinputs=0) (const char **data, size_t *len) (const char *p = NULL, size_t n = 0),
    (const char **text, size_t *len) (const char *p = NULL, size_t n = 0)
%{ $1 = ($1_ltype)&p; $2 = &n; %}
%typemap(argout) (const char **data, size_t *len), (const char **text, size_t *len)
%{ if (result == MYWIRE_OK && *$1) lua_pushlstring(L, *$1, *$2); else lua_pushnil(L); SWIG_arg++; %}

/* ------------------------------------------------- replaced declarations */

%ignore mywire_conn_free(mywire_conn *);
%ignore mywire_conn_discard(mywire_conn *);
%ignore mywire_result_free(mywire_result *);
%ignore mywire_result_discard(mywire_result *);
%ignore mywire_stmt_free(mywire_stmt *);
%ignore mywire_pipeline_free(mywire_pipeline *);
%ignore mywire_get(const mywire_result *, unsigned, size_t *);
%ignore mywire_row(const mywire_result *);
%ignore mywire_column_at(const mywire_result *, unsigned);
%ignore mywire_stmt_column_at(const mywire_stmt *, unsigned);
%ignore mywire_stmt_param_at(const mywire_stmt *, unsigned);
%ignore mywire_escape_string(mywire_conn *, const char *, size_t, char *, size_t, size_t *);
%ignore mywire_escape_string_for(unsigned, int, const char *, size_t, char *, size_t, size_t *);
%ignore mywire_set_dialog_callback;
%ignore mywire_dialog_fn;

%native(mywire_conn_free) int mywire_lua_conn_free(lua_State *L);
%native(mywire_conn_discard) int mywire_lua_conn_discard(lua_State *L);
%native(mywire_result_free) int mywire_lua_result_free(lua_State *L);
%native(mywire_result_discard) int mywire_lua_result_discard(lua_State *L);
%native(mywire_stmt_free) int mywire_lua_stmt_free(lua_State *L);
%native(mywire_pipeline_free) int mywire_lua_pipeline_free(lua_State *L);
%native(mywire_get) int mywire_lua_get(lua_State *L);
%native(mywire_row) int mywire_lua_row(lua_State *L);
%native(mywire_column_at) int mywire_lua_column_at(lua_State *L);
%native(mywire_stmt_column_at) int mywire_lua_stmt_column_at(lua_State *L);
%native(mywire_stmt_param_at) int mywire_lua_stmt_param_at(lua_State *L);
%native(mywire_escape_string) int mywire_lua_escape_string(lua_State *L);
%native(mywire_escape_string_for) int mywire_lua_escape_string_for(lua_State *L);
%native(mywire_lua_fetch) int mywire_lua_fetch(lua_State *L);
%native(mywire_lua_columns) int mywire_lua_columns(lua_State *L);
%native(mywire_lua_wait) int mywire_lua_wait(lua_State *L);
%native(mywire_lua_is_freed) int mywire_lua_is_freed(lua_State *L);

%wrapper %{
static void mywire_lua_push_u64(lua_State *L, uint64_t v)
{
    if (v <= (uint64_t)LUA_MAXINTEGER)
        lua_pushinteger(L, (lua_Integer)v);
    else
        lua_pushnumber(L, (lua_Number)v);
}

/* The owned handle's userdata: SWIG's own (type, own, ptr) record, so SWIG's
 * wrappers take it as a typed pointer, with our metatable (SWIG gives opaque
 * types none) whose __gc is the non-blocking finalizer. */
#define MYWIRE_LUA_HANDLE_MT "mywire.handle"

static void mywire_lua_finalize(swig_lua_userdata *u)
{
    void *p;
    if (!u || !u->own || !u->ptr)
        return;
    p = u->ptr;
    u->ptr = NULL; /* first: a resurrected userdata must not see it again */
    u->own = 0;
    if (u->type == SWIGTYPE_p_mywire_conn)
        mywire_conn_discard((mywire_conn *)p);
    else if (u->type == SWIGTYPE_p_mywire_result)
        mywire_result_discard((mywire_result *)p);
    else if (u->type == SWIGTYPE_p_mywire_stmt)
        mywire_stmt_free((mywire_stmt *)p);
    else if (u->type == SWIGTYPE_p_mywire_pipeline)
        mywire_pipeline_free((mywire_pipeline *)p);
}

static int mywire_lua_handle_gc(lua_State *L)
{
    mywire_lua_finalize((swig_lua_userdata *)luaL_checkudata(L, 1, MYWIRE_LUA_HANDLE_MT));
    return 0;
}

static int mywire_lua_handle_tostring(lua_State *L)
{
    swig_lua_userdata *u = (swig_lua_userdata *)luaL_checkudata(L, 1, MYWIRE_LUA_HANDLE_MT);
    const char *name = u->type == SWIGTYPE_p_mywire_conn     ? "mywire_conn"
                       : u->type == SWIGTYPE_p_mywire_result ? "mywire_result"
                       : u->type == SWIGTYPE_p_mywire_stmt   ? "mywire_stmt"
                                                             : "mywire_pipeline";
    if (u->ptr)
        lua_pushfstring(L, "%s: %p", name, u->ptr);
    else
        lua_pushfstring(L, "%s: freed", name);
    return 1;
}

static void mywire_lua_push_handle(lua_State *L, void *ptr, swig_type_info *type)
{
    if (!ptr) {
        lua_pushnil(L);
        return;
    }
    SWIG_NewPointerObj(L, ptr, type, 1);
    if (luaL_newmetatable(L, MYWIRE_LUA_HANDLE_MT)) {
        lua_pushcfunction(L, mywire_lua_handle_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, mywire_lua_handle_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "mywire handle");
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
}

/* The handle argument idx of type, NULL for nil or a freed handle; a Lua
 * error for anything else. With take, the userdata gives it up (the caller
 * frees it). */
static void *mywire_lua_handle_arg(lua_State *L, int idx, swig_type_info *type, int take)
{
    swig_lua_userdata *u;
    if (lua_isnoneornil(L, idx))
        return NULL;
    u = (swig_lua_userdata *)luaL_testudata(L, idx, MYWIRE_LUA_HANDLE_MT);
    if (!u || u->type != type) {
        luaL_error(L, "mywire: argument %d: a %s handle expected", idx, type->str);
        return NULL;
    }
    if (take) {
        void *p = u->own ? u->ptr : NULL;
        u->ptr = NULL;
        u->own = 0;
        return p;
    }
    return u->ptr;
}

static int mywire_lua_is_freed(lua_State *L)
{
    swig_lua_userdata *u = (swig_lua_userdata *)luaL_checkudata(L, 1, MYWIRE_LUA_HANDLE_MT);
    lua_pushboolean(L, u->ptr == NULL);
    return 1;
}

static int mywire_lua_conn_free(lua_State *L)
{
    mywire_conn_free((mywire_conn *)mywire_lua_handle_arg(L, 1, SWIGTYPE_p_mywire_conn, 1));
    return 0;
}
static int mywire_lua_conn_discard(lua_State *L)
{
    mywire_conn_discard((mywire_conn *)mywire_lua_handle_arg(L, 1, SWIGTYPE_p_mywire_conn, 1));
    return 0;
}
static int mywire_lua_result_free(lua_State *L)
{
    mywire_result_free((mywire_result *)mywire_lua_handle_arg(L, 1, SWIGTYPE_p_mywire_result, 1));
    return 0;
}
static int mywire_lua_result_discard(lua_State *L)
{
    mywire_result_discard(
        (mywire_result *)mywire_lua_handle_arg(L, 1, SWIGTYPE_p_mywire_result, 1));
    return 0;
}
static int mywire_lua_stmt_free(lua_State *L)
{
    mywire_stmt_free((mywire_stmt *)mywire_lua_handle_arg(L, 1, SWIGTYPE_p_mywire_stmt, 1));
    return 0;
}
static int mywire_lua_pipeline_free(lua_State *L)
{
    mywire_pipeline_free(
        (mywire_pipeline *)mywire_lua_handle_arg(L, 1, SWIGTYPE_p_mywire_pipeline, 1));
    return 0;
}

static mywire_result *mywire_lua_result_arg(lua_State *L, int idx)
{
    return (mywire_result *)mywire_lua_handle_arg(L, idx, SWIGTYPE_p_mywire_result, 0);
}

static unsigned mywire_lua_index_arg(lua_State *L, int idx)
{
    lua_Integer i = luaL_checkinteger(L, idx);
    if (i < 0 || i > (lua_Integer)UINT_MAX)
        luaL_argerror(L, idx, "index out of range");
    return (unsigned)i;
}

/* mywire_get(res, i): the value as text (a string), nil for SQL NULL or an
 * index out of range. */
static int mywire_lua_get(lua_State *L)
{
    mywire_result *res = mywire_lua_result_arg(L, 1);
    size_t len = 0;
    const char *p = mywire_get(res, mywire_lua_index_arg(L, 2), &len);
    if (p)
        lua_pushlstring(L, p, len);
    else
        lua_pushnil(L);
    return 1;
}

/* mywire_row(res): the current row as a table of strings (nil: SQL NULL),
 * or nil when there is no current row. */
static int mywire_lua_row(lua_State *L)
{
    mywire_result *res = mywire_lua_result_arg(L, 1);
    const mywire_value *row = mywire_row(res);
    unsigned n = mywire_column_count(res), i;
    if (!row) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        if (row[i].data) {
            lua_pushlstring(L, row[i].data, row[i].len);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    }
    return 1;
}

/* Value i of the current row as a Lua value: integers (and YEAR, BIT) as
 * integers -- as a decimal string when above math.maxinteger --, FLOAT and
 * DOUBLE as floats, everything else (DECIMAL, strings, blobs, dates, times,
 * JSON) as the string the server's text protocol gives; SQL NULL as nil. */
static void mywire_lua_push_value(lua_State *L, const mywire_result *res, unsigned i,
                                  unsigned type)
{
    const char *p = NULL;
    size_t len = 0;
    int64_t iv;
    uint64_t uv;
    double dv;
    switch (type) {
    case MYWIRE_TYPE_TINY:
    case MYWIRE_TYPE_SHORT:
    case MYWIRE_TYPE_LONG:
    case MYWIRE_TYPE_LONGLONG:
    case MYWIRE_TYPE_INT24:
    case MYWIRE_TYPE_YEAR:
    case MYWIRE_TYPE_BIT:
        if (mywire_get_int64(res, i, &iv) == MYWIRE_OK) {
            lua_pushinteger(L, (lua_Integer)iv);
            return;
        }
        if (mywire_get_uint64(res, i, &uv) == MYWIRE_OK) {
            char buf[24];
            snprintf(buf, sizeof buf, "%llu", (unsigned long long)uv);
            lua_pushstring(L, buf);
            return;
        }
        break;
    case MYWIRE_TYPE_FLOAT:
    case MYWIRE_TYPE_DOUBLE:
        if (mywire_get_double(res, i, &dv) == MYWIRE_OK) {
            lua_pushnumber(L, dv);
            return;
        }
        break;
    default:
        break;
    }
    if (mywire_get_bytes(res, i, &p, &len) == MYWIRE_OK && p)
        lua_pushlstring(L, p, len);
    else
        lua_pushnil(L);
}

/* mywire_lua_fetch(res) -> code, row: mywire_fetch, and for MYWIRE_ROW the
 * row as a table of typed values (see mywire_lua_push_value; NULL leaves a
 * hole). The column types are read once per call from the result. */
static int mywire_lua_fetch(lua_State *L)
{
    mywire_result *res = mywire_lua_result_arg(L, 1);
    int rc = mywire_fetch(res);
    unsigned n, i;
    lua_pushinteger(L, rc);
    if (rc != MYWIRE_ROW)
        return 1;
    n = mywire_column_count(res);
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        const mywire_column *col = mywire_column_at(res, i);
        if (mywire_is_null(res, i))
            continue;
        mywire_lua_push_value(L, res, i, col ? col->type : MYWIRE_TYPE_STRING);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 2;
}

static void mywire_lua_push_column(lua_State *L, const mywire_column *c)
{
    if (!c) {
        lua_pushnil(L);
        return;
    }
    lua_createtable(L, 0, 10);
    lua_pushlstring(L, c->name, c->name_len);
    lua_setfield(L, -2, "name");
    lua_pushlstring(L, c->org_name, c->org_name_len);
    lua_setfield(L, -2, "org_name");
    lua_pushlstring(L, c->table, c->table_len);
    lua_setfield(L, -2, "table");
    lua_pushlstring(L, c->org_table, c->org_table_len);
    lua_setfield(L, -2, "org_table");
    lua_pushlstring(L, c->schema, c->schema_len);
    lua_setfield(L, -2, "schema");
    lua_pushinteger(L, c->type);
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, c->flags);
    lua_setfield(L, -2, "flags");
    lua_pushinteger(L, c->charset);
    lua_setfield(L, -2, "charset");
    lua_pushinteger(L, c->decimals);
    lua_setfield(L, -2, "decimals");
    lua_pushinteger(L, c->length);
    lua_setfield(L, -2, "length");
}

static int mywire_lua_column_at(lua_State *L)
{
    mywire_lua_push_column(L, mywire_column_at(mywire_lua_result_arg(L, 1),
                                               mywire_lua_index_arg(L, 2)));
    return 1;
}

static int mywire_lua_stmt_column_at(lua_State *L)
{
    mywire_stmt *st = (mywire_stmt *)mywire_lua_handle_arg(L, 1, SWIGTYPE_p_mywire_stmt, 0);
    mywire_lua_push_column(L, mywire_stmt_column_at(st, mywire_lua_index_arg(L, 2)));
    return 1;
}

static int mywire_lua_stmt_param_at(lua_State *L)
{
    mywire_stmt *st = (mywire_stmt *)mywire_lua_handle_arg(L, 1, SWIGTYPE_p_mywire_stmt, 0);
    mywire_lua_push_column(L, mywire_stmt_param_at(st, mywire_lua_index_arg(L, 2)));
    return 1;
}

/* mywire_lua_columns(res): every column, as mywire_column_at's tables. */
static int mywire_lua_columns(lua_State *L)
{
    mywire_result *res = mywire_lua_result_arg(L, 1);
    unsigned n = mywire_column_count(res), i;
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        mywire_lua_push_column(L, mywire_column_at(res, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* Escaping into a Lua string: out is sized 2 * len + 1 (always enough). */
static int mywire_lua_escape_common(lua_State *L, mywire_conn *conn, int for_conn,
                                    unsigned collation, int nbe, int sidx)
{
    size_t len = 0, out_len = 0;
    const char *in = luaL_checklstring(L, sidx, &len);
    luaL_Buffer b;
    char *out;
    int rc;
    if (len > (((size_t)-1) - 1) / 2)
        return luaL_argerror(L, sidx, "string too long");
    out = luaL_buffinitsize(L, &b, 2 * len + 1);
    rc = for_conn ? mywire_escape_string(conn, in, len, out, 2 * len + 1, &out_len)
                  : mywire_escape_string_for(collation, nbe, in, len, out, 2 * len + 1,
                                             &out_len);
    luaL_pushresultsize(&b, rc == MYWIRE_OK ? out_len : 0);
    lua_pushinteger(L, rc);
    lua_insert(L, -2);
    if (rc != MYWIRE_OK) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    return 2;
}

/* mywire_escape_string(conn, s) -> rc, escaped|nil */
static int mywire_lua_escape_string(lua_State *L)
{
    mywire_conn *conn = (mywire_conn *)mywire_lua_handle_arg(L, 1, SWIGTYPE_p_mywire_conn, 0);
    return mywire_lua_escape_common(L, conn, 1, 0, 0, 2);
}

/* mywire_escape_string_for(collation_id, no_backslash_escapes, s) -> rc, escaped|nil */
static int mywire_lua_escape_string_for(lua_State *L)
{
    lua_Integer coll = luaL_checkinteger(L, 1);
    int nbe = lua_toboolean(L, 2) && !(lua_isinteger(L, 2) && lua_tointeger(L, 2) == 0);
    if (coll < 0 || coll > (lua_Integer)UINT_MAX)
        return luaL_argerror(L, 1, "collation id out of range");
    return mywire_lua_escape_common(L, NULL, 0, (unsigned)coll, nbe, 3);
}

/* mywire_lua_wait(conn, code [, timeout_ms]) -> true when mywire_socket()
 * is ready for what code (MYWIRE_WAIT_READ / MYWIRE_WAIT_WRITE) asks, or the
 * wake descriptor (mywire_abort) is readable; false when the timeout (default
 * mywire_timeout_ms(), -1 = none) passed first; nil, message on a poll error.
 * For a single-threaded Lua program driving the non-blocking API. */
static int mywire_lua_wait(lua_State *L)
{
    mywire_conn *conn = (mywire_conn *)mywire_lua_handle_arg(L, 1, SWIGTYPE_p_mywire_conn, 0);
    lua_Integer code = luaL_checkinteger(L, 2);
    lua_Integer timeout = luaL_optinteger(L, 3, (lua_Integer)mywire_timeout_ms(conn));
    struct pollfd p[2];
    nfds_t n = 0;
    int rc;
    if (code != MYWIRE_WAIT_READ && code != MYWIRE_WAIT_WRITE)
        return luaL_argerror(L, 2, "MYWIRE_WAIT_READ or MYWIRE_WAIT_WRITE expected");
    p[0].fd = mywire_socket(conn);
    p[0].events = code == MYWIRE_WAIT_WRITE ? POLLOUT : POLLIN;
    p[0].revents = 0;
    if (p[0].fd < 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "mywire: no call in progress on the connection");
        return 2;
    }
    n = 1;
    p[1].fd = mywire_wake_fd(conn);
    p[1].events = POLLIN;
    p[1].revents = 0;
    if (p[1].fd >= 0)
        n = 2;
    if (timeout > INT_MAX)
        timeout = INT_MAX;
    if (timeout < 0)
        timeout = -1;
    do
        rc = poll(p, n, (int)timeout);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    lua_pushboolean(L, rc > 0);
    return 1;
}
%}
