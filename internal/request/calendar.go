package request

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/workcal"
)

// CalendarSetting is the settings key of the deployment's working-hours
// calendar (a workcal.Config as JSON); absent means workcal.DefaultConfig.
const CalendarSetting = "request.calendar"

// LoadCalendar reads the deployment's calendar configuration from the
// settings (the default when none is stored).
func LoadCalendar(ctx context.Context, d *db.DB) (workcal.Config, *workcal.Calendar, error) {
	var raw string
	err := d.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", CalendarSetting).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return workcal.DefaultConfig(), workcal.Default(), nil
	}
	if err != nil {
		return workcal.Config{}, nil, err
	}
	var cfg workcal.Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return workcal.Config{}, nil, err
	}
	cal, err := workcal.New(cfg)
	return cfg, cal, err
}

// CalendarConfig returns the stored calendar configuration. It is public.
func (s *Service) CalendarConfig(ctx context.Context) (workcal.Config, error) {
	cfg, _, err := LoadCalendar(ctx, s.d)
	return cfg, err
}

// SaveCalendar validates and stores the working-hours calendar; new
// deadlines use it at once (deadlines already set keep their instant).
// The caller needs account.ActAdminRequests. Errors: Unauthenticated,
// Forbidden, Invalid.
func (s *Service) SaveCalendar(ctx context.Context, p *account.Principal, cfg workcal.Config) (workcal.Config, error) {
	if err := s.authorizeAdmin(ctx, p); err != nil {
		return workcal.Config{}, err
	}
	cal, err := workcal.New(cfg)
	if err != nil {
		return workcal.Config{}, apperr.Wrap(err, apperr.Invalid, "Lịch làm việc không hợp lệ: "+err.Error(), "Invalid working calendar: "+err.Error())
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return workcal.Config{}, err
	}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", CalendarSetting, string(raw)); err != nil {
			return err
		}
		return audit.Log(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: AuditCalendar, SubjectType: "setting",
			SubjectID: CalendarSetting, Detail: clip(string(raw), 1000)})
	})
	if err != nil {
		return workcal.Config{}, err
	}
	s.SetCalendar(cal)
	return cfg, nil
}
