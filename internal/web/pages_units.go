package web

import (
	"net/http"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
)

type unitData struct {
	Unit          area.Unit
	Crumbs        []area.Unit
	Children      []area.UnitSummary
	Orgs          []area.Organisation
	Historic      bool
	Successors    []area.Unit
	CanHouseholds bool
	CanCreate     bool
	ChildLevel    area.Level
	Kinds         []string
	Error         string
	Form          area.UnitInput
}

func (s *Server) unitsRootPage(w http.ResponseWriter, r *http.Request) {
	root, err := s.areas.Root(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.showUnit(w, r, root.ID, http.StatusOK, unitData{})
}

func (s *Server) unitPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.showUnit(w, r, id, http.StatusOK, unitData{})
}

func (s *Server) showUnit(w http.ResponseWriter, r *http.Request, id int64, code int, d unitData) {
	ctx := r.Context()
	u, err := s.areas.Unit(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Unit = u
	d.Historic = r.URL.Query().Get("historic") == "1"
	if d.Crumbs, err = s.areas.Ancestors(ctx, u); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.Children, err = s.areas.Children(ctx, u.ID, d.Historic); err != nil {
		s.pageError(w, r, err)
		return
	}
	if !u.Current() && u.Code != "" {
		d.Successors, _ = s.areas.Resolve(ctx, u.Code) // best effort: the page still shows the unit
	}
	if u.Level == area.LevelCommune || u.Level == area.LevelNeighbourhood || u.Level == area.LevelGroup {
		if d.Orgs, err = s.areas.ListOrganisations(ctx, u.ID); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	p := principalOf(r)
	d.CanHouseholds = u.Current() && p.Can(account.ActViewHouseholds, u.Path)
	if u.Current() && p.Can(account.ActManageUnits, u.Path) {
		switch u.Level {
		case area.LevelCommune:
			d.CanCreate, d.ChildLevel = true, area.LevelNeighbourhood
		case area.LevelNeighbourhood:
			d.CanCreate, d.ChildLevel = true, area.LevelGroup
		}
		d.Kinds = area.LocalKinds[d.ChildLevel]
	}
	s.render(w, r, code, "unit.html", u.FullName, d, flash(r))
}

func (s *Server) unitCreateChild(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	in := area.UnitInput{Level: area.Level(r.PostFormValue("level")), Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name")}
	u, err := s.areas.CreateUnit(r.Context(), principalOf(r), id, in)
	if err != nil {
		if !formError(err) {
			s.pageError(w, r, err)
			return
		}
		s.showUnit(w, r, id, status(codeOf(err)), unitData{Error: message(r, err), Form: in})
		return
	}
	http.Redirect(w, r, "/units/"+itoa(u.ParentID)+"?msg=unit_created", http.StatusSeeOther)
}
