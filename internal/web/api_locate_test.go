package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/web"
)

func TestAPILocate(t *testing.T) {
	fixtures, err := geo.LoadFixtures()
	if err != nil {
		t.Fatal(err)
	}
	// A few inside points across the country (Hà Nội first in the file,
	// then every ~1000th), the demo wards, and all the outside points.
	var inside, outside []geo.Fixture
	for i, f := range fixtures {
		switch {
		case f.WardCode == "":
			outside = append(outside, f)
		case i%1000 == 0 || (f.WardCode == "26743" || f.WardCode == "26740") && len(inside) < 12:
			inside = append(inside, f)
		}
	}
	if len(inside) < 5 || len(outside) != 5 {
		t.Fatalf("fixtures: got %d inside and %d outside points, want ≥5 and 5", len(inside), len(outside))
	}
	eachEngine(t, func(t *testing.T, e *env) {
		for _, f := range inside {
			path := fmt.Sprintf("/areas/locate?lat=%f&lon=%f", f.Lat, f.Lon)
			st, res := e.do(t, "GET", path, "", nil)
			if st != http.StatusOK {
				t.Errorf("%s: got %d %v, want 200", path, st, res.v)
				continue
			}
			if got := res.str("ward.code"); got != f.WardCode {
				t.Errorf("%s: got ward %q, want %q (%s)", path, got, f.WardCode, f.WardName)
			}
			if got := res.str("ward.name"); got != f.WardName {
				t.Errorf("%s: got ward name %q, want %q", path, got, f.WardName)
			}
			if got := res.str("province.code"); got != f.ProvinceCode {
				t.Errorf("%s: got province %q, want %q", path, got, f.ProvinceCode)
			}
			if res.str("province.name") == "" || res.num("ward.unit_id") == 0 {
				t.Errorf("%s: got %v, want a province name and the ward's unit id", path, res.v)
			}
		}
		st, res := e.do(t, "GET", "/areas/locate?lat=10.772555&lon=106.692987", "", nil)
		if st != 200 || res.str("ward.name") != "Phường Bến Thành" || res.str("ward.short_name") != "Bến Thành" ||
			res.str("province.name") != "Thành phố Hồ Chí Minh" || res.str("province.code") != "79" {
			t.Errorf("Bến Thành: got %d %v", st, res.v)
		}
		if id := res.num("ward.unit_id"); id != 0 {
			if u := e.must(t, 200, "GET", fmt.Sprintf("/units/%d", id), "", nil); u.str("code") != "26743" {
				t.Errorf("ward.unit_id %d: got unit %v, want 26743", id, u.v)
			}
		}
		for _, f := range outside {
			path := fmt.Sprintf("/areas/locate?lat=%f&lon=%f", f.Lat, f.Lon)
			if st, res := e.do(t, "GET", path, "", nil); st != http.StatusNotFound || res.str("error.code") != "not_found" {
				t.Errorf("%s %s: got %d %v, want 404 not_found", f.WardName, path, st, res.v)
			}
		}
		bad := []string{"", "?lat=10.77", "?lon=106.69", "?lat=abc&lon=106.69", "?lat=10.77&lon=", "?lat=91&lon=106", "?lat=-90.5&lon=106",
			"?lat=10&lon=180.01", "?lat=NaN&lon=106", "?lat=10&lon=Inf", "?lat=1e400&lon=106"}
		for _, q := range bad {
			if st, res := e.do(t, "GET", "/areas/locate"+q, "", nil); st != http.StatusBadRequest || res.str("error.code") != "invalid" || res.str("error.field") == "" {
				t.Errorf("locate%s: got %d %v, want 400 invalid naming the field", q, st, res.v)
			}
		}
	})
}

func TestAPILocateWithoutBoundaries(t *testing.T) {
	e := newEnv(t, db.SQLite)
	url := e.variant(t, web.Config{Demo: true}, nil)
	res, err := http.Get(url + "/api/v1/areas/locate?lat=10.77&lon=106.69")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := decodeBody(res, &body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusServiceUnavailable || body.Error.Code != "unavailable" || body.Error.Message == "" {
		t.Errorf("got %d %+v, want 503 with code unavailable and a message", res.StatusCode, body)
	}
}
