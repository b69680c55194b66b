package geo

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/trothu/trothu/internal/vnadmin"
)

// Fixture is one test point of the embedded dataset: a point at least 150 m
// inside a ward, with that ward's code, or a point outside Vietnam, with none.
type Fixture struct {
	Lon, Lat     float64
	WardCode     string // "" for a point outside Vietnam
	WardName     string
	ProvinceCode string
}

// LoadFixtures reads the embedded test points (FixturesDataset), in file
// order. It returns an error if the embedded file is unreadable or malformed.
func LoadFixtures() (fixtures []Fixture, err error) {
	r, err := vnadmin.Open(FixturesDataset)
	if err != nil {
		return nil, fmt.Errorf("geo: %w", err)
	}
	defer func() { err = errors.Join(err, r.Close()) }()
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 7
	if _, err := cr.Read(); err != nil {
		return nil, fmt.Errorf("geo: fixtures header: %w", err)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return fixtures, nil
		}
		if err != nil {
			return nil, fmt.Errorf("geo: fixtures: %w", err)
		}
		// lon,lat,expected_ward_code,expected_ward_name,province_code,boundary_dist_m,kind
		lon, err1 := strconv.ParseFloat(rec[0], 64)
		lat, err2 := strconv.ParseFloat(rec[1], 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("geo: fixtures line %d: %w", len(fixtures)+2, err)
		}
		if (rec[6] == "inside") != (rec[2] != "") {
			return nil, fmt.Errorf("geo: fixtures line %d: kind %q with ward code %q", len(fixtures)+2, rec[6], rec[2])
		}
		fixtures = append(fixtures, Fixture{Lon: lon, Lat: lat, WardCode: rec[2], WardName: rec[3], ProvinceCode: rec[4]})
	}
}
