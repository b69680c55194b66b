package web

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/request"
)

// requestMapRoutes registers the public map of requests, the per-unit
// statistics page and the map's JSON: markers, ward outlines (our own base
// layer: no tile server is needed) and the map settings.
func (s *Server) requestMapRoutes() {
	s.handle("GET /requests/map", s.requestMapPage)
	s.handle("GET /requests/stats", s.requestStatsPage)
	s.api("GET", "/requests/map", s.apiRequestMap)
	s.api("GET", "/units/{id}/boundary", s.apiUnitBoundary)
	s.api("GET", "/map/settings", s.apiMapSettings)
}

// boundaryTolerance thins ward outlines for drawing: about 2 m, invisible at
// street zoom, and it makes the detailed HCMC outlines several times smaller.
const boundaryTolerance = 0.00002

// boundaryFormat names the thinning and the JSON shape in the outline's
// ETag: change it when either changes, so caches drop the old outlines.
const boundaryFormat = "b1"

// mapUnit is a choice in the map's and the statistics page's unit filter.
type mapUnit struct {
	ID    int64
	Name  string
	Depth int // 0 ward, 1 khu phố, 2 tổ
}

type requestMapData struct {
	Types      []request.Type
	Statuses   []request.Status
	Q          url.Values
	UnitID     int64
	Units      []mapUnit
	ListURL    string
	MarkersURL string
}

func (s *Server) requestMapPage(w http.ResponseWriter, r *http.Request) {
	f, err := requestFilter(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ts, err := s.requests.Types(r.Context(), false)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	units, err := s.mapUnits(r, f.UnitID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	q := url.Values{}
	for _, k := range []string{"type", "status", "unit_id"} {
		if v := r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	d := requestMapData{Types: ts, Statuses: request.Statuses, Q: r.URL.Query(), UnitID: f.UnitID, Units: units,
		ListURL: "/requests?" + q.Encode(), MarkersURL: "/api/v1/requests/map?" + q.Encode()}
	s.render(w, r, http.StatusOK, "request_map.html", translate(langOf(r), "map.title"), d, "")
}

// mapUnits lists the units a visitor may narrow the map to: the chosen
// unit's ward with its khu phố and the tổ on the chosen path; without a
// choice, the viewer's own ward, or else the wards of the newest public
// requests.
func (s *Server) mapUnits(r *http.Request, unitID int64) ([]mapUnit, error) {
	ctx := r.Context()
	if unitID == 0 {
		unitID = s.homeUnit(r)
	}
	if unitID == 0 {
		ms, _, err := s.requests.Markers(ctx, langOf(r), request.Filter{}, 500)
		if err != nil {
			return nil, err
		}
		var out []mapUnit
		seen := map[int64]bool{}
		for _, m := range ms {
			if !seen[m.WardID] && len(out) < 50 {
				seen[m.WardID] = true
				out = append(out, mapUnit{ID: m.WardID, Name: m.WardName})
			}
		}
		return out, nil
	}
	u, err := s.areas.Unit(ctx, unitID)
	if err != nil {
		return nil, err
	}
	onPath := map[int64]bool{u.ID: true}
	ward := u
	if u.Level == area.LevelNeighbourhood || u.Level == area.LevelGroup {
		anc, err := s.areas.Ancestors(ctx, u)
		if err != nil {
			return nil, err
		}
		for _, a := range anc {
			onPath[a.ID] = true
			if a.Level == area.LevelCommune {
				ward = a
			}
		}
	}
	out := []mapUnit{{ID: ward.ID, Name: ward.FullName}}
	if ward.Level != area.LevelCommune {
		return out, nil
	}
	kps, err := s.areas.Children(ctx, ward.ID, false)
	if err != nil {
		return nil, err
	}
	for _, kp := range kps {
		out = append(out, mapUnit{ID: kp.ID, Name: kp.Name, Depth: 1})
		if !onPath[kp.ID] {
			continue
		}
		tos, err := s.areas.Children(ctx, kp.ID, false)
		if err != nil {
			return nil, err
		}
		for _, to := range tos {
			out = append(out, mapUnit{ID: to.ID, Name: to.Name, Depth: 2})
		}
	}
	return out, nil
}

// homeUnit is where the viewer lives (their household's unit) or, for an
// official, the unit of their first grant; 0 for a visitor.
func (s *Server) homeUnit(r *http.Request) int64 {
	p := principalOf(r)
	if p == nil {
		return 0
	}
	if p.ResidentID != 0 {
		if h, err := s.areas.MyHousehold(r.Context(), p); err == nil {
			return h.UnitID
		}
	}
	for _, g := range p.Grants {
		if g.UnitID != 0 {
			return g.UnitID
		}
	}
	return 0
}

// markersResponse is the map's JSON: the markers and the wards they lie in
// (for the outlines and the unit filter).
type markersResponse struct {
	Items    []request.Marker  `json:"items"`
	More     bool              `json:"more"`
	Types    map[string]string `json:"types"`    // code → name
	Statuses map[string]string `json:"statuses"` // status → label
	Wards    []mapWard         `json:"wards"`
}

type mapWard struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func (s *Server) apiRequestMap(w http.ResponseWriter, r *http.Request) {
	f, err := requestFilter(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	limit, err := apiQueryInt(r, "limit")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	items, more, err := s.requests.Markers(r.Context(), langOf(r), f, int(limit))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := markersResponse{Items: items, More: more, Types: map[string]string{}, Statuses: map[string]string{}, Wards: []mapWard{}}
	seen := map[int64]bool{}
	for _, m := range items {
		out.Types[m.TypeCode], out.Statuses[string(m.Status)] = m.TypeName, m.StatusLbl
		if !seen[m.WardID] {
			seen[m.WardID] = true
			out.Wards = append(out.Wards, mapWard{ID: m.WardID, Name: m.WardName})
		}
	}
	writeJSONGzip(w, r, out)
}

// writeJSONGzip writes v as JSON, gzipped when the client takes it: 2,000
// markers are about 250 KB of JSON and a sixth of that gzipped, which
// matters on a phone's data plan.
func writeJSONGzip(w http.ResponseWriter, r *http.Request, v any) {
	if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		writeJSON(w, http.StatusOK, v)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Encoding", "gzip")
	h.Set("Vary", "Accept-Encoding")
	w.WriteHeader(http.StatusOK)
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
	_ = zw.Close()
}

// apiUnitBoundary answers the outline of a unit's ward as a GeoJSON
// Feature, thinned for drawing, with a validator so browsers and proxies
// revalidate it in one round trip without a body.
func (s *Server) apiUnitBoundary(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	ward, layer, updated, err := s.areas.BoundaryVersion(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	etag := `"` + boundaryFormat + "-" + strconv.FormatInt(id, 10) + "-" + strconv.FormatInt(ward.ID, 10) + "-" + layer + "-" + strconv.FormatInt(updated.UnixMilli(), 36) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	b, err := s.areas.UnitBoundary(r.Context(), id)
	if err != nil {
		h.Del("ETag")
		s.apiError(w, r, err)
		return
	}
	body, err := json.Marshal(boundaryFeature(b))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	h.Set("Content-Type", "application/geo+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

type geoFeature struct {
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
	Geometry   geoGeometry    `json:"geometry"`
}

type geoGeometry struct {
	Type        string          `json:"type"`
	Coordinates [][][][]float64 `json:"coordinates"`
}

func boundaryFeature(b area.Boundary) geoFeature {
	polys := geo.Simplify(b.Polygons, boundaryTolerance)
	coords := make([][][][]float64, 0, len(polys))
	for _, p := range polys {
		rings := make([][][]float64, 0, len(p))
		for _, ring := range p {
			pts := make([][]float64, len(ring))
			for i, pt := range ring {
				pts[i] = []float64{round6(pt[0]), round6(pt[1])}
			}
			rings = append(rings, pts)
		}
		coords = append(coords, rings)
	}
	return geoFeature{Type: "Feature",
		Properties: map[string]any{"unit_id": b.Unit.ID, "unit_name": b.Unit.FullName, "ward_id": b.Ward.ID, "ward_code": b.Ward.Code,
			"ward_name": b.Ward.FullName, "own": b.Own, "layer": b.Layer, "updated_at": b.UpdatedAt.UTC().Format(time.RFC3339)},
		Geometry: geoGeometry{Type: "MultiPolygon", Coordinates: coords}}
}

// round6 keeps six decimals, about 0.1 m: enough to draw, a third of the bytes.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// mapSettings is what a map page needs before it draws: the operator's
// tile layer (if any) and where the viewer lives, to start there.
type mapSettings struct {
	Tiles       string `json:"tiles"`
	Attribution string `json:"attribution"`
	HomeUnitID  int64  `json:"home_unit_id"`
}

func (s *Server) apiMapSettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, mapSettings{Tiles: s.cfg.MapTiles, Attribution: s.cfg.MapAttribution, HomeUnitID: s.homeUnit(r)})
}

// mapTilesCSP lets pages load images from the operator's tile server: the
// security headers allow images from this origin only.
func (s *Server) mapTilesCSP(next http.Handler) http.Handler {
	origin := TileOrigin(s.cfg.MapTiles)
	if origin == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if csp := h.Get("Content-Security-Policy"); csp != "" {
			h.Set("Content-Security-Policy", strings.Replace(csp, "img-src 'self'", "img-src 'self' "+origin, 1))
		}
		next.ServeHTTP(w, r)
	})
}

// TileOrigin returns the CSP source of a tile URL template: "" for a
// same-site path ("/tiles/{z}/{x}/{y}.png"), "https://*.example.vn" for a
// template with a {s} subdomain.
func TileOrigin(tmpl string) string {
	if strings.HasPrefix(tmpl, "/") && !strings.HasPrefix(tmpl, "//") {
		return ""
	}
	u, err := url.Parse(strings.ReplaceAll(tmpl, "{s}", "SUBDOMAIN"))
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + strings.ReplaceAll(u.Host, "SUBDOMAIN", "*")
}

// CheckTileURL validates a tile URL template: http(s) or a same-site path,
// with {z}, {x} and {y}.
func CheckTileURL(tmpl string) error {
	if tmpl == "" {
		return nil
	}
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(tmpl, p) {
			return errors.New("want a template with {z}, {x} and {y}, e.g. https://tiles.example.vn/{z}/{x}/{y}.png")
		}
	}
	if strings.HasPrefix(tmpl, "/") && !strings.HasPrefix(tmpl, "//") {
		return nil
	}
	u, err := url.Parse(strings.ReplaceAll(tmpl, "{s}", "a"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("want an http(s) URL or a path starting with /")
	}
	return nil
}

type requestStatsData struct {
	UnitID   int64
	Unit     *area.Unit
	Units    []mapUnit
	Days     int
	Stats    *request.Stats
	Children []childStats
}

type childStats struct {
	ID    int64
	Name  string
	Stats request.Stats
}

// maxStatsChildren bounds the per-child table (one query per child).
const maxStatsChildren = 60

// requestStatsPage shows a unit's public figures and those of the units
// directly under it.
func (s *Server) requestStatsPage(w http.ResponseWriter, r *http.Request) {
	unitID, err := apiQueryInt(r, "unit_id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	days, err := apiQueryInt(r, "days")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if days <= 0 || days > 3660 {
		days = 365
	}
	if home := s.homeUnit(r); unitID == 0 && home != 0 {
		// The viewer's ward, with its khu phố in the table below.
		us, err := s.mapUnits(r, home)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		unitID = us[0].ID
	}
	d := requestStatsData{UnitID: unitID, Days: int(days)}
	if d.Units, err = s.mapUnits(r, unitID); err != nil {
		s.pageError(w, r, err)
		return
	}
	if unitID != 0 {
		ctx := r.Context()
		since := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
		u, err := s.areas.Unit(ctx, unitID)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		st, err := s.requests.UnitStats(ctx, unitID, since)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		d.Unit, d.Stats = &u, &st
		kids, err := s.areas.Children(ctx, unitID, false)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		if len(kids) <= maxStatsChildren {
			for _, k := range kids {
				cs, err := s.requests.UnitStats(ctx, k.ID, since)
				if err != nil {
					s.pageError(w, r, err)
					return
				}
				d.Children = append(d.Children, childStats{ID: k.ID, Name: k.Name, Stats: cs})
			}
		}
	}
	title := translate(langOf(r), "stats.title")
	if d.Unit != nil {
		title += " · " + d.Unit.FullName
	}
	s.render(w, r, http.StatusOK, "request_stats.html", title, d, "")
}
