// Package mywire is a database/sql driver for MySQL and MariaDB on top of
// libmywire (the C API of mywire.h, through cgo; found with pkg-config).
//
//	db, err := sql.Open("mywire", "mysql://app:secret@db.example:3306/shop?ssl-mode=verify_identity&ssl-ca=/etc/ca.pem")
//
// or, with driver-side options, sql.OpenDB(mywire.NewConnector(uri, ...)).
//
// The data source name is libmywire's connection URI (mywire_set_uri in
// mywire.h): mysql://user:password@host:port/database?key=value&..., every
// key of mywire_set_option, "socket" for a unix socket. Its secure defaults
// are the library's.
//
// Queries without arguments run as text queries (COM_QUERY); with arguments
// they run as server-side prepared statements, from a small per-connection
// cache of implicit statements (see WithStatementCache). Rows stream: one
// row at a time, in constant memory. A context that ends stops the running
// statement on the server (mywire_cancel: KILL QUERY on a side connection)
// and the call returns ctx.Err(); the connection stays usable.
//
// Values read: integers as int64 (unsigned BIGINT as uint64), FLOAT and
// DOUBLE as float64, DATE / DATETIME / TIMESTAMP as time.Time in the
// connector's location (UTC unless WithLocation; the zero date
// '0000-00-00' as the zero time.Time), everything else -- strings,
// blobs, DECIMAL, TIME, BIT, JSON -- as []byte (the text the server's
// text protocol prints), SQL NULL as nil. Arguments may be nil, any
// integer type (uint64 over the int64 range is sent as unsigned), float32
// and float64, bool (as 0 / 1), []byte (nil is NULL), string and time.Time
// (sent as DATETIME in the connector's location), or a driver.Valuer.
package mywire

/*
#cgo pkg-config: mywire
#include <stdlib.h>
#include "helpers.h"
*/
import "C"

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

func init() {
	sql.Register("mywire", Driver{})
}

// Driver is the database/sql driver, registered as "mywire".
type Driver struct{}

// Open connects with a URI (see the package comment).
func (d Driver) Open(dsn string) (driver.Conn, error) {
	c, err := NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector checks the URI without connecting.
func (d Driver) OpenConnector(dsn string) (driver.Connector, error) {
	return NewConnector(dsn)
}

// Option configures a Connector (what the URI cannot say: it is the C
// library's and knows nothing of database/sql).
type Option func(*Connector)

// WithLocation sets the time zone DATE / DATETIME / TIMESTAMP values are read
// in and time.Time arguments are converted to before they are sent. Default
// time.UTC.
func WithLocation(loc *time.Location) Option {
	return func(c *Connector) {
		if loc != nil {
			c.loc = loc
		}
	}
}

// WithStatementCache sets how many implicit prepared statements (those of
// Query and Exec with arguments) each connection keeps in libmywire's
// statement cache (option stmt_cache), least recently used first out.
// Default 16, at most 4096 (NewConnector fails above); 0 prepares and
// closes one for every call (through database/sql's own Prepare, Query,
// Close). A stmt_cache key in the URI wins.
func WithStatementCache(n int) Option {
	return func(c *Connector) {
		if n >= 0 {
			c.cacheSize = n
		}
	}
}

// WithSessionReset makes database/sql's session reset (before a pooled
// connection is used again) a COM_RESET_CONNECTION: user variables,
// temporary tables, session settings and prepared statements are dropped
// (statements are prepared again when used). The default is a check that
// costs no round trip: the connection is kept if it is connected and its
// socket has nothing unexpected to read.
func WithSessionReset() Option {
	return func(c *Connector) { c.resetSession = true }
}

// Connector opens connections with one URI and options. It implements
// driver.Connector; use it with sql.OpenDB.
type Connector struct {
	uri            string
	connectTimeout time.Duration // the URI's connect_timeout (library default 10 s); 0: none
	loc            *time.Location
	cacheSize      int
	resetSession   bool
}

// NewConnector checks uri (as mywire_set_uri does, without connecting) and
// returns a Connector for it.
func NewConnector(uri string, opts ...Option) (*Connector, error) {
	c := &Connector{uri: uri, connectTimeout: 10 * time.Second, loc: time.UTC, cacheSize: 16}
	for _, o := range opts {
		o(c)
	}
	if strings.IndexByte(uri, 0) >= 0 {
		return nil, &Error{Code: CodeURI, SQLState: "HY000", Message: "the URI contains a NUL byte"}
	}
	var h *C.mywire_conn
	if rc := C.mywire_conn_new(&h); rc != C.MYWIRE_OK {
		return nil, &Error{Code: int(rc), SQLState: "HY000", Message: codeText(int(rc))}
	}
	defer C.mywire_conn_discard(h)
	n := c.cacheSize
	if n > 1<<20 {
		n = 1 << 20 // still over the bound, without wrapping around
	}
	if rc := C.mywire_set_stmt_cache(h, C.uint(n)); rc != C.MYWIRE_OK {
		return nil, errorOf(h, rc) // over the library's bound
	}
	curi := C.CString(uri)
	defer C.free(unsafe.Pointer(curi))
	if rc := C.mywire_set_uri(h, curi); rc != C.MYWIRE_OK {
		return nil, errorOf(h, rc)
	}
	// The library took it, so the value (if any) is a valid number of ms.
	if u, err := url.Parse(uri); err == nil {
		for k, v := range u.Query() {
			if strings.ReplaceAll(k, "-", "_") == "connect_timeout" && len(v) > 0 {
				if ms, err := strconv.ParseUint(v[len(v)-1], 10, 32); err == nil {
					c.connectTimeout = time.Duration(ms) * time.Millisecond
				}
			}
			// a stmt_cache key of the URI wins over WithStatementCache (it
			// is applied after it, in Connect)
			if strings.ReplaceAll(k, "-", "_") == "stmt_cache" && len(v) > 0 {
				if n, err := strconv.ParseUint(v[len(v)-1], 10, 32); err == nil {
					c.cacheSize = int(n)
				}
			}
		}
	}
	return c, nil
}

// Driver returns the driver.
func (c *Connector) Driver() driver.Driver { return Driver{} }

// Connect opens a connection. A context that ends first stops the connect
// (mywire_abort) and its error is returned; a deadline also bounds the
// connect as connect_timeout does.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := newConnHandle()
	if err != nil {
		return nil, err
	}
	// the implicit statements' cache (NewConnector checked the value)
	rc := C.mywire_set_stmt_cache(h.p, C.uint(c.cacheSize))
	curi := C.CString(c.uri)
	if rc == C.MYWIRE_OK {
		rc = C.mywire_set_uri(h.p, curi)
	}
	C.free(unsafe.Pointer(curi))
	byDeadline := false // connect_timeout is the context's deadline
	if rc == C.MYWIRE_OK {
		if dl, ok := ctx.Deadline(); ok {
			left := time.Until(dl)
			if left < time.Millisecond {
				left = time.Millisecond
			}
			if c.connectTimeout == 0 || left < c.connectTimeout {
				rc = C.mywire_set_connect_timeout(h.p, C.uint(left.Milliseconds()))
				byDeadline = true
			}
		}
	}
	if rc == C.MYWIRE_OK {
		w := watch(ctx, h, true)
		rc = C.mywire_connect(h.p)
		w.end()
		if ctx.Err() != nil {
			// Whatever the connect did, an abort may be pending on it.
			h.discard()
			return nil, ctx.Err()
		}
	}
	if rc == C.MYWIRE_ERROR_TIMEOUT && byDeadline {
		// The library's clock passed the deadline before the context's timer.
		h.discard()
		return nil, context.DeadlineExceeded
	}
	if rc != C.MYWIRE_OK {
		e := errorOf(h.p, rc)
		e.badConn = false // a failed connect is not a broken pooled connection
		h.discard()
		return nil, e
	}
	return newConn(c, h), nil
}

// ------------------------------------------------------------------ handles
//
// Every C handle lives in a small struct of its own that holds nothing but
// the C pointer (and the graveyard), with a finalizer that frees it without
// network I/O and without blocking. The Go objects that use them (Conn,
// Stmt, rows) point to each other freely; the handles never point back, so
// no cycle keeps a finalizer from running.

// graveyard collects statement handles to be freed by the connection's
// owner: mywire_stmt_free queues a COM_STMT_CLOSE on the connection, which
// must not happen while another goroutine uses it (a finalizer, or
// database/sql closing a statement). Once the connection is gone they are
// freed at once.
type graveyard struct {
	mu   sync.Mutex
	dead []*C.mywire_stmt
	gone bool
}

func (g *graveyard) bury(p *C.mywire_stmt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gone {
		C.mywire_stmt_free(p)
		return
	}
	g.dead = append(g.dead, p)
}

// flush frees the buried statements; only the connection's owner calls it.
func (g *graveyard) flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.dead {
		C.mywire_stmt_free(p)
	}
	g.dead = g.dead[:0]
}

// close frees the buried statements and makes later burials free at once.
func (g *graveyard) close() {
	g.mu.Lock()
	g.gone = true
	g.mu.Unlock()
	g.flush()
}

type connHandle struct {
	p *C.mywire_conn
	g *graveyard
}

func newConnHandle() (*connHandle, error) {
	var p *C.mywire_conn
	if rc := C.mywire_conn_new(&p); rc != C.MYWIRE_OK {
		return nil, &Error{Code: int(rc), SQLState: "HY000", Message: codeText(int(rc))}
	}
	h := &connHandle{p: p, g: &graveyard{}}
	runtime.SetFinalizer(h, func(h *connHandle) {
		h.discard()
		finalized.conns.add()
	})
	return h, nil
}

// discard frees the handle without COM_QUIT (a finalizer, a failed connect).
func (h *connHandle) discard() {
	if h.p == nil {
		return
	}
	runtime.SetFinalizer(h, nil)
	C.mywire_conn_discard(h.p)
	h.p = nil
	h.g.close() // after: a statement may be freed by any goroutine once the connection is gone
}

// free sends COM_QUIT (waiting at most a second) and frees the handle.
func (h *connHandle) free() {
	if h.p == nil {
		return
	}
	runtime.SetFinalizer(h, nil)
	C.mywire_conn_free(h.p)
	h.p = nil
	h.g.close()
}

type resultHandle struct {
	p *C.mywire_result
	// The per-column arrays of mywirego_fetch, in C memory (so that cgo
	// has no Go memory to check at each call), freed with the handle.
	want  *C.int32_t
	cells *C.mywirego_cell
}

// columns allocates the arrays for n columns (n > 0), in one block.
func (h *resultHandle) columns(n int) ([]C.int32_t, []C.mywirego_cell) {
	h.freeColumns()
	cellsSize := C.size_t(n) * C.size_t(unsafe.Sizeof(C.mywirego_cell{}))
	block := C.calloc(1, cellsSize+C.size_t(n)*C.size_t(unsafe.Sizeof(C.int32_t(0))))
	if block == nil {
		panic("mywire: out of memory")
	}
	h.cells = (*C.mywirego_cell)(block)
	h.want = (*C.int32_t)(unsafe.Add(block, cellsSize))
	return unsafe.Slice(h.want, n), unsafe.Slice(h.cells, n)
}

func (h *resultHandle) freeColumns() {
	C.free(unsafe.Pointer(h.cells))
	h.want, h.cells = nil, nil
}

func newResultHandle(p *C.mywire_result) *resultHandle {
	h := &resultHandle{p: p}
	runtime.SetFinalizer(h, func(h *resultHandle) {
		h.discard()
		finalized.results.add()
	})
	return h
}

// discard frees without draining (a finalizer: a streaming result still
// being read closes its connection instead).
func (h *resultHandle) discard() {
	if h.p == nil {
		return
	}
	runtime.SetFinalizer(h, nil)
	C.mywire_result_discard(h.p)
	h.p = nil
	h.freeColumns()
}

// free drains a streaming result's unread rows (errors go to the connection).
func (h *resultHandle) free() {
	if h.p == nil {
		return
	}
	runtime.SetFinalizer(h, nil)
	C.mywire_result_free(h.p)
	h.p = nil
	h.freeColumns()
}

type stmtHandle struct {
	p *C.mywire_stmt
	g *graveyard
}

func newStmtHandle(p *C.mywire_stmt, g *graveyard) *stmtHandle {
	h := &stmtHandle{p: p, g: g}
	runtime.SetFinalizer(h, (*stmtHandle).release)
	return h
}

// release hands the statement to the graveyard (never blocks; safe from any
// goroutine).
func (h *stmtHandle) release() {
	if h.p == nil {
		return
	}
	runtime.SetFinalizer(h, nil)
	h.g.bury(h.p)
	h.p = nil
}

// finalized counts the handles finalizers freed (for the tests).
var finalized struct {
	conns, results counter
}

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// ------------------------------------------------------------ cancellation

// watcher stops the call running on a connection when a context ends. The
// goroutine only ever calls mywire_cancel / mywire_abort, the two functions
// of mywire.h that may run while another thread is inside a call on the
// handle; end() waits for it, so the handle outlives it and no later
// command can be hit by its KILL QUERY.
type watcher struct {
	stop    chan struct{}
	done    chan struct{}
	fired   bool // the context ended while the call ran: it was cancelled
	aborted bool // mywire_abort was called: the connection is (or will be) closed
}

// watch starts a watcher (nil when ctx can never end). For a command:
// mywire_cancel (KILL QUERY over a side connection; the call returns
// MYWIRE_ERROR_CANCELLED and the connection survives), and mywire_abort
// when the cancel fails (the server cannot be reached: the call returns at
// once and the connection is closed). For a connect: mywire_abort.
func watch(ctx context.Context, h *connHandle, connecting bool) *watcher {
	if ctx.Done() == nil {
		return nil
	}
	w := &watcher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		p := h.p
		select {
		case <-w.stop:
			return
		case <-ctx.Done():
		}
		w.fired = true
		if !connecting && C.mywire_cancel(p) == C.MYWIRE_OK {
			return
		}
		// mywire_abort is refused until the first connect has started.
		for C.mywire_abort(p) != C.MYWIRE_OK {
			select {
			case <-w.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
		w.aborted = true
	}()
	return w
}

// end stops the watcher and waits for it. Safe on nil.
func (w *watcher) end() {
	if w == nil {
		return
	}
	close(w.stop)
	<-w.done
}

var errNamed = errors.New("mywire: named parameters are not supported (use ? placeholders)")
