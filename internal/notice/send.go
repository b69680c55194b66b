package notice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/notify"
)

// The job kinds of the room.
const (
	jobSend     = "notice.send"     // a scheduled notice goes out (key: notice id)
	jobBatch    = "notice.batch"    // channel sends for one batch of households (key: id:round:seq)
	jobRenotify = "notice.renotify" // an urgent notice's next round to unacknowledged households (key: id:round)
)

// materialise creates the notice's deliveries, one per targeted household,
// with one INSERT … SELECT, marks it sent and enqueues its first delivery
// batch (and, for an urgent notice, the first re-notification). A notice
// already sent is left alone, so a retried job changes nothing.
func (s *Service) materialise(ctx context.Context, tx *db.Tx, id int64) error {
	n, err := noticeByID(ctx, tx, id)
	if err != nil || n.Sent() {
		return err
	}
	now := s.cfg.Now()
	where, args := targetWhere(n.UnitPath, n.Flags, n.OrgID)
	res, err := tx.Exec(ctx, "INSERT INTO notice_deliveries(notice_id, unit_id, household_id) SELECT ?, h.unit_id, h.id FROM households h WHERE "+where,
		append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("materialise notice %d: %w", id, err)
	}
	count, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE notices SET sent_at = ?, targeted = ? WHERE id = ?", db.Millis(now), count, id); err != nil {
		return err
	}
	if err := enqueueBatch(ctx, tx, batchPayload{Notice: id}); err != nil {
		return err
	}
	if err := s.enqueueEmail(ctx, tx, id); err != nil {
		return err
	}
	if n.Priority == Urgent {
		return s.enqueueRenotify(ctx, tx, n, 1, now)
	}
	return nil
}

func (s *Service) enqueueRenotify(ctx context.Context, tx *db.Tx, n Notice, round int, now time.Time) error {
	at := now.Add(s.cfg.RenotifyEvery)
	if n.ExpiresAt != nil && !at.Before(*n.ExpiresAt) {
		return nil
	}
	if n.ExpiresAt == nil && round > s.cfg.RenotifyRounds {
		return nil
	}
	raw, _ := json.Marshal(renotifyPayload{Notice: n.ID, Round: round})
	_, err := jobs.Enqueue(ctx, tx, jobs.New{Kind: jobRenotify, Key: fmt.Sprintf("%d:%d", n.ID, round), Payload: string(raw), RunAt: at})
	return err
}

type renotifyPayload struct {
	Notice int64 `json:"n"`
	Round  int   `json:"r"`
}

// batchPayload names one batch: the households of the notice after the
// cursor (unit id, household id), in round Round.
type batchPayload struct {
	Notice int64 `json:"n"`
	Round  int   `json:"r"`
	Seq    int   `json:"k"`
	Unit   int64 `json:"u,omitempty"`
	HH     int64 `json:"h,omitempty"`
	// Path is the cursor's unit path in a batch queued before schema 8,
	// which keyed deliveries by path; its unit id is the path's last one.
	Path string `json:"p,omitempty"`
}

func enqueueBatch(ctx context.Context, tx *db.Tx, b batchPayload) error {
	raw, err := json.Marshal(b)
	if err != nil {
		return err
	}
	_, err = jobs.Enqueue(ctx, tx, jobs.New{Kind: jobBatch, Key: fmt.Sprintf("%d:%d:%d", b.Notice, b.Round, b.Seq), Payload: string(raw)})
	return err
}

func (s *Service) handleSend(ctx context.Context, tx *db.Tx, j jobs.Job) error {
	id, err := strconv.ParseInt(j.Payload, 10, 64)
	if err != nil {
		return fmt.Errorf("notice.send payload %q: %w", j.Payload, err)
	}
	return s.materialise(ctx, tx, id)
}

func (s *Service) handleRenotify(ctx context.Context, tx *db.Tx, j jobs.Job) error {
	var p renotifyPayload
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return fmt.Errorf("notice.renotify payload: %w", err)
	}
	n, err := noticeByID(ctx, tx, p.Notice)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	if n.Expired(now) {
		return nil
	}
	var open int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM notice_deliveries WHERE notice_id = ? AND acked_at IS NULL", n.ID).Scan(&open); err != nil {
		return err
	}
	if open == 0 {
		return nil
	}
	if err := enqueueBatch(ctx, tx, batchPayload{Notice: n.ID, Round: p.Round}); err != nil {
		return err
	}
	return s.enqueueRenotify(ctx, tx, n, p.Round+1, now)
}

// member is a resident of a household in a batch.
type member struct {
	household int64
	phone     string
	account   int64
	head      bool
	flags     area.Flags
}

// send is one channel send for a household.
type send struct {
	household int64
	channel   string
	target    string // endpoint, phone or address
	sub       notify.Subscription
	err       error
}

// handleBatch sends one batch of households through the channels, records
// each send and marks the households reached, then enqueues the next batch.
// A send already recorded as sent for this round is not repeated, so a
// batch re-run after a crash or a retry only does what is left.
func (s *Service) handleBatch(ctx context.Context, j jobs.Job) error {
	var b batchPayload
	if err := json.Unmarshal([]byte(j.Payload), &b); err != nil {
		return fmt.Errorf("notice.batch payload: %w", err)
	}
	n, err := s.get(ctx, b.Notice)
	if err != nil {
		return err
	}
	if b.Round == 0 && b.Seq == 0 && n.SendAt.After(n.CreatedAt) {
		s.announce(ctx, n) // a scheduled notice: Create announced the others
	}
	now := s.cfg.Now()
	if b.Round > 0 && n.Expired(now) {
		return nil
	}
	if b.Unit == 0 && b.Path != "" {
		b.Unit = lastID(b.Path)
	}
	q := "SELECT unit_id, household_id FROM notice_deliveries WHERE notice_id = ? AND (unit_id > ? OR (unit_id = ? AND household_id > ?))"
	if b.Round > 0 {
		q += " AND acked_at IS NULL"
	}
	rows, err := s.d.Query(ctx, q+" ORDER BY unit_id, household_id LIMIT "+strconv.Itoa(s.cfg.BatchSize), n.ID, b.Unit, b.Unit, b.HH)
	if err != nil {
		return err
	}
	type hh struct {
		unit int64
		id   int64
	}
	var batch []hh
	for rows.Next() {
		var h hh
		if err := rows.Scan(&h.unit, &h.id); err != nil {
			rows.Close()
			return err
		}
		batch = append(batch, h)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	ids := make([]any, len(batch))
	for i, h := range batch {
		ids[i] = h.id
	}
	members, err := s.members(ctx, ids)
	if err != nil {
		return err
	}
	done, err := s.sentAlready(ctx, n.ID, b.Round, ids)
	if err != nil {
		return err
	}
	sends, inbox, err := s.plan(ctx, n, b.Round, members)
	if err != nil {
		return err
	}
	var todo []*send
	for _, sd := range sends {
		if !done[sendKey(sd.household, sd.channel, sd.target)] {
			todo = append(todo, sd)
		}
	}
	s.deliver(ctx, n, b.Round, todo)

	reached := map[int64]bool{}
	for h := range inbox {
		reached[h] = true
	}
	var retry error
	for _, sd := range sends {
		if sd.err == nil {
			reached[sd.household] = true
		} else if !permanent(sd.err) {
			retry = fmt.Errorf("%s to household %d: %w", sd.channel, sd.household, sd.err)
		}
	}
	last := batch[len(batch)-1]
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		at := db.Millis(now)
		for _, sd := range todo {
			status, msg := "sent", ""
			if sd.err != nil {
				status, msg = "failed", clip(sd.err.Error(), 300)
				if errors.Is(sd.err, notify.ErrGone) {
					status = "gone"
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notify_sends(notice_id, household_id, round, channel, target, status, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (notice_id, household_id, round, channel, target) DO UPDATE SET status = excluded.status, error = excluded.error, at = excluded.at`,
				n.ID, sd.household, b.Round, sd.channel, clip(sd.target, 500), status, msg, at); err != nil {
				return err
			}
		}
		for _, h := range batch {
			if !reached[h.id] {
				continue
			}
			if _, err := tx.Exec(ctx, "UPDATE notice_deliveries SET delivered_at = ? WHERE notice_id = ? AND unit_id = ? AND household_id = ? AND delivered_at IS NULL",
				at, n.ID, h.unit, h.id); err != nil {
				return err
			}
		}
		if len(batch) == s.cfg.BatchSize {
			return enqueueBatch(ctx, tx, batchPayload{Notice: n.ID, Round: b.Round, Seq: b.Seq + 1, Unit: last.unit, HH: last.id})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.jobs != nil && len(batch) == s.cfg.BatchSize {
		s.jobs.Wake()
	}
	s.reachChanged(n.ID)
	return retry
}

func sendKey(h int64, channel, target string) string {
	return strconv.FormatInt(h, 10) + "\x00" + channel + "\x00" + clip(target, 500)
}

// permanent reports whether retrying a failed send is pointless.
func permanent(err error) bool {
	return errors.Is(err, notify.ErrGone) || errors.Is(err, errNoChannel)
}

var errNoChannel = errors.New("channel not configured")

func (s *Service) members(ctx context.Context, ids []any) (map[int64][]member, error) {
	rows, err := s.d.Query(ctx, `SELECT r.household_id, COALESCE(r.phone, ''), COALESCE(a.id, 0), CASE WHEN h.head_resident_id = r.id THEN 1 ELSE 0 END, h.flags
		FROM residents r JOIN households h ON h.id = r.household_id LEFT JOIN accounts a ON a.resident_id = r.id AND a.disabled = 0
		WHERE r.household_id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]member{}
	for rows.Next() {
		var m member
		var head int
		if err := rows.Scan(&m.household, &m.phone, &m.account, &head, &m.flags); err != nil {
			return nil, err
		}
		m.head = head == 1
		out[m.household] = append(out[m.household], m)
	}
	return out, rows.Err()
}

func (s *Service) sentAlready(ctx context.Context, noticeID int64, round int, ids []any) (map[string]bool, error) {
	rows, err := s.d.Query(ctx, "SELECT household_id, channel, target FROM notify_sends WHERE notice_id = ? AND round = ? AND status <> 'failed' AND household_id IN ("+placeholders(len(ids))+")",
		append([]any{noticeID, round}, ids...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var h int64
		var ch, target string
		if err := rows.Scan(&h, &ch, &target); err != nil {
			return nil, err
		}
		out[sendKey(h, ch, target)] = true
	}
	return out, rows.Err()
}

// plan decides the sends of a batch: Web Push to every subscribed browser
// of a member (unless a normal notice and the member takes a daily digest),
// SMS to the head's phone (or another member's) for households without a
// smartphone or when the sender asked for SMS to all. It also returns the
// households whose members have an account: the notice is in their inbox.
func (s *Service) plan(ctx context.Context, n Notice, round int, members map[int64][]member) ([]*send, map[int64]bool, error) {
	inbox := map[int64]bool{}
	var accounts []int64
	owner := map[int64]int64{}
	for h, ms := range members {
		for _, m := range ms {
			if m.account != 0 {
				inbox[h] = true
				accounts = append(accounts, m.account)
				owner[m.account] = h
			}
		}
	}
	var sends []*send
	if nt := s.cfg.Notify; nt != nil && len(accounts) > 0 {
		subs, err := nt.Subscriptions(ctx, accounts)
		if err != nil {
			return nil, nil, err
		}
		prefs, err := nt.PrefsOf(ctx, accounts)
		if err != nil {
			return nil, nil, err
		}
		for acc, list := range subs {
			if n.Priority == Normal && round == 0 && prefs[acc].Digest {
				continue
			}
			for _, sub := range list {
				sends = append(sends, &send{household: owner[acc], channel: notify.ChannelPush, target: sub.Endpoint, sub: sub})
			}
		}
	}
	for h, ms := range members {
		if len(ms) == 0 || (ms[0].flags&area.FlagNoSmartphone == 0 && !n.SMSAll) {
			continue
		}
		phone := ""
		for _, m := range ms {
			if m.phone != "" && (phone == "" || m.head) {
				phone = m.phone
			}
		}
		if phone != "" {
			sends = append(sends, &send{household: h, channel: notify.ChannelSMS, target: phone})
		}
	}
	return sends, inbox, nil
}

// deliver performs the sends, a few at a time.
func (s *Service) deliver(ctx context.Context, n Notice, round int, todo []*send) {
	msg := notify.Message{Title: n.Title, Body: clip(n.Body, 300), URL: "/notices/" + strconv.FormatInt(n.ID, 10), Urgent: n.Priority == Urgent,
		Topic: "n" + strconv.FormatInt(n.ID, 10)}
	if round > 0 {
		msg.Title = "Nhắc lại: " + msg.Title
	}
	sms := smsText(n)
	sem := make(chan struct{}, s.cfg.SendConcurrency)
	var wg sync.WaitGroup
	for _, sd := range todo {
		nt := s.cfg.Notify
		if nt == nil {
			sd.err = errNoChannel
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			switch sd.channel {
			case notify.ChannelPush:
				sd.err = nt.Push(cctx, sd.sub, msg)
			case notify.ChannelSMS:
				sd.err = nt.SMS(cctx, sd.target, sms)
			}
		}()
	}
	wg.Wait()
}

func smsText(n Notice) string {
	t := "[" + n.UnitName + "] " + n.Title + ": " + n.Body
	return clip(t, 320)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// afterSend wakes the queue so the first batch goes now, and tells open
// reach pages.
func (s *Service) afterSend(ctx context.Context, id int64) {
	if s.jobs != nil {
		s.jobs.Wake()
	}
	s.reachChanged(id)
}
