//! Prepared statements (server-side, binary protocol) with typed parameters.

use std::os::raw::{c_int, c_uint};

use crate::error::{Error, Result};
use crate::result::{Column, QueryResult, Stream};
use crate::sys;
use crate::value::{Param, ToParam};
use crate::Connection;

/// A statement prepared on the server. It borrows its connection: it cannot
/// outlive it or move to another thread, and its drop (which only queues
/// COM_STMT_CLOSE ahead of the connection's next command, never waiting)
/// always runs while the connection is alive.
pub struct Statement<'c> {
    st: *mut sys::mywire_stmt,
    conn: &'c Connection,
    cursor: u32,
    row_results: bool,
}

/// One batch row's result (see [`Statement::execute_batch_rows`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RowResult {
    /// The rows this row of parameters affected (for an UPDATE: changed).
    pub affected_rows: u64,
    /// The AUTO_INCREMENT value generated for this row, 0 when none.
    pub insert_id: u64,
}

impl<'c> Statement<'c> {
    pub(crate) fn prepare(conn: &'c Connection, sql: &str) -> Result<Statement<'c>> {
        conn.idle()?;
        let mut st = std::ptr::null_mut();
        // SAFETY: conn is live; st receives an owned handle.
        let rc = unsafe { sys::mywire_stmt_new(conn.raw(), &mut st) };
        if rc != sys::MYWIRE_OK {
            return Err(Error::client(rc, "cannot allocate a statement"));
        }
        let stmt = Statement { st, conn, cursor: 0, row_results: false };
        let rc = unsafe { sys::mywire_stmt_prepare(st, sql.as_ptr().cast(), sql.len()) };
        if rc != sys::MYWIRE_OK {
            return Err(Error::from_conn(conn.raw(), rc)); // stmt is freed by its drop
        }
        Ok(stmt)
    }

    fn check(&self, rc: c_int) -> Result<()> {
        if rc == sys::MYWIRE_OK {
            Ok(())
        } else {
            Err(Error::from_conn(self.conn.raw(), rc))
        }
    }

    pub fn param_count(&self) -> usize {
        unsafe { sys::mywire_stmt_param_count(self.st) as usize }
    }
    /// The result columns announced at prepare (0 for statements without rows).
    pub fn column_count(&self) -> usize {
        unsafe { sys::mywire_stmt_column_count(self.st) as usize }
    }
    pub fn columns(&self) -> Vec<Column> {
        (0..self.column_count() as c_uint)
            .filter_map(|i| unsafe { sys::mywire_stmt_column_at(self.st, i).as_ref() }.map(Column::from_sys))
            .collect()
    }
    /// The server's statement id.
    pub fn id(&self) -> u32 {
        unsafe { sys::mywire_stmt_id(self.st) }
    }

    /// Bind parameter `index` (0-based) for the next executions.
    pub fn bind<T: ToParam + ?Sized>(&mut self, index: usize, value: &T) -> Result<()> {
        let i = c_uint::try_from(index).map_err(|_| Error::argument("parameter index out of range"))?;
        if index >= self.param_count() {
            return Err(Error::argument(&format!(
                "parameter index {index} out of range ({} parameters)",
                self.param_count()
            )));
        }
        let st = self.st;
        // SAFETY: st is live; every setter copies its value.
        let rc = unsafe {
            match value.to_param() {
                Param::Null => sys::mywire_stmt_bind_null(st, i),
                Param::I8(v) => sys::mywire_stmt_bind_int8(st, i, v),
                Param::I16(v) => sys::mywire_stmt_bind_int16(st, i, v),
                Param::I32(v) => sys::mywire_stmt_bind_int32(st, i, v),
                Param::I64(v) => sys::mywire_stmt_bind_int64(st, i, v),
                Param::U8(v) => sys::mywire_stmt_bind_uint8(st, i, v),
                Param::U16(v) => sys::mywire_stmt_bind_uint16(st, i, v),
                Param::U32(v) => sys::mywire_stmt_bind_uint32(st, i, v),
                Param::U64(v) => sys::mywire_stmt_bind_uint64(st, i, v),
                Param::F32(v) => sys::mywire_stmt_bind_float(st, i, v),
                Param::F64(v) => sys::mywire_stmt_bind_double(st, i, v),
                Param::Decimal(s) => sys::mywire_stmt_bind_decimal(st, i, s.as_ptr().cast(), s.len()),
                Param::Str(s) => sys::mywire_stmt_bind_string(st, i, s.as_ptr().cast(), s.len()),
                Param::Bytes(b) => sys::mywire_stmt_bind_bytes(st, i, b.as_ptr().cast(), b.len()),
                Param::Json(s) => sys::mywire_stmt_bind_json(st, i, s.as_ptr().cast(), s.len()),
                Param::Bit(v) => sys::mywire_stmt_bind_bit(st, i, v),
                Param::Time(t) => {
                    let t = t.to_sys();
                    sys::mywire_stmt_bind_time(st, i, &t)
                }
                Param::LongData => sys::MYWIRE_OK, // sent with send_long_data
                Param::Default => sys::mywire_stmt_bind_default(st, i),
                Param::Ignore => sys::mywire_stmt_bind_ignore(st, i),
            }
        };
        if rc == sys::MYWIRE_OK {
            Ok(())
        } else {
            // The setters record nothing on the connection.
            // (The value itself is not quoted: it may be large or secret.)
            Err(Error::argument(&format!(
                "parameter {index}: the {} value cannot be bound (out of range, NaN or infinite, \
                 ill-formed decimal or time, or DEFAULT/IGNORE outside a batch)",
                value.to_param().type_name()
            )))
        }
    }

    /// Bind every parameter, in order: exactly `param_count()` values.
    pub fn bind_all(&mut self, params: &[&dyn ToParam]) -> Result<()> {
        if params.len() != self.param_count() {
            return Err(Error::argument(&format!("{} values for {} parameters", params.len(), self.param_count())));
        }
        for (i, p) in params.iter().enumerate() {
            self.bind(i, *p)?;
        }
        Ok(())
    }

    fn execute_raw(&mut self, params: &[&dyn ToParam], mode: c_int) -> Result<*mut sys::mywire_result> {
        self.conn.idle()?;
        self.bind_all(params)?;
        let mut res = std::ptr::null_mut();
        let rc = unsafe { sys::mywire_stmt_execute(self.st, mode, &mut res) };
        self.check(rc)?;
        Ok(res)
    }

    /// Bind `params` and execute; the result is buffered (see [`QueryResult`]).
    pub fn execute(&mut self, params: &[&dyn ToParam]) -> Result<QueryResult> {
        if self.cursor != 0 {
            return Err(Error::argument("a statement with a cursor gives a streaming result: use execute_stream"));
        }
        let res = self.execute_raw(params, sys::MYWIRE_BUFFERED)?;
        Ok(unsafe { QueryResult::from_raw(res) })
    }

    /// Bind `params` and execute, reading the rows one at a time. The stream
    /// borrows the statement (and so the connection) until it is dropped.
    pub fn execute_stream(&mut self, params: &[&dyn ToParam]) -> Result<Stream<'_>> {
        let res = self.execute_raw(params, sys::MYWIRE_STREAMING)?;
        let conn: &Connection = self.conn;
        conn.stream_opened();
        Ok(unsafe { Stream::from_raw(res, conn) })
    }

    /// Send a chunk of parameter `index`'s value (COM_STMT_SEND_LONG_DATA, no
    /// reply); the next execution uses the chunks sent since the previous
    /// one, in place of a bound value. Pass that parameter to
    /// [`execute`](Self::execute) as [`Param::LongData`].
    pub fn send_long_data(&mut self, index: usize, chunk: &[u8]) -> Result<()> {
        self.conn.idle()?;
        let i = c_uint::try_from(index).map_err(|_| Error::argument("parameter index out of range"))?;
        self.check(unsafe { sys::mywire_stmt_send_long_data(self.st, i, chunk.as_ptr().cast(), chunk.len()) })
    }

    /// Ask for a server-side cursor fetching `rows_per_fetch` rows at a time
    /// for the next executions ([`execute_stream`](Self::execute_stream)
    /// only); 0 turns it off.
    pub fn set_cursor(&mut self, rows_per_fetch: u32) -> Result<()> {
        self.check(unsafe { sys::mywire_stmt_set_cursor(self.st, rows_per_fetch) })?;
        self.cursor = rows_per_fetch;
        Ok(())
    }

    /// Append one row of parameters to the batch (see
    /// [`execute_batch`](Self::execute_batch)).
    pub fn add_batch(&mut self, params: &[&dyn ToParam]) -> Result<()> {
        self.bind_all(params)?;
        match unsafe { sys::mywire_stmt_add_batch(self.st) } {
            sys::MYWIRE_OK => Ok(()),
            rc => Err(Error::client(rc, "the row cannot be added to the batch (a changed type?)")),
        }
    }
    pub fn batch_size(&self) -> u64 {
        unsafe { sys::mywire_stmt_batch_size(self.st) }
    }
    pub fn clear_batch(&mut self) -> Result<()> {
        self.check(unsafe { sys::mywire_stmt_clear_batch(self.st) })
    }
    /// Run the statement once per batch row (MariaDB: COM_STMT_BULK_EXECUTE,
    /// many rows per request); returns the total affected rows. Success
    /// empties the batch.
    pub fn execute_batch(&mut self) -> Result<u64> {
        self.conn.idle()?;
        let mut res = std::ptr::null_mut();
        let rc = unsafe { sys::mywire_stmt_execute_batch(self.st, &mut res) };
        self.check(rc)?;
        let res = unsafe { QueryResult::from_raw(res) };
        Ok(res.affected_rows())
    }

    /// Ask for per-row results in the next batches (`mywire_stmt_set_row_results`):
    /// [`execute_batch_rows`](Self::execute_batch_rows) needs them on. Off by
    /// default. On a server without MariaDB 11.5's bulk per-row results the
    /// rows then run one COM_STMT_EXECUTE each instead of in bulk requests
    /// (so DEFAULT / IGNORE parameters are refused there).
    pub fn set_row_results(&mut self, on: bool) -> Result<()> {
        self.check(unsafe { sys::mywire_stmt_set_row_results(self.st, c_int::from(on)) })?;
        self.row_results = on;
        Ok(())
    }
    /// Whether per-row results are asked for ([`set_row_results`](Self::set_row_results)).
    pub fn row_results(&self) -> bool {
        self.row_results
    }
    /// Run the batch as [`execute_batch`](Self::execute_batch) does and
    /// return each row's affected rows and insert id, one entry per batch
    /// row, in order (their sum of `affected_rows` is what `execute_batch`
    /// returns). Needs [`set_row_results(true)`](Self::set_row_results):
    /// without it, an `Argument` error and nothing is sent (the batch is kept).
    pub fn execute_batch_rows(&mut self) -> Result<Vec<RowResult>> {
        if !self.row_results {
            return Err(Error::argument("per-row results were not asked for: call set_row_results(true) first"));
        }
        self.conn.idle()?;
        let mut res = std::ptr::null_mut();
        let rc = unsafe { sys::mywire_stmt_execute_batch(self.st, &mut res) };
        self.check(rc)?;
        let res = unsafe { QueryResult::from_raw(res) };
        let raw = res.as_raw();
        // SAFETY: raw is live while res is.
        let n = unsafe { sys::mywire_row_result_count(raw) };
        let mut rows = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        for k in 0..n {
            let mut r = RowResult::default();
            let rc = unsafe { sys::mywire_row_result(raw, k, &mut r.affected_rows, &mut r.insert_id) };
            if rc != sys::MYWIRE_OK {
                return Err(Error::client(rc, "a per-row result cannot be read"));
            }
            rows.push(r);
        }
        Ok(rows)
    }

    /// COM_STMT_RESET (drops long data sent, closes a cursor).
    pub fn reset(&mut self) -> Result<()> {
        self.conn.idle()?;
        self.check(unsafe { sys::mywire_stmt_reset(self.st) })
    }
    /// Unbind every parameter.
    pub fn clear_bindings(&mut self) -> Result<()> {
        self.check(unsafe { sys::mywire_stmt_clear_bindings(self.st) })
    }
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        // SAFETY: owned; the close is queued, never sent here.
        unsafe { sys::mywire_stmt_free(self.st) }
    }
}

impl std::fmt::Debug for Statement<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement").field("id", &self.id()).field("params", &self.param_count()).finish()
    }
}
