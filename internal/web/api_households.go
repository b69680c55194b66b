package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
)

func (s *Server) apiHouseholdList(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	q := r.URL.Query()
	flags, err := apiQueryFlags(q.Get("flags"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	limit, err := apiQueryLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	page, err := s.areas.ListHouseholds(r.Context(), principalOf(r), id, area.HouseholdFilter{
		Query: q.Get("q"), Flags: flags, After: q.Get("after"), Limit: limit,
	})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(page.Items, page.Next))
}

// apiQueryFlags reads ?flags= as a bitmask ("3") or as flag names in
// Vietnamese or English ("neo đơn,khuyết tật").
func apiQueryFlags(v string) (area.Flags, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 || area.Flags(n)&^area.AllFlags != 0 {
			return 0, apperr.InvalidField("flags", "Đặc điểm hộ không hợp lệ.", "Invalid household flags.")
		}
		return area.Flags(n), nil
	}
	return area.ParseFlags(v)
}

func (s *Server) apiMyHousehold(w http.ResponseWriter, r *http.Request) {
	h, err := s.areas.MyHousehold(r.Context(), principalOf(r))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// householdPatch holds the fields of a household that may change; absent
// ones keep their value, null clears (lat and lon go together).
type householdPatch struct {
	Code    patchField[string]     `json:"code"`
	Address patchField[string]     `json:"address"`
	Flags   patchField[area.Flags] `json:"flags"`
	Lat     patchField[float64]    `json:"lat"`
	Lon     patchField[float64]    `json:"lon"`
}

func (s *Server) apiHouseholdUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var in householdPatch
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	p := principalOf(r)
	cur, err := s.areas.Household(r.Context(), p, id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	upd := area.HouseholdInput{
		Code: in.Code.or(cur.Code), Address: in.Address.or(cur.Address), Flags: in.Flags.or(cur.Flags),
		Lat: cur.Lat, Lon: cur.Lon,
	}
	if in.Lat.Set || in.Lon.Set {
		upd.Lat, upd.Lon = in.Lat.Value, in.Lon.Value
	}
	h, err := s.areas.UpdateHousehold(r.Context(), p, id, upd)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

type householdMove struct {
	UnitID int64 `json:"unit_id"`
}

func (s *Server) apiHouseholdMove(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var in householdMove
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	h, err := s.areas.MoveHousehold(r.Context(), principalOf(r), id, in.UnitID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

type citizenIDResponse struct {
	CitizenID string `json:"citizen_id"`
}

func (s *Server) apiRevealCitizenID(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	cid, err := s.areas.RevealCitizenID(r.Context(), principalOf(r), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, citizenIDResponse{CitizenID: cid})
}
