package mywire

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A context that ends stops the statement on the server; the call returns
// ctx.Err() at once and the same connection serves the next query.
func TestCancel(t *testing.T) {
	for _, uri := range []string{tcpURI(""), tlsURI("localhost", "ca.pem")} {
		db := openDB(t, uri)
		db.SetMaxOpenConns(1)
		id := connID(t, db)
		cases := []struct {
			name string
			run  func(ctx context.Context) error
		}{
			{"query", func(ctx context.Context) error {
				rows, err := db.QueryContext(ctx, "SELECT SLEEP(10)")
				if err == nil {
					for rows.Next() {
					}
					err = rows.Err()
					rows.Close()
				}
				return err
			}},
			{"exec", func(ctx context.Context) error {
				_, err := db.ExecContext(ctx, "DO SLEEP(10)")
				return err
			}},
			{"prepared", func(ctx context.Context) error {
				var v int
				return db.QueryRowContext(ctx, "SELECT SLEEP(?)", 10).Scan(&v)
			}},
			{"while streaming", func(ctx context.Context) error {
				rows, err := db.QueryContext(ctx, "SELECT seq, SLEEP(0.01) FROM seq_1_to_2000")
				if err != nil {
					return err
				}
				defer rows.Close()
				n := 0
				for rows.Next() {
					n++
				}
				// The rows come in the server's network buffer: the cancel
				// may land before the first one arrives (n == 0), never after
				// the last (the server was stopped).
				if n >= 2000 {
					return fmt.Errorf("%d rows read", n)
				}
				return rows.Err()
			}},
		}
		for _, tc := range cases {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			start := time.Now()
			err := tc.run(ctx)
			took := time.Since(start)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: got %v, want context.DeadlineExceeded", tc.name, err)
			}
			if took > 2*time.Second {
				t.Errorf("%s: the cancelled call took %v", tc.name, took)
			}
			if got := connID(t, db); got != id {
				t.Errorf("%s: the connection was replaced (%d, then %d)", tc.name, id, got)
			}
		}
		// A context that ended before the call: nothing is sent.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := db.ExecContext(ctx, "DO 1"); !errors.Is(err, context.Canceled) {
			t.Errorf("ended context: %v", err)
		}
		// A cancel that comes after the query ended hits nothing later.
		ctx, cancel = context.WithCancel(context.Background())
		var v int
		if err := db.QueryRowContext(ctx, "SELECT 7").Scan(&v); err != nil || v != 7 {
			t.Errorf("%v %d", err, v)
		}
		cancel()
		if err := db.QueryRow("SELECT SLEEP(0.2) + 1").Scan(&v); err != nil || v != 1 {
			t.Errorf("query after a late cancel: %v %d", err, v)
		}
	}
}

// A million rows read one at a time: the process does not grow with them.
func TestStreamMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	db := openDB(t, tcpURI(""))
	for _, prepared := range []bool{false, true} {
		q := "SELECT seq, seq * 7919, seq / 3, CONCAT('row-', seq, '-', MD5(seq)), " +
			"TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, CAST(seq / 7 AS DECIMAL(12,2)) FROM seq_1_to_1000000"
		var args []any
		if prepared {
			q += " WHERE seq > ?"
			args = []any{0}
		}
		rows, err := db.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var (
			n, sum, a  int64
			b          float64
			c, e       sql.RawBytes
			d          time.Time
			base, peak int64
		)
		for rows.Next() {
			if err := rows.Scan(&n, &a, &b, &c, &d, &e); err != nil {
				t.Fatal(err)
			}
			sum += n
			// The baseline after a warm-up (the Go heap and, under -race, its
			// shadow memory settle during the first rows), then the peak.
			if n == 100000 {
				runtime.GC()
				base = rss(t)
			}
			if n%100000 == 0 && n > 100000 {
				if r := rss(t); r > peak {
					peak = r
				}
				if a != n*7919 || !strings.HasPrefix(string(c), fmt.Sprintf("row-%d-", n)) ||
					!d.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n)*time.Second)) {
					t.Fatalf("row %d: %d %q %v", n, a, c, d)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if n != 1000000 || sum != 1000000*1000001/2 {
			t.Fatalf("prepared %v: %d rows, sum %d", prepared, n, sum)
		}
		// 900k rows of ~80 bytes after the baseline: buffering them would
		// take ~90 MB.
		if grew := peak - base; grew > 16<<20 {
			t.Errorf("prepared %v: resident memory grew by %d MiB while streaming", prepared, grew>>20)
		}
		t.Logf("prepared %v: resident %d MiB after 100000 rows, at most %d MiB after", prepared, base>>20, peak>>20)
	}
}

// rss is the process's resident memory in bytes (VmRSS).
func rss(t testing.TB) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(s.Text(), "VmRSS: %d kB", &kb); n == 1 {
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// The pool from 64 goroutines at once: text and prepared queries, inserts,
// transactions; every answer checked (run with -race).
func TestPool64(t *testing.T) {
	db := openDB(t, tcpURI(""))
	db.SetMaxOpenConns(24)
	db.SetMaxIdleConns(24)
	mustExec(t, db, "DROP TABLE IF EXISTS go_pool")
	mustExec(t, db, "CREATE TABLE go_pool (g INT, i INT, s VARCHAR(40), PRIMARY KEY (g, i)) ENGINE=InnoDB")
	t.Cleanup(func() { db.Exec("DROP TABLE go_pool") })
	sel, err := db.Prepare("SELECT s FROM go_pool WHERE g = ? AND i = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	const workers, iters = 64, 50
	var wg sync.WaitGroup
	var failures atomic.Int32
	fail := func(format string, args ...any) {
		if failures.Add(1) < 10 {
			t.Errorf(format, args...)
		}
	}
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				s := fmt.Sprintf("g%d-i%d", g, i)
				if _, err := db.Exec("INSERT INTO go_pool VALUES (?, ?, ?)", g, i, s); err != nil {
					fail("insert: %v", err)
					return
				}
				var got string
				if err := sel.QueryRow(g, i).Scan(&got); err != nil || got != s {
					fail("select %s: %v %q", s, err, got)
				}
				var sum int
				if err := db.QueryRow(fmt.Sprintf("SELECT %d + %d", g, i)).Scan(&sum); err != nil || sum != g+i {
					fail("text: %v %d", err, sum)
				}
				if i%10 == 0 {
					tx, err := db.Begin()
					if err != nil {
						fail("begin: %v", err)
						continue
					}
					if _, err := tx.Exec("UPDATE go_pool SET s = CONCAT(s, '!') WHERE g = ? AND i = ?", g, i); err != nil {
						fail("tx update: %v", err)
					}
					if i%20 == 0 {
						err = tx.Commit()
					} else {
						err = tx.Rollback()
					}
					if err != nil {
						fail("end tx: %v", err)
					}
				}
				if i%7 == 0 {
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					rows, err := db.QueryContext(ctx, "SELECT seq FROM seq_1_to_100 WHERE seq > ?", i)
					if err != nil {
						fail("stream: %v", err)
					} else {
						n := 0
						for rows.Next() {
							n++
						}
						if rows.Err() != nil || n != 100-i {
							fail("stream: %v %d", rows.Err(), n)
						}
						rows.Close()
					}
					cancel()
				}
			}
		}(g)
	}
	wg.Wait()
	var n, bangs int
	if err := db.QueryRow("SELECT COUNT(*), SUM(s LIKE '%!') FROM go_pool").Scan(&n, &bangs); err != nil {
		t.Fatal(err)
	}
	if n != workers*iters || bangs != workers*3 {
		t.Errorf("%d rows (want %d), %d committed updates (want %d)", n, workers*iters, bangs, workers*3)
	}
	if s := db.Stats(); s.OpenConnections > 24 {
		t.Errorf("%d connections open", s.OpenConnections)
	}
}

// Things closed in the "wrong" order, and things never closed at all.
func TestCloseOrder(t *testing.T) {
	ctx := context.Background()
	query := func(c *Conn, q string, args ...driver.NamedValue) driver.Rows {
		rows, err := c.QueryContext(ctx, q, args)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	// The connection before its Rows (unread) and its statement.
	c := rawConn(t, tcpURI(""))
	rows := query(c, "SELECT * FROM seq_1_to_100000")
	st, err := c.PrepareContext(ctx, "SELECT ?")
	if err == nil {
		t.Fatal("prepare with a streaming result open succeeded")
	}
	rows.Close()
	st, err = c.PrepareContext(ctx, "SELECT ?")
	if err != nil {
		t.Fatal(err)
	}
	rows = query(c, "SELECT * FROM seq_1_to_100000")
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		t.Fatal(err)
	}
	within(t, "Close with an unread result", 2*time.Second, func() { c.Close() })
	if err := rows.Next(v); err == nil || err == io.EOF {
		t.Errorf("Next after the connection closed: %v", err)
	}
	if err := rows.Close(); err != nil {
		t.Errorf("Rows.Close after the connection: %v", err)
	}
	if _, err := st.(driver.StmtExecContext).ExecContext(ctx, []driver.NamedValue{{Ordinal: 1, Value: int64(1)}}); !errors.Is(err, driver.ErrBadConn) {
		t.Errorf("statement after its connection closed: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("Stmt.Close after the connection: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Error("second Close:", err)
	}
	if _, err := c.QueryContext(ctx, "SELECT 1", nil); !errors.Is(err, driver.ErrBadConn) {
		t.Errorf("query on a closed connection: %v", err)
	}

	// database/sql: the DB closed while a Rows is open.
	db := openDB(t, tcpURI(""))
	r, err := db.Query("SELECT * FROM seq_1_to_1000")
	if err != nil {
		t.Fatal(err)
	}
	r.Next()
	db.Close()
	r.Close()

	// Never closed: the finalizers free everything without network I/O
	// (mywire_result_discard, mywire_conn_discard), so they never block.
	beforeConns, beforeResults := finalized.conns.get(), finalized.results.get()
	for i := 0; i < 5; i++ {
		c := rawConn(t, tcpURI(""))
		if _, err := c.PrepareContext(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		rows := query(c, "SELECT * FROM seq_1_to_1000000")
		rows.Next(v)
	}
	deadline := time.Now().Add(10 * time.Second)
	for finalized.conns.get() < beforeConns+5 || finalized.results.get() < beforeResults+5 {
		if time.Now().After(deadline) {
			t.Fatalf("finalizers: %d connections, %d results freed", finalized.conns.get()-beforeConns,
				finalized.results.get()-beforeResults)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// A connection the server closed: a command that was never sent is
// driver.ErrBadConn (database/sql retries it on a new connection), one that
// was sent is not.
func TestBadConn(t *testing.T) {
	admin := openDB(t, tcpURI(""))
	kill := func(id uint64) {
		mustExec(t, admin, fmt.Sprintf("KILL %d", id))
	}
	// Through database/sql: the pooled connection is found dead before use.
	db := openDB(t, tcpURI(""))
	db.SetMaxOpenConns(1)
	id := connID(t, db)
	kill(uint64(id))
	time.Sleep(100 * time.Millisecond) // the server's close reaches the socket
	if got := connID(t, db); got == id {
		t.Error("the killed connection was used again")
	}
	if _, err := db.Exec("INSERT INTO no_such_table VALUES (?)", 1); err == nil || errors.Is(err, driver.ErrBadConn) {
		t.Errorf("an ordinary error: %v", err)
	}

	// Directly: the killed connection's next command was sent (the socket
	// took it), so it is not ErrBadConn; the one after it is.
	c := rawConn(t, tcpURI(""))
	defer c.Close()
	kill(c.ConnectionID())
	time.Sleep(100 * time.Millisecond)
	if c.ResetSession(context.Background()) != driver.ErrBadConn {
		t.Error("ResetSession did not see the closed connection")
	}
	if c.IsValid() {
		t.Error("IsValid after ResetSession failed")
	}
	c2 := rawConn(t, tcpURI(""))
	defer c2.Close()
	kill(c2.ConnectionID())
	time.Sleep(100 * time.Millisecond)
	_, err := c2.ExecContext(context.Background(), "DO 1", nil)
	var e *Error
	if !errors.As(err, &e) || !e.Closed || !e.Sent || errors.Is(err, driver.ErrBadConn) {
		t.Errorf("sent to a closed connection: %#v", err)
	}
	if c2.IsValid() {
		t.Error("IsValid after the connection was lost")
	}
	if _, err := c2.ExecContext(context.Background(), "DO 1", nil); !errors.Is(err, driver.ErrBadConn) {
		t.Errorf("next command: %v", err)
	}
	if err := c2.Ping(context.Background()); !errors.Is(err, driver.ErrBadConn) {
		t.Errorf("ping: %v", err)
	}
}

// The Go side declares no constant by hand: cgo reads mywire.h. This checks
// that every result code of the header's constant list has its exported Go
// constant, so a code added to the header is not forgotten here.
func TestConstantsMatchHeader(t *testing.T) {
	path := os.Getenv("MYWIRE_CONSTANTS_JSON")
	if path == "" {
		path = "../../capi/mywire_constants.json"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Enums map[string]map[string]int `json:"enums"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	goCodes := map[string]int{
		"SERVER": CodeServer, "ARGUMENT": CodeArgument, "OPTION": CodeOption, "URI": CodeURI,
		"NOMEM": CodeNoMem, "CONNECT": CodeConnect, "TIMEOUT": CodeTimeout, "LOST": CodeLost,
		"PROTOCOL": CodeProtocol, "AUTH": CodeAuth, "OUT_OF_SYNC": CodeOutOfSync, "STATE": CodeState,
		"LIMIT": CodeLimit, "UNSUPPORTED": CodeUnsupported, "INTERNAL": CodeInternal, "TLS": CodeTLS,
		"CANCELLED": CodeCancelled, "RESULT_TOO_LARGE": CodeResultTooLarge, "CONVERSION": CodeConversion,
	}
	seen := 0
	for name, value := range list.Enums["mywire_code"] {
		if !strings.HasPrefix(name, "MYWIRE_ERROR_") {
			continue
		}
		short := strings.TrimPrefix(name, "MYWIRE_ERROR_")
		seen++
		if v, ok := goCodes[short]; !ok || v != value {
			t.Errorf("%s = %d: Go has %d (present %v)", name, value, v, ok)
		}
	}
	if seen != len(goCodes) {
		t.Errorf("the header has %d error codes, Go %d", seen, len(goCodes))
	}
}

// A connect that hangs (a listener that accepts and never greets) ends when
// its context does: by the deadline (connect_timeout) or by mywire_abort.
func TestConnectCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	c, err := NewConnector(fmt.Sprintf("mysql://u:p@127.0.0.1:%d/?ssl-mode=disabled", port))
	if err != nil {
		t.Fatal(err)
	}
	deadline, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	within(t, "connect with a deadline", 2*time.Second, func() {
		if _, err := c.Connect(deadline); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("deadline: %v", err)
		}
	})
	cancellable, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel2)
	within(t, "connect cancelled", 2*time.Second, func() {
		if _, err := c.Connect(cancellable); !errors.Is(err, context.Canceled) {
			t.Errorf("cancel: %v", err)
		}
	})
}
