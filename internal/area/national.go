package area

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
)

// RowError is one bad row of an imported file. Line is 1-based and counts
// the header; Field is the column at fault (empty for the whole row);
// Message is in Vietnamese.
type RowError struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// String formats e as "file:line [field]: message".
func (e RowError) String() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		s += " [" + e.Field + "]"
	}
	return strings.TrimPrefix(s+": "+e.Message, ": ")
}

// RowErrors is the cause carried by the Invalid error an import returns when
// rows are bad; errors.As finds it.
type RowErrors []RowError

// Error lists the first few rows.
func (r RowErrors) Error() string {
	var b strings.Builder
	for i, e := range r {
		if i == 5 {
			fmt.Fprintf(&b, "; … %d more", len(r)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.String())
	}
	return b.String()
}

// sortRowErrors orders errors by line within each file, files in the order
// they were first reported.
func sortRowErrors(errs []RowError) {
	rank := map[string]int{}
	for _, e := range errs {
		if _, ok := rank[e.File]; !ok {
			rank[e.File] = len(rank)
		}
	}
	slices.SortStableFunc(errs, func(a, b RowError) int {
		if c := cmp.Compare(rank[a.File], rank[b.File]); c != 0 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	})
}

// rowsInvalid sorts errs and returns the Invalid error that carries them.
func rowsInvalid(errs []RowError) error {
	sortRowErrors(errs)
	return apperr.Wrap(RowErrors(errs), apperr.Invalid,
		fmt.Sprintf("Dữ liệu có %d dòng lỗi; chưa có gì được nhập.", len(errs)),
		fmt.Sprintf("The data has %d bad rows; nothing was imported.", len(errs)))
}

// ImportCounts tells what an import did to one kind of row.
type ImportCounts struct {
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Deleted   int `json:"deleted,omitempty"` // successor links no longer in the data
}

func (c ImportCounts) changed() bool { return c.Inserted+c.Updated+c.Deleted > 0 }

// ImportReport is the outcome of ImportNational.
type ImportReport struct {
	Country      ImportCounts `json:"country"`
	Provinces    ImportCounts `json:"provinces"`     // current (34)
	Communes     ImportCounts `json:"communes"`      // current (3,321)
	OldProvinces ImportCounts `json:"old_provinces"` // before 2025-07-01 (63)
	OldDistricts ImportCounts `json:"old_districts"` // (696)
	OldCommunes  ImportCounts `json:"old_communes"`  // (10,035)
	Successors   ImportCounts `json:"successors"`    // old → new links
	// SkippedLinks counts mapping rows whose old commune the source itself
	// marks as absent from the pre-2025 list (in_pre2025_list = 0).
	SkippedLinks int        `json:"skipped_links"`
	Errors       []RowError `json:"errors,omitempty"`
}

// Changed reports whether the import changed anything.
func (r ImportReport) Changed() bool {
	for _, c := range []ImportCounts{r.Country, r.Provinces, r.Communes, r.OldProvinces, r.OldDistricts, r.OldCommunes, r.Successors} {
		if c.changed() {
			return true
		}
	}
	return false
}

func (r *ImportReport) counts(k unitKey) *ImportCounts {
	switch {
	case k.level == LevelCountry:
		return &r.Country
	case k.level == LevelProvince && k.current:
		return &r.Provinces
	case k.level == LevelProvince:
		return &r.OldProvinces
	case k.level == LevelDistrict:
		return &r.OldDistricts
	case k.current:
		return &r.Communes
	default:
		return &r.OldCommunes
	}
}

// ImportNational loads the national administrative units into the tree:
// one root (Việt Nam), the 34 provinces and 3,321 communes in force since
// 2025-07-01, the 63 provinces, 696 districts and 10,035 communes before it
// (ValidTo "2025-07-01", also under the root), and the old → new successor
// links. src nil reads the copy embedded in the binary; otherwise src holds
// the same files, flat ("units_2025_wards.csv", optionally gzipped) or in the
// dataset's layout ("units_2025/wards.csv").
//
// Units are matched by (level, code, current or old), so a re-run on the same
// data changes nothing and reports every row unchanged. Every row is checked
// before anything is written; if any is bad ImportNational writes nothing
// and returns an apperr Invalid error wrapping RowErrors, with the same rows
// in the report. Everything is written in one transaction. progress, if not
// nil, receives Vietnamese progress messages.
func (s *Service) ImportNational(ctx context.Context, src fs.FS, progress func(msg string)) (ImportReport, error) {
	say := func(format string, args ...any) {
		if progress != nil {
			progress(fmt.Sprintf(format, args...))
		}
	}
	data, errs := readNational(src, say)
	if len(errs) > 0 {
		say("Có %d dòng lỗi; không nhập gì", len(errs))
		err := rowsInvalid(errs)
		return ImportReport{Errors: errs}, err
	}
	var rep ImportReport
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		rep = ImportReport{SkippedLinks: data.skipped}
		w := &natWriter{ctx: ctx, tx: tx, rep: &rep, now: db.Now(), say: say}
		if err := w.write(data); err != nil {
			return err
		}
		if !rep.Changed() {
			return nil
		}
		return audit.Log(ctx, tx, audit.Entry{
			Action: audit.DataImported, SubjectType: "units", Detail: fmt.Sprintf(
				"national units: provinces +%d/~%d, communes +%d/~%d, old +%d/~%d, links +%d/~%d/-%d",
				rep.Provinces.Inserted, rep.Provinces.Updated, rep.Communes.Inserted, rep.Communes.Updated,
				rep.OldProvinces.Inserted+rep.OldDistricts.Inserted+rep.OldCommunes.Inserted,
				rep.OldProvinces.Updated+rep.OldDistricts.Updated+rep.OldCommunes.Updated,
				rep.Successors.Inserted, rep.Successors.Updated, rep.Successors.Deleted),
		})
	})
	if err != nil {
		return ImportReport{}, err
	}
	say("Hoàn tất")
	return rep, nil
}

// dbUnit is a stored national unit as the writer compares it.
type dbUnit struct {
	id, parentID                                 int64
	path, name, fullName, kind, nameEN, nameFold string
	validFrom, validTo                           string
}

type natWriter struct {
	ctx   context.Context
	tx    *db.Tx
	rep   *ImportReport
	now   int64
	say   func(string, ...any)
	units map[unitKey]*dbUnit
	byID  map[int64]*dbUnit
}

// tempPrefix marks rows inserted in this transaction whose path is not yet
// known; real paths start with '/', which sorts before it.
const tempPrefix = "~"

// insertBatch rows per INSERT statement: 12 parameters each, well under
// both engines' limits.
const insertBatch = 400

func (w *natWriter) write(d *nationalData) error {
	if err := w.load(); err != nil {
		return err
	}
	// Parents first: root; provinces; districts; communes.
	for _, level := range []Level{LevelCountry, LevelProvince, LevelDistrict, LevelCommune} {
		var batch []natUnit
		for _, u := range d.units {
			if u.key.level == level {
				batch = append(batch, u)
			}
		}
		w.say("Đang ghi %d đơn vị cấp %s", len(batch), strings.ToLower(level.Label("vi")))
		if err := w.upsertLevel(batch); err != nil {
			return err
		}
	}
	w.say("Đang ghi %d liên kết cũ → mới", len(d.links))
	return w.upsertLinks(d.links)
}

func (w *natWriter) load() error {
	rows, err := w.tx.Query(w.ctx, `SELECT id, COALESCE(parent_id, 0), path, level, code, CASE WHEN valid_to IS NULL THEN 1 ELSE 0 END,
		name, full_name, kind, name_en, name_fold, COALESCE(valid_from, ''), COALESCE(valid_to, '')
		FROM units WHERE code IS NOT NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	w.units = make(map[unitKey]*dbUnit, 16000)
	w.byID = make(map[int64]*dbUnit, 16000)
	for rows.Next() {
		var u dbUnit
		var k unitKey
		var cur int
		if err := rows.Scan(&u.id, &u.parentID, &u.path, &k.level, &k.code, &cur, &u.name, &u.fullName, &u.kind, &u.nameEN, &u.nameFold, &u.validFrom, &u.validTo); err != nil {
			return err
		}
		k.current = cur == 1
		w.units[k] = &u
		w.byID[u.id] = &u
	}
	return rows.Err()
}

func (w *natWriter) upsertLevel(batch []natUnit) error {
	var inserts []natUnit
	var parents []int64
	for _, u := range batch {
		var parentID int64
		parentPath := ""
		if u.key != rootKey {
			p := w.units[u.parent] // validated: the parent is in the data, and written first
			parentID, parentPath = p.id, p.path
		}
		want := dbUnit{parentID: parentID, name: u.name, fullName: u.fullName, kind: u.kind, nameEN: u.nameEN,
			nameFold: foldOf(u.name), validFrom: u.validFrom, validTo: u.validTo}
		c := w.rep.counts(u.key)
		have, ok := w.units[u.key]
		switch {
		case !ok:
			inserts = append(inserts, u)
			parents = append(parents, parentID)
			c.Inserted++
		case have.parentID == want.parentID && have.name == want.name && have.fullName == want.fullName &&
			have.kind == want.kind && have.nameEN == want.nameEN && have.nameFold == want.nameFold &&
			have.validFrom == want.validFrom && have.validTo == want.validTo:
			c.Unchanged++
		default:
			if err := w.update(have, want, parentPath); err != nil {
				return err
			}
			c.Updated++
		}
	}
	return w.insert(inserts, parents)
}

func (w *natWriter) update(have *dbUnit, want dbUnit, parentPath string) error {
	if _, err := w.tx.Exec(w.ctx, `UPDATE units SET parent_id = ?, name = ?, full_name = ?, kind = ?, name_en = ?, name_fold = ?,
		valid_from = ?, valid_to = ? WHERE id = ?`,
		nullInt(want.parentID), want.name, want.fullName, want.kind, want.nameEN, want.nameFold,
		nullStr(want.validFrom), nullStr(want.validTo), have.id); err != nil {
		return err
	}
	want.id, want.path = have.id, have.path
	if want.parentID != have.parentID {
		want.path = parentPath + strconv.FormatInt(have.id, 10) + "/"
		if err := repath(w.ctx, w.tx, have.path, want.path); err != nil {
			return err
		}
		// Units already loaded under the old path keep stale paths in the
		// map; only their parent ids are used from here on, except for
		// parents of later levels, so refresh those.
		for _, u := range w.units {
			if strings.HasPrefix(u.path, have.path) && u != have {
				u.path = want.path + u.path[len(have.path):]
			}
		}
	}
	*have = want
	return nil
}

// insert writes new units with temporary paths, then sets every path from
// the parent's in one statement and reads the new ids back.
func (w *natWriter) insert(us []natUnit, parents []int64) error {
	if len(us) == 0 {
		return nil
	}
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	head := "INSERT INTO units(parent_id, path, level, code, name, full_name, kind, name_en, name_fold, valid_from, valid_to, created_at) VALUES "
	full, err := w.tx.Prepare(w.ctx, head+strings.TrimSuffix(strings.Repeat(row+",", insertBatch), ","))
	if err != nil {
		return err
	}
	defer full.Close()
	temp := func(k unitKey) string {
		c := "0"
		if k.current {
			c = "1"
		}
		return tempPrefix + string(k.level) + "/" + k.code + "/" + c
	}
	for start := 0; start < len(us); start += insertBatch {
		end := min(start+insertBatch, len(us))
		args := make([]any, 0, (end-start)*12)
		for i := start; i < end; i++ {
			u := us[i]
			args = append(args, nullInt(parents[i]), temp(u.key), string(u.key.level), u.key.code, u.name, u.fullName,
				u.kind, u.nameEN, foldOf(u.name), nullStr(u.validFrom), nullStr(u.validTo), w.now)
		}
		if end-start == insertBatch {
			_, err = full.ExecContext(w.ctx, args...)
		} else {
			_, err = w.tx.Exec(w.ctx, head+strings.TrimSuffix(strings.Repeat(row+",", end-start), ","), args...)
		}
		if err != nil {
			return err
		}
	}
	byTemp := make(map[string]natUnit, len(us))
	for _, u := range us {
		byTemp[temp(u.key)] = u
	}
	rows, err := w.tx.Query(w.ctx, "SELECT id, COALESCE(parent_id, 0), path FROM units WHERE path >= ?", tempPrefix)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, parentID int64
		var tp string
		if err := rows.Scan(&id, &parentID, &tp); err != nil {
			return err
		}
		u, ok := byTemp[tp]
		if !ok {
			return fmt.Errorf("national import: unexpected temporary path %q", tp)
		}
		path := "/"
		if p, ok := w.byID[parentID]; ok {
			path = p.path
		}
		nu := &dbUnit{id: id, parentID: parentID, path: path + strconv.FormatInt(id, 10) + "/",
			name: u.name, fullName: u.fullName, kind: u.kind, nameEN: u.nameEN, nameFold: foldOf(u.name),
			validFrom: u.validFrom, validTo: u.validTo}
		w.units[u.key] = nu
		w.byID[id] = nu
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := rows.Close(); err != nil {
		return err
	}
	_, err = w.tx.Exec(w.ctx, `UPDATE units SET path = COALESCE((SELECT p.path FROM units p WHERE p.id = units.parent_id), '/')
		|| CAST(units.id AS TEXT) || '/' WHERE path >= ?`, tempPrefix)
	return err
}

func (w *natWriter) upsertLinks(links []natLink) error {
	type pair struct{ old, new int64 }
	have := map[pair]string{}
	rows, err := w.tx.Query(w.ctx, "SELECT old_unit_id, new_unit_id, merge_type FROM unit_successors")
	if err != nil {
		return err
	}
	for rows.Next() {
		var p pair
		var mt string
		if err := rows.Scan(&p.old, &p.new, &mt); err != nil {
			rows.Close()
			return err
		}
		have[p] = mt
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	rows.Close()

	c := &w.rep.Successors
	want := make(map[pair]bool, len(links))
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		n := len(args) / 3
		_, err := w.tx.Exec(w.ctx, "INSERT INTO unit_successors(old_unit_id, new_unit_id, merge_type) VALUES "+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?),", n), ","), args...)
		args = args[:0]
		return err
	}
	for _, l := range links {
		p := pair{w.units[l.old].id, w.units[l.new].id}
		want[p] = true
		mt, ok := have[p]
		switch {
		case !ok:
			args = append(args, p.old, p.new, l.mergeType)
			c.Inserted++
			if len(args) >= 3*insertBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		case mt == l.mergeType:
			c.Unchanged++
		default:
			if _, err := w.tx.Exec(w.ctx, "UPDATE unit_successors SET merge_type = ? WHERE old_unit_id = ? AND new_unit_id = ?", l.mergeType, p.old, p.new); err != nil {
				return err
			}
			c.Updated++
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for p := range have {
		if want[p] {
			continue
		}
		if _, err := w.tx.Exec(w.ctx, "DELETE FROM unit_successors WHERE old_unit_id = ? AND new_unit_id = ?", p.old, p.new); err != nil {
			return err
		}
		c.Deleted++
	}
	return nil
}

// repath moves everything stored under oldPath to newPath: units and the
// rows of this room that carry a unit path, and role grants.
func repath(ctx context.Context, tx *db.Tx, oldPath, newPath string) error {
	lo, hi := db.SubtreeRange(oldPath)
	for _, t := range []struct{ table, col string }{
		{"units", "path"}, {"households", "unit_path"}, {"residents", "unit_path"},
		{"organisations", "unit_path"}, {"role_grants", "unit_path"},
	} {
		q := "UPDATE " + t.table + " SET " + t.col + " = CAST(? AS TEXT) || substr(" + t.col + ", ?) WHERE " + t.col + " >= ? AND " + t.col + " < ?"
		if _, err := tx.Exec(ctx, q, newPath, len(oldPath)+1, lo, hi); err != nil {
			return fmt.Errorf("repath %s: %w", t.table, err)
		}
	}
	return nil
}
