package account

import (
	"context"
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

func TestPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{"0912345678", false},
		{"123456789012", false},
		{"mật khẩu dài", true},
		{"correct horse", true},
		{"ngắn-9-ký", false},
		{strings.Repeat("a", 1025), false},
	} {
		if err := checkPassword(tc.pw); (err == nil) != tc.ok {
			t.Errorf("%q: got %v, want ok=%v", tc.pw, err, tc.ok)
		}
	}
}

func TestPasswordHashFormat(t *testing.T) {
	s := New(nil, Config{SecretKey: testKey}) // the real cost: 64 MiB, t=1, p=2
	ctx := context.Background()
	h, err := s.hashPassword(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=1,p=2$") || len(strings.Split(h, "$")) != 6 {
		t.Fatalf("hash %q: want a PHC argon2id string with m=65536,t=1,p=2", h)
	}
	if ok, err := s.verifyPassword(ctx, "correct horse battery", h); !ok || err != nil {
		t.Fatalf("verify right password: got %v, %v", ok, err)
	}
	if ok, err := s.verifyPassword(ctx, "correct horse batterY", h); ok || err != nil {
		t.Fatalf("verify wrong password: got %v, %v", ok, err)
	}
	if _, err := s.verifyPassword(ctx, "x", "$2a$10$bcrypt"); err == nil {
		t.Fatal("verify against a non-argon2id hash: got nil error")
	}
}

func TestSetPasswordPermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		admin := f.principal(f.account("0900000001", "Quản Trị", RoleAdmin, rootID))
		leaderA := f.principal(f.account("0900000002", "Lãnh Đạo A", RoleLeader, wardA))
		officialA := f.account("0900000003", "Cán Bộ A", RoleOfficial, wardA)
		officialB := f.account("0900000004", "Cán Bộ B", RoleOfficial, wardB)
		bare := f.account("0900000005", "Chưa Có Quyền")
		const pw = "mật khẩu an toàn"
		for _, tc := range []struct {
			name string
			p    *Principal
			id   int64
			want apperr.Code
		}{
			{"anonymous", nil, officialA.ID, apperr.Unauthenticated},
			{"self", f.principal(officialA), officialA.ID, ""},
			{"leader for official in own ward", leaderA, officialA.ID, ""},
			{"leader for official elsewhere", leaderA, officialB.ID, apperr.Forbidden},
			{"leader for admin", leaderA, admin.AccountID, apperr.Forbidden},
			{"official for colleague", f.principal(officialA), leaderA.AccountID, apperr.Forbidden},
			{"admin for anyone with grants", admin, officialB.ID, ""},
			{"admin for account without grants", admin, bare.ID, apperr.Forbidden},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, f.s.SetPassword(ctx, tc.p, tc.id, pw), tc.want)
			})
		}
		wantCode(t, f.s.SetPassword(ctx, admin, officialA.ID, "1234567890"), apperr.Invalid)
		if got := f.auditCount(AuditPasswordSet); got != 3 {
			t.Fatalf("audit %s: got %d rows, want 3", AuditPasswordSet, got)
		}
		if err := f.s.SetPasswordSystem(ctx, bare.ID, pw); err != nil {
			t.Fatalf("system: %v", err)
		}
		wantCode(t, f.s.SetPasswordSystem(ctx, 9999, pw), apperr.NotFound)
	})
}

func TestSignInPassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		a := f.account("0988111222", "Võ Thị Cán Bộ", RoleOfficial, wardA)
		const pw = "mật khẩu an toàn"
		if err := f.s.SetPasswordSystem(ctx, a.ID, pw); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.s.SignInPassword(ctx, "0988111222", "wrong password", "", "10.1.1.1", "ua", SessionWeb)
		wantCode(t, err, apperr.Unauthenticated)
		wrongMsg := apperr.From(err).VI
		_, _, err = f.s.SignInPassword(ctx, "0988999999", pw, "", "10.1.1.1", "ua", SessionWeb)
		wantCode(t, err, apperr.Unauthenticated)
		if got := apperr.From(err).VI; got != wrongMsg {
			t.Fatalf("unknown phone message %q differs from wrong password message %q", got, wrongMsg)
		}
		_, _, err = f.s.SignInPassword(ctx, "0900000005", pw, "", "10.1.1.1", "ua", SessionWeb) // resident-less, no account
		wantCode(t, err, apperr.Unauthenticated)
		if got := f.auditCount(audit.SignInFailed); got != 3 {
			t.Fatalf("failure audit: got %d rows, want 3", got)
		}
		sess, p, err := f.s.SignInPassword(ctx, "+84988111222", pw, "", "10.1.1.1", "ua", SessionAPI)
		if err != nil {
			t.Fatalf("sign in: %v", err)
		}
		if p.AccountID != a.ID || sess.Kind != SessionAPI || len(p.Grants) != 1 {
			t.Fatalf("sign in: got %+v, %+v", sess, p)
		}
		if _, _, _, _, detail := f.lastAudit(audit.SignIn); detail != "password api" {
			t.Fatalf("sign-in audit detail: got %q, want %q", detail, "password api")
		}

		// With TOTP on.
		b32, _, err := f.s.EnrollTOTP(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		secret, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(b32)
		if err := f.s.ConfirmTOTP(ctx, p, TOTPCode(secret, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(30 * time.Second)
		_, _, err = f.s.SignInPassword(ctx, "0988111222", pw, "", "10.1.1.1", "ua", SessionWeb)
		wantCode(t, err, apperr.Unauthenticated)
		if e := apperr.From(err); e.Field != "totp" || !strings.Contains(e.VI, "Cần mã TOTP") {
			t.Fatalf("missing code: got field %q message %q", e.Field, e.VI)
		}
		_, _, err = f.s.SignInPassword(ctx, "0988111222", pw, "000000", "10.1.1.1", "ua", SessionWeb)
		if code := TOTPCode(secret, f.clock.Now()); code != "000000" {
			wantCode(t, err, apperr.Unauthenticated)
		}
		// A code from the previous step is accepted (skew)...
		prev := TOTPCode(secret, f.clock.Now().Add(-30*time.Second))
		f.clock.Advance(30 * time.Second)
		prevStepCode := TOTPCode(secret, f.clock.Now().Add(-30*time.Second))
		if _, _, err := f.s.SignInPassword(ctx, "0988111222", pw, prevStepCode, "10.1.1.1", "ua", SessionWeb); err != nil {
			t.Fatalf("code of the previous step: %v", err)
		}
		// ...but never twice, nor an older one.
		_, _, err = f.s.SignInPassword(ctx, "0988111222", pw, prevStepCode, "10.1.1.1", "ua", SessionWeb)
		wantCode(t, err, apperr.Unauthenticated)
		if prev != prevStepCode {
			_, _, err = f.s.SignInPassword(ctx, "0988111222", pw, prev, "10.1.1.1", "ua", SessionWeb)
			wantCode(t, err, apperr.Unauthenticated)
		}
		// The next step's code is accepted too (a fast phone clock), two steps ahead is not.
		if far := TOTPCode(secret, f.clock.Now().Add(60*time.Second)); far != TOTPCode(secret, f.clock.Now().Add(30*time.Second)) {
			_, _, err = f.s.SignInPassword(ctx, "0988111222", pw, far, "10.1.1.1", "ua", SessionWeb)
			wantCode(t, err, apperr.Unauthenticated)
		}
		if _, _, err := f.s.SignInPassword(ctx, "0988111222", pw, TOTPCode(secret, f.clock.Now().Add(30*time.Second)), "10.1.1.1", "ua", SessionWeb); err != nil {
			t.Fatalf("code of the next step: %v", err)
		}

		// Disabled: refused, but only after a correct password.
		if err := d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE accounts SET disabled = 1 WHERE id = ?", a.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.s.SignInPassword(ctx, "0988111222", pw, "", "10.1.1.2", "ua", SessionWeb)
		wantCode(t, err, apperr.Unauthenticated)
		if !strings.Contains(apperr.From(err).VI, "khoá") {
			t.Fatalf("disabled: got %q, want the account-disabled message", apperr.From(err).VI)
		}
	})
}

func TestSignInPasswordThrottle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		a := f.account("0988111222", "Võ Thị Cán Bộ", RoleOfficial, wardA)
		const pw = "mật khẩu an toàn"
		if err := f.s.SetPasswordSystem(ctx, a.ID, pw); err != nil {
			t.Fatal(err)
		}
		// A success clears the phone's failures.
		for range 2 {
			for range 9 {
				_, _, err := f.s.SignInPassword(ctx, "0988111222", "a wrong guess", "", "198.51.100.99", "", SessionWeb)
				wantCode(t, err, apperr.Unauthenticated)
			}
			if _, _, err := f.s.SignInPassword(ctx, "0988111222", pw, "", "198.51.100.99", "", SessionWeb); err != nil {
				t.Fatalf("after 9 failures: %v", err)
			}
		}
		for i := range 10 {
			_, _, err := f.s.SignInPassword(ctx, "0988111222", "guess number "+string(rune('a'+i)), "", "198.51.100."+string(rune('1'+i%3)), "", SessionWeb)
			wantCode(t, err, apperr.Unauthenticated)
			f.clock.Advance(time.Second)
		}
		// Per phone: even the right password waits now.
		_, _, err := f.s.SignInPassword(ctx, "0988111222", pw, "", "198.51.100.200", "", SessionWeb)
		wantCode(t, err, apperr.TooManyRequests)
		if msg := apperr.From(err).VI; !strings.Contains(msg, "15 phút") {
			t.Fatalf("message %q: want the wait", msg)
		}
		f.clock.Advance(15 * time.Minute)
		if _, _, err := f.s.SignInPassword(ctx, "0988111222", pw, "", "198.51.100.200", "", SessionWeb); err != nil {
			t.Fatalf("after the window: %v", err)
		}

		// Per IP: 30 failures over many phones.
		for i := range 30 {
			phone := "09770000" + string(rune('0'+i/10)) + string(rune('0'+i%10))
			_, _, err := f.s.SignInPassword(ctx, phone, "whatever password", "", "192.0.2.7", "", SessionWeb)
			wantCode(t, err, apperr.Unauthenticated)
		}
		_, _, err = f.s.SignInPassword(ctx, "0988111222", pw, "", "192.0.2.7", "", SessionWeb)
		wantCode(t, err, apperr.TooManyRequests)
		if _, _, err := f.s.SignInPassword(ctx, "0988111222", pw, "", "192.0.2.8", "", SessionWeb); err != nil {
			t.Fatalf("other IP: %v", err)
		}
	})
}
