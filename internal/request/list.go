package request

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
)

// Filter selects requests for a queue or a public list.
type Filter struct {
	UnitID     int64     // this unit and below (0: all the viewer may see)
	TypeCode   string    // one type
	Statuses   []Status  // any of these (empty: all)
	AssigneeID int64     // assigned to this account
	Overdue    bool      // open and past a deadline
	Escalated  bool      // escalated (to anywhere in scope)
	Query      string    // words, diacritics folded
	Since      time.Time // created at or after (search defaults to 90 days)
	Until      time.Time // created before
	IDs        []int64   // exactly these
	After      string    // cursor of the previous page
	Offset     int       // rows to skip (Open311 page/page_size)
	Limit      int       // default 50, at most 1000
	PublicOnly bool

	byID bool // order by id (a search on SQLite's text index: see list)
}

// Page is a page of requests; Next is the cursor of the following page.
type Page struct {
	Items []Request `json:"items"`
	Next  string    `json:"next,omitempty"`

	byID bool // ordered by id, newest first, not by creation time
}

// A cursor is where a page ended: at (created, id) in creation order, or
// at id in id order (byID: a search through SQLite's text index, which
// walks documents by id).
type cursor struct {
	created, id int64
	byID        bool
}

func encodeCursor(created, id int64) string {
	return strconv.FormatInt(created, 36) + "." + strconv.FormatInt(id, 36)
}

// encodeIDCursor is the cursor of a page in id order: no creation time.
func encodeIDCursor(id int64) string { return "." + strconv.FormatInt(id, 36) }

func decodeCursor(c string) (cursor, error) {
	a, b, ok := strings.Cut(c, ".")
	ib, err2 := strconv.ParseInt(b, 36, 64)
	if ok && a == "" && err2 == nil {
		return cursor{id: ib, byID: true}, nil
	}
	ca, err1 := strconv.ParseInt(a, 36, 64)
	if !ok || err1 != nil || err2 != nil {
		return cursor{}, apperr.InvalidField("after", "Con trỏ trang không hợp lệ.", "Invalid page cursor.")
	}
	return cursor{created: ca, id: ib}, nil
}

// Queue returns the requests p handles: those routed to or escalated into
// the subtrees where p holds account.ActHandleRequests, newest first. It
// returns apperr Unauthenticated, Forbidden (p handles nowhere, or not in
// f.UnitID) or Invalid.
func (s *Service) Queue(ctx context.Context, p *account.Principal, f Filter) (Page, error) {
	if p == nil {
		return Page{}, apperr.ErrUnauthenticated
	}
	scopes := p.Scopes(account.ActHandleRequests)
	if f.UnitID != 0 {
		u, err := s.areas.Unit(ctx, f.UnitID)
		if err != nil {
			return Page{}, err
		}
		if err := account.Authorize(p, account.ActHandleRequests, u.Path); err != nil {
			return Page{}, err
		}
		scopes = []string{u.Path}
	}
	if len(scopes) == 0 {
		return Page{}, apperr.ErrForbidden
	}
	return s.list(ctx, p, scopes, f)
}

// Public returns public requests (anyone may list them), newest first;
// f.UnitID narrows to a subtree.
func (s *Service) Public(ctx context.Context, p *account.Principal, f Filter) (Page, error) {
	scope := ""
	if f.UnitID != 0 {
		u, err := s.areas.Unit(ctx, f.UnitID)
		if err != nil {
			return Page{}, err
		}
		scope = u.Path
	}
	f.PublicOnly = true
	var scopes []string
	if scope != "" {
		scopes = []string{scope}
	}
	return s.list(ctx, p, scopes, f)
}

// Mine returns the requests p filed or follows, newest first.
func (s *Service) Mine(ctx context.Context, p *account.Principal, f Filter) (Page, error) {
	if p == nil {
		return Page{}, apperr.ErrUnauthenticated
	}
	return s.listWhere(ctx, p, "r.id IN (SELECT request_id FROM request_followers WHERE account_id = ?)", []any{p.AccountID}, f, termScope{})
}

// list runs the query over scopes (unitScope): the requests routed into
// them and, for officials, those escalated into them (a second, small
// query merged in: one OR of both would keep either index from ordering
// the page).
func (s *Service) list(ctx context.Context, p *account.Principal, scopes []string, f Filter) (Page, error) {
	var or []string
	var args []any
	wideScope := len(scopes) == 0
	for _, sc := range scopes {
		c, a, wide, err := s.unitScope(ctx, sc)
		if err != nil {
			return Page{}, err
		}
		wideScope = wideScope || wide
		or, args = append(or, c), append(args, a...)
	}
	cond := ""
	if len(or) > 0 {
		cond = "(" + strings.Join(or, " OR ") + ")"
	}
	sc := termScope{paths: scopes, ok: true, wide: wideScope}
	if f.PublicOnly {
		if cond != "" {
			cond += " AND "
		}
		return s.listWhere(ctx, p, cond+"r.public = 1", args, f, sc)
	}
	main, err := s.listWhere(ctx, p, cond, args, f, sc)
	if err != nil || len(scopes) == 0 {
		return main, err
	}
	var eor []string
	var eargs []any
	for _, sc := range scopes {
		lo, hi := db.SubtreeRange(sc)
		eor, eargs = append(eor, "(r.escalated_path >= ? AND r.escalated_path < ?)"), append(eargs, lo, hi)
	}
	// A search through SQLite's text index pages by id: so do the
	// escalated ones merged into it (a few, sorted).
	f.byID = main.byID
	esc, err := s.listWhere(ctx, p, "("+strings.Join(eor, " OR ")+")", eargs, f, termScope{})
	if err != nil || len(esc.Items) == 0 {
		return main, err
	}
	return mergePages(main, esc, f.Limit), nil
}

// mergePages merges two pages ordered newest first into one of at most
// limit. The next page starts at the newest frontier: where either page
// stopped (its cursor) or where the merged one is cut; rows older than
// that frontier wait for the next page.
func mergePages(a, b Page, limit int) Page {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	seen := map[int64]bool{}
	all := make([]Request, 0, len(a.Items)+len(b.Items))
	for _, r := range append(a.Items, b.Items...) {
		if !seen[r.ID] {
			seen[r.ID] = true
			all = append(all, r)
		}
	}
	// In id order every key's creation time counts as 0.
	key := func(r Request) int64 {
		if a.byID {
			return 0
		}
		return db.Millis(r.CreatedAt)
	}
	slices.SortFunc(all, func(x, y Request) int {
		return cmp.Or(cmp.Compare(key(y), key(x)), cmp.Compare(y.ID, x.ID))
	})
	var fc, fid int64
	frontier := false
	consider := func(c, id int64) {
		if !frontier || c > fc || c == fc && id > fid {
			fc, fid, frontier = c, id, true
		}
	}
	for _, n := range []string{a.Next, b.Next} {
		if c, err := decodeCursor(n); n != "" && err == nil {
			consider(c.created, c.id)
		}
	}
	if len(all) > limit {
		consider(key(all[limit-1]), all[limit-1].ID)
	}
	out := Page{Items: all, byID: a.byID}
	if frontier {
		out.Items = slices.DeleteFunc(all, func(r Request) bool {
			c := key(r)
			return c < fc || c == fc && r.ID < fid
		})
		out.Next = encodeCursor(fc, fid)
		if a.byID {
			out.Next = encodeIDCursor(fid)
		}
	}
	return out
}

// unitScope returns the condition on requests r that selects those routed
// into the subtree of the unit at path, written for the index that serves
// it:
//   - a ward: its id, read newest first through (ward_id, created_at)
//     without sorting the ward;
//   - a unit below a ward (khu phố, tổ): the range of unit paths and
//     "r.unit_id <> r.ward_id", the condition of the partial index
//     requests_below_ward (schema 11), which holds only the requests routed
//     below their ward — those routed to the ward, most of them, cost no
//     write at a random page of it;
//   - a province or the country (wide): the range on an expression no
//     index serves. Such a subtree holds most requests: read newest first
//     (requests_created), a page comes at once, where a range of the
//     subtree would sort it. Without samples the planners cannot tell, so
//     the expression keeps them off any other index.
func (s *Service) unitScope(ctx context.Context, path string) (cond string, args []any, wide bool, err error) {
	ward, err := s.isWard(ctx, path)
	if err != nil {
		return "", nil, false, err
	}
	if ward {
		return "r.ward_id = ?", []any{lastID(path)}, false, nil
	}
	lo, hi := db.SubtreeRange(path)
	wide, err = s.aboveWard(ctx, path)
	if err != nil {
		return "", nil, false, err
	}
	if wide {
		return "((r.unit_path || '') >= ? AND (r.unit_path || '') < ?)", []any{lo, hi}, true, nil
	}
	return "(r.unit_path >= ? AND r.unit_path < ? AND r.unit_id <> r.ward_id)", []any{lo, hi}, false, nil
}

// isWard reports whether path is a commune's.
func (s *Service) isWard(ctx context.Context, path string) (bool, error) {
	if v, ok := s.cache.level.get(path); ok {
		return v, nil
	}
	u, err := s.areas.Unit(ctx, lastID(path))
	if err != nil {
		return false, err
	}
	w := u.Level == area.LevelCommune && u.Path == path
	s.cache.level.put(path, w)
	return w, nil
}

// listWhere lists the requests matching cond and f, newest first. A search
// (f.Query) may be answered through the word index when sc allows it (see
// planSearch).
// aboveWard reports whether path is a unit above the communes (a
// province or a district).
func (s *Service) aboveWard(ctx context.Context, path string) (bool, error) {
	key := "above:" + path
	if v, ok := s.cache.level.get(key); ok {
		return v, nil
	}
	u, err := s.areas.Unit(ctx, lastID(path))
	if err != nil {
		return false, err
	}
	v := u.Level == area.LevelCountry || u.Level == area.LevelProvince || u.Level == area.LevelDistrict
	s.cache.level.put(key, v)
	return v, nil
}

func (s *Service) listWhere(ctx context.Context, p *account.Principal, cond string, args []any, f Filter, sc termScope) (Page, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	where := []string{}
	if cond != "" {
		where = append(where, cond)
	}
	scopeCond, scopeArgs := cond, slices.Clone(args)
	now := s.now()
	if f.TypeCode != "" {
		t, err := s.TypeByCode(ctx, f.TypeCode)
		if err != nil {
			return Page{}, apperr.InvalidField("type", "Loại yêu cầu không tồn tại.", "Unknown service type.")
		}
		where, args = append(where, "r.type_id = ?"), append(args, t.ID)
	}
	if len(f.Statuses) > 0 {
		ph := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			if !st.Valid() {
				return Page{}, apperr.InvalidField("status", "Trạng thái không hợp lệ.", "Unknown status.")
			}
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "r.status IN ("+strings.Join(ph, ", ")+")")
	}
	if f.AssigneeID != 0 {
		where, args = append(where, "r.assignee_id = ?"), append(args, f.AssigneeID)
	}
	if f.Overdue {
		where = append(where, "r.status IN ('new', 'acknowledged', 'in_progress', 'scheduled', 'reopened') AND ((r.acked_at IS NULL AND r.ack_due < ?) OR r.resolve_due < ?)")
		args = append(args, db.Millis(now), db.Millis(now))
	}
	if f.Escalated {
		where = append(where, "r.escalation_level > 0")
	}
	if len(f.IDs) > 0 {
		ph := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			ph[i] = "?"
			args = append(args, id)
		}
		where = append(where, "r.id IN ("+strings.Join(ph, ", ")+")")
	}
	tq, search := parseQuery(f.Query)
	if search {
		w, a := tq.conds()
		where, args = append(where, w...), append(args, a...)
		if f.Since.IsZero() {
			f.Since = now.Add(-90 * 24 * time.Hour) // search is bounded by recency
		}
	}
	if !f.Since.IsZero() {
		where, args = append(where, "r.created_at >= ?"), append(args, db.Millis(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "r.created_at < ?"), append(args, db.Millis(f.Until))
	}
	var after *cursor
	if f.After != "" {
		c, err := decodeCursor(f.After)
		if err != nil {
			return Page{}, err
		}
		after = &c
		if c.byID {
			where, args = append(where, "r.id < ?"), append(args, c.id)
		} else {
			where = append(where, "(r.created_at < ? OR (r.created_at = ? AND r.id < ?))")
			args = append(args, c.created, c.created, c.id)
		}
	}
	from, order := requestFrom, " ORDER BY r.created_at DESC, r.id DESC"
	var d *drive
	var small bool // the scope has fewer requests in the window than a bound
	if search {
		var until int64
		if !f.Until.IsZero() {
			until = db.Millis(f.Until)
		}
		if f.Offset > 0 {
			sc.ok = false // pages by offset read the scope in order
		}
		var err error
		if d, small, err = s.planSearch(ctx, tq, sc, scopeCond, scopeArgs, db.Millis(f.Since), until, after); err != nil {
			return Page{}, err
		}
		if d != nil {
			where, args = append(slices.Clone(d.where), where...), append(slices.Clone(d.args), args...)
		}
		if d != nil && d.text != nil {
			f.byID = true
			ids, next, err := s.textWalk(ctx, d.text, where, args, f.Limit+1)
			if err != nil {
				return Page{}, err
			}
			out, err := s.loadPage(ctx, p, ids, f, now)
			if err == nil && out.Next == "" {
				out.Next = next
			}
			return out, err
		}
	}
	if f.byID {
		order = " ORDER BY r.id DESC"
	}
	// A search that reads the scope in order reads at most a bound of
	// requests a page; a page that stops there short of its rows carries
	// the cursor of the last request read.
	var bound string
	if search && d == nil && sc.ok && tq.id == 0 && !small {
		var bc []string
		var ba []any
		if scopeCond != "" {
			bc, ba = append(bc, scopeCond), append(ba, scopeArgs...)
		}
		bc, ba = append(bc, "r.created_at >= ?"), append(ba, db.Millis(f.Since))
		if !f.Until.IsZero() {
			bc, ba = append(bc, "r.created_at < ?"), append(ba, db.Millis(f.Until))
		}
		if after != nil && !after.byID {
			bc, ba = append(bc, "(r.created_at < ? OR (r.created_at = ? AND r.id < ?))"), append(ba, after.created, after.created, after.id)
		}
		c, id, ok, err := s.scanBound(ctx, strings.Join(bc, " AND "), ba, sc.wide)
		if err != nil {
			return Page{}, err
		}
		if ok {
			where, args = append(where, "(r.created_at > ? OR (r.created_at = ? AND r.id >= ?))"), append(args, c, c, id)
			bound = encodeCursor(c, id)
		}
		// Ids first, then the page's rows with the listing's joins
		// (pageIDs): PostgreSQL plans the joins of a LIKE it cannot
		// estimate for one row and scanned the units table per row.
		d = &drive{from: " FROM requests r", order: " ORDER BY r.created_at DESC, r.id DESC"}
	}
	q := "SELECT " + requestCols + from
	if d != nil {
		var err error
		if q, args, err = pageIDs(ctx, s.d, d, where, args, order, f.Limit+1); err != nil {
			return Page{}, err
		}
	} else {
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		q += order + " LIMIT " + strconv.Itoa(f.Limit+1)
		if f.Offset > 0 {
			q += " OFFSET " + strconv.Itoa(f.Offset)
		}
	}
	out, err := s.readPage(ctx, p, q, args, f, now)
	if err != nil || out.Next != "" {
		return out, err
	}
	if bound != "" {
		out.Next = bound
		return out, nil
	}
	// A bounded walk that stopped short: go on from where it stopped.
	next, err := s.resume(ctx, d)
	out.Next = next
	return out, err
}

// readPage reads the page query q returns (at most f.Limit+1 rows: one
// more tells there is a next page, and sets its cursor).
func (s *Service) readPage(ctx context.Context, p *account.Principal, q string, args []any, f Filter, now time.Time) (Page, error) {
	rows, err := s.d.Query(ctx, q, args...)
	if err != nil {
		return Page{}, err
	}
	defer rows.Close()
	out := Page{Items: []Request{}, byID: f.byID}
	for rows.Next() {
		var r Request
		if err := scanRequest(rows, &r, langOf(p)); err != nil {
			return Page{}, err
		}
		r.listView(p, now)
		out.Items = append(out.Items, r)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(out.Items) > f.Limit {
		out.Items = out.Items[:f.Limit]
		last := out.Items[f.Limit-1]
		out.Next = encodeCursor(db.Millis(last.CreatedAt), last.ID)
		if f.byID {
			out.Next = encodeIDCursor(last.ID)
		}
	}
	return out, nil
}

// loadPage loads the requests of ids (at most f.Limit+1), in the
// listing's order (readPage).
func (s *Service) loadPage(ctx context.Context, p *account.Principal, ids []int64, f Filter, now time.Time) (Page, error) {
	order := " ORDER BY r.created_at DESC, r.id DESC"
	if f.byID {
		order = " ORDER BY r.id DESC"
	}
	a := make([]any, len(ids))
	for i, id := range ids {
		a[i] = id
	}
	q, args := idsQuery(a, order)
	return s.readPage(ctx, p, q, args, f, now)
}
