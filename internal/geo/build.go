package geo

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// options tune the index; defaultOptions were chosen by measurement (see
// BenchmarkLocateOptions): finer root cells or fewer edges per leaf cost
// memory, coarser ones lookup time.
type options struct {
	cellDeg  float64 // root cell size, degrees
	maxEdges int     // a cell with more edges than this is split…
	maxDepth int     // …unless it is this many splits below its root cell
}

var defaultOptions = options{cellDeg: 0.01, maxEdges: 16, maxDepth: 12}

const (
	// margin widens every cell when collecting its edges, so that a query
	// point that rounding places in a neighbouring cell, or on a cell's side,
	// still only meets edges the cell holds. ~1 mm.
	margin = 1e-8
	// refTol is the least distance, in degrees, from a reference point to
	// the line through any edge of its cell, so that which side of an edge
	// the reference point is on never depends on rounding.
	refTol = 1e-9
	// maxRootCells bounds the root grid (4 bytes a cell).
	maxRootCells = 1 << 24
)

// Build indexes the features of the given layers. Where features overlap, the
// earlier layer wins, and within a layer the earlier feature: pass the most
// detailed layer first. It returns an error if there is no feature, if a
// feature has no polygon, a ring that is not closed, has fewer than four
// points or a non-finite coordinate, or if the data spans more than the index
// can grid (far more than a country). The index keeps its own copy of the
// coordinates, none of the features' slices.
func Build(layers ...[]Feature) (*Index, error) {
	return build(defaultOptions, layers)
}

type builder struct {
	opt   options
	ix    *Index
	feats []*Feature
	rings [][]run // per feature: where its rings lie in ix.verts
	stats Stats   // leaf counts
	err   error
}

// bcand is a feature seen from one cell while building.
type bcand struct {
	feature int32
	inside  bool  // whether the cell's reference point is inside
	runs    []run // the stretches of the feature's rings that touch the cell
	edges   int
}

type rootEntry struct {
	cell int32
	bcand
}

func build(opt options, layers [][]Feature) (*Index, error) {
	start := time.Now()
	b := &builder{opt: opt, ix: &Index{}}
	ix := b.ix
	wardCodes := map[string]bool{}
	for _, l := range layers {
		for i := range l {
			if err := l[i].validate(); err != nil {
				return nil, err
			}
			b.feats = append(b.feats, &l[i])
			ix.wards = append(ix.wards, l[i].Ward)
			wardCodes[l[i].Code] = true
		}
	}
	if len(b.feats) == 0 {
		return nil, errors.New("geo: build: no features")
	}
	if len(b.feats) > indexMask {
		return nil, fmt.Errorf("geo: build: %d features, want at most %d", len(b.feats), indexMask)
	}

	// One copy of every ring, end to end: cells refer to stretches of it,
	// and the caller's slices stay the caller's.
	nv := 0
	for _, f := range b.feats {
		for _, poly := range f.Polygons {
			for _, r := range poly {
				nv += len(r)
			}
		}
	}
	if nv > math.MaxUint32 {
		return nil, fmt.Errorf("geo: build: %d vertices, want at most %d", nv, uint32(math.MaxUint32))
	}
	ix.verts = make([]Point, 0, nv)
	b.rings = make([][]run, len(b.feats))
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for fi, f := range b.feats {
		for _, poly := range f.Polygons {
			for _, r := range poly {
				b.rings[fi] = append(b.rings[fi], run{uint32(len(ix.verts)), uint32(len(ix.verts) + len(r))})
				ix.verts = append(ix.verts, r...)
				for _, p := range r {
					minX, minY, maxX, maxY = min(minX, p[0]), min(minY, p[1]), max(maxX, p[0]), max(maxY, p[1])
				}
			}
		}
	}

	cell := opt.cellDeg
	// Half a cell of slack on each side keeps every vertex off the grid's
	// outer border.
	ix.minX, ix.minY, ix.inv = minX-cell/2, minY-cell/2, 1/cell
	nx, ny := math.Floor((maxX-ix.minX)/cell)+2, math.Floor((maxY-ix.minY)/cell)+2
	if nx*ny > maxRootCells {
		return nil, fmt.Errorf("geo: build: data spans %.1f°×%.1f°, too large for %g° cells", maxX-minX, maxY-minY, cell)
	}
	ix.nx, ix.ny = int(nx), int(ny)

	perFeature := make([][]rootEntry, len(b.feats))
	parallel(len(b.feats), func(i int) { perFeature[i] = b.rootEntries(int32(i)) })

	// Bucket by cell, keeping feature (priority) order within a cell.
	offsets := make([]int32, ix.nx*ix.ny+1)
	for _, es := range perFeature {
		for _, e := range es {
			offsets[e.cell+1]++
		}
	}
	for i := 1; i < len(offsets); i++ {
		offsets[i] += offsets[i-1]
	}
	byCell := make([]bcand, offsets[len(offsets)-1])
	fill := slices.Clone(offsets[:len(offsets)-1])
	for _, es := range perFeature {
		for _, e := range es {
			byCell[fill[e.cell]] = e.bcand
			fill[e.cell]++
		}
	}
	perFeature = nil

	ix.nodes = make([]uint32, ix.nx*ix.ny)
	for c := range ix.nx * ix.ny {
		cands := byCell[offsets[c]:offsets[c+1]]
		if len(cands) == 0 {
			continue
		}
		i, j := c%ix.nx, c/ix.nx
		x0, y0 := ix.minX+float64(i)*cell, ix.minY+float64(j)*cell
		n := b.rootNode(box{x0, y0, x0 + cell, y0 + cell}, cands)
		ix.nodes[c] = n
	}
	if len(ix.nodes) > indexMask || len(ix.leaves) > indexMask {
		b.fail(errors.New("geo: build: too many cells"))
	}
	if b.err != nil {
		return nil, b.err
	}
	// Drop what append over-allocated; the index lives as long as the server.
	ix.nodes = slices.Clone(ix.nodes)
	ix.leaves = slices.Clone(ix.leaves)

	ix.stats = Stats{
		Features:   len(b.feats),
		Wards:      len(wardCodes),
		RootCells:  ix.nx * ix.ny,
		Nodes:      len(ix.nodes),
		Leaves:     b.stats.Leaves,
		Candidates: b.stats.Candidates,
		Runs:       b.stats.Runs,
		Vertices:   len(ix.verts),
		CellDeg:    cell,
	}
	ix.stats.Bytes = ix.bytes()
	ix.stats.BuildTime = time.Since(start)
	return ix, nil
}

type box struct{ x0, y0, x1, y1 float64 }

func (bx box) centre() Point { return Point{(bx.x0 + bx.x1) / 2, (bx.y0 + bx.y1) / 2} }

// rootEntries cuts feature fi's edges into root cells and finds which root
// cells it covers entirely. Every cell whose (widened) box meets the feature
// gets an entry, except cells it covers not at all.
func (b *builder) rootEntries(fi int32) []rootEntry {
	ix, f, cell := b.ix, b.feats[fi], b.opt.cellDeg
	type acc struct {
		runs  []run
		edges int
	}
	cells := map[int32]*acc{}
	for _, ring := range b.rings[fi] {
		for k := ring.start; k+1 < ring.end; k++ {
			a, p := ix.verts[k], ix.verts[k+1]
			i0, i1 := ix.cellRange(min(a[0], p[0])-margin, max(a[0], p[0])+margin, ix.minX, ix.nx)
			j0, j1 := ix.cellRange(min(a[1], p[1])-margin, max(a[1], p[1])+margin, ix.minY, ix.ny)
			for j := j0; j <= j1; j++ {
				for i := i0; i <= i1; i++ {
					x0, y0 := ix.minX+float64(i)*cell, ix.minY+float64(j)*cell
					if (i0 != i1 || j0 != j1) && !segmentMeetsBox(a, p, box{x0, y0, x0 + cell, y0 + cell}) {
						continue
					}
					c := int32(j*ix.nx + i)
					ac := cells[c]
					if ac == nil {
						ac = &acc{}
						cells[c] = ac
					}
					ac.runs = extend(ac.runs, k)
					ac.edges++
				}
			}
		}
	}

	// Cells without edges are wholly inside or wholly outside: decide from
	// their centres, one horizontal scan line per row of cells.
	var out []rootEntry
	fx0, fy0, fx1, fy1 := f.bounds()
	i0, i1 := ix.cellRange(fx0-margin, fx1+margin, ix.minX, ix.nx)
	j0, j1 := ix.cellRange(fy0-margin, fy1+margin, ix.minY, ix.ny)
	var xs []float64
	for j := j0; j <= j1; j++ {
		yc := ix.minY + (float64(j)+0.5)*cell
		xs = f.scanLine(yc, xs[:0])
		slices.Sort(xs)
		k := 0 // xs[k:] lie east of the current centre
		for i := i0; i <= i1; i++ {
			xc := ix.minX + (float64(i)+0.5)*cell
			for k < len(xs) && xs[k] <= xc {
				k++
			}
			inside := (len(xs)-k)%2 == 1
			c := int32(j*ix.nx + i)
			if ac := cells[c]; ac != nil {
				out = append(out, rootEntry{c, bcand{fi, inside, ac.runs, ac.edges}})
			} else if inside {
				out = append(out, rootEntry{c, bcand{feature: fi, inside: true}})
			}
		}
	}
	return out
}

// extend adds the edge from verts[k] to verts[k+1] to runs, lengthening the
// last run when the edge follows it.
func extend(runs []run, k uint32) []run {
	if n := len(runs); n > 0 && runs[n-1].end == k+1 {
		runs[n-1].end = k + 2
		return runs
	}
	return append(runs, run{k, k + 2})
}

// cellRange returns the first and last root cells, clamped to the grid, that
// the interval [lo, hi] of one axis touches.
func (ix *Index) cellRange(lo, hi, origin float64, n int) (int, int) {
	a := int(math.Floor((lo - origin) * ix.inv))
	z := int(math.Floor((hi - origin) * ix.inv))
	return max(a, 0), min(z, n-1)
}

// scanLine appends to xs the longitudes where the line at latitude y crosses
// f's boundary, by the rule Contains uses.
func (f *Feature) scanLine(y float64, xs []float64) []float64 {
	for _, poly := range f.Polygons {
		for _, r := range poly {
			for i := 1; i < len(r); i++ {
				a, b := r[i-1], r[i]
				if (a[1] > y) != (b[1] > y) {
					xs = append(xs, a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]))
				}
			}
		}
	}
	return xs
}

func (f *Feature) bounds() (minX, minY, maxX, maxY float64) {
	minX, minY, maxX, maxY = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, poly := range f.Polygons {
		for _, r := range poly {
			for _, p := range r {
				minX, minY, maxX, maxY = min(minX, p[0]), min(minY, p[1]), max(maxX, p[0]), max(maxY, p[1])
			}
		}
	}
	return minX, minY, maxX, maxY
}

// rootNode chooses the root cell's reference point and builds its node.
func (b *builder) rootNode(bx box, cands []bcand) uint32 {
	ref := bx.centre()
	if !b.robust(ref, cands) {
		var ok bool
		if ref, ok = b.pickRef(bx, cands); !ok {
			b.fail(fmt.Errorf("geo: build: no usable reference point in cell %v", bx))
			return nodeEmpty
		}
		// The scan line ran through the centre; ask each feature directly.
		for k := range cands {
			cands[k].inside = b.feats[cands[k].feature].Contains(ref[0], ref[1])
		}
	}
	return b.node(bx, ref, cands, 0)
}

// node stores the cell bx, whose reference point is ref, and returns it.
func (b *builder) node(bx box, ref Point, cands []bcand, depth int) uint32 {
	ix := b.ix
	// Features that miss the cell drop out; nothing below a feature that
	// covers the whole cell can win.
	kept := cands[:0:0]
	total := 0
	for _, c := range cands {
		if c.edges == 0 && !c.inside {
			continue
		}
		kept = append(kept, c)
		total += c.edges
		if c.edges == 0 {
			break
		}
	}
	switch {
	case len(kept) == 0:
		return nodeEmpty
	case len(kept) == 1 && kept[0].edges == 0:
		return nodeFull | uint32(kept[0].feature)
	case total <= b.opt.maxEdges || depth >= b.opt.maxDepth:
		return b.leaf(ref, kept)
	}

	base := len(ix.nodes)
	ix.nodes = append(ix.nodes, 0, 0, 0, 0)
	mid := bx.centre()
	for k := range 4 {
		cb := box{bx.x0, bx.y0, mid[0], mid[1]}
		if k%2 == 1 {
			cb.x0, cb.x1 = mid[0], bx.x1
		}
		if k/2 == 1 {
			cb.y0, cb.y1 = mid[1], bx.y1
		}
		cref, ok := b.pickRef(cb, kept)
		if !ok {
			b.fail(fmt.Errorf("geo: build: no usable reference point in cell %v", cb))
			return nodeEmpty
		}
		children := make([]bcand, len(kept))
		for n, c := range kept {
			runs, edges := b.clip(c.runs, cb)
			children[n] = bcand{
				feature: c.feature,
				inside:  c.inside != (b.crossings(c.runs, ref, cref)%2 == 1),
				runs:    runs,
				edges:   edges,
			}
		}
		child := b.node(cb, cref, children, depth+1)
		ix.nodes[base+k] = child
	}
	return nodeSplit | uint32(base)
}

func (b *builder) leaf(ref Point, cands []bcand) uint32 {
	ix := b.ix
	off := len(ix.leaves)
	x, y := math.Float64bits(ref[0]), math.Float64bits(ref[1])
	ix.leaves = append(ix.leaves, uint32(x), uint32(x>>32), uint32(y), uint32(y>>32), uint32(len(cands)))
	for _, c := range cands {
		fi := uint32(c.feature) << 1
		if c.inside {
			fi |= 1
		}
		ix.leaves = append(ix.leaves, fi, uint32(len(c.runs)))
		for _, r := range c.runs {
			ix.leaves = append(ix.leaves, r.start, r.end)
		}
		b.stats.Runs += len(c.runs)
	}
	b.stats.Leaves++
	b.stats.Candidates += len(cands)
	return nodeLeaf | uint32(off)
}

func (b *builder) crossings(runs []run, r, q Point) int {
	n := 0
	for _, rn := range runs {
		n += crossings(b.ix.verts[rn.start:rn.end], r, q)
	}
	return n
}

func (b *builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// refFractions are where in a cell reference points are tried, after the
// centre: irrational-looking fractions, so that a grid-aligned run of
// vertices cannot defeat them all.
var refFractions = [...][2]float64{
	{0.5, 0.5}, {0.381966, 0.618034}, {0.707107, 0.267949}, {0.141421, 0.414214},
	{0.618034, 0.832050}, {0.267949, 0.173205}, {0.866025, 0.577350}, {0.447214, 0.301030},
}

// pickRef returns a point in bx that is well away from the lines through all
// edges of cands.
func (b *builder) pickRef(bx box, cands []bcand) (Point, bool) {
	w, h := bx.x1-bx.x0, bx.y1-bx.y0
	for _, fr := range refFractions {
		p := Point{bx.x0 + fr[0]*w, bx.y0 + fr[1]*h}
		if b.robust(p, cands) {
			return p, true
		}
	}
	// A small fixed pseudo-random sequence, so builds are reproducible.
	s := uint64(0x9E3779B97F4A7C15)
	for range 256 {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		fx, fy := float64(s>>40)/(1<<24), float64(s&(1<<24-1))/(1<<24)
		p := Point{bx.x0 + (0.05+0.9*fx)*w, bx.y0 + (0.05+0.9*fy)*h}
		if b.robust(p, cands) {
			return p, true
		}
	}
	return Point{}, false
}

// robust reports whether r is at least refTol from the line through every
// edge of cands.
func (b *builder) robust(r Point, cands []bcand) bool {
	for _, c := range cands {
		for _, rn := range c.runs {
			for k := rn.start + 1; k < rn.end; k++ {
				a, p := b.ix.verts[k-1], b.ix.verts[k]
				ex, ey := p[0]-a[0], p[1]-a[1]
				o := ex*(r[1]-a[1]) - ey*(r[0]-a[0])
				// o² < tol²·|ap|², written to be false for zero-length
				// edges, which no segment can cross.
				if o*o < refTol*refTol*(ex*ex+ey*ey) {
					return false
				}
			}
		}
	}
	return true
}

// clip returns the stretches of runs whose edges touch bx (widened by
// margin), and how many edges that is.
func (b *builder) clip(runs []run, bx box) ([]run, int) {
	var out []run
	edges := 0
	for _, rn := range runs {
		for k := rn.start; k+1 < rn.end; k++ {
			if segmentMeetsBox(b.ix.verts[k], b.ix.verts[k+1], bx) {
				out = extend(out, k)
				edges++
			}
		}
	}
	return out, edges
}

// segmentMeetsBox reports whether segment ap meets bx widened by margin. It
// may say yes for a segment that only comes within rounding of the box, never
// no for one that meets it.
func segmentMeetsBox(a, p Point, bx box) bool {
	x0, y0, x1, y1 := bx.x0-margin, bx.y0-margin, bx.x1+margin, bx.y1+margin
	if max(a[0], p[0]) < x0 || min(a[0], p[0]) > x1 || max(a[1], p[1]) < y0 || min(a[1], p[1]) > y1 {
		return false
	}
	// The bounding boxes overlap; the segment misses only if all four
	// corners lie strictly on one side of its line.
	ex, ey := p[0]-a[0], p[1]-a[1]
	side := func(x, y float64) float64 { return ex*(y-a[1]) - ey*(x-a[0]) }
	s1, s2, s3, s4 := side(x0, y0), side(x1, y0), side(x0, y1), side(x1, y1)
	return !(s1 > 0 && s2 > 0 && s3 > 0 && s4 > 0) && !(s1 < 0 && s2 < 0 && s3 < 0 && s4 < 0)
}
