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
