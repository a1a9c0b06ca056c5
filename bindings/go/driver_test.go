package mywire

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConnect(t *testing.T) {
	cases := []struct {
		name, uri, transport string
		tls, verified        bool
	}{
		{"tcp", tcpURI("ssl-mode=disabled"), "tcp", false, false},
		{"unix socket", socketURI(), "unix", false, false},
		{"tls verify_identity by name", tlsURI("localhost", "ca.pem"), "tcp", true, true},
		{"tls verify_identity by address", tlsURI("127.0.0.1", "ca.pem"), "tcp", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, tc.uri)
			ctx := context.Background()
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer conn.Close()
			err = conn.Raw(func(dc any) error {
				c := dc.(*Conn)
				if got := c.Transport(); got != tc.transport {
					t.Errorf("transport %q, want %q", got, tc.transport)
				}
				if got := c.TLSVersion() != ""; got != tc.tls {
					t.Errorf("TLS active %v, want %v", got, tc.tls)
				}
				if got := c.TLSVerified(); got != tc.verified {
					t.Errorf("TLS verified %v, want %v", got, tc.verified)
				}
				if !strings.Contains(c.ServerVersion(), "MariaDB") {
					t.Errorf("server version %q", c.ServerVersion())
				}
				if c.ConnectionID() == 0 {
					t.Error("connection id 0")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var one int
			var cipher string
			if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
				t.Fatalf("SELECT 1: %v %d", err, one)
			}
			// The server's side of the same session agrees on TLS.
			if err := conn.QueryRowContext(ctx, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "+
				"WHERE VARIABLE_NAME = 'SSL_CIPHER'").Scan(&cipher); err != nil {
				t.Fatal(err)
			}
			if (cipher != "") != tc.tls {
				t.Errorf("server's Ssl_cipher %q, TLS expected %v", cipher, tc.tls)
			}
		})
	}

	t.Run("tls wrong CA", func(t *testing.T) {
		_, err := openDB(t, tlsURI("localhost", "wrongca.pem")).Exec("SELECT 1")
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeTLS {
			t.Fatalf("want a TLS error, got %v", err)
		}
		if errors.Is(err, driver.ErrBadConn) {
			t.Error("a failed connect must not be ErrBadConn")
		}
	})
	t.Run("bad password", func(t *testing.T) {
		uri := strings.Replace(tcpURI(""), userinfo(), env.user+":wrong", 1)
		err := openDB(t, uri).Ping()
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeServer || e.Number != 1045 || e.SQLState != "28000" {
			t.Fatalf("want server error 1045 (28000), got %#v", err)
		}
		if strings.Contains(e.Error(), "wrong") && !strings.Contains(e.Message, "wrong") {
			t.Errorf("the password leaked into the message: %v", e)
		}
	})
	t.Run("bad uri", func(t *testing.T) {
		for _, uri := range []string{"mysql://u@h:99999999/db", "mysql://u@h/db?no_such_key=1", "mysql://h/\x00"} {
			_, err := NewConnector(uri)
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeURI {
				t.Errorf("%q: want a URI error, got %v", uri, err)
			}
		}
		if _, err := sql.Open("mywire", "mysql://u@h/db?no_such_key=1"); err == nil {
			t.Error("sql.Open accepted an unknown key")
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		c, err := NewConnector(tcpURI(""))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Connect(ctx); err != context.Canceled {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
}

func TestServerError(t *testing.T) {
	db := openDB(t, tcpURI(""))
	db.SetMaxOpenConns(1)
	id := connID(t, db)
	mustExec(t, db, "CREATE TABLE IF NOT EXISTS go_err (id INT PRIMARY KEY)")
	t.Cleanup(func() { db.Exec("DROP TABLE go_err") })
	mustExec(t, db, "DELETE FROM go_err")
	mustExec(t, db, "INSERT INTO go_err VALUES (1)")
	cases := []struct {
		name, query string
		args        []any
		number      uint
		state       string
	}{
		{"no table, text", "SELECT * FROM go_no_such_table", nil, 1146, "42S02"},
		{"no table, prepared", "SELECT * FROM go_no_such_table WHERE id = ?", []any{1}, 1146, "42S02"},
		{"syntax", "SELEKT 1", nil, 1064, "42000"},
		{"duplicate, text", "INSERT INTO go_err VALUES (1)", nil, 1062, "23000"},
		{"duplicate, prepared", "INSERT INTO go_err VALUES (?)", []any{1}, 1062, "23000"},
	}
	for _, tc := range cases {
		for _, viaQuery := range []bool{false, true} {
			var err error
			if viaQuery {
				var rows *sql.Rows
				rows, err = db.Query(tc.query, tc.args...)
				if err == nil {
					rows.Close()
				}
			} else {
				_, err = db.Exec(tc.query, tc.args...)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%s: want *Error, got %v", tc.name, err)
			}
			if e.Code != CodeServer || e.Number != tc.number || e.SQLState != tc.state || e.Message == "" {
				t.Errorf("%s: got %#v, want %d (%s)", tc.name, e, tc.number, tc.state)
			}
			if !e.Sent || e.Closed || errors.Is(err, driver.ErrBadConn) {
				t.Errorf("%s: sent %v closed %v", tc.name, e.Sent, e.Closed)
			}
		}
	}
	if got := connID(t, db); got != id {
		t.Errorf("server errors replaced the connection (%d, then %d)", id, got)
	}
}

// The value types, each written as a prepared statement's argument and read
// back through both protocols (a text query and a prepared statement).
func TestValueRoundTrip(t *testing.T) {
	db := openDB(t, tcpURI(""))
	mustExec(t, db, "DROP TABLE IF EXISTS go_types")
	mustExec(t, db, `CREATE TABLE go_types (
		id INT PRIMARY KEY, ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT,
		ubi BIGINT UNSIGNED, ui INT UNSIGNED, f FLOAT, d DOUBLE, dec1 DECIMAL(30,6), dt DATE,
		tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, y YEAR, bt BIT(12), c CHAR(10),
		vc VARCHAR(100), vb VARBINARY(100), txt TEXT, blb BLOB, en ENUM('a','b'), js JSON,
		b BOOL)`)
	t.Cleanup(func() { db.Exec("DROP TABLE go_types") })
	when := time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)
	blob := []byte{0, 1, 2, 0, 255, 'x', 0}
	args := []any{1, int8(-128), int16(-32768), int32(-8388608), int32(math.MinInt32), int64(math.MinInt64),
		uint64(math.MaxUint64), uint32(math.MaxUint32), float32(1.5), 1e300, "-123456789012345678901234.123456", when,
		"-812:34:56.000001", when.In(time.FixedZone("east", 3600)), when, 2155, uint16(0xABC), "char",
		"välue 'quoted' \\ \"", []byte("vb\x00"), strings.Repeat("t", 1000), blob, "b", `{"k": [1, 2]}`,
		true}
	mustExec(t, db, "INSERT INTO go_types VALUES (?"+strings.Repeat(", ?", len(args)-1)+")", args...)
	want := []any{int64(1), int64(-128), int64(-32768), int64(-8388608), int64(math.MinInt32), int64(math.MinInt64),
		uint64(math.MaxUint64), int64(math.MaxUint32), float64(1.5), 1e300, []byte("-123456789012345678901234.123456"),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), []byte("-812:34:56.000001"), when, when, int64(2155),
		[]byte{0x0A, 0xBC}, []byte("char"), []byte("välue 'quoted' \\ \""), []byte("vb\x00"),
		[]byte(strings.Repeat("t", 1000)), blob, []byte("b"), []byte(`{"k": [1, 2]}`), int64(1)}
	check := func(name string, rows *sql.Rows, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer rows.Close()
		if !rows.Next() {
			t.Fatalf("%s: no row: %v", name, rows.Err())
		}
		got := make([]any, len(want))
		ptrs := make([]any, len(want))
		for i := range got {
			ptrs[i] = &got[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: scan: %v", name, err)
		}
		cols, _ := rows.Columns()
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("%s: column %s: got %T %#v, want %T %#v", name, cols[i], got[i], got[i], want[i], want[i])
			}
		}
		if rows.Next() {
			t.Errorf("%s: a second row", name)
		}
	}
	rows, err := db.Query("SELECT * FROM go_types")
	check("text", rows, err)
	rows, err = db.Query("SELECT * FROM go_types WHERE id = ?", 1)
	check("prepared", rows, err)
	stmt, err := db.Prepare("SELECT * FROM go_types WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	rows, err = stmt.Query(uint8(1))
	check("explicit statement", rows, err)

	// Scanning into typed destinations.
	var (
		ubi   uint64
		f     float32
		dec   string
		dtm   time.Time
		b     bool
		blobB []byte
	)
	err = db.QueryRow("SELECT ubi, f, dec1, dtm, b, blb FROM go_types").Scan(&ubi, &f, &dec, &dtm, &b, &blobB)
	if err != nil || ubi != math.MaxUint64 || f != 1.5 || dec != "-123456789012345678901234.123456" ||
		!dtm.Equal(when) || !b || !bytes.Equal(blobB, blob) {
		t.Errorf("typed scan: %v %v %v %v %v %v %v", err, ubi, f, dec, dtm, b, blobB)
	}

	// Values computed by the server, through both protocols.
	for _, q := range []string{"SELECT ?, 1.25e10, -7, CAST(18446744073709551615 AS UNSIGNED), '0000-00-00' + INTERVAL 0 DAY, CAST('2024-01-02 03:04:05.5' AS DATETIME(1))",
		"SELECT ?, 1.25e10, -7, CAST(18446744073709551615 AS UNSIGNED), DATE '2024-01-02', CAST('2024-01-02 03:04:05.5' AS DATETIME(1))"} {
		var s string
		var d float64
		var n int64
		var u uint64
		var t1 any
		var t2 time.Time
		if err := db.QueryRow(q, "x").Scan(&s, &d, &n, &u, &t1, &t2); err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if s != "x" || d != 1.25e10 || n != -7 || u != math.MaxUint64 ||
			!t2.Equal(time.Date(2024, 1, 2, 3, 4, 5, 500000000, time.UTC)) {
			t.Errorf("%s: %v %v %v %v %v", q, s, d, n, u, t2)
		}
	}

	// The zero date is the zero time.Time.
	var zero time.Time
	mustExec(t, db, "SET SESSION sql_mode = ''")
	if err := db.QueryRow("SELECT CAST('0000-00-00' AS DATE)").Scan(&zero); err != nil || !zero.IsZero() {
		t.Errorf("zero date: %v %v", err, zero)
	}
}

func TestArguments(t *testing.T) {
	db := openDB(t, tcpURI(""))
	type myUint uint64
	var u uint64
	if err := db.QueryRow("SELECT ?", myUint(math.MaxUint64)).Scan(&u); err != nil || u != math.MaxUint64 {
		t.Errorf("named uint64 type: %v %v", err, u)
	}
	var s sql.NullString
	if err := db.QueryRow("SELECT ?", sql.NullString{String: "v", Valid: true}).Scan(&s); err != nil || s.String != "v" {
		t.Errorf("driver.Valuer: %v %v", err, s)
	}
	var np *int
	if err := db.QueryRow("SELECT ?", np).Scan(&s); err != nil || s.Valid {
		t.Errorf("nil pointer: %v %v", err, s)
	}
	if err := db.QueryRow("SELECT ?", math.NaN()).Scan(&s); err == nil {
		t.Error("NaN was accepted")
	}
	if err := db.QueryRow("SELECT ?", struct{}{}).Scan(&s); err == nil {
		t.Error("a struct was accepted")
	}
	if err := db.QueryRow("SELECT ?", sql.Named("n", 1)).Scan(&s); err == nil {
		t.Error("a named argument was accepted")
	}
	if err := db.QueryRow("SELECT ?, ?", 1).Scan(&s, &s); err == nil {
		t.Error("too few arguments were accepted")
	}
	if err := db.QueryRow("SELECT ?", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)).Scan(&s); err == nil {
		t.Error("year 10000 was accepted")
	}
	// A placeholder inside a string literal is not one.
	if err := db.QueryRow("SELECT '?', ?", "v").Scan(&s, &s); err != nil || s.String != "v" {
		t.Errorf("literal '?': %v %v", err, s)
	}
	// The location: a DATETIME is written and read in the connector's zone.
	loc := time.FixedZone("plus5", 5*3600)
	dbl := openDB(t, tcpURI(""), WithLocation(loc))
	when := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	var text string
	var back time.Time
	if err := dbl.QueryRow("SELECT CAST(? AS CHAR), ?", when, when).Scan(&text, &back); err != nil ||
		text != "2024-06-01 17:00:00" || !back.Equal(when) || back.Location() != loc {
		t.Errorf("location: %v %q %v", err, text, back)
	}
}

func TestNulls(t *testing.T) {
	db := openDB(t, tcpURI(""))
	mustExec(t, db, "DROP TABLE IF EXISTS go_nulls")
	mustExec(t, db, "CREATE TABLE go_nulls (id INT PRIMARY KEY, i INT, u BIGINT UNSIGNED, d DOUBLE, "+
		"s VARCHAR(10), b BLOB, t DATETIME, tm TIME, dec1 DECIMAL(5,2))")
	t.Cleanup(func() { db.Exec("DROP TABLE go_nulls") })
	var nilBytes []byte
	mustExec(t, db, "INSERT INTO go_nulls VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)", nil, nil, nil, nil, nilBytes, nil, nil, nil)
	mustExec(t, db, "INSERT INTO go_nulls VALUES (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
	mustExec(t, db, "INSERT INTO go_nulls VALUES (3, 0, 0, 0, '', '', '2000-01-01', '00:00:00', 0)")
	for _, q := range []string{"SELECT * FROM go_nulls WHERE id > 0 ORDER BY id", "SELECT * FROM go_nulls WHERE id > ? ORDER BY id"} {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, 0)
		}
		rows, err := db.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		for id := 1; id <= 3; id++ {
			if !rows.Next() {
				t.Fatalf("%s: row %d missing: %v", q, id, rows.Err())
			}
			vals := make([]any, 9)
			ptrs := make([]any, 9)
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals[1:] {
				if (v == nil) != (id < 3) {
					t.Errorf("%s: row %d column %d: %#v", q, id, i+1, v)
				}
			}
			if id == 3 && (!reflect.DeepEqual(vals[4], []byte{}) || !reflect.DeepEqual(vals[5], []byte{})) {
				t.Errorf("%s: empty strings came back as %#v %#v", q, vals[4], vals[5])
			}
			var ni sql.NullInt64
			var ns sql.NullString
			var nt sql.NullTime
			var nf sql.NullFloat64
			if err := rows.Scan(new(int), &ni, new(any), &nf, &ns, new([]byte), &nt, new(any), new(any)); err != nil {
				t.Fatal(err)
			}
			if ni.Valid != (id == 3) || ns.Valid != (id == 3) || nt.Valid != (id == 3) || nf.Valid != (id == 3) {
				t.Errorf("%s: row %d: %v %v %v %v", q, id, ni, ns, nt, nf)
			}
		}
		rows.Close()
	}
	var v any = 1
	if err := db.QueryRow("SELECT NULL").Scan(&v); err != nil || v != nil {
		t.Errorf("SELECT NULL: %v %v", err, v)
	}
}
