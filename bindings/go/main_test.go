package mywire

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"
)

// The tests run against the MariaDB of tests/server/mariadb.sh: its env file
// exports the MYWIRE_TEST_* variables read here (tests/run.sh and the meson
// suite 'bindings' do that).

type testEnv struct {
	host, port, socket, user, password, db, certs string
}

var env testEnv

func TestMain(m *testing.M) {
	get := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			fmt.Fprintf(os.Stderr, "environment variable %s is not set: start the test server with "+
				"`tests/server/mariadb.sh start DIR` and `. DIR/env` first (or use tests/run.sh)\n", name)
			os.Exit(1)
		}
		return v
	}
	env = testEnv{
		host: get("MYWIRE_TEST_HOST"), port: get("MYWIRE_TEST_PORT"), socket: get("MYWIRE_TEST_SOCKET"),
		user: get("MYWIRE_TEST_USER"), password: get("MYWIRE_TEST_PASSWORD"), db: get("MYWIRE_TEST_DB"),
		certs: get("MYWIRE_TEST_CERTS"),
	}
	os.Exit(m.Run())
}

func userinfo() string { return url.UserPassword(env.user, env.password).String() }

func tcpURI(query string) string {
	u := fmt.Sprintf("mysql://%s@%s:%s/%s", userinfo(), env.host, env.port, env.db)
	if query != "" {
		u += "?" + query
	}
	return u
}

func socketURI() string {
	return fmt.Sprintf("mysql://%s@localhost/%s?socket=%s", userinfo(), env.db, url.QueryEscape(env.socket))
}

func tlsURI(host, ca string) string {
	return fmt.Sprintf("mysql://%s@%s:%s/%s?ssl-mode=verify_identity&ssl-ca=%s", userinfo(), host, env.port,
		env.db, url.QueryEscape(env.certs+"/"+ca))
}

func openDB(t testing.TB, uri string, opts ...Option) *sql.DB {
	t.Helper()
	c, err := NewConnector(uri, opts...)
	if err != nil {
		t.Fatalf("NewConnector: %v", err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

// rawConn is a driver connection used directly (not through a pool).
func rawConn(t testing.TB, uri string) *Conn {
	t.Helper()
	c, err := NewConnector(uri)
	if err != nil {
		t.Fatalf("NewConnector: %v", err)
	}
	dc, err := c.Connect(context.Background())
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return dc.(*Conn)
}

func mustExec(t testing.TB, db interface {
	Exec(string, ...any) (sql.Result, error)
}, query string, args ...any) sql.Result {
	t.Helper()
	r, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return r
}

// connID is the server's id of the connection database/sql hands out next.
func connID(t testing.TB, db *sql.DB) int64 {
	t.Helper()
	var id int64
	if err := db.QueryRow("SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatalf("CONNECTION_ID(): %v", err)
	}
	return id
}

func within(t testing.TB, what string, limit time.Duration, f func()) {
	t.Helper()
	start := time.Now()
	f()
	if d := time.Since(start); d > limit {
		t.Errorf("%s took %v, more than %v", what, d, limit)
	}
}
