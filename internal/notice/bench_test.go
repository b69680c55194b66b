package notice_test

import (
	"context"
	"testing"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/notice"
)

// BenchmarkAck measures Ack through the service (no HTTP), many at once:
// go test -bench Ack -run ^$ ./internal/notice
func BenchmarkAck(b *testing.B) {
	for _, e := range []db.Dialect{db.SQLite, db.Postgres} {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.Open(b, e)
			w := newWorld(b, d, 700)
			ctx := context.Background()
			var members []*account.Principal
			for _, to := range []int64{w.to1, w.to2, w.to3} {
				for _, h := range w.households[to] {
					members = append(members, w.account(b, "Chủ hộ", account.RoleResident, to, "", w.headOf(b, h)))
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i += len(members) {
				b.StopTimer()
				n, err := w.svc.Create(ctx, w.official, notice.Input{UnitID: w.ward, Title: "Bench", Body: "Bench"})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				todo := members[:min(len(members), b.N-i)]
				next := make(chan *account.Principal, len(todo))
				for _, m := range todo {
					next <- m
				}
				close(next)
				done := make(chan error, 64)
				for range 64 {
					go func() {
						for m := range next {
							if _, err := w.svc.Ack(ctx, m, n.ID); err != nil {
								done <- err
								return
							}
						}
						done <- nil
					}()
				}
				for range 64 {
					if err := <-done; err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
