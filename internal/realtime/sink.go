package realtime

import (
	"runtime"
	"sync"
)

// A Sink takes a subscription's frames straight from the broker's writer
// goroutines, for a stream that can write without blocking (a raw socket):
// an event then costs its write and no goroutine wake-up per subscriber.
// Subscribe's channel stays for everything else.
type Sink interface {
	// Frames receives one or more whole frames, in sequence order, from
	// one writer goroutine at a time. It must not block: a sink that
	// cannot write now keeps the bytes for later, or, when too far behind,
	// ends its stream (the client reconnects and resumes). It must not
	// call the broker.
	Frames(b []byte)
	// Ended is called once when the subscription ends (closed, dropped or
	// the broker closed), with the broker's lock held: it must not call
	// the broker or wait for anything that does.
	Ended()
}

// SubscribeSink is Subscribe for a Sink: the events after lastID come in
// Replay as with Subscribe, and the live ones go to k's Frames. C is nil.
func (b *Broker) SubscribeSink(topics []string, lastID string, k Sink) (*Subscription, error) {
	return b.subscribe(topics, lastID, k)
}

// writer is one of the goroutines that hand events to sinks. Every
// subscription keeps one writer, so its frames stay in sequence order.
type writer struct {
	mu   sync.Mutex
	q    []delivery
	wake chan struct{} // one-buffered: there is work in q
}

// writersPerProc is how many writers there are per processor.
const writersPerProc = 4

type delivery struct {
	s  *Subscription
	ev *Event
}

// startWriters starts the writers: a broadcast's writes are spread over
// every core instead of waiting on the publisher's. There are a few per
// processor, so the scheduler can even out a broadcast when one core is
// busy with something else (a fixed half each would wait for the slower).
func (b *Broker) startWriters() {
	b.writers = make([]*writer, writersPerProc*max(1, runtime.GOMAXPROCS(0)))
	b.staged = make([][]delivery, len(b.writers))
	b.stopWriters = make(chan struct{})
	for i := range b.writers {
		w := &writer{wake: make(chan struct{}, 1)}
		b.writers[i] = w
		b.writersDone.Add(1)
		go func() {
			defer b.writersDone.Done()
			w.run(b.stopWriters)
		}()
	}
}

// stageLocked queues ev for sink subscription s; flushStagedLocked hands
// the staged deliveries to their writers, each writer's lock taken once.
func (b *Broker) stageLocked(s *Subscription, ev *Event) {
	b.staged[s.writer] = append(b.staged[s.writer], delivery{s, ev})
}

func (b *Broker) flushStagedLocked() {
	for i, ds := range b.staged {
		if len(ds) == 0 {
			continue
		}
		w := b.writers[i]
		w.mu.Lock()
		w.q = append(w.q, ds...)
		w.mu.Unlock()
		clear(ds)
		b.staged[i] = ds[:0]
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// run writes queued events until stop closes. The events a subscription
// has waiting in one turn go to its sink in one call, so a client that
// fell behind catches up in one write instead of one per event.
func (w *writer) run(stop <-chan struct{}) {
	var batch []delivery
	var touched []*Subscription
	var buf []byte
	for {
		select {
		case <-w.wake:
		case <-stop:
			return
		}
		w.mu.Lock()
		batch, w.q = w.q, batch[:0]
		w.mu.Unlock()
		for _, d := range batch {
			s := d.s
			if s.ended.Load() {
				continue
			}
			if len(s.pending) == 0 {
				touched = append(touched, s)
			}
			s.pending = append(s.pending, d.ev)
		}
		for _, s := range touched {
			if len(s.pending) == 1 {
				s.sink.Frames(s.pending[0].Frame)
			} else {
				buf = buf[:0]
				for _, ev := range s.pending {
					buf = append(buf, ev.Frame...)
				}
				s.sink.Frames(buf)
			}
			clear(s.pending)
			s.pending = s.pending[:0]
			if cap(s.pending) > 64 {
				s.pending = nil // a burst is over: do not keep its room per stream
			}
		}
		clear(batch)
		clear(touched)
		touched = touched[:0]
	}
}
