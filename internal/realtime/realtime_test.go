package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func newBroker(t *testing.T, opt Options) *Broker {
	t.Helper()
	b, err := New(opt)
	if err != nil {
		t.Fatalf("new broker: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func recv(t *testing.T, s *Subscription) *Event {
	t.Helper()
	select {
	case ev := <-s.C:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
		return nil
	}
}

func TestPublishReachesTopicSubscribersOnly(t *testing.T) {
	b := newBroker(t, Options{})
	a, _ := b.Subscribe([]string{"group:1", "account:7"}, "")
	other, _ := b.Subscribe([]string{"group:2"}, "")
	ctx := context.Background()
	if err := b.Publish(ctx, "group:1", "message", map[string]any{"id": 5, "body": "Xin chào"}); err != nil {
		t.Fatal(err)
	}
	ev := recv(t, a)
	if ev.Topic != "group:1" || ev.Name != "message" {
		t.Fatalf("got %s %s, want group:1 message", ev.Topic, ev.Name)
	}
	f := string(ev.Frame)
	if !strings.HasPrefix(f, "id: "+b.epoch+"-1\nevent: message\ndata: ") || !strings.HasSuffix(f, "\n\n") {
		t.Fatalf("frame: got %q", f)
	}
	var payload struct {
		Topic string
		Data  struct{ Body string }
	}
	data := strings.TrimSuffix(strings.SplitN(f, "data: ", 2)[1], "\n\n")
	if err := json.Unmarshal([]byte(data), &payload); err != nil || payload.Data.Body != "Xin chào" || payload.Topic != "group:1" {
		t.Fatalf("frame data: got %q (%v), want topic and body", data, err)
	}
	select {
	case ev := <-other.C:
		t.Fatalf("subscriber of group:2 got %s", ev.Topic)
	default:
	}
}

func TestResumeHasNoGapAndNoDuplicate(t *testing.T) {
	b := newBroker(t, Options{Ring: 64})
	ctx := context.Background()
	s, _ := b.Subscribe([]string{"group:1"}, "")
	for i := 1; i <= 3; i++ {
		_ = b.Publish(ctx, "group:1", "message", i)
	}
	var last *Event
	for i := 0; i < 3; i++ {
		last = recv(t, s)
	}
	s.Close() // the network drops
	for i := 4; i <= 8; i++ {
		_ = b.Publish(ctx, "group:1", "message", i)
		_ = b.Publish(ctx, "group:2", "message", i) // not subscribed
	}
	lastID := fmt.Sprintf("%s-%d", b.epoch, last.Seq)
	s2, err := b.Subscribe([]string{"group:1"}, lastID)
	if err != nil {
		t.Fatal(err)
	}
	if !s2.Resumed {
		t.Fatal("resumed: got false, want true")
	}
	_ = b.Publish(ctx, "group:1", "message", 9)
	var got []string
	for _, ev := range s2.Replay {
		got = append(got, string(ev.Data))
	}
	got = append(got, string(recv(t, s2).Data))
	if want := "4 5 6 7 8 9"; strings.Join(got, " ") != want {
		t.Fatalf("after resume: got %v, want %s", got, want)
	}
}

func TestResumeTooOldOrForeignAsksForReload(t *testing.T) {
	b := newBroker(t, Options{Ring: 4})
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		_ = b.Publish(ctx, "group:1", "message", i)
	}
	for _, id := range []string{b.epoch + "-2", "other-9", "garbage", b.epoch + "-99"} {
		s, _ := b.Subscribe([]string{"group:1"}, id)
		if s.Resumed || len(s.Replay) != 0 {
			t.Errorf("resume from %s: got resumed=%v with %d events, want a reload", id, s.Resumed, len(s.Replay))
		}
		s.Close()
	}
	s, _ := b.Subscribe([]string{"group:1"}, b.epoch+"-7")
	if !s.Resumed || len(s.Replay) != 3 {
		t.Errorf("resume from 7 of 10 with a ring of 4: got resumed=%v with %d events, want 3", s.Resumed, len(s.Replay))
	}
}

func TestSlowSubscriberIsDroppedOthersGoOn(t *testing.T) {
	b := newBroker(t, Options{Queue: 4})
	ctx := context.Background()
	slow, _ := b.Subscribe([]string{"group:1"}, "")
	fast, _ := b.Subscribe([]string{"group:1"}, "")
	for i := 0; i < 20; i++ {
		if err := b.Publish(ctx, "group:1", "message", i); err != nil {
			t.Fatal(err)
		}
		recv(t, fast)
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow subscriber: got still subscribed, want dropped")
	}
	select {
	case <-fast.Done():
		t.Fatal("fast subscriber: got dropped, want still subscribed")
	default:
	}
	if st := b.Stats(); st.Dropped != 1 || st.Subscribers != 1 {
		t.Fatalf("stats: got %+v, want 1 dropped and 1 subscriber", st)
	}
	// The dropped subscriber's queue still holds what it had, then is closed,
	// so a reader waiting on C alone learns that it ended.
	n := 0
	for range slow.C {
		n++
	}
	if n != 4 {
		t.Fatalf("slow subscriber's queue: got %d events before the close, want 4", n)
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	b := newBroker(t, Options{})
	s, _ := b.Subscribe([]string{"account:1"}, "")
	b.Close()
	select {
	case <-s.Done():
	case <-time.After(time.Second):
		t.Fatal("subscription: got open after Close, want done")
	}
	if ev, ok := <-s.C; ok {
		t.Fatalf("queue after Close: got %v, want it closed", ev)
	}
	if err := b.Publish(context.Background(), "account:1", "x", nil); err != ErrClosed {
		t.Fatalf("publish after close: got %v, want ErrClosed", err)
	}
}

// NATSURL returns the test NATS server: $TROTHU_TEST_NATS or the local
// default. Outside CI an unreachable server skips the test; under CI (or
// with TROTHU_TEST_NATS set) it fails it.
func natsURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TROTHU_TEST_NATS")
	required := u != "" || os.Getenv("CI") != ""
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	host := strings.TrimPrefix(u, "nats://")
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		if required {
			t.Fatalf("NATS at %s is required here (CI or TROTHU_TEST_NATS set) but unreachable: %v", u, err)
		}
		t.Skipf("NATS unreachable at %s (set TROTHU_TEST_NATS): %v", u, err)
	}
	c.Close()
	return u
}

func TestNATSCarriesEventsAcrossInstances(t *testing.T) {
	url := natsURL(t)
	one := newBroker(t, Options{NATSURL: url})
	two := newBroker(t, Options{NATSURL: url})
	topic := "group:" + randomID(4) // other test runs share the server
	s1, _ := one.Subscribe([]string{topic}, "")
	s2, _ := two.Subscribe([]string{topic}, "")
	if err := one.Publish(context.Background(), topic, "message", "từ máy một"); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Subscription{"same instance": s1, "other instance": s2} {
		ev := recv(t, s)
		if string(ev.Data) != `"từ máy một"` {
			t.Errorf("%s: got %s, want the message", name, ev.Data)
		}
	}
	select {
	case ev := <-s1.C:
		t.Fatalf("publisher's own subscriber: got a second copy %s", ev.Data)
	case <-time.After(200 * time.Millisecond):
	}
}
