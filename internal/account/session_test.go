package account

import (
	"context"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

// signIn signs the account in by one-time code.
func (f *fixture) signIn(phone string, kind SessionKind) (Session, *Principal) {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.s.RequestOTP(ctx, phone, ""); err != nil {
		f.t.Fatalf("request: %v", err)
	}
	ph, _ := normPhone(phone)
	sess, p, err := f.s.VerifyOTP(ctx, phone, f.sms.lastCode(f.t, ph), "", "", kind)
	if err != nil {
		f.t.Fatalf("verify: %v", err)
	}
	return sess, p
}

func (f *fixture) lastSeen(token string) int64 {
	f.t.Helper()
	var v int64
	if err := f.d.QueryRow(context.Background(), "SELECT last_seen_at FROM sessions WHERE id_hash = ?", hashToken(token)).Scan(&v); err != nil {
		f.t.Fatal(err)
	}
	return v
}

func TestAuthenticate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		a := f.account("0933000111", "Đặng Cán Bộ", RoleOfficial, wardA, RoleGroupHead, kp4)
		sess, _ := f.signIn("0933000111", SessionWeb)

		p, err := f.s.Authenticate(ctx, sess.Token)
		if err != nil {
			t.Fatalf("valid token: %v", err)
		}
		if p.AccountID != a.ID || p.Phone != "+84933000111" || p.Lang != "vi" || p.SessionID != hashToken(sess.Token) {
			t.Fatalf("principal: got %+v", p)
		}
		if len(p.Grants) != 2 || p.Grants[0].UnitName != "Phường Bến Thành" || p.Grants[1].UnitPath != pathKP4 {
			t.Fatalf("grants: got %+v", p.Grants)
		}
		flipped := sess.Token[:42] + "A"
		if flipped == sess.Token {
			flipped = sess.Token[:42] + "B"
		}
		for _, tok := range []string{"", "short", flipped, sess.Token + "x"} {
			_, err := f.s.Authenticate(ctx, tok)
			wantCode(t, err, apperr.Unauthenticated)
		}

		// last_seen_at moves at most once a minute.
		seen := f.lastSeen(sess.Token)
		f.clock.Advance(30 * time.Second)
		if _, err := f.s.Authenticate(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
		if got := f.lastSeen(sess.Token); got != seen {
			t.Fatalf("after 30 s: last seen moved from %d to %d", seen, got)
		}
		f.clock.Advance(31 * time.Second)
		if _, err := f.s.Authenticate(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
		if got := f.lastSeen(sess.Token); got != db.Millis(f.clock.Now()) {
			t.Fatalf("after 61 s: got last seen %d, want %d", got, db.Millis(f.clock.Now()))
		}

		// Idle for 14 days: gone.
		f.clock.Advance(14*24*time.Hour - time.Minute)
		if _, err := f.s.Authenticate(ctx, sess.Token); err != nil {
			t.Fatalf("idle just under 14 days: %v", err)
		}
		f.clock.Advance(14 * 24 * time.Hour)
		_, err = f.s.Authenticate(ctx, sess.Token)
		wantCode(t, err, apperr.Unauthenticated)
	})
}

func TestSessionExpiryAndSignOut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.account("0933000111", "Đặng Cán Bộ", RoleOfficial, wardA)

		// A web session lasts 30 days even when used daily.
		web, _ := f.signIn("0933000111", SessionWeb)
		for range 29 {
			f.clock.Advance(24 * time.Hour)
			if _, err := f.s.Authenticate(ctx, web.Token); err != nil {
				t.Fatalf("day %v: %v", f.clock.Now(), err)
			}
		}
		f.clock.Advance(24 * time.Hour)
		_, err := f.s.Authenticate(ctx, web.Token)
		wantCode(t, err, apperr.Unauthenticated)

		// Sign out ends one session, not the others.
		s1, _ := f.signIn("0933000111", SessionWeb)
		f.clock.Advance(time.Minute)
		s2, _ := f.signIn("0933000111", SessionAPI)
		p1, err := f.s.Authenticate(ctx, s1.Token)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.SignOut(ctx, p1); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.Authenticate(ctx, s1.Token)
		wantCode(t, err, apperr.Unauthenticated)
		if _, err := f.s.Authenticate(ctx, s2.Token); err != nil {
			t.Fatalf("other session after sign-out: %v", err)
		}
		if err := f.s.SignOut(ctx, p1); err != nil {
			t.Fatalf("second sign-out: %v", err)
		}
		if got := f.auditCount(audit.SignOut); got != 1 {
			t.Fatalf("audit %s: got %d rows, want 1", audit.SignOut, got)
		}
		wantCode(t, f.s.SignOut(ctx, nil), apperr.Unauthenticated)

		// Sign out everywhere.
		f.clock.Advance(time.Minute)
		s3, p3 := f.signIn("0933000111", SessionWeb)
		if err := f.s.SignOutEverywhere(ctx, p3); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{s2.Token, s3.Token} {
			_, err := f.s.Authenticate(ctx, tok)
			wantCode(t, err, apperr.Unauthenticated)
		}
		if got := f.auditCount(AuditSignOutAll); got != 1 {
			t.Fatalf("audit %s: got %d rows, want 1", AuditSignOutAll, got)
		}
	})
}

func TestDisabledAccountAndPasswordChangeEndSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		a := f.account("0933000111", "Đặng Cán Bộ", RoleOfficial, wardA)
		s1, _ := f.signIn("0933000111", SessionWeb)
		f.clock.Advance(time.Minute)
		s2, p2 := f.signIn("0933000111", SessionWeb)
		if err := f.s.SetPassword(ctx, p2, a.ID, "mật khẩu mới đủ dài"); err != nil {
			t.Fatal(err)
		}
		_, err := f.s.Authenticate(ctx, s1.Token)
		wantCode(t, err, apperr.Unauthenticated)
		if _, err := f.s.Authenticate(ctx, s2.Token); err != nil {
			t.Fatalf("the session that changed the password: %v", err)
		}
		if err := d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE accounts SET disabled = 1 WHERE id = ?", a.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.Authenticate(ctx, s2.Token)
		wantCode(t, err, apperr.Unauthenticated)
		f.clock.Advance(time.Minute)
		_, err = f.s.RequestOTP(ctx, "0933000111", "")
		wantCode(t, err, apperr.Unauthenticated)
	})
}

func TestPrune(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.account("0933000111", "Đặng Cán Bộ", RoleOfficial, wardA)
		old, _ := f.signIn("0933000111", SessionWeb)
		f.clock.Advance(15 * 24 * time.Hour)
		fresh, _ := f.signIn("0933000111", SessionWeb)
		if err := f.s.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM sessions WHERE id_hash = ?", hashToken(old.Token)).Scan(&n); err != nil || n != 0 {
			t.Fatalf("idle session: got %d rows (%v), want 0", n, err)
		}
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM otp_codes").Scan(&n); err != nil || n != 1 {
			t.Fatalf("codes: got %d rows (%v), want 1 (today's)", n, err)
		}
		if _, err := f.s.Authenticate(ctx, fresh.Token); err != nil {
			t.Fatalf("fresh session after prune: %v", err)
		}
	})
}
