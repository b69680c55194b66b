// Package realtime carries events to open browsers: an in-process broker by
// default, NATS across instances.
//
// A room publishes an event on a topic ("group:7", "account:42",
// "notice:9") after its transaction commits; the web layer subscribes each
// open /events stream to the topics its user may see. Every event this
// instance delivers gets the next number of the instance's sequence and is
// kept in a ring of recent events, so a client that reconnects with its last
// event id is sent exactly what it missed: no gap and no duplicate. When the
// id is from another instance (or a restart) or too old for the ring, the
// subscription says so (Resumed false) and the client reloads its state
// from the database instead.
//
// A subscriber that cannot keep up (its queue is full) is dropped rather
// than allowed to stall the others; its client reconnects and resumes.
package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune New. Zero values pick the defaults.
type Options struct {
	// NATSURL, when set, carries events across instances through NATS.
	NATSURL string
	// Ring is how many recent events are kept for resuming (default 16384).
	Ring int
	// Queue is each subscriber's queue length before it is dropped as too
	// slow (default 128).
	Queue int
	// Logger receives connection problems (default slog.Default()).
	Logger *slog.Logger
}

// Event is one delivered event. Frame is its server-sent-events encoding,
// made once and shared by every subscriber.
type Event struct {
	Seq   uint64
	Topic string
	Name  string
	Data  json.RawMessage
	Frame []byte
}

// Broker fans events out to subscribers. It is safe for concurrent use. A
// nil *Broker must not be called: callers check.
type Broker struct {
	log    *slog.Logger
	epoch  string // names this broker's sequence in event ids
	origin string // names this instance on NATS
	queue  int

	mu     sync.Mutex
	seq    uint64
	ring   []*Event // ring[seq % len] for the newest len(ring) events
	topics map[string]map[*Subscription]struct{}
	closed bool

	bus     bus
	dropped atomic.Int64
	subs    atomic.Int64

	// Sinks' writers (sink.go): staged is filled under mu by deliver and
	// handed to the writers before mu is released.
	writers     []*writer
	staged      [][]delivery
	nextWriter  int
	stopWriters chan struct{}
	writersDone sync.WaitGroup
}

// bus carries events between instances.
type bus interface {
	publish(env envelope) error
	close()
}

// envelope is an event on the bus.
type envelope struct {
	Origin string          `json:"o"`
	Topic  string          `json:"t"`
	Name   string          `json:"e"`
	Data   json.RawMessage `json:"d"`
}

// New returns a broker; with opt.NATSURL it connects to NATS and returns
// the connection error if NATS cannot be reached.
func New(opt Options) (*Broker, error) {
	if opt.Ring <= 0 {
		opt.Ring = 16384
	}
	if opt.Queue <= 0 {
		opt.Queue = 128
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	b := &Broker{
		log: opt.Logger, epoch: randomID(4), origin: randomID(8), queue: opt.Queue,
		ring: make([]*Event, opt.Ring), topics: map[string]map[*Subscription]struct{}{},
	}
	if opt.NATSURL != "" {
		nb, err := connectNATS(opt.NATSURL, b)
		if err != nil {
			return nil, err
		}
		b.bus = nb
	}
	b.startWriters()
	return b, nil
}

func randomID(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("realtime: broker closed")

// Publish sends event with data (JSON-encoded; []byte and json.RawMessage
// are taken as JSON already) to every subscriber of topic on every
// instance. It returns an encoding error, ErrClosed, or the bus's error
// (local subscribers have the event by then).
func (b *Broker) Publish(ctx context.Context, topic, event string, data any) error {
	raw, err := encode(data)
	if err != nil {
		return err
	}
	if !b.deliver(topic, event, raw) {
		return ErrClosed
	}
	if b.bus != nil {
		return b.bus.publish(envelope{Origin: b.origin, Topic: topic, Name: event, Data: raw})
	}
	return nil
}

func encode(data any) (json.RawMessage, error) {
	switch d := data.(type) {
	case json.RawMessage:
		return d, nil
	case []byte:
		return json.RawMessage(d), nil
	case nil:
		return json.RawMessage("null"), nil
	}
	return json.Marshal(data)
}

// deliver numbers the event, keeps it in the ring and queues it for the
// topic's subscribers, all under the lock, so that every subscriber sees
// events in sequence order and a resume point is exact.
func (b *Broker) deliver(topic, name string, data json.RawMessage) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.seq++
	ev := &Event{Seq: b.seq, Topic: topic, Name: name, Data: data}
	ev.Frame = frame(b.epoch, ev)
	b.ring[b.seq%uint64(len(b.ring))] = ev
	sinks := false
	for s := range b.topics[topic] {
		if s.sink != nil {
			b.stageLocked(s, ev)
			sinks = true
			continue
		}
		select {
		case s.ch <- ev:
		default:
			b.dropLocked(s)
		}
	}
	if sinks {
		b.flushStagedLocked()
	}
	return true
}

// frame encodes ev as a server-sent event: the id names the broker and the
// sequence number; data carries the topic beside the payload.
func frame(epoch string, ev *Event) []byte {
	var sb strings.Builder
	sb.Grow(len(ev.Data) + len(ev.Topic) + len(ev.Name) + 64)
	sb.WriteString("id: ")
	sb.WriteString(epoch)
	sb.WriteByte('-')
	sb.WriteString(strconv.FormatUint(ev.Seq, 10))
	sb.WriteString("\nevent: ")
	sb.WriteString(ev.Name)
	sb.WriteString("\ndata: {\"topic\":")
	t, _ := json.Marshal(ev.Topic)
	sb.Write(t)
	sb.WriteString(",\"data\":")
	sb.Write(ev.Data) // JSON has no raw newlines
	sb.WriteString("}\n\n")
	return []byte(sb.String())
}

// Subscription is one open stream's view of the broker. Read events from
// C until it is closed: the subscription ended (Close, dropped as too slow,
// or the broker closed); Done is closed at the same time. A subscription
// made by SubscribeSink has no C: its events go to its Sink.
type Subscription struct {
	ch     chan *Event
	C      <-chan *Event
	done   chan struct{}
	topics []string
	// Replay holds the events missed since the last event id given to
	// Subscribe, oldest first; send them before reading C.
	Replay []*Event
	// Resumed is false when a last event id was given but its events can
	// no longer be replayed (another instance, a restart, or too old): the
	// client must reload its state.
	Resumed bool
	// Start is the id of the newest event when the subscription began: a
	// resume point for a client that has received nothing yet.
	Start string
	b     *Broker
	once  sync.Once

	// A sink subscription's (SubscribeSink): its writer's index, the
	// events that writer is gathering for it (the writer's alone), and
	// whether it has ended.
	sink    Sink
	writer  int
	pending []*Event
	ended   atomic.Bool
}

// Done is closed when the subscription ends.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Close ends the subscription.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	s.b.dropLocked(s)
	s.b.mu.Unlock()
}

func (b *Broker) dropLocked(s *Subscription) {
	s.once.Do(func() {
		for _, t := range s.topics {
			if m := b.topics[t]; m != nil {
				delete(m, s)
				if len(m) == 0 {
					delete(b.topics, t)
				}
			}
		}
		close(s.done)
		if s.sink != nil {
			s.ended.Store(true)
			s.sink.Ended()
		} else {
			close(s.ch) // every send happens under b.mu, as this does
		}
		b.subs.Add(-1)
		if !b.closed {
			b.dropped.Add(1)
		}
	})
}

// Subscribe opens a subscription to topics. lastID is the client's
// Last-Event-ID ("" for a fresh stream): the events after it are in
// Replay, and live events follow on C with no gap and no duplicate.
func (b *Broker) Subscribe(topics []string, lastID string) (*Subscription, error) {
	return b.subscribe(topics, lastID, nil)
}

func (b *Broker) subscribe(topics []string, lastID string, k Sink) (*Subscription, error) {
	s := &Subscription{done: make(chan struct{}), topics: dedupe(topics), b: b, Resumed: true, sink: k}
	if k == nil {
		s.ch = make(chan *Event, b.queue)
		s.C = s.ch
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if k != nil {
		s.writer = b.nextWriter
		b.nextWriter = (b.nextWriter + 1) % len(b.writers)
	}
	if lastID != "" {
		s.Replay, s.Resumed = b.replayLocked(lastID, s.topics)
	}
	s.Start = b.epoch + "-" + strconv.FormatUint(b.seq, 10)
	for _, t := range s.topics {
		m := b.topics[t]
		if m == nil {
			m = map[*Subscription]struct{}{}
			b.topics[t] = m
		}
		m[s] = struct{}{}
	}
	b.subs.Add(1)
	return s, nil
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, t := range in {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// replayLocked returns the ring's events after lastID on the topics, and
// whether lastID could be resumed at all.
func (b *Broker) replayLocked(lastID string, topics []string) ([]*Event, bool) {
	epoch, num, ok := strings.Cut(lastID, "-")
	if !ok || epoch != b.epoch {
		return nil, false
	}
	last, err := strconv.ParseUint(num, 10, 64)
	if err != nil || last > b.seq {
		return nil, false
	}
	n := uint64(len(b.ring))
	if b.seq-last > n { // the ring has wrapped past the client
		return nil, false
	}
	want := make(map[string]bool, len(topics))
	for _, t := range topics {
		want[t] = true
	}
	var out []*Event
	for q := last + 1; q <= b.seq; q++ {
		if ev := b.ring[q%n]; ev != nil && ev.Seq == q && want[ev.Topic] {
			out = append(out, ev)
		}
	}
	return out, true
}

// LastID returns the id of the newest event, for a client that starts
// from now.
func (b *Broker) LastID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.epoch + "-" + strconv.FormatUint(b.seq, 10)
}

// Stats are the broker's counters.
type Stats struct {
	Subscribers int64 `json:"subscribers"`
	Dropped     int64 `json:"dropped"`
	Sequence    uint64
}

// Stats returns the broker's counters.
func (b *Broker) Stats() Stats {
	b.mu.Lock()
	seq := b.seq
	b.mu.Unlock()
	return Stats{Subscribers: b.subs.Load(), Dropped: b.dropped.Load(), Sequence: seq}
}

// Close ends every subscription (their streams finish, so a server can shut
// down) and disconnects from NATS.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	for _, m := range b.topics {
		for s := range m {
			b.dropLocked(s)
		}
	}
	b.mu.Unlock()
	close(b.stopWriters)
	b.writersDone.Wait()
	if b.bus != nil {
		b.bus.close()
	}
	return nil
}

// Heartbeat is how often an idle stream should send a comment line, so
// proxies and phones keep the connection open.
const Heartbeat = 25 * time.Second
