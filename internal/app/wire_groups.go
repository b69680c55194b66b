package app

import (
	"context"

	"github.com/trothu/trothu/internal/group"
	"github.com/trothu/trothu/internal/media"
)

// wireGroups builds the group service. Photos are stored under
// Config.DataDir/media; without a data directory photos are refused.
func (a *App) wireGroups(ctx context.Context) error {
	var store *media.Store
	if a.cfg.DataDir != "" {
		var err error
		if store, err = media.NewStore(a.cfg.DataDir); err != nil {
			return err
		}
	}
	a.Groups = group.New(a.DB, group.Config{Areas: a.Areas, Broker: a.Broker, Media: store, Logger: a.Log, Now: a.Now})
	return nil
}
