package mywire

/*
#include "helpers.h"
*/
import "C"

import (
	"context"
	"database/sql/driver"
	"runtime"
)

// The implicit statements: Conn.QueryContext and Conn.ExecContext with
// arguments run the query as a prepared statement leased from libmywire's
// per-connection statement cache (mywire_stmt_cached; its bound is
// WithStatementCache(n), 16 by default, set as the connection's stmt_cache
// option). A hit costs no round trip; a miss prepares, and to stay within
// the bound the C side closes its least recently used idle entry. The lease
// is given back (mywire_stmt_free) when the Result is made, or when the Rows
// are done: released for the next command, or closed. The C cache drops its
// entries itself when the session is reset.

// implicitStmt leases the cached statement for query. driver.ErrSkip when
// the cache is off: database/sql then prepares, runs and closes a statement
// itself.
func (c *Conn) implicitStmt(ctx context.Context, query string) (*Stmt, error) {
	if c.cfg.cacheSize == 0 {
		return nil, driver.ErrSkip
	}
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	var p *C.mywire_stmt
	w := watch(ctx, c.h, false)
	rc := C.mywire_stmt_cached(c.h.p, cstr(query), C.size_t(len(query)), &p)
	if fired := c.finish(w); rc != C.MYWIRE_OK || fired {
		if p != nil {
			C.mywire_stmt_free(p)
		}
		return nil, c.fail(ctx, rc, fired)
	}
	return &Stmt{c: c, h: newStmtHandle(p, c.h.g), query: query, gen: c.gen,
		nparams: int(C.mywire_stmt_param_count(p)), implicit: true}, nil
}

// giveBack returns a leased statement to the cache (or frees it, if it is
// not a cache entry). Only the connection's owner calls it: the C call
// touches the connection's cache.
func (s *Stmt) giveBack() {
	s.closed = true
	h := s.h
	if h.p == nil {
		return
	}
	runtime.SetFinalizer(h, nil)
	C.mywire_stmt_free(h.p)
	h.p = nil
}

// StatementCache reports the connection's statement cache (through
// sql.Conn.Raw): held = statements now in it (leased or idle), hits =
// leases without a round trip, misses = statements prepared for it,
// evictions = idle ones closed to make room. The counters are the
// connection's lifetime totals.
func (c *Conn) StatementCache() (held, hits, misses, evictions uint64) {
	if c.closed {
		return 0, 0, 0, 0
	}
	p := c.h.p
	return uint64(C.mywire_stmt_cache_held(p)), uint64(C.mywire_stmt_cache_hits(p)),
		uint64(C.mywire_stmt_cache_misses(p)), uint64(C.mywire_stmt_cache_evictions(p))
}
