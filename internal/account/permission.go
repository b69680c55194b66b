// Package account owns accounts, sign-in (phone + one-time code; password
// and TOTP for officials), sessions and API tokens, roles granted on a unit
// subtree, and the one permission check every page and API handler goes
// through: Authorize.
package account

import (
	"strings"

	"github.com/trothu/trothu/internal/apperr"
)

// Role is granted on a unit and applies to the unit's whole subtree.
type Role string

// The roles, from the resident up.
const (
	RoleResident          Role = "resident"
	RoleVolunteer         Role = "volunteer"
	RoleGroupHead         Role = "group_head"         // tổ trưởng tổ dân phố
	RoleNeighbourhoodHead Role = "neighbourhood_head" // trưởng khu phố / ấp / thôn
	RolePolice            Role = "police"             // cảnh sát khu vực
	RoleHealthStaff       Role = "health_staff"       // nhân viên y tế
	RoleOfficial          Role = "commune_official"   // cán bộ, công chức xã/phường
	RoleLeader            Role = "commune_leader"     // Chủ tịch / Phó Chủ tịch UBND
	RoleAdmin             Role = "admin"              // quản trị viên
)

// Roles lists every role in display order.
var Roles = []Role{RoleResident, RoleVolunteer, RoleGroupHead, RoleNeighbourhoodHead, RolePolice, RoleHealthStaff, RoleOfficial, RoleLeader, RoleAdmin}

// Label returns the role's name in lang ("en" or Vietnamese).
func (r Role) Label(lang string) string {
	l, ok := roleLabels[r]
	if !ok {
		return string(r)
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

var roleLabels = map[Role][2]string{
	RoleResident:          {"Người dân", "Resident"},
	RoleVolunteer:         {"Tình nguyện viên", "Volunteer"},
	RoleGroupHead:         {"Tổ trưởng tổ dân phố", "Residential-group head"},
	RoleNeighbourhoodHead: {"Trưởng khu phố / ấp", "Neighbourhood head"},
	RolePolice:            {"Cảnh sát khu vực", "Police officer"},
	RoleHealthStaff:       {"Nhân viên y tế", "Health staff"},
	RoleOfficial:          {"Cán bộ, công chức phường/xã", "Commune official"},
	RoleLeader:            {"Lãnh đạo UBND phường/xã", "Commune leader"},
	RoleAdmin:             {"Quản trị viên", "Administrator"},
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := roleLabels[r]; return ok }

// Official reports whether r is any role above resident and volunteer.
func (r Role) Official() bool { return r != RoleResident && r != RoleVolunteer && r.Valid() }

// Action is something a principal may be allowed to do on a unit subtree.
type Action string

// The actions. Each maps to the roles allowed to do it in allowed below;
// adding an action means deciding who may do it, in one place.
const (
	ActViewHouseholds   Action = "households.view"   // list households and residents (masked)
	ActManageHouseholds Action = "households.manage" // add, edit, remove households and residents
	ActImportHouseholds Action = "households.import" // CSV import
	ActExportHouseholds Action = "households.export" // CSV export (personal data)
	ActViewCitizenID    Action = "citizen_id.view"   // unmask a citizen-ID number (audited)
	ActManageUnits      Action = "units.manage"      // create khu phố / tổ under a commune
	ActManageOrgs       Action = "organisations.manage"
	ActGrantRoles       Action = "roles.grant"
	ActViewAccounts     Action = "accounts.view"
	ActViewAudit        Action = "audit.view"
	ActImportAreas      Action = "areas.import"      // national data: administrators only
	ActSendNotice       Action = "notices.send"      // send announcements to a subtree; add a local note below
	ActViewReach        Action = "notices.reach"     // reach roll-ups and the unreached list (addresses, heads)
	ActProxyAck         Action = "notices.proxy_ack" // record "told in person" for a household
	ActHandleRequests   Action = "requests.handle"   // see reporters, assign, reply, change status, file on behalf
	ActExportRequests   Action = "requests.export"   // CSV / XLSX export of the request queue
	ActAdminRequests    Action = "requests.admin"    // service types, Open311 API keys, the working-hours calendar
	ActManageGroups     Action = "groups.manage"     // create community groups on a unit; moderate every group of its subtree
)

var allowed = map[Action][]Role{
	ActViewHouseholds:   {RoleGroupHead, RoleNeighbourhoodHead, RolePolice, RoleHealthStaff, RoleOfficial, RoleLeader, RoleAdmin},
	ActManageHouseholds: {RoleGroupHead, RoleNeighbourhoodHead, RolePolice, RoleOfficial, RoleLeader, RoleAdmin},
	ActImportHouseholds: {RoleNeighbourhoodHead, RoleOfficial, RoleLeader, RoleAdmin},
	ActExportHouseholds: {RolePolice, RoleOfficial, RoleLeader, RoleAdmin},
	ActViewCitizenID:    {RolePolice, RoleOfficial, RoleLeader, RoleAdmin},
	ActManageUnits:      {RoleOfficial, RoleLeader, RoleAdmin},
	ActManageOrgs:       {RoleOfficial, RoleLeader, RoleAdmin},
	ActGrantRoles:       {RoleLeader, RoleAdmin},
	ActViewAccounts:     {RoleOfficial, RoleLeader, RoleAdmin},
	ActViewAudit:        {RoleLeader, RoleAdmin},
	ActImportAreas:      {RoleAdmin},
	ActSendNotice:       {RoleGroupHead, RoleNeighbourhoodHead, RoleOfficial, RoleLeader, RoleAdmin},
	ActViewReach:        {RoleGroupHead, RoleNeighbourhoodHead, RolePolice, RoleHealthStaff, RoleOfficial, RoleLeader, RoleAdmin},
	ActProxyAck:         {RoleVolunteer, RoleGroupHead, RoleNeighbourhoodHead, RolePolice, RoleOfficial, RoleLeader, RoleAdmin},
	ActHandleRequests:   {RoleGroupHead, RoleNeighbourhoodHead, RolePolice, RoleHealthStaff, RoleOfficial, RoleLeader, RoleAdmin},
	ActExportRequests:   {RolePolice, RoleOfficial, RoleLeader, RoleAdmin},
	ActAdminRequests:    {RoleAdmin},
	ActManageGroups:     {RoleGroupHead, RoleNeighbourhoodHead, RolePolice, RoleOfficial, RoleLeader, RoleAdmin},
}

// Grant is a role held on a unit subtree.
type Grant struct {
	ID       int64  `json:"id"`
	Role     Role   `json:"role"`
	UnitID   int64  `json:"unit_id"`
	UnitPath string `json:"-"`
	UnitName string `json:"unit_name,omitempty"`
}

// Principal is who is asking: the signed-in account and its grants. A nil
// *Principal is an anonymous visitor.
type Principal struct {
	AccountID  int64
	Name       string
	Phone      string // normalised +84…
	ResidentID int64  // 0 when the account is not linked to a resident
	Lang       string
	Grants     []Grant
	SessionID  string // hash of the session or token, for sign-out
}

// Covers reports whether the grant's subtree contains unitPath.
func (g Grant) Covers(unitPath string) bool {
	return g.UnitPath != "" && strings.HasPrefix(unitPath, g.UnitPath)
}

// Can reports whether p may do act on the unit at unitPath.
func (p *Principal) Can(act Action, unitPath string) bool {
	if p == nil || unitPath == "" {
		return false
	}
	roles := allowed[act]
	for _, g := range p.Grants {
		if !g.Covers(unitPath) {
			continue
		}
		for _, r := range roles {
			if g.Role == r {
				return true
			}
		}
	}
	return false
}

// CanAnywhere reports whether p may do act on at least one unit; pages use
// it to decide which menu entries to show.
func (p *Principal) CanAnywhere(act Action) bool {
	if p == nil {
		return false
	}
	for _, g := range p.Grants {
		if p.Can(act, g.UnitPath) {
			return true
		}
	}
	return false
}

// Scopes returns the unit paths on which p may do act, with no path
// contained in another: list queries filter by these subtrees.
func (p *Principal) Scopes(act Action) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, g := range p.Grants {
		if !p.Can(act, g.UnitPath) {
			continue
		}
		dup := false
		for i, s := range out {
			if strings.HasPrefix(g.UnitPath, s) {
				dup = true
				break
			}
			if strings.HasPrefix(s, g.UnitPath) {
				out[i] = g.UnitPath
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, g.UnitPath)
		}
	}
	return out
}

// Authorize is the one permission check. It returns nil when p may do act
// on the unit at unitPath, apperr Unauthenticated for an anonymous p, and
// apperr Forbidden otherwise.
func Authorize(p *Principal, act Action, unitPath string) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	if p.Can(act, unitPath) {
		return nil
	}
	return apperr.ErrForbidden
}

// CanGrant reports whether p may grant (or revoke) role on the unit at
// unitPath: administrators any role in their subtree; commune leaders any
// role below their own.
func (p *Principal) CanGrant(role Role, unitPath string) bool {
	if p == nil || !role.Valid() {
		return false
	}
	for _, g := range p.Grants {
		if !g.Covers(unitPath) {
			continue
		}
		switch g.Role {
		case RoleAdmin:
			return true
		case RoleLeader:
			if role != RoleAdmin && role != RoleLeader {
				return true
			}
		}
	}
	return false
}

// AuthorizeGrant is Authorize for granting and revoking roles.
func AuthorizeGrant(p *Principal, role Role, unitPath string) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	if p.CanGrant(role, unitPath) {
		return nil
	}
	return apperr.ErrForbidden
}
