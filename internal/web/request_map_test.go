package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/demo"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/web"
)

var (
	boundariesMu     sync.Mutex
	boundariesStored = map[*env]bool{}
)

// storeDemoBoundaries stores the detailed outlines of the demo ward and its
// neighbour, once per environment (the shared environment has the lookup
// index in memory but an empty boundaries table).
func (e *env) storeDemoBoundaries(t *testing.T) {
	t.Helper()
	boundariesMu.Lock()
	defer boundariesMu.Unlock()
	if boundariesStored[e] {
		return
	}
	fs, err := geo.LoadEmbeddedLayer(geo.HCMCFullLayer)
	if err != nil {
		t.Fatal(err)
	}
	var keep []geo.Feature
	for _, f := range fs {
		if f.Code == demo.WardCode || f.Code == demo.OtherWardCode {
			keep = append(keep, f)
		}
	}
	if len(keep) != 2 {
		t.Fatalf("embedded HCMC layer: got %d of the demo wards, want 2", len(keep))
	}
	if _, err := e.areas.ImportBoundaries(context.Background(), area.LayerDetail, keep); err != nil {
		t.Fatal(err)
	}
	boundariesStored[e] = true
}

type markerJSON struct {
	ID      int64   `json:"id"`
	Type    string  `json:"type"`
	Status  string  `json:"status"`
	Open    bool    `json:"open"`
	WardID  int64   `json:"ward_id"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	Blurred bool    `json:"location_blurred"`
}

type markersJSON struct {
	Items    []markerJSON      `json:"items"`
	Types    map[string]string `json:"types"`
	Statuses map[string]string `json:"statuses"`
}

func markersOf(t *testing.T, e *env, path, token string) ([]markerJSON, string) {
	t.Helper()
	out, raw := markersFull(t, e, path, token)
	return out.Items, raw
}

func markersFull(t *testing.T, e *env, path, token string) (markersJSON, string) {
	t.Helper()
	r := e.call(t, "GET", path, token, nil, "", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200: %s", path, r.status, r.raw)
	}
	var out markersJSON
	if err := json.Unmarshal(r.raw, &out); err != nil {
		t.Fatal(err)
	}
	return out, string(r.raw)
}

// TestRequestMapMarkers: the map's markers are the public requests with a
// location, newest first, filtered like the list; no reporter's name or
// phone ever appears, and a sensitive type's position is blurred for every
// viewer, the officials handling it included.
func TestRequestMapMarkers(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		fx := e.fixture(t)
		admin := e.token(t, phoneAdmin)
		lat, lon := 10.773012, 106.693456 // in Bến Thành, Khu phố 1
		reporter, phone := fmt.Sprintf("Người Báo Tin %d", e.next()), e.freshPhone()
		file := func(typ string, public bool, attrs map[string]string) int64 {
			j := e.must(t, http.StatusCreated, "POST", "/requests", admin, map[string]any{
				"type": typ, "description": fmt.Sprintf("Phản ánh để thử bản đồ, số %d.", e.next()), "lat": lat, "lon": lon,
				"on_behalf": true, "reporter_name": reporter, "reporter_phone": phone, "public": public, "attributes": attrs})
			return j.num("id")
		}
		noise := file("tieng_on", true, nil)                                 // public, sensitive
		light := file("ha_tang", true, map[string]string{"kind": "light"})   // public, exact
		hidden := file("ha_tang", false, map[string]string{"kind": "drain"}) // private
		ward := e.unitByCode(t, area.LevelCommune, demo.WardCode)

		for _, who := range []struct{ name, token string }{{"visitor", ""}, {"resident", e.token(t, phoneResident)}, {"official", e.token(t, phoneOfficial)}} {
			full, raw := markersFull(t, e, fmt.Sprintf("/requests/map?unit_id=%d", ward.ID), who.token)
			items := full.Items
			if strings.Contains(raw, reporter) || strings.Contains(raw, phone[1:]) || strings.Contains(raw, "reporter") || strings.Contains(raw, "description") {
				t.Errorf("%s: the markers show the reporter or the text: %.400s", who.name, raw)
			}
			byID := map[int64]markerJSON{}
			for _, m := range items {
				byID[m.ID] = m
				if m.WardID != ward.ID {
					t.Errorf("%s: marker #%d in ward %d, want %d", who.name, m.ID, m.WardID, ward.ID)
				}
			}
			if _, ok := byID[hidden]; ok {
				t.Errorf("%s: the private request #%d is on the public map", who.name, hidden)
			}
			n, ok := byID[noise]
			if !ok {
				t.Fatalf("%s: the public noise report #%d is not on the map", who.name, noise)
			}
			if !n.Blurred || (n.Lat == lat && n.Lon == lon) || math.Abs(n.Lat-lat) > 0.003 || math.Abs(n.Lon-lon) > 0.003 {
				t.Errorf("%s: noise marker at %v,%v blurred=%v, want a blurred position within about 300 m of %v,%v", who.name, n.Lat, n.Lon, n.Blurred, lat, lon)
			}
			l := byID[light]
			if l.Blurred || l.Lat != lat || l.Lon != lon {
				t.Errorf("%s: street-light marker at %v,%v blurred=%v, want the exact %v,%v", who.name, l.Lat, l.Lon, l.Blurred, lat, lon)
			}
			if full.Types["tieng_on"] != "Tiếng ồn" || full.Statuses["new"] != "Mới" || !n.Open || n.Status != "new" {
				t.Errorf("%s: noise marker %+v with names %v %v, want Tiếng ồn, status new (Mới, open)", who.name, n, full.Types, full.Statuses)
			}
		}

		// The same requests as the public list, those with a location.
		list := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/requests?unit_id=%d&limit=1000", ward.ID), "", nil)
		var want []int64
		for _, it := range list.list("items") {
			if it.has("lat") {
				want = append(want, it.num("id"))
			}
		}
		items, _ := markersOf(t, e, fmt.Sprintf("/requests/map?unit_id=%d", ward.ID), "")
		var got []int64
		for _, m := range items {
			got = append(got, m.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("markers: got %v, want the located items of the public list %v", got, want)
		}

		// Filters: type, status, unit; limit.
		for _, tc := range []struct {
			query string
			ok    func(m markerJSON) bool
		}{
			{"type=tieng_on", func(m markerJSON) bool { return m.Type == "tieng_on" }},
			{"status=open", func(m markerJSON) bool { return m.Open }},
			{"status=resolved,closed", func(m markerJSON) bool { return m.Status == "resolved" || m.Status == "closed" }},
		} {
			items, _ := markersOf(t, e, fmt.Sprintf("/requests/map?unit_id=%d&%s", ward.ID, tc.query), "")
			if len(items) == 0 || len(items) >= len(got) {
				t.Errorf("%s: got %d markers, want some and fewer than the %d unfiltered", tc.query, len(items), len(got))
			}
			for _, m := range items {
				if !tc.ok(m) {
					t.Errorf("%s: got marker %+v", tc.query, m)
				}
			}
		}
		other, _ := markersOf(t, e, fmt.Sprintf("/requests/map?unit_id=%d", fx.container[pOther]), "")
		for _, m := range other {
			if m.WardID == ward.ID {
				t.Errorf("other ward's map shows #%d of Bến Thành", m.ID)
			}
		}
		if two, _ := markersOf(t, e, fmt.Sprintf("/requests/map?unit_id=%d&limit=2", ward.ID), ""); len(two) != 2 || two[0].ID != got[0] {
			t.Errorf("limit=2: got %v, want the newest two", two)
		}
		if r := e.call(t, "GET", "/requests/map?type=khong_co", "", nil, "", ""); r.status != http.StatusBadRequest {
			t.Errorf("unknown type: got %d, want 400", r.status)
		}
	})
}

// TestUnitBoundary: a unit's outline is its ward's, as GeoJSON, thinned
// but still holding the ward's points; it revalidates with its ETag.
func TestUnitBoundary(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		e.storeDemoBoundaries(t)
		fx := e.fixture(t)
		ward := e.unitByCode(t, area.LevelCommune, demo.WardCode)
		get := func(id int64, etag string) (*http.Response, []byte) {
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/units/%d/boundary", e.URL, id), nil)
			if etag != "" {
				req.Header.Set("If-None-Match", etag)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res, b
		}
		stored, err := e.areas.UnitBoundary(context.Background(), ward.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			id   int64
			own  bool
		}{{"ward", ward.ID, true}, {"tổ", fx.hhUnit[pTo1], false}} {
			res, body := get(tc.id, "")
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/geo+json" {
				t.Fatalf("%s: got %d %s, want 200 application/geo+json: %.300s", tc.name, res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "public") {
				t.Errorf("%s: Cache-Control %q, want public", tc.name, cc)
			}
			var f struct {
				Type       string         `json:"type"`
				Properties map[string]any `json:"properties"`
				Geometry   struct {
					Type        string          `json:"type"`
					Coordinates [][][][]float64 `json:"coordinates"`
				} `json:"geometry"`
			}
			if err := json.Unmarshal(body, &f); err != nil {
				t.Fatal(err)
			}
			if f.Type != "Feature" || f.Geometry.Type != "MultiPolygon" || f.Properties["ward_code"] != demo.WardCode || f.Properties["own"] != tc.own {
				t.Errorf("%s: got %s %s %v, want a MultiPolygon Feature of ward %s, own=%v", tc.name, f.Type, f.Geometry.Type, f.Properties, demo.WardCode, tc.own)
			}
			var polys []geo.Polygon
			for _, p := range f.Geometry.Coordinates {
				var poly geo.Polygon
				for _, r := range p {
					var ring geo.Ring
					for _, pt := range r {
						ring = append(ring, geo.Point{pt[0], pt[1]})
					}
					poly = append(poly, ring)
				}
				polys = append(polys, poly)
			}
			drawn := geo.Feature{Polygons: polys}
			if !drawn.Contains(106.692987, 10.772555) || drawn.Contains(106.699689, 10.779213) {
				t.Errorf("%s: the drawn outline should hold the demo point and not the neighbour's", tc.name)
			}
			if n, full := geo.Points(polys), geo.Points(stored.Polygons); n > full || n < 4 {
				t.Errorf("%s: %d points drawn of %d stored, want at most as many", tc.name, n, full)
			} else {
				t.Logf("%s: %d of %d points, %d bytes", tc.name, n, full, len(body))
			}
			etag := res.Header.Get("ETag")
			if res2, body2 := get(tc.id, etag); etag == "" || res2.StatusCode != http.StatusNotModified || len(body2) != 0 {
				t.Errorf("%s: If-None-Match %s: got %d with %d bytes, want 304 and no body", tc.name, etag, res2.StatusCode, len(body2))
			}
		}
		root := e.must(t, http.StatusOK, "GET", "/units/root", "", nil)
		if r := e.call(t, "GET", fmt.Sprintf("/units/%d/boundary", root.num("id")), "", nil, "", ""); r.status != http.StatusBadRequest || r.json.str("error.code") == "" {
			t.Errorf("country: got %d %s, want 400 with the error contract", r.status, r.raw)
		}
		if r := e.call(t, "GET", "/units/999999999/boundary", "", nil, "", ""); r.status != http.StatusNotFound {
			t.Errorf("no such unit: got %d, want 404", r.status)
		}
	})
}

// TestRequestMapPages: the map and statistics pages render; Leaflet is
// loaded by the pages with a map and by no other.
func TestRequestMapPages(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		ward := e.unitByCode(t, area.LevelCommune, demo.WardCode)
		page := func(path string) string {
			res, err := http.Get(e.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: got %d, want 200: %.300s", path, res.StatusCode, b)
			}
			return string(b)
		}
		m := page(fmt.Sprintf("/requests/map?unit_id=%d&type=tieng_on", ward.ID))
		for _, want := range []string{"/static/vendor/leaflet.", "/static/map.", `data-markers="/api/v1/requests/map?type=tieng_on&amp;unit_id=` + fmt.Sprint(ward.ID), "Khu phố 1", "Bản đồ phản ánh"} {
			if !strings.Contains(m, want) {
				t.Errorf("map page: want %q in it", want)
			}
		}
		if l := page("/requests"); strings.Contains(l, "leaflet") {
			t.Error("the list page loads Leaflet; keep it light")
		}
		st := page(fmt.Sprintf("/requests/stats?unit_id=%d", ward.ID))
		for _, want := range []string{`id="unit-stats"`, "Tiếp nhận", "Đã xử lý", "Đúng hạn", "Đang quá hạn", "Thời gian tiếp nhận (trung vị)", "Thời gian xử lý (trung vị)", "Hài lòng", `id="stats-children"`, "Khu phố 2"} {
			if !strings.Contains(st, want) {
				t.Errorf("stats page: want %q in it", want)
			}
		}
		api := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/units/%d/request-stats", ward.ID), "", nil)
		for id, key := range map[string]string{"st-received": "received", "st-resolved": "resolved", "st-overdue": "overdue_now"} {
			if want := fmt.Sprintf(`id="%s">%d<`, id, api.num(key)); !strings.Contains(st, want) {
				t.Errorf("stats page: want %s, the API's %s", want, key)
			}
		}
		if s := page("/requests/stats"); !strings.Contains(s, "Chọn một phường") {
			t.Error("stats page without a unit: want the prompt to choose one")
		}
	})
}

// TestMapTiles: an operator's tile server is announced to the maps and
// allowed by the content security policy; without one, images stay
// same-origin.
func TestMapTiles(t *testing.T) {
	for _, tc := range []struct {
		tmpl, origin string
		ok           bool
	}{
		{"", "", true},
		{"https://tiles.example.vn/{z}/{x}/{y}.png", "https://tiles.example.vn", true},
		{"https://{s}.tiles.example.vn/{z}/{x}/{y}.png", "https://*.tiles.example.vn", true},
		{"/tiles/{z}/{x}/{y}.png", "", true},
		{"https://tiles.example.vn/{z}/{x}.png", "", false},
		{"ftp://tiles.example.vn/{z}/{x}/{y}.png", "", false},
	} {
		if err := web.CheckTileURL(tc.tmpl); (err == nil) != tc.ok {
			t.Errorf("CheckTileURL(%q): got %v, want ok=%v", tc.tmpl, err, tc.ok)
		}
		if tc.ok {
			if got := web.TileOrigin(tc.tmpl); got != tc.origin {
				t.Errorf("TileOrigin(%q): got %q, want %q", tc.tmpl, got, tc.origin)
			}
		}
	}
	eachEngine(t, func(t *testing.T, e *env) {
		cfg := web.Config{MapTiles: "https://tiles.example.vn/{z}/{x}/{y}.png", MapAttribution: "© Bản đồ nội bộ"}
		srv, err := web.New(cfg, web.Deps{DB: e.db, Accounts: e.accounts, Areas: e.areas, Logger: slog.New(slog.DiscardHandler), Requests: e.app.Requests})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		defer hs.Close()
		c := &env{URL: hs.URL}
		j := c.must(t, http.StatusOK, "GET", "/map/settings", "", nil)
		if j.str("tiles") != cfg.MapTiles || j.str("attribution") != cfg.MapAttribution {
			t.Errorf("settings: got %v, want the configured tiles", j.v)
		}
		r := c.call(t, "GET", "/map/settings", "", nil, "", "")
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' https://tiles.example.vn") {
			t.Errorf("CSP: got %q, want the tile origin among img-src", csp)
		}
		r = e.call(t, "GET", "/map/settings", "", nil, "", "")
		if csp := r.header.Get("Content-Security-Policy"); strings.Contains(csp, "tiles.example.vn") || r.json.str("tiles") != "" {
			t.Errorf("without tiles: got CSP %q and %s", csp, r.raw)
		}
		if id := e.must(t, http.StatusOK, "GET", "/map/settings", e.token(t, phoneResident), nil).num("home_unit_id"); id != e.fixture(t).hhUnit[pTo1] {
			t.Errorf("resident's home unit: got %d, want Tổ 1 (%d)", id, e.fixture(t).hhUnit[pTo1])
		}
	})
}
