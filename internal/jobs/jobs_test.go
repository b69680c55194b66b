package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/jobs"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func enqueue(t *testing.T, d *db.DB, j jobs.New) bool {
	t.Helper()
	var ok bool
	err := d.Write(context.Background(), func(tx *db.Tx) error {
		var err error
		ok, err = jobs.Enqueue(context.Background(), tx, j)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestEnqueueKeyIsUnique(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if !enqueue(t, d, jobs.New{Kind: "deadline", Key: "req-1"}) {
			t.Fatal("first enqueue: got false, want true")
		}
		if enqueue(t, d, jobs.New{Kind: "deadline", Key: "req-1"}) {
			t.Fatal("same key again: got true, want false")
		}
		if !enqueue(t, d, jobs.New{Kind: "other", Key: "req-1"}) {
			t.Fatal("same key, other kind: got false, want true")
		}
	})
}

func TestRetryWithBackoffThenDone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Now()}
		q := jobs.NewQueue(d, jobs.Options{Now: clk.Now})
		var calls atomic.Int32
		q.Handle("flaky", func(ctx context.Context, j jobs.Job) error {
			if calls.Add(1) < 3 {
				return errors.New("gateway down")
			}
			return nil
		})
		enqueue(t, d, jobs.New{Kind: "flaky", RunAt: clk.Now()})
		for i := 0; i < 3; i++ {
			n, err := q.RunDue(ctx)
			if err != nil || n != 1 {
				t.Fatalf("pass %d: got %d jobs, err %v; want 1", i+1, n, err)
			}
			if n, _ := q.RunDue(ctx); n != 0 {
				t.Fatalf("pass %d: a failed job ran again before its backoff", i+1)
			}
			clk.Add(jobs.Backoff(i + 1))
		}
		st, err := jobs.Count(ctx, d, "flaky")
		if err != nil {
			t.Fatal(err)
		}
		if st != (jobs.Stats{Done: 1}) || calls.Load() != 3 {
			t.Fatalf("got %+v after %d calls, want 1 done after 3", st, calls.Load())
		}
	})
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Now()}
		q := jobs.NewQueue(d, jobs.Options{Now: clk.Now})
		q.Handle("doomed", func(ctx context.Context, j jobs.Job) error { return errors.New("no") })
		enqueue(t, d, jobs.New{Kind: "doomed", MaxAttempts: 2, RunAt: clk.Now()})
		for i := 0; i < 4; i++ {
			if _, err := q.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Hour)
		}
		st, _ := jobs.Count(ctx, d, "doomed")
		if st != (jobs.Stats{Failed: 1}) {
			t.Fatalf("got %+v, want 1 failed", st)
		}
	})
}

// Two instances share the table: every job runs exactly once, and a job
// whose worker died (lease never released) runs again after the lease.
func TestTwoInstancesRunEachJobOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Now()}
		const n = 200
		for i := 0; i < n; i++ {
			enqueue(t, d, jobs.New{Kind: "work", RunAt: clk.Now()})
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		h := func(ctx context.Context, tx *db.Tx, j jobs.Job) error {
			mu.Lock()
			seen[j.ID]++
			mu.Unlock()
			return nil
		}
		a := jobs.NewQueue(d, jobs.Options{Now: clk.Now, Batch: 16})
		b := jobs.NewQueue(d, jobs.Options{Now: clk.Now, Batch: 16})
		a.HandleTx("work", h)
		b.HandleTx("work", h)
		var wg sync.WaitGroup
		for _, q := range []*jobs.Queue{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k, err := q.RunDue(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if k == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("jobs run: got %d, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("job %d ran %d times, want once", id, c)
			}
		}

		// A worker that claims a job and hangs (or dies): after the lease
		// another instance takes the job over, and the late worker cannot
		// mark it done a second time.
		enqueue(t, d, jobs.New{Kind: "orphan", RunAt: clk.Now()})
		claimed, release := make(chan struct{}), make(chan struct{})
		dead := jobs.NewQueue(d, jobs.Options{Now: clk.Now, Lease: time.Minute})
		dead.Handle("orphan", func(ctx context.Context, j jobs.Job) error {
			close(claimed)
			<-release
			return nil
		})
		deadDone := make(chan struct{})
		go func() { defer close(deadDone); _, _ = dead.RunDue(ctx) }()
		<-claimed
		alive := jobs.NewQueue(d, jobs.Options{Now: clk.Now})
		var ran atomic.Int32
		alive.Handle("orphan", func(ctx context.Context, j jobs.Job) error { ran.Add(1); return nil })
		if k, _ := alive.RunDue(ctx); k != 0 {
			t.Fatalf("while leased: another instance ran %d jobs, want 0", k)
		}
		clk.Add(time.Minute + time.Second)
		if _, err := alive.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		close(release)
		<-deadDone
		st, _ := jobs.Count(ctx, d, "orphan")
		if ran.Load() != 1 || st != (jobs.Stats{Done: 1}) {
			t.Fatalf("orphaned job after its lease: ran %d times, %+v; want once, 1 done", ran.Load(), st)
		}
	})
}
