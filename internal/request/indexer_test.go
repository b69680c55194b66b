package request_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/request"
)

func countRows(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// idsOf returns pageIDs for t, to wrap a call that returns a page and an
// error.
func idsOf(t *testing.T) func(request.Page, error) []int64 {
	return func(p request.Page, err error) []int64 {
		t.Helper()
		return pageIDs(t, p, err)
	}
}

func queued(t *testing.T, d *db.DB) int {
	t.Helper()
	return countRows(t, d, "SELECT COUNT(*) FROM request_index_queue")
}

// TestSearchIndexesQueuedRequests: intake leaves a request's postings to
// the indexer; a search made before any indexer ran still finds it, on
// another service over the same database too (another instance, or this
// one after a restart: the queue is a table), and leaves the index whole.
func TestSearchIndexesQueuedRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		defer request.SetIndexBatch(2)() // several passes for three requests
		var want []int64
		for i, desc := range []string{"Cây đổ chắn hẻm Khánh Hội.", "Đèn đường hỏng ở Khánh Hội, tối om.", "Rác ở chợ Khánh Hội chưa ai dọn."} {
			r, err := f.svc.Submit(ctx, f.official, request.Input{TypeCode: "gop_y_khac", Description: desc, UnitID: f.to1.ID, OnBehalf: true, ReporterName: fmt.Sprint("Người báo ", i)})
			if err != nil {
				t.Fatal(err)
			}
			want = append([]int64{r.ID}, want...) // newest first
			f.clk.Set(f.clk.Now().Add(time.Minute))
		}
		if n := queued(t, d); n != 3 {
			t.Fatalf("queued after intake: %d, want 3", n)
		}
		if n := indexedCount(t, d); n != 0 {
			t.Fatalf("postings written by intake: %d, want none (the indexer writes them)", n)
		}
		other := request.New(d, f.areas, request.Config{Now: f.clk.Now})
		other.SetLocator(box{})
		if got := idsOf(t)(other.Queue(ctx, f.official, request.Filter{Query: "khanh hoi"})); !slices.Equal(got, want) {
			t.Errorf("search on another instance: got %v, want %v", got, want)
		}
		if n := queued(t, d); n != 0 {
			t.Errorf("queued after the search: %d, want none", n)
		}
		checkIndex(t, d)
		if got := idsOf(t)(f.svc.Queue(ctx, f.official, request.Filter{Query: "den duong"})); !slices.Equal(got, want[1:2]) {
			t.Errorf("second search: got %v, want %v", got, want[1:2])
		}
	})
}

// TestIndexerDrainsQueue: the background indexer writes the postings of
// what concurrent intake queues, soon after and without a search asking,
// in several transactions when the queue is longer than one.
func TestIndexerDrainsQueue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		defer request.SetIndexBatch(8)()
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { f.svc.RunIndexer(ctx); close(stopped) }()
		defer func() { cancel(); <-stopped }()
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Submit(ctx, f.official, request.Input{TypeCode: "gop_y_khac", Description: fmt.Sprintf("Cống số %d đường Hoà Bình bị nghẹt.", i), UnitID: f.kp1.ID, OnBehalf: true, ReporterName: "Cô Năm"})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for queued(t, d) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d requests still queued after 20 s", queued(t, d))
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := indexedCount(t, d); n != 40 {
			t.Errorf("requests with postings: %d, want 40", n)
		}
		checkIndex(t, d)
	})
}

// TestRerouteOfQueuedRequest: re-routing a request whose postings are
// still queued writes them under its new unit and type, takes it off the
// queue, and leaves nothing stale for the indexer to add.
func TestRerouteOfQueuedRequest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		a, err := f.svc.Submit(ctx, f.official, request.Input{TypeCode: "gop_y_khac", Description: "Karaoke khuya ở hẻm 5.", UnitID: f.to1.ID, OnBehalf: true, ReporterName: "Bà Sáu"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Handle(ctx, f.official, a.ID, request.Change{Action: "reroute", UnitID: f.kp1.ID, TypeCode: "tieng_on", Body: "Thuộc khu phố."}); err != nil {
			t.Fatal(err)
		}
		if n := queued(t, d); n != 0 {
			t.Errorf("queued after re-routing: %d, want none", n)
		}
		checkIndex(t, d)
		if got := idsOf(t)(f.svc.Queue(ctx, f.official, request.Filter{Query: "tieng on karaoke"})); !slices.Equal(got, []int64{a.ID}) {
			t.Errorf("found by the new type: got %v, want [%d]", got, a.ID)
		}
		if got := idsOf(t)(f.svc.Queue(ctx, f.official, request.Filter{Query: "kien nghi karaoke"})); len(got) != 0 {
			t.Errorf("found by the old type: got %v, want none", got)
		}
		checkIndex(t, d)
	})
}

// TestIndexersOfTwoInstances: two instances' indexers and searches over
// one queue write every posting once (on PostgreSQL each takes its ids
// with SKIP LOCKED; a plain INSERT would fail on a posting written twice).
func TestIndexersOfTwoInstances(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		defer request.SetIndexBatch(4)()
		ctx := context.Background()
		for i := range 60 {
			if _, err := f.svc.Submit(ctx, f.official, request.Input{TypeCode: "gop_y_khac", Description: fmt.Sprintf("Hố ga số %d trên đường Lê Lợi mất nắp.", i), UnitID: f.to1.ID, OnBehalf: true, ReporterName: "Chú Bảy"}); err != nil {
				t.Fatal(err)
			}
		}
		other := request.New(d, f.areas, request.Config{Now: f.clk.Now})
		other.SetLocator(box{})
		rctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, s := range []*request.Service{f.svc, other} {
			wg.Add(2)
			go func() { defer wg.Done(); s.RunIndexer(rctx) }()
			go func() {
				defer wg.Done()
				if got := idsOf(t)(s.Queue(ctx, f.official, request.Filter{Query: "ho ga", Limit: 100})); len(got) != 60 {
					t.Errorf("search while indexing: %d found, want 60", len(got))
				}
			}()
		}
		deadline := time.Now().Add(20 * time.Second)
		for queued(t, d) > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		if n := queued(t, d); n != 0 {
			t.Fatalf("%d still queued", n)
		}
		checkIndex(t, d)
	})
}
