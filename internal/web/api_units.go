package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
)

type locatedArea struct {
	Code      string `json:"code"`
	Name      string `json:"name"`                 // full name: "Phường Bến Thành"
	ShortName string `json:"short_name,omitempty"` // "Bến Thành"
	NameEN    string `json:"name_en,omitempty"`
	Type      string `json:"type,omitempty"`    // "Phường", "Xã", "Đặc khu"
	UnitID    int64  `json:"unit_id,omitempty"` // the unit in this deployment's tree
}

type locateResponse struct {
	Ward     locatedArea `json:"ward"`
	Province locatedArea `json:"province"`
}

// apiLocate answers which ward a GPS point lies in. It is public.
func (s *Server) apiLocate(w http.ResponseWriter, r *http.Request) {
	lat, err := coordinate(r, "lat", 90)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	lon, err := coordinate(r, "lon", 180)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if s.geo == nil {
		s.apiUnavailable(w, r, "Chưa nạp ranh giới phường, xã; tạm thời không tra cứu được vị trí.", "Ward boundaries are not loaded; locating is unavailable.")
		return
	}
	ward, ok := s.geo.Locate(lon, lat)
	if !ok {
		s.apiError(w, r, apperr.New(apperr.NotFound, "Vị trí này không thuộc phường, xã nào của Việt Nam.", "This point is not in any ward of Vietnam."))
		return
	}
	out := locateResponse{
		Ward:     locatedArea{Code: ward.Code, Name: ward.FullName, ShortName: ward.Name, NameEN: ward.NameEN, Type: ward.Type},
		Province: locatedArea{Code: ward.ProvinceCode, Name: ward.ProvinceName},
	}
	// Linking to the tree is a convenience: boundaries may be newer than
	// the imported units, so a miss is not an error.
	if u, err := s.areas.UnitByCode(r.Context(), area.LevelCommune, ward.Code); err == nil {
		out.Ward.UnitID = u.ID
	}
	if u, err := s.areas.UnitByCode(r.Context(), area.LevelProvince, ward.ProvinceCode); err == nil {
		out.Province.UnitID = u.ID
		out.Province.ShortName, out.Province.NameEN, out.Province.Type = u.Name, u.NameEN, u.Kind
	}
	writeJSON(w, http.StatusOK, out)
}

// coordinate reads a required decimal-degree query parameter within ±limit.
func coordinate(r *http.Request, name string, limit float64) (float64, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return 0, apperr.InvalidField(name, "Thiếu tham số "+name+".", "The parameter "+name+" is required.")
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > limit {
		return 0, apperr.InvalidField(name, "Tham số "+name+" phải là số độ từ -"+strconv.Itoa(int(limit))+" đến "+strconv.Itoa(int(limit))+".",
			"The parameter "+name+" must be a number of degrees from -"+strconv.Itoa(int(limit))+" to "+strconv.Itoa(int(limit))+".")
	}
	return f, nil
}

func (s *Server) apiUnitRoot(w http.ResponseWriter, r *http.Request) {
	u, err := s.areas.Root(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiUnit(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	u, err := s.areas.Unit(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// apiUnitChildren lists a unit's children, paged by ?after= (the last id of
// the previous page) over the order area.Children gives.
func (s *Server) apiUnitChildren(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	after, err := queryInt(r, "after")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	limit, err := queryLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	historic := r.URL.Query().Get("historic")
	kids, err := s.areas.Children(r.Context(), id, historic == "1" || historic == "true")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	items, next := pageAfter(kids, after, limit, func(u area.UnitSummary) int64 { return u.ID })
	writeJSON(w, http.StatusOK, listOf(items, next))
}

// pageAfter cuts a page out of a complete, ordered slice: the items after
// the one whose id is after (from the start when 0 or not found), at most
// limit (default 200).
func pageAfter[T any](all []T, after int64, limit int, id func(T) int64) ([]T, string) {
	if limit <= 0 {
		limit = 200
	}
	start := 0
	if after != 0 {
		for i, x := range all {
			if id(x) == after {
				start = i + 1
				break
			}
		}
	}
	rest := all[start:]
	if len(rest) <= limit {
		return rest, ""
	}
	return rest[:limit], strconv.FormatInt(id(rest[limit-1]), 10)
}

func (s *Server) apiUnitAncestors(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	u, err := s.areas.Unit(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	us, err := s.areas.Ancestors(r.Context(), u)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(us, ""))
}

// apiUnitSearch returns the best matches only (?limit=, at most 100): a
// search box, not a listing.
func (s *Server) apiUnitSearch(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	us, err := s.areas.Search(r.Context(), r.URL.Query().Get("q"), limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(us, ""))
}

// apiUnitResolve maps a GSO code, old or current, to the units in force.
func (s *Server) apiUnitResolve(w http.ResponseWriter, r *http.Request) {
	us, err := s.areas.Resolve(r.Context(), r.URL.Query().Get("code"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(us, ""))
}

func (s *Server) apiUnitCreate(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var in area.UnitInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	u, err := s.areas.CreateUnit(r.Context(), principalOf(r), id, in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

// unitPatch holds the fields of a local unit that may change; absent ones
// keep their value.
type unitPatch struct {
	Name   optional[string] `json:"name"`
	Kind   optional[string] `json:"kind"`
	NameEN optional[string] `json:"name_en"`
}

func (s *Server) apiUnitRename(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var in unitPatch
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	cur, err := s.areas.Unit(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	u, err := s.areas.RenameUnit(r.Context(), principalOf(r), id, area.UnitInput{
		Level: cur.Level, Name: in.Name.or(cur.Name), Kind: in.Kind.or(cur.Kind), NameEN: in.NameEN.or(cur.NameEN),
	})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiUnitDelete(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.areas.DeleteUnit(r.Context(), principalOf(r), id); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiOrganisationList(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	orgs, err := s.areas.ListOrganisations(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(orgs, ""))
}

func (s *Server) apiOrganisationCreate(w http.ResponseWriter, r *http.Request) {
	var in area.OrganisationInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	o, err := s.areas.CreateOrganisation(r.Context(), principalOf(r), in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, o)
}
