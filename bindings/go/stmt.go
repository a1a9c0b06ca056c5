package mywire

/*
#include "helpers.h"
*/
import "C"

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// Stmt is a server-side prepared statement (a mywire_stmt).
type Stmt struct {
	c        *Conn
	h        *stmtHandle
	query    string
	gen      uint64 // the session (Conn.gen) it is prepared on
	nparams  int
	implicit bool // leased from the connection's statement cache (stmtcache.go)
	closed   bool
}

var (
	_ driver.Stmt              = (*Stmt)(nil)
	_ driver.StmtExecContext   = (*Stmt)(nil)
	_ driver.StmtQueryContext  = (*Stmt)(nil)
	_ driver.NamedValueChecker = (*Stmt)(nil)
)

var errStmtClosed = errors.New("mywire: the statement is closed")

func (c *Conn) prepare(ctx context.Context, query string) (*Stmt, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	var p *C.mywire_stmt
	if rc := C.mywire_stmt_new(c.h.p, &p); rc != C.MYWIRE_OK {
		return nil, c.fail(ctx, rc, false)
	}
	st := &Stmt{c: c, h: newStmtHandle(p, c.h.g), query: query, gen: c.gen}
	if err := st.prepareOn(ctx); err != nil {
		st.h.release()
		return nil, err
	}
	return st, nil
}

// prepareOn prepares the statement on the connection's current session.
func (s *Stmt) prepareOn(ctx context.Context) error {
	c := s.c
	w := watch(ctx, c.h, false)
	rc := C.mywire_stmt_prepare(s.h.p, cstr(s.query), C.size_t(len(s.query)))
	if fired := c.finish(w); rc != C.MYWIRE_OK || fired {
		return c.fail(ctx, rc, fired)
	}
	s.gen = c.gen
	s.nparams = int(C.mywire_stmt_param_count(s.h.p))
	return nil
}

// Close frees the statement (COM_STMT_CLOSE goes out ahead of the
// connection's next command; nothing blocks).
func (s *Stmt) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if !s.implicit { // a leased one goes back through giveBack
		s.h.release()
	}
	return nil
}

// NumInput is the number of ? placeholders.
func (s *Stmt) NumInput() int { return s.nparams }

// CheckNamedValue: see Conn.CheckNamedValue.
func (s *Stmt) CheckNamedValue(nv *driver.NamedValue) error { return checkValue(nv) }

// Exec (pre-context interface).
func (s *Stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

// Query (pre-context interface).
func (s *Stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func named(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}

// ExecContext executes the statement (COM_STMT_EXECUTE) and reads its
// results to the end.
func (s *Stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	res, w, err := s.execute(ctx, args, C.MYWIRE_BUFFERED)
	if err != nil {
		return nil, err
	}
	c := s.c
	var r result
	r.add(res)
	C.mywire_result_free(res)
	rc := c.drainResults(&r)
	if fired := c.finish(w); rc != C.MYWIRE_OK || fired {
		return nil, c.fail(ctx, rc, fired)
	}
	return r, nil
}

// QueryContext executes the statement and streams its rows.
func (s *Stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	res, w, err := s.execute(ctx, args, C.MYWIRE_STREAMING)
	if err != nil {
		return nil, err
	}
	return s.c.newRows(ctx, res, w), nil
}

// execute binds args and runs COM_STMT_EXECUTE; on success the watcher keeps
// running for the caller to end.
func (s *Stmt) execute(ctx context.Context, args []driver.NamedValue, mode C.int) (*C.mywire_result, *watcher, error) {
	if s.closed {
		return nil, nil, errStmtClosed
	}
	c := s.c
	if err := c.ready(ctx); err != nil {
		return nil, nil, err
	}
	if s.gen != c.gen {
		if err := s.prepareOn(ctx); err != nil {
			return nil, nil, err
		}
	}
	if err := s.bind(args); err != nil {
		return nil, nil, err
	}
	var res *C.mywire_result
	w := watch(ctx, c.h, false)
	rc := C.mywire_stmt_execute(s.h.p, mode, &res)
	if rc != C.MYWIRE_OK {
		return nil, nil, c.fail(ctx, rc, c.finish(w))
	}
	return res, w, nil
}

// bind sets every parameter with the typed setter of its Go type (the
// setters copy the value: no Go memory is kept by C).
func (s *Stmt) bind(args []driver.NamedValue) error {
	if len(args) != s.nparams {
		return fmt.Errorf("mywire: %d arguments for %d placeholders", len(args), s.nparams)
	}
	p := s.h.p
	for _, a := range args {
		if a.Name != "" {
			return errNamed
		}
		if a.Ordinal < 1 || a.Ordinal > s.nparams {
			return fmt.Errorf("mywire: argument number %d out of range", a.Ordinal)
		}
		i := C.uint(a.Ordinal - 1)
		var rc C.int
		switch v := a.Value.(type) {
		case nil:
			rc = C.mywire_stmt_bind_null(p, i)
		case int64:
			rc = C.mywire_stmt_bind_int64(p, i, C.int64_t(v))
		case uint64:
			rc = C.mywire_stmt_bind_uint64(p, i, C.uint64_t(v))
		case float64:
			rc = C.mywire_stmt_bind_double(p, i, C.double(v))
		case bool:
			var b C.int8_t
			if v {
				b = 1
			}
			rc = C.mywire_stmt_bind_int8(p, i, b)
		case []byte:
			if v == nil {
				rc = C.mywire_stmt_bind_null(p, i)
			} else {
				rc = C.mywire_stmt_bind_bytes(p, i, unsafe.Pointer(cbytes(v)), C.size_t(len(v)))
			}
		case string:
			rc = C.mywire_stmt_bind_string(p, i, cstr(v), C.size_t(len(v)))
		case time.Time:
			t := v.In(s.c.cfg.loc)
			mt := C.mywire_time{
				kind:        C.MYWIRE_TIME_KIND_DATETIME,
				year:        C.int32_t(t.Year()),
				month:       C.int32_t(t.Month()),
				day:         C.int32_t(t.Day()),
				hour:        C.int32_t(t.Hour()),
				minute:      C.int32_t(t.Minute()),
				second:      C.int32_t(t.Second()),
				microsecond: C.int32_t(t.Nanosecond() / 1000),
			}
			if t.Year() < 0 || t.Year() > 9999 {
				return fmt.Errorf("mywire: argument %d: year %d is outside 0..9999", a.Ordinal, t.Year())
			}
			rc = C.mywire_stmt_bind_time(p, i, &mt)
		default:
			return fmt.Errorf("mywire: argument %d: type %T cannot be sent", a.Ordinal, a.Value)
		}
		if rc != C.MYWIRE_OK {
			return &Error{Code: int(rc), SQLState: "HY000",
				Message: fmt.Sprintf("argument %d (%T) cannot be sent: %s", a.Ordinal, a.Value, codeText(int(rc)))}
		}
	}
	return nil
}
