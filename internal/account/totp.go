package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// TOTP per RFC 6238 with the parameters every authenticator app defaults
// to: HMAC-SHA-1, 30-second steps, 6 digits.
const (
	totpStep   = 30
	totpDigits = 6
	totpIssuer = "trothu"
)

var (
	errTOTPOn      = apperr.New(apperr.Conflict, "Xác thực hai bước (TOTP) đang bật. Hãy tắt trước khi đăng ký lại.", "Two-step verification (TOTP) is on. Turn it off before enrolling again.")
	errTOTPNone    = apperr.New(apperr.Invalid, "Bạn chưa đăng ký ứng dụng xác thực.", "No authenticator is enrolled.")
	errTOTPOff     = apperr.New(apperr.Invalid, "Xác thực hai bước (TOTP) chưa bật.", "Two-step verification (TOTP) is not on.")
	errTOTPCorrupt = errors.New("totp secret: cannot decrypt (was the secret key changed?)")
)

// TOTPCode returns the 6-digit RFC 6238 code (HMAC-SHA-1, 30-second step)
// of secret at time t. It never fails.
func TOTPCode(secret []byte, t time.Time) string {
	return hotp(secret, uint64(t.Unix()/totpStep), totpDigits)
}

// hotp is RFC 4226: dynamic truncation of HMAC-SHA-1(secret, counter).
func hotp(secret []byte, counter uint64, digits int) string {
	m := hmac.New(sha1.New, secret)
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], counter)
	m.Write(c[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// The column accounts.totp_secret holds "v1.<last used step>.<sealed
// secret>": the secret under AES-GCM bound to the account id, and beside
// it, in clear, the last step accepted, so a code is never accepted twice.

func (s *Service) sealTOTP(accountID int64, secret []byte) (string, error) {
	nonce := make([]byte, s.totpAEAD.NonceSize(), s.totpAEAD.NonceSize()+len(secret)+s.totpAEAD.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("totp nonce: %w", err)
	}
	sealed := s.totpAEAD.Seal(nonce, nonce, secret, totpAAD(accountID))
	return "v1.0." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

func (s *Service) openTOTP(accountID int64, stored string) (secret []byte, lastStep int64, err error) {
	parts := strings.Split(stored, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, 0, errTOTPCorrupt
	}
	if lastStep, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return nil, 0, errTOTPCorrupt
	}
	sealed, err := base64.RawURLEncoding.DecodeString(parts[2])
	ns := s.totpAEAD.NonceSize()
	if err != nil || len(sealed) < ns {
		return nil, 0, errTOTPCorrupt
	}
	secret, err = s.totpAEAD.Open(nil, sealed[:ns], sealed[ns:], totpAAD(accountID))
	if err != nil {
		return nil, 0, errTOTPCorrupt
	}
	return secret, lastStep, nil
}

func totpAAD(accountID int64) []byte {
	return []byte("trothu/totp/" + strconv.FormatInt(accountID, 10))
}

// useTOTP reports whether code is valid now (±1 step) for a step later than
// the last one used, and if so records that step. Concurrent uses of one
// code: exactly one wins.
func (s *Service) useTOTP(ctx context.Context, tx *db.Tx, accountID int64, code string, now time.Time) (bool, error) {
	var stored sql.NullString
	if err := tx.QueryRow(ctx, "SELECT totp_secret FROM accounts WHERE id = ?", accountID).Scan(&stored); err != nil {
		return false, fmt.Errorf("totp: %w", err)
	}
	if !stored.Valid || !sixDigits(code) {
		return false, nil
	}
	secret, last, err := s.openTOTP(accountID, stored.String)
	if err != nil {
		return false, err
	}
	cur := now.Unix() / totpStep
	match := int64(-1)
	for st := cur - 1; st <= cur+1; st++ {
		if st > last && subtle.ConstantTimeCompare([]byte(hotp(secret, uint64(st), totpDigits)), []byte(code)) == 1 {
			match = st
		}
	}
	if match < 0 {
		return false, nil
	}
	_, rest, _ := strings.Cut(strings.TrimPrefix(stored.String, "v1."), ".") // openTOTP checked the form
	res, err := tx.Exec(ctx, "UPDATE accounts SET totp_secret = ? WHERE id = ? AND totp_secret = ?",
		"v1."+strconv.FormatInt(match, 10)+"."+rest, accountID, stored.String)
	if err != nil {
		return false, fmt.Errorf("totp step: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("totp step: %w", err)
	}
	return n == 1, nil
}

// EnrollTOTP starts two-step verification for p's account: it stores a new
// secret (encrypted, not yet enabled) and returns it in base32 and as an
// otpauth:// URL for a QR code. ConfirmTOTP enables it. It returns apperr
// Unauthenticated, Conflict when TOTP is already on, NotFound when the
// account is gone.
func (s *Service) EnrollTOTP(ctx context.Context, p *Principal) (secretBase32, otpauthURL string, err error) {
	if p == nil {
		return "", "", apperr.ErrUnauthenticated
	}
	secret := make([]byte, 20)
	if _, err := rand.Read(secret); err != nil {
		return "", "", fmt.Errorf("totp secret: %w", err)
	}
	sealed, err := s.sealTOTP(p.AccountID, secret)
	if err != nil {
		return "", "", err
	}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		var on bool
		err := tx.QueryRow(ctx, "SELECT totp_enabled FROM accounts WHERE id = ?", p.AccountID).Scan(&on)
		if errors.Is(err, sql.ErrNoRows) {
			return errAccountNotFound
		}
		if err != nil {
			return fmt.Errorf("enroll totp: %w", err)
		}
		if on {
			return errTOTPOn
		}
		_, err = tx.Exec(ctx, "UPDATE accounts SET totp_secret = ? WHERE id = ? AND totp_enabled = 0", sealed, p.AccountID)
		return err
	})
	if err != nil {
		return "", "", err
	}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	q := url.Values{}
	q.Set("secret", b32)
	q.Set("issuer", totpIssuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", strconv.Itoa(totpDigits))
	q.Set("period", strconv.Itoa(totpStep))
	label := url.PathEscape(totpIssuer + ":" + vntext.LocalPhone(p.Phone))
	return b32, "otpauth://totp/" + label + "?" + q.Encode(), nil
}

// ConfirmTOTP enables two-step verification once p proves, with a current
// code, that the authenticator holds the enrolled secret. It returns apperr
// Unauthenticated (Field "totp") for a wrong code, Invalid when nothing is
// enrolled, Conflict when already on, TooManyRequests after too many wrong
// codes.
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, code string) error {
	return s.switchTOTP(ctx, p, code, true)
}

// DisableTOTP turns two-step verification off and forgets the secret; it
// takes a current code so a borrowed session cannot do it. It returns apperr
// Unauthenticated (Field "totp") for a wrong code, Invalid when TOTP is not
// on, TooManyRequests after too many wrong codes.
func (s *Service) DisableTOTP(ctx context.Context, p *Principal, code string) error {
	return s.switchTOTP(ctx, p, code, false)
}

func (s *Service) switchTOTP(ctx context.Context, p *Principal, code string, enable bool) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	now := s.now()
	if e, err := s.failureLimit(ctx, p.Phone, "", now); err != nil || e != nil {
		if err != nil {
			return err
		}
		return e
	}
	nowMs := db.Millis(now)
	var fail *apperr.Error
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		var on, enrolled bool
		err := tx.QueryRow(ctx, "SELECT totp_enabled, CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END FROM accounts WHERE id = ?", p.AccountID).
			Scan(&on, &enrolled)
		if errors.Is(err, sql.ErrNoRows) {
			return errAccountNotFound
		}
		if err != nil {
			return fmt.Errorf("totp: %w", err)
		}
		switch {
		case enable && on:
			return errTOTPOn
		case enable && !enrolled:
			return errTOTPNone
		case !enable && !on:
			return errTOTPOff
		}
		ok, err := s.useTOTP(ctx, tx, p.AccountID, strings.TrimSpace(code), now)
		if err != nil {
			return err
		}
		if !ok {
			fail = errBadTOTP
			_, err := tx.Exec(ctx, `INSERT INTO otp_codes(phone, code_hash, ip, created_at, expires_at, used_at) VALUES (?, '', '', ?, ?, ?)`,
				failKey+p.Phone, nowMs, nowMs, nowMs)
			return err
		}
		q, action := "UPDATE accounts SET totp_enabled = 1 WHERE id = ?", AuditTOTPEnabled
		if !enable {
			q, action = "UPDATE accounts SET totp_enabled = 0, totp_secret = NULL WHERE id = ?", AuditTOTPDisabled
		}
		if _, err := tx.Exec(ctx, q, p.AccountID); err != nil {
			return fmt.Errorf("totp: %w", err)
		}
		e := s.selfEntry(p, action)
		e.At = nowMs
		return audit.Log(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	if fail != nil {
		return fail
	}
	return nil
}
