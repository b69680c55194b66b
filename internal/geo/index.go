package geo

import (
	"math"
	"time"
	"unsafe"
)

// Index locates points among the features it was built from. It is read-only
// after Build and safe for concurrent use.
//
// The data's bounding box is cut into a uniform grid of root cells; a cell
// crossed by many edges is split again into 2×2 children, recursively. Each
// final cell (node) is empty, entirely inside one feature, or a leaf: a
// reference point, and for each feature that touches the cell, whether the
// reference point is inside it and which stretches of its rings touch the
// cell. A query walks the straight segment from the reference point to the
// query point — which never leaves the cell — and flips "inside" at every
// edge it crosses. Rings are stored once; cells refer to stretches of them.
type Index struct {
	minX, minY float64 // grid origin, degrees
	inv        float64 // root cells per degree
	nx, ny     int

	// nodes holds the nx×ny root cells row by row, then 2×2 blocks of
	// children. The top two bits of a node are its kind, the rest an index.
	nodes []uint32
	// leaves holds each leaf as consecutive words, so that one lookup
	// reads one place: the reference point (x then y, each a float64 as
	// two words, low first), the number of candidate features, then for
	// each candidate in priority order feature<<1 | 1 if the reference
	// point is inside it, the number of runs, and each run's start and
	// end: the feature's edges that touch the cell are those between
	// verts[start:end].
	leaves []uint32
	verts  []Point // every ring of every feature, end to end

	wards []Ward // by feature number, in priority order
	stats Stats
}

const (
	kindShift = 30
	indexMask = 1<<kindShift - 1

	nodeEmpty = 0 << kindShift
	nodeFull  = 1 << kindShift // index: feature
	nodeLeaf  = 2 << kindShift // index: first word in leaves
	nodeSplit = 3 << kindShift // index: first of the 4 children, row-major
)

// run is a stretch of one ring: the edges between verts[start:end].
type run struct{ start, end uint32 }

// Stats describes a built index.
type Stats struct {
	Features   int           // features indexed, all layers
	Wards      int           // distinct ward codes
	RootCells  int           // cells of the root grid
	Nodes      int           // root cells and their children
	Leaves     int           // nodes that need an edge test
	Candidates int           // (leaf, feature) pairs
	Runs       int           // stretches of rings the leaves refer to
	Vertices   int           // ring vertices, all features
	Bytes      int64         // approximate heap size of the index
	CellDeg    float64       // root cell size, degrees
	BuildTime  time.Duration // time spent in Build, parsing excluded
}

// Stats returns figures about the index, for benchmarks and logs.
func (ix *Index) Stats() Stats { return ix.stats }

// Locate returns the ward containing the point (lon, lat), in degrees, and
// true; or the zero Ward and false when no feature contains it (outside
// Vietnam, at sea, or not a number). Where layers overlap, the earliest layer
// given to Build wins; within a layer, the earliest feature. A point exactly
// on a boundary counts as lying a hair east of it (north of an east-west
// edge), as in Feature.Contains: of two wards sharing a boundary, exactly one
// gets it.
func (ix *Index) Locate(lon, lat float64) (Ward, bool) {
	i := ix.locate(lon, lat)
	if i < 0 {
		return Ward{}, false
	}
	return ix.wards[i], true
}

// locate returns the feature number containing (x, y), or -1.
func (ix *Index) locate(x, y float64) int {
	fx := (x - ix.minX) * ix.inv
	fy := (y - ix.minY) * ix.inv
	// Written so that NaN fails too.
	if !(fx >= 0 && fy >= 0 && fx < float64(ix.nx) && fy < float64(ix.ny)) {
		return -1
	}
	i, j := int(fx), int(fy)
	n := ix.nodes[j*ix.nx+i]
	for n>>kindShift == nodeSplit>>kindShift {
		// Exact: subtracting the integer part and doubling lose no bits, so
		// the build and the query agree on which child holds the point.
		fx = (fx - float64(i)) * 2
		fy = (fy - float64(j)) * 2
		i, j = int(fx), int(fy)
		n = ix.nodes[int(n&indexMask)+j*2+i]
	}
	switch n >> kindShift {
	case nodeFull >> kindShift:
		return int(n & indexMask)
	case nodeLeaf >> kindShift:
		return ix.testLeaf(ix.leaves[n&indexMask:], Point{x, y})
	}
	return -1
}

// testLeaf returns the first candidate of the leaf at the start of w that
// contains q, or -1.
func (ix *Index) testLeaf(w []uint32, q Point) int {
	ref := Point{
		math.Float64frombits(uint64(w[0]) | uint64(w[1])<<32),
		math.Float64frombits(uint64(w[2]) | uint64(w[3])<<32),
	}
	n := w[4]
	w = w[5:]
	for range n {
		featureInside, runs := w[0], w[1]
		w = w[2:]
		odd := uint32(0)
		for range runs {
			odd ^= uint32(crossings(ix.verts[w[0]:w[1]], ref, q)) & 1
			w = w[2:]
		}
		if odd != featureInside&1 {
			return int(featureInside >> 1)
		}
	}
	return -1
}

// crossings counts the edges of the chain pts that the segment r→q crosses.
// r must be well away from the lines through those edges (Build sees to it);
// then rounding can only misjudge a q within centimetres of an edge.
//
// A q exactly on an edge or vertex is treated as q+δ for one fixed
// infinitesimal δ = (ε, ε²): the point a hair east, and for an east-west edge a
// hair north. Contains breaks ties the same way, and two wards sharing a
// boundary then never both claim, or both drop, a point on it. The float64
// conversions forbid fused multiply-adds (arm64), which would make a
// vertex's product differences inexact and break those ties.
func crossings(pts []Point, r, q Point) int {
	if len(pts) == 0 {
		return 0
	}
	dx, dy := q[0]-r[0], q[1]-r[1]
	// left reports whether vertex p is left of the line r→q+δ. Computed once
	// per vertex, so the two edges meeting at a vertex always agree about it
	// and the parity stays right.
	left := func(p Point) bool {
		o := float64(dx*(p[1]-r[1])) - float64(dy*(p[0]-r[0]))
		return o > 0 || o == 0 && (p[1] > r[1] || p[1] == r[1] && p[0] < r[0])
	}
	n := 0
	a := pts[0]
	sa := left(a)
	for _, b := range pts[1:] {
		sb := left(b)
		if sa != sb {
			// The line r→q+δ separates a and b; the edge is crossed if its
			// own line separates r and q+δ. Both features that share an
			// edge must decide alike, so the edge is taken in a fixed
			// order whichever way their rings run.
			lo, hi := a, b
			if hi[0] < lo[0] || hi[0] == lo[0] && hi[1] < lo[1] {
				lo, hi = hi, lo
			}
			ex, ey := hi[0]-lo[0], hi[1]-lo[1]
			or := float64(ex*(r[1]-lo[1]))-float64(ey*(r[0]-lo[0])) > 0
			oq := float64(ex*(q[1]-lo[1])) - float64(ey*(q[0]-lo[0]))
			if or != (oq > 0 || oq == 0 && (ey < 0 || ey == 0 && ex > 0)) {
				n++
			}
		}
		a, sa = b, sb
	}
	return n
}

// bytes estimates the heap held by the index.
func (ix *Index) bytes() int64 {
	n := int64(unsafe.Sizeof(*ix))
	n += int64(cap(ix.nodes)) * int64(unsafe.Sizeof(ix.nodes[0]))
	n += int64(cap(ix.leaves)) * int64(unsafe.Sizeof(ix.leaves[0]))
	n += int64(cap(ix.verts)) * int64(unsafe.Sizeof(Point{}))
	n += int64(cap(ix.wards)) * int64(unsafe.Sizeof(Ward{}))
	for _, w := range ix.wards {
		n += int64(len(w.Code) + len(w.Name) + len(w.FullName) + len(w.NameEN) + len(w.Type) + len(w.ProvinceCode) + len(w.ProvinceName))
	}
	return n
}
