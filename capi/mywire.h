/*
 * mywire.h - the public C API of libmywire, a MySQL/MariaDB client library.
 *
 * This header is the contract: what is not declared here is not API.
 *
 * Conventions
 * - Handles are opaque. Constructors return a result code and hand the handle
 *   back through an out-parameter. Destructors accept NULL and may be called
 *   once per handle.
 * - Functions that can fail return an int result code (MYWIRE_OK on success).
 *   Result codes are only ever added, never renumbered.
 * - After a failure, the connection handle carries the error: mywire_errcode(),
 *   mywire_errno(), mywire_sqlstate(), mywire_errmsg(), mywire_client_error(),
 *   mywire_error_sent(). The text is valid until the next call that takes the
 *   same connection handle or one of its results whose rows are read from the
 *   connection (mywire_fetch() and mywire_result_free() of a streaming result
 *   can record a new error).
 * - Whether the connection survives a failure depends on the code only; see
 *   the table under "result codes", mywire_is_fatal() and
 *   mywire_is_connected(). Each function lists the codes it can return
 *   ("Returns:"); MYWIRE_ERROR_NOMEM and MYWIRE_ERROR_INTERNAL can come from
 *   any function that returns a code and are not repeated.
 * - Constants are C enums with fixed values (visible to FFI: LuaJIT's
 *   ffi.cdef, bindgen, cgo); functions take and return them as int. The same
 *   constants, with the result codes' texts and fatality, are listed in
 *   mywire_constants.json (installed as share/mywire/mywire_constants.json).
 * - Client-side errors (MYWIRE_ERROR_* other than MYWIRE_ERROR_SERVER) have a
 *   message written by mywire that never contains server-supplied text, errno 0
 *   and SQLSTATE "HY000". Server errors (MYWIRE_ERROR_SERVER) carry the
 *   server's error number, SQLSTATE and message; that message is untrusted
 *   input (bounded to 512 bytes, but may contain any byte except NUL).
 * - Strings passed in are copied; the caller keeps ownership of them.
 * - Pointers handed out are borrowed; each function documents how long one
 *   stays valid.
 *
 * Threads: no global initialisation is needed. Different connection handles
 * may be used from different threads at the same time. One connection handle
 * (and the results it produced) must be used by one thread at a time.
 * Callbacks (mywire_dialog_fn) run on the thread that made the call, inside
 * it, and must not call mywire functions on the same handle.
 */
#ifndef MYWIRE_H
#define MYWIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MYWIRE_BUILDING) && defined(__GNUC__)
#define MYWIRE_API __attribute__((visibility("default")))
#else
#define MYWIRE_API
#endif

/* ---------------------------------------------------------------- version */

#define MYWIRE_VERSION_MAJOR 0
#define MYWIRE_VERSION_MINOR 7
#define MYWIRE_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH */
#define MYWIRE_VERSION_NUMBER 700
#define MYWIRE_VERSION_STRING "0.7.0"

/* The version of the library actually loaded, to compare with the macros. */
MYWIRE_API unsigned mywire_version_number(void);
MYWIRE_API const char *mywire_version(void);

/* ----------------------------------------------------------- result codes */

/* Every int a function returns is one of these. The numbers are fixed; new
 * codes are only ever appended.
 *
 * After a failing call the connection either survives (it is as usable as
 * before the call: run the next command) or is closed (only mywire_connect,
 * the getters and mywire_conn_free are left; results still open on it end
 * with the same code). mywire_is_fatal(code) says which, from this table:
 *
 *   code                     survives  note
 *   MYWIRE_ERROR_SERVER         yes    from mywire_connect: the login failed
 *   MYWIRE_ERROR_ARGUMENT       yes    nothing was done
 *   MYWIRE_ERROR_OPTION         yes    nothing was done
 *   MYWIRE_ERROR_URI            yes    nothing was done
 *   MYWIRE_ERROR_NOMEM          no     mywire_seek: yes, the result is as it was
 *   MYWIRE_ERROR_CONNECT        no     only from mywire_connect*
 *   MYWIRE_ERROR_TIMEOUT        no
 *   MYWIRE_ERROR_LOST           no
 *   MYWIRE_ERROR_PROTOCOL       no
 *   MYWIRE_ERROR_AUTH           no     only from mywire_connect*
 *   MYWIRE_ERROR_OUT_OF_SYNC    yes    nothing was sent
 *   MYWIRE_ERROR_STATE          yes    nothing was done (the handle was not
 *                                      usable for this call)
 *   MYWIRE_ERROR_LIMIT          no
 *   MYWIRE_ERROR_UNSUPPORTED    no     mywire_query_attr_*: yes, nothing was done
 *   MYWIRE_ERROR_INTERNAL       no
 *   MYWIRE_ERROR_TLS            no
 *   MYWIRE_ERROR_CANCELLED      yes
 *   MYWIRE_ERROR_RESULT_TOO_LARGE yes
 *   MYWIRE_ERROR_CONVERSION     yes    only from the typed getters
 *
 * A failed mywire_connect always leaves the handle unconnected, whatever the
 * code (it may connect again). Where in doubt, mywire_is_connected(). */
enum mywire_code {
    MYWIRE_OK = 0,
    /* The server answered with an error packet; see mywire_errno/sqlstate/errmsg. */
    MYWIRE_ERROR_SERVER = 1,
    /* A NULL handle or pointer, an index out of range, or an invalid argument. */
    MYWIRE_ERROR_ARGUMENT = 2,
    /* An unknown option name or an option value out of range. */
    MYWIRE_ERROR_OPTION = 3,
    /* A connection URI that cannot be parsed (or has an unknown key). */
    MYWIRE_ERROR_URI = 4,
    /* Memory could not be allocated. The connection is closed (a result or
     * a command's reply may have been half read). */
    MYWIRE_ERROR_NOMEM = 5,
    /* The server could not be reached (name resolution, refused, unreachable;
     * mywire_client_error() tells which). */
    MYWIRE_ERROR_CONNECT = 6,
    /* A connect, read or write deadline passed. The connection is closed. */
    MYWIRE_ERROR_TIMEOUT = 7,
    /* The connection was lost (closed by the peer or a socket error). */
    MYWIRE_ERROR_LOST = 8,
    /* The server sent something that does not follow the protocol (truncated
     * or malformed packet, wrong sequence number). The connection is closed. */
    MYWIRE_ERROR_PROTOCOL = 9,
    /* Authentication cannot proceed on the client side (unsupported or refused
     * plugin, too many round trips, a password rule). */
    MYWIRE_ERROR_AUTH = 10,
    /* A command was issued while a streaming result is still unread, or
     * before the remaining results were read with mywire_next_result(). */
    MYWIRE_ERROR_OUT_OF_SYNC = 11,
    /* The handle is not connected, or was closed, or failed earlier; or an
     * option was set while connected. */
    MYWIRE_ERROR_STATE = 12,
    /* A limit that leaves the connection unusable was exceeded:
     * max_allowed_packet, max_columns, the size of a result's column
     * definitions. The connection is closed. (max_result_bytes has its own
     * code, MYWIRE_ERROR_RESULT_TOO_LARGE.) */
    MYWIRE_ERROR_LIMIT = 13,
    /* The server lacks a capability the client needs, or asks for one the
     * client refuses (LOCAL INFILE). The connection is closed. */
    MYWIRE_ERROR_UNSUPPORTED = 14,
    /* An internal error (a bug in mywire). The connection is closed. */
    MYWIRE_ERROR_INTERNAL = 15,
    /* TLS setup or handshake failed (mywire_tls_failure() tells why), or a
     * TLS alert ended the session. The connection is closed. */
    MYWIRE_ERROR_TLS = 16,
    /* mywire_cancel() stopped the statement; the connection is still usable. */
    MYWIRE_ERROR_CANCELLED = 17,
    /* A buffered result exceeded max_result_bytes; the rest of it was read and
     * dropped, and the connection is still usable. */
    MYWIRE_ERROR_RESULT_TOO_LARGE = 18,
    /* A typed getter (mywire_get_int64, ...) cannot convert the value to the
     * requested type without loss (see "typed values"); nothing else changed. */
    MYWIRE_ERROR_CONVERSION = 19,

    /* Not errors: the outcomes of mywire_fetch() and mywire_next_result(), */
    MYWIRE_ROW = 100,
    MYWIRE_DONE = 101,
    /* and of the non-blocking calls: call again once the socket
     * (mywire_socket()) is readable / writable. */
    MYWIRE_WAIT_READ = 102,
    MYWIRE_WAIT_WRITE = 103,
    /* A typed getter's value is SQL NULL (its output is left as it was). */
    MYWIRE_NULL = 104
};

/* A static English text for a result code; never NULL. */
MYWIRE_API const char *mywire_errstr(int code);
/* 1 when a call that failed with this code has closed the connection (see
 * the table above), 0 when the connection survives it, and 0 for MYWIRE_OK,
 * MYWIRE_ROW, MYWIRE_DONE, MYWIRE_WAIT_* and numbers that are not codes. */
MYWIRE_API int mywire_is_fatal(int code);

/* ------------------------------------------------------------ connections */

typedef struct mywire_conn mywire_conn;
typedef struct mywire_result mywire_result;

/* Allocate an unconnected handle with default options.
 * Returns: OK; ARGUMENT (out is NULL); NOMEM (*out is NULL). */
MYWIRE_API int mywire_conn_new(mywire_conn **out);

/* Send COM_QUIT if connected (waiting at most a second to write it), close
 * the socket and free the handle. Results still open on it are not freed:
 * they outlive the handle and must each be freed with mywire_result_free()
 * (their data stays readable; a streaming one then fetches
 * MYWIRE_ERROR_STATE). Accepts NULL. */
MYWIRE_API void mywire_conn_free(mywire_conn *conn);

/* Options. Set them before connecting; they are copied. NULL clears a string
 * option.
 * Returns (every setter): OK; ARGUMENT (NULL handle); OPTION (a value out of
 * range); STATE (connected, or after mywire_close()). The connection is never
 * changed by a failing setter. */
MYWIRE_API int mywire_set_host(mywire_conn *conn, const char *host);
MYWIRE_API int mywire_set_port(mywire_conn *conn, unsigned port);
MYWIRE_API int mywire_set_unix_socket(mywire_conn *conn, const char *path);
MYWIRE_API int mywire_set_user(mywire_conn *conn, const char *user);
MYWIRE_API int mywire_set_password(mywire_conn *conn, const char *password);
MYWIRE_API int mywire_set_database(mywire_conn *conn, const char *database);
/* Timeouts in milliseconds; 0 means none. Defaults: connect 10000, read and
 * write 0. Measured on a monotonic clock. What each bounds today:
 * - connect_timeout: all of mywire_connect after name resolution (which is
 *   not bounded): the TCP or unix-socket connect, the TLS handshake and the
 *   whole login, as one deadline. Passing it gives MYWIRE_ERROR_TIMEOUT
 *   (client error CONNECT_TIMEOUT).
 * - read_timeout / write_timeout: each single wait for the socket to become
 *   readable / writable after the connect, not a whole call: a server that
 *   sends a byte now and then keeps a call waiting past read_timeout.
 *   Passing one gives MYWIRE_ERROR_TIMEOUT (READ_TIMEOUT / WRITE_TIMEOUT)
 *   and closes the connection. */
MYWIRE_API int mywire_set_connect_timeout(mywire_conn *conn, unsigned ms);
MYWIRE_API int mywire_set_read_timeout(mywire_conn *conn, unsigned ms);
MYWIRE_API int mywire_set_write_timeout(mywire_conn *conn, unsigned ms);
/* The largest packet accepted from the server, in bytes, after reassembly of
 * split packets. Default 64 MiB, range 1 KiB .. 1 GiB. */
MYWIRE_API int mywire_set_max_allowed_packet(mywire_conn *conn, uint64_t bytes);
/* The most bytes one buffered result may hold. Default 1 GiB; 0 = no limit. */
MYWIRE_API int mywire_set_max_result_bytes(mywire_conn *conn, uint64_t bytes);
/* The most columns a result may announce. Default 4096, range 1 .. 65535. */
MYWIRE_API int mywire_set_max_columns(mywire_conn *conn, unsigned columns);
/* Allow several statements separated by ';' in one query. Default off. */
MYWIRE_API int mywire_set_multi_statements(mywire_conn *conn, int enable);
/* Character set (collation) number sent in the handshake. Default 45
 * (utf8mb4_general_ci). */
MYWIRE_API int mywire_set_charset(mywire_conn *conn, unsigned collation_id);
/* Add a connection attribute (sent when the server supports them). mywire
 * always sends _client_name, _client_version, _os and _pid. ARGUMENT for an
 * empty or NULL key or a NULL value. */
MYWIRE_API int mywire_set_connect_attr(mywire_conn *conn, const char *key, const char *value);

/* Set any option by name, with the value as text: the same keys as the URI
 * query string (see README): host, port, socket, user, password, database,
 * connect_timeout, read_timeout, write_timeout, max_allowed_packet,
 * max_result_bytes, max_columns, multi_statements, charset, cache_metadata,
 * auto_reprepare, stmt_cache (see "prepared statements"), and the TLS,
 * authentication and compression keys below. A '-' in a key is read as '_'
 * ("ssl-mode" = "ssl_mode"). Booleans are 1/0, true/false, on/off, yes/no.
 * Unknown keys give MYWIRE_ERROR_OPTION.
 *
 * TLS:
 *   ssl_mode          disabled | preferred | required | verify_ca | verify_identity
 *   ssl_ca, ssl_capath  trusted CA file / directory (without ssl_mode: verify_ca)
 *   ssl_cert, ssl_key, ssl_key_password   client certificate, key, passphrase
 *   ssl_crl, ssl_crlpath  revocation list file / directory (checked when set
 *                     and the mode verifies the certificate: verify_ca or
 *                     verify_identity)
 *   tls_version       lowest TLS version: TLSv1.2 (default) or TLSv1.3; a list
 *                     such as "TLSv1.2,TLSv1.3" means its lowest member
 *   ssl_cipher        TLS 1.2 cipher list (OpenSSL syntax)
 *   tls_ciphersuites  TLS 1.3 cipher suites (OpenSSL syntax)
 *   ssl_sni           name sent as SNI (default: the host, unless an IP address)
 *   ssl_fingerprint   the server certificate's SHA-256, hex (colons allowed);
 *                     the connection fails unless it matches
 * Authentication:
 *   password2, password3      the 2nd and 3rd factor (MySQL multi-factor auth)
 *   server_public_key_path    RSA public key (PEM) of the server, for
 *                             caching_sha2_password / sha256_password without TLS
 *   get_server_public_key     1 to allow asking the server for that key
 *                             (a man in the middle can replace it)
 *   enable_cleartext_plugin   1 to allow sending the password in clear
 *                             (mysql_clear_password, dialog), and then only
 *                             over verified TLS or a unix socket
 *   allow_unverified_tls_password  1 to send the password itself (SHA-2 full
 *                             authentication, the clear-text plugins) over TLS
 *                             that did not verify the server (preferred,
 *                             required): open to a man in the middle. By
 *                             default it goes only over a unix socket, TLS
 *                             with verify_ca / verify_identity or
 *                             ssl_fingerprint, or RSA-encrypted without TLS.
 *   auth_plugins              comma-separated allow-list of plugins the server
 *                             may use; default: all built in
 * Compression:
 *   compress          off (default) | zlib | zstd | on (zstd when the server
 *                     offers it, else zlib). Fails if the server offers none
 *                     of what was asked.
 *   compression_level zstd level 1..22 (default 3)
 * Returns: as the setters; ARGUMENT for a NULL key or value. */
MYWIRE_API int mywire_set_option(mywire_conn *conn, const char *key, const char *value);

/* Parse a URI without connecting and apply it as options:
 *   mysql://user:password@host:port/database?key=value&key=value
 * Every part is optional and percent-decoded. "[::1]" brackets an IPv6
 * address. The key "socket" selects a unix socket.
 * Returns: as the setters, but URI (not OPTION) for an unknown key, a bad
 * value or a bad escape; ARGUMENT for a NULL uri. */
MYWIRE_API int mywire_set_uri(mywire_conn *conn, const char *uri);

/* Connect and authenticate with the options set so far. With a unix socket
 * set, host and port are ignored. Host defaults to "localhost" (TCP to
 * localhost), port to 3306. A handle whose connection failed (or was lost)
 * may connect again; a handle after mywire_close() may not.
 * Returns: OK; ARGUMENT (NULL handle); STATE (already connected, or after
 * mywire_close()); CONNECT; TIMEOUT; LOST; PROTOCOL; TLS; AUTH; UNSUPPORTED;
 * LIMIT (a packet over max_allowed_packet); SERVER (the server refused the
 * login, e.g. errno 1045). Every failure leaves the handle unconnected. */
MYWIRE_API int mywire_connect(mywire_conn *conn);

/* Shorthand: set the given options (NULL / 0 keeps the current one) and
 * connect. Returns: the setters' codes, then mywire_connect's. */
MYWIRE_API int mywire_connect_to(mywire_conn *conn, const char *host, const char *user,
                                 const char *password, const char *database, unsigned port,
                                 const char *unix_socket);

/* TLS modes. Default: MYWIRE_SSL_MODE_DEFAULT, which is PREFERRED over TCP,
 * VERIFY_CA when a CA is given, and no TLS over a unix socket (a secure
 * transport already). REQUIRED and stricter never fall back to plain text. */
enum mywire_ssl_mode {
    MYWIRE_SSL_MODE_DEFAULT = 0,
    MYWIRE_SSL_MODE_DISABLED = 1,
    MYWIRE_SSL_MODE_PREFERRED = 2,
    MYWIRE_SSL_MODE_REQUIRED = 3,
    MYWIRE_SSL_MODE_VERIFY_CA = 4,
    MYWIRE_SSL_MODE_VERIFY_IDENTITY = 5
};
MYWIRE_API int mywire_set_ssl_mode(mywire_conn *conn, int mode);

/* The statement cache's bound (see mywire_stmt_cached): 0 (off, the
 * default) .. 4096 server statements; OPTION beyond. Same as the
 * "stmt_cache" key. */
MYWIRE_API int mywire_set_stmt_cache(mywire_conn *conn, unsigned statements);

/* Compression (see the "compress" key). */
enum mywire_compress {
    MYWIRE_COMPRESS_OFF = 0,
    MYWIRE_COMPRESS_ZLIB = 1,
    MYWIRE_COMPRESS_ZSTD = 2,
    MYWIRE_COMPRESS_ANY = 3
};
MYWIRE_API int mywire_set_compression(mywire_conn *conn, int algorithm);

/* Answers the dialog (PAM) plugin's prompts other than the first password
 * prompt (which is answered with the password; later secret prompts, such
 * as a one-time code, come here with echo 0). Secret answers, like the
 * password, are sent only with enable_cleartext_plugin over verified TLS or
 * a unix socket. Write a NUL-terminated
 * answer of at most answer_size bytes into answer and return 0, or return
 * nonzero to abort the login. echo is 1 for an ordinary question, 0 for a
 * secret one. prompt is the server's text (untrusted). Without a callback
 * such a prompt fails the login with MYWIRE_ERROR_AUTH.
 * The callback runs on the thread that called mywire_connect (or
 * mywire_connect_to / mywire_connect_uri), inside that call, and must not
 * call any mywire function on the same handle (other handles are fine). */
typedef int (*mywire_dialog_fn)(void *user_data, int echo, const char *prompt, char *answer,
                                size_t answer_size);
MYWIRE_API int mywire_set_dialog_callback(mywire_conn *conn, mywire_dialog_fn fn,
                                          void *user_data);

/* Shorthand: mywire_set_uri() then mywire_connect().
 * Returns: mywire_set_uri's codes, then mywire_connect's. */
MYWIRE_API int mywire_connect_uri(mywire_conn *conn, const char *uri);

/* Send COM_QUIT (waiting at most a second to write it) and close. The handle
 * can then only be freed or inspected (other calls give MYWIRE_ERROR_STATE).
 * Results still open stay valid and must be freed. Idempotent. */
MYWIRE_API void mywire_close(mywire_conn *conn);

/* ------------------------------------------------------------------ errors */

/* The result code of the last call that failed on this handle, or MYWIRE_OK
 * if the last call succeeded. NULL gives MYWIRE_ERROR_ARGUMENT. */
MYWIRE_API int mywire_errcode(const mywire_conn *conn);
/* The server's error number (e.g. 1045) for MYWIRE_ERROR_SERVER; 0 otherwise. */
MYWIRE_API unsigned mywire_errno(const mywire_conn *conn);
/* Five characters; "00000" after success, "HY000" for client errors. */
MYWIRE_API const char *mywire_sqlstate(const mywire_conn *conn);
/* A message, "" after success. Never NULL, even for a NULL handle. Valid
 * until the next call on the handle or on one of its streaming results. */
MYWIRE_API const char *mywire_errmsg(const mywire_conn *conn);

/* Where the last client-side error happened, for programs that must tell
 * failures apart (retry logic, CR_* numbers): MYWIRE_CLIENT_ERROR_NONE after
 * success or for a server error (MYWIRE_ERROR_SERVER), OTHER for a NULL
 * handle and for client errors without a more precise value. */
enum mywire_client_error_code {
    MYWIRE_CLIENT_ERROR_NONE = 0,
    MYWIRE_CLIENT_ERROR_RESOLVE = 1,          /* the host name could not be resolved */
    MYWIRE_CLIENT_ERROR_REFUSED = 2,          /* every address refused the connection */
    MYWIRE_CLIENT_ERROR_UNREACHABLE = 3,      /* no route / network unreachable */
    MYWIRE_CLIENT_ERROR_CONNECT_TIMEOUT = 4,  /* connect_timeout passed (connect or login) */
    MYWIRE_CLIENT_ERROR_SEND_FAILED = 5,      /* a write to the socket failed */
    MYWIRE_CLIENT_ERROR_LOST_READING = 6,     /* the peer closed or reset while a reply was read */
    MYWIRE_CLIENT_ERROR_READ_TIMEOUT = 7,
    MYWIRE_CLIENT_ERROR_WRITE_TIMEOUT = 8,
    MYWIRE_CLIENT_ERROR_TLS = 9,              /* a TLS error (handshake, alert, certificate) */
    MYWIRE_CLIENT_ERROR_CANCELLED = 10,       /* mywire_cancel stopped the statement */
    MYWIRE_CLIENT_ERROR_ABORTED = 11,         /* the call was aborted and the connection closed */
    MYWIRE_CLIENT_ERROR_OTHER = 12            /* any other client-side failure */
};
MYWIRE_API int mywire_client_error(const mywire_conn *conn);
/* 1 when at least one byte of the command that failed last had been written
 * to the socket, 0 when none had (the server cannot have run it, so it may be
 * retried on a new connection). For mywire_connect, the command is the login
 * (0 when the server could not be reached or its greeting failed). 0 after
 * success, for a NULL handle and for the codes a call gives before it writes
 * anything (ARGUMENT, OPTION, URI, STATE, OUT_OF_SYNC). */
MYWIRE_API int mywire_error_sent(const mywire_conn *conn);

/* ------------------------------------------------------ connection status */

/* 1 while the handle is connected: a command may run (possibly after
 * reading an unread result), 0 before connecting, after a fatal error
 * (mywire_is_fatal()), after mywire_close() and for NULL. */
MYWIRE_API int mywire_is_connected(const mywire_conn *conn);

/* The server's version of the last successful connect, "" before one. The
 * string stays valid, unchanged, until the handle is freed, even across a
 * reconnect (which makes mywire_server_version return a new pointer). */
MYWIRE_API const char *mywire_server_version(const mywire_conn *conn);
/* The server's id of this session (for KILL), 0 when not connected. */
MYWIRE_API uint64_t mywire_connection_id(const mywire_conn *conn);
/* Deprecated (unsigned long differs in width between platforms): the same
 * id as mywire_connection_id() while connected; not cleared when the
 * connection is lost. */
MYWIRE_API unsigned long mywire_thread_id(const mywire_conn *conn);
/* Server status flags (SERVER_STATUS_*) from the last OK/EOF packet. */
MYWIRE_API unsigned mywire_server_status(const mywire_conn *conn);
/* The authentication plugin that completed the last login, "" before one.
 * Valid until the handle is freed, as mywire_server_version(). */
MYWIRE_API const char *mywire_auth_plugin(const mywire_conn *conn);
/* 1 for MariaDB, 0 for MySQL (or not connected). */
MYWIRE_API int mywire_is_mariadb(const mywire_conn *conn);
/* "tcp" or "unix" while connected, "" otherwise (a static string). */
MYWIRE_API const char *mywire_transport(const mywire_conn *conn);
/* 1 when the connection is encrypted with TLS. */
MYWIRE_API int mywire_tls_active(const mywire_conn *conn);
/* The TLS version ("TLSv1.3") and cipher of the connection, "" without TLS
 * or when not connected. Valid until the handle is freed, as
 * mywire_server_version(). */
MYWIRE_API const char *mywire_tls_version(const mywire_conn *conn);
MYWIRE_API const char *mywire_tls_cipher(const mywire_conn *conn);
/* 1 when the server's certificate was verified (chain for VERIFY_CA, chain
 * and name for VERIFY_IDENTITY) or matched ssl_fingerprint. */
MYWIRE_API int mywire_tls_verified(const mywire_conn *conn);
/* Why the last connect failed in TLS, MYWIRE_TLS_FAILURE_NONE otherwise. */
enum mywire_tls_failure_reason {
    MYWIRE_TLS_FAILURE_NONE = 0,
    MYWIRE_TLS_FAILURE_NOT_OFFERED = 1,    /* server does not support TLS */
    MYWIRE_TLS_FAILURE_UNTRUSTED = 2,      /* chain not trusted by the CA */
    MYWIRE_TLS_FAILURE_EXPIRED = 3,
    MYWIRE_TLS_FAILURE_NOT_YET_VALID = 4,
    MYWIRE_TLS_FAILURE_HOSTNAME = 5,       /* name / IP address mismatch */
    MYWIRE_TLS_FAILURE_REVOKED = 6,
    MYWIRE_TLS_FAILURE_FINGERPRINT = 7,    /* ssl_fingerprint mismatch */
    MYWIRE_TLS_FAILURE_CONFIG = 8,         /* unreadable CA/cert/key/CRL, bad cipher list */
    MYWIRE_TLS_FAILURE_HANDSHAKE = 9       /* any other handshake failure */
};
MYWIRE_API int mywire_tls_failure(const mywire_conn *conn);
/* "none", "zlib" or "zstd" (static strings); "none" when not connected. */
MYWIRE_API const char *mywire_compression(const mywire_conn *conn);
/* The descriptor to poll: the socket while connected (and during a
 * non-blocking login), an epoll descriptor while a non-blocking connect
 * resolves the name or connects (see "non-blocking use"); -1 otherwise. For
 * poll() only: reading or writing it breaks the protocol. */
MYWIRE_API int mywire_socket(const mywire_conn *conn);

/* ---------------------------------------------------------------- commands */

/* Each command needs a connected handle with no unread streaming result
 * (else MYWIRE_ERROR_OUT_OF_SYNC).
 * Returns (each): OK; SERVER (the connection survives); ARGUMENT (NULL
 * handle or pointer, an empty database name); OUT_OF_SYNC; STATE (not
 * connected); and, closing the connection, TIMEOUT, LOST, PROTOCOL, LIMIT,
 * TLS. */
MYWIRE_API int mywire_ping(mywire_conn *conn);
MYWIRE_API int mywire_select_db(mywire_conn *conn, const char *database);
MYWIRE_API int mywire_reset_connection(mywire_conn *conn);
/* Turn multi-statements on or off for this session (COM_SET_OPTION). */
MYWIRE_API int mywire_set_server_multi_statements(mywire_conn *conn, int enable);
/* COM_STATISTICS: *text (len bytes, NUL-terminated; server-supplied) is
 * valid until the next call on the handle. */
MYWIRE_API int mywire_statistics(mywire_conn *conn, const char **text, size_t *len);

/* ----------------------------------------------------------------- queries */

/* Buffered: all rows are read into memory before the call returns.
 * Streaming: rows are read one at a time by mywire_fetch(); until the result
 * is read to its end (or freed, which drains it), no other command can run on
 * the connection. The two are exclusive values, not flags. */
enum mywire_result_mode {
    MYWIRE_BUFFERED = 0,
    MYWIRE_STREAMING = 1
};

/* Send a text query (COM_QUERY) of len bytes (it may contain NUL bytes) and
 * read the first result. *out receives a result handle for every outcome that
 * is not an error: a result set (mywire_column_count() > 0) or an OK
 * (column count 0, with affected rows etc.). On error *out is NULL.
 * A server error in a later statement of a multi-statement query is reported
 * by mywire_next_result().
 * Returns: the commands' codes; RESULT_TOO_LARGE (buffered, over
 * max_result_bytes; survives); UNSUPPORTED (the server asks for LOCAL
 * INFILE; closes); LIMIT (max_columns, column definitions too large). */
MYWIRE_API int mywire_query(mywire_conn *conn, const char *sql, size_t len, int mode,
                            mywire_result **out);

/* 1 if the server announced another result for the current query. */
MYWIRE_API int mywire_more_results(const mywire_conn *conn);

/* Read the next result of a multi-result query. The previous result must have
 * been read to its end (a buffered one always is; a streaming one is drained
 * if not). Returns MYWIRE_OK with *out set, MYWIRE_DONE with *out NULL when
 * there are no more, or an error: mywire_query's codes, or a code from
 * draining the previous streaming result. */
MYWIRE_API int mywire_next_result(mywire_conn *conn, int mode, mywire_result **out);

/* Free a result. A streaming result not read to its end is drained first
 * (errors while draining are kept on the connection). Accepts NULL. A result
 * may be freed after its connection was freed. */
MYWIRE_API void mywire_result_free(mywire_result *res);

/* ---------------------------------------------------------------- results */

/* Number of columns; 0 for an OK result (no rows). */
MYWIRE_API unsigned mywire_column_count(const mywire_result *res);
MYWIRE_API uint64_t mywire_affected_rows(const mywire_result *res);
MYWIRE_API uint64_t mywire_insert_id(const mywire_result *res);
MYWIRE_API unsigned mywire_warning_count(const mywire_result *res);
MYWIRE_API unsigned mywire_status_flags(const mywire_result *res);
/* The OK packet's human readable info ("Rows matched: 1 ..."), "" if none.
 * Server-supplied text. Valid until the result is freed. */
MYWIRE_API const char *mywire_info(const mywire_result *res);
/* Buffered: the number of rows. Streaming: the rows fetched so far. */
MYWIRE_API uint64_t mywire_row_count(const mywire_result *res);

/* Column metadata. Strings are NUL-terminated server-supplied text and valid
 * until the result is freed. Fields may be added at the end of this struct in
 * later versions; it is only ever handed out by pointer. */
typedef struct mywire_column {
    const char *name;       /* alias as in the select list */
    const char *org_name;   /* column name in the table */
    const char *table;      /* table alias */
    const char *org_table;  /* table name */
    const char *schema;     /* database */
    unsigned type;          /* MYWIRE_TYPE_* (the protocol's field type) */
    unsigned flags;         /* MYWIRE_FLAG_* */
    unsigned charset;       /* collation id; 63 is binary */
    unsigned decimals;
    uint32_t length;        /* display length */
    size_t name_len, org_name_len, table_len, org_table_len, schema_len;
} mywire_column;

/* NULL when res is NULL or index >= column count. */
MYWIRE_API const mywire_column *mywire_column_at(const mywire_result *res, unsigned index);

/* Read the next row. Returns MYWIRE_ROW when a row is available, MYWIRE_DONE
 * after the last one (mywire_more_results() then tells whether another result
 * follows), or an error code (the error is on the connection, too). An error
 * is sticky: later calls return the same code, never MYWIRE_DONE. A streaming
 * result whose connection was closed or freed gives MYWIRE_ERROR_STATE.
 * Returns: buffered: ROW, DONE (never an error). Streaming: ROW; DONE;
 * ARGUMENT (NULL); STATE; SERVER (an error packet ended the result; the
 * connection survives); and, closing the connection, TIMEOUT, LOST,
 * PROTOCOL, LIMIT, TLS. */
MYWIRE_API int mywire_fetch(mywire_result *res);

/* Buffered results only: position before row index so that the next
 * mywire_fetch() returns it. Returns: OK; ARGUMENT (NULL, a streaming result,
 * index > row count); NOMEM (the result and connection are unchanged). The
 * error is not recorded on the connection. */
MYWIRE_API int mywire_seek(mywire_result *res, uint64_t row_index);

/* A value of the current row. SQL NULL is data == NULL; an empty string is a
 * non-NULL data with len 0. Data is followed by a NUL byte (so text values are
 * C strings), but may itself contain NUL bytes. */
typedef struct mywire_value {
    const char *data;
    size_t len;
} mywire_value;

/* The current row's values, an array of mywire_column_count() entries.
 * Streaming: valid until the next mywire_fetch() or mywire_result_free().
 * Buffered: the data stays valid until the result is freed; the array itself
 * until the next mywire_fetch(). */
MYWIRE_API const mywire_value *mywire_row(const mywire_result *res);

/* One value of the current row: its data (NULL for SQL NULL or an index out
 * of range) and, if len is not NULL, its length. Same lifetime as mywire_row(). */
MYWIRE_API const char *mywire_get(const mywire_result *res, unsigned index, size_t *len);
/* 1 if the value is SQL NULL (or the index is out of range), else 0. */
MYWIRE_API int mywire_is_null(const mywire_result *res, unsigned index);

/* Field types (protocol values). */
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

/* Column flags. */
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

/* Server status flags. */
enum mywire_status_flag {
    MYWIRE_STATUS_IN_TRANS = 0x0001,
    MYWIRE_STATUS_AUTOCOMMIT = 0x0002,
    MYWIRE_STATUS_MORE_RESULTS_EXISTS = 0x0008,
    MYWIRE_STATUS_CURSOR_EXISTS = 0x0040,
    MYWIRE_STATUS_LAST_ROW_SENT = 0x0080,
    MYWIRE_STATUS_PS_OUT_PARAMS = 0x1000,
    /* sql_mode has NO_BACKSLASH_ESCAPES ('\\' is an ordinary character in
     * string literals); mywire_escape_string() follows it. */
    MYWIRE_STATUS_NO_BACKSLASH_ESCAPES = 0x0200
};

/* ------------------------------------------------------- non-blocking use
 *
 * Every call that can wait on the network -- mywire_connect (and _to, _uri),
 * mywire_query, mywire_next_result, mywire_fetch on a streaming result,
 * mywire_ping, mywire_select_db, mywire_reset_connection, mywire_statistics,
 * mywire_set_server_multi_statements -- runs as one resumable operation. On a
 * blocking connection (the default) the call waits until the operation is
 * done. On a non-blocking one it returns at once with MYWIRE_WAIT_READ or
 * MYWIRE_WAIT_WRITE while the operation must wait: poll mywire_socket() for
 * that event (and at most mywire_timeout_ms()), then call the SAME function
 * again to continue -- its arguments are not read again (the first call took
 * what it needs: the SQL text is copied into the request at once). Any other
 * call on the handle meanwhile fails with MYWIRE_ERROR_OUT_OF_SYNC (getters
 * excepted), and so does the same function on another statement or pipeline
 * of the connection: a statement's or pipeline's call is continued on that
 * statement or pipeline. The blocking calls are this same loop with poll() inside: the
 * two modes run the same code.
 *
 * TLS (its handshake included), compression and unix sockets work the same
 * way, and so does the connect itself: the host name is resolved with c-ares
 * and each address tried in turn without blocking. While that runs,
 * mywire_socket() is an epoll descriptor that becomes readable when the
 * resolver or the connecting socket is ready (always WAIT_READ), and
 * mywire_timeout_ms() may be a resolver timer shorter than the deadline:
 * continue the call when it passes even if nothing was readable. Read
 * mywire_socket() again after every WAIT: it changes.
 *
 * Deadlines: connect_timeout bounds the whole connect; read_timeout and
 * write_timeout bound each call (from its first wait to its end), so a server
 * that trickles bytes cannot stretch a call. A non-blocking call that is
 * continued after its deadline fails with MYWIRE_ERROR_TIMEOUT.
 *
 * mywire_result_free() of a streaming result with unread rows does not wait
 * on a non-blocking connection: the rows are read and dropped by the next
 * call on the connection, before its own command. mywire_close() never waits
 * on a non-blocking connection (COM_QUIT goes out only if the socket takes it
 * at once).
 *
 * One thread, many connections, each running "SELECT 1" (error handling cut
 * to one line; tests/integration/test_nonblocking.c has it in full):
 *
 *     struct job { mywire_conn *c; mywire_result *res; int rc, call; };
 *     enum { CONNECT, QUERY, FETCH, DONE };
 *
 *     static void advance(struct job *j) {     // after the call j->call returned j->rc
 *         while (j->call != DONE && j->rc != MYWIRE_WAIT_READ && j->rc != MYWIRE_WAIT_WRITE) {
 *             if (j->rc != MYWIRE_OK && j->rc != MYWIRE_ROW && j->rc != MYWIRE_DONE) {
 *                 fprintf(stderr, "%s\n", mywire_errmsg(j->c)); j->call = DONE;
 *             } else if (j->call == CONNECT) {
 *                 j->call = QUERY;
 *                 j->rc = mywire_query(j->c, "SELECT 1", 8, MYWIRE_STREAMING, &j->res);
 *             } else if (j->rc == MYWIRE_DONE) {   // the result's end
 *                 mywire_result_free(j->res); j->call = DONE;
 *             } else {                            // the head, or a row (mywire_get)
 *                 j->call = FETCH; j->rc = mywire_fetch(j->res);
 *             }
 *         }
 *     }
 *     static void resume(struct job *j) {      // its socket is ready: the same call again
 *         j->rc = j->call == CONNECT ? mywire_connect(j->c)
 *               : j->call == QUERY   ? mywire_query(j->c, NULL, 0, 0, &j->res)
 *                                    : mywire_fetch(j->res);
 *         advance(j);
 *     }
 *
 *     struct job jobs[64]; struct pollfd p[64];
 *     for (int i = 0; i < 64; i++) {
 *         mywire_conn_new(&jobs[i].c);
 *         mywire_set_uri(jobs[i].c, "mysql://app:pw@db/shop");
 *         mywire_set_nonblocking(jobs[i].c, 1);
 *         jobs[i].call = CONNECT; jobs[i].rc = mywire_connect(jobs[i].c);
 *         advance(&jobs[i]);
 *     }
 *     for (;;) {
 *         int waiting = 0;
 *         for (int i = 0; i < 64; i++) {
 *             p[i].fd = jobs[i].call == DONE ? -1 : mywire_socket(jobs[i].c);
 *             p[i].events = jobs[i].rc == MYWIRE_WAIT_WRITE ? POLLOUT : POLLIN;
 *             waiting += p[i].fd >= 0;
 *         }
 *         if (!waiting) break;
 *         poll(p, 64, 1000);          // or the least mywire_timeout_ms()
 *         for (int i = 0; i < 64; i++)
 *             if (p[i].fd >= 0 && p[i].revents) resume(&jobs[i]);
 *     }
 *
 */

/* Switch the handle between blocking (0, the default) and non-blocking (1)
 * use. Allowed at any time when no call is in progress; MYWIRE_ERROR_STATE
 * otherwise, MYWIRE_ERROR_ARGUMENT for NULL. */
MYWIRE_API int mywire_set_nonblocking(mywire_conn *conn, int enable);
MYWIRE_API int mywire_is_nonblocking(const mywire_conn *conn);
/* 1 while a non-blocking call waits to be continued, else 0. */
MYWIRE_API int mywire_in_progress(const mywire_conn *conn);
/* Milliseconds before the call in progress times out (0: it has; poll with
 * at most this); -1 when it has no deadline or no call is in progress. */
MYWIRE_API int64_t mywire_timeout_ms(const mywire_conn *conn);

/* For garbage-collector finalizers: free without any network I/O and without
 * blocking. mywire_result_discard() never drains: a streaming result that
 * was still reading rows closes its connection (the next call on it gives
 * MYWIRE_ERROR_STATE; reconnect). mywire_conn_discard() closes the socket
 * without COM_QUIT and frees the handle; results outlive it as with
 * mywire_conn_free(). Both accept NULL. */
MYWIRE_API void mywire_result_discard(mywire_result *res);
MYWIRE_API void mywire_conn_discard(mywire_conn *conn);

/* -------------------------------------------------------------- pipelines
 *
 * A pipeline is a batch of commands -- queries, pings, connection resets,
 * database changes, and prepared statements (see "prepared statements in
 * pipelines" below) -- sent together (in one write when they fit in 64 KiB;
 * larger batches go out in windows of that size, so that neither side blocks
 * writing: once the first window is full, more requests go out whenever
 * half of it has been answered) and answered in order. Each step keeps its own outcome: an error
 * in one step is reported on that step, and the later steps still run, as
 * the server runs them. Query results are buffered (as with MYWIRE_BUFFERED)
 * and taken from the pipeline afterwards; a multi-statement query gives one
 * result per statement. It works with TLS and compression (the compressed
 * sequence ids of each step's reply restart where its request ended, as the
 * server numbers them).
 *
 *     mywire_pipeline *p;
 *     mywire_pipeline_new(&p);
 *     mywire_pipeline_add_query(p, "INSERT INTO t VALUES (1)", 24);
 *     mywire_pipeline_add_query(p, "SELECT * FROM t", 15);
 *     if (mywire_pipeline_run(conn, p) == MYWIRE_OK)      // or MYWIRE_WAIT_*: again
 *         for (size_t i = 0; i < mywire_pipeline_size(p); i++)
 *             if (mywire_pipeline_step_code(p, i) != MYWIRE_OK)
 *                 fprintf(stderr, "step %zu: %s\n", i, mywire_pipeline_step_errmsg(p, i));
 *     mywire_result *res;
 *     mywire_pipeline_take_result(p, 1, 0, &res);           // yours: mywire_result_free
 *     mywire_pipeline_free(p);
 */
typedef struct mywire_pipeline mywire_pipeline;

MYWIRE_API int mywire_pipeline_new(mywire_pipeline **out);
/* Frees the pipeline and the results not taken from it. Accepts NULL. */
MYWIRE_API void mywire_pipeline_free(mywire_pipeline *p);
/* Remove every step (and untaken result), to build a new batch. */
MYWIRE_API int mywire_pipeline_clear(mywire_pipeline *p);
/* Append a step (the text is copied). MYWIRE_ERROR_ARGUMENT, NOMEM. */
MYWIRE_API int mywire_pipeline_add_query(mywire_pipeline *p, const char *sql, size_t len);
MYWIRE_API int mywire_pipeline_add_ping(mywire_pipeline *p);
MYWIRE_API int mywire_pipeline_add_reset_connection(mywire_pipeline *p);
MYWIRE_API int mywire_pipeline_add_select_db(mywire_pipeline *p, const char *database);
MYWIRE_API size_t mywire_pipeline_size(const mywire_pipeline *p);

/* Run every step of p on conn, in order; p must not change until the call
 * is done. Returns MYWIRE_OK when every step got its reply (each step may
 * still have failed: see mywire_pipeline_step_code), MYWIRE_WAIT_* on a
 * non-blocking connection (call again, with p or NULL: another pipeline
 * is OUT_OF_SYNC), or the error that ended the
 * connection (LOST, TIMEOUT, PROTOCOL, ...): then the steps from the failing
 * one on carry that code too, and those already sent may have run on the
 * server (their message says so). OUT_OF_SYNC / STATE as for mywire_query. */
MYWIRE_API int mywire_pipeline_run(mywire_conn *conn, mywire_pipeline *p);

/* Step i's outcome after a run: whether its reply was read, its result code
 * (MYWIRE_OK, SERVER, RESULT_TOO_LARGE, or the connection's failure), and for
 * a server error its number, SQLSTATE and (untrusted, bounded) message. The
 * strings are valid until the pipeline is run again, cleared or freed. */
MYWIRE_API int mywire_pipeline_step_ran(const mywire_pipeline *p, size_t i);
MYWIRE_API int mywire_pipeline_step_code(const mywire_pipeline *p, size_t i);
MYWIRE_API unsigned mywire_pipeline_step_errno(const mywire_pipeline *p, size_t i);
MYWIRE_API const char *mywire_pipeline_step_sqlstate(const mywire_pipeline *p, size_t i);
MYWIRE_API const char *mywire_pipeline_step_errmsg(const mywire_pipeline *p, size_t i);
/* The results of query step i (one per statement; 0 for other steps). */
MYWIRE_API unsigned mywire_pipeline_result_count(const mywire_pipeline *p, size_t i);
/* Hand result k of step i to the caller, who frees it with
 * mywire_result_free(); it can be taken once. MYWIRE_ERROR_ARGUMENT for a
 * wrong index or a result already taken. */
MYWIRE_API int mywire_pipeline_take_result(mywire_pipeline *p, size_t i, unsigned k, mywire_result **out);

/* ---------------------------------------------------- prepared statements
 *
 * A statement is prepared on the server once (COM_STMT_PREPARE) and executed
 * many times with typed parameters bound by index (0-based); its results come
 * in the binary protocol and are read with the same result functions as a
 * query's (mywire_fetch, mywire_get, the typed getters below), streaming or
 * buffered. Every call that talks to the server (prepare, execute, reset,
 * send_long_data, and mywire_fetch of a cursor) is a call of the connection:
 * blocking, or on a non-blocking connection returning MYWIRE_WAIT_* to be
 * called again with the same arguments, as described under "non-blocking
 * use"; its errors are the connection's (mywire_errmsg(conn)).
 *
 *     mywire_stmt *st;
 *     mywire_stmt_new(conn, &st);
 *     if (mywire_stmt_prepare(st, "SELECT name FROM t WHERE id = ?", 31) == MYWIRE_OK) {
 *         mywire_stmt_bind_int64(st, 0, 42);
 *         mywire_result *res;
 *         if (mywire_stmt_execute(st, MYWIRE_STREAMING, &res) == MYWIRE_OK) {
 *             while (mywire_fetch(res) == MYWIRE_ROW) puts(mywire_get(res, 0, NULL));
 *             mywire_result_free(res);
 *         }
 *     }
 *     mywire_stmt_free(st);
 *
 * Handles: a statement belongs to one connection and stays a valid object
 * after that connection is closed, reconnected, reset (mywire_reset_connection,
 * a pipeline's reset step) or freed: the server has forgotten it then, and
 * executing it gives MYWIRE_ERROR_STATE ("prepare it again");
 * mywire_stmt_prepare() on the same handle prepares it again on the current
 * session. mywire_stmt_free() never blocks: COM_STMT_CLOSE (which has no
 * reply) goes out ahead of the connection's next command.
 *
 * Parameters: every parameter must be bound before an execute
 * (MYWIRE_ERROR_ARGUMENT names the first that is not); bindings stay for
 * later executions until changed. The setters copy the value and send it with
 * its own wire type: the int and uint setters as TINY/SHORT/LONG/LONGLONG
 * (signed or unsigned), float as FLOAT, double as DOUBLE (NaN and infinities
 * are MYWIRE_ERROR_ARGUMENT: SQL has no such values), decimal as a checked
 * decimal text (NEWDECIMAL), string as text in the connection's character
 * set, bytes as a BLOB, json as JSON text, time as DATE, TIME or DATETIME
 * (by its kind; microseconds kept), null as SQL NULL. When the types of all
 * parameters are the same as at the statement's previous successful
 * execution, they are not sent again (the new-params-bound flag stays 0).
 * Large values: mywire_stmt_send_long_data() sends a parameter's value in
 * chunks (each a COM_STMT_SEND_LONG_DATA of at most max_allowed_packet);
 * the next execute uses the chunks sent since the previous one, after which
 * the parameter is unbound again.
 *
 * Cursors: mywire_stmt_set_cursor(st, n) before execute asks the server for a
 * read-only cursor; the result (always streaming) then fetches n rows per
 * COM_STMT_FETCH as mywire_fetch() needs them, so a result of any size is
 * read in constant memory. Between two batches (once the last row of a batch
 * was fetched) the connection is free for other commands; the next one first
 * reads the batch's end, and the current row is valid only until it starts.
 * Freeing or resetting the statement, or executing it again,
 * ends the cursor: its result then gives MYWIRE_ERROR_STATE.
 *
 * Several results (CALL of a procedure, with PS_MULTI_RESULTS): read the
 * next ones with mywire_next_result(conn, ...) as for queries; they are
 * binary too. The result that carries a procedure's OUT parameters has
 * MYWIRE_STATUS_PS_OUT_PARAMS in mywire_status_flags() (a streaming one once
 * it was read to its end: the flags come with the end marker).
 *
 * MariaDB 10.6+ sends a statement's result metadata once and skips it at
 * later executions while it is unchanged (option cache_metadata, on by
 * default); mywire_result_metadata_cached() says it was skipped. The option
 * auto_reprepare (off by default) re-prepares and re-executes once when the
 * server answers an execute with ER_NEED_REPREPARE (1615). */
typedef struct mywire_stmt mywire_stmt;

/* ----------------------------------------- prepared statements in pipelines
 *
 * Statement steps (since 0.5): a pipeline can execute prepared statements,
 * prepare them and close them, all in the same batch as its other steps.
 *
 * mywire_pipeline_add_execute(p, stmt) adds a COM_STMT_EXECUTE of stmt with
 * its bindings as they are now: they are copied into the step, so the caller
 * may bind other values and add the statement again (20,000 point selects
 * of one statement with different ids are 20,000 steps, sent in as few
 * writes as the 64 KiB window allows). Its result -- binary rows, buffered --
 * is taken with mywire_pipeline_take_result() like a query's (a CALL gives
 * several). The step never opens a cursor (mywire_stmt_set_cursor is not
 * used), sends the parameter types every time, and cannot use long data
 * (ARGUMENT: bind the value instead). A client-side statement
 * (mywire_stmt_prepare_client) becomes a query step, formatted now. Errors
 * when adding: ARGUMENT (a parameter not bound, long data, DEFAULT/IGNORE,
 * a NULL handle), STATE (the statement is not prepared and no prepare step
 * for it precedes, or its connection is gone or was reset since), NOMEM;
 * the message is the connection's (mywire_errmsg) when no call runs on it.
 *
 * mywire_pipeline_add_prepare(p, stmt, sql, len) adds a COM_STMT_PREPARE of
 * sql for stmt. The execute and close steps of stmt added after it use the
 * statement it prepares. Because the steps are sent before any reply, the
 * parameters are bound before the server has said how many there are: the
 * call counts the '?' placeholders as the server's lexer does (not inside
 * string literals, quoted identifiers or comments; see
 * mywire_stmt_prepare_client) and gives stmt that many unbound parameters
 * at once, to bind for the executes that follow (ARGUMENT for an
 * unterminated quote or comment). Until the pipeline has run, do not use
 * stmt outside it. When the reply comes, stmt is prepared (its id,
 * parameter and column definitions; an earlier server statement of the
 * handle is closed) -- or, if the server counts another number of
 * parameters, the step fails with ARGUMENT, the new server statement is
 * closed and stmt is left unprepared.
 *
 * One round trip: on MariaDB 10.2 and later, an execute or close right
 * behind its prepare step (no other prepare step in between) names the
 * statement 0xFFFFFFFF, "the statement prepared last", and is sent in the
 * same write as the prepare, without waiting for its reply;
 * mywire_pipeline_step_direct() says a step went out so. Elsewhere (MySQL,
 * older MariaDB, or another prepare step in between) the step waits: the
 * steps before it are sent, the prepare's reply is read, and the rest of
 * the batch goes out in a second write with the real id -- the outcome is
 * the same, one round trip more.
 *
 * A failing prepare step is reported on that step (SERVER with the
 * server's error, as for mywire_stmt_prepare); every execute step that
 * depends on it fails with STATE and a message naming the prepare step and
 * its error (a direct one went out with the prepare: MariaDB refuses an
 * execute of 0xFFFFFFFF after a failed prepare, and the message says so),
 * and the later steps still run. A failing execute is reported on its step like a
 * failing query.
 *
 * mywire_pipeline_add_stmt_close(p, stmt) adds a COM_STMT_CLOSE of stmt (no
 * reply; the step counts as run once sent): after the run stmt is no longer
 * prepared, and executing it is STATE until it is prepared again. Closing a
 * statement whose prepare step failed sends nothing.
 *
 *     mywire_pipeline_add_prepare(p, st, "SELECT v FROM t WHERE id = ?", 28);
 *     for (int64_t id = 1; id <= 3; id++) {
 *         mywire_stmt_bind_int64(st, 0, id);
 *         mywire_pipeline_add_execute(p, st);     // steps 1, 2, 3
 *     }
 *     mywire_pipeline_add_stmt_close(p, st);      // one write, one round trip
 *     mywire_pipeline_run(conn, p);
 *
 * The statement handles must stay alive until the pipeline is run (freeing
 * one while the batch runs, on a non-blocking connection, is safe: its
 * steps not sent yet fail with STATE). mywire_pipeline_run() is ARGUMENT
 * when a step's statement belongs to another connection. */
MYWIRE_API int mywire_pipeline_add_prepare(mywire_pipeline *p, mywire_stmt *stmt, const char *sql, size_t len);
MYWIRE_API int mywire_pipeline_add_execute(mywire_pipeline *p, mywire_stmt *stmt);
MYWIRE_API int mywire_pipeline_add_stmt_close(mywire_pipeline *p, mywire_stmt *stmt);
/* 1 when step i (an execute or close after its prepare step) was sent
 * without waiting for the prepare's reply (MariaDB's statement id
 * 0xFFFFFFFF); 0 otherwise. */
MYWIRE_API int mywire_pipeline_step_direct(const mywire_pipeline *p, size_t i);

/* A date, time or datetime (all fields int32_t, for FFI). kind is one of
 * mywire_time_kind. TIME: day is 0, hour holds all the hours (0..838) and
 * negative is 1 for a negative time; DATE: the time fields are 0. The zero
 * date '0000-00-00' is all zeros. */
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

/* A new statement handle on conn (not prepared yet). ARGUMENT, NOMEM. */
MYWIRE_API int mywire_stmt_new(mywire_conn *conn, mywire_stmt **out);
/* Accepts NULL; idempotent per handle (the pointer is invalid afterwards).
 * A statement that is an entry of the statement cache (mywire_stmt_cached,
 * mywire_stmt_is_cached) goes back to the cache instead of being closed. */
MYWIRE_API void mywire_stmt_free(mywire_stmt *stmt);
/* COM_STMT_PREPARE. OK; SERVER (a syntax error, ...); the connection's
 * codes. The parameters are then all unbound. */
MYWIRE_API int mywire_stmt_prepare(mywire_stmt *stmt, const char *sql, size_t len);
/* A client-side statement, for servers and proxies that cannot prepare:
 * nothing is sent now; the '?' placeholders are found as the server's lexer
 * would (not inside string literals, quoted identifiers or comments; inside
 * executable comments they count), and each mywire_stmt_execute() replaces
 * them with typed literals of the bound values -- numbers as numbers,
 * strings quoted and escaped for the connection's character set
 * (mywire_set_charset) and the server's current NO_BACKSLASH_ESCAPES mode,
 * bytes as X'...', times quoted -- and runs the text as a query (a text
 * result; the getters work the same). A value is never spliced in as SQL.
 * No cursors, long data or batches. ARGUMENT (an unterminated quote or
 * comment; at execute: a value the literal cannot carry), OUT_OF_SYNC. */
MYWIRE_API int mywire_stmt_prepare_client(mywire_stmt *stmt, const char *sql, size_t len);
MYWIRE_API int mywire_stmt_is_client_side(const mywire_stmt *stmt);
MYWIRE_API unsigned mywire_stmt_param_count(const mywire_stmt *stmt);
/* The result columns the server announced at prepare (0 for statements
 * without a result set); a result's own mywire_column_at() is authoritative. */
MYWIRE_API unsigned mywire_stmt_column_count(const mywire_stmt *stmt);
MYWIRE_API const mywire_column *mywire_stmt_column_at(const mywire_stmt *stmt, unsigned index);
MYWIRE_API const mywire_column *mywire_stmt_param_at(const mywire_stmt *stmt, unsigned index);
/* The server's statement id (0 before the first successful prepare). */
MYWIRE_API uint32_t mywire_stmt_id(const mywire_stmt *stmt);

/* Typed setters: OK, or ARGUMENT (NULL handle, index out of range, a value
 * the type cannot hold, NaN/infinity, an ill-formed decimal text or time, a
 * parameter whose long data was sent since the last execute: the server
 * would use that; mywire_stmt_reset drops it). Nothing is sent. */
MYWIRE_API int mywire_stmt_bind_null(mywire_stmt *stmt, unsigned index);
MYWIRE_API int mywire_stmt_bind_int8(mywire_stmt *stmt, unsigned index, int8_t value);
MYWIRE_API int mywire_stmt_bind_int16(mywire_stmt *stmt, unsigned index, int16_t value);
MYWIRE_API int mywire_stmt_bind_int32(mywire_stmt *stmt, unsigned index, int32_t value);
MYWIRE_API int mywire_stmt_bind_int64(mywire_stmt *stmt, unsigned index, int64_t value);
MYWIRE_API int mywire_stmt_bind_uint8(mywire_stmt *stmt, unsigned index, uint8_t value);
MYWIRE_API int mywire_stmt_bind_uint16(mywire_stmt *stmt, unsigned index, uint16_t value);
MYWIRE_API int mywire_stmt_bind_uint32(mywire_stmt *stmt, unsigned index, uint32_t value);
MYWIRE_API int mywire_stmt_bind_uint64(mywire_stmt *stmt, unsigned index, uint64_t value);
MYWIRE_API int mywire_stmt_bind_float(mywire_stmt *stmt, unsigned index, float value);
MYWIRE_API int mywire_stmt_bind_double(mywire_stmt *stmt, unsigned index, double value);
/* "-12.345", "1e5": [+-]digits[.digits][e[+-]digits]. */
MYWIRE_API int mywire_stmt_bind_decimal(mywire_stmt *stmt, unsigned index, const char *text, size_t len);
MYWIRE_API int mywire_stmt_bind_string(mywire_stmt *stmt, unsigned index, const char *data, size_t len);
MYWIRE_API int mywire_stmt_bind_bytes(mywire_stmt *stmt, unsigned index, const void *data, size_t len);
MYWIRE_API int mywire_stmt_bind_json(mywire_stmt *stmt, unsigned index, const char *text, size_t len);
/* A BIT value (sent as an unsigned 64-bit integer). */
MYWIRE_API int mywire_stmt_bind_bit(mywire_stmt *stmt, unsigned index, uint64_t bits);
MYWIRE_API int mywire_stmt_bind_time(mywire_stmt *stmt, unsigned index, const mywire_time *value);
/* Unbind every parameter (but those with long data sent, see above). */
MYWIRE_API int mywire_stmt_clear_bindings(mywire_stmt *stmt);

/* Send a chunk of parameter index's value (COM_STMT_SEND_LONG_DATA; no
 * reply). ARGUMENT (index, a chunk over max_allowed_packet), STATE, the
 * connection's codes. */
MYWIRE_API int mywire_stmt_send_long_data(mywire_stmt *stmt, unsigned index, const void *data, size_t len);
/* Rows per COM_STMT_FETCH for the next executions; 0 (the default): no cursor. */
MYWIRE_API int mywire_stmt_set_cursor(mywire_stmt *stmt, uint32_t rows_per_fetch);
/* COM_STMT_EXECUTE; *out as for mywire_query (mode MYWIRE_BUFFERED or
 * MYWIRE_STREAMING; a cursor's result is always streaming). Returns the
 * codes of mywire_query, and STATE for a statement that is not prepared on
 * the connection's current session, ARGUMENT for an unbound parameter. */
MYWIRE_API int mywire_stmt_execute(mywire_stmt *stmt, int mode, mywire_result **out);
/* COM_STMT_RESET: drops the long data sent and closes the cursor. */
MYWIRE_API int mywire_stmt_reset(mywire_stmt *stmt);

/* Batches (bulk execution): bind a row, mywire_stmt_add_batch() to copy it
 * into the statement's batch, repeat; mywire_stmt_execute_batch() then runs
 * the statement once per row. On MariaDB (MARIADB_CLIENT_STMT_BULK_OPERATIONS)
 * the rows go out as COM_STMT_BULK_EXECUTE, many rows per request (chunks of
 * at most 4 MiB or half of max_allowed_packet), the parameter types once;
 * other servers get one COM_STMT_EXECUTE per row. For statements without a
 * result set (INSERT, UPDATE, DELETE, REPLACE). *out is a result without
 * columns: mywire_affected_rows() is the total, mywire_insert_id() the first
 * row's. A failure stops at the failing request: the earlier rows were
 * applied (the message says how far it got) and the batch is kept; success
 * empties it. In a batch a parameter may also be DEFAULT (the column's
 * default) or IGNORE (the column is left as it is: UPDATE) -- MariaDB only.
 * Each parameter keeps the type of its first non-NULL row: a row binding
 * another type is refused (ARGUMENT): nothing is sent. Per-row results: see
 * mywire_stmt_set_row_results() below. Column arrays (below) run the same
 * call from the caller's own arrays, without copying rows. */
MYWIRE_API int mywire_stmt_bind_default(mywire_stmt *stmt, unsigned index);
MYWIRE_API int mywire_stmt_bind_ignore(mywire_stmt *stmt, unsigned index);
/* OK; ARGUMENT (a parameter unbound, long data, a changed type, no
 * parameters); NOMEM. The bindings stay as they are. */
MYWIRE_API int mywire_stmt_add_batch(mywire_stmt *stmt);
MYWIRE_API uint64_t mywire_stmt_batch_size(const mywire_stmt *stmt);
MYWIRE_API int mywire_stmt_clear_batch(mywire_stmt *stmt);
/* Returns the codes of mywire_stmt_execute; ARGUMENT for an empty batch. */
MYWIRE_API int mywire_stmt_execute_batch(mywire_stmt *stmt, mywire_result **out);

/* Per-row results of batches and column arrays (0.7.0). With on != 0, the
 * statement's next mywire_stmt_execute_batch() / mywire_stmt_execute_array()
 * results also hold each row's affected rows and insert id (the
 * AUTO_INCREMENT value generated for that row, 0 when none), in row order:
 *
 *     mywire_stmt_set_row_results(st, 1);
 *     mywire_stmt_execute_batch(st, &res);
 *     for (uint64_t k = 0; k < mywire_row_result_count(res); ++k)
 *         mywire_row_result(res, k, &affected, &id);
 *
 * On MariaDB 11.5+ (BULK_UNIT_RESULTS) they come with bulk execution (each
 * COM_STMT_BULK_EXECUTE asks for them: SEND_UNIT_RESULTS); elsewhere the rows
 * run one COM_STMT_EXECUTE each, whose OKs are the rows' results -- so on an
 * older MariaDB asking for them gives up bulk execution (and DEFAULT / IGNORE,
 * which then give ARGUMENT before anything is sent). Off (0) by default: the
 * result holds only the totals. OK, or ARGUMENT for a NULL stmt. */
MYWIRE_API int mywire_stmt_set_row_results(mywire_stmt *stmt, int on);
/* The number of per-row results in res: the batch's row count when its
 * statement asked for them, 0 otherwise (and for any other result, NULL). */
MYWIRE_API uint64_t mywire_row_result_count(const mywire_result *res);
/* Row k's affected rows and insert id (either pointer may be NULL). OK, or
 * ARGUMENT (NULL res, k >= mywire_row_result_count(res)), which leaves the
 * outputs as they were. */
MYWIRE_API int mywire_row_result(const mywire_result *res, uint64_t k, uint64_t *affected_rows,
                                 uint64_t *insert_id);

/* Column arrays (bulk execution from the caller's memory, MariaDB's array
 * binding): bind every parameter to an array of values, then
 * mywire_stmt_execute_array() runs the statement once per row, as
 * mywire_stmt_execute_batch() runs a batch -- COM_STMT_BULK_EXECUTE in
 * chunks of at most 4 MiB or half of max_allowed_packet on MariaDB, one
 * COM_STMT_EXECUTE per row elsewhere, the same result (total affected rows,
 * the first row's insert id) and the same failures (the requests before the
 * failing one were applied; the message says how far it got). Nothing is
 * copied when an array is bound: the values are read from the caller's
 * memory as each request is built, so it must stay valid and unchanged until
 * mywire_stmt_execute_array() has returned something other than
 * MYWIRE_WAIT_* (on a non-blocking connection: until the call is done).
 *
 *     int64_t ids[N]; double prices[N]; const char *names[N]; size_t lens[N];
 *     mywire_stmt_bind_array(st, 0, MYWIRE_ARRAY_INT64, ids, 0, NULL, NULL);
 *     mywire_stmt_bind_array(st, 1, MYWIRE_ARRAY_DOUBLE, prices, 0, NULL, NULL);
 *     mywire_stmt_bind_array(st, 2, MYWIRE_ARRAY_STRING, names, 0, lens, NULL);
 *     mywire_stmt_execute_array(st, N, &res);
 *
 * Row k of a parameter: its value is element k of `values` (for STRING and
 * BYTES an array of pointers, `lengths` their lengths; for TIME an array of
 * mywire_time), its indicator element k of `indicators` (NULL: every row is
 * a value). With stride 0 each array is dense (elements sizeof(int64_t),
 * sizeof(const char *), sizeof(size_t), 1 byte apart...); a non-zero stride
 * is the distance in bytes between rows in all three arrays -- an array of
 * row structs, values + lengths + indicators pointing at row 0's members.
 * A STRING or BYTES pointer that is NULL is SQL NULL (its length must be 0);
 * STRING without lengths reads NUL-terminated strings.
 *
 * The arrays stay bound for later executions (the same memory, changed in
 * between, is read again) until mywire_stmt_clear_bindings(), another
 * bind_array of the parameter, or a prepare; binding or clearing while a
 * non-blocking execution runs changes the next execution, not that one. They are separate from the
 * typed setters' bindings and from the batch; on servers without bulk
 * execution the setters' bindings are left holding the last row sent. As
 * for batches, per-row results come with mywire_stmt_set_row_results(). */
enum mywire_array_type {
    MYWIRE_ARRAY_INT8 = 1,   /* int8_t values, sent as TINY */
    MYWIRE_ARRAY_INT16 = 2,  /* int16_t, SHORT */
    MYWIRE_ARRAY_INT32 = 3,  /* int32_t, LONG */
    MYWIRE_ARRAY_INT64 = 4,  /* int64_t, LONGLONG */
    MYWIRE_ARRAY_UINT8 = 5,  /* the unsigned forms */
    MYWIRE_ARRAY_UINT16 = 6,
    MYWIRE_ARRAY_UINT32 = 7,
    MYWIRE_ARRAY_UINT64 = 8,
    MYWIRE_ARRAY_FLOAT = 9,    /* float, FLOAT (finite values only) */
    MYWIRE_ARRAY_DOUBLE = 10,  /* double, DOUBLE (finite values only) */
    MYWIRE_ARRAY_STRING = 11,  /* const char *, text; lengths optional */
    MYWIRE_ARRAY_BYTES = 12,   /* const void *, a BLOB; lengths required */
    MYWIRE_ARRAY_TIME = 13     /* mywire_time, all rows of one kind */
};
/* A row's indicator (uint8_t). */
enum mywire_indicator {
    MYWIRE_IND_NONE = 0,     /* the value */
    MYWIRE_IND_NULL = 1,     /* SQL NULL */
    MYWIRE_IND_DEFAULT = 2,  /* the column's DEFAULT (MariaDB bulk only) */
    MYWIRE_IND_IGNORE = 3    /* leave the column as it is: UPDATE (MariaDB bulk only) */
};
/* Bind parameter index to an array (type: mywire_array_type). OK; ARGUMENT
 * (NULL handle or values, index out of range, an unknown type, BYTES without
 * lengths, lengths for a type other than STRING and BYTES, a non-zero stride
 * smaller than one value). Nothing is read or sent now. */
MYWIRE_API int mywire_stmt_bind_array(mywire_stmt *stmt, unsigned index, int type, const void *values,
                                      size_t stride, const size_t *lengths, const uint8_t *indicators);
/* Execute rows [0, rows) of the arrays bound; *out as for
 * mywire_stmt_execute_batch. Every value is checked before anything is sent:
 * ARGUMENT, no row applied, for rows 0, a parameter without an array (or
 * with long data sent), an indicator that is no MYWIRE_IND_*, DEFAULT or
 * IGNORE on a server without bulk execution, a float that is not finite, an
 * ill-formed time or times of different kinds, a NULL string with a length,
 * a string or bytes longer than max_allowed_packet (the message names the
 * parameter and the row). Otherwise the codes of mywire_stmt_execute_batch. */
MYWIRE_API int mywire_stmt_execute_array(mywire_stmt *stmt, uint64_t rows, mywire_result **out);

/* ------------------------------------------------------- query attributes
 *
 * MySQL 8.0.23+ takes named, typed values alongside a statement (query
 * attributes, CLIENT_QUERY_ATTRIBUTES, read on the server with
 * mysql_query_attribute_string('name')). mywire asks for the capability at
 * login whenever a MySQL server offers it; MariaDB has none.
 *
 *     if (mywire_query_attributes_supported(conn)) {
 *         mywire_query_attr_string(conn, "trace_id", "a1b2", 4);
 *         mywire_query_attr_int64(conn, "tenant", 42);
 *     }
 *     mywire_query(conn, sql, len, MYWIRE_BUFFERED, &res);  // carries both, then they are gone
 *
 * The attributes set on a connection go with its next mywire_query() or
 * mywire_stmt_execute() (a server-side statement's COM_STMT_EXECUTE carries
 * them after its own parameters; a client-side statement's query carries
 * them too), whichever comes first, and are dropped once it has started
 * (its re-execute after an automatic re-prepare sends them again). A call
 * that fails before anything is sent (OUT_OF_SYNC, an unbound parameter)
 * leaves them set. Pipelines and batches send none and leave them set.
 * mywire_reset_connection(), a pipeline's reset step, a connect and a closed
 * or failed connection drop them. Setting a name again replaces its value;
 * the order of first setting is the order sent. Values are encoded as the
 * statement setters encode them (see "prepared statements"): int64 as
 * LONGLONG, uint64 as unsigned LONGLONG, double as DOUBLE, string as text,
 * bytes as a BLOB, time as DATE, TIME or DATETIME, null as SQL NULL.
 *
 * With the capability on, every COM_QUERY starts with the attribute count
 * and the parameter set count (0 and 1 without attributes), and every
 * COM_STMT_EXECUTE has PARAMETER_COUNT_AVAILABLE set and the parameter count
 * (the statement's parameters plus the attributes); the statement's own
 * parameters go with empty names. */

/* 1 when conn is connected and its session has query attributes; 0 when not
 * (a server without them, not connected, NULL). */
MYWIRE_API int mywire_query_attributes_supported(const mywire_conn *conn);
/* Set attribute name (a NUL-terminated, non-empty string; copied) for the
 * next query or execute. Nothing is sent.
 * Returns: OK; ARGUMENT (NULL handle, NULL or empty name, NULL data with
 * len > 0, NaN/infinity, an ill-formed time); STATE (not connected);
 * UNSUPPORTED (the server has no query attributes: MariaDB, MySQL before
 * 8.0.23; here the connection survives, whatever mywire_is_fatal() says of
 * the code, and nothing was set); OUT_OF_SYNC (a non-blocking call is in
 * progress). Errors are recorded on the handle. */
MYWIRE_API int mywire_query_attr_null(mywire_conn *conn, const char *name);
MYWIRE_API int mywire_query_attr_int64(mywire_conn *conn, const char *name, int64_t value);
MYWIRE_API int mywire_query_attr_uint64(mywire_conn *conn, const char *name, uint64_t value);
MYWIRE_API int mywire_query_attr_double(mywire_conn *conn, const char *name, double value);
MYWIRE_API int mywire_query_attr_string(mywire_conn *conn, const char *name, const char *data, size_t len);
MYWIRE_API int mywire_query_attr_bytes(mywire_conn *conn, const char *name, const void *data, size_t len);
MYWIRE_API int mywire_query_attr_time(mywire_conn *conn, const char *name, const mywire_time *value);
/* Drop the attributes set (none is sent). OK; ARGUMENT (NULL). */
MYWIRE_API int mywire_query_attr_clear(mywire_conn *conn);
/* How many attributes are set for the next query or execute; 0 for NULL. */
MYWIRE_API unsigned mywire_query_attr_count(const mywire_conn *conn);
/* The statement cache: prepared statements kept per connection, keyed by
 * SQL text, so that code which executes parameterised SQL by its text (a
 * DB-API cursor, database/sql) prepares each statement once and never
 * piles up server statements (servers cap them: max_prepared_stmt_count).
 *
 * Off by default. Option stmt_cache=N (URI key, mywire_set_option, or
 * mywire_set_stmt_cache) keeps at most N server statements in the cache,
 * 0..4096 (0 = off; anything else is MYWIRE_ERROR_OPTION, MYWIRE_ERROR_URI
 * in a URI).
 *
 *     mywire_stmt *st;
 *     if (mywire_stmt_cached(conn, sql, len, &st) == MYWIRE_OK) {
 *         mywire_stmt_bind_int64(st, 0, id);
 *         ... mywire_stmt_execute(st, MYWIRE_BUFFERED, &res) ...
 *         mywire_stmt_free(st);   (back to the cache: not closed)
 *     }
 *
 * mywire_stmt_cached() hands out a statement prepared from exactly these
 * bytes of SQL. A hit (an idle cached statement for the same text) sends
 * nothing and cannot wait. A miss prepares it (COM_STMT_PREPARE: blocking,
 * or MYWIRE_WAIT_* on a non-blocking connection, to be called again as any
 * call) and keeps it in the cache; to make room the least recently used
 * idle entry is closed first (COM_STMT_CLOSE, sent ahead of the prepare), so
 * the server never holds more than N statements for the cache, the leased
 * ones included. The statement handed out is used as any other (bind,
 * execute, cursors, batches, long data) and given back with
 * mywire_stmt_free(), which for a cache entry returns it to the cache: its
 * bindings are cleared, its batch emptied, its cursor setting back to 0, and
 * a cursor still open ends (its result then gives MYWIRE_ERROR_STATE, as
 * when a statement is freed). An entry is closed instead of kept when it
 * cannot be reused as it was lent: it was prepared again (from other SQL, or
 * client-side), long data was sent and not executed (the server holds it),
 * or a call of its own is still in progress.
 *
 * Not every statement handed out is a cache entry (mywire_stmt_is_cached()
 * says which): with the cache off, with the same SQL leased already (a second
 * lease at once), or with all N entries leased, mywire_stmt_cached() prepares
 * an ordinary statement, closed when freed, rather than exceed the bound.
 *
 * Reset connection, reconnect and close make the server forget the
 * session's statements: the idle entries are dropped then (no
 * COM_STMT_CLOSE for them on the new session) and the leased ones leave the
 * cache: they are ordinary statements that give MYWIRE_ERROR_STATE ("prepare
 * it again") and are deleted when freed; the next mywire_stmt_cached()
 * prepares again. Freeing the connection likewise: statements still leased
 * stay valid objects that give MYWIRE_ERROR_STATE, to be freed as usual.
 *
 * Returns: OK (*out set); ARGUMENT (NULL conn or out, NULL sql with len > 0);
 * OUT_OF_SYNC (another call in progress); the codes of mywire_stmt_prepare
 * on a miss (*out is NULL on failure; nothing is cached). */
MYWIRE_API int mywire_stmt_cached(mywire_conn *conn, const char *sql, size_t len, mywire_stmt **out);
/* 1 if stmt is an entry of its connection's cache (mywire_stmt_free gives
 * it back), 0 otherwise (NULL too). */
MYWIRE_API int mywire_stmt_is_cached(const mywire_stmt *stmt);
/* The cache's figures (0 for NULL): held = entries now, leased or idle (each
 * a statement the server holds; never more than stmt_cache); hits = handed
 * out without a round trip; misses = prepared (cached or not); evictions =
 * idle entries closed to make room. The counters are the handle's lifetime
 * totals. */
MYWIRE_API uint64_t mywire_stmt_cache_held(const mywire_conn *conn);
MYWIRE_API uint64_t mywire_stmt_cache_hits(const mywire_conn *conn);
MYWIRE_API uint64_t mywire_stmt_cache_misses(const mywire_conn *conn);
MYWIRE_API uint64_t mywire_stmt_cache_evictions(const mywire_conn *conn);
/* Close every idle entry (COM_STMT_CLOSE queued ahead of the next command;
 * nothing is sent now), e.g. after DDL. Leased entries stay. OK; ARGUMENT;
 * OUT_OF_SYNC (a call is in progress). */
MYWIRE_API int mywire_stmt_cache_clear(mywire_conn *conn);

/* ----------------------------------------------------------- typed values
 *
 * For every result, text (mywire_query) or binary (mywire_stmt_execute), the
 * same getters, with the same rules. mywire_get() and mywire_row() give every
 * value as text: a binary result's numbers and times are formatted as the
 * server's text protocol prints them (byte for byte: ZEROFILL, FLOAT and
 * DOUBLE digits, fractional seconds), so both protocols give the same text.
 *
 * The typed getters read value index of the current row. They return OK with
 * *out set; MYWIRE_NULL for SQL NULL (*out untouched); MYWIRE_ERROR_CONVERSION
 * when the value does not fit the type exactly (*out untouched); ARGUMENT
 * (NULL pointer, no current row, index out of range). Nothing is recorded on
 * the connection. The rules:
 *   int64 / uint64: integer columns (and YEAR) in range; BIT (big-endian,
 *     at most 64 bits); DECIMAL with an integral value ("12.000"); FLOAT and
 *     DOUBLE with an integral value in range; strings holding exactly an
 *     optional sign and digits. Fractions, overflow, blanks, dates: CONVERSION.
 *   double: FLOAT and DOUBLE exactly; integers when a double holds them
 *     exactly; DECIMAL and numeric strings as the nearest double; YEAR.
 *   time: DATE, DATETIME, TIMESTAMP, TIME, and strings in their text forms.
 *   bytes: any value, as its text (the same as mywire_get), with NULL told
 *     apart by the return code. */
MYWIRE_API int mywire_get_int64(const mywire_result *res, unsigned index, int64_t *out);
MYWIRE_API int mywire_get_uint64(const mywire_result *res, unsigned index, uint64_t *out);
MYWIRE_API int mywire_get_double(const mywire_result *res, unsigned index, double *out);
MYWIRE_API int mywire_get_time(const mywire_result *res, unsigned index, mywire_time *out);
MYWIRE_API int mywire_get_bytes(const mywire_result *res, unsigned index, const char **data, size_t *len);
/* 1 for a prepared statement's (binary protocol) result. */
MYWIRE_API int mywire_result_is_binary(const mywire_result *res);
/* 1 when the server skipped the result's column definitions (MariaDB
 * metadata caching: the statement's are used). */
MYWIRE_API int mywire_result_metadata_cached(const mywire_result *res);

/* -------------------------------------------------------- cancel and abort
 *
 * The three functions below may be called from any thread while another
 * thread is blocked in a call on conn, or while an event loop drives it; no
 * other function of a handle may be used concurrently with its calls. conn
 * must stay allocated until they return.
 *
 * mywire_cancel() asks the server to stop the statement conn is running, as
 * the mysql client's Ctrl-C does: it opens a short side connection with
 * conn's options (the same host and port or unix socket, user, password, TLS
 * settings and connect attributes; no default database, no multi statements,
 * no compression; connect_timeout bounds its connect, reads and writes; a
 * dialog callback runs in the cancelling thread), sends KILL QUERY
 * mywire_connection_id(conn), and closes it. The calling thread blocks for
 * that; conn's socket is never touched. The call on conn that was running
 * the statement (mywire_query, mywire_fetch of a streaming result,
 * mywire_next_result, ...) then returns MYWIRE_ERROR_CANCELLED, with
 * mywire_client_error() == MYWIRE_CLIENT_ERROR_CANCELLED, and the connection
 * stays usable. If no statement was running, nothing happens and no later
 * call is affected. A statement started by conn's thread after
 * mywire_cancel() was called but before the KILL reached the server may be
 * the one stopped: its call then fails with MYWIRE_ERROR_SERVER and
 * mywire_errno() 1317 (ER_QUERY_INTERRUPTED).
 * Returns MYWIRE_OK (the server accepted the KILL, whether or not anything
 * was running), MYWIRE_ERROR_STATE when conn is not connected (never
 * connected, closed, or failed), MYWIRE_ERROR_ARGUMENT for NULL, or the side
 * connection's error (MYWIRE_ERROR_CONNECT, _TIMEOUT, _AUTH, _TLS, _SERVER,
 * ...: its message is not recorded on conn, which another thread owns). Not
 * async-signal-safe (it allocates); from a signal handler, wake a thread
 * that calls it.
 *
 * mywire_abort() is for when the server cannot be reached: it wakes the
 * call blocked on conn (through an eventfd the blocking wait polls next to
 * the socket) and that call, in its own thread, closes the connection and
 * returns MYWIRE_ERROR_CANCELLED with mywire_client_error() ==
 * MYWIRE_CLIENT_ERROR_ABORTED. This is the one case where
 * MYWIRE_ERROR_CANCELLED leaves the connection closed: mywire_is_connected()
 * is 0, mywire_connect() may be called again. A statement running on the
 * server is not stopped (use mywire_cancel() first when the server can be
 * reached). An abort requested while no call runs is kept: the next call on
 * conn that would use the network ends the same way at once, before sending
 * anything. The TCP connect inside the first mywire_connect() call (name
 * resolution and connect(), see "non-blocking use") is not interrupted: the
 * abort takes effect when it ends, within connect_timeout. Never blocks and
 * is async-signal-safe (an atomic store and a write()). Returns MYWIRE_OK,
 * MYWIRE_ERROR_STATE before the handle's first mywire_connect() (there is
 * nothing to wake), MYWIRE_ERROR_ARGUMENT for NULL.
 *
 * mywire_wake_fd() is the eventfd itself, for event loops: while a call is
 * in progress on a non-blocking handle, poll it for POLLIN next to
 * mywire_socket(); when it is readable, call the same function again to
 * continue the call, which then ends as above. Do not read or close it. It
 * is -1 before the first mywire_connect() and stays the same descriptor
 * (across reconnects) until mywire_conn_free() / mywire_conn_discard().
 */
MYWIRE_API int mywire_cancel(mywire_conn *conn);
MYWIRE_API int mywire_abort(mywire_conn *conn);
MYWIRE_API int mywire_wake_fd(const mywire_conn *conn);

/* --------------------------------------------------- client-side escaping
 *
 * For programs that must build SQL text themselves (proxies, servers that
 * cannot prepare statements): escape a string so that, put between single
 * quotes, it is one literal whose value is exactly the input bytes.
 *
 *     char buf[2 * sizeof name + 1];   // 2 * len + 1 always suffices
 *     size_t n;
 *     if (mywire_escape_string(conn, name, strlen(name), buf, sizeof buf, &n) == MYWIRE_OK)
 *         ... "SELECT * FROM users WHERE name = '" + buf + "'" ...
 *
 * The escaping depends on two things the server's lexer depends on:
 * - The mode. By default, as mysql_real_escape_string(): NUL -> \0,
 *   LF -> \n, CR -> \r, \ -> \\, ' -> \', " -> \", 0x1A -> \Z, other bytes
 *   as they are. When the session's sql_mode has NO_BACKSLASH_ESCAPES, only
 *   ' is doubled (''), and every other byte, backslashes included, is left
 *   as it is. The two are not interchangeable: text escaped for one mode
 *   can end the literal early in the other.
 * - The connection character set. In big5, gbk, sjis, cp932 and gb18030 a
 *   multi-byte character's trail byte can be 0x5C ('\'); every well-formed
 *   multi-byte character is copied whole, never escaped, and a byte that
 *   starts no well-formed character of the set (a lead byte without its
 *   trail bytes, as in the classic 0xBF 0x27 under gbk; a character cut off
 *   by the end of the input; a byte the set never uses) fails the call with
 *   MYWIRE_ERROR_ARGUMENT rather than being guessed at. (Binary data belongs
 *   in a hex literal X'...' or a prepared statement.) Every other
 *   character set a client can use (utf8mb4, utf8mb3, latin1, ascii,
 *   binary, the EUC sets, ...) is byte-safe: the escaped bytes are ASCII
 *   and never part of a multi-byte character there; other bytes are copied
 *   without checks. ucs2, utf16, utf16le and utf32 cannot be a connection
 *   character set and are refused.
 *
 * Output: on success out holds the escaped text and a NUL, and *out_len
 * (when out_len is not NULL) its length without the NUL; it is at most
 * 2 * len bytes. When out_size is too small (it must be at least the
 * length + 1), the call fails with MYWIRE_ERROR_ARGUMENT, *out_len is the
 * out_size needed (the NUL included), and out, when out_size > 0, holds
 * the empty string: never a partial escape. out may be NULL when out_size
 * is 0 (to ask for the size). in may be NULL when len is 0. On other
 * failures *out_len is 0 and out, when out_size > 0, the empty string.
 * The quotes around the literal are not written.
 */

/* Escapes for conn: its character set is the collation set with
 * mywire_set_charset() (or the "charset" option; default 45,
 * utf8mb4_general_ci), which is the one the login announced; a SET NAMES
 * (or SET character_set_client) sent with mywire_query() is not seen, so
 * change the character set with mywire_set_charset() and reconnect
 * instead. The mode is the NO_BACKSLASH_ESCAPES server status flag
 * (MYWIRE_STATUS_NO_BACKSLASH_ESCAPES in mywire_server_status()) of the
 * last OK or EOF packet read: after a successful
 * mywire_query(conn, "SET sql_mode='NO_BACKSLASH_ESCAPES'", ...) it
 * escapes for that mode at once. Errors are recorded on the handle.
 * Returns: OK; ARGUMENT (NULL handle, NULL in with len > 0, NULL out with
 * out_size > 0, out_size too small, input ill-formed in the character
 * set); STATE (not connected, so the mode is not known; or the handle's
 * collation is not known to mywire, or is ucs2/utf16/utf32);
 * OUT_OF_SYNC (a non-blocking call is in progress). The connection
 * survives every one. */
MYWIRE_API int mywire_escape_string(mywire_conn *conn, const char *in, size_t len, char *out,
                                    size_t out_size, size_t *out_len);

/* The same without a connection: for collation_id (the collation ids of
 * MariaDB and MySQL: information_schema.COLLATIONS.ID) and the mode
 * no_backslash_escapes (nonzero: NO_BACKSLASH_ESCAPES). Nothing is
 * recorded anywhere. Thread-safe.
 * Returns: OK; ARGUMENT (as above, and a collation id mywire does not
 * know); UNSUPPORTED (ucs2, utf16, utf16le, utf32; no connection is
 * involved, whatever mywire_is_fatal() says of the code). */
MYWIRE_API int mywire_escape_string_for(unsigned collation_id, int no_backslash_escapes,
                                        const char *in, size_t len, char *out, size_t out_size,
                                        size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* MYWIRE_H */
