// Package app wires the rooms together over one database: the binary and
// the tests build the same services the same way. Each room adds its own
// wiring in a wire_*.go file here.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/demo"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/group"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/notify"
	"github.com/trothu/trothu/internal/realtime"
	"github.com/trothu/trothu/internal/request"
)

// Config is what the services need from the deployment's configuration.
type Config struct {
	SecretKey []byte // ≥ 32 bytes
	DataDir   string // where files (photos, attachments) are stored
	Demo      bool
	SMS       account.SMSSender // nil: codes go to the log
	Mail      *notify.Mailer    // nil: no email
	NATSURL   string            // empty: in-process events only
	Logger    *slog.Logger
	Now       func() time.Time // injectable clock; default time.Now
	// Account, if set, adjusts the account room's configuration (tests
	// relax rate limits with it).
	Account func(*account.Config)
}

// App holds the services.
type App struct {
	DB       *db.DB
	Log      *slog.Logger
	Now      func() time.Time
	Areas    *area.Service
	Accounts *account.Service
	Jobs     *jobs.Queue
	Broker   *realtime.Broker
	Groups   *group.Service
	Notices  *notice.Service
	Requests *request.Service
	cfg      Config
}

// residentFinder adapts the area room to account's sign-in lookup.
type residentFinder struct{ areas *area.Service }

func (f residentFinder) ResidentByPhone(ctx context.Context, phone string) (account.ResidentRef, error) {
	r, err := f.areas.ResidentByPhone(ctx, phone)
	if err != nil {
		return account.ResidentRef{}, err
	}
	return account.ResidentRef{ResidentID: r.ResidentID, HouseholdID: r.HouseholdID, UnitID: r.UnitID, UnitPath: r.UnitPath, Name: r.Name}, nil
}

// New builds every service over d, which must be migrated. It returns an
// error for an invalid configuration.
func New(ctx context.Context, d *db.DB, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &App{DB: d, Log: cfg.Logger, Now: cfg.Now, cfg: cfg}
	a.Areas = area.NewService(d, cfg.SecretKey)
	sms := cfg.SMS
	if sms == nil {
		sms = account.LogSender{Logger: cfg.Logger}
	}
	acfg := account.Config{SMS: sms, Demo: cfg.Demo, Residents: residentFinder{a.Areas}, SecretKey: cfg.SecretKey, Logger: cfg.Logger, Now: cfg.Now}
	if cfg.Account != nil {
		cfg.Account(&acfg)
	}
	if err := acfg.Validate(); err != nil {
		return nil, err
	}
	a.Accounts = account.New(d, acfg)
	a.Jobs = jobs.NewQueue(d, jobs.Options{Logger: cfg.Logger, Now: cfg.Now})
	for _, wire := range []func(context.Context) error{a.wireRealtime, a.wireGroups, a.wireNotices, a.wireRequests} {
		if err := wire(ctx); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Close stops what the services started (the database is the caller's).
func (a *App) Close() error { return nil }

// PrepareDemo makes sure the national tree, the boundaries and the demo
// ward are there; each step is skipped when already done.
func (a *App) PrepareDemo(ctx context.Context) error {
	if _, err := a.Areas.Root(ctx); err != nil {
		a.Log.Info("demo: importing the national administrative tree")
		if _, err := a.Areas.ImportNational(ctx, nil, func(msg string) { a.Log.Info("import", "step", msg) }); err != nil {
			return err
		}
	}
	if n, err := a.Areas.BoundaryCount(ctx); err != nil {
		return err
	} else if n == 0 {
		a.Log.Info("demo: importing ward boundaries")
		if err := a.ImportEmbeddedBoundaries(ctx); err != nil {
			return err
		}
	}
	return a.SeedDemo(ctx)
}

// SeedDemo seeds the demo ward and every room's demo content.
func (a *App) SeedDemo(ctx context.Context) error {
	return demo.Seed(ctx, demo.Env{DB: a.DB, Areas: a.Areas, Accounts: a.Accounts, Groups: a.Groups, Notices: a.Notices, Requests: a.Requests, Log: a.Log})
}

// ImportEmbeddedBoundaries stores the ward boundaries shipped in the binary.
func (a *App) ImportEmbeddedBoundaries(ctx context.Context) error {
	for _, l := range []struct{ layer, name string }{{area.LayerNational, geo.NationalLayer}, {area.LayerDetail, geo.HCMCFullLayer}} {
		features, err := geo.LoadEmbeddedLayer(l.name)
		if err != nil {
			return err
		}
		rep, err := a.Areas.ImportBoundaries(ctx, l.layer, features)
		if err != nil {
			return err
		}
		a.Log.Info("boundaries imported", "layer", rep.Layer, "inserted", rep.Inserted, "updated", rep.Updated, "unchanged", rep.Unchanged)
	}
	return nil
}

// Background runs the job queue, the request search indexer and
// housekeeping until ctx ends.
func (a *App) Background(ctx context.Context) {
	go a.Jobs.Run(ctx)
	go a.Requests.RunIndexer(ctx)
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := a.Accounts.Prune(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("prune sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
