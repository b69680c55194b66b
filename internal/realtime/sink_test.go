package realtime

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// bufSink is a Sink that keeps what it is given. With hold set, its first
// call waits until hold is closed, as a socket that stops taking bytes
// would keep a writer busy.
type bufSink struct {
	mu    sync.Mutex
	calls []string
	hold  chan struct{}
	first chan struct{} // closed when the first call arrives
	once  sync.Once
	ended chan struct{}
}

func newBufSink(hold bool) *bufSink {
	k := &bufSink{first: make(chan struct{}), ended: make(chan struct{})}
	if hold {
		k.hold = make(chan struct{})
	}
	return k
}

func (k *bufSink) Frames(b []byte) {
	wait := false
	k.once.Do(func() { close(k.first); wait = k.hold != nil })
	if wait {
		<-k.hold
	}
	k.mu.Lock()
	k.calls = append(k.calls, string(b))
	k.mu.Unlock()
}

func (k *bufSink) Ended() { close(k.ended) }

// bodies returns the data of every frame received, in order, and the
// number of calls they came in.
func (k *bufSink) bodies() ([]string, int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, c := range k.calls {
		for _, f := range strings.Split(strings.TrimSuffix(c, "\n\n"), "\n\n") {
			_, data, _ := strings.Cut(f, `"data":`)
			out = append(out, strings.TrimSuffix(data, "}"))
		}
	}
	return out, len(k.calls)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("%s: not within 5 s", what)
}

func TestSinkGetsFramesInOrderAndCatchesUpInOneCall(t *testing.T) {
	b := newBroker(t, Options{})
	ctx := context.Background()
	k := newBufSink(true)
	s, err := b.SubscribeSink([]string{"group:1", "account:2"}, "", k)
	if err != nil {
		t.Fatal(err)
	}
	if s.C != nil {
		t.Fatal("a sink subscription has a channel; want none")
	}
	_ = b.Publish(ctx, "group:1", "message", 1)
	<-k.first // the writer is held inside the first call
	for i := 2; i <= 5; i++ {
		topic := "group:1"
		if i%2 == 0 {
			topic = "account:2"
		}
		_ = b.Publish(ctx, topic, "message", i)
		_ = b.Publish(ctx, "group:9", "message", -i) // not subscribed
	}
	close(k.hold)
	waitFor(t, "five frames", func() bool { got, _ := k.bodies(); return len(got) == 5 })
	got, calls := k.bodies()
	if strings.Join(got, " ") != "1 2 3 4 5" {
		t.Fatalf("frames: got %v, want 1 2 3 4 5 in order", got)
	}
	if calls != 2 {
		t.Fatalf("calls: got %d, want 2 (the first, then the four that waited, together)", calls)
	}
}

func TestSinksShareABroadcastAndEachGetsItOnce(t *testing.T) {
	b := newBroker(t, Options{})
	sinks := make([]*bufSink, 50) // more than the writers, so several share one
	for i := range sinks {
		sinks[i] = newBufSink(false)
		if _, err := b.SubscribeSink([]string{"ward:1"}, "", sinks[i]); err != nil {
			t.Fatal(err)
		}
	}
	chanSub, _ := b.Subscribe([]string{"ward:1"}, "")
	for i := 1; i <= 3; i++ {
		_ = b.Publish(context.Background(), "ward:1", "notice", i)
	}
	for i, k := range sinks {
		waitFor(t, fmt.Sprintf("sink %d", i), func() bool { got, _ := k.bodies(); return len(got) >= 3 })
		if got, _ := k.bodies(); strings.Join(got, " ") != "1 2 3" {
			t.Fatalf("sink %d: got %v, want 1 2 3", i, got)
		}
	}
	for i := 1; i <= 3; i++ { // a channel subscriber of the same topic still gets its own
		if ev := recv(t, chanSub); string(ev.Data) != fmt.Sprint(i) {
			t.Fatalf("channel subscriber: got %s, want %d", ev.Data, i)
		}
	}
}

func TestSinkResumesAndIsEndedOnCloseAndShutdown(t *testing.T) {
	b := newBroker(t, Options{})
	ctx := context.Background()
	_ = b.Publish(ctx, "group:1", "message", 1)
	start := b.LastID()
	_ = b.Publish(ctx, "group:1", "message", 2)
	_ = b.Publish(ctx, "group:1", "message", 3)
	k := newBufSink(false)
	s, err := b.SubscribeSink([]string{"group:1"}, start, k)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Resumed || len(s.Replay) != 2 || string(s.Replay[0].Data) != "2" {
		t.Fatalf("resume: got resumed=%v with %d events, want the 2 missed", s.Resumed, len(s.Replay))
	}
	s.Close()
	select {
	case <-k.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("Ended: not called after Close")
	}
	_ = b.Publish(ctx, "group:1", "message", 4)
	time.Sleep(20 * time.Millisecond)
	if got, _ := k.bodies(); len(got) != 0 {
		t.Fatalf("after Close: got %v, want nothing", got)
	}
	k2 := newBufSink(false)
	s2, _ := b.SubscribeSink([]string{"group:1"}, "", k2)
	b.Close()
	select {
	case <-k2.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("Ended: not called when the broker closed")
	}
	select {
	case <-s2.Done():
	default:
		t.Fatal("Done: open after the broker closed")
	}
	if st := b.Stats(); st.Subscribers != 0 {
		t.Fatalf("subscribers after close: got %d, want 0", st.Subscribers)
	}
}
