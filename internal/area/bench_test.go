package area

import (
	"context"
	"fmt"
	"testing"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

// benchWard builds, on a fresh database, the HCMC slice of the national
// tree and one ward with 10 khu phố × 10 tổ holding 20,000 households of 2
// residents each.
func benchWard(b *testing.B, e db.Dialect) (*Service, Unit, Unit, *account.Principal) {
	b.Helper()
	ctx := context.Background()
	d := dbtest.Open(b, e)
	s := NewService(d, testKey)
	if _, err := s.ImportNational(ctx, smallNational(b), nil); err != nil {
		b.Fatal(err)
	}
	ward, err := s.UnitByCode(ctx, LevelCommune, "26737")
	if err != nil {
		b.Fatal(err)
	}
	city, err := s.UnitByCode(ctx, LevelProvince, "79")
	if err != nil {
		b.Fatal(err)
	}
	p := principal(1, account.RoleOfficial, ward)
	var groups []Unit
	for i := 1; i <= 10; i++ {
		kp, err := s.CreateUnit(ctx, p, ward.ID, UnitInput{Name: fmt.Sprintf("Khu phố %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		for j := 1; j <= 10; j++ {
			g, err := s.CreateUnit(ctx, p, kp.ID, UnitInput{Name: fmt.Sprintf("Tổ %d", j)})
			if err != nil {
				b.Fatal(err)
			}
			groups = append(groups, g)
		}
	}
	family := []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"}
	given := []string{"Văn An", "Thị Bình", "Văn Cường", "Thị Dung", "Văn Học", "Thị Hoa", "Minh Khang", "Thu Lan"}
	err = d.Write(ctx, func(tx *db.Tx) error {
		insH, err := tx.Prepare(ctx, `INSERT INTO households(unit_id, unit_path, code, address, address_fold, flags, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, 0) RETURNING id`)
		if err != nil {
			return err
		}
		defer insH.Close()
		insR, err := tx.Prepare(ctx, `INSERT INTO residents(household_id, unit_path, full_name, name_fold, gender, relation, created_at, updated_at)
			VALUES (?, ?, ?, ?, '', '', 0, 0) RETURNING id`)
		if err != nil {
			return err
		}
		defer insR.Close()
		for i := 0; i < 20000; i++ {
			g := groups[i%len(groups)]
			addr := fmt.Sprintf("%d Đường số %d", i, i%37)
			var hid int64
			if err := insH.QueryRowContext(ctx, g.ID, g.Path, fmt.Sprintf("H%05d", i), addr, foldOf(addr), i%16).Scan(&hid); err != nil {
				return err
			}
			for k := 0; k < 2; k++ {
				name := family[(i+k)%len(family)] + " " + given[(i*7+k)%len(given)]
				var rid int64
				if err := insR.QueryRowContext(ctx, hid, g.Path, name, foldOf(name)).Scan(&rid); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// Statistics, as a running database has them (autovacuum; SQLite's
	// optimize at close).
	if err := d.Write(ctx, func(tx *db.Tx) error { _, err := tx.Exec(ctx, "ANALYZE"); return err }); err != nil {
		b.Fatal(err)
	}
	return s, ward, city, p
}

// engines runs fn once per engine; PostgreSQL is skipped when unreachable.
func engines(b *testing.B, fn func(b *testing.B, e db.Dialect)) {
	for _, e := range []db.Dialect{db.SQLite, db.Postgres} {
		b.Run(string(e), func(b *testing.B) { fn(b, e) })
	}
}

func BenchmarkChildrenWithCounts(b *testing.B) { engines(b, benchChildren) }

func BenchmarkListHouseholds(b *testing.B) { engines(b, benchList) }

func benchChildren(b *testing.B, e db.Dialect) {
	s, ward, city, _ := benchWard(b, e)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		unit Unit
		n    int
	}{{"ward_10_children_20k_households", ward, 10}, {"province_168_children_20k_households", city, 168}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				kids, err := s.Children(ctx, c.unit.ID, false)
				if err != nil || len(kids) != c.n {
					b.Fatalf("got %d, %v; want %d", len(kids), err, c.n)
				}
			}
		})
	}
}

func benchList(b *testing.B, e db.Dialect) {
	s, ward, _, p := benchWard(b, e)
	ctx := context.Background()
	mid, err := s.ListHouseholds(ctx, p, ward.ID, HouseholdFilter{Limit: 200})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    HouseholdFilter
	}{
		{"first_page_50", HouseholdFilter{}},
		{"next_page_200", HouseholdFilter{After: mid.Next, Limit: 200}},
		{"flags", HouseholdFilter{Flags: FlagElderlyAlone | FlagDisability}},
		{"search_nguyen_van_hoc", HouseholdFilter{Query: "nguyen van hoc"}},
		{"search_common_word", HouseholdFilter{Query: "nguyen"}},
		{"search_no_match", HouseholdFilter{Query: "khong co ai"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.ListHouseholds(ctx, p, ward.ID, c.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkImportNational imports the whole embedded dataset into a fresh
// database (fresh), and again into one that already has it (rerun).
func BenchmarkImportNational(b *testing.B) {
	engines(b, func(b *testing.B, e db.Dialect) {
		ctx := context.Background()
		b.Run("fresh", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := NewService(dbtest.Open(b, e), testKey)
				b.StartTimer()
				if _, err := s.ImportNational(ctx, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("rerun", func(b *testing.B) {
			s := NewService(dbtest.Open(b, e), testKey)
			if _, err := s.ImportNational(ctx, nil, nil); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rep, err := s.ImportNational(ctx, nil, nil)
				if err != nil || rep.Changed() {
					b.Fatalf("got %+v, %v; want nothing changed", rep, err)
				}
			}
		})
	})
}
