package app

import (
	"context"
	"fmt"

	"github.com/trothu/trothu/internal/media"
	"github.com/trothu/trothu/internal/notify"
	"github.com/trothu/trothu/internal/request"
)

// wireRequests builds the request service over the deployment's
// working-hours calendar (photos under Config.DataDir/media, refused
// without a data directory), seeds the default service types, and registers
// the deadline jobs on the queue (unique keys: each deadline fires once
// across instances), and makes request notifications live (realtime
// events, Web Push jobs). In demo mode it creates an Open311 API key and logs
// it once as open311_api_key=KEY.
func (a *App) wireRequests(ctx context.Context) error {
	_, cal, err := request.LoadCalendar(ctx, a.DB)
	if err != nil {
		return fmt.Errorf("setting %s: %w", request.CalendarSetting, err)
	}
	var store *media.Store
	if a.cfg.DataDir != "" {
		if store, err = media.NewStore(a.cfg.DataDir); err != nil {
			return err
		}
	}
	a.Requests = request.New(a.DB, a.Areas, request.Config{Now: a.Now, Calendar: cal, Logger: a.Log, Media: store})
	if err := a.Requests.SeedTypes(ctx); err != nil {
		return fmt.Errorf("request types: %w", err)
	}
	if err := a.Requests.IndexBacklog(ctx); err != nil {
		return fmt.Errorf("request search index: %w", err)
	}
	if err := a.Requests.EnqueuePurge(ctx); err != nil {
		return fmt.Errorf("request search index purge: %w", err)
	}
	a.Requests.RegisterJobs(a.Jobs)
	// Request notifications go live: realtime events on account:{id} and
	// Web Push through durable jobs (the VAPID key wireNotices made).
	nt, err := notify.New(ctx, a.DB, notify.Config{Mail: a.cfg.Mail, Logger: a.Log})
	if err != nil {
		return err
	}
	var pub request.Publisher
	if a.Broker != nil {
		pub = a.Broker
	}
	a.Requests.SetDelivery(a.Jobs, pub, nt)
	if a.cfg.Demo {
		k, err := a.Requests.CreateAPIKey(ctx, nil, "Demo integrator", true)
		if err != nil {
			return err
		}
		a.Log.Info("demo Open311 API key (POST /open311/v2/requests.json with api_key=…)", "open311_api_key", k.Key)
	}
	return nil
}
