package app

import (
	"context"

	"github.com/trothu/trothu/internal/realtime"
)

// wireRealtime builds the event broker: in-process, or across instances
// through NATS when Config.NATSURL is set (an unreachable NATS is an error
// at start-up). The broker closes when ctx ends, which ends every open
// /events stream so that the HTTP server can shut down.
func (a *App) wireRealtime(ctx context.Context) error {
	b, err := realtime.New(realtime.Options{NATSURL: a.cfg.NATSURL, Logger: a.Log})
	if err != nil {
		return err
	}
	a.Broker = b
	if a.cfg.NATSURL != "" {
		a.Log.Info("realtime events cross instances through NATS", "url", a.cfg.NATSURL)
	}
	go func() {
		<-ctx.Done()
		_ = b.Close() // never fails
	}()
	return nil
}
