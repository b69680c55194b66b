package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
)

type householdsData struct {
	Unit      area.Unit
	Crumbs    []area.Unit
	Page      area.HouseholdPage
	Query     string
	Flag      int
	FlagOpts  []flagOpt
	Units     []area.UnitSummary // where a new household may be placed
	CanManage bool
	CanImport bool
	CanExport bool
	Error     string
	Report    *area.CSVReport
	Form      area.HouseholdInput
	NextURL   string
}

type flagOpt struct {
	Value int
	Label string
}

func flagOptions(lang string) []flagOpt {
	var out []flagOpt
	for _, f := range []area.Flags{area.FlagElderlyAlone, area.FlagDisability, area.FlagNoSmartphone, area.FlagQuarantined} {
		out = append(out, flagOpt{Value: int(f), Label: strings.Join(f.Labels(lang), "")})
	}
	return out
}

func (s *Server) householdsPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.showHouseholds(w, r, id, http.StatusOK, householdsData{})
}

func (s *Server) showHouseholds(w http.ResponseWriter, r *http.Request, id int64, code int, d householdsData) {
	ctx, p, q := r.Context(), principalOf(r), r.URL.Query()
	d.Query = q.Get("q")
	d.Flag, _ = strconv.Atoi(q.Get("flag"))
	page, err := s.areas.ListHouseholds(ctx, p, id, area.HouseholdFilter{Query: d.Query, Flags: area.Flags(d.Flag), After: q.Get("after"), Limit: 50})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Page = page
	if d.Unit, err = s.areas.Unit(ctx, id); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.Crumbs, err = s.areas.Ancestors(ctx, d.Unit); err != nil {
		s.pageError(w, r, err)
		return
	}
	d.FlagOpts = flagOptions(langOf(r))
	d.CanManage = p.Can(account.ActManageHouseholds, d.Unit.Path)
	d.CanImport = p.Can(account.ActImportHouseholds, d.Unit.Path)
	d.CanExport = p.Can(account.ActExportHouseholds, d.Unit.Path)
	if d.CanManage {
		d.Units, _ = s.placeableUnits(r, d.Unit) // best effort: the form falls back to this unit
	}
	if page.Next != "" {
		v := url.Values{"after": {page.Next}}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		if d.Flag != 0 {
			v.Set("flag", strconv.Itoa(d.Flag))
		}
		d.NextURL = fmt.Sprintf("/units/%d/households?%s", id, v.Encode())
	}
	s.render(w, r, code, "households.html", d.Unit.FullName, d, flash(r))
}

// placeableUnits lists the unit and the current local units below it (two
// levels at most: khu phố and tổ), for the "where does it live" select.
func (s *Server) placeableUnits(r *http.Request, u area.Unit) ([]area.UnitSummary, error) {
	out := []area.UnitSummary{{Unit: u}}
	kids, err := s.areas.Children(r.Context(), u.ID, false)
	if err != nil {
		return out, err
	}
	for _, k := range kids {
		out = append(out, k)
		if k.Level == area.LevelNeighbourhood {
			gk, err := s.areas.Children(r.Context(), k.ID, false)
			if err != nil {
				return out, err
			}
			for _, g := range gk {
				g.Name = k.Name + " › " + g.Name
				out = append(out, g)
			}
		}
	}
	return out, nil
}

func householdForm(r *http.Request, unitID int64) (area.HouseholdInput, error) {
	in := area.HouseholdInput{UnitID: unitID, Code: r.PostFormValue("code"), Address: r.PostFormValue("address")}
	if v := r.PostFormValue("unit_id"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			in.UnitID = n
		}
	}
	for _, f := range r.PostForm["flags"] {
		n, err := strconv.Atoi(f)
		if err == nil {
			in.Flags |= area.Flags(n)
		}
	}
	return in, nil
}

func (s *Server) householdCreate(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, err)
		return
	}
	in, _ := householdForm(r, id)
	h, err := s.areas.CreateHousehold(r.Context(), principalOf(r), in)
	if err != nil {
		if !formError(err) {
			s.pageError(w, r, err)
			return
		}
		s.showHouseholds(w, r, id, status(codeOf(err)), householdsData{Error: message(r, err), Form: in})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/households/%d?msg=household_created", h.ID), http.StatusSeeOther)
}

func (s *Server) householdsImport(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 20<<20)
	file, _, err := r.FormFile("file")
	if err != nil {
		s.showHouseholds(w, r, id, http.StatusBadRequest, householdsData{Error: translate(langOf(r), "households.import_nofile")})
		return
	}
	defer file.Close()
	rep, err := s.areas.ImportHouseholdsCSV(r.Context(), principalOf(r), id, file)
	if err != nil {
		if !formError(err) {
			s.pageError(w, r, err)
			return
		}
		s.showHouseholds(w, r, id, status(codeOf(err)), householdsData{Error: message(r, err), Report: &rep})
		return
	}
	s.showHouseholds(w, r, id, http.StatusOK, householdsData{Report: &rep})
}

func (s *Server) householdsExport(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	u, err := s.areas.Unit(r.Context(), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	// Check before writing headers, so a refusal is a proper error page.
	if err := account.Authorize(principalOf(r), account.ActExportHouseholds, u.Path); err != nil {
		s.pageError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", attachment("Hộ gia đình - "+u.FullName+".csv"))
	w.Header().Set("Cache-Control", "no-store")
	if err := s.areas.ExportHouseholdsCSV(r.Context(), principalOf(r), id, w); err != nil {
		s.log(r).Error("export households", "err", err)
	}
}
