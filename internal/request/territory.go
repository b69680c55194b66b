package request

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
)

// TerritorySetting is the settings key of the deployment's territory: the
// provinces and wards whose requests it takes (a JSON list of unit ids).
// Absent or empty means every ward in the tree.
const TerritorySetting = "request.territory"

// territory is the loaded setting; a change made on another instance
// shows within cacheTTL.
type territory struct {
	units []area.Unit
	at    time.Time
}

// Territory returns the provinces and wards the deployment serves (empty:
// all). It is public.
func (s *Service) Territory(ctx context.Context) ([]area.Unit, error) {
	t, err := s.territory(ctx)
	if err != nil {
		return nil, err
	}
	return t.units, nil
}

func (s *Service) territory(ctx context.Context) (*territory, error) {
	if t := s.terr.Load(); t != nil && time.Since(t.at) < cacheTTL {
		return t, nil
	}
	var raw string
	err := s.d.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", TerritorySetting).Scan(&raw)
	var ids []int64
	if err == nil {
		if err := json.Unmarshal([]byte(raw), &ids); err != nil {
			return nil, fmt.Errorf("setting %s: %w", TerritorySetting, err)
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	t := &territory{units: []area.Unit{}, at: time.Now()}
	for _, id := range ids {
		u, err := s.areas.Unit(ctx, id)
		if apperr.CodeOf(err) == apperr.NotFound {
			continue // a unit removed since: it serves nothing
		}
		if err != nil {
			return nil, err
		}
		t.units = append(t.units, u)
	}
	s.terr.Store(t)
	return t, nil
}

// inTerritory returns apperr Invalid, naming the ward, when ward lies
// outside the deployment's territory.
func (s *Service) inTerritory(ctx context.Context, ward area.Unit) error {
	t, err := s.territory(ctx)
	if err != nil || len(t.units) == 0 {
		return err
	}
	names := make([]string, 0, len(t.units))
	for _, u := range t.units {
		if strings.HasPrefix(ward.Path, u.Path) {
			return nil
		}
		names = append(names, u.FullName)
	}
	served := strings.Join(names, ", ")
	return apperr.InvalidField("lat",
		fmt.Sprintf("Vị trí này thuộc %s, ngoài địa bàn hệ thống này tiếp nhận (%s). Vui lòng liên hệ trực tiếp UBND %s.", ward.FullName, served, ward.FullName),
		fmt.Sprintf("This point is in %s, outside the area this system serves (%s). Please contact that ward's People's Committee directly.", ward.FullName, served))
}

// SaveTerritory sets the provinces and wards the deployment serves, by GSO
// code (2-digit province, 5-digit ward; none: everywhere). The caller
// needs account.ActAdminRequests; the change is audited. Errors:
// Unauthenticated, Forbidden, Invalid (an unknown or old code).
func (s *Service) SaveTerritory(ctx context.Context, p *account.Principal, codes []string) ([]area.Unit, error) {
	if err := s.authorizeAdmin(ctx, p); err != nil {
		return nil, err
	}
	units := []area.Unit{}
	seen := map[int64]bool{}
	for _, c := range codes {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		level := area.LevelCommune
		if len(c) == 2 {
			level = area.LevelProvince
		}
		u, err := s.areas.UnitByCode(ctx, level, c)
		if apperr.CodeOf(err) == apperr.NotFound || (len(c) != 2 && len(c) != 5) {
			return nil, apperr.InvalidField("codes",
				fmt.Sprintf("Không có tỉnh, thành phố (mã 2 số) hay phường, xã (mã 5 số) hiện hành nào mã “%s”.", c),
				fmt.Sprintf("No current province (2 digits) or ward (5 digits) has the code “%s”.", c))
		}
		if err != nil {
			return nil, err
		}
		if !seen[u.ID] {
			seen[u.ID] = true
			units = append(units, u)
		}
	}
	if len(units) > 500 {
		return nil, apperr.InvalidField("codes", "Tối đa 500 đơn vị; hãy chọn cả tỉnh thay vì từng phường.", "At most 500 units; choose the whole province instead.")
	}
	ids := make([]int64, len(units))
	names := make([]string, len(units))
	for i, u := range units {
		ids[i], names[i] = u.ID, u.Code+" "+u.FullName
	}
	raw, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", TerritorySetting, string(raw)); err != nil {
			return err
		}
		detail := strings.Join(names, "; ")
		if detail == "" {
			detail = "toàn bộ"
		}
		return audit.Log(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: AuditTerritory, SubjectType: "setting",
			SubjectID: TerritorySetting, Detail: clip(detail, 1000)})
	})
	if err != nil {
		return nil, err
	}
	s.terr.Store(&territory{units: units, at: time.Now()})
	s.cache.wards.clear()
	return units, nil
}

// AuthorizeAdmin returns nil when p administers requests (service types,
// calendar, API keys, territory), else apperr Unauthenticated or Forbidden.
func (s *Service) AuthorizeAdmin(ctx context.Context, p *account.Principal) error {
	return s.authorizeAdmin(ctx, p)
}

// Audit actions of the request room's administration.
const (
	AuditType      = "request_type.saved"
	AuditCalendar  = "request_calendar.saved"
	AuditTerritory = "request_territory.saved"
	AuditKeyCreate = "open311_key.created"
	AuditKeyRevoke = "open311_key.revoked"
)

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
