package notice_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/notify"
)

// TestNoticePushedToSubscribedMember: a member who subscribed a browser
// gets the notice by Web Push, decrypted at the local test push service;
// the send is recorded and the household counts as delivered.
func TestNoticePushedToSubscribedMember(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d, 2)
		ep, err := notify.NewTestEndpoint()
		if err != nil {
			t.Fatal(err)
		}
		defer ep.Close()
		if err := w.svc.Notify().Subscribe(ctx, w.resident2, ep.Subscription()); err != nil {
			t.Fatal(err)
		}
		n, err := w.svc.Create(ctx, w.groupHead, notice.Input{UnitID: w.to1, Title: "Khẩn: ngập nước", Body: "Tránh đường Lê Lợi.", Priority: notice.Urgent})
		if err != nil {
			t.Fatal(err)
		}
		w.drain(t)
		msgs, errs := ep.Received()
		if len(errs) != 0 || len(msgs) != 1 {
			t.Fatalf("push endpoint: got %d messages, errors %v; want 1, none", len(msgs), errs)
		}
		var m notify.Message
		if err := json.Unmarshal(msgs[0], &m); err != nil || m.Title != n.Title || !m.Urgent || m.URL == "" {
			t.Errorf("pushed: got %+v, %v; want the urgent notice's title and link", m, err)
		}
		if got := mustCount(t, d, "SELECT COUNT(*) FROM notify_sends WHERE notice_id = ? AND channel = 'push' AND status = 'sent'", n.ID); got != 1 {
			t.Errorf("push sends recorded: got %d, want 1", got)
		}
	})
}

// TestDigestPreference: a member who takes a daily digest gets no push for
// a normal notice at once, one digest push at the digest hour, and urgent
// notices at once all the same.
func TestDigestPreference(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d, 2)
		ep, err := notify.NewTestEndpoint()
		if err != nil {
			t.Fatal(err)
		}
		defer ep.Close()
		nt := w.svc.Notify()
		if err := nt.Subscribe(ctx, w.resident2, ep.Subscription()); err != nil {
			t.Fatal(err)
		}
		if err := nt.SetPrefs(ctx, w.resident2, notify.Prefs{Digest: true}); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.ScheduleDigest(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Create(ctx, w.groupHead, notice.Input{UnitID: w.to1, Title: "Thu gom rác", Body: "Thứ Hai."}); err != nil {
			t.Fatal(err)
		}
		w.drain(t)
		if msgs, _ := ep.Received(); len(msgs) != 0 {
			t.Fatalf("normal notice with a digest preference: got %d pushes, want 0", len(msgs))
		}
		if _, err := w.svc.Create(ctx, w.groupHead, notice.Input{UnitID: w.to1, Title: "Khẩn: cháy", Body: "Sơ tán.", Priority: notice.Urgent}); err != nil {
			t.Fatal(err)
		}
		w.drain(t)
		if msgs, _ := ep.Received(); len(msgs) != 1 {
			t.Fatalf("urgent notice: got %d pushes, want 1", len(msgs))
		}
		w.clk.Add(24 * time.Hour)
		w.drain(t)
		msgs, errs := ep.Received()
		if len(errs) != 0 || len(msgs) < 2 {
			t.Fatalf("after the digest hour: got %d pushes, errors %v; want the digest", len(msgs), errs)
		}
		digests := 0
		for _, raw := range msgs {
			var m notify.Message
			if err := json.Unmarshal(raw, &m); err == nil && m.URL == "/notices" {
				digests++
			}
		}
		if digests != 1 {
			t.Errorf("digest pushes (linking to the inbox): got %d, want 1", digests)
		}
	})
}
