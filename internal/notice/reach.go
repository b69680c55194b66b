package notice

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
)

// Counts are the reach figures of a set of households.
type Counts struct {
	Targeted     int `json:"targeted"`
	Delivered    int `json:"delivered"`
	Seen         int `json:"seen"`
	Acknowledged int `json:"acknowledged"`
}

func (c *Counts) add(o Counts) {
	c.Targeted += o.Targeted
	c.Delivered += o.Delivered
	c.Seen += o.Seen
	c.Acknowledged += o.Acknowledged
}

func pct(n, of int) int {
	if of == 0 {
		return 0
	}
	return (n*100 + of/2) / of
}

// DeliveredPct is the share of targeted households reached, in percent.
func (c Counts) DeliveredPct() int { return pct(c.Delivered, c.Targeted) }

// SeenPct is the share of targeted households that opened it, in percent.
func (c Counts) SeenPct() int { return pct(c.Seen, c.Targeted) }

// AckPct is the share of targeted households that acknowledged, in percent.
func (c Counts) AckPct() int { return pct(c.Acknowledged, c.Targeted) }

// UnitReach is one unit's line of a roll-up.
type UnitReach struct {
	UnitID   int64      `json:"unit_id"`
	ParentID int64      `json:"parent_id,omitempty"`
	Name     string     `json:"name"`
	Level    area.Level `json:"level"`
	Depth    int        `json:"depth"` // 0 for the roll-up's root
	Counts
	Percent struct {
		Delivered    int `json:"delivered"`
		Seen         int `json:"seen"`
		Acknowledged int `json:"acknowledged"`
	} `json:"percent"`
	path string
}

// Reach is a notice's reach over the part of its area the viewer follows,
// with a line per unit down to MaxDepth levels below the root.
type Reach struct {
	NoticeID int64 `json:"notice_id"`
	UnitID   int64 `json:"unit_id"` // the roll-up's root
	Counts
	ByUnit []UnitReach `json:"by_unit"`
	// Channels counts the notice's sends by channel and outcome ("push":
	// {"sent": 120, "failed": 3}), over the whole notice; only for those
	// who follow all of it.
	Channels map[string]map[string]int `json:"channels,omitempty"`
}

// MaxDepth is how many levels below its root a roll-up lists (ward → khu
// phố → tổ); deeper levels are one click (unit_id) away.
const MaxDepth = 2

// scopeFor returns the subtree to report on: unitID's, which must lie in
// the notice's area and in p's view, or p's first scope.
func (s *Service) scopeFor(ctx context.Context, p *account.Principal, n Notice, unitID int64) (string, error) {
	scopes := reachScopes(p, n)
	if len(scopes) == 0 {
		if p == nil {
			return "", apperr.ErrUnauthenticated
		}
		return "", apperr.ErrForbidden
	}
	if unitID == 0 {
		return scopes[0], nil
	}
	u, err := s.areas.Unit(ctx, unitID)
	if err != nil {
		return "", err
	}
	path := u.Path
	if strings.HasPrefix(n.UnitPath, path) {
		path = n.UnitPath
	}
	if !strings.HasPrefix(path, n.UnitPath) {
		return "", apperr.InvalidField("unit_id", "Đơn vị này không thuộc địa bàn của thông báo.", "This unit is outside the notice's area.")
	}
	for _, sc := range scopes {
		if strings.HasPrefix(path, sc) {
			return path, nil
		}
	}
	return "", apperr.ErrForbidden
}

// Reach returns the roll-up of notice id over unitID's subtree (0: the
// part of the area p follows). It returns NotFound for an unknown notice
// and Forbidden when p may not follow its reach there.
func (s *Service) Reach(ctx context.Context, p *account.Principal, id, unitID int64) (Reach, error) {
	if p == nil {
		return Reach{}, apperr.ErrUnauthenticated
	}
	n, err := s.get(ctx, id)
	if err != nil {
		return Reach{}, err
	}
	root, err := s.scopeFor(ctx, p, n, unitID)
	if err != nil {
		return Reach{}, err
	}
	r, err := s.rollUp(ctx, n.ID, root, MaxDepth)
	if err != nil || root != n.UnitPath {
		return r, err
	}
	r.Channels, err = s.channelCounts(ctx, n.ID)
	return r, err
}

func (s *Service) channelCounts(ctx context.Context, noticeID int64) (map[string]map[string]int, error) {
	rows, err := s.d.Query(ctx, "SELECT channel, status, COUNT(*) FROM notify_sends WHERE notice_id = ? GROUP BY channel, status", noticeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var ch, st string
		var n int
		if err := rows.Scan(&ch, &st, &n); err != nil {
			return nil, err
		}
		if out[ch] == nil {
			out[ch] = map[string]int{}
		}
		out[ch][st] = n
	}
	return out, rows.Err()
}

// leafCounts returns the counts per household unit path under root.
func (s *Service) leafCounts(ctx context.Context, noticeID int64, root string) (map[string]Counts, error) {
	lo, hi := db.SubtreeRange(root)
	// The units of the subtree (a range of units_path), each one range of
	// the deliveries' key. CROSS JOIN keeps SQLite on that order whatever
	// its statistics say (PostgreSQL plans it as any inner join).
	rows, err := s.d.Query(ctx, `SELECT u.path, COUNT(*), COUNT(d.delivered_at), COUNT(d.seen_at), COUNT(d.acked_at)
		FROM units u CROSS JOIN notice_deliveries d
		WHERE u.path >= ? AND u.path < ? AND d.notice_id = ? AND d.unit_id = u.id GROUP BY u.path`, lo, hi, noticeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Counts{}
	for rows.Next() {
		var path string
		var c Counts
		if err := rows.Scan(&path, &c.Targeted, &c.Delivered, &c.Seen, &c.Acknowledged); err != nil {
			return nil, err
		}
		out[path] = c
	}
	return out, rows.Err()
}

// nodeOf returns the prefix of leaf at depth levels below root.
func nodeOf(root, leaf string, depth int) string {
	i := len(root)
	for d := 0; d < depth; d++ {
		j := strings.IndexByte(leaf[i:], '/')
		if j < 0 {
			return ""
		}
		i += j + 1
	}
	return leaf[:i]
}

func lastID(path string) int64 {
	t := strings.TrimSuffix(path, "/")
	id, _ := strconv.ParseInt(t[strings.LastIndexByte(t, '/')+1:], 10, 64)
	return id
}

func (s *Service) rollUp(ctx context.Context, noticeID int64, root string, maxDepth int) (Reach, error) {
	leaves, err := s.leafCounts(ctx, noticeID, root)
	if err != nil {
		return Reach{}, err
	}
	nodes := map[string]*UnitReach{root: {path: root, UnitID: lastID(root)}}
	for leaf, c := range leaves {
		nodes[root].add(c)
		for d := 1; d <= maxDepth; d++ {
			p := nodeOf(root, leaf, d)
			if p == "" || p == nodeOf(root, leaf, d-1) {
				break
			}
			nd := nodes[p]
			if nd == nil {
				nd = &UnitReach{path: p, UnitID: lastID(p), Depth: d, ParentID: lastID(nodeOf(root, leaf, d-1))}
				nodes[p] = nd
			}
			nd.add(c)
		}
	}
	ids := make([]any, 0, len(nodes))
	for _, nd := range nodes {
		ids = append(ids, nd.UnitID)
	}
	names := map[int64][2]string{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		rows, err := s.d.Query(ctx, "SELECT id, name, level FROM units WHERE id IN ("+placeholders(len(chunk))+")", chunk...)
		if err != nil {
			return Reach{}, err
		}
		for rows.Next() {
			var id int64
			var name, level string
			if err := rows.Scan(&id, &name, &level); err != nil {
				rows.Close()
				return Reach{}, err
			}
			names[id] = [2]string{name, level}
		}
		if err := rows.Close(); err != nil {
			return Reach{}, err
		}
	}
	children := map[string][]*UnitReach{}
	for _, nd := range nodes {
		nd.Name, nd.Level = names[nd.UnitID][0], area.Level(names[nd.UnitID][1])
		nd.Percent.Delivered, nd.Percent.Seen, nd.Percent.Acknowledged = nd.DeliveredPct(), nd.SeenPct(), nd.AckPct()
		if nd.path != root {
			parent := nd.path[:strings.LastIndexByte(strings.TrimSuffix(nd.path, "/"), '/')+1]
			children[parent] = append(children[parent], nd)
		}
	}
	out := Reach{NoticeID: noticeID, UnitID: lastID(root), Counts: nodes[root].Counts, ByUnit: []UnitReach{}}
	var walk func(nd *UnitReach)
	walk = func(nd *UnitReach) {
		out.ByUnit = append(out.ByUnit, *nd)
		kids := children[nd.path]
		sort.Slice(kids, func(i, j int) bool { return naturalLess(kids[i].Name, kids[j].Name) })
		for _, k := range kids {
			walk(k)
		}
	}
	walk(nodes[root])
	return out, nil
}

// naturalLess orders "Tổ 2" before "Tổ 10".
func naturalLess(a, b string) bool {
	ta, na := splitNum(a)
	tb, nb := splitNum(b)
	if ta != tb {
		return ta < tb
	}
	if na != nb {
		return na < nb
	}
	return a < b
}

func splitNum(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, _ := strconv.Atoi(s[i:])
	return s[:i], n
}
