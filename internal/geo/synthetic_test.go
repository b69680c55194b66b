package geo

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// unit scales the synthetic shapes, drawn on integer coordinates, down to a
// few kilometres, so that default-sized grids stay small. A power of two
// keeps every coordinate exact.
const unit = 1.0 / 64

func rect(x0, y0, x1, y1 float64) Ring {
	return ring(x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
}

// ring returns the points (xy[0], xy[1]), (xy[2], xy[3]), … in units.
func ring(xy ...float64) Ring {
	r := make(Ring, len(xy)/2)
	for i := range r {
		r[i] = Point{xy[2*i] * unit, xy[2*i+1] * unit}
	}
	return r
}

func feature(code string, polys ...Polygon) Feature {
	return Feature{Ward: Ward{Code: code, Name: "Ward " + code}, Polygons: polys}
}

// syntheticLayers are small shapes with holes, islands in holes, several
// parts, a concave notch, and a second layer partly under the first.
func syntheticLayers() [][]Feature {
	first := []Feature{
		feature("A", Polygon{rect(0, 0, 10, 10), rect(4, 4, 6, 6)}),
		feature("C", Polygon{rect(20, 0, 22, 2)}, Polygon{rect(30, 0, 32, 2)}),
		feature("D",
			// The hole runs the same way as the outer ring: the even-odd
			// rule does not care.
			Polygon{rect(40, 0, 50, 10), rect(42, 2, 48, 8)},
			Polygon{rect(44, 4, 46, 6)}),
		feature("U", Polygon{ring(60, 0, 70, 0, 70, 10, 67, 10, 67, 3, 63, 3, 63, 10, 60, 10, 60, 0)}),
		feature("T", Polygon{ring(80, 0, 90, 0.001, 85, 7.3, 80, 0)}),
	}
	second := []Feature{
		feature("B", Polygon{rect(3, 3, 7, 7)}),
		feature("E", Polygon{rect(21, 1, 25, 3)}),
	}
	return [][]Feature{first, second}
}

// testOptions include grids whose cell centres fall exactly on the shapes'
// vertices and edges, and tiny leaves that force deep splits.
var testOptions = []options{
	defaultOptions,
	{cellDeg: 1 * unit, maxEdges: 16, maxDepth: 12},
	{cellDeg: 2 * unit, maxEdges: 2, maxDepth: 12},
	{cellDeg: 8 * unit, maxEdges: 1, maxDepth: 20},
	{cellDeg: 0.5 * unit, maxEdges: 4, maxDepth: 3},
}

func TestLocateSynthetic(t *testing.T) {
	tests := []struct {
		name     string
		lon, lat float64 // in units
		want     string  // "" for not found
	}{
		{"in A", 1, 1, "A"},
		{"in A's hole, B below", 5, 5, "B"},
		{"in A and B, A's layer first", 3.5, 3.5, "A"},
		{"in A between hole and B's edge", 6.5, 6.5, "A"},
		{"in A outside B", 7.5, 7.5, "A"},
		{"in hole near its edge", 4.01, 5, "B"},
		{"east of A", 11, 5, ""},
		{"C over E", 21, 1.5, "C"},
		{"E only", 23, 2, "E"},
		{"C's first part", 21.5, 0.5, "C"},
		{"C's second part", 31, 1, "C"},
		{"between C's parts", 26, 1, ""},
		{"E's far corner", 24.9, 2.9, "E"},
		{"D's outer band", 41, 1, "D"},
		{"D's hole", 43, 3, ""},
		{"island in D's hole", 45, 5, "D"},
		{"D's hole beyond the island", 47, 7, ""},
		{"U's left arm", 61, 5, "U"},
		{"U's notch", 65, 5, ""},
		{"U's base", 65, 2, "U"},
		{"U's right arm top", 69, 9, "U"},
		{"above U's notch", 65, 10.5, ""},
		{"thin triangle", 85, 3, "T"},
		{"west of the world", -200, 5, ""},
		// On a boundary a point counts as a hair east, then north.
		{"on A's west edge", 0, 5, "A"},
		{"on A's east edge", 10, 5, ""},
		{"on A's south edge", 5, 0, "A"},
		{"on A's north edge", 5, 10, ""},
		{"on A's south-west corner", 0, 0, "A"},
		{"on A's north-east corner", 10, 10, ""},
		{"on the hole's west edge", 4, 5, "B"},
		{"on the hole's east edge", 6, 5, "A"},
		{"on U's inner corner, notch side", 63, 3, ""},
		{"on U's inner corner, arm side", 67, 3, "U"},
		{"on U's notch west side", 63, 5, ""},
		{"on U's notch east side", 67, 5, "U"},
	}
	for _, opt := range testOptions {
		layers := syntheticLayers()
		ix, err := build(opt, layers)
		if err != nil {
			t.Fatalf("build(%+v): %v", opt, err)
		}
		for _, tt := range tests {
			lon, lat := tt.lon*unit, tt.lat*unit
			w, ok := ix.Locate(lon, lat)
			if w.Code != tt.want || ok != (tt.want != "") {
				t.Errorf("%+v: %s: Locate(%v, %v) = %q, %v; want %q, %v", opt, tt.name, lon, lat, w.Code, ok, tt.want, tt.want != "")
			}
			if got := naiveCode(layers, lon, lat); got != tt.want {
				t.Errorf("%s: naive(%v, %v) = %q, want %q", tt.name, lon, lat, got, tt.want)
			}
		}
	}
}

// TestLocateSyntheticRandom compares the index with Contains on random
// points, and on points snapped to a coarse lattice that puts many of them
// exactly on edges and vertices.
func TestLocateSyntheticRandom(t *testing.T) {
	layers := syntheticLayers()
	rnd := rand.New(rand.NewPCG(7, 11))
	for _, opt := range testOptions {
		ix, err := build(opt, layers)
		if err != nil {
			t.Fatalf("build(%+v): %v", opt, err)
		}
		for i := range 20000 {
			lon, lat := -2+94*rnd.Float64(), -2+14*rnd.Float64()
			if i%2 == 0 {
				lon, lat = math.Round(lon*4)/4, math.Round(lat*4)/4
			}
			lon, lat = lon*unit, lat*unit
			got, _ := ix.Locate(lon, lat)
			if want := naiveCode(layers, lon, lat); got.Code != want {
				t.Fatalf("%+v: Locate(%v, %v) = %q, want %q", opt, lon, lat, got.Code, want)
			}
		}
	}
}

func naiveCode(layers [][]Feature, lon, lat float64) string {
	for _, l := range layers {
		for i := range l {
			if l[i].Contains(lon, lat) {
				return l[i].Code
			}
		}
	}
	return ""
}

func TestLocateBadInput(t *testing.T) {
	ix, err := Build(syntheticLayers()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Point{
		{math.NaN(), 1}, {1, math.NaN()}, {math.Inf(1), 1}, {math.Inf(-1), 1}, {1, math.Inf(1)}, {1e300, 1e300},
	} {
		if w, ok := ix.Locate(p[0], p[1]); ok {
			t.Errorf("Locate(%v, %v) = %q, true; want not found", p[0], p[1], w.Code)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]Feature
		want   string
	}{
		{"nothing", nil, "no features"},
		{"empty layers", [][]Feature{{}, {}}, "no features"},
		{"no polygons", [][]Feature{{feature("X")}}, "no polygons"},
		{"open ring", [][]Feature{{feature("X", Polygon{ring(0, 0, 1, 0, 1, 1, 0, 1)})}}, "not closed"},
		{"short ring", [][]Feature{{feature("X", Polygon{ring(0, 0, 1, 0, 0, 0)})}}, "not closed or too short"},
		{"NaN", [][]Feature{{feature("X", Polygon{ring(0, 0, 1, math.NaN(), 1, 1, 0, 0)})}}, "non-finite"},
		{"world-sized", [][]Feature{{feature("X", Polygon{{{-180, -90}, {180, -90}, {180, 90}, {-180, 90}, {-180, -90}}})}}, "too large"},
	}
	for _, tt := range tests {
		_, err := Build(tt.layers...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Build error = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestParseFeatureCollection(t *testing.T) {
	const doc = `{"type":"FeatureCollection","features":[
		{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]},
		 "properties":{"code":"00001","name":"Một","full_name":"Phường Một","name_en":"Mot","type":"Phường","province_code":"01","province_name":"Thành phố Hà Nội","area_km2":1.5}},
		{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[2,0,9],[3,0,9],[3,1,9],[2,0,9]]],[[[4,0],[5,0],[5,1],[4,0]],[[4.6,0.2],[4.9,0.2],[4.9,0.5],[4.6,0.2]]]]},
		 "properties":{"code":"00002","name":"Hai"}}]}`
	fs, err := ParseFeatureCollection(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("ParseFeatureCollection: %v", err)
	}
	if len(fs) != 2 {
		t.Fatalf("got %d features, want 2", len(fs))
	}
	want := Ward{"00001", "Một", "Phường Một", "Mot", "Phường", "01", "Thành phố Hà Nội", 1.5}
	if fs[0].Ward != want {
		t.Errorf("ward = %+v, want %+v", fs[0].Ward, want)
	}
	if got := fs[0].Polygons[0][0]; len(got) != 5 || got[4] != (Point{0, 0}) {
		t.Errorf("open ring = %v, want it closed with 5 points", got)
	}
	if got := len(fs[1].Polygons); got != 2 {
		t.Errorf("multipolygon parts = %d, want 2", got)
	}
	if got := len(fs[1].Polygons[1]); got != 2 {
		t.Errorf("second part rings = %d, want 2 (outer and hole)", got)
	}
	if got := fs[1].Polygons[0][0][1]; got != (Point{3, 0}) {
		t.Errorf("3D position = %v, want the altitude dropped: [3 0]", got)
	}

	for _, bad := range []struct{ doc, want string }{
		{`{"type":"Feature"}`, "want FeatureCollection"},
		{`{"type":"FeatureCollection","features":[{"geometry":{"type":"Point","coordinates":[1,2]},"properties":{"code":"1"}}]}`, "want Polygon or MultiPolygon"},
		{`{"type":"FeatureCollection","features":[{"geometry":null,"properties":{"code":"1"}}]}`, "no geometry"},
		{`{"type":"FeatureCollection","features":[{"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]},"properties":{}}]}`, "no code"},
		{`{"type":"FeatureCollection","features":[{"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]},"properties":{"code":"1"}}]}`, "at least 4"},
		{`{"type":"FeatureCollection","features":[{"geometry":{"type":"Polygon","coordinates":[[["a",0]]]},"properties":{"code":"1"}}]}`, "cannot unmarshal"},
		{`{"type":"FeatureCollection","features":[`, "unexpected EOF"},
	} {
		_, err := ParseFeatureCollection(strings.NewReader(bad.doc))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseFeatureCollection(%s) error = %v, want one containing %q", bad.doc, err, bad.want)
		}
	}
}
