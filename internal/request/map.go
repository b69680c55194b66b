package request

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
)

// MaxMarkers bounds a map's markers: the newest this many are drawn.
const MaxMarkers = 2000

// Marker is a public request as a point on the public map: what anyone
// may see, whoever asks. No reporter, no address, no description; the
// position of a sensitive type is blurred to about 300 m for everyone,
// officials included, since the map is the public's.
// Names and labels are not in its JSON: a map of 2,000 markers sends each
// once, beside the markers.
type Marker struct {
	ID        int64     `json:"id"`
	TypeCode  string    `json:"type"`
	TypeName  string    `json:"-"`
	Status    Status    `json:"status"`
	StatusLbl string    `json:"-"`
	Open      bool      `json:"open"`
	WardID    int64     `json:"ward_id"`
	WardName  string    `json:"-"`
	Lat       float64   `json:"lat"`
	Lon       float64   `json:"lon"`
	Blurred   bool      `json:"location_blurred,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Markers returns the public requests with a location that the public
// list would show for f (unit subtree, type, statuses, since), newest
// first, at most limit (default and ceiling MaxMarkers); more reports
// whether older ones were left out. Names and labels are in lang ("vi" or
// "en"). Errors: NotFound (unit), Invalid (type, status).
func (s *Service) Markers(ctx context.Context, lang string, f Filter, limit int) (items []Marker, more bool, err error) {
	if limit <= 0 || limit > MaxMarkers {
		limit = MaxMarkers
	}
	where := []string{"r.public = 1", "r.lat IS NOT NULL", "r.lon IS NOT NULL"}
	var args []any
	if f.UnitID != 0 {
		u, err := s.areas.Unit(ctx, f.UnitID)
		if err != nil {
			return nil, false, err
		}
		c, a, _, err := s.unitScope(ctx, u.Path)
		if err != nil {
			return nil, false, err
		}
		where, args = append(where, c), append(args, a...)
	}
	if f.TypeCode != "" {
		t, err := s.TypeByCode(ctx, f.TypeCode)
		if err != nil {
			return nil, false, apperr.InvalidField("type", "Loại yêu cầu không tồn tại.", "Unknown service type.")
		}
		where, args = append(where, "r.type_id = ?"), append(args, t.ID)
	}
	if len(f.Statuses) > 0 {
		ph := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			if !st.Valid() {
				return nil, false, apperr.InvalidField("status", "Trạng thái không hợp lệ.", "Unknown status.")
			}
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "r.status IN ("+strings.Join(ph, ", ")+")")
	}
	if !f.Since.IsZero() {
		where, args = append(where, "r.created_at >= ?"), append(args, db.Millis(f.Since))
	}
	q := `SELECT r.id, t.code, t.name, t.name_en, t.sensitive, r.status, r.ward_id, w.full_name, r.lat, r.lon, r.created_at
		FROM requests r JOIN request_types t ON t.id = r.type_id JOIN units w ON w.id = r.ward_id WHERE ` + strings.Join(where, " AND ") +
		" ORDER BY r.created_at DESC, r.id DESC LIMIT " + strconv.Itoa(limit+1)
	rows, err := s.d.Query(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	items = []Marker{}
	for rows.Next() {
		var m Marker
		var nameEN string
		var sens int
		var created int64
		if err := rows.Scan(&m.ID, &m.TypeCode, &m.TypeName, &nameEN, &sens, &m.Status, &m.WardID, &m.WardName, &m.Lat, &m.Lon, &created); err != nil {
			return nil, false, err
		}
		if lang == "en" && nameEN != "" {
			m.TypeName = nameEN
		}
		if sens == 1 {
			m.Lat, m.Lon, m.Blurred = blur(m.Lat), blur(m.Lon), true
		}
		// Six decimals, about 0.1 m: what a map can show, a third of the bytes.
		m.Lat, m.Lon = math.Round(m.Lat*1e6)/1e6, math.Round(m.Lon*1e6)/1e6
		m.Open, m.StatusLbl, m.CreatedAt = m.Status.Open(), m.Status.Label(lang), db.Time(created)
		items = append(items, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(items) > limit {
		return items[:limit], true, nil
	}
	return items, false, nil
}
