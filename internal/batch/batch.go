// Package batch runs the work of concurrent callers together, a batch at
// a time, for the paths where one statement for many callers beats a
// statement each (group commit above the database: acknowledgements,
// request intake, session lookups on a database server).
//
// There is no goroutine of its own: a caller that finds fewer than
// MaxLeaders callers already running batches runs batches itself until
// nothing is pending, so a lone caller waits for nobody, and under load
// the items that arrive while a batch runs form the next one.
package batch

import (
	"runtime"
	"sync"
)

// Leaders is a MaxLeaders for work that is mostly waiting on a database
// on the same machine: one batch in flight per two processors. Fewer
// batches in flight make each one larger, and on two cores one leader
// carried more than four (PostgreSQL acknowledgements 8,000–8,700/s with
// four, 11,700–12,900/s with one; docs/BENCHMARKS.md).
func Leaders() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// Batcher queues items and runs them in batches through Run. The zero
// value is not usable: set Run, MaxBatch and MaxLeaders.
type Batcher[T any] struct {
	// Run handles one batch; it must tell each item's caller the outcome
	// (items usually carry a channel to close).
	Run func(batch []T)
	// MaxBatch bounds a batch; MaxLeaders bounds how many callers run
	// batches at once.
	MaxBatch, MaxLeaders int

	mu      sync.Mutex
	pending []T
	leaders int
}

// Add queues item and, if fewer than MaxLeaders callers are running
// batches, runs batches until none is pending. It returns without waiting
// for item's own outcome when another caller runs its batch.
func (b *Batcher[T]) Add(item T) {
	b.mu.Lock()
	b.pending = append(b.pending, item)
	lead := b.leaders < b.MaxLeaders
	if lead {
		b.leaders++
	}
	b.mu.Unlock()
	for lead {
		b.mu.Lock()
		if len(b.pending) == 0 {
			b.leaders--
			b.mu.Unlock()
			return
		}
		n := min(len(b.pending), b.MaxBatch)
		batch := append([]T(nil), b.pending[:n]...)
		b.pending = b.pending[n:]
		b.mu.Unlock()
		b.Run(batch)
	}
}
