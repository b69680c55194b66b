package area

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/vntext"
)

// Boundary layers, in the order a lookup consults them: a detailed layer
// (full-resolution HCMC) wins over the simplified national one where it
// covers a point.
const (
	LayerDetail   = "detail"
	LayerNational = "national"
)

// BoundaryReport counts what ImportBoundaries did.
type BoundaryReport struct {
	Layer     string `json:"layer"`
	Inserted  int    `json:"inserted"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
}

// ImportBoundaries stores the ward boundaries of one layer, replacing the
// layer's previous rows that have the same ward code and keeping the
// others. It is idempotent, and all-or-nothing: a feature without a 5-digit
// code or without polygons fails the whole import.
func (s *Service) ImportBoundaries(ctx context.Context, layer string, features []geo.Feature) (BoundaryReport, error) {
	rep := BoundaryReport{Layer: layer}
	if layer != LayerDetail && layer != LayerNational {
		return rep, fmt.Errorf("unknown boundary layer %q", layer)
	}
	type row struct{ code, name, full, typ, pcode, pname, geom string }
	rows := make([]row, 0, len(features))
	for i, f := range features {
		if !fiveDigits(f.Code) || len(f.Polygons) == 0 {
			return rep, fmt.Errorf("feature %d: want a 5-digit ward code and at least one polygon (code %q)", i+1, f.Code)
		}
		g, err := json.Marshal(f.Polygons)
		if err != nil {
			return rep, err
		}
		rows = append(rows, row{f.Code, vntext.NFC(f.Name), vntext.NFC(f.FullName), vntext.NFC(f.Type), f.ProvinceCode, vntext.NFC(f.ProvinceName), string(g)})
	}
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		rep.Inserted, rep.Updated, rep.Unchanged = 0, 0, 0
		now := db.Now()
		for _, r := range rows {
			var old string
			var oldName string
			err := tx.QueryRow(ctx, "SELECT geometry, full_name FROM boundaries WHERE layer = ? AND code = ?", layer, r.code).Scan(&old, &oldName)
			switch {
			case err == nil && old == r.geom && oldName == r.full:
				rep.Unchanged++
				continue
			case err == nil:
				rep.Updated++
				_, err = tx.Exec(ctx, `UPDATE boundaries SET name = ?, full_name = ?, type = ?, province_code = ?, province_name = ?, geometry = ?, updated_at = ?
					WHERE layer = ? AND code = ?`, r.name, r.full, r.typ, r.pcode, r.pname, r.geom, now, layer, r.code)
			case errors.Is(err, sql.ErrNoRows):
				rep.Inserted++
				_, err = tx.Exec(ctx, `INSERT INTO boundaries(layer, code, name, full_name, type, province_code, province_name, geometry, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, layer, r.code, r.name, r.full, r.typ, r.pcode, r.pname, r.geom, now)
			default:
				return err
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return rep, err
}

func fiveDigits(s string) bool {
	if len(s) != 5 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// BoundaryCount returns how many boundaries are stored.
func (s *Service) BoundaryCount(ctx context.Context) (int, error) {
	var n int
	err := s.d.QueryRow(ctx, "SELECT COUNT(*) FROM boundaries").Scan(&n)
	return n, err
}

// BoundaryIndex builds the in-memory ward lookup from the stored
// boundaries (detail layer first). It returns an error if none are stored.
func (s *Service) BoundaryIndex(ctx context.Context) (*geo.Index, error) {
	var layers [][]geo.Feature
	for _, layer := range []string{LayerDetail, LayerNational} {
		rows, err := s.d.Query(ctx, "SELECT code, name, full_name, type, province_code, province_name, geometry FROM boundaries WHERE layer = ? ORDER BY code", layer)
		if err != nil {
			return nil, err
		}
		var fs []geo.Feature
		for rows.Next() {
			var f geo.Feature
			var g string
			if err := rows.Scan(&f.Code, &f.Name, &f.FullName, &f.Type, &f.ProvinceCode, &f.ProvinceName, &g); err != nil {
				rows.Close()
				return nil, err
			}
			if err := json.Unmarshal([]byte(g), &f.Polygons); err != nil {
				rows.Close()
				return nil, fmt.Errorf("boundary %s/%s: %w", layer, f.Code, err)
			}
			fs = append(fs, f)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if len(fs) > 0 {
			layers = append(layers, fs)
		}
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("no ward boundaries stored: run trothu import boundaries")
	}
	return geo.Build(layers...)
}
