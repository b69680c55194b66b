package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/app"
	"github.com/trothu/trothu/internal/web"
)

type testClock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.d) }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.d += d
	c.mu.Unlock()
}

// TestRequestFlowAndEscalation drives the headline flow through
// the JSON API, on a server whose services run on an injected clock: a
// resident reports illegal construction at a point in the demo ward; it
// lands in the ward's queue with the urban-order team; an official
// assigns, replies and resolves; the resident confirms and rates. Another
// request (noise, handled by the tổ head) passes its deadline when the
// clock moves, and escalates to the khu phố above: its head is notified
// and sees it in the queue, marked overdue.
func TestRequestFlowAndEscalation(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		clk := &testClock{}
		quiet := slog.New(slog.DiscardHandler)
		services, err := app.New(ctx, e.db, app.Config{SecretKey: testKey, Logger: quiet, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		gix, err := loadGeo()
		if err != nil {
			t.Fatal(err)
		}
		srv, err := web.New(web.Config{Demo: true}, web.Deps{DB: e.db, Accounts: e.accounts, Areas: e.areas, Geo: gix, Logger: quiet,
			Jobs: services.Jobs, Requests: services.Requests})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		defer hs.Close()
		c := &env{URL: hs.URL} // the same helpers, against this server
		resident, official := e.signIn(t, phoneResident), e.signIn(t, phoneOfficial)
		groupHead, nbHead := e.signIn(t, phoneGroupHead), e.signIn(t, phoneNeighbourhood)

		// Before submitting, the resident sees where it goes.
		rt := c.must(t, 200, "GET", "/requests/route?type=xay_dung_trai_phep&lat=10.772555&lon=106.692987", resident, nil)
		if rt.str("ward_code") != "26743" || !strings.Contains(rt.str("agency"), "trật tự đô thị") {
			t.Errorf("route: got %v, want Bến Thành's urban-order team", rt.v)
		}
		r := c.must(t, http.StatusCreated, "POST", "/requests", resident, map[string]any{"type": "xay_dung_trai_phep",
			"description": "Nhà bên cạnh đang xây thêm tầng 5, không thấy bảng cấp phép.", "lat": 10.772555, "lon": 106.692987, "attributes": map[string]string{"stage": "frame"}})
		id := r.num("id")
		q := c.must(t, 200, "GET", "/requests/queue?type=xay_dung_trai_phep&status=new", official, nil)
		if !hasItem(q, id) {
			t.Fatalf("ward queue: request %d missing: %v", id, q.v)
		}
		me := c.must(t, 200, "GET", "/me", official, nil)
		c.must(t, 200, "POST", fmt.Sprintf("/requests/%d/actions", id), official, map[string]any{"action": "assign", "assignee_id": me.num("id")})
		c.must(t, 200, "POST", fmt.Sprintf("/requests/%d/actions", id), official, map[string]any{"action": "reply", "body": "Đội trật tự đô thị sẽ kiểm tra trong ngày mai."})
		if r := c.call(t, "POST", fmt.Sprintf("/requests/%d/actions", id), official, map[string]any{"action": "resolve"}, "", ""); r.status != 400 {
			t.Errorf("resolve without a reply: got %d, want 400", r.status)
		}
		res := c.must(t, 200, "POST", fmt.Sprintf("/requests/%d/actions", id), official, map[string]any{"action": "resolve", "body": "Đã lập biên bản, đình chỉ thi công."})
		if res.str("status") != "resolved" {
			t.Errorf("after resolve: got %q", res.str("status"))
		}
		notes := c.must(t, 200, "GET", "/me/request-notifications", resident, nil)
		if len(notes.get("items").v.([]any)) < 2 {
			t.Errorf("resident notifications: got %v, want the reply and the resolution", notes.v)
		}
		c.must(t, 200, "POST", fmt.Sprintf("/requests/%d/confirm", id), resident, nil)
		rated := c.must(t, 200, "POST", fmt.Sprintf("/requests/%d/rating", id), resident, map[string]any{"rating": 5, "comment": "Xử lý nhanh."})
		if rated.str("status") != "closed" || rated.num("rating") != 5 {
			t.Errorf("after confirm and rating: got %s %d", rated.str("status"), rated.num("rating"))
		}

		// The second request passes its deadline.
		n := c.must(t, http.StatusCreated, "POST", "/requests", resident, map[string]any{"type": "tieng_on", "description": "Quán karaoke hát đến 2 giờ sáng."})
		nid := n.num("id")
		if n.num("escalation_level") != 0 {
			t.Fatalf("new request: escalation %d", n.num("escalation_level"))
		}
		if q := c.must(t, 200, "GET", "/requests/queue?overdue=1", nbHead, nil); hasItem(q, nid) {
			t.Errorf("before the deadline: the request is already overdue")
		}
		due, err := time.Parse(time.RFC3339Nano, n.str("ack_due"))
		if err != nil {
			t.Fatalf("ack_due %q: %v", n.str("ack_due"), err)
		}
		clk.Advance(time.Until(due) + time.Minute) // just past the acknowledge deadline
		for {                                      // every due job, the demo's and other tests' included
			n, err := services.Jobs.RunDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		q = c.must(t, 200, "GET", "/requests/queue?overdue=1&escalated=1", nbHead, nil)
		if !hasItem(q, nid) {
			t.Fatalf("neighbourhood head's overdue queue: request %d missing: %v", nid, q.v)
		}
		got := c.must(t, 200, "GET", fmt.Sprintf("/requests/%d", nid), groupHead, nil)
		if got.num("escalation_level") < 1 || !strings.Contains(got.str("escalated_to"), "Khu phố 1") || got.get("overdue").v != true {
			t.Errorf("escalated request: got level %d to %q overdue %v", got.num("escalation_level"), got.str("escalated_to"), got.get("overdue").v)
		}
		// The queue exports as CSV and XLSX.
		csv := c.call(t, "GET", "/requests/queue/export?type=xay_dung_trai_phep", official, nil, "", "")
		if csv.status != 200 || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") || !strings.Contains(string(csv.raw), "Nhà bên cạnh đang xây") {
			t.Errorf("CSV export: got %d %s %.200s", csv.status, csv.header.Get("Content-Type"), csv.raw)
		}
		xl := c.call(t, "GET", "/requests/queue/export?format=xlsx", official, nil, "", "")
		if xl.status != 200 || !strings.HasPrefix(string(xl.raw), "PK") {
			t.Errorf("XLSX export: got %d, %q…, want a zip", xl.status, xl.raw[:min(4, len(xl.raw))])
		}
		if r := c.call(t, "GET", "/requests/queue/export", groupHead, nil, "", ""); r.status != 403 {
			t.Errorf("export by a tổ head: got %d, want 403", r.status)
		}
		ns := c.must(t, 200, "GET", "/me/request-notifications", nbHead, nil)
		if !strings.Contains(fmt.Sprint(ns.v), "escalated") {
			t.Errorf("neighbourhood head notifications: got %v, want an escalation", ns.v)
		}
	})
}

func hasItem(list jv, id int64) bool {
	items, _ := list.get("items").v.([]any)
	for i := range items {
		if list.num(fmt.Sprintf("items.%d.id", i)) == id {
			return true
		}
	}
	return false
}
