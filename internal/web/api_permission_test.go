package web_test

// The permission matrix: every demo role (and an anonymous visitor) against
// every API route, on targets in three places: the actor's own corner of
// Phường Bến Thành (Khu phố 1 > Tổ 1), Khu phố 2 of the same ward, and
// Phường Sài Gòn. The expected outcome comes from the table below, written
// by hand from the allowed map in internal/account/permission.go, not from
// the code under test. The routes come from the server, so a new route
// without an entry here fails the test.

import (
	"context"
	"encoding/base32"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/demo"
	"github.com/trothu/trothu/internal/vntext"
)

// Places a target can be in. Every demo grant covers some of them.
const (
	pTo1   = "to1"   // Bến Thành > Khu phố 1 > Tổ 1
	pKp1   = "kp1"   // Bến Thành > Khu phố 1
	pKp2   = "kp2"   // Bến Thành > Khu phố 2 (and its Tổ 1)
	pOther = "other" // Phường Sài Gòn (and its Khu phố 1)
)

// Targets: where a case's data lies. hhPlace is the unit households are
// on; containerPlace the unit above it (where khu phố / tổ are created).
var targets = []struct{ name, hhPlace, containerPlace string }{
	{"own", pTo1, pKp1},
	{"kp2", pKp2, pKp2},
	{"other", pOther, pOther},
}

type actor struct {
	name   string
	phone  string // "" for anonymous
	role   string
	covers []string // the places the actor's grant covers
}

var actors = []actor{
	{"admin", phoneAdmin, "admin", []string{pTo1, pKp1, pKp2, pOther}},
	{"commune official", phoneOfficial, "commune_official", []string{pTo1, pKp1, pKp2}},
	{"commune leader", phoneLeader, "commune_leader", []string{pTo1, pKp1, pKp2}},
	{"neighbourhood head", phoneNeighbourhood, "neighbourhood_head", []string{pTo1, pKp1}},
	{"group head", phoneGroupHead, "group_head", []string{pTo1}},
	{"police", phonePolice, "police", []string{pTo1, pKp1, pKp2}},
	{"volunteer", phoneVolunteer, "volunteer", []string{pTo1, pKp1}},
	{"health staff", phoneHealth, "health_staff", []string{pTo1, pKp1, pKp2}},
	{"resident", phoneResident, "resident", []string{pTo1}},
	{"resident of Sài Gòn", phoneResidentOther, "resident", []string{pOther}},
	{"anonymous", "", "", nil},
}

// Actions, as in internal/account/permission.go.
const (
	aView     = "households.view"
	aManage   = "households.manage"
	aImport   = "households.import"
	aExport   = "households.export"
	aCID      = "citizen_id.view"
	aUnits    = "units.manage"
	aOrgs     = "organisations.manage"
	aGrant    = "roles.grant"
	aAccounts = "accounts.view"
	aAudit    = "audit.view"
)

// mayDo is who may do what, written out from permission.go's allowed map.
var mayDo = map[string][]string{
	"resident":           {},
	"volunteer":          {},
	"group_head":         {aView, aManage},
	"neighbourhood_head": {aView, aManage, aImport},
	"police":             {aView, aManage, aExport, aCID},
	"health_staff":       {aView},
	"commune_official":   {aView, aManage, aImport, aExport, aCID, aUnits, aOrgs, aAccounts},
	"commune_leader":     {aView, aManage, aImport, aExport, aCID, aUnits, aOrgs, aGrant, aAccounts, aAudit},
	"admin":              {aView, aManage, aImport, aExport, aCID, aUnits, aOrgs, aGrant, aAccounts, aAudit},
}

func (a actor) can(act, place string) bool {
	return slices.Contains(mayDo[a.role], act) && slices.Contains(a.covers, place)
}

func (a actor) canAnywhere(act string) bool {
	return slices.Contains(mayDo[a.role], act) && len(a.covers) > 0
}

// fixture is the data the matrix points at, made once per environment.
type fixture struct {
	admin       *account.Principal
	hhUnit      map[string]int64 // by place: the unit households are on
	container   map[string]int64 // by place: the unit above it
	readHH      map[string]int64 // by place: a demo household (the residents' own in to1 and other)
	fixHH       map[string]int64 // by place: a household to add residents to
	cidResident map[string]int64 // by place: a resident with a citizen ID
	account     map[string]int64 // by place: an account with a grant there
	wardCode    map[string]string
	point       map[string][2]float64 // lat, lon
}

func (e *env) fixture(t *testing.T) *fixture {
	t.Helper()
	e.fxOnce.Do(func() { e.fx, e.fxErr = e.buildFixture(t) })
	if e.fxErr != nil {
		t.Fatalf("fixture: %v", e.fxErr)
	}
	if e.fx == nil {
		t.Fatal("fixture: its setup failed in an earlier test")
	}
	return e.fx
}

func (e *env) buildFixture(t *testing.T) (*fixture, error) {
	ctx := context.Background()
	bt := e.unitByCode(t, area.LevelCommune, demo.WardCode)
	sg := e.unitByCode(t, area.LevelCommune, demo.OtherWardCode)
	kp1 := e.child(t, bt.ID, "Khu phố 1")
	kp2 := e.child(t, bt.ID, "Khu phố 2")
	fx := &fixture{
		admin:       e.principal(t, phoneAdmin),
		hhUnit:      map[string]int64{pTo1: e.child(t, kp1.ID, "Tổ 1").ID, pKp2: e.child(t, kp2.ID, "Tổ 1").ID, pOther: e.child(t, sg.ID, "Khu phố 1").ID},
		container:   map[string]int64{pTo1: kp1.ID, pKp2: kp2.ID, pOther: sg.ID},
		readHH:      map[string]int64{},
		fixHH:       map[string]int64{},
		cidResident: map[string]int64{},
		account:     map[string]int64{},
		wardCode:    map[string]string{pTo1: demo.WardCode, pKp2: demo.WardCode, pOther: demo.OtherWardCode},
		point:       map[string][2]float64{pTo1: {10.772555, 106.692987}, pKp2: {10.772555, 106.692987}, pOther: {10.779213, 106.699689}},
	}
	for place, code := range map[string]string{pTo1: "BT0001", pKp2: "BT0151", pOther: "SG001"} {
		page, err := e.areas.ListHouseholds(ctx, fx.admin, fx.hhUnit[place], area.HouseholdFilter{Query: code})
		if err != nil {
			return nil, err
		}
		if len(page.Items) != 1 {
			return nil, fmt.Errorf("household %s: got %d, want 1", code, len(page.Items))
		}
		fx.readHH[place] = page.Items[0].ID
	}
	for _, tg := range targets {
		p := tg.hhPlace
		fx.fixHH[p] = e.newHousehold(t, fx.admin, fx.hhUnit[p])
		r, err := e.areas.AddResident(ctx, fx.admin, fx.fixHH[p], area.ResidentInput{FullName: "Lê Thị Căn Cước", CitizenID: e.freshCitizenID()})
		if err != nil {
			return nil, err
		}
		fx.cidResident[p] = r.ID
		fx.account[p] = e.newAccount(t, account.RoleVolunteer, fx.hhUnit[p])
	}
	return fx, nil
}

// freshCitizenID returns a well-formed citizen ID no one in e has ("0792 99…"
// cannot come out of the demo seeder, whose people are born before 1990).
func (e *env) freshCitizenID() string { return fmt.Sprintf("079299%06d", e.next()) }

func (e *env) newHousehold(t *testing.T, p *account.Principal, unitID int64) int64 {
	t.Helper()
	h, err := e.areas.CreateHousehold(context.Background(), p, area.HouseholdInput{UnitID: unitID, Address: fmt.Sprintf("Số %d Đường Thử Nghiệm", e.next())})
	if err != nil {
		t.Fatalf("create household: %v", err)
	}
	return h.ID
}

func (e *env) newResident(t *testing.T, p *account.Principal, householdID int64) int64 {
	t.Helper()
	r, err := e.areas.AddResident(context.Background(), p, householdID, area.ResidentInput{FullName: fmt.Sprintf("Nguyễn Văn Thử %d", e.next())})
	if err != nil {
		t.Fatalf("add resident: %v", err)
	}
	return r.ID
}

func (e *env) newLocalUnit(t *testing.T, p *account.Principal, parentID int64) int64 {
	t.Helper()
	u, err := e.areas.CreateUnit(context.Background(), p, parentID, area.UnitInput{Name: fmt.Sprintf("Tổ T%d", e.next())})
	if err != nil {
		t.Fatalf("create unit: %v", err)
	}
	return u.ID
}

// newAccount creates an account holding role on unitID (0: no grant).
func (e *env) newAccount(t *testing.T, role account.Role, unitID int64) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := e.accounts.CreateAccountSystem(ctx, account.AccountInput{Phone: e.freshPhone(), Name: fmt.Sprintf("Tài khoản thử %d", e.next())})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	if unitID != 0 {
		if _, err := e.accounts.GrantRoleSystem(ctx, a.ID, role, unitID); err != nil {
			t.Fatalf("grant: %v", err)
		}
	}
	return a.ID
}

// mcase is one request of the matrix and what it must give.
type mcase struct {
	path        string
	body        any
	contentType string
	token       string // instead of the actor's usual token
	allowed     bool
	denied      int  // status for a signed-in actor who is refused; 403 if 0
	phonesOK    bool // the body may show phone numbers in full
	citizenIDOK bool // the body may show a citizen ID in full
	after       func()
}

type matrixCtx struct {
	t   *testing.T
	e   *env
	fx  *fixture
	a   actor
	tok string
	hh  string // place of households (and the unit the check is on)
	box string // place of the unit above
}

// matrix maps each route to the case for an actor and a target.
var matrix = map[string]func(m matrixCtx) mcase{
	"GET /api/v1/openapi.json": func(m matrixCtx) mcase { return mcase{path: "/openapi.json", allowed: true} },

	// Sign-in is public: each case uses an account of its own, so that
	// codes are not asked for one phone faster than the rate limit allows.
	"POST /api/v1/auth/otp": func(m matrixCtx) mcase {
		return mcase{path: "/auth/otp", body: map[string]string{"phone": m.e.phoneOf(m.t, m.e.newAccount(m.t, "", 0))}, allowed: true}
	},
	"POST /api/v1/auth/verify": func(m matrixCtx) mcase {
		phone := m.e.phoneOf(m.t, m.e.newAccount(m.t, "", 0))
		res, err := m.e.accounts.RequestOTP(context.Background(), phone, "")
		if err != nil {
			m.t.Fatalf("request code: %v", err)
		}
		return mcase{path: "/auth/verify", body: map[string]string{"phone": phone, "code": res.DemoCode}, allowed: true}
	},
	"POST /api/v1/auth/password": func(m matrixCtx) mcase {
		// The seeder gives every official but the administrator this password.
		return mcase{path: "/auth/password", body: map[string]string{"phone": phoneOfficial, "password": demo.Password}, allowed: true}
	},
	"POST /api/v1/auth/signout": func(m matrixCtx) mcase {
		c := mcase{path: "/auth/signout", allowed: m.a.phone != ""}
		if m.a.phone != "" {
			c.token = m.e.signIn(m.t, m.a.phone) // not the shared token
		}
		return c
	},
	"GET /api/v1/me": func(m matrixCtx) mcase { return mcase{path: "/me", allowed: m.a.phone != ""} },
	"GET /api/v1/me/household": func(m matrixCtx) mcase {
		return mcase{path: "/me/household", allowed: m.a.role == "resident", denied: http.StatusNotFound}
	},
	"POST /api/v1/me/password": func(m matrixCtx) mcase {
		// The same password again: other tests sign in with it.
		return mcase{path: "/me/password", body: map[string]string{"password": demo.Password}, allowed: m.a.phone != ""}
	},
	"POST /api/v1/me/totp": func(m matrixCtx) mcase { return mcase{path: "/me/totp", allowed: m.a.phone != ""} },
	"POST /api/v1/me/totp/confirm": func(m matrixCtx) mcase {
		if m.a.phone == "" {
			return mcase{path: "/me/totp/confirm", body: map[string]string{"code": "123456"}}
		}
		ctx := context.Background()
		p := m.e.principal(m.t, m.a.phone)
		b32, _, err := m.e.accounts.EnrollTOTP(ctx, p)
		if err != nil {
			m.t.Fatalf("enrol: %v", err)
		}
		secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(b32)
		if err != nil {
			m.t.Fatal(err)
		}
		return mcase{path: "/me/totp/confirm", body: map[string]string{"code": account.TOTPCode(secret, time.Now())}, allowed: true,
			after: func() {
				// Off again (with the next step's code), so that password
				// sign-ins elsewhere need no TOTP.
				if err := m.e.accounts.DisableTOTP(ctx, p, account.TOTPCode(secret, time.Now().Add(30*time.Second))); err != nil {
					m.t.Errorf("%s: turn TOTP off: %v", m.a.name, err)
				}
			}}
	},
	"GET /api/v1/demo/accounts": func(m matrixCtx) mcase {
		return mcase{path: "/demo/accounts", allowed: true, phonesOK: true} // the demo's own sign-in list
	},

	"GET /api/v1/areas/locate": func(m matrixCtx) mcase {
		pt := m.fx.point[m.hh]
		return mcase{path: fmt.Sprintf("/areas/locate?lat=%f&lon=%f", pt[0], pt[1]), allowed: true}
	},
	"GET /api/v1/units/root":   func(m matrixCtx) mcase { return mcase{path: "/units/root", allowed: true} },
	"GET /api/v1/units/search": func(m matrixCtx) mcase { return mcase{path: "/units/search?q=ben+thanh", allowed: true} },
	"GET /api/v1/units/resolve": func(m matrixCtx) mcase {
		return mcase{path: "/units/resolve?code=" + m.fx.wardCode[m.hh], allowed: true}
	},
	"GET /api/v1/units/{id}": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/units/%d", m.fx.hhUnit[m.hh]), allowed: true}
	},
	"GET /api/v1/units/{id}/children": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/units/%d/children", m.fx.container[m.hh]), allowed: true}
	},
	"GET /api/v1/units/{id}/ancestors": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/units/%d/ancestors", m.fx.hhUnit[m.hh]), allowed: true}
	},
	"POST /api/v1/units/{id}/children": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/units/%d/children", m.fx.container[m.hh]), body: map[string]string{"name": fmt.Sprintf("Tổ M%d", m.e.next())},
			allowed: m.a.can(aUnits, m.box)}
	},
	"PATCH /api/v1/units/{id}": func(m matrixCtx) mcase {
		id := m.e.newLocalUnit(m.t, m.fx.admin, m.fx.container[m.hh])
		return mcase{path: fmt.Sprintf("/units/%d", id), body: map[string]string{"name": fmt.Sprintf("Tổ R%d", m.e.next())}, allowed: m.a.can(aUnits, m.box)}
	},
	"DELETE /api/v1/units/{id}": func(m matrixCtx) mcase {
		id := m.e.newLocalUnit(m.t, m.fx.admin, m.fx.container[m.hh])
		return mcase{path: fmt.Sprintf("/units/%d", id), allowed: m.a.can(aUnits, m.box)}
	},
	"GET /api/v1/units/{id}/organisations": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/units/%d/organisations", m.fx.container[m.hh]), allowed: true}
	},
	"POST /api/v1/organisations": func(m matrixCtx) mcase {
		return mcase{path: "/organisations", body: map[string]any{"unit_id": m.fx.hhUnit[m.hh], "kind": "women_union", "name": fmt.Sprintf("Chi hội Phụ nữ %d", m.e.next())},
			allowed: m.a.can(aOrgs, m.hh)}
	},

	"GET /api/v1/units/{id}/households": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/units/%d/households", m.fx.hhUnit[m.hh]), allowed: m.a.can(aView, m.hh), phonesOK: m.a.can(aView, m.hh)}
	},
	"POST /api/v1/units/{id}/households/import": func(m matrixCtx) mcase {
		n := m.e.next()
		csv := fmt.Sprintf("ma_ho,dia_chi,ho_ten,quan_he\nNK%d,Số %d Đường Nhập Khẩu,Trần Văn Nhập %d,Chủ hộ\n", n, n, n)
		return mcase{path: fmt.Sprintf("/units/%d/households/import", m.fx.hhUnit[m.hh]), body: []byte(csv), contentType: "text/csv",
			allowed: m.a.can(aImport, m.hh)}
	},
	"GET /api/v1/units/{id}/households/export": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/units/%d/households/export", m.fx.hhUnit[m.hh]), allowed: m.a.can(aExport, m.hh), phonesOK: m.a.can(aView, m.hh)}
	},
	"POST /api/v1/households": func(m matrixCtx) mcase {
		return mcase{path: "/households", body: map[string]any{"unit_id": m.fx.hhUnit[m.hh], "address": fmt.Sprintf("Số %d Đường Mới", m.e.next())},
			allowed: m.a.can(aManage, m.hh)}
	},
	"GET /api/v1/households/{id}": func(m matrixCtx) mcase {
		// The demo households of to1 and other are the two residents' own.
		own := m.a.role == "resident" && slices.Contains(m.a.covers, m.hh)
		return mcase{path: fmt.Sprintf("/households/%d", m.fx.readHH[m.hh]), allowed: m.a.can(aView, m.hh) || own, phonesOK: m.a.can(aView, m.hh)}
	},
	"PATCH /api/v1/households/{id}": func(m matrixCtx) mcase {
		id := m.e.newHousehold(m.t, m.fx.admin, m.fx.hhUnit[m.hh])
		return mcase{path: fmt.Sprintf("/households/%d", id), body: map[string]any{"address": fmt.Sprintf("Số %d Đường Đổi", m.e.next()), "flags": 1},
			allowed: m.a.can(aManage, m.hh)}
	},
	"DELETE /api/v1/households/{id}": func(m matrixCtx) mcase {
		id := m.e.newHousehold(m.t, m.fx.admin, m.fx.hhUnit[m.hh])
		return mcase{path: fmt.Sprintf("/households/%d", id), allowed: m.a.can(aManage, m.hh)}
	},
	"POST /api/v1/households/{id}/move": func(m matrixCtx) mcase {
		id := m.e.newHousehold(m.t, m.fx.admin, m.fx.hhUnit[m.hh])
		return mcase{path: fmt.Sprintf("/households/%d/move", id), body: map[string]any{"unit_id": m.fx.container[m.hh]},
			allowed: m.a.can(aManage, m.hh) && m.a.can(aManage, m.box)}
	},
	"POST /api/v1/households/{id}/residents": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/households/%d/residents", m.fx.fixHH[m.hh]), body: map[string]any{"full_name": "Phạm Thị Thêm", "birth_year": 1990},
			allowed: m.a.can(aManage, m.hh)}
	},
	"PATCH /api/v1/residents/{id}": func(m matrixCtx) mcase {
		id := m.e.newResident(m.t, m.fx.admin, m.fx.fixHH[m.hh])
		return mcase{path: fmt.Sprintf("/residents/%d", id), body: map[string]any{"full_name": "Phạm Thị Sửa", "gender": "Nữ"}, allowed: m.a.can(aManage, m.hh)}
	},
	"DELETE /api/v1/residents/{id}": func(m matrixCtx) mcase {
		id := m.e.newResident(m.t, m.fx.admin, m.fx.fixHH[m.hh])
		return mcase{path: fmt.Sprintf("/residents/%d", id), allowed: m.a.can(aManage, m.hh)}
	},
	"GET /api/v1/residents/{id}/citizen-id": func(m matrixCtx) mcase {
		ok := m.a.can(aCID, m.hh)
		return mcase{path: fmt.Sprintf("/residents/%d/citizen-id", m.fx.cidResident[m.hh]), allowed: ok, citizenIDOK: ok}
	},

	"GET /api/v1/accounts": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/accounts?unit_id=%d", m.fx.hhUnit[m.hh]), allowed: m.a.can(aAccounts, m.hh)}
	},
	"POST /api/v1/accounts": func(m matrixCtx) mcase {
		return mcase{path: "/accounts", body: map[string]string{"phone": m.e.freshPhone(), "name": "Người Được Tạo"}, allowed: m.a.canAnywhere(aGrant)}
	},
	"GET /api/v1/accounts/{id}/grants": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/accounts/%d/grants", m.fx.account[m.hh]), allowed: m.a.can(aAccounts, m.hh)}
	},
	"POST /api/v1/accounts/{id}/grants": func(m matrixCtx) mcase {
		id := m.e.newAccount(m.t, "", 0)
		return mcase{path: fmt.Sprintf("/accounts/%d/grants", id), body: map[string]any{"role": "volunteer", "unit_id": m.fx.hhUnit[m.hh]},
			allowed: m.a.can(aGrant, m.hh)}
	},
	"DELETE /api/v1/grants/{id}": func(m matrixCtx) mcase {
		id := m.e.newAccount(m.t, account.RoleVolunteer, m.fx.hhUnit[m.hh])
		gs, err := m.e.accounts.Grants(context.Background(), id)
		if err != nil || len(gs) != 1 {
			m.t.Fatalf("grants of %d: %v %v", id, gs, err)
		}
		return mcase{path: fmt.Sprintf("/grants/%d", gs[0].ID), allowed: m.a.can(aGrant, m.hh)}
	},
	"GET /api/v1/audit": func(m matrixCtx) mcase { return mcase{path: "/audit?limit=200", allowed: m.a.canAnywhere(aAudit)} },
}

func (e *env) phoneOf(t *testing.T, accountID int64) string {
	t.Helper()
	a, err := e.accounts.Account(context.Background(), accountID)
	if err != nil {
		t.Fatalf("account %d: %v", accountID, err)
	}
	return a.Phone
}

var (
	// Phone numbers in full: +84… or 0…, not part of a longer number.
	fullPhone = regexp.MustCompile(`(?:^|[^0-9+*])(\+84[35789][0-9]{8}|0[35789][0-9]{8})(?:[^0-9]|$)`)
	// Citizen-ID numbers in full: twelve digits on their own.
	fullCitizenID = regexp.MustCompile(`(?:^|[^0-9])[0-9]{12}(?:[^0-9]|$)`)
)

func TestAPIPermissionMatrix(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		start := time.Now()
		fx := e.fixture(t)
		routes := e.srv.APIRoutes()
		for _, r := range routes {
			if matrix[r] == nil {
				t.Errorf("route %s has no entry in the permission matrix", r)
			}
		}
		for k := range matrix {
			if !slices.Contains(routes, k) {
				t.Errorf("matrix entry %s is not a registered route", k)
			}
		}
		slices.Sort(routes)
		n := 0
		for _, route := range routes {
			spec := matrix[route]
			if spec == nil {
				continue
			}
			method, _, _ := strings.Cut(route, " ")
			for _, a := range actors {
				tok := ""
				if a.phone != "" {
					tok = e.token(t, a.phone)
				}
				for _, tg := range targets {
					c := spec(matrixCtx{t: t, e: e, fx: fx, a: a, tok: tok, hh: tg.hhPlace, box: tg.containerPlace})
					n++
					checkCase(t, e, route, method, a, tg.name, tok, c)
				}
			}
		}
		t.Logf("%d cases over %d routes in %v", n, len(routes), time.Since(start).Round(time.Millisecond))
	})
}

func checkCase(t *testing.T, e *env, route, method string, a actor, target, tok string, c mcase) {
	t.Helper()
	if c.token != "" {
		tok = c.token
	}
	r := e.call(t, method, c.path, tok, c.body, c.contentType, "")
	if c.after != nil {
		defer c.after()
	}
	want := "2xx"
	ok := r.status >= 200 && r.status < 300
	if !c.allowed {
		w := c.denied
		if w == 0 {
			w = http.StatusForbidden
		}
		if a.phone == "" {
			w = http.StatusUnauthorized
		}
		want = fmt.Sprint(w)
		ok = r.status == w
		if ok && r.json.str("error.code") == "" {
			t.Errorf("%s as %s on %s: got %d without the error contract: %s", route, a.name, target, r.status, r.raw)
		}
	}
	if !ok {
		t.Errorf("%s as %s on %s: got %d, want %s; body %.300s", route, a.name, target, r.status, want, r.raw)
	}
	body := string(r.raw)
	own, _ := vntext.NormalizePhone(a.phone)
	for _, m := range fullPhone.FindAllStringSubmatch(body, -1) {
		if p, _ := vntext.NormalizePhone(m[1]); !c.phonesOK && p != own {
			t.Errorf("%s as %s on %s: leaks the phone number %s: %.300s", route, a.name, target, m[1], body)
			break
		}
	}
	if !c.citizenIDOK {
		if m := fullCitizenID.FindString(body); m != "" {
			t.Errorf("%s as %s on %s: leaks a citizen ID %q: %.300s", route, a.name, target, m, body)
		}
	}
}
