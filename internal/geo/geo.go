// Package geo answers "which ward is this GPS point in?": it reads ward
// boundaries from GeoJSON and builds an in-memory index that locates a point in
// well under a microsecond.
//
// Coordinates are WGS 84 longitude and latitude in degrees, planar: edges are
// straight lines in lon/lat, as GeoJSON defines them.
package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Point is a position: Point{lon, lat}, in degrees.
type Point [2]float64

// Ring is a closed sequence of points: the last point repeats the first.
type Ring []Point

// Polygon is an outer ring followed by zero or more holes.
type Polygon []Ring

// Ward is a commune-level administrative unit (phường, xã or đặc khu) and the
// province it belongs to: what a lookup answers.
type Ward struct {
	Code         string  // GSO code, 5 digits
	Name         string  // "Bến Thành"
	FullName     string  // "Phường Bến Thành"
	NameEN       string  // "Ben Thanh"
	Type         string  // "Phường", "Xã", "Đặc khu"
	ProvinceCode string  // GSO code, 2 digits
	ProvinceName string  // "Thành phố Hồ Chí Minh"
	AreaKm2      float64 // as published with the boundary
}

// Feature is a ward with its boundary. Its area is the set of points inside an
// odd number of its rings (even-odd rule), which for well-formed data is the
// union of its polygons minus their holes.
type Feature struct {
	Ward
	Polygons []Polygon
}

// Contains reports whether the point lies inside f, by testing every edge: the
// reference answer the Index agrees with. A point exactly on the boundary
// counts as lying a hair east of it (north of an east-west edge), up to
// rounding where an edge is neither vertical nor horizontal.
func (f *Feature) Contains(lon, lat float64) bool {
	in := false
	for _, poly := range f.Polygons {
		for _, r := range poly {
			for i := 1; i < len(r); i++ {
				a, b := r[i-1], r[i]
				// Half-open in latitude, so a vertex on the ray counts once.
				if (a[1] > lat) != (b[1] > lat) &&
					lon < a[0]+(lat-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
					in = !in
				}
			}
		}
	}
	return in
}

// ParseFeatureCollection reads a GeoJSON FeatureCollection whose features are
// Polygons or MultiPolygons carrying the ward properties of the national
// dataset (code, name, full_name, name_en, type, province_code, province_name,
// area_km2). Rings that do not repeat their first point are closed. It returns
// an error if the input is not such a collection, if a feature has no code or
// another geometry type, or if a ring has fewer than three distinct corners.
func ParseFeatureCollection(r io.Reader) ([]Feature, error) {
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry *struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				Code         string  `json:"code"`
				Name         string  `json:"name"`
				FullName     string  `json:"full_name"`
				NameEN       string  `json:"name_en"`
				Type         string  `json:"type"`
				ProvinceCode string  `json:"province_code"`
				ProvinceName string  `json:"province_name"`
				AreaKm2      float64 `json:"area_km2"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := json.NewDecoder(r).Decode(&fc); err != nil {
		return nil, fmt.Errorf("geo: decode feature collection: %w", err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, fmt.Errorf("geo: got GeoJSON type %q, want FeatureCollection", fc.Type)
	}
	out := make([]Feature, len(fc.Features))
	errs := make([]error, len(fc.Features))
	// Coordinates are most of the bytes; decoding them in parallel roughly
	// halves load time on two cores.
	parallel(len(fc.Features), func(i int) {
		f := &fc.Features[i]
		p := f.Properties
		out[i].Ward = Ward{p.Code, p.Name, p.FullName, p.NameEN, p.Type, p.ProvinceCode, p.ProvinceName, p.AreaKm2}
		if p.Code == "" {
			errs[i] = fmt.Errorf("geo: feature %d: no code", i)
			return
		}
		if f.Geometry == nil {
			errs[i] = fmt.Errorf("geo: feature %s: no geometry", p.Code)
			return
		}
		var err error
		switch f.Geometry.Type {
		case "Polygon":
			var poly Polygon
			err = json.Unmarshal(f.Geometry.Coordinates, &poly)
			out[i].Polygons = []Polygon{poly}
		case "MultiPolygon":
			err = json.Unmarshal(f.Geometry.Coordinates, &out[i].Polygons)
		default:
			err = fmt.Errorf("got geometry type %q, want Polygon or MultiPolygon", f.Geometry.Type)
		}
		if err == nil {
			err = closeRings(out[i].Polygons)
		}
		if err != nil {
			errs[i] = fmt.Errorf("geo: feature %s: %w", p.Code, err)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func closeRings(polys []Polygon) error {
	for _, poly := range polys {
		if len(poly) == 0 {
			return errors.New("polygon without rings")
		}
		for k, r := range poly {
			if len(r) > 0 && r[0] != r[len(r)-1] {
				r = append(r, r[0])
				poly[k] = r
			}
			if len(r) < 4 {
				return fmt.Errorf("ring of %d points, want at least 4", len(r))
			}
		}
	}
	return nil
}

// validate checks what Build relies on: closed rings of finite coordinates.
func (f *Feature) validate() error {
	if len(f.Polygons) == 0 {
		return fmt.Errorf("geo: feature %s: no polygons", f.Code)
	}
	for _, poly := range f.Polygons {
		if len(poly) == 0 {
			return fmt.Errorf("geo: feature %s: polygon without rings", f.Code)
		}
		for _, r := range poly {
			if len(r) < 4 || r[0] != r[len(r)-1] {
				return fmt.Errorf("geo: feature %s: ring of %d points is not closed or too short", f.Code, len(r))
			}
			for _, p := range r {
				if math.IsNaN(p[0]+p[1]) || math.IsInf(p[0]+p[1], 0) {
					return fmt.Errorf("geo: feature %s: non-finite coordinate %v", f.Code, p)
				}
			}
		}
	}
	return nil
}

// parallel calls fn(i) for every i in [0, n) on GOMAXPROCS goroutines.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}
