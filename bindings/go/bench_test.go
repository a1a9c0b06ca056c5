package mywire

import (
	"database/sql"
	"net/url"
	"os"
	"testing"
	"time"
)

// BenchmarkFetch reads the replay server's rows (MYWIRE_BENCH_REPLAY_SOCKET,
// tests/bench/run_go.sh starts one) through database/sql, per row.
func BenchmarkFetch(b *testing.B) {
	sock := os.Getenv("MYWIRE_BENCH_REPLAY_SOCKET")
	if sock == "" {
		b.Skip("MYWIRE_BENCH_REPLAY_SOCKET is not set")
	}
	db := openDB(b, "mysql://bench@localhost/?socket="+url.QueryEscape(sock))
	b.ResetTimer()
	n := 0
	for n < b.N {
		rows, err := db.Query("SELECT id, a, b, c, d, e FROM t")
		if err != nil {
			b.Fatal(err)
		}
		var (
			id, a int64
			f     float64
			c, e  sql.RawBytes
			d     time.Time
		)
		for rows.Next() && n < b.N {
			if err := rows.Scan(&id, &a, &f, &c, &d, &e); err != nil {
				b.Fatal(err)
			}
			n++
		}
		rows.Close()
	}
}

// BenchmarkPoint: one parameterised point select per op through
// database/sql (the implicit statement cache) on the test server's socket.
func BenchmarkPoint(b *testing.B) {
	db := openDB(b, socketURI())
	db.SetMaxOpenConns(1)
	mustExec(b, db, "CREATE TABLE IF NOT EXISTS go_bench_point (id INT PRIMARY KEY, c VARCHAR(64))")
	b.Cleanup(func() { db.Exec("DROP TABLE go_bench_point") })
	mustExec(b, db, "INSERT IGNORE INTO go_bench_point SELECT seq, CONCAT('point-', seq) FROM seq_1_to_1000")
	b.ResetTimer()
	var c string
	for i := 0; i < b.N; i++ {
		if err := db.QueryRow("SELECT c FROM go_bench_point WHERE id = ?", i%1000+1).Scan(&c); err != nil {
			b.Fatal(err)
		}
	}
}
