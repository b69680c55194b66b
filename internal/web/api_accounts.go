package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/vntext"
)

type grantView struct {
	ID       int64        `json:"id"`
	Role     account.Role `json:"role"`
	RoleName string       `json:"role_name"` // in the request's language
	UnitID   int64        `json:"unit_id"`
	UnitName string       `json:"unit_name"`
}

func grantViews(gs []account.Grant, lang string) []grantView {
	out := make([]grantView, 0, len(gs))
	for _, g := range gs {
		out = append(out, grantView{ID: g.ID, Role: g.Role, RoleName: g.Role.Label(lang), UnitID: g.UnitID, UnitName: g.UnitName})
	}
	return out
}

func (s *Server) apiAccountList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, limit, err := apiAfterLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	unitID, err := apiQueryInt(r, "unit_id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	f := account.AccountFilter{Query: q.Get("q"), Role: account.Role(q.Get("role")), After: after, Limit: limit}
	if unitID != 0 {
		u, err := s.areas.Unit(r.Context(), unitID)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		f.Scope = u.Path
	}
	page, err := s.accounts.ListAccounts(r.Context(), principalOf(r), f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	next := ""
	if page.Next != 0 {
		next = strconv.FormatInt(page.Next, 10)
	}
	writeJSON(w, http.StatusOK, apiListOf(page.Accounts, next))
}

type accountCreate struct {
	Phone      string `json:"phone"`
	Name       string `json:"name"`
	ResidentID int64  `json:"resident_id"`
}

func (s *Server) apiAccountCreate(w http.ResponseWriter, r *http.Request) {
	var in accountCreate
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.accounts.CreateAccount(r.Context(), principalOf(r), account.AccountInput{Phone: in.Phone, Name: in.Name, ResidentID: in.ResidentID})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	a.Phone = vntext.MaskPhone(a.Phone) // phones in account listings are always masked
	writeJSON(w, http.StatusCreated, a)
}

// apiGrantList shows an account's grants: all of them to the account
// itself; to others, those within the subtrees where they may view
// accounts (none visible is Forbidden).
func (s *Server) apiGrantList(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	p := principalOf(r)
	if p == nil {
		s.apiError(w, r, apperr.ErrUnauthenticated)
		return
	}
	scopes := p.Scopes(account.ActViewAccounts)
	if p.AccountID != id && len(scopes) == 0 {
		s.apiError(w, r, apperr.ErrForbidden)
		return
	}
	grants, err := s.accounts.Grants(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if p.AccountID != id {
		grants = grantsWithin(grants, scopes)
		if len(grants) == 0 {
			s.apiError(w, r, apperr.ErrForbidden)
			return
		}
	}
	writeJSON(w, http.StatusOK, apiListOf(grantViews(grants, langOf(r)), ""))
}

func grantsWithin(gs []account.Grant, scopes []string) []account.Grant {
	var out []account.Grant
	for _, g := range gs {
		for _, sc := range scopes {
			if strings.HasPrefix(g.UnitPath, sc) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

type grantCreate struct {
	Role   account.Role `json:"role"`
	UnitID int64        `json:"unit_id"`
}

func (s *Server) apiGrantCreate(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var in grantCreate
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	p := principalOf(r)
	if p == nil {
		s.apiError(w, r, apperr.ErrUnauthenticated)
		return
	}
	u, err := s.areas.Unit(r.Context(), in.UnitID)
	if apperr.CodeOf(err) == apperr.NotFound {
		err = apperr.InvalidField("unit_id", "Không tìm thấy đơn vị.", "No such unit.")
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	g, err := s.accounts.GrantRole(r.Context(), p, id, in.Role, u.ID, u.Path)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, grantViews([]account.Grant{g}, langOf(r))[0])
}
