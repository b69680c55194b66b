package request_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/request"
	"github.com/trothu/trothu/internal/workcal"
)

// clock is an injectable, movable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// box locates every point within 0.01° of (10.7725, 106.6930) in ward 26743.
type box struct{}

func (box) Locate(lon, lat float64) (geo.Ward, bool) {
	if lat > 10.7625 && lat < 10.7825 && lon > 106.683 && lon < 106.703 {
		return geo.Ward{Code: "26743", FullName: "Phường Bến Thành"}, true
	}
	if lat > 8 && lat < 24 && lon > 102 && lon < 110 {
		return geo.Ward{Code: "99999"}, true // a ward this deployment does not have
	}
	return geo.Ward{}, false
}

type fx struct {
	d                   *db.DB
	areas               *area.Service
	svc                 *request.Service
	q                   *jobs.Queue
	clk                 *clock
	province, ward      area.Unit
	kp1, to1            area.Unit
	admin, official     *account.Principal
	groupHead, nbHead   *account.Principal
	resident, resident2 *account.Principal
}

var key = []byte("request-test-secret-key-of-32-bytes!!")

func setup(t testing.TB, d *db.DB) *fx {
	t.Helper()
	ctx := context.Background()
	now := db.Now()
	err := d.Write(ctx, func(tx *db.Tx) error {
		for _, u := range []struct {
			id, parent        int64
			path, level, code string
			name, full, kind  string
		}{
			{900001, 0, "/900001/", "country", "VN", "Việt Nam", "Việt Nam", "Quốc gia"},
			{900079, 900001, "/900001/900079/", "province", "79", "Hồ Chí Minh", "Thành phố Hồ Chí Minh", "Thành phố"},
			{926743, 900079, "/900001/900079/926743/", "commune", "26743", "Bến Thành", "Phường Bến Thành", "Phường"},
		} {
			if _, err := tx.Exec(ctx, `INSERT INTO units(id, parent_id, path, level, code, name, full_name, kind, name_fold, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, u.id, map[bool]any{true: nil, false: u.parent}[u.parent == 0], u.path, u.level, u.code, u.name, u.full, u.kind, u.name, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	areas := area.NewService(d, key)
	f := &fx{d: d, areas: areas, clk: &clock{t: time.Date(2026, 3, 6, 16, 0, 0, 0, workcal.Zone)}} // a Friday, 16:00
	f.svc = request.New(d, areas, request.Config{Now: f.clk.Now})
	f.svc.SetLocator(box{})
	if err := f.svc.SeedTypes(ctx); err != nil {
		t.Fatal(err)
	}
	f.q = jobs.NewQueue(d, jobs.Options{Now: f.clk.Now})
	f.svc.RegisterJobs(f.q)
	f.province, _ = areas.Unit(ctx, 900079)
	f.ward, _ = areas.Unit(ctx, 926743)
	root := &account.Principal{AccountID: 0, Grants: []account.Grant{{Role: account.RoleAdmin, UnitPath: "/900001/"}}}
	if f.kp1, err = areas.CreateUnit(ctx, root, f.ward.ID, area.UnitInput{Name: "Khu phố 1"}); err != nil {
		t.Fatal(err)
	}
	if f.to1, err = areas.CreateUnit(ctx, root, f.kp1.ID, area.UnitInput{Name: "Tổ 1"}); err != nil {
		t.Fatal(err)
	}
	lat, lon := 10.7725, 106.6930
	if _, err := areas.CreateHousehold(ctx, root, area.HouseholdInput{UnitID: f.to1.ID, Address: "12 Lê Lợi", Lat: &lat, Lon: &lon}); err != nil {
		t.Fatal(err)
	}
	acc := func(phone, name string, role account.Role, u area.Unit, resident int64) *account.Principal {
		var id int64
		err := d.Write(ctx, func(tx *db.Tx) error {
			return tx.QueryRow(ctx, "INSERT INTO accounts(phone, name, created_at) VALUES (?, ?, ?) RETURNING id", phone, name, now).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		p := &account.Principal{AccountID: id, Name: name, Phone: phone, ResidentID: resident}
		if role != "" {
			err := d.Write(ctx, func(tx *db.Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO role_grants(account_id, role, unit_id, unit_path, created_at) VALUES (?, ?, ?, ?, ?)", id, string(role), u.ID, u.Path, now)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			p.Grants = []account.Grant{{Role: role, UnitID: u.ID, UnitPath: u.Path}}
		}
		return p
	}
	f.admin = acc("+84900000001", "Quản trị", account.RoleAdmin, area.Unit{ID: 900001, Path: "/900001/"}, 0)
	f.official = acc("+84900000002", "Nguyễn Thị Lan", account.RoleOfficial, f.ward, 0)
	f.nbHead = acc("+84900000004", "Lê Văn Hùng", account.RoleNeighbourhoodHead, f.kp1, 0)
	f.groupHead = acc("+84900000005", "Phạm Thị Hoa", account.RoleGroupHead, f.to1, 0)
	f.resident = acc("+84900000010", "Trần Văn Dân", "", area.Unit{}, 0)
	f.resident2 = acc("+84900000011", "Võ Thị Hàng Xóm", "", area.Unit{}, 0)
	return f
}

func ptr(v float64) *float64 { return &v }

func code(err error) apperr.Code { return apperr.CodeOf(err) }

func TestIntakeRoutingAndDeadlines(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		r, err := f.svc.Submit(ctx, f.resident, request.Input{TypeCode: "xay_dung_trai_phep", Description: "Nhà số 14 đang đổ sàn tầng 4 không có giấy phép.",
			Lat: ptr(10.7726), Lon: ptr(106.6931), Attrs: map[string]string{"stage": "frame"}})
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		if r.WardCode != "26743" || r.UnitID != f.to1.ID {
			t.Errorf("routing: got ward %s unit %d, want 26743 and Tổ 1 (%d)", r.WardCode, r.UnitID, f.to1.ID)
		}
		if want := "Đội trật tự đô thị Phường Bến Thành"; r.Agency != want {
			t.Errorf("agency: got %q, want %q", r.Agency, want)
		}
		// Friday 16:00 + 8 working hours: 1 h Friday, 7 h Monday → 16:00 Monday.
		if want := time.Date(2026, 3, 9, 16, 0, 0, 0, workcal.Zone); !r.AckDue.Equal(want) {
			t.Errorf("ack due: got %v, want %v", r.AckDue.In(workcal.Zone), want)
		}
		if r.Status != request.StatusNew || !r.Mine || r.ReporterName != "Trần Văn Dân" {
			t.Errorf("as the reporter: got status %s mine %v name %q", r.Status, r.Mine, r.ReporterName)
		}
		// Another resident sees the public request without the reporter.
		other, err := f.svc.Get(ctx, f.resident2, r.ID)
		if err != nil || other.ReporterName != "" || other.ReporterPhone != "" {
			t.Errorf("public view: got %q %q %v, want no reporter", other.ReporterName, other.ReporterPhone, err)
		}
		// The official sees the reporter.
		off, err := f.svc.Get(ctx, f.official, r.ID)
		if err != nil || off.ReporterPhone != "+84900000010" || !off.CanHandle {
			t.Errorf("official view: got %q can %v err %v", off.ReporterPhone, off.CanHandle, err)
		}
		// Far from any household: the ward.
		r2, err := f.svc.Submit(ctx, f.resident, request.Input{TypeCode: "ha_tang", Description: "Đèn đường trước chợ bị hỏng ba ngày nay.",
			Lat: ptr(10.7800), Lon: ptr(106.7000), Attrs: map[string]string{"kind": "light"}})
		if err != nil || r2.UnitID != f.ward.ID {
			t.Fatalf("ward-level routing: got unit %d err %v, want %d", r2.UnitID, err, f.ward.ID)
		}
		// Nearby similar open requests.
		near, err := f.svc.Nearby(ctx, f.resident2, "xay_dung_trai_phep", 10.7727, 106.6932)
		if err != nil || len(near) != 1 || near[0].ID != r.ID {
			t.Errorf("nearby: got %d (%v), want request %d", len(near), err, r.ID)
		}
		// Errors.
		for _, c := range []struct {
			name string
			in   request.Input
			want apperr.Code
		}{
			{"outside Vietnam", request.Input{TypeCode: "ha_tang", Description: "Một mô tả đủ dài.", Lat: ptr(48.85), Lon: ptr(2.35), Attrs: map[string]string{"kind": "road"}}, apperr.Invalid},
			{"ward not deployed", request.Input{TypeCode: "ha_tang", Description: "Một mô tả đủ dài.", Lat: ptr(21.0), Lon: ptr(105.8), Attrs: map[string]string{"kind": "road"}}, apperr.Invalid},
			{"required field", request.Input{TypeCode: "ha_tang", Description: "Một mô tả đủ dài.", Lat: ptr(10.7726), Lon: ptr(106.6931)}, apperr.Invalid},
			{"short description", request.Input{TypeCode: "tieng_on", Description: "ồn", Lat: ptr(10.7726), Lon: ptr(106.6931)}, apperr.Invalid},
			{"no location", request.Input{TypeCode: "tieng_on", Description: "Karaoke đến 1 giờ sáng."}, apperr.Invalid},
			{"unknown type", request.Input{TypeCode: "khong_co", Description: "Karaoke đến 1 giờ sáng."}, apperr.Invalid},
		} {
			if _, err := f.svc.Submit(ctx, f.resident, c.in); code(err) != c.want {
				t.Errorf("%s: got %v, want %s", c.name, err, c.want)
			}
		}
		if _, err := f.svc.Submit(ctx, nil, request.Input{TypeCode: "tieng_on", Description: "Karaoke đến 1 giờ sáng.", Lat: ptr(10.7726), Lon: ptr(106.6931)}); code(err) != apperr.Unauthenticated {
			t.Errorf("anonymous web submit: got %v, want unauthenticated", err)
		}
		// Filed on behalf: only an official of the place.
		in := request.Input{TypeCode: "tieng_on", Description: "Bà Tư gọi điện: karaoke đến 1 giờ sáng.", UnitID: f.to1.ID, OnBehalf: true, ReporterName: "Bà Tư", ReporterPhone: "0912345678"}
		if _, err := f.svc.Submit(ctx, f.resident, in); code(err) != apperr.Forbidden {
			t.Errorf("resident on behalf: got %v, want forbidden", err)
		}
		rb, err := f.svc.Submit(ctx, f.groupHead, in)
		if err != nil || rb.Channel != request.ChannelBehalf || rb.ReporterName != "Bà Tư" || rb.Agency != "Tổ trưởng Tổ 1, Khu phố 1" && rb.Agency == "" {
			t.Errorf("on behalf: got %+v, %v", rb, err)
		}
	})
}

func TestWorkflow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		r, err := f.svc.Submit(ctx, f.resident, request.Input{TypeCode: "xay_dung_trai_phep", Description: "Đổ xà bần lấn chiếm lòng đường hẻm 12.", Lat: ptr(10.7726), Lon: ptr(106.6931)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Handle(ctx, f.resident2, r.ID, request.Change{Action: "acknowledge"}); code(err) != apperr.Forbidden {
			t.Errorf("resident handles: got %v, want forbidden", err)
		}
		steps := []request.Change{{Action: "acknowledge"}, {Action: "assign", AssigneeID: f.groupHead.AccountID}, {Action: "note", Body: "Đã gọi chủ nhà."},
			{Action: "reply", Body: "Phường đã ghi nhận, sẽ kiểm tra trong tuần."}, {Action: "start"}}
		for _, c := range steps {
			if _, err := f.svc.Handle(ctx, f.official, r.ID, c); err != nil {
				t.Fatalf("%s: %v", c.Action, err)
			}
		}
		if _, err := f.svc.Handle(ctx, f.official, r.ID, request.Change{Action: "assign", AssigneeID: f.resident2.AccountID}); code(err) != apperr.Invalid {
			t.Errorf("assign to a resident: got %v, want invalid", err)
		}
		if _, err := f.svc.Handle(ctx, f.official, r.ID, request.Change{Action: "resolve"}); code(err) != apperr.Invalid {
			t.Errorf("resolve without a reply: got %v, want invalid", err)
		}
		got, err := f.svc.Handle(ctx, f.groupHead, r.ID, request.Change{Action: "resolve", Body: "Đã buộc tháo dỡ, dọn sạch hẻm."})
		if err != nil || got.Status != request.StatusResolved || got.AssigneeName != "Phạm Thị Hoa" {
			t.Fatalf("resolve: got %s %q %v", got.Status, got.AssigneeName, err)
		}
		// The reporter's timeline has no internal note.
		tl, err := f.svc.Timeline(ctx, f.resident, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range tl {
			if !u.Public || u.Body == "Đã gọi chủ nhà." {
				t.Errorf("reporter's timeline shows an internal entry: %+v", u)
			}
		}
		full, _ := f.svc.Timeline(ctx, f.official, r.ID)
		if len(full) <= len(tl) {
			t.Errorf("official's timeline: got %d entries, want more than the public %d", len(full), len(tl))
		}
		// Notifications: every public change reached the reporter.
		ns, _ := f.svc.Notifications(ctx, f.resident)
		if len(ns) < 3 {
			t.Errorf("reporter notifications: got %d, want ≥ 3", len(ns))
		}
		if _, err := f.svc.Confirm(ctx, f.resident2, r.ID); code(err) != apperr.Forbidden {
			t.Errorf("someone else confirms: got %v, want forbidden", err)
		}
		if _, err := f.svc.Rate(ctx, f.resident, r.ID, 6, ""); code(err) != apperr.Invalid {
			t.Errorf("rate 6: got %v, want invalid", err)
		}
		got, err = f.svc.Reopen(ctx, f.resident, r.ID, "Xà bần vẫn còn ở đầu hẻm.")
		if err != nil || got.Status != request.StatusReopened {
			t.Fatalf("reopen: got %s %v", got.Status, err)
		}
		if _, err := f.svc.Handle(ctx, f.official, r.ID, request.Change{Action: "resolve", Body: "Đã dọn nốt."}); err != nil {
			t.Fatal(err)
		}
		if got, err = f.svc.Confirm(ctx, f.resident, r.ID); err != nil || got.Status != request.StatusClosed {
			t.Fatalf("confirm: got %s %v", got.Status, err)
		}
		if got, err = f.svc.Rate(ctx, f.resident, r.ID, 5, "Cảm ơn phường."); err != nil || got.Rating != 5 {
			t.Fatalf("rate: got %d %v", got.Rating, err)
		}
		st, err := f.svc.UnitStats(ctx, f.ward.ID, time.Time{})
		if err != nil || st.Received != 1 || st.Resolved != 1 || st.Satisfaction != 5 {
			t.Errorf("stats: got %+v %v, want 1 received, 1 resolved, satisfaction 5", st, err)
		}
	})
}

func TestMergeMovesFollowers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		in := request.Input{TypeCode: "ve_sinh_moi_truong", Description: "Rác tồn đọng đầu hẻm 12 Lê Lợi.", Lat: ptr(10.7726), Lon: ptr(106.6931)}
		a, err := f.svc.Submit(ctx, f.resident, in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.svc.Submit(ctx, f.resident2, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Handle(ctx, f.official, b.ID, request.Change{Action: "merge", MergeInto: a.ID})
		if err != nil || got.Status != request.StatusDuplicate || got.MergedInto != a.ID {
			t.Fatalf("merge: got %s into %d, %v", got.Status, got.MergedInto, err)
		}
		orig, err := f.svc.Get(ctx, f.resident2, a.ID)
		if err != nil || orig.Followers != 2 || !orig.Following {
			t.Errorf("original: got %d followers, following %v, %v; want 2, true", orig.Followers, orig.Following, err)
		}
	})
}

func TestDeadlineEscalatesOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		// Noise goes to the tổ head: its level above is Khu phố 1.
		r, err := f.svc.Submit(ctx, f.resident, request.Input{TypeCode: "tieng_on", Description: "Karaoke đến 1 giờ sáng mỗi đêm.", Lat: ptr(10.7726), Lon: ptr(106.6931)})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := f.q.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("before the deadline: ran %d jobs (%v), want 0", n, err)
		}
		f.clk.Set(r.AckDue.Add(time.Minute))
		// Two workers (two instances) race for the same due job.
		q2 := jobs.NewQueue(d, jobs.Options{Now: f.clk.Now})
		q2.HandleTx("request.deadline", func(ctx context.Context, tx *db.Tx, j jobs.Job) error { return errors.New("must not run") })
		var wg sync.WaitGroup
		for _, q := range []*jobs.Queue{f.q, f.q} {
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = q.RunDue(ctx) }()
		}
		wg.Wait()
		got, err := f.svc.Get(ctx, f.nbHead, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.EscalationLevel != 1 || got.EscalatedTo != f.kp1.FullName || !got.Overdue {
			t.Errorf("after the ack deadline: got level %d to %q overdue %v, want 1, %q, true", got.EscalationLevel, got.EscalatedTo, got.Overdue, f.kp1.FullName)
		}
		ns, _ := f.svc.Notifications(ctx, f.nbHead)
		if len(ns) != 1 || ns[0].Kind != "escalated" {
			t.Errorf("neighbourhood head notified: got %+v, want one escalation", ns)
		}
		page, err := f.svc.Queue(ctx, f.nbHead, request.Filter{Overdue: true, Escalated: true})
		if err != nil || len(page.Items) != 1 {
			t.Errorf("neighbourhood head's overdue queue: got %d, %v; want 1", len(page.Items), err)
		}
		if n, _ := f.q.RunDue(ctx); n != 0 {
			t.Errorf("again: ran %d jobs, want 0", n)
		}
		// Past the resolve deadline too: up to the ward.
		f.clk.Set(r.ResolveDue.Add(time.Minute))
		if _, err := f.q.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ = f.svc.Get(ctx, f.official, r.ID)
		if got.EscalationLevel != 2 || got.EscalatedTo != f.ward.FullName {
			t.Errorf("after the resolve deadline: got level %d to %q, want 2, %q", got.EscalationLevel, got.EscalatedTo, f.ward.FullName)
		}
		// A request acknowledged in time does not escalate on its ack deadline.
		r2, _ := f.svc.Submit(ctx, f.resident, request.Input{TypeCode: "tieng_on", Description: "Máy khoan từ 5 giờ sáng.", Lat: ptr(10.7726), Lon: ptr(106.6931)})
		if _, err := f.svc.Handle(ctx, f.groupHead, r2.ID, request.Change{Action: "acknowledge"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(r2.AckDue.Add(time.Minute))
		if _, err := f.q.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Get(ctx, f.official, r2.ID); got.EscalationLevel != 0 {
			t.Errorf("acknowledged in time: got escalation %d, want 0", got.EscalationLevel)
		}
	})
}

func TestQueueAndSearch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		for i := range 7 {
			typ := []string{"ve_sinh_moi_truong", "xay_dung_trai_phep"}[i%2]
			pub := i != 3
			if _, err := f.svc.Submit(ctx, f.resident, request.Input{TypeCode: typ, Description: fmt.Sprintf("Phản ánh số %d: đường Nguyễn Huệ ngập nước", i),
				Lat: ptr(10.7726), Lon: ptr(106.6931), Public: &pub}); err != nil {
				t.Fatal(err)
			}
			f.clk.Set(f.clk.Now().Add(time.Minute))
		}
		page, err := f.svc.Queue(ctx, f.official, request.Filter{Limit: 3})
		if err != nil || len(page.Items) != 3 || page.Next == "" {
			t.Fatalf("page 1: got %d next %q %v", len(page.Items), page.Next, err)
		}
		seen := map[int64]bool{}
		for next := ""; ; {
			p, err := f.svc.Queue(ctx, f.official, request.Filter{Limit: 3, After: next})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Items {
				seen[r.ID] = true
			}
			if next = p.Next; next == "" {
				break
			}
		}
		if len(seen) != 7 {
			t.Errorf("paging: got %d requests, want 7", len(seen))
		}
		if _, err := f.svc.Queue(ctx, f.resident, request.Filter{}); code(err) != apperr.Forbidden {
			t.Errorf("resident queue: got %v, want forbidden", err)
		}
		p, _ := f.svc.Queue(ctx, f.official, request.Filter{TypeCode: "xay_dung_trai_phep"})
		if len(p.Items) != 3 {
			t.Errorf("by type: got %d, want 3", len(p.Items))
		}
		p, _ = f.svc.Queue(ctx, f.official, request.Filter{Query: "nguyen hue  SO 4"})
		if len(p.Items) != 1 {
			t.Errorf("search without diacritics: got %d, want 1", len(p.Items))
		}
		pub, _ := f.svc.Public(ctx, nil, request.Filter{UnitID: f.ward.ID})
		if len(pub.Items) != 6 || slices.ContainsFunc(pub.Items, func(r request.Request) bool { return r.ReporterName != "" }) {
			t.Errorf("public list: got %d items, want 6 without reporters", len(pub.Items))
		}
	})
}

// split locates points west of longitude 106.6930 in ward 26743 (Bến
// Thành) and points east of it in ward 26740, which TestNearbyAcrossWards
// adds.
type split struct{}

func (split) Locate(lon, lat float64) (geo.Ward, bool) {
	if lon < 106.6930 {
		return geo.Ward{Code: "26743"}, true
	}
	return geo.Ward{Code: "26740"}, true
}

// Similar requests near a point are found across a ward boundary — the
// circle reaches into the next ward — and not beyond the radius, in
// another type, or once closed; without ward boundaries there are none.
func TestNearbyAcrossWards(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		err := d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO units(id, parent_id, path, level, code, name, full_name, kind, name_fold, created_at)
				VALUES (926740, 900079, '/900001/900079/926740/', 'commune', '26740', 'Phường Bên Kia', 'Phường Bên Kia', 'Phường', 'phuong ben kia', ?)`, db.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.SetLocator(split{})
		file := func(typ string, lon float64) request.Request {
			t.Helper()
			in := request.Input{TypeCode: typ, Description: "Nhà bên cạnh đang đổ sàn không có giấy phép.", Lat: ptr(10.7726), Lon: ptr(lon), Attrs: map[string]string{"stage": "frame"}}
			if typ == "tieng_on" {
				in.Attrs = nil
			}
			r, err := f.svc.Submit(ctx, f.resident, in)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		east := file("xay_dung_trai_phep", 106.6939)   // 98 m east of the boundary
		file("xay_dung_trai_phep", 106.6960)           // 325 m east of it
		file("tieng_on", 106.6935)                     // near, another type
		closed := file("xay_dung_trai_phep", 106.6933) // near, then closed
		west := file("xay_dung_trai_phep", 106.6925)   // in the querying point's own ward
		if east.WardCode != "26740" || west.WardCode != "26743" {
			t.Fatalf("routing: east in %s, west in %s", east.WardCode, west.WardCode)
		}
		if err := d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE requests SET status = 'closed' WHERE id = ?", closed.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		near, err := f.svc.Nearby(ctx, f.resident2, "xay_dung_trai_phep", 10.7726, 106.69255) // 49 m west of the boundary
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range near {
			got = append(got, r.ID)
		}
		if want := []int64{west.ID, east.ID}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("nearby: got %v, want %v (newest first: the west one, then across the boundary)", got, want)
		}
		unbounded := request.New(d, f.areas, request.Config{Now: f.clk.Now})
		if near, err := unbounded.Nearby(ctx, f.resident2, "xay_dung_trai_phep", 10.7726, 106.69255); err != nil || len(near) != 0 {
			t.Errorf("without boundaries: got %d (%v), want none", len(near), err)
		}
	})
}

// Requests routed to a ward, a khu phố and a tổ are counted, listed and
// mapped at each level of the tree, whichever index serves the level:
// (ward_id, created_at) for the ward, the partial index of requests routed
// below their ward for the khu phố and the tổ, newest first for the
// province. On SQLite, INDEXED BY fails unless the partial index can serve
// a below-ward scope's condition.
func TestScopesAtEveryLevel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		pub := true
		// The ward's request has a point far from any household, the tổ's
		// the household's; the khu phố's is filed by unit, with no point.
		for _, c := range []struct {
			unit     area.Unit
			lat, lon *float64
		}{{f.ward, ptr(10.7800), ptr(106.7000)}, {f.kp1, nil, nil}, {f.to1, ptr(10.7725), ptr(106.6930)}} {
			in := request.Input{TypeCode: "gop_y_khac", Description: "Đèn đường hỏng ở " + c.unit.Name, Lat: c.lat, Lon: c.lon, Public: &pub, OnBehalf: true, ReporterName: "Bà Tư"}
			if c.lat == nil {
				in.UnitID = c.unit.ID
			}
			r, err := f.svc.Submit(ctx, f.official, in)
			if err != nil {
				t.Fatal(err)
			}
			if r.UnitID != c.unit.ID {
				t.Fatalf("filed for %s: routed to unit %d", c.unit.Name, r.UnitID)
			}
		}
		for _, c := range []struct {
			unit        area.Unit
			want, marks int
		}{{f.province, 3, 2}, {f.ward, 3, 2}, {f.kp1, 2, 1}, {f.to1, 1, 1}} {
			st, err := f.svc.UnitStats(ctx, c.unit.ID, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Received != c.want {
				t.Errorf("stats of %s: %d received, want %d", c.unit.Name, st.Received, c.want)
			}
			marks, _, err := f.svc.Markers(ctx, "vi", request.Filter{UnitID: c.unit.ID}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(marks) != c.marks {
				t.Errorf("map of %s: %d markers, want %d", c.unit.Name, len(marks), c.marks)
			}
			page, err := f.svc.Queue(ctx, f.admin, request.Filter{UnitID: c.unit.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != c.want {
				t.Errorf("queue of %s: %d requests, want %d", c.unit.Name, len(page.Items), c.want)
			}
		}
		if d.Dialect == db.SQLite {
			lo, hi := db.SubtreeRange(f.kp1.Path)
			var n int
			if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM requests r INDEXED BY requests_below_ward
				WHERE (r.unit_path >= ? AND r.unit_path < ? AND r.unit_id <> r.ward_id)`, lo, hi).Scan(&n); err != nil || n != 2 {
				t.Errorf("below-ward scope through requests_below_ward: %d, %v; want 2", n, err)
			}
		}
	})
}
