package account

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

// BenchmarkAuthenticate measures the per-request cost of a session token on
// SQLite: one read of session and account, one of the grants (the clock
// stands still, so last_seen_at is not rewritten).
//
//	go test -run '^$' -bench Authenticate -benchmem ./internal/account/
func BenchmarkAuthenticate(b *testing.B) {
	d := dbtest.Open(b, db.SQLite)
	ctx := context.Background()
	now := time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC)
	s := New(d, Config{SecretKey: testKey, Now: func() time.Time { return now }})
	var tokens []string
	err := d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO units(id, path, level, name, full_name, kind, name_fold, created_at)
			VALUES (1, '/1/', 'ward', 'Phường Bến Thành', 'Phường Bến Thành', 'ward', 'phuong ben thanh', 0)`); err != nil {
			return err
		}
		for i := range 1000 {
			id, err := insertAccount(ctx, tx, fmt.Sprintf("+8491%07d", i), "Người dùng", 0, 0)
			if err != nil {
				return err
			}
			if _, err := insertGrant(ctx, tx, id, RoleOfficial, 1, "/1/", 0, 0); err != nil {
				return err
			}
			sess, _, err := s.createSession(ctx, tx, id, SessionWeb, "", "", now)
			if err != nil {
				return err
			}
			tokens = append(tokens, sess.Token)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Authenticate(ctx, tokens[i%len(tokens)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
