// Package demo seeds a real HCMC ward (Phường Bến Thành, 26743) with two
// khu phố of three tổ each, about 300 households with generated Vietnamese
// names, and one account for each kind of user, so a newcomer can sign in
// and see everything work. Seeding happens once per database; re-running
// keeps what is there.
package demo

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/group"
	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/request"
	"github.com/trothu/trothu/internal/vntext"
)

// WardCode is the demo ward: Phường Bến Thành, TP. Hồ Chí Minh.
const WardCode = "26743"

// OtherWardCode is a neighbouring ward with one household, to show that a
// resident of one ward sees nothing of another.
const OtherWardCode = "26740" // Phường Sài Gòn

// Password is the demo officials' password, shown on the sign-in page in
// demo mode only.
const Password = "trothu-demo-2026"

// Account is a demo sign-in, as listed by GET /api/v1/demo/accounts.
type Account struct {
	Phone string `json:"phone"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

const settingKey = "demo.accounts"

// Accounts returns the demo accounts, or an empty list when the database
// was not seeded.
func Accounts(ctx context.Context, d *db.DB) ([]Account, error) {
	var raw string
	err := d.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", settingKey).Scan(&raw)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return []Account{}, nil
		}
		return nil, err
	}
	var out []Account
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("demo accounts: %w", err)
	}
	return out, nil
}

// Seeded reports whether the demo data is present.
func Seeded(ctx context.Context, d *db.DB) (bool, error) {
	acc, err := Accounts(ctx, d)
	return len(acc) > 0, err
}

// Env is what seeding needs: the database and the room services.
type Env struct {
	DB       *db.DB
	Areas    *area.Service
	Accounts *account.Service
	Groups   *group.Service
	Notices  *notice.Service
	Requests *request.Service
	Log      *slog.Logger
}

// Seed fills the database with the demo ward unless it is already there,
// then lets each room add its demo content (each room's seeding is
// idempotent on its own). The national tree must have been imported. It
// returns the first error.
func Seed(ctx context.Context, env Env) error {
	ok, err := Seeded(ctx, env.DB)
	if err != nil {
		return err
	}
	if !ok {
		if err := seedWard(ctx, env.DB, env.Areas, env.Accounts, env.Log); err != nil {
			return err
		}
	}
	for _, seed := range []func(context.Context, Env) error{seedGroups, seedNotices, seedRequests} {
		if err := seed(ctx, env); err != nil {
			return err
		}
	}
	return nil
}

func seedWard(ctx context.Context, d *db.DB, areas *area.Service, accounts *account.Service, log *slog.Logger) error {
	root, err := areas.Root(ctx)
	if err != nil {
		return fmt.Errorf("demo needs the national tree (trothu import areas): %w", err)
	}
	ward, err := areas.UnitByCode(ctx, area.LevelCommune, WardCode)
	if err != nil {
		return err
	}
	other, err := areas.UnitByCode(ctx, area.LevelCommune, OtherWardCode)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(2026, 7))

	// The administrator seeds the households through the same CSV import an
	// official would use, so the demo exercises the real path.
	admin, err := newAccount(ctx, accounts, "0900000001", "Quản trị viên hệ thống", account.RoleAdmin, root)
	if err != nil {
		return err
	}
	if err := accounts.SetPasswordSystem(ctx, admin.AccountID, Password); err != nil {
		return err
	}
	var listed []Account
	listed = append(listed, Account{Phone: "0900000001", Name: admin.Name, Role: string(account.RoleAdmin)})

	wardCSV, fixed := wardHouseholds(rng)
	if _, err := areas.ImportHouseholdsCSV(ctx, admin, ward.ID, bytes.NewReader(wardCSV)); err != nil {
		return fmt.Errorf("demo households: %w", err)
	}
	otherCSV := csvOf([][]string{{"SG001", "Khu phố 1", "5 Lê Lợi", "Phạm Thị Thu", "1979", "Nữ", "Chủ hộ", "0900000020", "", ""}})
	if _, err := areas.ImportHouseholdsCSV(ctx, admin, other.ID, bytes.NewReader(otherCSV)); err != nil {
		return fmt.Errorf("demo households (other ward): %w", err)
	}

	units, err := areas.Children(ctx, ward.ID, false)
	if err != nil {
		return err
	}
	kp1, err := findChild(units, "Khu phố 1")
	if err != nil {
		return err
	}
	kp1Groups, err := areas.Children(ctx, kp1.ID, false)
	if err != nil {
		return err
	}
	to1, err := findChild(kp1Groups, "Tổ 1")
	if err != nil {
		return err
	}

	officials := []struct {
		phone, name string
		role        account.Role
		unit        area.Unit
	}{
		{"0900000002", "Nguyễn Thị Lan", account.RoleOfficial, ward},
		{"0900000003", "Trần Văn Minh", account.RoleLeader, ward},
		{"0900000004", "Lê Văn Hùng", account.RoleNeighbourhoodHead, kp1.Unit},
		{"0900000005", "Phạm Thị Hoa", account.RoleGroupHead, to1.Unit},
		{"0900000006", "Võ Quốc Bảo", account.RolePolice, ward},
		{"0900000007", "Đặng Thuý Kiều", account.RoleVolunteer, kp1.Unit},
		{"0900000008", "Huỳnh Văn Đức", account.RoleHealthStaff, ward},
	}
	for _, o := range officials {
		p, err := newAccount(ctx, accounts, o.phone, o.name, o.role, o.unit)
		if err != nil {
			return err
		}
		if o.role.Official() {
			if err := accounts.SetPasswordSystem(ctx, p.AccountID, Password); err != nil {
				return err
			}
		}
		listed = append(listed, Account{Phone: o.phone, Name: o.name, Role: string(o.role)})
	}
	for _, f := range fixed {
		listed = append(listed, Account{Phone: f.phone, Name: f.name, Role: string(account.RoleResident)})
	}
	listed = append(listed, Account{Phone: "0900000020", Name: "Phạm Thị Thu", Role: string(account.RoleResident) + " (Phường Sài Gòn)"})

	raw, err := json.Marshal(listed)
	if err != nil {
		return err
	}
	err = d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO settings(key, value) VALUES (?, ?)", settingKey, string(raw))
		return err
	})
	if err != nil {
		return err
	}
	if log != nil {
		log.Info("demo ward seeded", "ward", ward.FullName, "accounts", len(listed))
	}
	return nil
}

func newAccount(ctx context.Context, accounts *account.Service, phone, name string, role account.Role, u area.Unit) (*account.Principal, error) {
	acc, err := accounts.CreateAccountSystem(ctx, account.AccountInput{Phone: phone, Name: name})
	if err != nil {
		return nil, fmt.Errorf("demo account %s: %w", phone, err)
	}
	g, err := accounts.GrantRoleSystem(ctx, acc.ID, role, u.ID)
	if err != nil {
		return nil, fmt.Errorf("demo grant %s: %w", phone, err)
	}
	g.UnitPath = u.Path
	return &account.Principal{AccountID: acc.ID, Name: name, Grants: []account.Grant{g}}, nil
}

func findChild(units []area.UnitSummary, name string) (area.UnitSummary, error) {
	for _, u := range units {
		if u.Name == name {
			return u, nil
		}
	}
	return area.UnitSummary{}, fmt.Errorf("demo: unit %q not created", name)
}

type fixedResident struct{ phone, name string }

var (
	surnames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	middleM  = []string{"Văn", "Hữu", "Đức", "Quốc", "Minh", "Thành", "Công", "Xuân"}
	middleF  = []string{"Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Bích", "Thuý"}
	givenM   = []string{"Học", "Hùng", "Dũng", "Nam", "Phúc", "Tài", "Khoa", "Long", "Sơn", "Tuấn", "Hải", "Quang", "Thắng", "Bình", "Toàn"}
	givenF   = []string{"Lan", "Hoa", "Mai", "Hương", "Hằng", "Thảo", "Trang", "Linh", "Ngân", "Yến", "Hoà", "Nguyệt", "Quỳnh", "Duyên", "Thuỷ"}
	streets  = []string{"Lê Lợi", "Nguyễn Huệ", "Lê Thánh Tôn", "Nguyễn Trãi", "Phạm Ngũ Lão", "Bùi Viện", "Đề Thám", "Cống Quỳnh", "Nguyễn Thái Học", "Trần Hưng Đạo"}
)

func pick(rng *rand.Rand, s []string) string { return s[rng.IntN(len(s))] }

func person(rng *rand.Rand, female bool) string {
	if female {
		return pick(rng, surnames) + " " + pick(rng, middleF) + " " + pick(rng, givenF)
	}
	return pick(rng, surnames) + " " + pick(rng, middleM) + " " + pick(rng, givenM)
}

// wardHouseholds returns the demo ward's household CSV (2 khu phố × 3 tổ ×
// 50 households) and the residents whose phones are demo accounts.
func wardHouseholds(rng *rand.Rand) ([]byte, []fixedResident) {
	var rows [][]string
	var fixed []fixedResident
	phoneSeq := 0
	n := 0
	for kp := 1; kp <= 2; kp++ {
		for to := 1; to <= 3; to++ {
			unit := fmt.Sprintf("Khu phố %d > Tổ %d", kp, to)
			for h := 1; h <= 50; h++ {
				n++
				code := fmt.Sprintf("BT%04d", n)
				street := streets[(kp*3+to)%len(streets)]
				addr := fmt.Sprintf("%d %s", 2*h+to*100, street)
				size := 1 + rng.IntN(5)
				var flags []string
				if size == 1 && rng.IntN(3) == 0 {
					flags = append(flags, "neo đơn")
				}
				if rng.IntN(6) == 0 {
					flags = append(flags, "không có điện thoại thông minh")
				}
				if rng.IntN(25) == 0 {
					flags = append(flags, "khuyết tật")
				}
				headFemale := rng.IntN(2) == 0
				headName := person(rng, headFemale)
				headYear := 1940 + rng.IntN(50)
				phone := ""
				switch {
				case kp == 1 && to == 1 && h == 1:
					phone = "0900000010"
					fixed = append(fixed, fixedResident{phone, headName})
				case kp == 2 && to == 3 && h == 1:
					phone = "0900000011"
					fixed = append(fixed, fixedResident{phone, headName})
				case !contains(flags, "không có điện thoại thông minh"):
					phoneSeq++
					phone = fmt.Sprintf("097%07d", 1000000+phoneSeq)
				}
				gender := "Nam"
				if headFemale {
					gender = "Nữ"
				}
				cccd := ""
				if rng.IntN(2) == 0 {
					cccd = citizenID(rng, headYear, headFemale)
				}
				rows = append(rows, []string{code, unit, addr, headName, strconv.Itoa(headYear), gender, "Chủ hộ", phone, cccd, joinFlags(flags)})
				for m := 1; m < size; m++ {
					female := rng.IntN(2) == 0
					rel, year := "Con", headYear+20+rng.IntN(15)
					if m == 1 && size > 2 {
						female = !headFemale
						rel, year = map[bool]string{true: "Vợ", false: "Chồng"}[female], headYear+rng.IntN(5)-2
					}
					if year > 2024 {
						year = 2024
					}
					g := "Nam"
					if female {
						g = "Nữ"
					}
					rows = append(rows, []string{code, unit, addr, person(rng, female), strconv.Itoa(year), g, rel, "", "", ""})
				}
			}
		}
	}
	return csvOf(rows), fixed
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func joinFlags(f []string) string {
	out := ""
	for i, x := range f {
		if i > 0 {
			out += "; "
		}
		out += x
	}
	return out
}

// citizenID makes a well-formed (not real) HCMC citizen-ID number.
func citizenID(rng *rand.Rand, year int, female bool) string {
	century := 0
	if year >= 2000 {
		century = 2
	}
	if female {
		century++
	}
	s := fmt.Sprintf("079%d%02d%06d", century, year%100, rng.IntN(1000000))
	if _, err := vntext.NormalizeCitizenID(s); err != nil {
		return ""
	}
	return s
}

func csvOf(rows [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(area.CSVColumns)
	_ = w.WriteAll(rows) // writes to memory cannot fail
	return b.Bytes()
}
