package area

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/vntext"
)

// Unit returns the unit with the given id, current or historical. It returns
// apperr NotFound when there is none.
func (s *Service) Unit(ctx context.Context, id int64) (Unit, error) {
	return unitByID(ctx, s.d, id)
}

func unitByID(ctx context.Context, q querier, id int64) (Unit, error) {
	var u Unit
	err := scanUnit(q.QueryRow(ctx, "SELECT "+unitCols+" FROM units u WHERE u.id = ?", id), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return Unit{}, errUnitNotFound()
	}
	return u, err
}

// Root returns the country unit, the root of the tree. It returns apperr
// NotFound before the national data has been imported.
func (s *Service) Root(ctx context.Context) (Unit, error) {
	var u Unit
	err := scanUnit(s.d.QueryRow(ctx, "SELECT "+unitCols+" FROM units u WHERE u.parent_id IS NULL AND u.level = ? ORDER BY u.id LIMIT 1", LevelCountry), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return Unit{}, apperr.New(apperr.NotFound, "Chưa nhập danh mục đơn vị hành chính.", "The administrative units have not been imported.")
	}
	return u, err
}

// UnitByCode returns the current unit of the given level and GSO code
// (province "79", commune "26737"). It returns apperr NotFound when no unit
// in force has the code, including an old code that the 2025 reform retired:
// Resolve maps those to their successors.
func (s *Service) UnitByCode(ctx context.Context, level Level, code string) (Unit, error) {
	var u Unit
	err := scanUnit(s.d.QueryRow(ctx, "SELECT "+unitCols+" FROM units u WHERE u.level = ? AND u.code = ? AND u.valid_to IS NULL", level, code), &u)
	if !errors.Is(err, sql.ErrNoRows) {
		return u, err
	}
	var n int
	if err := s.d.QueryRow(ctx, "SELECT COUNT(*) FROM units WHERE level = ? AND code = ? AND valid_to IS NOT NULL", level, code).Scan(&n); err != nil {
		return Unit{}, err
	}
	if n > 0 {
		return Unit{}, apperr.New(apperr.NotFound,
			"Mã "+code+" là mã đơn vị cũ, không còn hiệu lực từ 01/07/2025.",
			"Code "+code+" is an old unit code, retired on 1 July 2025.")
	}
	return Unit{}, errUnitNotFound()
}

// Resolve returns the units in force that a GSO code stands for today: a
// current code resolves to its own unit; an old province or commune code to
// its successor(s) after the 2025 reform (several when the old unit was
// split); an old district code to the current communes that took over it
// or its communes. It returns apperr Invalid for a code that is not 2, 3 or 5
// digits and NotFound when the code is unknown.
func (s *Service) Resolve(ctx context.Context, code string) ([]Unit, error) {
	code = strings.TrimSpace(code)
	var level Level
	for l, n := range codeLen {
		if len(code) == n && validCode(l, code) {
			level = l
		}
	}
	if level == "" {
		return nil, apperr.InvalidField("code", "Mã đơn vị phải gồm 2, 3 hoặc 5 chữ số.", "A unit code has 2, 3 or 5 digits.")
	}
	if level != LevelDistrict {
		u, err := s.UnitByCode(ctx, level, code)
		if err == nil {
			return []Unit{u}, nil
		}
		if apperr.CodeOf(err) != apperr.NotFound {
			return nil, err
		}
	}
	// Old commune or province: its own links. Old district: its communes'.
	q := `SELECT DISTINCT ` + unitCols + ` FROM units o
		JOIN unit_successors us ON us.old_unit_id = o.id
		JOIN units u ON u.id = us.new_unit_id
		WHERE o.level = ? AND o.code = ? AND o.valid_to IS NOT NULL AND u.valid_to IS NULL
		ORDER BY 5`
	if level == LevelDistrict {
		q = `SELECT DISTINCT ` + unitCols + ` FROM units d
			JOIN units o ON o.id = d.id OR o.parent_id = d.id
			JOIN unit_successors us ON us.old_unit_id = o.id
			JOIN units u ON u.id = us.new_unit_id
			WHERE d.level = ? AND d.code = ? AND d.valid_to IS NOT NULL AND u.valid_to IS NULL
			ORDER BY 5`
	}
	out, err := s.units(ctx, q, level, code)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errUnitNotFound()
	}
	return out, nil
}

func (s *Service) units(ctx context.Context, q string, args ...any) ([]Unit, error) {
	rows, err := s.d.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Unit{}
	for rows.Next() {
		var u Unit
		if err := scanUnit(rows, &u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Children returns the units directly under parentID, each with the number
// of its own direct children and of the households anywhere in its subtree,
// ordered by code and then name. Historical units are left out unless
// includeHistoric. It returns apperr NotFound when parentID does not exist;
// a unit without children gives an empty list.
func (s *Service) Children(ctx context.Context, parentID int64, includeHistoric bool) ([]UnitSummary, error) {
	if _, err := s.Unit(ctx, parentID); err != nil {
		return nil, err
	}
	current, currentG := "", ""
	if !includeHistoric {
		current, currentG = " AND u.valid_to IS NULL", " AND g.valid_to IS NULL"
	}
	// Two grouped subqueries: grandchildren grouped by their parent, and
	// households joined to each child's path range (one covering-index range
	// scan per child; paths hold only digits and '/', all below '~'). Grouping
	// by (name_fold, id) follows the units_parent index, so SQLite counts
	// without a temporary B-tree (4× faster on 20,000 households).
	q := `SELECT ` + unitCols + `, COALESCE(k.n, 0), COALESCE(hh.n, 0)
		FROM units u
		LEFT JOIN (SELECT g.parent_id AS pid, COUNT(*) AS n FROM units g JOIN units c ON c.id = g.parent_id
			WHERE c.parent_id = ?` + currentG + ` GROUP BY g.parent_id) k ON k.pid = u.id
		LEFT JOIN (SELECT c.id AS cid, COUNT(*) AS n FROM units c JOIN households h
			ON h.unit_path >= c.path AND h.unit_path < c.path || '~'
			WHERE c.parent_id = ? AND c.valid_to IS NULL GROUP BY c.name_fold, c.id) hh ON hh.cid = u.id
		WHERE u.parent_id = ?` + current + ` ORDER BY u.id`
	rows, err := s.d.Query(ctx, q, parentID, parentID, parentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []UnitSummary{}
	for rows.Next() {
		var c UnitSummary
		if err := scanUnit(rows, &c.Unit, &c.Children, &c.Households); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortUnits(out)
	return out, nil
}

// sortUnits orders units in force first, then by code, then by full name
// with numbers compared as numbers: "Tổ 2" before "Tổ 10".
func sortUnits(us []UnitSummary) {
	slices.SortStableFunc(us, func(a, b UnitSummary) int {
		if a.Current() != b.Current() {
			if a.Current() {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.Code, b.Code); c != 0 {
			return c
		}
		return naturalCompare(foldOf(a.FullName), foldOf(b.FullName))
	})
}

func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da != "" && db != "" {
			na, _ := strconv.ParseUint(strings.TrimLeft(da, "0"), 10, 64)
			nb, _ := strconv.ParseUint(strings.TrimLeft(db, "0"), 10, 64)
			if na != nb {
				return cmp.Compare(na, nb)
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// Ancestors returns the units above u, the root first and u's parent last,
// for breadcrumbs. The root's ancestors are an empty list.
func (s *Service) Ancestors(ctx context.Context, u Unit) ([]Unit, error) {
	ids := pathIDs(u.Path)
	if len(ids) > 0 && ids[len(ids)-1] == u.ID {
		ids = ids[:len(ids)-1]
	}
	if len(ids) == 0 {
		return []Unit{}, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	got, err := s.units(ctx, "SELECT "+unitCols+" FROM units u WHERE u.id IN (?"+strings.Repeat(", ?", len(ids)-1)+")", args...)
	if err != nil {
		return nil, err
	}
	sort.Slice(got, func(i, j int) bool { return len(got[i].Path) < len(got[j].Path) })
	return got, nil
}

// kindPrefixes are the folded generic words a query may start with, and
// the kind they stand for: "phuong ben nghe" looks for "Bến Nghé" among
// wards. Longer phrases come first.
var kindPrefixes = []struct{ fold, kind string }{
	{"to dan pho", "Tổ dân phố"}, {"thanh pho", "Thành phố"}, {"thi tran", "Thị trấn"},
	{"thi xa", "Thị xã"}, {"dac khu", "Đặc khu"}, {"khu pho", "Khu phố"}, {"phuong", "Phường"},
	{"tinh", "Tỉnh"}, {"quan", "Quận"}, {"huyen", "Huyện"}, {"xa", "Xã"}, {"ap", "Ấp"}, {"thon", "Thôn"},
}

// Search returns up to limit units (default 20, at most 100) whose name
// contains every word of q, ignoring case, diacritics, tone-mark placement
// and đ/Đ ("ben nghe" finds "Bến Nghé"); a query of digits finds the units
// with that GSO code. A leading generic word such as
// "phường", "xã" or "thành phố" restricts the kind instead. Units in force
// come first, then exact and prefix matches, then shorter names. A query
// without words gives an empty list; Search returns only database errors.
func (s *Service) Search(ctx context.Context, q string, limit int) ([]Unit, error) {
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 100)
	if c := strings.TrimSpace(q); c != "" && strings.Trim(c, "0123456789") == "" {
		// A GSO code: the units in force first, then old ones.
		return s.units(ctx, "SELECT "+unitCols+` FROM units u WHERE u.code = ?
			ORDER BY CASE WHEN u.valid_to IS NULL THEN 0 ELSE 1 END, u.id LIMIT `+strconv.Itoa(limit), c)
	}
	terms := vntext.SearchTerms(q)
	kind := ""
	joined := strings.Join(terms, " ")
	for _, k := range kindPrefixes {
		if rest, ok := strings.CutPrefix(joined, k.fold+" "); ok {
			kind, terms = k.kind, strings.Fields(rest)
			break
		}
	}
	if len(terms) == 0 {
		return []Unit{}, nil
	}
	folded := strings.Join(terms, " ")
	where := make([]string, 0, len(terms)+1)
	args := make([]any, 0, len(terms)+3)
	for _, t := range terms {
		where = append(where, "u.name_fold LIKE ?")
		args = append(args, "%"+t+"%")
	}
	if kind != "" {
		where = append(where, "u.kind = ?")
		args = append(args, kind)
	}
	args = append(args, folded, folded+"%")
	return s.units(ctx, "SELECT "+unitCols+" FROM units u WHERE "+strings.Join(where, " AND ")+`
		ORDER BY CASE WHEN u.valid_to IS NULL THEN 0 ELSE 1 END,
		CASE WHEN u.name_fold = ? THEN 0 WHEN u.name_fold LIKE ? THEN 1 ELSE 2 END,
		length(u.name_fold), u.id LIMIT `+strconv.Itoa(limit), args...)
}
