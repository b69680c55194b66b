package request

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/notify"
)

// Publisher carries events to open browsers (the realtime room's Broker).
type Publisher interface {
	Publish(ctx context.Context, topic, event string, data any) error
}

// NoteEvent is the realtime event published on "account:{id}" for each new
// request notification of that account.
const NoteEvent = "request_note"

// jobPush pushes one notification to the account's subscribed browsers.
const jobPush = "request.push"

// delivery is how notifications leave the database: realtime events to
// open pages and Web Push jobs to subscribed browsers.
type delivery struct {
	pub Publisher
	nt  *notify.Service
	q   *jobs.Queue
}

// SetDelivery makes every new request notification live: it is published
// on the account's realtime topic after commit (pub may be nil) and, when
// nt is set, pushed to the account's browsers by a durable job on q (a
// row written with the notification, so a crash loses no push).
func (s *Service) SetDelivery(q *jobs.Queue, pub Publisher, nt *notify.Service) {
	if nt != nil && q != nil {
		q.Handle(jobPush, s.runPush)
	}
	s.out.Store(&delivery{pub: pub, nt: nt, q: q})
}

// sentNote is a notification written in a transaction, delivered after
// its commit.
type sentNote struct {
	ID, AccountID, RequestID int64
	Kind                     string
}

// notes collects the notifications one transaction writes.
type notes []sentNote

type pushPayload struct {
	ID      int64 `json:"id"`
	Publish bool  `json:"publish,omitempty"` // written by a job: publish from the push job too
}

// insertNotes runs an INSERT … RETURNING id, account_id into
// request_notifications, collects the rows and enqueues their pushes in
// the same transaction.
func (s *Service) insertNotes(ctx context.Context, tx *db.Tx, out *notes, requestID int64, kind string, publish bool, q string, args ...any) error {
	rows, err := tx.Query(ctx, q+" RETURNING id, account_id", args...)
	if err != nil {
		return err
	}
	var got []sentNote
	for rows.Next() {
		n := sentNote{RequestID: requestID, Kind: kind}
		if err := rows.Scan(&n.ID, &n.AccountID); err != nil {
			rows.Close()
			return err
		}
		got = append(got, n)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if out != nil {
		*out = append(*out, got...)
	}
	d := s.out.Load()
	if d == nil || d.nt == nil || d.q == nil {
		return nil
	}
	for _, n := range got {
		b, err := json.Marshal(pushPayload{ID: n.ID, Publish: publish})
		if err != nil {
			return err
		}
		if _, err := jobs.Enqueue(ctx, tx, jobs.New{Kind: jobPush, Key: "n" + strconv.FormatInt(n.ID, 10), Payload: string(b), RunAt: s.now(), MaxAttempts: 5}); err != nil {
			return err
		}
	}
	return nil
}

// notifyFollowers tells every follower of a request but the actor about a
// public change (kind: status, reply, reroute, merged, confirmed,
// reopened, comment), inside tx; deliver(out) after commit makes it live.
func (s *Service) notifyFollowers(ctx context.Context, tx *db.Tx, out *notes, id, actorID int64, kind string, now time.Time) error {
	// The body keeps the status the change led to (the newest update's),
	// so an old notification still says what happened then.
	return s.insertNotes(ctx, tx, out, id, kind, false, `INSERT INTO request_notifications(account_id, request_id, kind, body, created_at)
		SELECT account_id, CAST(? AS BIGINT), CAST(? AS TEXT),
		COALESCE((SELECT status FROM request_updates WHERE request_id = ? ORDER BY id DESC LIMIT 1), ''), CAST(? AS BIGINT)
		FROM request_followers WHERE request_id = ? AND account_id <> ?`,
		id, kind, id, db.Millis(now), id, actorID)
}

// deliver publishes committed notifications on their accounts' topics and
// wakes the queue for their pushes. Failures are only logged: the rows are
// there and pages show them.
func (s *Service) deliver(ctx context.Context, out notes) {
	d := s.out.Load()
	if d == nil || len(out) == 0 {
		return
	}
	if d.pub != nil {
		for _, n := range out {
			s.publishNote(ctx, d.pub, n)
		}
	}
	if d.q != nil && d.nt != nil {
		d.q.Wake()
	}
}

func (s *Service) publishNote(ctx context.Context, pub Publisher, n sentNote) {
	data := map[string]any{"id": n.ID, "request_id": n.RequestID, "kind": n.Kind}
	if err := pub.Publish(ctx, "account:"+strconv.FormatInt(n.AccountID, 10), NoteEvent, data); err != nil {
		s.cfg.Logger.Warn("publish request notification", "account", n.AccountID, "err", err)
	}
}

// runPush sends one notification to every browser its account subscribed.
// A retry sends again only to that account's browsers; an expired
// subscription is forgotten by notify and not retried.
func (s *Service) runPush(ctx context.Context, j jobs.Job) error {
	d := s.out.Load()
	if d == nil || d.nt == nil {
		return nil
	}
	var p pushPayload
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return fmt.Errorf("push payload: %w", err)
	}
	var n NotificationItem
	var acc int64
	err := s.d.QueryRow(ctx, `SELECT n.id, n.account_id, n.request_id, n.kind, n.body, n.created_at, r.status, t.name
		FROM request_notifications n JOIN requests r ON r.id = n.request_id JOIN request_types t ON t.id = r.type_id WHERE n.id = ?`, p.ID).
		Scan(&n.ID, &acc, &n.RequestID, &n.Kind, &n.Body, new(int64), &n.Status, &n.TypeName)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.Publish && j.Attempt == 1 && d.pub != nil {
		s.publishNote(ctx, d.pub, sentNote{ID: n.ID, AccountID: acc, RequestID: n.RequestID, Kind: n.Kind})
	}
	subs, err := d.nt.Subscriptions(ctx, []int64{acc})
	if err != nil {
		return err
	}
	m := notify.Message{Title: fmt.Sprintf("Phản ánh #%d · %s", n.RequestID, n.TypeName), Body: n.Text("vi"),
		URL: "/requests/" + strconv.FormatInt(n.RequestID, 10), Urgent: n.Kind == "escalated", Topic: "request-" + strconv.FormatInt(n.RequestID, 10)}
	var errs []error
	for _, sub := range subs[acc] {
		if err := d.nt.Push(ctx, sub, m); err != nil && !errors.Is(err, notify.ErrGone) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// NotificationItem is a request notification as its page lists it.
type NotificationItem struct {
	Notification
	TypeName string `json:"type_name"`
	Status   Status `json:"status"`
}

var noteTexts = map[string][2]string{
	"reply":     {"Cơ quan xử lý đã trả lời.", "The handling office replied."},
	"reroute":   {"Phản ánh đã được chuyển cho đơn vị khác xử lý.", "The request was passed to another office."},
	"merged":    {"Phản ánh trùng đã được gộp vào đây; mọi cập nhật tiếp theo ở phản ánh này.", "A duplicate was merged here; follow this request from now on."},
	"confirmed": {"Người phản ánh đã xác nhận đã xử lý xong.", "The reporter confirmed it is resolved."},
	"reopened":  {"Phản ánh đã được mở lại.", "The request was reopened."},
	"comment":   {"Có ý kiến mới về phản ánh.", "There is a new comment."},
	"escalated": {"Phản ánh quá hạn đã được chuyển lên cấp trên.", "An overdue request was escalated."},
}

// Text is the notification's sentence in lang.
func (n NotificationItem) Text(lang string) string {
	en := 0
	if lang == "en" {
		en = 1
	}
	if n.Kind == "escalated" && n.Body != "" && en == 0 {
		return n.Body
	}
	if t, ok := noteTexts[n.Kind]; ok {
		return t[en]
	}
	return [2]string{"Trạng thái mới: ", "New status: "}[en] + n.StatusThen().Label(lang)
}

// StatusThen is the status the notified change led to (the request's
// current status for rows written before it was kept).
func (n NotificationItem) StatusThen() Status {
	if st := Status(n.Body); n.Kind != "escalated" && st.Valid() {
		return st
	}
	return n.Status
}

// MaxUnread caps the unread count shown in a badge ("99+").
const MaxUnread = 99

// UnreadNotifications counts p's unread request notifications, at most
// MaxUnread+1. It returns apperr Unauthenticated for an anonymous p.
func (s *Service) UnreadNotifications(ctx context.Context, p *account.Principal) (int, error) {
	if p == nil {
		return 0, apperr.ErrUnauthenticated
	}
	var n int
	err := s.d.QueryRow(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM (SELECT 1 FROM request_notifications
		WHERE account_id = ? AND seen_at IS NULL LIMIT %d) u`, MaxUnread+1), p.AccountID).Scan(&n)
	return n, err
}

// NotificationPage returns p's request notifications older than the one
// with id before (0: the newest), newest first, at most limit (default
// 20), and the before-id of the next page (0 when none). It returns apperr
// Unauthenticated for an anonymous p.
func (s *Service) NotificationPage(ctx context.Context, p *account.Principal, before int64, limit int) ([]NotificationItem, int64, error) {
	if p == nil {
		return nil, 0, apperr.ErrUnauthenticated
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	q := `SELECT n.id, n.request_id, n.kind, n.body, n.created_at, n.seen_at, r.status, t.name
		FROM request_notifications n JOIN requests r ON r.id = n.request_id JOIN request_types t ON t.id = r.type_id
		WHERE n.account_id = ?`
	args := []any{p.AccountID}
	if before > 0 {
		q += " AND n.id < ?"
		args = append(args, before)
	}
	rows, err := s.d.Query(ctx, q+fmt.Sprintf(" ORDER BY n.id DESC LIMIT %d", limit+1), args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []NotificationItem{}
	for rows.Next() {
		var n NotificationItem
		var at int64
		var seen sql.NullInt64
		if err := rows.Scan(&n.ID, &n.RequestID, &n.Kind, &n.Body, &at, &seen, &n.Status, &n.TypeName); err != nil {
			return nil, 0, err
		}
		n.CreatedAt, n.Seen = db.Time(at), seen.Valid
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// MarkNotificationsSeen marks p's notifications with the given ids read,
// or all of them when ids is empty; others' ids are ignored. It returns how
// many changed, or apperr Unauthenticated / Invalid (over 200 ids).
func (s *Service) MarkNotificationsSeen(ctx context.Context, p *account.Principal, ids []int64) (int, error) {
	if p == nil {
		return 0, apperr.ErrUnauthenticated
	}
	if len(ids) > 200 {
		return 0, apperr.InvalidField("ids", "Chọn tối đa 200 thông báo.", "Choose at most 200 notifications.")
	}
	q := "UPDATE request_notifications SET seen_at = ? WHERE account_id = ? AND seen_at IS NULL"
	args := []any{db.Millis(s.now()), p.AccountID}
	if len(ids) > 0 {
		q += " AND id IN (?" + strings.Repeat(", ?", len(ids)-1) + ")"
		for _, id := range ids {
			args = append(args, id)
		}
	}
	var n int64
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
