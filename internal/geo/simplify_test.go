package geo

import (
	"math"
	"testing"
)

func TestSimplify(t *testing.T) {
	// A square with many points along each side and one spike of 0.01°.
	var r Ring
	for i := 0; i <= 100; i++ {
		r = append(r, Point{float64(i) / 100, 0})
	}
	for i := 1; i <= 100; i++ {
		x := 0.0
		if i == 50 {
			x = 0.01
		}
		r = append(r, Point{1 + x, float64(i) / 100})
	}
	for i := 99; i >= 0; i-- {
		r = append(r, Point{float64(i) / 100, 1})
	}
	for i := 99; i >= 0; i-- {
		r = append(r, Point{0, float64(i) / 100})
	}
	in := []Polygon{{r}}
	for _, tc := range []struct {
		tol       float64
		wantMax   int
		wantSpike bool
	}{
		{0.001, 8, true},  // corners, the spike and its feet, closing point
		{0.02, 5, false},  // the spike goes too
		{0, len(r), true}, // no simplification
	} {
		out := Simplify(in, tc.tol)
		got := out[0][0]
		if len(got) > tc.wantMax || len(got) < 4 {
			t.Errorf("tol %g: got %d points, want 4..%d", tc.tol, len(got), tc.wantMax)
		}
		if got[0] != got[len(got)-1] {
			t.Errorf("tol %g: ring not closed: %v … %v", tc.tol, got[0], got[len(got)-1])
		}
		spike := false
		for _, p := range got {
			if math.Abs(p[0]-1.01) < 1e-9 {
				spike = true
			}
		}
		if spike != tc.wantSpike {
			t.Errorf("tol %g: spike kept %v, want %v", tc.tol, spike, tc.wantSpike)
		}
		// Every corner survives.
		for _, c := range []Point{{0, 0}, {1, 0}, {1, 1}, {0, 1}} {
			found := false
			for _, p := range got {
				if p == c {
					found = true
				}
			}
			if !found {
				t.Errorf("tol %g: corner %v dropped", tc.tol, c)
			}
		}
	}
	if n := Points(in); n != len(r) {
		t.Errorf("Points: got %d, want %d", n, len(r))
	}
}

func TestSimplifyKeepsTinyRings(t *testing.T) {
	tri := Ring{{0, 0}, {1, 0}, {0, 1}, {0, 0}}
	out := Simplify([]Polygon{{tri}}, 10)
	if len(out[0][0]) != 4 {
		t.Fatalf("got %v, want the triangle unchanged", out[0][0])
	}
}
