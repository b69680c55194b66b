package notice_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/realtime"
)

// live is the world's notice service publishing on a real broker, with a
// job queue of its own.
type live struct {
	*world
	b   *realtime.Broker
	svc *notice.Service
	q   *jobs.Queue
}

func newLive(t *testing.T, d *db.DB) *live {
	t.Helper()
	w := newWorld(t, d, 6)
	b, err := realtime.New(realtime.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	quiet := slog.New(slog.DiscardHandler)
	q := jobs.NewQueue(d, jobs.Options{Now: w.clk.Now, Logger: quiet, Batch: 1, Workers: 1})
	svc := notice.New(d, area.NewService(d, testKey), q, notice.Config{Now: w.clk.Now, Logger: quiet, Publisher: b, BatchSize: 7})
	return &live{world: w, b: b, svc: svc, q: q}
}

func (l *live) subscribe(t *testing.T, topics ...string) *realtime.Subscription {
	t.Helper()
	s, err := l.b.Subscribe(topics, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// drainQueue runs l's due jobs until none is left.
func (l *live) drainQueue(t *testing.T) {
	t.Helper()
	for range 1000 {
		n, err := l.q.RunDue(context.Background())
		if err != nil {
			t.Fatalf("run jobs: %v", err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("jobs never drained")
}

// collect returns the events that arrive on s within d.
func collect(s *realtime.Subscription, d time.Duration) []*realtime.Event {
	var out []*realtime.Event
	timeout := time.After(d)
	for {
		select {
		case ev := <-s.C:
			out = append(out, ev)
		case <-timeout:
			return out
		}
	}
}

func eventID(t *testing.T, ev *realtime.Event) int64 {
	t.Helper()
	var d struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatalf("event %s %s: %v", ev.Name, ev.Data, err)
	}
	return d.ID
}

func hhTopic(id int64) string { return notice.HouseholdTopic(id) }

// TestLiveInboxEvents: a notice to a khu phố is one event on the khu
// phố's topic, heard by the inboxes below it and not by others; a narrowed
// notice goes to the targeted households' own topics; a scheduled one is
// announced when it goes out; an acknowledgement tells the household.
func TestLiveInboxEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := newLive(t, d)
		mine := l.households[l.to1][0]
		if got, want := notice.InboxTopics(pTo1, mine), []string{"inbox:1", "inbox:2", "inbox:3", "inbox:4", "inbox:6", hhTopic(mine)}; join(got) != join(want) {
			t.Fatalf("inbox topics of a household in tổ 1: got %v, want %v", got, want)
		}
		topics, err := l.svc.InboxTopics(ctx, l.resident)
		if err != nil || join(topics) != join(notice.InboxTopics(pTo1, mine)) {
			t.Fatalf("resident's inbox topics: got %v, %v; want those of tổ 1 and household %d", topics, err, mine)
		}
		in := l.subscribe(t, topics...)
		outTopics, _ := l.svc.InboxTopics(ctx, l.outsider)
		out := l.subscribe(t, outTopics...)

		n, err := l.svc.Create(ctx, l.official, notice.Input{UnitID: l.kp1, Title: "Cúp điện", Body: "Khu phố 1 cúp điện sáng mai."})
		if err != nil {
			t.Fatal(err)
		}
		got := collect(in, 300*time.Millisecond)
		if len(got) != 1 || got[0].Name != "notice" || got[0].Topic != "inbox:4" || eventID(t, got[0]) != n.ID {
			t.Fatalf("inbox after a notice to khu phố 1: got %v, want one notice event on inbox:4", names(got))
		}
		if ev := collect(out, 50*time.Millisecond); len(ev) != 0 {
			t.Errorf("an inbox in khu phố 2: got %v, want nothing", names(ev))
		}
		l.drainQueue(t) // the batches: delivery, not news for the inbox
		if ev := collect(in, 100*time.Millisecond); len(ev) != 0 {
			t.Errorf("inbox while the notice is delivered: got %v, want nothing more", names(ev))
		}

		// Narrowed to households without a smartphone: their own topics.
		var all []string
		for _, to := range []int64{l.to1, l.to2, l.to3} {
			for _, h := range l.households[to] {
				all = append(all, hhTopic(h))
			}
		}
		every := l.subscribe(t, append(all, "inbox:1", "inbox:2", "inbox:3", "inbox:4", "inbox:5")...)
		narrow, err := l.svc.Create(ctx, l.official, notice.Input{UnitID: l.ward, Flags: area.FlagNoSmartphone, Title: "Cán bộ đến nhà", Body: "Cán bộ sẽ đến tận nhà."})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		rows, err := d.Query(ctx, "SELECT household_id FROM notice_deliveries WHERE notice_id = ?", narrow.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var h int64
			if err := rows.Scan(&h); err != nil {
				t.Fatal(err)
			}
			want[hhTopic(h)] = true
		}
		rows.Close()
		got = collect(every, 300*time.Millisecond)
		heard := map[string]bool{}
		for _, ev := range got {
			if eventID(t, ev) == narrow.ID {
				heard[ev.Topic] = true
			}
		}
		if len(want) != 6 || len(got) != len(want) || join(keys(heard)) != join(keys(want)) {
			t.Errorf("narrowed notice: got %d events on %v, want one on each of the %d targeted households' topics %v", len(got), keys(heard), len(want), keys(want))
		}

		// Scheduled: nothing at Create, one event when it goes out.
		at := l.clk.Now().Add(time.Hour)
		later, err := l.svc.Create(ctx, l.official, notice.Input{UnitID: l.to1, Title: "Nhắc lịch", Body: "Họp tổ.", SendAt: &at})
		if err != nil {
			t.Fatal(err)
		}
		if ev := collect(in, 100*time.Millisecond); len(ev) != 0 {
			t.Errorf("inbox after scheduling: got %v, want nothing yet", names(ev))
		}
		l.clk.Add(time.Hour + time.Minute)
		l.drainQueue(t)
		got = collect(in, 300*time.Millisecond)
		if len(got) != 1 || got[0].Topic != "inbox:6" || eventID(t, got[0]) != later.ID {
			t.Errorf("inbox when the scheduled notice goes out: got %v, want one notice event on inbox:6", names(got))
		}

		// Another member opens it: the household's inboxes hear that it is
		// no longer new, once.
		for range 2 {
			if _, err := l.svc.Get(ctx, l.resident2, n.ID); err != nil {
				t.Fatal(err)
			}
		}
		got = collect(in, 300*time.Millisecond)
		if len(got) != 1 || got[0].Topic != hhTopic(mine) || eventID(t, got[0]) != n.ID {
			t.Errorf("inbox after another member opened the notice twice: got %v, want one notice event on %s", names(got), hhTopic(mine))
		}

		// Another member acknowledges: the household's inboxes hear of it.
		if _, err := l.svc.Ack(ctx, l.resident2, n.ID); err != nil {
			t.Fatal(err)
		}
		got = collect(in, 300*time.Millisecond)
		if len(got) != 1 || got[0].Topic != hhTopic(mine) || eventID(t, got[0]) != n.ID {
			t.Errorf("inbox after another member's acknowledgement: got %v, want one notice event on %s", names(got), hhTopic(mine))
		}
		if _, err := l.svc.Ack(ctx, l.resident, n.ID); err != nil { // already acknowledged: nothing changes
			t.Fatal(err)
		}
		if ev := collect(in, 100*time.Millisecond); len(ev) != 0 {
			t.Errorf("inbox after a repeated acknowledgement: got %v, want nothing", names(ev))
		}
	})
}

// TestLiveReachCoalesced: a burst of acknowledgements is a few reach
// events, not one each — at most one a second per notice — and the last
// change is always followed by one.
func TestLiveReachCoalesced(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := newLive(t, d)
		n, err := l.svc.Create(ctx, l.official, notice.Input{UnitID: l.ward, Title: "Tiêm chủng", Body: "Tiêm chủng tại trạm y tế.", AckRequired: true})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // let Create's own reach event age out
		s := l.subscribe(t, notice.ReachTopic(n.ID))
		type stamped struct {
			at time.Time
			ev *realtime.Event
		}
		done := make(chan []stamped)
		stop := make(chan struct{})
		go func() {
			var out []stamped
			for {
				select {
				case ev := <-s.C:
					out = append(out, stamped{time.Now(), ev})
				case <-stop:
					done <- out
					return
				}
			}
		}()
		start := time.Now()
		var acks int
		for _, to := range []int64{l.to1, l.to2, l.to3} {
			for _, h := range l.households[to] {
				if _, err := l.svc.ProxyAck(ctx, l.official, n.ID, h, "Đã báo"); err != nil {
					t.Fatal(err)
				}
				acks++
			}
		}
		lastAck := time.Now()
		time.Sleep(2500 * time.Millisecond)
		close(stop)
		got := <-done
		limit := 2 + int(lastAck.Sub(start)/time.Second)
		if len(got) < 2 || len(got) > limit {
			t.Fatalf("%d acknowledgements in %v: got %d reach events, want 2 to %d", acks, lastAck.Sub(start).Round(time.Millisecond), len(got), limit)
		}
		for i, g := range got {
			if g.ev.Name != "reach" || eventID(t, g.ev) != n.ID {
				t.Errorf("got event %s %s, want reach of notice %d", g.ev.Name, g.ev.Data, n.ID)
			}
			if i > 0 && g.at.Sub(got[i-1].at) < 900*time.Millisecond {
				t.Errorf("reach events %d and %d: got %v apart, want about a second at least", i-1, i, g.at.Sub(got[i-1].at))
			}
		}
		if last := got[len(got)-1].at; last.Before(lastAck) {
			t.Errorf("last reach event: got it %v before the last acknowledgement, want one after it", lastAck.Sub(last))
		}
		// The trailing event carries the final state: reading the reach
		// after it shows every acknowledgement.
		r, err := l.svc.Reach(ctx, l.official, n.ID, 0)
		if err != nil || r.Acknowledged != acks {
			t.Errorf("reach after the last event: got %d acknowledged, %v; want %d", r.Acknowledged, err, acks)
		}
	})
}

func join(ss []string) string {
	out := ""
	for _, x := range ss {
		out += x + " "
	}
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func names(evs []*realtime.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Name + " " + ev.Topic + " " + string(ev.Data)
	}
	return out
}
