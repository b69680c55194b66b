// Package notice owns announcements to an area subtree: targeting (a unit
// and everything below it, optionally only households with a flag or with a
// member in an organisation), scheduling, the cascade of local notes added
// by lower levels, one delivery per household materialised set-based,
// acknowledgement (by any member, or "told in person" by an official), and
// reach: roll-ups by level and the list of households still unreached.
//
// Deliveries are rows of notice_deliveries clustered by the household's
// unit path, so the reach of any subtree is one range scan. Channel sends
// (Web Push, SMS, email through the notify room) are durable jobs.
//
// Errors are *apperr.Error for what a user can act on; anything else is an
// internal error from the database.
package notice

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/batch"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/notify"
	"github.com/trothu/trothu/internal/vntext"
)

// Priority is how pressing a notice is.
type Priority string

// The priorities. Urgent notices always arrive at once and are re-sent to
// households that have not acknowledged them.
const (
	Normal    Priority = "normal"
	Important Priority = "important"
	Urgent    Priority = "urgent"
)

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool { return p == Normal || p == Important || p == Urgent }

// Publisher carries events to open browsers (the realtime room's Broker).
type Publisher interface {
	Publish(ctx context.Context, topic, event string, data any) error
}

// Config tunes the service. Zero values pick defaults.
type Config struct {
	Now             func() time.Time
	RenotifyEvery   time.Duration // urgent re-notification interval; default 2 h
	RenotifyRounds  int           // at most this many re-notifications without an expiry; default 3
	BatchSize       int           // households per delivery job; default 200
	Logger          *slog.Logger
	Publisher       Publisher       // nil: no realtime events
	Notify          *notify.Service // nil: in-app inbox only
	SendConcurrency int             // channel sends at once per job; default 8
	Sessions        Sessions        // nil: AckToken is unavailable
}

// Sessions authenticates the session tokens of acknowledgements
// (account.Service): one at a time, a batch inside the write transaction
// that records them (SQLite), or inside their UPDATE (PostgreSQL).
type Sessions interface {
	Authenticate(ctx context.Context, token string) (*account.Principal, error)
	AuthenticateTx(ctx context.Context, tx *db.Tx, tokens []string) ([]*account.Principal, []error, error)
	FreshSessionJoin(hash, now string) string
}

// Service is the notice room. It is safe for concurrent use.
type Service struct {
	d     *db.DB
	areas *area.Service
	jobs  *jobs.Queue
	cfg   Config
	acks  batch.Batcher[*ackReq]
	live  liveState
}

// New returns the service and registers its job handlers on q.
func New(d *db.DB, areas *area.Service, q *jobs.Queue, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RenotifyEvery <= 0 {
		cfg.RenotifyEvery = 2 * time.Hour
	}
	if cfg.RenotifyRounds <= 0 {
		cfg.RenotifyRounds = 3
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 200
	}
	if cfg.SendConcurrency <= 0 {
		cfg.SendConcurrency = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{d: d, areas: areas, jobs: q, cfg: cfg}
	s.acks = batch.Batcher[*ackReq]{Run: s.commitAcks, MaxBatch: ackBatchMax, MaxLeaders: batch.Leaders()}
	if q != nil {
		q.HandleTx(jobSend, s.handleSend)
		q.Handle(jobBatch, s.handleBatch)
		q.HandleTx(jobRenotify, s.handleRenotify)
		q.Handle(jobDigest, s.handleDigest)
		q.Handle(jobEmail, s.handleEmail)
	}
	return s
}

// Notify returns the delivery channels (nil when none are configured).
func (s *Service) Notify() *notify.Service { return s.cfg.Notify }

// Notice is an announcement.
type Notice struct {
	ID          int64      `json:"id"`
	UnitID      int64      `json:"unit_id"`
	UnitPath    string     `json:"-"`
	UnitName    string     `json:"unit_name"`
	OrgID       int64      `json:"org_id,omitempty"`
	Flags       area.Flags `json:"flags,omitempty"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	Priority    Priority   `json:"priority"`
	AckRequired bool       `json:"ack_required"`
	SMSAll      bool       `json:"sms_all,omitempty"`
	SendAt      time.Time  `json:"send_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	Targeted    int        `json:"targeted"`
	AuthorID    int64      `json:"author_id"`
	AuthorName  string     `json:"author_name"`
	CreatedAt   time.Time  `json:"created_at"`
}

// Sent reports whether the notice has gone out.
func (n Notice) Sent() bool { return n.SentAt != nil }

// Expired reports whether the notice has expired at now.
func (n Notice) Expired(now time.Time) bool { return n.ExpiresAt != nil && !now.Before(*n.ExpiresAt) }

const noticeCols = `n.id, n.unit_id, n.unit_path, u.full_name, COALESCE(n.org_id, 0), n.flags, n.title, n.body, n.priority,
	n.ack_required, n.sms_all, n.send_at, n.expires_at, n.sent_at, n.targeted, n.author_id, n.author_name, n.created_at`

const noticeFrom = ` FROM notices n JOIN units u ON u.id = n.unit_id`

type scanner interface{ Scan(dest ...any) error }

func scanNotice(r scanner, n *Notice, extra ...any) error {
	var sendAt, created int64
	var expires, sent sql.NullInt64
	var ack, sms int
	if err := r.Scan(append([]any{&n.ID, &n.UnitID, &n.UnitPath, &n.UnitName, &n.OrgID, &n.Flags, &n.Title, &n.Body, &n.Priority,
		&ack, &sms, &sendAt, &expires, &sent, &n.Targeted, &n.AuthorID, &n.AuthorName, &created}, extra...)...); err != nil {
		return err
	}
	n.AckRequired, n.SMSAll = ack == 1, sms == 1
	n.SendAt, n.CreatedAt = db.Time(sendAt), db.Time(created)
	if expires.Valid {
		t := db.Time(expires.Int64)
		n.ExpiresAt = &t
	}
	if sent.Valid {
		t := db.Time(sent.Int64)
		n.SentAt = &t
	}
	return nil
}

type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func noticeByID(ctx context.Context, q querier, id int64) (Notice, error) {
	var n Notice
	err := scanNotice(q.QueryRow(ctx, "SELECT "+noticeCols+noticeFrom+" WHERE n.id = ?", id), &n)
	if errors.Is(err, sql.ErrNoRows) {
		return Notice{}, errNoticeNotFound()
	}
	return n, err
}

func errNoticeNotFound() error { return apperr.NotFoundf("thông báo", "Announcement") }

// Input is a notice to compose.
type Input struct {
	UnitID      int64      `json:"unit_id"`
	OrgID       int64      `json:"org_id,omitempty"`
	Flags       area.Flags `json:"flags,omitempty"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	Priority    Priority   `json:"priority,omitempty"`
	AckRequired bool       `json:"ack_required,omitempty"`
	SMSAll      bool       `json:"sms_all,omitempty"`
	SendAt      *time.Time `json:"send_at,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}

func cleanText(s string) string { return strings.TrimSpace(vntext.NFC(s)) }

// check validates in and returns the target unit.
func (s *Service) check(ctx context.Context, p *account.Principal, in *Input, forPreview bool) (area.Unit, error) {
	if p == nil {
		return area.Unit{}, apperr.ErrUnauthenticated
	}
	u, err := s.areas.Unit(ctx, in.UnitID)
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return area.Unit{}, apperr.InvalidField("unit_id", "Hãy chọn địa bàn nhận thông báo.", "Choose the area to send to.")
		}
		return area.Unit{}, err
	}
	if err := account.Authorize(p, account.ActSendNotice, u.Path); err != nil {
		return area.Unit{}, err
	}
	if !u.Current() {
		return area.Unit{}, apperr.InvalidField("unit_id", "Đơn vị này đã thôi hoạt động.", "This unit no longer exists.")
	}
	if in.Flags&^area.AllFlags != 0 || in.Flags < 0 {
		return area.Unit{}, apperr.InvalidField("flags", "Đặc điểm hộ không hợp lệ.", "Unknown household flags.")
	}
	if in.OrgID != 0 {
		var path string
		err := s.d.QueryRow(ctx, "SELECT unit_path FROM organisations WHERE id = ?", in.OrgID).Scan(&path)
		if errors.Is(err, sql.ErrNoRows) {
			return area.Unit{}, apperr.InvalidField("org_id", "Không tìm thấy tổ chức.", "Organisation not found.")
		} else if err != nil {
			return area.Unit{}, err
		}
		if !strings.HasPrefix(path, u.Path) && !strings.HasPrefix(u.Path, path) {
			return area.Unit{}, apperr.InvalidField("org_id", "Tổ chức không thuộc địa bàn nhận thông báo.", "The organisation is not in the chosen area.")
		}
	}
	if forPreview {
		return u, nil
	}
	in.Title, in.Body = cleanText(in.Title), cleanText(in.Body)
	if in.Title == "" || utf8.RuneCountInString(in.Title) > 200 {
		return area.Unit{}, apperr.InvalidField("title", "Tiêu đề không được để trống và tối đa 200 ký tự.", "The title is required, at most 200 characters.")
	}
	if in.Body == "" || utf8.RuneCountInString(in.Body) > 10000 {
		return area.Unit{}, apperr.InvalidField("body", "Nội dung không được để trống và tối đa 10.000 ký tự.", "The text is required, at most 10,000 characters.")
	}
	if in.Priority == "" {
		in.Priority = Normal
	}
	if !in.Priority.Valid() {
		return area.Unit{}, apperr.InvalidField("priority", "Mức độ phải là thường, quan trọng hoặc khẩn.", "Priority must be normal, important or urgent.")
	}
	now := s.cfg.Now()
	if in.SendAt != nil && in.SendAt.Before(now.Add(-time.Minute)) {
		return area.Unit{}, apperr.InvalidField("send_at", "Thời điểm gửi đã qua.", "The send time is in the past.")
	}
	if in.ExpiresAt != nil {
		start := now
		if in.SendAt != nil {
			start = *in.SendAt
		}
		if !in.ExpiresAt.After(start) {
			return area.Unit{}, apperr.InvalidField("expires_at", "Thời điểm hết hạn phải sau thời điểm gửi.", "The expiry must be after the send time.")
		}
	}
	return u, nil
}

// targetWhere is the household filter of a notice: the subtree, the flags
// and the organisation. Its arguments follow the returned SQL.
func targetWhere(unitPath string, flags area.Flags, orgID int64) (string, []any) {
	lo, hi := db.SubtreeRange(unitPath)
	q := "h.unit_path >= ? AND h.unit_path < ?"
	args := []any{lo, hi}
	if flags != 0 {
		q += " AND (h.flags & ?) = ?"
		args = append(args, int(flags), int(flags))
	}
	if orgID != 0 {
		q += " AND EXISTS (SELECT 1 FROM residents r JOIN organisation_members om ON om.resident_id = r.id WHERE r.household_id = h.id AND om.organisation_id = ?)"
		args = append(args, orgID)
	}
	return q, args
}

// Preview returns how many households a notice with this target would
// reach. It returns Forbidden unless p may send to the unit.
func (s *Service) Preview(ctx context.Context, p *account.Principal, in Input) (int, error) {
	u, err := s.check(ctx, p, &in, true)
	if err != nil {
		return 0, err
	}
	where, args := targetWhere(u.Path, in.Flags, in.OrgID)
	var n int
	err = s.d.QueryRow(ctx, "SELECT COUNT(*) FROM households h WHERE "+where, args...).Scan(&n)
	return n, err
}

// Create composes a notice. One due now goes out at once: its deliveries,
// one per targeted household, are created in the same transaction; a
// scheduled one goes out at SendAt through the job queue. It returns
// Forbidden unless p may send to the unit, and Invalid for bad input.
func (s *Service) Create(ctx context.Context, p *account.Principal, in Input) (Notice, error) {
	u, err := s.check(ctx, p, &in, false)
	if err != nil {
		return Notice{}, err
	}
	now := s.cfg.Now()
	sendAt := now
	if in.SendAt != nil && in.SendAt.After(now) {
		sendAt = *in.SendAt
	}
	var expires any
	if in.ExpiresAt != nil {
		expires = db.Millis(*in.ExpiresAt)
	}
	var org any
	if in.OrgID != 0 {
		org = in.OrgID
	}
	var id int64
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO notices(unit_id, unit_path, org_id, flags, title, body, priority, ack_required, sms_all, send_at, expires_at, author_id, author_name, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.ID, u.Path, org, int(in.Flags), in.Title, in.Body, string(in.Priority), boolInt(in.AckRequired), boolInt(in.SMSAll),
			db.Millis(sendAt), expires, p.AccountID, p.Name, db.Millis(now)).Scan(&id)
		if err != nil {
			return err
		}
		if sendAt.After(now) {
			_, err := jobs.Enqueue(ctx, tx, jobs.New{Kind: jobSend, Key: strconv.FormatInt(id, 10), Payload: strconv.FormatInt(id, 10), RunAt: sendAt})
			return err
		}
		return s.materialise(ctx, tx, id)
	})
	if err != nil {
		return Notice{}, err
	}
	s.afterSend(ctx, id)
	n, err := s.get(ctx, id)
	if err == nil {
		s.announce(ctx, n)
	}
	return n, err
}

func (s *Service) get(ctx context.Context, id int64) (Notice, error) { return noticeByID(ctx, s.d, id) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// publish sends a realtime event after commit; failures are only logged:
// pages also poll, slowly.
func (s *Service) publish(ctx context.Context, topic, event string, data any) {
	if s.cfg.Publisher == nil {
		return
	}
	if err := s.cfg.Publisher.Publish(ctx, topic, event, data); err != nil {
		s.cfg.Logger.Warn("publish", "topic", topic, "err", err)
	}
}
