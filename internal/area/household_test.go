package area

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

func ptr(f float64) *float64 { return &f }

func TestHouseholdCRUD(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.official(f.wardA)
		kp := f.createUnit(p, f.wardA, UnitInput{Name: "Khu phố 1"})

		h := f.createHousehold(p, HouseholdInput{UnitID: kp.ID, Code: " HK-001 ", Address: "12  Trần Quang Khải",
			Flags: FlagElderlyAlone | FlagNoSmartphone, Lat: ptr(10.7905), Lon: ptr(106.6895)})
		if h.Code != "HK-001" || h.Address != "12 Trần Quang Khải" || h.UnitName != "Khu phố 1" || h.UnitPath != kp.Path ||
			h.Members != 0 || h.Lat == nil || *h.Lat != 10.7905 || h.CreatedAt.IsZero() || time.Since(h.CreatedAt) > time.Minute {
			t.Fatalf("got %+v", h)
		}
		if got := fmt.Sprint(h.Flags.Labels("vi")); got != "[Neo đơn Không có điện thoại thông minh]" {
			t.Fatalf("got labels %s", got)
		}

		for _, c := range []struct {
			name  string
			in    HouseholdInput
			field string
		}{
			{"no address", HouseholdInput{UnitID: kp.ID}, "address"},
			{"long address", HouseholdInput{UnitID: kp.ID, Address: strings.Repeat("a", 201)}, "address"},
			{"bad flags", HouseholdInput{UnitID: kp.ID, Address: "1", Flags: 64}, "flags"},
			{"lat without lon", HouseholdInput{UnitID: kp.ID, Address: "1", Lat: ptr(10)}, "lat"},
			{"province", HouseholdInput{UnitID: f.hcmc.ID, Address: "1"}, "unit_id"},
		} {
			pp := p
			if c.name == "province" {
				pp = f.official(f.hcmc)
			}
			_, err := f.s.CreateHousehold(f.ctx, pp, c.in)
			if apperr.CodeOf(err) != apperr.Invalid || apperr.From(err).Field != c.field {
				t.Errorf("%s: got %v, want invalid %s", c.name, err, c.field)
			}
		}
		_, err := f.s.CreateHousehold(f.ctx, p, HouseholdInput{UnitID: kp.ID, Code: "HK-001", Address: "14 Trần Quang Khải"})
		wantCode(t, err, apperr.Conflict)
		_, err = f.s.CreateHousehold(f.ctx, p, HouseholdInput{UnitID: f.wardB.ID, Address: "1 Lê Lợi"})
		wantCode(t, err, apperr.Forbidden)
		_, err = f.s.CreateHousehold(f.ctx, principal(5, account.RoleHealthStaff, f.wardA), HouseholdInput{UnitID: kp.ID, Address: "1"})
		wantCode(t, err, apperr.Forbidden) // health staff see households but do not manage them
		_, err = f.s.CreateHousehold(f.ctx, p, HouseholdInput{UnitID: 999999, Address: "1"})
		wantCode(t, err, apperr.NotFound)

		head := f.addResident(p, h.ID, ResidentInput{FullName: "Nguyễn Văn Học", BirthYear: 1950, Gender: "Nam", Relation: "chủ hộ",
			Phone: "0912 345 678", CitizenID: "079050001234"})
		if !head.IsHead || head.Gender != GenderMale || head.Phone != "+84912345678" || head.PhoneMasked != "091****678" ||
			head.CitizenIDMasked != "********1234" {
			t.Fatalf("got %+v", head)
		}
		wife := f.addResident(p, h.ID, ResidentInput{FullName: "Trần Thị Hoà", BirthYear: 1952, Gender: "nữ", Relation: "Vợ"})

		thisYear := time.Now().Year()
		for _, c := range []struct {
			in    ResidentInput
			field string
		}{
			{ResidentInput{FullName: " "}, "full_name"},
			{ResidentInput{FullName: strings.Repeat("Ơ", 101)}, "full_name"},
			{ResidentInput{FullName: "A", BirthYear: 1899}, "birth_year"},
			{ResidentInput{FullName: "A", BirthYear: thisYear + 1}, "birth_year"},
			{ResidentInput{FullName: "A", Gender: "x"}, "gender"},
			{ResidentInput{FullName: "A", Phone: "0281234567"}, "phone"}, // a landline
			{ResidentInput{FullName: "A", CitizenID: "12345"}, "citizen_id"},
			{ResidentInput{FullName: "A", CitizenID: "999050001234"}, "citizen_id"},
		} {
			_, err := f.s.AddResident(f.ctx, p, h.ID, c.in)
			if apperr.CodeOf(err) != apperr.Invalid || apperr.From(err).Field != c.field {
				t.Errorf("AddResident(%+v): got %v, want invalid %s", c.in, err, c.field)
			} else if apperr.From(err).VI == "" || apperr.From(err).EN == "" {
				t.Errorf("got %#v, want messages in both languages", err)
			}
		}
		// The same citizen ID, written differently, in another household.
		h2 := f.createHousehold(p, HouseholdInput{UnitID: kp.ID, Address: "14 Trần Quang Khải"})
		_, err = f.s.AddResident(f.ctx, p, h2.ID, ResidentInput{FullName: "Lê Văn Tám", CitizenID: "0790 5000 1234"})
		wantCode(t, err, apperr.Conflict)

		got, err := f.s.Household(f.ctx, p, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Members != 2 || got.HeadName != "Nguyễn Văn Học" || got.HeadResidentID != head.ID || len(got.Residents) != 2 ||
			got.Residents[0].ID != head.ID || got.Residents[1].Relation != "Vợ" || got.Residents[1].Gender != GenderFemale {
			t.Fatalf("got %+v", got)
		}

		// Update: the citizen ID is kept when not given, and the head moves.
		upd, err := f.s.UpdateResident(f.ctx, p, wife.ID, ResidentInput{FullName: "Trần Thị Hòa", BirthYear: 1952, Gender: GenderFemale, IsHead: true})
		if err != nil || !upd.IsHead || upd.Relation != "Chủ hộ" {
			t.Fatalf("update: got %+v, %v", upd, err)
		}
		upd, err = f.s.UpdateResident(f.ctx, p, head.ID, ResidentInput{FullName: "Nguyễn Văn Học", BirthYear: 1950, Relation: "Chồng"})
		if err != nil || upd.IsHead || upd.CitizenIDMasked != "********1234" || upd.Phone != "" {
			t.Fatalf("update: got %+v, %v", upd, err)
		}
		got, _ = f.s.Household(f.ctx, p, h.ID)
		if got.HeadResidentID != wife.ID || got.HeadName != "Trần Thị Hòa" {
			t.Fatalf("head: got %+v", got.Household)
		}
		upd, err = f.s.UpdateResident(f.ctx, p, head.ID, ResidentInput{FullName: "Nguyễn Văn Học", ClearCitizenID: true})
		if err != nil || upd.CitizenIDMasked != "" {
			t.Fatalf("clear: got %+v, %v", upd, err)
		}
		// Now the number is free for someone else.
		f.addResident(p, h2.ID, ResidentInput{FullName: "Lê Văn Tám", CitizenID: "079050001234"})

		hu, err := f.s.UpdateHousehold(f.ctx, p, h.ID, HouseholdInput{Address: "12A Trần Quang Khải", Flags: FlagDisability})
		if err != nil || hu.Address != "12A Trần Quang Khải" || hu.Flags != FlagDisability || hu.Code != "" || hu.Lat != nil {
			t.Fatalf("update household: got %+v, %v", hu, err)
		}
		_, err = f.s.UpdateHousehold(f.ctx, p, h.ID, HouseholdInput{UnitID: f.wardA.ID, Address: "x"})
		wantField(t, err, "unit_id")

		// Move to the ward itself; residents follow.
		mv, err := f.s.MoveHousehold(f.ctx, p, h.ID, f.wardA.ID)
		if err != nil || mv.UnitID != f.wardA.ID || mv.UnitPath != f.wardA.Path {
			t.Fatalf("move: got %+v, %v", mv, err)
		}
		if n := f.count("SELECT COUNT(*) FROM residents WHERE household_id = ? AND unit_path = ?", h.ID, f.wardA.Path); n != 2 {
			t.Fatalf("got %d residents with the new path, want 2", n)
		}
		_, err = f.s.MoveHousehold(f.ctx, p, h.ID, f.wardB.ID)
		wantCode(t, err, apperr.Forbidden)

		if err := f.s.DeleteResident(f.ctx, p, wife.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = f.s.Household(f.ctx, p, h.ID)
		if got.HeadResidentID != 0 || got.Members != 1 {
			t.Fatalf("after deleting the head: got %+v", got.Household)
		}
		if err := f.s.DeleteHousehold(f.ctx, p, h.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.Household(f.ctx, p, h.ID)
		wantCode(t, err, apperr.NotFound)
		if n := f.count("SELECT COUNT(*) FROM residents WHERE household_id = ?", h.ID); n != 0 {
			t.Fatalf("got %d residents left, want 0", n)
		}
		err = f.s.DeleteResident(f.ctx, p, head.ID)
		wantCode(t, err, apperr.NotFound)

		// Every change was audited at the household's unit path.
		entries, err := audit.List(f.ctx, d, audit.Filter{Scopes: []string{f.wardA.Path}, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		var hw, rw int
		for _, e := range entries {
			switch e.Action {
			case audit.HouseholdWrite:
				hw++
			case audit.ResidentWrite:
				rw++
			}
			if e.ActorID != p.AccountID {
				t.Errorf("got actor %d, want %d", e.ActorID, p.AccountID)
			}
		}
		// households: 2 creates, 1 update, 2 move entries, 1 delete;
		// residents: 3 adds, 3 updates, 1 delete.
		if hw != 6 || rw != 7 {
			t.Fatalf("got %d household and %d resident audit entries, want 6 and 7", hw, rw)
		}
	})
}

func TestCitizenIDProtection(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.official(f.wardA)
		h := f.createHousehold(p, HouseholdInput{UnitID: f.wardA.ID, Address: "5 Hai Bà Trưng"})
		r := f.addResident(p, h.ID, ResidentInput{FullName: "Phạm Thị Lan", CitizenID: "079190005678", Phone: "0987654321"})

		// Nothing stored is the number in clear.
		var enc, mac, last4 string
		if err := d.QueryRow(f.ctx, "SELECT cccd_enc, cccd_hmac, cccd_last4 FROM residents WHERE id = ?", r.ID).Scan(&enc, &mac, &last4); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(enc+mac, "079190005678") || last4 != "5678" || len(mac) != 64 {
			t.Fatalf("stored enc=%q mac=%q last4=%q", enc, mac, last4)
		}

		// Viewers see it masked, in Go and in JSON.
		group := principal(3, account.RoleGroupHead, f.wardA)
		got, err := f.s.Household(f.ctx, group, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(got)
		if got.Residents[0].CitizenIDMasked != "********5678" || strings.Contains(string(b), "079190005678") {
			t.Fatalf("got %s", b)
		}

		_, err = f.s.RevealCitizenID(f.ctx, group, r.ID) // tổ trưởng may not
		wantCode(t, err, apperr.Forbidden)
		_, err = f.s.RevealCitizenID(f.ctx, f.official(f.wardB), r.ID)
		wantCode(t, err, apperr.Forbidden)
		_, err = f.s.RevealCitizenID(f.ctx, nil, r.ID)
		wantCode(t, err, apperr.Unauthenticated)
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE action = ?", audit.CitizenIDViewed); n != 0 {
			t.Fatalf("got %d reveal audits before any reveal, want 0", n)
		}

		police := principal(4, account.RolePolice, f.wardA)
		id, err := f.s.RevealCitizenID(f.ctx, police, r.ID)
		if err != nil || id != "079190005678" {
			t.Fatalf("reveal: got %q, %v", id, err)
		}
		entries, err := audit.List(f.ctx, d, audit.Filter{Scopes: []string{f.wardA.Path}, Action: audit.CitizenIDViewed})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].ActorID != 4 || entries[0].SubjectID != strconv.FormatInt(r.ID, 10) {
			t.Fatalf("got audit %+v, want one reveal by account 4", entries)
		}

		// Another service with a different key cannot read it.
		other := NewService(d, []byte("another-secret-key-of-32-bytes-or-more"))
		_, err = other.RevealCitizenID(f.ctx, police, r.ID)
		wantCode(t, err, apperr.Internal)

		r2 := f.addResident(p, h.ID, ResidentInput{FullName: "Không Có Số"})
		_, err = f.s.RevealCitizenID(f.ctx, police, r2.ID)
		wantCode(t, err, apperr.NotFound)
		_, err = f.s.RevealCitizenID(f.ctx, police, 999999)
		wantCode(t, err, apperr.NotFound)
	})
}

func TestResidentSeesOwnHousehold(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.official(f.wardA)
		h1 := f.createHousehold(p, HouseholdInput{UnitID: f.wardA.ID, Address: "1 Pasteur"})
		me := f.addResident(p, h1.ID, ResidentInput{FullName: "Võ Thị Sáu", Phone: "0901111111", IsHead: true})
		f.addResident(p, h1.ID, ResidentInput{FullName: "Võ Văn Kiệt", Phone: "0902222222"})
		h2 := f.createHousehold(p, HouseholdInput{UnitID: f.wardA.ID, Address: "3 Pasteur"})
		f.addResident(p, h2.ID, ResidentInput{FullName: "Hàng Xóm", Phone: "0903333333"})

		ref, err := f.s.ResidentByPhone(f.ctx, "+84 901 111 111")
		if err != nil || ref.ResidentID != me.ID || ref.HouseholdID != h1.ID || ref.UnitPath != f.wardA.Path {
			t.Fatalf("ResidentByPhone: got %+v, %v", ref, err)
		}
		resident := &account.Principal{AccountID: 50, Name: "Võ Thị Sáu", ResidentID: ref.ResidentID,
			Grants: []account.Grant{{Role: account.RoleResident, UnitID: ref.UnitID, UnitPath: ref.UnitPath}}}

		mine, err := f.s.MyHousehold(f.ctx, resident)
		if err != nil || mine.ID != h1.ID || len(mine.Residents) != 2 {
			t.Fatalf("MyHousehold: got %+v, %v", mine, err)
		}
		if mine.Residents[0].Phone != "+84901111111" || mine.Residents[1].Phone != "" || mine.Residents[1].PhoneMasked != "090****222" {
			t.Fatalf("got %+v, want my own phone in full and the other masked", mine.Residents)
		}
		_, err = f.s.Household(f.ctx, resident, h2.ID)
		wantCode(t, err, apperr.Forbidden)
		_, err = f.s.ListHouseholds(f.ctx, resident, f.wardA.ID, HouseholdFilter{})
		wantCode(t, err, apperr.Forbidden)
		_, err = f.s.MyHousehold(f.ctx, &account.Principal{AccountID: 51})
		wantCode(t, err, apperr.NotFound)
		_, err = f.s.MyHousehold(f.ctx, nil)
		wantCode(t, err, apperr.Unauthenticated)
		_, err = f.s.Household(f.ctx, nil, h1.ID)
		wantCode(t, err, apperr.Unauthenticated)

		// A shared phone: the head wins.
		f.addResident(p, h2.ID, ResidentInput{FullName: "Dùng Chung", Phone: "0901111111"})
		ref, err = f.s.ResidentByPhone(f.ctx, "0901111111")
		if err != nil || ref.ResidentID != me.ID {
			t.Fatalf("shared phone: got %+v, %v; want the head %d", ref, err, me.ID)
		}
		_, err = f.s.ResidentByPhone(f.ctx, "0999999999")
		wantCode(t, err, apperr.NotFound)
		_, err = f.s.ResidentByPhone(f.ctx, "12")
		wantCode(t, err, apperr.Invalid)
	})
}

func TestListHouseholds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.official(f.wardA)
		kp := f.createUnit(p, f.wardA, UnitInput{Name: "Khu phố 1"})
		to := f.createUnit(p, kp, UnitInput{Name: "Tổ 1"})
		var ids []int64
		for i := 0; i < 7; i++ {
			unit := []Unit{f.wardA, kp, to}[i%3]
			flags := Flags(0)
			if i%2 == 0 {
				flags = FlagElderlyAlone
			}
			street := []string{"Hai Bà Trưng", "Pasteur", "Trần Quang Khải", "Đinh Tiên Hoàng", "Nguyễn Đình Chiểu", "Võ Thị Sáu", "Lý Chính Thắng"}[i]
			h := f.createHousehold(p, HouseholdInput{UnitID: unit.ID, Code: fmt.Sprintf("H%d", i), Address: fmt.Sprintf("%d %s", i+1, street), Flags: flags})
			ids = append(ids, h.ID)
		}
		f.addResident(p, ids[4], ResidentInput{FullName: "Nguyễn Văn Học", IsHead: true})
		f.addResident(p, ids[5], ResidentInput{FullName: "Nguyễn Thị Học"})
		other := f.createHousehold(f.official(f.wardB), HouseholdInput{UnitID: f.wardB.ID, Address: "9 Lê Lợi"})
		f.addResident(f.official(f.wardB), other.ID, ResidentInput{FullName: "Nguyễn Văn Học"})

		// Paging through the ward's whole subtree, 3 at a time.
		var seen []int64
		after := ""
		for pages := 0; ; pages++ {
			page, err := f.s.ListHouseholds(f.ctx, p, f.wardA.ID, HouseholdFilter{After: after, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range page.Items {
				seen = append(seen, h.ID)
			}
			if page.Next == "" {
				if pages != 2 {
					t.Fatalf("got %d pages, want 3", pages+1)
				}
				break
			}
			after = page.Next
		}
		if len(seen) != 7 {
			t.Fatalf("got %v, want the 7 households of ward A once each", seen)
		}
		page, err := f.s.ListHouseholds(f.ctx, p, kp.ID, HouseholdFilter{})
		if err != nil || len(page.Items) != 4 {
			t.Fatalf("khu phố subtree: got %d, %v; want 4", len(page.Items), err)
		}
		page, err = f.s.ListHouseholds(f.ctx, p, f.wardA.ID, HouseholdFilter{Flags: FlagElderlyAlone})
		if err != nil || len(page.Items) != 4 {
			t.Fatalf("flags: got %d, %v; want 4", len(page.Items), err)
		}

		// Folded search over member names and addresses.
		for _, c := range []struct {
			q    string
			want []int64
		}{
			{"nguyen van hoc", []int64{ids[4]}},
			{"NGUYỄN văn HỌC", []int64{ids[4]}},
			{"hoc", []int64{ids[4], ids[5]}},
			{"dinh tien hoang", []int64{ids[3]}},
			{"đinh", []int64{ids[3], ids[4]}},
			{"H6", []int64{ids[6]}},
			{"khong ai", nil},
		} {
			page, err := f.s.ListHouseholds(f.ctx, p, f.wardA.ID, HouseholdFilter{Query: c.q})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, h := range page.Items {
				got = append(got, h.ID)
			}
			if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(c.want)) {
				t.Errorf("query %q: got %v, want %v", c.q, got, c.want)
			}
		}
		if page.Items == nil {
			t.Error("got nil items, want an empty list")
		}
		_, err = f.s.ListHouseholds(f.ctx, p, f.wardA.ID, HouseholdFilter{After: "!!"})
		wantField(t, err, "after")
		_, err = f.s.ListHouseholds(f.ctx, p, f.wardB.ID, HouseholdFilter{})
		wantCode(t, err, apperr.Forbidden)
	})
}

func sorted(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestOrganisations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.official(f.wardA)
		police, err := f.s.CreateOrganisation(f.ctx, p, OrganisationInput{UnitID: f.wardA.ID, Kind: OrgPolice})
		if err != nil || police.Name != "Công an Phường Tân Định" {
			t.Fatalf("got %+v, %v", police, err)
		}
		ubnd, err := f.s.CreateOrganisation(f.ctx, p, OrganisationInput{UnitID: f.wardA.ID, Kind: OrgPeopleCommittee, Name: "UBND phường Tân Định"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.s.CreateOrganisation(f.ctx, p, OrganisationInput{UnitID: f.wardA.ID, Kind: OrgPolice, Name: "cong an phuong tan dinh"})
		wantCode(t, err, apperr.Conflict)
		_, err = f.s.CreateOrganisation(f.ctx, p, OrganisationInput{UnitID: f.wardA.ID, Kind: "club"})
		wantField(t, err, "kind")
		_, err = f.s.CreateOrganisation(f.ctx, p, OrganisationInput{UnitID: f.wardB.ID, Kind: OrgPolice})
		wantCode(t, err, apperr.Forbidden)

		h := f.createHousehold(p, HouseholdInput{UnitID: f.wardA.ID, Address: "1 Pasteur"})
		r := f.addResident(p, h.ID, ResidentInput{FullName: "Trần Văn Cảnh"})
		if err := f.s.AddOrgMember(f.ctx, p, police.ID, r.ID, "Trưởng Công an"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.AddOrgMember(f.ctx, p, police.ID, r.ID, "Phó Trưởng Công an"); err != nil {
			t.Fatal(err)
		}
		list, err := f.s.ListOrganisations(f.ctx, f.wardA.ID)
		if err != nil || len(list) != 2 || list[0].ID != ubnd.ID || list[1].ID != police.ID || list[1].Members != 1 {
			t.Fatalf("got %+v, %v; want UBND first, then the police with 1 member", list, err)
		}
		if got := OrgWomenUnion.Label("vi"); got != "Hội Phụ nữ" {
			t.Errorf("got %q", got)
		}
		err = f.s.RemoveOrgMember(f.ctx, f.official(f.wardB), police.ID, r.ID)
		wantCode(t, err, apperr.Forbidden)
		if err := f.s.RemoveOrgMember(f.ctx, p, police.ID, r.ID); err != nil {
			t.Fatal(err)
		}
		err = f.s.RemoveOrgMember(f.ctx, p, police.ID, r.ID)
		wantCode(t, err, apperr.NotFound)
		err = f.s.AddOrgMember(f.ctx, p, police.ID, 999999, "")
		wantCode(t, err, apperr.NotFound)
		if list, err := f.s.ListOrganisations(f.ctx, f.wardB.ID); err != nil || len(list) != 0 {
			t.Fatalf("ward B: got %v, %v", list, err)
		}
	})
}
