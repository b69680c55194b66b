package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// OTPResult says how long the code sent lives. DemoCode carries the code
// itself in demo mode only.
type OTPResult struct {
	DemoCode  string        `json:"demo_code,omitempty"`
	ExpiresIn time.Duration `json:"-"`
}

var (
	errUnknownPhone = apperr.New(apperr.NotFound,
		"Số điện thoại này chưa có trong danh sách cư dân. Vui lòng liên hệ tổ trưởng tổ dân phố nơi bạn ở để được cập nhật số điện thoại.",
		"This phone number is not registered to any resident. Please ask the head of your residential group to add it.")
	errBadCode = apperr.New(apperr.Unauthenticated,
		"Mã xác thực không đúng hoặc đã hết hạn.",
		"The code is wrong or has expired.")
	errCodeBurned = apperr.New(apperr.Unauthenticated,
		"Bạn đã nhập sai mã quá nhiều lần. Vui lòng yêu cầu mã mới.",
		"Too many wrong codes. Please request a new one.")
	errCodeFormat = apperr.InvalidField("code", "Mã xác thực gồm 6 chữ số.", "The code has 6 digits.")
	errDisabled   = apperr.New(apperr.Unauthenticated,
		"Tài khoản này đã bị khoá. Vui lòng liên hệ UBND phường/xã.",
		"This account is disabled. Please contact the commune people's committee.")
)

// RequestOTP sends a 6-digit one-time code by SMS to phone (0… and +84…
// forms are the same account). The phone must belong to an account or to a
// resident known to Config.Residents. Codes live 5 minutes; a new code voids
// the previous one. It returns apperr Invalid for a malformed phone,
// NotFound for an unknown one, Unauthenticated for a disabled account,
// TooManyRequests (with the wait in the message) past the limits per phone
// (1 a minute, 5 an hour) or per IP (20 an hour; lookups of unknown phones
// count too, so the answer cannot be used to list residents quickly), and
// Internal when the SMS cannot be sent.
func (s *Service) RequestOTP(ctx context.Context, phone, ip string) (OTPResult, error) {
	ph, err := normPhone(phone)
	if err != nil {
		return OTPResult{}, err
	}
	ip = clip(ip, 64)
	acc, err := authAccountByPhone(ctx, s.d, ph)
	if err != nil {
		return OTPResult{}, err
	}
	var ref *ResidentRef
	if acc == nil {
		if ref, err = s.findResident(ctx, ph); err != nil {
			return OTPResult{}, err
		}
	} else if acc.Disabled {
		return OTPResult{}, errDisabled
	}
	known := acc != nil || ref != nil
	code, err := randomCode()
	if err != nil {
		return OTPResult{}, err
	}
	now := s.now()
	nowMs := db.Millis(now)
	var limited *apperr.Error
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		var err error
		if limited, err = s.otpLimit(ctx, tx, ph, ip, now); err != nil || limited != nil {
			return err
		}
		if !known {
			// A spent row: counts toward the limits, can never be verified.
			_, err := tx.Exec(ctx, `INSERT INTO otp_codes(phone, code_hash, ip, created_at, expires_at, used_at) VALUES (?, '', ?, ?, ?, ?)`,
				ph, ip, nowMs, nowMs, nowMs)
			return err
		}
		// Only the newest code is valid, so its attempt cap cannot be
		// sidestepped by falling back to an older one.
		if _, err := tx.Exec(ctx, "UPDATE otp_codes SET used_at = ? WHERE phone = ? AND used_at IS NULL", nowMs, ph); err != nil {
			return fmt.Errorf("void old codes: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO otp_codes(phone, code_hash, ip, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			ph, s.codeHash(ph, code), ip, nowMs, db.Millis(now.Add(s.cfg.OTP.TTL))); err != nil {
			return fmt.Errorf("insert code: %w", err)
		}
		e := audit.Entry{At: nowMs, Action: audit.OTPRequested, SubjectType: "account", IP: ip, Detail: vntext.MaskPhone(ph)}
		if acc != nil {
			e.ActorID, e.ActorName, e.SubjectID, e.UnitPath = acc.ID, acc.Name, strconv.FormatInt(acc.ID, 10), acc.UnitPath
		} else {
			e.ActorName, e.SubjectType, e.UnitPath = ref.Name, "resident", ref.UnitPath
			e.SubjectID = strconv.FormatInt(ref.ResidentID, 10)
		}
		return audit.Log(ctx, tx, e)
	})
	if err != nil {
		return OTPResult{}, fmt.Errorf("request code: %w", err)
	}
	if limited != nil {
		return OTPResult{}, limited
	}
	if !known {
		return OTPResult{}, errUnknownPhone
	}
	if err := s.cfg.SMS.Send(ctx, ph, otpText(code, s.cfg.OTP.TTL)); err != nil {
		s.log.ErrorContext(ctx, "send code", "to", vntext.MaskPhone(ph), "err", err)
		return OTPResult{}, apperr.Wrap(err, apperr.Internal, "Không gửi được tin nhắn chứa mã. Vui lòng thử lại sau.",
			"The code could not be sent. Please try again later.")
	}
	res := OTPResult{ExpiresIn: s.cfg.OTP.TTL}
	if s.cfg.Demo {
		res.DemoCode = code
	}
	return res, nil
}

// findResident returns nil (and no error) when no resident has the phone.
func (s *Service) findResident(ctx context.Context, phone string) (*ResidentRef, error) {
	if s.cfg.Residents == nil {
		return nil, nil
	}
	r, err := s.cfg.Residents.ResidentByPhone(ctx, phone)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resident by phone: %w", err)
	}
	return &r, nil
}

// otpLimit returns a TooManyRequests error when another code may not be
// issued yet for phone or from ip.
func (s *Service) otpLimit(ctx context.Context, tx *db.Tx, phone, ip string, now time.Time) (*apperr.Error, error) {
	c := s.cfg.OTP
	wait, err := windowWait(ctx, tx, "phone", phone, c.PerHour, time.Hour, now)
	if err != nil {
		return nil, err
	}
	last, err := windowWait(ctx, tx, "phone", phone, 1, c.Interval, now)
	if err != nil {
		return nil, err
	}
	wait = max(wait, last)
	if ip != "" {
		w, err := windowWait(ctx, tx, "ip", ip, c.PerIPPerHour, time.Hour, now)
		if err != nil {
			return nil, err
		}
		wait = max(wait, w)
	}
	if wait > 0 {
		return tooMany("Bạn đã yêu cầu mã quá nhiều lần.", "Too many codes requested.", wait), nil
	}
	return nil, nil
}

// windowWait returns how long until fewer than n rows of otp_codes with
// col = key fall within the window ending now (0 if already so). col is
// "phone" or "ip", both indexed with created_at.
func windowWait(ctx context.Context, q interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}, col, key string, n int, window time.Duration, now time.Time) (time.Duration, error) {
	if col != "phone" && col != "ip" {
		return 0, fmt.Errorf("window wait: bad column %q", col)
	}
	rows, err := q.Query(ctx, "SELECT created_at FROM otp_codes WHERE "+col+" = ? AND created_at > ? ORDER BY created_at DESC LIMIT "+strconv.Itoa(n),
		key, db.Millis(now.Add(-window)))
	if err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	defer rows.Close()
	var at []int64
	for rows.Next() {
		var t int64
		if err := rows.Scan(&t); err != nil {
			return 0, fmt.Errorf("rate limit: %w", err)
		}
		at = append(at, t)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	if len(at) < n {
		return 0, nil
	}
	// The window frees up when the n-th newest row leaves it.
	return max(db.Time(at[n-1]).Add(window).Sub(now), time.Second), nil
}

func tooMany(vi, en string, wait time.Duration) *apperr.Error {
	var wv, we string
	if wait < 2*time.Minute {
		sec := int((wait + time.Second - 1) / time.Second)
		wv, we = fmt.Sprintf("%d giây", sec), fmt.Sprintf("%d seconds", sec)
	} else {
		m := int((wait + time.Minute - 1) / time.Minute)
		wv, we = fmt.Sprintf("%d phút", m), fmt.Sprintf("%d minutes", m)
	}
	return apperr.New(apperr.TooManyRequests, vi+" Vui lòng thử lại sau "+wv+".", en+" Please try again in "+we+".")
}

// randomCode returns 6 uniformly random digits.
func randomCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("random code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// codeHash binds a code to its phone under the server's key, so a leaked
// table reveals no code and a code cannot be tried against another phone.
func (s *Service) codeHash(phone, code string) string {
	m := hmac.New(sha256.New, s.otpKey)
	m.Write([]byte(phone))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

func sixDigits(code string) bool {
	if len(code) != 6 {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// VerifyOTP checks the newest unused, unexpired code sent to phone and, if
// it matches, signs in with a new session of the given kind. A resident's
// first sign-in creates the account, linked to the resident, with a
// RoleResident grant on the resident's unit. A code allows 5 attempts, then
// it is burned. It returns apperr Invalid for a malformed phone, code or
// kind; Unauthenticated for a wrong, expired, used or burned code or a
// disabled account; NotFound when the phone belongs to no account and no
// resident any more.
func (s *Service) VerifyOTP(ctx context.Context, phone, code, ip, userAgent string, kind SessionKind) (Session, *Principal, error) {
	ph, err := normPhone(phone)
	if err != nil {
		return Session{}, nil, err
	}
	if !sixDigits(code) {
		return Session{}, nil, errCodeFormat
	}
	if !kind.valid() {
		return Session{}, nil, errBadKind
	}
	acc, err := authAccountByPhone(ctx, s.d, ph)
	if err != nil {
		return Session{}, nil, err
	}
	var ref *ResidentRef
	if acc == nil {
		// Looked up before the write so the writer never waits on another room.
		if ref, err = s.findResident(ctx, ph); err != nil {
			return Session{}, nil, err
		}
	}
	now := s.now()
	nowMs := db.Millis(now)
	var (
		fail      *apperr.Error
		sess      Session
		hash      string
		accountID int64
	)
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		failed := func(reason string, e *apperr.Error) error {
			fail = e
			en := audit.Entry{At: nowMs, Action: audit.SignInFailed, SubjectType: "account", IP: ip,
				Detail: "otp: " + reason + " " + vntext.MaskPhone(ph)}
			if acc != nil {
				en.ActorID, en.ActorName, en.SubjectID, en.UnitPath = acc.ID, acc.Name, strconv.FormatInt(acc.ID, 10), acc.UnitPath
			} else if ref != nil {
				en.ActorName, en.UnitPath = ref.Name, ref.UnitPath
			}
			return audit.Log(ctx, tx, en)
		}
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM otp_codes WHERE phone = ? AND used_at IS NULL AND expires_at > ? ORDER BY id DESC LIMIT 1`,
			ph, nowMs).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return failed("no live code", errBadCode)
		}
		if err != nil {
			return fmt.Errorf("find code: %w", err)
		}
		// Counting the attempt first serialises concurrent guesses at one code.
		var attempts int
		var stored string
		err = tx.QueryRow(ctx, `UPDATE otp_codes SET attempts = attempts + 1 WHERE id = ? AND used_at IS NULL AND attempts < ?
			RETURNING attempts, code_hash`, id, s.cfg.OTP.MaxAttempts).Scan(&attempts, &stored)
		if errors.Is(err, sql.ErrNoRows) {
			return failed("code used or burned meanwhile", errBadCode)
		}
		if err != nil {
			return fmt.Errorf("count attempt: %w", err)
		}
		if !hmac.Equal([]byte(s.codeHash(ph, code)), []byte(stored)) {
			if attempts < s.cfg.OTP.MaxAttempts {
				return failed(fmt.Sprintf("wrong code (attempt %d)", attempts), errBadCode)
			}
			if _, err := tx.Exec(ctx, "UPDATE otp_codes SET used_at = ? WHERE id = ?", nowMs, id); err != nil {
				return fmt.Errorf("burn code: %w", err)
			}
			return failed("wrong code, code burned", errCodeBurned)
		}
		if _, err := tx.Exec(ctx, "UPDATE otp_codes SET used_at = ? WHERE id = ?", nowMs, id); err != nil {
			return fmt.Errorf("use code: %w", err)
		}
		a, err := authAccountByPhone(ctx, tx, ph)
		if err != nil {
			return err
		}
		switch {
		case a != nil:
			if a.Disabled {
				return failed("account disabled", errDisabled)
			}
			acc = a
		case ref != nil:
			if acc, err = s.createResidentAccount(ctx, tx, ph, *ref, ip, nowMs); err != nil {
				return err
			}
		default:
			fail = errUnknownPhone
			return nil
		}
		accountID = acc.ID
		if sess, hash, err = s.createSession(ctx, tx, acc.ID, kind, ip, userAgent, now); err != nil {
			return err
		}
		return audit.Log(ctx, tx, audit.Entry{At: nowMs, ActorID: acc.ID, ActorName: acc.Name, Action: audit.SignIn,
			SubjectType: "account", SubjectID: strconv.FormatInt(acc.ID, 10), UnitPath: acc.UnitPath, IP: ip,
			Detail: "otp " + string(kind)})
	})
	if err != nil {
		return Session{}, nil, err
	}
	if fail != nil {
		return Session{}, nil, fail
	}
	p, err := s.principal(ctx, accountID, hash)
	if err != nil {
		return Session{}, nil, err
	}
	return sess, p, nil
}

// createResidentAccount makes the account of a resident signing in for the
// first time, with the resident role on their unit.
func (s *Service) createResidentAccount(ctx context.Context, tx *db.Tx, phone string, ref ResidentRef, ip string, nowMs int64) (*authAccount, error) {
	name := vntext.Normalize(ref.Name)
	if name == "" {
		name = vntext.MaskPhone(phone)
	}
	id, err := insertAccount(ctx, tx, phone, name, ref.ResidentID, nowMs)
	if err != nil {
		return nil, err
	}
	sid := strconv.FormatInt(id, 10)
	if err := audit.Log(ctx, tx, audit.Entry{At: nowMs, ActorID: id, ActorName: name, Action: AuditAccountCreated,
		SubjectType: "account", SubjectID: sid, UnitPath: ref.UnitPath, IP: ip, Detail: "first sign-in of resident " + strconv.FormatInt(ref.ResidentID, 10)}); err != nil {
		return nil, err
	}
	if _, err := insertGrant(ctx, tx, id, RoleResident, ref.UnitID, ref.UnitPath, 0, nowMs); err != nil {
		return nil, err
	}
	if err := audit.Log(ctx, tx, audit.Entry{At: nowMs, ActorName: "hệ thống", Action: audit.RoleGranted,
		SubjectType: "account", SubjectID: sid, UnitPath: ref.UnitPath, IP: ip, Detail: string(RoleResident)}); err != nil {
		return nil, err
	}
	return &authAccount{ID: id, Name: name, UnitPath: ref.UnitPath}, nil
}
