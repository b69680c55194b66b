package area

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
)

// The household CSV columns, in the order ExportHouseholdsCSV writes them.
const (
	colCode      = "ma_ho"
	colUnit      = "to"
	colAddress   = "dia_chi"
	colName      = "ho_ten"
	colBirthYear = "nam_sinh"
	colGender    = "gioi_tinh"
	colRelation  = "quan_he"
	colPhone     = "so_dien_thoai"
	colCitizenID = "cccd"
	colFlags     = "co"
)

// CSVColumns lists the household CSV columns in order.
var CSVColumns = []string{colCode, colUnit, colAddress, colName, colBirthYear, colGender, colRelation, colPhone, colCitizenID, colFlags}

// columnAliases maps other header spellings (folded, spaces as "_") to the
// columns: a sheet typed by hand says "Họ và tên", not "ho_ten".
var columnAliases = map[string]string{
	"ma_ho_gia_dinh": colCode, "so_ho": colCode, "to_dan_pho": colUnit, "khu_pho": colUnit, "to_khu_pho": colUnit,
	"don_vi": colUnit, "ho_va_ten": colName, "quan_he_voi_chu_ho": colRelation, "dien_thoai": colPhone, "sdt": colPhone,
	"so_cccd": colCitizenID, "can_cuoc": colCitizenID, "dac_diem": colFlags,
}

// unitSep separates levels in the "to" column: "Khu phố 1 > Tổ 3".
const unitSep = ">"

// maxCSVRows bounds one import (a large ward has ~20,000 households).
const maxCSVRows = 300000

// residentField maps ResidentInput's JSON field names to CSV columns.
var residentField = map[string]string{"full_name": colName, "birth_year": colBirthYear, "gender": colGender,
	"relation": colRelation, "phone": colPhone, "citizen_id": colCitizenID}

// CSVReport is the outcome of ImportHouseholdsCSV.
type CSVReport struct {
	Households int        `json:"households"` // created
	Residents  int        `json:"residents"`  // created
	Units      int        `json:"units"`      // khu phố / tổ created for the "to" column
	Errors     []RowError `json:"errors,omitempty"`
}

// csvRow is one checked resident row.
type csvRow struct {
	line              int
	code, to, address string
	flags             Flags
	resident          *ResidentInput // nil: a household without members
}

// csvHousehold is the rows that form one household.
type csvHousehold struct {
	key               string
	code, to, address string
	flags             Flags
	line              int // first row
	rows              []csvRow
	unitID            int64
	unitPath          string
}

type csvErrs struct{ errs []RowError }

func (c *csvErrs) add(line int, field, msg string) {
	if len(c.errs) < maxRowErrors {
		c.errs = append(c.errs, RowError{Line: line, Field: field, Message: msg})
	}
}

// ImportHouseholdsCSV registers the households in r under unitID, all or
// nothing. The caller needs account.ActImportHouseholds on the unit.
//
// The file is UTF-8 (a byte-order mark, as Excel writes, is skipped), comma-
// or semicolon-separated, with a header row naming the columns in any order
// (unknown columns are ignored; headers may also be written in Vietnamese,
// "Họ và tên", "Số điện thoại"…). See testdata/households.csv. One row per
// resident:
//
//	ma_ho          household code (optional; unique within its unit)
//	to             the khu phố / tổ under unitID where the household lives,
//	               as its name ("Tổ 5") or a chain ("Khu phố 1 > Tổ 5");
//	               empty: unitID itself. Units that do not exist are created
//	               when the caller also has account.ActManageUnits there.
//	dia_chi        address (required on at least one row of the household)
//	ho_ten         full name (required, unless the row only declares an
//	               empty household)
//	nam_sinh       birth year, 1900 to this year (optional)
//	gioi_tinh      Nam / Nữ / Khác (optional)
//	quan_he        relation to the head; "Chủ hộ" marks the head
//	so_dien_thoai  mobile number, 0… or +84… (optional)
//	cccd           12-digit citizen ID (optional; a masked "********1234",
//	               as exported, is ignored)
//	co             flags, separated by , or ;: neo đơn, khuyết tật,
//	               không có điện thoại thông minh, cách ly
//
// Rows with the same ma_ho form one household; rows without one are grouped
// by to and dia_chi. Every row is checked first, against the file and the
// database (codes and addresses already registered, citizen IDs already
// recorded); if any is bad nothing is imported and the error is apperr
// Invalid wrapping RowErrors, with the same rows in the report (line numbers
// count the header as line 1; Field is the column). Otherwise everything is
// written in one transaction and recorded as one audit.DataImported entry.
// It also returns apperr NotFound, Unauthenticated or Forbidden.
func (s *Service) ImportHouseholdsCSV(ctx context.Context, p *account.Principal, unitID int64, r io.Reader) (CSVReport, error) {
	u, err := s.Unit(ctx, unitID)
	if err != nil {
		return CSVReport{}, err
	}
	if err := account.Authorize(p, account.ActImportHouseholds, u.Path); err != nil {
		return CSVReport{}, err
	}
	if !u.Current() || !u.Level.HoldsHouseholds() {
		return CSVReport{}, apperr.InvalidField("unit_id", "Chỉ nhập hộ gia đình vào xã, phường hiện hành hoặc khu phố, tổ trực thuộc.",
			"Households are imported into a commune in force or a unit below it.")
	}
	ce := &csvErrs{}
	rows, err := s.parseHouseholdCSV(r, ce)
	if err != nil {
		return CSVReport{}, err
	}
	households := groupHouseholds(rows, ce)
	if len(ce.errs) > 0 {
		err := rowsInvalid(ce.errs)
		return CSVReport{Errors: ce.errs}, err
	}
	var rep CSVReport
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		rep = CSVReport{}
		imp := &csvImport{s: s, ctx: ctx, tx: tx, p: p, unit: u, errs: &csvErrs{}, rep: &rep}
		if err := imp.run(households); err != nil {
			return err
		}
		if len(imp.errs.errs) > 0 {
			rep.Errors = imp.errs.errs
			return rowsInvalid(imp.errs.errs)
		}
		return audit.Log(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: audit.DataImported,
			SubjectType: "households", SubjectID: strconv.FormatInt(u.ID, 10), UnitPath: u.Path,
			Detail: fmt.Sprintf("csv: %d households, %d residents, %d units", rep.Households, rep.Residents, rep.Units)})
	})
	if err != nil {
		var re RowErrors
		if errors.As(err, &re) {
			return CSVReport{Errors: re}, err
		}
		return CSVReport{}, err
	}
	return rep, nil
}

// sniffComma picks the separator of the header line: Excel in a Vietnamese
// locale writes ';'.
func sniffComma(br *bufio.Reader) rune {
	head, _ := br.Peek(4096) // a short file gives what there is
	if i := strings.IndexByte(string(head), '\n'); i >= 0 {
		head = head[:i]
	}
	best, n := ',', strings.Count(string(head), ",")
	for _, c := range []rune{';', '\t'} {
		if m := strings.Count(string(head), string(c)); m > n {
			best, n = c, m
		}
	}
	return best
}

// headerName turns a header cell into a column name.
func headerName(h string) string {
	f := strings.ReplaceAll(strings.ReplaceAll(foldOf(h), " ", "_"), "-", "_")
	if c, ok := columnAliases[f]; ok {
		return c
	}
	return f
}

// parseHouseholdCSV reads and checks each row on its own. It returns an
// error only when the file cannot be read at all (as apperr Invalid).
func (s *Service) parseHouseholdCSV(r io.Reader, ce *csvErrs) ([]csvRow, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		_, _ = br.Discard(3) // cannot fail: the bytes were peeked
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffComma(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, "Không đọc được dòng tiêu đề của tệp CSV.", "Cannot read the CSV header row.")
	}
	cols := map[string]int{}
	for i, h := range head {
		cols[headerName(h)] = i
	}
	for _, c := range []string{colAddress, colName} {
		if _, ok := cols[c]; !ok {
			ce.add(1, c, "Thiếu cột "+c+".")
		}
	}
	if len(ce.errs) > 0 {
		return nil, nil
	}
	thisYear := s.thisYear()
	var out []csvRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			ce.add(line, "", "Dòng không đúng định dạng CSV (kiểm tra dấu ngoặc kép).")
			return out, nil
		}
		if len(out) >= maxCSVRows {
			ce.add(line, "", "Tệp có quá "+strconv.Itoa(maxCSVRows)+" dòng; hãy chia nhỏ.")
			return out, nil
		}
		get := func(c string) string {
			if i, ok := cols[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue // blank line, as spreadsheets leave at the end
		}
		if !utf8.ValidString(strings.Join(rec, "")) {
			ce.add(line, "", "Dòng không phải văn bản UTF-8: hãy lưu tệp dạng \"CSV UTF-8\".")
			continue
		}
		if row, ok := checkCSVRow(line, get, thisYear, ce); ok {
			out = append(out, row)
		}
	}
	return out, nil
}

func checkCSVRow(line int, get func(string) string, thisYear int, ce *csvErrs) (csvRow, bool) {
	row := csvRow{line: line, code: cleanText(get(colCode)), to: cleanText(get(colUnit)), address: cleanText(get(colAddress))}
	ok := true
	if utf8.RuneCountInString(row.code) > 30 {
		ce.add(line, colCode, "Mã hộ dài quá 30 ký tự.")
		ok = false
	}
	if utf8.RuneCountInString(row.address) > maxAddressLen {
		ce.add(line, colAddress, "Địa chỉ dài quá 200 ký tự.")
		ok = false
	}
	if row.code == "" && row.address == "" {
		ce.add(line, colAddress, "Cần địa chỉ (hoặc mã hộ) để biết cư dân thuộc hộ nào.")
		ok = false
	}
	flags, err := ParseFlags(get(colFlags))
	if err != nil {
		ce.add(line, colFlags, apperr.From(err).VI)
		ok = false
	}
	row.flags = flags
	in := ResidentInput{FullName: get(colName), Gender: Gender(get(colGender)), Relation: get(colRelation), Phone: get(colPhone), CitizenID: get(colCitizenID)}
	if in.FullName == "" && get(colBirthYear)+string(in.Gender)+in.Relation+in.Phone+in.CitizenID == "" {
		return row, ok // a household row without members
	}
	if y := get(colBirthYear); y != "" {
		year, err := parseYear(y)
		if err != nil {
			ce.add(line, colBirthYear, "Năm sinh không hợp lệ: "+y+".")
			ok = false
		}
		in.BirthYear = year
	}
	if strings.Contains(in.CitizenID, "*") {
		in.CitizenID = "" // masked, as exported: nothing to import
	}
	if d := strings.TrimSpace(in.CitizenID); len(d) == 11 && strings.Trim(d, "0123456789") == "" {
		ce.add(line, colCitizenID, "Số CCCD có 11 chữ số; có thể Excel đã bỏ số 0 ở đầu (hãy định dạng cột là Văn bản).")
		ok = false
		in.CitizenID = ""
	}
	if d := strings.TrimSpace(in.Phone); len(d) == 9 && strings.Trim(d, "0123456789") == "" {
		in.Phone = "0" + d // Excel drops the leading zero of 0912…
	}
	checked, err := checkResident(in, thisYear)
	if err != nil {
		ae := apperr.From(err)
		ce.add(line, residentField[ae.Field], ae.VI)
		return row, false
	}
	row.resident = &checked
	return row, ok
}

// parseYear reads "1960", or the year of "12/05/1960" or "1960-05-12".
func parseYear(s string) (int, error) {
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '-' || r == '.' }) {
		if len(part) == 4 {
			return strconv.Atoi(part)
		}
	}
	return strconv.Atoi(s)
}

// groupHouseholds forms households from rows, checking that they agree.
func groupHouseholds(rows []csvRow, ce *csvErrs) []*csvHousehold {
	var out []*csvHousehold
	byKey := map[string]*csvHousehold{}
	ids := map[string]int{}
	for _, row := range rows {
		key := "#" + row.code
		if row.code == "" {
			key = foldOf(row.to) + "|" + foldOf(row.address)
		}
		h, ok := byKey[key]
		if !ok {
			h = &csvHousehold{key: key, code: row.code, to: row.to, address: row.address, line: row.line}
			byKey[key] = h
			out = append(out, h)
		}
		switch {
		case row.address != "" && h.address == "":
			h.address = row.address
		case row.address != "" && foldOf(row.address) != foldOf(h.address):
			ce.add(row.line, colAddress, "Cùng mã hộ "+h.code+" nhưng khác địa chỉ với dòng "+strconv.Itoa(h.line)+".")
		}
		switch {
		case row.to != "" && h.to == "":
			h.to = row.to
		case row.to != "" && foldOf(row.to) != foldOf(h.to):
			ce.add(row.line, colUnit, "Cùng mã hộ "+h.code+" nhưng khác tổ với dòng "+strconv.Itoa(h.line)+".")
		}
		h.flags |= row.flags
		if r := row.resident; r != nil {
			if r.IsHead {
				for _, o := range h.rows {
					if o.resident != nil && o.resident.IsHead {
						ce.add(row.line, colRelation, "Hộ đã có chủ hộ ở dòng "+strconv.Itoa(o.line)+".")
					}
				}
			}
			if r.CitizenID != "" {
				if prev, dup := ids[r.CitizenID]; dup {
					ce.add(row.line, colCitizenID, "Số CCCD trùng với dòng "+strconv.Itoa(prev)+".")
				} else {
					ids[r.CitizenID] = row.line
				}
			}
		}
		h.rows = append(h.rows, row)
	}
	for _, h := range out {
		if h.address == "" {
			ce.add(h.line, colAddress, "Hộ "+h.code+" chưa có địa chỉ.")
		}
	}
	return out
}
