package request

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

// BenchmarkIndexTerms times indexing a typical report on its own, as a
// re-route or a re-index does (searchIndex.replace: its search_fold and
// index entries), 64 a transaction as under group commit. New requests
// are indexed many at once by the indexer (BenchmarkWritePostings).
//
//	go test -run '^$' -bench BenchmarkIndexTerms -benchtime 20000x ./internal/request/
func BenchmarkIndexTerms(b *testing.B) {
	const text = "Nhà số 14 hẻm 42 Lê Lợi đang đổ sàn tầng 4, không có giấy phép, tiếng ồn từ 6 giờ sáng đến 10 giờ đêm, đề nghị phường kiểm tra xử lý. 14 Lê Lợi Xây dựng trái phép, sai phép"
	for _, e := range []db.Dialect{db.SQLite, db.Postgres} {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.Open(b, e)
			ctx := context.Background()
			index := indexFor(e, &vocab{})
			b.ResetTimer()
			for i := 0; i < b.N; i += 64 {
				err := d.Write(ctx, func(tx *db.Tx) error {
					for j := i; j < min(i+64, b.N); j++ {
						fold := searchFold(text)
						p := posting{id: int64(j + 1), created: int64(j), path: fmt.Sprintf("/1/2/%d/", j%100), terms: postedTerms(fold)}
						if err := index.replace(ctx, tx, []posting{p}, nil); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWritePostings times the indexer's writes: the postings of 512
// new requests of the intake bench's kind (six terms each, none common),
// sorted by term, in one transaction, into a table that grows as the run
// goes on. On PostgreSQL it compares COPY (what the indexer uses) with
// multi-row INSERTs of 1,024 rows.
//
//	go test -run '^$' -bench BenchmarkWritePostings -benchtime 100x ./internal/request/
func BenchmarkWritePostings(b *testing.B) {
	words := []string{"den duong", "rac thai", "ngap nuoc", "lan chiem", "via he", "tieng on", "karaoke", "cong", "o ga", "cay xanh", "hem", "cho", "mui hoi", "giay phep"}
	streets := []string{"le loi", "nguyen hue", "le thanh ton", "nguyen trai", "pham ngu lao", "bui vien", "de tham", "cong quynh"}
	// fold is request k's search_fold.
	fold := func(k int) string {
		return fmt.Sprintf(" %s %s truoc nha so %d duong %s gop y kien nghi khac ", words[k%len(words)], words[k*7%len(words)], 1+k*13%300, streets[k*3%len(streets)])
	}
	run := func(b *testing.B, e db.Dialect) {
		d := dbtest.Open(b, e)
		ctx := context.Background()
		id := int64(0)
		b.ResetTimer()
		for range b.N {
			ps := make([]posting, 512)
			for i := range ps {
				id++
				k := int(id)
				ps[i] = posting{id: id, created: id, path: fmt.Sprintf("/1/%d/%d/", k%63, k%3000), terms: postedTerms(fold(k))}
			}
			if err := d.Write(ctx, func(tx *db.Tx) error { return insertNewPostings(ctx, tx, ps) }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(id), "ns/request")
	}
	plain := func(b *testing.B, e db.Dialect) {
		bulkPostings = false
		defer func() { bulkPostings = true }()
		run(b, e)
	}
	// A candidate the product does not use (yet): the engines' own text
	// indexes, which buffer a transaction's entries and write them as
	// sorted runs — SQLite's FTS5 (contentless, no positions) and a GIN
	// index with its pending list on PostgreSQL. Each request is one row
	// of its posted words plus a token per unit of its path, so that a
	// unit bound is one more word of the match (docs/BENCHMARKS.md, "What
	// the search postings cost").
	candidate := func(b *testing.B, e db.Dialect) {
		d := dbtest.Open(b, e)
		ctx := context.Background()
		ddl := []string{"CREATE VIRTUAL TABLE bench_text USING fts5(words, content='', columnsize=0, detail=none)"}
		cols := []string{"rowid", "words"}
		if e == db.Postgres {
			ddl = []string{"CREATE TABLE bench_text (id BIGINT PRIMARY KEY, words TEXT[] NOT NULL)",
				"CREATE INDEX bench_text_words ON bench_text USING gin (words) WITH (fastupdate = on)"}
			cols[0] = "id"
		}
		if err := d.Write(ctx, func(tx *db.Tx) error {
			for _, q := range ddl {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		id := int64(0)
		b.ResetTimer()
		for range b.N {
			rows := make([][]any, 512)
			for i := range rows {
				id++
				k := int(id)
				terms := append(postedTerms(fold(k)), "u1", fmt.Sprintf("u%d", k%63), fmt.Sprintf("u%d", k%3000))
				if e == db.Postgres {
					rows[i] = []any{id, terms}
				} else {
					rows[i] = []any{id, strings.Join(terms, " ")}
				}
			}
			if err := d.Write(ctx, func(tx *db.Tx) error { return tx.InsertNew(ctx, "bench_text", cols, rows) }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(id), "ns/request")
	}
	b.Run("sqlite/or-fail", func(b *testing.B) { run(b, db.SQLite) })
	b.Run("sqlite/insert", func(b *testing.B) { plain(b, db.SQLite) })
	b.Run("sqlite/fts5", func(b *testing.B) { candidate(b, db.SQLite) })
	b.Run("postgres/copy", func(b *testing.B) { run(b, db.Postgres) })
	b.Run("postgres/insert", func(b *testing.B) { plain(b, db.Postgres) })
	b.Run("postgres/gin", func(b *testing.B) { candidate(b, db.Postgres) })
}
