package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

type embeddedData struct {
	ix       *Index    // from LoadEmbedded
	hcm, nat []Feature // the layers it holds, for reference answers
	fixtures []Fixture
}

// loadEmbeddedData loads the embedded data once for all tests in the
// package; each test only reads it.
var loadEmbeddedData = sync.OnceValues(func() (*embeddedData, error) {
	var d embeddedData
	var err error
	if d.ix, err = LoadEmbedded(); err != nil {
		return nil, err
	}
	if d.hcm, err = LoadEmbeddedLayer(HCMCFullLayer); err != nil {
		return nil, err
	}
	if d.nat, err = LoadEmbeddedLayer(NationalLayer); err != nil {
		return nil, err
	}
	if d.fixtures, err = LoadFixtures(); err != nil {
		return nil, err
	}
	return &d, nil
})

func embedded(t testing.TB) *embeddedData {
	t.Helper()
	d, err := loadEmbeddedData()
	if err != nil {
		t.Fatalf("load embedded data: %v", err)
	}
	return d
}

// TestLoadEmbedded checks the index's make-up; the tests below check its
// answers, the reference answers taking the HCMC layer first.
func TestLoadEmbedded(t *testing.T) {
	ix := embedded(t).ix
	st := ix.Stats()
	if st.Wards != 3321 || st.Features != 3321+168 {
		t.Errorf("wards, features = %d, %d; want 3321, 3489", st.Wards, st.Features)
	}
	w, ok := ix.Locate(105.831579, 21.038305)
	want := Ward{"00004", "Ba Đình", "Phường Ba Đình", "Ba Dinh", "Phường", "01", "Thành phố Hà Nội", 2.97}
	if !ok || w != want {
		t.Errorf("Locate(Ba Đình) = %+v, %v; want %+v, true", w, ok, want)
	}
	t.Logf("stats: %+v", st)
}

func TestLocateFixtures(t *testing.T) {
	d := embedded(t)
	var inside, outside, viaHCMC int
	for _, f := range d.fixtures {
		i := d.ix.locate(f.Lon, f.Lat)
		got := ""
		if i >= 0 {
			got = d.ix.wards[i].Code
		}
		if got != f.WardCode {
			t.Errorf("Locate(%v, %v) = %q, want %q (%s)", f.Lon, f.Lat, got, f.WardCode, f.WardName)
		}
		if f.WardCode == "" {
			outside++
			continue
		}
		inside++
		if i >= 0 && i < len(d.hcm) {
			viaHCMC++
		}
	}
	if inside != 9963 || outside != 5 {
		t.Errorf("fixtures inside, outside = %d, %d; want 9963, 5", inside, outside)
	}
	t.Logf("%d fixtures resolved by the HCMC full-resolution layer", viaHCMC)
}

// TestLocateMatchesNaive compares the index with a loop over every feature,
// in layer order, on random points: across Vietnam's bounding box, across
// HCMC, and within a few metres of boundary vertices.
func TestLocateMatchesNaive(t *testing.T) {
	d := embedded(t)
	layers := [][]Feature{d.hcm, d.nat}
	var all []*Feature
	var boxes [][4]float64
	for _, l := range layers {
		for i := range l {
			x0, y0, x1, y1 := l[i].bounds()
			all = append(all, &l[i])
			boxes = append(boxes, [4]float64{x0, y0, x1, y1})
		}
	}
	naive := func(p Point) int {
		for i, b := range boxes {
			if p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3] && all[i].Contains(p[0], p[1]) {
				return i
			}
		}
		return -1
	}

	rnd := rand.New(rand.NewPCG(3, 4))
	var points []Point
	for range 20000 { // Vietnam's bounding box
		points = append(points, Point{102.1 + 15.8*rnd.Float64(), 8.1 + 15.4*rnd.Float64()})
	}
	for range 10000 { // HCMC's
		points = append(points, Point{106.08 + 1.5*rnd.Float64(), 8.57 + 2.94*rnd.Float64()})
	}
	for range 10000 { // within ~10 m of a vertex, either layer
		f := all[rnd.IntN(len(all))]
		r := f.Polygons[rnd.IntN(len(f.Polygons))][0]
		v := r[rnd.IntN(len(r))]
		points = append(points, Point{v[0] + 1e-4*(rnd.Float64()-0.5), v[1] + 1e-4*(rnd.Float64()-0.5)})
	}

	want := make([]int, len(points))
	parallel(len(points), func(k int) { want[k] = naive(points[k]) })
	found, mismatches := 0, 0
	for k, p := range points {
		got := d.ix.locate(p[0], p[1])
		if got >= 0 {
			found++
		}
		if got != want[k] {
			mismatches++
			if mismatches <= 10 {
				t.Errorf("locate(%v, %v) = %s, want %s", p[0], p[1], describe(d.ix, got), describe(d.ix, want[k]))
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d points differ from the naive loop, want 0", mismatches, len(points))
	}
	if found < len(points)/4 {
		t.Errorf("only %d of %d points found, want at least a quarter", found, len(points))
	}
}

func describe(ix *Index, i int) string {
	if i < 0 {
		return "not found"
	}
	return fmt.Sprintf("%s (feature %d)", ix.wards[i].Code, i)
}

// hcmcEdges indexes the edges of the HCMC full-resolution layer by their
// end points, whichever way their ring runs them.
type edgeKey [2]Point // lexicographically smaller end first

type edgeOwner struct {
	feature   int
	leftInner bool // whether the feature's interior is left of key[0]→key[1]
}

func hcmcEdges(hcm []Feature) map[edgeKey][]edgeOwner {
	edges := map[edgeKey][]edgeOwner{}
	for fi, f := range hcm {
		for _, poly := range f.Polygons {
			for k, r := range poly {
				area := 0.0
				for i := 1; i < len(r); i++ {
					area += r[i-1][0]*r[i][1] - r[i][0]*r[i-1][1]
				}
				// An outer ring run anticlockwise, or a hole run
				// clockwise, has the interior on its left.
				left := (k == 0) == (area > 0)
				for i := 1; i < len(r); i++ {
					a, b := r[i-1], r[i]
					if a == b {
						continue
					}
					key, l := edgeKey{a, b}, left
					if b[0] < a[0] || b[0] == a[0] && b[1] < a[1] {
						key, l = edgeKey{b, a}, !left
					}
					edges[key] = append(edges[key], edgeOwner{fi, l})
				}
			}
		}
	}
	return edges
}

const metresPerDegree = 6371008.8 * math.Pi / 180

// TestLocateHCMCBoundaryPairs takes edges shared by two HCMC wards in the
// full-resolution layer and checks that points 5 m either side of their
// midpoints resolve to the ward on that side.
func TestLocateHCMCBoundaryPairs(t *testing.T) {
	d := embedded(t)
	edges := hcmcEdges(d.hcm)

	// A coarse hash of every edge, to skip midpoints with a third edge nearby.
	const hashDeg = 0.002
	hash := map[[2]int][]edgeKey{}
	for k := range edges {
		i0, i1 := int(math.Floor(k[0][0]/hashDeg)), int(math.Floor(k[1][0]/hashDeg))
		j0, j1 := int(math.Floor(min(k[0][1], k[1][1])/hashDeg)), int(math.Floor(max(k[0][1], k[1][1])/hashDeg))
		for i := i0; i <= i1; i++ {
			for j := j0; j <= j1; j++ {
				hash[[2]int{i, j}] = append(hash[[2]int{i, j}], k)
			}
		}
	}

	var shared []edgeKey
	for k, owners := range edges {
		if len(owners) == 2 && owners[0].feature != owners[1].feature && owners[0].leftInner != owners[1].leftInner {
			shared = append(shared, k)
		}
	}
	slices.SortFunc(shared, func(a, b edgeKey) int {
		for i := range 2 {
			for j := range 2 {
				if c := cmpFloat(a[i][j], b[i][j]); c != 0 {
					return c
				}
			}
		}
		return 0
	})

	const offset, clearance = 5.0, 12.0 // metres
	checked := 0
	for n := 0; n < len(shared) && checked < 400; n += 97 {
		k := shared[n]
		mid := Point{(k[0][0] + k[1][0]) / 2, (k[0][1] + k[1][1]) / 2}
		mx := metresPerDegree * math.Cos(mid[1]*math.Pi/180) // metres per degree of longitude
		ex, ey := (k[1][0]-k[0][0])*mx, (k[1][1]-k[0][1])*metresPerDegree
		length := math.Hypot(ex, ey)
		if length < 2*clearance || nearOtherEdge(hash, hashDeg, k, mid, mx, clearance) {
			continue
		}
		// Unit normal pointing left of key[0]→key[1], in degrees per metre.
		nx, ny := -ey/length/mx, ex/length/metresPerDegree
		leftPt := Point{mid[0] + offset*nx, mid[1] + offset*ny}
		rightPt := Point{mid[0] - offset*nx, mid[1] - offset*ny}
		owners := edges[k]
		leftWard, rightWard := d.hcm[owners[0].feature].Code, d.hcm[owners[1].feature].Code
		if !owners[0].leftInner {
			leftWard, rightWard = rightWard, leftWard
		}
		for _, c := range []struct {
			p    Point
			want string
		}{{leftPt, leftWard}, {rightPt, rightWard}} {
			if got, _ := d.ix.Locate(c.p[0], c.p[1]); got.Code != c.want {
				t.Errorf("Locate(%.7f, %.7f), %gm from the %s|%s boundary = %q, want %q",
					c.p[0], c.p[1], offset, leftWard, rightWard, got.Code, c.want)
			}
		}
		checked++
	}
	if checked < 200 {
		t.Errorf("checked %d boundary pairs, want at least 200", checked)
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestLocateOnSharedEdges looks up points on (within rounding of) edges
// shared by two HCMC wards: each must resolve to one of the two, never to
// neither, however the rounding falls.
func TestLocateOnSharedEdges(t *testing.T) {
	d := embedded(t)
	checked := 0
	for k, owners := range hcmcEdges(d.hcm) {
		if len(owners) != 2 || owners[0].feature == owners[1].feature {
			continue
		}
		a, b := d.hcm[owners[0].feature].Code, d.hcm[owners[1].feature].Code
		for _, s := range []float64{0.5, 1.0 / 3, 0.9} {
			p := Point{k[0][0] + s*(k[1][0]-k[0][0]), k[0][1] + s*(k[1][1]-k[0][1])}
			if got, _ := d.ix.Locate(p[0], p[1]); got.Code != a && got.Code != b {
				t.Errorf("Locate(%v), on the %s|%s boundary, = %q; want %q or %q", p, a, b, got.Code, a, b)
			}
			checked++
		}
	}
	if checked < 100000 {
		t.Errorf("checked %d points on shared edges, want at least 100000", checked)
	}
}

// nearOtherEdge reports whether an edge other than k passes within dist
// metres of p.
func nearOtherEdge(hash map[[2]int][]edgeKey, hashDeg float64, k edgeKey, p Point, mx, dist float64) bool {
	ci, cj := int(math.Floor(p[0]/hashDeg)), int(math.Floor(p[1]/hashDeg))
	for i := ci - 1; i <= ci+1; i++ {
		for j := cj - 1; j <= cj+1; j++ {
			for _, e := range hash[[2]int{i, j}] {
				if e == k {
					continue
				}
				// Distance from p to the segment, in local metres.
				ax, ay := (e[0][0]-p[0])*mx, (e[0][1]-p[1])*metresPerDegree
				bx, by := (e[1][0]-p[0])*mx, (e[1][1]-p[1])*metresPerDegree
				dx, dy := bx-ax, by-ay
				s := 0.0
				if l2 := dx*dx + dy*dy; l2 > 0 {
					s = min(1, max(0, -(ax*dx+ay*dy)/l2))
				}
				if math.Hypot(ax+s*dx, ay+s*dy) < dist {
					return true
				}
			}
		}
	}
	return false
}

// TestLocateSharedVertices looks up HCMC vertices exactly: every vertex
// whose edges are all shared by two wards is inside the city, so it must
// resolve, and to a ward that has it as a vertex.
func TestLocateSharedVertices(t *testing.T) {
	d := embedded(t)
	edges := hcmcEdges(d.hcm)
	type vertexInfo struct {
		wards    []string
		unshared bool
	}
	vertices := map[Point]*vertexInfo{}
	for k, owners := range edges {
		for _, v := range k {
			vi := vertices[v]
			if vi == nil {
				vi = &vertexInfo{}
				vertices[v] = vi
			}
			if len(owners) < 2 {
				vi.unshared = true
			}
			for _, o := range owners {
				if code := d.hcm[o.feature].Code; !slices.Contains(vi.wards, code) {
					vi.wards = append(vi.wards, code)
				}
			}
		}
	}
	checked := 0
	for v, vi := range vertices {
		if vi.unshared {
			continue
		}
		checked++
		got, ok := d.ix.Locate(v[0], v[1])
		if !ok || !slices.Contains(vi.wards, got.Code) {
			t.Errorf("Locate(vertex %v) = %q, %v; want one of %v", v, got.Code, ok, vi.wards)
		}
	}
	if checked < 10000 {
		t.Errorf("checked %d shared vertices, want at least 10000", checked)
	}
}
