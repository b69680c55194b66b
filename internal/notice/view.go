package notice

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
)

// Note is a lower level's addition to a notice, shown under the original
// to the households of its unit ("tổ 41: CSKV sẽ đến nhà văn hoá thứ Bảy").
type Note struct {
	ID         int64     `json:"id"`
	UnitID     int64     `json:"unit_id"`
	UnitPath   string    `json:"-"`
	UnitName   string    `json:"unit_name"`
	Body       string    `json:"body"`
	AuthorName string    `json:"author_name"`
	CreatedAt  time.Time `json:"created_at"`
}

// UnitRef names a unit.
type UnitRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// View is a notice as one person sees it.
type View struct {
	Notice
	Notes       []Note       `json:"notes"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Mine        *Delivery    `json:"mine,omitempty"` // the viewer's household's copy
	CanReach    bool         `json:"can_reach"`
	CanProxy    bool         `json:"can_proxy"`
	NoteUnits   []UnitRef    `json:"note_units,omitempty"` // where the viewer may add a local note
	scopes      []string
}

// pathPrefixes returns "/1/", "/1/2/", … up to path itself.
func pathPrefixes(path string) []string {
	var out []string
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			out = append(out, path[:i+1])
		}
	}
	return out
}

// reachScopes returns the parts of n's subtree whose reach p may see: all
// of it for an official over the notice's unit (or its author), or the
// subtrees of p's grants below it.
func reachScopes(p *account.Principal, n Notice) []string {
	if p == nil {
		return nil
	}
	if p.Can(account.ActViewReach, n.UnitPath) || p.AccountID == n.AuthorID {
		return []string{n.UnitPath}
	}
	var out []string
	for _, sc := range p.Scopes(account.ActViewReach) {
		if strings.HasPrefix(sc, n.UnitPath) {
			out = append(out, sc)
		}
	}
	return out
}

// Get returns the notice as p sees it. A member of a household it went to
// marks it seen by opening it. It returns NotFound when p may not see it
// (neither a recipient nor an official over part of its area).
func (s *Service) Get(ctx context.Context, p *account.Principal, id int64) (View, error) {
	if p == nil {
		return View{}, apperr.ErrUnauthenticated
	}
	n, err := s.get(ctx, id)
	if err != nil {
		return View{}, err
	}
	v := View{Notice: n, scopes: reachScopes(p, n)}
	v.CanReach = len(v.scopes) > 0
	for _, sc := range v.scopes {
		v.CanProxy = v.CanProxy || p.Can(account.ActProxyAck, sc)
	}
	for _, g := range p.Grants {
		if len(g.UnitPath) > len(n.UnitPath) && strings.HasPrefix(g.UnitPath, n.UnitPath) && p.Can(account.ActSendNotice, g.UnitPath) {
			v.NoteUnits = append(v.NoteUnits, UnitRef{ID: g.UnitID, Name: g.UnitName})
		}
	}
	h, member, err := s.householdOf(ctx, p)
	if err != nil {
		return View{}, err
	}
	var hhPath string
	if member && strings.HasPrefix(h.path, n.UnitPath) && n.Sent() {
		d, err := delivery(ctx, s.d, n.ID, h)
		if err == nil {
			if d.SeenAt == nil {
				if err := s.markSeen(ctx, n.ID, h); err != nil {
					return View{}, err
				}
				now := s.cfg.Now().UTC()
				d.SeenAt = &now
			}
			v.Mine, hhPath = &d, h.path
		} else if apperr.CodeOf(err) != apperr.NotFound {
			return View{}, err
		}
	}
	if v.Mine == nil && !v.CanReach {
		return View{}, errNoticeNotFound()
	}
	if v.Attachments, err = s.attachments(ctx, n.ID); err != nil {
		return View{}, err
	}
	notes, err := s.notes(ctx, n.ID)
	if err != nil {
		return View{}, err
	}
	for _, nt := range notes {
		show := hhPath != "" && strings.HasPrefix(hhPath, nt.UnitPath)
		for _, sc := range v.scopes {
			show = show || strings.HasPrefix(nt.UnitPath, sc) || strings.HasPrefix(sc, nt.UnitPath)
		}
		if show {
			v.Notes = append(v.Notes, nt)
		}
	}
	return v, nil
}

func (s *Service) notes(ctx context.Context, noticeID int64) ([]Note, error) {
	rows, err := s.d.Query(ctx, `SELECT o.id, o.unit_id, o.unit_path, u.full_name, o.body, o.author_name, o.created_at
		FROM notice_notes o JOIN units u ON u.id = o.unit_id WHERE o.notice_id = ? ORDER BY o.unit_path, o.id`, noticeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var nt Note
		var at int64
		if err := rows.Scan(&nt.ID, &nt.UnitID, &nt.UnitPath, &nt.UnitName, &nt.Body, &nt.AuthorName, &at); err != nil {
			return nil, err
		}
		nt.CreatedAt = db.Time(at)
		out = append(out, nt)
	}
	return out, rows.Err()
}

// AddNote adds a local note to a notice from a unit below the notice's own
// (the original is never edited). It returns Forbidden unless p may send
// notices to that unit, Invalid for a unit outside the notice's area or an
// empty note.
func (s *Service) AddNote(ctx context.Context, p *account.Principal, noticeID, unitID int64, body string) (Note, error) {
	if p == nil {
		return Note{}, apperr.ErrUnauthenticated
	}
	n, err := s.get(ctx, noticeID)
	if err != nil {
		return Note{}, err
	}
	u, err := s.areas.Unit(ctx, unitID)
	if err != nil {
		return Note{}, err
	}
	if err := account.Authorize(p, account.ActSendNotice, u.Path); err != nil {
		return Note{}, err
	}
	if len(u.Path) <= len(n.UnitPath) || !strings.HasPrefix(u.Path, n.UnitPath) {
		return Note{}, apperr.InvalidField("unit_id", "Chỉ cấp dưới của nơi gửi thông báo mới thêm được ghi chú.", "Only a level below the notice's area may add a note.")
	}
	body = cleanText(body)
	if body == "" || utf8.RuneCountInString(body) > 2000 {
		return Note{}, apperr.InvalidField("body", "Ghi chú không được để trống và tối đa 2.000 ký tự.", "The note is required, at most 2,000 characters.")
	}
	now := s.cfg.Now()
	nt := Note{UnitID: u.ID, UnitPath: u.Path, UnitName: u.FullName, Body: body, AuthorName: p.Name, CreatedAt: now.UTC()}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO notice_notes(notice_id, unit_id, unit_path, body, author_id, author_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			n.ID, u.ID, u.Path, body, p.AccountID, p.Name, db.Millis(now)).Scan(&nt.ID)
	})
	return nt, err
}

// InboxItem is a notice in a household's inbox.
type InboxItem struct {
	Notice
	Delivery
}

// Page is one page of a list; Next is the cursor of the following page.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func clampLimit(n int) int {
	if n <= 0 {
		return 20
	}
	return min(n, 100)
}

// Inbox returns the notices that went to p's household, newest first,
// before the cursor. A person who is not a registered resident has an
// empty inbox. It returns Unauthenticated for an anonymous p.
func (s *Service) Inbox(ctx context.Context, p *account.Principal, after string, limit int) (Page[InboxItem], error) {
	if p == nil {
		return Page[InboxItem]{}, apperr.ErrUnauthenticated
	}
	limit = clampLimit(limit)
	h, ok, err := s.householdOf(ctx, p)
	if err != nil || !ok {
		return Page[InboxItem]{Items: []InboxItem{}}, err
	}
	prefixes := pathPrefixes(h.path)
	args := []any{h.unit, h.id}
	for _, pr := range prefixes {
		args = append(args, pr)
	}
	q := "SELECT " + noticeCols + ", d.household_id, d.delivered_at, d.seen_at, d.acked_at, COALESCE(d.acked_by, 0), COALESCE(d.ack_name, ''), COALESCE(d.ack_proxy, 0), COALESCE(d.ack_note, '')" + noticeFrom +
		" JOIN notice_deliveries d ON d.notice_id = n.id AND d.unit_id = ? AND d.household_id = ? WHERE n.unit_path IN (" + placeholders(len(prefixes)) + ")"
	if before, _ := strconv.ParseInt(after, 10, 64); before > 0 {
		q += " AND n.id < ?"
		args = append(args, before)
	}
	rows, err := s.d.Query(ctx, q+" ORDER BY n.id DESC LIMIT "+strconv.Itoa(limit+1), args...)
	if err != nil {
		return Page[InboxItem]{}, err
	}
	defer rows.Close()
	out := Page[InboxItem]{Items: []InboxItem{}}
	for rows.Next() {
		var it InboxItem
		var del, seen, ack sql.NullInt64
		var proxy int
		if err := scanNotice(rows, &it.Notice, &it.HouseholdID, &del, &seen, &ack, &it.AckedBy, &it.AckName, &proxy, &it.AckNote); err != nil {
			return Page[InboxItem]{}, err
		}
		it.DeliveredAt, it.SeenAt, it.AckedAt, it.AckProxy = msPtr(del), msPtr(seen), msPtr(ack), proxy == 1
		out.Items = append(out.Items, it)
	}
	if err := rows.Err(); err != nil {
		return Page[InboxItem]{}, err
	}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
		out.Next = strconv.FormatInt(out.Items[limit-1].ID, 10)
	}
	return out, nil
}

// List returns the notices an official deals with, newest first: those
// sent to, above or within the units p may follow the reach of, and those p
// wrote. It returns Unauthenticated for an anonymous p.
func (s *Service) List(ctx context.Context, p *account.Principal, after string, limit int) (Page[Notice], error) {
	if p == nil {
		return Page[Notice]{}, apperr.ErrUnauthenticated
	}
	limit = clampLimit(limit)
	conds := []string{"n.author_id = ?"}
	args := []any{p.AccountID}
	for _, sc := range p.Scopes(account.ActViewReach) {
		lo, hi := db.SubtreeRange(sc)
		pre := pathPrefixes(sc)
		conds = append(conds, "(n.unit_path >= ? AND n.unit_path < ?)", "n.unit_path IN ("+placeholders(len(pre))+")")
		args = append(args, lo, hi)
		for _, x := range pre {
			args = append(args, x)
		}
	}
	q := "SELECT " + noticeCols + noticeFrom + " WHERE (" + strings.Join(conds, " OR ") + ")"
	if before, _ := strconv.ParseInt(after, 10, 64); before > 0 {
		q += " AND n.id < ?"
		args = append(args, before)
	}
	rows, err := s.d.Query(ctx, q+" ORDER BY n.id DESC LIMIT "+strconv.Itoa(limit+1), args...)
	if err != nil {
		return Page[Notice]{}, err
	}
	defer rows.Close()
	out := Page[Notice]{Items: []Notice{}}
	for rows.Next() {
		var n Notice
		if err := scanNotice(rows, &n); err != nil {
			return Page[Notice]{}, err
		}
		out.Items = append(out.Items, n)
	}
	if err := rows.Err(); err != nil {
		return Page[Notice]{}, err
	}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
		out.Next = strconv.FormatInt(out.Items[limit-1].ID, 10)
	}
	return out, nil
}

// InboxTopics returns the realtime topics of p's inbox (see live.go), or
// none when p is not a registered resident.
func (s *Service) InboxTopics(ctx context.Context, p *account.Principal) ([]string, error) {
	h, ok, err := s.householdOf(ctx, p)
	if err != nil || !ok {
		return nil, err
	}
	return InboxTopics(h.path, h.id), nil
}

// CanWatchInbox returns nil when p may listen on topic, one of its inbox's
// topics ("inbox:{unit}" for a unit above or at p's household,
// "household:{id}" for p's own), and Forbidden otherwise.
func (s *Service) CanWatchInbox(ctx context.Context, p *account.Principal, topic string) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	topics, err := s.live.inboxTopics(p, func() ([]string, error) { return s.InboxTopics(ctx, p) })
	if err != nil {
		return err
	}
	for _, t := range topics {
		if t == topic {
			return nil
		}
	}
	return apperr.ErrForbidden
}

// CanWatchReach returns nil when p may follow the reach of notice id live
// (topic "notice:{id}"): whoever may see the reach of part of its area.
// It returns NotFound for an unknown notice and Forbidden otherwise, as
// Reach does.
func (s *Service) CanWatchReach(ctx context.Context, p *account.Principal, id int64) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	n, err := s.get(ctx, id)
	if err != nil {
		return err
	}
	if len(reachScopes(p, n)) == 0 {
		return apperr.ErrForbidden
	}
	return nil
}
