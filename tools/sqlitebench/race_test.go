package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestRaceSmoke runs a small version of the product's concurrency pattern
// (group-commit writer + read pool) for every driver compiled in. It is what
// the build facts time under `go test -race`:
//
//	go test -race -run 'TestRaceSmoke/modernc' .
//	CGO_ENABLED=1 go test -race -tags mattn -run 'TestRaceSmoke/mattn' .
func TestRaceSmoke(t *testing.T) {
	for _, name := range driverNames() {
		t.Run(name, func(t *testing.T) {
			d := drivers[name]
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "race.db")
			w, err := sql.Open(d.SQLName, d.DSN(path, true))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			w.SetMaxOpenConns(1)
			r, err := sql.Open(d.SQLName, d.DSN(path, false))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			r.SetMaxOpenConns(4)
			b := &bench{w: w, r: r, dur: time.Second}
			if err := b.createTable(ctx, "people"); err != nil {
				t.Fatal(err)
			}
			if _, err := b.bulkInsert(ctx, "people", 2000); err != nil {
				t.Fatal(err)
			}
			gc := newGroupCommitter(w)
			st, err := w.Prepare(fmt.Sprintf(insertSQL, "people"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var wg sync.WaitGroup
			for g := 0; g < 16; g++ {
				wg.Add(2)
				go func() { // writers
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 1))
					for i := 0; i < 50; i++ {
						x := genRow(rng, int64(i))
						if err := gc.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
							_, err := tx.StmtContext(ctx, st).ExecContext(ctx, x.unitPath, x.name, x.nameFold, x.phone, x.createdAt)
							return err
						}); err != nil {
							t.Error(err)
							return
						}
					}
				}()
				go func() { // readers
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 2))
					for i := 0; i < 500; i++ {
						var n string
						if err := r.QueryRowContext(ctx, "SELECT name FROM people WHERE id = ?", 1+rng.IntN(2000)).Scan(&n); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			gc.Close()
			var n int
			if err := r.QueryRow("SELECT count(*) FROM people").Scan(&n); err != nil || n != 2000+16*50 {
				t.Fatalf("count = %d, %v; want %d", n, err, 2000+16*50)
			}
		})
	}
}
