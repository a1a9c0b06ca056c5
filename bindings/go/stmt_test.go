package mywire

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestPrepared(t *testing.T) {
	db := openDB(t, tcpURI(""))
	mustExec(t, db, "DROP TABLE IF EXISTS go_stmt")
	mustExec(t, db, "CREATE TABLE go_stmt (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50), n BIGINT)")
	t.Cleanup(func() { db.Exec("DROP TABLE go_stmt") })

	ins, err := db.Prepare("INSERT INTO go_stmt (name, n) VALUES (?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	for i := 1; i <= 100; i++ {
		r, err := ins.Exec(fmt.Sprintf("name-%d", i), i*i)
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := r.LastInsertId(); id != int64(i) {
			t.Fatalf("insert id %d, want %d", id, i)
		}
		if n, _ := r.RowsAffected(); n != 1 {
			t.Fatalf("rows affected %d", n)
		}
	}
	sel, err := db.Prepare("SELECT name, n FROM go_stmt WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	// From several goroutines: database/sql prepares it on each connection.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 1 + g; i <= 100; i += 8 {
				var name string
				var n int64
				if err := sel.QueryRow(i).Scan(&name, &n); err != nil {
					t.Error(err)
					return
				}
				if name != fmt.Sprintf("name-%d", i) || n != int64(i*i) {
					t.Errorf("row %d: %q %d", i, name, n)
				}
			}
		}(g)
	}
	wg.Wait()
	if _, err := sel.Exec(1, 2); err == nil {
		t.Error("two arguments for one placeholder were accepted")
	}
	r := mustExec(t, db, "UPDATE go_stmt SET n = n + ? WHERE id <= ?", 1, 10)
	if n, _ := r.RowsAffected(); n != 10 {
		t.Errorf("update: %d rows", n)
	}
	if _, err := db.Prepare("SELECT * FROM go_no_such_table"); err == nil {
		t.Error("prepare of a missing table succeeded")
	}
}

// The implicit statements of Query/Exec with arguments stay few per
// connection: the cache evicts (and frees) the least recently used.
func TestStatementCache(t *testing.T) {
	c := rawConn(t, tcpURI(""))
	defer c.Close()
	ctx := context.Background()
	serverCount := func() int {
		rows, err := c.QueryContext(ctx, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "+
			"WHERE VARIABLE_NAME = 'COM_STMT_CLOSE'", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		v := make([]driver.Value, 1)
		if err := rows.Next(v); err != nil {
			t.Fatal(err)
		}
		var n int
		fmt.Sscan(string(v[0].([]byte)), &n)
		return n
	}
	for i := 0; i < 40; i++ {
		q := fmt.Sprintf("SELECT ? + %d", i)
		for rep := 0; rep < 2; rep++ {
			rows, err := c.QueryContext(ctx, q, []driver.NamedValue{{Ordinal: 1, Value: int64(rep)}})
			if err != nil {
				t.Fatal(err)
			}
			v := make([]driver.Value, 1)
			if err := rows.Next(v); err != nil || v[0] != int64(i+rep) {
				t.Fatalf("%s: %v %v", q, err, v[0])
			}
			rows.Close()
		}
	}
	held, hits, misses, evictions := c.StatementCache()
	if held != 16 || hits != 40 || misses != 40 || evictions != 24 {
		t.Errorf("cache: held %d hits %d misses %d evictions %d, want 16 40 40 24",
			held, hits, misses, evictions)
	}
	// 24 evicted: each freed, its COM_STMT_CLOSE sent ahead of a later command.
	if n := serverCount(); n != 24 {
		t.Errorf("the server closed %d statements, want 24", n)
	}
	// Over the library's bound: refused when the connector is made.
	if _, err := NewConnector(tcpURI(""), WithStatementCache(5000)); err == nil {
		t.Error("WithStatementCache(5000) was accepted")
	}
	// Cache off: database/sql prepares and closes one statement per call.
	db := openDB(t, tcpURI(""), WithStatementCache(0))
	db.SetMaxOpenConns(1)
	for i := 0; i < 3; i++ {
		var v int
		if err := db.QueryRow("SELECT ?", i).Scan(&v); err != nil || v != i {
			t.Fatalf("no cache: %v %d", err, v)
		}
	}
}

// A lease is given back when its rows are done: closed, or released by the
// next command once read to the end; an Exec gives it back at once.
func TestStatementCacheLease(t *testing.T) {
	c := rawConn(t, tcpURI(""))
	defer c.Close()
	ctx := context.Background()
	arg := []driver.NamedValue{{Ordinal: 1, Value: int64(3)}}
	q := "SELECT seq FROM seq_1_to_5 WHERE seq > ?"
	read := func(rows driver.Rows) int {
		v := make([]driver.Value, 1)
		n := 0
		for rows.Next(v) == nil {
			n++
		}
		return n
	}
	rows, err := c.QueryContext(ctx, q, arg)
	if err != nil {
		t.Fatal(err)
	}
	if n := read(rows); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
	// not closed: the next command releases the rows and their lease
	if _, err := c.ExecContext(ctx, "DO ?", arg); err != nil {
		t.Fatal(err)
	}
	rows, err = c.QueryContext(ctx, q, arg)
	if err != nil {
		t.Fatal(err)
	}
	if held, hits, misses, _ := c.StatementCache(); held != 2 || hits != 1 || misses != 2 {
		t.Errorf("held %d hits %d misses %d, want 2 1 2", held, hits, misses)
	}
	rows.Close() // unread rows: drained, lease back
	if _, err := c.ExecContext(ctx, "DO ?", arg); err != nil {
		t.Fatal(err)
	}
	rows, err = c.QueryContext(ctx, q, arg)
	if err != nil {
		t.Fatal(err)
	}
	if n := read(rows); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
	rows.Close()
	if held, hits, misses, _ := c.StatementCache(); held != 2 || hits != 3 || misses != 2 {
		t.Errorf("held %d hits %d misses %d, want 2 3 2", held, hits, misses)
	}
	// a failing execute gives its lease back too
	if _, err := c.ExecContext(ctx, "DO ?", []driver.NamedValue{{Ordinal: 1, Value: struct{}{}}}); err == nil {
		t.Error("an argument of an unknown type was sent")
	}
	if _, err := c.ExecContext(ctx, "DO ?", arg); err != nil {
		t.Fatal(err)
	}
	if _, hits, _, _ := c.StatementCache(); hits != 5 {
		t.Errorf("hits %d, want 5", hits)
	}
}

// WithSessionReset: a connection back from the pool is reset
// (COM_RESET_CONNECTION); statements prepared before are prepared again.
func TestSessionReset(t *testing.T) {
	for _, reset := range []bool{false, true} {
		var opts []Option
		if reset {
			opts = append(opts, WithSessionReset())
		}
		db := openDB(t, tcpURI(""), opts...)
		db.SetMaxOpenConns(1)
		id := connID(t, db)
		st, err := db.Prepare("SELECT ? + 1")
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, "SET @go_reset = 5")
		var v sql.NullInt64
		if err := db.QueryRow("SELECT @go_reset").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v.Valid == reset {
			t.Errorf("reset %v: the user variable is %v", reset, v)
		}
		for i := 0; i < 3; i++ {
			var n int
			if err := st.QueryRow(i).Scan(&n); err != nil || n != i+1 {
				t.Errorf("reset %v: statement after reuse: %v %d", reset, err, n)
			}
			var m int
			if err := db.QueryRow("SELECT ? * 2", i).Scan(&m); err != nil || m != 2*i {
				t.Errorf("reset %v: implicit statement after reuse: %v %d", reset, err, m)
			}
		}
		if got := connID(t, db); got != id {
			t.Errorf("reset %v: the connection changed (%d, %d)", reset, id, got)
		}
		st.Close()
	}
}

func TestTransactions(t *testing.T) {
	db := openDB(t, tcpURI(""))
	mustExec(t, db, "DROP TABLE IF EXISTS go_tx")
	mustExec(t, db, "CREATE TABLE go_tx (id INT PRIMARY KEY, v INT) ENGINE=InnoDB")
	t.Cleanup(func() { db.Exec("DROP TABLE go_tx") })
	mustExec(t, db, "INSERT INTO go_tx VALUES (1, 10)")
	ctx := context.Background()
	value := func(q interface {
		QueryRow(string, ...any) *sql.Row
	}) int {
		var v int
		if err := q.QueryRow("SELECT v FROM go_tx WHERE id = ?", 1).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "UPDATE go_tx SET v = ? WHERE id = 1", 20)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if v := value(db); v != 10 {
		t.Errorf("after rollback: %d", v)
	}
	tx, _ = db.Begin()
	mustExec(t, tx, "UPDATE go_tx SET v = 30 WHERE id = 1")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if v := value(db); v != 30 {
		t.Errorf("after commit: %d", v)
	}

	// Isolation levels, by what a transaction sees of another's commit.
	for _, tc := range []struct {
		level  sql.IsolationLevel
		sees   bool // a change committed meanwhile
		dirty  bool // a change not committed yet
		before int
	}{
		{sql.LevelRepeatableRead, false, false, 30},
		{sql.LevelSerializable, false, false, 31},
		{sql.LevelReadCommitted, true, false, 32},
		{sql.LevelReadUncommitted, true, true, 33},
	} {
		mustExec(t, db, "UPDATE go_tx SET v = ? WHERE id = 1", tc.before)
		tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: tc.level})
		if err != nil {
			t.Fatal(err)
		}
		if v := value(tx); v != tc.before {
			t.Errorf("%v: first read %d", tc.level, v)
		}
		if tc.level == sql.LevelSerializable {
			// SERIALIZABLE locks what it read: another writer would wait.
			tx.Rollback()
			continue
		}
		other, _ := db.Begin()
		mustExec(t, other, "UPDATE go_tx SET v = 99 WHERE id = 1")
		if got := value(tx) == 99; got != tc.dirty {
			t.Errorf("%v: uncommitted change seen %v", tc.level, got)
		}
		other.Commit()
		if got := value(tx) == 99; got != tc.sees {
			t.Errorf("%v: committed change seen %v", tc.level, got)
		}
		tx.Commit()
	}
	if _, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSnapshot}); err == nil {
		t.Error("LevelSnapshot was accepted")
	}

	// Read-only: a write fails with ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION.
	tx, err = db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec("UPDATE go_tx SET v = 1 WHERE id = ?", 1)
	var e *Error
	if !errors.As(err, &e) || e.Number != 1792 || e.SQLState != "25006" {
		t.Errorf("write in a read-only transaction: %v", err)
	}
	if v := value(tx); v != 99 {
		t.Errorf("read in a read-only transaction: %d", v)
	}
	tx.Rollback()

	// A Rows left open in a transaction: the next command says so.
	tx, _ = db.Begin()
	rows, err := tx.Query("SELECT * FROM seq_1_to_10")
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	if _, err := tx.Exec("SELECT 1"); err != errBusy {
		t.Errorf("command with an open Rows: %v", err)
	}
	rows.Close()
	if _, err := tx.Exec("SELECT 1"); err != nil {
		t.Errorf("after closing the Rows: %v", err)
	}
	// Read to its end, the Rows no longer holds the connection.
	rows, _ = tx.Query("SELECT * FROM seq_1_to_3")
	for rows.Next() {
	}
	if _, err := tx.Exec("SELECT 1"); err != nil {
		t.Errorf("after reading the Rows to its end: %v", err)
	}
	tx.Rollback()
}

func TestMultipleResults(t *testing.T) {
	db := openDB(t, tcpURI("multi_statements=1"))
	mustExec(t, db, "DROP PROCEDURE IF EXISTS go_proc")
	mustExec(t, db, "CREATE PROCEDURE go_proc(IN n INT) BEGIN SELECT n; SELECT n + 1, 'x'; END")
	t.Cleanup(func() { db.Exec("DROP PROCEDURE go_proc") })
	for _, tc := range []struct {
		q    string
		args []any
	}{{"CALL go_proc(5)", nil}, {"CALL go_proc(?)", []any{5}}, {"SELECT 5; SELECT 6, 'x'", nil}} {
		rows, err := db.Query(tc.q, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var a, b int
		var s string
		if !rows.Next() || rows.Scan(&a) != nil || a != 5 || rows.Next() {
			t.Errorf("%s: first result: %d %v", tc.q, a, rows.Err())
		}
		if !rows.NextResultSet() || !rows.Next() || rows.Scan(&b, &s) != nil || b != 6 || s != "x" {
			t.Errorf("%s: second result: %d %q %v", tc.q, b, s, rows.Err())
		}
		for rows.NextResultSet() { // CALL's final OK
			if rows.Next() {
				t.Errorf("%s: a row after the results", tc.q)
			}
		}
		rows.Close()
		// Exec reads every result.
		mustExec(t, db, tc.q, tc.args...)
		// So does closing a Rows early.
		rows, _ = db.Query(tc.q, tc.args...)
		rows.Close()
		var one int
		if err := db.QueryRow("SELECT 1").Scan(&one); err != nil {
			t.Errorf("%s: after closing early: %v", tc.q, err)
		}
	}
	r := mustExec(t, db, "DO 1; DO 2")
	if n, _ := r.RowsAffected(); n != 0 {
		t.Errorf("rows affected %d", n)
	}
}

func TestColumnTypes(t *testing.T) {
	db := openDB(t, tcpURI(""))
	mustExec(t, db, "DROP TABLE IF EXISTS go_cols")
	mustExec(t, db, "CREATE TABLE go_cols (a INT NOT NULL, b BIGINT UNSIGNED, c DECIMAL(10,3) NOT NULL, "+
		"d VARCHAR(20), e BLOB, f DATETIME NOT NULL, g DOUBLE)")
	t.Cleanup(func() { db.Exec("DROP TABLE go_cols") })
	for _, q := range []string{"SELECT * FROM go_cols", "SELECT * FROM go_cols WHERE a = ?"} {
		var args []any
		if q[len(q)-1] == '?' {
			args = []any{1}
		}
		rows, err := db.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		types, err := rows.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			name, scan string
			nullable   bool
		}{{"INT", "int64", false}, {"UNSIGNED BIGINT", "interface {}", true}, {"DECIMAL", "sql.RawBytes", false},
			{"VARCHAR", "sql.RawBytes", true}, {"BLOB", "sql.RawBytes", true}, {"DATETIME", "time.Time", false},
			{"DOUBLE", "sql.NullFloat64", true}}
		for i, ct := range types {
			n, _ := ct.Nullable()
			if ct.DatabaseTypeName() != want[i].name || ct.ScanType().String() != want[i].scan || n != want[i].nullable {
				t.Errorf("%s: column %s: %s %s %v", q, ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), n)
			}
		}
		if p, s, ok := types[2].DecimalSize(); !ok || p != 10 || s != 3 {
			t.Errorf("DECIMAL(10,3): %d %d %v", p, s, ok)
		}
		if l, ok := types[3].Length(); !ok || l != 80 {
			t.Errorf("VARCHAR(20) utf8mb4: length %d %v", l, ok)
		}
		rows.Close()
	}
}
