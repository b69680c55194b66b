package request

import (
	"context"
	"fmt"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
)

// Change is what an official does to a request.
type Change struct {
	// Action is one of: acknowledge, start, schedule, resolve, close,
	// reject, not_ours, refer, reply, note, assign, reroute, merge.
	Action      string    `json:"action"`
	Body        string    `json:"body"` // reply, note or reason
	AssigneeID  int64     `json:"assignee_id"`
	UnitID      int64     `json:"unit_id"` // reroute
	TypeCode    string    `json:"type"`    // reroute
	MergeInto   int64     `json:"merge_into"`
	ScheduledAt time.Time `json:"scheduled_at"`
	// Photo is a stored photo (media.Store) shown with this update: a
	// "before" photo while working, an "after" photo when resolving.
	Photo string `json:"photo"`
}

// Actions officials take, and the status each leads to.
var changeStatus = map[string]Status{
	"acknowledge": StatusAcknowledged, "start": StatusInProgress, "schedule": StatusScheduled, "resolve": StatusResolved,
	"close": StatusClosed, "reject": StatusRejected, "not_ours": StatusNotOurs, "refer": StatusReferred,
}

// ChangeActions lists the actions in the order a form offers them.
var ChangeActions = []string{"acknowledge", "assign", "start", "schedule", "reply", "note", "resolve", "reroute", "merge", "not_ours", "refer", "reject", "close"}

// Handle applies an official's change to a request. The caller needs
// account.ActHandleRequests on the request's unit (or where it escalated
// to). Resolving, rejecting, declining and referring need a public reply
// (Body); re-routing needs a reason. Every public change notifies the
// followers. It returns apperr Unauthenticated, Forbidden, NotFound,
// Invalid or Conflict (a change that does not fit the status).
func (s *Service) Handle(ctx context.Context, p *account.Principal, id int64, c Change) (Request, error) {
	if p == nil {
		return Request{}, apperr.ErrUnauthenticated
	}
	c.Body = cleanBody(c.Body)
	if c.Photo != "" {
		if err := checkPhotos([]string{c.Photo}); err != nil {
			return Request{}, err
		}
	}
	if len([]rune(c.Body)) > 4000 {
		return Request{}, apperr.InvalidField("body", "Nội dung quá dài (tối đa 4000 ký tự).", "The text is too long (at most 4000 characters).")
	}
	var rt *Routing
	if c.Action == "reroute" {
		r, err := s.Get(ctx, p, id)
		if err != nil {
			return Request{}, err
		}
		code := c.TypeCode
		if code == "" {
			code = r.TypeCode
		}
		unitID := c.UnitID
		if unitID == 0 {
			unitID = r.UnitID
		}
		t, err := s.TypeByCode(ctx, code)
		if err != nil {
			return Request{}, apperr.InvalidField("type", "Loại yêu cầu không tồn tại.", "Unknown service type.")
		}
		x, err := s.route(ctx, nil, t, nil, nil, unitID)
		if err != nil {
			return Request{}, err
		}
		rt = &x
	}
	var assignee string
	if c.Action == "assign" {
		var err error
		if assignee, err = s.assigneeName(ctx, id, c.AssigneeID); err != nil {
			return Request{}, err
		}
	}
	now := s.now()
	var out notes
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		r, err := s.load(ctx, tx, id, "vi")
		if err != nil {
			return err
		}
		if err := account.Authorize(p, account.ActHandleRequests, r.UnitPath); err != nil {
			if r.EscalatedPath == "" || !p.Can(account.ActHandleRequests, r.EscalatedPath) {
				if !r.Public {
					return errRequestNotFound()
				}
				return err
			}
		}
		return s.apply(ctx, tx, p, &r, c, rt, assignee, now, &out)
	})
	if err != nil {
		return Request{}, err
	}
	s.deliver(ctx, out)
	return s.Get(ctx, p, id)
}

var errFinished = apperr.New(apperr.Conflict, "Yêu cầu đã kết thúc; người phản ánh có thể mở lại nếu chưa hài lòng.", "The request is finished; the reporter can reopen it.")

func (s *Service) apply(ctx context.Context, tx *db.Tx, p *account.Principal, r *Request, c Change, rt *Routing, assignee string, now time.Time, out *notes) error {
	ms := db.Millis(now)
	needBody := func(vi, en string) error {
		if c.Body == "" {
			return apperr.InvalidField("body", vi, en)
		}
		return nil
	}
	public, kind, body := true, c.Action, c.Body
	st := r.Status
	switch c.Action {
	case "note":
		if err := needBody("Vui lòng nhập ghi chú.", "Please enter the note."); err != nil {
			return err
		}
		public = false
	case "reply":
		if err := needBody("Vui lòng nhập nội dung trả lời.", "Please enter the reply."); err != nil {
			return err
		}
		if !r.Status.Open() && r.Status != StatusResolved {
			return errFinished
		}
	case "assign":
		if !r.Status.Open() {
			return errFinished
		}
		if _, err := tx.Exec(ctx, "UPDATE requests SET assignee_id = ?, updated_at = ? WHERE id = ?", c.AssigneeID, ms, r.ID); err != nil {
			return err
		}
		public, body = false, "Giao cho "+assignee+prefixed(c.Body)
	case "reroute":
		if err := needBody("Vui lòng nêu lý do chuyển.", "Please give the reason for re-routing."); err != nil {
			return err
		}
		if !r.Status.Open() {
			return errFinished
		}
		t, err := typeByCode(ctx, tx, rt.TypeCode)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE requests SET type_id = ?, ward_id = ?, unit_id = ?, unit_path = ?, org_kind = ?, agency = ?,
			assignee_id = NULL, updated_at = ? WHERE id = ?`, t.ID, rt.WardID, rt.UnitID, rt.UnitPath, string(rt.OrgKind), rt.Agency, ms, r.ID); err != nil {
			return err
		}
		if err := s.reindex(ctx, tx, r.ID); err != nil { // new type name and unit
			return err
		}
		body = fmt.Sprintf("Chuyển tới %s (%s). Lý do: %s", rt.Agency, t.Name, c.Body)
	case "merge":
		return s.merge(ctx, tx, p, r, c, now, out)
	default:
		to, ok := changeStatus[c.Action]
		if !ok {
			return apperr.InvalidField("action", "Thao tác không hợp lệ.", "Unknown action.")
		}
		if !r.Status.Open() && !(c.Action == "close" && r.Status == StatusResolved) {
			return errFinished
		}
		switch c.Action {
		case "resolve":
			if err := needBody("Vui lòng nhập trả lời công khai cho người dân trước khi đánh dấu đã xử lý.", "A public reply is required to resolve."); err != nil {
				return err
			}
		case "reject", "not_ours", "refer":
			if err := needBody("Vui lòng nêu lý do để trả lời người dân.", "Please give the reason, for the reporter."); err != nil {
				return err
			}
		case "schedule":
			if c.ScheduledAt.IsZero() {
				return apperr.InvalidField("scheduled_at", "Vui lòng chọn ngày giờ dự kiến.", "Please choose when.")
			}
		}
		st = to
		set := "status = ?, updated_at = ?"
		args := []any{string(to), ms}
		if r.AckedAt == nil {
			set += ", acked_at = ?"
			args = append(args, ms)
			if err := scheduleDeadline(ctx, tx, r.ID, "resolve", r.ResolveDue); err != nil {
				return err
			}
		}
		switch to {
		case StatusResolved:
			set += ", resolved_at = ?"
			args = append(args, ms)
		case StatusClosed, StatusRejected, StatusNotOurs, StatusReferred:
			set += ", closed_at = ?"
			args = append(args, ms)
			if r.ResolvedAt == nil && to == StatusClosed {
				set += ", resolved_at = ?"
				args = append(args, ms)
			}
		case StatusScheduled:
			set += ", scheduled_at = ?"
			args = append(args, db.Millis(c.ScheduledAt))
		}
		if _, err := tx.Exec(ctx, "UPDATE requests SET "+set+" WHERE id = ?", append(args, r.ID)...); err != nil {
			return err
		}
		kind = "status"
		if c.Action == "resolve" || c.Body != "" && c.Action != "close" {
			kind = "reply"
		}
	}
	if c.Action == "reply" || c.Action == "note" {
		if _, err := tx.Exec(ctx, "UPDATE requests SET updated_at = ? WHERE id = ?", ms, r.ID); err != nil {
			return err
		}
	}
	if err := addUpdate(ctx, tx, r.ID, now, p.AccountID, p.Name, kind, st, public, body); err != nil {
		return err
	}
	if c.Photo != "" {
		if _, err := tx.Exec(ctx, "UPDATE request_updates SET photo = ? WHERE id = (SELECT MAX(id) FROM request_updates WHERE request_id = ?)", c.Photo, r.ID); err != nil {
			return err
		}
	}
	if public {
		return s.notifyFollowers(ctx, tx, out, r.ID, p.AccountID, kind, now)
	}
	return nil
}

func prefixed(s string) string {
	if s == "" {
		return ""
	}
	return ". " + s
}

// assigneeName checks that account id may handle the request and returns its name.
func (s *Service) assigneeName(ctx context.Context, requestID, accountID int64) (string, error) {
	var path, esc string
	if err := s.d.QueryRow(ctx, "SELECT unit_path, COALESCE(escalated_path, '') FROM requests WHERE id = ?", requestID).Scan(&path, &esc); err != nil {
		return "", notFound(err, "yêu cầu", "Request")
	}
	var name string
	if err := s.d.QueryRow(ctx, "SELECT name FROM accounts WHERE id = ? AND disabled = 0", accountID).Scan(&name); err != nil {
		return "", apperr.InvalidField("assignee_id", "Không tìm thấy cán bộ được giao.", "No such officer.")
	}
	rows, err := s.d.Query(ctx, "SELECT role, unit_path FROM role_grants WHERE account_id = ?", accountID)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	q := &account.Principal{AccountID: accountID}
	for rows.Next() {
		var g account.Grant
		if err := rows.Scan(&g.Role, &g.UnitPath); err != nil {
			return "", err
		}
		q.Grants = append(q.Grants, g)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if !handles(q, path, esc) {
		return "", apperr.InvalidField("assignee_id", "Người này không có quyền xử lý yêu cầu ở địa bàn này.", "This person cannot handle requests here.")
	}
	return name, nil
}

// merge marks r a duplicate of c.MergeInto and moves its followers and
// timeline to the original.
func (s *Service) merge(ctx context.Context, tx *db.Tx, p *account.Principal, r *Request, c Change, now time.Time, out *notes) error {
	if c.MergeInto == 0 || c.MergeInto == r.ID {
		return apperr.InvalidField("merge_into", "Vui lòng chọn yêu cầu gốc (khác yêu cầu này).", "Please choose the original request (another one).")
	}
	if !r.Status.Open() {
		return errFinished
	}
	orig, err := s.load(ctx, tx, c.MergeInto, "vi")
	if err != nil {
		return apperr.InvalidField("merge_into", "Không tìm thấy yêu cầu gốc.", "The original request was not found.")
	}
	if !handles(p, orig.UnitPath, orig.EscalatedPath) {
		return apperr.InvalidField("merge_into", "Yêu cầu gốc không thuộc địa bàn bạn xử lý.", "The original request is outside your area.")
	}
	if orig.MergedInto != 0 {
		return apperr.InvalidField("merge_into", "Yêu cầu gốc cũng là bản trùng; hãy gộp vào yêu cầu gốc của nó.", "The original is itself a duplicate; merge into its original.")
	}
	ms := db.Millis(now)
	if _, err := tx.Exec(ctx, `INSERT INTO request_followers(request_id, account_id, created_at)
		SELECT ?, account_id, created_at FROM request_followers WHERE request_id = ? ON CONFLICT DO NOTHING`, orig.ID, r.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE request_updates SET request_id = ? WHERE request_id = ?", orig.ID, r.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE requests SET status = ?, merged_into = ?, closed_at = ?, updated_at = ? WHERE id = ?",
		string(StatusDuplicate), orig.ID, ms, ms, r.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE requests SET updated_at = ? WHERE id = ?", ms, orig.ID); err != nil {
		return err
	}
	note := fmt.Sprintf("Trùng với yêu cầu #%d; mọi người theo dõi được chuyển sang yêu cầu đó.", orig.ID)
	if err := addUpdate(ctx, tx, r.ID, now, p.AccountID, p.Name, "merged", StatusDuplicate, true, note); err != nil {
		return err
	}
	if err := addUpdate(ctx, tx, orig.ID, now, p.AccountID, p.Name, "merged", orig.Status, true, fmt.Sprintf("Đã gộp yêu cầu trùng #%d vào đây.", r.ID)); err != nil {
		return err
	}
	return s.notifyFollowers(ctx, tx, out, orig.ID, p.AccountID, "merged", now)
}

// BulkAssign assigns several requests to one officer; each must be in p's
// scope. It returns how many were assigned, or the first error.
func (s *Service) BulkAssign(ctx context.Context, p *account.Principal, ids []int64, assigneeID int64) (int, error) {
	if len(ids) == 0 || len(ids) > 200 {
		return 0, apperr.InvalidField("ids", "Chọn từ 1 đến 200 yêu cầu.", "Choose 1 to 200 requests.")
	}
	n := 0
	for _, id := range ids {
		if _, err := s.Handle(ctx, p, id, Change{Action: "assign", AssigneeID: assigneeID}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
