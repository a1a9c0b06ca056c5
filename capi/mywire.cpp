// The exported C shell: validate arguments, call the core, turn exceptions
// into result codes. Nothing C++ crosses this file's functions.
#include "mywire.h"

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <string>

#include "connection.hpp"

using mywire::Connection;
using mywire::Errc;
using mywire::Result;

struct mywire_conn {};
struct mywire_result {};
struct mywire_pipeline {};

namespace {

Connection *C(mywire_conn *c) { return reinterpret_cast<Connection *>(c); }
const Connection *C(const mywire_conn *c) { return reinterpret_cast<const Connection *>(c); }
Result *R(mywire_result *r) { return reinterpret_cast<Result *>(r); }
const Result *R(const mywire_result *r) { return reinterpret_cast<const Result *>(r); }
mywire::Pipeline *PL(mywire_pipeline *p) { return reinterpret_cast<mywire::Pipeline *>(p); }
const mywire::Pipeline *PL(const mywire_pipeline *p) { return reinterpret_cast<const mywire::Pipeline *>(p); }

const mywire::PipelineStep *step_at(const mywire_pipeline *p, size_t i) {
    return p && i < PL(p)->steps.size() ? &PL(p)->steps[i] : nullptr;
}

int add_step(mywire_pipeline *p, mywire::PipelineStep::Kind kind, std::string_view arg) {
    if (!p) return MYWIRE_ERROR_ARGUMENT;
    try {
        std::string copy(arg);
        mywire::PipelineStep &st = PL(p)->steps.emplace_back();
        st.kind = kind;
        st.arg.swap(copy);
        return MYWIRE_OK;
    } catch (...) {
        return MYWIRE_ERROR_NOMEM;
    }
}

// Run f() with exceptions mapped to result codes (recorded on the handle).
// An exception leaves the connection's protocol state unknown: it is closed
// (Connection::on_exception), so a later command gets a clear error, never
// the leftovers of an earlier reply.
template <class F>
int guarded(Connection *c, F &&f) {
    try {
        return static_cast<int>(f());
    } catch (const std::bad_alloc &) {
        if (c) c->on_exception(Errc::nomem);
        return MYWIRE_ERROR_NOMEM;
    } catch (...) {
        if (c) c->on_exception(Errc::internal);
        return MYWIRE_ERROR_INTERNAL;
    }
}

// Option setters: only before connecting.
template <class F>
int set_opt(mywire_conn *conn, F &&f) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    return guarded(c, [&]() -> Errc {
        c->err().clear();
        if (c->connected()) return c->err().set(Errc::state, "options cannot change while connected");
        if (c->call() != Connection::Call::none)
            return c->err().set(Errc::state, "options cannot change while a connect is in progress");
        if (c->state() == Connection::State::closed)
            return c->err().set(Errc::state, "the connection was closed");
        return f(*c);
    });
}

int set_string(mywire_conn *conn, std::string mywire::Options::*field, const char *value) {
    return set_opt(conn, [&](Connection &c) {
        if (value)
            (c.opts.*field).assign(value);
        else
            (c.opts.*field).clear();
        return Errc::ok;
    });
}

int set_secret(mywire_conn *conn, mywire::proto::SecretString mywire::Options::*field, const char *value) {
    return set_opt(conn, [&](Connection &c) {
        (c.opts.*field).assign(value ? std::string_view(value) : std::string_view());
        return Errc::ok;
    });
}

// The header's constants are written by hand; the core's come from
// proto/errc.def. They must be the same numbers.
#define MYWIRE_ERRC(NAME, name, number, fatal, text)                              \
    static_assert(MYWIRE_##NAME == number && static_cast<int>(Errc::name) == number, \
                  "MYWIRE_" #NAME " differs between mywire.h and proto/errc.def");
#define MYWIRE_OUTCOME(NAME, name, number, text)                                     \
    static_assert(MYWIRE_##NAME == number &&                                          \
                      static_cast<int>(mywire::Outcome::name) == number,              \
                  "MYWIRE_" #NAME " differs between mywire.h and proto/errc.def");
#define MYWIRE_CLIENT_ERROR(NAME, name, number)                                       \
    static_assert(MYWIRE_CLIENT_ERROR_##NAME == number &&                             \
                      static_cast<int>(mywire::ClientError::name) == number,          \
                  "MYWIRE_CLIENT_ERROR_" #NAME " differs between mywire.h and proto/errc.def");
#include "proto/errc.def"

// The core's own types and numbers (proto/types.hpp) are the public ones.
#define MYWIRE_SAME_FIELD(T, U, f) \
    static_assert(offsetof(T, f) == offsetof(U, f) && sizeof(T::f) == sizeof(U::f), #U "::" #f)
static_assert(sizeof(mywire::Value) == sizeof(mywire_value) && alignof(mywire::Value) == alignof(mywire_value));
// mywire_array_type is proto::ParamArray::Kind.
static_assert(MYWIRE_ARRAY_INT8 == int{mywire::proto::ParamArray::i8} && MYWIRE_ARRAY_INT64 == int{mywire::proto::ParamArray::i64} &&
              MYWIRE_ARRAY_UINT8 == int{mywire::proto::ParamArray::u8} && MYWIRE_ARRAY_UINT64 == int{mywire::proto::ParamArray::u64} &&
              MYWIRE_ARRAY_FLOAT == int{mywire::proto::ParamArray::f32} && MYWIRE_ARRAY_DOUBLE == int{mywire::proto::ParamArray::f64} &&
              MYWIRE_ARRAY_STRING == int{mywire::proto::ParamArray::str} && MYWIRE_ARRAY_BYTES == int{mywire::proto::ParamArray::bytes} &&
              MYWIRE_ARRAY_TIME == int{mywire::proto::ParamArray::time});
static_assert(sizeof(mywire::proto::Time) == sizeof(mywire_time));
MYWIRE_SAME_FIELD(mywire::Value, mywire_value, data);
MYWIRE_SAME_FIELD(mywire::Value, mywire_value, len);
static_assert(sizeof(mywire::Column) == sizeof(mywire_column) && alignof(mywire::Column) == alignof(mywire_column));
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, name);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, org_name);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, table);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, org_table);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, schema);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, type);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, flags);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, charset);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, decimals);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, length);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, name_len);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, org_name_len);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, table_len);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, org_table_len);
MYWIRE_SAME_FIELD(mywire::Column, mywire_column, schema_len);
#undef MYWIRE_SAME_FIELD
static_assert(std::is_same_v<mywire::DialogFn, mywire_dialog_fn>);
static_assert(mywire::ssl_mode::default_mode == MYWIRE_SSL_MODE_DEFAULT &&
              mywire::ssl_mode::disabled == MYWIRE_SSL_MODE_DISABLED &&
              mywire::ssl_mode::preferred == MYWIRE_SSL_MODE_PREFERRED &&
              mywire::ssl_mode::required == MYWIRE_SSL_MODE_REQUIRED &&
              mywire::ssl_mode::verify_ca == MYWIRE_SSL_MODE_VERIFY_CA &&
              mywire::ssl_mode::verify_identity == MYWIRE_SSL_MODE_VERIFY_IDENTITY);
static_assert(mywire::compress_opt::off == MYWIRE_COMPRESS_OFF && mywire::compress_opt::zlib == MYWIRE_COMPRESS_ZLIB &&
              mywire::compress_opt::zstd == MYWIRE_COMPRESS_ZSTD && mywire::compress_opt::any == MYWIRE_COMPRESS_ANY);
static_assert(mywire::tls_failure::none == MYWIRE_TLS_FAILURE_NONE &&
              mywire::tls_failure::not_offered == MYWIRE_TLS_FAILURE_NOT_OFFERED &&
              mywire::tls_failure::untrusted == MYWIRE_TLS_FAILURE_UNTRUSTED &&
              mywire::tls_failure::expired == MYWIRE_TLS_FAILURE_EXPIRED &&
              mywire::tls_failure::not_yet_valid == MYWIRE_TLS_FAILURE_NOT_YET_VALID &&
              mywire::tls_failure::hostname == MYWIRE_TLS_FAILURE_HOSTNAME &&
              mywire::tls_failure::revoked == MYWIRE_TLS_FAILURE_REVOKED &&
              mywire::tls_failure::fingerprint == MYWIRE_TLS_FAILURE_FINGERPRINT &&
              mywire::tls_failure::config == MYWIRE_TLS_FAILURE_CONFIG &&
              mywire::tls_failure::handshake == MYWIRE_TLS_FAILURE_HANDSHAKE);

struct CodeInfo {
    int number;
    bool fatal;
    const char *text;
};

constexpr CodeInfo codes[] = {
#define MYWIRE_ERRC(NAME, name, number, fatal, text) {number, fatal != 0, text},
#define MYWIRE_OUTCOME(NAME, name, number, text) {number, false, text},
#include "proto/errc.def"
};

const CodeInfo *code_info(int code) {
    for (const CodeInfo &info : codes)
        if (info.number == code) return &info;
    return nullptr;
}

// One call of the API on the engine: start it (unless it is the call in
// progress, which a non-blocking connection continues), then step it once
// (non-blocking) or to its end (blocking), and finish it. The blocking and the
// non-blocking API are this same path. owner: the object the call is made
// on (a statement, a pipeline), nullptr for the connection's own calls; a call
// in progress is continued only by the same kind of call on the same object.
using Call = Connection::Call;
template <class Start, class Finish>
int run_call(Connection *c, Call kind, Start &&start, Finish &&finish, const void *owner = nullptr) {
    return guarded(c, [&]() -> int {
        if (c->call() == Call::none) {
            Errc rc = start();
            if (rc != Errc::ok) return static_cast<int>(rc);
            if (c->call() == Call::none) return finish();  // nothing to run (next_result: no more)
            c->call_owner = owner;
        } else if (c->call() != kind) {
            return static_cast<int>(c->err().set(
                Errc::out_of_sync, "commands out of sync: another call is in progress on this "
                                   "connection (call it again until it is done)"));
        } else if (c->call_owner != owner) {
            return static_cast<int>(c->err().set(
                Errc::out_of_sync, owner ? "commands out of sync: this call is in progress on another "
                                           "statement or pipeline of this connection (continue it there)"
                                         : "commands out of sync: another call is in progress on this "
                                           "connection (call it again until it is done)"));
        }
        Connection::Progress p = c->nonblocking ? c->step() : c->complete();
        if (p == Connection::Progress::wait_read) return MYWIRE_WAIT_READ;
        if (p == Connection::Progress::wait_write) return MYWIRE_WAIT_WRITE;
        return finish();
    });
}

int finish_plain(Connection *c) { return static_cast<int>(c->finish()); }

// Ends a call that makes a result (query, next_result, execute, batch): the
// result into *out, the call's code back.
int finish_result(Connection *c, mywire_result **out) {
    Result *r = nullptr;
    Errc rc = c->finish(r);
    *out = reinterpret_cast<mywire_result *>(r);
    return static_cast<int>(rc);
}

}  // namespace

extern "C" {

unsigned mywire_version_number(void) { return MYWIRE_VERSION_NUMBER; }
const char *mywire_version(void) { return MYWIRE_VERSION_STRING; }

const char *mywire_errstr(int code) {
    const CodeInfo *info = code_info(code);
    return info ? info->text : "unknown result code";
}

int mywire_conn_new(mywire_conn **out) {
    if (!out) return MYWIRE_ERROR_ARGUMENT;
    *out = nullptr;
    auto *c = new (std::nothrow) Connection();
    if (!c) return MYWIRE_ERROR_NOMEM;
    *out = reinterpret_cast<mywire_conn *>(c);
    return MYWIRE_OK;
}

void mywire_conn_free(mywire_conn *conn) {
    delete C(conn);  // noexcept (close() is)
}


int mywire_set_host(mywire_conn *c, const char *v) { return set_string(c, &mywire::Options::host, v); }
int mywire_set_unix_socket(mywire_conn *c, const char *v) {
    return set_string(c, &mywire::Options::unix_socket, v);
}
int mywire_set_user(mywire_conn *c, const char *v) { return set_string(c, &mywire::Options::user, v); }
int mywire_set_password(mywire_conn *c, const char *v) {
    return set_secret(c, &mywire::Options::password, v);
}
int mywire_set_database(mywire_conn *c, const char *v) {
    return set_string(c, &mywire::Options::database, v);
}

int mywire_set_port(mywire_conn *conn, unsigned port) {
    return set_opt(conn, [&](Connection &c) { return mywire::set_port(c.opts, port, c.err()); });
}
int mywire_set_connect_timeout(mywire_conn *conn, unsigned ms) {
    return set_opt(conn, [&](Connection &c) { return c.opts.connect_timeout_ms = ms, Errc::ok; });
}
int mywire_set_read_timeout(mywire_conn *conn, unsigned ms) {
    return set_opt(conn, [&](Connection &c) { return c.opts.read_timeout_ms = ms, Errc::ok; });
}
int mywire_set_write_timeout(mywire_conn *conn, unsigned ms) {
    return set_opt(conn, [&](Connection &c) { return c.opts.write_timeout_ms = ms, Errc::ok; });
}
int mywire_set_max_allowed_packet(mywire_conn *conn, uint64_t bytes) {
    return set_opt(conn,
                   [&](Connection &c) { return mywire::set_max_allowed_packet(c.opts, bytes, c.err()); });
}
int mywire_set_max_result_bytes(mywire_conn *conn, uint64_t bytes) {
    return set_opt(conn, [&](Connection &c) { return c.opts.max_result_bytes = bytes, Errc::ok; });
}
int mywire_set_max_columns(mywire_conn *conn, unsigned columns) {
    return set_opt(conn, [&](Connection &c) { return mywire::set_max_columns(c.opts, columns, c.err()); });
}
int mywire_set_multi_statements(mywire_conn *conn, int enable) {
    return set_opt(conn, [&](Connection &c) { return c.opts.multi_statements = enable != 0, Errc::ok; });
}
int mywire_set_charset(mywire_conn *conn, unsigned id) {
    return set_opt(conn, [&](Connection &c) { return mywire::set_charset(c.opts, id, c.err()); });
}
int mywire_set_connect_attr(mywire_conn *conn, const char *key, const char *value) {
    return set_opt(conn, [&](Connection &c) {
        if (!key || !*key || !value) return c.err().set(Errc::argument, "connect attribute needs a key and a value");
        c.opts.connect_attrs.emplace_back(key, value);
        return Errc::ok;
    });
}
int mywire_set_option(mywire_conn *conn, const char *key, const char *value) {
    return set_opt(conn, [&](Connection &c) {
        if (!key || !value) return c.err().set(Errc::argument, "option key and value must not be NULL");
        return mywire::set_option_by_name(c.opts, key, value, c.err());
    });
}
int mywire_set_stmt_cache(mywire_conn *conn, unsigned statements) {
    return set_opt(conn, [&](Connection &c) { return mywire::set_stmt_cache(c.opts, statements, c.err()); });
}
int mywire_set_ssl_mode(mywire_conn *conn, int mode) {
    return set_opt(conn, [&](Connection &c) { return mywire::set_ssl_mode(c.opts, mode, c.err()); });
}
int mywire_set_compression(mywire_conn *conn, int algorithm) {
    return set_opt(conn, [&](Connection &c) { return mywire::set_compression(c.opts, algorithm, c.err()); });
}
int mywire_set_dialog_callback(mywire_conn *conn, mywire_dialog_fn fn, void *user_data) {
    return set_opt(conn, [&](Connection &c) {
        c.opts.dialog = fn;
        c.opts.dialog_user_data = user_data;
        return Errc::ok;
    });
}
int mywire_set_uri(mywire_conn *conn, const char *uri) {
    return set_opt(conn, [&](Connection &c) {
        if (!uri) return c.err().set(Errc::argument, "URI must not be NULL");
        return mywire::apply_uri(c.opts, uri, c.err());
    });
}

int mywire_connect(mywire_conn *conn) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    // The engine gives every timeout of a connect ClientError::connect_timeout.
    return run_call(c, Call::connect, [&] { return c->start_connect(); }, [&] { return finish_plain(c); });
}

int mywire_connect_to(mywire_conn *conn, const char *host, const char *user, const char *password,
                      const char *database, unsigned port, const char *unix_socket) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    if (C(conn)->call() == Call::connect) return mywire_connect(conn);  // continuing (non-blocking)
    int rc = set_opt(conn, [&](Connection &c) {
        if (host) c.opts.host = host;
        if (user) c.opts.user = user;
        if (password) c.opts.password = password;
        if (database) c.opts.database = database;
        if (unix_socket) c.opts.unix_socket = unix_socket;
        if (port) return mywire::set_port(c.opts, port, c.err());
        return Errc::ok;
    });
    return rc != MYWIRE_OK ? rc : mywire_connect(conn);
}

int mywire_connect_uri(mywire_conn *conn, const char *uri) {
    if (conn && C(conn)->call() == Call::connect) return mywire_connect(conn);  // continuing
    int rc = mywire_set_uri(conn, uri);
    return rc != MYWIRE_OK ? rc : mywire_connect(conn);
}

void mywire_close(mywire_conn *conn) {
    if (conn) C(conn)->close();  // noexcept
}

int mywire_errcode(const mywire_conn *conn) {
    return conn ? static_cast<int>(C(conn)->session.err.code) : MYWIRE_ERROR_ARGUMENT;
}
unsigned mywire_errno(const mywire_conn *conn) { return conn ? C(conn)->session.err.server_errno : 0; }
const char *mywire_sqlstate(const mywire_conn *conn) {
    return conn ? C(conn)->session.err.sqlstate : "HY000";
}
const char *mywire_errmsg(const mywire_conn *conn) {
    if (!conn) return "invalid connection handle (NULL)";
    const mywire::Error &e = C(conn)->session.err;
    // No text (there was no memory for it): the code's own.
    if (e.message.empty() && e.code != Errc::ok) return mywire_errstr(static_cast<int>(e.code));
    return e.message.c_str();
}

const char *mywire_server_version(const mywire_conn *conn) {
    return conn ? C(conn)->stable(C(conn)->server.version) : "";
}
unsigned long mywire_thread_id(const mywire_conn *conn) {
    return conn ? C(conn)->server.connection_id : 0;
}
unsigned mywire_server_status(const mywire_conn *conn) {
    return conn ? C(conn)->session.status_flags : 0;
}
const char *mywire_auth_plugin(const mywire_conn *conn) {
    return conn ? C(conn)->stable(C(conn)->server.auth_plugin) : "";
}
int mywire_is_mariadb(const mywire_conn *conn) {
    return conn && C(conn)->connected() && C(conn)->server.is_mariadb ? 1 : 0;
}
const char *mywire_transport(const mywire_conn *conn) {
    if (!conn || !C(conn)->connected()) return "";
    return C(conn)->is_unix() ? "unix" : "tcp";
}
int mywire_tls_active(const mywire_conn *conn) {
    return conn && C(conn)->connected() && C(conn)->tls_info().active ? 1 : 0;
}
const char *mywire_tls_version(const mywire_conn *conn) {
    return conn && C(conn)->connected() ? C(conn)->stable(C(conn)->tls_info().version) : "";
}
const char *mywire_tls_cipher(const mywire_conn *conn) {
    return conn && C(conn)->connected() ? C(conn)->stable(C(conn)->tls_info().cipher) : "";
}
int mywire_tls_verified(const mywire_conn *conn) {
    return conn && C(conn)->connected() && C(conn)->tls_info().verified ? 1 : 0;
}
int mywire_tls_failure(const mywire_conn *conn) {
    return conn ? C(conn)->tls_info().failure : MYWIRE_TLS_FAILURE_NONE;
}
const char *mywire_compression(const mywire_conn *conn) {
    if (!conn || !C(conn)->connected()) return "none";
    switch (C(conn)->compression()) {
    case mywire::proto::Compression::zlib: return "zlib";
    case mywire::proto::Compression::zstd: return "zstd";
    default: return "none";
    }
}
int mywire_socket(const mywire_conn *conn) {
    // While connected, and while a non-blocking connect is in progress.
    return conn ? C(conn)->poll_fd() : -1;
}

int mywire_ping(mywire_conn *conn) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    return run_call(c, Call::command, [&] { return c->start_command(mywire::proto::command::ping, {}); },
                    [&] { return finish_plain(c); });
}

int mywire_select_db(mywire_conn *conn, const char *database) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    if (c->call() == Call::none && (!database || !*database))
        return static_cast<int>(c->err().set(Errc::argument, "database name must not be empty"));
    return run_call(c, Call::command,
                    [&] {
                        c->pending_database = database;  // becomes opts.database on success
                        return c->start_command(mywire::proto::command::init_db, c->pending_database);
                    },
                    [&] {
                        Errc rc = c->finish();
                        if (rc == Errc::ok && !c->pending_database.empty())
                            c->opts.database = c->pending_database;
                        c->pending_database.clear();
                        return static_cast<int>(rc);
                    });
}

int mywire_reset_connection(mywire_conn *conn) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    return run_call(c, Call::command,
                    [&] { return c->start_command(mywire::proto::command::reset_connection, {}); },
                    [&] { return finish_plain(c); });
}

int mywire_set_server_multi_statements(mywire_conn *conn, int enable) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    namespace so = mywire::proto::set_option;
    return run_call(c, Call::command,
                    [&] { return c->start_set_option(enable ? so::multi_statements_on : so::multi_statements_off); },
                    [&] { return finish_plain(c); });
}

int mywire_statistics(mywire_conn *conn, const char **text, size_t *len) {
    if (text) *text = nullptr;
    if (len) *len = 0;
    if (!conn || !text) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    return run_call(c, Call::statistics, [&] { return c->start_statistics(); },
                    [&] {
                        Errc rc = c->finish();
                        if (rc == Errc::ok) {
                            *text = c->statistics_text.c_str();
                            if (len) *len = c->statistics_text.size();
                        }
                        return static_cast<int>(rc);
                    });
}

int mywire_query(mywire_conn *conn, const char *sql, size_t len, int mode, mywire_result **out) {
    if (out) *out = nullptr;
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    if (!out || (c->call() == Call::none &&
                 ((!sql && len) || (mode != MYWIRE_BUFFERED && mode != MYWIRE_STREAMING))))
        return static_cast<int>(c->err().set(Errc::argument, "invalid argument to mywire_query"));
    return run_call(c, Call::query,
                    [&] { return c->start_query(std::string_view(sql ? sql : "", len), mode == MYWIRE_STREAMING); },
                    [&] { return finish_result(c, out); });
}

int mywire_more_results(const mywire_conn *conn) { return conn && C(conn)->more_results() ? 1 : 0; }

int mywire_next_result(mywire_conn *conn, int mode, mywire_result **out) {
    if (out) *out = nullptr;
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    if (!out || (mode != MYWIRE_BUFFERED && mode != MYWIRE_STREAMING))
        return static_cast<int>(c->err().set(Errc::argument, "invalid argument to mywire_next_result"));
    bool none = false;
    return run_call(c, Call::next_result, [&] { return c->start_next_result(mode == MYWIRE_STREAMING, none); },
                    [&]() -> int {
                        if (none) return MYWIRE_DONE;
                        bool no_more = c->next_is_none();
                        int rc = finish_result(c, out);
                        return rc == MYWIRE_OK && no_more ? MYWIRE_DONE : rc;
                    });
}

void mywire_result_free(mywire_result *res) {
    Result::release(R(res));  // noexcept: a failed drain closes the connection instead
}

unsigned mywire_column_count(const mywire_result *res) { return res ? R(res)->column_count() : 0; }
uint64_t mywire_affected_rows(const mywire_result *res) { return res ? R(res)->head.ok.affected_rows : 0; }
uint64_t mywire_insert_id(const mywire_result *res) { return res ? R(res)->head.ok.last_insert_id : 0; }
unsigned mywire_warning_count(const mywire_result *res) { return res ? R(res)->head.ok.warnings : 0; }
unsigned mywire_status_flags(const mywire_result *res) { return res ? R(res)->head.ok.status_flags : 0; }
const char *mywire_info(const mywire_result *res) { return res ? R(res)->head.info.c_str() : ""; }
uint64_t mywire_row_count(const mywire_result *res) { return res ? R(res)->row_count() : 0; }

const mywire_column *mywire_column_at(const mywire_result *res, unsigned index) {
    if (!res || index >= R(res)->column_count()) return nullptr;
    return reinterpret_cast<const mywire_column *>(&R(res)->head.columns[index]);
}

int mywire_fetch(mywire_result *res) {
    if (!res) return MYWIRE_ERROR_ARGUMENT;
    return R(res)->fetch();  // noexcept: errors are recorded and sticky
}

int mywire_seek(mywire_result *res, uint64_t row_index) {
    if (!res) return MYWIRE_ERROR_ARGUMENT;
    return static_cast<int>(R(res)->seek(row_index));
}

const mywire_value *mywire_row(const mywire_result *res) {
    return res ? reinterpret_cast<const mywire_value *>(R(res)->row()) : nullptr;
}

const char *mywire_get(const mywire_result *res, unsigned index, size_t *len) {
    if (len) *len = 0;
    if (!res) return nullptr;
    const mywire::Value *v = R(res)->text_value(index);
    if (!v) return nullptr;
    if (len) *len = v->len;
    return v->data;
}

int mywire_is_null(const mywire_result *res, unsigned index) {
    const mywire::Value *v = res ? R(res)->raw_value(index) : nullptr;
    return !v || v->data == nullptr ? 1 : 0;
}

// ------------------------------------------------------------------ 0.3.0

int mywire_is_fatal(int code) {
    const CodeInfo *info = code_info(code);
    return info && info->fatal ? 1 : 0;
}

int mywire_is_connected(const mywire_conn *conn) { return conn && C(conn)->connected() ? 1 : 0; }

uint64_t mywire_connection_id(const mywire_conn *conn) {
    return conn && C(conn)->connected() ? C(conn)->server.connection_id : 0;
}

int mywire_client_error(const mywire_conn *conn) {
    if (!conn) return MYWIRE_CLIENT_ERROR_OTHER;
    const mywire::Error &e = C(conn)->session.err;
    return e.code == Errc::ok ? MYWIRE_CLIENT_ERROR_NONE : static_cast<int>(e.client);
}

int mywire_error_sent(const mywire_conn *conn) {
    if (!conn) return 0;
    const mywire::Error &e = C(conn)->session.err;
    switch (e.code) {
    case Errc::ok:
    case Errc::argument:
    case Errc::option:
    case Errc::uri:
    case Errc::state:
    case Errc::out_of_sync:
        return 0;  // refused before anything was written (the flag may be an earlier command's)
    default:
        return e.sent ? 1 : 0;
    }
}

// ------------------------------------------------------- non-blocking

int mywire_set_nonblocking(mywire_conn *conn, int enable) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    if (c->call() != Call::none)
        return static_cast<int>(c->err().set(Errc::state, "a call is in progress: finish it first"));
    c->nonblocking = enable != 0;
    return MYWIRE_OK;
}

int mywire_is_nonblocking(const mywire_conn *conn) { return conn && C(conn)->nonblocking ? 1 : 0; }

int mywire_in_progress(const mywire_conn *conn) {
    return conn && C(conn)->call() != Call::none ? 1 : 0;
}

int64_t mywire_timeout_ms(const mywire_conn *conn) { return conn ? C(conn)->timeout_ms() : -1; }

void mywire_result_discard(mywire_result *res) {
    if (!res) return;
    R(res)->discard();  // noexcept: never drains, never blocks
    Result::release(R(res));
}

void mywire_conn_discard(mywire_conn *conn) {
    if (!conn) return;
    C(conn)->close_now();  // no COM_QUIT, nothing waits
    delete C(conn);
}

// -------------------------------------------------------------- pipelines

int mywire_pipeline_new(mywire_pipeline **out) {
    if (!out) return MYWIRE_ERROR_ARGUMENT;
    *out = nullptr;
    auto *p = new (std::nothrow) mywire::Pipeline();
    if (!p) return MYWIRE_ERROR_NOMEM;
    *out = reinterpret_cast<mywire_pipeline *>(p);
    return MYWIRE_OK;
}

void mywire_pipeline_free(mywire_pipeline *p) { delete PL(p); }

int mywire_pipeline_clear(mywire_pipeline *p) {
    if (!p) return MYWIRE_ERROR_ARGUMENT;
    PL(p)->clear();
    return MYWIRE_OK;
}

int mywire_pipeline_add_query(mywire_pipeline *p, const char *sql, size_t len) {
    if (!p || (!sql && len)) return MYWIRE_ERROR_ARGUMENT;
    return add_step(p, mywire::PipelineStep::Kind::query, std::string_view(sql ? sql : "", len));
}
int mywire_pipeline_add_ping(mywire_pipeline *p) { return add_step(p, mywire::PipelineStep::Kind::ping, {}); }
int mywire_pipeline_add_reset_connection(mywire_pipeline *p) {
    return add_step(p, mywire::PipelineStep::Kind::reset, {});
}
int mywire_pipeline_add_select_db(mywire_pipeline *p, const char *database) {
    if (!database || !*database) return MYWIRE_ERROR_ARGUMENT;
    return add_step(p, mywire::PipelineStep::Kind::init_db, database);
}

size_t mywire_pipeline_size(const mywire_pipeline *p) { return p ? PL(p)->steps.size() : 0; }

int mywire_pipeline_run(mywire_conn *conn, mywire_pipeline *p) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    if (!p && c->call() == Call::none)
        return static_cast<int>(c->err().set(Errc::argument, "the pipeline must not be NULL"));
    // Continued with the pipeline it runs, or with NULL (the argument is not
    // needed then); another pipeline is refused.
    const void *owner = !p && c->call() == Call::pipeline ? c->call_owner : p;
    return run_call(
        c, Call::pipeline, [&] { return c->start_pipeline(*PL(p)); }, [&] { return finish_plain(c); }, owner);
}

int mywire_pipeline_step_ran(const mywire_pipeline *p, size_t i) {
    const mywire::PipelineStep *st = step_at(p, i);
    return st && st->ran ? 1 : 0;
}
int mywire_pipeline_step_code(const mywire_pipeline *p, size_t i) {
    const mywire::PipelineStep *st = step_at(p, i);
    return st ? static_cast<int>(st->code) : MYWIRE_ERROR_ARGUMENT;
}
unsigned mywire_pipeline_step_errno(const mywire_pipeline *p, size_t i) {
    const mywire::PipelineStep *st = step_at(p, i);
    return st ? st->server_errno : 0;
}
const char *mywire_pipeline_step_sqlstate(const mywire_pipeline *p, size_t i) {
    const mywire::PipelineStep *st = step_at(p, i);
    return st ? st->sqlstate.c_str() : "HY000";
}
const char *mywire_pipeline_step_errmsg(const mywire_pipeline *p, size_t i) {
    const mywire::PipelineStep *st = step_at(p, i);
    if (!st) return "no such pipeline step";
    if (st->message.empty() && st->code != Errc::ok) return mywire_errstr(static_cast<int>(st->code));
    return st->message.c_str();
}
unsigned mywire_pipeline_result_count(const mywire_pipeline *p, size_t i) {
    const mywire::PipelineStep *st = step_at(p, i);
    return st ? static_cast<unsigned>(st->results.size()) : 0;
}
int mywire_pipeline_take_result(mywire_pipeline *p, size_t i, unsigned k, mywire_result **out) {
    if (out) *out = nullptr;
    if (!p || !out || i >= PL(p)->steps.size()) return MYWIRE_ERROR_ARGUMENT;
    auto &results = PL(p)->steps[i].results;
    if (k >= results.size() || !results[k]) return MYWIRE_ERROR_ARGUMENT;
    *out = reinterpret_cast<mywire_result *>(results[k].release());
    return MYWIRE_OK;
}

}  // extern "C"

// ------------------------------------------------------- cancel and abort
// Callable from any thread while another one runs a call on conn: they touch
// only the connection's CancelInfo and Waker (core/cancel.hpp), never its
// socket, session or error.

extern "C" {

int mywire_cancel(mywire_conn *conn) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    mywire::CancelInfo &info = C(conn)->cancel_info();
    try {
        mywire::Options side;
        std::uint64_t id = 0;
        if (!info.snapshot(side, id)) return MYWIRE_ERROR_STATE;
        info.request();  // before KILL QUERY: the blocked call maps its 1317 to CANCELLED
        return static_cast<int>(mywire::kill_query(std::move(side), id));
    } catch (const std::bad_alloc &) {
        return MYWIRE_ERROR_NOMEM;
    } catch (...) {
        return MYWIRE_ERROR_INTERNAL;
    }
}

int mywire_abort(mywire_conn *conn) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    return C(conn)->waker().wake() ? MYWIRE_OK : MYWIRE_ERROR_STATE;  // noexcept
}

int mywire_wake_fd(const mywire_conn *conn) {
    return conn ? C(conn)->waker().fd() : -1;
}

}  // extern "C"

// ------------------------------------------------------ prepared statements

namespace {

using mywire::Statement;
Statement *S(mywire_stmt *s) { return reinterpret_cast<Statement *>(s); }
const Statement *S(const mywire_stmt *s) { return reinterpret_cast<const Statement *>(s); }

static_assert(sizeof(mywire_time) == sizeof(mywire::proto::Time) &&
              offsetof(mywire_time, microsecond) == offsetof(mywire::proto::Time, microsecond) &&
              offsetof(mywire_time, negative) == offsetof(mywire::proto::Time, negative));
static_assert(MYWIRE_TIME_KIND_DATE == mywire::proto::time_kind::date &&
              MYWIRE_TIME_KIND_TIME == mywire::proto::time_kind::time &&
              MYWIRE_TIME_KIND_DATETIME == mywire::proto::time_kind::datetime);

// The statement's connection, or an error code (recorded nowhere: there
// is no connection to record it on).
Connection *stmt_conn(mywire_stmt *stmt, int &rc) {
    if (!stmt) return rc = MYWIRE_ERROR_ARGUMENT, nullptr;
    Connection *c = S(stmt)->connection();
    if (!c) return rc = MYWIRE_ERROR_STATE, nullptr;
    return c;
}

template <class F>
int bind(mywire_stmt *stmt, F &&f) {
    if (!stmt) return MYWIRE_ERROR_ARGUMENT;
    try {
        return static_cast<int>(f(*S(stmt)));
    } catch (...) {
        return MYWIRE_ERROR_NOMEM;
    }
}

// A typed getter: value index of the current row, converted by `convert`
// (one of proto's to_* functions) into *out, which changes only on success.
// `fast` (one of proto's fast_* functions, or nullptr) is tried first on a
// binary result's columns that have a fast form.
template <class T, class Convert>
[[gnu::noinline]] int typed_get(const mywire_result *res, unsigned index, T *out, Convert convert,
                                bool (*fast)(mywire::proto::Fast, mywire::Value, T &) = nullptr) {
    const mywire::Value *v = res ? R(res)->raw_value(index) : nullptr;
    if (!v) return MYWIRE_ERROR_ARGUMENT;
    if (!v->data) return MYWIRE_NULL;
    if (!out) return MYWIRE_ERROR_ARGUMENT;
    T x{};
    if (fast && R(res)->binary() && fast(R(res)->fast_form(index), *v, x)) {
        *out = x;
        return MYWIRE_OK;
    }
    if (convert(R(res)->head.columns[index], *v, R(res)->binary(), x) != Errc::ok) return MYWIRE_ERROR_CONVERSION;
    *out = x;
    return MYWIRE_OK;
}

// The getters' hot path, a few instructions for a binary value with a fast
// form (a streamed row's every value); all else, and any doubt, goes to
// typed_get. fast() writes *out only on success.
template <class T, class Convert>
inline int typed_get_fast(const mywire_result *res, unsigned index, T *out, Convert convert,
                          bool (*fast)(mywire::proto::Fast, mywire::Value, T &)) {
    if (res && out) {
        const mywire::Result &r = *R(res);
        if (const mywire::Value *v = r.binary_value(index); v && fast(r.fast_form(index), *v, *out)) return MYWIRE_OK;
    }
    return typed_get(res, index, out, convert, fast);
}

}  // namespace

struct mywire_stmt {};

extern "C" {

int mywire_stmt_new(mywire_conn *conn, mywire_stmt **out) {
    if (out) *out = nullptr;
    if (!conn || !out) return MYWIRE_ERROR_ARGUMENT;
    auto *st = new (std::nothrow) Statement(nullptr);
    if (!st) return MYWIRE_ERROR_NOMEM;
    try {
        C(conn)->add_statement(st);
    } catch (...) {
        delete st;
        return MYWIRE_ERROR_NOMEM;
    }
    st->attach(C(conn));
    *out = reinterpret_cast<mywire_stmt *>(st);
    return MYWIRE_OK;
}

void mywire_stmt_free(mywire_stmt *stmt) {
    Statement::release(S(stmt));  // noexcept: a close is queued, never sent here
}

int mywire_stmt_cached(mywire_conn *conn, const char *sql, size_t len, mywire_stmt **out) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    if (c->call() == Call::none) {
        if (out) *out = nullptr;
        if (!out || (!sql && len))
            return static_cast<int>(c->err().set(Errc::argument, "invalid argument to mywire_stmt_cached"));
    } else if (!c->stmt_cached_running()) {
        return static_cast<int>(c->err().set(Errc::out_of_sync,
                                             "commands out of sync: another call is in progress on this "
                                             "connection (call it again until it is done)"));
    }
    Statement *hit = nullptr;
    return run_call(c, Call::prepare,
                    [&] { return c->start_stmt_cached(std::string_view(sql ? sql : "", len), hit); },
                    [&] {
                        Statement *st = hit;
                        Errc rc = st ? Errc::ok : c->finish_stmt_cached(st);
                        if (out) *out = reinterpret_cast<mywire_stmt *>(st);
                        return static_cast<int>(rc);
                    });
}

int mywire_stmt_is_cached(const mywire_stmt *stmt) { return stmt && S(stmt)->cached() ? 1 : 0; }

uint64_t mywire_stmt_cache_held(const mywire_conn *conn) {
    return conn ? C(conn)->stmt_cache().entries.size() : 0;
}
uint64_t mywire_stmt_cache_hits(const mywire_conn *conn) { return conn ? C(conn)->stmt_cache().hits : 0; }
uint64_t mywire_stmt_cache_misses(const mywire_conn *conn) { return conn ? C(conn)->stmt_cache().misses : 0; }
uint64_t mywire_stmt_cache_evictions(const mywire_conn *conn) {
    return conn ? C(conn)->stmt_cache().evictions : 0;
}

int mywire_stmt_cache_clear(mywire_conn *conn) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    if (c->call() != Call::none)
        return static_cast<int>(c->err().set(Errc::out_of_sync, "commands out of sync: another call is in "
                                                                "progress on this connection (continue it first)"));
    c->clear_stmt_cache();  // noexcept: the closes are queued
    c->err().clear();
    return MYWIRE_OK;
}

int mywire_stmt_prepare(mywire_stmt *stmt, const char *sql, size_t len) {
    int rc = MYWIRE_OK;
    Connection *c = stmt_conn(stmt, rc);
    if (!c) return rc;
    if (c->call() == Call::none && !sql && len)
        return static_cast<int>(c->err().set(Errc::argument, "invalid argument to mywire_stmt_prepare"));
    if (c->stmt_cached_running())  // the call in progress is mywire_stmt_cached's
        return static_cast<int>(c->err().set(Errc::out_of_sync,
                                             "commands out of sync: mywire_stmt_cached is in progress on this "
                                             "connection (call it again until it is done)"));
    return run_call(
        c, Call::prepare, [&] { return c->start_prepare(*S(stmt), std::string_view(sql ? sql : "", len)); },
        [&] { return finish_plain(c); }, stmt);
}

int mywire_stmt_prepare_client(mywire_stmt *stmt, const char *sql, size_t len) {
    int rc = MYWIRE_OK;
    Connection *c = stmt_conn(stmt, rc);
    if (!c) return rc;
    if (c->call() != Call::none)
        return static_cast<int>(c->err().set(Errc::out_of_sync, "commands out of sync: another call is in progress"));
    if (!sql && len) return static_cast<int>(c->err().set(Errc::argument, "invalid argument to mywire_stmt_prepare_client"));
    return guarded(nullptr, [&] { return c->prepare_client(*S(stmt), std::string_view(sql ? sql : "", len)); });
}

int mywire_stmt_is_client_side(const mywire_stmt *stmt) { return stmt && S(stmt)->client_side() ? 1 : 0; }

unsigned mywire_stmt_param_count(const mywire_stmt *stmt) { return stmt ? S(stmt)->param_count() : 0; }
unsigned mywire_stmt_column_count(const mywire_stmt *stmt) { return stmt ? S(stmt)->column_count() : 0; }
const mywire_column *mywire_stmt_column_at(const mywire_stmt *stmt, unsigned index) {
    if (!stmt || index >= S(stmt)->column_count()) return nullptr;
    return reinterpret_cast<const mywire_column *>(&S(stmt)->columns_head().columns[index]);
}
const mywire_column *mywire_stmt_param_at(const mywire_stmt *stmt, unsigned index) {
    if (!stmt || index >= S(stmt)->params_head().columns.size()) return nullptr;
    return reinterpret_cast<const mywire_column *>(&S(stmt)->params_head().columns[index]);
}
uint32_t mywire_stmt_id(const mywire_stmt *stmt) { return stmt && S(stmt)->prepared() ? S(stmt)->id() : 0; }

namespace ft = mywire::proto::field_type;

int mywire_stmt_bind_null(mywire_stmt *stmt, unsigned index) {
    return bind(stmt, [&](Statement &s) { return s.bind_null(index); });
}
int mywire_stmt_bind_int8(mywire_stmt *stmt, unsigned index, int8_t value) {
    return bind(stmt, [&](Statement &s) { return s.bind_int(index, value, ft::tiny); });
}
int mywire_stmt_bind_int16(mywire_stmt *stmt, unsigned index, int16_t value) {
    return bind(stmt, [&](Statement &s) { return s.bind_int(index, value, ft::short_); });
}
int mywire_stmt_bind_int32(mywire_stmt *stmt, unsigned index, int32_t value) {
    return bind(stmt, [&](Statement &s) { return s.bind_int(index, value, ft::long_); });
}
int mywire_stmt_bind_int64(mywire_stmt *stmt, unsigned index, int64_t value) {
    return bind(stmt, [&](Statement &s) { return s.bind_int(index, value, ft::longlong); });
}
int mywire_stmt_bind_uint8(mywire_stmt *stmt, unsigned index, uint8_t value) {
    return bind(stmt, [&](Statement &s) { return s.bind_uint(index, value, ft::tiny); });
}
int mywire_stmt_bind_uint16(mywire_stmt *stmt, unsigned index, uint16_t value) {
    return bind(stmt, [&](Statement &s) { return s.bind_uint(index, value, ft::short_); });
}
int mywire_stmt_bind_uint32(mywire_stmt *stmt, unsigned index, uint32_t value) {
    return bind(stmt, [&](Statement &s) { return s.bind_uint(index, value, ft::long_); });
}
int mywire_stmt_bind_uint64(mywire_stmt *stmt, unsigned index, uint64_t value) {
    return bind(stmt, [&](Statement &s) { return s.bind_uint(index, value, ft::longlong); });
}
int mywire_stmt_bind_bit(mywire_stmt *stmt, unsigned index, uint64_t bits) {
    return bind(stmt, [&](Statement &s) { return s.bind_uint(index, bits, ft::longlong); });
}
int mywire_stmt_bind_float(mywire_stmt *stmt, unsigned index, float value) {
    return bind(stmt, [&](Statement &s) { return s.bind_float(index, value); });
}
int mywire_stmt_bind_double(mywire_stmt *stmt, unsigned index, double value) {
    return bind(stmt, [&](Statement &s) { return s.bind_double(index, value); });
}
int mywire_stmt_bind_decimal(mywire_stmt *stmt, unsigned index, const char *text, size_t len) {
    if (!text) return MYWIRE_ERROR_ARGUMENT;
    return bind(stmt, [&](Statement &s) { return s.bind_bytes(index, ft::newdecimal, {text, len}); });
}
int mywire_stmt_bind_string(mywire_stmt *stmt, unsigned index, const char *data, size_t len) {
    if (!data && len) return MYWIRE_ERROR_ARGUMENT;
    return bind(stmt, [&](Statement &s) { return s.bind_bytes(index, ft::string, {data ? data : "", len}); });
}
int mywire_stmt_bind_bytes(mywire_stmt *stmt, unsigned index, const void *data, size_t len) {
    if (!data && len) return MYWIRE_ERROR_ARGUMENT;
    return bind(stmt, [&](Statement &s) {
        return s.bind_bytes(index, ft::blob, {data ? static_cast<const char *>(data) : "", len});
    });
}
int mywire_stmt_bind_json(mywire_stmt *stmt, unsigned index, const char *text, size_t len) {
    if (!text && len) return MYWIRE_ERROR_ARGUMENT;
    // Sent as text: servers take JSON parameters as strings.
    return bind(stmt, [&](Statement &s) { return s.bind_bytes(index, ft::string, {text ? text : "", len}); });
}
int mywire_stmt_bind_time(mywire_stmt *stmt, unsigned index, const mywire_time *value) {
    if (!value) return MYWIRE_ERROR_ARGUMENT;
    return bind(stmt, [&](Statement &s) {
        return s.bind_time(index, *reinterpret_cast<const mywire::proto::Time *>(value));
    });
}
int mywire_stmt_clear_bindings(mywire_stmt *stmt) {
    return bind(stmt, [&](Statement &s) { return s.clear_bindings(); });
}

int mywire_stmt_send_long_data(mywire_stmt *stmt, unsigned index, const void *data, size_t len) {
    int rc = MYWIRE_OK;
    Connection *c = stmt_conn(stmt, rc);
    if (!c) return rc;
    if (c->call() == Call::none && !data && len)
        return static_cast<int>(c->err().set(Errc::argument, "invalid argument to mywire_stmt_send_long_data"));
    return run_call(c, Call::send,
                    [&] {
                        return c->start_send_long_data(
                            *S(stmt), index, std::string_view(data ? static_cast<const char *>(data) : "", len));
                    },
                    [&] { return finish_plain(c); }, stmt);
}

int mywire_stmt_set_row_results(mywire_stmt *stmt, int on) {
    if (!stmt) return MYWIRE_ERROR_ARGUMENT;
    S(stmt)->set_row_results(on != 0);
    return MYWIRE_OK;
}

uint64_t mywire_row_result_count(const mywire_result *res) { return res ? R(res)->row_results().size() : 0; }

int mywire_row_result(const mywire_result *res, uint64_t k, uint64_t *affected_rows, uint64_t *insert_id) {
    if (!res || k >= R(res)->row_results().size()) return MYWIRE_ERROR_ARGUMENT;
    const mywire::proto::RowResult &r = R(res)->row_results()[k];
    if (affected_rows) *affected_rows = r.affected_rows;
    if (insert_id) *insert_id = r.insert_id;
    return MYWIRE_OK;
}

int mywire_stmt_set_cursor(mywire_stmt *stmt, uint32_t rows_per_fetch) {
    if (!stmt) return MYWIRE_ERROR_ARGUMENT;
    S(stmt)->set_cursor(rows_per_fetch);
    return MYWIRE_OK;
}

int mywire_stmt_execute(mywire_stmt *stmt, int mode, mywire_result **out) {
    if (out) *out = nullptr;
    int rc = MYWIRE_OK;
    Connection *c = stmt_conn(stmt, rc);
    if (!c) return rc;
    if (!out || (c->call() == Call::none && mode != MYWIRE_BUFFERED && mode != MYWIRE_STREAMING))
        return static_cast<int>(c->err().set(Errc::argument, "invalid argument to mywire_stmt_execute"));
    // A client-side statement runs as a text query.
    Call kind = S(stmt)->client_side() ? Call::query : Call::execute;
    return run_call(
        c, kind, [&] { return c->start_execute(*S(stmt), mode == MYWIRE_STREAMING); },
        [&] { return finish_result(c, out); }, stmt);
}

int mywire_stmt_reset(mywire_stmt *stmt) {
    int rc = MYWIRE_OK;
    Connection *c = stmt_conn(stmt, rc);
    if (!c) return rc;
    return run_call(
        c, Call::command, [&] { return c->start_stmt_reset(*S(stmt)); }, [&] { return finish_plain(c); }, stmt);
}

int mywire_stmt_bind_default(mywire_stmt *stmt, unsigned index) {
    return bind(stmt, [&](Statement &s) { return s.bind_indicator(index, 2); });
}
int mywire_stmt_bind_ignore(mywire_stmt *stmt, unsigned index) {
    return bind(stmt, [&](Statement &s) { return s.bind_indicator(index, 3); });
}
int mywire_stmt_add_batch(mywire_stmt *stmt) {
    if (!stmt) return MYWIRE_ERROR_ARGUMENT;
    mywire::Error ignored;
    Connection *c = S(stmt)->connection();
    return bind(stmt, [&](Statement &s) { return s.add_batch(c ? c->err() : ignored); });
}
uint64_t mywire_stmt_batch_size(const mywire_stmt *stmt) { return stmt ? S(stmt)->batch_rows() : 0; }
int mywire_stmt_clear_batch(mywire_stmt *stmt) {
    if (!stmt) return MYWIRE_ERROR_ARGUMENT;
    S(stmt)->clear_batch();
    return MYWIRE_OK;
}
// The batch and the column arrays share the engine's batch call: one is not
// continued by the other.
static int batch_kind_mismatch(Connection *c) {
    return static_cast<int>(c->err().set(Errc::out_of_sync,
                                         "commands out of sync: another call is in progress on this connection "
                                         "(mywire_stmt_execute_batch and mywire_stmt_execute_array each "
                                         "continue only their own)"));
}
int mywire_stmt_execute_batch(mywire_stmt *stmt, mywire_result **out) {
    if (out) *out = nullptr;
    int rc = MYWIRE_OK;
    Connection *c = stmt_conn(stmt, rc);
    if (!c) return rc;
    if (!out) return static_cast<int>(c->err().set(Errc::argument, "invalid argument to mywire_stmt_execute_batch"));
    if (c->call() == Call::batch && c->array_call()) return batch_kind_mismatch(c);
    return run_call(
        c, Call::batch, [&] { return c->start_execute_batch(*S(stmt)); }, [&] { return finish_result(c, out); },
        stmt);
}

int mywire_stmt_bind_array(mywire_stmt *stmt, unsigned index, int type, const void *values, size_t stride,
                           const size_t *lengths, const uint8_t *indicators) {
    return bind(stmt, [&](Statement &s) { return s.bind_array(index, type, values, stride, lengths, indicators); });
}
int mywire_stmt_execute_array(mywire_stmt *stmt, uint64_t rows, mywire_result **out) {
    if (out) *out = nullptr;
    int rc = MYWIRE_OK;
    Connection *c = stmt_conn(stmt, rc);
    if (!c) return rc;
    if (!out) return static_cast<int>(c->err().set(Errc::argument, "invalid argument to mywire_stmt_execute_array"));
    if (c->call() == Call::batch && !c->array_call()) return batch_kind_mismatch(c);
    return run_call(
        c, Call::batch, [&] { return c->start_execute_array(*S(stmt), rows); }, [&] { return finish_result(c, out); },
        stmt);
}

// ------------------------------------------------------------ typed values

int mywire_get_int64(const mywire_result *res, unsigned index, int64_t *out) {
    return typed_get_fast(res, index, out, mywire::proto::to_int64, mywire::proto::fast_int64);
}
int mywire_get_uint64(const mywire_result *res, unsigned index, uint64_t *out) {
    return typed_get_fast(res, index, out, mywire::proto::to_uint64, mywire::proto::fast_uint64);
}
int mywire_get_double(const mywire_result *res, unsigned index, double *out) {
    return typed_get_fast(res, index, out, mywire::proto::to_double, mywire::proto::fast_double);
}
int mywire_get_time(const mywire_result *res, unsigned index, mywire_time *out) {
    // mywire_time and proto::Time have one layout (static_asserts above).
    return typed_get_fast(res, index, reinterpret_cast<mywire::proto::Time *>(out), mywire::proto::to_time,
                          mywire::proto::fast_time);
}

// mywire_get_bytes' every case but the hot one.
[[gnu::noinline]] static int get_bytes_slow(const mywire_result *res, unsigned index, const char **data, size_t *len) {
    if (data) *data = nullptr;
    if (len) *len = 0;
    if (!res || !data) return MYWIRE_ERROR_ARGUMENT;
    const mywire::Value *v = R(res)->text_value(index);
    if (!v) return MYWIRE_ERROR_ARGUMENT;
    if (!v->data) return MYWIRE_NULL;
    *data = v->data;
    if (len) *len = v->len;
    return MYWIRE_OK;
}

int mywire_get_bytes(const mywire_result *res, unsigned index, const char **data, size_t *len) {
    if (res && data) {
        if (const mywire::Value *v = R(res)->as_is_text(index)) {  // the hot path
            *data = v->data;
            if (len) *len = v->len;
            return MYWIRE_OK;
        }
    }
    return get_bytes_slow(res, index, data, len);
}

int mywire_result_is_binary(const mywire_result *res) { return res && R(res)->binary() ? 1 : 0; }
int mywire_result_metadata_cached(const mywire_result *res) {
    return res && R(res)->head.metadata_cached ? 1 : 0;
}

}  // extern "C"

// --------------------------------------------------- client-side escaping

#include <cstdio>
#include <cstring>

#include "proto/messages.hpp"
#include "proto/sqlformat.hpp"

static_assert(MYWIRE_STATUS_NO_BACKSLASH_ESCAPES == mywire::proto::status::no_backslash_escapes);

namespace {

// Escapes into the caller's buffer: all of it and a NUL, or nothing (out
// then holds "" when it has room for it).
Errc escape_to_buffer(unsigned collation_id, bool nbe, const char *in, size_t len, char *out,
                      size_t out_size, size_t *out_len, mywire::Error &err) {
    if (out_len) *out_len = 0;
    if (out && out_size) out[0] = '\0';
    if (!in && len) return err.set(Errc::argument, "in is NULL but len is not 0");
    if (!out && out_size) return err.set(Errc::argument, "out is NULL but out_size is not 0");
    std::string escaped;
    Errc rc = mywire::proto::escape_string(std::string_view(in ? in : "", len), collation_id, nbe,
                                           escaped, err);
    if (rc != Errc::ok) return rc;
    if (escaped.size() >= out_size) {
        if (out_len) *out_len = escaped.size() + 1;
        char msg[160];
        std::snprintf(msg, sizeof msg,
                      "the output buffer holds %zu bytes; the escaped text needs %zu (its NUL "
                      "included)",
                      out_size, escaped.size() + 1);
        return err.set(Errc::argument, msg);
    }
    std::memcpy(out, escaped.data(), escaped.size());
    out[escaped.size()] = '\0';
    if (out_len) *out_len = escaped.size();
    return Errc::ok;
}

}  // namespace

extern "C" {

int mywire_escape_string(mywire_conn *conn, const char *in, size_t len, char *out, size_t out_size,
                         size_t *out_len) {
    if (out_len) *out_len = 0;
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    if (c->call() != Call::none)
        return static_cast<int>(c->err().set(
            Errc::out_of_sync, "a call is in progress on this connection: finish it first"));
    return guarded(c, [&]() -> Errc {
        c->err().clear();
        if (out && out_size) out[0] = '\0';
        if (!c->connected())
            return c->err().set(Errc::state,
                                "not connected: the server's NO_BACKSLASH_ESCAPES mode is not "
                                "known (mywire_escape_string_for escapes without a connection)");
        mywire::Error charset;
        if (mywire::proto::check_escape_collation(c->opts.charset, charset) != Errc::ok)
            return c->err().set(Errc::state, charset.message);
        bool nbe = (c->session.status_flags & mywire::proto::status::no_backslash_escapes) != 0;
        return escape_to_buffer(c->opts.charset, nbe, in, len, out, out_size, out_len, c->err());
    });
}

int mywire_escape_string_for(unsigned collation_id, int no_backslash_escapes, const char *in,
                             size_t len, char *out, size_t out_size, size_t *out_len) {
    try {
        mywire::Error err;
        return static_cast<int>(escape_to_buffer(collation_id, no_backslash_escapes != 0, in, len,
                                                 out, out_size, out_len, err));
    } catch (const std::bad_alloc &) {
        if (out_len) *out_len = 0;
        return MYWIRE_ERROR_NOMEM;
    } catch (...) {
        if (out_len) *out_len = 0;
        return MYWIRE_ERROR_INTERNAL;
    }
}

}  // extern "C"

// ------------------------------------------------------- query attributes

namespace {

// One attribute setter: value encoded by `encode` (a proto::encode_*), then
// kept on the connection for its next query or execute. Nothing is sent, so
// nothing fails the connection (out of memory included: the attributes are
// as they were).
template <class F>
int query_attr(mywire_conn *conn, const char *name, F &&encode) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    Connection *c = C(conn);
    if (c->call() != Call::none)
        return static_cast<int>(c->err().set(Errc::out_of_sync, "commands out of sync: another call is in progress"));
    try {
        if (!name) return static_cast<int>(c->err().set(Errc::argument, "a query attribute needs a name"));
        mywire::proto::Param p;
        if (encode(p) != Errc::ok)
            return static_cast<int>(c->err().set(Errc::argument, "invalid value for query attribute"));
        Errc rc = c->set_query_attr(name, std::move(p));
        if (rc == Errc::ok) c->err().clear();
        return static_cast<int>(rc);
    } catch (...) {
        return static_cast<int>(c->err().set(Errc::nomem, "out of memory; the query attributes are as they were"));
    }
}

}  // namespace

// ----------------------------------------------- statements in pipelines

namespace {

template <class F>
int add_stmt_step(mywire_pipeline *p, mywire_stmt *stmt, F &&f) {
    if (!p || !stmt) return MYWIRE_ERROR_ARGUMENT;
    try {
        return static_cast<int>(f(*PL(p), *S(stmt)));
    } catch (const std::bad_alloc &) {
        return MYWIRE_ERROR_NOMEM;
    } catch (...) {
        return MYWIRE_ERROR_INTERNAL;
    }
}

}  // namespace

extern "C" {

int mywire_query_attributes_supported(const mywire_conn *conn) {
    return conn && C(conn)->query_attributes() ? 1 : 0;
}

int mywire_query_attr_null(mywire_conn *conn, const char *name) {
    return query_attr(conn, name, [](mywire::proto::Param &p) { return mywire::proto::encode_null(p); });
}
int mywire_query_attr_int64(mywire_conn *conn, const char *name, int64_t value) {
    return query_attr(conn, name, [&](mywire::proto::Param &p) { return mywire::proto::encode_int(p, value, ft::longlong); });
}
int mywire_query_attr_uint64(mywire_conn *conn, const char *name, uint64_t value) {
    return query_attr(conn, name, [&](mywire::proto::Param &p) { return mywire::proto::encode_uint(p, value, ft::longlong); });
}
int mywire_query_attr_double(mywire_conn *conn, const char *name, double value) {
    return query_attr(conn, name, [&](mywire::proto::Param &p) { return mywire::proto::encode_double(p, value); });
}
int mywire_query_attr_string(mywire_conn *conn, const char *name, const char *data, size_t len) {
    return query_attr(conn, name, [&](mywire::proto::Param &p) {
        if (!data && len) return Errc::argument;
        return mywire::proto::encode_bytes(p, ft::string, {data ? data : "", len});
    });
}
int mywire_query_attr_bytes(mywire_conn *conn, const char *name, const void *data, size_t len) {
    return query_attr(conn, name, [&](mywire::proto::Param &p) {
        if (!data && len) return Errc::argument;
        return mywire::proto::encode_bytes(p, ft::blob, {data ? static_cast<const char *>(data) : "", len});
    });
}
int mywire_query_attr_time(mywire_conn *conn, const char *name, const mywire_time *value) {
    return query_attr(conn, name, [&](mywire::proto::Param &p) {
        if (!value) return Errc::argument;
        return mywire::proto::encode_time(p, *reinterpret_cast<const mywire::proto::Time *>(value));
    });
}
int mywire_query_attr_clear(mywire_conn *conn) {
    if (!conn) return MYWIRE_ERROR_ARGUMENT;
    C(conn)->clear_query_attrs();
    return MYWIRE_OK;
}
unsigned mywire_query_attr_count(const mywire_conn *conn) {
    return conn ? static_cast<unsigned>(C(conn)->query_attr_count()) : 0;
}

int mywire_pipeline_add_prepare(mywire_pipeline *p, mywire_stmt *stmt, const char *sql, size_t len) {
    if (!sql && len) return MYWIRE_ERROR_ARGUMENT;
    return add_stmt_step(p, stmt, [&](mywire::Pipeline &pl, Statement &st) {
        return pl.add_prepare(st, std::string_view(sql ? sql : "", len));
    });
}

int mywire_pipeline_add_execute(mywire_pipeline *p, mywire_stmt *stmt) {
    return add_stmt_step(p, stmt, [](mywire::Pipeline &pl, Statement &st) { return pl.add_execute(st); });
}

int mywire_pipeline_add_stmt_close(mywire_pipeline *p, mywire_stmt *stmt) {
    return add_stmt_step(p, stmt, [](mywire::Pipeline &pl, Statement &st) { return pl.add_stmt_close(st); });
}

int mywire_pipeline_step_direct(const mywire_pipeline *p, size_t i) {
    const mywire::PipelineStep *st = step_at(p, i);
    return st && st->direct ? 1 : 0;
}

}  // extern "C"
