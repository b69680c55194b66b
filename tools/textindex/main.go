// Command textindex measures a candidate for the requests' search index:
// SQLite's FTS5 over 1,000,000 synthetic requests, one row a request of its
// indexed words plus one token per unit of its path (province, ward, khu
// phố, tổ), so that a unit bound is one more word of the match. It prints
// the cost of building the index in transactions of 512 requests and the
// time of the search shapes `trothu bench search` times, newest first,
// within the newest three quarters of the ids (a recency bound), 200 runs
// each. With -postgres it measures the same on PostgreSQL: a text[] column
// of the same words under a GIN index with its pending list, in a schema of
// its own that it drops. See docs/BENCHMARKS.md, "What the search postings
// cost".
//
//	cd tools/textindex && go run . [-requests 1000000] [-runs 200] [-postgres URL]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"
)

// The words and streets of the search bench (cmd/trothu/bench_search.go),
// folded.
var (
	words   = []string{"den duong", "rac thai", "ngap nuoc", "xay dung", "lan chiem", "via he", "tieng on", "karaoke", "cong", "o ga", "cay xanh", "xe may", "hem", "cho", "bai giu xe", "nuoc thai", "mui hoi", "trat tu", "an ninh", "giay phep"}
	streets = []string{"le loi", "nguyen hue", "le thanh ton", "nguyen trai", "pham ngu lao", "bui vien", "de tham", "cong quynh", "tran hung dao", "hai ba trung"}
)

// doc returns request i's row: its words, then its units — the province
// u1, ward u1000+w of 100, khu phố u2000+… (2 a ward), tổ u3000+… (3 a
// khu phố).
func doc(i int) string {
	w := i % 100
	kp := w*2 + i/100%2
	to := kp*3 + i/200%3
	return fmt.Sprintf("%s %s %d %s khac u1 u%d u%d u%d", words[i%len(words)], words[i*7%len(words)], 1+i*13%300, streets[i*3%len(streets)], 1000+w, 2000+kp, 3000+to)
}

func main() {
	n := flag.Int("requests", 1000000, "requests indexed")
	runs := flag.Int("runs", 200, "timed runs of each search")
	pg := flag.String("postgres", "", "also measure GIN on this PostgreSQL database (URL)")
	flag.Parse()
	if *pg != "" {
		if err := measurePostgres(*pg, *n, *runs); err != nil {
			log.Fatal(err)
		}
	}
	dir, err := os.MkdirTemp("", "textindex-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for i, v := range []struct{ name, opts string }{
		{"FTS5", ""},
		{"FTS5 with 2- and 3-letter prefix indexes", ", prefix='2 3'"},
	} {
		if err := measure(filepath.Join(dir, fmt.Sprintf("fts%d.db", i)), v.name, v.opts, *n, *runs); err != nil {
			log.Fatal(err)
		}
	}
}

func measure(path, name, opts string, n, runs int) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32000)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE VIRTUAL TABLE t USING fts5(words, content='', contentless_delete=1, detail=none" + opts + ")"); err != nil {
		return err
	}
	t0 := time.Now()
	const batch = 512
	for k := 0; k < n; k += batch {
		var sb strings.Builder
		sb.WriteString("INSERT INTO t(rowid, words) VALUES ")
		var args []any
		for i := k; i < min(k+batch, n); i++ {
			if i > k {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?)")
			args = append(args, i+1, doc(i))
		}
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(sb.String(), args...); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	indexed(name, n, time.Since(t0))
	for _, q := range searches {
		err := timeSearch(q.name, runs, func() (int, error) {
			rows, err := db.Query("SELECT rowid FROM t WHERE t MATCH ? AND rowid > ? ORDER BY rowid DESC LIMIT 50", q.match, n/4)
			if err != nil {
				return 0, err
			}
			found := 0
			for rows.Next() {
				found++
			}
			return found, rows.Close()
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// searches are the shapes timed, as FTS5 matches.
var searches = []struct{ name, match string }{
	{"ward, rare word", "karaoke AND u1007"},
	{"tổ, rare word", "karaoke AND u3042"},
	{"province, rare word", "karaoke AND u1"},
	{"province, house number", "137 AND u1"},
	{"ward, two words, none in the ward", "rac AND thai AND u1042"},
	{"province, two streets that never meet", "thanh AND vien AND u1"},
	{"ward, prefix", "ngu* AND u1007"},
	{"province, prefix", "ngu* AND u1"},
	{"ward, 4-letter prefix", "nguy* AND u1007"},
	{"province, 4-letter prefix", "nguy* AND u1"},
}

// timeSearch runs search runs times and prints how many it found and the
// p50, p95 and slowest of its times.
func timeSearch(name string, runs int, search func() (found int, err error)) error {
	ds := make([]time.Duration, runs)
	var found int
	for r := range ds {
		t := time.Now()
		var err error
		if found, err = search(); err != nil {
			return err
		}
		ds[r] = time.Since(t)
	}
	slices.Sort(ds)
	fmt.Printf("  %-40s %2d found  p50 %6.2f ms  p95 %6.2f ms  max %6.2f ms\n", name, found,
		ms(ds[runs/2]), ms(ds[runs*95/100]), ms(ds[runs-1]))
	return nil
}

// indexed prints what indexing n requests took.
func indexed(name string, n int, took time.Duration) {
	fmt.Printf("%s: %d requests indexed in %.1f s, %.1f µs a request\n", name, n, took.Seconds(), float64(took.Microseconds())/float64(n))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// measurePostgres indexes and searches the same requests on PostgreSQL.
// A GIN index over text[] has no prefix search: a prefix is expanded to
// the words it starts (here nguyen and ngu), as the search planner does.
func measurePostgres(url string, n, runs int) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	const schema = "textindex_bench"
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE; CREATE SCHEMA "+schema+"; SET search_path = "+schema); err != nil {
		return err
	}
	defer conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id BIGINT PRIMARY KEY, words TEXT[] NOT NULL); CREATE INDEX t_words ON t USING gin (words) WITH (fastupdate = on)"); err != nil {
		return err
	}
	t0 := time.Now()
	const batch = 512
	for k := 0; k < n; k += batch {
		rows := make([][]any, 0, batch)
		for i := k; i < min(k+batch, n); i++ {
			rows = append(rows, []any{int64(i + 1), strings.Fields(doc(i))})
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"id", "words"}, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
	}
	indexed("PostgreSQL GIN", n, time.Since(t0))
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE t"); err != nil {
		return err
	}
	for _, q := range searches {
		all, some := []string{}, []string{}
		for _, w := range strings.Fields(q.match) {
			switch {
			case w == "AND":
			case strings.HasSuffix(w, "*"):
				some = []string{"nguyen", "ngu"}
			default:
				all = append(all, w)
			}
		}
		sql := "SELECT id FROM t WHERE words @> $1 AND id > $2"
		args := []any{all, int64(n / 4)}
		if len(some) > 0 {
			sql += " AND words && $3"
			args = append(args, some)
		}
		sql += " ORDER BY id DESC LIMIT 50"
		err := timeSearch(q.name, runs, func() (int, error) {
			rows, err := conn.Query(ctx, sql, args...)
			if err != nil {
				return 0, err
			}
			found := 0
			for rows.Next() {
				found++
			}
			rows.Close()
			return found, rows.Err()
		})
		if err != nil {
			return err
		}
	}
	return nil
}
