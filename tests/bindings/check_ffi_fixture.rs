// A fixture for bindings/check_ffi.py's Rust reader (suite 'bindings'):
// a few declarations of capi/mywire.h in the spelling of a hand-written
// sys.rs, so that the reader is tested before bindings/rust/src/sys.rs is
// merged. Not compiled.
use std::os::raw::{c_char, c_int, c_uint, c_void};

pub const MYWIRE_OK: c_int = 0;
pub const MYWIRE_ERROR_STATE: c_int = 12;
pub const MYWIRE_FLAG_NUM: c_uint = 0x8000;
pub const MYWIRE_VERSION_NUMBER: c_uint = 400;
pub const MYWIRE_VERSION_STRING: &str = "0.4.0";

pub enum mywire_conn {}
pub enum mywire_result {}

#[repr(C)]
pub struct mywire_value {
    pub data: *const c_char,
    pub len: usize,
}

pub type mywire_dialog_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        echo: c_int,
        prompt: *const c_char,
        answer: *mut c_char,
        answer_size: usize,
    ) -> c_int,
>;

extern "C" {
    pub fn mywire_conn_new(out: *mut *mut mywire_conn) -> c_int;
    pub fn mywire_conn_free(conn: *mut mywire_conn);
    pub fn mywire_query(
        conn: *mut mywire_conn,
        sql: *const c_char,
        len: usize,
        mode: c_int,
        out: *mut *mut mywire_result,
    ) -> c_int;
    pub fn mywire_affected_rows(res: *const mywire_result) -> u64;
    pub fn mywire_row(res: *const mywire_result) -> *const mywire_value;
    pub fn mywire_version() -> *const c_char;
    pub fn mywire_set_dialog_callback(
        conn: *mut mywire_conn,
        f: mywire_dialog_fn,
        user_data: *mut c_void,
    ) -> c_int;
}
