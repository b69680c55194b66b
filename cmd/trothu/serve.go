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
	app_ "github.com/trothu/trothu/internal/app"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/web"
)

// app is what every database-using command builds: the configuration,
// the database and the services over it.
type app struct {
	*app_.App
	cfg *Config
	log *slog.Logger
	db  *db.DB
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
	var sms account.SMSSender
	if cfg.SMSURL != "" {
		sms = account.HTTPSender{URL: cfg.SMSURL, Token: cfg.SMSToken, Client: &http.Client{Timeout: 10 * time.Second}}
	}
	services, err := app_.New(ctx, d, app_.Config{SecretKey: cfg.SecretKey, DataDir: cfg.Data, Demo: cfg.Demo, SMS: sms, Mail: cfg.Mail, NATSURL: cfg.NATSURL, Logger: log})
	if err != nil {
		d.Close()
		return nil, err
	}
	return &app{App: services, cfg: cfg, log: log, db: d}, nil
}

func (a *app) Close() error { return errors.Join(a.App.Close(), a.db.Close()) }

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
		if err := a.PrepareDemo(ctx); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	var index *geo.Index
	if n, err := a.Areas.BoundaryCount(ctx); err != nil {
		return err
	} else if n > 0 {
		start := time.Now()
		if index, err = a.Areas.BoundaryIndex(ctx); err != nil {
			return err
		}
		log.Info("ward boundaries loaded", "wards", index.Stats().Features, "ms", time.Since(start).Milliseconds())
	} else {
		log.Warn("no ward boundaries stored: /api/v1/areas/locate answers 503 until `trothu import boundaries` runs")
	}

	srv, err := web.New(web.Config{Demo: cfg.Demo, SecureCookies: cfg.SecureCookies, MapTiles: cfg.MapTiles, MapAttribution: cfg.MapAttrib},
		web.Deps{DB: a.db, Accounts: a.Accounts, Areas: a.Areas, Geo: index, Logger: log,
			Jobs: a.Jobs, Broker: a.Broker, Groups: a.Groups, Notices: a.Notices, Requests: a.Requests})
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
	go a.Background(ctx)
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
