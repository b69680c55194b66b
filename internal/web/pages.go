package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/demo"
)

func (s *Server) pageRoutes() {
	s.handle("GET /{$}", s.homePage)
	s.handle("GET /signin", s.signinPage)
	s.handle("POST /signin/code", s.signinRequestCode)
	s.handle("POST /signin/verify", s.signinVerify)
	s.handle("POST /signin/password", s.signinPassword)
	s.handle("POST /signout", s.signout)
	s.handle("GET /household", s.myHouseholdPage)
	s.handle("GET /units", s.unitsRootPage)
	s.handle("GET /units/{id}", s.unitPage)
	s.handle("POST /units/{id}/children", s.unitCreateChild)
	s.handle("GET /units/{id}/households", s.householdsPage)
	s.handle("POST /units/{id}/households", s.householdCreate)
	s.handle("POST /units/{id}/households/import", s.householdsImport)
	s.handle("GET /units/{id}/households.csv", s.householdsExport)
	s.handle("GET /households/{id}", s.householdPage)
	s.handle("POST /households/{id}", s.householdUpdate)
	s.handle("POST /households/{id}/delete", s.householdDelete)
	s.handle("POST /households/{id}/residents", s.residentCreate)
	s.handle("POST /residents/{id}", s.residentUpdate)
	s.handle("POST /residents/{id}/delete", s.residentDelete)
	s.handle("POST /residents/{id}/citizen-id", s.residentRevealCitizenID)
	s.handle("GET /roles", s.rolesPage)
	s.handle("POST /roles/grant", s.rolesGrant)
	s.handle("POST /roles/{id}/revoke", s.rolesRevoke)
	s.handle("GET /audit", s.auditPage)
}

// DemoAccount is a demo sign-in shown on the sign-in page.
type DemoAccount = demo.Account

func (s *Server) demoAccounts(r *http.Request) []DemoAccount {
	acc, err := demo.Accounts(r.Context(), s.db)
	if err != nil {
		s.log(r).Error("demo accounts", "err", err)
		return nil
	}
	for i := range acc {
		acc[i].Role = roleLabel(acc[i].Role, langOf(r))
	}
	return acc
}

type homeData struct {
	Units []grantUnit
}

type grantUnit struct {
	ID   int64
	Name string
	Role string
}

func (s *Server) homePage(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	var d homeData
	if p != nil {
		seen := map[int64]bool{}
		for _, g := range p.Grants {
			if seen[g.UnitID] {
				continue
			}
			seen[g.UnitID] = true
			d.Units = append(d.Units, grantUnit{ID: g.UnitID, Name: g.UnitName, Role: g.Role.Label(langOf(r))})
		}
	}
	s.render(w, r, http.StatusOK, "home.html", translate(langOf(r), "home.title"), d, "")
}

// roleLabel translates a stored role name, keeping any note after it
// ("resident (Phường Sài Gòn)").
func roleLabel(role, lang string) string {
	r, rest, _ := strings.Cut(role, " ")
	l := account.Role(r).Label(lang)
	if rest != "" {
		l += " " + rest
	}
	return l
}

// flash returns the confirmation named by ?msg= after a redirect.
func flash(r *http.Request) string {
	m := r.URL.Query().Get("msg")
	if m == "" {
		return ""
	}
	if t := translate(langOf(r), "flash."+m); t != "flash."+m {
		return t
	}
	return ""
}

// formInt reads an optional integer form field; empty is 0.
func formInt(r *http.Request, name string) (int, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, apperr.InvalidField(name, "Vui lòng nhập một số.", "Please enter a number.")
	}
	return n, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func codeOf(err error) apperr.Code { return apperr.CodeOf(err) }

// message is err's text in the request's language; internal errors were
// logged by the caller's pageError path and show a generic text.
func message(r *http.Request, err error) string { return apperr.From(err).Message(langOf(r)) }

// formError reports whether err is something the user can fix in the form
// (shown next to it) rather than a page-level failure.
func formError(err error) bool {
	switch codeOf(err) {
	case apperr.Invalid, apperr.Conflict:
		return true
	}
	return false
}
