package mywire

import (
	"container/list"
	"context"
	"database/sql/driver"
)

// The implicit statements: Conn.QueryContext and Conn.ExecContext with
// arguments run the query as a prepared statement taken from this cache, a
// least-recently-used list of at most WithStatementCache(n) statements (16
// by default) per connection, keyed by the SQL text. An evicted statement is
// freed (its COM_STMT_CLOSE goes out ahead of the next command); a session
// reset empties the cache.
//
// This file is the only place that caches statements on the Go side: once
// libmywire has its own per-connection cache (mywire_stmt_cached), it is
// what implicitStmt calls, and this list goes.

type stmtCache struct {
	max int
	m   map[string]*list.Element // of *Stmt
	lru list.List                // front: most recently used
}

func (sc *stmtCache) init(max int) {
	sc.max = max
	sc.m = make(map[string]*list.Element)
}

// implicitStmt is the cached statement for query, prepared now if it is not
// cached. driver.ErrSkip when the cache is off: database/sql then prepares,
// runs and closes a statement itself.
func (c *Conn) implicitStmt(ctx context.Context, query string) (*Stmt, error) {
	sc := &c.cache
	if sc.max == 0 {
		return nil, driver.ErrSkip
	}
	if e, ok := sc.m[query]; ok {
		sc.lru.MoveToFront(e)
		return e.Value.(*Stmt), nil
	}
	st, err := c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	st.implicit = true
	sc.m[query] = sc.lru.PushFront(st)
	for sc.lru.Len() > sc.max {
		old := sc.lru.Back()
		sc.lru.Remove(old)
		victim := old.Value.(*Stmt)
		delete(sc.m, victim.query)
		victim.closed = true
		victim.h.release()
	}
	return st, nil
}

// clear frees every cached statement.
func (sc *stmtCache) clear() {
	for e := sc.lru.Front(); e != nil; e = e.Next() {
		st := e.Value.(*Stmt)
		st.closed = true
		st.h.release()
	}
	sc.lru.Init()
	sc.m = make(map[string]*list.Element)
}

func (sc *stmtCache) len() int { return sc.lru.Len() }
