package account

import (
	"context"
	"encoding/base32"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

var rfcSecret = []byte("12345678901234567890")

// RFC 4226 appendix D.
func TestHOTPVectors(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got := hotp(rfcSecret, uint64(i), 6); got != w {
			t.Errorf("counter %d: got %s, want %s", i, got, w)
		}
	}
}

// RFC 6238 appendix B, SHA-1 rows: 8 digits from hotp, and their last six
// from TOTPCode (truncation modulo 10^6 of the same number).
func TestTOTPVectors(t *testing.T) {
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		tm := time.Unix(tc.unix, 0)
		if got := hotp(rfcSecret, uint64(tc.unix/30), 8); got != tc.want {
			t.Errorf("t=%d, 8 digits: got %s, want %s", tc.unix, got, tc.want)
		}
		if got := TOTPCode(rfcSecret, tm); got != tc.want[2:] {
			t.Errorf("t=%d: got %s, want %s", tc.unix, got, tc.want[2:])
		}
	}
}

func TestTOTPSecretSealing(t *testing.T) {
	s := New(nil, Config{SecretKey: testKey})
	sealed, err := s.sealTOTP(7, rfcSecret)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, base32.StdEncoding.EncodeToString(rfcSecret)) || !strings.HasPrefix(sealed, "v1.0.") {
		t.Fatalf("sealed form %q: want v1.0.<ciphertext>", sealed)
	}
	got, step, err := s.openTOTP(7, sealed)
	if err != nil || string(got) != string(rfcSecret) || step != 0 {
		t.Fatalf("open: got %q, %d, %v; want the secret, 0, nil", got, step, err)
	}
	if _, _, err := s.openTOTP(8, sealed); err == nil {
		t.Fatal("open with another account id: got nil error, want failure")
	}
	other := New(nil, Config{SecretKey: []byte("another key, also thirty-two bytes")})
	if _, _, err := other.openTOTP(7, sealed); err == nil {
		t.Fatal("open with another key: got nil error, want failure")
	}
}

func TestTOTPEnrolment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		a := f.account("0987654321", "Lê Văn Cán Bộ", RoleOfficial, wardA)
		p := f.principal(a)

		wantCode(t, f.s.ConfirmTOTP(ctx, p, "123456"), apperr.Invalid) // nothing enrolled
		wantCode(t, f.s.DisableTOTP(ctx, p, "123456"), apperr.Invalid) // not on
		b32, u, err := f.s.EnrollTOTP(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(b32)
		if err != nil || len(secret) != 20 {
			t.Fatalf("secret %q: got %d bytes, %v; want 20 bytes", b32, len(secret), err)
		}
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "otpauth" || pu.Host != "totp" || pu.Query().Get("secret") != b32 ||
			pu.Query().Get("issuer") != "trothu" || !strings.Contains(pu.Path, "0987654321") {
			t.Fatalf("otpauth URL %q: want otpauth://totp/trothu:0987654321?secret=…&issuer=trothu", u)
		}
		var stored string
		if err := d.QueryRow(ctx, "SELECT totp_secret FROM accounts WHERE id = ?", a.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, b32) {
			t.Fatalf("stored secret %q holds the plain secret", stored)
		}

		wantCode(t, f.s.ConfirmTOTP(ctx, p, "000000"), apperr.Unauthenticated)
		if err := f.s.ConfirmTOTP(ctx, p, TOTPCode(secret, f.clock.Now())); err != nil {
			t.Fatalf("confirm: %v", err)
		}
		if got := f.auditCount(AuditTOTPEnabled); got != 1 {
			t.Fatalf("audit %s: got %d rows, want 1", AuditTOTPEnabled, got)
		}
		acc, _ := f.s.Account(ctx, a.ID)
		if !acc.TOTPEnabled {
			t.Fatal("after confirm: got TOTP off, want on")
		}
		_, _, err = f.s.EnrollTOTP(ctx, p)
		wantCode(t, err, apperr.Conflict)

		// The confirming code cannot disable it: its step is spent.
		wantCode(t, f.s.DisableTOTP(ctx, p, TOTPCode(secret, f.clock.Now())), apperr.Unauthenticated)
		f.clock.Advance(30 * time.Second)
		if err := f.s.DisableTOTP(ctx, p, TOTPCode(secret, f.clock.Now())); err != nil {
			t.Fatalf("disable: %v", err)
		}
		acc, _ = f.s.Account(ctx, a.ID)
		if acc.TOTPEnabled {
			t.Fatal("after disable: got TOTP on, want off")
		}
		if got := f.auditCount(AuditTOTPDisabled); got != 1 {
			t.Fatalf("audit %s: got %d rows, want 1", AuditTOTPDisabled, got)
		}
	})
}
