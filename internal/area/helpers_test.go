package area

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vnadmin"
)

var testKey = []byte("test-secret-key-of-at-least-32-bytes!")

// readEmbedded returns an embedded national file's records, header first.
func readEmbedded(t testing.TB, name string) [][]string {
	t.Helper()
	r, err := vnadmin.Open(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer r.Close()
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return recs
}

func writeCSV(t testing.TB, recs [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// col returns the index of a header column.
func col(t testing.TB, head []string, name string) int {
	t.Helper()
	for i, h := range head {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %s in %v", name, head)
	return -1
}

var (
	smallOnce sync.Once
	smallFS   fstest.MapFS
)

// smallNational is the national data cut down to Thành phố Hồ Chí Minh:
// the current province 79 with its 168 communes, and the old provinces it
// was formed from (79, 74, 77) with their districts and communes, and the
// links between them. Real rows, only fewer.
func smallNational(t testing.TB) fstest.MapFS {
	t.Helper()
	smallOnce.Do(func() {
		keepNew := map[string]bool{"79": true}
		keepOld := map[string]bool{"79": true, "74": true, "77": true}
		m := fstest.MapFS{}
		filter := func(name string, keep func(head, rec []string) bool) map[string]bool {
			recs := readEmbedded(t, name)
			out := [][]string{recs[0]}
			codes := map[string]bool{}
			for _, r := range recs[1:] {
				if keep(recs[0], r) {
					out = append(out, r)
					codes[r[0]] = true
				}
			}
			m[name] = &fstest.MapFile{Data: writeCSV(t, out)}
			return codes
		}
		by := func(colName string, set map[string]bool) func(h, r []string) bool {
			return func(h, r []string) bool { return set[r[col(t, h, colName)]] }
		}
		filter(fileProvinces, by("code", keepNew))
		wards := filter(fileWards, by("province_code", keepNew))
		filter(fileOldProvinces, by("code", keepOld))
		oldDistricts := filter(fileOldDistricts, by("province_code", keepOld))
		oldWards := filter(fileOldWards, by("province_code", keepOld))
		filter(fileProvinceMap, func(h, r []string) bool {
			return keepOld[r[col(t, h, "old_province_code")]] && keepNew[r[col(t, h, "new_province_code")]]
		})
		filter(fileWardMap, func(h, r []string) bool {
			old := r[col(t, h, "old_ward_code")]
			return (oldWards[old] || oldDistricts[old]) && wards[r[col(t, h, "new_ward_code_units2025")]]
		})
		smallFS = m
	})
	return smallFS
}

// fixture is a database with the small national tree imported.
type fixture struct {
	t     *testing.T
	d     *db.DB
	s     *Service
	ctx   context.Context
	hcmc  Unit // current province 79
	wardA Unit // Phường Tân Định, 26737
	wardB Unit // Phường Sài Gòn, 26740
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, d: d, s: NewService(d, testKey), ctx: context.Background()}
	if _, err := f.s.ImportNational(f.ctx, smallNational(t), nil); err != nil {
		t.Fatalf("import: %v", err)
	}
	f.hcmc = f.unitByCode(LevelProvince, "79")
	f.wardA = f.unitByCode(LevelCommune, "26737")
	f.wardB = f.unitByCode(LevelCommune, "26740")
	return f
}

func (f *fixture) unitByCode(l Level, code string) Unit {
	f.t.Helper()
	u, err := f.s.UnitByCode(f.ctx, l, code)
	if err != nil {
		f.t.Fatalf("UnitByCode(%s, %s): %v", l, code, err)
	}
	return u
}

// principal returns a signed-in account holding role on u.
func principal(accountID int64, role account.Role, u Unit) *account.Principal {
	return &account.Principal{AccountID: accountID, Name: "Người dùng " + string(role), Lang: "vi",
		Grants: []account.Grant{{ID: accountID, Role: role, UnitID: u.ID, UnitPath: u.Path}}}
}

// admin is an administrator of the whole tree below u.
func (f *fixture) official(u Unit) *account.Principal { return principal(1, account.RoleOfficial, u) }

func (f *fixture) createUnit(p *account.Principal, parent Unit, in UnitInput) Unit {
	f.t.Helper()
	u, err := f.s.CreateUnit(f.ctx, p, parent.ID, in)
	if err != nil {
		f.t.Fatalf("CreateUnit(%s under %s): %v", in.Name, parent.FullName, err)
	}
	return u
}

func (f *fixture) createHousehold(p *account.Principal, in HouseholdInput) Household {
	f.t.Helper()
	h, err := f.s.CreateHousehold(f.ctx, p, in)
	if err != nil {
		f.t.Fatalf("CreateHousehold(%+v): %v", in, err)
	}
	return h
}

func (f *fixture) addResident(p *account.Principal, hid int64, in ResidentInput) Resident {
	f.t.Helper()
	r, err := f.s.AddResident(f.ctx, p, hid, in)
	if err != nil {
		f.t.Fatalf("AddResident(%+v): %v", in, err)
	}
	return r
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRow(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// wantCode fails unless err is an *apperr.Error with the given code.
func wantCode(t testing.TB, err error, code apperr.Code) {
	t.Helper()
	if got := apperr.CodeOf(err); got != code {
		t.Fatalf("got error %v (code %q), want code %q", err, got, code)
	}
}

// wantField fails unless err is apperr Invalid naming field.
func wantField(t testing.TB, err error, field string) {
	t.Helper()
	wantCode(t, err, apperr.Invalid)
	if got := apperr.From(err).Field; got != field {
		t.Fatalf("got field %q (%v), want %q", got, err, field)
	}
}

// modified returns a copy of fsys in which fn has changed the records of
// one file.
func modified(t testing.TB, fsys fstest.MapFS, name string, fn func(recs [][]string) [][]string) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	for k, v := range fsys {
		out[k] = v
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out[name] = &fstest.MapFile{Data: writeCSV(t, fn(recs))}
	return out
}

func readAllString(t testing.TB, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(string(b), "\uFEFF")
}
