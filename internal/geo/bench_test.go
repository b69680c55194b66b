package geo

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkLocate looks up the fixture points inside Vietnam, shuffled, one
// goroutine.
func BenchmarkLocate(b *testing.B) {
	d := embedded(b)
	points, err := FixturePoints()
	if err != nil {
		b.Fatal(err)
	}
	benchLocate(b, d.ix, points)
}

// BenchmarkLocateRandom looks up uniform random points in Vietnam's bounding
// box, most of them at sea or abroad.
func BenchmarkLocateRandom(b *testing.B) {
	d := embedded(b)
	rnd := rand.New(rand.NewPCG(5, 6))
	points := make([]Point, 10000)
	for i := range points {
		points[i] = Point{102.1 + 15.8*rnd.Float64(), 8.1 + 15.4*rnd.Float64()}
	}
	benchLocate(b, d.ix, points)
}

// BenchmarkLocateNearBoundary looks up points within ~5 m of HCMC
// full-resolution vertices: the densest geometry, and the worst case.
func BenchmarkLocateNearBoundary(b *testing.B) {
	d := embedded(b)
	rnd := rand.New(rand.NewPCG(8, 9))
	points := make([]Point, 10000)
	for i := range points {
		f := &d.hcm[rnd.IntN(len(d.hcm))]
		r := f.Polygons[0][0]
		v := r[rnd.IntN(len(r))]
		points[i] = Point{v[0] + 1e-4*(rnd.Float64()-0.5), v[1] + 1e-4*(rnd.Float64()-0.5)}
	}
	benchLocate(b, d.ix, points)
}

func benchLocate(b *testing.B, ix *Index, points []Point) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := points[i]
		ix.Locate(p[0], p[1])
		if i++; i == len(points) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkLocateOptions compares grid parameters on the fixture points:
// how defaultOptions were chosen. Besides time it reports index size and
// build time.
func BenchmarkLocateOptions(b *testing.B) {
	d := embedded(b)
	points, err := FixturePoints()
	if err != nil {
		b.Fatal(err)
	}
	for _, opt := range []options{
		{cellDeg: 0.01, maxEdges: 8, maxDepth: 12},
		{cellDeg: 0.01, maxEdges: 16, maxDepth: 12},
		{cellDeg: 0.02, maxEdges: 8, maxDepth: 12},
		{cellDeg: 0.02, maxEdges: 16, maxDepth: 12},
		{cellDeg: 0.02, maxEdges: 32, maxDepth: 12},
		{cellDeg: 0.04, maxEdges: 8, maxDepth: 12},
		{cellDeg: 0.04, maxEdges: 16, maxDepth: 12},
		{cellDeg: 0.04, maxEdges: 32, maxDepth: 12},
		{cellDeg: 0.08, maxEdges: 16, maxDepth: 12},
	} {
		b.Run(fmt.Sprintf("cell=%g/edges=%d", opt.cellDeg, opt.maxEdges), func(b *testing.B) {
			ix, err := build(opt, [][]Feature{d.hcm, d.nat})
			if err != nil {
				b.Fatal(err)
			}
			benchLocate(b, ix, points)
			st := ix.Stats()
			b.ReportMetric(float64(st.Bytes)/1e6, "index-MB")
			b.ReportMetric(float64(st.BuildTime)/float64(time.Millisecond), "build-ms")
		})
	}
}

// BenchmarkBuild measures Build alone on the parsed embedded layers.
func BenchmarkBuild(b *testing.B) {
	d := embedded(b)
	for b.Loop() {
		if _, err := Build(d.hcm, d.nat); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadEmbedded measures gunzip, parse and Build together.
func BenchmarkLoadEmbedded(b *testing.B) {
	for b.Loop() {
		if _, err := LoadEmbedded(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRunLocateBench(t *testing.T) {
	d := embedded(t)
	points, err := FixturePoints()
	if err != nil {
		t.Fatal(err)
	}
	res := RunLocateBench(d.ix, points, 80*time.Millisecond)
	if res.Scenario != "geo-locate" || res.Wards != 3321 || res.Points != 9963 {
		t.Errorf("scenario, wards, points = %q, %d, %d; want geo-locate, 3321, 9963", res.Scenario, res.Wards, res.Points)
	}
	if res.Lookups < int64(len(points)) || res.Found != res.Lookups {
		t.Errorf("lookups, found = %d, %d; want equal and at least %d", res.Lookups, res.Found, len(points))
	}
	if !(res.Ratio > 0 && res.Ratio <= 2) || res.NsPerLookup <= 0 || res.FloorNsPerLookup <= 0 {
		t.Errorf("ratio %v, ns %v, floor ns %v; want positive figures and a ratio in (0, 2]", res.Ratio, res.NsPerLookup, res.FloorNsPerLookup)
	}
	if res.IndexBytes <= 0 || res.BuildMS <= 0 {
		t.Errorf("index bytes, build ms = %d, %v; want positive", res.IndexBytes, res.BuildMS)
	}
	if empty := RunLocateBench(d.ix, nil, time.Millisecond); empty.Lookups != 0 {
		t.Errorf("no points: lookups = %d, want 0", empty.Lookups)
	}
}
