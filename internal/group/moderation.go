package group

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// Reactions people may add.
var Reactions = []string{"👍", "❤️", "😂", "😮", "😢", "🙏", "✅"}

// Edit replaces the text of p's own message within EditWindow; the previous
// text is kept for moderators (History).
func (s *Service) Edit(ctx context.Context, p *account.Principal, id, mid int64, body string) (Message, error) {
	if _, err := s.view(ctx, p, id); err != nil {
		return Message{}, err
	}
	m, err := s.message(ctx, id, mid)
	if err != nil {
		return Message{}, err
	}
	if m.AuthorID != p.AccountID {
		return Message{}, apperr.New(apperr.Forbidden, "Bạn chỉ sửa được tin nhắn của mình.", "You can only edit your own messages.")
	}
	now := s.nowMs()
	if m.Deleted || m.Hidden || now-m.CreatedAt > EditWindow.Milliseconds() {
		return Message{}, apperr.New(apperr.Conflict, "Đã quá thời gian được sửa tin nhắn (15 phút).", "Messages can be edited for 15 minutes only.")
	}
	body = strings.TrimSpace(vntext.NFC(body))
	if body == "" && m.photo == "" {
		return Message{}, apperr.InvalidField("body", "Vui lòng nhập nội dung tin nhắn.", "Please write a message.")
	}
	if utf8.RuneCountInString(body) > MaxBody {
		return Message{}, apperr.InvalidField("body", "Tin nhắn dài tối đa 4000 ký tự.", "A message may be at most 4000 characters.")
	}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO group_message_edits(message_id, body, edited_at, editor_id) VALUES (?, ?, ?, ?)", mid, m.Body, now, p.AccountID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE group_messages SET body = ?, body_fold = ?, edited_at = ? WHERE id = ?", body, vntext.Fold(body), now, mid)
		return err
	})
	if err != nil {
		return Message{}, err
	}
	if m, err = s.message(ctx, id, mid); err != nil {
		return Message{}, err
	}
	s.publish(ctx, Topic(id), "edit", m)
	return m, nil
}

// Delete removes a message from view: its author within EditWindow, a
// moderator at any time (audited). The text stays for moderators.
func (s *Service) Delete(ctx context.Context, p *account.Principal, id, mid int64) error {
	a, err := s.view(ctx, p, id)
	if err != nil {
		return err
	}
	m, err := s.message(ctx, id, mid)
	if err != nil {
		return err
	}
	now := s.nowMs()
	own := m.AuthorID == p.AccountID && now-m.CreatedAt <= EditWindow.Milliseconds()
	if !own && !a.canModerate() {
		if m.AuthorID == p.AccountID {
			return apperr.New(apperr.Conflict, "Đã quá thời gian được xoá tin nhắn (15 phút).", "Messages can be deleted for 15 minutes only.")
		}
		return apperr.ErrForbidden
	}
	if m.Deleted {
		return nil
	}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE group_messages SET deleted_at = ?, pinned_at = 0 WHERE id = ?", now, mid); err != nil {
			return err
		}
		if m.AuthorID != p.AccountID {
			return s.auditLog(ctx, tx, a, "group.message_deleted", "group_message", mid, "by moderator")
		}
		return nil
	})
	if err == nil {
		s.publish(ctx, Topic(id), "delete", map[string]any{"id": mid, "reply_to": m.ReplyTo})
	}
	return err
}

// Edit is an earlier text of a message.
type Edit struct {
	Body     string `json:"body"`
	EditedAt int64  `json:"edited_at"`
}

// History returns a message's earlier texts, oldest first (moderators only).
func (s *Service) History(ctx context.Context, p *account.Principal, id, mid int64) ([]Edit, error) {
	if _, err := s.moderate(ctx, p, id); err != nil {
		return nil, err
	}
	if _, err := s.message(ctx, id, mid); err != nil {
		return nil, err
	}
	rows, err := s.d.Query(ctx, "SELECT body, edited_at FROM group_message_edits WHERE message_id = ? ORDER BY id LIMIT 100", mid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Edit
	for rows.Next() {
		var e Edit
		if err := rows.Scan(&e.Body, &e.EditedAt); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// React adds (on) or removes p's reaction emoji to a message and publishes
// the message's new counts.
func (s *Service) React(ctx context.Context, p *account.Principal, id, mid int64, emoji string, on bool) (map[string]int, error) {
	a, err := s.view(ctx, p, id)
	if err != nil {
		return nil, err
	}
	ok := false
	for _, r := range Reactions {
		ok = ok || r == emoji
	}
	if !ok {
		return nil, apperr.InvalidField("emoji", "Biểu tượng cảm xúc không hợp lệ.", "Unknown reaction.")
	}
	m, err := s.message(ctx, id, mid)
	if err != nil || m.Deleted || (m.Hidden && !a.canModerate()) {
		return nil, errMessageNotFound
	}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if err := ensureMember(ctx, tx, a, s.nowMs()); err != nil {
			return err
		}
		if on {
			_, err := tx.Exec(ctx, "INSERT INTO group_reactions(message_id, account_id, emoji, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", mid, p.AccountID, emoji, s.nowMs())
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM group_reactions WHERE message_id = ? AND account_id = ? AND emoji = ?", mid, p.AccountID, emoji)
		return err
	})
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	rows, err := s.d.Query(ctx, "SELECT emoji, COUNT(*) FROM group_reactions WHERE message_id = ? GROUP BY emoji", mid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e string
		var n int
		if err := rows.Scan(&e, &n); err != nil {
			return nil, err
		}
		counts[e] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.publish(ctx, Topic(id), "react", map[string]any{"id": mid, "reactions": counts})
	return counts, nil
}

// Pin pins (on) or unpins a message (moderators only, audited).
func (s *Service) Pin(ctx context.Context, p *account.Principal, id, mid int64, on bool) error {
	return s.flag(ctx, p, id, mid, on, "pinned_at", "group.message_pinned", "pin")
}

// Hide hides (on) a message from members, or shows it again (moderators
// only, audited); hiding resolves the message's open reports. Members'
// open pages remove it at once.
func (s *Service) Hide(ctx context.Context, p *account.Principal, id, mid int64, on bool) error {
	return s.flag(ctx, p, id, mid, on, "hidden_at", "group.message_hidden", "hide")
}

func (s *Service) flag(ctx context.Context, p *account.Principal, id, mid int64, on bool, col, action, event string) error {
	a, err := s.moderate(ctx, p, id)
	if err != nil {
		return err
	}
	m, err := s.message(ctx, id, mid)
	if err != nil {
		return err
	}
	now := s.nowMs()
	v := int64(0)
	if on {
		v = now
	} else {
		action += "_undone"
	}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		q := "UPDATE group_messages SET " + col + " = ? WHERE id = ?"
		args := []any{v, mid}
		if col == "hidden_at" {
			q = "UPDATE group_messages SET hidden_at = ?, hidden_by = ? WHERE id = ?"
			args = []any{v, nullID(p.AccountID * int64(boolInt(on))), mid}
			if on {
				if _, err := tx.Exec(ctx, "UPDATE group_reports SET resolved_at = ?, resolved_by = ?, outcome = 'hidden' WHERE message_id = ? AND resolved_at = 0",
					now, p.AccountID, mid); err != nil {
					return err
				}
			}
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return err
		}
		return s.auditLog(ctx, tx, a, action, "group_message", mid, "")
	})
	if err != nil {
		return err
	}
	if col == "hidden_at" && !on {
		if m, err = s.message(ctx, id, mid); err == nil {
			m.forViewer(false)
			s.publish(ctx, Topic(id), "unhide", m)
		}
		return nil
	}
	s.publish(ctx, Topic(id), event, map[string]any{"id": mid, "on": on, "reply_to": m.ReplyTo})
	return nil
}

// Pinned returns the group's pinned messages, newest pin first.
func (s *Service) Pinned(ctx context.Context, p *account.Principal, id int64) ([]Message, error) {
	a, err := s.view(ctx, p, id)
	if err != nil {
		return nil, err
	}
	msgs, err := s.queryMessages(ctx, "SELECT "+msgCols+msgFrom+" WHERE gm.group_id = ? AND gm.pinned_at > 0 AND gm.hidden_at = 0 AND gm.deleted_at = 0 ORDER BY gm.pinned_at DESC LIMIT 20", id)
	if err != nil {
		return nil, err
	}
	return msgs, s.decorate(ctx, a, msgs)
}

// Report is a member's report of a message to the moderators.
type Report struct {
	ID         int64   `json:"id"`
	MessageID  int64   `json:"message_id"`
	Reporter   string  `json:"reporter"`
	Reason     string  `json:"reason"`
	CreatedAt  int64   `json:"created_at"`
	ResolvedAt int64   `json:"resolved_at,omitempty"`
	Outcome    string  `json:"outcome,omitempty"`
	Message    Message `json:"message"`
}

// ReportMessage lets a member report a message to the moderators (once per
// member and message).
func (s *Service) ReportMessage(ctx context.Context, p *account.Principal, id, mid int64, reason string) error {
	a, err := s.view(ctx, p, id)
	if err != nil {
		return err
	}
	if _, err := s.message(ctx, id, mid); err != nil {
		return err
	}
	reason = strings.TrimSpace(vntext.NFC(reason))
	if utf8.RuneCountInString(reason) > 500 {
		return apperr.InvalidField("reason", "Lý do dài tối đa 500 ký tự.", "The reason may be at most 500 characters.")
	}
	var rid int64
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, "INSERT INTO group_reports(group_id, message_id, reporter_id, reason, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			id, mid, p.AccountID, reason, s.nowMs()).Scan(&rid)
		if db.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "Bạn đã báo cáo tin nhắn này.", "You already reported this message.")
		} else if err != nil {
			return err
		}
		return s.auditLog(ctx, tx, a, "group.message_reported", "group_message", mid, reason)
	})
	if err == nil {
		s.publish(ctx, Topic(id)+":mod", "report", map[string]any{"id": rid, "message_id": mid})
	}
	return err
}

// Reports lists a group's reports for its moderation queue: open ones
// (open true) oldest first, or all newest first; after pages by id.
func (s *Service) Reports(ctx context.Context, p *account.Principal, id int64, open bool, after int64, limit int) ([]Report, error) {
	a, err := s.moderate(ctx, p, id)
	if err != nil {
		return nil, err
	}
	limit = PageLimit(limit)
	q := `SELECT r.id, r.message_id, COALESCE(a.name, ''), r.reason, r.created_at, r.resolved_at, r.outcome FROM group_reports r
		LEFT JOIN accounts a ON a.id = r.reporter_id WHERE r.group_id = ? AND r.id > ?`
	if open {
		q += " AND r.resolved_at = 0"
	}
	q += " ORDER BY r.id LIMIT " + strconv.Itoa(limit)
	rows, err := s.d.Query(ctx, q, id, after)
	if err != nil {
		return nil, err
	}
	var out []Report
	for rows.Next() {
		var r Report
		if err := rows.Scan(&r.ID, &r.MessageID, &r.Reporter, &r.Reason, &r.CreatedAt, &r.ResolvedAt, &r.Outcome); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Message, err = s.message(ctx, id, out[i].MessageID); err != nil {
			return nil, err
		}
		out[i].Message.forViewer(a.canModerate())
	}
	return out, nil
}

// DismissReport closes a report without hiding the message (audited).
func (s *Service) DismissReport(ctx context.Context, p *account.Principal, id, reportID int64) error {
	a, err := s.moderate(ctx, p, id)
	if err != nil {
		return err
	}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE group_reports SET resolved_at = ?, resolved_by = ?, outcome = 'dismissed' WHERE id = ? AND group_id = ? AND resolved_at = 0",
			s.nowMs(), p.AccountID, reportID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.NotFoundf("báo cáo", "Report")
		}
		return s.auditLog(ctx, tx, a, "group.report_dismissed", "group_report", reportID, "")
	})
	if err == nil {
		s.publish(ctx, Topic(id)+":mod", "report_closed", map[string]any{"id": reportID})
	}
	return err
}

// PhotoAllowed returns nil when p may see the photo name of group id: p
// sees the group and a visible message of it carries the photo.
func (s *Service) PhotoAllowed(ctx context.Context, p *account.Principal, id int64, name string) error {
	a, err := s.view(ctx, p, id)
	if err != nil {
		return err
	}
	q := "SELECT COUNT(*) FROM group_messages WHERE group_id = ? AND photo = ?"
	if !a.canModerate() {
		q += " AND hidden_at = 0 AND deleted_at = 0"
	}
	var n int
	if err := s.d.QueryRow(ctx, q, id, name).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return apperr.NotFoundf("ảnh", "Photo")
	}
	return nil
}
