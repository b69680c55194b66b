// Command sqlitebench measures SQLite drivers through database/sql under the
// product's storage rules: WAL, synchronous=FULL, foreign_keys=ON,
// busy_timeout, one writer connection beside a read pool, and group commit.
//
//	go run . -driver=modernc -out=json
//	go run . -driver=ncruces -out=json
//	CGO_ENABLED=1 go run -tags mattn . -driver=mattn -out=json
//	go run . -report results/*.json   # markdown table of medians
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

type Report struct {
	Driver        string            `json:"driver"`
	Module        string            `json:"module"`
	ModuleVersion string            `json:"module_version"`
	SQLiteVersion string            `json:"sqlite_version"`
	GoVersion     string            `json:"go_version"`
	GOOS          string            `json:"goos"`
	GOARCH        string            `json:"goarch"`
	CgoEnabled    string            `json:"cgo_enabled"`
	NumCPU        int               `json:"num_cpu"`
	Dir           string            `json:"dir"`
	FSType        string            `json:"fs_type"`
	Started       time.Time         `json:"started"`
	PragmasWriter map[string]string `json:"pragmas_writer"`
	PragmasReader map[string]string `json:"pragmas_reader"`
	Results       []Result          `json:"results"`
	DBBytes       int64             `json:"db_bytes_end"`
	MaxRSSKiB     int64             `json:"max_rss_kib"`
}

func main() {
	driver := flag.String("driver", "", "driver: modernc, ncruces (default build) or mattn (-tags mattn, CGO_ENABLED=1)")
	out := flag.String("out", "text", "output: text or json")
	dir := flag.String("dir", os.TempDir(), "directory for the temporary database (same disk as the product)")
	dur := flag.Duration("dur", 3*time.Second, "duration of each timed measurement")
	only := flag.String("only", "", "comma list of measurements to run (bulk,point,range,autocommit,group); empty = all")
	quietWait := flag.Duration("quiet-wait", 0, "before each measurement wait up to this long for the machine to be quiet (other processes < 10% of a core)")
	report := flag.Bool("report", false, "read JSON result files (args) and print a markdown table of medians")
	flag.Parse()
	if *report {
		if err := printReport(os.Stdout, flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	d, err := lookupDriver(*driver)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	rep, err := run(d, *dir, *dur, *quietWait, *only, func(r Result) {
		if *out != "json" {
			printResult(os.Stderr, r)
		}
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlitebench:", err)
		os.Exit(1)
	}
	if *out == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	}
}

func printResult(w *os.File, r Result) {
	fmt.Fprintf(w, "%-24s %9d ops %6.2fs %12.0f ops/s  p50 %8.1fµs  p99 %9.1fµs  cpu %5.2fs %v\n",
		r.Name, r.Ops, r.Seconds, r.OpsPerSec, r.P50us, r.P99us, r.CPUSec, r.Extra)
}

func run(d driverSpec, dir string, dur, quietWait time.Duration, only string, progress func(Result)) (*Report, error) {
	ctx := context.Background()
	tmp, err := os.MkdirTemp(dir, "sqlitebench-"+d.Name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "bench.db")

	rep := &Report{Driver: d.Name, Module: d.Module, GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		NumCPU: runtime.NumCPU(), Dir: dir, FSType: fsType(tmp), Started: time.Now().UTC()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == d.Module {
				rep.ModuleVersion = m.Version
			}
		}
		for _, s := range bi.Settings {
			if s.Key == "CGO_ENABLED" {
				rep.CgoEnabled = s.Value
			}
		}
	}

	w, err := sql.Open(d.SQLName, d.DSN(path, true))
	if err != nil {
		return nil, err
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil { // creates the file and switches it to WAL
		return nil, err
	}
	r, err := sql.Open(d.SQLName, d.DSN(path, false))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)

	if err := w.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&rep.SQLiteVersion); err != nil {
		return nil, err
	}
	if rep.PragmasWriter, err = pragmas(ctx, w); err != nil {
		return nil, err
	}
	if rep.PragmasReader, err = pragmas(ctx, r); err != nil {
		return nil, err
	}
	for i, p := range []map[string]string{rep.PragmasWriter, rep.PragmasReader} {
		if p["journal_mode"] != "wal" || p["synchronous"] != "2" || p["foreign_keys"] != "1" || p["busy_timeout"] != fmt.Sprint(busyTimeoutMS) ||
			p["temp_store"] != "2" || p["cache_size"] != fmt.Sprint(cacheSizeKiB) || p["query_only"] != fmt.Sprint(i) {
			return nil, fmt.Errorf("pragmas not applied by DSN: %v", p)
		}
	}

	want := func(k string) bool {
		return only == "" || strings.Contains(","+only+",", ","+k+",")
	}
	add := func(res Result, err error) error {
		if err != nil {
			return err
		}
		rep.Results = append(rep.Results, res)
		progress(res)
		return nil
	}
	b := &bench{w: w, r: r, dur: dur, quietWait: quietWait}

	// 5 (first run doubles as the seed): 100k rows in one tx, prepared stmt.
	if err := b.createTable(ctx, "people"); err != nil {
		return nil, err
	}
	if err := add(b.bulkInsert(ctx, "people", seedRows)); err != nil {
		return nil, err
	}
	if want("point") {
		if err := add(b.pointReads(ctx)); err != nil {
			return nil, err
		}
	}
	if want("range") {
		if err := add(b.rangeRead(ctx, "range_like",
			`SELECT id, unit_path, name, name_fold, phone, created_at FROM people WHERE unit_path LIKE ? ORDER BY id LIMIT 50`,
			func(p string) []any { return []any{p + "%"} })); err != nil {
			return nil, err
		}
		// Same question in a form that SQLite can answer from the unit_path
		// index even though LIKE is case-insensitive ('/' + 1 == '0').
		if err := add(b.rangeRead(ctx, "range_between",
			`SELECT id, unit_path, name, name_fold, phone, created_at FROM people WHERE unit_path >= ? AND unit_path < ? ORDER BY id LIMIT 50`,
			func(p string) []any { return []any{p, p[:len(p)-1] + "0"} })); err != nil {
			return nil, err
		}
	}
	if want("autocommit") {
		if err := add(b.autocommit(ctx)); err != nil {
			return nil, err
		}
	}
	if want("group") {
		if err := add(b.groupCommit(ctx)); err != nil {
			return nil, err
		}
	}
	if want("bulk") {
		// Two more bulk runs into fresh tables, for a median of three.
		for i := 2; i <= 3; i++ {
			t := fmt.Sprintf("people_bulk%d", i)
			if err := b.createTable(ctx, t); err != nil {
				return nil, err
			}
			if err := add(b.bulkInsert(ctx, t, seedRows)); err != nil {
				return nil, err
			}
			if _, err := w.ExecContext(ctx, "DROP TABLE "+t); err != nil {
				return nil, err
			}
		}
	}
	var fi os.FileInfo
	if fi, err = os.Stat(path); err == nil {
		rep.DBBytes = fi.Size()
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	rep.MaxRSSKiB = ru.Maxrss
	return rep, nil
}

func pragmas(ctx context.Context, db *sql.DB) (map[string]string, error) {
	// One pinned connection, so all four values come from the same one.
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	m := map[string]string{}
	for _, p := range []string{"journal_mode", "synchronous", "foreign_keys", "busy_timeout", "temp_store", "cache_size", "query_only"} {
		var v string
		if err := c.QueryRowContext(ctx, "PRAGMA "+p).Scan(&v); err != nil {
			return nil, fmt.Errorf("PRAGMA %s: %w", p, err)
		}
		m[p] = v
	}
	return m, nil
}

func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown"
	}
	switch uint64(st.Type) {
	case 0xEF53:
		return "ext4"
	case 0x01021994:
		return "tmpfs"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x794c7630:
		return "overlayfs"
	}
	return fmt.Sprintf("0x%x", st.Type)
}
