package area

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/trothu/trothu/internal/vnadmin"
	"github.com/trothu/trothu/internal/vntext"
)

// The national source files, by their flat (embedded) names. An operator's
// directory may hold them flat ("units_2025_wards.csv", optionally .gz) or
// in the dataset's own layout ("units_2025/wards.csv").
const (
	fileProvinces    = "units_2025_provinces.csv"
	fileWards        = "units_2025_wards.csv"
	fileOldProvinces = "units_pre2025_provinces.csv"
	fileOldDistricts = "units_pre2025_districts.csv"
	fileOldWards     = "units_pre2025_wards.csv"
	fileProvinceMap  = "mapping_2025_province_old_to_new.csv"
	fileWardMap      = "mapping_2025_ward_old_to_new.csv"
)

// reformDate is the day the 2025 reform took effect: the first day of the
// current units and the day after the last of the old ones.
const reformDate = "2025-07-01"

// maxRowErrors caps a report: past it the file is clearly the wrong one.
const maxRowErrors = 1000

type unitKey struct {
	level   Level
	code    string
	current bool
}

func (k unitKey) String() string {
	s := string(k.level) + " " + k.code
	if !k.current {
		s += " (cũ)"
	}
	return s
}

var rootKey = unitKey{LevelCountry, "VN", true}

// natUnit is one unit as the source files describe it.
type natUnit struct {
	key                          unitKey
	parent                       unitKey
	name, fullName, kind, nameEN string
	validFrom, validTo           string
	file                         string
	line                         int
}

type natLink struct {
	old, new  unitKey
	mergeType string
}

// nationalData is the validated content of the source files, parents
// before children.
type nationalData struct {
	units   []natUnit
	links   []natLink
	skipped int
}

// csvTable is one parsed source file: its header and its rows with their
// line numbers.
type csvTable struct {
	file  string
	cols  map[string]int
	rows  [][]string
	lines []int
}

func (t *csvTable) get(row []string, col string) string {
	i, ok := t.cols[col]
	if !ok || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// openSource opens the named source file from src, or from the embedded
// copy when src is nil.
func openSource(src fs.FS, name string) (io.ReadCloser, error) {
	if src == nil {
		return vnadmin.Open(name)
	}
	dir, base, _ := strings.Cut(name, "_")  // "units", "2025_provinces.csv"
	year, base, _ := strings.Cut(base, "_") // "2025", "provinces.csv"
	nested := dir + "_" + year + "/" + base // "units_2025/provinces.csv"
	for _, p := range []string{name, name + ".gz", nested, nested + ".gz"} {
		f, err := src.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !strings.HasSuffix(p, ".gz") {
			return f, nil
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("%s: %w", p, err), f.Close())
		}
		return gzipFile{zr, f}, nil
	}
	return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
}

type gzipFile struct {
	zr *gzip.Reader
	f  io.Closer
}

func (g gzipFile) Read(p []byte) (int, error) { return g.zr.Read(p) }
func (g gzipFile) Close() error               { return errors.Join(g.zr.Close(), g.f.Close()) }

// natReader reads and checks the source files, collecting row errors.
type natReader struct {
	src  fs.FS
	errs []RowError
	// rejected holds units whose rows were bad: rows that refer to them are
	// not reported again.
	rejected map[unitKey]bool
}

func (r *natReader) fail(file string, line int, field, format string, args ...any) {
	if len(r.errs) < maxRowErrors {
		r.errs = append(r.errs, RowError{File: file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
}

// table reads one file and checks that it has the required columns. It
// returns nil (after recording why) when the file cannot be used at all.
func (r *natReader) table(name string, required ...string) *csvTable {
	f, err := openSource(r.src, name)
	if err != nil {
		r.fail(name, 0, "", "Không đọc được tệp: %v", err)
		return nil
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		r.fail(name, 1, "", "Không đọc được dòng tiêu đề: %v", err)
		return nil
	}
	t := &csvTable{file: name, cols: make(map[string]int, len(head))}
	for i, h := range head {
		t.cols[strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))] = i
	}
	ok := true
	for _, c := range required {
		if _, found := t.cols[c]; !found {
			r.fail(name, 1, c, "Thiếu cột %q", c)
			ok = false
		}
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			r.fail(name, line, "", "Dòng không đúng định dạng CSV: %v", err)
			return nil
		}
		if len(row) != len(head) {
			r.fail(name, line, "", "Dòng có %d cột, tiêu đề có %d", len(row), len(head))
			continue
		}
		t.rows = append(t.rows, row)
		t.lines = append(t.lines, line)
	}
	if !ok {
		return nil
	}
	return t
}

var codeLen = map[Level]int{LevelProvince: 2, LevelDistrict: 3, LevelCommune: 5}

var levelNoun = map[Level]string{LevelProvince: "tỉnh", LevelDistrict: "huyện", LevelCommune: "xã"}

func validCode(level Level, code string) bool {
	if len(code) != codeLen[level] {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// unitsFrom reads the units of one file. parentCol names the column holding
// the parent's code (empty: the parent is the root); parentLevel and
// current give the parent's key.
func (r *natReader) unitsFrom(t *csvTable, level Level, current bool, parentCol string, parentLevel Level, seen map[unitKey]int, out []natUnit) []natUnit {
	if t == nil {
		return out
	}
	for i, row := range t.rows {
		line := t.lines[i]
		code := t.get(row, "code")
		u := natUnit{
			key:      unitKey{level, code, current},
			parent:   rootKey,
			name:     cleanText(t.get(row, "name")),
			fullName: cleanText(t.get(row, "full_name")),
			kind:     cleanText(t.get(row, "type")),
			nameEN:   cleanText(t.get(row, "name_en")),
			file:     t.file,
			line:     line,
		}
		if current {
			u.validFrom = reformDate
		} else {
			u.validTo = reformDate
		}
		bad := false
		if !validCode(level, code) {
			r.fail(t.file, line, "code", "Mã %s phải gồm %d chữ số, không phải %q", levelNoun[level], codeLen[level], code)
			bad = true
		}
		if u.name == "" {
			r.fail(t.file, line, "name", "Tên đơn vị không được để trống")
			bad = true
		}
		if u.fullName == "" {
			u.fullName = u.name
		}
		if parentCol != "" {
			pc := t.get(row, parentCol)
			u.parent = unitKey{parentLevel, pc, current}
			if r.rejected[u.parent] {
				bad = true
			} else if _, ok := seen[u.parent]; !ok {
				r.fail(t.file, line, parentCol, "Không có %s mã %q trong danh sách %s", levelNoun[parentLevel], pc, listName(current))
				bad = true
			}
		}
		if prev, dup := seen[u.key]; dup && !bad {
			r.fail(t.file, line, "code", "Mã %s trùng với dòng %d", code, prev)
			bad = true
		}
		if !bad {
			seen[u.key] = line
			out = append(out, u)
		} else if validCode(level, code) {
			if _, ok := seen[u.key]; !ok {
				r.rejected[u.key] = true
			}
		}
	}
	return out
}

// readNational reads and validates every source file. It returns the data
// and the row errors; the data is usable only when there are none.
func readNational(src fs.FS, say func(string, ...any)) (*nationalData, []RowError) {
	r := &natReader{src: src, rejected: map[unitKey]bool{}}
	say("Đang đọc danh mục đơn vị hành chính")
	unitCols := []string{"code", "name", "full_name", "name_en", "type"}
	provinces := r.table(fileProvinces, unitCols...)
	wards := r.table(fileWards, append(unitCols, "province_code")...)
	oldProvinces := r.table(fileOldProvinces, unitCols...)
	oldDistricts := r.table(fileOldDistricts, append(unitCols, "province_code")...)
	oldWards := r.table(fileOldWards, append(unitCols, "district_code", "province_code")...)
	provinceMap := r.table(fileProvinceMap, "old_province_code", "new_province_code", "merge_type")
	wardMap := r.table(fileWardMap, "old_ward_code", "in_pre2025_list", "new_ward_code_units2025", "merge_type")

	seen := map[unitKey]int{rootKey: 0}
	d := &nationalData{units: []natUnit{{
		key: rootKey, name: "Việt Nam", fullName: "Việt Nam", kind: "Quốc gia", nameEN: "Viet Nam",
	}}}
	d.units = r.unitsFrom(provinces, LevelProvince, true, "", "", seen, d.units)
	d.units = r.unitsFrom(oldProvinces, LevelProvince, false, "", "", seen, d.units)
	d.units = r.unitsFrom(oldDistricts, LevelDistrict, false, "province_code", LevelProvince, seen, d.units)
	d.units = r.unitsFrom(wards, LevelCommune, true, "province_code", LevelProvince, seen, d.units)
	d.units = r.unitsFrom(oldWards, LevelCommune, false, "district_code", LevelDistrict, seen, d.units)

	// An old commune's province must be its district's.
	districtProvince := map[string]string{}
	for _, u := range d.units {
		if u.key.level == LevelDistrict {
			districtProvince[u.key.code] = u.parent.code
		}
	}
	if oldWards != nil {
		for i, row := range oldWards.rows {
			dc, pc := oldWards.get(row, "district_code"), oldWards.get(row, "province_code")
			if want, ok := districtProvince[dc]; ok && pc != "" && pc != want {
				r.fail(oldWards.file, oldWards.lines[i], "province_code", "Huyện %s thuộc tỉnh %s, không phải %s", dc, want, pc)
			}
		}
	}

	d.links = r.links(provinceMap, LevelProvince, "old_province_code", "new_province_code", "", seen, d)
	d.links = r.links(wardMap, LevelCommune, "old_ward_code", "new_ward_code_units2025", "in_pre2025_list", seen, d)
	say("Đã kiểm tra %d đơn vị và %d liên kết cũ → mới", len(d.units), len(d.links))
	return d, r.errs
}

// links reads an old→new mapping file. A row whose old unit is flagged as
// absent from the pre-2025 list (listedCol = "0") is skipped and counted.
func (r *natReader) links(t *csvTable, level Level, oldCol, newCol, listedCol string, seen map[unitKey]int, d *nationalData) []natLink {
	out := d.links
	if t == nil {
		return out
	}
	pairs := map[[2]string]int{}
	for i, row := range t.rows {
		line := t.lines[i]
		oc, nc, mt := t.get(row, oldCol), t.get(row, newCol), t.get(row, "merge_type")
		oldLevel := level
		switch t.get(row, "old_level") {
		case "", "ward":
		case "district": // island districts without communes became special zones
			oldLevel = LevelDistrict
		default:
			r.fail(t.file, line, "old_level", "Cấp cũ phải là ward hoặc district, không phải %q", t.get(row, "old_level"))
			continue
		}
		bad := false
		if !validCode(oldLevel, oc) {
			r.fail(t.file, line, oldCol, "Mã %s phải gồm %d chữ số, không phải %q", levelNoun[oldLevel], codeLen[oldLevel], oc)
			bad = true
		}
		if !validCode(level, nc) {
			r.fail(t.file, line, newCol, "Mã %s phải gồm %d chữ số, không phải %q", levelNoun[level], codeLen[level], nc)
			bad = true
		}
		if mt != "full" && mt != "partial" {
			r.fail(t.file, line, "merge_type", "Kiểu sáp nhập phải là full hoặc partial, không phải %q", mt)
			bad = true
		}
		if bad {
			continue
		}
		l := natLink{old: unitKey{oldLevel, oc, false}, new: unitKey{level, nc, true}, mergeType: mt}
		if r.rejected[l.old] || r.rejected[l.new] {
			continue // the unit's own row is already reported
		}
		if _, ok := seen[l.old]; !ok {
			if listedCol != "" && t.get(row, listedCol) == "0" {
				d.skipped++ // the source itself says the old unit is not in the pre-2025 list
				continue
			}
			r.fail(t.file, line, oldCol, "Không có %s mã %q trong danh sách trước 2025", levelNoun[oldLevel], oc)
			continue
		}
		if _, ok := seen[l.new]; !ok {
			r.fail(t.file, line, newCol, "Không có %s mã %q trong danh sách hiện hành", levelNoun[level], nc)
			continue
		}
		if prev, dup := pairs[[2]string{oc, nc}]; dup {
			r.fail(t.file, line, oldCol, "Liên kết %s → %s trùng với dòng %d", oc, nc, prev)
			continue
		}
		pairs[[2]string{oc, nc}] = line
		out = append(out, l)
	}
	return out
}

func listName(current bool) string {
	if current {
		return "hiện hành"
	}
	return "trước 2025"
}

// foldOf is the stored search key of a unit name.
func foldOf(name string) string { return vntext.Fold(name) }
