package account

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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
		rows, err := lookupSessions(ctx, d.QueryKeyed, []string{h(2), hashToken(unknown), h(1), h(2), h(5)})
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

// AuthenticateTx, which a batch of acknowledgements runs inside its own
// write, answers every token as Authenticate does — valid, unknown,
// malformed, signed out, idle, expired, disabled — and writes last_seen_at
// in the transaction when it is due, and only then.
func TestAuthenticateTxAgreesWithAuthenticate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		official := f.account("0933000111", "Đặng Cán Bộ", RoleOfficial, wardA, RoleGroupHead, kp4)
		f.account("0933000112", "Người Bị Khoá", RoleOfficial, wardB)
		f.account("0933000113", "Người Đăng Xuất", RoleOfficial, wardB)
		f.account("0933000114", "Người Vắng Lâu", RoleOfficial, wardB)
		idle, _ := f.signIn("0933000114", SessionWeb)
		f.clock.Advance(14*24*time.Hour + time.Minute) // idle's 14 days are over
		valid, _ := f.signIn("0933000111", SessionWeb)
		disabled, _ := f.signIn("0933000112", SessionAPI)
		out := f.signedOut("0933000113")
		f.disable("+84933000112")
		tokens := []string{valid.Token, "", "short", valid.Token[:42] + "~", disabled.Token, out.Token, idle.Token, valid.Token}
		check := func(when string) {
			t.Helper()
			ps, errs, err := authTx(ctx, d, f.s, tokens...)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			for i, tok := range tokens {
				want, wantErr := f.s.Authenticate(ctx, tok)
				if (errs[i] == nil) != (wantErr == nil) || errs[i] != nil && errs[i].Error() != wantErr.Error() {
					t.Errorf("%s: token %d: got error %v, Authenticate says %v", when, i, errs[i], wantErr)
					continue
				}
				if wantErr != nil {
					if ps[i] != nil {
						t.Errorf("%s: token %d: a principal with error %v", when, i, errs[i])
					}
					continue
				}
				if fmt.Sprint(*ps[i]) != fmt.Sprint(*want) {
					t.Errorf("%s: token %d: got %+v, Authenticate says %+v", when, i, *ps[i], *want)
				}
			}
		}
		check("fresh")
		ps, errs, err := authTx(ctx, d, f.s, tokens...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range tokens {
			if valid := i == 0 || i == len(tokens)-1; valid != (errs[i] == nil) || !valid && apperr.CodeOf(errs[i]) != apperr.Unauthenticated {
				t.Errorf("token %d: got %v, want valid %v (else Unauthenticated)", i, errs[i], valid)
			}
		}
		if ps[0] == nil || ps[0].AccountID != official.ID || len(ps[0].Grants) != 2 || ps[7] == nil || ps[7].AccountID != official.ID {
			t.Fatalf("valid token: got %+v and %+v; want account %d with 2 grants", ps[0], ps[7], official.ID)
		}

		// last_seen_at: untouched within the minute, written after it.
		seen := f.lastSeen(valid.Token)
		f.clock.Advance(30 * time.Second)
		if _, _, err := authTx(ctx, d, f.s, valid.Token); err != nil {
			t.Fatal(err)
		}
		if got := f.lastSeen(valid.Token); got != seen {
			t.Fatalf("after 30 s: last seen moved from %d to %d", seen, got)
		}
		f.clock.Advance(31 * time.Second)
		if _, _, err := authTx(ctx, d, f.s, valid.Token, valid.Token); err != nil {
			t.Fatal(err)
		}
		if got := f.lastSeen(valid.Token); got != db.Millis(f.clock.Now()) {
			t.Fatalf("after 61 s: got last seen %d, want %d", got, db.Millis(f.clock.Now()))
		}
		// Past the web session's 30 days: expired for both.
		f.clock.Advance(31 * 24 * time.Hour)
		check("expired")
		if _, errs, _ := authTx(ctx, d, f.s, valid.Token); apperr.CodeOf(errs[0]) != apperr.Unauthenticated {
			t.Fatalf("expired token: got %v, want Unauthenticated", errs[0])
		}
	})
}

func authTx(ctx context.Context, d *db.DB, s *Service, tokens ...string) (ps []*Principal, errs []error, err error) {
	err = d.Write(ctx, func(tx *db.Tx) (err error) {
		ps, errs, err = s.AuthenticateTx(ctx, tx, tokens)
		return err
	})
	return ps, errs, err
}

// FreshSessionJoin finds a session exactly when Authenticate accepts it
// and would not write its last_seen_at: never an expired, idle, signed-out
// or disabled one, nor one due for its last-seen write (those take the
// long way, through Authenticate).
func TestFreshSessionJoin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.account("0933000121", "Người Vắng Lâu", RoleOfficial, wardB)
		f.account("0933000122", "Người Dùng", RoleOfficial, wardA)
		f.account("0933000123", "Người Bị Khoá", RoleOfficial, wardB)
		f.account("0933000124", "Người Đăng Xuất", RoleOfficial, wardB)
		idle, _ := f.signIn("0933000121", SessionWeb)
		f.clock.Advance(13 * 24 * time.Hour)
		stale, _ := f.signIn("0933000122", SessionWeb) // seen 13 days ago at the end
		f.clock.Advance(24*time.Hour + time.Minute)    // idle's 14 days are over
		fresh, _ := f.signIn("0933000122", SessionAPI)
		disabled, _ := f.signIn("0933000123", SessionWeb)
		out := f.signedOut("0933000124")
		f.disable("+84933000123")
		q := "SELECT COUNT(*) FROM (SELECT CAST(? AS TEXT) AS h, CAST(? AS BIGINT) AS at) v " + f.s.FreshSessionJoin("v.h", "v.at")
		found := func(token string) bool {
			t.Helper()
			h, ok := SessionHash(token)
			if !ok {
				t.Fatalf("token %q: no hash", token)
			}
			var n int
			if err := d.QueryRow(ctx, q, h, db.Millis(f.clock.Now())).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 1
		}
		// At each step the join is asked first, then Authenticate, which
		// writes last_seen_at when due.
		for _, step := range []struct {
			advance time.Duration
			want    map[string]bool
		}{
			{0, map[string]bool{"fresh": true}}, // stale: seen a day ago
			{59 * time.Second, map[string]bool{"fresh": true, "stale": true}},
			{2 * time.Second, map[string]bool{}},               // both due for their last-seen write
			{0, map[string]bool{"fresh": true, "stale": true}}, // written
			{31 * 24 * time.Hour, map[string]bool{}},           // the web session expired, the API one idle
		} {
			f.clock.Advance(step.advance)
			for name, tok := range map[string]string{"fresh": fresh.Token, "stale": stale.Token, "idle": idle.Token, "disabled": disabled.Token, "signed out": out.Token} {
				got := found(tok)
				_, authErr := f.s.Authenticate(ctx, tok)
				if got != step.want[name] {
					t.Errorf("at +%v: %s session: found %v, want %v (Authenticate: %v)", step.advance, name, got, step.want[name], authErr)
				}
				if got && authErr != nil {
					t.Errorf("at +%v: %s session found, but Authenticate refuses it: %v", step.advance, name, authErr)
				}
			}
		}
		if _, ok := SessionHash("short"); ok {
			t.Error("a short token has a session hash")
		}
	})
}

// signedOut returns a web session of phone's account that has signed out.
func (f *fixture) signedOut(phone string) Session {
	f.t.Helper()
	sess, p := f.signIn(phone, SessionWeb)
	if err := f.s.SignOut(context.Background(), p); err != nil {
		f.t.Fatal(err)
	}
	return sess
}

// disable disables the account of phone (E.164), as an administrator would.
func (f *fixture) disable(phone string) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE accounts SET disabled = 1 WHERE phone = ?", phone)
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
}
