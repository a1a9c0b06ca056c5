//! The crate's error type: a mywire result code with the server's error
//! number, SQLSTATE and message when the server sent them.

use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_int;

use crate::sys;

/// What kind of failure an [`Error`] is: the header's `MYWIRE_ERROR_*` codes.
/// Codes a newer library may add come as `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The server answered with an error packet (see [`Error::server_errno`]).
    Server,
    Argument,
    Option,
    Uri,
    NoMem,
    Connect,
    Timeout,
    Lost,
    Protocol,
    Auth,
    OutOfSync,
    State,
    Limit,
    Unsupported,
    Internal,
    Tls,
    Cancelled,
    ResultTooLarge,
    /// A typed getter cannot convert the value without loss (or a text
    /// getter found bytes that are not UTF-8).
    Conversion,
    Other(i32),
}

impl ErrorKind {
    pub fn from_code(code: c_int) -> ErrorKind {
        match code {
            sys::MYWIRE_ERROR_SERVER => ErrorKind::Server,
            sys::MYWIRE_ERROR_ARGUMENT => ErrorKind::Argument,
            sys::MYWIRE_ERROR_OPTION => ErrorKind::Option,
            sys::MYWIRE_ERROR_URI => ErrorKind::Uri,
            sys::MYWIRE_ERROR_NOMEM => ErrorKind::NoMem,
            sys::MYWIRE_ERROR_CONNECT => ErrorKind::Connect,
            sys::MYWIRE_ERROR_TIMEOUT => ErrorKind::Timeout,
            sys::MYWIRE_ERROR_LOST => ErrorKind::Lost,
            sys::MYWIRE_ERROR_PROTOCOL => ErrorKind::Protocol,
            sys::MYWIRE_ERROR_AUTH => ErrorKind::Auth,
            sys::MYWIRE_ERROR_OUT_OF_SYNC => ErrorKind::OutOfSync,
            sys::MYWIRE_ERROR_STATE => ErrorKind::State,
            sys::MYWIRE_ERROR_LIMIT => ErrorKind::Limit,
            sys::MYWIRE_ERROR_UNSUPPORTED => ErrorKind::Unsupported,
            sys::MYWIRE_ERROR_INTERNAL => ErrorKind::Internal,
            sys::MYWIRE_ERROR_TLS => ErrorKind::Tls,
            sys::MYWIRE_ERROR_CANCELLED => ErrorKind::Cancelled,
            sys::MYWIRE_ERROR_RESULT_TOO_LARGE => ErrorKind::ResultTooLarge,
            sys::MYWIRE_ERROR_CONVERSION => ErrorKind::Conversion,
            other => ErrorKind::Other(other),
        }
    }
}

/// A failed call: the result code, and for server errors the server's error
/// number and SQLSTATE. Client-side errors have errno 0 and SQLSTATE "HY000"
/// (as in the C API). The message of a server error is server-supplied text.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: c_int,
    errno: u32,
    sqlstate: String,
    message: String,
    client_error: c_int,
}

fn c_text(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the C API hands out NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

pub(crate) fn static_text(code: c_int) -> String {
    // SAFETY: mywire_errstr never returns NULL; its text is static.
    c_text(unsafe { sys::mywire_errstr(code) })
}

impl Error {
    /// The error recorded on a connection handle after a call returned `code`.
    pub(crate) fn from_conn(conn: *const sys::mywire_conn, code: c_int) -> Error {
        // SAFETY: conn is a live handle (the callers own it); the getters copy out.
        unsafe {
            let recorded = sys::mywire_errcode(conn);
            if recorded != code {
                // Not this call's error (the call does not record on the handle).
                return Error::client(code, &static_text(code));
            }
            Error {
                code,
                errno: sys::mywire_errno(conn),
                sqlstate: c_text(sys::mywire_sqlstate(conn)),
                message: c_text(sys::mywire_errmsg(conn)),
                client_error: sys::mywire_client_error(conn),
            }
        }
    }

    /// A client-side error not recorded on any handle.
    pub(crate) fn client(code: c_int, message: &str) -> Error {
        Error {
            code,
            errno: 0,
            sqlstate: "HY000".to_string(),
            message: message.to_string(),
            client_error: if code == sys::MYWIRE_ERROR_SERVER { 0 } else { sys::MYWIRE_CLIENT_ERROR_OTHER },
        }
    }

    /// Step `i`'s error after a pipeline run.
    pub(crate) fn from_step(p: *const sys::mywire_pipeline, i: usize, code: c_int) -> Error {
        // SAFETY: p is live; the getters copy out.
        unsafe {
            Error {
                code,
                errno: sys::mywire_pipeline_step_errno(p, i),
                sqlstate: c_text(sys::mywire_pipeline_step_sqlstate(p, i)),
                message: c_text(sys::mywire_pipeline_step_errmsg(p, i)),
                client_error: if code == sys::MYWIRE_ERROR_SERVER { 0 } else { sys::MYWIRE_CLIENT_ERROR_OTHER },
            }
        }
    }

    pub(crate) fn argument(message: &str) -> Error {
        Error::client(sys::MYWIRE_ERROR_ARGUMENT, message)
    }

    pub(crate) fn conversion(message: &str) -> Error {
        Error::client(sys::MYWIRE_ERROR_CONVERSION, message)
    }

    /// The result code (`sys::MYWIRE_ERROR_*`).
    pub fn code(&self) -> i32 {
        self.code
    }
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::from_code(self.code)
    }
    /// The server's error number (e.g. 1146) for a server error, else 0.
    pub fn server_errno(&self) -> u32 {
        self.errno
    }
    /// Five characters: the server's SQLSTATE, "HY000" for client errors.
    pub fn sqlstate(&self) -> &str {
        &self.sqlstate
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// `sys::MYWIRE_CLIENT_ERROR_*`: where a client-side error happened.
    pub fn client_error(&self) -> i32 {
        self.client_error
    }
    /// Whether the failure closed the connection (`mywire_is_fatal`).
    pub fn is_fatal(&self) -> bool {
        // SAFETY: a pure function of an int.
        unsafe { sys::mywire_is_fatal(self.code) != 0 }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind())
            .field("errno", &self.errno)
            .field("sqlstate", &self.sqlstate)
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.errno != 0 {
            write!(f, "ERROR {} ({}): {}", self.errno, self.sqlstate, self.message)
        } else {
            write!(f, "{} ({:?})", self.message, self.kind())
        }
    }
}

impl std::error::Error for Error {}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
