package request_test

import (
	"context"
	"testing"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/request"
)

// BenchmarkUnreadBadge measures the layout's unread badge and the first
// page of "Thông báo về phản ánh" for an account with 20,000 notifications
// of which 5 are unread (an official of many escalations, a resident of
// years), on both engines.
//
//	go test -run '^$' -bench BenchmarkUnreadBadge -benchtime 200x ./internal/request/
func BenchmarkUnreadBadge(b *testing.B) {
	for _, dialect := range []db.Dialect{db.SQLite, db.Postgres} {
		b.Run(string(dialect), func(b *testing.B) {
			d := dbtest.Open(b, dialect)
			ctx := context.Background()
			now := db.Now()
			var accID int64
			err := d.Write(ctx, func(tx *db.Tx) error {
				for _, u := range []struct {
					id, parent              int64
					path, level, code, name string
				}{
					{800001, 0, "/800001/", "country", "VN", "Việt Nam"},
					{800079, 800001, "/800001/800079/", "province", "79", "Thành phố Hồ Chí Minh"},
					{826743, 800079, "/800001/800079/826743/", "commune", "26743", "Phường Bến Thành"},
				} {
					var parent any
					if u.parent != 0 {
						parent = u.parent
					}
					if _, err := tx.Exec(ctx, `INSERT INTO units(id, parent_id, path, level, code, name, full_name, kind, name_fold, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
						u.id, parent, u.path, u.level, u.code, u.name, u.name, "x", u.name, now); err != nil {
						return err
					}
				}
				return tx.QueryRow(ctx, "INSERT INTO accounts(phone, name, created_at) VALUES ('+84900000099', 'Người dân', ?) RETURNING id", now).Scan(&accID)
			})
			if err != nil {
				b.Fatal(err)
			}
			svc := request.New(d, area.NewService(d, key), request.Config{})
			if err := svc.SeedTypes(ctx); err != nil {
				b.Fatal(err)
			}
			p := &account.Principal{AccountID: accID, Name: "Người dân"}
			r, err := svc.Submit(ctx, p, request.Input{TypeCode: "gop_y_khac", Description: "Một góp ý đủ dài để gửi.", UnitID: 826743})
			if err != nil {
				b.Fatal(err)
			}
			err = d.Write(ctx, func(tx *db.Tx) error {
				for i := range 20000 {
					var seen any = now
					if i%4000 == 0 {
						seen = nil
					}
					if _, err := tx.Exec(ctx, "INSERT INTO request_notifications(account_id, request_id, kind, created_at, seen_at) VALUES (?, ?, 'status', ?, ?)",
						accID, r.ID, now, seen); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.Run("badge", func(b *testing.B) {
				for b.Loop() {
					if n, err := svc.UnreadNotifications(ctx, p); err != nil || n != 5 {
						b.Fatalf("unread: got %d (%v), want 5", n, err)
					}
				}
			})
			b.Run("first_page", func(b *testing.B) {
				for b.Loop() {
					if items, _, err := svc.NotificationPage(ctx, p, 0, 20); err != nil || len(items) != 20 {
						b.Fatalf("page: got %d (%v), want 20", len(items), err)
					}
				}
			})
		})
	}
}
