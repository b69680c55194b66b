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
	lat, err := apiCoordinate(r, "lat", 90)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	lon, err := apiCoordinate(r, "lon", 180)
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
	wu, err := s.areas.UnitByCode(r.Context(), area.LevelCommune, ward.Code)
	if err != nil && apperr.CodeOf(err) != apperr.NotFound {
		s.apiError(w, r, err)
		return
	}
	out.Ward.UnitID = wu.ID
	pu, err := s.areas.UnitByCode(r.Context(), area.LevelProvince, ward.ProvinceCode)
	if err != nil && apperr.CodeOf(err) != apperr.NotFound {
		s.apiError(w, r, err)
		return
	}
	out.Province.UnitID, out.Province.ShortName, out.Province.NameEN, out.Province.Type = pu.ID, pu.Name, pu.NameEN, pu.Kind
	writeJSON(w, http.StatusOK, out)
}

// apiCoordinate reads a required decimal-degree query parameter within ±limit.
func apiCoordinate(r *http.Request, name string, limit float64) (float64, error) {
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
