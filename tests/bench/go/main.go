// mywire-gobench: the Go driver (bindings/go) through database/sql on the
// workloads of tests/bench: a fetch of N rows x 6 mixed columns (INT,
// BIGINT, DOUBLE, VARCHAR, DATETIME, DECIMAL) and 20,000 parameterised
// point selects. Run by tests/bench/run_go.sh, which starts the servers.
//
// Sources of the rows: the replay server (a fixed answer from memory, so
// the figures are the client's own cost: MYWIRE_BENCH_REPLAY_SOCKET) and a
// table of the MariaDB of tests/server/mariadb.sh (MYWIRE_TEST_SOCKET and
// the account variables), both as a text query (db.Query without
// arguments) and as a prepared statement (binary rows). Each figure is the
// best of --reps runs: wall time, this process's CPU time (user + system),
// Go allocations per row, and the peak resident memory of the whole run.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"mywire.example/mywire"
)

var (
	rows   = flag.Int("rows", 1000000, "rows of the fetch workloads")
	points = flag.Int("points", 20000, "point selects")
	reps   = flag.Int("reps", 3, "runs of each workload (the best is shown)")
	only   = flag.String("only", "stream,point", "workloads: stream, point")
	real   = flag.Bool("real", true, "also fetch from a table of the MariaDB")
)

type figure struct {
	wall, cpu time.Duration
	allocs    float64 // Go heap allocations per unit
	units     int
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(s.Text(), "VmHWM: %d kB", &kb); n == 1 {
			return kb << 10
		}
	}
	return 0
}

func measure(units int, f func() error) (figure, error) {
	best := figure{units: units}
	for r := 0; r < *reps; r++ {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		c0, t0 := cpuTime(), time.Now()
		if err := f(); err != nil {
			return best, err
		}
		wall, cpu := time.Since(t0), cpuTime()-c0
		runtime.ReadMemStats(&m1)
		if r == 0 || cpu < best.cpu {
			best.wall, best.cpu = wall, cpu
			best.allocs = float64(m1.Mallocs-m0.Mallocs) / float64(units)
		}
	}
	return best, nil
}

func open(uri string) (*sql.DB, error) {
	c, err := mywire.NewConnector(uri)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	return db, db.Ping()
}

// fetch reads every row of q, scanning each column into its Go type.
func fetch(db *sql.DB, stmt *sql.Stmt, q string, want int) error {
	var rs *sql.Rows
	var err error
	if stmt != nil {
		rs, err = stmt.Query()
	} else {
		rs, err = db.Query(q)
	}
	if err != nil {
		return err
	}
	defer rs.Close()
	var (
		id, a int64
		b     float64
		c, e  sql.RawBytes
		d     time.Time
		n     int
		sum   int64
	)
	for rs.Next() {
		if err := rs.Scan(&id, &a, &b, &c, &d, &e); err != nil {
			return err
		}
		sum += id + int64(len(c)) + int64(d.Second())
		n++
	}
	if err := rs.Err(); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("%d rows, want %d", n, want)
	}
	return nil
}

type row struct {
	name string
	f    figure
}

func main() {
	flag.Parse()
	var table []row
	add := func(name string, f figure, err error) {
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			os.Exit(1)
		}
		table = append(table, row{name, f})
	}
	want := map[string]bool{}
	for _, w := range strings.Split(*only, ",") {
		want[w] = true
	}
	var real_ string
	if s := os.Getenv("MYWIRE_TEST_SOCKET"); s != "" {
		real_ = fmt.Sprintf("mysql://%s@localhost/%s?socket=%s",
			url.UserPassword(os.Getenv("MYWIRE_TEST_USER"), os.Getenv("MYWIRE_TEST_PASSWORD")).String(),
			os.Getenv("MYWIRE_TEST_DB"), url.QueryEscape(s))
	}

	if want["stream"] {
		type source struct{ name, uri, sql string }
		var sources []source
		if s := os.Getenv("MYWIRE_BENCH_REPLAY_SOCKET"); s != "" {
			sources = append(sources, source{"replay", "mysql://bench@localhost/?socket=" + url.QueryEscape(s),
				"SELECT id, a, b, c, d, e FROM t"})
		}
		if *real && real_ != "" {
			db, err := open(real_)
			if err == nil {
				err = fillRows(db, *rows)
				db.Close()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench_rows:", err)
				os.Exit(1)
			}
			sources = append(sources, source{"mariadb", real_, "SELECT id, a, b, c, d, e FROM bench_rows"})
		}
		for _, s := range sources {
			db, err := open(s.uri)
			if err != nil {
				add("stream "+s.name, figure{}, err)
			}
			f, err := measure(*rows, func() error { return fetch(db, nil, s.sql, *rows) })
			add(fmt.Sprintf("fetch %d rows, text (%s)", *rows, s.name), f, err)
			st, err := db.Prepare(s.sql)
			if err != nil {
				add("prepare "+s.name, figure{}, err)
			}
			f, err = measure(*rows, func() error { return fetch(db, st, s.sql, *rows) })
			add(fmt.Sprintf("fetch %d rows, prepared (%s)", *rows, s.name), f, err)
			st.Close()
			db.Close()
		}
	}

	if want["point"] && real_ != "" {
		db, err := open(real_)
		if err == nil {
			err = fillPoints(db)
		}
		if err != nil {
			add("point setup", figure{}, err)
		}
		const q = "SELECT c FROM bench_point WHERE id = ?"
		var c string
		f, err := measure(*points, func() error {
			for i := 0; i < *points; i++ {
				if err := db.QueryRow(q, i%1000+1).Scan(&c); err != nil {
					return err
				}
			}
			return nil
		})
		add(fmt.Sprintf("%d point selects, db.QueryRow(sql, id)", *points), f, err)
		st, err := db.Prepare(q)
		if err != nil {
			add("prepare point", figure{}, err)
		}
		f, err = measure(*points, func() error {
			for i := 0; i < *points; i++ {
				if err := st.QueryRow(i%1000 + 1).Scan(&c); err != nil {
					return err
				}
			}
			return nil
		})
		add(fmt.Sprintf("%d point selects, stmt.QueryRow(id)", *points), f, err)
		st.Close()
		ctx := context.Background()
		f, err = measure(*points, func() error {
			for i := 0; i < *points; i++ {
				if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT c FROM bench_point WHERE id = %d", i%1000+1)).Scan(&c); err != nil {
					return err
				}
			}
			return nil
		})
		add(fmt.Sprintf("%d point selects, text (no arguments)", *points), f, err)
		db.Close()
	}

	fmt.Printf("%-48s %10s %10s %12s %10s\n", "workload (best of "+fmt.Sprint(*reps)+")", "wall", "client CPU", "CPU per unit", "allocs/u")
	for _, r := range table {
		fmt.Printf("%-48s %9.3fs %9.3fs %10.2fµs %10.1f\n", r.name, r.f.wall.Seconds(), r.f.cpu.Seconds(),
			float64(r.f.cpu.Nanoseconds())/1e3/float64(r.f.units), r.f.allocs)
	}
	fmt.Printf("peak resident memory of the whole run: %d MiB\n", peakRSS()>>20)
}

// The tables of tests/bench/bench.c, made the same way (if not there yet).
func fillRows(db *sql.DB, n int) error {
	var have int
	if db.QueryRow("SELECT COUNT(*) FROM bench_rows").Scan(&have) == nil && have == n {
		return nil
	}
	for _, q := range []string{"DROP TABLE IF EXISTS bench_rows",
		"CREATE TABLE bench_rows (id INT NOT NULL PRIMARY KEY, a BIGINT NOT NULL, b DOUBLE NOT NULL, " +
			"c VARCHAR(64) NOT NULL, d DATETIME NOT NULL, e DECIMAL(14,2) NOT NULL) ENGINE=InnoDB",
		fmt.Sprintf("INSERT INTO bench_rows SELECT seq, seq * 7919, seq / 3, CONCAT('row-', seq, '-', MD5(seq)), "+
			"TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND, seq / 7 FROM seq_1_to_%d", n)} {
		if _, err := db.Exec(q); err != nil {
			return err
		}
	}
	return nil
}

func fillPoints(db *sql.DB) error {
	for _, q := range []string{"DROP TABLE IF EXISTS bench_point",
		"CREATE TABLE bench_point (id INT NOT NULL PRIMARY KEY, c VARCHAR(64) NOT NULL) ENGINE=InnoDB",
		"INSERT INTO bench_point SELECT seq, CONCAT('point-', seq, '-', MD5(seq)) FROM seq_1_to_1000"} {
		if _, err := db.Exec(q); err != nil {
			return err
		}
	}
	return nil
}
