package area

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/geo"
)

// Boundary is the outline drawn on a map for a unit: the polygons of its
// ward, the smallest unit whose boundary is stored (khu phố and tổ have
// none, so theirs is their ward's, and Own is false).
type Boundary struct {
	Unit      Unit          // the unit asked about
	Ward      Unit          // the ward whose outline Polygons is
	Own       bool          // Polygons is Unit's own outline
	Layer     string        // LayerDetail or LayerNational
	Polygons  []geo.Polygon // full resolution, as stored
	UpdatedAt time.Time
}

// BoundaryVersion returns the stored version (layer and time) of the
// outline of a unit's ward, to answer a conditional request without
// loading the polygons. Errors: NotFound (unit, or no boundary stored for
// its ward), Invalid (a unit above the ward level).
func (s *Service) BoundaryVersion(ctx context.Context, unitID int64) (ward Unit, layer string, updated time.Time, err error) {
	_, ward, err = s.wardOf(ctx, unitID)
	if err != nil {
		return Unit{}, "", time.Time{}, err
	}
	var ms int64
	for _, l := range []string{LayerDetail, LayerNational} {
		err = s.d.QueryRow(ctx, "SELECT updated_at FROM boundaries WHERE layer = ? AND code = ?", l, ward.Code).Scan(&ms)
		if err == nil {
			return ward, l, db.Time(ms), nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Unit{}, "", time.Time{}, err
		}
	}
	return Unit{}, "", time.Time{}, apperr.NotFoundf("ranh giới", "Boundary")
}

// UnitBoundary returns the outline of a unit at ward level or below: its
// ward's polygons from the detail layer, or else the national one. Errors
// as BoundaryVersion.
func (s *Service) UnitBoundary(ctx context.Context, unitID int64) (Boundary, error) {
	u, ward, err := s.wardOf(ctx, unitID)
	if err != nil {
		return Boundary{}, err
	}
	b := Boundary{Unit: u, Ward: ward, Own: u.ID == ward.ID}
	for _, l := range []string{LayerDetail, LayerNational} {
		var g string
		var ms int64
		err := s.d.QueryRow(ctx, "SELECT geometry, updated_at FROM boundaries WHERE layer = ? AND code = ?", l, ward.Code).Scan(&g, &ms)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return Boundary{}, err
		}
		if err := json.Unmarshal([]byte(g), &b.Polygons); err != nil {
			return Boundary{}, fmt.Errorf("boundary %s/%s: %w", l, ward.Code, err)
		}
		b.Layer, b.UpdatedAt = l, db.Time(ms)
		return b, nil
	}
	return Boundary{}, apperr.NotFoundf("ranh giới", "Boundary")
}

// wardOf returns the unit and the ward it lies in (itself for a ward).
func (s *Service) wardOf(ctx context.Context, unitID int64) (Unit, Unit, error) {
	u, err := s.Unit(ctx, unitID)
	if err != nil {
		return Unit{}, Unit{}, err
	}
	switch u.Level {
	case LevelCommune:
		return u, u, nil
	case LevelNeighbourhood, LevelGroup:
		anc, err := s.Ancestors(ctx, u)
		if err != nil {
			return Unit{}, Unit{}, err
		}
		for _, a := range anc {
			if a.Level == LevelCommune {
				return u, a, nil
			}
		}
		return Unit{}, Unit{}, apperr.NotFoundf("ranh giới", "Boundary")
	default:
		return Unit{}, Unit{}, apperr.InvalidField("unit_id", "Chỉ có ranh giới từ cấp phường, xã trở xuống.", "Boundaries are kept for wards and the units below them only.")
	}
}
