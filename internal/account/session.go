package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
)

// SessionKind says how a session's token travels.
type SessionKind string

// The kinds of session.
const (
	SessionWeb SessionKind = "web" // browser cookie
	SessionAPI SessionKind = "api" // Authorization: Bearer token
)

// Session is a freshly issued sign-in. Token is shown once: only its
// SHA-256 is stored.
type Session struct {
	Token     string      `json:"token"`
	Kind      SessionKind `json:"kind"`
	ExpiresAt time.Time   `json:"expires_at"`
}

// tokenLen is the length of a token: 32 bytes in unpadded base64url.
const tokenLen = 43

// lastSeenEvery bounds how often Authenticate writes last_seen_at.
const lastSeenEvery = time.Minute

var (
	errSessionExpired = apperr.New(apperr.Unauthenticated, "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.", "Your session has expired. Please sign in again.")
	errBadKind        = apperr.InvalidField("kind", "Loại phiên đăng nhập không hợp lệ.", "Invalid session kind.")
)

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func (k SessionKind) valid() bool { return k == SessionWeb || k == SessionAPI }

// createSession issues a new token for the account inside tx. Every sign-in
// gets a new one: a token supplied by the client is never reused.
func (s *Service) createSession(ctx context.Context, tx *db.Tx, accountID int64, kind SessionKind, ip, ua string, now time.Time) (Session, string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Session{}, "", fmt.Errorf("session token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	ttl := s.cfg.WebSessionTTL
	if kind == SessionAPI {
		ttl = s.cfg.APISessionTTL
	}
	exp := now.Add(ttl)
	h := hashToken(tok)
	_, err := tx.Exec(ctx, `INSERT INTO sessions(id_hash, account_id, kind, created_at, expires_at, last_seen_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, h, accountID, string(kind), db.Millis(now), db.Millis(exp), db.Millis(now), clip(ip, 64), clip(ua, 512))
	if err != nil {
		return Session{}, "", fmt.Errorf("insert session: %w", err)
	}
	if _, err := tx.Exec(ctx, "UPDATE accounts SET last_login_at = ? WHERE id = ?", db.Millis(now), accountID); err != nil {
		return Session{}, "", fmt.Errorf("last login: %w", err)
	}
	return Session{Token: tok, Kind: kind, ExpiresAt: db.Time(db.Millis(exp))}, h, nil
}

// Authenticate returns the principal of a session cookie or API token, with
// its grants. It returns apperr Unauthenticated for an unknown, expired,
// idle, signed-out or disabled token or account. It costs one indexed read
// (on PostgreSQL shared with the concurrent requests'), and a write at most
// once a minute per session to record activity.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	h, ok := SessionHash(token)
	if !ok {
		return nil, apperr.ErrUnauthenticated
	}
	row, err := s.lookupBatched(ctx, h)
	if err != nil {
		return nil, err
	}
	nowMs := db.Millis(s.now())
	p, touch, err := s.checkSession(&row, h, nowMs)
	if err != nil {
		return nil, err
	}
	if touch {
		err := s.d.Write(ctx, func(tx *db.Tx) error { return touchSessions(ctx, tx, nowMs, h) })
		if err != nil {
			// The session is valid; failing the request over bookkeeping
			// would be worse than an idle timeout that runs a minute early.
			s.log.WarnContext(ctx, "session last seen", "err", err)
		}
	}
	return p, nil
}

// checkSession applies Authenticate's rules to the session read for hash
// h at nowMs: it returns the principal, and touch true when last_seen_at
// is due to be written (at most once a minute per session).
func (s *Service) checkSession(row *sessionRow, h string, nowMs int64) (p *Principal, touch bool, err error) {
	if !row.found {
		return nil, false, apperr.ErrUnauthenticated
	}
	if row.disabled {
		return nil, false, errDisabled
	}
	if row.expires <= nowMs || row.lastSeen+s.cfg.IdleTimeout.Milliseconds() <= nowMs {
		return nil, false, errSessionExpired
	}
	p = &row.p
	p.SessionID = h
	return p, nowMs-row.lastSeen >= lastSeenEvery.Milliseconds(), nil
}

// principal loads the principal of a session just created.
func (s *Service) principal(ctx context.Context, accountID int64, sessionHash string) (*Principal, error) {
	p := &Principal{AccountID: accountID, SessionID: sessionHash}
	err := s.d.QueryRow(ctx, "SELECT phone, name, COALESCE(resident_id, 0), lang FROM accounts WHERE id = ?", accountID).
		Scan(&p.Phone, &p.Name, &p.ResidentID, &p.Lang)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errAccountNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("principal: %w", err)
	}
	if p.Grants, err = s.Grants(ctx, accountID); err != nil {
		return nil, err
	}
	return p, nil
}

// SignOut ends the session p was authenticated with. It returns apperr
// Unauthenticated for a nil p; signing out twice is not an error.
func (s *Service) SignOut(ctx context.Context, p *Principal) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	return s.d.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id_hash = ? AND account_id = ?", p.SessionID, p.AccountID)
		if err != nil {
			return fmt.Errorf("sign out: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return audit.Log(ctx, tx, s.selfEntry(p, audit.SignOut))
	})
}

// SignOutEverywhere ends every session and API token of p's account,
// including the current one. It returns apperr Unauthenticated for a nil p.
func (s *Service) SignOutEverywhere(ctx context.Context, p *Principal) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	return s.d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE account_id = ?", p.AccountID); err != nil {
			return fmt.Errorf("sign out everywhere: %w", err)
		}
		return audit.Log(ctx, tx, s.selfEntry(p, AuditSignOutAll))
	})
}

// selfEntry is an audit entry of p acting on its own account.
func (s *Service) selfEntry(p *Principal, action string) audit.Entry {
	path := ""
	if len(p.Grants) > 0 {
		path = p.Grants[0].UnitPath
	}
	return audit.Entry{
		At: db.Millis(s.now()), ActorID: p.AccountID, ActorName: p.Name, Action: action,
		SubjectType: "account", SubjectID: strconv.FormatInt(p.AccountID, 10), UnitPath: path,
	}
}

// Prune deletes expired and idle sessions and one-time codes and throttle
// records older than a day. Run it periodically (hourly is plenty); it
// returns the database's error.
func (s *Service) Prune(ctx context.Context) error {
	now := s.now()
	return s.d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?",
			db.Millis(now), db.Millis(now.Add(-s.cfg.IdleTimeout))); err != nil {
			return fmt.Errorf("prune sessions: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM otp_codes WHERE created_at < ?", db.Millis(now.Add(-24*time.Hour))); err != nil {
			return fmt.Errorf("prune codes: %w", err)
		}
		return nil
	})
}
