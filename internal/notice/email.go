package notice

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/notify"
)

// jobEmail emails a sent notice to the officials whose grants cover a
// targeted unit and who gave an email address (key: notice id).
const jobEmail = "notice.email"

// enqueueEmail queues the officials' email of notice id inside tx, when
// email is configured.
func (s *Service) enqueueEmail(ctx context.Context, tx *db.Tx, id int64) error {
	if s.cfg.Notify == nil || !s.cfg.Notify.EmailConfigured() {
		return nil
	}
	_, err := jobs.Enqueue(ctx, tx, jobs.New{Kind: jobEmail, Key: strconv.FormatInt(id, 10), Payload: strconv.FormatInt(id, 10)})
	return err
}

// officialEmail is one official to email.
type officialEmail struct {
	account int64
	email   string
}

// officialsToEmail returns the enabled accounts with an official role on a
// unit above, at or below unitPath (their grant covers a targeted unit)
// that saved an email address, one entry per address.
func (s *Service) officialsToEmail(ctx context.Context, unitPath string) ([]officialEmail, error) {
	rows, err := s.d.Query(ctx, `SELECT g.account_id, g.role, g.unit_path, p.email FROM role_grants g
		JOIN accounts a ON a.id = g.account_id AND a.disabled = 0
		JOIN notify_prefs p ON p.account_id = g.account_id
		WHERE p.email <> '' ORDER BY g.account_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []officialEmail
	for rows.Next() {
		var o officialEmail
		var role, path string
		if err := rows.Scan(&o.account, &role, &path, &o.email); err != nil {
			return nil, err
		}
		if !account.Role(role).Official() || !(strings.HasPrefix(unitPath, path) || strings.HasPrefix(path, unitPath)) {
			continue
		}
		key := strings.ToLower(o.email)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, o)
	}
	return out, rows.Err()
}

// handleEmail sends the notice to each official's address not yet sent to,
// records every send (household 0: the send is not a household's), and
// returns an error, so the job is retried with backoff, when a send failed.
func (s *Service) handleEmail(ctx context.Context, j jobs.Job) error {
	id, err := strconv.ParseInt(j.Payload, 10, 64)
	if err != nil {
		return fmt.Errorf("notice.email payload %q: %w", j.Payload, err)
	}
	nt := s.cfg.Notify
	if nt == nil || !nt.EmailConfigured() {
		return nil
	}
	n, err := s.get(ctx, id)
	if err != nil {
		return err
	}
	if n.Expired(s.cfg.Now()) {
		return nil
	}
	officials, err := s.officialsToEmail(ctx, n.UnitPath)
	if err != nil || len(officials) == 0 {
		return err
	}
	done, err := s.sentAlready(ctx, n.ID, 0, []any{int64(0)})
	if err != nil {
		return err
	}
	msg := emailMessage(n)
	var todo []*send
	for _, o := range officials {
		if !done[sendKey(0, notify.ChannelEmail, o.email)] {
			todo = append(todo, &send{channel: notify.ChannelEmail, target: o.email})
		}
	}
	sem := make(chan struct{}, s.cfg.SendConcurrency)
	var wg sync.WaitGroup
	for _, sd := range todo {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			sd.err = nt.Email(cctx, sd.target, msg)
		}()
	}
	wg.Wait()
	var failed []error
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		at := db.Millis(s.cfg.Now())
		for _, sd := range todo {
			status, text := "sent", ""
			if sd.err != nil {
				status, text = "failed", clip(sd.err.Error(), 300)
				failed = append(failed, fmt.Errorf("email to %s: %w", sd.target, sd.err))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notify_sends(notice_id, household_id, round, channel, target, status, error, at) VALUES (?, 0, 0, ?, ?, ?, ?, ?)
				ON CONFLICT (notice_id, household_id, round, channel, target) DO UPDATE SET status = excluded.status, error = excluded.error, at = excluded.at`,
				n.ID, sd.channel, clip(sd.target, 500), status, text, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.reachChanged(n.ID)
	return errors.Join(failed...)
}

// emailMessage is the officials' email: the Vietnamese subject names the
// unit and priority; the body carries the whole text and the link.
func emailMessage(n Notice) notify.Message {
	subject := "[Thông báo] "
	switch n.Priority {
	case Urgent:
		subject = "[Thông báo khẩn] "
	case Important:
		subject = "[Thông báo quan trọng] "
	}
	subject += n.Title + " — " + n.UnitName
	body := n.Body + "\n\nGửi tới: " + n.UnitName + "\nNgười gửi: " + n.AuthorName
	return notify.Message{Title: subject, Body: body, URL: "/notices/" + strconv.FormatInt(n.ID, 10), Urgent: n.Priority == Urgent}
}
