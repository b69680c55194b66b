package db_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

// BenchmarkWrite measures durable single-row writes through db.Write:
// "serial" is one writer at a time (one commit, one fsync per write);
// "parallel" runs 64 writers per core, which group commit folds into shared
// commits. On SQLite every commit is synchronous=FULL.
//
//	go test -run '^$' -bench BenchmarkWrite -benchtime 3s ./internal/db/
func BenchmarkWrite(b *testing.B) {
	for _, e := range []db.Dialect{db.SQLite, db.Postgres} {
		for _, mode := range []string{"serial", "parallel"} {
			b.Run(fmt.Sprintf("%s/%s", e, mode), func(b *testing.B) {
				d := dbtest.Open(b, e)
				ctx := context.Background()
				var n atomic.Int64
				write := func() error {
					k := n.Add(1)
					return d.Write(ctx, func(tx *db.Tx) error {
						_, err := tx.Exec(ctx, "INSERT INTO settings(key, value) VALUES (?, ?)", fmt.Sprintf("k%d", k), "v")
						return err
					})
				}
				b.ResetTimer()
				if mode == "serial" {
					for b.Loop() {
						if err := write(); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism(64)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := write(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
		}
	}
}
