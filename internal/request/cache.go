package request

import (
	"context"
	"sync"
	"time"

	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
)

// Intake reads the same few rows for every request (the service types, the
// ward of a GPS point, its organisations, its households' coordinates, the
// integrator's key). These caches keep them for a short while; a change
// made on another instance shows within cacheTTL.
const cacheTTL = time.Minute

type cached[T any] struct {
	v  T
	at time.Time
}

type ttlCache[K comparable, T any] struct {
	mu sync.RWMutex
	m  map[K]cached[T]
}

func (c *ttlCache[K, T]) get(k K) (T, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || time.Since(e.at) > cacheTTL {
		var zero T
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[K, T]) put(k K, v T) {
	c.mu.Lock()
	if c.m == nil || len(c.m) > 20000 {
		c.m = map[K]cached[T]{}
	}
	c.m[k] = cached[T]{v, time.Now()}
	c.mu.Unlock()
}

func (c *ttlCache[K, T]) clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

type caches struct {
	types  ttlCache[string, Type]
	wards  ttlCache[string, area.Unit]
	agency ttlCache[string, string]
	homes  ttlCache[string, []home]
	keys   ttlCache[string, string]
	level  ttlCache[string, bool]
}

// home is a registered household's position and unit.
type home struct {
	lat, lon float64
	unitID   int64
}

func (s *Service) typeCached(ctx context.Context, code string) (Type, error) {
	if t, ok := s.cache.types.get(code); ok {
		return t, nil
	}
	t, err := typeByCode(ctx, s.d, code)
	if err == nil {
		s.cache.types.put(code, t)
	}
	return t, err
}

// wardByCode returns the ward of a GPS point; a ward outside the
// deployment's territory is apperr Invalid with a clear answer.
func (s *Service) wardByCode(ctx context.Context, code string) (area.Unit, error) {
	u, ok := s.cache.wards.get(code)
	if !ok {
		var err error
		if u, err = s.areas.UnitByCode(ctx, area.LevelCommune, code); err != nil {
			return u, err
		}
		s.cache.wards.put(code, u)
	}
	if err := s.inTerritory(ctx, u); err != nil {
		return area.Unit{}, err
	}
	return u, nil
}

// homes returns the coordinates of the registered households of a ward.
func (s *Service) homes(ctx context.Context, wardPath string) ([]home, error) {
	if h, ok := s.cache.homes.get(wardPath); ok {
		return h, nil
	}
	lo, hi := db.SubtreeRange(wardPath)
	rows, err := s.d.Query(ctx, "SELECT lat, lon, unit_id FROM households WHERE unit_path >= ? AND unit_path < ? AND lat IS NOT NULL AND lon IS NOT NULL", lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []home{}
	for rows.Next() {
		var h home
		if err := rows.Scan(&h.lat, &h.lon, &h.unitID); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.cache.homes.put(wardPath, out)
	return out, nil
}
