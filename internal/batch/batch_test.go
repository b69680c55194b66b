package batch

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type item struct {
	n    int
	done chan int // the size of the batch that ran it
}

// TestBatcherRunsEveryItemOnce: many concurrent callers each get their own
// outcome once; batches respect MaxBatch; no more than MaxLeaders run at
// once; and slow batches make later callers share batches.
func TestBatcherRunsEveryItemOnce(t *testing.T) {
	var running, most, batches atomic.Int64
	seen := make([]atomic.Int64, 2000)
	b := &Batcher[*item]{MaxBatch: 16, MaxLeaders: 3, Run: func(batch []*item) {
		if r := running.Add(1); r > most.Load() {
			most.Store(r)
		}
		batches.Add(1)
		if len(batch) > 16 {
			t.Errorf("batch of %d, want at most 16", len(batch))
		}
		time.Sleep(time.Millisecond)
		for _, it := range batch {
			seen[it.n].Add(1)
			it.done <- len(batch)
		}
		running.Add(-1)
	}}
	var wg sync.WaitGroup
	for i := range seen {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			it := &item{n: i, done: make(chan int, 1)}
			b.Add(it)
			<-it.done
		}(i)
	}
	wg.Wait()
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Fatalf("item %d ran %d times, want once", i, n)
		}
	}
	if most.Load() > 3 {
		t.Errorf("%d batches ran at once, want at most 3", most.Load())
	}
	if batches.Load() >= int64(len(seen)) {
		t.Errorf("%d batches for %d items: callers never shared one", batches.Load(), len(seen))
	}
	// A lone caller runs its own item at once.
	it := &item{n: 0, done: make(chan int, 1)}
	b.Add(it)
	select {
	case size := <-it.done:
		if size != 1 {
			t.Errorf("lone caller: batch of %d, want 1", size)
		}
	default:
		t.Fatal("lone caller: Add returned before its item ran")
	}
}
