package notice_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/notice"
)

func TestTargetingAndPermission(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d, 6)
		cases := []struct {
			name string
			in   notice.Input
			want int
		}{
			{"ward", notice.Input{UnitID: w.ward}, 18},
			{"khu phố 1", notice.Input{UnitID: w.kp1}, 12},
			{"tổ 3", notice.Input{UnitID: w.to3}, 6},
			{"no smartphone in the ward", notice.Input{UnitID: w.ward, Flags: area.FlagNoSmartphone}, 6},
		}
		for _, c := range cases {
			n, err := w.svc.Preview(ctx, w.official, c.in)
			if err != nil || n != c.want {
				t.Errorf("preview %s: got %d, %v; want %d", c.name, n, err, c.want)
			}
		}
		// Narrowed to the members of the ward's Party cell: two households.
		var org int64
		err := d.Write(ctx, func(tx *db.Tx) error {
			if err := tx.QueryRow(ctx, "INSERT INTO organisations(unit_id, unit_path, kind, name, name_fold, created_at) VALUES (?, ?, 'party_cell', 'Chi bộ khu phố 1', 'chi bo khu pho 1', 1) RETURNING id",
				w.ward, pWard).Scan(&org); err != nil {
				return err
			}
			for _, h := range []int64{w.households[w.to1][0], w.households[w.to2][0]} {
				if _, err := tx.Exec(ctx, "INSERT INTO organisation_members(organisation_id, resident_id) SELECT ?, head_resident_id FROM households WHERE id = ?", org, h); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := w.svc.Preview(ctx, w.official, notice.Input{UnitID: w.kp1, OrgID: org}); err != nil || n != 2 {
			t.Errorf("preview for the Party cell's members: got %d, %v; want 2", n, err)
		}
		// A residential-group head sends to their tổ, not to the khu phố.
		if _, err := w.svc.Create(ctx, w.groupHead, notice.Input{UnitID: w.kp1, Title: "Họp", Body: "Họp tổ"}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("group head to khu phố: got %v, want forbidden", err)
		}
		if _, err := w.svc.Create(ctx, w.resident, notice.Input{UnitID: w.to1, Title: "Họp", Body: "Họp tổ"}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("resident sends: got %v, want forbidden", err)
		}
		if _, err := w.svc.Create(ctx, w.groupHead, notice.Input{UnitID: w.to1, Title: " ", Body: "x"}); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("empty title: got %v, want invalid", err)
		}
		n, err := w.svc.Create(ctx, w.groupHead, notice.Input{UnitID: w.to1, Title: "Họp tổ dân phố", Body: "Tối thứ Bảy, 19 giờ, tại nhà văn hoá.", AckRequired: true})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if n.Targeted != 6 || !n.Sent() {
			t.Errorf("created: got targeted %d sent %v, want 6 and sent", n.Targeted, n.Sent())
		}
		if got := mustCount(t, d, "SELECT COUNT(*) FROM notice_deliveries WHERE notice_id = ?", n.ID); got != 6 {
			t.Errorf("deliveries: got %d, want 6", got)
		}
	})
}

func TestAckFirstWinsProxyAndReach(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d, 5)
		n, err := w.svc.Create(ctx, w.official, notice.Input{UnitID: w.kp1, Title: "Phun thuốc diệt muỗi", Body: "Sáng Chủ nhật.", Priority: notice.Urgent, AckRequired: true})
		if err != nil {
			t.Fatal(err)
		}
		w.drain(t)
		// The outsider's household is in khu phố 2: not theirs to see.
		if _, err := w.svc.Ack(ctx, w.outsider, n.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("outsider ack: got %v, want not found", err)
		}
		if _, err := w.svc.Get(ctx, w.outsider, n.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("outsider view: got %v, want not found", err)
		}
		first, err := w.svc.Ack(ctx, w.resident, n.ID)
		if err != nil || first.AckedAt == nil || first.AckName != "Nguyễn Văn 1" {
			t.Fatalf("ack: got %+v, %v; want acknowledged by Nguyễn Văn 1", first, err)
		}
		w.clk.Add(time.Minute)
		second, err := w.svc.Ack(ctx, w.resident2, n.ID)
		if err != nil || second.AckName != "Nguyễn Văn 1" || !second.AckedAt.Equal(*first.AckedAt) {
			t.Errorf("second member's ack: got %+v, %v; want the first one kept", second, err)
		}
		// Proxy: the group head told a household of tổ 1 in person.
		hh := w.households[w.to1][2]
		if _, err := w.svc.ProxyAck(ctx, w.groupHead, n.ID, w.households[w.to2][0], "x"); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("proxy outside the tổ: got %v, want forbidden", err)
		}
		pd, err := w.svc.ProxyAck(ctx, w.groupHead, n.ID, hh, "Đã đến nhà báo trực tiếp")
		if err != nil || !pd.AckProxy || pd.AckNote != "Đã đến nhà báo trực tiếp" {
			t.Fatalf("proxy ack: got %+v, %v", pd, err)
		}
		if _, err := w.svc.ProxyAck(ctx, w.volunteer, n.ID, hh, ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("second proxy ack: got %v, want conflict", err)
		}
		r, err := w.svc.Reach(ctx, w.official, n.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.Targeted != 10 || r.Acknowledged != 2 {
			t.Errorf("reach: got targeted %d acknowledged %d, want 10 and 2", r.Targeted, r.Acknowledged)
		}
		// Households with an account member are delivered through the inbox.
		if r.Delivered < 2 {
			t.Errorf("delivered: got %d, want at least 2", r.Delivered)
		}
		if len(r.ByUnit) != 3 || r.ByUnit[0].Name != "Khu phố 1" || r.ByUnit[1].Name != "Tổ 1" || r.ByUnit[1].Acknowledged != 2 || r.ByUnit[1].Percent.Acknowledged != 40 {
			t.Errorf("by unit: got %+v, want Khu phố 1, Tổ 1 (2 of 5 = 40%%), Tổ 2", r.ByUnit)
		}
		// The group head follows only tổ 1.
		gr, err := w.svc.Reach(ctx, w.groupHead, n.ID, 0)
		if err != nil || gr.Targeted != 5 || len(gr.ByUnit) != 1 {
			t.Errorf("group head's reach: got %+v, %v; want tổ 1 only (5)", gr, err)
		}
		if _, err := w.svc.Reach(ctx, w.groupHead, n.ID, w.kp1); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("group head's reach of the khu phố: got %v, want forbidden", err)
		}
		// The unreached list shrinks and pages.
		un, err := w.svc.Unreached(ctx, w.groupHead, n.ID, notice.UnreachedFilter{Limit: 2})
		if err != nil || len(un.Items) != 2 || un.Next == "" {
			t.Fatalf("unreached page 1: got %+v, %v; want 2 and a next cursor", un, err)
		}
		un2, err := w.svc.Unreached(ctx, w.groupHead, n.ID, notice.UnreachedFilter{Limit: 2, After: un.Next})
		if err != nil || len(un2.Items) != 1 || un2.Next != "" {
			t.Errorf("unreached page 2: got %+v, %v; want the last 1", un2, err)
		}
		if un.Items[0].HeadName == "" || un.Items[0].Address == "" {
			t.Errorf("unreached: got %+v, want address and head", un.Items[0])
		}
		if got := mustCount(t, d, "SELECT COUNT(*) FROM audit_log WHERE action = 'notice.unreached_viewed'"); got != 1 {
			t.Errorf("audit of the unreached list: got %d entries, want 1", got)
		}
	})
}

func TestNotesCascadeAndInbox(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d, 3)
		n, err := w.svc.Create(ctx, w.official, notice.Input{UnitID: w.ward, Title: "Cấp CCCD lưu động", Body: "Công an phường cấp căn cước tại nhà."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AddNote(ctx, w.groupHead, n.ID, w.ward, "x"); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("note at the ward by a group head: got %v, want forbidden", err)
		}
		if _, err := w.svc.AddNote(ctx, w.official, n.ID, w.ward, "x"); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("note at the notice's own level: got %v, want invalid", err)
		}
		if _, err := w.svc.AddNote(ctx, w.groupHead, n.ID, w.to1, "Tổ 1: CSKV đến nhà văn hoá sáng thứ Bảy."); err != nil {
			t.Fatalf("note: %v", err)
		}
		v, err := w.svc.Get(ctx, w.resident, n.ID)
		if err != nil || len(v.Notes) != 1 || v.Mine == nil || v.Mine.SeenAt == nil {
			t.Fatalf("resident's view: got %+v, %v; want the note and a seen copy", v, err)
		}
		v2, err := w.svc.Get(ctx, w.outsider, n.ID)
		if err != nil || len(v2.Notes) != 0 {
			t.Errorf("khu phố 2 resident: got notes %+v, %v; want none", v2.Notes, err)
		}
		if len(v.NoteUnits) != 0 {
			t.Errorf("resident may add notes at %v; want nowhere", v.NoteUnits)
		}
		in, err := w.svc.Inbox(ctx, w.resident2, "", 10)
		if err != nil || len(in.Items) != 1 || in.Items[0].ID != n.ID || in.Items[0].SeenAt == nil {
			t.Errorf("inbox of the other member: got %+v, %v; want the notice, seen", in, err)
		}
		list, err := w.svc.List(ctx, w.groupHead, "", 10)
		if err != nil || len(list.Items) != 1 {
			t.Errorf("group head's list: got %+v, %v; want the ward's notice", list, err)
		}
		r, err := w.svc.Reach(ctx, w.official, n.ID, 0)
		if err != nil || r.Seen != 2 || r.Targeted != 9 || len(r.ByUnit) != 6 {
			t.Errorf("reach: got %+v, %v; want 9 targeted, 2 seen (two households opened it), 6 lines", r, err)
		}
		h, err := w.svc.History(ctx, w.official, w.ward, 0)
		if err != nil || len(h.Notices) != 1 || len(h.Rows) != 2 {
			t.Errorf("history: got %+v, %v; want 1 notice × 2 khu phố", h, err)
		}
	})
}

func TestScheduledAndUrgentRenotify(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d, 3)
		at := w.clk.Now().Add(time.Hour)
		n, err := w.svc.Create(ctx, w.official, notice.Input{UnitID: w.kp1, Title: "Cúp nước", Body: "Cúp nước từ 8 giờ.", Priority: notice.Urgent, SendAt: &at, SMSAll: true})
		if err != nil {
			t.Fatal(err)
		}
		w.drain(t)
		if got := mustCount(t, d, "SELECT COUNT(*) FROM notice_deliveries WHERE notice_id = ?", n.ID); got != 0 {
			t.Fatalf("before send_at: got %d deliveries, want 0", got)
		}
		w.clk.Add(time.Hour)
		w.drain(t)
		if got := mustCount(t, d, "SELECT COUNT(*) FROM notice_deliveries WHERE notice_id = ?", n.ID); got != 6 {
			t.Fatalf("after send_at: got %d deliveries, want 6", got)
		}
		if w.sms.total() != 6 {
			t.Errorf("SMS to all: got %d, want 6", w.sms.total())
		}
		if _, err := w.svc.Ack(ctx, w.resident, n.ID); err != nil {
			t.Fatal(err)
		}
		w.clk.Add(2*time.Hour + time.Second)
		w.drain(t)
		// Round 1 goes to the 5 households that have not acknowledged.
		if w.sms.total() != 11 || w.sms.count(w.phones[w.households[w.to1][0]]) != 1 {
			t.Errorf("after re-notify: got %d SMS (%d to the acknowledged household), want 11 (1)", w.sms.total(), w.sms.count(w.phones[w.households[w.to1][0]]))
		}
	})
}

// TestRestartMidSendLosesAndDuplicatesNothing: a send is interrupted (the
// gateway refuses one message, then the process stops with batches still
// queued); a new process over the same database finishes it. Every
// household gets exactly one SMS and one delivery row.
func TestRestartMidSendLosesAndDuplicatesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d, 20)
		w.sms.failAt = 10
		n, err := w.svc.Create(ctx, w.official, notice.Input{UnitID: w.ward, Title: "Tiêm chủng", Body: "Tiêm chủng mở rộng.", SMSAll: true})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 { // three batches of 7, one of which hits the refusal
			if _, err := w.q.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := w.sms.total(); got == 0 || got >= 60 {
			t.Fatalf("before the restart: got %d SMS, want some but not all", got)
		}
		// Restart: new queue and service over the same database, later.
		w.start(t, nil)
		w.clk.Add(time.Hour)
		w.drain(t)
		if got := mustCount(t, d, "SELECT COUNT(*) FROM notice_deliveries WHERE notice_id = ?", n.ID); got != 60 {
			t.Errorf("deliveries: got %d, want 60", got)
		}
		for to, hhs := range w.households {
			for _, h := range hhs {
				if c := w.sms.count(w.phones[h]); c != 1 {
					t.Errorf("household %d of unit %d: got %d SMS, want 1", h, to, c)
				}
			}
		}
		if got := mustCount(t, d, "SELECT COUNT(*) FROM notice_deliveries WHERE notice_id = ? AND delivered_at IS NULL", n.ID); got != 0 {
			t.Errorf("undelivered: got %d, want 0", got)
		}
		r, err := w.svc.Reach(ctx, w.official, n.ID, 0)
		if err != nil || r.Channels["sms"]["sent"] != 60 || r.Channels["sms"]["failed"] != 0 {
			t.Errorf("channel report: got %v, %v; want 60 SMS sent, none failed", r.Channels, err)
		}
	})
}

// TestConcurrentAcksGroupCommitted: acknowledgements arriving together
// from many households (and twice from one) are all recorded, once each,
// by the member who sent them.
func TestConcurrentAcksGroupCommitted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d, 10)
		n, err := w.svc.Create(ctx, w.official, notice.Input{UnitID: w.ward, Title: "Bầu cử", Body: "Chủ nhật đi bầu.", AckRequired: true})
		if err != nil {
			t.Fatal(err)
		}
		var members []*account.Principal
		for _, to := range []int64{w.to1, w.to2, w.to3} {
			for _, h := range w.households[to][1:] {
				members = append(members, w.account(t, "Chủ hộ", account.RoleResident, to, "", w.headOf(t, h)))
			}
		}
		members = append(members, w.resident, w.resident2) // one household, two members
		var wg sync.WaitGroup
		errs := make(chan error, len(members))
		for _, m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := w.svc.Ack(ctx, m, n.ID); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("ack: %v", err)
		}
		if got := mustCount(t, d, "SELECT COUNT(*) FROM notice_deliveries WHERE notice_id = ? AND acked_at IS NOT NULL", n.ID); got != 28 {
			t.Errorf("acknowledged: got %d, want 28 (27 heads and the household of two members)", got)
		}
		if got := mustCount(t, d, "SELECT COUNT(*) FROM notice_deliveries d JOIN accounts a ON a.id = d.acked_by JOIN residents r ON r.id = a.resident_id WHERE d.notice_id = ? AND r.household_id = d.household_id", n.ID); got != 28 {
			t.Errorf("acknowledged by a member of the household: got %d, want 28", got)
		}
	})
}

// A delivery batch queued before schema 8 names its cursor by unit path;
// after the upgrade it resumes after that household, not from the start.
func TestBatchQueuedBeforeUpgradeResumes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d, 20)
		n, err := w.svc.Create(ctx, w.official, notice.Input{UnitID: w.ward, Title: "Nâng cấp", Body: "Lịch cắt điện.", SMSAll: true})
		if err != nil {
			t.Fatal(err)
		}
		// The 14th household in cursor order (unit, household), as an old payload.
		var unitPath string
		var after int64
		err = d.QueryRow(ctx, `SELECT u.path, d.household_id FROM notice_deliveries d JOIN units u ON u.id = d.unit_id
			WHERE d.notice_id = ? ORDER BY d.unit_id, d.household_id LIMIT 1 OFFSET 13`, n.ID).Scan(&unitPath, &after)
		if err != nil {
			t.Fatal(err)
		}
		payload := fmt.Sprintf(`{"n":%d,"r":0,"k":0,"p":%q,"h":%d}`, n.ID, unitPath, after)
		err = d.Write(ctx, func(tx *db.Tx) error {
			res, err := tx.Exec(ctx, "UPDATE jobs SET payload = ? WHERE kind = 'notice.batch' AND done_at IS NULL", payload)
			if err != nil {
				return err
			}
			if c, _ := res.RowsAffected(); c != 1 {
				return fmt.Errorf("rewrote %d batch jobs, want 1", c)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		w.drain(t)
		sent := 0
		for _, hhs := range w.households {
			for _, h := range hhs {
				sent += w.sms.count(w.phones[h])
			}
		}
		if sent != 60-14 {
			t.Fatalf("SMS after resuming the old batch: got %d, want %d (the households after the cursor)", sent, 60-14)
		}
		if got := mustCount(t, d, "SELECT COUNT(*) FROM notice_deliveries WHERE notice_id = ? AND delivered_at IS NOT NULL", n.ID); got != 60-14 {
			t.Errorf("delivered: got %d, want %d", got, 60-14)
		}
	})
}
