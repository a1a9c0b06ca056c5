//! Results: buffered ([`QueryResult`], owning all its rows) and streaming
//! ([`Stream`], one row at a time in constant memory), and their rows.

use std::ffi::CStr;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int, c_uint};

use crate::error::{Error, Result};
use crate::sys;
use crate::value::Time;
use crate::Connection;

/// A column's metadata (copied out of the result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub org_name: String,
    pub table: String,
    pub org_table: String,
    pub schema: String,
    /// `sys::MYWIRE_TYPE_*`
    pub column_type: u32,
    /// `sys::MYWIRE_FLAG_*`
    pub flags: u32,
    /// The collation id; 63 is binary.
    pub charset: u32,
    pub decimals: u32,
    pub length: u32,
}

fn text(p: *const c_char, len: usize) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the column strings are valid for len bytes while the result lives.
    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(p as *const u8, len) }).into_owned()
}

impl Column {
    pub(crate) fn from_sys(c: &sys::mywire_column) -> Column {
        Column {
            name: text(c.name, c.name_len),
            org_name: text(c.org_name, c.org_name_len),
            table: text(c.table, c.table_len),
            org_table: text(c.org_table, c.org_table_len),
            schema: text(c.schema, c.schema_len),
            column_type: c.r#type,
            flags: c.flags,
            charset: c.charset,
            decimals: c.decimals,
            length: c.length,
        }
    }
    pub fn is_unsigned(&self) -> bool {
        self.flags & sys::MYWIRE_FLAG_UNSIGNED != 0
    }
    pub fn is_nullable(&self) -> bool {
        self.flags & sys::MYWIRE_FLAG_NOT_NULL == 0
    }
}

/// The metadata every result has (both kinds). `res` is a live result.
fn columns_of(res: *const sys::mywire_result) -> Vec<Column> {
    // SAFETY: res is live; mywire_column_at returns NULL past the end.
    unsafe {
        (0..sys::mywire_column_count(res))
            .filter_map(|i| sys::mywire_column_at(res, i).as_ref().map(Column::from_sys))
            .collect()
    }
}

macro_rules! result_metadata {
    () => {
        /// Number of columns; 0 for a result without rows (an OK).
        pub fn column_count(&self) -> usize {
            unsafe { sys::mywire_column_count(self.res) as usize }
        }
        /// The columns' metadata.
        pub fn columns(&self) -> Vec<Column> {
            columns_of(self.res)
        }
        pub fn affected_rows(&self) -> u64 {
            unsafe { sys::mywire_affected_rows(self.res) }
        }
        pub fn insert_id(&self) -> u64 {
            unsafe { sys::mywire_insert_id(self.res) }
        }
        pub fn warning_count(&self) -> u32 {
            unsafe { sys::mywire_warning_count(self.res) }
        }
        /// Server status flags (`sys::MYWIRE_STATUS_*`).
        pub fn status_flags(&self) -> u32 {
            unsafe { sys::mywire_status_flags(self.res) }
        }
        /// The OK packet's info text ("Rows matched: ..."), "" if none.
        pub fn info(&self) -> String {
            let p = unsafe { sys::mywire_info(self.res) };
            if p.is_null() {
                String::new()
            } else {
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            }
        }
        /// Buffered: the number of rows. Streaming: the rows fetched so far.
        pub fn row_count(&self) -> u64 {
            unsafe { sys::mywire_row_count(self.res) }
        }
        /// True for a prepared statement's (binary protocol) result.
        pub fn is_binary(&self) -> bool {
            unsafe { sys::mywire_result_is_binary(self.res) != 0 }
        }
    };
}

/// The current row of a result, borrowed from it: it cannot outlive the
/// next fetch on that result, nor the result itself (the borrow checker sees
/// to that). Values are `None` for SQL NULL, else their bytes (as the text
/// protocol prints them, for both protocols).
#[derive(Clone, Copy)]
pub struct Row<'r> {
    res: *const sys::mywire_result,
    len: usize,
    _result: PhantomData<&'r ()>,
}

impl<'r> Row<'r> {
    /// SAFETY: res is live and has a current row that stays valid for 'r.
    unsafe fn current(res: *const sys::mywire_result) -> Row<'r> {
        // Values are read one at a time (mywire_get), not with mywire_row:
        // a binary result formats a value as text only when it is asked for,
        // so typed getters never pay for text.
        Row { res, len: sys::mywire_column_count(res) as usize, _result: PhantomData }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// SAFETY: i < self.len.
    unsafe fn value(&self, i: usize) -> Option<&'r [u8]> {
        let mut len = 0usize;
        let data = sys::mywire_get(self.res, i as c_uint, &mut len);
        if data.is_null() {
            None
        } else {
            // Valid for len bytes until the next fetch or the result's free,
            // which 'r outlives no longer than.
            Some(std::slice::from_raw_parts(data as *const u8, len))
        }
    }

    /// Value `index`: `Ok(None)` for SQL NULL; an `Argument` error when the
    /// index is out of range.
    pub fn get(&self, index: usize) -> Result<Option<&'r [u8]>> {
        self.index(index)?;
        Ok(unsafe { self.value(index) })
    }

    /// Every value of the row in order.
    pub fn values(&self) -> impl Iterator<Item = Option<&'r [u8]>> + 'r {
        let row = *self;
        (0..row.len).map(move |i| unsafe { row.value(i) })
    }

    /// The row copied out (owned).
    pub fn to_vec(&self) -> Vec<Option<Vec<u8>>> {
        self.values().map(|v| v.map(<[u8]>::to_vec)).collect()
    }

    fn index(&self, index: usize) -> Result<c_uint> {
        if index < self.len() {
            Ok(index as c_uint)
        } else {
            Err(Error::argument(&format!("column index {index} out of range ({} columns)", self.len())))
        }
    }

    fn typed(rc: c_int, what: &str, index: usize) -> Result<bool> {
        match rc {
            sys::MYWIRE_OK => Ok(true),
            sys::MYWIRE_NULL => Ok(false),
            sys::MYWIRE_ERROR_CONVERSION => {
                Err(Error::conversion(&format!("value {index} cannot be converted to {what} without loss")))
            }
            rc => Err(Error::client(rc, &format!("reading value {index} as {what}"))),
        }
    }

    /// Value `index` as an i64 (the header's "typed values" rules: integers
    /// in range, integral DECIMAL/FLOAT/DOUBLE, digit strings, BIT, YEAR);
    /// a `Conversion` error otherwise.
    pub fn get_i64(&self, index: usize) -> Result<Option<i64>> {
        let mut out = 0i64;
        let rc = unsafe { sys::mywire_get_int64(self.res, self.index(index)?, &mut out) };
        Ok(Row::typed(rc, "i64", index)?.then_some(out))
    }
    pub fn get_u64(&self, index: usize) -> Result<Option<u64>> {
        let mut out = 0u64;
        let rc = unsafe { sys::mywire_get_uint64(self.res, self.index(index)?, &mut out) };
        Ok(Row::typed(rc, "u64", index)?.then_some(out))
    }
    pub fn get_f64(&self, index: usize) -> Result<Option<f64>> {
        let mut out = 0f64;
        let rc = unsafe { sys::mywire_get_double(self.res, self.index(index)?, &mut out) };
        Ok(Row::typed(rc, "f64", index)?.then_some(out))
    }
    /// DATE, DATETIME, TIMESTAMP, TIME and strings in their text forms.
    pub fn get_time(&self, index: usize) -> Result<Option<Time>> {
        let mut out = sys::mywire_time {
            kind: 0,
            negative: 0,
            year: 0,
            month: 0,
            day: 0,
            hour: 0,
            minute: 0,
            second: 0,
            microsecond: 0,
        };
        let rc = unsafe { sys::mywire_get_time(self.res, self.index(index)?, &mut out) };
        if !Row::typed(rc, "a time", index)? {
            return Ok(None);
        }
        Time::from_sys(&out).map(Some).ok_or_else(|| Error::conversion("unknown time kind"))
    }
    /// Any value as its bytes (the same as [`Row::get`]).
    pub fn get_bytes(&self, index: usize) -> Result<Option<&'r [u8]>> {
        let mut data: *const c_char = std::ptr::null();
        let mut len = 0usize;
        let rc = unsafe { sys::mywire_get_bytes(self.res, self.index(index)?, &mut data, &mut len) };
        if !Row::typed(rc, "bytes", index)? {
            return Ok(None);
        }
        // SAFETY: the same data as mywire_row's, valid for 'r.
        Ok(Some(if len == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(data as *const u8, len) } }))
    }
    /// The value as UTF-8 text; a `Conversion` error for other bytes.
    pub fn get_str(&self, index: usize) -> Result<Option<&'r str>> {
        match self.get_bytes(index)? {
            None => Ok(None),
            Some(b) => std::str::from_utf8(b)
                .map(Some)
                .map_err(|_| Error::conversion(&format!("value {index} is not UTF-8 text"))),
        }
    }
    /// Value `index` converted to `T` (see [`FromValue`]).
    pub fn get_as<T: FromValue<'r>>(&self, index: usize) -> Result<Option<T>> {
        T::from_row(self, index)
    }
}

impl std::fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.values().map(|v| v.map(String::from_utf8_lossy))).finish()
    }
}

/// A Rust type a value can be read as, with the typed getters' rules.
pub trait FromValue<'r>: Sized {
    fn from_row(row: &Row<'r>, index: usize) -> Result<Option<Self>>;
}

impl<'r> FromValue<'r> for i64 {
    fn from_row(row: &Row<'r>, index: usize) -> Result<Option<i64>> {
        row.get_i64(index)
    }
}
impl<'r> FromValue<'r> for u64 {
    fn from_row(row: &Row<'r>, index: usize) -> Result<Option<u64>> {
        row.get_u64(index)
    }
}
macro_rules! narrow {
    ($($t:ty, $via:ident);*) => {
        $(impl<'r> FromValue<'r> for $t {
            fn from_row(row: &Row<'r>, index: usize) -> Result<Option<$t>> {
                match row.$via(index)? {
                    None => Ok(None),
                    Some(v) => <$t>::try_from(v).map(Some).map_err(|_| {
                        Error::conversion(&format!("value {index} ({v}) out of range for {}", stringify!($t)))
                    }),
                }
            }
        })*
    };
}
narrow!(i8, get_i64; i16, get_i64; i32, get_i64; u8, get_u64; u16, get_u64; u32, get_u64);
impl<'r> FromValue<'r> for f64 {
    fn from_row(row: &Row<'r>, index: usize) -> Result<Option<f64>> {
        row.get_f64(index)
    }
}
impl<'r> FromValue<'r> for Time {
    fn from_row(row: &Row<'r>, index: usize) -> Result<Option<Time>> {
        row.get_time(index)
    }
}
impl<'r> FromValue<'r> for &'r [u8] {
    fn from_row(row: &Row<'r>, index: usize) -> Result<Option<&'r [u8]>> {
        row.get_bytes(index)
    }
}
impl<'r> FromValue<'r> for &'r str {
    fn from_row(row: &Row<'r>, index: usize) -> Result<Option<&'r str>> {
        row.get_str(index)
    }
}
impl<'r> FromValue<'r> for Vec<u8> {
    fn from_row(row: &Row<'r>, index: usize) -> Result<Option<Vec<u8>>> {
        Ok(row.get_bytes(index)?.map(<[u8]>::to_vec))
    }
}
impl<'r> FromValue<'r> for String {
    fn from_row(row: &Row<'r>, index: usize) -> Result<Option<String>> {
        Ok(row.get_str(index)?.map(str::to_string))
    }
}

/// A buffered result: every row was read into memory when the query
/// returned, and the result holds no link to its connection any more. It
/// may therefore outlive the [`Connection`] (the C API keeps a result's data
/// readable after its connection is freed, and mywire clears the result's
/// connection pointer once the rows are stored), be kept while other
/// commands run, and move to another thread. Dropping it frees memory only.
pub struct QueryResult {
    res: *mut sys::mywire_result,
}

// SAFETY: a finished buffered result is self-contained: nothing else refers
// to it and it refers to nothing else. The header promises that it outlives
// its connection with its data readable; that it may also be used on another
// thread than its connection's rests on the core (core/connection.cpp clears
// a buffered result's connection pointer once its head is read, "a buffered
// result owns everything it needs"), which the header's thread rule does not
// spell out for results.
unsafe impl Send for QueryResult {}

impl QueryResult {
    /// SAFETY: res is a buffered result handed out by the C API, now owned.
    pub(crate) unsafe fn from_raw(res: *mut sys::mywire_result) -> QueryResult {
        QueryResult { res }
    }
    pub(crate) fn as_raw(&self) -> *const sys::mywire_result {
        self.res
    }

    result_metadata!();

    /// The next row, or `None` after the last. The row borrows the result
    /// until the next call.
    #[allow(clippy::should_implement_trait)]
    pub fn next_row(&mut self) -> Option<Row<'_>> {
        // SAFETY: res is live; a buffered fetch never fails.
        match unsafe { sys::mywire_fetch(self.res) } {
            sys::MYWIRE_ROW => Some(unsafe { Row::current(self.res) }),
            _ => None,
        }
    }

    /// Position before row `index`, so that the next [`next_row`](Self::next_row) returns it.
    pub fn seek(&mut self, index: u64) -> Result<()> {
        match unsafe { sys::mywire_seek(self.res, index) } {
            sys::MYWIRE_OK => Ok(()),
            rc => Err(Error::client(rc, &format!("cannot seek to row {index} of {}", self.row_count()))),
        }
    }

    /// Call `f` on every remaining row, in order.
    pub fn for_each_row<F: FnMut(Row<'_>) -> Result<()>>(&mut self, mut f: F) -> Result<()> {
        while let Some(row) = self.next_row() {
            f(row)?;
        }
        Ok(())
    }

    /// All remaining rows copied out.
    pub fn collect_rows(&mut self) -> Vec<Vec<Option<Vec<u8>>>> {
        let mut out = Vec::new();
        while let Some(row) = self.next_row() {
            out.push(row.to_vec());
        }
        out
    }
}

impl Drop for QueryResult {
    fn drop(&mut self) {
        // SAFETY: owned; a buffered result needs no I/O to be freed.
        unsafe { sys::mywire_result_discard(self.res) }
    }
}

/// A streaming result: rows are read from the connection one at a time by
/// [`next_row`](Self::next_row), in constant memory. It borrows its
/// connection (and, for a statement's result, the statement), so neither
/// can be dropped, moved to another thread or used for another command while
/// it is open; the crate also refuses other commands on the connection until
/// it is dropped.
///
/// Dropping a stream that was not read to its end does not read the rest
/// (that could block): it closes the connection (`mywire_result_discard`),
/// whose next command then fails with `State` until
/// [`Connection::reconnect`]. Call [`finish`](Self::finish) to read and drop
/// the remaining rows and keep the connection.
pub struct Stream<'c> {
    res: *mut sys::mywire_result,
    conn: &'c Connection,
    done: bool,
}

impl<'c> Stream<'c> {
    /// SAFETY: res is a streaming result of conn, now owned; conn is marked busy.
    pub(crate) unsafe fn from_raw(res: *mut sys::mywire_result, conn: &'c Connection) -> Stream<'c> {
        let done = sys::mywire_column_count(res) == 0;
        Stream { res, conn, done }
    }

    result_metadata!();

    /// The next row, `Ok(None)` after the last, or the error that ended the
    /// result (it is sticky: later calls give it again).
    #[allow(clippy::should_implement_trait)]
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>> {
        // SAFETY: res is live and owned by self.
        match unsafe { sys::mywire_fetch(self.res) } {
            sys::MYWIRE_ROW => Ok(Some(unsafe { Row::current(self.res) })),
            sys::MYWIRE_DONE => {
                self.done = true;
                Ok(None)
            }
            rc => Err(Error::from_conn(self.conn.raw(), rc)),
        }
    }

    /// Call `f` on every remaining row, in order; stops at the first error.
    pub fn for_each_row<F: FnMut(Row<'_>) -> Result<()>>(&mut self, mut f: F) -> Result<()> {
        while let Some(row) = self.next_row()? {
            f(row)?;
        }
        Ok(())
    }

    /// Read and drop the remaining rows (blocking), so that the connection
    /// stays usable, then free the stream.
    pub fn finish(mut self) -> Result<()> {
        while self.next_row()?.is_some() {}
        Ok(())
    }

    /// True once the last row was read.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        // SAFETY: owned. Never drains: at most closes the connection.
        unsafe { sys::mywire_result_discard(self.res) };
        self.conn.stream_closed();
    }
}

impl std::fmt::Debug for QueryResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryResult")
            .field("columns", &self.column_count())
            .field("rows", &self.row_count())
            .field("affected_rows", &self.affected_rows())
            .finish()
    }
}

impl std::fmt::Debug for Stream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("columns", &self.column_count())
            .field("rows_read", &self.row_count())
            .field("done", &self.done)
            .finish()
    }
}
