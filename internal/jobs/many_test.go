package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/jobs"
)

// EnqueueMany writes many jobs in multi-row statements, skipping keys that
// exist (already stored, or twice in the same call), and the jobs run.
func TestEnqueueMany(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		enqueue(t, d, jobs.New{Kind: "many", Key: "k3"})
		var js []jobs.New
		for i := range 70 { // more than one statement's worth
			js = append(js, jobs.New{Kind: "many", Key: fmt.Sprintf("k%d", i), Payload: fmt.Sprint(i)})
		}
		js = append(js, jobs.New{Kind: "many", Key: "k5"}, jobs.New{Kind: "many"}, jobs.New{Kind: "many"}) // a repeat, two without keys
		err := d.Write(ctx, func(tx *db.Tx) error { return jobs.EnqueueMany(ctx, tx, js) })
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Write(ctx, func(tx *db.Tx) error { return jobs.EnqueueMany(ctx, tx, []jobs.New{{Kind: ""}}) }); err == nil {
			t.Error("empty kind: got no error")
		}
		st, err := jobs.Count(ctx, d, "many")
		if err != nil || st.Pending != 72 {
			t.Fatalf("pending: got %+v (%v), want 72 (70 keys + 2 without)", st, err)
		}
		clk := &clock{t: time.Now()}
		q := jobs.NewQueue(d, jobs.Options{Now: clk.Now, Batch: 100})
		var mu sync.Mutex
		ran := map[string]bool{}
		q.Handle("many", func(_ context.Context, j jobs.Job) error { mu.Lock(); ran[j.Key] = true; mu.Unlock(); return nil })
		for range 5 {
			if _, err := q.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if !ran["k0"] || !ran["k69"] || len(ran) != 71 { // 70 keys and ""
			t.Errorf("ran %d distinct keys, want 71", len(ran))
		}
	})
}

// EnqueueNew writes jobs whose keys are new (COPY on PostgreSQL), they run
// at their time, and a key that exists fails the whole transaction rather
// than being skipped — nothing of it is kept.
func TestEnqueueNew(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Now()}
		var js []jobs.New
		for i := range 40 {
			js = append(js, jobs.New{Kind: "new", Key: fmt.Sprintf("n%d", i), Payload: fmt.Sprint(i), RunAt: clk.t.Add(time.Duration(i%2) * time.Hour)})
		}
		if err := d.Write(ctx, func(tx *db.Tx) error { return jobs.EnqueueNew(ctx, tx, js) }); err != nil {
			t.Fatal(err)
		}
		err := d.Write(ctx, func(tx *db.Tx) error {
			if err := jobs.EnqueueNew(ctx, tx, []jobs.New{{Kind: "new", Key: "fresh", RunAt: clk.t}}); err != nil {
				return err
			}
			return jobs.EnqueueNew(ctx, tx, []jobs.New{{Kind: "new", Key: "n7"}})
		})
		if err == nil {
			t.Error("an existing key: got no error")
		}
		st, err := jobs.Count(ctx, d, "new")
		want := 40 // the failed transaction kept nothing, not even "fresh"
		if err != nil || st.Pending != want {
			t.Fatalf("pending: got %+v (%v), want %d", st, err, want)
		}
		q := jobs.NewQueue(d, jobs.Options{Now: clk.Now, Batch: 100})
		var mu sync.Mutex
		ran := map[string]string{}
		q.Handle("new", func(_ context.Context, j jobs.Job) error { mu.Lock(); ran[j.Key] = j.Payload; mu.Unlock(); return nil })
		if _, err := q.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		if _, odd := ran["n1"]; len(ran) != want-20 || ran["n0"] != "0" || ran["n38"] != "38" || odd {
			t.Errorf("ran %v, want the %d due now with their payloads", ran, want-20)
		}
	})
}
