//! Rust bindings of libmywire, a MySQL/MariaDB client library.
//!
//! [`sys`] is the raw C API, generated from `capi/mywire.h` by `gen_sys.py`
//! (the tests check that it is current). The crate root is a safe wrapper:
//!
//! ```no_run
//! let conn = mywire::Connection::connect("mysql://app:pw@127.0.0.1:3306/shop?ssl-mode=verify_identity&ssl-ca=ca.pem")?;
//! let mut res = conn.query("SELECT id, name FROM users")?;           // buffered
//! while let Some(row) = res.next_row() {
//!     let id: Option<i64> = row.get_i64(0)?;
//!     let name: Option<&[u8]> = row.get(1)?;                          // None = SQL NULL
//!     println!("{id:?} {name:?}");
//! }
//! let mut st = conn.prepare("SELECT name FROM users WHERE id > ?")?;
//! let mut rows = st.execute_stream(&[&10i64])?;                      // streaming
//! while let Some(row) = rows.next_row()? {
//!     println!("{:?}", row.get_str(0)?);
//! }
//! # Ok::<(), mywire::Error>(())
//! ```
//!
//! # Ownership, lifetimes and drop order
//!
//! The C API lets a result outlive its connection and a statement outlive
//! its connection; what it does not allow is using a connection (or what
//! it produced) from two threads at once. The wrapper maps that onto
//! lifetimes, not reference counting:
//!
//! - [`Connection`] is `Send` (it can move to another thread) but not `Sync`
//!   (it cannot be shared between threads). Its methods take `&self`.
//! - [`Stream`] (a streaming result) and [`Statement`] borrow the connection
//!   (`&'c Connection`), so they cannot outlive it, and — since the
//!   connection is not `Sync` — neither they nor the connection can move to
//!   another thread while they exist. A stream of a statement also borrows
//!   the statement mutably: the statement cannot be re-executed, reset or
//!   dropped while its rows are read. While a stream is open the connection
//!   refuses other commands (`OutOfSync`): they could invalidate the stream's
//!   current row.
//! - [`QueryResult`] (a buffered result) owns all its rows and holds no link
//!   to the connection, so it has no lifetime: it may outlive the connection
//!   and move between threads.
//! - [`Row`] borrows its result until the next fetch: a row cannot outlive
//!   the next `next_row()` call, nor its result.
//! - [`CancelHandle`] shares the C handle through an `Arc`, because
//!   `mywire_cancel` needs the handle to stay allocated while it runs in
//!   another thread; it is the only part that is reference counted.
//!
//! No `Drop` blocks on the network: a connection is dropped with
//! `mywire_conn_discard` (socket closed without COM_QUIT), a result with
//! `mywire_result_discard` (never drains: an unfinished stream closes its
//! connection instead), a statement with `mywire_stmt_free` (its
//! COM_STMT_CLOSE is queued). A connection dropped while a [`CancelHandle`]
//! lives closes its socket at once without waiting (a non-blocking
//! `mywire_close`); the handle is freed with the last `CancelHandle`.
//! [`Connection::close`] is the polite, blocking close (COM_QUIT, at most a
//! second).
//!
//! What the borrow checker rejects:
//!
//! ```compile_fail,E0499
//! # fn f(conn: &mywire::Connection) -> mywire::Result<()> {
//! let mut res = conn.query("SELECT 1")?;
//! let first = res.next_row().unwrap();
//! let second = res.next_row();        // a row cannot outlive the next fetch
//! println!("{:?}", first.get(0));
//! # Ok(()) }
//! ```
//!
//! ```compile_fail,E0505
//! # fn f(conn: &mywire::Connection) -> mywire::Result<()> {
//! let mut res = conn.query("SELECT 1")?;
//! let row = res.next_row().unwrap();
//! drop(res);                          // nor its result
//! println!("{:?}", row.get(0));
//! # Ok(()) }
//! ```
//!
//! ```compile_fail,E0505
//! let conn = mywire::Connection::connect("mysql://u@h/db").unwrap();
//! let stream = conn.query_stream("SELECT 1").unwrap();
//! drop(conn);                          // a stream cannot outlive its connection
//! drop(stream);
//! ```
//!
//! ```compile_fail,E0505
//! let conn = mywire::Connection::connect("mysql://u@h/db").unwrap();
//! let st = conn.prepare("SELECT ?").unwrap();
//! std::thread::spawn(move || drop(conn)); // nor a statement; nor can it move away
//! drop(st);
//! ```
//!
//! ```compile_fail,E0277
//! fn needs_sync<T: Sync>(_: &T) {}
//! let conn = mywire::Connection::connect("mysql://u@h/db").unwrap();
//! needs_sync(&conn);                  // Connection is not Sync
//! ```
//!
//! ```compile_fail,E0277
//! fn needs_send<T: Send>(_: &T) {}
//! let conn = mywire::Connection::connect("mysql://u@h/db").unwrap();
//! let stream = conn.query_stream("SELECT 1").unwrap();
//! needs_send(&stream);                // a Stream stays on its connection's thread
//! ```
//!
//! ```compile_fail,E0499
//! # fn f(conn: &mywire::Connection) -> mywire::Result<()> {
//! let mut st = conn.prepare("SELECT ?")?;
//! let rows = st.execute_stream(&[&1i64])?;
//! st.execute(&[&2i64])?;              // the statement is borrowed by its stream
//! drop(rows);
//! # Ok(()) }
//! ```
//!
//! Not wrapped (use [`sys`]): the non-blocking API, the dialog
//! callback, client-side statements.

#[rustfmt::skip] // generated by gen_sys.py
pub mod sys;

mod error;
mod result;
mod stmt;
mod value;

pub use error::{Error, ErrorKind, Result};
pub use result::{Column, FromValue, QueryResult, Row, Stream};
pub use stmt::{RowResult, Statement};
pub use value::{Param, Time, TimeKind, ToParam};

use std::cell::Cell;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};
use std::sync::Arc;

/// TLS modes (`ssl_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disabled,
    Preferred,
    Required,
    VerifyCa,
    VerifyIdentity,
}

impl SslMode {
    fn key(self) -> &'static str {
        match self {
            SslMode::Disabled => "disabled",
            SslMode::Preferred => "preferred",
            SslMode::Required => "required",
            SslMode::VerifyCa => "verify_ca",
            SslMode::VerifyIdentity => "verify_identity",
        }
    }
}

/// One step of [`Connection::pipeline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// A text query (several statements with multi_statements on).
    Query(&'a str),
    Ping,
    /// COM_RESET_CONNECTION.
    Reset,
    /// COM_INIT_DB.
    SelectDb(&'a str),
}

/// Connection options: a URI and/or options by name (the URI query keys of
/// the C API: host, port, socket, user, password, database, ssl_mode,
/// ssl_ca, connect_timeout, compress, ...), applied in the order given,
/// the URI first.
#[derive(Clone, Default)]
pub struct Options {
    uri: Option<String>,
    options: Vec<(String, String)>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print passwords.
        let keys: Vec<&str> = self.options.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Options").field("uri", &self.uri.as_ref().map(|_| "..")).field("keys", &keys).finish()
    }
}

impl Options {
    pub fn new() -> Options {
        Options::default()
    }
    /// `mysql://user:password@host:port/database?key=value&...`
    pub fn uri(mut self, uri: &str) -> Options {
        self.uri = Some(uri.to_string());
        self
    }
    /// Any option by name, its value as text (see `mywire_set_option`).
    pub fn set(mut self, key: &str, value: &str) -> Options {
        self.options.push((key.to_string(), value.to_string()));
        self
    }
    pub fn host(self, host: &str) -> Options {
        self.set("host", host)
    }
    pub fn port(self, port: u16) -> Options {
        self.set("port", &port.to_string())
    }
    pub fn unix_socket(self, path: &str) -> Options {
        self.set("socket", path)
    }
    pub fn user(self, user: &str) -> Options {
        self.set("user", user)
    }
    pub fn password(self, password: &str) -> Options {
        self.set("password", password)
    }
    pub fn database(self, database: &str) -> Options {
        self.set("database", database)
    }
    pub fn ssl_mode(self, mode: SslMode) -> Options {
        self.set("ssl_mode", mode.key())
    }
    pub fn ssl_ca(self, path: &str) -> Options {
        self.set("ssl_ca", path)
    }
}

fn cstring(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::argument(&format!("{what} contains a NUL byte")))
}

fn c_str_text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// The C handle, freed (without network I/O) when the connection and every
/// cancel handle are gone.
struct Handle(*mut sys::mywire_conn);

// SAFETY: the handle is used by the Connection's thread only (Connection is
// not Sync), except through CancelHandle, which calls only mywire_cancel and
// mywire_abort: the header allows those from any thread while the owner uses
// the handle, as long as it stays allocated (the Arc sees to that).
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the last owner; no COM_QUIT, nothing waits.
        unsafe { sys::mywire_conn_discard(self.0) }
    }
}

/// A connection to a MySQL or MariaDB server. See the crate documentation
/// for what borrows it and how it is dropped.
pub struct Connection {
    handle: Arc<Handle>,
    // A Stream of this connection is open (commands are refused). Also what
    // makes Connection !Sync.
    streaming: Cell<bool>,
}

impl Connection {
    /// Connect with a `mysql://` URI.
    pub fn connect(uri: &str) -> Result<Connection> {
        Connection::connect_with(&Options::new().uri(uri))
    }

    /// Connect with options.
    pub fn connect_with(options: &Options) -> Result<Connection> {
        let mut raw = std::ptr::null_mut();
        // SAFETY: raw receives an owned handle.
        let rc = unsafe { sys::mywire_conn_new(&mut raw) };
        if rc != sys::MYWIRE_OK {
            return Err(Error::client(rc, "cannot allocate a connection handle"));
        }
        let conn = Connection { handle: Arc::new(Handle(raw)), streaming: Cell::new(false) };
        if let Some(uri) = &options.uri {
            let uri = cstring("the URI", uri)?;
            conn.check(unsafe { sys::mywire_set_uri(raw, uri.as_ptr()) })?;
        }
        for (key, value) in &options.options {
            let k = cstring("an option name", key)?;
            let v = cstring("an option value", value)?;
            conn.check(unsafe { sys::mywire_set_option(raw, k.as_ptr(), v.as_ptr()) })?;
        }
        conn.check(unsafe { sys::mywire_connect(raw) })?;
        Ok(conn)
    }

    pub(crate) fn raw(&self) -> *mut sys::mywire_conn {
        self.handle.0
    }

    fn check(&self, rc: c_int) -> Result<()> {
        if rc == sys::MYWIRE_OK {
            Ok(())
        } else {
            Err(Error::from_conn(self.raw(), rc))
        }
    }

    /// Refuse a command while a stream is open.
    pub(crate) fn idle(&self) -> Result<()> {
        if self.streaming.get() {
            Err(Error::client(
                sys::MYWIRE_ERROR_OUT_OF_SYNC,
                "a Stream of this connection is still open: read it to its end and drop it first",
            ))
        } else {
            Ok(())
        }
    }
    pub(crate) fn stream_opened(&self) {
        self.streaming.set(true);
    }
    pub(crate) fn stream_closed(&self) {
        self.streaming.set(false);
    }

    /// Connect again with the same options, after the connection was lost
    /// or closed by a fatal error (or an unfinished stream was dropped).
    pub fn reconnect(&self) -> Result<()> {
        self.idle()?;
        self.check(unsafe { sys::mywire_connect(self.raw()) })
    }

    /// A text query; all rows are read before it returns.
    pub fn query(&self, sql: &str) -> Result<QueryResult> {
        self.idle()?;
        let mut res = std::ptr::null_mut();
        self.check(unsafe {
            sys::mywire_query(self.raw(), sql.as_ptr().cast(), sql.len(), sys::MYWIRE_BUFFERED, &mut res)
        })?;
        Ok(unsafe { QueryResult::from_raw(res) })
    }

    /// A text query whose rows are read one at a time (constant memory).
    pub fn query_stream(&self, sql: &str) -> Result<Stream<'_>> {
        self.idle()?;
        let mut res = std::ptr::null_mut();
        self.check(unsafe {
            sys::mywire_query(self.raw(), sql.as_ptr().cast(), sql.len(), sys::MYWIRE_STREAMING, &mut res)
        })?;
        self.stream_opened();
        Ok(unsafe { Stream::from_raw(res, self) })
    }

    /// Run a statement that returns no rows; the affected row count.
    pub fn execute(&self, sql: &str) -> Result<u64> {
        Ok(self.query(sql)?.affected_rows())
    }

    /// True if the server announced another result for the current query.
    pub fn more_results(&self) -> bool {
        unsafe { sys::mywire_more_results(self.raw()) != 0 }
    }

    /// The next result of a multi-result query (buffered), `None` when there
    /// are no more.
    pub fn next_result(&self) -> Result<Option<QueryResult>> {
        self.idle()?;
        let mut res = std::ptr::null_mut();
        match unsafe { sys::mywire_next_result(self.raw(), sys::MYWIRE_BUFFERED, &mut res) } {
            sys::MYWIRE_OK => Ok(Some(unsafe { QueryResult::from_raw(res) })),
            sys::MYWIRE_DONE => Ok(None),
            rc => Err(Error::from_conn(self.raw(), rc)),
        }
    }

    /// The next result of a multi-result query, streaming; `None` when
    /// there are no more.
    pub fn next_result_stream(&self) -> Result<Option<Stream<'_>>> {
        self.idle()?;
        let mut res = std::ptr::null_mut();
        match unsafe { sys::mywire_next_result(self.raw(), sys::MYWIRE_STREAMING, &mut res) } {
            sys::MYWIRE_OK => {
                self.stream_opened();
                Ok(Some(unsafe { Stream::from_raw(res, self) }))
            }
            sys::MYWIRE_DONE => Ok(None),
            rc => Err(Error::from_conn(self.raw(), rc)),
        }
    }

    /// Prepare a statement on the server.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        Statement::prepare(self, sql)
    }

    pub fn ping(&self) -> Result<()> {
        self.idle()?;
        self.check(unsafe { sys::mywire_ping(self.raw()) })
    }

    /// COM_INIT_DB: make `database` the default database.
    pub fn select_db(&self, database: &str) -> Result<()> {
        self.idle()?;
        let db = cstring("the database name", database)?;
        self.check(unsafe { sys::mywire_select_db(self.raw(), db.as_ptr()) })
    }

    /// COM_RESET_CONNECTION: session state back to the login's. Statements
    /// prepared before must be prepared again.
    pub fn reset(&self) -> Result<()> {
        self.idle()?;
        self.check(unsafe { sys::mywire_reset_connection(self.raw()) })
    }

    /// `text` escaped to go between single quotes in SQL, for this
    /// connection's character set and the server's current
    /// NO_BACKSLASH_ESCAPES mode (`mywire_escape_string`). Prefer statements.
    pub fn escape_string(&self, text: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; 2 * text.len() + 1];
        let mut len = 0usize;
        let rc = unsafe {
            sys::mywire_escape_string(
                self.raw(),
                text.as_ptr().cast(),
                text.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut len,
            )
        };
        self.check(rc)?;
        out.truncate(len);
        Ok(out)
    }

    /// Run `steps` as one pipeline: sent together, answered in order, each
    /// with its own outcome (a failing step does not stop the later ones, as
    /// the server runs them). A query step gives its results (one per
    /// statement, buffered), other steps none. The outer error is one that
    /// ended the connection, or a refusal before anything was sent.
    pub fn pipeline(&self, steps: &[Step<'_>]) -> Result<Vec<Result<Vec<QueryResult>>>> {
        self.idle()?;
        struct Owned(*mut sys::mywire_pipeline);
        impl Drop for Owned {
            fn drop(&mut self) {
                // Frees the results not taken; no I/O.
                unsafe { sys::mywire_pipeline_free(self.0) }
            }
        }
        let mut raw = std::ptr::null_mut();
        if unsafe { sys::mywire_pipeline_new(&mut raw) } != sys::MYWIRE_OK {
            return Err(Error::client(sys::MYWIRE_ERROR_NOMEM, "cannot allocate a pipeline"));
        }
        let p = Owned(raw);
        for step in steps {
            let rc = unsafe {
                match step {
                    Step::Query(sql) => sys::mywire_pipeline_add_query(p.0, sql.as_ptr().cast(), sql.len()),
                    Step::Ping => sys::mywire_pipeline_add_ping(p.0),
                    Step::Reset => sys::mywire_pipeline_add_reset_connection(p.0),
                    Step::SelectDb(db) => {
                        let db = cstring("the database name", db)?;
                        sys::mywire_pipeline_add_select_db(p.0, db.as_ptr())
                    }
                }
            };
            if rc != sys::MYWIRE_OK {
                return Err(Error::client(rc, "cannot add a pipeline step"));
            }
        }
        self.check(unsafe { sys::mywire_pipeline_run(self.raw(), p.0) })?;
        let mut out = Vec::with_capacity(steps.len());
        for i in 0..steps.len() {
            let code = unsafe { sys::mywire_pipeline_step_code(p.0, i) };
            if code != sys::MYWIRE_OK {
                out.push(Err(Error::from_step(p.0, i, code)));
                continue;
            }
            let mut results = Vec::new();
            for k in 0..unsafe { sys::mywire_pipeline_result_count(p.0, i) } {
                let mut res = std::ptr::null_mut();
                match unsafe { sys::mywire_pipeline_take_result(p.0, i, k, &mut res) } {
                    // A pipeline's results are buffered and now ours.
                    sys::MYWIRE_OK => results.push(unsafe { QueryResult::from_raw(res) }),
                    rc => return Err(Error::client(rc, "cannot take a pipeline result")),
                }
            }
            out.push(Ok(results));
        }
        Ok(out)
    }

    /// A handle that can cancel this connection's running statement from
    /// another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle { handle: Arc::clone(&self.handle) }
    }

    /// Send COM_QUIT (waiting at most a second) and close. Dropping the
    /// connection instead closes the socket without COM_QUIT.
    pub fn close(self) {
        unsafe { sys::mywire_close(self.raw()) }
    }

    pub fn is_connected(&self) -> bool {
        unsafe { sys::mywire_is_connected(self.raw()) != 0 }
    }
    pub fn server_version(&self) -> String {
        c_str_text(unsafe { sys::mywire_server_version(self.raw()) })
    }
    /// The server's id of this session.
    pub fn connection_id(&self) -> u64 {
        unsafe { sys::mywire_connection_id(self.raw()) }
    }
    pub fn is_mariadb(&self) -> bool {
        unsafe { sys::mywire_is_mariadb(self.raw()) != 0 }
    }
    /// "tcp" or "unix" while connected.
    pub fn transport(&self) -> String {
        c_str_text(unsafe { sys::mywire_transport(self.raw()) })
    }
    pub fn tls_active(&self) -> bool {
        unsafe { sys::mywire_tls_active(self.raw()) != 0 }
    }
    /// The certificate was verified (chain; and name for verify_identity).
    pub fn tls_verified(&self) -> bool {
        unsafe { sys::mywire_tls_verified(self.raw()) != 0 }
    }
    pub fn tls_version(&self) -> String {
        c_str_text(unsafe { sys::mywire_tls_version(self.raw()) })
    }
    /// Server status flags (`sys::MYWIRE_STATUS_*`) of the last OK/EOF.
    pub fn server_status(&self) -> u32 {
        unsafe { sys::mywire_server_status(self.raw()) }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if Arc::strong_count(&self.handle) > 1 {
            // A CancelHandle keeps the C handle allocated: close the socket
            // now without waiting (a non-blocking close never waits; no
            // stream or statement can exist here, they borrow self).
            unsafe {
                sys::mywire_set_nonblocking(self.raw(), 1);
                sys::mywire_close(self.raw());
            }
        }
        // The last owner of the handle frees it with mywire_conn_discard.
    }
}

/// Cancels the statement a [`Connection`] is running, from any thread
/// (`Send + Sync + Clone`). It keeps the C handle allocated, not the
/// connection open: once the connection is dropped, `cancel` gives `State`.
#[derive(Clone)]
pub struct CancelHandle {
    handle: Arc<Handle>,
}

impl CancelHandle {
    /// KILL QUERY over a short side connection with the same options; the
    /// blocked call then fails with `Cancelled` and the connection stays
    /// usable. `Ok` when the server accepted the KILL (whether or not
    /// anything was running); `State` when the connection is not connected.
    pub fn cancel(&self) -> Result<()> {
        match unsafe { sys::mywire_cancel(self.handle.0) } {
            sys::MYWIRE_OK => Ok(()),
            rc => Err(Error::client(rc, &format!("cancel failed: {}", error::static_text(rc)))),
        }
    }
    /// Wake the blocked call, which closes the connection and fails with
    /// `Cancelled` (for a server that cannot be reached). Never blocks.
    pub fn abort(&self) -> Result<()> {
        match unsafe { sys::mywire_abort(self.handle.0) } {
            sys::MYWIRE_OK => Ok(()),
            rc => Err(Error::client(rc, &format!("abort failed: {}", error::static_text(rc)))),
        }
    }
}

/// The version of the libmywire actually loaded ("0.4.0").
pub fn library_version() -> String {
    c_str_text(unsafe { sys::mywire_version() })
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("connected", &self.is_connected())
            .field("connection_id", &self.connection_id())
            .finish()
    }
}

impl std::fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CancelHandle")
    }
}
