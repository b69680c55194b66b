package request_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/notify"
	"github.com/trothu/trothu/internal/realtime"
	"github.com/trothu/trothu/internal/request"
)

// events reads what arrived on a subscription within a short while.
func events(sub *realtime.Subscription, want int) []*realtime.Event {
	var out []*realtime.Event
	timeout := time.After(2 * time.Second)
	for len(out) < want {
		select {
		case ev := <-sub.C:
			out = append(out, ev)
		case <-timeout:
			return out
		}
	}
	// Nothing more should follow.
	select {
	case ev := <-sub.C:
		out = append(out, ev)
	case <-time.After(50 * time.Millisecond):
	}
	return out
}

// TestPublicChangesNotifyLive checks that every public change writes a
// notification for the reporter and the followers (never the actor),
// publishes it on each account's realtime topic after commit, and enqueues
// a durable push job that delivers it to the subscribed browser.
func TestPublicChangesNotifyLive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		broker, err := realtime.New(realtime.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer broker.Close()
		nt, err := notify.New(ctx, d, notify.Config{})
		if err != nil {
			t.Fatal(err)
		}
		ep, err := notify.NewTestEndpoint()
		if err != nil {
			t.Fatal(err)
		}
		defer ep.Close()
		if err := nt.Subscribe(ctx, f.resident, ep.Subscription()); err != nil {
			t.Fatal(err)
		}
		f.svc.SetDelivery(f.q, broker, nt)
		topic := func(p *account.Principal) string { return "account:" + strconv.FormatInt(p.AccountID, 10) }
		mine, err := broker.Subscribe([]string{topic(f.resident)}, "")
		if err != nil {
			t.Fatal(err)
		}
		defer mine.Close()
		theirs, err := broker.Subscribe([]string{topic(f.resident2)}, "")
		if err != nil {
			t.Fatal(err)
		}
		defer theirs.Close()
		officials, err := broker.Subscribe([]string{topic(f.official)}, "")
		if err != nil {
			t.Fatal(err)
		}
		defer officials.Close()

		r, err := f.svc.Submit(ctx, f.resident, request.Input{TypeCode: "xay_dung_trai_phep", Description: "Nhà số 14 đổ sàn tầng 4 không phép.", Lat: ptr(10.7726), Lon: ptr(106.6931)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Follow(ctx, f.resident2, r.ID, true); err != nil {
			t.Fatal(err)
		}
		// Acknowledge: the reporter and the follower are told at once.
		if _, err := f.svc.Handle(ctx, f.official, r.ID, request.Change{Action: "acknowledge"}); err != nil {
			t.Fatal(err)
		}
		for who, sub := range map[string]*realtime.Subscription{"reporter": mine, "follower": theirs} {
			evs := events(sub, 1)
			if len(evs) != 1 || evs[0].Name != request.NoteEvent {
				t.Fatalf("%s after acknowledge: got %d events, want 1 %s", who, len(evs), request.NoteEvent)
			}
			var data struct {
				RequestID int64  `json:"request_id"`
				Kind      string `json:"kind"`
			}
			if err := json.Unmarshal(evs[0].Data, &data); err != nil || data.RequestID != r.ID || data.Kind != "status" {
				t.Errorf("%s event: got %s (%v), want request %d kind status", who, evs[0].Data, err, r.ID)
			}
		}
		if evs := events(officials, 0); len(evs) != 0 {
			t.Errorf("the acting official: got %d events, want none", len(evs))
		}
		// One push job per notification, durable; running it pushes to the
		// reporter's browser (the follower has none).
		st, err := jobs.Count(ctx, d, "request.push")
		if err != nil || st.Pending != 2 {
			t.Fatalf("push jobs: got %+v (%v), want 2 pending", st, err)
		}
		if _, err := f.q.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		msgs, errs := ep.Received()
		if len(errs) != 0 || len(msgs) != 1 {
			t.Fatalf("push: got %d messages, errors %v; want 1", len(msgs), errs)
		}
		var m notify.Message
		if err := json.Unmarshal(msgs[0], &m); err != nil || !strings.Contains(m.Title, fmt.Sprintf("#%d", r.ID)) ||
			!strings.Contains(m.Body, "Đã tiếp nhận") || m.URL != fmt.Sprintf("/requests/%d", r.ID) {
			t.Errorf("push message: got %+v (%v), want the request's number, new status and page", m, err)
		}
		if st, _ := jobs.Count(ctx, d, "request.push"); st.Done != 2 {
			t.Errorf("push jobs after running: got %+v, want 2 done", st)
		}

		// Every public change: a reply, a re-route, resolving; a note is
		// internal and tells nobody.
		steps := []struct {
			c    request.Change
			kind string
		}{
			{request.Change{Action: "note", Body: "Đã gọi điện cho chủ nhà."}, ""},
			{request.Change{Action: "reply", Body: "Tổ công tác sẽ kiểm tra trong tuần."}, "reply"},
			{request.Change{Action: "reroute", Body: "Thuộc lĩnh vực môi trường.", TypeCode: "lan_chiem_kenh_rach"}, "reroute"},
			{request.Change{Action: "start"}, "status"},
			{request.Change{Action: "resolve", Body: "Đã lập biên bản, đình chỉ thi công."}, "reply"},
		}
		for _, s := range steps {
			if _, err := f.svc.Handle(ctx, f.official, r.ID, s.c); err != nil {
				t.Fatalf("%s: %v", s.c.Action, err)
			}
			want := 1
			if s.kind == "" {
				want = 0
			}
			for who, sub := range map[string]*realtime.Subscription{"reporter": mine, "follower": theirs} {
				evs := events(sub, want)
				if len(evs) != want || want == 1 && !strings.Contains(string(evs[0].Data), `"kind":"`+s.kind+`"`) {
					t.Errorf("%s after %s: got %d events, want %d of kind %q", who, s.c.Action, len(evs), want, s.kind)
				}
			}
		}
		// A duplicate merged into it: its reporter follows the original
		// and is told; the original's followers too.
		dup, err := f.svc.Submit(ctx, f.resident2, request.Input{TypeCode: "xay_dung_trai_phep", Description: "Lại thấy đổ sàn ở nhà số 14.", Lat: ptr(10.7726), Lon: ptr(106.6931)})
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.svc.Submit(ctx, f.resident, request.Input{TypeCode: "ve_sinh_moi_truong", Description: "Rác tồn đọng đầu hẻm 12 ba ngày.", Lat: ptr(10.7726), Lon: ptr(106.6931)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Handle(ctx, f.official, dup.ID, request.Change{Action: "merge", MergeInto: other.ID}); err != nil {
			t.Fatalf("merge: %v", err)
		}
		if evs := events(theirs, 1); len(evs) != 1 || !strings.Contains(string(evs[0].Data), `"kind":"merged"`) {
			t.Errorf("the duplicate's reporter after merge: got %d events, want 1 merged", len(evs))
		}
		if evs := events(mine, 1); len(evs) != 1 || !strings.Contains(string(evs[0].Data), `"kind":"merged"`) {
			t.Errorf("the original's reporter after merge: got %d events, want 1 merged", len(evs))
		}

		// The page: newest first, paged, unread marked, mark as read.
		n, err := f.svc.UnreadNotifications(ctx, f.resident)
		if err != nil || n != 6 {
			t.Errorf("unread: got %d (%v), want 6", n, err)
		}
		page, next, err := f.svc.NotificationPage(ctx, f.resident, 0, 4)
		if err != nil || len(page) != 4 || next == 0 || page[0].Kind != "merged" || page[0].Seen {
			t.Fatalf("first page: got %d items next %d (%v), want 4, newest merged, unread", len(page), next, err)
		}
		rest, next2, err := f.svc.NotificationPage(ctx, f.resident, next, 4)
		if err != nil || len(rest) != 2 || next2 != 0 || rest[1].Kind != "status" || rest[0].ID >= page[3].ID {
			t.Errorf("second page: got %d items next %d (%v), want the 2 oldest", len(rest), next2, err)
		}
		if got, want := rest[1].Text("vi"), "Trạng thái mới: Đã tiếp nhận"; got != want {
			t.Errorf("text of the oldest: got %q, want %q (the status then, not now)", got, want)
		}
		if c, err := f.svc.MarkNotificationsSeen(ctx, f.resident, []int64{page[0].ID, rest[0].ID}); err != nil || c != 2 {
			t.Errorf("mark two: got %d (%v), want 2", c, err)
		}
		if c, err := f.svc.MarkNotificationsSeen(ctx, f.resident2, []int64{page[1].ID}); err != nil || c != 0 {
			t.Errorf("someone else's notification: got %d (%v), want 0", c, err)
		}
		if n, _ := f.svc.UnreadNotifications(ctx, f.resident); n != 4 {
			t.Errorf("unread after marking two: got %d, want 4", n)
		}
		if c, err := f.svc.MarkNotificationsSeen(ctx, f.resident, nil); err != nil || c != 4 {
			t.Errorf("mark all: got %d (%v), want 4", c, err)
		}
		if _, err := f.svc.UnreadNotifications(ctx, nil); apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Errorf("anonymous: got %v, want unauthenticated", err)
		}
	})
}

// TestTerritoryRefusesOtherWards checks the deployment's territory: a point
// in a ward outside it gets a clear answer naming that ward.
func TestTerritoryRefusesOtherWards(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		// Another province with the ward the test locator puts the rest of
		// Vietnam in.
		err := d.Write(ctx, func(tx *db.Tx) error {
			for _, u := range []struct {
				id, parent              int64
				path, level, code, name string
			}{
				{900001 + 98, 900001, "/900001/900099/", "province", "99", "Tỉnh Thử"},
				{999999, 900099, "/900001/900099/999999/", "commune", "99999", "Xã Thử"},
			} {
				if _, err := tx.Exec(ctx, `INSERT INTO units(id, parent_id, path, level, code, name, full_name, kind, name_fold, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					u.id, u.parent, u.path, u.level, u.code, u.name, u.name, "x", u.name, db.Now()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		elsewhere := request.Input{TypeCode: "tieng_on", Description: "Karaoke đến 1 giờ sáng.", Lat: ptr(21.0), Lon: ptr(105.8)}
		if _, err := f.svc.Submit(ctx, f.resident, elsewhere); err != nil {
			t.Fatalf("no territory set: got %v, want the request taken", err)
		}
		if _, err := f.svc.SaveTerritory(ctx, f.official, []string{"79"}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("an official sets the territory: got %v, want forbidden", err)
		}
		if _, err := f.svc.SaveTerritory(ctx, f.admin, []string{"79", "12345"}); apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "12345") {
			t.Errorf("unknown code: got %v, want invalid naming it", err)
		}
		units, err := f.svc.SaveTerritory(ctx, f.admin, []string{" 79", "26743", ""})
		if err != nil || len(units) != 2 {
			t.Fatalf("save: got %d units (%v), want 2", len(units), err)
		}
		_, err = f.svc.Submit(ctx, f.resident, elsewhere)
		if e := apperr.From(err); e.Code != apperr.Invalid || !strings.Contains(e.Message("vi"), "Xã Thử") || !strings.Contains(e.Message("vi"), "ngoài địa bàn") {
			t.Errorf("outside the territory: got %v, want invalid naming Xã Thử", err)
		}
		if _, err := f.svc.Route(ctx, f.resident, "tieng_on", ptr(10.7726), ptr(106.6931), 0); err != nil {
			t.Errorf("inside the territory: got %v", err)
		}
		// A unit chosen instead of a point is held to the territory too.
		if _, err := f.svc.Route(ctx, f.official, "tieng_on", nil, nil, 999999); apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.From(err).Message("vi"), "Xã Thử") {
			t.Errorf("a unit outside the territory: got %v, want invalid naming Xã Thử", err)
		}
		got, err := f.svc.Territory(ctx)
		if err != nil || len(got) != 2 || got[0].Code != "79" {
			t.Errorf("territory: got %+v (%v)", got, err)
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = ?", request.AuditTerritory).Scan(&n); err != nil || n != 1 {
			t.Errorf("audit entries: got %d (%v), want 1", n, err)
		}
	})
}
