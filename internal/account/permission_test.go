package account

import (
	"slices"
	"testing"

	"github.com/trothu/trothu/internal/apperr"
)

func pr(grants ...Grant) *Principal { return &Principal{AccountID: 1, Grants: grants} }

func gr(role Role, path string) Grant { return Grant{Role: role, UnitPath: path} }

func TestRoleLabelsAndKinds(t *testing.T) {
	for _, r := range Roles {
		if !r.Valid() {
			t.Errorf("%s: got invalid, want valid", r)
		}
		if r.Label("vi") == string(r) || r.Label("en") == string(r) {
			t.Errorf("%s: missing label", r)
		}
	}
	if Role("mayor").Valid() {
		t.Error("mayor: got valid, want invalid")
	}
	if RoleResident.Official() || RoleVolunteer.Official() || !RoleGroupHead.Official() || Role("x").Official() {
		t.Error("Official: wrong classification")
	}
}

func TestCan(t *testing.T) {
	official := pr(gr(RoleOfficial, pathA))
	for _, tc := range []struct {
		name string
		p    *Principal
		act  Action
		path string
		want bool
	}{
		{"anonymous", nil, ActViewHouseholds, pathA, false},
		{"empty path", official, ActViewHouseholds, "", false},
		{"own unit", official, ActViewHouseholds, pathA, true},
		{"below own unit", official, ActManageHouseholds, pathKP4, true},
		{"sibling ward", official, ActViewHouseholds, pathB, false},
		{"above own unit", official, ActViewHouseholds, rootPath, false},
		{"prefix is not ancestry", official, ActViewHouseholds, "/1/22/", false},
		{"action not allowed to role", official, ActGrantRoles, pathA, false},
		{"resident views nothing", pr(gr(RoleResident, pathKP4)), ActViewHouseholds, pathKP4, false},
		{"group head views", pr(gr(RoleGroupHead, pathKP4)), ActViewHouseholds, pathKP4, true},
		{"group head cannot export", pr(gr(RoleGroupHead, pathKP4)), ActExportHouseholds, pathKP4, false},
		{"admin imports areas", pr(gr(RoleAdmin, rootPath)), ActImportAreas, pathB, true},
		{"leader cannot import areas", pr(gr(RoleLeader, pathA)), ActImportAreas, pathA, false},
		{"second grant counts", pr(gr(RoleResident, pathB), gr(RoleLeader, pathA)), ActViewAudit, pathKP4, true},
		{"grant without path covers nothing", pr(gr(RoleAdmin, "")), ActViewAudit, pathA, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Can(tc.act, tc.path); got != tc.want {
				t.Fatalf("Can(%s, %s): got %v, want %v", tc.act, tc.path, got, tc.want)
			}
			err := Authorize(tc.p, tc.act, tc.path)
			switch {
			case tc.want && err != nil:
				t.Fatalf("Authorize: got %v, want nil", err)
			case !tc.want && tc.p == nil:
				wantCode(t, err, apperr.Unauthenticated)
			case !tc.want:
				wantCode(t, err, apperr.Forbidden)
			}
		})
	}
}

func TestCanAnywhere(t *testing.T) {
	if (*Principal)(nil).CanAnywhere(ActViewAccounts) {
		t.Error("anonymous: got true, want false")
	}
	if pr(gr(RoleResident, pathKP4)).CanAnywhere(ActViewAccounts) {
		t.Error("resident: got true, want false")
	}
	if !pr(gr(RoleResident, pathKP4), gr(RoleOfficial, pathB)).CanAnywhere(ActViewAccounts) {
		t.Error("official in B: got false, want true")
	}
}

func TestScopes(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *Principal
		act  Action
		want []string
	}{
		{"anonymous", nil, ActViewHouseholds, nil},
		{"no right", pr(gr(RoleResident, pathKP4)), ActViewHouseholds, nil},
		{"one", pr(gr(RoleOfficial, pathA)), ActViewHouseholds, []string{pathA}},
		{"two wards", pr(gr(RoleOfficial, pathA), gr(RoleOfficial, pathB)), ActViewHouseholds, []string{pathA, pathB}},
		{"child then parent collapses", pr(gr(RoleGroupHead, pathKP4), gr(RoleOfficial, pathA)), ActViewHouseholds, []string{pathA}},
		{"parent then child collapses", pr(gr(RoleOfficial, pathA), gr(RoleGroupHead, pathKP4)), ActViewHouseholds, []string{pathA}},
		{"only grants with the right", pr(gr(RoleGroupHead, pathKP4), gr(RoleLeader, pathB)), ActGrantRoles, []string{pathB}},
		{"root swallows all", pr(gr(RoleOfficial, pathA), gr(RoleAdmin, rootPath), gr(RoleOfficial, pathB)), ActViewAccounts, []string{rootPath}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.Scopes(tc.act)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Scopes(%s): got %v, want %v", tc.act, got, tc.want)
			}
		})
	}
}

func TestCanGrant(t *testing.T) {
	admin := pr(gr(RoleAdmin, rootPath))
	wardAdmin := pr(gr(RoleAdmin, pathA))
	leaderA := pr(gr(RoleLeader, pathA))
	officialA := pr(gr(RoleOfficial, pathA))
	for _, tc := range []struct {
		name string
		p    *Principal
		role Role
		path string
		want bool
	}{
		{"anonymous", nil, RoleResident, pathA, false},
		{"admin: admin anywhere", admin, RoleAdmin, pathB, true},
		{"admin: leader", admin, RoleLeader, pathA, true},
		{"admin: unknown role", admin, Role("mayor"), pathA, false},
		{"ward admin: outside ward", wardAdmin, RoleOfficial, pathB, false},
		{"ward admin: admin inside ward", wardAdmin, RoleAdmin, pathKP4, true},
		{"leader: official in own ward", leaderA, RoleOfficial, pathA, true},
		{"leader: group head below", leaderA, RoleGroupHead, pathKP4, true},
		{"leader: official in other ward", leaderA, RoleOfficial, pathB, false},
		{"leader: leader", leaderA, RoleLeader, pathA, false},
		{"leader: admin", leaderA, RoleAdmin, pathA, false},
		{"leader: above own ward", leaderA, RoleOfficial, rootPath, false},
		{"official: nothing", officialA, RoleResident, pathA, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.CanGrant(tc.role, tc.path); got != tc.want {
				t.Fatalf("CanGrant(%s, %s): got %v, want %v", tc.role, tc.path, got, tc.want)
			}
			err := AuthorizeGrant(tc.p, tc.role, tc.path)
			switch {
			case tc.want && err != nil:
				t.Fatalf("AuthorizeGrant: got %v, want nil", err)
			case !tc.want && tc.p == nil:
				wantCode(t, err, apperr.Unauthenticated)
			case !tc.want:
				wantCode(t, err, apperr.Forbidden)
			}
		})
	}
}
