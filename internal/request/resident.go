package request

import (
	"context"
	"strconv"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
)

// reporterOnly loads r for its reporter inside tx.
func (s *Service) reporterOnly(ctx context.Context, tx *db.Tx, p *account.Principal, id int64) (Request, error) {
	if p == nil {
		return Request{}, apperr.ErrUnauthenticated
	}
	r, err := s.load(ctx, tx, id, "vi")
	if err != nil {
		return Request{}, err
	}
	if r.reporterID != p.AccountID {
		if r.Public {
			return Request{}, apperr.New(apperr.Forbidden, "Chỉ người gửi yêu cầu mới làm được việc này.", "Only the reporter can do this.")
		}
		return Request{}, errRequestNotFound()
	}
	return r, nil
}

// Confirm is the reporter confirming a resolved request: it closes.
// Errors: Unauthenticated, Forbidden, NotFound, Conflict (not resolved).
func (s *Service) Confirm(ctx context.Context, p *account.Principal, id int64) (Request, error) {
	now := s.now()
	var out notes
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		r, err := s.reporterOnly(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if r.Status != StatusResolved {
			return apperr.New(apperr.Conflict, "Chỉ xác nhận được khi yêu cầu đã xử lý.", "Only a resolved request can be confirmed.")
		}
		if _, err := tx.Exec(ctx, "UPDATE requests SET status = ?, closed_at = ?, updated_at = ? WHERE id = ?", string(StatusClosed), db.Millis(now), db.Millis(now), id); err != nil {
			return err
		}
		if err := addUpdate(ctx, tx, id, now, p.AccountID, p.Name, "confirmed", StatusClosed, true, "Người phản ánh xác nhận đã xử lý xong."); err != nil {
			return err
		}
		return s.notifyFollowers(ctx, tx, &out, id, p.AccountID, "confirmed", now)
	})
	if err != nil {
		return Request{}, err
	}
	s.deliver(ctx, out)
	return s.Get(ctx, p, id)
}

// Reopen is the reporter reopening a resolved or closed request with a
// reason; it gets a new resolve deadline. Errors as Confirm, plus Invalid.
func (s *Service) Reopen(ctx context.Context, p *account.Principal, id int64, reason string) (Request, error) {
	reason = cleanBody(reason)
	if len([]rune(reason)) < 5 || len([]rune(reason)) > 2000 {
		return Request{}, apperr.InvalidField("reason", "Vui lòng cho biết lý do mở lại (5–2000 ký tự).", "Please give the reason (5–2000 characters).")
	}
	now := s.now()
	var out notes
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		r, err := s.reporterOnly(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if r.Status != StatusResolved && r.Status != StatusClosed {
			return apperr.New(apperr.Conflict, "Chỉ mở lại được yêu cầu đã xử lý hoặc đã đóng.", "Only a resolved or closed request can be reopened.")
		}
		t, err := typeByID(ctx, tx, r.TypeID)
		if err != nil {
			return err
		}
		_, due := s.deadlines(t, r.Priority == "urgent", now)
		if _, err := tx.Exec(ctx, "UPDATE requests SET status = ?, resolved_at = NULL, closed_at = NULL, resolve_due = ?, updated_at = ? WHERE id = ?",
			string(StatusReopened), db.Millis(due), db.Millis(now), id); err != nil {
			return err
		}
		if err := addUpdate(ctx, tx, id, now, p.AccountID, p.Name, "reopened", StatusReopened, true, reason); err != nil {
			return err
		}
		if err := scheduleDeadline(ctx, tx, id, "resolve", due); err != nil {
			return err
		}
		return s.notifyFollowers(ctx, tx, &out, id, p.AccountID, "reopened", now)
	})
	if err != nil {
		return Request{}, err
	}
	s.deliver(ctx, out)
	return s.Get(ctx, p, id)
}

// Rate records the reporter's satisfaction (1–5) with a resolved or
// closed request. Errors as Reopen.
func (s *Service) Rate(ctx context.Context, p *account.Principal, id int64, stars int, comment string) (Request, error) {
	if stars < 1 || stars > 5 {
		return Request{}, apperr.InvalidField("rating", "Vui lòng chọn từ 1 đến 5 sao.", "Please choose 1 to 5 stars.")
	}
	comment = cleanBody(comment)
	if len([]rune(comment)) > 1000 {
		return Request{}, apperr.InvalidField("comment", "Nhận xét quá dài (tối đa 1000 ký tự).", "The comment is too long (at most 1000 characters).")
	}
	now := s.now()
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		r, err := s.reporterOnly(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if r.Status != StatusResolved && r.Status != StatusClosed {
			return apperr.New(apperr.Conflict, "Chỉ đánh giá được khi yêu cầu đã xử lý.", "Only a resolved request can be rated.")
		}
		if _, err := tx.Exec(ctx, "UPDATE requests SET rating = ?, rating_comment = ?, updated_at = ? WHERE id = ?", stars, comment, db.Millis(now), id); err != nil {
			return err
		}
		return addUpdate(ctx, tx, id, now, p.AccountID, p.Name, "rated", r.Status, false, strconv.Itoa(stars)+"★ "+comment)
	})
	if err != nil {
		return Request{}, err
	}
	return s.Get(ctx, p, id)
}

// Follow starts (on) or stops following a request p can see. Errors:
// Unauthenticated, NotFound.
func (s *Service) Follow(ctx context.Context, p *account.Principal, id int64, on bool) (Request, error) {
	if p == nil {
		return Request{}, apperr.ErrUnauthenticated
	}
	if _, err := s.Get(ctx, p, id); err != nil {
		return Request{}, err
	}
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		var err error
		if on {
			_, err = tx.Exec(ctx, "INSERT INTO request_followers(request_id, account_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", id, p.AccountID, db.Millis(s.now()))
		} else {
			_, err = tx.Exec(ctx, "DELETE FROM request_followers WHERE request_id = ? AND account_id = ? AND account_id <> COALESCE((SELECT reporter_id FROM requests WHERE id = ?), 0)", id, p.AccountID, id)
		}
		return err
	})
	if err != nil {
		return Request{}, err
	}
	return s.Get(ctx, p, id)
}

// Comment adds a public comment from an integrator (Open311
// servicerequestupdates POST). Errors: NotFound (or not public), Invalid.
func (s *Service) Comment(ctx context.Context, id int64, who, body string) (Update, error) {
	body = cleanBody(body)
	if body == "" || len([]rune(body)) > 4000 {
		return Update{}, apperr.InvalidField("description", "Vui lòng nhập nội dung (tối đa 4000 ký tự).", "Please enter the text (at most 4000 characters).")
	}
	now := s.now()
	var u Update
	var out notes
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		r, err := s.load(ctx, tx, id, "vi")
		if err != nil {
			return err
		}
		if !r.Public {
			return errRequestNotFound()
		}
		if err := addUpdate(ctx, tx, id, now, 0, cleanText(who), "comment", r.Status, true, body); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE requests SET updated_at = ? WHERE id = ?", db.Millis(now), id); err != nil {
			return err
		}
		if err := s.notifyFollowers(ctx, tx, &out, id, 0, "comment", now); err != nil {
			return err
		}
		u, err = scanUpdate(tx.QueryRow(ctx, "SELECT id, request_id, at, actor_name, kind, status, public, body, photo FROM request_updates WHERE request_id = ? ORDER BY id DESC LIMIT 1", id))
		return err
	})
	if err == nil {
		s.deliver(ctx, out)
	}
	return u, err
}
