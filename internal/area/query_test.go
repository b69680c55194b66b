package area

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

func TestUnitLookups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		if f.wardA.Name != "Tân Định" || f.wardA.FullName != "Phường Tân Định" || f.wardA.Kind != "Phường" ||
			f.wardA.ValidFrom != reformDate || f.wardA.ValidTo != "" || f.wardA.ParentID != f.hcmc.ID {
			t.Fatalf("got %+v", f.wardA)
		}
		got, err := f.s.Unit(f.ctx, f.wardA.ID)
		if err != nil || got != f.wardA {
			t.Fatalf("Unit: got %+v, %v; want %+v", got, err, f.wardA)
		}
		_, err = f.s.Unit(f.ctx, 999999)
		wantCode(t, err, apperr.NotFound)
		_, err = f.s.UnitByCode(f.ctx, LevelCommune, "26734") // Tân Định of old Quận 1: retired
		wantCode(t, err, apperr.NotFound)
		if !strings.Contains(apperr.From(err).VI, "mã đơn vị cũ") {
			t.Errorf("got %q, want the message to say the code is old", apperr.From(err).VI)
		}
		_, err = f.s.UnitByCode(f.ctx, LevelCommune, "00000")
		wantCode(t, err, apperr.NotFound)

		// The path is not part of the JSON form.
		b, err := json.Marshal(f.wardA)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "path") || !strings.Contains(string(b), `"code":"26737"`) {
			t.Fatalf("got JSON %s", b)
		}

		// Resolve: current codes are themselves; old ones their successors.
		for _, c := range []struct {
			code string
			want []string
		}{
			{"26737", []string{"26737"}},                          // current Tân Định (also Đa Kao's old code)
			{"26734", []string{"26737"}},                          // old Tân Định → Tân Định
			{"26740", []string{"26740"}},                          // current Sài Gòn
			{"79", []string{"79"}},                                // current province
			{"74", []string{"79"}},                                // Bình Dương → TP.HCM
			{"755", []string{"26732"}},                            // Huyện Côn Đảo → Đặc khu Côn Đảo
			{"760", []string{"26737", "26740", "26743", "26758"}}, // old Quận 1: its wards' successors
		} {
			us, err := f.s.Resolve(f.ctx, c.code)
			if err != nil {
				t.Fatalf("Resolve(%s): %v", c.code, err)
			}
			var codes []string
			for _, u := range us {
				codes = append(codes, u.Code)
			}
			if fmt.Sprint(codes) != fmt.Sprint(c.want) {
				t.Fatalf("Resolve(%s): got %v, want %v", c.code, codes, c.want)
			}
		}
		_, err = f.s.Resolve(f.ctx, "1234")
		wantCode(t, err, apperr.Invalid)
		_, err = f.s.Resolve(f.ctx, "99999")
		wantCode(t, err, apperr.NotFound)
	})
}

func TestSubtree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.official(f.wardA)
		kp1 := f.createUnit(p, f.wardA, UnitInput{Name: "Khu phố 1"})
		kp2 := f.createUnit(p, f.wardA, UnitInput{Kind: "Khu phố", Name: "2"})
		to10 := f.createUnit(p, kp1, UnitInput{Name: "Tổ 10"})
		to2 := f.createUnit(p, kp1, UnitInput{Name: "Tổ 2"})
		tdp := f.createUnit(p, f.wardA, UnitInput{Level: LevelGroup, Name: "Tổ dân phố 7"}) // no khu phố above it
		for _, u := range []Unit{to10, to10, to2, kp2, tdp, f.wardA} {
			f.createHousehold(p, HouseholdInput{UnitID: u.ID, Address: fmt.Sprintf("%d Hai Bà Trưng (%d)", u.ID, f.count("SELECT COUNT(*) FROM households"))})
		}
		root, err := f.s.Root(f.ctx)
		if err != nil {
			t.Fatal(err)
		}

		kids, err := f.s.Children(f.ctx, f.wardA.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, k := range kids {
			got += fmt.Sprintf("%s:%s:%d:%d ", k.FullName, k.Level, k.Children, k.Households)
		}
		want := "Khu phố 1:neighbourhood:2:3 Khu phố 2:neighbourhood:0:1 Tổ dân phố 7:group:0:1 "
		if got != want {
			t.Fatalf("Children(ward):\n got %s\nwant %s", got, want)
		}
		kids, err = f.s.Children(f.ctx, kp1.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(kids) != 2 || kids[0].Name != "Tổ 2" || kids[1].Name != "Tổ 10" || kids[1].Households != 2 {
			t.Fatalf("Children(kp1): got %+v, want Tổ 2 then Tổ 10 (natural order) with 2 households", kids)
		}

		// The root: one current province, plus three old ones with history.
		kids, err = f.s.Children(f.ctx, root.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(kids) != 1 || kids[0].Code != "79" || kids[0].Children != 168 || kids[0].Households != 6 {
			t.Fatalf("Children(root): got %+v", kids)
		}
		kids, err = f.s.Children(f.ctx, root.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(kids) != 4 || !kids[0].Current() || kids[1].Current() {
			t.Fatalf("Children(root, historic): got %d, want 4, current first", len(kids))
		}
		_, err = f.s.Children(f.ctx, 999999, false)
		wantCode(t, err, apperr.NotFound)

		anc, err := f.s.Ancestors(f.ctx, to10)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range anc {
			names = append(names, a.Name)
		}
		if fmt.Sprint(names) != "[Việt Nam Hồ Chí Minh Tân Định Khu phố 1]" {
			t.Fatalf("Ancestors: got %v", names)
		}
		if anc, err := f.s.Ancestors(f.ctx, root); err != nil || len(anc) != 0 {
			t.Fatalf("Ancestors(root): got %v, %v; want none", anc, err)
		}
	})
}

func TestSearchUnits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for _, c := range []struct {
			q, wantFirst string
			current      bool
		}{
			{"ben nghe", "Phường Bến Nghé", false}, // only historical: retired in 2025
			{"BẾN NGHÉ", "Phường Bến Nghé", false},
			{"tan dinh", "Phường Tân Định", true},
			{"phuong tan dinh", "Phường Tân Định", true},
			{"sai gon", "Phường Sài Gòn", true},
			{"thu duc", "Phường Thủ Đức", true},
		} {
			got, err := f.s.Search(f.ctx, c.q, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || got[0].FullName != c.wantFirst || got[0].Current() != c.current {
				t.Fatalf("Search(%q): got %+v, want first %s (current %v)", c.q, got, c.wantFirst, c.current)
			}
		}
		got, err := f.s.Search(f.ctx, "xa tan dinh", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			t.Fatal("Search(xa tan dinh): got nothing, want Xã Tân Định (old, Bình Dương)")
		}
		for _, u := range got {
			if u.Kind != "Xã" {
				t.Fatalf("Search(xa tan dinh) gave %s, want only communes (xã)", u.FullName)
			}
		}
		got, err = f.s.Search(f.ctx, "26737", 10)
		if err != nil || len(got) != 2 || got[0].FullName != "Phường Tân Định" || got[1].FullName != "Phường Đa Kao" {
			t.Fatalf("Search(26737): got %+v, %v; want Tân Định (current) then Đa Kao (old)", got, err)
		}
		if got, err := f.s.Search(f.ctx, "  ", 10); err != nil || len(got) != 0 {
			t.Fatalf("empty search: got %v, %v", got, err)
		}
	})
}
