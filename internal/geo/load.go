package geo

import (
	"errors"
	"fmt"

	"github.com/trothu/trothu/internal/vnadmin"
)

// Embedded layer names, as vnadmin.Open takes them.
const (
	HCMCFullLayer   = "geo_2025_hcm_wards_full.geojson"   // 168 HCMC wards, full resolution
	NationalLayer   = "geo_2025_wards_simplified.geojson" // 3,321 wards, simplified
	FixturesDataset = "geo_2025_ward_point_fixtures.csv"  // test points with their expected ward
)

// LoadEmbedded builds a fresh index of the wards embedded in the binary: the
// full-resolution HCMC layer first, so it wins where it covers a point, then
// the simplified national layer. It returns an error only if the embedded
// data is unreadable, which would be a build defect.
func LoadEmbedded() (*Index, error) {
	names := []string{HCMCFullLayer, NationalLayer}
	layers := make([][]Feature, len(names))
	errs := make([]error, len(names))
	parallel(len(names), func(i int) { layers[i], errs[i] = LoadEmbeddedLayer(names[i]) })
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return Build(layers...)
}

// LoadEmbeddedLayer parses one embedded GeoJSON layer, such as NationalLayer.
// It returns an error if there is no such layer or it does not parse.
func LoadEmbeddedLayer(name string) (features []Feature, err error) {
	r, err := vnadmin.Open(name)
	if err != nil {
		return nil, fmt.Errorf("geo: %w", err)
	}
	defer func() { err = errors.Join(err, r.Close()) }()
	features, err = ParseFeatureCollection(r)
	if err != nil {
		return nil, fmt.Errorf("%w (layer %s)", err, name)
	}
	return features, nil
}
