package notice

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
)

// Unreached is a household still to be told: it has not acknowledged (or,
// for a notice that asks no acknowledgement, not opened it either).
type Unreached struct {
	HouseholdID int64      `json:"household_id"`
	UnitName    string     `json:"unit_name"`
	Code        string     `json:"code,omitempty"`
	Address     string     `json:"address"`
	HeadName    string     `json:"head_name"`
	Flags       area.Flags `json:"flags"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	SeenAt      *time.Time `json:"seen_at,omitempty"`
	path        string
}

// UnreachedFilter selects a page of the unreached list.
type UnreachedFilter struct {
	UnitID int64  // 0: the part of the area the viewer follows
	After  string // cursor from the previous page
	Limit  int    // default 50, at most 5000 (exports page through all)
	Export bool   // audited as an export rather than a view
}

// Unreached returns the households of the notice's area (under UnitID)
// still to be told, by unit and address order, for the head's round. The
// view is audited: it shows addresses and names. It returns Forbidden when
// p may not follow the notice's reach there.
func (s *Service) Unreached(ctx context.Context, p *account.Principal, id int64, f UnreachedFilter) (Page[Unreached], error) {
	if p == nil {
		return Page[Unreached]{}, apperr.ErrUnauthenticated
	}
	n, err := s.get(ctx, id)
	if err != nil {
		return Page[Unreached]{}, err
	}
	root, err := s.scopeFor(ctx, p, n, f.UnitID)
	if err != nil {
		return Page[Unreached]{}, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 5000)
	afterPath, afterID := "", int64(0)
	if f.After != "" {
		i := strings.LastIndexByte(f.After, '_')
		if i < 0 {
			return Page[Unreached]{}, apperr.InvalidField("after", "Con trỏ trang không hợp lệ.", "Malformed page cursor.")
		}
		afterPath = f.After[:i]
		if afterID, err = strconv.ParseInt(f.After[i+1:], 10, 64); err != nil {
			return Page[Unreached]{}, apperr.InvalidField("after", "Con trỏ trang không hợp lệ.", "Malformed page cursor.")
		}
	}
	lo, hi := db.SubtreeRange(root)
	// The units of the subtree in path order (units_path), each one range
	// of the deliveries' key in household order (CROSS JOIN: SQLite keeps
	// that order whatever its statistics say).
	q := `SELECT d.household_id, u.path, u.full_name, COALESCE(h.code, ''), h.address, COALESCE(hr.full_name, ''), h.flags, d.delivered_at, d.seen_at
		FROM units u CROSS JOIN notice_deliveries d
		JOIN households h ON h.id = d.household_id
		LEFT JOIN residents hr ON hr.id = h.head_resident_id
		WHERE u.path >= ? AND u.path < ? AND d.notice_id = ? AND d.unit_id = u.id AND d.acked_at IS NULL
		AND (u.path > ? OR (u.path = ? AND d.household_id > ?))`
	if !n.AckRequired {
		q += " AND d.seen_at IS NULL"
	}
	rows, err := s.d.Query(ctx, q+" ORDER BY u.path, d.household_id LIMIT "+strconv.Itoa(limit+1), lo, hi, n.ID, afterPath, afterPath, afterID)
	if err != nil {
		return Page[Unreached]{}, err
	}
	defer rows.Close()
	out := Page[Unreached]{Items: []Unreached{}}
	for rows.Next() {
		var u Unreached
		var del, seen sql.NullInt64
		if err := rows.Scan(&u.HouseholdID, &u.path, &u.UnitName, &u.Code, &u.Address, &u.HeadName, &u.Flags, &del, &seen); err != nil {
			return Page[Unreached]{}, err
		}
		u.DeliveredAt, u.SeenAt = msPtr(del), msPtr(seen)
		out.Items = append(out.Items, u)
	}
	if err := rows.Err(); err != nil {
		return Page[Unreached]{}, err
	}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
		last := out.Items[limit-1]
		out.Next = last.path + "_" + strconv.FormatInt(last.HouseholdID, 10)
	}
	if f.After == "" {
		action := "notice.unreached_viewed"
		if f.Export {
			action = audit.DataExported
		}
		if err := audit.Record(ctx, s.d, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: action, SubjectType: "notice",
			SubjectID: strconv.FormatInt(n.ID, 10), UnitPath: root, Detail: "unreached households"}); err != nil {
			return Page[Unreached]{}, err
		}
	}
	return out, nil
}

// HistoryNotice is a column of the reach history.
type HistoryNotice struct {
	ID     int64     `json:"id"`
	Title  string    `json:"title"`
	SentAt time.Time `json:"sent_at"`
}

// HistoryRow is a unit's reach across the history's notices (cells line up
// with History.Notices; a nil cell: the notice did not go there).
type HistoryRow struct {
	UnitID int64     `json:"unit_id"`
	Name   string    `json:"name"`
	Cells  []*Counts `json:"cells"`
	AvgAck int       `json:"avg_ack_percent"`
}

// History is the acknowledgement rate of each unit directly under a unit
// across its latest notices: which tổ lag behind.
type History struct {
	UnitID  int64           `json:"unit_id"`
	Notices []HistoryNotice `json:"notices"`
	Rows    []HistoryRow    `json:"rows"`
}

// History returns the reach history of the units under unitID over the
// latest (at most limit, default 8) notices that went there. It returns
// Forbidden unless p may follow reach on the unit.
func (s *Service) History(ctx context.Context, p *account.Principal, unitID int64, limit int) (History, error) {
	u, err := s.areas.Unit(ctx, unitID)
	if err != nil {
		return History{}, err
	}
	if err := account.Authorize(p, account.ActViewReach, u.Path); err != nil {
		return History{}, err
	}
	if limit <= 0 || limit > 24 {
		limit = 8
	}
	lo, hi := db.SubtreeRange(u.Path)
	pre := pathPrefixes(u.Path)
	args := []any{lo, hi}
	for _, x := range pre {
		args = append(args, x)
	}
	rows, err := s.d.Query(ctx, `SELECT n.id, n.title, n.sent_at FROM notices n WHERE n.sent_at IS NOT NULL
		AND ((n.unit_path >= ? AND n.unit_path < ?) OR n.unit_path IN (`+placeholders(len(pre))+`)) ORDER BY n.id DESC LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return History{}, err
	}
	h := History{UnitID: u.ID, Notices: []HistoryNotice{}, Rows: []HistoryRow{}}
	for rows.Next() {
		var hn HistoryNotice
		var at int64
		if err := rows.Scan(&hn.ID, &hn.Title, &at); err != nil {
			rows.Close()
			return History{}, err
		}
		hn.SentAt = db.Time(at)
		h.Notices = append(h.Notices, hn)
	}
	if err := rows.Close(); err != nil {
		return History{}, err
	}
	byUnit := map[int64]*HistoryRow{}
	var order []int64
	for i, hn := range h.Notices {
		r, err := s.rollUp(ctx, hn.ID, u.Path, 1)
		if err != nil {
			return History{}, err
		}
		for _, ur := range r.ByUnit {
			if ur.Depth != 1 {
				continue
			}
			row := byUnit[ur.UnitID]
			if row == nil {
				row = &HistoryRow{UnitID: ur.UnitID, Name: ur.Name, Cells: make([]*Counts, len(h.Notices))}
				byUnit[ur.UnitID] = row
				order = append(order, ur.UnitID)
			}
			c := ur.Counts
			row.Cells[i] = &c
		}
	}
	for _, id := range order {
		row := byUnit[id]
		var sum Counts
		for _, c := range row.Cells {
			if c != nil {
				sum.add(*c)
			}
		}
		row.AvgAck = sum.AckPct()
		h.Rows = append(h.Rows, *row)
	}
	sortRows(h.Rows)
	return h, nil
}

func sortRows(rows []HistoryRow) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && naturalLess(rows[j].Name, rows[j-1].Name); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}
