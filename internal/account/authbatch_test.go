package account

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

// Many requests authenticating at once (batched into shared statements on
// PostgreSQL) each get their own account and grants; unknown tokens and
// the same token twice in one batch are answered correctly.
func TestAuthenticateConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		type user struct {
			token  string
			id     int64
			grants int
		}
		var users []user
		for i := range 6 {
			phone := fmt.Sprintf("09330001%02d", i)
			var grants []any
			switch i % 3 {
			case 1:
				grants = []any{RoleOfficial, wardA}
			case 2:
				grants = []any{RoleOfficial, wardB, RoleGroupHead, kp4}
			}
			a := f.account(phone, fmt.Sprintf("Người %d", i), grants...)
			sess, _ := f.signIn(phone, SessionAPI)
			users = append(users, user{sess.Token, a.ID, len(grants) / 2})
		}
		unknown := users[0].token[:40] + "zzz"
		var wg sync.WaitGroup
		errs := make(chan error, 400)
		for n := range 400 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if n%10 == 9 {
					if _, err := f.s.Authenticate(ctx, unknown); apperr.CodeOf(err) != apperr.Unauthenticated {
						errs <- fmt.Errorf("unknown token: got %v, want Unauthenticated", err)
					}
					return
				}
				u := users[n%len(users)]
				p, err := f.s.Authenticate(ctx, u.token)
				switch {
				case err != nil:
					errs <- fmt.Errorf("user %d: %v", u.id, err)
				case p.AccountID != u.id || len(p.Grants) != u.grants || p.SessionID != hashToken(u.token):
					errs <- fmt.Errorf("user %d: got account %d with %d grants (session %s), want %d grants", u.id, p.AccountID, len(p.Grants), p.SessionID, u.grants)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}

		// One statement for several hashes, some repeated, one unknown.
		h := func(i int) string { return hashToken(users[i].token) }
		rows, err := lookupSessions(ctx, d, []string{h(2), hashToken(unknown), h(1), h(2), h(5)})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []struct {
			found  bool
			id     int64
			grants int
		}{{true, users[2].id, 2}, {false, 0, 0}, {true, users[1].id, 1}, {true, users[2].id, 2}, {true, users[5].id, 2}} {
			r := rows[i]
			if r.found != want.found || r.p.AccountID != want.id || len(r.p.Grants) != want.grants {
				t.Errorf("row %d: got found %v account %d grants %d, want %+v", i, r.found, r.p.AccountID, len(r.p.Grants), want)
			}
		}
		// Repeated hashes do not share their grants slice.
		if len(rows[0].p.Grants) > 0 && &rows[0].p.Grants[0] == &rows[3].p.Grants[0] {
			t.Error("the same token twice shares one grants slice")
		}
	})
}
