package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
)

type rolesData struct {
	Page    account.AccountPage
	Query   string
	Roles   []roleOpt
	Units   []unitOpt
	Error   string
	Form    grantForm
	NextURL string
}

type roleOpt struct{ Value, Label string }

type unitOpt struct {
	ID    int64
	Label string
}

type grantForm struct {
	Phone, Name, Role string
	UnitID            int64
}

// grantableUnits lists the units the principal may grant roles on: the
// units of its granting roles and, below communes, their khu phố and tổ.
func (s *Server) grantableUnits(r *http.Request, p *account.Principal) []unitOpt {
	var out []unitOpt
	seen := map[int64]bool{}
	for _, g := range p.Grants {
		if (g.Role != account.RoleAdmin && g.Role != account.RoleLeader) || seen[g.UnitID] {
			continue
		}
		seen[g.UnitID] = true
		u, err := s.areas.Unit(r.Context(), g.UnitID)
		if err != nil {
			continue
		}
		out = append(out, unitOpt{ID: u.ID, Label: u.FullName})
		units, err := s.placeableUnits(r, u)
		if err != nil {
			continue
		}
		for _, c := range units[1:] {
			if !seen[c.ID] {
				seen[c.ID] = true
				out = append(out, unitOpt{ID: c.ID, Label: u.FullName + " › " + c.Name})
			}
		}
	}
	return out
}

func (s *Server) rolesPage(w http.ResponseWriter, r *http.Request) {
	s.showRoles(w, r, http.StatusOK, rolesData{})
}

func (s *Server) showRoles(w http.ResponseWriter, r *http.Request, code int, d rolesData) {
	p := principalOf(r)
	if p == nil {
		s.pageError(w, r, apperr.ErrUnauthenticated)
		return
	}
	if !p.CanAnywhere(account.ActGrantRoles) {
		s.pageError(w, r, apperr.ErrForbidden)
		return
	}
	d.Query = r.URL.Query().Get("q")
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	page, err := s.accounts.ListAccounts(r.Context(), p, account.AccountFilter{Query: d.Query, After: after, Limit: 50})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Page = page
	if page.Next != 0 {
		d.NextURL = fmt.Sprintf("/roles?q=%s&after=%d", url.QueryEscape(d.Query), page.Next)
	}
	for _, role := range account.Roles {
		d.Roles = append(d.Roles, roleOpt{Value: string(role), Label: role.Label(langOf(r))})
	}
	d.Units = s.grantableUnits(r, p)
	s.render(w, r, code, "roles.html", translate(langOf(r), "nav.roles"), d, flash(r))
}

func (s *Server) rolesGrant(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), principalOf(r)
	f := grantForm{Phone: strings.TrimSpace(r.PostFormValue("phone")), Name: strings.TrimSpace(r.PostFormValue("name")), Role: r.PostFormValue("role")}
	f.UnitID, _ = strconv.ParseInt(r.PostFormValue("unit_id"), 10, 64)
	err := func() error {
		u, err := s.areas.Unit(ctx, f.UnitID)
		if err != nil {
			return err
		}
		acc, err := s.accounts.AccountByPhone(ctx, f.Phone)
		if apperr.CodeOf(err) == apperr.NotFound {
			acc, err = s.accounts.CreateAccount(ctx, p, account.AccountInput{Phone: f.Phone, Name: f.Name})
		}
		if err != nil {
			return err
		}
		_, err = s.accounts.GrantRole(ctx, p, acc.ID, account.Role(f.Role), u.ID, u.Path)
		return err
	}()
	if err != nil {
		if !formError(err) && codeOf(err) != apperr.NotFound && codeOf(err) != apperr.Forbidden {
			s.pageError(w, r, err)
			return
		}
		s.showRoles(w, r, status(codeOf(err)), rolesData{Error: message(r, err), Form: f})
		return
	}
	http.Redirect(w, r, "/roles?msg=role_granted", http.StatusSeeOther)
}

func (s *Server) rolesRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if err := s.accounts.RevokeRole(r.Context(), principalOf(r), id); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/roles?msg=role_revoked", http.StatusSeeOther)
}

type auditData struct {
	Entries []audit.Entry
	Action  string
	NextURL string
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p == nil {
		s.pageError(w, r, apperr.ErrUnauthenticated)
		return
	}
	scopes := p.Scopes(account.ActViewAudit)
	if len(scopes) == 0 {
		s.pageError(w, r, apperr.ErrForbidden)
		return
	}
	d := auditData{Action: r.URL.Query().Get("action")}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	entries, err := audit.List(r.Context(), s.db, audit.Filter{Scopes: scopes, Unfiled: rootScope(scopes), Action: d.Action, Before: before, Limit: 100})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Entries = entries
	if len(entries) == 100 {
		d.NextURL = fmt.Sprintf("/audit?action=%s&before=%d", url.QueryEscape(d.Action), entries[len(entries)-1].ID)
	}
	s.render(w, r, http.StatusOK, "audit.html", translate(langOf(r), "nav.audit"), d, "")
}
