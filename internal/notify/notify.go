// Package notify owns the delivery channels: the in-app inbox is the
// notice room's own rows; this package adds Web Push (VAPID, RFC 8292, with
// aes128gcm encryption, RFC 8291, written on the standard library), SMS
// through the account room's SMSSender, and email through SMTP when
// configured; and each account's preferences (daily digest or immediate)
// and browser subscriptions. Rooms decide who is told what; notify tells.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
)

// The channels, as recorded per send.
const (
	ChannelPush  = "push"
	ChannelSMS   = "sms"
	ChannelEmail = "email"
	ChannelInbox = "inbox"
)

// Config configures the channels.
type Config struct {
	SMS          account.SMSSender // nil: SMS is not sent (and reported failed)
	Mail         *Mailer           // nil: email is not configured
	VAPIDSubject string            // contact for push services; default a mailto
	HTTPClient   *http.Client      // for push services; default 15 s timeout
	Logger       *slog.Logger
}

// Service sends through the channels and keeps subscriptions and
// preferences. It is safe for concurrent use.
type Service struct {
	d      *db.DB
	cfg    Config
	pusher *Pusher
}

// New returns the service, loading (or generating, on first start) the
// VAPID key. It returns the database's error.
func New(ctx context.Context, d *db.DB, cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	v, err := LoadVAPID(ctx, d, cfg.VAPIDSubject)
	if err != nil {
		return nil, err
	}
	return &Service{d: d, cfg: cfg, pusher: &Pusher{VAPID: v, Client: cfg.HTTPClient}}, nil
}

// VAPIDPublicKey is the applicationServerKey browsers subscribe with.
func (s *Service) VAPIDPublicKey() string { return s.pusher.VAPID.PublicKey() }

// Message is what a person is told: a title, a short text and the page to
// open. Urgent messages are pushed with high urgency.
type Message struct {
	Title  string `json:"title"`
	Body   string `json:"body"`
	URL    string `json:"url"`
	Urgent bool   `json:"urgent,omitempty"`
	Topic  string `json:"-"` // replaces an undelivered push of the same topic
}

// Push sends m to one subscription. It returns ErrGone for an expired
// subscription (which it forgets) and the push service's error otherwise.
func (s *Service) Push(ctx context.Context, sub Subscription, m Message) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return err
	}
	urgency := "normal"
	if m.Urgent {
		urgency = "high"
	}
	err = s.pusher.Push(ctx, sub, payload, 24*time.Hour, urgency, m.Topic)
	if errors.Is(err, ErrGone) {
		if ferr := s.d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "DELETE FROM push_subscriptions WHERE endpoint = ?", sub.Endpoint)
			return err
		}); ferr != nil {
			s.cfg.Logger.Warn("forget push subscription", "err", ferr)
		}
	}
	return err
}

// SMS sends text to a phone number (+84… form). It returns an error when no
// gateway is configured or the gateway refuses the message.
func (s *Service) SMS(ctx context.Context, phone, text string) error {
	if s.cfg.SMS == nil {
		return errors.New("no SMS gateway configured")
	}
	return s.cfg.SMS.Send(ctx, phone, text)
}

// EmailConfigured reports whether email can be sent.
func (s *Service) EmailConfigured() bool { return s.cfg.Mail != nil }

// Email sends m to an address. It returns an error when email is not
// configured or the server refuses it.
func (s *Service) Email(ctx context.Context, to string, m Message) error {
	if s.cfg.Mail == nil {
		return errors.New("email is not configured")
	}
	return s.cfg.Mail.Send(ctx, to, m.Title, m.Body+"\n\n"+m.URL)
}

// Subscribe stores a browser's push subscription for the signed-in account
// (a subscription moving to another account follows it). It returns
// Unauthenticated for an anonymous p and Invalid for a malformed one.
func (s *Service) Subscribe(ctx context.Context, p *account.Principal, sub Subscription) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	u, err := url.Parse(sub.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(sub.Endpoint) > 1000 {
		return apperr.InvalidField("endpoint", "Địa chỉ nhận thông báo không hợp lệ.", "The push endpoint is not a valid URL.")
	}
	if _, err := Encrypt(sub, []byte("x")); err != nil {
		return apperr.InvalidField("p256dh", "Khoá nhận thông báo không hợp lệ.", "The subscription keys are not valid.")
	}
	return s.d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO push_subscriptions(account_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (endpoint) DO UPDATE SET account_id = excluded.account_id, p256dh = excluded.p256dh, auth = excluded.auth`,
			p.AccountID, sub.Endpoint, sub.P256dh, sub.Auth, db.Now())
		return err
	})
}

// Unsubscribe forgets one of the account's subscriptions. It returns
// Unauthenticated for an anonymous p.
func (s *Service) Unsubscribe(ctx context.Context, p *account.Principal, endpoint string) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	return s.d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM push_subscriptions WHERE endpoint = ? AND account_id = ?", endpoint, p.AccountID)
		return err
	})
}

// Subscriptions returns the push subscriptions of the accounts, by account.
func (s *Service) Subscriptions(ctx context.Context, accountIDs []int64) (map[int64][]Subscription, error) {
	out := map[int64][]Subscription{}
	for len(accountIDs) > 0 {
		n := min(len(accountIDs), 500)
		chunk := accountIDs[:n]
		accountIDs = accountIDs[n:]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.d.Query(ctx, "SELECT account_id, endpoint, p256dh, auth FROM push_subscriptions WHERE account_id IN ("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var sub Subscription
			if err := rows.Scan(&id, &sub.Endpoint, &sub.P256dh, &sub.Auth); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = append(out[id], sub)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Prefs are an account's delivery preferences.
type Prefs struct {
	// Digest: normal announcements arrive once a day in a digest instead of
	// at once. Urgent ones always arrive at once.
	Digest bool   `json:"digest"`
	Email  string `json:"email,omitempty"` // officials: where email goes
}

// Prefs returns p's preferences (the defaults when none were saved). It
// returns Unauthenticated for an anonymous p.
func (s *Service) Prefs(ctx context.Context, p *account.Principal) (Prefs, error) {
	if p == nil {
		return Prefs{}, apperr.ErrUnauthenticated
	}
	m, err := s.PrefsOf(ctx, []int64{p.AccountID})
	return m[p.AccountID], err
}

// PrefsOf returns the saved preferences of the accounts that have any.
func (s *Service) PrefsOf(ctx context.Context, accountIDs []int64) (map[int64]Prefs, error) {
	out := map[int64]Prefs{}
	if len(accountIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(accountIDs))
	for i, id := range accountIDs {
		args[i] = id
	}
	rows, err := s.d.Query(ctx, "SELECT account_id, digest, email FROM notify_prefs WHERE account_id IN ("+placeholders(len(accountIDs))+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var p Prefs
		if err := rows.Scan(&id, &p.Digest, &p.Email); err != nil {
			return nil, err
		}
		out[id] = p
	}
	return out, rows.Err()
}

// SetPrefs saves p's preferences. It returns Unauthenticated for an
// anonymous p and Invalid for a malformed email address.
func (s *Service) SetPrefs(ctx context.Context, p *account.Principal, in Prefs) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	in.Email = strings.TrimSpace(in.Email)
	if err := validEmail(in.Email); err != nil {
		return err
	}
	return s.d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO notify_prefs(account_id, digest, email, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET digest = excluded.digest, email = excluded.email, updated_at = excluded.updated_at`,
			p.AccountID, boolInt(in.Digest), in.Email, db.Now())
		return err
	})
}

// SetEmail saves p's email address ("" removes it), keeping the other
// preferences. Officials receive the announcements sent to their units
// there. It returns Unauthenticated for an anonymous p and Invalid for a
// malformed address.
func (s *Service) SetEmail(ctx context.Context, p *account.Principal, email string) (string, error) {
	if p == nil {
		return "", apperr.ErrUnauthenticated
	}
	email = strings.TrimSpace(email)
	if err := validEmail(email); err != nil {
		return "", err
	}
	return email, s.d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO notify_prefs(account_id, digest, email, updated_at) VALUES (?, 0, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at`,
			p.AccountID, email, db.Now())
		return err
	})
}

func validEmail(email string) error {
	if email == "" {
		return nil
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 200 {
		return apperr.InvalidField("email", "Địa chỉ email không hợp lệ.", "The email address is not valid.")
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// Mailer sends plain-text email through an SMTP server.
type Mailer struct {
	Addr     string // host:port
	From     string
	Username string // empty: no authentication
	Password string
}

// Send sends one message. It returns the server's error.
func (m *Mailer) Send(ctx context.Context, to, subject, body string) error {
	if strings.ContainsAny(to+subject, "\r\n") {
		return fmt.Errorf("email: header injection refused")
	}
	return sendMail(ctx, m, to, subject, body)
}
