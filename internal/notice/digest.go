package notice

import (
	"context"
	"fmt"
	"time"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/notify"
)

const jobDigest = "notice.digest" // the daily digest (key: the date in Vietnam)

// vnZone is Asia/Ho_Chi_Minh (no daylight saving).
var vnZone = time.FixedZone("ICT", 7*3600)

// DigestHour is when, in Vietnam, the daily digest goes out.
const DigestHour = 18

// nextDigest returns the next digest time after now.
func nextDigest(now time.Time) time.Time {
	l := now.In(vnZone)
	at := time.Date(l.Year(), l.Month(), l.Day(), DigestHour, 0, 0, 0, vnZone)
	if !at.After(now) {
		at = at.AddDate(0, 0, 1)
	}
	return at
}

func enqueueDigest(ctx context.Context, tx *db.Tx, at time.Time) error {
	_, err := jobs.Enqueue(ctx, tx, jobs.New{Kind: jobDigest, Key: at.In(vnZone).Format(time.DateOnly), RunAt: at})
	return err
}

// ScheduleDigest makes sure the next daily digest is queued (once however
// many instances start). It returns the database's error.
func (s *Service) ScheduleDigest(ctx context.Context) error {
	return s.d.Write(ctx, func(tx *db.Tx) error { return enqueueDigest(ctx, tx, nextDigest(s.cfg.Now())) })
}

// handleDigest pushes one message to each account that takes a daily
// digest and has normal announcements from the last day its household has
// not opened, then queues the next day's digest.
func (s *Service) handleDigest(ctx context.Context, j jobs.Job) error {
	now := s.cfg.Now()
	rows, err := s.d.Query(ctx, `SELECT a.id, COUNT(*) FROM notices n
		JOIN notice_deliveries d ON d.notice_id = n.id
		JOIN residents r ON r.household_id = d.household_id
		JOIN accounts a ON a.resident_id = r.id
		JOIN notify_prefs p ON p.account_id = a.id AND p.digest = 1
		WHERE n.sent_at >= ? AND n.priority = 'normal' AND d.seen_at IS NULL GROUP BY a.id`, db.Millis(now.Add(-24*time.Hour)))
	if err != nil {
		return err
	}
	counts := map[int64]int{}
	var ids []int64
	for rows.Next() {
		var id int64
		var c int
		if err := rows.Scan(&id, &c); err != nil {
			rows.Close()
			return err
		}
		counts[id] = c
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if nt := s.cfg.Notify; nt != nil && len(ids) > 0 {
		subs, err := nt.Subscriptions(ctx, ids)
		if err != nil {
			return err
		}
		for acc, list := range subs {
			m := notify.Message{Title: "Bản tin thông báo hôm nay", Body: fmt.Sprintf("Hộ của bạn có %d thông báo mới chưa xem.", counts[acc]), URL: "/notices",
				Topic: "digest"}
			for _, sub := range list {
				if err := nt.Push(ctx, sub, m); err != nil {
					s.cfg.Logger.Warn("digest push", "account", acc, "err", err)
				}
			}
		}
	}
	return s.d.Write(ctx, func(tx *db.Tx) error { return enqueueDigest(ctx, tx, nextDigest(now.Add(time.Minute))) })
}
