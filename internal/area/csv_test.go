package area

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

func sampleCSV(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/households.csv")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImportHouseholdsCSV(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.official(f.wardA)
		rep, err := f.s.ImportHouseholdsCSV(f.ctx, p, f.wardA.ID, bytes.NewReader(sampleCSV(t)))
		if err != nil {
			t.Fatalf("import: %v (%v)", err, rep.Errors)
		}
		if rep.Households != 4 || rep.Residents != 5 || rep.Units != 4 || len(rep.Errors) != 0 {
			t.Fatalf("got %+v, want 4 households, 5 residents, 4 units", rep)
		}
		kids, err := f.s.Children(f.ctx, f.wardA.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(summaries(kids)); got != "[Khu phố 1:2:2 Khu phố 2:0:1]" {
			t.Fatalf("got units %s", got)
		}
		page, err := f.s.ListHouseholds(f.ctx, p, f.wardA.ID, HouseholdFilter{Query: "HK001"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("got %+v, %v", page, err)
		}
		h, err := f.s.Household(f.ctx, p, page.Items[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if h.UnitName != "Tổ 1" || h.Address != "12 Trần Quang Khải, phường Tân Định" || h.Flags != FlagElderlyAlone ||
			h.HeadName != "Nguyễn Văn Học" || len(h.Residents) != 2 || h.Residents[0].Phone != "+84912345678" ||
			h.Residents[0].BirthYear != 1950 || h.Residents[1].Gender != GenderFemale || h.Residents[0].CitizenIDMasked != "********1234" {
			t.Fatalf("got %+v", h)
		}
		id, err := f.s.RevealCitizenID(f.ctx, p, h.Residents[0].ID)
		if err != nil || id != "079050001234" {
			t.Fatalf("reveal: got %q, %v", id, err)
		}
		page, err = f.s.ListHouseholds(f.ctx, p, f.wardA.ID, HouseholdFilter{Query: "pasteur"})
		if err != nil || len(page.Items) != 1 || page.Items[0].Members != 0 || page.Items[0].UnitID != f.wardA.ID {
			t.Fatalf("household without members: got %+v, %v", page.Items, err)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE action = ?", audit.DataImported+""); n < 1 {
			t.Fatal("the import was not audited")
		}

		// The same file again: everything is already there, nothing is added.
		before := f.count("SELECT COUNT(*) FROM households")
		rep, err = f.s.ImportHouseholdsCSV(f.ctx, p, f.wardA.ID, bytes.NewReader(sampleCSV(t)))
		wantCode(t, err, apperr.Invalid)
		if got := rowErrs(rep.Errors); got != "2:ma_ho 2:cccd 4:ma_ho 4:cccd 6:dia_chi 7:dia_chi" {
			t.Fatalf("re-import: got %s", got)
		}
		if after := f.count("SELECT COUNT(*) FROM households"); after != before {
			t.Fatalf("got %d households, want %d", after, before)
		}
	})
}

func summaries(us []UnitSummary) []string {
	var out []string
	for _, u := range us {
		out = append(out, fmt.Sprintf("%s:%d:%d", u.FullName, u.Children, u.Households))
	}
	return out
}

func rowErrs(errs []RowError) string {
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%d:%s", e.Line, e.Field))
	}
	return strings.Join(out, " ")
}

func TestImportHouseholdsCSVBadRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.official(f.wardA)
		bad := "ma_ho,to,dia_chi,ho_ten,nam_sinh,gioi_tinh,quan_he,so_dien_thoai,cccd,co\n" +
			"A1,Tổ 1,1 Pasteur,Nguyễn Văn A,1960,Nam,Chủ hộ,0912345678,079060001111,\n" + // 2: fine
			"A1,Tổ 1,1 Pasteur,,1990,,,0912345679,,\n" + // 3: no name
			"A2,Tổ 1,2 Pasteur,Trần B,19x0,,,,,\n" + // 4: birth year
			"A3,Tổ 1,3 Pasteur,Trần C,,,,12345,,\n" + // 5: phone
			"A4,Tổ 1,4 Pasteur,Trần D,,,,,079060001111,\n" + // 6: citizen ID used on line 2
			"A5,Tổ 1,5 Pasteur,Trần E,,,,,,vip\n" + // 7: flag
			"A6,Tổ 1,6 Pasteur,Trần F,,Nam,Chủ hộ,,,\n" + // 8: fine
			"A6,Tổ 1,6 Pasteur,Trần G,,Nam,Chủ hộ,,,\n" + // 9: a second head
			"A7,Tổ 1,7 Pasteur,Trần H,,,,,79060001111,\n" + // 10: Excel dropped the leading zero
			"A8,Tổ 1,,Trần I,,,,,,\n" // 11: no address
		unitsBefore := f.count("SELECT COUNT(*) FROM units")
		auditBefore := f.count("SELECT COUNT(*) FROM audit_log")
		rep, err := f.s.ImportHouseholdsCSV(f.ctx, p, f.wardA.ID, strings.NewReader(bad))
		wantCode(t, err, apperr.Invalid)
		var re RowErrors
		if !errors.As(err, &re) || len(re) != len(rep.Errors) {
			t.Fatalf("got %v, want RowErrors matching the report", err)
		}
		want := "3:ho_ten 4:nam_sinh 5:so_dien_thoai 6:cccd 7:co 9:quan_he 10:cccd 11:dia_chi"
		if got := rowErrs(rep.Errors); got != want {
			t.Fatalf("got %s, want %s\n%v", got, want, rep.Errors)
		}
		for _, e := range rep.Errors {
			if e.Message == "" || !strings.ContainsAny(e.Message, "ăâđêôơưáàảãạéèếềíìóòốồớờúùứừýỳ") {
				t.Errorf("line %d: got message %q, want Vietnamese", e.Line, e.Message)
			}
		}
		if n := f.count("SELECT COUNT(*) FROM households"); n != 0 {
			t.Fatalf("got %d households, want none imported", n)
		}
		if n := f.count("SELECT COUNT(*) FROM units"); n != unitsBefore {
			t.Fatalf("got %d units, want %d (no tổ created)", n, unitsBefore)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log"); n != auditBefore {
			t.Fatalf("got %d audit rows, want %d", n, auditBefore)
		}

		// A header without the required columns.
		rep, err = f.s.ImportHouseholdsCSV(f.ctx, p, f.wardA.ID, strings.NewReader("ten,tuoi\nA,1\n"))
		wantCode(t, err, apperr.Invalid)
		if got := rowErrs(rep.Errors); got != "1:dia_chi 1:ho_ten" {
			t.Fatalf("got %s", got)
		}
	})
}

func TestImportHouseholdsCSVExcel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.official(f.wardA)
		kp := f.createUnit(p, f.wardA, UnitInput{Name: "Khu phố 3"})
		f.createUnit(p, kp, UnitInput{Name: "Tổ 5"})
		// Excel in a Vietnamese locale: BOM, semicolons, headers in words,
		// the phone's leading zero dropped, a "Tổ 5" inside a khu phố.
		in := "\uFEFFMã hộ;Tổ dân phố;Địa chỉ;Họ và tên;Năm sinh;Giới tính;Quan hệ với chủ hộ;Số điện thoại;Số CCCD;Đặc điểm\r\n" +
			"X1;to 5;9 Nguyễn Huệ;Đỗ Văn Hùng;12/05/1970;nam;Chủ hộ;912345678;;cach ly\r\n"
		rep, err := f.s.ImportHouseholdsCSV(f.ctx, p, f.wardA.ID, strings.NewReader(in))
		if err != nil || rep.Households != 1 || rep.Units != 0 {
			t.Fatalf("got %+v, %v", rep, err)
		}
		page, err := f.s.ListHouseholds(f.ctx, p, kp.ID, HouseholdFilter{})
		if err != nil || len(page.Items) != 1 || page.Items[0].UnitName != "Tổ 5" || page.Items[0].Flags != FlagQuarantined {
			t.Fatalf("got %+v, %v", page.Items, err)
		}
		ref, err := f.s.ResidentByPhone(f.ctx, "0912345678")
		if err != nil || ref.Name != "Đỗ Văn Hùng" {
			t.Fatalf("got %+v, %v", ref, err)
		}

		// Without the right to create units, an unknown tổ is an error.
		head := principal(7, account.RoleNeighbourhoodHead, f.wardA)
		rep, err = f.s.ImportHouseholdsCSV(f.ctx, head, f.wardA.ID, strings.NewReader("dia_chi,ho_ten,to\n1 Lê Lợi,A,Tổ 99\n"))
		wantCode(t, err, apperr.Invalid)
		if got := rowErrs(rep.Errors); got != "2:to" {
			t.Fatalf("got %s", got)
		}
		_, err = f.s.ImportHouseholdsCSV(f.ctx, principal(8, account.RoleGroupHead, f.wardA), f.wardA.ID, strings.NewReader(""))
		wantCode(t, err, apperr.Forbidden)
		_, err = f.s.ImportHouseholdsCSV(f.ctx, p, f.wardB.ID, strings.NewReader(""))
		wantCode(t, err, apperr.Forbidden)
	})
}

func TestHouseholdsCSVRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		pa, pb := f.official(f.wardA), f.official(f.wardB)
		if _, err := f.s.ImportHouseholdsCSV(f.ctx, pa, f.wardA.ID, bytes.NewReader(sampleCSV(t))); err != nil {
			t.Fatal(err)
		}
		var outA bytes.Buffer
		if err := f.s.ExportHouseholdsCSV(f.ctx, pa, f.wardA.ID, &outA); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(outA.Bytes(), []byte("\uFEFF")) {
			t.Error("the export has no byte-order mark; Excel would misread it")
		}
		a := readAllString(t, bytes.NewReader(outA.Bytes()))
		if strings.Contains(a, "079050001234") || !strings.Contains(a, "********1234") || !strings.Contains(a, "0912345678") || strings.Contains(a, "+84") {
			t.Fatalf("export: want masked citizen IDs and local phones, got\n%s", a)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE action = ?", audit.DataExported); n != 1 {
			t.Fatalf("got %d export audits, want 1", n)
		}

		// Into an empty ward: every household, resident and tổ comes back.
		rep, err := f.s.ImportHouseholdsCSV(f.ctx, pb, f.wardB.ID, bytes.NewReader(outA.Bytes()))
		if err != nil {
			t.Fatalf("re-import: %v %v", err, rep.Errors)
		}
		if rep.Households != 4 || rep.Residents != 5 || rep.Units != 4 {
			t.Fatalf("re-import: got %+v", rep)
		}
		var outB bytes.Buffer
		if err := f.s.ExportHouseholdsCSV(f.ctx, pb, f.wardB.ID, &outB); err != nil {
			t.Fatal(err)
		}
		ra, rb := records(t, outA.Bytes()), records(t, outB.Bytes())
		for _, r := range ra[1:] {
			r[8] = "" // citizen IDs were exported masked, so they are not re-imported
		}
		if fmt.Sprint(ra) != fmt.Sprint(rb) {
			t.Fatalf("round trip differs:\n A %v\n B %v", ra, rb)
		}
		if want := fmt.Sprint(CSVColumns); fmt.Sprint(rb[0]) != want {
			t.Fatalf("got header %v, want %v", rb[0], want)
		}

		err = f.s.ExportHouseholdsCSV(f.ctx, principal(9, account.RoleGroupHead, f.wardA), f.wardA.ID, &bytes.Buffer{})
		wantCode(t, err, apperr.Forbidden)
		err = f.s.ExportHouseholdsCSV(f.ctx, pa, f.wardB.ID, &bytes.Buffer{})
		wantCode(t, err, apperr.Forbidden)
	})
}

func records(t *testing.T, b []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
