package account

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

func TestGrantRevokeMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		admin := f.principal(f.account("0900000001", "Quản Trị", RoleAdmin, rootID))
		leaderA := f.principal(f.account("0900000002", "Lãnh Đạo A", RoleLeader, wardA))
		officialA := f.principal(f.account("0900000003", "Cán Bộ A", RoleOfficial, wardA))
		target := f.account("0900000009", "Người Được Cấp")

		for _, tc := range []struct {
			name string
			p    *Principal
			role Role
			unit int64
			path string
			want apperr.Code
		}{
			{"anonymous", nil, RoleOfficial, wardA, pathA, apperr.Unauthenticated},
			{"admin: admin on root", admin, RoleAdmin, rootID, rootPath, ""},
			{"admin: leader in B", admin, RoleLeader, wardB, pathB, ""},
			{"leader A: official in A", leaderA, RoleOfficial, wardA, pathA, ""},
			{"leader A: group head in khu phố of A", leaderA, RoleGroupHead, kp4, pathKP4, ""},
			{"leader A: official in B", leaderA, RoleOfficial, wardB, pathB, apperr.Forbidden},
			{"leader A: admin in A", leaderA, RoleAdmin, wardA, pathA, apperr.Forbidden},
			{"leader A: leader in A", leaderA, RoleLeader, wardA, pathA, apperr.Forbidden},
			{"leader A: path of A with the id of B", leaderA, RoleOfficial, wardB, pathA, apperr.Invalid},
			{"official A: resident in A", officialA, RoleResident, wardA, pathA, apperr.Forbidden},
			{"unknown role", admin, Role("mayor"), wardA, pathA, apperr.Invalid},
			{"duplicate", leaderA, RoleOfficial, wardA, pathA, apperr.Conflict},
			{"unknown unit", admin, RoleOfficial, 99, "/1/99/", apperr.NotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := f.auditCount(audit.RoleGranted)
				g, err := f.s.GrantRole(ctx, tc.p, target.ID, tc.role, tc.unit, tc.path)
				wantCode(t, err, tc.want)
				wantRows := before
				if tc.want == "" {
					wantRows++
					if g.ID == 0 || g.Role != tc.role || g.UnitPath != tc.path || g.UnitName == "" {
						t.Fatalf("grant: got %+v", g)
					}
					actor, subject, path, _, _ := f.lastAudit(audit.RoleGranted)
					if actor != tc.p.AccountID || subject != fmt.Sprint(target.ID) || path != tc.path {
						t.Fatalf("audit: got actor %d subject %s path %s", actor, subject, path)
					}
				}
				if got := f.auditCount(audit.RoleGranted); got != wantRows {
					t.Fatalf("audit rows: got %d, want %d", got, wantRows)
				}
			})
		}
		_, err := f.s.GrantRole(ctx, admin, 9999, RoleOfficial, wardA, pathA)
		wantCode(t, err, apperr.NotFound)

		grants, err := f.s.Grants(ctx, target.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(grants) != 4 {
			t.Fatalf("grants: got %d, want 4", len(grants))
		}
		byRole := map[Role]Grant{}
		for _, g := range grants {
			byRole[g.Role] = g
		}
		for _, tc := range []struct {
			name string
			p    *Principal
			g    Grant
			want apperr.Code
		}{
			{"anonymous", nil, byRole[RoleOfficial], apperr.Unauthenticated},
			{"official A cannot", officialA, byRole[RoleOfficial], apperr.Forbidden},
			{"leader A cannot revoke the leader in B", leaderA, byRole[RoleLeader], apperr.Forbidden},
			{"leader A cannot revoke admin", leaderA, byRole[RoleAdmin], apperr.Forbidden},
			{"leader A revokes official in A", leaderA, byRole[RoleOfficial], ""},
			{"gone", leaderA, byRole[RoleOfficial], apperr.NotFound},
			{"admin revokes leader in B", admin, byRole[RoleLeader], ""},
		} {
			t.Run("revoke "+tc.name, func(t *testing.T) {
				before := f.auditCount(audit.RoleRevoked)
				wantCode(t, f.s.RevokeRole(ctx, tc.p, tc.g.ID), tc.want)
				wantRows := before
				if tc.want == "" {
					wantRows++
					if _, _, path, _, _ := f.lastAudit(audit.RoleRevoked); path != tc.g.UnitPath {
						t.Fatalf("audit path: got %q, want %q", path, tc.g.UnitPath)
					}
				}
				if got := f.auditCount(audit.RoleRevoked); got != wantRows {
					t.Fatalf("audit rows: got %d, want %d", got, wantRows)
				}
			})
		}
		if grants, _ := f.s.Grants(ctx, target.ID); len(grants) != 2 {
			t.Fatalf("grants after revoking: got %d, want 2", len(grants))
		}
	})
}

func TestCreateAccount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		leaderA := f.principal(f.account("0900000002", "Lãnh Đạo A", RoleLeader, wardA))
		leaderB := f.principal(f.account("0900000003", "Lãnh Đạo B", RoleLeader, wardB))
		officialA := f.principal(f.account("0900000004", "Cán Bộ A", RoleOfficial, wardA))

		_, err := f.s.CreateAccount(ctx, nil, AccountInput{Phone: "0911000001", Name: "X"})
		wantCode(t, err, apperr.Unauthenticated)
		_, err = f.s.CreateAccount(ctx, officialA, AccountInput{Phone: "0911000001", Name: "X"})
		wantCode(t, err, apperr.Forbidden)
		_, err = f.s.CreateAccount(ctx, leaderA, AccountInput{Phone: "0911", Name: "X"})
		wantCode(t, err, apperr.Invalid)
		_, err = f.s.CreateAccount(ctx, leaderA, AccountInput{Phone: "0911000001", Name: "  "})
		wantCode(t, err, apperr.Invalid)
		a, err := f.s.CreateAccount(ctx, leaderA, AccountInput{Phone: "0911 000 001", Name: "  Nguyễn   Văn  An "})
		if err != nil {
			t.Fatal(err)
		}
		if a.Phone != "+84911000001" || a.Name != "Nguyễn Văn An" || a.HasPassword || a.Lang != "vi" || len(a.Grants) != 0 {
			t.Fatalf("account: got %+v", a)
		}
		_, err = f.s.CreateAccount(ctx, leaderA, AccountInput{Phone: "+84911000001", Name: "Again"})
		wantCode(t, err, apperr.Conflict)
		if got, err := f.s.AccountByPhone(ctx, "0911000001"); err != nil || got.ID != a.ID {
			t.Fatalf("by phone: got %+v, %v", got, err)
		}
		_, err = f.s.AccountByPhone(ctx, "0911000002")
		wantCode(t, err, apperr.NotFound)
		_, err = f.s.Account(ctx, 9999)
		wantCode(t, err, apperr.NotFound)

		// Linking to a resident needs rights where the resident lives.
		_, err = f.s.CreateAccount(ctx, leaderB, AccountInput{Phone: residentPhone, Name: "Bình", ResidentID: 100})
		wantCode(t, err, apperr.Forbidden)
		_, err = f.s.CreateAccount(ctx, leaderA, AccountInput{Phone: residentPhone, Name: "Bình", ResidentID: 555})
		wantCode(t, err, apperr.Invalid)
		r, err := f.s.CreateAccount(ctx, leaderA, AccountInput{Phone: residentPhone, Name: "Bình", ResidentID: 100})
		if err != nil || r.ResidentID != 100 {
			t.Fatalf("linked account: got %+v, %v", r, err)
		}
		if _, _, path, _, _ := f.lastAudit(AuditAccountCreated); path != pathKP4 {
			t.Fatalf("audit path: got %q, want %q", path, pathKP4)
		}
	})
}

func TestListAccounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		admin := f.principal(f.account("0900000001", "Quản Trị", RoleAdmin, rootID))
		officialA := f.principal(f.account("0900000003", "Cán Bộ A", RoleOfficial, wardA))
		f.account("0900000004", "Cán Bộ B", RoleOfficial, wardB)
		f.account("0900000005", "Đoàn Thị Huệ", RoleGroupHead, kp4, RoleOfficial, wardB)
		f.account("0900000006", "Chưa Có Quyền")
		for i := range 7 {
			f.account(fmt.Sprintf("09123400%02d", i), fmt.Sprintf("Cư Dân %d", i), RoleResident, kp4)
		}

		_, err := f.s.ListAccounts(ctx, nil, AccountFilter{})
		wantCode(t, err, apperr.Unauthenticated)
		_, err = f.s.ListAccounts(ctx, f.principal(f.account("0900000007", "Tổ Trưởng", RoleGroupHead, kp4)), AccountFilter{})
		wantCode(t, err, apperr.Forbidden)
		_, err = f.s.ListAccounts(ctx, officialA, AccountFilter{Scope: pathB})
		wantCode(t, err, apperr.Forbidden)

		names := func(pg AccountPage) string {
			var n []string
			for _, a := range pg.Accounts {
				n = append(n, a.Name)
			}
			return strings.Join(n, ",")
		}
		pg, err := f.s.ListAccounts(ctx, officialA, AccountFilter{Query: "huệ"})
		if err != nil {
			t.Fatal(err)
		}
		if names(pg) != "Đoàn Thị Huệ" {
			t.Fatalf("query: got %q", names(pg))
		}
		h := pg.Accounts[0]
		if h.Phone != "090****005" || len(h.Grants) != 1 || h.Grants[0].Role != RoleGroupHead {
			t.Fatalf("official A sees %+v: want a masked phone and only the grant in ward A", h)
		}
		if pg, _ = f.s.ListAccounts(ctx, officialA, AccountFilter{Query: "doan thi hue"}); names(pg) != "Đoàn Thị Huệ" {
			t.Fatalf("folded query: got %q", names(pg))
		}
		if pg, _ = f.s.ListAccounts(ctx, officialA, AccountFilter{Query: "0900 000 005"}); names(pg) != "Đoàn Thị Huệ" {
			t.Fatalf("phone query: got %q", names(pg))
		}
		if pg, _ = f.s.ListAccounts(ctx, officialA, AccountFilter{Role: RoleOfficial}); names(pg) != "Cán Bộ A" {
			t.Fatalf("role filter: got %q", names(pg))
		}
		if pg, _ = f.s.ListAccounts(ctx, admin, AccountFilter{Scope: pathB}); names(pg) != "Cán Bộ B,Đoàn Thị Huệ" {
			t.Fatalf("admin narrowed to B: got %q", names(pg))
		}
		if pg, _ = f.s.ListAccounts(ctx, officialA, AccountFilter{Scope: rootPath, Role: RoleOfficial}); names(pg) != "Cán Bộ A" {
			t.Fatalf("official A asking for root: got %q, want only ward A", names(pg))
		}

		// Paging: 1 official + 1 group head + 7 residents + 1 group head (the test's own) in ward A.
		var all []string
		after := int64(0)
		for pages := 0; ; pages++ {
			pg, err := f.s.ListAccounts(ctx, officialA, AccountFilter{After: after, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(pg.Accounts) > 3 || pages > 5 {
				t.Fatalf("page %d: got %d accounts", pages, len(pg.Accounts))
			}
			for _, a := range pg.Accounts {
				all = append(all, a.Name)
			}
			if pg.Next == 0 {
				break
			}
			after = pg.Next
		}
		if len(all) != 10 {
			t.Fatalf("paged through %d accounts, want 10: %v", len(all), all)
		}
		if pg, _ = f.s.ListAccounts(ctx, officialA, AccountFilter{Query: "cu dan", Limit: 5}); len(pg.Accounts) != 5 || pg.Next == 0 {
			t.Fatalf("name query with limit: got %d accounts, next %d", len(pg.Accounts), pg.Next)
		}
	})
}
