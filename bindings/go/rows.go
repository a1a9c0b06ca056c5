package mywire

/*
#include "helpers.h"
*/
import "C"

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"reflect"
	"time"
	"unsafe"
)

// rows streams one result (or several: CALL, multi-statements) of a text
// query or a statement: one mywire_fetch per Next, values copied into one
// buffer reused from row to row, so memory stays constant.
type rows struct {
	c     *Conn
	ctx   context.Context
	res   *resultHandle // nil once released
	w     *watcher      // stops the statement if ctx ends while rows are read
	names []string
	cols  []colInfo
	kinds []int32           // what each column is read as (MYWIREGO_*)
	cells []C.mywirego_cell // the current row (C memory of res)
	buf   []byte            // the current row's bytes values

	done     bool  // the current result was read to its end
	err      error // the error that ended it (sticky)
	closed   bool
	detached bool  // the connection was closed first
	lease    *Stmt // an implicit statement leased for these rows (stmtcache.go)
}

type colInfo struct {
	typ, flags, charset, decimals uint
	length                        uint32
}

var (
	_ driver.Rows                           = (*rows)(nil)
	_ driver.RowsNextResultSet              = (*rows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsColumnTypeLength           = (*rows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*rows)(nil)
)

var errConnGone = errors.New("mywire: the connection of these rows was closed")

func (c *Conn) newRows(ctx context.Context, p *C.mywire_result, w *watcher) *rows {
	r := &rows{c: c, ctx: ctx, res: newResultHandle(p), w: w}
	r.head()
	c.active = r
	return r
}

// head reads the current result's columns.
func (r *rows) head() {
	p := r.res.p
	n := int(C.mywire_column_count(p))
	r.names = make([]string, n)
	r.cols = make([]colInfo, n)
	r.kinds = make([]int32, n)
	r.cells = nil
	var want []C.int32_t
	if n > 0 {
		want, r.cells = r.res.columns(n)
	}
	for i := 0; i < n; i++ {
		col := C.mywire_column_at(p, C.uint(i))
		r.names[i] = C.GoStringN(col.name, C.int(col.name_len))
		r.cols[i] = colInfo{typ: uint(col._type), flags: uint(col.flags), charset: uint(col.charset),
			decimals: uint(col.decimals), length: uint32(col.length)}
		r.kinds[i] = readAs(col)
		want[i] = C.int32_t(r.kinds[i])
	}
	r.done = n == 0
	r.err = nil
}

// readAs is the kind a column is read as, from its metadata.
func readAs(col *C.mywire_column) int32 {
	switch col._type {
	case C.MYWIRE_TYPE_TINY, C.MYWIRE_TYPE_SHORT, C.MYWIRE_TYPE_LONG, C.MYWIRE_TYPE_INT24, C.MYWIRE_TYPE_YEAR:
		return C.MYWIREGO_INT
	case C.MYWIRE_TYPE_LONGLONG:
		if col.flags&C.MYWIRE_FLAG_UNSIGNED != 0 {
			return C.MYWIREGO_UINT
		}
		return C.MYWIREGO_INT
	case C.MYWIRE_TYPE_FLOAT, C.MYWIRE_TYPE_DOUBLE:
		return C.MYWIREGO_DOUBLE
	case C.MYWIRE_TYPE_DATE, C.MYWIRE_TYPE_DATETIME, C.MYWIRE_TYPE_TIMESTAMP:
		return C.MYWIREGO_TIME
	}
	// DECIMAL (exact text), TIME (may be negative or over 24 h), BIT,
	// strings, blobs, JSON, ENUM, SET, GEOMETRY.
	return C.MYWIREGO_BYTES
}

func (r *rows) Columns() []string { return r.names }

// Next reads the next row into dest. []byte values stay valid until the
// next call of Next or Close (database/sql copies them unless scanned into
// sql.RawBytes).
func (r *rows) Next(dest []driver.Value) error {
	if r.err != nil {
		return r.err
	}
	if r.done || r.res == nil {
		return io.EOF
	}
	if r.detached {
		r.err = errConnGone
		return r.err
	}
	rc := C.mywirego_fetch(r.res.p, C.uint(len(r.cells)), r.res.want, r.res.cells)
	if rc == C.MYWIRE_DONE {
		r.done = true
		return io.EOF
	}
	if rc != C.MYWIRE_ROW {
		err := r.c.fail(r.ctx, rc, false)
		if e, ok := err.(*Error); ok {
			e.badConn = false // the command was sent
		}
		r.err = err
		return err
	}
	total := 0
	for i := range r.cells {
		if r.cells[i].kind == C.MYWIREGO_BYTES {
			total += int(r.cells[i].n)
		}
	}
	if cap(r.buf) < total {
		r.buf = make([]byte, total, total+total/2)
	}
	buf := r.buf[:total]
	off := 0
	for i := range r.cells {
		cell := &r.cells[i]
		switch cell.kind {
		case C.MYWIREGO_INT:
			dest[i] = int64(cell.i)
		case C.MYWIREGO_UINT:
			dest[i] = uint64(cell.i)
		case C.MYWIREGO_DOUBLE:
			dest[i] = float64(cell.d)
		case C.MYWIREGO_TIME:
			if t, ok := goTime(&cell.t, r.c.cfg.loc); ok {
				dest[i] = t
			} else {
				dest[i] = r.text(i) // a date with a zero month or day: as text
			}
		case C.MYWIREGO_BYTES:
			n := int(cell.n)
			b := buf[off : off+n : off+n]
			if n > 0 {
				copy(b, unsafe.Slice((*byte)(unsafe.Pointer(cell.p)), n))
			}
			dest[i] = b
			off += n
		default:
			dest[i] = nil
		}
	}
	return nil
}

// text is value i of the current row as its text, in a new slice.
func (r *rows) text(i int) []byte {
	var p *C.char
	var n C.size_t
	if C.mywire_get_bytes(r.res.p, C.uint(i), &p, &n) != C.MYWIRE_OK {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}

// goTime: a DATE / DATETIME / TIMESTAMP as a time.Time in loc; the zero
// date as the zero time.Time; false for a date Go cannot hold as it is
// (a zero month or day in a non-zero date).
func goTime(t *C.mywire_time, loc *time.Location) (time.Time, bool) {
	if t.year == 0 && t.month == 0 && t.day == 0 {
		if t.hour == 0 && t.minute == 0 && t.second == 0 && t.microsecond == 0 {
			return time.Time{}, true
		}
		return time.Time{}, false
	}
	if t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 {
		return time.Time{}, false
	}
	return time.Date(int(t.year), time.Month(t.month), int(t.day), int(t.hour), int(t.minute),
		int(t.second), int(t.microsecond)*1000, loc), true
}

// finished: the connection is free for the next command (the current result
// ended and no other follows).
func (r *rows) finished() bool {
	if r.res == nil {
		return true
	}
	return (r.done || r.err != nil) && C.mywire_more_results(r.c.h.p) == 0
}

// release frees a finished result early (the next command on the
// connection is about to start); Next then keeps returning io.EOF or the
// error.
func (r *rows) release() {
	r.res.free()
	r.res = nil
	r.giveBack()
	r.c.finish(r.w)
	r.w = nil
	if r.c.active == r {
		r.c.active = nil
	}
}

// giveBack returns the leased statement, if any, to the connection's cache.
func (r *rows) giveBack() {
	if st := r.lease; st != nil {
		r.lease = nil
		st.giveBack()
	}
}

// detach: the connection is being closed; the result stays for Close.
func (r *rows) detach() {
	r.w.end() // before the handle goes: it may call mywire_cancel on it
	r.w = nil
	r.detached = true
}

// Close frees the result; unread rows (and results) are read and dropped
// first, so the connection can run the next command.
func (r *rows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	c := r.c
	defer r.giveBack()
	if r.detached {
		if r.res != nil {
			r.res.free() // no connection left to drain on: nothing is sent
			r.res = nil
		}
		return nil
	}
	if r.res == nil {
		return nil
	}
	r.drain()
	var err error
	if rc := c.drainResults(nil); rc != C.MYWIRE_OK {
		err = c.fail(r.ctx, rc, false)
	}
	c.finish(r.w)
	r.w = nil
	c.active = nil
	if C.mywire_is_connected(c.h.p) == 0 {
		c.bad = true
	}
	c.h.g.flush()
	return err
}

// drain reads the current result's unread rows (see mywirego_drain) and
// frees it.
func (r *rows) drain() {
	if !r.done && r.err == nil {
		C.mywirego_drain(r.res.p)
		r.done = true
	}
	r.res.free()
	r.res = nil
}

// HasNextResultSet: another result follows the one read to its end.
func (r *rows) HasNextResultSet() bool {
	return r.res != nil && !r.detached && r.done && C.mywire_more_results(r.c.h.p) != 0
}

// NextResultSet moves to the next result (unread rows of this one are read
// and dropped).
func (r *rows) NextResultSet() error {
	if r.res == nil || r.closed {
		return io.EOF
	}
	if r.detached {
		return errConnGone
	}
	c := r.c
	r.drain()
	var p *C.mywire_result
	rc := C.mywire_next_result(c.h.p, C.MYWIRE_STREAMING, &p)
	if rc == C.MYWIRE_DONE {
		r.done = true
		return io.EOF
	}
	if rc != C.MYWIRE_OK {
		r.err = c.fail(r.ctx, rc, false)
		if e, ok := r.err.(*Error); ok {
			e.badConn = false
		}
		return r.err
	}
	r.res = newResultHandle(p)
	r.head()
	return nil
}

// ------------------------------------------------------------ column types

func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	c := r.cols[i]
	binary := c.charset == 63
	unsigned := ""
	if c.flags&C.MYWIRE_FLAG_UNSIGNED != 0 {
		unsigned = "UNSIGNED "
	}
	switch c.typ {
	case C.MYWIRE_TYPE_TINY:
		return unsigned + "TINYINT"
	case C.MYWIRE_TYPE_SHORT:
		return unsigned + "SMALLINT"
	case C.MYWIRE_TYPE_INT24:
		return unsigned + "MEDIUMINT"
	case C.MYWIRE_TYPE_LONG:
		return unsigned + "INT"
	case C.MYWIRE_TYPE_LONGLONG:
		return unsigned + "BIGINT"
	case C.MYWIRE_TYPE_FLOAT:
		return "FLOAT"
	case C.MYWIRE_TYPE_DOUBLE:
		return "DOUBLE"
	case C.MYWIRE_TYPE_DECIMAL, C.MYWIRE_TYPE_NEWDECIMAL:
		return "DECIMAL"
	case C.MYWIRE_TYPE_DATE:
		return "DATE"
	case C.MYWIRE_TYPE_TIME:
		return "TIME"
	case C.MYWIRE_TYPE_DATETIME:
		return "DATETIME"
	case C.MYWIRE_TYPE_TIMESTAMP:
		return "TIMESTAMP"
	case C.MYWIRE_TYPE_YEAR:
		return "YEAR"
	case C.MYWIRE_TYPE_BIT:
		return "BIT"
	case C.MYWIRE_TYPE_JSON:
		return "JSON"
	case C.MYWIRE_TYPE_GEOMETRY:
		return "GEOMETRY"
	case C.MYWIRE_TYPE_NULL:
		return "NULL"
	case C.MYWIRE_TYPE_ENUM:
		return "ENUM"
	case C.MYWIRE_TYPE_SET:
		return "SET"
	case C.MYWIRE_TYPE_VARCHAR, C.MYWIRE_TYPE_VAR_STRING, C.MYWIRE_TYPE_STRING:
		switch {
		case c.flags&C.MYWIRE_FLAG_ENUM != 0:
			return "ENUM"
		case c.flags&C.MYWIRE_FLAG_SET != 0:
			return "SET"
		case c.typ == C.MYWIRE_TYPE_STRING && binary:
			return "BINARY"
		case c.typ == C.MYWIRE_TYPE_STRING:
			return "CHAR"
		case binary:
			return "VARBINARY"
		}
		return "VARCHAR"
	case C.MYWIRE_TYPE_TINY_BLOB, C.MYWIRE_TYPE_MEDIUM_BLOB, C.MYWIRE_TYPE_LONG_BLOB, C.MYWIRE_TYPE_BLOB:
		if binary {
			return "BLOB"
		}
		return "TEXT"
	}
	return ""
}

func (r *rows) ColumnTypeNullable(i int) (nullable, ok bool) {
	return r.cols[i].flags&C.MYWIRE_FLAG_NOT_NULL == 0, true
}

var (
	typeInt64     = reflect.TypeOf(int64(0))
	typeUint64    = reflect.TypeOf(uint64(0))
	typeFloat64   = reflect.TypeOf(float64(0))
	typeTime      = reflect.TypeOf(time.Time{})
	typeNullInt   = reflect.TypeOf(sql.NullInt64{})
	typeNullFloat = reflect.TypeOf(sql.NullFloat64{})
	typeNullTime  = reflect.TypeOf(sql.NullTime{})
	typeRawBytes  = reflect.TypeOf(sql.RawBytes{})
	typeAny       = reflect.TypeOf((*any)(nil)).Elem()
)

// ColumnTypeScanType is the Go type Next gives the column's values (a
// sql.Null* type for a nullable number or time).
func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	nullable := r.cols[i].flags&C.MYWIRE_FLAG_NOT_NULL == 0
	switch r.kinds[i] {
	case C.MYWIREGO_INT:
		if nullable {
			return typeNullInt
		}
		return typeInt64
	case C.MYWIREGO_UINT:
		if nullable {
			return typeAny
		}
		return typeUint64
	case C.MYWIREGO_DOUBLE:
		if nullable {
			return typeNullFloat
		}
		return typeFloat64
	case C.MYWIREGO_TIME:
		if nullable {
			return typeNullTime
		}
		return typeTime
	}
	return typeRawBytes
}

// ColumnTypeLength: the column's length in bytes, for strings and blobs.
func (r *rows) ColumnTypeLength(i int) (int64, bool) {
	switch r.cols[i].typ {
	case C.MYWIRE_TYPE_VARCHAR, C.MYWIRE_TYPE_VAR_STRING, C.MYWIRE_TYPE_STRING, C.MYWIRE_TYPE_TINY_BLOB,
		C.MYWIRE_TYPE_MEDIUM_BLOB, C.MYWIRE_TYPE_LONG_BLOB, C.MYWIRE_TYPE_BLOB, C.MYWIRE_TYPE_JSON:
		return int64(r.cols[i].length), true
	}
	return 0, false
}

// ColumnTypePrecisionScale: a DECIMAL's digits and digits after the point.
func (r *rows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	c := r.cols[i]
	if c.typ != C.MYWIRE_TYPE_DECIMAL && c.typ != C.MYWIRE_TYPE_NEWDECIMAL {
		return 0, 0, false
	}
	p := int64(c.length)
	if c.decimals > 0 {
		p-- // the point
	}
	if c.flags&C.MYWIRE_FLAG_UNSIGNED == 0 {
		p-- // the sign
	}
	return p, int64(c.decimals), true
}
