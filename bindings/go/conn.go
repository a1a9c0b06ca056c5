package mywire

/*
#include "helpers.h"
*/
import "C"

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"time"
	"unsafe"
)

// Conn is one connection (a mywire_conn). database/sql uses one Conn from
// one goroutine at a time; so must a program that uses it directly (through
// sql.Conn.Raw, e.g. for the getters below).
type Conn struct {
	cfg    *Connector
	h      *connHandle
	active *rows  // the result being read on the connection, if any
	gen    uint64 // the server session; COM_RESET_CONNECTION starts a new one
	bad    bool   // closed by a failure, or an abort may be pending: never reused
	closed bool   // Close was called
}

var (
	_ driver.Conn               = (*Conn)(nil)
	_ driver.ConnBeginTx        = (*Conn)(nil)
	_ driver.ConnPrepareContext = (*Conn)(nil)
	_ driver.QueryerContext     = (*Conn)(nil)
	_ driver.ExecerContext      = (*Conn)(nil)
	_ driver.Pinger             = (*Conn)(nil)
	_ driver.SessionResetter    = (*Conn)(nil)
	_ driver.Validator          = (*Conn)(nil)
	_ driver.NamedValueChecker  = (*Conn)(nil)
)

func newConn(cfg *Connector, h *connHandle) *Conn {
	return &Conn{cfg: cfg, h: h}
}

// ServerVersion is the server's version string ("10.11.6-MariaDB").
func (c *Conn) ServerVersion() string {
	if c.closed {
		return ""
	}
	return C.GoString(C.mywire_server_version(c.h.p))
}

// ConnectionID is the server's id of this session (for KILL).
func (c *Conn) ConnectionID() uint64 {
	if c.closed {
		return 0
	}
	return uint64(C.mywire_connection_id(c.h.p))
}

// Transport is "tcp" or "unix" while connected.
func (c *Conn) Transport() string {
	if c.closed {
		return ""
	}
	return C.GoString(C.mywire_transport(c.h.p))
}

// TLSVersion is the TLS version ("TLSv1.3"), "" without TLS.
func (c *Conn) TLSVersion() string {
	if c.closed {
		return ""
	}
	return C.GoString(C.mywire_tls_version(c.h.p))
}

// TLSVerified reports whether the server's certificate was verified (chain,
// and name for verify_identity) or matched ssl_fingerprint.
func (c *Conn) TLSVerified() bool { return !c.closed && C.mywire_tls_verified(c.h.p) != 0 }

// ready checks that a command may start now and frees what waits for the
// owner (statements closed elsewhere, a result read to its end).
func (c *Conn) ready(ctx context.Context) error {
	if c.closed {
		return errClosed
	}
	if c.active != nil {
		if !c.active.finished() {
			return errBusy
		}
		c.active.release()
	}
	if c.bad || C.mywire_is_connected(c.h.p) == 0 {
		c.bad = true
		return driver.ErrBadConn
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.h.g.flush()
	return nil
}

// fail is the error to return for a call that failed with rc, or that was
// cancelled (fired: its context ended while it ran). A context that ended
// wins: the failure is then its doing (CANCELLED, or the abort), and a call
// that completed anyway (a SLEEP stopped early returns 1) was still cut
// short.
func (c *Conn) fail(ctx context.Context, rc C.int, fired bool) error {
	if fired || (rc != C.MYWIRE_OK && ctx.Err() != nil) {
		if C.mywire_is_connected(c.h.p) == 0 {
			c.bad = true
		}
		return ctx.Err()
	}
	e := errorOf(c.h.p, rc)
	if e.Closed {
		c.bad = true
	}
	return e
}

// finish ends a call's watcher and reports whether it fired; an abort it
// made leaves the connection unusable even when the call succeeded.
func (c *Conn) finish(w *watcher) bool {
	if w == nil {
		return false
	}
	w.end()
	if w.aborted {
		c.bad = true
	}
	return w.fired
}

// cstr is s's bytes for a call that copies them (every mywire call does):
// no copy, no allocation; never NULL.
func cstr(s string) *C.char {
	if len(s) == 0 {
		return &C.mywirego_empty[0]
	}
	return *(**C.char)(unsafe.Pointer(&s))
}

func cbytes(b []byte) *C.char {
	if len(b) == 0 {
		return &C.mywirego_empty[0]
	}
	return (*C.char)(unsafe.Pointer(&b[0]))
}

// Close sends COM_QUIT and frees the connection. A Rows still open on it
// stays valid to close (its Next then fails); statements too.
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.active != nil {
		c.active.detach()
		c.active = nil
	}
	c.h.free() // the cache's statements with it
	return nil
}

// Prepare prepares an explicit statement (COM_STMT_PREPARE).
func (c *Conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext prepares an explicit statement (COM_STMT_PREPARE).
func (c *Conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// QueryContext runs a query: without arguments as a text query, with
// arguments as a prepared statement from the implicit statement cache.
func (c *Conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		return c.queryText(ctx, query)
	}
	st, err := c.implicitStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	dr, err := st.QueryContext(ctx, args)
	if err != nil {
		st.giveBack()
		return nil, err
	}
	r := dr.(*rows)
	r.lease = st // given back when the rows are done
	return r, nil
}

// ExecContext runs a statement: without arguments as a text query, with
// arguments as a prepared statement from the implicit statement cache.
func (c *Conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		return c.execText(ctx, query)
	}
	st, err := c.implicitStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	defer st.giveBack()
	return st.ExecContext(ctx, args)
}

func (c *Conn) queryText(ctx context.Context, query string) (driver.Rows, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	var res *C.mywire_result
	w := watch(ctx, c.h, false)
	rc := C.mywire_query(c.h.p, cstr(query), C.size_t(len(query)), C.MYWIRE_STREAMING, &res)
	if rc != C.MYWIRE_OK {
		return nil, c.fail(ctx, rc, c.finish(w))
	}
	return c.newRows(ctx, res, w), nil
}

func (c *Conn) execText(ctx context.Context, query string) (driver.Result, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	var res *C.mywire_result
	w := watch(ctx, c.h, false)
	rc := C.mywire_query(c.h.p, cstr(query), C.size_t(len(query)), C.MYWIRE_BUFFERED, &res)
	var r result
	if rc == C.MYWIRE_OK {
		r.add(res)
		C.mywire_result_free(res)
		rc = c.drainResults(&r)
	}
	if fired := c.finish(w); rc != C.MYWIRE_OK || fired {
		return nil, c.fail(ctx, rc, fired)
	}
	return r, nil
}

// drainResults reads the remaining results of the current command (CALL,
// multi-statements), adding them to r (nil: dropped).
func (c *Conn) drainResults(r *result) C.int {
	for C.mywire_more_results(c.h.p) != 0 {
		var res *C.mywire_result
		rc := C.mywire_next_result(c.h.p, C.MYWIRE_BUFFERED, &res)
		if rc == C.MYWIRE_DONE {
			break
		}
		if rc != C.MYWIRE_OK {
			return rc
		}
		if r != nil {
			r.add(res)
		}
		C.mywire_result_free(res)
	}
	return C.MYWIRE_OK
}

// result is an Exec's outcome: the affected rows of every result of the
// command added up, and the last insert id that is not 0.
type result struct {
	affected, insertID int64
}

func (r *result) add(res *C.mywire_result) {
	r.affected += int64(C.mywire_affected_rows(res))
	if id := int64(C.mywire_insert_id(res)); id != 0 {
		r.insertID = id
	}
}

func (r result) LastInsertId() (int64, error) { return r.insertID, nil }
func (r result) RowsAffected() (int64, error) { return r.affected, nil }

// Ping sends COM_PING.
func (c *Conn) Ping(ctx context.Context) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	w := watch(ctx, c.h, false)
	rc := C.mywire_ping(c.h.p)
	if fired := c.finish(w); rc != C.MYWIRE_OK || fired {
		return c.fail(ctx, rc, fired)
	}
	return nil
}

// IsValid is database/sql's check before a connection goes back to the pool.
func (c *Conn) IsValid() bool {
	return !c.closed && !c.bad && C.mywire_is_connected(c.h.p) != 0
}

// ResetSession runs before a pooled connection is used again: by default a
// check without a round trip (connected, and nothing unasked arrived on the
// socket, such as the server closing it after wait_timeout); with
// WithSessionReset a COM_RESET_CONNECTION.
func (c *Conn) ResetSession(ctx context.Context) error {
	if c.closed || c.bad || c.active != nil || C.mywire_is_connected(c.h.p) == 0 ||
		C.mywirego_idle_ok(c.h.p) == 0 {
		c.bad = true
		return driver.ErrBadConn
	}
	c.h.g.flush()
	if !c.cfg.resetSession {
		return nil
	}
	w := watch(ctx, c.h, false)
	rc := C.mywire_reset_connection(c.h.p)
	fired := c.finish(w)
	// The server forgot every statement whether or not the reply came (the
	// C statement cache drops its entries itself).
	c.gen++
	if rc != C.MYWIRE_OK || fired {
		err := c.fail(ctx, rc, fired)
		if c.bad {
			return driver.ErrBadConn // database/sql then opens another connection
		}
		return err
	}
	return nil
}

// ------------------------------------------------------------ transactions

type tx struct{ c *Conn }

// Begin starts a transaction.
func (c *Conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx starts a transaction: SET TRANSACTION ISOLATION LEVEL for a level
// other than the default (it applies to the next transaction only), then
// START TRANSACTION, READ ONLY if asked.
func (c *Conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var level string
	switch sql.IsolationLevel(opts.Isolation) {
	case sql.LevelDefault:
	case sql.LevelReadUncommitted:
		level = "READ UNCOMMITTED"
	case sql.LevelReadCommitted:
		level = "READ COMMITTED"
	case sql.LevelRepeatableRead:
		level = "REPEATABLE READ"
	case sql.LevelSerializable:
		level = "SERIALIZABLE"
	default:
		return nil, fmt.Errorf("mywire: isolation level %v is not supported", sql.IsolationLevel(opts.Isolation))
	}
	if level != "" {
		if _, err := c.execText(ctx, "SET TRANSACTION ISOLATION LEVEL "+level); err != nil {
			return nil, err
		}
	}
	start := "START TRANSACTION"
	if opts.ReadOnly {
		start += " READ ONLY"
	}
	if _, err := c.execText(ctx, start); err != nil {
		return nil, err
	}
	return tx{c}, nil
}

func (t tx) Commit() error {
	_, err := t.c.execText(context.Background(), "COMMIT")
	return err
}

func (t tx) Rollback() error {
	_, err := t.c.execText(context.Background(), "ROLLBACK")
	return err
}

// ------------------------------------------------------------ arguments

// CheckNamedValue takes the argument types the driver binds itself (see the
// package comment) and leaves the rest (driver.Valuer, pointers, other
// named types) to database/sql's default conversion.
func (c *Conn) CheckNamedValue(nv *driver.NamedValue) error { return checkValue(nv) }

func checkValue(nv *driver.NamedValue) error {
	switch v := nv.Value.(type) {
	case nil, int64, uint64, float64, bool, []byte, string, time.Time:
		return nil
	case int:
		nv.Value = int64(v)
	case int8:
		nv.Value = int64(v)
	case int16:
		nv.Value = int64(v)
	case int32:
		nv.Value = int64(v)
	case uint:
		nv.Value = uint64(v)
	case uint8:
		nv.Value = int64(v)
	case uint16:
		nv.Value = int64(v)
	case uint32:
		nv.Value = int64(v)
	case float32:
		nv.Value = float64(v)
	case driver.Valuer:
		return driver.ErrSkip
	default:
		// Named unsigned types keep their whole range (the default
		// conversion refuses uint64 values over the int64 range).
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Uint, reflect.Uint64, reflect.Uintptr:
			nv.Value = rv.Uint()
		default:
			return driver.ErrSkip
		}
	}
	return nil
}
