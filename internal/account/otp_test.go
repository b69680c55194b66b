package account

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

func TestOTPFirstSignInCreatesResidentAccount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		res, err := f.s.RequestOTP(ctx, "0912 345 678", "10.0.0.1")
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		if res.DemoCode != "" || res.ExpiresIn != 5*time.Minute {
			t.Fatalf("result: got %+v, want no demo code and 5m", res)
		}
		code := f.sms.lastCode(t, residentPhone)
		if _, _, err := f.s.VerifyOTP(ctx, "0912345678", code, "10.0.0.1", "test", SessionKind("cookie")); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("bad kind: got %v, want invalid", err)
		}
		sess, p, err := f.s.VerifyOTP(ctx, "+84912345678", code, "10.0.0.1", "test", SessionWeb)
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if len(sess.Token) != tokenLen || sess.Kind != SessionWeb || !sess.ExpiresAt.Equal(f.clock.Now().Add(30*24*time.Hour)) {
			t.Fatalf("session: got %+v", sess)
		}
		if p.Phone != residentPhone || p.Name != "Trần Thị Bình" || p.ResidentID != 100 || p.SessionID != hashToken(sess.Token) {
			t.Fatalf("principal: got %+v", p)
		}
		if len(p.Grants) != 1 || p.Grants[0].Role != RoleResident || p.Grants[0].UnitID != kp4 ||
			p.Grants[0].UnitPath != pathKP4 || p.Grants[0].UnitName != "Khu phố 4" {
			t.Fatalf("grants: got %+v, want resident on khu phố 4", p.Grants)
		}
		for action, want := range map[string]int{audit.OTPRequested: 1, audit.SignIn: 1, AuditAccountCreated: 1, audit.RoleGranted: 1} {
			if got := f.auditCount(action); got != want {
				t.Errorf("audit %s: got %d rows, want %d", action, got, want)
			}
		}
		actor, _, path, ip, _ := f.lastAudit(audit.SignIn)
		if actor != p.AccountID || path != pathKP4 || ip != "10.0.0.1" {
			t.Fatalf("sign-in audit: got actor %d path %q ip %q", actor, path, ip)
		}

		// Second sign-in: same account, a new token.
		f.clock.Advance(2 * time.Minute)
		if _, err := f.s.RequestOTP(ctx, "+84 912 345 678", "10.0.0.1"); err != nil {
			t.Fatalf("second request: %v", err)
		}
		sess2, p2, err := f.s.VerifyOTP(ctx, "0912345678", f.sms.lastCode(t, residentPhone), "10.0.0.1", "test", SessionAPI)
		if err != nil {
			t.Fatalf("second verify: %v", err)
		}
		if p2.AccountID != p.AccountID || sess2.Token == sess.Token || len(p2.Grants) != 1 {
			t.Fatalf("second sign-in: got account %d token reused %v grants %d", p2.AccountID, sess2.Token == sess.Token, len(p2.Grants))
		}
		if !sess2.ExpiresAt.Equal(f.clock.Now().Add(90 * 24 * time.Hour)) {
			t.Fatalf("API token expiry: got %v", sess2.ExpiresAt)
		}
	})
}

func TestOTPDemoModeReturnsCode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, func(c *Config) { c.Demo = true })
		res, err := f.s.RequestOTP(context.Background(), residentPhone, "")
		if err != nil {
			t.Fatal(err)
		}
		if res.DemoCode == "" || res.DemoCode != f.sms.lastCode(t, residentPhone) {
			t.Fatalf("demo code: got %q, want the code sent", res.DemoCode)
		}
	})
}

func TestOTPUnknownPhone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		_, err := f.s.RequestOTP(ctx, "0901111111", "10.0.0.1")
		wantCode(t, err, apperr.NotFound)
		if msg := apperr.From(err).VI; !strings.Contains(msg, "tổ trưởng") {
			t.Fatalf("message %q: want advice to contact the group head", msg)
		}
		if f.sms.count() != 0 {
			t.Fatalf("sms: got %d sent, want 0", f.sms.count())
		}
		_, err = f.s.RequestOTP(ctx, "12345", "10.0.0.1")
		wantCode(t, err, apperr.Invalid)
		_, _, err = f.s.VerifyOTP(ctx, "0901111111", "123456", "10.0.0.1", "", SessionWeb)
		wantCode(t, err, apperr.Unauthenticated)
		_, _, err = f.s.VerifyOTP(ctx, "0901111111", "12345", "10.0.0.1", "", SessionWeb)
		wantCode(t, err, apperr.Invalid)
	})
}

func TestOTPExistingAccountWithoutResident(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		a := f.account("0977000111", "Phạm Cán Bộ", RoleOfficial, wardA)
		if _, err := f.s.RequestOTP(ctx, "0977000111", ""); err != nil {
			t.Fatal(err)
		}
		_, p, err := f.s.VerifyOTP(ctx, "0977000111", f.sms.lastCode(t, "+84977000111"), "", "", SessionWeb)
		if err != nil {
			t.Fatal(err)
		}
		if p.AccountID != a.ID || len(p.Grants) != 1 || p.Grants[0].Role != RoleOfficial {
			t.Fatalf("principal: got %+v", p)
		}
	})
}

func TestOTPWrongExpiredAndSingleUse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		if _, err := f.s.RequestOTP(ctx, residentPhone, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		code := f.sms.lastCode(t, residentPhone)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		_, _, err := f.s.VerifyOTP(ctx, residentPhone, wrong, "10.0.0.9", "", SessionWeb)
		wantCode(t, err, apperr.Unauthenticated)
		if got := apperr.From(err).VI; got != "Mã xác thực không đúng hoặc đã hết hạn." {
			t.Fatalf("message: got %q", got)
		}
		if got := f.auditCount(audit.SignInFailed); got != 1 {
			t.Fatalf("failure audit: got %d rows, want 1", got)
		}
		if _, _, _, ip, _ := f.lastAudit(audit.SignInFailed); ip != "10.0.0.9" {
			t.Fatalf("failure audit ip: got %q, want 10.0.0.9", ip)
		}
		// Right code, once.
		if _, _, err := f.s.VerifyOTP(ctx, residentPhone, code, "", "", SessionWeb); err != nil {
			t.Fatalf("verify after one wrong attempt: %v", err)
		}
		_, _, err = f.s.VerifyOTP(ctx, residentPhone, code, "", "", SessionWeb)
		wantCode(t, err, apperr.Unauthenticated)

		// Expiry.
		f.clock.Advance(time.Minute)
		if _, err := f.s.RequestOTP(ctx, residentPhone, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		code = f.sms.lastCode(t, residentPhone)
		f.clock.Advance(5*time.Minute + time.Second)
		_, _, err = f.s.VerifyOTP(ctx, residentPhone, code, "", "", SessionWeb)
		wantCode(t, err, apperr.Unauthenticated)

		// A new code voids the previous one.
		if _, err := f.s.RequestOTP(ctx, residentPhone, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		old := f.sms.lastCode(t, residentPhone)
		f.clock.Advance(time.Minute)
		if _, err := f.s.RequestOTP(ctx, residentPhone, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if newer := f.sms.lastCode(t, residentPhone); newer != old {
			_, _, err = f.s.VerifyOTP(ctx, residentPhone, old, "", "", SessionWeb)
			wantCode(t, err, apperr.Unauthenticated)
			if _, _, err := f.s.VerifyOTP(ctx, residentPhone, newer, "", "", SessionWeb); err != nil {
				t.Fatalf("newest code: %v", err)
			}
		}
	})
}

func TestOTPAttemptCap(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		// An older code, voided by the next one: burning the newest must
		// not fall back to it.
		if _, err := f.s.RequestOTP(ctx, residentPhone, ""); err != nil {
			t.Fatal(err)
		}
		older := f.sms.lastCode(t, residentPhone)
		f.clock.Advance(time.Minute)
		if _, err := f.s.RequestOTP(ctx, residentPhone, ""); err != nil {
			t.Fatal(err)
		}
		code := f.sms.lastCode(t, residentPhone)
		wrong := "000000"
		for wrong == code || wrong == older {
			wrong = string(rune(wrong[0]+1)) + wrong[1:]
		}
		for i := range 5 {
			_, _, err := f.s.VerifyOTP(ctx, residentPhone, wrong, "", "", SessionWeb)
			wantCode(t, err, apperr.Unauthenticated)
			if i == 4 && !strings.Contains(apperr.From(err).VI, "mã mới") {
				t.Fatalf("fifth failure message %q: want advice to request a new code", apperr.From(err).VI)
			}
		}
		_, _, err := f.s.VerifyOTP(ctx, residentPhone, code, "", "", SessionWeb)
		wantCode(t, err, apperr.Unauthenticated)
		_, _, err = f.s.VerifyOTP(ctx, residentPhone, older, "", "", SessionWeb)
		wantCode(t, err, apperr.Unauthenticated)
		if got := f.auditCount(audit.SignInFailed); got != 7 {
			t.Fatalf("failure audit: got %d rows, want 7", got)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.s.RequestOTP(ctx, residentPhone, ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.s.VerifyOTP(ctx, residentPhone, f.sms.lastCode(t, residentPhone), "", "", SessionWeb); err != nil {
			t.Fatalf("new code after burn: %v", err)
		}
	})
}

func TestOTPRateLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		if _, err := f.s.RequestOTP(ctx, residentPhone, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(20 * time.Second)
		_, err := f.s.RequestOTP(ctx, "0912345678", "10.0.0.2")
		wantCode(t, err, apperr.TooManyRequests)
		if msg := apperr.From(err).VI; !strings.Contains(msg, "40 giây") {
			t.Fatalf("message %q: want the 40 s wait", msg)
		}
		for range 4 {
			f.clock.Advance(time.Minute)
			if _, err := f.s.RequestOTP(ctx, residentPhone, "10.0.0.1"); err != nil {
				t.Fatal(err)
			}
		}
		f.clock.Advance(time.Minute) // 5m20s after the first of five
		_, err = f.s.RequestOTP(ctx, residentPhone, "10.0.0.3")
		wantCode(t, err, apperr.TooManyRequests)
		if msg := apperr.From(err).VI; !strings.Contains(msg, "55 phút") {
			t.Fatalf("message %q: want the 55-minute wait", msg)
		}
		f.clock.Advance(55 * time.Minute)
		if _, err := f.s.RequestOTP(ctx, residentPhone, "10.0.0.1"); err != nil {
			t.Fatalf("after the hour: %v", err)
		}

		// Per IP: 20 an hour, unknown phones included.
		f.clock.Advance(time.Hour)
		for i := range 20 {
			_, err := f.s.RequestOTP(ctx, "09000000"+string(rune('1'+i/10))+string(rune('0'+i%10)), "203.0.113.5")
			wantCode(t, err, apperr.NotFound)
		}
		_, err = f.s.RequestOTP(ctx, residentPhone, "203.0.113.5")
		wantCode(t, err, apperr.TooManyRequests)
		if _, err := f.s.RequestOTP(ctx, residentPhone, "203.0.113.6"); err != nil {
			t.Fatalf("other IP: %v", err)
		}
	})
}

// Concurrent guesses of one right code: exactly one session.
func TestOTPSingleUseUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		if _, err := f.s.RequestOTP(ctx, residentPhone, ""); err != nil {
			t.Fatal(err)
		}
		code := f.sms.lastCode(t, residentPhone)
		const n = 8
		errs := make(chan error, n)
		for range n {
			go func() {
				_, _, err := f.s.VerifyOTP(ctx, residentPhone, code, "", "", SessionWeb)
				errs <- err
			}()
		}
		ok := 0
		for range n {
			err := <-errs
			switch apperr.CodeOf(err) {
			case "":
				ok++
			case apperr.Unauthenticated:
			default:
				t.Errorf("concurrent verify: got %v, want success or unauthenticated", err)
			}
		}
		var sessions, accounts int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM sessions").Scan(&sessions); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM accounts").Scan(&accounts); err != nil {
			t.Fatal(err)
		}
		if ok != 1 || sessions != 1 || accounts != 1 {
			t.Fatalf("got %d successes, %d sessions, %d accounts; want 1 of each", ok, sessions, accounts)
		}
	})
}

type failingSender struct{}

func (failingSender) Send(context.Context, string, string) error { return errors.New("gateway down") }

func TestOTPSendFailure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, func(c *Config) { c.SMS = failingSender{} })
		_, err := f.s.RequestOTP(context.Background(), residentPhone, "")
		wantCode(t, err, apperr.Internal)
		if msg := apperr.From(err).VI; !strings.Contains(msg, "Không gửi được") {
			t.Fatalf("message %q: want the send failure explained", msg)
		}
	})
}

func TestNewRefusesShortKey(t *testing.T) {
	if err := (Config{SecretKey: []byte("short")}).Validate(); err == nil {
		t.Fatal("Validate with a 5-byte key: got nil, want an error")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("New with a 5-byte key: got no panic")
		}
	}()
	New(nil, Config{SecretKey: []byte("short")})
}
