package request_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/request"
)

// Requests submitted at once share transactions and multi-row statements
// (the intake batcher): each still gets its own id, row, reporter,
// follower and deadline job.
func TestIntakeConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		const n = 120
		type out struct {
			r   request.Request
			err error
		}
		res := make([]out, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := request.Input{TypeCode: "tieng_on", Description: fmt.Sprintf("Karaoke số %d hát đến 1 giờ sáng.", i),
					Lat: ptr(10.7726), Lon: ptr(106.6931), Urgent: i%5 == 0}
				var p *account.Principal
				switch i % 3 {
				case 0:
					in.Channel = request.ChannelOpen311
					in.ReporterName = "Tích hợp"
				case 1:
					p = f.resident
				default:
					p = f.resident2
				}
				r, err := f.svc.Submit(ctx, p, in)
				res[i] = out{r, err}
			}()
		}
		wg.Wait()
		ids := map[int64]int{}
		for i, o := range res {
			if o.err != nil {
				t.Fatalf("request %d: %v", i, o.err)
			}
			if j, dup := ids[o.r.ID]; dup || o.r.ID == 0 {
				t.Fatalf("request %d: id %d (also request %d)", i, o.r.ID, j)
			}
			ids[o.r.ID] = i
		}
		for id, i := range ids {
			got, err := f.svc.Get(ctx, f.official, id)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("Karaoke số %d hát đến 1 giờ sáng.", i)
			if got.Description != want || got.Token != res[i].r.Token || (got.Priority == "urgent") != (i%5 == 0) {
				t.Errorf("request %d (id %d): got %q token %s priority %s, want %q token %s", i, id, got.Description, got.Token, got.Priority, want, res[i].r.Token)
			}
			wantName := map[int]string{0: "Tích hợp", 1: f.resident.Name, 2: f.resident2.Name}[i%3]
			if got.ReporterName != wantName {
				t.Errorf("request %d: reporter %q, want %q", i, got.ReporterName, wantName)
			}
			wantFollowers := map[bool]int{true: 0, false: 1}[i%3 == 0]
			if got.Followers != wantFollowers {
				t.Errorf("request %d: %d followers, want %d", i, got.Followers, wantFollowers)
			}
		}
		st, err := jobs.Count(ctx, d, "request.deadline")
		if err != nil || st.Pending != n {
			t.Errorf("deadline jobs: got %+v (%v), want %d pending", st, err, n)
		}
		var keys int
		if err := d.QueryRow(ctx, "SELECT COUNT(DISTINCT key) FROM jobs WHERE kind = 'request.deadline'").Scan(&keys); err != nil || keys != n {
			t.Errorf("deadline job keys: got %d (%v), want %d distinct", keys, err, n)
		}
	})
}
