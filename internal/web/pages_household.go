package web

import (
	"fmt"
	"html"
	"net/http"
	"strconv"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
)

type householdData struct {
	H            area.HouseholdDetail
	Crumbs       []area.Unit
	Mine         bool
	CanManage    bool
	CanReveal    bool
	FlagOpts     []flagOpt
	Units        []area.UnitSummary
	Error        string
	ResidentForm area.ResidentInput
	EditID       int64
	Revealed     map[int64]string // resident id → citizen ID shown after a reveal
}

func (s *Server) myHouseholdPage(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	h, err := s.areas.MyHousehold(r.Context(), p)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.showHousehold(w, r, h, http.StatusOK, householdData{Mine: true})
}

func (s *Server) householdPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.loadHousehold(w, r, id, http.StatusOK, householdData{})
}

func (s *Server) loadHousehold(w http.ResponseWriter, r *http.Request, id int64, code int, d householdData) {
	h, err := s.areas.Household(r.Context(), principalOf(r), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.showHousehold(w, r, h, code, d)
}

func (s *Server) showHousehold(w http.ResponseWriter, r *http.Request, h area.HouseholdDetail, code int, d householdData) {
	p := principalOf(r)
	d.H = h
	d.FlagOpts = flagOptions(langOf(r))
	d.CanManage = p.Can(account.ActManageHouseholds, h.UnitPath)
	d.CanReveal = p.Can(account.ActViewCitizenID, h.UnitPath)
	if u, err := s.areas.Unit(r.Context(), h.UnitID); err == nil {
		d.Crumbs, _ = s.areas.Ancestors(r.Context(), u) // breadcrumbs are a convenience
		d.Crumbs = append(d.Crumbs, u)
		if d.CanManage {
			d.Units, _ = s.placeableUnits(r, commune(d.Crumbs, u))
		}
	}
	s.render(w, r, code, "household.html", h.Address, d, flash(r))
}

// commune returns the commune-level unit among the crumbs (or u itself).
func commune(crumbs []area.Unit, u area.Unit) area.Unit {
	for _, c := range crumbs {
		if c.Level == area.LevelCommune {
			return c
		}
	}
	return u
}

func (s *Server) householdUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, err)
		return
	}
	in, _ := householdForm(r, 0)
	ctx, p := r.Context(), principalOf(r)
	cur, err := s.areas.Household(ctx, p, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if in.UnitID == 0 {
		in.UnitID = cur.UnitID
	}
	in.Lat, in.Lon = cur.Lat, cur.Lon
	if in.UnitID != cur.UnitID {
		if _, err := s.areas.MoveHousehold(ctx, p, id, in.UnitID); err != nil {
			s.householdFormError(w, r, id, err, householdData{})
			return
		}
	}
	if _, err := s.areas.UpdateHousehold(ctx, p, id, in); err != nil {
		s.householdFormError(w, r, id, err, householdData{})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/households/%d?msg=saved", id), http.StatusSeeOther)
}

func (s *Server) householdFormError(w http.ResponseWriter, r *http.Request, id int64, err error, d householdData) {
	if !formError(err) {
		s.pageError(w, r, err)
		return
	}
	d.Error = message(r, err)
	s.loadHousehold(w, r, id, status(codeOf(err)), d)
}

func (s *Server) householdDelete(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx, p := r.Context(), principalOf(r)
	h, err := s.areas.Household(ctx, p, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if err := s.areas.DeleteHousehold(ctx, p, id); err != nil {
		s.householdFormError(w, r, id, err, householdData{})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/units/%d/households?msg=household_deleted", h.UnitID), http.StatusSeeOther)
}

func residentForm(r *http.Request) (area.ResidentInput, error) {
	year, err := formInt(r, "birth_year")
	in := area.ResidentInput{
		FullName: r.PostFormValue("full_name"), BirthYear: year, Gender: area.Gender(r.PostFormValue("gender")),
		Relation: r.PostFormValue("relation"), Phone: r.PostFormValue("phone"), CitizenID: r.PostFormValue("citizen_id"),
		IsHead: r.PostFormValue("is_head") == "1", ClearCitizenID: r.PostFormValue("clear_citizen_id") == "1",
	}
	return in, err
}

func (s *Server) residentCreate(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	in, err := residentForm(r)
	if err == nil {
		_, err = s.areas.AddResident(r.Context(), principalOf(r), id, in)
	}
	if err != nil {
		in.CitizenID = "" // never echo a citizen ID back into the page
		s.householdFormError(w, r, id, err, householdData{ResidentForm: in})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/households/%d?msg=resident_added", id), http.StatusSeeOther)
}

func (s *Server) residentUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	hid, _ := strconv.ParseInt(r.PostFormValue("household_id"), 10, 64)
	in, err := residentForm(r)
	var res area.Resident
	if err == nil {
		res, err = s.areas.UpdateResident(r.Context(), principalOf(r), id, in)
	}
	if err != nil {
		if hid == 0 {
			s.pageError(w, r, err)
			return
		}
		s.householdFormError(w, r, hid, err, householdData{EditID: id})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/households/%d?msg=saved", res.HouseholdID), http.StatusSeeOther)
}

func (s *Server) residentDelete(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	hid, _ := strconv.ParseInt(r.PostFormValue("household_id"), 10, 64)
	if err := s.areas.DeleteResident(r.Context(), principalOf(r), id); err != nil {
		if hid == 0 {
			s.pageError(w, r, err)
			return
		}
		s.householdFormError(w, r, hid, err, householdData{})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/households/%d?msg=resident_deleted", hid), http.StatusSeeOther)
}

// residentRevealCitizenID answers the htmx "show" button with the number
// in place of the mask; the reveal is audited by the area room.
func (s *Server) residentRevealCitizenID(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	n, err := s.areas.RevealCitizenID(r.Context(), principalOf(r), id)
	if err != nil {
		if r.Header.Get("HX-Request") == "" {
			s.pageError(w, r, err)
			return
		}
		w.WriteHeader(status(codeOf(err)))
		fmt.Fprintf(w, `<span class="alert error">%s</span>`, html.EscapeString(message(r, err)))
		return
	}
	if r.Header.Get("HX-Request") == "" {
		// Without script the page comes back whole, with the number shown.
		hid, _ := strconv.ParseInt(r.PostFormValue("household_id"), 10, 64)
		s.loadHousehold(w, r, hid, http.StatusOK, householdData{Revealed: map[int64]string{id: n}})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `<strong class="cccd">%s</strong>`, html.EscapeString(n))
}
