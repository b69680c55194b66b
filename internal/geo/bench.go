package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// LocateBenchResult is what `trothu bench geo-locate` prints: the figures of
// one run of RunLocateBench, single goroutine.
type LocateBenchResult struct {
	Scenario   string  `json:"scenario"` // "geo-locate"
	Wards      int     `json:"wards"`    // distinct ward codes indexed
	Features   int     `json:"features"` // indexed features, all layers (HCMC wards are in two)
	Points     int     `json:"points"`   // distinct query points, cycled through
	DurationMS float64 `json:"duration_ms"`

	Lookups              int64   `json:"lookups"` // in all rounds
	Found                int64   `json:"found"`   // in all rounds
	LookupsPerSecPerCore float64 `json:"lookups_per_sec_per_core"`
	NsPerLookup          float64 `json:"ns_per_lookup"`

	// The floor is the cheapest step of any lookup, over the same points:
	// finding the root grid cell and reading it, with no descent and no
	// edge test.
	FloorLookupsPerSec float64 `json:"floor_lookups_per_sec"`
	FloorNsPerLookup   float64 `json:"floor_ns_per_lookup"`
	// Ratio is lookups_per_sec_per_core ÷ floor_lookups_per_sec, which
	// equals floor_ns_per_lookup ÷ ns_per_lookup: 1 would mean a lookup
	// costs no more than reading its grid cell; smaller is slower.
	Ratio float64 `json:"ratio"`

	BuildMS    float64 `json:"build_ms"`          // Build alone
	LoadMS     float64 `json:"load_ms,omitempty"` // gunzip, parse and Build, when measured
	IndexBytes int64   `json:"index_bytes"`       // approximate heap held by the index
}

// RunLocateBench measures ix.Locate over points, cycling through them, on the
// calling goroutine for about d, and the floor (see LocateBenchResult) for
// about d more. It alternates the two in rounds and reports each one's
// fastest round, which discounts moments when other processes took the core.
// It returns a zero Lookups count if points is empty.
func RunLocateBench(ix *Index, points []Point, d time.Duration) LocateBenchResult {
	st := ix.Stats()
	res := LocateBenchResult{
		Scenario:   "geo-locate",
		Wards:      st.Wards,
		Features:   st.Features,
		Points:     len(points),
		DurationMS: float64(d) / float64(time.Millisecond),
		BuildMS:    float64(st.BuildTime) / float64(time.Millisecond),
		IndexBytes: st.Bytes,
	}
	if len(points) == 0 {
		return res
	}
	const rounds = 8
	// Warm caches and branch predictors once before timing.
	ix.locatePass(points)
	ix.floorPass(points)
	res.NsPerLookup, res.FloorNsPerLookup = math.Inf(1), math.Inf(1)
	for range rounds {
		n, found, t := timePasses(d/rounds, func() int { return ix.locatePass(points) }, len(points))
		res.Lookups += n
		res.Found += int64(found)
		res.NsPerLookup = min(res.NsPerLookup, float64(t.Nanoseconds())/float64(n))
		n, _, t = timePasses(d/rounds, func() int { return ix.floorPass(points) }, len(points))
		res.FloorNsPerLookup = min(res.FloorNsPerLookup, float64(t.Nanoseconds())/float64(n))
	}
	res.LookupsPerSecPerCore = 1e9 / res.NsPerLookup
	res.FloorLookupsPerSec = 1e9 / res.FloorNsPerLookup
	res.Ratio = res.LookupsPerSecPerCore / res.FloorLookupsPerSec
	return res
}

// timePasses runs pass (one sweep over n points) until d has elapsed, and
// returns the points swept, the sum of what pass returned, and the time.
func timePasses(d time.Duration, pass func() int, n int) (int64, int, time.Duration) {
	var points int64
	sum := 0
	start := time.Now()
	for {
		sum += pass()
		points += int64(n)
		if el := time.Since(start); el >= d {
			return points, sum, el
		}
	}
}

// locatePass looks up every point and returns how many were found.
func (ix *Index) locatePass(points []Point) int {
	found := 0
	for _, p := range points {
		if ix.locate(p[0], p[1]) >= 0 {
			found++
		}
	}
	return found
}

// floorPass reads the root cell of every point; the count it returns only
// keeps the compiler from skipping the reads.
func (ix *Index) floorPass(points []Point) int {
	nonEmpty := 0
	for _, p := range points {
		fx := (p[0] - ix.minX) * ix.inv
		fy := (p[1] - ix.minY) * ix.inv
		if !(fx >= 0 && fy >= 0 && fx < float64(ix.nx) && fy < float64(ix.ny)) {
			continue
		}
		if ix.nodes[int(fy)*ix.nx+int(fx)] != nodeEmpty {
			nonEmpty++
		}
	}
	return nonEmpty
}

// LocateBench runs the whole geo-locate scenario: it loads the embedded
// layers (timing it), and runs RunLocateBench for about d over the embedded
// fixture points that lie inside Vietnam, in a fixed shuffled order. It
// returns an error if the embedded data cannot be read.
func LocateBench(d time.Duration) (LocateBenchResult, error) {
	start := time.Now()
	ix, err := LoadEmbedded()
	if err != nil {
		return LocateBenchResult{}, err
	}
	load := time.Since(start)
	points, err := FixturePoints()
	if err != nil {
		return LocateBenchResult{}, err
	}
	res := RunLocateBench(ix, points, d)
	res.LoadMS = float64(load) / float64(time.Millisecond)
	return res, nil
}

// FixturePoints returns the embedded fixture points inside Vietnam in a fixed
// pseudo-random order, so that consecutive lookups do not walk neighbouring
// cells. It returns an error if the embedded file cannot be read.
func FixturePoints() ([]Point, error) {
	fixtures, err := LoadFixtures()
	if err != nil {
		return nil, err
	}
	var points []Point
	for _, f := range fixtures {
		if f.WardCode != "" {
			points = append(points, Point{f.Lon, f.Lat})
		}
	}
	if len(points) == 0 {
		return nil, fmt.Errorf("geo: no fixture points inside Vietnam in %s", FixturesDataset)
	}
	rand.New(rand.NewPCG(2025, 7)).Shuffle(len(points), func(i, j int) {
		points[i], points[j] = points[j], points[i]
	})
	return points, nil
}
