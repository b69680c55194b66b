package area

import (
	"strconv"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

func TestCreateUnitPermission(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		officialA := f.official(f.wardA)
		kp := f.createUnit(officialA, f.wardA, UnitInput{Name: "Khu phố 1"})
		if kp.Path != f.wardA.Path+strconv.FormatInt(kp.ID, 10)+"/" || kp.Level != LevelNeighbourhood || kp.Kind != "Khu phố" || kp.ParentID != f.wardA.ID {
			t.Fatalf("got %+v", kp)
		}
		got, err := f.s.Unit(f.ctx, kp.ID)
		if err != nil || got != kp {
			t.Fatalf("stored: got %+v, %v; want %+v", got, err, kp)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE action = ? AND subject_id = ?", AuditUnitWrite, strconv.FormatInt(kp.ID, 10)); n != 1 {
			t.Fatalf("got %d audit entries, want 1", n)
		}

		_, err = f.s.CreateUnit(f.ctx, officialA, f.wardB.ID, UnitInput{Name: "Khu phố 1"})
		wantCode(t, err, apperr.Forbidden)
		_, err = f.s.CreateUnit(f.ctx, nil, f.wardA.ID, UnitInput{Name: "Khu phố 9"})
		wantCode(t, err, apperr.Unauthenticated)
		police := principal(2, account.RolePolice, f.wardA)
		_, err = f.s.CreateUnit(f.ctx, police, f.wardA.ID, UnitInput{Name: "Khu phố 9"})
		wantCode(t, err, apperr.Forbidden)
		// A city-level official may create in any ward of the city.
		city := f.official(f.hcmc)
		f.createUnit(city, f.wardB, UnitInput{Name: "Khu phố 1"})
	})
}

func TestCreateUnitRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		root, err := f.s.Root(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := principal(9, account.RoleAdmin, root) // may act anywhere, also on retired units
		kp := f.createUnit(p, f.wardA, UnitInput{Kind: "ấp", Name: "Bình Minh"})
		if kp.FullName != "Ấp Bình Minh" || kp.Kind != "Ấp" || kp.Level != LevelNeighbourhood {
			t.Fatalf("got %+v", kp)
		}
		to := f.createUnit(p, kp, UnitInput{Name: "Tổ 1"})
		if to.Level != LevelGroup || to.Kind != "Tổ" || to.FullName != "Tổ 1" {
			t.Fatalf("got %+v", to)
		}
		direct := f.createUnit(p, f.wardB, UnitInput{Kind: "Tổ dân phố", Name: "Tổ dân phố 3"})
		if direct.Level != LevelGroup || direct.FullName != "Tổ dân phố 3" {
			t.Fatalf("group directly under a ward: got %+v", direct)
		}
		var oldWard Unit
		if us, err := f.s.Search(f.ctx, "da kao", 1); err != nil || len(us) != 1 || us[0].Current() {
			t.Fatalf("Search(da kao): %v, %v", us, err)
		} else {
			oldWard = us[0]
		}
		for _, c := range []struct {
			name   string
			parent Unit
			in     UnitInput
			field  string
		}{
			{"neighbourhood under neighbourhood", kp, UnitInput{Level: LevelNeighbourhood, Name: "X"}, "level"},
			{"anything under a group", to, UnitInput{Name: "X"}, "parent_id"},
			{"under a province", f.hcmc, UnitInput{Name: "X"}, "parent_id"},
			{"under a retired ward", oldWard, UnitInput{Name: "X"}, "parent_id"},
			{"unknown kind", f.wardA, UnitInput{Kind: "Quận", Name: "X"}, "kind"},
			{"group kind as neighbourhood", f.wardA, UnitInput{Level: LevelNeighbourhood, Kind: "Tổ dân phố", Name: "X"}, "kind"},
			{"empty name", f.wardA, UnitInput{Name: "  "}, "name"},
			{"long name", f.wardA, UnitInput{Name: strings.Repeat("ă", 101)}, "name"},
		} {
			_, err := f.s.CreateUnit(f.ctx, p, c.parent.ID, c.in)
			if apperr.CodeOf(err) != apperr.Invalid || apperr.From(err).Field != c.field {
				t.Errorf("%s: got %v (field %q), want invalid %s", c.name, err, apperr.From(err).Field, c.field)
			}
		}
		// Names are unique among siblings, ignoring diacritics and case.
		_, err = f.s.CreateUnit(f.ctx, p, f.wardA.ID, UnitInput{Kind: "Ấp", Name: "binh minh"})
		wantCode(t, err, apperr.Conflict)
		_, err = f.s.CreateUnit(f.ctx, p, f.wardA.ID, UnitInput{Kind: "Ấp", Name: "Ấp Bình Minh"})
		wantCode(t, err, apperr.Conflict)
		f.createUnit(p, f.wardB, UnitInput{Kind: "Ấp", Name: "Bình Minh"}) // another ward: fine
	})
}

func TestRenameAndDeleteUnit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.official(f.wardA)
		kp := f.createUnit(p, f.wardA, UnitInput{Name: "Khu phố 1"})
		kp2 := f.createUnit(p, f.wardA, UnitInput{Name: "Khu phố 2"})
		to := f.createUnit(p, kp, UnitInput{Name: "Tổ 1"})

		r, err := f.s.RenameUnit(f.ctx, p, kp.ID, UnitInput{Name: "Khu phố Một"})
		if err != nil || r.FullName != "Khu phố Một" || r.Path != kp.Path {
			t.Fatalf("rename: got %+v, %v", r, err)
		}
		_, err = f.s.RenameUnit(f.ctx, p, kp2.ID, UnitInput{Name: "khu pho mot"})
		wantCode(t, err, apperr.Conflict)
		_, err = f.s.RenameUnit(f.ctx, p, kp.ID, UnitInput{Level: LevelGroup, Name: "Tổ 9"})
		wantField(t, err, "level")
		_, err = f.s.RenameUnit(f.ctx, p, f.wardA.ID, UnitInput{Name: "Phường Mới"})
		wantCode(t, err, apperr.Forbidden) // the ward's parent is the city: not this official's
		_, err = f.s.RenameUnit(f.ctx, f.official(f.hcmc), f.wardA.ID, UnitInput{Name: "Phường Mới"})
		wantCode(t, err, apperr.Invalid) // national units come from the national list
		_, err = f.s.RenameUnit(f.ctx, f.official(f.wardB), kp.ID, UnitInput{Name: "X"})
		wantCode(t, err, apperr.Forbidden)

		// Not empty: a child unit, then a household.
		err = f.s.DeleteUnit(f.ctx, p, kp.ID)
		wantCode(t, err, apperr.Conflict)
		h := f.createHousehold(p, HouseholdInput{UnitID: to.ID, Address: "1 Trần Quang Khải"})
		err = f.s.DeleteUnit(f.ctx, p, to.ID)
		wantCode(t, err, apperr.Conflict)
		if err := f.s.DeleteHousehold(f.ctx, p, h.ID); err != nil {
			t.Fatal(err)
		}
		err = f.s.DeleteUnit(f.ctx, f.official(f.wardB), to.ID)
		wantCode(t, err, apperr.Forbidden)
		if err := f.s.DeleteUnit(f.ctx, p, to.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteUnit(f.ctx, p, kp.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.Unit(f.ctx, kp.ID)
		wantCode(t, err, apperr.NotFound)
		err = f.s.DeleteUnit(f.ctx, p, kp.ID)
		wantCode(t, err, apperr.NotFound)
	})
}
