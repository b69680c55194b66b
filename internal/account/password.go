package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// Argon2Params are the argon2id cost parameters of new password hashes.
// Existing hashes keep the parameters they were made with.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// defaultArgon2 is 64 MiB, one pass, two lanes: about 85 ms on one core of
// a 2020s server.
var defaultArgon2 = Argon2Params{Memory: 64 * 1024, Time: 1, Threads: 2}

var (
	errBadPassword = apperr.New(apperr.Unauthenticated,
		"Số điện thoại hoặc mật khẩu không đúng.", "Wrong phone number or password.")
	errTOTPRequired = &apperr.Error{Code: apperr.Unauthenticated, Field: "totp",
		VI: "Cần mã TOTP: nhập mã 6 chữ số trong ứng dụng xác thực.", EN: "TOTP code required: enter the 6-digit code from your authenticator app."}
	errBadTOTP = &apperr.Error{Code: apperr.Unauthenticated, Field: "totp",
		VI: "Mã TOTP không đúng hoặc đã được dùng.", EN: "The TOTP code is wrong or was already used."}
)

// failKey prefixes the otp_codes rows that record failed sign-ins, so the
// same indexed columns throttle both without the two counts mixing.
const failKey = "fail:"

// checkPassword applies the password policy: at least 10 characters, not
// only digits (a phone number or a birthday is not a password).
func checkPassword(pw string) error {
	if utf8.RuneCountInString(pw) < 10 {
		return apperr.InvalidField("password", "Mật khẩu phải có ít nhất 10 ký tự.", "The password must have at least 10 characters.")
	}
	if len(pw) > 1024 {
		return apperr.InvalidField("password", "Mật khẩu quá dài (tối đa 1024 ký tự).", "The password is too long (at most 1024 characters).")
	}
	if strings.Trim(pw, "0123456789") == "" {
		return apperr.InvalidField("password", "Mật khẩu không được chỉ gồm chữ số.", "The password must not be only digits.")
	}
	return nil
}

// acquire bounds concurrent argon2id runs: each holds Argon2.Memory.
func (s *Service) acquire(ctx context.Context) (func(), error) {
	select {
	case s.hashSem <- struct{}{}:
		return func() { <-s.hashSem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hashPassword returns the PHC string "$argon2id$v=19$m=…,t=…,p=…$salt$hash".
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	release, err := s.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	prm := s.cfg.Password.Argon2
	key := argon2.IDKey([]byte(pw), salt[:], prm.Time, prm.Memory, prm.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, prm.Memory, prm.Time, prm.Threads,
		b64.EncodeToString(salt[:]), b64.EncodeToString(key)), nil
}

// verifyPassword reports whether pw matches the PHC-encoded hash.
func (s *Service) verifyPassword(ctx context.Context, pw, encoded string) (bool, error) {
	prm, salt, want, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	release, err := s.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	got := argon2.IDKey([]byte(pw), salt, prm.Time, prm.Memory, prm.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parsePHC(encoded string) (Argon2Params, []byte, []byte, error) {
	var prm Argon2Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return prm, nil, nil, fmt.Errorf("password hash: not an argon2id v19 PHC string")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &prm.Memory, &prm.Time, &prm.Threads); err != nil {
		return prm, nil, nil, fmt.Errorf("password hash parameters: %w", err)
	}
	if prm.Memory < 8 || prm.Memory > 4<<20 || prm.Time < 1 || prm.Time > 64 || prm.Threads < 1 {
		return prm, nil, nil, fmt.Errorf("password hash parameters out of range: %s", parts[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return prm, nil, nil, fmt.Errorf("password hash salt: %w", err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return prm, nil, nil, fmt.Errorf("password hash key: bad encoding")
	}
	return prm, salt, key, nil
}

// dummyHash is verified against when the phone has no password, so that
// the answer takes as long as for a real account.
type dummyHash struct {
	once sync.Once
	hash string
	err  error
}

func (s *Service) dummyHash(ctx context.Context) (string, error) {
	s.dummy.once.Do(func() {
		s.dummy.hash, s.dummy.err = s.hashPassword(context.WithoutCancel(ctx), "not the password of anyone")
	})
	return s.dummy.hash, s.dummy.err
}

// SetPassword sets the password of an account: p's own, or one whose every
// grant p could have granted (CanGrant), so that no one can take over an
// account that holds more than they could give. Other sessions of the
// account end. It returns apperr Unauthenticated, Forbidden, Invalid for a
// password that breaks the policy (at least 10 characters, not only
// digits), and NotFound for an unknown account.
func (s *Service) SetPassword(ctx context.Context, p *Principal, accountID int64, password string) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	if p.AccountID != accountID {
		grants, err := s.Grants(ctx, accountID)
		if err != nil {
			return err
		}
		if len(grants) == 0 {
			return apperr.ErrForbidden
		}
		for _, g := range grants {
			if !p.CanGrant(g.Role, g.UnitPath) {
				return apperr.ErrForbidden
			}
		}
	}
	keep := ""
	if p.AccountID == accountID {
		keep = p.SessionID
	}
	return s.setPassword(ctx, p, accountID, password, keep)
}

// SetPasswordSystem is SetPassword without a principal, for the `trothu
// user` command. Every session of the account ends. It returns the same
// errors but Unauthenticated and Forbidden.
func (s *Service) SetPasswordSystem(ctx context.Context, accountID int64, password string) error {
	return s.setPassword(ctx, nil, accountID, password, "")
}

func (s *Service) setPassword(ctx context.Context, p *Principal, accountID int64, password, keepSession string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	now := db.Millis(s.now())
	return s.d.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE accounts SET password_hash = ? WHERE id = ?", hash, accountID)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("set password: %w", err)
		} else if n == 0 {
			return errAccountNotFound
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE account_id = ? AND id_hash <> ?", accountID, keepSession); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		path, err := firstGrantPath(ctx, tx, accountID)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		return audit.Log(ctx, tx, audit.Entry{At: now, ActorID: actorID(p), ActorName: actorName(p), Action: AuditPasswordSet,
			SubjectType: "account", SubjectID: strconv.FormatInt(accountID, 10), UnitPath: path})
	})
}

// SignInPassword signs in an official with phone and password, plus the
// current TOTP code when the account has an authenticator enabled (±1
// 30-second step; a step once used is refused). It returns apperr Invalid
// for a malformed phone or kind; TooManyRequests after 10 failures within
// 15 minutes for the phone (or 30 for the IP); Unauthenticated with one
// message whether the phone is unknown, has no password or the password is
// wrong; Unauthenticated with Field "totp" when the code is missing or
// wrong; Unauthenticated for a disabled account (only after a correct
// password).
func (s *Service) SignInPassword(ctx context.Context, phone, password, totp, ip, userAgent string, kind SessionKind) (Session, *Principal, error) {
	ph, err := normPhone(phone)
	if err != nil {
		return Session{}, nil, err
	}
	if !kind.valid() {
		return Session{}, nil, errBadKind
	}
	ip = clip(ip, 64)
	now := s.now()
	if e, err := s.failureLimit(ctx, ph, ip, now); err != nil || e != nil {
		if err != nil {
			return Session{}, nil, err
		}
		return Session{}, nil, e
	}
	acc, err := authAccountByPhone(ctx, s.d, ph)
	if err != nil {
		return Session{}, nil, err
	}
	encoded := ""
	if acc != nil && acc.PasswordHash.Valid {
		encoded = acc.PasswordHash.String
	} else if encoded, err = s.dummyHash(ctx); err != nil {
		return Session{}, nil, err
	}
	ok, err := s.verifyPassword(ctx, password, encoded)
	if err != nil {
		return Session{}, nil, err
	}
	ok = ok && acc != nil && acc.PasswordHash.Valid
	switch {
	case !ok:
		return Session{}, nil, s.signInFailed(ctx, ph, ip, acc, "password: wrong", errBadPassword)
	case acc.Disabled:
		return Session{}, nil, s.signInFailed(ctx, ph, ip, acc, "password: account disabled", errDisabled)
	case acc.TOTPEnabled && strings.TrimSpace(totp) == "":
		return Session{}, nil, errTOTPRequired
	}
	nowMs := db.Millis(now)
	var sess Session
	var hash string
	var fail *apperr.Error
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		method := "password"
		if acc.TOTPEnabled {
			method = "password+totp"
			ok, err := s.useTOTP(ctx, tx, acc.ID, strings.TrimSpace(totp), now)
			if err != nil {
				return err
			}
			if !ok {
				fail = errBadTOTP
				return s.logFailure(ctx, tx, ph, ip, acc, "totp: wrong or reused", nowMs)
			}
		}
		var err error
		if sess, hash, err = s.createSession(ctx, tx, acc.ID, kind, ip, userAgent, now); err != nil {
			return err
		}
		// A success clears the phone's failures (not the IP's: signing in
		// to one's own account must not buy more guesses at others).
		if _, err := tx.Exec(ctx, "DELETE FROM otp_codes WHERE phone = ?", failKey+ph); err != nil {
			return fmt.Errorf("clear failures: %w", err)
		}
		return audit.Log(ctx, tx, audit.Entry{At: nowMs, ActorID: acc.ID, ActorName: acc.Name, Action: audit.SignIn,
			SubjectType: "account", SubjectID: strconv.FormatInt(acc.ID, 10), UnitPath: acc.UnitPath, IP: ip,
			Detail: method + " " + string(kind)})
	})
	if err != nil {
		return Session{}, nil, err
	}
	if fail != nil {
		return Session{}, nil, fail
	}
	p, err := s.principal(ctx, acc.ID, hash)
	if err != nil {
		return Session{}, nil, err
	}
	return sess, p, nil
}

// failureLimit returns a TooManyRequests error while the phone or the IP
// has too many recent failures.
func (s *Service) failureLimit(ctx context.Context, phone, ip string, now time.Time) (*apperr.Error, error) {
	c := s.cfg.Password
	wait, err := windowWait(ctx, s.d, "phone", failKey+phone, c.MaxFailures, c.FailureWindow, now)
	if err != nil {
		return nil, err
	}
	if ip != "" {
		w, err := windowWait(ctx, s.d, "ip", failKey+ip, c.MaxIPFailures, c.FailureWindow, now)
		if err != nil {
			return nil, err
		}
		wait = max(wait, w)
	}
	if wait > 0 {
		return tooMany("Bạn đã đăng nhập sai quá nhiều lần.", "Too many failed sign-ins.", wait), nil
	}
	return nil, nil
}

// signInFailed records a failure in its own transaction and returns e.
func (s *Service) signInFailed(ctx context.Context, phone, ip string, acc *authAccount, reason string, e *apperr.Error) error {
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		return s.logFailure(ctx, tx, phone, ip, acc, reason, db.Millis(s.now()))
	})
	if err != nil {
		return err
	}
	return e
}

// logFailure counts a failed sign-in toward the throttles and audits it.
func (s *Service) logFailure(ctx context.Context, tx *db.Tx, phone, ip string, acc *authAccount, reason string, nowMs int64) error {
	fip := ""
	if ip != "" {
		fip = failKey + ip
	}
	if _, err := tx.Exec(ctx, `INSERT INTO otp_codes(phone, code_hash, ip, created_at, expires_at, used_at) VALUES (?, '', ?, ?, ?, ?)`,
		failKey+phone, fip, nowMs, nowMs, nowMs); err != nil {
		return fmt.Errorf("record failure: %w", err)
	}
	e := audit.Entry{At: nowMs, Action: audit.SignInFailed, SubjectType: "account", IP: ip, Detail: reason + " " + vntext.MaskPhone(phone)}
	if acc != nil {
		e.ActorID, e.ActorName, e.SubjectID, e.UnitPath = acc.ID, acc.Name, strconv.FormatInt(acc.ID, 10), acc.UnitPath
	}
	return audit.Log(ctx, tx, e)
}
