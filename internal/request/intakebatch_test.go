package request_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/geo"
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

// wards locates a point in one of n wards by its latitude, so that
// consecutive requests land in different wards as the national bench's
// do (benchWards makes them).
type wards struct{ n int }

func (w wards) Locate(lon, lat float64) (geo.Ward, bool) {
	return geo.Ward{Code: fmt.Sprintf("B%04d", int(lat*1e4)%w.n)}, true
}

// benchWards adds n wards under the fixture's province, coded B0000….
func benchWards(b *testing.B, f *fx, n int) {
	ctx := context.Background()
	err := f.d.Write(ctx, func(tx *db.Tx) error {
		for i := range n {
			id := int64(800000 + i)
			if _, err := tx.Exec(ctx, `INSERT INTO units(id, parent_id, path, level, code, name, full_name, kind, name_fold, created_at)
				VALUES (?, ?, ?, 'commune', ?, ?, ?, 'Phường', ?, ?)`, id, f.province.ID, fmt.Sprintf("%s%d/", f.province.Path, id),
				fmt.Sprintf("B%04d", i), fmt.Sprintf("Phường %d", i), fmt.Sprintf("Phường %d", i), fmt.Sprintf("phuong %d", i), db.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIntake times intake without HTTP: 64 goroutines file Open311
// requests through Service.Submit — validation, routing to one of 1,000
// wards, deadlines, the group-committed write — while the search indexer
// runs as in service; the run ends when every request is indexed. It
// isolates the database's share of `trothu bench request-intake`.
//
//	go test -run '^$' -bench BenchmarkIntake -benchtime 20000x ./internal/request/
func BenchmarkIntake(b *testing.B) {
	words := []string{"Đèn đường", "Rác thải", "Ngập nước", "Lấn chiếm", "Vỉa hè", "Tiếng ồn", "Karaoke", "Cống", "Ổ gà", "Cây xanh"}
	streets := []string{"Lê Lợi", "Nguyễn Huệ", "Lê Thánh Tôn", "Nguyễn Trãi", "Phạm Ngũ Lão", "Bùi Viện", "Đề Thám"}
	for _, e := range []db.Dialect{db.SQLite, db.Postgres} {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.Open(b, e)
			f := setup(b, d)
			benchWards(b, f, 1000)
			f.svc.SetLocator(wards{1000})
			ctx, cancel := context.WithCancel(context.Background())
			indexer := make(chan struct{})
			go func() { f.svc.RunIndexer(ctx); close(indexer) }()
			defer func() { cancel(); <-indexer }()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := int(next.Add(1)); k <= b.N; k = int(next.Add(1)) {
						in := request.Input{TypeCode: "gop_y_khac", Channel: request.ChannelOpen311,
							Description: fmt.Sprintf("%s, %s trước nhà số %d đường %s nhiều ngày nay, đề nghị phường xử lý sớm.",
								words[k%len(words)], strings.ToLower(words[k*7%len(words)]), 1+k*13%300, streets[k*3%len(streets)]),
							Lat: ptr(10 + float64(k*7919%100000)/1e4), Lon: ptr(106.7)}
						if _, err := f.svc.Submit(ctx, nil, in); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			for {
				var queued int
				if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM request_index_queue").Scan(&queued); err != nil {
					b.Fatal(err)
				}
				if queued == 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
		})
	}
}
