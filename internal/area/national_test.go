package area

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/vntext"
)

// snapshot digests everything the national import writes, so that a test
// can tell whether anything changed.
func snapshot(t testing.TB, d *db.DB) string {
	t.Helper()
	ctx := context.Background()
	h := sha256.New()
	rows, err := d.Query(ctx, `SELECT id, COALESCE(parent_id, 0), path, level, COALESCE(code, ''), name, full_name, kind, name_en, name_fold,
		COALESCE(valid_from, ''), COALESCE(valid_to, ''), created_at FROM units ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, created int64
		var a, b, c, e, f, g, i, j, k, l string
		if err := rows.Scan(&id, &parent, &a, &b, &c, &e, &f, &g, &i, &j, &k, &l, &created); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(h, id, parent, a, b, c, e, f, g, i, j, k, l, created)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var links, audits int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM unit_successors").Scan(&links); err != nil {
		t.Fatal(err)
	}
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log").Scan(&audits); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(h, links, audits)
	return fmt.Sprintf("%x", h.Sum(nil))
}

type levelCount struct {
	level   Level
	current bool
	n       int
}

func levelCounts(t testing.TB, d *db.DB) []levelCount {
	t.Helper()
	rows, err := d.Query(context.Background(), `SELECT level, CASE WHEN valid_to IS NULL THEN 1 ELSE 0 END, COUNT(*)
		FROM units GROUP BY level, CASE WHEN valid_to IS NULL THEN 1 ELSE 0 END ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []levelCount
	for rows.Next() {
		var c levelCount
		var cur int
		if err := rows.Scan(&c.level, &cur, &c.n); err != nil {
			t.Fatal(err)
		}
		c.current = cur == 1
		out = append(out, c)
	}
	return out
}

// checkPaths verifies every unit's path is its parent's plus its own id,
// and that names are stored NFC with name_fold = Fold(name).
func checkPaths(t testing.TB, d *db.DB) {
	t.Helper()
	rows, err := d.Query(context.Background(), `SELECT c.id, c.path, COALESCE(p.path, ''), c.name, c.name_fold FROM units c LEFT JOIN units p ON p.id = c.parent_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var path, parentPath, name, fold string
		if err := rows.Scan(&id, &path, &parentPath, &name, &fold); err != nil {
			t.Fatal(err)
		}
		want := parentPath + strconv.FormatInt(id, 10) + "/"
		if parentPath == "" {
			want = "/" + strconv.FormatInt(id, 10) + "/"
		}
		if path != want {
			t.Fatalf("unit %d: got path %q, want %q", id, path, want)
		}
		if !norm.NFC.IsNormalString(name) || fold != vntext.Fold(name) {
			t.Fatalf("unit %d: name %q fold %q: want NFC and Fold(name)", id, name, fold)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no units")
	}
}

func TestImportNationalSmall(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewService(d, testKey)
		var msgs []string
		rep, err := s.ImportNational(ctx, smallNational(t), func(m string) { msgs = append(msgs, m) })
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			t.Error("got no progress messages")
		}
		want := ImportReport{Country: ImportCounts{Inserted: 1}, Provinces: ImportCounts{Inserted: 1}, OldProvinces: ImportCounts{Inserted: 3},
			OldDistricts: ImportCounts{Inserted: 38}, Communes: ImportCounts{Inserted: 168}, OldCommunes: ImportCounts{Inserted: 441}}
		rep.Successors, rep.SkippedLinks = ImportCounts{}, 0
		if fmt.Sprint(rep) != fmt.Sprint(want) {
			t.Fatalf("got report %+v, want %+v", rep, want)
		}
		checkPaths(t, d)
		root, err := s.Root(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if root.Code != "VN" || root.Name != "Việt Nam" || root.Kind != "Quốc gia" || root.Path != "/"+strconv.FormatInt(root.ID, 10)+"/" {
			t.Fatalf("got root %+v", root)
		}
		before := snapshot(t, d)
		rep2, err := s.ImportNational(ctx, smallNational(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep2.Changed() || rep2.Communes.Unchanged != 168 || rep2.OldCommunes.Unchanged != 441 || rep2.Successors.Unchanged == 0 {
			t.Fatalf("re-run: got %+v, want everything unchanged", rep2)
		}
		if after := snapshot(t, d); after != before {
			t.Fatal("re-run changed the database")
		}

		// A rename in the source updates that unit only.
		renamed := modified(t, smallNational(t), fileWards, func(recs [][]string) [][]string {
			for _, r := range recs[1:] {
				if r[0] == "26740" {
					r[1], r[2] = "Sài Gòn Mới", "Phường Sài Gòn Mới"
				}
			}
			return recs
		})
		rep3, err := s.ImportNational(ctx, renamed, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep3.Communes.Updated != 1 || rep3.Communes.Unchanged != 167 || rep3.Communes.Inserted != 0 {
			t.Fatalf("rename: got communes %+v, want 1 updated", rep3.Communes)
		}
		u, err := s.UnitByCode(ctx, LevelCommune, "26740")
		if err != nil || u.Name != "Sài Gòn Mới" {
			t.Fatalf("got %+v, %v; want the new name", u, err)
		}
	})
}

func TestImportNationalBadRowsChangeNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		before := snapshot(t, d)
		var firstLine, secondLine int
		bad := modified(t, smallNational(t), fileWards, func(recs [][]string) [][]string {
			// Line numbers count the header as line 1: recs[i] is on line i+1.
			recs[3][col(t, recs[0], "province_code")] = "7X" // no such province
			recs[10][1] = "   "                              // empty name
			recs[20][1] = "Đổi tên"                          // a good change that must not be applied either
			firstLine, secondLine = 4, 11
			return recs
		})
		rep, err := f.s.ImportNational(f.ctx, bad, nil)
		wantCode(t, err, apperr.Invalid)
		var re RowErrors
		if !errors.As(err, &re) {
			t.Fatalf("got %T %v, want RowErrors in the chain", err, err)
		}
		got := fmt.Sprint(rep.Errors)
		if len(rep.Errors) != 2 || rep.Errors[0].Line != firstLine || rep.Errors[0].Field != "province_code" ||
			rep.Errors[1].Line != secondLine || rep.Errors[1].Field != "name" || rep.Errors[0].File != fileWards {
			t.Fatalf("got errors %s, want lines %d (province_code) and %d (name) of %s", got, firstLine, secondLine, fileWards)
		}
		if !strings.Contains(rep.Errors[1].Message, "không được để trống") {
			t.Errorf("got message %q, want a Vietnamese explanation", rep.Errors[1].Message)
		}
		if after := snapshot(t, d); after != before {
			t.Fatal("a rejected import changed the database")
		}

		// A commune whose old district does not exist, and a duplicate code.
		dupLine := 0
		bad2 := modified(t, smallNational(t), fileOldWards, func(recs [][]string) [][]string {
			recs[2][col(t, recs[0], "district_code")] = "999"
			recs = append(recs, slices.Clone(recs[5]))
			dupLine = len(recs)
			return recs
		})
		rep, err = f.s.ImportNational(f.ctx, bad2, nil)
		wantCode(t, err, apperr.Invalid)
		if len(rep.Errors) != 2 || rep.Errors[0].Line != 3 || rep.Errors[0].Field != "district_code" ||
			rep.Errors[1].Line != dupLine || rep.Errors[1].Field != "code" || !strings.Contains(rep.Errors[1].Message, "dòng 6") {
			t.Fatalf("got %v, want a missing parent on line 3 and a duplicate of line 6 on line %d", rep.Errors, dupLine)
		}
		if after := snapshot(t, d); after != before {
			t.Fatal("a rejected import changed the database")
		}

		// A malformed code in a mapping file.
		bad3 := modified(t, smallNational(t), fileWardMap, func(recs [][]string) [][]string {
			recs[7][col(t, recs[0], "old_ward_code")] = "2673X"
			return recs
		})
		rep, err = f.s.ImportNational(f.ctx, bad3, nil)
		wantCode(t, err, apperr.Invalid)
		if len(rep.Errors) != 1 || rep.Errors[0].Line != 8 || !strings.Contains(rep.Errors[0].Message, "phải gồm 5 chữ số") {
			t.Fatalf("got %v, want line 8: a code of 5 digits", rep.Errors)
		}
		if after := snapshot(t, d); after != before {
			t.Fatal("a rejected import changed the database")
		}
	})
}

func TestImportNationalSourceLayouts(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	s := NewService(d, testKey)
	nested := fstest.MapFS{}
	for name, file := range smallNational(t) {
		dir, rest, _ := strings.Cut(name, "_")
		year, base, _ := strings.Cut(rest, "_")
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		if _, err := zw.Write(file.Data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		nested[dir+"_"+year+"/"+base+".gz"] = &fstest.MapFile{Data: gz.Bytes()}
	}
	rep, err := s.ImportNational(context.Background(), nested, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Communes.Inserted != 168 {
		t.Fatalf("got %d communes, want 168", rep.Communes.Inserted)
	}
	_, err = s.ImportNational(context.Background(), fstest.MapFS{}, nil)
	wantCode(t, err, apperr.Invalid)
	var re RowErrors
	if !errors.As(err, &re) || !strings.Contains(re[0].Message, "Không đọc được") {
		t.Fatalf("got %v, want missing files reported", err)
	}
}

// TestImportNationalFull imports the whole embedded dataset once per engine
// (the other tests use the HCMC slice).
func TestImportNationalFull(t *testing.T) {
	if testing.Short() {
		t.Skip("full national import skipped in -short mode")
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewService(d, testKey)
		start := time.Now()
		rep, err := s.ImportNational(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("national import on %s: %v", d.Dialect, time.Since(start).Round(time.Millisecond))
		want := []levelCount{
			{LevelCommune, false, 10035}, {LevelCommune, true, 3321}, {LevelCountry, true, 1},
			{LevelDistrict, false, 696}, {LevelProvince, false, 63}, {LevelProvince, true, 34},
		}
		if got := levelCounts(t, d); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		// 10,604 commune links less the 12 whose old commune the source marks
		// as not in the pre-2025 list, and 63 province links.
		if rep.Successors.Inserted != 10604-12+63 || rep.SkippedLinks != 12 {
			t.Errorf("got %d links and %d skipped, want %d and 12", rep.Successors.Inserted, rep.SkippedLinks, 10604-12+63)
		}
		checkPaths(t, d)

		before := snapshot(t, d)
		start = time.Now()
		rep, err = s.ImportNational(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("national re-import on %s: %v", d.Dialect, time.Since(start).Round(time.Millisecond))
		if rep.Changed() || rep.OldCommunes.Unchanged != 10035 {
			t.Fatalf("re-run: got %+v, want nothing changed", rep)
		}
		if snapshot(t, d) != before {
			t.Fatal("re-run changed the database")
		}
		checkResolveAgainstMapping(t, s)
	})
}

// checkResolveAgainstMapping derives expectations from mapping_2025: the
// old HCMC ward 26734 (Phường Tân Định, Quận 1) and the first old commune
// that was split among several new ones.
func checkResolveAgainstMapping(t *testing.T, s *Service) {
	ctx := context.Background()
	recs := readEmbedded(t, fileWardMap)
	oc, nc := col(t, recs[0], "old_ward_code"), col(t, recs[0], "new_ward_code_units2025")
	succ := map[string][]string{}
	for _, r := range recs[1:] {
		succ[r[oc]] = append(succ[r[oc]], r[nc])
	}
	current := map[string]bool{}
	for _, r := range readEmbedded(t, fileWards)[1:] {
		current[r[0]] = true
	}
	split := ""
	for _, r := range recs[1:] {
		if len(succ[r[oc]]) > 1 && !current[r[oc]] {
			split = r[oc]
			break
		}
	}
	for _, old := range []string{"26734", split} {
		want := slices.Clone(succ[old])
		slices.Sort(want)
		want = slices.Compact(want)
		got, err := s.Resolve(ctx, old)
		if err != nil {
			t.Fatalf("Resolve(%s): %v", old, err)
		}
		var codes []string
		for _, u := range got {
			codes = append(codes, u.Code)
			if !u.Current() || u.Level != LevelCommune {
				t.Errorf("Resolve(%s) gave %+v, want current communes", old, u)
			}
		}
		if fmt.Sprint(codes) != fmt.Sprint(want) {
			t.Fatalf("Resolve(%s): got %v, want %v (from mapping_2025)", old, codes, want)
		}
		if !current[old] {
			_, err := s.UnitByCode(ctx, LevelCommune, old)
			wantCode(t, err, apperr.NotFound)
		}
	}
	// Hà Giang (02) became part of Tuyên Quang (08).
	got, err := s.Resolve(ctx, "02")
	if err != nil || len(got) != 1 || got[0].Code != "08" {
		t.Fatalf("Resolve(02): got %v, %v; want Tuyên Quang (08)", got, err)
	}
}
