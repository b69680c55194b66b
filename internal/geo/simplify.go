package geo

// Simplify returns a copy of polys with each ring thinned by the
// Douglas–Peucker rule: a point is kept only if leaving it out would move
// the ring by more than tol degrees. Rings stay closed; a ring that would
// fall below four points (a triangle) keeps its original points, and an
// outer ring is never dropped, so the result covers the same wards. It is
// for drawing, not for point lookups: the index keeps full resolution.
func Simplify(polys []Polygon, tol float64) []Polygon {
	out := make([]Polygon, 0, len(polys))
	for _, poly := range polys {
		np := make(Polygon, 0, len(poly))
		for _, r := range poly {
			np = append(np, simplifyRing(r, tol))
		}
		out = append(out, np)
	}
	return out
}

func simplifyRing(r Ring, tol float64) Ring {
	if len(r) <= 4 || tol <= 0 {
		return append(Ring(nil), r...)
	}
	keep := make([]bool, len(r))
	keep[0], keep[len(r)-1] = true, true
	// A closed ring starts and ends at the same point, so the first split
	// is at the point farthest from it; then each half is thinned.
	far, best := 0, -1.0
	for i := 1; i < len(r)-1; i++ {
		dx, dy := r[i][0]-r[0][0], r[i][1]-r[0][1]
		if d := dx*dx + dy*dy; d > best {
			far, best = i, d
		}
	}
	keep[far] = true
	dp(r, 0, far, tol*tol, keep)
	dp(r, far, len(r)-1, tol*tol, keep)
	out := make(Ring, 0, len(r)/4+4)
	for i, k := range keep {
		if k {
			out = append(out, r[i])
		}
	}
	if len(out) < 4 {
		return append(Ring(nil), r...)
	}
	return out
}

// dp marks the points of r[a..b] to keep, iteratively (rings can have
// tens of thousands of points).
func dp(r Ring, a, b int, tol2 float64, keep []bool) {
	stack := [][2]int{{a, b}}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i0, i1 := s[0], s[1]
		if i1-i0 < 2 {
			continue
		}
		far, best := -1, tol2
		for i := i0 + 1; i < i1; i++ {
			if d := segDist2(r[i], r[i0], r[i1]); d > best {
				far, best = i, d
			}
		}
		if far < 0 {
			continue
		}
		keep[far] = true
		stack = append(stack, [2]int{i0, far}, [2]int{far, i1})
	}
}

// segDist2 is the squared distance from p to the segment a–b.
func segDist2(p, a, b Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = ((p[0]-a[0])*dx + (p[1]-a[1])*dy) / l2
		t = max(0, min(1, t))
	}
	ex, ey := p[0]-(a[0]+t*dx), p[1]-(a[1]+t*dy)
	return ex*ex + ey*ey
}

// Points counts the points of polys.
func Points(polys []Polygon) int {
	n := 0
	for _, p := range polys {
		for _, r := range p {
			n += len(r)
		}
	}
	return n
}
