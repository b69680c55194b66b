package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/demo"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/web"
)

// app is what every database-using command builds: the database and the
// room services over it.
type app struct {
	cfg      *Config
	log      *slog.Logger
	db       *db.DB
	areas    *area.Service
	accounts *account.Service
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

// openApp opens the database, migrates it when migrate is set (otherwise
// refuses a schema that is not current) and builds the services.
func openApp(ctx context.Context, cfg *Config, logOut io.Writer, migrate bool) (*app, error) {
	log := newLogger(cfg, logOut)
	d, err := db.Open(ctx, cfg.DatabaseURL, db.Options{})
	if err != nil {
		return nil, err
	}
	if migrate {
		from, to, err := d.Migrate(ctx)
		if err != nil {
			d.Close()
			return nil, err
		}
		if from != to {
			log.Info("schema migrated", "from", from, "to", to)
		}
	} else if err := d.CheckSchema(ctx); err != nil {
		d.Close()
		return nil, err
	}
	a := &app{cfg: cfg, log: log, db: d}
	a.areas = area.NewService(d, cfg.SecretKey)
	var sms account.SMSSender = account.LogSender{Logger: log}
	if cfg.SMSURL != "" {
		sms = account.HTTPSender{URL: cfg.SMSURL, Token: cfg.SMSToken, Client: &http.Client{Timeout: 10 * time.Second}}
	}
	acfg := account.Config{SMS: sms, Demo: cfg.Demo, Residents: residentFinder{a.areas}, SecretKey: cfg.SecretKey, Logger: log}
	if err := acfg.Validate(); err != nil {
		d.Close()
		return nil, err
	}
	a.accounts = account.New(d, acfg)
	return a, nil
}

func (a *app) Close() error { return a.db.Close() }

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.addCommonFlags(fs)
	cfg.addServeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.finish(); err != nil {
		return err
	}
	a, err := openApp(ctx, &cfg, stderr, true)
	if err != nil {
		return err
	}
	defer a.Close()
	log := a.log

	if cfg.Demo {
		if err := a.prepareDemo(ctx); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	var index *geo.Index
	if n, err := a.areas.BoundaryCount(ctx); err != nil {
		return err
	} else if n > 0 {
		start := time.Now()
		if index, err = a.areas.BoundaryIndex(ctx); err != nil {
			return err
		}
		log.Info("ward boundaries loaded", "wards", index.Stats().Features, "ms", time.Since(start).Milliseconds())
	} else {
		log.Warn("no ward boundaries stored: /api/v1/areas/locate answers 503 until `trothu import boundaries` runs")
	}

	srv, err := web.New(web.Config{Demo: cfg.Demo, SecureCookies: cfg.SecureCookies},
		web.Deps{DB: a.db, Accounts: a.accounts, Areas: a.areas, Geo: index, Logger: log})
	if err != nil {
		return err
	}
	hs := &http.Server{
		Addr:              cfg.Addr,
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	go a.housekeeping(ctx)
	log.Info("trothu serving", "addr", ln.Addr().String(), "database", string(a.db.Dialect), "demo", cfg.Demo, "version", version)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped cleanly")
	return nil
}

// prepareDemo makes sure the national tree, the boundaries and the demo
// ward are there; each step is skipped when already done.
func (a *app) prepareDemo(ctx context.Context) error {
	if _, err := a.areas.Root(ctx); err != nil {
		a.log.Info("demo: importing the national administrative tree")
		if _, err := a.areas.ImportNational(ctx, nil, func(msg string) { a.log.Info("import", "step", msg) }); err != nil {
			return err
		}
	}
	if n, err := a.areas.BoundaryCount(ctx); err != nil {
		return err
	} else if n == 0 {
		a.log.Info("demo: importing ward boundaries")
		if err := importEmbeddedBoundaries(ctx, a); err != nil {
			return err
		}
	}
	return demo.Seed(ctx, a.db, a.areas, a.accounts, a.log)
}

// housekeeping prunes expired sessions and codes every hour.
func (a *app) housekeeping(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := a.accounts.Prune(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("prune sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
